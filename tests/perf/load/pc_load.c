// SPDX-License-Identifier: MIT
/*
 * pc_load: closed-loop TLS (mutual TLS) and TCP load generator for the
 * portcullis benchmarks. Deliberately built on OpenSSL, a different TLS
 * library from the one portcullis uses, so the two check each other.
 * pc_load_wolfssl is the same program on the project's optimized wolfSSL
 * (its OpenSSL compatibility layer): OpenSSL 3.0 spends ~0.7 ms of client
 * CPU per mutual-TLS handshake, more than the server under test, so one
 * client core cannot show a server's ceiling; wolfSSL spends well under
 * half of that.
 *
 *   pc_load --host ADDR [--port P] --mode MODE [--conns N] [--threads M]
 *           [--duration S | --count N] [--cert F [--key F]] [--cacert F]
 *           [--sni NAME] [--resume] [--tls 1.2|1.3] [--ciphers L]
 *           [--ciphersuites L] [--groups L] [--path /x] [--bytes N]
 *           [--reqs-per-conn K] [--close rst|fin] [--bind A[,A...]]
 *           [--timeout MS] [--grace MS] [--json FILE|-]
 *
 * Modes (one "attempt" is the unit of --count and of the error counts):
 *   handshake  TLS handshake, close once the server has accepted it (TLS 1.3:
 *              once its session ticket arrives; see worker.c). Attempt: one
 *              handshake.
 *   request    handshake, one GET --path (default /) with Connection: close.
 *   keepalive  handshake, GETs on the connection (--reqs-per-conn each).
 *   download   GETs of --path (default /bytes/N) whose 2xx body must be
 *              exactly --bytes N bytes, on kept-alive connections.
 *   upload     POSTs of --bytes N bytes to --path (default /upload); 2xx.
 *   hold       handshake, one GET --path on a kept-alive connection, then the
 *              connection is held open, idle, until the window ends (each of
 *              --conns connects once; one that fails connects again). Once
 *              all are held, "pc_load: holding N connections" goes to
 *              stderr; SIGINT or SIGTERM ends the window early. Attempt:
 *              the request.
 *   tcp-echo   plain TCP: connect, --bytes (default 64) out, the same bytes
 *              back, close (--reqs-per-conn echoes per connection, default 1).
 * A connection that fails, or a response that is not 2xx or has fewer bytes
 * than expected, is an error, never a success. Some servers refuse a client
 * certificate only at the HTTP layer: nginx's ssl_verify_client on completes
 * every handshake and answers 400, so against it only the HTTP modes see
 * the refusal; handshake mode counts what the TLS layer accepted.
 *
 * --conns connections are kept busy at all times (closed loop), spread over
 * --threads threads, each with its own epoll loop and TLS context. The run
 * is bounded: attempts start during --duration (default 10 s; with --count
 * alone, 600 s), those in flight get --grace ms (default 2000) more, and
 * whatever is still open then is "unfinished" (reported, not an error).
 * --timeout ms (default 5000) without progress fails an attempt.
 *
 * Rates (per second) are the counts inside the measured window divided by
 * its length: --duration, or with --count the time until the last attempt
 * ended. Totals include attempts that ended in the grace period. Latencies
 * cover every successful step: connect (connect() to established),
 * handshake (established to the client's handshake done, counted once the
 * server has confirmed it), request (first request byte written to the
 * last response byte read; per echo in tcp-echo).
 *
 * Closing: --close rst (default) closes with SO_LINGER 0, after a TLS
 * close_notify, so no TIME_WAIT builds up on the client: an orderly close
 * leaves every port in TIME_WAIT for 60 s, which caps one source address at
 * ~470 new connections/s outside loopback. --close fin closes in order.
 * --bind spreads connections over several source addresses.
 *
 * JSON (--json FILE, or - for stdout; the table then goes to stderr):
 *   tool, tls_library (e.g. "OpenSSL 3.0.x ..." or "wolfSSL 5.5.4"),
 *   config{host, port, mode, sni, conns, threads, duration_s, count,
 *   reqs_per_conn, bytes, path, tls, resume, client_cert, verify_server,
 *   close}, ended_by ("duration" | "count"), elapsed_s,
 *   connections{ok, per_s, full, resumed, resume_missed, held (hold mode:
 *   held open when the window ended)},
 *   requests{ok, per_s} (0 in handshake mode), bytes{tx, rx} (application
 *   bytes), gbps (tx+rx in the window), latency_us{connect, handshake,
 *   request} each null or {count, mean, p50, p90, p99, p99_9, max},
 *   errors{total, <kind>...}, error_details[{kind, count, detail}],
 *   error_details_dropped, unfinished, cpu{user_s, sys_s, cores}.
 *
 * Exit status: 0 at least one success and no error, 1 bad usage or set-up
 * failure, 2 the run had errors or no success at all.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "pc_load.h"

/* Descriptors besides the connections: epoll per thread, stdio, slack. */
#define FD_SPARE 64

