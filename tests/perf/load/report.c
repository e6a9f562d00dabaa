// SPDX-License-Identifier: MIT
/*
 * pc_load's output: a table for people, JSON for scripts (the keys are
 * listed in pc_load.c's header comment). Main thread, after the run.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_barrier_t, in pc_load.h, under -std=c11 */
#endif
#include <inttypes.h>
#include <string.h>

#include "pc_load.h"

const char *const pl_error_names[PL_ERR_COUNT] = {
#define PL_ERROR(name, help) #name,
#include "load_errors.def"
#undef PL_ERROR
};

const char *const pl_error_help[PL_ERR_COUNT] = {
#define PL_ERROR(name, help) help,
#include "load_errors.def"
#undef PL_ERROR
};

static const char *const mode_names[] = {
	[PL_HANDSHAKE] = "handshake", [PL_REQUEST] = "request", [PL_KEEPALIVE] = "keepalive",
	[PL_DOWNLOAD] = "download",   [PL_UPLOAD] = "upload",	[PL_HOLD] = "hold",
	[PL_TCP_ECHO] = "tcp-echo",
};

const char *pl_mode_name(enum pl_mode m)
{
	return mode_names[m];
}

void pl_details_add(struct pl_details *ds, enum pl_error kind, const char *text,
		    uint64_t count)
{
	unsigned i;

	for (i = 0; i < ds->n; i++) {
		if (ds->d[i].kind == kind && strcmp(ds->d[i].text, text) == 0) {
			ds->d[i].count += count;
			return;
		}
	}
	if (ds->n == PL_DETAILS_MAX) {
		ds->dropped += count; /* the per-kind counts stay exact */
		return;
	}
	ds->d[ds->n] = (struct pl_detail){ .kind = kind, .count = count };
	snprintf(ds->d[ds->n].text, sizeof(ds->d[ds->n].text), "%s", text);
	ds->n++;
}

uint64_t pl_errors_total(const struct pl_counts *c)
{
	uint64_t n = 0;
	unsigned k;

	for (k = 0; k < PL_ERR_COUNT; k++)
		n += c->errors[k];
	return n;
}

/* Rates divide the window's counts by the window's length. */
static double rate(const struct pl_summary *s, uint64_t n)
{
	return s->elapsed_s > 0 ? (double)n / s->elapsed_s : 0;
}

/* Handshake mode makes no requests: its attempts are connections. */
static uint64_t requests(const struct pl_summary *s, const struct pl_counts *c)
{
	return s->o->mode == PL_HANDSHAKE ? 0 : c->ok;
}

static double gbps(const struct pl_summary *s)
{
	return rate(s, s->window.tx_bytes + s->window.rx_bytes) * 8 / 1e9;
}

static const char *tls_text(const struct pl_opts *o)
{
	switch (o->tls_version) {
	case TLS1_2_VERSION:
		return "1.2";
	case TLS1_3_VERSION:
		return "1.3";
	}
	return "1.2-1.3";
}

static void table_hist(FILE *f, const char *name, const struct pl_hist *h)
{
	static const double q[] = { 0.5, 0.9, 0.99, 0.999 };
	unsigned i;

	if (!h->count) {
		fprintf(f, "  %-10s %8s\n", name, "-");
		return;
	}
	fprintf(f, "  %-10s %8" PRIu64 " %8.3f", name, h->count, (double)h->sum_ns / (double)h->count / 1e6);
	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++)
		fprintf(f, " %8.3f", pl_hist_quantile(h, q[i]) / 1e6);
	fprintf(f, " %8.3f\n", (double)h->max_ns / 1e6);
}

