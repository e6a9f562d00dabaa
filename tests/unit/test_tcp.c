/* SPDX-License-Identifier: MIT */
/*
 * TCP: the pure pieces on their own (sequence arithmetic, reassembly
 * ranges, SACK scoreboard, RTO, SYN cookies, SipHash, Toeplitz), then the
 * state machine driven through the real worker loop by a fake peer whose
 * segments are crafted here, checking field by field what portcullis
 * answers, which state the connection is in and which drop counter moves.
 * Expectations follow the RFCs (9293, 5961, 7323, 2018, 6298, 5681, 1122)
 * even where the implementation does not yet.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_ip.h>
#include <rte_tcp.h>

#include "apps/apps.h"
#include "harness.h"

#define SYN RTE_TCP_SYN_FLAG
#define ACK RTE_TCP_ACK_FLAG
#define FIN RTE_TCP_FIN_FLAG
#define RST RTE_TCP_RST_FLAG
#define PSH RTE_TCP_PSH_FLAG
#define URG RTE_TCP_URG_FLAG

#define H_PORT_CLOSED 80

/* ------------------------------------------------------------------ */
/* Sequence arithmetic (RFC 9293 3.4), modulo 2^32. */

struct seq_case {
	uint32_t a, b;
	bool lt, gt;
};

static const struct seq_case seq_cases[] = {
	{1, 2, true, false},
	{2, 1, false, true},
	{5, 5, false, false},
	{0, 0x7fffffff, true, false},
	{0xffffff00, 0x10, true, false},  /* across 2^32 */
	{0x10, 0xffffff00, false, true},
	{0xffffffff, 0, true, false},
	{0, 0xffffffff, false, true},
	{0x80000000, 0x7fffffff, false, true},
};

static void test_seq_arith(void **state)
{
	(void)state;
	for (size_t i = 0; i < RTE_DIM(seq_cases); i++) {
		const struct seq_case *c = &seq_cases[i];
		bool eq = c->a == c->b;

		if (seq_lt(c->a, c->b) != c->lt || seq_gt(c->a, c->b) != c->gt ||
		    seq_leq(c->a, c->b) != (c->lt || eq) || seq_geq(c->a, c->b) != (c->gt || eq))
			fail_msg("case %zu: %#x vs %#x", i, c->a, c->b);
		assert_int_equal(seq_max(c->a, c->b), c->lt ? c->b : c->a);
		assert_int_equal(seq_min(c->a, c->b), c->lt ? c->a : c->b);
	}
	/* seq_in is half-open, and works across the wrap. */
	assert_true(seq_in(0xfffffff0, 0xfffffff0, 0x10));
	assert_true(seq_in(0xffffffff, 0xfffffff0, 0x10));
	assert_true(seq_in(0, 0xfffffff0, 0x10));
	assert_true(seq_in(0xf, 0xfffffff0, 0x10));
	assert_false(seq_in(0x10, 0xfffffff0, 0x10));
	assert_false(seq_in(0xffffffef, 0xfffffff0, 0x10));
	assert_false(seq_in(5, 5, 5));
}

/* ------------------------------------------------------------------ */
/* Out-of-order ranges (tcp_reass.c), relative to a base that is tried
 * both far from and just below 2^32. */

static const uint32_t bases[] = {1000, 0xffffff80};

struct range {
	uint32_t s, e;
};

struct ooo_case {
	const char *name;
	struct range add[PC_TCP_OOO_MAX + 2];
	bool refused[PC_TCP_OOO_MAX + 2]; /* pc_tcp_ooo_add() must return false */
	unsigned int nb_add;
	struct range want[PC_TCP_OOO_MAX];
	unsigned int nb_want;
};

static const struct ooo_case ooo_cases[] = {
	{"one", {{100, 200}}, {0}, 1, {{100, 200}}, 1},
	{"before", {{300, 400}, {100, 200}}, {0}, 2, {{100, 200}, {300, 400}}, 2},
	{"after", {{100, 200}, {300, 400}}, {0}, 2, {{100, 200}, {300, 400}}, 2},
	{"between", {{100, 200}, {500, 600}, {300, 400}}, {0}, 3,
	 {{100, 200}, {300, 400}, {500, 600}}, 3},
	{"overlaps the start", {{200, 300}, {150, 250}}, {0}, 2, {{150, 300}}, 1},
	{"overlaps the end", {{200, 300}, {250, 350}}, {0}, 2, {{200, 350}}, 1},
	{"adjacent below", {{200, 300}, {100, 200}}, {0}, 2, {{100, 300}}, 1},
	{"adjacent above", {{200, 300}, {300, 400}}, {0}, 2, {{200, 400}}, 1},
	{"inside one", {{100, 400}, {200, 300}}, {0}, 2, {{100, 400}}, 1},
	{"duplicate", {{100, 400}, {100, 400}}, {0}, 2, {{100, 400}}, 1},
	{"covers several", {{100, 150}, {200, 250}, {300, 350}, {500, 600}, {90, 400}}, {0}, 5,
	 {{90, 400}, {500, 600}}, 2},
	{"bridges two", {{100, 200}, {300, 400}, {200, 300}}, {0}, 3, {{100, 400}}, 1},
	{"bridges two, overlapping", {{100, 200}, {300, 400}, {150, 350}}, {0}, 3,
	 {{100, 400}}, 1},
	{"full: a ninth range is refused",
	 {{100, 110}, {200, 210}, {300, 310}, {400, 410}, {500, 510}, {600, 610}, {700, 710},
	  {800, 810}, {900, 910}},
	 {[8] = true},
	 9,
	 {{100, 110}, {200, 210}, {300, 310}, {400, 410}, {500, 510}, {600, 610}, {700, 710},
	  {800, 810}},
	 8},
	{"full: a range between two is refused",
	 {{100, 110}, {200, 210}, {300, 310}, {400, 410}, {500, 510}, {600, 610}, {700, 710},
	  {800, 810}, {150, 160}},
	 {[8] = true},
	 9,
	 {{100, 110}, {200, 210}, {300, 310}, {400, 410}, {500, 510}, {600, 610}, {700, 710},
	  {800, 810}},
	 8},
	{"full: growing a range still works",
	 {{100, 110}, {200, 210}, {300, 310}, {400, 410}, {500, 510}, {600, 610}, {700, 710},
	  {800, 810}, {805, 850}, {110, 120}},
	 {0},
	 10,
	 {{100, 120}, {200, 210}, {300, 310}, {400, 410}, {500, 510}, {600, 610}, {700, 710},
	  {800, 850}},
	 8},
	{"full: bridging frees a slot",
	 {{100, 110}, {200, 210}, {300, 310}, {400, 410}, {500, 510}, {600, 610}, {700, 710},
	  {800, 810}, {105, 205}, {900, 910}},
	 {0},
	 10,
	 {{100, 210}, {300, 310}, {400, 410}, {500, 510}, {600, 610}, {700, 710}, {800, 810},
	  {900, 910}},
	 8},
};

static void test_ooo_add(void **state)
{
	(void)state;
	for (size_t b = 0; b < RTE_DIM(bases); b++) {
		uint32_t base = bases[b];

		for (size_t i = 0; i < RTE_DIM(ooo_cases); i++) {
			const struct ooo_case *oc = &ooo_cases[i];
			struct pc_tcb c;

			memset(&c, 0, sizeof(c));
			c.rcv_nxt = base;
			for (unsigned int k = 0; k < oc->nb_add; k++)
				if (pc_tcp_ooo_add(&c, base + oc->add[k].s, base + oc->add[k].e) ==
				    oc->refused[k])
					fail_msg("%s (base %#x): add #%u returned %s", oc->name,
						 base, k, oc->refused[k] ? "true" : "false");
			if (c.nb_ooo != oc->nb_want)
				fail_msg("%s (base %#x): %u ranges, want %u", oc->name, base,
					 c.nb_ooo, oc->nb_want);
			for (unsigned int k = 0; k < oc->nb_want; k++)
				if (c.ooo[k].start != base + oc->want[k].s ||
				    c.ooo[k].end != base + oc->want[k].e)
					fail_msg("%s (base %#x): range %u is [%u, %u), "
						 "want [%u, %u)",
						 oc->name, base, k, c.ooo[k].start - base,
						 c.ooo[k].end - base, oc->want[k].s, oc->want[k].e);
			assert_int_equal(c.rcv_nxt, base); /* adding never moves rcv_nxt */
		}
	}
}

struct merge_case {
	const char *name;
	uint32_t rcv_nxt;              /* relative to the base */
	struct range have[3];
	unsigned int nb_have;
	uint32_t want_nxt;
	unsigned int nb_left;          /* the last nb_left of have[] remain */
};

static const struct merge_case merge_cases[] = {
	{"nothing contiguous", 0, {{100, 200}}, 1, 0, 1},
	{"first range starts at rcv_nxt", 100, {{100, 200}, {300, 400}}, 2, 200, 1},
	{"first range overlaps rcv_nxt", 150, {{100, 200}, {300, 400}}, 2, 200, 1},
	{"range wholly below rcv_nxt", 250, {{100, 200}, {300, 400}}, 2, 250, 1},
	{"two below, then contiguous", 300, {{100, 150}, {200, 250}, {280, 400}}, 3, 400, 0},
	{"all consumed", 100, {{100, 200}}, 1, 200, 0},
};

static void test_ooo_merge(void **state)
{
	(void)state;
	for (size_t b = 0; b < RTE_DIM(bases); b++) {
		uint32_t base = bases[b];

		for (size_t i = 0; i < RTE_DIM(merge_cases); i++) {
			const struct merge_case *mc = &merge_cases[i];
			struct pc_tcb c;

			memset(&c, 0, sizeof(c));
			c.rcv_nxt = base + mc->rcv_nxt;
			for (unsigned int k = 0; k < mc->nb_have; k++) {
				c.ooo[k].start = base + mc->have[k].s;
				c.ooo[k].end = base + mc->have[k].e;
			}
			c.nb_ooo = (uint8_t)mc->nb_have;
			pc_tcp_ooo_merge(&c);
			if (c.rcv_nxt != base + mc->want_nxt || c.nb_ooo != mc->nb_left)
				fail_msg("%s (base %#x): rcv_nxt +%u with %u ranges, "
					 "want +%u with %u",
					 mc->name, base, c.rcv_nxt - base, c.nb_ooo, mc->want_nxt,
					 mc->nb_left);
			for (unsigned int k = 0; k < mc->nb_left; k++) {
				const struct range *r = &mc->have[mc->nb_have - mc->nb_left + k];

				assert_int_equal(c.ooo[k].start, base + r->s);
				assert_int_equal(c.ooo[k].end, base + r->e);
			}
		}
	}
}

/* ------------------------------------------------------------------ */
/* SACK scoreboard (tcp_sack.c): blocks as they come in the option, in
 * network order; snd_una = base, snd_max = base + 10000. */

struct sack_case {
	const char *name;
	struct range blocks[PC_TCP_SACK_MAX + 2]; /* one update per block */
	unsigned int nb_blocks;
	struct range want[PC_TCP_SACK_MAX];
	unsigned int nb_want;
};

#define SND_SPAN 10000

static const struct sack_case sack_cases[] = {
	{"one block", {{1000, 2000}}, 1, {{1000, 2000}}, 1},
	{"two, out of order", {{3000, 4000}, {1000, 2000}}, 2, {{1000, 2000}, {3000, 4000}}, 2},
	{"adjacent blocks merge", {{1000, 2000}, {2000, 3000}}, 2, {{1000, 3000}}, 1},
	{"overlapping blocks merge", {{1000, 2000}, {1500, 2500}}, 2, {{1000, 2500}}, 1},
	{"one block covers two", {{1000, 2000}, {3000, 4000}, {500, 4500}}, 3, {{500, 4500}}, 1},
	{"D-SACK of SACKed data changes nothing", {{1000, 2000}, {1200, 1300}}, 2,
	 {{1000, 2000}}, 1},
	{"start == end is ignored", {{1000, 1000}}, 1, {{0, 0}}, 0},
	{"start > end is ignored", {{2000, 1000}}, 1, {{0, 0}}, 0},
	{"beyond snd_max is ignored", {{9000, SND_SPAN + 1}}, 1, {{0, 0}}, 0},
	{"up to snd_max is kept", {{9000, SND_SPAN}}, 1, {{9000, SND_SPAN}}, 1},
	{"D-SACK below snd_una is ignored", {{(uint32_t)-2000, (uint32_t)-1000}}, 1, {{0, 0}}, 0},
	{"ending at snd_una is ignored", {{(uint32_t)-1000, 0}}, 1, {{0, 0}}, 0},
	{"straddling snd_una is clipped", {{(uint32_t)-500, 500}}, 1, {{0, 500}}, 1},
	{"full: the highest are kept out",
	 {{100, 200}, {300, 400}, {500, 600}, {700, 800}, {900, 1000}, {1100, 1200},
	  {1300, 1400}, {1500, 1600}, {1700, 1800}},
	 9,
	 {{100, 200}, {300, 400}, {500, 600}, {700, 800}, {900, 1000}, {1100, 1200},
	  {1300, 1400}, {1500, 1600}},
	 8},
	{"full: a lower block pushes out the highest",
	 {{300, 400}, {500, 600}, {700, 800}, {900, 1000}, {1100, 1200}, {1300, 1400},
	  {1500, 1600}, {1700, 1800}, {100, 200}},
	 9,
	 {{100, 200}, {300, 400}, {500, 600}, {700, 800}, {900, 1000}, {1100, 1200},
	  {1300, 1400}, {1500, 1600}},
	 8},
};

static void put_block(uint8_t *b, uint32_t s, uint32_t e)
{
	uint32_t ns = rte_cpu_to_be_32(s), ne = rte_cpu_to_be_32(e);

	memcpy(b, &ns, 4);
	memcpy(b + 4, &ne, 4);
}

static void sack_init(struct pc_tcb *c, uint32_t base)
{
	memset(c, 0, sizeof(*c));
	c->snd_una = base;
	c->snd_max = base + SND_SPAN;
	c->snd_nxt = c->snd_max;
}

static void test_sack_update(void **state)
{
	(void)state;
	for (size_t b = 0; b < RTE_DIM(bases); b++) {
		uint32_t base = bases[b];

		for (size_t i = 0; i < RTE_DIM(sack_cases); i++) {
			const struct sack_case *sc = &sack_cases[i];
			struct pc_tcb c;
			uint32_t bytes = 0;

			sack_init(&c, base);
			for (unsigned int k = 0; k < sc->nb_blocks; k++) {
				uint8_t blk[8];

				put_block(blk, base + sc->blocks[k].s, base + sc->blocks[k].e);
				pc_tcp_sack_update(&c, blk, 1);
			}
			if (c.nb_sacked != sc->nb_want)
				fail_msg("%s (base %#x): %u ranges, want %u", sc->name, base,
					 c.nb_sacked, sc->nb_want);
			for (unsigned int k = 0; k < sc->nb_want; k++) {
				if (c.sacked[k].start != base + sc->want[k].s ||
				    c.sacked[k].end != base + sc->want[k].e)
					fail_msg("%s (base %#x): range %u is [%d, %d), "
						 "want [%d, %d)",
						 sc->name, base, k, (int)(c.sacked[k].start - base),
						 (int)(c.sacked[k].end - base), (int)sc->want[k].s,
						 (int)sc->want[k].e);
				bytes += sc->want[k].e - sc->want[k].s;
			}
			assert_int_equal(pc_tcp_sack_bytes(&c), bytes);
		}
	}
}

static void test_sack_queries(void **state)
{
	(void)state;
	for (size_t b = 0; b < RTE_DIM(bases); b++) {
		uint32_t base = bases[b], start, len;
		struct pc_tcb c;
		uint8_t blk[16];

		sack_init(&c, base);
		assert_false(pc_tcp_sack_next_hole(&c, base, &start, &len)); /* nothing SACKed */
		/* Several blocks in one option, highest first as receivers send. */
		put_block(blk, base + 3000, base + 4000);
		put_block(blk + 8, base + 1000, base + 2000);
		pc_tcp_sack_update(&c, blk, 2);
		assert_int_equal(c.nb_sacked, 2);
		assert_int_equal(pc_tcp_sack_bytes(&c), 2000);

		assert_false(pc_tcp_sack_is_sacked(&c, base + 999));
		assert_true(pc_tcp_sack_is_sacked(&c, base + 1000));
		assert_true(pc_tcp_sack_is_sacked(&c, base + 1999));
		assert_false(pc_tcp_sack_is_sacked(&c, base + 2000));
		assert_true(pc_tcp_sack_is_sacked(&c, base + 3500));
		assert_false(pc_tcp_sack_is_sacked(&c, base + 4000));

		/* Holes: below the first block, between the two, none above. */
		assert_true(pc_tcp_sack_next_hole(&c, base, &start, &len));
		assert_int_equal(start, base);
		assert_int_equal(len, 1000);
		assert_true(pc_tcp_sack_next_hole(&c, base + 500, &start, &len));
		assert_int_equal(start, base + 500);
		assert_int_equal(len, 500);
		assert_true(pc_tcp_sack_next_hole(&c, base + 1000, &start, &len));
		assert_int_equal(start, base + 2000);
		assert_int_equal(len, 1000);
		assert_true(pc_tcp_sack_next_hole(&c, base + 1500, &start, &len));
		assert_int_equal(start, base + 2000);
		assert_true(pc_tcp_sack_next_hole(&c, base + 2500, &start, &len));
		assert_int_equal(start, base + 2500);
		assert_int_equal(len, 500);
		assert_false(pc_tcp_sack_next_hole(&c, base + 3000, &start, &len));
		assert_false(pc_tcp_sack_next_hole(&c, base + 4000, &start, &len));

		/* The cumulative ACK moves: ranges below go, one it cuts is cut. */
		c.snd_una = base + 1500;
		pc_tcp_sack_trim(&c);
		assert_int_equal(c.nb_sacked, 2);
		assert_int_equal(c.sacked[0].start, base + 1500);
		assert_int_equal(c.sacked[0].end, base + 2000);
		c.snd_una = base + 2500;
		pc_tcp_sack_trim(&c);
		assert_int_equal(c.nb_sacked, 1);
		assert_int_equal(c.sacked[0].start, base + 3000);
		c.snd_una = base + 4000;
		pc_tcp_sack_trim(&c);
		assert_int_equal(c.nb_sacked, 0);
		assert_int_equal(pc_tcp_sack_bytes(&c), 0);
	}
}

/* ------------------------------------------------------------------ */
/* RTO (RFC 6298 2): SRTT, RTTVAR, RTO = SRTT + max(G, 4 RTTVAR) with a
 * 1 ms clock, rounded up to ms and clamped to [rto_min, rto_max]. */

struct rtt_case {
	const char *name;
	uint32_t samples[3]; /* microseconds; 0 ends the list */
	uint32_t rto_min_ms, rto_max_ms;
	uint32_t srtt_us, rttvar_us, rto_ms;
};

