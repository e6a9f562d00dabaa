/* SPDX-License-Identifier: MIT */
/*
 * Port and memory set-up: the lcore layout, mbuf pools per NUMA socket,
 * per-lcore contexts, and port 0 with one RX/TX queue pair per worker.
 * Main lcore only, before the workers run (init) or after they stopped
 * (fini).
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_ring_elem.h>

#include "apps/apps.h"
#include "dp.h"

/* Flows we want RSS to spread; the device's capabilities mask them. */
#define PC_RSS_HF (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP)
#define PC_MBUF_CACHE 256

static struct pc_iface pc_ifc;
static struct rte_mempool *pc_pools[RTE_MAX_NUMA_NODES];
static uint16_t pc_port = RTE_MAX_ETHPORTS;
static bool pc_port_started;
static char pc_mac_text[RTE_ETHER_ADDR_FMT_SIZE];

void pc_dp_config_defaults(struct pc_dp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ttl = 64;
	cfg->arp_timeout_s = 300;
	cfg->rx_desc = 1024;
	cfg->tx_desc = 1024;
	cfg->idle.pause_after_us = 50;
	cfg->idle.sleep_after_us = 500;
	cfg->idle.sleep_us = 50;
	cfg->mtu = 1500;
	cfg->tcp = (struct pc_dp_tcp){
		.set.max_conns = 1024,
		.set.rcvbuf = 65536,
		.set.sndbuf = 65536,
		.set.syn_backlog = 256,
		.set.rto_min_ms = 200,
		.set.rto_max_ms = 60000,
		.set.rto_init_ms = 1000,
		.set.delack_ms = 40,
		.set.max_retries = 15,
		.set.syn_retries = 5,
		.set.keepalive_idle_s = 0,
		.set.keepalive_intvl_s = 75,
		.set.keepalive_probes = 9,
		.set.idle_timeout_s = 300,
		.set.time_wait_ms = 60000,
		.set.max_time_wait = 16384,
		.set.fin_wait_2_ms = 60000,
		.set.persist_timeout_s = 120,
		.set.challenge_ack_limit = 1000,
		.cc = "cubic",
	};
}

int pc_dp_app_nb_args(const char *name)
{
	return pc_app_nb_args(name);
}

/* The shared TCP configuration, from the operator's. */
int pc_tcp_configure(const struct pc_dp_config *cfg, unsigned int nb_workers)
{
	const struct pc_dp_tcp *t = &cfg->tcp;
	struct pc_tcp_cfg *c = &pc_tcp_cfg;

	memset(c, 0, sizeof(*c));
	c->set = t->set;
	c->mss = (uint16_t)(cfg->mtu - 40);
	c->cc = strcmp(t->cc, "newreno") == 0 ? &pc_tcp_newreno : &pc_tcp_cubic;
	c->ephemeral_lo = 32768;
	c->ephemeral_hi = 60999;
	c->nb_workers = nb_workers;
	if (getrandom(c->siphash_key, sizeof(c->siphash_key), 0) != sizeof(c->siphash_key)) {
		fprintf(stderr, "portcullis: getrandom: %s\n", strerror(errno));
		return -errno;
	}
	for (unsigned int i = 0; i < t->nb_listeners; i++) {
		const struct pc_tcp_app *app = t->listeners[i].ext_app != NULL
							? t->listeners[i].ext_app
							: pc_app_find(t->listeners[i].app);

		if (app == NULL) {
			fprintf(stderr, "portcullis: no TCP application '%s'\n", t->listeners[i].app);
			return -EINVAL;
		}
		c->listeners[i].port = rte_cpu_to_be_16(t->listeners[i].port);
		c->listeners[i].app = app;
		c->listeners[i].app_arg = (void *)(uintptr_t)t->listeners[i].arg;
		c->listeners[i].fwd_addr = rte_cpu_to_be_32(t->listeners[i].fwd_addr);
		c->listeners[i].fwd_port = rte_cpu_to_be_16(t->listeners[i].fwd_port);
		if (t->listeners[i].fwd_port != 0)
			c->listeners[i].app_arg = &c->listeners[i];
	}
	return 0;
}

/* An mbuf's data room: one whole frame of `port mtu` (a segment we send
 * is one mbuf), rounded up to 256 bytes. net_af_packet wants its frame
 * slots (framesz, which scripts/common.sh derives from the same MTU and
 * rounding) to fit one mbuf; net_af_xdp wants an mbuf within a 4 KiB page,
 * which its largest MTU (~3.5 KB) still allows. */
