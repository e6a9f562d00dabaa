/* SPDX-License-Identifier: MIT */
/*
 * Private to crypto/: the trust objects as workers read them.
 *
 * Every named object has an entry (struct tls_entry) in an RCU hash table
 * of its kind (liburcu's rculfhash, QSBR flavour): hosts by lowercase name,
 * ca-sets, certs and backends by name. An entry's `cur` points to the object's
 * current version, immutable once published. The management thread (main
 * lcore) is the only writer: a commit builds new versions completely,
 * publishes each with one rcu_xchg_pointer() on its entry (an entry is
 * added with cds_lfht_add, removed with cds_lfht_del), then bumps
 * pc_tls_generation. A host version names its ca-set, cert and backend by
 * entry, so replacing a ca-set shared by 10,000 hosts is one pointer swap.
 *
 * What a worker may hold:
 *   - within one loop pass (between two quiescent states): any entry or
 *     version it found through the tables or through entry->cur;
 *   - across quiescent states: the versions and entries a connection
 *     picked when it started, pinned by tls_pin(): the connection records
 *     the generation it started in, and a version or entry replaced or
 *     removed by the commit that made generation R is freed only after a
 *     grace period and once no worker has a connection pinned in a
 *     generation below R (struct tls_pins). A handshake so finishes with
 *     the objects it started with, whatever commits happen meanwhile.
 * The main lcore reads entries and versions freely (it is the writer).
 */
#ifndef PC_TLS_STORE_H
#define PC_TLS_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <urcu-qsbr.h>
#include <urcu/rculfhash.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "pc_backend.h"
#include "tls.h"

/* A host's failures by reason, for the metrics of hosts marked `metrics
 * on` (relaxed atomics, any worker). */
struct tls_host_reasons {
	uint64_t err[PC_TLS_ERR__MAX];
	uint64_t verify[PC_VERIFY_NB_REASONS];
};

struct tls_entry {
	struct cds_lfht_node node;
	enum pc_tls_kind kind;
	char *name;            /* hosts: lowercase */
	void *cur;             /* rcu: the current version */
	uint64_t changed;      /* generation of the commit that last changed it */
	uint32_t refs;         /* ca-sets, certs, backends: hosts that name it (main lcore) */
	uint32_t id;           /* backends: struct pc_backend's id, kept by every version */
	bool certless;         /* hosts: the version has no cert (main lcore) */
	/* Hosts: handshakes completed and refused or failed after the host
	 * was picked (relaxed atomics, any worker). */
	uint64_t handshakes, failures;
	/* Hosts: set (rcu) when a version with `metrics on` is first
	 * published, never unset; freed with the entry. */
	struct tls_host_reasons *reasons;
};

struct pc_tls_caset {
	struct pc_tls_caset_spec spec;
	struct pc_trust *trust;
	int64_t loaded;        /* Unix time it was built */
	uint8_t files_digest[PC_TRUST_DIGEST_LEN]; /* tls_store_files_digest() of what was read */
};

struct pc_tls_cert {
	struct pc_tls_cert_spec spec;
	uint8_t *chain;        /* DER certificates, leaf first, back to back */
	size_t chain_len, leaf_len;
	uint8_t *key;          /* DER private key */
	size_t key_len;
	int key_oid;           /* ECDSAk, RSAk, ... */
	/* The chain and key as wolfSSL loaded them, once, lent to every
	 * connection that serves them (tls_conn.c, patches/wolfssl/0012):
	 * nothing parsed or copied per handshake. NULL for a backend's client
	 * certificate. */
	WOLFSSL_CERT_LOAN *held;
	unsigned int nb_suites;
	uint16_t suites[PC_TLS_MAX_SUITES]; /* IANA ids a connection can negotiate with it */
	char subject[256];
	char sig_alg[32], key_alg[16]; /* pc_cert_algs() of the leaf */
	int64_t not_after, loaded;
	uint8_t files_digest[PC_TRUST_DIGEST_LEN]; /* tls_store_files_digest() of what was read */
};

/* A backend version: what workers read (pub, first: the accessor hands
 * out its address), and what it was built from. */
struct pc_tls_backend {
	struct pc_backend pub;          /* pub.name: name; pub.spec: the spec */
	char *name;
	struct pc_tls_caset *origin;    /* `tls ca FILE` as a one-file ca-set, or NULL */
	struct pc_tls_cert *client;     /* `tls cert CHAIN KEY`, or NULL */
	int64_t loaded;                 /* Unix time it was built */
	uint8_t files_digest[PC_TRUST_DIGEST_LEN]; /* tls_store_files_digest() before the build */
};

