# SPDX-License-Identifier: MIT
"""Backends as trust objects, on the management side: `backend NAME ...`
lines in the config file and in pcctl transactions, `host NAME backend`,
what show backends/backend (text and JSON) and show host say, dump
config, reload (the file is the truth), deletion refused while a host
names the backend, commits refused for a backend without a server or a
host naming a backend that does not exist, and the file watcher taking a
rewritten backend CA file. Nothing is forwarded here: the servers named
do not exist. One portcullis for the module, PKI from
scripts/pki_cases.py."""
import json
import shutil
import time

import pytest

from conftest import Portcullis, running
from test_cli import ok, pcctl, refused

# watch off until the watch test: the files test_reload rewrites are
# taken by `reload` alone.
CONFIG = """
watch off
ip address 198.18.0.1/24
worker idle backoff 50 500 50
tls listen 443 http
control socket {d}/pc.sock
event-log {d}/events.log
cert edge {p}/server.chain.pem {p}/server.key
ca-set tenant-a file {p}/a-bundle.pem
backend web server 198.18.1.10:8080
backend web server 198.18.1.11:8080 weight 3
backend web balance leastconn
backend web health http /healthz interval 500
backend web timeouts 2000 30000
backend web header client-identity X-Peer-Id
backend web header forwarded-for off
backend origin server 198.18.1.20:443
backend origin tls ca {o}/origin-ca.crt cert {o}/client.pem {o}/client.key sni tenant-a.test
backend raw server 198.18.1.30:9000
backend raw mode tcp
backend raw send-proxy-v2 cert
backend raw header client-s-dn X-DN
backend spare server 198.18.1.40:80
host default cert-ref edge
host default backend web
host api.tenant-a.test verify required
host api.tenant-a.test ca-set tenant-a
host api.tenant-a.test backend web
host pull.tenant-a.test backend origin
host raw.tenant-a.test backend raw
"""


def write_config(pc, extra=""):
    pc.conf.write_text(CONFIG.format(d=pc.dir, p=pc.pki, o=pc.origin) + extra)


@pytest.fixture(scope="module")
def pc(netlab, pki, tmp_path_factory):
    d = tmp_path_factory.mktemp("backends")
    # The origin's CA and the client certificate in a directory of their
    # own: the reload and watch tests rewrite them.
    origin = d / "origin"
    origin.mkdir()
    shutil.copy(pki / "server-ca.crt", origin / "origin-ca.crt")
    shutil.copy(pki / "good.chain.pem", origin / "client.pem")
    shutil.copy(pki / "good.key", origin / "client.key")
    p = Portcullis(d, "af_xdp", CONFIG.format(d=d, p=pki, o=origin))
    p.dir, p.pki, p.origin, p.conf, p.sock = d, pki, origin, d / "pc.conf", str(d / "pc.sock")
    p.events = d / "events.log"
    yield from running(p)


def backend(pc, name):
    return json.loads(ok(pc, "show", "backend", name, "json"))


def backends(pc):
    return {b["name"]: b for b in json.loads(ok(pc, "show", "backends", "json"))["backends"]}


def txn(pc, *lines):
    """One pcctl transaction: (returncode, stdout, stderr)."""
    r = pcctl(pc, stdin="begin\n" + "\n".join(lines) + "\ncommit\n")
    return r.returncode, r.stdout, r.stderr


