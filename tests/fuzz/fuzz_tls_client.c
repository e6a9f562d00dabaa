/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the TLS client to backends (crypto/tls_client.c): the worker opens
 * a TCP connection to a backend's server through its loop on a
 * ring-backed port (pc_tcp_connect), the fake server answers the SYN and
 * sends what a TLS server would (ServerHello, Certificate, alerts,
 * records, garbage) in segments of fuzzer-chosen sizes, with timer
 * advances and a FIN or RST at a fuzzer-chosen point. A TCP application
 * like l7/upstream.c's drives the client: handshake after every TCP
 * event, then writes and reads; a failure closes the connection.
 *
 * The backend is a real one as the commit builds it: a trust object of an
 * ECDSA P-256 CA made with openssl at start-up in a temporary directory
 * (removed once loaded), or none; a verify-name (DNS or IP) or none; the
 * CA's client certificate or none. TLS 1.2 servers send their
 * Certificate in the clear: the verify callback and pc_verify_chain()
 * get the fuzzer's chains.
 *
 * Checked: every frame sent is a well-formed TCP segment to the server;
 * the client never reports a handshake done with a backend that has a CA
 * (nobody here holds a key the CA signed); its reasons are non-empty
 * strings; once the server has closed and time has passed, or the worker
 * context is torn down, every client is freed (origin connections back to
 * 0) and every mbuf is back in the pool.
 *
 * FUZZ_TLS_DEBUG=1 prints why each handshake failed, and the counters at
 * exit.
 *
 * Input: a configuration byte, then segment records. Configuration: bit 0
 * the backend has the CA; bit 1 verify-name is an address, not a name;
 * bit 2 a client certificate; bits 3-4 how the server ends (0 FIN, 1
 * RST, 2 nothing: torn down open, 3 FIN after the client's handshake).
 * Records: a control byte c, then:
 *   c < 0xc0     a segment of the next (c & 0x3f) + 1 (c < 0x40) or
 *                ((c & 0x3f) + 1) * 32 bytes (at most the MSS) of input
 *   0xc0-0xcf    advance the timers by 1 << (c & 15) ms
 *   0xd0         FIN      0xd1 RST      others: one more worker pass
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "fuzz_tls_client:%d: %s\n", __LINE__, #cond); \
			abort();                                                \
		}                                                               \
	} while (0)

/* FUZZ_TLS_DEBUG=1: why each handshake failed, the counters at exit. */
static bool debug;

/* The server's side of TCP. */
static struct {
	struct h_conn tcp; /* snd our next byte, ack the worker's */
	uint32_t w_ack, w_wnd;
	bool open, w_rst, fin_sent, rst_sent;
} s;

/* The worker's side: the client and what it did. */
static struct {
	struct pc_backend b;
	struct pc_tls_client *t;
	struct pc_tcb *c;
	int hs;
	bool closed;
} e;

static void inject(uint8_t flags, const uint8_t *data, uint16_t len)
{
	h_conn_send(&s.tcp, flags, data, len, MSS);
	h_run();
}

/* What the worker sent: well-formed, to the server; its SYN answered. */
static void take_sent(void)
{
	struct h_frame f;
	struct h_tcp t;
	bool ack = false;

	while (h_take(&f)) {
		if (h_parse_tcp(&f, &t) != 0) {
			/* ARP and the like: not TCP. */
			CHECK(f.len < 14 + 20 || f.b[23] != IPPROTO_TCP);
			continue;
		}
		CHECK(t.dst == H_BACKEND && t.dport == ORIGIN_PORT);
		CHECK(f.len <= 14 + 1500);
		if (t.flags & RST) {
			s.w_rst = true;
			continue;
		}
		if (t.flags & SYN) {
			CHECK(!(t.flags & ACK) && !s.open);
			s.tcp = (struct h_conn){.addr = H_BACKEND, .port = ORIGIN_PORT, .lport = t.sport,
						.snd = 0x70000000, .ack = t.seq + 1};
			s.open = true;
			inject(SYN | ACK, NULL, 0);
			continue;
		}
		if (t.flags & ACK) {
			s.w_ack = t.ack;
			s.w_wnd = t.win;
		}
		if (t.seq == s.tcp.ack && (t.len != 0 || (t.flags & FIN))) {
			s.tcp.ack += t.len + ((t.flags & FIN) ? 1 : 0);
			ack = true;
		}
	}
	if (ack && !s.rst_sent && !s.w_rst)
		inject(ACK, NULL, 0);
}

static void settle(void)
{
	for (int i = 0; i < 8; i++) {
		h_run();
		take_sent();
		if (h_pending() == 0)
			break;
	}
}

static void advance(uint64_t ms)
{
	struct pc_wheel *w = &h_lc->tcp.wheel;

	pc_wheel_advance(w, w->tsc_base + (w->tick + ms) * w->tsc_per_tick);
	pc_tx_flush(h_lc);
	settle();
}

