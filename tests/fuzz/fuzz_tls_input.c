/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the TLS record input path: a fake peer opens a TCP connection to a
 * TLS listener (port 443, pc_tls_http_app) through the worker loop on a
 * ring-backed port and sends what a TLS client would (ClientHello,
 * records, garbage), cut into segments of fuzzer-chosen sizes,
 * interleaved with timer advances, withheld ACKs, a closed window, a FIN
 * or RST at a fuzzer-chosen point. The configuration is a real one,
 * committed through a transaction: an ECDSA P-256 CA, server and client
 * certificate made with openssl at start-up in a temporary directory
 * (removed once loaded: nothing is committed to git), a default host
 * that verifies no one, "mtls.fuzz.test" that requires a client
 * certificate (alert) and "*.opt.fuzz.test" that asks for one (http403).
 *
 * The worker context runs on EAL worker lcore 1, as in production: TLS
 * arenas and connection pools are per worker lcore, and wolfSSL's
 * per-connection memory comes from that arena (contexts, built on the
 * main lcore, from malloc). libFuzzer's thread hands each input to it.
 *
 * Checked: every frame sent is a well-formed IPv4/TCP segment from port
 * 443 to the peer, within the MTU; the server's byte stream has no gap
 * and no byte after its FIN, and is a sequence of well-formed TLS records
 * (type 20-23, version 3.x, length within 2^14 + 2048, no record cut by
 * the FIN); in raw mode no handshake ever completes (the peer holds no
 * keys); once
 * the peer has closed (FIN, everything acknowledged, or RST) and enough
 * time has passed (handshake timeout, FIN_WAIT_2, TIME_WAIT), the TLS
 * connection is released on its own (tls_connections_active back to 0,
 * wolfSSL's arena bytes back to what they were before the input); after
 * the worker context is torn down every mbuf is back in the pool.
 *
 * Client mode (configuration bit 4): the peer's bytes are those of an
 * in-process wolfSSL client (TLS 1.2, 1.3 or either, an SNI, with or
 * without the client certificate, all chosen by the input) that
 * handshakes with the server, writes the input's plaintext (HTTP
 * requests, garbage) and reads the responses. Its records still go
 * through the schedule (segments cut from what it has written so far).
 * Also checked then: a handshake the client completed and the server
 * received whole is counted once (unless mtls.fuzz.test refuses a client
 * without certificate); responses decrypt (wolfSSL_read fails only after
 * the input closed or the server reset); the first response to a
 * "GET /bytes/N HTTP/1.1" the server got whole, if 200, says
 * Content-Length: N, and once the server has ended (close_notify, or its
 * FIN read to the end) has N bytes of body (exactly, if it was the only
 * request); the server's FIN, read to the end with nobody resetting,
 * comes after its close_notify. The client's wolfSSL calls run with no
 * lcore id (see client_enter()): its memory comes from malloc, not the
 * worker's arena, whose check stays exact for the server's objects.
 *
 * Input: a configuration byte, a schedule length byte N, N schedule
 * bytes, then the client's byte stream. Configuration: bits 0-1 how the
 * peer ends (0 FIN, 1 RST, 2 nothing: the worker context is torn down
 * with the connection open, 3 FIN, then RST); bit 2: 4 KiB TCP buffers;
 * bit 3: the peer does not acknowledge the server's data until told;
 * bit 4: client mode; bit 5 (client mode): the peer ends right after the
 * schedule (mid-exchange), not once the exchange has run its course (and
 * the client's close_notify if asked for). In client mode the stream is
 * [params][plaintext]: params bits 0-1 TLS 1.2, 1.3, either (2, 3);
 * bits 2-4 the SNI (see client_start()); bit 5 the client certificate;
 * bit 6 close_notify before the end; bit 7 plaintext in 61-byte records.
 * Schedule bytes, in order, then the rest of the stream in MSS-sized
 * segments:
 *   0x00-0x3f  a segment of b + 1 bytes of the stream
 *   0x40-0x7f  a segment of (b - 0x3f) * 32 bytes (at most the MSS)
 *   0x80-0xbf  (b & 0x3f) + 1 full-sized segments
 *   0xc0-0xcf  advance the timers by 1 << (b & 15) ms
 *   0xd0 FIN   0xd1 RST   0xd2 toggle automatic ACKs   0xd3 ACK now
 *   0xd4 toggle a zero receive window   0xd5 send the last segment again
 *   0xd6 client mode: close_notify   0xd7 client mode: a TLS 1.3 KeyUpdate
 *   others: one more worker pass
 * A segment is cut to the server's receive window (not sent when it is
 * closed) and to the stream's end (in client mode: to what the client has
 * written so far, the client running before every operation).
 */
#include <errno.h>
#include <inttypes.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_memory.h>
#include <rte_tcp.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#include <sanitizer/lsan_interface.h>
#define HAVE_LSAN 1
#endif
#endif

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>

#include "harness.h"
#include "pc_tls.h"

#define TLS_PORT 443
#define PEER_PORT 40000
#define WORKER 1
#define MSS 1460
#define HS_TIMEOUT_MS 3000
#define NB_CONNS 4
/* A ciphertext record's largest length (TLS 1.2: 2^14 + 2048). */
#define REC_MAX (16384 + 2048)

