#!/bin/sh
# Regenerates docs/screenshots/console.png (the README picture) from a build folder:
#   tests/gui/update_docs_screenshot.sh [BUILD_DIR]
# The demo runs 60x faster than real time for a few seconds first, so candidates are
# spread over the stages.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
console=$build/console/app/exam-console
out=$root/docs/screenshots/console.png
mkdir -p "$(dirname "$out")"
args="--screenshot $out --frames 30 --time-scale 60 --delay 8 --size 1600x900"
if [ -z "${DISPLAY:-}" ]; then
  xvfb-run -a -s "-screen 0 1600x900x24" "$console" $args
else
  "$console" $args
fi
echo "wrote $out"