static bool can_send(void)
{
	return s.open && !s.w_rst && !s.fin_sent && !s.rst_sent;
}

/* --- the client's application ------------------------------------------- */

static void drive(void)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: origin.test\r\n\r\n";
	uint8_t buf[4096];
	const char *why;
	bool err;
	long r;

	if (e.t == NULL)
		return;
	if (e.hs != 1) {
		e.hs = pc_tls_client_handshake(e.t, &why);
		if (e.hs == -1) {
			CHECK(why != NULL && why[0] != '\0');
			if (debug)
				fprintf(stderr, "fuzz_tls_client: handshake failed: %s\n", why);
			pc_tls_client_free(e.t);
			e.t = NULL;
			pc_tcp_close(e.c);
			return;
		}
		if (e.hs == 0)
			return;
		/* Nobody here holds a key the CA signed. */
		CHECK(e.b.origin_trust == NULL);
		pc_tls_client_write(e.t, req, sizeof(req) - 1);
	}
	while ((r = pc_tls_client_read(e.t, buf, sizeof(buf), &err)) > 0)
		;
	if (r < 0) {
		if (err)
			CHECK(pc_tls_client_error(e.t) != NULL);
		pc_tls_client_shutdown(e.t);
		pc_tls_client_free(e.t);
		e.t = NULL;
		pc_tcp_close(e.c);
	}
}

static void *app_open(struct pc_tcb *c, void *arg)
{
	(void)arg;
	e.c = c;
	e.t = pc_tls_client_new(c, &e.b);
	if (e.t == NULL)
		return NULL;
	drive();
	return &e;
}

static void app_event(struct pc_tcb *c, void *ctx)
{
	(void)c;
	(void)ctx;
	drive();
}

static void app_closed(struct pc_tcb *c, void *ctx, enum pc_tcp_close_reason why)
{
	(void)c;
	(void)why;
	e.closed = true;
	if (ctx != NULL && e.t != NULL) {
		pc_tls_client_free(e.t);
		e.t = NULL;
	}
}

static const struct pc_tcp_app app = {
	.name = "fuzz-tls-client",
	.on_open = app_open,
	.on_readable = app_event,
	.on_writable = app_event,
	.on_peer_fin = app_event,
	.on_closed = app_closed,
};

/* --- set-up ------------------------------------------------------------ */

static char pki_dir[64];
static struct pc_trust *trust;
static uint8_t *cli_chain, *cli_key;
static size_t cli_chain_len, cli_key_len;

static uint8_t *slurp(const char *name, size_t *len)
{
	char path[128];
	uint8_t *buf = malloc(65536);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", pki_dir, name);
	f = fopen(path, "rb");
	if (f == NULL || buf == NULL)
		abort();
	*len = fread(buf, 1, 65536, f);
	fclose(f);
	return buf;
}

