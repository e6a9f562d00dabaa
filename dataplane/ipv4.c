/* SPDX-License-Identifier: MIT */
/* IPv4 input (RFC 791, RFC 1122 host requirements) and output. */
#include <rte_ip.h>

#include "dp.h"

/* Walk the options (RFC 791 3.1). Returns 0, or the drop reason. */
static enum pc_drop ipv4_check_options(const uint8_t *opt, unsigned int len)
{
	unsigned int i = 0;

	while (i < len) {
		uint8_t type = opt[i];

		if (type == 0) /* end of option list */
			return 0;
		if (type == 1) { /* no-operation */
			i++;
			continue;
		}
		if (i + 1 >= len || opt[i + 1] < 2 || opt[i + 1] > len - i)
			return PC_DROP_ipv4_bad_options;
		/* Loose and strict source routes (131, 137) would make us
		 * answer along a path the sender chose: refused. */
		if (type == 131 || type == 137)
			return PC_DROP_ipv4_source_route;
		i += opt[i + 1];
	}
	return 0;
}

static inline bool ipv4_martian_src(const struct pc_iface *ifc, uint32_t src)
{
	uint32_t h = rte_be_to_cpu_32(src);

	return h == 0 || (h >> 24) == 127 || pc_ipv4_is_mcast(h) || h == 0xffffffff ||
	       src == ifc->addr ||
	       ((src & ifc->mask) == (ifc->addr & ifc->mask) &&
		(src & ~ifc->mask) == ~ifc->mask);
}

void pc_ipv4_input(struct pc_lcore *lc, struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	uint32_t first = rte_pktmbuf_data_len(m); /* the header must be here */

	if (unlikely(len < sizeof(struct rte_ipv4_hdr))) {
		pc_drop(lc, m, PC_DROP_ipv4_short);
		return;
	}
	if (unlikely(first < sizeof(struct rte_ipv4_hdr))) {
		pc_drop(lc, m, PC_DROP_eth_multiseg);
		return;
	}
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);

	if (unlikely((ip->version_ihl >> 4) != 4)) {
		pc_drop(lc, m, PC_DROP_ipv4_bad_version);
		return;
	}
	uint16_t hl = (ip->version_ihl & 0xf) * 4;

	if (unlikely(hl < sizeof(*ip) || hl > len)) {
		pc_drop(lc, m, PC_DROP_ipv4_bad_ihl);
		return;
	}
	if (unlikely(hl > first)) {
		pc_drop(lc, m, PC_DROP_eth_multiseg);
		return;
	}
	uint16_t total = rte_be_to_cpu_16(ip->total_length);

	if (unlikely(total < hl || total > len)) {
		pc_drop(lc, m, PC_DROP_ipv4_bad_length);
		return;
	}
	/* The device's verdict when it gave one (NONE: the header is intact,
	 * its checksum field is not final); checked here otherwise. */
	switch (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) {
	case RTE_MBUF_F_RX_IP_CKSUM_GOOD:
	case RTE_MBUF_F_RX_IP_CKSUM_NONE:
		break;
	case RTE_MBUF_F_RX_IP_CKSUM_BAD:
		pc_drop(lc, m, PC_DROP_ipv4_bad_checksum);
		return;
	default:
		if (unlikely(rte_raw_cksum(ip, hl) != 0xffff)) {
			pc_drop(lc, m, PC_DROP_ipv4_bad_checksum);
			return;
		}
		break;
	}
	if (unlikely(ip->dst_addr != lc->ifc->addr)) {
		uint32_t d = rte_be_to_cpu_32(ip->dst_addr);
		bool bcast = d == 0xffffffff || pc_ipv4_is_mcast(d) ||
			     (ip->dst_addr & ~lc->ifc->mask) == ~lc->ifc->mask;

		pc_drop(lc, m, bcast ? PC_DROP_ipv4_bcast_mcast : PC_DROP_ipv4_not_for_us);
		return;
	}
	if (unlikely(ipv4_martian_src(lc->ifc, ip->src_addr))) {
		pc_drop(lc, m, PC_DROP_ipv4_bad_src);
		return;
	}
	if (unlikely(ip->fragment_offset &
		     rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))) {
		pc_drop(lc, m, PC_DROP_ipv4_fragment);
		return;
	}
	if (unlikely(hl > sizeof(*ip))) {
		enum pc_drop why = ipv4_check_options((const uint8_t *)(ip + 1),
						      hl - sizeof(*ip));
		if (why != 0) {
			pc_drop(lc, m, why);
			return;
		}
		lc->cnt.ipv4_with_options++;
	}
	/* Ethernet pads short frames: the datagram ends at total_length.
	 * Padding lies in the last mbuf; a chain with more beyond the
	 * datagram than that is nothing a device delivers. */
	if (total < len && rte_pktmbuf_trim(m, len - total) != 0) {
		pc_drop(lc, m, PC_DROP_ipv4_bad_length);
		return;
	}
	m->l3_len = hl;

	switch (ip->next_proto_id) {
	case IPPROTO_ICMP:
		pc_icmp_input(lc, m, hl);
		return;
	case IPPROTO_TCP:
		pc_tcp_input(lc, m, hl);
		return;
	default:
		pc_drop(lc, m, PC_DROP_ipv4_unhandled_proto);
		return;
	}
}

void pc_ipv4_output(struct pc_lcore *lc, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	const struct pc_iface *ifc = lc->ifc;
	uint32_t nh = ip->dst_addr;

	if ((nh & ifc->mask) != (ifc->addr & ifc->mask)) {
		if (ifc->gateway == 0) {
			pc_drop(lc, m, PC_DROP_ipv4_no_route);
			return;
		}
		nh = ifc->gateway;
	}
	const struct rte_ether_addr *mac = pc_arp_resolve(lc, nh, m);

	if (mac != NULL)
		pc_eth_output(lc, m, mac, RTE_ETHER_TYPE_IPV4);
}
