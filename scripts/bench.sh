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
#         servers: Gbit/s counts both directions. portcullis runs with
#         `tcp buffers 262144 262144` (PC_BENCH_TCP_BUFFERS), Linux
#         autotunes its own.
#   tls-full  full mutual-TLS handshakes/s (TLS 1.3, ECDSA P-256 server and
#         client certificates from scripts/pki.sh, X25519, no resumption;
#         pc_load request mode: a new connection, the handshake and one
#         small GET, which also proves the server accepted the certificate)
#         at 1, 4, 16 and 64 concurrent connections (16 is the headline, the
#         others draw bench-results/tls-full.png). portcullis runs with
#         its verified-chain cache off (`tls verify-cache 0`): every
#         client chain is verified, as nginx and HAProxy do.
#   tls-cached  portcullis alone, tls-full's headline point with the
#         verified-chain cache on (its default): the full handshake of a
#         client that comes back (the load's one certificate), its chain
#         found verified. nginx and HAProxy have no such cache: their
#         figure is tls-full's.
#   tls-resumed  the same as tls-full with session-ticket resumption
#         (pc_load --resume), 16 connections, every server issuing tickets
#         on its client-verifying host.
#   tls-bulk  Gbit/s of 1 MiB downloads (16 KiB TLS records) on kept-alive
#         connections, 1 and 4 connections.
#   proxy  mutual-TLS clients (pc_load) -> the server under test -> an HTTP
#         backend (nginx, plain HTTP on 198.18.0.2:8080 in the client
#         namespace, pinned to core 0 with the client: `return 200` for /,
#         a file for /bytes/1048576). The server under test verifies the
#         client (as the TLS scenarios) and forwards with the identity
#         headers over kept-alive backend connections: portcullis
#         (`backend be server 198.18.0.2:8080`, `host default backend be`),
#         nginx (proxy_pass, upstream keepalive, ssl_verify_client on) and
#         HAProxy (verify required, http-reuse). Points: proxy-keepalive
#         (GET / on kept-alive client connections, 16 connections),
#         proxy-newconn (a new connection, full handshake and one GET each,
#         16 connections), proxy-bulk (1 MiB bodies on kept-alive
#         connections, 4 connections): requests/s (Gbit/s for bulk) and
#         server CPU per request (per GiB). Every proxy reaches the
#         backend over the lab's veths and bridge, as its clients reach it
#         (for portcullis that is in its driver cycles).
#         scripts/bench_report_proxy.py prints the tables and the ratios
#         (the goal: portcullis at least 3x less CPU per proxied request
#         than nginx).
#   hosts-scale  portcullis alone, with 1,000, 10,000 and 100,000 tenant
#         hostnames from a config file, each with its own root CA
#         (scripts/pki_scale.py, cached in build/bench-pki): time from
#         launch to ready, heap per host (`show info`), and full-handshake
#         rate and CPU on the first and on the last host (16 connections).
#   trust-update  100,000 hosts loaded: 1,000 one-host commits in a row
#         through the control socket (commit to answer, p50/p99: once
#         answered, new connections see the change), then handshakes/s on
#         one host with and without a stream of 100 commits/s to others.
#   idle-conns  PC_BENCH_IDLE_CONNS (default 100,000) idle mutual-TLS
#         connections on one worker: pc_load_wolfssl's hold mode (a full
#         handshake and one GET each, at most 64 opening at once, then held
#         open), one process per client address added to the client
#         namespace for the run (198.18.0.201 and up, at most 19,000
#         connections each: one address has ~28,000 ephemeral ports, and a
#         process here may hold no more than 20,000 descriptors). Once all
#         are held: bytes per connection
#         from portcullis's own counters (memory_per_connection_bytes: TCP
#         control block, TCP buffers held, TLS connection object, wolfSSL's
#         arena in use), and its RSS and hugepages in use (both less an
#         instance with no connection), each per connection, and the
#         time it took to open them. portcullis runs with `tcp
#         max-connections` N + 1024, `tcp buffer-pool 1024`, `tls memory`
#         sized for N and `tls idle-timeout` an hour (opening 100,000
#         takes longer than the default minute); hugepages are raised for the run if there
#         are too few (and put back after).
#   trex-cps  TRex (scripts/trex.sh) opens connections, sends 64 bytes,
#         reads them back and closes (scripts/trex/astf_tcp_cps.py) against
#         portcullis's echo app over the veth lab and over memif, and against
#         pc_kecho over the veth lab: the highest rate with zero errors
#         (bisection below PC_BENCH_TREX_CPS_MAX, default 24000/s), server
#         CPU per connection, TRex's ICMP latency probes.
#   trex-bulk  TRex flows of 64 MiB each way through the same echo servers
#         (astf_tcp_bulk.py), over memif and the veth lab: Gbit/s both
#         directions, server CPU per GiB.
#   trex-synflood  pc_load's mutual-TLS handshakes (16 connections) with
#         TRex idle, then during SYN floods from spoofed sources
#         (stl_syn_flood.py) at PC_BENCH_TREX_FLOOD_PPS (default "10000
#         30000 100000" pkt/s): handshake success rate and p99, SYN cookies
#         sent and accepted, portcullis's memory. See "TRex scenarios".
#   The TLS scenarios run portcullis (its TLS listener, 198.18.0.1:443),
#   nginx (ssl_verify_client on) and HAProxy (verify required) in turn, each
#   alone on core 1 (the two kernel-based ones in the backend namespace,
#   198.18.0.3:443), with the same certificates and the same pc_load command
#   (pc_load_wolfssl unless PC_BENCH_TLS_CLIENT=openssl) from the client
#   namespace on core 0; see "TLS scenarios" below for each server's
#   configuration. Server CPU per operation (CPU-us per handshake, per GiB):
#   portcullis from its worker's busy_cycles (SIGUSR1 dumps before and after
#   each run), the others from core 1's busy time in /proc/stat. For
#   portcullis also its own CPU (busy cycles outside rte_eth_rx_burst/
#   tx_burst: what carries over to a real NIC) and the driver's (inside
#   them: here AF_XDP's syscalls and the kernel's veth path).
#   pc_crypto_limit (tests/perf) times the crypto one handshake or one
#   16 KiB record needs with wolfCrypt on core 1: the `limit` column. It
#   runs right before and right after every measurement too, outside the
#   server's CPU marks, and each point's ratios use the mean of the two
#   around the run it reports: this VM's speed drifts by up to 1.5x within
#   minutes, which a single limit measured at setup would put into every
#   ratio.
#   A server that fails (does not start, or any error in a run) shows as
#   "failed" with the reason and is left out of latest.json.
#
# Prints a table per scenario and writes bench-results/latest.json, merged
# with the entries already there (and, per PMD or TLS scenario, the output
# of the last portcullis run, counters included:
# bench-results/portcullis-*.log). Needs portcullis, pc_blast, pc_load(_wolfssl),
# pc_kecho and pc_crypto_limit built in $PC_BUILD (default build/release);
# the TLS scenarios also nginx, haproxy and gnuplot (scripts/setup.sh).
#   PC_BENCH_SECONDS  length of each measurement (default 5)
#   PC_BENCH_RUNS     measurements per point; the median is reported (default 3;
#                     the TLS concurrency points off the headline run once)
#   PC_LAB            which lab (see scripts/lab.sh; default pc)
#   PC_BENCH_TCP_BUFFERS  tcp-bulk: portcullis's `tcp buffers`, both (262144)
#   PC_BENCH_SERVERS  TLS scenarios: which servers (default "portcullis nginx haproxy")
#   PC_BENCH_TLS_CLIENT  TLS scenarios: pc_load's TLS library, wolfssl
#                     (pc_load_wolfssl, default) or openssl (pc_load)
#   PC_BENCH_MTU      the MTU of the whole lab path for every server
#                     (default 1500; `scripts/lab.sh mtu`, portcullis's
#                     `port mtu`): the jumbo-frame comparison. net_af_xdp
#                     on veth takes at most 3498, so 9000 wants
#                     PC_PMD=af_packet. Results other than 1500 go to
#                     bench-results/latest-mtuN.json.
#   PC_PMD            portcullis's DPDK device (af_xdp default, af_packet)
#   PC_BENCH_TX_HOLD  portcullis's `worker tx-hold` in µs (default 80; 0 is
#                     its own default): af_xdp's transmit is a syscall that
#                     wakes the receiving core, so frames that leave
#                     together cost it and the clients' core less
#
# Pinning: the portcullis worker (lcore 1) runs on core 1, its management
# lcore and the clients (pc_blast, pc_load, the TLS clients, the proxy
# scenario's backend nginx) on core 0, the kernel-based servers (nginx,
# HAProxy, pc_kecho) on core 1. The kernel's share of the packet path
# (veth, the bridge, the PMD's kernel half) runs on the core that sent
# the frame; a host's own network stack runs on that host's core
# (`scripts/lab.sh rx-cpus 0 1`): the client's TCP receive, and the
# segments its ACKs release, on core 0, the kernel-based servers' on
# core 1. Without that steering each server paid for its client's TCP
# stack and not for its own: eight bulk connections cost portcullis twice
# the CPU per GiB of one, the difference being the client's TCP work in
# softirqs on the server's core. On a 2-core machine this still measures
# the lab as a whole, both cores busy, not the worker alone.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/common.sh
. "$ROOT/scripts/common.sh"

