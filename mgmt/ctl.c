/* SPDX-License-Identifier: MIT */
/*
 * The control socket: a Unix stream socket served by the management
 * thread's loop (loop.c; non-blocking). Each client is a session
 * (session.c). A client sends command lines; each gets a reply: "OK" or
 * "ERR reason", the body lines (never empty), then one empty line. Lines are bounded
 * (CTL_LINE_MAX), so are clients (CTL_MAX_CLIENTS); a client that does not
 * read its replies only stops its own session (its next line is read once
 * its reply is gone), never the loop or other clients.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "pc_mgmt.h"

#define CTL_MAX_CLIENTS 64
#define CTL_LINE_MAX 4096

struct client {
	int fd;
	struct pc_session *s;
	size_t in_len;
	char in[CTL_LINE_MAX];
	char *out;             /* reply bytes not yet written */
	size_t out_len, out_off;
	bool closing;          /* close once out is written */
};

static int listen_fd = -1;
static struct client clients[CTL_MAX_CLIENTS];
static struct pc_cmd_ctx *base;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static unsigned int ctl_fds(struct pollfd *p, unsigned int max);
static void ctl_run(const struct pollfd *p, unsigned int n);
static const struct pc_loop_src ctl_src = {.fds = ctl_fds, .run = ctl_run};

