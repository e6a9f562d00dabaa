# SPDX-License-Identifier: MIT
"""TCP mode (`backend NAME mode tcp`): after the handshake, the client's
bytes go to a backend server and back, through portcullis's TCP on both
sides. Echo, 16 MiB both ways with hashes, half-close both ways, a backend
that stops reading (the client stalls, portcullis's memory stays bounded,
other connections go on), a backend that resets or is killed mid-stream, a
backend with no server listening, health checks bringing a server back,
round-robin and weights. Each test starts its own portcullis and backends
(proxy_lab.py) and stops them."""
import json

from test_cli import ok
from proxy_lab import (BACKEND_ADDR, client_args, counter, host_lines, run_client, start_client,
                       stop_client, wait_for)

SNI = "tcp.tenant-a.test"


def tcp_backend(name, *servers, extra=()):
    """A TCP-mode backend; a server is a port (on the backend's address)
    or the rest of a `server` line ("ADDR:PORT [weight N]")."""
    lines = [f"backend {name} server " + (f"{BACKEND_ADDR}:{x}" if isinstance(x, int) else x)
             for x in servers]
    lines += [f"backend {name} mode tcp", *[f"backend {name} {x}" for x in extra]]
    return "\n".join(lines) + "\n"


def config(ports, host=SNI, name="be", extra=()):
    return tcp_backend(name, *ports, extra=extra) + host_lines(host, name)


ECHO = r'''
def main():
    s = connect(A["sni"])
    ok = []
    for msg in (b"hello", b"x" * 1000, bytes(range(256)) * 64, b"bye\n"):
        s.sendall(msg)
        ok.append(recv_exact(s, len(msg)) == msg)
    return {"ok": all(ok), "peer": s.getpeername()[0]}
done(outcome(main))
'''


def echo_once(pki, sni=SNI):
    return run_client(ECHO, client_args(pki, sni=sni))


def test_echo_through(proxy, backends, pki):
    b = backends("echo", 9001)
    pc = proxy(config([9001]))
    r = echo_once(pki)
    assert r == {"ok": True, "peer": "198.18.0.1"}, r
    # The backend saw one connection, from portcullis's address.
    assert [e.split()[1].split(":")[0] for e in b.events("accept")] == ["198.18.0.1"]
    c = pc.wait_counters(lambda c: c["tls_connections_active"] == 0)
    assert counter(c, "connects") == 1, c


LARGE = r'''
def main():
    p = Pump(A["sni"])
    data = os.urandom(A["bytes"])
    back = p.run(data, want=len(data))
    # The same both ways at once: the echo comes back while we send.
    return {"sent": hashlib.sha256(data).hexdigest(), "back": hashlib.sha256(back).hexdigest(),
            "len": len(back)}
done(outcome(main))
'''


def test_two_workers(proxy, backends, pki):
    """Two workers (af_packet fanout): each client connection's server
    connection is opened by the worker that owns the client's flow, from a
    local port whose replies come back to that worker, so a proxied flow
    never crosses workers: per worker, as many server connections as
    proxied client connections."""
    backends("echo", 9013)
    pc = proxy(config([9013]), workers=2, pmd="af_packet")
    for _ in range(12):
        r = echo_once(pki)
        assert r.get("ok"), r
    c = pc.wait_counters(lambda c: c["tls_connections_active"] == 0)
    assert c["l7_tcp_proxy_conns"] == 12 and c["l7_up_connects"] == 12, c
    text = pc.log_path.read_text().rsplit("counters (all", 1)[1]
    per = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name.startswith("lcore") and name.split(".", 1)[1] in ("tcp_passive_opens",
                                                                   "tcp_active_opens"):
            per[name] = int(value.split()[0])
    passive = {k.split(".")[0]: v for k, v in per.items() if k.endswith("passive_opens")}
    active = {k.split(".")[0]: v for k, v in per.items() if k.endswith("active_opens")}
    assert len(passive) == 2 and sum(passive.values()) == 12, per
    assert passive == active, per


def test_large_transfer_both_ways(proxy, backends, pki):
    backends("echo", 9002)
    proxy(config([9002]))
    n = 16 << 20
    r = run_client(LARGE, client_args(pki, sni=SNI, bytes=n), timeout=300)
    assert r.get("len") == n and r["sent"] == r["back"], r


HALF_CLOSE = r'''
def main():
    p = Pump(A["sni"])
    data = os.urandom(A["bytes"])
    # Our close_notify after the data: the backend's EOF, then its answer
    # and its FIN come back on the half-open connection.
    answer = p.run(data, close_write=True)
    return {"answer": answer.decode(), "want": f"{len(data)} {hashlib.sha256(data).hexdigest()}\n",
            "eof": p.eof}
done(outcome(main))
'''


def test_half_close_both_ways(proxy, backends, pki):
    backends("hash", 9003)
    proxy(config([9003]))
    r = run_client(HALF_CLOSE, client_args(pki, sni=SNI, bytes=3 << 20), timeout=120)
    assert r.get("answer") == r.get("want") and r["eof"], r


