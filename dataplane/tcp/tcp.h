/* SPDX-License-Identifier: MIT */
/*
 * Private to dataplane/: the TCP control block, the per-worker TCP context
 * and the functions the TCP files share. Owner-only, like everything a
 * worker holds: no locks anywhere here.
 *
 * Buffers are byte rings indexed by sequence number: the byte with
 * sequence s lives at ring[s & (size - 1)]. The receive ring holds what
 * the application has not read yet (from rcv_read to rcv_nxt) and the
 * out-of-order data above rcv_nxt (tracked as ranges), so the advertised
 * window is exactly the free space; the send ring holds the unacknowledged
 * and unsent data (from snd_buf to snd_buf + snd_len), which is also the
 * retransmission queue.
 *
 * The rings come from a per-worker pool (`tcp buffer-pool`): a connection
 * takes its receive ring when in-window data arrives and its send ring on
 * the application's first write, and gives each back when it empties
 * (everything read and nothing held out of order; everything sent
 * acknowledged), so an idle connection holds none. Taking and giving
 * happen only at those empty/non-empty transitions, never per segment.
 * A connection without a receive ring advertises the window a ring would
 * give while the pool can give one, and zero otherwise (never shrinking
 * what it advertised before: data that then finds no ring is dropped and
 * sent again by the peer).
 */
#ifndef PC_TCP_PRIV_H
#define PC_TCP_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "pc_dataplane.h"
#include "pc_tcp.h"
#include "tcp_seq.h"
#include "timer.h"

struct pc_lcore;

enum pc_tcp_state {
	PC_TCP_CLOSED = 0,
	PC_TCP_SYN_SENT,
	PC_TCP_SYN_RCVD,
	PC_TCP_ESTABLISHED,
	PC_TCP_FIN_WAIT_1,
	PC_TCP_FIN_WAIT_2,
	PC_TCP_CLOSING,
	PC_TCP_TIME_WAIT,
	PC_TCP_CLOSE_WAIT,
	PC_TCP_LAST_ACK,
	PC_TCP_NSTATES
};

extern const char *const pc_tcp_state_names[PC_TCP_NSTATES];

#define PC_TCP_OOO_MAX 8   /* out-of-order ranges kept above rcv_nxt */
#define PC_TCP_SACK_MAX 8  /* SACKed ranges remembered above snd_una */
#define PC_TCP_MAX_LISTENERS 16
/* Payload of one TSO super-segment: its IPv4 datagram, headers and the
 * largest options included, stays within 64 KiB; and it is cut into 64
 * segments at most (DPDK's software GSO, which net_tap uses, makes no
 * more; with full-sized segments 64 KiB comes first). */
#define PC_TCP_TSO_MAX (65535u - 20u - 60u)
#define PC_TCP_TSO_MAX_SEGS 64u

/* Connection key, network order, as seen from us. */
struct pc_tcp_key {
	uint32_t laddr;
	uint32_t raddr;
	uint16_t lport;
	uint16_t rport;
};

/* A received segment, parsed (tcp_input.c). */
struct pc_tcp_opts {
	uint16_t mss;            /* 0 = absent */
	int8_t wscale;           /* -1 = absent */
	bool sack_ok;
	bool ts;
	uint32_t tsval;
	uint32_t tsecr;
	const uint8_t *sack;     /* SACK blocks, 8 bytes each */
	uint8_t nb_sack;
};

struct pc_tcp_seg {
	const struct rte_tcp_hdr *th;
	uint32_t seq;
	uint32_t ack;
	uint32_t len;            /* payload bytes */
	uint32_t wnd;            /* unscaled */
	uint8_t flags;
	/* The payload: m's bytes from data_off on, in its first segment or
	 * spread over several (a large or scattered frame). */
	const struct rte_mbuf *m;
	uint32_t data_off;
	struct pc_tcp_opts o;
};

struct pc_seq_range {
	uint32_t start; /* first byte */
	uint32_t end;   /* one past the last */
};

/* Congestion control behind a small interface (RFC 5681 / 6582 NewReno,
 * RFC 9438 CUBIC). */
