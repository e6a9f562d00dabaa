/* SPDX-License-Identifier: MIT */
/*
 * The worker loop (one per worker lcore, DPDK l3fwd's shape): stop flag,
 * RX burst, process, TX drained on a TSC deadline, timers, RCU quiescent
 * state, and an idle back-off that leaves the core to others on a small
 * machine.
 */
#include <sys/prctl.h>
#include <time.h>

#include <urcu-qsbr.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "dp.h"

struct pc_lcore *pc_lcores[RTE_MAX_LCORE];
struct pc_lcore *pc_workers[RTE_MAX_LCORE];
unsigned int pc_nb_workers;

/* Set by the management thread, read by the workers. */
static volatile bool pc_stop_flag;

#define PC_TX_DRAIN_US 20
#define PC_TICK_US 100000
#define PC_SLEEP_GROWTH 16

void pc_lcore_init(struct pc_lcore *lc, uint16_t port, uint16_t queue,
		   struct rte_mempool *pool, const struct pc_iface *ifc,
		   const struct pc_idle_cfg *idle)
{
	uint64_t hz = rte_get_tsc_hz();

	memset(lc, 0, sizeof(*lc));
	lc->port = port;
	lc->queue = queue;
	lc->pool = pool;
	lc->ifc = ifc;
	lc->idle = *idle;
	lc->tsc_us = hz / 1000000;
	lc->tsc_drain = lc->tsc_us * PC_TX_DRAIN_US;
	lc->tsc_tick = lc->tsc_us * PC_TICK_US;
	lc->next_tick = rte_rdtsc() + lc->tsc_tick;
}

void pc_lcore_fini(struct pc_lcore *lc)
{
	pc_tcp_abort_all(lc);
	pc_arp_flush(lc);
	pc_tx_flush(lc);
}

/* Segments of this worker's connections that another worker received. */
static void drain_pkt_inbox(struct pc_lcore *lc)
{
	struct rte_mbuf *m[PC_BURST];
	unsigned int n = rte_ring_sc_dequeue_burst(lc->pkt_inbox, (void **)m, PC_BURST, NULL);

	for (unsigned int i = 0; i < n; i++)
		pc_ipv4_input(lc, m[i]);
}

static unsigned int worker_pass(struct pc_lcore *lc, uint64_t start)
{
	struct rte_mbuf *pkts[PC_BURST];

	/* Segments handed over by other workers first: they are older than
	 * what the queue holds now. */
	if (lc->pkt_inbox != NULL)
		drain_pkt_inbox(lc);

	/* The driver's share is timed apart from ours: with a virtual device
	 * it is mostly the kernel (AF_XDP's syscalls, veth, the bridge), which
	 * a real NIC's PMD would not cost. */
	uint64_t rx_start = rte_rdtsc();
	uint16_t n = rte_eth_rx_burst(lc->port, lc->queue, pkts, PC_BURST);
	uint64_t rx_cycles = rte_rdtsc() - rx_start;

	for (uint16_t i = 0; i < n; i++) {
		lc->cnt.rx_bytes += rte_pktmbuf_pkt_len(pkts[i]);
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		pc_eth_input(lc, pkts[i]);
	}
	lc->cnt.rx_packets += n;

	if (lc->arp_inbox != NULL)
		pc_arp_drain_inbox(lc);

	bool work = n != 0;

	/* What the burst's segments asked of other connections. */
	if (pc_tcp_run_deferred(lc))
		work = true;

	uint64_t now = rte_rdtsc();

	/* Frames leave when the queue is empty and the oldest has waited
	 * tx_hold_us for company (a driver call that sends several costs
	 * little more than one that sends one: with af_xdp or af_packet it
	 * is a syscall), or once it has waited the longer of that and
	 * PC_TX_DRAIN_US while the queue keeps the worker busy. */
	if (lc->tx_n != 0) {
		uint64_t waited = now - lc->tx_oldest;
		uint64_t hold = lc->tsc_us * __atomic_load_n(&lc->idle.tx_hold_us, __ATOMIC_RELAXED);

		if ((n == 0 && waited >= hold) || waited >= RTE_MAX(hold, lc->tsc_drain)) {
			pc_tx_flush(lc);
			work = true;
		}
	}
	if (pc_wheel_due(&lc->tcp.wheel, now)) {
		pc_tcp_clock_set(lc, now);
		pc_wheel_advance(&lc->tcp.wheel, now);
		if (pc_tcp_run_deferred(lc))
			work = true;
	}
	if (unlikely(now >= lc->next_tick)) {
		pc_arp_tick(lc, now);
		lc->next_tick = now + lc->tsc_tick;
	}
	/* A pass that sent is busy too: the TX burst is most of the cost of
	 * a reply. */
	uint64_t end = rte_rdtsc();

	lc->cnt.polls++;
	if (work) {
		lc->cnt.busy_cycles += end - start;
		lc->cnt.rx_burst_cycles += rx_cycles;
		lc->cnt.tx_burst_cycles += lc->pass_tx_cycles;
	} else
		lc->cnt.idle_cycles += end - start;
	lc->pass_tx_cycles = 0;
	/* Work deferred during the pass's runs, and frames held for company,
	 * keep the worker from idling. */
	return n + (lc->tcp.nb_deferred != 0) + (lc->tx_n != 0);
}

