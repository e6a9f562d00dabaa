/* SPDX-License-Identifier: MIT */
/*
 * TLS counters: each worker's (struct pc_tls_counters, tls_stats.def and
 * tls_errors.def), the handshake-duration histogram, their sums for
 * `show stats`, the counter dumps and the metrics.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>

#include "tls_conn.h"

static const char *const tls_err_names[PC_TLS_ERR__MAX] = {
#define PC_TLS_ERR(name, help) #name,
#include "tls_errors.def"
#undef PC_TLS_ERR
};
static const char *const tls_err_help[PC_TLS_ERR__MAX] = {
#define PC_TLS_ERR(name, help) help,
#include "tls_errors.def"
#undef PC_TLS_ERR
};

const char *tls_err_word(enum pc_tls_err why)
{
	return tls_err_names[why];
}

/* Prometheus's default buckets, from 100 µs: a full handshake on a
 * loaded worker takes about a millisecond, a slow client's up to the
 * handshake timeout. */
const double pc_tls_hs_bounds[PC_TLS_HS_BUCKETS - 1] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
};
/* The same in TSC cycles (set at init, read-only afterwards). */
static uint64_t hs_bound_cycles[PC_TLS_HS_BUCKETS - 1];

void tls_counters_init(void)
{
	for (unsigned int b = 0; b < PC_TLS_HS_BUCKETS - 1; b++)
		hs_bound_cycles[b] = (uint64_t)(pc_tls_hs_bounds[b] * (double)rte_get_tsc_hz());
}

void tls_count_handshake_time(const struct pc_tls_conn *t)
{
	uint64_t d = rte_rdtsc() - t->hello_tsc;
	unsigned int b = 0;

	while (b < PC_TLS_HS_BUCKETS - 1 && d > hs_bound_cycles[b])
		b++;
	cnt()->hs_bucket[b]++;
	cnt()->hs_cycles += d;
}

_Static_assert(PC_TLS_ERR__MAX <= PC_TLS_MAX_COUNTERS, "PC_TLS_MAX_COUNTERS: tls_errors.def");

static const struct {
	const char *name, *help;
	size_t off;
} tls_stats[] = {
#define PC_TLS_STAT(name, help) {#name, help, offsetof(struct pc_tls_counters, name)},
#include "tls_stats.def"
#undef PC_TLS_STAT
};
_Static_assert(RTE_DIM(tls_stats) <= PC_TLS_MAX_COUNTERS, "PC_TLS_MAX_COUNTERS: tls_stats.def");

const char *pc_tls_stat_name(unsigned int i, const char **help)
{
	if (i >= RTE_DIM(tls_stats))
		return NULL;
	*help = tls_stats[i].help;
	return tls_stats[i].name;
}

const char *pc_tls_err_name(unsigned int i, const char **help)
{
	if (i >= PC_TLS_ERR__MAX)
		return NULL;
	*help = tls_err_help[i];
	return tls_err_word(i);
}

/* Each counter is one aligned 64-bit word its worker alone writes. */
static uint64_t rd(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void pc_tls_sums(struct pc_tls_sums *s)
{
	struct pc_tls_mem_stats ms;

	memset(s, 0, sizeof(*s));
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		const struct pc_tls_counters *c = &pc_tls_workers[l].cnt;

		for (size_t i = 0; i < RTE_DIM(tls_stats); i++)
			s->stat[i] += rd((const uint64_t *)((const char *)c + tls_stats[i].off));
		for (int i = 0; i < PC_TLS_ERR__MAX; i++)
			s->err[i] += rd(&c->err[i]);
		for (int i = 0; i < PC_VERIFY_NB_REASONS; i++)
			s->verify[i] += rd(&c->verify[i]);
		for (int i = 0; i < PC_TLS_HS_BUCKETS; i++)
			s->hs_bucket[i] += rd(&c->hs_bucket[i]);
		s->hs_cycles += rd(&c->hs_cycles);
		s->conns_active += __atomic_load_n(&pc_tls_workers[l].in_use, __ATOMIC_RELAXED);
		s->chain_cache_entries += tls_vcache_used(pc_tls_workers[l].vcache);
		s->chain_cache_key_tables += tls_vcache_tables(pc_tls_workers[l].vcache);
		if (pc_tls_mem_stats(l, &ms)) {
			s->mem_reserved += ms.reserved;
			s->mem_in_use += ms.in_use;
			s->mem_failures += ms.failures;
		}
	}
	s->conn_object_bytes = s->conns_active * sizeof(struct pc_tls_conn);
}

void pc_tls_dump_counters(FILE *out)
{
	struct pc_tls_sums sum;

	pc_tls_sums(&sum);
	fprintf(out, "tls_connections_active %" PRIu64 "\n", sum.conns_active);
	fprintf(out, "tls_conn_object_bytes %zu  # per connection, besides wolfSSL's memory\n",
		sizeof(struct pc_tls_conn));
	fprintf(out, "tls_chain_cache_entries %" PRIu64 "  # verified chains cached, all workers\n",
		sum.chain_cache_entries);
	fprintf(out, "tls_chain_cache_key_tables %" PRIu64 "  # of returning clients' leaf keys, all workers\n",
		sum.chain_cache_key_tables);
	for (size_t i = 0; i < RTE_DIM(tls_stats); i++)
		fprintf(out, "tls_%s %" PRIu64 "  # %s\n", tls_stats[i].name, sum.stat[i],
			tls_stats[i].help);
	for (int i = 0; i < PC_TLS_ERR__MAX; i++)
		fprintf(out, "tls_err_%s %" PRIu64 "  # %s\n", tls_err_word(i), sum.err[i],
			tls_err_help[i]);
	for (int i = 0; i < PC_VERIFY_NB_REASONS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "%s", pc_verify_reason_name(i));
		for (char *p = name; *p != '\0'; p++)
			if (*p == '-')
				*p = '_';
		fprintf(out, "tls_verify_%s %" PRIu64 "  # %s\n", name, sum.verify[i],
			pc_verify_reason_help(i));
	}
	pc_tls_origin_dump(out);
	fprintf(out, "tls_mem_reserved_bytes %" PRIu64 "\n", sum.mem_reserved);
	fprintf(out, "tls_mem_in_use_bytes %" PRIu64 "\n", sum.mem_in_use);
	fprintf(out, "tls_mem_alloc_failures %" PRIu64 "\n", sum.mem_failures);
}

