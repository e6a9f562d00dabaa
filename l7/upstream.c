/* SPDX-License-Identifier: MIT */
/*
 * Connections to a backend's servers (pc_upstream.h), per worker.
 *
 * State. Each worker keeps, at first use, a table of the backends it has
 * connected to (UP_MAX_BACKENDS, keyed on struct pc_backend.id) and a
 * pool of connection objects as large as its TCP connection limit: no
 * allocation after that. A backend's entry holds one slot per server
 * (health, connection counts, balance state); a new version of the
 * backend keeps the state of every server whose address and port stay,
 * servers that left are marked gone (never picked, their idle
 * connections closed) and their slots are freed once their last
 * connection ends.
 *
 * Balance. Among the servers up on this worker: smooth weighted
 * round-robin (nginx's), or weighted least-connections over this
 * worker's own counts (connections in use; idle pooled ones and health
 * checks do not count). No server up: pc_up_open() returns NULL, counted
 * (up_no_server), and the proxy answers 503 or an alert.
 *
 * Health: each worker checks its own view, from the worker that owns
 * the connections (no cross-thread state, no locks: the server a worker
 * avoids is the one that failed for that worker). With `health tcp`, a
 * check passes when the connection opens; with `health http PATH`, when
 * `GET PATH HTTP/1.1` (Host: the backend's sni, else the server's
 * address) is answered with a 2xx or 3xx status line; either within the
 * interval, every interval, on every server of the backend (up or down).
 * UP_FALL (2) failures in a row put a server down: failed checks, or
 * passive failures (a refused connect or one not open within the connect
 * timeout, a reset before the connection was ready, TLS failing,
 * pc_up_failed()); UP_RISE (2) passed checks in a row bring it back.
 * Without `health`, a server down on passive failures is tried again
 * after UP_HOLD_DOWN_MS (5 s), and goes down again at the next failure.
 * A worker starts checking a backend at its first connection to it and
 * stops after UP_DORMANT_MS without one (it is not told when a backend
 * is deleted); the next connection takes its servers as up again (what
 * the checks said is old) and starts the checks again. Checks on a `tls` backend test the TCP connect only (the
 * TLS client needs the backend's version, which a timer cannot hold).
 * Transitions are counted (up_server_down, up_server_up); there is no
 * path from workers to the event log.
 *
 * Transport: plain TCP, or TLS over it, behind struct up_transport; the
 * prefix (a PROXY header) is queued on the TCP connection while it is
 * still in SYN_SENT, so it goes first, before any TLS record.
 *
 * Keep-alive pool (HTTP mode): PC_UP_POOL_MAX idle connections per
 * backend and worker, most recently used first; pc_up_get() picks the
 * server by balance, then an idle connection to it. An idle connection
 * is closed after the backend's idle timeout, and leaves the pool
 * quietly when its server closes it (or sends anything). A connection
 * opened with a prefix belongs to one client and is never pooled.
 *
 * Timeouts: the connect timeout is the TCP deadline until the connection
 * is ready; the idle timeout (no byte read or written for idle_ms) is a
 * timer per connection, also for pooled ones.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dp.h"
#include "pc_backend.h"
#include "pc_l7_stats.h"
#include "pc_tls_client.h"
#include "pc_upstream.h"
#include "upstream_int.h"

enum up_state {
	UP_FREE = 0,
	UP_CONNECTING, /* TCP handshake, then the transport's (TLS) */
	UP_OPEN,       /* ready, its user's */
	UP_IDLE,       /* in the pool */
	UP_CLOSING,    /* closed by us: TCP's on_closed is still to come */
};

/* How bytes go over a server connection. */
struct up_transport {
	/* TCP is open (the prefix queued first): 1 ready for data, 0 not yet
	 * (a handshake: progress() after each TCP event, same answers), -1
	 * failed. A transport whose start() never says 0 has no progress(). */
	int (*start)(struct pc_up *u);
	int (*progress)(struct pc_up *u);
	size_t (*read)(struct pc_up *u, void *buf, size_t len);
	size_t (*readable)(const struct pc_up *u);
	size_t (*write)(struct pc_up *u, const void *buf, size_t len);
	size_t (*write_space)(const struct pc_up *u);
	/* No more data from us. */
	void (*shutdown)(struct pc_up *u);
	/* Free what the transport holds (the connection is ending). */
	void (*release)(struct pc_up *u);
};

struct pc_up {
	uint8_t state;            /* enum up_state */
	uint8_t slot;             /* the server's slot in be->srv */
	bool tcp_open;            /* TCP reached ESTABLISHED */
	bool ready;               /* on_open given (or due: a check) */
	bool user_gone;           /* closed or aborted by its user: no callback */
	bool in_open;             /* inside TCP's on_open: abort is deferred */
	bool abort_req;
	bool timed_out;           /* our idle timer reset it */
	bool tls_broken;          /* a TLS record failed: reset at the next tick */
	bool is_check;
	bool counted;             /* counts in its server's active */
	bool private_conn;        /* opened with a prefix: never pooled */
	bool peer_fin;
	struct pc_tcb *c;
	const struct up_transport *tr;
	void *tr_ctx;             /* the transport's state (TLS client) */
	/* Until ready: the version it was opened for, which its caller holds
	 * (the TLS transport's start() builds its client from it). */
	const struct pc_backend *b;
	struct up_backend *be;
	const struct pc_up_cb *cb;
	void *arg;
	uint64_t last_io;         /* tick */
	struct pc_timer t_idle;
	struct pc_up *next;       /* pool or free list */
	uint16_t check_got;       /* health http: status line bytes read */
	char check_line[16];
	char server[24];          /* "a.b.c.d:port" */
};