static const struct rtt_case rtt_cases[] = {
	{"first sample", {100000}, 200, 60000, 100000, 50000, 300},
	{"second sample, larger", {100000, 200000}, 200, 60000, 112500, 62500, 363},
	{"second sample, smaller", {200000, 100000}, 200, 60000, 187500, 100000, 588},
	{"tiny sample: rto_min", {1000}, 200, 60000, 1000, 500, 200},
	{"tiny sample, rto_min 1: clock granularity", {1000}, 1, 60000, 1000, 500, 3},
	{"G dominates 4 RTTVAR", {400}, 1, 60000, 400, 200, 2},
	{"huge sample: rto_max", {30000000}, 200, 60000, 30000000, 15000000, 60000},
	{"lower rto_max", {100000}, 200, 250, 100000, 50000, 250},
	{"three samples", {100000, 100000, 100000}, 1, 60000, 100000, 28125, 213},
};

static void test_rtt(void **state)
{
	struct pc_tcp_cfg saved = pc_tcp_cfg;

	(void)state;
	for (size_t i = 0; i < RTE_DIM(rtt_cases); i++) {
		const struct rtt_case *rc = &rtt_cases[i];
		struct pc_tcb c;

		memset(&c, 0, sizeof(c));
		pc_tcp_cfg.set.rto_min_ms = rc->rto_min_ms;
		pc_tcp_cfg.set.rto_max_ms = rc->rto_max_ms;
		for (size_t k = 0; k < RTE_DIM(rc->samples) && rc->samples[k] != 0; k++)
			pc_tcp_rtt_sample(&c, rc->samples[k]);
		if (c.srtt_us != rc->srtt_us || c.rttvar_us != rc->rttvar_us ||
		    c.rto_ms != rc->rto_ms)
			fail_msg("%s: srtt %u rttvar %u rto %u ms, want %u %u %u", rc->name,
				 c.srtt_us, c.rttvar_us, c.rto_ms, rc->srtt_us, rc->rttvar_us,
				 rc->rto_ms);
	}
	pc_tcp_cfg = saved;
}

/* ------------------------------------------------------------------ */
/* SYN cookies and the hash under them. */

static const struct pc_tcp_key cookie_key = {
	.laddr = 0x010012c6, /* 198.18.0.1, network order on little-endian */
	.raddr = 0x020012c6,
	.lport = 0x0700,
	.rport = 0x409c,
};

static void test_cookie_mss(void **state)
{
	static const struct {
		uint16_t offered, encoded;
	} mss_cases[] = {
		/* every bucket round-trips exactly */
		{216, 216}, {536, 536}, {1200, 1200}, {1220, 1220},
		{1360, 1360}, {1400, 1400}, {1440, 1440}, {1460, 1460},
		/* in between: the bucket below, never more than offered */
		{1000, 536}, {1210, 1200}, {1300, 1220}, {1459, 1440}, {9000, 1460},
	};

	(void)state;
	for (size_t i = 0; i < RTE_DIM(mss_cases); i++) {
		uint16_t out = 0, back = 0;
		uint32_t isn = 0x12345678u + (uint32_t)i * 0x01010101u;
		uint32_t cookie = pc_tcp_cookie_make(&cookie_key, isn, mss_cases[i].offered, &out);

		if (out != mss_cases[i].encoded)
			fail_msg("MSS %u encoded as %u, want %u", mss_cases[i].offered, out,
				 mss_cases[i].encoded);
		assert_int_equal(pc_tcp_cookie_check(&cookie_key, isn, cookie, &back), 0);
		assert_int_equal(back, mss_cases[i].encoded);
	}
}

static void test_cookie_tamper(void **state)
{
	const uint32_t isn = 0xfedcba98;
	uint16_t mss;
	uint32_t cookie = pc_tcp_cookie_make(&cookie_key, isn, 1460, &mss);
	struct pc_tcp_key k;

	(void)state;
	assert_int_equal(pc_tcp_cookie_check(&cookie_key, isn, cookie, &mss), 0);
	/* Any bit of the cookie, the MSS index included: the cookie vouches
	 * for everything it encodes. */
	for (unsigned int bit = 0; bit < 32; bit++)
		if (pc_tcp_cookie_check(&cookie_key, isn, cookie ^ (1u << bit), &mss) == 0)
			fail_msg("cookie with bit %u flipped accepted (MSS %u)", bit, mss);
	assert_int_not_equal(pc_tcp_cookie_check(&cookie_key, isn + 1, cookie, &mss), 0);
	assert_int_not_equal(pc_tcp_cookie_check(&cookie_key, isn - 1, cookie, &mss), 0);
	k = cookie_key;
	k.laddr ^= 0x01000000;
	assert_int_not_equal(pc_tcp_cookie_check(&k, isn, cookie, &mss), 0);
	k = cookie_key;
	k.raddr ^= 0x01000000;
	assert_int_not_equal(pc_tcp_cookie_check(&k, isn, cookie, &mss), 0);
	k = cookie_key;
	k.lport ^= 0x0100;
	assert_int_not_equal(pc_tcp_cookie_check(&k, isn, cookie, &mss), 0);
	k = cookie_key;
	k.rport ^= 0x0100;
	assert_int_not_equal(pc_tcp_cookie_check(&k, isn, cookie, &mss), 0);
	/* Another key (a restarted process) knows none of the old cookies. */
	struct pc_tcp_cfg saved = pc_tcp_cfg;

	pc_tcp_cfg.siphash_key[0] ^= 1;
	assert_int_not_equal(pc_tcp_cookie_check(&cookie_key, isn, cookie, &mss), 0);
	pc_tcp_cfg = saved;
}

/* SipHash-2-4, key 00..0f, message 00..(len-1): the reference vectors
 * (Aumasson and Bernstein, vectors.h; len 15 is the paper's appendix). */
static void test_siphash(void **state)
{
	static const struct {
		size_t len;
		uint64_t want;
	} vec[] = {
		{0, 0x726fdb47dd0e0e31ULL},  {1, 0x74f839c593dc67fdULL},
		{7, 0xab0200f58b01d137ULL},  {8, 0x93f5f5799a932462ULL},
		{9, 0x9e0082df0ba9e4b0ULL},  {15, 0xa129ca6149be45e5ULL},
		{16, 0x3f2acc7f57c29bdbULL}, {63, 0x958a324ceb064572ULL},
	};
	uint8_t key[16], msg[64];

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (size_t i = 0; i < RTE_DIM(vec); i++) {
		uint64_t h = pc_siphash(key, msg, vec[i].len);

		if (h != vec[i].want)
			fail_msg("length %zu: %#" PRIx64 ", want %#" PRIx64, vec[i].len, h,
				 vec[i].want);
	}
}

/* Toeplitz with Microsoft's RSS verification suite (the key and IPv4
 * vectors also in the Intel 82599 datasheet 7.1.2.8.3): input is source
 * address, destination address, source port, destination port. */
static void test_toeplitz(void **state)
{
	static const uint8_t key[40] = {
		0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
		0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
		0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
	};
	static const struct {
		uint8_t src[4], dst[4];
		uint16_t sport, dport;
		uint32_t ip, ip_tcp;
	} vec[] = {
		{{66, 9, 149, 187}, {161, 142, 100, 80}, 2794, 1766, 0x323e8fc2, 0x51ccc178},
		{{199, 92, 111, 2}, {65, 69, 140, 83}, 14230, 4739, 0xd718262a, 0xc626b0ea},
		{{24, 19, 198, 95}, {12, 22, 207, 184}, 12898, 38024, 0xd2d0a5de, 0x5c2b394a},
		{{38, 27, 205, 30}, {209, 142, 163, 6}, 48228, 2217, 0x82989176, 0xafc7327f},
		{{153, 39, 163, 191}, {202, 188, 127, 2}, 44251, 1303, 0x5d1809c5, 0x10e828a2},
	};

	(void)state;
	for (size_t i = 0; i < RTE_DIM(vec); i++) {
		uint8_t in[12];

		memcpy(in, vec[i].src, 4);
		memcpy(in + 4, vec[i].dst, 4);
		in[8] = (uint8_t)(vec[i].sport >> 8);
		in[9] = (uint8_t)vec[i].sport;
		in[10] = (uint8_t)(vec[i].dport >> 8);
		in[11] = (uint8_t)vec[i].dport;
		assert_int_equal(pc_toeplitz(key, sizeof(key), in, 8), vec[i].ip);
		assert_int_equal(pc_toeplitz(key, sizeof(key), in, 12), vec[i].ip_tcp);
	}
}

/* The checksum's sum over a piece of the send ring equals the sum over the
 * same bytes laid flat: across the wrap, with first pieces of odd and even
 * length, and all bytes 0xff (the sums' carries). */
static void test_ring_sum(void **state)
{
	enum { RING = 4096 };
	static uint8_t ring[RING], flat[3 * RING / 2];
	static const uint32_t lens[] = {0, 1, 2, 3, 1447, 1448, 2049, RING};

	(void)state;
	for (int fill = 0; fill < 2; fill++) {
		for (size_t i = 0; i < RING; i++)
			ring[i] = fill ? 0xff : (uint8_t)(i * 131 + 17);
		for (uint32_t k = 0; k < 2 * RING; k += 331) {
			uint32_t seq = 0xfffff000u + k; /* and across 2^32 */

			for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
				for (int odd = 0; odd < 2; odd++) {
					/* odd: the wrap splits the piece after an odd count */
					uint32_t s = seq + (uint32_t)odd, n = lens[l];

					pc_tcp_ring_get(ring, RING - 1, s, flat, n);
					assert_int_equal(pc_tcp_ring_sum(ring, RING - 1, s, n),
							 rte_raw_cksum(flat, n));
				}
			}
		}
		/* ends exactly at, and starts exactly at, the wrap */
		pc_tcp_ring_get(ring, RING - 1, RING - 1447, flat, 1447);
		assert_int_equal(pc_tcp_ring_sum(ring, RING - 1, RING - 1447, 1447),
				 rte_raw_cksum(flat, 1447));
		pc_tcp_ring_get(ring, RING - 1, RING, flat, 1447);
		assert_int_equal(pc_tcp_ring_sum(ring, RING - 1, RING, 1447), rte_raw_cksum(flat, 1447));
	}
}

/* ------------------------------------------------------------------ */
/* The fake peer. */

/* Options of a segment we sent, which must be well-formed. */
struct parsed_opts {
	int mss, ws;
	bool sack_ok, ts;
	uint32_t tsval, tsecr;
	unsigned int nb_sack;
	uint32_t sack[4][2];
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void parse_opts(const struct h_tcp *t, struct parsed_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mss = -1;
	o->ws = -1;
	for (unsigned int i = 0; i < t->optlen;) {
		const uint8_t *p = t->opts + i;

		if (p[0] == 0)
			break;
		if (p[0] == 1) {
			i++;
			continue;
		}
		assert_true(i + 1 < t->optlen && p[1] >= 2 && i + p[1] <= t->optlen);
		switch (p[0]) {
		case 2:
			assert_int_equal(p[1], 4);
			o->mss = p[2] << 8 | p[3];
			break;
		case 3:
			assert_int_equal(p[1], 3);
			o->ws = p[2];
			break;
		case 4:
			assert_int_equal(p[1], 2);
			o->sack_ok = true;
			break;
		case 5:
			assert_int_equal((p[1] - 2) % 8, 0);
			o->nb_sack = (p[1] - 2u) / 8;
			assert_true(o->nb_sack <= 4);
			for (unsigned int b = 0; b < o->nb_sack; b++) {
				o->sack[b][0] = be32(p + 2 + 8 * b);
				o->sack[b][1] = be32(p + 6 + 8 * b);
			}
			break;
		case 8:
			assert_int_equal(p[1], 10);
			o->ts = true;
			o->tsval = be32(p + 2);
			o->tsecr = be32(p + 6);
			break;
		default:
			fail_msg("we sent option kind %u", p[0]);
		}
		i += p[1];
	}
}

struct peer {
	uint32_t addr;
	uint16_t port;      /* the peer's */
	uint16_t dport;     /* ours */
	uint32_t nxt;       /* the peer's next sequence number (what we must ack) */
	uint32_t our_iss;
	uint32_t our_nxt;   /* one past the highest sequence number we sent */
	uint16_t win;
	bool ts;            /* the peer sends timestamps after the SYN */
	uint32_t tsval;
	uint32_t tsecr;     /* the last TSval we sent */
	const uint8_t *syn_opts;
	uint8_t syn_optlen;
};

/* MSS 1460, SACK permitted, timestamps; no window scaling. */
static const uint8_t syn_opts_std[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0};
/* MSS 1460 only. */
static const uint8_t syn_opts_mss[] = {2, 4, 0x05, 0xb4};

static uint16_t next_peer_port = 40000;

static void peer_init(struct peer *p, uint16_t dport, uint32_t iss, const uint8_t *syn_opts,
		      uint8_t syn_optlen)
{
	memset(p, 0, sizeof(*p));
	p->addr = H_PEER;
	p->port = next_peer_port++;
	p->dport = dport;
	p->nxt = iss;
	p->win = 65535;
	p->tsval = 1000000;
	p->syn_opts = syn_opts;
	p->syn_optlen = syn_optlen;
	for (uint8_t i = 0; i + 1 < syn_optlen; i += syn_opts[i] <= 1 ? 1 : syn_opts[i + 1])
		if (syn_opts[i] == 8)
			p->ts = true;
	h_arp_learn(p->addr, &h_peer_mac);
}

/* The peer sends a segment: options are the SYN's on a SYN, else the
 * timestamp if in use, then extra (a multiple of 4 bytes). */
static uint16_t peer_frame(struct peer *p, uint8_t *b, uint8_t flags, uint32_t seq,
			   uint32_t ack, const uint8_t *data, uint16_t len, const uint8_t *extra,
			   uint8_t extralen)
{
	uint8_t opts[40];
	uint8_t n = 0;

	if (flags & SYN) {
		memcpy(opts, p->syn_opts, p->syn_optlen);
		n = p->syn_optlen;
		/* The SYN's timestamp is the peer's clock too. */
		for (uint8_t i = 0; i + 1 < n; i += opts[i] <= 1 ? 1 : opts[i + 1])
			if (opts[i] == 8) {
				uint32_t v = rte_cpu_to_be_32(p->tsval++);

				memcpy(opts + i + 2, &v, 4);
			}
	} else if (p->ts) {
		uint32_t v = rte_cpu_to_be_32(p->tsval++), e = rte_cpu_to_be_32(p->tsecr);

		opts[0] = 1;
		opts[1] = 1;
		opts[2] = 8;
		opts[3] = 10;
		memcpy(opts + 4, &v, 4);
		memcpy(opts + 8, &e, 4);
		n = 12;
	}
	assert_true(n + extralen <= 40);
	if (extralen != 0)
		memcpy(opts + n, extra, extralen);
	n = (uint8_t)(n + extralen);
	struct h_tcp t = {
		.src = p->addr,
		.dst = H_ADDR,
		.sport = p->port,
		.dport = p->dport,
		.seq = seq,
		.ack = (flags & ACK) ? ack : 0,
		.flags = flags,
		.win = p->win,
		.opts = opts,
		.optlen = n,
		.data = data,
		.len = len,
	};

	return h_build_tcp(b, &t);
}

static void peer_tx(struct peer *p, uint8_t flags, uint32_t seq, uint32_t ack,
		    const uint8_t *data, uint16_t len, const uint8_t *extra, uint8_t extralen)
{
	uint8_t b[2048];

	h_inject(b, peer_frame(p, b, flags, seq, ack, data, len, extra, extralen));
	h_run();
}

static uint32_t seg_space(uint8_t flags, uint32_t len)
{
	return len + ((flags & SYN) ? 1 : 0) + ((flags & FIN) ? 1 : 0);
}

/* The next in-order segment, acknowledging all we sent. */
static void peer_send(struct peer *p, uint8_t flags, const uint8_t *data, uint16_t len)
{
	uint32_t seq = p->nxt;

	p->nxt += seg_space(flags, len);
	peer_tx(p, flags, seq, p->our_nxt, data, len, NULL, 0);
}

/* The next frame we sent: a well-formed TCP segment to this peer (or
 * false when there is none); tracks our sequence space and timestamp. */
static bool peer_rx(struct peer *p, struct h_frame *f, struct h_tcp *t)
{
	if (!h_take(f))
		return false;
	if (h_parse_tcp(f, t) != 0)
		fail_msg("sent a frame that is not well-formed TCP from us");
	assert_int_equal(t->dst, p->addr);
	assert_int_equal(t->dport, p->port);
	assert_int_equal(t->sport, p->dport);
	if ((t->flags & (SYN | ACK)) == (SYN | ACK) && p->our_nxt == 0) {
		p->our_iss = t->seq;
		p->our_nxt = t->seq;
	}
	if (!(t->flags & RST) && seq_gt(t->seq + seg_space(t->flags, t->len), p->our_nxt))
		p->our_nxt = t->seq + seg_space(t->flags, t->len);
	struct parsed_opts o;

	parse_opts(t, &o);
	if (o.ts)
		p->tsecr = o.tsval;
	return true;
}

static const char *flag_str(uint8_t f)
{
	static char s[8][32];
	static unsigned int k;
	char *b = s[k++ % 8];

	snprintf(b, 32, "%s%s%s%s%s%s", f & SYN ? "S" : "", f & ACK ? "A" : "",
		 f & FIN ? "F" : "", f & RST ? "R" : "", f & PSH ? "P" : "", f == 0 ? "-" : "");
	return b;
}

/* Take one segment with exactly these flags. */
static void expect(struct peer *p, uint8_t flags, struct h_tcp *t, struct h_frame *f)
{
	if (!peer_rx(p, f, t))
		fail_msg("expected a %s segment, nothing was sent", flag_str(flags));
	if (t->flags != flags)
		fail_msg("expected a %s segment, got %s seq +%u ack %u len %u", flag_str(flags),
			 flag_str(t->flags), t->seq - p->our_iss, t->ack, t->len);
}

static void expect_nothing(void)
{
	struct h_frame f;
	struct h_tcp t;

	if (h_take(&f)) {
		if (h_parse_tcp(&f, &t) == 0)
			fail_msg("unexpected %s segment seq %u ack %u len %u", flag_str(t.flags),
				 t.seq, t.ack, t.len);
		fail_msg("unexpected frame of %u bytes", f.len);
	}
}

static struct pc_tcp_key key_of(const struct peer *p)
{
	return (struct pc_tcp_key){
		.laddr = rte_cpu_to_be_32(H_ADDR),
		.raddr = rte_cpu_to_be_32(p->addr),
		.lport = rte_cpu_to_be_16(p->dport),
		.rport = rte_cpu_to_be_16(p->port),
	};
}

static struct pc_tcb *tcb_of(const struct peer *p)
{
	struct pc_tcp_key k = key_of(p);

