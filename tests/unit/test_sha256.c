/* SPDX-License-Identifier: MIT */
/*
 * wolfCrypt's SHA-256 as portcullis links it: on a CPU with the SHA
 * extensions, the SHA-NI transform of patches/wolfssl/0013; elsewhere the
 * AVX ones. Checked against the FIPS 180-4 answers and against the plain
 * definition written out below, for every message length up to several
 * blocks, fed to wolfCrypt in uneven pieces (buffered partial blocks, runs
 * of whole blocks, the padding block of Final).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/sha256.h>

#define MAX_LEN 600

/* --- SHA-256 from its definition (FIPS 180-4, 6.2) ------------------------ */

static const uint32_t k256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static uint32_t ror(uint32_t x, unsigned int n)
{
	return x >> n | x << (32 - n);
}

static void block(uint32_t h[8], const uint8_t *p)
{
	uint32_t w[64], v[8];

	for (int t = 0; t < 16; t++)
		w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
		       (uint32_t)p[4 * t + 2] << 8 | p[4 * t + 3];
	for (int t = 16; t < 64; t++) {
		uint32_t s0 = ror(w[t - 15], 7) ^ ror(w[t - 15], 18) ^ w[t - 15] >> 3;
		uint32_t s1 = ror(w[t - 2], 17) ^ ror(w[t - 2], 19) ^ w[t - 2] >> 10;

		w[t] = w[t - 16] + s0 + w[t - 7] + s1;
	}
	memcpy(v, h, sizeof(v));
	for (int t = 0; t < 64; t++) {
		uint32_t t1 = v[7] + (ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25)) +
			      ((v[4] & v[5]) ^ (~v[4] & v[6])) + k256[t] + w[t];
		uint32_t t2 = (ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22)) +
			      ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));

		memmove(v + 1, v, 7 * sizeof(v[0]));
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (int i = 0; i < 8; i++)
		h[i] += v[i];
}

static void reference(const uint8_t *msg, size_t len, uint8_t out[32])
{
	uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	uint8_t last[128] = {0};
	size_t full = len / 64 * 64, rest = len - full, pad = rest < 56 ? 64 : 128;
	uint64_t bits = (uint64_t)len * 8;

	for (size_t i = 0; i < full; i += 64)
		block(h, msg + i);
	memcpy(last, msg + full, rest);
	last[rest] = 0x80;
	for (int i = 0; i < 8; i++)
		last[pad - 1 - i] = (uint8_t)(bits >> (8 * i));
	for (size_t i = 0; i < pad; i += 64)
		block(h, last + i);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(h[i] >> 8);
		out[4 * i + 3] = (uint8_t)h[i];
	}
}

/* --- wolfCrypt ------------------------------------------------------------- */

static void wolf(const uint8_t *msg, size_t len, size_t piece, uint8_t out[32])
{
	wc_Sha256 s;

	assert_int_equal(wc_InitSha256(&s), 0);
	for (size_t off = 0; off < len; off += piece)
		assert_int_equal(wc_Sha256Update(&s, msg + off,
						 (word32)(len - off < piece ? len - off : piece)),
				 0);
	assert_int_equal(wc_Sha256Final(&s, out), 0);
	wc_Sha256Free(&s);
}

static void unhex(const char *hex, uint8_t out[32])
{
	for (int i = 0; i < 32; i++) {
		unsigned int b;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
}

/* FIPS 180-4's examples (NIST's SHA256.pdf) and a million 'a' (FIPS 180-2). */
static void test_known_answers(void **state)
{
	static uint8_t million[1000000];
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	uint8_t got[32], want[32];

	(void)state;
	wolf((const uint8_t *)"abc", 3, 3, got);
	unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want);
	assert_memory_equal(got, want, 32);
	wolf((const uint8_t *)two, strlen(two), 7, got);
	unhex("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", want);
	assert_memory_equal(got, want, 32);
	memset(million, 'a', sizeof(million));
	wolf(million, sizeof(million), 4099, got);
	unhex("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", want);
	assert_memory_equal(got, want, 32);
	reference(million, sizeof(million), got);
	assert_memory_equal(got, want, 32);
}

/* Every length up to MAX_LEN, each in pieces of 1, 3, 63, 64, 65 and 200
 * bytes and whole. */
static void test_every_length_and_piece(void **state)
{
	static const size_t pieces[] = {1, 3, 63, 64, 65, 200, MAX_LEN};
	uint8_t msg[MAX_LEN], got[32], want[32];
	uint32_t x = 0x9e3779b9;

	(void)state;
	for (size_t i = 0; i < sizeof(msg); i++) {
		x = x * 1664525 + 1013904223;
		msg[i] = (uint8_t)(x >> 24);
	}
	for (size_t len = 0; len <= MAX_LEN; len++) {
		reference(msg, len, want);
		for (size_t p = 0; p < sizeof(pieces) / sizeof(pieces[0]); p++) {
			wolf(msg, len, pieces[p], got);
			if (memcmp(got, want, 32) != 0)
				fail_msg("length %zu in pieces of %zu: wrong digest", len, pieces[p]);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_every_length_and_piece),
	};

	return cmocka_run_group_tests_name("sha256", tests, NULL, NULL);
}
