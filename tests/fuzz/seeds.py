# SPDX-License-Identifier: MIT
"""Write seed inputs for a fuzz target into a directory:
    seeds.py DIR [eth_input|tcp_input|http|verify|tls_input|tls_client|tls_hello|ticket|cli|alog|
                  metrics_http|http_proxy]
    (eth_input by default)
fuzz_eth_input: each seed is a sequence of [2-byte length][frame] (top bit
of the length: [2 bytes: how the frame is split into an mbuf chain]);
fuzz_tcp_input: a configuration byte, then segment and timer records;
fuzz_http: a configuration byte, then [control byte][piece] records
fuzz_http_proxy: a configuration byte, the request head's length (2 bytes),
the request head, the response (head and body)
fuzz_tls_input: a configuration byte, a schedule, the client's stream
(raw, or in client mode the target's TLS client's parameters and plaintext)
(the formats are described in the targets)."""
import struct
import sys
from pathlib import Path

from scapy.all import ARP, ICMP, IP, UDP, Ether, Raw

US, PEER = "198.18.0.1", "198.18.0.2"
MAC, PEER_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"


def seq(*frames):
    out = b""
    for f in frames:
        b = bytes(f) if f is not None else b""
        out += struct.pack(">H", len(b)) + b
    return out


def chained(f, first, rest):
    """A frame record for an mbuf chain: first * 7 bytes in the first
    mbuf, 64 + rest * 7 in each of the others."""
    b = bytes(f)
    return struct.pack(">HBB", 0x8000 | len(b), first, rest) + b


def eth_input_seeds():
    eth = Ether(dst=MAC, src=PEER_MAC)
    arp_req = Ether(dst="ff:ff:ff:ff:ff:ff", src=PEER_MAC) / ARP(psrc=PEER, pdst=US)
    echo = eth / IP(src=PEER, dst=US) / ICMP() / Raw(b"abcdefgh")
    seeds = {
        "arp-then-echo": seq(arp_req, echo),
        "echo-unknown": seq(eth / IP(src="198.18.0.12", dst=US) / ICMP(), None,
                            eth / ARP(op=2, psrc="198.18.0.12", pdst=US,
                                      hwsrc=PEER_MAC, hwdst=MAC)),
        "options": seq(arp_req, eth / IP(src=PEER, dst=US, options=b"\x01\x01\x01\x00")
                       / ICMP()),
        "udp": seq(eth / IP(src=PEER, dst=US) / UDP(dport=53) / Raw(b"q")),
        "chain-echo": seq(arp_req) + chained(echo, 5, 0),
        "chain-arp-split": chained(arp_req, 2, 0) + seq(echo),
        "chain-jumbo-udp": seq(arp_req) + chained(eth / IP(src=PEER, dst=US) / UDP(dport=9) /
                                                  Raw(b"j" * 8000), 0, 200),
    }
    return seeds


# fuzz_tcp_input. Flows: 4 peers x (echo, discard, source, forward, closed
# port), then the backend connections of the forward app.
ECHO, DISCARD, SOURCE, FORWARD, CLOSED = 0, 1, 2, 3, 4
BACKEND = 20
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def flow(peer, port):
    return peer * 5 + port


def seg(fl, flags, seq=None, ack=None, win=65535, mss=None, ws=None, sack_ok=False,
        ts=True, sacks=(), payload=0, chain=None):
    """A segment record; seq/ack are deltas (-128..127 or 16-bit) from
    what the target tracks, or None for exactly that; chain=(f, r): the
    frame comes as an mbuf chain (f * 7 bytes first, then 64 + r * 7)."""
    mode, operands = 0x40 if chain else 0, b""
    for shift, delta in ((0, seq), (2, ack)):
        if delta is None:
            continue
        if -128 <= delta < 128:
            mode |= 1 << shift
            operands += struct.pack(">b", delta)
        else:
            mode |= 2 << shift
            operands += struct.pack(">h", delta)
    tmpl, values = 0, b""
    if mss is not None:
        tmpl |= 1
        values += struct.pack(">H", mss)
    if ws is not None:
        tmpl |= 2
        values += bytes([ws])
    if sack_ok:
        tmpl |= 4
    if ts:
        tmpl |= 8
        values += bytes([65])  # the peer's clock: +1
    tmpl |= len(sacks) << 4
    for start, length in sacks:
        values += struct.pack(">Hh", start, length)
    return (bytes([fl, flags, mode]) + operands + struct.pack(">H", win) + bytes([tmpl]) +
            values + struct.pack(">H", payload) + (bytes(chain) if chain else b""))


