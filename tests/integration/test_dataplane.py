# SPDX-License-Identifier: MIT
"""ARP and ping through the DPDK port, against the Linux stack."""
import json
import re
import subprocess
from pathlib import Path

import pytest

from conftest import (ADDR, BINARY, DEMO_CONF, NS_CLIENT, NS_DP, ROOT, eal_args, icmp_ping_cmd,
                      in_ns, lab)

PMDS = ["af_xdp", "af_packet"]


def ping_cmd(count, interval=0.01, wait=5, size=None, df=False, source=None, sync=False):
    """icmp_ping.py in the client namespace, to portcullis. For Popen."""
    return ["ip", "netns", "exec", NS_CLIENT,
            *icmp_ping_cmd(ADDR, count, interval, wait, size, df, source, sync)]


def ping_result(returncode, out):
    """The pinger's JSON line: the last of out (its stderr, if merged in,
    comes before it)."""
    assert returncode == 0 and out.strip(), out
    return json.loads(out.strip().splitlines()[-1])


def ping(count, interval=0.01, wait=5, **kw):
    """{"sent", "received", "dups", ...} of ping_cmd's run."""
    r = subprocess.run(ping_cmd(count, interval, wait, **kw), capture_output=True, text=True,
                       timeout=count * interval + wait + 30)
    return ping_result(r.returncode, r.stdout + r.stderr)


@pytest.mark.parametrize("pmd", PMDS)
def test_ping_no_loss(start_portcullis, pmd):
    """Steady state: 100 echoes at 10 ms, every one answered. One warm-up
    echo first, so that both neighbour tables are resolved: the first
    exchange waits on ARP in both stacks (portcullis holds its reply until
    the client answers its request; test_arping covers that path)."""
    pc = start_portcullis(pmd)
    p = ping(1)
    assert p["received"] == 1, p
    p = ping(100)
    assert p["sent"] == p["received"] == 100, p
    c = pc.counters()
    assert c["icmp_echo_replies"] >= 101
    assert pc.stop() == 0


@pytest.mark.parametrize("pmd", PMDS)
def test_ping_large_and_odd_sizes(start_portcullis, pmd):
    start_portcullis(pmd)
    for size in (0, 1, 1000, 1472):
        p = ping(5, size=size, df=True)
        assert p["sent"] == p["received"] == 5, f"size {size}: {p}"


