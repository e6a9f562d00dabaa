# SPDX-License-Identifier: MIT
"""Session resumption on hosts that verify clients, ticket keys and the
verified-chain cache, against python's ssl module in the client namespace
(tls_sessions.py keeps sessions between connections) while pcctl changes
the trust. One portcullis for the module; PKI from scripts/pki_cases.py,
plus client certificates made here (short-lived, or many distinct)."""
import datetime
import json
import re
import subprocess
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import NS_CLIENT, ROOT, Portcullis, running
from test_cli import ok, pcctl

SESSIONS = str(ROOT / "tests" / "integration" / "tls_sessions.py")
GOOD_ID = "identity: spiffe://tenant-a.test/svc/web\n"
KEY1, KEY2 = "11" * 32, "22" * 32

# r1: identity, lifetime, keys and cache; r2: its trust changes; r3: its
# policy is tightened; opt and strict: one weak, one strict host on the
# same ca-set (a ticket of the first must never open on the second).
CONFIG = """
ip address 198.18.0.1/24
worker idle backoff 50 500 50
tls listen 443 http
tls versions 1.2 1.3
tls ticket-keys {d}/ticket.keys
tls verify-cache 4
control socket {d}/pc.sock
access-log {d}/access.log
host default cert {p}/server.chain.pem {p}/server.key
ca-set a file {p}/a-bundle.pem
ca-set a crl {p}/a-root.crl
ca-set a crl {p}/a-int.crl
host r1.tenant-a.test verify required
host r1.tenant-a.test ca-set a
host r1.tenant-a.test allow uri:spiffe://tenant-a.test/svc/*
host r2.tenant-a.test verify required
host r2.tenant-a.test ca {p}/a-bundle.pem
host r3.tenant-a.test verify optional
host r3.tenant-a.test ca-set a
host opt.tenant-a.test verify optional
host opt.tenant-a.test ca-set a
host strict.tenant-a.test verify required
host strict.tenant-a.test ca-set a
"""


def mint(pki, d, name, seconds=86400):
    """A client certificate like pki_cases.py's "good" (same names, issued
    by a-int), valid for the given number of seconds from now."""
    issuer_key = serialization.load_pem_private_key((pki / "a-int.key").read_bytes(), None)
    issuer = x509.load_pem_x509_certificate((pki / "a-int.crt").read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    ski = x509.SubjectKeyIdentifier.from_public_key(issuer.public_key())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "web.tenant-a.test")]))
            .issuer_name(issuer.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(seconds=seconds))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False,
                                         False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectAlternativeName([
                x509.UniformResourceIdentifier("spiffe://tenant-a.test/svc/web"),
                x509.DNSName("web.tenant-a.test")]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                           critical=False)
            .sign(issuer_key, hashes.SHA256()))
    crt, k = d / f"{name}.chain.pem", d / f"{name}.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM) +
                    (pki / "a-int.crt").read_bytes())
    k.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    return f"{name}={crt},{k}", cert.not_valid_after.replace(tzinfo=datetime.timezone.utc).timestamp()


@pytest.fixture(scope="module")
def pc(netlab, pki, tmp_path_factory):
    d = tmp_path_factory.mktemp("resume")
    (d / "ticket.keys").write_text(f"# newest first\nk1 {KEY1}\n")
    p = Portcullis(d, "af_xdp", CONFIG.format(p=pki, d=d))
    p.sock = str(d / "pc.sock")
    p.dir = d
    p.access_log = d / "access.log"
    yield from running(p)


class Client:
    """tls_sessions.py in the client namespace, one JSON line each way."""

    def __init__(self, pki, *contexts):
        ctx = [f"good={pki}/good.chain.pem,{pki}/good.key", "none=none", *contexts]
        args = sum((["--ctx", c] for c in ctx), [])
        self.p = subprocess.Popen(["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3",
                                   SESSIONS, "--cafile", str(pki / "server-ca.crt"), *args],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def conn(self, sni, ctx="good", tls="1.3", resume=None, save=None):
        self.p.stdin.write(json.dumps({"sni": sni, "ctx": ctx, "tls": tls, "resume": resume,
                                       "save": save}) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        assert line, "tls_sessions.py ended"
        return json.loads(line)

    def close(self):
        self.p.stdin.close()
        try:
            self.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


@pytest.fixture
def client(pki):
    clients = []

    def make(*contexts):
        clients.append(Client(pki, *contexts))
        return clients[-1]
    yield make
    for c in clients:
        c.close()


def change(pc, *lines):
    out = pcctl(pc, stdin="begin\n" + "".join(f"{x}\n" for x in lines) + "commit\n")
    assert out.returncode == 0 and "ERR" not in out.stdout + out.stderr, (lines, out.stdout,
                                                                          out.stderr)


def delta(pc, before, *names):
    after = pc.counters()
    return {n: after[n] - before[n] for n in names}


def log_fields(line):
    return dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line))


