#!/usr/bin/env bash
# Runs shakedown (one thread, then one per core), `tcpdump -r F -w /dev/null` and tshark doing the
# equivalent job (hellos, alerts, FIN/RST per connection) on one capture, one after the other, and
# prints MB/s, peak RSS and the ratios. The fast tools take turns for RUNS rounds (default 3; the
# page cache is warmed before each run) and each one's fastest round counts; tshark runs once.
# Needs a release build of shakedown (cargo build --release -p shakedown-cli), tcpdump, tshark and
# GNU time (/usr/bin/time).
#
#   scripts/compare.sh CAPTURE [SHAKEDOWN_BINARY]
#
# A capture of the wanted size can be made with the deterministic generator:
#   cargo run --release -p shakedown-benches --bin shakedown-gen -- --seed 1 --size 1G -o /tmp/gen.pcap
set -euo pipefail
cap="${1:?usage: compare.sh CAPTURE [SHAKEDOWN_BINARY]}"
bin="${2:-$(dirname "$0")/../target/release/shakedown}"
[ -x "$bin" ] || { echo "no shakedown binary at $bin (cargo build --release -p shakedown-cli)"; exit 2; }
for t in tcpdump tshark /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "missing: $t"; exit 2; }
done
bytes=$(stat -c %s "$cap")
mb=$(python3 -c "print($bytes/1e6)")
cat "$cap" > /dev/null # warm the page cache so every tool reads from memory

run() { # name, command...
  local name="$1"; shift
  local log; log=$(mktemp)
  # Wall time to the nanosecond (GNU time's own is to 10 ms), peak RSS from GNU time.
  local start end
  start=$(date +%s%N)
  /usr/bin/time -v "$@" > /dev/null 2> "$log" || true
  end=$(date +%s%N)
  local secs rss
  secs=$(python3 -c "print(($end - $start) / 1e9)")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  rm -f "$log"
  printf '%s\t%s\t%s\n' "$name" "$secs" "$rss"
}

runs="${RUNS:-3}"
cores=$(nproc)
# The three fast tools take turns, round after round, so that a machine whose speed drifts from one
# minute to the next slows them alike; each one's fastest round counts. tshark runs once.
rounds=$(
  for _ in $(seq "$runs"); do
    cat "$cap" > /dev/null; run "shakedown -j 1 --json" "$bin" -j 1 --json "$cap"
    cat "$cap" > /dev/null; run "shakedown -j $cores --json" "$bin" -j "$cores" --json "$cap"
    cat "$cap" > /dev/null; run "tcpdump -r F -w /dev/null" tcpdump -r "$cap" -w /dev/null
  done
)
best() { # name: its fastest round
  printf '%s\n' "$rounds" | awk -F'\t' -v n="$1" '$1 == n' | sort -t$'\t' -k2,2g | head -1
}
results=$(
  best "shakedown -j 1 --json"
  best "shakedown -j $cores --json"
  best "tcpdump -r F -w /dev/null"
  cat "$cap" > /dev/null
  run "tshark (hellos, alerts, FIN/RST)" tshark -n -r "$cap" -T fields -e tcp.stream -e tcp.flags.fin \
    -e tcp.flags.reset -e tls.handshake.type -e tls.alert_message.desc -Y 'tcp'
)
python3 - "$mb" "$results" <<'PY'
import sys
mb = float(sys.argv[1])
rows = [l.split("\t") for l in sys.argv[2].splitlines() if l.strip()]
speed = {name: mb / max(float(secs), 1e-9) for name, secs, _ in rows}
print(f"capture: {mb:.1f} MB")
print(f"{'tool':36} {'seconds':>8} {'MB/s':>9} {'peak RSS MiB':>13}")
for name, secs, rss in rows:
    print(f"{name:36} {float(secs):8.3f} {speed[name]:9.1f} {int(rss)/1024:13.1f}")
one, many, tcpdump, tshark = (speed[r[0]] for r in rows)
print(f"one thread / tcpdump: {one / tcpdump:.2f}x   one thread / tshark: {one / tshark:.1f}x   "
      f"{rows[1][0].split()[2]} threads / one thread: {many / one:.2f}x")
PY
