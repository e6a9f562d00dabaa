/* SPDX-License-Identifier: MIT */
/*
 * The PROXY protocol v2 header (HAProxy's doc/proxy-protocol.txt) that a
 * backend with `send-proxy-v2` gets first on each connection: what the
 * client's TLS connection was, for servers that decode it themselves
 * (nginx `proxy_protocol`, HAProxy `accept-proxy`, Envoy's listener
 * filter). Pure code: no state, any thread.
 *
 * The header is built the way HAProxy 2.6 builds it with `send-proxy-v2`
 * and `proxy-v2-options crc32c,authority,ssl,ssl-cn,cert-key,cert-sig,
 * ssl-cipher`, TLVs in its order:
 *   signature, 0x21 (v2, PROXY), 0x11 (TCP over IPv4), length,
 *   client address, our address, client port, our port (network order),
 *   PP2_TYPE_CRC32C      CRC32c (Castagnoli) of the whole header, this
 *                        field zeroed while it is computed
 *   PP2_TYPE_ALPN        the protocol the client chose, when it chose one
 *   PP2_TYPE_AUTHORITY   the SNI, when the client sent one
 *   PP2_TYPE_SSL         client bits, verify, then sub-TLVs:
 *     PP2_SUBTYPE_SSL_VERSION  "TLSv1.3"
 *     PP2_SUBTYPE_SSL_CN       the client certificate subject's first CN
 *     PP2_SUBTYPE_SSL_KEY_ALG  "EC256", "RSA2048": the key of the
 *                              certificate we served (HAProxy 2.6 sends
 *                              its frontend certificate's, checked in the
 *                              lab: an RSA server certificate gave
 *                              "RSA2048" to an EC client certificate)
 *     PP2_SUBTYPE_SSL_SIG_ALG  "ecdsa-with-SHA256": the signature on it
 *     PP2_SUBTYPE_SSL_CIPHER   "TLS_AES_128_GCM_SHA256"
 *     PP2_SUBTYPE_SSL_CLIENT_CERT  the leaf's DER, with `send-proxy-v2
 *                              cert` (0x28, as HAProxy's document defines
 *                              it since 2.9-era revisions; 2.6 does not
 *                              send it and its receivers skip it)
 * tests/unit/test_upstream.c compares it byte for byte with headers
 * HAProxy 2.6.12 sent to a listener in the lab.
 * Client bits: PP2_CLIENT_SSL always; PP2_CLIENT_CERT_CONN when the
 * client presented a certificate on this connection (a full handshake);
 * PP2_CLIENT_CERT_SESS when it presented one in this TLS session (also a
 * resumed session whose ticket says so). verify is 0 only for a client
 * whose certificate verified; otherwise it is non-zero: the verification
 * reason's number (enum pc_verify_reason; NO_CERT = 1 without a
 * certificate). HAProxy sends 0 for a client without a certificate; the
 * document says non-zero, and a backend that looks at verify alone must
 * not take a client without a certificate for a verified one, so this
 * follows the document there.
 */
#ifndef PC_PROXY_V2_H
#define PC_PROXY_V2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_l7_env;

#define PC_PP2_SIG "\r\n\r\n\0\r\nQUIT\n"
#define PC_PP2_SIG_LEN 12
#define PC_PP2_FIXED_LEN 16 /* signature, version/command, family, length */

#define PP2_TYPE_ALPN 0x01
#define PP2_TYPE_AUTHORITY 0x02
#define PP2_TYPE_CRC32C 0x03
#define PP2_TYPE_SSL 0x20
#define PP2_SUBTYPE_SSL_VERSION 0x21
#define PP2_SUBTYPE_SSL_CN 0x22
#define PP2_SUBTYPE_SSL_CIPHER 0x23
#define PP2_SUBTYPE_SSL_SIG_ALG 0x24
#define PP2_SUBTYPE_SSL_KEY_ALG 0x25
#define PP2_SUBTYPE_SSL_CLIENT_CERT 0x28
#define PP2_CLIENT_SSL 0x01
#define PP2_CLIENT_CERT_CONN 0x02
#define PP2_CLIENT_CERT_SESS 0x04

/* A buffer this big takes any header without the certificate (strings
 * are bounded: SNI and ALPN 255 bytes, CN 256, the others short) and one
 * with a leaf certificate up to about 14 KiB. */
#define PC_PP2_MAX 16384

/* The header for the connection env describes, with the client's leaf
 * certificate when cert (and the connection has it: none on a resumed
 * session), into buf: its length, or 0 when it does not fit in cap. */
size_t pc_pp2_build(const struct pc_l7_env *env, bool cert, uint8_t *buf, size_t cap);

/* CRC32c (Castagnoli, RFC 4960 appendix B): "123456789" gives 0xe3069283. */
uint32_t pc_crc32c(const void *p, size_t len);

#endif
