/* SPDX-License-Identifier: MIT */
/* The L7 counters, summed over the workers (pc_l7_stats.h). */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "pc_l7_stats.h"

struct pc_l7_counters pc_l7_counters[RTE_MAX_LCORE];

static const struct {
	const char *name, *help;
	size_t off;
} l7_stats[] = {
#define PC_L7_STAT(name, help) {#name, help, offsetof(struct pc_l7_counters, name)},
#include "l7_stats.def"
#undef PC_L7_STAT
};
_Static_assert(RTE_DIM(l7_stats) <= PC_L7_MAX_COUNTERS, "PC_L7_MAX_COUNTERS: l7_stats.def");

const char *pc_l7_stat_name(unsigned int i, const char **help)
{
	if (i >= RTE_DIM(l7_stats))
		return NULL;
	*help = l7_stats[i].help;
	return l7_stats[i].name;
}

void pc_l7_sums(uint64_t sum[PC_L7_MAX_COUNTERS])
{
	memset(sum, 0, PC_L7_MAX_COUNTERS * sizeof(sum[0]));
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++)
		for (size_t i = 0; i < RTE_DIM(l7_stats); i++)
			sum[i] += __atomic_load_n((const uint64_t *)((const char *)&pc_l7_counters[l] +
								     l7_stats[i].off),
						  __ATOMIC_RELAXED);
}

void pc_l7_dump_counters(FILE *out)
{
	uint64_t sum[PC_L7_MAX_COUNTERS];

	pc_l7_sums(sum);
	for (size_t i = 0; i < RTE_DIM(l7_stats); i++)
		fprintf(out, "l7_%s %" PRIu64 "  # %s\n", l7_stats[i].name, sum[i], l7_stats[i].help);
}
