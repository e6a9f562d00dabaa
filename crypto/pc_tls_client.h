/* SPDX-License-Identifier: MIT */
/*
 * TLS to a backend's servers (crypto/tls_client.c): wolfSSL as a client
 * over one of our TCP connections, for l7/upstream.c. The client sends
 * the backend's SNI, presents its client certificate when it has one
 * (authenticated origin pull), and verifies the server's chain against
 * the backend's CA file with pc_verify_chain() (a server policy:
 * serverAuth) and its name against verify-name (SAN dNSName or iPAddress
 * only); a backend without a CA file is not verified (counted
 * unverified). Memory comes from the worker's wolfSSL arena.
 *
 * The caller owns the TCP connection and its callbacks: after each TCP
 * event it calls pc_tls_client_handshake() until that returns 1, then
 * reads and writes through the calls below. Everything on one worker.
 */
#ifndef PC_TLS_CLIENT_H
#define PC_TLS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

struct pc_backend;
struct pc_tcb;
struct pc_tls_client;

/* A client on c (ESTABLISHED; anything the caller queued first, a PROXY
 * header, is already written) for a server of b. NULL when there is no
 * memory (counted). */
struct pc_tls_client *pc_tls_client_new(struct pc_tcb *c, const struct pc_backend *b);
/* Progress the handshake: 1 done (and from then on), 0 not yet, -1
 * failed (counted; *why says why, until pc_tls_client_free():
 * "certificate: expired", "name mismatch", "alert handshake_failure"...):
 * free it and close the TCP connection (pc_tcp_close sends our alert
 * first; pc_tcp_abort would drop it). */
int pc_tls_client_handshake(struct pc_tls_client *t, const char **why);
/* Decrypted bytes (0: none now). Returns -1 once the server ended its
 * side (close_notify, or FIN) or on a record error (then *err). */
long pc_tls_client_read(struct pc_tls_client *t, void *buf, size_t len, bool *err);
/* After a failure (a read's *err, a write that broke): why, until
 * pc_tls_client_free() ("alert
 * certificate_required": TLS 1.3 origins refuse a client certificate
 * after the client's handshake; "record error"). NULL when nothing
 * failed. */
const char *pc_tls_client_error(const struct pc_tls_client *t);
/* At most how many bytes a read would return now: the decrypted bytes
 * waiting and the records TCP holds (0 once the server ended). */
size_t pc_tls_client_readable(const struct pc_tls_client *t);
/* Whether decrypted bytes or records wait: a read returns their
 * plaintext, or 0 having taken every byte TCP held (a record not whole
 * yet: more comes with the next TCP event). */
bool pc_tls_client_pending(const struct pc_tls_client *t);
/* Encrypt and queue up to len bytes, only as whole records the TCP send
 * buffer takes: how many were taken. */
size_t pc_tls_client_write(struct pc_tls_client *t, const void *buf, size_t len);
/* Plaintext bytes a write would take now. */
size_t pc_tls_client_write_space(const struct pc_tls_client *t);
/* Queue close_notify. */
void pc_tls_client_shutdown(struct pc_tls_client *t);
void pc_tls_client_free(struct pc_tls_client *t);

#endif