# Sends into a backend that never reads until nothing more is taken for
# QUIET seconds (no assertion on time: a slower machine only stops it
# sooner, with fewer bytes sent), says how much went, then waits for a line
# on stdin before closing.
STALL = r'''
import select
def main():
    s = connect(A["sni"])
    s.setblocking(False)
    chunk, sent, last = os.urandom(1 << 16), 0, time.monotonic()
    while sent < A["limit"] and time.monotonic() - last < A["quiet"]:
        _, w, _ = select.select([], [s], [], 0.2)
        if w:
            try:
                sent += s.send(chunk)
                last = time.monotonic()
            except (ssl.SSLWantWriteError, BlockingIOError):
                pass
    done({"sent": sent})
    sys.stdin.readline()
done(outcome(main))
'''


def rss_kb(pc):
    for line in open(f"/proc/{pc.proc.pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_backend_that_stops_reading(proxy, backends, pki):
    """The client stalls: portcullis takes what the TCP windows and its
    bounded buffers hold, not the 256 MiB offered; its memory does not
    grow with it; another connection goes on meanwhile."""
    sink = backends("sink", 9004)
    backends("echo", 9005)
    pc = proxy(config([9004]) + config([9005], host="echo.tenant-a.test", name="echo"))
    assert echo_once(pki, "echo.tenant-a.test")["ok"]
    rss0 = rss_kb(pc)
    limit = 256 << 20
    cl = start_client(STALL, client_args(pki, sni=SNI, limit=limit, quiet=3))
    try:
        line = cl.stdout.readline()
        assert line, cl.stderr.read()
        sent = json.loads(line)["sent"]
        # Client socket buffers (<= 4 MiB), the backend's receive buffer
        # (<= 6 MiB), the windows in flight and portcullis's per-connection
        # buffers: far less than what was offered.
        assert sent < 48 << 20, f"{sent} bytes taken by a backend that reads nothing"
        assert sink.accepts() == 1
        grown = rss_kb(pc) - rss0
        assert grown < 32 << 10, f"portcullis grew by {grown} KiB"
        # Other connections are served while that one is stalled.
        for _ in range(3):
            assert echo_once(pki, "echo.tenant-a.test")["ok"]
        # The stalled connection is still there: open on both sides.
        assert cl.poll() is None
        c = pc.wait_counters(lambda c: c["tls_connections_active"] == 1)
        assert c["tls_connections_active"] == 1, c
    finally:
        stop_client(cl)


# Streams until the connection ends; what ended it.
STREAM = r'''
def main():
    p = Pump(A["sni"])
    try:
        back = p.run(os.urandom(A["bytes"]), want=A["bytes"])
        return {"ended": False, "read": len(back)}
    except (OSError, ConnectionError, ssl.SSLError) as e:
        return {"ended": True, "how": f"{type(e).__name__}: {e}"}
done(outcome(main))
'''


def test_backend_reset_mid_stream(proxy, backends, pki):
    """The server resets after 1 MiB: the client's connection ends, and
    the reset is counted."""
    backends("reset", 9006, "--after", str(1 << 20))
    pc = proxy(config([9006]))
    before = counter(pc.counters(), "reset")
    r = run_client(STREAM, client_args(pki, sni=SNI, bytes=32 << 20), timeout=120)
    assert r.get("ended") is True, r
    c = pc.wait_counters(lambda c: c["tls_connections_active"] == 0)
    assert c["tls_connections_active"] == 0, c
    assert counter(c, "reset") == before + 1, c


# One echo, a line to stdout, then (after a line on stdin) reads until
# the connection ends.
HOLD = r'''
def main():
    s = connect(A["sni"], timeout=60)
    s.sendall(b"ping")
    assert recv_exact(s, 4) == b"ping"
    done({"echoed": True})
    sys.stdin.readline()
    try:
        data = s.recv(100)
        return {"end": "eof" if not data else f"data {data!r}"}
    except (OSError, ssl.SSLError) as e:
        return {"end": f"{type(e).__name__}: {e}"}
done(outcome(main))
'''


def test_backend_killed_mid_stream(proxy, backends, pki):
    """A server process killed under an open connection: the kernel ends
    its side, and the client's connection ends too (no hang)."""
    b = backends("echo", 9007)
    pc = proxy(config([9007]))
    cl = start_client(HOLD, client_args(pki, sni=SNI))
    try:
        assert json.loads(cl.stdout.readline() or "{}").get("echoed"), cl.stderr.read()
        b.kill()
        cl.stdin.write("\n")
        cl.stdin.flush()
        end = json.loads(cl.stdout.readline() or "{}")
        assert "end" in end and not end["end"].startswith("data"), end
    finally:
        stop_client(cl)
    c = pc.wait_counters(lambda c: c["tls_connections_active"] == 0)
    assert c["tls_connections_active"] == 0, c


REFUSED = r'''
def main():
    s = connect(A["sni"])
    s.sendall(b"hello")
    try:
        data = s.recv(100)
        return {"data": data.decode("latin-1")}
    except (OSError, ssl.SSLError) as e:
        return {"ended": f"{type(e).__name__}: {e}", "alert": getattr(e, "reason", None)}
done(outcome(main))
'''


def test_backend_refusing(proxy, pki):
    """No server listens: the client's connection ends with an alert or a
    close (never data), and the refusal is counted."""
    pc = proxy(config([9008]))
    before = pc.counters()
    r = run_client(REFUSED, client_args(pki, sni=SNI))
    assert not r.get("data"), r
    c = pc.wait_counters(lambda c: c["tls_connections_active"] == 0)
    assert c["tls_connections_active"] == 0, c
    refusals = counter(c, "refused") + counter(c, "no_server")
    assert refusals > counter(before, "refused") + counter(before, "no_server"), c


def test_health_check_restores_a_server(proxy, backends, pki):
    """A server down at start: refused (or no healthy server); once it
    listens, the health checks bring it back and connections go through."""
    pc = proxy(config([9009], extra=["health tcp interval 200"]))
    r = run_client(REFUSED, client_args(pki, sni=SNI))
    assert not r.get("data"), r

    def server_state():
        out = json.loads(ok(pc, "show", "backend", "be", "json"))
        return out["servers"][0]
    # The worker that took the connection checks the server from then on.
    wait_for(lambda: server_state()["state"] == "down", "never marked down", timeout=30)
    st = server_state()
    # Two failures in a row: the refused connection's and a check's.
    assert st["failures"] + st["check_failures"] >= 2, st
    b = backends("echo", 9009)

    def through():
        r = echo_once(pki)
        return r.get("ok")
    wait_for(through, "the server never came back", timeout=60, step=0.2)
    assert b.accepts() >= 1
    c = pc.counters()
    assert counter(c, "refused") + counter(c, "no_server") >= 1, c
    assert counter(c, "server_up") >= 1, c
    st = server_state()
    assert st["state"] == "up" and st["connects"] >= 1, st
    assert "state=up workers_down=0/1" in ok(pc, "show", "backend", "be"), st


def test_round_robin_and_weights(proxy, backends, pki):
    a, b = backends("echo", 9010), backends("echo", 9011)
    c, d = backends("echo", 9012), backends("echo", 9013)
    pc = proxy(config([9010, 9011], extra=["balance roundrobin"])
               + tcp_backend("w", f"{BACKEND_ADDR}:9012 weight 2", 9013,
                             extra=["balance roundrobin"])
               + host_lines("w.tenant-a.test", "w"))
    for _ in range(6):
        assert echo_once(pki)["ok"]
    assert (a.accepts(), b.accepts()) == (3, 3)
    for _ in range(6):
        assert echo_once(pki, "w.tenant-a.test")["ok"]
    # Two rounds of weights 2 and 1, whatever the order within a round.
    assert (c.accepts(), d.accepts()) == (4, 2)
    pc.wait_counters(lambda c: c["tls_connections_active"] == 0)


# One echo, then waits (up to 120 s) for the connection to end.
IDLE = r'''
def main():
    s = connect(A["sni"], timeout=120)
    s.sendall(b"ping")
    assert recv_exact(s, 4) == b"ping"
    try:
        data = s.recv(100)
        return {"end": "eof" if not data else f"data {data!r}"}
    except socket.timeout:
        return {"end": "still open after 120 s"}
    except (OSError, ssl.SSLError) as e:
        return {"end": f"{type(e).__name__}: {e}"}
done(outcome(main))
'''


def test_idle_timeout(proxy, backends, pki):
    """`timeouts CONNECT IDLE`: a proxied connection with no data either
    way for IDLE ms is ended, and counted. Both of its connections go
    idle together: the server connection's idle timer alone ends the pair
    (the client's connection has no deadline of its own while a server
    connection works for it), counted once as the server connection's
    idle timeout, never as a TCP timeout of the client's."""
    backends("echo", 9014)
    pc = proxy(config([9014], extra=["timeouts 2000 500"]))
    r = run_client(IDLE, client_args(pki, sni=SNI), timeout=180)
    assert r.get("end") and not r["end"].startswith(("data", "still")), r
    c = pc.wait_counters(lambda c: c["tls_connections_active"] == 0)
    assert counter(c, "timeout") == 1 and c["tcp_conns_timed_out"] == 0, c


def test_connect_timeout(proxy, pki):
    """A server that never answers (an address nobody has): the connect
    timeout ends the client's connection, counted as refused or timed
    out."""
    pc = proxy(config(["198.18.0.99:9015"], extra=["timeouts 300 60000"]))
    r = run_client(REFUSED, client_args(pki, sni=SNI), timeout=120)
    assert not r.get("data"), r
    c = pc.wait_counters(lambda c: c["tls_connections_active"] == 0)
    assert c["tls_connections_active"] == 0, c
    # (No ARP answer either: no SYN leaves; still a server that did not
    # answer in time.)
    assert counter(c, "refused") + counter(c, "connect_timeout") >= 1, c
