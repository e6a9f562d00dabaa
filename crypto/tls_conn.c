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
#include <string.h>

#include <urcu-qsbr.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_malloc.h>

#include <wolfssl/options.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "pc_backend.h"
#include "pc_str.h"
#include "tls_alert.h"
#include "tls_conn.h"
#include "tls_hello.h"

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
		tls_log_conn(t, t->state == TLS_APP ? "closed" : "handshake-failed",
			 detail != NULL ? detail : tls_err_word(why));
	close_tcp(t);
}

static void fail(struct pc_tls_conn *t, enum pc_tls_err why)
{
	fail_detail(t, why, NULL);
}

static void app_pump(struct pc_tls_conn *t);

static void l7_aborted(struct pc_tls_conn *t);

/* An open connection's idle limit: the backend's, or `tls idle-timeout`. */
static uint32_t idle_ms(const struct pc_tls_conn *t)
{
	return t->env.backend != NULL ? t->env.backend->spec.idle_ms
				      : __atomic_load_n(&pc_tls_idle_timeout_ms, __ATOMIC_RELAXED);
}

/* What the plaintext side knows of the connection (pc_l7_env). */
static void l7_env(struct pc_tls_conn *t, bool resumed, bool verified)
{
	const struct pc_tls_host_spec *h = &t->host->spec;
	const struct pc_tls_cert *cert = tls_store_host_cert(t->host);
	struct pc_l7_env *e = &t->env;
	const char *alpn = NULL;
	uint16_t alpn_len = 0;

	memset(e, 0, sizeof(*e));
	e->lc = pc_tcp_lcore(t->tcp);
	e->sni = t->sni;
	e->host = t->host->name;
	e->host_verifies = h->verify != PC_TLS_VERIFY_NONE;
	e->resumed = resumed;
	e->cert_presented = resumed ? t->offered_verified : t->checked && t->vreason != PC_VERIFY_NO_CERT;
	e->verified = verified;
	e->vreason = t->checked ? t->vreason : PC_VERIFY_NO_CERT;
	e->vres = &t->vres;
	e->identity = verified ? t->vres.identity : NULL;
	for (uint32_t off = 0; t->chain != NULL && off + 3 <= t->chain_len &&
			       e->nb_certs < PC_VERIFY_MAX_PEER;) {
		uint32_t len = (uint32_t)t->chain[off] << 16 | (uint32_t)t->chain[off + 1] << 8 |
			       t->chain[off + 2];

		e->cert[e->nb_certs] = t->chain + off + 3;
		e->cert_len[e->nb_certs++] = len;
		off += 3 + len;
	}
	e->has_fingerprint = e->nb_certs != 0 &&
			     wc_Sha256Hash(e->cert[0], e->cert_len[0], e->fingerprint) == 0;
	e->version = wolfSSL_get_version(t->ssl);
	e->cipher = wolfSSL_get_cipher_name(t->ssl);
	e->sig_alg = cert != NULL ? cert->sig_alg : "";
	e->key_alg = cert != NULL ? cert->key_alg : "";
	if (wolfSSL_ALPN_GetProtocol(t->ssl, (char **)&alpn, &alpn_len) == WOLFSSL_SUCCESS &&
	    alpn_len < sizeof(t->alpn)) {
		memcpy(t->alpn, alpn, alpn_len);
		t->alpn[alpn_len] = '\0';
	}
	e->alpn = t->alpn;
	pc_tcp_peer(t->tcp, &e->client_addr, &e->client_port);
	pc_tcp_local(t->tcp, &e->local_addr, &e->local_port);
	e->verify_failed_403 =
		h->on_failure == PC_TLS_FAIL_HTTP403 &&
		((t->checked && t->vreason != PC_VERIFY_OK &&
		  h->verify != PC_TLS_VERIFY_OPTIONAL_NO_CA) ||
		 (!t->checked && h->verify == PC_TLS_VERIFY_REQUIRED));
	e->nb_protected = RTE_MIN(h->protect.n, (unsigned int)PC_L7_MAX_PROTECTED);
	for (unsigned int i = 0; i < e->nb_protected; i++)
		e->protected[i] = h->protect.v[i];
	e->backend = tls_store_host_backend(t->host);
}

/* The plaintext side the host's backend picks starts (l7_env() done). 0, or -1 when it refused (the connection is closing). */
static int l7_start(struct pc_tls_conn *t)
{
	int rc;

	t->l7 = pc_l7_pick(t->env.backend);
	memset(t->l7_ctx, 0, t->l7->ctx_size);
	t->pumping = true;
	rc = t->l7->start(t->l7_ctx, &t->env, (struct pc_l7_conn *)t);
	t->pumping = false;
	if (rc == 0 && t->abort_alert == 0)
		return 0;
	if (t->abort_alert == 0)
		t->abort_alert = PC_TLS_ALERT_INTERNAL_ERROR;
	l7_aborted(t);
	return -1;
}

