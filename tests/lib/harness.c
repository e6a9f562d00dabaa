/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "harness.h"

#define H_POOL_SIZE 1023
#define H_RING_SIZE 1024

struct pc_lcore *h_lc;
struct pc_iface h_ifc;
const struct rte_ether_addr h_mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
const struct rte_ether_addr h_peer_mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};

struct pc_dp_config h_cfg;
struct pc_tcp_cfg h_tcp_defaults;

static struct rte_mempool *h_pool;
static struct rte_ring *h_rx, *h_tx;
static uint16_t h_port;

const char *h_lcores = "0";

int h_init(void)
{
	char lcores[64];
	char *argv[] = {"pc-test", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
			"--no-telemetry", lcores, "--log-level=*:error", NULL};
	int rc;

	snprintf(lcores, sizeof(lcores), "--lcores=%s", h_lcores);
	rc = rte_eal_init(RTE_DIM(argv) - 1, argv);

	if (rc < 0) {
		fprintf(stderr, "harness: EAL init failed\n");
		return -1;
	}
	h_pool = rte_pktmbuf_pool_create("h_pool", H_POOL_SIZE, 0, 0,
					 RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	h_rx = rte_ring_create("h_rx", H_RING_SIZE, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	h_tx = rte_ring_create("h_tx", H_RING_SIZE, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (h_pool == NULL || h_rx == NULL || h_tx == NULL) {
		fprintf(stderr, "harness: pool/ring creation failed\n");
		return -1;
	}
	rc = rte_eth_from_rings("h_port", &h_rx, 1, &h_tx, 1, 0);
	if (rc < 0) {
		fprintf(stderr, "harness: ring port creation failed\n");
		return -1;
	}
	h_port = (uint16_t)rc;
	struct rte_eth_conf conf = {0};

	if (rte_eth_dev_configure(h_port, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(h_port, 0, 256, 0, NULL, h_pool) != 0 ||
	    rte_eth_tx_queue_setup(h_port, 0, 256, 0, NULL) != 0 ||
	    rte_eth_dev_start(h_port) != 0) {
		fprintf(stderr, "harness: ring port set-up failed\n");
		return -1;
	}
	h_lc = rte_zmalloc(NULL, sizeof(*h_lc), RTE_CACHE_LINE_SIZE);
	if (h_lc == NULL)
		return -1;
	pc_dp_config_defaults(&h_cfg);
	h_cfg.tcp.set.max_conns = 64;
	h_cfg.tcp.nb_listeners = 4;
	h_cfg.tcp.listeners[0] = (struct pc_dp_listener){.port = H_PORT_ECHO, .app = "echo"};
	h_cfg.tcp.listeners[1] = (struct pc_dp_listener){.port = H_PORT_DISCARD, .app = "discard"};
	h_cfg.tcp.listeners[2] =
		(struct pc_dp_listener){.port = H_PORT_SOURCE, .app = "source", .arg = 100000};
	h_cfg.tcp.listeners[3] = (struct pc_dp_listener){
		.port = H_PORT_FORWARD,
		.app = "forward",
		.fwd_addr = H_BACKEND,
		.fwd_port = H_BACKEND_PORT,
	};
	if (pc_tcp_configure(&h_cfg, 1) != 0)
		return -1;
	h_tcp_defaults = pc_tcp_cfg;
	pc_lcores[rte_lcore_id()] = h_lc;
	h_reset();
	return 0;
}

/* Tear the worker context down (its connections reset) and drop what it
 * sent. */
static void h_teardown(void)
{
	struct h_frame f;

	if (h_lc->pool != NULL) {
		pc_lcore_fini(h_lc);
		pc_tcp_lcore_fini(h_lc);
	}
	while (h_take(&f))
		;
}

static void h_build(void)
{
	static const struct pc_idle_cfg idle = {.busy = true};
	uint64_t hz = rte_get_tsc_hz();

	memset(&h_ifc, 0, sizeof(h_ifc));
	h_ifc.addr = rte_cpu_to_be_32(H_ADDR);
	h_ifc.mask = rte_cpu_to_be_32(0xffffff00);
	h_ifc.ttl = 64;
	h_ifc.mac = h_mac;
	h_ifc.arp_timeout = hz * 300;
	h_ifc.arp_retry = hz;
	pc_lcore_init(h_lc, h_port, 0, h_pool, &h_ifc, &idle);
	if (pc_tcp_lcore_init(h_lc, 0, 0) != 0)
		abort();
}

void h_reset(void)
{
	h_teardown();
	h_build();
}

void h_reset_tcp(const struct pc_tcp_cfg *cfg)
{
	h_teardown();
	pc_tcp_cfg = *cfg;
	h_build();
}

int h_pool_full(void)
{
	return rte_mempool_avail_count(h_pool) == H_POOL_SIZE;
}

void h_fini(void)
{
	pc_lcore_fini(h_lc);
	pc_tcp_lcore_fini(h_lc);
	struct h_frame f;

	while (h_take(&f))
		;
	pc_lcores[rte_lcore_id()] = NULL;
	rte_free(h_lc);
	rte_eth_dev_stop(h_port);
	rte_eth_dev_close(h_port);
	rte_ring_free(h_rx);
	rte_ring_free(h_tx);
	rte_mempool_free(h_pool);
	rte_eal_cleanup();
}

struct rte_mbuf *h_mbuf(const void *frame, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(h_pool);

	if (m == NULL || len > rte_pktmbuf_tailroom(m)) {
		fprintf(stderr, "harness: cannot make an mbuf of %u bytes\n", len);
		abort();
	}
	memcpy(rte_pktmbuf_append(m, len), frame, len);
	return m;
}

void h_inject(const void *frame, uint16_t len)
{
	if (rte_ring_enqueue(h_rx, h_mbuf(frame, len)) != 0)
		abort();
}

struct rte_mbuf *h_mbuf_chain(const void *frame, uint32_t len, uint32_t first, uint32_t rest)
{
	const uint8_t *p = frame;
	uint32_t n = RTE_MIN(first, len);
	struct rte_mbuf *head = h_mbuf(p, (uint16_t)n);

	for (uint32_t off = n; off < len; off += n) {
		n = RTE_MIN(rest, len - off);
		if (rte_pktmbuf_chain(head, h_mbuf(p + off, (uint16_t)n)) != 0) {
			fprintf(stderr, "harness: a chain of more than %u mbufs\n",
				RTE_MBUF_MAX_NB_SEGS);
			abort();
		}
	}
	return head;
}

void h_inject_chain(const void *frame, uint32_t len, uint32_t first, uint32_t rest)
{
	if (rte_ring_enqueue(h_rx, h_mbuf_chain(frame, len, first, rest)) != 0)
		abort();
}

void h_run(void)
{
	while (pc_dp_worker_poll() != 0)
		;
	pc_tx_flush(h_lc);
}

int h_take(struct h_frame *out)
{
	struct rte_mbuf *m;

	if (rte_ring_dequeue(h_tx, (void **)&m) != 0)
		return 0;
	out->len = (uint16_t)RTE_MIN(rte_pktmbuf_pkt_len(m), sizeof(out->b));
	/* Returns a pointer into the mbuf when the data is contiguous, and
	 * copies into out->b only when it is not. */
	const void *p = rte_pktmbuf_read(m, 0, out->len, out->b);

	if (p != out->b)
		memcpy(out->b, p, out->len);
	rte_pktmbuf_free(m);
	return 1;
}

struct rte_mbuf *h_take_mbuf(void)
{
	struct rte_mbuf *m;

	return rte_ring_dequeue(h_tx, (void **)&m) == 0 ? m : NULL;
}

unsigned int h_pending(void)
{
	return rte_ring_count(h_tx);
}

void h_arp_learn(uint32_t ip, const struct rte_ether_addr *mac)
{
	static const struct rte_ether_addr bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
	uint8_t b[64];
	struct h_frame f;

	h_inject(b, h_build_arp(b, RTE_ARP_OP_REQUEST, mac, ip, H_ADDR, &bcast));
	h_run();
	while (h_take(&f))
		;
}

uint16_t h_build_echo(uint8_t *b, uint32_t src, uint32_t dst, const uint8_t *opts,
		      uint8_t optlen, uint16_t payload)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)b;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	uint16_t hl = sizeof(*ip) + optlen;
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)((uint8_t *)ip + hl);
	uint8_t *data = (uint8_t *)(icmp + 1);

	eh->dst_addr = h_mac;
	eh->src_addr = h_peer_mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = (uint8_t)(0x40 | (hl / 4));
	ip->total_length = rte_cpu_to_be_16(hl + sizeof(*icmp) + payload);
	ip->packet_id = rte_cpu_to_be_16(0x1234);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	if (optlen != 0)
		memcpy(ip + 1, opts, optlen);
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	icmp->icmp_code = 0;
	icmp->icmp_ident = rte_cpu_to_be_16(0x4242);
	icmp->icmp_seq_nb = rte_cpu_to_be_16(7);
	for (uint16_t i = 0; i < payload; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	h_fix_ip_cksum(b);
	h_fix_icmp_cksum(b);
	return (uint16_t)(sizeof(*eh) + hl + sizeof(*icmp) + payload);
}

void h_fix_ip_cksum(uint8_t *b)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(b + sizeof(struct rte_ether_hdr));

	ip->hdr_checksum = 0;
	ip->hdr_checksum = (uint16_t)~rte_raw_cksum(ip, (ip->version_ihl & 0xf) * 4);
}

void h_fix_icmp_cksum(uint8_t *b)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(b + sizeof(struct rte_ether_hdr));
	uint16_t hl = (ip->version_ihl & 0xf) * 4;
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)((uint8_t *)ip + hl);
	uint16_t len = rte_be_to_cpu_16(ip->total_length) - hl;

	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, len);
}

