# SPDX-License-Identifier: MIT
"""The file watcher (mgmt/watch.c): certificates, keys, CA files and ticket
keys rewritten on disk while clients keep handshaking, the way Vault Agent
(write then rename), Kubernetes (the `..data` symlink swap) and cron jobs
(rewrite in place) do it; short-lived client certificates; broken,
mismatched and deleted files refused once with the old object still
served; `watch off`; certificate expiry flagged. One portcullis for the
module, a PKI made here with python's cryptography (P-256 keys: fast).

PC_WATCH_SECONDS (default 8) is how long each rotation runs; the issue's
30 s runs are PC_WATCH_SECONDS=30."""
import datetime as dt
import json
import os
import shutil
import subprocess
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import BUILD, NS_CLIENT, ROOT, Portcullis, check_stopped

PCCTL = str(BUILD / "pcctl")
CLIENT = str(ROOT / "tests" / "integration" / "watch_client.py")
SECONDS = float(os.environ.get("PC_WATCH_SECONDS", "8"))
PERIOD = 0.7  # seconds between two rotations
# A connection sees a certificate current at most this long ago: the
# watcher's debounce and commit, with room for the sanitizer build on two
# busy cores (a watcher that stops publishing still fails within a few
# rotations).
FRESH = 4.0


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _usage(ca):
    return x509.KeyUsage(digital_signature=not ca, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False)


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


