/* SPDX-License-Identifier: MIT */
/*
 * The HTTP/1.1 request parser (RFC 9112): strict and incremental, one byte
 * of state machine at a time (bodies in bulk), so a request cut anywhere
 * parses exactly as one fed whole, and nothing is buffered but the method
 * and the start of the target for the log.
 *
 * Why our own rather than Debian's libhttp-parser: that project (nodejs
 * http-parser) is archived, unmaintained since 2022, and lenient where a
 * terminator in front of other servers must refuse (request smuggling
 * shapes: duplicate Content-Length, Content-Length with Transfer-Encoding,
 * bare LF, obs-fold). We only parse requests, so this is small, and
 * fuzz_http drives it.
 *
 * Only Host, Content-Length, Transfer-Encoding and Connection are
 * interpreted; every other field is checked for syntax and skipped.
 * Threads: the worker that owns the connection.
 */
#include <string.h>

#include "http_chars.h"
#include "http_int.h"

enum { FIELD_OTHER, FIELD_HOST, FIELD_CL, FIELD_TE, FIELD_CONN };

/* In FIELD_* order from FIELD_HOST. */
static const char *const field_names[] = {"host", "content-length", "transfer-encoding",
					  "connection"};
static const char *const conn_tokens[] = {"close", "keep-alive"};

/* A field-vchar: visible ASCII or obs-text. */
static inline bool is_vchar(uint8_t c)
{
	return c > 0x20 && c != 0x7f;
}