struct pc_tcb;
struct pc_tcp_cc {
	const char *name;
	void (*on_ack)(struct pc_tcb *c, uint32_t acked, uint64_t now_us);
	void (*on_loss)(struct pc_tcb *c, uint64_t now_us);   /* fast retransmit */
	void (*on_timeout)(struct pc_tcb *c, uint64_t now_us);
};

extern const struct pc_tcp_cc pc_tcp_newreno;
extern const struct pc_tcp_cc pc_tcp_cubic;

struct pc_tcb {
	struct pc_tcp_key key;
	uint8_t state;
	bool passive;
	bool ts_ok;
	bool sack_ok;
	uint8_t snd_wscale;      /* peer's shift, applied to windows it sends */
	uint8_t rcv_wscale;      /* our shift, applied to windows we send */
	bool fin_queued;         /* app asked to close the send side */
	bool fin_rcvd;
	bool ack_now;
	/* Output waits while the application handles one input segment
	 * (tcp_input.c): what it writes, a FIN it queues and the ACK go out
	 * together when it returns, not a segment per write. */
	bool corked;
	bool in_recovery;        /* fast recovery (NewReno/SACK) */
	bool app_closed;         /* on_closed delivered or not wanted */
	bool want_writable;      /* a write came short: tell the app */
	bool close_pending;      /* pc_tcp_close(): on_closed owed on the next tick */
	bool ring_waiting;       /* waiting for a send ring (the pool was empty) */
	uint8_t deferred;        /* PC_TCP_DEFER_*: owed at the burst's end */
	uint8_t dupacks;
	uint8_t rtx_count;       /* consecutive RTO expiries */
	uint8_t keep_probes;
	uint8_t nb_ooo;
	uint8_t nb_sacked;
	uint16_t mss;            /* segment size we send */
	uint16_t segs_unacked;   /* full segments received since our last ACK */
	/* Data goes both ways (we sent data after the peer sent some): a
	 * short segment's ACK then waits for our next data, which carries
	 * it, or for the delayed-ACK timer, which ends this mode until we
	 * send data again (Linux's interactive "pingpong" mode). */
	bool pingpong;

	struct pc_lcore *lc;

	/* send side */
	uint32_t iss;
	uint32_t snd_una;
	uint32_t snd_nxt;
	uint32_t snd_max;        /* highest sequence sent + 1 */
	uint32_t snd_wnd;        /* peer's window, scaled */
	uint32_t snd_wl1;
	uint32_t snd_wl2;
	uint32_t snd_buf;        /* sequence of the first byte in the send ring */
	uint32_t snd_len;        /* bytes in the send ring */
	uint32_t recover;        /* RFC 6582 */
	uint32_t high_rxt;       /* RFC 6675 HighRxt */
	struct pc_seq_range sacked[PC_TCP_SACK_MAX];

	/* receive side */
	uint32_t irs;
	uint32_t rcv_nxt;
	uint32_t rcv_read;       /* next byte the application reads */
	uint32_t rcv_adv;        /* right edge of the window we advertised */
	struct pc_seq_range ooo[PC_TCP_OOO_MAX];
	uint32_t ooo_recent;     /* a byte of the latest out-of-order segment */

	/* timestamps (RFC 7323) */
	uint32_t ts_recent;
	uint64_t ts_recent_tick;
	uint32_t last_ack_sent;

	/* congestion control */
	uint32_t cwnd;
	uint32_t ssthresh;
	uint64_t cc_epoch_us;    /* CUBIC: start of the current epoch */
	uint32_t cc_wmax;        /* CUBIC: window before the last reduction */
	uint32_t cc_k_ms;        /* CUBIC: time to reach wmax again */
	uint32_t cc_west;        /* CUBIC: Reno-friendly estimate */

	/* RTT (RFC 6298), microseconds */
	uint32_t srtt_us;
	uint32_t rttvar_us;
	uint32_t rto_ms;
	uint32_t rtt_seq;        /* timed segment (no timestamps) */
	uint64_t rtt_start_us;

