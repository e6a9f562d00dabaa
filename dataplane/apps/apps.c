/* SPDX-License-Identifier: MIT */
/*
 * echo: sends back what it reads, as fast as the peer takes it (reading
 *       stops while the send buffer is full, so the window closes);
 *       closes its side after the peer's FIN once all is echoed.
 * discard: reads and forgets; closes after the peer's FIN.
 * source N: sends N bytes of pc_app_pattern() then closes (TCP discards
 *       whatever the peer sends).
 * forward ADDR PORT: a plain TCP proxy; each accepted connection opens one
 *       to the backend (an active open from the same worker) and bytes
 *       flow both ways with back-pressure (a side reads only what the
 *       other can take); a FIN is passed on once what preceded it is, a
 *       reset or failure on one side resets the other.
 * Per-connection state lives in the connection's scratch words.
 */
#include <stdbool.h>
#include <string.h>

#include <rte_common.h>

#include "apps.h"

#define APP_CHUNK 16384

enum { S_PEER_FIN = 0, S_REMAINING = 0, S_OFFSET = 1 };

/* Any non-NULL context: state is in the scratch words. */
static void *app_open(struct pc_tcb *c, void *arg)
{
	(void)arg;
	return c;
}

static void app_closed(struct pc_tcb *c, void *ctx, enum pc_tcp_close_reason why)
{
	(void)c;
	(void)ctx;
	(void)why;
}

/* Move what from has received to to, as far as to takes it (reading
 * stops there, so from's window closes); pass the FIN on once from's
 * data is all through. Echo is the case from == to. */
static void pipe_through(struct pc_tcb *from, struct pc_tcb *to, bool peer_fin)
{
	uint8_t buf[APP_CHUNK];

	for (;;) {
		size_t avail = pc_tcp_readable(from);
		size_t n = RTE_MIN(RTE_MIN(avail, pc_tcp_write_space(to)), sizeof(buf));

		if (n == 0) {
			if (avail != 0)
				pc_tcp_notify_writable(to);
			break;
		}
		pc_tcp_read(from, buf, n);
		pc_tcp_write(to, buf, n);
	}
	/* Echo is done with its connection then; forward passes the half-close
	 * on and keeps reading the other way. */
	if (peer_fin && pc_tcp_readable(from) == 0) {
		if (from == to)
			pc_tcp_close(to);
		else
			pc_tcp_shutdown(to);
	}
}

static void echo_pump(struct pc_tcb *c)
{
	pipe_through(c, c, pc_tcp_scratch(c)[S_PEER_FIN]);
}

static void echo_event(struct pc_tcb *c, void *ctx)
{
	(void)ctx;
	echo_pump(c);
}

static void echo_fin(struct pc_tcb *c, void *ctx)
{
	(void)ctx;
	pc_tcp_scratch(c)[S_PEER_FIN] = 1;
	echo_pump(c);
}

static const struct pc_tcp_app echo_app = {
	.name = "echo",
	.on_open = app_open,
	.on_readable = echo_event,
	.on_writable = echo_event,
	.on_peer_fin = echo_fin,
	.on_closed = app_closed,
};

static void drain(struct pc_tcb *c, void *ctx)
{
	uint8_t buf[APP_CHUNK];

	(void)ctx;
	while (pc_tcp_read(c, buf, sizeof(buf)) != 0)
		;
}

static void close_on_fin(struct pc_tcb *c, void *ctx)
{
	(void)ctx;
	pc_tcp_close(c);
}

static void nothing(struct pc_tcb *c, void *ctx)
{
	(void)c;
	(void)ctx;
}

static const struct pc_tcp_app discard_app = {
	.name = "discard",
	.on_open = app_open,
	.on_readable = drain,
	.on_writable = nothing,
	.on_peer_fin = close_on_fin,
	.on_closed = app_closed,
};

static void source_fill(struct pc_tcb *c, void *ctx)
{
	uint64_t *s = pc_tcp_scratch(c);
	uint8_t buf[APP_CHUNK];

	(void)ctx;
	while (s[S_REMAINING] != 0) {
		size_t n = RTE_MIN(RTE_MIN(pc_tcp_write_space(c), sizeof(buf)),
				   (size_t)s[S_REMAINING]);

		if (n == 0) {
			pc_tcp_notify_writable(c);
			return;
		}
		for (size_t i = 0; i < n; i++)
			buf[i] = pc_app_pattern(s[S_OFFSET] + i);
		n = pc_tcp_write(c, buf, n);
		s[S_OFFSET] += n;
		s[S_REMAINING] -= n;
	}
	pc_tcp_close(c);
}

