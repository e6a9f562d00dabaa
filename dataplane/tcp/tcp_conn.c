/* SPDX-License-Identifier: MIT */
/*
 * Connection table, control-block pool, listeners, and the application
 * API (read, write, shutdown, abort). Per worker, owner-only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>

#include <rte_tcp.h>

#include "../dp.h"
#include "tcp.h"

struct pc_tcp_cfg pc_tcp_cfg;

const char *const pc_tcp_state_names[PC_TCP_NSTATES] = {
	"CLOSED",     "SYN_SENT", "SYN_RCVD",  "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2",
	"CLOSING",    "TIME_WAIT", "CLOSE_WAIT", "LAST_ACK",
};

uint32_t pc_tcp_ring_size(void)
{
	return RTE_MAX(pc_tcp_cfg.set.rcvbuf, pc_tcp_cfg.set.sndbuf);
}

int pc_tcp_lcore_init(struct pc_lcore *lc, uint16_t worker_index, int socket)
{
	struct pc_tcp_lcore *t = &lc->tcp;
	const struct pc_tcp_cfg *cfg = &pc_tcp_cfg;
	char name[RTE_HASH_NAMESIZE];
	size_t ring = pc_tcp_ring_size();
	/* auto: two per connection, and the one kept for sending. */
	uint32_t nb_rings =
		cfg->set.buffer_pool != 0 ? cfg->set.buffer_pool : 2 * cfg->set.max_conns + 1;

	snprintf(name, sizeof(name), "pc_tcp_%p", (void *)lc);
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = RTE_MAX(cfg->set.max_conns * 2, 64u),
		.key_len = sizeof(struct pc_tcp_key),
		.hash_func = rte_jhash,
		.socket_id = socket,
	};

	t->table = rte_hash_create(&hp);
	t->tcbs = rte_zmalloc_socket("pc_tcbs", sizeof(struct pc_tcb) * cfg->set.max_conns,
				     RTE_CACHE_LINE_SIZE, socket);
	t->bufs = rte_malloc_socket("pc_tcp_bufs", ring * nb_rings, 4096, socket);
	if (t->table == NULL || t->tcbs == NULL || t->bufs == NULL) {
		fprintf(stderr,
			"portcullis: no memory for %u TCP connections and %u buffers of %zu bytes "
			"(tcp max-connections / tcp buffer-pool / tcp buffers; hugepages?)\n",
			cfg->set.max_conns, nb_rings, ring);
		pc_tcp_lcore_fini(lc);
		return -ENOMEM;
	}
	t->free_list = NULL;
	for (uint32_t i = cfg->set.max_conns; i-- > 0;) {
		t->tcbs[i].free_next = t->free_list;
		t->free_list = &t->tcbs[i];
	}
	t->ring_free = NULL;
	for (uint32_t i = nb_rings; i-- > 0;) {
		uint8_t *r = t->bufs + i * ring;

		memcpy(r, &t->ring_free, sizeof(t->ring_free));
		t->ring_free = r;
	}
	t->nb_rings = nb_rings;
	t->worker_index = worker_index;
	t->next_port = cfg->ephemeral_lo;
	pc_wheel_init(&t->wheel, rte_rdtsc(), rte_get_tsc_hz());
	pc_tcp_clock_set(lc, rte_rdtsc());
	return pc_tcp_tw_init(lc, socket);
}

void pc_tcp_abort_all(struct pc_lcore *lc)
{
	struct pc_tcp_lcore *t = &lc->tcp;

	if (t->tcbs == NULL)
		return;
	/* The peers get a RST, the apps on_closed. */
	for (uint32_t i = 0; i < pc_tcp_cfg.set.max_conns; i++)
		if (t->tcbs[i].state != PC_TCP_CLOSED)
			pc_tcp_abort(&t->tcbs[i]);
}

void pc_tcp_lcore_fini(struct pc_lcore *lc)
{
	struct pc_tcp_lcore *t = &lc->tcp;

	pc_tcp_tw_fini(lc);
	rte_hash_free(t->table);
	rte_free(t->tcbs);
	rte_free(t->bufs);
	memset(t, 0, sizeof(*t));
}

struct pc_tcb *pc_tcp_lookup(struct pc_lcore *lc, const struct pc_tcp_key *k)
{
	void *data;

