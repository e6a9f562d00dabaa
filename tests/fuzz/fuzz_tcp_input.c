/* SPDX-License-Identifier: MIT */
/*
 * Fuzz TCP segment input through the worker loop on a ring-backed port:
 * a few fake peers talk to the listeners (echo, discard, source, forward)
 * and to a closed port, and a fake backend answers the connections the
 * forward app opens to it. The fuzzer picks flags, sequence and
 * acknowledgment numbers (relative to what each peer has sent and seen,
 * or raw), window, options, payload length, and interleaves timer
 * advances; the target computes the checksums, unless the input says to
 * leave a fuzzer-chosen one, so that segments reach the state machine.
 *
 * Checked after every segment: everything the worker sent is a well-formed
 * IPv4/TCP frame from our address to one of the peers, within the MTU,
 * with correct checksums and options; what echo sends is exactly what it
 * received and what source sends its pattern (a payload byte is a
 * function of its sequence number, so retransmissions agree); every
 * connection's sequence space and buffers are consistent, and the
 * worker's counts of half-open and TIME_WAIT connections match. After the
 * input, tearing the connections down returns every mbuf to the pool.
 *
 * Input: a configuration byte (bit 0: SYN cookies always; 1: 4 KiB
 * buffers; 2: two connections at most; 3: NewReno; 4: keepalive and idle
 * timeout; 5: one TIME_WAIT at most; 6: the source app sends 3000 bytes),
 * then records. A record whose first byte has bit 7 set advances the
 * timers by (next byte) << (2 * ((first >> 4) & 7)) ms. Otherwise its low
 * five bits pick a flow (modulo 24: 4 peers x 5 ports, then 4 backend
 * connections in the order we open them) and the segment follows:
 *   flags (1), mode (1), [seq operand], [ack operand], window (2),
 *   options, payload length (2), [checksum (2)]
 * mode bits 0-1: seq = flow's next, +/- 8-bit delta, +/- 16-bit delta,
 * raw 32-bit (only the first advances the flow's next by the segment);
 * bits 2-3: the same for ack, from one past the highest sequence number
 * seen from us; bit 4: raw options (length byte, then bytes), else a
 * template byte (MSS, WS, SACK-permitted, TS, 0-3 SACK blocks) and its
 * values; bit 5: use the 2-byte checksum at the end as it is; bit 6: the
 * frame comes as an mbuf chain (a scattering or LRO device), its payload
 * up to MAX_LRO bytes: two more bytes at the end, f and r, put f * 7
 * bytes in the first mbuf (headers cut too when that is short) and
 * 64 + r * 7 in each of the others.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "apps/apps.h"
#include "harness.h"

#define NB_PEERS 4
#define NB_PORTS 5
#define NB_BACKENDS 4
#define NB_FLOWS (NB_PEERS * NB_PORTS + NB_BACKENDS)
#define MAX_PAYLOAD 1900
#define MAX_LRO 9000
/* The wheel ticks only when the input says (one tick per TSC minute
 * otherwise), and never further than this per input. */
#define MAX_TICKS 10000000u

static const uint16_t ports[NB_PORTS] = {H_PORT_ECHO, H_PORT_DISCARD, H_PORT_SOURCE,
					 H_PORT_FORWARD, 80};

struct flow {
	uint32_t addr;            /* the peer's, host order */
	uint16_t sport, dport;    /* a backend's dport: 0 until our SYN came */
	uint32_t nxt;             /* the peer's next sequence number */
	uint32_t ack;             /* one past the highest we sent it */
	uint32_t tsval, tsecr;
};

static struct flow flows[NB_FLOWS];
static struct flow *const backends = flows + NB_PEERS * NB_PORTS;
static unsigned int next_backend;
static uint64_t ticks;

struct reader {
	const uint8_t *p;
	size_t n;
};

static uint8_t get8(struct reader *r)
{
	if (r->n == 0)
		return 0;
	r->n--;
	return *r->p++;
}

static uint16_t get16(struct reader *r)
{
	uint16_t hi = get8(r);

	return (uint16_t)(hi << 8 | get8(r));
}

static uint32_t get32(struct reader *r)
{
	uint32_t hi = get16(r);

	return hi << 16 | get16(r);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (h_init() != 0)
		abort();
	return 0;
}

/* The peers' payload: the byte with sequence number s. */
static uint8_t payload_byte(uint32_t s)
{
	return (uint8_t)(s ^ (s >> 8) * 7 ^ (s >> 16) * 13 ^ (s >> 24) * 29);
}

static uint32_t seg_space(uint8_t flags, uint32_t len)
{
	return len + ((flags & RTE_TCP_SYN_FLAG) ? 1 : 0) + ((flags & RTE_TCP_FIN_FLAG) ? 1 : 0);
}

