/* SPDX-License-Identifier: MIT */
/* Private to crypto/: the TLS objects shared by the configuration and the
 * connection code. */
#ifndef PC_TLS_PRIV_H
#define PC_TLS_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_lcore.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "pc_tls.h"
#include "tls_hello.h"

/* Most certificates a client may send (wolfSSL's own limit is 10). */
#define PC_TLS_MAX_PEER_CHAIN (PC_VERIFY_MAX_DEPTH + 2)

/* Handshake and connection outcomes other than verification (those are
 * counted by enum pc_verify_reason). */
enum pc_tls_err {
#define PC_TLS_ERR(name, help) PC_TLS_ERR_##name,
#include "tls_errors.def"
#undef PC_TLS_ERR
	PC_TLS_ERR__MAX
};

#define PC_TLS_MAX_SUITES 32

/* One hostname's immutable policy, part of a struct pc_tls_config. */
struct pc_tls_host {
	char name[PC_TLS_NAME_MAX + 1];
	bool wildcard;                  /* name is "*.suffix"; match on ".suffix" */
	enum pc_tls_verify_mode verify;
	enum pc_tls_fail_action on_failure;
	struct pc_trust *trust;         /* NULL when verify is none */
	struct pc_verify_policy policy;
	unsigned int nb_protected;
	const char *protected[PC_TLS_MAX_PROTECTED];
	char protected_buf[PC_TLS_MAX_PROTECTED][128];
	WOLFSSL_CTX *ctx[RTE_MAX_LCORE]; /* per worker lcore */
	unsigned int nb_suites;
	uint16_t suites[PC_TLS_MAX_SUITES]; /* IANA ids its connections can negotiate */
};

/* The session-ticket key of a configuration. */
struct pc_tls_ticket_key {
	uint8_t name[16];
	uint8_t key[32];
};

struct pc_tls_config {
	struct pc_tls_ticket_key ticket;
	struct pc_tls_hello_policy hello; /* what a ClientHello must offer */
	unsigned int nb_hosts;
	struct pc_tls_host *hosts;      /* exact names, then wildcards */
	struct pc_tls_host *def;        /* "default", or NULL */
	uint32_t handshake_timeout_ms;
	/* Connections holding this configuration, per worker (written by
	 * that worker only). */
	uint32_t refs[RTE_MAX_LCORE];
};

/* The published configuration: rcu_dereference() on workers. */
extern struct pc_tls_config *pc_tls_active;

/* The host for an SNI name ("" when the client sent none): exact match,
 * then the longest wildcard, then the default (may return NULL). */
const struct pc_tls_host *pc_tls_find_host(const struct pc_tls_config *cfg, const char *sni);

/* tls_conn.c: connection pools (per_lcore objects on every lcore), the
 * IO callbacks a context needs, the size of one connection object. */
int pc_tls_conn_init(uint32_t per_lcore);
void pc_tls_conn_fini(void);
void pc_tls_set_io(WOLFSSL_CTX *ctx);
size_t pc_tls_conn_size(void);
/* The name of the host (as configured) a connection's ssl serves. */
const char *pc_tls_conn_host_name(WOLFSSL *ssl);

/* tls_ticket.c: a fresh random key; contexts sealing tickets with it. */
int pc_tls_ticket_key_init(struct pc_tls_ticket_key *k);
int pc_tls_ticket_setup(WOLFSSL_CTX *ctx, const struct pc_tls_ticket_key *k);

/* Free the published and retired configurations (workers stopped). */
void pc_tls_config_fini(void);
/* wolfSSL's verify callback for hosts that verify clients (tls_conn.c). */
int pc_tls_verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store);

/* Counters, per lcore, written only by the owning worker. */
/* handshakes: completed; alerts_sent: our verification alerts;
 * http403_sessions: verification failed with action http403. Printed as
 * tls_<name>. */
#define PC_TLS_COUNTERS(X)                                                             \
	X(handshakes) X(handshakes_tls12) X(handshakes_tls13) X(resumed) X(alerts_sent) \
	X(http403_sessions) X(http_requests)

struct pc_tls_counters {
#define X(name) uint64_t name;
	PC_TLS_COUNTERS(X)
#undef X
	uint64_t err[PC_TLS_ERR__MAX];
	uint64_t verify[PC_VERIFY_NB_REASONS];
} __rte_cache_aligned;

extern struct pc_tls_counters pc_tls_cnt[RTE_MAX_LCORE];

/* tls_mem.c: wolfSSL's allocator. */
struct pc_tls_mem_stats {
	uint64_t reserved;       /* bytes taken from the arena so far */
	uint64_t in_use;         /* bytes in blocks handed out now */
	uint64_t peak;
	uint64_t allocs;
	uint64_t failures;       /* arena exhausted or block too large */
	uint64_t foreign_frees;  /* freed by another thread (shutdown) */
};

/* Give each worker lcore an arena of mb_per_worker MiB (pc_tls_route_memory
 * came first). Main lcore, after rte_eal_init(). */
int pc_tls_mem_init(uint32_t mb_per_worker);
void pc_tls_mem_fini(void);
bool pc_tls_mem_stats(unsigned int lcore, struct pc_tls_mem_stats *out);

#endif
