# SPDX-License-Identifier: MIT
"""Tables, latest.json entries and the concurrency plot for the TLS
scenarios of scripts/bench.sh (tls-full, tls-cached, tls-resumed, tls-bulk).

  bench_report_tls.py RECORDS.jsonl LIMIT.json LATEST.json MACHINE WHEN OUTDIR

Each record: {"scenario", "server" (portcullis|nginx|haproxy), "conns",
"run", "load" (pc_load's JSON or null), "cpu" ({"before", "after", "hz"}:
portcullis' busy TSC cycles, or core 1's busy jiffies, or null; portcullis
adds "driver_before", "driver_after": the busy cycles inside
rte_eth_rx_burst/tx_burst), "limit" ([before, after]: pc_crypto_limit's output
measured right before and after the run, each null when it failed; absent
in older records), "error" (why there is no load result, or null)}.
LIMIT.json is pc_crypto_limit's output at setup (may be missing): the
limit of a point without its own. Entries in LATEST.json for other scenarios are
kept; a server that failed is left out of its scenario's entry."""
import json
import os
import shutil
import statistics
import subprocess
import sys

SERVERS = ("portcullis", "nginx", "haproxy")
# The concurrency whose figures go into latest.json (bench.sh TLS_CONNS).
HEADLINE_CONNS = 16
# tls-resumed: a run in which the server declined more ticket offers than
# this share measured something else (the first handshake of every
# connection slot is full and offers nothing).
MIN_RESUMED = 0.9


def mode_of(scenario):
    return "bulk" if scenario == "tls-bulk" else "handshake"


def run_failure(scenario, r):
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
    conns = load["connections"]
    if not conns["ok"] or (mode_of(scenario) == "bulk" and not load["requests"]["ok"]):
        return "no successful attempt"
    offered = conns["resumed"] + conns["resume_missed"]
    if scenario == "tls-resumed" and (not conns["resumed"] or
                                      conns["resumed"] < MIN_RESUMED * offered):
        return (f"resumption did not take: {conns['resumed']} resumed, "
                f"{conns['resume_missed']} offers declined, of {conns['ok']} handshakes")
    return None


def value(scenario, load):
    return load["gbps"] if mode_of(scenario) == "bulk" else load["connections"]["per_s"]


def ops(scenario, load):
    """Operations the server's CPU time is divided by: handshakes, or GiB
    sent by the server (totals, grace period included, like the CPU time)."""
    if mode_of(scenario) == "bulk":
        return load["bytes"]["rx"] / 2**30
    return load["connections"]["ok"]


def cpu_seconds(cpu):
    if not cpu or not cpu.get("hz"):
        return None
    return (cpu["after"] - cpu["before"]) / cpu["hz"]


def driver_seconds(cpu):
    """portcullis: of cpu_seconds, the time inside the driver (None for
    the others: their transport is the kernel's, in their CPU time)."""
    if not cpu or not cpu.get("hz") or cpu.get("driver_after") is None:
        return None
    return (cpu["driver_after"] - cpu["driver_before"]) / cpu["hz"]


