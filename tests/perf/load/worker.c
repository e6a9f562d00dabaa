// SPDX-License-Identifier: MIT
/*
 * One pc_load thread: its share of the connections, driven by one epoll
 * instance (edge-triggered, so a connection is registered once and never
 * re-armed), each connection a small state machine:
 *
 *   CONNECTING -> HANDSHAKE -> CONFIRM (handshake mode, TLS 1.3) -> close
 *                           -> EXCHANGE (HTTP modes) -> EXCHANGE ... -> close
 *                           -> EXCHANGE (hold) -> HELD until the run ends
 *              -> ECHO (tcp-echo) -> ECHO ... -> close
 *
 * A slot whose connection closed (done or failed) is reconnected from the
 * loop, not from inside the state machine, so a server refusing everything
 * cannot recurse. Every step runs until the socket would block (SSL_ERROR_
 * WANT_READ/WANT_WRITE or EAGAIN): with edge-triggered epoll that is the
 * condition for being woken again.
 *
 * When is a handshake a success? Only when the server has shown it accepted
 * it. In TLS 1.2 that is the server's Finished (it comes after the server
 * checked our certificate). In TLS 1.3 the client's SSL_connect() returns
 * after sending its own Finished, before the server has looked at our
 * certificate: a refusal arrives later as an alert. So in TLS 1.3 the
 * handshake counts only once the server sends something after it: a
 * session ticket (handshake mode waits for one; OpenSSL-based servers such
 * as nginx, HAProxy and python's ssl send one by default; against a server
 * that sends none, use request mode) or response bytes. Until then, any
 * failure is a TLS handshake error. This is the trap ab and openssl s_time
 * fall into.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#ifdef PL_WOLFSSL
#include <wolfssl/options.h> /* first: it configures every wolfSSL header */
#include <wolfssl/openssl/ssl.h>
#include <wolfssl/openssl/err.h>
#include <wolfssl/openssl/x509v3.h>
#else
#include <openssl/err.h>
#include <openssl/x509v3.h>
#endif

#include "pc_load.h"

#define HEAD_MAX 4096	     /* response head kept per connection */
#define IO_CHUNK (64 * 1024) /* one read, one upload or echo write */
#define EVENTS 256
#define TICK_NS 100000000ull /* timeouts are checked this often */
/* Hold mode: connections opening (handshake and request) at once per
 * thread; the others wait their turn, so tens of thousands do not all
 * send their SYN and ClientHello in the same instant and time out in the
 * server's queues. */
#define HOLD_RAMP 64

/* io_read/io_write results besides a byte count (and 0, the peer closed) */
#define IO_WAIT (-1)
#define IO_ERR (-2)

enum conn_state {
	CS_IDLE, /* no connection in this slot */
	CS_CONNECTING,
	CS_HANDSHAKE,
	CS_CONFIRM, /* handshake mode, TLS 1.3: waiting for the server's ticket */
	CS_EXCHANGE,
	CS_ECHO,
	CS_HELD, /* hold mode: the request done, the connection kept idle */
};

struct worker;

/* One slot: at most one connection at a time. An open connection always
 * carries exactly one attempt in flight (the next is claimed before the
 * previous one's connection is reused), so "open" means "attempt running". */
struct conn {
	struct worker *w;
	int fd;
	SSL *ssl;
	SSL_SESSION *session; /* --resume: what this slot offers next time */
	enum conn_state state;
	bool got_session;     /* the server sent a ticket (or, TLS 1.2, a session) */
	bool confirmed;	      /* the server accepted the handshake */
	bool offered;	      /* a session was offered for resumption */
	bool peer_closed;     /* the server ended the stream */
	unsigned attempts_on_conn;
	uint64_t t_start, t_connected, t_hs, t_req;
	uint64_t deadline; /* no progress by then: the attempt fails */
	/* the attempt in flight */
	size_t head_sent;
	uint64_t body_sent; /* upload body or echo payload written */
	uint64_t body_recv; /* response body or echo payload read */
	int64_t content_length;
	bool head_done, server_closes;
	uint8_t echo_seed;
	size_t head_len;
	char head[HEAD_MAX];
};