struct up_worker {
	struct pc_lcore *lc;      /* the context its timers run on */
	struct pc_up *objs;
	struct pc_up *free;
	uint32_t nb_objs;
	uint32_t ids[UP_MAX_BACKENDS];      /* be[i].id, compact for the lookup */
	uint8_t hint[UP_MAX_BACKENDS];      /* by id % UP_MAX_BACKENDS: where it was last */
	struct up_backend be[UP_MAX_BACKENDS];
};

_Static_assert(UP_MAX_BACKENDS <= 256, "up_worker.hint holds uint8_t indexes");

/* Each worker's state, made at its first connection; read by other
 * threads only through pc_up_server_stats(). */
static struct up_worker *up_workers[RTE_MAX_LCORE];

static const struct pc_tcp_app up_tcp_app;

static uint64_t now_tick(const struct up_worker *w)
{
	return w->lc->tcp.wheel.tick;
}

static struct pc_wheel *wheel(const struct up_worker *w)
{
	return &w->lc->tcp.wheel;
}

/* Counters other threads read: one writer, relaxed. */
static void stat_inc(uint64_t *p)
{
	__atomic_store_n(p, *p + 1, __ATOMIC_RELAXED);
}

/* Balance. */

static bool eligible(const struct up_server *s)
{
	return s->in_use && !s->gone && !s->down;
}

int up_pick_rr(struct up_server *s, unsigned int n)
{
	int best = -1;
	int32_t total = 0;

	for (unsigned int i = 0; i < n; i++) {
		if (!eligible(&s[i]))
			continue;
		s[i].cur += s[i].weight;
		total += s[i].weight;
		if (best < 0 || s[i].cur > s[best].cur)
			best = (int)i;
	}
	if (best >= 0)
		s[best].cur -= total;
	return best;
}

int up_pick_lc(struct up_server *s, unsigned int n, unsigned int *cursor)
{
	int best = -1;

	if (n == 0)
		return -1;
	for (unsigned int k = 0; k < n; k++) {
		unsigned int i = (*cursor + k) % n;

		if (!eligible(&s[i]))
			continue;
		/* active/weight < best's, without division. */
		if (best < 0 || (uint64_t)s[i].active * s[best].weight <
					(uint64_t)s[best].active * s[i].weight)
			best = (int)i;
	}
	if (best >= 0)
		*cursor = ((unsigned int)best + 1) % n;
	return best;
}

/* Health. */

static void up_close_own(struct pc_up *u);

static void server_down(struct up_backend *be, struct up_server *s)
{
	if (s->down)
		return;
	s->down = true;
	s->oks = 0;
	s->down_until = now_tick(be->w) + UP_HOLD_DOWN_MS;
	PC_L7_COUNT(up_server_down);
	/* Its idle connections are not worth keeping. */
	for (struct pc_up *u = be->idle_head, *next; u != NULL; u = next) {
		next = u->next;
		if (&be->srv[u->slot] == s) {
			PC_L7_COUNT(up_pool_dropped);
			up_close_own(u);
		}
	}
}

static void server_up(struct up_server *s)
{
	if (!s->down)
		return;
	s->down = false;
	s->fails = 0;
	s->oks = 0;
	PC_L7_COUNT(up_server_up);
}

/* A passive failure, or a failed check. */
static void server_failed(struct up_backend *be, struct up_server *s)
{
	s->oks = 0;
	if (s->fails < UINT8_MAX)
		s->fails++;
	if (s->fails >= UP_FALL)
		server_down(be, s);
}

static void check_result(struct up_backend *be, struct up_server *s, bool ok)
{
	stat_inc(&s->checks);
	PC_L7_COUNT(up_health_checks);
	if (!ok) {
		stat_inc(&s->check_failures);
		PC_L7_COUNT(up_health_failures);
		server_failed(be, s);
		return;
	}
	s->fails = 0;
	if (s->oks < UINT8_MAX)
		s->oks++;
	if (s->down && s->oks >= UP_RISE)
		server_up(s);
}

/* Without health checks, a server down for the hold-down is tried again
 * (one more failure puts it back down). */
static void hold_down_ends(struct up_backend *be)
{
	uint64_t now = now_tick(be->w);

	if (be->health != PC_BACKEND_HEALTH_NONE)
		return;
	for (unsigned int i = 0; i < be->nb_slots; i++) {
		struct up_server *s = &be->srv[i];

		if (s->in_use && s->down && now >= s->down_until) {
			server_up(s);
			s->fails = UP_FALL - 1;
		}
	}
}

/* Connection objects. */

static struct up_worker *worker_of(struct pc_lcore *lc)
{
	unsigned int id = rte_lcore_id() % RTE_MAX_LCORE;
	struct up_worker *w = up_workers[id];
	uint32_t n = pc_tcp_cfg.set.max_conns;

	if (w != NULL && w->lc == lc)
		return w;
	if (w != NULL) {
		/* Another context on this lcore (a test harness rebuilt it,
		 * maybe with another connection limit): its connections and
		 * timers went with the old one. */
		__atomic_store_n(&up_workers[id], NULL, __ATOMIC_RELEASE);
		rte_free(w);
	}
	w = rte_zmalloc_socket("pc_upstream", sizeof(*w) + (size_t)n * sizeof(struct pc_up),
			       RTE_CACHE_LINE_SIZE, rte_socket_id());
	if (w == NULL)
		return NULL;
	w->nb_objs = n;
	w->lc = lc;
	w->objs = (struct pc_up *)(w + 1);
	for (uint32_t i = n; i-- > 0;) {
		w->objs[i].next = w->free;
		w->free = &w->objs[i];
	}
	for (unsigned int i = 0; i < UP_MAX_BACKENDS; i++)
		w->be[i].w = w;
	__atomic_store_n(&up_workers[id], w, __ATOMIC_RELEASE);
	return w;
}

