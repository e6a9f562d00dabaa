/* SPDX-License-Identifier: MIT */
/*
 * The HTTP proxy's responses and bodies (http_proxy_int.h): a backend's
 * response head parsed and rewritten for the client, and the body
 * framing followed as bytes stream through in either direction, so that
 * the proxy knows where a message ends without holding any of it.
 *
 * A backend is trusted more than a client, but not with the client's
 * connection: a head that is not plainly HTTP/1.x (or that leaves its
 * framing in doubt) is garbage, answered with 502 by the caller, never
 * passed on. Threads: the worker that owns the connection.
 */
#include <string.h>

#include "http_chars.h"
#include "http_proxy_int.h"

static int hex_value(uint8_t c)
{
	if (pc_http_is_digit(c))
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* status-line = HTTP-version SP 3DIGIT SP [reason-phrase] CRLF (a
 * missing SP before an empty reason is taken too). Its length, or -1. */
static long status_line(const uint8_t *p, const uint8_t *end, struct pc_hp_resp *r)
{
	const uint8_t *q;

	if (end - p < 14 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') ||
	    p[8] != ' ' || !pc_http_is_digit(p[9]) || !pc_http_is_digit(p[10]) || !pc_http_is_digit(p[11]))
		return -1;
	r->http11 = p[7] == '1';
	r->status = (uint16_t)((p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0'));
	if (r->status < 100)
		return -1;
	q = p + 12;
	if (*q == ' ')
		for (q++; q < end && *q != '\r'; q++)
			if ((*q < 0x20 && !pc_http_is_ows(*q)) || *q == 0x7f)
				return -1;
	if (end - q < 2 || q[0] != '\r' || q[1] != '\n')
		return -1;
	return q + 2 - p;
}

int pc_hp_resp_parse(const uint8_t *buf, size_t len, bool head_request, struct pc_hp_resp *r)
{
	const uint8_t *p = buf, *end = buf + len;
	struct pc_hp_conn conn = {0};
	bool has_cl = false, has_te = false;
	unsigned int nb_fields = 0;
	long n;

	memset(r, 0, sizeof(*r));
	while (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
		p += 2;
	n = status_line(p, end, r);
	if (n < 0 || r->status == 101)
		return -1;
	for (p += n;; p += n) {
		struct pc_hp_field f;

		n = pc_hp_field(p, end, &f);
		if (n < 0 || ++nb_fields > PC_HP_NB_FIELDS_MAX + 1)
			return -1;
		if (f.name_len == 0)
			break;
		if (pc_hp_name_is(f.name, f.name_len, "content-length")) {
			if (has_cl || f.value_len == 0)
				return -1;
			has_cl = true;
			for (size_t i = 0; i < f.value_len; i++) {
				uint8_t c = f.value[i];

				if (!pc_http_is_digit(c) ||
				    r->content_length > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
					return -1;
				r->content_length = r->content_length * 10 + (uint64_t)(c - '0');
			}
		} else if (pc_hp_name_is(f.name, f.name_len, "transfer-encoding")) {
			if (has_te || !pc_hp_name_is(f.value, f.value_len, "chunked"))
				return -1;
			has_te = true;
		} else if (pc_hp_name_is(f.name, f.name_len, "connection")) {
			if (pc_hp_conn_add(&conn, f.value, f.value_len) != 0)
				return -1;
		}
	}
	/* RFC 9112 6.3: both is an error (a smuggling or splitting attempt). */
	if (has_te && has_cl)
		return -1;
	r->keep_alive = r->http11 ? !conn.close : conn.keep_alive && !conn.close;
	if (r->status < 200 || r->status == 204 || r->status == 304 || head_request)
		r->framing = PC_HP_BODY_NONE;
	else if (has_te)
		r->framing = PC_HP_BODY_CHUNKED;
	else if (has_cl)
		r->framing = r->content_length > 0 ? PC_HP_BODY_LENGTH : PC_HP_BODY_NONE;
	else
		r->framing = PC_HP_BODY_CLOSE;
	/* Until close: the connection cannot be used again. */
	if (r->framing == PC_HP_BODY_CLOSE)
		r->keep_alive = false;
	return 0;
}

size_t pc_hp_resp_rewrite(uint8_t *buf, size_t len, const struct pc_hp_resp *r, bool close,
			  bool keep_alive_10)
{
	const uint8_t *end = buf + len;
	struct pc_hp_conn conn = {0};
	bool keep[PC_HP_NB_FIELDS_MAX + 1];
	uint8_t *line = buf, *fields, *p, *w;
	unsigned int i;
	long n;

	fields = pc_hp_head_fields(buf, len, &line, &conn);
	for (p = fields, i = 0;; p += n, i++) {
		struct pc_hp_field f;

		n = pc_hp_field(p, end, &f);
		if (f.name_len == 0)
			break;
		keep[i] = !pc_hp_hop_by_hop(f.name, f.name_len, &conn);
	}
	memmove(buf, line, (size_t)(fields - line));
	w = buf + (fields - line);
	for (p = fields, i = 0;; p += n, i++) {
		struct pc_hp_field f;

		n = pc_hp_field(p, end, &f);
		if (f.name_len == 0)
			break;
		if (keep[i]) {
			memmove(w, p, (size_t)n);
			w += n;
		}
	}
	if (r->status >= 200) {
		const char *c = close ? "Connection: close\r\n"
			      : keep_alive_10 ? "Connection: keep-alive\r\n"
					      : "";

		memcpy(w, c, strlen(c));
		w += strlen(c);
	}
	memcpy(w, "\r\n", 2);
	return (size_t)(w + 2 - buf);
}

/* pc_hp_body.state (chunked) */
enum {
	CH_SIZE,          /* hex digits */
	CH_EXT,           /* after ';', to the CR */
	CH_SIZE_LF,
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TRAILER_START, /* a trailer line, or the CR of the last line */
	CH_TRAILER,       /* in a trailer field line, to its CR */
	CH_TRAILER_LF,
	CH_END_LF,        /* the LF of the last line */
};

void pc_hp_body_init(struct pc_hp_body *b, enum pc_hp_framing f, uint64_t length,
		     bool drop_trailers)
{
	memset(b, 0, sizeof(*b));
	b->framing = (uint8_t)f;
	b->remaining = length;
	b->drop_trailers = drop_trailers;
	b->done = f == PC_HP_BODY_NONE || (f == PC_HP_BODY_LENGTH && length == 0);
}

/* One framing byte: 0, or -1. Trailer lines are checked for their name
 * (tchars, then a colon) and their bytes only: nothing reads them. */
static int chunk_step(struct pc_hp_body *b, uint8_t c)
{
	int v;

	switch (b->state) {
	case CH_SIZE:
		v = hex_value(c);
		if (v >= 0) {
			if (b->remaining >> 60)
				return -1;
			b->remaining = b->remaining << 4 | (uint64_t)v;
			b->digit = true;
			return 0;
		}
		if (!b->digit || (c != ';' && c != '\r'))
			return -1;
		b->state = c == ';' ? CH_EXT : CH_SIZE_LF;
		return 0;
	case CH_EXT:
		if (c == '\r')
			b->state = CH_SIZE_LF;
		else if ((c < 0x20 && !pc_http_is_ows(c)) || c == 0x7f)
			return -1;
		return 0;
	case CH_SIZE_LF:
		if (c != '\n')
			return -1;
		b->state = b->remaining > 0 ? CH_DATA : CH_TRAILER_START;
		return 0;
	case CH_DATA_CR:
		if (c != '\r')
			return -1;
		b->state = CH_DATA_LF;
		return 0;
	case CH_DATA_LF:
		if (c != '\n')
			return -1;
		b->digit = false;
		b->state = CH_SIZE;
		return 0;
	case CH_TRAILER_START:
		if (c == '\r') {
			b->state = CH_END_LF;
			return 0;
		}
		/* A field line's first byte: SP/HTAB would be obs-fold. */
		if (++b->nb_trailers > PC_HP_NB_FIELDS_MAX || c <= 0x20 || c == 0x7f || c == ':')
			return -1;
		b->state = CH_TRAILER;
		return 0;
	case CH_TRAILER:
		if (c == '\r')
			b->state = CH_TRAILER_LF;
		else if ((c < 0x20 && !pc_http_is_ows(c)) || c == 0x7f)
			return -1;
		return 0;
	case CH_TRAILER_LF:
		if (c != '\n')
			return -1;
		b->state = CH_TRAILER_START;
		return 0;
	case CH_END_LF:
		if (c != '\n')
			return -1;
		b->done = true;
		return 0;
	}
	return -1;
}

/* Is the next byte (in this state) one that is dropped? */
static bool drops(const struct pc_hp_body *b, uint8_t c)
{
	if (!b->drop_trailers)
		return false;
	return b->state == CH_TRAILER || b->state == CH_TRAILER_LF ||
	       (b->state == CH_TRAILER_START && c != '\r');
}

long pc_hp_body_scan(struct pc_hp_body *b, const uint8_t *p, size_t len, bool *pass)
{
	size_t i = 0;

	*pass = true;
	if (b->done)
		return 0;
	switch (b->framing) {
	case PC_HP_BODY_LENGTH:
		if (len > b->remaining)
			len = (size_t)b->remaining;
		b->remaining -= len;
		b->done = b->remaining == 0;
		b->bytes += len;
		return (long)len;
	case PC_HP_BODY_CLOSE:
		b->bytes += len;
		return (long)len;
	case PC_HP_BODY_CHUNKED:
		break;
	default:
		return 0;
	}
	if (len > 0)
		*pass = !drops(b, p[0]);
	while (i < len && !b->done) {
		if (b->state == CH_DATA) {
			size_t n = len - i;

			if (n > b->remaining)
				n = (size_t)b->remaining;
			b->remaining -= n;
			i += n;
			if (b->remaining == 0)
				b->state = CH_DATA_CR;
			continue;
		}
		if (drops(b, p[i]) == *pass)
			break;
		if (b->state >= CH_TRAILER_START && ++b->trailer_bytes > PC_HP_HEAD_MAX)
			return -1;
		if (chunk_step(b, p[i]) != 0)
			return -1;
		i++;
	}
	b->bytes += i;
	return (long)i;
}
