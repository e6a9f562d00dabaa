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
	af_xdp) vdev="net_af_xdp0,iface=dp0,start_queue=0,queue_count=$n" ;;
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
	*)
		echo "pc_eal_args: unknown PMD '$pmd' (af_xdp, af_packet or memif)" >&2
		return 2
		;;
	esac
	echo "--lcores $lcores --no-pci --in-memory --no-telemetry --vdev=$vdev"
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