struct worker {
	struct pl_run *run;
	const struct pl_opts *o;
	SSL_CTX *ctx;
	int ep;
	struct conn *conns;
	unsigned n_conns;
	unsigned *starts; /* slots waiting to connect: a FIFO of n_conns */
	unsigned start_head, n_starts;
	unsigned open;
	unsigned held; /* of open, in CS_HELD */
	bool stopping; /* the window is over: no new attempts */
	unsigned next_bind;
	unsigned echo_seq;
	struct pl_result *res;
	/* what the last failing io_read/io_write saw */
	enum pl_error why_kind;
	char why[PL_DETAIL_LEN];
	unsigned char in[IO_CHUNK];  /* read buffer */
	unsigned char out[IO_CHUNK]; /* upload body (constant), echo payload */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t timeout_ns(const struct worker *w)
{
	return (uint64_t)w->o->timeout_ms * 1000000u;
}

/* One more attempt within --count? Claimed attempts always end as a
 * success, an error or unfinished, so the three add up to --count. */
static bool claim(struct worker *w)
{
	if (w->stopping)
		return false;
	if (!w->o->count)
		return true;
	return atomic_fetch_add(&w->run->claimed, 1) < w->o->count;
}

/* The connection whose SSL_connect or SSL_read runs on this thread, for
 * on_new_session: wolfSSL keeps no application data on its SSL objects
 * without HAVE_EX_DATA, which its OpenSSL compatibility layer leaves off. */
static __thread struct conn *tls_caller;

/* Runs on this thread inside SSL_connect/SSL_read when the server sends a
 * session (TLS 1.3: a NewSessionTicket after the handshake). */
static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct conn *c = tls_caller;

	(void)ssl;

	c->got_session = true;
	if (!c->w->o->resume)
		return 0;
	if (c->session)
		SSL_SESSION_free(c->session);
	c->session = sess;
	return 1; /* we keep the reference */
}

SSL_CTX *pl_tls_ctx_new(const struct pl_opts *o)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	X509_VERIFY_PARAM *param;
	const char *what = "TLS context";

	if (!ctx)
		goto fail;
	what = "--tls";
	if (!SSL_CTX_set_min_proto_version(ctx, o->tls_version ? o->tls_version : TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, o->tls_version ? o->tls_version : TLS1_3_VERSION))
		goto fail;
	what = "--ciphers";
	if (o->ciphers && !SSL_CTX_set_cipher_list(ctx, o->ciphers))
		goto fail;
	what = "--ciphersuites";
	if (o->ciphersuites && !SSL_CTX_set_ciphersuites(ctx, o->ciphersuites))
		goto fail;
	what = "--groups";
	/* The older name of set1_groups_list: wolfSSL's set1_groups_list
	 * knows only NIST curves, its set1_curves_list X25519 too. */
	if (o->groups && !SSL_CTX_set1_curves_list(ctx, o->groups))
		goto fail;
	if (o->cert) {
		what = "--cert";
		if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1)
			goto fail;
		what = "--key";
		if (SSL_CTX_use_PrivateKey_file(ctx, o->key ? o->key : o->cert, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1)
			goto fail;
	}
	if (o->cacert) {
		what = "--cacert";
		if (SSL_CTX_load_verify_locations(ctx, o->cacert, NULL) != 1)
			goto fail;
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		/* The certificate must name what we asked for: the SNI name,
		 * else the address. */
		param = SSL_CTX_get0_param(ctx);
		if (o->sni ? !X509_VERIFY_PARAM_set1_host(param, o->sni, 0)
			   : !X509_VERIFY_PARAM_set1_ip_asc(param, o->host))
			goto fail;
	} else {
		/* OpenSSL's default; wolfSSL's would check the server against
		 * no CA at all. */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	/* Sessions reach us only through the callback; it also tells a TLS 1.3
	 * handshake that the server accepted it. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, on_new_session);
	/* Upload writes go out in pieces, from buffers that do not move. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
	return ctx;
fail:
	fprintf(stderr, "pc_load: %s refused:\n", what);
	ERR_print_errors_fp(stderr);
	SSL_CTX_free(ctx);
	return NULL;
}

static void set_why(struct worker *w, enum pl_error kind, const char *text)
{
	w->why_kind = kind;
	snprintf(w->why, sizeof(w->why), "%s", text);
}

/* Why an SSL call failed, as OpenSSL puts it. saved_errno: errno right
 * after the call. */
static void tls_why(struct conn *c, int err, int saved_errno)
{
	struct worker *w = c->w;
	enum pl_error kind = c->confirmed ? PL_ERR_tls_io : PL_ERR_tls_handshake;
	unsigned long e;
	const char *reason;

	switch (err) {
	case SSL_ERROR_SSL:
		e = ERR_peek_error();
		reason = ERR_reason_error_string(e);
		if (!reason)
			reason = "unknown OpenSSL error";
		if (ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED)
			snprintf(w->why, sizeof(w->why), "%s: %s", reason,
				 X509_verify_cert_error_string(SSL_get_verify_result(c->ssl)));
		else
			snprintf(w->why, sizeof(w->why), "%s", reason);
		break;
	case SSL_ERROR_SYSCALL:
		snprintf(w->why, sizeof(w->why), "%s",
			 saved_errno ? strerror(saved_errno) : "connection closed");
		break;
	case SSL_ERROR_ZERO_RETURN:
		snprintf(w->why, sizeof(w->why), "close_notify from the server");
		break;
	default:
#ifdef PL_WOLFSSL
		/* wolfSSL answers most failures with its own (negative) code
		 * instead of SSL_ERROR_SSL; a refusal by alert is only "fatal
		 * alert received" there, so the alert is named from its
		 * history. */
		if (err < 0) {
			WOLFSSL_ALERT_HISTORY h;

			if (wolfSSL_get_alert_history(c->ssl, &h) == WOLFSSL_SUCCESS &&
			    h.last_rx.level == alert_fatal)
				snprintf(w->why, sizeof(w->why), "received alert %s (%d)",
					 wolfSSL_alert_desc_string_long(h.last_rx.code),
					 h.last_rx.code);
			else
				snprintf(w->why, sizeof(w->why), "%s (%d)",
					 wolfSSL_ERR_reason_error_string((unsigned long)err), err);
			break;
		}
#endif
		snprintf(w->why, sizeof(w->why), "SSL_get_error %d", err);
		break;
	}
	w->why_kind = kind;
}

/* An SSL_read/SSL_write that returned r <= 0: IO_WAIT, 0 for the end of
 * the stream, or IO_ERR with the reason in w->why. */
static ssize_t tls_status(struct conn *c, int r, int saved_errno)
{
	int err = SSL_get_error(c->ssl, r);

	switch (err) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return IO_WAIT;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	/* A TCP FIN without close_notify: the end of a body that runs to the
	 * close is decided by the caller, not here. */
#ifdef PL_WOLFSSL
	case SOCKET_PEER_CLOSED_E:
		return 0;
#else
	case SSL_ERROR_SSL:
		if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
			return 0;
		break;
#endif
	}
	tls_why(c, err, saved_errno);
	return IO_ERR;
}

