/* SPDX-License-Identifier: MIT */
/*
 * A TLS connection over our TCP: the TCP application of TLS listeners.
 *
 *   HELLO      the whole ClientHello is checked in the TCP receive buffer;
 *              its SNI picks the host, hence the certificate, key and
 *              verification mode the connection gets on the worker's
 *              shared WOLFSSL_CTX
 *   HANDSHAKE  wolfSSL_accept() driven by TCP events through the IO
 *              callbacks, which return WANT_READ / WANT_WRITE (VPP's
 *              tls_bio.c shape); the client's chain is checked by
 *              pc_verify_chain() in wolfSSL's verify callback, where a
 *              failure is counted and, with action "alert", answered with
 *              the reason's alert
 *   APP        decrypted bytes go to the HTTP responder; its output is
 *              encrypted only when the TCP send buffer can take the whole
 *              record, so wolfSSL never holds half-sent application data
 *   CLOSED     close_notify/FIN sent or the handshake failed: TCP finishes
 *              the close alone (pc_tcp_close) and tls_closed() frees the
 *              connection on the next tick
 *
 * Everything runs on the worker that owns the TCP connection; connection
 * objects come from that worker's pool, wolfSSL's memory from its arena.
 */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include <urcu-qsbr.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_malloc.h>

#include <wolfssl/options.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "pc_alog.h"
#include "pc_http.h"
#include "tls_hello.h"
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
/* An established connection with no traffic either way is reset after
 * this (nginx's keepalive_timeout is 75 s). */
#define TLS_IDLE_MS 60000

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
	bool offered;                    /* a ticket was accepted: vres holds its claims, used
					  * if wolfSSL resumes the session (pc_tls_conn_offer) */
	bool offered_verified;           /* the ticket's client was verified */
	int64_t offered_issued;          /* the ticket's full handshake */
	uint8_t ticket_iv[WOLFSSL_TICKET_IV_SZ]; /* the last ticket opened (pc_tls_conn_first_look) */
	bool eof;                        /* the client ended its side (close_notify or FIN) */
	bool out_blocked;                /* wolfSSL has bytes TCP did not take */
	bool ccs_due;                    /* middlebox compatibility (see io_send) */
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
	uint16_t in_len;
	char sni[PC_TLS_NAME_MAX + 1];
	struct pc_verify_result vres;
	struct pc_http_env env;
	struct pc_http_conn http;
	uint8_t in[2048];                /* plaintext the responder has not taken */
};

static struct pc_tls_counters *cnt(void)
{
	return &pc_tls_self()->cnt;
}

/* The host's counts by reason, when it has them (tls_store.h). */
static struct tls_host_reasons *host_reasons(const struct pc_tls_conn *t)
{
	return t->host_entry != NULL ? rcu_dereference(t->host_entry->reasons) : NULL;
}

/* A verification outcome, for the worker and the host. */
static void count_verify(const struct pc_tls_conn *t, enum pc_verify_reason r)
{
	struct tls_host_reasons *h = host_reasons(t);

	cnt()->verify[r]++;
	if (h != NULL)
		__atomic_fetch_add(&h->verify[r], 1, __ATOMIC_RELAXED);
}

/* Prometheus's default buckets, from 100 µs: a full handshake on a
 * loaded worker takes about a millisecond, a slow client's up to the
 * handshake timeout. */
const double pc_tls_hs_bounds[PC_TLS_HS_BUCKETS - 1] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
};
/* The same in TSC cycles (set at init, read-only afterwards). */
static uint64_t hs_bound_cycles[PC_TLS_HS_BUCKETS - 1];

/* A completed handshake's duration, into the worker's histogram. */
static void count_handshake_time(const struct pc_tls_conn *t)
{
	uint64_t d = rte_rdtsc() - t->hello_tsc;
	unsigned int b = 0;

	while (b < PC_TLS_HS_BUCKETS - 1 && d > hs_bound_cycles[b])
		b++;
	cnt()->hs_bucket[b]++;
	cnt()->hs_cycles += d;
}

/* The worker's scratch: one whole ClientHello (TLS_HELLO_SCRATCH). */
static uint8_t *hello_scratch(void)
{
	return pc_tls_self()->hello;
}

/* IO callbacks: wolfSSL's records go straight to and from the TCP buffers.
 * The ClientHello comes first, from the worker's scratch, where hello()
 * re-framed it: wolfSSL reads it there within the first wolfSSL_accept(),
 * before any other connection of the worker uses the scratch. */
static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct pc_tls_conn *t = ctx;
	size_t n;

	(void)ssl;
	if (t->replay_off < t->replay_len) {
		n = RTE_MIN((size_t)sz, (size_t)(t->replay_len - t->replay_off));
		memcpy(buf, hello_scratch() + t->replay_off, n);
		t->replay_off += (uint32_t)n;
		return (int)n;
	}
	n = pc_tcp_read(t->tcp, buf, (size_t)sz);
	/* After the handshake the client's FIN is found by app_pump(): told
	 * CONN_CLOSE, wolfSSL marks the connection closed and wolfSSL_shutdown()
	 * would send no close_notify after the response. */
	if (n == 0)
		return t->peer_fin && t->state != TLS_APP ? WOLFSSL_CBIO_ERR_CONN_CLOSE
							  : WOLFSSL_CBIO_ERR_WANT_READ;
	t->bytes_in += n;
	return (int)n;
}

/* RFC 8446 D.4: a TLS 1.3 server answering a ClientHello with a legacy
 * session id sends a dummy change_cipher_spec right after its first
 * handshake message (ServerHello or HelloRetryRequest); middleboxes and
 * strict clients (tlsfuzzer) expect it. wolfSSL 5.5.4 does it only as a
 * client, so the first handshake record wolfSSL writes is followed here
 * by the CCS record. wolfSSL flushes each handshake message on its own
 * and the send buffer is empty at that point: the record arrives whole. */