static void *source_open(struct pc_tcb *c, void *arg)
{
	uint64_t *s = pc_tcp_scratch(c);

	s[S_REMAINING] = (uint64_t)(uintptr_t)arg;
	s[S_OFFSET] = 0;
	source_fill(c, c);
	return c;
}

static const struct pc_tcp_app source_app = {
	.name = "source",
	.on_open = source_open,
	.on_readable = drain,
	.on_writable = source_fill,
	.on_peer_fin = nothing,
	.on_closed = app_closed,
};

/* forward: scratch[F_PEER] links the two connections (0 once the other
 * side is gone), scratch[F_FIN] says the side sent FIN. */
enum { F_PEER = 0, F_FIN = 1 };

static struct pc_tcb *fwd_peer(struct pc_tcb *c)
{
	return (struct pc_tcb *)(uintptr_t)pc_tcp_scratch(c)[F_PEER];
}

/* Move what from has received to its peer. */
static void fwd_pump(struct pc_tcb *from)
{
	struct pc_tcb *to = fwd_peer(from);

	if (to != NULL)
		pipe_through(from, to, pc_tcp_scratch(from)[F_FIN]);
}

static void fwd_readable(struct pc_tcb *c, void *ctx)
{
	(void)ctx;
	fwd_pump(c);
}

/* c can take more: pull from its peer. */
static void fwd_writable(struct pc_tcb *c, void *ctx)
{
	(void)ctx;
	if (fwd_peer(c) != NULL)
		fwd_pump(fwd_peer(c));
}

static void fwd_fin(struct pc_tcb *c, void *ctx)
{
	(void)ctx;
	pc_tcp_scratch(c)[F_FIN] = 1;
	fwd_pump(c);
}

static void fwd_closed(struct pc_tcb *c, void *ctx, enum pc_tcp_close_reason why)
{
	struct pc_tcb *peer = fwd_peer(c);

	(void)ctx;
	if (peer == NULL)
		return;
	/* A clean close: pass on what is left and the FIN (on_peer_fin came
	 * first, so normally this is already done). Anything else takes the
	 * other side down too. */
	if (why == PC_TCP_CLOSED_NORMAL) {
		pc_tcp_scratch(c)[F_FIN] = 1;
		fwd_pump(c);
	}
	pc_tcp_scratch(peer)[F_PEER] = 0;
	if (why != PC_TCP_CLOSED_NORMAL)
		pc_tcp_abort(peer);
}

static void *fwd_backend_open(struct pc_tcb *b, void *arg)
{
	struct pc_tcb *client = arg;

	if (fwd_peer(b) == NULL)
		return NULL; /* the client went away during the handshake */
	fwd_pump(client);
	return b;
}

static const struct pc_tcp_app fwd_backend_app = {
	.name = "forward-backend",
	.on_open = fwd_backend_open,
	.on_readable = fwd_readable,
	.on_writable = fwd_writable,
	.on_peer_fin = fwd_fin,
	.on_closed = fwd_closed,
};

static void *fwd_open(struct pc_tcb *c, void *arg)
{
	const struct pc_tcp_listener *l = arg;
	struct pc_tcb *b = pc_tcp_connect(c->lc, l->fwd_addr, l->fwd_port,
					  &fwd_backend_app, c);

	if (b == NULL)
		return NULL;
	pc_tcp_scratch(c)[F_PEER] = (uint64_t)(uintptr_t)b;
	pc_tcp_scratch(b)[F_PEER] = (uint64_t)(uintptr_t)c;
	return c;
}

static const struct pc_tcp_app forward_app = {
	.name = "forward",
	.on_open = fwd_open,
	.on_readable = fwd_readable,
	.on_writable = fwd_writable,
	.on_peer_fin = fwd_fin,
	.on_closed = fwd_closed,
};

int pc_app_nb_args(const char *name)
{
	if (strcmp(name, "source") == 0)
		return 1;
	if (strcmp(name, "forward") == 0)
		return 2;
	return pc_app_find(name) != NULL ? 0 : -1;
}

const struct pc_tcp_app *pc_app_find(const char *name)
{
	static const struct pc_tcp_app *const apps[] = {&echo_app, &discard_app, &source_app,
							 &forward_app};

	for (size_t i = 0; i < RTE_DIM(apps); i++)
		if (strcmp(apps[i]->name, name) == 0)
			return apps[i];
	return NULL;
}
