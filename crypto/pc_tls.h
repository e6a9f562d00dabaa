/* SPDX-License-Identifier: MIT */
/*
 * TLS termination: wolfSSL over the TCP callback API, hostname (SNI)
 * policies with client-certificate verification, the built-in HTTP
 * responder behind it.
 *
 * The configuration model is DESIGN.md's. Settings every host shares
 * (versions, suites, groups) are fixed at start into one WOLFSSL_CTX per
 * worker; the certificate and key are given to each connection when its
 * SNI has picked the host. Trust objects (hosts, ca-sets, certs) live in
 * RCU tables the management thread changes by transactions while traffic
 * flows; crypto/tls_store.h says what a worker may hold and for how long.
 */
#ifndef PC_TLS_H
#define PC_TLS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pc_tcp.h"
#include "pc_verify.h"

enum pc_tls_verify_mode {
	PC_TLS_VERIFY_NONE = 0,       /* no certificate requested */
	PC_TLS_VERIFY_OPTIONAL,       /* requested; verified when sent */
	PC_TLS_VERIFY_OPTIONAL_NO_CA, /* requested; recorded, never refused */
	PC_TLS_VERIFY_REQUIRED,       /* requested and must verify */
};

enum pc_tls_fail_action {
	PC_TLS_FAIL_ALERT = 0, /* abort the handshake with the reason's alert */
	PC_TLS_FAIL_HTTP403,   /* complete it; every HTTP request gets 403 */
};

#define PC_TLS_NAME_MAX 253
#define PC_TLS_PATH_MAX 1024
#define PC_TLS_MAX_PROTECTED 8
#define PC_TLS_MAX_TRUST_FILES 64
/* The first record (the ClientHello, up to 16 KiB + 5) must fit in the TCP
 * receive buffer. */
#define PC_TLS_MIN_RCVBUF 32768u

/* The settings every host shares, fixed at start: the shared contexts of
 * every worker are built from them. */
struct pc_tls_spec {
	uint8_t min_version, max_version; /* 2 = TLS 1.2, 3 = TLS 1.3 */
	char ciphers[1024];               /* wolfSSL names, ':'-separated; "" = default */
	char groups[256];                 /* "X25519:P-256:P-384" */
	uint32_t memory_mb;               /* wolfSSL memory per worker */
	uint32_t handshake_timeout_ms;
	uint32_t idle_timeout_ms;         /* an established connection with no traffic is reset */
	bool sha1_signatures;             /* TLS 1.2 CertificateVerify may use SHA-1 */
	uint32_t ticket_lifetime_s;       /* a ticket resumes for this long after its full handshake */
	char ticket_keys[PC_TLS_PATH_MAX]; /* "" = random keys, rotated every lifetime */
	uint32_t verify_cache;            /* verified chains cached per worker (0 = off) */
	uint32_t cert_expiry_warning_s;   /* certs expiring this soon are flagged */
};

#define PC_TLS_TICKET_LIFETIME_DEFAULT 3600
#define PC_TLS_VERIFY_CACHE_DEFAULT 1024

void pc_tls_spec_defaults(struct pc_tls_spec *s);

/*
 * Trust objects (tls_store.c, tls_txn.c): named, immutable, each replaced
 * as a whole. What an object is made of is its spec; a transaction stages
 * specs, and its commit builds and publishes the objects.
 *
 *   ca-set  roots, intermediates, CRLs and denied serials
 *   cert    a server certificate chain and its key
 *   host    a hostname's policy ("api.example.com", "*.example.com",
 *           "default"), naming a ca-set, a cert and a backend
 *   backend where a host's decrypted traffic goes (l7/): servers, how
 *           they are picked and checked, TCP or HTTP, TLS to them
 *
 * "host NAME ca FILE" and "host NAME cert CHAIN KEY" make private objects
 * named "host:NAME" (":" is not allowed in the names operators give),
 * deleted with their host.
 */
