// SPDX-License-Identifier: MIT
/*
 * The part of HTTP/1.1 a load generator needs to frame responses it did
 * not write: the status, Content-Length, and whether the server closes.
 * Chunked bodies are refused rather than guessed at: the servers this
 * measures (nginx static files, python's http.server, portcullis' own
 * responder) all send Content-Length. Called by worker threads on their own
 * buffers; no state.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "pc_load.h"

/* Does the comma-separated list v (vlen bytes) contain token tok? */
static bool has_token(const char *v, size_t vlen, const char *tok)
{
	size_t tlen = strlen(tok), i = 0, start, end;

	while (i < vlen) {
		while (i < vlen && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < vlen && v[i] != ',')
			i++;
		end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if (end - start == tlen && strncasecmp(v + start, tok, tlen) == 0)
			return true;
	}
	return false;
}

static bool name_is(const char *name, size_t nlen, const char *want)
{
	return nlen == strlen(want) && strncasecmp(name, want, nlen) == 0;
}

int pl_http_parse_head(const char *buf, size_t len, struct pl_http_head *h,
		       const char **why)
{
	const char *p = buf, *end = buf + len, *eol, *colon, *v, *vend;
	bool http10, keep_alive = false;
	int64_t cl;

	*h = (struct pl_http_head){ .content_length = -1 };
	eol = memmem(p, (size_t)(end - p), "\r\n", 2);
	/* "HTTP/1.x 200" at least */
	if (!eol || eol - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 ||
	    (p[7] != '0' && p[7] != '1') || p[8] != ' ' || !isdigit((unsigned char)p[9]) ||
	    !isdigit((unsigned char)p[10]) || !isdigit((unsigned char)p[11]) ||
	    (eol - p > 12 && p[12] != ' ')) {
		*why = "bad status line";
		return -1;
	}
	http10 = p[7] == '0';
	h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	for (p = eol + 2; p < end; p = eol + 2) {
		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (!eol)
			eol = end;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon || colon == p) {
			*why = "bad header line";
			return -1;
		}
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (vend = eol; vend > v && (vend[-1] == ' ' || vend[-1] == '\t'); vend--)
			;
		if (name_is(p, (size_t)(colon - p), "content-length")) {
			if (v == vend || vend - v > 18) {
				*why = "bad Content-Length";
				return -1;
			}
			for (cl = 0; v < vend; v++) {
				if (!isdigit((unsigned char)*v)) {
					*why = "bad Content-Length";
					return -1;
				}
				cl = cl * 10 + (*v - '0');
			}
			if (h->content_length >= 0 && h->content_length != cl) {
				*why = "conflicting Content-Length headers";
				return -1;
			}
			h->content_length = cl;
		} else if (name_is(p, (size_t)(colon - p), "transfer-encoding")) {
			if (!has_token(v, (size_t)(vend - v), "identity")) {
				*why = "Transfer-Encoding (chunked) is not supported";
				return -1;
			}
		} else if (name_is(p, (size_t)(colon - p), "connection")) {
			if (has_token(v, (size_t)(vend - v), "close"))
				h->closes = true;
			if (has_token(v, (size_t)(vend - v), "keep-alive"))
				keep_alive = true;
		}
	}
	if (http10 && !keep_alive)
		h->closes = true;
	/* These never carry a body (RFC 9112 6.3). */
	if (h->status == 204 || h->status == 304)
		h->content_length = 0;
	return 0;
}