unsigned int pc_dp_worker_poll(void)
{
	return worker_pass(pc_lcores[rte_lcore_id()], rte_rdtsc());
}

/* Called after an empty pass: busy-poll, then pause, then sleep. The
 * policy is read at every call: the management thread changes it at run
 * time (pc_dp_apply_tunables). */
static void worker_idle(struct pc_lcore *lc)
{
	uint64_t now = rte_rdtsc();

	if (__atomic_load_n(&lc->idle.busy, __ATOMIC_RELAXED))
		return;
	if (lc->idle_since == 0) {
		lc->idle_since = now;
		return;
	}
	uint64_t idle = now - lc->idle_since;

	if (idle < lc->tsc_us * __atomic_load_n(&lc->idle.pause_after_us, __ATOMIC_RELAXED))
		return;
	if (idle < lc->tsc_us * __atomic_load_n(&lc->idle.sleep_after_us, __ATOMIC_RELAXED)) {
		rte_pause();
		return;
	}
	/* Sleeps grow from sleep_us to PC_SLEEP_GROWTH times that while the
	 * queue stays empty: a long-idle worker wakes rarely, a briefly idle
	 * one answers fast. */
	uint32_t sleep_us = __atomic_load_n(&lc->idle.sleep_us, __ATOMIC_RELAXED);

	if (lc->sleep_cur_us == 0 || lc->sleep_cur_us > sleep_us * PC_SLEEP_GROWTH)
		lc->sleep_cur_us = sleep_us;
	struct timespec ts = {.tv_sec = lc->sleep_cur_us / 1000000,
			      .tv_nsec = (long)(lc->sleep_cur_us % 1000000) * 1000};

	if (lc->sleep_cur_us < sleep_us * PC_SLEEP_GROWTH)
		lc->sleep_cur_us *= 2;
	/* A sleeping worker holds no RCU references: it must not delay
	 * grace periods. */
	rcu_thread_offline();
	nanosleep(&ts, NULL);
	rcu_thread_online();
	lc->cnt.sleeps++;
	lc->cnt.idle_cycles += rte_rdtsc() - now;
}

static int worker_main(void *arg)
{
	struct pc_lcore *lc = pc_lcores[rte_lcore_id()];

	(void)arg;
	/* nanosleep() otherwise rounds short sleeps up by the default 50 us
	 * timer slack. */
	prctl(PR_SET_TIMERSLACK, 1UL);
	rcu_register_thread();
	while (!pc_stop_flag) {
		uint64_t start = rte_rdtsc();

		if (worker_pass(lc, start) != 0) {
			lc->idle_since = 0;
			lc->sleep_cur_us = 0;
		} else
			worker_idle(lc);
		rcu_quiescent_state();
	}
	pc_lcore_fini(lc);
	rcu_unregister_thread();
	return 0;
}

int pc_dp_launch(void)
{
	unsigned int id;

	pc_stop_flag = false;
	RTE_LCORE_FOREACH_WORKER(id) {
		int rc = rte_eal_remote_launch(worker_main, NULL, id);

		if (rc != 0) {
			fprintf(stderr, "portcullis: cannot launch worker on lcore %u: %s\n",
				id, rte_strerror(-rc));
			pc_dp_stop();
			return rc;
		}
	}
	return 0;
}

void pc_dp_stop(void)
{
	pc_stop_flag = true;
	rte_eal_mp_wait_lcore();
}