	return pc_tcp_lookup(h_lc, &k);
}

/* The connection's state, in the connection table or in the compact
 * FIN_WAIT_2/TIME_WAIT table; CLOSED when it is in neither. */
static enum pc_tcp_state state_of(const struct peer *p)
{
	struct pc_tcb *c = tcb_of(p);
	struct pc_tcp_key k = key_of(p);
	struct pc_tcp_tw *tw = pc_tcp_tw_lookup(h_lc, &k);

	if (c != NULL)
		return (enum pc_tcp_state)c->state;
	return tw == NULL ? PC_TCP_CLOSED : (enum pc_tcp_state)tw->state;
}

/* Handshake: SYN, our SYN-ACK, the ACK. Whatever the ACK triggers (the
 * source app's data) is left to the caller. */
static struct pc_tcb *peer_open(struct peer *p)
{
	struct h_frame f;
	struct h_tcp t;

	peer_send(p, SYN, NULL, 0);
	expect(p, SYN | ACK, &t, &f);
	assert_int_equal(t.ack, p->nxt);
	peer_send(p, ACK, NULL, 0);
	struct pc_tcb *c = tcb_of(p);

	assert_non_null(c);
	assert_int_not_equal(c->state, PC_TCP_SYN_RCVD);
	return c;
}

/* h_reset_tcp(), with the worker's timing wheel detached from real time
 * (a tick per hour of TSC), so that only advance_ms() moves it and timer
 * tests do not depend on how fast they run. */
static void reset_tcp(const struct pc_tcp_cfg *cfg)
{
	h_reset_tcp(cfg);
	h_lc->tcp.wheel.tsc_per_tick = rte_get_tsc_hz() * 3600;
}

/* Let the worker's timers run ms (wheel) milliseconds. */
static void advance_ms(uint64_t ms)
{
	struct pc_wheel *w = &h_lc->tcp.wheel;

	pc_wheel_advance(w, w->tsc_base + (w->tick + ms) * w->tsc_per_tick);
	pc_tx_flush(h_lc);
}

/* Up to the moment the retransmission timer of c fires. */
static void advance_to_rtx(const struct pc_tcb *c)
{
	assert_true(pc_timer_armed(&c->t_rtx));
	advance_ms(c->t_rtx.expires - h_lc->tcp.wheel.tick);
}

/* The source app sends n bytes per connection. */
static void source_bytes(uint64_t n)
{
	struct pc_tcp_cfg cfg = pc_tcp_cfg;

	for (unsigned int i = 0; i < PC_TCP_MAX_LISTENERS; i++)
		if (cfg.listeners[i].port == rte_cpu_to_be_16(H_PORT_SOURCE))
			cfg.listeners[i].app_arg = (void *)(uintptr_t)n;
	reset_tcp(&cfg);
}

static int setup(void **state)
{
	(void)state;
	reset_tcp(&h_tcp_defaults);
	return 0;
}

/* Every test leaves no mbuf behind, whatever it changed in the TCP
 * configuration. */
static int teardown(void **state)
{
	(void)state;
	reset_tcp(&h_tcp_defaults);
	assert_true(h_pool_full());
	return 0;
}

/* ------------------------------------------------------------------ */
/* Options a SYN offers, and what the SYN-ACK and the connection agree. */

struct synopt_case {
	const char *name;
	uint8_t opts[40];
	uint8_t optlen;
	uint16_t mss;      /* the connection's MSS */
	int ws;            /* the SYN-ACK's window scale, -1 none */
	uint8_t snd_wscale;
	bool sack, ts;
};

static const struct synopt_case synopt_cases[] = {
	{"no options", {0}, 0, 536, -1, 0, false, false},
	{"MSS 1000", {2, 4, 0x03, 0xe8}, 4, 1000, -1, 0, false, false},
	{"MSS 9000", {2, 4, 0x23, 0x28}, 4, 1460, -1, 0, false, false},
	{"MSS 10: at least 64", {2, 4, 0, 10}, 4, 64, -1, 0, false, false},
	{"window scale 7", {2, 4, 0x05, 0xb4, 1, 3, 3, 7}, 8, 1460, 1, 7, false, false},
	{"window scale 15 is 14", {1, 3, 3, 15}, 4, 536, 1, 14, false, false},
	{"SACK permitted", {2, 4, 0x05, 0xb4, 4, 2, 1, 1}, 8, 1460, -1, 0, true, false},
	{"timestamps", {2, 4, 0x05, 0xb4, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1}, 16, 1460, -1, 0,
	 false, true},
	{"all, Linux's order",
	 {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7}, 20, 1460, 1, 7,
	 true, true},
	{"unknown option is skipped", {2, 4, 0x05, 0xb4, 30, 4, 0, 0}, 8, 1460, -1, 0, false,
	 false},
	{"end of options, then junk", {2, 4, 0x05, 0xb4, 0, 99, 99, 99}, 8, 1460, -1, 0, false,
	 false},
};

static void test_syn_options(void **state)
{
	(void)state;
	for (size_t i = 0; i < RTE_DIM(synopt_cases); i++) {
		const struct synopt_case *sc = &synopt_cases[i];
		struct peer p;
		struct h_frame f;
		struct h_tcp t;
		struct parsed_opts o;

		peer_init(&p, H_PORT_ECHO, 0x01000000u * (uint32_t)i, sc->opts, sc->optlen);
		peer_send(&p, SYN, NULL, 0);
		expect(&p, SYN | ACK, &t, &f);
		parse_opts(&t, &o);
		/* Our MSS always; the rest only as offered (RFC 7323 1.3, 2018 2). */
		if (o.mss != pc_tcp_cfg.mss || o.ws != sc->ws || o.sack_ok != sc->sack ||
		    o.ts != sc->ts)
			fail_msg("%s: SYN-ACK has MSS %d WS %d SACK %d TS %d", sc->name, o.mss,
				 o.ws, o.sack_ok, o.ts);
		if (sc->ts && o.tsecr != p.tsval - 1)
			fail_msg("%s: TSecr %u, want the SYN's TSval %u", sc->name, o.tsecr,
				 p.tsval - 1);
		assert_int_equal(t.ack, p.nxt);
		assert_int_equal(t.win, 65535); /* never scaled in a SYN (RFC 7323 2.2) */
		assert_int_equal(t.len, 0);

		struct pc_tcb *c = tcb_of(&p);

		assert_non_null(c);
		assert_int_equal(c->state, PC_TCP_SYN_RCVD);
		if (c->mss != sc->mss || c->snd_wscale != sc->snd_wscale ||
		    c->sack_ok != sc->sack || c->ts_ok != sc->ts)
			fail_msg("%s: connection has MSS %u snd_wscale %u SACK %d TS %d", sc->name,
				 c->mss, c->snd_wscale, c->sack_ok, c->ts_ok);
		assert_int_equal(c->rcv_wscale, sc->ws < 0 ? 0 : sc->ws);

		/* Established; data comes back with the window scaled. */
		peer_send(&p, ACK, NULL, 0);
		assert_int_equal(state_of(&p), PC_TCP_ESTABLISHED);
		peer_send(&p, ACK | PSH, NULL, 10);
		expect(&p, ACK | PSH, &t, &f);
		assert_int_equal(t.len, 10);
		assert_int_equal(t.ack, p.nxt);
		assert_int_equal(t.win, (pc_tcp_cfg.set.rcvbuf >> c->rcv_wscale) > 65535
						? 65535
						: pc_tcp_cfg.set.rcvbuf >> c->rcv_wscale);
		parse_opts(&t, &o);
		assert_int_equal(o.mss, -1);
		assert_int_equal(o.ts, sc->ts);
	}
	assert_int_equal(h_drops_total(), 0);
}

/* ------------------------------------------------------------------ */
/* Malformed segments: counted by reason, nothing sent, nothing opened. */

struct drop_case {
	const char *name;
	uint8_t flags;
	uint8_t opts[40];
	uint8_t optlen;
	void (*mutate)(uint8_t *b, uint16_t *len);
	enum pc_drop expect;
};

static struct rte_tcp_hdr *tcp_of(uint8_t *b)
{
	return (struct rte_tcp_hdr *)(b + sizeof(struct rte_ether_hdr) +
				      sizeof(struct rte_ipv4_hdr));
}

static struct rte_ipv4_hdr *ipv4_of(uint8_t *b)
{
	return (struct rte_ipv4_hdr *)(b + sizeof(struct rte_ether_hdr));
}

static void m_cksum(uint8_t *b, uint16_t *len)
{
	(void)len;
	tcp_of(b)->cksum ^= 0x0400;
}
static void m_short(uint8_t *b, uint16_t *len)
{
	ipv4_of(b)->total_length = rte_cpu_to_be_16(20 + 19);
	h_fix_ip_cksum(b);
	*len = sizeof(struct rte_ether_hdr) + 20 + 19;
}
static void m_doff_small(uint8_t *b, uint16_t *len)
{
	(void)len;
	tcp_of(b)->data_off = 4 << 4;
	h_fix_tcp_cksum(b);
}
static void m_doff_beyond(uint8_t *b, uint16_t *len)
{
	(void)len;
	tcp_of(b)->data_off = 15 << 4; /* 60 bytes of header in a 28-byte segment */
	h_fix_tcp_cksum(b);
}

static const struct drop_case drop_cases[] = {
	{"bad checksum", SYN, {0}, 0, m_cksum, PC_DROP_tcp_bad_checksum},
	{"shorter than a header", SYN, {0}, 0, m_short, PC_DROP_tcp_short},
	{"data offset 4", SYN, {0}, 0, m_doff_small, PC_DROP_tcp_bad_offset},
	{"data offset beyond the segment", SYN, {1, 1, 1, 1, 1, 1, 1, 1}, 8, m_doff_beyond,
	 PC_DROP_tcp_bad_offset},
	{"MSS of length 5", SYN, {2, 5, 5, 0xb4, 0, 0, 0, 0}, 8, NULL, PC_DROP_tcp_bad_options},
	{"MSS of length 3", SYN, {2, 3, 5, 0}, 4, NULL, PC_DROP_tcp_bad_options},
	{"window scale of length 4", SYN, {3, 4, 7, 0}, 4, NULL, PC_DROP_tcp_bad_options},
	{"SACK permitted of length 3", SYN, {4, 3, 0, 0}, 4, NULL, PC_DROP_tcp_bad_options},
	{"SACK of length 11", ACK, {5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 12, NULL,
	 PC_DROP_tcp_bad_options},
	{"timestamps of length 8", SYN, {8, 8, 0, 0, 0, 0, 0, 0}, 8, NULL,
	 PC_DROP_tcp_bad_options},
	{"option of length 0", SYN, {30, 0, 0, 0}, 4, NULL, PC_DROP_tcp_bad_options},
	{"option of length 1", SYN, {30, 1, 0, 0}, 4, NULL, PC_DROP_tcp_bad_options},
	{"option past the header", SYN, {1, 1, 30, 8}, 4, NULL, PC_DROP_tcp_bad_options},
	{"option cut after its kind", SYN, {1, 1, 1, 2}, 4, NULL, PC_DROP_tcp_bad_options},
	{"SYN+FIN", SYN | FIN, {0}, 0, NULL, PC_DROP_tcp_bad_flags},
	{"SYN+RST", SYN | RST, {0}, 0, NULL, PC_DROP_tcp_bad_flags},
	{"no flags", 0, {0}, 0, NULL, PC_DROP_tcp_bad_flags},
	{"URG alone", URG, {0}, 0, NULL, PC_DROP_tcp_bad_flags},
};

static void test_drop_table(void **state)
{
	uint8_t b[256];

	(void)state;
	h_arp_learn(H_PEER, &h_peer_mac);
	for (size_t i = 0; i < RTE_DIM(drop_cases); i++) {
		const struct drop_case *dc = &drop_cases[i];
		struct h_tcp t = {
			.src = H_PEER,
			.dst = H_ADDR,
			.sport = (uint16_t)(41000 + i),
			.dport = H_PORT_ECHO,
			.seq = 1000,
			.ack = (dc->flags & ACK) ? 5000 : 0,
			.flags = dc->flags,
			.win = 65535,
			.opts = dc->opts,
			.optlen = dc->optlen,
		};
		uint16_t len = h_build_tcp(b, &t);
		uint64_t before = h_drop(dc->expect), total = h_drops_total();

		if (dc->mutate != NULL)
			dc->mutate(b, &len);
		h_inject(b, len);
		h_run();
		if (h_drop(dc->expect) != before + 1 || h_drops_total() != total + 1)
			fail_msg("case '%s': expected one %s drop", dc->name,
				 pc_drop_names[dc->expect]);
		if (h_pending() != 0)
			fail_msg("case '%s': something was sent", dc->name);
		if (h_lc->tcp.nb_used != 0)
			fail_msg("case '%s': a connection was opened", dc->name);
	}
}

/* ------------------------------------------------------------------ */
/* Segments for no connection (RFC 9293 3.10.7.1 and LISTEN). */

struct closed_case {
	const char *name;
	uint16_t dport;
	uint8_t flags;
	uint16_t len;
	uint8_t reply;       /* 0: nothing */
	uint32_t reply_seq;
	uint32_t reply_ack;
	enum pc_drop drop;
};

static const struct closed_case closed_cases[] = {
	{"SYN to a closed port", H_PORT_CLOSED, SYN, 0, RST | ACK, 0, 1001, PC_DROP_tcp_no_conn},
	{"SYN with data", H_PORT_CLOSED, SYN, 10, RST | ACK, 0, 1011, PC_DROP_tcp_no_conn},
	{"FIN without ACK", H_PORT_CLOSED, FIN, 0, RST | ACK, 0, 1001, PC_DROP_tcp_no_conn},
	{"data+FIN without ACK", H_PORT_CLOSED, FIN | PSH, 20, RST | ACK, 0, 1021,
	 PC_DROP_tcp_no_conn},
	{"ACK to a closed port", H_PORT_CLOSED, ACK, 0, RST, 5000, 0, PC_DROP_tcp_no_conn},
	{"data to a closed port", H_PORT_CLOSED, ACK | PSH, 20, RST, 5000, 0,
	 PC_DROP_tcp_no_conn},
	{"FIN+ACK to a closed port", H_PORT_CLOSED, FIN | ACK, 0, RST, 5000, 0,
	 PC_DROP_tcp_no_conn},
	{"RST to a closed port", H_PORT_CLOSED, RST, 0, 0, 0, 0, PC_DROP_tcp_no_conn},
	{"RST+ACK to a closed port", H_PORT_CLOSED, RST | ACK, 0, 0, 0, 0, PC_DROP_tcp_no_conn},
	{"ACK to a listener, no cookie", H_PORT_ECHO, ACK, 0, RST, 5000, 0,
	 PC_DROP_tcp_bad_cookie},
	{"SYN+ACK to a listener", H_PORT_ECHO, SYN | ACK, 0, RST, 5000, 0,
	 PC_DROP_tcp_bad_cookie},
	{"RST to a listener", H_PORT_ECHO, RST, 0, 0, 0, 0, PC_DROP_tcp_no_conn},
};

static void test_no_connection(void **state)
{
	uint8_t b[256];

	(void)state;
	h_arp_learn(H_PEER, &h_peer_mac);
	for (size_t i = 0; i < RTE_DIM(closed_cases); i++) {
		const struct closed_case *cc = &closed_cases[i];
		struct h_tcp t = {
			.src = H_PEER,
			.dst = H_ADDR,
			.sport = (uint16_t)(42000 + i),
			.dport = cc->dport,
			.seq = 1000,
			.ack = (cc->flags & ACK) ? 5000 : 0,
			.flags = cc->flags,
			.win = 65535,
			.len = cc->len,
		};
		struct h_frame f;
		struct h_tcp r;
		uint64_t before = h_drop(cc->drop), total = h_drops_total();

		h_inject(b, h_build_tcp(b, &t));
		h_run();
		if (h_drop(cc->drop) != before + 1 || h_drops_total() != total + 1)
			fail_msg("case '%s': expected one %s drop", cc->name,
				 pc_drop_names[cc->drop]);
		if (cc->reply == 0) {
			if (h_pending() != 0)
				fail_msg("case '%s': answered a RST", cc->name);
			continue;
		}
		if (!h_take(&f) || h_parse_tcp(&f, &r) != 0)
			fail_msg("case '%s': no RST", cc->name);
		if (r.flags != cc->reply || r.seq != cc->reply_seq || r.ack != cc->reply_ack ||
		    r.len != 0 || r.win != 0 || r.optlen != 0 || r.sport != cc->dport ||
		    r.dport != t.sport || r.dst != H_PEER)
			fail_msg("case '%s': sent %s seq %u ack %u win %u, want %s seq %u ack %u",
				 cc->name, flag_str(r.flags), r.seq, r.ack, r.win,
				 flag_str(cc->reply), cc->reply_seq, cc->reply_ack);
		assert_int_equal(h_pending(), 0);
		assert_int_equal(h_lc->tcp.nb_used, 0);
	}
}

/* ------------------------------------------------------------------ */
/* State transitions as scripts: the peer sends (or waits), then what we
 * send and the state we are in are checked. Peer ISN near 2^32, so the
 * sequence numbers wrap on the way. */

#define MAX_OUT 3
#define DROP(x) (PC_DROP_##x + 1)
#define SCRIPT_ISS 0xffffff00u

struct step {
	const char *what;
	uint32_t wait_ms;         /* first let our timers run this long */
	uint8_t flags;            /* then the peer sends this (0: nothing) */
	int32_t seq_off;          /* from the peer's next sequence number (which
				   * advances over what we must accept: no drop
				   * expected, seq_off <= 0) */
	int32_t ack_off;          /* from one past the last byte we sent */
	uint16_t len;
	int32_t ts_off;           /* added to the peer's clock for this segment */
	uint8_t out[MAX_OUT];     /* flags of what we send, in order */
	enum pc_tcp_state state;  /* afterwards; CLOSED: no connection */
	int drop;                 /* DROP(reason): exactly one; 0: none */
};

struct script {
	const char *name;
	uint16_t dport;
	uint64_t source_bytes;    /* the source app's, when dport is its port */
	const struct step *steps;
	size_t nb_steps;
};

#define STEPS(...) (const struct step[]){__VA_ARGS__}, \
	sizeof((const struct step[]){__VA_ARGS__}) / sizeof(struct step)

/* Steps that recur. */
#define HANDSHAKE \
	{"SYN", 0, SYN, 0, 0, 0, 0, {SYN | ACK}, PC_TCP_SYN_RCVD, 0}, \
	{"ACK of SYN-ACK", 0, ACK, 0, 0, 0, 0, {0}, PC_TCP_ESTABLISHED, 0}
#define SOURCE_HANDSHAKE \
	{"SYN", 0, SYN, 0, 0, 0, 0, {SYN | ACK}, PC_TCP_SYN_RCVD, 0}, \
	{"ACK of SYN-ACK: data and FIN follow", 0, ACK, 0, 0, 0, 0, {ACK | PSH, FIN | ACK}, \
	 PC_TCP_FIN_WAIT_1, 0}

static const struct script scripts[] = {
	{"echo: data, then the peer closes", H_PORT_ECHO, 0, STEPS(
		HANDSHAKE,
		{"300 bytes across 2^32", 0, ACK | PSH, 0, 0, 300, 0, {ACK | PSH},
		 PC_TCP_ESTABLISHED, 0},
		{"ACK of the echo", 0, ACK, 0, 0, 0, 0, {0}, PC_TCP_ESTABLISHED, 0},
		{"peer FIN: echo closes too", 0, FIN | ACK, 0, 0, 0, 0, {FIN | ACK},
		 PC_TCP_LAST_ACK, 0},
		{"ACK of our FIN: gone", 0, ACK, 0, 0, 0, 0, {0}, PC_TCP_CLOSED, 0})},
	{"echo: data with FIN", H_PORT_ECHO, 0, STEPS(
		HANDSHAKE,
		{"data+FIN: echoed, our FIN on the echo", 0, FIN | ACK | PSH, 0, 0, 100, 0,
		 {FIN | ACK | PSH}, PC_TCP_LAST_ACK, 0},
		{"ACK of all", 0, ACK, 0, 0, 0, 0, {0}, PC_TCP_CLOSED, 0})},
	{"discard: peer closes", H_PORT_DISCARD, 0, STEPS(
		HANDSHAKE,
		{"small data: ACKed at once", 0, ACK | PSH, 0, 0, 100, 0, {ACK},
		 PC_TCP_ESTABLISHED, 0},
		{"peer FIN", 0, FIN | ACK, 0, 0, 0, 0, {FIN | ACK}, PC_TCP_LAST_ACK, 0},
		{"retransmitted FIN: ACKed again", 0, FIN | ACK, -1, -1, 0, 0, {ACK},
		 PC_TCP_LAST_ACK, DROP(tcp_out_of_window)},
		{"ACK of our FIN", 0, ACK, 0, 0, 0, 0, {0}, PC_TCP_CLOSED, 0})},
	{"source: we close first", H_PORT_SOURCE, 1000, STEPS(
		SOURCE_HANDSHAKE,
		{"ACK of data and FIN", 0, ACK, 0, 0, 0, 0, {0}, PC_TCP_FIN_WAIT_2, 0},
		{"peer FIN", 0, FIN | ACK, 0, 0, 0, 0, {ACK}, PC_TCP_TIME_WAIT, 0},
		{"59.9 s later, still there", 59900, 0, 0, 0, 0, 0, {0}, PC_TCP_TIME_WAIT, 0},
		{"60 s: gone", 100, 0, 0, 0, 0, 0, {0}, PC_TCP_CLOSED, 0})},
	{"source: ACK of data only, then FIN+ACK of ours", H_PORT_SOURCE, 1000, STEPS(
		SOURCE_HANDSHAKE,
		{"ACK of the data, not the FIN", 0, ACK, 0, -1, 0, 0, {0}, PC_TCP_FIN_WAIT_1, 0},
		{"FIN+ACK of our FIN", 0, FIN | ACK, 0, 0, 0, 0, {ACK}, PC_TCP_TIME_WAIT, 0})},
	{"source: simultaneous close", H_PORT_SOURCE, 1000, STEPS(
		SOURCE_HANDSHAKE,
		{"peer FIN, our FIN not acked", 0, FIN | ACK, 0, -1, 0, 0, {ACK}, PC_TCP_CLOSING,
		 0},
		{"ACK of our FIN", 0, ACK, 0, 0, 0, 0, {0}, PC_TCP_TIME_WAIT, 0},
		{"2 MSL later: gone", 60000, 0, 0, 0, 0, 0, {0}, PC_TCP_CLOSED, 0})},
	{"source: FIN_WAIT_2 gives up after 60 s", H_PORT_SOURCE, 1000, STEPS(
		SOURCE_HANDSHAKE,
		{"ACK of data and FIN", 0, ACK, 0, 0, 0, 0, {0}, PC_TCP_FIN_WAIT_2, 0},
		{"60 s of silence", 60000, 0, 0, 0, 0, 0, {RST | ACK}, PC_TCP_CLOSED, 0})},
	{"TIME_WAIT: a retransmitted FIN is ACKed and restarts 2 MSL", H_PORT_SOURCE, 1000,
	 STEPS(SOURCE_HANDSHAKE,
		{"ACK of data and FIN", 0, ACK, 0, 0, 0, 0, {0}, PC_TCP_FIN_WAIT_2, 0},
		{"peer FIN", 0, FIN | ACK, 0, 0, 0, 0, {ACK}, PC_TCP_TIME_WAIT, 0},
		{"59 s later the FIN again", 59000, FIN | ACK, -1, 0, 0, 0, {ACK},
		 PC_TCP_TIME_WAIT, DROP(tcp_out_of_window)},
		{"2 s later: still in TIME_WAIT", 2000, 0, 0, 0, 0, 0, {0}, PC_TCP_TIME_WAIT, 0},
		{"2 MSL after the last FIN: gone", 58000, 0, 0, 0, 0, 0, {0}, PC_TCP_CLOSED, 0})},
	{"TIME_WAIT: a newer SYN from the same port reopens (RFC 6191)", H_PORT_SOURCE, 1000,
	 STEPS(SOURCE_HANDSHAKE,
		{"ACK of data and FIN", 0, ACK, 0, 0, 0, 0, {0}, PC_TCP_FIN_WAIT_2, 0},
		{"peer FIN", 0, FIN | ACK, 0, 0, 0, 0, {ACK}, PC_TCP_TIME_WAIT, 0},
		{"1 s later a SYN with a later timestamp", 1000, SYN, 0, 0, 0, 0, {SYN | ACK},
		 PC_TCP_SYN_RCVD, 0},
		{"ACK of the new SYN-ACK: data and FIN follow", 0, ACK, 0, 0, 0, 0,
		 {ACK | PSH, FIN | ACK}, PC_TCP_FIN_WAIT_1, 0})},
	{"TIME_WAIT: the same timestamp and a newer sequence number reopen (RFC 6191)",
	 H_PORT_SOURCE, 1000,
	 STEPS(SOURCE_HANDSHAKE,
		{"ACK of data and FIN", 0, ACK, 0, 0, 0, 0, {0}, PC_TCP_FIN_WAIT_2, 0},
		{"peer FIN", 0, FIN | ACK, 0, 0, 0, 0, {ACK}, PC_TCP_TIME_WAIT, 0},
		{"a SYN with the FIN's timestamp", 0, SYN, 0, 0, 0, -1, {SYN | ACK},
		 PC_TCP_SYN_RCVD, 0})},
	{"TIME_WAIT: the same timestamp and an old sequence number are dropped", H_PORT_SOURCE,
	 1000,
	 STEPS(SOURCE_HANDSHAKE,
		{"ACK of data and FIN", 0, ACK, 0, 0, 0, 0, {0}, PC_TCP_FIN_WAIT_2, 0},
		{"peer FIN", 0, FIN | ACK, 0, 0, 0, 0, {ACK}, PC_TCP_TIME_WAIT, 0},
		{"a SYN with the FIN's timestamp, below its sequence", 0, SYN, -2, 0, 0, -1,
		 {ACK}, PC_TCP_TIME_WAIT, DROP(tcp_time_wait_syn)})},
	{"TIME_WAIT: a SYN with an old timestamp is ACKed and dropped", H_PORT_SOURCE, 1000,
	 STEPS(SOURCE_HANDSHAKE,
		{"ACK of data and FIN", 0, ACK, 0, 0, 0, 0, {0}, PC_TCP_FIN_WAIT_2, 0},
		{"peer FIN", 0, FIN | ACK, 0, 0, 0, 0, {ACK}, PC_TCP_TIME_WAIT, 0},
		{"SYN with an older timestamp", 0, SYN, 1, 0, 0, -10, {ACK}, PC_TCP_TIME_WAIT,
		 DROP(tcp_time_wait_syn)},
		{"2 MSL: gone", 60000, 0, 0, 0, 0, 0, {0}, PC_TCP_CLOSED, 0})},
	{"RST with the exact sequence number", H_PORT_ECHO, 0, STEPS(
		HANDSHAKE,
		{"RST at rcv_nxt", 0, RST, 0, 0, 0, 0, {0}, PC_TCP_CLOSED, 0})},
	{"RST+ACK with the exact sequence number", H_PORT_ECHO, 0, STEPS(
		HANDSHAKE,
		{"RST+ACK at rcv_nxt", 0, RST | ACK, 0, 0, 0, 0, {0}, PC_TCP_CLOSED, 0})},
	{"RST in the window, not exact: challenge ACK (RFC 5961 3.2)", H_PORT_ECHO, 0, STEPS(
		HANDSHAKE,
		{"RST at rcv_nxt+1", 0, RST, 1, 0, 0, 0, {ACK}, PC_TCP_ESTABLISHED,
		 DROP(tcp_rst_in_window)},
		{"RST at the window's edge-1", 0, RST, 65534, 0, 0, 0, {ACK}, PC_TCP_ESTABLISHED,
		 DROP(tcp_rst_in_window)},
		{"still alive: echo", 0, ACK | PSH, 0, 0, 10, 0, {ACK | PSH}, PC_TCP_ESTABLISHED,
		 0})},
	{"RST out of the window: ignored", H_PORT_ECHO, 0, STEPS(
		HANDSHAKE,
		{"RST above the window", 0, RST, 100000, 0, 0, 0, {0}, PC_TCP_ESTABLISHED,
		 DROP(tcp_rst_out_of_window)},
		{"RST below rcv_nxt", 0, RST, -1, 0, 0, 0, {0}, PC_TCP_ESTABLISHED,
		 DROP(tcp_rst_out_of_window)})},
	{"SYN on an established connection: challenge ACK (RFC 5961 4.2)", H_PORT_ECHO, 0,
	 STEPS(HANDSHAKE,
		{"SYN in the window", 0, SYN, 0, 0, 0, 0, {ACK}, PC_TCP_ESTABLISHED,
		 DROP(tcp_syn_in_window)},
		{"SYN at the old ISN", 0, SYN, -1, 0, 0, 0, {ACK}, PC_TCP_ESTABLISHED,
		 DROP(tcp_syn_in_window)},
		{"still alive: echo", 0, ACK | PSH, 0, 0, 10, 0, {ACK | PSH}, PC_TCP_ESTABLISHED,
		 0})},
	{"segments without ACK, out of window, too-new ACK", H_PORT_ECHO, 0, STEPS(
		HANDSHAKE,
		{"data+FIN without ACK: dropped", 0, FIN | PSH, 0, 0, 50, 0, {0},
		 PC_TCP_ESTABLISHED, DROP(tcp_no_ack)},
		{"data beyond the window: ACK", 0, ACK | PSH, 70000, 0, 50, 0, {ACK},
		 PC_TCP_ESTABLISHED, DROP(tcp_out_of_window)},
		{"old data: ACK", 0, ACK | PSH, -100, 0, 50, 0, {ACK}, PC_TCP_ESTABLISHED,
		 DROP(tcp_out_of_window)},
		{"ACK of unsent data: challenge ACK", 0, ACK, 0, 5000, 0, 0, {ACK},
		 PC_TCP_ESTABLISHED, DROP(tcp_ack_too_new)},
		{"ACK far in the past: challenge ACK", 0, ACK, 0, -300000, 0, 0, {ACK},
		 PC_TCP_ESTABLISHED, DROP(tcp_ack_too_old)},
		{"still alive: echo", 0, ACK | PSH, 0, 0, 10, 0, {ACK | PSH}, PC_TCP_ESTABLISHED,
		 0})},
	{"duplicate data is ACKed at once", H_PORT_DISCARD, 0, STEPS(
		HANDSHAKE,
		{"data", 0, ACK | PSH, 0, 0, 100, 0, {ACK}, PC_TCP_ESTABLISHED, 0},
		{"the same again", 0, ACK | PSH, -100, 0, 100, 0, {ACK}, PC_TCP_ESTABLISHED,
		 DROP(tcp_out_of_window)},
		{"half old, half new", 0, ACK | PSH, -50, 0, 100, 0, {ACK}, PC_TCP_ESTABLISHED,
		 0})},
	{"PAWS: an old timestamp is dropped (RFC 7323 5.3)", H_PORT_ECHO, 0, STEPS(
		HANDSHAKE,
		{"data with an old TSval", 0, ACK | PSH, 0, 0, 10, -1000, {ACK},
		 PC_TCP_ESTABLISHED, DROP(tcp_paws)},
		{"the same data, fresh TSval", 0, ACK | PSH, 0, 0, 10, 0, {ACK | PSH},
		 PC_TCP_ESTABLISHED, 0},
		{"RST with an old TSval still resets", 0, RST, 0, 0, 0, -1000, {0}, PC_TCP_CLOSED,
		 0})},
	{"SYN_RCVD: retransmitted SYN, bad ACK, RST", H_PORT_ECHO, 0, STEPS(
		{"SYN", 0, SYN, 0, 0, 0, 0, {SYN | ACK}, PC_TCP_SYN_RCVD, 0},
		{"the SYN again: SYN-ACK again", 0, SYN, -1, 0, 0, 0, {SYN | ACK},
		 PC_TCP_SYN_RCVD, 0},
		{"ACK of something else: RST", 0, ACK, 0, 10, 0, 0, {RST}, PC_TCP_SYN_RCVD,
		 DROP(tcp_bad_ack)},
		{"ACK without the SYN's: RST", 0, ACK, 0, -1, 0, 0, {RST}, PC_TCP_SYN_RCVD,
		 DROP(tcp_bad_ack)},
		{"RST at rcv_nxt", 0, RST, 0, 0, 0, 0, {0}, PC_TCP_CLOSED, 0})},
	{"SYN_RCVD: SYN-ACK retransmitted, then given up", H_PORT_ECHO, 0, STEPS(
		{"SYN", 0, SYN, 0, 0, 0, 0, {SYN | ACK}, PC_TCP_SYN_RCVD, 0},
		{"1 s: again", 1000, 0, 0, 0, 0, 0, {SYN | ACK}, PC_TCP_SYN_RCVD, 0},
		{"2 s more: again", 2000, 0, 0, 0, 0, 0, {SYN | ACK}, PC_TCP_SYN_RCVD, 0},
		{"4 s more: again", 4000, 0, 0, 0, 0, 0, {SYN | ACK}, PC_TCP_SYN_RCVD, 0},
		{"8 s more: again", 8000, 0, 0, 0, 0, 0, {SYN | ACK}, PC_TCP_SYN_RCVD, 0},
		{"30 s after the SYN: reset", 15000, 0, 0, 0, 0, 0, {RST | ACK}, PC_TCP_CLOSED,
		 0})},
	{"data on the handshake's ACK", H_PORT_ECHO, 0, STEPS(
		{"SYN", 0, SYN, 0, 0, 0, 0, {SYN | ACK}, PC_TCP_SYN_RCVD, 0},
		{"ACK with data: echoed", 0, ACK | PSH, 0, 0, 20, 0, {ACK | PSH},
		 PC_TCP_ESTABLISHED, 0})},
};

static const char *state_name(enum pc_tcp_state s)
{
	return s == PC_TCP_CLOSED ? "gone" : pc_tcp_state_names[s];
}

static void run_script(void **state)
{
	const struct script *sc = *state;
	struct peer p;

	if (sc->source_bytes != 0)
		source_bytes(sc->source_bytes);
	peer_init(&p, sc->dport, SCRIPT_ISS, syn_opts_std, sizeof(syn_opts_std));
	for (size_t i = 0; i < sc->nb_steps; i++) {
		const struct step *st = &sc->steps[i];
		uint64_t before = st->drop != 0 ? h_drop(st->drop - 1) : 0;
		uint64_t total = h_drops_total();

		if (st->wait_ms != 0)
			advance_ms(st->wait_ms);
		if (st->flags != 0) {
			uint32_t seq = p.nxt + (uint32_t)st->seq_off;
			uint32_t end = seq + seg_space(st->flags, st->len);

			if (st->drop == 0 && st->seq_off <= 0 && seq_gt(end, p.nxt))
				p.nxt = end;
			p.tsval += (uint32_t)st->ts_off;
			peer_tx(&p, st->flags, seq, p.our_nxt + (uint32_t)st->ack_off, NULL,
				st->len, NULL, 0);
			p.tsval -= (uint32_t)st->ts_off;
		}
		struct h_frame f;
		struct h_tcp t;

		for (unsigned int k = 0; k < MAX_OUT && st->out[k] != 0; k++) {
			uint32_t our_nxt = p.our_nxt;

			if (!peer_rx(&p, &f, &t))
				fail_msg("%s, step '%s': sent nothing, want %s", sc->name, st->what,
					 flag_str(st->out[k]));
			if (t.flags != st->out[k])
				fail_msg("%s, step '%s': sent %s, want %s", sc->name, st->what,
					 flag_str(t.flags), flag_str(st->out[k]));
			/* Our ACKs acknowledge exactly the peer's in-order data; our
			 * segments continue our sequence space (a SYN-ACK may repeat). */
			if ((t.flags & ACK) && !(t.flags & RST) && t.ack != p.nxt)
				fail_msg("%s, step '%s': ack %u, want %u", sc->name, st->what,
					 t.ack, p.nxt);
			if (!(t.flags & (SYN | RST)) && t.seq != our_nxt)
				fail_msg("%s, step '%s': seq %u, want %u", sc->name, st->what,
					 t.seq, our_nxt);
			if ((t.flags & RST) && !(t.flags & ACK) &&
			    t.seq != our_nxt + (uint32_t)st->ack_off)
				fail_msg("%s, step '%s': RST seq %u, want the ACK's %u", sc->name,
					 st->what, t.seq, our_nxt + (uint32_t)st->ack_off);
		}
		if (peer_rx(&p, &f, &t))
			fail_msg("%s, step '%s': also sent %s", sc->name, st->what,
				 flag_str(t.flags));
		if (state_of(&p) != st->state)
			fail_msg("%s, step '%s': %s, want %s", sc->name, st->what,
				 state_name(state_of(&p)), state_name(st->state));
		if (st->drop != 0 && (h_drop(st->drop - 1) != before + 1 ||
				      h_drops_total() != total + 1))
			fail_msg("%s, step '%s': want one %s drop", sc->name, st->what,
				 pc_drop_names[st->drop - 1]);
		if (st->drop == 0 && h_drops_total() != total)
			fail_msg("%s, step '%s': unexpected drop", sc->name, st->what);
	}
}

/* ------------------------------------------------------------------ */
/* Data paths. */

/* Echo returns exactly what came, across several segments. */
static void test_echo_data(void **state)
{
	struct peer p;
	struct h_frame f;
	struct h_tcp t;
	uint8_t in[3000], out[3000];
	size_t got = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 31 + 7);
	peer_init(&p, H_PORT_ECHO, 0x7ffffff0, syn_opts_std, sizeof(syn_opts_std));
	peer_open(&p);
	peer_send(&p, ACK, in, 1448);
	peer_send(&p, ACK, in + 1448, 1448);
	peer_send(&p, ACK | PSH, in + 2896, 104);
	while (peer_rx(&p, &f, &t)) {
		assert_true(t.flags & ACK);
		if (t.len == 0)
			continue;
		assert_int_equal(t.seq, p.our_iss + 1 + got);
		assert_true(got + t.len <= sizeof(out));
		memcpy(out + got, t.data, t.len);
		got += t.len;
	}
	assert_int_equal(got, sizeof(in));
	assert_memory_equal(in, out, sizeof(in));
}

/* Segments that come as mbuf chains (a scattering device, or LRO: more
 * than an MSS in one frame) are taken across their mbufs; a chain whose
 * first mbuf does not hold the headers, or whose checksum (ours to check
 * over the chain; pieces of odd length) is wrong, is dropped and counted. */
static void test_multiseg_receive(void **state)
{
	static uint8_t in[6000], out[6000], b[6200];
	struct peer p;
	struct h_frame f;
	struct h_tcp t;
	size_t got = 0;
	uint16_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 13 + 5);
	peer_init(&p, H_PORT_ECHO, 1000, syn_opts_std, sizeof(syn_opts_std));
	peer_open(&p);

