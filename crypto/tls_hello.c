/* SPDX-License-Identifier: MIT */
/* The ClientHello checks: see tls_hello.h. */
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include "tls_hello.h"

#define EXT_SERVER_NAME 0
#define EXT_SUPPORTED_GROUPS 10
#define EXT_ALPN 16
#define EXT_SUPPORTED_VERSIONS 43
#define EXT_KEY_SHARE 51
#define EXT_RENEGOTIATION_INFO 0xff01

#define GROUP_P256 0x0017
#define GROUP_P384 0x0018
#define GROUP_P521 0x0019
#define GROUP_X25519 0x001d

/* A bounds-checked reader: reading past the end marks it bad and yields
 * zeros, so a parse goes on to its end and checks once. */
struct rd {
	const uint8_t *p;
	size_t n;
	bool bad;
};

static uint32_t get(struct rd *r, unsigned int bytes)
{
	uint32_t v = 0;

	if (r->n < bytes) {
		r->bad = true;
		r->n = 0;
		return 0;
	}
	for (unsigned int i = 0; i < bytes; i++)
		v = v << 8 | r->p[i];
	r->p += bytes;
	r->n -= bytes;
	return v;
}

/* The next len bytes as a reader of their own. */
static struct rd sub(struct rd *r, size_t len)
{
	struct rd s = {r->p, len, false};

	if (r->n < len) {
		r->bad = true;
		r->n = 0;
		s.n = 0;
		s.bad = true;
		return s;
	}
	r->p += len;
	r->n -= len;
	return s;
}

/* A vector with a length prefix of lenbytes bytes. */
static struct rd vec(struct rd *r, unsigned int lenbytes)
{
	return sub(r, get(r, lenbytes));
}

static uint8_t refuse(struct pc_tls_hello *out, uint8_t alert, const char *why)
{
	if (out->alert == 0) {
		out->alert = alert;
		out->why = why;
	}
	return out->alert;
}

/* RFC 6066 3: one host_name at most, 1 to 2^16-1 bytes; we also refuse
 * bytes no DNS name has (NUL, controls, spaces, non-ASCII), which some
 * servers would take as a different name than their logs show. */
static void server_name(struct rd *e, struct pc_tls_hello *out)
{
	struct rd list = vec(e, 2);
	bool seen = false;

	if (list.bad || e->n != 0 || list.n == 0) {
		refuse(out, PC_TLS_ALERT_DECODE_ERROR, "server_name: bad lengths");
		return;
	}
	while (list.n != 0) {
		uint8_t type = (uint8_t)get(&list, 1);
		struct rd name = vec(&list, 2);

		if (list.bad || name.n == 0) {
			refuse(out, PC_TLS_ALERT_DECODE_ERROR, "server_name: bad name length");
			return;
		}
		if (type != 0)
			continue;
		if (seen) {
			refuse(out, PC_TLS_ALERT_ILLEGAL_PARAMETER, "server_name: two host names");
			return;
		}
		seen = true;
		if (name.n > PC_TLS_HELLO_NAME_MAX) {
			refuse(out, PC_TLS_ALERT_ILLEGAL_PARAMETER, "server_name: too long");
			return;
		}
		for (size_t i = 0; i < name.n; i++)
			if (name.p[i] <= ' ' || name.p[i] >= 0x7f) {
				refuse(out, PC_TLS_ALERT_ILLEGAL_PARAMETER,
				       "server_name: bytes no host name has");
				return;
			}
		memcpy(out->sni, name.p, name.n);
		out->sni[name.n] = '\0';
	}
}

/* RFC 7301 3.1: a non-empty list of non-empty names; without ours among
 * them, no_application_protocol. */
static void alpn(struct rd *e, const char *ours, struct pc_tls_hello *out)
{
	struct rd list = vec(e, 2);
	bool match = false;

	if (list.bad || e->n != 0 || list.n == 0) {
		refuse(out, PC_TLS_ALERT_DECODE_ERROR, "alpn: bad lengths");
		return;
	}
	while (list.n != 0) {
		struct rd name = vec(&list, 1);

		if (list.bad || name.n == 0) {
			refuse(out, PC_TLS_ALERT_DECODE_ERROR, "alpn: empty protocol name");
			return;
		}
		if (name.n == strlen(ours) && memcmp(name.p, ours, name.n) == 0)
			match = true;
	}
	if (!match)
		refuse(out, PC_TLS_ALERT_NO_APPLICATION_PROTOCOL, "alpn: no protocol in common");
}

