/* SPDX-License-Identifier: MIT */
/*
 * The metrics' HTTP endpoint (`metrics listen ADDR:PORT`): a kernel TCP
 * socket served by the management thread's loop (loop.c), answering
 * `GET /metrics` (and HEAD) with pc_metrics_render()'s text, then closing.
 *
 * Nothing a client does can stall the loop: sockets are non-blocking; a
 * request head is at most PC_METRICS_REQ_MAX bytes; each client has a
 * deadline (its request within MH_REQUEST_MS of connecting, the response
 * read within MH_RESPONSE_MS) and is dropped when it passes; at most
 * MH_MAX_CLIENTS at once, and when they are all taken a new connection
 * takes the place of the oldest one: a scraper is served within
 * milliseconds, so clients that hold their slot (silent, or not reading
 * their response) are the ones pushed out, and a flood of them does not
 * keep scrapers out. After the response, our side is shut down and what the
 * client still sends is read and discarded for a moment, so that a close
 * with unread bytes does not reset the response away.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"

#define MH_MAX_CLIENTS 32
#define MH_REQUEST_MS 5000
#define MH_RESPONSE_MS 10000
#define MH_LINGER_MS 1000

enum mh_state { MH_FREE, MH_READING, MH_WRITING, MH_DRAINING };

struct mh_client {
	int fd;
	enum mh_state st;
	int64_t deadline;      /* ms, CLOCK_MONOTONIC */
	int64_t since;         /* connected */
	size_t in_len;
	char in[PC_METRICS_REQ_MAX];
	char *out;
	size_t out_len, out_off;
};

static int listen_fd = -1;
static struct mh_client clients[MH_MAX_CLIENTS];

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the request parser ---- */

/* RFC 9110 5.6.2 token characters. */
static bool tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A request line "METHOD SP TARGET SP HTTP/1.x": 0 when well formed (the
 * status it calls for in *status), -1 when not. */
static int request_line(const char *l, size_t n, int *status, bool *head)
{
	size_t m = 0, t, tl;

	while (m < n && tchar(l[m]))
		m++;
	if (m == 0 || m > 16 || m >= n || l[m] != ' ')
		return -1;
	t = m + 1;
	for (tl = 0; t + tl < n && l[t + tl] != ' '; tl++)
		if ((unsigned char)l[t + tl] <= 0x20 || l[t + tl] == 0x7f)
			return -1;
	if (tl == 0 || t + tl >= n)
		return -1;
	const char *v = l + t + tl + 1;
	size_t vl = n - (t + tl + 1);

	if (vl != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' || v[5] > '9' ||
	    v[7] < '0' || v[7] > '9')
		return -1;
	*head = m == 4 && memcmp(l, "HEAD", 4) == 0;
	if (v[5] != '1')
		*status = 505;
	else if (!(*head || (m == 3 && memcmp(l, "GET", 3) == 0)))
		*status = 405;
	else if (l[t] == '/' && tl >= 8 && memcmp(l + t, "/metrics", 8) == 0 &&
		 (tl == 8 || l[t + 8] == '?'))
		*status = 200;
	else
		*status = 404;
	return 0;
}

/* A header field "name: value": a token, a colon, then visible
 * characters, spaces and tabs. */
static bool header_line(const char *l, size_t n)
{
	size_t i = 0;

	while (i < n && tchar(l[i]))
		i++;
	if (i == 0 || i == n || l[i] != ':')
		return false;
	for (i++; i < n; i++)
		if (((unsigned char)l[i] < 0x20 && l[i] != '\t') || l[i] == 0x7f)
			return false;
	return true;
}

int pc_metrics_http_parse(const char *buf, size_t len, bool *head)
{
	size_t pos = 0;
	int status = 0;

	*head = false;
	/* Each complete line is judged as soon as it is there: garbage gets
	 * its 400 without waiting for the rest. Lines end with CRLF or LF. */
	for (unsigned int line = 0;; line++) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n;

		if (nl == NULL)
			return len >= PC_METRICS_REQ_MAX ? 431 : 0;
		n = (size_t)(nl - (buf + pos));
		if (pos + n + 1 > PC_METRICS_REQ_MAX)
			return 431;
		if (n > 0 && buf[pos + n - 1] == '\r')
			n--;
		if (line == 0) {
			if (request_line(buf + pos, n, &status, head) != 0)
				return 400;
		} else if (n == 0) {
			return status;
		} else if (!header_line(buf + pos, n)) {
			return 400;
		}
		pos = (size_t)(nl - buf) + 1;
	}
}