static void up_idle_timer(struct pc_timer *t);

static struct pc_up *up_alloc(struct up_backend *be, unsigned int slot)
{
	struct up_worker *w = be->w;
	struct pc_up *u = w->free;
	const struct up_server *s = &be->srv[slot];
	uint32_t a = rte_be_to_cpu_32(s->addr);

	if (u == NULL)
		return NULL;
	w->free = u->next;
	memset(u, 0, sizeof(*u));
	u->be = be;
	u->slot = (uint8_t)slot;
	pc_timer_init(&u->t_idle, up_idle_timer);
	snprintf(u->server, sizeof(u->server), "%u.%u.%u.%u:%u", a >> 24, (a >> 16) & 0xff,
		 (a >> 8) & 0xff, a & 0xff, rte_be_to_cpu_16(s->port));
	be->refs++;
	return u;
}

/* Leave the slot's connection count (once). */
static void up_uncount(struct pc_up *u)
{
	if (u->counted) {
		u->be->srv[u->slot].active--;
		u->counted = false;
	}
}

static void slot_maybe_free(struct up_backend *be, unsigned int slot)
{
	struct up_server *s = &be->srv[slot];

	if (s->in_use && s->gone && s->active == 0 && s->idle == 0 && s->check == NULL)
		s->in_use = false;
}

static void up_free(struct pc_up *u)
{
	struct up_backend *be = u->be;
	struct up_worker *w = be->w;

	up_uncount(u);
	if (u->is_check && be->srv[u->slot].check == u)
		be->srv[u->slot].check = NULL;
	if (u->tr != NULL && u->tr->release != NULL)
		u->tr->release(u);
	pc_timer_cancel(&u->t_idle);
	slot_maybe_free(be, u->slot);
	be->refs--;
	u->state = UP_FREE;
	u->next = w->free;
	w->free = u;
}

static void touch(struct pc_up *u)
{
	u->last_io = now_tick(u->be->w);
}

static void arm_idle(struct pc_up *u)
{
	if (u->be->idle_ms != 0) {
		touch(u);
		pc_timer_arm(wheel(u->be->w), &u->t_idle, u->be->idle_ms);
	}
}

/* Remove u from its backend's pool. */
static void pool_unlink(struct pc_up *u)
{
	struct up_backend *be = u->be;

	for (struct pc_up **p = &be->idle_head; *p != NULL; p = &(*p)->next)
		if (*p == u) {
			*p = u->next;
			be->nb_idle--;
			be->srv[u->slot].idle--;
			u->next = NULL;
			return;
		}
}

/* Close a connection we own (idle, a check, one its user left): TCP's
 * on_closed frees it. */
static void up_close_own(struct pc_up *u)
{
	if (u->state == UP_IDLE)
		pool_unlink(u);
	u->user_gone = true;
	u->state = UP_CLOSING;
	pc_timer_cancel(&u->t_idle);
	if (u->ready && u->tr->shutdown != NULL)
		u->tr->shutdown(u);
	pc_tcp_close(u->c);
}

/* Plain TCP. */

static int plain_start(struct pc_up *u)
{
	(void)u;
	return 1;
}

static size_t plain_read(struct pc_up *u, void *buf, size_t len)
{
	return pc_tcp_read(u->c, buf, len);
}

static size_t plain_readable(const struct pc_up *u)
{
	return pc_tcp_readable(u->c);
}

static size_t plain_write(struct pc_up *u, const void *buf, size_t len)
{
	return pc_tcp_write(u->c, buf, len);
}

static size_t plain_write_space(const struct pc_up *u)
{
	return pc_tcp_write_space(u->c);
}

static void plain_shutdown(struct pc_up *u)
{
	pc_tcp_shutdown(u->c);
}

static const struct up_transport up_plain = {
	.start = plain_start,
	.read = plain_read,
	.readable = plain_readable,
	.write = plain_write,
	.write_space = plain_write_space,
	.shutdown = plain_shutdown,
};

/* TLS over the TCP connection (`backend NAME tls`, crypto/tls_client.c),
 * its client built from the version the connection was opened for; a
 * handshake that fails is counted there, by reason, and here as
 * up_tls_failed. readable() is an upper bound (decrypted bytes and the
 * records TCP holds): a read may return 0 having taken a record not
 * whole yet. The server's close_notify ends its data as its FIN does
 * (servers send their FIN with it). A record that fails after the
 * handshake, read or written (a bad record, the server's alert: a TLS 1.3
 * origin refuses a client certificate there), cannot be told from inside
 * its user's call: the connection is reset at the next tick and its user
 * told PC_UP_TLS_FAILED, a passive failure of its server. */

static int tls_progress(struct pc_up *u)
{
	const char *why;

	return pc_tls_client_handshake(u->tr_ctx, &why);
}

static int tls_start(struct pc_up *u)
{
	u->tr_ctx = pc_tls_client_new(u->c, u->b);
	return u->tr_ctx != NULL ? tls_progress(u) : -1;
}

/* After a read or write: a failed client resets at the next tick. */
static void tls_check(struct pc_up *u)
{
	if (!u->tls_broken && pc_tls_client_error(u->tr_ctx) != NULL) {
		u->tls_broken = true;
		pc_tcp_set_deadline(u->c, 1);
	}
}