static ssize_t io_read(struct conn *c, void *buf, size_t len)
{
	ssize_t n;
	int r;

	if (!c->ssl) {
		n = read(c->fd, buf, len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return IO_WAIT;
		if (n < 0) {
			set_why(c->w, PL_ERR_tcp_io, strerror(errno));
			return IO_ERR;
		}
	} else {
		ERR_clear_error();
		tls_caller = c;
		r = SSL_read(c->ssl, buf, (int)(len < INT_MAX ? len : INT_MAX));
		n = r > 0 ? r : tls_status(c, r, errno);
	}
	if (n == 0)
		c->peer_closed = true;
	return n;
}

static ssize_t io_write(struct conn *c, const void *buf, size_t len)
{
	ssize_t n;
	int r;

	if (!c->ssl) {
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0)
			return n;
		if (errno == EAGAIN || errno == EINTR)
			return IO_WAIT;
		set_why(c->w, PL_ERR_tcp_io, strerror(errno));
		return IO_ERR;
	}
	ERR_clear_error();
	r = SSL_write(c->ssl, buf, (int)(len < INT_MAX ? len : INT_MAX));
	if (r > 0)
		return r;
	n = tls_status(c, r, errno);
	if (n == 0) {
		set_why(c->w, c->confirmed ? PL_ERR_tls_io : PL_ERR_tls_handshake,
			"connection closed while sending");
		n = IO_ERR;
	}
	return n;
}

/* Queues slot c to be connected from the loop. A slot is queued at most
 * once (only a closed slot is), so the FIFO cannot overflow. */
static void queue_start(struct worker *w, struct conn *c)
{
	w->starts[(w->start_head + w->n_starts++) % w->n_conns] = (unsigned)(c - w->conns);
}

/* Closes c's connection. clean: the TLS session ended well, say so
 * (close_notify) before closing, unless the server has gone already;
 * after an error OpenSSL forbids it. */