@pytest.mark.parametrize("tls", ["1.2", "1.3"])
def test_resumed_keeps_identity(pc, client, tls):
    """A verified client resumes on a host that requires certificates; the
    resumed connection has the same identity for the HTTP responder and in
    the access log as the full handshake."""
    def recs():
        lines = pc.access_log.read_text().splitlines() if pc.access_log.exists() else []
        return [r for r in map(log_fields, lines)
                if r.get("sni") == "r1.tenant-a.test" and r.get("path") == "/"]

    c = client()
    before = pc.counters()
    # Records are written when connections close, through the log ring:
    # this test's two come after those of earlier tests (the other
    # version's included), in either order.
    base = len(recs())
    first = c.conn("r1.tenant-a.test", tls=tls, save="s")
    second = c.conn("r1.tenant-a.test", tls=tls, resume="s")
    assert (first["reused"], first["body"]) == (False, GOOD_ID), first
    assert (second["reused"], second["body"]) == (True, GOOD_ID), second
    d = delta(pc, before, "tls_resumed", "tls_verify_ok", "tls_tickets_issued")
    assert d["tls_resumed"] == 1 and d["tls_verify_ok"] == 1 and d["tls_tickets_issued"] >= 1, d
    deadline = time.monotonic() + 20
    while True:
        new = recs()[base:]
        if len(new) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert sorted(r["resumed"] for r in new) == ["no", "yes"], new
    full, resumed = sorted(new, key=lambda r: r["resumed"])
    for k in ("verify", "subject", "serial", "identity"):
        assert full[k] == resumed[k], (k, full, resumed)
    assert full["verify"] == "SUCCESS" and full["serial"] != "-", full


def test_weak_host_ticket_refused_on_strict_host(pc, client):
    """HAProxy's 4a8f76220: a ticket from a host that verifies optionally
    never resumes on a host that requires a certificate, with or without a
    certificate behind it."""
    c = client()
    before = pc.counters()
    weak = c.conn("opt.tenant-a.test", ctx="none", save="w")
    assert weak["body"] == "identity: NONE\n", weak
    r = c.conn("strict.tenant-a.test", ctx="none", resume="w")
    assert r["reused"] is None and r["alert"] == "TLSV13_ALERT_CERTIFICATE_REQUIRED", r
    verified = c.conn("opt.tenant-a.test", save="v")
    assert verified["body"] == GOOD_ID, verified
    r = c.conn("strict.tenant-a.test", resume="v")
    assert (r["reused"], r["body"]) == (False, GOOD_ID), r
    d = delta(pc, before, "tls_ticket_invalid", "tls_resumed")
    assert d == {"tls_ticket_invalid": 2, "tls_resumed": 0}, d


def test_policy_tightened_refuses_old_tickets(pc, client):
    """A ticket issued while the host verified optionally (no certificate
    sent) is refused once the host requires certificates."""
    c = client()
    assert c.conn("r3.tenant-a.test", ctx="none", save="w")["body"] == "identity: NONE\n"
    assert c.conn("r3.tenant-a.test", ctx="none", resume="w")["reused"] is True
    before = pc.counters()
    change(pc, "host r3.tenant-a.test verify required")
    try:
        r = c.conn("r3.tenant-a.test", ctx="none", resume="w")
        assert r["reused"] is None and r["alert"] == "TLSV13_ALERT_CERTIFICATE_REQUIRED", r
        assert delta(pc, before, "tls_ticket_stale")["tls_ticket_stale"] == 1
    finally:
        change(pc, "host r3.tenant-a.test verify optional")