	/* Headers cut inside the TCP options: dropped, nothing consumed. */
	n = peer_frame(&p, b, ACK, p.nxt, p.our_nxt, in, 100, NULL, 0);
	h_inject_chain(b, n, 14 + 20 + 24, 64);
	h_run();
	assert_int_equal(h_drop(PC_DROP_eth_multiseg), 1);
	/* A bad checksum over the chain. */
	n = peer_frame(&p, b, ACK, p.nxt, p.our_nxt, in, 2000, NULL, 0);
	b[n - 1] ^= 0x40;
	h_inject_chain(b, n, 200, 700);
	h_run();
	assert_int_equal(h_drop(PC_DROP_tcp_bad_checksum), 1);
	assert_false(h_take(&f));

	/* 5000 bytes in one LRO frame of many mbufs, then the rest with the
	 * first mbuf holding the headers only. */
	n = peer_frame(&p, b, ACK, p.nxt, p.our_nxt, in, 5000, NULL, 0);
	p.nxt += 5000;
	h_inject_chain(b, n, 100, 333);
	h_run();
	n = peer_frame(&p, b, ACK | PSH, p.nxt, p.our_nxt, in + 5000, 1000, NULL, 0);
	p.nxt += 1000;
	h_inject_chain(b, n, (uint32_t)(n - 1000), 256);
	h_run();
	while (peer_rx(&p, &f, &t)) {
		if (t.len == 0)
			continue;
		assert_true(got + t.len <= sizeof(out));
		memcpy(out + got, t.data, t.len);
		got += t.len;
	}
	assert_int_equal(got, sizeof(in));
	assert_memory_equal(in, out, sizeof(in));
	assert_int_equal(h_lc->cnt.rx_multiseg, 4);
	assert_int_equal(h_lc->cnt.tcp_rx_large, 1);
}

