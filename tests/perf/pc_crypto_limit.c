// SPDX-License-Identifier: MIT
/*
 * pc_crypto_limit: the crypto-only ceiling of one core, measured with the
 * same wolfCrypt portcullis links (build/wolfssl/prefix).
 *
 *   pc_crypto_limit [--seconds S] [--json FILE|-]
 *
 * Times what one full server-side TLS 1.3 mutual-TLS handshake with ECDSA
 * P-256 certificates and X25519 cannot do without: one ECDSA P-256 sign
 * (CertificateVerify), one X25519 key generation and one shared secret, two
 * ECDSA P-256 verifies: the client's CertificateVerify, with a key seen
 * once, and the client certificate's signature by its CA, whose key
 * portcullis's verifier checks with a precomputed table once it has
 * checked a few (patches/wolfssl/0015). Hashing, HKDF, record protection and
 * certificate parsing are left out, so real handshakes stay below this.
 * Bulk: AES-128-GCM encryption of 16 KiB records (TLS 1.3 nonce and
 * 5-byte header as AAD), in Gbit/s of plaintext.
 *
 * Every operation runs for --seconds (default 0.5) of this thread's CPU
 * time (CLOCK_THREAD_CPUTIME_ID), so another load on the core lengthens the
 * run but not the figures. Pin it (taskset) to the core being compared.
 *
 * JSON: tool, wolfssl, seconds_per_op, us{ecdsa_p256_sign, x25519_keygen,
 * x25519_shared, ecdsa_p256_verify, ecdsa_p256_verify_ca,
 * aes128gcm_16k_record}, handshake_us,
 * handshakes_per_s, aes128gcm_16k_gbps. Exit status 0, or 1 if an
 * operation failed (a wrong signature check counts as a failure).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <wolfssl/options.h>
#include <wolfssl/version.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/curve25519.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RECORD 16384

static double seconds_per_op = 0.5;
static WC_RNG rng;
static ecc_key ec_key;
/* ec_key's public half with its verify table, as a CA's key is used. */
static ecc_key ca_key;
static _Alignas(64) byte ca_table[WC_ECC_VERIFY_TABLE_SZ];
static byte digest[WC_SHA256_DIGEST_SIZE];
static byte sig[ECC_MAX_SIG_SIZE];
static word32 sig_len;
static curve25519_key peer;
static Aes aes;
static byte plain[RECORD], cipher[RECORD];
static uint64_t record_seq;

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One operation; false if it failed. */
typedef bool (*op_fn)(void);

static bool op_sign(void)
{
	byte out[ECC_MAX_SIG_SIZE]; /* not sig: op_verify checks that one */
	word32 len = sizeof(out);

	return wc_ecc_sign_hash(digest, sizeof(digest), out, &len, &rng, &ec_key) == 0;
}

static bool op_verify(void)
{
	int ok = 0;

	return wc_ecc_verify_hash(sig, sig_len, digest, sizeof(digest), &ok, &ec_key) == 0 &&
	       ok == 1;
}

static bool op_x25519_keygen(void)
{
	curve25519_key k;
	bool ok;

	if (wc_curve25519_init(&k) != 0)
		return false;
	ok = wc_curve25519_make_key(&rng, CURVE25519_KEYSIZE, &k) == 0;
	wc_curve25519_free(&k);
	return ok;
}

/* A fresh key per handshake, as the server generates one; the shared
 * secret alone is timed against a fixed own key to keep the two apart. */
static curve25519_key own;

static bool op_x25519_shared(void)
{
	byte out[CURVE25519_KEYSIZE];
	word32 len = sizeof(out);

	return wc_curve25519_shared_secret(&own, &peer, out, &len) == 0;
}

static bool op_verify_ca(void)
{
	int ok = 0;

	return wc_ecc_verify_hash(sig, sig_len, digest, sizeof(digest), &ok, &ca_key) == 0 &&
	       ok == 1;
}

static bool op_gcm_record(void)
{
	byte iv[12] = {0}, tag[16], aad[5] = {0x17, 0x03, 0x03, 0x40, 0x11};

	/* A distinct nonce per record, as TLS 1.3 derives it. */
	memcpy(iv + 4, &record_seq, sizeof(record_seq));
	record_seq++;
	return wc_AesGcmEncrypt(&aes, cipher, plain, RECORD, iv, sizeof(iv), tag, sizeof(tag),
				aad, sizeof(aad)) == 0;
}

/* Microseconds of CPU per operation, or a negative value on failure. */
static double time_op(const char *name, op_fn fn)
{
	uint64_t n = 0, batch = 1;
	double start, used;

	if (!fn()) { /* warm-up, and a first check */
		fprintf(stderr, "pc_crypto_limit: %s failed\n", name);
		return -1;
	}
	start = cpu_now();
	do {
		for (uint64_t i = 0; i < batch; i++)
			if (!fn()) {
				fprintf(stderr, "pc_crypto_limit: %s failed\n", name);
				return -1;
			}
		n += batch;
		used = cpu_now() - start;
		if (batch < 64)
			batch *= 2;
	} while (used < seconds_per_op);
	return used * 1e6 / (double)n;
}

