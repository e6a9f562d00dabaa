/* SPDX-License-Identifier: MIT */
/*
 * The Ethernet/ARP/IPv4/ICMP input path, driven through the real worker
 * loop on a ring-backed port: crafted good and malformed frames, what the
 * worker sends back, and which drop counter moves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_ring_elem.h>

#include "harness.h"

#define ETH_LEN sizeof(struct rte_ether_hdr)

static struct rte_ether_hdr *eth_of(uint8_t *b)
{
	return (struct rte_ether_hdr *)b;
}

static struct rte_ipv4_hdr *ip_of(uint8_t *b)
{
	return (struct rte_ipv4_hdr *)(b + ETH_LEN);
}

static struct rte_icmp_hdr *icmp_of(uint8_t *b)
{
	struct rte_ipv4_hdr *ip = ip_of(b);

	return (struct rte_icmp_hdr *)((uint8_t *)ip + (ip->version_ihl & 0xf) * 4);
}

static int setup(void **state)
{
	(void)state;
	h_reset();
	return 0;
}

/* Every test leaves no mbuf behind. */
static int teardown(void **state)
{
	(void)state;
	h_reset();
	assert_true(h_pool_full());
	return 0;
}

/* Learn the peer through an ARP request, as a real client would first. */
static void learn_peer(uint32_t ip, const struct rte_ether_addr *mac)
{
	uint8_t b[64];
	struct h_frame f;
	static const struct rte_ether_addr bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

	h_inject(b, h_build_arp(b, RTE_ARP_OP_REQUEST, mac, ip, H_ADDR, &bcast));
	h_run();
	assert_int_equal(h_take(&f), 1); /* our reply */
}