def wait(ms):
    """A timer record: ms rounded down to what the encoding can say."""
    scale = 0
    while ms >> (2 * scale) > 255:
        scale += 1
    return bytes([0x80 | scale << 4, ms >> (2 * scale)])


def handshake(fl, **syn):
    return seg(fl, SYN, mss=1460, ws=7, sack_ok=True, **syn) + seg(fl, ACK)


def tcp_input_seeds():
    e, d, s = flow(0, ECHO), flow(1, DISCARD), flow(0, SOURCE)
    return {
        "echo-close": bytes([0]) + handshake(e) + seg(e, ACK | PSH, payload=100) +
        seg(e, ACK) + seg(e, FIN | ACK) + seg(e, ACK),
        "echo-plain": bytes([0]) + seg(e, SYN, ts=False) + seg(e, ACK, ts=False) +
        seg(e, ACK | PSH, ts=False, payload=1460) + seg(e, RST, ts=False),
        "source-close": bytes([64]) + handshake(s) + seg(s, ACK) + seg(s, ACK) +
        seg(s, FIN | ACK) + wait(60000),
        "ooo-sack": bytes([0]) + handshake(d) + seg(d, ACK, seq=300, payload=100) +
        seg(d, ACK, seq=100, payload=100) + seg(d, ACK | PSH, payload=500),
        "sack-recovery": bytes([0]) + handshake(s) +
        seg(s, ACK, ack=-14480, sacks=((1448, 4344),)) + wait(300) + seg(s, ACK),
        "cookies": bytes([1]) + handshake(e) + seg(e, ACK | PSH, payload=10),
        "lro-chain": bytes([0]) + handshake(e) + seg(e, ACK, payload=8688, chain=(10, 100)) +
        seg(e, ACK | PSH, seq=1000, payload=3000, chain=(8, 0)) + seg(e, ACK, chain=(2, 0)),
        "zero-window": bytes([2 | 64]) + seg(s, SYN, mss=1460) + seg(s, ACK, win=0) +
        wait(250) + wait(500) + seg(s, ACK, win=4096),
        "handshake-timeout": bytes([0]) + seg(e, SYN) + wait(1000) + wait(2000) +
        wait(4000) + wait(30000),
        "keepalive": bytes([16]) + handshake(d) + wait(1000) + wait(1000) + wait(5000),
        "closed-port": bytes([0]) + seg(flow(2, CLOSED), SYN) + seg(flow(2, CLOSED), ACK),
        "conn-limit": bytes([4 | 1]) + handshake(flow(0, ECHO)) + handshake(flow(1, ECHO)) +
        handshake(flow(2, ECHO)),
        "forward": bytes([0]) + handshake(flow(3, FORWARD)) +
        seg(BACKEND, SYN | ACK, mss=1460, sack_ok=True) + seg(BACKEND, ACK) +
        seg(flow(3, FORWARD), ACK | PSH, payload=200) + seg(BACKEND, ACK | PSH, payload=300) +
        seg(flow(3, FORWARD), ACK) + seg(BACKEND, FIN | ACK) + seg(flow(3, FORWARD), FIN | ACK) +
        seg(BACKEND, ACK) + seg(flow(3, FORWARD), ACK),
    }


# fuzz_http. Configuration bits: 1 verify failed, 2 Host must match,
# 4 identity, 8 protected prefixes, 16 no SNI.
HOST = b"Host: example.com\r\n"


def pieces(data, size=62, cap=3):
    """data fed size bytes at a time (1..62), output pulled through
    buffers of the cap-th size (0..3: 1, 7, 100, 16384 bytes)."""
    out = b""
    for i in range(0, len(data), size):
        piece = data[i:i + size]
        out += bytes([cap << 6 | len(piece)]) + piece
    return out


