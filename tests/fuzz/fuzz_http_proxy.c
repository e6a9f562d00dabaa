/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the HTTP proxy's parsers and rewriters (http_proxy_int.h). An
 * input is a configuration byte (bits 0-1: the piece size heads are
 * scanned in, 1, 7, 64 or whole; bit 2: the request was HEAD; bit 3: the
 * backend renames two headers; bits 4-5: the piece size bodies are
 * scanned in), two bytes (big-endian) saying how much of the rest is the
 * client's request head, the rest being the backend's response: head,
 * then body.
 * Checked: a scan fed in pieces ends where one fed whole does; what the
 * rewriter keeps of a request parses again to the same framing, Host and
 * version, without any identity or hop-by-hop header in it, and the
 * whole rewritten head is what its segments say, written in pieces; a
 * rewritten response head parses again to the same status and framing;
 * a body is never over-consumed, and a chunked request body with its
 * trailers dropped is still one whole chunked body.
 */
#include <stdlib.h>
#include <string.h>

#include "http_proxy_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const char *const pc_backend_header_default[PC_BACKEND_NB_HEADERS] = {
	"X-SSL-Client-Verify", "X-SSL-Client-S-DN",   "X-SSL-Client-SAN",
	"X-SSL-Client-Serial", "X-SSL-Client-Fingerprint", "X-Client-Identity",
	"Client-Cert",         "Client-Cert-Chain",   "X-Forwarded-For",
	"X-Forwarded-Proto",
};

static const size_t steps[4] = {1, 7, 64, 1 << 20};
static uint8_t buf[PC_HP_HEAD_MAX + PC_HP_HEAD_SLACK];
static uint8_t again[PC_HP_HEAD_MAX + PC_HP_HEAD_SLACK];
static uint8_t out[4 * PC_HP_HEAD_MAX];

/* The head's end, scanned whole and in pieces (the same). */
static long scan(const uint8_t *p, size_t len, size_t step)
{
	struct pc_hp_scan whole = {0}, pieces = {0};
	long a, b = 0;

	if (len > PC_HP_HEAD_MAX)
		len = PC_HP_HEAD_MAX;
	a = pc_hp_scan(&whole, p, len);
	for (size_t n = step < len ? step : len; b == 0; n = n + step < len ? n + step : len) {
		b = pc_hp_scan(&pieces, p, n);
		if (n == len)
			break;
	}
	if (a != b)
		abort();
	return a;
}

static void request(const uint8_t *p, size_t len, uint8_t cfg)
{
	static const uint8_t leaf[] = "leaf certificate", ca[] = "ca";
	struct pc_hp_ident id = {0};
	struct pc_hp_req r, r2;
	struct pc_http_log log;
	struct pc_hp_out o;
	size_t kept, total, w = 0;
	long end = scan(p, len, steps[cfg & 3]);

	if (end <= 0)
		return;
	memcpy(buf, p, (size_t)end);
	if (pc_hp_req_parse(buf, (size_t)end, &r, &log) != 0)
		return;
	for (int h = 0; h < PC_BACKEND_NB_HEADERS; h++) {
		id.name[h] = pc_backend_header_default[h];
		id.drop[h] = pc_backend_header_default[h];
		id.value[h] = "v";
	}
	if (cfg & 8) {
		id.name[PC_HDR_CLIENT_VERIFY] = id.drop[PC_BACKEND_NB_HEADERS] = "X-Verify";
		id.name[PC_HDR_FORWARDED_FOR] = NULL;
	}
	id.nb_certs = 2;
	id.cert[0] = leaf;
	id.cert_len[0] = sizeof(leaf) - 1;
	id.cert[1] = ca;
	id.cert_len[1] = sizeof(ca) - 1;
	pc_hp_req_rewrite(buf, (size_t)end, &r, &id, &o);
	kept = o.seg[0].len;
	/* What is kept, ended, parses the same. */
	if (kept + 2 > sizeof(again))
		abort();
	memcpy(again, buf, kept);
	memcpy(again + kept, "\r\n", 2);
	if (scan(again, kept + 2, 1 << 20) != (long)kept + 2 ||
	    pc_hp_req_parse(again, kept + 2, &r2, &log) != 0 ||
	    r2.content_length != r.content_length || r2.chunked != r.chunked ||
	    r2.http11 != r.http11 || r2.has_host != r.has_host || strcmp(r2.host, r.host) != 0 ||
	    r2.forged != 0)
		abort();
	for (const uint8_t *q = (const uint8_t *)memchr(again, '\n', kept) + 1;;) {
		struct pc_hp_field f;
		struct pc_hp_conn none = {0};
		long n = pc_hp_field(q, again + kept + 2, &f);

		if (n < 0)
			abort();
		if (f.name_len == 0)
			break;
		if (pc_hp_hop_by_hop(f.name, f.name_len, &none))
			abort();
		for (int i = 0; i < PC_BACKEND_NB_HEADERS + 1 && id.drop[i] != NULL; i++)
			if (pc_hp_name_is(f.name, f.name_len, id.drop[i]))
				abort();
		q += n;
	}
	/* Written in pieces: what the segments say, then the empty line. */
	total = pc_hp_out_left(&o);
	if (total > sizeof(out))
		abort();
	while (pc_hp_out_left(&o) > 0) {
		size_t n = pc_hp_out_peek(&o, out + w, steps[cfg >> 4 & 3]);

		if (n == 0)
			abort();
		pc_hp_out_skip(&o, n);
		w += n;
	}
	if (w != total || memcmp(out, buf, kept) != 0 || memcmp(out + w - 4, "\r\n\r\n", 4) != 0)
		abort();
}

