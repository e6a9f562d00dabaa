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
	PC_ID_IP,    /* SAN iPAddress, IPv4 or IPv6 */
};

#define PC_ID_PATTERN_MAX 256
struct pc_identity_pattern {
	enum pc_identity_kind kind;
	// exact (case-insensitive for dns/cn and the email domain; the email
	// local part and uri are case-sensitive; '*' in an email is a literal
	// character, as RFC 5280 reads it), "*.suffix" wildcard for dns/cn
	// (one non-empty label), or for uri a prefix ending in "/*"
	// ("spiffe://example.org/ns/prod/*" matches every ID under that path,
	// not the path itself; the prefix must end at a '/' boundary). An
	// exact dns pattern also matches a leaf's wildcard SAN "*.suffix"
	// that covers it (one label, RFC 6125 6.4.3). ip: an address, kept in
	// inet_ntop's canonical form.
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
	/* Smallest RSA modulus anywhere in the chain (OpenSSL's security
	 * level 2 on Debian: 2048). EC keys must be P-256, P-384 or P-521. */
	uint16_t min_rsa_bits;
	unsigned int nb_allow;  /* 0 = any identity */
	const struct pc_identity_pattern *allow; /* nb_allow patterns, owned by the caller */
};

/* Defaults: max_depth 4, EKU client, RSA 2048 bits, no allowlist. */
void pc_verify_policy_defaults(struct pc_verify_policy *p);

/* Parse "dns:PATTERN", "uri:PATTERN", "email:PATTERN", "cn:PATTERN" or
 * "ip:ADDRESS".
 * Returns 0, or -1 with a message in err. */
int pc_identity_parse(const char *spec, struct pc_identity_pattern *out, char *err,
		      size_t errlen);
/* Does value (a leaf name of the pattern's kind) match p? */
bool pc_identity_match(const struct pc_identity_pattern *p, const char *value);

struct pc_trust;

/* SHA-256 over what decides a verification: a trust object's content
 * (pc_trust_digest) and a policy's settings (pc_verify_policy_digest).
 * Equal digests, equal verdicts, in any process: session tickets and the
 * verified-chain cache are keyed by them. */
#define PC_TRUST_DIGEST_LEN 32
int pc_verify_policy_digest(const struct pc_verify_policy *p, uint8_t out[PC_TRUST_DIGEST_LEN]);

/* Builder: an empty trust object. NULL on allocation failure. */
struct pc_trust *pc_trust_new(void);
/* Add every certificate of a PEM file (roots and intermediates; each must
 * parse and be a CA: basicConstraints CA:TRUE). Every one is a trust
 * anchor (below). A certificate that parses but that the verifier cannot
 * use (an unknown critical extension, a weak key, a broken RFC 5280
 * rule: pc_trust_ca_unusable) is kept, not refused: it fails the chains
 * that go through it, with that reason, and no other (OpenSSL skips such
 * a certificate; a bundle with one unusable root still serves the
 * others). Returns 0, or -1 with a message naming the file and the
 * problem in err; on error nothing is added. */
int pc_trust_add_ca_file(struct pc_trust *t, const char *path, char *err, size_t errlen);
/* The same from memory (PEM text). */
int pc_trust_add_ca_pem(struct pc_trust *t, const char *pem, size_t len, char *err,
			size_t errlen);
/* Add a CRL file (PEM or DER, one or several CRLs). */
int pc_trust_add_crl_file(struct pc_trust *t, const char *path, char *err, size_t errlen);
/* The same from memory. */
int pc_trust_add_crl_mem(struct pc_trust *t, const uint8_t *buf, size_t len, char *err,
			 size_t errlen);
/* Check the whole object: at least one CA; every CRL whose issuer is a
 * CA of the set verified with its key (a bad signature refuses the whole
 * object). A CRL whose issuer is not in the set is kept for the
 * intermediate that clients send: its signature is checked against that
 * certificate during verification, once per worker thread. A CRL that
 * parses but cannot be used (pc_trust_crl_unusable) is kept and ignored:
 * the certificates it would cover fail as crl-missing. After this, the
 * object is immutable. */
