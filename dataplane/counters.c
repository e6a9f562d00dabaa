/* SPDX-License-Identifier: MIT */
/* Counter names and dumps. Read by the management thread while workers
 * write them: each value is a single aligned 64-bit store. */
#include <string.h>

#include <rte_cycles.h>
#include <rte_lcore.h>

#include "dp.h"

const char *const pc_drop_names[PC_DROP__MAX] = {
#define PC_DROP(name, help) "drop_" #name,
#include "pc_errors.def"
#undef PC_DROP
};

const char *const pc_drop_help[PC_DROP__MAX] = {
#define PC_DROP(name, help) help,
#include "pc_errors.def"
#undef PC_DROP
};

static const struct {
	const char *name, *help;
	size_t off;
} pc_stats[] = {
#define PC_STAT(name, help) {#name, help, offsetof(struct pc_counters, name)},
#include "pc_stats.def"
#undef PC_STAT
};

static uint64_t read_u64(const struct pc_counters *c, size_t off)
{
	return *(const volatile uint64_t *)((const char *)c + off);
}

static size_t drop_off(unsigned int d)
{
	return offsetof(struct pc_counters, drop) + d * sizeof(uint64_t);
}

static void dump_one(FILE *out, const char *prefix, const struct pc_counters *c)
{
	for (size_t i = 0; i < RTE_DIM(pc_stats); i++)
		fprintf(out, "%s%s %" PRIu64 "\n", prefix, pc_stats[i].name,
			read_u64(c, pc_stats[i].off));
	for (unsigned int d = 0; d < PC_DROP__MAX; d++) {
		uint64_t v = read_u64(c, drop_off(d));

		if (v != 0)
			fprintf(out, "%s%s %" PRIu64 "  # %s\n", prefix, pc_drop_names[d], v,
				pc_drop_help[d]);
	}
}

void pc_dp_dump_counters(FILE *out, bool per_lcore)
{
	struct pc_counters total = {0};
	uint64_t *t = (uint64_t *)&total;
	size_t words = sizeof(total) / sizeof(uint64_t);

	for (unsigned int i = 0; i < RTE_MAX_LCORE; i++) {
		if (pc_lcores[i] == NULL)
			continue;
		for (size_t w = 0; w < words; w++)
			t[w] += read_u64(&pc_lcores[i]->cnt, w * sizeof(uint64_t));
	}
	uint64_t conns = 0, time_wait = 0, fw2_compact = 0, tw_compact = 0;
	uint64_t rings_used = 0, rings = 0, tcp_mem = 0;
	struct pc_dp_worker_info wi;

	for (unsigned int i = 0; pc_dp_worker_info(i, &wi); i++) {
		rings_used += wi.rings_in_use;
		rings += wi.rings;
		tcp_mem += wi.tcp_mem_bytes;
	}
	for (unsigned int i = 0; i < RTE_MAX_LCORE; i++) {
		const struct pc_tcp_lcore *t;

		if (pc_lcores[i] == NULL)
			continue;
		t = &pc_lcores[i]->tcp;
		conns += *(const volatile uint32_t *)&t->nb_used;
		time_wait += *(const volatile uint32_t *)&t->nb_time_wait;
		fw2_compact += *(const volatile uint32_t *)&t->nb_tw[0];
		tw_compact += *(const volatile uint32_t *)&t->nb_tw[1];
	}
	fprintf(out, "counters (all workers; drops not listed are zero):\n");
	fprintf(out, "tcp_connections_active %" PRIu64 "  # control blocks in use\n", conns);
	fprintf(out, "tcp_time_wait %" PRIu64 "  # control blocks in TIME_WAIT\n", time_wait);
	fprintf(out, "tcp_compact_fin_wait_2 %" PRIu64 "  # closed by us, waiting for the peer's FIN\n",
		fw2_compact);
	fprintf(out, "tcp_compact_time_wait %" PRIu64 "  # compact TIME_WAIT entries\n", tw_compact);
	fprintf(out, "tcp_buffers_in_use %" PRIu64 "  # buffers held by connections (tcp buffers)\n",
		rings_used);
	fprintf(out, "tcp_buffers_pool %" PRIu64 "  # buffers in the pools (tcp buffer-pool)\n", rings);
	fprintf(out, "tcp_buffer_bytes %u  # each buffer\n", pc_tcp_ring_size());
	fprintf(out, "tcp_control_block_bytes %zu  # each connection\n", sizeof(struct pc_tcb));
	fprintf(out, "tcp_memory_in_use_bytes %" PRIu64 "  # control blocks in use and the buffers they hold\n",
		tcp_mem);
	dump_one(out, "", &total);
	uint64_t busy = total.busy_cycles, all = busy + total.idle_cycles;

	if (all != 0)
		fprintf(out, "busy_percent %.1f\n", 100.0 * (double)busy / (double)all);
	if (busy != 0)
		fprintf(out, "busy_driver_percent %.1f  # of busy_cycles, inside rte_eth_rx_burst/tx_burst\n",
			100.0 * (double)(total.rx_burst_cycles + total.tx_burst_cycles) / (double)busy);
	fprintf(out, "tsc_hz %" PRIu64 "\n", rte_get_tsc_hz());
	if (!per_lcore)
		return;
	for (unsigned int i = 0; i < RTE_MAX_LCORE; i++) {
		char prefix[32];

		if (pc_lcores[i] == NULL)
			continue;
		snprintf(prefix, sizeof(prefix), "lcore%u.", i);
		dump_one(out, prefix, &pc_lcores[i]->cnt);
	}
}

