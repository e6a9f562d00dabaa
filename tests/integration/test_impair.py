# SPDX-License-Identifier: MIT
"""The impairment relay (tests/impair/pc_impair) in the lab, against the
Linux kernel alone: the lossy client (198.18.0.4, whose only way to the
bridge is the relay) pings the backend (198.18.0.3) and sends it TCP.

A lab of its own (PC_LAB=pcti) so that neither the other tests' lab (pct)
nor a demo (pc) is disturbed. Every relay is stopped by its PID
(`lab.sh impair-stop`) even when a test fails, and the lab goes down at
the end of the module."""
import json
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest

from conftest import BUILD, ROOT, icmp_ping_cmd, in_ns

LAB = os.environ.get("PC_TEST_LAB", "pct") + "i"
NS_LOSSY, NS_IMPAIR, NS_BACKEND = f"{LAB}-lossy", f"{LAB}-impair", f"{LAB}-backend"
LOSSY_ADDR, BACKEND_ADDR = "198.18.0.4", "198.18.0.3"
RELAY = BUILD / "tests" / "impair" / "pc_impair"
PORT = 5001


def lab(*args):
    """scripts/lab.sh for this module's lab; returns its output."""
    env = dict(os.environ, PC_LAB=LAB, PC_BUILD=str(BUILD))
    r = subprocess.run([str(ROOT / "scripts" / "lab.sh"), *args], env=env, text=True,
                       capture_output=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"lab.sh {' '.join(args)} exited {r.returncode}:\n"
                           f"{r.stdout}{r.stderr}")
    return r.stdout


def mac_of(ns, dev):
    out = subprocess.run(["ip", "-n", ns, "-o", "link", "show", "dev", dev],
                         check=True, capture_output=True, text=True).stdout
    return re.search(r"link/ether ([0-9a-f:]{17})", out).group(1)


@pytest.fixture(scope="module")
def impair_lab():
    if not RELAY.exists():
        pytest.fail(f"no {RELAY}: build it (tests/meson.build: subdir('impair'))")
    lab("down")
    lab("up")
    try:
        # Permanent neighbours both ways: ARP would cross the relay too, and
        # its requests and replies would then be impaired and counted along
        # with the test's own traffic.
        for ns, dev, addr, peer_ns, peer_dev in (
                (NS_LOSSY, "lc0", BACKEND_ADDR, NS_BACKEND, "be0"),
                (NS_BACKEND, "be0", LOSSY_ADDR, NS_LOSSY, "lc0")):
            subprocess.run(["ip", "-n", ns, "neigh", "replace", addr, "lladdr",
                            mac_of(peer_ns, peer_dev), "dev", dev, "nud", "permanent"],
                           check=True)
        yield
    finally:
        lab("down")


class Relay:
    """pc_impair between the lossy client and the bridge."""

    def __init__(self, args):
        lab("impair", *args)
        self.counters = None

    def stop(self):
        """Stops it (once) and returns its final counters, {"a2b.dropped": n}."""
        if self.counters is None:
            out = lab("impair-stop")
            assert out.startswith("pc_impair: counters"), out
            self.counters = {m[1]: int(m[2])
                             for m in re.finditer(r"^(\w+\.\w+) (\d+)$", out, re.M)}
        return self.counters


@contextmanager
def relay(*args):
    r = Relay(args)
    try:
        yield r
    finally:
        r.stop()


def ping(count, interval, wait=5, size=None):
    """count echo requests from the lossy client to the backend
    (icmp_ping.py): {"sent", "received", "dups", "min", "avg", ...}. It
    waits for the last replies until every request has one or wait
    seconds have passed since the last request: plenty for a relay woken
    late on a loaded machine; a test that expects losses always waits
    that long, so it asks for less."""
    r = in_ns(NS_LOSSY, icmp_ping_cmd(BACKEND_ADDR, count, interval, wait, size),
              timeout=count * interval + wait + 30)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def snmp(ns):
    """/proc/net/snmp and netstat of a namespace: {"TcpInCsumErrors": n, ...}."""
    out = {}
    for name in ("snmp", "netstat"):
        lines = in_ns(ns, ["cat", f"/proc/net/{name}"]).stdout.splitlines()
        for head, vals in zip(lines[::2], lines[1::2]):
            proto, keys = head.split(":", 1)
            out.update({proto + k: int(v) for k, v in
                        zip(keys.split(), vals.split(":", 1)[1].split())})
    return out


