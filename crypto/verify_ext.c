/* SPDX-License-Identifier: MIT */
/*
 * The parts of a certificate that the verifier reads itself rather than
 * through wolfSSL: the TBSCertificate's shape (version, serial, subject)
 * and its extensions as RFC 5280 section 4 writes them (duplicates,
 * criticality, key identifiers, policy constraints, subjectAltName and
 * nameConstraints in their raw form), and the name-constraint check of
 * section 4.2.1.10 / 6.1.3 (b)-(c). Every read is bounded by its buffer:
 * the input is the client's certificate. Any thread may call these.
 */
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>

#include "verify_int.h"

/* GeneralName tags (RFC 5280 4.2.1.6). */
enum {
	GN_OTHER = 0xa0,
	GN_EMAIL = 0x81,
	GN_DNS = 0x82,
	GN_DIR = 0xa4,
	GN_URI = 0x86,
	GN_IP = 0x87,
};

/* Extension OIDs: id-ce (2.5.29.x) and id-pe (1.3.6.1.5.5.7.1.x). */
enum ext_id {
	EXT_UNKNOWN,
	EXT_SDA,       /* subjectDirectoryAttributes 2.5.29.9 */
	EXT_SKI,       /* 2.5.29.14 */
	EXT_KU,        /* 2.5.29.15 */
	EXT_SAN,       /* 2.5.29.17 */
	EXT_IAN,       /* 2.5.29.18 */
	EXT_BC,        /* 2.5.29.19 */
	EXT_NC,        /* 2.5.29.30 */
	EXT_CRLDP,     /* 2.5.29.31 */
	EXT_CP,        /* 2.5.29.32 */
	EXT_PM,        /* policyMappings 2.5.29.33 */
	EXT_AKI,       /* 2.5.29.35 */
	EXT_PC,        /* policyConstraints 2.5.29.36 */
	EXT_EKU,       /* 2.5.29.37 */
	EXT_FRESHEST,  /* freshestCRL 2.5.29.46 */
	EXT_IAP,       /* inhibitAnyPolicy 2.5.29.54 */
	EXT_AIA,       /* 1.3.6.1.5.5.7.1.1 */
	EXT_SIA,       /* 1.3.6.1.5.5.7.1.11 */
};

static enum ext_id ext_id(const struct pc_der *oid)
{
	static const uint8_t pe[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01};
	static const struct {
		uint8_t arc;
		enum ext_id id;
	} ce[] = {
		{9, EXT_SDA},   {14, EXT_SKI}, {15, EXT_KU},  {17, EXT_SAN},      {18, EXT_IAN},
		{19, EXT_BC},   {30, EXT_NC},  {31, EXT_CRLDP}, {32, EXT_CP},     {33, EXT_PM},
		{35, EXT_AKI},  {36, EXT_PC},  {37, EXT_EKU}, {46, EXT_FRESHEST}, {54, EXT_IAP},
	};

	if (oid->len == 3 && oid->val[0] == 0x55 && oid->val[1] == 0x1d) {
		for (size_t i = 0; i < sizeof(ce) / sizeof(ce[0]); i++)
			if (ce[i].arc == oid->val[2])
				return ce[i].id;
	}
	if (oid->len == sizeof(pe) + 1 && memcmp(oid->val, pe, sizeof(pe)) == 0) {
		if (oid->val[sizeof(pe)] == 1)
			return EXT_AIA;
		if (oid->val[sizeof(pe)] == 11)
			return EXT_SIA;
	}
	return EXT_UNKNOWN;
}

static int defect(struct pc_cert_ext *e, enum pc_verify_reason r, const char *what)
{
	if (e->defect == PC_VERIFY_OK) {
		e->defect = r;
		e->defect_text = what;
	}
	return 0;
}

/* ---- names ---- */

