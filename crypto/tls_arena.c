/* SPDX-License-Identifier: MIT */
/* The buddy allocator behind wolfSSL's per-worker memory: see tls_arena.h. */
#include <stdbool.h>
#include <string.h>

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

/* The free-block bitmap's word and bit for the unit at p. */
static uint64_t *map_word(const struct pc_arena *a, const void *p, uint64_t *bit)
{
	size_t u = (size_t)((const uint8_t *)p - a->base) >> PC_ARENA_MIN_SHIFT;

	*bit = (uint64_t)1 << (u % 64);
	return &a->free_map[u / 64];
}

static bool is_free(const struct pc_arena *a, const void *p)
{
	uint64_t bit;

	return (*map_word(a, p, &bit) & bit) != 0;
}

void pc_arena_init(struct pc_arena *a, void *mem, size_t len, uint64_t *map)
{
	uintptr_t start = ((uintptr_t)mem + PC_ARENA_MAX_BLOCK - 1) & ~(PC_ARENA_MAX_BLOCK - 1);
	uintptr_t stop = ((uintptr_t)mem + len) & ~(PC_ARENA_MAX_BLOCK - 1);

	*a = (struct pc_arena){0};
	a->base = (uint8_t *)start;
	a->next = a->base;
	a->end = stop > start ? (uint8_t *)stop : a->base;
	a->free_map = map;
	memset(map, 0, pc_arena_map_bytes(len));
}

/* A free block of class c onto its list: at the front, or the back. */
static void push_at(struct pc_arena *a, struct pc_arena_free *f, unsigned int c, bool back)
{
	uint64_t bit;

	*map_word(a, f, &bit) |= bit;
	f->hdr.cls = (uint8_t)c;
	if (back) {
		f->next = NULL;
		f->prev = a->last[c];
		if (f->prev != NULL)
			f->prev->next = f;
		else
			a->free[c] = f;
		a->last[c] = f;
		return;
	}
	f->prev = NULL;
	f->next = a->free[c];
	if (f->next != NULL)
		f->next->prev = f;
	else
		a->last[c] = f;
	a->free[c] = f;
}

static void push(struct pc_arena *a, struct pc_arena_free *f, unsigned int c)
{
	push_at(a, f, c, false);
}

static void unlink_free(struct pc_arena *a, struct pc_arena_free *f)
{
	uint64_t bit;

	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		a->free[f->hdr.cls] = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	else
		a->last[f->hdr.cls] = f->prev;
	*map_word(a, f, &bit) &= ~bit;
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
	return f;
}

/* A block of class c back to the free lists, merged with its buddy (the
 * other half of the block both came from) while that is free and whole. */
static void release(struct pc_arena *a, struct pc_arena_free *f, unsigned int c)
{
	while (c + 1 < PC_ARENA_CLASSES) {
		size_t off = (size_t)((uint8_t *)f - a->base);
		struct pc_arena_free *b = (struct pc_arena_free *)(a->base + (off ^ class_size(c)));

		if (!is_free(a, b) || b->hdr.cls != c)
			break;
		unlink_free(a, b);
		if (b < f)
			f = b;
		c++;
	}
	push(a, f, c);
}

struct pc_arena_hdr *pc_arena_alloc(struct pc_arena *a, size_t bytes)
{
	size_t need = pc_arena_units_bytes(bytes == 0 ? 1 : bytes);
	unsigned int c = 0;
	struct pc_arena_free *f;

	if (bytes > PC_ARENA_MAX_BLOCK) {
		a->failures++;
		return NULL;
	}
	while (class_size(c) < need)
		c++;
	if ((f = take(a, c)) == NULL) {
		a->failures++;
		return NULL;
	}
	/* The rest of the block, as the largest aligned blocks that tile it
	 * (each one's buddy lies in what is kept: no merging), to be taken
	 * last. */
	for (size_t off = need; off < class_size(c); off += off & -off)
		push_at(a, (struct pc_arena_free *)((uint8_t *)f + off),
			(unsigned int)__builtin_ctzll(off) - PC_ARENA_MIN_SHIFT, true);
	f->hdr.units = (uint32_t)(need >> PC_ARENA_MIN_SHIFT);
	a->in_use += need;
	if (a->in_use > a->peak)
		a->peak = a->in_use;
	a->allocs++;
	return &f->hdr;
}

void pc_arena_free(struct pc_arena *a, struct pc_arena_hdr *h)
{
	size_t len = pc_arena_block_size(h);
	uint8_t *p = (uint8_t *)h;

	a->in_use -= len;
	/* The blocks that tile its units, largest first: the allocation
	 * starts on a boundary of its block, so each is aligned to its size. */
	for (size_t off = 0; off < len;) {
		unsigned int c = 63u - (unsigned int)__builtin_clzll(len - off) - PC_ARENA_MIN_SHIFT;

		release(a, (struct pc_arena_free *)(p + off), c);
		off += class_size(c);
	}
}