void pc_dp_dump_connections(FILE *out)
{
	for (unsigned int i = 0; i < RTE_MAX_LCORE; i++) {
		if (pc_lcores[i] == NULL)
			continue;
		pc_tcp_dump(out, pc_lcores[i], i);
		pc_tcp_tw_dump(out, pc_lcores[i], i);
	}
}

bool pc_dp_worker_info(unsigned int i, struct pc_dp_worker_info *out)
{
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		const struct pc_lcore *lc = pc_lcores[l];

		if (lc == NULL || i-- != 0)
			continue;
		out->lcore = l;
		out->queue = lc->queue;
		out->busy_cycles = read_u64(&lc->cnt, offsetof(struct pc_counters, busy_cycles));
		out->idle_cycles = read_u64(&lc->cnt, offsetof(struct pc_counters, idle_cycles));
		out->rx_burst_cycles = read_u64(&lc->cnt, offsetof(struct pc_counters, rx_burst_cycles));
		out->tx_burst_cycles = read_u64(&lc->cnt, offsetof(struct pc_counters, tx_burst_cycles));
		out->sleeps = read_u64(&lc->cnt, offsetof(struct pc_counters, sleeps));
		out->rx_packets = read_u64(&lc->cnt, offsetof(struct pc_counters, rx_packets));
		out->tx_packets = read_u64(&lc->cnt, offsetof(struct pc_counters, tx_packets));
		out->tx_bursts = read_u64(&lc->cnt, offsetof(struct pc_counters, tx_bursts));
		out->conns = *(const volatile uint32_t *)&lc->tcp.nb_used;
		out->time_wait = *(const volatile uint32_t *)&lc->tcp.nb_time_wait;
		out->rings_in_use = *(const volatile uint32_t *)&lc->tcp.nb_rings_used;
		out->rings = lc->tcp.nb_rings;
		out->tcp_mem_bytes = (uint64_t)out->conns * sizeof(struct pc_tcb) +
				     (uint64_t)out->rings_in_use * pc_tcp_ring_size();
		return true;
	}
	return false;
}

_Static_assert(RTE_DIM(pc_stats) <= PC_DP_MAX_COUNTERS && PC_DROP__MAX <= PC_DP_MAX_COUNTERS,
	       "PC_DP_MAX_COUNTERS is too small for pc_stats.def or pc_errors.def");

const char *pc_dp_stat_name(unsigned int s, const char **help)
{
	if (s >= RTE_DIM(pc_stats))
		return NULL;
	*help = pc_stats[s].help;
	return pc_stats[s].name;
}

const char *pc_dp_drop_name(unsigned int d, const char **help)
{
	if (d >= PC_DROP__MAX)
		return NULL;
	*help = pc_drop_help[d];
	return pc_drop_names[d] + strlen("drop_");
}

bool pc_dp_worker_counters(unsigned int i, unsigned int *lcore,
			   uint64_t stats[PC_DP_MAX_COUNTERS], uint64_t drops[PC_DP_MAX_COUNTERS])
{
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		const struct pc_lcore *lc = pc_lcores[l];

		if (lc == NULL || i-- != 0)
			continue;
		*lcore = l;
		for (size_t s = 0; s < RTE_DIM(pc_stats); s++)
			stats[s] = read_u64(&lc->cnt, pc_stats[s].off);
		for (unsigned int d = 0; d < PC_DROP__MAX; d++)
			drops[d] = read_u64(&lc->cnt, drop_off(d));
		return true;
	}
	return false;
}
