/* SPDX-License-Identifier: MIT */
/*
 * X25519 public keys as portcullis links wolfCrypt: patches/wolfssl/0014
 * computes them from Ed25519's fixed-base table and maps the point to
 * Montgomery form, instead of running the ladder on the base point. Checked
 * against RFC 7748's vectors and, for many private keys, against the ladder
 * itself (wc_curve25519_generic with u = 9), which the patch leaves as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/curve25519.h>
#include <wolfssl/wolfcrypt/random.h>

#define KEY CURVE25519_KEYSIZE

static void unhex(const char *hex, uint8_t out[KEY])
{
	for (size_t i = 0; i < KEY; i++) {
		unsigned int b;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
}

/* RFC 7748, 5: the scalar X25519 uses for a private key's bytes. */
static void clamp(uint8_t k[KEY])
{
	k[0] &= 248;
	k[KEY - 1] &= 127;
	k[KEY - 1] |= 64;
}

static void ladder_pub(const uint8_t priv[KEY], uint8_t pub[KEY])
{
	static const uint8_t nine[KEY] = { 9 };

	assert_int_equal(wc_curve25519_generic(KEY, pub, KEY, priv, KEY, nine), 0);
}

static void table_pub(const uint8_t priv[KEY], uint8_t pub[KEY])
{
	assert_int_equal(wc_curve25519_make_pub(KEY, pub, KEY, priv), 0);
}

/* RFC 7748, 6.1: Alice's and Bob's keys and their shared secret. */
static void test_rfc7748(void **state)
{
	(void)state;
	uint8_t a[KEY], b[KEY], a_pub[KEY], b_pub[KEY], want[KEY], got[KEY];
	curve25519_key ka, kb;
	word32 len = KEY;

	unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a);
	unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b);
	clamp(a);
	clamp(b);

	table_pub(a, a_pub);
	unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", want);
	assert_memory_equal(a_pub, want, KEY);
	table_pub(b, b_pub);
	unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", want);
	assert_memory_equal(b_pub, want, KEY);

	/* The keys as TLS holds them: imported, then agreed both ways. */
	unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", want);
	assert_int_equal(wc_curve25519_init(&ka), 0);
	assert_int_equal(wc_curve25519_init(&kb), 0);
	assert_int_equal(wc_curve25519_import_private_raw_ex(a, KEY, a_pub, KEY, &ka,
	                                                      EC25519_LITTLE_ENDIAN), 0);
	assert_int_equal(wc_curve25519_import_private_raw_ex(b, KEY, b_pub, KEY, &kb,
	                                                      EC25519_LITTLE_ENDIAN), 0);
	assert_int_equal(wc_curve25519_shared_secret_ex(&ka, &kb, got, &len,
	                                                EC25519_LITTLE_ENDIAN), 0);
	assert_memory_equal(got, want, KEY);
	len = KEY;
	assert_int_equal(wc_curve25519_shared_secret_ex(&kb, &ka, got, &len,
	                                                EC25519_LITTLE_ENDIAN), 0);
	assert_memory_equal(got, want, KEY);
	wc_curve25519_free(&ka);
	wc_curve25519_free(&kb);
}

/* The smallest and largest clamped scalars, then many pseudo-random ones:
 * the table's public key is the ladder's, byte for byte. */
static void test_table_is_ladder(void **state)
{
	(void)state;
	uint8_t k[KEY], by_table[KEY], by_ladder[KEY];
	uint64_t x = 0x9e3779b97f4a7c15u;

	memset(k, 0, KEY);
	clamp(k);
	table_pub(k, by_table);
	ladder_pub(k, by_ladder);
	assert_memory_equal(by_table, by_ladder, KEY);

	memset(k, 0xff, KEY);
	clamp(k);
	table_pub(k, by_table);
	ladder_pub(k, by_ladder);
	assert_memory_equal(by_table, by_ladder, KEY);

	for (int n = 0; n < 3000; n++) {
		for (size_t i = 0; i < KEY; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			k[i] = (uint8_t)(x >> 24);
		}
		clamp(k);
		table_pub(k, by_table);
		ladder_pub(k, by_ladder);
		if (memcmp(by_table, by_ladder, KEY) != 0)
			fail_msg("key %d: the table's public key is not the ladder's", n);
	}
}

/* Keys made as a TLS key share makes them agree with each other. */
static void test_made_keys_agree(void **state)
{
	(void)state;
	WC_RNG rng;

	assert_int_equal(wc_InitRng(&rng), 0);
	for (int n = 0; n < 200; n++) {
		curve25519_key a, b;
		uint8_t ab[KEY], ba[KEY], pub[KEY];
		word32 len_ab = KEY, len_ba = KEY;

		assert_int_equal(wc_curve25519_init(&a), 0);
		assert_int_equal(wc_curve25519_init(&b), 0);
		assert_int_equal(wc_curve25519_make_key(&rng, KEY, &a), 0);
		assert_int_equal(wc_curve25519_make_key(&rng, KEY, &b), 0);
		ladder_pub(a.k, pub);
		assert_memory_equal(a.p.point, pub, KEY);
		assert_int_equal(wc_curve25519_shared_secret(&a, &b, ab, &len_ab), 0);
		assert_int_equal(wc_curve25519_shared_secret(&b, &a, ba, &len_ba), 0);
		assert_int_equal(len_ab, KEY);
		assert_memory_equal(ab, ba, KEY);
		wc_curve25519_free(&a);
		wc_curve25519_free(&b);
	}
	wc_FreeRng(&rng);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7748),
		cmocka_unit_test(test_table_is_ladder),
		cmocka_unit_test(test_made_keys_agree),
	};

	return cmocka_run_group_tests_name("x25519", tests, NULL, NULL);
}
