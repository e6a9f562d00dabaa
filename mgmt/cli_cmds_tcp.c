/* SPDX-License-Identifier: MIT */
/* Commands that configure TCP: listeners and their applications, limits,
 * buffers, timers, congestion control. */
#include <string.h>

#include "pc_mgmt.h"

static int pow2(struct pc_cmd_ctx *ctx, const char *what, const char *s, uint32_t *out)
{
	if (pc_arg_u32(ctx, what, s, 4096, 1u << 30, out))
		return -1;
	if ((*out & (*out - 1)) != 0)
		return pc_cmd_fail(ctx, "%s %u is not a power of two", what, *out);
	return 0;
}

static int cmd_listen(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	uint32_t port, arg = 0, fwd_addr = 0, fwd_port = 0;

	if (argc < 2)
		return pc_cmd_fail(ctx, "missing arguments");
	if (pc_arg_u32(ctx, "port", argv[0], 1, 65535, &port))
		return -1;
	int nargs = pc_dp_app_nb_args(argv[1]);

	if (nargs < 0)
		return pc_cmd_fail(ctx, "no application '%s' (echo, discard, source, forward)", argv[1]);
	if (argc - 2 != nargs)
		return pc_cmd_fail(ctx, "%s takes %d argument(s)", argv[1], nargs);
	if (strcmp(argv[1], "source") == 0 &&
	    pc_arg_u32(ctx, "bytes", argv[2], 0, UINT32_MAX, &arg))
		return -1;
	if (strcmp(argv[1], "forward") == 0 &&
	    (pc_arg_ipv4(ctx, "backend", argv[2], &fwd_addr) ||
	     pc_arg_u32(ctx, "backend port", argv[3], 1, 65535, &fwd_port)))
		return -1;
	struct pc_dp_listener *l = pc_cmd_add_listener(ctx, port, argv[1]);

	if (l == NULL)
		return -1;
	l->arg = arg;
	l->fwd_addr = fwd_addr;
	l->fwd_port = (uint16_t)fwd_port;
	return 0;
}

struct pc_dp_listener *pc_cmd_add_listener(struct pc_cmd_ctx *ctx, uint32_t port,
					   const char *app)
{
	struct pc_dp_tcp *t = &ctx->dp->tcp;
	struct pc_dp_listener *l;

	for (unsigned int i = 0; i < t->nb_listeners; i++)
		if (t->listeners[i].port == port) {
			pc_cmd_fail(ctx, "port %u already has a listener", port);
			return NULL;
		}
	if (t->nb_listeners == PC_DP_MAX_LISTENERS) {
		pc_cmd_fail(ctx, "too many listeners");
		return NULL;
	}
	l = &t->listeners[t->nb_listeners++];
	memset(l, 0, sizeof(*l));
	l->port = (uint16_t)port;
	snprintf(l->app, sizeof(l->app), "%s", app);
	return l;
}

static int cmd_max_conns(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	return pc_arg_count(ctx, argc, 1) ||
	       pc_arg_u32(ctx, "count", argv[0], 1, 1u << 20, &ctx->dp->tcp.set.max_conns);
}

static int cmd_buffers(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	return pc_arg_count(ctx, argc, 2) || pow2(ctx, "receive buffer", argv[0], &ctx->dp->tcp.set.rcvbuf) ||
	       pow2(ctx, "send buffer", argv[1], &ctx->dp->tcp.set.sndbuf);
}

static int cmd_buffer_pool(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	if (argc == 1 && strcmp(argv[0], "auto") == 0) {
		ctx->dp->tcp.set.buffer_pool = 0;
		return 0;
	}
	return pc_arg_count(ctx, argc, 1) ||
	       pc_arg_u32(ctx, "rings", argv[0], 2, 1u << 22, &ctx->dp->tcp.set.buffer_pool);
}

static int cmd_syn_backlog(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	return pc_arg_count(ctx, argc, 1) ||
	       pc_arg_u32(ctx, "count", argv[0], 0, 1u << 20, &ctx->dp->tcp.set.syn_backlog);
}

static int cmd_congestion(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	if (pc_arg_count(ctx, argc, 1))
		return -1;
	if (strcmp(argv[0], "cubic") != 0 && strcmp(argv[0], "newreno") != 0)
		return pc_cmd_fail(ctx, "expected cubic or newreno");
	snprintf(ctx->dp->tcp.cc, sizeof(ctx->dp->tcp.cc), "%s", argv[0]);
	return 0;
}

static int cmd_keepalive(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	struct pc_dp_tcp *t = &ctx->dp->tcp;

	if (argc == 1 && strcmp(argv[0], "off") == 0) {
		t->set.keepalive_idle_s = 0;
		return 0;
	}
	return pc_arg_count(ctx, argc, 3) ||
	       pc_arg_u32(ctx, "idle seconds", argv[0], 1, 86400, &t->set.keepalive_idle_s) ||
	       pc_arg_u32(ctx, "interval seconds", argv[1], 1, 3600, &t->set.keepalive_intvl_s) ||
	       pc_arg_u32(ctx, "probes", argv[2], 1, 100, &t->set.keepalive_probes);
}

/* One number in [min, max], or "off" for 0. */
static int u32_or_off(struct pc_cmd_ctx *ctx, int argc, char **argv, const char *what,
		      uint32_t min, uint32_t max, uint32_t *out)
{
	if (argc == 1 && strcmp(argv[0], "off") == 0) {
		*out = 0;
		return 0;
	}
	return pc_arg_count(ctx, argc, 1) || pc_arg_u32(ctx, what, argv[0], min, max, out);
}

