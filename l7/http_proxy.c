/* SPDX-License-Identifier: MIT */
/*
 * HTTP mode (pc_l7_http_proxy): a TLS connection's requests forwarded to
 * its host's backend, one at a time, over kept-alive connections from the
 * upstream pool (pc_upstream.h), with the identity of the verified client
 * in headers the client cannot forge.
 *
 * A request's life:
 *   head      read whole into a head buffer (http_head.c), parsed; refused
 *             shapes answered here (400, 414, 431, 501, 505) and the
 *             connection closed. Then the host's policy: verification
 *             failed with action http403, or a protected path without a
 *             verified client: 403; a Host that picks another host than
 *             the SNI did while either of the two verifies clients: 421
 *             (no SNI or Host picks the default host). No request that
 *             gets one of these reaches a backend.
 *   forward   a server connection (pc_up_get; none: 503), the head
 *             rewritten (every header the client sent under one of the
 *             identity or forwarding names removed, the default names
 *             and the backend's; hop-by-hop ones too) and the proxy's
 *             headers added: X-SSL-Client-Verify, -S-DN, -SAN, -Serial,
 *             -Fingerprint, X-Client-Identity, Client-Cert,
 *             Client-Cert-Chain (RFC 9440, when the client verified),
 *             X-Forwarded-For (the client's address alone: a value the
 *             client sent is removed, not appended to) and
 *             X-Forwarded-Proto https, under the backend's names. The
 *             body follows (Content-Length, or chunked with its trailer
 *             fields dropped) as the server connection takes it: input()
 *             takes only what was written, so the client's TCP window
 *             closes when the server's does.
 *   response  its head read into a head buffer, parsed (http_resp.c),
 *             hop-by-hop headers taken out, Connection set for the
 *             client; 1xx passed on (not to HTTP/1.0 clients); the body
 *             pulled from the server only as TLS pulls output(), so a
 *             slow client stalls the server. Complete and clean (the
 *             server keeps the connection, the request went out whole,
 *             nothing more came): the server connection goes back to the
 *             pool, the next request starts.
 * A server that sends garbage, closes, resets or times out before the
 * response is complete: 502 (503 when no server could be tried) if no
 * byte of the response went to the client yet, else the client's
 * connection ends (internal_error alert); counted by reason, and a
 * server at fault reported (pc_up_failed). Our own responses carry
 * "Connection: close" only when the connection closes after them: a
 * refused request, a client that asked for it, a request body left
 * unread.
 *
 * Memory: the context is a few hundred bytes; head buffers (about 23
 * KiB) come from a per-worker pool only while a head is read or written,
 * at most HP_BUFS_MAX per worker (then 503). Threads: the worker that
 * owns the connection.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>

#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "http_chars.h"
#include "http_proxy_int.h"
#include "pc_backend.h"
#include "pc_http_proxy.h"
#include "pc_l7.h"
#include "pc_proxy_v2.h"
#include "pc_upstream.h"

/* Head buffers a worker may have at once: bounds the memory that slow
 * heads can hold (HP_BUFS_MAX * sizeof(struct hp_buf), about 46 MiB). */
#define HP_BUFS_MAX 2048
#define HP_SAN_MAX 4096
/* A value the proxy adds, percent-encoded (3 bytes per byte at most). */
#define HP_TEXT_MAX (3 * 255 + 1)

/* A head being read or written, and the values the proxy adds to it. */
struct hp_buf {
	struct hp_buf *next;   /* in the pool */
	uint32_t len;          /* bytes in data */
	uint32_t head_len;     /* response: the rewritten head's length */
	uint32_t off;          /* response: head bytes handed out */
	uint32_t ex_off, ex_len; /* response: bytes read after the head */
	struct pc_hp_scan scan;
	struct pc_hp_out out;  /* request: the head as it goes out */
	char verify[48], serial[68], fingerprint[68], xff[INET_ADDRSTRLEN];
	char sdn[HP_TEXT_MAX], identity[HP_TEXT_MAX], san[HP_SAN_MAX];
	uint8_t data[PC_HP_HEAD_MAX + PC_HP_HEAD_SLACK];
};

struct hp_pool {
	struct hp_buf *free;
	unsigned int made;
	uint64_t stat[PC_HP_NB_STATS];
} __rte_cache_aligned;

static struct hp_pool hp_pools[RTE_MAX_LCORE];

static const char *const hp_stat_names[PC_HP_NB_STATS] = {
#define PC_HP_STAT(name, help) #name,
#include "http_proxy_stats.def"
#undef PC_HP_STAT
};
static const char *const hp_stat_help[PC_HP_NB_STATS] = {
#define PC_HP_STAT(name, help) help,
#include "http_proxy_stats.def"
#undef PC_HP_STAT
};