static void usage(FILE *f)
{
	unsigned k;

	fprintf(f,
		"usage: pc_load --host ADDR [--port P] --mode MODE [--conns N] [--threads M]\n"
		"               [--duration S | --count N] [--cert F [--key F]] [--cacert F]\n"
		"               [--sni NAME] [--resume] [--tls 1.2|1.3] [--ciphers L]\n"
		"               [--ciphersuites L] [--groups L] [--path /x] [--bytes N]\n"
		"               [--reqs-per-conn K] [--close rst|fin] [--bind A[,A...]]\n"
		"               [--timeout MS] [--grace MS] [--json FILE|-]\n"
		"  --mode          handshake | request | keepalive | download | upload | hold |\n"
		"                  tcp-echo\n"
		"  --host, --port  server (port default 443)\n"
		"  --conns         connections kept busy at once (default 1)\n"
		"  --threads       threads sharing them, each with its own epoll (default 1)\n"
		"  --duration      seconds of load, also the bound of a --count run (default 10)\n"
		"  --count         stop after N attempts (handshakes, requests or echoes)\n"
		"  --cert, --key   client certificate chain and key, PEM (key default: in --cert)\n"
		"  --cacert        verify the server against these CAs, and its name (SNI or address)\n"
		"  --sni           server name to send (default --host unless it is an address)\n"
		"  --resume        resume sessions (tickets): each connection slot offers its last one\n"
		"  --tls           only this version (default: 1.2 or 1.3)\n"
		"  --ciphers       TLS 1.2 cipher list; --ciphersuites: TLS 1.3 suites (OpenSSL syntax)\n"
		"  --groups        key exchange groups, e.g. X25519:P-256\n"
		"  --path          request target (default /, /bytes/N for download, /upload)\n"
		"  --bytes         download/upload body or echo payload size; K, M, G suffixes (KiB...)\n"
		"  --reqs-per-conn attempts per connection in keepalive/download/upload/tcp-echo\n"
		"                  (default: unlimited; tcp-echo 1)\n"
		"  --close         rst (default: SO_LINGER 0, no TIME_WAIT) or fin\n"
		"  --bind          source addresses, used in turn\n"
		"  --timeout       ms without progress before an attempt fails (default 5000)\n"
		"  --grace         ms after --duration for attempts in flight (default 2000)\n"
		"  --json          also write the result as JSON to FILE (- : stdout, table to stderr)\n"
		"error kinds:\n");
	for (k = 0; k < PL_ERR_COUNT; k++)
		fprintf(f, "  %-18s %s\n", pl_error_names[k], pl_error_help[k]);
}

static int bad(const char *opt, const char *what)
{
	fprintf(stderr, "pc_load: %s: %s\n", opt, what);
	return -1;
}

static bool parse_u64(const char *s, uint64_t min, uint64_t max, bool suffix, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (suffix && *end && !end[1]) {
		shift = *end == 'k' || *end == 'K' ? 10 : *end == 'm' || *end == 'M' ? 20
			: *end == 'g' || *end == 'G' ? 30 : 0;
		if (shift)
			end++;
	}
	if (errno || end == s || *end || s[0] == '-' || v > (max >> shift) ||
	    (v << shift) < min)
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

static bool parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	uint64_t v;

	if (!parse_u64(s, min, max, false, &v))
		return false;
	*out = (unsigned)v;
	return true;
}