static int our_group(const struct pc_tls_hello_policy *pol, uint32_t group)
{
	for (unsigned int i = 0; i < pol->nb_groups; i++)
		if (pol->groups[i] == group)
			return (int)i;
	return -1;
}

/* X25519 public values of small order (and their non-canonical forms):
 * the shared secret would be known to anyone. */
static const uint8_t x25519_low_order[][32] = {
	{0},
	{1},
	{0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
	 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
	{0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b,
	 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57},
	{0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
	{0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
	{0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
};

/* An uncompressed point of the NIST curve of that group. */
static bool nist_point_ok(uint32_t group, const uint8_t *p, size_t len)
{
	int curve = group == GROUP_P256 ? ECC_SECP256R1
		    : group == GROUP_P384 ? ECC_SECP384R1
					  : ECC_SECP521R1;
	size_t coord = group == GROUP_P256 ? 32 : group == GROUP_P384 ? 48 : 66;
	ecc_key key;
	bool ok;

	if (len != 1 + 2 * coord || p[0] != 4 || wc_ecc_init(&key) != 0)
		return false;
	/* On the curve, not the point at infinity, of the group's order
	 * (wolfSSL does not check what it then multiplies by our key). */
	ok = wc_ecc_import_x963_ex(p, (word32)len, &key, curve) == 0 && wc_ecc_check_key(&key) == 0;
	wc_ecc_free(&key);
	return ok;
}

/* RFC 8446 4.2.8: one share per group, each a valid public value of its
 * group (we check those of the groups we would use). */
static void key_share(struct rd *e, const struct pc_tls_hello_policy *pol,
		      struct pc_tls_hello *out)
{
	struct rd list = vec(e, 2);
	uint32_t seen = 0;

	if (list.bad || e->n != 0) {
		refuse(out, PC_TLS_ALERT_DECODE_ERROR, "key_share: bad lengths");
		return;
	}
	while (list.n != 0) {
		uint32_t group = get(&list, 2);
		struct rd kx = vec(&list, 2);
		int idx = our_group(pol, group);
		bool ok = true;

		if (list.bad || kx.n == 0) {
			refuse(out, PC_TLS_ALERT_DECODE_ERROR, "key_share: bad entry length");
			return;
		}
		if (idx < 0)
			continue;
		if (seen & 1u << idx) {
			refuse(out, PC_TLS_ALERT_ILLEGAL_PARAMETER, "key_share: two shares for a group");
			return;
		}
		seen |= 1u << idx;
		if (group == GROUP_X25519) {
			ok = kx.n == 32;
			for (size_t i = 0; ok && i < sizeof(x25519_low_order) / 32; i++)
				ok = memcmp(kx.p, x25519_low_order[i], 32) != 0;
		} else if (group == GROUP_P256 || group == GROUP_P384 || group == GROUP_P521) {
			ok = nist_point_ok(group, kx.p, kx.n);
		}
		if (!ok) {
			refuse(out, PC_TLS_ALERT_ILLEGAL_PARAMETER, "key_share: invalid public value");
			return;
		}
	}
}

uint8_t pc_tls_hello_check(const uint8_t *msg, size_t len, const struct pc_tls_hello_policy *pol,
			   struct pc_tls_hello *out)
{
	struct rd r = {msg, len, false};
	bool tls13 = false, groups_sent = false, groups_shared = false, renegotiating = false;
	uint8_t seen[65536 / 8];

	memset(out, 0, sizeof(*out));
	uint32_t type = get(&r, 1), body = get(&r, 3);

	if (type != 1 || body != r.n)
		return refuse(out, PC_TLS_ALERT_DECODE_ERROR, "not a whole ClientHello");
	get(&r, 2 + 32); /* legacy_version, random */
	struct rd sid = vec(&r, 1);
	struct rd suites = vec(&r, 2);
	struct rd comp = vec(&r, 1);

	if (r.bad || sid.n > 32 || suites.n < 2 || suites.n % 2 != 0 || comp.n == 0)
		return refuse(out, PC_TLS_ALERT_DECODE_ERROR, "bad ClientHello fields");
	out->session_id = sid.n != 0;
	out->suites = suites.p;
	out->suites_len = suites.n;
	if (r.n == 0)
		return 0; /* no extensions at all (TLS 1.2 allows it) */
	struct rd exts = vec(&r, 2);

	if (exts.bad || r.n != 0)
		return refuse(out, PC_TLS_ALERT_DECODE_ERROR, "extensions: bad lengths");
	memset(seen, 0, sizeof(seen));
	while (exts.n != 0 && out->alert == 0) {
		uint32_t type = get(&exts, 2);
		struct rd e = vec(&exts, 2);

		if (exts.bad)
			return refuse(out, PC_TLS_ALERT_DECODE_ERROR, "extensions: bad lengths");
		if (seen[type / 8] & 1u << (type % 8))
			return refuse(out, PC_TLS_ALERT_ILLEGAL_PARAMETER, "extensions: duplicate");
		seen[type / 8] |= (uint8_t)(1u << (type % 8));
		switch (type) {
		case EXT_SERVER_NAME:
			server_name(&e, out);
			break;
		case EXT_ALPN:
			alpn(&e, pol->alpn, out);
			break;
		case EXT_SUPPORTED_GROUPS: {
			struct rd list = vec(&e, 2);

			if (list.bad || e.n != 0 || list.n == 0 || list.n % 2 != 0)
				return refuse(out, PC_TLS_ALERT_DECODE_ERROR,
					      "supported_groups: bad lengths");
			groups_sent = true;
			while (list.n != 0)
				groups_shared |= our_group(pol, get(&list, 2)) >= 0;
			break;
		}
		case EXT_SUPPORTED_VERSIONS: {
			struct rd list = vec(&e, 1);

			if (list.bad || e.n != 0 || list.n == 0 || list.n % 2 != 0)
				return refuse(out, PC_TLS_ALERT_DECODE_ERROR,
					      "supported_versions: bad lengths");
			while (list.n != 0)
				tls13 |= get(&list, 2) == 0x0304 && pol->tls13;
			break;
		}
		case EXT_RENEGOTIATION_INFO: {
			struct rd conn = vec(&e, 1);

			if (conn.bad || e.n != 0)
				return refuse(out, PC_TLS_ALERT_DECODE_ERROR,
					      "renegotiation_info: bad lengths");
			renegotiating = conn.n != 0;
			break;
		}
		default:
			break;
		}
	}
	if (out->alert != 0)
		return out->alert;
	out->tls13 = tls13;
	/* Every suite we offer is (EC)DHE over one of our groups: a client
	 * that lists none of them cannot be served (RFC 8446 4.1.1, RFC
	 * 8422 5.1). */
	if (groups_sent && !groups_shared)
		return refuse(out, PC_TLS_ALERT_HANDSHAKE_FAILURE, "no group in common");
	/* RFC 5746 3.6: a connection's first handshake carries an empty
	 * renegotiated_connection (TLS 1.3 has no renegotiation: ignored). */
	if (renegotiating && !tls13)
		return refuse(out, PC_TLS_ALERT_HANDSHAKE_FAILURE,
			      "renegotiation_info: not empty");
	if (tls13 && (seen[EXT_KEY_SHARE / 8] & 1u << (EXT_KEY_SHARE % 8))) {
		/* A second pass for the key shares, now that the version is
		 * known: TLS 1.2 ignores them. */
		struct rd again = {msg, len, false};

		get(&again, 4 + 2 + 32);
		vec(&again, 1);
		vec(&again, 2);
		vec(&again, 1);
		exts = vec(&again, 2);
		while (exts.n != 0 && out->alert == 0) {
			uint32_t type = get(&exts, 2);
			struct rd e = vec(&exts, 2);

			if (type == EXT_KEY_SHARE)
				key_share(&e, pol, out);
		}
	}
	return out->alert;
}

bool pc_tls_hello_suite_in_common(const struct pc_tls_hello *h, const uint16_t *ours,
				  unsigned int n)
{
	for (size_t i = 0; i + 1 < h->suites_len; i += 2) {
		uint16_t id = (uint16_t)(h->suites[i] << 8 | h->suites[i + 1]);

		if ((id >> 8 == 0x13) != h->tls13)
			continue;
		for (unsigned int k = 0; k < n; k++)
			if (ours[k] == id)
				return true;
	}
	return false;
}
