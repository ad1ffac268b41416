#!/usr/bin/env bash
# npm run demo: installs what is missing (as npm test does), builds, and runs the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh demo "$@"
npx tsc -p tsconfig.build.json
chmod +x dist/cli/main.js
exec node dist/demo/run-demo.js "$@"