enum pc_tls_kind { PC_TLS_HOST, PC_TLS_CASET, PC_TLS_CERT, PC_TLS_BACKEND, PC_TLS_NB_KINDS };

/* A list of strings, each malloc()ed. */
struct pc_strv {
	unsigned int n;
	char **v;
};

int pc_strv_push(struct pc_strv *v, const char *s);
void pc_strv_free(struct pc_strv *v);

struct pc_tls_caset_spec {
	struct pc_strv files, crls, revoked; /* revoked: normalized hex serials */
};

struct pc_tls_cert_spec {
	char *chain, *key; /* PEM files: chain (leaf first), private key */
};

struct pc_tls_host_spec {
	enum pc_tls_verify_mode verify;
	char *backend;     /* a backend's name, or NULL: the built-in responder */
	enum pc_tls_fail_action on_failure;
	char *caset;       /* a ca-set's name, or NULL */
	char *cert;        /* a cert's name, or NULL: the default host's */
	uint8_t max_depth;
	enum pc_verify_eku eku;
	uint16_t min_rsa_bits;
	unsigned int nb_allow;
	struct pc_identity_pattern *allow;
	struct pc_strv protect;
	/* Per-host series in the metrics (`metrics on`): not part of the
	 * policy (nor of its digest), so that turning it on or off never
	 * refuses a ticket. */
	bool metrics;
};

/* Backends (`backend NAME ...`). */
#define PC_BACKEND_MAX_SERVERS 32
enum pc_backend_mode { PC_BACKEND_HTTP = 0, PC_BACKEND_TCP };
enum pc_backend_balance { PC_BACKEND_ROUNDROBIN = 0, PC_BACKEND_LEASTCONN };
enum pc_backend_health { PC_BACKEND_HEALTH_NONE = 0, PC_BACKEND_HEALTH_TCP, PC_BACKEND_HEALTH_HTTP };
/* The request headers HTTP mode sets (`backend NAME header WHICH NAME|off`),
 * in this order; the default names are pc_backend_header_default[]. */
enum pc_backend_header {
	PC_HDR_CLIENT_VERIFY,      /* X-SSL-Client-Verify */
	PC_HDR_CLIENT_S_DN,        /* X-SSL-Client-S-DN */
	PC_HDR_CLIENT_SAN,         /* X-SSL-Client-SAN */
	PC_HDR_CLIENT_SERIAL,      /* X-SSL-Client-Serial */
	PC_HDR_CLIENT_FINGERPRINT, /* X-SSL-Client-Fingerprint */
	PC_HDR_CLIENT_IDENTITY,    /* X-Client-Identity */
	PC_HDR_CLIENT_CERT,        /* Client-Cert (RFC 9440) */
	PC_HDR_CLIENT_CERT_CHAIN,  /* Client-Cert-Chain (RFC 9440) */
	PC_HDR_FORWARDED_FOR,      /* X-Forwarded-For */
	PC_HDR_FORWARDED_PROTO,    /* X-Forwarded-Proto */
	PC_BACKEND_NB_HEADERS
};
/* Default names, and the words of `backend NAME header WHICH`
 * ("client-verify", "client-s-dn", ...). */
extern const char *const pc_backend_header_default[PC_BACKEND_NB_HEADERS];
extern const char *const pc_backend_header_word[PC_BACKEND_NB_HEADERS];
/* Whether a backend may set a header of this name: an HTTP field name
 * (RFC 9110 token) of at most PC_BACKEND_HEADER_NAME_MAX bytes, and not
 * one that frames or routes the request (Host, Content-Length,
 * Transfer-Encoding, Connection...): the proxy removes the client's
 * copies of every header it sets. */
bool pc_backend_header_name_ok(const char *name);
#define PC_BACKEND_HEADER_NAME_MAX 64
#define PC_BACKEND_HEALTH_PATH_MAX 255
#define PC_BACKEND_CONNECT_MS_DEFAULT 5000
#define PC_BACKEND_IDLE_MS_DEFAULT 60000
#define PC_BACKEND_HEALTH_MS_DEFAULT 2000

