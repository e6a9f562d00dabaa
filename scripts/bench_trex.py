# SPDX-License-Identifier: MIT
"""The TRex scenarios of scripts/bench.sh: judges each run and prints the
tables, merged into bench-results/latest.json.

  bench_trex.py verdict RECORD_JSON
  bench_trex.py report RECORDS.jsonl LATEST.json MACHINE WHEN

A trex-cps or trex-bulk record: {"scenario", "target" (portcullis|kernel),
"mode" (veth|memif), "rate" (connections/s asked of TRex), "trex"
(scripts/trex/pc_trex.py's result or null), "cpu" ({"before", "after",
"hz"}: the server's busy cycles or core 1's jiffies)}. A trex-synflood
record: {"pps" (0: no flood), "load" (pc_load's JSON), "flood" (TRex's
port counters or null), "cookies_sent", "cookies_ok", "conns_active",
"rss_kb" [before, after]}.

verdict prints `ok` when the run is clean: every connection TRex opened
was established and closed, TRex counted no error, and TRex opened at
least 95 % of the connections asked for (else `TRex short: ...`: TRex
itself, not the server, was the limit); `ok, TRex-bound: ...` when it is
clean but TRex had to delay its own receive processing (it, not the
server, was the bottleneck); otherwise what went wrong."""
import json
import os
import sys

def verdict(r):
    t = r.get("trex")
    if not t:
        return "failed: the TRex client gave no result"
    c = t["client"]
    attempts = c.get("tcps_connattempt", 0)
    connects = c.get("tcps_connects", 0)
    closed = c.get("tcps_closed", 0)
    errors = t["errors"]
    if errors:
        return "errors: " + ", ".join(f"{k}={v}" for k, v in sorted(errors.items()))
    if attempts == 0 or connects != attempts or closed != attempts:
        return f"errors: {attempts} opened, {connects} established, {closed} closed"
    if r["scenario"] == "trex-cps":
        asked = r["rate"] * t["seconds"]
        if attempts < 0.95 * asked:
            return f"TRex short: opened {attempts} of {asked:.0f} connections"
    if t.get("rx_throttled"):
        return f"ok, TRex-bound: it delayed its receive processing {t['rx_throttled']} times"
    return "ok"


def clean(r):
    return verdict(r).startswith("ok")


def cpu_seconds(r):
    c = r.get("cpu") or {}
    if c.get("before") is None or c.get("after") is None or not c.get("hz"):
        return None
    return (c["after"] - c["before"]) / c["hz"]


def latency(t):
    lat = (t or {}).get("latency") or {}
    if lat.get("avg_us") is None:
        return "-"
    return f"{lat['avg_us']:.0f}/{lat['max_us']:.0f}"


def report_cps(rows, latest, machine, when):
    print("\ntrex-cps (TRex: connect, 64 bytes echoed, close; highest rate with zero errors)")
    print(f"{'server':<18} {'conn/s':>8} {'CPU us/conn':>12} {'RTT avg/max us':>15}  above it")
    results, cpu_per = {}, {}
    for key in ("portcullis/veth", "portcullis/memif", "kernel/veth"):
        runs = [r for r in rows if f"{r['target']}/{r['mode']}" == key]
        if not runs:
            continue
        good = [r for r in runs if clean(r)]
        best = max(good, key=lambda r: r["rate"]) if good else None
        above = sorted((r for r in runs if best is None or r["rate"] > best["rate"]),
                       key=lambda r: r["rate"])
        limit = (f"{above[0]['rate']}/s: {verdict(above[0])}" if above
                 else "none tried (the ceiling was clean: TRex/machine limit)")
        name = key.replace("/", "-")
        if best is None:
            print(f"{key:<18} {'-':>8} {'-':>12} {'-':>15}  {limit}")
            continue
        t = best["trex"]
        cs = cpu_seconds(best)
        conns = t["client"]["tcps_connects"]
        rate = conns / t["seconds"]  # TRex opens them in that window
        per = cs * 1e6 / conns if cs is not None else None
        results[name] = round(rate)
        if per is not None:
            cpu_per[name] = round(per, 2)
        print(f"{key:<18} {rate:>8.0f} {'-' if per is None else f'{per:.2f}':>12} "
              f"{latency(t):>15}  {limit}")
        if verdict(best) != "ok":
            print(f"{'':<18} (at that rate: {verdict(best)})")
    p, k = results.get("portcullis-veth"), results.get("kernel-veth")
    if p and k:
        print(f"portcullis/kernel over the veth lab: {p / k:.2f}x")
    latest["trex-cps"] = {"metric": "TCP connections per second with zero errors (TRex)",
                          "unit": "conn/s", "higher_is_better": True, "results": results,
                          "cpu_us_per_op": cpu_per, "machine": machine, "when": when}


