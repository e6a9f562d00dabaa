/* SPDX-License-Identifier: MIT */
/* The buddy allocator behind wolfSSL's per-worker memory: see tls_arena.h. */
#include <stdbool.h>

#include "tls_arena.h"

/* A free block: the header, then its links in its class's list. */
struct pc_arena_free {
	struct pc_arena_hdr hdr;
	struct pc_arena_free *prev;
	struct pc_arena_free *next;
};

static size_t class_size(unsigned int c)
{
	return (size_t)1 << (PC_ARENA_MIN_SHIFT + c);
}

void pc_arena_init(struct pc_arena *a, void *mem, size_t len)
{
	uintptr_t start = ((uintptr_t)mem + PC_ARENA_MAX_BLOCK - 1) & ~(PC_ARENA_MAX_BLOCK - 1);
	uintptr_t stop = ((uintptr_t)mem + len) & ~(PC_ARENA_MAX_BLOCK - 1);

	*a = (struct pc_arena){0};
	a->base = (uint8_t *)start;
	a->next = a->base;
	a->end = stop > start ? (uint8_t *)stop : a->base;
}

static void push(struct pc_arena *a, struct pc_arena_free *f, unsigned int c)
{
	f->hdr.cls = (uint8_t)c;
	f->hdr.free = 1;
	f->prev = NULL;
	f->next = a->free[c];
	if (f->next != NULL)
		f->next->prev = f;
	a->free[c] = f;
}

static void unlink_free(struct pc_arena *a, struct pc_arena_free *f)
{
	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		a->free[f->hdr.cls] = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	f->hdr.free = 0;
}

/* A free block of class c, splitting a larger one or carving a new
 * largest block if need be; NULL when the arena is exhausted. */
static struct pc_arena_free *take(struct pc_arena *a, unsigned int c)
{
	unsigned int k = c;
	struct pc_arena_free *f;

	while (k < PC_ARENA_CLASSES && a->free[k] == NULL)
		k++;
	if (k == PC_ARENA_CLASSES) {
		if ((size_t)(a->end - a->next) < PC_ARENA_MAX_BLOCK)
			return NULL;
		k = PC_ARENA_CLASSES - 1;
		f = (struct pc_arena_free *)a->next;
		a->next += PC_ARENA_MAX_BLOCK;
		a->reserved += PC_ARENA_MAX_BLOCK;
	} else {
		f = a->free[k];
		unlink_free(a, f);
	}
	/* Split down to class c: the upper halves go to the free lists. */
	while (k > c) {
		k--;
		push(a, (struct pc_arena_free *)((uint8_t *)f + class_size(k)), k);
	}
	f->hdr.cls = (uint8_t)c;
	f->hdr.free = 0;
	return f;
}

struct pc_arena_hdr *pc_arena_alloc(struct pc_arena *a, size_t bytes)
{
	unsigned int c = 0;
	struct pc_arena_free *f;

	while (c < PC_ARENA_CLASSES && class_size(c) < bytes)
		c++;
	if (c == PC_ARENA_CLASSES || (f = take(a, c)) == NULL) {
		a->failures++;
		return NULL;
	}
	a->in_use += class_size(c);
	if (a->in_use > a->peak)
		a->peak = a->in_use;
	a->allocs++;
	return &f->hdr;
}

void pc_arena_free(struct pc_arena *a, struct pc_arena_hdr *h)
{
	struct pc_arena_free *f = (struct pc_arena_free *)h;
	unsigned int c = h->cls;

	a->in_use -= class_size(c);
	/* Merge with the buddy (the other half of the block both came from)
	 * while it is free and whole. */
	while (c + 1 < PC_ARENA_CLASSES) {
		size_t off = (size_t)((uint8_t *)f - a->base);
		struct pc_arena_free *b = (struct pc_arena_free *)(a->base + (off ^ class_size(c)));

		if (!b->hdr.free || b->hdr.cls != c)
			break;
		unlink_free(a, b);
		if (b < f)
			f = b;
		c++;
	}
	push(a, f, c);
}
