/* SPDX-License-Identifier: MIT */
/*
 * TCP output: segment building (header, options, payload copied out of
 * the send ring), the send loop (flow and congestion window, SACK-based
 * retransmission of holes during recovery, FIN), ACKs and RSTs.
 */
#include <string.h>

#include <rte_ip.h>
#include <rte_tcp.h>

#include "../dp.h"
#include "tcp.h"

#define TH_FIN RTE_TCP_FIN_FLAG
#define TH_SYN RTE_TCP_SYN_FLAG
#define TH_RST RTE_TCP_RST_FLAG
#define TH_PSH RTE_TCP_PSH_FLAG
#define TH_ACK RTE_TCP_ACK_FLAG

#define PC_TCP_MAX_OPTS 40

uint32_t pc_tcp_rcv_window(const struct pc_tcb *c)
{
	uint32_t used = c->rcv_nxt - c->rcv_read;
	/* Without a ring, the window one would give if the pool has one. */
	uint32_t size =
		c->rbuf != NULL || pc_tcp_rcv_ring_available(&c->lc->tcp) ? c->rbuf_mask + 1 : 0;
	/* Out-of-order data above rcv_nxt sits inside the window already. */
	uint32_t free = used >= size ? 0 : size - used;

	/* Never shrink the right edge we advertised (RFC 9293 3.8.6). */
	if (seq_gt(c->rcv_adv, c->rcv_nxt) && c->rcv_adv - c->rcv_nxt > free)
		free = c->rcv_adv - c->rcv_nxt;
	return free;
}

/* NOP, NOP, timestamps (RFC 7323): 12 bytes. */
static unsigned int put_timestamps(uint8_t *o, uint32_t tsval, uint32_t tsecr)
{
	unsigned int n = 0;

	o[n++] = 1;
	o[n++] = 1;
	o[n++] = 8;
	o[n++] = 10;
	for (int i = 3; i >= 0; i--)
		o[n++] = (uint8_t)(tsval >> (8 * i));
	for (int i = 3; i >= 0; i--)
		o[n++] = (uint8_t)(tsecr >> (8 * i));
	return n;
}

uint32_t pc_tcp_smss(const struct pc_tcb *c)
{
	/* RFC 6691: the peer's MSS counts data only; our options on data
	 * segments come out of it so the datagram stays within its MTU. */
	uint32_t opts = c->ts_ok ? 12 : 0;

	if (c->sack_ok && c->nb_ooo != 0) {
		unsigned int room = (PC_TCP_MAX_OPTS - opts - 4) / 8;

		opts += 4 + 8 * RTE_MIN((unsigned int)c->nb_ooo, room);
	}
	return c->mss > opts + 64 ? c->mss - opts : 64;
}

/* The options of a SYN or SYN-ACK: MSS, then SACK-permitted, window
 * scale (wscale < 0: none) and timestamps as asked, NOP-padded to 4-byte
 * boundaries. Returns their length. */
static unsigned int put_syn_options(uint8_t *o, uint16_t mss, bool sack, int wscale, bool ts,
				    uint32_t tsval, uint32_t tsecr)
{
	unsigned int n = 0;

	o[n++] = 2; /* MSS */
	o[n++] = 4;
	o[n++] = (uint8_t)(mss >> 8);
	o[n++] = (uint8_t)mss;
	if (sack) {
		o[n++] = 1;
		o[n++] = 1;
		o[n++] = 4; /* SACK permitted */
		o[n++] = 2;
	}
	if (wscale >= 0) {
		o[n++] = 1;
		o[n++] = 3; /* window scale */
		o[n++] = 3;
		o[n++] = (uint8_t)wscale;
	}
	if (ts)
		n += put_timestamps(o + n, tsval, tsecr);
	return n;
}

/* Options for a segment of this connection; returns their length (a
 * multiple of 4). */