static size_t tls_read(struct pc_up *u, void *buf, size_t len)
{
	bool err;
	long n = pc_tls_client_read(u->tr_ctx, buf, len, &err);

	if (n > 0)
		return (size_t)n;
	tls_check(u);
	return 0;
}

static size_t tls_readable(const struct pc_up *u)
{
	return pc_tls_client_readable(u->tr_ctx);
}

static size_t tls_write(struct pc_up *u, const void *buf, size_t len)
{
	size_t n = pc_tls_client_write(u->tr_ctx, buf, len);

	if (n < len)
		tls_check(u);
	return n;
}

static size_t tls_write_space(const struct pc_up *u)
{
	return pc_tls_client_write_space(u->tr_ctx);
}

/* close_notify, then FIN. */
static void tls_shutdown(struct pc_up *u)
{
	pc_tls_client_shutdown(u->tr_ctx);
	pc_tcp_shutdown(u->c);
}

static void tls_release(struct pc_up *u)
{
	pc_tls_client_free(u->tr_ctx);
	u->tr_ctx = NULL;
}

static const struct up_transport up_tls = {
	.start = tls_start,
	.progress = tls_progress,
	.read = tls_read,
	.readable = tls_readable,
	.write = tls_write,
	.write_space = tls_write_space,
	.shutdown = tls_shutdown,
	.release = tls_release,
};

/* The transport a backend's connections use. */
static const struct up_transport *transport_for(const struct up_backend *be)
{
	return be->tls ? &up_tls : &up_plain;
}

/* Backends. */

/* The entry of backend id: the hint first (every connection comes here),
 * then the compact id array; else a free entry, or the least recently
 * used one without connections. */
static struct up_backend *backend_find(struct up_worker *w, uint32_t id)
{
	struct up_backend *free_be = NULL, *evict = NULL;
	uint8_t *hint = &w->hint[id % UP_MAX_BACKENDS];

	if (w->ids[*hint] == id && w->be[*hint].in_use)
		return &w->be[*hint];
	for (unsigned int i = 0; i < UP_MAX_BACKENDS; i++)
		if (w->ids[i] == id && w->be[i].in_use) {
			*hint = (uint8_t)i;
			return &w->be[i];
		}
	for (unsigned int i = 0; i < UP_MAX_BACKENDS; i++) {
		struct up_backend *be = &w->be[i];

		if (!be->in_use) {
			if (free_be == NULL)
				free_be = be;
		} else if (be->refs == 0 && (evict == NULL || be->last_use < evict->last_use)) {
			evict = be;
		}
	}
	if (free_be == NULL)
		free_be = evict;
	if (free_be == NULL)
		return NULL;
	pc_timer_cancel(&free_be->t_health);
	memset(free_be, 0, sizeof(*free_be));
	free_be->w = w;
	free_be->id = id;
	free_be->in_use = true;
	*hint = (uint8_t)(free_be - w->be);
	w->ids[*hint] = id;
	return free_be;
}

static void health_timer(struct pc_timer *t);

/* Copy src when it differs (this runs on every connection: usually it
 * does not). */
static void sync_str(char *dst, size_t cap, const char *src)
{
	if (strncmp(dst, src, cap) != 0)
		snprintf(dst, cap, "%s", src);
}

/* Bring the entry in line with version b: its servers (state kept for
 * those that stay) and its settings. */
static void backend_sync(struct up_backend *be, const struct pc_backend *b)
{
	const struct pc_tls_backend_spec *sp = &b->spec;
	unsigned int nb = RTE_MIN(sp->nb_servers, (unsigned int)PC_BACKEND_MAX_SERVERS);
	bool first = be->t_health.fn == NULL;

	be->last_use = now_tick(be->w);
	be->balance = sp->balance;
	be->connect_ms = sp->connect_ms;
	be->idle_ms = sp->idle_ms;
	be->tls = sp->tls;
	be->interval_ms = sp->health_interval_ms != 0 ? sp->health_interval_ms
						      : PC_BACKEND_HEALTH_MS_DEFAULT;
	sync_str(be->path, sizeof(be->path), sp->health_path != NULL ? sp->health_path : "/");
	sync_str(be->host, sizeof(be->host), sp->tls_sni != NULL ? sp->tls_sni : "");
	if (first)
		pc_timer_init(&be->t_health, health_timer);
	if (be->health != sp->health || first) {
		be->health = sp->health;
		if (be->health != PC_BACKEND_HEALTH_NONE)
			pc_timer_arm(wheel(be->w), &be->t_health, 1);
		else
			pc_timer_cancel(&be->t_health);
	} else if (be->health != PC_BACKEND_HEALTH_NONE && !pc_timer_armed(&be->t_health)) {
		/* Dormant: what the checks said is old; they start again with
		 * this connection, from servers taken as up. */
		for (unsigned int i = 0; i < be->nb_slots; i++) {
			be->srv[i].down = false;
			be->srv[i].fails = 0;
			be->srv[i].oks = 0;
		}
		pc_timer_arm(wheel(be->w), &be->t_health, 1);
	}
	if (!first && nb == be->nb_servers &&
	    memcmp(be->servers, sp->servers, nb * sizeof(sp->servers[0])) == 0)
		return;

	be->nb_servers = nb;
	memcpy(be->servers, sp->servers, nb * sizeof(sp->servers[0]));
	for (unsigned int i = 0; i < be->nb_slots; i++)
		if (be->srv[i].in_use)
			be->srv[i].gone = true;
	for (unsigned int k = 0; k < nb; k++) {
		const struct pc_backend_server *bs = &sp->servers[k];
		struct up_server *s = NULL;

		for (unsigned int i = 0; i < be->nb_slots && s == NULL; i++)
			if (be->srv[i].in_use && be->srv[i].addr == bs->addr &&
			    be->srv[i].port == bs->port)
				s = &be->srv[i];
		if (s == NULL) {
			for (unsigned int i = 0; i < UP_SLOTS && s == NULL; i++)
				if (!be->srv[i].in_use)
					s = &be->srv[i];
			if (s == NULL)
				break; /* every slot holds a server with connections */
			memset(s, 0, sizeof(*s));
			s->in_use = true;
			s->addr = bs->addr;
			s->port = bs->port;
			if ((unsigned int)(s - be->srv) >= be->nb_slots)
				be->nb_slots = (unsigned int)(s - be->srv) + 1;
		}
		s->gone = false;
		s->weight = bs->weight != 0 ? bs->weight : 1;
	}
	/* Idle connections to servers that left go now; the others end
	 * with their users. */
	for (struct pc_up *u = be->idle_head, *next; u != NULL; u = next) {
		next = u->next;
		if (be->srv[u->slot].gone) {
			PC_L7_COUNT(up_pool_dropped);
			up_close_own(u);
		}
	}
	for (unsigned int i = 0; i < be->nb_slots; i++)
		slot_maybe_free(be, i);
}

