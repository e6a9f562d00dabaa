#!/bin/bash
# SPDX-License-Identifier: MIT
# TRex in the lab (scripts/lab.sh): unpacks it into build/trex when it is
# needed, starts and stops its server, and runs its Python client
# (scripts/trex/pc_trex.py) next to it.
#
#   scripts/trex.sh start veth|memif astf|stl [GATEWAY]
#   scripts/trex.sh stop | purge | status
#   scripts/trex.sh client PC_TREX_ARGS...
#
# veth   TRex's port is tx0 in the namespace LAB-trex, a port of the lab's
#        bridge (DPDK's net_af_packet inside TRex), so it reaches portcullis
#        on dp0 and the backend's kernel like any host of the lab.
# memif  TRex's port is the client end of portcullis's memif link
#        (portcullis started with PC_PMD=memif is the server, and must be
#        running first): shared memory, no kernel in the path.
# astf|stl  TRex's stateful-TCP (ASTF) or stateless (STL) server; the
#        profiles in scripts/trex/ say which they need.
#
# TRex gets the address 198.18.0.20/24 and opens connections from
# 198.18.16.0/20 (scripts/common.sh); it sends every frame to its gateway's
# address, by default portcullis's (198.18.0.1), GATEWAY for another device
# under test (the backend's kernel, 198.18.0.3);
# it runs in software mode without hugepages, `low_end` on CPU 0 (the
# portcullis worker owns CPU 1 in the lab), with its own DPDK file prefix.
# Its PID, config and output are /run/portcullis-lab-LAB-trex.{pid,yaml,log};
# `stop` stops it by that PID and removes its runtime directory; `purge`
# (what `lab.sh down` calls) also removes its config and output. The client talks to it over TRex's RPC port inside LAB-trex.
#   PC_TREX_TARBALL  the TRex build (default ../shared/third_party/trex-v3.08-x86_64.tar.xz)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/common.sh
. "$ROOT/scripts/common.sh"

LAB=${PC_LAB:-pc}
NS_TX=$LAB-trex
TARBALL=${PC_TREX_TARBALL:-$ROOT/../shared/third_party/trex-v3.08-x86_64.tar.xz}
TREX_HOME=$ROOT/build/trex
TREX_DIR=$TREX_HOME/trex-v3.08
RUN=/run/portcullis-lab-$LAB-trex
PREFIX=pc-$LAB-trex
READY_TIMEOUT=60

log() { printf 'trex: %s\n' "$*" >&2; }

unpack() {
	local tmp
	[ -x "$TREX_DIR/_t-rex-64" ] && return 0
	[ -f "$TARBALL" ] || {
		log "no TRex build at $TARBALL (set PC_TREX_TARBALL)"
		exit 1
	}
	log "unpacking $(basename "$TARBALL") into $TREX_HOME"
	mkdir -p "$TREX_HOME"
	tmp=$(mktemp -d "$TREX_HOME/unpack.XXXXXX")
	tar -xJf "$TARBALL" -C "$tmp"
	rm -rf "$TREX_DIR"
	mv "$tmp/trex-v3.08" "$TREX_DIR"
	rmdir "$tmp"
}

trex_pid() { pc_live_pid "$RUN.pid" _t-rex-64; }

# config MODE GATEWAY: TRex's platform file. Port 1 is TRex's mandatory second
# port, a dummy. In memif mode TRex transmits zero-copy (its mbufs are the
# shared buffers, hence one memory file): its copy-mode transmit leaves
# the "next segment" flag of a reused descriptor set (TRex's DPDK), which
# makes the receiving side chain unrelated frames once the ring wraps.
config() {
	local iface opts=""
	case $1 in
	veth) iface="'tx0'" ;;
	memif)
		iface="'--vdev=net_memif0,role=client,socket=$(pc_memif_socket),socket-abstract=no,zero-copy=yes'"
		opts="  ext_dpdk_opt: ['--single-file-segments']"
		;;
	esac
	cat <<EOF
