# Sourced by the live scripts (scripts/live-latency.sh, scripts/live-soak.sh): a network namespace
# named "$NS" with its loopback up, a work folder "$WORK" holding a self-signed key.pem/cert.pem
# for CN "$CN", and PIDS, whose processes are stopped (by PID) with the namespace deleted and the
# folder removed on exit. Set NS and CN before sourcing.
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
  -subj "/CN=$CN" -days 2 2>/dev/null
