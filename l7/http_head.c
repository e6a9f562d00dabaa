/* SPDX-License-Identifier: MIT */
/*
 * The HTTP proxy's request heads (http_proxy_int.h): found, parsed
 * strictly and rewritten for the backend.
 *
 * The responder parses one byte at a time and keeps nothing; the proxy
 * must pass the head on, so it holds it whole (at most PC_HP_HEAD_MAX
 * bytes) and parses it in one go when its empty line has come. The rules
 * are the responder's (pc_http.h): what it refuses, this refuses with the
 * same status, so a request smuggled past the proxy would have been
 * refused by the responder too. The rewrite only removes lines, in place;
 * what the proxy adds is laid out as segments that point at the values
 * and certificates (base64 made as they are written), so that a long
 * Client-Cert-Chain needs no buffer. Threads: the worker that owns the
 * connection.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http_chars.h"
#include "http_proxy_int.h"

long pc_hp_scan(struct pc_hp_scan *s, const uint8_t *buf, size_t len)
{
	while (s->scanned < len) {
		const uint8_t *lf = memchr(buf + s->scanned, '\n', len - s->scanned);
		uint32_t i;

		if (lf == NULL) {
			s->scanned = (uint32_t)len;
			break;
		}
		i = (uint32_t)(lf - buf);
		s->scanned = i + 1;
		if (i == 0 || buf[i - 1] != '\r')
			return -400;
		if (!s->first_seen && i + 1 - s->line_start > PC_HP_LINE_MAX)
			return -414;
		if (i + 1 > PC_HP_HEAD_MAX)
			return -431;
		if (i - s->line_start == 1) {
			/* An empty line: the end, or one before the first line. */
			if (s->first_seen)
				return (long)i + 1;
		} else {
			s->first_seen = true;
			if (++s->nb_lines > PC_HP_NB_FIELDS_MAX + 1)
				return -431;
		}
		s->line_start = i + 1;
	}
	if (!s->first_seen && len - s->line_start > PC_HP_LINE_MAX)
		return -414;
	if (len >= PC_HP_HEAD_MAX)
		return -431;
	return 0;
}

static size_t b64_len(uint32_t n)
{
	return (size_t)(n + 2) / 3 * 4;
}

/* Base64 of p[0, n), from its character off, up to cap characters. */
static size_t b64_copy(const uint8_t *p, uint32_t n, size_t off, uint8_t *out, size_t cap)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t total = b64_len(n), w = 0;

	while (w < cap && off < total) {
		size_t i = off / 4 * 3;
		size_t have = n - i >= 3 ? 3 : n - i;
		uint32_t v = (uint32_t)p[i] << 16;
		uint8_t q[4];

		if (have > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (have > 2)
			v |= p[i + 2];
		q[0] = (uint8_t)tab[v >> 18 & 63];
		q[1] = (uint8_t)tab[v >> 12 & 63];
		q[2] = have > 1 ? (uint8_t)tab[v >> 6 & 63] : '=';
		q[3] = have > 2 ? (uint8_t)tab[v & 63] : '=';
		for (size_t k = off % 4; k < 4 && w < cap; k++, off++)
			out[w++] = q[k];
	}
	return w;
}

static size_t seg_len(const struct pc_hp_seg *s)
{
	return s->b64 ? b64_len(s->len) : s->len;
}

size_t pc_hp_out_left(const struct pc_hp_out *o)
{
	size_t n = 0;

	for (unsigned int i = o->i; i < o->n; i++)
		n += seg_len(&o->seg[i]);
	return n - (o->i < o->n ? o->off : 0);
}

size_t pc_hp_out_peek(const struct pc_hp_out *o, uint8_t *buf, size_t cap)
{
	size_t w = 0, off = o->off;

	for (unsigned int i = o->i; i < o->n && w < cap; i++, off = 0) {
		const struct pc_hp_seg *s = &o->seg[i];

		if (s->b64) {
			w += b64_copy(s->p, s->len, off, buf + w, cap - w);
		} else {
			size_t m = s->len - off < cap - w ? s->len - off : cap - w;

			memcpy(buf + w, s->p + off, m);
			w += m;
		}
	}
	return w;
}

void pc_hp_out_skip(struct pc_hp_out *o, size_t n)
{
	while (n > 0 && o->i < o->n) {
		size_t left = seg_len(&o->seg[o->i]) - o->off;

		if (n < left) {
			o->off += (uint32_t)n;
			return;
		}
		n -= left;
		o->i++;
		o->off = 0;
	}
}

