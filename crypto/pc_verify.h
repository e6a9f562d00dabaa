/* SPDX-License-Identifier: MIT */
/*
 * Client-certificate verification: the one implementation that the TLS
 * handshake (per hostname) and `portcullis verify` (offline) both run.
 *
 * Objects and threads:
 *  - struct pc_trust (trusted roots, CA-file intermediates, CRLs) is built
 *    and finalized by one thread (the management thread, or the offline
 *    verifier); after pc_trust_finalize() it is immutable and any number of
 *    workers may read it at once, without locks. In the TLS server it
 *    belongs to a ca-set version; crypto/tls_store.h says how long a
 *    worker may hold it (for its connection's life, pinned by generation).
 *  - pc_verify_chain() is reentrant: it only reads the trust and policy and
 *    allocates through wolfSSL's allocator (hugepage pools on workers).
 */
#ifndef PC_VERIFY_H
#define PC_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pc_verify_reason {
#define PC_VERIFY_REASON(name, text, alert, help) PC_VERIFY_##name,
#include "verify_reasons.def"
#undef PC_VERIFY_REASON
	PC_VERIFY_NB_REASONS
};

/* "expired", "unknown-ca", ...: the short name used in logs and counters. */
const char *pc_verify_reason_name(enum pc_verify_reason r);
/* One-sentence explanation (the help text of verify_reasons.def). */
const char *pc_verify_reason_help(enum pc_verify_reason r);
/* TLS alert description to send for r (0 for OK). */
uint8_t pc_verify_reason_alert(enum pc_verify_reason r);

/* Which purpose the leaf's extendedKeyUsage must allow. A leaf without an
 * EKU extension is accepted for any purpose (RFC 5280 4.2.1.12). */
enum pc_verify_eku {
	PC_VERIFY_EKU_CLIENT = 0, /* id-kp-clientAuth (or anyExtendedKeyUsage) */
	PC_VERIFY_EKU_SERVER,     /* id-kp-serverAuth (or anyExtendedKeyUsage) */
	PC_VERIFY_EKU_ANY,        /* no EKU check */
};

/* One identity allowlist entry. */
enum pc_identity_kind {
	PC_ID_DNS,   /* SAN dNSName */
	PC_ID_URI,   /* SAN uniformResourceIdentifier (SPIFFE IDs) */
	PC_ID_EMAIL, /* SAN rfc822Name */
	PC_ID_CN,    /* subject commonName */
};

#define PC_ID_PATTERN_MAX 256
struct pc_identity_pattern {
	enum pc_identity_kind kind;
	// exact (case-insensitive for dns/cn and the email domain; the email
	// local part and uri are case-sensitive), "*.suffix" wildcard for
	// dns/cn (one non-empty label), or for uri a prefix ending in "/*"
	// ("spiffe://example.org/ns/prod/*" matches every ID under that path,
	// not the path itself; the prefix must end at a '/' boundary).
	char pattern[PC_ID_PATTERN_MAX];
};

#define PC_VERIFY_MAX_ALLOW 16
#define PC_VERIFY_MAX_DEPTH 8

struct pc_verify_policy {
	/* Most intermediate CA certificates between the leaf and the trusted
	 * root, counted as OpenSSL's -verify_depth and nginx's
	 * ssl_verify_depth count them (openssl 3.0: leaf + 1 intermediate
	 * passes -verify_depth 1 and fails -verify_depth 0): 0 = the leaf
	 * must be issued by a trusted root directly. 0..PC_VERIFY_MAX_DEPTH */
	uint8_t max_depth;
	enum pc_verify_eku eku;
	unsigned int nb_allow;  /* 0 = any identity */
	const struct pc_identity_pattern *allow; /* nb_allow patterns, owned by the caller */
};

/* Defaults: max_depth 4, EKU client, no allowlist. */
void pc_verify_policy_defaults(struct pc_verify_policy *p);

/* Parse "dns:PATTERN", "uri:PATTERN", "email:PATTERN" or "cn:PATTERN".
 * Returns 0, or -1 with a message in err. */
int pc_identity_parse(const char *spec, struct pc_identity_pattern *out, char *err,
		      size_t errlen);
/* Does value (a leaf name of the pattern's kind) match p? */
bool pc_identity_match(const struct pc_identity_pattern *p, const char *value);

struct pc_trust;

/* Builder: an empty trust object. NULL on allocation failure. */
struct pc_trust *pc_trust_new(void);
/* Add every certificate of a PEM file (roots and intermediates; each must
 * be a CA: basicConstraints CA:TRUE). Returns 0, or -1 with a message
 * naming the file and the problem in err; on error nothing is added. */