#define CHECK(cond)                                                                 \
	do {                                                                        \
		if (!(cond))                                                        \
			check_failed(__LINE__, #cond);                              \
	} while (0)

static void check_failed(int line, const char *what);

/* Client mode: an in-process wolfSSL client whose records are the
 * peer's byte stream. Its output is appended to out[] (never moved: the
 * 0xd5 resend points into it), the server's bytes to in[]. */
#define CLIENT_OUT (512 * 1024)
#define CLIENT_IN (1024 * 1024)
#define CLIENT_RESP (256 * 1024)

struct client {
	bool on;
	WOLFSSL *ssl;
	bool hs_done, hs_failed, dead;
	bool cert, close_notify_at_end;
	bool shut_wanted, shut_sent;     /* close_notify asked for, written */
	bool closed;                     /* the input closed: close_notify, FIN or RST */
	bool tcp_closed;                 /* ... FIN or RST (or the input's end) */
	bool got_close_notify;
	int read_err, write_err;         /* fatal wolfSSL errors after the handshake */
	bool read_err_after_close;       /* ... and whether the input had closed first */
	size_t hs_out;                   /* out_len when the handshake completed */
	size_t chunk;                    /* plaintext per wolfSSL_write */
	const uint8_t *pt;
	size_t pt_len, pt_off;
	size_t pt_sent_at_close;         /* plaintext written before the input closed */
	size_t out_len, out_off;
	size_t in_len, in_off;
	uint64_t in_total;
	bool in_dropped;                 /* the server's bytes a dead client left */
	size_t resp_len;
	bool resp_overflow;
	const char *sni;
	uint8_t out[CLIENT_OUT];
	uint8_t in[CLIENT_IN];
	uint8_t resp[CLIENT_RESP];
};

static struct client cl;
/* [version][with a client certificate]: made on the main lcore, from malloc. */
static WOLFSSL_CTX *client_ctx[3][2];
static unsigned int saved_lcore;

struct peer {
	uint32_t nxt;           /* our next sequence number */
	uint32_t srv_iss;
	uint32_t srv_nxt;       /* one past the server's highest in order */
	uint32_t acked;         /* what we last acknowledged */
	uint32_t srv_ack;       /* the server's highest ACK of our stream */
	uint32_t srv_wnd;       /* its window, scaled */
	uint8_t srv_ws;
	bool synack, srv_fin, srv_rst, fin_sent, rst_sent;
	bool auto_ack, zero_wnd;
	bool dup_seen;          /* a retransmission came: ACK it again */
	/* The last data segment, for 0xd5. */
	uint32_t last_seq;
	const uint8_t *last_data;
	uint16_t last_len;
	/* The server's records: header bytes so far, body bytes to come. */
	uint8_t hdr[5];
	unsigned int hdr_len;
	uint32_t body_left;
};

static struct peer p;
static uint64_t ticks;
/* FUZZ_TLS_DEBUG=1: a line per input, and the TLS counters at exit. */
static bool debug;

/* What went wrong, with the connections and the TLS counters. */
static void check_failed(int line, const char *what)
{
	fprintf(stderr, "fuzz_tls_input:%d: %s\n", line, what);
	fprintf(stderr, "peer: nxt %#x srv_nxt %#x acked %#x srv_ack %#x srv_wnd %u%s%s%s%s\n",
		p.nxt, p.srv_nxt, p.acked, p.srv_ack, p.srv_wnd, p.srv_fin ? " srv-fin" : "",
		p.srv_rst ? " srv-rst" : "", p.fin_sent ? " fin-sent" : "",
		p.rst_sent ? " rst-sent" : "");
	pc_dp_dump_connections(stderr);
	pc_tls_dump_counters(stderr);
	abort();
}

struct counters {
	uint64_t active, handshakes, tls12, tls13, mem_in_use, pool_empty;
};

/* The TLS counters this target checks, from pc_tls_dump_counters(). */
static void read_counters(struct counters *c)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK(f != NULL);
	pc_tls_dump_counters(f);
	fclose(f);
	memset(c, 0, sizeof(*c));
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char name[64];
		unsigned long long v;

		if (sscanf(line, "%63s %llu", name, &v) != 2)
			continue;
		if (strcmp(name, "tls_connections_active") == 0)
			c->active = v;
		else if (strcmp(name, "tls_handshakes") == 0)
			c->handshakes = v;
		else if (strcmp(name, "tls_handshakes_tls12") == 0)
			c->tls12 = v;
		else if (strcmp(name, "tls_handshakes_tls13") == 0)
			c->tls13 = v;
		else if (strcmp(name, "tls_mem_in_use_bytes") == 0)
			c->mem_in_use = v;
		else if (strcmp(name, "tls_err_conn_pool_empty") == 0)
			c->pool_empty = v;
	}
	free(buf);
}

/* --- client mode -------------------------------------------------------- */

/* The client's calls run with no lcore id: wolfSSL's allocator (ours,
 * pc_tls_route_memory()) then takes its memory from malloc, not from the
 * worker's arena, so the arena accounting sees the server's objects
 * only. The worker's state is not touched in between. */
static void client_enter(void)
{
	saved_lcore = RTE_PER_LCORE(_lcore_id);
	RTE_PER_LCORE(_lcore_id) = LCORE_ID_ANY;
}

static void client_leave(void)
{
	RTE_PER_LCORE(_lcore_id) = saved_lcore;
}

static int cio_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	size_t n = RTE_MIN((size_t)sz, cl.in_len - cl.in_off);

	(void)ssl;
	(void)ctx;
	if (n == 0)
		return p.srv_fin || p.srv_rst ? WOLFSSL_CBIO_ERR_CONN_CLOSE
					      : WOLFSSL_CBIO_ERR_WANT_READ;
	memcpy(buf, cl.in + cl.in_off, n);
	cl.in_off += n;
	return (int)n;
}

static int cio_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	size_t n = RTE_MIN((size_t)sz, sizeof(cl.out) - cl.out_len);

	(void)ssl;
	(void)ctx;
	if (p.rst_sent || p.fin_sent)
		return WOLFSSL_CBIO_ERR_CONN_CLOSE;
	if (n == 0)
		return WOLFSSL_CBIO_ERR_WANT_WRITE;
	memcpy(cl.out + cl.out_len, buf, n);
	cl.out_len += n;
	return (int)n;
}

static void client_pump(void);

