#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A steady stream of mutual-TLS requests, for tests that change trust
while traffic flows: one new connection per request (a full handshake
each time, GET /, the response read), until STOP_FILE exists. Prints
{"ok": N, "failed": N, "errors": [first few]} as JSON; ok means a 200
naming the expected identity."""
import argparse
import json
import os
import socket
import ssl

from tls_client import read_response


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", default="198.18.0.1")
    ap.add_argument("--sni", required=True)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--identity", required=True)
    ap.add_argument("--stop-file", required=True)
    a = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(a.cafile)
    ctx.load_cert_chain(a.cert, a.key)
    out = {"ok": 0, "failed": 0, "errors": []}
    while not os.path.exists(a.stop_file):
        try:
            with socket.create_connection((a.addr, 443), timeout=10) as s, \
                    ctx.wrap_socket(s, server_hostname=a.sni) as tls:
                tls.sendall(f"GET / HTTP/1.1\r\nHost: {a.sni}\r\n\r\n".encode())
                status, body = read_response(tls)
            good = status == 200 and f"identity: {a.identity}" in body
            err = None if good else f"{status} {body[:80]!r}"
        except (OSError, ssl.SSLError) as e:
            good, err = False, str(e)
        out["ok" if good else "failed"] += 1
        if err and len(out["errors"]) < 5:
            out["errors"].append(err)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