BUILD=${PC_BUILD:-$ROOT/build/release}
PORTCULLIS=$BUILD/portcullis
PC_BLAST=$BUILD/tests/perf/pc_blast
PC_LOAD=$BUILD/tests/perf/pc_load
# The TLS scenarios' client, the same for every server: pc_load on wolfSSL
# (default) needs well under half of OpenSSL 3.0's client CPU per mutual-TLS
# handshake, so that one client core comes closer to loading one server core.
TLS_CLIENT_LIB=${PC_BENCH_TLS_CLIENT:-wolfssl}
case $TLS_CLIENT_LIB in
wolfssl) TLS_CLIENT=$BUILD/tests/perf/pc_load_wolfssl ;;
openssl) TLS_CLIENT=$PC_LOAD ;;
*) TLS_CLIENT= ;;
esac
PC_KECHO=$BUILD/tests/perf/pc_kecho
SECONDS_EACH=${PC_BENCH_SECONDS:-5}
RUNS=${PC_BENCH_RUNS:-3}
RESULTS_DIR=$ROOT/bench-results
BENCH_MTU=${PC_BENCH_MTU:-1500}
TX_HOLD=${PC_BENCH_TX_HOLD:-80}
LATEST=$RESULTS_DIR/latest.json
[ "$BENCH_MTU" = 1500 ] || LATEST=$RESULTS_DIR/latest-mtu$BENCH_MTU.json
# pc_eal_args sizes net_af_packet's frames from it.
export PC_MTU=$BENCH_MTU
PC_CRYPTO_LIMIT=$BUILD/tests/perf/pc_crypto_limit
SCENARIOS=(pmd tcp-cps tcp-bulk tls-full tls-cached tls-resumed tls-bulk proxy hosts-scale trust-update
	idle-conns trex-cps trex-bulk trex-synflood)

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
RX_CPUS_SET=

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
	[ -z "$TREX_RUNNING" ] || "$ROOT/scripts/trex.sh" stop
	for pid in "${STARTED[@]}"; do
		stop_pid "$pid"
	done
	idle_restore
	[ -z "$RX_CPUS_SET" ] || "$ROOT/scripts/lab.sh" rx-cpus off
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
# (grep fails when a task exits between the glob and its read: not an error.)
task_runtimes() {
	{ grep -H '' /proc/[0-9]*/task/[0-9]*/schedstat 2>/dev/null || true; } |
		awk -F'[: ]' '{ print $1, $2 }'
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

# start_portcullis PMD [CONF [TAG]]: starts it in the dataplane namespace
# on CONF (default the busy-polling demo configuration), output in
# $TMP/portcullis-TAG.log (TAG default PMD), waits for its ready line, sets
# PC_PID. Returns non-zero (with its output shown) if it never gets ready.
start_portcullis() {
	local pmd=$1 conf=${2:-$TMP/bench.conf} logf="$TMP/portcullis-${3:-$1}.log" i eal
	eal=$(pc_eal_args "$pmd" 1) || return 1
	: >"$logf"
	# ip netns exec execs the command: $! is portcullis itself.
	# shellcheck disable=SC2086
	ip netns exec "$NS_DP" "$PORTCULLIS" $eal -- -c "$conf" >"$logf" 2>&1 &
	PC_PID=$!
	STARTED+=("$PC_PID")
	for ((i = 0; i < READY_TIMEOUT * 10; i++)); do
		if grep -q '^portcullis: ready' "$logf"; then
			[ "$pmd" != tap ] || pc_tap_join "$NS_DP"
			return
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

# stop_portcullis PMD|TAG: SIGTERM, wait; sets WORKER_JSON from the
# counters it prints on the way out (null if it did not stop cleanly) and
# keeps its output in bench-results.
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
		on && $1 ~ /^(rx_packets|tx_packets|busy_cycles|idle_cycles|rx_burst_cycles|tx_burst_cycles)$/ && !seen[$1]++ {
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

# load_run BINARY TARGET_ADDR PORT ARGS...: one run of BINARY ($PC_LOAD or
# $TLS_CLIENT) with ARGS (which include --mode) from the client namespace on
# core 0; sets LOAD_JSON (null on failure).
load_run() {
	local bin=$1 addr=$2 port=$3 out="$TMP/load.json" pid rc=0
	shift 3
	ip netns exec "$NS_CL" taskset -c 0 "$bin" --host "$addr" --port "$port" \
		--json "$out" "$@" >/dev/null 2>"$TMP/load.err" &
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

# kecho_start: pc_kecho (the Linux reference echo server) on the backend's
# stack, pinned to core 1, on KECHO_PORT; sets KECHO_PID once it is ready.
KECHO_PORT=7007
kecho_start() {
	local i
	ip netns exec "$NS_BE" taskset -c 1 "$PC_KECHO" --port "$KECHO_PORT" >"$TMP/kecho.log" 2>&1 &
	KECHO_PID=$!
	STARTED+=("$KECHO_PID")
	for ((i = 0; i < 50; i++)); do
		grep -q ready "$TMP/kecho.log" && break
		sleep 0.1
	done
}

# tcp_point SCENARIO LABEL CONF ARGS...: the same pc_load run against
# portcullis (echo app, busy-polling worker on core 1, configuration CONF)
# and against pc_kecho (Linux, pinned to core 1); one record each with the
# server's CPU time.
tcp_point() {
	local scenario=$1 label=$2 conf=$3 kpid before after hz
	shift 3
	log "$scenario $label: kernel (pc_kecho on core 1)"
	kecho_start
	kpid=$KECHO_PID
	before=$(cpu1_busy)
	load_run "$PC_LOAD" "$KERNEL_ADDR" "$KECHO_PORT" --mode tcp-echo "$@"
	after=$(cpu1_busy)
	stop_pid "$kpid"
	forget_pid "$kpid"
	record_tcp "$scenario" kernel "$label" "$LOAD_JSON" \
		"{\"cpu_s\": $((after - before))e-2}"

	log "$scenario $label: portcullis (echo app, worker on core 1)"
	if start_portcullis "$PC_PMD_DEFAULT" "$conf"; then
		load_run "$PC_LOAD" "$PC_ADDR" 7 --mode tcp-echo "$@"
		stop_portcullis "$PC_PMD_DEFAULT"
		hz=$(awk '/^tsc_hz / { print $2 }' "$RESULTS_DIR/portcullis-$PC_PMD_DEFAULT.log" | head -1)
		record_tcp "$scenario" portcullis "$label" "$LOAD_JSON" \
			"$(echo "$WORKER_JSON" | python3 -c '
import json, sys
w = json.load(sys.stdin) or {}
print(json.dumps({"busy_cycles": w.get("busy_cycles", 0), "tsc_hz": int(sys.argv[1]),
                  "driver_cycles": w.get("rx_burst_cycles", 0) + w.get("tx_burst_cycles", 0),
                  "packets": w.get("rx_packets", 0) + w.get("tx_packets", 0)}))' "${hz:-0}")"
	else
		record_tcp "$scenario" portcullis "$label" null null
	fi
}

record_tcp() {
	printf '{"scenario": "%s", "target": "%s", "label": "%s", "load": %s, "cpu": %s}\n' \
		"$1" "$2" "$3" "$4" "$5" >>"$TMP/tcp.jsonl"
}

scenario_tcp-cps() {
	tcp_point tcp-cps 32conns "$TMP/bench.conf" --conns 32 --threads 1 --duration "$SECONDS_EACH" --bytes 64
}

# tcp-bulk: portcullis with TCP_BULK_BUFFERS per connection, as Linux's
# autotuning gives its sockets what the path needs (tcp_rmem and
# tcp_wmem allow up to 6 and 4 MB): with the default 64 KiB, the window
# bounds one connection at MTU 1500 to ~0.8x the kernel's throughput.
TCP_BULK_BUFFERS=${PC_BENCH_TCP_BUFFERS:-262144}
scenario_tcp-bulk() {
	local conf=$TMP/tcp-bulk.conf
	{
		cat "$TMP/bench.conf"
		echo "tcp buffers $TCP_BULK_BUFFERS $TCP_BULK_BUFFERS"
	} >"$conf"
	tcp_point tcp-bulk 1conn "$conf" --conns 1 --threads 1 --duration "$SECONDS_EACH" \
		--bytes 67108864 --reqs-per-conn 1000000
	tcp_point tcp-bulk 8conns "$conf" --conns 8 --threads 1 --duration "$SECONDS_EACH" \
		--bytes 67108864 --reqs-per-conn 1000000
}

# --- TLS scenarios ----------------------------------------------------------
# Three servers in turn, each alone on core 1, all with the same test PKI
# (scripts/pki.sh: ECDSA P-256 CA, server and client certificates), client
# certificates required, TLS 1.3 only, and the same pc_load command from the
# client namespace on core 0 (X25519, TLS_AES_128_GCM_SHA256, server
# certificate verified):
#   portcullis  the busy-polling worker (lcore 1 on core 1), its TLS
#               listener on 198.18.0.1:443 in HTTP mode (built-in responder:
#               GET / a tiny body, GET /bytes/N N bytes).
#   nginx       the Debian package, one worker, ssl_verify_client on,
#               `return 200` for / and a file for /bytes/N, in the backend
#               namespace (198.18.0.3:443), master and worker on core 1.
#   haproxy     the Debian package (2.6), one thread, verify required,
#               `http-request return` for / and for /bytes/N (the body is a
#               file HAProxy loads at start; it must fit one buffer, so
#               tls-bulk raises tune.bufsize and the body stays at 1 MiB).
# A server that cannot start, or whose every attempt fails, is "failed"
# (with the reason) in the table and left out of latest.json; so is a point
# with any error.
read -ra TLS_SERVERS <<<"${PC_BENCH_SERVERS:-portcullis nginx haproxy}"
TLS_PORT=443
TLS_FULL_CONNS=(1 4 16 64) # tls-full: the plot's concurrency points
TLS_CONNS=16               # tls-full (headline) and tls-resumed
TLS_BULK_CONNS=(1 4)       # tls-bulk: one connection and several
TLS_BULK_BYTES=1048576     # tls-bulk body (see haproxy above)
TLS_LOAD_ARGS=()
PKI=
# Where tls_point and tls_fail write: the proxy scenario has its own file
# and report (scripts/bench_report_proxy.py).
TLS_RECORDS=
TLS_TAG=
# Whether tls_point measures the crypto limit around each run (the TLS
# report's own/limit; the proxy report has no limit).
TLS_POINT_LIMIT=1

# tls_setup: the PKI, the files the servers serve, the crypto limit; once.
tls_setup() {
	[ -z "$PKI" ] || return 0
	PKI=$TMP/pki
	"$ROOT/scripts/pki.sh" "$PKI" 2>/dev/null
	# SNI and Host portcullis.test (one of the server certificate's names):
	# portcullis answers 421 to a request whose Host does not match the SNI.
	TLS_LOAD_ARGS=(--tls 1.3 --groups X25519 --ciphersuites TLS_AES_128_GCM_SHA256
		--sni portcullis.test --cert "$PKI/client.crt" --key "$PKI/client.key"
		--cacert "$PKI/ca.crt")
	mkdir -p "$TMP/www/bytes"
	printf 'ok\n' >"$TMP/www/ok"
	head -c "$TLS_BULK_BYTES" /dev/urandom >"$TMP/www/bytes/$TLS_BULK_BYTES"
	# The crypto-only ceiling of the servers' core.
	log "crypto limit (pc_crypto_limit on core 1)"
	if ! taskset -c 1 "$PC_CRYPTO_LIMIT" --json "$TMP/limit.json" >&2; then
		log "pc_crypto_limit failed: no limit column"
		rm -f "$TMP/limit.json"
	fi
}

nginx_conf() {
	cat <<EOF
daemon off;
master_process on;
worker_processes 1;
user root;
pid $TMP/nginx.pid;
error_log $TMP/nginx-error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	default_type application/octet-stream;
	keepalive_requests 1000000;
	keepalive_timeout 60s;
	ssl_protocols TLSv1.3;
	ssl_certificate $PKI/server.crt;
	ssl_certificate_key $PKI/server.key;
	ssl_client_certificate $PKI/ca.crt;
	ssl_verify_client on;
	ssl_session_tickets on;
	server {
		listen $KERNEL_ADDR:$TLS_PORT ssl;
		root $TMP/www;
		location = / { return 200 "ok\n"; }
		location /bytes/ { }
	}
}
EOF
}

# haproxy_conf SCENARIO. `http-request return` sends a body only if it fits
# one buffer: tls-bulk raises tune.bufsize above the bulk body, the others
# keep the default and do not serve /bytes/N (HAProxy refuses the file).
haproxy_conf() {
	local bufsize=16384 bulk="# no /bytes/N: its body would not fit the buffer"
	if [ "$1" = tls-bulk ]; then
		bufsize=$((TLS_BULK_BYTES + 65536))
		bulk="http-request return status 200 content-type application/octet-stream file $TMP/www/bytes/$TLS_BULK_BYTES if { path /bytes/$TLS_BULK_BYTES }"
	fi
	cat <<EOF
global
	nbthread 1
	maxconn 4096
	tune.bufsize $bufsize
defaults
	mode http
	timeout connect 5s
	timeout client 30s
	timeout server 30s
	timeout http-keep-alive 60s
frontend tls
	bind $KERNEL_ADDR:$TLS_PORT ssl crt $PKI/server.pem ca-file $PKI/ca.crt verify required ssl-min-ver TLSv1.3
	http-request return status 200 content-type text/plain file $TMP/www/ok if { path / }
	$bulk
	http-request return status 404
EOF
}

# portcullis_tls_conf [SCENARIO]: tls-full verifies every chain (no cache).
portcullis_tls_conf() {
	cat "$TMP/bench.conf"
	cat <<EOF
tls listen $TLS_PORT http
tls versions 1.3 1.3
host default cert $PKI/server.crt $PKI/server.key
host default verify required
host default ca $PKI/ca.crt
EOF
	[ "${1:-}" != tls-full ] || echo "tls verify-cache 0"
}

# tls_start SERVER SCENARIO: starts SERVER on core 1; sets SRV_PID and
# SRV_ADDR, or SRV_FAIL (the reason) and returns non-zero.
tls_start() {
	local server=$1 scenario=$2 logf="$TMP/$1.log" i
	SRV_FAIL=
	if [ "$server" = portcullis ]; then
		if [ "$scenario" = proxy ]; then proxy_portcullis_conf; else portcullis_tls_conf "$scenario"; fi \
			>"$TMP/tls.conf"
		if ! start_portcullis "$PC_PMD_DEFAULT" "$TMP/tls.conf" "$scenario"; then
			SRV_FAIL="did not start: $(grep -v '^EAL' "$TMP/portcullis-$scenario.log" | grep . | tail -n 1)"
			return 1
		fi
		SRV_PID=$PC_PID
		SRV_ADDR=$PC_ADDR
		return 0
	fi
	if ip netns exec "$NS_BE" ss -Hltn "sport = :$TLS_PORT" | grep -q .; then
		SRV_FAIL="something already listens on port $TLS_PORT in $NS_BE"
		return 1
	fi
	case $server in
	nginx)
		if [ "$scenario" = proxy ]; then proxy_nginx_conf; else nginx_conf; fi >"$TMP/nginx.conf"
		ip netns exec "$NS_BE" taskset -c 1 nginx -e "$TMP/nginx-error.log" \
			-c "$TMP/nginx.conf" >"$logf" 2>&1 &
		;;
	haproxy)
		if [ "$scenario" = proxy ]; then proxy_haproxy_conf; else haproxy_conf "$scenario"; fi \
			>"$TMP/haproxy.conf"
		ip netns exec "$NS_BE" taskset -c 1 haproxy -db -f "$TMP/haproxy.conf" >"$logf" 2>&1 &
		;;
	esac
	SRV_PID=$!
	SRV_ADDR=$KERNEL_ADDR
	STARTED+=("$SRV_PID")
	for ((i = 0; i < READY_TIMEOUT * 10; i++)); do
		if ip netns exec "$NS_BE" ss -Hltn "sport = :$TLS_PORT" | grep -q .; then
			return 0
		fi
		kill -0 "$SRV_PID" 2>/dev/null || break
		sleep 0.1
	done
	SRV_FAIL="did not start: $(cat "$logf" "$TMP/nginx-error.log" 2>/dev/null |
		grep -E -m 1 'ALERT|emerg|rror' || tail -n 1 "$logf")"
	stop_pid "$SRV_PID"
	forget_pid "$SRV_PID"
	return 1
}

