/* SPDX-License-Identifier: MIT */
/*
 * The access log: one record per HTTP request, and one per connection that
 * ended without a request (handshake failures included). Workers push
 * fixed-size records into their own single-producer ring; a logging thread
 * (not a worker) drains every ring and writes one text line per record to
 * a file or stdout. A full ring drops the record and counts it: a worker
 * never waits for the log.
 */
#ifndef PC_ALOG_H
#define PC_ALOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct pc_alog_rec {
	int64_t time_ns;          /* CLOCK_REALTIME when the record was made */
	uint64_t duration_us;     /* since the connection was accepted */
	uint64_t bytes_in;        /* TCP payload bytes received on the connection so far */
	uint64_t bytes_out;       /* HTTP response body bytes (request) or TCP bytes sent */
	uint32_t client_addr;     /* network order */
	uint16_t client_port;     /* host order */
	uint16_t status;          /* HTTP status, 0 = none */
	uint16_t upstream_status; /* the status the server answered (proxies), 0 = none */
	uint16_t tls_version;     /* 0x0303, 0x0304, 0 = no handshake */
	bool resumed;             /* the handshake resumed a session (a ticket) */
	char verify[32];          /* nginx's $ssl_client_verify: NONE, SUCCESS, FAILED:<reason> */
	char event[24];           /* "request", "handshake-failed", "closed" ... */
	char error[48];           /* handshake error ("" if none) */
	char sni[256];
	char cipher[48];
	char subject[256];
	char serial[66];
	char identity[256];
	char method[8];
	char path[128];
	char backend[64];         /* the host's backend ("" when none) */
	char upstream[24];        /* the server a request went to, "A.B.C.D:PORT" ("" when none) */
};

/* Main lcore, after rte_eal_init(): create the workers' rings and start the
 * logging thread writing to path ("stdout" for the standard output).
 * Returns 0 or a negative errno with the reason on stderr. */
int pc_alog_start(const char *path, unsigned int ring_size);
/* Main lcore, after the workers stopped: write what is left, stop the
 * thread, free the rings. */
void pc_alog_stop(void);
/* Is the log running (its rings made at start)? */
bool pc_alog_started(void);
/* Main lcore, while the log runs: write to path ("stdout") from now on,
 * or nowhere (NULL: records are taken from the rings and discarded).
 * 0, or a negative errno (nothing changes then). */
int pc_alog_switch(const char *path);
/* Main lcore: open the file records go to again (logrotate renamed it;
 * records still in the rings go to the new one, none is lost). 0 when the
 * log goes to stdout or nowhere; a negative errno keeps the old file. */
int pc_alog_reopen(void);
/* Lines as logfmt (the default) or as JSON objects, from the next record
 * on. Any thread. */
void pc_alog_set_json(bool json);
/* Worker: whether records are taken at all (an access log was configured
 * at start): without one, the caller need not make them. */
bool pc_alog_wanted(void);
/* Worker: queue a record (copied); a full ring drops it and counts. Does
 * nothing when no access log is configured. */
void pc_alog_push(const struct pc_alog_rec *r);
/* Records pushed by workers, written by the logging thread, discarded
 * (the log off) and dropped (a ring full). Any thread. */
struct pc_alog_counts {
	uint64_t pushed, written, discarded, dropped;
};
void pc_alog_counts(struct pc_alog_counts *c);
/* "alog_records_written N" and "alog_records_dropped N". Any thread. */
void pc_alog_dump_counters(FILE *out);
/* Format one record as the logging thread writes it, logfmt or JSON (one
 * object, its strings escaped so that the line is valid JSON in UTF-8;
 * an over-long field is left out rather than cut, and the object then
 * says "truncated":true). Both fit any record in PC_ALOG_LINE_MAX bytes.
 * The length written (NUL excluded). */
#define PC_ALOG_LINE_MAX 8192
int pc_alog_format(const struct pc_alog_rec *r, char *buf, size_t len);
int pc_alog_format_json(const struct pc_alog_rec *r, char *buf, size_t len);

#endif