	struct pc_timer t_rtx;   /* retransmit, persist, SYN retry, TIME_WAIT */
	struct pc_timer t_delack;
	struct pc_timer t_keep;  /* keepalive / idle / handshake lifetime */
	struct pc_timer t_app;   /* callbacks owed to the app, on the next tick (on_app) */
	uint64_t last_rx_tick;
	uint64_t deadline_tick;   /* pc_tcp_set_deadline(), 0 = none */
	uint64_t zero_wnd_tick;   /* when persist probing began, 0 = not probing */

	uint8_t *rbuf;           /* NULL: none held (nothing unread, nothing out of order) */
	uint8_t *sbuf;           /* NULL: none held (nothing unsent or unacknowledged) */
	uint32_t rbuf_mask;
	uint32_t sbuf_mask;
	/* On the worker's list of connections waiting for a send ring
	 * (ring_waiting; ring_wait_prev NULL at its head). */
	struct pc_tcb *ring_wait_prev;

	uint64_t scratch[2];
	const struct pc_tcp_cc *cc;
	const struct pc_tcp_app *app;
	void *app_arg;
	void *app_ctx;
	union {
		struct pc_tcb *free_next;      /* in the free list */
		struct pc_tcb *ring_wait_next; /* in use, ring_waiting */
	};
};

/* A connection its application is done with (pc_tcp_close, or on_closed
 * delivered) once everything we sent, FIN included, is acknowledged:
 * FIN_WAIT_2 (whatever the peer still sends is acknowledged and
 * discarded) or TIME_WAIT. It holds no control block, no buffers and no
 * slot of `tcp max-connections`: a table of its own, bounded by `tcp
 * time-wait`'s MAX, keeps only what is needed to answer the peer (Linux's
 * inet_timewait_sock). Owner-only, like the control blocks. */
struct pc_tcp_tw {
	struct pc_tcp_key key;
	uint8_t state;           /* PC_TCP_FIN_WAIT_2 or PC_TCP_TIME_WAIT */
	bool ts_ok : 1;
	bool ack_owed : 1;       /* FIN_WAIT_2: data in, its ACK delayed */
	uint16_t win;            /* the window field we send */
	uint32_t snd_nxt;        /* one past our FIN */
	uint32_t rcv_nxt;
	uint32_t ts_recent;
	uint32_t fw2_end;        /* FIN_WAIT_2: the wheel tick its limit ends at (low 32 bits) */
	struct pc_timer timer;   /* FIN_WAIT_2 limit (or a delayed ACK within it), then 2 MSL */
	struct pc_lcore *lc;
	struct pc_tcp_tw *free_next;
};

struct pc_tcp_listener {
	uint16_t port;           /* network order; 0 = free slot */
	const struct pc_tcp_app *app;
	void *app_arg;
	uint32_t fwd_addr;       /* forward: the backend, network order */
	uint16_t fwd_port;
};

/* Configuration, shared and read-only while the workers run. */
struct pc_tcp_cfg {
	struct pc_tcp_settings set; /* the operator's, whole */
	uint16_t mss;            /* our MSS (from the MTU) */
	const struct pc_tcp_cc *cc;
	uint8_t siphash_key[16];    /* ISNs and SYN cookies */
	uint16_t ephemeral_lo;      /* active opens: local ports, host order */
	uint16_t ephemeral_hi;
	uint32_t nb_workers;        /* local ports belong to worker port % n */
	bool tx_cksum_offload;      /* the device fills IPv4 and TCP checksums */
	/* TCP segmentation offload: the device cuts mbuf chains of up to
	 * PC_TCP_TSO_MAX payload bytes into segments of our size. */
	bool tso;
	uint32_t tso_max;           /* payload bytes per super-segment: PC_TCP_TSO_MAX,
				     * or less when the device takes short chains */
	/* Bytes a TSO segment's payload stays under our segment size: net_tap
	 * compares its segments' frames, Ethernet header included, with the
	 * MTU (DPDK 22.11 to at least 25.x), and refuses the burst otherwise. */
	uint16_t tso_seg_cut;
	/* The device's RSS, when it spreads flows itself: active opens pick a
	 * local port whose reply hashes to their own queue. */
	bool rss;
	uint8_t rss_key[64];
	uint8_t rss_key_len;
	uint16_t reta_size;
	uint16_t reta[512];
	struct pc_tcp_listener listeners[PC_TCP_MAX_LISTENERS];
};