tls_stop() {
	local server=$1 scenario=$2
	if [ "$server" = portcullis ]; then
		stop_portcullis "$scenario"
	else
		stop_pid "$SRV_PID"
		forget_pid "$SRV_PID"
	fi
}

# tls_cpu_mark SERVER SCENARIO: "COUNT HZ", the server's CPU use so far:
# portcullis' busy_cycles and TSC rate (pc_cpu_mark); for the others core
# 1's busy jiffies (/proc/stat) and their rate. Empty if there is none.
tls_cpu_mark() {
	if [ "$1" != portcullis ]; then
		echo "$(cpu1_busy) $(getconf CLK_TCK)"
		return
	fi
	pc_cpu_mark "$2" "$SRV_PID"
}

# pc_driver_cycles TAG: the busy cycles inside rte_eth_rx_burst/tx_burst
# in the newest counter dump of that portcullis (the totals: the first
# after the header).
pc_driver_cycles() {
	awk '/^counters \(all workers/ { r = ""; t = "" }
		$1 == "rx_burst_cycles" && r == "" { r = $2 }
		$1 == "tx_burst_cycles" && t == "" { t = $2 }
		END { printf "%.0f\n", r + t }' "$TMP/portcullis-$1.log"
}

# point_limit: pc_crypto_limit's JSON measured now on core 1, briefly (the
# server there is idle between runs), or null.
point_limit() {
	local out
	out=$(taskset -c 1 "$PC_CRYPTO_LIMIT" --seconds 0.2 --json - 2>/dev/null) && [ -n "$out" ] ||
		out=null
	printf '%s\n' "${out//$'\n'/ }"
}

