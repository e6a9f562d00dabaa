/* SPDX-License-Identifier: MIT */
/*
 * The service manager's readiness protocol (sd_notify(3)), without
 * libsystemd: when systemd starts portcullis with Type=notify it sets
 * NOTIFY_SOCKET to a Unix datagram socket, and one datagram of
 * "KEY=VALUE" lines tells it the state (READY=1 once the port is up and the
 * control socket answers, so that `systemctl start` returns only then and
 * a bad config fails the start; STOPPING=1 on the way out). Without
 * NOTIFY_SOCKET (run by hand, by tests) this does nothing.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "pc_mgmt.h"

int pc_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	size_t len;

	if (path == NULL || path[0] == '\0')
		return 0;
	len = strlen(path);
	/* A path, or '@' for Linux's abstract namespace (a leading NUL). */
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(a.sun_path))
		return -1;
	memcpy(a.sun_path, path, len);
	if (path[0] == '@')
		a.sun_path[0] = '\0';

	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	/* Non-blocking: a manager that does not read must never stall us. */
	ssize_t n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&a,
			   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));

	close(fd);
	return n == (ssize_t)strlen(state) ? 0 : -1;
}