extern struct pc_tcp_cfg pc_tcp_cfg;

/* Work a connection is owed at the end of the worker's burst. */
#define PC_TCP_DEFER_MAX 256
#define PC_TCP_DEFER_WRITABLE 1 /* on_writable (pc_tcp_defer_writable) */
#define PC_TCP_DEFER_OUTPUT 2   /* pc_tcp_output: written outside its own input */
#define PC_TCP_DEFER_ACK 4      /* the ACK of what the burst brought */

/* Per-worker TCP state, inside struct pc_lcore. */
struct pc_tcp_lcore {
	struct rte_hash *table;
	struct pc_tcb *tcbs;
	struct pc_tcb *free_list;
	uint8_t *bufs;              /* the ring pool: nb_rings rings of pc_tcp_ring_size() */
	uint8_t *ring_free;         /* free rings, linked through their first bytes */
	uint32_t nb_rings;
	uint32_t nb_rings_used;
	struct pc_tcb *ring_wait_head; /* writers waiting for a ring, oldest first */
	struct pc_tcb *ring_wait_tail;
	/* Connections owed work at the end of the burst, by index in tcbs;
	 * an entry whose connection owes nothing (`deferred` 0) is stale. */
	uint32_t deferred[PC_TCP_DEFER_MAX];
	uint32_t nb_deferred;
	bool in_input;              /* a connection's segment is being read (corked) */
	uint32_t nb_used;
	uint32_t nb_half_open;
	uint32_t nb_time_wait;      /* control blocks in TIME_WAIT */
	struct rte_hash *tw_table;  /* compact FIN_WAIT_2/TIME_WAIT (tcp_timewait.c) */
	struct pc_tcp_tw *tws;
	struct pc_tcp_tw *tw_free;
	uint32_t nb_tw[2];          /* compact entries: FIN_WAIT_2, TIME_WAIT */
	uint64_t ack_budget_tick;   /* start of the current second (pc_tcp_ack_budget) */
	uint32_t ack_budget_used;
	uint64_t cookies_until;     /* tick until which SYN cookies are accepted */
	uint16_t worker_index;      /* 0..nb_workers-1 */
	uint16_t next_port;
	struct pc_wheel wheel;
	/* The clock of timestamps, RTT samples and congestion control: the
	 * TSC read when the worker took up its current event (a segment in,
	 * a deferred connection, a turn of the wheel), so that the segments
	 * one event sends share one reading (pc_tcp_clock_us, dp.h). */
	uint64_t clock_tsc;
	uint64_t clock_us;          /* clock_tsc in microseconds; 0 until asked */
};

/* Whether the worker's pool has a ring to give for sending. */
static inline bool pc_tcp_ring_available(const struct pc_tcp_lcore *t)
{
	return t->ring_free != NULL;
}

/* Whether it has one for receiving: the pool's last ring is kept for
 * sending. An application that holds received data until it can write
 * (echo, TLS answering a record) then always has a way forward: were every
 * ring a receive ring waiting for a send ring, none would ever free. Send
 * rings free as the peers acknowledge (a peer that never does is given up
 * after tcp persist-timeout). */
static inline bool pc_tcp_rcv_ring_available(const struct pc_tcp_lcore *t)
{
	return t->nb_rings - t->nb_rings_used > 1;
}

/* tcp_conn.c */
int pc_tcp_lcore_init(struct pc_lcore *lc, uint16_t worker_index, int socket);
/* Free the TCP memory of a worker (its connections must be gone). */
void pc_tcp_lcore_fini(struct pc_lcore *lc);
/* Reset every connection of the worker (it is stopping). */
void pc_tcp_abort_all(struct pc_lcore *lc);
struct pc_tcb *pc_tcp_lookup(struct pc_lcore *lc, const struct pc_tcp_key *k);
struct pc_tcb *pc_tcp_alloc(struct pc_lcore *lc, const struct pc_tcp_key *k);
/* Unhash and return to the pool; calls on_closed first if the app knows
 * the connection. */
