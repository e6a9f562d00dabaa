# SPDX-License-Identifier: MIT
"""Memory per connection: TCP buffers come from a per-worker pool
(`tcp buffer-pool`), taken when a connection has data and given back when
it empties. 10,000 idle mutual-TLS connections (pc_load_wolfssl in hold
mode: a handshake and one request each, then held open) hold no TCP
buffer, and the memory per connection read from portcullis's own
counters stays bounded; a pool too small for its connections refuses new
work, counted, while the connections that hold buffers finish their
hashed transfers and the refused ones then get through."""
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ADDR, BUILD, NS_CLIENT, ROOT, Portcullis, check_stopped

PY = "/usr/bin/python3"
PKI = ROOT / "build" / "demo-pki"
POOL_CLIENT = Path(__file__).with_name("pool_client.py")
N_IDLE = 10000


@pytest.fixture
def start(netlab, tmp_path):
    """start(config): a portcullis, stopped and checked (clean exit, no
    sanitizer report) after the test."""
    started = []

    def start(conf):
        started.append(Portcullis(tmp_path, "af_xdp", conf))
        return started[-1]

    yield start
    for p in started:
        check_stopped(p)


def test_idle_mtls_connections_hold_no_buffers(start):
    """N_IDLE idle mTLS connections, 256 buffers: were an idle connection
    to keep one, the pool would run dry and connections be refused."""
    conf = f"""ip address 198.18.0.1/24
worker idle backoff 50 500 50
tcp max-connections {N_IDLE + 256}
tcp buffer-pool 256
tls listen 443 http
tls versions 1.3 1.3
tls memory 256
tls idle-timeout 600000
host default cert {PKI}/server.crt {PKI}/server.key
host default verify required
host default ca {PKI}/ca.crt
host default allow uri:spiffe://portcullis.test/*
"""
    p = start(conf)
    load = subprocess.Popen(
        ["ip", "netns", "exec", NS_CLIENT, str(BUILD / "tests" / "perf" / "pc_load_wolfssl"),
         "--host", ADDR, "--sni", "portcullis.test", "--mode", "hold", "--conns", str(N_IDLE),
         "--duration", "600", "--timeout", "20000", "--cacert", str(PKI / "ca.crt"),
         "--cert", str(PKI / "client.crt"), "--key", str(PKI / "client.key"),
         "--tls", "1.3", "--json", "-"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = load.stderr.readline()
        assert f"holding {N_IDLE} connections" in line, line + load.stderr.read()
        c = p.wait_counters(lambda c: c["tcp_buffers_in_use"] == 0
                            and c["tcp_connections_active"] == N_IDLE)
        assert c["tcp_connections_active"] == N_IDLE and c["tls_connections_active"] == N_IDLE
        assert c["tcp_buffers_in_use"] == 0, c
        assert c["tcp_buffers_pool"] == 256
        assert c.get("drop_tcp_pool_empty_syn", 0) == 0
        # TCP's part: the control block alone.
        assert c["tcp_memory_in_use_bytes"] == N_IDLE * c["tcp_control_block_bytes"]
        assert c["tcp_control_block_bytes"] <= 1024
        per_conn = c["memory_per_connection_bytes"]
        print(f"{N_IDLE} idle mTLS connections: {per_conn} bytes each "
              f"(TCP control block {c['tcp_control_block_bytes']}, TLS object "
              f"{c['tls_conn_object_bytes']}, wolfSSL "
              f"{c['tls_mem_in_use_bytes'] // N_IDLE})")
        # Today's TLS side is ~21 KB of it; 32 KiB leaves it room.
        assert 0 < per_conn <= 32 * 1024
    finally:
        load.send_signal(signal.SIGTERM)
        out, err = load.communicate(timeout=120)
    j = json.loads(out)
    assert j["connections"]["held"] == N_IDLE and j["errors"]["total"] == 0, err
    # Closing them all at once (close_notify, then RST) is a burst the
    # lab's rings may drop part of: not every connection need be gone,
    # but none holds a buffer.
    c = p.wait_counters(lambda c: c["tcp_buffers_in_use"] == 0)
    assert c["tcp_buffers_in_use"] == 0, c


def wait_dump(p, text, timeout=30):
    """Ask for connection dumps (SIGUSR2) until one has text."""
    deadline = time.monotonic() + timeout
    while text not in p.log_path.read_text():
        assert time.monotonic() < deadline, p.log_path.read_text()[-2000:]
        p.proc.send_signal(signal.SIGUSR2)
        time.sleep(0.1)


def test_empty_pool_refuses_new_work_and_recovers(start):
    """Three buffers, the last kept for sending: A (echo, its client not
    reading what comes back) holds two, so a new connection C is refused
    and D's data is dropped, both counted; once A's client reads, A, D and
    then C finish hashed transfers."""
    p = start("""ip address 198.18.0.1/24
worker idle backoff 50 500 50
tcp listen 7 echo
tcp buffer-pool 3
""")
    client = subprocess.Popen(["ip", "netns", "exec", NS_CLIENT, PY, str(POOL_CLIENT), ADDR, "7"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)

    def step(expect):
        line = client.stdout.readline().strip()
        if line != expect:
            client.kill()
            pytest.fail(f"client: {line!r}, expected {expect!r}: {client.stderr.read()}")

    def go():
        client.stdin.write("go\n")
        client.stdin.flush()

    try:
        step("filling")
        # A is stuck for good once its receive buffer is full (its echo
        # waits for send space that only A's client can make).
        wait_dump(p, " unread 65536 ")
        c = p.counters()
        assert c["tcp_buffers_in_use"] == 2 and c["tcp_buffers_pool"] == 3, c
        go()
        step("c-refused")
        step("d-sent")
        c = p.wait_counters(lambda c: c.get("drop_tcp_pool_empty_data", 0) >= 1)
        assert c.get("drop_tcp_pool_empty_syn", 0) >= 1, c
        assert c.get("drop_tcp_pool_empty_data", 0) >= 1, c
        go()
        step("done")
        result = json.loads(client.stdout.readline())
        assert result == {"A": True, "D": True, "C": True}, result
    finally:
        client.stdin.close()
        try:
            client.wait(timeout=60)
        except subprocess.TimeoutExpired:
            client.kill()
            client.wait()
    c = p.wait_counters(lambda c: c["tcp_connections_active"] == 0)
    assert c["tcp_connections_active"] == 0 and c["tcp_buffers_in_use"] == 0, c