static inline void count(enum pc_hp_stat s, uint64_t n)
{
	hp_pools[rte_lcore_id()].stat[s] += n;
}

static struct hp_buf *buf_get(void)
{
	struct hp_pool *p = &hp_pools[rte_lcore_id()];
	struct hp_buf *b = p->free;

	if (b != NULL) {
		p->free = b->next;
	} else {
		if (p->made == HP_BUFS_MAX)
			return NULL;
		b = rte_malloc_socket("http_proxy_head", sizeof(*b), RTE_CACHE_LINE_SIZE,
				      (int)rte_socket_id());
		if (b == NULL)
			return NULL;
		p->made++;
	}
	b->len = b->head_len = b->off = b->ex_off = b->ex_len = 0;
	memset(&b->scan, 0, sizeof(b->scan));
	return b;
}

static void buf_put(struct hp_buf **bp)
{
	struct hp_pool *p = &hp_pools[rte_lcore_id()];

	if (*bp == NULL)
		return;
	(*bp)->next = p->free;
	p->free = *bp;
	*bp = NULL;
}

enum {
	RQ_HEAD,  /* reading a request head (or waiting for one) */
	RQ_SEND,  /* writing the rewritten head to the server */
	RQ_BODY,  /* passing the body on */
	RQ_DONE,  /* the request is read (and forwarded) whole */
	RQ_STOP,  /* no more requests: nothing is read any more */
};

enum {
	RS_NONE,  /* no response due */
	RS_HEAD,  /* reading the server's response head */
	RS_OUT,   /* handing out its head, then the bytes read with it */
	RS_BODY,  /* passing its body on */
	RS_LOCAL, /* handing out a response of our own */
};

struct hp {
	const struct pc_l7_env *env;
	struct pc_l7_conn *conn;
	struct pc_up *up;
	/* send-proxy-v2: the server connection this client connection owns
	 * (its PROXY header names this client), kept between its requests
	 * instead of going back to the pool. */
	struct pc_up *held;
	struct hp_buf *rq_buf, *rs_buf;
	uint8_t rq, rs;
	uint8_t up_closed;    /* enum pc_up_close + 1 once on_closed came */
	bool keep;            /* the client keeps the connection after this response */
	bool closing;         /* the connection closes after this response */
	bool http11;          /* the request's version */
	bool head_request;
	bool up_fin;          /* the server ended its side */
	bool extra;           /* the server sent more than its response */
	bool started;         /* bytes of the final response went to the client */
	bool dead;            /* pc_l7_abort() called */
	struct pc_hp_body rq_body, rs_body;
	struct pc_hp_resp resp;
	uint16_t local_len, local_off;
	char local[200];
	char upstream[24];    /* the server of this request, for the log */
	struct pc_http_log log;
};

_Static_assert(sizeof(struct hp) <= PC_L7_CTX_MAX, "the proxy's context fits PC_L7_CTX_MAX");

static void on_up_open(void *arg);
static void on_up_readable(void *arg);
static void on_up_writable(void *arg);
static void on_up_peer_fin(void *arg);
static void on_up_closed(void *arg, enum pc_up_close why);

static const struct pc_up_cb hp_up_cb = {
	.on_open = on_up_open,
	.on_readable = on_up_readable,
	.on_writable = on_up_writable,
	.on_peer_fin = on_up_peer_fin,
	.on_closed = on_up_closed,
};

static void log_request(struct hp *hp, uint16_t status)
{
	hp->log.status = status;
	hp->log.request_body_bytes = hp->rq_body.bytes;
	pc_l7_log_request(hp->conn, &hp->log, hp->upstream[0] != '\0' ? hp->upstream : NULL);
}

/* Ready for the next request on this connection. */
static void next_request(struct hp *hp)
{
	hp->rq = RQ_HEAD;
	hp->rs = RS_NONE;
	hp->up_closed = 0;
	hp->up_fin = hp->extra = hp->started = hp->head_request = false;
	memset(&hp->rq_body, 0, sizeof(hp->rq_body));
	memset(&hp->log, 0, sizeof(hp->log));
	hp->upstream[0] = '\0';
	/* Pipelined bytes TLS held back. */
	pc_l7_kick(hp->conn);
}

/* Let go of the server connection: back to the pool when reusable. */
static void up_drop(struct hp *hp, bool reusable)
{
	if (hp->up == NULL)
		return;
	if (reusable && hp->env->backend->spec.proxy_v2)
		hp->held = hp->up;
	else if (reusable)
		pc_up_release(hp->up);
	else
		pc_up_abort(hp->up);
	hp->up = NULL;
}