class CA:
    def __init__(self, cn):
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
                     .public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number())
                     .not_valid_before(now - dt.timedelta(hours=1))
                     .not_valid_after(now + dt.timedelta(days=30))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                     .add_extension(_usage(True), True)
                     .add_extension(x509.SubjectKeyIdentifier.from_public_key(
                         self.key.public_key()), False)
                     .sign(self.key, hashes.SHA256()))
        self.pem = cert_pem(self.cert)

    def issue(self, cn, server=False, seconds=86400, not_before=None):
        """(certificate, key) for cn, valid for seconds from now."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        san = (x509.DNSName(cn) if server
               else x509.UniformResourceIdentifier(f"spiffe://watch.test/{cn}"))
        eku = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(self.cert.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(not_before or now - dt.timedelta(minutes=5))
                .not_valid_after(now + dt.timedelta(seconds=seconds))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
                .add_extension(_usage(False), True)
                .add_extension(x509.ExtendedKeyUsage([eku]), False)
                .add_extension(x509.SubjectAlternativeName([san]), False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.key.public_key()), False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
                .sign(self.key, hashes.SHA256()))
        return cert, key

    def crl(self, number):
        now = dt.datetime.now(dt.timezone.utc)
        return (x509.CertificateRevocationListBuilder().issuer_name(self.cert.subject)
                .last_update(now - dt.timedelta(minutes=5))
                .next_update(now + dt.timedelta(days=1))
                .add_extension(x509.CRLNumber(number), False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.key.public_key()), False)
                .sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))

    def server(self):
        """A new server certificate for *.watch.test: (serial hex, cert PEM, key PEM)."""
        cert, key = self.issue("*.watch.test", server=True)
        return format(cert.serial_number, "x"), cert_pem(cert), key_pem(key)


def write_rename(path, data):
    tmp = path.parent / f".{path.name}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_in_place(path, data):
    with open(path, "r+b") as f:
        f.truncate(0)
        f.write(data)


class K8sSecret:
    """A Kubernetes secret volume: dir/NAME -> ..data/NAME, ..data ->
    ..2026_N; an update makes ..2026_N+1 and renames a new ..data over the
    old one (what the kubelet's atomic writer does)."""

    def __init__(self, d):
        self.d, self.n = d, 0

    def write(self, files):
        self.n += 1
        new = self.d / f"..2026_{self.n}"
        new.mkdir()
        for name, data in files.items():
            (new / name).write_bytes(data)
        os.symlink(new.name, self.d / "..data_tmp")
        os.replace(self.d / "..data_tmp", self.d / "..data")
        for name in files:
            if not (self.d / name).is_symlink():
                os.symlink(f"..data/{name}", self.d / name)
        old = self.d / f"..2026_{self.n - 1}"
        if old.exists():
            shutil.rmtree(old)


ROTATIONS = {"rename": ("server.crt", "server.key"), "symlink": ("tls.crt", "tls.key"),
             "in-place": ("server.crt", "server.key")}


@pytest.fixture(scope="module")
def env(netlab, tmp_path_factory):
    d = tmp_path_factory.mktemp("watch")
    e = type("Env", (), {})()
    e.d = d
    e.srv = CA("watch server CA")
    e.cli = CA("watch client CA")
    e.short = CA("watch short-lived CA")
    (d / "server-ca.crt").write_bytes(e.srv.pem)
    cert, key = e.cli.issue("client")
    (d / "client.pem").write_bytes(cert_pem(cert) + key_pem(key))
    e.serials = {}
    conf = [
        "ip address 198.18.0.1/24", "worker idle backoff 50 500 50", "tls listen 443 http",
        f"control socket {d}/pc.sock", "tls cert-expiry-warning 3600",
        f"tls ticket-keys {d}/tk/keys",
    ]
    (d / "tk").mkdir()
    (d / "tk" / "keys").write_text("k1 " + "11" * 32 + "\n")
    for sub in ["base", "bad", "rename", "symlink", "in-place", "short", "crl", "added"]:
        (d / sub).mkdir()
    s, c, k = e.srv.server()
    (d / "base" / "server.crt").write_bytes(c)
    (d / "base" / "server.key").write_bytes(k)
    conf += [f"cert base {d}/base/server.crt {d}/base/server.key", "host default cert-ref base"]
    for mode, (crt, key) in ROTATIONS.items():
        s, c, k = e.srv.server()
        files = {crt: c, key: k, "ca.crt": e.cli.pem}
        if mode == "symlink":
            K8sSecret(d / mode).write(files)
        else:
            for name, data in files.items():
                (d / mode / name).write_bytes(data)
        e.serials[mode] = s
        h = f"{mode}.watch.test"
        conf += [f"host {h} cert {d}/{mode}/{crt} {d}/{mode}/{key}",
                 f"host {h} ca {d}/{mode}/ca.crt", f"host {h} verify required"]
    s, c, k = e.srv.server()
    (d / "bad" / "server.crt").write_bytes(c)
    (d / "bad" / "server.key").write_bytes(k)
    (d / "bad" / "ca.crt").write_bytes(e.cli.pem)
    e.serials["bad"] = s
    (d / "short" / "ca.crt").write_bytes(e.short.pem)
    (d / "crl" / "ca.crt").write_bytes(e.cli.pem)
    (d / "crl" / "ca.crl").write_bytes(e.cli.crl(2))
    s, c, k = e.srv.server()
    (d / "crl" / "server.crt").write_bytes(c)
    (d / "crl" / "server.key").write_bytes(k)
    conf += [f"ca-set crlset file {d}/crl/ca.crt", f"ca-set crlset crl {d}/crl/ca.crl",
             f"cert crlcert {d}/crl/server.crt {d}/crl/server.key"]
    # Expiry: one cert inside the warning window (an hour), one expired.
    for name, seconds in [("soon", 1800), ("old", -60)]:
        cert, key = e.srv.issue(f"{name}.watch.test", server=True, seconds=seconds,
                                not_before=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1))
        (d / f"{name}.crt").write_bytes(cert_pem(cert))
        (d / f"{name}.key").write_bytes(key_pem(key))
        conf.append(f"cert {name} {d}/{name}.crt {d}/{name}.key")
    conf += [f"cert bad {d}/bad/server.crt {d}/bad/server.key",
             f"ca-set bad file {d}/bad/ca.crt",
             "host bad.watch.test cert-ref bad", "host bad.watch.test ca-set bad",
             "host bad.watch.test verify required",
             f"ca-set short file {d}/short/ca.crt",
             "host short.watch.test ca-set short", "host short.watch.test verify required"]
    p = Portcullis(d, "af_xdp", "\n".join(conf) + "\n")
    p.sock = str(d / "pc.sock")
    e.pc = p
    try:
        yield e
    finally:
        check_stopped(p)


