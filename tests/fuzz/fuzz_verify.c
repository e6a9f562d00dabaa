/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the verifier's inputs: CA PEM, CRLs (PEM or DER), the peer's DER
 * chain and identity patterns. An input is a sequence of records
 *   [kind: 1 byte][length: 2 bytes big-endian][bytes]
 * kind % 6: 0 CA PEM text, 1 CRL bytes, 2 a peer certificate (DER, in
 * order), 3 an allowlist pattern spec, 4 the time to verify at (8 bytes,
 * big-endian Unix seconds; 2026-01-01 without it: seeds.py gives the
 * time the seed PKI was made), 5 a serial for the deny list (hex). The trust object is then finalized
 * and, if it is accepted, the chain verified at a fixed time; every
 * outcome must be a known reason and the result strings terminated, and
 * with the leaf as a TLS handshake decodes it (check_decoded) the result
 * must be the same.
 */
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn.h>

#include "pc_verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOW 1767225600

/* pc_verify_chain_decoded() on the leaf as wolfSSL's handshake decodes
 * it, with VERIFY and no CA (patches/wolfssl/0023) or, for a leaf sent
 * alone, with NO_VERIFY (0024), gives want, byte for byte. */
static void check_decoded(const struct pc_trust *t, const struct pc_verify_policy *pol,
			  const uint8_t *const *der, const uint32_t *len, unsigned int n,
			  int64_t now, const struct pc_verify_result *want)
{
	static const struct {
		int verify, whole;
	} modes[] = {{VERIFY, ASN_NO_SIGNER_E}, {NO_VERIFY, 0}};
	static WOLFSSL_CERT_MANAGER *cm; /* no CA, as a TLS context's */
	struct pc_verify_result got;
	DecodedCert dc;

	if (cm == NULL && (cm = wolfSSL_CertManagerNew()) == NULL)
		abort();
	for (unsigned int m = 0; m < 2; m++) {
		wc_InitDecodedCert(&dc, der[0], len[0], NULL);
		dc.noX509Names = 1;
		if (ParseCertRelative(&dc, CERT_TYPE, modes[m].verify, cm) == modes[m].whole &&
		    (pc_verify_chain_decoded(t, pol, &dc, der, len, n, now, &got) != want->reason ||
		     memcmp(&got, want, sizeof(got)) != 0))
			abort();
		wc_FreeDecodedCert(&dc);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *der[PC_VERIFY_MAX_PEER + 2];
	uint32_t der_len[PC_VERIFY_MAX_PEER + 2];
	unsigned int n = 0;
	struct pc_trust *t = pc_trust_new();
	struct pc_verify_policy pol;
	struct pc_identity_pattern allow[PC_VERIFY_MAX_ALLOW];
	struct pc_verify_result res;
	char err[512];
	int64_t now = FUZZ_NOW;

	if (t == NULL)
		abort();
	pc_verify_policy_defaults(&pol);
	pol.allow = allow;
	while (size >= 3) {
		uint8_t kind = data[0] % 6;
		size_t len = (size_t)data[1] << 8 | data[2];

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		if (kind == 0) {
			pc_trust_add_ca_pem(t, (const char *)data, len, err, sizeof(err));
		} else if (kind == 1) {
			pc_trust_add_crl_mem(t, data, len, err, sizeof(err));
		} else if (kind == 2) {
			if (n < PC_VERIFY_MAX_PEER + 2) {
				der[n] = data;
				der_len[n++] = (uint32_t)len;
			}
		} else if (kind == 4) {
			now = 0;
			for (size_t i = 0; i < len && i < 8; i++)
				now = (int64_t)((uint64_t)now << 8 | data[i]);
		} else if (kind == 5) {
			char hex[48];
			size_t l = len < sizeof(hex) - 1 ? len : sizeof(hex) - 1;

			memcpy(hex, data, l);
			hex[l] = '\0';
			pc_trust_revoke_serial(t, hex, err, sizeof(err));
		} else if (pol.nb_allow < PC_VERIFY_MAX_ALLOW) {
			char spec[PC_ID_PATTERN_MAX + 16];
			size_t l = len < sizeof(spec) - 1 ? len : sizeof(spec) - 1;

			memcpy(spec, data, l);
			spec[l] = '\0';
			if (pc_identity_parse(spec, &allow[pol.nb_allow], err, sizeof(err)) == 0)
				pol.nb_allow++;
		}
		data += len;
		size -= len;
	}
	if (pc_trust_finalize(t, err, sizeof(err)) == 0) {
		enum pc_verify_reason r = pc_verify_chain(t, &pol, der, der_len, n, now, &res);

		if (r >= PC_VERIFY_NB_REASONS || r != res.reason ||
		    memchr(res.subject, 0, sizeof(res.subject)) == NULL ||
		    memchr(res.identity, 0, sizeof(res.identity)) == NULL ||
		    memchr(res.serial, 0, sizeof(res.serial)) == NULL ||
		    (r == PC_VERIFY_OK || r == PC_VERIFY_NO_CERT) != (res.depth == -1))
			abort();
		if (n > 0)
			check_decoded(t, &pol, der, der_len, n, now, &res);
	}
	pc_trust_free(t);
	return 0;
}
