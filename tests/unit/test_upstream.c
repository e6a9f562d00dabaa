/* SPDX-License-Identifier: MIT */
/*
 * Connections to backend servers (l7/upstream.c) and the PROXY v2 header
 * (l7/proxy_v2.c): the header built, parsed back TLV by TLV and checked
 * against one computed independently (and its CRC32c); the balance
 * algorithms on their own; then connections driven through the real
 * worker loop against fake servers answering from here (the TCP
 * harness): the prefix first on the wire, refusals putting a server down
 * and the hold-down bringing it back, no server at all, the keep-alive
 * pool's bound, reuse and expiry, and HTTP health checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <rte_byteorder.h>
#include <rte_tcp.h>

#include "harness.h"
#include "pc_backend.h"
#include "pc_l7.h"
#include "pc_l7_stats.h"
#include "pc_proxy_v2.h"
#include "pc_upstream.h"
#include "upstream_int.h"

#define SYN RTE_TCP_SYN_FLAG
#define ACK RTE_TCP_ACK_FLAG
#define FIN RTE_TCP_FIN_FLAG
#define RST RTE_TCP_RST_FLAG
#define PSH RTE_TCP_PSH_FLAG

/* ------------------------------------------------------------------ */
/* PROXY v2 */

static void test_crc32c(void **state)
{
	(void)state;
	assert_int_equal(pc_crc32c("123456789", 9), 0xe3069283);
	assert_int_equal(pc_crc32c("", 0), 0);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static struct pc_verify_result vres = {.subject = "/C=FR/O=Example/CN=client1"};

static void env_full(struct pc_l7_env *e)
{
	memset(e, 0, sizeof(*e));
	e->sni = "app.example";
	e->alpn = "h2";
	e->version = "TLSv1.3";
	e->cipher = "TLS_AES_128_GCM_SHA256";
	e->sig_alg = "ecdsa-with-SHA256";
	e->key_alg = "EC256";
	e->cert_presented = true;
	e->verified = true;
	e->vreason = PC_VERIFY_OK;
	e->vres = &vres;
	e->client_addr = rte_cpu_to_be_32(H_IP4(198, 18, 0, 2));
	e->local_addr = rte_cpu_to_be_32(H_IP4(198, 18, 0, 1));
	e->client_port = rte_cpu_to_be_16(40000);
	e->local_port = rte_cpu_to_be_16(443);
}

/* The same header built by an independent encoder (Python, bitwise
 * CRC32c): a verified client on a full handshake, no certificate DER. */
static const uint8_t pp2_expected[] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 0x77,
	0xc6, 0x12, 0x00, 0x02, 0xc6, 0x12, 0x00, 0x01, 0x9c, 0x40, 0x01, 0xbb, 0x03, 0x00, 0x04, 0xe8,
	0xc2, 0x29, 0x17, 0x01, 0x00, 0x02, 0x68, 0x32, 0x02, 0x00, 0x0b, 0x61, 0x70, 0x70, 0x2e, 0x65,
	0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x20, 0x00, 0x4e, 0x07, 0x00, 0x00, 0x00, 0x00, 0x21, 0x00,
	0x07, 0x54, 0x4c, 0x53, 0x76, 0x31, 0x2e, 0x33, 0x22, 0x00, 0x07, 0x63, 0x6c, 0x69, 0x65, 0x6e,
	0x74, 0x31, 0x25, 0x00, 0x05, 0x45, 0x43, 0x32, 0x35, 0x36, 0x24, 0x00, 0x11, 0x65, 0x63, 0x64,
	0x73, 0x61, 0x2d, 0x77, 0x69, 0x74, 0x68, 0x2d, 0x53, 0x48, 0x41, 0x32, 0x35, 0x36, 0x23, 0x00,
	0x16, 0x54, 0x4c, 0x53, 0x5f, 0x41, 0x45, 0x53, 0x5f, 0x31, 0x32, 0x38, 0x5f, 0x47, 0x43, 0x4d,
	0x5f, 0x53, 0x48, 0x41, 0x32, 0x35, 0x36,
};

static void test_pp2_vector(void **state)
{
	struct pc_l7_env e;
	uint8_t buf[PC_PP2_MAX];

	(void)state;
	env_full(&e);
	assert_int_equal(pc_pp2_build(&e, false, buf, sizeof(buf)), sizeof(pp2_expected));
	assert_memory_equal(buf, pp2_expected, sizeof(pp2_expected));
	/* Every buffer too small by even one byte: nothing built. */
	for (size_t cap = 0; cap < sizeof(pp2_expected); cap++)
		assert_int_equal(pc_pp2_build(&e, false, buf, cap), 0);
}

/* What HAProxy 2.6.12 sent (`send-proxy-v2-ssl-cn proxy-v2-options
 * crc32c,authority,ssl,cert-sig,cert-key,ssl-cipher`, `verify optional`)
 * for a TLS 1.3 client 198.18.0.2:38168 of 198.18.0.2:8443 with SNI
 * app.example and ALPN h2, that presented a verified certificate with
 * CN client1; the server certificate EC P-256 signed ecdsa-with-SHA256. */