static uint16_t mbuf_data_room(const struct pc_dp_config *cfg)
{
	uint32_t frame = (uint32_t)cfg->mtu + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;

	if (frame <= RTE_MBUF_DEFAULT_DATAROOM)
		return RTE_MBUF_DEFAULT_BUF_SIZE;
	return (uint16_t)(RTE_PKTMBUF_HEADROOM + RTE_ALIGN_CEIL(frame, 256));
}

static int setup_pools(const struct pc_dp_config *cfg, unsigned int nb_workers)
{
	unsigned int id;
	/* Each queue's rings full, each worker's burst and TX buffer, the
	 * pool caches, plus ARP holds: doubled for the packets in flight. */
	unsigned int need = 2 * nb_workers *
			    (cfg->rx_desc + cfg->tx_desc + 2 * PC_BURST + PC_MBUF_CACHE +
			     PC_ARP_BUCKETS * PC_ARP_WAYS);
	unsigned int n = cfg->mbufs != 0 ? cfg->mbufs : RTE_MAX(need, 8192u);

	RTE_LCORE_FOREACH_WORKER(id) {
		unsigned int s = rte_lcore_to_socket_id(id);
		char name[RTE_MEMPOOL_NAMESIZE];

		if (s >= RTE_MAX_NUMA_NODES)
			s = 0;
		if (pc_pools[s] != NULL)
			continue;
		snprintf(name, sizeof(name), "pc_mbuf_s%u", s);
		pc_pools[s] = rte_pktmbuf_pool_create(name, n, PC_MBUF_CACHE, 0,
						      mbuf_data_room(cfg), (int)s);
		if (pc_pools[s] == NULL) {
			fprintf(stderr,
				"portcullis: cannot create %u mbufs on socket %u: %s "
				"(hugepages reserved? see scripts/setup.sh)\n",
				n, s, rte_strerror(rte_errno));
			return -rte_errno;
		}
	}
	return 0;
}

/* The device's RSS key and redirection table, so that active opens can
 * choose local ports that hash back to their worker's queue. Without
 * them the workers share local ports by port number and hand each other
 * what lands on the wrong queue. */
static void read_rss(uint16_t port, const struct rte_eth_dev_info *info)
{
	struct pc_tcp_cfg *c = &pc_tcp_cfg;
	struct rte_eth_rss_conf rc = {.rss_key = c->rss_key, .rss_key_len = sizeof(c->rss_key)};
	struct rte_eth_rss_reta_entry64 reta[512 / RTE_ETH_RETA_GROUP_SIZE];
	uint16_t size = info->reta_size;

	if (info->hash_key_size == 0 || info->hash_key_size > sizeof(c->rss_key) || size == 0 ||
	    size > RTE_DIM(c->reta) || rte_eth_dev_rss_hash_conf_get(port, &rc) != 0)
		return;
	memset(reta, 0, sizeof(reta));
	for (unsigned int i = 0; i < size; i++)
		reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ULL << (i % RTE_ETH_RETA_GROUP_SIZE);
	if (rte_eth_dev_rss_reta_query(port, reta, size) != 0)
		return;
	for (unsigned int i = 0; i < size; i++)
		c->reta[i] = reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
	c->rss_key_len = info->hash_key_size;
	c->reta_size = size;
	c->rss = true;
	printf("portcullis: port %u: RSS key and %u-entry table read: active opens pick "
	       "ports that hash back to their worker\n", port, size);
}

/* Segmentation offload: TSO (the device cuts our mbuf chains of up to
 * 64 KiB into segments), and on receive LRO (it merges a flow's segments)
 * and scatter (a frame over several mbufs), whichever the device offers.
 * Without them the software path is unchanged: one segment per mbuf. */
