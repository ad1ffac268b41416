#!/usr/bin/env bash
# npm run demo: installs what is missing (as npm test does), builds, and runs the demo.
# --help and unknown flags are answered from demo/run-demo.ts's USAGE text before anything is
# installed or built (the compiled demo checks its flags again, with the same text).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '/^export const USAGE = `/,/^`;$/p' demo/run-demo.ts | sed '1s/^export const USAGE = `//;$d'; }
# The flags USAGE lists, and which take a value (an upper-case word after the flag).
flags=$(usage | sed -n 's/^  \(--[a-z-]*\)\( [A-Z][A-Z]*\)\{0,1\} .*/\1\2/p')
takes_value() { grep -qx -- "$1 [A-Z][A-Z]*" <<<"$flags"; }
known() { grep -qx -- "$1\( [A-Z][A-Z]*\)\{0,1\}" <<<"$flags"; }
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  a=${args[i]}
  case "$a" in
    --help | -h) usage; exit 0 ;;
    --*=*)
      if takes_value "${a%%=*}"; then continue; fi
      ;;
  esac
  if ! known "$a"; then
    echo "demo: unknown option '$a'" >&2
    echo >&2
    usage >&2
    exit 2
  fi
  if takes_value "$a"; then
    if [ $((i + 1)) -ge ${#args[@]} ]; then
      echo "demo: option '$a' needs a value" >&2
      exit 2
    fi
    i=$((i + 1))
  fi
done

bash scripts/ensure-deps.sh demo "$@"
echo "demo: building (tsc, about 20 s)" >&2
npx tsc -p tsconfig.build.json
chmod +x dist/cli/main.js
exec node dist/demo/run-demo.js "$@"
