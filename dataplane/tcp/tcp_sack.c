/* SPDX-License-Identifier: MIT */
/*
 * SACK scoreboard (RFC 2018, RFC 6675): the ranges above snd_una that the
 * peer reported received. Sorted, disjoint; at most PC_TCP_SACK_MAX (a
 * peer sends at most 3-4 blocks per ACK; older ranges that do not fit are
 * forgotten, which only costs a spurious retransmission).
 */
#include <string.h>

#include <rte_byteorder.h>

#include "tcp.h"

static void sack_insert(struct pc_tcb *c, uint32_t s, uint32_t e)
{
	struct pc_seq_range *r = c->sacked;
	unsigned int n = c->nb_sacked, i = 0;

	while (i < n && seq_lt(r[i].end, s))
		i++;
	if (i < n && seq_leq(r[i].start, e)) {
		r[i].start = seq_min(r[i].start, s);
		r[i].end = seq_max(r[i].end, e);
		unsigned int j = i + 1;

		while (j < n && seq_leq(r[j].start, r[i].end)) {
			r[i].end = seq_max(r[i].end, r[j].end);
			j++;
		}
		memmove(&r[i + 1], &r[j], (n - j) * sizeof(r[0]));
		c->nb_sacked = (uint8_t)(n - (j - i - 1));
		return;
	}
	if (n == PC_TCP_SACK_MAX) {
		if (i == n)
			return; /* keep the lowest ranges: they gate retransmission */
		n--;        /* forget the highest */
	}
	memmove(&r[i + 1], &r[i], (n - i) * sizeof(r[0]));
	r[i].start = s;
	r[i].end = e;
	c->nb_sacked = (uint8_t)(n + 1);
}

void pc_tcp_sack_update(struct pc_tcb *c, const uint8_t *blocks, unsigned int n)
{
	for (unsigned int b = 0; b < n; b++) {
		uint32_t s, e;

		memcpy(&s, blocks + 8 * b, 4);
		memcpy(&e, blocks + 8 * b + 4, 4);
		s = rte_be_to_cpu_32(s);
		e = rte_be_to_cpu_32(e);
		/* Ignore nonsense and D-SACKs below snd_una (RFC 2883). */
		if (!seq_lt(s, e) || seq_leq(e, c->snd_una) || seq_gt(e, c->snd_max))
			continue;
		sack_insert(c, seq_max(s, c->snd_una), e);
	}
}

void pc_tcp_sack_trim(struct pc_tcb *c)
{
	unsigned int k = 0;

	while (k < c->nb_sacked && seq_leq(c->sacked[k].end, c->snd_una))
		k++;
	if (k != 0) {
		memmove(&c->sacked[0], &c->sacked[k], (c->nb_sacked - k) * sizeof(c->sacked[0]));
		c->nb_sacked = (uint8_t)(c->nb_sacked - k);
	}
	if (c->nb_sacked != 0 && seq_lt(c->sacked[0].start, c->snd_una))
		c->sacked[0].start = c->snd_una;
}

bool pc_tcp_sack_is_sacked(const struct pc_tcb *c, uint32_t seq)
{
	for (unsigned int i = 0; i < c->nb_sacked; i++)
		if (seq_in(seq, c->sacked[i].start, c->sacked[i].end))
			return true;
	return false;
}

bool pc_tcp_sack_next_hole(const struct pc_tcb *c, uint32_t from, uint32_t *start,
			   uint32_t *len)
{
	/* Holes exist only below the highest SACKed byte. */
	for (unsigned int i = 0; i < c->nb_sacked; i++) {
		if (seq_geq(from, c->sacked[i].end))
			continue;
		if (seq_lt(from, c->sacked[i].start)) {
			*start = from;
			*len = c->sacked[i].start - from;
			return true;
		}
		from = c->sacked[i].end; /* inside a SACKed range: skip it */
	}
	return false;
}

uint32_t pc_tcp_sack_bytes(const struct pc_tcb *c)
{
	uint32_t t = 0;

	for (unsigned int i = 0; i < c->nb_sacked; i++)
		t += c->sacked[i].end - c->sacked[i].start;
	return t;
}
