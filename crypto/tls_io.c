/* SPDX-License-Identifier: MIT */
/*
 * wolfSSL's IO callbacks for server connections: records go straight to
 * and from the TCP buffers, the ClientHello first from the worker's
 * scratch (tls_conn.c re-framed it there), application data sealed in
 * place in the TCP send buffer.
 */
#include <string.h>

#include <rte_common.h>

#include "tls_conn.h"

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

/* Application data (patch 0011): wolfSSL seals the record straight into
 * the TCP send buffer when it fits there before the buffer wraps around
 * (app_pump() sizes records so that they do), and io_send() then only
 * queues it. Without that room, wolfSSL builds the record in its own
 * buffer and io_send() copies it. */
static unsigned char *io_write_buf(WOLFSSL *ssl, int sz, void *ctx)
{
	struct pc_tls_conn *t = ctx;

	(void)ssl;
	if (t->swallow || t->ccs_due)
		return NULL;
	t->placed = pc_tcp_write_place(t->tcp, (size_t)sz);
	return t->placed;
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct pc_tls_conn *t = ctx;
	size_t n;

	(void)ssl;
	if (t->placed != NULL && (uint8_t *)buf == t->placed) {
		/* The place had room for the record: it is queued whole. */
		t->placed = NULL;
		if ((size_t)sz > pc_tcp_write_contig(t->tcp))
			return WOLFSSL_CBIO_ERR_GENERAL;
		pc_tcp_write_commit(t->tcp, (size_t)sz);
		t->bytes_out += (uint64_t)sz;
		cnt()->sealed_in_place++;
		return sz;
	}
	t->placed = NULL; /* a record wolfSSL failed to build there */
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
	if (t->state == TLS_APP)
		cnt()->sends_copied++;
	return (int)n;
}

void pc_tls_set_io(WOLFSSL_CTX *ctx)
{
	wolfSSL_CTX_SetIORecv(ctx, io_recv);
	wolfSSL_CTX_SetIOSend(ctx, io_send);
	wolfSSL_CTX_SetIOWriteBuf(ctx, io_write_buf);
}
