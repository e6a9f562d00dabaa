# SPDX-License-Identifier: MIT
"""Resource-exhaustion attacks mounted from the lab's client namespace
while a legitimate client keeps being served, each with the counters that
show the defence at work: connections we closed that the peer never
finishes, idle and zero-window peers on plain TCP listeners, and floods of
segments that each ask for a challenge ACK."""
import json
import signal
import subprocess
import time
from pathlib import Path

from conftest import NS_CLIENT, ROOT, in_ns

PY = "/usr/bin/python3"
RAW = Path(__file__).with_name("raw_tcp.py")
PKI = ROOT / "build" / "demo-pki"

CONF = f"""ip address 198.18.0.1/24
worker idle backoff 50 500 50
tcp listen 7 echo
tcp listen 19 source 4194304
tls listen 443 http
tls versions 1.2 1.3
host default cert {PKI}/server.crt {PKI}/server.key
host default verify required
host default ca {PKI}/ca.crt
"""

# Opens N connections to port 443 at RATE per second, each sending bytes
# that are not TLS (portcullis closes first), and keeps them all open
# without ever sending a FIN, until its standard input closes. Prints how
# many saw portcullis's FIN.
GARBAGE = """
import socket, sys, time
n, rate = int(sys.argv[1]), float(sys.argv[2])
socks, closed = [], 0
start = time.monotonic()
for i in range(n):
    time.sleep(max(0.0, start + i / rate - time.monotonic()))
    s = socket.create_connection(("198.18.0.1", 443), timeout=30)
    s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
    socks.append(s)
for s in socks:
    if s.recv(100) == b"":
        closed += 1
print(closed, flush=True)
sys.stdin.readline()
"""

# Mutual-TLS handshakes and one request each, back to back, until the
# file named by argv[1] exists; prints {"ok": N, "failed": [errors]}.
LEGIT = """
import json, os, socket, ssl, sys
pki, stop = sys.argv[2], sys.argv[1]
ctx = ssl.create_default_context(cafile=pki + "/ca.crt")
ctx.load_cert_chain(pki + "/client.crt", pki + "/client.key")
ok, failed = 0, []
while not os.path.exists(stop):
    try:
        with ctx.wrap_socket(socket.create_connection(("198.18.0.1", 443), timeout=30),
                             server_hostname="portcullis.test") as t:
            t.sendall(b"GET / HTTP/1.1\\r\\nHost: portcullis.test\\r\\nConnection: close\\r\\n\\r\\n")
            data = b""
            while True:
                b = t.recv(4096)
                if not b:
                    break
                data += b
        if data.startswith(b"HTTP/1.1 200"):
            ok += 1
        else:
            failed.append(data[:40].decode("latin-1"))
    except OSError as e:
        failed.append(repr(e))
print(json.dumps({"ok": ok, "failed": failed}))
"""


