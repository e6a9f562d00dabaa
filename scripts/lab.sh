#!/bin/bash
# SPDX-License-Identifier: MIT
# The lab: network namespaces that stand for the terminator's NIC, a client
# and a backend, joined by a bridge. Nothing routes out of the machine.
#
#   pc-dp       the terminator's side. Holds the bridge pc-br and the veth
#               end dp0 that portcullis drives through a DPDK virtual device
#               (net_af_xdp or net_af_packet); dp0 carries no kernel address.
#               With PMD tap, net_tap's own netdev dptap0 takes dp0's place
#               on the bridge while portcullis runs (pc_tap_join).
#               portcullis runs inside this namespace (ip netns exec pc-dp).
#   pc-client   cl0 198.18.0.2/24 (and 198.18.0.12/24, an address the tests
#               use to make portcullis ARP for an unknown neighbour)
#   pc-backend  be0 198.18.0.3/24
#   pc-lossy    lc0 198.18.0.4/24, a second client whose only way to the
#               bridge is the impairment relay (no relay, no connectivity)
#   pc-impair   ia0 (peer of lc0) and ib0 (peer of lossy-br, a port of
#               pc-br), no addresses; pc_impair relays frames between them
#   pc-trex     tx0 (peer of tx0-br, a port of pc-br), no kernel address:
#               TRex drives it (net_af_packet) as 198.18.0.20 with its
#               clients 198.18.16.0/20 behind it (scripts/trex.sh, which
#               also runs TRex over memif instead); pc-backend routes that
#               range back through 198.18.0.20
#   portcullis  198.18.0.1/24 (configured in portcullis, not in the kernel)
#
# Usage: scripts/lab.sh up|down|status|queues N|mtu N   (idempotent, as root)
#        scripts/lab.sh rx-cpus CLIENT_CPU SERVER_CPU | rx-cpus off
#        scripts/lab.sh impair [PC_IMPAIR_OPTION...] | impair-stop
#
# `impair ARGS` starts tests/impair/pc_impair (from ${PC_BUILD:-build/release})
# in pc-impair as `pc_impair --a ia0 --b ib0 ARGS` (a = the lossy client's
# side), in the background, and returns once it relays; its PID and output
# go to /run/portcullis-lab-pc-impair.{pid,log}. `impair-stop` stops it by
# that PID and prints its counters; `down` stops it too.
#
# dp0 is created with room for PC_LAB_MAX_QUEUES queue pairs and starts with
# one. `queues N` sets both veth ends to N (one per portcullis worker) before
# portcullis starts: veth's XDP wants at least as many RX queues on dp0 as
# its peer has TX queues, and every active queue needs an AF_XDP socket, or
# the frames steered to it are never seen.
set -euo pipefail

# PC_LAB=NAME builds a second, independent lab (NAME-dp, NAME-client,
# NAME-backend, NAME-lossy, NAME-impair, NAME-trex) so that the tests can
# run beside a demo or a benchmark.
LAB=${PC_LAB:-pc}
NS_DP=$LAB-dp
NS_CL=$LAB-client
NS_BE=$LAB-backend
NS_LO=$LAB-lossy
NS_IM=$LAB-impair
NS_TX=$LAB-trex
MAX_QUEUES=${PC_LAB_MAX_QUEUES:-4}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/common.sh
. "$ROOT/scripts/common.sh"
IMPAIR_BIN=${PC_BUILD:-$ROOT/build/release}/tests/impair/pc_impair
IMPAIR_PID=/run/portcullis-lab-$LAB-impair.pid
IMPAIR_LOG=/run/portcullis-lab-$LAB-impair.log

ns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }
in_dp() { ip netns exec "$NS_DP" "$@"; }

ns_add() {
	ns_exists "$1" || ip netns add "$1"
	ip -n "$1" link set lo up
}

