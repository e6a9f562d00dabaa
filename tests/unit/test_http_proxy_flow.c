/* SPDX-License-Identifier: MIT */
/*
 * The HTTP proxy (pc_l7_http_proxy) driven as TLS drives it, against a
 * server connection of our own (pc_up_* below) and the host lookup
 * (pc_tls_host_pick below): requests forwarded with the identity headers,
 * responses streamed back, the connection to the server given back to
 * the pool only when clean, back-pressure both ways, 421, 502, 503, a
 * server failing after the response started, pipelined requests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <rte_lcore.h>

#include "pc_backend.h"
#include "pc_http.h"
#include "pc_l7.h"
#include "pc_upstream.h"

const char *const pc_backend_header_default[PC_BACKEND_NB_HEADERS] = {
	"X-SSL-Client-Verify", "X-SSL-Client-S-DN",   "X-SSL-Client-SAN",
	"X-SSL-Client-Serial", "X-SSL-Client-Fingerprint", "X-Client-Identity",
	"Client-Cert",         "Client-Cert-Chain",   "X-Forwarded-For",
	"X-Forwarded-Proto",
};

/* Head buffers from the C library: no EAL here. */
void *rte_malloc_socket(const char *type, size_t size, unsigned int align, int socket)
{
	(void)type;
	(void)align;
	(void)socket;
	return malloc(size);
}

/* Hosts: a.example verifies clients, b.example and default do not. */
bool pc_tls_host_pick(const char *name, const char **picked, bool *verifies)
{
	if (strcasecmp(name, "a.example") == 0 || strcasecmp(name, "b.example") == 0)
		*picked = strcasecmp(name, "a.example") == 0 ? "a.example" : "b.example";
	else
		*picked = "default";
	*verifies = strcmp(*picked, "a.example") == 0;
	return true;
}

static struct {
	unsigned int kicks, logs, aborts;
	uint16_t status, upstream_status;
	char upstream[24];
	uint64_t body_bytes, request_body_bytes;
} l7;

void pc_l7_kick(struct pc_l7_conn *conn)
{
	(void)conn;
	l7.kicks++;
}

void pc_l7_abort(struct pc_l7_conn *conn, uint8_t alert)
{
	(void)conn;
	assert_int_equal(alert, 80);
	l7.aborts++;
}

void pc_l7_log_request(struct pc_l7_conn *conn, const struct pc_http_log *rec,
		       const char *upstream)
{
	(void)conn;
	l7.logs++;
	l7.status = rec->status;
	l7.body_bytes = rec->body_bytes;
	l7.request_body_bytes = rec->request_body_bytes;
	l7.upstream_status = rec->upstream_status;
	snprintf(l7.upstream, sizeof(l7.upstream), "%s", upstream != NULL ? upstream : "");
}

/* One server connection at a time. */
struct pc_up {
	const struct pc_up_cb *cb;
	void *arg;
	bool live;
	char sent[1 << 16];
	size_t sent_len;
	size_t space;      /* write space */
	bool short_write;  /* a write takes one byte less than it could */
	char rx[1 << 16];
	size_t rx_len, rx_off;
	unsigned int gets, opens, released, aborted, failed, closed;
};

static struct pc_up up;
static bool no_server;

struct pc_up *pc_up_get(struct pc_lcore *lc, const struct pc_backend *b, const struct pc_up_cb *cb,
			void *arg)
{
	(void)lc;
	(void)b;
	assert_false(up.live);
	if (no_server)
		return NULL;
	up.cb = cb;
	up.arg = arg;
	up.live = true;
	up.sent_len = up.rx_len = up.rx_off = 0;
	up.gets++;
	return &up;
}

/* send-proxy-v2: a new connection with the header first. */
struct pc_up *pc_up_open(struct pc_lcore *lc, const struct pc_backend *b, const void *prefix,
			 size_t prefix_len, const struct pc_up_cb *cb, void *arg)
{
	(void)lc;
	(void)b;
	assert_false(up.live);
	up.cb = cb;
	up.arg = arg;
	up.live = true;
	up.sent_len = up.rx_len = up.rx_off = 0;
	memcpy(up.sent, prefix, prefix_len);
	up.sent_len = prefix_len;
	up.opens++;
	return &up;
}

