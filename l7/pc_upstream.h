/* SPDX-License-Identifier: MIT */
/*
 * Connections to a backend's servers (l7/upstream.c), for the proxies:
 * a server picked by the backend's balance among those this worker holds
 * healthy, a local port whose replies the NIC steers back to this worker
 * (pc_tcp_connect), the backend's connect and idle timeouts, TLS to the
 * server when the backend has `tls` (crypto/tls_client.c), and, for HTTP
 * mode, a bounded per-worker pool of idle kept-alive connections per
 * backend. Health: active checks (`health`) and passive failures (a
 * refused or reset connection, a TLS failure, pc_up_failed()) mark a
 * server down on this worker; a check that passes brings it back.
 * l7/upstream.c's header comment has the details (who checks, when a
 * server goes down and comes back, the pool's bounds).
 *
 * The interface mirrors pc_tcp.h's: explicit back-pressure (a short
 * write, then on_writable), data left unread holds the server's window
 * closed. Everything runs on one worker.
 */
#ifndef PC_UPSTREAM_H
#define PC_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct pc_backend;
struct pc_lcore;
struct pc_up;

enum pc_up_close {
	PC_UP_CLOSED = 0,     /* FIN both ways, or our close completed */
	PC_UP_NO_SERVER,      /* no healthy server (or no local port, no memory) */
	PC_UP_REFUSED,        /* the server refused or did not answer in time */
	PC_UP_RESET,          /* the server reset an open connection */
	PC_UP_TIMEOUT,        /* idle or retransmission timeout */
	PC_UP_TLS_FAILED,     /* TLS to the server failed (its certificate, ...) */
	PC_UP_ABORTED,        /* we aborted it */
	PC_UP_NB_CLOSE
};

struct pc_up_cb {
	/* Ready for data (TLS: handshake done, the server verified). */
	void (*on_open)(void *arg);
	void (*on_readable)(void *arg);
	void (*on_writable)(void *arg);
	/* The server ended its side: nothing more comes after what is
	 * readable. */
	void (*on_peer_fin)(void *arg);
	/* The connection is gone (also when it never opened); no call
	 * after, and u is invalid. */
	void (*on_closed)(void *arg, enum pc_up_close why);
};

/* A new connection to a server of b. prefix (prefix_len bytes, may be 0)
 * goes first on the wire, before TLS if any (a PROXY protocol header).
 * NULL when no server can be tried now (then no callback comes). */
struct pc_up *pc_up_open(struct pc_lcore *lc, const struct pc_backend *b, const void *prefix,
			 size_t prefix_len, const struct pc_up_cb *cb, void *arg);
/* HTTP mode: an idle kept-alive connection to b from this worker's pool
 * (on_open is not called again: it is open), or a new one as
 * pc_up_open. NULL as pc_up_open. */
struct pc_up *pc_up_get(struct pc_lcore *lc, const struct pc_backend *b, const struct pc_up_cb *cb,
			void *arg);
/* Give an open connection back to the pool for reuse (a response read in
 * full, nothing unread or unsent); closed instead when the pool is full
 * or the connection cannot be reused. No callback after. */
void pc_up_release(struct pc_up *u);

size_t pc_up_read(struct pc_up *u, void *buf, size_t len);
size_t pc_up_readable(const struct pc_up *u);
size_t pc_up_write(struct pc_up *u, const void *buf, size_t len);
size_t pc_up_write_space(const struct pc_up *u);
/* Ask for on_writable when send space opens. */
void pc_up_notify_writable(struct pc_up *u);
/* No more data from us: FIN (close_notify, then FIN, over TLS) after what
 * is queued; reading goes on. */
void pc_up_shutdown(struct pc_up *u);
/* Done with it: closed after what is queued; on_closed is not called. */
void pc_up_close(struct pc_up *u);
/* Reset it; on_closed is not called. */
void pc_up_abort(struct pc_up *u);
/* The server sent something wrong (a broken response): counts as a
 * passive failure of its server. */
void pc_up_failed(struct pc_up *u);
/* The server it goes to, "198.18.0.3:8080", for the access log. */
const char *pc_up_server(const struct pc_up *u);

/* Idle kept-alive connections a worker keeps per backend (all its servers
 * together): a release beyond this closes the connection. Each idle one
 * is closed after the backend's idle timeout, and leaves the pool quietly
 * when its server closes it. */
#define PC_UP_POOL_MAX 64

/* The longest path `health http PATH` may name (the parser refuses a
 * longer one): workers keep a copy of it. */
#define PC_UP_HEALTH_PATH_MAX 255

/* A server's runtime state summed over the workers, for `show backends`
 * (any thread: racy relaxed reads of what the workers write). A worker
 * knows a backend from its first connection to it; workers that never
 * used it count in neither workers nor workers_down. */
struct pc_up_server_stats {
	uint32_t workers;        /* workers that hold state for this server */
	uint32_t workers_down;   /* ... of which hold it down */
	uint64_t active;         /* connections in use now (health checks apart) */
	uint64_t idle;           /* idle kept-alive connections pooled now */
	uint64_t connects;       /* connections opened to it (SYN sent) */
	uint64_t failures;       /* passive failures: refused, reset, TLS, pc_up_failed */
	uint64_t checks;         /* active health checks run */
	uint64_t check_failures; /* ... that failed */
};
/* The state of server addr:port (network order) of the backend whose id
 * is backend_id; all zero when no worker knows it. */
void pc_up_server_stats(uint32_t backend_id, uint32_t addr, uint16_t port,
			struct pc_up_server_stats *out);

/* `show backends`: server i of b's state at run time, as the hook of
 * pc_tls_set_backend_state() writes it (" state=up|down|partly-down|unused
 * workers_down=D/W active= idle= connects= failures= checks=
 * check_failures=", or the same as JSON members). Main lcore. */
void pc_up_show_server(FILE *out, const struct pc_backend *b, unsigned int i, bool json);

/* Forget the calling worker's state and free its memory: its connections
 * are gone (the worker stopped, or a test rebuilds its context). */
void pc_up_worker_fini(void);

#endif
