/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the HTTP responder. An input is a configuration byte (bit 0 verify
 * failed, 1 Host must match, 2 an identity, 3 protected prefixes, 4 no
 * SNI), then records: a control byte and the piece of request bytes it
 * announces. Control bits 0-5 are the piece's length (63: up to 1024
 * bytes; 0 with bits 6-7 set: the peer closes), bits 6-7 pick the output
 * buffer size the responses are pulled through before the piece is fed.
 * Checked: every response starts with "HTTP/1.1 ", its status matches the
 * log record and, unless HEAD, its Content-Length the body handed out;
 * input is never over-consumed; and the connection never stalls: with no
 * output pending and not done, input is always taken.
 */
#include <stdlib.h>
#include <string.h>

#include "pc_http.h"

/* Bounds the run: /bytes/N can ask for a terabyte. */
#define OUTPUT_BUDGET (256u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	char head[256];   /* the start of the response being handed out */
	size_t bytes;     /* of that response so far */
	size_t total;     /* of every response */
	bool done;        /* its log record came, with: */
	struct pc_http_log rec;
} out;

/* The record comes from inside pc_http_output, before its bytes are
 * counted: checked once they are. */
static void on_done(void *arg, const struct pc_http_log *rec)
{
	(void)arg;
	if (out.done)
		abort();
	out.done = true;
	out.rec = *rec;
}

static void check_response(void)
{
	const struct pc_http_log *rec = &out.rec;
	const char *end = memmem(out.head, out.bytes < sizeof(out.head) ? out.bytes : sizeof(out.head),
				 "\r\n\r\n", 4);
	const char *cl;
	size_t head_len;
	char status[4];

	if (out.bytes < 13 || memcmp(out.head, "HTTP/1.1 ", 9) != 0 || end == NULL)
		abort();
	memcpy(status, out.head + 9, 3);
	status[3] = '\0';
	if ((unsigned int)atoi(status) != rec->status)
		abort();
	head_len = (size_t)(end + 4 - out.head);
	cl = memmem(out.head, head_len, "\r\nContent-Length: ", 18);
	if (cl == NULL || out.bytes != head_len + rec->body_bytes)
		abort();
	/* A HEAD response has no body; the logged method may also be the
	 * start of a longer one the parser refused, which gets its body. */
	if (strtoull(cl + 18, NULL, 10) != rec->body_bytes &&
	    (rec->body_bytes != 0 || strcmp(rec->method, "HEAD") != 0))
		abort();
	out.bytes = 0;
	out.done = false;
}

/* Pulls output until there is none, false once over the budget. */
static bool pull(struct pc_http_conn *h, size_t cap)
{
	static uint8_t buf[16384];
	size_t n;

	while ((n = pc_http_output(h, buf, cap)) > 0) {
		if (n > cap)
			abort();
		if (out.bytes < sizeof(out.head))
			memcpy(out.head + out.bytes, buf,
			       n < sizeof(out.head) - out.bytes ? n : sizeof(out.head) - out.bytes);
		out.bytes += n;
		out.total += n;
		if (out.done)
			check_response();
		if (out.total > OUTPUT_BUDGET)
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[] = {1, 7, 100, 16384};
	struct pc_http_env env = {.sni = "example.com"};
	struct pc_http_conn h;
	size_t i = 1;

	if (size == 0)
		return 0;
	env.verify_failed_403 = data[0] & 1;
	env.host_must_match = data[0] & 2;
	env.identity = (data[0] & 4) ? "spiffe://example.org/a" : NULL;
	if (data[0] & 8) {
		env.nb_protected = 2;
		env.protected[0] = "/bytes/1";
		env.protected[1] = "/a";
	}
	if (data[0] & 16)
		env.sni = "";
	memset(&out, 0, sizeof(out));
	pc_http_init(&h, &env, on_done, NULL);

	while (i < size) {
		uint8_t ctl = data[i++];
		size_t cap = caps[ctl >> 6];
		size_t len = ctl & 63;

		if (len == 63)
			len = 1024;
		if (len > size - i)
			len = size - i;
		/* Before the output is pulled, so a response may be pending. */
		if ((ctl & 63) == 0 && (ctl >> 6) == 3) {
			bool pending = pc_http_peer_closed(&h);

			if (pending == pc_http_done(&h))
				abort();
			continue;
		}
		if (!pull(&h, cap))
			return 0;
		const uint8_t *p = data + i;
		size_t rest = len;

		i += len;
		while (rest > 0) {
			size_t c = pc_http_input(&h, p, rest);

			if (c > rest)
				abort();
			if (pc_http_done(&h)) {
				if (c != 0 || pc_http_output(&h, (uint8_t[1]){0}, 1) != 0)
					abort();
				break;
			}
			/* Output was drained before: input must move. */
			if (c == 0)
				abort();
			p += c;
			rest -= c;
			if (!pull(&h, cap))
				return 0;
		}
	}
	pull(&h, 16384);
	return 0;
}