	if (rte_hash_lookup_data(lc->tcp.table, k, &data) < 0)
		return NULL;
	return data;
}

struct pc_tcb *pc_tcp_alloc(struct pc_lcore *lc, const struct pc_tcp_key *k)
{
	struct pc_tcp_lcore *t = &lc->tcp;
	struct pc_tcb *c = t->free_list;

	if (c == NULL)
		return NULL;
	if (rte_hash_add_key_data(t->table, k, c) < 0)
		return NULL;
	t->free_list = c->free_next;
	t->nb_used++;

	memset(c, 0, sizeof(*c));
	c->key = *k;
	c->lc = lc;
	c->rbuf_mask = pc_tcp_cfg.set.rcvbuf - 1;
	c->sbuf_mask = pc_tcp_cfg.set.sndbuf - 1;
	c->cc = pc_tcp_cfg.cc;
	c->mss = 536;
	c->rto_ms = pc_tcp_cfg.set.rto_init_ms;
	c->ssthresh = UINT32_MAX;
	c->last_rx_tick = t->wheel.tick;
	pc_tcp_timers_init(c);
	return c;
}

/* Whether the application may still queue data (rings aside). */
static bool can_write(const struct pc_tcb *c)
{
	return !c->fin_queued && (c->state == PC_TCP_ESTABLISHED || c->state == PC_TCP_CLOSE_WAIT);
}

/* Short of space only for want of a ring: wait for one. */
static bool needs_ring(const struct pc_tcb *c)
{
	return can_write(c) && c->sbuf == NULL && !pc_tcp_ring_available(&c->lc->tcp);
}

static uint8_t *ring_take(struct pc_tcp_lcore *t)
{
	uint8_t *r = t->ring_free;

	if (r == NULL)
		return NULL;
	memcpy(&t->ring_free, r, sizeof(t->ring_free));
	t->nb_rings_used++;
	return r;
}

static void ring_wait_remove(struct pc_tcb *c)
{
	struct pc_tcp_lcore *t = &c->lc->tcp;

	if (!c->ring_waiting)
		return;
	struct pc_tcb *next = c->ring_wait_next;

	if (c->ring_wait_prev != NULL)
		c->ring_wait_prev->ring_wait_next = next;
	else
		t->ring_wait_head = next;
	if (next != NULL)
		next->ring_wait_prev = c->ring_wait_prev;
	else
		t->ring_wait_tail = c->ring_wait_prev;
	c->ring_waiting = false;
	c->ring_wait_next = NULL;
	c->ring_wait_prev = NULL;
}

/* c wants to write and has no send ring: wait for one, in turn. */
static void ring_wait_add(struct pc_tcb *c)
{
	struct pc_tcp_lcore *t = &c->lc->tcp;

	if (c->ring_waiting)
		return;
	c->lc->cnt.tcp_pool_empty_writes++;
	c->ring_waiting = true;
	c->ring_wait_next = NULL;
	c->ring_wait_prev = t->ring_wait_tail;
	if (t->ring_wait_tail != NULL)
		t->ring_wait_tail->ring_wait_next = c;
	else
		t->ring_wait_head = c;
	t->ring_wait_tail = c;
}

/* Back to the pool; the oldest waiting writer gets its turn on the next
 * timer pass (never from inside whatever freed the ring: that may be
 * another connection's application). */
static void ring_give(struct pc_tcp_lcore *t, uint8_t *r)
{
	struct pc_tcb *w = t->ring_wait_head;

	memcpy(r, &t->ring_free, sizeof(t->ring_free));
	t->ring_free = r;
	t->nb_rings_used--;
	if (w != NULL) {
		ring_wait_remove(w);
		pc_timer_arm(&t->wheel, &w->t_app, 0);
	}
}

bool pc_tcp_rbuf_take(struct pc_tcb *c)
{
	if (c->rbuf == NULL && pc_tcp_rcv_ring_available(&c->lc->tcp))
		c->rbuf = ring_take(&c->lc->tcp);
	return c->rbuf != NULL;
}

void pc_tcp_rbuf_release(struct pc_tcb *c)
{
	if (c->rbuf != NULL && pc_tcp_readable(c) == 0 && c->nb_ooo == 0) {
		ring_give(&c->lc->tcp, c->rbuf);
		c->rbuf = NULL;
	}
}

