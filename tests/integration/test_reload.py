# SPDX-License-Identifier: MIT
"""reload and SIGHUP: the config file read again and its difference applied
as one transaction (hosts and CA sets added, changed, removed; a
certificate whose file changed under the same name), unchanged objects kept
at their generation, connections already open untouched; broken files
(a bad line, a missing or garbage certificate, a start-up setting changed)
refused with nothing changed. The logs: the access log reopened after a
logrotate-style rename with no record lost, its JSON format, and the event
log in a file of its own, reopened too. One portcullis for the module, PKI
from scripts/pki_cases.py."""
import json
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import NS_CLIENT, ROOT, Portcullis, running
from test_cli import GOOD_ID, ok, refused
from test_tls import client
A = "tenant-a.test"

# watch off: the files this test rewrites are taken by `reload` alone (the
# file watcher would race it to them).
BASE = """
watch off
ip address 198.18.0.1/24
worker idle backoff 50 500 50
tcp listen 7 echo
tls listen 443 http
tls versions 1.2 1.3
control socket {d}/pc.sock
access-log {d}/access.log
event-log {d}/events.log
tcp idle-timeout {idle}
tls ticket-keys {d}/ticket.keys
cert edge {d}/edge.pem {d}/edge.key
ca-set tenant-a file {p}/a-bundle.pem
ca-set tenant-b file {p}/b-root.crt
host default cert-ref edge
host default verify required
host default ca-set tenant-b
host keep.{a} verify required
host keep.{a} ca-set tenant-a
"""

# Hosts of the first config: change.* accepts the good client, gone.* too.
FIRST = """
host change.{a} verify required
host change.{a} ca-set tenant-a
host gone.{a} verify required
host gone.{a} ca-set tenant-a
"""

# The second: change.* now refuses it (allowlist), gone.* is gone (the
# default host's tenant-b CA refuses it), new.* comes with its own CA set.
SECOND = """
host change.{a} verify required
host change.{a} ca-set tenant-a
host change.{a} allow uri:spiffe://tenant-a.test/batch/*
ca-set tenant-a2 file {p}/a-bundle.pem
host new.{a} verify required
host new.{a} ca-set tenant-a2
"""

# A connection kept open across a reload: a request, then one more once a
# line arrives on stdin.
HOLD = """
import socket, ssl, sys
sys.path.insert(0, {tests!r})
from tls_client import read_response
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations({ca!r})
ctx.load_cert_chain({cert!r}, {key!r})
s = ctx.wrap_socket(socket.create_connection(("198.18.0.1", 443), timeout=20),
                    server_hostname={sni!r})
req = "GET / HTTP/1.1\\r\\nHost: {sni}\\r\\n\\r\\n".encode()
s.sendall(req)
print(read_response(s)[0], flush=True)
sys.stdin.readline()
s.sendall(req)
print(read_response(s)[0], flush=True)
"""


def write_config(pc, hosts, idle=300, extra=""):
    text = BASE.format(d=pc.dir, p=pc.pki, a=A, idle=idle) + hosts.format(p=pc.pki, a=A) + extra
    pc.conf.write_text(text)
    return text


@pytest.fixture(scope="module")
def pc(netlab, pki, tmp_path_factory):
    d = tmp_path_factory.mktemp("reload")
    shutil.copy(pki / "server.chain.pem", d / "edge.pem")
    shutil.copy(pki / "server.key", d / "edge.key")
    (d / "ticket.keys").write_text("first " + "ab" * 32 + "\n")
    text = BASE.format(d=d, p=pki, a=A, idle=300) + FIRST.format(p=pki, a=A)
    p = Portcullis(d, "af_xdp", text)
    p.dir, p.pki, p.conf, p.sock = d, pki, d / "pc.conf", str(d / "pc.sock")
    p.events = d / "events.log"
    yield from running(p)


def verdict(pki, sni, cert="good", cafile="server-ca.crt"):
    r = client(pki, sni, cert, cafile=cafile)
    if r["error"] is None and r["responses"] and r["responses"][0]["status"] == 200:
        return r["responses"][0]["body"].strip()
    return r["alert"] or r["error"]


def info(pc):
    return json.loads(ok(pc, "show", "info", "json"))


