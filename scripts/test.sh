#!/usr/bin/env bash
# The one test command (npm test): installs what is missing, type-checks every file (tests
# included), lints (ESLint) and checks formatting (Prettier), builds the CLI that the CLI tests
# run, then runs every test in band (end-to-end files share one stack each), with its temporary
# files in one directory removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
# Two at a time (the machine has 2 cores): type-check with lint, then format check with build.
# Each step's own exit code decides: `wait PID` returns it, and set -e stops the run on a failure.
npx tsc -p tsconfig.json --noEmit &
typecheck=$!
npx eslint --max-warnings 0 .
wait "$typecheck"
npx prettier --check --log-level warn . &
format=$!
npx tsc -p tsconfig.build.json
wait "$format"
chmod +x dist/cli/main.js
rm -f .jest-results.json
# Every temporary file of the run (test dirs, Prometheus, Alertmanager and VictoriaMetrics data)
# goes into one directory, removed when the run ends, passed or failed.
run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/ae-test-run-XXXXXX")
trap 'rm -rf "$run_tmp"' EXIT
TMPDIR="$run_tmp" npx jest --runInBand --json --outputFile=.jest-results.json "$@"