static const uint8_t haproxy_cert[] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 0x77,
	0xc6, 0x12, 0x00, 0x02, 0xc6, 0x12, 0x00, 0x02, 0x95, 0x18, 0x20, 0xfb, 0x03, 0x00, 0x04, 0xb8,
	0xdd, 0xda, 0x93, 0x01, 0x00, 0x02, 0x68, 0x32, 0x02, 0x00, 0x0b, 0x61, 0x70, 0x70, 0x2e, 0x65,
	0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x20, 0x00, 0x4e, 0x07, 0x00, 0x00, 0x00, 0x00, 0x21, 0x00,
	0x07, 0x54, 0x4c, 0x53, 0x76, 0x31, 0x2e, 0x33, 0x22, 0x00, 0x07, 0x63, 0x6c, 0x69, 0x65, 0x6e,
	0x74, 0x31, 0x25, 0x00, 0x05, 0x45, 0x43, 0x32, 0x35, 0x36, 0x24, 0x00, 0x11, 0x65, 0x63, 0x64,
	0x73, 0x61, 0x2d, 0x77, 0x69, 0x74, 0x68, 0x2d, 0x53, 0x48, 0x41, 0x32, 0x35, 0x36, 0x23, 0x00,
	0x16, 0x54, 0x4c, 0x53, 0x5f, 0x41, 0x45, 0x53, 0x5f, 0x32, 0x35, 0x36, 0x5f, 0x47, 0x43, 0x4d,
	0x5f, 0x53, 0x48, 0x41, 0x33, 0x38, 0x34
};

/* The same without a client certificate (port 38172). */
static const uint8_t haproxy_nocert[] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 0x6d,
	0xc6, 0x12, 0x00, 0x02, 0xc6, 0x12, 0x00, 0x02, 0x95, 0x1c, 0x20, 0xfb, 0x03, 0x00, 0x04, 0x44,
	0xa0, 0xcb, 0xb0, 0x01, 0x00, 0x02, 0x68, 0x32, 0x02, 0x00, 0x0b, 0x61, 0x70, 0x70, 0x2e, 0x65,
	0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x20, 0x00, 0x44, 0x01, 0x00, 0x00, 0x00, 0x00, 0x21, 0x00,
	0x07, 0x54, 0x4c, 0x53, 0x76, 0x31, 0x2e, 0x33, 0x25, 0x00, 0x05, 0x45, 0x43, 0x32, 0x35, 0x36,
	0x24, 0x00, 0x11, 0x65, 0x63, 0x64, 0x73, 0x61, 0x2d, 0x77, 0x69, 0x74, 0x68, 0x2d, 0x53, 0x48,
	0x41, 0x32, 0x35, 0x36, 0x23, 0x00, 0x16, 0x54, 0x4c, 0x53, 0x5f, 0x41, 0x45, 0x53, 0x5f, 0x32,
	0x35, 0x36, 0x5f, 0x47, 0x43, 0x4d, 0x5f, 0x53, 0x48, 0x41, 0x33, 0x38, 0x34
};

static void env_haproxy(struct pc_l7_env *e, uint16_t sport)
{
	env_full(e);
	e->cipher = "TLS_AES_256_GCM_SHA384";
	e->local_addr = rte_cpu_to_be_32(H_IP4(198, 18, 0, 2));
	e->client_port = rte_cpu_to_be_16(sport);
	e->local_port = rte_cpu_to_be_16(8443);
}

static void test_pp2_haproxy(void **state)
{
	struct pc_l7_env e;
	uint8_t buf[PC_PP2_MAX];
	size_t n;

	(void)state;
	env_haproxy(&e, 38168);
	n = pc_pp2_build(&e, true, buf, sizeof(buf));
	assert_int_equal(n, sizeof(haproxy_cert));
	assert_memory_equal(buf, haproxy_cert, n);
	/* Without a certificate, the one difference is on purpose: HAProxy
	 * says verify 0 there, this says 1 (NO_CERT), as the document
	 * wants (hence another CRC). */
	env_haproxy(&e, 38172);
	e.cert_presented = false;
	e.verified = false;
	e.vres = NULL;
	n = pc_pp2_build(&e, true, buf, sizeof(buf));
	assert_int_equal(n, sizeof(haproxy_nocert));
	size_t crc = 31, verify = 58;

	assert_int_equal(buf[verify - 1], PP2_CLIENT_SSL);
	assert_int_equal(be32(buf + verify), PC_VERIFY_NO_CERT);
	assert_memory_equal(buf, haproxy_nocert, crc);
	assert_memory_equal(buf + crc + 4, haproxy_nocert + crc + 4, verify - crc - 4);
	assert_memory_equal(buf + verify + 4, haproxy_nocert + verify + 4, n - verify - 4);
}

/* A header parsed back. */
struct pp2 {
	uint32_t src, dst;
	uint16_t sport, dport;
	int nb_tlv;
	uint8_t type[16];
	const uint8_t *val[16];
	uint16_t len[16];
	uint8_t client;
	uint32_t verify;
	int nb_sub;
	uint8_t sub_type[16];
	const uint8_t *sub_val[16];
	uint16_t sub_len[16];
};

/* Parse, checking the framing and the CRC on the way. */
static void pp2_parse(uint8_t *h, size_t n, struct pp2 *o)
{
	memset(o, 0, sizeof(*o));
	assert_true(n >= 28);
	assert_memory_equal(h, PC_PP2_SIG, PC_PP2_SIG_LEN);
	assert_int_equal(h[12], 0x21);
	assert_int_equal(h[13], 0x11);
	assert_int_equal(be16(h + 14) + 16, n);
	o->src = be32(h + 16);
	o->dst = be32(h + 20);
	o->sport = be16(h + 24);
	o->dport = be16(h + 26);
	for (size_t at = 28; at < n;) {
		assert_true(at + 3 <= n && o->nb_tlv < 16);
		uint16_t l = be16(h + at + 1);

		assert_true(at + 3 + l <= n);
		o->type[o->nb_tlv] = h[at];
		o->val[o->nb_tlv] = h + at + 3;
		o->len[o->nb_tlv] = l;
		if (h[at] == PP2_TYPE_CRC32C) {
			uint8_t *c = h + at + 3;
			uint32_t got;

			assert_int_equal(l, 4);
			got = be32(c);
			memset(c, 0, 4);
			assert_int_equal(pc_crc32c(h, n), got);
			c[0] = (uint8_t)(got >> 24);
			c[1] = (uint8_t)(got >> 16);
			c[2] = (uint8_t)(got >> 8);
			c[3] = (uint8_t)got;
		}
		if (h[at] == PP2_TYPE_SSL) {
			const uint8_t *v = h + at + 3;

			assert_true(l >= 5);
			o->client = v[0];
			o->verify = be32(v + 1);
			for (size_t s = 5; s < l;) {
				assert_true(s + 3 <= l && o->nb_sub < 16);
				uint16_t sl = be16(v + s + 1);

				assert_true(s + 3 + sl <= l);
				o->sub_type[o->nb_sub] = v[s];
				o->sub_val[o->nb_sub] = v + s + 3;
				o->sub_len[o->nb_sub] = sl;
				o->nb_sub++;
				s += 3u + sl;
			}
		}
		o->nb_tlv++;
		at += 3u + l;
	}
}

