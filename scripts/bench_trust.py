#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The trust scenarios of scripts/bench.sh (hosts-scale, trust-update):
commits through the control socket, and the report.

  bench_trust.py commits SOCKET COUNT HOSTS
      COUNT one-host commits in a row (host tI.scale.test allow ..., I
      cycling through t2 to t1001), each timed from sending
      the line to the OK: prints {"count", "p50_ms", "p99_ms", "max_ms"}.
  bench_trust.py stream SOCKET RATE HOSTS STOP_FILE
      one-host commits at RATE per second until STOP_FILE exists: prints
      {"count", "p50_ms", "p99_ms", "max_ms"}.
  bench_trust.py report RECORDS.jsonl LATEST.json MACHINE WHEN
      the tables, and the entries of latest.json (others kept).
"""
import json
import os
import socket
import sys
import time


def session(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s, s.makefile("rb")


def commit(s, f, i, hosts):
    """Host t1 carries the measured handshakes: the commits go to t2...
    (the allowlist of each toggled, so every commit changes a verdict)."""
    n = min(hosts - 1, 1000)
    host = f"t{i % n + 2}.scale.test"
    allow = "uri:spiffe://elsewhere/*" if (i // n) % 2 == 0 else "none"
    t = time.perf_counter()
    s.sendall(f"host {host} allow {allow}\n".encode())
    status = f.readline()
    while f.readline() not in (b"\n", b""):
        pass
    if status != b"OK\n":
        raise SystemExit(f"commit refused: {status!r}")
    return time.perf_counter() - t


def summary(lat):
    lat = sorted(lat)
    pick = lambda q: round(1e3 * lat[min(len(lat) - 1, int(q * len(lat)))], 3)
    return {"count": len(lat), "p50_ms": pick(0.5), "p99_ms": pick(0.99),
            "max_ms": round(1e3 * lat[-1], 3)}


def cmd_commits(path, count, hosts):
    s, f = session(path)
    lat = [commit(s, f, i, int(hosts)) for i in range(int(count))]
    print(json.dumps(summary(lat)))


def cmd_stream(path, rate, hosts, stop):
    s, f = session(path)
    period, lat, i = 1.0 / float(rate), [], 0
    nxt = time.perf_counter()
    while not os.path.exists(stop):
        lat.append(commit(s, f, i, int(hosts)))
        i += 1
        nxt += period
        time.sleep(max(0.0, nxt - time.perf_counter()))
    print(json.dumps(summary(lat) if lat else {"count": 0}))


def per_handshake(point):
    """(handshakes/s, server CPU-us per handshake) of a pc_load point."""
    load, cpu = point["load"], point["cpu"]
    if not load or load["errors"]["total"]:
        return None, None
    rate = load["connections"]["ok"] / load["elapsed_s"]
    us = None
    if cpu and load["connections"]["ok"]:
        us = (cpu["after"] - cpu["before"]) / cpu["hz"] * 1e6 / load["connections"]["ok"]
    return rate, us


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def cmd_report(records_path, latest_path, machine, when):
    recs = [json.loads(line) for line in open(records_path)]
    latest = json.load(open(latest_path)) if os.path.exists(latest_path) else {}
    scale = [r for r in recs if r["scenario"] == "hosts-scale"]
    if scale:
        print("hosts-scale: one tenant root CA per host, a shared server certificate")
        print(f"{'hosts':>7} {'ready s':>8} {'heap/host B':>11} {'first hs/s':>10} "
              f"{'last hs/s':>10} {'first CPU-us':>12} {'last CPU-us':>11}")
        for r in scale:
            fr, fu = per_handshake(r["first"])
            lr, lu = per_handshake(r["last"])
            print(f"{r['hosts']:>7} {r['ready_s']:>8.2f} {r['heap_bytes'] / r['hosts']:>11.0f} "
                  f"{fmt(fr, '>10.0f')} {fmt(lr, '>10.0f')} {fmt(fu, '>12.0f')} {fmt(lu, '>11.0f')}")
        if len(scale) > 1:
            a, b = scale[0], scale[-1]
            per = (b["heap_bytes"] - a["heap_bytes"]) / (b["hosts"] - a["hosts"])
            print(f"heap per added host ({a['hosts']} -> {b['hosts']}): {per:.0f} bytes, "
                  f"of which its CA certificate's DER {b['ca_der_bytes'] / b['hosts']:.0f}")
        big = scale[-1]
        latest["hosts-scale-ready"] = {
            "metric": f"start-up to ready with {big['hosts']} hosts", "unit": "s",
            "higher_is_better": False, "results": {"portcullis": big["ready_s"]},
            "machine": machine, "when": when}
        latest["hosts-scale-heap"] = {
            "metric": f"heap per host with {big['hosts']} hosts (own CA included)", "unit": "bytes",
            "higher_is_better": False,
            "results": {"portcullis": round(big["heap_bytes"] / big["hosts"])},
            "machine": machine, "when": when}
    upd = [r for r in recs if r["scenario"] == "trust-update"]
    for r in upd:
        q, _ = per_handshake(r["quiet"])
        u, _ = per_handshake(r["updating"])
        c = r["commits"]
        print(f"trust-update with {r['hosts']} hosts: commit to answer p50 {c['p50_ms']} ms, "
              f"p99 {c['p99_ms']} ms, max {c['max_ms']} ms ({c['count']} commits)")
        print(f"  handshakes/s without commits {fmt(q, '.0f')}, with {r['stream']['count']} "
              f"commits at {r['rate']}/s {fmt(u, '.0f')}"
              + (f" ({100 * (u - q) / q:+.1f} %)" if q and u else ""))
        latest["trust-update-commit-p99"] = {
            "metric": f"commit to answer, p99, {r['hosts']} hosts", "unit": "ms",
            "higher_is_better": False, "results": {"portcullis": c["p99_ms"]},
            "machine": machine, "when": when}
        if q and u:
            latest["trust-update-handshakes"] = {
                "metric": f"full mTLS handshakes/s while {r['rate']} commits/s",
                "unit": "handshakes/s", "higher_is_better": True,
                "results": {"portcullis": round(u), "portcullis-no-commits": round(q)},
                "machine": machine, "when": when}
    with open(latest_path, "w") as f:
        json.dump(latest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    cmds = {"commits": cmd_commits, "stream": cmd_stream, "report": cmd_report}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        raise SystemExit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])