def legit_clients(tmp_path):
    """Starts the legitimate client; returns (process, stop file)."""
    stop = tmp_path / "stop-legit"
    p = subprocess.Popen(["ip", "netns", "exec", NS_CLIENT, PY, "-c", LEGIT, str(stop), str(PKI)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p, stop


def legit_result(p, stop):
    stop.touch()
    out, _ = p.communicate(timeout=120)
    assert p.returncode == 0, out
    return json.loads(out.strip().splitlines()[-1])


def test_closed_connections_hold_no_slot(start_portcullis, tmp_path):
    """300 clients that make portcullis close first (garbage instead of a
    ClientHello) and then never send their FIN, 30 a second, against
    `tcp max-connections 64`: each leaves the connection table for a
    compact FIN_WAIT_2 entry as soon as our FIN is acknowledged, so the
    legitimate mTLS client beside them never meets a full table."""
    pc = start_portcullis(config_text=CONF + "tcp max-connections 64\n")
    legit, stop = legit_clients(tmp_path)
    garbage = subprocess.Popen(["ip", "netns", "exec", NS_CLIENT, PY, "-c", GARBAGE, "300", "30"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        closed = garbage.stdout.readline().strip()
        assert closed == "300", closed
        c = pc.wait_counters(lambda c: c["tcp_compact_fin_wait_2"] >= 300)
        # SIGUSR2 lists them, one line each.
        pc.proc.send_signal(signal.SIGUSR2)
        deadline = time.monotonic() + 30
        while pc.log_path.read_text().count(" FIN_WAIT_2 compact, ends in ") < 300:
            assert time.monotonic() < deadline, pc.log_path.read_text()[-2000:]
            time.sleep(0.05)
    finally:
        garbage.stdin.close()
        garbage.wait(timeout=60)
        r = legit_result(legit, stop)
    assert r["failed"] == [] and r["ok"] > 0, r
    assert c["tcp_compact_fin_wait_2"] >= 300, c
    assert c["tcp_compacted"] >= 300, c
    assert c["tls_err_not_tls"] == 300, c
    assert c.get("drop_tcp_conn_limit", 0) == 0, c
    # Their FINs come now: FIN_WAIT_2 becomes TIME_WAIT, still compact.
    c = pc.wait_counters(lambda c: c["tcp_compact_fin_wait_2"] == 0)
    assert c["tcp_compact_fin_wait_2"] == 0 and c["tcp_compact_time_wait"] >= 300, c
    assert c["tcp_connections_active"] == 0, c
    assert pc.stop() == 0


# Connects to the echo port and sends nothing (idle), or to the source
# port with a tiny receive buffer and reads nothing (a closed window);
# prints how the connection ended and after how many seconds (counted
# from before connect(): portcullis's clock cannot start earlier).
HOLD = """
import socket, sys, time
port = int(sys.argv[1])
s = socket.socket()
if port == 19:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
start = time.monotonic()
s.connect(("198.18.0.1", port))
if port == 19:
    time.sleep(float(sys.argv[2]))
s.settimeout(120)
try:
    while s.recv(65536):
        pass
    how = "fin"
except ConnectionResetError:
    how = "reset"
print(how, round(time.monotonic() - start, 1))
"""


def test_idle_peer_is_reset(start_portcullis):
    """An idle peer on a plain TCP listener is reset after `tcp
    idle-timeout` (on by default; shortened here)."""
    pc = start_portcullis(config_text=CONF + "tcp idle-timeout 2\n")
    r = in_ns(NS_CLIENT, [PY, "-c", HOLD, "7"], timeout=180)
    assert r.returncode == 0, r.stderr
    how, seconds = r.stdout.split()
    assert how == "reset" and float(seconds) >= 2.0, r.stdout
    c = pc.counters()
    assert c["tcp_conns_timed_out"] == 1, c
    assert pc.stop() == 0


def test_zero_window_peer_is_given_up(start_portcullis):
    """A peer that never reads while we have data for it answers every
    probe with a closed window: given up after `tcp persist-timeout`,
    counted; the echo port serves others meanwhile."""
    pc = start_portcullis(config_text=CONF + "tcp persist-timeout 3\n")
    hold = subprocess.Popen(["ip", "netns", "exec", NS_CLIENT, PY, "-c", HOLD, "19", "60"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        c = pc.wait_counters(lambda c: c["tcp_persist_timeouts"] >= 1, timeout=90)
        r = in_ns(NS_CLIENT, [PY, "-c", "import socket; s=socket.create_connection("
                              "('198.18.0.1', 7), timeout=30); s.sendall(b'x'); print(s.recv(1))"],
                  timeout=60)
        assert r.stdout.strip() == "b'x'", r.stdout + r.stderr
    finally:
        hold.kill()
        hold.wait()
    # How many probes fit in 3 s depends on the RTO (from the RTT, longer
    # on a loaded machine): at least the one that started the clock.
    assert c["tcp_persist_timeouts"] == 1 and c["tcp_window_probes"] >= 1, c
    assert c["tcp_conns_timed_out"] == 1, c
    assert pc.stop() == 0


def test_challenge_ack_flood_is_rate_limited(start_portcullis):
    """3000 in-window RSTs on a live connection (RFC 5961 3.2: each asks
    for a challenge ACK) against a budget of 100 per second: at most the
    budget is answered, the rest counted, and the connection lives on."""
    pc = start_portcullis(config_text=CONF + "tcp challenge-ack-limit 100\n")
    start = time.monotonic()
    r = in_ns(NS_CLIENT, [PY, str(RAW), "rstflood", "3000"], timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    c = pc.counters()
    elapsed = time.monotonic() - start
    flood = json.loads(r.stdout.strip().splitlines()[-1])
    # One budget per started second of the whole run, at most.
    budget = 100 * (int(elapsed) + 1)
    assert 0 < c["tcp_challenge_acks"] <= budget, (c, elapsed)
    assert c["tcp_challenge_acks"] + c["tcp_acks_rate_limited"] == 3000, c
    assert flood["acks"] <= c["tcp_challenge_acks"] + 2, (flood, c)
    assert c.get("drop_tcp_rst_in_window", 0) == 3000, c
    assert pc.stop() == 0