def http_seeds():
    get = b"GET / HTTP/1.1\r\n" + HOST + b"\r\n"
    upload = (b"POST /upload HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
              b"5;x=y\r\nhello\r\n0\r\nX-T: 1\r\n\r\n")
    return {
        "get": bytes([0]) + pieces(get),
        "pipeline": bytes([4]) + pieces(get + b"HEAD /bytes/100 HTTP/1.1\r\n" + HOST +
                                        b"Connection: keep-alive, close\r\n\r\n" + get, 1, 1),
        "upload-chunked": bytes([0]) + pieces(upload, 7, 2),
        "upload-length": bytes([0]) + pieces(b"PUT /upload HTTP/1.1\r\n" + HOST +
                                             b"Content-Length: 10\r\n\r\n0123456789" + get),
        "bytes": bytes([8 | 4]) + pieces(b"GET /bytes/70000?x HTTP/1.1\r\n" + HOST + b"\r\n", 62, 0),
        "policy": bytes([2]) + pieces(b"GET /a HTTP/1.0\r\nHost: EXAMPLE.com:443\r\n"
                                      b"Connection: keep-alive\r\n\r\n" + get),
        "refused": bytes([0]) + pieces(b"POST /upload HTTP/1.1\r\n" + HOST +
                                       b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
        "peer-close": bytes([0]) + pieces(get) + bytes([3 << 6]),
        "options": bytes([16 | 2]) + pieces(b"\r\nOPTIONS * HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"),
        "long-line": bytes([0]) + pieces(b"GET /" + b"a" * 8180 + b" HTTP/1.1\r\n" + HOST + b"\r\n"),
        "many-fields": bytes([0]) + pieces(b"GET / HTTP/1.1\r\n" + HOST + b"X: y\r\n" * 64 + b"\r\n"),
        "long-field": bytes([0]) + pieces(b"GET / HTTP/1.1\r\n" + HOST + b"X: " + b"v" * 16360 +
                                          b"\r\n\r\n"),
    }


def verify_seeds():
    """fuzz_verify: records [kind][2-byte length][bytes] (kind 0 CA PEM,
    1 CRL, 2 peer DER certificate, 3 allowlist pattern, 4 time) built from
    the test PKI of scripts/pki_cases.py and x509-limbo's cases."""
    import base64
    import subprocess
    import tempfile
    import time

    def rec(kind, data):
        return bytes([kind]) + struct.pack(">H", len(data)) + data

    def ders(pem):
        # "-----BEGIN X-----", body, "-----END X-----": every 4th piece.
        return [base64.b64decode(b"".join(b.split())) for b in pem.split(b"-----")[2::4]]

    def der(pem):
        return ders(pem)[0]

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(__file__).resolve().parents[2]
        subprocess.run(["/usr/bin/python3", str(root / "scripts" / "pki_cases.py"), tmp],
                       check=True)
        f = {p.name: p.read_bytes() for p in Path(tmp).iterdir()}
    now = rec(4, struct.pack(">q", int(time.time())))
    crls = rec(1, f["a-root.crl"]) + rec(1, f["a-int.crl"])
    seeds = {}
    for case in ["good", "rsa", "revoked", "deep", "pathlen", "bad-signature", "expired",
                 "identity-denied", "no-ku-ds", "self-signed"]:
        chain = f.get(case + ".chain.pem", f[case + ".crt"])
        certs = b"".join(rec(2, d) for d in ders(chain))
        seeds[case] = (now + rec(0, f["a-root.crt"]) + certs +
                       rec(3, b"uri:spiffe://tenant-a.test/svc/*"))
    for case in ["nc-cross", "nc-cn", "nc-ok", "eku-nested", "critical-ext", "pss", "loop",
                 "any-eku", "weak-rsa"]:
        chain = f.get(case + ".chain.pem", f[case + ".crt"])
        seeds[case] = now + rec(0, f["a-root.crt"]) + b"".join(rec(2, d) for d in ders(chain))
    seeds["ip"] = (now + rec(0, f["a-root.crt"]) + rec(2, der(f["ip.crt"])) +
                   rec(2, der(f["a-int.crt"])) + rec(3, b"ip:198.18.0.5"))
    seeds["crls"] = now + rec(0, f["a-bundle.pem"]) + crls + rec(2, der(f["revoked.crt"]))
    seeds["crl-der"] = (now + rec(0, f["a-bundle.pem"]) + rec(1, der(f["a-int.crl"])) +
                        rec(1, der(f["a-root.crl"])) + rec(2, der(f["good.crt"])))
    # A CRL from the intermediate the client sends.
    seeds["crl-chain"] = (now + rec(0, f["a-root.crt"]) + crls + rec(2, der(f["revoked.crt"])) +
                          rec(2, der(f["a-int.crt"])))
    for crl in ["critical", "delta", "ca-only", "user-only", "no-number"]:
        seeds["crl-" + crl] = (now + rec(0, f["a-bundle.pem"]) + rec(1, f["a-root.crl"]) +
                               rec(1, f[f"a-int-{crl}.crl"]) + rec(2, der(f["revoked.crt"])))
    # x509-limbo's cases (name constraints, odd extensions), when the
    # conformance data is next to the repository.
    limbo = Path(__file__).resolve().parents[3] / "shared" / "conformance" / \
        "x509-limbo-subset.json"
    if limbo.is_file():
        import json

        for i, c in enumerate(json.loads(limbo.read_text())["testcases"]):
            pems = [p.encode() for p in c["trusted_certs"] + c["crls"] +
                    [c["peer_certificate"]] + c["untrusted_intermediates"]]
            if sum(len(p) for p in pems) > 60000:
                continue  # the pathological ones: a record holds 64 KiB
            seed = now + b"".join(rec(0, p) for p in pems[:len(c["trusted_certs"])])
            seed += b"".join(rec(1, crl.encode()) for crl in c["crls"])
            for pem in [c["peer_certificate"]] + c["untrusted_intermediates"]:
                seed += b"".join(rec(2, d) for d in ders(pem.encode()))
            if c["expected_peer_name"] and c["expected_peer_name"]["kind"] == "DNS":
                seed += rec(3, b"dns:" + c["expected_peer_name"]["value"].encode())
            seeds[f"limbo-{i}"] = seed
    return seeds


def tls_input_seeds():
    """fuzz_tls_input: [config][N][N schedule bytes][the client's stream]
    (see the target). Real ClientHellos from Python's ssl module (through
    memory BIOs: no network), with and without SNI, TLS 1.2 and 1.3, for
    each host of the target's configuration; a TLS 1.2 client's second
    flight sent blindly (Certificate with a throwaway certificate, or
    empty, then garbage); truncated and malformed records."""
    import ssl
    import subprocess
    import tempfile

    def hello(sni=None, version=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if version is not None:
            ctx.minimum_version = ctx.maximum_version = version
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, out, server_hostname=sni)
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        return out.read()

    def record(ctype, body, version=b"\x03\x03"):
        return bytes([ctype]) + version + struct.pack(">H", len(body)) + body

    def handshake_msg(htype, body):
        return bytes([htype]) + struct.pack(">I", len(body))[1:] + body

    def seed(stream, config=0, sched=b""):
        return bytes([config, len(sched)]) + sched + stream

    with tempfile.TemporaryDirectory() as tmp:
        key, crt = Path(tmp) / "k.pem", Path(tmp) / "c.der"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key),
                        "-subj", "/CN=seed.fuzz.test", "-days", "3650", "-outform", "DER",
                        "-out", str(crt)], check=True, capture_output=True)
        cert = crt.read_bytes()
    v12, v13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3
    ch13 = hello("fuzz.test", v13)
    ch12_mtls = hello("mtls.fuzz.test", v12)
    certs = struct.pack(">I", len(cert) + 3)[1:] + struct.pack(">I", len(cert))[1:] + cert
    second_flight = (record(22, handshake_msg(16, bytes([65, 4]) + bytes(range(64)))) +
                     record(20, b"\x01") + record(22, bytes(40)))
    seeds = {
        "tls13-sni": seed(ch13),
        "tls13-nosni": seed(hello(None, v13)),
        "tls12-sni": seed(hello("fuzz.test", v12)),
        "tls12-nosni": seed(hello(None, v12), config=1),
        "any-version": seed(hello("fuzz.test")),
        "mtls13": seed(hello("mtls.fuzz.test", v13)),
        "mtls12": seed(ch12_mtls),
        "wildcard12": seed(hello("a.opt.fuzz.test", v12)),
        "wildcard13": seed(hello("a.opt.fuzz.test", v13), config=3),
        # Certificate (16 bytes into the message: a DER certificate), then
        # ClientKeyExchange, ChangeCipherSpec, "Finished".
        "mtls12-cert": seed(ch12_mtls + record(22, handshake_msg(11, certs)) +
                            second_flight, sched=b"\x80\xc4\x80"),
        "mtls12-empty-cert": seed(ch12_mtls + record(22, handshake_msg(11, b"\0\0\0")) +
                                  second_flight, sched=b"\x80\xc4\x80"),
        "wildcard12-cert": seed(hello("b.opt.fuzz.test", v12) +
                                record(22, handshake_msg(11, certs)) + second_flight,
                                sched=b"\x80\xc4\x80"),
        "tls13-garbage-after": seed(ch13 + record(20, b"\x01") + record(23, bytes(64)) +
                                    record(21, b"\x01\x00")),
        # Cut into small segments, timers and windows in between.
        "tiny-segments": seed(ch13, sched=bytes([0, 0, 0, 0, 0, 3, 0xc2, 0x1f, 0x7f, 0xd5])),
        "zero-window": seed(ch13, config=8, sched=bytes([0x0a, 0xd4, 0x40, 0xc8, 0xd4, 0xd3])),
        "small-buffers": seed(hello("fuzz.test", v12), config=4 | 2),
        "fin-midway": seed(ch13, sched=bytes([0x7f, 0xd0])),
        "rst-midway": seed(ch13, sched=bytes([0x7f, 0xd1])),
        "handshake-timeout": seed(ch13[:200], config=2, sched=bytes([0x80, 0xcc])),
        "server-flight-timeout": seed(ch13, config=8 | 2, sched=bytes([0x80, 0xcc, 0xcc])),
        # Malformed: truncated, split over two records, not TLS at all,
        # too long, SSLv2-style.
        "truncated": seed(ch13[:len(ch13) // 2]),
        "split-records": seed(record(22, ch13[5:100]) + record(22, ch13[100:])),
        "not-tls": seed(b"GET / HTTP/1.1\r\nHost: fuzz.test\r\n\r\n"),
        "too-long": seed(b"\x16\x03\x01\x40\x01" + bytes(100)),
        "sslv2": seed(b"\x80\x2e\x01\x00\x02\x00\x15\x00\x00\x00\x10" + bytes(37)),
        "alert-first": seed(record(21, b"\x02\x28")),
    }
    # Client mode (config bit 4): the stream is [params][plaintext] for the
    # target's wolfSSL client. Params: bits 0-1 TLS 1.2, 1.3, either; bits
    # 2-4 the SNI (0 none, 1 fuzz.test, 2 mtls.fuzz.test, 3 a.opt.fuzz.test,
    # 4 unknown.example); bit 5 client certificate; bit 6 close_notify at
    # the end; bit 7 plaintext in 61-byte records. Config bit 5: close at
    # the end of the schedule (mid-response), not after the exchange.
    # Schedule 0xd6: the client's close_notify; 0xd7: a KeyUpdate.
    CLIENT, CUT = 0x10, 0x20
    T12, T13, ANY = 0, 1, 2
    SNI_FUZZ, SNI_MTLS, SNI_OPT, SNI_UNKNOWN = 1 << 2, 2 << 2, 3 << 2, 4 << 2
    CERT, NOTIFY, SMALL = 0x20, 0x40, 0x80

    def get(path, host="fuzz.test", extra=b""):
        return (b"GET " + path + b" HTTP/1.1\r\nHost: " + host.encode() + b"\r\n" + extra +
                b"\r\n")

    def client(params, plaintext, config=0, sched=b""):
        return seed(bytes([params]) + plaintext, config=CLIENT | config, sched=sched)

    flight = bytes([0xbf, 0xd3] * 4)
    seeds.update({
        "client13-bytes": client(T13 | SNI_FUZZ, get(b"/bytes/100")),
        "client12-bytes-notify": client(T12 | SNI_FUZZ | NOTIFY, get(b"/bytes/1000")),
        "client-any-root": client(ANY, get(b"/", "unknown.example"), config=3),
        "client13-pipelined": client(T13 | SNI_FUZZ | SMALL | NOTIFY,
                                     get(b"/bytes/10") + get(b"/") + get(b"/bytes/0") +
                                     get(b"/nope", extra=b"Connection: close\r\n")),
        "client13-mtls-cert": client(T13 | SNI_MTLS | CERT, get(b"/bytes/5000",
                                                                "mtls.fuzz.test")),
        "client12-mtls-cert": client(T12 | SNI_MTLS | CERT | NOTIFY,
                                     get(b"/", "mtls.fuzz.test"), config=1),
        "client13-mtls-nocert": client(T13 | SNI_MTLS, get(b"/", "mtls.fuzz.test")),
        "client12-opt-nocert": client(T12 | SNI_OPT, get(b"/", "a.opt.fuzz.test")),
        "client13-opt-cert": client(T13 | SNI_OPT | CERT, get(b"/bytes/7", "a.opt.fuzz.test")),
        "client13-garbage": client(T13 | SNI_FUZZ, b"\x00\xffGARBAGE\r\n\r\n" * 4),
        "client13-upload": client(T13 | SNI_FUZZ, b"POST /upload HTTP/1.1\r\nHost: fuzz.test"
                                  b"\r\nContent-Length: 3000\r\n\r\n" + bytes(3000)),
        # Closed mid-response: FIN, RST, close_notify with TCP held back.
        "client-fin-midway": client(T13 | SNI_FUZZ, get(b"/bytes/200000"),
                                    config=CUT | 4 | 8, sched=flight + b"\xbf\xd0"),
        "client-rst-midway": client(T12 | SNI_FUZZ, get(b"/bytes/200000"),
                                    config=CUT | 4 | 8 | 1, sched=flight + b"\xbf\xd1"),
        "client-notify-midway": client(T13 | SNI_FUZZ, get(b"/bytes/50000"),
                                       config=CUT | 8, sched=flight + b"\xd6\xbf\xd3"),
        "client-tiny-segments": client(T13 | SNI_FUZZ, get(b"/bytes/3"), config=4,
                                       sched=bytes([0, 3, 0xd5, 0x1f, 0xc2, 0x7f, 0xd4, 0xd4,
                                                    0x80, 0x10, 0xd3, 0x80])),
        "client-no-end": client(T12 | SNI_FUZZ, get(b"/bytes/20"), config=2),
        # 0xd7: the client sends a KeyUpdate (update_requested), during a
        # response, with small buffers.
        "client13-keyupdate": client(T13 | SNI_FUZZ | NOTIFY, get(b"/bytes/30000"), config=4,
                                     sched=flight + b"\xd7\xbf\xd3\xd7\xd7\xbf\xd3"),
    })
    return seeds


def tls_client_seeds():
    """fuzz_tls_client: [config][records] (see the target), the server's
    stream cut into segments (control byte 0x40 | (n - 1): n * 32 bytes,
    0x00 | (n - 1): n bytes). Real server flights from Python's ssl module
    (memory BIOs, answering a ClientHello of its own client: the target's
    client sends another, so only their framing and certificates are
    real): TLS 1.2 (Certificate in the clear, a self-signed leaf the CA
    never signed) and TLS 1.3; alerts; a cut record."""
    import ssl
    import subprocess
    import tempfile

    def flight(version):
        with tempfile.TemporaryDirectory() as tmp:
            key, crt = Path(tmp) / "k.pem", Path(tmp) / "c.pem"
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key),
                            "-subj", "/CN=origin.test", "-addext",
                            "subjectAltName=DNS:origin.test,IP:198.18.0.3", "-days", "3650",
                            "-out", str(crt)], check=True, capture_output=True)
            srv = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            srv.load_cert_chain(str(crt), str(key))
        srv.minimum_version = srv.maximum_version = version
        cli = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        cli.check_hostname = False
        cli.verify_mode = ssl.CERT_NONE
        ci, co, si, so = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
        c = cli.wrap_bio(ci, co, server_hostname="origin.test")
        s = srv.wrap_bio(si, so, server_side=True)
        try:
            c.do_handshake()
        except ssl.SSLWantReadError:
            pass
        si.write(co.read())
        try:
            s.do_handshake()
        except ssl.SSLWantReadError:
            pass
        return so.read()

    def only_asked(stream):
        """The ServerHello (first in the first record) without the
        extensions Python's client asked for and ours does not
        (renegotiation_info, session_ticket...): wolfSSL refuses them."""
        keep = {0x000b, 0x0017, 0x002b, 0x0033}
        rec_len = struct.unpack(">H", stream[3:5])[0]
        rec, rest = stream[5:5 + rec_len], stream[5 + rec_len:]
        msg_len = struct.unpack(">I", b"\0" + rec[1:4])[0]
        msg, after = rec[4:4 + msg_len], rec[4 + msg_len:]
        sid_len = msg[34]
        head = msg[:35 + sid_len + 3]
        exts, pos, out = msg[len(head) + 2:], 0, b""
        while pos + 4 <= len(exts):
            etype, elen = struct.unpack(">HH", exts[pos:pos + 4])
            if etype in keep:
                out += exts[pos:pos + 4 + elen]
            pos += 4 + elen
        msg = head + struct.pack(">H", len(out)) + out
        rec = bytes([2]) + struct.pack(">I", len(msg))[1:] + msg + after
        return stream[:3] + struct.pack(">H", len(rec)) + rec + rest

    def segments(stream, size=32 * 32):
        out = b""
        while stream:
            piece, stream = stream[:size], stream[size:]
            if len(piece) % 32 == 0:
                out += bytes([0x40 | (len(piece) // 32 - 1)]) + piece
            else:
                for i in range(0, len(piece), 64):
                    p = piece[i:i + 64]
                    out += bytes([len(p) - 1]) + p
        return out

    def alert(desc):
        return bytes([21, 3, 3, 0, 2, 2, desc])

    f12 = only_asked(flight(ssl.TLSVersion.TLSv1_2))
    f13 = only_asked(flight(ssl.TLSVersion.TLSv1_3))
    return {
        "tls12-verified": bytes([1]) + segments(f12),
        "tls12-unverified": bytes([0]) + segments(f12),
        "tls12-ip-cert": bytes([7]) + segments(f12),
        "tls13-verified": bytes([1]) + segments(f13),
        "tls13-unverified-rst": bytes([0x08]) + segments(f13),
        "tls12-small-segments": bytes([1]) + segments(f12, 64),
        "alert-handshake-failure": bytes([1]) + segments(alert(40)),
        "alert-certificate-required": bytes([0x04]) + segments(alert(116)),
        "cut-record": bytes([1]) + segments(f12[:100]) + b"\xd0",
        "timers": bytes([0x10]) + b"\xcf\xcf" + segments(f13[:64]),
    }


def tls_hello_seeds():
    """fuzz_tls_hello: one handshake message. The ClientHellos of the
    tls_input seeds (Python's ssl, TLS 1.2 and 1.3, with and without SNI),
    without their record header."""
    seeds = {}
    for name, stream in tls_input_seeds().items():
        at = 2 + stream[1]  # config byte, schedule length, schedule
        rec = stream[at:]
        if len(rec) > 9 and rec[0] == 22 and rec[5] == 1:
            seeds[name] = rec[5:5 + (rec[3] << 8 | rec[4])]
    return seeds


def cli_seeds():
    """fuzz_cli: a level byte (bit 0: admin), then CLI lines: a transaction
    with every object command, the shows, refused settings, bad lines."""
    session = "\n".join([
        "help", "show info", "show info json", "show workers json", "show hosts",
        "show hosts *.example.com json", "show host api.example.com", "show ca-sets json",
        "show ca-set tenant-a", "show certs", "show conns 5", "show stats json",
        "dump config", "begin", "ca-set tenant-a file /nonexistent/ca.pem",
        "ca-set tenant-a revoke 0a1b2c", "ca-set tenant-a clear", "cert edge /a.pem /a.key",
        "host api.example.com ca-set tenant-a", "host api.example.com verify required",
        "host api.example.com allow uri:spiffe://example.org/*", "host api.example.com allow none",
        "host *.example.com cert-ref edge", "host default protect /admin",
        "host api.example.com ca /nonexistent/ca.pem", "del host api.example.com",
        "host api.example.com eku any", "show staged", "commit", "abort", "begin", "begin",
        "abort", "commit", "tcp buffers 65536 65536", "tcp keepalive 60 10 5",
        "tcp idle-timeout off", "worker idle backoff 10 100 20", "tls handshake-timeout 5000",
        "tls versions 1.2 1.3", "control socket /tmp/x.sock", "del ca-set tenant-a",
        "host bad_name verify none", "frobnicate", "  # comment", "",
        "watch off", "watch on", "watch maybe", "tls cert-expiry-warning 3600",
        "tls cert-expiry-warning soon", "show certs json",
        "begin", "backend web server 198.18.1.10:8080",
        "backend web server 198.18.1.11:8080 weight 3",
        "backend web server 198.18.1.10:8080 off", "backend web balance leastconn",
        "backend web mode tcp", "backend web send-proxy-v2 cert",
        "backend web health http /healthz interval 500", "backend web health tcp",
        "backend web timeouts 2000 30000", "backend web header client-identity X-Peer",
        "backend web header forwarded-for off", "backend web header client-verify Host",
        "backend web tls ca /nonexistent/ca.pem cert /a.pem /a.key sni o.test verify-name o.test",
        "backend web tls sni o.test", "backend web tls off", "host default backend web",
        "host default backend none", "backend web server none", "show staged", "del backend web",
        "backend none mode tcp", "commit", "show backends", "show backends json",
        "show backend web json", "del backend web",
    ]).encode() + b"\n"
    return {"admin": b"\x01" + session, "read-only": b"\x00" + session}


def ticket_seeds():
    """fuzz_ticket: a mode byte, then (0) a ticket as a client sends it,
    (1) a plaintext ticket: state, claims, their 2-byte length, (2) a
    ticket-keys file."""
    def claims(flags, subject=b"", serial=b"", identity=b""):
        c = bytes([1, flags]) + b"\x11" * 32 + b"\x22" * 32
        c += (1800000000).to_bytes(8, "big") + (1900000000).to_bytes(8, "big")
        for s in (subject, serial, identity):
            c += bytes([len(s)]) + s
        return c + len(c).to_bytes(2, "big")

    state = bytes(range(64))
    return {
        "sealed-garbage": b"\x00" + bytes(64) + bytes(range(200)),
        "plain-verified": b"\x01" + state + claims(3, b"/CN=web.tenant-a.test", b"0a1b",
                                                   b"spiffe://tenant-a.test/svc/web"),
        "plain-no-cert": b"\x01" + state + claims(1),
        "plain-no-claims": b"\x01" + state,
        "keys": b"\x02# newest first\nk2 " + b"ab" * 32 + b"\nk1 " + b"cd" * 32 + b"\n",
        "keys-bad": b"\x02k1 " + b"ab" * 31 + b"\n\nk2\n",
    }


def alog_seeds():
    """fuzz_alog: a size byte, the record's strings, then its numbers."""
    nums = bytes(range(1, 33))
    fields = [b"request", b"keep.tenant-a.test", b"TLS13-AES128-GCM-SHA256",
              b"/CN=web.tenant-a.test", b"0a1b", b"spiffe://tenant-a.test/svc/web", b"GET",
              b"/index.html", b"SUCCESS", b""]
    odd = [b"handshake-failed", b"caf\xc3\xa9.test", b"", "/CN=\u00e9\u4e2d\U0001f600".encode(),
           b"\xff\xfe", b"uri:\"quoted\" \\back\\", b"G\tE", b"/q\"\\\x01\x7f",
           b"FAILED:unknown_ca", b"bad \xed\xa0\x80 surrogate \xc0\xaf overlong"]
    return {
        "request": b"\x00" + b"\n".join(fields) + b"\n" + nums,
        "odd-bytes": b"\x00" + b"\n".join(odd) + b"\n" + nums,
        "small-buffer": b"\x08" + b"\n".join(odd) + b"\n" + nums,
        "long": b"\x00" + b"\n".join([b"\x01" * 300] * 10) + b"\n" + b"\xff" * 32,
    }


def http_proxy_seeds():
    """fuzz_http_proxy. Configuration bits 0-1 head pieces (1, 7, 64,
    whole), 2 HEAD request, 3 renamed headers, 4-5 body pieces."""
    def seed(cfg, req, resp):
        return bytes([cfg]) + struct.pack(">H", len(req)) + req + resp

    forged = (b"GET /a HTTP/1.1\r\n" + HOST + b"x-ssl-client-verify: SUCCESS\r\n"
              b"X-Forwarded-For: 1.2.3.4\r\nClient-Cert: :AAAA:\r\nX-Verify: yes\r\n"
              b"Connection: keep-alive, X-A, Content-Length\r\nX-A: 1\r\nTE: trailers\r\n\r\n")
    chunked_req = (b"POST /u HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n")
    chunked = b"5;x=y\r\nhello\r\n1a\r\n" + b"a" * 26 + b"\r\n0\r\nX-SSL-Client-Verify: x\r\n\r\n"
    return {
        "forged": seed(8 | 3, forged, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
        "chunked": seed(1 | 16, chunked_req, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                        b"Connection: close, X-B\r\nX-B: 1\r\n\r\n" + chunked),
        "interim": seed(2, b"\r\nPUT / HTTP/1.0\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n",
                        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 204 No Content\r\n\r\n"),
        "head": seed(4 | 32, b"HEAD / HTTP/1.1\r\n" + HOST + b"\r\n",
                     b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"),
        "close": seed(48, b"OPTIONS * HTTP/1.1\r\nHost: [::1]:443\r\n\r\n",
                      b"HTTP/1.0 200 OK\r\nKeep-Alive: 5\r\n\r\nuntil close"),
        "smuggle": seed(0, b"POST / HTTP/1.1\r\n" + HOST + b"Content-Length: 5\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n",
                        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"),
    }


def metrics_http_seeds():
    """fuzz_metrics_http: what a client of the metrics endpoint sends."""
    return {
        "get": b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9101\r\nUser-Agent: Prometheus/2.42\r\n"
               b"Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\n"
               b"Accept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n",
        "head-lf": b"HEAD /metrics?x=1 HTTP/1.0\n\n",
        "post": b"POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
        "other-path": b"GET /debug HTTP/1.1\r\n\r\n",
        "http2": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        "tls": bytes.fromhex("160301020001") + bytes(40),
        "long-header": b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 2100 + b"\r\n\r\n",
    }


TARGETS = {"eth_input": eth_input_seeds, "tcp_input": tcp_input_seeds, "http": http_seeds,
           "verify": verify_seeds, "tls_input": tls_input_seeds, "tls_client": tls_client_seeds,
           "tls_hello": tls_hello_seeds,
           "ticket": ticket_seeds, "cli": cli_seeds, "alog": alog_seeds,
           "metrics_http": metrics_http_seeds, "http_proxy": http_proxy_seeds}


def main(outdir, target="eth_input"):
    d = Path(outdir)
    d.mkdir(parents=True, exist_ok=True)
    for name, data in TARGETS[target]().items():
        (d / name).write_bytes(data)


if __name__ == "__main__":
    main(*sys.argv[1:3])
