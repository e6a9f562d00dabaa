/* SPDX-License-Identifier: MIT */
/*
 * TCP mode (`backend NAME mode tcp`): the decrypted bytes of a TLS
 * connection go to one connection to a backend server, and what the
 * server sends comes back encrypted, with no buffer of our own between:
 * input() hands the client's bytes to the server's connection as far as
 * its send buffer takes them (the rest waits in TLS and then in the
 * client's TCP window), output() reads the server's bytes as far as the
 * client's side takes them (the rest holds the server's window shut).
 * A slow side stalls its peer; memory per connection stays two TCP
 * buffers and TLS's.
 *
 * Ends:
 *   - the client's close_notify or FIN: FIN to the server after what was
 *     queued; what the server still sends goes to the client, and its FIN
 *     ends the connection (close_notify, FIN);
 *   - the server's FIN: what it sent goes to the client, then close_notify
 *     and FIN (TLS half-closes are not kept: a client that sent nothing
 *     more is done, as most TLS stacks treat close_notify);
 *   - no server can be tried, the server refuses, resets, times out, or
 *     TLS to it fails: the client gets a fatal alert (internal_error) and
 *     the connection ends, counted by reason. PROXY v2 (`send-proxy-v2`)
 *     goes first on the server's connection.
 */
#include <stdbool.h>
#include <stdint.h>

#include "pc_backend.h"
#include "pc_l7.h"
#include "pc_l7_stats.h"
#include "pc_proxy_v2.h"
#include "pc_upstream.h"
#include "tls_alert.h"

struct tcp_proxy {
	struct pc_l7_conn *conn;
	struct pc_up *up;           /* NULL once it is gone */
	bool open;                  /* the server's connection is ready */
	bool client_eof;            /* the client ended its side */
	bool server_eof;            /* the server ended its side */
};

static void up_open(void *arg)
{
	struct tcp_proxy *p = arg;

	p->open = true;
	if (p->client_eof)
		pc_up_shutdown(p->up);
	pc_l7_kick(p->conn);
}

static void up_kick(void *arg)
{
	struct tcp_proxy *p = arg;

	pc_l7_kick(p->conn);
}

static void up_peer_fin(void *arg)
{
	struct tcp_proxy *p = arg;

	p->server_eof = true;
	pc_l7_kick(p->conn);
}

static void up_closed(void *arg, enum pc_up_close why)
{
	struct tcp_proxy *p = arg;

	p->up = NULL;
	if (why == PC_UP_CLOSED) {
		p->server_eof = true;
		pc_l7_kick(p->conn);
		return;
	}
	/* Why is upstream.c's count (l7_up_*). */
	PC_L7_COUNT(tcp_proxy_ended);
	pc_l7_abort(p->conn, PC_TLS_ALERT_INTERNAL_ERROR);
}

static const struct pc_up_cb up_cb = {
	.on_open = up_open,
	.on_readable = up_kick,
	.on_writable = up_kick,
	.on_peer_fin = up_peer_fin,
	.on_closed = up_closed,
};

static int start(void *ctx, const struct pc_l7_env *env, struct pc_l7_conn *conn)
{
	struct tcp_proxy *p = ctx;
	const struct pc_backend *b = env->backend;
	uint8_t hdr[PC_PP2_MAX];
	size_t len = 0;

	p->conn = conn;
	/* A header that does not fit (a client certificate of over 14 KiB)
	 * is not left out: the server expects one. */
	if (b->spec.proxy_v2 &&
	    (len = pc_pp2_build(env, b->spec.proxy_v2_cert, hdr, sizeof(hdr))) == 0) {
		PC_L7_COUNT(tcp_proxy_ended);
		pc_l7_abort(conn, PC_TLS_ALERT_INTERNAL_ERROR);
		return -1;
	}
	p->up = pc_up_open(env->lc, b, hdr, len, &up_cb, p);
	if (p->up == NULL) {
		PC_L7_COUNT(tcp_proxy_ended);
		pc_l7_abort(conn, PC_TLS_ALERT_INTERNAL_ERROR);
		return -1;
	}
	PC_L7_COUNT(tcp_proxy_conns);
	return 0;
}

static size_t input(void *ctx, const uint8_t *buf, size_t len)
{
	struct tcp_proxy *p = ctx;
	size_t n;

	if (p->up == NULL || !p->open)
		return 0;
	n = pc_up_write(p->up, buf, len);
	if (n < len)
		pc_up_notify_writable(p->up);
	return n;
}

static size_t output(void *ctx, uint8_t *buf, size_t cap)
{
	struct tcp_proxy *p = ctx;

	return p->up != NULL && p->open ? pc_up_read(p->up, buf, cap) : 0;
}

/* Everything the server sent is out, and it sent its end. */
static bool done(const void *ctx)
{
	const struct tcp_proxy *p = ctx;

	return p->server_eof && (p->up == NULL || pc_up_readable(p->up) == 0);
}

static bool peer_closed(void *ctx)
{
	struct tcp_proxy *p = ctx;

	p->client_eof = true;
	if (p->up != NULL && p->open)
		pc_up_shutdown(p->up);
	return !done(p);
}

static void stop(void *ctx)
{
	struct tcp_proxy *p = ctx;

	if (p->up == NULL)
		return;
	/* Both sides ended: a normal close; otherwise the client went away
	 * (reset, timeout, TLS failure) and the server's side is reset. */
	if (p->client_eof && p->server_eof)
		pc_up_close(p->up);
	else
		pc_up_abort(p->up);
	p->up = NULL;
}

static bool upstream_open(const void *ctx)
{
	const struct tcp_proxy *p = ctx;

	return p->up != NULL;
}

_Static_assert(sizeof(struct tcp_proxy) <= PC_L7_CTX_MAX, "PC_L7_CTX_MAX: the TCP proxy");

const struct pc_l7_ops pc_l7_tcp_proxy = {
	.name = "tcp-proxy",
	.ctx_size = sizeof(struct tcp_proxy),
	.start = start,
	.input = input,
	.output = output,
	.done = done,
	.peer_closed = peer_closed,
	.stop = stop,
	.upstream_open = upstream_open,
};