def test_arping(start_portcullis):
    pc = start_portcullis()
    mac = re.search(r"mac ([0-9A-F:]{17})", pc.log_path.read_text()).group(1).lower()
    r = in_ns(NS_CLIENT, ["arping", "-c", "3", "-w", "5", "-I", "cl0", ADDR], timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    replies = re.findall(r"reply from " + re.escape(ADDR) + r" \[([0-9a-f:]{17})\]",
                         r.stdout.lower())
    assert len(replies) == 3 and set(replies) == {mac}, r.stdout
    assert pc.counters()["arp_replies_sent"] >= 3


def test_arp_request_for_unknown_neighbour(start_portcullis):
    """A request from an address portcullis has never seen (sent raw, with
    no ARP first): portcullis must ARP for it and deliver the reply once
    the client kernel answers."""
    pc = start_portcullis()
    script = Path(__file__).with_name("raw_frames.py")
    r = in_ns(NS_CLIENT, ["/usr/bin/python3", str(script), "unknown-neighbour"], timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "echo reply received" in r.stdout
    assert pc.counters()["arp_requests_sent"] >= 1


@pytest.mark.parametrize("pmd", ["af_xdp", "tap"])
def test_malformed_burst_counted(start_portcullis, pmd):
    """Malformed frames of every kind are counted by reason; ping is
    unaffected before, during and after. Through net_tap the checksums
    are the device's verdicts (IPv4 and TCP BAD), through af_xdp ours."""
    pc = start_portcullis(pmd=pmd)
    script = Path(__file__).with_name("raw_frames.py")
    pinger = subprocess.Popen(ping_cmd(300), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        r = in_ns(NS_CLIENT, ["/usr/bin/python3", str(script), "malformed"], timeout=120)
        out, _ = pinger.communicate(timeout=60)
    finally:
        if pinger.poll() is None:
            pinger.kill()
            pinger.wait()
    assert r.returncode == 0, r.stdout + r.stderr
    p = ping_result(pinger.returncode, out)
    assert p["sent"] == p["received"] == 300, p
    expected = {}
    for line in r.stdout.splitlines():
        if line.startswith("sent "):
            _, reason, n = line.split()
            expected[reason] = expected.get(reason, 0) + int(n)
    assert len(expected) >= 20
    c = pc.wait_counters(lambda c: all(c.get("drop_" + r, 0) >= n for r, n in expected.items()))
    wrong = {r: (n, c.get("drop_" + r, 0)) for r, n in expected.items()
             if c.get("drop_" + r, 0) != n}
    assert not wrong, f"reason: (sent, counted): {wrong}"

    p = ping(20)
    assert p["sent"] == p["received"] == 20, p
    assert pc.stop() == 0


def test_restart_immediately(start_portcullis):
    """A clean stop returns everything: the next start works at once and
    leaves no hugepage files."""
    for _ in range(2):
        pc = start_portcullis()
        p = ping(3, 0.05)
        assert p["sent"] == p["received"] == 3, p
        assert pc.stop() == 0
        assert "portcullis: stopped" in pc.output
        assert "icmp_echo_replies" in pc.output
    leftovers = [p for p in Path("/dev/hugepages").glob("*")]
    assert leftovers == [], leftovers


def test_version():
    r = subprocess.run([str(BINARY), "--version"], capture_output=True, text=True)
    assert r.returncode == 0
    assert re.search(r"^DPDK: DPDK 22\.11", r.stdout, re.M), r.stdout
    assert re.search(r"^wolfSSL: 5\.", r.stdout, re.M), r.stdout
    for flag in ("--enable-intelasm", "--enable-aesni", "--enable-sp-asm",
                 "--enable-curve25519", "--enable-tls13"):
        assert flag in r.stdout
    # Every patch of patches/wolfssl, each with the hash of its text.
    patches = sorted(p.stem for p in (ROOT / "patches" / "wolfssl").glob("*.patch"))
    m = re.search(r"^wolfSSL patches: (.*)$", r.stdout, re.M)
    assert m and sorted(x.split("@")[0] for x in m[1].split()) == patches, r.stdout


def run_pc(args, netlab_ns=True, timeout=60):
    cmd = [str(BINARY), *args]
    if netlab_ns:
        cmd = ["ip", "netns", "exec", NS_DP, *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, cwd=ROOT)


def test_config_error_is_precise(netlab, tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("ip address 198.18.0.1/24\nip ttl 999\n")
    lab("queues", "1")
    r = run_pc([*eal_args("af_xdp"), "--", "-c", str(conf)])
    assert r.returncode == 2
    assert f"{conf}:2: ip ttl: ttl 999 out of range" in r.stderr


def test_missing_port_is_precise(netlab):
    r = run_pc(["--lcores", "0@0,1@1", "--no-pci", "--in-memory", "--no-telemetry", "--",
                "-c", str(DEMO_CONF)])
    assert r.returncode == 1
    assert "no DPDK port" in r.stderr


def test_missing_worker_is_precise(netlab):
    args = eal_args("af_xdp")
    args[args.index("--lcores") + 1] = "0@0"
    r = run_pc([*args, "--", "-c", str(DEMO_CONF)])
    assert r.returncode == 1
    assert "need at least two lcores" in r.stderr


def test_usage_errors():
    r = subprocess.run([str(BINARY), "--no-pci", "--in-memory", "--no-telemetry",
                        "--lcores", "0@0", "--", "--bogus"], capture_output=True, text=True)
    assert r.returncode == 2
    assert "usage: portcullis" in r.stderr


def test_two_workers_share_arp(start_portcullis):
    """Two workers on af_packet (fanout by flow hash): flows from 16 source
    addresses spread over both; each worker must answer its own flows,
    including those whose ARP reply the other worker received."""
    sources = [f"198.18.0.{i}" for i in range(32, 48)]
    for src in sources:
        in_ns(NS_CLIENT, ["ip", "addr", "add", f"{src}/24", "dev", "cl0"], check=True)
    pc = start_portcullis("af_packet", workers=2)
    # All 16 begin together once started (--sync): the pingers' start-up
    # would otherwise share the cores with the workers while they resolve
    # the first sources' neighbours, and a worker holds only PC_ARP_PENDING
    # (4) requests per unresolved neighbour.
    pings = [subprocess.Popen(ping_cmd(20, source=src, sync=True), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for src in sources]
    try:
        for p in pings:
            line = p.stdout.readline()
            assert line == "ready\n", line + p.stdout.read()
        for p in pings:
            p.stdin.write("go\n")
            p.stdin.flush()
        outs = [p.communicate(timeout=60)[0] for p in pings]
    finally:
        for p in pings:
            if p.poll() is None:
                p.kill()
                p.wait()
    for src, pinger, out in zip(sources, pings, outs):
        p = ping_result(pinger.returncode, out)
        assert p["sent"] == p["received"] == 20, f"{src}: {p}"
    pc.counters()
    per_lcore = {}
    for m in re.finditer(r"^lcore(\d+)\.icmp_echo_replies (\d+)$",
                         pc.log_path.read_text().rsplit("counters (all", 1)[1], re.M):
        per_lcore[int(m.group(1))] = int(m.group(2))
    assert len(per_lcore) == 2 and all(v > 0 for v in per_lcore.values()), per_lcore
    assert sum(per_lcore.values()) >= 20 * len(sources)
    assert pc.stop() == 0
