/* SPDX-License-Identifier: MIT */
/*
 * The HTTP proxy (http_proxy.c, pc_l7_http_proxy in pc_l7.h): its
 * counters, for the L7 counter dump and the metrics.
 */
#ifndef PC_HTTP_PROXY_H
#define PC_HTTP_PROXY_H

#include <stdint.h>
#include <stdio.h>

enum pc_hp_stat {
#define PC_HP_STAT(name, help) PC_HP_STAT_##name,
#include "http_proxy_stats.def"
#undef PC_HP_STAT
	PC_HP_NB_STATS
};

/* The counter's name ("requests", ...) and help text. */
const char *pc_http_proxy_stat_name(unsigned int i, const char **help);
/* Each counter summed over the workers. Any thread. */
void pc_http_proxy_sums(uint64_t out[PC_HP_NB_STATS]);
/* "http_proxy_NAME VALUE  # help" lines. Any thread. */
void pc_http_proxy_dump_counters(FILE *out);

#endif
