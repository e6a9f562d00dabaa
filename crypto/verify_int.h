/* SPDX-License-Identifier: MIT */
/*
 * Inside the verifier (crypto/verify*.c only): the small bounds-checked
 * parsers we own (PEM blocks, DER times, CRLs) and file reading. wolfSSL
 * parses certificates; these cover what it offers no public API for.
 * All functions only read their input and are reentrant.
 */
#ifndef PC_VERIFY_INT_H
#define PC_VERIFY_INT_H

#include <stddef.h>
#include <stdint.h>

/* One DER TLV: tag byte, then the value. */
struct pc_der {
	uint8_t tag;
	const uint8_t *val;
	size_t len;
};

/* Read the TLV at *p (before end) and move *p past it: 0, or -1 if it is
 * truncated, has a multi-byte tag or an indefinite or over-long length. */
int pc_der_next(const uint8_t **p, const uint8_t *end, struct pc_der *out);

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
};

/* Parse one DER CRL at the start of [der, der + len); *used is its size.
 * 0, or -1 if it is malformed. */
int pc_crl_parse(const uint8_t *der, size_t len, struct pc_crl_info *out, size_t *used);

/* Is the serial (big-endian, as in the certificate) on the CRL? */
int pc_crl_lists(const struct pc_crl_info *c, const uint8_t *serial, size_t serial_len);

/* Read a whole file (malloc'd, NUL-terminated; *len excludes the NUL).
 * 0, or -1 with "PATH: reason" in err. */
int pc_read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen);

#endif
