#!/bin/bash
# SPDX-License-Identifier: MIT
# Sets up what is missing (packages, optimized wolfSSL, hugepages), builds
# portcullis, makes the demo PKI (build/demo-pki: a CA, a server certificate
# for portcullis.test, a client certificate), brings the lab up and runs
# portcullis on the demo config in the foreground: mutual TLS on 443 with
# the access log on this terminal. Ctrl-C stops it (the lab stays:
# scripts/lab.sh down).
#
# PC_PMD=af_xdp|af_packet|tap picks the DPDK virtual device (default af_xdp;
# tap: net_tap's own netdev, joined to the lab's bridge once it exists).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/common.sh
. "$ROOT/scripts/common.sh"

bash scripts/setup.sh
pc_drop_stale_build build/release
if [ ! -f build/release/build.ninja ]; then
	meson setup build/release >/dev/null
fi
ninja -C build/release >/dev/null
bash scripts/pki.sh build/demo-pki
bash scripts/lab.sh up
bash scripts/lab.sh queues 1

# The demo's config plus the control socket (tests start conf/demo.conf
# beside a running demo: the socket is the demo's alone).
{
	cat conf/demo.conf
	echo "control socket /run/portcullis.sock"
} >build/demo.conf

CURL="ip netns exec pc-client curl --resolve portcullis.test:443:198.18.0.1 --cacert build/demo-pki/ca.crt"
cat <<MSG
portcullis serves mutual TLS at https://portcullis.test/ (198.18.0.1) in the lab.
From another shell, in $ROOT:
  # 200, "identity: spiffe://portcullis.test/client":
  $CURL --cert build/demo-pki/client.crt --key build/demo-pki/client.key https://portcullis.test/
  # refused: the handshake ends with the certificate_required alert:
  $CURL https://portcullis.test/
  ip netns exec pc-client ping 198.18.0.1
  kill -USR1 $$              # counters on this terminal
  build/release/pcctl show hosts       # the control socket (/run/portcullis.sock)
  build/release/pcctl host default allow none    # a change, in effect at once
  build/release/pcctl                  # interactive: help, show ..., begin ... commit
Ctrl-C stops portcullis and prints its counters.
MSG
if [ "$PC_PMD_DEFAULT" = tap ]; then
	pc_tap_join pc-dp &
fi
# shellcheck disable=SC2046
exec ip netns exec pc-dp build/release/portcullis $(pc_eal_args "$PC_PMD_DEFAULT" 1) \
	-- -c build/demo.conf