struct pc_backend_server {
	uint32_t addr;   /* network order */
	uint16_t port;   /* network order */
	uint16_t weight; /* 1..256, default 1 */
};

struct pc_tls_backend_spec {
	unsigned int nb_servers;
	struct pc_backend_server servers[PC_BACKEND_MAX_SERVERS];
	enum pc_backend_mode mode;
	enum pc_backend_balance balance;
	bool proxy_v2;      /* PROXY protocol v2 header first (`send-proxy-v2`) */
	bool proxy_v2_cert; /* ... with the client certificate (`send-proxy-v2 cert`) */
	enum pc_backend_health health;
	char *health_path;  /* HTTP health checks: the path (GET), else NULL */
	uint32_t health_interval_ms;
	uint32_t connect_ms, idle_ms;  /* `timeouts CONNECT_MS IDLE_MS` */
	/* Request header names (HTTP mode): NULL = the default name, "" = off. */
	char *headers[PC_BACKEND_NB_HEADERS];
	/* TLS to the servers (`tls [ca FILE] [cert CHAIN KEY] [sni NAME]
	 * [verify-name NAME]`): without ca, the origin is not verified (as
	 * nginx's proxy_ssl_verify off; shown as such); verify-name defaults
	 * to sni. */
	bool tls;
	char *tls_ca, *tls_cert, *tls_key, *tls_sni, *tls_verify_name;
};

/* "host:NAME", the private ca-set or cert of host NAME. */
#define PC_TLS_PRIVATE_PREFIX "host:"

struct pc_tls_txn;

struct pc_tls_txn *pc_tls_txn_new(void);
void pc_tls_txn_free(struct pc_tls_txn *x);
/* How many objects the transaction changes. */
unsigned int pc_tls_txn_size(const struct pc_tls_txn *x);
/* The staged spec of an object: the committed one copied (or defaults for
 * a new one) when the transaction first touches it. NULL with err set
 * when the name is not valid for its kind or the object is being deleted
 * in the transaction. Main lcore. */
struct pc_tls_host_spec *pc_tls_txn_host(struct pc_tls_txn *x, const char *name, char *err,
					 size_t errlen);
struct pc_tls_caset_spec *pc_tls_txn_caset(struct pc_tls_txn *x, const char *name, char *err,
					   size_t errlen);
struct pc_tls_cert_spec *pc_tls_txn_cert(struct pc_tls_txn *x, const char *name, char *err,
					 size_t errlen);
struct pc_tls_backend_spec *pc_tls_txn_backend(struct pc_tls_txn *x, const char *name, char *err,
					       size_t errlen);
/* Stage the deletion of an object (it must exist, committed or staged). */
int pc_tls_txn_del(struct pc_tls_txn *x, enum pc_tls_kind kind, const char *name, char *err,
		   size_t errlen);
/* A transaction that states the whole trust configuration (a config file
 * read again by `reload`): an object it stages starts from defaults, not
 * from the committed spec, as at start. */
struct pc_tls_txn *pc_tls_txn_new_whole(void);
/* What a whole transaction changes (pc_tls_txn_reduce): counts, and the
 * first PC_TLS_DIFF_NAMES objects of each kind of change ("host a.test,
 * ca-set acme, ..."). */
#define PC_TLS_DIFF_NAMES 8
struct pc_tls_diff {
	unsigned long added, changed, removed, unchanged;
	char added_names[640], changed_names[640], removed_names[640];
};
/* Reduce a whole transaction to the difference with the committed state:
 * every committed object it does not name is staged for deletion, every
 * staged object equal to the committed one (same spec, files with the
 * same content as when it was built) is dropped, so the commit publishes
 * only what changed and unchanged objects keep their version. Costs a
 * look at every committed object and one read of each staged object's
 * files, no parsing. 0, or -1 with err set. Main lcore. */
