# SPDX-License-Identifier: MIT
"""The metrics: `pcctl show stats prometheus` and the `metrics listen`
HTTP endpoint (a kernel socket in the dataplane's namespace), checked by
promtool and python's prometheus_client parser, counters that move with
real handshakes (python's ssl in the client namespace), a scrape during a
handshake load, hostile clients of the endpoint (silent, huge header,
garbage, a flood of connections) beside pcctl and a normal scrape, and
per-host series for hosts marked `metrics on` only. One portcullis for
the module, PKI from scripts/pki_cases.py."""
import json
import subprocess
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import NS_CLIENT, NS_DP, Portcullis, running
from test_cli import GOOD_ID, LOOP, refused
from test_cli import ok as pcctl
from test_tls import client

PORT = 9101
URL = f"http://127.0.0.1:{PORT}/metrics"

CONFIG = """
ip address 198.18.0.1/24
worker idle backoff 50 500 50
tls listen 443 http
tls versions 1.2 1.3
control socket {d}/pc.sock
access-log {d}/access.log
metrics listen 127.0.0.1:{port}
cert edge {p}/server.chain.pem {p}/server.key
ca-set tenant-a file {p}/a-bundle.pem
host default cert-ref edge
host mtls.tenant-a.test verify required
host mtls.tenant-a.test ca-set tenant-a
host quiet.tenant-a.test verify required
host quiet.tenant-a.test ca-set tenant-a
"""


@pytest.fixture(scope="module")
def pc(netlab, pki, tmp_path_factory):
    d = tmp_path_factory.mktemp("metrics")
    p = Portcullis(d, "af_xdp", CONFIG.format(p=pki, d=d, port=PORT))
    p.sock = str(d / "pc.sock")
    p.dir = d
    yield from running(p)


def scrape(timeout=20):
    """GET /metrics from inside the dataplane's namespace: (status, headers, body)."""
    r = subprocess.run(["ip", "netns", "exec", NS_DP, "curl", "-sS", "-m", str(timeout),
                        "-D", "-", URL], capture_output=True, timeout=timeout + 10)
    assert r.returncode == 0, r.stderr
    head, body = r.stdout.decode().split("\r\n\r\n", 1)
    lines = head.split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (h.split(":", 1) for h in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def raw(request, timeout=10):
    """request bytes sent on a new connection from the dataplane's
    namespace; what came back (until the server closed)."""
    code = ("import socket, sys\n"
            f"s = socket.create_connection(('127.0.0.1', {PORT}), timeout={timeout})\n"
            "s.sendall(sys.stdin.buffer.read())\n"
            "out = b''\n"
            "while True:\n"
            "    b = s.recv(65536)\n"
            "    if not b: break\n"
            "    out += b\n"
            "sys.stdout.buffer.write(out)\n")
    r = subprocess.run(["ip", "netns", "exec", NS_DP, "/usr/bin/python3", "-c", code],
                       input=request, capture_output=True, timeout=timeout + 10)
    assert r.returncode == 0, r.stderr
    return r.stdout


def samples(text):
    """{(name, frozenset(labels)): value} of every sample, via prometheus_client."""
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(text, name, **labels):
    return samples(text).get((name, frozenset(labels.items())))


def promtool(text):
    r = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                       capture_output=True, timeout=60)
    # promtool prints lint findings and exits 1 on any; 0 is clean.
    assert r.returncode == 0, r.stdout + r.stderr