static void assert_str(const uint8_t *v, uint16_t len, const char *s)
{
	assert_int_equal(len, strlen(s));
	assert_memory_equal(v, s, len);
}

static void test_pp2_full(void **state)
{
	static uint8_t der[3000];
	struct pc_l7_env e;
	uint8_t buf[PC_PP2_MAX];
	struct pp2 p;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(der); i++)
		der[i] = (uint8_t)(i * 7);
	env_full(&e);
	vres = (struct pc_verify_result){.subject = "/C=FR/O=Ex/CN=client one/OU=a/b/emailAddress=x@y"};
	e.nb_certs = 1;
	e.cert[0] = der;
	e.cert_len[0] = sizeof(der);
	n = pc_pp2_build(&e, true, buf, sizeof(buf));
	assert_true(n > sizeof(der));
	pp2_parse(buf, n, &p);
	assert_int_equal(p.src, H_IP4(198, 18, 0, 2));
	assert_int_equal(p.dst, H_IP4(198, 18, 0, 1));
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 443);
	/* HAProxy's order. */
	assert_int_equal(p.nb_tlv, 4);
	assert_int_equal(p.type[0], PP2_TYPE_CRC32C);
	assert_int_equal(p.type[1], PP2_TYPE_ALPN);
	assert_str(p.val[1], p.len[1], "h2");
	assert_int_equal(p.type[2], PP2_TYPE_AUTHORITY);
	assert_str(p.val[2], p.len[2], "app.example");
	assert_int_equal(p.type[3], PP2_TYPE_SSL);
	assert_int_equal(p.client, PP2_CLIENT_SSL | PP2_CLIENT_CERT_CONN | PP2_CLIENT_CERT_SESS);
	assert_int_equal(p.verify, 0);
	assert_int_equal(p.nb_sub, 6);
	assert_int_equal(p.sub_type[0], PP2_SUBTYPE_SSL_VERSION);
	assert_str(p.sub_val[0], p.sub_len[0], "TLSv1.3");
	assert_int_equal(p.sub_type[1], PP2_SUBTYPE_SSL_CN);
	/* The CN ends at the next attribute, not at a '/' inside a value. */
	assert_str(p.sub_val[1], p.sub_len[1], "client one");
	assert_int_equal(p.sub_type[2], PP2_SUBTYPE_SSL_KEY_ALG);
	assert_str(p.sub_val[2], p.sub_len[2], "EC256");
	assert_int_equal(p.sub_type[3], PP2_SUBTYPE_SSL_SIG_ALG);
	assert_str(p.sub_val[3], p.sub_len[3], "ecdsa-with-SHA256");
	assert_int_equal(p.sub_type[4], PP2_SUBTYPE_SSL_CIPHER);
	assert_str(p.sub_val[4], p.sub_len[4], "TLS_AES_128_GCM_SHA256");
	assert_int_equal(p.sub_type[5], PP2_SUBTYPE_SSL_CLIENT_CERT);
	assert_int_equal(p.sub_len[5], sizeof(der));
	assert_memory_equal(p.sub_val[5], der, sizeof(der));
	/* Without `cert`, the same minus the DER. */
	n = pc_pp2_build(&e, false, buf, sizeof(buf));
	pp2_parse(buf, n, &p);
	assert_int_equal(p.nb_sub, 5);
	/* A certificate too big for the buffer: nothing built. */
	assert_int_equal(pc_pp2_build(&e, true, buf, 2048), 0);
	vres = (struct pc_verify_result){.subject = "/C=FR/O=Example/CN=client1"};
}

static void test_pp2_clients(void **state)
{
	struct pc_l7_env e;
	uint8_t buf[PC_PP2_MAX];
	struct pp2 p;
	size_t n;

	(void)state;
	/* Resumed: a certificate in the session, not on this connection. */
	env_full(&e);
	e.resumed = true;
	n = pc_pp2_build(&e, true, buf, sizeof(buf));
	pp2_parse(buf, n, &p);
	assert_int_equal(p.client, PP2_CLIENT_SSL | PP2_CLIENT_CERT_SESS);
	assert_int_equal(p.verify, 0);

	/* Presented and refused: verify says why. */
	env_full(&e);
	e.verified = false;
	e.vreason = PC_VERIFY_EXPIRED;
	n = pc_pp2_build(&e, false, buf, sizeof(buf));
	pp2_parse(buf, n, &p);
	assert_int_equal(p.client, PP2_CLIENT_SSL | PP2_CLIENT_CERT_CONN | PP2_CLIENT_CERT_SESS);
	assert_int_equal(p.verify, PC_VERIFY_EXPIRED);

	/* No certificate, no SNI, no ALPN: SSL with the version and cipher,
	 * verify non-zero. */
	env_full(&e);
	e.cert_presented = false;
	e.verified = false;
	e.vres = NULL;
	e.sni = "";
	e.alpn = "";
	e.sig_alg = "";
	e.key_alg = "";
	n = pc_pp2_build(&e, true, buf, sizeof(buf));
	pp2_parse(buf, n, &p);
	assert_int_equal(p.nb_tlv, 2);
	assert_int_equal(p.type[0], PP2_TYPE_CRC32C);
	assert_int_equal(p.type[1], PP2_TYPE_SSL);
	assert_int_equal(p.client, PP2_CLIENT_SSL);
	assert_int_equal(p.verify, PC_VERIFY_NO_CERT);
	assert_int_not_equal(p.verify, 0);
	assert_int_equal(p.nb_sub, 2);
	assert_int_equal(p.sub_type[0], PP2_SUBTYPE_SSL_VERSION);
	assert_int_equal(p.sub_type[1], PP2_SUBTYPE_SSL_CIPHER);
	/* The served certificate's algorithms come without a client one. */
	e.key_alg = "RSA2048";
	n = pc_pp2_build(&e, true, buf, sizeof(buf));
	pp2_parse(buf, n, &p);
	assert_int_equal(p.nb_sub, 3);
	assert_int_equal(p.sub_type[1], PP2_SUBTYPE_SSL_KEY_ALG);
	assert_str(p.sub_val[1], p.sub_len[1], "RSA2048");
}

