/* SPDX-License-Identifier: MIT */
/* crypto/: the wolfSSL glue. For now: what was linked, for --version. */
#ifndef PC_CRYPTO_H
#define PC_CRYPTO_H

/* wolfSSL's version string, from the library itself. */
const char *pc_crypto_version(void);

/* The configure line wolfSSL was built with (as recorded by
 * scripts/setup.sh), or "unknown". */
const char *pc_crypto_configure_flags(void);

/* Our patches applied to wolfSSL's source (patches/wolfssl), as
 * "NAME@SHA256-PREFIX ...", "none" or "unknown". */
const char *pc_crypto_patches(void);

#endif
