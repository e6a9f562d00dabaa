/* SPDX-License-Identifier: MIT */
/*
 * Access-log records of TLS connections (l7/alog.c writes them out): one
 * per request (pc_l7_log_request, called by the plaintext side), or one
 * for a connection that ended without any.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>

#include "pc_alog.h"
#include "pc_backend.h"
#include "pc_http.h"
#include "tls_conn.h"

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
	if (t->state >= TLS_APP && t->env.backend != NULL)
		snprintf(r->backend, sizeof(r->backend), "%s", t->env.backend->name);
	if (unproven)
		return;
	snprintf(r->subject, sizeof(r->subject), "%s", t->vres.subject);
	snprintf(r->serial, sizeof(r->serial), "%s", t->vres.serial);
	snprintf(r->identity, sizeof(r->identity), "%s", t->vres.identity);
}

void tls_log_conn(struct pc_tls_conn *t, const char *event, const char *error)
{
	struct pc_alog_rec r;

	t->logged = true;
	if (!pc_alog_wanted())
		return;
	fill_record(t, &r, event);
	if (error != NULL)
		snprintf(r.error, sizeof(r.error), "%s", error);
	pc_alog_push(&r);
}

void pc_l7_log_request(struct pc_l7_conn *conn, const struct pc_http_log *h, const char *upstream)
{
	struct pc_tls_conn *t = (struct pc_tls_conn *)conn;
	struct pc_alog_rec r;

	t->logged = true;
	cnt()->http_requests++;
	if (!pc_alog_wanted())
		return;
	fill_record(t, &r, "request");
	snprintf(r.method, sizeof(r.method), "%s", h->method);
	snprintf(r.path, sizeof(r.path), "%s", h->path);
	if (upstream != NULL)
		snprintf(r.upstream, sizeof(r.upstream), "%s", upstream);
	r.status = h->status;
	r.upstream_status = h->upstream_status;
	r.bytes_out = h->body_bytes;
	pc_alog_push(&r);
}