# tls_point SCENARIO SERVER CONNS RUN ARGS...: one pc_load run against the
# running server, one record in $TLS_RECORDS. The portcullis it measures is
# the one tls_start started for SCENARIO, or for $TLS_TAG when set (the
# proxy scenario's points have names of their own). Returns non-zero if the
# server died or not a single attempt succeeded (the server's remaining
# points are skipped).
tls_point() {
	local scenario=$1 server=$2 conns=$3 run=$4 before after cpu=null err=null drv=
	local tag=${TLS_TAG:-$1} lim_before lim_after
	shift 4
	log "$scenario: $server, $conns connection(s), run $run"
	lim_before=null lim_after=null
	[ "$TLS_POINT_LIMIT" = 0 ] || lim_before=$(point_limit)
	before=$(tls_cpu_mark "$server" "$tag")
	[ "$server" != portcullis ] || drv=$(pc_driver_cycles "$tag")
	load_run "$TLS_CLIENT" "$SRV_ADDR" "$TLS_PORT" --conns "$conns" --threads 1 \
		--duration "$SECONDS_EACH" "${TLS_LOAD_ARGS[@]}" "$@"
	after=$(tls_cpu_mark "$server" "$tag")
	[ "$TLS_POINT_LIMIT" = 0 ] || lim_after=$(point_limit)
	if [ -n "$before" ] && [ -n "$after" ]; then
		cpu=$(printf '{"before": %s, "after": %s, "hz": %s}' "${before% *}" "${after% *}" "${after#* }")
		# portcullis: the driver's part of those busy cycles too.
		[ -z "$drv" ] || cpu="${cpu%\}}, \"driver_before\": $drv, \"driver_after\": $(pc_driver_cycles "$tag")}"
	fi
	if ! kill -0 "$SRV_PID" 2>/dev/null; then
		err="$server exited during the run or its counter dump"
		[ "$server" != portcullis ] || err+=" (its output: bench-results/portcullis-$tag.log)"
	elif [ "$LOAD_JSON" = null ]; then
		err="pc_load failed: $(grep . "$TMP/load.err" | tail -n 1)"
	fi
	[ "$err" = null ] || err=$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$err")
	printf '{"scenario": "%s", "server": "%s", "conns": %s, "run": %s, "load": %s, "cpu": %s, "limit": [%s, %s], "error": %s}\n' \
		"$scenario" "$server" "$conns" "$run" "$LOAD_JSON" "$cpu" "$lim_before" "$lim_after" "$err" >>"$TLS_RECORDS"
	kill -0 "$SRV_PID" 2>/dev/null && [ "$LOAD_JSON" != null ] &&
		python3 -c 'import json, sys; d = json.loads(sys.argv[1]); sys.exit(0 if d["connections"]["ok"] and (d["requests"]["ok"] or d["config"]["mode"] == "handshake") else 1)' "$LOAD_JSON"
}

tls_fail() {
	local err
	err=$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$3")
	printf '{"scenario": "%s", "server": "%s", "conns": null, "run": 0, "load": null, "cpu": null, "error": %s}\n' \
		"$1" "$2" "$err" >>"$TLS_RECORDS"
}

# tls_refuses_anonymous: the running server must not answer a client that
# has no certificate (nginx completes that handshake and answers 400, the
# others refuse the handshake); if it does, verification is off and its
# figures would not be mutual TLS.
tls_refuses_anonymous() {
	local args=() skip=0 a
	for a in "${TLS_LOAD_ARGS[@]}"; do
		if [ "$skip" -eq 1 ]; then
			skip=0
			continue
		fi
		case $a in
		--cert | --key) skip=1 ;;
		*) args+=("$a") ;;
		esac
	done
	! ip netns exec "$NS_CL" taskset -c 0 "$TLS_CLIENT" --host "$SRV_ADDR" --port "$TLS_PORT" \
		--mode request --conns 1 --count 1 --duration 5 "${args[@]}" >/dev/null 2>&1
}

# tls_scenario SCENARIO POINTS: for every server, start it, run POINTS
# SCENARIO SERVER (which calls tls_point), stop it.
tls_scenario() {
	local scenario=$1 points=$2 server
	tls_setup
	for server in "${TLS_SERVERS[@]}"; do
		if [ "$scenario" = tls-cached ] && [ "$server" != portcullis ]; then
			tls_fail "$scenario" "$server" "not applicable: no verified-chain cache (see tls-full)"
			continue
		fi
		log "$scenario: starting $server"
		if ! tls_start "$server" "$scenario"; then
			log "$scenario: $server $SRV_FAIL"
			tls_fail "$scenario" "$server" "$SRV_FAIL"
			continue
		fi
		if ! tls_refuses_anonymous; then
			log "$scenario: $server answered a client without a certificate"
			tls_fail "$scenario" "$server" "answered a client without a certificate: verification is off"
		else
			"$points" "$scenario" "$server" ||
				log "$scenario: $server failed every attempt; skipping its other points"
		fi
		tls_stop "$server" "$scenario"
	done
}

# The headline point gets PC_BENCH_RUNS runs (the median is reported), the
# other concurrency points, for the plot, one each.
tls_full_points() {
	local c run runs
	for c in "${TLS_FULL_CONNS[@]}"; do
		runs=1
		[ "$c" -ne "$TLS_CONNS" ] || runs=$RUNS
		for ((run = 1; run <= runs; run++)); do
			tls_point "$1" "$2" "$c" "$run" --mode request || return
		done
	done
}

tls_resumed_points() {
	local run
	for ((run = 1; run <= RUNS; run++)); do
		tls_point "$1" "$2" "$TLS_CONNS" "$run" --mode request --resume || return
	done
}

tls_cached_points() {
	local run
	for ((run = 1; run <= RUNS; run++)); do
		tls_point "$1" "$2" "$TLS_CONNS" "$run" --mode request || return
	done
}

tls_bulk_points() {
	local c run
	for c in "${TLS_BULK_CONNS[@]}"; do
		for ((run = 1; run <= RUNS; run++)); do
			tls_point "$1" "$2" "$c" "$run" --mode download --bytes "$TLS_BULK_BYTES" || return
		done
	done
}

scenario_tls-full() { tls_scenario tls-full tls_full_points; }
scenario_tls-cached() { tls_scenario tls-cached tls_cached_points; }
scenario_tls-resumed() { tls_scenario tls-resumed tls_resumed_points; }
scenario_tls-bulk() { tls_scenario tls-bulk tls_bulk_points; }

# --- proxy scenario -------------------------------------------------------------
# The backend every proxy forwards to: nginx, plain HTTP, in the client
# namespace on core 0 (with the client: core 1 is the proxy's alone), so
# that every proxy reaches it over the lab's veths and bridge, as it is
# reached by its clients (nginx and HAProxy run in the backend namespace:
# a backend there would be on their loopback).
PROXY_BACKEND_ADDR=198.18.0.2
PROXY_BACKEND_PORT=8080
PROXY_KEEPALIVE_CONNS=16
PROXY_NEWCONN_CONNS=16
PROXY_BULK_CONNS=4

