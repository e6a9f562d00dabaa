# SPDX-License-Identifier: MIT
"""TRex (../shared/third_party, run by scripts/trex.sh) against portcullis
in the lab: every profile of scripts/trex/ for a few seconds at a low rate,
over the veth lab and over memif, and the counters of both sides must
agree (connections opened and closed, packets and bytes each way, no drop,
no TRex error), so that the profiles and the lab's TRex set-up cannot rot.
The rates are the benchmark's business (scripts/bench.sh trex-*)."""
import json
import os
import subprocess

import pytest

from conftest import LAB, NS_CLIENT, ROOT, check_stopped, in_ns

TREX_SH = ROOT / "scripts" / "trex.sh"
PROFILES = ROOT / "scripts" / "trex"
TREX_ADDR = "198.18.0.20"
SECONDS = 2
# Drops that are not about TRex's traffic: TRex announces its unused
# second port's address (ARP for an address that is not ours), and on the
# bridge portcullis may see frames for other hosts.
UNRELATED_DROPS = {"drop_arp_not_for_us", "drop_eth_not_for_us"}

CONF = f"""ip address 198.18.0.1/24
ip gateway {TREX_ADDR}
worker idle backoff 50 500 50
tcp listen 7 echo
"""


def client_args(kind, profile, tunables):
    args = ["client", kind, str(PROFILES / profile), "--seconds", str(SECONDS)]
    for k, v in tunables.items():
        args += ["-t", f"{k}={v}"]
    return args


def trex_sh(*args):
    env = dict(os.environ, PC_LAB=LAB)
    return subprocess.run([str(TREX_SH), *args], env=env, text=True, capture_output=True,
                          timeout=120)


@pytest.fixture
def trex():
    """start(mode, kind) runs the lab's TRex server; run(kind, profile,
    tunables) one client run, its JSON result. TRex is stopped (by PID)
    after the test, even a failed one."""
    def start(mode, kind):
        r = trex_sh("start", mode, kind)
        assert r.returncode == 0, r.stdout + r.stderr

    def run(kind, profile, **tunables):
        r = trex_sh(*client_args(kind, profile, tunables))
        assert r.returncode == 0, r.stdout + r.stderr
        return json.loads(r.stdout)

    try:
        yield start, run
    finally:
        trex_sh("stop")


def delta(after, before, name):
    return after.get(name, 0) - before.get(name, 0)


def assert_flows_agree(t, pc_before, pc_after, expected, size):
    """TRex's client counters against portcullis's for about `expected`
    echo flows (TRex's schedule may open one more) of `size` bytes each
    way."""
    c = t["client"]
    assert t["errors"] == {}, t["errors"]
    flows = c["tcps_connattempt"]
    assert expected <= flows <= expected + 1, (expected, c)
    assert c["tcps_connects"] == flows and c["tcps_closed"] == flows, c
    assert c["tcps_sndbyte"] == flows * size and c["tcps_rcvbyte"] == flows * size, c
    assert delta(pc_after, pc_before, "tcp_passive_opens") == flows
    assert delta(pc_after, pc_before, "tcp_conns_established") == flows
    for name in ("tcp_conns_reset", "tcp_conns_timed_out", "tcp_retransmits",
                 "tcp_rsts_sent"):
        assert delta(pc_after, pc_before, name) == 0, name
    assert pc_after["tcp_connections_active"] == 0
    # Every frame TRex sent reached portcullis and the other way round
    # (TRex counts 4 bytes of frame check sequence per frame); a few
    # frames of slack for ARP.
    p = t["port"]
    rx = delta(pc_after, pc_before, "rx_packets")
    tx = delta(pc_after, pc_before, "tx_packets")
    assert p["opackets"] <= rx <= p["opackets"] + 4, (p, rx)
    assert p["ipackets"] - 4 <= tx <= p["ipackets"], (p, tx)
    assert abs(delta(pc_after, pc_before, "rx_bytes") + 4 * rx - p["obytes"]) <= 4 * 64
    assert abs(delta(pc_after, pc_before, "tx_bytes") + 4 * tx - p["ibytes"]) <= 4 * 64
    drops = {k: v for k, v in pc_after.items()
             if k.startswith("drop_") and k not in UNRELATED_DROPS and v != pc_before.get(k, 0)}
    assert drops == {}, drops


def wait_idle(pc):
    """Counters once the last flow's close has been processed."""
    return pc.wait_counters(lambda c: c.get("tcp_connections_active", 0) == 0, timeout=10)


@pytest.mark.parametrize("pmd,mode", [("af_xdp", "veth"), ("memif", "memif")])
def test_trex_astf_profiles_agree_with_portcullis(start_portcullis, trex, pmd, mode):
    pc = start_portcullis(pmd, CONF)
    start, run = trex
    start(mode, "astf")
    before = pc.counters()
    rate = 100
    t = run("astf", "astf_tcp_cps.py", cps=rate, size=64)
    after = wait_idle(pc)
    assert_flows_agree(t, before, after, rate * SECONDS, 64)

    size = 1 << 20
    t = run("astf", "astf_tcp_bulk.py", cps=2, size=size)
    final = wait_idle(pc)
    assert_flows_agree(t, after, final, 2 * SECONDS, size)
    check_stopped(pc)


def test_trex_syn_flood_gets_cookies_and_real_clients_still_connect(start_portcullis, trex):
    pc = start_portcullis("af_xdp", CONF + "tcp syn-backlog 16\n")
    start, run = trex
    start("veth", "stl")
    before = pc.counters()
    pps = 1000
    flood = subprocess.Popen(
        [str(TREX_SH), *client_args("stl", "stl_syn_flood.py", {"port": 7, "pps": pps})],
        env=dict(os.environ, PC_LAB=LAB), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        # Real clients during the flood: their SYNs meet a full backlog and
        # are answered with cookies, which their ACKs bring back.
        echoed = in_ns(NS_CLIENT, ["/usr/bin/python3", "-c", ECHO_CLIENT], timeout=60)
    finally:
        out, err = flood.communicate(timeout=60)
    assert flood.returncode == 0, err
    assert echoed.returncode == 0 and echoed.stdout.strip() == "ok", echoed.stdout + echoed.stderr
    t = json.loads(out)
    after = pc.counters()
    sent = t["port"]["opackets"]
    assert sent >= 0.9 * pps * SECONDS, t
    # Every SYN reached portcullis: half-open connections up to the
    # backlog, SYN cookies for the rest; no state beyond the backlog.
    opens = delta(after, before, "tcp_passive_opens")
    cookies = delta(after, before, "tcp_syncookies_sent")
    assert cookies > 0 and opens + cookies >= sent, (opens, cookies, sent)
    assert delta(after, before, "tcp_syncookies_ok") >= 1
    assert after["tcp_connections_active"] <= 16 + 1
    assert delta(after, before, "drop_tcp_bad_checksum") == 0
    check_stopped(pc)


# A new connection every 0.1 s for as long as the flood lasts (TRex's
# client takes about a second to start it), each echoing a line.
ECHO_CLIENT = """
import socket, time
end = time.monotonic() + 4
while time.monotonic() < end:
    with socket.create_connection(("198.18.0.1", 7), timeout=5) as s:
        s.sendall(b"ping\\n")
        if s.recv(16) != b"ping\\n":
            raise SystemExit("bad echo")
    time.sleep(0.1)
print("ok")
"""