void pc_up_close(struct pc_up *u)
{
	assert_true(u->live);
	u->live = false;
	u->closed++;
}

void pc_up_release(struct pc_up *u)
{
	assert_true(u->live && u->rx_off == u->rx_len);
	u->live = false;
	u->released++;
}

void pc_up_abort(struct pc_up *u)
{
	assert_true(u->live);
	u->live = false;
	u->aborted++;
}

void pc_up_failed(struct pc_up *u)
{
	assert_true(u->live);
	u->failed++;
}

size_t pc_up_read(struct pc_up *u, void *buf, size_t len)
{
	size_t n = u->rx_len - u->rx_off < len ? u->rx_len - u->rx_off : len;

	assert_true(u->live);
	memcpy(buf, u->rx + u->rx_off, n);
	u->rx_off += n;
	return n;
}

size_t pc_up_readable(const struct pc_up *u)
{
	return u->rx_len - u->rx_off;
}

size_t pc_up_write_space(const struct pc_up *u)
{
	return u->space;
}

size_t pc_up_write(struct pc_up *u, const void *buf, size_t len)
{
	size_t n = len < u->space ? len : u->space;

	assert_true(u->live);
	if (u->short_write && n > 1)
		n--;
	memcpy(u->sent + u->sent_len, buf, n);
	u->sent_len += n;
	u->space -= n;
	return n;
}

const char *pc_up_server(const struct pc_up *u)
{
	assert_true(u->live);
	return "198.18.0.3:8080";
}

void pc_up_notify_writable(struct pc_up *u)
{
	assert_true(u->live);
}

static uint8_t ctx[PC_L7_CTX_MAX] __attribute__((aligned(16)));
static struct pc_l7_env env;
static struct pc_backend backend;
static struct pc_verify_result vres;
static char client[1 << 16];
static size_t client_len;
static const struct pc_l7_ops *ops = &pc_l7_http_proxy;