/* The clock that stamps our segments and times round trips is read when a
 * segment comes in, not once per burst or per connection: an echo 5 ms
 * after another carries a TSval at least 4 ms later, and without
 * timestamps a segment acknowledged 5 ms after it left is a 5 ms sample. */
static void test_event_clock(void **state)
{
	struct h_frame f;
	struct h_tcp t;
	struct parsed_opts o;
	struct peer p;

	(void)state;
	peer_init(&p, H_PORT_ECHO, 1000, syn_opts_std, sizeof(syn_opts_std));
	peer_open(&p);
	peer_send(&p, ACK, (const uint8_t *)"a", 1);
	expect(&p, ACK | PSH, &t, &f);
	assert_int_equal(t.len, 1);
	parse_opts(&t, &o);
	uint32_t first = o.tsval;

	rte_delay_ms(5);
	peer_send(&p, ACK, (const uint8_t *)"b", 1);
	expect(&p, ACK | PSH, &t, &f);
	assert_int_equal(t.len, 1);
	parse_opts(&t, &o);
	if (o.tsval - first < 4)
		fail_msg("TSval %u, 5 ms after %u", o.tsval, first);

	peer_init(&p, H_PORT_ECHO, 2000, syn_opts_mss, sizeof(syn_opts_mss));
	struct pc_tcb *c = peer_open(&p);

	peer_send(&p, ACK, (const uint8_t *)"a", 1);
	expect(&p, ACK | PSH, &t, &f);
	assert_int_equal(t.len, 1);
	uint32_t srtt = c->srtt_us;

	rte_delay_ms(5);
	peer_send(&p, ACK, NULL, 0);
	/* One sample r moves SRTT to (7 SRTT + r) / 8, or to r if first. */
	uint32_t want = srtt == 0 ? 5000 : (7 * srtt + 5000) / 8;

	if (c->srtt_us < want)
		fail_msg("SRTT %u us after a 5 ms round trip (from %u)", c->srtt_us, srtt);
}

/* With TSO the source app's stream leaves in super-segments: mbuf chains
 * of whole segments within the windows, marked for the device to cut
 * (segment size, header lengths, the pseudo-header sum without the
 * length), carrying exactly the stream; retransmissions stay one segment. */
static void test_tso_send(void **state)
{
	struct pc_tcp_cfg cfg = pc_tcp_cfg;
	struct peer p;
	struct rte_mbuf *m;
	uint32_t seq, sent = 0, supers = 0;
	static uint8_t payload[PC_TCP_TSO_MAX];

	(void)state;
	for (unsigned int i = 0; i < PC_TCP_MAX_LISTENERS; i++)
		if (cfg.listeners[i].port == rte_cpu_to_be_16(H_PORT_SOURCE))
			cfg.listeners[i].app_arg = (void *)(uintptr_t)60000;
	reset_tcp(&cfg);
	peer_init(&p, H_PORT_SOURCE, 1000, syn_opts_std, sizeof(syn_opts_std));
	/* Opened with the window shut (our SYN-ACK checksummed for the
	 * harness to parse), then the device takes over and the window
	 * opens. */
	p.win = 0;
	struct pc_tcb *c = peer_open(&p);

	pc_tcp_cfg.tx_cksum_offload = true;
	pc_tcp_cfg.tso = true;
	pc_tcp_cfg.tso_max = PC_TCP_TSO_MAX;
	p.win = 65535;
	peer_send(&p, ACK, NULL, 0);
	seq = p.our_iss + 1;
	/* The initial window: ten segments of 1448 bytes, in one chain. */
	while ((m = h_take_mbuf()) != NULL) {
		const struct rte_ipv4_hdr *ip =
			rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, m->l2_len);
		const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)(ip + 1);
		uint32_t len = rte_pktmbuf_pkt_len(m) - m->l2_len - m->l3_len - m->l4_len;

		assert_int_equal(rte_be_to_cpu_32(th->sent_seq), seq);
		if (len > 1448) {
			supers++;
			assert_true(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG);
			assert_true(m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
			assert_int_equal(m->tso_segsz, 1448);
			assert_int_equal(m->l2_len, 14);
			assert_int_equal(m->l3_len, 20);
			assert_int_equal(m->l4_len, 32);
			assert_true(m->nb_segs > 1);
			assert_int_equal(rte_be_to_cpu_16(ip->total_length),
					 rte_pktmbuf_pkt_len(m) - m->l2_len);
			assert_int_equal(th->cksum, rte_ipv4_phdr_cksum(ip, m->ol_flags));
			assert_true(len % 1448 == 0 || seq + len == p.our_iss + 1 + 60000);
		} else {
			assert_int_equal(m->nb_segs, 1);
		}
		assert_true(len <= sizeof(payload));
		const uint8_t *d = rte_pktmbuf_read(m, rte_pktmbuf_pkt_len(m) - len, len, payload);

		for (uint32_t i = 0; i < len; i++)
			if (d[i] != pc_app_pattern(sent + i))
				fail_msg("byte %u is wrong", sent + i);
		sent += len;
		seq += len;
		rte_pktmbuf_free(m);
	}
	assert_int_equal(supers, 1);
	assert_int_equal(sent, 10 * 1448);
	assert_int_equal(h_lc->cnt.tcp_tso_sends, 1);
	assert_int_equal(h_lc->cnt.tcp_tso_bytes, 10 * 1448);
	assert_int_equal(h_lc->cnt.tcp_segs_out, 1 + 10); /* the SYN-ACK, then the data */
	/* A timeout: the retransmission is one segment. */
	advance_to_rtx(c);
	m = h_take_mbuf();
	assert_non_null(m);
	assert_int_equal(m->nb_segs, 1);
	assert_false(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG);
	assert_int_equal(rte_pktmbuf_pkt_len(m) - m->l2_len - 20 - 32, 1448);
	rte_pktmbuf_free(m);
	while ((m = h_take_mbuf()) != NULL)
		rte_pktmbuf_free(m);
}

/* The source app's 100000 bytes, in order and intact, then its FIN. */
static void test_source_stream(void **state)
{
	struct peer p;
	struct h_frame f;
	struct h_tcp t;
	uint64_t got = 0;
	bool fin = false;

	(void)state;
	peer_init(&p, H_PORT_SOURCE, 12345, syn_opts_std, sizeof(syn_opts_std));
	peer_open(&p);
	for (int round = 0; round < 200 && !fin; round++) {
		bool any = false;

		while (peer_rx(&p, &f, &t)) {
			any = true;
			assert_int_equal(t.seq, p.our_iss + 1 + (uint32_t)got);
			assert_true(t.len <= 1448);
			for (uint16_t i = 0; i < t.len; i++)
				if (t.data[i] != pc_app_pattern(got + i))
					fail_msg("byte %" PRIu64 " is wrong", got + i);
			got += t.len;
			if (t.flags & FIN)
				fin = true;
		}
		assert_true(any);
		peer_send(&p, ACK, NULL, 0);
	}
	assert_true(fin);
	assert_int_equal(got, 100000);
	assert_int_equal(state_of(&p), PC_TCP_FIN_WAIT_2);
	assert_int_equal(h_lc->cnt.tcp_retransmits, 0);
}

/* Out-of-order data is held and SACKed, then delivered when the hole
 * fills (RFC 2018, RFC 9293 3.10.7.4 "seventh"). */
static void test_ooo_receive(void **state)
{
	struct peer p;
	struct h_frame f;
	struct h_tcp t;
	struct parsed_opts o;
	uint8_t in[300];
	uint32_t base;

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i ^ 0x5a);
	peer_init(&p, H_PORT_ECHO, 0xfffffff0, syn_opts_std, sizeof(syn_opts_std));
	peer_open(&p);
	base = p.nxt;
	/* [200, 300) first: a duplicate ACK with one SACK block, nothing echoed. */
	peer_tx(&p, ACK, base + 200, p.our_nxt, in + 200, 100, NULL, 0);
	expect(&p, ACK, &t, &f);
	assert_int_equal(t.ack, base);
	assert_int_equal(t.len, 0);
	parse_opts(&t, &o);
	assert_int_equal(o.nb_sack, 1);
	assert_int_equal(o.sack[0][0], base + 200);
	assert_int_equal(o.sack[0][1], base + 300);
	expect_nothing();
	assert_int_equal(h_lc->cnt.tcp_ooo_segments, 1);
	/* [100, 200) joins it. */
	peer_tx(&p, ACK, base + 100, p.our_nxt, in + 100, 100, NULL, 0);
	expect(&p, ACK, &t, &f);
	parse_opts(&t, &o);
	assert_int_equal(o.nb_sack, 1);
	assert_int_equal(o.sack[0][0], base + 100);
	assert_int_equal(o.sack[0][1], base + 300);
	/* The hole fills: all 300 bytes come back, acknowledged at once. */
	peer_tx(&p, ACK | PSH, base, p.our_nxt, in, 100, NULL, 0);
	p.nxt = base + 300;
	uint8_t out[300];
	size_t got = 0;

	while (peer_rx(&p, &f, &t)) {
		assert_int_equal(t.ack, base + 300);
		parse_opts(&t, &o);
		assert_int_equal(o.nb_sack, 0);
		assert_true(got + t.len <= sizeof(out));
		memcpy(out + got, t.data, t.len);
		got += t.len;
	}
	assert_int_equal(got, 300);
	assert_memory_equal(in, out, 300);
	assert_int_equal(tcb_of(&p)->nb_ooo, 0);
}

/* Nothing comes after a FIN: out-of-order data above it is dropped and
 * no longer SACKed (as Linux's tcp_fin() purges its queue). */
static void test_ooo_beyond_fin(void **state)
{
	struct peer p;
	struct h_frame f;
	struct h_tcp t;
	struct parsed_opts o;

	(void)state;
	peer_init(&p, H_PORT_ECHO, 0x1000, syn_opts_std, sizeof(syn_opts_std));
	peer_open(&p);
	peer_tx(&p, ACK, p.nxt + 1, p.our_nxt, NULL, 100, NULL, 0);
	expect(&p, ACK, &t, &f);
	parse_opts(&t, &o);
	assert_int_equal(o.nb_sack, 1);
	peer_send(&p, FIN | ACK, NULL, 0);
	expect(&p, FIN | ACK, &t, &f); /* echo closes too */
	assert_int_equal(t.ack, p.nxt);
	parse_opts(&t, &o);
	assert_int_equal(o.nb_sack, 0);
	assert_int_equal(tcb_of(&p)->nb_ooo, 0);
}

/* RFC 2018 4: the first SACK block reports the segment that triggered
 * the ACK, then the most recently reported ones; with timestamps three
 * blocks fit, and a newly arrived range must not go unreported. */
static void test_sack_block_order(void **state)
{
	struct peer p;
	struct h_frame f;
	struct h_tcp t;
	struct parsed_opts o;
	uint32_t base;

	(void)state;
	peer_init(&p, H_PORT_DISCARD, 5000, syn_opts_std, sizeof(syn_opts_std));
	peer_open(&p);
	base = p.nxt;
	for (uint32_t k = 1; k <= 4; k++) {
		peer_tx(&p, ACK, base + 200 * k, p.our_nxt, NULL, 100, NULL, 0);
		expect(&p, ACK, &t, &f);
		parse_opts(&t, &o);
		assert_int_equal(o.nb_sack, RTE_MIN(k, 3u));
		if (o.sack[0][0] != base + 200 * k || o.sack[0][1] != base + 200 * k + 100)
			fail_msg("after range %u: first SACK block [+%u, +%u), want [+%u, +%u)", k,
				 o.sack[0][0] - base, o.sack[0][1] - base, 200 * k, 200 * k + 100);
	}
}

/* Nine holes: the ninth out-of-order range has no room and is dropped
 * (counted), and ACKed so the peer retransmits it later. */
static void test_ooo_full(void **state)
{
	struct peer p;
	struct h_frame f;
	struct h_tcp t;
	uint32_t base;

	(void)state;
	peer_init(&p, H_PORT_DISCARD, 5000, syn_opts_std, sizeof(syn_opts_std));
	peer_open(&p);
	base = p.nxt;
	for (uint32_t k = 1; k <= PC_TCP_OOO_MAX + 1; k++) {
		peer_tx(&p, ACK, base + 100 * k, p.our_nxt, NULL, 50, NULL, 0);
		expect(&p, ACK, &t, &f);
		assert_int_equal(t.ack, base);
	}
	assert_int_equal(h_drop(PC_DROP_tcp_ooo_full), 1);
	assert_int_equal(tcb_of(&p)->nb_ooo, PC_TCP_OOO_MAX);
	/* Fill everything in order: the reassembly catches up. */
	for (uint32_t k = 0; k <= PC_TCP_OOO_MAX + 1; k++)
		peer_tx(&p, ACK, base + 100 * k, p.our_nxt, NULL, 100, NULL, 0);
	while (peer_rx(&p, &f, &t))
		;
	assert_int_equal(tcb_of(&p)->rcv_nxt, base + 100 * (PC_TCP_OOO_MAX + 2));
	assert_int_equal(tcb_of(&p)->nb_ooo, 0);
}

/* Delayed ACK (RFC 9293 3.8.6.3, RFC 1122 4.2.3.2): one full-sized
 * segment waits up to delack_ms, a second one is ACKed at once. With
 * timestamps a full-sized segment carries MSS - 12 bytes (RFC 6691). */
static void test_delayed_ack(void **state)
{
	static const struct {
		const char *name;
		const uint8_t *opts;
		uint8_t optlen;
		uint16_t full;
	} cases[] = {
		{"no timestamps", syn_opts_mss, sizeof(syn_opts_mss), 1460},
		{"timestamps", syn_opts_std, sizeof(syn_opts_std), 1448},
	};

	(void)state;
	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		struct peer p;
		struct h_frame f;
		struct h_tcp t;

		peer_init(&p, H_PORT_DISCARD, 7000, cases[i].opts, cases[i].optlen);
		peer_open(&p);
		peer_send(&p, ACK, NULL, cases[i].full);
		if (h_pending() != 0)
			fail_msg("%s: a single full-sized segment was ACKed at once",
				 cases[i].name);
		advance_ms(pc_tcp_cfg.set.delack_ms - 1);
		assert_int_equal(h_pending(), 0);
		advance_ms(1);
		expect(&p, ACK, &t, &f);
		assert_int_equal(t.ack, p.nxt);
		/* Two in a row: the second is ACKed at once. */
		peer_send(&p, ACK, NULL, cases[i].full);
		assert_int_equal(h_pending(), 0);
		peer_send(&p, ACK, NULL, cases[i].full);
		expect(&p, ACK, &t, &f);
		assert_int_equal(t.ack, p.nxt);
		expect_nothing();
	}
}

/* Retransmission timeout (RFC 6298 5): nothing before the RTO, the first
 * unacknowledged segment after it, then backed off; an ACK of everything
 * stops the timer. */
