#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark harness. Runs in the lab (scripts/lab.sh), as root.
#
#   scripts/bench.sh [scenario...]      (no scenario: all of them)
#
# Scenarios:
#   pmd   ICMP echo through the portcullis worker with each DPDK virtual
#         device (net_af_xdp, net_af_packet), 64- and 1472-byte payloads
#         (the latter fills a 1500-byte MTU), driven by pc_blast from
#         pc-client; the Linux kernel of pc-backend answering the same load
#         is the reference.
#
# Prints a table and writes bench-results/latest.json. Needs portcullis and
# pc_blast built in $PC_BUILD (default build/release).
# PC_BENCH_SECONDS sets the length of each measurement (default 5).
#
# Pinning: the portcullis worker (lcore 1) runs on core 1, its management
# lcore and pc_blast on core 0. On a 2-core machine the kernel's share of
# the packet path (veth, bridge) lands on whichever core makes the syscall.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/common.sh
. "$ROOT/scripts/common.sh"

BUILD=${PC_BUILD:-$ROOT/build/release}
PORTCULLIS=$BUILD/portcullis
PC_BLAST=$BUILD/tests/perf/pc_blast
SECONDS_EACH=${PC_BENCH_SECONDS:-5}
RESULTS_DIR=$ROOT/bench-results
SCENARIOS=(pmd)

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
	kill -0 "$pid" 2>/dev/null || {
		wait "$pid" 2>/dev/null || true
		return 0
	}
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "PID $pid ignored SIGTERM for ${STOP_TIMEOUT}s: SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

