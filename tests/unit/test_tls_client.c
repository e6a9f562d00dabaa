/* SPDX-License-Identifier: MIT */
/*
 * The TLS client to backends (crypto/tls_client.c) over our TCP: the
 * worker opens a connection (pc_tcp_connect) through its loop on the
 * harness's ring port; the peer's TCP is played here, and behind it an
 * in-process wolfSSL server with memory IO plays the origin. The
 * certificates are made with openssl at start in a temporary directory
 * (removed at the end): two CAs, server certificates with SANs (DNS,
 * wildcard, IP), one with its name only as the subject CN, one for
 * clientAuth only, one without an authorityKeyIdentifier, and the edge's
 * client certificate.
 *
 * Checked: a verified handshake (SNI sent, the name matched by SAN
 * dNSName, wildcard or iPAddress) with bytes both ways in whole records,
 * close_notify both ways; the refusals (a wrong CA, a wrong name, a
 * name in the CN only, a serverAuth-less certificate, one without an
 * authorityKeyIdentifier), each with its
 * reason for the caller, its alert to the server and its counter; a
 * backend without a CA connects to anyone (counted unverified); an
 * origin that requires a client certificate (nginx's ssl_verify_client
 * on) gets ours, and refuses a backend without one (TLS 1.2: during the
 * handshake; TLS 1.3: at the first read); a server that leaves during
 * the handshake. Everything the clients held is freed.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_tcp.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/asn.h>

#include "harness.h"
#include "pc_backend.h"
#include "pc_tls.h"
#include "pc_tls_client.h"
#include "tcp.h"

#define SYN RTE_TCP_SYN_FLAG
#define ACK RTE_TCP_ACK_FLAG
#define FIN RTE_TCP_FIN_FLAG
#define RST RTE_TCP_RST_FLAG
#define PSH RTE_TCP_PSH_FLAG

#define ORIGIN_PORT 443
#define MSS 1460
#define BUF (1 << 20)

static char pki[64];

/* --- the origin: the peer's TCP and a wolfSSL server ------------------- */

struct origin {
	WOLFSSL_CTX *ctx;
	WOLFSSL *ssl;
	struct h_conn tcp;       /* ours: snd our next byte, ack the worker's */
	uint32_t w_ack, w_wnd;   /* what the worker acknowledged, its window */
	bool open, w_fin, w_rst, fin_sent, close_at_hello, ssl_idle;
	bool hs_done, hs_failed, got_close_notify, shut;
	int hs_err;
	char sni[256];
	char peer_cn[256];       /* the client certificate's subject CN */
	size_t in_len, in_off;   /* the worker's bytes, for wolfSSL */
	size_t out_len, out_off; /* wolfSSL's bytes, for the worker */
	size_t pt_len;           /* plaintext received */
	size_t reply_len, reply_off; /* plaintext to send back */
	uint8_t in[BUF], out[BUF], pt[BUF];
};

static struct origin o;

static int srv_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	size_t n = RTE_MIN((size_t)sz, o.in_len - o.in_off);

	(void)ssl;
	(void)ctx;
	if (n == 0)
		return o.w_fin ? WOLFSSL_CBIO_ERR_CONN_CLOSE : WOLFSSL_CBIO_ERR_WANT_READ;
	memcpy(buf, o.in + o.in_off, n);
	o.in_off += n;
	return (int)n;
}

static int srv_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	(void)ssl;
	(void)ctx;
	assert_true(o.out_len + (size_t)sz <= sizeof(o.out));
	memcpy(o.out + o.out_len, buf, (size_t)sz);
	o.out_len += (size_t)sz;
	return sz;
}

static void path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", pki, name);
}

/* The origin's context: its certificate, TLS 1.2 or 1.3 or either, and
 * whether it requires a client certificate of the CA. */
