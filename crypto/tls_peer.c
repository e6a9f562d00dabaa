/* SPDX-License-Identifier: MIT */
/*
 * The client's certificate: wolfSSL's verify callback runs
 * pc_verify_chain_decoded() on the leaf wolfSSL has decoded (or finds its
 * verdict in the worker's chain cache, tls_vcache.c) with the host's
 * ca-set and policy, counts the outcome and, when the host refuses by
 * alert, answers with the reason's alert. A
 * returning chain's cache entry may lend the handshake a table of the
 * leaf's key for its CertificateVerify, held until the handshake ends.
 */
#include <string.h>
#include <time.h>

#include <rte_common.h>

#include "pc_backend.h"
#include "tls_alert.h"
#include "tls_conn.h"

/* A verification outcome, for the worker and the host. */
void tls_count_verify(const struct pc_tls_conn *t, enum pc_verify_reason r)
{
	struct tls_host_reasons *h = host_reasons(t);

	cnt()->verify[r]++;
	if (h != NULL)
		__atomic_fetch_add(&h->verify[r], 1, __ATOMIC_RELAXED);
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

/* pc_verify_chain() on the leaf as wolfSSL decoded it, or its verdict on
 * the same chain under the same trust and policy from the worker's cache
 * (tls_vcache.c). */
static enum pc_verify_reason verify_chain(struct pc_tls_conn *t, const struct DecodedCert *leaf,
					  const uint8_t *const *der, const uint32_t *len,
					  unsigned int n)
{
	struct tls_vcache *vc = pc_tls_self()->vcache;
	uint8_t key[TLS_VCACHE_KEY_LEN];
	int64_t now = time(NULL);
	enum pc_verify_reason r;

	tls_peer_table_release(t); /* one chain per handshake; never two held */
	if (vc == NULL || tls_vcache_key(t->host->digest, pc_trust_digest(t->caset->trust), der,
					 len, n, key) != 0)
		return pc_verify_chain_decoded(t->caset->trust, &t->host->policy, leaf, der, len,
					       n, now, &t->vres);
	if (tls_vcache_get(vc, key, now, der[0], len[0], &t->vres, &t->peer_table)) {
		cnt()->chain_cache_hits++;
		/* A returning chain's leaf key may come with its table:
		 * the CertificateVerify that follows checks with it. */
		if (t->peer_table != NULL) {
			wolfSSL_set_peer_verify_table(t->ssl, tls_vcache_table_data(t->peer_table));
			cnt()->chain_cache_key_table_lent++;
		}
		return PC_VERIFY_OK;
	}
	cnt()->chain_cache_misses++;
	r = pc_verify_chain_decoded(t->caset->trust, &t->host->policy, leaf, der, len, n, now,
				    &t->vres);
	if (r == PC_VERIFY_OK)
		tls_vcache_put(vc, key, &t->vres);
	return r;
}

void tls_peer_table_release(struct pc_tls_conn *t)
{
	if (t->peer_table == NULL)
		return;
	if (t->ssl != NULL)
		wolfSSL_set_peer_verify_table(t->ssl, NULL);
	tls_vcache_table_put(t->peer_table);
	t->peer_table = NULL;
}

/* The chain as the client sent it, kept for the plaintext side when the
 * host's backend passes certificates on (HTTP mode's Client-Cert headers,
 * send-proxy-v2 cert): each certificate after its 3-byte length, in the
 * worker's wolfSSL arena. No memory: not kept (the headers say nothing). */
static void keep_chain(struct pc_tls_conn *t, const uint8_t *const *der, const uint32_t *len,
		       unsigned int n)
{
	const struct pc_backend *b = tls_store_host_backend(t->host);
	uint32_t total = 0, off = 0;

	if (b == NULL || (b->spec.mode != PC_BACKEND_HTTP && !b->spec.proxy_v2_cert) ||
	    t->chain != NULL)
		return;
	for (unsigned int i = 0; i < n; i++)
		total += 3 + len[i];
	t->chain = XMALLOC(total, NULL, DYNAMIC_TYPE_TMP_BUFFER);
	if (t->chain == NULL)
		return;
	for (unsigned int i = 0; i < n; i++) {
		t->chain[off] = (uint8_t)(len[i] >> 16);
		t->chain[off + 1] = (uint8_t)(len[i] >> 8);
		t->chain[off + 2] = (uint8_t)len[i];
		memcpy(t->chain + off + 3, der[i], len[i]);
		off += 3 + len[i];
	}
	t->chain_len = total;
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
	keep_chain(t, der, len, n);
	r = empty_entry ? PC_VERIFY_MALFORMED : verify_chain(t, store->decodedCert, der, len, n);
	t->checked = true;
	t->vreason = r;
	/* A failed chain is counted now; a good one once the handshake has
	 * proved the client holds its key (handshake_done). */
	if (r != PC_VERIFY_OK) {
		tls_count_verify(t, r);
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