forget_pid() {
	local pid=$1 i
	for i in "${!STARTED[@]}"; do
		[ "${STARTED[$i]}" = "$pid" ] && unset 'STARTED[i]'
	done
	return 0
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

# record SCENARIO TARGET PAYLOAD JSON: one line of $TMP/results.jsonl; JSON
# is pc_blast's result, or null when there is none.
record() {
	printf '{"scenario": "%s", "target": "%s", "size": %s, "blast": %s}\n' \
		"$1" "$2" "$3" "$4" >>"$TMP/results.jsonl"
}

# blast SCENARIO TARGET ADDR PAYLOAD: one pc_blast run from pc-client on
# core 0, recorded. Run in the background and waited for, so that a signal
# to this script stops it at once.
blast() {
	local scenario=$1 target=$2 addr=$3 size=$4 out pid rc=0
	out="$TMP/blast.json"
	ip netns exec pc-client taskset -c 0 "$PC_BLAST" --dst "$addr" --size "$size" \
		--seconds "$SECONDS_EACH" --json >"$out" &
	pid=$!
	STARTED+=("$pid")
	wait "$pid" || rc=$?
	forget_pid "$pid"
	# Exit status 2: it ran, but some replies were wrong; the record's
	# error count says so and the report refuses the number.
	if [ "$rc" -eq 0 ] || [ "$rc" -eq 2 ]; then
		record "$scenario" "$target" "$size" "$(cat "$out")"
	else
		log "pc_blast against $target ($addr) failed (exit $rc)"
		record "$scenario" "$target" "$size" null
	fi
}

# start_portcullis PMD: starts it in pc-dp, waits for its ready line, sets
# PC_PID. Returns non-zero (with the log shown) if it never gets ready.
start_portcullis() {
	local pmd=$1 logf="$TMP/portcullis-$1.log" i eal
	eal=$(pc_eal_args "$pmd" 1) || return 1
	# ip netns exec execs the command: $! is portcullis itself.
	# shellcheck disable=SC2086
	ip netns exec pc-dp "$PORTCULLIS" $eal -- -c "$TMP/bench.conf" >"$logf" 2>&1 &
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
	log "portcullis ($pmd) did not get ready; its output:"
	sed 's/^/    /' "$logf" >&2
	stop_pid "$PC_PID"
	forget_pid "$PC_PID"
	return 1
}

# stop_portcullis PMD: SIGTERM, wait; keeps its output (the counters) in
# bench-results for a look after the run.
stop_portcullis() {
	local pmd=$1 logf="$TMP/portcullis-$1.log"
	stop_pid "$PC_PID"
	forget_pid "$PC_PID"
	cp "$logf" "$RESULTS_DIR/portcullis-$pmd.log"
	if ! grep -q '^portcullis: stopped' "$logf"; then
		log "portcullis ($pmd) did not stop cleanly; last lines:"
		tail -n 5 "$logf" | sed 's/^/    /' >&2
	fi
}

scenario_pmd() {
	local size pmd
	for size in 64 1472; do
		log "pmd: kernel $KERNEL_ADDR, $size-byte payload"
		blast pmd kernel "$KERNEL_ADDR" "$size"
	done
	for pmd in af_xdp af_packet; do
		if ! start_portcullis "$pmd"; then
			for size in 64 1472; do
				record pmd "$pmd" "$size" null
			done
			continue
		fi
		for size in 64 1472; do
			log "pmd: portcullis net_$pmd, $size-byte payload"
			blast pmd "$pmd" "$PC_ADDR" "$size"
		done
		stop_portcullis "$pmd"
	done
}

# Prints the table and writes latest.json from the records.
report() {
	local machine when
	machine="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs, Linux $(uname -r)"
	when=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	python3 - "$TMP/results.jsonl" "$RESULTS_DIR/latest.json" "$machine" "$when" <<'EOF'
import json, sys

records_path, out_path, machine, when = sys.argv[1:5]
records = [json.loads(line) for line in open(records_path)]

def cell(b, key, fmt):
    return fmt.format(b[key]) if b else "-"

print(f"{'PMD':<10} {'payload':>7} {'replies/s':>10} {'Gbit/s':>7} {'loss':>7} "
      f"{'errors':>6} {'RTT p50/p99 us':>15}")
for r in records:
    b = r["blast"]
    if b:
        loss = f"{100.0 * b['lost'] / b['sent']:.2f}%" if b["sent"] else "-"
        rtt = f"{b['rtt_p50_us']:.0f}/{b['rtt_p99_us']:.0f}"
    else:
        loss = rtt = "-"
    print(f"{r['target']:<10} {r['size']:>7} {cell(b, 'pps', '{:.0f}'):>10} "
          f"{cell(b, 'gbps', '{:.3f}'):>7} {loss:>7} {cell(b, 'errors', '{}'):>6} "
          f"{rtt:>15}")
print("(Gbit/s counts IP bytes of the echo replies; 1472-byte payload = 1500-byte packets)")

def value(target, size, key):
    for r in records:
        if r["target"] == target and r["size"] == size and r["blast"]:
            if r["blast"]["errors"]:
                return None  # wrong replies: not a result
            return r["blast"][key]
    return None

shapes = {
    "pmd-64": (64, "pps", "echo replies per second", "pps"),
    "pmd-1500": (1472, "gbps", "echo reply throughput, 1500-byte packets", "Gbit/s"),
}
latest = {}
for name, (size, key, metric, unit) in shapes.items():
    if not any(r["scenario"] == "pmd" and r["size"] == size for r in records):
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
	[ -x "$PORTCULLIS" ] || die "no $PORTCULLIS: build first (meson setup $BUILD && ninja -C $BUILD)"
	[ -x "$PC_BLAST" ] || die "no $PC_BLAST: build first (ninja -C $BUILD)"

	"$ROOT/scripts/lab.sh" up
	# A second responder on dp0 (another portcullis left running) would
	# share the traffic and spoil both.
	if ip netns exec pc-client ping -c 1 -W 1 "$PC_ADDR" >/dev/null 2>&1; then
		die "something already answers at $PC_ADDR (another portcullis?); stop it first"
	fi

	TMP=$(mktemp -d /tmp/pc-bench.XXXXXX)
	# The demo configuration with a busy-polling worker: a sleeping worker
	# would measure its wake-up latency, not its packet rate.
	grep -v '^worker idle ' "$ROOT/conf/demo.conf" >"$TMP/bench.conf"
	echo 'worker idle busy' >>"$TMP/bench.conf"
	: >"$TMP/results.jsonl"
	mkdir -p "$RESULTS_DIR"

	for s in "${wanted[@]}"; do
		"scenario_$s"
	done
	report
}

main "$@"
