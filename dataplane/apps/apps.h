/* SPDX-License-Identifier: MIT */
/*
 * Built-in TCP applications for tests and benchmarks (private to
 * dataplane/): echo, discard, and source N bytes of a known pattern.
 */
#ifndef PC_APPS_H
#define PC_APPS_H

#include <stdint.h>

#include "../tcp/tcp.h"

/* How many arguments the app named name takes, -1 if there is none. */
int pc_app_nb_args(const char *name);

/* The app named name, or NULL. */
const struct pc_tcp_app *pc_app_find(const char *name);

/* The byte at offset i of the source app's stream: a 64 KiB block from a
 * multiplicative hash, XORed with the block number, so that a misplaced,
 * repeated or missing block changes the stream's hash. */
static inline uint8_t pc_app_pattern(uint64_t i)
{
	uint32_t j = (uint32_t)(i & 0xffff);

	return (uint8_t)(((j * 2654435761u) >> 13) ^ (uint32_t)(i >> 16));
}

#endif
