/* SPDX-License-Identifier: MIT */
/*
 * The TCP callback API: what an application (the built-in test apps now,
 * TLS next) sees of a connection. Everything runs on the worker that owns
 * the connection, from inside its loop: callbacks are called from packet
 * processing and timers, and the calls below may be made from callbacks.
 *
 * Back-pressure is explicit: pc_tcp_write() takes what fits in the send
 * buffer and returns the count; when space frees up, on_writable() is
 * called. pc_tcp_read() takes data out of the receive buffer, which opens
 * the window; data not read stays and holds the window closed.
 */
#ifndef PC_TCP_H
#define PC_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_lcore;
struct pc_tcb;

enum pc_tcp_close_reason {
	PC_TCP_CLOSED_NORMAL = 0, /* both FINs exchanged, or our close completed */
	PC_TCP_CLOSED_RESET,      /* the peer sent RST */
	PC_TCP_CLOSED_TIMEOUT,    /* retransmissions, keepalive or idle gave up */
	PC_TCP_CLOSED_ABORTED,    /* we aborted (pc_tcp_abort or shutdown) */
	PC_TCP_CLOSED_REFUSED,    /* active open: RST or no answer to SYN */
};

struct pc_tcp_app {
	const char *name;
	/* A connection reached ESTABLISHED (passive or active open). Return
	 * the per-connection context, or NULL to refuse (RST). */
	void *(*on_open)(struct pc_tcb *c, void *app_arg);
	/* New in-order data can be read. */
	void (*on_readable)(struct pc_tcb *c, void *ctx);
	/* Send space opened after a pc_tcp_write() that did not take all. */
	void (*on_writable)(struct pc_tcb *c, void *ctx);
	/* The peer sent FIN: no more data will come (after what is buffered). */
	void (*on_peer_fin)(struct pc_tcb *c, void *ctx);
	/* The connection is gone; c is invalid after this returns. Also
	 * called, with ctx NULL, for an active open that never completed. */
	void (*on_closed)(struct pc_tcb *c, void *ctx, enum pc_tcp_close_reason why);
};

size_t pc_tcp_read(struct pc_tcb *c, void *buf, size_t len);
/* pc_tcp_read() without the copy: takes up to len bytes (already looked
 * at with pc_tcp_peek_at()) out of the receive buffer. */
size_t pc_tcp_skip(struct pc_tcb *c, size_t len);
size_t pc_tcp_readable(const struct pc_tcb *c);
/* Whether the peer's FIN came (in order): nothing comes after what is
 * readable. For code that is not the connection's application and so
 * does not see on_peer_fin (crypto/tls_client.c under l7/upstream.c). */
bool pc_tcp_fin_received(const struct pc_tcb *c);
/* Copy up to len bytes from the receive buffer without taking them,
 * starting off bytes into what is readable. */
size_t pc_tcp_peek_at(const struct pc_tcb *c, size_t off, void *buf, size_t len);
static inline size_t pc_tcp_peek(const struct pc_tcb *c, void *buf, size_t len)
{
	return pc_tcp_peek_at(c, 0, buf, len);
}
/* The receive buffer's size: what can be read can never exceed it. */
size_t pc_tcp_rcvbuf_size(const struct pc_tcb *c);
/* The peer's address and port, network order. */
void pc_tcp_peer(const struct pc_tcb *c, uint32_t *addr, uint16_t *port);
/* Our address and port, network order. */
void pc_tcp_local(const struct pc_tcb *c, uint32_t *addr, uint16_t *port);
/* The worker that owns the connection. */
struct pc_lcore *pc_tcp_lcore(const struct pc_tcb *c);
size_t pc_tcp_write(struct pc_tcb *c, const void *buf, size_t len);
size_t pc_tcp_write_space(const struct pc_tcb *c);
/* Writing in place, without pc_tcp_write()'s copy: the send space that
 * follows the queued bytes before the buffer wraps around (at most
 * pc_tcp_write_space()); where len bytes of it start (NULL when len is
 * more); and, once they are filled, queueing them. Nothing else may
 * write to the connection between place and commit. */
size_t pc_tcp_write_contig(const struct pc_tcb *c);
void *pc_tcp_write_place(struct pc_tcb *c, size_t len);
void pc_tcp_write_commit(struct pc_tcb *c, size_t len);
/* Ask for on_writable once send space opens (after a short write this
 * is implied). */
void pc_tcp_notify_writable(struct pc_tcb *c);
/* on_writable once, at the end of the worker's current burst, however often
 * asked meanwhile: an application told of output by another connection (a
 * proxy's server answering, segment by segment) then writes what the whole
 * burst brought at once, in full segments. false when the worker's list is
 * full: the caller does the work now. */
bool pc_tcp_defer_writable(struct pc_tcb *c);
/* Two words of per-connection storage for the application. */
uint64_t *pc_tcp_scratch(struct pc_tcb *c);
/* Send FIN after what is queued; reading continues until the peer's FIN. */
void pc_tcp_shutdown(struct pc_tcb *c);
/* The application is done with the connection: FIN after what is queued,
 * then TCP finishes the close on its own (what the peer still sends is
 * acknowledged and discarded; once everything we sent is acknowledged the
 * connection leaves the connection table for a compact FIN_WAIT_2 /
 * TIME_WAIT entry). No callback comes after this call but on_closed
 * (NORMAL, or why the connection ended if that came first), from the
 * worker's next timer pass, never from inside this call. */
void pc_tcp_close(struct pc_tcb *c);
/* Reset the connection (on_closed(TIMEOUT)) if it is still open ms
 * milliseconds from now, whatever traffic it sees (a handshake's time
 * limit); 0 cancels. */
void pc_tcp_set_deadline(struct pc_tcb *c, uint32_t ms);
/* Send RST and free the connection; on_closed(ABORTED) is called. */
void pc_tcp_abort(struct pc_tcb *c);

#endif
