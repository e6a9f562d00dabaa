/* SPDX-License-Identifier: MIT */
/*
 * Per-worker timing wheel: O(1) arm and cancel, 1 ms ticks. A timer due
 * further out than one turn of the wheel stays in its slot and is skipped
 * until its turn comes (it carries its absolute expiry tick). Owner-only:
 * a wheel and its timers belong to one worker.
 */
#ifndef PC_TIMER_H
#define PC_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define PC_WHEEL_SLOTS 1024 /* power of two */

struct pc_timer;
typedef void (*pc_timer_fn)(struct pc_timer *t);

struct pc_timer {
	struct pc_timer *next;
	struct pc_timer **pprev; /* NULL when not armed */
	uint64_t expires;        /* tick */
	pc_timer_fn fn;
};

struct pc_wheel {
	uint64_t tick;           /* ticks processed so far */
	uint64_t tsc_per_tick;
	uint64_t tsc_base;       /* TSC at tick 0 */
	struct pc_timer *slot[PC_WHEEL_SLOTS];
};

void pc_wheel_init(struct pc_wheel *w, uint64_t tsc_now, uint64_t tsc_hz);
/* Whether a tick has passed since the last advance (cheap: the worker
 * asks on every loop pass). */
static inline bool pc_wheel_due(const struct pc_wheel *w, uint64_t tsc_now)
{
	return tsc_now - w->tsc_base >= (w->tick + 1) * w->tsc_per_tick;
}

/* Fire every timer due up to tsc_now. Callbacks may arm and cancel. */
void pc_wheel_advance(struct pc_wheel *w, uint64_t tsc_now);

static inline void pc_timer_init(struct pc_timer *t, pc_timer_fn fn)
{
	t->next = NULL;
	t->pprev = NULL;
	t->expires = 0;
	t->fn = fn;
}

static inline bool pc_timer_armed(const struct pc_timer *t)
{
	return t->pprev != NULL;
}

static inline void pc_timer_cancel(struct pc_timer *t)
{
	if (t->pprev == NULL)
		return;
	*t->pprev = t->next;
	if (t->next != NULL)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
}

/* Arm (or re-arm) t to fire ms milliseconds from the wheel's current tick
 * (at least one tick ahead). */
static inline void pc_timer_arm(struct pc_wheel *w, struct pc_timer *t, uint64_t ms)
{
	pc_timer_cancel(t);
	t->expires = w->tick + (ms == 0 ? 1 : ms);
	struct pc_timer **head = &w->slot[t->expires & (PC_WHEEL_SLOTS - 1)];

	t->next = *head;
	if (t->next != NULL)
		t->next->pprev = &t->next;
	*head = t;
	t->pprev = head;
}

#endif
