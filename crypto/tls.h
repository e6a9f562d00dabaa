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

/* Session-ticket keys (tls_ticket.c): one set for the process, every
 * worker, newest first; replaced as a whole (RCU). */
#define PC_TLS_MAX_TICKET_KEYS 16
#define PC_TLS_TICKET_KEY_NAME_MAX 64
struct tls_ticket_key {
	uint8_t id[16];   /* the ticket's key_name on the wire */
	uint8_t key[32];  /* ChaCha20-Poly1305 */
	char name[PC_TLS_TICKET_KEY_NAME_MAX + 1];
};
struct pc_tls_ticket_keys {
	unsigned int n;
	struct tls_ticket_key k[PC_TLS_MAX_TICKET_KEYS];
	char file[PC_TLS_PATH_MAX]; /* "" = random keys */
	int64_t loaded;             /* Unix time */
	uint64_t serial;            /* sets published so far */
	uint8_t digest[PC_TRUST_DIGEST_LEN]; /* SHA-256 of the file as read */
};

/* What a ticket carries besides wolfSSL's state (tls_ticket.c). */
struct tls_ticket_claims {
	bool resumable;       /* false: sealed after a failed verification */
	bool verified;        /* a verified client certificate (else none was sent) */
	uint8_t host_digest[PC_TRUST_DIGEST_LEN];  /* struct pc_tls_host's digest */
	uint8_t trust_digest[PC_TRUST_DIGEST_LEN]; /* its ca-set's content; zeros: none */
	int64_t issued;       /* Unix time of the full handshake */
	int64_t valid_until;  /* verified: pc_verify_result's */
	char subject[256], serial[66], identity[256];
};
/* Their encoding's largest size (the wolfSSL build leaves room for it). */
#define TLS_TICKET_CLAIMS_MAX (2 + 2 * PC_TRUST_DIGEST_LEN + 16 + 256 + 66 + 256)

enum tls_ticket_verdict {
	TLS_TICKET_OK = 0,
	TLS_TICKET_UNKNOWN_KEY = -1, /* sealed under a key not held */
	TLS_TICKET_INVALID = -2,     /* does not open, or its claims do not parse */
	TLS_TICKET_STALE = -3,       /* the host's policy or ca-set changed since */
	TLS_TICKET_EXPIRED = -4,     /* too old, or the verified path expired */
};

size_t tls_ticket_claims_write(const struct tls_ticket_claims *c, uint8_t *buf);
int tls_ticket_claims_read(const uint8_t *buf, size_t len, struct tls_ticket_claims *c);
/* Can a ticket with claims t resume on a connection whose own claims are
 * cur, at now? */
enum tls_ticket_verdict tls_ticket_judge(const struct tls_ticket_claims *t,
					 const struct tls_ticket_claims *cur, int64_t now,
					 uint32_t lifetime_s);
/* Open a sealed ticket of len bytes in place (wolfSSL's state, then our
 * claims, then their length): the length of wolfSSL's state, or
 * TLS_TICKET_UNKNOWN_KEY / TLS_TICKET_INVALID. */
int tls_ticket_open(const struct pc_tls_ticket_keys *ks, const char *host,
		    const uint8_t name[WOLFSSL_TICKET_NAME_SZ], const uint8_t iv[WOLFSSL_TICKET_IV_SZ],
		    const uint8_t mac[WOLFSSL_TICKET_MAC_SZ], uint8_t *ticket, int len,
		    struct tls_ticket_claims *claims);
/* Seal len bytes of wolfSSL's state followed by claims (ticket has room
 * for TLS_TICKET_CLAIMS_MAX + 2 more) under k, the name on the wire being
 * k->id: the sealed length, or TLS_TICKET_INVALID. */
int tls_ticket_seal(const struct tls_ticket_key *k, const char *host,
		    const uint8_t iv[WOLFSSL_TICKET_IV_SZ], uint8_t mac[WOLFSSL_TICKET_MAC_SZ],
		    uint8_t *ticket, int len, const struct tls_ticket_claims *claims);
/* Parse a key file (NAME and 64 hex digits per line, newest first). */
int tls_ticket_keys_parse(const char *text, size_t len, struct pc_tls_ticket_keys *ks, char *err,
			  size_t errlen);
/* The current key set (main lcore). */
const struct pc_tls_ticket_keys *tls_ticket_keys(void);