static int setup(void **state)
{
	(void)state;
	RTE_PER_LCORE(_lcore_id) = 0;
	memset(&l7, 0, sizeof(l7));
	memset(&up, 0, sizeof(up));
	up.space = sizeof(up.sent);
	no_server = false;
	memset(ctx, 0, sizeof(ctx));
	memset(&env, 0, sizeof(env));
	memset(&backend, 0, sizeof(backend));
	for (int h = 0; h < PC_BACKEND_NB_HEADERS; h++)
		backend.header[h] = pc_backend_header_default[h];
	env.sni = "b.example";
	env.host = "b.example";
	env.backend = &backend;
	env.client_addr = htonl(0xc6120002); /* 198.18.0.2 */
	env.vres = &vres;
	client_len = 0;
	assert_true(ops->ctx_size <= PC_L7_CTX_MAX);
	assert_int_equal(ops->start(ctx, &env, NULL), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ops->stop(ctx);
	return 0;
}

/* The client sends s: how much of it was taken. */
static size_t feed(const char *s, size_t len)
{
	size_t used = 0, n;

	while (used < len && (n = ops->input(ctx, (const uint8_t *)s + used, len - used)) > 0)
		used += n;
	return used;
}

/* TLS pulls the output through cap-byte buffers until none comes. */
static void pull(size_t cap)
{
	size_t n;

	while ((n = ops->output(ctx, (uint8_t *)client + client_len, cap)) > 0) {
		client_len += n;
		assert_true(n <= cap);
	}
	client[client_len] = '\0';
}

static void server_sends(const char *s)
{
	memcpy(up.rx + up.rx_len, s, strlen(s));
	up.rx_len += strlen(s);
	up.cb->on_readable(up.arg);
}

static void test_get(void **state)
{
	static const char req[] = "GET /x HTTP/1.1\r\nHost: b.example:443\r\n"
				  "X-SSL-Client-Verify: SUCCESS\r\nx-forwarded-for: 1.2.3.4\r\n\r\n";

	(void)state;
	assert_int_equal(feed(req, sizeof(req) - 1), sizeof(req) - 1);
	up.sent[up.sent_len] = '\0';
	assert_string_equal(up.sent, "GET /x HTTP/1.1\r\nHost: b.example:443\r\n"
				     "X-SSL-Client-Verify: NONE\r\nX-Forwarded-For: 198.18.0.2\r\n"
				     "X-Forwarded-Proto: https\r\n\r\n");
	pull(16384);
	assert_int_equal(client_len, 0);
	server_sends("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nKeep-Alive: timeout=5\r\n\r\nhel");
	pull(3);
	assert_string_equal(client, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel");
	assert_int_equal(l7.logs, 0);
	server_sends("lo");
	pull(3);
	assert_string_equal(client, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
	assert_int_equal(l7.logs, 1);
	assert_int_equal(l7.status, 200);
	assert_int_equal(l7.upstream_status, 200);
	assert_string_equal(l7.upstream, "198.18.0.3:8080");
	assert_int_equal(l7.body_bytes, 5);
	assert_int_equal(up.released, 1);
	assert_false(ops->done(ctx));
	/* The next request gets a server connection again. */
	client_len = 0;
	static const char head[] = "HEAD / HTTP/1.1\r\nHost: B.EXAMPLE\r\nConnection: close\r\n\r\n";

	assert_int_equal(feed(head, sizeof(head) - 1), sizeof(head) - 1);
	assert_int_equal(up.gets, 2);
	server_sends("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n");
	pull(7);
	assert_string_equal(client, "HTTP/1.1 200 OK\r\nContent-Length: 500\r\nConnection: close\r\n"
				    "\r\n");
	assert_true(ops->done(ctx));
	assert_int_equal(up.released, 2);
}

static void test_identity(void **state)
{
	static const uint8_t leaf[] = {0x30, 0x03, 0x02, 0x01, 0x01}, ca[] = {0xfb, 0xff};
	static const char req[] = "GET / HTTP/1.1\r\nHost: b.example\r\n\r\n";

	(void)state;
	env.cert_presented = env.verified = true;
	env.identity = "spiffe://example.org/a";
	snprintf(vres.subject, sizeof(vres.subject), "/O=Ex\r\nample/CN=a%%b");
	snprintf(vres.serial, sizeof(vres.serial), "01ab");
	env.nb_certs = 2;
	env.cert[0] = leaf;
	env.cert_len[0] = sizeof(leaf);
	env.cert[1] = ca;
	env.cert_len[1] = sizeof(ca);
	env.has_fingerprint = true;
	memset(env.fingerprint, 0xa5, 32);
	backend.header[PC_HDR_CLIENT_IDENTITY] = "X-Who";
	backend.header[PC_HDR_FORWARDED_PROTO] = NULL;
	assert_int_equal(feed(req, sizeof(req) - 1), sizeof(req) - 1);
	up.sent[up.sent_len] = '\0';
	/* The leaf does not parse as a certificate: no SAN header. */
	assert_string_equal(up.sent,
			    "GET / HTTP/1.1\r\nHost: b.example\r\n"
			    "X-SSL-Client-Verify: SUCCESS\r\n"
			    "X-SSL-Client-S-DN: /O=Ex%0D%0Aample/CN=a%25b\r\n"
			    "X-SSL-Client-Serial: 01ab\r\n"
			    "X-SSL-Client-Fingerprint: "
			    "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5\r\n"
			    "X-Who: spiffe://example.org/a\r\n"
			    "Client-Cert: :MAMCAQE=:\r\n"
			    "Client-Cert-Chain: :+/8=:\r\n"
			    "X-Forwarded-For: 198.18.0.2\r\n\r\n");
	/* A chain that failed: the verdict, no RFC 9440 headers. */
	server_sends("HTTP/1.1 204 No Content\r\n\r\n");
	pull(100);
	env.verified = false;
	env.vreason = PC_VERIFY_EXPIRED;
	env.identity = NULL;
	assert_int_equal(feed(req, sizeof(req) - 1), sizeof(req) - 1);
	up.sent[up.sent_len] = '\0';
	assert_non_null(strstr(up.sent, "X-SSL-Client-Verify: FAILED:expired\r\n"));
	assert_null(strstr(up.sent, "Client-Cert"));
	assert_null(strstr(up.sent, "X-Who"));
}

/* 421 whenever the Host picks another host than the SNI and one of the
 * two verifies; never a server connection for it. */
static void test_misdirected(void **state)
{
	static const struct {
		const char *sni_host, *host;
		bool host_verifies;
		uint16_t status;
	} cases[] = {
		{"b.example", "a.example", false, 421},
		{"default", "a.example", false, 421},  /* no SNI */
		{"a.example", "b.example", true, 421},
		{"a.example", "other.example", true, 421}, /* the default host */
		{"a.example", "A.Example", true, 0},
		{"b.example", "other.example", false, 0},  /* neither verifies */
		{"default", "", false, 0},
	};
	char req[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n",
				 cases[i].host);

		teardown(NULL);
		setup(NULL);
		env.host = cases[i].sni_host;
		env.host_verifies = cases[i].host_verifies;
		assert_int_equal(feed(req, (size_t)n), (size_t)n);
		pull(1000);
		if (cases[i].status == 421) {
			assert_int_equal(up.gets, 0);
			assert_int_equal(l7.status, 421);
			assert_non_null(strstr(client, "HTTP/1.1 421 Misdirected Request\r\n"));
			/* No body: the connection stays. */
			assert_null(strstr(client, "Connection: close"));
			assert_false(ops->done(ctx));
		} else {
			assert_int_equal(up.gets, 1);
		}
	}
	/* With a body, the connection closes after the 421. */
	teardown(NULL);
	setup(NULL);
	static const char post[] = "POST / HTTP/1.1\r\nHost: a.example\r\nContent-Length: 3\r\n\r\nabc";

	assert_int_equal(feed(post, sizeof(post) - 1), sizeof(post) - 4);
	pull(1000);
	assert_non_null(strstr(client, "Connection: close\r\n"));
	assert_true(ops->done(ctx));
}

static void test_refused(void **state)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: b.example\r\nContent-Length: 1\r\n"
				  "Content-Length: 1\r\n\r\nx";

	(void)state;
	feed(req, sizeof(req) - 1);
	pull(1000);
	assert_int_equal(up.gets, 0);
	assert_string_equal(client, "HTTP/1.1 400 Bad Request\r\nServer: portcullis\r\n"
				    "Content-Type: text/plain\r\nContent-Length: 12\r\n"
				    "Connection: close\r\n\r\nBad Request\n");
	assert_true(ops->done(ctx));
}

static void test_no_server(void **state)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: b.example\r\n\r\n";

	(void)state;
	no_server = true;
	feed(req, sizeof(req) - 1);
	pull(1000);
	assert_non_null(strstr(client, "HTTP/1.1 503 Service Unavailable\r\n"));
	assert_false(ops->done(ctx));
	assert_string_equal(l7.upstream, "");
	assert_int_equal(l7.status, 503);
}

