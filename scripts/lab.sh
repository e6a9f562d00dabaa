#!/bin/bash
# SPDX-License-Identifier: MIT
# The lab: network namespaces that stand for the terminator's NIC, a client
# and a backend, joined by a bridge. Nothing routes out of the machine.
#
#   pc-dp       the terminator's side. Holds the bridge pc-br and the veth
#               end dp0 that portcullis drives through a DPDK virtual device
#               (net_af_xdp or net_af_packet); dp0 carries no kernel address.
#               portcullis runs inside this namespace (ip netns exec pc-dp).
#   pc-client   cl0 198.18.0.2/24 (and 198.18.0.12/24, an address the tests
#               use to make portcullis ARP for an unknown neighbour)
#   pc-backend  be0 198.18.0.3/24
#   portcullis  198.18.0.1/24 (configured in portcullis, not in the kernel)
#
# Usage: scripts/lab.sh up|down|status|queues N   (idempotent, as root)
#
# dp0 is created with room for PC_LAB_MAX_QUEUES queue pairs and starts with
# one. `queues N` sets both veth ends to N (one per portcullis worker) before
# portcullis starts: veth's XDP wants at least as many RX queues on dp0 as
# its peer has TX queues, and every active queue needs an AF_XDP socket, or
# the frames steered to it are never seen.
set -euo pipefail

# PC_LAB=NAME builds a second, independent lab (NAME-dp, NAME-client,
# NAME-backend) so that the tests can run beside a demo or a benchmark.
LAB=${PC_LAB:-pc}
NS_DP=$LAB-dp
NS_CL=$LAB-client
NS_BE=$LAB-backend
MAX_QUEUES=${PC_LAB_MAX_QUEUES:-4}

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
}

up() {
	ns_add "$NS_DP"
	ns_add "$NS_CL"
	ns_add "$NS_BE"
	in_dp sysctl -qw net.ipv4.ip_forward=0
	in_dp sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	in_dp sysctl -qw net.ipv6.conf.default.disable_ipv6=1
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
	ip netns exec "$NS_CL" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$NS_BE" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip -n "$NS_CL" addr replace 198.18.0.2/24 dev cl0
	ip -n "$NS_CL" addr replace 198.18.0.12/24 dev cl0
	ip -n "$NS_BE" addr replace 198.18.0.3/24 dev be0
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

down() {
	local ns
	for ns in "$NS_CL" "$NS_BE" "$NS_DP"; do
		if ns_exists "$ns"; then
			ip netns delete "$ns"
		fi
	done
}

status() {
	local ns rc=0
	for ns in "$NS_DP" "$NS_CL" "$NS_BE"; do
		if ns_exists "$ns"; then
			echo "== $ns"
			ip -n "$ns" -br addr
		else
			echo "== $ns: absent"
			rc=1
		fi
	done
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
*)
	echo "usage: $0 up|down|status|queues N" >&2
	exit 2
	;;
esac