/* The shared settings, built once at start (pc_tls_commit). */
struct pc_tls_config {
	struct pc_tls_hello_policy hello; /* what a ClientHello must offer */
	char ciphers[1024];               /* the cipher list every connection gets */
	const char *sigalgs;              /* what a CertificateRequest lists (wolfSSL names) */
	WOLFSSL_CTX *ctx[RTE_MAX_LCORE];  /* per worker lcore: wolfSSL's context
					   * lock is never contended */
	WOLFSSL_CTX *client_ctx[RTE_MAX_LCORE]; /* the same, for TLS to backends
						 * (tls_client.c) */
	bool armed;                       /* the contexts hold a certificate */
};

/* The shared settings; NULL before start. Immutable while workers run. */
extern struct pc_tls_config *pc_tls_active;
/* tls handshake-timeout: read when a connection starts. */
extern uint32_t pc_tls_handshake_timeout_ms;
/* An established connection with no traffic either way is reset after
 * this (`tls idle-timeout`; a backend's connections: its own idle limit). */
extern uint32_t pc_tls_idle_timeout_ms;
/* tls ticket-lifetime: read when a connection starts and a ticket opens. */
extern uint32_t pc_tls_ticket_lifetime_s;

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

/* tls_client.c: the IO callbacks of client contexts; the origin
 * counters' lines in pc_tls_dump_counters(). */
void pc_tls_client_set_io(WOLFSSL_CTX *ctx);
void pc_tls_origin_dump(FILE *out);

/* tls_ticket.c: contexts sealing and opening tickets. */
int pc_tls_ticket_setup(WOLFSSL_CTX *ctx);
void pc_tls_ticket_fini(void);
/* tls_conn.c, for tls_ticket.c: the claims a ticket sealed now on this
 * connection carries (also what a ticket must match to resume on it);
 * a ticket accepted, whose claims the connection takes if wolfSSL
 * resumes the session. */
void pc_tls_conn_claims(WOLFSSL *ssl, struct tls_ticket_claims *c, int64_t now);
void pc_tls_conn_offer(WOLFSSL *ssl, const struct tls_ticket_claims *c);
/* wolfSSL opens a ticket up to three times in one handshake: true the
 * first time this one (its IV) is seen, so that it is counted once. */
bool pc_tls_conn_first_look(WOLFSSL *ssl, const uint8_t iv[WOLFSSL_TICKET_IV_SZ]);

/* tls_vcache.c: the verified-chain cache, one per worker (NULL = off). */
#define TLS_VCACHE_KEY_LEN 32
struct tls_vcache;
struct tls_vcache *tls_vcache_new(uint32_t entries, int socket);
void tls_vcache_free(struct tls_vcache *c);
/* The key of a chain as a host with that digest and trust would judge it. */
int tls_vcache_key(const uint8_t host[PC_TRUST_DIGEST_LEN], const uint8_t trust[PC_TRUST_DIGEST_LEN],
		   const uint8_t *const *der, const uint32_t *len, unsigned int n,
		   uint8_t key[TLS_VCACHE_KEY_LEN]);
/* A cached success still valid at now, copied to out; *table: the table
 * of the leaf's key (DER leaf, leaf_len bytes) when the entry has one, a
 * reference the caller gives back with tls_vcache_table_put(), else NULL. */
struct tls_vcache_table;
bool tls_vcache_get(struct tls_vcache *c, const uint8_t key[TLS_VCACHE_KEY_LEN], int64_t now,
		    const uint8_t *leaf, uint32_t leaf_len, struct pc_verify_result *out,
		    struct tls_vcache_table **table);
/* The table itself (patches/wolfssl/0015's layout). */
const uint8_t *tls_vcache_table_data(const struct tls_vcache_table *t);
void tls_vcache_table_put(struct tls_vcache_table *t);
void tls_vcache_put(struct tls_vcache *c, const uint8_t key[TLS_VCACHE_KEY_LEN],
		    const struct pc_verify_result *res);
/* Entries in use, leaf key tables alive (any thread: relaxed reads). */
uint32_t tls_vcache_used(const struct tls_vcache *c);
uint32_t tls_vcache_tables(const struct tls_vcache *c);

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
	uint64_t hs_bucket[PC_TLS_HS_BUCKETS]; /* handshake durations (pc_tls_hs_bounds) */
	uint64_t hs_cycles;
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
	struct tls_vcache *vcache; /* verified chains (tls_vcache.c) */
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
