# SPDX-License-Identifier: MIT
"""What the proxy tests (test_proxy_tcp.py, test_proxy_v2.py,
test_proxy_http.py, test_origin_pull.py) share: portcullis started per test
with a config of backends, backend servers in the lab's backend namespace
(proxy_servers.py, nginx, HAProxy) stopped by PID, python clients run in
the client namespace, the origin-pull PKI, and the names of the counters
the tests read (all in COUNTERS, so that a rename is one line here).

Every test starts what it needs and stops it, failed or not: portcullis is
stopped and checked (exit 0, no sanitizer report) by the `proxy` fixture,
backends by the `backends` fixture."""
import datetime
import json
import os
import signal
import subprocess
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import NS_BACKEND, NS_CLIENT, ROOT, Portcullis, check_stopped, in_ns

PY = "/usr/bin/python3"
TESTS = ROOT / "tests" / "integration"
SERVERS = str(TESTS / "proxy_servers.py")
BACKEND_ADDR = "198.18.0.3"
GOOD_ID = "spiffe://tenant-a.test/svc/web"

# The counters the tests read (SIGUSR1 dump, conftest.parse_counters), by
# what they mean here: a name, or a tuple of names summed. From
# l7/l7_stats.def (l7_*), l7/http_proxy_stats.def (http_proxy_*) and
# crypto/tls_origin.def (tls_origin_*).
COUNTERS = {
    "connects": "l7_up_connects",            # connections opened to servers (checks apart)
    "no_server": "l7_up_no_server",          # no healthy server (TLS alert / 503)
    "refused": "l7_up_refused",              # a server refused (RST, or no answer to SYNs)
    "connect_timeout": "l7_up_connect_timeout",
    "reset": "l7_up_reset",                  # a server reset an open connection
    "timeout": "l7_up_timeout",              # idle timeout (or retransmissions) on an open one
    "tls_failed": "l7_up_tls_failed",        # TLS to a server failed
    "server_up": "l7_up_server_up",          # a server back up on a worker
    "reused": "l7_up_pool_hits",             # requests sent on a pooled server connection
    "forged": "http_proxy_forged_headers",   # client's identity headers removed
    "http_502": ("http_proxy_bad_gateway_garbage", "http_proxy_bad_gateway_closed",
                 "http_proxy_bad_gateway_reset", "http_proxy_bad_gateway_timeout",
                 "http_proxy_bad_gateway_refused", "http_proxy_bad_gateway_tls"),
    "http_502_garbage": "http_proxy_bad_gateway_garbage",
    "http_503": ("http_proxy_no_server", "http_proxy_no_buffer"),
    "http_421": "http_proxy_misdirected",
    "origin_verified": "tls_origin_verified",            # origin handshakes, verified
    "origin_cert_refused": "tls_origin_cert_refused",    # wrong CA for the origin
    "origin_name_mismatch": "tls_origin_name_mismatch",  # wrong verify-name
    "origin_alert": "tls_origin_alert_received",         # the origin refused us
}

# The start of every proxy test's config: the TLS listener, the default
# host's certificate (pki_cases.py: tenant-a.test, *.tenant-a.test).
BASE = """
ip address 198.18.0.1/24
worker idle backoff 50 500 50
tls listen 443 http
tls versions 1.2 1.3
control socket {d}/pc.sock
access-log {d}/access.log
host default cert {p}/server.chain.pem {p}/server.key
"""


def host_lines(name, backend=None, verify="required", ca="a-bundle.pem"):
    """A host verifying clients against tenant A's CAs (or not: verify
    None), forwarding to backend."""
    out = []
    if verify:
        out += [f"host {name} verify {verify}", f"host {name} ca {{p}}/{ca}"]
    if backend:
        out.append(f"host {name} backend {backend}")
    return "\n".join(out) + "\n"


def counter(c, key):
    """The value of COUNTERS[key] in the dump c (a sum for a tuple); a
    clear failure naming the proxy counters there are when one is missing."""
    names = COUNTERS[key]
    names = (names,) if isinstance(names, str) else names
    missing = [n for n in names if n not in c]
    if missing:
        near = sorted(k for k in c if k.startswith(("l7_", "http_proxy_", "tls_origin_")))
        raise AssertionError(f"no counter {missing} ({key}); proxy counters: {near}")
    return sum(c[n] for n in names)


