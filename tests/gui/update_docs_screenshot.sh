#!/bin/sh
# Regenerates the README pictures in docs/screenshots/ from a build folder:
#   tests/gui/update_docs_screenshot.sh [BUILD_DIR]
# Each runs the embedded demo faster than real time first, so the picture shows the exam
# in the state that workspace is about: candidates spread over the stages (overview), the
# first appeals before the start (appeals), raised hands (help desk), recordings coming in
# after the end (uploads), 64 candidates answering on camera (live wall), one of them in the
# focus view, and a finished session in the review player.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
console=$build/console/app/exam-console
dir=$root/docs/screenshots
mkdir -p "$dir"
shoot() {
  out=$dir/$1.png; shift
  if [ -z "${DISPLAY:-}" ]; then
    xvfb-run -a -s "-screen 0 1600x900x24" "$console" --screenshot "$out" --frames 30 --size 1600x900 "$@"
  else
    "$console" --screenshot "$out" --frames 30 --size 1600x900 "$@"
  fi
  echo "wrote $out"
}
shoot console --time-scale 60 --delay 8
shoot appeals --workspace appeals --time-scale 60 --delay 20
shoot help --workspace help --time-scale 60 --delay 30
shoot uploads --workspace uploads --time-scale 120 --delay 28
shoot wall --workspace live --candidates 64 --time-scale 60 --delay 30  # answering: video in every tile
shoot focus --workspace live:focus --candidates 16 --time-scale 60 --delay 25  # one candidate's three streams
shoot review --workspace review --review-seconds 60 --delay 40  # the finished sitting, on question 1
shoot local_data --workspace review --review-seconds 60 --delay 40 --local-data  # File > Local data over the player