int pc_tls_txn_reduce(struct pc_tls_txn *x, struct pc_tls_diff *d, char *err, size_t errlen);
/* "show staged": one line per staged object, as config commands. */
void pc_tls_txn_show(const struct pc_tls_txn *x, FILE *out);
/* Validate everything (files read and parsed, keys matching, CRL issuers in
 * their set, references resolved, no object changed by another commit
 * since this transaction first touched it) and publish every changed
 * object, or change nothing and return -1 with the reason in err. The
 * transaction is empty afterwards either way. Main lcore, after
 * pc_tls_init(). */
int pc_tls_txn_commit(struct pc_tls_txn *x, char *err, size_t errlen);

/* Checks a config line runs at once, so a bad file is named where it is
 * written: a certificate chain and key that load and match; a CA or CRL
 * file that parses. 0, or -1 with a message in err. */
int pc_tls_check_cert(const char *cert_file, const char *key_file, char *err, size_t errlen);
int pc_tls_check_trust_file(const char *file, bool crl, char *err, size_t errlen);
/* A client certificate chain and key (a backend's `tls cert`): as
 * pc_tls_check_cert, without asking for a cipher suite of the server's
 * list that fits the key (the backend's server picks). */
int pc_tls_check_client_cert(const char *cert_file, const char *key_file, char *err,
			     size_t errlen);
/* A ticket-keys file that reads and parses (pc_tls_ticket_keys_load). */
int pc_tls_check_ticket_keys(const char *file, char *err, size_t errlen);

/* Objects that come from files, for the file watcher (tls_files.c; main
 * lcore). */
#define PC_TLS_OBJ_FILES_MAX (2 * PC_TLS_MAX_TRUST_FILES)
#define PC_TLS_PAIR_MISMATCH (-2)
/* Called after every commit, once for each ca-set, cert and backend it
 * published (deleted: false) or deleted. */
typedef void (*pc_tls_commit_hook)(enum pc_tls_kind kind, const char *name, bool deleted);
void pc_tls_set_commit_hook(pc_tls_commit_hook fn);
/* The files the committed ca-set, cert or backend was built from (CA
 * files then CRL files; chain then key; a backend's `tls` CA, chain, key,
 * those it has), valid until the next commit: how many, or -1 when there
 * is no such object. */
int pc_tls_object_files(enum pc_tls_kind kind, const char *name, const char **paths,
			unsigned int max);
/* Whether its files hold something else than what it was built from: 1
 * (one changed or cannot be read), 0, -1 when there is no such object.
 * state: a digest of what the files hold now. */
int pc_tls_object_stale(enum pc_tls_kind kind, const char *name, uint8_t state[32]);
/* Build it again from its files without publishing anything: 0,
 * PC_TLS_PAIR_MISMATCH (a cert whose chain and key parse but do not
 * match: the other half may be on its way) or -1, with err set. */
int pc_tls_object_check(enum pc_tls_kind kind, const char *name, char *err, size_t errlen);
/* Whether the ticket-keys file holds other bytes than the keys in use came
 * from: 1, 0, -1 when the keys are random. */
int pc_tls_ticket_keys_stale(uint8_t state[32]);

/* Server certificate expiry: the warning window (`tls cert-expiry-warning`)
 * and a cert's state (how many are in each: pc_tls_cert_expiry()). */
#define PC_TLS_CERT_EXPIRY_WARNING_DEFAULT (7 * 86400)
enum pc_tls_expiry { PC_TLS_VALID, PC_TLS_EXPIRING, PC_TLS_EXPIRED };
void pc_tls_set_cert_expiry_warning(uint32_t s);
uint32_t pc_tls_cert_expiry_warning(void);
enum pc_tls_expiry pc_tls_expiry_of(int64_t not_after, int64_t now);
/* notAfter of cert NAME, INT64_MIN when there is none. */
int64_t pc_tls_cert_not_after(const char *name);

