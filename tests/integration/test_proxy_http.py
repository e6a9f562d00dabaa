# SPDX-License-Identifier: MIT
"""HTTP mode (the default `backend NAME mode http`): requests forwarded to
python's http.server (proxy_servers.py `http`, which answers with the
request it received) and nginx in the backend namespace. The identity
headers with their exact values, computed here from the client's
certificate; forged identity headers never reaching the backend; kept-alive
backend connections; 1 MiB+ bodies both ways (Content-Length and chunked);
502 for a backend that answers garbage or nothing (its idle timeout), 503
with no healthy server; 1,000
concurrent proxied connections; and the SNI/Host cases answered 421
without reaching the backend."""
import base64
import hashlib
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from proxy_lab import (BACKEND_ADDR, GOOD_ID, client_args, counter, host_lines, nginx_main,
                       run_client, wait_for)

from proxy_servers import pattern

SNI = "web.tenant-a.test"
IDENTITY_HEADERS = ["X-SSL-Client-Verify", "X-SSL-Client-S-DN", "X-SSL-Client-SAN",
                    "X-SSL-Client-Serial", "X-SSL-Client-Fingerprint", "X-Client-Identity",
                    "Client-Cert", "Client-Cert-Chain", "X-Forwarded-For", "X-Forwarded-Proto"]


def web(port, name="web", extra=()):
    return "".join(f"backend {name} {x}\n" for x in (f"server {BACKEND_ADDR}:{port}", *extra))


# Requests on one connection: A["requests"] is [[method, path, headers,
# body (latin-1 text or null), chunked]]; prints each response.
REQUESTS = r'''
def main():
    s = connect(A.get("sni"), cert="cert" in A)
    r = Reader(s)
    out = []
    for method, path, headers, body, chunked in A["requests"]:
        if A.get("body_bytes"):
            body = os.urandom(A["body_bytes"])
        else:
            body = (body or "").encode("latin-1")
        headers = [tuple(h) for h in headers]
        if chunked:
            request(s, method, path, A["host"], headers + [("Transfer-Encoding", "chunked")])
            for i in range(0, len(body), 100000):
                part = body[i:i + 100000]
                s.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            s.sendall(b"0\r\n\r\n")
        else:
            request(s, method, path, A["host"], headers, body)
        status, rh, rb = r.response(head=method == "HEAD")
        item = {"status": status, "headers": rh, "sent_sha256": hashlib.sha256(body).hexdigest(),
                "sent_len": len(body), "len": len(rb), "sha256": hashlib.sha256(rb).hexdigest()}
        try:
            item["json"] = json.loads(rb)
        except ValueError:
            item["text"] = rb[:200].decode("latin-1")
        out.append(item)
    return {"responses": out}
done(outcome(main))
'''


def requests(pki, reqs, sni=SNI, host=None, cert="good", **kw):
    """reqs: [(method, path, headers, body, chunked)] on one connection."""
    r = run_client(REQUESTS, client_args(pki, cert=cert, sni=sni, host=host or sni,
                                         requests=[list(x) for x in reqs], **kw), timeout=180)
    assert "responses" in r, r
    return r["responses"]


def get(pki, path="/", headers=(), **kw):
    return requests(pki, [("GET", path, list(headers), None, False)], **kw)[0]


def received(resp):
    """The headers the backend received: {lowercase name: [values]}."""
    out = {}
    for k, v in resp["json"]["headers"]:
        out.setdefault(k.lower(), []).append(v)
    return out


def rfc9440(der):
    return ":" + base64.b64encode(der).decode() + ":"


