# SPDX-License-Identifier: MIT
"""Authenticated origin pull (`backend NAME tls [ca FILE] [cert CHAIN KEY]
[sni NAME] [verify-name NAME]`): portcullis as a TLS client to an origin
that demands a client certificate, nginx with `ssl_verify_client on` (it
completes the handshake and refuses at the HTTP layer: 400) and HAProxy
with `verify required` (it refuses the handshake), each with its own CA for
clients (proxy_lab.origin_pki). The origin sees the edge's certificate and
the SNI; without the certificate the origin refuses; a wrong CA or name
for the origin is refused by portcullis and counted; the origin's TLS
connection is kept and reused."""
import pytest

from conftest import NS_CLIENT, check_stopped, in_ns
from proxy_lab import (BACKEND_ADDR, client_args, counter, host_lines, nginx_main, origin_pki,
                       run_client)

SNI = "web.tenant-a.test"
NGINX_PORT, HAPROXY_PORT = 9443, 9444
EDGE_DN = "CN=edge.portcullis.test"


@pytest.fixture
def opki(tmp_path):
    return origin_pki(tmp_path / "origin-pki")


def nginx_origin(backends, tmp_path, opki):
    return backends.nginx(nginx_main(tmp_path, f"""
	access_log off;
	keepalive_requests 100000;
	server {{
		listen {BACKEND_ADDR}:{NGINX_PORT} ssl;
		ssl_certificate {opki}/origin.crt;
		ssl_certificate_key {opki}/origin.key;
		ssl_client_certificate {opki}/edge-ca.crt;
		ssl_verify_client on;
		location / {{
			return 200 "$ssl_client_s_dn|$ssl_client_verify|$ssl_server_name|$connection|$connection_requests|$ssl_session_reused";
		}}
	}}"""), NGINX_PORT)


def haproxy_origin(backends, tmp_path, opki):
    pem = tmp_path / "origin.pem"
    pem.write_text((opki / "origin.crt").read_text() + (opki / "origin.key").read_text())
    return backends.haproxy(f"""global
	maxconn 1000
defaults
	mode http
	timeout connect 5s
	timeout client 30s
	timeout server 30s
frontend origin
	bind {BACKEND_ADDR}:{HAPROXY_PORT} ssl crt {pem} ca-file {opki}/edge-ca.crt verify required
	http-request return status 200 content-type text/plain lf-string "%[ssl_c_s_dn]|%[ssl_fc_sni]"
""", HAPROXY_PORT)


def curl(opki, port, cert=True):
    """curl from the client namespace straight to the origin."""
    cmd = ["curl", "-sS", "--max-time", "20", "--cacert", str(opki / "origin-ca.crt"),
           "--resolve", f"origin.test:{port}:{BACKEND_ADDR}", "-w", "\n%{http_code}"]
    if cert:
        cmd += ["--cert", str(opki / "edge.crt"), "--key", str(opki / "edge.key")]
    return in_ns(NS_CLIENT, cmd + [f"https://origin.test:{port}/"], timeout=60)


def test_origins_demand_the_edge_certificate(backends, tmp_path, opki):
    """The origins themselves, without portcullis: the edge's certificate
    is accepted, none is refused (nginx: 400, HAProxy: the handshake)."""
    nginx_origin(backends, tmp_path, opki)
    haproxy_origin(backends, tmp_path, opki)
    r = curl(opki, NGINX_PORT)
    assert r.returncode == 0 and r.stdout.endswith("\n200"), r
    assert r.stdout.startswith(f"{EDGE_DN}|SUCCESS|origin.test|"), r.stdout
    r = curl(opki, NGINX_PORT, cert=False)
    assert r.stdout.endswith("\n400") and "No required SSL certificate" in r.stdout, r
    r = curl(opki, HAPROXY_PORT)
    assert r.returncode == 0 and r.stdout == "/CN=edge.portcullis.test|origin.test\n200", r
    r = curl(opki, HAPROXY_PORT, cert=False)
    assert r.returncode != 0, r


def origin_backend(opki, port, ca="origin-ca.crt", cert=True, verify_name=None):
    words = [f"ca {opki}/{ca}"]
    if cert:
        words.append(f"cert {opki}/edge.crt {opki}/edge.key")
    words.append("sni origin.test")
    if verify_name:
        words.append(f"verify-name {verify_name}")
    return (f"backend origin server {BACKEND_ADDR}:{port}\n"
            f"backend origin tls {' '.join(words)}\n" + host_lines(SNI, "origin"))