static void conn_close(struct conn *c, bool clean)
{
	struct worker *w = c->w;

	if (c->ssl) {
		if (clean && !c->peer_closed) {
			ERR_clear_error();
			SSL_shutdown(c->ssl);
		}
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = CS_IDLE;
	w->open--;
	if (!w->stopping)
		queue_start(w, c);
}

/* The attempt on c failed: count it under kind with text as detail. */
static void conn_fail(struct conn *c, enum pl_error kind, const char *text)
{
	struct worker *w = c->w;

	w->res->total.errors[kind]++;
	pl_details_add(&w->res->details, kind, text, 1);
	conn_close(c, false);
}

/* The server accepted the handshake: count the connection. */
static void confirm(struct conn *c)
{
	struct pl_counts *t = &c->w->res->total;

	c->confirmed = true;
	t->conns_ok++;
	pl_hist_record(&c->w->res->handshake, c->t_hs - c->t_connected);
	if (SSL_session_reused(c->ssl)) {
		t->resumed++;
	} else {
		t->full++;
		if (c->offered)
			t->resume_missed++;
	}
}

static void begin_attempt(struct conn *c, enum conn_state state)
{
	c->state = state;
	c->t_req = now_ns();
	c->deadline = c->t_req + timeout_ns(c->w);
	c->head_sent = 0;
	c->body_sent = 0;
	c->body_recv = 0;
	c->content_length = -1;
	c->head_done = false;
	c->server_closes = false;
	c->head_len = 0;
	c->echo_seed = (uint8_t)c->w->echo_seq++;
}

/* The attempt on c succeeded. Starts the next one on the same connection
 * if the mode, the server and the budget allow (returns true: keep driving),
 * else closes it. */
static bool attempt_done(struct conn *c, bool reusable)
{
	struct worker *w = c->w;
	const struct pl_opts *o = w->o;

	w->res->total.ok++;
	c->attempts_on_conn++;
	if (o->mode != PL_HANDSHAKE)
		pl_hist_record(&w->res->request, now_ns() - c->t_req);
	if (o->mode == PL_HOLD && reusable) {
		c->state = CS_HELD;
		c->deadline = UINT64_MAX;
		w->held++;
		w->res->total.held++;
		if (atomic_fetch_add(&w->run->held, 1) + 1 == o->conns)
			fprintf(stderr, "pc_load: holding %u connections\n", o->conns);
		return false;
	}
	if (!reusable || o->mode == PL_HANDSHAKE ||
	    (o->reqs_per_conn && c->attempts_on_conn >= o->reqs_per_conn) || !claim(w)) {
		conn_close(c, true);
		return false;
	}
	begin_attempt(c, c->state);
	return true;
}

static void conn_start(struct worker *w, struct conn *c)
{
	const struct pl_opts *o = w->o;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c };
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int one = 1;

	if (!claim(w))
		return; /* budget spent: the slot retires */
	*c = (struct conn){ .w = w, .session = c->session, .state = CS_CONNECTING };
	c->t_start = now_ns();
	c->deadline = c->t_start + timeout_ns(w);
	w->open++;
	c->fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		conn_fail(c, PL_ERR_connect_failed, strerror(errno));
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (o->close == PL_CLOSE_RST)
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (o->n_bind) {
		/* The port is picked at connect(), per destination, so each
		 * source address has the whole ephemeral range. */
		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(c->fd, (const struct sockaddr *)&o->bind[w->next_bind], o->addr_len) < 0) {
			conn_fail(c, PL_ERR_connect_failed, strerror(errno));
			return;
		}
		w->next_bind = (w->next_bind + 1) % o->n_bind;
	}
	if (connect(c->fd, (const struct sockaddr *)&o->addr, o->addr_len) < 0 &&
	    errno != EINPROGRESS) {
		conn_fail(c, errno == ECONNREFUSED ? PL_ERR_connect_refused : PL_ERR_connect_failed,
			  strerror(errno));
		return;
	}
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		conn_fail(c, PL_ERR_connect_failed, strerror(errno));
}