struct pc_tls_host {
	char *name;            /* the entry's name: lowercase */
	struct pc_tls_host_spec spec;
	struct pc_verify_policy policy; /* allow points into spec */
	/* SHA-256 of what decides a client's verdict here: the verify mode,
	 * the action on failure and the policy (tickets, chain cache). */
	uint8_t digest[PC_TRUST_DIGEST_LEN];
	struct tls_entry *caset;        /* NULL when spec.caset is */
	struct tls_entry *cert;         /* NULL: the default host's */
	struct tls_entry *backend;      /* NULL when spec.backend is: the built-in responder */
};

/* Generation of the last commit; read with acquire ordering. */
extern uint64_t pc_tls_generation;

/* The host entry an SNI name picks: the exact name, then "*." and the name
 * without its first label, then "default"; NULL when none. Read-side. */
struct tls_entry *tls_store_find_host(const char *sni);
/* The current version of the cert a host serves (its own or the
 * default's), or NULL. Read-side. */
const struct pc_tls_cert *tls_store_host_cert(const struct pc_tls_host *h);
/* The current version of the backend a host forwards to, or NULL (the
 * built-in responder). Read-side: a connection that keeps it across
 * quiescent states holds it by the pin of its handshake (tls_pin). */
const struct pc_backend *tls_store_host_backend(const struct pc_tls_host *h);

/* Pin the current generation for a new connection of this worker (in the
 * same loop pass as the lookups it protects); returns the token to give
 * back to tls_unpin() when the connection ends. */
uint8_t tls_pin(struct tls_pins *p);
void tls_unpin(struct tls_pins *p, uint8_t token);

/* Main lcore: the tables, for tls_txn.c and tls_show.c. */
struct cds_lfht *tls_store_table(enum pc_tls_kind kind);
struct tls_entry *tls_store_get(enum pc_tls_kind kind, const char *name);
/* Add an entry to its table (e->cur set) / take it out (then retire it). */
void tls_store_link(struct tls_entry *e);
void tls_store_unlink(struct tls_entry *e);
/* Entries in a table (O(1)). */
unsigned long tls_store_count(enum pc_tls_kind kind);
/* Retire a version or an entry replaced or removed by the commit that makes
 * generation gen: freed by pc_tls_reclaim() when no connection can hold it. */
void tls_store_retire(enum pc_tls_kind kind, void *obj, bool entry, uint64_t gen);
void tls_store_free_version(enum pc_tls_kind kind, void *v);
/* Builders (files read and checked): NULL with err set. */
struct pc_tls_caset *tls_store_build_caset(const struct pc_tls_caset_spec *s, char *err,
					   size_t errlen);
struct pc_tls_cert *tls_store_build_cert(const struct pc_tls_cert_spec *s, char *err,
					 size_t errlen);
/* The same, and *mismatch set when the chain and the key both parse but
 * do not belong together. */
struct pc_tls_cert *tls_store_build_cert_pair(const struct pc_tls_cert_spec *s, bool *mismatch,
					      char *err, size_t errlen);
/* A backend from its spec: servers checked, header names, the origin's
 * trust from the CA file, the client certificate and key (matching); the
 * id is the caller's to set (the entry's). *mismatch as for a cert pair. */
struct pc_tls_backend *tls_store_build_backend(const char *name,
					       const struct pc_tls_backend_spec *s, bool *mismatch,
					       char *err, size_t errlen);
/* After a commit published or deleted a ca-set, cert or backend (tls_txn.c). */
void tls_files_published(enum pc_tls_kind kind, const char *name, bool deleted);

/* SHA-256 over the contents of the files a ca-set, cert or backend spec
 * names, in spec order: a version keeps the digest of the bytes it was built from,
 * so a reload knows a file changed under an unchanged spec without
 * parsing it. 0, or -1 with err set (a file that cannot be read). */
int tls_store_files_digest(enum pc_tls_kind kind, const void *spec,
			   uint8_t out[PC_TRUST_DIGEST_LEN], char *err, size_t errlen);

/* Spec helpers (tls_txn.c). */
void tls_spec_free(enum pc_tls_kind kind, void *spec);
int tls_spec_copy(enum pc_tls_kind kind, void *dst, const void *src);
/* Do two specs of kind make the same object (files compared by name)? */
bool tls_spec_equal(enum pc_tls_kind kind, const char *name, const void *a, const void *b);
/* The config commands that make an object (a host's private ca-set and
 * cert given, when it has them, as its shortcuts). */
void tls_spec_dump(FILE *out, enum pc_tls_kind kind, const char *name, const void *spec,
		   const struct pc_tls_caset_spec *private_caset,
		   const struct pc_tls_cert_spec *private_cert);

#endif