static bool is_address(const char *s)
{
	struct in6_addr a;

	return inet_pton(AF_INET, s, &a) == 1 || inet_pton(AF_INET6, s, &a) == 1;
}

/* --bind A[,A...]: addresses of the server's family, port 0. */
static int parse_bind(struct pl_opts *o, const char *list)
{
	char *copy = strdup(list), *tok, *save = NULL;
	struct sockaddr_storage *ss;
	int rc = 0;

	o->bind = calloc(strlen(list) / 2 + 1, sizeof(*o->bind));
	if (!copy || !o->bind) {
		free(copy);
		return bad("--bind", "out of memory");
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		ss = &o->bind[o->n_bind++];
		ss->ss_family = o->addr.ss_family;
		if (inet_pton(ss->ss_family,  tok,
			      ss->ss_family == AF_INET
				      ? (void *)&((struct sockaddr_in *)ss)->sin_addr
				      : (void *)&((struct sockaddr_in6 *)ss)->sin6_addr) != 1) {
			rc = bad("--bind", "not an address of the server's family");
			break;
		}
	}
	free(copy);
	return rc;
}

static int resolve(struct pl_opts *o)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
	char port[8];
	int rc;

	snprintf(port, sizeof(port), "%u", o->port);
	rc = getaddrinfo(o->host, port, &hints, &ai);
	if (rc)
		return bad(o->host, gai_strerror(rc));
	memcpy(&o->addr, ai->ai_addr, ai->ai_addrlen);
	o->addr_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int parse_opts(int argc, char **argv, struct pl_opts *o)
{
	/* (OPT_, not O_: fcntl.h, which wolfSSL's headers include, has O_PATH) */
	enum { OPT_HOST = 256, OPT_PORT, OPT_MODE, OPT_CONNS, OPT_THREADS, OPT_DURATION,
	       OPT_COUNT, OPT_CERT, OPT_KEY, OPT_CACERT, OPT_SNI, OPT_RESUME, OPT_TLS,
	       OPT_CIPHERS, OPT_SUITES, OPT_GROUPS, OPT_PATH, OPT_BYTES, OPT_RPC, OPT_CLOSE,
	       OPT_BIND, OPT_TIMEOUT, OPT_GRACE, OPT_JSON, OPT_HELP };
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, OPT_HOST },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "conns", required_argument, NULL, OPT_CONNS },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "cert", required_argument, NULL, OPT_CERT },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "cacert", required_argument, NULL, OPT_CACERT },
		{ "sni", required_argument, NULL, OPT_SNI },
		{ "resume", no_argument, NULL, OPT_RESUME },
		{ "tls", required_argument, NULL, OPT_TLS },
		{ "ciphers", required_argument, NULL, OPT_CIPHERS },
		{ "ciphersuites", required_argument, NULL, OPT_SUITES },
		{ "groups", required_argument, NULL, OPT_GROUPS },
		{ "path", required_argument, NULL, OPT_PATH },
		{ "bytes", required_argument, NULL, OPT_BYTES },
		{ "reqs-per-conn", required_argument, NULL, OPT_RPC },
		{ "close", required_argument, NULL, OPT_CLOSE },
		{ "bind", required_argument, NULL, OPT_BIND },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "grace", required_argument, NULL, OPT_GRACE },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	static char default_path[48];
	const char *mode = NULL, *bind_list = NULL;
	bool rpc_given = false, bytes_given = false;
	unsigned m;
	char *end;
	int c;

	*o = (struct pl_opts){ .port = 443, .conns = 1, .threads = 1, .timeout_ms = 5000,
			       .grace_ms = 2000 };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_HOST:
			o->host = optarg;
			break;
		case OPT_PORT:
			if (!parse_uint(optarg, 1, 65535, &o->port))
				return bad("--port", "must be 1..65535");
			break;
		case OPT_MODE:
			mode = optarg;
			break;
		case OPT_CONNS:
			if (!parse_uint(optarg, 1, 1000000, &o->conns))
				return bad("--conns", "must be 1..1000000");
			break;
		case OPT_THREADS:
			if (!parse_uint(optarg, 1, 1024, &o->threads))
				return bad("--threads", "must be 1..1024");
			break;
		case OPT_DURATION:
			errno = 0;
			o->duration = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->duration > 0) || o->duration > 86400)
				return bad("--duration", "must be > 0 and <= 86400 seconds");
			break;
		case OPT_COUNT:
			if (!parse_u64(optarg, 1, UINT64_MAX >> 1, false, &o->count))
				return bad("--count", "must be a positive integer");
			break;
		case OPT_CERT:
			o->cert = optarg;
			break;
		case OPT_KEY:
			o->key = optarg;
			break;
		case OPT_CACERT:
			o->cacert = optarg;
			break;
		case OPT_SNI:
			o->sni = optarg;
			break;
		case OPT_RESUME:
			o->resume = true;
			break;
		case OPT_TLS:
			if (strcmp(optarg, "1.2") == 0)
				o->tls_version = TLS1_2_VERSION;
			else if (strcmp(optarg, "1.3") == 0)
				o->tls_version = TLS1_3_VERSION;
			else
				return bad("--tls", "must be 1.2 or 1.3");
			break;
		case OPT_CIPHERS:
			o->ciphers = optarg;
			break;
		case OPT_SUITES:
			o->ciphersuites = optarg;
			break;
		case OPT_GROUPS:
			o->groups = optarg;
			break;
		case OPT_PATH:
			if (optarg[0] != '/' || strpbrk(optarg, " \r\n"))
				return bad("--path", "must start with / and hold no spaces or line breaks");
			o->path = optarg;
			break;
		case OPT_BYTES:
			if (!parse_u64(optarg, 1, UINT64_MAX >> 2, true, &o->bytes))
				return bad("--bytes", "must be a positive integer (K, M, G suffixes)");
			bytes_given = true;
			break;
		case OPT_RPC:
			if (!parse_uint(optarg, 1, UINT32_MAX, &o->reqs_per_conn))
				return bad("--reqs-per-conn", "must be a positive integer");
			rpc_given = true;
			break;
		case OPT_CLOSE:
			if (strcmp(optarg, "rst") == 0)
				o->close = PL_CLOSE_RST;
			else if (strcmp(optarg, "fin") == 0)
				o->close = PL_CLOSE_FIN;
			else
				return bad("--close", "must be rst or fin");
			break;
		case OPT_BIND:
			bind_list = optarg;
			break;
		case OPT_TIMEOUT:
			if (!parse_uint(optarg, 1, 600000, &o->timeout_ms))
				return bad("--timeout", "must be 1..600000 ms");
			break;
		case OPT_GRACE:
			if (!parse_uint(optarg, 0, 600000, &o->grace_ms))
				return bad("--grace", "must be 0..600000 ms");
			break;
		case OPT_JSON:
			o->json_path = optarg;
			break;
		case OPT_HELP:
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || !o->host || !mode) {
		usage(stderr);
		return -1;
	}
	for (m = PL_HANDSHAKE; m <= PL_TCP_ECHO; m++)
		if (strcmp(mode, pl_mode_name(m)) == 0)
			break;
	if (m > PL_TCP_ECHO)
		return bad("--mode",
			   "must be handshake, request, keepalive, download, upload, hold or tcp-echo");
	o->mode = (enum pl_mode)m;

	/* Options that mean nothing in a mode are refused, not ignored. */
	if (o->mode == PL_TCP_ECHO &&
	    (o->cert || o->key || o->cacert || o->sni || o->resume || o->tls_version ||
	     o->ciphers || o->ciphersuites || o->groups || o->path))
		return bad("--mode tcp-echo", "takes no TLS options and no --path");
	if (o->mode == PL_HANDSHAKE && (o->path || bytes_given || rpc_given))
		return bad("--mode handshake", "takes no --path, --bytes or --reqs-per-conn");
	if ((o->mode == PL_REQUEST || o->mode == PL_KEEPALIVE || o->mode == PL_HOLD) && bytes_given)
		return bad("--bytes", "is for download, upload and tcp-echo");
	if ((o->mode == PL_REQUEST || o->mode == PL_HOLD) && rpc_given)
		return bad("--mode request/hold", "makes one request per connection");
	if (o->mode == PL_HOLD && o->count)
		return bad("--mode hold", "runs for --duration");
	if ((o->mode == PL_DOWNLOAD || o->mode == PL_UPLOAD) && !bytes_given)
		return bad("--mode download/upload", "needs --bytes");
	if (o->key && !o->cert)
		return bad("--key", "needs --cert");
	if (o->threads > o->conns)
		return bad("--threads", "more threads than connections");
	if (o->mode == PL_REQUEST || o->mode == PL_HOLD || (o->mode == PL_TCP_ECHO && !rpc_given))
		o->reqs_per_conn = 1;
	if (o->mode == PL_TCP_ECHO && !bytes_given)
		o->bytes = 64;
	if (!o->duration)
		o->duration = o->count ? 600 : 10;
	if (!o->path && o->mode != PL_HANDSHAKE && o->mode != PL_TCP_ECHO) {
		if (o->mode == PL_DOWNLOAD)
			snprintf(default_path, sizeof(default_path), "/bytes/%llu",
				 (unsigned long long)o->bytes);
		else
			snprintf(default_path, sizeof(default_path), "%s",
				 o->mode == PL_UPLOAD ? "/upload" : "/");
		o->path = default_path;
	}
	if (!o->sni && o->mode != PL_TCP_ECHO && !is_address(o->host))
		o->sni = o->host;
	if (resolve(o) < 0)
		return -1;
	return bind_list ? parse_bind(o, bind_list) : 0;
}

