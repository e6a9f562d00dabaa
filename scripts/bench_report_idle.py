#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The idle-conns scenario's table and its latest.json entry (others kept):

  bench_report_idle.py RECORDS LATEST MACHINE WHEN

RECORDS: JSON lines from scripts/bench.sh (scenario idle-conns), each with
conns, held, open_s, counters (portcullis's counter dump while they were
held), rss_kb and hugepages ([with no connection, with them held]) and
loads (the JSON of each pc_load process).

B/conn is portcullis's memory_per_connection_bytes (wolfSSL's memory as
handed out); carved B/conn counts instead what the wolfSSL arena carved
from its region (tls_mem_reserved_bytes: the handshakes' transient memory
leaves gaps that idle connections do not fill), the honest footprint of a
fresh process that opened them all."""
import json
import os
import sys

MIB = 1 << 20


def main(records_path, latest_path, machine, when):
    recs = [json.loads(line) for line in open(records_path)]
    latest = json.load(open(latest_path)) if os.path.exists(latest_path) else {}
    print("idle-conns: idle mutual-TLS connections held on one worker (one request each)")
    print(f"{'conns':>8} {'held':>8} {'open s':>7} {'B/conn':>7} {'carved':>7} {'TCP B':>6} "
          f"{'TLS obj B':>9} {'wolfSSL B':>9} {'bufs':>5} {'RSS MiB':>15} {'hugepages MiB':>15} "
          f"{'1M conns GiB':>12}")
    best = None
    for r in recs:
        c = r["counters"]
        n = c.get("tcp_connections_active", 0)
        per = c.get("memory_per_connection_bytes", 0)
        tcp = c["tcp_memory_in_use_bytes"] / n if n else 0
        wolf = c["tls_mem_in_use_bytes"] / n if n else 0
        carved = round(per - wolf + c["tls_mem_reserved_bytes"] / n) if n else 0
        r["carved"] = carved
        rss = "{:.0f} -> {:.0f}".format(r["rss_kb"][0] / 1024, r["rss_kb"][1] / 1024)
        hp = "{} -> {}".format(r["hugepages"][0] * 2, r["hugepages"][1] * 2)
        print(f"{r['conns']:>8} {r['held']:>8} {r['open_s']:>7.1f} {per:>7} {carved:>7} {tcp:>6.0f} "
              f"{c.get('tls_conn_object_bytes', 0):>9} {wolf:>9.0f} "
              f"{c.get('tcp_buffers_in_use', 0):>5} {rss:>15} {hp:>15} "
              f"{carved * 1e6 / (1 << 30):>12.1f}")
        errors = sum((ld or {}).get("errors", {}).get("total", 1) for ld in r["loads"])
        if r["held"] == r["conns"] and errors == 0 and per:
            best = r
        else:
            print(f"  {r['conns']}: not all held or errors ({errors}): left out of latest.json")
    if best is not None:
        c = best["counters"]
        per = c["memory_per_connection_bytes"]
        latest["idle-conns"] = {
            "metric": f"memory per idle mutual-TLS connection, {best['conns']} held on one worker",
            "unit": "bytes", "higher_is_better": False,
            "results": {"portcullis": per},
            "bytes_per_conn": per,
            "carved_bytes_per_conn": best["carved"],
            "connections": best["conns"],
            "open_s": best["open_s"],
            "rss_bytes": best["rss_kb"][1] * 1024,
            "hugepages_bytes": best["hugepages"][1] * 2 * MIB,
            "million_conns_gib": round(best["carved"] * 1e6 / (1 << 30), 2),
            "machine": machine, "when": when}
    with open(latest_path, "w") as f:
        json.dump(latest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
