/* SPDX-License-Identifier: MIT */
/*
 * The PROXY protocol v2 header (pc_proxy_v2.h says what goes in it and
 * in which order). Every write is bounds-checked against the caller's
 * buffer; a header that does not fit is not built at all.
 */
#include <string.h>

#include <rte_hash_crc.h>

#include "pc_l7.h"
#include "pc_proxy_v2.h"

uint32_t pc_crc32c(const void *p, size_t len)
{
	/* DPDK's CRC32c (SSE4.2 when the CPU has it) without the final
	 * inversion, and len is 32 bits there: headers are at most 64 KiB. */
	return rte_hash_crc(p, (uint32_t)len, 0xffffffffu) ^ 0xffffffffu;
}

struct pp2_out {
	uint8_t *buf;
	size_t cap, len;
	bool overflow;
};

static void put(struct pp2_out *o, const void *p, size_t n)
{
	if (o->overflow || n > o->cap - o->len) {
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void put_u8(struct pp2_out *o, uint8_t v)
{
	put(o, &v, 1);
}

static void put_u16(struct pp2_out *o, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	put(o, b, 2);
}

/* A TLV's type and length (its value follows). */
static void put_tl(struct pp2_out *o, uint8_t type, size_t len)
{
	if (len > UINT16_MAX) {
		o->overflow = true;
		return;
	}
	put_u8(o, type);
	put_u16(o, (uint16_t)len);
}

static void put_tlv(struct pp2_out *o, uint8_t type, const void *v, size_t len)
{
	put_tl(o, type, len);
	put(o, v, len);
}

/* A string TLV, left out when the string is empty. */
static void put_str(struct pp2_out *o, uint8_t type, const char *s)
{
	if (s != NULL && s[0] != '\0')
		put_tlv(o, type, s, strlen(s));
}

/* Patch a 16-bit length written earlier at off. */
static void patch_u16(struct pp2_out *o, size_t off, size_t v)
{
	if (o->overflow)
		return;
	if (v > UINT16_MAX) {
		o->overflow = true;
		return;
	}
	o->buf[off] = (uint8_t)(v >> 8);
	o->buf[off + 1] = (uint8_t)v;
}

/* The first CN of a one-line subject ("/C=FR/O=Example/CN=client 1"): its
 * value runs to the next "/TYPE=" or the end. */
static bool subject_cn(const char *subject, const char **cn, size_t *len)
{
	const char *p = subject;

	while ((p = strstr(p, "/CN=")) != NULL) {
		const char *v = p + 4, *e = v;

		for (;; e++) {
			if (*e == '\0')
				break;
			if (*e != '/')
				continue;
			const char *k = e + 1;

			while ((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') ||
			       (*k >= '0' && *k <= '9') || *k == '.')
				k++;
			if (*k == '=' && k > e + 1)
				break;
		}
		if (e > v) {
			*cn = v;
			*len = (size_t)(e - v);
			return true;
		}
		p = v;
	}
	return false;
}

size_t pc_pp2_build(const struct pc_l7_env *env, bool cert, uint8_t *buf, size_t cap)
{
	struct pp2_out o = {.buf = buf, .cap = cap};
	uint8_t client = PP2_CLIENT_SSL;
	uint32_t verify;
	size_t crc_at, ssl_at;
	const char *cn;
	size_t cn_len;

	put(&o, PC_PP2_SIG, PC_PP2_SIG_LEN);
	put_u8(&o, 0x21); /* version 2, PROXY */
	put_u8(&o, 0x11); /* AF_INET, STREAM */
	put_u16(&o, 0);   /* patched below */
	/* Addresses and ports are kept in network order already. */
	put(&o, &env->client_addr, 4);
	put(&o, &env->local_addr, 4);
	put(&o, &env->client_port, 2);
	put(&o, &env->local_port, 2);

	put_tl(&o, PP2_TYPE_CRC32C, 4);
	crc_at = o.len;
	put(&o, "\0\0\0\0", 4);
	put_str(&o, PP2_TYPE_ALPN, env->alpn);
	put_str(&o, PP2_TYPE_AUTHORITY, env->sni);

	if (env->cert_presented) {
		client |= PP2_CLIENT_CERT_SESS;
		if (!env->resumed)
			client |= PP2_CLIENT_CERT_CONN;
	}
	if (env->cert_presented && env->verified)
		verify = 0;
	else if (!env->cert_presented)
		verify = PC_VERIFY_NO_CERT;
	else
		verify = env->vreason != PC_VERIFY_OK ? (uint32_t)env->vreason : 1;
	put_tl(&o, PP2_TYPE_SSL, 0);
	ssl_at = o.len;
	put_u8(&o, client);
	put_u16(&o, (uint16_t)(verify >> 16));
	put_u16(&o, (uint16_t)verify);
	put_str(&o, PP2_SUBTYPE_SSL_VERSION, env->version);
	if (env->cert_presented && env->vres != NULL && subject_cn(env->vres->subject, &cn, &cn_len))
		put_tlv(&o, PP2_SUBTYPE_SSL_CN, cn, cn_len);
	put_str(&o, PP2_SUBTYPE_SSL_KEY_ALG, env->key_alg);
	put_str(&o, PP2_SUBTYPE_SSL_SIG_ALG, env->sig_alg);
	put_str(&o, PP2_SUBTYPE_SSL_CIPHER, env->cipher);
	if (cert && env->nb_certs > 0 && env->cert[0] != NULL)
		put_tlv(&o, PP2_SUBTYPE_SSL_CLIENT_CERT, env->cert[0], env->cert_len[0]);
	patch_u16(&o, ssl_at - 2, o.len - ssl_at);

	patch_u16(&o, PC_PP2_FIXED_LEN - 2, o.len - PC_PP2_FIXED_LEN);
	if (o.overflow)
		return 0;
	uint32_t crc = pc_crc32c(buf, o.len);

	buf[crc_at] = (uint8_t)(crc >> 24);
	buf[crc_at + 1] = (uint8_t)(crc >> 16);
	buf[crc_at + 2] = (uint8_t)(crc >> 8);
	buf[crc_at + 3] = (uint8_t)crc;
	return o.len;
}
