# SPDX-License-Identifier: MIT
"""Tables and latest.json entries for scripts/bench.sh's proxy scenario:
mutual-TLS clients -> portcullis, nginx or HAProxy -> an nginx backend.

  bench_report_proxy.py RECORDS.jsonl LATEST.json MACHINE WHEN

Records are tls_point's (see bench_report_tls.py), with the point's name as
"scenario": proxy-keepalive, proxy-newconn, proxy-bulk; a server that could
not run has a record with scenario "proxy" and "conns" null. Entries in
LATEST.json for other scenarios are kept; a server that failed is left out
of its point's entry."""
import json
import os
import sys

from bench_report_tls import cpu_seconds, driver_seconds, fmt

SERVERS = ("portcullis", "nginx", "haproxy")
POINTS = {
    "proxy-keepalive": ("proxied mTLS requests per second, small body, kept-alive client "
                        "connections ({c})", "requests/s", "CPU us per request"),
    "proxy-newconn": ("proxied mTLS requests per second, a new connection and full "
                      "handshake per request ({c})", "requests/s", "CPU us per request"),
    "proxy-bulk": ("proxied mTLS download throughput, 1 MiB bodies on kept-alive "
                   "connections ({c})", "Gbit/s", "CPU us per GiB"),
}
# The goal: at least this much less server CPU per proxied request
# than nginx.
GOAL = 3.0


def bulk(point):
    return point == "proxy-bulk"


def run_failure(r):
    """Why one run does not count, or None."""
    load = r["load"]
    if r["error"] or not load:
        return r["error"] or "no result"
    errs = load["errors"]
    if errs["total"]:
        details = load.get("error_details") or []
        what = ", ".join(f"{k} {v}" for k, v in errs.items() if k != "total" and v)
        if details:
            what += f" ({details[0]['kind']}: {details[0]['detail']})"
        return f"{errs['total']} errors: {what}"
    if not load["connections"]["ok"] or not load["requests"]["ok"]:
        return "no successful request"
    return None


def value(point, load):
    return load["gbps"] if bulk(point) else load["requests"]["per_s"]


def ops(point, load):
    """What the server's CPU time is divided by: requests, or GiB the
    client received (totals, grace period included, like the CPU time)."""
    return load["bytes"]["rx"] / 2**30 if bulk(point) else load["requests"]["ok"]