static void test_rto(void **state)
{
	struct peer p;
	struct h_frame f;
	struct h_tcp t;

	(void)state;
	source_bytes(3000);
	peer_init(&p, H_PORT_SOURCE, 100, syn_opts_std, sizeof(syn_opts_std));
	struct pc_tcb *c = peer_open(&p);

	/* 1448 + 1448 + 104 bytes, then FIN. */
	expect(&p, ACK, &t, &f);
	expect(&p, ACK, &t, &f);
	expect(&p, ACK | PSH, &t, &f);
	expect(&p, FIN | ACK, &t, &f);
	uint32_t rto = c->rto_ms;

	/* The handshake's timestamps gave an RTT sample well below rto_min. */
	assert_int_equal(rto, pc_tcp_cfg.set.rto_min_ms);
	advance_ms(rto - 1);
	expect_nothing();
	advance_ms(1);
	expect(&p, ACK, &t, &f);
	assert_int_equal(t.seq, p.our_iss + 1);
	assert_int_equal(t.len, 1448);
	expect_nothing(); /* cwnd is one segment now */
	assert_int_equal(h_lc->cnt.tcp_timeouts, 1);
	assert_int_equal(h_lc->cnt.tcp_retransmits, 1);
	assert_int_equal(c->cwnd, c->mss);
	/* Backed off: twice the RTO. */
	advance_ms(2 * rto - 1);
	expect_nothing();
	advance_ms(1);
	expect(&p, ACK, &t, &f);
	assert_int_equal(t.seq, p.our_iss + 1);
	/* The peer acknowledges all: no more retransmissions. */
	peer_send(&p, ACK, NULL, 0);
	assert_int_equal(state_of(&p), PC_TCP_FIN_WAIT_2);
	advance_ms(10 * rto);
	expect_nothing();
}

/* Too many timeouts: the connection is reset and counted. */
static void test_rto_gives_up(void **state)
{
	struct pc_tcp_cfg cfg = pc_tcp_cfg;
	struct peer p;
	struct h_frame f;
	struct h_tcp t;

	(void)state;
	cfg.set.max_retries = 3;
	reset_tcp(&cfg);
	peer_init(&p, H_PORT_ECHO, 100, syn_opts_std, sizeof(syn_opts_std));
	struct pc_tcb *c = peer_open(&p);

	peer_send(&p, ACK | PSH, NULL, 100);
	expect(&p, ACK | PSH, &t, &f);
	for (int i = 0; i < 3; i++) {
		advance_to_rtx(c);
		expect(&p, ACK | PSH, &t, &f);
		assert_int_equal(t.seq, p.our_iss + 1);
	}
	advance_to_rtx(c);
	expect(&p, RST | ACK, &t, &f);
	assert_int_equal(state_of(&p), PC_TCP_CLOSED);
	assert_int_equal(h_lc->cnt.tcp_conns_timed_out, 1);
}

/* Fast retransmit (RFC 5681 3.2): the third duplicate ACK resends the
 * first unacknowledged segment; the ACK of all ends recovery. */
static void test_fast_retransmit(void **state)
{
	struct peer p;
	struct h_frame f;
	struct h_tcp t;

	(void)state;
	source_bytes(30000);
	/* No SACK: NewReno's three duplicate ACKs. */
	peer_init(&p, H_PORT_SOURCE, 100, syn_opts_mss, sizeof(syn_opts_mss));
	struct pc_tcb *c = peer_open(&p);
	unsigned int n = 0;

	while (peer_rx(&p, &f, &t))
		n++;
	assert_int_equal(n, 10); /* initial window: 10 segments (RFC 6928) */
	uint32_t first = p.our_iss + 1;

	/* The first segment arrived, the second was lost: the peer ACKs the
	 * first, then duplicates for each later one. */
	peer_tx(&p, ACK, p.nxt, first + 1460, NULL, 0, NULL, 0);
	while (peer_rx(&p, &f, &t))
		assert_true(seq_geq(t.seq, first + 10 * 1460)); /* new data only */
	for (int d = 1; d <= 3; d++) {
		peer_tx(&p, ACK, p.nxt, first + 1460, NULL, 0, NULL, 0);
		if (d < 3) {
			while (peer_rx(&p, &f, &t))
				assert_true(seq_geq(t.seq, first + 10 * 1460));
			assert_int_equal(h_lc->cnt.tcp_fast_retransmits, 0);
		}
	}
	assert_int_equal(h_lc->cnt.tcp_fast_retransmits, 1);
	assert_true(c->in_recovery);
	expect(&p, ACK, &t, &f);
	assert_int_equal(t.seq, first + 1460);
	assert_int_equal(t.len, 1460);
	while (peer_rx(&p, &f, &t))
		assert_true(seq_geq(t.seq, first + 10 * 1460));
	/* Full ACK: recovery ends. */
	peer_tx(&p, ACK, p.nxt, p.our_nxt, NULL, 0, NULL, 0);
	assert_false(c->in_recovery);
	assert_int_equal(c->snd_una, p.our_nxt);
}

/* A fast retransmission resends bytes that were sent, never more: with
 * less than a segment in flight (the peer's window held it to 1000
 * bytes) and more data waiting, bytes beyond snd_max would be
 * acknowledged "too new" and refused until a timeout. */
static void test_fast_retransmit_sent_bytes_only(void **state)
{
	struct peer p;
	struct h_frame f;
	struct h_tcp t;

	(void)state;
	source_bytes(3000);
	peer_init(&p, H_PORT_SOURCE, 100, syn_opts_mss, sizeof(syn_opts_mss));
	p.win = 1000;
	struct pc_tcb *c = peer_open(&p);

	expect(&p, ACK, &t, &f);
	assert_int_equal(t.len, 1000);
	expect_nothing();
	for (int d = 0; d < 3; d++)
		peer_tx(&p, ACK, p.nxt, p.our_iss + 1, NULL, 0, NULL, 0);
	assert_int_equal(h_lc->cnt.tcp_fast_retransmits, 1);
	expect(&p, ACK, &t, &f);
	assert_int_equal(t.seq, p.our_iss + 1);
	assert_int_equal(t.len, 1000);
	assert_int_equal(c->snd_max, p.our_iss + 1001);
	/* All of it acknowledged: the rest goes as the window allows. */
	peer_tx(&p, ACK, p.nxt, p.our_nxt, NULL, 0, NULL, 0);
	assert_int_equal(h_drops_total(), 0);
	expect(&p, ACK, &t, &f);
	assert_int_equal(t.seq, p.our_iss + 1001);
}

/* With SACK (RFC 6675): one duplicate ACK whose blocks cover more than
 * two segments marks the hole lost; it is resent at once. */
static void test_sack_retransmit(void **state)
{
	struct peer p;
	struct h_frame f;
	struct h_tcp t;
	uint8_t sack[12];

	(void)state;
	source_bytes(30000);
	peer_init(&p, H_PORT_SOURCE, 100, syn_opts_std, sizeof(syn_opts_std));
	struct pc_tcb *c = peer_open(&p);

	while (peer_rx(&p, &f, &t))
		;
	uint32_t first = p.our_iss + 1;

	/* Segments 2..4 of 10 arrived, the first did not. */
	sack[0] = 1;
	sack[1] = 1;
	sack[2] = 5;
	sack[3] = 10;
	put_block(sack + 4, first + 1448, first + 4 * 1448);
	peer_tx(&p, ACK, p.nxt, first, NULL, 0, sack, sizeof(sack));
	assert_int_equal(h_lc->cnt.tcp_fast_retransmits, 1);
	assert_true(c->in_recovery);
	expect(&p, ACK, &t, &f);
	assert_int_equal(t.seq, first);
	assert_int_equal(t.len, 1448);
	/* Never a SACKed segment again. */
	while (peer_rx(&p, &f, &t))
		if (seq_lt(t.seq, first + 4 * 1448))
			assert_false(pc_tcp_sack_is_sacked(c, t.seq));
	peer_tx(&p, ACK, p.nxt, p.our_nxt, NULL, 0, NULL, 0);
	assert_false(c->in_recovery);
	assert_int_equal(c->nb_sacked, 0);
}

/* The peer's window closes: we probe it after the RTO, backing off
 * (RFC 9293 3.8.6.1). The probe is an old empty segment (sequence
 * snd_una - 1, as Linux sends) that the peer must answer with an ACK
 * carrying its window; nothing goes beyond the window. When it opens,
 * data flows. */
static void expect_probe(struct peer *p, struct h_tcp *t, struct h_frame *f)
{
	expect(p, ACK, t, f);
	if (t->len != 0 || t->seq != tcb_of(p)->snd_una - 1)
		fail_msg("probe of %u bytes at +%u, want none at snd_una - 1", t->len,
			 t->seq - p->our_iss);
}

static void test_zero_window_probe(void **state)
{
	struct peer p;
	struct h_frame f;
	struct h_tcp t;

	(void)state;
	source_bytes(1000);
	peer_init(&p, H_PORT_SOURCE, 100, syn_opts_std, sizeof(syn_opts_std));
	peer_send(&p, SYN, NULL, 0);
	expect(&p, SYN | ACK, &t, &f);
	p.win = 0;
	peer_send(&p, ACK, NULL, 0);
	struct pc_tcb *c = tcb_of(&p);

	assert_int_equal(c->state, PC_TCP_ESTABLISHED);
	expect_nothing();
	uint32_t rto = c->rto_ms;

	advance_ms(rto - 1);
	expect_nothing();
	advance_ms(1);
	expect_probe(&p, &t, &f);
	assert_int_equal(h_lc->cnt.tcp_window_probes, 1);
	/* The peer answers, its window still closed: the next probe comes
	 * after twice the time. */
	peer_send(&p, ACK, NULL, 0);
	expect_nothing();
	advance_ms(2 * rto - 1);
	expect_nothing();
	advance_ms(1);
	expect_probe(&p, &t, &f);
	/* It opens: the data follows, the FIN on it. */
	p.win = 65535;
	peer_send(&p, ACK, NULL, 0);
	expect(&p, FIN | ACK | PSH, &t, &f);
	assert_int_equal(t.seq, p.our_iss + 1);
	assert_int_equal(t.len, 1000);
	expect_nothing();
	assert_int_equal(h_lc->cnt.tcp_retransmits, 0);
}

/* RFC 1122 4.2.2.17: as long as the peer answers our probes, a closed
 * window keeps the connection open, whatever max_retries (which counts
 * unanswered retransmissions), up to tcp persist-timeout; and nothing is
 * sent into the closed window. */
static void test_zero_window_persists(void **state)
{
	struct pc_tcp_cfg cfg = pc_tcp_cfg;
	struct peer p;
	struct h_frame f;
	struct h_tcp t;

	(void)state;
	cfg.set.max_retries = 3;
	reset_tcp(&cfg);
	source_bytes(5000);
	peer_init(&p, H_PORT_SOURCE, 100, syn_opts_std, sizeof(syn_opts_std));
	peer_send(&p, SYN, NULL, 0);
	expect(&p, SYN | ACK, &t, &f);
	p.win = 0;
	peer_send(&p, ACK, NULL, 0);
	for (unsigned int probe = 1; probe <= 3 * cfg.set.max_retries; probe++) {
		advance_to_rtx(tcb_of(&p));
		if (state_of(&p) != PC_TCP_ESTABLISHED)
			fail_msg("probe %u: the connection was given up (%s)", probe,
				 state_name(state_of(&p)));
		expect_probe(&p, &t, &f);
		peer_send(&p, ACK, NULL, 0);
		expect_nothing();
	}
	assert_int_equal(h_lc->cnt.tcp_conns_timed_out, 0);
	assert_int_equal(tcb_of(&p)->snd_nxt, p.our_iss + 1);
}

/* A peer that answers every probe with a closed window: the connection
 * is reset once the window has been closed for persist_timeout_s. */
static void test_zero_window_gives_up(void **state)
{
	struct pc_tcp_cfg cfg = pc_tcp_cfg;
	struct peer p;
	struct h_frame f;
	struct h_tcp t;
	uint64_t start, probes = 0;

	(void)state;
	cfg.set.persist_timeout_s = 10;
	reset_tcp(&cfg);
	source_bytes(5000);
	peer_init(&p, H_PORT_SOURCE, 100, syn_opts_std, sizeof(syn_opts_std));
	peer_send(&p, SYN, NULL, 0);
	expect(&p, SYN | ACK, &t, &f);
	p.win = 0;
	peer_send(&p, ACK, NULL, 0);
	start = h_lc->tcp.wheel.tick;
	while (state_of(&p) == PC_TCP_ESTABLISHED) {
		advance_to_rtx(tcb_of(&p));
		if (!peer_rx(&p, &f, &t))
			fail_msg("no probe and no RST after %" PRIu64 " ms",
				 h_lc->tcp.wheel.tick - start);
		if (t.flags & RST)
			break;
		probes++;
		peer_send(&p, ACK, NULL, 0);
	}
	assert_int_equal(t.flags, RST | ACK);
	assert_int_equal(state_of(&p), PC_TCP_CLOSED);
	assert_true(h_lc->tcp.wheel.tick - start >= 10000);
	assert_true(probes >= 3);
	assert_int_equal(h_lc->cnt.tcp_persist_timeouts, 1);
	assert_int_equal(h_lc->cnt.tcp_conns_timed_out, 1);
}

/* 4 KiB buffers, pool rings of them per worker (0: the default). */
static void reset_small_buffers(uint32_t pool)
{
	struct pc_tcp_cfg cfg = pc_tcp_cfg;

	cfg.set.rcvbuf = 4096;
	cfg.set.sndbuf = 4096;
	cfg.set.buffer_pool = pool;
	reset_tcp(&cfg);
}

/* Our window: echo stops reading while its send buffer is full, so the
 * receive buffer fills and the window we advertise closes; a probe is
 * ACKed with the closed window; when the peer reads, it all drains. */
static void test_zero_window_receive(void **state)
{
	struct peer p;
	struct h_frame f;
	struct h_tcp t;
	uint32_t sent = 0;

	(void)state;
	reset_small_buffers(0);
	peer_init(&p, H_PORT_ECHO, 100, syn_opts_std, sizeof(syn_opts_std));
	peer_send(&p, SYN, NULL, 0);
	expect(&p, SYN | ACK, &t, &f);
	assert_int_equal(t.win, 4096);
	p.win = 0; /* the peer reads nothing */
	peer_send(&p, ACK, NULL, 0);
	while (sent < 8192) {
		peer_send(&p, ACK, NULL, 1024);
		sent += 1024;
		expect(&p, ACK, &t, &f);
		assert_int_equal(t.len, 0);
		assert_int_equal(t.ack, p.nxt);
		assert_int_equal(t.win, sent <= 4096 ? 4096 : 8192 - sent);
	}
	/* Window closed: a probe byte is not taken (one drop), the ACK says
	 * so again. */
	struct pc_tcb *c = tcb_of(&p);

	assert_int_equal(h_drops_total(), 0);
	peer_tx(&p, ACK, p.nxt, p.our_nxt, NULL, 1, NULL, 0);
	expect(&p, ACK, &t, &f);
	assert_int_equal(t.ack, p.nxt);
	assert_int_equal(t.win, 0);
	assert_int_equal(h_drops_total(), 1);
	assert_int_equal(c->rcv_nxt, p.nxt);
	/* The peer opens its window: 4096 echoed bytes leave, echo reads the
	 * rest, our window reopens (an update goes out with the data). */
	p.win = 65535;
	peer_send(&p, ACK, NULL, 0);
	uint32_t echoed = 0;

	for (int round = 0; round < 10 && echoed < 8192; round++) {
		while (peer_rx(&p, &f, &t))
			echoed += t.len;
		peer_send(&p, ACK, NULL, 0);
	}
	assert_int_equal(echoed, 8192);
	assert_int_equal(pc_tcp_readable(c), 0);
}

/* Buffers come from the worker's pool: none while a connection is idle,
 * the receive buffer while unread or out-of-order data is in it, the send
 * buffer while anything is unsent or unacknowledged. */
static void test_buffers_taken_while_data(void **state)
{
	struct peer p;
	struct h_frame f;
	struct h_tcp t;
	uint8_t data[300];

	(void)state;
	reset_small_buffers(4);
	assert_int_equal(h_lc->tcp.nb_rings, 4);
	peer_init(&p, H_PORT_ECHO, 100, syn_opts_std, sizeof(syn_opts_std));
	struct pc_tcb *c = peer_open(&p);

	assert_null(c->rbuf);
	assert_null(c->sbuf);
	assert_int_equal(h_lc->tcp.nb_rings_used, 0);
	/* Echo reads at once (its receive buffer is given back) and writes:
	 * the send buffer is held until the peer acknowledges. */
	memset(data, 'e', sizeof(data));
	peer_send(&p, ACK | PSH, data, sizeof(data));
	expect(&p, ACK | PSH, &t, &f);
	assert_int_equal(t.len, sizeof(data));
	assert_null(c->rbuf);
	assert_non_null(c->sbuf);
	assert_int_equal(h_lc->tcp.nb_rings_used, 1);
	peer_send(&p, ACK, NULL, 0);
	assert_null(c->sbuf);
	assert_int_equal(h_lc->tcp.nb_rings_used, 0);
	/* Out of order: held above a hole, given back once filled and read. */
	peer_tx(&p, ACK, p.nxt + 100, p.our_nxt, data, 100, NULL, 0);
	expect(&p, ACK, &t, &f);
	assert_non_null(c->rbuf);
	assert_int_equal(h_lc->tcp.nb_rings_used, 1);
	peer_send(&p, ACK, data, 100);
	p.nxt += 100;
	while (peer_rx(&p, &f, &t))
		;
	assert_null(c->rbuf);
	peer_send(&p, ACK, NULL, 0);
	assert_int_equal(h_lc->tcp.nb_rings_used, 0);
	/* Gone: nothing held. */
	pc_tcp_abort(c);
	assert_int_equal(h_lc->tcp.nb_rings_used, 0);
}

/* A pool of three, the last kept for sending: a connection whose peer
 * reads nothing holds two, so a new connection is refused and another
 * one's data is dropped without being acknowledged; once a third
 * connection's write takes the last buffer, an application write comes
 * short. All counted. Once the first peer reads, its buffers come back,
 * the waiting writer is told it can write and the dropped data, sent
 * again, is taken. */