void pc_tcp_free(struct pc_tcb *c, enum pc_tcp_close_reason why);
void pc_tcp_set_state(struct pc_tcb *c, enum pc_tcp_state s);
/* One line per connection of worker lc (a racy snapshot: diagnostics
 * only, from the management thread). */
void pc_tcp_dump(FILE *out, const struct pc_lcore *lc, unsigned int lcore_id);
/* In TIME_WAIT the application is done with the connection once it has
 * read everything: tell it then (on_closed NORMAL), not in 2 MSL. */
void pc_tcp_close_if_drained(struct pc_tcb *c);
/* Deliver the on_closed that pc_tcp_close() owes, if any. */
void pc_tcp_deliver_close(struct pc_tcb *c);
/* Send RST and free, telling the app why. */
void pc_tcp_reset(struct pc_tcb *c, enum pc_tcp_close_reason why);
const struct pc_tcp_listener *pc_tcp_find_listener(uint16_t port);
/* ESTABLISHED reached: tell the app (which may refuse). Returns false if
 * the connection was refused and freed. */
bool pc_tcp_established(struct pc_tcb *c);
/* Active open from this worker to raddr:rport (network order). Returns
 * the connection in SYN_SENT, or NULL (no local port or no memory). The
 * app's on_open comes when the handshake completes, on_closed(REFUSED) if
 * it does not. */
struct pc_tcb *pc_tcp_connect(struct pc_lcore *lc, uint32_t raddr, uint16_t rport,
			      const struct pc_tcp_app *app, void *app_arg);
/* Bytes that go first on an active open still in SYN_SENT (a PROXY
 * protocol header): queued in its send buffer now, sent once the
 * handshake completes, before anything the application writes. Returns
 * how many were taken (0 unless c is in SYN_SENT with nothing queued
 * and the pool has a ring, counted in tcp_pool_empty_writes when it has
 * none; at most the send buffer's size). */
size_t pc_tcp_queue_first(struct pc_tcb *c, const void *buf, size_t len);
/* The worker that owns a flow when the device does not steer flows in a
 * way we can reproduce (virtual devices: af_packet fanout even rolls
 * flows over to another socket when one is full): active opens by their
 * local port (port % workers), passive ones by a hash of the peer's
 * address and port and our port. Network-order arguments. */
unsigned int pc_tcp_owner(uint32_t raddr, uint16_t rport, uint16_t lport);
/* Whether local port lport (host order) of an active open to raddr:rport
 * comes back to this worker. */
bool pc_tcp_port_is_mine(const struct pc_lcore *lc, uint32_t raddr, uint16_t rport,
			 uint16_t lport);
/* The size of a pooled ring: the larger of the two buffer sizes. */
uint32_t pc_tcp_ring_size(void);
/* The work connections are owed (PC_TCP_DEFER_*), each once; what it
 * defers again for other connections waits for the next call. Whether any
 * ran. */
bool pc_tcp_run_deferred(struct pc_lcore *lc);
/* The ACK of c's data at the end of the burst; false when the list is full. */
bool pc_tcp_defer_ack(struct pc_tcb *c);
/* Take the receive ring for data about to be stored; false (counted by
 * the caller) when the pool is empty. */
bool pc_tcp_rbuf_take(struct pc_tcb *c);
/* Give the receive ring back if nothing is left in it (all read, nothing
 * out of order), the send ring if nothing is unsent or unacknowledged. */
void pc_tcp_rbuf_release(struct pc_tcb *c);
void pc_tcp_sbuf_release(struct pc_tcb *c);
/* A connection waiting for a ring whose turn came (from its t_app timer):
 * on_writable if it can write now, back on the list if not. */
void pc_tcp_ring_wake(struct pc_tcb *c);
/* Copy between a byte ring and a flat buffer, starting at sequence seq. */
void pc_tcp_ring_get(const uint8_t *ring, uint32_t mask, uint32_t seq, void *dst, uint32_t n);
void pc_tcp_ring_put(uint8_t *ring, uint32_t mask, uint32_t seq, const void *src, uint32_t n);
/* The same from n bytes of an mbuf chain, from offset off on. */
void pc_tcp_ring_put_mbuf(uint8_t *ring, uint32_t mask, uint32_t seq,
			  const struct rte_mbuf *m, uint32_t off, uint32_t n);