static void origin_ctx(const char *cert, int version, bool require_client)
{
	char crt[128], key[128], ca[128];
	WOLFSSL_METHOD *m = version == 2   ? wolfTLSv1_2_server_method()
			    : version == 3 ? wolfTLSv1_3_server_method()
					   : wolfSSLv23_server_method();

	snprintf(crt, sizeof(crt), "%s/%s.crt", pki, cert);
	snprintf(key, sizeof(key), "%s/%s.key", pki, cert);
	path(ca, sizeof(ca), "ca.crt");
	o.ctx = wolfSSL_CTX_new(m);
	assert_non_null(o.ctx);
	assert_int_equal(wolfSSL_CTX_use_certificate_chain_file(o.ctx, crt), WOLFSSL_SUCCESS);
	assert_int_equal(wolfSSL_CTX_use_PrivateKey_file(o.ctx, key, WOLFSSL_FILETYPE_PEM),
			 WOLFSSL_SUCCESS);
	if (require_client) {
		assert_int_equal(wolfSSL_CTX_load_verify_locations(o.ctx, ca, NULL),
				 WOLFSSL_SUCCESS);
		wolfSSL_CTX_set_verify(o.ctx,
				       WOLFSSL_VERIFY_PEER | WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT,
				       NULL);
	} else {
		wolfSSL_CTX_set_verify(o.ctx, WOLFSSL_VERIFY_NONE, NULL);
	}
	wolfSSL_CTX_SetIORecv(o.ctx, srv_recv);
	wolfSSL_CTX_SetIOSend(o.ctx, srv_send);
	o.ssl = wolfSSL_new(o.ctx);
	assert_non_null(o.ssl);
	/* Any name goes; the one sent is looked at afterwards. */
	assert_int_equal(wolfSSL_UseSNI(o.ssl, WOLFSSL_SNI_HOST_NAME, "x", 1), WOLFSSL_SUCCESS);
	wolfSSL_SNI_SetOptions(o.ssl, WOLFSSL_SNI_HOST_NAME, WOLFSSL_SNI_CONTINUE_ON_MISMATCH);
}

/* The server does what it can: handshake, read, answer, close_notify. */
static void origin_pump(void)
{
	int r;

	if (o.ssl == NULL || o.hs_failed || o.ssl_idle)
		return;
	if (!o.hs_done) {
		r = wolfSSL_accept(o.ssl);
		if (r != WOLFSSL_SUCCESS) {
			int e = wolfSSL_get_error(o.ssl, r);

			if (e != WOLFSSL_ERROR_WANT_READ && e != WOLFSSL_ERROR_WANT_WRITE) {
				o.hs_failed = true;
				o.hs_err = e;
			}
			return;
		}
		o.hs_done = true;
		/* The ClientHello is the first thing the worker sent. */
		word32 n = sizeof(o.sni) - 1;

		if (wolfSSL_SNI_GetFromBuffer(o.in, (word32)o.in_len, WOLFSSL_SNI_HOST_NAME,
					      (uint8_t *)o.sni, &n) == WOLFSSL_SUCCESS)
			o.sni[n] = '\0';
		WOLFSSL_X509 *x = wolfSSL_get_peer_certificate(o.ssl);

		if (x != NULL) {
			wolfSSL_X509_NAME_get_text_by_NID(wolfSSL_X509_get_subject_name(x),
							  NID_commonName, o.peer_cn,
							  sizeof(o.peer_cn));
			wolfSSL_X509_free(x);
		}
	}
	for (;;) {
		r = wolfSSL_read(o.ssl, o.pt + o.pt_len, (int)(sizeof(o.pt) - o.pt_len));
		if (r <= 0) {
			if (wolfSSL_get_error(o.ssl, r) == WOLFSSL_ERROR_ZERO_RETURN)
				o.got_close_notify = true;
			break;
		}
		o.pt_len += (size_t)r;
	}
	while (o.reply_off < o.reply_len) {
		size_t n = RTE_MIN(o.reply_len - o.reply_off, (size_t)16384);
		uint8_t chunk[16384];

		for (size_t i = 0; i < n; i++)
			chunk[i] = (uint8_t)((o.reply_off + i) * 7);
		assert_int_equal(wolfSSL_write(o.ssl, chunk, (int)n), (int)n);
		o.reply_off += n;
	}
	if (o.got_close_notify && !o.shut) {
		o.shut = true;
		wolfSSL_shutdown(o.ssl);
	}
}

static void inject(uint8_t flags, const uint8_t *data, uint16_t len)
{
	h_conn_send(&o.tcp, flags, data, len, MSS);
}