# Receives until EOF and answers "<bytes> <sha256>"; or sends SIZE bytes
# (reproducible from the size) and prints "<sha256 sent> <reply>". Every
# socket call may block up to WAIT seconds: through heavy impairment one
# segment can be lost several times in a row while the retransmission
# timer doubles (0.2 s ... 25.6 s), so no call gets a deadline shorter
# than the whole transfer's.
TRANSFER = r"""
import hashlib, random, socket, sys
mode, addr, port, wait = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
if mode == "server":
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(1)
    s.settimeout(wait)
    print("listening", flush=True)
    c, _ = s.accept()
    c.settimeout(wait)
    h, n = hashlib.sha256(), 0
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        h.update(b)
        n += len(b)
    c.sendall(f"{n} {h.hexdigest()}".encode())
else:
    data = random.Random(7).randbytes(int(sys.argv[5]))
    c = socket.create_connection((addr, port), timeout=wait)
    c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    reply = b""
    while True:
        b = c.recv(256)
        if not b:
            break
        reply += b
    print(hashlib.sha256(data).hexdigest(), reply.decode())
"""


def connections_closed():
    """True when neither end has a connection on PORT that may still send
    (TIME-WAIT only answers)."""
    for ns in (NS_LOSSY, NS_BACKEND):
        for line in in_ns(ns, ["ss", "-Htan"]).stdout.splitlines():
            f = line.split()
            if f[0] != "TIME-WAIT" and f":{PORT}" in (f[3][-5:], f[4][-5:]):
                return False
    return True


def settle_connections(graceful_s=10):
    """Lets both ends finish closing, so that no retransmitted FIN or ACK
    crosses the next test's relay. Through heavy impairment the kernel's
    FIN and its retransmissions can be lost several times in a row, and
    its back-off then takes longer than any deadline worth waiting for:
    what is still closing after graceful_s is destroyed (ss -K, the
    kernel's sock_destroy), which sends at most one RST and then nothing."""
    deadline = time.monotonic() + graceful_s
    while not connections_closed() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not connections_closed():
        for ns in (NS_LOSSY, NS_BACKEND):
            r = in_ns(ns, ["ss", "-K", "-tan", f"( sport = :{PORT} or dport = :{PORT} )"])
            assert r.returncode == 0, r.stderr
    assert connections_closed(), [in_ns(ns, ["ss", "-Htan"]).stdout
                                  for ns in (NS_LOSSY, NS_BACKEND)]