static uint32_t operand(struct reader *r, unsigned int mode, uint32_t base)
{
	switch (mode & 3) {
	case 0:
		return base;
	case 1:
		return base + (uint32_t)(int8_t)get8(r);
	case 2:
		return base + (uint32_t)(int16_t)get16(r);
	default:
		return get32(r);
	}
}

/* Options from the template byte; returns their length (a multiple of 4). */
static uint8_t template_options(struct reader *r, struct flow *fl, uint32_t ack, uint8_t *o)
{
	uint8_t t = get8(r), n = 0;

	if (t & 1) {
		uint16_t mss = get16(r);

		o[n++] = 2;
		o[n++] = 4;
		o[n++] = (uint8_t)(mss >> 8);
		o[n++] = (uint8_t)mss;
	}
	if (t & 2) {
		o[n++] = 1;
		o[n++] = 3;
		o[n++] = 3;
		o[n++] = get8(r);
	}
	if (t & 4) {
		o[n++] = 1;
		o[n++] = 1;
		o[n++] = 4;
		o[n++] = 2;
	}
	if (t & 8) {
		fl->tsval += get8(r) - 64u; /* mostly forward, sometimes back */
		o[n++] = 1;
		o[n++] = 1;
		o[n++] = 8;
		o[n++] = 10;
		for (int i = 3; i >= 0; i--)
			o[n++] = (uint8_t)(fl->tsval >> (8 * i));
		for (int i = 3; i >= 0; i--)
			o[n++] = (uint8_t)(fl->tsecr >> (8 * i));
	}
	unsigned int nb = (t >> 4) & 3;

	while (nb > 0 && n + 4 + 8 * nb > 40)
		nb--;
	if (nb > 0) {
		o[n++] = 1;
		o[n++] = 1;
		o[n++] = 5;
		o[n++] = (uint8_t)(2 + 8 * nb);
		for (unsigned int b = 0; b < nb; b++) {
			uint32_t s = ack + get16(r), e = s + (uint32_t)(int16_t)get16(r);

			for (int i = 3; i >= 0; i--)
				o[n++] = (uint8_t)(s >> (8 * i));
			for (int i = 3; i >= 0; i--)
				o[n++] = (uint8_t)(e >> (8 * i));
		}
	}
	return n;
}

static void send_segment(struct reader *r, uint8_t op)
{
	struct flow *fl = &flows[(op & 0x1f) % NB_FLOWS];
	uint8_t flags = get8(r), mode = get8(r);
	uint32_t seq = operand(r, mode, fl->nxt);
	uint32_t ack = operand(r, mode >> 2, fl->ack);
	uint16_t win = get16(r);
	uint8_t opts[40], optlen;
	static uint8_t b[MAX_LRO + 128];

	if (mode & 0x10) {
		optlen = (uint8_t)(get8(r) % 41);
		for (uint8_t i = 0; i < optlen; i++)
			opts[i] = get8(r);
		while (optlen % 4 != 0)
			opts[optlen++] = 0;
	} else {
		optlen = template_options(r, fl, ack, opts);
	}
	uint16_t len = (uint16_t)(get16(r) % ((mode & 0x40 ? MAX_LRO : MAX_PAYLOAD) + 1));
	static uint8_t payload[MAX_LRO];

	for (uint16_t i = 0; i < len; i++)
		payload[i] = payload_byte(seq + i);
	struct h_tcp t = {
		.src = fl->addr,
		.dst = H_ADDR,
		.sport = fl->sport,
		.dport = fl->dport,
		.seq = seq,
		.ack = ack,
		.flags = flags,
		.win = win,
		.opts = opts,
		.optlen = optlen,
		.data = payload,
		.len = len,
	};
	uint16_t flen = h_build_tcp(b, &t);

	if (mode & 0x20) {
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(b + sizeof(struct rte_ether_hdr) +
								sizeof(struct rte_ipv4_hdr));

		th->cksum = rte_cpu_to_be_16(get16(r));
	}
	if ((mode & 3) == 0)
		fl->nxt = seq + seg_space(flags, len);
	if (mode & 0x40) {
		uint32_t first = get8(r) * 7u;

		h_inject_chain(b, flen, first, 64 + get8(r) * 7u);
	} else {
		h_inject(b, flen);
	}
	h_run();
}

/* Our options are well-formed and of the kinds we send; the flow learns
 * our timestamp. */
