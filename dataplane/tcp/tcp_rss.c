/* SPDX-License-Identifier: MIT */
/*
 * Software Toeplitz hash (the RSS hash NICs compute), so that an active
 * open can pick a local port whose replies the device steers back to the
 * queue of the worker that opened the connection.
 */
#include "tcp.h"

uint32_t pc_toeplitz(const uint8_t *key, unsigned int key_len, const uint8_t *data,
		     unsigned int len)
{
	uint32_t result = 0;
	/* The 32-bit window of the key that lines up with the current bit. */
	uint32_t window = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 |
			  (uint32_t)key[2] << 8 | key[3];

	for (unsigned int i = 0; i < len; i++) {
		uint8_t next = i + 4 < key_len ? key[i + 4] : 0;

		for (int bit = 7; bit >= 0; bit--) {
			if (data[i] & (1u << bit))
				result ^= window;
			window = (window << 1) | ((next >> bit) & 1);
		}
	}
	return result;
}
