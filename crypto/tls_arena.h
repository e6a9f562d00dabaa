/* SPDX-License-Identifier: MIT */
/*
 * A buddy allocator over one region of memory (tls_arena.c): blocks of
 * 64 bytes to 256 KiB in power-of-two classes. A class with no free block
 * takes one from the next larger class and splits it; a freed block merges
 * with its buddy whenever that is free too, so memory released by one
 * class serves any other: a client that shapes wolfSSL's allocations
 * (large certificate chains, many extensions) cannot leave memory free
 * but unusable for the next handshake. Not thread-safe: each worker owns
 * its arena (tls_mem.c). No DPDK here, so unit tests drive it on malloc'ed
 * memory.
 */
#ifndef PC_TLS_ARENA_H
#define PC_TLS_ARENA_H

#include <stddef.h>
#include <stdint.h>

#define PC_ARENA_MIN_SHIFT 6  /* 64 bytes */
#define PC_ARENA_CLASSES 13   /* ... 256 KiB */
#define PC_ARENA_MAX_BLOCK ((size_t)1 << (PC_ARENA_MIN_SHIFT + PC_ARENA_CLASSES - 1))

/* The first 16 bytes of every block. The arena keeps cls and free; owner
 * and size are the caller's. */
struct pc_arena_hdr {
	uint16_t owner;
	uint8_t cls;
	uint8_t free;            /* 1 while on a free list */
	uint32_t pad;
	uint64_t size;
};

struct pc_arena_free;

struct pc_arena {
	uint8_t *base;           /* aligned to PC_ARENA_MAX_BLOCK by init */
	uint8_t *next;           /* not yet carved into blocks */
	uint8_t *end;
	struct pc_arena_free *free[PC_ARENA_CLASSES];
	uint64_t reserved;       /* bytes carved so far */
	uint64_t in_use;         /* bytes in blocks handed out */
	uint64_t peak;
	uint64_t allocs;
	uint64_t failures;
};

/* The arena over [mem, mem + len): what lies before the first
 * PC_ARENA_MAX_BLOCK boundary and after the last is left unused. */
void pc_arena_init(struct pc_arena *a, void *mem, size_t len);
/* A block of at least bytes bytes, header included, or NULL (counted). */
struct pc_arena_hdr *pc_arena_alloc(struct pc_arena *a, size_t bytes);
void pc_arena_free(struct pc_arena *a, struct pc_arena_hdr *h);
static inline size_t pc_arena_block_size(const struct pc_arena_hdr *h)
{
	return (size_t)1 << (PC_ARENA_MIN_SHIFT + h->cls);
}

#endif
