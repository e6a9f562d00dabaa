/* SPDX-License-Identifier: MIT */
/*
 * The metrics: everything portcullis counts, in the Prometheus text
 * exposition format 0.0.4, rendered by one function for `show stats
 * prometheus` and the HTTP endpoint (metrics_http.c). Counters are per
 * worker, written by their worker alone, and summed here at each scrape;
 * a family's HELP and TYPE lines come before its samples, each family
 * once. Names: `portcullis_` prefix, `_total` on counters, seconds and
 * bytes. Labels: `worker` (the lcore, as `show workers`), `reason`,
 * `host` and `cert`; per-host and per-cert series only for hosts marked
 * `metrics on`, so that the output does not grow with the number of
 * hosts. Main lcore.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_lcore.h>

#include "metrics.h"
#include "pc_alog.h"
#include "pc_build.h"
#include "pc_http_proxy.h"
#include "pc_l7_stats.h"

#define PFX "portcullis_"

/* Escapes of the format: in HELP, backslash and newline; in a label
 * value, the double quote as well. */
static void escaped(FILE *out, const char *s, bool label)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (*s == '"' && label)
			fputs("\\\"", out);
		else
			fputc(*s, out);
	}
}

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s ", name);
	escaped(out, help, false);
	fprintf(out, "\n# TYPE %s %s\n", name, type);
}

/* A sample's name and labels (none, one, or two: k2 NULL for one). */
static void series(FILE *out, const char *name, const char *k1, const char *v1, const char *k2,
		   const char *v2)
{
	fputs(name, out);
	if (k1 == NULL)
		return;
	fprintf(out, "{%s=\"", k1);
	escaped(out, v1, true);
	if (k2 != NULL) {
		fprintf(out, "\",%s=\"", k2);
		escaped(out, v2, true);
	}
	fputs("\"}", out);
}

static void sample_u64(FILE *out, const char *name, const char *label, const char *value,
		       uint64_t v)
{
	series(out, name, label, value, NULL, NULL);
	fprintf(out, " %" PRIu64 "\n", v);
}

static void sample_f(FILE *out, const char *name, const char *label, const char *value, double v)
{
	series(out, name, label, value, NULL, NULL);
	fprintf(out, " %.17g\n", v);
}

/* A family of one unlabelled sample. */
static void single(FILE *out, const char *name, const char *type, const char *help, double v)
{
	family(out, name, type, help);
	sample_f(out, name, NULL, NULL, v);
}

