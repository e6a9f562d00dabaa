/* SPDX-License-Identifier: MIT */
/*
 * Test harness for the dataplane: an EAL without hugepages, a ring-backed
 * ethdev (rte_eth_from_rings) as the worker's port, and helpers to inject
 * frames into its RX ring, run worker passes and collect what it sent.
 * Used by the unit tests and the fuzz target. Single-threaded.
 */
#ifndef PC_TEST_HARNESS_H
#define PC_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>

#include "dp.h"

/* Host-order IPv4 address (DPDK's RTE_IPV4 overflows a signed int). */
#define H_IP4(a, b, c, d) \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))
#define H_ADDR H_IP4(198, 18, 0, 1)
#define H_PEER H_IP4(198, 18, 0, 2)

struct h_frame {
	uint8_t b[2048];
	uint16_t len;
};

/* Listeners the harness configures. */
#define H_PORT_ECHO 7
#define H_PORT_DISCARD 9
#define H_PORT_SOURCE 19

extern struct pc_dp_config h_cfg;
extern struct pc_lcore *h_lc;
extern struct pc_iface h_ifc;
extern const struct rte_ether_addr h_mac;      /* the port's MAC */
extern const struct rte_ether_addr h_peer_mac; /* the peer's */

/* EAL (--no-huge) + pool + ring port + one worker context on this lcore.
 * Returns 0 or -1 with a message on stderr. */
int h_init(void);
/* Fresh worker context and interface (counters, ARP cache zeroed); frees
 * whatever the previous one held. */
void h_reset(void);
/* Everything allocated from the pool is back in it. */
int h_pool_full(void);
void h_fini(void);

/* A copy of the frame in an mbuf from the harness's pool. */
struct rte_mbuf *h_mbuf(const void *frame, uint16_t len);
/* Queue a copy of the frame on the port's RX ring. */
void h_inject(const void *frame, uint16_t len);
/* Run worker passes until RX is empty, then flush TX. */
void h_run(void);
/* Take the next frame the worker sent; returns 0 when there is none. */
int h_take(struct h_frame *out);
/* Frames sent and not taken yet. */
unsigned int h_pending(void);

/* Builders, in network order inside; addresses in host order. */
uint16_t h_build_echo(uint8_t *b, uint32_t src, uint32_t dst, const uint8_t *opts,
		      uint8_t optlen, uint16_t payload);
uint16_t h_build_arp(uint8_t *b, uint16_t op, const struct rte_ether_addr *sha,
		     uint32_t sip, uint32_t tip, const struct rte_ether_addr *eth_dst);
/* Recompute the IPv4 header checksum of a frame built above. */
void h_fix_ip_cksum(uint8_t *b);
void h_fix_icmp_cksum(uint8_t *b);

uint64_t h_drop(enum pc_drop why);
uint64_t h_drops_total(void);

#endif