# veth_pair NAME_IN_DP NS NAME_IN_NS: a veth whose one end is enslaved to the
# bridge in pc-dp and whose other end lives in NS.
veth_to_bridge() {
	local br_end=$1 ns=$2 end=$3
	if ! in_dp ip link show "$br_end" >/dev/null 2>&1; then
		ip link add "$br_end" netns "$NS_DP" type veth peer name "$end" netns "$ns"
	fi
	in_dp ip link set "$br_end" master pc-br up
	ip -n "$ns" link set "$end" up
	# Hosts hand the wire complete frames: a veth would otherwise pass on
	# unfinished checksums (CHECKSUM_PARTIAL) and 64 KiB TSO/GSO frames,
	# which a NIC never delivers and the DPDK port would see as they are.
	ip netns exec "$ns" ethtool -K "$end" tx off tso off gso off >/dev/null
}

up() {
	local ns
	# IPv6 off before any link exists: a link brought up with it on sends
	# its own multicast (MLD reports, router solicitations) to portcullis,
	# which the tests would count among their own frames.
	for ns in "$NS_DP" "$NS_CL" "$NS_BE"; do
		ns_add "$ns"
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	done
	in_dp sysctl -qw net.ipv4.ip_forward=0
	if ! in_dp ip link show pc-br >/dev/null 2>&1; then
		in_dp ip link add pc-br type bridge forward_delay 0 stp_state 0
	fi
	# A plain switch: no bridge netfilter (it would validate and drop the
	# malformed frames the tests send to portcullis on purpose).
	local key
	for key in bridge-nf-call-iptables bridge-nf-call-ip6tables bridge-nf-call-arptables; do
		if [ -e "/proc/sys/net/bridge/$key" ]; then
			in_dp sysctl -qw "net.bridge.$key=0"
		fi
	done
	# Learn addresses immediately and never age them out during a test.
	in_dp ip link set pc-br type bridge ageing_time 30000
	in_dp ip link set pc-br up

	# dp0: the DPDK port. Multi-queue so that several workers can each own
	# an RX/TX queue pair; no kernel address, no IPv6 chatter.
	if ! in_dp ip link show dp0 >/dev/null 2>&1; then
		in_dp ip link add dp0 numtxqueues "$MAX_QUEUES" numrxqueues "$MAX_QUEUES" \
			type veth peer name dp0-br \
			numtxqueues "$MAX_QUEUES" numrxqueues "$MAX_QUEUES"
		queues 1
	fi
	in_dp ip link set dp0-br master pc-br up
	in_dp ip link set dp0 up
	# VLAN tags stay in the frame (as on a wire) instead of moving into
	# skb metadata that the DPDK port never sees.
	in_dp ethtool -K dp0-br txvlan off rxvlan off
	in_dp ethtool -K dp0 txvlan off rxvlan off

	veth_to_bridge cl0-br "$NS_CL" cl0
	veth_to_bridge be0-br "$NS_BE" be0
	ip -n "$NS_CL" addr replace 198.18.0.2/24 dev cl0
	ip -n "$NS_CL" addr replace 198.18.0.12/24 dev cl0
	ip -n "$NS_BE" addr replace 198.18.0.3/24 dev be0

	# The lossy client, behind the impairment relay: lc0 <-> ia0 ... ib0
	# <-> lossy-br. IPv6 off before the links exist, so that neither side
	# sends its own chatter (DAD, router solicitations) through the relay.
	for ns in "$NS_LO" "$NS_IM"; do
		ns_add "$ns"
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	done
	if ! ip -n "$NS_LO" link show lc0 >/dev/null 2>&1; then
		ip link add lc0 netns "$NS_LO" type veth peer name ia0 netns "$NS_IM"
	fi
	if ! in_dp ip link show lossy-br >/dev/null 2>&1; then
		ip link add lossy-br netns "$NS_DP" type veth peer name ib0 netns "$NS_IM"
	fi
	in_dp ip link set lossy-br master pc-br up
	ip -n "$NS_IM" link set ia0 up
	ip -n "$NS_IM" link set ib0 up
	ip -n "$NS_LO" link set lc0 up
	# Frames the size of a wire's, both ways through the relay: no TCP
	# segmentation offload or GSO on the ends that send into it (so the
	# kernel segments before the veth), no GRO on any end (so nothing is
	# merged into a super-frame, which pc_impair would drop as oversize).
	in_dp ethtool -K lossy-br gro off gso off tso off >/dev/null
	ip netns exec "$NS_LO" ethtool -K lc0 gro off gso off tso off >/dev/null
	ip netns exec "$NS_IM" ethtool -K ia0 gro off gso off tso off >/dev/null
	ip netns exec "$NS_IM" ethtool -K ib0 gro off gso off tso off >/dev/null
	ip -n "$NS_LO" addr replace 198.18.0.4/24 dev lc0
	# Through heavy loss a segment can be lost several times in a row and
	# Linux doubles its retransmission timeout up to 120 s each time: the
	# lossy client caps it at 2 s (Linux 6.15+; portcullis's side is `tcp
	# rto` in the tests' config), so a transfer's time stays bounded.
	if [ -e "/proc/sys/net/ipv4/tcp_rto_max_ms" ]; then
		ip netns exec "$NS_LO" sysctl -qw net.ipv4.tcp_rto_max_ms=2000
	fi

	# TRex's port: a bridge port like the hosts', but TRex's af_packet
	# driver reads it, so GRO stays off too (it must see wire frames).
	ns_add "$NS_TX"
	ip netns exec "$NS_TX" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$NS_TX" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	veth_to_bridge tx0-br "$NS_TX" tx0
	ip netns exec "$NS_TX" ethtool -K tx0 gro off >/dev/null
	in_dp ethtool -K tx0-br tx off tso off gso off gro off >/dev/null
	ip -n "$NS_BE" route replace "$PC_TREX_CLIENTS" via "$PC_TREX_ADDR"
}

