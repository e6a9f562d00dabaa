/* SPDX-License-Identifier: MIT */
/*
 * The built-in HTTP responder (http.c) as the plaintext side of a TLS
 * connection whose host has no backend.
 */
#include <string.h>

#include "pc_http.h"
#include "pc_l7.h"

struct responder {
	struct pc_l7_conn *conn;
	struct pc_http_env env;
	struct pc_http_conn http;
};

static void request_done(void *arg, const struct pc_http_log *rec)
{
	struct responder *r = arg;

	pc_l7_log_request(r->conn, rec, NULL);
}

static int start(void *ctx, const struct pc_l7_env *e, struct pc_l7_conn *conn)
{
	struct responder *r = ctx;

	r->conn = conn;
	r->env.sni = e->sni;
	r->env.identity = e->identity;
	r->env.verify_failed_403 = e->verify_failed_403;
	r->env.host_must_match = e->host_verifies;
	r->env.nb_protected = e->nb_protected;
	for (unsigned int i = 0; i < e->nb_protected && i < PC_HTTP_MAX_PROTECTED; i++)
		r->env.protected[i] = e->protected[i];
	pc_http_init(&r->http, &r->env, request_done, r);
	return 0;
}

static size_t input(void *ctx, const uint8_t *p, size_t len)
{
	return pc_http_input(&((struct responder *)ctx)->http, p, len);
}

static size_t output(void *ctx, uint8_t *buf, size_t cap)
{
	return pc_http_output(&((struct responder *)ctx)->http, buf, cap);
}

static bool done(const void *ctx)
{
	return pc_http_done(&((const struct responder *)ctx)->http);
}

static bool peer_closed(void *ctx)
{
	return pc_http_peer_closed(&((struct responder *)ctx)->http);
}

static void stop(void *ctx)
{
	(void)ctx;
}

_Static_assert(sizeof(struct responder) <= PC_L7_CTX_MAX, "PC_L7_CTX_MAX: the responder");

const struct pc_l7_ops pc_l7_responder = {
	.name = "responder",
	.ctx_size = sizeof(struct responder),
	.start = start,
	.input = input,
	.output = output,
	.done = done,
	.peer_closed = peer_closed,
	.stop = stop,
};