static int setup(void)
{
	static const byte aes_key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	static const char msg[] = "portcullis CertificateVerify transcript";

	if (wc_InitRng(&rng) != 0 || wc_ecc_init(&ec_key) != 0 ||
	    wc_ecc_make_key_ex(&rng, 32, &ec_key, ECC_SECP256R1) != 0)
		return -1;
	if (wc_Sha256Hash((const byte *)msg, sizeof(msg) - 1, digest) != 0)
		return -1;
	sig_len = sizeof(sig);
	if (wc_ecc_sign_hash(digest, sizeof(digest), sig, &sig_len, &rng, &ec_key) != 0)
		return -1;
	byte pub[1 + 2 * 32];
	word32 pub_len = sizeof(pub);

	if (wc_ecc_export_x963(&ec_key, pub, &pub_len) != 0 || wc_ecc_init(&ca_key) != 0 ||
	    wc_ecc_import_x963_ex(pub, pub_len, &ca_key, ECC_SECP256R1) != 0 ||
	    wc_ecc_make_verify_table(&ca_key, ca_table, sizeof(ca_table)) != 0 ||
	    wc_ecc_use_verify_table(&ca_key, ca_table) != 0)
		return -1;
	if (wc_curve25519_init(&own) != 0 || wc_curve25519_init(&peer) != 0 ||
	    wc_curve25519_make_key(&rng, CURVE25519_KEYSIZE, &own) != 0 ||
	    wc_curve25519_make_key(&rng, CURVE25519_KEYSIZE, &peer) != 0)
		return -1;
	if (wc_AesInit(&aes, NULL, INVALID_DEVID) != 0 ||
	    wc_AesGcmSetKey(&aes, aes_key, sizeof(aes_key)) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (byte)(i * 131 + 7);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pc_crypto_limit [--seconds S] [--json FILE|-]\n"
		   "  --seconds  CPU seconds spent on each operation (default 0.5)\n"
		   "  --json     also write the result as JSON to FILE (-: stdout, table to stderr)\n");
}

int main(int argc, char **argv)
{
	const char *json = NULL;
	double sign, keygen, shared, verify, verify_ca, record, hs;
	FILE *table = stdout;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
			char *end;

			seconds_per_op = strtod(argv[++i], &end);
			if (*end || !(seconds_per_op > 0 && seconds_per_op <= 60)) {
				fprintf(stderr, "pc_crypto_limit: --seconds: 0 < S <= 60\n");
				return 1;
			}
		} else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
			json = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 1;
		}
	}
	if (json && strcmp(json, "-") == 0)
		table = stderr;
	if (setup() != 0) {
		fprintf(stderr, "pc_crypto_limit: wolfCrypt set-up failed\n");
		return 1;
	}
	sign = time_op("ECDSA P-256 sign", op_sign);
	verify = time_op("ECDSA P-256 verify", op_verify);
	verify_ca = time_op("ECDSA P-256 verify, CA key", op_verify_ca);
	keygen = time_op("X25519 key generation", op_x25519_keygen);
	shared = time_op("X25519 shared secret", op_x25519_shared);
	record = time_op("AES-128-GCM 16 KiB record", op_gcm_record);
	if (sign < 0 || verify < 0 || verify_ca < 0 || keygen < 0 || shared < 0 || record < 0)
		return 1;
	hs = sign + keygen + shared + verify + verify_ca;
	double hps = 1e6 / hs, gbps = RECORD * 8.0 / (record * 1e3);

	fprintf(table,
		"wolfSSL %s, CPU time per operation (%.2f s each):\n"
		"  ECDSA P-256 sign          %9.1f us\n"
		"  ECDSA P-256 verify        %9.1f us  (the client's CertificateVerify)\n"
		"  ECDSA P-256 verify, CA    %9.1f us  (the client certificate, by a table)\n"
		"  X25519 key generation     %9.1f us\n"
		"  X25519 shared secret      %9.1f us\n"
		"  full mTLS handshake       %9.1f us  = %.0f handshakes/s per core\n"
		"  AES-128-GCM 16 KiB record %9.2f us  = %.2f Gbit/s per core\n",
		LIBWOLFSSL_VERSION_STRING, seconds_per_op, sign, verify, verify_ca, keygen, shared,
		hs, hps, record, gbps);
	if (json) {
		FILE *f = strcmp(json, "-") == 0 ? stdout : fopen(json, "w");

		if (!f) {
			perror(json);
			return 1;
		}
		fprintf(f,
			"{\"tool\": \"pc_crypto_limit\", \"wolfssl\": \"%s\", \"seconds_per_op\": %g,\n"
			" \"us\": {\"ecdsa_p256_sign\": %.3f, \"x25519_keygen\": %.3f, "
			"\"x25519_shared\": %.3f, \"ecdsa_p256_verify\": %.3f, "
			"\"ecdsa_p256_verify_ca\": %.3f, \"aes128gcm_16k_record\": %.4f},\n"
			" \"handshake_us\": %.3f, \"handshakes_per_s\": %.1f, "
			"\"aes128gcm_16k_gbps\": %.3f}\n",
			LIBWOLFSSL_VERSION_STRING, seconds_per_op, sign, keygen, shared, verify,
			verify_ca, record, hs, hps, gbps);
		if (f != stdout)
			fclose(f);
	}
	wc_AesFree(&aes);
	wc_curve25519_free(&own);
	wc_curve25519_free(&peer);
	wc_ecc_free(&ca_key);
	wc_ecc_free(&ec_key);
	wc_FreeRng(&rng);
	return 0;
}
