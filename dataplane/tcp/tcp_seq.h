/* SPDX-License-Identifier: MIT */
/* TCP sequence-number arithmetic (RFC 793 3.3): modulo 2^32 comparisons. */
#ifndef PC_TCP_SEQ_H
#define PC_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool seq_geq(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }
static inline uint32_t seq_max(uint32_t a, uint32_t b) { return seq_gt(a, b) ? a : b; }
static inline uint32_t seq_min(uint32_t a, uint32_t b) { return seq_lt(a, b) ? a : b; }

/* a <= s < b */
static inline bool seq_in(uint32_t s, uint32_t a, uint32_t b)
{
	return seq_geq(s, a) && seq_lt(s, b);
}

#endif