static int cmd_idle_timeout(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	return u32_or_off(ctx, argc, argv, "seconds", 1, 7 * 86400, &ctx->dp->tcp.set.idle_timeout_s);
}

static int cmd_time_wait(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	return pc_arg_count(ctx, argc, 2) ||
	       pc_arg_u32(ctx, "milliseconds", argv[0], 1, 240000, &ctx->dp->tcp.set.time_wait_ms) ||
	       pc_arg_u32(ctx, "max", argv[1], 0, 1u << 20, &ctx->dp->tcp.set.max_time_wait);
}

static int cmd_fin_wait_2(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	return pc_arg_count(ctx, argc, 1) ||
	       pc_arg_u32(ctx, "milliseconds", argv[0], 1, 600000, &ctx->dp->tcp.set.fin_wait_2_ms);
}

static int cmd_persist_timeout(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	return u32_or_off(ctx, argc, argv, "seconds", 1, 86400, &ctx->dp->tcp.set.persist_timeout_s);
}

static int cmd_challenge_ack_limit(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	return u32_or_off(ctx, argc, argv, "ACKs per second", 1, 1u << 24,
			  &ctx->dp->tcp.set.challenge_ack_limit);
}

static int cmd_rto(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	struct pc_dp_tcp *t = &ctx->dp->tcp;

	return pc_arg_count(ctx, argc, 3) || pc_arg_u32(ctx, "min ms", argv[0], 1, 60000, &t->set.rto_min_ms) ||
	       pc_arg_u32(ctx, "max ms", argv[1], t->set.rto_min_ms, 600000, &t->set.rto_max_ms) ||
	       pc_arg_u32(ctx, "initial ms", argv[2], t->set.rto_min_ms, t->set.rto_max_ms,
			  &t->set.rto_init_ms);
}

static int cmd_delack(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	return pc_arg_count(ctx, argc, 1) ||
	       pc_arg_u32(ctx, "milliseconds", argv[0], 1, 500, &ctx->dp->tcp.set.delack_ms);
}

static int cmd_retries(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	return pc_arg_count(ctx, argc, 2) ||
	       pc_arg_u32(ctx, "data", argv[0], 1, 30, &ctx->dp->tcp.set.max_retries) ||
	       pc_arg_u32(ctx, "syn", argv[1], 1, 30, &ctx->dp->tcp.set.syn_retries);
}

#define POOLS "connections and their buffers are preallocated on hugepages at start"
#define TIMERS "timers already armed use it; restart to change it for all"

static const struct pc_cmd tcp_cmds[] = {
	{"tcp listen", "tcp listen PORT echo | discard | source BYTES | forward A.B.C.D PORT",
	 cmd_listen, 0, "listeners are opened at start"},
	{"tcp max-connections", "tcp max-connections COUNT  (per worker)", cmd_max_conns, 0, POOLS},
	{"tcp buffers", "tcp buffers RECEIVE SEND  (bytes, powers of two)", cmd_buffers, 0, POOLS},
	{"tcp buffer-pool", "tcp buffer-pool RINGS|auto  (per worker; auto: two per connection, and one)",
	 cmd_buffer_pool, 0, POOLS},
	{"tcp syn-backlog", "tcp syn-backlog COUNT  (half-open before SYN cookies)",
	 cmd_syn_backlog, 0, POOLS},
	{"tcp congestion", "tcp congestion cubic|newreno", cmd_congestion, 0,
	 "open connections keep their congestion state"},
	/* The two settings workers read at each use: changed at run time too. */
	{"tcp keepalive", "tcp keepalive off | IDLE_S INTERVAL_S PROBES", cmd_keepalive,
	 PC_CMD_RUN, NULL, pc_cmd_apply_dp},
	{"tcp idle-timeout", "tcp idle-timeout SECONDS|off", cmd_idle_timeout, PC_CMD_RUN, NULL,
	 pc_cmd_apply_dp},
	{"tcp time-wait", "tcp time-wait MILLISECONDS MAX_CONNECTIONS", cmd_time_wait, 0,
	 "the compact table is preallocated at start"},
	{"tcp fin-wait-2", "tcp fin-wait-2 MILLISECONDS  (wait for the FIN of a peer we closed on)",
	 cmd_fin_wait_2, 0, TIMERS},
	{"tcp persist-timeout", "tcp persist-timeout SECONDS|off  (a window closed on our data)",
	 cmd_persist_timeout, 0, TIMERS},
	{"tcp challenge-ack-limit", "tcp challenge-ack-limit PER_SECOND|off  (per worker)",
	 cmd_challenge_ack_limit, 0, "the budget is set up per worker at start"},
	{"tcp rto", "tcp rto MIN_MS MAX_MS INITIAL_MS", cmd_rto, 0, TIMERS},
	{"tcp delayed-ack", "tcp delayed-ack MILLISECONDS", cmd_delack, 0, TIMERS},
	{"tcp retries", "tcp retries DATA SYN", cmd_retries, 0, TIMERS},
};

const struct pc_cmd_table pc_cmds_tcp = {tcp_cmds, sizeof(tcp_cmds) / sizeof(tcp_cmds[0])};
