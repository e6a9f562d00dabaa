#!/bin/bash
# SPDX-License-Identifier: MIT
# Test PKI, generated at run time (keys and certificates are never committed).
#
#   scripts/pki.sh OUTDIR [NAME...]
#
# NAMEs are the server certificate's subjectAltNames: DNS names (wildcards
# allowed) or IP addresses. Default: localhost portcullis.test
# *.portcullis.test 198.18.0.1 198.18.0.3 127.0.0.1.
#
# Writes, all ECDSA P-256 / SHA-256:
#   ca.crt ca.key            root CA (CA:TRUE, keyCertSign, cRLSign)
#   server.crt server.key    serverAuth, SANs as above
#   client.crt client.key    clientAuth, CN=client.portcullis.test,
#                            SAN URI spiffe://portcullis.test/client
#   server.pem client.pem    certificate + key in one file (ab -E, haproxy)
#   server.sans              the names server.crt was made for
#
# Idempotent: a file set is kept while it chains to ca.crt, is valid for at
# least another day and (server) carries the requested names; otherwise it
# is made again. A new CA remakes both leaves.
set -euo pipefail

DAYS_CA=3650
DAYS_LEAF=365
KEEP_SECONDS=86400

[ $# -ge 1 ] || {
	echo "usage: $0 OUTDIR [NAME...]" >&2
	exit 2
}
OUT=$1
shift
NAMES=("$@")
[ ${#NAMES[@]} -gt 0 ] || NAMES=(localhost portcullis.test '*.portcullis.test' 198.18.0.1 198.18.0.3 127.0.0.1)

mkdir -p "$OUT"
umask 077 # keys (and the .pem files holding them) are for us only

# subjectAltName value for NAMES.
server_sans() {
	local n sans=()
	for n in "${NAMES[@]}"; do
		if [[ $n =~ ^[0-9.]+$ || $n == *:* ]]; then
			sans+=("IP:$n")
		else
			sans+=("DNS:$n")
		fi
	done
	local IFS=,
	echo "${sans[*]}"
}

# still_good NAME: NAME.crt and NAME.key exist, the certificate chains to
# the CA (or is the CA) and stays valid for KEEP_SECONDS.
still_good() {
	local crt=$OUT/$1.crt
	[ -s "$crt" ] && [ -s "$OUT/$1.key" ] &&
		openssl x509 -in "$crt" -noout -checkend "$KEEP_SECONDS" >/dev/null 2>&1 &&
		openssl verify -CAfile "$OUT/ca.crt" "$crt" >/dev/null 2>&1
}

new_key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

# leaf NAME SUBJECT EXTENSIONS: a key and a certificate signed by the CA,
# plus NAME.pem (certificate then key).
leaf() {
	local name=$1 subj=$2 ext=$3
	new_key "$OUT/$name.key"
	openssl req -new -key "$OUT/$name.key" -subj "$subj" -out "$OUT/$name.csr"
	openssl x509 -req -in "$OUT/$name.csr" -CA "$OUT/ca.crt" -CAkey "$OUT/ca.key" \
		-set_serial "0x$(openssl rand -hex 16)" -days "$DAYS_LEAF" -sha256 \
		-extfile <(printf '%s\n' "$ext") -out "$OUT/$name.crt" 2>/dev/null
	rm -f "$OUT/$name.csr"
	chmod 644 "$OUT/$name.crt"
	cat "$OUT/$name.crt" "$OUT/$name.key" >"$OUT/$name.pem"
	echo "pki: made $OUT/$name.crt" >&2
}

SANS=$(server_sans)
remake_leaves=false
if ! still_good ca; then
	new_key "$OUT/ca.key"
	openssl req -x509 -new -key "$OUT/ca.key" -sha256 -days "$DAYS_CA" \
		-subj "/O=portcullis test/CN=portcullis test root CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash" -out "$OUT/ca.crt"
	chmod 644 "$OUT/ca.crt"
	echo "pki: made $OUT/ca.crt" >&2
	remake_leaves=true
fi

if $remake_leaves || ! still_good server || [ "$(cat "$OUT/server.sans" 2>/dev/null)" != "$SANS" ] ||
	[ ! -s "$OUT/server.pem" ]; then
	leaf server "/O=portcullis test/CN=${NAMES[0]}" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$SANS
authorityKeyIdentifier=keyid"
	echo "$SANS" >"$OUT/server.sans"
fi

if $remake_leaves || ! still_good client || [ ! -s "$OUT/client.pem" ]; then
	leaf client "/O=portcullis test/CN=client.portcullis.test" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectAltName=URI:spiffe://portcullis.test/client
authorityKeyIdentifier=keyid"
fi