/* And to the data of an mbuf chain from offset off on, to its end. */
void pc_tcp_ring_get_mbuf(const uint8_t *ring, uint32_t mask, uint32_t seq,
			  struct rte_mbuf *m, uint32_t off);
/* The Internet checksum's folded (not complemented) sum of n bytes of a
 * ring from sequence seq, as though they began at an even offset; n at
 * most 128 KiB. */
uint16_t pc_tcp_ring_sum(const uint8_t *ring, uint32_t mask, uint32_t seq, uint32_t n);

/* sum plus the folded sum of a piece of n bytes (at most 128 KiB) that
 * starts at byte `at` of the data summed: after an odd count its bytes are
 * in the other lanes. */
static inline uint32_t pc_tcp_sum_piece(uint32_t sum, uint32_t at, const void *p, uint32_t n)
{
	uint16_t part = __rte_raw_cksum_reduce(__rte_raw_cksum(p, n, 0));

	return sum + ((at & 1) ? rte_bswap16(part) : part);
}

/* The unfolded sum of the IPv4 pseudo-header of a TCP segment of tcp_len
 * bytes (0 for a TSO super-segment: the device adds each segment's), its
 * words summed where they lie in the IP header. DPDK's rte_ipv4_phdr_cksum
 * builds a copy on the stack from bytes and reads it back as words: a
 * store-forwarding stall per segment. */
static inline uint32_t pc_tcp_phdr_sum(const struct rte_ipv4_hdr *ip, uint16_t tcp_len)
{
	return (ip->src_addr & 0xffff) + (ip->src_addr >> 16) + (ip->dst_addr & 0xffff) +
	       (ip->dst_addr >> 16) + rte_cpu_to_be_16(IPPROTO_TCP) + rte_cpu_to_be_16(tcp_len);
}

/* tcp_timewait.c */
int pc_tcp_tw_init(struct pc_lcore *lc, int socket);
void pc_tcp_tw_fini(struct pc_lcore *lc);
/* If the application is done with c and c is in FIN_WAIT_2 or TIME_WAIT,
 * move it to the compact table and free the control block (TIME_WAIT
 * with the table full: skipped, counted). Returns true if c is gone. Call
 * only where nothing uses c afterwards. */
bool pc_tcp_tw_take(struct pc_tcb *c);
struct pc_tcp_tw *pc_tcp_tw_lookup(struct pc_lcore *lc, const struct pc_tcp_key *k);
/* One line per compact entry of worker lc (a racy snapshot, like
 * pc_tcp_dump). */
void pc_tcp_tw_dump(FILE *out, const struct pc_lcore *lc, unsigned int lcore_id);
/* A segment for a compact entry. Returns true when it is a SYN that may
 * open a new connection in its place (the entry is gone then), with the
 * initial sequence number to use in *iss. */
bool pc_tcp_tw_input(struct pc_tcp_tw *tw, const struct pc_tcp_seg *s, uint32_t *iss);
/* RFC 6191: whether a SYN is newer than the connection in TIME_WAIT
 * whose receive side ended at rcv_nxt (ts_recent when timestamps are in
 * use), and so may reopen it; if so, *iss is the new connection's initial
 * sequence number, far above the old one's snd_nxt (as Linux does). */
bool pc_tcp_syn_reopens(bool ts_ok, uint32_t ts_recent, uint32_t rcv_nxt, uint32_t snd_nxt,
			const struct pc_tcp_seg *s, uint32_t *iss);

/* tcp_input.c */
void pc_tcp_input(struct pc_lcore *lc, struct rte_mbuf *m, uint16_t iphl);
/* The window scale we offer: enough for the receive buffer. */
uint8_t pc_tcp_our_wscale(void);

/* tcp_output.c */
/* Send what the window, cwnd and buffer allow, and an ACK if one is due. */
void pc_tcp_output(struct pc_tcb *c);
/* Send one segment: flags, seq, data from the send ring at seq (len may
 * be 0). Returns 0 or -1 (no mbuf). */