/* ---- the socket ---- */

static void drop(struct mh_client *c)
{
	close(c->fd);
	free(c->out);
	c->out = NULL;
	c->fd = -1;
	c->st = MH_FREE;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	case 505: return "HTTP Version Not Supported";
	default: return "Bad Request";
	}
}

/* The whole response into c->out: the metrics, or a one-line error. */
static void respond(struct mh_client *c, int status, bool head)
{
	char *body = NULL, *all = NULL;
	size_t blen = 0, alen = 0;
	FILE *m = open_memstream(&body, &blen);
	FILE *a;

	if (m == NULL) {
		drop(c);
		return;
	}
	if (status == 200)
		pc_metrics_render(m);
	else
		fprintf(m, "%d %s: this endpoint serves GET /metrics\n", status, reason(status));
	fclose(m);
	a = open_memstream(&all, &alen);
	if (a == NULL) {
		free(body);
		drop(c);
		return;
	}
	fprintf(a, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
		   "Connection: close\r\n\r\n",
		status, reason(status),
		status == 200 ? PC_METRICS_CONTENT_TYPE : "text/plain; charset=utf-8", blen,
		status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (!head)
		fwrite(body, 1, blen, a);
	fclose(a);
	free(body);
	if (all == NULL) {
		drop(c);
		return;
	}
	c->out = all;
	c->out_len = alen;
	c->out_off = 0;
	c->st = MH_WRITING;
	c->deadline = now_ms() + MH_RESPONSE_MS;
}

static void accept_all(void)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct mh_client *c = NULL;

		if (fd < 0)
			return;
		for (int i = 0; i < MH_MAX_CLIENTS && (c == NULL || c->st != MH_FREE); i++)
			if (c == NULL || clients[i].st == MH_FREE || clients[i].since < c->since)
				c = &clients[i];
		if (c->st != MH_FREE)
			drop(c);
		c->fd = fd;
		c->st = MH_READING;
		c->since = now_ms();
		c->deadline = c->since + MH_REQUEST_MS;
		c->in_len = 0;
	}
}

static void serve(struct mh_client *c, short revents)
{
	if (c->st == MH_READING && revents & (POLLIN | POLLHUP | POLLERR)) {
		ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
		bool head;
		int status;

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			drop(c);
			return;
		}
		if (n > 0)
			c->in_len += (size_t)n;
		status = pc_metrics_http_parse(c->in, c->in_len, &head);
		if (status == 0)
			return;
		respond(c, status, head);
	}
	if (c->st == MH_WRITING) {
		while (c->out_off < c->out_len) {
			ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
					 MSG_NOSIGNAL | MSG_DONTWAIT);

			if (n < 0) {
				if (errno != EAGAIN && errno != EINTR)
					drop(c);
				return;
			}
			c->out_off += (size_t)n;
		}
		free(c->out);
		c->out = NULL;
		shutdown(c->fd, SHUT_WR);
		c->st = MH_DRAINING;
		c->deadline = now_ms() + MH_LINGER_MS;
		return;
	}
	if (c->st == MH_DRAINING && revents & (POLLIN | POLLHUP | POLLERR)) {
		char junk[512];
		ssize_t n = recv(c->fd, junk, sizeof(junk), 0);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			drop(c);
	}
}

static struct mh_client *polled[MH_MAX_CLIENTS + 1];

static unsigned int mh_fds(struct pollfd *p, unsigned int max)
{
	unsigned int n = 0;

	if (listen_fd >= 0 && n < max) {
		p[n] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
		polled[n++] = NULL;
	}
	for (int i = 0; i < MH_MAX_CLIENTS && n < max; i++) {
		struct mh_client *c = &clients[i];

		if (c->st == MH_FREE)
			continue;
		p[n] = (struct pollfd){.fd = c->fd, .events = c->st == MH_WRITING ? POLLOUT : POLLIN};
		polled[n++] = c;
	}
	return n;
}

