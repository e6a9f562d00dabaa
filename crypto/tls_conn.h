/* SPDX-License-Identifier: MIT */
/*
 * Private to crypto/: a TLS connection over our TCP (struct pc_tls_conn)
 * and what its parts share. The state machine is tls_conn.c, wolfSSL's
 * IO callbacks tls_io.c, the client-certificate callback tls_peer.c, the
 * access-log records tls_log.c, the counters tls_counters.c.
 */
#ifndef PC_TLS_CONN_H
#define PC_TLS_CONN_H

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#include <urcu-qsbr.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "pc_l7.h"
#include "tls_arena.h"
#include "tls_store.h"

/* wolfSSL's own alert sender (internal API, linked from the static
 * library): wolfSSL only knows a handful of certificate alerts, and our
 * reasons need the precise one (certificate_revoked, access_denied...). */
int SendAlert(WOLFSSL *ssl, int severity, int type);

#define TLS_REC_HDR 5
#define TLS_MAX_PLAINTEXT 16384
/* The largest ClientHello taken (post-quantum key shares and many
 * extensions go past one record). Its records, however small (RFC 8446
 * 5.1 allows 1-byte records), must fit the receive buffer together. */
#define TLS_HELLO_MSG_MAX 65536
/* The worker's scratch: a ClientHello, then the same bytes in records. */
#define TLS_HELLO_SCRATCH (TLS_HELLO_MSG_MAX + TLS_REC_HDR * (TLS_HELLO_MSG_MAX / TLS_MAX_PLAINTEXT + 1))
/* Don't encrypt tiny records when the send buffer is nearly full. */
#define TLS_MIN_SEND 1024
/* Room for records wolfSSL writes on its own (a KeyUpdate answer). */
#define TLS_SPARE 64
/* A closing connection (our alert or close_notify and FIN queued) gets
 * this long to drain, whatever the peer's window says. */
#define TLS_CLOSE_MS 10000
/* The most plaintext one read takes: with the allocator's header, one
 * 2 KiB block of the arena. */
#define TLS_IN_MAX (2048 - sizeof(struct pc_arena_hdr))

enum tls_state { TLS_HELLO, TLS_HANDSHAKE, TLS_APP, TLS_CLOSED };

struct pc_tls_conn {
	struct pc_tcb *tcp;
	WOLFSSL *ssl;
	/* Picked when the ClientHello is complete, pinned (pin) until the
	 * connection ends (tls_store.h). */
	struct tls_entry *host_entry;
	const struct pc_tls_host *host;
	const struct pc_tls_caset *caset;
	struct pc_tls_conn *next_free;
	bool pinned;
	uint8_t pin;
	uint8_t state;
	bool peer_fin;
	bool swallow;                    /* our alert went out: drop wolfSSL's */
	bool checked;                    /* vreason is known: a chain was checked, or a
					  * required certificate was missing */
	bool no_cert;                    /* refused: TLS 1.2 client sent no certificate */
	bool key_unproven;               /* its CertificateVerify failed */
	struct tls_vcache_table *peer_table; /* HANDSHAKE: its leaf key's table, lent by
					      * the chain cache (tls_peer.c) */
	bool offered;                    /* a ticket was accepted: vres holds its claims, used
					  * if wolfSSL resumes the session (pc_tls_conn_offer) */
	bool offered_verified;           /* the ticket's client was verified */
	int64_t offered_issued;          /* the ticket's full handshake */
	uint8_t ticket_iv[WOLFSSL_TICKET_IV_SZ]; /* the last ticket opened (pc_tls_conn_first_look) */
	bool eof;                        /* the client ended its side (close_notify or FIN) */
	bool out_blocked;                /* wolfSSL has bytes TCP did not take */
	bool ccs_due;                    /* middlebox compatibility (see io_send) */
	uint8_t *placed;                 /* APP: the record wolfSSL builds in the TCP
					  * send buffer (io_write_buf), until sent */
	uint32_t hello_records;          /* HELLO: records counted so far */
	uint32_t hello_off;              /* HELLO: where the next record starts */
	uint32_t hello_payload;          /* HELLO: their payload bytes */
	uint32_t hello_need;             /* HELLO: the ClientHello's bytes, 0 = unknown yet */
	uint32_t replay_off, replay_len; /* HANDSHAKE: the re-framed ClientHello (see io_recv) */
	uint16_t rec_overhead;           /* bytes a full record adds (cipher suite) */
	bool logged;                     /* a record for this connection was pushed */
	enum pc_verify_reason vreason;
	uint64_t start_tsc;
	uint64_t hello_tsc;              /* the ClientHello's first bytes came */
	uint64_t bytes_in, bytes_out;
	/* APP: plaintext its plaintext side has not taken (in_len bytes), in
	 * the worker's arena; held only while there is some, so an idle
	 * connection has none. */
	uint8_t *in;
	uint16_t in_len;
	char sni[PC_TLS_NAME_MAX + 1];
	/* APP: the plaintext side (l7/pc_l7.h). */
	const struct pc_l7_ops *l7;
	bool pumping;                    /* inside app_pump() */
	bool upstream_open;              /* the plaintext side's server connection bounds
					  * the idle time (idle_deadline) */
	bool kicked;                     /* pc_l7_kick() came during it: pump again */
	uint8_t abort_alert;             /* pc_l7_abort(): the alert to send */
	/* The client's chain as it sent it, when the host's backend wants it
	 * (wolfSSL's allocator: the worker's arena): chain_len bytes of
	 * certificates, each after its 3-byte length. */
	uint8_t *chain;
	uint32_t chain_len;
	char alpn[32];                   /* the protocol ALPN agreed, "" when none */
	struct pc_verify_result vres;
	/* APP: what the plaintext side knows (l7_env), its context. */
	struct pc_l7_env env;
	alignas(16) uint8_t l7_ctx[PC_L7_CTX_MAX];
};

static inline struct pc_tls_counters *cnt(void)
{
	return &pc_tls_self()->cnt;
}

/* The host's counts by reason, when it has them (tls_store.h). */
static inline struct tls_host_reasons *host_reasons(const struct pc_tls_conn *t)
{
	return t->host_entry != NULL ? rcu_dereference(t->host_entry->reasons) : NULL;
}

/* The worker's scratch: one whole ClientHello (TLS_HELLO_SCRATCH). */
static inline uint8_t *hello_scratch(void)
{
	return pc_tls_self()->hello;
}

/* tls_peer.c: a verification outcome, for the worker and the host. */
void tls_count_verify(const struct pc_tls_conn *t, enum pc_verify_reason r);
/* The leaf key table lent by the chain cache given back (the handshake
 * is over, or the connection). */
void tls_peer_table_release(struct pc_tls_conn *t);
/* tls_log.c: the connection's record (event "closed", "handshake-failed"),
 * with error when given. */
void tls_log_conn(struct pc_tls_conn *t, const char *event, const char *error);
/* tls_counters.c */
void tls_counters_init(void);
/* A completed handshake's duration, into the worker's histogram. */
void tls_count_handshake_time(const struct pc_tls_conn *t);
/* A failure's name in the counters and the access log. */
const char *tls_err_word(enum pc_tls_err why);

#endif