def test_trust_change_and_revocation(pc, pki, client):
    """A change to the host's CA set (new CRLs) refuses older tickets
    (full handshake, still verified); revoking the client refuses its
    ticket and its cached chain at once."""
    c = client()
    serial = format(x509.load_pem_x509_certificate((pki / "good.crt").read_bytes())
                    .serial_number, "x")
    assert c.conn("r2.tenant-a.test", save="s")["body"] == GOOD_ID
    before = pc.counters()
    change(pc, f"host r2.tenant-a.test crl {pki}/a-root.crl",
           f"host r2.tenant-a.test crl {pki}/a-int-2.crl")
    r = c.conn("r2.tenant-a.test", resume="s", save="s2")
    assert (r["reused"], r["body"]) == (False, GOOD_ID), r
    assert c.conn("r2.tenant-a.test", resume="s2")["reused"] is True
    change(pc, f"host r2.tenant-a.test revoke {serial}")
    r = c.conn("r2.tenant-a.test", resume="s2")
    assert r["reused"] is None and r["alert"] == "SSLV3_ALERT_CERTIFICATE_REVOKED", r
    r = c.conn("r2.tenant-a.test")
    assert r["alert"] == "SSLV3_ALERT_CERTIFICATE_REVOKED", r
    d = delta(pc, before, "tls_ticket_stale", "tls_verify_revoked", "tls_resumed")
    assert d == {"tls_ticket_stale": 2, "tls_verify_revoked": 2, "tls_resumed": 1}, d


def test_expired_certificate_ends_its_tickets(pc, pki, client, tmp_path):
    """A ticket does not outlive the client certificate it vouches for
    (which lives long enough for a full and a resumed handshake on a
    loaded machine, then expires while the ticket would still be good)."""
    ctx, not_after = mint(pki, tmp_path, "brief", seconds=10)
    c = client(ctx)
    assert c.conn("r1.tenant-a.test", ctx="brief", save="s")["body"] == GOOD_ID
    assert c.conn("r1.tenant-a.test", ctx="brief", resume="s")["reused"] is True
    time.sleep(max(0, not_after + 1.5 - time.time()))
    before = pc.counters()
    r = c.conn("r1.tenant-a.test", ctx="brief", resume="s")
    assert r["reused"] is None and r["alert"] == "SSLV3_ALERT_CERTIFICATE_EXPIRED", r
    assert delta(pc, before, "tls_ticket_expired")["tls_ticket_expired"] == 1


def test_ticket_lifetime(pc, client):
    """A ticket older than `tls ticket-lifetime` gets a full handshake."""
    c = client()
    ok(pc, "tls", "ticket-lifetime", "2")
    try:
        assert c.conn("r1.tenant-a.test", save="s")["reused"] is False
        time.sleep(3.2)
        before = pc.counters()
        r = c.conn("r1.tenant-a.test", resume="s")
        assert (r["reused"], r["body"]) == (False, GOOD_ID), r
        assert delta(pc, before, "tls_ticket_expired")["tls_ticket_expired"] == 1
    finally:
        ok(pc, "tls", "ticket-lifetime", "3600")


def test_ticket_key_rotation(pc, client):
    """Keys from a file: the newest seals, older ones still open until they
    leave the file; a ticket under a key no longer held is a full
    handshake; a broken file is refused and the keys kept."""
    keys = pc.dir / "ticket.keys"
    c = client()
    assert c.conn("r1.tenant-a.test", save="k1")["reused"] is False
    keys.write_text(f"k2 {KEY2}\nk1 {KEY1}\n")
    ok(pc, "tls", "ticket-keys", "reload")
    assert json.loads(ok(pc, "show", "ticket-keys", "json"))["keys"] == ["k2", "k1"]
    try:
        r = c.conn("r1.tenant-a.test", resume="k1", save="k2")
        assert r["reused"] is True, r
        keys.write_text(f"k2 {KEY2}\n")
        ok(pc, "tls", "ticket-keys", "reload")
        before = pc.counters()
        r = c.conn("r1.tenant-a.test", resume="k1")
        assert (r["reused"], r["body"]) == (False, GOOD_ID), r
        assert delta(pc, before, "tls_ticket_unknown_key")["tls_ticket_unknown_key"] == 1
        assert c.conn("r1.tenant-a.test", resume="k2")["reused"] is True
        keys.write_text(f"k3 {KEY2[:-1]}\n")
        r = pcctl(pc, "tls", "ticket-keys", "reload")
        assert r.returncode == 1 and "ticket.keys: line 1: key k3 is not 64 hex" in r.stderr, r
        assert json.loads(ok(pc, "show", "ticket-keys", "json"))["keys"] == ["k2"]
    finally:
        keys.write_text(f"k1 {KEY1}\n")
        ok(pc, "tls", "ticket-keys", "reload")