static bool send_with_ccs(struct pc_tls_conn *t, const uint8_t *buf, int sz)
{
	static const uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
	size_t rec;

	t->ccs_due = false;
	if (wolfSSL_version(t->ssl) != TLS1_3_VERSION || sz < TLS_REC_HDR || buf[0] != 22)
		return false;
	rec = TLS_REC_HDR + ((size_t)buf[3] << 8 | buf[4]);
	if (rec > (size_t)sz || pc_tcp_write_space(t->tcp) < (size_t)sz + sizeof(ccs))
		return false;
	pc_tcp_write(t->tcp, buf, rec);
	pc_tcp_write(t->tcp, ccs, sizeof(ccs));
	pc_tcp_write(t->tcp, buf + rec, (size_t)sz - rec);
	t->bytes_out += (uint64_t)sz + sizeof(ccs);
	return true;
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct pc_tls_conn *t = ctx;
	size_t n;

	(void)ssl;
	if (t->swallow)
		return sz;
	if (t->ccs_due && send_with_ccs(t, (const uint8_t *)buf, sz)) {
		t->out_blocked = false;
		return sz;
	}
	n = pc_tcp_write(t->tcp, buf, (size_t)sz);
	if (n == 0) {
		t->out_blocked = true;
		pc_tcp_notify_writable(t->tcp);
		return WOLFSSL_CBIO_ERR_WANT_WRITE;
	}
	t->out_blocked = n < (size_t)sz;
	t->bytes_out += n;
	return (int)n;
}

void pc_tls_set_io(WOLFSSL_CTX *ctx)
{
	wolfSSL_CTX_SetIORecv(ctx, io_recv);
	wolfSSL_CTX_SetIOSend(ctx, io_send);
}

static uint64_t elapsed_us(const struct pc_tls_conn *t)
{
	return (rte_rdtsc() - t->start_tsc) * 1000000 / rte_get_tsc_hz();
}

static void fill_record(const struct pc_tls_conn *t, struct pc_alog_rec *r, const char *event)
{
	bool unproven = t->checked && t->vreason == PC_VERIFY_OK && t->state < TLS_APP;
	struct timespec ts;
	uint32_t addr;
	uint16_t port;

	memset(r, 0, sizeof(*r));
	clock_gettime(CLOCK_REALTIME, &ts);
	r->time_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	r->duration_us = elapsed_us(t);
	r->bytes_in = t->bytes_in;
	r->bytes_out = t->bytes_out;
	pc_tcp_peer(t->tcp, &addr, &port);
	r->client_addr = addr;
	r->client_port = rte_be_to_cpu_16(port);
	snprintf(r->event, sizeof(r->event), "%s", event);
	snprintf(r->sni, sizeof(r->sni), "%s", t->sni);
	/* nginx's $ssl_client_verify. A good chain is SUCCESS only once the
	 * handshake is done, its CertificateVerify having proved that the
	 * client holds the key: a handshake that fails after a good chain is
	 * FAILED:key-unproven when that proof failed, NONE when it ended
	 * otherwise (the client left, a later message failed), and its
	 * record carries no subject, serial or identity. A certificate is
	 * public: until the key is proven it says nothing about who
	 * connected. A chain that failed keeps its reason and fields. */
	if (!t->checked || (unproven && !t->key_unproven))
		snprintf(r->verify, sizeof(r->verify), "NONE");
	else if (unproven)
		snprintf(r->verify, sizeof(r->verify), "FAILED:key-unproven");
	else if (t->vreason == PC_VERIFY_OK)
		snprintf(r->verify, sizeof(r->verify), "SUCCESS");
	else
		snprintf(r->verify, sizeof(r->verify), "FAILED:%s", pc_verify_reason_name(t->vreason));
	if (t->ssl != NULL && t->state >= TLS_APP) {
		r->tls_version = (uint16_t)wolfSSL_version(t->ssl);
		r->resumed = wolfSSL_session_reused(t->ssl);
		snprintf(r->cipher, sizeof(r->cipher), "%s", wolfSSL_get_cipher_name(t->ssl));
	}
	if (unproven)
		return;
	snprintf(r->subject, sizeof(r->subject), "%s", t->vres.subject);
	snprintf(r->serial, sizeof(r->serial), "%s", t->vres.serial);
	snprintf(r->identity, sizeof(r->identity), "%s", t->vres.identity);
}

static void log_conn(struct pc_tls_conn *t, const char *event, const char *error)
{
	struct pc_alog_rec r;

	fill_record(t, &r, event);
	if (error != NULL)
		snprintf(r.error, sizeof(r.error), "%s", error);
	pc_alog_push(&r);
	t->logged = true;
}

static void on_http_done(void *arg, const struct pc_http_log *h)
{
	struct pc_tls_conn *t = arg;
	struct pc_alog_rec r;

	fill_record(t, &r, "request");
	snprintf(r.method, sizeof(r.method), "%s", h->method);
	snprintf(r.path, sizeof(r.path), "%s", h->path);
	r.status = h->status;
	r.bytes_out = h->body_bytes;
	pc_alog_push(&r);
	t->logged = true;
	cnt()->http_requests++;
}

static const char *const tls_err_names[PC_TLS_ERR__MAX] = {
#define PC_TLS_ERR(name, help) #name,
#include "tls_errors.def"
#undef PC_TLS_ERR
};
static const char *const tls_err_help[PC_TLS_ERR__MAX] = {
#define PC_TLS_ERR(name, help) help,
#include "tls_errors.def"
#undef PC_TLS_ERR
};

/* Done with the connection: TCP sends what is queued (an alert, a
 * close_notify) and its FIN, discards what comes after and finishes the
 * close on its own; tls_closed() comes on the next tick. */
static void close_tcp(struct pc_tls_conn *t)
{
	t->state = TLS_CLOSED;
	pc_tcp_set_deadline(t->tcp, TLS_CLOSE_MS);
	pc_tcp_close(t->tcp);
}

/* The connection cannot go on: count why, log it (with detail, when
 * given, as the error), close. */
static void fail_detail(struct pc_tls_conn *t, enum pc_tls_err why, const char *detail)
{
	struct tls_host_reasons *h = host_reasons(t);

	cnt()->err[why]++;
	if (t->host_entry != NULL)
		__atomic_fetch_add(&t->host_entry->failures, 1, __ATOMIC_RELAXED);
	if (h != NULL)
		__atomic_fetch_add(&h->err[why], 1, __ATOMIC_RELAXED);
	if (!t->logged)
		log_conn(t, t->state == TLS_APP ? "closed" : "handshake-failed",
			 detail != NULL ? detail : tls_err_names[why]);
	close_tcp(t);
}

static void fail(struct pc_tls_conn *t, enum pc_tls_err why)
{
	fail_detail(t, why, NULL);
}

/* Refuse the client's certificate from the verify callback: our alert,
 * then nothing more from wolfSSL (it would add its own bad_certificate). */