uint16_t h_build_arp(uint8_t *b, uint16_t op, const struct rte_ether_addr *sha,
		     uint32_t sip, uint32_t tip, const struct rte_ether_addr *eth_dst)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)b;
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eh + 1);

	eh->dst_addr = *eth_dst;
	eh->src_addr = *sha;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(op);
	a->arp_data.arp_sha = *sha;
	a->arp_data.arp_sip = rte_cpu_to_be_32(sip);
	memset(&a->arp_data.arp_tha, op == RTE_ARP_OP_REPLY ? 0x02 : 0, RTE_ETHER_ADDR_LEN);
	a->arp_data.arp_tip = rte_cpu_to_be_32(tip);
	/* Pad to the Ethernet minimum, as a NIC would. */
	memset(a + 1, 0, 60 - sizeof(*eh) - sizeof(*a));
	return 60;
}

uint16_t h_build_tcp(uint8_t *b, const struct h_tcp *t)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)b;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
	uint16_t tcphl = (uint16_t)(sizeof(*th) + t->optlen);
	uint8_t *data = (uint8_t *)th + tcphl;

	eh->dst_addr = h_mac;
	eh->src_addr = h_peer_mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + tcphl + t->len);
	ip->packet_id = rte_cpu_to_be_16(0x2345);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(t->src);
	ip->dst_addr = rte_cpu_to_be_32(t->dst);
	th->src_port = rte_cpu_to_be_16(t->sport);
	th->dst_port = rte_cpu_to_be_16(t->dport);
	th->sent_seq = rte_cpu_to_be_32(t->seq);
	th->recv_ack = rte_cpu_to_be_32(t->ack);
	th->data_off = (uint8_t)((tcphl / 4) << 4);
	th->tcp_flags = t->flags;
	th->rx_win = rte_cpu_to_be_16(t->win);
	th->tcp_urp = 0;
	if (t->optlen != 0)
		memcpy(th + 1, t->opts, t->optlen);
	if (t->data != NULL)
		memcpy(data, t->data, t->len);
	else
		for (uint16_t i = 0; i < t->len; i++)
			data[i] = (uint8_t)(i * 13 + 5);
	h_fix_ip_cksum(b);
	h_fix_tcp_cksum(b);
	return (uint16_t)(sizeof(*eh) + sizeof(*ip) + tcphl + t->len);
}

