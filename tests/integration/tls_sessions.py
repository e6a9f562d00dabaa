# SPDX-License-Identifier: MIT
"""A TLS client that keeps its sessions between connections, run inside
the client namespace by the resumption tests: reads one JSON request per
line on stdin, makes one connection for each (GET /, read the response)
and prints one JSON line per request:

  request:  {"sni": "r1.tenant-a.test", "ctx": "good", "tls": "1.3",
             "resume": "s1" or null, "save": "s1" or null}
  answer:   {"reused": true, "body": "identity: ...\\n", "error": null,
             "alert": "TLSV13_ALERT_CERTIFICATE_REQUIRED" or null}

"ctx" names a client context, made on first use from --ctx NAME=CERT,KEY
(or NAME=none: no certificate); python's ssl resumes a session only with
the context that made it. "save" keeps the session the connection ended
with under a name; "resume" offers a saved one.
"""
import argparse
import json
import socket
import ssl
import sys

from tls_client import read_response


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", default="198.18.0.1")
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--ctx", action="append", default=[], help="NAME=CERT,KEY or NAME=none")
    a = ap.parse_args()
    certs = dict(c.split("=", 1) for c in a.ctx)
    contexts, sessions = {}, {}
    for line in sys.stdin:
        req = json.loads(line)
        key = (req["ctx"], req.get("tls", "1.3"))
        if key not in contexts:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_verify_locations(a.cafile)
            if certs[req["ctx"]] != "none":
                ctx.load_cert_chain(*certs[req["ctx"]].split(","))
            v = ssl.TLSVersion.TLSv1_2 if key[1] == "1.2" else ssl.TLSVersion.TLSv1_3
            ctx.minimum_version = ctx.maximum_version = v
            contexts[key] = ctx
        out = {"reused": None, "body": None, "error": None, "alert": None}
        try:
            sock = socket.create_connection((a.addr, 443), timeout=10)
            with contexts[key].wrap_socket(sock, server_hostname=req["sni"],
                                           session=sessions.get(req.get("resume"))) as tls:
                tls.sendall(f"GET / HTTP/1.1\r\nHost: {req['sni']}\r\n\r\n".encode())
                out["body"] = read_response(tls)[1]
                out["reused"] = tls.session_reused
                if req.get("save"):
                    sessions[req["save"]] = tls.session
        except ssl.SSLError as e:
            out["error"] = str(e)
            out["alert"] = e.reason
        except OSError as e:
            out["error"] = str(e)
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
