#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Mutual-TLS connections one after the other, for the file-watcher tests
(test_watch.py): each connection reads its client certificate again (one
PEM file holding the certificate and its key, so that a renewal written by
rename is picked up whole; OpenSSL opens the file twice, once for the
chain and once for the key, so both opens go through one descriptor's
inode), checks the server's chain against --cafile, sends GET / and reads
the answer. Until --stop-file exists (or --count connections were made).
Prints one JSON list: per connection its start and end (Unix time), the
serial of the server's certificate (hex), the HTTP status, and the error
or alert that ended it."""
import argparse
import json
import os
import socket
import ssl
import time

from cryptography import x509

from tls_client import read_response


def one(a):
    r = {"t0": time.time(), "t1": None, "serial": None, "status": None, "error": None,
         "alert": None}
    try:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(a.cafile)
        if a.cert:
            with open(a.cert, "rb") as f:
                ctx.load_cert_chain(f"/proc/self/fd/{f.fileno()}")
        with socket.create_connection((a.addr, 443), timeout=10) as s, \
                ctx.wrap_socket(s, server_hostname=a.sni) as tls:
            der = tls.getpeercert(binary_form=True)
            r["serial"] = format(x509.load_der_x509_certificate(der).serial_number, "x")
            tls.sendall(f"GET / HTTP/1.1\r\nHost: {a.sni}\r\n\r\n".encode())
            r["status"], _ = read_response(tls)
    except ssl.SSLError as e:
        r["error"], r["alert"] = str(e), e.reason
    except (OSError, ConnectionError, ValueError) as e:
        r["error"] = str(e)
    r["t1"] = time.time()
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", default="198.18.0.1")
    ap.add_argument("--sni", required=True)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--cert", help="PEM file with the certificate and its key")
    ap.add_argument("--stop-file")
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--pause", type=float, default=0.0)
    a = ap.parse_args()
    out = []
    while not (a.stop_file and os.path.exists(a.stop_file)):
        out.append(one(a))
        if a.count and len(out) >= a.count:
            break
        time.sleep(a.pause)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