static struct up_backend *backend_for(struct pc_lcore *lc, const struct pc_backend *b)
{
	struct up_worker *w = worker_of(lc);
	struct up_backend *be;

	if (w == NULL)
		return NULL;
	be = backend_find(w, b->id);
	if (be != NULL)
		backend_sync(be, b);
	return be;
}

static int pick(struct up_backend *be)
{
	hold_down_ends(be);
	if (be->balance == PC_BACKEND_LEASTCONN)
		return up_pick_lc(be->srv, be->nb_slots, &be->lc_cursor);
	return up_pick_rr(be->srv, be->nb_slots);
}

/* A TCP connection to the server in slot, prefix queued first. */
static struct pc_up *up_connect(struct up_backend *be, unsigned int slot,
				const struct up_transport *tr, const void *prefix, size_t prefix_len,
				uint32_t deadline_ms)
{
	struct up_server *s = &be->srv[slot];
	struct pc_up *u = up_alloc(be, slot);
	struct pc_tcb *c;

	if (u == NULL) {
		PC_L7_COUNT(up_no_memory);
		return NULL;
	}
	u->tr = tr;
	c = pc_tcp_connect(be->w->lc, s->addr, s->port, &up_tcp_app, u);
	if (c == NULL) {
		PC_L7_COUNT(up_no_port);
		up_free(u);
		return NULL;
	}
	u->c = c;
	u->state = UP_CONNECTING;
	pc_tcp_scratch(c)[0] = (uint64_t)(uintptr_t)u;
	if (prefix_len != 0) {
		u->private_conn = true;
		if (pc_tcp_queue_first(c, prefix, prefix_len) != prefix_len) {
			PC_L7_COUNT(up_no_memory);
			u->user_gone = true;
			pc_tcp_abort(c);
			return NULL;
		}
	}
	if (deadline_ms != 0)
		pc_tcp_set_deadline(c, deadline_ms);
	return u;
}

struct pc_up *pc_up_open(struct pc_lcore *lc, const struct pc_backend *b, const void *prefix,
			 size_t prefix_len, const struct pc_up_cb *cb, void *arg)
{
	struct up_backend *be = backend_for(lc, b);
	struct pc_up *u;
	int slot;

	if (be == NULL) {
		PC_L7_COUNT(up_no_memory);
		return NULL;
	}
	slot = pick(be);
	if (slot < 0) {
		PC_L7_COUNT(up_no_server);
		return NULL;
	}
	u = up_connect(be, (unsigned int)slot, transport_for(be), prefix, prefix_len,
		       be->connect_ms);
	if (u == NULL)
		return NULL;
	u->b = b;
	u->cb = cb;
	u->arg = arg;
	u->counted = true;
	be->srv[slot].active++;
	stat_inc(&be->srv[slot].connects);
	PC_L7_COUNT(up_connects);
	return u;
}

struct pc_up *pc_up_get(struct pc_lcore *lc, const struct pc_backend *b, const struct pc_up_cb *cb,
			void *arg)
{
	struct up_backend *be = backend_for(lc, b);
	int slot;

	if (be == NULL) {
		PC_L7_COUNT(up_no_memory);
		return NULL;
	}
	slot = pick(be);
	if (slot < 0) {
		PC_L7_COUNT(up_no_server);
		return NULL;
	}
	for (struct pc_up *u = be->idle_head; u != NULL; u = u->next) {
		if (u->slot != slot)
			continue;
		pool_unlink(u);
		u->state = UP_OPEN;
		u->cb = cb;
		u->arg = arg;
		u->counted = true;
		be->srv[slot].active++;
		arm_idle(u);
		PC_L7_COUNT(up_pool_hits);
		return u;
	}
	/* No idle connection to the server picked: a new one to it (the
	 * pick stands, so the balance sees one choice per request). */
	struct pc_up *u = up_connect(be, (unsigned int)slot, transport_for(be), NULL, 0,
				     be->connect_ms);

	if (u == NULL)
		return NULL;
	u->b = b;
	u->cb = cb;
	u->arg = arg;
	u->counted = true;
	be->srv[slot].active++;
	stat_inc(&be->srv[slot].connects);
	PC_L7_COUNT(up_connects);
	return u;
}

