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

/* The session-ticket key: one for the process, every worker. */
struct pc_tls_ticket_key {
	uint8_t name[16];
	uint8_t key[32];
};

/* The shared settings, built once at start (pc_tls_commit). */
struct pc_tls_config {
	struct pc_tls_ticket_key ticket;
	struct pc_tls_hello_policy hello; /* what a ClientHello must offer */
	char ciphers[1024];               /* the cipher list every connection gets */
	const char *sigalgs;              /* what a CertificateRequest lists (wolfSSL names) */
	WOLFSSL_CTX *ctx[RTE_MAX_LCORE];  /* per worker lcore: wolfSSL's context
					   * lock is never contended */
	bool armed;                       /* the contexts hold a certificate */
};

/* The shared settings; NULL before start. Immutable while workers run. */
extern struct pc_tls_config *pc_tls_active;
/* tls handshake-timeout: read when a connection starts. */
extern uint32_t pc_tls_handshake_timeout_ms;

/* Generations pinned by a worker's connections (tls_store.c): a ring of
 * (generation, connections) buckets, oldest first. When every bucket is
 * taken, new connections join the newest bucket, whose generation is
 * older than theirs: objects are then kept longer, never freed early. */
#define TLS_PIN_BUCKETS 64
struct tls_pins {
	uint64_t gen[TLS_PIN_BUCKETS];
	uint32_t count[TLS_PIN_BUCKETS];
	uint32_t head, n;
	uint64_t oldest;   /* published to the main lcore: UINT64_MAX = none */
};

/* tls_conn.c: connection pools (per_lcore objects on every lcore), the
 * IO callbacks a context needs, the size of one connection object. */
int pc_tls_conn_init(uint32_t per_lcore);
void pc_tls_conn_fini(void);
void pc_tls_set_io(WOLFSSL_CTX *ctx);
size_t pc_tls_conn_size(void);
/* The host a connection's ssl serves (struct pc_tls_host, tls_store.h). */
const struct pc_tls_host *pc_tls_conn_host(WOLFSSL *ssl);

/* tls_ticket.c: a fresh random key; contexts sealing tickets with it. */
int pc_tls_ticket_key_init(struct pc_tls_ticket_key *k);
int pc_tls_ticket_setup(WOLFSSL_CTX *ctx, const struct pc_tls_ticket_key *k);

/* Free the shared settings (workers stopped). */
void pc_tls_config_fini(void);
/* wolfSSL_new() wants a context with a certificate and key, though each
 * connection gets its own: the first cert ever committed is loaded into
 * every worker's context (main lcore, before that cert is published). */
int pc_tls_arm_contexts(const uint8_t *leaf, size_t leaf_len, const uint8_t *key,
			size_t key_len);
/* The suites of the cipher list a key of type key_oid can serve. */
unsigned int pc_tls_suites_for_key(int key_oid, uint16_t ids[PC_TLS_MAX_SUITES]);
/* The store (tls_store.c): tables made at init; everything freed at fini. */
int pc_tls_store_init(void);
void pc_tls_store_fini(void);
/* wolfSSL's verify callback for hosts that verify clients (tls_conn.c). */
int pc_tls_verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store);

/* Counters, per worker, written only by that worker. */
struct pc_tls_counters {
#define PC_TLS_STAT(name, help) uint64_t name;
#include "tls_stats.def"
#undef PC_TLS_STAT
	uint64_t err[PC_TLS_ERR__MAX];
	uint64_t verify[PC_VERIFY_NB_REASONS];
} __rte_cache_aligned;

/* Everything of TLS one worker owns and writes (VPP's per-thread
 * context): wolfSSL's arena, its connection pool, ClientHello scratch,
 * ticket nonces, pinned generations and counters. Other threads only read
 * (the main lcore sets it up and tears it down with the workers stopped). */
struct pc_tls_conn;
struct mem_arena;
struct pc_tls_worker {
	struct mem_arena *arena;   /* wolfSSL's memory (tls_mem.c) */
	struct pc_tls_conn *objs;  /* the pool */
	struct pc_tls_conn *free;
	uint32_t in_use;
	uint8_t *hello;            /* one whole ClientHello (tls_conn.c) */
	uint64_t ticket_nonce;
	struct tls_pins pins;
	struct pc_tls_counters cnt;
} __rte_cache_aligned;

extern struct pc_tls_worker pc_tls_workers[RTE_MAX_LCORE];

static inline struct pc_tls_worker *pc_tls_self(void)
{
	return &pc_tls_workers[rte_lcore_id() % RTE_MAX_LCORE];
}

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