def generation(pc, host):
    return json.loads(ok(pc, "show", "host", host, "json"))["generation"]


def wait_for(pred, what, timeout=30):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def listed(out, what):
    """(count, names) of a reload summary's "N what (names)"."""
    m = re.search(rf"(\d+) {what}(?: \(([^)]*)\))?", out)
    assert m, (what, out)
    return int(m.group(1)), set(m.group(2).split(", ")) if m.group(2) else set()


def events(pc):
    return pc.events.read_text() if pc.events.exists() else ""


def test_reload_applies_the_difference(pc):
    pki = pc.pki
    assert verdict(pki, f"change.{A}") == f"identity: {GOOD_ID}"
    assert verdict(pki, f"gone.{A}") == f"identity: {GOOD_ID}"
    assert verdict(pki, f"new.{A}") == "TLSV1_ALERT_UNKNOWN_CA"
    # An object pcctl added is not in the file: the reload removes it.
    ok(pc, "host", f"cli.{A}", "ca-set", "tenant-a")
    keep_gen, default_gen = generation(pc, f"keep.{A}"), generation(pc, "default")
    hold = subprocess.Popen(
        ["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3", "-c",
         HOLD.format(tests=str(ROOT / "tests" / "integration"), ca=str(pki / "server-ca.crt"),
                     cert=str(pki / "good.chain.pem"), key=str(pki / "good.key"),
                     sni=f"change.{A}")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert hold.stdout.readline().strip() == "200"
        # The certificate's files rewritten under the same names: changed.
        shutil.copy(pki / "server-rsa.chain.pem", pc.dir / "edge.pem")
        shutil.copy(pki / "server-rsa.key", pc.dir / "edge.key")
        write_config(pc, SECOND, idle=120)
        # The ticket keys' file is read again too.
        (pc.dir / "ticket.keys").write_text("second " + "cd" * 32 + "\nfirst " + "ab" * 32 + "\n")
        out = ok(pc, "reload")
        hold.stdin.write("\n")
        hold.stdin.flush()
        # The connection opened before the reload goes on, with its policy.
        assert hold.stdout.readline().strip() == "200"
    finally:
        hold.stdin.close()
        hold.wait(timeout=30)
    assert listed(out, "added") == (2, {"ca-set tenant-a2", f"host new.{A}"}), out
    assert listed(out, "changed") == (2, {"cert edge", f"host change.{A}"}), out
    assert listed(out, "removed") == (2, {f"host gone.{A}", f"host cli.{A}"}), out
    assert "settings changed: tcp idle-timeout" in out, out
    # New connections see exactly the new state.
    assert verdict(pki, f"change.{A}", cafile="server-rsa-ca.crt") == "TLSV1_ALERT_ACCESS_DENIED"
    assert verdict(pki, f"gone.{A}", cafile="server-rsa-ca.crt") == "TLSV1_ALERT_UNKNOWN_CA"
    assert verdict(pki, f"new.{A}", cafile="server-rsa-ca.crt") == f"identity: {GOOD_ID}"
    assert verdict(pki, f"keep.{A}", cafile="server-rsa-ca.crt") == f"identity: {GOOD_ID}"
    # Unchanged objects were not published again.
    assert generation(pc, f"keep.{A}") == keep_gen
    assert generation(pc, "default") == default_gen
    assert generation(pc, f"change.{A}") == info(pc)["generation"]
    assert "tcp idle-timeout 120" in ok(pc, "dump", "config")
    keys = ok(pc, "show", "ticket-keys")
    assert keys.index("second") < keys.index("first"), keys
    ev = events(pc)
    assert re.search(r"reload \(cli uid=0 pid=\d+\): \S+pc.conf: 2 added \(.*\), 2 changed", ev), ev
    i = info(pc)
    assert i["reloads_ok"] >= 1 and i["last_reload"]["ok"], i
    assert "2 added" in i["last_reload"]["result"], i
    assert "last reload: " in ok(pc, "show", "info")
    # The same file again: nothing to do, no new generation.
    gen = info(pc)["generation"]
    out = ok(pc, "reload")
    assert "0 added, 0 changed, 0 removed" in out and "settings changed: none" in out, out
    assert info(pc)["generation"] == gen


def test_broken_files_change_nothing(pc):
    good = write_config(pc, SECOND, idle=120)
    ok(pc, "reload")
    before, gen = ok(pc, "dump", "config"), info(pc)["generation"]
    failed = info(pc)["reloads_failed"]
    cases = [
        # A bad line: its file and line number.
        (good + "host new.tenant-a.test verify sometimes\n",
         r"pc\.conf:\d+: host: expected none, optional"),
        # A certificate file that is not there: at its line.
        (good.replace(f"{pc.dir}/edge.key", f"{pc.dir}/missing.key"),
         r"pc\.conf:\d+: cert: \S+/missing\.key: No such file or directory"),
        # A start-up setting.
        (good + "tcp buffers 131072 131072\n",
         r"tcp buffers: cannot change at run time: connections and their buffers are "
         r"preallocated on hugepages at start \(restart\)"),
        (good.replace("tls listen 443 http", "tls listen 8443 http"),
         r"tls listen: cannot change at run time"),
        # A CA set whose host is gone from the file but which a host still names.
        (good.replace(f"ca-set tenant-a2 file {pc.pki}/a-bundle.pem\n", ""),
         r"ca-set tenant-a2"),
    ]
    for text, why in cases:
        pc.conf.write_text(text)
        err = refused(pc, "reload")
        assert re.search(why, err) and "usage: reload" not in err, (why, err)
        assert ok(pc, "dump", "config") == before
        assert info(pc)["generation"] == gen
    assert re.search(r"reload \(cli uid=0 pid=\d+\) refused: .*tcp buffers: cannot change at "
                     r"run time.*; nothing changed", events(pc))
    # A certificate file rewritten with garbage: refused at the commit,
    # named, the old one still served.
    pc.conf.write_text(good)
    (pc.dir / "edge.pem").write_text("-----BEGIN CERTIFICATE-----\nnot base64\n"
                                     "-----END CERTIFICATE-----\n")
    err = refused(pc, "reload")
    assert "cert edge" in err and "edge.pem" in err, err
    assert verdict(pc.pki, f"keep.{A}", cafile="server-rsa-ca.crt") == f"identity: {GOOD_ID}"
    assert info(pc)["generation"] == gen
    i = info(pc)
    assert i["reloads_failed"] == failed + len(cases) + 1 and not i["last_reload"]["ok"], i
    # The next good file works.
    shutil.copy(pc.pki / "server.chain.pem", pc.dir / "edge.pem")
    shutil.copy(pc.pki / "server.key", pc.dir / "edge.key")
    out = ok(pc, "reload")
    assert "1 changed (cert edge)" in out, out
    assert verdict(pc.pki, f"keep.{A}") == f"identity: {GOOD_ID}"


def test_sighup_reloads(pc):
    write_config(pc, FIRST)
    n = events(pc).count("reload (SIGHUP)")
    pc.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: events(pc).count("reload (SIGHUP)") > n, "no SIGHUP reload in the event log")
    last = [ln for ln in events(pc).splitlines() if "reload (SIGHUP)" in ln][-1]
    assert listed(last, "added") == (1, {f"host gone.{A}"}), last
    assert listed(last, "removed") == (2, {"ca-set tenant-a2", f"host new.{A}"}), last
    assert verdict(pc.pki, f"gone.{A}") == f"identity: {GOOD_ID}"
    assert verdict(pc.pki, f"new.{A}") == "TLSV1_ALERT_UNKNOWN_CA"
    assert verdict(pc.pki, f"change.{A}") == f"identity: {GOOD_ID}"
    # A broken file by SIGHUP: refused, logged, nothing changed.
    pc.conf.write_text(pc.conf.read_text() + "ip ttl 300\n")
    gen = info(pc)["generation"]
    pc.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "reload (SIGHUP) refused" in events(pc), "no refused SIGHUP reload")
    assert re.search(r"reload \(SIGHUP\) refused: \S+pc\.conf:\d+: ip ttl: ttl 300 out of range",
                     events(pc))
    assert info(pc)["generation"] == gen
    write_config(pc, FIRST)


