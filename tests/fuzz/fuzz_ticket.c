/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for session tickets (crypto/tls_ticket.c). The first
 * byte picks what the rest is:
 *   0  a ticket as a client sends it (key name, IV, MAC, sealed bytes):
 *      opened with a fixed key set; it must not open (only we can seal)
 *   1  a plaintext ticket (wolfSSL's state, claims, their length): sealed
 *      under the fixed key, then opened; what opens must give back the
 *      bytes before the claims, and claims that write back the same
 *   2  a ticket-keys file
 * ASan checks that nothing is read out of bounds; the rest abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char host[] = "fuzz.test";

static void keys(struct pc_tls_ticket_keys *ks)
{
	static const char text[] = "new " "0101010101010101010101010101010101010101010101010101010101010101\n"
				   "old " "0202020202020202020202020202020202020202020202020202020202020202\n";
	char err[128];

	if (tls_ticket_keys_parse(text, sizeof(text) - 1, ks, err, sizeof(err)) != 0 || ks->n != 2)
		abort();
}

/* Claims parsed from buf must write back as the same bytes. */
static void round_trip(const uint8_t *buf, size_t len, const struct tls_ticket_claims *c)
{
	uint8_t out[TLS_TICKET_CLAIMS_MAX];
	size_t n = tls_ticket_claims_write(c, out);

	if (n != len || memcmp(out, buf, n) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pc_tls_ticket_keys ks;
	struct tls_ticket_claims c;
	uint8_t *buf;
	char err[160];

	if (ks.n == 0)
		keys(&ks);
	if (size == 0)
		return 0;
	buf = malloc(size + TLS_TICKET_CLAIMS_MAX + 2);
	if (buf == NULL)
		return 0;
	memcpy(buf, data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		if (size - 1 >= WOLFSSL_TICKET_NAME_SZ + WOLFSSL_TICKET_IV_SZ + WOLFSSL_TICKET_MAC_SZ) {
			uint8_t *t = buf + WOLFSSL_TICKET_NAME_SZ + WOLFSSL_TICKET_IV_SZ +
				     WOLFSSL_TICKET_MAC_SZ;
			int len = (int)(size - 1 - (size_t)(t - buf));

			if (tls_ticket_open(&ks, host, buf, buf + WOLFSSL_TICKET_NAME_SZ,
					    buf + WOLFSSL_TICKET_NAME_SZ + WOLFSSL_TICKET_IV_SZ, t, len,
					    &c) >= 0)
				abort();
		}
		break;
	case 1: {
		uint8_t iv[WOLFSSL_TICKET_IV_SZ] = {1}, mac[WOLFSSL_TICKET_MAC_SZ];
		int len = (int)(size - 1), sealed, opened;
		uint8_t *copy;

		/* Any bytes as wolfSSL's state, claims from the fuzzer's own
		 * when they parse (the tail's length says where they start). */
		memset(&c, 0, sizeof(c));
		if (len >= 2) {
			size_t cl = (size_t)buf[len - 2] << 8 | buf[len - 1];

			if (cl + 2 <= (size_t)len &&
			    tls_ticket_claims_read(buf + len - 2 - cl, cl, &c) == 0) {
				round_trip(buf + len - 2 - cl, cl, &c);
				len -= (int)cl + 2;
			}
		}
		copy = malloc((size_t)len + 1);
		if (copy == NULL)
			break;
		memcpy(copy, buf, (size_t)len);
		sealed = tls_ticket_seal(&ks.k[0], host, iv, mac, buf, len, &c);
		if (sealed < 0)
			abort();
		opened = tls_ticket_open(&ks, host, ks.k[0].id, iv, mac, buf, sealed, &c);
		if (opened != len || memcmp(copy, buf, (size_t)len) != 0)
			abort();
		/* Another host's ticket never opens. */
		sealed = tls_ticket_seal(&ks.k[1], host, iv, mac, buf, len, &c);
		if (tls_ticket_open(&ks, "other.test", ks.k[1].id, iv, mac, buf, sealed, &c) !=
		    TLS_TICKET_INVALID)
			abort();
		free(copy);
		break;
	}
	default: {
		struct pc_tls_ticket_keys parsed;

		if (tls_ticket_keys_parse((const char *)buf, size - 1, &parsed, err, sizeof(err)) ==
		    0) {
			if (parsed.n == 0 || parsed.n > PC_TLS_MAX_TICKET_KEYS)
				abort();
		} else if (err[0] == '\0') {
			abort();
		}
		break;
	}
	}
	free(buf);
	return 0;
}