void h_conn_send(struct h_conn *c, uint8_t flags, const void *data, uint16_t len, uint16_t mss)
{
	const uint8_t mss_opt[] = {2, 4, (uint8_t)(mss >> 8), (uint8_t)mss};
	int syn = (flags & RTE_TCP_SYN_FLAG) != 0;
	uint8_t b[2048];
	struct h_tcp t = {
		.src = c->addr,
		.dst = H_ADDR,
		.sport = c->port,
		.dport = c->lport,
		.seq = c->snd,
		.ack = c->ack,
		.flags = flags,
		.win = 65535,
		.opts = syn ? mss_opt : NULL,
		.optlen = syn ? sizeof(mss_opt) : 0,
		.data = data,
		.len = len,
	};

	c->snd += len + (syn ? 1u : 0u) + ((flags & RTE_TCP_FIN_FLAG) ? 1u : 0u);
	h_inject(b, h_build_tcp(b, &t));
}

void h_fix_tcp_cksum(uint8_t *b)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(b + sizeof(struct rte_ether_hdr));
	struct rte_tcp_hdr *th =
		(struct rte_tcp_hdr *)((uint8_t *)ip + (ip->version_ihl & 0xf) * 4);

	th->cksum = 0;
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
}

int h_parse_tcp(const struct h_frame *f, struct h_tcp *t)
{
	const struct rte_ether_hdr *eh = (const struct rte_ether_hdr *)f->b;
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eh + 1);
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)(ip + 1);

	if (f->len < sizeof(*eh) + sizeof(*ip) + sizeof(*th) ||
	    !rte_is_same_ether_addr(&eh->src_addr, &h_mac) ||
	    eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return -1;
	uint16_t total = rte_be_to_cpu_16(ip->total_length);

	if (ip->version_ihl != RTE_IPV4_VHL_DEF || total != f->len - sizeof(*eh) ||
	    rte_raw_cksum(ip, sizeof(*ip)) != 0xffff || ip->next_proto_id != IPPROTO_TCP ||
	    ip->src_addr != h_ifc.addr ||
	    (ip->fragment_offset & ~rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG)) != 0)
		return -1;
	uint16_t tcp_len = (uint16_t)(total - sizeof(*ip));
	uint16_t tcphl = (uint16_t)((th->data_off >> 4) * 4);

	if (tcphl < sizeof(*th) || tcphl > tcp_len || rte_ipv4_udptcp_cksum_verify(ip, th) != 0)
		return -1;
	t->src = rte_be_to_cpu_32(ip->src_addr);
	t->dst = rte_be_to_cpu_32(ip->dst_addr);
	t->sport = rte_be_to_cpu_16(th->src_port);
	t->dport = rte_be_to_cpu_16(th->dst_port);
	t->seq = rte_be_to_cpu_32(th->sent_seq);
	t->ack = rte_be_to_cpu_32(th->recv_ack);
	t->flags = th->tcp_flags;
	t->win = rte_be_to_cpu_16(th->rx_win);
	t->opts = (const uint8_t *)(th + 1);
	t->optlen = (uint8_t)(tcphl - sizeof(*th));
	t->data = (const uint8_t *)th + tcphl;
	t->len = (uint16_t)(tcp_len - tcphl);
	return 0;
}

uint64_t h_drop(enum pc_drop why)
{
	return h_lc->cnt.drop[why];
}

uint64_t h_drops_total(void)
{
	uint64_t t = 0;

	for (int i = 0; i < PC_DROP__MAX; i++)
		t += h_lc->cnt.drop[i];
	return t;
}
