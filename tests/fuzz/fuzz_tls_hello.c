/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the ClientHello checks (crypto/tls_hello.c): any
 * bytes as a handshake message. Checks that nothing is read out of
 * bounds (ASan), that an accepted hello's server name is a string of
 * host-name bytes, and that a refusal names its check.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls_hello.h"

static const struct pc_tls_hello_policy policy = {
	.groups = {0x001d, 0x0017, 0x0018},
	.nb_groups = 3,
	.tls13 = true,
	.tls12 = true,
	.alpn = "http/1.1",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t ours[] = {0x1301, 0x1302, 0xc02b};
	/* A copy of exactly size bytes, so ASan sees any read past it. */
	uint8_t *msg = malloc(size != 0 ? size : 1);
	struct pc_tls_hello h;

	if (msg == NULL)
		return 0;
	memcpy(msg, data, size);
	if (pc_tls_hello_check(msg, size, &policy, &h) == 0) {
		size_t n = strlen(h.sni);

		if (n > PC_TLS_HELLO_NAME_MAX)
			abort();
		for (size_t i = 0; i < n; i++)
			if (h.sni[i] <= ' ' || (uint8_t)h.sni[i] >= 0x7f)
				abort();
		(void)pc_tls_hello_suite_in_common(&h, ours, 3);
	} else if (h.why == NULL) {
		abort();
	}
	free(msg);
	return 0;
}