static int refuse(struct pc_tls_conn *t, uint8_t alert)
{
	SendAlert(t->ssl, PC_TLS_ALERT_FATAL, alert);
	t->swallow = true;
	cnt()->alerts_sent++;
	return 0;
}

/* pc_verify_chain(), or its verdict on the same chain under the same
 * trust and policy from the worker's cache (tls_vcache.c). */
static enum pc_verify_reason verify_chain(struct pc_tls_conn *t, const uint8_t *const *der,
					  const uint32_t *len, unsigned int n)
{
	struct tls_vcache *vc = pc_tls_self()->vcache;
	uint8_t key[TLS_VCACHE_KEY_LEN];
	int64_t now = time(NULL);
	enum pc_verify_reason r;

	if (vc == NULL || tls_vcache_key(t->host->digest, pc_trust_digest(t->caset->trust), der,
					 len, n, key) != 0)
		return pc_verify_chain(t->caset->trust, &t->host->policy, der, len, n, now,
				       &t->vres);
	if (tls_vcache_get(vc, key, now, &t->vres)) {
		cnt()->chain_cache_hits++;
		return PC_VERIFY_OK;
	}
	cnt()->chain_cache_misses++;
	r = pc_verify_chain(t->caset->trust, &t->host->policy, der, len, n, now, &t->vres);
	if (r == PC_VERIFY_OK)
		tls_vcache_put(vc, key, &t->vres);
	return r;
}

int pc_tls_verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
	struct pc_tls_conn *t = store->userCtx;
	const uint8_t *der[PC_TLS_MAX_PEER_CHAIN];
	uint32_t len[PC_TLS_MAX_PEER_CHAIN];
	unsigned int n = 0;
	enum pc_verify_reason r;

	(void)preverify;
	/* wolfSSL calls back per certificate it could not verify (all of them:
	 * it holds no CA); the leaf's call comes last and sees the chain. */
	if (store->error_depth != 0)
		return 1;
	if (store->totalCerts == 0) {
		/* TLS 1.2's empty Certificate message (TLS 1.3 fails it before
		 * calling back). Without a certificate the handshake goes on
		 * unless one is required and refusal is by alert. */
		if (t->host->spec.verify != PC_TLS_VERIFY_REQUIRED ||
		    t->host->spec.on_failure != PC_TLS_FAIL_ALERT)
			return 1;
		t->no_cert = true;
		return refuse(t, PC_TLS_ALERT_HANDSHAKE_FAILURE);
	}
	bool empty_entry = false;

	for (int i = 0; i < store->totalCerts && n < RTE_DIM(der); i++, n++) {
		der[n] = store->certs[i].buffer;
		len[n] = store->certs[i].length;
		empty_entry |= len[n] == 0;
	}
	/* An empty certificate entry breaks the message's own syntax (RFC
	 * 8446 4.4.2, RFC 5246 7.4.2: 1 byte at least): decode_error whatever
	 * the host's verify mode, not a certificate that failed to parse. */
	r = empty_entry ? PC_VERIFY_MALFORMED : verify_chain(t, der, len, n);
	t->checked = true;
	t->vreason = r;
	/* A failed chain is counted now; a good one once the handshake has
	 * proved the client holds its key (handshake_done). */
	if (r != PC_VERIFY_OK) {
		count_verify(t, r);
		/* When the handshake goes on (http403, optional_no_ca), no
		 * TLS 1.3 ticket: it would never resume (tls_ticket.c). */
		wolfSSL_no_ticket_TLSv13(t->ssl);
	}
	if (empty_entry)
		return refuse(t, PC_TLS_ALERT_DECODE_ERROR);
	if (r == PC_VERIFY_OK || t->host->spec.verify == PC_TLS_VERIFY_OPTIONAL_NO_CA ||
	    t->host->spec.on_failure == PC_TLS_FAIL_HTTP403)
		return 1;
	return refuse(t, pc_verify_reason_alert(r));
}

static void app_pump(struct pc_tls_conn *t);

static void handshake_done(struct pc_tls_conn *t)
{
	const struct pc_tls_host_spec *h = &t->host->spec;
	bool resumed = wolfSSL_session_reused(t->ssl);
	bool verified;

	/* A resumed session has no certificate: the ticket's claims stand
	 * for it (tls_ticket.c judged them against this host's policy and
	 * trust). A ticket accepted but not resumed leaves nothing behind. */
	if (resumed && t->offered) {
		t->checked = t->offered_verified;
		t->vreason = PC_VERIFY_OK;
	} else if (t->offered && !t->checked) {
		memset(&t->vres, 0, sizeof(t->vres));
	}
	/* A host that requires a certificate and refuses by alert must never
	 * get here without one (a ticket sealed without one never matches
	 * its policy: this is the last line). */
	if (h->verify == PC_TLS_VERIFY_REQUIRED && h->on_failure == PC_TLS_FAIL_ALERT &&
	    (!t->checked || t->vreason != PC_VERIFY_OK)) {
		fail(t, PC_TLS_ERR_client_cert_refused);
		return;
	}
	t->rec_overhead = (uint16_t)(wolfSSL_GetOutputSize(t->ssl, TLS_MAX_PLAINTEXT) -
				     TLS_MAX_PLAINTEXT);
	pc_tcp_set_deadline(t->tcp, TLS_IDLE_MS);
	cnt()->handshakes++;
	count_handshake_time(t);
	__atomic_fetch_add(&t->host_entry->handshakes, 1, __ATOMIC_RELAXED);
	if (wolfSSL_version(t->ssl) == TLS1_3_VERSION)
		cnt()->handshakes_tls13++;
	else
		cnt()->handshakes_tls12++;
	verified = t->checked && t->vreason == PC_VERIFY_OK;
	/* Verification outcomes count chains checked; a resumption is
	 * counted as one. */
	if (resumed)
		cnt()->resumed++;
	else if (h->verify != PC_TLS_VERIFY_NONE && !t->checked)
		count_verify(t, PC_VERIFY_NO_CERT);
	else if (verified)
		count_verify(t, PC_VERIFY_OK);
	t->env.sni = t->sni;
	t->env.identity = verified ? t->vres.identity : NULL;
	t->env.verify_failed_403 =
		h->on_failure == PC_TLS_FAIL_HTTP403 &&
		((t->checked && t->vreason != PC_VERIFY_OK &&
		  h->verify != PC_TLS_VERIFY_OPTIONAL_NO_CA) ||
		 (!t->checked && h->verify == PC_TLS_VERIFY_REQUIRED));
	if (t->env.verify_failed_403)
		cnt()->http403_sessions++;
	t->env.host_must_match = h->verify != PC_TLS_VERIFY_NONE;
	t->env.nb_protected = RTE_MIN(h->protect.n, (unsigned int)PC_TLS_MAX_PROTECTED);
	for (unsigned int i = 0; i < t->env.nb_protected; i++)
		t->env.protected[i] = h->protect.v[i];
	pc_http_init(&t->http, &t->env, on_http_done, t);
	t->state = TLS_APP;
	app_pump(t);
}