int pc_tcp_send_segment(struct pc_tcb *c, uint8_t flags, uint32_t seq, uint32_t len);
void pc_tcp_send_ack(struct pc_tcb *c);
/* RFC 5961 7: whether one more ACK to an invalid segment (a challenge
 * ACK, an answer to an out-of-window or old one) fits in the worker's
 * budget of `tcp challenge-ack-limit` per second; counted when not. A
 * segment that carries data cannot start an ACK loop and is answered
 * without asking (Linux's tcp_oow_rate_limited). */
bool pc_tcp_ack_budget(struct pc_lcore *lc);
/* A segment without a control block: flags, sequence and ACK numbers,
 * the window field, and the timestamp option when ts. */
void pc_tcp_send_bare(struct pc_lcore *lc, const struct pc_tcp_key *k, uint8_t flags,
		      uint32_t seq, uint32_t ack, uint16_t win, bool ts, uint32_t tsecr);
/* RST for a segment that has no connection (RFC 793 "reset generation"). */
void pc_tcp_send_rst_for(struct pc_lcore *lc, const struct pc_tcp_key *k,
			 const struct rte_tcp_hdr *th, uint32_t seg_len);
/* A SYN-ACK from a SYN cookie, without a control block. */
void pc_tcp_send_cookie_synack(struct pc_lcore *lc, const struct pc_tcp_key *k,
			       uint32_t iss, uint32_t ack, uint16_t mss, uint32_t tsval,
			       uint32_t tsecr, bool ts, int wscale, bool sack);
uint32_t pc_tcp_rcv_window(const struct pc_tcb *c);
/* Payload bytes per segment: the peer's MSS less our options. */
uint32_t pc_tcp_smss(const struct pc_tcb *c);

/* tcp_timer.c */
void pc_tcp_timers_init(struct pc_tcb *c);
void pc_tcp_timers_cancel(struct pc_tcb *c);
void pc_tcp_arm_rtx(struct pc_tcb *c);
void pc_tcp_arm_keep(struct pc_tcb *c);
void pc_tcp_rtt_sample(struct pc_tcb *c, uint32_t rtt_us);
void pc_tcp_enter_time_wait(struct pc_tcb *c);

/* tcp_cookie.c */
uint32_t pc_tcp_isn(const struct pc_tcp_key *k);
uint32_t pc_tcp_cookie_make(const struct pc_tcp_key *k, uint32_t peer_isn, uint16_t mss,
			    uint16_t *mss_out);
/* 0 and the MSS it encodes, or -1 if ack-1 is no valid cookie. */
int pc_tcp_cookie_check(const struct pc_tcp_key *k, uint32_t peer_isn, uint32_t cookie,
			uint16_t *mss);
uint64_t pc_siphash(const uint8_t key[16], const void *data, size_t len);

/* tcp_rss.c */
uint32_t pc_toeplitz(const uint8_t *key, unsigned int key_len, const uint8_t *data,
		     unsigned int len);

/* SACK scoreboard (tcp_sack.c) */
void pc_tcp_sack_update(struct pc_tcb *c, const uint8_t *blocks, unsigned int n);
void pc_tcp_sack_trim(struct pc_tcb *c);
bool pc_tcp_sack_is_sacked(const struct pc_tcb *c, uint32_t seq);
/* Next hole to retransmit at or after seq (RFC 6675 NextSeg, simplified):
 * returns its start and length, or false if none below snd_max. */
bool pc_tcp_sack_next_hole(const struct pc_tcb *c, uint32_t from, uint32_t *start,
			   uint32_t *len);
uint32_t pc_tcp_sack_bytes(const struct pc_tcb *c);

/* Receive reassembly (tcp_reass.c): ranges above rcv_nxt. */
/* Record [s, e) received out of order; false if there is no room left. */
bool pc_tcp_ooo_add(struct pc_tcb *c, uint32_t s, uint32_t e);
/* Advance rcv_nxt over ranges now contiguous with it. */
void pc_tcp_ooo_merge(struct pc_tcb *c);

#endif
