/* SPDX-License-Identifier: MIT */
/*
 * echo: sends back what it reads, as fast as the peer takes it (reading
 *       stops while the send buffer is full, so the window closes);
 *       closes its side after the peer's FIN once all is echoed.
 * discard: reads and forgets; closes after the peer's FIN.
 * source N: sends N bytes of pc_app_pattern() then closes; reads and
 *       forgets whatever the peer sends.
 * Per-connection state lives in the connection's scratch words.
 */
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

static void echo_pump(struct pc_tcb *c)
{
	uint8_t buf[APP_CHUNK];

	for (;;) {
		size_t avail = pc_tcp_readable(c);
		size_t space = pc_tcp_write_space(c);
		size_t n = RTE_MIN(RTE_MIN(avail, space), sizeof(buf));

		if (n == 0) {
			if (avail != 0)
				pc_tcp_notify_writable(c);
			break;
		}
		pc_tcp_read(c, buf, n);
		pc_tcp_write(c, buf, n);
	}
	if (pc_tcp_scratch(c)[S_PEER_FIN] && pc_tcp_readable(c) == 0)
		pc_tcp_shutdown(c);
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

static void shutdown_on_fin(struct pc_tcb *c, void *ctx)
{
	(void)ctx;
	pc_tcp_shutdown(c);
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
	.on_peer_fin = shutdown_on_fin,
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
	pc_tcp_shutdown(c);
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

const struct pc_tcp_app *pc_app_find(const char *name)
{
	static const struct pc_tcp_app *const apps[] = {&echo_app, &discard_app, &source_app};

	for (size_t i = 0; i < RTE_DIM(apps); i++)
		if (strcmp(apps[i]->name, name) == 0)
			return apps[i];
	return NULL;
}