def expected_identity(pki, cert="good"):
    """The identity headers' values for the client certificate `cert` of
    pki_cases.py, computed from its files."""
    leaf = x509.load_pem_x509_certificate((pki / f"{cert}.crt").read_bytes())
    der = leaf.public_bytes(serialization.Encoding.DER)
    chain_pem = (pki / f"{cert}.chain.pem").read_text()
    chain = [ssl.PEM_cert_to_DER_cert("-----BEGIN CERTIFICATE-----" + x)
             for x in chain_pem.split("-----BEGIN CERTIFICATE-----")[1:]]
    assert chain[0] == der
    return {
        "x-ssl-client-verify": "SUCCESS",
        "x-ssl-client-serial": format(leaf.serial_number, "x"),
        "x-ssl-client-fingerprint": hashlib.sha256(der).hexdigest(),
        "x-client-identity": GOOD_ID,
        "client-cert": rfc9440(der),
        # RFC 9440: the chain the client sent after its leaf.
        "client-cert-chain": ", ".join(rfc9440(c) for c in chain[1:]),
        "x-forwarded-for": "198.18.0.2",
        "x-forwarded-proto": "https",
    }, leaf


def subject_forms(leaf):
    """The subject's two usual one-line forms: OpenSSL's oneline
    ("/O=.../CN=...", HAProxy's ssl_c_s_dn, portcullis's access log) and
    RFC 4514 (nginx's $ssl_client_s_dn)."""
    oneline = "".join(f"/{a.rfc4514_attribute_name}={a.value}" for a in leaf.subject)
    return {oneline, leaf.subject.rfc4514_string()}


def check_identity(pki, h, cert="good"):
    want, leaf = expected_identity(pki, cert)
    for name, value in want.items():
        got = h.get(name)
        if name in ("x-ssl-client-serial", "x-ssl-client-fingerprint"):
            # Hex: either case; a serial without leading zero bytes.
            got = [g.lower().lstrip("0") for g in got or []]
            value = value.lower().lstrip("0")
        assert got == [value], (name, got, value)
    assert len(h.get("x-ssl-client-s-dn", [])) == 1, h
    assert h["x-ssl-client-s-dn"][0] in subject_forms(leaf), h["x-ssl-client-s-dn"]
    san = h.get("x-ssl-client-san", [])
    assert len(san) == 1 and GOOD_ID in san[0] and "web.tenant-a.test" in san[0], san


def test_identity_headers(proxy, backends, pki):
    b = backends("http", 9301)
    proxy(web(9301) + host_lines(SNI, "web"))
    r = get(pki, "/id?x=1")
    assert r["status"] == 200, r
    assert r["json"]["path"] == "/id?x=1" and r["json"]["method"] == "GET", r
    h = received(r)
    check_identity(pki, h)
    assert h["host"] == [SNI], h
    assert b.accepts() == 1 and b.events("request") == ["request 1 GET /id?x=1"]


# Forged identity headers in several spellings, with values the backend
# must never see.
FORGED = [(name, f"forged-{i}") for i, name in enumerate(
    IDENTITY_HEADERS + [n.upper() for n in IDENTITY_HEADERS]
    + [n.lower() for n in IDENTITY_HEADERS]
    + ["x-SSL-client-VERIFY", "X-Ssl-Client-S-Dn", "CLIENT-cert", "x-forwarded-FOR"])]


def assert_no_forgery(h):
    for name, values in h.items():
        assert not any(v.startswith("forged-") for v in values), (name, values)


def test_forged_headers_never_reach_the_backend(proxy, backends, pki):
    backends("http", 9302)
    pc = proxy(web(9302) + host_lines(SNI, "web")
               + host_lines("opt.tenant-a.test", "web", verify="optional"))
    # A verified client: its true identity only, once.
    r = get(pki, headers=FORGED)
    assert r["status"] == 200, r
    h = received(r)
    assert_no_forgery(h)
    check_identity(pki, h)
    assert counter(pc.counters(), "forged") >= len(FORGED), "forged headers not counted"
    # No certificate on a host where that is allowed: NONE, nothing else
    # of the identity, whatever the client claims.
    r = get(pki, headers=FORGED + [("X-Forwarded-For", "forged-again")], sni="opt.tenant-a.test",
            cert=None)
    assert r["status"] == 200, r
    h = received(r)
    assert_no_forgery(h)
    assert h["x-ssl-client-verify"] == ["NONE"], h
    for name in ("x-ssl-client-s-dn", "x-ssl-client-serial", "x-ssl-client-fingerprint",
                 "x-client-identity", "client-cert", "client-cert-chain"):
        assert name not in h, (name, h)
    assert h["x-forwarded-for"] == ["198.18.0.2"], h


