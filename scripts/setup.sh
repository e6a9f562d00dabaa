#!/bin/bash
# SPDX-License-Identifier: MIT
# Idempotent machine set-up for portcullis on Debian 12, as root:
#   1. Debian packages the build, the tests and the benchmarks need;
#   2. wolfSSL built from Debian's source package with the optimized crypto
#      (AES-NI, SP-asm) and the TLS features crypto/ uses, plus our fixes
#      in patches/wolfssl, into build/wolfssl;
#   3. 2 MiB hugepages reserved and hugetlbfs mounted.
# Each step checks whether it is already done and skips itself if so.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/common.sh
. "$ROOT/scripts/common.sh"

PACKAGES=(
	build-essential pkg-config meson ninja-build clang llvm
	libclang-rt-14-dev
	dpdk dpdk-dev libdpdk-dev libbsd-dev libbpf-dev libxdp-dev libpcap-dev
	libnuma-dev libelf-dev
	liburcu-dev libcmocka-dev libssl-dev libedit-dev
	autoconf automake libtool dpkg-dev
	iproute2 nftables iputils-ping iputils-arping ethtool procps psmisc
	curl openssl python3 python3-scapy python3-pytest python3-cryptography python3-ecdsa socat
	nginx haproxy gnuplot-nox
	groff-base man-db systemd util-linux
	prometheus python3-prometheus-client
)

log() { printf 'setup: %s\n' "$*"; }

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: must run as root (packages, hugepages, namespaces)" >&2
		exit 1
	fi
}

install_packages() {
	local missing=()
	local p
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		log "packages: all present"
		return
	fi
	log "packages: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Debian 12 keeps its sources in deb822 form. The deb-src entry is derived
# from that file (same mirrors, suites and keyring), never a hard-coded host.
enable_deb_src() {
	local src=/etc/apt/sources.list.d/debian.sources
	local dst=/etc/apt/sources.list.d/portcullis-deb-src.sources
	if [ -f "$dst" ]; then
		return
	fi
	if [ -f "$src" ]; then
		sed -e 's/^Types:.*/Types: deb-src/' "$src" >"$dst"
	elif [ -f /etc/apt/sources.list ]; then
		grep -E '^deb ' /etc/apt/sources.list | sed -e 's/^deb /deb-src /' \
			>/etc/apt/sources.list.d/portcullis-deb-src.list
		touch "$dst"
	else
		echo "setup: no apt source found to derive a deb-src entry from" >&2
		exit 1
	fi
	apt-get update -q
}

# Our patches to wolfSSL (patches/wolfssl, applied in name order), as one
# line: NAME@SHA256-PREFIX for each. A build made with other patches, or
# other flags, is rebuilt.
wolfssl_patch_ids() {
	local p ids=()
	for p in "$ROOT"/patches/wolfssl/*.patch; do
		[ -f "$p" ] || continue
		ids+=("$(basename "$p" .patch)@$(sha256sum "$p" | cut -c1-12)")
	done
	echo "${ids[*]:-none}"
}

build_wolfssl() {
	local stamp="$WOLFSSL_PREFIX/.portcullis-flags"
	local patch_stamp="$WOLFSSL_PREFIX/.portcullis-patches"
	local patches
	patches=$(wolfssl_patch_ids)
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$WOLFSSL_BUILD_ID" ] &&
		[ -f "$patch_stamp" ] && [ "$(cat "$patch_stamp")" = "$patches" ] &&
		[ -f "$WOLFSSL_PREFIX/lib/libwolfssl.a" ]; then
		log "wolfSSL: optimized build present in $WOLFSSL_PREFIX"
		return
	fi
	enable_deb_src
	local work="$ROOT/build/wolfssl/src"
	rm -rf "$work"
	mkdir -p "$work"
	log "wolfSSL: fetching Debian source package"
	(cd "$work" && apt-get source -q --download-only wolfssl >/dev/null &&
		dpkg-source -x ./*.dsc wolfssl >/dev/null)
	local p
	for p in "$ROOT"/patches/wolfssl/*.patch; do
		[ -f "$p" ] || continue
		log "wolfSSL: applying $(basename "$p")"
		patch -d "$work/wolfssl" -p1 --quiet --forward <"$p"
	done
	log "wolfSSL: configuring ($WOLFSSL_BUILD_ID)"
	(
		cd "$work/wolfssl"
		./autogen.sh >autogen.log 2>&1
		# shellcheck disable=SC2086
		./configure --prefix="$WOLFSSL_PREFIX" $WOLFSSL_CONFIGURE_FLAGS CPPFLAGS="$WOLFSSL_CPPFLAGS" \
			>configure.log 2>&1
		log "wolfSSL: building"
		make -j"$(nproc)" >make.log 2>&1
		make install >install.log 2>&1
	)
	echo "$WOLFSSL_BUILD_ID" >"$stamp"
	echo "$patches" >"$patch_stamp"
	rm -rf "$work"
	log "wolfSSL: installed in $WOLFSSL_PREFIX"
}

setup_hugepages() {
	local want=${PC_HUGEPAGES:-512}
	local have
	have=$(cat /proc/sys/vm/nr_hugepages)
	if [ "$have" -lt "$want" ]; then
		echo "$want" >/proc/sys/vm/nr_hugepages
		have=$(cat /proc/sys/vm/nr_hugepages)
		if [ "$have" -lt "$want" ]; then
			echo "setup: only $have of $want 2 MiB hugepages could be reserved" >&2
			exit 1
		fi
	fi
	if ! grep -q ' /dev/hugepages hugetlbfs ' /proc/mounts; then
		mkdir -p /dev/hugepages
		mount -t hugetlbfs nodev /dev/hugepages
	fi
	log "hugepages: $have x 2 MiB, hugetlbfs on /dev/hugepages"
}

need_root
install_packages
build_wolfssl
setup_hugepages