/* ------------------------------------------------------------------ */
/* Balance */

static void servers(struct up_server *s, const uint16_t *w, unsigned int n)
{
	memset(s, 0, n * sizeof(*s));
	for (unsigned int i = 0; i < n; i++) {
		s[i].in_use = true;
		s[i].weight = w[i];
	}
}

static void test_balance_rr(void **state)
{
	static const uint16_t w[] = {5, 1, 1};
	static const int seq[] = {0, 0, 1, 0, 2, 0, 0};
	struct up_server s[3];
	unsigned int count[3] = {0};

	(void)state;
	servers(s, w, 3);
	/* nginx's smooth sequence: a a b a c a a. */
	for (unsigned int i = 0; i < RTE_DIM(seq); i++)
		assert_int_equal(up_pick_rr(s, 3), seq[i]);
	for (unsigned int i = 0; i < 700; i++)
		count[up_pick_rr(s, 3)]++;
	assert_int_equal(count[0], 500);
	assert_int_equal(count[1], 100);
	assert_int_equal(count[2], 100);
	/* A server down, gone or in an empty slot is never picked. */
	s[0].down = true;
	s[2].gone = true;
	for (unsigned int i = 0; i < 10; i++)
		assert_int_equal(up_pick_rr(s, 3), 1);
	s[1].in_use = false;
	assert_int_equal(up_pick_rr(s, 3), -1);
	assert_int_equal(up_pick_rr(s, 0), -1);
}

static void test_balance_lc(void **state)
{
	static const uint16_t w[] = {1, 2, 1};
	struct up_server s[3];
	unsigned int cursor = 0, count[3] = {0};

	(void)state;
	servers(s, w, 3);
	/* Each pick opens a connection there: the counts follow the weights
	 * (2 for the server of weight 2, 1 for the others, in turn). */
	for (unsigned int i = 0; i < 400; i++) {
		int k = up_pick_lc(s, 3, &cursor);

		assert_true(k >= 0);
		s[k].active++;
		count[k]++;
	}
	assert_int_equal(count[0], 100);
	assert_int_equal(count[1], 200);
	assert_int_equal(count[2], 100);
	/* The least loaded relative to its weight. */
	s[0].active = 10;
	s[1].active = 19;
	s[2].active = 10;
	assert_int_equal(up_pick_lc(s, 3, &cursor), 1);
	s[1].active = 21;
	int k = up_pick_lc(s, 3, &cursor);

	assert_true(k == 0 || k == 2);
	/* Ties are taken in turn. */
	assert_int_equal(up_pick_lc(s, 3, &cursor), k == 0 ? 2 : 0);
	s[0].down = true;
	s[2].down = true;
	assert_int_equal(up_pick_lc(s, 3, &cursor), 1);
	s[1].gone = true;
	assert_int_equal(up_pick_lc(s, 3, &cursor), -1);
}

/* ------------------------------------------------------------------ */
/* Connections against fake servers */

#define SRV_A H_IP4(198, 18, 0, 3)
#define SRV_B H_IP4(198, 18, 0, 4)
#define SRV_PORT 8000
#define NB_SCONN 256

enum srv_mode { SRV_ACCEPT, SRV_REFUSE };

/* A server's side of one connection. */
struct sconn {
	bool used;
	struct h_conn tcp;  /* snd our next byte, ack what we expect from portcullis */
	bool fin, rst;
	size_t rx_len;
	uint8_t rx[2048];
};

static struct sconn sconns[NB_SCONN];
static enum srv_mode mode_a, mode_b;
/* Health http: what the servers answer. */
static const char *health_answer = "HTTP/1.1 200 OK\r\n\r\n";

static void srv_tx(struct sconn *s, uint8_t flags, const void *data, uint16_t len)
{
	h_conn_send(&s->tcp, flags, data, len, 1460);
}

static struct sconn *sconn_of(const struct h_tcp *t)
{
	for (unsigned int i = 0; i < NB_SCONN; i++)
		if (sconns[i].used && sconns[i].tcp.addr == t->dst && sconns[i].tcp.port == t->dport &&
		    sconns[i].tcp.lport == t->sport)
			return &sconns[i];
	return NULL;
}