static void client_compact(void)
{
	memmove(cl.in, cl.in + cl.in_off, cl.in_len - cl.in_off);
	cl.in_len -= cl.in_off;
	cl.in_off = 0;
}

/* The server's new bytes, for the client (which reads them now if they
 * would not fit: its calls touch nothing but its buffers). */
static void client_take(const uint8_t *d, uint32_t n)
{
	if (!cl.on)
		return;
	if (sizeof(cl.in) - cl.in_len < n) {
		client_compact();
		if (sizeof(cl.in) - cl.in_len < n) {
			client_pump();
			client_compact();
		}
	}
	if (sizeof(cl.in) - cl.in_len < n) {
		/* Only a client that stopped reading leaves a record's worth. */
		CHECK(cl.dead);
		cl.in_dropped = true;
		cl.in_total += n;
		return;
	}
	memcpy(cl.in + cl.in_len, d, n);
	cl.in_len += n;
	cl.in_total += n;
}

/* The client does what it can: handshake, plaintext out, responses in,
 * close_notify when asked. */
static void client_pump(void)
{
	uint8_t buf[4096];
	int r, err;

	if (!cl.on || cl.ssl == NULL || cl.dead)
		return;
	client_enter();
	if (!cl.hs_done) {
		r = wolfSSL_connect(cl.ssl);
		if (r == WOLFSSL_SUCCESS) {
			cl.hs_done = true;
			cl.hs_out = cl.out_len;
		} else {
			err = wolfSSL_get_error(cl.ssl, r);
			if (err != WOLFSSL_ERROR_WANT_READ && err != WOLFSSL_ERROR_WANT_WRITE) {
				cl.hs_failed = cl.dead = true;
				if (debug)
					fprintf(stderr, "fuzz_tls_input: client handshake: %d\n", err);
			}
		}
	}
	if (cl.hs_done) {
		while (cl.pt_off < cl.pt_len && !cl.shut_sent && cl.write_err == 0) {
			size_t k = RTE_MIN(cl.pt_len - cl.pt_off, cl.chunk);

			r = wolfSSL_write(cl.ssl, cl.pt + cl.pt_off, (int)k);
			if (r > 0) {
				cl.pt_off += (size_t)r;
				continue;
			}
			err = wolfSSL_get_error(cl.ssl, r);
			if (err != WOLFSSL_ERROR_WANT_WRITE && err != WOLFSSL_ERROR_WANT_READ)
				cl.write_err = err;
			break;
		}
		for (;;) {
			r = wolfSSL_read(cl.ssl, buf, sizeof(buf));
			if (r > 0) {
				size_t k = RTE_MIN((size_t)r, sizeof(cl.resp) - cl.resp_len);

				memcpy(cl.resp + cl.resp_len, buf, k);
				cl.resp_len += k;
				cl.resp_overflow |= k < (size_t)r;
				continue;
			}
			err = wolfSSL_get_error(cl.ssl, r);
			if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE)
				break;
			if (err == WOLFSSL_ERROR_ZERO_RETURN) {
				cl.got_close_notify = true;
			} else {
				cl.read_err = err;
				cl.read_err_after_close = cl.closed;
				if (debug)
					fprintf(stderr, "fuzz_tls_input: client read: %d\n", err);
			}
			cl.dead = true;
			break;
		}
		if (cl.shut_wanted && !cl.shut_sent && !cl.dead) {
			cl.shut_sent = true;
			wolfSSL_shutdown(cl.ssl);
		}
	}
	client_leave();
}

static void client_close_notify(void)
{
	if (!cl.on || cl.shut_wanted)
		return;
	cl.shut_wanted = true;
	cl.closed = true;
	client_pump();
}

/* A TLS 1.3 KeyUpdate asking for the server's (its answer is a record
 * wolfSSL writes on its own). */
static void client_key_update(void)
{
	if (!cl.on || !cl.hs_done || cl.dead || cl.shut_sent || cl.ssl == NULL)
		return;
	client_enter();
	if (wolfSSL_version(cl.ssl) == TLS1_3_VERSION)
		wolfSSL_update_keys(cl.ssl);
	client_leave();
	client_pump();
}

/* The client's stream: [params][plaintext]. Params: bits 0-1 the version
 * (TLS 1.2, 1.3, either), bits 2-4 the SNI, bit 5 a client certificate,
 * bit 6 close_notify before the end, bit 7 plaintext in 61-byte records. */
static void client_start(const uint8_t *d, size_t n)
{
	static const char *const snis[8] = {NULL, "fuzz.test", "mtls.fuzz.test",
					    "a.opt.fuzz.test", "unknown.example",
					    "b.opt.fuzz.test", "FUZZ.TEST", "x.mtls.fuzz.test"};
	uint8_t c = n != 0 ? d[0] : 0;
	unsigned int v = RTE_MIN(c & 3u, 2u);

	memset(&cl, 0, offsetof(struct client, out));
	cl.on = true;
	cl.cert = (c & 0x20) != 0;
	cl.close_notify_at_end = (c & 0x40) != 0;
	cl.chunk = (c & 0x80) ? 61 : 16384;
	cl.sni = snis[(c >> 2) & 7];
	cl.pt = n != 0 ? d + 1 : d;
	cl.pt_len = n != 0 ? n - 1 : 0;
	client_enter();
	cl.ssl = wolfSSL_new(client_ctx[v][cl.cert]);
	CHECK(cl.ssl != NULL);
	if (cl.sni != NULL)
		CHECK(wolfSSL_UseSNI(cl.ssl, WOLFSSL_SNI_HOST_NAME, cl.sni,
				     (unsigned short)strlen(cl.sni)) == WOLFSSL_SUCCESS);
	client_leave();
}

static void client_end(void)
{
	if (cl.ssl != NULL) {
		client_enter();
		wolfSSL_free(cl.ssl);
		client_leave();
	}
	cl.ssl = NULL;
	cl.on = false;
}

