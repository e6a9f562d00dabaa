/* SPDX-License-Identifier: MIT */
/*
 * Private to mgmt/: the metrics. metrics.c renders everything counted in
 * the Prometheus text exposition format (version 0.0.4), for `show stats
 * prometheus` and the HTTP endpoint; metrics_http.c is that endpoint
 * (`metrics listen ADDR:PORT`), a source of the management thread's loop.
 * Main lcore only.
 */
#ifndef PC_METRICS_H
#define PC_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "pc_mgmt.h"

/* The exposition's Content-Type. */
#define PC_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Memory held per open TCP connection, from the counters: control blocks
 * and the buffers they hold, TLS connection objects and wolfSSL's arena
 * in use, over the open connections (0 with none). */
uint64_t pc_metrics_memory_per_conn(void);
/* Its counter line, for the counter dumps. */
void pc_metrics_dump_memory(FILE *out);

/* Every metric family, HELP and TYPE lines first. */
void pc_metrics_render(FILE *out);

/* Open the endpoint cfg names (nothing when it names none) and add it to
 * the loop: 0, or -1 with the reason on stderr. */
int pc_metrics_http_open(const struct pc_metrics_cfg *cfg);
void pc_metrics_http_close(void);

/* Largest request head taken (request line and headers). */
#define PC_METRICS_REQ_MAX 2048

/* Parse the request head at the start of buf (len bytes, not
 * NUL-terminated): 0 while it is incomplete (and shorter than
 * PC_METRICS_REQ_MAX), else the status to answer: 200 (GET or HEAD of
 * /metrics; *head set for HEAD), 400 (malformed), 404 (another path),
 * 405 (another method), 431 (a head of PC_METRICS_REQ_MAX bytes or more),
 * 505 (not HTTP/1.x). Pure: the fuzz target calls it. */
int pc_metrics_http_parse(const char *buf, size_t len, bool *head);

#endif
