/* SPDX-License-Identifier: MIT */
/*
 * Commands of the control plane itself: the control socket (a start-up
 * setting), transactions (begin, commit, abort, show staged) and what the
 * CLI shows: help, info, workers, hosts, ca-sets, certs, backends, connections,
 * counters, and `dump config`. Every `show` has a `json` form.
 */
#include <grp.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_lcore.h>

#include "pc_alog.h"
#include "pc_build.h"
#include "pc_http_proxy.h"
#include "pc_l7_stats.h"
#include "metrics.h"
#include "pc_mgmt.h"

time_t pc_start_time;

static int cmd_control_socket(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	struct pc_ctl_cfg c = {.mode = 0600};

	if (argc < 1 || argc % 2 != 1)
		return pc_cmd_fail(ctx, "expected PATH [mode OCTAL] [group NAME]");
	if (strlen(argv[0]) >= sizeof(c.path) || argv[0][0] == '\0')
		return pc_cmd_fail(ctx, "path must be 1 to %zu bytes", sizeof(c.path) - 1);
	snprintf(c.path, sizeof(c.path), "%s", argv[0]);
	for (int i = 1; i < argc; i += 2) {
		if (strcmp(argv[i], "mode") == 0) {
			char *end;
			unsigned long m = strtoul(argv[i + 1], &end, 8);

			if (*end != '\0' || argv[i + 1][0] == '\0' || m > 0777)
				return pc_cmd_fail(ctx, "mode '%s' is not octal permission bits",
						   argv[i + 1]);
			c.mode = (uint32_t)m;
		} else if (strcmp(argv[i], "group") == 0) {
			if (getgrnam(argv[i + 1]) == NULL || strlen(argv[i + 1]) >= sizeof(c.group))
				return pc_cmd_fail(ctx, "no group '%s'", argv[i + 1]);
			snprintf(c.group, sizeof(c.group), "%s", argv[i + 1]);
		} else {
			return pc_cmd_fail(ctx, "unknown option '%s' (mode, group)", argv[i]);
		}
	}
	ctx->ctl = c;
	return 0;
}

/* At start the destination is only noted (main opens it after the file
 * is read); at run time it changes at once. */
static int cmd_event_log(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	int rc;

	if (pc_arg_count(ctx, argc, 1))
		return -1;
	if (strlen(argv[0]) >= sizeof(ctx->event_log))
		return pc_cmd_fail(ctx, "path too long");
	if (ctx->running) {
		if (!pc_event_started())
			return pc_cmd_fail(ctx, "the event log is not open yet");
		rc = pc_event_open(argv[0]);
		if (rc != 0)
			return pc_cmd_fail(ctx, "%s: %s", argv[0], strerror(-rc));
	}
	snprintf(ctx->event_log, sizeof(ctx->event_log), "%s", argv[0]);
	return 0;
}

static int cmd_event_log_reopen(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	int rc;

	(void)argv;
	if (pc_arg_count(ctx, argc, 0))
		return -1;
	rc = pc_event_reopen();
	if (rc != 0)
		return pc_cmd_fail(ctx, "%s: %s", ctx->event_log, strerror(-rc));
	return 0;
}

static int cmd_reload(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	char who[80], err[PC_CMD_ERR_LEN];

	(void)argv;
	if (pc_arg_count(ctx, argc, 0))
		return -1;
	snprintf(who, sizeof(who), "cli %s", ctx->session != NULL ? pc_session_peer(ctx->session)
								 : "?");
	if (pc_reload(ctx, who, ctx->out, err, sizeof(err)) != 0)
		return pc_cmd_fail(ctx, "%s", err);
	return 0;
}

static int cmd_help(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	if (pc_arg_count(ctx, argc, 0))
		return -1;
	pc_cmd_usage(ctx->out, true, "");
	return 0;
}

static int cmd_begin(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	return pc_arg_count(ctx, argc, 0) ||
	       pc_session_begin(ctx->session, ctx->err, sizeof(ctx->err));
}

static int cmd_commit(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	return pc_arg_count(ctx, argc, 0) ||
	       pc_session_commit(ctx->session, ctx->err, sizeof(ctx->err));
}

static int cmd_abort(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	if (pc_arg_count(ctx, argc, 0))
		return -1;
	pc_session_abort(ctx->session);
	return 0;
}

/* A trailing "json" word: taken off argc. */
static bool json_arg(int *argc, char **argv)
{
	if (*argc > 0 && strcmp(argv[*argc - 1], "json") == 0) {
		(*argc)--;
		return true;
	}
	return false;
}

/* The config reloads of show info: counts, when the last one was and
 * what it did or why it was refused; and the objects the file watcher
 * reloaded or refused. */
