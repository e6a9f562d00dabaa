/* SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "timer.h"

void pc_wheel_init(struct pc_wheel *w, uint64_t tsc_now, uint64_t tsc_hz)
{
	for (unsigned int i = 0; i < PC_WHEEL_SLOTS; i++)
		w->slot[i] = NULL;
	w->tick = 0;
	w->tsc_per_tick = tsc_hz / 1000;
	w->tsc_base = tsc_now;
}

static void run_slot(struct pc_wheel *w, uint64_t tick)
{
	struct pc_timer **pp = &w->slot[tick & (PC_WHEEL_SLOTS - 1)];

	while (*pp != NULL) {
		struct pc_timer *t = *pp;

		if (t->expires > tick) {
			pp = &t->next; /* a later turn of the wheel */
			continue;
		}
		pc_timer_cancel(t); /* *pp now points at the next one */
		t->fn(t);
	}
}

void pc_wheel_advance(struct pc_wheel *w, uint64_t tsc_now)
{
	uint64_t target = (tsc_now - w->tsc_base) / w->tsc_per_tick;

	/* After a long stall, one pass over every slot fires everything due:
	 * no need to visit a slot twice. */
	if (target - w->tick > PC_WHEEL_SLOTS) {
		w->tick = target - PC_WHEEL_SLOTS;
	}
	while (w->tick < target) {
		w->tick++;
		run_slot(w, w->tick);
	}
}
