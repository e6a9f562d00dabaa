# SPDX-License-Identifier: MIT
"""portcullis's TCP against the Linux stack in the client and backend
namespaces: the built-in echo/discard/source apps, the forward proxy,
limits, and hostile input."""
import json
import os
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ADDR, LAB, NS_BACKEND, NS_CLIENT, in_ns, lab

NS_LOSSY = f"{LAB}-lossy"

CLIENT = Path(__file__).with_name("tcp_client.py")
RAW = Path(__file__).with_name("raw_tcp.py")
PY = "/usr/bin/python3"

BASE_CONF = """ip address 198.18.0.1/24
tcp listen 7 echo
tcp listen 9 discard
tcp listen 19 source {source}
tcp listen 8080 forward 198.18.0.3 7007
{extra}
"""


def conf(source=1 << 20, extra=""):
    return BASE_CONF.format(source=source, extra=extra)


def client(*args, timeout=120, ns=NS_CLIENT, io_timeout=30):
    """tcp_client.py; each of its socket calls may block io_timeout s."""
    r = in_ns(ns, [PY, str(CLIENT), *map(str, args)], timeout=timeout,
              env=dict(os.environ, PC_IO_TIMEOUT=str(io_timeout)))
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture
def backend_echo(netlab):
    """A plain Linux echo server on the backend, 198.18.0.3:7007."""
    code = ("import socket,threading\n"
            "s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
            "s.bind(('198.18.0.3',7007));s.listen(1024)\n"
            "def serve(c):\n"
            "    while True:\n"
            "        b=c.recv(1<<20)\n"
            "        if not b: break\n"
            "        c.sendall(b)\n"
            "    c.shutdown(socket.SHUT_WR);c.close()\n"
            "print('listening',flush=True)\n"
            "while True:\n"
            "    c,_=s.accept();threading.Thread(target=serve,args=(c,),daemon=True).start()\n")
    p = subprocess.Popen(["ip", "netns", "exec", NS_BACKEND, PY, "-c", code],
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "listening"
        yield
    finally:
        p.kill()
        p.wait()


def test_echo_500_concurrent(start_portcullis):
    pc = start_portcullis(config_text=conf())
    r = client("echo-many", ADDR, 7, 500, 200000, 7)
    assert r["failed"] == 0 and r["ok"] == 500, r
    c = pc.counters()
    assert c["tcp_conns_established"] >= 500
    assert pc.stop() == 0


def test_one_gib_each_way(start_portcullis):
    pc = start_portcullis(config_text=conf(extra="tcp buffers 262144 262144"))
    r = client("echo-one", ADDR, 7, 1 << 30, timeout=600)
    assert r["match"] and r["bytes"] == 1 << 30, r
    assert pc.stop() == 0


def test_source_and_discard(start_portcullis):
    start_portcullis(config_text=conf(source=50_000_000))
    r = client("source", ADDR, 19, 50_000_000)
    assert r["match"], r
    r = client("discard", ADDR, 9, 20_000_000)
    assert r["clean_close"], r


@pytest.fixture
def jumbo_lab(netlab):
    """The lab's links at MTU 9000 for one test, 1500 again after it."""
    lab("mtu", "9000")
    try:
        yield 9000
    finally:
        lab("mtu", "1500")


def test_jumbo_frames(start_portcullis, jumbo_lab):
    """MTU 9000 end to end through net_af_packet (net_af_xdp on veth stops
    at ~3.5 KB): the Linux client and portcullis agree on a jumbo MSS,
    and hashed streams cross both ways in full-size frames."""
    pc = start_portcullis("af_packet", conf(source=20_000_000, extra=f"port mtu {jumbo_lab}"),
                          mtu=jumbo_lab)
    assert f"MTU {jumbo_lab}" in pc.log_path.read_text()
    r = client("echo-one", ADDR, 7, 16 << 20)
    assert r["match"] and r["bytes"] == 16 << 20, r
    r = client("source", ADDR, 19, 20_000_000)
    assert r["match"], r
    c = pc.counters()
    # Full frames both ways: far fewer than a 1500-byte MTU would need.
    frames = c["rx_packets"] + c["tx_packets"]
    moved = 2 * (16 << 20) + 20_000_000
    assert frames < moved / 1448 / 2, (frames, moved)
    assert pc.stop() == 0


def test_zero_window_held(start_portcullis):
    """The client keeps its window shut for 5 s: portcullis probes and the
    connection survives, the stream intact."""
    pc = start_portcullis(config_text=conf(source=4_000_000, extra="tcp rto 50 2000 200"))
    r = client("source", ADDR, 19, 4_000_000, 5)
    assert r["match"], r
    assert pc.counters()["tcp_window_probes"] >= 1


def test_forward_to_kernel_backend(start_portcullis, backend_echo):
    """The forward app opens a connection to a Linux backend per client
    (active open) and moves bytes both ways."""
    pc = start_portcullis(config_text=conf())
    r = client("echo-many", ADDR, 8080, 50, 500000, 11)
    assert r["failed"] == 0, r
    r = client("echo-one", ADDR, 8080, 100_000_000)
    assert r["match"], r
    c = pc.counters()
    assert c["tcp_active_opens"] >= 51
    assert pc.stop() == 0


def test_forward_backend_refused(start_portcullis):
    """No backend listening: the client's connection is reset, not hung."""
    start_portcullis(config_text=conf())
    r = in_ns(NS_CLIENT, [PY, "-c",
                          "import socket\n"
                          "try:\n"
                          "    s=socket.create_connection(('198.18.0.1',8080),timeout=10)\n"
                          "    print(repr(s.recv(10)))\n"
                          "except ConnectionResetError:\n"
                          "    print('reset')\n"], timeout=30)
    assert r.stdout.strip() in ("reset", "b''"), r.stdout + r.stderr


def test_connection_limit(start_portcullis):
    """More clients than max-connections: the excess is refused (RST),
    the accepted ones keep working, and capacity comes back after."""
    pc = start_portcullis(config_text=conf(extra="tcp max-connections 40"))
    p = subprocess.Popen(["ip", "netns", "exec", NS_CLIENT, PY, str(CLIENT), "hold", ADDR, "7",
                          "60"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        held = json.loads(p.stdout.readline())
        assert held["accepted"] == 40 and held["refused"] == 20, held
        assert held["errors"] == [], held
    finally:
        p.stdin.close()
        p.wait(timeout=30)
    assert pc.counters()["drop_tcp_conn_limit"] >= 20
    # The connections close; TIME_WAIT stays with the client (it closed
    # first), so the pool is free again.
    c = pc.wait_counters(lambda c: c["tcp_connections_active"] == 0)
    assert c["tcp_connections_active"] == 0, c
    r = client("echo-many", ADDR, 7, 30, 10000, 3)
    assert r["failed"] == 0, r


# Connects from one source port to the source app (which sends its bytes
# and closes first, so portcullis keeps the connection in TIME_WAIT while
# the client keeps nothing), reads to the end and closes; n times in a row.
SAME_PORT = """
import errno, socket, sys, time

def connect():
    # Our own side of the last connection sits in LAST_ACK until
    # portcullis's ACK of our FIN arrives: Linux refuses the same 4-tuple
    # until then (no SYN is sent).
    deadline = time.monotonic() + 30
    while True:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("198.18.0.2", 41999))
        s.settimeout(30)
        try:
            s.connect(("198.18.0.1", 19))
            return s
        except OSError as e:
            s.close()
            if e.errno != errno.EADDRNOTAVAIL or time.monotonic() > deadline:
                raise
            time.sleep(0.05)

for i in range(int(sys.argv[1])):
    t = time.monotonic()
    s = connect()
    got = 0
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += len(b)
    s.close()
    print(i, got, round(time.monotonic() - t, 3), flush=True)
"""


def test_port_reuse_after_our_close(start_portcullis):
    """RFC 6191: a client that comes back from the same port while
    portcullis holds the old connection in TIME_WAIT gets in at once (its
    SYN carries a newer timestamp), as it does with Linux."""
    pc = start_portcullis(config_text=conf(source=1000))
    r = in_ns(NS_CLIENT, [PY, "-c", SAME_PORT, "5"], timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    runs = [line.split() for line in r.stdout.splitlines()]
    assert [int(got) for _, got, _ in runs] == [1000] * 5, r.stdout
    c = pc.counters()
    assert c["tcp_time_wait_reused"] == 4, c
    assert c.get("drop_tcp_time_wait_syn", 0) == 0, c
    # Without the reuse every connect after the first waits out Linux's
    # SYN retransmissions (1 s, 3 s, ...) until our TIME_WAIT ends: none
    # was retransmitted.
    assert c["tcp_passive_opens"] == 5, c
    assert pc.stop() == 0


def test_hostile_segments(start_portcullis):
    """Raw segments from scapy: out-of-window RST and SYN on a live
    connection (challenge ACKs, connection survives), bad options and
    flags counted, a handshake near sequence wrap with overlapping
    retransmissions, all while the connection keeps echoing."""
    pc = start_portcullis(config_text=conf())
    r = in_ns(NS_CLIENT, [PY, str(RAW), "hostile"], timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    c = pc.counters()
    assert c["tcp_challenge_acks"] >= 2, c
    assert c.get("drop_tcp_bad_options", 0) >= 1, c
    assert c.get("drop_tcp_bad_flags", 0) >= 1, c
    assert c.get("drop_tcp_rst_out_of_window", 0) + c.get("drop_tcp_rst_in_window", 0) >= 1
    assert pc.stop() == 0


def test_syn_flood(start_portcullis):
    """A SYN flood from random spoofed sources: the half-open table fills,
    SYN cookies answer, and a real client keeps connecting."""
    pc = start_portcullis(config_text=conf(extra="tcp syn-backlog 64"))
    flood = subprocess.Popen(["ip", "netns", "exec", NS_CLIENT, PY, str(RAW), "synflood", "8"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # The client connects once the first 2,000 SYNs are out.
        ready, _, _ = select.select([flood.stdout], [], [], 60)
        first = flood.stdout.readline() if ready else ""
        assert first == "flooding\n", first
        r = client("echo-many", ADDR, 7, 20, 5000, 5)
        assert r["failed"] == 0, r
    finally:
        out, _ = flood.communicate(timeout=60)
    assert flood.returncode == 0, first + out
    c = pc.counters()
    assert c["tcp_syncookies_sent"] > 0, c
    assert c["tcp_syncookies_ok"] + c["tcp_passive_opens"] >= 20
    assert pc.stop() == 0


def test_two_workers_tcp(start_portcullis, backend_echo):
    """Two workers (af_packet fanout): passive connections spread over
    both; active opens to the backend come back to the worker that made
    them (handed over when they land on the other)."""
    pc = start_portcullis("af_packet", config_text=conf(), workers=2)
    r = client("echo-many", ADDR, 8080, 64, 100000, 9)
    assert r["failed"] == 0, r
    r = client("echo-many", ADDR, 7, 64, 100000, 10)
    assert r["failed"] == 0, r
    c = pc.counters()
    assert c["tcp_active_opens"] >= 64
    text = pc.log_path.read_text().rsplit("counters (all", 1)[1]
    opens = [int(line.split()[1]) for line in text.splitlines()
             if line.startswith("lcore") and ".tcp_passive_opens " in line]
    assert len(opens) == 2 and all(o > 0 for o in opens), opens
    assert pc.stop() == 0


@pytest.mark.parametrize("loss,size", [(0.01, 20_000_000), (0.03, 8_000_000),
                                       (0.10, 1_000_000)])
def test_transfer_through_loss(start_portcullis, relay, loss, size):
    """From the lossy client through the impairment relay (random loss both
    ways, reordering, duplication): echo each way with identical hashes,
    bounded in time, and the source stream intact."""
    # Both ends cap their retransmission timeout at 2 s (the lossy
    # client's is set by scripts/lab.sh): up to 10 % loss both ways, a
    # segment can be lost several times in a row, and doubled timeouts of
    # up to 60 s (ours) or 120 s (Linux) once stalled a CI run past 200 s.
    pc = start_portcullis(config_text=conf(source=size, extra="tcp rto 200 2000 1000"))
    c = lossy_transfers(pc, relay, loss, size, 7)
    assert c["tcp_retransmits"] > 0 and c["tcp_ooo_segments"] > 0, c
    assert pc.stop() == 0


def relay_report():
    """The impairment relay's newest counters (SIGUSR1), or why there are
    none: for the message of a transfer that failed through it."""
    log = Path(f"/run/portcullis-lab-{LAB}-impair.log")
    try:
        pid = int(Path(f"/run/portcullis-lab-{LAB}-impair.pid").read_text())
        os.kill(pid, signal.SIGUSR1)
        time.sleep(0.5)
        text = log.read_text()
    except (OSError, ValueError) as e:
        try:
            tail = log.read_text()[-2000:]
        except OSError as e2:
            tail = f"(unreadable: {e2})"
        return f"relay: no counters ({e}); its log:\n{tail}"
    return "relay: " + text[text.rfind("pc_impair: counters"):]


def lossy_transfers(pc, relay, loss, size, seed):
    """The relay with loss (both ways), 2 % reordering and 1 %
    duplication; echo each way and the source stream (size bytes) from the
    lossy client, both intact. Returns pc's counters. A client that fails
    says what portcullis and the relay counted."""
    relay("--loss", str(loss), "--reorder", "0.02", "--dup", "0.01", "--seed", str(seed))
    for mode, port in (("echo-one", 7), ("source", 19)):
        try:
            r = client(mode, ADDR, port, size, timeout=240, ns=NS_LOSSY, io_timeout=200)
        except AssertionError as e:
            raise AssertionError(f"{e}\nportcullis: {pc.counters()}\n{relay_report()}") from None
        assert r["match"], r
    return pc.counters()