def pcctl(e, *words):
    r = subprocess.run([PCCTL, "-s", e.pc.sock, *words], text=True, capture_output=True,
                       timeout=60)
    assert r.returncode == 0, (words, r.stdout, r.stderr)
    return r.stdout


def events(e, text):
    """The event-log lines of the watcher that contain text."""
    return [ln for ln in e.pc.log_path.read_text().splitlines()
            if ln.startswith("portcullis: watch: ") and text in ln]


def reloaded(e, text):
    """The watcher's reloads whose objects include text (its refusals of a
    half-written file, which in-place writers cause, are not reloads)."""
    return [ln for ln in events(e, text) if ln.startswith("portcullis: watch: reloaded ")]


def wait_for(pred, timeout=20, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def clients(e, sni, cert="client.pem", stop=None, count=0, pause=0.0):
    cmd = ["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3", CLIENT, "--sni", sni,
           "--cafile", str(e.d / "server-ca.crt"), "--pause", str(pause)]
    if cert:
        cmd += ["--cert", str(e.d / cert)]
    if stop:
        cmd += ["--stop-file", str(stop)]
    if count:
        cmd += ["--count", str(count)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def results(proc):
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return json.loads(out)


def one(e, sni, cert="client.pem"):
    return results(clients(e, sni, cert, count=1))[0]


def served(e, sni):
    """The serial the host serves now (the handshake must succeed)."""
    r = one(e, sni)
    assert r["status"] == 200, r
    return r["serial"]


@pytest.mark.parametrize("mode", list(ROTATIONS))
def test_rotation_under_handshakes(env, mode):
    """A new server certificate and key (new serial) and a new client CA
    bundle every PERIOD seconds, written as the mode's tools write them,
    while a client handshakes without pause: every connection succeeds
    and sees a certificate that was current less than FRESH seconds
    before it started; each rotation is one reload of each object."""
    e, d, sni = env, env.d / mode, f"{mode}.watch.test"
    crt, key = ROTATIONS[mode]
    written = [(e.serials[mode], time.time())]
    assert served(e, sni) == e.serials[mode]
    reloads_before = len(reloaded(e, f"cert host:{sni}"))
    stop = e.d / f"stop-{mode}"
    secret = K8sSecret(d)
    secret.n = 1
    done = threading.Event()

    def rotate():
        while not done.wait(PERIOD):
            s, c, k = e.srv.server()
            extra = CA(f"extra {s}")  # the bundle changes, the client's root stays
            files = {crt: c, key: k, "ca.crt": e.cli.pem + extra.pem}
            if mode == "symlink":
                secret.write(files)
            else:
                for name, data in files.items():
                    (write_rename if mode == "rename" else write_in_place)(d / name, data)
            written.append((s, time.time()))

    proc = clients(e, sni, stop=stop)
    t = threading.Thread(target=rotate)
    t.start()
    try:
        time.sleep(SECONDS)
    finally:
        done.set()
        t.join()
        stop.touch()
    conns = results(proc)
    e.serials[mode] = written[-1][0]
    assert len(conns) >= 5, conns
    bad = [c for c in conns if c["status"] != 200]
    assert not bad, bad[:5]
    index = {s: i for i, (s, _) in enumerate(written)}
    for c in conns:
        assert c["serial"] in index, (c, written)
        i = index[c["serial"]]
        current_until = written[i + 1][1] if i + 1 < len(written) else float("inf")
        assert current_until >= c["t0"] - FRESH, (c, written[i:i + 2])
    assert len({c["serial"] for c in conns}) >= 3, "the client saw too few rotations"
    # The last one is served once the watcher has caught up.
    wait_for(lambda: served(e, sni) == written[-1][0], what="the last certificate")
    reloads = len(reloaded(e, f"cert host:{sni}")) - reloads_before
    assert 3 <= reloads <= len(written) - 1, (reloads, len(written))
    if mode != "in-place":
        assert not events(e, f"host:{sni}: refused"), events(e, "refused")


def test_short_lived_client_certificates(env):
    """Client certificates that live 5 s: one client renews every 1.5 s
    and is always accepted; one does not and is refused once its
    certificate has expired; no restart, nothing reloaded."""
    e, sni = env, "short.watch.test"

    def issue(path):
        cert, key = e.short.issue("renewing", seconds=5,
                                  not_before=dt.datetime.now(dt.timezone.utc)
                                  - dt.timedelta(seconds=1))
        write_rename(path, cert_pem(cert) + key_pem(key))
        return cert.not_valid_after.replace(tzinfo=dt.timezone.utc).timestamp()

    issue(e.d / "short" / "renewing.pem")
    stale_end = issue(e.d / "short" / "stale.pem")
    stop = e.d / "stop-short"
    done = threading.Event()

    def renew():
        while not done.wait(1.5):
            issue(e.d / "short" / "renewing.pem")

    t = threading.Thread(target=renew)
    t.start()
    try:
        renewing = clients(e, sni, "short/renewing.pem", stop=stop, pause=0.1)
        stale = clients(e, sni, "short/stale.pem", stop=stop, pause=0.1)
        time.sleep(max(SECONDS, 9))
    finally:
        done.set()
        t.join()
        stop.touch()
    r, s = results(renewing), results(stale)
    assert r and all(c["status"] == 200 for c in r), [c for c in r if c["status"] != 200][:5]
    before = [c for c in s if c["t1"] < stale_end - 1]
    after = [c for c in s if c["t0"] > stale_end + 1]
    assert before and after, s
    assert all(c["status"] == 200 for c in before), before
    assert all(c["alert"] == "SSLV3_ALERT_CERTIFICATE_EXPIRED" for c in after), after[:5]


def test_broken_files_refused_once_and_the_next_good_one_taken(env):
    e, d, sni = env, env.d / "bad", "bad.watch.test"
    assert served(e, sni) == e.serials["bad"]
    reloads_ok = json.loads(pcctl(e, "show", "info", "json"))["file_reloads_ok"]
    # A truncated PEM (a half-written file): refused, once.
    s1, c1, k1 = e.srv.server()
    write_in_place(d / "server.crt", c1[:len(c1) // 2])
    line = wait_for(lambda: events(e, "cert bad: refused"), what="the refusal")
    assert len(line) == 1 and f"{d}/server.crt" in line[0], line
    os.utime(d / "server.crt")  # more events, same content: not logged again
    write_in_place(d / "server.crt", c1[:len(c1) // 2])
    time.sleep(1)
    assert len(events(e, "cert bad: refused")) == 1
    assert served(e, sni) == e.serials["bad"]
    # The next good write is taken.
    write_rename(d / "server.key", k1)
    write_rename(d / "server.crt", c1)
    wait_for(lambda: served(e, sni) == s1, what="the good pair")
    # A pair written as two files apart: published once both are there (the
    # gap is past the watcher's 200 ms quiet time, and with the check of what
    # is served well inside its 5 s wait for the other half).
    s2, c2, k2 = e.srv.server()
    write_rename(d / "server.crt", c2)
    time.sleep(0.5)
    assert served(e, sni) == s1
    write_rename(d / "server.key", k2)
    wait_for(lambda: served(e, sni) == s2, what="the second pair")
    assert len(events(e, "cert bad: refused")) == 1
    # A key that does not match, and no certificate coming for it: refused
    # after the pair's wait, the old pair served all along.
    t0 = time.monotonic()
    write_rename(d / "server.key", key_pem(ec.generate_private_key(ec.SECP256R1())))
    time.sleep(1)
    assert served(e, sni) == s2
    line = wait_for(lambda: events(e, "does not match"), what="the mismatch refusal")
    assert time.monotonic() - t0 > 4 and len(line) == 1 and "cert bad: refused" in line[0], line
    assert served(e, sni) == s2
    s3, c3, k3 = e.srv.server()
    write_rename(d / "server.key", k3)
    write_rename(d / "server.crt", c3)
    wait_for(lambda: served(e, sni) == s3, what="the third pair")
    e.serials["bad"] = s3
    # A deleted CA file: refused, the set still verifies clients; created
    # again (with a second CA), it is taken.
    (d / "ca.crt").unlink()
    line = wait_for(lambda: events(e, "ca-set bad: refused"), what="the deleted file")
    assert f"{d}/ca.crt" in line[0] and "No such file" in line[0], line
    assert served(e, sni) == s3
    (d / "ca.crt").write_bytes(e.cli.pem + CA("another").pem)
    wait_for(lambda: json.loads(pcctl(e, "show", "ca-set", "bad", "json"))["cas"].__len__() == 2,
             what="the CA file back")
    assert served(e, sni) == s3
    assert len(events(e, " bad: refused")) == 3, events(e, "refused")
    info = json.loads(pcctl(e, "show", "info", "json"))
    # Three pairs and the CA file taken here.
    assert info["file_reloads_refused"] >= 3 and info["file_reloads_ok"] >= reloads_ok + 4, \
        (reloads_ok, info)
    assert "file reloads: " in pcctl(e, "show", "info")


def test_one_bad_object_does_not_hold_back_the_others(env):
    """A CRL older than the one in use (which only the commit sees) and a
    new certificate in the same directory, written together: the
    certificate is taken, the CRL refused with its reason."""
    e, d = env, env.d / "crl"
    cert, key = e.srv.issue("crl-2.watch.test", server=True)
    write_rename(d / "ca.crl", e.cli.crl(1))
    write_rename(d / "server.key", key_pem(key))
    write_rename(d / "server.crt", cert_pem(cert))
    line = wait_for(lambda: events(e, "ca-set crlset: refused"), what="the CRL refusal")
    assert "older than" in line[0], line
    certs = {c["name"]: c for c in json.loads(pcctl(e, "show", "certs", "json"))["certs"]}
    assert "crl-2.watch.test" in certs["crlcert"]["subject"], certs["crlcert"]
    write_rename(d / "ca.crl", e.cli.crl(3))
    wait_for(lambda: events(e, "reloaded ca-set crlset"), what="the newer CRL")
    assert len(events(e, "ca-set crlset: refused")) == 1


def test_objects_added_and_deleted_by_pcctl(env):
    """The watched files follow the commits: a cert added by pcctl is
    watched, once deleted it is not."""
    e, d, sni = env, env.d / "added", "added.watch.test"
    s, c, k = e.srv.server()
    (d / "server.crt").write_bytes(c)
    (d / "server.key").write_bytes(k)
    pcctl(e, "cert", "added", str(d / "server.crt"), str(d / "server.key"))
    pcctl(e, "host", sni, "cert-ref", "added")
    assert served(e, sni) == s
    s2, c2, k2 = e.srv.server()
    write_rename(d / "server.key", k2)
    write_rename(d / "server.crt", c2)
    wait_for(lambda: served(e, sni) == s2, what="the added cert reloaded")
    pcctl(e, "del", "host", sni)
    pcctl(e, "del", "cert", "added")
    before = len(events(e, "cert added"))
    write_rename(d / "server.crt", e.srv.server()[1])
    time.sleep(1)
    assert len(events(e, "cert added")) == before


def test_ticket_keys_file_reloaded(env):
    e, f = env, env.d / "tk" / "keys"
    assert "key: k1" in pcctl(e, "show", "ticket-keys")
    write_rename(f, ("k2 " + "22" * 32 + "\nk1 " + "11" * 32 + "\n").encode())
    wait_for(lambda: "key: k2 (seals new tickets)" in pcctl(e, "show", "ticket-keys"),
             what="the new ticket keys")
    write_rename(f, b"k3 not-hex\n")
    line = wait_for(lambda: events(e, "ticket-keys: refused"), what="the refusal")
    assert str(f) in line[0], line
    assert "key: k2 (seals new tickets)" in pcctl(e, "show", "ticket-keys")
    write_rename(f, ("k4 " + "44" * 32 + "\n").encode())
    wait_for(lambda: "key: k4 (seals new tickets)" in pcctl(e, "show", "ticket-keys"),
             what="the next good ticket keys")


def test_show_and_expiry(env):
    e = env
    certs = json.loads(pcctl(e, "show", "certs", "json"))
    by = {c["name"]: c for c in certs["certs"]}
    assert certs["expiry_warning"] == 3600
    assert by["soon"]["expiring"] and not by["soon"]["expired"], by["soon"]
    assert by["old"]["expired"] and by["old"]["expiry"] == "expired", by["old"]
    assert by["base"]["expiry"] == "valid" and by["base"]["key"].endswith("base/server.key")
    assert certs["counts"] == {"expiring": 1, "expired": 1}, certs
    prom = pcctl(e, "show", "stats", "prometheus").splitlines()
    assert "portcullis_certs_expiring 1" in prom and "portcullis_certs_expired 1" in prom
    text = pcctl(e, "show", "certs")
    assert " EXPIRING " in next(ln for ln in text.splitlines() if ln.startswith("soon "))
    assert " EXPIRED " in next(ln for ln in text.splitlines() if ln.startswith("old "))
    assert len(events(e, "cert soon expires at")) == 1
    assert len(events(e, "cert old expired at")) == 1
    sets = {s["name"]: s for s in json.loads(pcctl(e, "show", "ca-sets", "json"))["ca_sets"]}
    assert sets["short"]["files"] == [str(e.d / "short" / "ca.crt")], sets["short"]
    assert sets["short"]["not_after"] != "never" and sets["short"]["next_update"] == "never"
    # A smaller window: the cert is no longer flagged.
    pcctl(e, "tls", "cert-expiry-warning", "60")
    by = {c["name"]: c for c in json.loads(pcctl(e, "show", "certs", "json"))["certs"]}
    assert not by["soon"]["expiring"]
    assert "tls cert-expiry-warning 60" in pcctl(e, "dump", "config")
    pcctl(e, "tls", "cert-expiry-warning", "3600")
    assert len(events(e, "cert soon expires at")) == 2  # it entered the window again


def off_then_on(e, switch_off, switch_on):
    """Files changed while the watcher is off are not taken; switched on
    again, they are."""
    d, sni = e.d / "bad", "bad.watch.test"
    switch_off()
    try:
        assert "watch off" in pcctl(e, "dump", "config")
        s, c, k = e.srv.server()
        write_rename(d / "server.key", k)
        write_rename(d / "server.crt", c)
        time.sleep(1.5)
        assert served(e, sni) == e.serials["bad"]
    finally:
        switch_on()
    wait_for(lambda: served(e, sni) == s, what="the change made while off")
    e.serials["bad"] = s


def test_watch_off(env):
    e, conf = env, env.d / "pc.conf"
    text = conf.read_text()
    off_then_on(e, lambda: pcctl(e, "watch", "off"), lambda: pcctl(e, "watch", "on"))

    # `reload` of a config that says watch off applies it, and on again.
    def reload(content):
        conf.write_text(content)
        assert "settings changed: watch" in pcctl(e, "reload")

    off_then_on(e, lambda: reload(text + "watch off\n"), lambda: reload(text))
