/* SPDX-License-Identifier: MIT */
/* The TLS alert descriptions (RFC 8446 6) portcullis sends itself, and the
 * fatal level. No DPDK and no wolfSSL here: tls_hello.c's unit test and
 * fuzz target include it too. */
#ifndef PC_TLS_ALERT_H
#define PC_TLS_ALERT_H

#define PC_TLS_ALERT_FATAL 2

enum pc_tls_alert {
	PC_TLS_ALERT_UNEXPECTED_MESSAGE = 10,
	PC_TLS_ALERT_BAD_RECORD_MAC = 20,
	PC_TLS_ALERT_RECORD_OVERFLOW = 22,
	PC_TLS_ALERT_HANDSHAKE_FAILURE = 40,
	PC_TLS_ALERT_ILLEGAL_PARAMETER = 47,
	PC_TLS_ALERT_DECODE_ERROR = 50,
	PC_TLS_ALERT_PROTOCOL_VERSION = 70,
	PC_TLS_ALERT_INTERNAL_ERROR = 80,
	PC_TLS_ALERT_MISSING_EXTENSION = 109,
	PC_TLS_ALERT_UNRECOGNIZED_NAME = 112,
	PC_TLS_ALERT_NO_APPLICATION_PROTOCOL = 120,
};

#endif