static bool step_connect(struct conn *c, uint32_t events)
{
	struct worker *w = c->w;
	int err = 0;
	socklen_t len = sizeof(err);

	if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		return false;
	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		conn_fail(c, err == ECONNREFUSED ? PL_ERR_connect_refused : PL_ERR_connect_failed,
			  strerror(err));
		return false;
	}
	c->t_connected = now_ns();
	c->deadline = c->t_connected + timeout_ns(w);
	pl_hist_record(&w->res->connect, c->t_connected - c->t_start);
	if (w->o->mode == PL_TCP_ECHO) {
		w->res->total.conns_ok++;
		begin_attempt(c, CS_ECHO);
		return true;
	}
	c->ssl = SSL_new(w->ctx);
	if (!c->ssl) {
		conn_fail(c, PL_ERR_tls_handshake, "SSL_new failed");
		return false;
	}
	SSL_set_fd(c->ssl, c->fd);
#ifdef PL_WOLFSSL
	/* wolfSSL's SSL objects do not inherit the context's verification
	 * parameters (the name or address the server must have, set with
	 * --cacert), and its compatibility layer has SSL_set_tlsext_host_name
	 * only with OPENSSL_ALL. */
	if (w->o->cacert &&
	    X509_VERIFY_PARAM_set1(SSL_get0_param(c->ssl), SSL_CTX_get0_param(w->ctx)) != 1) {
		conn_fail(c, PL_ERR_tls_handshake, "X509_VERIFY_PARAM_set1 failed");
		return false;
	}
	if (w->o->sni)
		wolfSSL_UseSNI(c->ssl, WOLFSSL_SNI_HOST_NAME, w->o->sni,
			       (unsigned short)strlen(w->o->sni));
#else
	if (w->o->sni)
		SSL_set_tlsext_host_name(c->ssl, w->o->sni);
#endif
	if (c->session) {
		SSL_set_session(c->ssl, c->session);
		c->offered = true;
	}
	c->state = CS_HANDSHAKE;
	return true;
}

static bool step_handshake(struct conn *c)
{
	struct worker *w = c->w;
	int r, saved;

	ERR_clear_error();
	tls_caller = c;
	r = SSL_connect(c->ssl);
	saved = errno;
	if (r != 1) {
		r = SSL_get_error(c->ssl, r);
		if (r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE)
			return false;
		tls_why(c, r, saved);
		conn_fail(c, PL_ERR_tls_handshake, w->why);
		return false;
	}
	c->t_hs = now_ns();
	if (SSL_version(c->ssl) != TLS1_3_VERSION)
		confirm(c);
	if (w->o->mode != PL_HANDSHAKE) {
		begin_attempt(c, CS_EXCHANGE);
		/* The handshake's time is not the first request's. */
		return true;
	}
	if (c->confirmed)
		return attempt_done(c, false);
	c->state = CS_CONFIRM;
	c->deadline = c->t_hs + timeout_ns(w);
	return true;
}

/* Handshake mode, TLS 1.3: read until the server's ticket (or any bytes)
 * shows it accepted us, or its alert shows it did not. */
static bool step_confirm(struct conn *c)
{
	struct worker *w = c->w;
	ssize_t n;

	for (;;) {
		n = io_read(c, w->in, sizeof(w->in));
		if (n > 0)
			w->res->total.rx_bytes += (uint64_t)n;
		if (c->got_session || n > 0) {
			confirm(c);
			return attempt_done(c, false);
		}
		if (n == IO_WAIT)
			return false;
		conn_fail(c, PL_ERR_tls_handshake,
			  n == 0 ? "connection closed before the session ticket" : w->why);
		return false;
	}
}

/* Bytes of the response: head (kept until complete), then body. Returns
 * false if the attempt failed (c is closed). */
