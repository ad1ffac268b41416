#!/usr/bin/env bash
# The one test command (npm test): installs what is missing, type-checks every file (tests
# included), lints (ESLint) and checks formatting (Prettier), builds the CLI that the CLI tests
# run, then runs every test in band (end-to-end files share one stack each).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npx tsc -p tsconfig.json --noEmit
npx eslint --max-warnings 0 .
npx prettier --check --log-level warn .
npx tsc -p tsconfig.build.json
chmod +x dist/cli/main.js
rm -f .jest-results.json
exec npx jest --runInBand --json --outputFile=.jest-results.json "$@"
