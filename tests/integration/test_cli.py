# SPDX-License-Identifier: MIT
"""The control socket and pcctl: trust changed at run time while clients
keep handshaking (python's ssl module in the client namespace), bad
changes refused with nothing changed, transactions, sessions that stall,
permissions. One portcullis for the module, PKI from scripts/pki_cases.py.

Layout: the default host requires tenant B's CA, so a tenant A client is
refused until a host with tenant A's ca-set is added for its name;
steady.tenant-a.test is never changed and carries the steady stream."""
import json
import os
import socket
import subprocess
import time

import pytest
from cryptography import x509

from conftest import ADDR, BUILD, NS_CLIENT, ROOT, Portcullis, icmp_ping_cmd, in_ns, running
from test_tls import client

PCCTL = str(BUILD / "pcctl")
LOOP = str(ROOT / "tests" / "integration" / "tls_loop.py")
GOOD_ID = "spiffe://tenant-a.test/svc/web"

CONFIG = """
ip address 198.18.0.1/24
worker idle backoff 50 500 50
tcp listen 7 echo
tls listen 443 http
tls versions 1.2 1.3
control socket {d}/pc.sock
access-log {d}/access.log
cert edge {p}/server.chain.pem {p}/server.key
ca-set tenant-a file {p}/a-bundle.pem
ca-set tenant-a crl {p}/a-root.crl
ca-set tenant-a crl {p}/a-int.crl
ca-set tenant-b file {p}/b-root.crt
host default cert-ref edge
host default verify required
host default ca-set tenant-b
host steady.tenant-a.test verify required
host steady.tenant-a.test ca-set tenant-a
"""


