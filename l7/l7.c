/* SPDX-License-Identifier: MIT */
/*
 * Which plaintext side a TLS connection gets: its host's backend decides.
 */
#include <stddef.h>

#include "pc_backend.h"
#include "pc_l7.h"

const struct pc_l7_ops *pc_l7_pick(const struct pc_backend *b)
{
	if (b == NULL)
		return &pc_l7_responder;
	return b->spec.mode == PC_BACKEND_TCP ? &pc_l7_tcp_proxy : &pc_l7_http_proxy;
}
