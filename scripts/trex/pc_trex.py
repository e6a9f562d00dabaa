# SPDX-License-Identifier: MIT
"""Drives the lab's TRex server (scripts/trex.sh) through TRex's own Python
API, one run per call, and prints the result as one JSON object. Run it
through `scripts/trex.sh client ...` (inside the TRex namespace, where the
server's RPC port is).

  pc_trex.py --trex DIR ping
  pc_trex.py --trex DIR astf PROFILE --seconds S [--mult M] [--latency PPS] [-t k=v ...]
  pc_trex.py --trex DIR stl PROFILE --seconds S [-t k=v ...]

astf: the ASTF profile with tunables -t (TRex plays the clients only),
for S seconds, then waits until every flow has ended. Prints the client's
TCP/application counters ("client", non-zero ones only, as TRex gives
them), "errors" (the counters among them that mean a lost, refused,
reset, malformed or timed-out segment or flow), "rx_throttled" (how often
TRex had to delay its own receive processing), TRex's port counters
("port"), its CPU share ("trex_cpu_util", percent), the traffic duration
TRex measured and, with --latency, TRex's ICMP latency probes to the
device ("latency": min/avg/max and a histogram, microseconds).

stl: the STL profile's streams on port 0 for S seconds; prints the port
counters."""
import argparse
import json
import re
import sys
import time

# Counters of TRex's TCP/UDP/application layers that say something went
# wrong (TRex's names; see its tcp_stat.h): drops, timeouts, resets,
# retransmissions, checksum or format errors, allocation failures.
# (err_no_tcp_udp counts the other frames TRex receives: ARP, and the
# ICMP replies of its latency probes; err_rx_throttled says TRex delayed
# its own receive processing, which the result gives as "rx_throttled":
# TRex, not the device, was the bottleneck.)
ERROR = re.compile(r"drop|err|timeo|bad|rexmt|reset|rcvdup|short|alloc")
NOT_ERROR = {"err_no_tcp_udp", "err_rx_throttled"}


def connect(trex_dir, kind):
    sys.path.insert(0, f"{trex_dir}/automation/trex_control_plane/interactive")
    if kind == "stl":
        from trex.stl.api import STLClient
        c = STLClient(server="127.0.0.1", verbose_level="error")
    else:
        from trex.astf.api import ASTFClient
        c = ASTFClient(server="127.0.0.1", verbose_level="error")
    c.connect()
    return c


def tunables(pairs):
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"pc_trex: tunable '{pair}' is not key=value")
        out[key] = value
    return out


def port_stats(stats):
    p = stats.get(0) or stats.get("0") or {}
    keys = ("opackets", "ipackets", "obytes", "ibytes", "oerrors", "ierrors")
    return {k: p.get(k, 0) for k in keys}


def run_astf(c, a):
    from trex.astf.api import ASTFProfile
    c.reset()
    c.load_profile(ASTFProfile.load(a.profile, **tunables(a.t)))
    c.clear_stats()
    t0 = time.monotonic()
    kw = {"latency_pps": a.latency} if a.latency else {}
    c.start(mult=a.mult, duration=a.seconds, client_mask=1, **kw)
    c.wait_on_traffic()
    elapsed = time.monotonic() - t0
    stats = c.get_stats()
    client = {k: v for k, v in stats["traffic"]["client"].items() if v}
    out = {
        "seconds": a.seconds,
        "elapsed": elapsed,
        "duration": client.get("m_traffic_duration", 0),
        "client": client,
        "errors": {k: v for k, v in client.items()
                   if k.startswith(("tcps_", "udps_", "err_")) and ERROR.search(k)
                   and k not in NOT_ERROR},
        "rx_throttled": client.get("err_rx_throttled", 0),
        "port": port_stats(stats),
        "trex_cpu_util": stats["global"].get("cpu_util", 0),
    }
    if a.latency:
        lat = c.get_latency_stats() if hasattr(c, "get_latency_stats") else stats.get("latency", {})
        out["latency"] = latency_summary(lat)
    return out


def latency_summary(lat):
    """TRex's latency block for port 0 reduced to what the report prints:
    min/avg/max in microseconds and the histogram (us bucket -> count)."""
    port = lat.get(0) or lat.get("0") or {}
    hist = port.get("hist") or {}
    return {
        "min_us": hist.get("min_usec"),
        "avg_us": hist.get("s_avg"),
        "max_us": hist.get("s_max"),
        "histogram": hist.get("histogram", {}),
        "dropped": (port.get("stats") or {}).get("m_pkt_dropped"),
    }


def run_stl(c, a):
    from trex.stl.api import STLProfile
    c.reset(ports=[0])
    profile = STLProfile.load_py(a.profile, **tunables(a.t))
    c.add_streams(profile.get_streams(), ports=[0])
    c.clear_stats()
    t0 = time.monotonic()
    c.start(ports=[0], duration=a.seconds)
    c.wait_on_traffic(ports=[0])
    stats = c.get_stats()
    return {"seconds": a.seconds, "elapsed": time.monotonic() - t0,
            "port": port_stats(stats),
            "trex_cpu_util": stats["global"].get("cpu_util", 0)}


def main():
    p = argparse.ArgumentParser(prog="pc_trex.py")
    p.add_argument("--trex", required=True, help="the unpacked TRex directory")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("ping")
    for name in ("astf", "stl"):
        s = sub.add_parser(name)
        s.add_argument("profile")
        s.add_argument("--seconds", type=float, required=True)
        s.add_argument("-t", action="append", default=[], metavar="KEY=VALUE")
        if name == "astf":
            s.add_argument("--mult", type=float, default=1.0)
            s.add_argument("--latency", type=int, default=0, metavar="PPS")
    a = p.parse_args()
    if a.cmd == "ping":
        # The server is up once a client of its mode (either) connects.
        sys.path.insert(0, f"{a.trex}/automation/trex_control_plane/interactive")
        from trex.astf.api import ASTFClient
        from trex.stl.api import STLClient
        for cls in (ASTFClient, STLClient):
            try:
                c = cls(server="127.0.0.1", verbose_level="none")
                c.connect()
                c.disconnect()
                return 0
            except Exception:  # the other mode's client is refused
                continue
        return 1
    c = connect(a.trex, a.cmd)
    try:
        out = run_astf(c, a) if a.cmd == "astf" else run_stl(c, a)
    finally:
        c.disconnect()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
