/* SPDX-License-Identifier: MIT */
/*
 * The management thread's event loop: one poll() over the file
 * descriptors of every source (the control socket, and whatever else the
 * management thread serves), then each source's run() with its own
 * descriptors' results, whether or not any became ready, so that a
 * source can also act on its own deadlines (next_ms). The thread is a
 * liburcu QSBR reader, offline while it waits.
 */
#include <poll.h>

#include <urcu-qsbr.h>

#include "pc_mgmt.h"

#define LOOP_MAX_SRC 8
#define LOOP_MAX_FDS 512

static const struct pc_loop_src *srcs[LOOP_MAX_SRC];

int pc_loop_add(const struct pc_loop_src *s)
{
	for (int i = 0; i < LOOP_MAX_SRC; i++)
		if (srcs[i] == NULL) {
			srcs[i] = s;
			return 0;
		}
	return -1;
}

void pc_loop_del(const struct pc_loop_src *s)
{
	for (int i = 0; i < LOOP_MAX_SRC; i++)
		if (srcs[i] == s)
			srcs[i] = NULL;
}

void pc_loop_poll(int timeout_ms)
{
	struct pollfd p[LOOP_MAX_FDS];
	unsigned int first[LOOP_MAX_SRC], count[LOOP_MAX_SRC], n = 0;

	for (int i = 0; i < LOOP_MAX_SRC; i++) {
		const struct pc_loop_src *s = srcs[i];

		first[i] = n;
		count[i] = 0;
		if (s == NULL)
			continue;
		count[i] = s->fds(p + n, LOOP_MAX_FDS - n);
		n += count[i];
		if (s->next_ms != NULL) {
			int ms = s->next_ms();

			if (ms >= 0 && ms < timeout_ms)
				timeout_ms = ms;
		}
	}
	/* Offline while waiting: grace periods do not wait for this thread. */
	rcu_thread_offline();
	if (poll(p, n, timeout_ms) < 0)
		for (unsigned int i = 0; i < n; i++)
			p[i].revents = 0;
	rcu_thread_online();
	for (int i = 0; i < LOOP_MAX_SRC; i++)
		if (srcs[i] != NULL)
			srcs[i]->run(p + first[i], count[i]);
}
