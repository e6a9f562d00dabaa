/* SPDX-License-Identifier: MIT */
/*
 * portcullis: process life cycle. The main lcore is the management thread:
 * it loads the config (the trust objects in one transaction), sets up the
 * dataplane, launches the workers, then serves the control socket and
 * waits for signals (SIGINT/SIGTERM stop, SIGUSR1 dumps counters, SIGUSR2
 * the TCP connections, SIGHUP reloads the config file) until shutdown,
 * when it stops the workers, prints the counters and returns every
 * resource so that a new instance can start at once. Under systemd (Type=notify) it says when it is ready
 * and when it stops. It is a liburcu QSBR reader (the trust tables are
 * rculfhash), offline whenever it waits.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_version.h>

#include <urcu-qsbr.h>

#include "metrics.h"
#include "pc_alog.h"
#include "pc_build.h"
#include "pc_http_proxy.h"
#include "pc_l7_stats.h"
#include "pc_crypto.h"
#include "pc_dataplane.h"
#include "pc_mgmt.h"
#include "pc_upstream.h"
#include "pc_verify.h"

static volatile sig_atomic_t pc_sig_stop;
static volatile sig_atomic_t pc_sig_dump;
static volatile sig_atomic_t pc_sig_conns;
static volatile sig_atomic_t pc_sig_reload;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		pc_sig_dump = 1;
	else if (sig == SIGUSR2)
		pc_sig_conns = 1;
	else if (sig == SIGHUP)
		pc_sig_reload = 1;
	else
		pc_sig_stop = 1;
}

static void print_version(void)
{
	printf("portcullis %s\n", PC_VERSION);
	printf("DPDK: %s\n", rte_version());
	printf("wolfSSL: %s\n", pc_crypto_version());
	printf("wolfSSL configure: %s\n", pc_crypto_configure_flags());
	printf("wolfSSL patches: %s\n", pc_crypto_patches());
}

static void print_usage(FILE *out)
{
	fprintf(out,
		"usage: portcullis [EAL options] -- -c CONFIG\n"
		"       portcullis --version | --help\n"
		"\n"
		"EAL options select lcores and the port, e.g.\n"
		"  -l 0-1 --no-pci --in-memory --vdev=net_af_xdp0,iface=dp0\n"
		"lcore 0 (main) runs management; each other lcore runs one worker.\n"
		"\n"
		"Config commands (one per line, '#' starts a comment):\n");
	pc_cmd_usage(out, false, "  ");
	fprintf(out, "\nControl socket commands (pcctl; 'help' lists them too):\n");
	pc_cmd_usage(out, true, "  ");
}

/* Options after EAL's "--". */
static int parse_app_args(int argc, char **argv, const char **config)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		if (c != 'c')
			return -1;
		*config = optarg;
	}
	if (optind != argc) {
		fprintf(stderr, "portcullis: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (*config == NULL) {
		fprintf(stderr, "portcullis: no config file (-c CONFIG)\n");
		return -1;
	}
	return 0;
}

/* TLS set-up when a TLS listener is configured: wolfSSL's memory and
 * connection pools, the shared settings, then the config file's trust
 * objects committed as one transaction. */
static int start_tls(const struct pc_cmd_ctx *ctx)
{
	char err[PC_CMD_ERR_LEN];
	struct pc_tls_store_counts c;

	if (ctx->tls_listeners == 0)
		return 0;
	/* A ClientHello is read whole from the TCP receive buffer. */
	if (ctx->dp->tcp.set.rcvbuf < PC_TLS_MIN_RCVBUF) {
		fprintf(stderr, "portcullis: TLS needs TCP receive buffers of at least %u bytes "
			"(tcp buffers)\n", PC_TLS_MIN_RCVBUF);
		return -EINVAL;
	}
	if (pc_tls_init(ctx->tls, ctx->dp->tcp.set.max_conns) != 0)
		return -ENOMEM;
	pc_tls_set_backend_state(pc_up_show_server);
	if (pc_tls_commit(ctx->tls, err, sizeof(err)) != 0 ||
	    pc_tls_txn_commit(ctx->txn, err, sizeof(err)) != 0) {
		fprintf(stderr, "portcullis: TLS configuration: %s\n", err);
		return -EINVAL;
	}
	pc_tls_store_counts(&c);
	printf("portcullis: %lu host(s), %lu ca-set(s), %lu cert(s), %lu backend(s)\n", c.hosts,
	       c.casets, c.certs, c.backends);
	if (c.hosts == 0)
		printf("portcullis: no host yet: TLS clients get unrecognized_name until one "
		       "is added (pcctl)\n");
	return 0;
}

