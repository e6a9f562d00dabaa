/* SPDX-License-Identifier: MIT */
/*
 * TCP timers on the worker's wheel: retransmission (RFC 6298, with Karn's
 * rule and exponential back-off), persist (zero-window probes), SYN and
 * SYN-ACK retries, TIME_WAIT; delayed ACK; keepalive, idle timeout and
 * the lifetime of half-open and FIN_WAIT_2 connections.
 */
#include <stddef.h>

#include <rte_common.h>
#include <rte_tcp.h>

#include "../dp.h"
#include "tcp.h"

#define PC_TCP_SYN_RCVD_MS 30000

static void on_rtx(struct pc_timer *t);
static void on_delack(struct pc_timer *t);
static void on_keep(struct pc_timer *t);
static void on_app(struct pc_timer *t);

void pc_tcp_timers_init(struct pc_tcb *c)
{
	pc_timer_init(&c->t_rtx, on_rtx);
	pc_timer_init(&c->t_delack, on_delack);
	pc_timer_init(&c->t_keep, on_keep);
	pc_timer_init(&c->t_app, on_app);
}

void pc_tcp_timers_cancel(struct pc_tcb *c)
{
	pc_timer_cancel(&c->t_rtx);
	pc_timer_cancel(&c->t_delack);
	pc_timer_cancel(&c->t_keep);
	pc_timer_cancel(&c->t_app);
}

void pc_tcp_arm_rtx(struct pc_tcb *c)
{
	uint64_t ms = (uint64_t)c->rto_ms << RTE_MIN(c->rtx_count, (uint8_t)16);

	pc_timer_arm(&c->lc->tcp.wheel, &c->t_rtx, RTE_MIN(ms, (uint64_t)pc_tcp_cfg.set.rto_max_ms));
}

void pc_tcp_arm_keep(struct pc_tcb *c)
{
	const struct pc_tcp_cfg *cfg = &pc_tcp_cfg;
	uint64_t ms = 0;

	switch (c->state) {
	case PC_TCP_SYN_RCVD:
		ms = PC_TCP_SYN_RCVD_MS;
		break;
	case PC_TCP_FIN_WAIT_2:
		ms = cfg->set.fin_wait_2_ms;
		break;
	default:
		if (cfg->set.keepalive_idle_s != 0)
			ms = (uint64_t)cfg->set.keepalive_idle_s * 1000;
		if (cfg->set.idle_timeout_s != 0 &&
		    (ms == 0 || (uint64_t)cfg->set.idle_timeout_s * 1000 < ms))
			ms = (uint64_t)cfg->set.idle_timeout_s * 1000;
		if (c->deadline_tick != 0) {
			uint64_t left = c->deadline_tick > c->lc->tcp.wheel.tick
						? c->deadline_tick - c->lc->tcp.wheel.tick
						: 0;

			if (ms == 0 || left < ms)
				ms = RTE_MAX(left, (uint64_t)1);
		}
		break;
	}
	if (ms != 0)
		pc_timer_arm(&c->lc->tcp.wheel, &c->t_keep, ms);
	else
		pc_timer_cancel(&c->t_keep);
}

void pc_tcp_rtt_sample(struct pc_tcb *c, uint32_t r)
{
	if (c->srtt_us == 0) {
		c->srtt_us = r;
		c->rttvar_us = r / 2;
	} else {
		uint32_t diff = c->srtt_us > r ? c->srtt_us - r : r - c->srtt_us;

		c->rttvar_us = (3 * c->rttvar_us + diff) / 4;
		c->srtt_us = (7 * c->srtt_us + r) / 8;
	}
	/* RTO = SRTT + max(G, 4 RTTVAR), G = 1 ms (the wheel's tick). */
	uint32_t rto_us = c->srtt_us + RTE_MAX(1000u, 4 * c->rttvar_us);
	uint32_t ms = (rto_us + 999) / 1000;

	c->rto_ms = RTE_MIN(RTE_MAX(ms, pc_tcp_cfg.set.rto_min_ms), pc_tcp_cfg.set.rto_max_ms);
}

void pc_tcp_enter_time_wait(struct pc_tcb *c)
{
	struct pc_tcp_lcore *t = &c->lc->tcp;

	pc_timer_cancel(&c->t_keep);
	pc_timer_cancel(&c->t_delack);
	pc_tcp_set_state(c, PC_TCP_TIME_WAIT);
	pc_timer_arm(&t->wheel, &c->t_rtx, pc_tcp_cfg.set.time_wait_ms);
}