# Requests on A["conns"] client connections, A["per"] each.
GETS = r'''
def main():
    out = []
    for _ in range(A["conns"]):
        s = connect(A["sni"])
        r = Reader(s)
        for _ in range(A["per"]):
            request(s, "GET", "/", A["sni"])
            status, headers, body = r.response()
            out.append({"status": status, "body": body.decode("latin-1")})
        s.close()
    return {"responses": out}
done(outcome(main))
'''


def gets(pki, conns=1, per=1):
    r = run_client(GETS, client_args(pki, sni=SNI, conns=conns, per=per))
    assert "responses" in r, r
    return r["responses"]


def test_origin_pull_through_nginx(proxy, backends, tmp_path, pki, opki):
    nginx_origin(backends, tmp_path, opki)
    pc = proxy(origin_backend(opki, NGINX_PORT))
    rs = gets(pki, conns=3, per=3)
    # Every client connection's requests arrive (9 requests).
    assert [r["status"] for r in rs] == [200] * 9, rs
    fields = [r["body"].split("|") for r in rs]
    assert all(f[:3] == [EDGE_DN, "SUCCESS", "origin.test"] for f in fields), fields
    # The origin's TLS connection is kept and reused, across client
    # connections too (they come one after the other): fewer connections
    # (handshakes) at the origin than client connections, and one of them
    # served requests of more than one client connection.
    conns = {f[3] for f in fields}
    assert len(conns) < 3, fields
    assert max(int(f[4]) for f in fields) >= 4, fields
    c = pc.counters()
    assert counter(c, "tls_failed") == 0, c
    # One verified handshake per origin connection, not per request.
    assert 1 <= counter(c, "origin_verified") <= len(conns), c


def test_origin_pull_through_haproxy(proxy, backends, tmp_path, pki, opki):
    haproxy_origin(backends, tmp_path, opki)
    proxy(origin_backend(opki, HAPROXY_PORT))
    rs = gets(pki, per=2)
    assert [(r["status"], r["body"]) for r in rs] == \
        [(200, "/CN=edge.portcullis.test|origin.test")] * 2, rs


def test_without_the_edge_certificate_the_origin_refuses(proxy, backends, tmp_path, pki, opki):
    """nginx answers 400 over the TLS connection (passed on, not a 200);
    HAProxy refuses the handshake: 502, the origin's alert counted."""
    nginx_origin(backends, tmp_path, opki)
    pc = proxy(origin_backend(opki, NGINX_PORT, cert=False))
    r = gets(pki)[0]
    assert r["status"] in (400, 502) and EDGE_DN not in r["body"], r
    check_stopped(pc)  # one portcullis at a time on the lab's port
    haproxy_origin(backends, tmp_path, opki)
    pc = proxy(origin_backend(opki, HAPROXY_PORT, cert=False))
    r = gets(pki)[0]
    assert r["status"] == 502, r
    # TLS 1.3: portcullis's handshake ends before HAProxy checks the
    # certificate; its refusal comes on the first read (a broken response).
    c = pc.wait_counters(lambda c: counter(c, "origin_alert") >= 1)
    assert counter(c, "origin_alert") >= 1 and counter(c, "http_502") >= 1, c


@pytest.mark.parametrize("ca, verify_name", [("other-ca.crt", None),
                                               ("origin-ca.crt", "wrong.test")])
def test_origin_certificate_verified(proxy, backends, tmp_path, pki, opki, ca, verify_name):
    """A wrong CA or a wrong name for the origin: portcullis refuses it,
    the client gets 502, the failure is counted, nothing reaches nginx's
    location (no 200 with the edge's name)."""
    nginx_origin(backends, tmp_path, opki)
    pc = proxy(origin_backend(opki, NGINX_PORT, ca=ca, verify_name=verify_name))
    r = gets(pki)[0]
    assert r["status"] == 502 and EDGE_DN not in r["body"], r
    why = "origin_cert_refused" if verify_name is None else "origin_name_mismatch"
    c = pc.wait_counters(lambda c: counter(c, why) >= 1)
    assert counter(c, why) >= 1 and counter(c, "tls_failed") >= 1, c
    assert counter(c, "http_502") >= 1, c