/* The server connection for a request: this client connection's own
 * with send-proxy-v2 (opened with the header the first time), else one
 * from the pool. NULL when none can be had. */
static struct pc_up *up_take(struct hp *hp)
{
	const struct pc_backend *b = hp->env->backend;
	uint8_t pp2[PC_PP2_MAX];
	struct pc_up *u = hp->held;
	size_t len;

	if (!b->spec.proxy_v2)
		return pc_up_get(hp->env->lc, b, &hp_up_cb, hp);
	hp->held = NULL;
	if (u != NULL)
		return u;
	len = pc_pp2_build(hp->env, b->spec.proxy_v2_cert, pp2, sizeof(pp2));
	return len != 0 ? pc_up_open(hp->env->lc, b, pp2, len, &hp_up_cb, hp) : NULL;
}

/* The held connection misbehaved while idle (bytes, FIN): dropped. */
static bool held_event(struct hp *hp)
{
	if (hp->up != NULL || hp->held == NULL)
		return false;
	pc_up_abort(hp->held);
	hp->held = NULL;
	return true;
}

/* Answer the request ourselves. The connection closes after it when
 * close is set, the client does not keep it, or the request is not read
 * whole. */
static void local_response(struct hp *hp, uint16_t status, bool close)
{
	const char *r = pc_http_reason(status);

	up_drop(hp, false);
	buf_put(&hp->rq_buf);
	buf_put(&hp->rs_buf);
	hp->closing = hp->closing || close || !hp->keep || hp->rq != RQ_DONE;
	hp->rq = hp->closing ? RQ_STOP : RQ_DONE;
	hp->local_len = (uint16_t)snprintf(
		hp->local, sizeof(hp->local),
		"HTTP/1.1 %u %s\r\nServer: portcullis\r\nContent-Type: text/plain\r\n"
		"Content-Length: %zu\r\n%s\r\n%s\n",
		status, r, strlen(r) + 1,
		hp->closing ? "Connection: close\r\n" : hp->http11 ? "" : "Connection: keep-alive\r\n",
		hp->head_request ? "" : r);
	if (hp->head_request)
		hp->local_len--; /* the "\n" of the body */
	hp->local_off = 0;
	hp->log.status = status;
	hp->log.body_bytes = hp->head_request ? 0 : strlen(r) + 1;
	hp->rs = RS_LOCAL;
	pc_l7_kick(hp->conn);
}

/* The server failed this request: 502 (503) while the client has had
 * nothing of the response, else the client's connection ends. */
static void up_fail(struct hp *hp, enum pc_hp_stat why, bool server_fault)
{
	count(why, 1);
	if (hp->up != NULL && server_fault)
		pc_up_failed(hp->up);
	up_drop(hp, false);
	if (hp->started) {
		count(PC_HP_STAT_aborted_midstream, 1);
		hp->log.body_bytes = hp->rs_body.bytes;
		log_request(hp, hp->resp.status);
		buf_put(&hp->rs_buf);
		buf_put(&hp->rq_buf);
		hp->rq = RQ_STOP;
		hp->rs = RS_NONE;
		hp->closing = hp->dead = true;
		pc_l7_abort(hp->conn, 80);
		return;
	}
	local_response(hp, why == PC_HP_STAT_no_server || why == PC_HP_STAT_no_buffer ? 503 : 502,
		       false);
}

/* Why the server connection closed, as a counter. */
static enum pc_hp_stat closed_stat(uint8_t up_closed)
{
	switch (up_closed - 1) {
	case PC_UP_NO_SERVER:
		return PC_HP_STAT_no_server;
	case PC_UP_REFUSED:
		return PC_HP_STAT_bad_gateway_refused;
	case PC_UP_RESET:
		return PC_HP_STAT_bad_gateway_reset;
	case PC_UP_TIMEOUT:
		return PC_HP_STAT_bad_gateway_timeout;
	case PC_UP_TLS_FAILED:
		return PC_HP_STAT_bad_gateway_tls;
	}
	return PC_HP_STAT_bad_gateway_closed;
}

/* Write what is left of the request head. */
static void rq_send(struct hp *hp)
{
	uint8_t tmp[2048];

	while (pc_hp_out_left(&hp->rq_buf->out) > 0) {
		size_t space = pc_up_write_space(hp->up), n, w;

		if (space == 0) {
			pc_up_notify_writable(hp->up);
			return;
		}
		n = pc_hp_out_peek(&hp->rq_buf->out, tmp, RTE_MIN(space, sizeof(tmp)));
		w = pc_up_write(hp->up, tmp, n);
		pc_hp_out_skip(&hp->rq_buf->out, w);
		if (w < n) {
			pc_up_notify_writable(hp->up);
			return;
		}
	}
	buf_put(&hp->rq_buf);
	count(PC_HP_STAT_forwarded, 1);
	hp->rq = hp->rq_body.done ? RQ_DONE : RQ_BODY;
	pc_l7_kick(hp->conn);
}