int pc_ctl_open(struct pc_cmd_ctx *ctx)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	base = ctx;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		clients[i].fd = -1;
	if (ctx->ctl.path[0] == '\0')
		return 0;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", ctx->ctl.path);
	/* A socket left by an instance that died is replaced; a live one, or
	 * anything else, is kept. */
	if (lstat(a.sun_path, &st) == 0) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool live = probe >= 0 && S_ISSOCK(st.st_mode) &&
			    connect(probe, (struct sockaddr *)&a, sizeof(a)) == 0;

		if (probe >= 0)
			close(probe);
		if (!S_ISSOCK(st.st_mode) || live) {
			fprintf(stderr, "portcullis: control socket %s: %s\n", a.sun_path,
				live ? "another process serves it" : "exists and is not a socket");
			return -1;
		}
		unlink(a.sun_path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    chmod(a.sun_path, ctx->ctl.mode) != 0 || listen(fd, 64) != 0) {
		fprintf(stderr, "portcullis: control socket %s: %s\n", a.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (ctx->ctl.group[0] != '\0') {
		struct group *g = getgrnam(ctx->ctl.group);

		if (g == NULL || chown(a.sun_path, (uid_t)-1, g->gr_gid) != 0) {
			fprintf(stderr, "portcullis: control socket %s: group %s: %s\n", a.sun_path,
				ctx->ctl.group, g == NULL ? "no such group" : strerror(errno));
			close(fd);
			unlink(a.sun_path);
			return -1;
		}
	}
	snprintf(sock_path, sizeof(sock_path), "%s", a.sun_path);
	listen_fd = fd;
	printf("portcullis: control socket %s (mode %o)\n", sock_path, ctx->ctl.mode);
	return pc_loop_add(&ctl_src);
}

static void drop(struct client *c)
{
	close(c->fd);
	pc_session_free(c->s);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void accept_all(void)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ucred cred = {0};
		socklen_t len = sizeof(cred);
		struct client *c = NULL;

		if (fd < 0)
			return;
		for (int i = 0; i < CTL_MAX_CLIENTS && c == NULL; i++)
			if (clients[i].fd < 0)
				c = &clients[i];
		getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
		if (c == NULL) {
			static const char full[] = "ERR too many clients\n\n";

			if (send(fd, full, sizeof(full) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* nothing more to do for it */
			}
			close(fd);
			continue;
		}
		c->fd = fd;
		/* The process's own user (root, or who started it) may change
		 * things; others the socket's mode lets in may only look. */
		c->s = pc_session_new(cred.uid, cred.pid, cred.uid == 0 || cred.uid == geteuid());
		if (c->s == NULL)
			drop(c);
	}
}

/* Append the reply to line: status, body lines (empty ones left out,
 * the last one ended), the empty line. */
static void reply(struct client *c, int rc, const char *err, const char *body, size_t len)
{
	size_t cap = c->out_len - c->out_off + len + strlen(err) + 16;
	char *buf = malloc(cap), *p;

	if (buf == NULL) {
		c->closing = true;
		return;
	}
	if (c->out_len > c->out_off)
		memcpy(buf, c->out + c->out_off, c->out_len - c->out_off);
	p = buf + (c->out_len - c->out_off);
	if (rc == 0) {
		p += sprintf(p, "OK\n");
	} else {
		p += sprintf(p, "ERR ");
		for (const char *e = err; *e != '\0'; e++)
			*p++ = *e == '\n' ? ' ' : *e;
		*p++ = '\n';
	}
	for (size_t i = 0; i < len;) {
		size_t n = strcspn(body + i, "\n");

		if (i + n > len)
			n = len - i;
		if (n != 0) {
			memcpy(p, body + i, n);
			p += n;
			*p++ = '\n';
		}
		i += n + 1;
	}
	*p++ = '\n';
	free(c->out);
	c->out = buf;
	c->out_off = 0;
	c->out_len = (size_t)(p - buf);
}

static void run_line(struct client *c, char *line, size_t len)
{
	char err[PC_CMD_ERR_LEN] = "";
	char *body = NULL;
	size_t blen = 0;
	FILE *out;
	int rc;

	if (memchr(line, '\0', len) != NULL) {
		reply(c, -1, "NUL byte in the line", "", 0);
		return;
	}
	out = open_memstream(&body, &blen);
	if (out == NULL) {
		reply(c, -1, "out of memory", "", 0);
		return;
	}
	rc = pc_session_line(c->s, base, line, out, err, sizeof(err));
	fclose(out);
	reply(c, rc, err, body != NULL ? body : "", blen);
	free(body);
}

/* Lines in, one at a time: the next is taken when the last reply is out. */
static void serve_input(struct client *c)
{
	while (c->out_len == c->out_off && !c->closing) {
		char *nl = memchr(c->in, '\n', c->in_len);
		size_t n;

		if (nl == NULL) {
			if (c->in_len == sizeof(c->in)) {
				reply(c, -1, "line longer than 4095 bytes: connection closed", "", 0);
				c->closing = true;
			}
			return;
		}
		n = (size_t)(nl - c->in);
		*nl = '\0';
		run_line(c, c->in, n);
		memmove(c->in, nl + 1, c->in_len - n - 1);
		c->in_len -= n + 1;
	}
}

static void serve(struct client *c, short revents)
{
	if (revents & POLLIN && c->out_len == c->out_off && !c->closing) {
		ssize_t n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			drop(c);
			return;
		}
		if (n > 0)
			c->in_len += (size_t)n;
	}
	serve_input(c);
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			drop(c);
			return;
		}
		c->out_off += (size_t)n;
		if (c->out_off == c->out_len) {
			free(c->out);
			c->out = NULL;
			c->out_len = c->out_off = 0;
			serve_input(c);
		}
	}
	if (c->closing)
		drop(c);
	else if (revents & (POLLHUP | POLLERR) && !(revents & POLLIN))
		drop(c);
}

/* The loop's view: the listening socket first, then each client, waiting
 * to read or, with a reply pending, to write. */
static struct client *polled[CTL_MAX_CLIENTS + 1];

static unsigned int ctl_fds(struct pollfd *p, unsigned int max)
{
	unsigned int n = 0;

	if (listen_fd >= 0 && n < max) {
		p[n] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
		polled[n++] = NULL;
	}
	for (int i = 0; i < CTL_MAX_CLIENTS && n < max; i++) {
		struct client *c = &clients[i];

		if (c->fd < 0)
			continue;
		p[n] = (struct pollfd){.fd = c->fd,
				       .events = c->out_off < c->out_len ? POLLOUT : POLLIN};
		polled[n++] = c;
	}
	return n;
}

static void ctl_run(const struct pollfd *p, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (p[i].revents == 0)
			continue;
		if (polled[i] == NULL)
			accept_all();
		else if (polled[i]->fd == p[i].fd)
			serve(polled[i], p[i].revents);
	}
}

void pc_ctl_close(void)
{
	pc_loop_del(&ctl_src);
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (clients[i].fd >= 0)
			drop(&clients[i]);
	if (listen_fd >= 0) {
		close(listen_fd);
		unlink(sock_path);
	}
	listen_fd = -1;
}