void pc_up_release(struct pc_up *u)
{
	struct up_backend *be = u->be;
	struct up_server *s = &be->srv[u->slot];

	if (u->state != UP_OPEN || !u->ready || u->private_conn || u->peer_fin || s->gone ||
	    s->down || u->c->state != PC_TCP_ESTABLISHED || u->tr->readable(u) != 0 ||
	    be->nb_idle >= PC_UP_POOL_MAX || be->idle_ms == 0) {
		PC_L7_COUNT(up_pool_full);
		pc_up_close(u);
		return;
	}
	up_uncount(u);
	u->cb = NULL;
	u->arg = NULL;
	u->b = NULL;
	u->state = UP_IDLE;
	u->next = be->idle_head;
	be->idle_head = u;
	be->nb_idle++;
	s->idle++;
	arm_idle(u);
	PC_L7_COUNT(up_pool_puts);
}

/* Health checks. */

static void check_done(struct pc_up *u, bool ok)
{
	struct up_backend *be = u->be;

	check_result(be, &be->srv[u->slot], ok);
	be->srv[u->slot].check = NULL;
	u->is_check = false;
	up_close_own(u);
}

static void check_write(struct pc_up *u)
{
	char req[UP_HEALTH_PATH_MAX + UP_HOST_MAX + 96];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: portcullis-health\r\n"
			 "Connection: close\r\n\r\n",
			 u->be->path, u->be->host[0] != '\0' ? u->be->host : u->server);

	if (n < 0 || (size_t)n >= sizeof(req) || u->tr->write(u, req, (size_t)n) != (size_t)n)
		check_done(u, false);
}

/* Health http: the status line's code, once its first bytes are in. */
static void check_read(struct pc_up *u)
{
	size_t want = 12; /* "HTTP/1.1 200" */

	while (u->check_got < want) {
		size_t n = u->tr->read(u, u->check_line + u->check_got, want - u->check_got);

		if (n == 0)
			return;
		u->check_got = (uint16_t)(u->check_got + n);
	}
	const char *l = u->check_line;
	bool ok = memcmp(l, "HTTP/1.", 7) == 0 && l[8] == ' ' && (l[9] == '2' || l[9] == '3') &&
		  l[10] >= '0' && l[10] <= '9' && l[11] >= '0' && l[11] <= '9';

	check_done(u, ok);
}

static void check_start(struct up_backend *be, unsigned int slot)
{
	struct up_server *s = &be->srv[slot];
	struct pc_up *u;

	if (s->check != NULL || s->gone)
		return;
	/* No object or local port here says nothing of the server (counted
	 * by up_connect): no check this round. */
	u = up_connect(be, slot, &up_plain, NULL, 0, be->interval_ms);
	if (u == NULL)
		return;
	u->is_check = true;
	s->check = u;
}

static void health_timer(struct pc_timer *t)
{
	struct up_backend *be = container_of(t, struct up_backend, t_health);

	if (be->health == PC_BACKEND_HEALTH_NONE)
		return;
	if (now_tick(be->w) - be->last_use >= UP_DORMANT_MS)
		return;
	for (unsigned int i = 0; i < be->nb_slots; i++)
		if (be->srv[i].in_use)
			check_start(be, i);
	pc_timer_arm(wheel(be->w), &be->t_health, be->interval_ms);
}

/* Events. */

static void up_idle_timer(struct pc_timer *t)
{
	struct pc_up *u = container_of(t, struct pc_up, t_idle);
	uint64_t idle = now_tick(u->be->w) - u->last_io;

	if (idle < u->be->idle_ms) {
		pc_timer_arm(wheel(u->be->w), &u->t_idle, u->be->idle_ms - idle);
		return;
	}
	if (u->state == UP_IDLE) {
		PC_L7_COUNT(up_pool_expired);
		up_close_own(u);
		return;
	}
	u->timed_out = true;
	pc_tcp_abort(u->c);
}

/* The connection is ready for data. */
static void up_ready(struct pc_up *u)
{
	struct up_backend *be = u->be;
	struct up_server *s = &be->srv[u->slot];

	u->ready = true;
	u->state = UP_OPEN;
	u->b = NULL;
	if (u->is_check) {
		/* Its deadline (the interval) stands until the answer. */
		if (be->health == PC_BACKEND_HEALTH_HTTP && !be->tls)
			check_write(u);
		else
			check_done(u, true);
		return;
	}
	pc_tcp_set_deadline(u->c, 0);
	if (!s->down)
		s->fails = 0;
	PC_L7_COUNT(up_connected);
	arm_idle(u);
	if (!u->user_gone)
		u->cb->on_open(u->arg);
}

/* Why a connection failed before it was ready: counted, a passive
 * failure of its server. */
static enum pc_up_close connect_failed(struct pc_up *u, enum pc_tcp_close_reason why)
{
	struct up_backend *be = u->be;
	struct up_server *s = &be->srv[u->slot];
	enum pc_up_close r = PC_UP_REFUSED;

	if (why == PC_TCP_CLOSED_ABORTED && !u->is_check)
		return PC_UP_ABORTED; /* by us: says nothing of the server */
	if (u->is_check) {
		check_result(be, s, false);
		s->check = NULL;
		u->is_check = false;
		return r;
	}
	if (why == PC_TCP_CLOSED_TIMEOUT) {
		PC_L7_COUNT(up_connect_timeout);
	} else if (u->tcp_open) {
		PC_L7_COUNT(up_connect_reset);
		r = PC_UP_RESET;
	} else {
		PC_L7_COUNT(up_refused);
	}
	stat_inc(&s->failures);
	server_failed(be, s);
	return r;
}