static unsigned int build_options(const struct pc_tcb *c, uint8_t flags, uint8_t *o)
{
	unsigned int n = 0;

	if (flags & TH_SYN) {
		/* On our SYN everything; on a SYN-ACK only what the peer offered. */
		bool syn_only = !(flags & TH_ACK);
		bool ws = syn_only || c->rcv_wscale != 0 || c->snd_wscale != 0;

		return put_syn_options(o, pc_tcp_cfg.mss, syn_only || c->sack_ok,
				       ws ? c->rcv_wscale : -1, syn_only || c->ts_ok,
				       pc_tcp_clock_ms(c->lc), c->ts_recent);
	}
	if (c->ts_ok)
		n += put_timestamps(o, pc_tcp_clock_ms(c->lc), c->ts_recent);
	if (c->sack_ok && c->nb_ooo != 0 && (flags & TH_ACK)) {
		unsigned int room = (PC_TCP_MAX_OPTS - n - 4) / 8;
		unsigned int nb = RTE_MIN((unsigned int)c->nb_ooo, room);

		/* RFC 2018 4: the block holding the latest segment first, then
		 * the others (lowest first: they are the holes that matter). */
		unsigned int first = 0;

		for (unsigned int b = 0; b < c->nb_ooo; b++)
			if (seq_in(c->ooo_recent, c->ooo[b].start, c->ooo[b].end))
				first = b;
		o[n++] = 1;
		o[n++] = 1;
		o[n++] = 5;
		o[n++] = (uint8_t)(2 + 8 * nb);
		unsigned int order[PC_TCP_OOO_MAX], k = 0;

		order[k++] = first;
		for (unsigned int b = 0; b < c->nb_ooo; b++)
			if (b != first)
				order[k++] = b;
		for (k = 0; k < nb; k++) {
			uint32_t s = rte_cpu_to_be_32(c->ooo[order[k]].start);
			uint32_t e = rte_cpu_to_be_32(c->ooo[order[k]].end);

			memcpy(o + n, &s, 4);
			memcpy(o + n + 4, &e, 4);
			n += 8;
		}
	}
	return n;
}

/* Chain mbufs for len more bytes after m (a TSO super-segment's payload
 * beyond its first mbuf): whole buffers, no headroom. */
static int seg_chain(struct pc_lcore *lc, struct rte_mbuf *m, uint32_t len)
{
	struct rte_mbuf *last = m;

	while (len != 0) {
		struct rte_mbuf *s = rte_pktmbuf_alloc(lc->pool);

		if (unlikely(s == NULL))
			return -1;
		s->data_off = 0;
		s->data_len = (uint16_t)RTE_MIN(len, (uint32_t)s->buf_len);
		last->next = s;
		last = s;
		m->nb_segs++;
		m->pkt_len += s->data_len;
		len -= s->data_len;
	}
	return 0;
}

/* An mbuf with IPv4 and TCP headers for the given addresses; returns the
 * TCP header, with the options area of optlen bytes and len payload bytes
 * appended (not filled): in the same mbuf, or with TSO (len beyond one
 * segment) continued in a chain. */
static struct rte_tcp_hdr *seg_alloc(struct pc_lcore *lc, struct rte_mbuf **mp,
				     const struct pc_tcp_key *k, unsigned int optlen,
				     uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(lc->pool);

	if (unlikely(m == NULL)) {
		lc->cnt.drop[PC_DROP_no_mbuf]++;
		return NULL;
	}
	uint16_t tcphl = (uint16_t)(sizeof(struct rte_tcp_hdr) + optlen);
	uint16_t hdrs = (uint16_t)(sizeof(struct rte_ipv4_hdr) + tcphl);
	uint16_t total = (uint16_t)(hdrs + len);
	uint32_t here = RTE_MIN(len, (uint32_t)rte_pktmbuf_tailroom(m) - hdrs);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(m, hdrs + here);

	if (unlikely(ip == NULL || (here < len && seg_chain(lc, m, len - here) != 0))) {
		rte_pktmbuf_free(m);
		lc->cnt.drop[PC_DROP_no_mbuf]++;
		return NULL;
	}
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16(total);
	ip->packet_id = rte_cpu_to_be_16(lc->ip_id++);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = lc->ifc->ttl;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = k->laddr;
	ip->dst_addr = k->raddr;
	ip->hdr_checksum = 0;

	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);

	th->src_port = k->lport;
	th->dst_port = k->rport;
	th->data_off = (uint8_t)((tcphl / 4) << 4);
	th->cksum = 0;
	th->tcp_urp = 0;
	m->l3_len = sizeof(*ip);
	m->l4_len = tcphl;
	*mp = m;
	return th;
}