static int hex_value(uint8_t c)
{
	if (pc_http_is_digit(c))
		return c - '0';
	c = pc_http_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Narrows the set of words (bits of cand) that still match once c is at
 * position idx; a word's bit is only set while its first idx characters
 * matched, so words[i][idx] is at most its terminator. */
static uint8_t narrow(const char *const *words, unsigned int n, uint8_t cand, unsigned int idx,
		      uint8_t c)
{
	for (unsigned int i = 0; i < n; i++)
		if ((cand & (1u << i)) && (uint8_t)words[i][idx] != pc_http_lower(c))
			cand &= (uint8_t)~(1u << i);
	return cand;
}

/* 1 + the word matched whole after idx characters, 0 if none. */
static unsigned int matched(const char *const *words, unsigned int n, uint8_t cand,
			    unsigned int idx)
{
	for (unsigned int i = 0; i < n; i++)
		if ((cand & (1u << i)) && words[i][idx] == '\0')
			return i + 1;
	return 0;
}

static void conn_token_end(struct pc_http_conn *h)
{
	if (h->req.idx > 0)
		switch (matched(conn_tokens, 2, h->req.cand, h->req.idx)) {
		case 1:
			h->req.flags |= PC_HTTP_F_CONN_CLOSE;
			break;
		case 2:
			h->req.flags |= PC_HTTP_F_CONN_KEEP;
			break;
		}
	h->req.cand = 3;
	h->req.idx = 0;
}

/* One character of the Host value: host [":" port], the host compared to
 * the SNI as it goes. */
static uint16_t host_char(struct pc_http_conn *h, uint8_t c)
{
	uint32_t *f = &h->req.flags;

	if (pc_http_is_ows(c)) {
		*f |= PC_HTTP_F_VALUE_END;
		return 0;
	}
	if (*f & PC_HTTP_F_VALUE_END)
		return 400;
	if (*f & PC_HTTP_F_HOST_PORT)
		return pc_http_is_digit(c) ? 0 : 400;
	if (c == ':' && !(*f & PC_HTTP_F_HOST_BRACKET)) {
		*f |= PC_HTTP_F_HOST_PORT;
		return 0;
	}
	if (*f & PC_HTTP_F_HOST_LITERAL)
		return 400;
	if (c == '[' && h->req.idx == 0)
		*f |= PC_HTTP_F_HOST_BRACKET;
	else if (c == ']' && (*f & PC_HTTP_F_HOST_BRACKET))
		*f = (*f & ~(uint32_t)PC_HTTP_F_HOST_BRACKET) | PC_HTTP_F_HOST_LITERAL;
	else if (!pc_http_is_alnum(c) && strchr("-._~!$&'()*+,;=%", c) == NULL &&
		 !(c == ':' && (*f & PC_HTTP_F_HOST_BRACKET)))
		return 400;
	if (!(*f & PC_HTTP_F_HOST_DIFF)) {
		uint8_t s = (uint8_t)h->env->sni[h->req.idx];

		if (s == '\0' || pc_http_lower(s) != pc_http_lower(c))
			*f |= PC_HTTP_F_HOST_DIFF;
	}
	h->req.idx++;
	return 0;
}

/* One character (not CR) of an interpreted field's value, leading OWS
 * already skipped. */
static uint16_t value_char(struct pc_http_conn *h, uint8_t c)
{
	switch (h->req.field) {
	case FIELD_HOST:
		return host_char(h, c);
	case FIELD_CL:
		if (pc_http_is_ows(c)) {
			h->req.flags |= PC_HTTP_F_VALUE_END;
			return 0;
		}
		if (!pc_http_is_digit(c) || (h->req.flags & PC_HTTP_F_VALUE_END) ||
		    h->req.content_length > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
			return 400;
		h->req.content_length = h->req.content_length * 10 + (uint64_t)(c - '0');
		h->req.idx++;
		return 0;
	case FIELD_TE:
		if (pc_http_is_ows(c))
			h->req.flags |= PC_HTTP_F_VALUE_END;
		else if ((h->req.flags & PC_HTTP_F_VALUE_END) || h->req.idx >= 7 ||
			 pc_http_lower(c) != (uint8_t)"chunked"[h->req.idx++])
			h->req.flags |= PC_HTTP_F_TE_OTHER;
		return 0;
	case FIELD_CONN:
		if (c == ',' || pc_http_is_ows(c))
			conn_token_end(h);
		else
			h->req.cand = narrow(conn_tokens, 2, h->req.cand, h->req.idx++, c);
		return 0;
	}
	return 0;
}

static uint16_t value_end(struct pc_http_conn *h)
{
	switch (h->req.field) {
	case FIELD_HOST:
		if (h->req.flags & PC_HTTP_F_HOST_BRACKET)
			return 400;
		/* idx is only within the SNI while nothing differed. */
		if (!(h->req.flags & PC_HTTP_F_HOST_DIFF) && h->env->sni[h->req.idx] != '\0')
			h->req.flags |= PC_HTTP_F_HOST_DIFF;
		break;
	case FIELD_CL:
		if (h->req.idx == 0)
			return 400;
		break;
	case FIELD_TE:
		if (h->req.idx != 7)
			h->req.flags |= PC_HTTP_F_TE_OTHER;
		break;
	case FIELD_CONN:
		conn_token_end(h);
		break;
	}
	return 0;
}

/* The colon after a field name: which field, refusing duplicates. */
static uint16_t name_end(struct pc_http_conn *h)
{
	uint32_t *f = &h->req.flags;
	uint32_t once = 0;

	h->req.field = (uint8_t)matched(field_names, 4, h->req.cand, h->req.idx);
	h->req.idx = 0;
	h->req.cand = 3;
	*f &= ~(uint32_t)PC_HTTP_F_VALUE_END;
	switch (h->req.field) {
	case FIELD_HOST:
		once = PC_HTTP_F_HOST;
		break;
	case FIELD_CL:
		once = PC_HTTP_F_CL;
		break;
	case FIELD_TE:
		/* A second line means "chunked, chunked" or another coding. */
		if (*f & PC_HTTP_F_TE)
			*f |= PC_HTTP_F_TE_OTHER;
		*f |= PC_HTTP_F_TE;
		break;
	}
	if (*f & once)
		return 400;
	*f |= once;
	return 0;
}

/* The request (with its body) has been read. */
static uint16_t complete(struct pc_http_conn *h)
{
	pc_http_respond(h, h->req.status, false);
	return 0;
}

/* The empty line after the header section: framing, then the decision. */
static uint16_t head_end(struct pc_http_conn *h)
{
	uint32_t f = h->req.flags;

	if (f & PC_HTTP_F_TRAILER)
		return complete(h);
	if ((f & PC_HTTP_F_HTTP11) && !(f & PC_HTTP_F_HOST))
		return 400;
	/* Both, or chunked under HTTP/1.0, leave the framing in doubt. */
	if ((f & PC_HTTP_F_TE) && ((f & PC_HTTP_F_CL) || !(f & PC_HTTP_F_HTTP11)))
		return 400;
	if (f & PC_HTTP_F_TE_OTHER)
		return 501;
	h->req.status = pc_http_decide(h);
	if (f & PC_HTTP_F_TE) {
		h->req.idx = 0;
		h->state = PC_HTTP_S_CHUNK_SIZE;
	} else if (h->req.content_length > 0) {
		h->req.remaining = h->req.content_length;
		h->state = PC_HTTP_S_BODY;
	} else {
		return complete(h);
	}
	return 0;
}

static uint16_t method_end(struct pc_http_conn *h)
{
	static const struct {
		const char *name;
		uint8_t m;
	} methods[] = {{"GET", PC_HTTP_M_GET},
		       {"HEAD", PC_HTTP_M_HEAD},
		       {"POST", PC_HTTP_M_POST},
		       {"PUT", PC_HTTP_M_PUT}};

	if (h->req.method_len == 0)
		return 400;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(h->log.method, methods[i].name) == 0)
			h->req.method = methods[i].m;
	h->state = PC_HTTP_S_TARGET;
	return 0;
}

/* "*" is only for OPTIONS (which then gets 405); absolute-form and
 * authority-form are refused. */
static uint16_t target_end(struct pc_http_conn *h)
{
	if (h->req.path_len == 0)
		return 400;
	if (h->log.path[0] == '*' &&
	    (h->req.path_len != 1 || h->req.method_len != 7 || strcmp(h->log.method, "OPTIONS")))
		return 400;
	h->req.idx = 0;
	h->state = PC_HTTP_S_VERSION;
	return 0;
}

/* "HTTP/" DIGIT "." DIGIT: 1.0 and 1.1, anything else well-formed 505. */
static uint16_t version_char(struct pc_http_conn *h, uint8_t c)
{
	unsigned int i = h->req.idx++;

	if (i < 5)
		return c == (uint8_t)"HTTP/"[i] ? 0 : 400;
	if (i == 6)
		return c == '.' ? 0 : 400;
	if (i == 8) {
		if (c != '\r')
			return 400;
		h->state = PC_HTTP_S_LINE_LF;
		return 0;
	}
	if (!pc_http_is_digit(c))
		return 400;
	if (i == 5)
		h->req.cand = c; /* the major digit, until the minor one */
	else if (h->req.cand == '1' && c == '1')
		h->req.flags |= PC_HTTP_F_HTTP11;
	else if (h->req.cand != '1' || c != '0')
		h->req.status = 505;
	return 0;
}

static uint16_t step(struct pc_http_conn *h, uint8_t c)
{
	if (h->state <= PC_HTTP_S_LINE_LF) {
		if (++h->req.line_bytes > PC_HTTP_LINE_MAX)
			return 414;
	} else if (h->state <= PC_HTTP_S_HEAD_LF) {
		if (++h->req.head_bytes > PC_HTTP_FIELDS_MAX)
			return 431;
	}
	switch (h->state) {
	case PC_HTTP_S_METHOD:
		if (c == ' ')
			return method_end(h);
		if (c == '\r' && h->req.method_len == 0) {
			h->state = PC_HTTP_S_LEAD_LF;
			return 0;
		}
		if (!pc_http_is_tchar(c))
			return 400;
		/* method_len stops at 8: longer than any method we serve. */
		if (h->req.method_len < sizeof(h->log.method)) {
			if (h->req.method_len < sizeof(h->log.method) - 1)
				h->log.method[h->req.method_len] = (char)c;
			h->req.method_len++;
		}
		return 0;
	case PC_HTTP_S_LEAD_LF:
		if (c != '\n')
			return 400;
		h->state = PC_HTTP_S_METHOD;
		return 0;
	case PC_HTTP_S_TARGET:
		if (c == ' ')
			return target_end(h);
		if (c < 0x21 || c > 0x7e || (h->req.path_len == 0 && c != '/' && c != '*'))
			return 400;
		if (h->req.path_len < PC_HTTP_PATH_MAX - 1)
			h->log.path[h->req.path_len++] = (char)c;
		else
			h->req.flags |= PC_HTTP_F_PATH_CUT;
		return 0;
	case PC_HTTP_S_VERSION:
		return version_char(h, c);
	case PC_HTTP_S_LINE_LF:
		if (c != '\n')
			return 400;
		if (h->req.status != 0)
			return h->req.status;
		h->state = PC_HTTP_S_FIELD_START;
		return 0;
	case PC_HTTP_S_FIELD_START:
		if (c == '\r') {
			h->state = PC_HTTP_S_HEAD_LF;
			return 0;
		}
		/* A line starting with SP/HTAB is obs-fold. */
		if (!pc_http_is_tchar(c))
			return 400;
		if (++h->req.nb_fields > PC_HTTP_NB_FIELDS_MAX)
			return 431;
		h->req.cand = (h->req.flags & PC_HTTP_F_TRAILER) ? 0 : 0xf;
		h->req.idx = 0;
		h->state = PC_HTTP_S_NAME;
		/* fall through */
	case PC_HTTP_S_NAME:
		if (c == ':') {
			h->state = PC_HTTP_S_OWS;
			return name_end(h);
		}
		if (!pc_http_is_tchar(c))
			return 400;
		h->req.cand = narrow(field_names, 4, h->req.cand, h->req.idx++, c);
		return 0;
	case PC_HTTP_S_OWS:
		if (pc_http_is_ows(c))
			return 0;
		h->state = PC_HTTP_S_VALUE;
		/* fall through */
	case PC_HTTP_S_VALUE:
		if (c == '\r') {
			h->state = PC_HTTP_S_FIELD_LF;
			return value_end(h);
		}
		if (!is_vchar(c) && !pc_http_is_ows(c))
			return 400;
		return value_char(h, c);
	case PC_HTTP_S_FIELD_LF:
		if (c != '\n')
			return 400;
		h->state = PC_HTTP_S_FIELD_START;
		return 0;
	case PC_HTTP_S_HEAD_LF:
		return c == '\n' ? head_end(h) : 400;
	case PC_HTTP_S_CHUNK_SIZE: {
		int v = hex_value(c);

		if (v >= 0) {
			if (h->req.remaining >> 60)
				return 400;
			h->req.remaining = h->req.remaining << 4 | (uint64_t)v;
			h->req.idx = 1;
			return 0;
		}
		if (h->req.idx == 0 || (c != ';' && c != '\r'))
			return 400;
		h->state = c == ';' ? PC_HTTP_S_CHUNK_EXT : PC_HTTP_S_CHUNK_SIZE_LF;
		return 0;
	}
	case PC_HTTP_S_CHUNK_EXT:
		if (c == '\r')
			h->state = PC_HTTP_S_CHUNK_SIZE_LF;
		else if (!is_vchar(c) && !pc_http_is_ows(c))
			return 400;
		return 0;
	case PC_HTTP_S_CHUNK_SIZE_LF:
		if (c != '\n')
			return 400;
		if (h->req.remaining > 0) {
			h->state = PC_HTTP_S_CHUNK_DATA;
			return 0;
		}
		h->req.flags |= PC_HTTP_F_TRAILER;
		h->req.head_bytes = 0;
		h->req.nb_fields = 0;
		h->state = PC_HTTP_S_FIELD_START;
		return 0;
	case PC_HTTP_S_CHUNK_CR:
		if (c != '\r')
			return 400;
		h->state = PC_HTTP_S_CHUNK_LF;
		return 0;
	case PC_HTTP_S_CHUNK_LF:
		if (c != '\n')
			return 400;
		h->req.idx = 0;
		h->state = PC_HTTP_S_CHUNK_SIZE;
		return 0;
	}
	return 400;
}

size_t pc_http_input(struct pc_http_conn *h, const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len && h->state < PC_HTTP_S_RESPOND) {
		if (h->state == PC_HTTP_S_BODY || h->state == PC_HTTP_S_CHUNK_DATA) {
			size_t n = len - i;

			if (n > h->req.remaining)
				n = (size_t)h->req.remaining;
			h->req.remaining -= n;
			h->log.request_body_bytes += n;
			i += n;
			if (h->req.remaining == 0) {
				if (h->state == PC_HTTP_S_BODY)
					complete(h);
				else
					h->state = PC_HTTP_S_CHUNK_CR;
			}
			continue;
		}
		uint16_t status = step(h, p[i++]);

		if (status != 0)
			pc_http_respond(h, status, true);
	}
	return i;
}