proxy_backend_conf() {
	cat <<EOF
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 16384;
user root;
pid $TMP/backend-nginx.pid;
error_log $TMP/backend-nginx-error.log warn;
events { worker_connections 8192; }
http {
	access_log off;
	default_type application/octet-stream;
	keepalive_requests 1000000;
	keepalive_timeout 60s;
	server {
		listen $PROXY_BACKEND_ADDR:$PROXY_BACKEND_PORT backlog=4096;
		root $TMP/www;
		location = / { return 200 "ok\n"; }
		location /bytes/ { }
	}
}
EOF
}

# The identity headers every proxy sets (the same work for each): verify
# result, subject, serial, fingerprint (nginx's and HAProxy's are SHA-1:
# what they have), client address and scheme; portcullis's other four
# (SAN, identity, RFC 9440's Client-Cert and Client-Cert-Chain) are off.
proxy_nginx_conf() {
	cat <<EOF
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 16384;
user root;
pid $TMP/nginx.pid;
error_log $TMP/nginx-error.log warn;
events { worker_connections 8192; }
http {
	access_log off;
	keepalive_requests 1000000;
	keepalive_timeout 60s;
	ssl_protocols TLSv1.3;
	ssl_certificate $PKI/server.crt;
	ssl_certificate_key $PKI/server.key;
	ssl_client_certificate $PKI/ca.crt;
	ssl_verify_client on;
	ssl_session_tickets on;
	upstream backend {
		server $PROXY_BACKEND_ADDR:$PROXY_BACKEND_PORT;
		keepalive 64;
	}
	server {
		listen $KERNEL_ADDR:$TLS_PORT ssl;
		location / {
			proxy_pass http://backend;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header Host \$host;
			proxy_set_header X-SSL-Client-Verify \$ssl_client_verify;
			proxy_set_header X-SSL-Client-S-DN \$ssl_client_s_dn;
			proxy_set_header X-SSL-Client-Serial \$ssl_client_serial;
			proxy_set_header X-SSL-Client-Fingerprint \$ssl_client_fingerprint;
			proxy_set_header X-Forwarded-For \$remote_addr;
			proxy_set_header X-Forwarded-Proto https;
		}
	}
}
EOF
}

# tune.bufsize stays at its default: HAProxy streams a body larger than its
# buffer (only `http-request return` needs it whole).
proxy_haproxy_conf() {
	cat <<EOF
global
	nbthread 1
	maxconn 4096
defaults
	mode http
	timeout connect 5s
	timeout client 30s
	timeout server 30s
	timeout http-keep-alive 60s
frontend tls
	bind $KERNEL_ADDR:$TLS_PORT ssl crt $PKI/server.pem ca-file $PKI/ca.crt verify required ssl-min-ver TLSv1.3
	http-request set-header X-SSL-Client-Verify %[ssl_c_verify]
	http-request set-header X-SSL-Client-S-DN %{+Q}[ssl_c_s_dn]
	http-request set-header X-SSL-Client-Serial %[ssl_c_serial,hex]
	http-request set-header X-SSL-Client-Fingerprint %[ssl_c_sha1,hex]
	http-request set-header X-Forwarded-For %[src]
	http-request set-header X-Forwarded-Proto https
	default_backend backend
backend backend
	http-reuse always
	server be $PROXY_BACKEND_ADDR:$PROXY_BACKEND_PORT maxconn 1000
EOF
}

proxy_portcullis_conf() {
	cat "$TMP/bench.conf"
	cat <<EOF
tls listen $TLS_PORT http
tls versions 1.3 1.3
host default cert $PKI/server.crt $PKI/server.key
host default verify required
host default ca $PKI/ca.crt
backend be server $PROXY_BACKEND_ADDR:$PROXY_BACKEND_PORT
backend be header client-san off
backend be header client-identity off
backend be header client-cert off
backend be header client-cert-chain off
host default backend be
EOF
}

# proxy_backend_start: the backend nginx; sets BACKEND_PID, or returns
# non-zero with the reason in SRV_FAIL.
proxy_backend_start() {
	local i
	proxy_backend_conf >"$TMP/backend-nginx.conf"
	ip netns exec "$NS_CL" taskset -c 0 nginx -e "$TMP/backend-nginx-error.log" \
		-c "$TMP/backend-nginx.conf" >"$TMP/backend-nginx.log" 2>&1 &
	BACKEND_PID=$!
	STARTED+=("$BACKEND_PID")
	for ((i = 0; i < READY_TIMEOUT * 10; i++)); do
		if ip netns exec "$NS_CL" ss -Hltn "sport = :$PROXY_BACKEND_PORT" | grep -q .; then
			return 0
		fi
		kill -0 "$BACKEND_PID" 2>/dev/null || break
		sleep 0.1
	done
	SRV_FAIL="the backend nginx did not start: $(cat "$TMP/backend-nginx.log" \
		"$TMP/backend-nginx-error.log" 2>/dev/null | grep -E -m 1 'emerg|rror' || true)"
	stop_pid "$BACKEND_PID"
	forget_pid "$BACKEND_PID"
	return 1
}

# proxy_points SCENARIO SERVER: the three points against the running
# server (tls_scenario's POINTS).
proxy_points() {
	local run
	for ((run = 1; run <= RUNS; run++)); do
		tls_point proxy-keepalive "$2" "$PROXY_KEEPALIVE_CONNS" "$run" --mode keepalive || return
	done
	for ((run = 1; run <= RUNS; run++)); do
		tls_point proxy-newconn "$2" "$PROXY_NEWCONN_CONNS" "$run" --mode request || return
	done
	for ((run = 1; run <= RUNS; run++)); do
		tls_point proxy-bulk "$2" "$PROXY_BULK_CONNS" "$run" --mode download \
			--bytes "$TLS_BULK_BYTES" --path "/bytes/$TLS_BULK_BYTES" || return
	done
}

# Without its backend no server can be measured: each fails with the reason.
scenario_proxy() {
	local server why=
	tls_setup
	TLS_RECORDS=$TMP/proxy.jsonl
	TLS_TAG=proxy
	TLS_POINT_LIMIT=0
	if ip netns exec "$NS_BE" ss -Hltn "sport = :$PROXY_BACKEND_PORT" | grep -q .; then
		why="something already listens on port $PROXY_BACKEND_PORT in $NS_BE"
	elif proxy_backend_start; then
		tls_scenario proxy proxy_points
		stop_pid "$BACKEND_PID"
		forget_pid "$BACKEND_PID"
	else
		why=$SRV_FAIL
	fi
	if [ -n "$why" ]; then
		log "proxy: $why"
		for server in "${TLS_SERVERS[@]}"; do
			tls_fail proxy "$server" "$why"
		done
	fi
	TLS_RECORDS=$TMP/tls.jsonl
	TLS_TAG=
	TLS_POINT_LIMIT=1
}

# Trust at scale (hosts-scale, trust-update). The portcullis runs are
# tagged scale-N; records go to $TMP/trust.jsonl.
SCALE_SIZES=(1000 10000 100000)
SCALE_UPDATE_HOSTS=100000
SCALE_COMMIT_RATE=100

# scale_pki N: the PKI and host lines of N tenants in SCALE_PKI (made once).
scale_pki() {
	SCALE_PKI=$ROOT/build/bench-pki/scale-$1
	if [ ! -s "$SCALE_PKI/hosts.conf" ]; then
		log "making the PKI of $1 tenants (scripts/pki_scale.py)"
		rm -rf "$SCALE_PKI"
		python3 "$ROOT/scripts/pki_scale.py" "$SCALE_PKI" "$1" >&2
	fi
}

# scale_start N: portcullis with N tenant hosts; sets SCALE_READY (seconds
# from launch to ready), SRV_PID, SRV_ADDR.
scale_start() {
	local t0 t1
	scale_pki "$1"
	{
		cat "$TMP/bench.conf"
		printf 'tls listen %s http\ntls versions 1.3 1.3\ncontrol socket %s\n' \
			"$TLS_PORT" "$TMP/pc.sock"
		cat "$SCALE_PKI/hosts.conf"
	} >"$TMP/scale.conf"
	t0=$(date +%s.%N)
	start_portcullis "$PC_PMD_DEFAULT" "$TMP/scale.conf" "scale-$1" || return 1
	t1=$(date +%s.%N)
	SCALE_READY=$(python3 -c "print(round($t1 - $t0, 3))")
	SRV_PID=$PC_PID
	SRV_ADDR=$PC_ADDR
}

