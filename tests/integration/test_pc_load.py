# SPDX-License-Identifier: MIT
"""pc_load, the mTLS load generator, against a Python TLS server on
127.0.0.1: successes are counted only when the server accepted the client,
refusals and short bodies are errors, and the JSON has its documented keys.

The server is this file run as a script (see the bottom), one process per
test, stopped by PID even when the test fails. Every test runs both
builds, pc_load (OpenSSL) and pc_load_wolfssl. Needs them built in
$PC_BUILD (scripts/test.sh builds them) and the openssl command
(scripts/pki.sh).
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BUILD, ROOT

# TLS library -> its build of pc_load
CLIENTS = {"openssl": BUILD / "tests" / "perf" / "pc_load",
           "wolfssl": BUILD / "tests" / "perf" / "pc_load_wolfssl"}
# How each library words a refusal by alert: (TLS version, alert) -> text
# its error details contain.
REFUSALS = {
    "openssl": {("1.2", "handshake_failure"): "alert handshake failure",
                ("1.3", "certificate_required"): "alert certificate required",
                ("1.3", "unknown_ca"): "unknown ca"},
    "wolfssl": {("1.2", "handshake_failure"): "received alert handshake_failure (40)",
                ("1.3", "certificate_required"): "(116)",
                ("1.3", "unknown_ca"): "received alert unknown_ca (48)"},
}
SECONDS = "1"

JSON_KEYS = {
    "tool", "tls_library", "config", "ended_by", "elapsed_s", "connections", "requests", "bytes",
    "gbps", "latency_us", "errors", "error_details", "error_details_dropped",
    "unfinished", "cpu",
}
CONFIG_KEYS = {
    "host", "port", "mode", "sni", "conns", "threads", "duration_s", "count",
    "reqs_per_conn", "bytes", "path", "tls", "resume", "client_cert", "verify_server",
    "close",
}
ERROR_KINDS = {
    "connect_refused", "connect_timeout", "connect_failed", "tls_handshake",
    "handshake_timeout", "tls_io", "tcp_io", "short_read", "response_timeout",
    "http_status", "http_malformed", "http_length", "echo_mismatch",
}
LATENCY_KEYS = {"count", "mean", "p50", "p90", "p99", "p99_9", "max"}


def make_pki(path):
    subprocess.run([str(ROOT / "scripts" / "pki.sh"), str(path)], check=True,
                   capture_output=True, timeout=60)
    return path


@pytest.fixture(params=sorted(CLIENTS))
def lib(request):
    """The TLS library of the pc_load build under test."""
    path = CLIENTS[request.param]
    assert path.exists(), f"no {path}: build first (ninja -C {BUILD})"
    return request.param


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def other_pki(tmp_path_factory):
    """A second, unrelated CA with its own client certificate."""
    return make_pki(tmp_path_factory.mktemp("other-pki"))


@pytest.fixture
def tls_server(pki):
    """start(require_cert=True) -> port of a TLS HTTP server trusting pki's CA."""
    procs = []

    def start(require_cert=True):
        proc = subprocess.Popen(
            [sys.executable, __file__, str(pki), "require" if require_cert else "none"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(proc)
        line = proc.stdout.readline()
        assert line.startswith("ready "), f"server did not start: {line!r}"
        return int(line.split()[1])

    try:
        yield start
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def pc_load(lib, tmp_path, port, *args):
    """Runs lib's pc_load for SECONDS; returns (exit code, parsed JSON)."""
    out = tmp_path / "result.json"
    r = subprocess.run(
        [str(CLIENTS[lib]), "--host", "127.0.0.1", "--port", str(port), "--sni", "localhost",
         "--conns", "4", "--duration", SECONDS, "--json", str(out), *args],
        capture_output=True, text=True, timeout=30)
    assert r.returncode in (0, 2), r.stdout + r.stderr
    j = json.loads(out.read_text())
    assert j["tls_library"].lower().startswith(lib), j["tls_library"]
    return r.returncode, j


@pytest.mark.parametrize("tls", ["1.2", "1.3"])
def test_mtls_handshakes_succeed(lib, tmp_path, pki, tls_server, tls):
    port = tls_server()
    rc, j = pc_load(lib, tmp_path, port, "--mode", "handshake", "--tls", tls,
                    "--cert", str(pki / "client.crt"), "--key", str(pki / "client.key"),
                    "--cacert", str(pki / "ca.crt"))
    assert rc == 0
    assert j["errors"]["total"] == 0, j["error_details"]
    assert j["connections"]["ok"] > 0 and j["connections"]["per_s"] > 0
    assert j["connections"]["full"] == j["connections"]["ok"]
    assert j["latency_us"]["handshake"]["count"] == j["connections"]["ok"]


def test_resumed_handshakes(lib, tmp_path, pki, tls_server):
    port = tls_server()
    rc, j = pc_load(lib, tmp_path, port, "--mode", "handshake", "--resume",
                    "--cert", str(pki / "client.pem"), "--cacert", str(pki / "ca.crt"))
    assert rc == 0 and j["errors"]["total"] == 0, j["error_details"]
    # Each of the 4 slots does one full handshake, then resumes.
    assert j["connections"]["full"] <= 4 < j["connections"]["resumed"]


@pytest.mark.parametrize("tls,alert", [("1.2", "handshake_failure"),
                                       ("1.3", "certificate_required")])
def test_missing_client_cert_is_an_error(lib, tmp_path, tls_server, pki, tls, alert):
    """TLS 1.3: the client's handshake completes before the server refuses
    (by alert): that must still count as a failed handshake."""
    port = tls_server(require_cert=True)
    rc, j = pc_load(lib, tmp_path, port, "--mode", "handshake", "--tls", tls,
                    "--cacert", str(pki / "ca.crt"))
    assert rc == 2
    assert j["connections"]["ok"] == 0
    assert j["errors"]["total"] > 0
    assert j["errors"]["tls_handshake"] == j["errors"]["total"]
    reason = REFUSALS[lib][tls, alert]
    assert any(reason in d["detail"] for d in j["error_details"]), j["error_details"]


def test_client_cert_from_another_ca_is_an_error(lib, tmp_path, tls_server, pki, other_pki):
    port = tls_server(require_cert=True)
    rc, j = pc_load(lib, tmp_path, port, "--mode", "request",
                    "--cert", str(other_pki / "client.pem"), "--cacert", str(pki / "ca.crt"))
    assert rc == 2
    assert j["connections"]["ok"] == 0 and j["requests"]["ok"] == 0
    assert j["errors"]["tls_handshake"] == j["errors"]["total"] > 0
    reason = REFUSALS[lib]["1.3", "unknown_ca"]
    assert any(reason in d["detail"] for d in j["error_details"]), j["error_details"]


def test_download_counts_bytes(lib, tmp_path, pki, tls_server):
    port = tls_server()
    rc, j = pc_load(lib, tmp_path, port, "--mode", "download", "--bytes", "100000",
                    "--cert", str(pki / "client.pem"), "--cacert", str(pki / "ca.crt"))
    assert rc == 0 and j["errors"]["total"] == 0, j["error_details"]
    assert j["requests"]["ok"] > 0 and j["gbps"] > 0
    assert j["bytes"]["rx"] >= 100000 * j["requests"]["ok"]


def test_short_download_is_an_error(lib, tmp_path, pki, tls_server):
    """The server promises 100000 bytes, sends half and closes."""
    port = tls_server()
    rc, j = pc_load(lib, tmp_path, port, "--mode", "download", "--bytes", "100000",
                    "--path", "/short/100000",
                    "--cert", str(pki / "client.pem"), "--cacert", str(pki / "ca.crt"))
    assert rc == 2
    assert j["requests"]["ok"] == 0
    assert j["errors"]["short_read"] == j["errors"]["total"] > 0
    assert j["connections"]["ok"] > 0  # the handshakes themselves were fine


def test_json_has_documented_keys(lib, tmp_path, pki, tls_server):
    port = tls_server(require_cert=False)
    rc, j = pc_load(lib, tmp_path, port, "--mode", "keepalive", "--threads", "2")
    assert rc == 0, j["error_details"]
    assert set(j) == JSON_KEYS
    assert set(j["config"]) == CONFIG_KEYS
    assert set(j["errors"]) == ERROR_KINDS | {"total"}
    assert set(j["connections"]) == {"ok", "per_s", "full", "resumed", "resume_missed", "held"}
    assert set(j["requests"]) == {"ok", "per_s"}
    assert set(j["bytes"]) == {"tx", "rx"}
    assert set(j["cpu"]) == {"user_s", "sys_s", "cores"}
    assert j["tool"] == "pc_load" and j["ended_by"] == "duration"
    assert j["config"]["mode"] == "keepalive" and j["config"]["threads"] == 2
    assert j["latency_us"]["handshake"] is not None
    for name in ("connect", "handshake", "request"):
        lat = j["latency_us"][name]
        assert set(lat) == LATENCY_KEYS
        assert lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99_9"] <= lat["max"]
    assert j["requests"]["ok"] > 0 and j["requests"]["per_s"] > 0
    assert j["unfinished"] >= 0 and j["error_details"] == []


# The server: python3 test_pc_load.py PKI_DIR require|none
# GET /bytes/N sends N bytes; GET /short/N promises N and sends N/2; other
# paths get "ok". Prints "ready PORT" once listening.
def serve(pki_dir, mode):
    import http.server
    import ssl

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            kind, _, n = self.path.strip("/").partition("/")
            if kind in ("bytes", "short") and n.isdigit():
                body = b"x" * int(n)
            else:
                body = b"ok\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if kind == "short":
                self.wfile.write(body[:len(body) // 2])
                self.close_connection = True
            else:
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

        def handle_error(self, request, client_address):
            pass  # clients that close early are the point of some tests

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(Path(pki_dir) / "server.crt", Path(pki_dir) / "server.key")
    if mode == "require":
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(Path(pki_dir) / "ca.crt")
    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    print("ready", httpd.server_address[1], flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
