# SPDX-License-Identifier: MIT
"""Tables for the TCP scenarios of scripts/bench.sh, merged into
bench-results/latest.json.

  bench_report_tcp.py RECORDS.jsonl LATEST.json

Each record: {"scenario", "target" (portcullis|kernel), "label", "load"
(pc_load's JSON or null), "cpu" ({"cpu_s"} for the kernel, {"busy_cycles",
"tsc_hz", "driver_cycles", "packets"} for portcullis, or null)}.
portcullis's driver cycles (inside rte_eth_rx_burst/tx_burst: in the lab
the kernel's transport) are split from its own, as `own_cpu_us_per_op`."""
import json
import os
import sys


def cpu_seconds(cpu):
    if not cpu:
        return None
    if "cpu_s" in cpu:
        return cpu["cpu_s"]
    if cpu.get("tsc_hz"):
        return cpu["busy_cycles"] / cpu["tsc_hz"]
    return None


def own_seconds(cpu):
    """portcullis: of cpu_seconds, the time outside the driver."""
    if not cpu or not cpu.get("tsc_hz") or "driver_cycles" not in cpu:
        return None
    return (cpu["busy_cycles"] - cpu["driver_cycles"]) / cpu["tsc_hz"]


def main(records_path, out_path, machine, when):
    rows = [json.loads(line) for line in open(records_path)]
    latest = json.load(open(out_path)) if os.path.exists(out_path) else {}
    groups = {}
    for r in rows:
        groups.setdefault((r["scenario"], r["label"]), {})[r["target"]] = r
    for (scenario, label), by_target in groups.items():
        cps = scenario == "tcp-cps"
        metric, unit = (("connections per second", "conn/s") if cps
                        else ("echo throughput, both directions", "Gbit/s"))
        print(f"\n{scenario} ({label})")
        print(f"{'server':<11} {unit:>10} {'errors':>6} {'p50/p99 us':>14} "
              f"{'server CPU':>11} {'CPU us/op':>10} {'own us/op':>10} {'packets/op':>10}")
        results, cpu_per, own_per = {}, {}, {}
        for target in ("portcullis", "kernel"):
            r = by_target.get(target)
            load = r["load"] if r else None
            if not load:
                print(f"{target:<11} {'-':>10}")
                continue
            value = load["connections"]["per_s"] if cps else load["gbps"]
            lat = load["latency_us"]["request"] or {}
            errors = load["errors"]["total"]
            cs = cpu_seconds(r["cpu"])
            ops = (load["connections"]["ok"] if cps
                   else (load["bytes"]["tx"] + load["bytes"]["rx"]) / 2**30)
            per = cs * 1e6 / ops if cs is not None and ops else None
            own = own_seconds(r["cpu"])
            own = own * 1e6 / ops if own is not None and ops else None
            pkts = r["cpu"].get("packets") if r["cpu"] else None
            pkts = pkts / ops if pkts and ops else None
            if errors == 0:
                results[target] = value
            if per is not None:
                cpu_per[target] = per
            if own is not None:
                own_per[target] = own
            lat_s = f"{lat['p50']:.0f}/{lat['p99']:.0f}" if lat else "-"
            cs_s = "-" if cs is None else f"{cs:.2f} s"
            per_s = "-" if per is None else f"{per:.1f}"
            own_s = "-" if own is None else f"{own:.1f}"
            pkts_s = "-" if pkts is None else f"{pkts:.0f}"
            print(f"{target:<11} {value:>10.{0 if cps else 2}f} {errors:>6} {lat_s:>14} "
                  f"{cs_s:>11} {per_s:>10} {own_s:>10} {pkts_s:>10}")
        p, k = results.get("portcullis"), results.get("kernel")
        if p and k:
            print(f"portcullis/kernel: {p / k:.2f}x")
        name = scenario if cps else f"{scenario}-{label}"
        latest[name] = {"metric": metric, "unit": unit, "higher_is_better": True,
                        "results": results, "cpu_us_per_op": cpu_per,
                        "own_cpu_us_per_op": own_per,
                        "machine": machine, "when": when}
    print("\nCPU us/op: server CPU-microseconds per connection (tcp-cps) or per GiB moved"
          " (tcp-bulk);\nportcullis: its worker's busy cycles; kernel: core 1's busy time"
          " (/proc/stat).\nown us/op: portcullis's busy cycles outside rte_eth_rx_burst/tx_burst"
          " (in the lab the driver's share\nis the kernel's transport); packets/op: frames"
          " it received and sent.")
    with open(out_path, "w") as f:
        json.dump(latest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:5])
