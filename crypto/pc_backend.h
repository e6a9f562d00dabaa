/* SPDX-License-Identifier: MIT */
/*
 * A backend as workers read it (`backend NAME ...`): one immutable
 * version of a trust-table object (crypto/tls_store.h says how long a
 * worker may hold it: a connection holds the version its host named when
 * its handshake ended, whatever is committed meanwhile).
 *
 * A new version of the same backend keeps its id: the per-worker state
 * that outlives versions (server health, idle kept-alive connections,
 * connection counts: l7/upstream.c) is keyed on it, and a server keeps
 * its state across versions as long as its address and port stay.
 */
#ifndef PC_BACKEND_H
#define PC_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "pc_tls.h"

struct pc_trust;

struct pc_backend {
	const char *name;
	uint32_t id;           /* the same for every version of this backend */
	struct pc_tls_backend_spec spec;
	/* Request header names in use (HTTP mode): NULL when off. */
	const char *header[PC_BACKEND_NB_HEADERS];
	/* TLS to the servers (spec.tls), built at commit from the files:
	 * the origin's trust (NULL when spec.tls_ca is: not verified), the
	 * name its certificate must carry (NULL: none checked), the client
	 * certificate chain (DER, leaf first, back to back) and key (DER), or
	 * NULL when there is no `cert`. */
	struct pc_trust *origin_trust;
	const char *verify_name;
	const uint8_t *client_chain;
	size_t client_chain_len;
	const uint8_t *client_key;
	size_t client_key_len;
	int client_key_oid;    /* ECDSAk, RSAk, ... */
};

#endif