/* Checksums (by the device when it offers them) and out. payload_sum is the
 * folded sum of the payload's bytes (pc_tcp_ring_sum), needed only when
 * the checksum is ours: summed from the send ring the copy has just read,
 * not from the mbuf it has just written, whose stores the loads would wait
 * for. */
static void seg_send(struct pc_lcore *lc, struct rte_mbuf *m, uint16_t payload_sum)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
	uint16_t tcp_len = (uint16_t)(rte_be_to_cpu_16(ip->total_length) - m->l3_len);

	if (m->tso_segsz != 0) {
		/* A super-segment: the device cuts it, copying the headers
		 * (sequence numbers, IP IDs, lengths and checksums its own,
		 * FIN and PSH on the last segment only). The TCP checksum
		 * field holds the pseudo-header sum without the length. */
		uint32_t payload = rte_pktmbuf_pkt_len(m) - m->l3_len - m->l4_len;
		uint32_t segs = (payload + m->tso_segsz - 1) / m->tso_segsz;

		m->l2_len = sizeof(struct rte_ether_hdr);
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_SEG;
		th->cksum = __rte_raw_cksum_reduce(pc_tcp_phdr_sum(ip, 0));
		lc->ip_id = (uint16_t)(lc->ip_id + segs - 1);
		lc->cnt.tcp_tso_sends++;
		lc->cnt.tcp_tso_bytes += payload;
		lc->cnt.tcp_segs_out += segs - 1;
	} else if (pc_tcp_cfg.tx_cksum_offload) {
		m->l2_len = sizeof(struct rte_ether_hdr);
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
		th->cksum = __rte_raw_cksum_reduce(pc_tcp_phdr_sum(ip, tcp_len));
	} else {
		uint32_t sum = pc_tcp_phdr_sum(ip, tcp_len) + __rte_raw_cksum(th, m->l4_len, 0) +
			       payload_sum;

		ip->hdr_checksum = rte_ipv4_cksum(ip);
		th->cksum = (uint16_t)~__rte_raw_cksum_reduce(sum);
	}
	lc->cnt.tcp_segs_out++;
	pc_ipv4_output(lc, m);
}