def records(pc, path):
    """path's lines once every connection has closed and every record
    pushed is out of the rings."""
    pc.wait_counters(lambda c: c["tls_connections_active"] == 0 and c["alog_records_pushed"]
                     == c["alog_records_written"] + c["alog_records_discarded"])
    return path.read_text().splitlines() if path.exists() else []


def test_access_log_reopen_and_json(pc):
    log, rotated = pc.dir / "access.log", pc.dir / "access.log.1"
    before = len(records(pc, log))
    log.rename(rotated)
    for _ in range(3):  # written to the renamed file until the reopen
        assert verdict(pc.pki, f"keep.{A}") == f"identity: {GOOD_ID}"
    # Their records are written once the connections have closed on the
    # server's side too, which may come after the clients are done.
    records(pc, rotated)
    ok(pc, "access-log", "reopen")
    for _ in range(2):
        assert verdict(pc.pki, f"keep.{A}") == f"identity: {GOOD_ID}"
    old, new = records(pc, rotated), records(pc, log)
    assert len(old) == before + 3 and len(new) == 2, (old[-3:], new)
    assert all("sni=keep.tenant-a.test" in ln for ln in old[before:] + new)
    # JSON lines; an odd path (quote, backslash, bytes above ASCII) escaped.
    ok(pc, "access-log", "format", "json")
    try:
        r = client(pc.pki, f"keep.{A}", "good", paths=('/q"\\%C3%A9', "/"))
        assert r["error"] is None, r
        lines = records(pc, log)[2:]
        recs = [json.loads(ln) for ln in lines]
        assert len(recs) == 2, lines
        assert [x["path"] for x in recs] == ['/q"\\%C3%A9', "/"], recs
        assert recs[0]["sni"] == f"keep.{A}" and recs[0]["identity"] == GOOD_ID, recs[0]
        assert recs[0]["status"] == 404 and recs[1]["status"] == 200, recs
        assert recs[0]["resumed"] is False and recs[0]["tls"] == "TLSv1.3", recs[0]
        assert "access-log format json" in ok(pc, "dump", "config")
    finally:
        ok(pc, "access-log", "format", "logfmt")
    assert verdict(pc.pki, f"keep.{A}") == f"identity: {GOOD_ID}"
    assert records(pc, log)[-1].startswith("time=")