def summarize(point, runs):
    for r in runs:
        why = run_failure(r)
        if why:
            return {"failed": why}
    ordered = sorted(runs, key=lambda r: value(point, r["load"]))
    m = ordered[(len(ordered) - 1) // 2]
    load = m["load"]
    cs, ds, n = cpu_seconds(m["cpu"]), driver_seconds(m["cpu"]), ops(point, load)
    return {"value": value(point, load), "cpu_s": cs,
            "cpu_us": cs * 1e6 / n if cs and n else None,
            "own_cpu_us": (cs - ds) * 1e6 / n if cs and ds is not None and n else None,
            "driver_cpu_us": ds * 1e6 / n if ds is not None and n else None,
            "client_cpu_us": (load["cpu"]["user_s"] + load["cpu"]["sys_s"]) * 1e6 / n if n else None,
            "lat": load["latency_us"]["request"], "conns": m["conns"]}


def table(point, rows, failures):
    metric, unit, per = POINTS[point]
    digits = 2 if bulk(point) else 0
    d = 0 if bulk(point) else 1
    print(f"\n{point}: {metric.format(c='N connections')}")
    print(f"{'server':<11} {'conns':>5} {unit:>12} {'request p50/p99 ms':>19} "
          f"{'server CPU':>10} {per:>19} {'own / driver':>15} {'client CPU':>10}")
    out = {}
    for server in SERVERS:
        runs = [r for r in rows if r["server"] == server]
        if not runs:
            continue
        s = summarize(point, runs)
        out[server] = s
        if "failed" in s:
            print(f"{server:<11} {runs[0]['conns']:>5} failed: {s['failed']}")
            continue
        lat = s["lat"]
        lat_s = f"{lat['p50'] / 1e3:.2f}/{lat['p99'] / 1e3:.2f}" if lat else "-"
        cs = "-" if s["cpu_s"] is None else f"{s['cpu_s']:.2f} s"
        split = "-" if s["own_cpu_us"] is None else \
            f"{fmt(s['own_cpu_us'], d)} / {fmt(s['driver_cpu_us'], d)}"
        print(f"{server:<11} {s['conns']:>5} {s['value']:>12.{digits}f} {lat_s:>19} {cs:>10} "
              f"{fmt(s['cpu_us'], d):>19} {split:>15} {fmt(s['client_cpu_us'], d):>10}")
    for server, why in failures:
        out.setdefault(server, {"failed": why})
        print(f"{server:<11} {'-':>5} failed: {why}")
    return out


def ratio_lines(point, by_server):
    p = by_server.get("portcullis")
    for other in ("nginx", "haproxy"):
        o = by_server.get(other)
        missing = [n for n, s in (("portcullis", p), (other, o)) if not s or "failed" in s]
        if missing:
            print(f"portcullis/{other}: n/a ({' and '.join(missing)} failed or did not run)")
            continue
        line = f"portcullis/{other}: {p['value'] / o['value']:.2f}x rate"
        if p["cpu_us"] and o["cpu_us"]:
            less = o["cpu_us"] / p["cpu_us"]
            line += f", {less:.2f}x less CPU per {'GiB' if bulk(point) else 'request'}"
            if other == "nginx" and not bulk(point):
                line += f" (goal {GOAL:.0f}x: {'met' if less >= GOAL else 'not met'})"
        print(line)


def latest_entry(point, by_server, machine, when):
    metric, unit, _ = POINTS[point]
    results, cpu, own, driver = {}, {}, {}, {}
    conns = None
    for server in SERVERS:
        s = by_server.get(server)
        if not s or "failed" in s:
            continue
        conns = s["conns"]
        results[server] = round(s["value"], 3)
        if s["cpu_us"] is not None:
            cpu[server] = round(s["cpu_us"], 2)
        if s["own_cpu_us"] is not None:
            own[server] = round(s["own_cpu_us"], 2)
            driver[server] = round(s["driver_cpu_us"], 2)
    return {"metric": metric.format(c=f"{conns} connections" if conns else "N connections"),
            "unit": unit, "higher_is_better": True, "results": results,
            "cpu_us_per_op": cpu, "own_cpu_us_per_op": own, "driver_cpu_us_per_op": driver,
            "machine": machine, "when": when}


def main(records_path, out_path, machine, when):
    rows = [json.loads(line) for line in open(records_path)]
    latest = json.load(open(out_path)) if os.path.exists(out_path) else {}
    # A server that could not run at all (scenario "proxy") fails every point.
    failures = [(r["server"], r["error"]) for r in rows if r["conns"] is None]
    for point in POINTS:
        prow = [r for r in rows if r["scenario"] == point and r["conns"] is not None]
        ran = {r["server"] for r in prow}
        if not prow and not failures:
            continue
        by_server = table(point, prow, [f for f in failures if f[0] not in ran])
        ratio_lines(point, by_server)
        latest[point] = latest_entry(point, by_server, machine, when)
    print("\nserver CPU: portcullis' worker busy cycles (SIGUSR1 counters before and after);"
          "\nnginx/haproxy: core 1's busy time in /proc/stat (everything on that core). The"
          "\nbackend (nginx) and the client run on core 0. own / driver: portcullis' busy"
          "\ncycles outside / inside rte_eth_rx_burst and tx_burst (inside: AF_XDP's syscalls"
          "\nand the kernel's veth path, both ways: client and backend). Every proxy reaches"
          "\nthe backend (in the client namespace) over the lab's veths and bridge."
          "\nclient CPU: pc_load's user+system time per operation on core 0.")
    with open(out_path, "w") as f:
        json.dump(latest, f, indent=2)
        f.write("\n")
    print(f"wrote {out_path}")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:5])
