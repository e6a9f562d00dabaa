/* SPDX-License-Identifier: MIT */
/*
 * The HTTP responder: request bytes in, responses and access-log records
 * out. Every table case runs fed whole, byte by byte and in 7-byte pieces,
 * with output pulled through 1-byte, 7-byte and 16 KiB buffers, and must
 * give the same bytes each time; every response's status line and
 * Content-Length are checked against its log record.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pc_http.h"

#define MAX_RESP 8

/* The environments the cases run in. */
enum { E_PLAIN, E_MATCH, E_FAILED, E_PROT, E_PROT_ID, E_NO_SNI, E_COUNT };

#define LONG_PREFIX                                                                         \
	"/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" \
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static const struct pc_http_env envs[E_COUNT] = {
	[E_PLAIN] = {.sni = "example.com"},
	[E_MATCH] = {.sni = "example.com", .identity = "client-a", .host_must_match = true},
	[E_FAILED] = {.sni = "example.com", .verify_failed_403 = true},
	[E_PROT] = {.sni = "example.com",
		    .nb_protected = 3,
		    .protected = {"/bytes/", "/admin", LONG_PREFIX}},
	[E_PROT_ID] = {.sni = "example.com",
		       .identity = "spiffe://x/y",
		       .nb_protected = 3,
		       .protected = {"/bytes/", "/admin", LONG_PREFIX}},
	[E_NO_SNI] = {.sni = "", .identity = "client-a", .host_must_match = true},
};

struct result {
	uint8_t *out;
	size_t out_len, out_size;
	char log[2048];
	size_t log_len;
	unsigned int nb_resp;
	uint64_t resp_body[MAX_RESP];
	bool resp_head[MAX_RESP];
	size_t consumed;
	bool closed;
};

static void on_done(void *arg, const struct pc_http_log *rec)
{
	struct result *r = arg;

	r->log_len += (size_t)snprintf(r->log + r->log_len, sizeof(r->log) - r->log_len,
				       "%s %s %u %" PRIu64 " %" PRIu64 "|", rec->method, rec->path,
				       rec->status, rec->body_bytes, rec->request_body_bytes);
	assert_true(r->log_len < sizeof(r->log));
	assert_true(r->nb_resp < MAX_RESP);
	r->resp_body[r->nb_resp] = rec->body_bytes;
	r->resp_head[r->nb_resp++] = strcmp(rec->method, "HEAD") == 0;
}

static void append(struct result *r, const uint8_t *p, size_t n)
{
	if (r->out_len + n > r->out_size) {
		r->out_size = (r->out_len + n) * 2;
		r->out = realloc(r->out, r->out_size);
		assert_non_null(r->out);
	}
	memcpy(r->out + r->out_len, p, n);
	r->out_len += n;
}

/* Drives a connection the way the TLS layer does: take all output, feed
 * the next piece (again from what was not consumed); fewer bytes consumed
 * than offered must mean a response is pending or the connection is done. */
static void run(const struct pc_http_env *env, const char *in, size_t len, size_t piece,
		size_t cap, struct result *r)
{
	struct pc_http_conn h;
	uint8_t *buf = malloc(cap);
	size_t pos = 0;
	bool held = false;

	assert_non_null(buf);
	memset(r, 0, sizeof(*r));
	pc_http_init(&h, env, on_done, r);
	for (;;) {
		size_t n, got = 0;

		while ((n = pc_http_output(&h, buf, cap)) > 0) {
			assert_true(n <= cap);
			append(r, buf, n);
			got += n;
		}
		if (pc_http_done(&h) || pos == len)
			break;
		if (held && got == 0)
			fail_msg("stalled at byte %zu", pos);
		size_t take = len - pos < piece ? len - pos : piece;
		size_t c = pc_http_input(&h, (const uint8_t *)in + pos, take);

		assert_true(c <= take);
		held = c < take;
		pos += c;
	}
	r->consumed = pos;
	r->closed = pc_http_done(&h);
	free(buf);
}

/* Each response: a status line matching its log record, then
 * Content-Length bytes of body (none for HEAD). */
static void check_responses(const struct result *r)
{
	size_t off = 0;

	for (unsigned int i = 0; i < r->nb_resp; i++) {
		const char *p = (const char *)r->out + off;
		size_t left = r->out_len - off;
		const uint8_t *end = memmem(p, left, "\r\n\r\n", 4);
		const char *cl;

		assert_true(left > 9 && memcmp(p, "HTTP/1.1 ", 9) == 0);
		assert_non_null(end);
		cl = memmem(p, (size_t)(end - (const uint8_t *)p), "\r\nContent-Length: ", 18);
		assert_non_null(cl);
		uint64_t length = strtoull(cl + 18, NULL, 10);

		if (r->resp_head[i])
			assert_int_equal(r->resp_body[i], 0);
		else
			assert_int_equal(length, r->resp_body[i]);
		off += (size_t)(end + 4 - (const uint8_t *)p) + r->resp_body[i];
		assert_true(off <= r->out_len);
	}
	assert_int_equal(off, r->out_len);
}

