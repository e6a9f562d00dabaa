/* SPDX-License-Identifier: MIT */
/* The event log: what the management thread did or refused (commits, CLI
 * changes with their peer, reloads, refused files), one line per event,
 * apart from the access log; its destination (`event-log`); and the counts
 * of reloads. pc_event() is the log's only writer. Main lcore. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pc_mgmt.h"

#define EVENT_LINE_MAX 4096

struct pc_reload_stats pc_reloads;

/* A file (fd >= 0, with its path for reopen), or a standard stream. */
static int ev_fd = -1;
static FILE *ev_std;                  /* NULL: stdout */
static char ev_path[PC_TLS_PATH_MAX];
static bool ev_started;

void pc_event(const char *fmt, ...)
{
	char line[EVENT_LINE_MAX];
	size_t at = 0;
	va_list ap;

	if (ev_fd >= 0) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		at = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		at += (size_t)snprintf(line + at, sizeof(line) - at, ".%03ldZ ",
				       ts.tv_nsec / 1000000);
	}
	va_start(ap, fmt);
	vsnprintf(line + at, sizeof(line) - at - 1, fmt, ap);
	va_end(ap);
	/* One event, one line, whatever the message holds. */
	for (char *p = line + at; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	at = strlen(line);
	line[at++] = '\n';
	if (ev_fd >= 0) {
		/* One write(2) on an O_APPEND file: the line lands whole at the
		 * end, even after a copytruncate. A failed write has nowhere to
		 * be reported but the standard error. */
		if (write(ev_fd, line, at) != (ssize_t)at)
			fprintf(stderr, "portcullis: event log %s: %s\n", ev_path, strerror(errno));
		return;
	}
	FILE *f = ev_std != NULL ? ev_std : stdout;

	fputs("portcullis: ", f);
	fwrite(line, 1, at, f);
	fflush(f);
}

static int open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

	return fd >= 0 ? fd : -errno;
}

int pc_event_open(const char *where)
{
	int fd = -1;

	if (strcmp(where, "stdout") != 0 && strcmp(where, "stderr") != 0) {
		if (strlen(where) >= sizeof(ev_path))
			return -ENAMETOOLONG;
		fd = open_file(where);
		if (fd < 0)
			return fd;
		snprintf(ev_path, sizeof(ev_path), "%s", where);
	}
	if (ev_fd >= 0)
		close(ev_fd);
	ev_fd = fd;
	ev_std = strcmp(where, "stderr") == 0 ? stderr : stdout;
	ev_started = true;
	return 0;
}

int pc_event_reopen(void)
{
	int fd;

	if (ev_fd < 0)
		return 0;
	fd = open_file(ev_path);
	if (fd < 0)
		return fd;
	close(ev_fd);
	ev_fd = fd;
	return 0;
}

bool pc_event_started(void)
{
	return ev_started;
}