void pc_tcp_sbuf_release(struct pc_tcb *c)
{
	if (c->sbuf != NULL && c->snd_len == 0) {
		ring_give(&c->lc->tcp, c->sbuf);
		c->sbuf = NULL;
	}
}

void pc_tcp_ring_wake(struct pc_tcb *c)
{
	if (!c->want_writable || c->app_closed || c->app_ctx == NULL)
		return;
	if (needs_ring(c)) {
		ring_wait_add(c);
		return;
	}
	if (pc_tcp_write_space(c) == 0)
		return;
	c->want_writable = false;
	c->app->on_writable(c, c->app_ctx);
}

unsigned int pc_tcp_owner(uint32_t raddr, uint16_t rport, uint16_t lport)
{
	uint16_t lp = rte_be_to_cpu_16(lport);

	if (lp >= pc_tcp_cfg.ephemeral_lo && lp <= pc_tcp_cfg.ephemeral_hi &&
	    pc_tcp_find_listener(lport) == NULL)
		return lp % pc_tcp_cfg.nb_workers;
	return rte_jhash_3words(raddr, rport, lport, 0) % pc_tcp_cfg.nb_workers;
}

bool pc_tcp_port_is_mine(const struct pc_lcore *lc, uint32_t raddr, uint16_t rport,
			 uint16_t lport)
{
	const struct pc_tcp_cfg *cfg = &pc_tcp_cfg;

	if (cfg->rss) {
		/* The tuple of the reply as the device hashes it: source
		 * address, destination address, source port, destination port. */
		uint8_t in[12];
		uint16_t lp = rte_cpu_to_be_16(lport);

		memcpy(in, &raddr, 4);
		memcpy(in + 4, &lc->ifc->addr, 4);
		memcpy(in + 8, &rport, 2);
		memcpy(in + 10, &lp, 2);
		uint32_t h = pc_toeplitz(cfg->rss_key, cfg->rss_key_len, in, sizeof(in));

		return cfg->reta[h % cfg->reta_size] == lc->queue;
	}
	return cfg->nb_workers <= 1 || lport % cfg->nb_workers == lc->tcp.worker_index;
}

struct pc_tcb *pc_tcp_connect(struct pc_lcore *lc, uint32_t raddr, uint16_t rport,
			      const struct pc_tcp_app *app, void *app_arg)
{
	const struct pc_tcp_cfg *cfg = &pc_tcp_cfg;
	struct pc_tcp_lcore *t = &lc->tcp;
	uint32_t span = (uint32_t)cfg->ephemeral_hi - cfg->ephemeral_lo + 1;
	struct pc_tcp_key k = {.laddr = lc->ifc->addr, .raddr = raddr, .rport = rport};

	for (uint32_t tries = 0; tries < span; tries++) {
		uint16_t p = t->next_port;

		t->next_port = p >= cfg->ephemeral_hi ? cfg->ephemeral_lo : (uint16_t)(p + 1);
		if (!pc_tcp_port_is_mine(lc, raddr, rport, p))
			continue;
		k.lport = rte_cpu_to_be_16(p);
		if (pc_tcp_lookup(lc, &k) != NULL)
			continue;
		struct pc_tcb *c = pc_tcp_alloc(lc, &k);

		if (c == NULL) {
			lc->cnt.drop[PC_DROP_tcp_conn_limit]++;
			return NULL;
		}
		c->app = app;
		c->app_arg = app_arg;
		c->iss = pc_tcp_isn(&k);
		c->snd_una = c->iss;
		c->snd_nxt = c->iss + 1;
		c->snd_max = c->snd_nxt;
		c->snd_buf = c->snd_nxt;
		c->rcv_wscale = pc_tcp_our_wscale();
		c->mss = cfg->mss;
		pc_tcp_set_state(c, PC_TCP_SYN_SENT);
		lc->cnt.tcp_active_opens++;
		pc_tcp_send_segment(c, RTE_TCP_SYN_FLAG, c->iss, 0);
		pc_tcp_arm_rtx(c);
		return c;
	}
	return NULL;
}