static void on_rtx(struct pc_timer *t)
{
	struct pc_tcb *c = container_of(t, struct pc_tcb, t_rtx);
	struct pc_lcore *lc = c->lc;

	switch (c->state) {
	case PC_TCP_TIME_WAIT:
		pc_tcp_free(c, PC_TCP_CLOSED_NORMAL);
		return;
	case PC_TCP_SYN_SENT:
	case PC_TCP_SYN_RCVD:
		if (++c->rtx_count > pc_tcp_cfg.set.syn_retries) {
			pc_tcp_free(c, c->state == PC_TCP_SYN_SENT ? PC_TCP_CLOSED_REFUSED
								   : PC_TCP_CLOSED_TIMEOUT);
			return;
		}
		lc->cnt.tcp_retransmits++;
		pc_tcp_send_segment(c, c->state == PC_TCP_SYN_SENT
					       ? RTE_TCP_SYN_FLAG
					       : RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG,
				    c->iss, 0);
		pc_tcp_arm_rtx(c);
		return;
	default:
		break;
	}
	uint32_t data_end = c->snd_buf + c->snd_len;

	if (c->snd_wnd == 0 && seq_lt(c->snd_una, data_end)) {
		/* The peer's window is closed: persist (RFC 9293 3.8.6.1). The
		 * probe is an old, empty segment (sequence snd_una - 1, as
		 * Linux does): the peer answers it with an ACK carrying its
		 * window, and nothing is pushed beyond that window. Probing
		 * gives up after `tcp persist-timeout` (a peer that answers
		 * every probe with a closed window would otherwise hold the
		 * connection and its buffers for ever). */
		uint64_t limit = (uint64_t)pc_tcp_cfg.set.persist_timeout_s * 1000;

		if (c->zero_wnd_tick == 0)
			c->zero_wnd_tick = lc->tcp.wheel.tick;
		else if (limit != 0 && lc->tcp.wheel.tick - c->zero_wnd_tick >= limit) {
			lc->cnt.tcp_persist_timeouts++;
			pc_tcp_reset(c, PC_TCP_CLOSED_TIMEOUT);
			return;
		}
		lc->cnt.tcp_window_probes++;
		pc_tcp_send_segment(c, RTE_TCP_ACK_FLAG, c->snd_una - 1, 0);
		if (c->rtx_count < 6)
			c->rtx_count++;
		pc_tcp_arm_rtx(c);
		return;
	}
	if (c->snd_max == c->snd_una) {
		/* Nothing in flight and the window open: send. */
		pc_tcp_output(c);
		return;
	}
	if (++c->rtx_count > pc_tcp_cfg.set.max_retries) {
		pc_tcp_reset(c, PC_TCP_CLOSED_TIMEOUT);
		return;
	}
	/* RTO: back to slow start, resend from snd_una (RFC 5681 3.1, RFC
	 * 6298 5.4-5.6); recovery restarts. */
	lc->cnt.tcp_timeouts++;
	c->cc->on_timeout(c, pc_tcp_clock_us(lc));
	c->in_recovery = false;
	c->dupacks = 0;
	c->recover = c->snd_max;
	c->nb_sacked = 0;
	c->rtt_seq = 0;
	c->snd_nxt = c->snd_una;
	pc_tcp_output(c);
	if (!pc_timer_armed(&c->t_rtx))
		pc_tcp_arm_rtx(c);
}

static void on_delack(struct pc_timer *t)
{
	struct pc_tcb *c = container_of(t, struct pc_tcb, t_delack);

	/* No reply came in time: short segments are acknowledged at once
	 * again until one does. */
	c->pingpong = false;
	if (c->state != PC_TCP_TIME_WAIT)
		pc_tcp_send_ack(c);
}

/* Callbacks owed to the application, from the next tick: never from
 * inside its own call, nor from another connection's. Each is checked
 * against the connection's state, so one pass serves whichever are due:
 * on_writable when a buffer the connection waited for came back to the
 * pool (pc_tcp_ring_wake), and on_closed after pc_tcp_close() or once
 * the application drained a connection in TIME_WAIT. */
static void on_app(struct pc_timer *t)
{
	struct pc_tcb *c = container_of(t, struct pc_tcb, t_app);

	pc_tcp_ring_wake(c);
	if (c->state == PC_TCP_CLOSED)
		return;
	pc_tcp_deliver_close(c);
	pc_tcp_close_if_drained(c);
	pc_tcp_tw_take(c);
}

static void on_keep(struct pc_timer *t)
{
	struct pc_tcb *c = container_of(t, struct pc_tcb, t_keep);
	struct pc_tcp_lcore *tl = &c->lc->tcp;
	const struct pc_tcp_cfg *cfg = &pc_tcp_cfg;
	uint64_t idle_ms = tl->wheel.tick - c->last_rx_tick;

	if (c->state == PC_TCP_SYN_RCVD || c->state == PC_TCP_FIN_WAIT_2) {
		pc_tcp_reset(c, PC_TCP_CLOSED_TIMEOUT);
		return;
	}
	uint64_t idle_limit = (uint64_t)cfg->set.idle_timeout_s * 1000;
	uint64_t keep_limit = (uint64_t)cfg->set.keepalive_idle_s * 1000;

	if ((idle_limit != 0 && idle_ms >= idle_limit) ||
	    (c->deadline_tick != 0 && tl->wheel.tick >= c->deadline_tick)) {
		pc_tcp_reset(c, PC_TCP_CLOSED_TIMEOUT);
		return;
	}
	if (keep_limit != 0 && idle_ms >= keep_limit) {
		if (c->keep_probes >= cfg->set.keepalive_probes) {
			pc_tcp_reset(c, PC_TCP_CLOSED_TIMEOUT);
			return;
		}
		/* A segment one below snd_una makes the peer answer with an
		 * ACK (RFC 9293 3.8.4). */
		c->keep_probes++;
		c->lc->cnt.tcp_keepalives++;
		pc_tcp_send_segment(c, RTE_TCP_ACK_FLAG, c->snd_una - 1, 0);
		uint64_t next = (uint64_t)cfg->set.keepalive_intvl_s * 1000;

		if (c->deadline_tick != 0 && c->deadline_tick - tl->wheel.tick < next)
			next = c->deadline_tick - tl->wheel.tick;
		pc_timer_arm(&tl->wheel, &c->t_keep, next);
		return;
	}
	/* Activity since arming: wait for the rest of the nearer period. */
	uint64_t wait = UINT64_MAX;

	if (idle_limit != 0)
		wait = idle_limit - idle_ms;
	if (keep_limit != 0 && keep_limit - idle_ms < wait)
		wait = keep_limit - idle_ms;
	if (c->deadline_tick != 0 && c->deadline_tick - tl->wheel.tick < wait)
		wait = c->deadline_tick - tl->wheel.tick;
	if (wait != UINT64_MAX)
		pc_timer_arm(&tl->wheel, &c->t_keep, wait);
}