static void show_reloads(FILE *out, bool json)
{
	const struct pc_reload_stats *r = &pc_reloads;
	char when[32] = "never";
	struct tm tm;

	if (r->config_last != 0 && gmtime_r(&r->config_last, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!json) {
		fprintf(out, "file reloads: %" PRIu64 " ok, %" PRIu64 " refused\n", r->files_ok,
			r->files_refused);
		fprintf(out, "reloads: %" PRIu64 " ok, %" PRIu64 " failed\nlast reload: %s", r->config_ok,
			r->config_failed, when);
		if (r->config_last != 0)
			fprintf(out, " %s: %s", r->config_last_ok ? "ok" : "failed",
				r->config_last_result);
		fputc('\n', out);
		return;
	}
	fprintf(out, "\"file_reloads_ok\":%" PRIu64 ",\"file_reloads_refused\":%" PRIu64 ",",
		r->files_ok, r->files_refused);
	fprintf(out, "\"reloads_ok\":%" PRIu64 ",\"reloads_failed\":%" PRIu64 ",\"last_reload\":",
		r->config_ok, r->config_failed);
	if (r->config_last == 0) {
		fprintf(out, "null}\n");
		return;
	}
	fprintf(out, "{\"time\":\"%s\",\"ok\":%s,\"result\":\"", when,
		r->config_last_ok ? "true" : "false");
	for (const char *p = r->config_last_result; *p != '\0'; p++)
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if ((unsigned char)*p >= 0x20)
			fputc(*p, out);
	fprintf(out, "\"}}\n");
}

static int cmd_show_info(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	bool json = json_arg(&argc, argv);
	struct pc_tls_store_counts c = {0};
	long up = (long)(time(NULL) - pc_start_time);
	/* The heap in use (the trust objects live there; DPDK's memory is
	 * on hugepages): what memory-per-host figures are taken from. */
	struct mallinfo2 mi = mallinfo2();
	size_t heap = mi.uordblks + mi.hblkhd;

	if (pc_arg_count(ctx, argc, 0))
		return -1;
	pc_tls_store_counts(&c);
	if (json)
		fprintf(ctx->out,
			"{\"version\":\"%s\",\"uptime_s\":%ld,\"workers\":%u,\"generation\":%" PRIu64
			",\"hosts\":%lu,\"ca_sets\":%lu,\"certs\":%lu,\"backends\":%lu,"
			"\"heap_bytes\":%zu,",
			PC_VERSION, up, rte_lcore_count() - 1, c.generation, c.hosts, c.casets,
			c.certs, c.backends, heap);
	else
		fprintf(ctx->out,
			"version: %s\nuptime: %ld s\nworkers: %u\ngeneration: %" PRIu64
			"\nhosts: %lu\nca-sets: %lu\ncerts: %lu\nbackends: %lu\nheap: %zu bytes\n",
			PC_VERSION, up, rte_lcore_count() - 1, c.generation, c.hosts, c.casets,
			c.certs, c.backends, heap);
	show_reloads(ctx->out, json);
	return 0;
}

static int cmd_show_workers(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	bool json = json_arg(&argc, argv);
	struct pc_dp_worker_info w;

	if (pc_arg_count(ctx, argc, 0))
		return -1;
	if (json)
		fprintf(ctx->out, "{\"workers\":[");
	for (unsigned int i = 0; pc_dp_worker_info(i, &w); i++) {
		uint64_t all = w.busy_cycles + w.idle_cycles;
		double busy = all != 0 ? 100.0 * (double)w.busy_cycles / (double)all : 0.0;

		if (json)
			fprintf(ctx->out,
				"%s{\"lcore\":%u,\"queue\":%u,\"busy_cycles\":%" PRIu64 ",\"idle_cycles\":%" PRIu64
				",\"rx_burst_cycles\":%" PRIu64 ",\"tx_burst_cycles\":%" PRIu64
				",\"busy_percent\":%.1f,\"sleeps\":%" PRIu64 ",\"rx_packets\":%" PRIu64
				",\"tx_packets\":%" PRIu64 ",\"tx_bursts\":%" PRIu64
				",\"connections\":%u,\"time_wait\":%u"
				",\"tcp_buffers_in_use\":%u,\"tcp_buffers\":%u,\"tcp_memory_bytes\":%" PRIu64 "}",
				i ? "," : "", w.lcore, w.queue, w.busy_cycles, w.idle_cycles,
				w.rx_burst_cycles, w.tx_burst_cycles, busy, w.sleeps,
				w.rx_packets, w.tx_packets, w.tx_bursts, w.conns, w.time_wait, w.rings_in_use,
				w.rings, w.tcp_mem_bytes);
		else
			fprintf(ctx->out,
				"lcore%u queue=%u busy=%.1f%% busy_cycles=%" PRIu64 " idle_cycles=%" PRIu64
				" rx_burst_cycles=%" PRIu64 " tx_burst_cycles=%" PRIu64
				" sleeps=%" PRIu64 " rx_packets=%" PRIu64 " tx_packets=%" PRIu64
				" tx_bursts=%" PRIu64 " connections=%u time_wait=%u tcp_buffers=%u/%u tcp_memory_bytes=%" PRIu64 "\n",
				w.lcore, w.queue, busy, w.busy_cycles, w.idle_cycles,
				w.rx_burst_cycles, w.tx_burst_cycles, w.sleeps, w.rx_packets,
				w.tx_packets, w.tx_bursts, w.conns, w.time_wait, w.rings_in_use, w.rings,
				w.tcp_mem_bytes);
	}
	if (json)
		fprintf(ctx->out, "]}\n");
	return 0;
}

static int cmd_show_hosts(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	bool json = json_arg(&argc, argv);

	if (argc > 1)
		return pc_arg_count(ctx, argc, 1);
	pc_tls_show_hosts(ctx->out, argc == 1 ? argv[0] : NULL, json);
	return 0;
}

static int cmd_show_host(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	bool json = json_arg(&argc, argv);

	if (pc_arg_count(ctx, argc, 1))
		return -1;
	if (pc_tls_show_host(ctx->out, argv[0], json) != 0)
		return pc_cmd_fail(ctx, "no host %s", argv[0]);
	return 0;
}

static int cmd_show_casets(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	bool json = json_arg(&argc, argv);

	if (pc_arg_count(ctx, argc, 0))
		return -1;
	pc_tls_show_casets(ctx->out, json);
	return 0;
}

static int cmd_show_caset(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	bool json = json_arg(&argc, argv);

	if (pc_arg_count(ctx, argc, 1))
		return -1;
	if (pc_tls_show_caset(ctx->out, argv[0], json) != 0)
		return pc_cmd_fail(ctx, "no ca-set %s", argv[0]);
	return 0;
}

static int cmd_show_certs(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	bool json = json_arg(&argc, argv);

	if (pc_arg_count(ctx, argc, 0))
		return -1;
	pc_tls_show_certs(ctx->out, json);
	return 0;
}

static int cmd_show_backends(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	bool json = json_arg(&argc, argv);

	if (pc_arg_count(ctx, argc, 0))
		return -1;
	pc_tls_show_backends(ctx->out, json);
	return 0;
}

static int cmd_show_backend(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	bool json = json_arg(&argc, argv);

	if (pc_arg_count(ctx, argc, 1))
		return -1;
	if (pc_tls_show_backend(ctx->out, argv[0], json) != 0)
		return pc_cmd_fail(ctx, "no backend %s", argv[0]);
	return 0;
}

static int cmd_show_ticket_keys(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	bool json = json_arg(&argc, argv);

	if (pc_arg_count(ctx, argc, 0))
		return -1;
	pc_tls_show_ticket_keys(ctx->out, json);
	return 0;
}

/* Text the dataplane prints ("name value  # help" lines, or free lines),
 * as JSON: an object of numbers (pairs) or an array of strings. */
static void text_to_json(FILE *out, const char *key, char *text, bool pairs)
{
	bool first = true;

	fprintf(out, "{\"%s\":%c", key, pairs ? '{' : '[');
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		char name[128];
		uint64_t v;

		if (pairs) {
			if (sscanf(l, "%127s %" SCNu64, name, &v) != 2)
				continue;
			fprintf(out, "%s\"%s\":%" PRIu64, first ? "" : ",", name, v);
		} else {
			fprintf(out, "%s\"", first ? "" : ",");
			for (const char *p = l; *p != '\0'; p++)
				if (*p == '"' || *p == '\\')
					fprintf(out, "\\%c", *p);
				else if ((unsigned char)*p >= 0x20)
					fputc(*p, out);
			fputc('"', out);
		}
		first = false;
	}
	fprintf(out, "%c}\n", pairs ? '}' : ']');
}