static void mh_run(const struct pollfd *p, unsigned int n)
{
	int64_t now;

	for (unsigned int i = 0; i < n; i++) {
		if (p[i].revents == 0)
			continue;
		if (polled[i] == NULL)
			accept_all();
		else if (polled[i]->st != MH_FREE && polled[i]->fd == p[i].fd)
			serve(polled[i], p[i].revents);
	}
	now = now_ms();
	for (int i = 0; i < MH_MAX_CLIENTS; i++)
		if (clients[i].st != MH_FREE && clients[i].deadline <= now)
			drop(&clients[i]);
}

static int mh_next_ms(void)
{
	int64_t now = now_ms(), next = -1;

	for (int i = 0; i < MH_MAX_CLIENTS; i++)
		if (clients[i].st != MH_FREE) {
			int64_t left = clients[i].deadline > now ? clients[i].deadline - now : 0;

			if (next < 0 || left < next)
				next = left;
		}
	return (int)next;
}

static const struct pc_loop_src mh_src = {.fds = mh_fds, .run = mh_run, .next_ms = mh_next_ms};

int pc_metrics_http_open(const struct pc_metrics_cfg *cfg)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(cfg->port),
				.sin_addr.s_addr = htonl(cfg->addr)};
	int one = 1, fd;

	for (int i = 0; i < MH_MAX_CLIENTS; i++)
		clients[i] = (struct mh_client){.fd = -1};
	if (cfg->port == 0)
		return 0;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 128) != 0) {
		fprintf(stderr, "portcullis: metrics listen %u.%u.%u.%u:%u: %s\n", cfg->addr >> 24,
			(cfg->addr >> 16) & 0xff, (cfg->addr >> 8) & 0xff, cfg->addr & 0xff,
			cfg->port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	listen_fd = fd;
	printf("portcullis: metrics on http://%u.%u.%u.%u:%u/metrics\n", cfg->addr >> 24,
	       (cfg->addr >> 16) & 0xff, (cfg->addr >> 8) & 0xff, cfg->addr & 0xff, cfg->port);
	return pc_loop_add(&mh_src);
}

void pc_metrics_http_close(void)
{
	pc_loop_del(&mh_src);
	for (int i = 0; i < MH_MAX_CLIENTS; i++)
		if (clients[i].st != MH_FREE)
			drop(&clients[i]);
	if (listen_fd >= 0)
		close(listen_fd);
	listen_fd = -1;
}

/* ---- the commands ---- */

static int cmd_metrics_listen(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	char addr[32];
	const char *colon;
	uint32_t port;

	if (pc_arg_count(ctx, argc, 1))
		return -1;
	colon = strrchr(argv[0], ':');
	if (colon == NULL || (size_t)(colon - argv[0]) >= sizeof(addr))
		return pc_cmd_fail(ctx, "'%s' is not ADDR:PORT", argv[0]);
	memcpy(addr, argv[0], (size_t)(colon - argv[0]));
	addr[colon - argv[0]] = '\0';
	if (pc_arg_ipv4(ctx, "address", addr, &ctx->metrics.addr) ||
	    pc_arg_u32(ctx, "port", colon + 1, 1, 65535, &port))
		return -1;
	ctx->metrics.port = (uint16_t)port;
	return 0;
}

static int cmd_metrics_off(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	if (pc_arg_count(ctx, argc, 0))
		return -1;
	ctx->metrics = (struct pc_metrics_cfg){0};
	return 0;
}

#define MH_FIXED "the endpoint's socket is opened at start"

static const struct pc_cmd metrics_cmds[] = {
	{"metrics listen", "metrics listen A.B.C.D:PORT", cmd_metrics_listen, 0, MH_FIXED},
	{"metrics off", "metrics off", cmd_metrics_off, 0, MH_FIXED},
};

const struct pc_cmd_table pc_cmds_metrics = {metrics_cmds,
					     sizeof(metrics_cmds) / sizeof(metrics_cmds[0])};
