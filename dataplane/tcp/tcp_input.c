/* SPDX-License-Identifier: MIT */
/*
 * TCP input: RFC 9293's "segment arrives", with RFC 5961 (blind RST/SYN/
 * data injection), RFC 7323 (timestamps, PAWS, window scaling), RFC 2018
 * SACK, RFC 5681/6582/6675 loss recovery, and SYN cookies under pressure.
 * Runs on the worker that owns the connection; m's data starts at the IPv4
 * header.
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "../dp.h"
#include "tcp.h"

#define TH_FIN RTE_TCP_FIN_FLAG
#define TH_SYN RTE_TCP_SYN_FLAG
#define TH_RST RTE_TCP_RST_FLAG
#define TH_PSH RTE_TCP_PSH_FLAG
#define TH_ACK RTE_TCP_ACK_FLAG
#define TH_URG RTE_TCP_URG_FLAG

/* Options (RFC 9293 3.2, RFC 7323, RFC 2018). Returns false if malformed. */
static bool parse_options(const uint8_t *p, unsigned int len, bool syn, struct pc_tcp_opts *o)
{
	unsigned int i = 0;

	o->mss = 0;
	o->wscale = -1;
	o->sack_ok = false;
	o->ts = false;
	o->sack = NULL;
	o->nb_sack = 0;
	while (i < len) {
		uint8_t kind = p[i];

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || p[i + 1] < 2 || p[i + 1] > len - i)
			return false;
		uint8_t olen = p[i + 1];

		switch (kind) {
		case 2: /* MSS: SYN only */
			if (olen != 4)
				return false;
			if (syn)
				o->mss = (uint16_t)(p[i + 2] << 8 | p[i + 3]);
			break;
		case 3: /* window scale: SYN only */
			if (olen != 3)
				return false;
			if (syn)
				o->wscale = (int8_t)RTE_MIN(p[i + 2], 14);
			break;
		case 4: /* SACK permitted: SYN only */
			if (olen != 2)
				return false;
			if (syn)
				o->sack_ok = true;
			break;
		case 5: /* SACK */
			if ((olen - 2) % 8 != 0)
				return false;
			o->sack = p + i + 2;
			o->nb_sack = (uint8_t)((olen - 2) / 8);
			break;
		case 8: /* timestamps */
			if (olen != 10)
				return false;
			o->ts = true;
			o->tsval = (uint32_t)p[i + 2] << 24 | (uint32_t)p[i + 3] << 16 |
				   (uint32_t)p[i + 4] << 8 | p[i + 5];
			o->tsecr = (uint32_t)p[i + 6] << 24 | (uint32_t)p[i + 7] << 16 |
				   (uint32_t)p[i + 8] << 8 | p[i + 9];
			break;
		default:
			break;
		}
		i += olen;
	}
	return true;
}

uint8_t pc_tcp_our_wscale(void)
{
	uint8_t s = 0;

	while (s < 14 && (pc_tcp_cfg.set.rcvbuf >> s) > 65535)
		s++;
	return s;
}

/* Options negotiated in a SYN (passive open, cookie or simultaneous). */
static void take_syn_options(struct pc_tcb *c, const struct pc_tcp_opts *o)
{
	uint16_t peer_mss = o->mss != 0 ? o->mss : 536;

	c->mss = (uint16_t)RTE_MIN(peer_mss, pc_tcp_cfg.mss);
	if (c->mss < 64)
		c->mss = 64;
	if (o->wscale >= 0) {
		c->snd_wscale = (uint8_t)o->wscale;
		c->rcv_wscale = pc_tcp_our_wscale();
	}
	c->sack_ok = o->sack_ok;
	if (o->ts) {
		c->ts_ok = true;
		c->ts_recent = o->tsval;
		c->ts_recent_tick = c->lc->tcp.wheel.tick;
	}
}

/* The TCP checksum of a segment in an mbuf chain: len bytes from off.
 * (DPDK's rte_raw_cksum_mbuf, up to at least 25.x, drops the carries of
 * a piece that starts at an odd offset, and with them good segments.) */
static bool cksum_ok_chain(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip,
			   uint32_t off, uint32_t len)
{
	uint32_t sum = pc_tcp_phdr_sum(ip, (uint16_t)len), done = 0;

	for (; m != NULL && len != 0; m = m->next) {
		if (off >= m->data_len) {
			off -= m->data_len;
			continue;
		}
		uint32_t n = RTE_MIN(len, (uint32_t)m->data_len - off);
		sum = pc_tcp_sum_piece(sum, done, rte_pktmbuf_mtod_offset(m, const void *, off), n);
		done += n;
		len -= n;
		off = 0;
	}
	return len == 0 && __rte_raw_cksum_reduce(sum) == 0xffff;
}

/* A new connection when the worker's pool has no receive ring left: refused
 * (RST, counted) rather than left to sit on a window of zero; the
 * connections that hold rings keep working and free them. */
