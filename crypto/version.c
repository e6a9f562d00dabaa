/* SPDX-License-Identifier: MIT */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "pc_crypto.h"

const char *pc_crypto_version(void)
{
	return wolfSSL_lib_version();
}

const char *pc_crypto_configure_flags(void)
{
	return PC_WOLFSSL_CONFIGURE;
}

const char *pc_crypto_patches(void)
{
	return PC_WOLFSSL_PATCHES;
}