/* What the worker sent: its SYN answered, its bytes taken and ACKed. */
static bool take_sent(void)
{
	struct h_frame f;
	struct h_tcp t;
	bool any = false, ack = false;

	while (h_take(&f)) {
		if (h_parse_tcp(&f, &t) != 0)
			continue;
		assert_int_equal(t.dst, H_BACKEND);
		assert_int_equal(t.dport, ORIGIN_PORT);
		any = true;
		if (t.flags & RST) {
			o.w_rst = true;
			continue;
		}
		if (t.flags & SYN) {
			o.tcp = (struct h_conn){.addr = H_BACKEND, .port = ORIGIN_PORT, .lport = t.sport,
						.snd = 0x70000000, .ack = t.seq + 1};
			inject(SYN | ACK, NULL, 0);
			o.open = true;
			continue;
		}
		if (t.flags & ACK) {
			o.w_ack = t.ack;
			o.w_wnd = t.win;
		}
		if (t.len != 0 && t.seq == o.tcp.ack) {
			assert_true(o.in_len + t.len <= sizeof(o.in));
			memcpy(o.in + o.in_len, t.data, t.len);
			o.in_len += t.len;
			o.tcp.ack += t.len;
			ack = true;
		}
		if ((t.flags & FIN) && t.seq + t.len == o.tcp.ack && !o.w_fin) {
			o.w_fin = true;
			o.tcp.ack++;
			ack = true;
		}
	}
	if (ack)
		inject(ACK, NULL, 0);
	return any;
}

/* The server's bytes, within the worker's window. */
static bool send_out(void)
{
	bool any = false;

	while (o.open && !o.w_rst && o.out_off < o.out_len) {
		int64_t room = (int64_t)(int32_t)(o.w_ack + o.w_wnd - o.tcp.snd);
		size_t n = RTE_MIN(o.out_len - o.out_off, (size_t)MSS);

		if (room <= 0)
			break;
		n = RTE_MIN(n, (size_t)room);
		inject(ACK | PSH, o.out + o.out_off, (uint16_t)n);
		o.out_off += n;
		any = true;
		h_run();
		take_sent();
	}
	return any;
}

static void advance_ms(uint64_t ms)
{
	struct pc_wheel *w = &h_lc->tcp.wheel;

	pc_wheel_advance(w, w->tsc_base + (w->tick + ms) * w->tsc_per_tick);
	pc_tx_flush(h_lc);
}

/* Run both ends until neither has anything more to do (delayed ACKs
 * come with time). */
static void settle(void)
{
	for (int idle = 0, i = 0; idle < 3 && i < 10000; i++) {
		bool any;

		h_run();
		any = take_sent();
		origin_pump();
		any |= send_out();
		if ((o.hs_failed || (o.close_at_hello && o.in_len != 0)) && !o.fin_sent && o.open &&
		    o.out_off == o.out_len) {
			o.fin_sent = true;
			inject(FIN | ACK, NULL, 0);
			any = true;
		}
		if (any) {
			idle = 0;
		} else {
			idle++;
			advance_ms(50);
		}
	}
}

/* --- the worker's side: a TCP application driving the client --------- */

struct edge {
	struct pc_backend b;
	struct pc_tls_client *t;
	struct pc_tcb *c;
	int hs;                  /* pc_tls_client_handshake's last answer */
	char why[96];
	bool closed, read_err, eof;
	size_t send_len, sent;   /* plaintext to send */
	size_t got;              /* plaintext received */
	uint8_t rcv[BUF];
};

static struct edge e;

static void edge_drive(void)
{
	uint8_t chunk[20000];

	if (e.t == NULL)
		return;
	if (e.hs != 1) {
		const char *why;

		e.hs = pc_tls_client_handshake(e.t, &why);
		if (e.hs == -1) {
			snprintf(e.why, sizeof(e.why), "%s", why);
			pc_tls_client_free(e.t);
			e.t = NULL;
			pc_tcp_close(e.c);
			return;
		}
		if (e.hs == 0)
			return;
	}
	while (e.sent < e.send_len) {
		size_t n = RTE_MIN(e.send_len - e.sent, sizeof(chunk));
		size_t space = pc_tls_client_write_space(e.t), k;

		for (size_t i = 0; i < n; i++)
			chunk[i] = (uint8_t)((e.sent + i) * 13);
		k = pc_tls_client_write(e.t, chunk, n);
		/* Whatever write_space promised is taken. */
		assert_true(k >= RTE_MIN(space, n));
		e.sent += k;
		if (k < n)
			break;
	}
	while (!e.eof && !e.read_err) {
		size_t want = RTE_MIN(sizeof(e.rcv) - e.got, (size_t)5000);
		long r = pc_tls_client_read(e.t, e.rcv + e.got, want, &e.read_err);

		if (r > 0) {
			e.got += (size_t)r;
			continue;
		}
		if (r < 0) {
			e.eof = !e.read_err;
			if (e.read_err)
				snprintf(e.why, sizeof(e.why), "%s", pc_tls_client_error(e.t));
		}
		break;
	}
	assert_true(e.eof || e.read_err || !pc_tls_client_pending(e.t));
}