/* Percent-encode s into out (cap bytes): '%' and bytes outside printable
 * ASCII but SP, so that a value from a certificate stays one header
 * value. NULL when s is empty. */
static const char *text(char *out, size_t cap, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t w = 0;

	for (const uint8_t *p = (const uint8_t *)s; *p != '\0' && w + 4 <= cap; p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == '%') {
			out[w++] = '%';
			out[w++] = hex[*p >> 4];
			out[w++] = hex[*p & 15];
		} else {
			out[w++] = (char)*p;
		}
	}
	out[w] = '\0';
	return w > 0 ? out : NULL;
}

/* The headers the proxy adds, from the connection's verification. */
static void ident_fill(struct hp *hp, struct hp_buf *b, struct pc_hp_ident *id)
{
	const struct pc_l7_env *env = hp->env;
	const struct pc_backend *be = env->backend;
	const struct pc_verify_result *v = env->vres;
	struct in_addr a = {.s_addr = env->client_addr};
	unsigned int nd = 0;

	memset(id, 0, sizeof(*id));
	for (int h = 0; h < PC_BACKEND_NB_HEADERS; h++) {
		const char *name = be->header[h];

		/* A name that frames the request is never taken or set (the
		 * configuration refuses it; this is belt and braces). */
		if (name != NULL && (strcasecmp(name, "host") == 0 ||
				     strcasecmp(name, "content-length") == 0 ||
				     strcasecmp(name, "transfer-encoding") == 0))
			name = NULL;
		id->name[h] = name;
		id->drop[nd++] = pc_backend_header_default[h];
		if (name != NULL && strcasecmp(name, pc_backend_header_default[h]) != 0)
			id->drop[nd++] = name;
	}
	if (!env->cert_presented) {
		id->value[PC_HDR_CLIENT_VERIFY] = "NONE";
	} else if (env->verified) {
		id->value[PC_HDR_CLIENT_VERIFY] = "SUCCESS";
	} else {
		snprintf(b->verify, sizeof(b->verify), "FAILED:%s",
			 pc_verify_reason_name(env->vreason));
		id->value[PC_HDR_CLIENT_VERIFY] = b->verify;
	}
	if (env->cert_presented && v != NULL) {
		id->value[PC_HDR_CLIENT_S_DN] = text(b->sdn, sizeof(b->sdn), v->subject);
		id->value[PC_HDR_CLIENT_SERIAL] = text(b->serial, sizeof(b->serial), v->serial);
	}
	if (env->cert_presented && env->nb_certs > 0 && id->name[PC_HDR_CLIENT_SAN] != NULL) {
		int n = pc_cert_san_line(env->cert[0], env->cert_len[0], b->san, sizeof(b->san));

		if (n > 0)
			id->value[PC_HDR_CLIENT_SAN] = b->san;
		else if (n < 0)
			count(PC_HP_STAT_san_omitted, 1);
	}
	if (env->cert_presented && env->has_fingerprint) {
		static const char hex[] = "0123456789abcdef";

		for (int i = 0; i < 32; i++) {
			b->fingerprint[2 * i] = hex[env->fingerprint[i] >> 4];
			b->fingerprint[2 * i + 1] = hex[env->fingerprint[i] & 15];
		}
		b->fingerprint[64] = '\0';
		id->value[PC_HDR_CLIENT_FINGERPRINT] = b->fingerprint;
	}
	if (env->verified && env->identity != NULL)
		id->value[PC_HDR_CLIENT_IDENTITY] = text(b->identity, sizeof(b->identity),
							 env->identity);
	/* RFC 9440: the certificates of a client that verified, as it sent
	 * them. */
	if (env->verified) {
		id->nb_certs = RTE_MIN(env->nb_certs, (unsigned int)PC_VERIFY_MAX_PEER);
		for (unsigned int i = 0; i < id->nb_certs; i++) {
			id->cert[i] = env->cert[i];
			id->cert_len[i] = env->cert_len[i];
		}
	}
	inet_ntop(AF_INET, &a, b->xff, sizeof(b->xff));
	id->value[PC_HDR_FORWARDED_FOR] = b->xff;
	id->value[PC_HDR_FORWARDED_PROTO] = "https";
}

