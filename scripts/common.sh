# SPDX-License-Identifier: MIT
# Shared settings for the scripts; sourced, not run.

# shellcheck disable=SC2034
WOLFSSL_PREFIX="$ROOT/build/wolfssl/prefix"

# The optimized crypto (AES-NI, SP-asm) and every TLS feature crypto/ uses;
# handshake messages up to 64 KiB (wolfSSL's default stops near 20 KB: a
# ClientHello with post-quantum key shares or many extensions is bigger);
# 768 spare bytes in a session ticket for the claims crypto/tls_ticket.c
# seals with wolfSSL's state (the verified client's names: 662 at most).
# meson reads the stamp written next to the library and refuses a build
# without the optimized flags.
WOLFSSL_CONFIGURE_FLAGS="--enable-intelasm --enable-aesni --enable-sp --enable-sp-asm \
--enable-tls13 --enable-sni --enable-alpn --enable-session-ticket --enable-crl \
--enable-ocsp --enable-certext --enable-opensslextra --enable-curve25519 \
--enable-ed25519 --enable-altcertchains \
--enable-static --disable-shared --disable-examples --disable-crypttests"
WOLFSSL_CPPFLAGS="-DMAX_HANDSHAKE_SZ=65536 -DWOLFSSL_TICKET_EXTRA_PADDING_SZ=768"
# What the stamp records and `portcullis version` prints.
WOLFSSL_BUILD_ID="$WOLFSSL_CONFIGURE_FLAGS CPPFLAGS=$WOLFSSL_CPPFLAGS"

# The DPDK virtual device on the lab's dp0 that portcullis drives by default
# (net_af_xdp was measured faster than net_af_packet: see README).
PC_PMD_DEFAULT=${PC_PMD:-af_xdp}

# TRex in the lab (scripts/trex.sh): its port's address on the lab's
# segment (namespace LAB-trex, or the far end of the memif link), and the
# client addresses it opens connections from, which portcullis (`ip
# gateway`) and the backend's kernel route back through that address.
PC_TREX_ADDR=198.18.0.20
PC_TREX_CLIENTS=198.18.16.0/20
PC_TREX_CLIENT_RANGE=198.18.16.1-198.18.31.254

# pc_memif_socket: the Unix socket of the lab's memif link (PC_PMD=memif):
# portcullis is the memif server and creates it, TRex connects to it.
pc_memif_socket() {
	echo "/run/portcullis-lab-${PC_LAB:-pc}-memif.sock"
}

# pc_eal_args PMD WORKERS: EAL arguments for portcullis in the lab. Lcore 0
# (management) runs on CPU 0; workers are lcores 1..WORKERS, spread over the
# CPUs starting at CPU 1 (on a 2-core machine several may share one).
# --in-memory leaves no hugepage files or runtime directory behind, so a
# new instance can start as soon as the last one exits.
pc_eal_args() {
	local pmd=${1:-$PC_PMD_DEFAULT} n=${2:-1}
	local ncpu i lcores="0@0"
	ncpu=$(nproc)
	for ((i = 1; i <= n; i++)); do
		lcores+=",$i@$(((i - 1) % (ncpu > 1 ? ncpu - 1 : 1) + (ncpu > 1 ? 1 : 0)))"
	done
	local vdev
	case "$pmd" in
	# busy_budget=0: no recvfrom() on every empty RX poll (the driver's
	# preferred busy polling, on by default, makes one to run the
	# device's NAPI from the worker); veth's XDP fills the socket from the
	# sender's core without it (README, "The lab").
	af_xdp) vdev="net_af_xdp0,iface=dp0,start_queue=0,queue_count=$n,busy_budget=0" ;;
	af_packet)
		vdev="net_af_packet0,iface=dp0,qpairs=$n"
		# Jumbo frames (PC_MTU, the `port mtu` of portcullis's config):
		# frame slots of one frame rounded up to 256 bytes, as
		# portcullis's mbufs (dataplane/port.c). The driver expects the
		# slots back to back, so a block (whole pages) holds a whole
		# number of them: the least common multiple of slot and page.
		local mtu=${PC_MTU:-1500}
		if [ "$mtu" -gt 1500 ]; then
			local frame=$((((mtu + 18 + 255) / 256) * 256)) a b t
			a=$frame b=4096
			while [ "$b" -ne 0 ]; do t=$((a % b)) a=$b b=$t; done
			vdev+=",framesz=$frame,blocksz=$((frame / a * 4096)),framecnt=512"
		fi
		;;
	# Shared memory with TRex, no kernel in the path (scripts/trex.sh).
	# One worker: TRex drives one queue pair. A socket file left by a
	# portcullis that was killed makes the server's bind fail: callers
	# remove it before starting.
	memif) vdev="net_memif0,role=server,socket=$(pc_memif_socket),socket-abstract=no" ;;
	# A tap netdev of portcullis's own (net_tap does TSO and checksums in
	# software, one writev per packet: not faster, but it takes the
	# offload paths). It joins the lab's bridge once portcullis has
	# started (pc_tap_join) and goes away with the process. The port
	# takes dp0's MAC, so that the lab's hosts find portcullis where
	# their neighbour caches say, whichever PMD ran before.
	tap)
		local mac
		mac=$(ip -n "${PC_LAB:-pc}-dp" -br link show dp0 | awk '{print $3}')
		vdev="net_tap0,iface=$PC_TAP_IFACE,mac=$mac"
		;;
	*)
		echo "pc_eal_args: unknown PMD '$pmd' (af_xdp, af_packet, tap or memif)" >&2
		return 2
		;;
	esac
	echo "--lcores $lcores --no-pci --in-memory --no-telemetry --vdev=$vdev"
}