void pl_report_table(FILE *f, const struct pl_summary *s)
{
	const struct pl_opts *o = s->o;
	const struct pl_counts *t = &s->total;
	uint64_t errors = pl_errors_total(t);
	unsigned k, i;

	fprintf(f, "pc_load: %s, %s:%u", pl_mode_name(o->mode), o->host, o->port);
	if (o->mode != PL_TCP_ECHO)
		fprintf(f, ", SNI %s, TLS %s, %s, %s, %s", o->sni ? o->sni : "none", tls_text(o),
			o->cert ? "client certificate" : "no client certificate",
			o->resume ? "resumption" : "no resumption", OpenSSL_version(OPENSSL_VERSION));
	if (o->bytes)
		fprintf(f, ", %" PRIu64 " bytes", o->bytes);
	fprintf(f, "\n  %u connections on %u thread%s, %.2f s measured (ended by %s)\n\n", o->conns,
		o->threads, o->threads == 1 ? "" : "s", s->elapsed_s, s->ended_by);
	fprintf(f, "  %-12s %10s %10s\n", "", "total", "per s");
	fprintf(f, "  %-12s %10" PRIu64 " %10.1f", "connections", t->conns_ok, rate(s, s->window.conns_ok));
	if (o->mode != PL_TCP_ECHO)
		fprintf(f, "   full %" PRIu64 ", resumed %" PRIu64 ", resume missed %" PRIu64,
			t->full, t->resumed, t->resume_missed);
	if (o->mode == PL_HOLD)
		fprintf(f, ", held %" PRIu64, s->window.held);
	fprintf(f, "\n  %-12s %10" PRIu64 " %10.1f\n", "requests", requests(s, t),
		rate(s, requests(s, &s->window)));
	fprintf(f, "  %-12s %10s %10.3f   sent %" PRIu64 " B, received %" PRIu64 " B\n\n", "Gbit/s", "",
		gbps(s), t->tx_bytes, t->rx_bytes);
	fprintf(f, "  %-10s %8s %8s %8s %8s %8s %8s %8s\n", "latency ms", "count", "mean", "p50",
		"p90", "p99", "p99.9", "max");
	table_hist(f, "connect", &s->connect);
	table_hist(f, "handshake", &s->handshake);
	table_hist(f, "request", &s->request);
	fprintf(f, "\n  errors %" PRIu64 " of %" PRIu64 " attempts, unfinished %" PRIu64 "\n", errors,
		t->ok + errors + t->unfinished, t->unfinished);
	for (k = 0; k < PL_ERR_COUNT; k++) {
		if (!t->errors[k])
			continue;
		fprintf(f, "    %-18s %10" PRIu64 "\n", pl_error_names[k], t->errors[k]);
		for (i = 0; i < s->details.n; i++)
			if (s->details.d[i].kind == k)
				fprintf(f, "      %10" PRIu64 "  %s\n", s->details.d[i].count,
					s->details.d[i].text);
	}
	if (s->details.dropped)
		fprintf(f, "    (%" PRIu64 " more with other details)\n", s->details.dropped);
	fprintf(f, "  cpu %.2f cores (user %.2f s, sys %.2f s over %.2f s)\n",
		s->wall_s > 0 ? (s->cpu_user_s + s->cpu_sys_s) / s->wall_s : 0, s->cpu_user_s,
		s->cpu_sys_s, s->wall_s);
}

