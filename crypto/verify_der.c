/* SPDX-License-Identifier: MIT */
/*
 * The few parsers the verifier owns: DER TLVs and times, CRLs, PEM
 * blocks. Every read is checked against the end of its buffer; they run
 * on untrusted input (CRL and CA files, and tests/fuzz/fuzz_verify.c), so
 * keep them small. Any thread may call them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify_int.h"

int pc_der_next(const uint8_t **p, const uint8_t *end, struct pc_der *out)
{
	const uint8_t *q = *p;
	size_t len;

	if (end - q < 2 || (q[0] & 0x1f) == 0x1f)
		return -1;
	out->tag = q[0];
	len = q[1];
	q += 2;
	if (len & 0x80) {
		size_t n = len & 0x7f;

		/* Four length bytes are plenty for anything we read. */
		if (n == 0 || n > 4 || (size_t)(end - q) < n)
			return -1;
		len = 0;
		while (n--)
			len = len << 8 | *q++;
	}
	if ((size_t)(end - q) < len)
		return -1;
	out->val = q;
	out->len = len;
	*p = q + len;
	return 0;
}

int pc_der_expect(const uint8_t **p, const uint8_t *end, uint8_t tag, struct pc_der *out)
{
	return pc_der_next(p, end, out) == 0 && out->tag == tag ? 0 : -1;
}

void pc_der_strip_zeros(const uint8_t **v, size_t *len)
{
	while (*len > 1 && (*v)[0] == 0) {
		(*v)++;
		(*len)--;
	}
}

static int digits(const uint8_t *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), so no time zone or libc state is involved. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

int pc_der_time(const struct pc_der *d, int64_t *out)
{
	const uint8_t *s = d->val;
	int year;

	if (d->tag == DER_UTC_TIME && d->len == 13) {
		/* RFC 5280 4.1.2.5.1: YY >= 50 means 19YY. */
		year = digits(s, 2);
		if (year >= 0)
			year += year >= 50 ? 1900 : 2000;
		s += 2;
	} else if (d->tag == DER_GEN_TIME && d->len == 15) {
		year = digits(s, 4);
		s += 4;
	} else {
		return -1;
	}
	int mon = digits(s, 2), day = digits(s + 2, 2), h = digits(s + 4, 2);
	int min = digits(s + 6, 2), sec = digits(s + 8, 2);

	if (year < 0 || mon < 1 || mon > 12 || day < 1 || day > 31 || h < 0 || h > 23 ||
	    min < 0 || min > 59 || sec < 0 || sec > 60 || s[10] != 'Z')
		return -1;
	*out = days_from_civil(year, mon, day) * 86400 + h * 3600 + min * 60 + sec;
	return 0;
}

uint32_t pc_der_oid_sum(const struct pc_der *oid)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < oid->len; i++)
		sum += oid->val[i];
	return sum;
}

/* AlgorithmIdentifier ::= SEQUENCE { OID, parameters OPTIONAL } */
static int der_alg(const uint8_t **p, const uint8_t *end, uint32_t *sum)
{
	struct pc_der alg, oid;
	const uint8_t *q;

	if (pc_der_expect(p, end, DER_SEQUENCE, &alg) != 0)
		return -1;
	q = alg.val;
	if (pc_der_expect(&q, alg.val + alg.len, DER_OID, &oid) != 0 || oid.len == 0)
		return -1;
	*sum = pc_der_oid_sum(&oid);
	return 0;
}

/* Extension OIDs of CRLs and their entries: 2.5.29.x. */
enum {
	CRL_EXT_IAN = 18,
	CRL_EXT_NUMBER = 20,
	CRL_EXT_REASON = 21,
	CRL_EXT_HOLD = 23,
	CRL_EXT_INVALIDITY = 24,
	CRL_EXT_DELTA = 27,
	CRL_EXT_IDP = 28,
	CRL_EXT_CERT_ISSUER = 29,
	CRL_EXT_AKI = 35,
	CRL_EXT_FRESHEST = 46,
	CRL_EXT_AIA = 1000, /* 1.3.6.1.5.5.7.1.1 */
	CRL_EXT_OTHER = -1,
};