static void test_buffer_pool_empty(void **state)
{
	struct peer a, b, c, d;
	struct h_frame f;
	struct h_tcp t;
	uint32_t sent = 0;

	(void)state;
	reset_small_buffers(3);
	peer_init(&b, H_PORT_DISCARD, 500, syn_opts_std, sizeof(syn_opts_std));
	struct pc_tcb *cb = peer_open(&b);

	peer_init(&c, H_PORT_DISCARD, 700, syn_opts_std, sizeof(syn_opts_std));
	struct pc_tcb *cc = peer_open(&c);

	peer_init(&a, H_PORT_ECHO, 100, syn_opts_std, sizeof(syn_opts_std));
	struct pc_tcb *ca = peer_open(&a);

	a.win = 0; /* reads nothing */
	while (sent < 8192) {
		peer_send(&a, ACK, NULL, 1024);
		sent += 1024;
		while (peer_rx(&a, &f, &t))
			;
	}
	assert_non_null(ca->rbuf);
	assert_non_null(ca->sbuf);
	assert_int_equal(h_lc->tcp.nb_rings_used, 2);
	/* No ring to receive into: a new connection gets a RST. */
	peer_init(&d, H_PORT_ECHO, 900, syn_opts_std, sizeof(syn_opts_std));
	peer_send(&d, SYN, NULL, 0);
	expect(&d, RST | ACK, &t, &f);
	assert_int_equal(h_drop(PC_DROP_tcp_pool_empty_syn), 1);
	assert_null(tcb_of(&d));
	/* B's data: not taken, not acknowledged; the window it was offered
	 * stays (never shrunk). */
	uint32_t b_nxt = b.nxt;

	peer_send(&b, ACK, NULL, 100);
	expect(&b, ACK, &t, &f);
	assert_int_equal(t.ack, b_nxt);
	assert_int_equal(t.win, 4096);
	assert_int_equal(h_drop(PC_DROP_tcp_pool_empty_data), 1);
	assert_null(cb->rbuf);
	/* C's application writes (its peer does not acknowledge yet): the
	 * last buffer, kept for sending, goes. */
	assert_int_equal(pc_tcp_write(cc, "c", 1), 1);
	assert_int_equal(h_lc->tcp.nb_rings_used, 3);
	pc_tx_flush(h_lc);
	while (peer_rx(&c, &f, &t))
		;
	/* B's application writes: nothing taken, told later. */
	assert_int_equal(pc_tcp_write_space(cb), 0);
	assert_int_equal(pc_tcp_write(cb, "x", 1), 0);
	assert_int_equal(h_lc->cnt.tcp_pool_empty_writes, 1);
	assert_true(cb->ring_waiting);
	/* A's peer reads everything: both of A's buffers come back. */
	a.win = 65535;
	for (int round = 0; round < 20 && h_lc->tcp.nb_rings_used != 1; round++) {
		peer_send(&a, ACK, NULL, 0);
		while (peer_rx(&a, &f, &t))
			;
	}
	assert_int_equal(h_lc->tcp.nb_rings_used, 1);
	/* B's writer's turn comes on the next timer pass. */
	assert_false(cb->ring_waiting);
	assert_true(cb->want_writable);
	advance_ms(1);
	assert_false(cb->want_writable);
	assert_int_equal(pc_tcp_write_space(cb), 4096);
	/* B's data, sent again, is taken now. */
	b.nxt = b_nxt;
	peer_send(&b, ACK, NULL, 100);
	expect(&b, ACK, &t, &f);
	assert_int_equal(t.ack, b.nxt);
	assert_null(cb->rbuf); /* discard read it */
	pc_tcp_abort(ca);
	pc_tcp_abort(cb);
	pc_tcp_abort(cc);
	assert_int_equal(h_lc->tcp.nb_rings_used, 0);
	while (h_take(&f))
		;
}

/* Writing in place (what TLS seals its records with): the room offered
 * stops where the send buffer wraps around, a request for more gets
 * nothing (and takes no buffer), and what is filled in place and
 * committed goes out as if written. */
static void test_write_in_place(void **state)
{
	struct peer p;
	struct h_frame f;
	struct h_tcp t;
	uint8_t data[4096], out[4096];
	size_t got = 0;

	(void)state;
	reset_small_buffers(4);
	peer_init(&p, H_PORT_DISCARD, 100, syn_opts_std, sizeof(syn_opts_std));
	struct pc_tcb *c = peer_open(&p);

	/* Bytes up to 96 before the wrap (where the buffer starts depends
	 * on the initial sequence number). */
	size_t n1 = (pc_tcp_write_contig(c) + 4096 - 96) % 4096;

	memset(data, 'w', sizeof(data));
	assert_int_equal(pc_tcp_write(c, data, n1), n1);
	pc_tx_flush(h_lc);
	while (peer_rx(&p, &f, &t))
		;
	peer_send(&p, ACK, NULL, 0);
	assert_null(c->sbuf);
	/* 96 bytes to the wrap. */
	assert_int_equal(pc_tcp_write_contig(c), 96);
	assert_null(pc_tcp_write_place(c, 97));
	assert_null(c->sbuf);
	uint8_t *at = pc_tcp_write_place(c, 96);

	assert_non_null(at);
	assert_ptr_equal(at, c->sbuf + 4000);
	memset(at, 'a', 96);
	pc_tcp_write_commit(c, 96);
	/* The rest of the buffer, from its start, is one piece now. */
	assert_int_equal(pc_tcp_write_contig(c), 4000);
	at = pc_tcp_write_place(c, 1000);
	assert_ptr_equal(at, c->sbuf);
	memset(at, 'b', 1000);
	pc_tcp_write_commit(c, 1000);
	pc_tx_flush(h_lc);
	while (peer_rx(&p, &f, &t)) {
		if (t.len == 0)
			continue;
		assert_int_equal(t.seq, p.our_iss + 1 + n1 + got);
		memcpy(out + got, t.data, t.len);
		got += t.len;
	}
	assert_int_equal(got, 1096);
	for (size_t i = 0; i < got; i++)
		assert_int_equal(out[i], i < 96 ? 'a' : 'b');
	pc_tcp_abort(c);
	assert_int_equal(h_lc->tcp.nb_rings_used, 0);
}

/* RFC 9293 3.10.7.4: with a zero receive window no segment is acceptable
 * "but special allowance should be made to accept valid ACKs": the ACK a
 * peer's window probe carries still counts. */
static void test_zero_window_ack_on_probe(void **state)
{
	struct peer p;
	struct h_frame f;
	struct h_tcp t;

	(void)state;
	reset_small_buffers(0);
	peer_init(&p, H_PORT_ECHO, 100, syn_opts_std, sizeof(syn_opts_std));
	peer_send(&p, SYN, NULL, 0);
	expect(&p, SYN | ACK, &t, &f);
	p.win = 1000; /* the peer takes 1000 bytes, then reads nothing */
	peer_send(&p, ACK, NULL, 0);
	for (int i = 0; i < 8; i++)
		peer_send(&p, ACK, NULL, 1024);
	uint32_t in_flight = 0;

	while (peer_rx(&p, &f, &t))
		in_flight += t.len;
	assert_int_equal(in_flight, 1000);
	struct pc_tcb *c = tcb_of(&p);

	assert_int_equal(pc_tcp_rcv_window(c), 0);
	/* A probe byte that acknowledges our 1000 bytes. */
	peer_tx(&p, ACK, p.nxt, p.our_nxt, NULL, 1, NULL, 0);
	if (c->snd_una != p.our_nxt)
		fail_msg("the ACK on a probe into our closed window was ignored "
			 "(snd_una +%u, want +%u)",
			 c->snd_una - p.our_iss, p.our_nxt - p.our_iss);
	while (peer_rx(&p, &f, &t))
		;
}

/* A peer that filled our window past a hole (one of its segments lost)
 * sends its pure ACKs at the window's right edge: Linux and FreeBSD take
 * them (RFC 9293's strict test does not), and they carry the peer's only
 * news of our data. */
static void test_ack_at_right_edge(void **state)
{
	struct peer p;
	struct h_frame f;
	struct h_tcp t;
	uint8_t d[1024] = {0};

	(void)state;
	reset_small_buffers(0);
	peer_init(&p, H_PORT_ECHO, 100, syn_opts_std, sizeof(syn_opts_std));
	struct pc_tcb *c = peer_open(&p);
	uint32_t base = p.nxt;

	/* 1024 bytes, echoed (and not yet acknowledged by the peer). */
	peer_tx(&p, ACK | PSH, base, p.our_nxt, d, sizeof(d), NULL, 0);
	while (peer_rx(&p, &f, &t))
		;
	assert_int_equal(c->snd_max - c->snd_una, 1024);
	uint32_t edge = c->rcv_nxt + pc_tcp_rcv_window(c);

	/* [+1024, +2048) is lost; the rest of the window arrives. */
	for (uint32_t seq = base + 2048; seq < edge; seq += sizeof(d))
		peer_tx(&p, ACK, seq, p.our_iss + 1, d, sizeof(d), NULL, 0);
	while (peer_rx(&p, &f, &t))
		;
	assert_int_equal(c->rcv_nxt, base + 1024);
	/* Its ACK of our 1024 bytes, at the right edge. */
	peer_tx(&p, ACK, edge, p.our_nxt, NULL, 0, NULL, 0);
	if (c->snd_una != c->snd_max)
		fail_msg("a pure ACK at the right edge of our window was ignored");
	assert_int_equal(h_drops_total(), 0);
	while (peer_rx(&p, &f, &t))
		;
}

/* A retransmission of the bytes we received last carries the peer's
 * newest ACK: the ACK counts (Linux's tcp_sequence takes a segment that
 * ends at or after the last ACK we sent); the bytes are a counted drop. */
static void test_ack_on_retransmission(void **state)
{
	struct peer p;
	struct h_frame f;
	struct h_tcp t;
	uint8_t d[100] = {0};

	(void)state;
	peer_init(&p, H_PORT_ECHO, 100, syn_opts_std, sizeof(syn_opts_std));
	struct pc_tcb *c = peer_open(&p);
	uint32_t base = p.nxt;

	peer_send(&p, ACK | PSH, d, sizeof(d));
	expect(&p, ACK | PSH, &t, &f);
	assert_int_equal(t.len, sizeof(d));
	/* Our echo's ACK is lost: the peer sends its bytes again, and with
	 * them its ACK of the echo. */
	peer_tx(&p, ACK | PSH, base, p.our_nxt, d, sizeof(d), NULL, 0);
	if (c->snd_una != c->snd_max)
		fail_msg("the ACK on a retransmission of our newest bytes was ignored");
	expect(&p, ACK, &t, &f);
	assert_int_equal(t.ack, base + sizeof(d));
	assert_int_equal(h_lc->cnt.drop[PC_DROP_tcp_out_of_window], 1);
	/* Older than the last ACK we sent: refused, as Linux does. */
	peer_tx(&p, ACK | PSH, base - 1, p.our_nxt, d, 1, NULL, 0);
	expect(&p, ACK, &t, &f);
	assert_int_equal(h_lc->cnt.drop[PC_DROP_tcp_out_of_window], 2);
	expect_nothing();
}

/* After a timeout snd_nxt is back at snd_una, but the peer may hold all
 * we sent: its window starts at snd_max, so our pure ACKs carry snd_max
 * (as FreeBSD's do). With snd_nxt, Linux drops them as old. */
static void test_ack_seq_after_timeout(void **state)
{
	struct peer p;
	struct h_frame f;
	struct h_tcp t;
	uint8_t d[1] = {0};

	(void)state;
	source_bytes(3000);
	peer_init(&p, H_PORT_SOURCE, 100, syn_opts_std, sizeof(syn_opts_std));
	struct pc_tcb *c = peer_open(&p);

	while (peer_rx(&p, &f, &t))
		;
	advance_ms(c->rto_ms);
	expect(&p, ACK, &t, &f);
	assert_int_equal(t.seq, p.our_iss + 1);
	assert_true(seq_lt(c->snd_nxt, c->snd_max));
	/* A segment beyond our window: answered with a pure ACK. */
	peer_tx(&p, ACK, p.nxt + 1000000, p.our_iss + 1, d, sizeof(d), NULL, 0);
	expect(&p, ACK, &t, &f);
	assert_int_equal(t.len, 0);
	assert_int_equal(t.seq, c->snd_max);
}

/* Keepalive (RFC 1122 4.2.3.6): after the idle time, an old empty
 * segment every interval; an answer keeps the connection, enough
 * unanswered probes reset it. */
static void test_keepalive(void **state)
{
	struct pc_tcp_cfg cfg = pc_tcp_cfg;
	struct peer p;
	struct h_frame f;
	struct h_tcp t;

	(void)state;
	cfg.set.keepalive_idle_s = 2;
	cfg.set.keepalive_intvl_s = 1;
	cfg.set.keepalive_probes = 2;
	reset_tcp(&cfg);
	peer_init(&p, H_PORT_DISCARD, 100, syn_opts_std, sizeof(syn_opts_std));
	peer_open(&p);
	advance_ms(1999);
	expect_nothing();
	advance_ms(1);
	expect(&p, ACK, &t, &f);
	assert_int_equal(t.seq, p.our_nxt - 1);
	assert_int_equal(t.len, 0);
	assert_int_equal(h_lc->cnt.tcp_keepalives, 1);
	/* Answered: the next comes after another idle period. */
	peer_send(&p, ACK, NULL, 0);
	advance_ms(1999);
	expect_nothing();
	advance_ms(1);
	expect(&p, ACK, &t, &f);
	/* Unanswered: one more after the interval, then the reset. */
	advance_ms(1000);
	expect(&p, ACK, &t, &f);
	assert_int_equal(h_lc->cnt.tcp_keepalives, 3);
	advance_ms(1000);
	expect(&p, RST | ACK, &t, &f);
	assert_int_equal(state_of(&p), PC_TCP_CLOSED);
	assert_int_equal(h_lc->cnt.tcp_conns_timed_out, 1);
}

/* The idle timeout counts from the last segment received. */
static void test_idle_timeout(void **state)
{
	struct pc_tcp_cfg cfg = pc_tcp_cfg;
	struct peer p;
	struct h_frame f;
	struct h_tcp t;

	(void)state;
	cfg.set.idle_timeout_s = 2;
	reset_tcp(&cfg);
	peer_init(&p, H_PORT_DISCARD, 100, syn_opts_std, sizeof(syn_opts_std));
	peer_open(&p);
	advance_ms(1500);
	peer_send(&p, ACK | PSH, NULL, 10);
	expect(&p, ACK, &t, &f);
	advance_ms(1999);
	expect_nothing();
	assert_int_equal(state_of(&p), PC_TCP_ESTABLISHED);
	advance_ms(1);
	expect(&p, RST | ACK, &t, &f);
	assert_int_equal(state_of(&p), PC_TCP_CLOSED);
	assert_int_equal(h_lc->cnt.tcp_conns_timed_out, 1);
}

/* forward: a client connects, we open a connection to the backend; both
 * are established and linked. */
static void forward_open(struct peer *cl, struct peer *be)
{
	struct h_frame f;
	struct h_tcp t;

	peer_init(cl, H_PORT_FORWARD, 0x30000000, syn_opts_std, sizeof(syn_opts_std));
	peer_init(be, 0, 0x50000000, syn_opts_std, sizeof(syn_opts_std));
	be->addr = H_BACKEND;
	be->port = H_BACKEND_PORT;
	h_arp_learn(H_BACKEND, &h_peer_mac);
	peer_open(cl);
	/* Our active open: SYN with every option (RFC 7323, 2018). */
	if (!h_take(&f) || h_parse_tcp(&f, &t) != 0)
		fail_msg("no SYN to the backend");
	assert_int_equal(t.flags, SYN);
	assert_int_equal(t.dst, H_BACKEND);
	assert_int_equal(t.dport, H_BACKEND_PORT);
	struct parsed_opts o;

	parse_opts(&t, &o);
	assert_int_equal(o.mss, pc_tcp_cfg.mss);
	assert_true(o.sack_ok && o.ts && o.ws >= 0);
	be->dport = t.sport;
	be->our_iss = t.seq;
	be->our_nxt = t.seq + 1;
	be->tsecr = o.tsval;
	peer_send(be, SYN | ACK, NULL, 0);
	expect(be, ACK, &t, &f);
	assert_int_equal(state_of(be), PC_TCP_ESTABLISHED);
	assert_int_equal(state_of(cl), PC_TCP_ESTABLISHED);
}

/* Bytes both ways, then a FIN from each side passed on to the other. */
static void test_forward(void **state)
{
	static const uint8_t up[100] = "from the client", down[200] = "from the backend";
	struct peer cl, be;
	struct h_frame f;
	struct h_tcp t;

	(void)state;
	forward_open(&cl, &be);
	/* What one side brings leaves on the other at the end of the burst,
	 * after the ACK of its own segment. */
	peer_send(&cl, ACK | PSH, up, sizeof(up));
	expect(&cl, ACK, &t, &f);
	expect(&be, ACK | PSH, &t, &f);
	assert_int_equal(t.len, sizeof(up));
	assert_memory_equal(t.data, up, sizeof(up));
	peer_send(&be, ACK | PSH, down, sizeof(down));
	expect(&be, ACK, &t, &f);
	expect(&cl, ACK | PSH, &t, &f);
	assert_int_equal(t.len, sizeof(down));
	assert_memory_equal(t.data, down, sizeof(down));
	/* The backend closes: the client gets the FIN. */
	peer_send(&be, FIN | ACK, NULL, 0);
	expect(&cl, FIN | ACK, &t, &f);
	expect(&be, ACK, &t, &f);
	/* The client closes too: the backend gets the FIN. */
	peer_send(&cl, FIN | ACK, NULL, 0);
	expect(&be, FIN | ACK, &t, &f);
	expect(&cl, ACK, &t, &f);
	assert_int_equal(state_of(&cl), PC_TCP_TIME_WAIT);
	peer_send(&be, ACK, NULL, 0);
	expect_nothing();
	assert_int_equal(state_of(&be), PC_TCP_CLOSED);
	assert_int_equal(h_drops_total(), 0);
}

/* Three segments from the client in one burst are acknowledged once, and
 * leave towards the backend at the burst's end in full segments (1448,
 * 1448, 104), not one segment per segment that came (pc_tcp_write outside
 * the connection's own input). */
static void test_forward_gathers_a_burst(void **state)
{
	static uint8_t up[3000], got[3000];
	uint8_t b[3][2048];
	const uint16_t sizes[] = {1448, 1448, 104};
	struct peer cl, be;
	struct h_frame f;
	struct h_tcp t;

	(void)state;
	for (size_t i = 0; i < sizeof(up); i++)
		up[i] = (uint8_t)(i * 7 + 3);
	forward_open(&cl, &be);
	for (unsigned int i = 0; i < 3; i++) {
		uint16_t n = peer_frame(&cl, b[i], ACK, cl.nxt, cl.our_nxt, up + 1000 * i, 1000,
					NULL, 0);

		cl.nxt += 1000;
		h_inject(b[i], n);
	}
	h_run();
	/* One ACK for the client's three segments, at the burst's end. */
	expect(&cl, ACK, &t, &f);
	assert_int_equal(t.ack, cl.nxt);
	for (unsigned int i = 0, off = 0; i < 3; off += sizes[i++]) {
		expect(&be, i == 2 ? ACK | PSH : ACK, &t, &f);
		assert_int_equal(t.len, sizes[i]);
		memcpy(got + off, t.data, t.len);
	}
	expect_nothing();
	assert_memory_equal(got, up, sizeof(up));
}

/* A reset on one side resets the other. */
static void test_forward_reset(void **state)
{
	struct peer cl, be;
	struct h_frame f;
	struct h_tcp t;

	(void)state;
	forward_open(&cl, &be);
	peer_send(&be, RST, NULL, 0);
	expect(&cl, RST | ACK, &t, &f);
	assert_int_equal(t.seq, cl.our_nxt);
	expect_nothing();
	assert_int_equal(state_of(&be), PC_TCP_CLOSED);
	assert_int_equal(state_of(&cl), PC_TCP_CLOSED);

	forward_open(&cl, &be);
	peer_send(&cl, RST, NULL, 0);
	expect(&be, RST | ACK, &t, &f);
	expect_nothing();
	assert_int_equal(state_of(&be), PC_TCP_CLOSED);
	assert_int_equal(h_lc->tcp.nb_used, 0);
}

