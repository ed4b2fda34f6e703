#!/usr/bin/env bash
# Does `shakedown live` stay bounded? In a network namespace made here, two loops of real OpenSSL
# clients connect for SECONDS (half succeed, half fail with no shared cipher) while shakedown
# captures with --save-failures (capped at 200 files, so rotation runs); its resident memory is
# sampled every 15 s. Prints the samples, then shakedown's summary.
#
#   sudo scripts/live-soak.sh [SHAKEDOWN-BINARY] [SECONDS]  (default target/release/shakedown, 180)
#
# Needs root, iproute2 and openssl. Everything it starts is stopped by PID and the namespace
# deleted on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$(realpath "${1:-${CARGO_TARGET_DIR:-target}/release/shakedown}")"
SECONDS_TO_RUN="${2:-180}"
NS="sdsoak$$"
CN=soak.test
# shellcheck source=scripts/live-netns.sh
source scripts/live-netns.sh
ip netns exec "$NS" "$BIN" live -i lo --json --save-failures "$WORK/saved" \
  --save-failures-max-files 200 'tcp port 4433' >/dev/null 2>"$WORK/err" &
LIVE_PID=$!
PIDS+=("$LIVE_PID")
until grep -q "capturing on" "$WORK/err" 2>/dev/null; do sleep 0.05; done
ip netns exec "$NS" openssl s_server -accept 4433 -cert "$WORK/cert.pem" -key "$WORK/key.pem" \
  -tls1_2 -cipher AES128-SHA -quiet </dev/null >/dev/null 2>&1 &
PIDS+=($!)
until ip netns exec "$NS" ss -Hltn 'sport = :4433' | grep -q .; do sleep 0.05; done
END=$(( $(date +%s) + SECONDS_TO_RUN ))
client_loop() {
  while [ "$(date +%s)" -lt "$END" ]; do
    ip netns exec "$NS" timeout 10 openssl s_client -connect 127.0.0.1:4433 -tls1_2 \
      -cipher "$1" </dev/null >/dev/null 2>&1 || true
  done
}
client_loop AES128-SHA & PIDS+=($!)
client_loop AES256-SHA & PIDS+=($!)
rss() { awk '/VmRSS/ {print $2 " kB"}' "/proc/$LIVE_PID/status"; }
sleep 5
echo "RSS after 5 s: $(rss)"
while [ "$(date +%s)" -lt "$END" ]; do
  sleep 15
  echo "RSS after $(( SECONDS_TO_RUN - (END - $(date +%s)) )) s: $(rss)"
done
sleep 2
echo "RSS at the end: $(rss)"
kill -INT "$LIVE_PID"
wait "$LIVE_PID" || true
echo "saved files kept: $(ls "$WORK/saved" | wc -l)"
grep -E "^== |^capture:|^saved:" "$WORK/err"
