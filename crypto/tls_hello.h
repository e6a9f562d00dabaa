/* SPDX-License-Identifier: MIT */
/*
 * The ClientHello, checked before wolfSSL sees it (tls_hello.c): the
 * server name it asks for, and the refusals RFC 8446, 6066 and 7301 want
 * with a precise alert that wolfSSL 5.5.4 does not give (it answers some
 * of these with a ServerHello and a silent close, or not at all). Pure
 * parsing: no DPDK, no wolfSSL state; fuzzed by fuzz_tls_hello.
 */
#ifndef PC_TLS_HELLO_H
#define PC_TLS_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls_alert.h"

#define PC_TLS_HELLO_NAME_MAX 253
#define PC_TLS_HELLO_MAX_GROUPS 4


/* What the server accepts (from the TLS configuration). */
struct pc_tls_hello_policy {
	uint16_t groups[PC_TLS_HELLO_MAX_GROUPS]; /* IANA ids, in preference order */
	unsigned int nb_groups;
	bool tls13;              /* TLS 1.3 may be negotiated */
	bool tls12;              /* TLS 1.2 may be negotiated */
	const char *alpn;        /* the one protocol we speak ("http/1.1") */
};

struct pc_tls_hello {
	char sni[PC_TLS_HELLO_NAME_MAX + 1]; /* "" when none */
	bool session_id;         /* a non-empty legacy_session_id */
	bool tls13;              /* TLS 1.3 will be negotiated */
	const uint8_t *suites;   /* the cipher_suites vector, inside msg */
	size_t suites_len;
	uint8_t alert;           /* 0, or the alert that refuses the hello */
	const char *why;         /* with alert: which check, for logs and tests */
};

/* msg: one whole handshake message (4-byte header included) of len
 * bytes. Fills out; returns out->alert. */
uint8_t pc_tls_hello_check(const uint8_t *msg, size_t len, const struct pc_tls_hello_policy *pol,
			   struct pc_tls_hello *out);
/* Whether the checked hello offers one of ours (IANA ids) for the
 * version it will get: a TLS 1.3 suite for 1.3, another for 1.2. */
bool pc_tls_hello_suite_in_common(const struct pc_tls_hello *h, const uint16_t *ours,
				  unsigned int n);

#endif
