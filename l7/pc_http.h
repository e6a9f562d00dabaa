/* SPDX-License-Identifier: MIT */
/*
 * The built-in HTTP/1.1 responder (HTTP mode of a TLS listener): a strict
 * request parser and the responses, with no I/O of its own. The TLS layer
 * feeds it decrypted request bytes and pulls response bytes as the
 * connection can take them, so responses of any length (the benchmark
 * route) are produced incrementally under back-pressure.
 *
 * Threads: a pc_http_conn belongs to the worker that owns the connection;
 * nothing here allocates, locks or makes syscalls.
 *
 * Routes:
 *   GET|HEAD /            200, text body "identity: <id>\n" or
 *                         "identity: NONE\n"
 *   GET|HEAD /bytes/N     200 with N bytes of body (benchmarks), N up to 2^40
 *   POST|PUT /upload      reads the request body (Content-Length or chunked)
 *                         and answers 200 "received N\n"
 *   anything else         404; methods other than GET/HEAD/POST/PUT 405
 *                         (with Allow); the query ("?...") is ignored
 * Every request's body (Content-Length or chunked) is read and discarded
 * before it is answered.
 * Policy, checked in this order before routing:
 *   env->verify_failed_403          every request gets 403
 *   env->host_must_match and the Host header (port stripped, case-insensitive)
 *                                   differs from env->sni: 421
 *   the target starts with one of env->protected and no verified client:
 *                                   403 (a target too long to keep fails
 *                                   closed)
 * Errors: a request the parser refuses gets 400 (431 for headers over the
 * limit, 414 for a request line over the limit, 505 for a version other
 * than HTTP/1.0 and 1.1, 501 for a Transfer-Encoding other than chunked)
 * with "Connection: close", and the connection closes after it. Refused
 * shapes include duplicate Content-Length (even equal values), both
 * Content-Length and Transfer-Encoding, bad chunk sizes or missing CRLF,
 * obs-fold (a header line starting with SP/HTAB), whitespace before the
 * colon, bare CR or LF line endings, control characters, a missing Host in
 * HTTP/1.1 or several Host headers, Transfer-Encoding in HTTP/1.0, a target
 * in absolute-form, "*" other than for OPTIONS. Empty lines before a
 * request line are skipped (RFC 9112 section 2.2).
 * Keep-alive: HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with
 * "Connection: keep-alive" (then answered with it). Pipelined requests are
 * answered in order.
 */
#ifndef PC_HTTP_H
#define PC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PC_HTTP_MAX_PROTECTED 8
#define PC_HTTP_PATH_MAX 128

/* Fixed for a connection once its handshake is done. Strings are not
 * copied: they must outlive the pc_http_conn. */
struct pc_http_env {
	const char *sni;            /* "" when the client sent none */
	const char *identity;       /* verified client identity, NULL if none */
	bool verify_failed_403;     /* verification failed, host action http403 */
	bool host_must_match;       /* client verification on: Host == SNI or 421 */
	unsigned int nb_protected;  /* path prefixes that need a verified client */
	const char *protected[PC_HTTP_MAX_PROTECTED];
};

/* What one answered request looks like, for the access log. method and
 * path are what was parsed when the request ended (partial, or empty, for
 * a request refused early); both are NUL-terminated. */
struct pc_http_log {
	char method[8];              /* truncated */
	char path[PC_HTTP_PATH_MAX]; /* the request target, truncated */
	uint16_t status;
	uint16_t upstream_status;    /* HTTP proxy: the server's status, 0 when none came */
	uint64_t body_bytes;         /* response body bytes sent (0 for HEAD) */
	uint64_t request_body_bytes; /* request body bytes read and discarded */
};

/* Called when a response has been queued in full (its last byte handed
 * out by pc_http_output). */
typedef void (*pc_http_done_fn)(void *arg, const struct pc_http_log *rec);

/* Per-connection state, embedded in the TLS connection (nothing to free;
 * 504 bytes on x86-64). Private: use the functions below. */
struct pc_http_conn {
	const struct pc_http_env *env;
	pc_http_done_fn done;
	void *done_arg;
	uint8_t state;          /* parser or output state (http_int.h) */
	bool peer_closed;
	/* The request being read; zeroed before each one. */
	struct {
		uint32_t flags;         /* PC_HTTP_F_* (http_int.h) */
		uint32_t line_bytes;    /* request line so far */
		uint32_t head_bytes;    /* header (or trailer) section so far */
		uint16_t idx;           /* position in the name, token or Host value */
		uint8_t nb_fields;      /* header (or trailer) lines */
		uint8_t field;          /* which header the value belongs to */
		uint8_t cand;           /* names or tokens still matching */
		uint8_t method;         /* PC_HTTP_M_* */
		uint8_t method_len;
		uint8_t path_len;
		uint16_t status;        /* decided when the head ends */
		uint64_t content_length;
		uint64_t remaining;     /* body bytes left: Content-Length or chunk */
	} req;
	/* The response being handed out: head[], then body_len bytes of body
	 * (the pattern, or the text segments). */
	uint64_t body_len;
	uint64_t body_off;
	const char *seg[3];
	uint32_t seg_len[3];
	uint16_t head_len;
	uint16_t head_off;
	char num[24];           /* "received N" */
	char head[192];         /* longest: a 405 with Allow and Connection */
	struct pc_http_log log;
};

void pc_http_init(struct pc_http_conn *h, const struct pc_http_env *env,
		  pc_http_done_fn done, void *done_arg);

/* Feed request bytes. Returns how many were consumed: fewer than len when
 * a response is still being sent (the rest is pipelined and must be fed
 * again later) or when the connection is to close. */
size_t pc_http_input(struct pc_http_conn *h, const uint8_t *p, size_t len);

/* Copy up to cap bytes of response into buf; returns the count, 0 when
 * nothing is pending (then feed more input). */
size_t pc_http_output(struct pc_http_conn *h, uint8_t *buf, size_t cap);

/* True when all output has been taken and the connection should close
 * (error, Connection: close, HTTP/1.0 without keep-alive). */
bool pc_http_done(const struct pc_http_conn *h);

/* The client closed its side (FIN or close_notify): what it sent in part
 * is dropped; returns true if a response is still pending output. */
bool pc_http_peer_closed(struct pc_http_conn *h);

#endif