struct http_case {
	const char *name;
	int env;
	const char *in;
	const char *log; /* "method path status body_bytes request_body_bytes|" each */
	bool closed;
	size_t consumed; /* 0: all of in */
	size_t len;      /* 0: strlen(in); set for an input holding a NUL */
};

#define HOST "Host: example.com\r\n"
#define GET_ROOT "GET / HTTP/1.1\r\n" HOST "\r\n"
#define ALPHABET "abcdefghijklmnopqrstuvwxyz"
#define NUL_VALUE "GET / HTTP/1.1\r\n" HOST "X: a\0b\r\n\r\n"
#define NUL_NAME "GET / HTTP/1.1\r\n" HOST "X\0: a\r\n\r\n"

static const struct http_case cases[] = {
	/* Good requests. */
	{"get root", E_PLAIN, GET_ROOT, "GET / 200 15 0|", false, 0},
	{"head root", E_PLAIN, "HEAD / HTTP/1.1\r\n" HOST "\r\n", "HEAD / 200 0 0|", false, 0},
	{"post upload", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST "Content-Length: 5\r\n\r\nhello",
	 "POST /upload 200 11 5|", false, 0},
	{"put upload chunked", E_PLAIN,
	 "PUT /upload HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n"
	 "5\r\nhello\r\n1a;name=\"v\" ;x\r\n" ALPHABET "\r\n0\r\nX-Sum: 1\r\n\r\n",
	 "PUT /upload 200 12 31|", false, 0},
	{"chunked in capitals", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST "Transfer-Encoding:  Chunked \r\n\r\n"
	 "A\r\n0123456789\r\n00\r\n\r\n",
	 "POST /upload 200 12 10|", false, 0},
	{"get with a body", E_PLAIN, "GET / HTTP/1.1\r\n" HOST "Content-Length: 3\r\n\r\nabc",
	 "GET / 200 15 3|", false, 0},
	{"query string", E_PLAIN, "GET /bytes/5?x=1 HTTP/1.1\r\n" HOST "\r\n",
	 "GET /bytes/5?x=1 200 5 0|", false, 0},
	{"empty line first", E_PLAIN, "\r\n" GET_ROOT, "GET / 200 15 0|", false, 0},
	{"case and OWS", E_PLAIN,
	 "GET / HTTP/1.1\r\nhOsT:\t example.com \t\r\ncontent-LENGTH:  0 \r\n"
	 "X-Text: caf\xc3\xa9 au lait\r\nX-Empty:\r\n\r\n",
	 "GET / 200 15 0|", false, 0},
	/* Keep-alive. */
	{"1.1 close", E_PLAIN, "GET / HTTP/1.1\r\n" HOST "Connection: close\r\n\r\n",
	 "GET / 200 15 0|", true, 0},
	{"1.1 close in a list", E_PLAIN,
	 "GET / HTTP/1.1\r\n" HOST "Connection: keep-alive,Upgrade\r\nConnection: x , CLOSE\r\n\r\n",
	 "GET / 200 15 0|", true, 0},
	{"1.1 closed is not close", E_PLAIN,
	 "GET / HTTP/1.1\r\n" HOST "Connection: closed, clos\r\n\r\n", "GET / 200 15 0|", false, 0},
	{"1.0", E_PLAIN, "GET / HTTP/1.0\r\n\r\n", "GET / 200 15 0|", true, 0},
	{"1.0 keep-alive", E_PLAIN, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
	 "GET / 200 15 0|", false, 0},
	{"1.0 keep-alive and close", E_PLAIN,
	 "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", "GET / 200 15 0|", true, 0},
	/* Pipelining. */
	{"three pipelined", E_PLAIN,
	 GET_ROOT "HEAD /bytes/3 HTTP/1.1\r\n" HOST "\r\n"
		  "POST /upload HTTP/1.1\r\n" HOST "Content-Length: 2\r\n\r\nhi",
	 "GET / 200 15 0|HEAD /bytes/3 200 0 0|POST /upload 200 11 2|", false, 0},
	{"nothing after close", E_PLAIN,
	 GET_ROOT "GET /bytes/1 HTTP/1.1\r\n" HOST "Connection: close\r\n\r\n" GET_ROOT,
	 "GET / 200 15 0|GET /bytes/1 200 1 0|", true, 37 + 63},
	{"error ends the pipeline", E_PLAIN, GET_ROOT "GET / HTTP/1.1\n" GET_ROOT,
	 "GET / 200 15 0|GET / 400 12 0|", true, 37 + 15},
	/* Routes. */
	{"405", E_PLAIN, "DELETE / HTTP/1.1\r\n" HOST "\r\n", "DELETE / 405 19 0|", false, 0},
	{"405 long method", E_PLAIN, "PROPFINDX / HTTP/1.1\r\n" HOST "\r\n",
	 "PROPFIN / 405 19 0|", false, 0},
	{"405 lower-case get", E_PLAIN, "get / HTTP/1.1\r\n" HOST "\r\n", "get / 405 19 0|", false,
	 0},
	{"OPTIONS *", E_PLAIN, "OPTIONS * HTTP/1.1\r\n" HOST "\r\n", "OPTIONS * 405 19 0|", false,
	 0},
	{"OPTIONSX *", E_PLAIN, "OPTIONSX * HTTP/1.1\r\n" HOST "\r\n", "OPTIONS * 400 12 0|", true,
	 11},
	{"GET *", E_PLAIN, "GET * HTTP/1.1\r\n" HOST "\r\n", "GET * 400 12 0|", true, 6},
	{"OPTIONS *x", E_PLAIN, "OPTIONS *x HTTP/1.1\r\n" HOST "\r\n", "OPTIONS *x 400 12 0|", true,
	 11},
	{"absolute-form", E_PLAIN, "GET http://example.com/ HTTP/1.1\r\n" HOST "\r\n",
	 "GET  400 12 0|", true, 5},
	{"404", E_PLAIN, "GET /nope HTTP/1.1\r\n" HOST "\r\n", "GET /nope 404 10 0|", false, 0},
	{"404 POST /", E_PLAIN, "POST / HTTP/1.1\r\n" HOST "\r\n", "POST / 404 10 0|", false, 0},
	{"404 GET /upload", E_PLAIN, "GET /upload HTTP/1.1\r\n" HOST "\r\n",
	 "GET /upload 404 10 0|", false, 0},
	{"404 /upload/", E_PLAIN, "PUT /upload/ HTTP/1.1\r\n" HOST "\r\n",
	 "PUT /upload/ 404 10 0|", false, 0},
	{"404 /bytes/", E_PLAIN, "GET /bytes/ HTTP/1.1\r\n" HOST "\r\n", "GET /bytes/ 404 10 0|",
	 false, 0},
	{"404 /bytes/1x", E_PLAIN, "GET /bytes/1x HTTP/1.1\r\n" HOST "\r\n",
	 "GET /bytes/1x 404 10 0|", false, 0},
	{"404 /bytes/ over 2^40", E_PLAIN, "GET /bytes/1099511627777 HTTP/1.1\r\n" HOST "\r\n",
	 "GET /bytes/1099511627777 404 10 0|", false, 0},
	{"404 /bytes/ 14 digits", E_PLAIN, "GET /bytes/00000000000001 HTTP/1.1\r\n" HOST "\r\n",
	 "GET /bytes/00000000000001 404 10 0|", false, 0},
	{"HEAD /bytes/2^40", E_PLAIN, "HEAD /bytes/1099511627776 HTTP/1.1\r\n" HOST "\r\n",
	 "HEAD /bytes/1099511627776 200 0 0|", false, 0},
	/* Refused framing: 400 (501 for an unknown coding) and close. */
	{"duplicate CL equal", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST "Content-Length: 1\r\nContent-Length: 1\r\n\r\nx",
	 "POST /upload 400 12 0|", true, 76},
	{"duplicate CL differing", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST "Content-Length: 1\r\ncontent-length: 2\r\n\r\nxy",
	 "POST /upload 400 12 0|", true, 76},
	{"CL list", E_PLAIN, "POST /upload HTTP/1.1\r\n" HOST "Content-Length: 1, 1\r\n\r\nx",
	 "POST /upload 400 12 0|", true, 60},
	{"CL and TE", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST
	 "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	 "POST /upload 400 12 0|", true, 91},
	{"TE and CL", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST
	 "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
	 "POST /upload 400 12 0|", true, 91},
	{"TE in 1.0", E_PLAIN,
	 "POST /upload HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	 "POST /upload 400 12 0|", true, 53},
	{"TE gzip", E_PLAIN, "POST /upload HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip\r\n\r\n",
	 "POST /upload 501 16 0|", true, 0},
	{"TE gzip, chunked", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip, chunked\r\n\r\n",
	 "POST /upload 501 16 0|", true, 0},
	{"TE chunked twice", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST
	 "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	 "POST /upload 501 16 0|", true, 0},
	{"TE chunkedx", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST "Transfer-Encoding: chunkedx\r\n\r\n",
	 "POST /upload 501 16 0|", true, 0},
	{"TE empty", E_PLAIN, "POST /upload HTTP/1.1\r\n" HOST "Transfer-Encoding:\r\n\r\n",
	 "POST /upload 501 16 0|", true, 0},
	{"CL sign", E_PLAIN, "POST /upload HTTP/1.1\r\n" HOST "Content-Length: +5\r\n\r\n",
	 "POST /upload 400 12 0|", true, 59},
	{"CL empty", E_PLAIN, "POST /upload HTTP/1.1\r\n" HOST "Content-Length: \r\n\r\n",
	 "POST /upload 400 12 0|", true, 59},
	{"CL overflow", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST "Content-Length: 18446744073709551616\r\n\r\n",
	 "POST /upload 400 12 0|", true, 78},
	{"CL at the maximum", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST "Content-Length: 18446744073709551615\r\n\r\nabc", "",
	 false, 0},
	{"bad chunk size", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\ng\r\n",
	 "POST /upload 400 12 0|", true, 73},
	{"chunk size with space", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n",
	 "POST /upload 400 12 0|", true, 74},
	{"chunk size with 0x", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n",
	 "POST /upload 400 12 0|", true, 74},
	{"chunk size empty", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n;x\r\n",
	 "POST /upload 400 12 0|", true, 73},
	{"chunk size overflow", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
	 "POST /upload 400 12 0|", true, 89},
	{"chunk without CRLF", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n2\r\nhiX\r\n0\r\n\r\n",
	 "POST /upload 400 12 2|", true, 78},
	{"chunk with bare LF", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n2\r\nhi\n0\r\n\r\n",
	 "POST /upload 400 12 2|", true, 78},
	{"chunk size bare LF", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n2\nhi\r\n0\r\n\r\n",
	 "POST /upload 400 12 0|", true, 74},
	{"CTL in chunk extension", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n5;a\x01\r\n",
	 "POST /upload 400 12 0|", true, 76},
	{"chunk size bare CR", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n5\rhello\r\n",
	 "POST /upload 400 12 0|", true, 75},
	{"chunk data bare CR", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n2\r\nhi\rX\n0\r\n\r\n",
	 "POST /upload 400 12 2|", true, 79},
	{"trailer obs-fold", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\n c\r\n\r\n",
	 "POST /upload 400 12 0|", true, 82},
	{"trailer bad name", E_PLAIN,
	 "POST /upload HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n0\r\nA b: c\r\n\r\n",
	 "POST /upload 400 12 0|", true, 77},
	/* Refused header syntax. */
	{"obs-fold", E_PLAIN, "GET / HTTP/1.1\r\n" HOST "X: a\r\n b\r\n\r\n", "GET / 400 12 0|",
	 true, 42},
	{"space before colon", E_PLAIN, "GET / HTTP/1.1\r\nHost : example.com\r\n\r\n",
	 "GET / 400 12 0|", true, 21},
	{"tab before colon", E_PLAIN, "GET / HTTP/1.1\r\n" HOST "X\t: y\r\n\r\n", "GET / 400 12 0|",
	 true, 37},
	{"empty name", E_PLAIN, "GET / HTTP/1.1\r\n" HOST ": y\r\n\r\n", "GET / 400 12 0|", true,
	 36},
	{"bare LF request line", E_PLAIN, "GET / HTTP/1.1\n" HOST "\r\n", "GET / 400 12 0|", true,
	 15},
	{"bare LF header", E_PLAIN, "GET / HTTP/1.1\r\nHost: example.com\n\r\n", "GET / 400 12 0|",
	 true, 34},
	{"bare LF end", E_PLAIN, "GET / HTTP/1.1\r\n" HOST "\n", "GET / 400 12 0|", true, 0},
	{"bare CR header", E_PLAIN, "GET / HTTP/1.1\r\nHost: example.com\rX: y\r\n\r\n",
	 "GET / 400 12 0|", true, 35},
	{"bare CR end", E_PLAIN, "GET / HTTP/1.1\r\n" HOST "\rX\r\n", "GET / 400 12 0|", true, 37},
	{"bare CR request line", E_PLAIN, "GET / HTTP/1.1\rX\r\n" HOST "\r\n", "GET / 400 12 0|",
	 true, 16},
	{"NUL in value", E_PLAIN, NUL_VALUE, "GET / 400 12 0|", true, 40, sizeof(NUL_VALUE) - 1},
	{"CTL in value", E_PLAIN, "GET / HTTP/1.1\r\n" HOST "X: a\x01" "b\r\n\r\n",
	 "GET / 400 12 0|", true, 40},
	{"DEL in value", E_PLAIN, "GET / HTTP/1.1\r\n" HOST "X: a\x7f\r\n\r\n", "GET / 400 12 0|",
	 true, 40},
	{"NUL in name", E_PLAIN, NUL_NAME, "GET / 400 12 0|", true, 37, sizeof(NUL_NAME) - 1},
	{"CTL in target", E_PLAIN, "GET /a\x01 HTTP/1.1\r\n" HOST "\r\n", "GET /a 400 12 0|", true,
	 7},
	{"obs-text in target", E_PLAIN, "GET /\xc3\xa9 HTTP/1.1\r\n" HOST "\r\n", "GET / 400 12 0|",
	 true, 6},
	{"no Host in 1.1", E_PLAIN, "GET / HTTP/1.1\r\nX: y\r\n\r\n", "GET / 400 12 0|", true, 0},
	{"two Hosts", E_PLAIN, "GET / HTTP/1.1\r\n" HOST HOST "\r\n", "GET / 400 12 0|", true, 40},
	{"Host with userinfo", E_PLAIN, "GET / HTTP/1.1\r\nHost: u@example.com\r\n\r\n",
	 "GET / 400 12 0|", true, 24},
	{"Host with a space", E_PLAIN, "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "GET / 400 12 0|",
	 true, 25},
	{"Host bad port", E_PLAIN, "GET / HTTP/1.1\r\nHost: example.com:8x\r\n\r\n",
	 "GET / 400 12 0|", true, 36},
	{"Host open bracket", E_PLAIN, "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", "GET / 400 12 0|",
	 true, 27},
	{"Host after bracket", E_PLAIN, "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n",
	 "GET / 400 12 0|", true, 28},
	{"Host IP literal", E_PLAIN, "GET / HTTP/1.1\r\nHost: [::1]:443\r\n\r\n", "GET / 200 15 0|",
	 false, 0},
	{"version 1.2", E_PLAIN, "GET / HTTP/1.2\r\n" HOST "\r\n", "GET / 505 27 0|", true, 16},
	{"version 2.0", E_PLAIN, "GET / HTTP/2.0\r\n" HOST "\r\n", "GET / 505 27 0|", true, 16},
	{"version 0.9", E_PLAIN, "GET / HTTP/0.9\r\n\r\n", "GET / 505 27 0|", true, 16},
	{"version letter", E_PLAIN, "GET / HTTP/x.1\r\n" HOST "\r\n", "GET / 400 12 0|", true, 12},
	{"version 1.10", E_PLAIN, "GET / HTTP/1.10\r\n" HOST "\r\n", "GET / 400 12 0|", true, 15},
	{"version lower-case", E_PLAIN, "GET / http/1.1\r\n" HOST "\r\n", "GET / 400 12 0|", true, 7},
	{"version short", E_PLAIN, "GET / HTTP/1\r\n" HOST "\r\n", "GET / 400 12 0|", true, 13},
	{"version then space", E_PLAIN, "GET / HTTP/1.1 \r\n" HOST "\r\n", "GET / 400 12 0|", true,
	 15},
	{"no version", E_PLAIN, "GET /\r\n" HOST "\r\n", "GET / 400 12 0|", true, 6},
	{"two spaces", E_PLAIN, "GET  / HTTP/1.1\r\n" HOST "\r\n", "GET  400 12 0|", true, 5},
	{"empty method", E_PLAIN, " / HTTP/1.1\r\n" HOST "\r\n", "  400 12 0|", true, 1},
	{"bad method", E_PLAIN, "GE(T / HTTP/1.1\r\n" HOST "\r\n", "GE  400 12 0|", true, 3},
	{"bare CR first", E_PLAIN, "\r" GET_ROOT, "  400 12 0|", true, 2},
	{"bare LF first", E_PLAIN, "\n" GET_ROOT, "  400 12 0|", true, 1},
	/* Policy. */
	{"verify failed", E_FAILED, GET_ROOT, "GET / 403 10 0|", false, 0},
	{"verify failed before 405", E_FAILED, "DELETE / HTTP/1.1\r\n" HOST "\r\n",
	 "DELETE / 403 10 0|", false, 0},
	{"Host matches", E_MATCH, GET_ROOT, "GET / 200 19 0|", false, 0},
	{"Host case and port", E_MATCH, "GET / HTTP/1.1\r\nHost: Example.COM:8443\r\n\r\n",
	 "GET / 200 19 0|", false, 0},
	{"Host empty port", E_MATCH, "GET / HTTP/1.1\r\nHost: example.com:\r\n\r\n",
	 "GET / 200 19 0|", false, 0},
	{"Host trailing dot", E_MATCH, "GET / HTTP/1.1\r\nHost: example.com.\r\n\r\n",
	 "GET / 421 20 0|", false, 0},
	{"Host shorter", E_MATCH, "GET / HTTP/1.1\r\nHost: example.co\r\n\r\n", "GET / 421 20 0|",
	 false, 0},
	{"Host longer", E_MATCH, "GET / HTTP/1.1\r\nHost: example.comm:443\r\n\r\n",
	 "GET / 421 20 0|", false, 0},
	{"Host other", E_MATCH, "GET / HTTP/1.1\r\nHost: other.example\r\n\r\n", "GET / 421 20 0|",
	 false, 0},
	{"Host empty", E_MATCH, "GET / HTTP/1.1\r\nHost:\r\n\r\n", "GET / 421 20 0|", false, 0},
	{"no Host in 1.0", E_MATCH, "GET / HTTP/1.0\r\n\r\n", "GET / 421 20 0|", true, 0},
	{"421 before 405", E_MATCH, "BREW / HTTP/1.1\r\nHost: x\r\n\r\n", "BREW / 421 20 0|", false,
	 0},
	{"no SNI", E_NO_SNI, GET_ROOT, "GET / 421 20 0|", false, 0},
	{"no SNI empty Host", E_NO_SNI, "GET / HTTP/1.1\r\nHost:\r\n\r\n", "GET / 421 20 0|", false,
	 0},
	{"protected", E_PROT, "GET /bytes/5 HTTP/1.1\r\n" HOST "\r\n", "GET /bytes/5 403 10 0|",
	 false, 0},
	{"protected before 404", E_PROT, "GET /admin/x HTTP/1.1\r\n" HOST "\r\n",
	 "GET /admin/x 403 10 0|", false, 0},
	{"protected before 405", E_PROT, "DELETE /admin HTTP/1.1\r\n" HOST "\r\n",
	 "DELETE /admin 403 10 0|", false, 0},
	{"not protected", E_PROT, "GET /adm HTTP/1.1\r\n" HOST "\r\n", "GET /adm 404 10 0|", false,
	 0},
	{"root not protected", E_PROT, GET_ROOT, "GET / 200 15 0|", false, 0},
	{"protected with identity", E_PROT_ID, "GET /bytes/5 HTTP/1.1\r\n" HOST "\r\n",
	 "GET /bytes/5 200 5 0|", false, 0},
	{"identity", E_PROT_ID, GET_ROOT, "GET / 200 23 0|", false, 0},
	{"cut path fails closed", E_PROT,
	 "GET /bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbc HTTP/1.1\r\n" HOST "\r\n",
	 "GET /bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb 403 10 0|", false, 0},
};

static void run_all_ways(const struct pc_http_env *env, const char *in, size_t len,
			 struct result *first)
{
	static const size_t pieces[] = {SIZE_MAX, 1, 7};
	static const size_t caps[] = {16384, 1, 7};

	run(env, in, len, pieces[0], caps[0], first);
	check_responses(first);
	for (size_t p = 0; p < 3; p++)
		for (size_t c = 0; c < 3; c++) {
			struct result r;

			if (p == 0 && c == 0)
				continue;
			run(env, in, len, pieces[p], caps[c], &r);
			if (r.out_len != first->out_len ||
			    (r.out_len > 0 && memcmp(r.out, first->out, r.out_len) != 0) ||
			    strcmp(r.log, first->log) ||
			    r.closed != first->closed || r.consumed != first->consumed)
				fail_msg("piece %zu, cap %zu: differs from whole (%s vs %s)", pieces[p],
					 caps[c], r.log, first->log);
			free(r.out);
		}
}

static void test_cases(void **state)
{
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct http_case *c = &cases[i];
		size_t len = c->len ? c->len : strlen(c->in);
		struct result r;

		run_all_ways(&envs[c->env], c->in, len, &r);
		if (strcmp(r.log, c->log) != 0 || r.closed != c->closed ||
		    r.consumed != (c->consumed ? c->consumed : len)) {
			print_error("%s: got '%s' %s consumed %zu, expected '%s' %s consumed %zu\n",
				    c->name, r.log, r.closed ? "closed" : "open", r.consumed, c->log,
				    c->closed ? "closed" : "open", c->consumed ? c->consumed : len);
			failed++;
		}
		free(r.out);
	}
	assert_int_equal(failed, 0);
}

#define HEAD_OF(status, length) \
	"HTTP/1.1 " status "\r\nServer: portcullis\r\nContent-Type: text/plain\r\n" \
	"Content-Length: " length "\r\n"

static const struct {
	int env;
	const char *in, *out;
} exact[] = {
	{E_PLAIN, GET_ROOT, HEAD_OF("200 OK", "15") "\r\nidentity: NONE\n"},
	{E_MATCH, "HEAD / HTTP/1.1\r\n" HOST "\r\n", HEAD_OF("200 OK", "19") "\r\n"},
	{E_MATCH, GET_ROOT, HEAD_OF("200 OK", "19") "\r\nidentity: client-a\n"},
	{E_PLAIN, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	 HEAD_OF("200 OK", "15") "Connection: keep-alive\r\n\r\nidentity: NONE\n"},
	{E_PLAIN, "GET /bytes/20 HTTP/1.0\r\n\r\n",
	 HEAD_OF("200 OK", "20") "Connection: close\r\n\r\n0123456789abcdef0123"},
	{E_PLAIN, "POST /upload HTTP/1.1\r\n" HOST "Content-Length: 5\r\n\r\nhello",
	 HEAD_OF("200 OK", "11") "\r\nreceived 5\n"},
	{E_PLAIN, "PATCH / HTTP/1.1\r\n" HOST "\r\n",
	 HEAD_OF("405 Method Not Allowed", "19") "Allow: GET, HEAD, POST, PUT\r\n\r\n"
						 "Method Not Allowed\n"},
	{E_PLAIN, "GET / HTTP/1.1\r\n\r\n",
	 HEAD_OF("400 Bad Request", "12") "Connection: close\r\n\r\nBad Request\n"},
	{E_PLAIN, "HEAD / HTTP/1.1\r\n\r\n", HEAD_OF("400 Bad Request", "12") "Connection: close\r\n\r\n"},
	{E_PLAIN, "GET / HTTP/1.1\r\n" HOST "Connection: close\r\n\r\n",
	 HEAD_OF("200 OK", "15") "Connection: close\r\n\r\nidentity: NONE\n"},
	{E_MATCH, "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
	 HEAD_OF("421 Misdirected Request", "20") "\r\nMisdirected Request\n"},
	{E_PLAIN, "GET / HTTP/3.0\r\n\r\n",
	 HEAD_OF("505 HTTP Version Not Supported", "27") "Connection: close\r\n\r\n"
							 "HTTP Version Not Supported\n"},
};

static void test_exact(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		struct result r;

		run_all_ways(&envs[exact[i].env], exact[i].in, strlen(exact[i].in), &r);
		if (r.out_len != strlen(exact[i].out) || memcmp(r.out, exact[i].out, r.out_len))
			fail_msg("%s: got\n%.*s", exact[i].in, (int)r.out_len, r.out);
		free(r.out);
	}
}

/* /bytes/N: the length and the pattern, through small and large buffers. */
static void test_bytes(void **state)
{
	static const uint64_t sizes[] = {0, 1, 17, 10 << 20};
	static const size_t caps[] = {1, 7, 16384};

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (size_t j = 0; j < sizeof(caps) / sizeof(caps[0]); j++) {
			char in[64], expect[64];
			struct result r;

			snprintf(in, sizeof(in), "GET /bytes/%" PRIu64 " HTTP/1.1\r\n" HOST "\r\n",
				 sizes[i]);
			run(&envs[E_PLAIN], in, strlen(in), SIZE_MAX, caps[j], &r);
			check_responses(&r);
			snprintf(expect, sizeof(expect), "GET /bytes/%" PRIu64 " 200 %" PRIu64 " 0|",
				 sizes[i], sizes[i]);
			assert_string_equal(r.log, expect);
			assert_true(r.out_len >= sizes[i]);
			const uint8_t *body = r.out + r.out_len - sizes[i];

			for (uint64_t k = 0; k < sizes[i]; k++)
				if (body[k] != "0123456789abcdef"[k & 15])
					fail_msg("/bytes/%" PRIu64 " cap %zu: byte %" PRIu64 " is %#x",
						 sizes[i], caps[j], k, body[k]);
			free(r.out);
		}
}

/* Pipelined requests are taken one at a time: input stops at the end of a
 * request until its response has been pulled. */
static void test_pipeline_held(void **state)
{
	static const char in[] = GET_ROOT "HEAD /bytes/3 HTTP/1.1\r\n" HOST "\r\n" GET_ROOT;
	struct pc_http_conn h;
	struct result r;
	uint8_t buf[4096];
	size_t pos = 0;

	(void)state;
	memset(&r, 0, sizeof(r));
	pc_http_init(&h, &envs[E_PLAIN], on_done, &r);
	assert_int_equal(pc_http_input(&h, (const uint8_t *)in, sizeof(in) - 1), 37);
	assert_int_equal(pc_http_input(&h, (const uint8_t *)in + 37, sizeof(in) - 1 - 37), 0);
	pos = 37;
	assert_true(pc_http_output(&h, buf, sizeof(buf)) > 0);
	assert_int_equal(pc_http_output(&h, buf, sizeof(buf)), 0);
	pos += pc_http_input(&h, (const uint8_t *)in + pos, sizeof(in) - 1 - pos);
	assert_int_equal(pos, 37 + 45);
	assert_true(pc_http_output(&h, buf, sizeof(buf)) > 0);
	pos += pc_http_input(&h, (const uint8_t *)in + pos, sizeof(in) - 1 - pos);
	assert_int_equal(pos, sizeof(in) - 1);
	assert_true(pc_http_output(&h, buf, sizeof(buf)) > 0);
	assert_false(pc_http_done(&h));
	assert_string_equal(r.log, "GET / 200 15 0|HEAD /bytes/3 200 0 0|GET / 200 15 0|");
}

/* The peer's FIN: a partial request is dropped, a pending response still
 * goes out, then the connection is done. */
static void test_peer_closed(void **state)
{
	struct pc_http_conn h;
	struct result r;
	uint8_t buf[4096];

	(void)state;
	memset(&r, 0, sizeof(r));
	pc_http_init(&h, &envs[E_PLAIN], on_done, &r);
	assert_int_equal(pc_http_input(&h, (const uint8_t *)"GET / HT", 8), 8);
	assert_false(pc_http_peer_closed(&h));
	assert_true(pc_http_done(&h));
	assert_int_equal(pc_http_output(&h, buf, sizeof(buf)), 0);
	assert_int_equal(pc_http_input(&h, (const uint8_t *)"TP/1.1\r\n", 8), 0);
	assert_int_equal(r.nb_resp, 0);

	pc_http_init(&h, &envs[E_PLAIN], on_done, &r);
	assert_false(pc_http_peer_closed(&h));
	assert_true(pc_http_done(&h));

	pc_http_init(&h, &envs[E_PLAIN], on_done, &r);
	assert_int_equal(pc_http_input(&h, (const uint8_t *)GET_ROOT, strlen(GET_ROOT)),
			 strlen(GET_ROOT));
	assert_int_equal(pc_http_output(&h, buf, 10), 10);
	assert_true(pc_http_peer_closed(&h));
	assert_false(pc_http_done(&h));
	assert_int_equal(pc_http_output(&h, buf, sizeof(buf)), 100 - 10);
	assert_true(pc_http_done(&h));
	assert_string_equal(r.log, "GET / 200 15 0|");
}

/* Limits, at the boundary and one past it. */
static void test_limits(void **state)
{
	static char in[20000];
	struct {
		const char *what;
		size_t fill;     /* filler bytes */
		int lines;       /* "X: y" lines instead of filler */
		bool chunked;    /* filler in a trailer */
		const char *log; /* prefix of the log */
		size_t consumed; /* 0: all */
	} limits[] = {
		{"line at 8 KiB", 8176, 0, false, "GET /aaa", 0},
		{"line over 8 KiB", 8177, 0, false, "GET /aaa", 8193},
		{"header section at 16 KiB", 16358, 0, false, "GET / 200", 0},
		{"header section over 16 KiB", 16359, 0, false, "GET / 431", 16 + 16385},
		{"64 header lines", 0, 63, false, "GET / 200", 0},
		{"65 header lines", 0, 64, false, "GET / 431", 16 + 19 + 63 * 6 + 1},
		{"trailer at 16 KiB", 16377, 0, true, "POST /upload 200", 0},
		{"trailer over 16 KiB", 16378, 0, true, "POST /upload 431", 75 + 16385},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		size_t n = 0;
		struct result r;

		if (i < 2) {
			n += (size_t)sprintf(in, "GET /");
			memset(in + n, 'a', limits[i].fill);
			n += limits[i].fill;
			n += (size_t)sprintf(in + n, " HTTP/1.1\r\n" HOST "\r\n");
		} else {
			if (limits[i].chunked)
				n = (size_t)sprintf(in, "POST /upload HTTP/1.1\r\n" HOST
							"Transfer-Encoding: chunked\r\n\r\n0\r\n");
			else
				n = (size_t)sprintf(in, "GET / HTTP/1.1\r\n" HOST);
			for (int l = 0; l < limits[i].lines; l++)
				n += (size_t)sprintf(in + n, "X: y\r\n");
			if (limits[i].fill) {
				n += (size_t)sprintf(in + n, "X: ");
				memset(in + n, 'v', limits[i].fill);
				n += limits[i].fill;
				n += (size_t)sprintf(in + n, "\r\n");
			}
			n += (size_t)sprintf(in + n, "\r\n");
		}
		run_all_ways(&envs[E_PLAIN], in, n, &r);
		if (strncmp(r.log, limits[i].log, strlen(limits[i].log)) != 0 ||
		    r.consumed != (limits[i].consumed ? limits[i].consumed : n))
			fail_msg("%s: got '%.60s' consumed %zu of %zu", limits[i].what, r.log,
				 r.consumed, n);
		if (strstr(limits[i].what, "over") != NULL || strstr(limits[i].what, "65") != NULL)
			assert_true(r.closed);
		free(r.out);
	}
}

static void test_size(void **state)
{
	(void)state;
	assert_true(sizeof(struct pc_http_conn) <= 512);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),	      cmocka_unit_test(test_exact),
		cmocka_unit_test(test_bytes),	      cmocka_unit_test(test_pipeline_held),
		cmocka_unit_test(test_peer_closed), cmocka_unit_test(test_limits),
		cmocka_unit_test(test_size),
	};

	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
