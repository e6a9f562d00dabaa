// SPDX-License-Identifier: MIT
/*
 * Log-linear latency histogram (the HdrHistogram layout with 64 sub-buckets):
 * fixed memory, O(1) recording, merged across threads by adding buckets.
 * Any thread may use its own histogram; merging happens after the join.
 */
#include "hist.h"

static unsigned hist_index(uint64_t v)
{
	unsigned msb, shift;

	if (v < PL_HIST_SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - PL_HIST_SUB_BITS;
	return (shift + 1u) * PL_HIST_SUB + (unsigned)((v >> shift) & (PL_HIST_SUB - 1u));
}

/* Middle of bucket i: the value reported for a quantile that falls in it. */
static double hist_value(unsigned i)
{
	unsigned s = i / PL_HIST_SUB;
	uint64_t low, width;

	if (s == 0)
		return i;
	low = (uint64_t)(PL_HIST_SUB + i % PL_HIST_SUB) << (s - 1u);
	width = (uint64_t)1 << (s - 1u);
	return (double)low + (double)(width - 1u) / 2.0;
}

void pl_hist_record(struct pl_hist *h, uint64_t ns)
{
	h->buckets[hist_index(ns)]++;
	h->count++;
	h->sum_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

void pl_hist_merge(struct pl_hist *into, const struct pl_hist *from)
{
	unsigned i;

	for (i = 0; i < PL_HIST_BUCKETS; i++)
		into->buckets[i] += from->buckets[i];
	into->count += from->count;
	into->sum_ns += from->sum_ns;
	if (from->max_ns > into->max_ns)
		into->max_ns = from->max_ns;
}

double pl_hist_quantile(const struct pl_hist *h, double q)
{
	uint64_t rank, seen = 0;
	double v = (double)h->max_ns;
	unsigned i;

	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	if (rank == 0)
		rank = 1;
	for (i = 0; i < PL_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank) {
			v = hist_value(i);
			break;
		}
	}
	/* A bucket's middle can lie above the largest value recorded in it. */
	return v < (double)h->max_ns ? v : (double)h->max_ns;
}
