# SPDX-License-Identifier: MIT
"""TCP with the device's offloads, through DPDK's net_tap (its own netdev
on the lab's bridge), against the Linux stack: TSO super-segments cut by
the driver, and RX checksum verdicts (GOOD taken, BAD dropped). net_tap
does this work in software: these tests prove the offload paths, not
speed. The software path (af_xdp, no offloads) is test_tcp.py's."""
import pytest

from conftest import ADDR
from test_tcp import client, conf, lossy_transfers

MIB = 1 << 20


def offload_conf(source, extra="tcp buffers 262144 262144"):
    # Few connection slots: their buffers come out of the hugepages.
    return conf(source=source, extra="tcp max-connections 128\n" + extra)


def check_offloads_used(pc, c):
    """What the start-up log says was negotiated, and the counters that
    show it was used: super-segments of several segments each, and the
    device's checksum verdicts on what came in."""
    log = pc.log_path.read_text()
    assert "(net_tap): checksums: TX offloaded, RX offloaded" in log, log
    assert "(net_tap): large segments: TSO offloaded" in log, log
    assert c["tcp_tso_sends"] > 0, c
    assert c["tcp_tso_bytes"] > 2 * 1400 * c["tcp_tso_sends"], c
    assert c["tcp_segs_out"] > c["tcp_tso_sends"], c
    assert c["tcp_rx_cksum_offloaded"] > 0, c
    assert c.get("drop_tcp_bad_checksum", 0) == 0, c


def test_tap_bulk_both_ways(start_portcullis):
    """Hashed bulk transfers each way and both at once (echo), through
    TSO and RX checksum offload."""
    pc = start_portcullis(pmd="tap", config_text=offload_conf(50_000_000))
    r = client("echo-one", ADDR, 7, 64 * MIB)
    assert r["match"], r
    r = client("source", ADDR, 19, 50_000_000)
    assert r["match"], r
    r = client("discard", ADDR, 9, 32 * MIB)
    assert r["clean_close"], r
    check_offloads_used(pc, pc.counters())
    assert pc.stop() == 0


def test_tap_many_connections(start_portcullis):
    """Many connections at once, each with its own windows: every
    super-segment fits its own connection's."""
    pc = start_portcullis(pmd="tap", config_text=offload_conf(1 * MIB))
    r = client("echo-many", ADDR, 7, 100, 2 * MIB, 11)
    assert r["failed"] == 0 and r["ok"] == 100, r
    check_offloads_used(pc, pc.counters())
    assert pc.stop() == 0


@pytest.mark.parametrize("loss", [0.01, 0.05])
def test_tap_through_loss(start_portcullis, relay, loss):
    """From the lossy client through the impairment relay (random loss
    both ways, reordering, duplication): super-segments whose wire
    segments are lost are repaired segment by segment, the streams intact."""
    size = 8_000_000
    pc = start_portcullis(pmd="tap", config_text=offload_conf(size, "tcp rto 200 2000 1000"))
    c = lossy_transfers(pc, relay, loss, size, 11)
    check_offloads_used(pc, c)
    assert c["tcp_retransmits"] > 0 and c["tcp_ooo_segments"] > 0, c
    assert pc.stop() == 0