static void body(const uint8_t *p, size_t len, enum pc_hp_framing f, uint64_t length, size_t step)
{
	struct pc_hp_body b, d, check;
	size_t i = 0, w = 0;

	pc_hp_body_init(&b, f, length, false);
	pc_hp_body_init(&d, f, length, true);
	while (i < len && !b.done) {
		bool pass;
		long n = pc_hp_body_scan(&b, p + i, len - i < step ? len - i : step, &pass);

		if (n <= 0 || (size_t)n > len - i || !pass)
			return;
		i += (size_t)n;
	}
	if (f != PC_HP_BODY_CHUNKED || !b.done)
		return;
	/* The same body with its trailers dropped. */
	for (size_t j = 0; j < i && !d.done;) {
		bool pass;
		long n = pc_hp_body_scan(&d, p + j, i - j, &pass);

		if (n <= 0)
			abort();
		if (pass) {
			memcpy(out + w, p + j, (size_t)n);
			w += (size_t)n;
		}
		j += (size_t)n;
	}
	pc_hp_body_init(&check, f, 0, false);
	for (size_t j = 0; j < w;) {
		bool pass;
		long n = pc_hp_body_scan(&check, out + j, w - j, &pass);

		if (n <= 0)
			abort();
		j += (size_t)n;
	}
	if (!d.done || !check.done)
		abort();
}

static void response(const uint8_t *p, size_t len, uint8_t cfg)
{
	struct pc_hp_resp r, r2;
	long end = scan(p, len, steps[cfg & 3]);
	size_t n;

	if (end <= 0)
		return;
	if (pc_hp_resp_parse(p, (size_t)end, cfg & 4, &r) != 0)
		return;
	memcpy(buf, p, (size_t)end);
	n = pc_hp_resp_rewrite(buf, (size_t)end, &r, cfg & 1, cfg & 2);
	if (n > (size_t)end + PC_HP_HEAD_SLACK || memcmp(buf + n - 4, "\r\n\r\n", 4) != 0 ||
	    scan(buf, n, 1 << 20) != (long)n || pc_hp_resp_parse(buf, n, cfg & 4, &r2) != 0 ||
	    r2.status != r.status || r2.framing != r.framing ||
	    r2.content_length != r.content_length)
		abort();
	body(p + end, len - (size_t)end, r.framing, r.content_length, steps[cfg >> 4 & 3]);
	/* The rest as a chunked request body, whatever the head said. */
	body(p + end, len - (size_t)end, PC_HP_BODY_CHUNKED, 0, steps[cfg >> 4 & 3]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t split;
	uint8_t cfg;

	if (size < 3)
		return 0;
	cfg = data[0];
	split = (size_t)(data[1] << 8 | data[2]);
	data += 3;
	size -= 3;
	if (split > size)
		split = size;
	request(data, split, cfg);
	response(data + split, size - split, cfg);
	return 0;
}