static int crl_ext_id(const struct pc_der *oid)
{
	static const uint8_t aia[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01};

	if (oid->len == 3 && oid->val[0] == 0x55 && oid->val[1] == 0x1d)
		return oid->val[2];
	if (oid->len == sizeof(aia) && memcmp(oid->val, aia, sizeof(aia)) == 0)
		return CRL_EXT_AIA;
	return CRL_EXT_OTHER;
}

/* Extensions ::= SEQUENCE OF SEQUENCE { OID, critical BOOLEAN DEFAULT
 * FALSE, OCTET STRING }. Calls fn(ctx, id, critical, value) for each;
 * fn returns 0 or -1 (stop, malformed). A repeated extension is
 * malformed. */
static int crl_extensions(const uint8_t *p, const uint8_t *end,
			  int (*fn)(struct pc_crl_info *c, int id, bool critical,
				    const struct pc_der *v),
			  struct pc_crl_info *c)
{
	struct pc_der list, ext, oid, d;
	uint64_t seen = 0; /* the id-ce arcs met, and bit 63 for AIA */

	if (pc_der_expect(&p, end, DER_SEQUENCE, &list) != 0 || p != end)
		return -1;
	for (p = list.val; p < list.val + list.len;) {
		const uint8_t *q;
		bool critical = false;
		int id;

		if (pc_der_expect(&p, list.val + list.len, DER_SEQUENCE, &ext) != 0)
			return -1;
		q = ext.val;
		if (pc_der_expect(&q, ext.val + ext.len, DER_OID, &oid) != 0 ||
		    pc_der_next(&q, ext.val + ext.len, &d) != 0)
			return -1;
		if (d.tag == DER_BOOLEAN) {
			critical = d.len == 1 && d.val[0] != 0;
			if (d.len != 1 || pc_der_next(&q, ext.val + ext.len, &d) != 0)
				return -1;
		}
		if (d.tag != DER_OCTET_STRING || q != ext.val + ext.len)
			return -1;
		id = crl_ext_id(&oid);
		if (id != CRL_EXT_OTHER) {
			uint64_t bit = 1ull << (id == CRL_EXT_AIA ? 63 : id % 63);

			if (seen & bit)
				return -1;
			seen |= bit;
		}
		if (fn(c, id, critical, &d) != 0)
			return -1;
	}
	return 0;
}

static void crl_unusable(struct pc_crl_info *c, const char *why)
{
	if (c->unusable == NULL)
		c->unusable = why;
}

/* crlEntryExtensions: the reason and dates are information; a
 * certificateIssuer makes the CRL indirect. */
static int crl_entry_ext(struct pc_crl_info *c, int id, bool critical, const struct pc_der *v)
{
	(void)v;
	if (id == CRL_EXT_CERT_ISSUER)
		crl_unusable(c, "an indirect CRL (certificateIssuer entries)");
	else if (critical && id != CRL_EXT_REASON && id != CRL_EXT_INVALIDITY &&
		 id != CRL_EXT_HOLD)
		crl_unusable(c, "an unknown critical CRL entry extension");
	return 0;
}

/* IssuingDistributionPoint ::= SEQUENCE { distributionPoint [0],
 * onlyContainsUserCerts [1] BOOLEAN, onlyContainsCACerts [2] BOOLEAN,
 * onlySomeReasons [3], indirectCRL [4] BOOLEAN, onlyContainsAttributeCerts
 * [5] BOOLEAN }, all optional, booleans DEFAULT FALSE. */
static int crl_idp(struct pc_crl_info *c, const struct pc_der *v)
{
	const uint8_t *p = v->val, *end = v->val + v->len;
	struct pc_der idp, d;

	if (pc_der_expect(&p, end, DER_SEQUENCE, &idp) != 0 || p != end)
		return -1;
	for (p = idp.val; p < idp.val + idp.len;) {
		const uint8_t *start = p;
		bool set;

		if (pc_der_next(&p, idp.val + idp.len, &d) != 0)
			return -1;
		set = d.len == 1 && d.val[0] != 0;
		switch (d.tag) {
		case 0xa0:
			c->idp_name = start;
			c->idp_name_len = (size_t)(p - start);
			break;
		case 0x81:
			c->only_user = set;
			break;
		case 0x82:
			c->only_ca = set;
			break;
		case 0x83:
			crl_unusable(c, "a CRL for some revocation reasons only");
			break;
		case 0x84:
			if (set)
				crl_unusable(c, "an indirect CRL");
			break;
		case 0x85:
			if (set)
				crl_unusable(c, "a CRL of attribute certificates");
			break;
		default:
			return -1;
		}
	}
	if (c->only_user && c->only_ca)
		return -1;
	return 0;
}