static void *edge_open(struct pc_tcb *c, void *arg)
{
	(void)arg;
	e.c = c;
	e.t = pc_tls_client_new(c, &e.b);
	assert_non_null(e.t);
	edge_drive();
	return &e;
}

static void edge_event(struct pc_tcb *c, void *ctx)
{
	(void)c;
	(void)ctx;
	edge_drive();
}

static void edge_closed(struct pc_tcb *c, void *ctx, enum pc_tcp_close_reason why)
{
	(void)c;
	(void)ctx;
	(void)why;
	e.closed = true;
	if (e.t != NULL)
		pc_tls_client_free(e.t);
	e.t = NULL;
}

static const struct pc_tcp_app edge_app = {
	.name = "test-tls-client",
	.on_open = edge_open,
	.on_readable = edge_event,
	.on_writable = edge_event,
	.on_peer_fin = edge_event,
	.on_closed = edge_closed,
};

/* --- fixtures ---------------------------------------------------------- */

static struct pc_trust *trust_ca, *trust_other;
static uint8_t *cli_chain, *cli_key;
static size_t cli_chain_len, cli_key_len;

static uint8_t *slurp(const char *name, size_t *len)
{
	char p[128];
	FILE *f;
	uint8_t *buf = malloc(BUF);
	size_t n;

	path(p, sizeof(p), name);
	f = fopen(p, "rb");
	if (f == NULL || buf == NULL)
		abort();
	n = fread(buf, 1, BUF, f);
	fclose(f);
	*len = n;
	return buf;
}

static struct pc_trust *trust_of(const char *name)
{
	struct pc_trust *t = pc_trust_new();
	char p[128], err[256];

	path(p, sizeof(p), name);
	if (t == NULL || pc_trust_add_ca_file(t, p, err, sizeof(err)) != 0 ||
	    pc_trust_finalize(t, err, sizeof(err)) != 0) {
		fprintf(stderr, "test_tls_client: %s: %s\n", name, err);
		abort();
	}
	return t;
}

static void make_pki(void)
{
	static const char script[] =
		"set -e; cd '%s'; umask 077\n"
		"key() { openssl ecparam -name prime256v1 -genkey -noout -out \"$1\"; }\n"
		"printf '%%s\\n' 'basicConstraints=critical,CA:TRUE' "
		"'keyUsage=critical,keyCertSign,cRLSign' > ca.ext\n"
		"ext() { printf '%%s\\n' 'basicConstraints=CA:FALSE' "
		"'keyUsage=critical,digitalSignature' \"extendedKeyUsage=$2\" $3 > $1.ext; }\n"
		"ext srv serverAuth "
		"'subjectAltName=DNS:origin.test,DNS:*.wild.test,IP:198.18.0.3'\n"
		"ext srvcn serverAuth ''\n"
		"ext srvcli clientAuth 'subjectAltName=DNS:origin.test'\n"
		"ext srvnoaki serverAuth 'subjectAltName=DNS:origin.test'\n"
		"echo authorityKeyIdentifier=none >> srvnoaki.ext\n"
		"ext cli clientAuth 'subjectAltName=DNS:edge.test'\n"
		"for c in ca other; do key $c.key\n"
		"  openssl req -new -key $c.key -subj /CN=$c-ca -out $c.csr\n"
		"  openssl x509 -req -in $c.csr -signkey $c.key -days 3650 -sha256 "
		"-extfile ca.ext -out $c.crt 2>/dev/null\n"
		"done\n"
		"sign() { key $1.key; openssl req -new -key $1.key -subj /CN=$2 -out $1.csr\n"
		"  openssl x509 -req -in $1.csr -CA $3.crt -CAkey $3.key -set_serial "
		"0x$(openssl rand -hex 8) -days 365 -sha256 -extfile $4.ext -out $1.crt "
		"2>/dev/null; }\n"
		"sign srv origin.test ca srv\n"
		"sign srvcn origin.test ca srvcn\n"
		"sign srvcli origin.test ca srvcli\n"
		"sign srvother origin.test other srv\n"
		"sign srvnoaki origin.test ca srvnoaki\n"
		"sign cli edge.test ca cli\n"
		"openssl x509 -in cli.crt -outform DER -out cli.der\n"
		"openssl pkey -in cli.key -outform DER -out cli.key.der\n";
	char cmd[sizeof(script) + sizeof(pki)];

	snprintf(pki, sizeof(pki), "/tmp/pc-test-tls-client.XXXXXX");
	if (mkdtemp(pki) == NULL)
		abort();
	snprintf(cmd, sizeof(cmd), script, pki);
	if (system(cmd) != 0) {
		fprintf(stderr, "test_tls_client: openssl could not make the test PKI\n");
		abort();
	}
}