/* Is the request at the start of pt "GET /bytes/N HTTP/1.x" with a whole
 * head? Returns the head's length, N in *n. */
static size_t bytes_request(const uint8_t *d, size_t len, uint64_t *n)
{
	const char *s = (const char *)d;
	size_t i = 11;
	uint64_t v = 0;

	if (len < 11 || memcmp(s, "GET /bytes/", 11) != 0)
		return 0;
	if (i >= len || s[i] < '0' || s[i] > '9')
		return 0;
	for (; i < len && s[i] >= '0' && s[i] <= '9' && i < 11 + 12; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	if (i + 10 > len || memcmp(s + i, " HTTP/1.1\r", 10) != 0)
		return 0;
	for (size_t j = i; j + 4 <= len; j++)
		if (memcmp(s + j, "\r\n\r\n", 4) == 0) {
			*n = v;
			return j + 4;
		}
	return 0;
}

/* The first response, to a GET /bytes/N the server got whole: a 200 says
 * Content-Length: N, and once the server has said all (close_notify, or
 * its FIN read to the end, nobody reset) its body has N bytes (the one
 * request: exactly). */
static void check_bytes_response(void)
{
	const char *r = (const char *)cl.resp;
	uint64_t n, clen = UINT64_MAX;
	size_t req = bytes_request(cl.pt, cl.pt_len, &n), head = 0;

	bool done = cl.got_close_notify ||
		    (p.srv_fin && !p.srv_rst && !p.rst_sent && cl.read_err == SOCKET_PEER_CLOSED_E &&
		     cl.in_off == cl.in_len && !cl.in_dropped);

	if (req == 0 || cl.resp_overflow || cl.pt_sent_at_close < req)
		return;
	for (size_t j = 0; j + 4 <= cl.resp_len; j++)
		if (memcmp(r + j, "\r\n\r\n", 4) == 0) {
			head = j + 4;
			break;
		}
	if (head == 0) {
		/* Nothing or part of the head: only if the exchange was cut. */
		CHECK(!done || cl.resp_len == 0);
		return;
	}
	if (cl.resp_len < 12 || memcmp(r, "HTTP/1.1 200", 12) != 0)
		return;
	for (size_t j = 0; j + 17 < head; j++)
		if (strncasecmp(r + j, "\r\nContent-Length:", 17) == 0) {
			clen = strtoull(r + j + 17, NULL, 10);
			break;
		}
	CHECK(clen == n);
	if (done && req == cl.pt_len)
		CHECK(cl.resp_len - head == n);
	else if (req == cl.pt_len)
		CHECK(cl.resp_len - head <= n);
	if (done)
		CHECK(cl.resp_len - head >= n);
}

/* The server's stream, record by record. */
static void feed_records(const uint8_t *d, uint32_t n)
{
	while (n != 0) {
		if (p.hdr_len < 5) {
			p.hdr[p.hdr_len++] = *d++;
			n--;
			if (p.hdr_len == 5) {
				uint32_t len = (uint32_t)p.hdr[3] << 8 | p.hdr[4];

				CHECK(p.hdr[0] >= 20 && p.hdr[0] <= 23);
				CHECK(p.hdr[1] == 3 && p.hdr[2] <= 4);
				CHECK(len <= REC_MAX && (len != 0 || p.hdr[0] == 23));
				p.body_left = len;
				if (len == 0)
					p.hdr_len = 0;
			}
			continue;
		}
		uint32_t k = RTE_MIN(n, p.body_left);

		d += k;
		n -= k;
		p.body_left -= k;
		if (p.body_left == 0)
			p.hdr_len = 0;
	}
}

static bool seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* What the worker sent: well-formed, to our peer; the peer learns the
 * server's sequence numbers, window and records from it. */
static void take_sent(void)
{
	struct h_frame f;
	struct h_tcp t;

	while (h_take(&f)) {
		CHECK(h_parse_tcp(&f, &t) == 0);
		CHECK(f.len <= sizeof(struct rte_ether_hdr) + 1500);
		CHECK(t.dst == H_PEER && t.dport == PEER_PORT && t.sport == TLS_PORT);
		CHECK((t.flags & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG)) !=
		      (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG));
		if (t.flags & RTE_TCP_RST_FLAG) {
			CHECK(!(t.flags & RTE_TCP_SYN_FLAG) && t.len == 0);
			p.srv_rst = true;
			continue;
		}
		if (t.flags & RTE_TCP_SYN_FLAG) {
			CHECK((t.flags & RTE_TCP_ACK_FLAG) && t.len == 0);
			if (!p.synack) {
				p.synack = true;
				p.srv_iss = t.seq;
				p.srv_nxt = t.seq + 1;
				p.srv_ack = t.ack;
				p.srv_wnd = t.win;
				for (unsigned int i = 0; i < t.optlen;) {
					const uint8_t *o = t.opts + i;

					if (o[0] == 0)
						break;
					if (o[0] == 1) {
						i++;
						continue;
					}
					CHECK(i + 1 < t.optlen && o[1] >= 2 && i + o[1] <= t.optlen);
					if (o[0] == 3 && o[1] == 3)
						p.srv_ws = RTE_MIN(o[2], 14);
					i += o[1];
				}
			}
			continue;
		}
		if (!p.synack)
			continue;
		if ((t.flags & RTE_TCP_ACK_FLAG) && !seq_after(p.srv_ack, t.ack)) {
			p.srv_ack = t.ack;
			p.srv_wnd = (uint32_t)t.win << p.srv_ws;
		}
		/* No gap (nothing is lost between us), nothing after the FIN. */
		CHECK(!seq_after(t.seq, p.srv_nxt));
		uint32_t dup = p.srv_nxt - t.seq;

		if (t.len > dup) {
			CHECK(!p.srv_fin);
			feed_records(t.data + dup, t.len - dup);
			client_take(t.data + dup, t.len - dup);
			p.srv_nxt += t.len - dup;
		} else if (t.len != 0 || (t.flags & RTE_TCP_FIN_FLAG)) {
			/* Data or a FIN seen before: our ACK was lost or dropped
			 * (an ACK riding on an old segment is not processed). */
			p.dup_seen = true;
		}
		if (t.flags & RTE_TCP_FIN_FLAG) {
			uint32_t end = t.seq + t.len;

			CHECK(!seq_after(end, p.srv_nxt));
			if (end == p.srv_nxt && !p.srv_fin) {
				/* The last record is whole. */
				CHECK(p.hdr_len == 0);
				p.srv_fin = true;
				p.srv_nxt++;
			}
		}
	}
}