@pytest.fixture(scope="module")
def pc(netlab, pki, tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    p = Portcullis(d, "af_xdp", CONFIG.format(p=pki, d=d))
    p.sock = str(d / "pc.sock")
    p.dir = d
    yield from running(p)
    assert not os.path.exists(p.sock), "the socket outlived portcullis"


def pcctl(pc, *words, stdin=None):
    return subprocess.run([PCCTL, "-s", pc.sock, *words], input=stdin, text=True,
                          capture_output=True, timeout=60)


def ok(pc, *words):
    r = pcctl(pc, *words)
    assert r.returncode == 0, (words, r.stdout, r.stderr)
    return r.stdout


def refused(pc, *words):
    r = pcctl(pc, *words)
    assert r.returncode == 1, (words, r.stdout, r.stderr)
    assert r.stderr.startswith("ERR "), r.stderr
    return r.stderr


class Session:
    """A control-socket session spoken directly (status, body, empty line)."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(30)
        self.s.connect(path)
        self.f = self.s.makefile("rb")

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\n")
        status = self.f.readline().decode().rstrip("\n")
        body = []
        while True:
            ln = self.f.readline()
            assert ln, "connection closed in the middle of a reply"
            if ln == b"\n":
                break
            body.append(ln.decode().rstrip("\n"))
        return status, body

    def close(self):
        self.f.close()
        self.s.close()


def serial(pki, name):
    cert = x509.load_pem_x509_certificate((pki / f"{name}.crt").read_bytes())
    return format(cert.serial_number, "x")


def verdict(pki, sni, cert):
    """"ok" with the identity, or the alert/error that refused it."""
    r = client(pki, sni, cert)
    if r["error"] is None and r["responses"] and r["responses"][0]["status"] == 200:
        return r["responses"][0]["body"].strip()
    return r["alert"] or r["error"]


def test_pcctl_exit_codes_and_json(pc, pki):
    info = ok(pc, "show", "info")
    assert "hosts: 2" in info and "ca-sets: 2" in info and "certs: 1" in info, info
    j = json.loads(ok(pc, "show", "hosts", "json"))
    assert {h["name"] for h in j["hosts"]} == {"default", "steady.tenant-a.test"}
    assert json.loads(ok(pc, "show", "info", "json"))["workers"] == 1
    json.loads(ok(pc, "show", "stats", "json"))
    # A handshake sends frames, in at least one driver call and at most
    # one per frame.
    assert verdict(pki, "steady.tenant-a.test", "good") == f"identity: {GOOD_ID}"
    w = json.loads(ok(pc, "show", "workers", "json"))["workers"]
    assert len(w) == 1 and w[0]["queue"] == 0 and w[0]["idle_cycles"] > 0, w
    assert 0 < w[0]["tx_bursts"] <= w[0]["tx_packets"], w
    assert " tx_bursts=" in ok(pc, "show", "workers")
    json.loads(ok(pc, "show", "certs", "json"))
    json.loads(ok(pc, "show", "ca-set", "tenant-a", "json"))
    assert "unknown command 'frobnicate'" in refused(pc, "frobnicate")
    assert "cannot change at run time" in refused(pc, "tcp", "buffers", "65536", "65536")
    assert "no host nowhere.test" in refused(pc, "show", "host", "nowhere.test")
    r = subprocess.run([PCCTL, "-s", str(pc.dir / "absent.sock"), "show", "info"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r
    usage = ok(pc, "help")
    assert "begin" in usage and "show hosts [PATTERN] [json]" in usage, usage


def test_add_host_revoke_rotate_and_delete(pc, pki):
    sni = "app.tenant-a.test"
    assert verdict(pki, sni, "good") == "TLSV1_ALERT_UNKNOWN_CA"  # the default's CA set
    err = refused(pc, "host", sni, "verify", "required")  # and no ca-set
    assert "verifies clients but has no ca-set" in err, err
    out = pcctl(pc, stdin=f"begin\nhost {sni} verify required\nhost {sni} ca-set tenant-a\n"
                          "commit\n")
    assert out.returncode == 0, out
    assert verdict(pki, sni, "good") == f"identity: {GOOD_ID}"
    # Tenant B's certificate stays out with both sets loaded.
    assert verdict(pki, sni, "tenant-b") == "TLSV1_ALERT_UNKNOWN_CA"
    host = ok(pc, "show", "host", sni)
    assert "ca-set: tenant-a" in host and "handshakes: 1" in host, host
    # Revoke one client's serial: refused at its next handshake, others not.
    ok(pc, "ca-set", "tenant-a", "revoke", serial(pki, "rsa"))
    assert verdict(pki, sni, "rsa") == "SSLV3_ALERT_CERTIFICATE_REVOKED"
    assert verdict(pki, sni, "good") == f"identity: {GOOD_ID}"
    assert "revoked: " + serial(pki, "rsa") in ok(pc, "show", "ca-set", "tenant-a")
    # Undo it: the set rebuilt whole, in one transaction.
    out = pcctl(pc, stdin=f"begin\nca-set tenant-a clear\nca-set tenant-a file {pki}/a-bundle.pem\n"
                          f"ca-set tenant-a crl {pki}/a-root.crl\n"
                          f"ca-set tenant-a crl {pki}/a-int.crl\ncommit\n")
    assert out.returncode == 0, out
    assert verdict(pki, sni, "rsa") == f"identity: {GOOD_ID}"
    # Rotate the server certificate: new connections see the RSA one.
    ok(pc, "cert", "edge", f"{pki}/server-rsa.chain.pem", f"{pki}/server-rsa.key")
    r = client(pki, sni, "good", cafile="server-rsa-ca.crt")
    assert r["error"] is None, r
    assert "CERTIFICATE_VERIFY_FAILED" in (client(pki, sni, "good")["error"] or "")
    ok(pc, "cert", "edge", f"{pki}/server.chain.pem", f"{pki}/server.key")
    assert verdict(pki, sni, "good") == f"identity: {GOOD_ID}"
    # Deleted: back to the default host's policy.
    ok(pc, "del", "host", sni)
    assert verdict(pki, sni, "good") == "TLSV1_ALERT_UNKNOWN_CA"


def test_verify_mode_and_allowlist(pc, pki):
    sni = "policy.tenant-a.test"
    ok(pc, "host", sni, "ca-set", "tenant-a")
    ok(pc, "host", sni, "verify", "required")
    assert verdict(pki, sni, "identity-denied").startswith("identity: spiffe://tenant-a.test/batch")
    ok(pc, "host", sni, "allow", "uri:spiffe://tenant-a.test/svc/*")
    assert verdict(pki, sni, "identity-denied") == "TLSV1_ALERT_ACCESS_DENIED"
    assert verdict(pki, sni, "good") == f"identity: {GOOD_ID}"
    ok(pc, "host", sni, "allow", "none")
    assert verdict(pki, sni, "identity-denied").startswith("identity: spiffe://tenant-a.test/batch")
    ok(pc, "host", sni, "verify", "none")
    assert verdict(pki, sni, "tenant-b") == "identity: NONE"
    ok(pc, "del", "host", sni)


def test_bad_changes_refused_and_nothing_changes(pc, pki, tmp_path):
    before = ok(pc, "dump", "config")
    gen = json.loads(ok(pc, "show", "info", "json"))["generation"]
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    assert str(broken) in refused(pc, "ca-set", "tenant-a", "file", str(broken))
    assert "/nonexistent/ca.pem" in refused(pc, "ca-set", "tenant-a", "file", "/nonexistent/ca.pem")
    err = refused(pc, "cert", "edge", f"{pki}/server.chain.pem", f"{pki}/server-rsa.key")
    assert "does not match" in err, err
    # A CRL never goes back to an older one from the same issuer.
    ok(pc, "ca-set", "crlseq", "file", f"{pki}/a-bundle.pem")
    ok(pc, "ca-set", "crlseq", "crl", f"{pki}/a-int-2.crl")
    out = pcctl(pc, stdin=f"begin\nca-set crlseq clear\nca-set crlseq file {pki}/a-bundle.pem\n"
                          f"ca-set crlseq crl {pki}/a-int.crl\ncommit\n")
    assert out.returncode == 1 and "cRLNumber 0x01, older than the 0x02 in use" in out.stderr, out
    ok(pc, "del", "ca-set", "crlseq")
    gen = json.loads(ok(pc, "show", "info", "json"))["generation"]
    err = refused(pc, "del", "ca-set", "tenant-a")
    assert "used by 1 host(s), steady.tenant-a.test" in err, err
    err = refused(pc, "host", "x.tenant-a.test", "ca-set", "no-such-set")
    assert "no ca-set no-such-set" in err, err
    # One bad line dooms its transaction.
    out = pcctl(pc, stdin="begin\nhost y.tenant-a.test verify optional\n"
                          "host y.tenant-a.test ca-set tenant-a\n"
                          "ca-set tenant-a file /nonexistent/ca.pem\ncommit\n")
    assert out.returncode == 1 and "nothing committed" in out.stderr, out
    assert ok(pc, "dump", "config") == before
    assert json.loads(ok(pc, "show", "info", "json"))["generation"] == gen


def test_unusable_ca_and_crl_shown(pc, pki):
    """A CA certificate or CRL the verifier keeps but cannot use is named in
    `show ca-set`, with why; the set serves its other CAs."""
    ok(pc, "ca-set", "odd", "file", f"{pki}/a-odd-bundle.pem")
    ok(pc, "ca-set", "odd", "crl", f"{pki}/a-int-critical.crl")
    shown = json.loads(ok(pc, "show", "ca-set", "odd", "json"))
    assert [c["unusable"] for c in shown["cas"]] == ["an unknown critical extension", None]
    assert shown["crls"][0]["unusable"] == "an unknown critical CRL extension", shown
    assert "unusable: an unknown critical extension" in ok(pc, "show", "ca-set", "odd")
    ok(pc, "del", "ca-set", "odd")


def test_busy_ca_key_gets_a_table(pc, pki):
    """A CA key that has checked a few client certificates' signatures gets
    a table for its checks (patches/wolfssl/0015): `show ca-set` says which
    CAs have one, and verdicts stay what they were. Refused chains are never
    cached, so each bad-signature handshake checks with the issuing CA's
    key again; the first good one after the table is checked with it."""
    sni = "busy.tenant-a.test"
    out = pcctl(pc, stdin=f"begin\nca-set busy file {pki}/a-bundle.pem\n"
                          f"host {sni} verify required\nhost {sni} ca-set busy\ncommit\n")
    assert out.returncode == 0, out

    def tables():
        return [c["key_table"] for c in json.loads(ok(pc, "show", "ca-set", "busy", "json"))["cas"]]

    assert tables() == [False, False]
    for _ in range(12):
        assert verdict(pki, sni, "bad-signature") == "SSLV3_ALERT_BAD_CERTIFICATE"
    # a-bundle.pem: the root, then the issuing CA that signs the clients.
    assert tables() == [False, True]
    assert "CN=Tenant A Issuing CA not-after=" in ok(pc, "show", "ca-set", "busy")
    assert " key-table" in ok(pc, "show", "ca-set", "busy")
    assert verdict(pki, sni, "good") == f"identity: {GOOD_ID}"
    assert verdict(pki, sni, "bad-signature") == "SSLV3_ALERT_BAD_CERTIFICATE"
    assert verdict(pki, sni, "unknown-ca") == "TLSV1_ALERT_UNKNOWN_CA"
    ok(pc, "del", "host", sni)
    ok(pc, "del", "ca-set", "busy")


def test_transactions_sessions_and_conflicts(pc):
    a, b = Session(pc.sock), Session(pc.sock)
    try:
        assert a.cmd("begin") == ("OK", [])
        assert a.cmd("host tx.tenant-a.test verify optional")[0] == "OK"
        assert a.cmd("host tx.tenant-a.test ca-set tenant-a")[0] == "OK"
        status, staged = a.cmd("show staged")
        assert status == "OK" and "host tx.tenant-a.test verify optional" in staged, staged
        assert "no host tx.tenant-a.test" in b.cmd("show host tx.tenant-a.test")[0]
        assert "a transaction is already open" in a.cmd("begin")[0]
        assert a.cmd("commit") == ("OK", [])
        assert b.cmd("show host tx.tenant-a.test")[0] == "OK"
        # A conflicting commit from another session since this one staged.
        assert a.cmd("begin")[0] == "OK"
        assert a.cmd("host tx.tenant-a.test verify required")[0] == "OK"
        assert b.cmd("host tx.tenant-a.test verify none")[0] == "OK"
        status, _ = a.cmd("commit")
        assert "host tx.tenant-a.test was changed by another commit" in status, status
        assert "verify: none" in b.cmd("show host tx.tenant-a.test")[1]
        # Closing the connection aborts an open transaction (said in the
        # event log), which is not committed.
        assert a.cmd("begin")[0] == "OK"
        assert a.cmd("host gone.tenant-a.test verify none")[0] == "OK"
        aborted = pc.log_path.read_text().count("disconnected: transaction aborted")
    finally:
        a.close()
    try:
        deadline = time.monotonic() + 30
        while pc.log_path.read_text().count("disconnected: transaction aborted") <= aborted:
            assert time.monotonic() < deadline, pc.log_path.read_text()[-2000:]
            time.sleep(0.05)
        assert "no host gone" in b.cmd("show host gone.tenant-a.test")[0]
        assert b.cmd("del host tx.tenant-a.test") == ("OK", [])
    finally:
        b.close()


def test_dump_config_reproduces_the_state(pc, pki, tmp_path):
    ok(pc, "host", "dump.tenant-a.test", "ca", f"{pki}/a-bundle.pem")
    ok(pc, "host", "dump.tenant-a.test", "crl", f"{pki}/a-int.crl")
    ok(pc, "host", "dump.tenant-a.test", "verify", "optional")
    ok(pc, "host", "dump.tenant-a.test", "protect", "/admin")
    dump = ok(pc, "dump", "config").replace(str(pc.sock), str(tmp_path / "pc.sock"))
    shows = [ok(pc, "show", w) for w in ("hosts", "ca-sets", "certs")]
    pc.stop()
    try:
        p2 = Portcullis(tmp_path, "af_xdp", dump)
        p2.sock = str(tmp_path / "pc.sock")
        try:
            again = [ok(p2, "show", w) for w in ("hosts", "ca-sets", "certs")]
            # Counters and load times differ; the objects do not.
            strip = lambda t: [" ".join(w for w in ln.split() if not w.startswith(
                ("handshakes=", "failures=", "loaded="))) for ln in t.splitlines()]
            assert [strip(t) for t in again] == [strip(t) for t in shows]
        finally:
            assert p2.stop() == 0, p2.output[-2000:]
    finally:
        pc.__init__(pc.dir, "af_xdp", CONFIG.format(p=pki, d=pc.dir))
        pc.sock = str(pc.dir / "pc.sock")


def test_commits_under_load(pc, pki, tmp_path):
    """A steady stream of handshakes on a host nobody touches while 1,000
    commits change another host's allowlist (and 10 replace the server
    certificate): no failure on the steady host, and the changed host's
    verdict follows the commits."""
    stop = tmp_path / "stop"
    loop = subprocess.Popen(
        ["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3", LOOP, "--sni",
         "steady.tenant-a.test", "--cafile", str(pki / "server-ca.crt"), "--cert",
         str(pki / "good.chain.pem"), "--key", str(pki / "good.key"), "--identity", GOOD_ID,
         "--stop-file", str(stop)], stdout=subprocess.PIPE, text=True)
    s = Session(pc.sock)
    churn = "churn.tenant-a.test"
    try:
        assert s.cmd(f"host {churn} ca-set tenant-a")[0] == "OK"
        assert s.cmd(f"host {churn} verify required")[0] == "OK"
        t0 = time.monotonic()
        for i in range(1000):
            allow = "uri:spiffe://tenant-a.test/batch/*" if i % 2 == 0 else "none"
            assert s.cmd(f"host {churn} allow {allow}")[0] == "OK"
            if i % 100 == 50:
                # The server certificate every host serves, replaced (read
                # again into a new object) under the steady stream.
                assert s.cmd(f"cert edge {pki}/server.chain.pem {pki}/server.key")[0] == "OK"
            if i % 2 == 0 and i in (100, 500, 998):
                assert verdict(pki, churn, "good") == "TLSV1_ALERT_ACCESS_DENIED"
            if i % 2 == 1 and i in (101, 501, 999):
                assert verdict(pki, churn, "good") == f"identity: {GOOD_ID}"
        elapsed = time.monotonic() - t0
    finally:
        stop.touch()
        out, _ = loop.communicate(timeout=60)
        s.close()
    res = json.loads(out)
    assert res["failed"] == 0 and res["ok"] > 10, res
    print(f"1000 commits in {elapsed:.2f} s beside {res['ok']} steady handshakes")
    ok(pc, "del", "host", churn)


def test_run_time_tunable_takes_effect(pc):
    """tcp idle-timeout changed at run time: a new idle connection is reset
    after the new limit; refused settings say why."""
    ok(pc, "tcp", "idle-timeout", "1")
    # The clock starts before connect(): portcullis's cannot start earlier.
    code = ("import socket, time\n"
            "t = time.monotonic()\n"
            "s = socket.create_connection(('198.18.0.1', 7), timeout=10)\n"
            "try:\n    print(repr(s.recv(1)), round(time.monotonic() - t, 1))\n"
            "except OSError as e:\n    print(type(e).__name__, round(time.monotonic() - t, 1))\n")
    try:
        r = in_ns(NS_CLIENT, ["/usr/bin/python3", "-c", code], timeout=30)
    finally:
        ok(pc, "tcp", "idle-timeout", "300")
    what, waited = r.stdout.split()
    assert what in ("ConnectionResetError", "b''") and 0.9 <= float(waited) < 5, r.stdout
    assert "tcp idle-timeout 300" in ok(pc, "dump", "config")
    err = refused(pc, "tcp", "max-connections", "10")
    assert "preallocated on hugepages at start" in err, err


def test_worker_idle_changed_at_run_time(pc):
    """worker idle backoff at run time: every number takes effect, and a
    sleep that has grown past a second is slept, not refused by
    nanosleep() and spun."""
    def sleeps_over(seconds):
        before = pc.counters()["sleeps"]
        time.sleep(seconds)
        return pc.counters()["sleeps"] - before

    try:
        # Idle for 10 s before the first sleep: a packet restarts the idle
        # clock, then the worker pauses without sleeping.
        ok(pc, "worker", "idle", "backoff", "1000000", "10000000", "50")
        r = in_ns(NS_CLIENT, icmp_ping_cmd(ADDR, 1, 0.2), timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
        assert sleeps_over(1.5) == 0
        # Sleeps of 0.1 s doubling to 1.6 s: after 1.5 s of them, one
        # sleep of 1.6 s after another.
        ok(pc, "worker", "idle", "backoff", "0", "0", "100000")
        time.sleep(2)
        assert sleeps_over(3.5) <= 10
    finally:
        ok(pc, "worker", "idle", "backoff", "50", "500", "50")
    # Short sleeps again once the current long one ends.
    base = pc.counters()["sleeps"]
    assert pc.wait_counters(lambda c: c["sleeps"] > base + 100, timeout=10)["sleeps"] > base + 100


def test_worker_tx_hold(pc):
    """worker tx-hold at run time: a frame waits the hold out for company
    (replies to spaced pings come 1 ms late at least, unless a frame that
    came before took them along), and replies to a burst of pings leave
    together (fewer driver calls than frames)."""
    def ping(count, interval):
        r = in_ns(NS_CLIENT, [*icmp_ping_cmd(ADDR, count, interval), "--rtts"], timeout=60)
        out = json.loads(r.stdout)
        assert out["received"] == count, r.stdout + r.stderr
        return out

    ok(pc, "worker", "tx-hold", "1000")
    try:
        rtts = ping(5, 0.05)["rtts"]
        assert sorted(rtts)[2] >= 0.9, rtts
        before = pc.counters()
        ping(20, 0)
        after = pc.counters()
        frames = after["tx_packets"] - before["tx_packets"]
        calls = after["tx_bursts"] - before["tx_bursts"]
        assert frames >= 20 and calls * 2 <= frames, (frames, calls)
    finally:
        ok(pc, "worker", "tx-hold", "0")
    assert "worker tx-hold 0\n" in ok(pc, "dump", "config")


def test_access_log_moved_at_run_time(pc, pki):
    """access-log FILE at run time: the records of new requests go to the
    new file; off takes them out of the rings; the ring size stays."""
    first, second = pc.dir / "access.log", pc.dir / "access-2.log"

    def lines(path):
        """path's records once every connection has closed and every
        record pushed is out of the rings."""
        pc.wait_counters(lambda c: c["tls_connections_active"] == 0 and c["alog_records_pushed"]
                         == c["alog_records_written"] + c["alog_records_discarded"])
        return path.read_text().splitlines() if path.exists() else []

    assert verdict(pki, "steady.tenant-a.test", "good") == f"identity: {GOOD_ID}"
    before = len(lines(first))
    ok(pc, "access-log", str(second))
    assert verdict(pki, "steady.tenant-a.test", "good") == f"identity: {GOOD_ID}"
    moved = lines(second)
    assert len(moved) == 1 and "sni=steady.tenant-a.test" in moved[0], moved
    assert len(lines(first)) == before
    assert "fixed at start" in refused(pc, "access-log", str(first), "64")
    assert str(pc.dir / "no-such-dir") in refused(pc, "access-log", str(pc.dir / "no-such-dir" / "x"))
    ok(pc, "access-log", "off")
    assert not [ln for ln in ok(pc, "dump", "config").splitlines()
                if ln.startswith("access-log ") and not ln.startswith("access-log format ")]
    ok(pc, "access-log", str(first))
    assert f"access-log {first} 4096" in ok(pc, "dump", "config")


def test_permissions_and_stalled_clients(pc):
    # A user other than portcullis's is refused by the socket's mode (0600).
    r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        PCCTL, "-s", pc.sock, "show", "info"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "Permission denied" in r.stderr, r
    # A client that asks for a lot and never reads, and one that sends half
    # a line and waits, stall nobody else.
    hog = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        hog.connect(pc.sock)
        hog.setblocking(False)
        try:
            for _ in range(2000):
                hog.send(b"dump config\nshow stats\n")
        except BlockingIOError:
            pass
        idle.connect(pc.sock)
        idle.sendall(b"show in")
        t0 = time.monotonic()
        for _ in range(5):
            assert "hosts:" in ok(pc, "show", "info")
        assert time.monotonic() - t0 < 20
        # An over-long line is refused and that client dropped.
        big = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        big.settimeout(10)
        big.connect(pc.sock)
        big.sendall(b"x" * 5000)
        data = b""
        while not data.endswith(b"\n\n"):
            chunk = big.recv(4096)
            if not chunk:
                break
            data += chunk
        assert data.startswith(b"ERR line longer than 4095 bytes"), data
        big.close()
    finally:
        hog.close()
        idle.close()