# scale_load N HOST: full handshakes on tenant HOST with its client
# certificate; prints {"load", "cpu"}.
scale_load() {
	local before after cpu=null
	before=$(tls_cpu_mark portcullis "scale-$1")
	load_run "$PC_LOAD" "$PC_ADDR" "$TLS_PORT" --conns "$TLS_CONNS" --threads 1 --duration "$SECONDS_EACH" \
		--mode request --tls 1.3 --groups X25519 --sni "t$2.scale.test" \
		--cert "$SCALE_PKI/client-$2.crt" --key "$SCALE_PKI/client-$2.key" \
		--cacert "$SCALE_PKI/server-ca.crt"
	after=$(tls_cpu_mark portcullis "scale-$1")
	if [ -n "$before" ] && [ -n "$after" ]; then
		cpu=$(printf '{"before": %s, "after": %s, "hz": %s}' "${before% *}" "${after% *}" "${after#* }")
	fi
	printf '{"load": %s, "cpu": %s}' "$LOAD_JSON" "$cpu"
}

scale_heap() {
	"$BUILD/pcctl" -s "$TMP/pc.sock" show info json | python3 -c 'import json, sys; print(json.load(sys.stdin)["heap_bytes"])'
}

scenario_hosts-scale() {
	local n first last heap der
	for n in "${SCALE_SIZES[@]}"; do
		log "hosts-scale: $n hosts"
		scale_start "$n" || { log "hosts-scale: portcullis did not start with $n hosts"; continue; }
		heap=$(scale_heap)
		der=$(python3 -c 'import base64, pathlib, sys
print(sum(len(base64.b64decode("".join(l for l in p.read_text().splitlines() if not l.startswith("-----"))))
          for p in pathlib.Path(sys.argv[1]).glob("*.crt")))' "$SCALE_PKI/ca")
		first=$(scale_load "$n" 1)
		last=$(scale_load "$n" "$n")
		stop_portcullis "scale-$n"
		printf '{"scenario": "hosts-scale", "hosts": %s, "ready_s": %s, "heap_bytes": %s, "ca_der_bytes": %s, "first": %s, "last": %s}\n' \
			"$n" "$SCALE_READY" "$heap" "$der" "$first" "$last" >>"$TMP/trust.jsonl"
	done
}

# idle-conns: what it changes on the machine, put back by idle_restore
# (also on any exit).
IDLE_ADDRS=()
IDLE_HUGEPAGES=
IDLE_CONNS=${PC_BENCH_IDLE_CONNS:-100000}
IDLE_PER_ADDR=19000

idle_restore() {
	local a
	for a in "${IDLE_ADDRS[@]}"; do
		ip -n "$NS_CL" addr del "$a/24" dev cl0 2>/dev/null || true
	done
	IDLE_ADDRS=()
	if [ -n "$IDLE_HUGEPAGES" ]; then
		echo "$IDLE_HUGEPAGES" >/proc/sys/vm/nr_hugepages
		IDLE_HUGEPAGES=
	fi
}

# hugepages_used: 2 MiB pages in use on the machine.
hugepages_used() {
	awk '/^HugePages_Total/ { t = $2 } /^HugePages_Free/ { f = $2 } END { print t - f }' /proc/meminfo
}

# idle_counters: portcullis's counters (a SIGUSR1 dump) as one JSON object.
idle_counters() {
	local logf="$TMP/portcullis-idle.log" n i
	n=$(grep -c '^counters end' "$logf" || true)
	kill -USR1 "$PC_PID"
	for ((i = 0; i < 300; i++)); do
		[ "$(grep -c '^counters end' "$logf" || true)" -gt "$n" ] && break
		sleep 0.1
	done
	python3 -c 'import json, re, sys
text = open(sys.argv[1]).read().rsplit("counters (all workers", 1)[1].split("counters end")[0]
print(json.dumps({m.group(1): int(m.group(2)) for m in re.finditer(r"^([a-z_0-9]+) (\d+)\b", text, re.M)}))' \
		"$logf"
}

scenario_idle-conns() {
	local n=$IDLE_CONNS naddr i k mib pages t0 t1 rc rss0 hp0 hp_base counters rss hp held=0 loads
	local pids=()
	tls_setup
	naddr=$(((n + IDLE_PER_ADDR - 1) / IDLE_PER_ADDR))
	for ((i = 0; i < naddr; i++)); do
		ip -n "$NS_CL" addr add "198.18.0.$((201 + i))/24" dev cl0
		IDLE_ADDRS+=("198.18.0.$((201 + i))")
	done
	# wolfSSL holds ~18 KB per idle connection today: 24 KiB each, and
	# room for the handshakes in flight.
	mib=$((n * 24 / 1024 + 64))
	# 2 MiB pages: the arena, the buffer pool (64 MiB), control blocks and
	# the tables (~2 KB per connection), mbufs and the rest (256 MiB).
	pages=$(((mib + 64 + n * 2 / 1024 + 256) / 2))
	if [ "$(awk '/^HugePages_Free/ { print $2 }' /proc/meminfo)" -lt "$pages" ]; then
		IDLE_HUGEPAGES=$(cat /proc/sys/vm/nr_hugepages)
		log "idle-conns: hugepages $IDLE_HUGEPAGES -> $((IDLE_HUGEPAGES + pages)) for the run"
		echo $((IDLE_HUGEPAGES + pages)) >/proc/sys/vm/nr_hugepages
	fi
	{
		cat "$TMP/bench.conf"
		cat <<EOF
tcp max-connections $((n + 1024))
tcp buffer-pool 1024
tls listen $TLS_PORT http
tls versions 1.3 1.3
tls memory $mib
tls idle-timeout 3600000
host default cert $PKI/server.crt $PKI/server.key
host default verify required
host default ca $PKI/ca.crt
EOF
	} >"$TMP/idle.conf"
	hp_base=$(hugepages_used)
	if ! start_portcullis "$PC_PMD_DEFAULT" "$TMP/idle.conf" idle; then
		log "idle-conns: portcullis did not start"
		idle_restore
		return
	fi
	rss0=$(awk '/^VmRSS/ { print $2 }' "/proc/$PC_PID/status")
	hp0=$(($(hugepages_used) - hp_base))
	log "idle-conns: opening $n connections, $naddr pc_load processes (one per client address)"
	t0=$(date +%s.%N)
	# One process per address: a process may not hold more descriptors
	# than its hard limit (20,000 here, and not raisable without
	# CAP_SYS_RESOURCE).
	for ((i = 0; i < naddr; i++)); do
		k=$((n / naddr + (i < n % naddr ? 1 : 0)))
		ip netns exec "$NS_CL" taskset -c 0 "$TLS_CLIENT" --host "$PC_ADDR" --port "$TLS_PORT" \
			--mode hold --conns "$k" --duration 3600 --timeout 30000 --bind "${IDLE_ADDRS[$i]}" \
			"${TLS_LOAD_ARGS[@]}" --json "$TMP/idle-$i.json" >/dev/null 2>"$TMP/idle-$i.err" &
		pids+=($!)
		STARTED+=($!)
	done
	for ((i = 0; i < naddr; i++)); do
		k=$((n / naddr + (i < n % naddr ? 1 : 0)))
		while kill -0 "${pids[$i]}" 2>/dev/null; do
			if grep -q "holding $k connections" "$TMP/idle-$i.err"; then
				held=$((held + k))
				break
			fi
			sleep 0.2
		done
	done
	t1=$(date +%s.%N)
	[ "$held" -eq "$n" ] || log "idle-conns: only $held of $n connections held"
	# The last responses' ACKs, and the buffers they free.
	sleep 1
	counters=$(idle_counters)
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$PC_PID/status")
	hp=$(($(hugepages_used) - hp_base))
	loads=
	for ((i = 0; i < naddr; i++)); do
		rc=0
		kill -TERM "${pids[$i]}" 2>/dev/null || true
		wait "${pids[$i]}" || rc=$?
		forget_pid "${pids[$i]}"
		[ "$rc" -eq 0 ] || log "idle-conns: pc_load $i exit $rc: $(grep . "$TMP/idle-$i.err" | tail -n 1)"
		loads+="${loads:+, }$(python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$TMP/idle-$i.json" 2>/dev/null || echo null)"
	done
	stop_portcullis idle
	printf '{"scenario": "idle-conns", "conns": %s, "held": %s, "open_s": %s, "counters": %s, "rss_kb": [%s, %s], "hugepages": [%s, %s], "loads": [%s]}\n' \
		"$n" "$held" "$(python3 -c "print(round($t1 - $t0, 1))")" "$counters" "$rss0" "$rss" \
		"$hp0" "$hp" "$loads" >>"$TMP/idle.jsonl"
	idle_restore
}