int pc_tcp_send_segment(struct pc_tcb *c, uint8_t flags, uint32_t seq, uint32_t len)
{
	struct pc_lcore *lc = c->lc;
	uint8_t opts[PC_TCP_MAX_OPTS];
	unsigned int optlen = build_options(c, flags, opts);
	struct rte_mbuf *m;
	struct rte_tcp_hdr *th = seg_alloc(lc, &m, &c->key, optlen, len);

	if (th == NULL)
		return -1;
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->tcp_flags = flags;
	if (flags & TH_ACK) {
		th->recv_ack = rte_cpu_to_be_32(c->rcv_nxt);
		if (len != 0 && c->rcv_nxt != c->irs + 1)
			c->pingpong = true;
		c->last_ack_sent = c->rcv_nxt;
	} else {
		th->recv_ack = 0;
	}
	uint32_t wnd = pc_tcp_rcv_window(c);

	if (flags & TH_SYN) {
		th->rx_win = rte_cpu_to_be_16((uint16_t)RTE_MIN(wnd, 65535u));
	} else {
		uint32_t scaled = RTE_MIN(wnd >> c->rcv_wscale, 65535u);

		th->rx_win = rte_cpu_to_be_16((uint16_t)scaled);
		wnd = scaled << c->rcv_wscale;
	}
	if (flags & TH_ACK) {
		c->rcv_adv = seq_max(c->rcv_adv, c->rcv_nxt + wnd);
		c->ack_now = false;
		c->segs_unacked = 0;
		pc_timer_cancel(&c->t_delack);
	}
	memcpy(th + 1, opts, optlen);
	uint16_t payload_sum = 0;

	if (len != 0) {
		pc_tcp_ring_get_mbuf(c->sbuf, c->sbuf_mask, seq, m, m->l3_len + m->l4_len);
		if (pc_tcp_cfg.tso && len > pc_tcp_smss(c))
			m->tso_segsz = (uint16_t)(pc_tcp_smss(c) - pc_tcp_cfg.tso_seg_cut);
		else if (!pc_tcp_cfg.tx_cksum_offload)
			payload_sum = pc_tcp_ring_sum(c->sbuf, c->sbuf_mask, seq, len);
	}
	seg_send(lc, m, payload_sum);
	return 0;
}

void pc_tcp_send_ack(struct pc_tcb *c)
{
	/* The peer accepts (and so reads the ACK field of) a segment only
	 * inside its window, which starts where it last acknowledged: the
	 * highest sequence number we sent, not snd_nxt, which a timeout took
	 * back to snd_una (FreeBSD's tcp_output does the same); when the
	 * window shrank below that, its right edge (Linux's
	 * tcp_acceptable_seq). */
	uint32_t edge = c->snd_una + c->snd_wnd;

	pc_tcp_send_segment(c, TH_ACK, seq_lt(edge, c->snd_max) ? edge : c->snd_max, 0);
}

void pc_tcp_send_rst_for(struct pc_lcore *lc, const struct pc_tcp_key *k,
			 const struct rte_tcp_hdr *th, uint32_t seg_len)
{
	struct rte_mbuf *m;
	struct rte_tcp_hdr *r = seg_alloc(lc, &m, k, 0, 0);

	if (r == NULL)
		return;
	/* RFC 9293 3.10.7.1: answer an ACK with its ack number as our
	 * sequence; otherwise sequence 0 and ACK everything it occupied. */
	if (th->tcp_flags & TH_ACK) {
		r->sent_seq = th->recv_ack;
		r->recv_ack = 0;
		r->tcp_flags = TH_RST;
	} else {
		uint32_t occupied = seg_len + ((th->tcp_flags & TH_SYN) ? 1 : 0) +
				    ((th->tcp_flags & TH_FIN) ? 1 : 0);

		r->sent_seq = 0;
		r->recv_ack = rte_cpu_to_be_32(rte_be_to_cpu_32(th->sent_seq) + occupied);
		r->tcp_flags = TH_RST | TH_ACK;
	}
	r->rx_win = 0;
	lc->cnt.tcp_rsts_sent++;
	seg_send(lc, m, 0);
}

bool pc_tcp_ack_budget(struct pc_lcore *lc)
{
	struct pc_tcp_lcore *t = &lc->tcp;
	uint32_t limit = pc_tcp_cfg.set.challenge_ack_limit;

	if (limit == 0)
		return true;
	if (t->wheel.tick - t->ack_budget_tick >= 1000) {
		t->ack_budget_tick = t->wheel.tick;
		t->ack_budget_used = 0;
	}
	if (t->ack_budget_used >= limit) {
		lc->cnt.tcp_acks_rate_limited++;
		return false;
	}
	t->ack_budget_used++;
	return true;
}

