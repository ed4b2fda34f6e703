#!/usr/bin/env python3
"""Rebuilds tests/fixtures/ja3.tsv: the JA3 / JA3S TShark computes for every ClientHello and ServerHello
of the project's fixtures and the shared corpus (independent expectations for tests/fingerprints.rs).

Run from the repository's root after scripts/make-fixtures.sh: python3 scripts/make-ja3-tsv.py
Needs tshark (4.0 was used) and ../shared/corpus (its MANIFEST.tsv gives per-capture Decode-As args).
"""
import csv
import glob
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")
FIELDS = ["frame.number", "tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst",
          "tcp.dstport", "tls.handshake.type", "tls.handshake.ja3_full", "tls.handshake.ja3",
          "tls.handshake.ja3s_full", "tls.handshake.ja3s"]


def ep(ip, port):
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def run(path, extra):
    cmd = ["tshark", "-n", "-r", path, "-o", "tcp.reassemble_out_of_order:TRUE", *extra,
           "-Y", "tls.handshake.type==1 || tls.handshake.type==2", "-T", "fields",
           "-E", "aggregator=|", "-E", "occurrence=a"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        c = line.split("\t")
        c += [""] * (len(FIELDS) - len(c))
        frame, stream, s4, s6, sp, d4, d6, dp, types, ja3f, ja3, ja3sf, ja3s = c
        # Tunnels: the innermost header is the last occurrence.
        inner = lambda v: v.split("|")[-1]
        src, dst = ep(inner(s4 or s6), inner(sp)), ep(inner(d4 or d6), inner(dp))
        types = types.split("|")
        lists = {"1": (ja3f.split("|") if ja3f else [], ja3.split("|") if ja3 else []),
                 "2": (ja3sf.split("|") if ja3sf else [], ja3s.split("|") if ja3s else [])}
        taken = {"1": 0, "2": 0}
        for t in types:
            if t not in lists:
                continue
            fulls, hashes = lists[t]
            i = taken[t]
            taken[t] += 1
            if i < len(fulls) and i < len(hashes):
                kind = "client_hello" if t == "1" else "server_hello"
                rows.append((int(frame), int(stream), src, dst, kind, fulls[i], hashes[i]))
    return rows


def rdp_ports(path, extra):
    out = subprocess.run(["tshark", "-n", "-r", path, *extra, "-Y", "rdp.neg_type", "-T", "fields",
                          "-e", "tcp.dstport", "-e", "tcp.srcport"], capture_output=True, text=True).stdout
    ports = set()
    for line in out.splitlines():
        for p in line.split("\t"):
            if p == "3389":
                ports.add(p)
    return ports


def captures():
    manifest = {}
    mpath = os.path.join(CORPUS, "MANIFEST.tsv")
    if os.path.exists(mpath):
        with open(mpath) as f:
            for row in csv.DictReader(f, delimiter="\t"):
                manifest[row["file"]] = (row.get("tshark_extra_args") or "").split()
    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "fixtures", "*", "*"))):
        if not p.endswith(".json") and os.path.isfile(p) and ".pcap" in p:
            yield "fixtures/" + os.path.relpath(p, os.path.join(ROOT, "tests", "fixtures")), p, []
    for rel, extra in sorted(manifest.items()):
        p = os.path.join(CORPUS, rel)
        if os.path.exists(p):
            yield "corpus/" + rel, p, extra


def main():
    header = open(os.path.join(ROOT, "tests", "fixtures", "ja3.tsv")).read().split("\n")
    header = [l for l in header if l.startswith("#")]
    lines = list(header)
    for label, path, extra in captures():
        rows = run(path, extra)
        seen = {r[1] for r in rows}
        for port in rdp_ports(path, extra):
            for r in run(path, extra + ["-d", f"tcp.port=={port},tls"]):
                if r[1] not in seen:
                    rows.append(r)
        rows.sort()
        for r in rows:
            lines.append("\t".join([label, str(r[1]), r[2], r[3], r[4], r[5], r[6]]))
    with open(os.path.join(ROOT, "tests", "fixtures", "ja3.tsv"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
