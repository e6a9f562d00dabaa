/* SPDX-License-Identifier: MIT */
/*
 * Congestion control: NewReno (RFC 5681, RFC 6582; slow start with
 * appropriate byte counting, RFC 3465 L=2) and CUBIC (RFC 9438, with its
 * Reno-friendly region). Windows are in bytes; CUBIC computes in segments.
 */
#include <math.h>

#include <rte_common.h>

#include "tcp.h"

static uint32_t flight_half(const struct pc_tcb *c)
{
	uint32_t flight = c->snd_max - c->snd_una;

	return RTE_MAX(flight / 2, 2u * c->mss);
}

static void slow_start(struct pc_tcb *c, uint32_t acked)
{
	c->cwnd += RTE_MIN(acked, 2u * c->mss);
}

static void reno_on_ack(struct pc_tcb *c, uint32_t acked, uint64_t now_us)
{
	(void)now_us;
	if (c->cwnd < c->ssthresh) {
		slow_start(c, acked);
		return;
	}
	/* Congestion avoidance: about one segment per window of ACKs. */
	c->cwnd += RTE_MAX((uint32_t)((uint64_t)c->mss * c->mss / c->cwnd), 1u);
}

static void reno_on_loss(struct pc_tcb *c, uint64_t now_us)
{
	(void)now_us;
	c->ssthresh = flight_half(c);
	c->cwnd = c->ssthresh + 3u * c->mss;
}

static void reno_on_timeout(struct pc_tcb *c, uint64_t now_us)
{
	(void)now_us;
	c->ssthresh = flight_half(c);
	c->cwnd = c->mss;
}

const struct pc_tcp_cc pc_tcp_newreno = {
	.name = "newreno",
	.on_ack = reno_on_ack,
	.on_loss = reno_on_loss,
	.on_timeout = reno_on_timeout,
};

#define CUBIC_C 0.4
#define CUBIC_BETA 0.7

static void cubic_on_ack(struct pc_tcb *c, uint32_t acked, uint64_t now_us)
{
	if (c->cwnd < c->ssthresh) {
		slow_start(c, acked);
		return;
	}
	double mss = c->mss;
	double cwnd = c->cwnd / mss;

	if (c->cc_epoch_us == 0) {
		/* First congestion-avoidance ACK after a reduction (or ever). */
		c->cc_epoch_us = now_us;
		if (c->cc_wmax < c->cwnd) {
			c->cc_k_ms = 0;
			c->cc_wmax = c->cwnd;
		} else {
			c->cc_k_ms = (uint32_t)(1000.0 *
						cbrt((c->cc_wmax / mss - cwnd) / CUBIC_C));
		}
		c->cc_west = c->cwnd;
	}
	/* RFC 9438 4.2: W_cubic(t + RTT). */
	double t = (double)(now_us - c->cc_epoch_us + c->srtt_us) / 1e6 - c->cc_k_ms / 1000.0;
	double target = CUBIC_C * t * t * t + c->cc_wmax / mss;

	/* RFC 9438 4.3: the Reno-friendly estimate. */
	double alpha = 3.0 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA);
	double west = c->cc_west / mss + alpha * (acked / mss) / cwnd;

	c->cc_west = (uint32_t)(west * mss);
	if (target < west)
		target = west;
	if (target > 1.5 * cwnd)
		target = 1.5 * cwnd;
	if (target > cwnd)
		c->cwnd += (uint32_t)((target - cwnd) / cwnd * mss);
	else
		c->cwnd += (uint32_t)(mss / (100 * cwnd)) + 1; /* RFC 9438 4.4 */
}

static void cubic_reduce(struct pc_tcb *c)
{
	c->cc_wmax = c->cwnd;
	c->ssthresh = RTE_MAX((uint32_t)(c->cwnd * CUBIC_BETA), 2u * c->mss);
	c->cc_epoch_us = 0;
}

static void cubic_on_loss(struct pc_tcb *c, uint64_t now_us)
{
	(void)now_us;
	cubic_reduce(c);
	c->cwnd = c->ssthresh;
}

static void cubic_on_timeout(struct pc_tcb *c, uint64_t now_us)
{
	(void)now_us;
	cubic_reduce(c);
	c->cwnd = c->mss;
}

const struct pc_tcp_cc pc_tcp_cubic = {
	.name = "cubic",
	.on_ack = cubic_on_ack,
	.on_loss = cubic_on_loss,
	.on_timeout = cubic_on_timeout,
};