queues() {
	local n=$1
	if ! [[ "$n" =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt "$MAX_QUEUES" ]; then
		echo "lab: queues must be 1..$MAX_QUEUES" >&2
		exit 2
	fi
	in_dp ethtool -L dp0 rx "$n" tx "$n"
	in_dp ethtool -L dp0-br rx "$n" tx "$n"
}

# rx-cpus C S: each host's network stack runs on its own core. A frame
# crosses veth and the bridge on the core that sent it; from the veth of
# the host it is for onwards (that host's IP and TCP receive, the ACKs it
# sends, the transmissions those ACKs release) it runs on core C for the
# client (cl0) and on core S for the backend (be0), where the kernel-based
# servers run. Without it, that work runs on the sender's core, so a
# server pays for its client's TCP stack and not for its own (the
# benchmarks pin clients and servers to different cores:
# scripts/bench.sh). dp0 needs nothing: no kernel stack sits behind it
# (portcullis's runs in its worker), and veth's native XDP hands frames to
# the AF_XDP socket on the sender's core, as a NIC's DMA would.
# `rx-cpus off` puts it back.
rx_cpus() {
	local c=${1:-} s=${2:-}
	if [ "$c" = off ]; then
		c=0 s=0
	elif [[ "$c" =~ ^[0-9]+$ ]] && [[ "$s" =~ ^[0-9]+$ ]] && [ "$c" -lt 32 ] && [ "$s" -lt 32 ]; then
		c=$(printf '%x' $((1 << c))) s=$(printf '%x' $((1 << s)))
	else
		echo "lab: rx-cpus takes two core numbers (0..31), or off" >&2
		exit 2
	fi
	rps "$NS_CL" cl0 "$c"
	rps "$NS_BE" be0 "$s"
}

# rps NS DEV MASK: every RX queue of DEV (in NS) steers to the cores of MASK.
# (ip netns exec mounts the namespace's own /sys.)
rps() {
	# shellcheck disable=SC2016 # expanded by the namespace's shell
	ip netns exec "$1" sh -c 'for q in /sys/class/net/"$1"/queues/rx-*; do echo "$2" >"$q/rps_cpus"; done' - "$2" "$3"
}

# mtu N: the MTU of the client's and the backend's links, the bridge and
# dp0, for jumbo-frame comparisons (portcullis gets the same as `port mtu`
# and PC_MTU; net_af_xdp caps dp0 at about 3.5 KB, net_af_packet does
# not). The lossy client and TRex keep 1500: their bridge ports follow
# so that the bridge's own MTU (the smallest of its ports') does.
mtu() {
	local n=$1 ns link
	if ! [[ "$n" =~ ^[0-9]+$ ]] || [ "$n" -lt 576 ] || [ "$n" -gt 9000 ]; then
		echo "lab: mtu must be 576..9000" >&2
		exit 2
	fi
	for link in dp0 dp0-br cl0-br be0-br lossy-br tx0-br; do
		in_dp ip link set "$link" mtu "$n"
	done
	for ns in "$NS_CL:cl0" "$NS_BE:be0"; do
		ip -n "${ns%%:*}" link set "${ns#*:}" mtu "$n"
	done
}

relay_pid() { pc_live_pid "$IMPAIR_PID" pc_impair; }

impair() {
	local pid i
	if ! ns_exists "$NS_IM"; then
		echo "lab: no $NS_IM namespace (run: $0 up)" >&2
		exit 1
	fi
	if pid=$(relay_pid); then
		echo "lab: the relay is already running (pid $pid); stop it first: $0 impair-stop" >&2
		exit 1
	fi
	if [ ! -x "$IMPAIR_BIN" ]; then
		echo "lab: no $IMPAIR_BIN (build it: ninja -C ${PC_BUILD:-build/release})" >&2
		exit 1
	fi
	# ip netns exec execs pc_impair: $! is the relay's own PID.
	ip netns exec "$NS_IM" "$IMPAIR_BIN" --a ia0 --b ib0 "$@" \
		>"$IMPAIR_LOG" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$IMPAIR_PID"
	# Return once its sockets are bound, so that what is sent next is relayed.
	for ((i = 0; i < 100; i++)); do
		if grep -qx 'pc_impair: ready' "$IMPAIR_LOG"; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$IMPAIR_PID"
			echo "lab: pc_impair did not start:" >&2
			cat "$IMPAIR_LOG" >&2
			exit 1
		fi
		sleep 0.05
	done
	echo "lab: pc_impair did not become ready in 5 s" >&2
	relay_stop
	exit 1
}

# relay_stop: stops the relay by its PID (pc_stop_live), if it runs.
relay_stop() { pc_stop_live "$IMPAIR_PID" pc_impair; }

impair_stop() {
	if ! relay_pid >/dev/null; then
		echo "lab: no impairment relay running" >&2
		rm -f "$IMPAIR_PID"
		return 0
	fi
	relay_stop
	# The last counter dump: the one pc_impair printed on its way out.
	awk '/^pc_impair: counters$/ { n = 0; found = 1 } found { block[n++] = $0 }
		END { for (i = 0; i < n; i++) print block[i] }' "$IMPAIR_LOG"
}

down() {
	local ns
	# First: the relay and TRex hold their namespaces (and veths) alive.
	relay_stop
	rm -f "$IMPAIR_LOG"
	"$ROOT/scripts/trex.sh" purge
	rm -f "$(pc_memif_socket)"
	for ns in "$NS_LO" "$NS_IM" "$NS_TX" "$NS_CL" "$NS_BE" "$NS_DP"; do
		if ns_exists "$ns"; then
			ip netns delete "$ns"
		fi
	done
}

status() {
	local ns pid rc=0
	for ns in "$NS_DP" "$NS_CL" "$NS_BE" "$NS_LO" "$NS_IM" "$NS_TX"; do
		if ns_exists "$ns"; then
			echo "== $ns"
			ip -n "$ns" -br addr
		else
			echo "== $ns: absent"
			rc=1
		fi
	done
	if pid=$(relay_pid); then
		echo "== relay: pid $pid, log $IMPAIR_LOG"
	else
		echo "== relay: not running"
	fi
	return $rc
}

if [ "$(id -u)" -ne 0 ]; then
	echo "lab: must run as root" >&2
	exit 1
fi
case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
queues) queues "${2:-}" ;;
mtu) mtu "${2:-}" ;;
rx-cpus) rx_cpus "${2:-}" "${3:-}" ;;
impair)
	shift
	impair "$@"
	;;
impair-stop) impair_stop ;;
*)
	echo "usage: $0 up|down|status|queues N|mtu N|rx-cpus C S|rx-cpus off|impair [PC_IMPAIR_OPTION...]|impair-stop" >&2
	exit 2
	;;
esac