static void out_add(struct pc_hp_out *o, const void *p, size_t len, bool b64)
{
	o->seg[o->n++] = (struct pc_hp_seg){.p = p, .len = (uint32_t)len, .b64 = b64};
}

static void out_str(struct pc_hp_out *o, const char *s)
{
	out_add(o, s, strlen(s), false);
}

long pc_hp_field(const uint8_t *p, const uint8_t *end, struct pc_hp_field *f)
{
	const uint8_t *q = p;

	if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
		f->name_len = 0;
		return 2;
	}
	/* A line starting with SP/HTAB is obs-fold. */
	while (q < end && pc_http_is_tchar(*q))
		q++;
	if (q == p || q == end || *q != ':')
		return -1;
	f->name = p;
	f->name_len = (size_t)(q - p);
	for (q++; q < end && pc_http_is_ows(*q); q++)
		;
	f->value = q;
	for (; q < end && *q != '\r'; q++)
		if ((*q <= 0x20 && !pc_http_is_ows(*q)) || *q == 0x7f)
			return -1;
	if (end - q < 2 || q[1] != '\n')
		return -1;
	f->value_len = (size_t)(q - f->value);
	while (f->value_len > 0 && pc_http_is_ows(f->value[f->value_len - 1]))
		f->value_len--;
	return q + 2 - p;
}

bool pc_hp_name_is(const uint8_t *name, size_t len, const char *word)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (word[i] == '\0' || pc_http_lower(name[i]) != pc_http_lower((uint8_t)word[i]))
			return false;
	return word[i] == '\0';
}

/* Call fn for each token of a comma-separated list (empty ones skipped);
 * stops when fn returns true. */
static bool each_token(const uint8_t *v, size_t len,
		       bool (*fn)(const uint8_t *t, size_t n, const void *arg), const void *arg)
{
	size_t i = 0;

	while (i < len) {
		size_t s, e;

		while (i < len && (pc_http_is_ows(v[i]) || v[i] == ','))
			i++;
		s = i;
		while (i < len && v[i] != ',')
			i++;
		e = i;
		while (e > s && pc_http_is_ows(v[e - 1]))
			e--;
		if (e > s && fn(v + s, e - s, arg))
			return true;
	}
	return false;
}

static bool token_note(const uint8_t *t, size_t n, const void *arg)
{
	struct pc_hp_conn *c = (struct pc_hp_conn *)arg;

	if (pc_hp_name_is(t, n, "close"))
		c->close = true;
	else if (pc_hp_name_is(t, n, "keep-alive"))
		c->keep_alive = true;
	return false;
}

int pc_hp_conn_add(struct pc_hp_conn *c, const uint8_t *v, size_t len)
{
	if (c->n == PC_HP_CONN_MAX)
		return -1;
	c->p[c->n] = v;
	c->len[c->n++] = len;
	each_token(v, len, token_note, c);
	return 0;
}

struct name_ref {
	const uint8_t *p;
	size_t len;
};

static bool token_is(const uint8_t *t, size_t n, const void *arg)
{
	const struct name_ref *r = arg;

	return n == r->len && strncasecmp((const char *)t, (const char *)r->p, n) == 0;
}

bool pc_hp_hop_by_hop(const uint8_t *name, size_t len, const struct pc_hp_conn *c)
{
	static const char *const hop[] = {"connection", "keep-alive", "proxy-connection", "te",
					  "upgrade"};
	static const char *const framing[] = {"host", "content-length", "transfer-encoding"};
	struct name_ref r = {name, len};

	for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (pc_hp_name_is(name, len, hop[i]))
			return true;
	/* Naming the framing headers in Connection would let a client make
	 * the backend read another body than ours. */
	for (size_t i = 0; i < sizeof(framing) / sizeof(framing[0]); i++)
		if (pc_hp_name_is(name, len, framing[i]))
			return false;
	for (unsigned int i = 0; i < c->n; i++)
		if (each_token(c->p[i], c->len[i], token_is, &r))
			return true;
	return false;
}

/* Host: uri-host [":" port] (RFC 9110 7.2): an IP-literal or a reg-name,
 * as the responder takes them; the host part into out ("" when over
 * PC_TLS_NAME_MAX: such a name picks what no name picks). */