int pc_trust_add_ca_file(struct pc_trust *t, const char *path, char *err, size_t errlen);
/* The same from memory (PEM text). */
int pc_trust_add_ca_pem(struct pc_trust *t, const char *pem, size_t len, char *err,
			size_t errlen);
/* Add a CRL file (PEM or DER, one or several CRLs). */
int pc_trust_add_crl_file(struct pc_trust *t, const char *path, char *err, size_t errlen);
/* The same from memory. */
int pc_trust_add_crl_mem(struct pc_trust *t, const uint8_t *buf, size_t len, char *err,
			 size_t errlen);
/* Check the whole object: at least one self-signed root, every CRL's
 * signature verified with the key of a CA in the set that issued it
 * (a CRL from an unknown issuer or with a bad signature is refused, the
 * whole object with it). After this, the object is immutable. */
int pc_trust_finalize(struct pc_trust *t, char *err, size_t errlen);
/* An operator's deny list: the certificate with this serial (hex, up to
 * 20 bytes), issued by any CA of the set, fails as revoked, with or
 * without a CRL. Before pc_trust_finalize(). 0, or -1 with err set. */
int pc_trust_revoke_serial(struct pc_trust *t, const char *hex, char *err, size_t errlen);
/* A serial as the deny list keeps it: lowercase hex without leading
 * zeros, in out (41 bytes). 0, or -1 if hex is not a serial. */
int pc_serial_normalize(const char *hex, char out[41]);
/* Number of CA certificates / CRLs / denied serials (for status commands). */
unsigned int pc_trust_nb_cas(const struct pc_trust *t);
unsigned int pc_trust_nb_crls(const struct pc_trust *t);
unsigned int pc_trust_nb_denied(const struct pc_trust *t);
/* The i-th CA's subject ("/O=.../CN=...") and notAfter; the i-th CRL's
 * issuer and nextUpdate (Unix seconds). For status commands. */
void pc_trust_ca_info(const struct pc_trust *t, unsigned int i, char *subject, size_t len,
		      int64_t *not_after);
void pc_trust_crl_info(const struct pc_trust *t, unsigned int i, char *issuer, size_t len,
		       int64_t *next_update);
void pc_trust_free(struct pc_trust *t);

/* The first certificate of a DER chain: its subject (one line), notAfter
 * and public key type (wolfSSL's ECDSAk, RSAk, ...). 0, or -1 if it does
 * not parse. */
int pc_cert_summary(const uint8_t *der, size_t len, char *subject, size_t subject_len,
		    int64_t *not_after, int *key_oid);

struct pc_verify_result {
	enum pc_verify_reason reason;
	int depth;             /* index in the chain of the certificate that failed (0 = leaf;
				* for malformed, the index in der[]), -1 when verified */
	unsigned int chain_len; /* verified: certificates in the chain, root included */
	char subject[256];     /* leaf subject, one line ("/O=.../CN=..."), "" if unparsed */
	char issuer[256];      /* leaf issuer, same form */
	char serial[66];       /* leaf serial, hex, "" if unparsed */
	char identity[256];    /* the allowlist entry's matching value, else the first SAN URI, else DNS, else CN */
};

#define PC_VERIFY_MAX_PEER 10

/* Verify a chain as a TLS peer sent it: der[0] is the leaf, der[1..n-1]
 * the intermediates it sent (any order, extra certificates ignored; only
 * the first PC_VERIFY_MAX_PEER are looked at, and each must parse).
 * Chains are built from the leaf through the peer's intermediates and
 * the trust object's CA-file certificates to a self-signed root in the
 * trust object; then every check runs (signature, validity at now,
 * basicConstraints/keyUsage of issuers, pathLen, depth, leaf keyUsage and
 * EKU, CRLs for every certificate below the root when the trust object
 * has any CRL, identity allowlist). The first failure is reported, in
 * that order of checks; out is always filled as far as parsing went.
 * now: seconds since the Unix epoch. A trust object that is not
 * finalized trusts nothing (unknown-ca). Runs on the caller's stack (about
 * 20 KiB); wolfSSL's parser allocates through wolfSSL's allocator. */
enum pc_verify_reason pc_verify_chain(const struct pc_trust *t,
				      const struct pc_verify_policy *pol,
				      const uint8_t *const *der, const uint32_t *der_len,
				      unsigned int n, int64_t now,
				      struct pc_verify_result *out);

/* `portcullis verify ...`: the offline verifier (argv[0] = "verify").
 * Returns the process exit code: 0 OK, 1 FAIL, 2 usage or file error. */
int pc_verify_main(int argc, char **argv);

#endif