scenario_trust-update() {
	local n=$SCALE_UPDATE_HOSTS commits quiet updating stream sp
	log "trust-update: $n hosts"
	scale_start "$n" || { log "trust-update: portcullis did not start"; return; }
	commits=$(python3 "$ROOT/scripts/bench_trust.py" commits "$TMP/pc.sock" 1000 "$n")
	quiet=$(scale_load "$n" 1)
	rm -f "$TMP/stop-commits"
	python3 "$ROOT/scripts/bench_trust.py" stream "$TMP/pc.sock" "$SCALE_COMMIT_RATE" "$n" \
		"$TMP/stop-commits" >"$TMP/stream.json" &
	sp=$!
	STARTED+=("$sp")
	updating=$(scale_load "$n" 1)
	touch "$TMP/stop-commits"
	wait "$sp" || true
	forget_pid "$sp"
	stream=$(cat "$TMP/stream.json")
	stop_portcullis "scale-$n"
	printf '{"scenario": "trust-update", "hosts": %s, "rate": %s, "commits": %s, "quiet": %s, "updating": %s, "stream": %s}\n' \
		"$n" "$SCALE_COMMIT_RATE" "$commits" "$quiet" "$updating" "$stream" >>"$TMP/trust.jsonl"
}

# --- TRex scenarios -----------------------------------------------------------
# TRex (scripts/trex.sh) on CPU 0 plays the clients, the server under test
# is alone on CPU 1:
#   portcullis/veth   the busy-polling worker on dp0 (PC_PMD_DEFAULT), TRex
#                     on the bridge (tx0, net_af_packet): the whole lab's
#                     kernel path, as in the other scenarios;
#   portcullis/memif  portcullis on a memif link to TRex: no kernel in the
#                     path, portcullis's own TCP alone;
#   kernel/veth       pc_kecho on the backend's Linux stack (198.18.0.3:7007),
#                     TRex on the bridge.
# Server CPU: portcullis's busy_cycles (SIGUSR1 dumps around each run), the
# kernel's core 1 busy time (/proc/stat; the veth's receive work for the
# server runs on TRex's core, as for pc_load). Records go to
# $TMP/trex.jsonl; scripts/bench_trex.py judges each run and prints the
# tables.
TREX=$ROOT/scripts/trex.sh
TREX_CPS_MAX=${PC_BENCH_TREX_CPS_MAX:-24000} # the README's ceiling for this machine
TREX_CPS_STEPS=5                             # bisection steps below it
TREX_BULK_BYTES=67108864                     # per flow, each way
TREX_RUNNING=

trex_start() {
	"$TREX" start "$@" || return 1
	TREX_RUNNING=1
}

trex_stop() {
	"$TREX" stop
	TREX_RUNNING=
}

# pc_cpu_mark TAG PID: "BUSY_CYCLES TSC_HZ" of the portcullis whose output
# is $TMP/portcullis-TAG.log, from a fresh SIGUSR1 dump.
pc_cpu_mark() {
	local logf="$TMP/portcullis-$1.log" n i
	n=$(grep -c '^tsc_hz ' "$logf" || true)
	kill -USR1 "$2" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		[ "$(grep -c '^tsc_hz ' "$logf" || true)" -le "$n" ] || break
		sleep 0.1
	done
	awk '/^counters \(all workers/ { b = "" }
		$1 == "busy_cycles" && b == "" { b = $2 }
		$1 == "tsc_hz" { h = $2 }
		END { if (b != "" && h) print b, h }' "$logf"
}

# pc_counter TAG NAME: NAME's total in the newest dump of that portcullis.
pc_counter() {
	awk -v n="$2" '/^counters \(all workers/ { v = "" }
		$1 == n && v == "" { v = $2 } END { print v + 0 }' "$TMP/portcullis-$1.log"
}

# trex_target_start TARGET MODE TAG: the server under test and TRex in ASTF
# mode; sets TGT_PID (the server), TGT_ADDR, TGT_PORT.
trex_target_start() {
	local target=$1 mode=$2 tag=$3
	if [ "$target" = kernel ]; then
		kecho_start
		TGT_PID=$KECHO_PID
		TGT_ADDR=$KERNEL_ADDR
		TGT_PORT=$KECHO_PORT
		trex_start "$mode" astf "$KERNEL_ADDR"
		return
	fi
	{
		cat "$TMP/bench.conf"
		echo "ip gateway $PC_TREX_ADDR"
	} >"$TMP/trex-pc.conf"
	[ "$mode" != memif ] || rm -f "$(pc_memif_socket)"
	start_portcullis "$([ "$mode" = memif ] && echo memif || echo "$PC_PMD_DEFAULT")" \
		"$TMP/trex-pc.conf" "$tag" || return 1
	TGT_PID=$PC_PID
	TGT_ADDR=$PC_ADDR
	TGT_PORT=7
	trex_start "$mode" astf
}

trex_target_stop() {
	trex_stop
	if [ "$1" = kernel ]; then
		stop_pid "$TGT_PID"
		forget_pid "$TGT_PID"
	else
		stop_portcullis "$2"
	fi
}

# trex_cpu TARGET TAG: the server's CPU mark (see tls_cpu_mark).
trex_cpu() {
	if [ "$1" = kernel ]; then
		echo "$(cpu1_busy) $(getconf CLK_TCK)"
	else
		pc_cpu_mark "$2" "$TGT_PID"
	fi
}

# trex_point SCENARIO TARGET MODE TAG RATE PROFILE TUNABLE...: one TRex
# run against the running target, one record; sets TREX_VERDICT (ok, or
# why the point is not clean: see bench_trex.py verdict).
trex_point() {
	local scenario=$1 target=$2 mode=$3 tag=$4 rate=$5 profile=$6 before after cpu out rec
	shift 6
	log "$scenario: $target/$mode at $rate"
	before=$(trex_cpu "$target" "$tag")
	out=$("$TREX" client astf "$ROOT/scripts/trex/$profile" --seconds "$SECONDS_EACH" \
		--latency 100 -t "server=$TGT_ADDR" -t "port=$TGT_PORT" "$@" 2>"$TMP/trex-client.err") || out=null
	[ "$out" != null ] || sed 's/^/    /' "$TMP/trex-client.err" | tail -n 5 >&2
	after=$(trex_cpu "$target" "$tag")
	cpu=null
	if [ -n "$before" ] && [ -n "$after" ]; then
		cpu=$(printf '{"before": %s, "after": %s, "hz": %s}' "${before% *}" "${after% *}" "${after#* }")
	fi
	rec=$(printf '{"scenario": "%s", "target": "%s", "mode": "%s", "rate": %s, "trex": %s, "cpu": %s}' \
		"$scenario" "$target" "$mode" "$rate" "$out" "$cpu")
	echo "$rec" >>"$TMP/trex.jsonl"
	TREX_VERDICT=$(python3 "$ROOT/scripts/bench_trex.py" verdict "$rec")
	log "$scenario: $target/$mode at $rate: $TREX_VERDICT"
}

TREX_TARGETS=(portcullis/veth portcullis/memif kernel/veth)

# trex-cps: the highest rate with zero errors, by bisection between 0 and
# TREX_CPS_MAX (the ceiling first: if it is clean, TRex or the machine was
# the limit, which the table says).
scenario_trex-cps() {
	local t target mode lo hi rate step
	for t in "${TREX_TARGETS[@]}"; do
		target=${t%/*} mode=${t#*/}
		if ! trex_target_start "$target" "$mode" "trex-cps-$mode"; then
			log "trex-cps: $t did not start"
			trex_target_stop "$target" "trex-cps-$mode"
			continue
		fi
		lo=0 hi=$TREX_CPS_MAX rate=$TREX_CPS_MAX
		for ((step = 0; step <= TREX_CPS_STEPS; step++)); do
			trex_point trex-cps "$target" "$mode" "trex-cps-$mode" "$rate" astf_tcp_cps.py \
				-t "cps=$rate" -t size=64
			if [[ "$TREX_VERDICT" == ok* ]]; then
				lo=$rate
				[ "$rate" -lt "$hi" ] || break
			else
				hi=$rate
			fi
			rate=$(((lo + hi) / 2))
		done
		trex_target_stop "$target" "trex-cps-$mode"
	done
}

# trex-bulk: TREX_BULK_BYTES each way per flow, new flows at a rate that
# offers more than the target can carry (the run lasts until the last flow
# ends): Gbit/s both directions, server CPU per GiB.
scenario_trex-bulk() {
	local t target mode cps run
	for t in portcullis/memif portcullis/veth kernel/veth; do
		target=${t%/*} mode=${t#*/}
		# More than each path carries; over memif, not so much that TRex's
		# zero-copy transmit overflows its ring and crashes (astf_tcp_bulk.py).
		cps=10
		[ "$mode" != memif ] || cps=30
		if ! trex_target_start "$target" "$mode" "trex-bulk-$mode"; then
			log "trex-bulk: $t did not start"
			trex_target_stop "$target" "trex-bulk-$mode"
			continue
		fi
		for ((run = 1; run <= RUNS; run++)); do
			trex_point trex-bulk "$target" "$mode" "trex-bulk-$mode" "$cps" astf_tcp_bulk.py \
				-t "cps=$cps" -t "size=$TREX_BULK_BYTES"
		done
		trex_target_stop "$target" "trex-bulk-$mode"
	done
}