/* A JSON string, or null. */
static void json_str(FILE *f, const char *v)
{
	const unsigned char *p;

	if (!v) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void json_hist(FILE *f, const char *name, const struct pl_hist *h, bool last)
{
	fprintf(f, "    \"%s\": ", name);
	if (!h->count)
		fputs("null", f);
	else
		fprintf(f,
			"{\"count\": %" PRIu64 ", \"mean\": %.1f, \"p50\": %.1f, \"p90\": %.1f, "
			"\"p99\": %.1f, \"p99_9\": %.1f, \"max\": %.1f}",
			h->count, (double)h->sum_ns / (double)h->count / 1e3,
			pl_hist_quantile(h, 0.5) / 1e3, pl_hist_quantile(h, 0.9) / 1e3,
			pl_hist_quantile(h, 0.99) / 1e3, pl_hist_quantile(h, 0.999) / 1e3,
			(double)h->max_ns / 1e3);
	fputs(last ? "\n" : ",\n", f);
}

int pl_report_json(const char *path, const struct pl_summary *s)
{
	const struct pl_opts *o = s->o;
	const struct pl_counts *t = &s->total;
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	unsigned k, i;
	int rc;

	if (!f) {
		perror(path);
		return -1;
	}
	fputs("{\n  \"tool\": \"pc_load\",\n  \"tls_library\": ", f);
	json_str(f, OpenSSL_version(OPENSSL_VERSION));
	fputs(",\n  \"config\": {\"host\": ", f);
	json_str(f, o->host);
	fprintf(f, ", \"port\": %u, \"mode\": \"%s\", \"sni\": ", o->port, pl_mode_name(o->mode));
	json_str(f, o->mode == PL_TCP_ECHO ? NULL : o->sni);
	fprintf(f, ", \"conns\": %u, \"threads\": %u, \"duration_s\": %.3f, \"count\": %" PRIu64
		   ", \"reqs_per_conn\": %u, ",
		o->conns, o->threads, o->duration, o->count, o->reqs_per_conn);
	if (o->bytes)
		fprintf(f, "\"bytes\": %" PRIu64 ", \"path\": ", o->bytes);
	else
		fputs("\"bytes\": null, \"path\": ", f);
	json_str(f, o->path);
	fprintf(f, ", \"tls\": \"%s\", \"resume\": %s, \"client_cert\": %s, \"verify_server\": %s, "
		   "\"close\": \"%s\"},\n",
		o->mode == PL_TCP_ECHO ? "none" : tls_text(o), o->resume ? "true" : "false",
		o->cert ? "true" : "false", o->cacert ? "true" : "false",
		o->close == PL_CLOSE_RST ? "rst" : "fin");
	fprintf(f, "  \"ended_by\": \"%s\",\n  \"elapsed_s\": %.3f,\n", s->ended_by, s->elapsed_s);
	fprintf(f,
		"  \"connections\": {\"ok\": %" PRIu64 ", \"per_s\": %.1f, \"full\": %" PRIu64
		", \"resumed\": %" PRIu64 ", \"resume_missed\": %" PRIu64 ", \"held\": %" PRIu64 "},\n",
		t->conns_ok, rate(s, s->window.conns_ok), t->full, t->resumed, t->resume_missed,
		s->window.held);
	fprintf(f, "  \"requests\": {\"ok\": %" PRIu64 ", \"per_s\": %.1f},\n", requests(s, t),
		rate(s, requests(s, &s->window)));
	fprintf(f, "  \"bytes\": {\"tx\": %" PRIu64 ", \"rx\": %" PRIu64 "},\n  \"gbps\": %.4f,\n",
		t->tx_bytes, t->rx_bytes, gbps(s));
	fputs("  \"latency_us\": {\n", f);
	json_hist(f, "connect", &s->connect, false);
	json_hist(f, "handshake", &s->handshake, false);
	json_hist(f, "request", &s->request, true);
	fprintf(f, "  },\n  \"errors\": {\"total\": %" PRIu64, pl_errors_total(t));
	for (k = 0; k < PL_ERR_COUNT; k++)
		fprintf(f, ", \"%s\": %" PRIu64, pl_error_names[k], t->errors[k]);
	fputs("},\n  \"error_details\": [", f);
	for (i = 0; i < s->details.n; i++) {
		fprintf(f, "%s\n    {\"kind\": \"%s\", \"count\": %" PRIu64 ", \"detail\": ",
			i ? "," : "", pl_error_names[s->details.d[i].kind], s->details.d[i].count);
		json_str(f, s->details.d[i].text);
		fputc('}', f);
	}
	fprintf(f, "%s],\n  \"error_details_dropped\": %" PRIu64 ",\n", s->details.n ? "\n  " : "",
		s->details.dropped);
	fprintf(f, "  \"unfinished\": %" PRIu64 ",\n", t->unfinished);
	fprintf(f, "  \"cpu\": {\"user_s\": %.3f, \"sys_s\": %.3f, \"cores\": %.3f}\n}\n",
		s->cpu_user_s, s->cpu_sys_s,
		s->wall_s > 0 ? (s->cpu_user_s + s->cpu_sys_s) / s->wall_s : 0);
	rc = ferror(f) ? -1 : 0;
	if (f == stdout)
		rc |= fflush(f);
	else
		rc |= fclose(f);
	if (rc)
		fprintf(stderr, "pc_load: writing %s failed\n", path);
	return rc ? -1 : 0;
}
