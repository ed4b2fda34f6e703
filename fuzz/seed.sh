#!/usr/bin/env bash
# Rebuilds the seed corpora (fuzz/corpus/<target>/, gitignored) from the project's fixtures.
# Needs python3; tshark and editcap (Wireshark) for the stream/frame seeds (skipped with a note if
# missing). Usage: fuzz/seed.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
corpus="$here/corpus"
mkdir -p "$corpus"/{capture_reader,decode_frame,tls_stream,rdp_negotiation,dissector,parallel,tsrequest,keylog}

mapfile -t caps < <(find "$root/tests/fixtures" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.pcap.gz' -o -name '*.pcapng.gz' -o -name '*.zst' \) | sort)

# capture_reader: the capture files themselves, plus a gzip and a truncated copy of one.
i=0
for f in "${caps[@]}"; do
  cp "$f" "$corpus/capture_reader/$(basename "$(dirname "$f")")-$(basename "$f")"
  # parallel: a byte choosing workers and caps (bits 0-2, each choice in turn) and the stretch size
  # (bits 4-7, in another order), then the capture.
  { printf "\\x$(printf '%02x' $(( (i % 8) | (((i * 7) % 16) << 4) )))"; cat "$f"; } > "$corpus/parallel/$(basename "$(dirname "$f")")-$(basename "$f")"
  i=$(( i + 1 ))
done
if [ "${#caps[@]}" -gt 0 ]; then
  gzip -c "${caps[0]}" > "$corpus/capture_reader/gz-$(basename "${caps[0]}").gz"
  head -c 300 "${caps[0]}" > "$corpus/capture_reader/cut-$(basename "${caps[0]}")"
fi

# tsrequest: hand-made TSRequests (MS-CSSP 2.2.1): the client's NTLM NEGOTIATE (version 6), a server
# errorCode STATUS_LOGON_FAILURE (signed and unsigned INTEGER), and an Early User Authorization Result.
printf '\x30\x2f\xa0\x03\x02\x01\x06\xa1\x28\x30\x26\x30\x24\xa0\x22\x04\x20NTLMSSP\x00\x01\x00\x00\x00\xb7\x82\x08\xe2\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00' > "$corpus/tsrequest/client-negotiate"
printf '\x30\x0d\xa0\x03\x02\x01\x06\xa4\x06\x02\x04\xc0\x00\x00\x6d' > "$corpus/tsrequest/server-logon-failure"
printf '\x30\x0e\xa0\x03\x02\x01\x06\xa4\x07\x02\x05\x00\xc0\x00\x00\x6d\x30\x05\xa0\x03\x02\x01\x02' > "$corpus/tsrequest/two-messages"
printf '\x05\x00\x00\x00' > "$corpus/tsrequest/authz-denied"


# keylog: a key log with every kept label, CRLF, a comment, an ignored label and bad lines.
r="$(printf '5e%.0s' {1..32})"
{
  printf '# SSL/TLS secrets log file\r\n'
  printf 'CLIENT_RANDOM %s %s\r\n' "$r" "$(printf 'AB%.0s' {1..48})"
  printf 'CLIENT_HANDSHAKE_TRAFFIC_SECRET %s %s\n' "$r" "$(printf '01%.0s' {1..32})"
  printf 'SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s\n' "$r" "$(printf '02%.0s' {1..48})"
  printf 'CLIENT_TRAFFIC_SECRET_0 %s %s\n' "$r" "$(printf '03%.0s' {1..32})"
  printf 'SERVER_TRAFFIC_SECRET_0 %s %s\n' "$r" "$(printf '04%.0s' {1..32})"
  printf 'EXPORTER_SECRET %s %s\n' "$r" "$(printf '05%.0s' {1..32})"
  printf 'CLIENT_RANDOM %s 00\n\nnot a key log\n' "$r"
} > "$corpus/keylog/all-labels.txt"

if ! command -v tshark >/dev/null || ! command -v editcap >/dev/null; then
  echo "seed.sh: tshark/editcap not found; only capture_reader, tsrequest and keylog seeded" >&2
  exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for f in "${caps[@]}"; do
  name="$(basename "$(dirname "$f")")-$(basename "$f")"
  editcap -F pcap "$f" "$tmp/$name.pcap" 2>/dev/null || continue
  tshark -r "$f" -Y tcp -T fields -E separator='|' \
    -e tcp.stream -e tcp.srcport -e tcp.dstport -e tcp.seq_raw -e tcp.flags -e frame.time_relative \
    -e tcp.payload > "$tmp/$name.tsv" 2>/dev/null || true
done

python3 - "$tmp" "$corpus" <<'PY'
import os, struct, sys
tmp, corpus = sys.argv[1], sys.argv[2]
LINKS = [0, 1, 9, 12, 14, 101, 105, 108, 113, 127, 228, 229, 239, 252, 276, 147]

def write(target, name, data):
    with open(os.path.join(corpus, target, name), "wb") as f:
        f.write(data)

for fn in sorted(os.listdir(tmp)):
    path = os.path.join(tmp, fn)
    base = fn.rsplit(".", 1)[0]
    if fn.endswith(".pcap"):
        # decode_frame: the first frames of each capture, in the target's framing.
        raw = open(path, "rb").read()
        magic = raw[:4]
        e = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        link = struct.unpack(e + "I", raw[20:24])[0]
        if link not in LINKS:
            continue
        out, off, n = bytearray([LINKS.index(link)]), 24, 0
        while off + 16 <= len(raw) and n < 12:
            incl = struct.unpack(e + "I", raw[off + 8:off + 12])[0]
            frame = raw[off + 16:off + 16 + incl][:65535]
            out += bytes([1]) + struct.pack("<H", len(frame)) + frame
            off += 16 + incl
            n += 1
        write("decode_frame", base, bytes(out))
        continue
    if not fn.endswith(".tsv"):
        continue
    rows = []
    for line in open(path):
        p = line.rstrip("\n").split("|")
        if len(p) < 7 or not p[0]:
            continue
        stream, sport, dport, seq, flags, t, pay = p[:7]
        rows.append((int(stream), int(sport), int(dport), int(seq), int(flags, 16) & 0xff, float(t),
                     bytes.fromhex(pay.replace(":", ""))))
    streams = {}
    for r in rows:
        streams.setdefault(r[0], []).append(r)
    # tls_stream and rdp_negotiation: per connection, the payloads by side.
    for sid, rs in streams.items():
        client = rs[0][1] if rs[0][4] & 0x12 != 0x12 else rs[0][2]
        out = bytearray([0])
        for r in rs:
            side = 0 if r[1] == client else 1
            pay = r[6]
            if not pay:
                continue
            if pay[:2] == b"\x03\x00":
                write("rdp_negotiation", f"{base}-{sid}-{r[3]}-{side}", pay)
                continue  # TLS starts after the X.224 negotiation
            out += bytes([side]) + struct.pack("<H", len(pay)) + pay
        if len(out) > 1:
            write("tls_stream", f"{base}-{sid}", bytes(out))
    # dissector: the first four connections as generator ops.
    order = sorted(streams)[:4]
    if not order:
        continue
    out = bytearray([1])  # protocol events on
    slots = []
    for sid in order:
        r = streams[sid][0]
        cport, sport = (r[1], r[2]) if r[4] & 0x12 != 0x12 else (r[2], r[1])
        slots.append((cport, sport))
        out += struct.pack("<HH", cport, sport)
    while len(slots) < 4:
        out += struct.pack("<HH", 40000 + len(slots), 443)
        slots.append(None)
    nxt = {}
    last_t = 0.0
    for r in sorted((r for s in order for r in streams[s]), key=lambda r: r[5]):
        i = order.index(r[0])
        d = 0 if r[1] == slots[i][0] else 1
        key = (i, d)
        c = i | (d << 2)
        exp = nxt.get(key)
        if exp is not None and r[3] == exp:
            body = b""
        elif exp is not None and -128 <= ((r[3] - exp + 2**31) % 2**32) - 2**31 <= 127:
            c |= 1 << 3
            body = struct.pack("<b", ((r[3] - exp + 2**31) % 2**32) - 2**31)
        else:
            c |= 2 << 3
            body = struct.pack("<I", r[3])
        step = min(254, max(0, int((r[5] - last_t) * 100)))
        last_t = r[5]
        out += bytes([c]) + body + bytes([r[4], step]) + struct.pack("<H", len(r[6])) + r[6]
        nxt[key] = (r[3] + len(r[6]) + (1 if r[4] & 3 else 0)) % 2**32
    write("dissector", base, bytes(out))
PY
for t in capture_reader decode_frame tls_stream rdp_negotiation dissector parallel tsrequest keylog; do
  echo "$t: $(ls "$corpus/$t" | wc -l) seeds"
done