/* wolfSSL 5.5.4 gives up on some protocol errors without telling the
 * peer (a fragmented handshake message with other records between, say).
 * When it sent no fatal alert of its own, send the one RFC 8446 6.2
 * names for its error, so that a failure is never a silent close. */
static void protocol_alert(struct pc_tls_conn *t, int err)
{
	WOLFSSL_ALERT_HISTORY h;
	enum pc_tls_alert alert;

	if (t->swallow || wolfSSL_get_alert_history(t->ssl, &h) != WOLFSSL_SUCCESS ||
	    h.last_tx.level == PC_TLS_ALERT_FATAL)
		return;
	switch (err) {
	case OUT_OF_ORDER_E:
	case SANITY_MSG_E:
	case UNKNOWN_RECORD_TYPE:
	/* A handshake message cut short by a record of another type
	 * (RFC 8446 5.1 forbids interleaving them). */
	case INCOMPLETE_DATA:
		alert = PC_TLS_ALERT_UNEXPECTED_MESSAGE;
		break;
	case VERIFY_MAC_ERROR:
	case DECRYPT_ERROR:
		alert = PC_TLS_ALERT_BAD_RECORD_MAC;
		break;
	case BUFFER_ERROR:
	case BUFFER_E: /* a message of the wrong length (an empty KeyUpdate) */
	case PARSE_ERROR:
	case LENGTH_ERROR:
	case DECODE_E:
	case MISSING_HANDSHAKE_DATA:
		alert = PC_TLS_ALERT_DECODE_ERROR;
		break;
	case BAD_KEY_SHARE_DATA:
	case ECC_PEERKEY_ERROR:
	case INVALID_PARAMETER:
	case DUPLICATE_TLS_EXT_E:
		alert = PC_TLS_ALERT_ILLEGAL_PARAMETER;
		break;
	case EXT_MISSING:
		alert = PC_TLS_ALERT_MISSING_EXTENSION;
		break;
	case VERSION_ERROR:
		alert = PC_TLS_ALERT_PROTOCOL_VERSION;
		break;
	case ASN_CRIT_EXT_E:
		alert = pc_verify_reason_alert(PC_VERIFY_CRITICAL_EXT);
		break;
	default:
		alert = t->state < TLS_APP ? PC_TLS_ALERT_HANDSHAKE_FAILURE : PC_TLS_ALERT_INTERNAL_ERROR;
		break;
	}
	SendAlert(t->ssl, PC_TLS_ALERT_FATAL, alert);
	cnt()->alerts_sent++;
}

/* What wolfSSL fails a client's CertificateVerify with: a signature that
 * does not verify with the certificate's key (TLS 1.2 reports each as
 * SIG_VERIFY_E, or VERIFY_CERT_ERROR for a PKCS#1 digest that differs;
 * TLS 1.3 passes wolfCrypt's ECDSA and RSA-PSS errors on), or an algorithm
 * refused: in TLS 1.2 one the CertificateRequest did not list
 * (patches/wolfssl/0005), in TLS 1.3 PKCS#1 v1.5 or an ECDSA scheme of
 * another curve (0002). Once the client's certificate is in, no other
 * message fails with these. NULL for other errors. */
static const char *cert_verify_error(int err)
{
	switch (err) {
	case SIG_VERIFY_E:
	case VERIFY_CERT_ERROR:
	case VERIFY_SIGN_ERROR:
	case BAD_PADDING_E:
	case PSS_SALTLEN_E:
	case RSA_BUFFER_E:
		return "CertificateVerify: bad signature";
	case INVALID_PARAMETER:
		return "CertificateVerify: algorithm refused";
	default:
		return NULL;
	}
}

static void handshake(struct pc_tls_conn *t)
{
	int ret = wolfSSL_accept(t->ssl);
	int err;

	if (ret == WOLFSSL_SUCCESS) {
		handshake_done(t);
		return;
	}
	err = wolfSSL_get_error(t->ssl, ret);
	if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) {
		if (t->peer_fin && pc_tcp_readable(t->tcp) == 0)
			fail(t, PC_TLS_ERR_peer_closed);
		return;
	}
	if (t->swallow && !t->no_cert) {
		/* Refused in the verify callback (counted there). */
		fail(t, PC_TLS_ERR_client_cert_refused);
		return;
	}
	if (err == NO_PEER_CERT || t->no_cert) {
		count_verify(t, PC_VERIFY_NO_CERT);
		t->checked = true;
		t->vreason = PC_VERIFY_NO_CERT;
		fail(t, PC_TLS_ERR_no_client_cert);
	} else if (err == ASN_CRIT_EXT_E && !t->checked) {
		/* wolfSSL 5.5.4 gives up on a client certificate with a critical
		 * extension it does not know before calling the verifier (so no
		 * subject or identity): the verifier's reason and alert. */
		t->checked = true;
		t->vreason = PC_VERIFY_CRITICAL_EXT;
		count_verify(t, PC_VERIFY_CRITICAL_EXT);
		protocol_alert(t, err);
		fail(t, PC_TLS_ERR_client_cert_refused);
	} else if (t->checked && cert_verify_error(err) != NULL) {
		t->key_unproven = true;
		protocol_alert(t, err);
		fail_detail(t, PC_TLS_ERR_client_key_unproven, cert_verify_error(err));
	} else if (err == MEMORY_E) {
		fail(t, PC_TLS_ERR_no_memory);
	} else if (err == SOCKET_PEER_CLOSED_E || err == SOCKET_ERROR_E) {
		fail(t, PC_TLS_ERR_peer_closed);
	} else {
		protocol_alert(t, err);
		fail(t, PC_TLS_ERR_handshake);
	}
}

/* An alert before any TLS state exists: plaintext, like a ClientHello. */
static void plain_alert(struct pc_tls_conn *t, uint8_t desc)
{
	const uint8_t rec[] = {21, 3, 3, 0, 2, PC_TLS_ALERT_FATAL, desc};

	pc_tcp_write(t->tcp, rec, sizeof(rec));
}

