#!/bin/sh
# The proctor's wall under load. examd simulates N candidates pushing live H.264 (320x180,
# 15 fps); one console, signed in as admin under Xvfb and run as a person would run it (no
# --screenshot: normal redraw pacing), shows the wall for S seconds, then the overview for H
# seconds with the wall hidden (its streams stay open, off-screen tiles decode keyframes
# only). A second console measures an idle console for I seconds (the same exam served
# again without the simulator: nothing changing). The consoles measure themselves (--frame-stats: CPU of the whole process with its decoder, gRPC and Mesa llvmpipe
# threads, RSS, frame times, event-to-screen latency, decoded vs received packets);
# Xvfb's own CPU is printed apart, as it is not the console's.
#   live_wall_bench.sh BUILD_DIR [candidates=64] [seconds=60] [hidden_seconds=30] [idle_seconds=20]
# Extra console options can be passed in CONSOLE_ARGS (e.g. "--video-fps 60"); EXAMD picks
# another examd binary than BUILD_DIR's.
set -eu
build=$1; n=${2:-64}; secs=${3:-60}; hidden=${4:-30}; idle=${5:-20}
warm=5  # streams connect and decoders reach their first keyframe before counting starts
console="$build/console/app/exam-console"
work=$(mktemp -d)
examd=""
trap '[ -n "$examd" ] && kill "$examd" 2>/dev/null; rm -rf "$work"' EXIT
ticks=$(getconf CLK_TCK); cores=$(nproc)

# CPU seconds of a process so far (utime + stime of every thread).
cpu_of() { awk -v t="$ticks" '{print ($14 + $15) / t}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# run_console LOG SECONDS ARGS...: the console under its own Xvfb; prints Xvfb's CPU share.
run_console() {
  log=$1; total=$2; shift 2
  # shellcheck disable=SC2086
  # The console counts from being online; if it never is, timeout ends the run.
  timeout -k 5 "$((warm + total + 60))" xvfb-run -a -s "-screen 0 1600x900x24" "$console" --size 1600x900 --frame-stats --stats-after "$warm" \
    --exit-after "$((warm + total))" ${CONSOLE_ARGS:-} "$@" 2> "$log" &
  job=$!
  xvfb=""
  for _ in $(seq 1 100); do xvfb=$(pgrep -P "$job" Xvfb || true); [ -n "$xvfb" ] && break; sleep 0.1; done
  # Xvfb's CPU while the console counts (from its warm-up to its exit).
  sleep "$((warm + 2))"
  x0=$(cpu_of "$xvfb"); s0=$(date +%s.%N)
  while kill -0 "$job" 2>/dev/null; do
    x1=$(cpu_of "$xvfb"); s1=$(date +%s.%N)
    sleep 1
  done
  wait "$job" || true
  echo "$x0 $x1 $s0 $s1" | awk -v c="$cores" '{ if ($4 > $3) printf "  (Xvfb itself, not counted above: %.1f %% of one core)\n", ($2 - $1) / ($4 - $3) * 100 }'
}

# start_examd ARGS...: examd on a free port, sets $examd and $port.
starts=0
start_examd() {
  starts=$((starts + 1))
  log="$work/examd-$starts.log"  # a fresh file: the port read must be this examd's
  "${EXAMD:-$build/backend/examd}" --db "$work/exam.db" --listen 127.0.0.1:0 --time-scale 2 "$@" 2> "$log" &
  examd=$!
  port=""
  for _ in $(seq 1 300); do
    port=$(sed -n 's/.*msg="examd serving".* port=\([0-9]*\).*/\1/p' "$log" 2>/dev/null | head -1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "examd did not start:"; cat "$log"; exit 1; }
}
stop_examd() {
  kill "$examd" 2>/dev/null || true
  wait "$examd" 2>/dev/null || true
  examd=""
}

# At ×2 the exam starts 30 s in and the candidates answer for about 7 minutes.
start_examd --simulate "$n" --start-in 1
echo "examd on port $port with $n simulated candidates; waiting for them to answer and push video"
sleep 45  # a benchmark's schedule: the candidates reach answering and start pushing

echo "== wall in view ${secs} s, then hidden (overview) ${hidden} s; $cores cores"
run_console "$work/wall.log" "$((secs + hidden))" --backend "127.0.0.1:$port" --user admin --password demo \
  --workspace live --switch-workspace "$((warm + secs)):overview"
grep -E "exam-console: (phase|frame time)" "$work/wall.log" | sed 's/^exam-console: /  /' || { cat "$work/wall.log"; exit 1; }
stop_examd

# The same database served again without the simulator: 64 candidates on the overview and
# nothing changing.
echo "== idle console: the same exam, simulator stopped, overview, ${idle} s"
start_examd
sleep 20  # the backend notices the devices that went quiet with the simulator; then it is still
run_console "$work/idle.log" "$idle" --backend "127.0.0.1:$port" --user admin --password demo --workspace overview
grep -E "exam-console: phase" "$work/idle.log" | sed 's/^exam-console: /  /' || { cat "$work/idle.log"; exit 1; }
stop_examd

# The summary: visible vs hidden from the two phases of the wall run. What the tiles cost is
# also shown over the idle console (the rest of the UI, redrawn for events, costs even with
# no wall at all).
echo "== summary"
idle_cpu=$(awk '/ phase overview cpu: / { print $5 }' "$work/idle.log")
awk -v cores="$cores" -v idle="${idle_cpu:-0}" '
  / phase live cpu: / { live = $5; for (i = 1; i <= NF; i++) if ($i == "peak") peak = $(i + 1) }
  / phase overview cpu: / { hid = $5 }
  / phase live: / { for (i = 1; i <= NF; i++) if ($i == "drawn") { p50 = $(i + 2); p99 = $(i + 4); max = $(i + 6) }
                    for (i = 1; i <= NF; i++) if ($i == "screen") { e50 = $(i + 2); e99 = $(i + 4); emax = $(i + 6) } }
  / phase live decode: / {
    for (i = 1; i <= NF; i++) {
      if ($i == "visible" && $(i + 1) == "received") { vr = $(i + 2); sub(",", "", vr) }
      if ($i == "decoded" && vr != "" && vd == "") { vd = $(i + 1); sub(";", "", vd) }
    }
  }
  END {
    printf "  wall in view: %.1f %% of one core = %.1f %% of the machine (target <= 50 %%), peak RSS %s MB (target <= 600)\n", live, live / cores, peak
    printf "  UI frame (built and drawn) p50 / p99 / max: %s / %s / %s ms (target p99 <= 16.7, max <= 33)\n", p50, p99, max
    printf "  event to screen p50 / p99 / max: %s / %s / %s ms (target: within one frame)\n", e50, e99, emax
    if (live > 0) printf "  wall hidden:  %.1f %% of one core, hidden / visible = %.2f\n", hid, hid / live
    if (live > idle) printf "  over the idle console (%.1f %%): tiles hidden / visible = %.2f (target <= 0.1)\n", idle, (hid - idle) / (live - idle)
    if (vr > 0) printf "  visible tiles: %d packets received, %d decoded (%.2f %%)\n", vr, vd, vd / vr * 100
    printf "  idle console: %.1f %% of one core (target ~0)\n", idle
  }' "$work/wall.log"