static int show_text(struct pc_cmd_ctx *ctx, bool json, const char *key, bool pairs,
		     void (*fill)(FILE *, unsigned int), unsigned int arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m;

	if (!json) {
		fill(ctx->out, arg);
		return 0;
	}
	m = open_memstream(&buf, &len);
	if (m == NULL)
		return pc_cmd_fail(ctx, "out of memory");
	fill(m, arg);
	fclose(m);
	text_to_json(ctx->out, key, buf, pairs);
	free(buf);
	return 0;
}

static void fill_stats(FILE *out, unsigned int arg)
{
	(void)arg;
	pc_dp_dump_counters(out, false);
	pc_tls_dump_counters(out);
	pc_metrics_dump_memory(out);
	pc_alog_dump_counters(out);
	pc_l7_dump_counters(out);
	pc_http_proxy_dump_counters(out);
}

static int cmd_show_staged(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	bool json = json_arg(&argc, argv);
	char *buf = NULL;
	size_t len = 0;
	FILE *m;

	if (pc_arg_count(ctx, argc, 0))
		return -1;
	if (!json) {
		pc_session_show_staged(ctx->session, ctx->out);
		return 0;
	}
	m = open_memstream(&buf, &len);
	if (m == NULL)
		return pc_cmd_fail(ctx, "out of memory");
	pc_session_show_staged(ctx->session, m);
	fclose(m);
	text_to_json(ctx->out, "staged", buf, false);
	free(buf);
	return 0;
}