static void test_bad_gateway(void **state)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: b.example\r\n\r\n";

	(void)state;
	/* Garbage. */
	feed(req, sizeof(req) - 1);
	server_sends("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
	pull(1000);
	assert_non_null(strstr(client, "HTTP/1.1 502 Bad Gateway\r\n"));
	assert_int_equal(l7.status, 502);
	assert_int_equal(l7.upstream_status, 0);
	assert_string_equal(l7.upstream, "198.18.0.3:8080");
	assert_int_equal(up.failed, 1);
	assert_int_equal(up.aborted, 1);
	assert_false(ops->done(ctx));
	/* Closed before the head is whole. */
	client_len = 0;
	feed(req, sizeof(req) - 1);
	server_sends("HTTP/1.1 200 OK\r\n");
	up.cb->on_peer_fin(up.arg);
	pull(1000);
	assert_non_null(strstr(client, "HTTP/1.1 502 Bad Gateway\r\n"));
	assert_int_equal(up.failed, 2);
	/* Reset (the connection gone): 502 too. */
	client_len = 0;
	feed(req, sizeof(req) - 1);
	up.live = false;
	up.cb->on_closed(up.arg, PC_UP_RESET);
	pull(1000);
	assert_non_null(strstr(client, "HTTP/1.1 502 Bad Gateway\r\n"));
	/* Closed mid-body, after the head went out: the client's
	 * connection ends. */
	client_len = 0;
	feed(req, sizeof(req) - 1);
	server_sends("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345");
	pull(1000);
	up.cb->on_peer_fin(up.arg);
	pull(1000);
	assert_int_equal(l7.aborts, 1);
	assert_int_equal(up.failed, 3);
	assert_false(up.live);
}