static bool response_feed(struct conn *c, const char *p, size_t n)
{
	const struct pl_opts *o = c->w->o;
	size_t old = c->head_len, take, from, used;
	struct pl_http_head h;
	const char *end, *why;
	char text[PL_DETAIL_LEN];

	if (!c->head_done) {
		take = n < sizeof(c->head) - old ? n : sizeof(c->head) - old;
		memcpy(c->head + old, p, take);
		c->head_len += take;
		from = old >= 3 ? old - 3 : 0; /* the blank line may straddle reads */
		end = memmem(c->head + from, c->head_len - from, "\r\n\r\n", 4);
		if (!end) {
			if (c->head_len == sizeof(c->head)) {
				conn_fail(c, PL_ERR_http_malformed, "response head over 4096 bytes");
				return false;
			}
			return true;
		}
		used = (size_t)(end + 4 - c->head) - old;
		if (pl_http_parse_head(c->head, (size_t)(end + 2 - c->head), &h, &why) < 0) {
			conn_fail(c, PL_ERR_http_malformed, why);
			return false;
		}
		if (h.status < 200 || h.status > 299) {
			snprintf(text, sizeof(text), "HTTP %d", h.status);
			conn_fail(c, PL_ERR_http_status, text);
			return false;
		}
		if (o->mode == PL_DOWNLOAD && h.content_length >= 0 &&
		    (uint64_t)h.content_length != o->bytes) {
			snprintf(text, sizeof(text), "Content-Length %lld, expected %llu",
				 (long long)h.content_length, (unsigned long long)o->bytes);
			conn_fail(c, PL_ERR_http_length, text);
			return false;
		}
		c->head_done = true;
		c->content_length = h.content_length;
		c->server_closes = h.closes;
		p += used;
		n -= used;
	}
	c->body_recv += n;
	if (c->content_length >= 0 && c->body_recv > (uint64_t)c->content_length) {
		conn_fail(c, PL_ERR_http_malformed, "bytes after the response body");
		return false;
	}
	if (o->mode == PL_DOWNLOAD && c->body_recv > o->bytes) {
		conn_fail(c, PL_ERR_http_length, "more body bytes than --bytes");
		return false;
	}
	return true;
}

/* The server closed during an exchange. Success only for a body that runs
 * to the close and has everything it should. */
static bool response_eof(struct conn *c, uint64_t body_len)
{
	const struct pl_opts *o = c->w->o;
	char text[PL_DETAIL_LEN];

	if (!c->head_done) {
		conn_fail(c, c->confirmed ? PL_ERR_short_read : PL_ERR_tls_handshake,
			  "connection closed before the response head");
		return false;
	}
	if (c->content_length >= 0 || (o->mode == PL_DOWNLOAD && c->body_recv != o->bytes)) {
		snprintf(text, sizeof(text), "connection closed after %llu of %llu body bytes",
			 (unsigned long long)c->body_recv,
			 (unsigned long long)(c->content_length >= 0 ? (uint64_t)c->content_length
								     : o->bytes));
		conn_fail(c, PL_ERR_short_read, text);
		return false;
	}
	if (c->body_sent < body_len) {
		conn_fail(c, PL_ERR_short_read, "connection closed before the request body was sent");
		return false;
	}
	return attempt_done(c, false);
}

/* HTTP modes: send the request (and upload body) and read the response,
 * both as far as the socket allows. */
static bool step_exchange(struct conn *c)
{
	struct worker *w = c->w;
	const struct pl_opts *o = w->o;
	uint64_t body_len = o->mode == PL_UPLOAD ? o->bytes : 0;
	size_t len;
	ssize_t n;

	while (c->head_sent < w->run->request_len || c->body_sent < body_len) {
		if (c->head_sent < w->run->request_len) {
			n = io_write(c, w->run->request + c->head_sent,
				     w->run->request_len - c->head_sent);
		} else {
			len = body_len - c->body_sent < sizeof(w->out) ? body_len - c->body_sent
								       : sizeof(w->out);
			n = io_write(c, w->out, len);
		}
		if (n == IO_WAIT)
			break;
		if (n < 0) {
			conn_fail(c, w->why_kind, w->why);
			return false;
		}
		if (c->head_sent < w->run->request_len)
			c->head_sent += (size_t)n;
		else
			c->body_sent += (uint64_t)n;
		w->res->total.tx_bytes += (uint64_t)n;
		c->deadline = now_ns() + timeout_ns(w);
	}
	while (!c->head_done || c->content_length < 0 ||
	       c->body_recv < (uint64_t)c->content_length) {
		n = io_read(c, w->in, sizeof(w->in));
		/* TLS 1.3: the ticket (or the first response byte) confirms. */
		if (!c->confirmed && (c->got_session || n > 0))
			confirm(c);
		if (n == IO_WAIT)
			return false;
		if (n == IO_ERR) {
			conn_fail(c, w->why_kind, w->why);
			return false;
		}
		if (n == 0)
			return response_eof(c, body_len);
		w->res->total.rx_bytes += (uint64_t)n;
		c->deadline = now_ns() + timeout_ns(w);
		if (!response_feed(c, (const char *)w->in, (size_t)n))
			return false;
	}
	if (c->body_sent < body_len)
		return false; /* the response came early; the body still goes out */
	return attempt_done(c, !c->server_closes);
}

