/* SPDX-License-Identifier: MIT */
/*
 * The HTTP responder's policy, routes and responses (the parser is in
 * http_parse.c). A response is a head rendered into the connection
 * (under 192 bytes) and a body produced on demand into the caller's
 * buffer: a few text segments, or the /bytes/N pattern, so a response of
 * any length needs no memory. Threads: the worker that owns the
 * connection.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "http_chars.h"
#include "http_int.h"

#define BYTES_MAX (UINT64_C(1) << 40)

enum { ROUTE_NONE, ROUTE_ROOT, ROUTE_BYTES, ROUTE_UPLOAD };

void pc_http_init(struct pc_http_conn *h, const struct pc_http_env *env, pc_http_done_fn done,
		  void *done_arg)
{
	memset(h, 0, sizeof(*h));
	h->env = env;
	h->done = done;
	h->done_arg = done_arg;
}

/* A target cut short for the log fails closed: it is protected if what
 * was kept matches the start of a longer prefix. */
static bool is_protected(const struct pc_http_conn *h)
{
	size_t have = h->req.path_len;

	for (unsigned int i = 0; i < h->env->nb_protected; i++) {
		const char *prefix = h->env->protected[i];
		size_t n = strlen(prefix);

		if (n <= have ? memcmp(h->log.path, prefix, n) == 0
			      : (h->req.flags & PC_HTTP_F_PATH_CUT) &&
					memcmp(h->log.path, prefix, have) == 0)
			return true;
	}
	return false;
}

/* The route for the method and the path (the target without its query);
 * *n is N for /bytes/N. */
static int route(const struct pc_http_conn *h, uint64_t *n)
{
	const char *path = h->log.path;
	size_t len = strcspn(path, "?");
	bool get = h->req.method == PC_HTTP_M_GET || h->req.method == PC_HTTP_M_HEAD;

	if (len == h->req.path_len && (h->req.flags & PC_HTTP_F_PATH_CUT))
		return ROUTE_NONE;
	if (get && len == 1 && path[0] == '/')
		return ROUTE_ROOT;
	if (!get && len == 7 && memcmp(path, "/upload", 7) == 0)
		return ROUTE_UPLOAD;
	if (!get || len <= 7 || len > 7 + 13 || memcmp(path, "/bytes/", 7) != 0)
		return ROUTE_NONE;
	*n = 0;
	for (size_t i = 7; i < len; i++) {
		if (path[i] < '0' || path[i] > '9')
			return ROUTE_NONE;
		*n = *n * 10 + (uint64_t)(path[i] - '0');
	}
	return *n <= BYTES_MAX ? ROUTE_BYTES : ROUTE_NONE;
}

uint16_t pc_http_decide(struct pc_http_conn *h)
{
	const struct pc_http_env *env = h->env;
	uint64_t n;

	if (env->verify_failed_403)
		return 403;
	if (env->host_must_match &&
	    (env->sni[0] == '\0' || (h->req.flags & (PC_HTTP_F_HOST | PC_HTTP_F_HOST_DIFF)) !=
					    PC_HTTP_F_HOST))
		return 421;
	if (env->identity == NULL && is_protected(h))
		return 403;
	if (h->req.method == PC_HTTP_M_OTHER)
		return 405;
	return route(h, &n) == ROUTE_NONE ? 404 : 200;
}

static void set_text(struct pc_http_conn *h, const char *a, const char *b, const char *c)
{
	const char *s[3] = {a, b, c};

	h->body_len = 0;
	for (int i = 0; i < 3; i++) {
		h->seg[i] = s[i];
		h->seg_len[i] = (uint32_t)strlen(s[i]);
		h->body_len += h->seg_len[i];
	}
}

/* The response head is written per response without the formatter: s
 * (or v in decimal) appended at `at`, cut at the end of head[] (which
 * the longest head, a 405's, fits). Returns the new end. */
static size_t head_put(struct pc_http_conn *h, size_t at, const char *s)
{
	size_t n = strlen(s);

	if (n > sizeof(h->head) - at)
		n = sizeof(h->head) - at;
	memcpy(h->head + at, s, n);
	return at + n;
}

static size_t head_put_u64(struct pc_http_conn *h, size_t at, uint64_t v)
{
	char d[21];
	size_t i = sizeof(d) - 1;

	d[i] = '\0';
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return head_put(h, at, d + i);
}