/* A segment without a control block, with options o (n bytes). */
static void send_stateless(struct pc_lcore *lc, const struct pc_tcp_key *k, uint8_t flags,
			   uint32_t seq, uint32_t ack, uint16_t win, const uint8_t *o,
			   unsigned int n)
{
	struct rte_mbuf *m;
	struct rte_tcp_hdr *th = seg_alloc(lc, &m, k, n, 0);

	if (th == NULL)
		return;
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(win);
	memcpy(th + 1, o, n);
	if (flags & TH_RST)
		lc->cnt.tcp_rsts_sent++;
	seg_send(lc, m, 0);
}

void pc_tcp_send_bare(struct pc_lcore *lc, const struct pc_tcp_key *k, uint8_t flags,
		      uint32_t seq, uint32_t ack, uint16_t win, bool ts, uint32_t tsecr)
{
	uint8_t o[PC_TCP_MAX_OPTS];
	unsigned int n = ts ? put_timestamps(o, pc_tcp_clock_ms(lc), tsecr) : 0;

	send_stateless(lc, k, flags, seq, ack, win, o, n);
}

void pc_tcp_send_cookie_synack(struct pc_lcore *lc, const struct pc_tcp_key *k,
			       uint32_t iss, uint32_t ack, uint16_t mss, uint32_t tsval,
			       uint32_t tsecr, bool ts, int wscale, bool sack)
{
	uint8_t o[PC_TCP_MAX_OPTS];
	unsigned int n = put_syn_options(o, mss, sack, wscale, ts, tsval, tsecr);

	send_stateless(lc, k, TH_SYN | TH_ACK, iss, ack,
		       (uint16_t)RTE_MIN(pc_tcp_cfg.set.rcvbuf, 65535u), o, n);
}

/* Bytes in flight by RFC 6675's estimate: sent, not acked, not SACKed. */
static uint32_t pipe_bytes(const struct pc_tcb *c)
{
	uint32_t out = c->snd_max - c->snd_una;
	uint32_t sacked = pc_tcp_sack_bytes(c);

	return out > sacked ? out - sacked : 0;
}