def wait_for(pred, what, timeout=30, step=0.05):
    """Polls pred() until it is true; fails with what after timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        assert time.monotonic() < deadline, what
        time.sleep(step)


# --- portcullis ---------------------------------------------------------------
def proxy_starter(pki, tmp_path):
    """The `proxy` fixture (conftest.py): yields start(extra_config,
    workers, pmd) -> a Portcullis on BASE + extra_config (placeholders {p}
    the PKI, {d} the test's directory); each is stopped and checked at the
    end."""
    started = []

    def start(extra, workers=1, pmd="af_xdp"):
        text = (BASE + extra).format(p=pki, d=tmp_path)
        p = Portcullis(tmp_path, pmd, text, workers)
        p.sock, p.dir, p.pki = str(tmp_path / "pc.sock"), tmp_path, pki
        started.append(p)
        return p

    try:
        yield start
    finally:
        for p in started:
            check_stopped(p)


# --- backends -----------------------------------------------------------------
class Backend:
    """A proxy_servers.py server in the backend namespace."""

    def __init__(self, tmp, mode, port, *args):
        self.port, self.mode = port, mode
        self.events_path = tmp / f"backend-{mode}-{port}-{time.monotonic_ns()}.events"
        self.events_path.touch()
        self.err = open(tmp / f"backend-{mode}-{port}.err", "w+")
        # ip netns exec execs python: the PID is the server's own.
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", NS_BACKEND, PY, SERVERS, mode, "--port", str(port),
             "--events", str(self.events_path), *args],
            stdout=subprocess.PIPE, stderr=self.err, stdin=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            self.stop()
            err = (tmp / f"backend-{mode}-{port}.err").read_text()
            raise RuntimeError(f"backend {mode}:{port} did not start: {err}")

    def events(self, kind=None):
        lines = self.events_path.read_text().splitlines()
        return [x for x in lines if kind is None or x.split(" ", 1)[0] == kind]

    def accepts(self):
        return len(self.events("accept"))

    def kill(self):
        """SIGKILL: the kernel ends its connections (what a crash does)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.err.close()


class Daemon:
    """nginx or HAProxy in the backend (or client) namespace, in the
    foreground, stopped by PID; ready once its port listens."""

    def __init__(self, tmp, name, cmd, port, ns=NS_BACKEND):
        self.log_path = tmp / f"{name}.log"
        self.log = open(self.log_path, "w+")
        self.ns, self.port, self.name = ns, port, name
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, *cmd], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not self.listening():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{name} did not start: {self.log_path.read_text()}")
            time.sleep(0.05)

    def listening(self):
        r = in_ns(self.ns, ["ss", "-Hltn", f"sport = :{self.port}"])
        return bool(r.stdout.strip())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def backend_factory(tmp_path):
    """The `backends` fixture (conftest.py): yields a factory,
    backends(mode, port, *args) -> a started Backend, backends.nginx(conf,
    port) and backends.haproxy(conf, port) -> a started Daemon; all stopped
    at the end."""
    started = []

    class Factory:
        def __call__(self, mode, port, *args):
            b = Backend(tmp_path, mode, port, *args)
            started.append(b)
            return b

        def nginx(self, conf_text, port, ns=NS_BACKEND):
            conf = tmp_path / f"nginx-{port}.conf"
            conf.write_text(conf_text)
            d = Daemon(tmp_path, f"nginx-{port}",
                       ["nginx", "-e", str(tmp_path / f"nginx-{port}.err"), "-c", str(conf)],
                       port, ns)
            started.append(d)
            return d

        def haproxy(self, conf_text, port, ns=NS_BACKEND):
            conf = tmp_path / f"haproxy-{port}.conf"
            conf.write_text(conf_text)
            d = Daemon(tmp_path, f"haproxy-{port}", ["haproxy", "-db", "-f", str(conf)], port, ns)
            started.append(d)
            return d

    try:
        yield Factory()
    finally:
        for b in reversed(started):
            b.stop()


def nginx_main(tmp, body):
    """An nginx config (foreground, one worker, as root) around an http {}
    body, its files in tmp."""
    return f"""daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 16384;
user root;
pid {tmp}/nginx-{time.monotonic_ns()}.pid;
error_log {tmp}/nginx-error.log info;
events {{ worker_connections 4096; }}
http {{
	default_type application/octet-stream;
	client_body_temp_path {tmp};
	proxy_temp_path {tmp};
	fastcgi_temp_path {tmp};
	uwsgi_temp_path {tmp};
	scgi_temp_path {tmp};
{body}
}}
"""