size_t pc_tcp_queue_first(struct pc_tcb *c, const void *buf, size_t len)
{
	uint32_t n;

	if (c->state != PC_TCP_SYN_SENT || c->snd_len != 0 || len == 0)
		return 0;
	c->sbuf = ring_take(&c->lc->tcp);
	if (c->sbuf == NULL) {
		c->lc->cnt.tcp_pool_empty_writes++;
		return 0;
	}
	n = (uint32_t)RTE_MIN(len, (size_t)c->sbuf_mask + 1);
	pc_tcp_ring_put(c->sbuf, c->sbuf_mask, c->snd_buf, buf, n);
	c->snd_len = n;
	return n;
}

void pc_tcp_set_state(struct pc_tcb *c, enum pc_tcp_state s)
{
	struct pc_tcp_lcore *t = &c->lc->tcp;

	if (c->state == PC_TCP_SYN_RCVD)
		t->nb_half_open--;
	if (c->state == PC_TCP_TIME_WAIT)
		t->nb_time_wait--;
	if (s == PC_TCP_SYN_RCVD)
		t->nb_half_open++;
	if (s == PC_TCP_TIME_WAIT)
		t->nb_time_wait++;
	c->state = (uint8_t)s;
}

void pc_tcp_free(struct pc_tcb *c, enum pc_tcp_close_reason why)
{
	struct pc_lcore *lc = c->lc;
	struct pc_tcp_lcore *t = &lc->tcp;

	if (c->state == PC_TCP_CLOSED)
		return;
	pc_tcp_timers_cancel(c);
	pc_tcp_set_state(c, PC_TCP_CLOSED);
	rte_hash_del_key(t->table, &c->key);
	ring_wait_remove(c);
	c->deferred = 0;
	if (c->rbuf != NULL)
		ring_give(t, c->rbuf);
	if (c->sbuf != NULL)
		ring_give(t, c->sbuf);
	c->rbuf = NULL;
	c->sbuf = NULL;
	if (why == PC_TCP_CLOSED_RESET)
		lc->cnt.tcp_conns_reset++;
	else if (why == PC_TCP_CLOSED_TIMEOUT)
		lc->cnt.tcp_conns_timed_out++;
	if ((c->app_ctx != NULL || !c->passive) && c->app != NULL &&
	    (!c->app_closed || c->close_pending)) {
		c->app_closed = true;
		c->close_pending = false;
		c->app->on_closed(c, c->app_ctx, why);
	}
	c->free_next = t->free_list;
	t->free_list = c;
	t->nb_used--;
}

const struct pc_tcp_listener *pc_tcp_find_listener(uint16_t port)
{
	for (unsigned int i = 0; i < PC_TCP_MAX_LISTENERS; i++)
		if (pc_tcp_cfg.listeners[i].port == port && port != 0)
			return &pc_tcp_cfg.listeners[i];
	return NULL;
}

bool pc_tcp_established(struct pc_tcb *c)
{
	pc_tcp_set_state(c, PC_TCP_ESTABLISHED);
	c->lc->cnt.tcp_conns_established++;
	pc_tcp_arm_keep(c);
	c->app_ctx = c->app->on_open(c, c->app_arg);
	if (c->app_ctx == NULL) {
		pc_tcp_abort(c);
		return false;
	}
	return true;
}

void pc_tcp_ring_get(const uint8_t *ring, uint32_t mask, uint32_t seq, void *dst, uint32_t n)
{
	if (n == 0)
		return; /* ring may be NULL: a connection holds none while empty */
	uint32_t off = seq & mask, first = RTE_MIN(n, mask + 1 - off);

	memcpy(dst, ring + off, first);
	memcpy((uint8_t *)dst + first, ring, n - first);
}

void pc_tcp_ring_put(uint8_t *ring, uint32_t mask, uint32_t seq, const void *src, uint32_t n)
{
	uint32_t off = seq & mask, first = RTE_MIN(n, mask + 1 - off);

	memcpy(ring + off, src, first);
	memcpy(ring, (const uint8_t *)src + first, n - first);
}

