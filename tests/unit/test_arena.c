/* SPDX-License-Identifier: MIT */
/* The buddy allocator behind wolfSSL's per-worker memory (tls_arena.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tls_arena.h"

#define ARENA_BYTES ((size_t)1 << 20) /* four of the largest blocks */
#define MAX_BLOCKS (ARENA_BYTES / 64)

static void *mem;
static uint64_t *map;
static struct pc_arena a;
static struct pc_arena_hdr *held[MAX_BLOCKS];

static int setup(void **state)
{
	(void)state;
	mem = aligned_alloc(PC_ARENA_MAX_BLOCK, ARENA_BYTES);
	map = malloc(pc_arena_map_bytes(ARENA_BYTES));
	assert_non_null(mem);
	assert_non_null(map);
	pc_arena_init(&a, mem, ARENA_BYTES, map);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(mem);
	free(map);
	return 0;
}

/* Allocate blocks of bytes until the arena is exhausted; returns how
 * many it gave. */
static size_t fill(size_t bytes)
{
	size_t n = 0;

	while (n < MAX_BLOCKS && (held[n] = pc_arena_alloc(&a, bytes)) != NULL)
		n++;
	return n;
}

static void release(size_t n)
{
	for (size_t i = 0; i < n; i++)
		pc_arena_free(&a, held[i]);
}

/* The attack the issue describes: memory held in one size class, then
 * released, must serve any other class. */
static void test_freed_memory_serves_every_class(void **state)
{
	(void)state;
	assert_int_equal(fill(PC_ARENA_MAX_BLOCK), 4);
	release(4);
	assert_int_equal(fill(64), ARENA_BYTES / 64);
	release(ARENA_BYTES / 64);
	assert_int_equal(fill(5000), ARENA_BYTES / 8192);
	release(ARENA_BYTES / 8192);
	assert_int_equal(fill(PC_ARENA_MAX_BLOCK), 4);
	release(4);
	assert_int_equal(a.in_use, 0);
	assert_int_equal(a.reserved, ARENA_BYTES);
}

static void test_limits(void **state)
{
	(void)state;
	assert_null(pc_arena_alloc(&a, PC_ARENA_MAX_BLOCK + 1));
	assert_int_equal(a.failures, 1);
	assert_int_equal(fill(128 * 1024), 8);
	assert_null(pc_arena_alloc(&a, 64));
	assert_int_equal(a.failures, 3);
	assert_int_equal(a.in_use, ARENA_BYTES);
	release(8);
	/* Memory that is not aligned to the largest block: its ragged ends
	 * are left out. */
	pc_arena_init(&a, (uint8_t *)mem + 64, ARENA_BYTES - 64, map);
	assert_int_equal(fill(PC_ARENA_MAX_BLOCK), 3);
	release(3);
}

/* An allocation keeps whole 64-byte units: the rest of its block serves
 * others, and everything merges back once freed. */
static void test_allocation_keeps_its_units(void **state)
{
	struct pc_arena_hdr *big, *mid, *small, *tiny;

	(void)state;
	big = pc_arena_alloc(&a, 5040);         /* a WOLFSSL object with its header */
	assert_non_null(big);
	assert_int_equal(pc_arena_block_size(big), 5056);
	assert_int_equal(a.in_use, 5056);
	/* The 8 KiB block's tail: 64 bytes, then 1 KiB, then 2 KiB. */
	mid = pc_arena_alloc(&a, 2048);
	small = pc_arena_alloc(&a, 1000);
	tiny = pc_arena_alloc(&a, 64);
	assert_ptr_equal(mid, (uint8_t *)big + 6144);
	assert_ptr_equal(small, (uint8_t *)big + 5120);
	assert_ptr_equal(tiny, (uint8_t *)big + 5056);
	assert_int_equal(a.in_use, 5056 + 2048 + 1024 + 64);
	pc_arena_free(&a, small);
	pc_arena_free(&a, big);
	pc_arena_free(&a, tiny);
	pc_arena_free(&a, mid);
	assert_int_equal(a.in_use, 0);
	assert_int_equal(fill(PC_ARENA_MAX_BLOCK), 4);
	release(4);
	assert_null(pc_arena_alloc(&a, PC_ARENA_MAX_BLOCK + 1));
	assert_non_null(big = pc_arena_alloc(&a, 0));
	assert_int_equal(pc_arena_block_size(big), 64);
	pc_arena_free(&a, big);
}

/* Random sizes, random order of frees: no two live blocks overlap (each
 * is filled with its own byte and checked at its free), and once all are
 * free the arena is whole again. */
static void test_random_alloc_free(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t n = 0;
	uint8_t tag[MAX_BLOCKS];

	(void)state;
	for (int step = 0; step < 200000; step++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (n > 0 && (x % 3 == 0 || n == MAX_BLOCKS)) {
			size_t i = (size_t)(x >> 20) % n;
			struct pc_arena_hdr *h = held[i];
			uint8_t *body = (uint8_t *)(h + 1);
			size_t len = h->size;

			for (size_t k = 0; k < len; k++)
				if (body[k] != tag[i])
					fail_msg("step %d: block %zu was overwritten", step, i);
			pc_arena_free(&a, h);
			held[i] = held[n - 1];
			tag[i] = tag[n - 1];
			n--;
			continue;
		}
		/* Mostly small blocks, some large ones, as wolfSSL's are. */
		size_t size = (x >> 40) % 8 == 0 ? (size_t)(x >> 24) % (64 * 1024) + 16
						  : (size_t)(x >> 24) % 2000 + 16;
		struct pc_arena_hdr *h = pc_arena_alloc(&a, size + sizeof(*h));

		if (h == NULL)
			continue;
		assert_int_equal(pc_arena_block_size(h), pc_arena_units_bytes(size + sizeof(*h)));
		assert_int_equal((size_t)((uint8_t *)h - a.base) % 64, 0);
		h->size = size;
		tag[n] = (uint8_t)(step | 1);
		memset(h + 1, tag[n], size);
		held[n++] = h;
	}
	release(n);
	assert_int_equal(a.in_use, 0);
	assert_int_equal(fill(PC_ARENA_MAX_BLOCK), 4);
	release(4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_freed_memory_serves_every_class, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allocation_keeps_its_units, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_alloc_free, setup, teardown),
	};

	return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
