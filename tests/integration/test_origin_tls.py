# SPDX-License-Identifier: MIT
"""TLS to the origin (`backend NAME tls ...`, crypto/tls_client.c), end to
end: curl in the client namespace -> portcullis -> nginx in the backend
namespace with `ssl_verify_client on` (authenticated origin pull), in TCP
mode (the bytes of the client's HTTP request and nginx's answer go
through both TLS connections) and in HTTP mode (the origin connection
kept alive and reused by the next client). The origin accepts portcullis's client
certificate (its answer echoes the subject it verified and the SNI) and
refuses a backend without one (nginx completes the handshake and answers
400); the origin's certificate is verified against the backend's CA and
its SAN against the name (a DNS name, or the address as an IP SAN): a
wrong CA or a wrong name is refused (the client gets an alert, nothing
of nginx) and counted by reason; a backend without `ca` is not verified,
and counted as such.

PKI made with openssl in the module's directory: the origin's CA and
server certificate (SAN origin.test and 198.18.0.3), another CA, the
edge's CA and client certificate (what nginx trusts), and portcullis's
own server certificate from scripts/pki_cases.py."""
import hashlib
import os
import subprocess
import time

import pytest

from conftest import ADDR, NS_BACKEND, NS_CLIENT, Portcullis, in_ns, running
from test_cli import ok

ORIGIN = "198.18.0.3"
ORIGIN_PORT = 8443
STRICT_PORT = 8444
BIG = 4 << 20

CONFIG = """
ip address 198.18.0.1/24
worker idle backoff 50 500 50
tls listen 443 http
control socket {d}/pc.sock
host default cert {p}/server.chain.pem {p}/server.key
backend pull server {origin}:{port}
backend pull mode tcp
backend pull tls ca {o}/origin-ca.crt cert {o}/edge.crt {o}/edge.key sni origin.test
backend nocert server {origin}:{port}
backend nocert mode tcp
backend nocert tls ca {o}/origin-ca.crt sni origin.test
backend wrongca server {origin}:{port}
backend wrongca mode tcp
backend wrongca tls ca {o}/other-ca.crt cert {o}/edge.crt {o}/edge.key sni origin.test
backend wrongname server {origin}:{port}
backend wrongname mode tcp
backend wrongname tls ca {o}/origin-ca.crt cert {o}/edge.crt {o}/edge.key sni origin.test verify-name other.test
backend byip server {origin}:{port}
backend byip mode tcp
backend byip tls ca {o}/origin-ca.crt cert {o}/edge.crt {o}/edge.key verify-name {origin}
backend noverify server {origin}:{port}
backend noverify mode tcp
backend noverify tls cert {o}/edge.crt {o}/edge.key sni origin.test
backend pullhttp server {origin}:{port}
backend pullhttp tls ca {o}/origin-ca.crt cert {o}/edge.crt {o}/edge.key sni origin.test
backend pullhttp timeouts 5000 10000
host pullhttp.tenant-a.test backend pullhttp
backend strict server {origin}:{strict}
backend strict mode tcp
backend strict tls ca {o}/origin-ca.crt sni origin.test
host pull.tenant-a.test backend pull
host strict.tenant-a.test backend strict
host nocert.tenant-a.test backend nocert
host wrongca.tenant-a.test backend wrongca
host wrongname.tenant-a.test backend wrongname
host byip.tenant-a.test backend byip
host noverify.tenant-a.test backend noverify
"""

PKI_SCRIPT = r"""
set -e
key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1"; }
printf '%s\n' 'basicConstraints=critical,CA:TRUE' 'keyUsage=critical,keyCertSign,cRLSign' > ca.ext
printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature' \
  'extendedKeyUsage=serverAuth' 'subjectAltName=DNS:origin.test,IP:198.18.0.3' > server.ext
printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature' \
  'extendedKeyUsage=clientAuth' 'subjectAltName=DNS:edge.origin.test' > client.ext
for c in origin-ca other-ca edge-ca; do
  key $c.key
  openssl req -new -key $c.key -subj /CN=$c -out $c.csr
  openssl x509 -req -in $c.csr -signkey $c.key -days 30 -sha256 -extfile ca.ext -out $c.crt 2>/dev/null
done
sign() {
  key $1.key
  openssl req -new -key $1.key -subj /CN=$2 -out $1.csr
  openssl x509 -req -in $1.csr -CA $3.crt -CAkey $3.key -set_serial 0x$(openssl rand -hex 8) \
    -days 30 -sha256 -extfile $4 -out $1.crt 2>/dev/null
}
sign origin origin.test origin-ca server.ext
sign edge edge.origin.test edge-ca client.ext
"""

NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
user root;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log info;
events {{ worker_connections 256; }}
http {{
	access_log {d}/nginx-access.log;
	client_body_temp_path {d}/body;
	proxy_temp_path {d}/proxy;
	fastcgi_temp_path {d}/fastcgi;
	uwsgi_temp_path {d}/uwsgi;
	scgi_temp_path {d}/scgi;
	keepalive_timeout 60s;
	keepalive_requests 1000;
	server {{
		listen {origin}:{port} ssl;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_certificate {d}/origin.crt;
		ssl_certificate_key {d}/origin.key;
		ssl_client_certificate {d}/edge-ca.crt;
		ssl_verify_client on;
		location / {{
			default_type text/plain;
			return 200 "verify=$ssl_client_verify dn=$ssl_client_s_dn sni=$ssl_server_name conn=$connection\\n";
		}}
		location /big {{
			root {d}/www;
		}}
	}}
}}
"""


@pytest.fixture(scope="module")
def origin(netlab, tmp_path_factory):
    """nginx as the origin, in the backend namespace; stopped by PID."""
    d = tmp_path_factory.mktemp("origin")
    subprocess.run(["bash", "-c", PKI_SCRIPT], cwd=d, check=True, capture_output=True)
    (d / "www").mkdir()
    (d / "www" / "big").write_bytes(os.urandom(BIG))
    conf = d / "nginx.conf"
    conf.write_text(NGINX_CONF.format(d=d, origin=ORIGIN, port=ORIGIN_PORT))
    log = open(d / "nginx.out", "w")
    proc = subprocess.Popen(["ip", "netns", "exec", NS_BACKEND, "nginx", "-c", str(conf),
                             "-e", str(d / "nginx-error.log")],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            r = in_ns(NS_BACKEND, ["ss", "-ltn", f"sport = :{ORIGIN_PORT}"])
            if f"{ORIGIN}:{ORIGIN_PORT}" in r.stdout:
                break
            assert proc.poll() is None, (d / "nginx-error.log").read_text()
            time.sleep(0.05)
        else:
            raise RuntimeError("nginx did not listen: " + (d / "nginx-error.log").read_text())
        yield d
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# A TLS 1.3 origin that requires a client certificate and refuses the
# connection without one (Python's ssl: an alert after the client's side
# of the handshake, unlike nginx, which answers 400).
STRICT_SERVER = """
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.load_cert_chain(sys.argv[1] + "/origin.crt", sys.argv[1] + "/origin.key")
ctx.load_verify_locations(sys.argv[1] + "/edge-ca.crt")
ctx.verify_mode = ssl.CERT_REQUIRED
srv = socket.create_server((sys.argv[2], int(sys.argv[3])))
print("listening", flush=True)
while True:
    conn, _ = srv.accept()
    try:
        with ctx.wrap_socket(conn, server_side=True) as s:
            s.sendall(b"never\\n")
    except (ssl.SSLError, OSError):
        pass
"""


@pytest.fixture(scope="module")
def strict(origin):
    proc = subprocess.Popen(["ip", "netns", "exec", NS_BACKEND, "/usr/bin/python3", "-c",
                             STRICT_SERVER, str(origin), ORIGIN, str(STRICT_PORT)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            stdin=subprocess.DEVNULL)
    try:
        assert proc.stdout.readline().strip() == "listening"
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def pc(origin, strict, pki, tmp_path_factory):
    d = tmp_path_factory.mktemp("origin-tls")
    p = Portcullis(d, "af_xdp", CONFIG.format(p=pki, o=origin, d=d, origin=ORIGIN,
                                              port=ORIGIN_PORT, strict=STRICT_PORT))
    p.sock = str(d / "pc.sock")
    yield from running(p)


def get(pki, host):
    """GET https://host/ through portcullis: (curl's exit code, HTTP status,
    body)."""
    r = in_ns(NS_CLIENT, ["curl", "-s", "--max-time", "10", "--cacert",
                          str(pki / "server-ca.crt"), "--resolve", f"{host}:443:{ADDR}",
                          "-w", "\n%{http_code}", f"https://{host}/"], timeout=30)
    body, _, code = r.stdout.rpartition("\n")
    return r.returncode, int(code or 0), body


def delta(before, after, name):
    return after.get(name, 0) - before.get(name, 0)


def test_origin_pull(pc, pki):
    """nginx verifies portcullis's client certificate; portcullis verified
    nginx's: the answer says whom nginx saw, and the SNI sent."""
    before = pc.counters()
    rc, code, body = get(pki, "pull.tenant-a.test")
    assert (rc, code) == (0, 200), body
    assert body.startswith("verify=SUCCESS dn=CN=edge.origin.test sni=origin.test "), body
    after = pc.wait_counters(lambda c: delta(before, c, "tls_origin_verified") >= 1)
    assert delta(before, after, "tls_origin_verified") == 1
    assert delta(before, after, "tls_origin_verify_ok") == 1