static bool refuse_no_ring(struct pc_lcore *lc, const struct pc_tcp_key *k,
			   const struct pc_tcp_seg *s)
{
	if (pc_tcp_rcv_ring_available(&lc->tcp))
		return false;
	lc->cnt.drop[PC_DROP_tcp_pool_empty_syn]++;
	pc_tcp_send_rst_for(lc, k, s->th, s->len);
	return true;
}

/* How long after the last cookie SYN-ACK cookies are accepted (Linux's
 * TCP_SYNCOOKIE_VALID). */
#define PC_TCP_COOKIE_VALID_MS 120000

static void init_cwnd(struct pc_tcb *c)
{
	c->cwnd = 10u * c->mss; /* RFC 6928 */
	c->ssthresh = UINT32_MAX;
}

/* A SYN to listener l. iss is the initial sequence number to use, 0 to
 * pick one (RFC 6528). */
static void passive_open(struct pc_lcore *lc, const struct pc_tcp_key *k,
			 const struct pc_tcp_seg *s, const struct pc_tcp_listener *l, uint32_t iss)
{
	struct pc_tcp_lcore *t = &lc->tcp;

	if (t->nb_half_open >= pc_tcp_cfg.set.syn_backlog) {
		/* Under pressure: answer statelessly. */
		uint16_t mss = (uint16_t)RTE_MIN(s->o.mss != 0 ? s->o.mss : 536, pc_tcp_cfg.mss);
		uint32_t iss = pc_tcp_cookie_make(k, s->seq, mss, &mss);
		int ws = s->o.wscale >= 0 ? pc_tcp_our_wscale() : -1;
		uint32_t now = pc_tcp_clock_ms(lc), tsval = now & ~0x1fu;

		if (s->o.ts) {
			tsval |= (uint32_t)(s->o.wscale >= 0 ? s->o.wscale : 0xf) << 1 |
				 (s->o.sack_ok ? 1 : 0);
			/* Never ahead of the clock: the peer's PAWS would drop
			 * our next segments, stamped with the real time, as
			 * old (Linux's cookie_init_timestamp does the same). */
			if ((int32_t)(tsval - now) > 0)
				tsval -= 0x20;
		}
		lc->cnt.tcp_syncookies_sent++;
		t->cookies_until = t->wheel.tick + PC_TCP_COOKIE_VALID_MS;
		pc_tcp_send_cookie_synack(lc, k, iss, s->seq + 1, mss, tsval, s->o.tsval, s->o.ts,
					  s->o.ts ? ws : -1, s->o.ts && s->o.sack_ok);
		return;
	}
	if (refuse_no_ring(lc, k, s))
		return;
	struct pc_tcb *c = pc_tcp_alloc(lc, k);

	if (c == NULL) {
		lc->cnt.drop[PC_DROP_tcp_conn_limit]++;
		pc_tcp_send_rst_for(lc, k, s->th, s->len);
		return;
	}
	c->passive = true;
	c->app = l->app;
	c->app_arg = l->app_arg;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_read = c->rcv_nxt;
	c->rcv_adv = c->rcv_nxt;
	c->iss = iss != 0 ? iss : pc_tcp_isn(k);
	c->snd_una = c->iss;
	c->snd_nxt = c->iss + 1;
	c->snd_max = c->snd_nxt;
	c->snd_buf = c->iss + 1;
	take_syn_options(c, &s->o);
	c->snd_wnd = s->wnd; /* never scaled in a SYN */
	c->snd_wl1 = s->seq;
	c->snd_wl2 = c->iss;
	init_cwnd(c);
	pc_tcp_set_state(c, PC_TCP_SYN_RCVD);
	lc->cnt.tcp_passive_opens++;
	pc_tcp_send_segment(c, TH_SYN | TH_ACK, c->iss, 0);
	pc_tcp_arm_rtx(c);
	pc_tcp_arm_keep(c);
}

/* The ACK of a cookie SYN-ACK: rebuild the connection from it. Returns
 * the connection, or NULL with *valid saying whether the cookie was good
 * (and the refusal already answered) or not. */
