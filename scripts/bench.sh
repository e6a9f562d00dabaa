#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark harness. Runs in the lab (scripts/lab.sh), as root.
#
#   scripts/bench.sh [scenario...]      (no scenario: all of them)
#
# Scenarios:
#   pmd   ICMP echo through the portcullis worker with each DPDK virtual
#         device (net_af_xdp, net_af_packet), 64- and 1472-byte payloads
#         (the latter fills a 1500-byte MTU), driven by pc_blast from the
#         client namespace; the Linux kernel of the backend namespace
#         answering the same load is the reference.
#   tcp-cps   connect, 64 bytes echoed, close, with 32 connections kept
#         busy by pc_load (tests/perf/load), against portcullis's echo app
#         and against pc_kecho (a one-thread epoll echo server) on the
#         backend's Linux stack pinned to the same core.
#   tcp-bulk  64 MiB echoed each way on 1 and on 8 connections, same two
#         servers: Gbit/s counts both directions.
#
# Prints a table and writes bench-results/latest.json (and, per PMD, the
# output of the last portcullis run, counters included:
# bench-results/portcullis-*.log). Needs portcullis and pc_blast built in
# $PC_BUILD (default build/release).
#   PC_BENCH_SECONDS  length of each measurement (default 5)
#   PC_BENCH_RUNS     measurements per point; the median is reported (default 3)
#   PC_LAB            which lab (see scripts/lab.sh; default pc)
#
# Pinning: the portcullis worker (lcore 1) runs on core 1, its management
# lcore and pc_blast on core 0. The kernel's share of the packet path (veth,
# bridge, the PMD's kernel half) runs on whichever core makes the syscall:
# requests on core 0 (pc_blast's sends, up to and including the PMD's
# receive side), replies on core 1 (the PMD's transmit). So on a 2-core
# machine this measures the lab as a whole, both cores busy, not the
# worker alone.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/common.sh
. "$ROOT/scripts/common.sh"

BUILD=${PC_BUILD:-$ROOT/build/release}
PORTCULLIS=$BUILD/portcullis
PC_BLAST=$BUILD/tests/perf/pc_blast
PC_LOAD=$BUILD/tests/perf/pc_load
PC_KECHO=$BUILD/tests/perf/pc_kecho
SECONDS_EACH=${PC_BENCH_SECONDS:-5}
RUNS=${PC_BENCH_RUNS:-3}
RESULTS_DIR=$ROOT/bench-results
SCENARIOS=(pmd tcp-cps tcp-bulk)

# The same names scripts/lab.sh gives the lab's namespaces.
LAB=${PC_LAB:-pc}
NS_DP=$LAB-dp
NS_CL=$LAB-client
NS_BE=$LAB-backend

PC_ADDR=198.18.0.1
KERNEL_ADDR=198.18.0.3
READY_TIMEOUT=30
STOP_TIMEOUT=10

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

# Processes this script started, stopped by PID on any exit.
STARTED=()
TMP=

stop_pid() {
	local pid=$1 i
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			log "PID $pid ignored SIGTERM for ${STOP_TIMEOUT}s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	wait "$pid" 2>/dev/null || true
}

forget_pid() {
	local pid=$1 i
	for i in "${!STARTED[@]}"; do
		if [ "${STARTED[$i]}" = "$pid" ]; then
			unset 'STARTED[i]'
		fi
	done
}

