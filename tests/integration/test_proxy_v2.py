# SPDX-License-Identifier: MIT
"""PROXY protocol v2 (`backend NAME send-proxy-v2 [cert]`): the header
portcullis sends first on the backend connection, decoded by a strict
decoder of our own (proxy_servers.py: signature, version and command,
family, addresses, every TLV and PP2_TYPE_SSL sub-TLV, CRC32C checked),
which is itself checked against HAProxy's encoder; and HAProxy 2.6 with
`accept-proxy` (which checks the CRC32C too) taking portcullis's header."""
import ssl
import struct

from conftest import check_stopped
from proxy_lab import BACKEND_ADDR, client_args, host_lines, run_client

from proxy_servers import PP2Error, crc32c, pp2_decode

SNI = "pp.tenant-a.test"
PP2_CLIENT_SSL, PP2_CLIENT_CERT_CONN = 0x01, 0x02

# Connects (no ALPN), prints the first line the backend answers (its
# decoding of the header, as JSON) and our own end's address.
FIRST_LINE = r'''
def main():
    s = connect(A["sni"], cert="cert" in A, addr=A.get("addr", "198.18.0.1"),
                port=A.get("port", 443), alpn=A.get("alpn"))
    line = b""
    while not line.endswith(b"\n"):
        chunk = s.recv(1)
        if not chunk:
            break
        line += chunk
    s.sendall(b"echo")
    echoed = recv_exact(s, 4) if line else b""
    me = s.getsockname()
    return {"pp2": json.loads(line or b"{}"), "echoed": echoed.decode(), "addr": me[0],
            "port": me[1], "version": s.version(), "alpn": s.selected_alpn_protocol()}
done(outcome(main))
'''


def first_line(pki, cert="good", **kw):
    return run_client(FIRST_LINE, client_args(pki, cert=cert, sni=SNI, **kw))


def test_crc32c_and_decoder_reject_bad_headers():
    assert crc32c(b"123456789") == 0xE3069283  # the check value of CRC-32C
    addr = bytes([198, 18, 0, 2, 198, 18, 0, 1]) + struct.pack("!HH", 40000, 443)
    tlvs = b"\x02\x00\x05a.b.c" + b"\x03\x00\x04\0\0\0\0"
    head = b"\r\n\r\n\x00\r\nQUIT\n\x21\x11" + struct.pack("!H", len(addr) + len(tlvs))
    hdr = head + addr + tlvs
    hdr = hdr[:-4] + struct.pack("!I", crc32c(hdr))
    d = pp2_decode(hdr)
    assert (d["src"], d["sport"], d["dst"], d["dport"], d["authority"], d["crc_ok"]) == \
        ("198.18.0.2", 40000, "198.18.0.1", 443, "a.b.c", True)
    for bad in (hdr[:-1] + bytes([hdr[-1] ^ 1]),           # CRC
                hdr[:12] + b"\x31" + hdr[13:],               # version 3
                hdr[:12] + b"\x22" + hdr[13:],               # command 2
                hdr[:13] + b"\x21" + hdr[14:],               # TCP6 with IPv4 sizes
                hdr + b"\x04",                               # trailing byte
                hdr[:-4] + b"\x04\x00\x00" + hdr[-4:]):      # length not matching
        try:
            pp2_decode(bad)
        except PP2Error:
            continue
        raise AssertionError(f"accepted {bad.hex()}")


def test_decoder_agrees_with_haproxy(backends, pki, tmp_path):
    """The decoder against a known encoder: HAProxy terminating mutual TLS
    in the backend namespace, sending PROXY v2 with every TLV it has."""
    pem = tmp_path / "server.pem"
    pem.write_text((pki / "server.chain.pem").read_text() + (pki / "server.key").read_text())
    backends("pp2", 9101)
    backends.haproxy(f"""global
	maxconn 1000
defaults
	mode tcp
	timeout connect 5s
	timeout client 30s
	timeout server 30s
frontend f
	bind {BACKEND_ADDR}:9443 ssl crt {pem} ca-file {pki}/a-bundle.pem verify required
	default_backend b
backend b
	server s {BACKEND_ADDR}:9101 send-proxy-v2 proxy-v2-options ssl,cert-cn,ssl-cipher,cert-sig,cert-key,authority,crc32c
""", 9443)
    r = first_line(pki, addr=BACKEND_ADDR, port=9443)
    p = r["pp2"]
    assert r["echoed"] == "echo", r
    assert p["crc_ok"] and (p["src"], p["sport"]) == (r["addr"], r["port"]), r
    assert p["authority"] == SNI and p["ssl"]["cn"] == "web.tenant-a.test", r
    assert p["ssl"]["verify"] == 0 and p["ssl"]["client"] & 3 == 3, r