static bool host_parse(const uint8_t *v, size_t n, char *out)
{
	size_t i = 0, h;

	if (n > 0 && v[0] == '[') {
		for (i = 1; i < n && v[i] != ']'; i++)
			if (!pc_http_is_alnum(v[i]) && strchr(":.-._~!$&'()*+,;=%", v[i]) == NULL)
				return false;
		if (i == n)
			return false;
		i++;
	} else {
		for (; i < n && v[i] != ':'; i++)
			if (!pc_http_is_alnum(v[i]) && strchr("-._~!$&'()*+,;=%", v[i]) == NULL)
				return false;
	}
	h = i;
	if (i < n) {
		if (v[i] != ':')
			return false;
		for (i++; i < n; i++)
			if (!pc_http_is_digit(v[i]))
				return false;
	}
	if (h > PC_TLS_NAME_MAX)
		h = 0;
	memcpy(out, v, h);
	out[h] = '\0';
	return true;
}

/* "HTTP/" DIGIT "." DIGIT: 1 for 1.1, 0 for 1.0, -505 another version,
 * -400 not a version. */
static int version(const uint8_t *p, size_t n)
{
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || !pc_http_is_digit(p[5]) || p[6] != '.' ||
	    !pc_http_is_digit(p[7]))
		return -400;
	if (p[5] == '1' && (p[7] == '0' || p[7] == '1'))
		return p[7] == '1';
	return -505;
}

/* The request line at p (CRLF before end): its length with the CRLF, or
 * -status. */
/* The access log's copy of a request-line field, cut to its buffer. */
static void log_span(char *dst, size_t size, const uint8_t *p, size_t n)
{
	if (n > size - 1)
		n = size - 1;
	memcpy(dst, p, n);
	dst[n] = '\0';
}

static long request_line(const uint8_t *p, const uint8_t *end, struct pc_hp_req *r,
			 struct pc_http_log *log)
{
	const uint8_t *q = p, *m, *t;
	size_t mlen, tlen;
	int v;

	while (q < end && pc_http_is_tchar(*q))
		q++;
	if (q == p || q == end || *q != ' ')
		return -400;
	m = p;
	mlen = (size_t)(q - p);
	t = ++q;
	while (q < end && *q > 0x20 && *q < 0x7f)
		q++;
	if (q == t || q == end || *q != ' ')
		return -400;
	tlen = (size_t)(q - t);
	q++;
	/* origin-form, or "*" for OPTIONS; absolute-form and authority-form
	 * are for forward proxies. */
	if (t[0] != '/' && !(t[0] == '*' && tlen == 1 && mlen == 7 && memcmp(m, "OPTIONS", 7) == 0))
		return -400;
	log_span(log->method, sizeof(log->method), m, mlen);
	log_span(log->path, sizeof(log->path), t, tlen);
	r->head = mlen == 4 && memcmp(m, "HEAD", 4) == 0;
	if (end - q < 10 || q[8] != '\r' || q[9] != '\n')
		return -400;
	v = version(q, 8);
	if (v < 0)
		return v;
	r->http11 = v == 1;
	return q + 10 - p;
}