/* A target cut short for the log fails closed: it is protected if what
 * was kept matches the start of a longer prefix. */
static bool is_protected(const struct hp *hp)
{
	const char *path = hp->log.path;
	size_t have = strlen(path);
	bool cut = have == sizeof(hp->log.path) - 1;

	for (unsigned int i = 0; i < hp->env->nb_protected; i++) {
		const char *prefix = hp->env->protected[i];
		size_t n = strlen(prefix);

		if (n <= have ? memcmp(path, prefix, n) == 0 : cut && memcmp(path, prefix, have) == 0)
			return true;
	}
	return false;
}

/* Would this Host be served under another host's policy, where client
 * verification differs? */
static bool misdirected(const struct hp *hp, const struct pc_hp_req *r)
{
	const char *picked = NULL;
	bool verifies = false;
	bool found = pc_tls_host_pick(r->host, &picked, &verifies);

	if (found && hp->env->host != NULL && strcasecmp(picked, hp->env->host) == 0)
		return false;
	return hp->env->host_verifies || verifies;
}

/* The request head is in rq_buf (len bytes). */
static void head_done(struct hp *hp, size_t len)
{
	struct hp_buf *b = hp->rq_buf;
	struct pc_hp_ident id;
	struct pc_hp_req r;
	uint16_t status;

	count(PC_HP_STAT_requests, 1);
	status = pc_hp_req_parse(b->data, len, &r, &hp->log);
	hp->http11 = r.http11;
	hp->head_request = r.head;
	hp->keep = r.keep_alive;
	if (status != 0) {
		count(PC_HP_STAT_bad_request, 1);
		local_response(hp, status, true);
		return;
	}
	pc_hp_body_init(&hp->rq_body, r.chunked ? PC_HP_BODY_CHUNKED : PC_HP_BODY_LENGTH,
			r.content_length, true);
	hp->rq = hp->rq_body.done ? RQ_DONE : RQ_BODY;
	if (hp->env->verify_failed_403 || (hp->env->identity == NULL && is_protected(hp))) {
		count(PC_HP_STAT_forbidden, 1);
		local_response(hp, 403, false);
		return;
	}
	if (misdirected(hp, &r)) {
		count(PC_HP_STAT_misdirected, 1);
		local_response(hp, 421, false);
		return;
	}
	hp->up = up_take(hp);
	if (hp->up == NULL) {
		count(PC_HP_STAT_no_server, 1);
		local_response(hp, 503, false);
		return;
	}
	snprintf(hp->upstream, sizeof(hp->upstream), "%s", pc_up_server(hp->up));
	ident_fill(hp, b, &id);
	pc_hp_req_rewrite(b->data, len, &r, &id, &b->out);
	count(PC_HP_STAT_forged_headers, r.forged);
	count(PC_HP_STAT_hop_headers, r.hop);
	hp->rq = RQ_SEND;
	hp->rs = RS_HEAD;
	rq_send(hp);
}

/* Request head bytes: how many were taken (those up to its end). */
static size_t head_input(struct hp *hp, const uint8_t *p, size_t len)
{
	struct hp_buf *b = hp->rq_buf;
	size_t n, had;
	long end;

	if (b == NULL) {
		b = hp->rq_buf = buf_get();
		if (b == NULL) {
			count(PC_HP_STAT_no_buffer, 1);
			local_response(hp, 503, true);
			return 0;
		}
	}
	had = b->len;
	n = RTE_MIN(len, (size_t)PC_HP_HEAD_MAX - had);
	memcpy(b->data + had, p, n);
	b->len += (uint32_t)n;
	end = pc_hp_scan(&b->scan, b->data, b->len);
	if (end < 0) {
		count(PC_HP_STAT_requests, 1);
		count(PC_HP_STAT_bad_request, 1);
		local_response(hp, (uint16_t)-end, true);
		return n;
	}
	if (end == 0)
		return n;
	head_done(hp, (size_t)end);
	return (size_t)end - had;
}

/* Request body bytes, as the server connection takes them. */
static size_t body_input(struct hp *hp, const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len && !hp->rq_body.done) {
		size_t space = pc_up_write_space(hp->up);
		struct pc_hp_body save = hp->rq_body;
		bool pass;
		long n;

		if (space == 0) {
			pc_up_notify_writable(hp->up);
			break;
		}
		n = pc_hp_body_scan(&hp->rq_body, p + i, RTE_MIN(len - i, space), &pass);
		if (n < 0) {
			count(PC_HP_STAT_request_aborted, 1);
			if (hp->started) {
				up_fail(hp, PC_HP_STAT_bad_request, false);
				return i;
			}
			count(PC_HP_STAT_bad_request, 1);
			local_response(hp, 400, true);
			return i;
		}
		if (pass) {
			size_t w = pc_up_write(hp->up, p + i, (size_t)n);

			if (w < (size_t)n) {
				/* Took less than it said it could: the framing
				 * as far as what it took. */
				hp->rq_body = save;
				if (w > 0)
					pc_hp_body_scan(&hp->rq_body, p + i, w, &pass);
				i += w;
				pc_up_notify_writable(hp->up);
				break;
			}
		}
		i += (size_t)n;
	}
	if (hp->rq_body.done)
		hp->rq = RQ_DONE;
	return i;
}