/* The first n payload bytes of the handshake records at the start of the
 * receive buffer (all there: hello() counted them), into dst. */
static void hello_gather(const struct pc_tls_conn *t, uint8_t *dst, size_t n)
{
	size_t off = 0, copied = 0;

	while (copied < n) {
		uint8_t h[TLS_REC_HDR];
		size_t len, take;

		pc_tcp_peek_at(t->tcp, off, h, TLS_REC_HDR);
		len = (size_t)h[3] << 8 | h[4];
		take = RTE_MIN(len, n - copied);
		pc_tcp_peek_at(t->tcp, off + TLS_REC_HDR, dst + copied, take);
		copied += take;
		off += TLS_REC_HDR + len;
	}
}

/* HELLO, step 1: count the handshake records at the start of the receive
 * buffer until they hold the whole ClientHello (a record header is looked
 * at once, whatever the pace of the client). Returns true once they do;
 * false to wait for more, or when the connection failed. */
static bool hello_complete(struct pc_tls_conn *t)
{
	bool header_ok = false; /* waiting for a record's body, not its header */

	for (;;) {
		uint8_t h[TLS_REC_HDR];
		size_t len;

		if (t->hello_need != 0 && t->hello_payload >= t->hello_need)
			return true;
		if (pc_tcp_peek_at(t->tcp, t->hello_off, h, TLS_REC_HDR) < TLS_REC_HDR)
			break;
		len = (size_t)h[3] << 8 | h[4];
		/* Handshake records, version 3.x, 1 to 2^14 bytes (RFC 8446 5.1:
		 * an empty one is unexpected, a bigger one an overflow). */
		if (h[0] == 22 && h[1] == 3 && (len == 0 || len > TLS_MAX_PLAINTEXT)) {
			plain_alert(t, len == 0 ? PC_TLS_ALERT_UNEXPECTED_MESSAGE
						: PC_TLS_ALERT_RECORD_OVERFLOW);
			fail_detail(t, PC_TLS_ERR_bad_hello,
				    len == 0 ? "ClientHello: an empty record"
					     : "ClientHello: a record over 2^14 bytes");
			return false;
		}
		if (h[0] != 22 || h[1] != 3) {
			if (t->hello_records == 0) {
				fail(t, PC_TLS_ERR_not_tls);
			} else {
				plain_alert(t, PC_TLS_ALERT_UNEXPECTED_MESSAGE);
				fail_detail(t, PC_TLS_ERR_bad_hello, "ClientHello: not in handshake records");
			}
			return false;
		}
		header_ok = true;
		if (pc_tcp_readable(t->tcp) < t->hello_off + TLS_REC_HDR + len)
			break;
		t->hello_records++;
		t->hello_off += (uint32_t)(TLS_REC_HDR + len);
		t->hello_payload += (uint32_t)len;
		if (t->hello_payload > TLS_HELLO_MSG_MAX) {
			plain_alert(t, PC_TLS_ALERT_HANDSHAKE_FAILURE);
			fail(t, PC_TLS_ERR_hello_too_large);
			return false;
		}
		if (t->hello_need == 0 && t->hello_payload >= 4) {
			uint8_t hs[4];

			hello_gather(t, hs, sizeof(hs));
			t->hello_need = 4 + ((uint32_t)hs[1] << 16 | (uint32_t)hs[2] << 8 | hs[3]);
			if (hs[0] != 1) {
				plain_alert(t, PC_TLS_ALERT_UNEXPECTED_MESSAGE);
				fail_detail(t, PC_TLS_ERR_bad_hello, "ClientHello: another message first");
				return false;
			}
			/* It must fit the scratch buffer and, with a header per
			 * full record at least, the receive buffer. */
			size_t left = t->hello_need > t->hello_payload
					      ? t->hello_need - t->hello_payload
					      : 0;

			if (t->hello_need > TLS_HELLO_MSG_MAX ||
			    t->hello_off + left +
					    TLS_REC_HDR * (t->hello_need / TLS_MAX_PLAINTEXT + 1) >
				    pc_tcp_rcvbuf_size(t->tcp)) {
				plain_alert(t, PC_TLS_ALERT_HANDSHAKE_FAILURE);
				fail(t, PC_TLS_ERR_hello_too_large);
				return false;
			}
		}
	}
	/* The client's end before its whole ClientHello: a truncated hello
	 * is the client's leaving, a truncated first header is not TLS. */
	if (t->peer_fin)
		fail(t, pc_tcp_readable(t->tcp) == 0 || header_ok || t->hello_records != 0
				? PC_TLS_ERR_peer_closed
				: PC_TLS_ERR_not_tls);
	return false;
}

/* The ClientHello's records (hello_off bytes at the start of the receive
 * buffer, their payload gathered at the start of the scratch) are taken
 * out of the receive buffer and left in the scratch as the same handshake
 * bytes in records of up to 2^14 bytes, for wolfSSL to read first
 * (io_recv): wolfSSL 5.5.4 cannot take a handshake header split over
 * records, which a client may send (RFC 8446 5.1 allows 1-byte records). */
static void hello_reframe(struct pc_tls_conn *t)
{
	uint8_t *buf = hello_scratch();
	size_t len = t->hello_payload;
	size_t nrec = (len + TLS_MAX_PLAINTEXT - 1) / TLS_MAX_PLAINTEXT;
	uint8_t ver[2];

	pc_tcp_peek_at(t->tcp, 1, ver, sizeof(ver));
	/* Last record first: each moves up past the headers before it. */
	for (size_t i = nrec; i-- > 0;) {
		size_t off = i * TLS_MAX_PLAINTEXT, n = RTE_MIN((size_t)TLS_MAX_PLAINTEXT, len - off);
		uint8_t *rec = buf + off + i * TLS_REC_HDR;

		memmove(rec + TLS_REC_HDR, buf + off, n);
		rec[0] = 22;
		rec[1] = ver[0];
		rec[2] = ver[1];
		rec[3] = (uint8_t)(n >> 8);
		rec[4] = (uint8_t)n;
	}
	t->replay_off = 0;
	t->replay_len = (uint32_t)(len + nrec * TLS_REC_HDR);
	pc_tcp_skip(t->tcp, t->hello_off);
	t->bytes_in += t->hello_off;
}

/* HELLO: the whole ClientHello, checked (tls_hello.c); its SNI picks the
 * host. wolfSSL then reads it, re-framed, from the scratch. */