static void check_options(const struct h_tcp *t, struct flow *fl)
{
	static const uint8_t olen[9] = {[2] = 4, [3] = 3, [4] = 2, [8] = 10};

	for (unsigned int i = 0; i < t->optlen;) {
		const uint8_t *o = t->opts + i;

		if (o[0] == 1) {
			i++;
			continue;
		}
		if (o[0] == 0 || i + 1 >= t->optlen || i + o[1] > t->optlen)
			abort();
		if (o[0] == 5 ? o[1] < 10 || (o[1] - 2) % 8 != 0
			      : o[0] > 8 || olen[o[0]] == 0 || o[1] != olen[o[0]])
			abort();
		if (o[0] == 8)
			fl->tsecr = (uint32_t)o[2] << 24 | (uint32_t)o[3] << 16 |
				    (uint32_t)o[4] << 8 | o[5];
		i += o[1];
	}
}

/* Echo's stream is the peer's, source's is its pattern. */
static void check_payload(const struct h_tcp *t)
{
	struct pc_tcp_key k = {
		.laddr = h_ifc.addr,
		.raddr = rte_cpu_to_be_32(t->dst),
		.lport = rte_cpu_to_be_16(t->sport),
		.rport = rte_cpu_to_be_16(t->dport),
	};
	const struct pc_tcb *c = pc_tcp_lookup(h_lc, &k);

	if (c == NULL || t->len == 0)
		return; /* gone since: nothing to compare with */
	for (uint16_t i = 0; i < t->len; i++) {
		uint32_t off = t->seq + i - (c->iss + 1); /* in our stream */

		if (t->sport == H_PORT_ECHO && t->data[i] != payload_byte(c->irs + 1 + off))
			abort();
		if (t->sport == H_PORT_SOURCE && t->data[i] != pc_app_pattern(off))
			abort();
	}
}

/* What the worker sent: well-formed, ours, to a peer; the flows learn
 * our sequence numbers and timestamps from it. */
static void check_sent(void)
{
	struct h_frame f;
	struct h_tcp t;

	while (h_take(&f)) {
		if (h_parse_tcp(&f, &t) != 0 || f.len > sizeof(struct rte_ether_hdr) + 1500)
			abort();
		if ((t.flags & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG)) ==
			    (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG) ||
		    ((t.flags & RTE_TCP_RST_FLAG) && (t.flags & RTE_TCP_SYN_FLAG || t.len != 0)))
			abort();
		struct flow *fl = NULL;

		for (unsigned int i = 0; i < NB_FLOWS; i++)
			if (flows[i].addr == t.dst && flows[i].sport == t.dport &&
			    flows[i].dport == t.sport)
				fl = &flows[i];
		if (fl == NULL && t.dst == H_BACKEND && t.dport == H_BACKEND_PORT) {
			/* A connection of the forward app: a backend flow (the
			 * oldest one's slot when all are taken). */
			fl = &backends[next_backend++ % NB_BACKENDS];
			*fl = (struct flow){
				.addr = H_BACKEND,
				.sport = H_BACKEND_PORT,
				.dport = t.sport,
				.nxt = t.sport * 0x10001u,
				.tsval = 1000,
			};
		}
		if (fl == NULL)
			abort();
		if (t.flags & RTE_TCP_SYN_FLAG)
			fl->ack = t.seq + 1;
		else if (!(t.flags & RTE_TCP_RST_FLAG) &&
			 seq_gt(t.seq + seg_space(t.flags, t.len), fl->ack))
			fl->ack = t.seq + seg_space(t.flags, t.len);
		check_options(&t, fl);
		check_payload(&t);
	}
}