void pc_tcp_output(struct pc_tcb *c)
{
	struct pc_lcore *lc = c->lc;
	bool sent = false;

	if (c->corked)
		return;
	switch (c->state) {
	case PC_TCP_ESTABLISHED:
	case PC_TCP_CLOSE_WAIT:
	case PC_TCP_FIN_WAIT_1:
	case PC_TCP_CLOSING:
	case PC_TCP_LAST_ACK:
		break;
	case PC_TCP_SYN_RCVD:
	case PC_TCP_FIN_WAIT_2:
	case PC_TCP_TIME_WAIT:
		if (c->ack_now)
			pc_tcp_send_ack(c);
		return;
	default:
		return;
	}

	uint32_t data_end = c->snd_buf + c->snd_len;
	uint32_t wnd = RTE_MIN(c->snd_wnd, c->cwnd);

	/* Recovery with SACK: the holes below the highest SACKed byte first,
	 * each once (HighRxt), as long as the pipe has room. */
	if (c->in_recovery && c->sack_ok && c->nb_sacked != 0) {
		uint32_t from = seq_max(c->high_rxt, c->snd_una), start, len;

		while (pipe_bytes(c) + c->mss <= c->cwnd &&
		       pc_tcp_sack_next_hole(c, from, &start, &len)) {
			len = RTE_MIN(len, pc_tcp_smss(c));
			len = RTE_MIN(len, data_end - start);
			if (len == 0 || pc_tcp_send_segment(c, TH_ACK, start, len) != 0)
				break;
			lc->cnt.tcp_retransmits++;
			c->high_rxt = start + len;
			from = c->high_rxt;
			sent = true;
		}
	}

	/* New data within the peer's window and the congestion window. */
	while (seq_lt(c->snd_nxt, data_end)) {
		uint32_t in_flight = c->in_recovery ? pipe_bytes(c) : c->snd_nxt - c->snd_una;
		uint32_t usable = wnd > in_flight ? wnd - in_flight : 0;
		/* Never beyond the peer's window, whatever the cwnd. */
		uint32_t wnd_edge = c->snd_una + c->snd_wnd;
		uint32_t by_wnd = seq_gt(wnd_edge, c->snd_nxt) ? wnd_edge - c->snd_nxt : 0;
		uint32_t len = RTE_MIN(RTE_MIN(usable, by_wnd), data_end - c->snd_nxt);

		uint32_t smss = pc_tcp_smss(c);
		/* With TSO, new data goes out in super-segments (a
		 * retransmission after a timeout stays one segment). */
		uint32_t tso_seg = smss - pc_tcp_cfg.tso_seg_cut;
		uint32_t most = pc_tcp_cfg.tso && c->snd_nxt == c->snd_max
					? RTE_MIN(pc_tcp_cfg.tso_max, PC_TCP_TSO_MAX_SEGS * tso_seg)
					: smss;

		len = RTE_MIN(len, most);
		if (len == 0)
			break;
		/* Sender-side silly window avoidance (RFC 9293 3.8.6.2.1): a
		 * partial segment only when it ends the data or nothing is in
		 * flight. */
		if (len < smss && len < data_end - c->snd_nxt && c->snd_nxt != c->snd_una)
			break;
		/* A super-segment carries whole segments, unless it ends the
		 * data: no short segment in the middle of the stream. */
		if (len > smss && len < data_end - c->snd_nxt)
			len -= len % tso_seg;
		uint8_t flags = TH_ACK | (c->snd_nxt + len == data_end ? TH_PSH : 0);
		/* The FIN rides on the last new segment when it fits in one (a
		 * retransmission, after the FIN went, is the block below's). */
		bool fin = c->fin_queued && c->snd_nxt + len == data_end && len <= smss &&
			   c->snd_nxt == c->snd_max &&
			   (c->state == PC_TCP_ESTABLISHED || c->state == PC_TCP_CLOSE_WAIT);

		if (pc_tcp_send_segment(c, flags | (fin ? TH_FIN : 0), c->snd_nxt, len) != 0)
			break;
		if (c->rtt_seq == 0 && !c->ts_ok && c->snd_nxt == c->snd_max) {
			c->rtt_seq = c->snd_nxt;
			c->rtt_start_us = pc_tcp_clock_us(lc);
		}
		if (seq_lt(c->snd_nxt, c->snd_max))
			lc->cnt.tcp_retransmits++; /* after a timeout: go-back-N */
		c->snd_nxt += len + (fin ? 1 : 0);
		c->snd_max = seq_max(c->snd_max, c->snd_nxt);
		sent = true;
		if (fin) {
			pc_tcp_set_state(c, c->state == PC_TCP_ESTABLISHED ? PC_TCP_FIN_WAIT_1
									     : PC_TCP_LAST_ACK);
			break;
		}
	}

	/* FIN once all data is out. */
	if (c->fin_queued && c->snd_nxt == data_end &&
	    (c->state == PC_TCP_ESTABLISHED || c->state == PC_TCP_CLOSE_WAIT ||
	     seq_lt(c->snd_nxt, c->snd_max) /* retransmission after a timeout */)) {
		if (pc_tcp_send_segment(c, TH_FIN | TH_ACK, c->snd_nxt, 0) == 0) {
			c->snd_nxt++;
			c->snd_max = seq_max(c->snd_max, c->snd_nxt);
			if (c->state == PC_TCP_ESTABLISHED)
				pc_tcp_set_state(c, PC_TCP_FIN_WAIT_1);
			else if (c->state == PC_TCP_CLOSE_WAIT)
				pc_tcp_set_state(c, PC_TCP_LAST_ACK);
			sent = true;
		}
	}

	/* The timer covers data in flight (retransmission) and data waiting
	 * with nothing in flight and no window (persist). */
	if (!pc_timer_armed(&c->t_rtx) &&
	    (sent || c->snd_max != c->snd_una || seq_lt(c->snd_nxt, data_end)))
		pc_tcp_arm_rtx(c);
	if (c->ack_now)
		pc_tcp_send_ack(c);
}