void pc_tcp_ring_put_mbuf(uint8_t *ring, uint32_t mask, uint32_t seq,
			  const struct rte_mbuf *m, uint32_t off, uint32_t n)
{
	while (off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	while (n != 0) {
		uint32_t k = RTE_MIN(n, (uint32_t)m->data_len - off);

		pc_tcp_ring_put(ring, mask, seq, rte_pktmbuf_mtod_offset(m, const uint8_t *, off), k);
		seq += k;
		n -= k;
		off = 0;
		m = m->next;
	}
}

void pc_tcp_ring_get_mbuf(const uint8_t *ring, uint32_t mask, uint32_t seq,
			  struct rte_mbuf *m, uint32_t off)
{
	for (; m != NULL; m = m->next) {
		uint32_t k = m->data_len - off;

		pc_tcp_ring_get(ring, mask, seq, rte_pktmbuf_mtod_offset(m, uint8_t *, off), k);
		seq += k;
		off = 0;
	}
}

uint16_t pc_tcp_ring_sum(const uint8_t *ring, uint32_t mask, uint32_t seq, uint32_t n)
{
	uint32_t off = seq & mask, first = RTE_MIN(n, mask + 1 - off);
	uint32_t sum = pc_tcp_sum_piece(0, 0, ring + off, first);

	return __rte_raw_cksum_reduce(pc_tcp_sum_piece(sum, first, ring, n - first));
}

size_t pc_tcp_readable(const struct pc_tcb *c)
{
	return c->rcv_nxt - c->rcv_read - (c->fin_rcvd ? 1 : 0);
}

bool pc_tcp_fin_received(const struct pc_tcb *c)
{
	return c->fin_rcvd;
}

size_t pc_tcp_peek_at(const struct pc_tcb *c, size_t off, void *buf, size_t len)
{
	size_t readable = pc_tcp_readable(c);
	uint32_t n = off >= readable ? 0 : (uint32_t)RTE_MIN(len, readable - off);

	pc_tcp_ring_get(c->rbuf, c->rbuf_mask, c->rcv_read + (uint32_t)off, buf, n);
	return n;
}

size_t pc_tcp_rcvbuf_size(const struct pc_tcb *c)
{
	return (size_t)c->rbuf_mask + 1;
}

void pc_tcp_peer(const struct pc_tcb *c, uint32_t *addr, uint16_t *port)
{
	*addr = c->key.raddr;
	*port = c->key.rport;
}

void pc_tcp_local(const struct pc_tcb *c, uint32_t *addr, uint16_t *port)
{
	*addr = c->key.laddr;
	*port = c->key.lport;
}

struct pc_lcore *pc_tcp_lcore(const struct pc_tcb *c)
{
	return c->lc;
}

void pc_tcp_set_deadline(struct pc_tcb *c, uint32_t ms)
{
	c->deadline_tick = ms != 0 ? c->lc->tcp.wheel.tick + ms : 0;
	pc_tcp_arm_keep(c);
}

size_t pc_tcp_read(struct pc_tcb *c, void *buf, size_t len)
{
	uint32_t n = (uint32_t)RTE_MIN(len, pc_tcp_readable(c));

	if (n == 0)
		return 0;
	pc_tcp_ring_get(c->rbuf, c->rbuf_mask, c->rcv_read, buf, n);
	return pc_tcp_skip(c, n);
}

size_t pc_tcp_skip(struct pc_tcb *c, size_t len)
{
	uint32_t n = (uint32_t)RTE_MIN(len, pc_tcp_readable(c));

	if (n == 0)
		return 0;
	uint32_t before = pc_tcp_rcv_window(c);

	c->rcv_read += n;
	pc_tcp_rbuf_release(c);
	if (c->state == PC_TCP_TIME_WAIT) {
		/* Drained after the peer's FIN: on_closed comes on the next tick,
		 * not from inside the application's own read. */
		if (pc_tcp_readable(c) == 0)
			pc_timer_arm(&c->lc->tcp.wheel, &c->t_app, 0);
		return n;
	}
	/* Window update when reading opened at least two segments or half
	 * the buffer beyond what the peer was last told (RFC 1122 4.2.3.3). */
	uint32_t after = pc_tcp_rcv_window(c);
	uint32_t adv = c->rcv_adv - c->rcv_nxt;

	if (after - adv >= RTE_MIN(2u * c->mss, (c->rbuf_mask + 1) / 2) && after > before) {
		c->ack_now = true;
		pc_tcp_output(c);
	}
	return n;
}

size_t pc_tcp_write_space(const struct pc_tcb *c)
{
	if (!can_write(c) || needs_ring(c))
		return 0;
	return c->sbuf_mask + 1 - c->snd_len;
}

static bool defer(struct pc_tcb *c, uint8_t what)
{
	struct pc_tcp_lcore *t = &c->lc->tcp;

	if (c->deferred == 0) {
		if (t->nb_deferred == PC_TCP_DEFER_MAX)
			return false;
		t->deferred[t->nb_deferred++] = (uint32_t)(c - t->tcbs);
	}
	c->deferred |= what;
	return true;
}

bool pc_tcp_defer_writable(struct pc_tcb *c)
{
	return defer(c, PC_TCP_DEFER_WRITABLE);
}

bool pc_tcp_defer_ack(struct pc_tcb *c)
{
	return defer(c, PC_TCP_DEFER_ACK);
}

/* What an application writes while another connection's segment is read
 * (a proxy forwarding what that connection brought) goes out at the end of
 * the burst, as Linux's autocorking holds a short segment while the device
 * still has the last: the burst's writes leave in full segments, not as a
 * full and a short one each. Inside its own input the connection is corked
 * and sends once that input is done; other writes (on_open, timers) go at
 * once. */
static void output_after_write(struct pc_tcb *c)
{
	if (c->corked || !c->lc->tcp.in_input || !defer(c, PC_TCP_DEFER_OUTPUT))
		pc_tcp_output(c);
}

size_t pc_tcp_write(struct pc_tcb *c, const void *buf, size_t len)
{
	uint32_t n = (uint32_t)RTE_MIN(len, pc_tcp_write_space(c));

	if (n < len) {
		c->want_writable = true;
		if (needs_ring(c))
			ring_wait_add(c);
	}
	if (n == 0)
		return 0;
	if (c->sbuf == NULL)
		c->sbuf = ring_take(&c->lc->tcp);
	pc_tcp_ring_put(c->sbuf, c->sbuf_mask, c->snd_buf + c->snd_len, buf, n);
	c->snd_len += n;
	output_after_write(c);
	return n;
}

size_t pc_tcp_write_contig(const struct pc_tcb *c)
{
	size_t space = pc_tcp_write_space(c);
	uint32_t off = (c->snd_buf + c->snd_len) & c->sbuf_mask;

	return RTE_MIN(space, (size_t)(c->sbuf_mask + 1 - off));
}

void *pc_tcp_write_place(struct pc_tcb *c, size_t len)
{
	if (len == 0 || len > pc_tcp_write_contig(c))
		return NULL;
	if (c->sbuf == NULL)
		c->sbuf = ring_take(&c->lc->tcp);
	return c->sbuf + ((c->snd_buf + c->snd_len) & c->sbuf_mask);
}

void pc_tcp_write_commit(struct pc_tcb *c, size_t len)
{
	c->snd_len += (uint32_t)len;
	output_after_write(c);
}

void pc_tcp_close_if_drained(struct pc_tcb *c)
{
	if (c->state == PC_TCP_TIME_WAIT && c->app_ctx != NULL && !c->app_closed &&
	    pc_tcp_readable(c) == 0) {
		c->app_closed = true;
		c->app->on_closed(c, c->app_ctx, PC_TCP_CLOSED_NORMAL);
	}
}

void pc_tcp_dump(FILE *out, const struct pc_lcore *lc, unsigned int lcore_id)
{
	const struct pc_tcp_lcore *t = &lc->tcp;

	for (uint32_t i = 0; t->tcbs != NULL && i < pc_tcp_cfg.set.max_conns; i++) {
		const struct pc_tcb *c = &t->tcbs[i];
		uint8_t st = c->state;

		if (st == PC_TCP_CLOSED || st >= PC_TCP_NSTATES)
			continue;
		fprintf(out,
			"lcore%u %u.%u.%u.%u:%u %s una+%u nxt+%u max+%u wnd %u cwnd %u ssth %u "
			"rto %u rtx %u rec %d sacked %u unsent %u rcv_wnd %u unread %u ooo %u%s%s\n",
			lcore_id, rte_be_to_cpu_32(c->key.raddr) >> 24,
			(rte_be_to_cpu_32(c->key.raddr) >> 16) & 0xff,
			(rte_be_to_cpu_32(c->key.raddr) >> 8) & 0xff,
			rte_be_to_cpu_32(c->key.raddr) & 0xff, rte_be_to_cpu_16(c->key.rport),
			pc_tcp_state_names[st], c->snd_una - c->iss, c->snd_nxt - c->iss,
			c->snd_max - c->iss, c->snd_wnd, c->cwnd, c->ssthresh, c->rto_ms,
			c->rtx_count, c->in_recovery, c->nb_sacked,
			c->snd_buf + c->snd_len - c->snd_nxt, pc_tcp_rcv_window(c),
			c->rcv_nxt - c->rcv_read, c->nb_ooo, c->want_writable ? " want-writable" : "",
			c->fin_queued ? " fin-queued" : "");
	}
}

bool pc_tcp_run_deferred(struct pc_lcore *lc)
{
	struct pc_tcp_lcore *t = &lc->tcp;
	uint32_t n = t->nb_deferred;
	bool ran = false;

	for (uint32_t i = 0; i < n; i++) {
		struct pc_tcb *c = &t->tcbs[t->deferred[i]];
		uint8_t what = c->deferred;

		if (what == 0)
			continue;
		c->deferred = 0;
		ran = true;
		pc_tcp_clock_set(lc, rte_rdtsc());
		if ((what & PC_TCP_DEFER_WRITABLE) && c->state != PC_TCP_CLOSED && !c->app_closed &&
		    c->app_ctx != NULL) {
			/* What it writes now goes out below, not a burst later. */
			c->corked = true;
			c->app->on_writable(c, c->app_ctx);
			c->corked = false;
			what |= PC_TCP_DEFER_OUTPUT;
		}
		/* Unless data sent meanwhile carried it. */
		if ((what & PC_TCP_DEFER_ACK) && c->segs_unacked >= 2)
			c->ack_now = true;
		if ((what & (PC_TCP_DEFER_OUTPUT | PC_TCP_DEFER_ACK)) && c->state != PC_TCP_CLOSED)
			pc_tcp_output(c);
	}
	/* Those deferred while these ran, if any, go first next time. */
	t->nb_deferred -= n;
	if (n != 0 && t->nb_deferred != 0)
		memmove(t->deferred, t->deferred + n, t->nb_deferred * sizeof(t->deferred[0]));
	return ran;
}

void pc_tcp_notify_writable(struct pc_tcb *c)
{
	c->want_writable = true;
	if (needs_ring(c))
		ring_wait_add(c);
}

uint64_t *pc_tcp_scratch(struct pc_tcb *c)
{
	return c->scratch;
}

void pc_tcp_shutdown(struct pc_tcb *c)
{
	if (c->fin_queued || (c->state != PC_TCP_ESTABLISHED && c->state != PC_TCP_CLOSE_WAIT &&
			      c->state != PC_TCP_SYN_RCVD))
		return;
	c->fin_queued = true;
	pc_tcp_output(c);
}

void pc_tcp_close(struct pc_tcb *c)
{
	if (c->app_closed)
		return;
	pc_tcp_shutdown(c);
	/* No callback from here on but the on_closed owed, which comes from
	 * the next timer pass (or sooner, if the connection ends first).
	 * Input is acknowledged and discarded. */
	c->app_closed = true;
	c->close_pending = true;
	c->want_writable = false;
	ring_wait_remove(c);
	c->rcv_read = c->rcv_nxt - (c->fin_rcvd ? 1 : 0);
	pc_tcp_rbuf_release(c);
	pc_timer_arm(&c->lc->tcp.wheel, &c->t_app, 0);
}

void pc_tcp_deliver_close(struct pc_tcb *c)
{
	if (!c->close_pending)
		return;
	c->close_pending = false;
	c->app->on_closed(c, c->app_ctx, PC_TCP_CLOSED_NORMAL);
}

void pc_tcp_reset(struct pc_tcb *c, enum pc_tcp_close_reason why)
{
	if (c->state == PC_TCP_CLOSED)
		return;
	if (c->state != PC_TCP_TIME_WAIT) {
		c->lc->cnt.tcp_rsts_sent++;
		pc_tcp_send_segment(c, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, c->snd_nxt, 0);
	}
	pc_tcp_free(c, why);
}

void pc_tcp_abort(struct pc_tcb *c)
{
	pc_tcp_reset(c, PC_TCP_CLOSED_ABORTED);
}
