/* SPDX-License-Identifier: MIT */
/*
 * String helpers shared by the verifier and TLS.
 */
#ifndef PC_STR_H
#define PC_STR_H

#include <string.h>

/* Copy as much of src as fits in dst (size bytes, its NUL included):
 * names are cut, never refused. snprintf(dst, size, "%s", src) without
 * the formatter, for copies made per handshake. */
static inline void pc_str_copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

#endif
