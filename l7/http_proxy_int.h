/* SPDX-License-Identifier: MIT */
/*
 * Private to the HTTP proxy (http_proxy.c): the parts with no I/O, which
 * the unit tests and fuzz_http_proxy drive directly.
 *
 *   http_head.c  the request head: where it ends, a strict parse (the
 *                responder's rules, pc_http.h), the rewrite for the
 *                backend (identity and hop-by-hop headers removed, the
 *                proxy's headers added) as a list of segments written
 *                out under back-pressure, base64 made on the fly;
 *   http_resp.c  the response head (status, framing, keep-alive) and its
 *                rewrite for the client; message bodies (Content-Length,
 *                chunked, until close) scanned as they stream through.
 *
 * Heads are parsed whole, from a buffer that holds all of it (at most
 * PC_HP_HEAD_MAX bytes); nothing here allocates. Threads: the worker that
 * owns the connection.
 */
#ifndef PC_HTTP_PROXY_INT_H
#define PC_HTTP_PROXY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pc_http.h"
#include "pc_tls.h"
#include "pc_verify.h"

#define PC_HP_LINE_MAX 8192     /* request line, CRLF included: 414 above */
#define PC_HP_HEAD_MAX 16384    /* a whole head, CRLFs included: 431 (502) above */
#define PC_HP_NB_FIELDS_MAX 100 /* header (or trailer) lines: 431 (502) above */
/* Bytes a response head may grow by (the Connection line it gets). */
#define PC_HP_HEAD_SLACK 64

/* Where a head ends, found as its bytes arrive. */
struct pc_hp_scan {
	uint32_t scanned;    /* bytes looked at */
	uint32_t line_start; /* where the current line starts */
	bool first_seen;     /* a non-empty line (the request or status line) */
	uint8_t nb_lines;    /* lines up to PC_HP_NB_FIELDS_MAX + 1, then stops counting */
};

/* Look at buf[s->scanned, len): the length of the head (its empty line
 * included) once it is there, 0 while more is needed, or -status when it
 * can no longer be a head: 400 a LF without CR, 414 a request (or status)
 * line over PC_HP_LINE_MAX, 431 a head over PC_HP_HEAD_MAX or with too
 * many lines. Empty lines before the first line are part of the head
 * (the parsers skip them). */
long pc_hp_scan(struct pc_hp_scan *s, const uint8_t *buf, size_t len);

/* The bytes a head becomes: segments copied as they are, or base64 (RFC
 * 4648 section 4, padded) of theirs. */
struct pc_hp_seg {
	const uint8_t *p;
	uint32_t len;
	bool b64;
};
#define PC_HP_SEGS_MAX (6 + 4 * PC_BACKEND_NB_HEADERS + 2 * PC_VERIFY_MAX_PEER)
struct pc_hp_out {
	unsigned int n, i; /* segments, the one being written */
	uint32_t off;      /* bytes of segment i written */
	struct pc_hp_seg seg[PC_HP_SEGS_MAX];
};

/* Bytes left to write. */
size_t pc_hp_out_left(const struct pc_hp_out *o);
/* The next bytes (up to cap) into buf, without moving on: how many. */
size_t pc_hp_out_peek(const struct pc_hp_out *o, uint8_t *buf, size_t cap);
/* n bytes (at most what is left) were written. */
void pc_hp_out_skip(struct pc_hp_out *o, size_t n);

/* What the proxy adds to a request: a value per header (NULL: not
 * added; Client-Cert and Client-Cert-Chain come from the certificates
 * instead), names per backend (NULL: off). */
struct pc_hp_ident {
	const char *name[PC_BACKEND_NB_HEADERS];
	const char *value[PC_BACKEND_NB_HEADERS];
	/* The client's chain as it sent it, leaf first: Client-Cert is the
	 * leaf, Client-Cert-Chain the others (added only when nb_certs says
	 * there are such). */
	unsigned int nb_certs;
	const uint8_t *cert[PC_VERIFY_MAX_PEER];
	uint32_t cert_len[PC_VERIFY_MAX_PEER];
	/* Names removed from what the client sent, whatever the backend
	 * sets (the default names and the backend's): NULL ends the list
	 * early. */
	const char *drop[2 * PC_BACKEND_NB_HEADERS];
};

/* A request head as parsed. */
struct pc_hp_req {
	bool http11;
	bool keep_alive;      /* the client keeps the connection after the response */
	bool head;            /* HEAD: no response body */
	bool chunked;
	bool has_host;
	uint64_t content_length;
	char host[PC_TLS_NAME_MAX + 1]; /* Host without its port, "" when absent or longer */
	unsigned int forged;  /* identity headers the client sent (removed) */
	unsigned int hop;     /* hop-by-hop headers removed */
};

/* Parse the request head buf[0, len) (len from pc_hp_scan), the
 * responder's rules (pc_http.h: 400, 501, 505) and an absolute-form or
 * authority-form target refused; fills r and the method and target of
 * log. 0, or the status to answer. */
