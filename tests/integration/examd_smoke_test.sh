#!/usr/bin/env bash
# Starts the real examd binary on a free loopback port with a simulated exam, lets a stock
# reflection client list the services and log in, then stops examd with SIGTERM and checks
# that it shut down cleanly and left a consistent database.
set -euo pipefail
examd=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

"$examd" --db "$work/examd.db" --listen 127.0.0.1:0 --simulate 6 --seed 3 --time-scale 30 2> "$work/examd.log" &
pid=$!
port=""
for _ in $(seq 1 200); do
  port=$(sed -n 's/.*msg="examd serving".* port=\([0-9]*\).*/\1/p' "$work/examd.log" | head -1)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/examd.log"; echo "examd exited early"; exit 1; }
  sleep 0.05
done
[ -n "$port" ] || { cat "$work/examd.log"; echo "examd did not report its port"; exit 1; }
echo "examd on port $port"

/usr/bin/python3 "$here/reflection_client.py" "127.0.0.1:$port" "$work"

kill -TERM "$pid"
wait "$pid"
status=$?
grep -q 'msg="examd stopped"' "$work/examd.log" || { cat "$work/examd.log"; echo "no clean stop logged"; exit 1; }
[ "$status" -eq 0 ] || { echo "examd exit status $status"; exit 1; }
check=$(sqlite3 "$work/examd.db" "PRAGMA integrity_check;")
[ "$check" = "ok" ] || { echo "integrity check: $check"; exit 1; }
events=$(sqlite3 "$work/examd.db" "SELECT COUNT(*) FROM events;")
max=$(sqlite3 "$work/examd.db" "SELECT COALESCE(MAX(seq),0) FROM events;")
[ "$events" = "$max" ] || { echo "event log has gaps: $events rows, max seq $max"; exit 1; }
echo "examd smoke OK: clean shutdown, integrity ok, $events events gap-free"
