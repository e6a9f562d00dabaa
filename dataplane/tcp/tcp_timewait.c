/* SPDX-License-Identifier: MIT */
/*
 * Closed connections kept compact (struct pc_tcp_tw): FIN_WAIT_2 and
 * TIME_WAIT once the application is done. A peer that stops after our
 * FIN, or a client that makes us close first again and again, then costs
 * an entry of this table for a bounded time, never a connection slot or
 * its buffers. Per worker, owner-only.
 */
#include <inttypes.h>
#include <stdio.h>

#include <rte_common.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_tcp.h>

#include "../dp.h"
#include "tcp.h"

#define TH_FIN RTE_TCP_FIN_FLAG
#define TH_SYN RTE_TCP_SYN_FLAG
#define TH_RST RTE_TCP_RST_FLAG
#define TH_ACK RTE_TCP_ACK_FLAG

static void tw_expire(struct pc_timer *t);

int pc_tcp_tw_init(struct pc_lcore *lc, int socket)
{
	struct pc_tcp_lcore *t = &lc->tcp;
	uint32_t n = pc_tcp_cfg.set.max_time_wait;
	char name[RTE_HASH_NAMESIZE];

	if (n == 0)
		return 0;
	snprintf(name, sizeof(name), "pc_tw_%p", (void *)lc);
	/* The extendable table takes every key up to n, whatever their
	 * hashes: an entry is refused only when the pool is empty. */
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = RTE_MAX(n, 64u),
		.key_len = sizeof(struct pc_tcp_key),
		.hash_func = rte_jhash,
		.socket_id = socket,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	t->tw_table = rte_hash_create(&hp);
	t->tws = rte_zmalloc_socket("pc_tws", sizeof(t->tws[0]) * n, RTE_CACHE_LINE_SIZE, socket);
	if (t->tw_table == NULL || t->tws == NULL) {
		fprintf(stderr,
			"portcullis: no memory for %u closing TCP connections (tcp time-wait MAX)\n",
			n);
		pc_tcp_tw_fini(lc);
		return -ENOMEM;
	}
	t->tw_free = NULL;
	for (uint32_t i = n; i-- > 0;) {
		t->tws[i].free_next = t->tw_free;
		t->tw_free = &t->tws[i];
	}
	return 0;
}

void pc_tcp_tw_fini(struct pc_lcore *lc)
{
	struct pc_tcp_lcore *t = &lc->tcp;

	rte_hash_free(t->tw_table);
	rte_free(t->tws);
	t->tw_table = NULL;
	t->tws = NULL;
	t->tw_free = NULL;
	t->nb_tw[0] = t->nb_tw[1] = 0;
}

static unsigned int tw_index(uint8_t state)
{
	return state == PC_TCP_TIME_WAIT;
}

static void tw_release(struct pc_tcp_tw *tw)
{
	struct pc_tcp_lcore *t = &tw->lc->tcp;

	pc_timer_cancel(&tw->timer);
	rte_hash_del_key(t->tw_table, &tw->key);
	t->nb_tw[tw_index(tw->state)]--;
	tw->state = PC_TCP_CLOSED; /* free: pc_tcp_tw_dump skips it */
	tw->free_next = t->tw_free;
	t->tw_free = tw;
}

static void tw_set_state(struct pc_tcp_tw *tw, uint8_t state, uint64_t ms)
{
	struct pc_tcp_lcore *t = &tw->lc->tcp;

	t->nb_tw[tw_index(tw->state)]--;
	tw->state = state;
	t->nb_tw[tw_index(state)]++;
	pc_timer_arm(&t->wheel, &tw->timer, ms);
}

static void tw_ack(struct pc_tcp_tw *tw)
{
	tw->ack_owed = false;
	pc_tcp_send_bare(tw->lc, &tw->key, TH_ACK, tw->snd_nxt, tw->rcv_nxt, tw->win, tw->ts_ok,
			 tw->ts_recent);
}

/* An ACK to a segment we refused: within the worker's budget, unless it
 * carried data (see pc_tcp_ack_budget). */
static void tw_invalid_ack(struct pc_tcp_tw *tw, const struct pc_tcp_seg *s)
{
	if ((s->len != 0 && !(s->flags & TH_SYN)) || pc_tcp_ack_budget(tw->lc))
		tw_ack(tw);
}

/* FIN_WAIT_2: ms until its limit, 0 once it has passed. */
static uint64_t fw2_left(const struct pc_tcp_tw *tw)
{
	int32_t left = (int32_t)(tw->fw2_end - (uint32_t)tw->lc->tcp.wheel.tick);

	return left > 0 ? (uint64_t)left : 0;
}

/* Time left on a control block's timer, or dflt if it is not armed. */
static uint64_t time_left(const struct pc_tcp_lcore *t, const struct pc_timer *tm, uint64_t dflt)
{
	if (!pc_timer_armed(tm))
		return dflt;
	return tm->expires > t->wheel.tick ? tm->expires - t->wheel.tick : 1;
}