int pc_trust_finalize(struct pc_trust *t, char *err, size_t errlen);
/* An operator's deny list: the certificate with this serial (hex, up to
 * 20 bytes), issued by any CA of the set, fails as revoked, with or
 * without a CRL. Before pc_trust_finalize(). 0, or -1 with err set. */
int pc_trust_revoke_serial(struct pc_trust *t, const char *hex, char *err, size_t errlen);
/* A serial as the deny list keeps it: lowercase hex without leading
 * zeros, in out (41 bytes). 0, or -1 if hex is not a serial. */
int pc_serial_normalize(const char *hex, char out[41]);
/* Why the i-th CA certificate / CRL cannot be used, NULL if it can (for
 * warnings). */
const char *pc_trust_ca_unusable(const struct pc_trust *t, unsigned int i);
const char *pc_trust_crl_unusable(const struct pc_trust *t, unsigned int i);
/* Would next go back in a CRL series of cur: is next's newest CRL of an
 * issuer (same name and, when both are known, key) and scope
 * (issuingDistributionPoint) older, by cRLNumber, than cur's newest of
 * the same? true with the issuer and both numbers in err. For replacing
 * a trust object at run time (RFC 5280 5.2.3: numbers only grow within a
 * series). */
bool pc_trust_crl_regressed(const struct pc_trust *cur, const struct pc_trust *next, char *err,
			    size_t errlen);
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
/* Has the i-th CA's key a table for its signature checks yet (verify.c
 * says when one is made)? */
bool pc_trust_ca_key_table(const struct pc_trust *t, unsigned int i);
void pc_trust_free(struct pc_trust *t);
/* The digest of a finalized trust object (its CAs, CRLs, denied serials). */
const uint8_t *pc_trust_digest(const struct pc_trust *t);

/* The first certificate of a DER chain: its subject (one line), notAfter
 * and public key type (wolfSSL's ECDSAk, RSAk, ...). 0, or -1 if it does
 * not parse. */
int pc_cert_summary(const uint8_t *der, size_t len, char *subject, size_t subject_len,
		    int64_t *not_after, int *key_oid);
/* Its signature algorithm and key, as OpenSSL names them
 * ("ecdsa-with-SHA256", "RSA-SHA256") and as HAProxy writes the key
 * ("EC256", "RSA2048"). 0, or -1 if it does not parse. */
int pc_cert_algs(const uint8_t *der, size_t len, char *sig_alg, size_t sig_alg_len,
		 char *key_alg, size_t key_alg_len);

/* The subjectAltName entries of a certificate (DER) on one line, for the
 * HTTP proxy's X-SSL-Client-SAN: "DNS:a.example,URI:spiffe://x/y,
 * email:u@example.com,IP:198.18.0.1" (other kinds of name left out), in
 * certificate order, '%', ',' and bytes outside printable ASCII
 * percent-encoded ("%2C"). Its length ("" and 0 without names), or -1
 * when the certificate does not parse or the line would not fit in cap
 * bytes with its NUL. */
int pc_cert_san_line(const uint8_t *der, size_t len, char *out, size_t cap);

struct pc_verify_result {
	enum pc_verify_reason reason;
	int depth;             /* index in the chain of the certificate that failed (0 = leaf;
				* for malformed, the index in der[]), -1 when verified */
	unsigned int chain_len; /* verified: certificates in the chain, root included */
	char subject[256];     /* leaf subject, one line ("/O=.../CN=..."), "" if unparsed */
	char issuer[256];      /* leaf issuer, same form */
	char serial[66];       /* leaf serial, hex, "" if unparsed */
	char identity[256];    /* the allowlist entry's matching value, else the first SAN URI, else DNS, else IP, else CN */
	const char *detail;    /* for invalid-cert, critical-extension, weak-key, unsupported: which rule (static text), else NULL */
	int64_t valid_until;   /* verified: the verdict holds until then (the path's first
				* notAfter, the next change of a CRL of the trust object) */
};