/* The request head every attempt sends. */
static char *build_request(const struct pl_opts *o, size_t *len)
{
	const char *name = o->sni ? o->sni : o->host;
	bool v6 = strchr(name, ':') != NULL;
	char host[300], *req = NULL;
	int n;

	if (o->port == 443)
		snprintf(host, sizeof(host), v6 ? "[%s]" : "%s", name);
	else
		snprintf(host, sizeof(host), v6 ? "[%s]:%u" : "%s:%u", name, o->port);
	if (o->mode == PL_UPLOAD)
		n = asprintf(&req,
			     "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: pc_load\r\n"
			     "Content-Type: application/octet-stream\r\nContent-Length: %llu\r\n\r\n",
			     o->path, host, (unsigned long long)o->bytes);
	else
		n = asprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: pc_load\r\n%s\r\n",
			     o->path, host, o->mode == PL_REQUEST ? "Connection: close\r\n" : "");
	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return req;
}

/* Room for every connection's descriptor: raise the soft limit, and the
 * hard one when it is too low and we may (root: hold mode keeps 100,000
 * connections open), else the soft one as far as the hard one allows. */
static int raise_fd_limit(const struct pl_opts *o)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)o->conns + FD_SPARE + 2u * o->threads;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return bad("RLIMIT_NOFILE", strerror(errno));
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need &&
	    setrlimit(RLIMIT_NOFILE, &(struct rlimit){need, need}) == 0)
		return 0;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < need) {
		fprintf(stderr, "pc_load: --conns %u needs %llu descriptors, the limit is %llu\n",
			o->conns, (unsigned long long)need, (unsigned long long)rl.rlim_cur);
		return -1;
	}
	return 0;
}