/* A chunked upload through a server connection that takes 7 bytes at a
 * time (or, short_write, fewer than it says): input() takes only that,
 * trailer fields stay here; a chunked response through a 5-byte output
 * buffer. */
static void back_pressure(bool short_write)
{
	static const char req[] = "POST /u HTTP/1.1\r\nHost: b.example\r\nTransfer-Encoding: chunked\r\n"
				  "\r\n5\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n"
				  "X-SSL-Client-Verify: SUCCESS\r\n\r\n";
	static const char body[] = "5\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n";
	static const char resp[] = "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
				   "3\r\nabc\r\n0\r\nT: 1\r\n\r\n";
	size_t used = 0;
	char *at;

	up.short_write = short_write;
	up.space = 7;
	while (used < sizeof(req) - 1) {
		size_t n = feed(req + used, sizeof(req) - 1 - used);

		used += n;
		if (used < sizeof(req) - 1 && !short_write)
			assert_int_equal(up.space, 0);
		up.space = 7;
		up.cb->on_writable(up.arg);
	}
	up.sent[up.sent_len] = '\0';
	at = strstr(up.sent, "\r\n\r\n");
	assert_non_null(at);
	assert_string_equal(at + 4, body);
	assert_null(strstr(up.sent, "SUCCESS"));
	up.rx_len = strlen(resp);
	memcpy(up.rx, resp, up.rx_len);
	up.cb->on_readable(up.arg);
	pull(5);
	assert_string_equal(client, resp);
	assert_int_equal(up.released, 1);
	assert_int_equal(l7.status, 201);
	assert_int_equal(l7.request_body_bytes, strlen(body) + strlen("X-SSL-Client-Verify: SUCCESS\r\n"));
}

static void test_back_pressure(void **state)
{
	(void)state;
	back_pressure(false);
	teardown(NULL);
	setup(NULL);
	back_pressure(true);
}

/* Interim responses, and a response that runs until the server closes. */
static void test_interim_and_close(void **state)
{
	static const char req[] = "PUT / HTTP/1.1\r\nHost: b.example\r\nContent-Length: 2\r\n"
				  "Expect: 100-continue\r\n\r\n";

	(void)state;
	feed(req, sizeof(req) - 1);
	server_sends("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nuntil");
	pull(1000);
	assert_string_equal(client, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
				    "Connection: close\r\n\r\nuntil");
	assert_int_equal(feed("ok", 2), 2);
	server_sends(" close");
	up.cb->on_peer_fin(up.arg);
	pull(1000);
	assert_string_equal(client, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
				    "Connection: close\r\n\r\nuntil close");
	assert_int_equal(l7.logs, 1);
	assert_int_equal(up.aborted, 1);
	assert_true(ops->done(ctx));
}

/* Pipelined requests wait for the response before them. */
static void test_pipelined(void **state)
{
	static const char reqs[] = "GET /1 HTTP/1.1\r\nHost: b.example\r\n\r\n"
				   "GET /2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
	size_t first = strlen("GET /1 HTTP/1.1\r\nHost: b.example\r\n\r\n"), n;

	(void)state;
	n = feed(reqs, sizeof(reqs) - 1);
	assert_int_equal(n, first);
	server_sends("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1");
	pull(1000);
	assert_int_equal(up.released, 1);
	assert_int_equal(feed(reqs + n, sizeof(reqs) - 1 - n), sizeof(reqs) - 1 - n);
	server_sends("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2");
	pull(1000);
	assert_string_equal(client, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1"
				    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
				    "Connection: keep-alive\r\n\r\n2");
	assert_false(ops->done(ctx));
	/* The client leaves between requests. */
	assert_false(ops->peer_closed(ctx));
	assert_true(ops->done(ctx));
}

