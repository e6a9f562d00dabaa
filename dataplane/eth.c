/* SPDX-License-Identifier: MIT */
/* Ethernet input/output and the TX buffer of a worker. */
#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "dp.h"

void pc_eth_input(struct pc_lcore *lc, struct rte_mbuf *m)
{
	/* A frame may come in several mbufs (scatter, LRO): headers are read
	 * from the first, the TCP payload is copied out across all of them. */
	if (unlikely(rte_pktmbuf_data_len(m) < sizeof(struct rte_ether_hdr))) {
		pc_drop(lc, m, rte_pktmbuf_pkt_len(m) < sizeof(struct rte_ether_hdr)
				       ? PC_DROP_eth_short
				       : PC_DROP_eth_multiseg);
		return;
	}
	if (unlikely(m->nb_segs > 1))
		lc->cnt.rx_multiseg++;
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	bool bcast = false;

	if (unlikely(!rte_is_same_ether_addr(&eh->dst_addr, &lc->ifc->mac))) {
		if (rte_is_broadcast_ether_addr(&eh->dst_addr)) {
			bcast = true;
		} else if (rte_is_multicast_ether_addr(&eh->dst_addr)) {
			pc_drop(lc, m, PC_DROP_eth_multicast);
			return;
		} else {
			pc_drop(lc, m, PC_DROP_eth_not_for_us);
			return;
		}
	}
	if (unlikely(rte_is_multicast_ether_addr(&eh->src_addr) ||
		     rte_is_zero_ether_addr(&eh->src_addr))) {
		pc_drop(lc, m, PC_DROP_eth_bad_src);
		return;
	}
	uint16_t type = rte_be_to_cpu_16(eh->ether_type);

	m->l2_len = sizeof(*eh);
	if (unlikely(bcast) && type != RTE_ETHER_TYPE_ARP) {
		pc_drop(lc, m, PC_DROP_eth_bcast_non_arp);
		return;
	}
	switch (type) {
	case RTE_ETHER_TYPE_IPV4:
		rte_pktmbuf_adj(m, sizeof(*eh));
		pc_ipv4_input(lc, m);
		return;
	case RTE_ETHER_TYPE_ARP:
		rte_pktmbuf_adj(m, sizeof(*eh));
		pc_arp_input(lc, m);
		return;
	case RTE_ETHER_TYPE_VLAN:
	case RTE_ETHER_TYPE_QINQ:
		pc_drop(lc, m, PC_DROP_eth_vlan);
		return;
	case RTE_ETHER_TYPE_IPV6:
		pc_drop(lc, m, PC_DROP_eth_ipv6);
		return;
	default:
		pc_drop(lc, m, PC_DROP_eth_unknown_type);
		return;
	}
}

void pc_tx_flush(struct pc_lcore *lc)
{
	uint16_t n = lc->tx_n;

	if (n == 0)
		return;
	uint64_t t0 = rte_rdtsc();
	uint16_t sent = rte_eth_tx_burst(lc->port, lc->queue, lc->tx, n);

	lc->pass_tx_cycles += rte_rdtsc() - t0;
	lc->cnt.tx_bursts++;
	lc->cnt.tx_packets += sent;
	for (uint16_t i = 0; i < sent; i++)
		lc->cnt.tx_bytes += rte_pktmbuf_pkt_len(lc->tx[i]);
	if (unlikely(sent < n)) {
		lc->cnt.drop[PC_DROP_tx_full] += n - sent;
		rte_pktmbuf_free_bulk(&lc->tx[sent], n - sent);
	}
	lc->tx_n = 0;
}

void pc_eth_output(struct pc_lcore *lc, struct rte_mbuf *m,
		   const struct rte_ether_addr *dst, uint16_t ether_type)
{
	struct rte_ether_hdr *eh =
		(struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eh));

	if (unlikely(eh == NULL)) {
		/* Our own packets always leave headroom; a foreign mbuf
		 * without it is a bug, but must not crash the worker. */
		pc_drop(lc, m, PC_DROP_no_mbuf);
		return;
	}
	rte_ether_addr_copy(dst, &eh->dst_addr);
	rte_ether_addr_copy(&lc->ifc->mac, &eh->src_addr);
	eh->ether_type = rte_cpu_to_be_16(ether_type);

	if (lc->tx_n == PC_BURST)
		pc_tx_flush(lc);
	if (lc->tx_n == 0)
		lc->tx_oldest = rte_rdtsc();
	lc->tx[lc->tx_n++] = m;
}
