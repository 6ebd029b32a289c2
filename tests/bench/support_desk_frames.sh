#!/bin/sh
# Frame time of the support workspaces over loaded queues: seeds 500 open appeals and 200
# help threads (bench_support_desk), points the console at them as support1 for each of
# the appeals and help workspaces, prints the console's frame figures, then lets the
# benchmark decide every appeal and print its round trips.
#   support_desk_frames.sh BUILD_DIR [frames]
set -eu
build=$1; frames=${2:-600}
work=$(mktemp -d)
trap 'touch "$work/go"; rm -rf "$work"' EXIT
"$build/tests/bench/bench_support_desk" --appeals 500 --help 200 --hold-until-file "$work/go" > "$work/bench.log" 2> /dev/null &
bench=$!
for _ in $(seq 1 600); do
  addr=$(sed -n 's/^serving on //p' "$work/bench.log")
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { echo "benchmark backend did not come up"; exit 1; }
cat "$work/bench.log"
for ws in appeals help; do
  xvfb-run -a -s "-screen 0 1600x900x24" "$build/console/app/exam-console" --backend "$addr" --user support1 \
    --password demo --workspace "$ws" --frame-stats --delay 3 --frames "$frames" --screenshot "$work/$ws.png" 2>&1 |
    grep "frame time" || true
done
touch "$work/go"
wait "$bench"
grep -v "^serving on\|^seeded" "$work/bench.log"