static struct pc_tcb *cookie_open(struct pc_lcore *lc, const struct pc_tcp_key *k,
				  const struct pc_tcp_seg *s, const struct pc_tcp_listener *l,
				  bool *valid)
{
	uint16_t mss;

	/* Only while cookies may be out there: a blind forgery needs a
	 * flood first (Linux's tcp_synq_no_recent_overflow). */
	*valid = lc->tcp.wheel.tick < lc->tcp.cookies_until &&
		 pc_tcp_cookie_check(k, s->seq - 1, s->ack - 1, &mss) == 0;
	if (!*valid || refuse_no_ring(lc, k, s))
		return NULL;
	struct pc_tcb *c = pc_tcp_alloc(lc, k);

	if (c == NULL) {
		lc->cnt.drop[PC_DROP_tcp_conn_limit]++;
		pc_tcp_send_rst_for(lc, k, s->th, s->len);
		return NULL;
	}
	lc->cnt.tcp_syncookies_ok++;
	c->passive = true;
	c->app = l->app;
	c->app_arg = l->app_arg;
	c->irs = s->seq - 1;
	c->rcv_nxt = s->seq;
	c->rcv_read = s->seq;
	c->last_ack_sent = s->seq;
	/* What the stateless SYN-ACK advertised. */
	c->rcv_adv = s->seq + RTE_MIN(pc_tcp_cfg.set.rcvbuf, 65535u);
	c->iss = s->ack - 1;
	c->snd_una = s->ack;
	c->snd_nxt = s->ack;
	c->snd_max = s->ack;
	c->snd_buf = s->ack;
	c->mss = mss;
	if (s->o.ts) {
		uint32_t ws = (s->o.tsecr >> 1) & 0xf;

		c->ts_ok = true;
		c->ts_recent = s->o.tsval;
		c->ts_recent_tick = lc->tcp.wheel.tick;
		c->sack_ok = s->o.tsecr & 1;
		if (ws != 0xf) {
			c->snd_wscale = (uint8_t)ws;
			c->rcv_wscale = pc_tcp_our_wscale();
		}
	}
	c->snd_wnd = s->wnd << c->snd_wscale;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	init_cwnd(c);
	lc->cnt.tcp_passive_opens++;
	if (!pc_tcp_established(c))
		return NULL;
	return c;
}

/* RFC 5961 3.2 / 4.2 / 5.2: answer a suspicious segment with our current
 * state (an ACK), and let the real peer sort it out. */
static void challenge_ack(struct pc_tcb *c)
{
	if (!pc_tcp_ack_budget(c->lc))
		return;
	c->lc->cnt.tcp_challenge_acks++;
	pc_tcp_send_ack(c);
}

/* An ACK to a segment we refused (out of window, old timestamp): showing
 * where we are is what lets a real peer recover, but a blind flood of
 * such segments must not make us send as many ACKs. */
static void invalid_ack(struct pc_tcb *c, const struct pc_tcp_seg *s)
{
	if ((s->len != 0 && !(s->flags & TH_SYN)) || pc_tcp_ack_budget(c->lc))
		pc_tcp_send_ack(c);
}

/* RFC 9293 3.10.7.4 "first: check sequence number", read as Linux reads
 * it (tcp_sequence): acceptable when the segment ends at or after the
 * last ACK we sent and starts at or before our window's right edge. The
 * strict reading refuses two segments that carry the peer's only news of
 * our data: a pure ACK from a peer that filled our window (its sequence
 * number is the right edge) and a retransmission of bytes we hold but
 * have not acknowledged yet (or that reaches into a closed window).
 * Refusing them, with losses both ways, left each end retransmitting
 * until it gave up on the other. Data beyond the window is trimmed in
 * process_data. */
static bool seq_acceptable(const struct pc_tcb *c, const struct pc_tcp_seg *s, uint32_t seglen)
{
	uint32_t left = seq_lt(c->last_ack_sent, c->rcv_nxt) ? c->last_ack_sent : c->rcv_nxt;

	return !seq_lt(s->seq + seglen, left) &&
	       !seq_gt(s->seq, c->rcv_nxt + pc_tcp_rcv_window(c));
}

static void rtt_from_ack(struct pc_tcb *c, const struct pc_tcp_seg *s)
{
	if (c->ts_ok && s->o.ts && s->o.tsecr != 0) {
		uint32_t ms = pc_tcp_clock_ms(c->lc) - s->o.tsecr;

		if (ms < 60000)
			pc_tcp_rtt_sample(c, ms * 1000 + 500);
		return;
	}
	/* Karn: only a segment sent once (rtt_seq is cleared on retransmit). */
	if (c->rtt_seq != 0 && seq_gt(s->ack, c->rtt_seq)) {
		pc_tcp_rtt_sample(c, (uint32_t)(pc_tcp_clock_us(c->lc) - c->rtt_start_us));
		c->rtt_seq = 0;
	}
}

/* Bytes of the send ring that the ACK releases (SYN and FIN occupy
 * sequence space but no buffer). */
static void release_acked(struct pc_tcb *c, uint32_t ack)
{
	uint32_t data_end = c->snd_buf + c->snd_len;
	uint32_t upto = seq_min(ack, data_end);

	if (seq_gt(upto, c->snd_buf)) {
		c->snd_len -= upto - c->snd_buf;
		c->snd_buf = upto;
		pc_tcp_sbuf_release(c);
	}
}

static bool our_fin_acked(const struct pc_tcb *c)
{
	/* FIN sent and its sequence (one past the data) acknowledged. */
	return c->fin_queued && seq_gt(c->snd_una, c->snd_buf + c->snd_len);
}

/* How much of the data at snd_una a retransmission resends: one segment,
 * and only bytes sent before. Beyond snd_max the peer would acknowledge
 * bytes we do not count as sent, and its ACKs would be refused as too
 * new until a timeout sent them again. */
static uint32_t head_rtx_len(const struct pc_tcb *c)
{
	uint32_t data_end = c->snd_buf + c->snd_len;
	uint32_t end = seq_lt(c->snd_max, data_end) ? c->snd_max : data_end;

	return seq_gt(end, c->snd_una) ? RTE_MIN(pc_tcp_smss(c), end - c->snd_una) : 0;
}