/* The echo payload differs per attempt, so a server that mixes up
 * connections or replays old data is caught. */
static uint8_t echo_byte(uint8_t seed, uint64_t i)
{
	return (uint8_t)(seed * 131u + i * 7u + (i >> 8));
}

static bool step_echo(struct conn *c)
{
	struct worker *w = c->w;
	uint64_t total = w->o->bytes, i;
	size_t len;
	ssize_t n;
	char text[PL_DETAIL_LEN];

	while (c->body_sent < total) {
		len = total - c->body_sent < sizeof(w->out) ? total - c->body_sent : sizeof(w->out);
		for (i = 0; i < len; i++)
			w->out[i] = echo_byte(c->echo_seed, c->body_sent + i);
		n = io_write(c, w->out, len);
		if (n == IO_WAIT)
			break;
		if (n < 0) {
			conn_fail(c, w->why_kind, w->why);
			return false;
		}
		c->body_sent += (uint64_t)n;
		w->res->total.tx_bytes += (uint64_t)n;
		c->deadline = now_ns() + timeout_ns(w);
	}
	while (c->body_recv < total) {
		n = io_read(c, w->in, sizeof(w->in));
		if (n == IO_WAIT)
			return false;
		if (n < 0) {
			conn_fail(c, w->why_kind, w->why);
			return false;
		}
		if (n == 0) {
			snprintf(text, sizeof(text), "connection closed after %llu of %llu echoed bytes",
				 (unsigned long long)c->body_recv, (unsigned long long)total);
			conn_fail(c, PL_ERR_short_read, text);
			return false;
		}
		if (c->body_recv + (uint64_t)n > c->body_sent) {
			conn_fail(c, PL_ERR_echo_mismatch, "more bytes came back than were sent");
			return false;
		}
		for (i = 0; i < (uint64_t)n; i++) {
			if (w->in[i] != echo_byte(c->echo_seed, c->body_recv + i)) {
				snprintf(text, sizeof(text), "byte %llu differs",
					 (unsigned long long)(c->body_recv + i));
				conn_fail(c, PL_ERR_echo_mismatch, text);
				return false;
			}
		}
		c->body_recv += (uint64_t)n;
		w->res->total.rx_bytes += (uint64_t)n;
		c->deadline = now_ns() + timeout_ns(w);
	}
	return attempt_done(c, true);
}

/* Hold mode: a held connection only waits. Bytes from the server or its
 * close are errors (it was told nothing that would end it). */
static bool step_held(struct conn *c)
{
	struct worker *w = c->w;
	ssize_t n = io_read(c, w->in, sizeof(w->in));

	if (n == IO_WAIT)
		return false;
	w->held--;
	w->res->total.held--;
	atomic_fetch_sub(&w->run->held, 1);
	if (n > 0)
		conn_fail(c, PL_ERR_http_malformed, "bytes from the server on a held connection");
	else
		conn_fail(c, n == 0 ? PL_ERR_short_read : w->why_kind,
			  n == 0 ? "the server closed a held connection" : w->why);
	return false;
}

/* Runs c's state machine until it waits for the socket or closes. */
static void conn_drive(struct conn *c, uint32_t events)
{
	bool more = true;

	while (more) {
		switch (c->state) {
		case CS_CONNECTING:
			more = step_connect(c, events);
			break;
		case CS_HANDSHAKE:
			more = step_handshake(c);
			break;
		case CS_CONFIRM:
			more = step_confirm(c);
			break;
		case CS_EXCHANGE:
			more = step_exchange(c);
			break;
		case CS_ECHO:
			more = step_echo(c);
			break;
		case CS_HELD:
			more = step_held(c);
			break;
		case CS_IDLE:
			more = false;
			break;
		}
	}
}

static void check_timeouts(struct worker *w, uint64_t now)
{
	static const enum pl_error kind[] = {
		[CS_CONNECTING] = PL_ERR_connect_timeout,
		[CS_HANDSHAKE] = PL_ERR_handshake_timeout,
		[CS_CONFIRM] = PL_ERR_handshake_timeout,
		[CS_EXCHANGE] = PL_ERR_response_timeout,
		[CS_ECHO] = PL_ERR_response_timeout,
		[CS_HELD] = PL_ERR_response_timeout, /* never: no deadline */
	};
	char text[PL_DETAIL_LEN];
	unsigned i;

	snprintf(text, sizeof(text), "no progress for %u ms", w->o->timeout_ms);
	for (i = 0; i < w->n_conns; i++) {
		if (w->conns[i].state != CS_IDLE && now >= w->conns[i].deadline)
			conn_fail(&w->conns[i], kind[w->conns[i].state], text);
	}
}