static int crl_ext(struct pc_crl_info *c, int id, bool critical, const struct pc_der *v)
{
	const uint8_t *p = v->val;
	struct pc_der n;

	switch (id) {
	case CRL_EXT_NUMBER:
		/* RFC 5280 5.2.3: non-critical, a non-negative INTEGER of
		 * at most 20 octets. */
		if (pc_der_expect(&p, v->val + v->len, DER_INTEGER, &n) != 0 || n.len == 0 ||
		    (n.val[0] & 0x80))
			return -1;
		pc_der_strip_zeros(&n.val, &n.len);
		if (n.len > sizeof(c->number))
			crl_unusable(c, "a cRLNumber longer than 20 octets");
		else
			memcpy(c->number, n.val, c->number_len = n.len);
		if (critical)
			crl_unusable(c, "a critical cRLNumber");
		return 0;
	case CRL_EXT_DELTA:
		crl_unusable(c, "a delta CRL (only complete CRLs are used)");
		return 0;
	case CRL_EXT_IDP:
		return crl_idp(c, v);
	case CRL_EXT_AKI:
	case CRL_EXT_IAN:
	case CRL_EXT_FRESHEST:
	case CRL_EXT_AIA:
		return 0;
	default:
		if (critical)
			crl_unusable(c, "an unknown critical CRL extension");
		return 0;
	}
}

/* revokedCertificates: SEQUENCE OF SEQUENCE { serial INTEGER, revocationDate
 * Time, crlEntryExtensions OPTIONAL }; checked whole at parse time so that
 * a lookup cannot meet a bad entry. */
static int crl_entries_ok(const uint8_t *p, const uint8_t *end, struct pc_crl_info *c)
{
	struct pc_der e, serial, date;
	int64_t t;

	while (p < end) {
		const uint8_t *q;

		if (pc_der_expect(&p, end, DER_SEQUENCE, &e) != 0)
			return -1;
		q = e.val;
		if (pc_der_expect(&q, e.val + e.len, DER_INTEGER, &serial) != 0 || serial.len == 0 ||
		    pc_der_next(&q, e.val + e.len, &date) != 0 || pc_der_time(&date, &t) != 0)
			return -1;
		if (q < e.val + e.len &&
		    crl_extensions(q, e.val + e.len, crl_entry_ext, c) != 0)
			return -1;
	}
	return 0;
}

int pc_crl_parse(const uint8_t *der, size_t len, struct pc_crl_info *out, size_t *used)
{
	const uint8_t *p = der, *end = der + len, *q, *tend;
	struct pc_der outer, tbs, d, sig;

	memset(out, 0, sizeof(*out));
	if (pc_der_expect(&p, end, DER_SEQUENCE, &outer) != 0)
		return -1;
	*used = (size_t)(p - der);
	q = outer.val;
	end = outer.val + outer.len;
	out->tbs = q;
	if (pc_der_expect(&q, end, DER_SEQUENCE, &tbs) != 0)
		return -1;
	out->tbs_len = (size_t)(q - out->tbs);
	out->sig_alg = q;
	if (der_alg(&q, end, &out->sig_oid) != 0)
		return -1;
	out->sig_alg_len = (size_t)(q - out->sig_alg);
	if (pc_der_expect(&q, end, DER_BIT_STRING, &sig) != 0 ||
	    sig.len < 2 || sig.val[0] != 0 || q != end)
		return -1;
	out->sig = sig.val + 1;
	out->sig_len = sig.len - 1;

	/* TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL, signature,
	 * issuer Name, thisUpdate, nextUpdate OPTIONAL, revokedCertificates
	 * OPTIONAL, [0] crlExtensions OPTIONAL } */
	p = tbs.val;
	tend = tbs.val + tbs.len;
	bool v2 = false;

	if (p < tend && *p == DER_INTEGER) {
		if (pc_der_expect(&p, tend, DER_INTEGER, &d) != 0)
			return -1;
		v2 = d.len == 1 && d.val[0] == 1;
	}
	/* signature: the outer one, octet for octet (parameters included) */
	q = p;
	if (pc_der_expect(&p, tend, DER_SEQUENCE, &d) != 0 ||
	    (size_t)(p - q) != out->sig_alg_len || memcmp(q, out->sig_alg, out->sig_alg_len) != 0)
		return -1;
	if (pc_der_expect(&p, tend, DER_SEQUENCE, &d) != 0)
		return -1;
	out->issuer = d.val;
	out->issuer_len = d.len;
	if (pc_der_next(&p, tend, &d) != 0 || pc_der_time(&d, &out->this_update) != 0)
		return -1;
	out->next_update = INT64_MAX;
	if (p < tend && (*p == DER_UTC_TIME || *p == DER_GEN_TIME) &&
	    (pc_der_next(&p, tend, &d) != 0 || pc_der_time(&d, &out->next_update) != 0))
		return -1;
	if (p < tend && *p == DER_SEQUENCE) {
		if (pc_der_next(&p, tend, &d) != 0 || crl_entries_ok(d.val, d.val + d.len, out) != 0)
			return -1;
		out->revoked = d.val;
		out->revoked_len = d.len;
	}
	if (p < tend && (pc_der_expect(&p, tend, DER_EXPLICIT_0, &d) != 0 || !v2 ||
			 crl_extensions(d.val, d.val + d.len, crl_ext, out) != 0))
		return -1;
	if (out->number_len == 0)
		crl_unusable(out, "no cRLNumber (RFC 5280 5.2.3)");
	return p == tend ? 0 : -1;
}

