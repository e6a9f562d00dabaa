/* SPDX-License-Identifier: MIT */
/*
 * Initial sequence numbers (RFC 6528) and SYN cookies.
 *
 * ISN = 4-microsecond clock + SipHash-2-4(key, 4-tuple): unpredictable
 * per connection, monotonic per 4-tuple.
 *
 * A SYN cookie is our ISN when the half-open table is full (more than
 * syn_backlog half-open connections on this worker): nothing is stored,
 * and the ACK that completes the handshake proves the peer saw our
 * SYN-ACK. Layout, 32 bits:
 *   [31..27] time counter, 64-second units, mod 32 (valid for 2 units)
 *   [26..24] index of the MSS in a table of 8
 *   [23..0]  SipHash(key, 4-tuple, peer ISN, counter, MSS index), low 24 bits
 * The peer's window scale shift and SACK-permitted ride in the low 5 bits
 * of the SYN-ACK's timestamp (echoed back in TSecr) when the peer uses
 * timestamps (our own shift is a function of `tcp buffers`, fixed at
 * start, so it is recomputed); without timestamps a cookie connection has
 * neither (as in Linux).
 */
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>

#include "tcp.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                  \
	do {                                                                      \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);        \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                           \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                           \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);        \
	} while (0)

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* SipHash-2-4 (Aumasson and Bernstein), 64-bit output. */
uint64_t pc_siphash(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
	uint64_t b = (uint64_t)len << 56;
	size_t full = len & ~(size_t)7;

	for (size_t i = 0; i < full; i += 8) {
		uint64_t m = le64(in + i);

		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t i = 0; i < (len & 7); i++)
		b |= (uint64_t)in[full + i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* The real time, not the worker's event clock: ISNs of connections opened
 * in one event differ. */
static uint64_t now_us(void)
{
	static uint64_t hz_per_us;

	if (hz_per_us == 0)
		hz_per_us = RTE_MAX(rte_get_tsc_hz() / 1000000, (uint64_t)1);
	return rte_rdtsc() / hz_per_us;
}

uint32_t pc_tcp_isn(const struct pc_tcp_key *k)
{
	uint32_t clock4us = (uint32_t)(now_us() / 4);

	return clock4us + (uint32_t)pc_siphash(pc_tcp_cfg.siphash_key, k, sizeof(*k));
}

static const uint16_t cookie_mss[8] = {216, 536, 1200, 1220, 1360, 1400, 1440, 1460};

static uint32_t cookie_counter(void)
{
	return (uint32_t)(now_us() / 1000000 / 64);
}

/* Covers everything the cookie carries: a flipped counter or MSS bit
 * fails like a forged hash. */
static uint32_t cookie_hash(const struct pc_tcp_key *k, uint32_t peer_isn, uint32_t t,
			    uint32_t mss_idx)
{
	struct {
		struct pc_tcp_key k;
		uint32_t isn;
		uint32_t t;
		uint32_t mss_idx;
	} in;

	memset(&in, 0, sizeof(in));
	in.k = *k;
	in.isn = peer_isn;
	in.t = t & 0x1f;
	in.mss_idx = mss_idx & 7;
	return (uint32_t)pc_siphash(pc_tcp_cfg.siphash_key, &in, sizeof(in)) & 0xffffff;
}

uint32_t pc_tcp_cookie_make(const struct pc_tcp_key *k, uint32_t peer_isn, uint16_t mss,
			    uint16_t *mss_out)
{
	uint32_t t = cookie_counter() & 0x1f;
	unsigned int idx = 0;

	for (unsigned int i = 0; i < 8; i++)
		if (cookie_mss[i] <= mss)
			idx = i;
	*mss_out = cookie_mss[idx];
	return (t << 27) | ((uint32_t)idx << 24) | cookie_hash(k, peer_isn, t, idx);
}

int pc_tcp_cookie_check(const struct pc_tcp_key *k, uint32_t peer_isn, uint32_t cookie,
			uint16_t *mss)
{
	uint32_t t = cookie >> 27, now = cookie_counter() & 0x1f;

	if (((now - t) & 0x1f) > 1)
		return -1;
	if ((cookie & 0xffffff) != cookie_hash(k, peer_isn, t, (cookie >> 24) & 7))
		return -1;
	*mss = cookie_mss[(cookie >> 24) & 7];
	return 0;
}
