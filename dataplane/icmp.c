/* SPDX-License-Identifier: MIT */
/* ICMP (RFC 792): echo reply; everything else is counted and dropped. */
#include <rte_icmp.h>
#include <rte_ip.h>

#include "dp.h"

void pc_icmp_input(struct pc_lcore *lc, struct rte_mbuf *m, uint16_t iphl)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint16_t len = rte_be_to_cpu_16(ip->total_length) - iphl;

	if (unlikely(len < sizeof(struct rte_icmp_hdr))) {
		pc_drop(lc, m, PC_DROP_icmp_short);
		return;
	}
	/* Answered in place, in one piece: a jumbo echo request that the
	 * device scattered over several mbufs is not. */
	if (unlikely(m->nb_segs > 1)) {
		pc_drop(lc, m, PC_DROP_eth_multiseg);
		return;
	}
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)((uint8_t *)ip + iphl);

	if (unlikely(rte_raw_cksum(icmp, len) != 0xffff)) {
		pc_drop(lc, m, PC_DROP_icmp_bad_checksum);
		return;
	}
	if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0) {
		pc_drop(lc, m, PC_DROP_icmp_unhandled);
		return;
	}

	/* Echo reply in place. Options of the request are not reflected
	 * (RFC 1122 3.2.2.6 allows it for all but route recording, which
	 * we do not do): the header is moved up over them. */
	if (iphl > sizeof(*ip)) {
		uint16_t optlen = iphl - sizeof(*ip);

		memmove((uint8_t *)ip + optlen, ip, sizeof(*ip));
		ip = (struct rte_ipv4_hdr *)rte_pktmbuf_adj(m, optlen);
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + len);
	}
	uint32_t peer = ip->src_addr;

	ip->src_addr = lc->ifc->addr;
	ip->dst_addr = peer;
	ip->time_to_live = lc->ifc->ttl;
	ip->fragment_offset = 0;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);

	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = ~rte_raw_cksum(icmp, len);
	lc->cnt.icmp_echo_replies++;
	pc_ipv4_output(lc, m);
}
