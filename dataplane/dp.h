/* SPDX-License-Identifier: MIT */
/*
 * Private to dataplane/: the per-lcore context and the packet functions the
 * worker loop chains together. Every function here runs on the worker that
 * owns the context (no locks: a worker owns its queue pair, its ARP cache
 * and its counters), unless its comment says otherwise.
 */
#ifndef PC_DP_H
#define PC_DP_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "pc_dataplane.h"
#include "tcp/tcp.h"

#define PC_BURST 32

enum pc_drop {
#define PC_DROP(name, help) PC_DROP_##name,
#include "pc_errors.def"
#undef PC_DROP
	PC_DROP__MAX
};

/* Counters: written only by the owning worker, read by mgmt (torn reads of
 * a 64-bit aligned word do not happen on x86-64). */
struct pc_counters {
#define PC_STAT(name, help) uint64_t name;
#include "pc_stats.def"
#undef PC_STAT
	uint64_t drop[PC_DROP__MAX];
} __rte_cache_aligned;

/* ARP cache: set-associative, per worker. A bucket is chosen by a hash of
 * the IPv4 address; inside it, the oldest entry is evicted. */
#define PC_ARP_BUCKETS 64
#define PC_ARP_WAYS 4
#define PC_ARP_RETRIES 3
#define PC_ARP_PENDING 4 /* packets held per unresolved neighbour (a burst of
			  * SYNs to a backend, say) */

enum pc_arp_state {
	PC_ARP_FREE = 0,
	PC_ARP_INCOMPLETE,  /* request sent, no answer yet */
	PC_ARP_REACHABLE,   /* answered; fresh until expires, stale after */
};

struct pc_arp_entry {
	uint32_t ip;              /* network order */
	uint8_t state;
	uint8_t tries;            /* requests sent while INCOMPLETE */
	struct rte_ether_addr mac;
	uint64_t expires;         /* TSC: fresh until; stale entries re-ask */
	uint64_t last_req;        /* TSC of the last request sent */
	uint64_t used;            /* TSC of the last update, for eviction */
	uint8_t nb_pending;
	struct rte_mbuf *pending[PC_ARP_PENDING]; /* held until resolution */
};

struct pc_arp_table {
	struct pc_arp_entry e[PC_ARP_BUCKETS][PC_ARP_WAYS];
};

/* With several workers, RSS or the PMD's fanout sends an ARP reply to
 * whichever queue its hash picks, not to the worker that asked. So a
 * worker that learns a neighbour from an ARP frame tells the others
 * through their inboxes (multi-producer, single-consumer rings), and each
 * worker drains its inbox once per loop pass. ARP is rare: the rings are
 * small and a full one only costs a later re-request (counted). */
struct pc_arp_notice {
	uint32_t ip;              /* network order */
	struct rte_ether_addr mac;
	uint16_t pad;
};

#define PC_ARP_INBOX 256
#define PC_PKT_INBOX 1024

/* The interface as configured: shared, read-only after init. */
struct pc_iface {
	uint32_t addr;            /* network order */
	uint32_t mask;            /* network order */
	uint32_t gateway;         /* network order, 0 = none */
	uint8_t ttl;
	struct rte_ether_addr mac;
	uint64_t arp_timeout;     /* TSC cycles */
	uint64_t arp_retry;       /* TSC cycles between requests */
};

struct pc_lcore {
	/* hot, private */
	uint16_t port;
	uint16_t queue;
	uint16_t tx_n;
	struct rte_mbuf *tx[PC_BURST];
	uint64_t tx_oldest;       /* TSC when the oldest buffered frame came */
	uint64_t tsc_drain;       /* TSC cycles a frame waits in tx[] at most
				   * while the queue stays busy (or the hold) */
	uint64_t next_tick;       /* TSC of the next timer pass */
	uint64_t tsc_tick;
	uint64_t idle_since;      /* TSC of the first empty poll in a row, 0 = busy */
	uint32_t sleep_cur_us;    /* next idle sleep, 0 = start from idle.sleep_us */
	uint64_t pass_tx_cycles;  /* TSC cycles inside rte_eth_tx_burst this pass:
				   * counted once the pass is known busy or idle */
	struct rte_mempool *pool;
	const struct pc_iface *ifc;
	struct pc_idle_cfg idle;  /* written by the management thread */
	uint64_t tsc_us;          /* TSC cycles per microsecond */
	struct pc_arp_table arp;
	struct rte_ring *arp_inbox; /* NULL with a single worker */
	struct rte_ring *pkt_inbox; /* segments of our connections that reached
				     * another worker; NULL with one worker */
	uint16_t ip_id;
	struct pc_tcp_lcore tcp;
	struct pc_counters cnt;
} __rte_cache_aligned;

