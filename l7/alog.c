/* SPDX-License-Identifier: MIT */
/*
 * Access log: per-worker rings of fixed-size records (single producer:
 * the worker; single consumer: the logging thread), a thread that drains
 * them to a file. Lines are logfmt (key=value, values with spaces or
 * quotes quoted) or JSON objects (`access-log format`), one per record.
 * The file is opened O_APPEND (a copytruncate leaves no hole) and opened
 * again by `access-log reopen` after logrotate renamed it.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "pc_alog.h"

#define ALOG_DRAIN_BURST 64
#define ALOG_IDLE_SLEEP_US 20000

/* Per-lcore ring and drop count (the count written only by the worker
 * that owns the ring). */
struct alog_lcore {
	struct rte_ring *ring;
	uint64_t pushed;
	uint64_t dropped;
} __rte_cache_aligned;

static struct alog_lcore alog_lcores[RTE_MAX_LCORE];
/* Where records go (NULL: nowhere, `access-log off` at run time): the
 * logging thread writes under the lock, pc_alog_switch() swaps it. */
static pthread_mutex_t alog_out_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *alog_out;
static bool alog_out_close;
static char alog_path[1024];          /* alog_out's file, when alog_out_close */
static atomic_bool alog_json;
static pthread_t alog_thread;
static atomic_bool alog_running;
static atomic_uint_fast64_t alog_written;
static atomic_uint_fast64_t alog_discarded; /* taken while the log was off */

/* Append s to the line, quoted when it is empty or has spaces, quotes,
 * '=' or control bytes (which become '?': a log line stays one line). */
static size_t put_value(char *buf, size_t len, size_t at, const char *s)
{
	bool quote = s[0] == '\0' || strpbrk(s, " \"=\\") != NULL;

	if (at + 1 >= len)
		return at;
	if (quote)
		buf[at++] = '"';
	for (const char *p = s; *p != '\0' && at + 3 < len; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '"' || ch == '\\')
			buf[at++] = '\\';
		buf[at++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	if (quote && at + 1 < len)
		buf[at++] = '"';
	buf[at] = '\0';
	return at;
}

static size_t put_kv(char *buf, size_t len, size_t at, const char *key, const char *val)
{
	int n = snprintf(buf + at, len - at, "%s%s=", at == 0 ? "" : " ", key);

	if (n < 0 || (size_t)n >= len - at)
		return len - 1;
	return put_value(buf, len, at + (size_t)n, val);
}

int pc_alog_format(const struct pc_alog_rec *r, char *buf, size_t len)
{
	char tmp[64], when[80];
	struct tm tm;
	time_t secs = (time_t)(r->time_ns / 1000000000);
	struct in_addr a = {.s_addr = r->client_addr};
	size_t at = 0;

	gmtime_r(&secs, &tm);
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when, sizeof(when), "%s.%03dZ", tmp, (int)(r->time_ns / 1000000 % 1000));
	buf[0] = '\0';
	at = put_kv(buf, len, at, "time", when);
	at = put_kv(buf, len, at, "event", r->event);
	snprintf(tmp, sizeof(tmp), "%s:%u", inet_ntoa(a), r->client_port);
	at = put_kv(buf, len, at, "client", tmp);
	at = put_kv(buf, len, at, "sni", r->sni[0] != '\0' ? r->sni : "-");
	at = put_kv(buf, len, at, "tls",
		    r->tls_version == 0x0304   ? "TLSv1.3"
		    : r->tls_version == 0x0303 ? "TLSv1.2"
					       : "-");
	at = put_kv(buf, len, at, "cipher", r->cipher[0] != '\0' ? r->cipher : "-");
	at = put_kv(buf, len, at, "resumed", r->resumed ? "yes" : "no");
	at = put_kv(buf, len, at, "verify", r->verify[0] != '\0' ? r->verify : "NONE");
	at = put_kv(buf, len, at, "subject", r->subject[0] != '\0' ? r->subject : "-");
	at = put_kv(buf, len, at, "serial", r->serial[0] != '\0' ? r->serial : "-");
	at = put_kv(buf, len, at, "identity", r->identity[0] != '\0' ? r->identity : "-");
	at = put_kv(buf, len, at, "method", r->method[0] != '\0' ? r->method : "-");
	at = put_kv(buf, len, at, "path", r->path[0] != '\0' ? r->path : "-");
	snprintf(tmp, sizeof(tmp), "%u", r->status);
	at = put_kv(buf, len, at, "status", r->status != 0 ? tmp : "-");
	snprintf(tmp, sizeof(tmp), "%" PRIu64, r->bytes_in);
	at = put_kv(buf, len, at, "bytes_in", tmp);
	snprintf(tmp, sizeof(tmp), "%" PRIu64, r->bytes_out);
	at = put_kv(buf, len, at, "bytes_out", tmp);
	snprintf(tmp, sizeof(tmp), "%" PRIu64 ".%03u", r->duration_us / 1000,
		 (unsigned int)(r->duration_us % 1000));
	at = put_kv(buf, len, at, "duration_ms", tmp);
	if (r->backend[0] != '\0')
		at = put_kv(buf, len, at, "backend", r->backend);
	if (r->upstream[0] != '\0')
		at = put_kv(buf, len, at, "upstream", r->upstream);
	if (r->upstream_status != 0) {
		snprintf(tmp, sizeof(tmp), "%u", r->upstream_status);
		at = put_kv(buf, len, at, "upstream_status", tmp);
	}
	if (r->error[0] != '\0')
		at = put_kv(buf, len, at, "error", r->error);
	return (int)at;
}