static int hp_start(void *ctx, const struct pc_l7_env *env, struct pc_l7_conn *conn)
{
	struct hp *hp = ctx;

	if (env->backend == NULL)
		return -1;
	hp->env = env;
	hp->conn = conn;
	return 0;
}

static size_t hp_input(void *ctx, const uint8_t *p, size_t len)
{
	struct hp *hp = ctx;
	size_t used = 0;

	while (used < len && !hp->dead) {
		size_t n;

		if (hp->rq == RQ_HEAD && hp->rs == RS_NONE)
			n = head_input(hp, p + used, len - used);
		else if (hp->rq == RQ_BODY && hp->up != NULL)
			n = body_input(hp, p + used, len - used);
		else
			break;
		if (n == 0)
			break;
		used += n;
	}
	return used;
}

/* The response is complete: log it, let the server connection go. */
static void response_end(struct hp *hp)
{
	bool reusable = hp->resp.keep_alive && hp->rq == RQ_DONE && !hp->extra && !hp->up_fin &&
			hp->up != NULL && pc_up_readable(hp->up) == 0;

	count(PC_HP_STAT_responses, 1);
	hp->log.body_bytes = hp->rs_body.bytes;
	log_request(hp, hp->resp.status);
	if (hp->rq != RQ_DONE)
		count(PC_HP_STAT_request_aborted, 1);
	up_drop(hp, reusable);
	buf_put(&hp->rs_buf);
	buf_put(&hp->rq_buf);
	if (hp->closing) {
		hp->rq = RQ_STOP;
		hp->rs = RS_NONE;
		return;
	}
	next_request(hp);
}

/* Read from the server until a response head is whole, then lay it out
 * for the client. false while more is needed (or on failure). */
static bool resp_head(struct hp *hp)
{
	struct hp_buf *b = hp->rs_buf;
	size_t rest, cap = sizeof(b->data);
	long end;

	if (b == NULL) {
		b = hp->rs_buf = buf_get();
		if (b == NULL) {
			up_fail(hp, PC_HP_STAT_no_buffer, false);
			return false;
		}
	}
	if (hp->up != NULL && b->len < PC_HP_HEAD_MAX)
		b->len += (uint32_t)pc_up_read(hp->up, b->data + b->len, PC_HP_HEAD_MAX - b->len);
	end = pc_hp_scan(&b->scan, b->data, b->len);
	if (end < 0) {
		up_fail(hp, PC_HP_STAT_bad_gateway_garbage, true);
		return false;
	}
	if (end == 0) {
		if (hp->up == NULL)
			up_fail(hp, closed_stat(hp->up_closed), false);
		else if (hp->up_fin)
			up_fail(hp, PC_HP_STAT_bad_gateway_closed, true);
		return false;
	}
	if (pc_hp_resp_parse(b->data, (size_t)end, hp->head_request, &hp->resp) != 0) {
		up_fail(hp, PC_HP_STAT_bad_gateway_garbage, true);
		return false;
	}
	/* The bytes after the head go to the end of the buffer, out of the
	 * way of the head's growth (at most PC_HP_HEAD_SLACK). */
	rest = b->len - (size_t)end;
	b->ex_off = (uint32_t)(cap - rest);
	b->ex_len = (uint32_t)rest;
	memmove(b->data + b->ex_off, b->data + end, rest);
	if (hp->resp.status < 200) {
		/* HTTP/1.0 clients get no interim responses. */
		b->head_len = hp->http11 ? (uint32_t)pc_hp_resp_rewrite(b->data, (size_t)end,
									 &hp->resp, false, false)
					 : 0;
	} else {
		/* A response that comes before the request is forwarded whole
		 * ends the connection: what is left of the request body
		 * cannot be told from the next request. */
		hp->log.upstream_status = hp->resp.status;
		hp->closing = hp->closing || !hp->keep || hp->rq != RQ_DONE ||
			      hp->resp.framing == PC_HP_BODY_CLOSE;
		b->head_len = (uint32_t)pc_hp_resp_rewrite(b->data, (size_t)end, &hp->resp,
							   hp->closing, !hp->http11 && !hp->closing);
		pc_hp_body_init(&hp->rs_body, hp->resp.framing, hp->resp.content_length, false);
	}
	b->off = 0;
	hp->rs = RS_OUT;
	return true;
}