static void dump_counters(void)
{
	pc_dp_dump_counters(stdout, true);
	pc_tls_dump_counters(stdout);
	pc_metrics_dump_memory(stdout);
	pc_alog_dump_counters(stdout);
	pc_l7_dump_counters(stdout);
	pc_http_proxy_dump_counters(stdout);
	/* A reader of the output knows the dump is whole once it sees this. */
	printf("counters end\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	/* The offline verifier needs no EAL: it runs before anything else. */
	if (argc > 1 && strcmp(argv[1], "verify") == 0)
		return pc_verify_main(argc - 1, argv + 1);

	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--version") == 0) {
			print_version();
			return 0;
		}
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			print_usage(stdout);
			return 0;
		}
	}

	static struct pc_tls_spec tls;
	static struct pc_cmd_ctx ctx;
	struct pc_dp_config dp;
	const char *config = NULL;
	int rc;

	/* Tests and operators read stdout through pipes and files: a line is
	 * complete when it is written, even if the process dies next. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	pc_start_time = time(NULL);
	ctx.dp = &dp;
	ctx.tls = &tls;
	pc_dp_config_defaults(&dp);
	pc_tls_spec_defaults(&tls);
	if (pc_tls_route_memory() != 0) {
		fprintf(stderr, "portcullis: wolfSSL refused the allocator\n");
		return 2;
	}
	int eal_args = rte_eal_init(argc, argv);

	if (eal_args < 0) {
		fprintf(stderr, "portcullis: EAL initialisation failed: %s\n",
			rte_strerror(rte_errno));
		return 2;
	}
	argc -= eal_args;
	argv += eal_args;
	if (parse_app_args(argc, argv, &config) != 0) {
		print_usage(stderr);
		rte_eal_cleanup();
		return 2;
	}
	rcu_register_thread();
	ctx.config_file = config;
	ctx.txn = pc_tls_txn_new();
	if (ctx.txn == NULL || pc_config_load(config, &ctx) != 0) {
		pc_tls_txn_free(ctx.txn);
		rcu_unregister_thread();
		rte_eal_cleanup();
		return 2;
	}

	rc = pc_event_open(ctx.event_log[0] != '\0' ? ctx.event_log : "stdout");
	if (rc != 0) {
		fprintf(stderr, "portcullis: event log %s: %s\n", ctx.event_log, strerror(-rc));
		pc_tls_txn_free(ctx.txn);
		rcu_unregister_thread();
		rte_eal_cleanup();
		return 2;
	}

	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	rc = pc_watch_init(&ctx) != 0 ? -ENOSPC : start_tls(&ctx);

	pc_tls_txn_free(ctx.txn);
	ctx.txn = NULL;
	if (rc == 0 && ctx.access_log[0] != '\0')
		rc = pc_alog_start(ctx.access_log, ctx.access_log_ring);
	pc_alog_set_json(ctx.access_log_json);
	if (rc == 0)
		rc = pc_dp_init(&dp);
	if (rc == 0)
		rc = pc_ctl_open(&ctx);
	if (rc == 0)
		rc = pc_metrics_http_open(&ctx.metrics);
	if (rc == 0)
		rc = pc_dp_launch();
	if (rc != 0) {
		pc_metrics_http_close();
		pc_ctl_close();
		pc_watch_fini();
		pc_dp_fini();
		pc_alog_stop();
		pc_tls_fini();
		rcu_unregister_thread();
		rte_eal_cleanup();
		return 1;
	}
	printf("portcullis: ready on %u.%u.%u.%u/%u mac %s, %u worker(s)\n", dp.addr >> 24,
	       (dp.addr >> 16) & 0xff, (dp.addr >> 8) & 0xff, dp.addr & 0xff, dp.prefix_len,
	       pc_dp_mac_str(), rte_lcore_count() - 1);
	fflush(stdout);
	pc_notify("READY=1");

	while (!pc_sig_stop) {
		pc_loop_poll(50);
		if (pc_sig_dump) {
			pc_sig_dump = 0;
			dump_counters();
		}
		if (pc_sig_reload) {
			char err[PC_CMD_ERR_LEN];

			pc_sig_reload = 0;
			pc_reload(&ctx, "SIGHUP", NULL, err, sizeof(err));
		}
		pc_tls_reclaim();
		pc_tls_ticket_timer();
		if (pc_sig_conns) {
			pc_sig_conns = 0;
			printf("connections:\n");
			pc_dp_dump_connections(stdout);
			fflush(stdout);
		}
	}
	printf("portcullis: stopping\n");
	pc_notify("STOPPING=1");
	pc_metrics_http_close();
	pc_ctl_close();
	pc_dp_stop();
	pc_alog_stop();
	dump_counters();
	pc_dp_fini();
	pc_watch_fini();
	pc_tls_fini();
	rcu_unregister_thread();
	rte_eal_cleanup();
	printf("portcullis: stopped\n");
	return 0;
}