/* ------------------------------------------------------------------ */
/* SYN cookies: past the half-open limit no state is kept until the ACK
 * proves the peer saw our SYN-ACK. */

static void cookies_always(void)
{
	struct pc_tcp_cfg cfg = pc_tcp_cfg;

	cfg.set.syn_backlog = 0;
	reset_tcp(&cfg);
}

static void test_syn_cookies(void **state)
{
	static const uint8_t all[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1,
				      0, 0, 0, 0, 1, 3, 3, 7};
	struct peer p;
	struct h_frame f;
	struct h_tcp t;
	struct parsed_opts o;

	(void)state;
	cookies_always();
	peer_init(&p, H_PORT_ECHO, 0x40000000, all, sizeof(all));
	peer_send(&p, SYN, NULL, 0);
	expect(&p, SYN | ACK, &t, &f);
	parse_opts(&t, &o);
	assert_int_equal(o.mss, 1460);
	assert_true(o.sack_ok);
	assert_int_equal(o.ws, 1);
	assert_true(o.ts);
	assert_int_equal(o.tsecr, p.tsval - 1);
	/* The peer's shift (7) and SACK ride in TSval, which is not ahead of
	 * the clock that stamps our next segments. */
	assert_int_equal(o.tsval & 0x1f, 7 << 1 | 1);
	assert_true((int32_t)(o.tsval - pc_tcp_clock_ms(h_lc)) <= 0);
	uint32_t cookie_tsval = o.tsval;
	assert_int_equal(t.ack, p.nxt);
	assert_null(tcb_of(&p));
	assert_int_equal(h_lc->tcp.nb_half_open, 0);
	assert_int_equal(h_lc->cnt.tcp_syncookies_sent, 1);
	/* The SYN again: another cookie, still nothing stored. */
	peer_tx(&p, SYN, p.nxt - 1, 0, NULL, 0, NULL, 0);
	expect(&p, SYN | ACK, &t, &f);
	assert_null(tcb_of(&p));
	/* The ACK rebuilds the connection, data on it is echoed. */
	peer_send(&p, ACK | PSH, NULL, 50);
	struct pc_tcb *c = tcb_of(&p);

	assert_non_null(c);
	assert_int_equal(c->state, PC_TCP_ESTABLISHED);
	assert_int_equal(c->mss, 1460);
	assert_true(c->sack_ok);
	assert_true(c->ts_ok);
	assert_int_equal(c->rcv_wscale, 1);
	/* The peer's window reads as it means it: its field shifted by 7. */
	assert_int_equal(c->snd_wscale, 7);
	assert_int_equal(c->snd_wnd, (uint32_t)p.win << 7);
	assert_int_equal(h_lc->cnt.tcp_syncookies_ok, 1);
	expect(&p, ACK | PSH, &t, &f);
	assert_int_equal(t.len, 50);
	parse_opts(&t, &o);
	assert_true((int32_t)(o.tsval - cookie_tsval) >= 0);
	assert_int_equal(t.ack, p.nxt);
	assert_int_equal(t.seq, p.our_iss + 1);
	assert_int_equal(h_drops_total(), 0);
}

static void test_syn_cookies_plain(void **state)
{
	static const uint8_t mss1300[] = {2, 4, 0x05, 0x14};
	struct peer p;
	struct h_frame f;
	struct h_tcp t;
	struct parsed_opts o;

	(void)state;
	cookies_always();
	/* Without timestamps: no room for WS and SACK, MSS rounded down. */
	peer_init(&p, H_PORT_DISCARD, 77, mss1300, sizeof(mss1300));
	peer_send(&p, SYN, NULL, 0);
	expect(&p, SYN | ACK, &t, &f);
	parse_opts(&t, &o);
	assert_int_equal(o.mss, 1220);
	assert_false(o.sack_ok);
	assert_int_equal(o.ws, -1);
	assert_false(o.ts);
	peer_send(&p, ACK, NULL, 0);
	struct pc_tcb *c = tcb_of(&p);

	assert_non_null(c);
	assert_int_equal(c->mss, 1220);
	assert_false(c->sack_ok);
	assert_false(c->ts_ok);
	expect_nothing();
}

static void test_syn_cookies_forged(void **state)
{
	struct peer p;
	struct h_frame f;
	struct h_tcp t;

	(void)state;
	cookies_always();
	peer_init(&p, H_PORT_ECHO, 1000, syn_opts_mss, sizeof(syn_opts_mss));
	peer_send(&p, SYN, NULL, 0);
	expect(&p, SYN | ACK, &t, &f);
	/* An ACK whose cookie is off by one, one with the wrong ISN. */
	peer_tx(&p, ACK, p.nxt, p.our_nxt + 1, NULL, 0, NULL, 0);
	expect(&p, RST, &t, &f);
	assert_int_equal(t.seq, p.our_nxt + 1);
	peer_tx(&p, ACK, p.nxt + 1, p.our_nxt, NULL, 0, NULL, 0);
	expect(&p, RST, &t, &f);
	assert_int_equal(h_drop(PC_DROP_tcp_bad_cookie), 2);
	assert_int_equal(h_lc->cnt.tcp_syncookies_ok, 0);
	assert_null(tcb_of(&p));
	/* The genuine one still works. */
	peer_send(&p, ACK, NULL, 0);
	assert_int_equal(state_of(&p), PC_TCP_ESTABLISHED);
}

/* A cookie is taken only while cookies may be out there: a valid one
 * coming more than two minutes after the last cookie SYN-ACK is refused
 * like a forged one. */
static void test_syn_cookies_window(void **state)
{
	struct peer p;
	struct h_frame f;
	struct h_tcp t;

	(void)state;
	cookies_always();
	peer_init(&p, H_PORT_ECHO, 1000, syn_opts_mss, sizeof(syn_opts_mss));
	peer_send(&p, SYN, NULL, 0);
	expect(&p, SYN | ACK, &t, &f);
	advance_ms(120001);
	peer_tx(&p, ACK, p.nxt, p.our_nxt, NULL, 0, NULL, 0);
	expect(&p, RST, &t, &f);
	assert_int_equal(h_drop(PC_DROP_tcp_bad_cookie), 1);
	assert_null(tcb_of(&p));
	/* A new SYN, a new cookie: the window opens again. */
	peer_tx(&p, SYN, p.nxt - 1, 0, NULL, 0, NULL, 0);
	expect(&p, SYN | ACK, &t, &f);
	peer_send(&p, ACK, NULL, 0);
	assert_int_equal(state_of(&p), PC_TCP_ESTABLISHED);
}

/* RFC 5961 7: ACKs to invalid segments come out of a per-worker budget
 * per second; segments with data are answered anyway. */
static void test_challenge_ack_limit(void **state)
{
	struct pc_tcp_cfg cfg = pc_tcp_cfg;
	struct peer p;
	struct h_frame f;
	struct h_tcp t;

	(void)state;
	cfg.set.challenge_ack_limit = 3;
	reset_tcp(&cfg);
	peer_init(&p, H_PORT_ECHO, 1000, syn_opts_mss, sizeof(syn_opts_mss));
	peer_open(&p);
	for (int i = 0; i < 5; i++)
		peer_tx(&p, RST, p.nxt + 1 + (uint32_t)i, 0, NULL, 0, NULL, 0);
	for (int i = 0; i < 3; i++)
		expect(&p, ACK, &t, &f);
	expect_nothing();
	assert_int_equal(h_lc->cnt.tcp_challenge_acks, 3);
	assert_int_equal(h_lc->cnt.tcp_acks_rate_limited, 2);
	/* Old data is still answered (it cannot start an ACK loop); an old
	 * bare ACK is not. */
	peer_tx(&p, ACK | PSH, p.nxt - 10, p.our_nxt, (const uint8_t *)"0123456789", 10, NULL, 0);
	expect(&p, ACK, &t, &f);
	peer_tx(&p, ACK, p.nxt - 10, p.our_nxt, NULL, 0, NULL, 0);
	expect_nothing();
	assert_int_equal(h_lc->cnt.tcp_acks_rate_limited, 3);
	/* A second later the budget is back. */
	advance_ms(1000);
	peer_tx(&p, RST, p.nxt + 1, 0, NULL, 0, NULL, 0);
	expect(&p, ACK, &t, &f);
	assert_int_equal(state_of(&p), PC_TCP_ESTABLISHED);
}

/* A connection whose application has closed leaves the connection table
 * once all we sent is acknowledged: FIN_WAIT_2 and TIME_WAIT live in the
 * compact table, and what the peer still sends is ACKed (delayed, as a
 * close_notify before a FIN or RST) and discarded. */
static void test_closed_connections_compact(void **state)
{
	struct pc_tcp_cfg cfg = pc_tcp_cfg;
	struct peer p[3];
	struct h_frame f;
	struct h_tcp t;
	uint8_t junk[100] = {0};

	(void)state;
	cfg.set.max_conns = 2;
	reset_tcp(&cfg);
	source_bytes(100);
	/* Three in a row with room for two connections: each one's slot is
	 * free again as soon as its FIN is acknowledged. */
	for (int i = 0; i < 3; i++) {
		peer_init(&p[i], H_PORT_SOURCE, 5000, syn_opts_std, sizeof(syn_opts_std));
		peer_open(&p[i]);
		expect(&p[i], ACK | PSH, &t, &f);
		expect(&p[i], FIN | ACK, &t, &f);
		assert_int_equal(h_lc->tcp.nb_used, 1);
		peer_send(&p[i], ACK, NULL, 0);
		advance_ms(1); /* the app's on_closed, owed since its close */
		assert_int_equal(state_of(&p[i]), PC_TCP_FIN_WAIT_2);
		assert_null(tcb_of(&p[i]));
		assert_int_equal(h_lc->tcp.nb_used, 0);
	}
	assert_int_equal(h_lc->tcp.nb_tw[0], 3);
	assert_int_equal(h_lc->cnt.tcp_compacted, 3);
	/* Data after our close: discarded, ACKed after tcp delack. */
	peer_send(&p[0], ACK | PSH, junk, sizeof(junk));
	expect_nothing();
	assert_int_equal(h_lc->cnt.tcp_bytes_discarded, 100);
	/* The listing (SIGUSR2) gives FIN_WAIT_2's end, not the ACK's. */
	char *list = NULL;
	size_t list_len = 0;
	FILE *out = open_memstream(&list, &list_len);
	unsigned int listed = 0;

	pc_tcp_tw_dump(out, h_lc, 1);
	fclose(out);
	for (const char *l = list; (l = strstr(l, "FIN_WAIT_2 compact, ends in ")) != NULL; l++) {
		unsigned long ms = strtoul(l + strlen("FIN_WAIT_2 compact, ends in "), NULL, 10);

		assert_true(ms > cfg.set.fin_wait_2_ms - 100);
		listed++;
	}
	free(list);
	assert_int_equal(listed, 3);
	advance_ms(cfg.set.delack_ms - 1);
	expect_nothing();
	advance_ms(1);
	expect(&p[0], ACK, &t, &f);
	assert_int_equal(t.ack, p[0].nxt);
	assert_int_equal(t.seq, p[0].our_nxt);
	/* A second segment while an ACK is owed is ACKed at once; out of
	 * order, the ACK says where we are, at once. */
	peer_send(&p[0], ACK | PSH, junk, 10);
	expect_nothing();
	peer_send(&p[0], ACK | PSH, junk, 10);
	expect(&p[0], ACK, &t, &f);
	assert_int_equal(t.ack, p[0].nxt);
	peer_tx(&p[0], ACK | PSH, p[0].nxt + 500, p[0].our_nxt, junk, 10, NULL, 0);
	expect(&p[0], ACK, &t, &f);
	assert_int_equal(t.ack, p[0].nxt);
	assert_int_equal(h_drop(PC_DROP_tcp_out_of_window), 1);
	/* Data, then the FIN: TIME_WAIT, 2 MSL from now, one ACK for both. */
	peer_send(&p[0], ACK | PSH, junk, 24);
	peer_send(&p[0], FIN | ACK, NULL, 0);
	expect(&p[0], ACK, &t, &f);
	assert_int_equal(t.ack, p[0].nxt);
	expect_nothing();
	assert_int_equal(state_of(&p[0]), PC_TCP_TIME_WAIT);
	assert_int_equal(h_lc->tcp.nb_tw[1], 1);
	/* Data, then an exact RST, ends a FIN_WAIT_2 entry without a word;
	 * TIME_WAIT ignores RSTs. */
	peer_send(&p[1], ACK | PSH, junk, 24);
	peer_tx(&p[1], RST, p[1].nxt, 0, NULL, 0, NULL, 0);
	assert_int_equal(state_of(&p[1]), PC_TCP_CLOSED);
	peer_tx(&p[0], RST, p[0].nxt, 0, NULL, 0, NULL, 0);
	assert_int_equal(state_of(&p[0]), PC_TCP_TIME_WAIT);
	advance_ms(cfg.set.delack_ms);
	expect_nothing();
	/* The peer that never sends its FIN gets a RST after fin-wait-2,
	 * however late its data: the delayed ACK does not extend it. */
	advance_ms(cfg.set.fin_wait_2_ms - 2 * cfg.set.delack_ms - 20);
	peer_send(&p[2], ACK | PSH, junk, 10);
	advance_ms(10);
	expect_nothing();
	advance_ms(10);
	expect(&p[2], RST | ACK, &t, &f);
	assert_int_equal(state_of(&p[2]), PC_TCP_CLOSED);
	advance_ms(cfg.set.time_wait_ms);
	expect_nothing();
	assert_int_equal(state_of(&p[0]), PC_TCP_CLOSED);
	assert_int_equal(h_lc->tcp.nb_tw[0] + h_lc->tcp.nb_tw[1], 0);
}

/* With the compact table full, FIN_WAIT_2 stays a control block (under
 * its own limit) and TIME_WAIT is skipped, counted. */
static void test_compact_table_full(void **state)
{
	struct pc_tcp_cfg cfg = pc_tcp_cfg;
	struct peer a, b;
	struct h_frame f;
	struct h_tcp t;

	(void)state;
	cfg.set.max_time_wait = 1;
	reset_tcp(&cfg);
	source_bytes(100);
	peer_init(&a, H_PORT_SOURCE, 5000, syn_opts_std, sizeof(syn_opts_std));
	peer_init(&b, H_PORT_SOURCE, 5000, syn_opts_std, sizeof(syn_opts_std));
	for (struct peer *p = &a; p != NULL; p = p == &a ? &b : NULL) {
		peer_open(p);
		expect(p, ACK | PSH, &t, &f);
		expect(p, FIN | ACK, &t, &f);
		peer_send(p, ACK, NULL, 0);
		advance_ms(1);
	}
	assert_null(tcb_of(&a));
	assert_non_null(tcb_of(&b));
	assert_int_equal(state_of(&b), PC_TCP_FIN_WAIT_2);
	peer_send(&b, FIN | ACK, NULL, 0);
	expect(&b, ACK, &t, &f);
	assert_int_equal(state_of(&b), PC_TCP_CLOSED);
	assert_int_equal(h_lc->cnt.tcp_time_wait_skipped, 1);
	assert_int_equal(h_lc->tcp.nb_used, 0);
}

/* Exhaustion refuses new work with a counted RST and leaves the existing
 * connection alone (DESIGN.md "Memory"), with and without cookies. */
static void test_conn_limit(void **state)
{
	(void)state;
	for (int cookies = 0; cookies <= 1; cookies++) {
		struct pc_tcp_cfg cfg = h_tcp_defaults;
		struct peer a, b;
		struct h_frame f;
		struct h_tcp t;

		cfg.set.max_conns = 1;
		cfg.set.syn_backlog = cookies ? 0 : 256;
		reset_tcp(&cfg);
		peer_init(&a, H_PORT_ECHO, 1000, syn_opts_mss, sizeof(syn_opts_mss));
		peer_open(&a);
		peer_init(&b, H_PORT_ECHO, 2000, syn_opts_mss, sizeof(syn_opts_mss));
		peer_send(&b, SYN, NULL, 0);
		if (cookies) {
			expect(&b, SYN | ACK, &t, &f);
			peer_send(&b, ACK, NULL, 0);
		}
		expect(&b, cookies ? RST : RST | ACK, &t, &f);
		if (h_pending() != 0)
			fail_msg("%s: more than one RST", cookies ? "cookies" : "no cookies");
		assert_int_equal(h_drop(PC_DROP_tcp_conn_limit), 1);
		if (h_drops_total() != 1)
			fail_msg("%s: %" PRIu64 " drops counted for one refusal",
				 cookies ? "cookies" : "no cookies", h_drops_total());
		assert_null(tcb_of(&b));
		/* The first connection is untouched. */
		peer_send(&a, ACK | PSH, NULL, 10);
		expect(&a, ACK | PSH, &t, &f);
	}
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_seq_arith),
		cmocka_unit_test(test_ooo_add),
		cmocka_unit_test(test_ooo_merge),
		cmocka_unit_test(test_sack_update),
		cmocka_unit_test(test_sack_queries),
		cmocka_unit_test(test_rtt),
		cmocka_unit_test(test_cookie_mss),
		cmocka_unit_test(test_cookie_tamper),
		cmocka_unit_test(test_siphash),
		cmocka_unit_test(test_toeplitz),
		cmocka_unit_test(test_ring_sum),
		cmocka_unit_test_setup_teardown(test_syn_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multiseg_receive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tso_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ooo_receive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ooo_beyond_fin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sack_block_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ooo_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delayed_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rto, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rto_gives_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fast_retransmit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fast_retransmit_sent_bytes_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sack_retransmit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_window_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_window_persists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_window_gives_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_window_receive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffers_taken_while_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffer_pool_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_window_ack_on_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_at_right_edge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_on_retransmission, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_seq_after_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forward, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forward_gathers_a_burst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forward_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syn_cookies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syn_cookies_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syn_cookies_forged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syn_cookies_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_challenge_ack_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closed_connections_compact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compact_table_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conn_limit, setup, teardown),
	};
	struct CMUnitTest tests[RTE_DIM(fixed) + RTE_DIM(scripts)];

	memcpy(tests, fixed, sizeof(fixed));
	/* One test per script, named after it. */
	for (size_t i = 0; i < RTE_DIM(scripts); i++)
		tests[RTE_DIM(fixed) + i] = (struct CMUnitTest){
			.name = scripts[i].name,
			.test_func = run_script,
			.setup_func = setup,
			.teardown_func = teardown,
			.initial_state = (void *)(uintptr_t)&scripts[i],
		};
	if (h_init() != 0)
		return 1;
	int failed = _cmocka_run_group_tests("tcp", tests, RTE_DIM(tests), NULL, NULL);

	h_fini();
	return failed;
}
