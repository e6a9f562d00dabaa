/* SPDX-License-Identifier: MIT */
/*
 * Session tickets (stateless resumption, TLS 1.2 and 1.3), sealed with
 * ChaCha20-Poly1305 under the configuration's ticket key. One key for all
 * workers: a client resumes on whichever worker RSS sends it to (wolfSSL's
 * own callback keeps a key per WOLFSSL_CTX, and our contexts are per
 * worker). The key is made at start. The host's name is part of the
 * authenticated data: a ticket resumes only on the host that issued it.
 * Hosts that verify clients neither issue nor take tickets: a host whose
 * policy changed to verifying clients refuses the tickets it issued before.
 *
 * Nonces: lcore id and a per-lcore counter, unique per key without a
 * random-number call on the handshake path.
 */
#include <string.h>
#include <sys/random.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>

#include "tls_store.h"

#define TICKET_AAD_LEN (WOLFSSL_TICKET_NAME_SZ + WOLFSSL_TICKET_IV_SZ + 2 + PC_TLS_NAME_MAX)

int pc_tls_ticket_key_init(struct pc_tls_ticket_key *k)
{
	if (getrandom(k->name, sizeof(k->name), 0) != sizeof(k->name) ||
	    getrandom(k->key, sizeof(k->key), 0) != sizeof(k->key))
		return -1;
	return 0;
}

static int ticket_cb(WOLFSSL *ssl, unsigned char name[WOLFSSL_TICKET_NAME_SZ],
		     unsigned char iv[WOLFSSL_TICKET_IV_SZ], unsigned char mac[WOLFSSL_TICKET_MAC_SZ],
		     int enc, unsigned char *ticket, int len, int *out_len, void *arg)
{
	const struct pc_tls_ticket_key *k = arg;
	uint8_t aad[TICKET_AAD_LEN];
	unsigned int id = rte_lcore_id() % RTE_MAX_LCORE;
	const struct pc_tls_host *h = pc_tls_conn_host(ssl);
	const char *host = h->name;
	size_t host_len = strlen(host), aad_len;

	if (len <= 0 || h->spec.verify != PC_TLS_VERIFY_NONE)
		return WOLFSSL_TICKET_RET_REJECT;
	if (enc) {
		uint64_t n = ++pc_tls_self()->ticket_nonce;

		memcpy(name, k->name, WOLFSSL_TICKET_NAME_SZ);
		memset(iv, 0, WOLFSSL_TICKET_IV_SZ);
		memcpy(iv, &id, sizeof(id));
		memcpy(iv + sizeof(id), &n, sizeof(n));
	} else if (memcmp(name, k->name, WOLFSSL_TICKET_NAME_SZ) != 0) {
		/* Another key (an older configuration): a full handshake. */
		return WOLFSSL_TICKET_RET_REJECT;
	}
	memcpy(aad, name, WOLFSSL_TICKET_NAME_SZ);
	memcpy(aad + WOLFSSL_TICKET_NAME_SZ, iv, WOLFSSL_TICKET_IV_SZ);
	aad_len = WOLFSSL_TICKET_NAME_SZ + WOLFSSL_TICKET_IV_SZ;
	aad[aad_len++] = (uint8_t)(len >> 8);
	aad[aad_len++] = (uint8_t)len;
	memcpy(aad + aad_len, host, host_len);
	aad_len += host_len;
	if (enc) {
		if (wc_ChaCha20Poly1305_Encrypt(k->key, iv, aad, (word32)aad_len, ticket, (word32)len,
						ticket, mac) != 0)
			return WOLFSSL_TICKET_RET_REJECT;
		memset(mac + CHACHA20_POLY1305_AEAD_AUTHTAG_SIZE, 0,
		       WOLFSSL_TICKET_MAC_SZ - CHACHA20_POLY1305_AEAD_AUTHTAG_SIZE);
	} else if (wc_ChaCha20Poly1305_Decrypt(k->key, iv, aad, (word32)aad_len, ticket, (word32)len,
					       mac, ticket) != 0) {
		return WOLFSSL_TICKET_RET_REJECT;
	}
	*out_len = len;
	return WOLFSSL_TICKET_RET_OK;
}

int pc_tls_ticket_setup(WOLFSSL_CTX *ctx, const struct pc_tls_ticket_key *k)
{
	if (wolfSSL_CTX_set_TicketEncCb(ctx, ticket_cb) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_set_TicketEncCtx(ctx, (void *)(uintptr_t)k) != WOLFSSL_SUCCESS)
		return -1;
	return 0;
}