static void setup_large_segments(const struct rte_eth_dev_info *info, struct rte_eth_conf *conf)
{
	uint64_t tso = RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	uint64_t rx_big = RTE_ETH_RX_OFFLOAD_TCP_LRO | RTE_ETH_RX_OFFLOAD_SCATTER;
	struct pc_tcp_cfg *c = &pc_tcp_cfg;

	if (c->tx_cksum_offload && (info->tx_offload_capa & tso) == tso) {
		/* The first mbuf of a chain holds the headers and at least
		 * this much payload, the others a whole buffer. */
		uint32_t per_mbuf = RTE_MBUF_DEFAULT_DATAROOM - RTE_ETHER_HDR_LEN - 20 - 60;

		conf->txmode.offloads |= tso;
		c->tso = true;
		c->tso_max = RTE_MIN(PC_TCP_TSO_MAX, (uint32_t)info->tx_desc_lim.nb_seg_max * per_mbuf);
		/* net_tap refuses a TSO frame whose segments, Ethernet
		 * header included, exceed its MTU (tso_seg_cut in tcp.h). */
		if (strcmp(info->driver_name, "net_tap") == 0)
			c->tso_seg_cut = RTE_ETHER_HDR_LEN;
	}
	conf->rxmode.offloads |= info->rx_offload_capa & rx_big;
	printf("portcullis: port %u (%s): large segments: TSO %s, LRO %s, RX scatter %s\n",
	       pc_port, info->driver_name,
	       c->tso ? "offloaded" : "software (one segment per mbuf)",
	       conf->rxmode.offloads & RTE_ETH_RX_OFFLOAD_TCP_LRO ? "on" : "off",
	       conf->rxmode.offloads & RTE_ETH_RX_OFFLOAD_SCATTER ? "on" : "off");
	if (c->tso && c->tso_seg_cut != 0)
		printf("portcullis: port %u (%s): TSO segments %u bytes under the MSS (the "
		       "driver counts the Ethernet header against the MTU)\n",
		       pc_port, info->driver_name, c->tso_seg_cut);
}

static int setup_port(const struct pc_dp_config *cfg, uint16_t port, uint16_t nq)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf = {0};
	uint16_t rxd = cfg->rx_desc, txd = cfg->tx_desc;
	int rc;

	rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0) {
		fprintf(stderr, "portcullis: port %u: cannot read device info: %s\n", port,
			rte_strerror(-rc));
		return rc;
	}
	if (nq > info.max_rx_queues || nq > info.max_tx_queues) {
		fprintf(stderr,
			"portcullis: port %u (%s) has %u RX / %u TX queues, %u workers need "
			"one pair each (fewer lcores, or more device queues: "
			"net_af_xdp queue_count=, veth numrxqueues)\n",
			port, info.driver_name, info.max_rx_queues, info.max_tx_queues, nq);
		return -EINVAL;
	}
	if (nq > 1) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = PC_RSS_HF & info.flow_type_rss_offloads;
		if (conf.rx_adv_conf.rss_conf.rss_hf != PC_RSS_HF)
			printf("portcullis: port %u (%s): RSS hash functions 0x%" PRIx64
			       " requested, device supports 0x%" PRIx64 ": using 0x%" PRIx64 "\n",
			       port, info.driver_name, (uint64_t)PC_RSS_HF,
			       info.flow_type_rss_offloads,
			       conf.rx_adv_conf.rss_conf.rss_hf);
		if (conf.rx_adv_conf.rss_conf.rss_hf == 0)
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
	}
	/* Checksums in hardware where the device offers them (the lab's
	 * virtual devices do not: software then). */
	uint64_t tx_ck = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
	uint64_t rx_ck = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;

	if ((info.tx_offload_capa & tx_ck) == tx_ck) {
		conf.txmode.offloads |= tx_ck;
		pc_tcp_cfg.tx_cksum_offload = true;
	}
	if ((info.rx_offload_capa & rx_ck) == rx_ck)
		conf.rxmode.offloads |= rx_ck;
	printf("portcullis: port %u (%s): checksums: TX %s, RX %s\n", port, info.driver_name,
	       pc_tcp_cfg.tx_cksum_offload ? "offloaded" : "software",
	       conf.rxmode.offloads & rx_ck ? "offloaded" : "software");
	/* Jumbo frames: the device's MTU where it reports one that large.
	 * net_af_packet reports 1500 whatever its frame size, and it
	 * receives and sends whole frames of the kernel interface's MTU (set
	 * by the lab: scripts/lab.sh mtu) into our larger mbufs all the same:
	 * said, not refused. */
	if (cfg->mtu > RTE_ETHER_MTU) {
		uint32_t frame = (uint32_t)cfg->mtu + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
		bool fits = frame <= info.max_rx_pktlen && cfg->mtu <= info.max_mtu;

		if (fits)
			conf.rxmode.mtu = cfg->mtu;
		printf("portcullis: port %u (%s): MTU %u (%s, device's largest frame %u), "
		       "mbufs of %u bytes\n",
		       port, info.driver_name, cfg->mtu,
		       fits ? "set on the device" : "the driver's frames must hold it",
		       info.max_rx_pktlen, mbuf_data_room(cfg));
	}
	setup_large_segments(&info, &conf);
	rc = rte_eth_dev_configure(port, nq, nq, &conf);
	if (rc != 0) {
		fprintf(stderr, "portcullis: port %u: configure with %u queue pairs: %s\n",
			port, nq, rte_strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd);
	if (rc != 0) {
		fprintf(stderr, "portcullis: port %u: descriptor counts: %s\n", port,
			rte_strerror(-rc));
		return rc;
	}
	uint16_t q = 0;
	unsigned int id;

	RTE_LCORE_FOREACH_WORKER(id) {
		unsigned int s = rte_lcore_to_socket_id(id);

		if (s >= RTE_MAX_NUMA_NODES)
			s = 0;
		rc = rte_eth_rx_queue_setup(port, q, rxd, s, NULL, pc_pools[s]);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(port, q, txd, s, NULL);
		if (rc != 0) {
			fprintf(stderr,
				"portcullis: port %u: queue %u (lcore %u, socket %u): %s\n",
				port, q, id, s, rte_strerror(-rc));
			return rc;
		}
		q++;
	}
	if (conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS)
		read_rss(port, &info);
	rc = rte_eth_dev_start(port);
	if (rc != 0) {
		fprintf(stderr, "portcullis: port %u: start: %s\n", port, rte_strerror(-rc));
		return rc;
	}
	pc_port_started = true;
	return 0;
}