static void srv_input(const struct h_tcp *t)
{
	struct sconn *s = sconn_of(t);

	if ((t->flags & (SYN | ACK)) == SYN) {
		enum srv_mode m = t->dst == SRV_A ? mode_a : mode_b;
		struct sconn tmp = {.tcp = {.addr = t->dst, .port = t->dport, .lport = t->sport,
					    .ack = t->seq + 1}};

		if (m == SRV_REFUSE) {
			srv_tx(&tmp, RST | ACK, NULL, 0);
			return;
		}
		for (unsigned int i = 0; i < NB_SCONN && s == NULL; i++)
			if (!sconns[i].used)
				s = &sconns[i];
		assert_non_null(s);
		*s = tmp;
		s->used = true;
		s->tcp.snd = 0x10000000u * (unsigned int)(s - sconns + 1);
		srv_tx(s, SYN | ACK, NULL, 0);
		return;
	}
	if (s == NULL)
		return;
	if (t->flags & RST) {
		s->rst = true;
		s->used = false; /* the slot serves another connection */
		return;
	}
	if (t->len != 0 && t->seq == s->tcp.ack) {
		size_t n = RTE_MIN((size_t)t->len, sizeof(s->rx) - s->rx_len);

		memcpy(s->rx + s->rx_len, t->data, n);
		s->rx_len += n;
		s->tcp.ack += t->len;
	}
	if (t->flags & FIN) {
		s->tcp.ack++;
		s->fin = true;
	}
	if (t->len != 0 || (t->flags & FIN))
		srv_tx(s, ACK, NULL, 0);
	/* A health check's request, once whole: the answer, and our close. */
	if (t->len != 0 && s->rx_len >= 4 && memcmp(s->rx + s->rx_len - 4, "\r\n\r\n", 4) == 0 &&
	    memcmp(s->rx, "GET ", 4) == 0)
		srv_tx(s, ACK | PSH | FIN, health_answer, (uint16_t)strlen(health_answer));
}

/* Answer whatever portcullis sends until it sends nothing more. */
static void srv_pump(void)
{
	struct h_frame f;
	struct h_tcp t;

	pc_tx_flush(h_lc);
	for (int round = 0; round < 1000; round++) {
		bool any = false;

		while (h_take(&f)) {
			if (h_parse_tcp(&f, &t) != 0)
				continue;
			any = true;
			srv_input(&t);
		}
		if (!any)
			return;
		h_run();
	}
	fail_msg("the servers and portcullis keep talking");
}

static void advance_ms(uint64_t ms)
{
	struct pc_wheel *w = &h_lc->tcp.wheel;

	for (uint64_t i = 0; i < ms; i++) {
		pc_wheel_advance(w, w->tsc_base + (w->tick + 1) * w->tsc_per_tick);
		pc_tx_flush(h_lc);
		srv_pump();
	}
}

/* What a connection's user saw. */
struct rec {
	struct pc_up *u;
	int opens, readables, fins, closes;
	enum pc_up_close why;
};

static void r_open(void *a)
{
	((struct rec *)a)->opens++;
}

static void r_readable(void *a)
{
	((struct rec *)a)->readables++;
}

static void r_writable(void *a)
{
	(void)a;
}

static void r_fin(void *a)
{
	((struct rec *)a)->fins++;
}

static void r_closed(void *a, enum pc_up_close why)
{
	struct rec *r = a;

	r->closes++;
	r->why = why;
	r->u = NULL;
}

static const struct pc_up_cb rec_cb = {
	.on_open = r_open,
	.on_readable = r_readable,
	.on_writable = r_writable,
	.on_peer_fin = r_fin,
	.on_closed = r_closed,
};

static struct pc_backend backend;

static void backend_init(enum pc_backend_balance bal, enum pc_backend_health health)
{
	memset(&backend, 0, sizeof(backend));
	backend.name = "app";
	backend.id = 7;
	backend.spec.nb_servers = 2;
	backend.spec.servers[0] = (struct pc_backend_server){
		.addr = rte_cpu_to_be_32(SRV_A), .port = rte_cpu_to_be_16(SRV_PORT), .weight = 1};
	backend.spec.servers[1] = (struct pc_backend_server){
		.addr = rte_cpu_to_be_32(SRV_B), .port = rte_cpu_to_be_16(SRV_PORT), .weight = 1};
	backend.spec.balance = bal;
	backend.spec.health = health;
	backend.spec.health_path = health == PC_BACKEND_HEALTH_HTTP ? "/hc" : NULL;
	backend.spec.health_interval_ms = 1000;
	backend.spec.connect_ms = 3000;
	backend.spec.idle_ms = 10000;
}

static uint64_t l7(size_t off)
{
	return *(const uint64_t *)((const char *)pc_l7_cnt() + off);
}
#define L7(name) l7(offsetof(struct pc_l7_counters, name))

/* A fresh worker (room for 200 connections), fresh servers, counters. */
static int setup(void **state)
{
	struct pc_tcp_cfg cfg = h_tcp_defaults;

	(void)state;
	cfg.set.max_conns = 200;
	pc_up_worker_fini();
	h_reset_tcp(&cfg);
	h_lc->tcp.wheel.tsc_per_tick = rte_get_tsc_hz() * 3600;
	h_arp_learn(SRV_A, &h_peer_mac);
	h_arp_learn(SRV_B, &h_peer_mac);
	memset(sconns, 0, sizeof(sconns));
	memset(pc_l7_cnt(), 0, sizeof(struct pc_l7_counters));
	mode_a = mode_b = SRV_ACCEPT;
	health_answer = "HTTP/1.1 200 OK\r\n\r\n";
	backend_init(PC_BACKEND_ROUNDROBIN, PC_BACKEND_HEALTH_NONE);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_reset_tcp(&h_tcp_defaults);
	assert_true(h_pool_full());
	return 0;
}

/* The prefix goes first; then what the user writes; the server's FIN and
 * our close. */