- version: 2
  port_limit: 2
  interfaces: [$iface, 'dummy']
  prefix: $PREFIX
$opts
  low_end: true
  low_end_core: 0
  port_info:
    - ip: $PC_TREX_ADDR
      default_gw: $2
    - ip: 198.18.0.21
      default_gw: $2
EOF
}

# The client on CPU 0 with TRex: CPU 1 is the device under test's, whose
# busy time the benchmarks measure.
client() {
	ip netns exec "$NS_TX" taskset -c 0 /usr/bin/python3 -W ignore "$ROOT/scripts/trex/pc_trex.py" \
		--trex "$TREX_DIR" "$@"
}

start() {
	local mode=${1:-} kind=${2:-} gw=${3:-198.18.0.1} pid i flags=()
	case "$mode/$kind" in
	veth/astf | veth/stl | memif/astf | memif/stl) ;;
	*)
		echo "usage: $0 start veth|memif astf|stl [GATEWAY]" >&2
		exit 2
		;;
	esac
	if ! ip netns list | awk '{print $1}' | grep -qx "$NS_TX"; then
		log "no $NS_TX namespace (run: scripts/lab.sh up)"
		exit 1
	fi
	if pid=$(trex_pid); then
		log "TRex is already running (pid $pid); stop it first: $0 stop"
		exit 1
	fi
	if [ "$mode" = memif ] && [ ! -S "$(pc_memif_socket)" ]; then
		log "no memif socket $(pc_memif_socket): start portcullis with PC_PMD=memif first"
		exit 1
	fi
	unpack
	config "$mode" "$gw" >"$RUN.yaml"
	[ "$kind" = stl ] || flags=(--astf)
	# ip netns exec and env exec: $! is TRex's own PID. The library path is
	# what TRex's t-rex-64 wrapper would set (the wrapper itself also runs
	# a system set-up step that the lab does not need).
	(cd "$TREX_DIR" && exec ip netns exec "$NS_TX" env LD_LIBRARY_PATH="$TREX_DIR/so/x86_64" \
		./_t-rex-64 -i "${flags[@]}" --cfg "$RUN.yaml" --software -c 1 --no-scapy-server \
		>"$RUN.log" 2>&1 </dev/null) &
	pid=$!
	echo "$pid" >"$RUN.pid"
	for ((i = 0; i < READY_TIMEOUT; i++)); do
		# (Until the exec chain reaches TRex, the PID is ip's or env's.)
		if ! kill -0 "$pid" 2>/dev/null; then
			log "TRex did not start; its output:"
			sed 's/^/    /' "$RUN.log" >&2
			stop
			exit 1
		fi
		if client ping >/dev/null 2>&1; then
			return 0
		fi
		sleep 1
	done
	log "TRex did not answer its RPC port in ${READY_TIMEOUT}s; its output:"
	tail -n 30 "$RUN.log" | sed 's/^/    /' >&2
	stop
	exit 1
}

stop() {
	pc_stop_live "$RUN.pid" _t-rex-64
	rm -rf "/var/run/dpdk/$PREFIX"
}

status() {
	local pid
	if pid=$(trex_pid); then
		echo "TRex: pid $pid, config $RUN.yaml, output $RUN.log"
	else
		echo "TRex: not running"
		return 1
	fi
}

if [ "$(id -u)" -ne 0 ]; then
	echo "trex: must run as root" >&2
	exit 1
fi
case "${1:-}" in
start)
	shift
	start "$@"
	;;
stop) stop ;;
purge)
	stop
	rm -f "$RUN.yaml" "$RUN.log"
	;;
status) status ;;
client)
	shift
	client "$@"
	;;
*)
	echo "usage: $0 start veth|memif astf|stl [GATEWAY] | stop | purge | status | client ARGS..." >&2
	exit 2
	;;
esac
