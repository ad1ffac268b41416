#!/usr/bin/env bash
# with_progress WHAT COMMAND [ARG ...]: runs a long quiet step (an install) with a line on stderr
# every PROGRESS_EVERY seconds (15 by default), so a first run is never silent for minutes; its
# exit code is the command's. Sourced by ensure-deps.sh.
with_progress() {
  local what=$1 every=${PROGRESS_EVERY:-15}
  shift
  "$@" &
  local pid=$! start=$SECONDS next=$every
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if kill -0 "$pid" 2>/dev/null && [ $((SECONDS - start)) -ge "$next" ]; then
      echo "ensure-deps: still $what ($((SECONDS - start)) s)" >&2
      next=$((next + every))
    fi
  done
  wait "$pid"
}

# apt_lines: apt-get's output on stdin, one stderr line per package as it is set up.
apt_lines() {
  sed -n 's/^Setting up \([^ ]*\).*/ensure-deps: set up \1/p' >&2
}