static void inject(uint8_t flags, uint32_t seq, const uint8_t *data, uint16_t len,
		   const uint8_t *opts, uint8_t optlen)
{
	static uint8_t b[2048];
	struct h_tcp t = {
		.src = H_PEER,
		.dst = H_ADDR,
		.sport = PEER_PORT,
		.dport = TLS_PORT,
		.seq = seq,
		.ack = (flags & RTE_TCP_ACK_FLAG) ? p.srv_nxt : 0,
		.flags = flags,
		.win = p.zero_wnd ? 0 : 65535,
		.opts = opts,
		.optlen = optlen,
		.data = data,
		.len = len,
	};

	if (flags & RTE_TCP_ACK_FLAG) {
		p.acked = p.srv_nxt;
		p.dup_seen = false;
	}
	h_inject(b, h_build_tcp(b, &t));
	h_run();
	take_sent();
}

/* ACK what the server sent, while it sends more. */
static void ack_all(bool force)
{
	for (int i = 0; i < 64 && !p.srv_rst && !p.rst_sent &&
			(force || p.acked != p.srv_nxt || p.dup_seen);
	     i++) {
		inject(RTE_TCP_ACK_FLAG, p.nxt, NULL, 0, NULL, 0);
		force = false;
	}
}

static void settle(void)
{
	take_sent();
	if (p.auto_ack)
		ack_all(false);
}

static void advance(uint64_t ms)
{
	struct pc_wheel *w = &h_lc->tcp.wheel;

	ticks += ms;
	pc_wheel_advance(w, w->tsc_base + (w->tick + ms) * w->tsc_per_tick);
	pc_tx_flush(h_lc);
	settle();
}

static bool can_send(void)
{
	return p.synack && !p.srv_rst && !p.rst_sent && !p.fin_sent;
}

/* Up to len bytes of the stream, within the server's window; returns the
 * count sent. */
static size_t send_data(const uint8_t *d, size_t len)
{
	int64_t room = (int64_t)(int32_t)(p.srv_ack + p.srv_wnd - p.nxt);

	if (!can_send() || room <= 0)
		return 0;
	len = RTE_MIN(RTE_MIN(len, (size_t)MSS), (size_t)room);
	if (len == 0)
		return 0;
	p.last_seq = p.nxt;
	p.last_data = d;
	p.last_len = (uint16_t)len;
	p.nxt += (uint32_t)len;
	inject(RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, p.last_seq, d, (uint16_t)len, NULL, 0);
	settle();
	return len;
}

static void send_fin(void)
{
	if (!can_send())
		return;
	p.fin_sent = true;
	p.nxt++;
	inject(RTE_TCP_ACK_FLAG | RTE_TCP_FIN_FLAG, p.nxt - 1, NULL, 0, NULL, 0);
	settle();
}

static void send_rst(void)
{
	if (!p.synack || p.srv_rst || p.rst_sent)
		return;
	p.rst_sent = true;
	inject(RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, p.nxt, NULL, 0, NULL, 0);
}

static void configure(uint8_t c)
{
	struct pc_tcp_cfg cfg = h_tcp_defaults;

	if (c & 4) {
		cfg.set.rcvbuf = 4096;
		cfg.set.sndbuf = 4096;
	}
	if (memcmp(&cfg, &pc_tcp_cfg, sizeof(cfg)) != 0)
		h_reset_tcp(&cfg);
}

/* The bytes to send next: the raw stream, or what the client wrote. */
static const uint8_t *raw;
static size_t raw_left;

static size_t avail(const uint8_t **d)
{
	if (cl.on) {
		client_pump();
		*d = cl.out + cl.out_off;
		return cl.out_len - cl.out_off;
	}
	*d = raw;
	return raw_left;
}

static void consume(size_t n)
{
	if (cl.on) {
		cl.out_off += n;
	} else {
		raw += n;
		raw_left -= n;
	}
}

/* The input ends the TCP connection (FIN or RST): what plaintext reached
 * the server whole. */
static void mark_closed(void)
{
	if (!cl.on || cl.tcp_closed)
		return;
	cl.closed = cl.tcp_closed = true;
	cl.pt_sent_at_close = cl.out_off == cl.out_len ? cl.pt_off : 0;
}

/* Client mode: send what the client writes, read what the server sends,
 * until neither moves. */
static void client_flush(void)
{
	bool idle_once = false;

	for (int i = 0; i < 512 && can_send(); i++) {
		const uint8_t *d;
		uint64_t in = cl.in_total;
		size_t l = avail(&d), n = 0;

		if (l != 0)
			n = send_data(d, l);
		consume(n);
		client_pump();
		if (n == 0 && cl.in_total == in && cl.out_off == cl.out_len) {
			if (idle_once)
				break;
			idle_once = true;
			advance(1);
			ack_all(true);
			client_pump();
		} else {
			idle_once = false;
		}
	}
}