def test_chain_cache(pc, pki, client, tmp_path):
    """A returning client's chain is found verified (its CertificateVerify
    still checked); the cache holds its configured 4 entries under a
    stream of distinct certificates, evicting the least recently used."""
    minted = [mint(pki, tmp_path, f"c{i}")[0] for i in range(6)]
    c = client(*minted)
    c.conn("r1.tenant-a.test")
    before = pc.counters()
    assert c.conn("r1.tenant-a.test")["body"] == GOOD_ID
    assert delta(pc, before, "tls_chain_cache_hits")["tls_chain_cache_hits"] == 1
    before = pc.counters()
    for i in range(6):
        assert c.conn("r1.tenant-a.test", ctx=f"c{i}")["body"] == GOOD_ID
    assert c.conn("r1.tenant-a.test", ctx="c5")["body"] == GOOD_ID
    assert c.conn("r1.tenant-a.test", ctx="c0")["body"] == GOOD_ID
    after = pc.counters()
    assert after["tls_chain_cache_entries"] == 4, after["tls_chain_cache_entries"]
    d = delta(pc, before, "tls_chain_cache_hits", "tls_chain_cache_misses")
    assert d == {"tls_chain_cache_hits": 1, "tls_chain_cache_misses": 7}, d


N_NODE = 20


def test_tickets_resume_on_another_node(pc, pki, client):
    """Another process with the same key file and the same trust (here two
    workers on af_packet: its fanout spreads the connections) resumes the tickets of the
    first; its digests match. With random keys a restart resumes
    nothing."""
    c = client()
    before = [json.loads(ok(pc, "show", *w, "json"))["digest" if w[0] == "ca-set" else
                                                       "policy_digest"]
              for w in (("ca-set", "a"), ("host", "r1.tenant-a.test"))]
    for i in range(N_NODE):
        assert c.conn("r1.tenant-a.test", save=f"s{i}")["body"] == GOOD_ID
    config = CONFIG.format(p=pki, d=pc.dir)
    restart(pc, config, pmd="af_packet", workers=2)
    after = [json.loads(ok(pc, "show", *w, "json"))["digest" if w[0] == "ca-set" else
                                                      "policy_digest"]
             for w in (("ca-set", "a"), ("host", "r1.tenant-a.test"))]
    assert after == before
    r = [c.conn("r1.tenant-a.test", resume=f"s{i}") for i in range(N_NODE)]
    assert [(x["reused"], x["body"]) for x in r] == [(True, GOOD_ID)] * N_NODE, r
    # Both workers served some (all on one: a chance of 2 in 2^20).
    tx = [w["tx_packets"] for w in json.loads(ok(pc, "show", "workers", "json"))["workers"]]
    assert len(tx) == 2 and min(tx) >= 4, tx
    restart(pc, config.replace(f"tls ticket-keys {pc.dir}/ticket.keys", "tls ticket-keys random"))
    try:
        r = c.conn("r1.tenant-a.test", resume="s0")
        assert (r["reused"], r["body"]) == (False, GOOD_ID), r
        assert pc.counters()["tls_ticket_unknown_key"] == 1
    finally:
        restart(pc, config)


def restart(pc, config, pmd="af_xdp", workers=1):
    """Stop the module's portcullis and start another in its place."""
    assert pc.stop() == 0, pc.output[-2000:]
    (pc.dir / "access.log").unlink(missing_ok=True)
    d, sock = pc.dir, pc.sock
    pc.__init__(d, pmd, config, workers=workers)
    pc.dir, pc.sock, pc.access_log = d, sock, d / "access.log"
