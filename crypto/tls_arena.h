/* SPDX-License-Identifier: MIT */
/*
 * A buddy allocator over one region of memory (tls_arena.c): blocks of
 * 64 bytes to 256 KiB in power-of-two classes. A class with no free block
 * takes one from the next larger class and splits it; a freed block merges
 * with its buddy whenever that is free too, so memory released by one
 * class serves any other: a client that shapes wolfSSL's allocations
 * (large certificate chains, many extensions) cannot leave memory free
 * but unusable for the next handshake.
 *
 * An allocation keeps only the 64-byte units it needs: the rest of its
 * block goes back to the free lists at once, as the buddy blocks that
 * tile it, and the allocation is freed as the blocks that tile its own
 * units. wolfSSL's largest long-lived allocations are just over a power
 * of two (a connection's WOLFSSL object, 5,040 bytes, used to take an
 * 8 KiB block and its session 2 KiB), so power-of-two blocks alone left
 * about a third of an idle connection's memory unused. Whether a block is
 * free is kept in a bitmap beside the region, one bit per unit, because
 * the units inside an allocation hold the caller's bytes, never a header
 * the merging could trust. Those tails join the back of their free
 * lists, freed blocks the front: a tail is taken last, so the small
 * long-lived allocations that would otherwise land in it (and keep the
 * block of a short-lived one from merging again) go elsewhere. For 400
 * idle mutual-TLS connections opened one after another, the arena carved
 * 9.8 KB per connection (7.2 KB handed out); replaying their allocations,
 * 11.1 KB with power-of-two blocks only, 21 KB with the tails at the
 * front.
 *
 * Not thread-safe: each worker owns its arena (tls_mem.c). No DPDK here,
 * so unit tests drive it on malloc'ed memory.
 */
#ifndef PC_TLS_ARENA_H
#define PC_TLS_ARENA_H

#include <stddef.h>
#include <stdint.h>

#define PC_ARENA_MIN_SHIFT 6  /* 64 bytes */
#define PC_ARENA_CLASSES 13   /* ... 256 KiB */
#define PC_ARENA_MAX_BLOCK ((size_t)1 << (PC_ARENA_MIN_SHIFT + PC_ARENA_CLASSES - 1))

/* The first 16 bytes of every allocation and free block. The arena keeps
 * cls (a free block's class) and units (an allocation's length); owner
 * and size are the caller's. */
struct pc_arena_hdr {
	uint16_t owner;
	uint8_t cls;
	uint8_t pad;
	uint32_t units;          /* 64-byte units allocated */
	uint64_t size;
};

struct pc_arena_free;

struct pc_arena {
	uint8_t *base;           /* aligned to PC_ARENA_MAX_BLOCK by init */
	uint8_t *next;           /* not yet carved into blocks */
	uint8_t *end;
	uint64_t *free_map;      /* bit per unit from base: a free block starts there */
	struct pc_arena_free *free[PC_ARENA_CLASSES]; /* taken from the front */
	struct pc_arena_free *last[PC_ARENA_CLASSES];
	uint64_t reserved;       /* bytes carved so far */
	uint64_t in_use;         /* bytes in units handed out */
	uint64_t peak;
	uint64_t allocs;
	uint64_t failures;
};

/* The bitmap an arena over len bytes needs (pc_arena_init's map). */
static inline size_t pc_arena_map_bytes(size_t len)
{
	return (len / PC_ARENA_MAX_BLOCK + 1) * (PC_ARENA_MAX_BLOCK >> PC_ARENA_MIN_SHIFT) / 8;
}
/* The arena over [mem, mem + len): what lies before the first
 * PC_ARENA_MAX_BLOCK boundary and after the last is left unused. map:
 * pc_arena_map_bytes(len) bytes of the caller's, 8-byte aligned. */
void pc_arena_init(struct pc_arena *a, void *mem, size_t len, uint64_t *map);
/* At least bytes bytes, header included, in whole 64-byte units, or NULL
 * (counted). */
struct pc_arena_hdr *pc_arena_alloc(struct pc_arena *a, size_t bytes);
void pc_arena_free(struct pc_arena *a, struct pc_arena_hdr *h);
/* The bytes an allocation holds: its size rounded up to 64. */
static inline size_t pc_arena_units_bytes(size_t bytes)
{
	return (bytes + ((size_t)1 << PC_ARENA_MIN_SHIFT) - 1) & ~(((size_t)1 << PC_ARENA_MIN_SHIFT) - 1);
}
static inline size_t pc_arena_block_size(const struct pc_arena_hdr *h)
{
	return (size_t)h->units << PC_ARENA_MIN_SHIFT;
}

#endif
