/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the access log's formatters. An input is a size byte (the line
 * buffer: PC_ALOG_LINE_MAX when 0, else 1 to 255 times 8 bytes), then the
 * record's strings separated by '\n' (event, sni, cipher, subject, serial,
 * identity, method, path, verify, error: any bytes, cut to their field),
 * then bytes for its numbers. Checked: the JSON line is one JSON object
 * (a parser here reads it: strings well-formed UTF-8, escapes valid, no
 * control byte), within the buffer, complete when the buffer is
 * PC_ALOG_LINE_MAX; the logfmt line stays one line within the buffer.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pc_alog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A minimal RFC 8259 reader for what the formatter writes: an object of
 * string keys and string, number, true, false or null values. */
struct rd {
	const unsigned char *p, *end;
};

static bool lit(struct rd *r, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, s, n) != 0)
		return false;
	r->p += n;
	return true;
}

static bool hex4(struct rd *r, unsigned int *cp)
{
	*cp = 0;
	for (int i = 0; i < 4; i++, r->p++) {
		int c = r->p < r->end ? *r->p : -1;

		if (c >= '0' && c <= '9')
			*cp = *cp * 16 + (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*cp = *cp * 16 + (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*cp = *cp * 16 + (unsigned int)(c - 'A' + 10);
		else
			return false;
	}
	return true;
}

/* One UTF-8 character: decoded, then its code point checked against the
 * shortest form of its length, surrogates and U+10FFFF. */
static bool utf8_char(struct rd *r)
{
	static const unsigned int min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
	unsigned int b = *r->p, n, cp;

	n = b < 0x80 ? 1 : (b & 0xe0) == 0xc0 ? 2 : (b & 0xf0) == 0xe0 ? 3 : (b & 0xf8) == 0xf0 ? 4 : 0;
	if (n == 0 || (size_t)(r->end - r->p) < n)
		return false;
	cp = n == 1 ? b : b & (0x7fu >> n);
	for (unsigned int i = 1; i < n; i++) {
		if ((r->p[i] & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (r->p[i] & 0x3fu);
	}
	if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	r->p += n;
	return true;
}

static bool string(struct rd *r)
{
	unsigned int cp;

	if (!lit(r, "\""))
		return false;
	while (r->p < r->end && *r->p != '"') {
		if (*r->p < 0x20)
			return false;
		if (*r->p != '\\') {
			if (!utf8_char(r))
				return false;
			continue;
		}
		r->p++;
		if (r->p == r->end)
			return false;
		if (*r->p == 'u') {
			r->p++;
			if (!hex4(r, &cp) || (cp >= 0xd800 && cp <= 0xdfff))
				return false;
		} else if (strchr("\"\\/bfnrt", *r->p) != NULL && *r->p != '\0') {
			r->p++;
		} else {
			return false;
		}
	}
	return lit(r, "\"");
}

static bool number(struct rd *r)
{
	const unsigned char *start = r->p;

	while (r->p < r->end && ((*r->p >= '0' && *r->p <= '9') || *r->p == '.'))
		r->p++;
	return r->p > start && *start != '.';
}

static bool object(struct rd *r)
{
	if (!lit(r, "{"))
		return false;
	if (lit(r, "}"))
		return r->p == r->end;
	do {
		if (!string(r) || !lit(r, ":"))
			return false;
		if (!(string(r) || lit(r, "true") || lit(r, "false") || lit(r, "null") || number(r)))
			return false;
	} while (lit(r, ","));
	return lit(r, "}") && r->p == r->end;
}

/* The next '\n'-separated piece into a field (cut, NUL-terminated). */
static void field(const uint8_t **data, size_t *size, char *dst, size_t cap)
{
	const uint8_t *nl = memchr(*data, '\n', *size);
	size_t n = nl != NULL ? (size_t)(nl - *data) : *size;
	size_t k = n < cap - 1 ? n : cap - 1;

	memcpy(dst, *data, k);
	dst[k] = '\0';
	*data += n + (nl != NULL);
	*size -= n + (nl != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[PC_ALOG_LINE_MAX];
	struct pc_alog_rec r;
	uint64_t nums[4] = {0};
	size_t len;
	int n;

	if (size == 0)
		return 0;
	len = data[0] == 0 ? sizeof(buf) : (size_t)data[0] * 8;
	data++;
	size--;
	memset(&r, 0, sizeof(r));
	field(&data, &size, r.event, sizeof(r.event));
	field(&data, &size, r.sni, sizeof(r.sni));
	field(&data, &size, r.cipher, sizeof(r.cipher));
	field(&data, &size, r.subject, sizeof(r.subject));
	field(&data, &size, r.serial, sizeof(r.serial));
	field(&data, &size, r.identity, sizeof(r.identity));
	field(&data, &size, r.method, sizeof(r.method));
	field(&data, &size, r.path, sizeof(r.path));
	field(&data, &size, r.verify, sizeof(r.verify));
	field(&data, &size, r.error, sizeof(r.error));
	memcpy(nums, data, size < sizeof(nums) ? size : sizeof(nums));
	r.time_ns = (int64_t)(nums[0] >> 2);
	r.duration_us = nums[1];
	r.bytes_in = nums[2];
	r.bytes_out = nums[3];
	r.client_addr = (uint32_t)nums[1];
	r.client_port = (uint16_t)nums[2];
	r.status = (uint16_t)(nums[3] >> 48);
	r.tls_version = (nums[0] & 1) ? 0x0304 : (nums[0] & 2) ? 0x0303 : 0;
	r.resumed = nums[1] >> 63;

	memset(buf, 'x', sizeof(buf));
	n = pc_alog_format_json(&r, buf, len);
	if (n < 0 || (size_t)n >= len || strlen(buf) != (size_t)n)
		abort();
	if (len >= 3) {
		struct rd rd = {(const unsigned char *)buf, (const unsigned char *)buf + n};

		if (!object(&rd))
			abort();
	}
	/* Any record fits the advertised line size whole. */
	if (len == sizeof(buf) && n >= 17 && memcmp(buf + n - 17, "\"truncated\":true}", 17) == 0)
		abort();

	n = pc_alog_format(&r, buf, len);
	if (n < 0 || (size_t)n >= len || strlen(buf) != (size_t)n || memchr(buf, '\n', (size_t)n))
		abort();
	return 0;
}