def check_families(text):
    """Every family has HELP and TYPE before its samples, each once."""
    helped, typed = set(), {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split()[2]
            assert name not in helped, f"HELP twice for {name}"
            helped.add(name)
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert name in helped and name not in typed, line
            typed[name] = kind
        else:
            name = line.split("{")[0].split(" ")[0]
            base = name
            for suffix in ("_bucket", "_sum", "_count"):
                if name.endswith(suffix) and name[:-len(suffix)] in typed:
                    base = name[:-len(suffix)]
            assert base in typed, f"sample without HELP/TYPE: {line}"
            assert name.startswith("portcullis_"), line
    return typed


def test_format_cli_and_http(pc, pki):
    """promtool and prometheus_client accept both outputs; every family
    has HELP/TYPE; the endpoint's headers are the exposition's."""
    client(pki, "mtls.tenant-a.test", "good")
    cli = pcctl(pc, "show", "stats", "prometheus")
    status, headers, body = scrape()
    assert status == 200
    assert headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert int(headers["content-length"]) == len(body.encode())
    for text in (cli, body):
        promtool(text)
        typed = check_families(text)
        fams = {f.name: f.type for f in text_string_to_metric_families(text)}
        assert fams["portcullis_tls_handshake_duration_seconds"] == "histogram"
        assert typed["portcullis_drops_total"] == "counter"
        assert typed["portcullis_tcp_connections_open"] == "gauge"
        assert value(text, "portcullis_worker_busy_seconds_total", worker="1") is not None
        assert value(text, "portcullis_drops_total", reason="ipv4_bad_checksum") is not None
        assert value(text, "portcullis_tls_client_verifications_total", reason="unknown-ca") \
            is not None
        assert value(text, "portcullis_trust_generation") >= 1
        assert value(text, "portcullis_config_reload_last_success") == 1
        assert value(text, "portcullis_certs_expired") == 0
        assert value(text, "portcullis_build_info", version=next(
            s.labels["version"] for f in text_string_to_metric_families(text)
            if f.name == "portcullis_build_info" for s in f.samples)) == 1
    gen = json.loads(pcctl(pc, "show", "info", "json"))["generation"]
    assert value(body, "portcullis_trust_generation") == gen
    # HEAD: the same headers, no body.
    out = raw(b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    head, rest = out.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 ") and rest == b""
    assert b"content-length: " in head.lower()


def test_counters_move(pc, pki):
    """Handshakes, verifications, the histogram and bytes move by what
    the clients did."""
    before = pcctl(pc, "show", "stats", "prometheus")
    n = 5
    for _ in range(n):
        r = client(pki, "mtls.tenant-a.test", "good")
        assert r["responses"][0]["status"] == 200
    r = client(pki, "mtls.tenant-a.test", "unknown-ca")
    assert r["alert"] == "TLSV1_ALERT_UNKNOWN_CA", r
    deadline = time.monotonic() + 30
    while True:
        after = pcctl(pc, "show", "stats", "prometheus")
        d = lambda name, **l: value(after, name, **l) - value(before, name, **l)  # noqa: E731
        if d("portcullis_tls_errors_total", reason="client_cert_refused") >= 1 or \
                time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert d("portcullis_tls_handshakes_total") == n
    assert d("portcullis_tls_handshake_duration_seconds_count") == n
    assert d("portcullis_tls_handshake_duration_seconds_sum") > 0
    assert d("portcullis_tls_handshake_duration_seconds_bucket", le="+Inf") == n
    assert d("portcullis_tls_client_verifications_total", reason="ok") == n
    assert d("portcullis_tls_client_verifications_total", reason="unknown-ca") == 1
    assert d("portcullis_tls_errors_total", reason="client_cert_refused") == 1
    assert d("portcullis_tcp_passive_opens_total") >= n + 1
    assert d("portcullis_rx_packets_total") > 0 and d("portcullis_rx_bytes_total") > 0
    assert d("portcullis_tx_bytes_total") > 0
    assert d("portcullis_worker_busy_seconds_total", worker="1") > 0
    # Buckets are cumulative.
    fam = next(f for f in text_string_to_metric_families(after)
               if f.name == "portcullis_tls_handshake_duration_seconds")
    counts = [s.value for s in fam.samples if s.name.endswith("_bucket")]
    assert counts == sorted(counts) and len(counts) == 14


def test_scrape_under_handshake_load(pc, pki, tmp_path):
    """Scrapes while a client handshakes continuously: every handshake
    succeeds and every scrape answers."""
    def handshakes():
        status, _, body = scrape()
        assert status == 200
        return value(body, "portcullis_tls_handshakes_total")

    stop = tmp_path / "stop"
    base = handshakes()
    loop = subprocess.Popen(
        ["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3", LOOP, "--sni",
         "mtls.tenant-a.test", "--cafile", str(pki / "server-ca.crt"), "--cert",
         str(pki / "good.chain.pem"), "--key", str(pki / "good.key"), "--identity", GOOD_ID,
         "--stop-file", str(stop)], stdout=subprocess.PIPE, text=True)
    try:
        # The load is under way (the client has finished a handshake: it
        # will count it, ok or failed, before it looks at the stop file)
        # before the scrapes that are to see it move.
        deadline = time.monotonic() + 60
        while handshakes() <= base:
            assert time.monotonic() < deadline and loop.poll() is None, \
                "the handshake loop finished no handshake"
            time.sleep(0.05)
        seen = []
        for _ in range(20):
            seen.append(handshakes())
            pcctl(pc, "show", "stats", "prometheus")
        # A scrape after the next handshake, however quick the twenty were.
        deadline = time.monotonic() + 60
        while seen[-1] <= seen[0] and time.monotonic() < deadline:
            time.sleep(0.05)
            seen.append(handshakes())
        # Many scrapers at once (fewer than the endpoint's 32 slots).
        many = [subprocess.Popen(["ip", "netns", "exec", NS_DP, "curl", "-sS", "-m", "20", "-o",
                                  "/dev/null", "-w", "%{http_code}", URL],
                                 stdout=subprocess.PIPE, text=True) for _ in range(16)]
        codes = [p.communicate(timeout=30)[0] for p in many]
        assert codes == ["200"] * 16, codes
    finally:
        stop.touch()
        out, _ = loop.communicate(timeout=60)
    res = json.loads(out)
    assert res["failed"] == 0 and res["ok"] > 0, res
    assert seen == sorted(seen) and seen[-1] > seen[0]


HOLD = """
import socket, sys, time
n, request, rcvbuf = int(sys.argv[1]), sys.argv[2].encode(), int(sys.argv[3])
ss = []
for _ in range(n):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", %d))
    if request:
        s.sendall(request)
    ss.append(s)
print("open", flush=True)
time.sleep(1)
t = time.monotonic()
ends = 0
for i, s in enumerate(ss):
    s.settimeout(max(0.1, 40 - (time.monotonic() - t)))
    try:
        while s.recv(65536):
            pass
        ends += 1
    except ConnectionResetError:
        ends += 1
    except OSError as e:  # socket.timeout among them: still open, not ended
        print(f"connection {i}: {type(e).__name__} {e}", file=sys.stderr, flush=True)
print(ends, flush=True)
""" % PORT


def hold(n, request="", rcvbuf=0):
    """n connections to the endpoint from the dataplane's namespace, each
    sending request (nothing if empty) and then reading nothing for a
    second: the process prints "open" once they are, then how many of
    them the endpoint ended (read to their end, or reset) within 40 s; one
    still open then (a timeout) is not ended."""
    p = subprocess.Popen(["ip", "netns", "exec", NS_DP, "/usr/bin/python3", "-c", HOLD, str(n),
                          request, str(rcvbuf)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "open"
    return p


def ended(p, n):
    try:
        assert p.stdout.readline().strip() == str(n)
        assert p.wait(timeout=30) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_hostile_clients(pc):
    """Silent connections, more than the endpoint's slots, a huge header,
    garbage and wrong requests: each gets its answer or is dropped, and
    meanwhile pcctl and a normal scrape answer."""
    flood = hold(100)
    try:
        assert "generation" in pcctl(pc, "show", "info")
        status, _, body = scrape()
        assert status == 200 and "portcullis_tls_handshakes_total" in body
        # Wrong requests get their status.
        assert raw(b"POST /metrics HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 405 ")
        assert raw(b"GET / HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 404 ")
        assert raw(b"GET /metrics HTTP/2.0\r\n\r\n").startswith(b"HTTP/1.1 505 ")
        assert raw(b"\x16\x03\x01\x00\xff garbage\r\n\r\n").startswith(b"HTTP/1.1 400 ")
        assert raw(b"GET /metrics HTTP/1.1\r\nbad header\r\n\r\n").startswith(b"HTTP/1.1 400 ")
        huge = b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n"
        assert raw(huge).startswith(b"HTTP/1.1 431 ")
    finally:
        # The silent ones are all dropped (pushed out, or at their deadline).
        ended(flood, 100)
    status, _, _ = scrape()
    assert status == 200


def test_reader_that_never_reads(pc):
    """Clients that send their request and then read nothing for a while
    (with a tiny receive buffer) hold no slot a scraper needs, and each
    ends; pcctl and a scrape answer meanwhile."""
    readers = hold(40, "GET /metrics HTTP/1.1\r\n\r\n", 1024)
    try:
        assert "generation" in pcctl(pc, "show", "info")
        status, _, _ = scrape()
        assert status == 200
    finally:
        ended(readers, 40)


def test_host_metrics_on(pc, pki):
    """`host NAME metrics on` adds that host's series, and only that; it
    is shown by show host and dump config, and does not change the
    host's policy digest."""
    text = pcctl(pc, "show", "stats", "prometheus")
    assert "host=" not in text and "portcullis_cert_expiry_timestamp_seconds" not in text
    digest = json.loads(pcctl(pc, "show", "host", "mtls.tenant-a.test", "json"))["policy_digest"]
    pcctl(pc, "host", "mtls.tenant-a.test", "metrics", "on")
    try:
        info = json.loads(pcctl(pc, "show", "host", "mtls.tenant-a.test", "json"))
        assert info["metrics"] is True and info["policy_digest"] == digest
        assert "metrics: on" in pcctl(pc, "show", "host", "mtls.tenant-a.test")
        dump = pcctl(pc, "dump", "config")
        assert "host mtls.tenant-a.test metrics on" in dump
        assert f"metrics listen 127.0.0.1:{PORT}" in dump
        assert "quiet.tenant-a.test metrics" not in pcctl(pc, "dump", "config")
        before = pcctl(pc, "show", "stats", "prometheus")
        client(pki, "mtls.tenant-a.test", "good")
        assert client(pki, "mtls.tenant-a.test", "unknown-ca")["alert"] == \
            "TLSV1_ALERT_UNKNOWN_CA"
        client(pki, "quiet.tenant-a.test", "good")
        client(pki, "quiet.tenant-a.test", "unknown-ca")
        mtls = "mtls.tenant-a.test"
        deadline = time.monotonic() + 30
        while True:
            after = pcctl(pc, "show", "stats", "prometheus")
            d = lambda name, **l: value(after, name, host=mtls, **l) - \
                value(before, name, host=mtls, **l)  # noqa: E731
            if d("portcullis_host_tls_errors_total", reason="client_cert_refused") >= 1 or \
                    time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert d("portcullis_host_handshakes_total") == 1
        assert d("portcullis_host_handshake_failures_total") == 1
        assert d("portcullis_host_tls_errors_total", reason="client_cert_refused") == 1
        assert d("portcullis_host_tls_errors_total", reason="not_tls") == 0
        assert d("portcullis_host_client_verifications_total", reason="ok") == 1
        assert d("portcullis_host_client_verifications_total", reason="unknown-ca") == 1
        promtool(after)
        check_families(after)
        hosts = {dict(k[1]).get("host") for k in samples(after)} - {None}
        assert hosts == {"mtls.tenant-a.test"}
        certs = {dict(k[1])["cert"] for k in samples(after)
                 if k[0] == "portcullis_cert_expiry_timestamp_seconds"}
        assert certs == {"edge"}
        assert value(after, "portcullis_host_handshake_failures_total",
                     host="mtls.tenant-a.test") is not None
        status, _, body = scrape()
        assert value(body, "portcullis_host_handshakes_total", host="mtls.tenant-a.test") \
            is not None
    finally:
        pcctl(pc, "host", "mtls.tenant-a.test", "metrics", "off")
    text = pcctl(pc, "show", "stats", "prometheus")
    assert "host=" not in text


def test_reload_and_the_endpoint(pc):
    """`metrics listen` is a start-up setting: a reload whose file moves
    the endpoint is refused with the reason, one with the same file goes
    through, and the endpoint keeps serving."""
    conf = pc.dir / "pc.conf"
    text = conf.read_text()
    try:
        conf.write_text(text.replace(f"127.0.0.1:{PORT}", f"127.0.0.1:{PORT + 1}"))
        assert "metrics listen: cannot change at run time" in refused(pc, "reload")
    finally:
        conf.write_text(text)
    pcctl(pc, "reload")
    status, _, body = scrape()
    assert status == 200 and value(body, "portcullis_config_reload_last_success") == 1
    assert value(body, "portcullis_config_reloads_total", result="failed") >= 1
    assert value(body, "portcullis_config_reloads_total", result="ok") >= 1