static void run_input(const uint8_t *data, size_t size)
{
	static const uint8_t syn_opts[12] = {2, 4, MSS >> 8, MSS & 0xff, 1, 3, 3, 7, 1, 1, 4, 2};
	struct counters before, after;
	const uint8_t *sched;
	size_t nsched;
	uint8_t cfg;

	if (size < 2)
		return;
	cfg = data[0];
	nsched = RTE_MIN((size_t)data[1], size - 2);
	sched = data + 2;
	raw = sched + nsched;
	raw_left = size - 2 - nsched;

	configure(cfg);
	h_lc->tcp.wheel.tsc_per_tick = rte_get_tsc_hz() * 60;
	ticks = 0;
	h_arp_learn(H_PEER, &h_peer_mac);
	read_counters(&before);
	CHECK(before.active == 0);

	memset(&p, 0, sizeof(p));
	cl.on = false;
	if (cfg & 0x10)
		client_start(raw, raw_left);
	p.nxt = 0x10000000u;
	p.auto_ack = !(cfg & 8);
	inject(RTE_TCP_SYN_FLAG, p.nxt, NULL, 0, syn_opts, sizeof(syn_opts));
	CHECK(p.synack && !p.srv_rst);
	p.nxt++;
	inject(RTE_TCP_ACK_FLAG, p.nxt, NULL, 0, NULL, 0);
	settle();

	for (size_t i = 0; i < nsched; i++) {
		uint8_t b = sched[i];
		const uint8_t *stream;
		size_t n = 0, left = avail(&stream);

		if (b < 0x40) {
			n = send_data(stream, RTE_MIN(left, (size_t)b + 1));
		} else if (b < 0x80) {
			n = send_data(stream, RTE_MIN(left, (size_t)(b - 0x3f) * 32));
		} else if (b < 0xc0) {
			for (unsigned int k = 0; k <= (b & 0x3fu) && left > n; k++) {
				size_t s = send_data(stream + n, left - n);

				if (s == 0)
					break;
				n += s;
			}
		} else if (b < 0xd0) {
			advance(1u << (b & 15));
		} else if (b == 0xd0) {
			mark_closed();
			send_fin();
		} else if (b == 0xd1) {
			mark_closed();
			send_rst();
		} else if (b == 0xd2) {
			p.auto_ack = !p.auto_ack;
		} else if (b == 0xd3) {
			if (p.synack && !p.srv_rst && !p.rst_sent)
				ack_all(true);
		} else if (b == 0xd4) {
			p.zero_wnd = !p.zero_wnd;
			if (p.synack && !p.srv_rst && !p.rst_sent)
				ack_all(true);
		} else if (b == 0xd5) {
			if (p.last_len != 0 && !p.srv_rst && !p.rst_sent) {
				inject(RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, p.last_seq, p.last_data,
				       p.last_len, NULL, 0);
				settle();
			}
		} else if (b == 0xd6) {
			client_close_notify();
		} else if (b == 0xd7) {
			client_key_update();
		} else {
			h_run();
			settle();
		}
		consume(n);
	}

	unsigned int end = cfg & 3;

	if (cl.on) {
		/* Unless the input closes mid-way (bit 5), the exchange runs to
		 * its end first; then close_notify if the client asks. */
		if (!(cfg & 0x20)) {
			p.zero_wnd = false;
			p.auto_ack = true;
			if (p.synack && !p.srv_rst && !p.rst_sent)
				ack_all(true);
			client_flush();
			if (cl.close_notify_at_end) {
				client_close_notify();
				client_flush();
			}
		}
	} else {
		/* The rest of the stream, as far as the window lets it. */
		while (raw_left != 0) {
			size_t n = send_data(raw, raw_left);

			if (n == 0)
				break;
			consume(n);
		}
	}

	/* The peer closes, acknowledges everything from now on, and time
	 * passes: the handshake timeout, FIN_WAIT_2, TIME_WAIT. */
	p.zero_wnd = false;
	p.auto_ack = true;
	if (end != 2)
		mark_closed();
	if (end == 0 || end == 3)
		send_fin();
	if (end == 1 || end == 3)
		send_rst();
	if (end != 2) {
		static const uint32_t steps[] = {1, 50, 200, 1000, HS_TIMEOUT_MS + 1000, 10000,
						 61000, 5000, 5000};

		settle();
		client_pump();
		for (unsigned int i = 0; i < RTE_DIM(steps); i++) {
			advance(steps[i]);
			ack_all(false);
			client_pump();
			if (debug) {
				read_counters(&after);
				fprintf(stderr, "fuzz_tls_input: +%u ms: %" PRIu64 " active\n",
					steps[i], after.active);
				pc_dp_dump_connections(stderr);
			}
		}
		read_counters(&after);
		CHECK(after.active == 0);
	}
	if (debug)
		fprintf(stderr, "fuzz_tls_input: server sent %u bytes%s%s, %" PRIu64 " ms\n",
			p.srv_nxt - p.srv_iss - 1 - (p.srv_fin ? 1 : 0),
			p.srv_fin ? ", FIN" : "", p.srv_rst ? ", RST" : "", ticks);
	/* Tear down: whatever is left gets a RST, every mbuf comes back, the
	 * TLS objects and wolfSSL's memory are released. */
	h_reset();
	CHECK(h_pool_full());
	read_counters(&after);
	CHECK(after.active == 0);
	CHECK(after.mem_in_use == before.mem_in_use);
	CHECK(after.handshakes == after.tls12 + after.tls13);
	CHECK(after.pool_empty == before.pool_empty);
	if (!cl.on) {
		/* Nobody completes a handshake without keys. */
		CHECK(after.handshakes == before.handshakes);
		return;
	}
	if (debug)
		fprintf(stderr,
			"fuzz_tls_input: client: sni %s cert %d hs %d/%d (server %" PRIu64
			") pt %zu/%zu out %zu/%zu (handshake %zu) resp %zu close_notify %d read_err %d%s\n",
			cl.sni ? cl.sni : "-", cl.cert, cl.hs_done, cl.hs_failed,
			after.handshakes - before.handshakes, cl.pt_off, cl.pt_len, cl.out_off,
			cl.out_len, cl.hs_out, cl.resp_len,
			cl.got_close_notify, cl.read_err, cl.read_err_after_close ? " (after close)" : "");
	CHECK(after.handshakes - before.handshakes <= 1);
	/* The client's handshake is done and the server got all of it (sent
	 * and acknowledged: the ACK alone may count our FIN): the
	 * server counts it, unless it requires a certificate the client does
	 * not have (refused after the client's Finished, TLS 1.3). */
	bool refused = !cl.cert && cl.sni != NULL && strcmp(cl.sni, "mtls.fuzz.test") == 0;

	if (cl.hs_done && !refused && !p.srv_rst && cl.out_off >= cl.hs_out &&
	    (int32_t)(p.srv_ack - (0x10000001u + (uint32_t)cl.hs_out)) >= 0)
		CHECK(after.handshakes == before.handshakes + 1);
	if (after.handshakes > before.handshakes) {
		/* Responses decrypt: an error only after the input closed or
		 * the server reset (idle timeout). */
		CHECK(cl.read_err == 0 || cl.read_err_after_close || p.srv_rst);
		CHECK(cl.write_err == 0 || cl.closed || p.srv_rst);
		/* The server's FIN, read to the end with no reset either way,
		 * comes after its close_notify. */
		if (p.srv_fin && !p.srv_rst && !p.rst_sent && cl.in_off == cl.in_len &&
		    !cl.in_dropped)
			CHECK(cl.read_err != SOCKET_PEER_CLOSED_E);
		if (!cl.tcp_closed)
			cl.pt_sent_at_close = cl.out_off == cl.out_len ? cl.pt_off : 0;
		check_bytes_response();
	}
	client_end();
}

