/* SPDX-License-Identifier: MIT */
/*
 * wolfSSL's allocator. On a worker lcore, memory comes from that worker's
 * arena: a hugepage region managed by a buddy allocator (tls_arena.c),
 * private to the worker (no locks, no syscalls, and a hard limit: an
 * exhausted arena fails the allocation, which fails that connection's
 * handshake and is counted, and never touches another connection). Anywhere else (the management thread building contexts
 * and trust objects, the offline verifier) it is the C library's malloc.
 *
 * Every block starts with a 16-byte header (struct pc_arena_hdr) naming its
 * owner and length, so free() knows where it goes. A block freed by a thread other than its
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
#include "tls_arena.h"

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

#define MEM_NOT_ARENA 0xffff

/* A worker's arena. Under ASan only the byte limit and the counters are
 * kept (blocks come from malloc), in the arena's own fields. */
struct mem_arena {
	struct pc_arena a;
	uint8_t *mem;            /* the hugepage region */
	uint64_t *map;           /* its free-block bitmap */
	uint64_t limit;
	uint64_t foreign_frees;
} __rte_cache_aligned;

static void *arena_alloc(struct mem_arena *m, unsigned int owner, size_t size)
{
	size_t total = size + sizeof(struct pc_arena_hdr);
	struct pc_arena_hdr *h;

	if (MEM_ASAN) {
		size_t bytes = pc_arena_units_bytes(total);

		if (total > PC_ARENA_MAX_BLOCK || m->a.in_use + bytes > m->limit ||
		    (h = malloc(bytes)) == NULL) {
			m->a.failures++;
			return NULL;
		}
		h->units = (uint32_t)(bytes >> PC_ARENA_MIN_SHIFT);
		m->a.in_use += bytes;
		m->a.reserved = RTE_MAX(m->a.reserved, m->a.in_use);
		m->a.peak = RTE_MAX(m->a.peak, m->a.in_use);
		m->a.allocs++;
	} else if ((h = pc_arena_alloc(&m->a, total)) == NULL) {
		return NULL;
	}
	h->owner = (uint16_t)owner;
	h->size = size;
	return h + 1;
}

static void *mem_malloc(size_t size)
{
	unsigned int id = rte_lcore_id();
	struct pc_arena_hdr *h;

	if (id < RTE_MAX_LCORE && pc_tls_workers[id].arena != NULL)
		return arena_alloc(pc_tls_workers[id].arena, id, size);
	h = malloc(sizeof(*h) + size);
	if (h == NULL)
		return NULL;
	h->owner = MEM_NOT_ARENA;
	h->size = size;
	return h + 1;
}

static void mem_free(void *p)
{
	struct pc_arena_hdr *h;
	struct mem_arena *m;

	if (p == NULL)
		return;
	h = (struct pc_arena_hdr *)p - 1;
	if (h->owner == MEM_NOT_ARENA) {
		free(h);
		return;
	}
	m = pc_tls_workers[h->owner].arena;
	if (h->owner != rte_lcore_id()) {
		/* Only at shutdown: the arena goes as a whole. */
		__atomic_fetch_add(&m->foreign_frees, 1, __ATOMIC_RELAXED);
		return;
	}
	if (MEM_ASAN) {
		m->a.in_use -= pc_arena_block_size(h);
		free(h);
		return;
	}
	pc_arena_free(&m->a, h);
}

static void *mem_realloc(void *p, size_t size)
{
	struct pc_arena_hdr *h;
	void *n;

	if (p == NULL)
		return mem_malloc(size);
	h = (struct pc_arena_hdr *)p - 1;
	if (h->owner != MEM_NOT_ARENA && size + sizeof(*h) <= pc_arena_block_size(h)) {
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
		int socket = (int)rte_lcore_to_socket_id(id);
		struct mem_arena *m = rte_zmalloc_socket("tls_arena_hdr", sizeof(*m),
							 RTE_CACHE_LINE_SIZE, socket);

		if (m == NULL)
			goto fail;
		pc_tls_workers[id].arena = m;
		m->limit = bytes;
		if (!MEM_ASAN) {
			/* Aligned to the largest block, so none is lost to
			 * pc_arena_init's alignment. */
			m->mem = rte_malloc_socket("tls_arena", bytes, PC_ARENA_MAX_BLOCK, socket);
			m->map = rte_malloc_socket("tls_arena_map", pc_arena_map_bytes(bytes),
						   sizeof(uint64_t), socket);
			if (m->mem == NULL || m->map == NULL)
				goto fail;
			pc_arena_init(&m->a, m->mem, bytes, m->map);
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
		struct mem_arena *m = pc_tls_workers[id].arena;

		if (m == NULL)
			continue;
		rte_free(m->mem);
		rte_free(m->map);
		rte_free(m);
		pc_tls_workers[id].arena = NULL;
	}
}

bool pc_tls_mem_stats(unsigned int lcore, struct pc_tls_mem_stats *out)
{
	const struct mem_arena *m;

	if (lcore >= RTE_MAX_LCORE || pc_tls_workers[lcore].arena == NULL)
		return false;
	m = pc_tls_workers[lcore].arena;
	*out = (struct pc_tls_mem_stats){
		.reserved = m->a.reserved,
		.in_use = m->a.in_use,
		.peak = m->a.peak,
		.allocs = m->a.allocs,
		.failures = m->a.failures,
		.foreign_frees = m->foreign_frees,
	};
	return true;
}