static void handshake_done(struct pc_tls_conn *t)
{
	const struct pc_tls_host_spec *h = &t->host->spec;
	bool resumed = wolfSSL_session_reused(t->ssl);
	bool verified;

	tls_peer_table_release(t);
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
	cnt()->handshakes++;
	tls_count_handshake_time(t);
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
		tls_count_verify(t, PC_VERIFY_NO_CERT);
	else if (verified)
		tls_count_verify(t, PC_VERIFY_OK);
	l7_env(t, resumed, verified);
	if (t->env.verify_failed_403)
		cnt()->http403_sessions++;
	pc_tcp_set_deadline(t->tcp, idle_ms(t));
	t->state = TLS_APP;
	if (l7_start(t) != 0)
		return;
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
		tls_count_verify(t, PC_VERIFY_NO_CERT);
		t->checked = true;
		t->vreason = PC_VERIFY_NO_CERT;
		fail(t, PC_TLS_ERR_no_client_cert);
	} else if (err == ASN_CRIT_EXT_E && !t->checked) {
		/* wolfSSL 5.5.4 gives up on a client certificate with a critical
		 * extension it does not know before calling the verifier (so no
		 * subject or identity): the verifier's reason and alert. */
		t->checked = true;
		t->vreason = PC_VERIFY_CRITICAL_EXT;
		tls_count_verify(t, PC_VERIFY_CRITICAL_EXT);
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
	pc_str_copy(t->sni, sizeof(t->sni), ch.sni);
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
	/* The host's certificate and key, lent as wolfSSL loaded them when
	 * the certificate object was built (tls_store.c): the suites and
	 * signature algorithms stay the worker context's (tls_config.c). */
	if (wolfSSL_use_certificate_and_key_of(t->ssl, cert->held) != WOLFSSL_SUCCESS) {
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
	if (t->host->spec.verify != PC_TLS_VERIFY_NONE)
		mode = WOLFSSL_VERIFY_PEER;
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

/* The plaintext buffer goes back to the arena once it is empty. */
static void in_release(struct pc_tls_conn *t)
{
	XFREE(t->in, NULL, DYNAMIC_TYPE_TMP_BUFFER);
	t->in = NULL;
}

/* A record is sealed in place when it ends before the TCP send buffer
 * wraps around (io_write_buf in tls_io.c): one that would not is cut at
 * the wrap, unless that leaves it short (it is then built in wolfSSL's
 * buffer and copied). */
static size_t fit_before_wrap(const struct pc_tls_conn *t, size_t cap)
{
	size_t contig = pc_tcp_write_contig(t->tcp);

	if (contig >= cap + t->rec_overhead || contig < (size_t)TLS_MIN_SEND + t->rec_overhead)
		return cap;
	return contig - t->rec_overhead;
}

/* The client's idle deadline, from the last pump that moved bytes; none
 * while a server connection works for it (its timeouts end the pair). */
static void idle_deadline(struct pc_tls_conn *t, bool moved)
{
	bool up = t->l7->upstream_open != NULL && t->l7->upstream_open(t->l7_ctx);

	if (up && !t->upstream_open)
		pc_tcp_set_deadline(t->tcp, 0);
	else if (!up && (moved || t->upstream_open))
		pc_tcp_set_deadline(t->tcp, idle_ms(t));
	t->upstream_open = up;
}

/* Move responses out while TCP can take whole records, requests in while
 * the responder takes them. */
static void app_pump_once(struct pc_tls_conn *t)
{
	uint8_t buf[TLS_MAX_PLAINTEXT];
	bool progress = true, moved = false;

	while (progress && t->state == TLS_APP) {
		progress = false;
		for (;;) {
			size_t space = pc_tcp_write_space(t->tcp);
			size_t room = t->rec_overhead + TLS_SPARE;
			size_t cap, n = 0, m;

			if (t->out_blocked || space < TLS_MIN_SEND + room) {
				pc_tcp_notify_writable(t->tcp);
				break;
			}
			/* What the plaintext side has now goes out as one record
			 * (a response's head and body in one segment), up to a
			 * full one. */
			cap = fit_before_wrap(t, RTE_MIN(sizeof(buf), space - room));
			do {
				m = t->l7->output(t->l7_ctx, buf + n, cap - n);
				n += m;
			} while (m != 0 && n < cap && t->abort_alert == 0);
			if (t->abort_alert != 0)
				return;
			if (n == 0)
				break;
			if (wolfSSL_write(t->ssl, buf, (int)n) != (int)n) {
				fail(t, PC_TLS_ERR_record);
				return;
			}
			progress = moved = true;
		}
		if (t->l7->done(t->l7_ctx)) {
			send_close_notify(t);
			return;
		}
		if (t->in_len != 0) {
			size_t used = t->l7->input(t->l7_ctx, t->in, t->in_len);

			if (t->abort_alert != 0)
				return;

			if (used != 0) {
				memmove(t->in, t->in + used, t->in_len - used);
				t->in_len = (uint16_t)(t->in_len - used);
				if (t->in_len == 0)
					in_release(t);
				progress = true;
			}
			continue;
		}
		/* Nothing is read after the client's end, nor while wolfSSL's own
		 * records (a KeyUpdate answer) wait for send space. */
		if (t->eof || t->out_blocked)
			break;
		if (t->in == NULL) {
			t->in = XMALLOC(TLS_IN_MAX, NULL, DYNAMIC_TYPE_TMP_BUFFER);
			if (t->in == NULL) {
				fail(t, PC_TLS_ERR_no_memory);
				return;
			}
		}
		int r = wolfSSL_read(t->ssl, t->in, (int)TLS_IN_MAX);

		if (r > 0) {
			t->in_len = (uint16_t)r;
			progress = moved = true;
			continue;
		}
		in_release(t);
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
			if (!t->l7->peer_closed(t->l7_ctx)) {
				if (t->abort_alert == 0)
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
	idle_deadline(t, moved);
}

/* The plaintext side ended the connection (pc_l7_abort): its alert, then
 * close. */
static void l7_aborted(struct pc_tls_conn *t)
{
	SendAlert(t->ssl, PC_TLS_ALERT_FATAL, t->abort_alert);
	cnt()->alerts_sent++;
	t->swallow = true;
	fail(t, PC_TLS_ERR_backend);
}

/* Move output out, input in, until neither moves; once more when the
 * plaintext side kicked meanwhile (pc_l7_kick from inside a call). */
static void app_pump(struct pc_tls_conn *t)
{
	if (t->pumping) {
		t->kicked = true;
		return;
	}
	t->pumping = true;
	do {
		t->kicked = false;
		app_pump_once(t);
	} while (t->kicked && t->state == TLS_APP && t->abort_alert == 0);
	t->pumping = false;
	if (t->abort_alert != 0 && t->state == TLS_APP)
		l7_aborted(t);
}

void pc_l7_kick(struct pc_l7_conn *conn)
{
	struct pc_tls_conn *t = (struct pc_tls_conn *)conn;

	if (t->state != TLS_APP)
		return;
	/* Inside a pump: once more as it ends. Otherwise at the end of the
	 * worker's burst (tls_writable): what the burst's segments brought
	 * the plaintext side (a server's response) leaves as one record in
	 * full segments, not as a record and a short segment per segment. */
	if (t->pumping || !pc_tcp_defer_writable(t->tcp))
		app_pump(t);
}

void pc_l7_abort(struct pc_l7_conn *conn, uint8_t alert)
{
	struct pc_tls_conn *t = (struct pc_tls_conn *)conn;

	if (t->state != TLS_APP || t->abort_alert != 0)
		return;
	t->abort_alert = alert != 0 ? alert : PC_TLS_ALERT_INTERNAL_ERROR;
	if (!t->pumping)
		l7_aborted(t);
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
			tls_log_conn(t, "handshake-failed", tls_err_word(PC_TLS_ERR_handshake_timeout));
		} else if (t->state < TLS_APP) {
			cnt()->err[PC_TLS_ERR_peer_closed]++;
			tls_log_conn(t, "handshake-failed", tls_err_word(PC_TLS_ERR_peer_closed));
		} else {
			tls_log_conn(t, "closed", why == PC_TCP_CLOSED_NORMAL ? NULL : "reset or timeout");
		}
	}
	if (t->l7 != NULL)
		t->l7->stop(t->l7_ctx);
	t->l7 = NULL;
	if (t->chain != NULL)
		XFREE(t->chain, NULL, DYNAMIC_TYPE_TMP_BUFFER);
	t->chain = NULL;
	in_release(t);
	tls_peer_table_release(t);
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

	tls_counters_init();
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
	pc_str_copy(c->subject, sizeof(c->subject), t->vres.subject);
	pc_str_copy(c->serial, sizeof(c->serial), t->vres.serial);
	pc_str_copy(c->identity, sizeof(c->identity), t->vres.identity);
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
	pc_str_copy(t->vres.subject, sizeof(t->vres.subject), c->subject);
	pc_str_copy(t->vres.serial, sizeof(t->vres.serial), c->serial);
	pc_str_copy(t->vres.identity, sizeof(t->vres.identity), c->identity);
}

size_t pc_tls_conn_size(void)
{
	return sizeof(struct pc_tls_conn);
}