/* Whether a queued slot may connect now (hold mode ramps up). */
static bool may_start(const struct worker *w)
{
	return w->n_starts && (w->o->mode != PL_HOLD || w->open - w->held < HOLD_RAMP);
}

/* Connects the slots queued now. Those that fail at once are queued again
 * behind them and retried after the next epoll_wait, not in a loop here. */
static void start_pending(struct worker *w)
{
	unsigned n = w->n_starts, slot;

	while (n-- && may_start(w)) {
		slot = w->starts[w->start_head];
		w->start_head = (w->start_head + 1) % w->n_conns;
		w->n_starts--;
		conn_start(w, &w->conns[slot]);
	}
}

/* The window is over: freeze its counters, start nothing new. */
static void end_window(struct worker *w)
{
	w->res->window = w->res->total;
	w->res->reached_window_end = true;
	w->stopping = true;
	w->n_starts = 0;
	for (unsigned i = 0; i < w->n_conns; i++)
		if (w->conns[i].state == CS_HELD)
			conn_close(&w->conns[i], true);
	w->held = 0;
}

static void run(struct worker *w)
{
	struct pl_run *run = w->run;
	struct epoll_event evs[EVENTS];
	uint64_t now, next_tick = 0, wake;
	int n, i, timeout_ms;
	unsigned s;

	for (s = 0; s < w->n_conns; s++)
		queue_start(w, &w->conns[s]);
	for (;;) {
		now = now_ns();
		if (!w->stopping && (now >= run->end_ns || pl_stop_requested))
			end_window(w);
		if (w->stopping && (w->open == 0 || now >= run->hard_ns))
			break;
		start_pending(w);
		if (w->open == 0 && w->n_starts == 0)
			break; /* --count is spent and everything has ended */
		if (now >= next_tick) {
			check_timeouts(w, now);
			next_tick = now + TICK_NS;
		}
		wake = next_tick < run->end_ns || w->stopping ? next_tick : run->end_ns;
		if (w->stopping && run->hard_ns < wake)
			wake = run->hard_ns;
		timeout_ms = may_start(w) ? 0 : (int)((wake - now + 999999u) / 1000000u);
		n = epoll_wait(w->ep, evs, EVENTS, timeout_ms);
		for (i = 0; i < n; i++)
			conn_drive(evs[i].data.ptr, evs[i].events);
	}
	/* The hard stop: what is still open did not finish in time. */
	for (s = 0; s < w->n_conns; s++) {
		if (w->conns[s].state != CS_IDLE) {
			w->res->total.unfinished++;
			conn_close(&w->conns[s], false);
		}
	}
	if (!w->stopping)
		w->res->window = w->res->total; /* all of it happened inside the window */
	w->res->end_ns = now_ns();
}

void *pl_worker_main(void *arg)
{
	struct pl_thread_arg *a = arg;
	struct worker *w = calloc(1, sizeof(*w));
	unsigned i;

	if (w) {
		w->run = a->run;
		w->o = a->run->o;
		w->ctx = a->ctx;
		w->res = a->res;
		w->n_conns = a->conns;
		w->conns = calloc(a->conns, sizeof(*w->conns));
		w->starts = calloc(a->conns, sizeof(*w->starts));
		w->ep = epoll_create1(EPOLL_CLOEXEC);
		memset(w->out, 'x', sizeof(w->out));
	}
	if (!w || !w->conns || !w->starts || w->ep < 0) {
		fprintf(stderr, "pc_load: thread %u: %s\n", a->id,
			w && w->ep < 0 ? strerror(errno) : "out of memory");
		a->failed = 1;
	}
	/* Everyone meets here, failed or not, so the main thread is never
	 * left waiting; it then refuses to report a failed run. */
	pthread_barrier_wait(a->run->start);
	if (!a->failed)
		run(w);
	if (w) {
		for (i = 0; w->conns && i < w->n_conns; i++)
			SSL_SESSION_free(w->conns[i].session);
		if (w->ep >= 0)
			close(w->ep);
		free(w->conns);
		free(w->starts);
		free(w);
	}
	SSL_CTX_free(a->ctx);
	return NULL;
}