uint16_t pc_hp_req_parse(uint8_t *buf, size_t len, struct pc_hp_req *r, struct pc_http_log *log)
{
	const uint8_t *p = buf, *end = buf + len;
	struct pc_hp_conn conn = {0};
	bool has_cl = false, has_te = false, te_other = false;
	unsigned int nb_fields = 0;
	long n;

	memset(r, 0, sizeof(*r));
	while (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
		p += 2;
	n = request_line(p, end, r, log);
	if (n < 0)
		return (uint16_t)-n;
	for (p += n;; p += n) {
		struct pc_hp_field f;

		n = pc_hp_field(p, end, &f);
		if (n < 0)
			return 400;
		if (f.name_len == 0)
			break;
		if (++nb_fields > PC_HP_NB_FIELDS_MAX)
			return 431;
		if (pc_hp_name_is(f.name, f.name_len, "host")) {
			if (r->has_host || !host_parse(f.value, f.value_len, r->host))
				return 400;
			r->has_host = true;
		} else if (pc_hp_name_is(f.name, f.name_len, "content-length")) {
			if (has_cl || f.value_len == 0)
				return 400;
			has_cl = true;
			for (size_t i = 0; i < f.value_len; i++) {
				uint8_t c = f.value[i];

				if (!pc_http_is_digit(c) ||
				    r->content_length > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
					return 400;
				r->content_length = r->content_length * 10 + (uint64_t)(c - '0');
			}
		} else if (pc_hp_name_is(f.name, f.name_len, "transfer-encoding")) {
			/* A second line means "chunked, chunked" or another coding. */
			if (has_te || !pc_hp_name_is(f.value, f.value_len, "chunked"))
				te_other = true;
			has_te = true;
		} else if (pc_hp_name_is(f.name, f.name_len, "connection")) {
			if (pc_hp_conn_add(&conn, f.value, f.value_len) != 0)
				return 400;
		}
	}
	if (r->http11 && !r->has_host)
		return 400;
	/* Both, or chunked under HTTP/1.0, leave the framing in doubt. */
	if (has_te && (has_cl || !r->http11))
		return 400;
	if (te_other)
		return 501;
	r->chunked = has_te;
	r->keep_alive = r->http11 ? !conn.close : conn.keep_alive && !conn.close;
	return 0;
}

static bool dropped(const struct pc_hp_ident *id, const struct pc_hp_field *f)
{
	for (size_t i = 0; i < sizeof(id->drop) / sizeof(id->drop[0]) && id->drop[i] != NULL; i++)
		if (pc_hp_name_is(f->name, f->name_len, id->drop[i]))
			return true;
	return false;
}

uint8_t *pc_hp_head_fields(uint8_t *buf, size_t len, uint8_t **line, struct pc_hp_conn *conn)
{
	const uint8_t *end = buf + len;
	uint8_t *fields, *p;
	long n;

	*line = buf;
	while (end - *line >= 2 && (*line)[0] == '\r' && (*line)[1] == '\n')
		*line += 2;
	fields = (uint8_t *)memchr(*line, '\n', (size_t)(end - *line)) + 1;
	/* The Connection values first: a header they name may come before
	 * them. */
	for (p = fields;; p += n) {
		struct pc_hp_field f;

		n = pc_hp_field(p, end, &f);
		if (f.name_len == 0)
			break;
		if (pc_hp_name_is(f.name, f.name_len, "connection"))
			pc_hp_conn_add(conn, f.value, f.value_len);
	}
	return fields;
}

void pc_hp_req_rewrite(uint8_t *buf, size_t len, struct pc_hp_req *r, const struct pc_hp_ident *id,
		       struct pc_hp_out *o)
{
	const uint8_t *end = buf + len;
	struct pc_hp_conn conn = {0};
	bool keep[PC_HP_NB_FIELDS_MAX];
	uint8_t *line = buf, *fields, *p, *w;
	unsigned int i;
	long n;

	fields = pc_hp_head_fields(buf, len, &line, &conn);
	/* Then what to keep, before any line moves (over them). */
	for (p = fields, i = 0;; p += n, i++) {
		struct pc_hp_field f;

		n = pc_hp_field(p, end, &f);
		if (f.name_len == 0)
			break;
		keep[i] = false;
		if (dropped(id, &f))
			r->forged++;
		else if (pc_hp_hop_by_hop(f.name, f.name_len, &conn))
			r->hop++;
		else
			keep[i] = true;
	}
	/* The request line to the start, then every line kept after it. */
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
	o->n = o->i = 0;
	o->off = 0;
	out_add(o, buf, (size_t)(w - buf), false);
	for (int h = 0; h < PC_BACKEND_NB_HEADERS; h++) {
		const char *name = id->name[h];

		if (name == NULL)
			continue;
		if (h == PC_HDR_CLIENT_CERT || h == PC_HDR_CLIENT_CERT_CHAIN) {
			unsigned int from = h == PC_HDR_CLIENT_CERT ? 0 : 1;
			unsigned int to = h == PC_HDR_CLIENT_CERT ? 1 : id->nb_certs;

			if (id->nb_certs <= from)
				continue;
			out_str(o, name);
			out_str(o, ": :");
			for (unsigned int c = from; c < to; c++) {
				if (c > from)
					out_str(o, ":, :");
				out_add(o, id->cert[c], id->cert_len[c], true);
			}
			out_str(o, ":\r\n");
		} else if (id->value[h] != NULL) {
			out_str(o, name);
			out_str(o, ": ");
			out_str(o, id->value[h]);
			out_str(o, "\r\n");
		}
	}
	/* HTTP/1.0 closes by default: the server connection is worth
	 * keeping whatever the client does with its own. */
	if (!r->http11)
		out_str(o, "Connection: keep-alive\r\n");
	out_str(o, "\r\n");
}