# The tap netdev net_tap creates in the dataplane namespace (PMD tap).
PC_TAP_IFACE=dptap0

# pc_tap_join NS: once portcullis (PMD tap) runs in namespace NS, makes
# its tap a port of the lab's bridge, as dp0 is. net_tap gives the netdev
# portcullis's own MAC, which a bridge takes for a local address (frames
# to it would stop at the bridge): the netdev gets another one first. The
# bridge may have learned portcullis's MAC (dp0's) behind dp0 in an
# earlier run: a static entry sends it to the tap at once (and goes with
# the tap). Waits up to 30 s for the tap to appear; fails if it does not.
pc_tap_join() {
	local ns=$1 i mac pc_mac
	mac=$(printf '02:70:%02x:%02x:%02x:%02x' $((RANDOM % 256)) $((RANDOM % 256)) \
		$((RANDOM % 256)) $((RANDOM % 256)))
	for ((i = 0; i < 300; i++)); do
		if ip -n "$ns" link show "$PC_TAP_IFACE" >/dev/null 2>&1; then
			pc_mac=$(ip -n "$ns" -br link show "$PC_TAP_IFACE" | awk '{print $3}')
			ip -n "$ns" link set "$PC_TAP_IFACE" address "$mac"
			ip -n "$ns" link set "$PC_TAP_IFACE" master pc-br up
			ip netns exec "$ns" bridge fdb replace "$pc_mac" dev "$PC_TAP_IFACE" \
				master static
			return 0
		fi
		sleep 0.1
	done
	echo "pc_tap_join: no $PC_TAP_IFACE in $ns (is portcullis running with PMD tap?)" >&2
	return 1
}

# pc_live_pid PIDFILE NAME: prints the PID that PIDFILE holds if it is a
# live process whose executable is NAME (not a process that has since
# reused the PID, nor a zombie waiting for a parent that does not reap it).
pc_live_pid() {
	local pid exe state
	[ -f "$1" ] || return 1
	pid=$(<"$1")
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
	case "$exe" in
	*/"$2" | */"$2 (deleted)") ;;
	*) return 1 ;;
	esac
	read -r _ _ state _ <"/proc/$pid/stat" || return 1
	[ "$state" != Z ] || return 1
	echo "$pid"
}

# pc_stop_live PIDFILE NAME: SIGTERM to that process (SIGKILL after 10 s),
# waits until it is gone and removes PIDFILE. Nothing to do when it does
# not run.
pc_stop_live() {
	local pid i
	if pid=$(pc_live_pid "$1" "$2"); then
		kill -TERM "$pid"
		for ((i = 0; i < 100; i++)); do
			pc_live_pid "$1" "$2" >/dev/null || break
			sleep 0.1
		done
		if pc_live_pid "$1" "$2" >/dev/null; then
			kill -KILL "$pid"
		fi
	fi
	rm -f "$1"
}

# pc_drop_stale_build DIR: removes a meson build directory configured
# before wolfSSL was last rebuilt (new flags or patches), which would keep
# linking the old library and report the old flags.
pc_drop_stale_build() {
	local dir=$1
	if [ -f "$dir/build.ninja" ] && [ "$WOLFSSL_PREFIX/lib/libwolfssl.a" -nt "$dir/build.ninja" ]; then
		rm -rf "$dir"
	fi
}