def test_config_file_backends(pc):
    b = backends(pc)
    assert set(b) == {"web", "origin", "raw", "spare"}
    assert b["web"]["mode"] == "http" and b["web"]["balance"] == "leastconn"
    assert b["web"]["hosts"] == 2 and b["spare"]["hosts"] == 0
    assert [(s["address"], s["weight"]) for s in b["web"]["servers"]] == [
        ("198.18.1.10:8080", 1), ("198.18.1.11:8080", 3)]
    assert len({x["id"] for x in b.values()}) == 4
    w = backend(pc, "web")
    assert w["health"] == {"check": "http", "path": "/healthz", "interval_ms": 500}
    assert w["timeouts"] == {"connect_ms": 2000, "idle_ms": 30000}
    assert w["headers"]["client-identity"] == "X-Peer-Id"
    assert w["headers"]["forwarded-for"] is None
    assert w["headers"]["client-verify"] == "X-SSL-Client-Verify"
    assert w["headers"]["client-cert-chain"] == "Client-Cert-Chain"
    assert w["tls"] is None and w["send_proxy_v2"] is False
    assert w["hosts"] == ["api.tenant-a.test", "default"]
    o = backend(pc, "origin")
    assert o["tls"]["origin_verified"] is True
    assert o["tls"]["sni"] == o["tls"]["verify_name"] == "tenant-a.test"
    assert o["tls"]["cert_subject"] and "web.tenant-a.test" in o["tls"]["cert_subject"]
    r = backend(pc, "raw")
    assert r["mode"] == "tcp" and r["send_proxy_v2"] and r["send_proxy_v2_cert"]
    assert r["headers_used"] is False and r["headers"]["client-s-dn"] == "X-DN"
    assert json.loads(ok(pc, "show", "info", "json"))["backends"] == 4
    assert "\nportcullis_backends 4\n" in ok(pc, "show", "stats", "prometheus")


def test_show_text(pc):
    out = ok(pc, "show", "backends")
    assert "web mode=http balance=leastconn servers=2 tls=off health=http hosts=2" in out
    assert "  server: 198.18.1.11:8080 weight=3\n" in out
    out = ok(pc, "show", "backend", "raw")
    assert "mode: tcp\n" in out and "send-proxy-v2: on, with the client certificate\n" in out
    assert "header client-s-dn: X-DN (not used: mode tcp)\n" in out
    assert "host: raw.tenant-a.test\n" in out
    out = ok(pc, "show", "backend", "origin")
    assert "tls: chain and name verified\n" in out
    assert "tls sni: tenant-a.test\ntls verify-name: tenant-a.test\n" in out
    assert "backend: web\n" in ok(pc, "show", "host", "api.tenant-a.test")
    assert json.loads(ok(pc, "show", "host", "pull.tenant-a.test", "json"))["backend"] == "origin"
    assert "backend=raw " in ok(pc, "show", "hosts", "raw.*")
    assert "no backend nothing" in refused(pc, "show", "backend", "nothing")


def test_dump_config(pc):
    out = ok(pc, "dump", "config")
    for line in ["backend web server 198.18.1.10:8080",
                 "backend web server 198.18.1.11:8080 weight 3",
                 "backend web balance leastconn", "backend web health http /healthz interval 500",
                 "backend web timeouts 2000 30000", "backend web header client-identity X-Peer-Id",
                 "backend web header forwarded-for off", "backend raw mode tcp",
                 "backend raw send-proxy-v2 cert",
                 f"backend origin tls ca {pc.origin}/origin-ca.crt cert {pc.origin}/client.pem "
                 f"{pc.origin}/client.key sni tenant-a.test",
                 "host default backend web", "host raw.tenant-a.test backend raw"]:
        assert line + "\n" in out, line
    # Backends come before the hosts that name them.
    assert out.index("backend web server") < out.index("host default backend web")


def test_change_keeps_id(pc):
    before = backend(pc, "spare")
    rc, _, err = txn(pc, "backend spare server 198.18.1.41:80 weight 2",
                     "backend spare server 198.18.1.40:80 off", "backend spare mode tcp")
    assert rc == 0, err
    after = backend(pc, "spare")
    assert after["id"] == before["id"] and after["generation"] > before["generation"]
    assert [(s["address"], s["weight"]) for s in after["servers"]] == [("198.18.1.41:80", 2)]
    assert after["mode"] == "tcp"
    # Others keep their version.
    assert backend(pc, "web")["generation"] < after["generation"]