def test_header_names_configurable(proxy, backends, pki):
    backends("http", 9303)
    proxy(web(9303, extra=["header client-verify X-Verified", "header forwarded-for off"])
          + host_lines(SNI, "web"))
    r = get(pki, headers=[("X-Verified", "forged-1"), ("x-verified", "forged-2")])
    h = received(r)
    assert_no_forgery(h)
    assert h["x-verified"] == ["SUCCESS"] and "x-ssl-client-verify" not in h, h
    assert "x-forwarded-for" not in h, h
    assert h["x-client-identity"] == [GOOD_ID], h


def test_failed_verification_header(proxy, backends, pki):
    """verify optional_no_ca: a certificate that fails is forwarded as
    FAILED:<reason> (the access log's reason word), and no identity."""
    backends("http", 9304)
    proxy(web(9304) + host_lines("noca.tenant-a.test", "web", verify="optional_no_ca"))
    r = get(pki, sni="noca.tenant-a.test", cert="unknown-ca", headers=FORGED)
    assert r["status"] == 200, r
    h = received(r)
    assert_no_forgery(h)
    assert h["x-ssl-client-verify"] == ["FAILED:unknown-ca"], h
    assert "x-client-identity" not in h, h


def test_keepalive_reuse(proxy, backends, pki):
    """20 requests on 4 client connections: the backend sees at most one
    connection per client connection, and the pool reuses them."""
    b = backends("http", 9305)
    pc = proxy(web(9305) + host_lines(SNI, "web"))
    for _ in range(4):
        rs = requests(pki, [("GET", f"/r{i}", [], None, False) for i in range(5)])
        assert [r["status"] for r in rs] == [200] * 5, rs
    assert len(b.events("request")) == 20
    assert 1 <= b.accepts() <= 4, b.events("accept")
    # Client connections 2 to 4 find the backend connection in the pool.
    c = pc.counters()
    assert counter(c, "reused") >= 4 - b.accepts(), c


def test_large_bodies_both_ways(proxy, backends, pki):
    """3 MiB down, 2 MiB up, hashed. The download leaves in records that
    gather what a receive burst brought from the server (pc_l7_kick waits
    for the burst's end), not one record per server segment (1,448 bytes
    or less): on average more than 2 KiB of the body each. About 10 KiB
    is measured here; how much a burst brings depends on timing, so the
    bound keeps a wide margin (TCP's forward gathers a burst the same way,
    checked segment by segment in test_tcp.c's
    test_forward_gathers_a_burst)."""
    backends("http", 9306)
    pc = proxy(web(9306) + host_lines(SNI, "web"))
    n = 3 << 20
    before = pc.counters()
    r = get(pki, f"/bytes/{n}")
    after = pc.counters()
    assert r["status"] == 200 and r["len"] == n, {k: r[k] for k in ("status", "len")}
    assert r["sha256"] == hashlib.sha256(pattern(n)).hexdigest()
    records = sum(after[k] - before[k] for k in ("tls_sealed_in_place", "tls_sends_copied"))
    assert records <= n // 2048, (records, n)
    for chunked in (False, True):
        rs = requests(pki, [("POST", "/upload", [], None, chunked)], body_bytes=2 << 20)
        r = rs[0]
        assert r["status"] == 200, r
        assert (r["json"]["body_len"], r["json"]["body_sha256"]) == \
            (r["sent_len"], r["sent_sha256"]), (chunked, r["json"])