static void hello(struct pc_tls_conn *t)
{
	uint8_t *msg = hello_scratch();
	const struct pc_tls_config *cfg = rcu_dereference(pc_tls_active);
	const struct pc_tls_cert *cert;
	struct pc_tls_hello ch;
	int mode;

	if (t->hello_tsc == 0)
		t->hello_tsc = rte_rdtsc();
	if (!hello_complete(t))
		return;
	hello_gather(t, msg, t->hello_payload);
	if (pc_tls_hello_check(msg, t->hello_need, &cfg->hello, &ch) != 0) {
		plain_alert(t, ch.alert);
		fail_detail(t, PC_TLS_ERR_bad_hello, ch.why);
		return;
	}
	snprintf(t->sni, sizeof(t->sni), "%s", ch.sni);
	t->ccs_due = ch.session_id;
	/* The objects are pinned before they are looked up, in this same
	 * loop pass, and held until the connection closes. */
	t->pin = tls_pin(&pc_tls_self()->pins);
	t->pinned = true;
	t->host_entry = tls_store_find_host(t->sni);
	t->host = t->host_entry != NULL ? rcu_dereference(t->host_entry->cur) : NULL;
	cert = t->host != NULL ? tls_store_host_cert(t->host) : NULL;
	if (cert == NULL) {
		plain_alert(t, PC_TLS_ALERT_UNRECOGNIZED_NAME);
		fail(t, PC_TLS_ERR_unknown_host);
		return;
	}
	t->caset = t->host->caset != NULL ? rcu_dereference(t->host->caset->cur) : NULL;
	/* wolfSSL 5.5.4 answers a TLS 1.2 hello without a suite it can serve
	 * with a ServerHello naming suite 0x0000. A 1.2 hello to a 1.3-only
	 * listener is left to wolfSSL (protocol_version). */
	if ((ch.tls13 || cfg->hello.tls12) &&
	    !pc_tls_hello_suite_in_common(&ch, cert->suites, cert->nb_suites)) {
		plain_alert(t, PC_TLS_ALERT_HANDSHAKE_FAILURE);
		fail_detail(t, PC_TLS_ERR_bad_hello, "no cipher suite in common");
		return;
	}
	t->ssl = wolfSSL_new(cfg->ctx[rte_lcore_id()]);
	if (t->ssl == NULL) {
		fail(t, PC_TLS_ERR_no_memory);
		return;
	}
	/* The host's certificate and key, as DER the commit checked; loading
	 * the key resets wolfSSL's suite list, so the cipher list comes
	 * after. */
	if (wolfSSL_use_PrivateKey_buffer(t->ssl, cert->key, (long)cert->key_len,
					  WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS ||
	    wolfSSL_use_certificate_chain_buffer_format(t->ssl, cert->chain, (long)cert->chain_len,
							WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS ||
	    wolfSSL_set_cipher_list(t->ssl, cfg->ciphers) != WOLFSSL_SUCCESS) {
		fail(t, PC_TLS_ERR_no_memory);
		return;
	}
	/* Certificates are checked by pc_verify_chain() in the callback, with
	 * the host's own ca-set: wolfSSL's certificate manager holds no CA,
	 * so every client chain reaches the callback, and nothing the client
	 * sends is learnt as a CA for later connections. Tickets resume on
	 * every host, for as long as tls_ticket.c finds their claims good. */
	wolfSSL_set_timeout(t->ssl, __atomic_load_n(&pc_tls_ticket_lifetime_s, __ATOMIC_RELAXED));
	mode = WOLFSSL_VERIFY_NONE;
	if (t->host->spec.verify != PC_TLS_VERIFY_NONE) {
		mode = WOLFSSL_VERIFY_PEER;
		/* The CertificateRequest's signature algorithms (tls_config.c,
		 * which checked the list): the cipher list above reset them
		 * to wolfSSL's, SHA-1 included. */
		wolfSSL_set1_sigalgs_list(t->ssl, cfg->sigalgs);
	}
	if (t->host->spec.verify == PC_TLS_VERIFY_REQUIRED &&
	    t->host->spec.on_failure == PC_TLS_FAIL_ALERT)
		mode |= WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	wolfSSL_set_verify(t->ssl, mode, mode == WOLFSSL_VERIFY_NONE ? NULL : pc_tls_verify_cb);
	wolfSSL_SetIOReadCtx(t->ssl, t);
	wolfSSL_SetIOWriteCtx(t->ssl, t);
	wolfSSL_SetCertCbCtx(t->ssl, t);
	wolfSSL_UseALPN(t->ssl, (char *)"http/1.1", 8, WOLFSSL_ALPN_CONTINUE_ON_MISMATCH);
	t->state = TLS_HANDSHAKE;
	hello_reframe(t);
	handshake(t);
	/* wolfSSL takes the whole ClientHello in its first call, or fails:
	 * the scratch is the next connection's after this. */
	if (t->replay_off < t->replay_len && t->state != TLS_CLOSED)
		fail(t, PC_TLS_ERR_handshake);
	t->replay_off = t->replay_len = 0;
}

static void send_close_notify(struct pc_tls_conn *t)
{
	wolfSSL_shutdown(t->ssl);
	close_tcp(t);
}

/* Move responses out while TCP can take whole records, requests in while
 * the responder takes them. */
static void app_pump(struct pc_tls_conn *t)
{
	uint8_t buf[TLS_MAX_PLAINTEXT];
	bool progress = true, moved = false;

	while (progress && t->state == TLS_APP) {
		progress = false;
		for (;;) {
			size_t space = pc_tcp_write_space(t->tcp);
			size_t room = t->rec_overhead + TLS_SPARE;
			size_t n;

			if (t->out_blocked || space < TLS_MIN_SEND + room) {
				pc_tcp_notify_writable(t->tcp);
				break;
			}
			n = pc_http_output(&t->http, buf, RTE_MIN(sizeof(buf), space - room));
			if (n == 0)
				break;
			if (wolfSSL_write(t->ssl, buf, (int)n) != (int)n) {
				fail(t, PC_TLS_ERR_record);
				return;
			}
			progress = moved = true;
		}
		if (pc_http_done(&t->http)) {
			send_close_notify(t);
			return;
		}
		if (t->in_len != 0) {
			size_t used = pc_http_input(&t->http, t->in, t->in_len);

			if (used != 0) {
				memmove(t->in, t->in + used, t->in_len - used);
				t->in_len = (uint16_t)(t->in_len - used);
				progress = true;
			}
			continue;
		}
		/* Nothing is read after the client's end, nor while wolfSSL's own
		 * records (a KeyUpdate answer) wait for send space. */
		if (t->eof || t->out_blocked)
			break;
		int r = wolfSSL_read(t->ssl, t->in, sizeof(t->in));

		if (r > 0) {
			t->in_len = (uint16_t)r;
			progress = moved = true;
			continue;
		}
		int err = wolfSSL_get_error(t->ssl, r);

		/* All read and the client's FIN came: its end, no close_notify. */
		if (err == WOLFSSL_ERROR_WANT_READ && t->peer_fin && pc_tcp_readable(t->tcp) == 0)
			err = SOCKET_PEER_CLOSED_E;
		if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE)
			break;
		if (err == WOLFSSL_ERROR_ZERO_RETURN || err == SOCKET_PEER_CLOSED_E) {
			t->eof = true;
			if (err != WOLFSSL_ERROR_ZERO_RETURN)
				cnt()->err[PC_TLS_ERR_no_close_notify]++;
			/* A response in progress is finished (on_writable resumes
			 * it), then the connection closes. */
			if (!pc_http_peer_closed(&t->http)) {
				send_close_notify(t);
				return;
			}
			progress = true;
			continue;
		}
		protocol_alert(t, err);
		fail(t, PC_TLS_ERR_record);
		return;
	}
	if (moved)
		pc_tcp_set_deadline(t->tcp, TLS_IDLE_MS);
}

/* TCP calls back only until close_tcp(): never in TLS_CLOSED. */
static void drive(struct pc_tls_conn *t)
{
	switch (t->state) {
	case TLS_HELLO:
		hello(t);
		break;
	case TLS_HANDSHAKE:
		handshake(t);
		break;
	default:
		app_pump(t);
		break;
	}
}

static void *tls_open(struct pc_tcb *c, void *arg)
{
	struct pc_tls_worker *p = pc_tls_self();
	struct pc_tls_conn *t = p->free;

	(void)arg;
	if (t == NULL) {
		cnt()->err[PC_TLS_ERR_conn_pool_empty]++;
		return NULL;
	}
	p->free = t->next_free;
	p->in_use++;
	memset(t, 0, offsetof(struct pc_tls_conn, vres));
	memset(&t->vres, 0, sizeof(t->vres));
	t->vres.depth = -1;
	t->tcp = c;
	t->start_tsc = rte_rdtsc();
	pc_tcp_set_deadline(c, __atomic_load_n(&pc_tls_handshake_timeout_ms, __ATOMIC_RELAXED));
	return t;
}

static void tls_readable(struct pc_tcb *c, void *ctx)
{
	(void)c;
	drive(ctx);
}

static void tls_writable(struct pc_tcb *c, void *ctx)
{
	struct pc_tls_conn *t = ctx;

	(void)c;
	if (t->state == TLS_HANDSHAKE || t->state == TLS_APP)
		drive(t);
}

static void tls_peer_fin(struct pc_tcb *c, void *ctx)
{
	struct pc_tls_conn *t = ctx;

	(void)c;
	t->peer_fin = true;
	drive(t);
}

static void tls_closed(struct pc_tcb *c, void *ctx, enum pc_tcp_close_reason why)
{
	struct pc_tls_conn *t = ctx;
	struct pc_tls_worker *p = pc_tls_self();

	(void)c;
	if (t == NULL)
		return;
	if (!t->logged) {
		if (why == PC_TCP_CLOSED_TIMEOUT && t->state < TLS_APP) {
			cnt()->err[PC_TLS_ERR_handshake_timeout]++;
			log_conn(t, "handshake-failed", tls_err_names[PC_TLS_ERR_handshake_timeout]);
		} else if (t->state < TLS_APP) {
			cnt()->err[PC_TLS_ERR_peer_closed]++;
			log_conn(t, "handshake-failed", tls_err_names[PC_TLS_ERR_peer_closed]);
		} else {
			log_conn(t, "closed", why == PC_TCP_CLOSED_NORMAL ? NULL : "reset or timeout");
		}
	}
	if (t->ssl != NULL)
		wolfSSL_free(t->ssl);
	if (t->pinned)
		tls_unpin(&p->pins, t->pin);
	t->ssl = NULL;
	t->next_free = p->free;
	p->free = t;
	p->in_use--;
}

const struct pc_tcp_app pc_tls_http_app = {
	.name = "tls-http",
	.on_open = tls_open,
	.on_readable = tls_readable,
	.on_writable = tls_writable,
	.on_peer_fin = tls_peer_fin,
	.on_closed = tls_closed,
};

int pc_tls_conn_init(uint32_t per_lcore)
{
	unsigned int id;

	for (unsigned int b = 0; b < PC_TLS_HS_BUCKETS - 1; b++)
		hs_bound_cycles[b] = (uint64_t)(pc_tls_hs_bounds[b] * (double)rte_get_tsc_hz());
	RTE_LCORE_FOREACH(id) {
		struct pc_tls_worker *p = &pc_tls_workers[id];

		p->objs = rte_zmalloc_socket("tls_conns", sizeof(p->objs[0]) * per_lcore,
					     RTE_CACHE_LINE_SIZE, (int)rte_lcore_to_socket_id(id));
		p->hello = rte_malloc_socket("tls_hello", TLS_HELLO_SCRATCH, RTE_CACHE_LINE_SIZE,
					     (int)rte_lcore_to_socket_id(id));
		if (p->objs == NULL || p->hello == NULL)
			return -1;
		for (uint32_t i = 0; i < per_lcore; i++) {
			p->objs[i].next_free = p->free;
			p->free = &p->objs[i];
		}
	}
	return 0;
}

void pc_tls_conn_fini(void)
{
	for (unsigned int id = 0; id < RTE_MAX_LCORE; id++) {
		struct pc_tls_worker *p = &pc_tls_workers[id];

		rte_free(p->objs);
		rte_free(p->hello);
		p->objs = p->free = NULL;
		p->hello = NULL;
		p->in_use = 0;
	}
}

const struct pc_tls_host *pc_tls_conn_host(WOLFSSL *ssl)
{
	const struct pc_tls_conn *t = wolfSSL_GetIOReadCtx(ssl);

	return t->host;
}

void pc_tls_conn_claims(WOLFSSL *ssl, struct tls_ticket_claims *c, int64_t now)
{
	const struct pc_tls_conn *t = wolfSSL_GetIOReadCtx(ssl);
	bool resumed = t->offered && wolfSSL_session_reused(ssl);

	memset(c, 0, sizeof(*c));
	memcpy(c->host_digest, t->host->digest, sizeof(c->host_digest));
	if (t->caset != NULL)
		memcpy(c->trust_digest, pc_trust_digest(t->caset->trust), sizeof(c->trust_digest));
	/* A ticket sealed on a resumed connection keeps the first one's
	 * time: the lifetime counts from the last full verification. */
	c->issued = resumed ? t->offered_issued : now;
	c->verified = resumed ? t->offered_verified : t->checked;
	c->resumable = resumed || !t->checked || (t->vreason == PC_VERIFY_OK && !t->key_unproven);
	if (!c->verified || !c->resumable)
		return;
	c->valid_until = t->vres.valid_until;
	snprintf(c->subject, sizeof(c->subject), "%s", t->vres.subject);
	snprintf(c->serial, sizeof(c->serial), "%s", t->vres.serial);
	snprintf(c->identity, sizeof(c->identity), "%s", t->vres.identity);
}

bool pc_tls_conn_first_look(WOLFSSL *ssl, const uint8_t iv[WOLFSSL_TICKET_IV_SZ])
{
	struct pc_tls_conn *t = wolfSSL_GetIOReadCtx(ssl);

	if (memcmp(t->ticket_iv, iv, sizeof(t->ticket_iv)) == 0)
		return false;
	memcpy(t->ticket_iv, iv, sizeof(t->ticket_iv));
	return true;
}

void pc_tls_conn_offer(WOLFSSL *ssl, const struct tls_ticket_claims *c)
{
	struct pc_tls_conn *t = wolfSSL_GetIOReadCtx(ssl);

	t->offered = true;
	t->offered_verified = c->verified;
	t->offered_issued = c->issued;
	memset(&t->vres, 0, sizeof(t->vres));
	t->vres.depth = -1;
	t->vres.valid_until = c->valid_until;
	snprintf(t->vres.subject, sizeof(t->vres.subject), "%s", c->subject);
	snprintf(t->vres.serial, sizeof(t->vres.serial), "%s", c->serial);
	snprintf(t->vres.identity, sizeof(t->vres.identity), "%s", c->identity);
}

size_t pc_tls_conn_size(void)
{
	return sizeof(struct pc_tls_conn);
}

_Static_assert(PC_TLS_ERR__MAX <= PC_TLS_MAX_COUNTERS, "PC_TLS_MAX_COUNTERS: tls_errors.def");

static const struct {
	const char *name, *help;
	size_t off;
} tls_stats[] = {
#define PC_TLS_STAT(name, help) {#name, help, offsetof(struct pc_tls_counters, name)},
#include "tls_stats.def"
#undef PC_TLS_STAT
};
_Static_assert(RTE_DIM(tls_stats) <= PC_TLS_MAX_COUNTERS, "PC_TLS_MAX_COUNTERS: tls_stats.def");

const char *pc_tls_stat_name(unsigned int i, const char **help)
{
	if (i >= RTE_DIM(tls_stats))
		return NULL;
	*help = tls_stats[i].help;
	return tls_stats[i].name;
}

const char *pc_tls_err_name(unsigned int i, const char **help)
{
	if (i >= PC_TLS_ERR__MAX)
		return NULL;
	*help = tls_err_help[i];
	return tls_err_names[i];
}

/* Each counter is one aligned 64-bit word its worker alone writes. */
static uint64_t rd(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void pc_tls_sums(struct pc_tls_sums *s)
{
	struct pc_tls_mem_stats ms;

	memset(s, 0, sizeof(*s));
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		const struct pc_tls_counters *c = &pc_tls_workers[l].cnt;

		for (size_t i = 0; i < RTE_DIM(tls_stats); i++)
			s->stat[i] += rd((const uint64_t *)((const char *)c + tls_stats[i].off));
		for (int i = 0; i < PC_TLS_ERR__MAX; i++)
			s->err[i] += rd(&c->err[i]);
		for (int i = 0; i < PC_VERIFY_NB_REASONS; i++)
			s->verify[i] += rd(&c->verify[i]);
		for (int i = 0; i < PC_TLS_HS_BUCKETS; i++)
			s->hs_bucket[i] += rd(&c->hs_bucket[i]);
		s->hs_cycles += rd(&c->hs_cycles);
		s->conns_active += __atomic_load_n(&pc_tls_workers[l].in_use, __ATOMIC_RELAXED);
		s->chain_cache_entries += tls_vcache_used(pc_tls_workers[l].vcache);
		if (pc_tls_mem_stats(l, &ms)) {
			s->mem_reserved += ms.reserved;
			s->mem_in_use += ms.in_use;
			s->mem_failures += ms.failures;
		}
	}
}

void pc_tls_dump_counters(FILE *out)
{
	struct pc_tls_sums sum;

	pc_tls_sums(&sum);
	fprintf(out, "tls_connections_active %" PRIu64 "\n", sum.conns_active);
	fprintf(out, "tls_conn_object_bytes %zu  # per connection, besides wolfSSL's memory\n",
		sizeof(struct pc_tls_conn));
	fprintf(out, "tls_chain_cache_entries %" PRIu64 "  # verified chains cached, all workers\n",
		sum.chain_cache_entries);
	for (size_t i = 0; i < RTE_DIM(tls_stats); i++)
		fprintf(out, "tls_%s %" PRIu64 "  # %s\n", tls_stats[i].name, sum.stat[i],
			tls_stats[i].help);
	for (int i = 0; i < PC_TLS_ERR__MAX; i++)
		fprintf(out, "tls_err_%s %" PRIu64 "  # %s\n", tls_err_names[i], sum.err[i],
			tls_err_help[i]);
	for (int i = 0; i < PC_VERIFY_NB_REASONS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "%s", pc_verify_reason_name(i));
		for (char *p = name; *p != '\0'; p++)
			if (*p == '-')
				*p = '_';
		fprintf(out, "tls_verify_%s %" PRIu64 "  # %s\n", name, sum.verify[i],
			pc_verify_reason_help(i));
	}
	pc_tls_origin_dump(out);
	fprintf(out, "tls_mem_reserved_bytes %" PRIu64 "\n", sum.mem_reserved);
	fprintf(out, "tls_mem_in_use_bytes %" PRIu64 "\n", sum.mem_in_use);
	fprintf(out, "tls_mem_alloc_failures %" PRIu64 "\n", sum.mem_failures);
}