def summarize(scenario, runs):
    """The point's figures from its runs (median by rate), or its failure."""
    for r in runs:
        why = run_failure(scenario, r)
        if why:
            return {"failed": why}
    ordered = sorted(runs, key=lambda r: value(scenario, r["load"]))
    m = ordered[(len(ordered) - 1) // 2]
    # The limit next to the run reported: the mean of before and after.
    lims = [limit_of(scenario, lim)[1] for lim in m.get("limit") or [] if lim]
    load = m["load"]
    cs = cpu_seconds(m["cpu"])
    ds = driver_seconds(m["cpu"])
    n = ops(scenario, load)
    lat = load["latency_us"]["request" if mode_of(scenario) == "bulk" else "handshake"]
    return {"value": value(scenario, load), "cpu_s": cs,
            "cpu_us": cs * 1e6 / n if cs and n else None,
            "own_cpu_us": (cs - ds) * 1e6 / n if cs and ds is not None and n else None,
            "driver_cpu_us": ds * 1e6 / n if ds is not None and n else None,
            "client_cpu_us": (load["cpu"]["user_s"] + load["cpu"]["sys_s"]) * 1e6 / n if n else None,
            "limit_us": sum(lims) / len(lims) if lims else None,
            "lat": lat, "runs": len(runs),
            "resumed": load["connections"]["resumed"], "ok": load["connections"]["ok"]}


def rate_of(scenario, lim_us):
    """The per-core rate of a limit of lim_us CPU-us per operation."""
    return 8 * 2**30 / 1e3 / lim_us if mode_of(scenario) == "bulk" else 1e6 / lim_us


def limit_of(scenario, limit):
    """(per-core rate, CPU-us per operation) of the crypto alone."""
    if not limit:
        return None, None
    us = limit["us"]
    if scenario == "tls-full":
        t = limit["handshake_us"]
    elif scenario == "tls-cached":
        # The client's chain is not verified again: its CertificateVerify
        # is the one P-256 verification left, with the table of the
        # client's key that the cache lends a returning chain.
        t = limit["handshake_us"] - us["ecdsa_p256_verify"]
    elif scenario == "tls-resumed":
        # psk_dhe_ke: the ephemeral X25519 exchange is all the public-key
        # work a resumed handshake has left.
        t = us["x25519_keygen"] + us["x25519_shared"]
    else:
        t = us["aes128gcm_16k_record"] * 2**30 / 16384
    return rate_of(scenario, t), t


def point_limit(scenario, s, limit):
    """(rate, us) of the limit a point's ratios use: its own, or setup's."""
    if s.get("limit_us"):
        return rate_of(scenario, s["limit_us"]), s["limit_us"]
    return limit_of(scenario, limit)


def scenario_limit(scenario, summaries, limit):
    """(rate, us): the median of the points' own limits, or setup's."""
    own = [s["limit_us"] for s in summaries if s.get("limit_us")]
    if not own:
        return limit_of(scenario, limit)
    us = statistics.median(own)
    return rate_of(scenario, us), us


SHAPES = {
    "tls-full": ("full mTLS handshakes per second (TLS 1.3, ECDSA P-256 certificates, "
                 "X25519), {c} connections", "handshakes/s", "CPU us per handshake"),
    "tls-cached": ("full mTLS handshakes per second of a returning client (its chain "
                   "found in the verified-chain cache), {c} connections", "handshakes/s",
                   "CPU us per handshake"),
    "tls-resumed": ("resumed mTLS handshakes per second (TLS 1.3 session tickets, "
                    "psk_dhe_ke X25519), {c} connections", "handshakes/s",
                    "CPU us per handshake"),
    "tls-bulk": ("mTLS download throughput (TLS 1.3 AES-128-GCM, 16 KiB records, "
                 "1 MiB bodies on kept-alive connections), {c} connection(s)", "Gbit/s",
                 "CPU us per GiB"),
}


def fmt(v, digits):
    return "-" if v is None else f"{v:.{digits}f}"


def table(scenario, points, failures, limit):
    """Prints one scenario's table; returns {conns: {server: summary}}."""
    metric, unit, per = SHAPES[scenario]
    bulk = mode_of(scenario) == "bulk"
    digits = 2 if bulk else 0
    print(f"\n{scenario}: {metric.format(c='N')}")
    lat_name = "request p50/p99 ms" if bulk else "handshake p50/p99 ms"
    print(f"{'server':<11} {'conns':>5} {unit:>12} {lat_name:>21} {'server CPU':>10} "
          f"{per:>21} {'own / driver':>15} {'own/limit':>9} {'per core-s':>10} {'rate/limit':>10} "
          f"{'core/limit':>10} {'client CPU':>10}")
    out = {}
    all_conns = sorted({c for (_, c) in points})
    for c in all_conns:
        for server in SERVERS:
            runs = points.get((server, c))
            if not runs:
                continue
            s = summarize(scenario, runs)
            out.setdefault(c, {})[server] = s
            if "failed" in s:
                print(f"{server:<11} {c:>5} failed: {s['failed']}")
                continue
            lat = s["lat"]
            lat_s = f"{lat['p50'] / 1e3:.2f}/{lat['p99'] / 1e3:.2f}" if lat else "-"
            core = None
            if s["cpu_us"]:
                core = (1e6 / s["cpu_us"]) if not bulk else (1e6 / s["cpu_us"] * 8 * 2**30 / 1e9)
            s["per_core"] = core
            lim_rate, lim_us = point_limit(scenario, s, limit)
            rl = f"{s['value'] / lim_rate:.2f}" if lim_rate else "-"
            ol = f"{s['own_cpu_us'] / lim_us:.2f}" if lim_us and s["own_cpu_us"] else "-"
            cl = f"{core / lim_rate:.2f}" if lim_rate and core else "-"
            cs = "-" if s["cpu_s"] is None else f"{s['cpu_s']:.2f} s"
            split = "-" if s["own_cpu_us"] is None else \
                f"{fmt(s['own_cpu_us'], 0 if bulk else 1)} / {fmt(s['driver_cpu_us'], 0 if bulk else 1)}"
            print(f"{server:<11} {c:>5} {s['value']:>12.{digits}f} {lat_s:>21} {cs:>10} "
                  f"{fmt(s['cpu_us'], 0 if bulk else 1):>21} {split:>15} {ol:>9} "
                  f"{fmt(core, digits):>10} {rl:>10} {cl:>10} "
                  f"{fmt(s['client_cpu_us'], 0 if bulk else 1):>10}")
    for server, why in failures:
        print(f"{server:<11} {'-':>5} failed: {why}")
    lim_rate, lim_us = scenario_limit(
        scenario, [s for by in out.values() for s in by.values() if "failed" not in s], limit)
    if lim_rate:
        print(f"{'limit':<11} {'':>5} {lim_rate:>12.{digits}f} {'':>21} {'':>10} "
              f"{lim_us:>21.{0 if bulk else 1}f} {'':>15} {'1.00':>9} {lim_rate:>10.{digits}f} "
              f"{'1.00':>10} {'1.00':>10}")
    return out


def ratio_lines(by_server):
    p = by_server.get("portcullis")
    for other in ("nginx", "haproxy"):
        o = by_server.get(other)
        missing = [n for n, s in (("portcullis", p), (other, o)) if not s or "failed" in s]
        if missing:
            print(f"portcullis/{other}: n/a ({' and '.join(missing)} failed or did not run)")
            continue
        line = f"portcullis/{other}: {p['value'] / o['value']:.2f}x rate"
        if p["cpu_us"] and o["cpu_us"]:
            line += f", {o['cpu_us'] / p['cpu_us']:.2f}x less CPU per operation"
        print(line)


def latest_entry(scenario, conns, by_server, limit, machine, when):
    metric, unit, _ = SHAPES[scenario]
    lim_rate, lim_us = scenario_limit(
        scenario, [s for s in by_server.values() if "failed" not in s], limit)
    results, cpu, own, driver = {}, {}, {}, {}
    for server in SERVERS:
        s = by_server.get(server)
        if not s or "failed" in s:
            continue
        results[server] = round(s["value"], 3)
        if s["cpu_us"] is not None:
            cpu[server] = round(s["cpu_us"], 2)
        if s["own_cpu_us"] is not None:
            own[server] = round(s["own_cpu_us"], 2)
            driver[server] = round(s["driver_cpu_us"], 2)
    if lim_rate:
        results["limit"] = round(lim_rate, 3)
        cpu["limit"] = round(lim_us, 2)
        own["limit"] = round(lim_us, 2)
    return {"metric": metric.format(c=conns), "unit": unit, "higher_is_better": True,
            "results": results, "cpu_us_per_op": cpu, "own_cpu_us_per_op": own,
            "driver_cpu_us_per_op": driver, "machine": machine, "when": when}


def plot(points_by_conns, outdir, lim_rate):
    """tls-full: handshakes/s against concurrency, one line per server, and
    the limit's rate (or None)."""
    series = {}
    for c, by_server in sorted(points_by_conns.items()):
        for server, s in by_server.items():
            if "failed" not in s:
                series.setdefault(server, []).append((c, s["value"]))
    if not series:
        print("no plot: no server has a tls-full figure")
        return
    png = os.path.join(outdir, "tls-full.png")
    dat = os.path.join(outdir, "tls-full.dat")
    with open(dat, "w") as f:
        f.write("# concurrency handshakes/s, one block per server\n")
        for server, pts in series.items():
            f.write(f'"{server}"\n')
            for c, v in pts:
                f.write(f"{c} {v:.1f}\n")
            f.write("\n\n")
    title = "tls-full: full mTLS handshakes/s, server on one core"
    if shutil.which("gnuplot"):
        plots = [f"'{dat}' index {i} using 1:2 with linespoints title '{server}'"
                 for i, server in enumerate(series)]
        if lim_rate:
            plots.append(f"{lim_rate:.0f} with lines dashtype 2 "
                         "title 'crypto limit (wolfCrypt)'")
        script = "\n".join([
            "set terminal pngcairo size 800,500 noenhanced",
            f"set output '{png}'",
            f"set title '{title}'",
            "set xlabel 'concurrent connections'",
            "set ylabel 'handshakes/s'",
            "set logscale x 2",
            "set yrange [0:*]",
            "set key top left",
            "set grid",
            "plot " + ", ".join(plots),
        ])
        r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
        if r.returncode == 0:
            print(f"wrote {png}")
            return
        print(f"gnuplot failed: {r.stderr.strip()}")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"no plot (neither gnuplot nor python3-matplotlib); data in {dat}")
        return
    fig, ax = plt.subplots(figsize=(8, 5))
    for server, pts in series.items():
        ax.plot([c for c, _ in pts], [v for _, v in pts], marker="o", label=server)
    if lim_rate:
        ax.axhline(lim_rate, linestyle="--", label="crypto limit (wolfCrypt)")
    ax.set_xscale("log", base=2)
    ax.set_ylim(bottom=0)
    ax.set(title=title, xlabel="concurrent connections", ylabel="handshakes/s")
    ax.grid(True)
    ax.legend()
    fig.savefig(png, dpi=100)
    print(f"wrote {png}")


