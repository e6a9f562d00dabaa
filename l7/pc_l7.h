/* SPDX-License-Identifier: MIT */
/*
 * The plaintext side of a TLS connection: what TLS (crypto/tls_conn.c)
 * drives once the handshake is done. Three implementations: the built-in
 * HTTP responder (http.c), the HTTP proxy (http_proxy.c) and the TCP
 * proxy (tcp_proxy.c); the host's backend picks one (pc_l7_pick).
 *
 * TLS decrypts what the client sends and offers it to input(), which
 * takes what it can (the rest stays, and the client's TCP window stays
 * closed until it is taken); TLS pulls output() while the client's TCP
 * send buffer can take whole records and encrypts it. When the plaintext
 * side has output or can take input again for a reason of its own (a
 * backend sent bytes, or drained), it calls pc_l7_kick().
 *
 * Everything runs on the worker that owns the client's connection.
 */
#ifndef PC_L7_H
#define PC_L7_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pc_verify.h"

struct pc_backend;
struct pc_http_log;
struct pc_lcore;
/* The TLS connection, as its plaintext side sees it. */
struct pc_l7_conn;

#define PC_L7_MAX_PROTECTED 8

/* What a plaintext side knows of its connection: fixed when the
 * handshake ends; strings and pointers stay valid until stop(). */
struct pc_l7_env {
	struct pc_lcore *lc;          /* the worker */
	const char *sni;              /* "" when the client sent none */
	/* The host (policy) the SNI picked, and whether it requests client
	 * certificates (then a request's Host must pick the same host). */
	const char *host;
	bool host_verifies;
	/* Verification. A resumed session stands for its full handshake: its
	 * ticket's claims give identity and verdict, and there is no chain. */
	bool resumed;
	bool cert_presented;          /* the client sent a certificate */
	bool verified;                /* ... and it verified here */
	enum pc_verify_reason vreason; /* why not, when presented and not verified */
	const struct pc_verify_result *vres; /* subject, issuer, serial, identity */
	const char *identity;         /* verified client identity, NULL if none */
	/* The client's chain as it sent it (DER, leaf first), when the
	 * host's backend asked for it (HTTP mode; send-proxy-v2 cert), and a
	 * SHA-256 of the leaf; none on a resumed session. */
	unsigned int nb_certs;
	const uint8_t *cert[PC_VERIFY_MAX_PEER];
	uint32_t cert_len[PC_VERIFY_MAX_PEER];
	bool has_fingerprint;
	uint8_t fingerprint[32];
	/* The session: "TLSv1.3", an OpenSSL-style suite name, the
	 * signature and key algorithms of the certificate we served (""
	 * when unknown: HAProxy's PP2_SUBTYPE_SSL_SIG_ALG / _KEY_ALG words,
	 * "ecdsa-with-SHA256", "EC256"; HAProxy 2.6 sends its frontend
	 * certificate's, not the client's), ALPN ("" when none). */
	const char *version, *cipher, *sig_alg, *key_alg, *alpn;
	uint32_t client_addr, local_addr; /* network order */
	uint16_t client_port, local_port; /* network order */
	/* The built-in responder's policy. */
	bool verify_failed_403;       /* verification failed, host action http403 */
	unsigned int nb_protected;    /* path prefixes that need a verified client */
	const char *protected[PC_L7_MAX_PROTECTED];
	/* Where requests go: NULL for the built-in responder. */
	const struct pc_backend *backend;
};

/* Context bytes a connection keeps for its plaintext side: the largest
 * context (the responder's, 600 bytes) with a little room, as every TLS
 * connection object holds this many (the _Static_asserts next to each
 * context say when it must grow). */
#define PC_L7_CTX_MAX 640

struct pc_l7_ops {
	const char *name;
	size_t ctx_size;              /* at most PC_L7_CTX_MAX */
	/* The handshake is done; ctx (ctx_size bytes, zeroed) is this
	 * connection's. 0, or -1 to end the connection at once (TLS sends
	 * the alert given to pc_l7_abort, else internal_error). */
	int (*start)(void *ctx, const struct pc_l7_env *env, struct pc_l7_conn *conn);
	/* Decrypted client bytes: how many were taken (fewer than len holds
	 * the rest back). */
	size_t (*input)(void *ctx, const uint8_t *p, size_t len);
	/* Up to cap bytes for the client; 0 when there is nothing now. */
	size_t (*output)(void *ctx, uint8_t *buf, size_t cap);
	/* All output taken and the connection should close. */
	bool (*done)(const void *ctx);
	/* The client ended its side (close_notify or FIN): true while output
	 * is still to come (TLS keeps pulling, then closes). */
	bool (*peer_closed)(void *ctx);
	/* The connection is gone: release everything, no call after. */
	void (*stop)(void *ctx);
	/* A server connection works for the client's now (a request in
	 * flight, a TCP-mode pair): its own connect and idle timeouts bound
	 * the client's connection meanwhile, which TLS then gives no idle
	 * deadline of its own (one owner, one counter: l7_up_timeout). NULL:
	 * never. */
	bool (*upstream_open)(const void *ctx);
};

extern const struct pc_l7_ops pc_l7_responder;
extern const struct pc_l7_ops pc_l7_http_proxy;
extern const struct pc_l7_ops pc_l7_tcp_proxy;

/* The plaintext side for a host whose backend is b (NULL: none). */
const struct pc_l7_ops *pc_l7_pick(const struct pc_backend *b);

/* For the plaintext side, between start() and stop(). */
/* It has output, or can take input again: TLS pumps the connection
 * (at once, or as soon as the pump it is inside returns). */
void pc_l7_kick(struct pc_l7_conn *conn);
/* It cannot go on: TLS sends this fatal alert (internal_error = 80 when
 * there is nothing better) and closes the connection. No call after but
 * stop(). */
void pc_l7_abort(struct pc_l7_conn *conn, uint8_t alert);
/* One request answered or forwarded, for the access log (the connection's
 * fields are TLS's); upstream: the server it went to ("A.B.C.D:PORT", as
 * pc_up_server() says), or NULL. */
void pc_l7_log_request(struct pc_l7_conn *conn, const struct pc_http_log *rec,
		       const char *upstream);

#endif
