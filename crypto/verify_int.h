/* SPDX-License-Identifier: MIT */
/*
 * Inside the verifier (crypto/verify*.c only): the small bounds-checked
 * parsers we own (PEM blocks, DER times, CRLs) and file reading. wolfSSL
 * parses certificates; these cover what it offers no public API for.
 * All functions only read their input and are reentrant.
 */
#ifndef PC_VERIFY_INT_H
#define PC_VERIFY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pc_verify.h"

/* The DER tags the verifier reads. */
enum {
	DER_BOOLEAN = 0x01,
	DER_INTEGER = 0x02,
	DER_BIT_STRING = 0x03,
	DER_OCTET_STRING = 0x04,
	DER_OID = 0x06,
	DER_UTC_TIME = 0x17,
	DER_GEN_TIME = 0x18,
	DER_SEQUENCE = 0x30,
	DER_SET = 0x31,
	DER_EXPLICIT_0 = 0xa0,
};

/* One DER TLV: tag byte, then the value. */
struct pc_der {
	uint8_t tag;
	const uint8_t *val;
	size_t len;
};

/* Read the TLV at *p (before end) and move *p past it: 0, or -1 if it is
 * truncated, has a multi-byte tag or an indefinite or over-long length. */
int pc_der_next(const uint8_t **p, const uint8_t *end, struct pc_der *out);

/* pc_der_next, and the TLV must have this tag: 0 or -1. */
int pc_der_expect(const uint8_t **p, const uint8_t *end, uint8_t tag, struct pc_der *out);

/* An INTEGER's value without its leading zero octets (one left). */
void pc_der_strip_zeros(const uint8_t **v, size_t *len);

/* A UTCTime or GeneralizedTime TLV (…Z, seconds present) as Unix seconds:
 * 0, or -1 if it is not one. */
int pc_der_time(const struct pc_der *d, int64_t *out);

/* wolfSSL's OID sum (the sum of the encoded bytes) of an OID's value. */
uint32_t pc_der_oid_sum(const struct pc_der *oid);

/* Find the next "-----BEGIN label-----" block in [*p, end) and decode it
 * into *der (malloc'd, the caller frees it). Returns 1 and moves *p past
 * the block, 0 if there is no further block, -1 if a block is broken
 * (no END line, bad base64) or on allocation failure. */
int pc_pem_next(const char **p, const char *end, const char *label, uint8_t **der,
		size_t *der_len);

/* A CRL (RFC 5280 5.1) as parsed: pointers into the caller's buffer. */
struct pc_crl_info {
	const uint8_t *tbs;    /* TBSCertList, header included: what is signed */
	size_t tbs_len;
	const uint8_t *issuer; /* issuer Name, value only (as wolfSSL's issuerRaw) */
	size_t issuer_len;
	int64_t this_update;
	int64_t next_update;   /* INT64_MAX when absent */
	const uint8_t *revoked; /* revokedCertificates value, every entry checked */
	size_t revoked_len;
	uint32_t sig_oid;      /* wolfSSL OID sum of signatureAlgorithm */
	const uint8_t *sig;    /* signatureValue without the unused-bits byte */
	size_t sig_len;
	const uint8_t *sig_alg; /* signatureAlgorithm TLV (RSA-PSS parameters) */
	size_t sig_alg_len;
	/* Why the verifier cannot use this CRL (RFC 5280 5.2, 5.3: an
	 * unknown critical extension, no or a critical cRLNumber, a delta
	 * CRL, an indirect CRL or one for some reasons only), NULL if it can.
	 * A certificate with no usable CRL fails as crl-missing. */
	const char *unusable;
	/* issuingDistributionPoint: which certificates the CRL covers. */
	bool only_user, only_ca;
	const uint8_t *idp_name; /* distributionPoint [0] TLV, NULL if absent */
	size_t idp_name_len;
	uint8_t number[20];    /* cRLNumber, big-endian without leading zeros */
	size_t number_len;
};

/* Parse one DER CRL at the start of [der, der + len); *used is its size.
 * 0, or -1 if it is malformed. */
int pc_crl_parse(const uint8_t *der, size_t len, struct pc_crl_info *out, size_t *used);

/* Is the serial (big-endian, as in the certificate) on the CRL? */
int pc_crl_lists(const struct pc_crl_info *c, const uint8_t *serial, size_t serial_len);

/* What the verifier reads from a TBSCertificate itself (pc_cert_scan):
 * the RFC 5280 rules wolfSSL does not check, and the extensions it does
 * not give us raw. Pointers into the certificate. */
struct pc_cert_ext {
	enum pc_verify_reason defect; /* the first rule it breaks, OK if none */
	const char *defect_text;      /* which, in a few words */
	const char *bad_serial;       /* what is wrong with the serial number, NULL if nothing */
	uint8_t version;              /* 0 = v1, 2 = v3 */
	const uint8_t *sig_alg;       /* the signed signature AlgorithmIdentifier TLV */
	size_t sig_alg_len;
	const uint8_t *subject;       /* Name value (the RDNs), empty for an empty subject */
	size_t subject_len;
	const uint8_t *san;           /* subjectAltName GeneralNames value, NULL if none */
	size_t san_len;
	const uint8_t *permitted, *excluded; /* nameConstraints subtrees, NULL if absent */
	size_t permitted_len, excluded_len;
	const uint8_t *ski, *aki_id;  /* key identifiers, NULL if absent */
	size_t ski_len, aki_id_len;
	const uint8_t *crldp;         /* cRLDistributionPoints value, NULL if none */
	size_t crldp_len;
	bool san_critical, has_bc, bc_critical, has_nc, has_aki;
	bool aki_issuer_serial;       /* AKI names the issuer's issuer and serial */
	bool explicit_policy;         /* policyConstraints requireExplicitPolicy */
};

/* Scan the TBSCertificate TLV at tbs: 0 (out->defect says whether a rule
 * is broken), or -1 if it does not parse. */
int pc_cert_scan(const uint8_t *tbs, size_t len, struct pc_cert_ext *out);

/* Name constraints of the CA ca on the names of c (its subject, its
 * subjectAltName entries, e-mail addresses in its subject and, for a leaf
 * without DNS names, a common name that is a host name). *budget: name
 * comparisons left, decremented. OK, NAME_CONSTRAINTS or TOO_COMPLEX. */
enum pc_verify_reason pc_nc_check(const struct pc_cert_ext *ca, const struct pc_cert_ext *c,
				  bool leaf, unsigned int *budget);

/* A host name in preferred name syntax (RFC 1034 3.5 as RFC 1123 relaxes
 * it: letters, digits, inner hyphens, labels of 1 to 63), with a leading
 * "*." label when wildcard is true. */
bool pc_dns_name_valid(const char *s, size_t len, bool wildcard);

/* Call fn for each iPAddress (4 or 16 octets) of c's subjectAltName. */
void pc_cert_ip_names(const struct pc_cert_ext *c,
		      void (*fn)(void *arg, const uint8_t *ip, size_t len), void *arg);

/* Read a whole file (malloc'd, NUL-terminated; *len excludes the NUL).
 * 0, or -1 with "PATH: reason" in err. */
int pc_read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen);

#endif