# trex-synflood: portcullis's TLS listener (the tls-full configuration,
# routed back to TRex), pc_load's mutual-TLS handshakes (16 connections,
# handshake mode) from the client namespace, first with TRex idle, then
# during STL SYN floods from TRex's spoofed sources at each rate of
# TREX_FLOOD_PPS (request mode, as tls-full: a handshake and one small
# GET per connection). Per run: pc_load's result, portcullis's SYN-cookie
# counters and connection blocks in use, and its resident memory.
read -ra TREX_FLOOD_PPS <<<"${PC_BENCH_TREX_FLOOD_PPS:-10000 30000 100000}"

scenario_trex-synflood() {
	local pps fpid rc tag=trex-synflood
	tls_setup
	{
		portcullis_tls_conf
		echo "ip gateway $PC_TREX_ADDR"
	} >"$TMP/flood.conf"
	start_portcullis "$PC_PMD_DEFAULT" "$TMP/flood.conf" "$tag" || return 0
	SRV_PID=$PC_PID
	if ! trex_start veth stl; then
		stop_portcullis "$tag"
		return 0
	fi
	for pps in 0 "${TREX_FLOOD_PPS[@]}"; do
		log "trex-synflood: handshakes with a SYN flood of $pps pkt/s"
		pc_cpu_mark "$tag" "$SRV_PID" >/dev/null
		local c0 k0 r0
		c0=$(pc_counter "$tag" tcp_syncookies_sent)
		k0=$(pc_counter "$tag" tcp_syncookies_ok)
		r0=$(awk '/^VmRSS/ { print $2 }' "/proc/$SRV_PID/status")
		fpid=
		if [ "$pps" -gt 0 ]; then
			"$TREX" client stl "$ROOT/scripts/trex/stl_syn_flood.py" \
				--seconds "$((SECONDS_EACH + 2))" -t "server=$PC_ADDR" -t "port=$TLS_PORT" \
				-t "pps=$pps" >"$TMP/flood.json" 2>"$TMP/flood.err" &
			fpid=$!
			STARTED+=("$fpid")
			sleep 1 # the flood is on before the first handshake
		fi
		load_run "$PC_LOAD" "$PC_ADDR" "$TLS_PORT" --mode request --conns "$TLS_CONNS" --threads 1 \
			--duration "$SECONDS_EACH" "${TLS_LOAD_ARGS[@]}"
		local flood=null
		if [ -n "$fpid" ]; then
			rc=0
			wait "$fpid" || rc=$?
			forget_pid "$fpid"
			[ "$rc" -ne 0 ] || flood=$(cat "$TMP/flood.json")
		fi
		pc_cpu_mark "$tag" "$SRV_PID" >/dev/null
		printf '{"scenario": "trex-synflood", "pps": %s, "load": %s, "flood": %s, "cookies_sent": %s, "cookies_ok": %s, "conns_active": %s, "rss_kb": [%s, %s]}\n' \
			"$pps" "$LOAD_JSON" "$flood" \
			"$(($(pc_counter "$tag" tcp_syncookies_sent) - c0))" \
			"$(($(pc_counter "$tag" tcp_syncookies_ok) - k0))" \
			"$(pc_counter "$tag" tcp_connections_active)" \
			"$r0" "$(awk '/^VmRSS/ { print $2 }' "/proc/$SRV_PID/status")" >>"$TMP/trex.jsonl"
	done
	trex_stop
	stop_portcullis "$tag"
}

# Prints the table and writes latest.json from the records.
machine_name() {
	echo "$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs, Linux $(uname -r), MTU $BENCH_MTU ($PC_PMD_DEFAULT)"
}

report() {
	local machine when
	[ -s "$TMP/results.jsonl" ] || return 0
	machine=$(machine_name)
	when=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	python3 - "$TMP/results.jsonl" "$LATEST" "$machine" "$when" "$RUNS" <<'EOF'
import json, os, sys

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
# Merged with what the other scenarios (and earlier runs) wrote.
latest = json.load(open(out_path)) if os.path.exists(out_path) else {}
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
	[ -n "$TLS_CLIENT" ] || die "PC_BENCH_TLS_CLIENT must be wolfssl or openssl"
	[ -x "$TLS_CLIENT" ] || die "no $TLS_CLIENT: build first (ninja -C $BUILD)"
	[ -x "$PC_KECHO" ] || die "no $PC_KECHO: build first (ninja -C $BUILD)"
	[ -x "$PC_CRYPTO_LIMIT" ] || die "no $PC_CRYPTO_LIMIT: build first (ninja -C $BUILD)"
	if [[ " ${wanted[*]} " == *" tls-"* || " ${wanted[*]} " == *" proxy "* ]]; then
		command -v nginx >/dev/null || log "no nginx: its TLS rows will fail (scripts/setup.sh installs it)"
		command -v haproxy >/dev/null || log "no haproxy: its TLS rows will fail (scripts/setup.sh installs it)"
	fi

	"$ROOT/scripts/lab.sh" up
	# A second responder on dp0 (a portcullis left running) would share
	# the traffic and spoil both.
	if ip netns exec "$NS_CL" ping -c 1 -W 1 "$PC_ADDR" >/dev/null 2>&1; then
		die "something already answers at $PC_ADDR in lab $LAB (a portcullis left running?); stop it, or use another lab: PC_LAB=bench $0"
	fi
	# One worker: one queue pair on dp0 (AF_XDP sees only the queues it has
	# sockets on).
	"$ROOT/scripts/lab.sh" queues 1
	if [ "$PC_PMD_DEFAULT" = af_xdp ] && [ "$BENCH_MTU" -gt 3498 ]; then
		die "net_af_xdp on veth takes an MTU of at most 3498: PC_PMD=af_packet PC_BENCH_MTU=$BENCH_MTU $0"
	fi
	"$ROOT/scripts/lab.sh" mtu "$BENCH_MTU"
	"$ROOT/scripts/lab.sh" rx-cpus 0 1
	RX_CPUS_SET=1

	TMP=$(mktemp -d /tmp/pc-bench.XXXXXX)
	# The demo's address and TCP applications (not its TLS demo, whose PKI
	# lives elsewhere) with a busy-polling worker: a sleeping worker would
	# measure its wake-up latency, not its packet rate.
	grep -E '^(ip|arp|tcp) ' "$ROOT/conf/demo.conf" >"$TMP/bench.conf"
	echo 'worker idle busy' >>"$TMP/bench.conf"
	echo "worker tx-hold $TX_HOLD" >>"$TMP/bench.conf"
	echo "port mtu $BENCH_MTU" >>"$TMP/bench.conf"
	: >"$TMP/results.jsonl"
	: >"$TMP/tcp.jsonl"
	: >"$TMP/tls.jsonl"
	: >"$TMP/proxy.jsonl"
	TLS_RECORDS=$TMP/tls.jsonl
	: >"$TMP/trust.jsonl"
	: >"$TMP/trex.jsonl"
	: >"$TMP/idle.jsonl"
	mkdir -p "$RESULTS_DIR"

	check_quiet
	for s in "${wanted[@]}"; do
		"scenario_$s"
	done
	report
	if [ -s "$TMP/tcp.jsonl" ]; then
		python3 "$ROOT/scripts/bench_report_tcp.py" "$TMP/tcp.jsonl" \
			"$LATEST" "$(machine_name)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	fi
	if [ -s "$TMP/trust.jsonl" ]; then
		python3 "$ROOT/scripts/bench_trust.py" report "$TMP/trust.jsonl" \
			"$LATEST" "$(machine_name)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	fi
	if [ -s "$TMP/idle.jsonl" ]; then
		python3 "$ROOT/scripts/bench_report_idle.py" "$TMP/idle.jsonl" \
			"$RESULTS_DIR/latest.json" "$(machine_name)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	fi
	if [ -s "$TMP/trex.jsonl" ]; then
		python3 "$ROOT/scripts/bench_trex.py" report "$TMP/trex.jsonl" \
			"$LATEST" "$(machine_name)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	fi
	if [ -s "$TMP/proxy.jsonl" ]; then
		python3 "$ROOT/scripts/bench_report_proxy.py" "$TMP/proxy.jsonl" \
			"$LATEST" "$(machine_name)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	fi
	if [ -s "$TMP/tls.jsonl" ]; then
		python3 "$ROOT/scripts/bench_report_tls.py" "$TMP/tls.jsonl" "$TMP/limit.json" \
			"$LATEST" "$(machine_name)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
			"$RESULTS_DIR"
	fi
}

main "$@"
