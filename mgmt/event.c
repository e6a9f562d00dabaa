/* SPDX-License-Identifier: MIT */
/* The event log: what the management thread did or refused (commits, CLI
 * changes with their peer, refused files), one line per event; and the
 * counts of reloads. */
#include <stdarg.h>
#include <stdio.h>

#include "pc_mgmt.h"

struct pc_reload_stats pc_reloads;

void pc_event(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("portcullis: ", stdout);
	vfprintf(stdout, fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
	fflush(stdout);
}
