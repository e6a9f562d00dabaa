#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Backend servers for the proxy tests (tests/integration/test_proxy_*.py),
run in the lab's backend namespace: one process per server, started by
proxy_lab.Backend and stopped by its PID.

    proxy_servers.py MODE --port P --events FILE [--addr A]

Every accepted connection appends "accept IP:PORT" to FILE (flushed), so
that a test counts the connections a backend saw; "ready" on stdout once
the socket listens. Modes:
  echo     bytes back as they come; the client's FIN (EOF) is answered by
           ours once everything is echoed (half-close both ways)
  hash     reads to EOF, answers "N SHA256HEX\\n" and closes: the FIN
           reached the backend and the reverse direction still flows
  sink     accepts and never reads (a backend that stops reading)
  reset    reads --after bytes, then resets (SO_LINGER 0): a backend that
           dies mid-stream
  pp2      a strict PROXY protocol v2 decoder (below): the header first,
           one JSON line back with what it decoded (or {"error": ...}),
           then echo; a broken header is answered with the error and closed
  http     HTTP/1.1 with keep-alive (python's http.server): any request
           is answered 200 with a JSON body {"method", "path", "headers"
           [[name, value]...], "conn" (this connection's number, from 1),
           "body_len", "body_sha256"} (bodies with Content-Length or
           chunked); GET /bytes/N answers N bytes of pattern(N)
  garbage  answers any request with bytes that are not HTTP, then closes
"""
import argparse
import hashlib
import http.server
import json
import socket
import socketserver
import struct
import sys
import threading

# --- PROXY protocol v2 (HAProxy's doc/proxy-protocol.txt) --------------------
PP2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
PP2_TYPE_ALPN, PP2_TYPE_AUTHORITY, PP2_TYPE_CRC32C = 0x01, 0x02, 0x03
PP2_TYPE_NOOP, PP2_TYPE_UNIQUE_ID, PP2_TYPE_SSL, PP2_TYPE_NETNS = 0x04, 0x05, 0x20, 0x30
SSL_SUBTYPES = {0x21: "version", 0x22: "cn", 0x23: "cipher", 0x24: "sig_alg",
                0x25: "key_alg", 0x26: "group", 0x27: "sig_scheme", 0x28: "client_cert"}
PP2_CLIENT_SSL, PP2_CLIENT_CERT_CONN, PP2_CLIENT_CERT_SESS = 0x01, 0x02, 0x04


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C = _crc32c_table()


def crc32c(data):
    """CRC-32C (Castagnoli, reflected, as iSCSI and PROXY v2 use it)."""
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC32C[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


class PP2Error(ValueError):
    pass


def _tlvs(data, what):
    """[(type, value)] of a TLV area that must be exactly filled."""
    out, i = [], 0
    while i < len(data):
        if len(data) - i < 3:
            raise PP2Error(f"{what}: {len(data) - i} trailing bytes, not a TLV")
        t, n = data[i], struct.unpack_from("!H", data, i + 1)[0]
        if i + 3 + n > len(data):
            raise PP2Error(f"{what}: TLV 0x{t:02x} of {n} bytes overruns the header")
        out.append((t, data[i + 3:i + 3 + n], i))
        i += 3 + n
    return out


def pp2_decode(header):
    """Decodes one complete PROXY v2 header (signature to the end of its
    TLVs), strictly: every field checked, every TLV known, no duplicate,
    the SSL TLV's sub-TLVs exactly filling it, the CRC32C (if present)
    right. Returns a JSON-able dict; raises PP2Error."""
    if len(header) < 16 or header[:12] != PP2_SIGNATURE:
        raise PP2Error("bad signature")
    ver_cmd, fam, length = header[12], header[13], struct.unpack_from("!H", header, 14)[0]
    if ver_cmd >> 4 != 2:
        raise PP2Error(f"version {ver_cmd >> 4}, not 2")
    if ver_cmd & 0xF not in (0, 1):
        raise PP2Error(f"command {ver_cmd & 0xF}")
    if len(header) != 16 + length:
        raise PP2Error(f"length {length}, header has {len(header) - 16}")
    out = {"command": "PROXY" if ver_cmd & 0xF else "LOCAL", "family": fam, "tlv_types": []}
    body = header[16:]
    if ver_cmd & 0xF == 0:
        if fam != 0:
            raise PP2Error(f"LOCAL with family 0x{fam:02x}")
        addr_len = 0
    elif fam == 0x11:  # TCP over IPv4
        addr_len = 12
        if length < addr_len:
            raise PP2Error("TCP4 addresses truncated")
        src, dst, sport, dport = struct.unpack_from("!4s4sHH", body)
        out.update(src=socket.inet_ntoa(src), dst=socket.inet_ntoa(dst), sport=sport,
                   dport=dport)
    else:
        raise PP2Error(f"family/protocol 0x{fam:02x}, expected 0x11 (TCP4)")
    seen = set()
    crc_at = None
    for t, v, off in _tlvs(body[addr_len:], "TLVs"):
        if t in seen:
            raise PP2Error(f"TLV 0x{t:02x} twice")
        seen.add(t)
        out["tlv_types"].append(t)
        if t == PP2_TYPE_ALPN:
            out["alpn"] = v.decode("ascii")
        elif t == PP2_TYPE_AUTHORITY:
            out["authority"] = v.decode("utf-8")
        elif t == PP2_TYPE_CRC32C:
            if len(v) != 4:
                raise PP2Error(f"CRC32C of {len(v)} bytes")
            crc_at = 16 + addr_len + off + 3
            out["crc32c"] = struct.unpack("!I", v)[0]
        elif t == PP2_TYPE_NOOP:
            pass
        elif t == PP2_TYPE_UNIQUE_ID:
            if len(v) > 128:
                raise PP2Error("UNIQUE_ID over 128 bytes")
            out["unique_id"] = v.hex()
        elif t == PP2_TYPE_SSL:
            out["ssl"] = _ssl_tlv(v)
        elif t == PP2_TYPE_NETNS:
            out["netns"] = v.decode("ascii")
        elif 0xE0 <= t <= 0xEF:
            out.setdefault("custom", {})[f"0x{t:02x}"] = v.hex()
        else:
            raise PP2Error(f"unknown TLV type 0x{t:02x}")
    if crc_at is not None:
        zeroed = header[:crc_at] + b"\0\0\0\0" + header[crc_at + 4:]
        if crc32c(zeroed) != out["crc32c"]:
            raise PP2Error(f"CRC32C 0x{out['crc32c']:08x}, computed 0x{crc32c(zeroed):08x}")
        out["crc_ok"] = True
    return out


def _ssl_tlv(v):
    if len(v) < 5:
        raise PP2Error(f"SSL TLV of {len(v)} bytes")
    client, verify = v[0], struct.unpack_from("!I", v, 1)[0]
    if client & ~0x07:
        raise PP2Error(f"SSL client bits 0x{client:02x}")
    ssl = {"client": client, "verify": verify}
    seen = set()
    for t, sv, _ in _tlvs(v[5:], "SSL sub-TLVs"):
        if t not in SSL_SUBTYPES:
            raise PP2Error(f"unknown SSL sub-TLV 0x{t:02x}")
        if t in seen:
            raise PP2Error(f"SSL sub-TLV 0x{t:02x} twice")
        seen.add(t)
        name = SSL_SUBTYPES[t]
        ssl[name] = sv.hex() if name == "client_cert" else sv.decode("utf-8")
    return ssl


def read_pp2(sock):
    """Reads exactly one PROXY v2 header from sock; (bytes, error)."""
    head = b""
    while len(head) < 16:
        chunk = sock.recv(16 - len(head))
        if not chunk:
            return head, "closed before the header"
        head += chunk
    if head[:12] != PP2_SIGNATURE:
        return head, "bad signature"
    need = 16 + struct.unpack_from("!H", head, 14)[0]
    while len(head) < need:
        chunk = sock.recv(need - len(head))
        if not chunk:
            return head, "closed in the header"
        head += chunk
    return head, None


# --- servers ------------------------------------------------------------------
EVENTS_LOCK = threading.Lock()


def event(path, text):
    with EVENTS_LOCK, open(path, "a") as f:
        f.write(text + "\n")


def pattern(n):
    """The body of GET /bytes/N: a fixed, non-repeating-looking pattern."""
    seed = hashlib.sha256(str(n).encode()).digest()
    out = bytearray()
    block = seed
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block * 64
    return bytes(out[:n])


def echo(sock):
    while True:
        data = sock.recv(65536)
        if not data:
            sock.shutdown(socket.SHUT_WR)
            return
        sock.sendall(data)


def serve_conn(mode, sock, a):
    if mode == "echo":
        echo(sock)
    elif mode == "hash":
        h, n = hashlib.sha256(), 0
        while True:
            data = sock.recv(65536)
            if not data:
                break
            h.update(data)
            n += len(data)
        sock.sendall(f"{n} {h.hexdigest()}\n".encode())
        sock.shutdown(socket.SHUT_WR)
    elif mode == "sink":
        threading.Event().wait()
    elif mode == "reset":
        n = 0
        while n < a.after:
            data = sock.recv(min(65536, a.after - n))
            if not data:
                break
            n += len(data)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    elif mode == "pp2":
        head, err = read_pp2(sock)
        if err is None:
            try:
                info = pp2_decode(head)
            except (PP2Error, UnicodeDecodeError, struct.error) as e:
                err = str(e)
        if err is not None:
            event(a.events, f"pp2-error {err} {head.hex()}")
            sock.sendall((json.dumps({"error": err}) + "\n").encode())
            return
        event(a.events, "pp2 " + json.dumps(info))
        sock.sendall((json.dumps(info) + "\n").encode())
        echo(sock)


def tcp_server(a):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.addr, a.port))
    ls.listen(4096)
    print("ready", flush=True)
    conns = []
    while True:
        s, peer = ls.accept()
        conns.append(s)  # held: a sink's connections stay open
        event(a.events, f"accept {peer[0]}:{peer[1]}")

        def run(s=s):
            try:
                serve_conn(a.mode, s, a)
            except OSError:
                pass
            finally:
                if a.mode != "sink":
                    s.close()
        threading.Thread(target=run, daemon=True).start()


class HTTPHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    conn_seq = 0
    conn_lock = threading.Lock()

    def setup(self):
        super().setup()
        with HTTPHandler.conn_lock:
            HTTPHandler.conn_seq += 1
            self.conn_no = HTTPHandler.conn_seq
        event(self.server.events, f"accept {self.client_address[0]}:{self.client_address[1]}")

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n else b""

    def answer(self):
        body = self.read_body()
        if self.command == "GET" and self.path.startswith("/bytes/"):
            data = pattern(int(self.path.split("/")[2]))
            ctype = "application/octet-stream"
        else:
            data = json.dumps({"method": self.command, "path": self.path,
                               "headers": [[k, v] for k, v in self.headers.items()],
                               "conn": self.conn_no, "body_len": len(body),
                               "body_sha256": hashlib.sha256(body).hexdigest()}).encode()
            ctype = "application/json"
        event(self.server.events, f"request {self.conn_no} {self.command} {self.path}")
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_HEAD = answer


class HTTPServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 4096


def garbage_server(a):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.addr, a.port))
    ls.listen(128)
    print("ready", flush=True)
    while True:
        s, peer = ls.accept()
        event(a.events, f"accept {peer[0]}:{peer[1]}")
        with s:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            s.sendall(b"\x16\x03\x01 this is not HTTP \x00\xff\r\n\r\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["echo", "hash", "sink", "reset", "pp2", "http", "garbage"])
    ap.add_argument("--addr", default="198.18.0.3")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--events", required=True)
    ap.add_argument("--after", type=int, default=65536)
    a = ap.parse_args()
    if a.mode == "http":
        srv = HTTPServer((a.addr, a.port), HTTPHandler)
        srv.events = a.events
        print("ready", flush=True)
        srv.serve_forever()
    elif a.mode == "garbage":
        garbage_server(a)
    else:
        tcp_server(a)


if __name__ == "__main__":
    sys.exit(main())