static void make_pki(void)
{
	static const char script[] =
		"set -e; cd '%s'; umask 077\n"
		"key() { openssl ecparam -name prime256v1 -genkey -noout -out \"$1\"; }\n"
		"printf '%%s\\n' 'basicConstraints=critical,CA:TRUE' "
		"'keyUsage=critical,keyCertSign,cRLSign' > ca.ext\n"
		"printf '%%s\\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature' "
		"'extendedKeyUsage=clientAuth' > cli.ext\n"
		"key ca.key\n"
		"openssl req -new -key ca.key -subj /CN=fuzz-origin-ca -out ca.csr\n"
		"openssl x509 -req -in ca.csr -signkey ca.key -days 3650 -sha256 "
		"-extfile ca.ext -out ca.crt 2>/dev/null\n"
		"key cli.key\n"
		"openssl req -new -key cli.key -subj /CN=edge.fuzz.test -out cli.csr\n"
		"openssl x509 -req -in cli.csr -CA ca.crt -CAkey ca.key -set_serial 0x1234 "
		"-days 365 -sha256 -extfile cli.ext -outform DER -out cli.der 2>/dev/null\n"
		"openssl pkey -in cli.key -outform DER -out cli.key.der\n"
		"rm -f ca.key ca.csr cli.csr cli.key ca.ext cli.ext\n";
	char cmd[sizeof(script) + sizeof(pki_dir)], path[128], err[256];

	snprintf(pki_dir, sizeof(pki_dir), "/tmp/pc-fuzz-tls-client.XXXXXX");
	if (mkdtemp(pki_dir) == NULL)
		abort();
	snprintf(cmd, sizeof(cmd), script, pki_dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "fuzz_tls_client: openssl could not make the test PKI\n");
		abort();
	}
	snprintf(path, sizeof(path), "%s/ca.crt", pki_dir);
	trust = pc_trust_new();
	if (trust == NULL || pc_trust_add_ca_file(trust, path, err, sizeof(err)) != 0 ||
	    pc_trust_finalize(trust, err, sizeof(err)) != 0)
		abort();
	cli_chain = slurp("cli.der", &cli_chain_len);
	cli_key = slurp("cli.key.der", &cli_key_len);
	/* Everything is loaded: no key stays on disk. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki_dir);
	if (system(cmd) != 0)
		abort();
}

static uint64_t active(void)
{
	struct pc_tls_origin_sums o;

	pc_tls_origin_sums(&o);
	return o.active;
}

static void run_input(const uint8_t *d, size_t n)
{
	uint8_t cfg = n != 0 ? d[0] : 0;
	unsigned int end = (cfg >> 3) & 3;

	if (n != 0) {
		d++;
		n--;
	}
	memset(&s, 0, sizeof(s));
	memset(&e, 0, sizeof(e));
	e.b.name = "fuzz";
	e.b.spec.tls = true;
	e.b.spec.tls_sni = (char *)"origin.test";
	e.b.origin_trust = (cfg & 1) ? trust : NULL;
	e.b.verify_name = (cfg & 2) ? "198.18.0.3" : "origin.test";
	if (cfg & 4) {
		e.b.client_chain = cli_chain;
		e.b.client_chain_len = cli_chain_len;
		e.b.client_key = cli_key;
		e.b.client_key_len = cli_key_len;
		e.b.client_key_oid = ECDSAk;
	}
	h_reset();
	h_arp_learn(H_BACKEND, &h_peer_mac);
	e.c = pc_tcp_connect(h_lc, rte_cpu_to_be_32(H_BACKEND), rte_cpu_to_be_16(ORIGIN_PORT),
			     &app, NULL);
	CHECK(e.c != NULL);
	h_run();
	settle();
	while (n != 0) {
		uint8_t c = *d++;
		size_t len;

		n--;
		if (c < 0xc0) {
			len = c < 0x40 ? (size_t)(c & 0x3f) + 1 : (size_t)((c & 0x3f) + 1) * 32;
			len = RTE_MIN(RTE_MIN(len, n), (size_t)MSS);
			if (can_send() && len != 0 &&
			    (int32_t)(s.w_ack + s.w_wnd - s.tcp.snd) >= (int32_t)len) {
				inject(ACK | PSH, d, (uint16_t)len);
				settle();
			}
			d += len;
			n -= len;
		} else if (c < 0xd0) {
			advance(1u << (c & 15));
		} else if (c == 0xd0 && can_send()) {
			s.fin_sent = true;
			inject(FIN | ACK, NULL, 0);
			settle();
		} else if (c == 0xd1 && can_send()) {
			s.rst_sent = true;
			inject(RST | ACK, NULL, 0);
			settle();
		} else {
			settle();
		}
	}
	if (end == 3 && e.hs != 1)
		end = 0;
	if ((end == 0 || end == 3) && can_send()) {
		s.fin_sent = true;
		inject(FIN | ACK, NULL, 0);
	} else if (end == 1 && can_send()) {
		s.rst_sent = true;
		inject(RST | ACK, NULL, 0);
	}
	if (end != 2) {
		/* The server has ended: so has the client, whatever its
		 * state (handshake failed, or its read saw the end). */
		settle();
		for (int i = 0; i < 4; i++)
			advance(1000);
		CHECK(e.t == NULL);
	}
	h_reset();
	CHECK(e.t == NULL);
	CHECK(active() == 0);
	CHECK(h_pool_full());
}

static void dump_counters(void)
{
	pc_tls_dump_counters(stderr);
}

#ifdef HAVE_LSAN
/* DPDK's memory holds the only pointers to the contexts the commit made
 * (malloc'ed): scan it, or every leak check reports them. */
static int lsan_root(const struct rte_memseg_list *msl, const struct rte_memseg *ms, size_t len,
		     void *arg)
{
	(void)msl;
	(void)arg;
	__lsan_register_root_region(ms->addr, len);
	return 0;
}
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static struct pc_tls_spec spec;
	char err[256];

	(void)argc;
	(void)argv;
	/* wolfSSL's first call: its allocator is ours. */
	if (pc_tls_route_memory() != 0 || h_init() != 0)
		abort();
	pc_tls_spec_defaults(&spec);
	spec.min_version = 2;
	spec.max_version = 3;
	spec.memory_mb = 16;
	if (pc_tls_init(&spec, 4) != 0 || pc_tls_commit(&spec, err, sizeof(err)) != 0)
		abort();
	make_pki();
	debug = getenv("FUZZ_TLS_DEBUG") != NULL;
	if (debug)
		atexit(dump_counters);
#ifdef HAVE_LSAN
	rte_memseg_contig_walk(lsan_root, NULL);
#endif
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run_input(data, size);
	return 0;
}
