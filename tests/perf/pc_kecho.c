/* SPDX-License-Identifier: MIT */
/*
 * pc_kecho: the Linux-kernel reference for the TCP benchmarks. A
 * single-threaded epoll echo server (one core, like one portcullis worker)
 * with the same semantics as portcullis's echo app: everything read is
 * written back, reading pauses while a connection's write backlog is full,
 * and the write side is shut once the peer's FIN has been echoed.
 *
 *   pc_kecho --port P [--addr A.B.C.D]
 *
 * Prints "pc_kecho: ready" once listening; SIGTERM/SIGINT stop it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4 */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE 65536
#define MAX_EVENTS 256

struct conn {
	int fd;
	size_t off;   /* first byte of buf not yet written back */
	size_t len;   /* bytes in buf */
	int peer_fin; /* read returned 0 */
	unsigned char buf[BUF_SIZE];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void conn_close(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

/* Move data until the socket would block; returns -1 if the connection
 * is done (closed here). */
static int conn_pump(int ep, struct conn *c)
{
	for (;;) {
		while (c->off < c->len) {
			ssize_t w = write(c->fd, c->buf + c->off, c->len - c->off);

			if (w < 0) {
				if (errno == EAGAIN)
					goto wait_out;
				conn_close(ep, c);
				return -1;
			}
			c->off += (size_t)w;
		}
		c->off = c->len = 0;
		if (c->peer_fin) {
			shutdown(c->fd, SHUT_WR);
			conn_close(ep, c);
			return -1;
		}
		ssize_t r = read(c->fd, c->buf, sizeof(c->buf));

		if (r == 0) {
			c->peer_fin = 1;
			continue;
		}
		if (r < 0) {
			if (errno == EAGAIN)
				break;
			conn_close(ep, c);
			return -1;
		}
		c->len = (size_t)r;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};

	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	return 0;
wait_out:;
	struct epoll_event evo = {.events = EPOLLOUT, .data.ptr = c};

	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &evo);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
	int port = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--port") == 0) {
			port = atoi(argv[i + 1]);
		} else if (strcmp(argv[i], "--addr") == 0) {
			if (inet_pton(AF_INET, argv[i + 1], &sa.sin_addr) != 1) {
				fprintf(stderr, "pc_kecho: bad address %s\n", argv[i + 1]);
				return 1;
			}
		} else {
			break;
		}
	}
	if (port <= 0 || port > 65535) {
		fprintf(stderr, "usage: pc_kecho --port P [--addr A.B.C.D]\n");
		return 1;
	}
	sa.sin_port = htons((uint16_t)port);
	int one = 1, ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(ls, 4096) != 0) {
		perror("pc_kecho: bind/listen");
		return 1;
	}
	int ep = epoll_create1(0);
	struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};

	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &lev);
	struct sigaction act = {.sa_handler = on_signal};

	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	printf("pc_kecho: ready\n");
	fflush(stdout);

	struct epoll_event evs[MAX_EVENTS];

	while (!stop) {
		int n = epoll_wait(ep, evs, MAX_EVENTS, 200);

		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL) {
				int fd;

				while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					struct conn *c = calloc(1, sizeof(*c));

					if (c == NULL) {
						close(fd);
						continue;
					}
					c->fd = fd;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};

					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			conn_pump(ep, evs[i].data.ptr);
		}
	}
	close(ep);
	close(ls);
	return 0;
}
