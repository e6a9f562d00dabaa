/* SPDX-License-Identifier: MIT */
/*
 * wolfSSL's allocator. On a worker lcore, memory comes from that worker's
 * arena: a hugepage region carved into power-of-two size classes with one
 * free list per class, private to the worker (no locks, no syscalls, and
 * a hard limit: an exhausted arena fails the allocation, which fails that
 * connection's handshake and is counted, and never touches another
 * connection). Anywhere else (the management thread building contexts
 * and trust objects, the offline verifier) it is the C library's malloc.
 *
 * Every block starts with a 16-byte header naming its owner and class, so
 * free() knows where it goes. A block freed by a thread other than its
 * owner (only at shutdown, after the workers stopped) is counted and left
 * in the arena, which is released whole.
 *
 * Under AddressSanitizer the arena's blocks are malloc'ed and freed one by
 * one (the byte limit and the counters still apply), so that ASan sees
 * wolfSSL's per-connection memory on the workers too, use after free
 * included.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/memory.h>

#include "tls.h"

#if defined(__SANITIZE_ADDRESS__)
#define MEM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEM_ASAN 1
#endif
#endif
#ifndef MEM_ASAN
#define MEM_ASAN 0
#endif

#define MEM_MIN_SHIFT 6   /* 64 bytes */
#define MEM_CLASSES 13    /* ... 256 KiB */
#define MEM_NOT_ARENA 0xffff

struct mem_hdr {
	uint16_t owner;   /* lcore id, MEM_NOT_ARENA for malloc'ed blocks */
	uint8_t cls;
	uint8_t pad[5];
	uint64_t size;    /* requested size */
};

struct mem_free {
	struct mem_free *next;
};

struct mem_arena {
	uint8_t *base;
	uint8_t *next;
	uint8_t *end;
	uint64_t limit;
	struct mem_free *free[MEM_CLASSES];
	struct pc_tls_mem_stats st;
} __rte_cache_aligned;

static struct mem_arena *arenas[RTE_MAX_LCORE];

static int size_class(size_t total)
{
	for (int c = 0; c < MEM_CLASSES; c++)
		if (total <= (size_t)1 << (MEM_MIN_SHIFT + c))
			return c;
	return -1;
}

static void *arena_alloc(struct mem_arena *a, unsigned int owner, size_t size)
{
	int c = size_class(size + sizeof(struct mem_hdr));
	size_t bytes;
	struct mem_hdr *h;

	if (c < 0) {
		a->st.failures++;
		return NULL;
	}
	bytes = (size_t)1 << (MEM_MIN_SHIFT + c);
	if (!MEM_ASAN && a->free[c] != NULL) {
		h = (struct mem_hdr *)a->free[c];
		a->free[c] = a->free[c]->next;
	} else if (MEM_ASAN) {
		if (a->st.reserved + bytes > a->limit || (h = malloc(bytes)) == NULL) {
			a->st.failures++;
			return NULL;
		}
		a->st.reserved += bytes;
	} else {
		if ((size_t)(a->end - a->next) < bytes) {
			a->st.failures++;
			return NULL;
		}
		h = (struct mem_hdr *)a->next;
		a->next += bytes;
		a->st.reserved += bytes;
	}
	h->owner = (uint16_t)owner;
	h->cls = (uint8_t)c;
	h->size = size;
	a->st.in_use += bytes;
	if (a->st.in_use > a->st.peak)
		a->st.peak = a->st.in_use;
	a->st.allocs++;
	return h + 1;
}

static void *mem_malloc(size_t size)
{
	unsigned int id = rte_lcore_id();
	struct mem_hdr *h;

	if (id < RTE_MAX_LCORE && arenas[id] != NULL)
		return arena_alloc(arenas[id], id, size);
	h = malloc(sizeof(*h) + size);
	if (h == NULL)
		return NULL;
	h->owner = MEM_NOT_ARENA;
	h->size = size;
	return h + 1;
}

static void mem_free(void *p)
{
	struct mem_hdr *h;
	struct mem_arena *a;

	if (p == NULL)
		return;
	h = (struct mem_hdr *)p - 1;
	if (h->owner == MEM_NOT_ARENA) {
		free(h);
		return;
	}
	a = arenas[h->owner];
	if (h->owner != rte_lcore_id()) {
		/* Only at shutdown: the arena goes as a whole. */
		__atomic_fetch_add(&a->st.foreign_frees, 1, __ATOMIC_RELAXED);
		return;
	}
	a->st.in_use -= (size_t)1 << (MEM_MIN_SHIFT + h->cls);
	if (MEM_ASAN) {
		a->st.reserved -= (size_t)1 << (MEM_MIN_SHIFT + h->cls);
		free(h);
		return;
	}
	/* The link overwrites the header: read the class first. */
	unsigned int cls = h->cls;

	((struct mem_free *)h)->next = a->free[cls];
	a->free[cls] = (struct mem_free *)h;
}

static void *mem_realloc(void *p, size_t size)
{
	struct mem_hdr *h;
	void *n;

	if (p == NULL)
		return mem_malloc(size);
	h = (struct mem_hdr *)p - 1;
	if (h->owner != MEM_NOT_ARENA &&
	    size + sizeof(*h) <= (size_t)1 << (MEM_MIN_SHIFT + h->cls)) {
		h->size = size;
		return p;
	}
	n = mem_malloc(size);
	if (n == NULL)
		return NULL;
	memcpy(n, p, RTE_MIN(size, (size_t)h->size));
	mem_free(p);
	return n;
}

int pc_tls_route_memory(void)
{
	return wolfSSL_SetAllocators(mem_malloc, mem_free, mem_realloc) == 0 ? 0 : -1;
}

int pc_tls_mem_init(uint32_t mb_per_worker)
{
	unsigned int id;
	uint64_t bytes = (uint64_t)mb_per_worker << 20;

	RTE_LCORE_FOREACH_WORKER(id) {
		struct mem_arena *a = rte_zmalloc_socket("tls_arena_hdr", sizeof(*a),
							 RTE_CACHE_LINE_SIZE,
							 (int)rte_lcore_to_socket_id(id));

		if (a == NULL)
			goto fail;
		arenas[id] = a;
		a->limit = bytes;
		if (!MEM_ASAN) {
			a->base = rte_malloc_socket("tls_arena", bytes, 4096,
						    (int)rte_lcore_to_socket_id(id));
			if (a->base == NULL)
				goto fail;
			a->next = a->base;
			a->end = a->base + bytes;
		}
	}
	return 0;
fail:
	pc_tls_mem_fini();
	return -1;
}

void pc_tls_mem_fini(void)
{
	for (unsigned int id = 0; id < RTE_MAX_LCORE; id++) {
		struct mem_arena *a = arenas[id];

		if (a == NULL)
			continue;
		rte_free(a->base);
		rte_free(a);
		arenas[id] = NULL;
	}
}

bool pc_tls_mem_stats(unsigned int lcore, struct pc_tls_mem_stats *out)
{
	if (lcore >= RTE_MAX_LCORE || arenas[lcore] == NULL)
		return false;
	*out = arenas[lcore]->st;
	return true;
}
