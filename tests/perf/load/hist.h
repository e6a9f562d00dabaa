// SPDX-License-Identifier: MIT
/* Shared by pc_load and pc_blast. Any thread may use its own histogram;
 * merging happens after the join. */
#ifndef PL_HIST_H
#define PL_HIST_H

#include <stdint.h>

/* Latency histogram: log-linear, 64 sub-buckets per power of two (error
 * below 1.6 %), exact below 64 ns, covering every uint64_t value in ns.
 * Fixed size, so threads record without allocating and merge by adding. */
#define PL_HIST_SUB_BITS 6
#define PL_HIST_SUB (1u << PL_HIST_SUB_BITS)
#define PL_HIST_BUCKETS ((64u - PL_HIST_SUB_BITS + 1u) * PL_HIST_SUB)

struct pl_hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t max_ns;
	uint64_t buckets[PL_HIST_BUCKETS];
};

void pl_hist_record(struct pl_hist *h, uint64_t ns);
void pl_hist_merge(struct pl_hist *into, const struct pl_hist *from);
/* Value at quantile q (0..1], ns; h->count must be > 0. */
double pl_hist_quantile(const struct pl_hist *h, double q);

#endif