/* ACK processing for synchronized states. Returns false if the segment
 * must not be processed further (dropped, or the connection is gone). */
static bool process_ack(struct pc_tcb *c, const struct pc_tcp_seg *s)
{
	struct pc_lcore *lc = c->lc;
	uint64_t now_us = pc_tcp_clock_us(lc);

	if (seq_gt(s->ack, c->snd_max)) {
		lc->cnt.drop[PC_DROP_tcp_ack_too_new]++;
		challenge_ack(c);
		return false;
	}
	/* RFC 5961 5.2: an ACK older than snd_una minus the largest window
	 * we could have sent is an injection attempt. */
	if (seq_lt(s->ack, c->snd_una - (c->sbuf_mask + 1))) {
		lc->cnt.drop[PC_DROP_tcp_ack_too_old]++;
		challenge_ack(c);
		return false;
	}
	if (c->sack_ok && s->o.nb_sack != 0)
		pc_tcp_sack_update(c, s->o.sack, s->o.nb_sack);

	uint32_t old_wnd = c->snd_wnd;

	/* Window update (RFC 9293 3.10.7.4, SND.WL1/WL2). */
	if (seq_lt(c->snd_wl1, s->seq) ||
	    (c->snd_wl1 == s->seq && seq_leq(c->snd_wl2, s->ack))) {
		c->snd_wnd = s->wnd << c->snd_wscale;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		if (c->snd_wnd != 0)
			c->zero_wnd_tick = 0;
	}

	if (seq_gt(s->ack, c->snd_una)) {
		uint32_t acked = s->ack - c->snd_una;

		rtt_from_ack(c, s);
		c->snd_una = s->ack;
		if (seq_lt(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		release_acked(c, s->ack);
		pc_tcp_sack_trim(c);
		c->rtx_count = 0;
		c->dupacks = 0;
		if (c->in_recovery) {
			if (seq_geq(s->ack, c->recover)) {
				/* Full ACK: leave recovery (RFC 6582 3.2 step 3). */
				c->in_recovery = false;
				c->cwnd = RTE_MIN(c->ssthresh,
						  RTE_MAX(c->snd_max - c->snd_una, (uint32_t)c->mss) +
							  c->mss);
			} else {
				/* Partial ACK: the next hole is lost too. */
				if (!c->sack_ok || c->nb_sacked == 0) {
					uint32_t len = head_rtx_len(c);

					if (len != 0) {
						pc_tcp_send_segment(c, TH_ACK, c->snd_una, len);
						lc->cnt.tcp_retransmits++;
					}
				}
				c->cwnd = c->cwnd > acked ? c->cwnd - acked + c->mss : c->mss;
			}
		} else {
			c->cc->on_ack(c, acked, now_us);
		}
		if (c->snd_una == c->snd_max)
			pc_timer_cancel(&c->t_rtx);
		else
			pc_tcp_arm_rtx(c);
		if (c->want_writable && pc_tcp_write_space(c) != 0 && c->app_ctx != NULL) {
			c->want_writable = false;
			c->app->on_writable(c, c->app_ctx);
			if (c->state == PC_TCP_CLOSED)
				return false;
		}
		return true;
	}
	/* Duplicate ACK (RFC 5681 2): nothing new acked, no data, no
	 * window change, data outstanding. */
	if (s->ack == c->snd_una && s->len == 0 && !(s->flags & (TH_SYN | TH_FIN)) &&
	    c->snd_wnd == old_wnd && c->snd_wnd != 0 && c->snd_max != c->snd_una) {
		c->dupacks++;
		if (c->in_recovery) {
			c->cwnd += c->mss; /* inflation: one segment left the network */
		} else if (c->dupacks == 3 ||
			   (c->sack_ok && pc_tcp_sack_bytes(c) > 2u * c->mss)) {
			/* Fast retransmit (NewReno / SACK-based, RFC 6675 IsLost). */
			if (seq_gt(c->snd_una, c->recover) || c->recover == 0 ||
			    c->snd_una == c->recover) {
				lc->cnt.tcp_fast_retransmits++;
				c->cc->on_loss(c, now_us);
				c->recover = c->snd_max;
				c->in_recovery = true;
				c->high_rxt = c->snd_una;
				uint32_t len = head_rtx_len(c);

				if (len != 0) {
					pc_tcp_send_segment(c, TH_ACK, c->snd_una, len);
					c->high_rxt = c->snd_una + len;
					lc->cnt.tcp_retransmits++;
				}
				c->rtt_seq = 0;
				pc_tcp_arm_rtx(c);
			}
		}
	}
	return true;
}

/* Data and FIN for ESTABLISHED, FIN_WAIT_1 and FIN_WAIT_2. */
static void process_data(struct pc_tcb *c, const struct pc_tcp_seg *s)
{
	struct pc_lcore *lc = c->lc;
	uint32_t seq = s->seq, len = s->len, off = s->data_off;
	bool fin = s->flags & TH_FIN;

	/* Trim what we already have. */
	if (seq_lt(seq, c->rcv_nxt)) {
		uint32_t dup = c->rcv_nxt - seq;

		if (dup >= len) {
			if (fin && seq + len == c->rcv_nxt) {
				len = 0;
				seq = c->rcv_nxt;
			} else {
				/* Pure duplicate (a lost ACK): its ACK counted, its
				 * bytes are dropped; re-ACK at once. */
				lc->cnt.drop[PC_DROP_tcp_out_of_window]++;
				c->ack_now = true;
				return;
			}
		} else {
			seq += dup;
			off += dup;
			len -= dup;
		}
	}
	/* Trim to the receive buffer (the window we offered, or more if the
	 * application has read since). */
	uint32_t room_end = c->rcv_read + c->rbuf_mask + 1;

	if (seq_gt(seq + len, room_end)) {
		uint32_t over = seq + len - room_end;

		lc->cnt.drop[PC_DROP_tcp_beyond_window] += over >= len ? 1 : 0;
		len = over >= len ? 0 : len - over;
		fin = false;
		c->ack_now = true;
	}
	if (len != 0 && !pc_tcp_rbuf_take(c)) {
		/* Nothing stored, nothing acknowledged: the peer sends it again
		 * once a ring is free. */
		lc->cnt.drop[PC_DROP_tcp_pool_empty_data]++;
		c->ack_now = true;
		return;
	}
	if (len != 0) {
		if (seq == c->rcv_nxt) {
			pc_tcp_ring_put_mbuf(c->rbuf, c->rbuf_mask, seq, s->m, off, len);
			c->rcv_nxt += len;
			if (c->nb_ooo != 0) {
				pc_tcp_ooo_merge(c);
				c->ack_now = true; /* a hole filled: tell the sender now */
			}
			/* ACK every second full-sized segment (RFC 5681 4.2), a
			 * short one (the end of a message) at once, unless a
			 * reply is expected to carry it (pingpong). */
			if (len >= c->mss - (c->ts_ok ? 12u : 0u) || c->pingpong)
				c->segs_unacked++;
			else
				c->segs_unacked += 2;
		} else if (pc_tcp_ooo_add(c, seq, seq + len)) {
			pc_tcp_ring_put_mbuf(c->rbuf, c->rbuf_mask, seq, s->m, off, len);
			c->ooo_recent = seq;
			lc->cnt.tcp_ooo_segments++;
			c->ack_now = true; /* duplicate ACK with SACK blocks */
			fin = false;       /* accepted once it is in order */
		} else {
			lc->cnt.drop[PC_DROP_tcp_ooo_full]++;
			c->ack_now = true;
			return;
		}
	}
	if (fin && seq + len == c->rcv_nxt && !c->fin_rcvd) {
		c->rcv_nxt++;
		c->fin_rcvd = true;
		c->nb_ooo = 0; /* nothing can follow a FIN: data beyond it is bogus */
		pc_tcp_rbuf_release(c);
		c->ack_now = true;
		switch (c->state) {
		case PC_TCP_ESTABLISHED:
			pc_tcp_set_state(c, PC_TCP_CLOSE_WAIT);
			break;
		case PC_TCP_FIN_WAIT_1:
			if (our_fin_acked(c))
				pc_tcp_enter_time_wait(c);
			else
				pc_tcp_set_state(c, PC_TCP_CLOSING);
			break;
		case PC_TCP_FIN_WAIT_2:
			pc_tcp_enter_time_wait(c);
			break;
		default:
			break;
		}
	}
	/* In ESTABLISHED the ACK waits for the end of the burst: one ACK for
	 * what a burst brought, as GRO gives Linux one per aggregate, where it
	 * was one per two segments. */
	if (c->segs_unacked >= 2) {
		if (c->ack_now || c->state != PC_TCP_ESTABLISHED || !pc_tcp_defer_ack(c))
			c->ack_now = true;
	} else if (len != 0 && !c->ack_now && !pc_timer_armed(&c->t_delack))
		pc_timer_arm(&lc->tcp.wheel, &c->t_delack, pc_tcp_cfg.set.delack_ms);
}

static void tcp_established_input(struct pc_tcb *c, struct pc_tcp_seg *s)
{
	struct pc_lcore *lc = c->lc;
	uint32_t seglen = s->len + ((s->flags & TH_SYN) ? 1 : 0) + ((s->flags & TH_FIN) ? 1 : 0);

	/* PAWS (RFC 7323 5.3), with Linux's one-tick tolerance: segments
	 * reordered on the way (or by a hand-off between workers) within a
	 * millisecond are not old duplicates. */
	if (c->ts_ok && s->o.ts && !(s->flags & TH_RST) && seq_lt(s->o.tsval + 1, c->ts_recent)) {
		lc->cnt.drop[PC_DROP_tcp_paws]++;
		invalid_ack(c, s);
		return;
	}
	if (c->state == PC_TCP_SYN_RCVD && (s->flags & TH_SYN) && !(s->flags & TH_ACK) &&
	    s->seq == c->irs) {
		/* Our SYN-ACK was lost: send it again. */
		pc_tcp_send_segment(c, TH_SYN | TH_ACK, c->iss, 0);
		return;
	}
	if (c->state == PC_TCP_TIME_WAIT) {
		/* RFC 9293 3.10.7.4: only a retransmitted FIN matters; ACK it and
		 * restart 2 MSL. A RST is ignored (RFC 1337). */
		if ((s->flags & TH_FIN) && !(s->flags & TH_RST)) {
			lc->cnt.drop[PC_DROP_tcp_out_of_window]++;
			pc_tcp_send_ack(c);
			pc_tcp_enter_time_wait(c);
		}
		return;
	}
	if (!seq_acceptable(c, s, seglen)) {
		if (s->flags & TH_RST) {
			lc->cnt.drop[PC_DROP_tcp_rst_out_of_window]++;
			return;
		}
		lc->cnt.drop[PC_DROP_tcp_out_of_window]++;
		invalid_ack(c, s);
		return;
	}
	if (s->flags & TH_RST) {
		/* RFC 5961 3.2: only an exact match resets. */
		if (s->seq == c->rcv_nxt) {
			/* What the burst deferred runs first: an application
			 * told of data that came before the RST (a TLS alert,
			 * then the reset) reads it before the connection goes. */
			if (pc_tcp_readable(c) != 0) {
				struct pc_tcp_key key = c->key;

				pc_tcp_run_deferred(lc);
				if (c->state == PC_TCP_CLOSED ||
				    memcmp(&key, &c->key, sizeof(key)) != 0)
					return; /* closed meanwhile */
			}
			pc_tcp_free(c, c->state == PC_TCP_SYN_RCVD && c->app_ctx == NULL
					       ? PC_TCP_CLOSED_REFUSED
					       : PC_TCP_CLOSED_RESET);
		} else {
			lc->cnt.drop[PC_DROP_tcp_rst_in_window]++;
			challenge_ack(c);
		}
		return;
	}
	if (s->flags & TH_SYN) {
		/* RFC 5961 4.2: a SYN in a synchronized state. */
		lc->cnt.drop[PC_DROP_tcp_syn_in_window]++;
		challenge_ack(c);
		return;
	}
	if (!(s->flags & TH_ACK)) {
		lc->cnt.drop[PC_DROP_tcp_no_ack]++;
		return;
	}
	/* Timestamps: remember the peer's clock (RFC 7323 4.3). */
	if (c->ts_ok && s->o.ts && seq_leq(s->seq, c->last_ack_sent)) {
		c->ts_recent = s->o.tsval;
		c->ts_recent_tick = lc->tcp.wheel.tick;
	}
	c->last_rx_tick = lc->tcp.wheel.tick;
	c->keep_probes = 0;

	if (c->state == PC_TCP_SYN_RCVD) {
		if (!seq_in(s->ack, c->snd_una + 1, c->snd_max + 1)) {
			lc->cnt.drop[PC_DROP_tcp_bad_ack]++;
			pc_tcp_send_rst_for(lc, &c->key, s->th, s->len);
			return;
		}
		c->snd_wnd = s->wnd << c->snd_wscale;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		if (!pc_tcp_established(c))
			return;
	}
	if (!process_ack(c, s))
		return;

	switch (c->state) {
	case PC_TCP_FIN_WAIT_1:
		if (our_fin_acked(c)) {
			pc_tcp_set_state(c, PC_TCP_FIN_WAIT_2);
			pc_tcp_arm_keep(c);
		}
		break;
	case PC_TCP_CLOSING:
		if (our_fin_acked(c))
			pc_tcp_enter_time_wait(c);
		break;
	case PC_TCP_LAST_ACK:
		if (our_fin_acked(c)) {
			/* Done, unless the application still has data to read:
			 * then the connection waits in TIME_WAIT for it. */
			if (pc_tcp_readable(c) != 0 && c->app_ctx != NULL && !c->app_closed) {
				pc_tcp_enter_time_wait(c);
				return;
			}
			pc_tcp_free(c, PC_TCP_CLOSED_NORMAL);
			return;
		}
		break;
	default:
		break;
	}

	if (c->state == PC_TCP_ESTABLISHED || c->state == PC_TCP_FIN_WAIT_1 ||
	    c->state == PC_TCP_FIN_WAIT_2) {
		uint32_t before = c->rcv_nxt;
		bool fin_before = c->fin_rcvd;

		/* A TLS flight is several writes: one segment for all of them
		 * (and the FIN and ACK), sent below. */
		c->corked = true;
		lc->tcp.in_input = true;
		process_data(c, s);
		if (c->rcv_nxt != before && pc_tcp_readable(c) != 0 && c->app_closed) {
			/* The application has closed: acknowledged, discarded. */
			lc->cnt.tcp_bytes_discarded += pc_tcp_readable(c);
			c->rcv_read += (uint32_t)pc_tcp_readable(c);
			pc_tcp_rbuf_release(c);
		} else if (c->rcv_nxt != before && pc_tcp_readable(c) != 0 && c->app_ctx != NULL) {
			c->app->on_readable(c, c->app_ctx);
		}
		if (c->state != PC_TCP_CLOSED && c->fin_rcvd && !fin_before && c->app_ctx != NULL &&
		    !c->app_closed)
			c->app->on_peer_fin(c, c->app_ctx);
		lc->tcp.in_input = false;
		if (c->state == PC_TCP_CLOSED)
			return;
		c->corked = false;
	} else if (s->len != 0 || (s->flags & TH_FIN)) {
		/* CLOSE_WAIT, CLOSING, LAST_ACK: the peer already sent FIN, so
		 * this is a retransmission (its ACK counted above). */
		lc->cnt.drop[PC_DROP_tcp_out_of_window]++;
		c->ack_now = true;
	}
	pc_tcp_output(c);
	pc_tcp_close_if_drained(c);
	pc_tcp_tw_take(c);
}

static void syn_sent_input(struct pc_tcb *c, struct pc_tcp_seg *s)
{
	struct pc_lcore *lc = c->lc;

	if ((s->flags & TH_ACK) && !seq_in(s->ack, c->iss + 1, c->snd_max + 1)) {
		lc->cnt.drop[PC_DROP_tcp_bad_ack]++;
		if (!(s->flags & TH_RST))
			pc_tcp_send_rst_for(lc, &c->key, s->th, s->len);
		return;
	}
	if (s->flags & TH_RST) {
		if (s->flags & TH_ACK)
			pc_tcp_free(c, PC_TCP_CLOSED_REFUSED);
		return;
	}
	if (!(s->flags & TH_SYN)) {
		lc->cnt.drop[PC_DROP_tcp_no_ack]++;
		return;
	}
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_read = c->rcv_nxt;
	c->rcv_adv = c->rcv_nxt;
	c->last_ack_sent = c->rcv_nxt;
	take_syn_options(c, &s->o);
	if (s->o.wscale < 0)
		c->rcv_wscale = 0; /* the peer did not agree to scaling */
	c->snd_wnd = s->wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	init_cwnd(c);
	if (s->flags & TH_ACK) {
		rtt_from_ack(c, s);
		c->snd_una = s->ack;
		pc_timer_cancel(&c->t_rtx);
		c->rtx_count = 0;
		c->ack_now = true;
		if (!pc_tcp_established(c))
			return;
		pc_tcp_output(c);
	} else {
		/* Simultaneous open. */
		pc_tcp_set_state(c, PC_TCP_SYN_RCVD);
		pc_tcp_send_segment(c, TH_SYN | TH_ACK, c->iss, 0);
	}
}

/* RFC 6191 (pc_tcp_syn_reopens): a newer SYN may reopen a connection we
 * hold in TIME_WAIT. We close first on most connections, so clients that
 * reuse their port (Linux does, at once) depend on it. The new connection
 * starts far above the old one's sequence space, as Linux does. Anything
 * else is an old duplicate: ACK it (the peer answers a stale SYN's ACK
 * with a RST and tries again) and count it. The compact table's entries
 * (tcp_timewait.c) do the same; this is for a control block still in
 * TIME_WAIT because its application has not read everything yet. */
static void time_wait_syn(struct pc_tcb *c, const struct pc_tcp_seg *s)
{
	struct pc_lcore *lc = c->lc;
	struct pc_tcp_key k = c->key;
	const struct pc_tcp_listener *l = pc_tcp_find_listener(k.lport);
	uint32_t iss;

	if (l == NULL ||
	    !pc_tcp_syn_reopens(c->ts_ok, c->ts_recent, c->rcv_nxt, c->snd_nxt, s, &iss)) {
		lc->cnt.drop[PC_DROP_tcp_time_wait_syn]++;
		invalid_ack(c, s);
		return;
	}
	lc->cnt.tcp_time_wait_reused++;
	pc_tcp_free(c, PC_TCP_CLOSED_NORMAL);
	passive_open(lc, &k, s, l, iss);
}

void pc_tcp_input(struct pc_lcore *lc, struct rte_mbuf *m, uint16_t iphl)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	uint16_t total = rte_be_to_cpu_16(ip->total_length);
	uint32_t tcp_len = total - iphl;

	pc_tcp_clock_set(lc, rte_rdtsc());
	if (unlikely(tcp_len < sizeof(struct rte_tcp_hdr))) {
		pc_drop(lc, m, PC_DROP_tcp_short);
		return;
	}
	/* The headers are read in place: a frame in several segments must
	 * hold them all in its first (every device we know does). */
	if (unlikely(iphl + sizeof(struct rte_tcp_hdr) > rte_pktmbuf_data_len(m))) {
		pc_drop(lc, m, PC_DROP_eth_multiseg);
		return;
	}
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)((const uint8_t *)ip + iphl);
	uint32_t doff = (uint32_t)(th->data_off >> 4) * 4;

	if (unlikely(doff < sizeof(*th) || doff > tcp_len)) {
		pc_drop(lc, m, PC_DROP_tcp_bad_offset);
		return;
	}
	if (unlikely(iphl + doff > rte_pktmbuf_data_len(m))) {
		pc_drop(lc, m, PC_DROP_eth_multiseg);
		return;
	}
	/* Without device RSS that we can reproduce, flows are owned in
	 * software and a segment that lands on another worker's queue is
	 * handed to its owner (see pc_tcp_owner). */
	if (pc_nb_workers > 1 && !pc_tcp_cfg.rss) {
		unsigned int owner = pc_tcp_owner(ip->src_addr, th->src_port, th->dst_port);

		if (owner != lc->tcp.worker_index) {
			if (rte_ring_mp_enqueue(pc_workers[owner]->pkt_inbox, m) != 0) {
				pc_drop(lc, m, PC_DROP_tcp_handoff_full);
				return;
			}
			lc->cnt.tcp_handoffs++;
			return;
		}
	}
	/* The device's verdict when it gave one: GOOD, or NONE (the data is
	 * intact and the checksum field only partial, as virtio and tap
	 * devices pass on a kernel's unfinished checksums); BAD is dropped.
	 * UNKNOWN (no RX checksum offload, or a frame the device did not
	 * parse) is checked here. */
	switch (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
	case RTE_MBUF_F_RX_L4_CKSUM_GOOD:
	case RTE_MBUF_F_RX_L4_CKSUM_NONE:
		lc->cnt.tcp_rx_cksum_offloaded++;
		break;
	case RTE_MBUF_F_RX_L4_CKSUM_BAD:
		pc_drop(lc, m, PC_DROP_tcp_bad_checksum);
		return;
	default:
		if (unlikely(m->nb_segs > 1 ? !cksum_ok_chain(m, ip, iphl, tcp_len)
					    : rte_ipv4_udptcp_cksum_verify(ip, th) != 0)) {
			pc_drop(lc, m, PC_DROP_tcp_bad_checksum);
			return;
		}
		break;
	}
	if (unlikely(tcp_len - doff > pc_tcp_cfg.mss))
		lc->cnt.tcp_rx_large++;
	struct pc_tcp_seg s = {
		.th = th,
		.seq = rte_be_to_cpu_32(th->sent_seq),
		.ack = rte_be_to_cpu_32(th->recv_ack),
		.len = tcp_len - doff,
		.wnd = rte_be_to_cpu_16(th->rx_win),
		.flags = th->tcp_flags,
		.m = m,
		.data_off = iphl + doff,
	};

	if (!parse_options((const uint8_t *)(th + 1), doff - sizeof(*th), s.flags & TH_SYN, &s.o)) {
		pc_drop(lc, m, PC_DROP_tcp_bad_options);
		return;
	}
	/* Nonsense flag combinations (no-flags, SYN+FIN, SYN+RST) never open or
	 * touch anything. */
	if (unlikely((s.flags & (TH_SYN | TH_FIN)) == (TH_SYN | TH_FIN) ||
		     (s.flags & (TH_SYN | TH_RST)) == (TH_SYN | TH_RST) ||
		     (s.flags & (TH_SYN | TH_RST | TH_ACK | TH_FIN)) == 0)) {
		pc_drop(lc, m, PC_DROP_tcp_bad_flags);
		return;
	}
	struct pc_tcp_key k = {
		.laddr = ip->dst_addr,
		.raddr = ip->src_addr,
		.lport = th->dst_port,
		.rport = th->src_port,
	};
	struct pc_tcb *c = pc_tcp_lookup(lc, &k);

	if (c == NULL) {
		const struct pc_tcp_listener *l = pc_tcp_find_listener(k.lport);
		struct pc_tcp_tw *tw = pc_tcp_tw_lookup(lc, &k);
		bool cookie_ok = false;
		uint32_t iss = 0;

		if (tw != NULL && !pc_tcp_tw_input(tw, &s, &iss)) {
			/* Answered by the compact FIN_WAIT_2/TIME_WAIT entry. */
		} else if (l != NULL && (s.flags & (TH_SYN | TH_ACK)) == TH_SYN) {
			passive_open(lc, &k, &s, l, iss);
		} else if (l != NULL && (s.flags & (TH_SYN | TH_RST | TH_ACK)) == TH_ACK &&
			   ((c = cookie_open(lc, &k, &s, l, &cookie_ok)) != NULL || cookie_ok)) {
			if (c != NULL)
				tcp_established_input(c, &s);
		} else if (!(s.flags & TH_RST)) {
			lc->cnt.drop[l != NULL ? PC_DROP_tcp_bad_cookie : PC_DROP_tcp_no_conn]++;
			pc_tcp_send_rst_for(lc, &k, th, s.len);
		} else {
			lc->cnt.drop[PC_DROP_tcp_no_conn]++;
		}
		rte_pktmbuf_free(m);
		return;
	}
	if (c->state == PC_TCP_TIME_WAIT && (s.flags & (TH_SYN | TH_ACK | TH_RST)) == TH_SYN)
		time_wait_syn(c, &s);
	else if (c->state == PC_TCP_SYN_SENT)
		syn_sent_input(c, &s);
	else
		tcp_established_input(c, &s);
	rte_pktmbuf_free(m);
}