int pc_dp_init(const struct pc_dp_config *cfg)
{
	unsigned int nb_workers = rte_lcore_count() - 1;
	uint16_t nb_ports = rte_eth_dev_count_avail();
	uint64_t hz = rte_get_tsc_hz();
	unsigned int id;
	int rc;

	if (cfg->addr == 0) {
		fprintf(stderr, "portcullis: no address configured (ip address A.B.C.D/N)\n");
		return -EINVAL;
	}
	if (nb_workers == 0) {
		fprintf(stderr, "portcullis: need at least two lcores (-l 0-1): the main "
				"lcore runs management, each other lcore one worker\n");
		return -EINVAL;
	}
	if (nb_ports == 0) {
		fprintf(stderr, "portcullis: no DPDK port: give one with "
				"--vdev=net_af_xdp0,iface=IF or --vdev=net_af_packet0,iface=IF "
				"(or bind a NIC to vfio-pci); a --vdev that failed to probe "
				"is explained by EAL above\n");
		return -ENODEV;
	}
	if (nb_ports > 1)
		printf("portcullis: %u ports found, using the first\n", nb_ports);
	RTE_ETH_FOREACH_DEV(pc_port) break;

	pc_ifc.addr = rte_cpu_to_be_32(cfg->addr);
	pc_ifc.mask = rte_cpu_to_be_32(cfg->prefix_len == 0 ? 0
					: ~0u << (32 - cfg->prefix_len));
	pc_ifc.gateway = rte_cpu_to_be_32(cfg->gateway);
	pc_ifc.ttl = cfg->ttl;
	pc_ifc.arp_timeout = hz * cfg->arp_timeout_s;
	pc_ifc.arp_retry = hz;
	rc = rte_eth_macaddr_get(pc_port, &pc_ifc.mac);
	if (rc != 0) {
		fprintf(stderr, "portcullis: port %u: no MAC address: %s\n", pc_port,
			rte_strerror(-rc));
		return rc;
	}
	rte_ether_format_addr(pc_mac_text, sizeof(pc_mac_text), &pc_ifc.mac);

	rc = setup_pools(cfg, nb_workers);
	if (rc == 0)
		rc = pc_tcp_configure(cfg, nb_workers);
	if (rc != 0)
		return rc;
	uint16_t q = 0;

	RTE_LCORE_FOREACH_WORKER(id) {
		unsigned int s = rte_lcore_to_socket_id(id);

		if (s >= RTE_MAX_NUMA_NODES)
			s = 0;
		pc_lcores[id] = rte_zmalloc_socket("pc_lcore", sizeof(struct pc_lcore),
						   RTE_CACHE_LINE_SIZE, (int)s);
		if (pc_lcores[id] == NULL) {
			fprintf(stderr, "portcullis: no memory for lcore %u's context\n", id);
			return -ENOMEM;
		}
		pc_lcore_init(pc_lcores[id], pc_port, q, pc_pools[s], &pc_ifc, &cfg->idle);
		rc = pc_tcp_lcore_init(pc_lcores[id], q, (int)s);
		if (rc != 0)
			return rc;
		pc_workers[q] = pc_lcores[id];
		pc_nb_workers = q + 1u;
		q++;
		if (nb_workers > 1) {
			char name[RTE_RING_NAMESIZE];
			struct rte_ring *r;

			snprintf(name, sizeof(name), "pc_arp_inbox%u", id);
			r = rte_ring_create_elem(name, sizeof(struct pc_arp_notice),
						 PC_ARP_INBOX, (int)s, RING_F_SC_DEQ);
			if (r == NULL) {
				fprintf(stderr, "portcullis: no memory for lcore %u's ARP inbox\n",
					id);
				return -ENOMEM;
			}
			pc_lcores[id]->arp_inbox = r;
			pc_arp_inboxes[pc_nb_arp_inboxes++] = r;
			snprintf(name, sizeof(name), "pc_pkt_inbox%u", id);
			r = rte_ring_create(name, PC_PKT_INBOX, (int)s, RING_F_SC_DEQ);
			if (r == NULL) {
				fprintf(stderr, "portcullis: no memory for lcore %u's inbox\n", id);
				return -ENOMEM;
			}
			pc_lcores[id]->pkt_inbox = r;
		}
	}
	return setup_port(cfg, pc_port, (uint16_t)nb_workers);
}

