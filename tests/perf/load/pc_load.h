// SPDX-License-Identifier: MIT
/*
 * pc_load: declarations shared by its files.
 *
 *   pc_load.c  command line, set-up, threads, merging the results
 *   worker.c   one thread: epoll loop, connection state machine, TLS
 *   http.c     HTTP/1.1 response head parser
 *   hist.c     latency histograms
 *   report.c   table and JSON output
 *
 * Threads share nothing while running except the options (read-only), the
 * run clock (read-only) and the attempt budget of --count (one atomic). Each
 * writes only its own struct pl_result, which the main thread reads after
 * pthread_join.
 */
#ifndef PC_LOAD_H
#define PC_LOAD_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

/* Built twice from the same sources: pc_load on OpenSSL, and
 * pc_load_wolfssl on the project's optimized wolfSSL through its OpenSSL
 * compatibility layer (PL_WOLFSSL). */
#ifdef PL_WOLFSSL
#include <wolfssl/options.h>
#include <wolfssl/openssl/ssl.h>
#else
#include <openssl/ssl.h>
#endif

#include "hist.h"

enum pl_mode {
	PL_HANDSHAKE, /* TLS handshake, confirmed by the server, then close */
	PL_REQUEST,   /* handshake, one GET with Connection: close */
	PL_KEEPALIVE, /* handshake, GETs on the connection */
	PL_DOWNLOAD,  /* handshake, GETs of --bytes body bytes each */
	PL_UPLOAD,    /* handshake, POSTs of --bytes body bytes each */
	PL_HOLD,      /* handshake, one GET, then held open until the run ends */
	PL_TCP_ECHO,  /* plain TCP: connect, --bytes out and back, close */
};

enum pl_error {
#define PL_ERROR(name, help) PL_ERR_##name,
#include "load_errors.def"
#undef PL_ERROR
	PL_ERR_COUNT
};

extern const char *const pl_error_names[PL_ERR_COUNT];
extern const char *const pl_error_help[PL_ERR_COUNT];

enum pl_close {
	PL_CLOSE_RST, /* SO_LINGER 0: no TIME_WAIT, so rates above ~470
		       * connections/s per source address are sustainable */
	PL_CLOSE_FIN, /* orderly close, as browsers and curl do */
};

struct pl_opts {
	/* where */
	const char *host;
	unsigned port;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	struct sockaddr_storage *bind; /* --bind: source addresses, round robin */
	unsigned n_bind;
	/* what */
	enum pl_mode mode;
	unsigned conns;
	unsigned threads;
	double duration;   /* seconds: the measured window, and the run's bound */
	uint64_t count;	   /* attempts in all (0: run for --duration) */
	unsigned reqs_per_conn; /* 0: as many as the run allows */
	uint64_t bytes;	   /* download/upload body, or echo payload (else 0) */
	const char *path;  /* HTTP request target */
	enum pl_close close;
	unsigned timeout_ms; /* no progress this long: the attempt fails */
	unsigned grace_ms;   /* after --duration, for attempts in flight */
	/* TLS */
	const char *sni;
	const char *cert, *key, *cacert;
	bool resume;
	int tls_version; /* 0: 1.2 or 1.3, else TLS1_2_VERSION / TLS1_3_VERSION */
	const char *ciphers, *ciphersuites, *groups;
	/* output */
	const char *json_path;
};


/* Counters one thread keeps. "Attempts" are the unit of --count and of the
 * error counts: a handshake in handshake mode, a request in the HTTP modes,
 * an echo in tcp-echo mode. */
struct pl_counts {
	uint64_t conns_ok;	/* TCP connected and, with TLS, handshake confirmed */
	uint64_t full;		/* of those, full TLS handshakes */
	uint64_t resumed;	/* of those, resumed ones */
	uint64_t resume_missed; /* a session was offered, the server did a full one */
	uint64_t held;		/* hold mode: connections held open */
	uint64_t ok;		/* attempts that succeeded */
	uint64_t unfinished;	/* attempts still running at the hard stop */
	uint64_t tx_bytes;	/* application bytes (HTTP or echo payload) */
	uint64_t rx_bytes;
	uint64_t errors[PL_ERR_COUNT];
};

/* Why errors happened: (kind, text) pairs with counts. Bounded: once full,
 * errors with new texts are only counted in dropped. */
#define PL_DETAILS_MAX 32
#define PL_DETAIL_LEN 120

struct pl_detail {
	enum pl_error kind;
	uint64_t count;
	char text[PL_DETAIL_LEN];
};

struct pl_details {
	unsigned n;
	uint64_t dropped;
	struct pl_detail d[PL_DETAILS_MAX];
};

void pl_details_add(struct pl_details *ds, enum pl_error kind, const char *text,
		    uint64_t count);

struct pl_result {
	struct pl_counts total;
	struct pl_counts window; /* as they were at the end of --duration */
	bool reached_window_end; /* else the thread ran out of --count first */
	uint64_t end_ns;	 /* when the thread's last connection closed */
	struct pl_hist connect;	 /* connect() to established */
	struct pl_hist handshake; /* established to handshake done (TLS) */
	struct pl_hist request;	 /* request's first byte out to its last byte in */
	struct pl_details details;
};

/* What every thread shares. */
struct pl_run {
	const struct pl_opts *o;
	uint64_t t0_ns;	  /* start of the measured window */
	uint64_t end_ns;  /* end of the window: no attempts start after it */
	uint64_t hard_ns; /* end + grace: whatever is still open is unfinished */
	atomic_uint_fast64_t claimed; /* attempts started, against --count */
	const char *request; /* the HTTP request head, the same every time */
	size_t request_len;
	pthread_barrier_t *start;
	atomic_uint_fast64_t held; /* hold mode: connections held, all threads */
};

/* Hold mode: SIGINT or SIGTERM ends the window now. */
extern volatile sig_atomic_t pl_stop_requested;

/* Builds a thread's TLS context from the options; NULL with a message on
 * stderr if a file or a list is refused. Main thread, before the run. */
SSL_CTX *pl_tls_ctx_new(const struct pl_opts *o);

/* Thread body: runs its share of the connections until the run ends and
 * fills res. */
struct pl_thread_arg {
	struct pl_run *run;
	unsigned id;
	unsigned conns;
	SSL_CTX *ctx; /* NULL in tcp-echo mode; the thread frees it */
	struct pl_result *res;
	int failed; /* set up failed (message on stderr) */
};
void *pl_worker_main(void *arg);

/* HTTP/1.1 response head (status line and headers, without the blank line
 * that ends them). Returns 0, or -1 with a reason in why. */
struct pl_http_head {
	int status;
	int64_t content_length; /* -1: none, the body ends when the server closes */
	bool closes;		/* the server closes after this response */
};
int pl_http_parse_head(const char *buf, size_t len, struct pl_http_head *h,
		       const char **why);

/* Merged results and the numbers derived from them. */
struct pl_summary {
	const struct pl_opts *o;
	struct pl_counts total, window;
	double elapsed_s;     /* length of the window the rates divide by */
	const char *ended_by; /* "duration" or "count" */
	struct pl_hist connect, handshake, request;
	struct pl_details details;
	double cpu_user_s, cpu_sys_s, wall_s;
};

const char *pl_mode_name(enum pl_mode m);
uint64_t pl_errors_total(const struct pl_counts *c);
void pl_report_table(FILE *f, const struct pl_summary *s);
int pl_report_json(const char *path, const struct pl_summary *s);

#endif