static void dump_counters(void)
{
	pc_tls_dump_counters(stderr);
	pc_lcores[WORKER] = h_lc;
	pc_dp_dump_counters(stderr, false);
}

/* --- set-up ------------------------------------------------------------ */

static char pki_dir[64];

static void make_pki(void)
{
	static const char script[] =
		"set -e; cd '%s'; umask 077\n"
		"key() { openssl ecparam -name prime256v1 -genkey -noout -out \"$1\"; }\n"
		"printf '%%s\\n' 'basicConstraints=critical,CA:TRUE' "
		"'keyUsage=critical,keyCertSign,cRLSign' > ca.ext\n"
		"printf '%%s\\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature' "
		"'extendedKeyUsage=serverAuth' 'subjectAltName=DNS:fuzz.test,DNS:mtls.fuzz.test' "
		"> server.ext\n"
		"printf '%%s\\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature' "
		"'extendedKeyUsage=clientAuth' 'subjectAltName=URI:spiffe://fuzz.test/client' "
		"> client.ext\n"
		"key ca.key\n"
		"openssl req -new -key ca.key -subj /CN=fuzz-ca -out ca.csr\n"
		"openssl x509 -req -in ca.csr -signkey ca.key -days 3650 -sha256 "
		"-extfile ca.ext -out ca.crt 2>/dev/null\n"
		"for n in server client; do\n"
		"  key $n.key\n"
		"  openssl req -new -key $n.key -subj /CN=$n.fuzz.test -out $n.csr\n"
		"  openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -set_serial 0x$(openssl "
		"rand -hex 8) -days 365 -sha256 -extfile $n.ext -out $n.crt 2>/dev/null\n"
		"done\n";
	char cmd[sizeof(script) + sizeof(pki_dir)];

	snprintf(pki_dir, sizeof(pki_dir), "/tmp/pc-fuzz-tls.XXXXXX");
	if (mkdtemp(pki_dir) == NULL) {
		perror("fuzz_tls_input: mkdtemp");
		abort();
	}
	snprintf(cmd, sizeof(cmd), script, pki_dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "fuzz_tls_input: openssl could not make the test PKI\n");
		abort();
	}
}

static void remove_pki(void)
{
	static const char *const names[] = {"ca.key", "ca.csr", "ca.ext", "ca.crt",
					    "server.key", "server.csr", "server.ext", "server.crt",
					    "client.key", "client.csr", "client.ext", "client.crt"};
	char path[128];

	if (pki_dir[0] == '\0')
		return;
	for (unsigned int i = 0; i < RTE_DIM(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", pki_dir, names[i]);
		unlink(path);
	}
	rmdir(pki_dir);
	pki_dir[0] = '\0';
}

/* The client's contexts: TLS 1.2, 1.3 or either, without and with the
 * client certificate; the server's chain is checked against the CA. */
static void setup_client(void)
{
	char ca[128], crt[128], key[128];

	snprintf(ca, sizeof(ca), "%s/ca.crt", pki_dir);
	snprintf(crt, sizeof(crt), "%s/client.crt", pki_dir);
	snprintf(key, sizeof(key), "%s/client.key", pki_dir);
	for (int v = 0; v < 3; v++)
		for (int c = 0; c < 2; c++) {
			WOLFSSL_METHOD *m = v == 0 ? wolfTLSv1_2_client_method()
					    : v == 1 ? wolfTLSv1_3_client_method()
						     : wolfSSLv23_client_method();
			WOLFSSL_CTX *ctx = wolfSSL_CTX_new(m);

			if (ctx == NULL ||
			    wolfSSL_CTX_load_verify_locations(ctx, ca, NULL) != WOLFSSL_SUCCESS ||
			    (c && (wolfSSL_CTX_use_certificate_file(ctx, crt, WOLFSSL_FILETYPE_PEM) !=
					   WOLFSSL_SUCCESS ||
				   wolfSSL_CTX_use_PrivateKey_file(ctx, key, WOLFSSL_FILETYPE_PEM) !=
					   WOLFSSL_SUCCESS))) {
				fprintf(stderr, "fuzz_tls_input: client context %d/%d\n", v, c);
				abort();
			}
			wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, NULL);
			wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_OFF);
			wolfSSL_CTX_SetIORecv(ctx, cio_recv);
			wolfSSL_CTX_SetIOSend(ctx, cio_send);
			client_ctx[v][c] = ctx;
		}
}