bool pc_tcp_tw_take(struct pc_tcb *c)
{
	struct pc_lcore *lc = c->lc;
	struct pc_tcp_lcore *t = &lc->tcp;
	struct pc_tcp_tw *tw = t->tw_free;
	uint64_t ms;

	if (!c->app_closed || c->close_pending ||
	    (c->state != PC_TCP_FIN_WAIT_2 && c->state != PC_TCP_TIME_WAIT))
		return false;
	if (tw == NULL) {
		/* Table full. FIN_WAIT_2 stays a control block (under its own
		 * limit); TIME_WAIT is skipped: the peer's retransmitted FIN
		 * would then meet a RST, which RFC 1337's hazards make
		 * acceptable next to running out of memory. */
		if (c->state != PC_TCP_TIME_WAIT)
			return false;
		lc->cnt.tcp_time_wait_skipped++;
		pc_tcp_free(c, PC_TCP_CLOSED_NORMAL);
		return true;
	}
	if (c->state == PC_TCP_FIN_WAIT_2)
		ms = time_left(t, &c->t_keep, pc_tcp_cfg.set.fin_wait_2_ms);
	else
		ms = time_left(t, &c->t_rtx, pc_tcp_cfg.set.time_wait_ms);
	t->tw_free = tw->free_next;
	tw->key = c->key;
	tw->state = c->state;
	tw->ts_ok = c->ts_ok;
	/* What is left to receive is discarded: offer the whole buffer. */
	tw->win = (uint16_t)RTE_MIN((c->rbuf_mask + 1) >> c->rcv_wscale, 65535u);
	tw->snd_nxt = c->snd_max;
	tw->rcv_nxt = c->rcv_nxt;
	tw->ts_recent = c->ts_recent;
	tw->ack_owed = false;
	tw->fw2_end = (uint32_t)(t->wheel.tick + ms);
	tw->lc = lc;
	pc_timer_init(&tw->timer, tw_expire);
	pc_tcp_free(c, PC_TCP_CLOSED_NORMAL);
	/* Cannot fail: the table takes as many keys as the pool has entries,
	 * and the key left the connection table just above. */
	rte_hash_add_key_data(t->tw_table, &tw->key, tw);
	t->nb_tw[tw_index(tw->state)]++;
	lc->cnt.tcp_compacted++;
	pc_timer_arm(&t->wheel, &tw->timer, ms);
	return true;
}

struct pc_tcp_tw *pc_tcp_tw_lookup(struct pc_lcore *lc, const struct pc_tcp_key *k)
{
	void *data;

	if (lc->tcp.tw_table == NULL || rte_hash_lookup_data(lc->tcp.tw_table, k, &data) < 0)
		return NULL;
	return data;
}

bool pc_tcp_syn_reopens(bool ts_ok, uint32_t ts_recent, uint32_t rcv_nxt, uint32_t snd_nxt,
			const struct pc_tcp_seg *s, uint32_t *iss)
{
	/* A later timestamp; or the same one (a short exchange fits in one
	 * tick of the peer's clock) with a sequence number beyond the old
	 * connection's; without timestamps the sequence number alone. */
	bool seq_newer = seq_geq(s->seq, rcv_nxt);
	bool newer = ts_ok && s->o.ts
			     ? seq_gt(s->o.tsval, ts_recent) || (s->o.tsval == ts_recent && seq_newer)
			     : seq_newer;

	*iss = snd_nxt + 65535 + 2;
	*iss += *iss == 0;
	return newer;
}