/* The TCP event clock (struct pc_tcp_lcore, tcp.h) at this worker's TSC
 * rate. A new event: read the clock. */
static inline void pc_tcp_clock_set(struct pc_lcore *lc, uint64_t tsc)
{
	lc->tcp.clock_tsc = tsc;
	lc->tcp.clock_us = 0;
}

static inline uint64_t pc_tcp_clock_us(struct pc_lcore *lc)
{
	if (lc->tcp.clock_us == 0)
		lc->tcp.clock_us = lc->tcp.clock_tsc / lc->tsc_us;
	return lc->tcp.clock_us;
}

/* The TSval clock (RFC 7323): milliseconds. */
static inline uint32_t pc_tcp_clock_ms(struct pc_lcore *lc)
{
	return (uint32_t)(pc_tcp_clock_us(lc) / 1000);
}

/* Contexts indexed by lcore id; NULL for lcores that are not workers. */
extern struct pc_lcore *pc_lcores[RTE_MAX_LCORE];

/* Workers by index (0..n-1, the order of their queues). */
extern struct pc_lcore *pc_workers[RTE_MAX_LCORE];
extern unsigned int pc_nb_workers;

/* Every worker's ARP inbox, set before the workers start. */
extern struct rte_ring *pc_arp_inboxes[RTE_MAX_LCORE];
extern unsigned int pc_nb_arp_inboxes;

static inline void pc_drop(struct pc_lcore *lc, struct rte_mbuf *m, enum pc_drop why)
{
	lc->cnt.drop[why]++;
	rte_pktmbuf_free(m);
}

/* 224.0.0.0/4, host order. (DPDK's RTE_IS_IPV4_MCAST shifts a signed int
 * into its sign bit, which UBSan rightly reports.) */
static inline bool pc_ipv4_is_mcast(uint32_t host_addr)
{
	return (host_addr >> 28) == 0xe;
}

/* Fill pc_tcp_cfg from the operator's configuration (listeners, limits,
 * a fresh SipHash key). Before the workers start. */
int pc_tcp_configure(const struct pc_dp_config *cfg, unsigned int nb_workers);

/* Context set-up shared by the real port and the test harnesses. */
void pc_lcore_init(struct pc_lcore *lc, uint16_t port, uint16_t queue,
		   struct rte_mempool *pool, const struct pc_iface *ifc,
		   const struct pc_idle_cfg *idle);
/* On the worker, as it stops: reset its TCP connections, free what the
 * context holds (ARP pending packets) and send what is buffered. */
void pc_lcore_fini(struct pc_lcore *lc);

/* Input chain; each consumes the mbuf (sent on, or freed and counted).
 * On entry to pc_eth_input the data starts at the Ethernet header; the
 * later stages get it at their own header. */
void pc_eth_input(struct pc_lcore *lc, struct rte_mbuf *m);
void pc_arp_input(struct pc_lcore *lc, struct rte_mbuf *m);
void pc_ipv4_input(struct pc_lcore *lc, struct rte_mbuf *m);
void pc_icmp_input(struct pc_lcore *lc, struct rte_mbuf *m, uint16_t iphl);

/* Output: m's data starts at the IPv4 header, which is complete (checksum
 * included). Finds the next hop and its MAC (asking ARP, holding m while it
 * waits), adds the Ethernet header and queues for TX. */
void pc_ipv4_output(struct pc_lcore *lc, struct rte_mbuf *m);
/* m's data starts where the Ethernet header goes. */
void pc_eth_output(struct pc_lcore *lc, struct rte_mbuf *m,
		   const struct rte_ether_addr *dst, uint16_t ether_type);
void pc_tx_flush(struct pc_lcore *lc);

/* ARP cache. pc_arp_resolve returns the MAC for next hop nh (network
 * order), or NULL after taking m to hold until the reply comes (or to drop
 * and count). */
const struct rte_ether_addr *pc_arp_resolve(struct pc_lcore *lc, uint32_t nh,
					    struct rte_mbuf *m);
/* Learn what the other workers told this one. */
void pc_arp_drain_inbox(struct pc_lcore *lc);
/* Retries, timeouts and expiry; called from the worker loop's timer pass. */
void pc_arp_tick(struct pc_lcore *lc, uint64_t now);
void pc_arp_flush(struct pc_lcore *lc);

/* Counter names in the order of the X-macro list, for dumps and lookups. */
extern const char *const pc_drop_names[PC_DROP__MAX];
extern const char *const pc_drop_help[PC_DROP__MAX];

#endif