uint16_t pc_hp_req_parse(uint8_t *buf, size_t len, struct pc_hp_req *r, struct pc_http_log *log);
/* After pc_hp_req_parse returned 0: rewrite the head in place (it only
 * shrinks: the leading empty lines, the headers id->drop names, the
 * hop-by-hop headers (Connection, the headers it names but Host and the
 * framing ones, Keep-Alive, Proxy-Connection, TE, Upgrade) taken out)
 * and lay out o: what is kept, then each header of id that has a name
 * and a value, in enum pc_backend_header order, "Connection: keep-alive"
 * for an HTTP/1.0 request, then the empty line.
 * r->forged and r->hop count what was removed. */
void pc_hp_req_rewrite(uint8_t *buf, size_t len, struct pc_hp_req *r, const struct pc_hp_ident *id,
		       struct pc_hp_out *o);

/* Message bodies as they stream through. */
enum pc_hp_framing {
	PC_HP_BODY_NONE,    /* no body */
	PC_HP_BODY_LENGTH,  /* Content-Length */
	PC_HP_BODY_CHUNKED,
	PC_HP_BODY_CLOSE,   /* until the server closes (responses only) */
};
struct pc_hp_body {
	uint8_t framing;       /* enum pc_hp_framing */
	uint8_t state;         /* chunked: where in the framing (http_resp.c) */
	bool drop_trailers;    /* trailer fields are not passed on (requests) */
	bool done;             /* the body has ended */
	bool digit;            /* chunked: a size digit seen */
	uint8_t nb_trailers;
	uint16_t trailer_bytes;
	uint64_t remaining;    /* Content-Length or chunk bytes left */
	uint64_t bytes;        /* body bytes (framing included) passed so far */
};

void pc_hp_body_init(struct pc_hp_body *b, enum pc_hp_framing f, uint64_t length,
		     bool drop_trailers);
/* Scan up to len bytes of body at p: how many belong to it (fewer when
 * it ends there, or when the next ones are to be dropped while these
 * are not, or the other way round: *pass says which), -1 when they
 * break the chunked framing. Stops at the body's end (b->done). */
long pc_hp_body_scan(struct pc_hp_body *b, const uint8_t *p, size_t len, bool *pass);

/* A response head as parsed. */
struct pc_hp_resp {
	uint16_t status;
	bool http11;
	bool keep_alive;      /* the server keeps the connection after it */
	enum pc_hp_framing framing;
	uint64_t content_length;
};

/* Parse the response head buf[0, len) (len from pc_hp_scan) to a request
 * that was HEAD or not: 0, or -1 when it is not a valid HTTP/1.x
 * response head (101 too: no upgrade is ever asked for; both
 * Content-Length and Transfer-Encoding; a coding other than chunked;
 * duplicate Content-Length). 1xx heads have PC_HP_BODY_NONE. */
int pc_hp_resp_parse(const uint8_t *buf, size_t len, bool head_request, struct pc_hp_resp *r);
/* Rewrite it in place for the client (buf has PC_HP_HEAD_SLACK bytes
 * past len): the hop-by-hop headers taken out, then "Connection: close"
 * when close, or "Connection: keep-alive" when keep_alive_10 (an HTTP/1.0
 * client that keeps the connection); a 1xx head gets neither. The new
 * length. */
size_t pc_hp_resp_rewrite(uint8_t *buf, size_t len, const struct pc_hp_resp *r, bool close,
			  bool keep_alive_10);

/* Shared by both parsers (http_head.c). */
/* One line of a head (it ends with CRLF before end, pc_hp_scan saw to
 * that): its length with the CRLF, 2 for the empty line, -1 when it is
 * not a field line: a name of tchars, a colon right after it, a value
 * of visible bytes (obs-text too), SP and HTAB, its OWS trimmed. */
struct pc_hp_field {
	const uint8_t *name, *value;
	size_t name_len, value_len;
};
long pc_hp_field(const uint8_t *p, const uint8_t *end, struct pc_hp_field *f);
/* Is the field name (case-insensitive) word? */
bool pc_hp_name_is(const uint8_t *name, size_t len, const char *word);
/* Values of the Connection headers of a head. */
#define PC_HP_CONN_MAX 8
struct pc_hp_conn {
	unsigned int n;
	const uint8_t *p[PC_HP_CONN_MAX];
	size_t len[PC_HP_CONN_MAX];
	bool close, keep_alive; /* the tokens seen */
};
/* A Connection value: its tokens noted, kept for pc_hp_hop_by_hop; -1
 * past PC_HP_CONN_MAX headers. */
int pc_hp_conn_add(struct pc_hp_conn *c, const uint8_t *v, size_t len);
/* Is it a hop-by-hop header (Connection, Keep-Alive, Proxy-Connection,
 * TE, Upgrade, or one c names, but for Host, Content-Length and
 * Transfer-Encoding)? */
bool pc_hp_hop_by_hop(const uint8_t *name, size_t len, const struct pc_hp_conn *c);
/* A head whole in buf (len bytes, already parsed: well formed): where
 * its start line begins (*line, past empty lines) and its fields begin
 * (returned), with the Connection values noted in conn, so that the
 * fields they name can be dropped wherever they come. */
uint8_t *pc_hp_head_fields(uint8_t *buf, size_t len, uint8_t **line, struct pc_hp_conn *conn);

#endif
