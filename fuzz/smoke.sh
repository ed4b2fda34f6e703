#!/usr/bin/env bash
# Builds every fuzz target and runs each for a short while (20 s by default; SMOKE_SECONDS overrides)
# from the seed corpora. Exits 0 with a note when cargo-fuzz is not installed; fails on any finding.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
secs="${SMOKE_SECONDS:-20}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz/smoke.sh: cargo-fuzz is not installed (cargo install cargo-fuzz); skipping the fuzz smoke run"
  exit 0
fi
cd "$here"
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"
[ -d corpus ] || ./seed.sh
cargo fuzz build
targets=(capture_reader decode_frame tls_stream rdp_negotiation dissector parallel tsrequest keylog)
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  echo "== $t (${secs}s)"
  log="$(mktemp)"
  # `parallel` blocks on std channels, whose per-thread wait context lives in the main thread's
  # thread-local storage until exit: LeakSanitizer reports it once (112 bytes, not per input).
  leaks=1
  [ "$t" = parallel ] && leaks=0
  if ! cargo fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
      -detect_leaks="$leaks" -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz/smoke.sh: $t found a problem; reproducer in fuzz/artifacts/$t/" >&2
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' "$log" || true
  rm -f "$log"
done
echo "fuzz smoke: all ${#targets[@]} targets ran ${secs}s without findings"