#define PC_VERIFY_MAX_PEER 10

/* Verify a chain as a TLS peer sent it: der[0] is the leaf, der[1..n-1]
 * the intermediates it sent (any order, extra certificates ignored; only
 * the first PC_VERIFY_MAX_PEER are looked at, and each must parse).
 *
 * Paths are built depth first from the leaf through the peer's
 * intermediates and the trust object's certificates, issuer candidates
 * ordered by key identifier (AKI/SKI) then name, no certificate twice in a
 * path. Every certificate of the trust object is a trust anchor: a path
 * ends at a self-signed one, or, only when no path reaches one, at the
 * first anchor it meets (OpenSSL's partial chains, Go's roots). Building
 * pays at most 32 signature checks (Go allows 100; ours are a worker's
 * time), so a client cannot make us try dozens of look-alike issuers:
 * past that, too-complex.
 *
 * Each complete path is checked, in this order: every certificate's own
 * RFC 5280 rules and key (pc_trust_add_ca_file), validity at now, RSA
 * size, basicConstraints/keyUsage of issuers, pathLen and depth (self-
 * issued intermediates not counted), the leaf's keyUsage and that it is
 * not a CA, name constraints of every CA (at most 65,536 comparisons),
 * extendedKeyUsage of the leaf and of every CA above it, the deny list,
 * CRLs for every certificate below the anchor when the trust object has
 * any CRL, the identity allowlist. The first path that passes wins;
 * otherwise the first failure of the first complete path is reported
 * (or, if no path was complete, why building stopped where it got
 * furthest). out is always filled as far as parsing went.
 * now: seconds since the Unix epoch. A trust object that is not
 * finalized trusts nothing (unknown-ca). Runs on the caller's stack (about
 * 21 KiB); wolfSSL's parser allocates through wolfSSL's allocator. */
enum pc_verify_reason pc_verify_chain(const struct pc_trust *t,
				      const struct pc_verify_policy *pol,
				      const uint8_t *const *der, const uint32_t *der_len,
				      unsigned int n, int64_t now,
				      struct pc_verify_result *out);

/* wolfSSL's decoding of a certificate (wolfssl/wolfcrypt/asn.h). */
struct DecodedCert;

/* pc_verify_chain() with the leaf as wolfSSL has already decoded der[0]
 * (ParseCertRelative through the whole certificate, in any verify mode:
 * its date checks do not count, ours do; a TLS verify callback's
 * store->decodedCert, patches/wolfssl/0023), so that it is not decoded
 * twice. leaf NULL, or the decoding of another buffer than der[0]: the
 * leaf is decoded here. Same answers as pc_verify_chain(). */
enum pc_verify_reason pc_verify_chain_decoded(const struct pc_trust *t,
					      const struct pc_verify_policy *pol,
					      const struct DecodedCert *leaf,
					      const uint8_t *const *der, const uint32_t *der_len,
					      unsigned int n, int64_t now,
					      struct pc_verify_result *out);

/* A table of the P-256 key of certificate der (len bytes) for faster
 * verifications with that key (patches/wolfssl/0015), written to table
 * (64-byte aligned): 0, or -1 when the certificate does not parse or its
 * key is not P-256. About 230 us. */
#define PC_VERIFY_KEY_TABLE_SZ 4096
int pc_verify_key_table(const uint8_t *der, size_t len, uint8_t table[PC_VERIFY_KEY_TABLE_SZ]);

/* `portcullis verify ...`: the offline verifier (argv[0] = "verify").
 * Returns the process exit code: 0 OK, 1 FAIL, 2 usage or file error. */
int pc_verify_main(int argc, char **argv);

#endif
