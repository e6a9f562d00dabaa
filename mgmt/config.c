/* SPDX-License-Identifier: MIT */
/* Config files: the command language, one command per line; and the
 * config that reproduces the running state. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pc_build.h"
#include "pc_mgmt.h"

#define PC_CONFIG_LINE_MAX 4096

static int config_fail(FILE *f, char *line)
{
	free(line);
	fclose(f);
	return -1;
}

int pc_config_read(const char *path, struct pc_cmd_ctx *ctx, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned int lineno = 0;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (n > PC_CONFIG_LINE_MAX) {
			snprintf(err, errlen, "%s:%u: line longer than %d bytes", path, lineno,
				 PC_CONFIG_LINE_MAX);
			return config_fail(f, line);
		}
		if (strlen(line) != (size_t)n) {
			snprintf(err, errlen, "%s:%u: NUL byte in line", path, lineno);
			return config_fail(f, line);
		}
		if (pc_cmd_exec(ctx, line, NULL) != 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, ctx->err);
			return config_fail(f, line);
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		return config_fail(f, line);
	}
	free(line);
	fclose(f);
	return 0;
}

int pc_config_load(const char *path, struct pc_cmd_ctx *ctx)
{
	char err[PC_CMD_ERR_LEN + PC_TLS_PATH_MAX + 32];

	if (pc_config_read(path, ctx, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "%s\n", err);
	return -1;
}

static void dump_u32_or_off(FILE *out, const char *words, uint32_t v)
{
	if (v == 0)
		fprintf(out, "%s off\n", words);
	else
		fprintf(out, "%s %u\n", words, v);
}

void pc_config_dump(const struct pc_cmd_ctx *ctx, FILE *out)
{
	fprintf(out, "# portcullis %s: the running configuration\n", PC_VERSION);
	pc_config_dump_settings(ctx, out);
	pc_tls_dump_objects(out);
}

void pc_config_dump_settings(const struct pc_cmd_ctx *ctx, FILE *out)
{
	const struct pc_dp_config *d = ctx->dp;
	const struct pc_dp_tcp *t = &d->tcp;
	const struct pc_tls_spec *s = ctx->tls;

	fprintf(out, "ip address %u.%u.%u.%u/%u\n", d->addr >> 24, (d->addr >> 16) & 0xff,
		(d->addr >> 8) & 0xff, d->addr & 0xff, d->prefix_len);
	if (d->gateway != 0)
		fprintf(out, "ip gateway %u.%u.%u.%u\n", d->gateway >> 24,
			(d->gateway >> 16) & 0xff, (d->gateway >> 8) & 0xff, d->gateway & 0xff);
	fprintf(out, "ip ttl %u\narp timeout %u\nport mtu %u\nport descriptors %u %u\n", d->ttl,
		d->arp_timeout_s, d->mtu, d->rx_desc, d->tx_desc);
	if (d->mbufs != 0)
		fprintf(out, "port mbufs %u\n", d->mbufs);
	if (d->idle.busy)
		fprintf(out, "worker idle busy\n");
	else
		fprintf(out, "worker idle backoff %u %u %u\n", d->idle.pause_after_us,
			d->idle.sleep_after_us, d->idle.sleep_us);
	fprintf(out, "worker tx-hold %u\n", d->idle.tx_hold_us);
	for (unsigned int i = 0; i < t->nb_listeners; i++) {
		const struct pc_dp_listener *l = &t->listeners[i];

		if (l->ext_app != NULL)
			fprintf(out, "tls listen %u http\n", l->port);
		else if (strcmp(l->app, "source") == 0)
			fprintf(out, "tcp listen %u source %" PRIu64 "\n", l->port, l->arg);
		else if (strcmp(l->app, "forward") == 0)
			fprintf(out, "tcp listen %u forward %u.%u.%u.%u %u\n", l->port,
				l->fwd_addr >> 24, (l->fwd_addr >> 16) & 0xff,
				(l->fwd_addr >> 8) & 0xff, l->fwd_addr & 0xff, l->fwd_port);
		else
			fprintf(out, "tcp listen %u %s\n", l->port, l->app);
	}
	fprintf(out, "tcp max-connections %u\ntcp buffers %u %u\ntcp syn-backlog %u\n",
		t->set.max_conns, t->set.rcvbuf, t->set.sndbuf, t->set.syn_backlog);
	if (t->set.buffer_pool == 0)
		fprintf(out, "tcp buffer-pool auto\n");
	else
		fprintf(out, "tcp buffer-pool %u\n", t->set.buffer_pool);
	fprintf(out, "tcp congestion %s\n", t->cc);
	if (t->set.keepalive_idle_s == 0)
		fprintf(out, "tcp keepalive off\n");
	else
		fprintf(out, "tcp keepalive %u %u %u\n", t->set.keepalive_idle_s, t->set.keepalive_intvl_s,
			t->set.keepalive_probes);
	dump_u32_or_off(out, "tcp idle-timeout", t->set.idle_timeout_s);
	fprintf(out, "tcp time-wait %u %u\ntcp fin-wait-2 %u\n", t->set.time_wait_ms, t->set.max_time_wait,
		t->set.fin_wait_2_ms);
	dump_u32_or_off(out, "tcp persist-timeout", t->set.persist_timeout_s);
	dump_u32_or_off(out, "tcp challenge-ack-limit", t->set.challenge_ack_limit);
	fprintf(out, "tcp rto %u %u %u\ntcp delayed-ack %u\ntcp retries %u %u\n", t->set.rto_min_ms,
		t->set.rto_max_ms, t->set.rto_init_ms, t->set.delack_ms, t->set.max_retries, t->set.syn_retries);
	fprintf(out, "tls versions 1.%u 1.%u\n", s->min_version, s->max_version);
	if (s->ciphers[0] != '\0')
		fprintf(out, "tls ciphers %s\n", s->ciphers);
	fprintf(out, "tls groups %s\ntls sha1-signatures %s\n", s->groups,
		s->sha1_signatures ? "on" : "off");
	fprintf(out, "tls memory %u\ntls handshake-timeout %u\ntls idle-timeout %u\n", s->memory_mb,
		s->handshake_timeout_ms, s->idle_timeout_ms);
	fprintf(out, "tls ticket-lifetime %u\ntls ticket-keys %s\ntls verify-cache %u\n",
		s->ticket_lifetime_s, s->ticket_keys[0] != '\0' ? s->ticket_keys : "random",
		s->verify_cache);
	fprintf(out, "tls cert-expiry-warning %u\nwatch %s\n", s->cert_expiry_warning_s,
		ctx->watch_off ? "off" : "on");
	if (ctx->access_log[0] != '\0')
		fprintf(out, "access-log %s %u\n", ctx->access_log, ctx->access_log_ring);
	fprintf(out, "access-log format %s\n", ctx->access_log_json ? "json" : "logfmt");
	fprintf(out, "event-log %s\n", ctx->event_log[0] != '\0' ? ctx->event_log : "stdout");
	if (ctx->ctl.path[0] != '\0')
		fprintf(out, "control socket %s mode %o%s%s\n", ctx->ctl.path, ctx->ctl.mode,
			ctx->ctl.group[0] != '\0' ? " group " : "", ctx->ctl.group);
	if (ctx->metrics.port != 0)
		fprintf(out, "metrics listen %u.%u.%u.%u:%u\n", ctx->metrics.addr >> 24,
			(ctx->metrics.addr >> 16) & 0xff, (ctx->metrics.addr >> 8) & 0xff,
			ctx->metrics.addr & 0xff, ctx->metrics.port);
}
