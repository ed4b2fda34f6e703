#!/usr/bin/env bash
# How soon `shakedown live` (or, with MODE `pipe`, `tcpdump -U --immediate-mode -w - | shakedown -`)
# writes a failed handshake's verdict: in a network namespace made here,
# N real OpenSSL clients fail against a server with no cipher in common (one every 0.4 s), and
# each JSON line is stamped with the wall clock the moment it is read from shakedown's output.
# Prints, over the failures, the delay from the server's fatal alert (`alerts[0].time`) and from
# the connection's last packet (`end`, what the linger time counts from) to the line, in ms.
#
#   sudo scripts/live-latency.sh [SHAKEDOWN-BINARY] [N] [MODE]
#                                (default target/release/shakedown, 20, live; MODE live or pipe)
#
# In `pipe` mode the closed connection lingers 0.5 s as in live (the wall clock makes it pass while
# the pipe is idle); LINGER=SECS passes `--linger SECS`. Needs root, iproute2, openssl and python3 (and
# tcpdump for `pipe`). Everything it starts is stopped by PID and the
# namespace deleted on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$(realpath "${1:-${CARGO_TARGET_DIR:-target}/release/shakedown}")"
N="${2:-20}"
MODE="${3:-live}"
NS="sdlat$$"
CN=latency.test
# shellcheck source=scripts/live-netns.sh
source scripts/live-netns.sh

# Each line of shakedown's output with the wall-clock time it was read.
cat > "$WORK/stamp.py" <<'PY'
import sys, time
out = open(sys.argv[1], "w")
for line in sys.stdin:
    out.write(f"{time.time():.6f} {line}")
    out.flush()
PY
case "$MODE" in
  live)
    ip netns exec "$NS" "$BIN" live -i lo --json 'tcp port 4433' 2>"$WORK/err" \
      | python3 "$WORK/stamp.py" "$WORK/lines" &
    PIDS+=($!)
    until grep -q "capturing on" "$WORK/err" 2>/dev/null; do sleep 0.05; done
    LIVE_PID="$(pgrep -f "^$BIN live -i lo --json" | head -1)"
    ;;
  pipe)
    ip netns exec "$NS" tcpdump -U --immediate-mode -i lo -w - 'tcp port 4433' 2>"$WORK/err" \
      | "$BIN" ${LINGER:+--linger "$LINGER"} --json - | python3 "$WORK/stamp.py" "$WORK/lines" &
    PIDS+=($!)
    until grep -q "listening on" "$WORK/err" 2>/dev/null; do sleep 0.05; done
    LIVE_PID="$(pgrep -f "^$BIN .*--json -\$" | head -1)"
    TCPDUMP_PID="$(pgrep -f "^tcpdump -U --immediate-mode -i lo -w - tcp port 4433" | head -1)"
    PIDS+=("$TCPDUMP_PID")
    ;;
  *) echo "MODE: live or pipe, not $MODE" >&2; exit 2 ;;
esac
PIDS+=("$LIVE_PID")
ip netns exec "$NS" openssl s_server -accept 4433 -cert "$WORK/cert.pem" -key "$WORK/key.pem" \
  -tls1_2 -cipher AES128-SHA -quiet </dev/null >/dev/null 2>&1 &
PIDS+=($!)
until ip netns exec "$NS" ss -Hltn 'sport = :4433' | grep -q .; do sleep 0.05; done
for _ in $(seq "$N"); do
  ip netns exec "$NS" timeout 10 openssl s_client -connect 127.0.0.1:4433 -tls1_2 \
    -cipher AES256-SHA </dev/null >/dev/null 2>&1 || true
  sleep 0.4
done
# The last failure lingers (0.5 s, or LINGER) before it is judged.
sleep "$(python3 -c "print(${LINGER:-0.5} + 1.5)")"
kill -INT "$LIVE_PID"
# Through a pipe, as Ctrl-C on a terminal does: tcpdump stops too.
if [ "$MODE" = pipe ]; then kill -INT "$TCPDUMP_PID"; fi
wait "${PIDS[0]}" || true
python3 - "$WORK/lines" "$N" <<'PY'
import json, statistics, sys
from datetime import datetime
def t(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
alert, end = [], []
for line in open(sys.argv[1]):
    stamp, record = line.split(" ", 1)
    v = json.loads(record)
    if v["outcome"] != "failed":
        continue
    alert.append((float(stamp) - t(v["alerts"][0]["time"])) * 1000)
    end.append((float(stamp) - t(v["end"])) * 1000)
print(f"failures: {len(alert)} of {sys.argv[2]} clients")
for name, d in (("from the fatal alert", alert), ("from the last packet", end)):
    d.sort()
    print(f"{name}: median {statistics.median(d):.0f} ms, min {d[0]:.0f} ms, "
          f"p90 {d[int(0.9 * (len(d) - 1))]:.0f} ms, max {d[-1]:.0f} ms")
PY