/* The host a name (a request's Host, port stripped; "" for none) picks,
 * as an SNI would (exact name, "*." wildcard, then "default"): its name
 * (lowercase, valid within the worker's loop pass) and whether it
 * requests client certificates. false when it picks none. Read-side
 * (a worker). */
bool pc_tls_host_pick(const char *name, const char **picked, bool *verifies);

/* Status (tls_show.c; main lcore). PATTERN: fnmatch(3) on host names, NULL
 * for all. json: one JSON document instead of text lines. */
struct pc_tls_store_counts {
	unsigned long hosts, casets, certs, backends;
	uint64_t generation; /* commits so far */
};
void pc_tls_store_counts(struct pc_tls_store_counts *c);
void pc_tls_show_hosts(FILE *out, const char *pattern, bool json);
/* 0, or -1 when there is no such object. */
int pc_tls_show_host(FILE *out, const char *name, bool json);
void pc_tls_show_casets(FILE *out, bool json);
int pc_tls_show_caset(FILE *out, const char *name, bool json);
void pc_tls_show_certs(FILE *out, bool json);
void pc_tls_show_backends(FILE *out, bool json);
int pc_tls_show_backend(FILE *out, const char *name, bool json);
/* What `show backends` and `show backend NAME` print of a server besides
 * its configuration: its state at run time over the workers (up or down,
 * connections...), given by l7/upstream.c through this hook. The hook
 * writes text fields (" state=up conns=3", each with a leading space)
 * or, with json, JSON members (",\"state\":\"up\"", each with a leading
 * comma) for server i of b. Without a hook only the configuration is
 * shown. Main lcore. */
struct pc_backend;
typedef void (*pc_tls_backend_state_fn)(FILE *out, const struct pc_backend *b, unsigned int i,
					bool json);
void pc_tls_set_backend_state(pc_tls_backend_state_fn fn);
/* The ticket keys: where from, their names (never the keys). */
void pc_tls_show_ticket_keys(FILE *out, bool json);
/* The config commands that rebuild every committed object. */
void pc_tls_dump_objects(FILE *out);

/* wolfSSL's allocations through our allocator: the process's first call
 * into wolfSSL (a block must be freed by the allocator that made it). */
int pc_tls_route_memory(void);

/* Process-wide set-up, main lcore, after rte_eal_init(): wolfSSL's
 * allocator routed to per-worker hugepage arenas of memory_mb each,
 * connection pools of conns_per_lcore objects. 0 or a negative errno,
 * with the reason on stderr. */
int pc_tls_init(const struct pc_tls_spec *s, uint32_t conns_per_lcore);
/* Build the shared settings (every worker's contexts) and publish them.
 * Once, at start, main lcore. 0, or -1 with the reason in err. */
int pc_tls_commit(const struct pc_tls_spec *s, char *err, size_t errlen);
/* A new handshake timeout, for connections that start afterwards. */
void pc_tls_set_handshake_timeout(uint32_t ms);
/* `tls idle-timeout` (nginx's keepalive_timeout is 75 s). */
#define PC_TLS_IDLE_TIMEOUT_DEFAULT 60000
void pc_tls_set_idle_timeout(uint32_t ms);
/* A new ticket lifetime, for every ticket from now on (those already
 * issued included). */
void pc_tls_set_ticket_lifetime(uint32_t s);
/* Session-ticket keys from a file (NAME and 64 hex digits per line, newest
 * first: the first seals new tickets, all open them), or random ones when
 * file is NULL or "". Replaces the current set at once. Main lcore; 0, or
 * -1 with err set and the current set kept. */