volatile sig_atomic_t pl_stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	pl_stop_requested = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double cpu_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static void counts_add(struct pl_counts *a, const struct pl_counts *b)
{
	unsigned k;

	a->conns_ok += b->conns_ok;
	a->full += b->full;
	a->resumed += b->resumed;
	a->resume_missed += b->resume_missed;
	a->held += b->held;
	a->ok += b->ok;
	a->unfinished += b->unfinished;
	a->tx_bytes += b->tx_bytes;
	a->rx_bytes += b->rx_bytes;
	for (k = 0; k < PL_ERR_COUNT; k++)
		a->errors[k] += b->errors[k];
}

/* Adds the threads' results into s, with the window the rates use. */
static void summarize(struct pl_summary *s, const struct pl_run *run,
		      const struct pl_result *res, unsigned n)
{
	uint64_t end = run->t0_ns;
	bool window_ended = false;
	unsigned i, d;

	for (i = 0; i < n; i++) {
		counts_add(&s->total, &res[i].total);
		counts_add(&s->window, &res[i].window);
		pl_hist_merge(&s->connect, &res[i].connect);
		pl_hist_merge(&s->handshake, &res[i].handshake);
		pl_hist_merge(&s->request, &res[i].request);
		for (d = 0; d < res[i].details.n; d++)
			pl_details_add(&s->details, res[i].details.d[d].kind,
				       res[i].details.d[d].text, res[i].details.d[d].count);
		s->details.dropped += res[i].details.dropped;
		window_ended |= res[i].reached_window_end;
		if (res[i].end_ns > end)
			end = res[i].end_ns;
	}
	s->wall_s = (double)(end - run->t0_ns) / 1e9;
	if (window_ended) {
		s->ended_by = "duration";
		s->elapsed_s = s->o->duration;
	} else {
		s->ended_by = "count";
		s->elapsed_s = s->wall_s;
	}
}

