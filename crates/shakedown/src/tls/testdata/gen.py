#!/usr/bin/env python3
"""Regenerates the TLS fixtures: real handshakes between `openssl s_server` and `openssl s_client` on
127.0.0.1, recorded by a relay as the ordered chunks each side sent. Also writes the EC P-256 and Ed25519 leaf
certificates as DER (ec_cert.der, ed_cert.der). Output lines: `C <hex>` (client to
server) or `S <hex>` (server to client). Run from this directory: python3 gen.py"""
import os, select, socket, subprocess, sys, tempfile, time

def keys(tmp):
    def run(*a):
        subprocess.run(a, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for name, alg in [("rsa", ["-newkey", "rsa:2048"]), ("ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]),
                      ("ed", ["-newkey", "ed25519"])]:
        run("openssl", "req", "-x509", *alg, "-nodes", "-days", "3650", "-subj", f"/CN={name}.example.test/O=shakedown",
            "-addext", f"subjectAltName=DNS:{name}.example.test,DNS:www.{name}.example.test",
            "-keyout", f"{tmp}/{name}.key", "-out", f"{tmp}/{name}.crt")

def record(out, server_args, client_args, stdin=b"hello\n", port=44330):
    srv = subprocess.Popen(["openssl", "s_server", "-accept", str(port + 1), "-naccept", "1", "-quiet", *server_args],
                           stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    lst = socket.socket(); lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", port)); lst.listen(1)
    cli = subprocess.Popen(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-quiet", *client_args],
                           stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    c, _ = lst.accept()
    s = socket.create_connection(("127.0.0.1", port + 1))
    chunks, open_ = [], {c: True, s: True}
    deadline = time.time() + 5
    sent = False
    while any(open_.values()) and time.time() < deadline:
        r, _, _ = select.select([x for x in open_ if open_[x]], [], [], 0.3)
        if not r and not sent:
            sent = True
            try:
                cli.stdin.write(stdin); cli.stdin.close()
            except BrokenPipeError:
                pass
        for x in r:
            data = x.recv(65536)
            other = s if x is c else c
            if not data:
                open_[x] = False
                try: other.shutdown(socket.SHUT_WR)
                except OSError: pass
                continue
            chunks.append(("C" if x is c else "S", data))
            try: other.sendall(data)
            except OSError: pass
    for p in (cli, srv):
        p.kill(); p.wait()
    lst.close(); c.close(); s.close()
    with open(out, "w") as f:
        for d, data in chunks:
            f.write(f"{d} {data.hex()}\n")
    print(out, len(chunks), "chunks", sum(len(d) for _, d in chunks), "bytes")

with tempfile.TemporaryDirectory() as tmp:
    keys(tmp)
    for name in ("ec", "ed"):
        subprocess.run(["openssl", "x509", "-in", f"{tmp}/{name}.crt", "-outform", "DER", "-out", f"{name}_cert.der"], check=True)
    record("tls12_rsa.txt", ["-cert", f"{tmp}/rsa.crt", "-key", f"{tmp}/rsa.key", "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"],
           ["-tls1_2", "-servername", "rsa.example.test"])
    record("tls13_hrr_ec.txt", ["-cert", f"{tmp}/ec.crt", "-key", f"{tmp}/ec.key", "-tls1_3", "-groups", "P-256"],
           ["-tls1_3", "-groups", "X25519:P-256", "-servername", "ec.example.test", "-alpn", "h2,http/1.1"], port=44340)
    record("tls13_ed25519.txt", ["-cert", f"{tmp}/ed.crt", "-key", f"{tmp}/ed.key"],
           ["-servername", "ed.example.test"], port=44350)
    record("tls12_unknown_ca.txt", ["-cert", f"{tmp}/rsa.crt", "-key", f"{tmp}/rsa.key", "-tls1_2"],
           ["-tls1_2", "-verify_return_error", "-CAfile", f"{tmp}/ec.crt"], port=44360)
