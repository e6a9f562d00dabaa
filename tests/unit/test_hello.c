/* SPDX-License-Identifier: MIT */
/* The ClientHello checks (crypto/tls_hello.c), table-driven: a hello is
 * built from a list of extensions, each case changes one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tls_hello.h"

#define MAX_EXT 4096

struct ext {
	uint16_t type;
	const char *data; /* hex */
};

static const struct pc_tls_hello_policy policy = {
	.groups = {0x001d, 0x0017, 0x0018},
	.nb_groups = 3,
	.tls13 = true,
	.tls12 = true,
	.alpn = "http/1.1",
};

/* Hex digits, spaces ignored. */
static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	int hi = -1;

	for (; *s != '\0'; s++) {
		int v;

		if (*s == ' ')
			continue;
		v = *s <= '9' ? *s - '0' : (*s | 0x20) - 'a' + 10;
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return n;
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A ClientHello with a 32-byte session id, two suites and exts. */
static size_t build(uint8_t *m, const struct ext *exts, size_t n)
{
	size_t at = 4, ext_start;

	m[at++] = 3;
	m[at++] = 3;
	memset(m + at, 0xab, 32);
	at += 32;
	m[at++] = 32;
	memset(m + at, 0xcd, 32);
	at += 32;
	at += unhex("0004 1301 c02b", m + at);
	at += unhex("0100", m + at);
	ext_start = at;
	at += 2;
	for (size_t i = 0; i < n; i++) {
		size_t len;

		put16(m + at, exts[i].type);
		len = unhex(exts[i].data, m + at + 4);
		put16(m + at + 2, len);
		at += 4 + len;
	}
	put16(m + ext_start, at - ext_start - 2);
	m[0] = 1;
	m[1] = (uint8_t)((at - 4) >> 16);
	m[2] = (uint8_t)((at - 4) >> 8);
	m[3] = (uint8_t)(at - 4);
	return at;
}

#define SNI_GOOD "000c 00 0009 612e6578616d706c65"          /* a.example */
#define ALPN_GOOD "000c 08 687474702f312e31 02 6832"         /* http/1.1, h2 */
#define GROUPS_GOOD "0004 001d 0017"
#define VERSIONS_13 "04 0304 0303"
#define X25519_SHARE "0024 001d 0020 " \
	"0900000000000000000000000000000000000000000000000000000000000000"
#define P256_G "04" \
	"6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296" \
	"4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"

struct hello_case {
	const char *name;
	uint16_t type;            /* the extension this case replaces or adds */
	const char *data;         /* NULL: drop it */
	uint8_t alert;
	const char *sni;          /* expected when accepted */
};

static const struct hello_case cases[] = {
	{"good", 0xffff, NULL, 0, "a.example"},
	{"sni: empty list", 0, "0000", PC_TLS_ALERT_DECODE_ERROR, NULL},
	{"sni: empty name", 0, "0003 00 0000", PC_TLS_ALERT_DECODE_ERROR, NULL},
	{"sni: list longer than the extension", 0, "0010 00 000b 612e6578616d706c65",
	 PC_TLS_ALERT_DECODE_ERROR, NULL},
	{"sni: trailing bytes", 0, "000c 00 0009 612e6578616d706c65 00", PC_TLS_ALERT_DECODE_ERROR,
	 NULL},
	{"sni: two host names", 0, "0010 00 0005 612e636f6d 00 0005 622e636f6d",
	 PC_TLS_ALERT_ILLEGAL_PARAMETER, NULL},
	{"sni: NUL inside", 0, "0008 00 0005 61002e636f", PC_TLS_ALERT_ILLEGAL_PARAMETER, NULL},
	{"sni: escape code", 0, "0008 00 0005 611b5b3331", PC_TLS_ALERT_ILLEGAL_PARAMETER, NULL},
	{"sni: another name type is skipped", 0, "0010 01 0005 782e636f6d 00 0005 612e636f6d", 0,
	 "a.com"},
	{"sni: none", 0, NULL, 0, ""},
	{"alpn: none of ours", 16, "0009 02 6832 05 68312e3132", PC_TLS_ALERT_NO_APPLICATION_PROTOCOL,
	 NULL},
	{"alpn: only ours", 16, "0009 08 687474702f312e31", 0, "a.example"},
	{"alpn: empty list", 16, "0000", PC_TLS_ALERT_DECODE_ERROR, NULL},
	{"alpn: empty name", 16, "000a 08 687474702f312e31 00", PC_TLS_ALERT_DECODE_ERROR, NULL},
	{"alpn: truncated", 16, "000c 08 687474702f31", PC_TLS_ALERT_DECODE_ERROR, NULL},
	{"groups: none of ours", 10, "0004 001e 0019", PC_TLS_ALERT_HANDSHAKE_FAILURE, NULL},
	{"groups: odd length", 10, "0003 001d 00", PC_TLS_ALERT_DECODE_ERROR, NULL},
	{"key_share: X25519 zero", 51, "0024 001d 0020 "
	 "0000000000000000000000000000000000000000000000000000000000000000",
	 PC_TLS_ALERT_ILLEGAL_PARAMETER, NULL},
	{"key_share: X25519 of order 8", 51, "0024 001d 0020 "
	 "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	 PC_TLS_ALERT_ILLEGAL_PARAMETER, NULL},
	{"key_share: X25519 short", 51, "0023 001d 001f "
	 "09000000000000000000000000000000000000000000000000000000000000",
	 PC_TLS_ALERT_ILLEGAL_PARAMETER, NULL},
	{"key_share: P-256 generator", 51, "0045 0017 0041 " P256_G, 0, "a.example"},
	{"key_share: P-256 off the curve", 51, "0045 0017 0041 04"
	 "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
	 "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f6",
	 PC_TLS_ALERT_ILLEGAL_PARAMETER, NULL},
	{"key_share: P-256 x=0 y=0", 51, "0045 0017 0041 04"
	 "0000000000000000000000000000000000000000000000000000000000000000"
	 "0000000000000000000000000000000000000000000000000000000000000000",
	 PC_TLS_ALERT_ILLEGAL_PARAMETER, NULL},
	{"key_share: P-256 compressed", 51, "0025 0017 0021 02"
	 "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
	 PC_TLS_ALERT_ILLEGAL_PARAMETER, NULL},
	{"key_share: two for one group", 51, "0048 001d 0020 "
	 "0900000000000000000000000000000000000000000000000000000000000000 001d 0020 "
	 "0900000000000000000000000000000000000000000000000000000000000000",
	 PC_TLS_ALERT_ILLEGAL_PARAMETER, NULL},
	{"key_share: another group's garbage is not ours to judge", 51, "0006 001e 0002 0000",
	 0, "a.example"},
	{"key_share: empty entry", 51, "0004 001d 0000", PC_TLS_ALERT_DECODE_ERROR, NULL},
	{"key_share: ignored in TLS 1.2", 43, "02 0303", 0, "a.example"},
	{"renegotiation_info: empty", 0xff01, "00", 0, "a.example"},
	{"renegotiation_info: bad length", 0xff01, "05 0102", PC_TLS_ALERT_DECODE_ERROR, NULL},
	{"renegotiation_info: not empty, ignored by TLS 1.3", 0xff01, "02 0102", 0, "a.example"},
	{"duplicate extension", 0x1234, "", PC_TLS_ALERT_ILLEGAL_PARAMETER, NULL},
};

static void test_cases(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct hello_case *hc = &cases[c];
		struct ext exts[8] = {
			{0, SNI_GOOD}, {16, ALPN_GOOD}, {10, GROUPS_GOOD},
			{43, VERSIONS_13}, {51, X25519_SHARE}, {0x1234, ""},
		};
		size_t n = 6, len;
		static uint8_t m[MAX_EXT];
		struct pc_tls_hello out;
		bool found = false;

		for (size_t i = 0; i < n; i++)
			if (exts[i].type == hc->type && hc->type != 0x1234) {
				found = true;
				if (hc->data == NULL) {
					memmove(&exts[i], &exts[i + 1], (n - i - 1) * sizeof(exts[0]));
					n--;
				} else {
					exts[i].data = hc->data;
				}
			}
		if (!found && hc->data != NULL)
			exts[n++] = (struct ext){hc->type, hc->data};
		len = build(m, exts, n);
		if (pc_tls_hello_check(m, len, &policy, &out) != hc->alert)
			fail_msg("%s: alert %u (%s), want %u", hc->name, out.alert,
				 out.why != NULL ? out.why : "-", hc->alert);
		if (hc->alert == 0 && strcmp(out.sni, hc->sni) != 0)
			fail_msg("%s: SNI '%s', want '%s'", hc->name, out.sni, hc->sni);
		if (hc->alert == 0 && !out.session_id)
			fail_msg("%s: the session id was not seen", hc->name);
	}
}

/* Every prefix of a good hello is refused as malformed, never read past. */
static void test_truncated(void **state)
{
	const struct ext exts[] = {{0, SNI_GOOD}, {16, ALPN_GOOD}, {10, GROUPS_GOOD},
				   {43, VERSIONS_13}, {51, X25519_SHARE}};
	static uint8_t m[MAX_EXT];
	size_t len = build(m, exts, 5);
	struct pc_tls_hello out;

	(void)state;
	assert_int_equal(pc_tls_hello_check(m, len, &policy, &out), 0);
	assert_true(out.tls13);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(pc_tls_hello_check(m, cut, &policy, &out),
				 PC_TLS_ALERT_DECODE_ERROR);
}

/* The suite check: a 1.3 hello needs a 1.3 suite of ours, a 1.2 one a
 * 1.2 suite. */
static void test_suites(void **state)
{
	const struct ext v13[] = {{10, GROUPS_GOOD}, {43, VERSIONS_13}, {51, X25519_SHARE}};
	const struct ext v12[] = {{10, GROUPS_GOOD}};
	static const uint16_t only13[] = {0x1301}, only12[] = {0xc02b}, other[] = {0xc02f};
	static uint8_t m[MAX_EXT];
	struct pc_tls_hello out;

	(void)state;
	assert_int_equal(pc_tls_hello_check(m, build(m, v13, 3), &policy, &out), 0);
	assert_true(pc_tls_hello_suite_in_common(&out, only13, 1));
	assert_false(pc_tls_hello_suite_in_common(&out, only12, 1));
	assert_int_equal(pc_tls_hello_check(m, build(m, v12, 1), &policy, &out), 0);
	assert_false(out.tls13);
	assert_true(pc_tls_hello_suite_in_common(&out, only12, 1));
	assert_false(pc_tls_hello_suite_in_common(&out, only13, 1));
	assert_false(pc_tls_hello_suite_in_common(&out, other, 1));
}

/* RFC 5746 3.6: a TLS 1.2 first handshake with a renegotiated_connection
 * is refused. */
static void test_renegotiation_info(void **state)
{
	const struct ext empty[] = {{10, GROUPS_GOOD}, {0xff01, "00"}};
	const struct ext full[] = {{10, GROUPS_GOOD}, {0xff01, "0c 0102030405060708090a0b0c"}};
	static uint8_t m[MAX_EXT];
	struct pc_tls_hello out;

	(void)state;
	assert_int_equal(pc_tls_hello_check(m, build(m, empty, 2), &policy, &out), 0);
	assert_int_equal(pc_tls_hello_check(m, build(m, full, 2), &policy, &out),
			 PC_TLS_ALERT_HANDSHAKE_FAILURE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_suites),
		cmocka_unit_test(test_renegotiation_info),
	};

	return cmocka_run_group_tests_name("hello", tests, NULL, NULL);
}