def test_event_log_file_and_reopen(pc):
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "
    ok(pc, "host", f"ev.{A}", "ca-set", "tenant-a")
    ev = events(pc)
    assert re.search(stamp + rf"cli uid=0 pid=\d+: host ev\.{A} ca-set tenant-a$", ev, re.M), ev
    # Not in the access log, nor on standard output.
    assert "cli uid=" not in (pc.dir / "access.log").read_text()
    assert "cli uid=" not in pc.log_path.read_text()
    pc.events.rename(pc.dir / "events.log.1")
    ok(pc, "event-log", "reopen")
    ok(pc, "del", "host", f"ev.{A}")
    assert f"del host ev.{A}" in events(pc)
    assert f"del host ev.{A}" not in (pc.dir / "events.log.1").read_text()
    # Elsewhere at run time, and back.
    other = pc.dir / "events-2.log"
    ok(pc, "event-log", str(other))
    ok(pc, "host", f"ev2.{A}", "ca-set", "tenant-a")
    assert f"host ev2.{A} ca-set" in other.read_text()
    ok(pc, "event-log", str(pc.events))
    ok(pc, "del", "host", f"ev2.{A}")
    assert f"del host ev2.{A}" in events(pc)
    assert "No such file" in refused(pc, "event-log", str(pc.dir / "no-dir" / "x.log"))
    assert f"event-log {pc.events}" in ok(pc, "dump", "config")
    # SIGHUP opens both logs again too (logrotate's postrotate).
    log = pc.dir / "access.log"
    before = len(records(pc, log))
    pc.events.rename(pc.dir / "events.log.2")
    log.rename(pc.dir / "access.log.2")
    pc.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "reload (SIGHUP)" in events(pc), "SIGHUP did not reopen the event log")
    assert "reload (SIGHUP)" not in (pc.dir / "events.log.2").read_text().splitlines()[-1]
    assert verdict(pc.pki, f"keep.{A}") == f"identity: {GOOD_ID}"
    assert len(records(pc, log)) == 1 and len(records(pc, pc.dir / "access.log.2")) == before