int pc_tls_ticket_keys_load(const char *file, char *err, size_t errlen);
/* The file of the current keys, "" for random keys. */
const char *pc_tls_ticket_keys_file(void);
/* Random keys: a new one every ticket lifetime. Main lcore, periodically. */
void pc_tls_ticket_timer(void);
/* Free replaced objects that no connection holds any more. Main lcore,
 * periodically. */
void pc_tls_reclaim(void);
/* After the workers stopped: free the configuration and the arenas. */
void pc_tls_fini(void);

/* The TCP application of TLS listeners (app_arg unused): TLS with the
 * HTTP responder behind it. */
extern const struct pc_tcp_app pc_tls_http_app;

/* For the metrics (mgmt/metrics.c). The counters of tls_stats.def and
 * tls_errors.def one by one: name and help, NULL past the last. */
#define PC_TLS_MAX_COUNTERS 32
const char *pc_tls_stat_name(unsigned int i, const char **help);
const char *pc_tls_err_name(unsigned int i, const char **help);
/* Handshake durations, from the first bytes of the ClientHello to the
 * handshake's end (completed handshakes), counted per worker in buckets
 * with these upper bounds (seconds), the last bucket unbounded. */
#define PC_TLS_HS_BUCKETS 14
extern const double pc_tls_hs_bounds[PC_TLS_HS_BUCKETS - 1];
/* Everything TLS counts, summed over the workers. Any thread. */
struct pc_tls_sums {
	uint64_t stat[PC_TLS_MAX_COUNTERS], err[PC_TLS_MAX_COUNTERS];
	uint64_t verify[PC_VERIFY_NB_REASONS];
	uint64_t hs_bucket[PC_TLS_HS_BUCKETS]; /* each its own, not cumulative */
	uint64_t hs_cycles;                    /* their durations' sum, TSC cycles */
	uint64_t conns_active, chain_cache_entries, chain_cache_key_tables;
	uint64_t conn_object_bytes;            /* conns_active's connection objects */
	uint64_t mem_reserved, mem_in_use, mem_failures;
};
void pc_tls_sums(struct pc_tls_sums *s);
/* The hosts marked `metrics on`, sorted by name, in a malloc()ed array
 * (*out; NULL when none): the count. Names point into the trust objects:
 * valid until the next commit. Main lcore. */
struct pc_tls_host_metrics {
	const char *name;
	uint64_t handshakes, failures;
	const char *cert;      /* the cert it serves (its own or the default's), or NULL */
	int64_t cert_not_after;
	/* Failures by reason, as pc_tls_sums() has them for all hosts (those
	 * `failures` counts, and verification outcomes): false when the host
	 * has none yet. */
	bool by_reason;
	uint64_t err[PC_TLS_MAX_COUNTERS], verify[PC_VERIFY_NB_REASONS];
};
size_t pc_tls_metrics_hosts(struct pc_tls_host_metrics **out);
/* Server certificates: how many, how many have expired, how many expire
 * within `tls cert-expiry-warning` (not expired yet), the earliest
 * notAfter (INT64_MAX when none). Main lcore. */
struct pc_tls_cert_expiry {
	unsigned long certs, expired, expiring;
	int64_t earliest;
};
void pc_tls_cert_expiry(struct pc_tls_cert_expiry *e, int64_t now);

/* TLS to backends' servers (crypto/tls_client.c): the outcomes of
 * crypto/tls_origin.def one by one (name and help, NULL past the last),
 * and their sums over the workers with the server verifications by
 * reason and the client connections open. Any thread. */
const char *pc_tls_origin_name(unsigned int i, const char **help);
struct pc_tls_origin_sums {
	uint64_t outcome[PC_TLS_MAX_COUNTERS];
	uint64_t verify[PC_VERIFY_NB_REASONS];
	uint64_t active;
};
void pc_tls_origin_sums(struct pc_tls_origin_sums *s);

/* TLS counters over all workers ("name value" lines, as the dataplane's),
 * verification outcomes by reason included. Any thread. */
void pc_tls_dump_counters(FILE *out);

#endif
