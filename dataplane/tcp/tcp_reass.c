/* SPDX-License-Identifier: MIT */
/*
 * Out-of-order receive ranges. The bytes themselves are already in the
 * receive ring at their sequence position; this only remembers which
 * ranges above rcv_nxt are filled (sorted, disjoint, never adjacent).
 */
#include <string.h>

#include "tcp.h"

bool pc_tcp_ooo_add(struct pc_tcb *c, uint32_t s, uint32_t e)
{
	unsigned int n = c->nb_ooo, i = 0;

	/* Skip ranges wholly before s (not even adjacent). */
	while (i < n && seq_lt(c->ooo[i].end, s))
		i++;
	if (i < n && seq_leq(c->ooo[i].start, e)) {
		/* Overlaps or touches range i: grow it, then swallow the ones it
		 * now reaches. */
		c->ooo[i].start = seq_min(c->ooo[i].start, s);
		c->ooo[i].end = seq_max(c->ooo[i].end, e);
		unsigned int j = i + 1;

		while (j < n && seq_leq(c->ooo[j].start, c->ooo[i].end)) {
			c->ooo[i].end = seq_max(c->ooo[i].end, c->ooo[j].end);
			j++;
		}
		memmove(&c->ooo[i + 1], &c->ooo[j], (n - j) * sizeof(c->ooo[0]));
		c->nb_ooo = (uint8_t)(n - (j - i - 1));
		return true;
	}
	if (n == PC_TCP_OOO_MAX)
		return false;
	memmove(&c->ooo[i + 1], &c->ooo[i], (n - i) * sizeof(c->ooo[0]));
	c->ooo[i].start = s;
	c->ooo[i].end = e;
	c->nb_ooo = (uint8_t)(n + 1);
	return true;
}

void pc_tcp_ooo_merge(struct pc_tcb *c)
{
	unsigned int k = 0;

	while (k < c->nb_ooo && seq_leq(c->ooo[k].start, c->rcv_nxt)) {
		c->rcv_nxt = seq_max(c->rcv_nxt, c->ooo[k].end);
		k++;
	}
	if (k != 0) {
		memmove(&c->ooo[0], &c->ooo[k], (c->nb_ooo - k) * sizeof(c->ooo[0]));
		c->nb_ooo = (uint8_t)(c->nb_ooo - k);
	}
}
