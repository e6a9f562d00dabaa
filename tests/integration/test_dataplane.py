# SPDX-License-Identifier: MIT
"""ARP and ping through the DPDK port, against the Linux stack."""
import re
import subprocess
from pathlib import Path

import pytest

from conftest import ADDR, BINARY, DEMO_CONF, NS_CLIENT, NS_DP, ROOT, eal_args, in_ns, lab

PMDS = ["af_xdp", "af_packet"]


@pytest.mark.parametrize("pmd", PMDS)
def test_ping_no_loss(start_portcullis, pmd):
    """Steady state: 100 echoes at 10 ms, every one answered. One warm-up
    echo first, so that both neighbour tables are resolved: the first
    exchange waits on ARP in both stacks (portcullis holds its reply until
    the client answers its request; test_arping covers that path)."""
    pc = start_portcullis(pmd)
    r = in_ns(NS_CLIENT, ["ping", "-c", "1", "-W", "2", ADDR], timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    r = in_ns(NS_CLIENT, ["ping", "-c", "100", "-i", "0.01", "-W", "1", "-q", ADDR],
              timeout=60)
    assert " 0% packet loss" in r.stdout, r.stdout + r.stderr
    assert "100 received" in r.stdout
    c = pc.counters()
    assert c["icmp_echo_replies"] >= 101
    assert pc.stop() == 0


@pytest.mark.parametrize("pmd", PMDS)
def test_ping_large_and_odd_sizes(start_portcullis, pmd):
    start_portcullis(pmd)
    for size in (0, 1, 1000, 1472):
        r = in_ns(NS_CLIENT, ["ping", "-c", "5", "-i", "0.01", "-W", "1", "-q",
                              "-s", str(size), "-M", "do", ADDR], timeout=30)
        assert "5 received" in r.stdout, f"size {size}: {r.stdout}{r.stderr}"


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
    ping = subprocess.Popen(["ip", "netns", "exec", NS_CLIENT, "ping", "-c", "300", "-i",
                             "0.01", "-W", "1", "-q", ADDR],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        r = in_ns(NS_CLIENT, ["/usr/bin/python3", str(script), "malformed"], timeout=120)
        out, _ = ping.communicate(timeout=60)
    finally:
        if ping.poll() is None:
            ping.kill()
            ping.wait()
    assert r.returncode == 0, r.stdout + r.stderr
    assert " 0% packet loss" in out, out
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

    r = in_ns(NS_CLIENT, ["ping", "-c", "20", "-i", "0.01", "-W", "1", "-q", ADDR], timeout=30)
    assert "20 received" in r.stdout
    assert pc.stop() == 0


def test_restart_immediately(start_portcullis):
    """A clean stop returns everything: the next start works at once and
    leaves no hugepage files."""
    for _ in range(2):
        pc = start_portcullis()
        r = in_ns(NS_CLIENT, ["ping", "-c", "3", "-i", "0.05", "-W", "1", "-q", ADDR],
                  timeout=30)
        assert "3 received" in r.stdout
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
    pings = [subprocess.Popen(["ip", "netns", "exec", NS_CLIENT, "ping", "-I", src, "-c",
                               "20", "-i", "0.01", "-W", "1", "-q", ADDR],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for src in sources]
    outs = [p.communicate(timeout=60)[0] for p in pings]
    for src, out in zip(sources, outs):
        assert "20 received" in out, f"{src}: {out}"
    pc.counters()
    per_lcore = {}
    for m in re.finditer(r"^lcore(\d+)\.icmp_echo_replies (\d+)$",
                         pc.log_path.read_text().rsplit("counters (all", 1)[1], re.M):
        per_lcore[int(m.group(1))] = int(m.group(2))
    assert len(per_lcore) == 2 and all(v > 0 for v in per_lcore.values()), per_lcore
    assert sum(per_lcore.values()) >= 20 * len(sources)
    assert pc.stop() == 0
