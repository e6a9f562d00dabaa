/* SPDX-License-Identifier: MIT */
/*
 * TLS termination: wolfSSL over the TCP callback API, hostname (SNI)
 * policies with client-certificate verification, the built-in HTTP
 * responder behind it.
 *
 * The configuration model is DESIGN.md's: the management thread stages a
 * description (pc_tls_stage_*: files are read and checked as each command
 * is given, so errors name the command), then commits it into an immutable
 * struct pc_tls_config (per-worker WOLFSSL_CTXs, trust objects, policies)
 * published with one pointer swap. Workers read the published pointer as
 * liburcu QSBR readers when a connection starts and keep a per-worker
 * reference to it for the connection's life, so a handshake finishes with
 * the state it started with; the management thread frees a replaced
 * configuration once a grace period has passed and its references are gone.
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
#define PC_TLS_MAX_HOSTS 64
#define PC_TLS_MAX_PROTECTED 8
#define PC_TLS_MAX_TRUST_FILES 8
/* The first record (the ClientHello, up to 16 KiB + 5) must fit in the TCP
 * receive buffer. */
#define PC_TLS_MIN_RCVBUF 32768u

/* What the management thread stages: one per hostname. */
struct pc_tls_host_spec {
	char name[PC_TLS_NAME_MAX + 1]; /* "api.example.com", "*.example.com", "default" */
	char cert_file[PC_TLS_PATH_MAX];  /* chain, leaf first */
	char key_file[PC_TLS_PATH_MAX];
	enum pc_tls_verify_mode verify;
	enum pc_tls_fail_action on_failure;
	unsigned int nb_ca, nb_crl;
	char ca_files[PC_TLS_MAX_TRUST_FILES][PC_TLS_PATH_MAX];
	char crl_files[PC_TLS_MAX_TRUST_FILES][PC_TLS_PATH_MAX];
	struct pc_verify_policy policy;
	unsigned int nb_protected;
	char protected[PC_TLS_MAX_PROTECTED][128];
};

struct pc_tls_spec {
	uint8_t min_version, max_version; /* 2 = TLS 1.2, 3 = TLS 1.3 */
	char ciphers[1024];               /* wolfSSL names, ':'-separated; "" = default */
	char groups[256];                 /* "X25519:P-256:P-384" */
	uint32_t memory_mb;               /* wolfSSL memory per worker */
	uint32_t handshake_timeout_ms;
	unsigned int nb_hosts;
	struct pc_tls_host_spec hosts[PC_TLS_MAX_HOSTS];
};

void pc_tls_spec_defaults(struct pc_tls_spec *s);
/* The host named name, created with defaults if new (NULL when full). */
struct pc_tls_host_spec *pc_tls_spec_host(struct pc_tls_spec *s, const char *name);
/* Check a staged item now, so that a config line is refused where it is
 * written: a certificate chain and key that load and match; a CA file
 * whose certificates parse and are CAs; a CRL that parses. 0, or -1 with
 * a message in err. */
int pc_tls_check_cert(const char *cert_file, const char *key_file, char *err, size_t errlen);
int pc_tls_check_trust(const struct pc_tls_host_spec *h, char *err, size_t errlen);

/* wolfSSL's allocations through our allocator: the process's first call
 * into wolfSSL (a block must be freed by the allocator that made it). */
int pc_tls_route_memory(void);

/* Process-wide set-up, main lcore, after rte_eal_init(): wolfSSL's
 * allocator routed to per-worker hugepage arenas of memory_mb each,
 * connection pools of conns_per_lcore objects. 0 or a negative errno,
 * with the reason on stderr. */
int pc_tls_init(const struct pc_tls_spec *s, uint32_t conns_per_lcore);
/* Build every object of spec (per-worker contexts included) and publish
 * it; the previous configuration, if any, is freed after a grace period.
 * Main lcore. 0, or -1 with the reason in err (nothing changes then). */
int pc_tls_commit(const struct pc_tls_spec *s, char *err, size_t errlen);
/* Free replaced configurations that no connection holds any more.
 * Main lcore, periodically. */
void pc_tls_reclaim(void);
/* After the workers stopped: free the configuration and the arenas. */
void pc_tls_fini(void);

/* The TCP application of TLS listeners (app_arg unused): TLS with the
 * HTTP responder behind it. */
extern const struct pc_tcp_app pc_tls_http_app;

/* TLS counters over all workers ("name value" lines, as the dataplane's),
 * verification outcomes by reason included. Any thread. */
void pc_tls_dump_counters(FILE *out);

#endif
