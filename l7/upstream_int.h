/* SPDX-License-Identifier: MIT */
/*
 * Private to l7/upstream.c and its unit test: a worker's view of its
 * backends' servers, and the balance algorithms over it.
 */
#ifndef PC_UPSTREAM_INT_H
#define PC_UPSTREAM_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "pc_backend.h"
#include "pc_upstream.h"
#include "timer.h"

/* Slots per backend: every server of the current version plus those of
 * older versions that still have connections. */
#define UP_SLOTS (2 * PC_BACKEND_MAX_SERVERS)
/* Backends one worker keeps state for; a backend without connections is
 * forgotten to make room for another (its servers count as up again). */
#define UP_MAX_BACKENDS 256
/* Failures in a row (active or passive) that put a server down, and
 * checks in a row that bring it back. */
#define UP_FALL 2
#define UP_RISE 2
/* Without `health`, a server down on passive failures is tried again
 * after this long. */
#define UP_HOLD_DOWN_MS 5000
/* A backend this worker has not connected to for this long stops being
 * checked (it may have been deleted: workers are not told); its next
 * connection starts the checks again. */
#define UP_DORMANT_MS 60000
#define UP_HEALTH_PATH_MAX (PC_UP_HEALTH_PATH_MAX + 1)
#define UP_HOST_MAX 256 /* an SNI: 255 at most */

struct pc_up;

struct up_server {
	uint32_t addr;            /* network order */
	uint16_t port;            /* network order */
	uint16_t weight;          /* 1..256 */
	bool in_use;              /* the slot holds a server */
	bool gone;                /* no longer in the backend: freed when unused */
	bool down;
	uint8_t fails, oks;       /* consecutive failures, consecutive passed checks */
	int32_t cur;              /* smooth weighted round-robin's current weight */
	uint32_t active;          /* connections in use (leastconn's count) */
	uint32_t idle;            /* pooled idle connections */
	uint64_t down_until;      /* tick: without health, when to try again */
	struct pc_up *check;      /* the health check in flight, if any */
	/* For pc_up_server_stats(), read by other threads. */
	uint64_t connects, failures, checks, check_failures;
};

struct up_backend {
	uint32_t id;
	bool in_use;
	unsigned int nb_slots;    /* slots used so far (in_use or not) */
	struct up_server srv[UP_SLOTS];
	/* The version last seen: its servers, and what health checks and
	 * new connections need once it is gone. */
	unsigned int nb_servers;
	struct pc_backend_server servers[PC_BACKEND_MAX_SERVERS];
	enum pc_backend_balance balance;
	enum pc_backend_health health;
	uint32_t interval_ms, connect_ms, idle_ms;
	bool tls;
	char path[UP_HEALTH_PATH_MAX];
	char host[UP_HOST_MAX];   /* the health check's Host: sni, else "" (the server's address) */
	unsigned int lc_cursor;   /* leastconn: where ties start */
	uint64_t last_use;        /* tick */
	uint32_t refs;            /* pc_up objects on it (open, idle, checks) */
	struct pc_up *idle_head;  /* pooled idle connections, most recent first */
	unsigned int nb_idle;
	struct pc_timer t_health;
	struct up_worker *w;
};

/* Balance among the servers eligible now (in use, not gone, not down):
 * the index of the one picked, -1 when none. Smooth weighted
 * round-robin (nginx's): each pick adds every eligible server's weight
 * to its current weight and takes the highest, which then gives back the
 * total. Weighted least-connections: the lowest active/weight, ties
 * taken in turn from *cursor. */
int up_pick_rr(struct up_server *s, unsigned int n);
int up_pick_lc(struct up_server *s, unsigned int n, unsigned int *cursor);

#endif
