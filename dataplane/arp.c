/* SPDX-License-Identifier: MIT */
/*
 * ARP (RFC 826): answers requests for our address, learns neighbours, asks
 * for next hops and holds a few packets per unresolved neighbour.
 *
 * The cache is per worker (no sharing, no locks). A worker learns from the
 * ARP frames it receives: requests and replies addressed to us (RFC 826's
 * merge: the sender is added or refreshed), and updates of neighbours it
 * already knows from any ARP frame. Entries are fresh for arp_timeout; a
 * stale entry is still used while a new request refreshes it, and is
 * forgotten after another arp_timeout without an answer.
 */
#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_ring_elem.h>

#include "dp.h"

struct rte_ring *pc_arp_inboxes[RTE_MAX_LCORE];
unsigned int pc_nb_arp_inboxes;

_Static_assert(sizeof(struct pc_arp_notice) % 4 == 0, "ring elements are 4-byte multiples");
_Static_assert((PC_ARP_BUCKETS & (PC_ARP_BUCKETS - 1)) == 0,
	       "PC_ARP_BUCKETS must be a power of two");

static inline struct pc_arp_entry *arp_bucket(struct pc_arp_table *t, uint32_t ip)
{
	/* Fibonacci hashing: neighbours on one subnet differ in the low bits
	 * of the host-order address. */
	uint32_t h = rte_be_to_cpu_32(ip) * 2654435761u;

	return t->e[h >> (32 - __builtin_ctz(PC_ARP_BUCKETS))];
}

static struct pc_arp_entry *arp_find(struct pc_lcore *lc, uint32_t ip)
{
	struct pc_arp_entry *b = arp_bucket(&lc->arp, ip);

	for (int i = 0; i < PC_ARP_WAYS; i++)
		if (b[i].state != PC_ARP_FREE && b[i].ip == ip)
			return &b[i];
	return NULL;
}

static void arp_forget(struct pc_lcore *lc, struct pc_arp_entry *e)
{
	for (unsigned int i = 0; i < e->nb_pending; i++)
		pc_drop(lc, e->pending[i], PC_DROP_arp_unresolved);
	memset(e, 0, sizeof(*e));
}

/* A free way, else the least recently updated one (its held packet, if
 * any, is dropped and counted). */
static struct pc_arp_entry *arp_alloc(struct pc_lcore *lc, uint32_t ip)
{
	struct pc_arp_entry *b = arp_bucket(&lc->arp, ip);
	struct pc_arp_entry *victim = &b[0];

	for (int i = 0; i < PC_ARP_WAYS; i++) {
		if (b[i].state == PC_ARP_FREE) {
			victim = &b[i];
			break;
		}
		if (b[i].used < victim->used)
			victim = &b[i];
	}
	arp_forget(lc, victim);
	victim->ip = ip;
	return victim;
}

/* Build and queue an ARP packet from us. */
static void arp_send(struct pc_lcore *lc, uint16_t op, uint32_t tip,
		     const struct rte_ether_addr *tha, const struct rte_ether_addr *dst)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(lc->pool);

	if (unlikely(m == NULL)) {
		lc->cnt.drop[PC_DROP_no_mbuf]++;
		return;
	}
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)rte_pktmbuf_append(m, sizeof(*a));

	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = sizeof(uint32_t);
	a->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(&lc->ifc->mac, &a->arp_data.arp_sha);
	a->arp_data.arp_sip = lc->ifc->addr;
	rte_ether_addr_copy(tha, &a->arp_data.arp_tha);
	a->arp_data.arp_tip = tip;
	if (op == RTE_ARP_OP_REQUEST)
		lc->cnt.arp_requests_sent++;
	else
		lc->cnt.arp_replies_sent++;
	pc_eth_output(lc, m, dst, RTE_ETHER_TYPE_ARP);
}