def transfer(size, timeout=30):
    """TCP from the lossy client to the backend; asserts that the backend got
    exactly what was sent. Returns once both ends have closed, so that no
    retransmitted FIN or ACK crosses the next test's relay."""
    server = subprocess.Popen(
        ["ip", "netns", "exec", NS_BACKEND, sys.executable, "-c", TRANSFER, "server",
         BACKEND_ADDR, str(PORT), str(timeout)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    try:
        assert server.stdout.readline().strip() == "listening"
        r = in_ns(NS_LOSSY, [sys.executable, "-c", TRANSFER, "client", BACKEND_ADDR,
                             str(PORT), str(timeout), str(size)], timeout=timeout + 10)
        assert r.returncode == 0, r.stdout + r.stderr
        sent_sha, got_len, got_sha = r.stdout.split()
        assert int(got_len) == size and got_sha == sent_sha, r.stdout
        settle_connections()
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()
        server.stdout.close()


def test_no_relay_no_path_then_no_loss(impair_lab):
    # nothing but the relay joins lc0 to the bridge
    assert ping(2, 0.2, wait=2)["received"] == 0
    with relay() as r:
        p = ping(100, 0.005)
        c = r.stop()
    assert (p["sent"], p["received"], p["dups"]) == (100, 100, 0), p
    for d in ("a2b", "b2a"):
        assert c[f"{d}.received"] == c[f"{d}.forwarded"] == 100, c
        assert c[f"{d}.kernel_drops"] == c[f"{d}.queued"] == 0, c


def test_loss_both_directions(impair_lab):
    # A ping is lost when its request or its reply is: 1 - 0.9^2 = 19 %.
    # Over 500 pings the standard deviation is 1.75 points: 12 % is 4 of
    # them below, 30 % more than 6 above.
    with relay("--loss", "0.1", "--seed", "42") as r:
        p = ping(500, 0.005, wait=2)
        c = r.stop()
    lost = p["sent"] - p["received"]
    assert 0.12 <= lost / p["sent"] <= 0.30, p
    assert c["a2b.received"] == 500
    # Each lost ping is exactly one dropped frame: a dropped request gets no
    # reply to drop.
    assert lost == c["a2b.dropped"] + c["b2a.dropped"], c
    assert c["a2b.dropped"] > 0 and c["b2a.dropped"] > 0, c


def test_per_direction_option_wins_over_shared_one(impair_lab):
    with relay("--a2b-loss", "0", "--loss", "0.5", "--seed", "1") as r:
        p = ping(100, 0.005, wait=2)
        c = r.stop()
    assert c["a2b.dropped"] == 0 and c["a2b.forwarded"] == 100, c
    assert 0 < c["b2a.dropped"] == p["sent"] - p["received"], (c, p)


def test_duplicates(impair_lab):
    with relay("--dup", "0.5", "--seed", "3") as r:
        p = ping(20, 0.01)
        c = r.stop()
    assert p["dups"] > 0, p
    assert p["received"] == 20, p
    assert c["a2b.duplicated"] > 0 and c["b2a.duplicated"] > 0, c


def test_delay_adds_to_both_directions(impair_lab):
    # A delayed frame comes back late when a loaded machine (the sanitizer
    # build) wakes the relay late. iputils ping once counted two such
    # replies as lost: after its last request it waits only twice the
    # largest RTT it has seen (its -W applies only while no reply has
    # come). icmp_ping.py waits up to 5 s after the last request for every
    # reply.
    with relay() as r:
        base = ping(20, 0.02)
        cb = r.stop()
    with relay("--delay", "20") as r:
        slow = ping(20, 0.02)
        cs = r.stop()
    assert base["received"] == slow["received"] == 20, (base, slow, cb, cs)
    # 20 ms each way, never less (a frame waits from the moment it is read);
    # on a busy machine a wake-up can come late, which the average shows
    # (10 ms more with both cores saturated) but the minimum hardly does.
    assert 40.0 <= slow["min"] <= base["min"] + 42.0, (base, slow)
    assert slow["avg"] - base["avg"] <= 60.0, (base, slow)


def test_queue_bound_drops_and_counts(impair_lab):
    # 20 requests 5 ms apart into a line that holds 5 for 2 s: all 20
    # arrive before the first leaves, even when a busy machine stretches
    # the pinger's pacing (a late wake-up delays the rest; 500 ms were
    # little margin over the nominal 95). The 5 replies come back after
    # 4 s, some 1 s before the pinger gives up on the other 15.
    with relay("--delay", "2000", "--queue", "5") as r:
        p = ping(20, 0.005, wait=5)
        c = r.stop()
    assert c["a2b.queue_overflow"] == 15 and c["a2b.forwarded"] == 5, c
    assert p["received"] == 5, p


def test_tcp_through_loss_reorder_dup(impair_lab):
    with relay("--loss", "0.03", "--reorder", "0.05", "--dup", "0.02", "--seed", "5") as r:
        transfer(20_000_000, timeout=120)
        c = r.stop()
    for d in ("a2b", "b2a"):
        for what in ("dropped", "reordered", "duplicated"):
            assert c[f"{d}.{what}"] > 0, c


def test_reorder_reaches_tcp_out_of_order(impair_lab):
    # No loss: every segment the backend has to queue out of order was
    # overtaken in the relay.
    before = snmp(NS_BACKEND)["TcpExtTCPOFOQueue"]
    with relay("--a2b-reorder", "0.05", "--seed", "11") as r:
        transfer(2_000_000)
        c = r.stop()
    assert c["a2b.reordered"] > 0 and c["a2b.dropped"] == 0, c
    assert snmp(NS_BACKEND)["TcpExtTCPOFOQueue"] > before


def test_corruption_caught_by_checksums(impair_lab):
    before = snmp(NS_BACKEND)
    # 5 MB is some 170 corrupted data frames at 5 %: plenty for the ratio
    # below. (At 20 % both ways, one segment in 3 needed retransmitting
    # and back-off stalls of half a minute happened.)
    with relay("--corrupt", "0.05", "--seed", "8") as r:
        transfer(5_000_000, timeout=120)
        c = r.stop()
    after = snmp(NS_BACKEND)
    assert c["a2b.corrupted"] > 0 and c["b2a.corrupted"] > 0, c
    # A flipped bit in the IP header fails the IP checksum, one after it the
    # TCP checksum. A few flips (in the TCP data offset) are dropped before
    # the checksum is looked at, so not every frame shows up here.
    caught = sum(after[k] - before[k] for k in ("IpInHdrErrors", "TcpInCsumErrors"))
    assert 0.9 * c["a2b.corrupted"] <= caught <= c["a2b.corrupted"], (caught, c)


def test_oversize_frames_dropped_and_counted(impair_lab):
    # Jumbo MTU on the lossy side only: a 9342-byte frame is bigger than the
    # relay's 9216-byte buffer.
    links = ((NS_LOSSY, "lc0"), (NS_IMPAIR, "ia0"))
    try:
        for ns, dev in links:
            subprocess.run(["ip", "-n", ns, "link", "set", dev, "mtu", "9600"], check=True)
        with relay() as r:
            p = ping(3, 0.05, wait=2, size=9300)
            c = r.stop()
    finally:
        for ns, dev in links:
            subprocess.run(["ip", "-n", ns, "link", "set", dev, "mtu", "1500"], check=True)
    assert p["received"] == 0
    assert c["a2b.oversize"] == c["a2b.received"] == 3 and c["a2b.forwarded"] == 0, c