cleanup() {
	local pid
	for pid in "${STARTED[@]}"; do
		stop_pid "$pid"
	done
	if [ -n "$TMP" ]; then
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# How long every task has run so far: one "path nanoseconds" line each.
# (The scheduler's own accounting: /proc/stat's tick sampling misses a
# thread that wakes every few microseconds, such as an idle portcullis
# worker.)
task_runtimes() {
	grep -H '' /proc/[0-9]*/task/[0-9]*/schedstat 2>/dev/null | awk -F'[: ]' '{ print $1, $2 }'
}

# Another load on the machine (a build, a test run, a portcullis left
# running elsewhere) moves the numbers more than any PMD does: say so
# before measuring.
check_quiet() {
	local before busy
	before=$(task_runtimes)
	sleep 1
	busy=$(task_runtimes | awk -v ncpu="$(nproc)" '
		NR == FNR { t[$1] = $2; next }
		{ s += $2 - ($1 in t ? t[$1] : 0) }
		END { printf "%d", s / 1e7 / ncpu }' <(echo "$before") -)
	if [ "$busy" -gt 5 ]; then
		log "warning: the machine is already ${busy}% busy; the numbers will be low and noisy"
		if pgrep -x portcullis >/dev/null; then
			log "other portcullis processes (they share the cores):"
			pgrep -a -x portcullis | sed 's/^/    /' >&2
		fi
	fi
}

# record SCENARIO TARGET PAYLOAD BLAST WORKER: one line of
# $TMP/results.jsonl. BLAST is pc_blast's JSON result, WORKER portcullis's
# counters; either is null when there is none.
record() {
	printf '{"scenario": "%s", "target": "%s", "size": %s, "blast": %s, "worker": %s}\n' \
		"$1" "$2" "$3" "$4" "$5" >>"$TMP/results.jsonl"
}

# blast ADDR PAYLOAD: one pc_blast run from the client namespace on core 0;
# sets BLAST_JSON (null if it failed). Run in the background and waited
# for, so that a signal to this script stops it at once.
blast() {
	local addr=$1 size=$2 out="$TMP/blast.json" pid rc=0
	ip netns exec "$NS_CL" taskset -c 0 "$PC_BLAST" --dst "$addr" --size "$size" \
		--seconds "$SECONDS_EACH" --json >"$out" &
	pid=$!
	STARTED+=("$pid")
	wait "$pid" || rc=$?
	forget_pid "$pid"
	# Exit status 2: it ran, but some replies were wrong; the error count
	# in the result says so and the report refuses the number.
	if [ "$rc" -eq 0 ] || [ "$rc" -eq 2 ]; then
		BLAST_JSON=$(cat "$out")
	else
		log "pc_blast against $addr failed (exit $rc)"
		BLAST_JSON=null
	fi
}

# start_portcullis PMD: starts it in the dataplane namespace, waits for its
# ready line, sets PC_PID. Returns non-zero (with its output shown) if it
# never gets ready.
start_portcullis() {
	local pmd=$1 logf="$TMP/portcullis-$1.log" i eal
	eal=$(pc_eal_args "$pmd" 1) || return 1
	: >"$logf"
	# ip netns exec execs the command: $! is portcullis itself.
	# shellcheck disable=SC2086
	ip netns exec "$NS_DP" "$PORTCULLIS" $eal -- -c "$TMP/bench.conf" >"$logf" 2>&1 &
	PC_PID=$!
	STARTED+=("$PC_PID")
	for ((i = 0; i < READY_TIMEOUT * 10; i++)); do
		if grep -q '^portcullis: ready' "$logf"; then
			return 0
		fi
		if ! kill -0 "$PC_PID" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	log "portcullis (net_$pmd) did not get ready; its output:"
	sed 's/^/    /' "$logf" >&2
	stop_pid "$PC_PID"
	forget_pid "$PC_PID"
	return 1
}

# stop_portcullis PMD: SIGTERM, wait; sets WORKER_JSON from the counters it
# prints on the way out (null if it did not stop cleanly) and keeps its
# output in bench-results.
stop_portcullis() {
	local pmd=$1 logf="$TMP/portcullis-$1.log"
	stop_pid "$PC_PID"
	forget_pid "$PC_PID"
	cp "$logf" "$RESULTS_DIR/portcullis-$pmd.log"
	if ! grep -q '^portcullis: stopped' "$logf"; then
		log "portcullis (net_$pmd) did not stop cleanly; last lines:"
		tail -n 5 "$logf" | sed 's/^/    /' >&2
		WORKER_JSON=null
		return
	fi
	WORKER_JSON=$(awk '/^portcullis: stopping/ { on = 1 }
		on && $1 ~ /^(rx_packets|busy_cycles|idle_cycles)$/ && !seen[$1]++ {
			printf "%s\"%s\": %s", n++ ? ", " : "{", $1, $2 }
		END { print n ? "}" : "null" }' "$logf")
}

scenario_pmd() {
	local size pmd run
	for size in 64 1472; do
		for ((run = 1; run <= RUNS; run++)); do
			log "pmd: kernel $KERNEL_ADDR, $size-byte payload, run $run/$RUNS"
			blast "$KERNEL_ADDR" "$size"
			record pmd kernel "$size" "$BLAST_JSON" null
		done
	done
	# A fresh portcullis for every run: its exit counters then cover that
	# run alone.
	for pmd in af_xdp af_packet; do
		for size in 64 1472; do
			for ((run = 1; run <= RUNS; run++)); do
				log "pmd: portcullis net_$pmd, $size-byte payload, run $run/$RUNS"
				if ! start_portcullis "$pmd"; then
					record pmd "$pmd" "$size" null null
					continue
				fi
				blast "$PC_ADDR" "$size"
				stop_portcullis "$pmd"
				record pmd "$pmd" "$size" "$BLAST_JSON" "$WORKER_JSON"
			done
		done
	done
}

# cpu1_busy: jiffies core 1 spent working so far (user+nice+system+irq+
# softirq), for servers that are not portcullis.
cpu1_busy() {
	awk '$1 == "cpu1" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat
}

# load_run TARGET_ADDR PORT ARGS...: one pc_load run from the client
# namespace on core 0; sets LOAD_JSON (null on failure).
load_run() {
	local addr=$1 port=$2 out="$TMP/load.json" pid rc=0
	shift 2
	ip netns exec "$NS_CL" taskset -c 0 "$PC_LOAD" --host "$addr" --port "$port" \
		--mode tcp-echo --json "$out" "$@" >/dev/null 2>"$TMP/load.err" &
	pid=$!
	STARTED+=("$pid")
	wait "$pid" || rc=$?
	forget_pid "$pid"
	if [ "$rc" -eq 0 ] || [ "$rc" -eq 2 ]; then
		# One line: it goes into a JSON-lines record.
		LOAD_JSON=$(python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$out")
	else
		log "pc_load against $addr:$port failed (exit $rc):"
		sed 's/^/    /' "$TMP/load.err" >&2
		LOAD_JSON=null
	fi
}

# tcp_point SCENARIO LABEL ARGS...: the same pc_load run against portcullis
# (echo app, busy-polling worker on core 1) and against pc_kecho (Linux,
# pinned to core 1); one record each with the server's CPU time.
tcp_point() {
	local scenario=$1 label=$2 kpid before after hz
	shift 2
	log "$scenario $label: kernel (pc_kecho on core 1)"
	ip netns exec "$NS_BE" taskset -c 1 "$PC_KECHO" --port 7007 >"$TMP/kecho.log" 2>&1 &
	kpid=$!
	STARTED+=("$kpid")
	for ((hz = 0; hz < 50; hz++)); do
		grep -q ready "$TMP/kecho.log" && break
		sleep 0.1
	done
	before=$(cpu1_busy)
	load_run "$KERNEL_ADDR" 7007 "$@"
	after=$(cpu1_busy)
	stop_pid "$kpid"
	forget_pid "$kpid"
	record_tcp "$scenario" kernel "$label" "$LOAD_JSON" \
		"{\"cpu_s\": $(((after - before)))e-2}"

	log "$scenario $label: portcullis (echo app, worker on core 1)"
	if start_portcullis "$PC_PMD_DEFAULT"; then
		load_run "$PC_ADDR" 7 "$@"
		stop_portcullis "$PC_PMD_DEFAULT"
		hz=$(awk '/^tsc_hz / { print $2 }' "$RESULTS_DIR/portcullis-$PC_PMD_DEFAULT.log" | head -1)
		record_tcp "$scenario" portcullis "$label" "$LOAD_JSON" \
			"$(printf '{"busy_cycles": %s, "tsc_hz": %s}' \
				"$(echo "$WORKER_JSON" | python3 -c 'import json,sys; print((json.load(sys.stdin) or {}).get("busy_cycles", 0))')" \
				"${hz:-0}")"
	else
		record_tcp "$scenario" portcullis "$label" null null
	fi
}

record_tcp() {
	printf '{"scenario": "%s", "target": "%s", "label": "%s", "load": %s, "cpu": %s}\n' \
		"$1" "$2" "$3" "$4" "$5" >>"$TMP/tcp.jsonl"
}

scenario_tcp-cps() {
	tcp_point tcp-cps 32conns --conns 32 --threads 1 --duration "$SECONDS_EACH" --bytes 64
}

scenario_tcp-bulk() {
	tcp_point tcp-bulk 1conn --conns 1 --threads 1 --duration "$SECONDS_EACH" \
		--bytes 67108864 --reqs-per-conn 1000000
	tcp_point tcp-bulk 8conns --conns 8 --threads 1 --duration "$SECONDS_EACH" \
		--bytes 67108864 --reqs-per-conn 1000000
}

# Prints the table and writes latest.json from the records.
machine_name() {
	echo "$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs, Linux $(uname -r)"
}

report() {
	local machine when
	[ -s "$TMP/results.jsonl" ] || return 0
	machine=$(machine_name)
	when=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	python3 - "$TMP/results.jsonl" "$RESULTS_DIR/latest.json" "$machine" "$when" "$RUNS" <<'EOF'
import json, sys

records_path, out_path, machine, when, runs = sys.argv[1:6]
records = [json.loads(line) for line in open(records_path)]

# Runs of one point, by (scenario, target, size), in order of appearance.
points = {}
for r in records:
    points.setdefault((r["scenario"], r["target"], r["size"]), []).append(r)

def median(runs):
    """The run with the median rate, or None if any run failed or saw a
    wrong reply (then the point has no number)."""
    if any(not r["blast"] or r["blast"]["errors"] for r in runs):
        return None
    ordered = sorted(runs, key=lambda r: r["blast"]["pps"])
    return ordered[(len(ordered) - 1) // 2]

notes = []
print(f"median of {runs} run(s) per point")
print(f"{'PMD':<10} {'payload':>7} {'replies/s':>10} {'Gbit/s':>7} {'loss':>7} "
      f"{'errors':>6} {'RTT p50/p99 us':>15} {'worker busy':>11} {'cyc/pkt':>7}")
for (scenario, target, size), runs in points.items():
    m = median(runs)
    b = m["blast"] if m else None
    w = m["worker"] if m else None
    errors = sum(r["blast"]["errors"] for r in runs if r["blast"])
    if b:
        loss = f"{100.0 * b['lost'] / b['sent']:.2f}%" if b["sent"] else "-"
        rtt = "-" if b["rtt_p50_us"] is None else \
            f"{b['rtt_p50_us']:.0f}/{b['rtt_p99_us']:.0f}"
        cells = [f"{b['pps']:.0f}", f"{b['gbps']:.3f}", loss, rtt]
    else:
        cells = ["-"] * 4
    busy = cyc = "-"
    if w:
        total = w["busy_cycles"] + w["idle_cycles"]
        busy = f"{100.0 * w['busy_cycles'] / total:.0f}%" if total else "-"
        cyc = f"{w['busy_cycles'] / w['rx_packets']:.0f}" if w["rx_packets"] else "-"
        # The responder's own count against the generator's: a second
        # responder on the port, or other traffic, shows here.
        expected = b["sent"] + 1  # the warm-up echo
        if not expected <= w["rx_packets"] <= expected + 16:
            notes.append(f"{target} {size}: portcullis received {w['rx_packets']} "
                         f"packets, pc_blast sent {expected}: not alone on the port?")
    print(f"{target:<10} {size:>7} {cells[0]:>10} {cells[1]:>7} {cells[2]:>7} "
          f"{errors:>6} {cells[3]:>15} {busy:>11} {cyc:>7}")
print("Gbit/s: IP bytes of the echo replies (1472-byte payload = 1500-byte packets).")
print("worker busy, cyc/pkt: portcullis' own busy_cycles/idle_cycles counters (busy")
print("share over its life; busy TSC cycles per received packet).")
for n in notes:
    print("note:", n)

def value(target, size, key):
    m = median(points.get(("pmd", target, size), []))
    return m["blast"][key] if m else None

shapes = {
    "pmd-64": (64, "pps", "echo replies per second", "pps"),
    "pmd-1500": (1472, "gbps", "echo reply throughput, 1500-byte packets", "Gbit/s"),
}
latest = {}
for name, (size, key, metric, unit) in shapes.items():
    if not any(s == "pmd" and z == size for s, _, z in points):
        continue
    results = {t: value(t, size, key) for t in ("af_xdp", "af_packet", "kernel")}
    latest[name] = {"metric": metric, "unit": unit, "higher_is_better": True,
                    "results": results, "machine": machine, "when": when}
    x, p = results["af_xdp"], results["af_packet"]
    ratio = f"{x / p:.2f}x" if x and p else "n/a"
    print(f"af_xdp/af_packet, {size}-byte payload: {ratio} ({unit})")
with open(out_path, "w") as f:
    json.dump(latest, f, indent=2)
    f.write("\n")
print(f"wrote {out_path}")
EOF
}

usage() {
	echo "usage: $0 [scenario...]   scenarios: ${SCENARIOS[*]}" >&2
	exit 2
}

main() {
	local s wanted=("$@")
	[ "$(id -u)" -eq 0 ] || die "must run as root (namespaces, DPDK)"
	[ ${#wanted[@]} -gt 0 ] || wanted=("${SCENARIOS[@]}")
	for s in "${wanted[@]}"; do
		[[ " ${SCENARIOS[*]} " == *" $s "* ]] || usage
	done
	[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "PC_BENCH_RUNS must be a positive integer"
	[ -x "$PORTCULLIS" ] || die "no $PORTCULLIS: build first (meson setup $BUILD && ninja -C $BUILD)"
	[ -x "$PC_BLAST" ] || die "no $PC_BLAST: build first (ninja -C $BUILD)"
	[ -x "$PC_LOAD" ] || die "no $PC_LOAD: build first (ninja -C $BUILD)"
	[ -x "$PC_KECHO" ] || die "no $PC_KECHO: build first (ninja -C $BUILD)"

	"$ROOT/scripts/lab.sh" up
	# A second responder on dp0 (a portcullis left running) would share
	# the traffic and spoil both.
	if ip netns exec "$NS_CL" ping -c 1 -W 1 "$PC_ADDR" >/dev/null 2>&1; then
		die "something already answers at $PC_ADDR in lab $LAB (a portcullis left running?); stop it, or use another lab: PC_LAB=bench $0"
	fi
	# One worker: one queue pair on dp0 (AF_XDP sees only the queues it has
	# sockets on).
	"$ROOT/scripts/lab.sh" queues 1

	TMP=$(mktemp -d /tmp/pc-bench.XXXXXX)
	# The demo configuration with a busy-polling worker: a sleeping worker
	# would measure its wake-up latency, not its packet rate.
	grep -v '^worker idle ' "$ROOT/conf/demo.conf" >"$TMP/bench.conf"
	echo 'worker idle busy' >>"$TMP/bench.conf"
	: >"$TMP/results.jsonl"
	: >"$TMP/tcp.jsonl"
	mkdir -p "$RESULTS_DIR"

	check_quiet
	for s in "${wanted[@]}"; do
		"scenario_$s"
	done
	report
	if [ -s "$TMP/tcp.jsonl" ]; then
		python3 "$ROOT/scripts/bench_report_tcp.py" "$TMP/tcp.jsonl" \
			"$RESULTS_DIR/latest.json" "$(machine_name)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	fi
}

main "$@"
