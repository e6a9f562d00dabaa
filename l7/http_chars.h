/* SPDX-License-Identifier: MIT */
/*
 * What the responder's parser (http_parse.c, http.c) and the proxy's
 * (http_head.c, http_resp.c, http_proxy.c) share of HTTP/1.1's grammar
 * (RFC 9110, 9112): character classes and the reason phrases of the
 * statuses they answer with themselves.
 */
#ifndef PC_HTTP_CHARS_H
#define PC_HTTP_CHARS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline uint8_t pc_http_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

static inline bool pc_http_is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static inline bool pc_http_is_alnum(uint8_t c)
{
	return pc_http_is_digit(c) || (pc_http_lower(c) >= 'a' && pc_http_lower(c) <= 'z');
}

/* Optional whitespace: SP or HTAB. */
static inline bool pc_http_is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* A token's character (field names, methods, transfer codings). */
static inline bool pc_http_is_tchar(uint8_t c)
{
	return pc_http_is_alnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The reason phrase of a status we answer with ourselves ("Bad Request"
 * for any other). */
static inline const char *pc_http_reason(uint16_t status)
{
	switch (status) {
	case 200: return "OK";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 421: return "Misdirected Request";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Bad Request";
	}
}

#endif