def pp_config(port, cert=False, verify="required"):
    return (f"backend pp server {BACKEND_ADDR}:{port}\nbackend pp mode tcp\n"
            f"backend pp send-proxy-v2{' cert' if cert else ''}\n" + host_lines(SNI, "pp", verify))


def der(pki, name):
    return ssl.PEM_cert_to_DER_cert((pki / f"{name}.crt").read_text())


def check_common(r):
    p = r["pp2"]
    assert "error" not in p, r
    assert r["echoed"] == "echo", r
    assert p["command"] == "PROXY" and p["family"] == 0x11, r
    assert (p["src"], p["sport"]) == (r["addr"], r["port"]), r
    assert p["src"] == "198.18.0.2" and (p["dst"], p["dport"]) == ("198.18.0.1", 443), r
    assert p["authority"] == SNI, r
    assert p.get("crc_ok") is True, r  # PP2_TYPE_CRC32C present and right
    s = p["ssl"]
    assert s["client"] & PP2_CLIENT_SSL, r
    assert s["version"] == r["version"] and s["cipher"], r
    return p, s


def test_header_fields(proxy, backends, pki):
    b = backends("pp2", 9102)
    proxy(pp_config(9102))
    r = first_line(pki)
    p, s = check_common(r)
    assert "alpn" not in p, r  # none offered, none sent
    assert s["verify"] == 0 and s["client"] & PP2_CLIENT_CERT_CONN, r
    assert s["cn"] == "web.tenant-a.test", r
    assert s["sig_alg"] == "ecdsa-with-SHA256" and s["key_alg"] == "EC256", r
    assert "client_cert" not in s, r  # only with `send-proxy-v2 cert`
    # ALPN offered: the protocol chosen, if one was, is in the header.
    r = first_line(pki, alpn=["http/1.1"])
    p, s = check_common(r)
    assert p.get("alpn") == r["alpn"], r
    assert len(b.events("pp2")) == 2 and not b.events("pp2-error")


def test_header_with_client_certificate(proxy, backends, pki):
    backends("pp2", 9103)
    proxy(pp_config(9103, cert=True))
    r = first_line(pki)
    p, s = check_common(r)
    assert bytes.fromhex(s["client_cert"]) == der(pki, "good"), r
    assert s["verify"] == 0 and s["cn"] == "web.tenant-a.test", r


def test_header_verify_result_optional(proxy, backends, pki):
    """verify optional_no_ca: a client without a certificate (only the SSL
    bit), and one whose certificate fails (CERT_CONN, verify non-zero)."""
    backends("pp2", 9104)
    proxy(pp_config(9104, verify="optional_no_ca"))
    p, s = check_common(first_line(pki, cert=None))
    assert s["client"] == PP2_CLIENT_SSL and "cn" not in s, s
    p, s = check_common(first_line(pki, cert="unknown-ca"))
    assert s["client"] & PP2_CLIENT_CERT_CONN and s["verify"] != 0, s


HTTP_VIA_HAPROXY = r'''
def main():
    s = connect(A["sni"])
    request(s, "GET", "/", A["sni"])
    status, headers, body = Reader(s).response()
    me = s.getsockname()
    return {"status": status, "body": body.decode(), "addr": me[0], "port": me[1]}
done(outcome(main))
'''


def test_haproxy_accepts_the_header(proxy, backends, pki):
    """HAProxy 2.6 `accept-proxy` (CRC32C checked) takes portcullis's
    header: the client's address and the SNI arrive."""
    backends.haproxy(f"""global
	maxconn 1000
defaults
	mode http
	timeout connect 5s
	timeout client 30s
	timeout server 30s
frontend pp
	bind {BACKEND_ADDR}:9201 accept-proxy
	http-request return status 200 content-type text/plain lf-string "src=%[src] sport=%[src_port] dst=%[dst]:%[dst_port] authority=%[fc_pp_authority]"
""", 9201)
    for cert in (False, True):
        pc = proxy(pp_config(9201, cert=cert))
        r = run_client(HTTP_VIA_HAPROXY, client_args(pki, sni=SNI))
        assert r.get("status") == 200, r
        assert r["body"] == (f"src=198.18.0.2 sport={r['port']} dst=198.18.0.1:443 "
                             f"authority={SNI}"), r
        # One portcullis at a time on the lab's port: the next starts
        # after this one has stopped (the fixture's check is then a no-op).
        check_stopped(pc)