def test_http_mode_reuses_the_origin_connection(pc, pki):
    """HTTP mode: two clients one after the other, one origin connection
    and one handshake with it (kept alive in the worker's pool)."""
    before = pc.counters()
    first, second = get(pki, "pullhttp.tenant-a.test"), get(pki, "pullhttp.tenant-a.test")
    for rc, code, body in (first, second):
        assert (rc, code) == (0, 200), body
        assert body.startswith("verify=SUCCESS dn=CN=edge.origin.test sni=origin.test "), body
    assert first[2].split("conn=")[1] == second[2].split("conn=")[1], (first, second)
    after = pc.counters()
    assert delta(before, after, "tls_origin_verified") == 1
    assert delta(before, after, "l7_up_pool_hits") == 1


def test_origin_by_address(pc, pki):
    """No SNI (an address is never one), the address as an IP SAN."""
    rc, code, body = get(pki, "byip.tenant-a.test")
    assert (rc, code) == (0, 200), body
    assert body.startswith("verify=SUCCESS dn=CN=edge.origin.test sni= "), body


def test_origin_requires_client_cert(pc, pki):
    """Without `cert` nginx refuses the request (400: no required SSL
    certificate); the origin itself was verified."""
    before = pc.counters()
    rc, code, body = get(pki, "nocert.tenant-a.test")
    assert (rc, code) == (0, 400), body
    after = pc.wait_counters(lambda c: delta(before, c, "tls_origin_verified") >= 1)
    assert delta(before, after, "tls_origin_verified") == 1


def test_large_download(pc, pki, origin):
    """4 MiB through both TLS connections, with back-pressure both ways."""
    r = in_ns(NS_CLIENT, ["bash", "-c",
                          f"curl -s --max-time 60 --cacert {pki}/server-ca.crt "
                          f"--resolve pull.tenant-a.test:443:{ADDR} "
                          "https://pull.tenant-a.test/big | sha256sum"], timeout=90)
    want = hashlib.sha256((origin / "www" / "big").read_bytes()).hexdigest()
    assert r.stdout.split()[0] == want, r.stdout + r.stderr


def test_origin_refuses_after_handshake(pc, pki):
    """A TLS 1.3 origin refuses a backend without a client certificate by
    an alert after the client's side of the handshake: read as the
    alert it is, the connection to the client ends, counted."""
    before = pc.counters()
    rc, code, body = get(pki, "strict.tenant-a.test")
    assert rc != 0 and code == 0 and "never" not in body, (rc, code, body)
    after = pc.wait_counters(lambda c: delta(before, c, "l7_up_tls_failed") >= 1)
    assert delta(before, after, "tls_origin_alert_received") == 1
    assert delta(before, after, "l7_up_tls_failed") == 1


@pytest.mark.parametrize("host,counter,reason", [
    ("wrongca.tenant-a.test", "tls_origin_cert_refused", "tls_origin_verify_unknown_ca"),
    ("wrongname.tenant-a.test", "tls_origin_name_mismatch", None),
])
def test_origin_refused(pc, pki, host, counter, reason):
    """An origin whose certificate is not of the backend's CA, or not for
    its name: nothing of it reaches the client (an alert ends its
    connection), counted by reason."""
    before = pc.counters()
    rc, code, body = get(pki, host)
    assert rc != 0 and code == 0 and "verify=" not in body, (rc, code, body)
    after = pc.wait_counters(lambda c: delta(before, c, counter) >= 1)
    assert delta(before, after, counter) == 1
    if reason is not None:
        assert delta(before, after, reason) == 1
    assert delta(before, after, "tls_origin_verified") == 0
    assert delta(before, after, "l7_up_tls_failed") == 1


def test_origin_unverified(pc, pki):
    """Without `ca` the origin is not verified, and counted so."""
    before = pc.counters()
    rc, code, body = get(pki, "noverify.tenant-a.test")
    assert (rc, code) == (0, 200), body
    after = pc.wait_counters(lambda c: delta(before, c, "tls_origin_unverified") >= 1)
    assert delta(before, after, "tls_origin_unverified") == 1
    assert delta(before, after, "tls_origin_verified") == 0


def test_metrics(pc):
    """The outcomes are in the Prometheus text too."""
    text = ok(pc, "show", "stats", "prometheus")
    for line in ('portcullis_tls_origin_outcomes_total{outcome="verified"} ',
                 'portcullis_tls_origin_outcomes_total{outcome="name_mismatch"} ',
                 'portcullis_tls_origin_verifications_total{reason="unknown-ca"} ',
                 'portcullis_tls_origin_connections_open '):
        assert line in text, line
    assert 'portcullis_tls_origin_outcomes_total{outcome="verified"} 0\n' not in text


def test_no_client_left(pc):
    """Every TLS client to the origins was freed once its connection
    ended, the idle pooled one after its backend's idle timeout (the
    module's last test)."""
    c = pc.wait_counters(lambda c: c["tls_origin_connections_active"] == 0, timeout=60)
    assert c["tls_origin_connections_active"] == 0
