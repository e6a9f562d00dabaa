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

/* Listeners the harness configures: echo, discard, source 100000 bytes,
 * and forward to a backend at H_BACKEND:H_BACKEND_PORT. */
#define H_PORT_ECHO 7
#define H_PORT_DISCARD 9
#define H_PORT_SOURCE 19
#define H_PORT_FORWARD 8080
#define H_BACKEND H_IP4(198, 18, 0, 3)
#define H_BACKEND_PORT 8000

extern struct pc_dp_config h_cfg;
extern struct pc_lcore *h_lc;
extern struct pc_iface h_ifc;
extern const struct rte_ether_addr h_mac;      /* the port's MAC */
extern const struct rte_ether_addr h_peer_mac; /* the peer's */

/* EAL --lcores for h_init(): "0" unless set before. A target that needs
 * a worker lcore (the TLS arenas exist on workers only) asks for "0,1"
 * and runs the worker context there (pc_lcores[1] = h_lc). */
extern const char *h_lcores;
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
/* The same frame as a chain of mbufs, as a scattering or LRO device
 * delivers it: first bytes in the first mbuf (0 allowed), then pieces
 * of `rest` bytes (at least 1). */
struct rte_mbuf *h_mbuf_chain(const void *frame, uint32_t len, uint32_t first, uint32_t rest);
void h_inject_chain(const void *frame, uint32_t len, uint32_t first, uint32_t rest);
/* Run worker passes until RX is empty, then flush TX. */
void h_run(void);
/* Take the next frame the worker sent; returns 0 when there is none. */
int h_take(struct h_frame *out);
/* The same as the mbuf (chain) itself, for the caller to free; NULL when
 * there is none. */
struct rte_mbuf *h_take_mbuf(void);
/* Frames sent and not taken yet. */
unsigned int h_pending(void);
/* Make the worker know ip at mac, as an ARP request from it would (our
 * reply is taken and dropped). */
void h_arp_learn(uint32_t ip, const struct rte_ether_addr *mac);

/* pc_tcp_cfg as h_init() set it up. */
extern struct pc_tcp_cfg h_tcp_defaults;
/* h_reset() with another TCP configuration: the worker context is torn
 * down under the one it was built with (connection pool and buffer sizes
 * included), then rebuilt under *cfg, which becomes pc_tcp_cfg. */
void h_reset_tcp(const struct pc_tcp_cfg *cfg);

/* Builders, in network order inside; addresses in host order. */
uint16_t h_build_echo(uint8_t *b, uint32_t src, uint32_t dst, const uint8_t *opts,
		      uint8_t optlen, uint16_t payload);
uint16_t h_build_arp(uint8_t *b, uint16_t op, const struct rte_ether_addr *sha,
		     uint32_t sip, uint32_t tip, const struct rte_ether_addr *eth_dst);

/* A TCP segment, fields in host order. */
struct h_tcp {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;            /* RTE_TCP_*_FLAG */
	uint16_t win;
	const uint8_t *opts;      /* option bytes, optlen a multiple of 4 (<= 40) */
	uint8_t optlen;
	const uint8_t *data;      /* payload (NULL: len bytes of a pattern) */
	uint16_t len;
};
/* Ethernet (peer MAC to ours) + IPv4 + TCP with both checksums right;
 * returns the frame's length. */
uint16_t h_build_tcp(uint8_t *b, const struct h_tcp *t);
/* A peer's side of one TCP connection with the worker, host order: its
 * address and port, the worker's port, the next sequence number it sends
 * and what it acknowledges. */
struct h_conn {
	uint32_t addr;
	uint16_t port, lport;
	uint32_t snd, ack;
};
/* A segment from that peer (window 65535; a SYN carries an MSS option of
 * mss) queued on the RX ring; snd moves past it. */
void h_conn_send(struct h_conn *c, uint8_t flags, const void *data, uint16_t len, uint16_t mss);
/* Recompute the TCP checksum of a frame built above. */
void h_fix_tcp_cksum(uint8_t *b);
/* A frame the worker sent, as TCP: 0 if it is a well-formed IPv4/TCP
 * frame from our MAC and address with both checksums right (t filled in,
 * opts and data pointing into f), -1 if not. */
int h_parse_tcp(const struct h_frame *f, struct h_tcp *t);
/* Recompute the IPv4 header checksum of a frame built above. */
void h_fix_ip_cksum(uint8_t *b);
void h_fix_icmp_cksum(uint8_t *b);

uint64_t h_drop(enum pc_drop why);
uint64_t h_drops_total(void);

#endif