/* Every connection's state is consistent, and so are the worker's counts. */
static void check_tcbs(void)
{
	const struct pc_tcp_lcore *tl = &h_lc->tcp;
	uint32_t used = 0, half_open = 0, time_wait = 0;

	for (uint32_t i = 0; i < pc_tcp_cfg.set.max_conns; i++) {
		const struct pc_tcb *c = &tl->tcbs[i];

		if (c->state == PC_TCP_CLOSED)
			continue;
		used++;
		half_open += c->state == PC_TCP_SYN_RCVD;
		time_wait += c->state == PC_TCP_TIME_WAIT;
		if (pc_tcp_lookup(h_lc, &c->key) != c || c->state >= PC_TCP_NSTATES)
			abort();
		/* Send side: una <= nxt <= max, the ring within its size and
		 * starting at una (one after while the SYN is unacknowledged,
		 * one before once the FIN is). */
		if (seq_gt(c->snd_una, c->snd_nxt) || seq_gt(c->snd_nxt, c->snd_max) ||
		    c->snd_len > c->sbuf_mask + 1 || c->snd_buf - c->snd_una + 1 > 2)
			abort();
		/* Receive side: unread data (and a FIN) fit the ring; the
		 * out-of-order ranges are sorted, disjoint, above rcv_nxt and
		 * inside the ring. */
		if (c->rcv_nxt - c->rcv_read > c->rbuf_mask + 2 || c->nb_ooo > PC_TCP_OOO_MAX ||
		    c->nb_sacked > PC_TCP_SACK_MAX)
			abort();
		uint32_t floor = c->rcv_nxt;

		for (unsigned int k = 0; k < c->nb_ooo; k++) {
			if (!seq_gt(c->ooo[k].start, floor) ||
			    !seq_lt(c->ooo[k].start, c->ooo[k].end) ||
			    seq_gt(c->ooo[k].end, c->rcv_read + c->rbuf_mask + 1))
				abort();
			floor = c->ooo[k].end;
		}
		/* SACKed ranges: sorted, disjoint, within what is in flight. */
		floor = c->snd_una;
		for (unsigned int k = 0; k < c->nb_sacked; k++) {
			if (seq_lt(c->sacked[k].start, floor) ||
			    !seq_lt(c->sacked[k].start, c->sacked[k].end) ||
			    seq_gt(c->sacked[k].end, c->snd_max))
				abort();
			floor = c->sacked[k].end;
		}
	}
	if (used != tl->nb_used || half_open != tl->nb_half_open ||
	    time_wait != tl->nb_time_wait)
		abort();
}

/* The TCP configuration for this input, applied if it differs. */
static void configure(uint8_t c)
{
	struct pc_tcp_cfg cfg = h_tcp_defaults;

	/* Room for every flow at once, and no more: DPDK clears the buffers
	 * of them all when they are freed after each input. */
	cfg.set.max_conns = NB_FLOWS;
	if (c & 1)
		cfg.set.syn_backlog = 0;
	if (c & 2) {
		cfg.set.rcvbuf = 4096;
		cfg.set.sndbuf = 4096;
	}
	if (c & 4)
		cfg.set.max_conns = 2;
	if (c & 8)
		cfg.cc = &pc_tcp_newreno;
	if (c & 16) {
		cfg.set.keepalive_idle_s = 1;
		cfg.set.keepalive_intvl_s = 1;
		cfg.set.keepalive_probes = 2;
		cfg.set.idle_timeout_s = 5;
	}
	if (c & 32)
		cfg.set.max_time_wait = 1;
	if (c & 64)
		for (unsigned int i = 0; i < PC_TCP_MAX_LISTENERS; i++)
			if (cfg.listeners[i].port == rte_cpu_to_be_16(H_PORT_SOURCE))
				cfg.listeners[i].app_arg = (void *)(uintptr_t)3000;
	if (memcmp(&cfg, &pc_tcp_cfg, sizeof(cfg)) != 0)
		h_reset_tcp(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = {data, size};
	struct pc_wheel *w;

	if (size == 0)
		return 0;
	configure(get8(&r));
	w = &h_lc->tcp.wheel;
	w->tsc_per_tick = rte_get_tsc_hz() * 60;
	ticks = 0;
	for (unsigned int i = 0; i < NB_PEERS * NB_PORTS; i++) {
		unsigned int peer = i / NB_PORTS;

		flows[i] = (struct flow){
			.addr = H_IP4(198, 18, 0, 2 + 10 * (peer / 2)),
			.sport = (uint16_t)(40000 + peer % 2),
			.dport = ports[i % NB_PORTS],
			.nxt = i * 0x0d0d0d0du,
			.tsval = 1000,
		};
	}
	for (unsigned int i = 0; i < NB_BACKENDS; i++)
		backends[i] = (struct flow){.addr = H_BACKEND, .sport = H_BACKEND_PORT};
	next_backend = 0;
	h_arp_learn(H_IP4(198, 18, 0, 2), &h_peer_mac);
	h_arp_learn(H_IP4(198, 18, 0, 12), &h_peer_mac);
	h_arp_learn(H_BACKEND, &h_peer_mac);
	while (r.n != 0) {
		uint8_t op = get8(&r);

		if (op & 0x80) {
			uint64_t ms = (uint64_t)get8(&r) << (2 * ((op >> 4) & 7));

			if (ticks + ms > MAX_TICKS)
				continue;
			ticks += ms;
			pc_wheel_advance(w, w->tsc_base + (w->tick + ms) * w->tsc_per_tick);
			pc_tx_flush(h_lc);
		} else {
			send_segment(&r, op);
		}
		check_sent();
		check_tcbs();
	}
	/* Tear everything down: the RSTs go out, every mbuf comes back. */
	h_reset();
	if (!h_pool_full())
		abort();
	return 0;
}