# --- clients ------------------------------------------------------------------
# What every client snippet starts with: A (its JSON argument), connect()
# to portcullis with the client certificate, HTTP helpers.
PRELUDE = r'''
import hashlib, json, os, socket, ssl, struct, sys, threading, time
A = json.loads(sys.argv[1])

def context(cert=True):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(A["ca"])
    if cert is True:
        cert = (A["cert"], A["key"])
    if cert:
        ctx.load_cert_chain(*cert)
    return ctx

def connect(sni, cert=True, addr="198.18.0.1", port=443, timeout=30, alpn=None):
    ctx = context(cert)
    if sni is None:
        ctx.check_hostname = False
    if alpn:
        ctx.set_alpn_protocols(alpn)
    s = socket.create_connection((addr, port), timeout=timeout)
    return ctx.wrap_socket(s, server_hostname=sni)

def recv_exact(s, n):
    out = bytearray()
    while len(out) < n:
        chunk = s.recv(min(1 << 20, n - len(out)))
        if not chunk:
            raise ConnectionError(f"closed after {len(out)} of {n} bytes")
        out += chunk
    return bytes(out)

class Reader:
    """Buffered reads of HTTP/1.1 responses on one connection."""
    def __init__(self, s):
        self.s, self.buf = s, b""
    def fill(self):
        chunk = self.s.recv(1 << 20)
        if not chunk:
            raise ConnectionError("closed")
        self.buf += chunk
    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l
    def exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out
    def response(self, head=False):
        """(status, [(name, value)], body bytes)."""
        status = int(self.line().split()[1])
        headers = []
        while True:
            l = self.line()
            if not l:
                break
            k, v = l.decode("latin-1").split(":", 1)
            headers.append((k.strip(), v.strip()))
        h = {k.lower(): v for k, v in headers}
        if head or status in (204, 304) or 100 <= status < 200:
            return status, headers, b""
        if "chunked" in h.get("transfer-encoding", "").lower():
            body = b""
            while True:
                n = int(self.line().split(b";")[0], 16)
                if n == 0:
                    while self.line():
                        pass
                    return status, headers, body
                body += self.exact(n)
                self.line()
        if "content-length" in h:
            return status, headers, self.exact(int(h["content-length"]))
        body = self.buf
        self.buf = b""
        while True:
            try:
                chunk = self.s.recv(1 << 20)
            except (ssl.SSLEOFError, ConnectionError):
                chunk = b""
            if not chunk:
                return status, headers, body
            body += chunk

def request(s, method, path, host, headers=(), body=b""):
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers]
    if body and not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in headers):
        lines.append(f"Content-Length: {len(body)}")
    s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

def outcome(fn):
    """fn()'s result, or what ended it: {"error": ..., "alert": ...}."""
    try:
        return fn()
    except ssl.SSLError as e:
        return {"error": str(e), "alert": e.reason}
    except (OSError, ConnectionError) as e:
        return {"error": f"{type(e).__name__}: {e}", "alert": None}

def done(x):
    print(json.dumps(x), flush=True)

class Pump:
    """One TLS connection driven by one thread (ssl.SSLObject over memory
    BIOs and a non-blocking socket): sends and receives at once, and can
    end the sending side alone (close_notify) while reading on."""
    def __init__(self, sni, cert=True, addr="198.18.0.1", port=443, timeout=30):
        ctx = context(cert)
        if sni is None:
            ctx.check_hostname = False
        self.timeout = timeout
        self.sock = socket.create_connection((addr, port), timeout=timeout)
        self.inc, self.outb = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.outb, server_hostname=sni)
        self.raw_out, self.eof, self.closed_write = b"", False, False
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.sock.sendall(self.outb.read())
                d = self.sock.recv(1 << 16)
                if not d:
                    raise ConnectionError("closed in the handshake")
                self.inc.write(d)
        self.sock.sendall(self.outb.read())
        self.sock.setblocking(False)
    def _read_records(self, got):
        while True:
            try:
                chunk = self.obj.read(1 << 18)
            except ssl.SSLWantReadError:
                return
            except ssl.SSLZeroReturnError:
                self.eof = True
                return
            if not chunk:
                self.eof = True
                return
            got += chunk
    def run(self, data=b"", want=None, close_write=False, progress=None):
        """Sends data (then close_notify if close_write) while reading;
        returns what was read once want bytes came, or at the peer's end.
        progress, a list, gets the count of bytes handed to TLS."""
        import select
        sent, got = 0, bytearray()
        while True:
            if sent < len(data) and len(self.raw_out) < (1 << 18):
                n = min(1 << 16, len(data) - sent)
                self.obj.write(data[sent:sent + n])
                sent += n
                if progress is not None:
                    progress[0] = sent
            elif sent == len(data) and close_write and not self.closed_write:
                try:
                    self.obj.unwrap()
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    pass
                self.closed_write = True
            self.raw_out += self.outb.read()
            busy = sent < len(data) or self.raw_out
            r, w, _ = select.select([self.sock], [self.sock] if self.raw_out else [], [],
                                    self.timeout)
            if not r and not w:
                raise TimeoutError(f"no progress for {self.timeout} s: sent {sent}, read {len(got)}")
            if w:
                n = self.sock.send(self.raw_out)
                self.raw_out = self.raw_out[n:]
            if r:
                try:
                    d = self.sock.recv(1 << 18)
                except BlockingIOError:
                    d = None
                if d == b"":
                    self.inc.write_eof()
                    self.eof = True
                elif d:
                    self.inc.write(d)
                self._read_records(got)
            if want is not None and len(got) >= want:
                return bytes(got)
            if self.eof and not busy:
                return bytes(got)
            if self.eof:
                raise ConnectionError(f"closed while sending: sent {sent}, read {len(got)}")
'''