def test_refused(pc):
    gen = json.loads(ok(pc, "show", "info", "json"))["generation"]
    rc, _, err = txn(pc, "del backend web")
    assert rc != 0 and "backend web is used by 2 host(s)" in err, err
    rc, _, err = txn(pc, "backend empty mode http")
    assert rc != 0 and "backend empty: no server" in err, err
    rc, _, err = txn(pc, "backend spare server none")
    assert rc != 0 and "backend spare: no server" in err, err
    rc, _, err = txn(pc, "host other.tenant-a.test cert-ref edge",
                     "host other.tenant-a.test backend missing")
    assert rc != 0 and "host other.tenant-a.test: no backend missing" in err, err
    for words, msg in [
            (["backend", "x", "server", "198.18.1.1"], "is not ADDR:PORT"),
            (["backend", "x", "server", "198.18.1.1:0"], "out of range"),
            (["backend", "x", "server", "198.18.1.1:80", "weight", "257"], "out of range"),
            (["backend", "x", "server", "127.0.0.1:80"], "not a unicast address"),
            (["backend", "x", "balance", "random"], "expected roundrobin or leastconn"),
            (["backend", "x", "mode", "udp"], "expected tcp or http"),
            (["backend", "x", "health", "http"], "need a PATH"),
            (["backend", "x", "header", "client-verify", "Content-Length"], "cannot be set"),
            (["backend", "x", "header", "nope", "X-A"], "unknown header 'nope'"),
            (["backend", "x", "tls", "ca", "/nonexistent/ca.pem"], "/nonexistent/ca.pem"),
            (["backend", "x", "tls", "cert", "/nonexistent/c.pem"], "missing argument"),
            (["backend", "none", "server", "198.18.1.1:80"], "cannot name a backend"),
            (["backend", "a:b", "mode", "tcp"], "':' is not allowed"),
            (["del", "backend", "nothing"], "no backend nothing")]:
        assert msg in refused(pc, *words), words
    assert json.loads(ok(pc, "show", "info", "json"))["generation"] == gen


def test_unreferenced_then_deleted(pc):
    rc, _, err = txn(pc, "backend gone server 198.18.1.50:80",
                     "host gone.tenant-a.test backend gone",
                     "host gone.tenant-a.test cert-ref edge")
    assert rc == 0, err
    assert backend(pc, "gone")["hosts"] == ["gone.tenant-a.test"]
    rc, _, err = txn(pc, "del backend gone")
    assert rc != 0 and "used by 1 host(s), gone.tenant-a.test among them" in err, err
    # The host back to the built-in responder, then the backend can go.
    rc, _, err = txn(pc, "host gone.tenant-a.test backend none", "del backend gone")
    assert rc == 0, err
    assert "no backend gone" in refused(pc, "show", "backend", "gone")
    assert json.loads(ok(pc, "show", "host", "gone.tenant-a.test", "json"))["backend"] is None
    rc, _, err = txn(pc, "del host gone.tenant-a.test")
    assert rc == 0, err