/* The transport failed before the connection was ready: counted, a
 * passive failure (or a failed check), its user told; TCP closes after
 * what the transport queued (TLS: its alert), and its on_closed frees u.
 * Safe inside TCP's callbacks, on_open included. */
static void tls_failed(struct pc_up *u)
{
	struct up_backend *be = u->be;
	struct up_server *s = &be->srv[u->slot];
	bool tell = !u->user_gone && !u->is_check;

	if (u->is_check) {
		check_result(be, s, false);
		s->check = NULL;
		u->is_check = false;
	} else {
		PC_L7_COUNT(up_tls_failed);
		stat_inc(&s->failures);
		server_failed(be, s);
	}
	up_uncount(u);
	u->user_gone = true;
	u->state = UP_CLOSING;
	pc_tcp_close(u->c);
	if (tell)
		u->cb->on_closed(u->arg, PC_UP_TLS_FAILED);
}

static void *up_tcp_open(struct pc_tcb *c, void *arg)
{
	struct pc_up *u = arg;
	int r;

	(void)c;
	if (u->user_gone)
		return NULL;
	u->tcp_open = true;
	u->in_open = true;
	r = u->tr->start(u);
	if (r > 0)
		up_ready(u);
	else if (r < 0)
		tls_failed(u);
	u->in_open = false;
	if (u->abort_req) {
		u->user_gone = true;
		return NULL; /* TCP resets it, on_closed frees u */
	}
	return u;
}

/* TCP event during the transport's handshake. */
static void handshake_step(struct pc_up *u)
{
	int r = u->tr->progress(u);

	if (r > 0)
		up_ready(u);
	else if (r < 0)
		tls_failed(u);
}

static void up_tcp_readable(struct pc_tcb *c, void *ctx)
{
	struct pc_up *u = ctx;

	(void)c;
	switch (u->state) {
	case UP_CONNECTING:
		if (!u->ready)
			handshake_step(u);
		return;
	case UP_IDLE:
		/* Nothing is asked on an idle connection: whatever comes
		 * makes it unusable. */
		PC_L7_COUNT(up_pool_server_closed);
		up_close_own(u);
		return;
	case UP_OPEN:
		touch(u);
		if (u->is_check) {
			check_read(u);
			return;
		}
		if (!u->user_gone)
			u->cb->on_readable(u->arg);
		return;
	default:
		return;
	}
}

static void up_tcp_writable(struct pc_tcb *c, void *ctx)
{
	struct pc_up *u = ctx;

	(void)c;
	if (u->state == UP_CONNECTING && !u->ready) {
		handshake_step(u);
		return;
	}
	if (u->state == UP_OPEN && !u->user_gone && !u->is_check) {
		touch(u);
		u->cb->on_writable(u->arg);
	}
}

static void up_tcp_peer_fin(struct pc_tcb *c, void *ctx)
{
	struct pc_up *u = ctx;

	(void)c;
	u->peer_fin = true;
	switch (u->state) {
	case UP_IDLE:
		PC_L7_COUNT(up_pool_server_closed);
		up_close_own(u);
		return;
	case UP_CONNECTING:
		if (!u->ready)
			handshake_step(u);
		return;
	case UP_OPEN:
		if (u->is_check) {
			check_done(u, false);
			return;
		}
		if (!u->user_gone)
			u->cb->on_peer_fin(u->arg);
		return;
	default:
		return;
	}
}

static void up_tcp_closed(struct pc_tcb *c, void *ctx, enum pc_tcp_close_reason why)
{
	struct pc_up *u = (struct pc_up *)(uintptr_t)pc_tcp_scratch(c)[0];
	const struct pc_up_cb *cb = u->cb;
	void *arg = u->arg;
	bool tell = !u->user_gone && !u->is_check; /* checks have no user */
	enum pc_up_close r = PC_UP_CLOSED;

	(void)ctx;
	if (u->state == UP_IDLE) {
		/* The server closed an idle connection: it leaves quietly. */
		PC_L7_COUNT(up_pool_server_closed);
		pool_unlink(u);
		tell = false;
	} else if (u->state == UP_CLOSING) {
		/* We closed it: nothing to count or tell. */
		tell = false;
	} else if (!u->ready) {
		r = connect_failed(u, why);
	} else if (u->is_check) {
		/* Ended before its answer. */
		check_result(u->be, &u->be->srv[u->slot], false);
		u->be->srv[u->slot].check = NULL;
		u->is_check = false;
		tell = false;
	} else if (u->tls_broken) {
		PC_L7_COUNT(up_tls_failed);
		stat_inc(&u->be->srv[u->slot].failures);
		server_failed(u->be, &u->be->srv[u->slot]);
		r = PC_UP_TLS_FAILED;
	} else if (u->timed_out) {
		PC_L7_COUNT(up_timeout);
		r = PC_UP_TIMEOUT;
	} else {
		switch (why) {
		case PC_TCP_CLOSED_NORMAL:
			r = PC_UP_CLOSED;
			break;
		case PC_TCP_CLOSED_RESET:
		case PC_TCP_CLOSED_REFUSED:
			PC_L7_COUNT(up_reset);
			r = PC_UP_RESET;
			break;
		case PC_TCP_CLOSED_TIMEOUT:
			PC_L7_COUNT(up_timeout);
			r = PC_UP_TIMEOUT;
			break;
		case PC_TCP_CLOSED_ABORTED:
			r = PC_UP_ABORTED;
			break;
		}
	}
	up_free(u);
	if (tell)
		cb->on_closed(arg, r);
}

static const struct pc_tcp_app up_tcp_app = {
	.name = "upstream",
	.on_open = up_tcp_open,
	.on_readable = up_tcp_readable,
	.on_writable = up_tcp_writable,
	.on_peer_fin = up_tcp_peer_fin,
	.on_closed = up_tcp_closed,
};

