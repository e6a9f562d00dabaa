/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the whole input path (Ethernet, ARP, IPv4, ICMP) through the worker
 * loop on a ring-backed port. An input is a sequence of frames, each
 * preceded by a 2-byte big-endian length; a length of 0 advances the clock
 * past the ARP retry and expiry times instead. With the length's top bit
 * set, two bytes f and r follow it and the frame comes as an mbuf chain
 * (a scattering or LRO device): f * 7 bytes in the first mbuf, 64 + r * 7
 * in each of the others. Everything the worker sends must be a
 * well-formed frame from us, and no mbuf may be lost.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_ip.h>

#include "harness.h"

#define MAX_FRAME 2000
#define MAX_CHAIN_FRAME 9018 /* a jumbo frame, or what LRO merged */

static uint64_t fake_now;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (h_init() != 0)
		abort();
	return 0;
}

/* What the worker emits must be ours and well-formed. */
static void check_sent(void)
{
	struct h_frame f;

	while (h_take(&f)) {
		const struct rte_ether_hdr *eh = (const struct rte_ether_hdr *)f.b;

		if (f.len < sizeof(*eh) || !rte_is_same_ether_addr(&eh->src_addr, &h_mac))
			abort();
		uint16_t type = rte_be_to_cpu_16(eh->ether_type);

		if (type == RTE_ETHER_TYPE_ARP) {
			if (f.len != sizeof(*eh) + sizeof(struct rte_arp_hdr))
				abort();
			continue;
		}
		if (type != RTE_ETHER_TYPE_IPV4)
			abort();
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eh + 1);

		if (f.len < sizeof(*eh) + sizeof(*ip) || ip->version_ihl != 0x45 ||
		    rte_raw_cksum(ip, sizeof(*ip)) != 0xffff ||
		    rte_be_to_cpu_16(ip->total_length) != f.len - sizeof(*eh) ||
		    ip->src_addr != h_ifc.addr)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fake_now == 0)
		fake_now = rte_rdtsc();
	while (size >= 2) {
		size_t len = (size_t)(data[0] & 0x7f) << 8 | data[1];
		bool chain = data[0] & 0x80;
		uint32_t first = 0, rest = 0;

		data += 2;
		size -= 2;
		if (chain) {
			if (size < 2)
				break;
			first = data[0] * 7u;
			rest = 64 + data[1] * 7u;
			data += 2;
			size -= 2;
		}
		if (len == 0) {
			fake_now += 2 * rte_get_tsc_hz() + h_ifc.arp_timeout;
			pc_arp_tick(h_lc, fake_now);
			continue;
		}
		if (len > size)
			len = size;
		if (len > (chain ? MAX_CHAIN_FRAME : MAX_FRAME))
			len = chain ? MAX_CHAIN_FRAME : MAX_FRAME;
		if (chain) {
			/* Processed at once: long chains must not drain the pool. */
			h_inject_chain(data, (uint32_t)len, first, rest);
			h_run();
		} else {
			h_inject(data, (uint16_t)len);
		}
		data += len;
		size -= len;
	}
	h_run();
	check_sent();
	/* Drop the ARP cache now and then so it cannot hold the pool. */
	h_reset();
	if (!h_pool_full())
		abort();
	return 0;
}