void pc_http_respond(struct pc_http_conn *h, uint16_t status, bool refused)
{
	uint32_t f = h->req.flags;
	bool keep = (f & PC_HTTP_F_HTTP11) ? !(f & PC_HTTP_F_CONN_CLOSE)
					   : (f & (PC_HTTP_F_CONN_KEEP | PC_HTTP_F_CONN_CLOSE)) ==
						     PC_HTTP_F_CONN_KEEP;
	uint64_t n = 0;
	size_t at;

	if (refused || !keep)
		h->req.flags |= PC_HTTP_F_CLOSE;
	h->log.status = status;
	h->seg[0] = NULL; /* the pattern, unless set_text() */
	switch (status == 200 ? route(h, &n) : ROUTE_NONE) {
	case ROUTE_ROOT:
		set_text(h, "identity: ", h->env->identity ? h->env->identity : "NONE", "\n");
		break;
	case ROUTE_BYTES:
		h->body_len = n;
		break;
	case ROUTE_UPLOAD:
		snprintf(h->num, sizeof(h->num), "%" PRIu64, h->log.request_body_bytes);
		set_text(h, "received ", h->num, "\n");
		break;
	default:
		set_text(h, pc_http_reason(status), "\n", "");
	}
	at = head_put(h, 0, "HTTP/1.1 ");
	at = head_put_u64(h, at, status);
	at = head_put(h, at, " ");
	at = head_put(h, at, pc_http_reason(status));
	at = head_put(h, at, "\r\nServer: portcullis\r\nContent-Type: text/plain\r\n"
			     "Content-Length: ");
	at = head_put_u64(h, at, h->body_len);
	at = head_put(h, at, "\r\n");
	if (status == 405)
		at = head_put(h, at, "Allow: GET, HEAD, POST, PUT\r\n");
	/* An HTTP/1.0 client closes unless told the connection stays. */
	if (h->req.flags & PC_HTTP_F_CLOSE)
		at = head_put(h, at, "Connection: close\r\n");
	else if (!(f & PC_HTTP_F_HTTP11))
		at = head_put(h, at, "Connection: keep-alive\r\n");
	h->head_len = (uint16_t)head_put(h, at, "\r\n");
	h->head_off = 0;
	if (h->req.method == PC_HTTP_M_HEAD)
		h->body_len = 0;
	h->body_off = 0;
	h->state = PC_HTTP_S_RESPOND;
}

/* The body bytes [body_off, body_off + n). */
static void body_copy(const struct pc_http_conn *h, uint8_t *buf, size_t n)
{
	static const char pattern[] = "0123456789abcdef0123456789abcdef";
	uint64_t off = h->body_off;

	if (h->seg[0] == NULL) {
		/* One 16-byte period from the phase of off, then what is
		 * written so far doubled (a whole number of periods). */
		size_t done = n < 16 ? n : 16;

		memcpy(buf, pattern + (off & 15), done);
		while (done < n) {
			size_t m = n - done < done ? n - done : done;

			memcpy(buf + done, buf, m);
			done += m;
		}
		return;
	}
	for (int i = 0; i < 3 && n > 0; i++) {
		if (off >= h->seg_len[i]) {
			off -= h->seg_len[i];
			continue;
		}
		size_t m = h->seg_len[i] - off;

		if (m > n)
			m = n;
		memcpy(buf, h->seg[i] + off, m);
		buf += m;
		n -= m;
		off = 0;
	}
}

size_t pc_http_output(struct pc_http_conn *h, uint8_t *buf, size_t cap)
{
	size_t n = 0;

	if (h->state != PC_HTTP_S_RESPOND)
		return 0;
	if (h->head_off < h->head_len) {
		n = h->head_len - h->head_off;
		if (n > cap)
			n = cap;
		memcpy(buf, h->head + h->head_off, n);
		h->head_off += (uint16_t)n;
	}
	if (n < cap && h->body_off < h->body_len) {
		size_t m = cap - n;

		if (m > h->body_len - h->body_off)
			m = (size_t)(h->body_len - h->body_off);
		body_copy(h, buf + n, m);
		h->body_off += m;
		n += m;
	}
	if (h->head_off == h->head_len && h->body_off == h->body_len) {
		h->log.body_bytes = h->body_len;
		if (h->done != NULL)
			h->done(h->done_arg, &h->log);
		if ((h->req.flags & PC_HTTP_F_CLOSE) || h->peer_closed) {
			h->state = PC_HTTP_S_CLOSED;
		} else {
			memset(&h->req, 0, sizeof(h->req));
			memset(&h->log, 0, sizeof(h->log));
			h->state = PC_HTTP_S_METHOD;
		}
	}
	return n;
}

bool pc_http_done(const struct pc_http_conn *h)
{
	return h->state == PC_HTTP_S_CLOSED;
}

bool pc_http_peer_closed(struct pc_http_conn *h)
{
	h->peer_closed = true;
	if (h->state == PC_HTTP_S_RESPOND)
		return true;
	h->state = PC_HTTP_S_CLOSED;
	return false;
}