/* The calls of its user. */

size_t pc_up_read(struct pc_up *u, void *buf, size_t len)
{
	if (u->state != UP_OPEN || !u->ready)
		return 0;
	size_t n = u->tr->read(u, buf, len);

	if (n != 0)
		touch(u);
	return n;
}

size_t pc_up_readable(const struct pc_up *u)
{
	if (u->state != UP_OPEN || !u->ready)
		return 0;
	return u->tr->readable(u);
}

size_t pc_up_write(struct pc_up *u, const void *buf, size_t len)
{
	if (u->state != UP_OPEN || !u->ready)
		return 0;
	size_t n = u->tr->write(u, buf, len);

	if (n != 0)
		touch(u);
	return n;
}

size_t pc_up_write_space(const struct pc_up *u)
{
	if (u->state != UP_OPEN || !u->ready)
		return 0;
	return u->tr->write_space(u);
}

void pc_up_notify_writable(struct pc_up *u)
{
	if (u->state == UP_OPEN)
		pc_tcp_notify_writable(u->c);
}

void pc_up_shutdown(struct pc_up *u)
{
	if (u->state == UP_OPEN && u->ready)
		u->tr->shutdown(u);
}

void pc_up_close(struct pc_up *u)
{
	up_uncount(u);
	if (u->in_open) {
		u->abort_req = true;
		u->user_gone = true;
		return;
	}
	if (u->state == UP_CONNECTING && !u->ready) {
		/* Nothing was said yet: no need for a clean close. */
		u->user_gone = true;
		pc_tcp_abort(u->c);
		return;
	}
	up_close_own(u);
}

void pc_up_abort(struct pc_up *u)
{
	up_uncount(u);
	u->user_gone = true;
	if (u->in_open) {
		u->abort_req = true;
		return;
	}
	if (u->state == UP_CLOSING)
		return;
	pc_tcp_abort(u->c);
}

void pc_up_failed(struct pc_up *u)
{
	struct up_server *s = &u->be->srv[u->slot];

	PC_L7_COUNT(up_failed);
	stat_inc(&s->failures);
	server_failed(u->be, s);
}

const char *pc_up_server(const struct pc_up *u)
{
	return u->server;
}

void pc_up_worker_fini(void)
{
	unsigned int id = rte_lcore_id() % RTE_MAX_LCORE;
	struct up_worker *w = up_workers[id];

	__atomic_store_n(&up_workers[id], NULL, __ATOMIC_RELEASE);
	rte_free(w);
}

static uint64_t rd64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void pc_up_server_stats(uint32_t backend_id, uint32_t addr, uint16_t port,
			struct pc_up_server_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		const struct up_worker *w = __atomic_load_n(&up_workers[l], __ATOMIC_ACQUIRE);

		if (w == NULL)
			continue;
		for (unsigned int i = 0; i < UP_MAX_BACKENDS; i++) {
			const struct up_backend *be = &w->be[i];

			if (!__atomic_load_n(&be->in_use, __ATOMIC_RELAXED) ||
			    __atomic_load_n(&be->id, __ATOMIC_RELAXED) != backend_id)
				continue;
			for (unsigned int k = 0; k < UP_SLOTS; k++) {
				const struct up_server *s = &be->srv[k];

				if (!__atomic_load_n(&s->in_use, __ATOMIC_RELAXED) ||
				    __atomic_load_n(&s->addr, __ATOMIC_RELAXED) != addr ||
				    __atomic_load_n(&s->port, __ATOMIC_RELAXED) != port)
					continue;
				out->workers++;
				if (__atomic_load_n(&s->down, __ATOMIC_RELAXED))
					out->workers_down++;
				out->active += __atomic_load_n(&s->active, __ATOMIC_RELAXED);
				out->idle += __atomic_load_n(&s->idle, __ATOMIC_RELAXED);
				out->connects += rd64(&s->connects);
				out->failures += rd64(&s->failures);
				out->checks += rd64(&s->checks);
				out->check_failures += rd64(&s->check_failures);
			}
		}
	}
}

void pc_up_show_server(FILE *out, const struct pc_backend *b, unsigned int i, bool json)
{
	const struct pc_backend_server *srv = &b->spec.servers[i];
	struct pc_up_server_stats st;
	const char *state;

	pc_up_server_stats(b->id, srv->addr, srv->port, &st);
	/* Each worker has its own view: "down" when every worker that used
	 * the server holds it down, "partly-down" when some do. */
	state = st.workers == 0		       ? "unused"
		: st.workers_down == 0	       ? "up"
		: st.workers_down == st.workers ? "down"
						: "partly-down";
	if (json)
		fprintf(out,
			",\"state\":\"%s\",\"workers\":%u,\"workers_down\":%u,\"active\":%" PRIu64
			",\"idle\":%" PRIu64 ",\"connects\":%" PRIu64 ",\"failures\":%" PRIu64
			",\"checks\":%" PRIu64 ",\"check_failures\":%" PRIu64,
			state, st.workers, st.workers_down, st.active, st.idle, st.connects,
			st.failures, st.checks, st.check_failures);
	else
		fprintf(out,
			" state=%s workers_down=%u/%u active=%" PRIu64 " idle=%" PRIu64
			" connects=%" PRIu64 " failures=%" PRIu64 " checks=%" PRIu64
			" check_failures=%" PRIu64,
			state, st.workers_down, st.workers, st.active, st.idle, st.connects,
			st.failures, st.checks, st.check_failures);
}