/* The host's policy: 403 without a server connection. */
static void test_forbidden(void **state)
{
	static const char get[] = "GET /admin/x HTTP/1.1\r\nHost: b.example\r\n\r\n";
	static const char head[] = "HEAD /open HTTP/1.1\r\nHost: b.example\r\n\r\n";

	(void)state;
	env.nb_protected = 1;
	env.protected[0] = "/admin";
	feed(get, sizeof(get) - 1);
	pull(1000);
	assert_int_equal(l7.status, 403);
	assert_int_equal(up.gets, 0);
	/* HEAD: the same head, no body. */
	env.verify_failed_403 = true;
	client_len = 0;
	feed(head, sizeof(head) - 1);
	pull(1000);
	assert_string_equal(client, "HTTP/1.1 403 Forbidden\r\nServer: portcullis\r\n"
				    "Content-Type: text/plain\r\nContent-Length: 10\r\n\r\n");
	assert_int_equal(l7.body_bytes, 0);
	assert_int_equal(up.gets, 0);
	assert_false(ops->done(ctx));
}

/* A response before the request body is all there: passed on, then the
 * connection closes (the rest of the body cannot be told from a next
 * request) and the server connection is not reused. */
static void test_early_response(void **state)
{
	static const char req[] = "POST / HTTP/1.1\r\nHost: b.example\r\nContent-Length: 100\r\n\r\n"
				  "0123456789";

	(void)state;
	assert_int_equal(feed(req, sizeof(req) - 1), sizeof(req) - 1);
	server_sends("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n");
	pull(1000);
	assert_string_equal(client, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n"
				    "Connection: close\r\n\r\n");
	assert_int_equal(up.aborted, 1);
	assert_int_equal(up.released, 0);
	assert_true(ops->done(ctx));
	assert_int_equal(ops->input(ctx, (const uint8_t *)"more", 4), 0);
}

/* The client closes its side after a whole request: its response still
 * goes out; after half a request: nothing more. */
static void test_client_closes(void **state)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: b.example\r\n\r\n";
	static const char half[] = "POST / HTTP/1.1\r\nHost: b.example\r\nContent-Length: 5\r\n\r\nab";

	(void)state;
	feed(req, sizeof(req) - 1);
	assert_true(ops->peer_closed(ctx));
	assert_false(ops->done(ctx));
	server_sends("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	pull(1000);
	assert_string_equal(client, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n"
				    "\r\nok");
	assert_true(ops->done(ctx));
	assert_int_equal(up.released, 1);
	teardown(NULL);
	setup(NULL);
	feed(half, sizeof(half) - 1);
	assert_false(ops->peer_closed(ctx));
	assert_true(ops->done(ctx));
	assert_int_equal(up.aborted, 1);
}

/* send-proxy-v2: the client connection's own server connection, opened
 * with the PROXY header, kept between its requests (never pooled), closed
 * with it. */
static void test_proxy_v2(void **state)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: b.example\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

	(void)state;
	backend.spec.proxy_v2 = true;
	env.version = "TLSv1.3";
	env.cipher = env.sig_alg = env.key_alg = env.alpn = "";
	for (int i = 0; i < 2; i++) {
		client_len = 0;
		assert_int_equal(feed(req, sizeof(req) - 1), sizeof(req) - 1);
		if (i == 0)
			assert_memory_equal(up.sent, "\r\n\r\n\0\r\nQUIT\n\x21\x11", 14);
		server_sends(resp);
		pull(16384);
		assert_string_equal(client, resp);
	}
	assert_int_equal(up.opens, 1);
	assert_int_equal(up.gets, 0);
	assert_int_equal(up.released, 0);
	assert_true(up.live);
	ops->stop(ctx);
	assert_int_equal(up.closed, 1);
	memset(ctx, 0, sizeof(ctx));
	assert_int_equal(ops->start(ctx, &env, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proxy_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_misdirected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_gateway, setup, teardown),
		cmocka_unit_test_setup_teardown(test_back_pressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interim_and_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forbidden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_early_response, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_closes, setup, teardown),
	};

	return cmocka_run_group_tests_name("http_proxy_flow", tests, NULL, NULL);
}