static int cmd_show_stats(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	bool json = json_arg(&argc, argv);

	if (!json && argc == 1 && strcmp(argv[0], "prometheus") == 0) {
		pc_metrics_render(ctx->out);
		return 0;
	}
	if (pc_arg_count(ctx, argc, 0))
		return -1;
	return show_text(ctx, json, "counters", true, fill_stats, 0);
}

/* At most max lines of the connection dump. */
static void fill_conns(FILE *out, unsigned int max)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	unsigned int n = 0;

	if (m == NULL)
		return;
	pc_dp_dump_connections(m);
	fclose(m);
	for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l != NULL && n < max;
	     l = strtok_r(NULL, "\n", &save), n++)
		fprintf(out, "%s\n", l);
	free(buf);
}

static int cmd_show_conns(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	bool json = json_arg(&argc, argv);
	uint32_t max = 1000;

	if (argc > 1)
		return pc_arg_count(ctx, argc, 1);
	if (argc == 1 && pc_arg_u32(ctx, "count", argv[0], 1, UINT32_MAX, &max))
		return -1;
	return show_text(ctx, json, "connections", false, fill_conns, max);
}

static int cmd_dump_config(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	if (pc_arg_count(ctx, argc, 0))
		return -1;
	pc_config_dump(ctx, ctx->out);
	return 0;
}

#define CLI (PC_CMD_CLI | PC_CMD_READ)

static const struct pc_cmd ctl_cmds[] = {
	{"control socket", "control socket PATH [mode OCTAL] [group NAME]", cmd_control_socket, 0,
	 "the socket is opened at start"},
	{"event-log", "event-log stdout|stderr|FILE", cmd_event_log, PC_CMD_RUN},
	{"event-log reopen", "event-log reopen  (after logrotate renamed the file)",
	 cmd_event_log_reopen, PC_CMD_CLI | PC_CMD_NO_USAGE},
	{"reload", "reload  (read the config file again, apply what changed)", cmd_reload,
	 PC_CMD_CLI | PC_CMD_NO_USAGE},
	{"help", "help", cmd_help, CLI},
	{"begin", "begin", cmd_begin, PC_CMD_CLI},
	{"commit", "commit", cmd_commit, PC_CMD_CLI},
	{"abort", "abort", cmd_abort, PC_CMD_CLI},
	{"show staged", "show staged [json]", cmd_show_staged, CLI},
	{"show info", "show info [json]", cmd_show_info, CLI},
	{"show workers", "show workers [json]", cmd_show_workers, CLI},
	{"show hosts", "show hosts [PATTERN] [json]", cmd_show_hosts, CLI},
	{"show host", "show host NAME [json]", cmd_show_host, CLI},
	{"show ca-sets", "show ca-sets [json]", cmd_show_casets, CLI},
	{"show ca-set", "show ca-set NAME [json]", cmd_show_caset, CLI},
	{"show certs", "show certs [json]", cmd_show_certs, CLI},
	{"show backends", "show backends [json]", cmd_show_backends, CLI},
	{"show backend", "show backend NAME [json]", cmd_show_backend, CLI},
	{"show ticket-keys", "show ticket-keys [json]", cmd_show_ticket_keys, CLI},
	{"show conns", "show conns [N] [json]", cmd_show_conns, CLI},
	{"show stats", "show stats [json|prometheus]", cmd_show_stats, CLI},
	{"dump config", "dump config", cmd_dump_config, CLI},
};

const struct pc_cmd_table pc_cmds_ctl = {ctl_cmds, sizeof(ctl_cmds) / sizeof(ctl_cmds[0])};
