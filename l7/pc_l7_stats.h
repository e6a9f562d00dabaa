/* SPDX-License-Identifier: MIT */
/*
 * The L7 counters (l7_stats.def): one set per worker lcore, written only
 * by that worker (PC_L7_COUNT), summed by any thread on read (relaxed
 * loads of aligned 64-bit words).
 */
#ifndef PC_L7_STATS_H
#define PC_L7_STATS_H

#include <stdint.h>
#include <stdio.h>

#include <rte_common.h>
#include <rte_lcore.h>

struct pc_l7_counters {
#define PC_L7_STAT(name, help) uint64_t name;
#include "l7_stats.def"
#undef PC_L7_STAT
} __rte_cache_aligned;

extern struct pc_l7_counters pc_l7_counters[RTE_MAX_LCORE];

/* The calling worker's counters. */
static inline struct pc_l7_counters *pc_l7_cnt(void)
{
	return &pc_l7_counters[rte_lcore_id() % RTE_MAX_LCORE];
}

#define PC_L7_COUNT(name) (pc_l7_cnt()->name++)

/* For the metrics: the i-th counter's name and help, NULL past the last. */
#define PC_L7_MAX_COUNTERS 64
const char *pc_l7_stat_name(unsigned int i, const char **help);
/* Every counter summed over the workers, in l7_stats.def's order. */
void pc_l7_sums(uint64_t sum[PC_L7_MAX_COUNTERS]);
/* "l7_NAME value  # help" lines, as the other counter dumps. */
void pc_l7_dump_counters(FILE *out);

#endif
