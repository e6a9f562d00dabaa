/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the TLS record input path: a fake peer opens a TCP connection to a
 * TLS listener (port 443, pc_tls_http_app) through the worker loop on a
 * ring-backed port and sends what a TLS client would (ClientHello,
 * records, garbage), cut into segments of fuzzer-chosen sizes,
 * interleaved with timer advances, withheld ACKs, a closed window, a FIN
 * or RST at a fuzzer-chosen point. The configuration is a real one,
 * committed with pc_tls_commit(): an ECDSA P-256 CA, server and client
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
 * the FIN); no handshake ever completes (the peer holds no keys); once
 * the peer has closed (FIN, everything acknowledged, or RST) and enough
 * time has passed (handshake timeout, FIN_WAIT_2, TIME_WAIT), the TLS
 * connection is released on its own (tls_connections_active back to 0,
 * wolfSSL's arena bytes back to what they were before the input); after
 * the worker context is torn down every mbuf is back in the pool.
 *
 * Input: a configuration byte, a schedule length byte N, N schedule
 * bytes, then the client's byte stream. Configuration: bits 0-1 how the
 * peer ends (0 FIN, 1 RST, 2 nothing: the worker context is torn down
 * with the connection open, 3 FIN, then RST); bit 2: 4 KiB TCP buffers;
 * bit 3: the peer does not acknowledge the server's data until told.
 * Schedule bytes, in order, then the rest of the stream in MSS-sized
 * segments:
 *   0x00-0x3f  a segment of b + 1 bytes of the stream
 *   0x40-0x7f  a segment of (b - 0x3f) * 32 bytes (at most the MSS)
 *   0x80-0xbf  (b & 0x3f) + 1 full-sized segments
 *   0xc0-0xcf  advance the timers by 1 << (b & 15) ms
 *   0xd0 FIN   0xd1 RST   0xd2 toggle automatic ACKs   0xd3 ACK now
 *   0xd4 toggle a zero receive window   0xd5 send the last segment again
 *   others: one more worker pass
 * A segment is cut to the server's receive window (not sent when it is
 * closed) and to the stream's end.
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
		cfg.rcvbuf = 4096;
		cfg.sndbuf = 4096;
	}
	if (memcmp(&cfg, &pc_tcp_cfg, sizeof(cfg)) != 0)
		h_reset_tcp(&cfg);
}

static void run_input(const uint8_t *data, size_t size)
{
	static const uint8_t syn_opts[12] = {2, 4, MSS >> 8, MSS & 0xff, 1, 3, 3, 7, 1, 1, 4, 2};
	struct counters before, after;
	const uint8_t *sched, *stream;
	size_t nsched, left;
	uint8_t cfg;

	if (size < 2)
		return;
	cfg = data[0];
	nsched = RTE_MIN((size_t)data[1], size - 2);
	sched = data + 2;
	stream = sched + nsched;
	left = size - 2 - nsched;

	configure(cfg);
	h_lc->tcp.wheel.tsc_per_tick = rte_get_tsc_hz() * 60;
	ticks = 0;
	h_arp_learn(H_PEER, &h_peer_mac);
	read_counters(&before);
	CHECK(before.active == 0);

	memset(&p, 0, sizeof(p));
	p.nxt = 0x10000000u;
	p.auto_ack = !(cfg & 8);
	inject(RTE_TCP_SYN_FLAG, p.nxt, NULL, 0, syn_opts, sizeof(syn_opts));
	CHECK(p.synack && !p.srv_rst);
	p.nxt++;
	inject(RTE_TCP_ACK_FLAG, p.nxt, NULL, 0, NULL, 0);
	settle();

	for (size_t i = 0; i < nsched; i++) {
		uint8_t b = sched[i];
		size_t n = 0;

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
			send_fin();
		} else if (b == 0xd1) {
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
		} else {
			h_run();
			settle();
		}
		stream += n;
		left -= n;
	}
	/* The rest of the stream, as far as the window lets it. */
	while (left != 0) {
		size_t n = send_data(stream, left);

		if (n == 0)
			break;
		stream += n;
		left -= n;
	}

	/* The peer closes, acknowledges everything from now on, and time
	 * passes: the handshake timeout, FIN_WAIT_2, TIME_WAIT. */
	unsigned int end = cfg & 3;

	p.zero_wnd = false;
	p.auto_ack = true;
	if (end == 0 || end == 3)
		send_fin();
	if (end == 1 || end == 3)
		send_rst();
	if (end != 2) {
		static const uint32_t steps[] = {1, 50, 200, 1000, HS_TIMEOUT_MS + 1000, 10000,
						 61000, 5000, 5000};

		settle();
		for (unsigned int i = 0; i < RTE_DIM(steps); i++) {
			advance(steps[i]);
			ack_all(false);
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
	/* Nobody completes a handshake without keys. */
	CHECK(after.handshakes == before.handshakes);
	CHECK(after.handshakes == after.tls12 + after.tls13);
	CHECK(after.pool_empty == before.pool_empty);
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

static void setup_tls(void)
{
	static struct pc_tls_spec s;
	struct pc_tls_host_spec *h;
	char err[512];

	pc_tls_spec_defaults(&s);
	s.min_version = 2;
	s.max_version = 3;
	s.memory_mb = 16;
	s.handshake_timeout_ms = HS_TIMEOUT_MS;
	if (pc_tls_init(&s, NB_CONNS) != 0)
		abort();
	make_pki();
	h = pc_tls_spec_host(&s, "default");
	snprintf(h->cert_file, sizeof(h->cert_file), "%s/server.crt", pki_dir);
	snprintf(h->key_file, sizeof(h->key_file), "%s/server.key", pki_dir);
	h->verify = PC_TLS_VERIFY_NONE;
	h = pc_tls_spec_host(&s, "mtls.fuzz.test");
	h->verify = PC_TLS_VERIFY_REQUIRED;
	h->on_failure = PC_TLS_FAIL_ALERT;
	h->nb_ca = 1;
	snprintf(h->ca_files[0], sizeof(h->ca_files[0]), "%s/ca.crt", pki_dir);
	h = pc_tls_spec_host(&s, "*.opt.fuzz.test");
	h->verify = PC_TLS_VERIFY_OPTIONAL;
	h->on_failure = PC_TLS_FAIL_HTTP403;
	h->nb_ca = 1;
	snprintf(h->ca_files[0], sizeof(h->ca_files[0]), "%s/ca.crt", pki_dir);
	if (pc_tls_commit(&s, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_tls_input: pc_tls_commit: %s\n", err);
		abort();
	}
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
	h_cfg.tcp.max_conns = NB_CONNS;
	h_cfg.tcp.time_wait_ms = 2000;
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
