#!/usr/bin/env bash
# Installs what the tests and the demo need and is missing: npm packages, and Debian's
# prometheus, prometheus-alertmanager, victoria-metrics, docker-compose, chromium,
# prometheus-node-exporter, nginx and prometheus-nginx-exporter packages (as
# root; the web page tests drive Debian's chromium with playwright-core, which never downloads a
# browser). Stops with a clear message otherwise.
#   ensure-deps.sh            what the tests need (everything above)
#   ensure-deps.sh demo ARGS  what `npm run demo ARGS` needs: Prometheus and Alertmanager,
#                             victoria-metrics only with --source victoria-metrics, and chromium
#                             only with --screenshots (no docker-compose)
set -euo pipefail
cd "$(dirname "$0")/.."

# with_progress: a line every 15 s while a long step (an install) runs; apt_lines: a line per package.
source scripts/with-progress.sh

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "anomaly-exporter needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
  echo "Debian 12's own nodejs package is 18; install Node 20 from nodejs.org or NodeSource." >&2
  exit 1
fi

# npm packages: install the locked versions when node_modules is missing or older than the lock.
# Not `npm ci`: some registry mirrors serve only the linux-x64 build of optional platform
# packages (jest's unrs-resolver), so the lock cannot list the others and `npm ci` refuses it.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "ensure-deps: installing npm packages from package-lock.json (a minute or two on a first run)" >&2
  with_progress "installing npm packages" npm install --no-save --no-audit --no-fund --loglevel=error
fi

needed="prometheus:prometheus promtool:prometheus prometheus-alertmanager:prometheus-alertmanager amtool:prometheus-alertmanager"
if [ "${1:-}" = "demo" ]; then
  shift
  for arg in "$@"; do
    [ "$arg" = "--screenshots" ] && needed="$needed chromium:chromium"
    [ "$arg" = "victoria-metrics" ] && needed="$needed victoria-metrics:victoria-metrics vmalert:victoria-metrics"
  done
else
  # init's end-to-end test: the exporters of other Debian packages it finds presets for.
  needed="$needed docker-compose:docker-compose chromium:chromium victoria-metrics:victoria-metrics vmalert:victoria-metrics"
  needed="$needed prometheus-node-exporter:prometheus-node-exporter nginx:nginx prometheus-nginx-exporter:prometheus-nginx-exporter"
fi

missing=()
packages=()
for pair in $needed; do
  bin=${pair%%:*}
  if ! command -v "$bin" >/dev/null 2>&1; then
    missing+=("$bin")
    [[ " ${packages[*]} " == *" ${pair#*:} "* ]] || packages+=("${pair#*:}")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-deps: installing Debian packages ${packages[*]} (missing: ${missing[*]})" >&2
    export DEBIAN_FRONTEND=noninteractive
    with_progress "reading Debian's package lists" apt-get update -qq >/dev/null
    # docker-compose (v1) only validates docker-compose.yml offline; no Docker engine is needed.
    # One line per package as it is set up.
    apt-get install -y -q --no-install-recommends "${packages[@]}" 2>&1 | apt_lines
    # The packages ship services; tests start their own instances on free ports.
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
      systemctl disable --now prometheus prometheus-alertmanager victoria-metrics prometheus-node-exporter nginx prometheus-nginx-exporter >/dev/null 2>&1 || true
    fi
  else
    echo "Missing: ${missing[*]}. Install them with: sudo apt-get install -y --no-install-recommends ${packages[*]}" >&2
    exit 1
  fi
fi