static void arp_request(struct pc_lcore *lc, struct pc_arp_entry *e, uint64_t now)
{
	static const struct rte_ether_addr zero;
	static const struct rte_ether_addr bcast = {
		.addr_bytes = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

	e->last_req = now;
	e->tries++;
	arp_send(lc, RTE_ARP_OP_REQUEST, e->ip, &zero, &bcast);
}

static void arp_update(struct pc_lcore *lc, struct pc_arp_entry *e,
		       const struct rte_ether_addr *mac, uint64_t now)
{
	rte_ether_addr_copy(mac, &e->mac);
	e->state = PC_ARP_REACHABLE;
	e->tries = 0;
	e->expires = now + lc->ifc->arp_timeout;
	e->used = now;
	for (unsigned int i = 0; i < e->nb_pending; i++)
		pc_eth_output(lc, e->pending[i], &e->mac, RTE_ETHER_TYPE_IPV4);
	e->nb_pending = 0;
}

/* Tell the other workers what this one learned from an ARP frame. */
static void arp_share(struct pc_lcore *lc, uint32_t ip, const struct rte_ether_addr *mac)
{
	struct pc_arp_notice n = {.ip = ip, .mac = *mac};

	for (unsigned int i = 0; i < pc_nb_arp_inboxes; i++) {
		if (pc_arp_inboxes[i] == lc->arp_inbox)
			continue;
		if (rte_ring_mp_enqueue_elem(pc_arp_inboxes[i], &n, sizeof(n)) != 0)
			lc->cnt.arp_notices_lost++;
	}
}

void pc_arp_drain_inbox(struct pc_lcore *lc)
{
	struct pc_arp_notice n[16];
	unsigned int got = rte_ring_sc_dequeue_burst_elem(lc->arp_inbox, n, sizeof(n[0]),
							  RTE_DIM(n), NULL);
	uint64_t now = got != 0 ? rte_rdtsc() : 0;

	for (unsigned int i = 0; i < got; i++) {
		struct pc_arp_entry *e = arp_find(lc, n[i].ip);

		if (e == NULL)
			e = arp_alloc(lc, n[i].ip);
		arp_update(lc, e, &n[i].mac, now);
	}
}

void pc_arp_input(struct pc_lcore *lc, struct rte_mbuf *m)
{
	if (unlikely(rte_pktmbuf_data_len(m) < sizeof(struct rte_arp_hdr))) {
		pc_drop(lc, m, PC_DROP_arp_short);
		return;
	}
	struct rte_arp_hdr *a = rte_pktmbuf_mtod(m, struct rte_arp_hdr *);

	if (a->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    a->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    a->arp_hlen != RTE_ETHER_ADDR_LEN || a->arp_plen != sizeof(uint32_t)) {
		pc_drop(lc, m, PC_DROP_arp_bad_format);
		return;
	}
	uint16_t op = rte_be_to_cpu_16(a->arp_opcode);

	if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY) {
		pc_drop(lc, m, PC_DROP_arp_bad_op);
		return;
	}
	const struct rte_ether_addr *sha = &a->arp_data.arp_sha;
	uint32_t sip = a->arp_data.arp_sip;
	uint32_t tip = a->arp_data.arp_tip;
	uint32_t hsip = rte_be_to_cpu_32(sip);

	/* Never learn a multicast MAC, a claim on our address, or a
	 * broadcast/multicast IP: each would poison the cache. */
	if (rte_is_multicast_ether_addr(sha) || rte_is_zero_ether_addr(sha) ||
	    sip == lc->ifc->addr || hsip == 0xffffffff || pc_ipv4_is_mcast(hsip) ||
	    (sip & ~lc->ifc->mask) == ~lc->ifc->mask) {
		pc_drop(lc, m, PC_DROP_arp_bad_sender);
		return;
	}
	uint64_t now = rte_rdtsc();
	/* sip == 0 is an address probe (RFC 5227): answer, learn nothing. */
	struct pc_arp_entry *e = sip != 0 ? arp_find(lc, sip) : NULL;

	if (tip != lc->ifc->addr) {
		if (e != NULL) {
			arp_update(lc, e, sha, now);
			arp_share(lc, sip, sha);
		}
		pc_drop(lc, m, PC_DROP_arp_not_for_us);
		return;
	}
	if (sip != 0) {
		if (e == NULL)
			e = arp_alloc(lc, sip);
		arp_update(lc, e, sha, now);
		arp_share(lc, sip, sha);
	}
	if (op == RTE_ARP_OP_REQUEST) {
		/* Turn the request around in place. */
		struct rte_ether_addr requester = *sha;

		a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
		rte_ether_addr_copy(&requester, &a->arp_data.arp_tha);
		a->arp_data.arp_tip = sip;
		rte_ether_addr_copy(&lc->ifc->mac, &a->arp_data.arp_sha);
		a->arp_data.arp_sip = lc->ifc->addr;
		/* The reply is the first bytes of the first mbuf; padding and
		 * any mbufs a scattering device chained after it go. */
		if (m->next != NULL) {
			rte_pktmbuf_free(m->next);
			m->next = NULL;
			m->nb_segs = 1;
		}
		m->data_len = sizeof(*a);
		m->pkt_len = sizeof(*a);
		lc->cnt.arp_replies_sent++;
		pc_eth_output(lc, m, &requester, RTE_ETHER_TYPE_ARP);
		return;
	}
	rte_pktmbuf_free(m);
}

const struct rte_ether_addr *pc_arp_resolve(struct pc_lcore *lc, uint32_t nh,
					    struct rte_mbuf *m)
{
	struct pc_arp_entry *e = arp_find(lc, nh);
	uint64_t now = rte_rdtsc();

	if (likely(e != NULL && e->state == PC_ARP_REACHABLE)) {
		if (unlikely(now >= e->expires) &&
		    now - e->last_req >= lc->ifc->arp_retry)
			arp_request(lc, e, now); /* stale: use it, refresh it */
		return &e->mac;
	}
	if (e == NULL) {
		e = arp_alloc(lc, nh);
		e->state = PC_ARP_INCOMPLETE;
		e->used = now;
		arp_request(lc, e, now);
	}
	if (e->nb_pending == PC_ARP_PENDING) {
		/* Full: the oldest goes (its sender will retransmit). */
		pc_drop(lc, e->pending[0], PC_DROP_arp_pending_replaced);
		memmove(&e->pending[0], &e->pending[1], (PC_ARP_PENDING - 1) * sizeof(e->pending[0]));
		e->nb_pending--;
	}
	e->pending[e->nb_pending++] = m;
	return NULL;
}

void pc_arp_tick(struct pc_lcore *lc, uint64_t now)
{
	for (int b = 0; b < PC_ARP_BUCKETS; b++) {
		for (int w = 0; w < PC_ARP_WAYS; w++) {
			struct pc_arp_entry *e = &lc->arp.e[b][w];

			if (e->state == PC_ARP_FREE)
				continue;
			if (now - e->last_req < lc->ifc->arp_retry)
				continue;
			if (e->state == PC_ARP_INCOMPLETE) {
				if (e->tries >= PC_ARP_RETRIES)
					arp_forget(lc, e);
				else
					arp_request(lc, e, now);
			} else if (now >= e->expires + lc->ifc->arp_timeout) {
				arp_forget(lc, e);
			}
		}
	}
}

void pc_arp_flush(struct pc_lcore *lc)
{
	for (int b = 0; b < PC_ARP_BUCKETS; b++)
		for (int w = 0; w < PC_ARP_WAYS; w++)
			if (lc->arp.e[b][w].state != PC_ARP_FREE)
				arp_forget(lc, &lc->arp.e[b][w]);
}