static void test_connect_prefix(void **state)
{
	static const char prefix[] = "PREFIX-BYTES";
	struct rec r = {0};
	struct pc_up_server_stats st;
	struct sconn *s = NULL;

	(void)state;
	r.u = pc_up_open(h_lc, &backend, prefix, strlen(prefix), &rec_cb, &r);
	assert_non_null(r.u);
	assert_int_equal(r.opens, 0);
	srv_pump();
	assert_int_equal(r.opens, 1);
	assert_int_equal(L7(up_connects), 1);
	assert_int_equal(L7(up_connected), 1);
	assert_string_equal(pc_up_server(r.u), "198.18.0.3:8000");
	assert_int_equal(pc_up_write(r.u, "hello", 5), 5);
	h_run();
	srv_pump();
	for (unsigned int i = 0; i < NB_SCONN; i++)
		if (sconns[i].used)
			s = &sconns[i];
	assert_non_null(s);
	assert_int_equal(s->rx_len, strlen(prefix) + 5);
	assert_memory_equal(s->rx, "PREFIX-BYTEShello", s->rx_len);
	pc_up_server_stats(7, rte_cpu_to_be_32(SRV_A), rte_cpu_to_be_16(SRV_PORT), &st);
	assert_int_equal(st.workers, 1);
	assert_int_equal(st.active, 1);
	assert_int_equal(st.connects, 1);
	/* The server answers and ends its side. */
	srv_tx(s, ACK | PSH | FIN, "world", 5);
	h_run();
	srv_pump();
	assert_int_equal(r.readables, 1);
	assert_int_equal(r.fins, 1);
	char buf[16];

	assert_int_equal(pc_up_readable(r.u), 5);
	assert_int_equal(pc_up_read(r.u, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "world", 5);
	/* A connection with a prefix is one client's: never pooled. */
	pc_up_release(r.u);
	assert_int_equal(L7(up_pool_full), 1);
	advance_ms(1);
	assert_true(s->fin);
	assert_int_equal(r.closes, 0);
	pc_up_server_stats(7, rte_cpu_to_be_32(SRV_A), rte_cpu_to_be_16(SRV_PORT), &st);
	assert_int_equal(st.active, 0);
	/* The next connection goes to the other server (round-robin). */
	struct rec r2 = {0};

	r2.u = pc_up_open(h_lc, &backend, NULL, 0, &rec_cb, &r2);
	assert_non_null(r2.u);
	assert_string_equal(pc_up_server(r2.u), "198.18.0.4:8000");
	pc_up_abort(r2.u);
	assert_int_equal(r2.closes, 0);
	srv_pump();
	advance_ms(1);
}

/* Two refusals put a server down; with both down there is no server;
 * the hold-down ends and they are tried again. */
static void test_refused_down(void **state)
{
	struct rec r[6] = {{0}};
	struct pc_up_server_stats st;

	(void)state;
	mode_a = SRV_REFUSE;
	for (int i = 0; i < 4; i++) {
		r[i].u = pc_up_open(h_lc, &backend, NULL, 0, &rec_cb, &r[i]);
		assert_non_null(r[i].u);
		srv_pump();
	}
	/* a, b, a, b: a refused twice, b accepted twice. */
	assert_int_equal(r[0].closes, 1);
	assert_int_equal(r[0].why, PC_UP_REFUSED);
	assert_int_equal(r[1].opens, 1);
	assert_int_equal(r[2].why, PC_UP_REFUSED);
	assert_int_equal(L7(up_refused), 2);
	assert_int_equal(L7(up_server_down), 1);
	pc_up_server_stats(7, rte_cpu_to_be_32(SRV_A), rte_cpu_to_be_16(SRV_PORT), &st);
	assert_int_equal(st.workers_down, 1);
	assert_int_equal(st.failures, 2);
	/* a is down: everything goes to b. */
	r[4].u = pc_up_open(h_lc, &backend, NULL, 0, &rec_cb, &r[4]);
	assert_string_equal(pc_up_server(r[4].u), "198.18.0.4:8000");
	srv_pump();
	pc_up_close(r[1].u);
	pc_up_close(r[3].u);
	pc_up_close(r[4].u);
	srv_pump();
	advance_ms(1);
	/* b refuses too: nothing is left. */
	mode_b = SRV_REFUSE;
	for (int i = 0; i < 2; i++) {
		struct rec x = {0};

		assert_non_null(pc_up_open(h_lc, &backend, NULL, 0, &rec_cb, &x));
		srv_pump();
		assert_int_equal(x.why, PC_UP_REFUSED);
	}
	assert_int_equal(L7(up_server_down), 2);
	assert_null(pc_up_open(h_lc, &backend, NULL, 0, &rec_cb, &r[5]));
	assert_null(pc_up_get(h_lc, &backend, &rec_cb, &r[5]));
	assert_int_equal(L7(up_no_server), 2);
	/* After the hold-down they are tried again. */
	mode_a = mode_b = SRV_ACCEPT;
	advance_ms(UP_HOLD_DOWN_MS);
	r[5].u = pc_up_open(h_lc, &backend, NULL, 0, &rec_cb, &r[5]);
	assert_non_null(r[5].u);
	assert_int_equal(L7(up_server_up), 2);
	srv_pump();
	assert_int_equal(r[5].opens, 1);
	pc_up_close(r[5].u);
	srv_pump();
	advance_ms(1);
}

/* The pool keeps PC_UP_POOL_MAX idle connections per backend and hands
 * them out again; the server closing one takes it out quietly; the idle
 * timeout closes the rest. */
static void test_pool(void **state)
{
	enum { N = PC_UP_POOL_MAX + 1 };
	static struct rec r[N];
	struct pc_up_server_stats sa, sb;

	(void)state;
	memset(r, 0, sizeof(r));
	for (int i = 0; i < N; i++) {
		r[i].u = pc_up_get(h_lc, &backend, &rec_cb, &r[i]);
		assert_non_null(r[i].u);
	}
	srv_pump();
	for (int i = 0; i < N; i++) {
		assert_int_equal(r[i].opens, 1);
		pc_up_release(r[i].u);
	}
	assert_int_equal(L7(up_pool_puts), PC_UP_POOL_MAX);
	assert_int_equal(L7(up_pool_full), 1);
	srv_pump();
	advance_ms(1);
	pc_up_server_stats(7, rte_cpu_to_be_32(SRV_A), rte_cpu_to_be_16(SRV_PORT), &sa);
	pc_up_server_stats(7, rte_cpu_to_be_32(SRV_B), rte_cpu_to_be_16(SRV_PORT), &sb);
	assert_int_equal(sa.idle + sb.idle, PC_UP_POOL_MAX);
	assert_int_equal(sa.active + sb.active, 0);
	/* Reuse: no new connection, and on_open is not called again. */
	uint64_t connects = L7(up_connects);
	struct rec x = {0};

	x.u = pc_up_get(h_lc, &backend, &rec_cb, &x);
	assert_non_null(x.u);
	assert_int_equal(L7(up_pool_hits), 1);
	assert_int_equal(L7(up_connects), connects);
	assert_int_equal(x.opens, 0);
	assert_int_equal(pc_up_write(x.u, "GET", 3), 3);
	pc_up_release(x.u);
	srv_pump();
	/* A server closes one of its idle connections: it leaves quietly. */
	for (unsigned int i = 0; i < NB_SCONN; i++)
		if (sconns[i].used && !sconns[i].fin && !sconns[i].rst) {
			srv_tx(&sconns[i], ACK | FIN, NULL, 0);
			break;
		}
	h_run();
	srv_pump();
	advance_ms(1);
	assert_int_equal(L7(up_pool_server_closed), 1);
	/* The idle timeout closes the others. */
	advance_ms(backend.spec.idle_ms);
	assert_int_equal(L7(up_pool_expired), PC_UP_POOL_MAX - 1);
	pc_up_server_stats(7, rte_cpu_to_be_32(SRV_A), rte_cpu_to_be_16(SRV_PORT), &sa);
	pc_up_server_stats(7, rte_cpu_to_be_32(SRV_B), rte_cpu_to_be_16(SRV_PORT), &sb);
	assert_int_equal(sa.idle + sb.idle, 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(r[i].closes, 0);
	advance_ms(100);
}

/* Health http: a server answering 503 goes down after two checks, and
 * comes back after two passing ones; the request is what the backend
 * says. */
static void test_health_http(void **state)
{
	struct rec r = {0};
	struct pc_up_server_stats st;

	(void)state;
	backend_init(PC_BACKEND_LEASTCONN, PC_BACKEND_HEALTH_HTTP);
	backend.spec.tls_sni = "origin.example";
	r.u = pc_up_open(h_lc, &backend, NULL, 0, &rec_cb, &r);
	assert_non_null(r.u);
	srv_pump();
	/* The first round of checks. */
	advance_ms(1);
	assert_int_equal(L7(up_health_checks), 2);
	assert_int_equal(L7(up_health_failures), 0);
	bool seen = false;

	for (unsigned int i = 0; i < NB_SCONN; i++)
		if (sconns[i].used && sconns[i].rx_len != 0) {
			static const char req[] = "GET /hc HTTP/1.1\r\nHost: origin.example\r\n";

			assert_memory_equal(sconns[i].rx, req, strlen(req));
			seen = true;
		}
	assert_true(seen);
	health_answer = "HTTP/1.1 503 Service Unavailable\r\n\r\n";
	advance_ms(backend.spec.health_interval_ms);
	advance_ms(backend.spec.health_interval_ms);
	assert_int_equal(L7(up_health_failures), 4);
	assert_int_equal(L7(up_server_down), 2);
	pc_up_server_stats(7, rte_cpu_to_be_32(SRV_B), rte_cpu_to_be_16(SRV_PORT), &st);
	assert_int_equal(st.workers_down, 1);
	assert_int_equal(st.checks, 3);
	assert_int_equal(st.check_failures, 2);
	struct rec x = {0};

	assert_null(pc_up_open(h_lc, &backend, NULL, 0, &rec_cb, &x));
	health_answer = "HTTP/1.1 302 Found\r\n\r\n";
	advance_ms(backend.spec.health_interval_ms);
	assert_int_equal(L7(up_server_up), 0);
	advance_ms(backend.spec.health_interval_ms);
	assert_int_equal(L7(up_server_up), 2);
	x.u = pc_up_open(h_lc, &backend, NULL, 0, &rec_cb, &x);
	assert_non_null(x.u);
	srv_pump();
	pc_up_close(x.u);
	pc_up_close(r.u);
	srv_pump();
	advance_ms(1);
	/* Without connections for long, checks stop (both servers down by
	 * then); the next connection takes them as up and checks again. */
	uint64_t checks = L7(up_health_checks);

	health_answer = "HTTP/1.1 500 Oops\r\n\r\n";
	advance_ms(UP_DORMANT_MS + 2 * backend.spec.health_interval_ms);
	uint64_t later = L7(up_health_checks);

	assert_int_equal(L7(up_server_down), 4);
	advance_ms(3 * backend.spec.health_interval_ms);
	assert_int_equal(L7(up_health_checks), later);
	assert_true(later > checks);
	health_answer = "HTTP/1.1 200 OK\r\n\r\n";
	x.u = pc_up_open(h_lc, &backend, NULL, 0, &rec_cb, &x);
	assert_non_null(x.u);
	srv_pump();
	advance_ms(1);
	assert_int_equal(L7(up_health_checks), later + 2);
	pc_up_abort(x.u);
	srv_pump();
	advance_ms(UP_DORMANT_MS + 2 * backend.spec.health_interval_ms);
}

/* Health tcp: refused checks put a server down (its idle connections
 * go), accepted ones bring it back; checks never reach a user. */
static void test_health_tcp(void **state)
{
	struct rec r = {0};
	struct pc_up_server_stats st;

	(void)state;
	backend_init(PC_BACKEND_ROUNDROBIN, PC_BACKEND_HEALTH_TCP);
	r.u = pc_up_get(h_lc, &backend, &rec_cb, &r);
	assert_non_null(r.u);
	srv_pump();
	assert_string_equal(pc_up_server(r.u), "198.18.0.3:8000");
	pc_up_release(r.u);
	advance_ms(1);
	assert_int_equal(L7(up_health_checks), 2);
	mode_a = SRV_REFUSE;
	advance_ms(backend.spec.health_interval_ms);
	assert_int_equal(L7(up_server_down), 0);
	advance_ms(backend.spec.health_interval_ms);
	assert_int_equal(L7(up_server_down), 1);
	assert_int_equal(L7(up_pool_dropped), 1);
	assert_int_equal(r.closes, 0);
	pc_up_server_stats(7, rte_cpu_to_be_32(SRV_A), rte_cpu_to_be_16(SRV_PORT), &st);
	assert_int_equal(st.workers_down, 1);
	assert_int_equal(st.idle, 0);
	assert_int_equal(st.check_failures, 2);
	/* Only b now. */
	for (int i = 0; i < 3; i++) {
		struct rec x = {0};

		x.u = pc_up_open(h_lc, &backend, NULL, 0, &rec_cb, &x);
		assert_string_equal(pc_up_server(x.u), "198.18.0.4:8000");
		pc_up_abort(x.u);
	}
	srv_pump();
	mode_a = SRV_ACCEPT;
	advance_ms(2 * backend.spec.health_interval_ms);
	assert_int_equal(L7(up_server_up), 1);
	assert_int_equal(L7(up_health_failures), 2);
	struct rec y = {0};

	y.u = pc_up_open(h_lc, &backend, NULL, 0, &rec_cb, &y);
	pc_up_abort(y.u);
	srv_pump();
	advance_ms(UP_DORMANT_MS + 2 * backend.spec.health_interval_ms);
	assert_int_equal(L7(up_connects), 5);
}

/* A new version: a server that stays keeps its state, one that left is
 * no longer picked and its idle connections are dropped. */
static void test_new_version(void **state)
{
	struct rec r = {0}, x = {0};
	struct pc_up_server_stats st;

	(void)state;
	r.u = pc_up_get(h_lc, &backend, &rec_cb, &r);
	x.u = pc_up_get(h_lc, &backend, &rec_cb, &x);
	srv_pump();
	assert_string_equal(pc_up_server(r.u), "198.18.0.3:8000");
	pc_up_release(r.u);
	pc_up_release(x.u);
	srv_pump();
	/* The next version has b only (and weight 3). */
	backend.spec.servers[0] = backend.spec.servers[1];
	backend.spec.servers[0].weight = 3;
	backend.spec.nb_servers = 1;
	for (int i = 0; i < 4; i++) {
		struct rec y = {0};

		y.u = pc_up_get(h_lc, &backend, &rec_cb, &y);
		assert_non_null(y.u);
		assert_string_equal(pc_up_server(y.u), "198.18.0.4:8000");
		pc_up_release(y.u);
	}
	assert_int_equal(L7(up_pool_dropped), 1);
	assert_int_equal(L7(up_pool_hits), 4);
	srv_pump();
	advance_ms(1);
	pc_up_server_stats(7, rte_cpu_to_be_32(SRV_A), rte_cpu_to_be_16(SRV_PORT), &st);
	assert_int_equal(st.workers, 0);
	pc_up_server_stats(7, rte_cpu_to_be_32(SRV_B), rte_cpu_to_be_16(SRV_PORT), &st);
	assert_int_equal(st.workers, 1);
	assert_int_equal(st.idle, 1);
	advance_ms(backend.spec.idle_ms + 100);
}

/* More backends than a worker keeps: those without connections make
 * room, one with a connection keeps its entry. */
static void test_many_backends(void **state)
{
	struct rec r = {0};
	struct pc_up_server_stats st;

	(void)state;
	r.u = pc_up_open(h_lc, &backend, NULL, 0, &rec_cb, &r);
	assert_non_null(r.u);
	srv_pump();
	for (uint32_t id = 1000; id < 1000 + 2 * UP_MAX_BACKENDS; id++) {
		struct rec x = {0};

		backend.id = id;
		x.u = pc_up_open(h_lc, &backend, NULL, 0, &rec_cb, &x);
		assert_non_null(x.u);
		pc_up_abort(x.u);
		srv_pump();
	}
	assert_int_equal(L7(up_no_memory), 0);
	pc_up_server_stats(7, rte_cpu_to_be_32(SRV_A), rte_cpu_to_be_16(SRV_PORT), &st);
	assert_int_equal(st.workers, 1);
	assert_int_equal(st.active, 1);
	pc_up_server_stats(1000, rte_cpu_to_be_32(SRV_A), rte_cpu_to_be_16(SRV_PORT), &st);
	assert_int_equal(st.workers, 0);
	backend.id = 7;
	pc_up_close(r.u);
	srv_pump();
	advance_ms(1);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_pp2_vector),
		cmocka_unit_test(test_pp2_haproxy),
		cmocka_unit_test(test_pp2_full),
		cmocka_unit_test(test_pp2_clients),
		cmocka_unit_test(test_balance_rr),
		cmocka_unit_test(test_balance_lc),
		cmocka_unit_test_setup_teardown(test_connect_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_health_http, setup, teardown),
		cmocka_unit_test_setup_teardown(test_health_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_backends, setup, teardown),
	};

	if (h_init() != 0)
		return 1;
	int failed = cmocka_run_group_tests_name("upstream", tests, NULL, NULL);

	h_fini();
	return failed;
}