struct dp_view {
	unsigned int n;                       /* workers */
	unsigned int lcore[RTE_MAX_LCORE];
	uint64_t (*stats)[PC_DP_MAX_COUNTERS]; /* per worker */
	uint64_t drops[PC_DP_MAX_COUNTERS];   /* summed */
	uint64_t conns, time_wait;
	uint64_t rings_in_use, rings, tcp_mem_bytes;
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* pc_stats.def: cycle counters become per-worker seconds, the others
 * counters summed over the workers. */
static void render_dataplane(FILE *out, const struct dp_view *v)
{
	double hz = (double)rte_get_tsc_hz();
	const char *help, *name;
	char fam[128], lc[16];

	for (unsigned int s = 0; (name = pc_dp_stat_name(s, &help)) != NULL; s++) {
		uint64_t sum = 0;

		if (ends_with(name, "_cycles")) {
			snprintf(fam, sizeof(fam), PFX "worker_%.*s_seconds_total",
				 (int)(strlen(name) - strlen("_cycles")), name);
			family(out, fam, "counter", help);
			for (unsigned int w = 0; w < v->n; w++) {
				snprintf(lc, sizeof(lc), "%u", v->lcore[w]);
				sample_f(out, fam, "worker", lc, hz > 0 ? (double)v->stats[w][s] / hz : 0);
			}
			continue;
		}
		for (unsigned int w = 0; w < v->n; w++)
			sum += v->stats[w][s];
		snprintf(fam, sizeof(fam), PFX "%s_total", name);
		family(out, fam, "counter", help);
		sample_u64(out, fam, NULL, NULL, sum);
	}
	family(out, PFX "drops_total", "counter", "frames dropped, by reason (dataplane/pc_errors.def)");
	for (unsigned int d = 0; (name = pc_dp_drop_name(d, &help)) != NULL; d++)
		sample_u64(out, PFX "drops_total", "reason", name, v->drops[d]);
	single(out, PFX "tcp_connections_open", "gauge", "TCP control blocks in use",
	       (double)v->conns);
	single(out, PFX "tcp_time_wait", "gauge", "TCP control blocks in TIME_WAIT",
	       (double)v->time_wait);
	single(out, PFX "tcp_buffers_in_use", "gauge",
	       "TCP buffers (tcp buffers) held by connections, all workers", (double)v->rings_in_use);
	single(out, PFX "tcp_buffers", "gauge", "TCP buffers in the pools (tcp buffer-pool), all workers",
	       (double)v->rings);
	single(out, PFX "tcp_memory_in_use_bytes", "gauge",
	       "TCP control blocks in use and the buffers they hold, all workers",
	       (double)v->tcp_mem_bytes);
	single(out, PFX "memory_per_connection_bytes", "gauge",
	       "TCP control block, TCP buffers held, TLS connection object and wolfSSL arena "
	       "memory in use, per open TCP connection",
	       (double)pc_metrics_memory_per_conn());
	single(out, PFX "workers", "gauge", "worker lcores", v->n);
}

uint64_t pc_metrics_memory_per_conn(void)
{
	struct pc_dp_worker_info wi;
	struct pc_tls_sums t;
	uint64_t conns = 0, bytes = 0;

	for (unsigned int i = 0; pc_dp_worker_info(i, &wi); i++) {
		conns += wi.conns;
		bytes += wi.tcp_mem_bytes;
	}
	pc_tls_sums(&t);
	bytes += t.conn_object_bytes + t.mem_in_use;
	return conns != 0 ? bytes / conns : 0;
}

void pc_metrics_dump_memory(FILE *out)
{
	fprintf(out,
		"memory_per_connection_bytes %" PRIu64 "  # TCP control block, TCP buffers held, "
		"TLS connection object and wolfSSL memory in use, per open TCP connection\n",
		pc_metrics_memory_per_conn());
}

/* Every per-worker counter of the dataplane, read once. */
static int read_dataplane(struct dp_view *v)
{
	uint64_t drops[PC_DP_MAX_COUNTERS];
	struct pc_dp_worker_info wi;

	memset(v, 0, sizeof(*v));
	v->stats = calloc(RTE_MAX_LCORE, sizeof(*v->stats));
	if (v->stats == NULL)
		return -1;
	while (v->n < RTE_MAX_LCORE &&
	       pc_dp_worker_counters(v->n, &v->lcore[v->n], v->stats[v->n], drops)) {
		for (unsigned int d = 0; d < PC_DP_MAX_COUNTERS; d++)
			v->drops[d] += drops[d];
		if (pc_dp_worker_info(v->n, &wi)) {
			v->conns += wi.conns;
			v->time_wait += wi.time_wait;
			v->rings_in_use += wi.rings_in_use;
			v->rings += wi.rings;
			v->tcp_mem_bytes += wi.tcp_mem_bytes;
		}
		v->n++;
	}
	return 0;
}

/* TLS to backends' servers (crypto/tls_client.c). */
static void render_origin(FILE *out)
{
	struct pc_tls_origin_sums o;
	const char *name, *help;

	pc_tls_origin_sums(&o);
	family(out, PFX "tls_origin_outcomes_total", "counter",
	       "TLS to backends' servers: handshakes by outcome (verified, unverified: no "
	       "`tls ca`; or why they failed), and failures after them (crypto/tls_origin.def)");
	for (unsigned int i = 0; (name = pc_tls_origin_name(i, &help)) != NULL; i++)
		sample_u64(out, PFX "tls_origin_outcomes_total", "outcome", name, o.outcome[i]);
	family(out, PFX "tls_origin_verifications_total", "counter",
	       "backend server certificate verifications, by outcome (ok, or the reason it "
	       "failed: crypto/verify_reasons.def; a name mismatch is an outcome above)");
	for (int i = 0; i < PC_VERIFY_NB_REASONS; i++)
		if (i != PC_VERIFY_IDENTITY)
			sample_u64(out, PFX "tls_origin_verifications_total", "reason",
				   pc_verify_reason_name((enum pc_verify_reason)i), o.verify[i]);
	single(out, PFX "tls_origin_connections_open", "gauge",
	       "TLS connections to backends' servers", (double)o.active);
}

static void render_tls(FILE *out)
{
	struct pc_tls_sums t;
	const char *name, *help;
	char fam[128];
	uint64_t cum = 0;
	double hz = (double)rte_get_tsc_hz();

	pc_tls_sums(&t);
	for (unsigned int i = 0; (name = pc_tls_stat_name(i, &help)) != NULL; i++) {
		snprintf(fam, sizeof(fam), PFX "tls_%s_total", name);
		family(out, fam, "counter", help);
		sample_u64(out, fam, NULL, NULL, t.stat[i]);
	}
	family(out, PFX "tls_errors_total", "counter",
	       "TLS connections that failed, by reason (crypto/tls_errors.def)");
	for (unsigned int i = 0; (name = pc_tls_err_name(i, &help)) != NULL; i++)
		sample_u64(out, PFX "tls_errors_total", "reason", name, t.err[i]);
	family(out, PFX "tls_client_verifications_total", "counter",
	       "client certificate verifications, by outcome (ok, or the reason it failed: "
	       "crypto/verify_reasons.def)");
	for (int i = 0; i < PC_VERIFY_NB_REASONS; i++)
		sample_u64(out, PFX "tls_client_verifications_total", "reason",
			   pc_verify_reason_name((enum pc_verify_reason)i), t.verify[i]);

	render_origin(out);

	/* Buckets are kept apart per worker and made cumulative here; the
	 * count is their sum, so it always equals the +Inf bucket. */
	family(out, PFX "tls_handshake_duration_seconds", "histogram",
	       "completed handshakes, from the first bytes of the ClientHello to the handshake's end");
	for (int b = 0; b < PC_TLS_HS_BUCKETS; b++) {
		char le[32];

		cum += t.hs_bucket[b];
		if (b < PC_TLS_HS_BUCKETS - 1)
			snprintf(le, sizeof(le), "%g", pc_tls_hs_bounds[b]);
		else
			snprintf(le, sizeof(le), "+Inf");
		sample_u64(out, PFX "tls_handshake_duration_seconds_bucket", "le", le, cum);
	}
	sample_f(out, PFX "tls_handshake_duration_seconds_sum", NULL, NULL,
		 hz > 0 ? (double)t.hs_cycles / hz : 0);
	sample_u64(out, PFX "tls_handshake_duration_seconds_count", NULL, NULL, cum);

	single(out, PFX "tls_connections_open", "gauge", "TLS connections in use",
	       (double)t.conns_active);
	single(out, PFX "tls_chain_cache_entries", "gauge",
	       "verified client chains cached, all workers", (double)t.chain_cache_entries);
	single(out, PFX "tls_chain_cache_key_tables", "gauge",
	       "tables of returning clients' leaf keys (4 KiB each), all workers",
	       (double)t.chain_cache_key_tables);
	single(out, PFX "tls_memory_reserved_bytes", "gauge",
	       "wolfSSL arena memory taken so far, all workers", (double)t.mem_reserved);
	single(out, PFX "tls_memory_in_use_bytes", "gauge",
	       "wolfSSL arena memory in blocks handed out, all workers", (double)t.mem_in_use);
	family(out, PFX "tls_memory_alloc_failures_total", "counter",
	       "wolfSSL allocations refused (arena full or block too large)");
	sample_u64(out, PFX "tls_memory_alloc_failures_total", NULL, NULL, t.mem_failures);
}

static void render_alog(FILE *out)
{
	struct pc_alog_counts a;

	pc_alog_counts(&a);
	family(out, PFX "access_log_records_written_total", "counter",
	       "access-log records written");
	sample_u64(out, PFX "access_log_records_written_total", NULL, NULL, a.written);
	family(out, PFX "access_log_records_dropped_total", "counter",
	       "access-log records dropped: the worker's ring was full");
	sample_u64(out, PFX "access_log_records_dropped_total", NULL, NULL, a.dropped);
	family(out, PFX "access_log_records_discarded_total", "counter",
	       "access-log records taken while the log was off");
	sample_u64(out, PFX "access_log_records_discarded_total", NULL, NULL, a.discarded);
}

/* The L7 counters (l7/l7_stats.def), one family each. */
static void render_l7(FILE *out)
{
	uint64_t sum[PC_L7_MAX_COUNTERS], hp[PC_HP_NB_STATS];
	const char *name, *help;
	char fam[128];

	pc_l7_sums(sum);
	for (unsigned int i = 0; (name = pc_l7_stat_name(i, &help)) != NULL; i++) {
		snprintf(fam, sizeof(fam), PFX "l7_%s_total", name);
		family(out, fam, "counter", help);
		sample_u64(out, fam, NULL, NULL, sum[i]);
	}
	pc_http_proxy_sums(hp);
	for (unsigned int i = 0; (name = pc_http_proxy_stat_name(i, &help)) != NULL; i++) {
		snprintf(fam, sizeof(fam), PFX "http_proxy_%s_total", name);
		family(out, fam, "counter", help);
		sample_u64(out, fam, NULL, NULL, hp[i]);
	}
}

static void reloads(FILE *out, const char *what, const char *bad, uint64_t ok, uint64_t failed,
		    time_t last, bool last_ok)
{
	char fam[96], help[160];

	snprintf(fam, sizeof(fam), PFX "%s_reloads_total", what);
	snprintf(help, sizeof(help), "%s reloads, by result", what);
	family(out, fam, "counter", help);
	fprintf(out, "%s{result=\"ok\"} %" PRIu64 "\n%s{result=\"%s\"} %" PRIu64 "\n", fam, ok, fam,
		bad, failed);
	snprintf(fam, sizeof(fam), PFX "%s_reload_last_success", what);
	snprintf(help, sizeof(help), "whether the last %s reload succeeded (1 before any)", what);
	single(out, fam, "gauge", help, last == 0 || last_ok ? 1 : 0);
	snprintf(fam, sizeof(fam), PFX "%s_reload_last_timestamp_seconds", what);
	snprintf(help, sizeof(help), "Unix time of the last %s reload (0: none yet)", what);
	single(out, fam, "gauge", help, (double)last);
}

static int by_cert(const void *a, const void *b)
{
	const struct pc_tls_host_metrics *x = a, *y = b;

	return strcmp(x->cert != NULL ? x->cert : "", y->cert != NULL ? y->cert : "");
}

/* Trust objects, reloads, certificate expiry, the marked hosts. */
static void render_trust(FILE *out)
{
	struct pc_tls_store_counts c = {0};
	struct pc_tls_cert_expiry x;
	struct pc_tls_host_metrics *h;
	const char *name, *help;
	size_t n;

	pc_tls_store_counts(&c);
	single(out, PFX "trust_generation", "gauge",
	       "trust configuration generation: commits so far (show info)", (double)c.generation);
	single(out, PFX "hosts", "gauge", "hosts configured", (double)c.hosts);
	single(out, PFX "ca_sets", "gauge", "CA sets configured", (double)c.casets);
	single(out, PFX "certs", "gauge", "server certificates configured", (double)c.certs);
	single(out, PFX "backends", "gauge", "backends configured", (double)c.backends);
	reloads(out, "config", "failed", pc_reloads.config_ok, pc_reloads.config_failed,
		pc_reloads.config_last, pc_reloads.config_last_ok);
	reloads(out, "file", "refused", pc_reloads.files_ok, pc_reloads.files_refused,
		pc_reloads.files_last, pc_reloads.files_last_ok);

	pc_tls_cert_expiry(&x, time(NULL));
	single(out, PFX "certs_expired", "gauge", "server certificates past their notAfter",
	       (double)x.expired);
	single(out, PFX "certs_expiring", "gauge",
	       "server certificates that expire within tls cert-expiry-warning", (double)x.expiring);
	if (x.certs != 0)
		single(out, PFX "certs_earliest_expiry_timestamp_seconds", "gauge",
		       "the earliest notAfter of every server certificate (Unix time)",
		       (double)x.earliest);

	n = pc_tls_metrics_hosts(&h);
	if (n == 0) {
		free(h);
		return;
	}
	family(out, PFX "host_handshakes_total", "counter",
	       "handshakes completed, per host marked `metrics on`");
	for (size_t i = 0; i < n; i++)
		sample_u64(out, PFX "host_handshakes_total", "host", h[i].name, h[i].handshakes);
	family(out, PFX "host_handshake_failures_total", "counter",
	       "connections refused or failed after the host was picked, per host marked `metrics on`");
	for (size_t i = 0; i < n; i++)
		sample_u64(out, PFX "host_handshake_failures_total", "host", h[i].name, h[i].failures);
	family(out, PFX "host_tls_errors_total", "counter",
	       "TLS connections that failed after the host was picked, by reason, per host "
	       "marked `metrics on` (counted since it was first marked)");
	for (size_t i = 0; i < n; i++)
		for (unsigned int r = 0; h[i].by_reason && (name = pc_tls_err_name(r, &help)) != NULL;
		     r++) {
			series(out, PFX "host_tls_errors_total", "host", h[i].name, "reason", name);
			fprintf(out, " %" PRIu64 "\n", h[i].err[r]);
		}
	family(out, PFX "host_client_verifications_total", "counter",
	       "client certificate verifications by outcome, per host marked `metrics on` "
	       "(counted since it was first marked)");
	for (size_t i = 0; i < n; i++)
		for (int r = 0; h[i].by_reason && r < PC_VERIFY_NB_REASONS; r++) {
			series(out, PFX "host_client_verifications_total", "host", h[i].name, "reason",
			       pc_verify_reason_name((enum pc_verify_reason)r));
			fprintf(out, " %" PRIu64 "\n", h[i].verify[r]);
		}
	/* Each cert once, however many marked hosts serve it. */
	qsort(h, n, sizeof(*h), by_cert);
	family(out, PFX "cert_expiry_timestamp_seconds", "gauge",
	       "notAfter of each server certificate a host marked `metrics on` serves (Unix time)");
	for (size_t i = 0; i < n; i++)
		if (h[i].cert != NULL && (i == 0 || h[i - 1].cert == NULL ||
					  strcmp(h[i - 1].cert, h[i].cert) != 0))
			sample_f(out, PFX "cert_expiry_timestamp_seconds", "cert", h[i].cert,
				 (double)h[i].cert_not_after);
	free(h);
}

void pc_metrics_render(FILE *out)
{
	struct dp_view v;

	family(out, PFX "build_info", "gauge", "the running version (always 1)");
	sample_u64(out, PFX "build_info", "version", PC_VERSION, 1);
	single(out, PFX "start_time_seconds", "gauge", "Unix time the process started",
	       (double)pc_start_time);
	if (read_dataplane(&v) == 0) {
		render_dataplane(out, &v);
		free(v.stats);
	}
	render_tls(out);
	render_alog(out);
	render_l7(out);
	render_trust(out);
}