def client_args(pki, cert="good", **kw):
    a = {"ca": str(pki / "server-ca.crt")}
    if cert:
        crt = pki / f"{cert}.chain.pem"
        a["cert"] = str(crt if crt.exists() else pki / f"{cert}.crt")
        a["key"] = str(pki / f"{cert}.key")
    a.update(kw)
    return a


def run_client(code, args, timeout=120):
    """Runs PRELUDE + code in the client namespace with args (JSON) as
    sys.argv[1]; returns the JSON of its last stdout line."""
    r = in_ns(NS_CLIENT, [PY, "-c", PRELUDE + code, json.dumps(args)], timeout=timeout)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.strip().splitlines()
    assert lines, r.stderr[-3000:]
    return json.loads(lines[-1])


def start_client(code, args):
    """The same in the background: a Popen (stdin, stdout pipes), for a
    client the test steers; the caller stops it (stop_client)."""
    return subprocess.Popen(["ip", "netns", "exec", NS_CLIENT, PY, "-c", PRELUDE + code,
                             json.dumps(args)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def stop_client(p):
    if p.poll() is None:
        p.kill()
    p.wait()
    for f in (p.stdin, p.stdout, p.stderr):
        if f:
            f.close()


# --- the origin-pull PKI --------------------------------------------------------
def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(cn, key, issuer, issuer_key, ca=False, sans=(), eku=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(_name(cn))
         .issuer_name(issuer.subject if issuer else _name(cn))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(days=1))
         .not_valid_after(now + datetime.timedelta(days=30))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         # RFC 5280's key identifiers and key usage: portcullis verifies an
         # origin's chain as strictly as a client's (OpenSSL's -x509_strict).
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                        critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
             (issuer_key or key).public_key()), critical=False)
         .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=False,
                                      key_encipherment=False, data_encipherment=False,
                                      key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                                      encipher_only=False, decipher_only=False),
                        critical=True))
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]),
                            critical=False)
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return b.sign(issuer_key or key, hashes.SHA256())


def origin_pki(d):
    """In d: origin-ca (signs the origin's server certificate origin.crt,
    DNS origin.test), edge-ca (signs edge.crt, the certificate portcullis
    presents to the origin, CN edge.portcullis.test), other-ca (a CA that
    signed neither). *.crt / *.key, PEM."""
    d = Path(d)
    d.mkdir(parents=True, exist_ok=True)

    def write(stem, cert, key):
        (d / f"{stem}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (d / f"{stem}.key").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        os.chmod(d / f"{stem}.key", 0o600)

    cas = {}
    for stem, cn in (("origin-ca", "Origin Test CA"), ("edge-ca", "Edge Client CA"),
                     ("other-ca", "Nobody's CA")):
        k = ec.generate_private_key(ec.SECP256R1())
        c = _cert(cn, k, None, None, ca=True)
        cas[stem] = (c, k)
        write(stem, c, k)
    k = ec.generate_private_key(ec.SECP256R1())
    write("origin", _cert("origin.test", k, *cas["origin-ca"], sans=["origin.test"],
                          eku=[ExtendedKeyUsageOID.SERVER_AUTH]), k)
    k = ec.generate_private_key(ec.SECP256R1())
    write("edge", _cert("edge.portcullis.test", k, *cas["edge-ca"],
                        eku=[ExtendedKeyUsageOID.CLIENT_AUTH]), k)
    return d
