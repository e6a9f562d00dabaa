/* SPDX-License-Identifier: MIT */
/*
 * The dataplane's public face: what mgmt/ and the tests may call.
 *
 * Threads: everything here is called by the main lcore (the management
 * thread) except pc_dp_worker_poll(), which a worker lcore calls on its own
 * context (tests call it directly to run one loop pass).
 */
#ifndef PC_DATAPLANE_H
#define PC_DATAPLANE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* How a worker waits. When its queue is empty, it busy-polls for
 * pause_after_us of idleness, then polls with a CPU pause instruction
 * between polls until sleep_after_us, then sleeps: sleep_us first, each
 * further sleep twice as long up to 16 x sleep_us, back to sleep_us as
 * soon as a packet comes (RCU-offline while asleep). busy = true never
 * pauses or sleeps. With frames to send, it keeps them until the oldest
 * has waited tx_hold_us (0: until the queue is empty), so that frames of
 * several connections leave in one driver call. */
struct pc_idle_cfg {
	bool busy;
	uint32_t pause_after_us;
	uint32_t sleep_after_us;
	uint32_t sleep_us;
	uint32_t tx_hold_us;
};

#define PC_DP_MAX_LISTENERS 16

struct pc_tcp_app;

/* A TCP listener served by a built-in application (echo, discard,
 * source N, forward ADDR PORT), or by one from outside dataplane/ (TLS). */
struct pc_dp_listener {
	uint16_t port;            /* host order */
	char app[16];
	const struct pc_tcp_app *ext_app; /* when set, app is only its name */
	uint64_t arg;             /* source: bytes to send */
	uint32_t fwd_addr;        /* forward: backend, host order */
	uint16_t fwd_port;
};

/* The TCP settings (tcp ... commands), declared once: the operator's
 * config holds them, the workers' struct pc_tcp_cfg takes them whole at
 * start (and the run-time ones again when they change). */
struct pc_tcp_settings {
	uint32_t max_conns;       /* per worker */
	uint32_t rcvbuf;          /* bytes, power of two */
	uint32_t sndbuf;          /* bytes, power of two */
	uint32_t buffer_pool;     /* rings per worker, 0 = two per connection and one */
	uint32_t syn_backlog;     /* half-open connections before SYN cookies */
	uint32_t rto_min_ms;
	uint32_t rto_max_ms;
	uint32_t rto_init_ms;
	uint32_t delack_ms;
	uint32_t max_retries;
	uint32_t syn_retries;
	uint32_t keepalive_idle_s;  /* 0 = off */
	uint32_t keepalive_intvl_s;
	uint32_t keepalive_probes;
	uint32_t idle_timeout_s;    /* 0 = none */
	uint32_t time_wait_ms;
	uint32_t max_time_wait;
	uint32_t fin_wait_2_ms;
	uint32_t persist_timeout_s; /* 0 = probe a closed window for ever */
	uint32_t challenge_ack_limit; /* per second and worker, 0 = no limit */
};

struct pc_dp_tcp {
	struct pc_tcp_settings set;
	char cc[16];                /* "cubic" or "newreno" */
	unsigned int nb_listeners;
	struct pc_dp_listener listeners[PC_DP_MAX_LISTENERS];
};

struct pc_dp_config {
	uint32_t addr;            /* host order */
	uint8_t prefix_len;
	uint32_t gateway;         /* host order, 0 = none */
	uint8_t ttl;              /* TTL of the packets we originate */
	uint32_t arp_timeout_s;   /* how long a learned neighbour stays fresh */
	uint32_t mbufs;           /* mbufs per NUMA socket, 0 = sized from queues */
	uint16_t rx_desc;
	uint16_t tx_desc;
	uint16_t mtu;
	struct pc_idle_cfg idle;
	struct pc_dp_tcp tcp;
};

/* How many arguments the built-in TCP application of that name takes
 * (source: a byte count; forward: address and port), or -1 if there is
 * no such application. */
int pc_dp_app_nb_args(const char *name);

/* Defaults every config starts from. */
void pc_dp_config_defaults(struct pc_dp_config *cfg);

/* Run-time tunables: cfg's worker idle policy, TCP keepalive and idle
 * timeout given to the running workers (main lcore; each field is one
 * aligned store that workers read at its next use). */
void pc_dp_apply_tunables(const struct pc_dp_config *cfg);

struct pc_dp_worker_info {
	unsigned int lcore, queue;   /* its lcore and the RX/TX queue pair it owns */
	uint64_t busy_cycles, idle_cycles, sleeps, rx_packets, tx_packets;
	uint64_t tx_bursts;          /* driver transmit calls */
	uint64_t rx_burst_cycles, tx_burst_cycles; /* of busy_cycles, inside the driver */
	uint32_t conns, time_wait;   /* TCP control blocks in use, in TIME_WAIT */
	uint32_t rings_in_use, rings; /* TCP buffers held by connections, in the pool */
	uint64_t tcp_mem_bytes;      /* control blocks in use and the rings they hold */
};
/* The i-th worker's figures (i from 0), false past the last. Any thread. */
bool pc_dp_worker_info(unsigned int i, struct pc_dp_worker_info *out);

/* After rte_eal_init(): checks the lcore layout (main lcore = management,
 * every other lcore = one worker with one RX/TX queue pair), creates the
 * mbuf pools and per-lcore contexts, configures and starts port 0.
 * Returns 0 or a negative errno, with the reason printed on stderr. */
int pc_dp_init(const struct pc_dp_config *cfg);

/* Launch the worker loop on every worker lcore. */
int pc_dp_launch(void);

/* Ask the workers to leave their loops and wait for them. */
void pc_dp_stop(void);

/* Stop and close the port, free pools and contexts. */
void pc_dp_fini(void);

/* One pass of the worker loop on the calling lcore's context: RX burst,
 * processing, TX drain, timers. Returns the number of packets received,
 * plus one when work deferred to the burst's end is still owed. */
unsigned int pc_dp_worker_poll(void);

/* Counter totals over all workers, one "name value" line each with the help
 * text of drop reasons as a comment; per-worker lines when per_lcore. */
void pc_dp_dump_counters(FILE *out, bool per_lcore);

/* The counters of pc_stats.def and pc_errors.def one by one, for the
 * metrics: each one's name ("rx_bytes", drops without "drop_") and help,
 * NULL past the last; the i-th worker's values (i from 0) in that order,
 * false past the last worker. Any thread. */
#define PC_DP_MAX_COUNTERS 128
const char *pc_dp_stat_name(unsigned int s, const char **help);
const char *pc_dp_drop_name(unsigned int d, const char **help);
bool pc_dp_worker_counters(unsigned int i, unsigned int *lcore,
			   uint64_t stats[PC_DP_MAX_COUNTERS], uint64_t drops[PC_DP_MAX_COUNTERS]);

/* One line per TCP connection of every worker: a snapshot read while the
 * workers run (values may be mid-update), for diagnostics. */
void pc_dp_dump_connections(FILE *out);

/* Port's MAC address as text (valid after pc_dp_init). */
const char *pc_dp_mac_str(void);

#endif