def test_reload(pc):
    # The file is the truth: spare (changed by pcctl) comes back as the
    # file has it, raw goes with its host, web changes, origin stays.
    text = CONFIG.format(d=pc.dir, p=pc.pki, o=pc.origin)
    text = text.replace("backend raw server 198.18.1.30:9000\nbackend raw mode tcp\n"
                        "backend raw send-proxy-v2 cert\nbackend raw header client-s-dn X-DN\n", "")
    text = text.replace("host raw.tenant-a.test backend raw\n", "")
    text = text.replace("backend web balance leastconn", "backend web balance roundrobin")
    pc.conf.write_text(text)
    origin = backend(pc, "origin")
    web_id = backend(pc, "web")["id"]
    out = ok(pc, "reload")
    assert "backend web" in out and "backend raw" in out and "backend spare" in out, out
    b = backends(pc)
    assert set(b) == {"web", "origin", "spare"}
    assert b["web"]["balance"] == "roundrobin" and b["web"]["id"] == web_id
    assert b["origin"]["generation"] == origin["generation"]
    # The same lines, a CA file with other content: the backend is changed.
    shutil.copy(pc.pki / "server-rsa-ca.crt", pc.origin / "origin-ca.crt")
    out = ok(pc, "reload")
    assert "changed (backend origin)" in out, out
    after = backend(pc, "origin")
    assert after["generation"] > origin["generation"] and after["id"] == origin["id"]
    assert b["spare"]["mode"] == "http"
    assert "no host raw.tenant-a.test" in refused(pc, "show", "host", "raw.tenant-a.test")
    # The same file again changes nothing.
    gen = json.loads(ok(pc, "show", "info", "json"))["generation"]
    ok(pc, "reload")
    assert json.loads(ok(pc, "show", "info", "json"))["generation"] == gen
    # A file naming a backend that does not exist is refused whole.
    pc.conf.write_text(text + "host x.tenant-a.test backend missing\n")
    assert "no backend missing" in refused(pc, "reload")
    pc.conf.write_text(text + "backend bad server 198.18.1.1:80 weight 0\n")
    err = refused(pc, "reload")
    assert "pc.conf:" in err and "out of range" in err, err
    assert json.loads(ok(pc, "show", "info", "json"))["generation"] == gen
    pc.conf.write_text(text)


def test_dump_config_is_the_state(pc):
    # The dump as the config file: a reload finds nothing to change.
    gen = json.loads(ok(pc, "show", "info", "json"))["generation"]
    before = ok(pc, "show", "backends", "json")
    dump = ok(pc, "dump", "config")
    pc.conf.write_text(dump)
    out = ok(pc, "reload")
    assert json.loads(ok(pc, "show", "info", "json"))["generation"] == gen, out
    assert ok(pc, "show", "backends", "json") == before
    assert ok(pc, "dump", "config") == dump
    write_config(pc)
    ok(pc, "reload")


def wait_for(pred, what, timeout=30):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_watch_backend_files(pc):
    ok(pc, "watch", "on")
    before = backend(pc, "origin")
    ca = pc.origin / "origin-ca.crt"
    # Another CA, written the way tools do: a new file renamed over it.
    tmp = pc.origin / ".origin-ca.tmp"
    shutil.copy(pc.pki / "server-ca.crt", tmp)
    tmp.rename(ca)
    wait_for(lambda: backend(pc, "origin")["generation"] > before["generation"],
             "the watcher did not reload backend origin")
    after = backend(pc, "origin")
    assert after["id"] == before["id"] and after["tls"]["origin_verified"]
    wait_for(lambda: "watch: reloaded backend origin" in pc.events.read_text(),
             "no event line for the reload")
    # A file that does not parse is refused; the loaded CA stays.
    ca.write_text("not a certificate\n")
    wait_for(lambda: "watch: backend origin: refused" in pc.events.read_text(),
             "a broken CA file was not refused")
    assert backend(pc, "origin")["generation"] == after["generation"]
    shutil.copy(pc.pki / "server-rsa-ca.crt", ca)
    wait_for(lambda: backend(pc, "origin")["generation"] > after["generation"],
             "the watcher did not take the good file back")
    # The client certificate renewed with a new key, the chain first: the
    # pair is waited for, then taken in one reload.
    after = backend(pc, "origin")
    reloads = pc.events.read_text().count("watch: reloaded backend origin")
    shutil.copy(pc.pki / "rsa.chain.pem", pc.origin / "client.pem")
    time.sleep(0.5)
    shutil.copy(pc.pki / "rsa.key", pc.origin / "client.key")
    wait_for(lambda: backend(pc, "origin")["generation"] > after["generation"],
             "the watcher did not take the new client certificate")
    time.sleep(0.5)
    text = pc.events.read_text()
    assert text.count("watch: reloaded backend origin") == reloads + 1, text
    assert text.count("watch: backend origin: refused") == 1, text