bool pc_dns_name_valid(const char *s, size_t len, bool wildcard)
{
	size_t label = 0;

	if (wildcard && len > 2 && s[0] == '*' && s[1] == '.') {
		s += 2;
		len -= 2;
	}
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? s[i] : '.';

		if (c == '.') {
			/* Labels of 1 to 63 letters, digits and inner hyphens. */
			if (label == 0 || label > 63 || s[i - 1] == '-' || s[i - label] == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-') {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

/* A mailbox: a local part of printable ASCII without '@', spaces or
 * quotes (what certificates carry in practice), then a host name. */
static bool email_valid(const char *s, size_t len, const char **at)
{
	const char *a = memchr(s, '@', len);

	if (a == NULL || a == s)
		return false;
	for (const char *c = s; c < a; c++)
		if (*c <= ' ' || *c > '~' || *c == '"' || *c == '\\')
			return false;
	*at = a;
	return pc_dns_name_valid(a + 1, len - (size_t)(a + 1 - s), false);
}

static bool ieq(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && strncasecmp(a, b, alen) == 0;
}

/* Is the host name (len bytes) base itself or under it? An empty base
 * holds every name. */
static bool dns_within(const char *name, size_t len, const char *base, size_t blen)
{
	if (blen == 0)
		return true;
	if (ieq(name, len, base, blen))
		return true;
	return len > blen && name[len - blen - 1] == '.' &&
	       strncasecmp(name + len - blen, base, blen) == 0;
}

/* The host of a URI ("scheme://[userinfo@]host[:port]/..."): 0, or -1
 * when it has none or it is an IP literal (RFC 5280: URI constraints name
 * hosts). */
static int uri_host(const char *s, size_t len, const char **host, size_t *hlen)
{
	const char *p = memchr(s, ':', len), *end = s + len, *h, *at, *e;

	if (p == NULL || end - p < 3 || p[1] != '/' || p[2] != '/')
		return -1;
	h = p + 3;
	for (e = h; e < end && *e != '/' && *e != '?' && *e != '#'; e++)
		;
	at = memchr(h, '@', (size_t)(e - h));
	if (at != NULL)
		h = at + 1;
	if (h < e && *h == '[')
		return -1;
	p = memchr(h, ':', (size_t)(e - h));
	if (p != NULL)
		e = p;
	if (!pc_dns_name_valid(h, (size_t)(e - h), false))
		return -1;
	*host = h;
	*hlen = (size_t)(e - h);
	return 0;
}

/* A constraint base, checked for its form. 1 valid, 0 invalid, -1 a
 * type we do not read (otherName, x400Address, ediPartyName,
 * registeredID): harmless until a certificate below has a name of that
 * type, which nc_match then fails closed. */
static int base_valid(const struct pc_der *b)
{
	const char *s = (const char *)b->val;
	const uint8_t *p, *end;
	struct pc_der d;
	const char *at;

	switch (b->tag) {
	case GN_DNS:
		/* "" holds every name; RFC 5280 gives no meaning to a leading
		 * period or a wildcard in a DNS constraint. */
		return b->len == 0 || pc_dns_name_valid(s, b->len, false);
	case GN_EMAIL:
		if (memchr(s, '@', b->len) != NULL)
			return email_valid(s, b->len, &at);
		if (b->len > 1 && s[0] == '.')
			return pc_dns_name_valid(s + 1, b->len - 1, false);
		return pc_dns_name_valid(s, b->len, false);
	case GN_URI:
		if (b->len > 1 && s[0] == '.')
			return pc_dns_name_valid(s + 1, b->len - 1, false);
		return pc_dns_name_valid(s, b->len, false);
	case GN_IP: {
		/* Address then mask, the mask's ones contiguous. */
		size_t half = b->len / 2;
		bool zero = false;

		if (b->len != 8 && b->len != 32)
			return 0;
		for (size_t i = 0; i < half; i++) {
			for (int bit = 7; bit >= 0; bit--) {
				bool one = b->val[half + i] >> bit & 1;

				if (one && zero)
					return 0;
				zero |= !one;
			}
		}
		return 1;
	}
	case GN_DIR:
		p = b->val;
		end = b->val + b->len;
		return pc_der_expect(&p, end, DER_SEQUENCE, &d) == 0 && p == end;
	default:
		return -1;
	}
}

/* GeneralSubtrees: each base valid, minimum 0 and no maximum (RFC 5280
 * 4.2.1.10: "MUST be zero", "MUST be absent"; DER leaves the default 0
 * out, so the base must be alone). */
static void subtrees_check(struct pc_cert_ext *e, const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len;
	struct pc_der st, base;

	if (p == end) {
		defect(e, PC_VERIFY_INVALID_CERT, "nameConstraints with an empty subtree list");
		return;
	}
	while (p < end) {
		const uint8_t *q;

		if (pc_der_expect(&p, end, DER_SEQUENCE, &st) != 0) {
			defect(e, PC_VERIFY_INVALID_CERT, "nameConstraints cannot be parsed");
			return;
		}
		q = st.val;
		if (pc_der_next(&q, st.val + st.len, &base) != 0) {
			defect(e, PC_VERIFY_INVALID_CERT, "nameConstraints cannot be parsed");
			return;
		}
		if (q != st.val + st.len) {
			defect(e, PC_VERIFY_INVALID_CERT, "a name constraint with a minimum or maximum");
			return;
		}
		if (base_valid(&base) == 0) {
			defect(e, PC_VERIFY_INVALID_CERT, "a name constraint of invalid form");
			return;
		}
	}
}

/* NameConstraints ::= SEQUENCE { permittedSubtrees [0] OPTIONAL,
 * excludedSubtrees [1] OPTIONAL }, one at least (RFC 5280 4.2.1.10). */
static void scan_nc(struct pc_cert_ext *e, const uint8_t *v, size_t len)
{
	const uint8_t *p = v, *end = v + len;
	struct pc_der nc, d;

	if (pc_der_expect(&p, end, DER_SEQUENCE, &nc) != 0 || p != end) {
		defect(e, PC_VERIFY_INVALID_CERT, "nameConstraints cannot be parsed");
		return;
	}
	p = nc.val;
	end = nc.val + nc.len;
	if (p < end && p[0] == 0xa0) {
		if (pc_der_next(&p, end, &d) != 0) {
			defect(e, PC_VERIFY_INVALID_CERT, "nameConstraints cannot be parsed");
			return;
		}
		e->permitted = d.val;
		e->permitted_len = d.len;
		subtrees_check(e, d.val, d.len);
	}
	if (p < end && p[0] == 0xa1 && pc_der_next(&p, end, &d) == 0) {
		e->excluded = d.val;
		e->excluded_len = d.len;
		subtrees_check(e, d.val, d.len);
	}
	if (p != end)
		defect(e, PC_VERIFY_INVALID_CERT, "nameConstraints cannot be parsed");
	else if (e->permitted == NULL && e->excluded == NULL)
		defect(e, PC_VERIFY_INVALID_CERT, "nameConstraints with neither subtree list");
}

/* AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0], authorityCertIssuer
 * [1], authorityCertSerialNumber [2] }, all optional. */
static void scan_aki(struct pc_cert_ext *e, const uint8_t *v, size_t len)
{
	const uint8_t *p = v, *end = v + len;
	struct pc_der aki, d;

	e->has_aki = true;
	if (pc_der_expect(&p, end, DER_SEQUENCE, &aki) != 0 || p != end) {
		defect(e, PC_VERIFY_INVALID_CERT, "authorityKeyIdentifier cannot be parsed");
		return;
	}
	for (p = aki.val; p < aki.val + aki.len;) {
		if (pc_der_next(&p, aki.val + aki.len, &d) != 0) {
			defect(e, PC_VERIFY_INVALID_CERT, "authorityKeyIdentifier cannot be parsed");
			return;
		}
		if (d.tag == 0x80) {
			e->aki_id = d.val;
			e->aki_id_len = d.len;
		} else {
			e->aki_issuer_serial = true;
		}
	}
}

/* PolicyConstraints ::= SEQUENCE { requireExplicitPolicy [0],
 * inhibitPolicyMapping [1] }: one at least. */
static void scan_pc(struct pc_cert_ext *e, const uint8_t *v, size_t len)
{
	const uint8_t *p = v, *end = v + len;
	struct pc_der pc, d;

	if (pc_der_expect(&p, end, DER_SEQUENCE, &pc) != 0 || p != end || pc.len == 0) {
		defect(e, PC_VERIFY_INVALID_CERT, "policyConstraints empty or unparsable");
		return;
	}
	for (p = pc.val; p < pc.val + pc.len;) {
		if (pc_der_next(&p, pc.val + pc.len, &d) != 0) {
			defect(e, PC_VERIFY_INVALID_CERT, "policyConstraints cannot be parsed");
			return;
		}
		e->explicit_policy |= d.tag == 0x80;
	}
}

/* Every GeneralName of a subjectAltName must at least be a TLV. */
static void scan_san(struct pc_cert_ext *e, const uint8_t *v, size_t len, bool critical)
{
	const uint8_t *p = v, *end = v + len;
	struct pc_der san, d;

	if (pc_der_expect(&p, end, DER_SEQUENCE, &san) != 0 || p != end) {
		defect(e, PC_VERIFY_INVALID_CERT, "subjectAltName cannot be parsed");
		return;
	}
	if (san.len == 0)
		defect(e, PC_VERIFY_INVALID_CERT, "an empty subjectAltName");
	for (p = san.val; p < san.val + san.len;) {
		if (pc_der_next(&p, san.val + san.len, &d) != 0) {
			defect(e, PC_VERIFY_INVALID_CERT, "subjectAltName cannot be parsed");
			return;
		}
	}
	e->san = san.val;
	e->san_len = san.len;
	e->san_critical = critical;
}

#define MAX_EXTENSIONS 48

static void scan_extensions(struct pc_cert_ext *e, const uint8_t *p, const uint8_t *end)
{
	struct pc_der list, ext, oid, d, seen[MAX_EXTENSIONS];
	unsigned int n = 0;

	if (pc_der_expect(&p, end, DER_SEQUENCE, &list) != 0 || p != end || list.len == 0) {
		defect(e, PC_VERIFY_INVALID_CERT, "an empty or unparsable extension list");
		return;
	}
	for (p = list.val; p < list.val + list.len;) {
		const uint8_t *q, *qend;
		bool critical = false;
		enum ext_id id;

		if (pc_der_expect(&p, list.val + list.len, DER_SEQUENCE, &ext) != 0) {
			defect(e, PC_VERIFY_INVALID_CERT, "an extension cannot be parsed");
			return;
		}
		q = ext.val;
		qend = ext.val + ext.len;
		if (pc_der_expect(&q, qend, DER_OID, &oid) != 0 || pc_der_next(&q, qend, &d) != 0) {
			defect(e, PC_VERIFY_INVALID_CERT, "an extension cannot be parsed");
			return;
		}
		if (d.tag == DER_BOOLEAN) {
			critical = d.len == 1 && d.val[0] != 0;
			if (d.len != 1 || pc_der_next(&q, qend, &d) != 0) {
				defect(e, PC_VERIFY_INVALID_CERT, "an extension cannot be parsed");
				return;
			}
		}
		if (d.tag != DER_OCTET_STRING || q != qend) {
			defect(e, PC_VERIFY_INVALID_CERT, "an extension cannot be parsed");
			return;
		}
		for (unsigned int i = 0; i < n; i++) {
			if (seen[i].len == oid.len && memcmp(seen[i].val, oid.val, oid.len) == 0) {
				defect(e, PC_VERIFY_INVALID_CERT, "the same extension twice");
				return;
			}
		}
		if (n == MAX_EXTENSIONS) {
			defect(e, PC_VERIFY_INVALID_CERT, "more than 48 extensions");
			return;
		}
		seen[n++] = oid;
		id = ext_id(&oid);
		switch (id) {
		case EXT_UNKNOWN:
			if (critical)
				defect(e, PC_VERIFY_CRITICAL_EXT, "an unknown critical extension");
			break;
		case EXT_SKI:
		case EXT_AKI:
		case EXT_AIA:
		case EXT_SIA:
		case EXT_FRESHEST:
		case EXT_SDA:
			/* RFC 5280: "MUST mark this extension as non-critical". */
			if (critical)
				defect(e, PC_VERIFY_INVALID_CERT,
				       "an extension that must not be critical is critical");
			if (id == EXT_AKI)
				scan_aki(e, d.val, d.len);
			if (id == EXT_SKI) {
				struct pc_der ski;
				const uint8_t *s = d.val;

				if (pc_der_expect(&s, d.val + d.len, DER_OCTET_STRING, &ski) != 0 ||
				    ski.len == 0) {
					defect(e, PC_VERIFY_INVALID_CERT,
					       "subjectKeyIdentifier cannot be parsed");
				} else {
					e->ski = ski.val;
					e->ski_len = ski.len;
				}
			}
			break;
		case EXT_BC:
			e->has_bc = true;
			e->bc_critical = critical;
			break;
		case EXT_SAN:
			scan_san(e, d.val, d.len, critical);
			break;
		case EXT_NC:
			/* RFC 5280 wants it critical; Go and cert-manager make it
			 * non-critical by default. Enforced either way. */
			e->has_nc = true;
			scan_nc(e, d.val, d.len);
			break;
		case EXT_PC:
			if (!critical)
				defect(e, PC_VERIFY_INVALID_CERT, "policyConstraints not critical");
			scan_pc(e, d.val, d.len);
			break;
		case EXT_IAP:
			if (!critical)
				defect(e, PC_VERIFY_INVALID_CERT, "inhibitAnyPolicy not critical");
			break;
		case EXT_EKU: {
			struct pc_der eku;
			const uint8_t *s = d.val;

			if (pc_der_expect(&s, d.val + d.len, DER_SEQUENCE, &eku) != 0 || eku.len == 0)
				defect(e, PC_VERIFY_INVALID_CERT, "an empty or unparsable extendedKeyUsage");
			break;
		}
		case EXT_CRLDP:
			e->crldp = d.val;
			e->crldp_len = d.len;
			break;
		case EXT_KU:
		case EXT_IAN:
		case EXT_CP:
		case EXT_PM:
			/* wolfSSL reads keyUsage; policies cannot change the
			 * outcome unless a CA requires an explicit policy
			 * (explicit_policy), which the verifier refuses. */
			break;
		}
	}
}

/* serialNumber: a positive INTEGER of at most 20 octets (RFC 5280
 * 4.1.2.2); DER adds a 0 octet before a value whose top bit is set. */
static void scan_serial(struct pc_cert_ext *e, const struct pc_der *s)
{
	size_t len = s->len;
	bool zero = true;

	if (s->val[0] & 0x80) {
		e->bad_serial = "a negative serial number";
		return;
	}
	for (size_t i = 0; i < len; i++)
		zero &= s->val[i] == 0;
	if (zero)
		e->bad_serial = "serial number 0";
	else if (len > 21 || (len == 21 && s->val[0] != 0))
		e->bad_serial = "a serial number longer than 20 octets";
}

int pc_cert_scan(const uint8_t *tbs, size_t len, struct pc_cert_ext *e)
{
	const uint8_t *p = tbs, *end = tbs + len;
	struct pc_der t, d, v;

	memset(e, 0, sizeof(*e));
	e->defect = PC_VERIFY_OK;
	if (pc_der_expect(&p, end, DER_SEQUENCE, &t) != 0)
		return -1;
	p = t.val;
	end = t.val + t.len;
	if (pc_der_next(&p, end, &d) != 0)
		return -1;
	if (d.tag == 0xa0) {
		const uint8_t *q = d.val;

		if (pc_der_expect(&q, d.val + d.len, DER_INTEGER, &v) != 0 || v.len != 1 || v.val[0] > 2)
			return -1;
		e->version = v.val[0];
		if (pc_der_next(&p, end, &d) != 0)
			return -1;
	}
	if (d.tag != DER_INTEGER || d.len == 0)
		return -1;
	scan_serial(e, &d);
	/* signature, issuer, validity, subject, subjectPublicKeyInfo */
	for (int i = 0; i < 5; i++) {
		const uint8_t *start = p;

		if (pc_der_expect(&p, end, DER_SEQUENCE, &d) != 0)
			return -1;
		if (i == 0) {
			e->sig_alg = start;
			e->sig_alg_len = (size_t)(p - start);
		}
		if (i == 3) {
			e->subject = d.val;
			e->subject_len = d.len;
		}
	}
	while (p < end) {
		if (pc_der_next(&p, end, &d) != 0)
			return -1;
		if ((d.tag == 0x81 || d.tag == 0xa1 || d.tag == 0x82 || d.tag == 0xa2) &&
		    e->version >= 1)
			continue;
		if (d.tag != 0xa3)
			return -1;
		if (e->version != 2)
			defect(e, PC_VERIFY_INVALID_CERT, "extensions in a v1 or v2 certificate");
		scan_extensions(e, d.val, d.val + d.len);
	}
	return 0;
}

/* ---- name constraints ---- */

/* One name of a certificate, as a GeneralName tag and value. */
struct nc_name {
	uint8_t type;
	const char *v;
	size_t len;
};

/* Is name inside the subtree base (both of the same type)? For an
 * excluded subtree, a wildcard DNS name also meets the subtree when it
 * could stand for its base, and a name we cannot read is inside (fail
 * closed); for a permitted one, it is not. */
static bool nc_match(const struct nc_name *n, const struct pc_der *base, bool excluded)
{
	const char *b = (const char *)base->val, *at, *host, *bat;
	size_t blen = base->len, hlen;

	switch (n->type) {
	case GN_DNS:
		if (!pc_dns_name_valid(n->v, n->len, true))
			return excluded;
		if (dns_within(n->v, n->len, b, blen))
			return true;
		if (excluded && n->len > 2 && n->v[0] == '*' &&
		    dns_within(b, blen, n->v + 2, n->len - 2) && blen > n->len - 2 &&
		    memchr(b, '.', blen - (n->len - 2) - 1) == NULL)
			return true;
		return false;
	case GN_EMAIL:
		if (!email_valid(n->v, n->len, &at))
			return excluded;
		host = at + 1;
		hlen = n->len - (size_t)(host - n->v);
		bat = memchr(b, '@', blen);
		if (bat != NULL)
			return bat - b == at - n->v && memcmp(b, n->v, (size_t)(at - n->v)) == 0 &&
			       ieq(bat + 1, blen - (size_t)(bat + 1 - b), host, hlen);
		if (blen > 0 && b[0] == '.')
			return hlen > blen - 1 && dns_within(host, hlen, b + 1, blen - 1) &&
			       !ieq(host, hlen, b + 1, blen - 1);
		return ieq(host, hlen, b, blen);
	case GN_URI:
		if (uri_host(n->v, n->len, &host, &hlen) != 0)
			return excluded;
		if (blen > 0 && b[0] == '.')
			return dns_within(host, hlen, b + 1, blen - 1) &&
			       !ieq(host, hlen, b + 1, blen - 1);
		return ieq(host, hlen, b, blen);
	case GN_IP:
		if (blen != 2 * n->len)
			return false;
		for (size_t i = 0; i < n->len; i++)
			if (((uint8_t)n->v[i] & base->val[n->len + i]) !=
			    (base->val[i] & base->val[n->len + i]))
				return false;
		return true;
	case GN_DIR: {
		/* The base's RDNs are the first RDNs of the name, octet for
		 * octet (both come from CAs that encode names one way). */
		const uint8_t *bp = base->val, *np = (const uint8_t *)n->v;
		const uint8_t *nend = np + n->len, *bend;
		struct pc_der bn, brdn, nrdn;

		pc_der_next(&bp, base->val + base->len, &bn);
		bp = bn.val;
		bend = bn.val + bn.len;
		while (bp < bend) {
			const uint8_t *b0 = bp, *n0 = np;

			if (pc_der_next(&bp, bend, &brdn) != 0 || pc_der_next(&np, nend, &nrdn) != 0 ||
			    bp - b0 != np - n0 || memcmp(b0, n0, (size_t)(bp - b0)) != 0)
				return false;
		}
		return true;
	}
	default:
		/* A type we do not read: inside an excluded subtree, outside
		 * a permitted one. */
		return excluded;
	}
}

/* Does some subtree of the list (of the name's type) hold the name?
 * 1 yes, 0 no, -1 out of budget; *typed: the list has a base of that
 * type. */
static int nc_subtrees(const uint8_t *p, size_t len, const struct nc_name *n, bool excluded,
		       bool *typed, unsigned int *budget)
{
	const uint8_t *end = p + len;
	struct pc_der st, base;

	*typed = false;
	while (p < end) {
		const uint8_t *q;

		/* pc_cert_scan checked every subtree (check_chain refuses a CA
		 * it found a defect in before any name is compared). */
		pc_der_next(&p, end, &st);
		q = st.val;
		pc_der_next(&q, st.val + st.len, &base);
		if (base.tag != n->type)
			continue;
		*typed = true;
		if (*budget == 0)
			return -1;
		(*budget)--;
		if (nc_match(n, &base, excluded))
			return 1;
	}
	return 0;
}

static enum pc_verify_reason nc_name(const struct pc_cert_ext *ca, const struct nc_name *n,
				     unsigned int *budget)
{
	bool typed;
	int r;

	if (ca->permitted != NULL) {
		r = nc_subtrees(ca->permitted, ca->permitted_len, n, false, &typed, budget);
		if (r < 0)
			return PC_VERIFY_TOO_COMPLEX;
		if (typed && r == 0)
			return PC_VERIFY_NAME_CONSTRAINTS;
	}
	if (ca->excluded != NULL) {
		r = nc_subtrees(ca->excluded, ca->excluded_len, n, true, &typed, budget);
		if (r < 0)
			return PC_VERIFY_TOO_COMPLEX;
		if (r == 1)
			return PC_VERIFY_NAME_CONSTRAINTS;
	}
	return PC_VERIFY_OK;
}

/* The values of the attributes of type oid in a Name (RDNSequence). */
struct attr_iter {
	const uint8_t *rdn, *rdn_end, *set, *set_end;
	const uint8_t *oid;
	size_t oid_len;
};

static bool attr_next(struct attr_iter *it, struct pc_der *value)
{
	struct pc_der d, atv, oid;

	for (;;) {
		while (it->set < it->set_end) {
			const uint8_t *q;

			if (pc_der_expect(&it->set, it->set_end, DER_SEQUENCE, &atv) != 0)
				return false;
			q = atv.val;
			if (pc_der_expect(&q, atv.val + atv.len, DER_OID, &oid) != 0 ||
			    pc_der_next(&q, atv.val + atv.len, value) != 0)
				return false;
			if (oid.len == it->oid_len && memcmp(oid.val, it->oid, oid.len) == 0)
				return true;
		}
		if (it->rdn >= it->rdn_end || pc_der_expect(&it->rdn, it->rdn_end, DER_SET, &d) != 0)
			return false;
		it->set = d.val;
		it->set_end = d.val + d.len;
	}
}

static void attr_iter_init(struct attr_iter *it, const struct pc_cert_ext *c, const uint8_t *oid,
			   size_t oid_len)
{
	it->rdn = c->subject;
	it->rdn_end = c->subject + c->subject_len;
	it->set = it->set_end = NULL;
	it->oid = oid;
	it->oid_len = oid_len;
}

enum pc_verify_reason pc_nc_check(const struct pc_cert_ext *ca, const struct pc_cert_ext *c,
				  bool leaf, unsigned int *budget)
{
	static const uint8_t cn_oid[] = {0x55, 0x04, 0x03};
	static const uint8_t email_oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01};
	const uint8_t *p = c->san, *end = p != NULL ? p + c->san_len : NULL;
	enum pc_verify_reason r;
	struct attr_iter it;
	struct nc_name n;
	struct pc_der d;

	if (c->subject_len > 0) {
		n = (struct nc_name){GN_DIR, (const char *)c->subject, c->subject_len};
		if ((r = nc_name(ca, &n, budget)) != PC_VERIFY_OK)
			return r;
	}
	while (p != NULL && p < end) {
		/* pc_cert_scan checked every name (as above). */
		pc_der_next(&p, end, &d);
		n = (struct nc_name){d.tag, (const char *)d.val, d.len};
		if (d.tag == GN_DIR) {
			const uint8_t *q = d.val;
			struct pc_der name;

			if (pc_der_expect(&q, d.val + d.len, DER_SEQUENCE, &name) != 0)
				return PC_VERIFY_NAME_CONSTRAINTS;
			n.v = (const char *)name.val;
			n.len = name.len;
		}
		if ((r = nc_name(ca, &n, budget)) != PC_VERIFY_OK)
			return r;
	}
	/* Names in the subject: e-mail addresses (as OpenSSL checks them),
	 * and the leaf's common names with a dot: a cn: allowlist entry can
	 * match them, so they are held to the DNS constraints as host names,
	 * with or without DNS SANs (OpenSSL checks a CN only without them);
	 * one that is not a valid host name fails where DNS is constrained. */
	attr_iter_init(&it, c, email_oid, sizeof(email_oid));
	while (attr_next(&it, &d)) {
		n = (struct nc_name){GN_EMAIL, (const char *)d.val, d.len};
		if ((r = nc_name(ca, &n, budget)) != PC_VERIFY_OK)
			return r;
	}
	if (!leaf)
		return PC_VERIFY_OK;
	attr_iter_init(&it, c, cn_oid, sizeof(cn_oid));
	while (attr_next(&it, &d)) {
		if (memchr(d.val, '.', d.len) == NULL)
			continue;
		n = (struct nc_name){GN_DNS, (const char *)d.val, d.len};
		if ((r = nc_name(ca, &n, budget)) != PC_VERIFY_OK)
			return r;
	}
	return PC_VERIFY_OK;
}

void pc_cert_ip_names(const struct pc_cert_ext *c, void (*fn)(void *arg, const uint8_t *ip,
							     size_t len),
		      void *arg)
{
	const uint8_t *p = c->san, *end = p != NULL ? p + c->san_len : NULL;
	struct pc_der d;

	while (p != NULL && p < end) {
		pc_der_next(&p, end, &d);
		if (d.tag == GN_IP && (d.len == 4 || d.len == 16))
			fn(arg, d.val, d.len);
	}
}

/* Append s[0, n) to out at *at, percent-encoding '%', ',' and every byte
 * outside printable ASCII (a header value stays one value). */
static bool san_put(char *out, size_t cap, size_t *at, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		bool enc = s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '%' || s[i] == ',';

		if (*at + (enc ? 3 : 1) >= cap)
			return false;
		if (enc) {
			out[(*at)++] = '%';
			out[(*at)++] = hex[s[i] >> 4];
			out[(*at)++] = hex[s[i] & 15];
		} else {
			out[(*at)++] = (char)s[i];
		}
	}
	out[*at] = '\0';
	return true;
}

int pc_cert_san_line(const uint8_t *der, size_t len, char *out, size_t cap)
{
	const uint8_t *p = der, *tbs;
	struct pc_der cert, d;
	struct pc_cert_ext e;
	size_t at = 0;

	if (cap == 0 || pc_der_expect(&p, der + len, DER_SEQUENCE, &cert) != 0)
		return -1;
	out[0] = '\0';
	p = tbs = cert.val;
	if (pc_der_expect(&p, cert.val + cert.len, DER_SEQUENCE, &d) != 0 ||
	    pc_cert_scan(tbs, (size_t)(p - tbs), &e) != 0)
		return -1;
	p = e.san;
	while (p != NULL && p < e.san + e.san_len) {
		const char *type;
		char ip[INET6_ADDRSTRLEN];
		const uint8_t *v;
		size_t n;

		if (pc_der_next(&p, e.san + e.san_len, &d) != 0)
			return -1;
		v = d.val;
		n = d.len;
		switch (d.tag) {
		case GN_DNS:
			type = "DNS:";
			break;
		case GN_EMAIL:
			type = "email:";
			break;
		case GN_URI:
			type = "URI:";
			break;
		case GN_IP:
			if ((n != 4 && n != 16) ||
			    inet_ntop(n == 4 ? AF_INET : AF_INET6, v, ip, sizeof(ip)) == NULL)
				continue;
			type = "IP:";
			v = (const uint8_t *)ip;
			n = strlen(ip);
			break;
		default:
			continue;
		}
		if (at > 0) {
			if (at + 1 >= cap)
				return -1;
			out[at++] = ',';
		}
		if (!san_put(out, cap, &at, (const uint8_t *)type, strlen(type)) ||
		    !san_put(out, cap, &at, v, n))
			return -1;
	}
	out[at] = '\0';
	return (int)at;
}
