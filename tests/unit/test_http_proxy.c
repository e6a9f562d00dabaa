/* SPDX-License-Identifier: MIT */
/*
 * The HTTP proxy's parts without I/O (http_proxy_int.h): where heads end,
 * the strict request parse, the rewrite for the backend (forged identity
 * headers removed however they are spelled, the added headers' exact
 * bytes, RFC 9440's byte sequences), the response parse and rewrite, and
 * body framing fed whole and byte by byte. Also pc_cert_san_line, which
 * makes X-SSL-Client-SAN.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http_proxy_int.h"
#include "pc_verify.h"

/* The defaults, as crypto/ defines them for the configuration. */
const char *const pc_backend_header_default[PC_BACKEND_NB_HEADERS] = {
	"X-SSL-Client-Verify", "X-SSL-Client-S-DN",   "X-SSL-Client-SAN",
	"X-SSL-Client-Serial", "X-SSL-Client-Fingerprint", "X-Client-Identity",
	"Client-Cert",         "Client-Cert-Chain",   "X-Forwarded-For",
	"X-Forwarded-Proto",
};

/* A self-signed P-256 certificate, subject "CN=client one", with the
 * SANs DNS:a.example, URI:spiffe://example.org/ns/a%2Cb, email:
 * u@example.com, IP:198.18.0.7, IP:2001:db8::1, DNS:b.example. */
static const uint8_t san_cert[] = {
	0x30, 0x82, 0x01, 0xe8, 0x30, 0x82, 0x01, 0x8e, 0xa0, 0x03, 0x02, 0x01,
	0x02, 0x02, 0x14, 0x2b, 0x00, 0x06, 0x24, 0x65, 0x91, 0x3e, 0x76, 0x38,
	0x6b, 0x5f, 0xe9, 0x68, 0xf2, 0xf9, 0x7e, 0xc6, 0x3a, 0x11, 0x20, 0x30,
	0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x30,
	0x15, 0x31, 0x13, 0x30, 0x11, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x0a,
	0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x20, 0x6f, 0x6e, 0x65, 0x30, 0x1e,
	0x17, 0x0d, 0x32, 0x36, 0x31, 0x32, 0x30, 0x36, 0x30, 0x38, 0x33, 0x30,
	0x30, 0x32, 0x5a, 0x17, 0x0d, 0x33, 0x36, 0x31, 0x32, 0x30, 0x33, 0x30,
	0x38, 0x33, 0x30, 0x30, 0x32, 0x5a, 0x30, 0x15, 0x31, 0x13, 0x30, 0x11,
	0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x0a, 0x63, 0x6c, 0x69, 0x65, 0x6e,
	0x74, 0x20, 0x6f, 0x6e, 0x65, 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a,
	0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
	0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0x52, 0x94, 0x97, 0x05,
	0xfa, 0xf0, 0xc8, 0x91, 0x21, 0x23, 0x29, 0x95, 0xeb, 0xae, 0x98, 0x8a,
	0x82, 0x2e, 0x3d, 0x73, 0x9a, 0x32, 0xb7, 0xc0, 0x7a, 0xfc, 0x8a, 0x42,
	0xa0, 0xda, 0x2d, 0xb8, 0x05, 0xc2, 0x4f, 0x71, 0x18, 0x7d, 0xf0, 0x5e,
	0xab, 0x84, 0x1e, 0xd8, 0x67, 0x6b, 0x03, 0x9a, 0xf7, 0xe1, 0x74, 0x6c,
	0xea, 0x93, 0x60, 0xed, 0xb9, 0xde, 0xea, 0x51, 0x90, 0x70, 0x25, 0x91,
	0xa3, 0x81, 0xbb, 0x30, 0x81, 0xb8, 0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d,
	0x0e, 0x04, 0x16, 0x04, 0x14, 0xed, 0xea, 0x69, 0x5a, 0x0d, 0xd0, 0xeb,
	0x0d, 0x61, 0x87, 0xf9, 0x48, 0x6f, 0xaf, 0x0b, 0x7b, 0x25, 0x0f, 0xe4,
	0xe8, 0x30, 0x1f, 0x06, 0x03, 0x55, 0x1d, 0x23, 0x04, 0x18, 0x30, 0x16,
	0x80, 0x14, 0xed, 0xea, 0x69, 0x5a, 0x0d, 0xd0, 0xeb, 0x0d, 0x61, 0x87,
	0xf9, 0x48, 0x6f, 0xaf, 0x0b, 0x7b, 0x25, 0x0f, 0xe4, 0xe8, 0x30, 0x0f,
	0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x05, 0x30, 0x03,
	0x01, 0x01, 0xff, 0x30, 0x65, 0x06, 0x03, 0x55, 0x1d, 0x11, 0x04, 0x5e,
	0x30, 0x5c, 0x82, 0x09, 0x61, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c,
	0x65, 0x86, 0x1d, 0x73, 0x70, 0x69, 0x66, 0x66, 0x65, 0x3a, 0x2f, 0x2f,
	0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67, 0x2f,
	0x6e, 0x73, 0x2f, 0x61, 0x25, 0x32, 0x43, 0x62, 0x81, 0x0d, 0x75, 0x40,
	0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x63, 0x6f, 0x6d, 0x87,
	0x04, 0xc6, 0x12, 0x00, 0x07, 0x87, 0x10, 0x20, 0x01, 0x0d, 0xb8, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x82,
	0x09, 0x62, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x30, 0x0a,
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x03, 0x48,
	0x00, 0x30, 0x45, 0x02, 0x20, 0x7b, 0x62, 0x28, 0x73, 0xc0, 0x43, 0x80,
	0xde, 0x41, 0x55, 0x05, 0xe4, 0x5c, 0xba, 0x0e, 0xe1, 0x91, 0x57, 0xa7,
	0xd3, 0x88, 0x67, 0xd3, 0x60, 0xde, 0xa1, 0x86, 0x46, 0x1c, 0x61, 0x9e,
	0x33, 0x02, 0x21, 0x00, 0xb7, 0x6d, 0xf9, 0x4f, 0xcc, 0xf4, 0x67, 0x69,
	0x58, 0xa8, 0x3d, 0x9f, 0x5a, 0xb8, 0x60, 0x82, 0xb4, 0x87, 0x5e, 0x3c,
	0xd8, 0xcd, 0x7c, 0xc5, 0x48, 0xf1, 0x12, 0x1a, 0x7b, 0x47, 0x7d, 0xb2
};