def report_bulk(rows, latest, machine, when):
    print("\ntrex-bulk (TRex flows of 64 MiB each way through the echo server)")
    print(f"{'server':<18} {'Gbit/s':>7} {'CPU s/GiB':>10}  clean runs, verdict of the median")
    results, cpu_per = {}, {}
    for key in ("portcullis/memif", "portcullis/veth", "kernel/veth"):
        runs = [r for r in rows if f"{r['target']}/{r['mode']}" == key and r["trex"]]
        if not runs:
            continue

        def gbps(r):
            c, d = r["trex"]["client"], r["trex"]["duration"]
            return (c.get("tcps_sndbyte", 0) + c.get("tcps_rcvbyte", 0)) * 8 / d / 1e9 if d else 0

        # The median of the clean runs (of all runs when none is).
        pool = [r for r in runs if clean(r)] or runs
        m = sorted(pool, key=gbps)[(len(pool) - 1) // 2]
        c = m["trex"]["client"]
        gib = (c.get("tcps_sndbyte", 0) + c.get("tcps_rcvbyte", 0)) / 2**30
        cs = cpu_seconds(m)
        per = cs / gib if cs is not None and gib else None
        v = verdict(m)
        name = key.replace("/", "-")
        if clean(m):
            results[name] = round(gbps(m), 2)
        if per is not None:
            cpu_per[name] = round(per, 3)
        print(f"{key:<18} {gbps(m):>7.2f} {'-' if per is None else f'{per:.3f}':>10}  "
              f"{sum(clean(r) for r in runs)}/{len(runs)}, {v}")
    latest["trex-bulk"] = {"metric": "TCP echo throughput, both directions (TRex)",
                           "unit": "Gbit/s", "higher_is_better": True, "results": results,
                           "cpu_s_per_gib": cpu_per, "machine": machine, "when": when}


def report_flood(rows, latest, machine, when):
    print("\ntrex-synflood (pc_load mutual-TLS handshakes, 16 connections, during a SYN flood)")
    print(f"{'flood pkt/s':>11} {'sent/s':>8} {'hs/s':>7} {'success':>8} {'hs p99 ms':>9} "
          f"{'cookies sent':>12} {'cookies ok':>10} {'conns':>6} {'RSS MB':>13}")
    results = {}
    for r in sorted(rows, key=lambda r: r["pps"]):
        load = r["load"]
        sent = "-"
        if r["flood"]:
            sent = f"{r['flood']['port']['opackets'] / r['flood']['seconds']:.0f}"
        if not load:
            print(f"{r['pps']:>11} {sent:>8} {'pc_load failed':>7}")
            continue
        ok = load["connections"]["ok"]
        bad = load["errors"]["total"]
        success = 100.0 * ok / (ok + bad) if ok + bad else 0.0
        hs = (load["latency_us"].get("handshake") or {})
        p99 = f"{hs['p99'] / 1000:.1f}" if hs else "-"
        rss = f"{r['rss_kb'][0] / 1024:.0f}->{r['rss_kb'][1] / 1024:.0f}"
        results[str(r["pps"])] = round(success, 2)
        print(f"{r['pps']:>11} {sent:>8} {load['connections']['per_s']:>7.0f} {success:>7.2f}% "
              f"{p99:>9} {r['cookies_sent']:>12} {r['cookies_ok']:>10} {r['conns_active']:>6} "
              f"{rss:>13}")
    print("success: handshakes completed / attempted; conns: portcullis's connection blocks "
          "in use after the run.")
    latest["trex-synflood"] = {"metric": "mutual-TLS handshakes that succeed during a SYN flood "
                                         "(key: flood pkt/s)",
                               "unit": "%", "higher_is_better": True, "results": results,
                               "machine": machine, "when": when}


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "verdict":
        print(verdict(json.loads(sys.argv[2])))
        return
    if len(sys.argv) != 6 or sys.argv[1] != "report":
        sys.exit(__doc__)
    rows = [json.loads(line) for line in open(sys.argv[2])]
    out_path, machine, when = sys.argv[3:6]
    latest = json.load(open(out_path)) if os.path.exists(out_path) else {}
    for name, fn in (("trex-cps", report_cps), ("trex-bulk", report_bulk),
                     ("trex-synflood", report_flood)):
        these = [r for r in rows if r["scenario"] == name]
        if these:
            fn(these, latest, machine, when)
    print("\nCPU: portcullis's worker busy cycles; kernel: core 1's busy time (/proc/stat).")
    with open(out_path, "w") as f:
        json.dump(latest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