def test_garbage_response_is_502(proxy, backends, pki):
    b = backends("garbage", 9307)
    pc = proxy(web(9307) + host_lines(SNI, "web"))
    before = counter(pc.counters(), "http_502_garbage")
    r = get(pki)
    assert r["status"] == 502, r
    assert b.accepts() >= 1
    c = pc.counters()
    assert counter(c, "http_502_garbage") == before + 1, c


def test_silent_server_is_502_after_idle_timeout(proxy, backends, pki):
    """A server that takes a request and never answers: its connection's
    idle timeout (`timeouts CONNECT IDLE`) ends the request with a 502,
    counted once as a timeout. The client's connection has no idle
    deadline of its own while the request is in flight (both would expire
    together), so it is still there to get the 502."""
    backends("sink", 9308)
    pc = proxy(web(9308, extra=["timeouts 2000 600"]) + host_lines(SNI, "web"))
    r = get(pki)
    assert r["status"] == 502, r
    c = pc.counters()
    assert c["http_proxy_bad_gateway_timeout"] == 1 and counter(c, "timeout") == 1, c
    assert c["tcp_conns_timed_out"] == 0, c


def test_no_healthy_server_is_503(proxy, pki):
    """Nothing listens: once the health check has marked the server down,
    requests get 503 (the first, before any check, may get 502)."""
    pc = proxy(web(9308, extra=["health tcp interval 200"]) + host_lines(SNI, "web"))
    seen = []

    def answered_503():
        r = run_client(REQUESTS, client_args(pki, sni=SNI, host=SNI,
                                             requests=[["GET", "/", [], None, False]]))
        seen.append(r["responses"][0]["status"] if "responses" in r else r)
        return seen[-1] == 503
    wait_for(answered_503, f"no 503: {seen}", timeout=60, step=0.2)
    assert all(x in (502, 503) for x in seen), seen
    assert counter(pc.counters(), "http_503") >= 1


# 1,000 connections open at once: all handshakes first (at most 100 in
# progress), then one request on each while all are open, then all closed.
CONCURRENT = r'''
import asyncio, resource
resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))
async def main():
    ctx = context()
    sem = asyncio.Semaphore(100)
    async def open_one():
        async with sem:
            return await asyncio.wait_for(asyncio.open_connection(
                A.get("addr", "198.18.0.1"), 443, ssl=ctx, server_hostname=A["sni"]), 60)
    conns = await asyncio.gather(*[open_one() for _ in range(A["n"])], return_exceptions=True)
    good = [c for c in conns if not isinstance(c, BaseException)]
    errors = [repr(c) for c in conns if isinstance(c, BaseException)][:5]
    async def ask(rw):
        r, w = rw
        w.write(f"GET /c HTTP/1.1\r\nHost: {A['sni']}\r\n\r\n".encode())
        head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 120)
        n = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0]
                .split(b":")[1])
        await asyncio.wait_for(r.readexactly(n), 60)
        return int(head.split()[1])
    statuses = await asyncio.gather(*[ask(c) for c in good], return_exceptions=True)
    for _, w in good:
        w.close()
    return {"open": len(good), "errors": errors,
            "ok": sum(1 for s in statuses if s == 200),
            "other": [repr(s) for s in statuses if s != 200][:5]}
done(asyncio.run(main()))
'''


def test_1000_concurrent_connections(proxy, backends, tmp_path, pki):
    backends.nginx(nginx_main(tmp_path, f"""
	access_log off;
	keepalive_requests 100000;
	server {{
		listen {BACKEND_ADDR}:9309 backlog=4096;
		location / {{ return 200 "ok\\n"; }}
	}}"""), 9309)
    pc = proxy("tcp max-connections 4096\ntls memory 256\n" + web(9309) + host_lines(SNI, "web"))
    r = run_client(CONCURRENT, client_args(pki, sni=SNI, n=1000), timeout=600)
    assert r["open"] == 1000 and r["ok"] == 1000, r
    c = pc.wait_counters(lambda c: c["tls_connections_active"] == 0, timeout=60)
    assert c["tls_connections_active"] == 0, c