/* The head of req: scanned (fed whole and byte by byte: the same end). */
static long scan(const char *req)
{
	size_t len = strlen(req);
	struct pc_hp_scan whole = {0}, bytes = {0};
	long a = pc_hp_scan(&whole, (const uint8_t *)req, len), b = 0;

	for (size_t i = 1; i <= len && b == 0; i++)
		b = pc_hp_scan(&bytes, (const uint8_t *)req, i);
	assert_int_equal(a, b);
	return a;
}

static void test_scan(void **state)
{
	(void)state;
	assert_int_equal(scan("GET / HTTP/1.1\r\nHost: a\r\n\r\nbody"), 27);
	assert_int_equal(scan("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 31);
	assert_int_equal(scan("GET / HTTP/1.1\r\nHost: a\r\n"), 0);
	assert_int_equal(scan("GET / HTTP/1.1\nHost: a\r\n\r\n"), -400);
	assert_int_equal(scan("GET / HTTP/1.1\r\nHost: a\n\n"), -400);
	assert_int_equal(scan("\n"), -400);

	char *big = malloc(PC_HP_HEAD_MAX + 64);
	size_t n;

	/* A request line of PC_HP_LINE_MAX bytes with its CRLF passes, one
	 * more is 414 (before its end has come, too). */
	n = (size_t)sprintf(big, "GET /");
	memset(big + n, 'a', PC_HP_LINE_MAX - n - 11);
	strcpy(big + PC_HP_LINE_MAX - 11, " HTTP/1.1\r\n\r\n");
	assert_int_equal(scan(big), PC_HP_LINE_MAX + 2);
	memset(big + n, 'a', PC_HP_LINE_MAX - n - 10);
	strcpy(big + PC_HP_LINE_MAX - 10, " HTTP/1.1\r\n\r\n");
	assert_int_equal(scan(big), -414);
	big[PC_HP_LINE_MAX + 1] = '\0';
	assert_int_equal(scan(big), -414);
	/* Headers over PC_HP_HEAD_MAX: 431, as over PC_HP_NB_FIELDS_MAX. */
	n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nX: ");
	memset(big + n, 'a', PC_HP_HEAD_MAX - n);
	strcpy(big + PC_HP_HEAD_MAX, "\r\n\r\n");
	assert_int_equal(scan(big), -431);
	n = (size_t)sprintf(big, "GET / HTTP/1.1\r\n");
	for (int i = 0; i <= PC_HP_NB_FIELDS_MAX; i++)
		n += (size_t)sprintf(big + n, "A: b\r\n");
	strcpy(big + n, "\r\n");
	assert_int_equal(scan(big), -431);
	free(big);
}

static uint16_t parse(const char *req, struct pc_hp_req *r)
{
	static uint8_t buf[PC_HP_HEAD_MAX + PC_HP_HEAD_SLACK];
	struct pc_http_log log = {0};
	struct pc_hp_scan s = {0};
	size_t len = strlen(req);
	long end;

	memcpy(buf, req, len);
	end = pc_hp_scan(&s, buf, len);
	if (end < 0)
		return (uint16_t)-end;
	assert_true(end > 0);
	return pc_hp_req_parse(buf, (size_t)end, r, &log);
}

static void test_req_parse(void **state)
{
	static const struct {
		const char *req;
		uint16_t status;
	} cases[] = {
		{"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", 0},
		{"GET / HTTP/1.0\r\n\r\n", 0},
		{"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 0},
		{"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\n\r\n", 400},                         /* no Host */
		{"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400},   /* two */
		{"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: [::1]:443\r\n\r\n", 0},
		{"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400},
		{"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
		{"GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505},
		{"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400},
		{"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: a\r\n X: folded\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: a\r\nX : b\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: b\rc\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: b\x01\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: b\x7f\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n", 0},
		{"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
		 "Transfer-Encoding: chunked\r\n\r\n", 400},
		{"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		 "Transfer-Encoding: chunked\r\n\r\n", 501},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ChunKed \r\n\r\n", 0},
		{"GET / HTTP/1.1\r\nHost: a\r\nConnection: a\r\nConnection: b\r\nConnection: c\r\n"
		 "Connection: d\r\nConnection: e\r\nConnection: f\r\nConnection: g\r\n"
		 "Connection: h\r\nConnection: i\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", 400},
		{"GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	};
	struct pc_hp_req r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint16_t got = parse(cases[i].req, &r);

		if (got != cases[i].status)
			fail_msg("case %zu: %u, expected %u", i, got, cases[i].status);
	}
	assert_int_equal(parse("POST /x HTTP/1.1\r\nHost: A.Example:8443\r\n"
			       "Content-Length: 0042\r\nConnection: close\r\n\r\n", &r), 0);
	assert_string_equal(r.host, "A.Example");
	assert_true(r.http11 && r.has_host && !r.keep_alive && !r.chunked && !r.head);
	assert_int_equal(r.content_length, 42);
	assert_int_equal(parse("HEAD / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r), 0);
	assert_true(!r.http11 && !r.has_host && r.keep_alive && r.head);
	assert_string_equal(r.host, "");
	assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &r), 0);
	assert_false(r.keep_alive);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: [2001:db8::1]\r\n\r\n", &r), 0);
	assert_string_equal(r.host, "[2001:db8::1]");
	assert_true(r.keep_alive);
}

/* The whole rewritten head, written out in pieces of step bytes (each
 * the same). */
static char *rewrite_step(const char *req, const struct pc_hp_ident *id, struct pc_hp_req *r,
			  size_t step)
{
	static uint8_t buf[PC_HP_HEAD_MAX + PC_HP_HEAD_SLACK];
	struct pc_http_log log = {0};
	struct pc_hp_scan s = {0};
	struct pc_hp_out o;
	size_t len = strlen(req), total, w = 0;
	char *out;
	long end;

	memcpy(buf, req, len);
	end = pc_hp_scan(&s, buf, len);
	assert_true(end > 0);
	assert_int_equal(pc_hp_req_parse(buf, (size_t)end, r, &log), 0);
	pc_hp_req_rewrite(buf, (size_t)end, r, id, &o);
	total = pc_hp_out_left(&o);
	out = malloc(total + 1);
	while (pc_hp_out_left(&o) > 0) {
		size_t n = pc_hp_out_peek(&o, (uint8_t *)out + w, step);

		assert_true(n > 0 && n <= step);
		/* Written in two goes: the same bytes. */
		if (n > 1) {
			char again[64];

			pc_hp_out_skip(&o, 1);
			assert_int_equal(pc_hp_out_peek(&o, (uint8_t *)again,
							 n - 1 < sizeof(again) ? n - 1 : sizeof(again)),
					 n - 1 < sizeof(again) ? n - 1 : sizeof(again));
			assert_memory_equal(again, out + w + 1,
					    n - 1 < sizeof(again) ? n - 1 : sizeof(again));
			pc_hp_out_skip(&o, n - 1);
		} else {
			pc_hp_out_skip(&o, n);
		}
		w += n;
		assert_int_equal(pc_hp_out_left(&o), total - w);
	}
	out[w] = '\0';
	return out;
}

static char *rewrite(const char *req, const struct pc_hp_ident *id, struct pc_hp_req *r)
{
	char *a = rewrite_step(req, id, r, 1 << 20);
	struct pc_hp_req r2;

	for (size_t step = 1; step < 9; step++) {
		char *b = rewrite_step(req, id, &r2, step);

		assert_string_equal(a, b);
		free(b);
	}
	return a;
}

static void ident_defaults(struct pc_hp_ident *id)
{
	memset(id, 0, sizeof(*id));
	for (int h = 0; h < PC_BACKEND_NB_HEADERS; h++) {
		id->name[h] = pc_backend_header_default[h];
		id->drop[h] = pc_backend_header_default[h];
	}
}

/* Every default name, spelled as written, lower, upper and mixed: none
 * gets through, all else does, in order. */
static void test_forged(void **state)
{
	struct pc_hp_ident id;
	struct pc_hp_req r;
	char req[8192], expect[1024];
	size_t n;
	char *out;

	(void)state;
	ident_defaults(&id);
	n = (size_t)sprintf(req, "GET /a?b HTTP/1.1\r\nHost: a.example\r\n");
	for (int h = 0; h < PC_BACKEND_NB_HEADERS; h++) {
		const char *name = pc_backend_header_default[h];
		char low[64], up[64], mixed[64];
		size_t k = strlen(name);

		for (size_t i = 0; i <= k; i++) {
			low[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] | 0x20 : name[i]);
			up[i] = (char)((name[i] >= 'a' && name[i] <= 'z') ? name[i] & ~0x20 : name[i]);
			mixed[i] = i % 2 ? low[i] : up[i];
		}
		n += (size_t)sprintf(req + n, "%s: forged\r\n%s:forged\r\n%s: forged \r\n%s:\r\n",
				     name, low, up, mixed);
		n += (size_t)sprintf(req + n, "Keep-%d: yes\r\n", h);
	}
	/* Names that only start like one are kept. */
	n += (size_t)sprintf(req + n, "X-SSL-Client-Verify2: kept\r\nX-Forwarded: kept\r\n\r\n");
	id.value[PC_HDR_CLIENT_VERIFY] = "NONE";
	id.value[PC_HDR_FORWARDED_FOR] = "198.18.0.2";
	id.value[PC_HDR_FORWARDED_PROTO] = "https";
	out = rewrite(req, &id, &r);
	assert_int_equal(r.forged, 4 * PC_BACKEND_NB_HEADERS);
	n = (size_t)sprintf(expect, "GET /a?b HTTP/1.1\r\nHost: a.example\r\n");
	for (int h = 0; h < PC_BACKEND_NB_HEADERS; h++)
		n += (size_t)sprintf(expect + n, "Keep-%d: yes\r\n", h);
	sprintf(expect + n, "X-SSL-Client-Verify2: kept\r\nX-Forwarded: kept\r\n"
			    "X-SSL-Client-Verify: NONE\r\nX-Forwarded-For: 198.18.0.2\r\n"
			    "X-Forwarded-Proto: https\r\n\r\n");
	assert_string_equal(out, expect);
	free(out);

	/* A backend's own names: removed too, as the defaults are (even
	 * when the backend turns a header off), and added under its name. */
	ident_defaults(&id);
	id.name[PC_HDR_CLIENT_VERIFY] = "X-Verified";
	id.drop[PC_BACKEND_NB_HEADERS] = "X-Verified";
	id.name[PC_HDR_FORWARDED_PROTO] = NULL;
	id.value[PC_HDR_CLIENT_VERIFY] = "SUCCESS";
	id.value[PC_HDR_FORWARDED_PROTO] = "https";
	out = rewrite("GET / HTTP/1.1\r\nx-verified: SUCCESS\r\nHost: a\r\nX-SSL-Client-Verify: x\r\n"
		      "X-FORWARDED-PROTO: http\r\n\r\n", &id, &r);
	assert_string_equal(out, "GET / HTTP/1.1\r\nHost: a\r\nX-Verified: SUCCESS\r\n\r\n");
	assert_int_equal(r.forged, 3);
	free(out);
}

/* Every header the proxy adds, in its exact form. */
static void test_added(void **state)
{
	static const uint8_t c0[] = "foob", c1[] = "f", c2[] = "fo", c3[] = "foo",
			     c4[] = "foobar", c5[] = "fooba";
	struct pc_hp_ident id;
	struct pc_hp_req r;
	char *out;

	(void)state;
	ident_defaults(&id);
	id.value[PC_HDR_CLIENT_VERIFY] = "SUCCESS";
	id.value[PC_HDR_CLIENT_S_DN] = "/O=Example/CN=client one";
	id.value[PC_HDR_CLIENT_SAN] = "DNS:a.example,URI:spiffe://example.org/a";
	id.value[PC_HDR_CLIENT_SERIAL] = "2b00062465913e76";
	id.value[PC_HDR_CLIENT_FINGERPRINT] =
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	id.value[PC_HDR_CLIENT_IDENTITY] = "spiffe://example.org/a";
	id.value[PC_HDR_FORWARDED_FOR] = "198.18.0.2";
	id.value[PC_HDR_FORWARDED_PROTO] = "https";
	id.nb_certs = 6;
	id.cert[0] = c0;
	id.cert_len[0] = 4;
	id.cert[1] = c1;
	id.cert_len[1] = 1;
	id.cert[2] = c2;
	id.cert_len[2] = 2;
	id.cert[3] = c3;
	id.cert_len[3] = 3;
	id.cert[4] = c4;
	id.cert_len[4] = 6;
	id.cert[5] = c5;
	id.cert_len[5] = 5;
	out = rewrite("\r\nPOST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n", &id, &r);
	assert_string_equal(out,
			    "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
			    "X-SSL-Client-Verify: SUCCESS\r\n"
			    "X-SSL-Client-S-DN: /O=Example/CN=client one\r\n"
			    "X-SSL-Client-SAN: DNS:a.example,URI:spiffe://example.org/a\r\n"
			    "X-SSL-Client-Serial: 2b00062465913e76\r\n"
			    "X-SSL-Client-Fingerprint: "
			    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n"
			    "X-Client-Identity: spiffe://example.org/a\r\n"
			    "Client-Cert: :Zm9vYg==:\r\n"
			    "Client-Cert-Chain: :Zg==:, :Zm8=:, :Zm9v:, :Zm9vYmFy:, :Zm9vYmE=:\r\n"
			    "X-Forwarded-For: 198.18.0.2\r\n"
			    "X-Forwarded-Proto: https\r\n\r\n");
	free(out);
	/* The leaf alone: no Client-Cert-Chain. */
	id.nb_certs = 1;
	id.value[PC_HDR_CLIENT_SAN] = NULL;
	id.name[PC_HDR_CLIENT_S_DN] = NULL;
	out = rewrite("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &id, &r);
	assert_non_null(strstr(out, "\r\nClient-Cert: :Zm9vYg==:\r\nX-Forwarded-For"));
	assert_null(strstr(out, "Client-Cert-Chain"));
	assert_null(strstr(out, "S-DN"));
	assert_null(strstr(out, "SAN"));
	free(out);
	/* HTTP/1.0: the server connection is asked to stay. */
	ident_defaults(&id);
	out = rewrite("GET / HTTP/1.0\r\nConnection: close\r\n\r\n", &id, &r);
	assert_string_equal(out, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	free(out);
}

/* Hop-by-hop headers, and those Connection names (wherever they are),
 * do not go to the backend; the framing headers always do. */
static void test_hop_by_hop(void **state)
{
	struct pc_hp_ident id;
	struct pc_hp_req r;
	char *out;

	(void)state;
	ident_defaults(&id);
	out = rewrite("POST / HTTP/1.1\r\nX-Before: 1\r\nHost: a\r\nTE: trailers\r\n"
		      "Connection: x-before, Content-Length, host, X-After\r\nKeep-Alive: 5\r\n"
		      "Upgrade: h2c\r\nProxy-Connection: close\r\nContent-Length: 2\r\n"
		      "X-After: 2\r\nconnection: transfer-encoding\r\nX-Other: 3\r\n\r\n",
		      &id, &r);
	assert_string_equal(out, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
				 "X-Other: 3\r\n\r\n");
	assert_int_equal(r.hop, 8);
	assert_true(r.keep_alive);
	free(out);
}

static int resp(const char *head, bool head_request, struct pc_hp_resp *r)
{
	struct pc_hp_scan s = {0};
	size_t len = strlen(head);
	long end = pc_hp_scan(&s, (const uint8_t *)head, len);

	if (end <= 0)
		return -1;
	return pc_hp_resp_parse((const uint8_t *)head, (size_t)end, head_request, r);
}

static void test_resp_parse(void **state)
{
	static const struct {
		const char *head;
		bool head_request;
		int ret;
		enum pc_hp_framing framing;
		bool keep;
	} cases[] = {
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false, 0, PC_HP_BODY_LENGTH, true},
		{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, 0, PC_HP_BODY_NONE, true},
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true, 0, PC_HP_BODY_NONE, true},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, 0,
		 PC_HP_BODY_CHUNKED, true},
		{"HTTP/1.1 200 OK\r\n\r\n", false, 0, PC_HP_BODY_CLOSE, false},
		{"HTTP/1.1 200\r\nContent-Length: 1\r\n\r\n", false, 0, PC_HP_BODY_LENGTH, true},
		{"HTTP/1.1 200 \r\nContent-Length: 1\r\n\r\n", false, 0, PC_HP_BODY_LENGTH, true},
		{"HTTP/1.1 204 No Content\r\n\r\n", false, 0, PC_HP_BODY_NONE, true},
		{"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", false, 0,
		 PC_HP_BODY_NONE, true},
		{"HTTP/1.1 100 Continue\r\n\r\n", false, 0, PC_HP_BODY_NONE, true},
		{"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", false, 0, PC_HP_BODY_NONE, true},
		{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n", false, 0,
		 PC_HP_BODY_LENGTH, false},
		{"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", false, 0, PC_HP_BODY_LENGTH, false},
		{"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n", false, 0,
		 PC_HP_BODY_LENGTH, true},
		{"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", false, -1, 0, false},
		{"HTTP/2.0 200 OK\r\n\r\n", false, -1, 0, false},
		{"HTTP/1.1 20 OK\r\n\r\n", false, -1, 0, false},
		{"HTTP/1.1 099 OK\r\n\r\n", false, -1, 0, false},
		{"HTTP/1.1 200OK\r\n\r\n", false, -1, 0, false},
		{"HTTP/1.1 200 O\x01K\r\n\r\n", false, -1, 0, false},
		{"http/1.1 200 OK\r\n\r\n", false, -1, 0, false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", false, -1, 0,
		 false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", false,
		 -1, 0, false},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false, -1, 0, false},
		{"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", false, -1, 0, false},
		{"HTTP/1.1 200 OK\r\n folded\r\n\r\n", false, -1, 0, false},
		{"HTTP/1.1 200 OK\r\nA : b\r\n\r\n", false, -1, 0, false},
		{"HTTP/1.1 200 OK\nContent-Length: 1\r\n\r\n", false, -1, 0, false},
		{"garbage\r\n\r\n", false, -1, 0, false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pc_hp_resp r;
		int ret = resp(cases[i].head, cases[i].head_request, &r);

		if (ret != cases[i].ret)
			fail_msg("case %zu: %d, expected %d", i, ret, cases[i].ret);
		if (ret == 0 && (r.framing != cases[i].framing || r.keep_alive != cases[i].keep))
			fail_msg("case %zu: framing %d keep %d", i, r.framing, r.keep_alive);
	}
}

static void test_resp_rewrite(void **state)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nConnection: X-Hop, keep-alive\r\n"
				   "Keep-Alive: timeout=5\r\nX-Hop: 1\r\nContent-Length: 2\r\n"
				   "Transfer-Encoding-X: y\r\n\r\n";
	uint8_t buf[512];
	struct pc_hp_resp r;
	size_t n;

	(void)state;
	assert_int_equal(resp(head, false, &r), 0);
	memcpy(buf, head, sizeof(head) - 1);
	n = pc_hp_resp_rewrite(buf, sizeof(head) - 1, &r, true, false);
	assert_int_equal(n, strlen("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding-X: "
				   "y\r\nConnection: close\r\n\r\n"));
	assert_memory_equal(buf, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding-X: y\r\n"
				 "Connection: close\r\n\r\n", n);
	memcpy(buf, head, sizeof(head) - 1);
	n = pc_hp_resp_rewrite(buf, sizeof(head) - 1, &r, false, true);
	assert_memory_equal(buf, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding-X: y\r\n"
				 "Connection: keep-alive\r\n\r\n", n);
	memcpy(buf, head, sizeof(head) - 1);
	n = pc_hp_resp_rewrite(buf, sizeof(head) - 1, &r, false, false);
	assert_memory_equal(buf, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding-X: y\r\n"
				 "\r\n", n);
	/* An interim response gets no Connection. */
	assert_int_equal(resp("HTTP/1.1 100 Continue\r\n\r\n", false, &r), 0);
	memcpy(buf, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	n = pc_hp_resp_rewrite(buf, 25, &r, true, false);
	assert_int_equal(n, 25);
}

/* A body fed whole, then byte by byte: what passes, where it ends. */
static long body(enum pc_hp_framing f, uint64_t length, bool drop, const char *in, char *passed,
		 size_t *passed_len)
{
	struct pc_hp_body whole, bytes;
	size_t len = strlen(in), i = 0, w = 0, w2 = 0, consumed;
	char tmp[4096];
	long end = -1;

	pc_hp_body_init(&whole, f, length, drop);
	while (i < len && !whole.done) {
		bool pass;
		long n = pc_hp_body_scan(&whole, (const uint8_t *)in + i, len - i, &pass);

		if (n < 0)
			return -1;
		assert_true(n > 0);
		if (pass) {
			memcpy(passed + w, in + i, (size_t)n);
			w += (size_t)n;
		}
		i += (size_t)n;
	}
	end = whole.done ? (long)i : 0;
	consumed = i;
	*passed_len = w;
	pc_hp_body_init(&bytes, f, length, drop);
	for (i = 0; i < len && !bytes.done; i++) {
		bool pass;
		long n = pc_hp_body_scan(&bytes, (const uint8_t *)in + i, 1, &pass);

		assert_int_equal(n, 1);
		if (pass)
			tmp[w2++] = in[i];
	}
	assert_int_equal(bytes.done ? (long)i : 0, end);
	assert_int_equal(w2, w);
	assert_memory_equal(tmp, passed, w);
	assert_int_equal(whole.bytes, consumed);
	return end;
}

static void test_body(void **state)
{
	char out[4096];
	size_t n;

	(void)state;
	assert_int_equal(body(PC_HP_BODY_LENGTH, 5, false, "hello, next", out, &n), 5);
	assert_int_equal(body(PC_HP_BODY_LENGTH, 20, false, "hello", out, &n), 0);
	assert_int_equal(body(PC_HP_BODY_CLOSE, 0, false, "all of it", out, &n), 0);
	assert_int_equal(n, 9);
	assert_int_equal(body(PC_HP_BODY_NONE, 0, false, "next", out, &n), 0);
	assert_int_equal(n, 0);
	static const char chunked[] = "5\r\nhello\r\n1A;ext=\"v\"\r\nabcdefghijklmnopqrstuvwxyz\r\n"
				      "0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n";
	assert_int_equal(body(PC_HP_BODY_CHUNKED, 0, false, chunked, out, &n), strlen(chunked));
	assert_int_equal(n, strlen(chunked));
	/* Requests: trailer fields stay here, the last empty line goes. */
	assert_int_equal(body(PC_HP_BODY_CHUNKED, 0, true, chunked, out, &n), strlen(chunked));
	assert_int_equal(n, strlen(chunked) - strlen("X-Trailer: 1\r\nY: 2\r\n"));
	assert_memory_equal(out, "5\r\nhello\r\n1A;ext=\"v\"\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n",
			    n);
	assert_int_equal(body(PC_HP_BODY_CHUNKED, 0, true, "0\r\n\r\nGET", out, &n), 5);
	assert_int_equal(body(PC_HP_BODY_CHUNKED, 0, false, "00000\r\n\r\n", out, &n), 9);
	assert_int_equal(body(PC_HP_BODY_CHUNKED, 0, false, "5\r\nhel", out, &n), 0);
	/* Broken framing. */
	static const char *const bad[] = {
		"\r\n", "x\r\n", "5 \r\nhello\r\n0\r\n\r\n", "5\nhello\r\n0\r\n\r\n",
		"5\r\nhelloX\r\n0\r\n\r\n", "5\r\nhello\r\r\n", "-1\r\n",
		"10000000000000000\r\n", "0\r\n folded: x\r\n\r\n", "0\r\n\r\r\n",
		"0\r\nX: \x01\r\n\r\n", "5;\x01\r\nhello\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (body(PC_HP_BODY_CHUNKED, 0, i % 2 == 0, bad[i], out, &n) != -1)
			fail_msg("bad case %zu taken", i);
}

static void test_san_line(void **state)
{
	char out[512];
	int n;

	(void)state;
	n = pc_cert_san_line(san_cert, sizeof(san_cert), out, sizeof(out));

	assert_int_equal(n, (int)strlen(out));
	assert_string_equal(out, "DNS:a.example,URI:spiffe://example.org/ns/a%252Cb,"
				 "email:u@example.com,IP:198.18.0.7,IP:2001:db8::1,DNS:b.example");
	/* Too small for it, or not a certificate. */
	assert_int_equal(pc_cert_san_line(san_cert, sizeof(san_cert), out, 40), -1);
	assert_int_equal(pc_cert_san_line(san_cert, sizeof(san_cert) - 1, out, sizeof(out)), -1);
	assert_int_equal(pc_cert_san_line((const uint8_t *)"\x30\x00", 2, out, sizeof(out)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan),       cmocka_unit_test(test_req_parse),
		cmocka_unit_test(test_forged),     cmocka_unit_test(test_added),
		cmocka_unit_test(test_hop_by_hop), cmocka_unit_test(test_resp_parse),
		cmocka_unit_test(test_resp_rewrite), cmocka_unit_test(test_body),
		cmocka_unit_test(test_san_line),
	};

	return cmocka_run_group_tests_name("http_proxy", tests, NULL, NULL);
}