int main(int argc, char **argv)
{
	struct pl_opts o;
	struct pl_run run = { .o = &o };
	pthread_barrier_t start;
	struct pl_thread_arg *args = NULL;
	struct pl_result *res = NULL;
	struct pl_summary *s = NULL;
	struct rusage ru0, ru1;
	pthread_t *tids = NULL;
	unsigned i;
	int rc = 1;
	bool failed = false;

	if (parse_opts(argc, argv, &o) < 0)
		return 1;
	/* A peer that resets while OpenSSL writes must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if (o.mode == PL_HOLD) {
		signal(SIGINT, on_stop);
		signal(SIGTERM, on_stop);
	}
	if (raise_fd_limit(&o) < 0)
		goto out;
	if (o.mode != PL_TCP_ECHO) {
		run.request = build_request(&o, &run.request_len);
		if (!run.request) {
			fprintf(stderr, "pc_load: out of memory\n");
			goto out;
		}
	}
	args = calloc(o.threads, sizeof(*args));
	res = calloc(o.threads, sizeof(*res));
	tids = calloc(o.threads, sizeof(*tids));
	s = calloc(1, sizeof(*s));
	if (!args || !res || !tids || !s) {
		fprintf(stderr, "pc_load: out of memory\n");
		goto out;
	}
	for (i = 0; i < o.threads; i++) {
		args[i] = (struct pl_thread_arg){
			.run = &run, .id = i, .res = &res[i],
			.conns = o.conns / o.threads + (i < o.conns % o.threads),
		};
		if (o.mode != PL_TCP_ECHO && !(args[i].ctx = pl_tls_ctx_new(&o)))
			goto out;
	}
	pthread_barrier_init(&start, NULL, o.threads + 1);
	run.start = &start;
	for (i = 0; i < o.threads; i++) {
		if ((errno = pthread_create(&tids[i], NULL, pl_worker_main, &args[i]))) {
			/* Nobody can be released without a full barrier: give up hard. */
			perror("pc_load: pthread_create");
			exit(1);
		}
	}
	getrusage(RUSAGE_SELF, &ru0);
	run.t0_ns = now_ns();
	run.end_ns = run.t0_ns + (uint64_t)(o.duration * 1e9);
	run.hard_ns = run.end_ns + (uint64_t)o.grace_ms * 1000000u;
	pthread_barrier_wait(&start);
	for (i = 0; i < o.threads; i++) {
		pthread_join(tids[i], NULL);
		failed |= args[i].failed;
		args[i].ctx = NULL; /* the thread freed it */
	}
	getrusage(RUSAGE_SELF, &ru1);
	pthread_barrier_destroy(&start);
	if (failed)
		goto out;

	s->o = &o;
	summarize(s, &run, res, o.threads);
	s->cpu_user_s = cpu_s(&ru1.ru_utime) - cpu_s(&ru0.ru_utime);
	s->cpu_sys_s = cpu_s(&ru1.ru_stime) - cpu_s(&ru0.ru_stime);
	pl_report_table(o.json_path && strcmp(o.json_path, "-") == 0 ? stderr : stdout, s);
	if (o.json_path && pl_report_json(o.json_path, s) < 0)
		goto out;
	rc = s->total.ok > 0 && pl_errors_total(&s->total) == 0 ? 0 : 2;
out:
	for (i = 0; args && i < o.threads; i++)
		SSL_CTX_free(args[i].ctx);
	free(args);
	free(res);
	free(tids);
	free(s);
	free((char *)run.request);
	free(o.bind);
	return rc;
}