int pc_crl_lists(const struct pc_crl_info *c, const uint8_t *serial, size_t serial_len)
{
	const uint8_t *p = c->revoked, *end;
	struct pc_der e, s;

	if (p == NULL) /* a CRL that revokes nothing */
		return 0;
	end = p + c->revoked_len;
	pc_der_strip_zeros(&serial, &serial_len);
	while (p < end) {
		const uint8_t *q;

		/* pc_crl_parse checked every entry. */
		pc_der_next(&p, end, &e);
		q = e.val;
		pc_der_next(&q, e.val + e.len, &s);
		pc_der_strip_zeros(&s.val, &s.len);
		if (s.len == serial_len && memcmp(s.val, serial, serial_len) == 0)
			return 1;
	}
	return 0;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Base64 with line breaks and blanks ignored and '=' padding only at the
 * end. Returns the decoded length, or -1. out holds at least len bytes. */
static long b64_decode(const char *s, size_t len, uint8_t *out)
{
	uint32_t acc = 0;
	int bits = 0, pad = 0;
	long n = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		int v;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		v = b64_value(c);
		if (v < 0 || pad)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* Left-over bits must be the padding's zero bits. */
	if (pad > 2 || bits >= 6 || (acc & ((1u << bits) - 1)) != 0)
		return -1;
	return n;
}

int pc_pem_next(const char **p, const char *end, const char *label, uint8_t **der,
		size_t *der_len)
{
	char begin[64], fin[64];
	const char *b, *e;
	long n;

	snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
	snprintf(fin, sizeof(fin), "-----END %s-----", label);
	b = memmem(*p, (size_t)(end - *p), begin, strlen(begin));
	if (b == NULL)
		return 0;
	b += strlen(begin);
	e = memmem(b, (size_t)(end - b), fin, strlen(fin));
	if (e == NULL)
		return -1;
	*der = malloc((size_t)(e - b) + 1);
	if (*der == NULL)
		return -1;
	n = b64_decode(b, (size_t)(e - b), *der);
	if (n <= 0) {
		free(*der);
		*der = NULL;
		return -1;
	}
	*der_len = (size_t)n;
	*p = e + strlen(fin);
	return 1;
}

int pc_read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0;
	char *b = NULL;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		char *nb = realloc(b, cap + 1);

		if (nb == NULL) {
			snprintf(err, errlen, "%s: out of memory", path);
			break;
		}
		b = nb;
		n += fread(b + n, 1, cap - n, f);
		if (n < cap) {
			if (ferror(f)) {
				snprintf(err, errlen, "%s: %s", path, strerror(errno));
				break;
			}
			fclose(f);
			b[n] = '\0';
			*buf = b;
			*len = n;
			return 0;
		}
		cap *= 2;
	}
	fclose(f);
	free(b);
	return -1;
}
