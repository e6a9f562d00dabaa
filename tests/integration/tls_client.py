# SPDX-License-Identifier: MIT
"""A TLS client on python's ssl module, run inside the client namespace by
the integration tests: connects, optionally presents a certificate, sends
HTTP/1.1 requests on one connection and prints one JSON object:

  {"handshake": true, "version": "TLSv1.3", "cipher": "...", "alpn": "...",
   "responses": [{"status": 200, "body": "..."}], "error": null,
   "alert": "TLSV1_ALERT_UNKNOWN_CA" or null, "peer_cn": "..."}

An alert is reported whether it ends the handshake (TLS 1.2) or arrives
on the first read (TLS 1.3, where the client's handshake is over before
the server has checked its certificate).
"""
import argparse
import json
import socket
import ssl


def read_response(tls):
    """One HTTP/1.1 response with Content-Length: (status, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = tls.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response headers")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        k, v = line.split(":", 1)
        if k.strip().lower() == "content-length":
            length = int(v)
    while len(body) < length:
        chunk = tls.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the response body")
        body += chunk
    return status, body[:length].decode("latin-1")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", default="198.18.0.1")
    ap.add_argument("--port", type=int, default=443)
    ap.add_argument("--sni")
    ap.add_argument("--host", help="Host header (default: the SNI)")
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--tls", choices=["1.2", "1.3"])
    ap.add_argument("--path", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=5)
    a = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(a.cafile)
    ctx.check_hostname = a.sni is not None
    if a.cert:
        ctx.load_cert_chain(a.cert, a.key)
    if a.tls:
        v = ssl.TLSVersion.TLSv1_2 if a.tls == "1.2" else ssl.TLSVersion.TLSv1_3
        ctx.minimum_version = ctx.maximum_version = v
    ctx.set_alpn_protocols(["http/1.1"])
    out = {"handshake": False, "version": None, "cipher": None, "alpn": None,
           "responses": [], "error": None, "alert": None, "peer_cn": None}
    try:
        sock = socket.create_connection((a.addr, a.port), timeout=a.timeout)
        with ctx.wrap_socket(sock, server_hostname=a.sni) as tls:
            out["handshake"] = True
            out["version"] = tls.version()
            out["cipher"] = tls.cipher()[0]
            out["alpn"] = tls.selected_alpn_protocol()
            subject = dict(x[0] for x in tls.getpeercert()["subject"])
            out["peer_cn"] = subject.get("commonName")
            host = a.host or a.sni or a.addr
            for path in a.path or ["/"]:
                tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                status, body = read_response(tls)
                out["responses"].append({"status": status, "body": body})
    except ssl.SSLError as e:
        out["error"] = str(e)
        out["alert"] = e.reason
    except (OSError, ConnectionError) as e:
        out["error"] = str(e)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