void pc_dp_fini(void)
{
	if (pc_port != RTE_MAX_ETHPORTS) {
		if (pc_port_started)
			rte_eth_dev_stop(pc_port);
		pc_port_started = false;
		rte_eth_dev_close(pc_port);
		pc_port = RTE_MAX_ETHPORTS;
	}
	for (unsigned int i = 0; i < pc_nb_arp_inboxes; i++)
		rte_ring_free(pc_arp_inboxes[i]);
	pc_nb_arp_inboxes = 0;
	pc_nb_workers = 0;
	for (unsigned int i = 0; i < RTE_MAX_LCORE; i++) {
		if (pc_lcores[i] == NULL)
			continue;
		pc_tcp_lcore_fini(pc_lcores[i]);
		if (pc_lcores[i]->pkt_inbox != NULL) {
			struct rte_mbuf *m;

			while (rte_ring_dequeue(pc_lcores[i]->pkt_inbox, (void **)&m) == 0)
				rte_pktmbuf_free(m);
			rte_ring_free(pc_lcores[i]->pkt_inbox);
		}
		rte_free(pc_lcores[i]);
		pc_lcores[i] = NULL;
	}
	for (unsigned int s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		rte_mempool_free(pc_pools[s]);
		pc_pools[s] = NULL;
	}
}

const char *pc_dp_mac_str(void)
{
	return pc_mac_text;
}

void pc_dp_apply_tunables(const struct pc_dp_config *cfg)
{
	const struct pc_dp_tcp *t = &cfg->tcp;

	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		struct pc_idle_cfg *idle;

		if (pc_lcores[l] == NULL)
			continue;
		idle = &pc_lcores[l]->idle;
		__atomic_store_n(&idle->pause_after_us, cfg->idle.pause_after_us, __ATOMIC_RELAXED);
		__atomic_store_n(&idle->sleep_after_us, cfg->idle.sleep_after_us, __ATOMIC_RELAXED);
		__atomic_store_n(&idle->sleep_us, cfg->idle.sleep_us, __ATOMIC_RELAXED);
		__atomic_store_n(&idle->busy, cfg->idle.busy, __ATOMIC_RELAXED);
		__atomic_store_n(&idle->tx_hold_us, cfg->idle.tx_hold_us, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&pc_tcp_cfg.set.keepalive_idle_s, t->set.keepalive_idle_s, __ATOMIC_RELAXED);
	__atomic_store_n(&pc_tcp_cfg.set.keepalive_intvl_s, t->set.keepalive_intvl_s, __ATOMIC_RELAXED);
	__atomic_store_n(&pc_tcp_cfg.set.keepalive_probes, t->set.keepalive_probes, __ATOMIC_RELAXED);
	__atomic_store_n(&pc_tcp_cfg.set.idle_timeout_s, t->set.idle_timeout_s, __ATOMIC_RELAXED);
}