/* Body bytes at p (n of them, already where the client's go): how many
 * belong to the response; the rest is more than the server should have
 * sent. -1 on broken framing (handled). */
static long resp_body_scan(struct hp *hp, const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n && !hp->rs_body.done) {
		bool pass;
		long k = pc_hp_body_scan(&hp->rs_body, p + i, n - i, &pass);

		if (k < 0) {
			up_fail(hp, PC_HP_STAT_bad_gateway_garbage, true);
			return -1;
		}
		i += (size_t)k;
	}
	if (i < n)
		hp->extra = true;
	return (long)i;
}

/* The head laid out by resp_head(), then the bytes read with it. */
static size_t resp_out(struct hp *hp, uint8_t *buf, size_t cap)
{
	struct hp_buf *b = hp->rs_buf;
	size_t w = RTE_MIN(cap, (size_t)(b->head_len - b->off));
	long k;

	memcpy(buf, b->data + b->off, w);
	b->off += (uint32_t)w;
	if (w > 0 && hp->resp.status >= 200)
		hp->started = true;
	if (b->off < b->head_len)
		return w;
	if (hp->resp.status < 200) {
		/* The next head may be in what came with this one. */
		memmove(b->data, b->data + b->ex_off, b->ex_len);
		b->len = b->ex_len;
		b->ex_len = 0;
		memset(&b->scan, 0, sizeof(b->scan));
		hp->rs = RS_HEAD;
		return w;
	}
	if (w < cap && b->ex_len > 0) {
		size_t m = RTE_MIN(cap - w, (size_t)b->ex_len);

		memcpy(buf + w, b->data + b->ex_off, m);
		k = resp_body_scan(hp, buf + w, m);
		if (k < 0)
			return 0;
		w += (size_t)k;
		b->ex_off += (uint32_t)m;
		b->ex_len -= (uint32_t)m;
	}
	if (b->ex_len == 0 || hp->rs_body.done) {
		if (b->ex_len > 0)
			hp->extra = true;
		buf_put(&hp->rs_buf);
		hp->rs = RS_BODY;
	}
	return w;
}

/* Body straight from the server into the client's buffer. */
static size_t resp_body(struct hp *hp, uint8_t *buf, size_t cap)
{
	size_t n, m = cap;
	long k;

	if (hp->rs_body.framing == PC_HP_BODY_LENGTH)
		m = (size_t)RTE_MIN((uint64_t)m, hp->rs_body.remaining);
	n = hp->up != NULL && m > 0 ? pc_up_read(hp->up, buf, m) : 0;
	if (n == 0) {
		if (hp->up != NULL && !hp->up_fin)
			return 0;
		/* The server is done sending: the end of a body that runs
		 * until close, else a response cut short. */
		if (hp->rs_body.framing == PC_HP_BODY_CLOSE &&
		    (hp->up_fin || hp->up_closed == PC_UP_CLOSED + 1)) {
			hp->rs_body.done = true;
			return 0;
		}
		up_fail(hp, hp->up == NULL ? closed_stat(hp->up_closed)
					   : PC_HP_STAT_bad_gateway_closed,
			hp->up != NULL);
		return 0;
	}
	k = resp_body_scan(hp, buf, n);
	return k < 0 ? 0 : (size_t)k;
}

static size_t hp_output(void *ctx, uint8_t *buf, size_t cap)
{
	struct hp *hp = ctx;
	size_t w = 0;

	while (w < cap && !hp->dead) {
		size_t n = 0;

		switch (hp->rs) {
		case RS_LOCAL:
			n = RTE_MIN(cap - w, (size_t)(hp->local_len - hp->local_off));
			memcpy(buf + w, hp->local + hp->local_off, n);
			hp->local_off += (uint16_t)n;
			w += n;
			if (hp->local_off < hp->local_len)
				return w;
			log_request(hp, hp->log.status);
			if (hp->closing) {
				hp->rs = RS_NONE;
				return w;
			}
			next_request(hp);
			return w;
		case RS_HEAD:
			/* A failure may have put a response of ours in its place. */
			if (!resp_head(hp) && hp->rs == RS_HEAD)
				return w;
			continue;
		case RS_OUT:
			n = resp_out(hp, buf + w, cap - w);
			break;
		case RS_BODY:
			if (!hp->rs_body.done)
				n = resp_body(hp, buf + w, cap - w);
			if (hp->rs == RS_BODY && hp->rs_body.done) {
				w += n;
				response_end(hp);
				return w;
			}
			if (n == 0)
				return w;
			break;
		default:
			return w;
		}
		w += n;
		if (hp->rs == RS_OUT && n == 0)
			return w;
	}
	return w;
}