def test_nginx_backend(proxy, backends, tmp_path, pki):
    """nginx as the backend: the identity arrives, and its kept-alive
    connection serves several requests ($connection_requests)."""
    backends.nginx(nginx_main(tmp_path, f"""
	access_log off;
	keepalive_requests 100000;
	server {{
		listen {BACKEND_ADDR}:9310;
		location / {{
			return 200 "$http_x_ssl_client_verify|$http_x_client_identity|$http_x_forwarded_for|$remote_addr|$connection|$connection_requests";
		}}
	}}"""), 9310)
    proxy(web(9310) + host_lines(SNI, "web"))
    rs = requests(pki, [("GET", "/", [("X-Client-Identity", "forged-1")], None, False)] * 5)
    parts = [r["text"].split("|") for r in rs]
    assert all(p[:4] == ["SUCCESS", GOOD_ID, "198.18.0.2", "198.18.0.1"] for p in parts), parts
    assert len({p[4] for p in parts}) == 1 and parts[-1][5] == "5", parts


def test_proxy_v2_in_http_mode(proxy, backends, tmp_path, pki):
    """send-proxy-v2 in HTTP mode: nginx (`listen ... proxy_protocol`)
    reads the client's address from the header; each client connection has
    its own server connection, kept for its requests, never shared."""
    backends.nginx(nginx_main(tmp_path, f"""
	access_log off;
	keepalive_requests 100000;
	server {{
		listen {BACKEND_ADDR}:9312 proxy_protocol;
		location / {{ return 200 "$proxy_protocol_addr|$remote_addr|$connection"; }}
	}}"""), 9312)
    proxy(web(9312, extra=["send-proxy-v2"]) + host_lines(SNI, "web"))
    conns = []
    for _ in range(2):
        rs = requests(pki, [("GET", "/", [], None, False)] * 3)
        assert [r["status"] for r in rs] == [200] * 3, rs
        parts = [r["text"].split("|") for r in rs]
        assert all(p[:2] == ["198.18.0.2", "198.18.0.1"] for p in parts), parts
        assert len({p[2] for p in parts}) == 1, parts
        conns.append(parts[0][2])
    assert conns[0] != conns[1], conns


# --- SNI and Host ---------------------------------------------------------------
STATUS_ONLY = r'''
def main():
    s = connect(A.get("sni"), cert="cert" in A)
    request(s, "GET", "/", A["host"])
    status, headers, body = Reader(s).response()
    return {"status": status}
done(outcome(main))
'''


def status(pki, sni, host, cert="good"):
    return run_client(STATUS_ONLY, client_args(pki, cert=cert, sni=sni, host=host)).get("status")


def test_sni_host_mismatch_is_421(proxy, backends, pki):
    """A request whose Host names another configured host than the SNI's
    gets 421 when either verifies clients, and never reaches a backend;
    no SNI (the default host) counts as a mismatch too."""
    b = backends("http", 9311)
    pc = proxy(web(9311) + host_lines(SNI, "web")
               + host_lines("open.tenant-a.test", "web", verify=None)
               + "host default backend web\n")
    cases = [(None, SNI), (None, SNI.upper()), ("open.tenant-a.test", SNI),
             ("open.tenant-a.test", f"{SNI}:443"), ("open.tenant-a.test", SNI.upper()),
             (SNI, "open.tenant-a.test")]
    for sni, host in cases:
        assert status(pki, sni, host) == 421, (sni, host)
    # Without a client certificate too (open.* does not ask for one).
    assert status(pki, "open.tenant-a.test", SNI, cert=None) == 421
    assert b.accepts() == 0 and not b.events("request")
    assert counter(pc.counters(), "http_421") == len(cases) + 1
    # The matching cases go through.
    assert status(pki, SNI, SNI) == 200
    assert status(pki, "open.tenant-a.test", "open.tenant-a.test", cert=None) == 200
    assert len(b.events("request")) == 2