bool pc_tcp_tw_input(struct pc_tcp_tw *tw, const struct pc_tcp_seg *s, uint32_t *iss)
{
	struct pc_lcore *lc = tw->lc;
	bool fin = s->flags & TH_FIN;

	if (s->flags & TH_RST) {
		/* FIN_WAIT_2: only an exact RST ends it (RFC 5961 3.2).
		 * TIME_WAIT ignores RSTs (RFC 1337). */
		if (tw->state == PC_TCP_FIN_WAIT_2 && s->seq == tw->rcv_nxt) {
			lc->cnt.tcp_conns_reset++;
			tw_release(tw);
		} else if (tw->state == PC_TCP_FIN_WAIT_2) {
			lc->cnt.drop[PC_DROP_tcp_rst_out_of_window]++;
		}
		return false;
	}
	if (s->flags & TH_SYN) {
		/* RFC 6191 in TIME_WAIT; a SYN on a live (FIN_WAIT_2)
		 * connection gets a challenge ACK (RFC 5961 4.2). */
		if (tw->state == PC_TCP_TIME_WAIT && !(s->flags & TH_ACK) &&
		    pc_tcp_syn_reopens(tw->ts_ok, tw->ts_recent, tw->rcv_nxt, tw->snd_nxt, s, iss)) {
			lc->cnt.tcp_time_wait_reused++;
			tw_release(tw);
			return true;
		}
		lc->cnt.drop[tw->state == PC_TCP_TIME_WAIT ? PC_DROP_tcp_time_wait_syn
							   : PC_DROP_tcp_syn_in_window]++;
		tw_invalid_ack(tw, s);
		return false;
	}
	if (tw->ts_ok && s->o.ts && seq_lt(s->o.tsval + 1, tw->ts_recent)) {
		lc->cnt.drop[PC_DROP_tcp_paws]++;
		tw_invalid_ack(tw, s);
		return false;
	}
	if (tw->state == PC_TCP_TIME_WAIT) {
		/* Only the peer's FIN again matters (our ACK of it was lost):
		 * ACK it, restart 2 MSL. */
		if (fin) {
			lc->cnt.drop[PC_DROP_tcp_out_of_window]++;
			if (s->seq + s->len + 1 == tw->rcv_nxt)
				pc_timer_arm(&lc->tcp.wheel, &tw->timer, pc_tcp_cfg.set.time_wait_ms);
			tw_invalid_ack(tw, s);
		}
		return false;
	}
	/* FIN_WAIT_2. The application has closed: data is acknowledged and
	 * discarded (a lingering close: a RST here could destroy our last
	 * records before the peer reads them); the FIN leads to TIME_WAIT.
	 * The ACK of data alone is delayed (tcp delack), or sent with a
	 * second segment's (RFC 5681 4.2): what a client sends after our FIN
	 * is mostly its close_notify, followed at once by its FIN, whose ACK
	 * covers both, or by a RST, which would answer ours. */
	if (!(s->flags & TH_ACK)) {
		lc->cnt.drop[PC_DROP_tcp_no_ack]++;
		return false;
	}
	if (s->len == 0 && !fin)
		return false;
	uint32_t end = s->seq + s->len + (fin ? 1 : 0);

	if (seq_gt(s->seq, tw->rcv_nxt) || seq_leq(end, tw->rcv_nxt)) {
		/* Out of order, or old: say where we are. */
		lc->cnt.drop[PC_DROP_tcp_out_of_window]++;
		tw_invalid_ack(tw, s);
		return false;
	}
	lc->cnt.tcp_bytes_discarded += s->seq + s->len - tw->rcv_nxt;
	tw->rcv_nxt = end;
	if (tw->ts_ok && s->o.ts)
		tw->ts_recent = s->o.tsval;
	if (fin) {
		tw_set_state(tw, PC_TCP_TIME_WAIT, pc_tcp_cfg.set.time_wait_ms);
		tw_ack(tw);
	} else if (tw->ack_owed) {
		tw_ack(tw);
		pc_timer_arm(&lc->tcp.wheel, &tw->timer, fw2_left(tw));
	} else {
		tw->ack_owed = true;
		pc_timer_arm(&lc->tcp.wheel, &tw->timer,
			     RTE_MIN((uint64_t)pc_tcp_cfg.set.delack_ms, fw2_left(tw)));
	}
	return false;
}

static void tw_expire(struct pc_timer *t)
{
	struct pc_tcp_tw *tw = container_of(t, struct pc_tcp_tw, timer);

	if (tw->state == PC_TCP_FIN_WAIT_2) {
		if (fw2_left(tw) != 0) {
			/* A delayed ACK, or one that data meanwhile carried. */
			if (tw->ack_owed)
				tw_ack(tw);
			pc_timer_arm(&tw->lc->tcp.wheel, &tw->timer, fw2_left(tw));
			return;
		}
		/* The peer never sent its FIN: tell it we are gone. */
		pc_tcp_send_bare(tw->lc, &tw->key, TH_RST | TH_ACK, tw->snd_nxt, tw->rcv_nxt, 0,
				 false, 0);
		tw->lc->cnt.tcp_conns_timed_out++;
	}
	tw_release(tw);
}

void pc_tcp_tw_dump(FILE *out, const struct pc_lcore *lc, unsigned int lcore_id)
{
	const struct pc_tcp_lcore *t = &lc->tcp;

	for (uint32_t i = 0; t->tws != NULL && i < pc_tcp_cfg.set.max_time_wait; i++) {
		const struct pc_tcp_tw *tw = &t->tws[i];
		uint8_t st = tw->state;
		uint32_t ip = rte_be_to_cpu_32(tw->key.raddr);

		if (st != PC_TCP_FIN_WAIT_2 && st != PC_TCP_TIME_WAIT)
			continue;
		/* FIN_WAIT_2's timer may be a delayed ACK before its end. */
		uint64_t left = fw2_left(tw);

		if (st == PC_TCP_TIME_WAIT)
			left = tw->timer.expires > t->wheel.tick ? tw->timer.expires - t->wheel.tick : 0;

		fprintf(out, "lcore%u %u.%u.%u.%u:%u %s compact, ends in %" PRIu64 " ms\n", lcore_id,
			ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff,
			rte_be_to_cpu_16(tw->key.rport), pc_tcp_state_names[st], left);
	}
}