/* A host with a private ca-set of the fuzz CA ("host:NAME"). */
static struct pc_tls_host_spec *host_with_ca(struct pc_tls_txn *x, const char *name, char *err,
					     size_t errlen)
{
	struct pc_tls_host_spec *h = pc_tls_txn_host(x, name, err, errlen);
	char priv[128], path[600];
	struct pc_tls_caset_spec *c;

	snprintf(priv, sizeof(priv), PC_TLS_PRIVATE_PREFIX "%s", name);
	snprintf(path, sizeof(path), "%s/ca.crt", pki_dir);
	c = pc_tls_txn_caset(x, priv, err, errlen);
	if (h == NULL || c == NULL || pc_strv_push(&c->files, path) != 0 ||
	    (h->caset = strdup(priv)) == NULL)
		abort();
	return h;
}

static void setup_tls(void)
{
	static struct pc_tls_spec s;
	struct pc_tls_txn *x;
	struct pc_tls_host_spec *h;
	struct pc_tls_cert_spec *c;
	char err[512], path[600];

	pc_tls_spec_defaults(&s);
	s.min_version = 2;
	s.max_version = 3;
	s.memory_mb = 16;
	s.handshake_timeout_ms = HS_TIMEOUT_MS;
	if (pc_tls_init(&s, NB_CONNS) != 0 || pc_tls_commit(&s, err, sizeof(err)) != 0)
		abort();
	make_pki();
	x = pc_tls_txn_new();
	c = pc_tls_txn_cert(x, "server", err, sizeof(err));
	h = pc_tls_txn_host(x, "default", err, sizeof(err));
	if (x == NULL || c == NULL || h == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/server.crt", pki_dir);
	c->chain = strdup(path);
	snprintf(path, sizeof(path), "%s/server.key", pki_dir);
	c->key = strdup(path);
	h->cert = strdup("server");
	h->verify = PC_TLS_VERIFY_NONE;
	h = host_with_ca(x, "mtls.fuzz.test", err, sizeof(err));
	h->verify = PC_TLS_VERIFY_REQUIRED;
	h->on_failure = PC_TLS_FAIL_ALERT;
	h = host_with_ca(x, "*.opt.fuzz.test", err, sizeof(err));
	h->verify = PC_TLS_VERIFY_OPTIONAL;
	h->on_failure = PC_TLS_FAIL_HTTP403;
	if (pc_tls_txn_commit(x, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_tls_input: commit: %s\n", err);
		abort();
	}
	pc_tls_txn_free(x);
	setup_client();
	/* Everything is loaded: no key stays on disk. */
	remove_pki();
}

/* The TLS listener next to the harness's ones, and a small TCP
 * configuration (the worker context is rebuilt after every input). */
static void setup_tcp(void)
{
	struct pc_tcp_cfg cfg;
	struct pc_dp_listener *l = &h_cfg.tcp.listeners[h_cfg.tcp.nb_listeners++];

	memset(l, 0, sizeof(*l));
	l->port = TLS_PORT;
	snprintf(l->app, sizeof(l->app), "%s", pc_tls_http_app.name);
	l->ext_app = &pc_tls_http_app;
	h_cfg.tcp.set.max_conns = NB_CONNS;
	h_cfg.tcp.set.time_wait_ms = 2000;
	if (pc_tcp_configure(&h_cfg, 1) != 0)
		abort();
	h_tcp_defaults = pc_tcp_cfg;
	cfg = pc_tcp_cfg;
	h_reset_tcp(&cfg);
}

#ifdef HAVE_LSAN
/* DPDK's memory holds the only pointers to malloc'ed blocks (the
 * committed configuration's wolfSSL contexts and trust objects): scan it
 * for them, or every leak check reports them. */
static int lsan_root(const struct rte_memseg_list *msl, const struct rte_memseg *ms,
		     size_t len, void *arg)
{
	(void)msl;
	(void)arg;
	__lsan_register_root_region(ms->addr, len);
	return 0;
}
#endif

/* libFuzzer's thread hands inputs to the worker lcore. */
static sem_t job_go, job_done;
static const uint8_t *job_data;
static size_t job_size;

static int worker_main(void *arg)
{
	(void)arg;
	for (;;) {
		while (sem_wait(&job_go) != 0)
			;
		run_input(job_data, job_size);
		sem_post(&job_done);
	}
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* wolfSSL's first call: its allocator is ours. */
	if (pc_tls_route_memory() != 0)
		abort();
	h_lcores = "0,1";
	if (h_init() != 0)
		abort();
	atexit(remove_pki);
	debug = getenv("FUZZ_TLS_DEBUG") != NULL;
	if (debug)
		atexit(dump_counters);
	setup_tls();
	setup_tcp();
#ifdef HAVE_LSAN
	rte_memseg_contig_walk(lsan_root, NULL);
#endif
	/* The worker context belongs to the worker lcore. */
	pc_lcores[WORKER] = h_lc;
	pc_lcores[rte_lcore_id()] = NULL;
	if (sem_init(&job_go, 0, 0) != 0 || sem_init(&job_done, 0, 0) != 0 ||
	    rte_eal_remote_launch(worker_main, NULL, WORKER) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	job_data = data;
	job_size = size;
	sem_post(&job_go);
	while (sem_wait(&job_done) != 0)
		;
	return 0;
}