/* Check an echo reply to request req (as built by h_build_echo). */
static void check_echo_reply(const struct h_frame *f, uint8_t *req, uint16_t req_len)
{
	uint8_t *b = (uint8_t *)f->b;
	struct rte_ipv4_hdr *rip = ip_of(req), *ip = ip_of(b);
	struct rte_icmp_hdr *ricmp = icmp_of(req), *icmp = icmp_of(b);
	uint16_t req_hl = (rip->version_ihl & 0xf) * 4;
	uint16_t icmp_len = rte_be_to_cpu_16(rip->total_length) - req_hl;

	assert_memory_equal(&eth_of(b)->dst_addr, &eth_of(req)->src_addr, 6);
	assert_memory_equal(&eth_of(b)->src_addr, &h_mac, 6);
	assert_int_equal(rte_be_to_cpu_16(eth_of(b)->ether_type), RTE_ETHER_TYPE_IPV4);
	assert_int_equal(ip->version_ihl, 0x45);
	assert_int_equal(ip->src_addr, rip->dst_addr);
	assert_int_equal(ip->dst_addr, rip->src_addr);
	assert_int_equal(ip->time_to_live, 64);
	assert_int_equal(rte_be_to_cpu_16(ip->total_length), 20 + icmp_len);
	assert_int_equal(f->len, ETH_LEN + 20 + icmp_len);
	assert_int_equal(rte_raw_cksum(ip, 20), 0xffff);
	assert_int_equal(icmp->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	assert_int_equal(icmp->icmp_code, 0);
	assert_int_equal(icmp->icmp_ident, ricmp->icmp_ident);
	assert_int_equal(icmp->icmp_seq_nb, ricmp->icmp_seq_nb);
	assert_int_equal(rte_raw_cksum(icmp, icmp_len), 0xffff);
	assert_memory_equal(icmp + 1, ricmp + 1, icmp_len - sizeof(*icmp));
	(void)req_len;
}

static void test_echo_reply(void **state)
{
	uint8_t b[2048];
	struct h_frame f;
	static const uint16_t sizes[] = {0, 1, 56, 1000, 1472};

	(void)state;
	learn_peer(H_PEER, &h_peer_mac);
	for (size_t i = 0; i < RTE_DIM(sizes); i++) {
		uint16_t len = h_build_echo(b, H_PEER, H_ADDR, NULL, 0, sizes[i]);

		h_inject(b, len);
		h_run();
		assert_int_equal(h_take(&f), 1);
		check_echo_reply(&f, b, len);
	}
	assert_int_equal(h_lc->cnt.icmp_echo_replies, RTE_DIM(sizes));
	assert_int_equal(h_lc->cnt.arp_requests_sent, 0);
	assert_int_equal(h_drops_total(), 0);
}

/* The cycles inside rte_eth_rx_burst/tx_burst are a part of a busy pass's
 * cycles, counted apart; empty passes add nothing to them. */
static void test_driver_cycles(void **state)
{
	uint8_t b[128];
	struct h_frame f;
	const struct pc_counters *c = &h_lc->cnt;

	(void)state;
	learn_peer(H_PEER, &h_peer_mac);
	h_inject(b, h_build_echo(b, H_PEER, H_ADDR, NULL, 0, 56));
	h_run();
	assert_int_equal(h_take(&f), 1);
	assert_true(c->rx_burst_cycles > 0);
	assert_true(c->tx_burst_cycles > 0);
	assert_true(c->rx_burst_cycles + c->tx_burst_cycles < c->busy_cycles);

	uint64_t busy = c->busy_cycles, rx = c->rx_burst_cycles, tx = c->tx_burst_cycles;
	uint64_t idle = c->idle_cycles;

	for (int i = 0; i < 100; i++)
		assert_int_equal(pc_dp_worker_poll(), 0);
	assert_int_equal(c->busy_cycles, busy);
	assert_int_equal(c->rx_burst_cycles, rx);
	assert_int_equal(c->tx_burst_cycles, tx);
	assert_true(c->idle_cycles > idle);
}

/* Ethernet pads to 60 bytes: the reply must not carry the padding. */
static void test_echo_padded(void **state)
{
	uint8_t b[128] = {0};
	struct h_frame f;

	(void)state;
	learn_peer(H_PEER, &h_peer_mac);
	uint16_t len = h_build_echo(b, H_PEER, H_ADDR, NULL, 0, 4);

	assert_true(len < 60);
	h_inject(b, 60);
	h_run();
	assert_int_equal(h_take(&f), 1);
	check_echo_reply(&f, b, len);
}

/* Options are accepted, counted, and not reflected. */
static void test_echo_with_options(void **state)
{
	uint8_t b[256];
	struct h_frame f;
	/* NOP, timestamp-ish unknown option 68 of 8 bytes, NOP x2, EOL pad */
	static const uint8_t opts[] = {1, 68, 8, 5, 0, 0, 0, 0, 1, 1, 0, 0};

	(void)state;
	learn_peer(H_PEER, &h_peer_mac);
	uint16_t len = h_build_echo(b, H_PEER, H_ADDR, opts, sizeof(opts), 32);

	h_inject(b, len);
	h_run();
	assert_int_equal(h_take(&f), 1);
	check_echo_reply(&f, b, len);
	assert_int_equal(h_lc->cnt.ipv4_with_options, 1);
}

/* A frame mutated from a good echo request, and the drop it must cause. */
struct drop_case {
	const char *name;
	void (*mutate)(uint8_t *b, uint16_t *len);
	enum pc_drop expect;
};

static void m_short_eth(uint8_t *b, uint16_t *len) { (void)b; *len = 13; }
static void m_other_mac(uint8_t *b, uint16_t *len)
{
	(void)len;
	eth_of(b)->dst_addr.addr_bytes[5] ^= 0x10;
}
static void m_multicast(uint8_t *b, uint16_t *len)
{
	static const struct rte_ether_addr mc = {{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};

	(void)len;
	eth_of(b)->dst_addr = mc;
}
static void m_bcast_ip(uint8_t *b, uint16_t *len)
{
	(void)len;
	memset(&eth_of(b)->dst_addr, 0xff, 6);
}
static void m_src_mcast(uint8_t *b, uint16_t *len)
{
	(void)len;
	eth_of(b)->src_addr.addr_bytes[0] |= 1;
}
static void m_src_zero(uint8_t *b, uint16_t *len)
{
	(void)len;
	memset(&eth_of(b)->src_addr, 0, 6);
}
static void m_vlan(uint8_t *b, uint16_t *len)
{
	(void)len;
	eth_of(b)->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
}
static void m_ipv6(uint8_t *b, uint16_t *len)
{
	(void)len;
	eth_of(b)->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
}
static void m_unknown_type(uint8_t *b, uint16_t *len)
{
	(void)len;
	eth_of(b)->ether_type = rte_cpu_to_be_16(0x88b5);
}
static void m_ip_short(uint8_t *b, uint16_t *len) { (void)b; *len = ETH_LEN + 19; }
static void m_ip_version(uint8_t *b, uint16_t *len)
{
	(void)len;
	ip_of(b)->version_ihl = 0x65;
	h_fix_ip_cksum(b);
}
static void m_ihl_small(uint8_t *b, uint16_t *len)
{
	(void)len;
	ip_of(b)->version_ihl = 0x44;
}
static void m_ihl_beyond(uint8_t *b, uint16_t *len)
{
	ip_of(b)->version_ihl = 0x4f;
	*len = ETH_LEN + 40;
}
static void m_total_long(uint8_t *b, uint16_t *len)
{
	ip_of(b)->total_length = rte_cpu_to_be_16(*len - ETH_LEN + 1);
	h_fix_ip_cksum(b);
}
static void m_total_small(uint8_t *b, uint16_t *len)
{
	(void)len;
	ip_of(b)->total_length = rte_cpu_to_be_16(19);
	h_fix_ip_cksum(b);
}
static void m_ip_cksum(uint8_t *b, uint16_t *len)
{
	(void)len;
	ip_of(b)->hdr_checksum ^= 0x0100;
}
static void m_frag_mf(uint8_t *b, uint16_t *len)
{
	(void)len;
	ip_of(b)->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
	h_fix_ip_cksum(b);
}
static void m_frag_off(uint8_t *b, uint16_t *len)
{
	(void)len;
	ip_of(b)->fragment_offset = rte_cpu_to_be_16(185);
	h_fix_ip_cksum(b);
}
static void m_src_loopback(uint8_t *b, uint16_t *len)
{
	(void)len;
	ip_of(b)->src_addr = rte_cpu_to_be_32(H_IP4(127, 0, 0, 1));
	h_fix_ip_cksum(b);
}
static void m_src_zero_ip(uint8_t *b, uint16_t *len)
{
	(void)len;
	ip_of(b)->src_addr = 0;
	h_fix_ip_cksum(b);
}
static void m_src_ours(uint8_t *b, uint16_t *len)
{
	(void)len;
	ip_of(b)->src_addr = rte_cpu_to_be_32(H_ADDR);
	h_fix_ip_cksum(b);
}
static void m_src_subnet_bcast(uint8_t *b, uint16_t *len)
{
	(void)len;
	ip_of(b)->src_addr = rte_cpu_to_be_32(H_IP4(198, 18, 0, 255));
	h_fix_ip_cksum(b);
}
static void m_src_mcast_ip(uint8_t *b, uint16_t *len)
{
	(void)len;
	ip_of(b)->src_addr = rte_cpu_to_be_32(H_IP4(224, 0, 0, 1));
	h_fix_ip_cksum(b);
}
static void m_dst_other(uint8_t *b, uint16_t *len)
{
	(void)len;
	ip_of(b)->dst_addr = rte_cpu_to_be_32(H_IP4(198, 18, 0, 9));
	h_fix_ip_cksum(b);
}
static void m_dst_bcast(uint8_t *b, uint16_t *len)
{
	(void)len;
	ip_of(b)->dst_addr = rte_cpu_to_be_32(H_IP4(198, 18, 0, 255));
	h_fix_ip_cksum(b);
}
static void m_dst_mcast(uint8_t *b, uint16_t *len)
{
	(void)len;
	ip_of(b)->dst_addr = rte_cpu_to_be_32(H_IP4(239, 1, 2, 3));
	h_fix_ip_cksum(b);
}
static void m_udp(uint8_t *b, uint16_t *len)
{
	(void)len;
	ip_of(b)->next_proto_id = IPPROTO_UDP;
	h_fix_ip_cksum(b);
}
static void m_icmp_short(uint8_t *b, uint16_t *len)
{
	ip_of(b)->total_length = rte_cpu_to_be_16(20 + 4);
	h_fix_ip_cksum(b);
	*len = ETH_LEN + 24;
}
static void m_icmp_cksum(uint8_t *b, uint16_t *len)
{
	(void)len;
	icmp_of(b)->icmp_cksum ^= 0x0001;
}
static void m_icmp_type(uint8_t *b, uint16_t *len)
{
	(void)len;
	icmp_of(b)->icmp_type = 13; /* timestamp request */
	h_fix_icmp_cksum(b);
}
static void m_icmp_code(uint8_t *b, uint16_t *len)
{
	(void)len;
	icmp_of(b)->icmp_code = 1;
	h_fix_icmp_cksum(b);
}

/* Options: rebuild the frame with the given option bytes. */
static void with_opts(uint8_t *b, uint16_t *len, const uint8_t *o, uint8_t n)
{
	*len = h_build_echo(b, H_PEER, H_ADDR, o, n, 16);
}
static void m_opt_zero_len(uint8_t *b, uint16_t *len)
{
	static const uint8_t o[] = {68, 0, 0, 0};

	with_opts(b, len, o, sizeof(o));
}
static void m_opt_overrun(uint8_t *b, uint16_t *len)
{
	static const uint8_t o[] = {1, 1, 68, 12};

	with_opts(b, len, o, sizeof(o));
}
static void m_opt_truncated(uint8_t *b, uint16_t *len)
{
	static const uint8_t o[] = {1, 1, 1, 68};

	with_opts(b, len, o, sizeof(o));
}
static void m_opt_lsrr(uint8_t *b, uint16_t *len)
{
	static const uint8_t o[] = {131, 7, 4, 198, 18, 0, 2, 0};

	with_opts(b, len, o, sizeof(o));
}
static void m_opt_ssrr(uint8_t *b, uint16_t *len)
{
	static const uint8_t o[] = {137, 7, 4, 198, 18, 0, 2, 0};

	with_opts(b, len, o, sizeof(o));
}

static const struct drop_case drop_cases[] = {
	{"short ethernet", m_short_eth, PC_DROP_eth_short},
	{"other unicast MAC", m_other_mac, PC_DROP_eth_not_for_us},
	{"multicast MAC", m_multicast, PC_DROP_eth_multicast},
	{"broadcast IPv4 frame", m_bcast_ip, PC_DROP_eth_bcast_non_arp},
	{"multicast source MAC", m_src_mcast, PC_DROP_eth_bad_src},
	{"zero source MAC", m_src_zero, PC_DROP_eth_bad_src},
	{"VLAN tag", m_vlan, PC_DROP_eth_vlan},
	{"IPv6", m_ipv6, PC_DROP_eth_ipv6},
	{"unknown EtherType", m_unknown_type, PC_DROP_eth_unknown_type},
	{"IPv4 shorter than header", m_ip_short, PC_DROP_ipv4_short},
	{"IP version 6", m_ip_version, PC_DROP_ipv4_bad_version},
	{"IHL below 5", m_ihl_small, PC_DROP_ipv4_bad_ihl},
	{"IHL beyond packet", m_ihl_beyond, PC_DROP_ipv4_bad_ihl},
	{"total length beyond frame", m_total_long, PC_DROP_ipv4_bad_length},
	{"total length below header", m_total_small, PC_DROP_ipv4_bad_length},
	{"bad header checksum", m_ip_cksum, PC_DROP_ipv4_bad_checksum},
	{"more-fragments flag", m_frag_mf, PC_DROP_ipv4_fragment},
	{"fragment offset", m_frag_off, PC_DROP_ipv4_fragment},
	{"loopback source", m_src_loopback, PC_DROP_ipv4_bad_src},
	{"zero source", m_src_zero_ip, PC_DROP_ipv4_bad_src},
	{"our own source", m_src_ours, PC_DROP_ipv4_bad_src},
	{"subnet broadcast source", m_src_subnet_bcast, PC_DROP_ipv4_bad_src},
	{"multicast source", m_src_mcast_ip, PC_DROP_ipv4_bad_src},
	{"other destination", m_dst_other, PC_DROP_ipv4_not_for_us},
	{"subnet broadcast destination", m_dst_bcast, PC_DROP_ipv4_bcast_mcast},
	{"multicast destination", m_dst_mcast, PC_DROP_ipv4_bcast_mcast},
	{"UDP", m_udp, PC_DROP_ipv4_unhandled_proto},
	{"option with length 0", m_opt_zero_len, PC_DROP_ipv4_bad_options},
	{"option past the header", m_opt_overrun, PC_DROP_ipv4_bad_options},
	{"option cut after its type", m_opt_truncated, PC_DROP_ipv4_bad_options},
	{"loose source route", m_opt_lsrr, PC_DROP_ipv4_source_route},
	{"strict source route", m_opt_ssrr, PC_DROP_ipv4_source_route},
	{"ICMP shorter than header", m_icmp_short, PC_DROP_icmp_short},
	{"bad ICMP checksum", m_icmp_cksum, PC_DROP_icmp_bad_checksum},
	{"ICMP timestamp request", m_icmp_type, PC_DROP_icmp_unhandled},
	{"echo request with code 1", m_icmp_code, PC_DROP_icmp_unhandled},
};

static void test_drop_table(void **state)
{
	uint8_t b[2048];
	struct h_frame f;

	(void)state;
	learn_peer(H_PEER, &h_peer_mac);
	for (size_t i = 0; i < RTE_DIM(drop_cases); i++) {
		const struct drop_case *c = &drop_cases[i];
		uint16_t len = h_build_echo(b, H_PEER, H_ADDR, NULL, 0, 56);
		uint64_t before = h_drop(c->expect), total = h_drops_total();

		c->mutate(b, &len);
		h_inject(b, len);
		h_run();
		if (h_drop(c->expect) != before + 1 || h_drops_total() != total + 1)
			fail_msg("case '%s': expected one %s drop", c->name,
				 pc_drop_names[c->expect]);
		if (h_take(&f))
			fail_msg("case '%s': something was sent", c->name);
		/* The worker still answers a good request afterwards. */
		len = h_build_echo(b, H_PEER, H_ADDR, NULL, 0, 56);
		h_inject(b, len);
		h_run();
		if (!h_take(&f))
			fail_msg("case '%s': no reply to the good request after it", c->name);
	}
}

static void test_arp_reply(void **state)
{
	uint8_t b[64];
	struct h_frame f;
	static const struct rte_ether_addr bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

	(void)state;
	h_inject(b, h_build_arp(b, RTE_ARP_OP_REQUEST, &h_peer_mac, H_PEER, H_ADDR, &bcast));
	h_run();
	assert_int_equal(h_take(&f), 1);
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(f.b + ETH_LEN);

	assert_int_equal(f.len, ETH_LEN + sizeof(*a));
	assert_memory_equal(&eth_of(f.b)->dst_addr, &h_peer_mac, 6);
	assert_memory_equal(&eth_of(f.b)->src_addr, &h_mac, 6);
	assert_int_equal(rte_be_to_cpu_16(eth_of(f.b)->ether_type), RTE_ETHER_TYPE_ARP);
	assert_int_equal(rte_be_to_cpu_16(a->arp_opcode), RTE_ARP_OP_REPLY);
	assert_memory_equal(&a->arp_data.arp_sha, &h_mac, 6);
	assert_int_equal(a->arp_data.arp_sip, rte_cpu_to_be_32(H_ADDR));
	assert_memory_equal(&a->arp_data.arp_tha, &h_peer_mac, 6);
	assert_int_equal(a->arp_data.arp_tip, rte_cpu_to_be_32(H_PEER));

	/* The requester was learned: an echo reply goes out without asking. */
	uint8_t e[256];
	uint16_t len = h_build_echo(e, H_PEER, H_ADDR, NULL, 0, 8);

	h_inject(e, len);
	h_run();
	assert_int_equal(h_take(&f), 1);
	check_echo_reply(&f, e, len);
	assert_int_equal(h_lc->cnt.arp_requests_sent, 0);

	/* An address probe (sender 0.0.0.0) is answered, nothing learned. */
	static const struct rte_ether_addr other = {{0x02, 0, 0, 0, 0, 0x33}};

	h_inject(b, h_build_arp(b, RTE_ARP_OP_REQUEST, &other, 0, H_ADDR, &bcast));
	h_run();
	assert_int_equal(h_take(&f), 1);
	assert_memory_equal(&eth_of(f.b)->dst_addr, &other, 6);
}

struct arp_case {
	const char *name;
	void (*mutate)(uint8_t *b);
	enum pc_drop expect;
};

static struct rte_arp_hdr *arp_of(uint8_t *b)
{
	return (struct rte_arp_hdr *)(b + ETH_LEN);
}
static void a_hw(uint8_t *b) { arp_of(b)->arp_hardware = rte_cpu_to_be_16(6); }
static void a_proto(uint8_t *b) { arp_of(b)->arp_protocol = rte_cpu_to_be_16(0x86dd); }
static void a_hlen(uint8_t *b) { arp_of(b)->arp_hlen = 8; }
static void a_plen(uint8_t *b) { arp_of(b)->arp_plen = 16; }
static void a_op(uint8_t *b) { arp_of(b)->arp_opcode = rte_cpu_to_be_16(3); }
static void a_sha_mcast(uint8_t *b) { arp_of(b)->arp_data.arp_sha.addr_bytes[0] = 1; }
static void a_sip_ours(uint8_t *b) { arp_of(b)->arp_data.arp_sip = rte_cpu_to_be_32(H_ADDR); }
static void a_sip_bcast(uint8_t *b)
{
	arp_of(b)->arp_data.arp_sip = rte_cpu_to_be_32(H_IP4(198, 18, 0, 255));
}
static void a_tip_other(uint8_t *b)
{
	arp_of(b)->arp_data.arp_tip = rte_cpu_to_be_32(H_IP4(198, 18, 0, 3));
}

static const struct arp_case arp_cases[] = {
	{"hardware type", a_hw, PC_DROP_arp_bad_format},
	{"protocol type", a_proto, PC_DROP_arp_bad_format},
	{"hardware length", a_hlen, PC_DROP_arp_bad_format},
	{"protocol length", a_plen, PC_DROP_arp_bad_format},
	{"opcode 3", a_op, PC_DROP_arp_bad_op},
	{"multicast sender MAC", a_sha_mcast, PC_DROP_arp_bad_sender},
	{"sender claims our IP", a_sip_ours, PC_DROP_arp_bad_sender},
	{"sender is subnet broadcast", a_sip_bcast, PC_DROP_arp_bad_sender},
	{"target is another host", a_tip_other, PC_DROP_arp_not_for_us},
};

static void test_arp_drop_table(void **state)
{
	uint8_t b[64];
	struct h_frame f;
	static const struct rte_ether_addr bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

	(void)state;
	for (size_t i = 0; i < RTE_DIM(arp_cases); i++) {
		const struct arp_case *c = &arp_cases[i];
		uint64_t before = h_drop(c->expect);

		h_build_arp(b, RTE_ARP_OP_REQUEST, &h_peer_mac, H_PEER, H_ADDR, &bcast);
		c->mutate(b);
		h_inject(b, 60);
		h_run();
		if (h_drop(c->expect) != before + 1)
			fail_msg("case '%s': expected a %s drop", c->name,
				 pc_drop_names[c->expect]);
		if (h_take(&f))
			fail_msg("case '%s': something was sent", c->name);
	}
	/* Too short for an ARP header. */
	h_build_arp(b, RTE_ARP_OP_REQUEST, &h_peer_mac, H_PEER, H_ADDR, &bcast);
	h_inject(b, ETH_LEN + 20);
	h_run();
	assert_int_equal(h_drop(PC_DROP_arp_short), 1);
	/* Nothing poisoned the cache: our address still answers. */
	learn_peer(H_PEER, &h_peer_mac);
}

/* A request from an unknown neighbour (no ARP first): the reply waits for
 * our ARP request to be answered, then leaves to the MAC learned. */
static void test_arp_resolve(void **state)
{
	uint8_t b[256], a[64];
	struct h_frame f;
	static const struct rte_ether_addr stranger = {{0x02, 0, 0, 0, 0, 0x44}};
	const uint32_t ip = H_IP4(198, 18, 0, 12);

	(void)state;
	uint16_t len = h_build_echo(b, ip, H_ADDR, NULL, 0, 20);

	eth_of(b)->src_addr = stranger;
	h_inject(b, len);
	h_run();
	assert_int_equal(h_take(&f), 1);
	struct rte_arp_hdr *req = (struct rte_arp_hdr *)(f.b + ETH_LEN);

	assert_true(rte_is_broadcast_ether_addr(&eth_of(f.b)->dst_addr));
	assert_int_equal(rte_be_to_cpu_16(req->arp_opcode), RTE_ARP_OP_REQUEST);
	assert_int_equal(req->arp_data.arp_tip, rte_cpu_to_be_32(ip));
	assert_int_equal(req->arp_data.arp_sip, rte_cpu_to_be_32(H_ADDR));
	assert_int_equal(h_take(&f), 0);

	h_inject(a, h_build_arp(a, RTE_ARP_OP_REPLY, &stranger, ip, H_ADDR, &h_mac));
	h_run();
	assert_int_equal(h_take(&f), 1);
	check_echo_reply(&f, b, len);
	assert_int_equal(h_drops_total(), 0);
}

/* Unanswered: retried every second, then given up and counted. */
static void test_arp_unresolved(void **state)
{
	uint8_t b[256];
	struct h_frame f;
	uint64_t hz = rte_get_tsc_hz(), now = rte_rdtsc();

	(void)state;
	uint16_t len = h_build_echo(b, H_IP4(198, 18, 0, 13), H_ADDR, NULL, 0, 20);

	for (int i = 0; i <= PC_ARP_PENDING; i++)
		h_inject(b, len); /* one more than can wait: the oldest goes */
	h_run();
	assert_int_equal(h_lc->cnt.arp_requests_sent, 1);
	assert_int_equal(h_drop(PC_DROP_arp_pending_replaced), 1);
	for (int i = 1; i <= PC_ARP_RETRIES; i++)
		pc_arp_tick(h_lc, now + (uint64_t)i * 2 * hz);
	pc_tx_flush(h_lc);
	assert_int_equal(h_lc->cnt.arp_requests_sent, PC_ARP_RETRIES);
	assert_int_equal(h_drop(PC_DROP_arp_unresolved), PC_ARP_PENDING);
	while (h_take(&f))
		assert_int_equal(rte_be_to_cpu_16(eth_of(f.b)->ether_type), RTE_ETHER_TYPE_ARP);
}

/* A stale neighbour is still used while a request refreshes it; with no
 * answer for another timeout it is forgotten. */
static void test_arp_stale(void **state)
{
	uint8_t b[256];
	struct h_frame f;
	uint64_t hz = rte_get_tsc_hz();

	(void)state;
	h_ifc.arp_timeout = hz / 1000; /* 1 ms */
	learn_peer(H_PEER, &h_peer_mac);
	rte_delay_ms(3);
	uint16_t len = h_build_echo(b, H_PEER, H_ADDR, NULL, 0, 20);

	h_inject(b, len);
	h_run();
	assert_int_equal(h_pending(), 2); /* refresh request and the reply */
	assert_int_equal(h_lc->cnt.arp_requests_sent, 1);
	while (h_take(&f))
		;
	pc_arp_tick(h_lc, rte_rdtsc() + 2 * hz);
	/* Forgotten: the next reply has to wait for ARP again. */
	h_inject(b, len);
	h_run();
	assert_int_equal(h_take(&f), 1);
	assert_int_equal(rte_be_to_cpu_16(eth_of(f.b)->ether_type), RTE_ETHER_TYPE_ARP);
	assert_int_equal(h_take(&f), 0);
}

/* Off-link destinations go through the gateway, or are dropped without. */
static void test_gateway(void **state)
{
	uint8_t b[256];
	struct h_frame f;
	const uint32_t far = H_IP4(198, 19, 0, 5);

	(void)state;
	uint16_t len = h_build_echo(b, far, H_ADDR, NULL, 0, 8);

	h_inject(b, len);
	h_run();
	assert_int_equal(h_drop(PC_DROP_ipv4_no_route), 1);
	assert_int_equal(h_take(&f), 0);

	h_ifc.gateway = rte_cpu_to_be_32(H_IP4(198, 18, 0, 254));
	h_inject(b, len);
	h_run();
	assert_int_equal(h_take(&f), 1);
	struct rte_arp_hdr *req = (struct rte_arp_hdr *)(f.b + ETH_LEN);

	assert_int_equal(req->arp_data.arp_tip, h_ifc.gateway);
}

/* ARP cache pressure: more neighbours than ways in a bucket evict the
 * oldest; the table never grows and nothing leaks. */
static void test_arp_eviction(void **state)
{
	uint8_t b[64];
	struct h_frame f;
	static const struct rte_ether_addr bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

	(void)state;
	for (uint32_t i = 2; i < 250; i++) {
		struct rte_ether_addr mac = {{0x02, 0, 0, 0, 1, (uint8_t)i}};

		h_inject(b, h_build_arp(b, RTE_ARP_OP_REQUEST, &mac, H_IP4(198, 18, 0, i),
					H_ADDR, &bcast));
		h_run();
		assert_int_equal(h_take(&f), 1);
	}
	assert_int_equal(h_drops_total(), 0);
}

/* Two workers: B asks for a neighbour, the reply lands on A (as RSS or
 * fanout may decide); A's notice lets B send what it was holding. */
static void test_arp_shared_between_workers(void **state)
{
	static const struct pc_idle_cfg idle = {.busy = true};
	static const struct rte_ether_addr stranger = {{0x02, 0, 0, 0, 0, 0x55}};
	const uint32_t ip = H_IP4(198, 18, 0, 12);
	struct rte_ring *ra = rte_ring_create_elem("h_inbox_a", sizeof(struct pc_arp_notice),
						   PC_ARP_INBOX, 0, RING_F_SC_DEQ);
	struct rte_ring *rb = rte_ring_create_elem("h_inbox_b", sizeof(struct pc_arp_notice),
						   PC_ARP_INBOX, 0, RING_F_SC_DEQ);
	struct pc_lcore *b = rte_zmalloc(NULL, sizeof(*b), RTE_CACHE_LINE_SIZE);
	uint8_t e[256], a[64];
	struct h_frame f;

	(void)state;
	assert_non_null(ra);
	assert_non_null(rb);
	assert_non_null(b);
	pc_lcore_init(b, h_lc->port, 0, h_lc->pool, &h_ifc, &idle);
	h_lc->arp_inbox = ra;
	b->arp_inbox = rb;
	pc_arp_inboxes[0] = ra;
	pc_arp_inboxes[1] = rb;
	pc_nb_arp_inboxes = 2;

	uint16_t len = h_build_echo(e, ip, H_ADDR, NULL, 0, 12);

	eth_of(e)->src_addr = stranger;
	pc_eth_input(b, h_mbuf(e, len));
	pc_tx_flush(b);
	assert_int_equal(h_take(&f), 1); /* B's ARP request */
	assert_int_equal(rte_be_to_cpu_16(eth_of(f.b)->ether_type), RTE_ETHER_TYPE_ARP);

	h_inject(a, h_build_arp(a, RTE_ARP_OP_REPLY, &stranger, ip, H_ADDR, &h_mac));
	h_run(); /* A learns it and tells B */
	assert_int_equal(h_take(&f), 0);
	pc_arp_drain_inbox(b);
	pc_tx_flush(b);
	assert_int_equal(h_take(&f), 1);
	check_echo_reply(&f, e, len);
	assert_int_equal(h_lc->cnt.arp_notices_lost, 0);

	/* A full inbox costs a counted notice, nothing else. */
	for (unsigned int i = 0; i < PC_ARP_INBOX; i++) {
		struct rte_ether_addr mac = {{0x02, 0, 0, 0, 2, (uint8_t)i}};

		h_inject(a, h_build_arp(a, RTE_ARP_OP_REQUEST, &mac, H_IP4(198, 18, 0, 100),
					H_ADDR, &h_mac));
		h_run();
		while (h_take(&f))
			;
	}
	assert_true(h_lc->cnt.arp_notices_lost >= 1);

	pc_nb_arp_inboxes = 0;
	h_lc->arp_inbox = NULL;
	pc_lcore_fini(b);
	while (h_take(&f))
		;
	rte_free(b);
	rte_ring_free(ra);
	rte_ring_free(rb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_echo_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_padded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_driver_cycles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_with_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arp_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arp_drop_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arp_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arp_unresolved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arp_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gateway, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arp_eviction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arp_shared_between_workers, setup, teardown),
	};

	if (h_init() != 0)
		return 1;
	int failed = cmocka_run_group_tests_name("dataplane", tests, NULL, NULL);

	h_fini();
	return failed;
}