/* A JSON line being written: at is where the next byte goes; full once
 * something did not fit. The last two bytes are kept for "}" and the NUL,
 * and reserve more for the "truncated" member. */
#define JW_RESERVE (sizeof(",\"truncated\":true") - 1)
struct jw {
	char *buf;
	size_t len, at, reserve;
	bool full;
};

static void jw_put(struct jw *w, const char *s, size_t n)
{
	if (w->full || w->at + n + 2 + w->reserve > w->len) {
		w->full = true;
		return;
	}
	memcpy(w->buf + w->at, s, n);
	w->at += n;
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. p is NUL-terminated:
 * a continuation byte is never NUL, so this reads no further. */
static unsigned int utf8_len(const unsigned char *p)
{
	unsigned int n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (unsigned int i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* s as a JSON string (RFC 8259): quote and backslash escaped, control
 * bytes as \n, \r, \t or \u00XX, well-formed UTF-8 as it is, any other byte as
 * U+FFFD: whatever a client put in its SNI, certificate or path, the
 * line stays one valid JSON line. */
static void jw_str(struct jw *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	jw_put(w, "\"", 1);
	while (*p != '\0' && !w->full) {
		unsigned int n = utf8_len(p);
		char esc[8];

		if (n == 0) {
			jw_put(w, "\\ufffd", 6);
			p++;
			continue;
		}
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			jw_put(w, esc, 2);
		} else if (*p == '\n') {
			jw_put(w, "\\n", 2);
		} else if (*p == '\r') {
			jw_put(w, "\\r", 2);
		} else if (*p == '\t') {
			jw_put(w, "\\t", 2);
		} else if (*p < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			jw_put(w, esc, 6);
		} else {
			jw_put(w, (const char *)p, n);
		}
		p += n;
	}
	jw_put(w, "\"", 1);
}

/* One "key":value member; value is raw JSON (a number, true, null) when
 * str is NULL. A member that does not fit is taken back whole. */
static void jw_member(struct jw *w, const char *key, const char *str, const char *raw)
{
	size_t at = w->at;

	if (w->full)
		return;
	if (at > 1)
		jw_put(w, ",", 1);
	jw_str(w, key);
	jw_put(w, ":", 1);
	if (str != NULL)
		jw_str(w, str);
	else
		jw_put(w, raw, strlen(raw));
	if (w->full)
		w->at = at;
}

/* A string member, or null when the string is empty. */
static void jw_opt(struct jw *w, const char *key, const char *s)
{
	jw_member(w, key, s[0] != '\0' ? s : NULL, "null");
}

int pc_alog_format_json(const struct pc_alog_rec *r, char *buf, size_t len)
{
	struct jw w = {buf, len, 1, JW_RESERVE, false};
	char tmp[64], when[80];
	struct tm tm;
	time_t secs = (time_t)(r->time_ns / 1000000000);
	struct in_addr a = {.s_addr = r->client_addr};
	char addr[INET_ADDRSTRLEN];

	if (len < 3) {
		if (len > 0)
			buf[0] = '\0';
		return 0;
	}
	gmtime_r(&secs, &tm);
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when, sizeof(when), "%s.%03dZ", tmp, (int)(r->time_ns / 1000000 % 1000));
	buf[0] = '{';
	jw_member(&w, "time", when, NULL);
	jw_member(&w, "event", r->event, NULL);
	inet_ntop(AF_INET, &a, addr, sizeof(addr));
	snprintf(tmp, sizeof(tmp), "%s:%u", addr, r->client_port);
	jw_member(&w, "client", tmp, NULL);
	jw_opt(&w, "sni", r->sni);
	jw_member(&w, "tls",
		  r->tls_version == 0x0304   ? "TLSv1.3"
		  : r->tls_version == 0x0303 ? "TLSv1.2"
					     : NULL,
		  "null");
	jw_opt(&w, "cipher", r->cipher);
	jw_member(&w, "resumed", NULL, r->resumed ? "true" : "false");
	jw_member(&w, "verify", r->verify[0] != '\0' ? r->verify : "NONE", NULL);
	jw_opt(&w, "subject", r->subject);
	jw_opt(&w, "serial", r->serial);
	jw_opt(&w, "identity", r->identity);
	jw_opt(&w, "method", r->method);
	jw_opt(&w, "path", r->path);
	snprintf(tmp, sizeof(tmp), "%u", r->status);
	jw_member(&w, "status", NULL, r->status != 0 ? tmp : "null");
	snprintf(tmp, sizeof(tmp), "%" PRIu64, r->bytes_in);
	jw_member(&w, "bytes_in", NULL, tmp);
	snprintf(tmp, sizeof(tmp), "%" PRIu64, r->bytes_out);
	jw_member(&w, "bytes_out", NULL, tmp);
	snprintf(tmp, sizeof(tmp), "%" PRIu64 ".%03u", r->duration_us / 1000,
		 (unsigned int)(r->duration_us % 1000));
	jw_member(&w, "duration_ms", NULL, tmp);
	if (r->backend[0] != '\0')
		jw_member(&w, "backend", r->backend, NULL);
	if (r->upstream[0] != '\0')
		jw_member(&w, "upstream", r->upstream, NULL);
	if (r->upstream_status != 0) {
		snprintf(tmp, sizeof(tmp), "%u", r->upstream_status);
		jw_member(&w, "upstream_status", NULL, tmp);
	}
	if (r->error[0] != '\0')
		jw_member(&w, "error", r->error, NULL);
	if (w.full) {
		/* Room was kept for this (unless len is tiny). */
		w.full = false;
		w.reserve = 0;
		jw_member(&w, "truncated", NULL, "true");
	}
	buf[w.at++] = '}';
	buf[w.at] = '\0';
	return (int)w.at;
}

/* Write what every ring holds; returns the number of records. */
static unsigned int drain_all(void)
{
	struct pc_alog_rec recs[ALOG_DRAIN_BURST];
	char line[PC_ALOG_LINE_MAX];
	unsigned int total = 0;
	bool json = atomic_load(&alog_json);

	pthread_mutex_lock(&alog_out_lock);
	for (unsigned int i = 0; i < RTE_MAX_LCORE; i++) {
		struct rte_ring *ring = alog_lcores[i].ring;
		unsigned int n;

		if (ring == NULL)
			continue;
		while ((n = rte_ring_sc_dequeue_burst_elem(ring, recs, sizeof(recs[0]),
							   ALOG_DRAIN_BURST, NULL)) != 0) {
			for (unsigned int k = 0; k < n && alog_out != NULL; k++) {
				if (json)
					pc_alog_format_json(&recs[k], line, sizeof(line));
				else
					pc_alog_format(&recs[k], line, sizeof(line));
				fputs(line, alog_out);
				fputc('\n', alog_out);
			}
			total += n;
		}
	}
	if (total != 0 && alog_out != NULL) {
		fflush(alog_out);
		atomic_fetch_add(&alog_written, total);
	} else if (total != 0) {
		atomic_fetch_add(&alog_discarded, total);
	}
	pthread_mutex_unlock(&alog_out_lock);
	return total;
}

/* path's stream: stdout, or the file opened for appending (O_APPEND:
 * after a copytruncate, lines go on at the new end). */
static FILE *open_out(const char *path, bool *close_it)
{
	*close_it = strcmp(path, "stdout") != 0;
	return *close_it ? fopen(path, "ae") : stdout;
}

void pc_alog_set_json(bool json)
{
	atomic_store(&alog_json, json);
}

int pc_alog_reopen(void)
{
	FILE *f, *old;

	if (!alog_out_close)
		return 0;
	f = fopen(alog_path, "ae");
	if (f == NULL)
		return -errno;
	/* Records drained before the swap are in the renamed file, those
	 * after it in the new one. */
	pthread_mutex_lock(&alog_out_lock);
	old = alog_out;
	alog_out = f;
	pthread_mutex_unlock(&alog_out_lock);
	fclose(old);
	return 0;
}

bool pc_alog_started(void)
{
	return atomic_load(&alog_running);
}

int pc_alog_switch(const char *path)
{
	bool close_new = false, close_old;
	FILE *f = NULL, *old;

	if (path != NULL && (f = open_out(path, &close_new)) == NULL)
		return -errno;
	pthread_mutex_lock(&alog_out_lock);
	old = alog_out;
	close_old = alog_out_close;
	alog_out = f;
	alog_out_close = close_new;
	pthread_mutex_unlock(&alog_out_lock);
	if (close_new)
		snprintf(alog_path, sizeof(alog_path), "%s", path);
	if (close_old)
		fclose(old);
	return 0;
}

static void *alog_main(void *arg)
{
	(void)arg;
	while (atomic_load(&alog_running))
		if (drain_all() == 0)
			usleep(ALOG_IDLE_SLEEP_US);
	drain_all();
	return NULL;
}

int pc_alog_start(const char *path, unsigned int ring_size)
{
	unsigned int id;
	int err;

	alog_out = open_out(path, &alog_out_close);
	snprintf(alog_path, sizeof(alog_path), "%s", path);
	if (alog_out == NULL) {
		err = errno;
		fprintf(stderr, "portcullis: access log %s: %s\n", path, strerror(err));
		return -err;
	}
	RTE_LCORE_FOREACH_WORKER(id) {
		char name[RTE_RING_NAMESIZE];

		snprintf(name, sizeof(name), "alog_%u", id);
		alog_lcores[id].ring = rte_ring_create_elem(name, sizeof(struct pc_alog_rec),
							    ring_size, (int)rte_lcore_to_socket_id(id),
							    RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (alog_lcores[id].ring == NULL) {
			err = rte_errno;
			fprintf(stderr, "portcullis: access log ring for lcore %u (%u records): %s\n",
				id, ring_size, rte_strerror(err));
			pc_alog_stop();
			return -err;
		}
	}
	atomic_store(&alog_running, true);
	err = pthread_create(&alog_thread, NULL, alog_main, NULL);
	if (err != 0) {
		atomic_store(&alog_running, false);
		fprintf(stderr, "portcullis: access log thread: %s\n", strerror(err));
		pc_alog_stop();
		return -err;
	}
	pthread_setname_np(alog_thread, "pc-alog");
	return 0;
}

void pc_alog_stop(void)
{
	if (atomic_exchange(&alog_running, false))
		pthread_join(alog_thread, NULL);
	for (unsigned int i = 0; i < RTE_MAX_LCORE; i++) {
		rte_ring_free(alog_lcores[i].ring);
		alog_lcores[i].ring = NULL;
	}
	if (alog_out_close)
		fclose(alog_out);
	alog_out = NULL;
	alog_out_close = false;
}

bool pc_alog_wanted(void)
{
	return alog_lcores[rte_lcore_id() % RTE_MAX_LCORE].ring != NULL;
}

void pc_alog_push(const struct pc_alog_rec *r)
{
	struct alog_lcore *l = &alog_lcores[rte_lcore_id() % RTE_MAX_LCORE];

	if (l->ring == NULL)
		return;
	if (rte_ring_sp_enqueue_elem(l->ring, (void *)(uintptr_t)r, sizeof(*r)) != 0)
		l->dropped++;
	else
		l->pushed++;
}

void pc_alog_counts(struct pc_alog_counts *c)
{
	memset(c, 0, sizeof(*c));
	/* Pushed is read before written: when the two are equal, every
	 * record pushed so far is in the log. */
	for (unsigned int i = 0; i < RTE_MAX_LCORE; i++) {
		c->pushed += alog_lcores[i].pushed;
		c->dropped += alog_lcores[i].dropped;
	}
	c->written = (uint64_t)atomic_load(&alog_written);
	c->discarded = (uint64_t)atomic_load(&alog_discarded);
}

void pc_alog_dump_counters(FILE *out)
{
	struct pc_alog_counts c;

	pc_alog_counts(&c);
	fprintf(out, "alog_records_pushed %" PRIu64 "\n", c.pushed);
	fprintf(out, "alog_records_written %" PRIu64 "\n", c.written);
	fprintf(out, "alog_records_discarded %" PRIu64 "  # taken while the log was off (access-log off at run time)\n",
		c.discarded);
	fprintf(out, "alog_records_dropped %" PRIu64 "  # the access-log ring was full\n",
		c.dropped);
}