static void remove_pki(void)
{
	char cmd[128];

	if (pki[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki);
	if (system(cmd) != 0)
		fprintf(stderr, "test_tls_client: could not remove %s\n", pki);
	pki[0] = '\0';
}

static int group_setup(void **state)
{
	static struct pc_tls_spec s;
	char err[256];

	(void)state;
	if (pc_tls_route_memory() != 0 || h_init() != 0)
		return -1;
	pc_tls_spec_defaults(&s);
	s.min_version = 2;
	s.max_version = 3;
	s.memory_mb = 16;
	if (pc_tls_init(&s, 4) != 0 || pc_tls_commit(&s, err, sizeof(err)) != 0) {
		fprintf(stderr, "test_tls_client: %s\n", err);
		return -1;
	}
	make_pki();
	trust_ca = trust_of("ca.crt");
	trust_other = trust_of("other.crt");
	cli_chain = slurp("cli.der", &cli_chain_len);
	cli_key = slurp("cli.key.der", &cli_key_len);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	remove_pki();
	pc_trust_free(trust_ca);
	pc_trust_free(trust_other);
	free(cli_chain);
	free(cli_key);
	pc_tls_fini();
	h_fini();
	return 0;
}

/* A backend: TLS with SNI origin.test, the CA (or none), a verify-name. */
static void backend(struct pc_trust *trust, const char *verify_name, bool client_cert)
{
	memset(&e, 0, offsetof(struct edge, rcv));
	e.b.name = "origin";
	e.b.spec.tls = true;
	e.b.spec.mode = PC_BACKEND_HTTP;
	e.b.spec.tls_sni = (char *)"origin.test";
	e.b.origin_trust = trust;
	e.b.verify_name = verify_name;
	if (client_cert) {
		e.b.client_chain = cli_chain;
		e.b.client_chain_len = cli_chain_len;
		e.b.client_key = cli_key;
		e.b.client_key_len = cli_key_len;
		e.b.client_key_oid = ECDSAk;
	}
}

static int test_setup(void **state)
{
	(void)state;
	memset(&o, 0, offsetof(struct origin, in));
	h_reset();
	h_arp_learn(H_BACKEND, &h_peer_mac);
	return 0;
}

static int test_teardown(void **state)
{
	struct pc_tls_origin_sums s;

	(void)state;
	h_reset();
	assert_null(e.t);
	pc_tls_origin_sums(&s);
	assert_int_equal(s.active, 0);
	wolfSSL_free(o.ssl);
	wolfSSL_CTX_free(o.ctx);
	o.ssl = NULL;
	o.ctx = NULL;
	return 0;
}

static void connect_origin(void)
{
	e.c = pc_tcp_connect(h_lc, rte_cpu_to_be_32(H_BACKEND), rte_cpu_to_be_16(ORIGIN_PORT),
			     &edge_app, NULL);
	assert_non_null(e.c);
	settle();
}

static uint64_t outcome(const char *name)
{
	struct pc_tls_origin_sums s;
	const char *n, *help;

	pc_tls_origin_sums(&s);
	for (unsigned int i = 0; (n = pc_tls_origin_name(i, &help)) != NULL; i++)
		if (strcmp(n, name) == 0)
			return s.outcome[i];
	fail_msg("no outcome %s", name);
	return 0;
}

static uint64_t verify_count(enum pc_verify_reason r)
{
	struct pc_tls_origin_sums s;

	pc_tls_origin_sums(&s);
	return s.verify[r];
}

/* The last alert the origin received. */
static int origin_alert_rx(void)
{
	WOLFSSL_ALERT_HISTORY h;

	assert_int_equal(wolfSSL_get_alert_history(o.ssl, &h), WOLFSSL_SUCCESS);
	return h.last_rx.code;
}

/* --- tests ------------------------------------------------------------- */

/* Verified, bytes both ways (more than a window each), close_notify. */
static void exchange(int version)
{
	uint64_t verified = outcome("verified"), ok = verify_count(PC_VERIFY_OK);

	origin_ctx("srv", version, false);
	backend(trust_ca, "origin.test", false);
	e.send_len = 150000;
	o.reply_len = 200000;
	connect_origin();
	assert_int_equal(e.hs, 1);
	assert_true(o.hs_done);
	assert_string_equal(o.sni, "origin.test");
	assert_int_equal(wolfSSL_version(o.ssl), version == 2 ? TLS1_2_VERSION : TLS1_3_VERSION);
	assert_int_equal(o.pt_len, e.send_len);
	for (size_t i = 0; i < o.pt_len; i++)
		if (o.pt[i] != (uint8_t)(i * 13))
			fail_msg("origin got byte %zu wrong", i);
	assert_int_equal(e.got, o.reply_len);
	for (size_t i = 0; i < e.got; i++)
		if (e.rcv[i] != (uint8_t)(i * 7))
			fail_msg("edge got byte %zu wrong", i);
	assert_int_equal(outcome("verified"), verified + 1);
	assert_int_equal(verify_count(PC_VERIFY_OK), ok + 1);
	if (version == 3) {
		/* The origin updates its keys and asks for ours (a record
		 * our client answers on its own), then more both ways. */
		assert_int_equal(wolfSSL_update_keys(o.ssl), WOLFSSL_SUCCESS);
		o.reply_len += 30000;
		e.send_len += 30000;
		edge_drive();
		settle();
		assert_int_equal(o.pt_len, e.send_len);
		assert_int_equal(e.got, o.reply_len);
		for (size_t i = 0; i < e.got; i++)
			if (e.rcv[i] != (uint8_t)(i * 7))
				fail_msg("edge got byte %zu wrong after the key update", i);
		for (size_t i = 0; i < o.pt_len; i++)
			if (o.pt[i] != (uint8_t)(i * 13))
				fail_msg("origin got byte %zu wrong after the key update", i);
	}
	/* Our close_notify; the origin answers with its own. */
	assert_false(e.eof);
	pc_tls_client_shutdown(e.t);
	settle();
	assert_true(o.got_close_notify);
	assert_true(e.eof);
	assert_false(e.read_err);
}

static void test_exchange_tls13(void **state)
{
	(void)state;
	exchange(3);
}

static void test_exchange_tls12(void **state)
{
	(void)state;
	exchange(2);
}

/* The name matched by a wildcard SAN (one label) and by an IP SAN. */
static void test_wildcard_and_ip(void **state)
{
	static const char *const ok[] = {"a.wild.test", "198.18.0.3", "ORIGIN.test"};

	(void)state;
	for (size_t i = 0; i < RTE_DIM(ok); i++) {
		test_setup(state);
		origin_ctx("srv", 0, false);
		backend(trust_ca, ok[i], false);
		connect_origin();
		if (e.hs != 1)
			fail_msg("%s: %s", ok[i], e.why);
		test_teardown(state);
	}
	test_setup(state);
}

/* Refused, with the reason, the counter and the alert the origin gets. */
static void refused(const char *cert, struct pc_trust *trust, const char *name, const char *why,
		    const char *counter, int alert)
{
	uint64_t before = outcome(counter);

	test_setup(NULL);
	origin_ctx(cert, 0, false);
	backend(trust, name, false);
	connect_origin();
	assert_int_equal(e.hs, -1);
	if (strcmp(e.why, why) != 0)
		fail_msg("%s/%s: \"%s\", want \"%s\"", cert, name, e.why, why);
	assert_int_equal(outcome(counter), before + 1);
	assert_true(o.hs_failed);
	assert_int_equal(origin_alert_rx(), alert);
	test_teardown(NULL);
}

static void test_refused(void **state)
{
	uint64_t unknown = verify_count(PC_VERIFY_UNKNOWN_CA), eku = verify_count(PC_VERIFY_EKU);

	(void)state;
	/* A name the certificate does not carry; a wildcard covers one label
	 * only; an address not among its IP SANs. */
	refused("srv", trust_ca, "other.test", "name mismatch", "name_mismatch", 42);
	refused("srv", trust_ca, "a.b.wild.test", "name mismatch", "name_mismatch", 42);
	refused("srv", trust_ca, "198.18.0.4", "name mismatch", "name_mismatch", 42);
	/* The name only as the subject CN: not enough. */
	refused("srvcn", trust_ca, "origin.test", "name mismatch", "name_mismatch", 42);
	/* Another CA's server. */
	refused("srvother", trust_ca, "origin.test", "certificate: unknown-ca", "cert_refused", 48);
	refused("srv", trust_other, "origin.test", "certificate: unknown-ca", "cert_refused", 48);
	assert_int_equal(verify_count(PC_VERIFY_UNKNOWN_CA), unknown + 2);
	/* RFC 5280 broken (no authorityKeyIdentifier): the rule is said. */
	refused("srvnoaki", trust_ca, "origin.test",
		"certificate: invalid-cert (no authorityKeyIdentifier keyIdentifier)", "cert_refused",
		42);
	/* A certificate for clients only. */
	refused("srvcli", trust_ca, "origin.test", "certificate: eku", "cert_refused", 43);
	assert_int_equal(verify_count(PC_VERIFY_EKU), eku + 1);
	test_setup(NULL);
}

/* Without a CA nothing is checked: another CA's server, any name. */
static void test_unverified(void **state)
{
	uint64_t before = outcome("unverified");

	(void)state;
	origin_ctx("srvother", 0, false);
	backend(NULL, NULL, false);
	connect_origin();
	assert_int_equal(e.hs, 1);
	assert_int_equal(outcome("unverified"), before + 1);
}

/* Authenticated origin pull: the origin requires a client certificate of
 * its CA and gets ours. */
static void test_client_cert(void **state)
{
	(void)state;
	origin_ctx("srv", 0, true);
	backend(trust_ca, "origin.test", true);
	e.send_len = 100;
	connect_origin();
	assert_int_equal(e.hs, 1);
	assert_true(o.hs_done);
	assert_string_equal(o.peer_cn, "edge.test");
	assert_int_equal(o.pt_len, 100);
}

/* ... and refuses a backend without one: TLS 1.2 in the handshake
 * (wolfSSL's server gives up without an alert: the origin closes). */
static void test_no_client_cert_tls12(void **state)
{
	uint64_t before = outcome("peer_closed");

	(void)state;
	origin_ctx("srv", 2, true);
	backend(trust_ca, "origin.test", false);
	connect_origin();
	assert_int_equal(e.hs, -1);
	assert_int_equal(o.hs_err, NO_PEER_CERT);
	assert_string_equal(e.why, "closed during the handshake");
	assert_int_equal(outcome("peer_closed"), before + 1);
}

/* TLS 1.3: the client's handshake ends before the origin has looked at
 * its (empty) Certificate; the refusal comes at the first read. */
static void test_no_client_cert_tls13(void **state)
{
	uint64_t before = outcome("alert_received");

	(void)state;
	origin_ctx("srv", 3, true);
	backend(trust_ca, "origin.test", false);
	connect_origin();
	assert_true(o.hs_failed);
	assert_int_equal(e.hs, 1);
	assert_true(e.read_err);
	assert_string_equal(e.why, "alert certificate_required");
	assert_int_equal(outcome("alert_received"), before + 1);
}

/* The origin leaves once it has the ClientHello. */
static void test_origin_leaves(void **state)
{
	uint64_t before = outcome("peer_closed");

	(void)state;
	origin_ctx("srv", 0, false);
	o.close_at_hello = true;
	o.ssl_idle = true; /* it never answers */
	backend(trust_ca, "origin.test", false);
	connect_origin();
	assert_int_equal(e.hs, -1);
	assert_string_equal(e.why, "closed during the handshake");
	assert_int_equal(outcome("peer_closed"), before + 1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, test_setup, test_teardown)
	static const struct CMUnitTest tests[] = {
		T(test_exchange_tls13),
		T(test_exchange_tls12),
		T(test_wildcard_and_ip),
		T(test_refused),
		T(test_unverified),
		T(test_client_cert),
		T(test_no_client_cert_tls12),
		T(test_no_client_cert_tls13),
		T(test_origin_leaves),
	};

	return cmocka_run_group_tests_name("tls_client", tests, group_setup, group_teardown);
}