static bool hp_done(const void *ctx)
{
	const struct hp *hp = ctx;

	return hp->closing && hp->rs == RS_NONE;
}

static bool hp_peer_closed(void *ctx)
{
	struct hp *hp = ctx;

	hp->closing = true;
	if (hp->rq == RQ_SEND || hp->rq == RQ_BODY ||
	    (hp->rq == RQ_HEAD && hp->rs == RS_NONE)) {
		/* A request cut short: nothing more is answered. */
		if (hp->rq != RQ_HEAD)
			count(PC_HP_STAT_request_aborted, 1);
		if (hp->started) {
			hp->log.body_bytes = hp->rs_body.bytes;
			log_request(hp, hp->resp.status);
		}
		up_drop(hp, false);
		buf_put(&hp->rq_buf);
		buf_put(&hp->rs_buf);
		hp->rq = RQ_STOP;
		hp->rs = RS_NONE;
		return false;
	}
	/* The request is whole: its response still goes out. */
	return hp->rs != RS_NONE;
}

static void hp_stop(void *ctx)
{
	struct hp *hp = ctx;

	up_drop(hp, false);
	if (hp->held != NULL)
		pc_up_close(hp->held);
	hp->held = NULL;
	buf_put(&hp->rq_buf);
	buf_put(&hp->rs_buf);
}

static void on_up_open(void *arg)
{
	struct hp *hp = arg;

	if (hp->up != NULL && hp->rq == RQ_SEND)
		rq_send(hp);
}

static void on_up_readable(void *arg)
{
	struct hp *hp = arg;

	if (!held_event(hp))
		pc_l7_kick(hp->conn);
}

static void on_up_writable(void *arg)
{
	struct hp *hp = arg;

	if (hp->up != NULL && hp->rq == RQ_SEND)
		rq_send(hp);
	else
		pc_l7_kick(hp->conn);
}

static void on_up_peer_fin(void *arg)
{
	struct hp *hp = arg;

	if (held_event(hp))
		return;
	hp->up_fin = true;
	pc_l7_kick(hp->conn);
}

static void on_up_closed(void *arg, enum pc_up_close why)
{
	struct hp *hp = arg;

	if (hp->up == NULL && hp->held != NULL) {
		/* The held connection ended while idle. */
		hp->held = NULL;
		return;
	}
	hp->up = NULL;
	hp->up_closed = (uint8_t)(why + 1);
	/* A request still going out cannot: the response side says why. */
	if (hp->rq == RQ_SEND || hp->rq == RQ_BODY) {
		buf_put(&hp->rq_buf);
		if (hp->rs == RS_NONE)
			hp->rs = RS_HEAD;
	}
	pc_l7_kick(hp->conn);
}

static bool hp_upstream_open(const void *ctx)
{
	const struct hp *hp = ctx;

	return hp->up != NULL;
}

const struct pc_l7_ops pc_l7_http_proxy = {
	.name = "http-proxy",
	.ctx_size = sizeof(struct hp),
	.start = hp_start,
	.input = hp_input,
	.output = hp_output,
	.done = hp_done,
	.peer_closed = hp_peer_closed,
	.stop = hp_stop,
	.upstream_open = hp_upstream_open,
};

const char *pc_http_proxy_stat_name(unsigned int i, const char **help)
{
	if (i >= PC_HP_NB_STATS)
		return NULL;
	if (help != NULL)
		*help = hp_stat_help[i];
	return hp_stat_names[i];
}

void pc_http_proxy_sums(uint64_t out[PC_HP_NB_STATS])
{
	memset(out, 0, sizeof(uint64_t) * PC_HP_NB_STATS);
	for (unsigned int id = 0; id < RTE_MAX_LCORE; id++)
		for (unsigned int i = 0; i < PC_HP_NB_STATS; i++)
			out[i] += __atomic_load_n(&hp_pools[id].stat[i], __ATOMIC_RELAXED);
}

void pc_http_proxy_dump_counters(FILE *out)
{
	uint64_t sum[PC_HP_NB_STATS];

	pc_http_proxy_sums(sum);
	for (unsigned int i = 0; i < PC_HP_NB_STATS; i++)
		fprintf(out, "http_proxy_%s %" PRIu64 "  # %s\n", hp_stat_names[i], sum[i],
			hp_stat_help[i]);
}