def client_lib(rows):
    libs = sorted({r["load"]["tls_library"] for r in rows if r["load"]})
    return ", ".join(libs) or "no run"


def main(records_path, limit_path, out_path, machine, when, outdir):
    rows = [json.loads(line) for line in open(records_path)]
    limit = json.load(open(limit_path)) if os.path.exists(limit_path) else None
    latest = json.load(open(out_path)) if os.path.exists(out_path) else {}
    scenarios = []
    for r in rows:
        if r["scenario"] not in scenarios:
            scenarios.append(r["scenario"])
    if limit:
        print(f"\ncrypto limit at setup (wolfSSL {limit['wolfssl']}, one core): full mTLS handshake "
              f"{limit['handshake_us']:.1f} us = {limit['handshakes_per_s']:.0f}/s "
              f"(P-256 sign {limit['us']['ecdsa_p256_sign']:.1f}, verify "
              f"{limit['us']['ecdsa_p256_verify']:.1f}, verify by a CA's table "
              f"{limit['us']['ecdsa_p256_verify_ca']:.1f}, X25519 keygen "
              f"{limit['us']['x25519_keygen']:.1f} + shared {limit['us']['x25519_shared']:.1f}); "
              f"AES-128-GCM 16 KiB records {limit['aes128gcm_16k_gbps']:.2f} Gbit/s")
    for scenario in scenarios:
        points, failures = {}, []
        for r in rows:
            if r["scenario"] != scenario:
                continue
            if r["conns"] is None:
                failures.append((r["server"], r["error"]))
            else:
                points.setdefault((r["server"], r["conns"]), []).append(r)
        by_conns = table(scenario, points, failures, limit)
        if scenario == "tls-bulk":
            for c, by_server in sorted(by_conns.items()):
                print(f"at {c} connection(s):")
                ratio_lines(by_server)
                name = "tls-bulk-1conn" if c == 1 else "tls-bulk"
                latest[name] = latest_entry(scenario, c, by_server, limit, machine, when)
        else:
            c = HEADLINE_CONNS if HEADLINE_CONNS in by_conns else max(by_conns, default=None)
            if c is None:
                latest[scenario] = latest_entry(scenario, HEADLINE_CONNS, {}, limit, machine, when)
                continue
            print(f"at {c} connections:")
            ratio_lines(by_conns[c])
            latest[scenario] = latest_entry(scenario, c, by_conns[c], limit, machine, when)
            if scenario == "tls-full":
                plot(by_conns, outdir, scenario_limit(
                    scenario, [s for by in by_conns.values() for s in by.values()
                               if "failed" not in s], limit)[0])
    print("\nserver CPU: portcullis' worker busy cycles (SIGUSR1 counters before and after);"
          "\nnginx/haproxy: core 1's busy time in /proc/stat (everything on that core)."
          "\nown / driver: portcullis' busy cycles outside / inside rte_eth_rx_burst and"
          "\ntx_burst (inside: here AF_XDP's syscalls and the kernel's veth path, which a"
          "\nNIC's PMD does not cost); own_cpu_us_per_op in latest.json. For nginx and"
          "\nhaproxy the kernel's TCP and transport are in their CPU and cannot be told apart."
          "\nper core-s: operations per second of server CPU (handshakes, or Gbit/s);"
          "\nlimit: the crypto-only cost, measured on core 1 right before and after each"
          "\nrun (a point's ratios use its own; the limit row is their median);"
          "\nown/limit: portcullis' own CPU per operation against the limit's;"
          "\nrate/limit: the measured rate against the crypto-only limit of one core;"
          "\ncore/limit: the same per second of server CPU (what one busy core would do);"
          "\nclient CPU: pc_load's user+system time per operation on core 0"
          f" ({client_lib(rows)}).")
    with open(out_path, "w") as f:
        json.dump(latest, f, indent=2)
        f.write("\n")
    print(f"wrote {out_path}")


if __name__ == "__main__":
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    main(*sys.argv[1:7])
