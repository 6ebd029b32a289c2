#!/bin/sh
# The proctor's wall under load: examd simulates N candidates pushing live H.264; the
# console watches all of them as admin, first with the wall in view, then with it hidden
# (overview workspace), each for S seconds while the candidates answer. Prints the console's
# CPU (% of one core and of the machine), peak RSS and frame build time for both runs.
#   live_wall_bench.sh BUILD_DIR [candidates=64] [seconds=60]
set -eu
build=$1; n=${2:-64}; secs=${3:-60}
work=$(mktemp -d)
trap 'kill "$examd" 2>/dev/null || true; rm -rf "$work"' EXIT
# At ×2 the exam starts 30 s in and the candidates answer for about 7 minutes.
"$build/backend/examd" --db "$work/exam.db" --listen 127.0.0.1:0 --simulate "$n" --time-scale 2 --start-in 1 \
  2> "$work/examd.log" &
examd=$!
port=""
for _ in $(seq 1 300); do
  port=$(sed -n 's/.*msg="examd serving".* port=\([0-9]*\).*/\1/p' "$work/examd.log" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "examd did not start"; exit 1; }
sleep 45  # a benchmark's schedule: the candidates reach answering and start pushing
ticks=$(getconf CLK_TCK); cores=$(nproc)
measure() {  # workspace
  xvfb-run -a -s "-screen 0 1600x900x24" "$build/console/app/exam-console" --backend "127.0.0.1:$port" \
    --user admin --password demo --workspace "$1" --frame-stats --delay "$((secs + 5))" --frames 10 \
    --screenshot "$work/$1.png" 2> "$work/console-$1.log" &
  job=$!
  pid=""
  for _ in $(seq 1 100); do pid=$(pgrep -n -f "^[^ ]*exam-console --backend 127.0.0.1:$port" || true); [ -n "$pid" ] && break; sleep 0.1; done
  sleep 5  # signed in and streams open before the window starts
  t0=$(awk '{print $14 + $15}' "/proc/$pid/stat"); s0=$(date +%s.%N)
  sleep "$secs"
  t1=$(awk '{print $14 + $15}' "/proc/$pid/stat"); s1=$(date +%s.%N)
  rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  wait "$job" || true
  cpu=$(echo "($t1 - $t0) / $ticks / ($s1 - $s0) * 100" | bc -l)
  printf "%-8s console CPU %5.1f %% of one core (%4.1f %% of %d cores), peak RSS %d MB; %s\n" "$1" "$cpu" \
    "$(echo "$cpu / $cores" | bc -l)" "$cores" "$((rss / 1024))" \
    "$(sed -n 's/.*frame time over/frame time over/p' "$work/console-$1.log")"
}
echo "examd on port $port with $n simulated candidates pushing live video"
measure live
measure overview
