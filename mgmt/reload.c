/* SPDX-License-Identifier: MIT */
/*
 * `reload` and SIGHUP: the start-up config file read again, as at start,
 * into a configuration of its own (the running one untouched), then the
 * difference applied, all or nothing:
 *   - settings are compared as `dump config` writes them, command row by
 *     command row: a start-up setting that differs refuses the whole
 *     reload with its reason; run-time settings that differ are given to
 *     the running process by running their new lines as the CLI would;
 *   - trust objects: the file's objects staged in one whole transaction,
 *     reduced to what was added, changed (its spec, or the content of one
 *     of its files) or removed, and committed with the rule of `pcctl
 *     commit`. Unchanged objects keep their version.
 * The file is the truth: objects it does not name, those pcctl added
 * since the start included, are removed. Then the access log and the
 * event log are opened again (logrotate). Main lcore.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pc_alog.h"
#include "pc_mgmt.h"

/* Command rows of a settings dump (a few dozen). */
#define RELOAD_MAX_ROWS 128

/* The lines each row has in the running dump (side 0) and the file's
 * (side 1), concatenated; NULL when none. */
struct rows {
	const struct pc_cmd *row[RELOAD_MAX_ROWS];
	char *text[2][RELOAD_MAX_ROWS];
	unsigned int n;
};

/* The file's configuration, read as at start. */
struct file_cfg {
	struct pc_dp_config dp;
	struct pc_tls_spec tls;
	struct pc_cmd_ctx ctx;
};

static int rows_add(struct rows *rs, int side, const char *line)
{
	char *copy = strdup(line), *t;
	const struct pc_cmd *row;
	unsigned int i;
	size_t have;

	if (copy == NULL)
		return -1;
	row = pc_cmd_find(copy);
	free(copy);
	if (row == NULL)
		return 0;
	for (i = 0; i < rs->n && rs->row[i] != row; i++)
		;
	if (i == rs->n) {
		if (rs->n == RELOAD_MAX_ROWS)
			return -1;
		rs->row[rs->n++] = row;
	}
	have = rs->text[side][i] != NULL ? strlen(rs->text[side][i]) : 0;
	t = realloc(rs->text[side][i], have + strlen(line) + 2);
	if (t == NULL)
		return -1;
	sprintf(t + have, "%s\n", line);
	rs->text[side][i] = t;
	return 0;
}

static int rows_fill(struct rows *rs, int side, const struct pc_cmd_ctx *ctx)
{
	char *buf = NULL, *save = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int rc = 0;

	if (m == NULL)
		return -1;
	pc_config_dump_settings(ctx, m);
	if (fclose(m) != 0) {
		free(buf);
		return -1;
	}
	for (char *l = strtok_r(buf, "\n", &save); l != NULL && rc == 0;
	     l = strtok_r(NULL, "\n", &save))
		rc = rows_add(rs, side, l);
	free(buf);
	return rc;
}

static void rows_free(struct rows *rs)
{
	for (unsigned int i = 0; i < rs->n; i++) {
		free(rs->text[0][i]);
		free(rs->text[1][i]);
	}
}

static bool row_changed(const struct rows *rs, unsigned int i)
{
	const char *a = rs->text[0][i], *b = rs->text[1][i];

	return strcmp(a != NULL ? a : "", b != NULL ? b : "") != 0;
}

/* A log file can be opened for appending (created if need be). */
static int check_log_file(const char *words, const char *path, char *err, size_t errlen)
{
	FILE *f;

	if (path[0] == '\0' || strcmp(path, "stdout") == 0 || strcmp(path, "stderr") == 0)
		return 0;
	f = fopen(path, "a");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s: %s", words, path, strerror(errno));
		return -1;
	}
	fclose(f);
	return 0;
}

/* Every setting that differs is one the running process can take, and
 * what it needs (a log file, the access log's rings) is there: the
 * changes applied after the commit cannot fail but by a race. */
static int check_settings(const struct rows *rs, const struct pc_cmd_ctx *run,
			  const struct file_cfg *f, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < rs->n; i++) {
		const struct pc_cmd *row = rs->row[i];

		if (!row_changed(rs, i))
			continue;
		if (!(row->flags & PC_CMD_RUN)) {
			snprintf(err, errlen, "%s: cannot change at run time: %s (restart)", row->words,
				 row->fixed != NULL ? row->fixed : "set at start");
			return -1;
		}
		if (strcmp(row->words, "access-log") == 0 && f->ctx.access_log[0] != '\0') {
			if (!pc_alog_started()) {
				snprintf(err, errlen, "access-log: cannot change at run time: the log's "
					 "rings are made at start (restart)");
				return -1;
			}
			if (f->ctx.access_log_ring != run->access_log_ring) {
				snprintf(err, errlen, "access-log: cannot change at run time: the ring "
					 "size (%u records) is fixed at start (restart)",
					 run->access_log_ring);
				return -1;
			}
			if (check_log_file(row->words, f->ctx.access_log, err, errlen) != 0)
				return -1;
		}
		if (strcmp(row->words, "event-log") == 0 &&
		    check_log_file(row->words, f->ctx.event_log, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* Run one line on the running configuration as the CLI would. */
static int run_line(struct pc_cmd_ctx *run, const char *line, char *err, size_t errlen)
{
	char buf[PC_TLS_PATH_MAX + 64];

	snprintf(buf, sizeof(buf), "%s", line);
	if (pc_cmd_exec(run, buf, NULL) == 0)
		return 0;
	snprintf(err, errlen, "%s", run->err);
	return -1;
}

/* The new lines of every run-time row that differs (a row the file no
 * longer has, access-log, is turned off); names them in `changed`. */
static int apply_settings(const struct rows *rs, struct pc_cmd_ctx *run, char *changed,
			  size_t cap, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < rs->n; i++) {
		char off[128], *save = NULL, *text;
		size_t at = strlen(changed);
		int rc = 0;

		if (!row_changed(rs, i))
			continue;
		snprintf(changed + at, cap - at, "%s%s", at == 0 ? "" : ", ", rs->row[i]->words);
		if (rs->text[1][i] == NULL) {
			snprintf(off, sizeof(off), "%s off", rs->row[i]->words);
			rc = run_line(run, off, err, errlen);
		} else {
			text = strdup(rs->text[1][i]);
			if (text == NULL) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			for (char *l = strtok_r(text, "\n", &save); l != NULL && rc == 0;
			     l = strtok_r(NULL, "\n", &save))
				rc = run_line(run, l, err, errlen);
			free(text);
		}
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* "N added (names), ..." for the event log and the CLI. */
static void describe(char *out, size_t cap, const struct pc_tls_diff *d, uint64_t gen,
		     const char *settings)
{
	size_t at = 0;

	at += (size_t)snprintf(out + at, cap - at, "%lu added", d->added);
	if (d->added != 0)
		at += (size_t)snprintf(out + at, cap - at, " (%s)", d->added_names);
	at += (size_t)snprintf(out + at, cap - at, ", %lu changed", d->changed);
	if (d->changed != 0 && at < cap)
		at += (size_t)snprintf(out + at, cap - at, " (%s)", d->changed_names);
	if (at < cap)
		at += (size_t)snprintf(out + at, cap - at, ", %lu removed", d->removed);
	if (d->removed != 0 && at < cap)
		at += (size_t)snprintf(out + at, cap - at, " (%s)", d->removed_names);
	if (at < cap)
		at += (size_t)snprintf(out + at, cap - at, ", %lu unchanged; generation %" PRIu64
				       "; settings changed: %s", d->unchanged, gen,
				       settings[0] != '\0' ? settings : "none");
}

/* The run-time state the CLI gives a command, for lines reload runs. */
struct saved_ctx {
	bool running, read_only;
	struct pc_session *session;
	FILE *out;
	struct pc_tls_txn *txn;
};

static void enter(struct pc_cmd_ctx *run, struct saved_ctx *s)
{
	*s = (struct saved_ctx){run->running, run->read_only, run->session, run->out, run->txn};
	run->running = true;
	run->read_only = false;
	run->session = NULL;
	run->out = NULL;
	run->txn = NULL;
}

static void leave(struct pc_cmd_ctx *run, const struct saved_ctx *s)
{
	run->running = s->running;
	run->read_only = s->read_only;
	run->session = s->session;
	run->out = s->out;
	run->txn = s->txn;
}

/* Everything but the bookkeeping: 0, or -1 with err set (nothing changed
 * unless *committed). */
static int reload(struct pc_cmd_ctx *run, struct file_cfg *f, char *summary, size_t cap,
		  bool *committed, char *err, size_t errlen)
{
	struct rows rs = {0};
	struct pc_tls_diff d;
	struct pc_tls_store_counts c = {0};
	char settings[512] = "";
	int rc = -1;

	*committed = false;
	pc_dp_config_defaults(&f->dp);
	pc_tls_spec_defaults(&f->tls);
	f->ctx.dp = &f->dp;
	f->ctx.tls = &f->tls;
	f->ctx.reread = true;
	f->ctx.txn = pc_tls_txn_new_whole();
	if (f->ctx.txn == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (pc_config_read(run->config_file, &f->ctx, err, errlen) != 0)
		goto out;
	if (rows_fill(&rs, 0, run) != 0 || rows_fill(&rs, 1, &f->ctx) != 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (check_settings(&rs, run, f, err, errlen) != 0)
		goto out;
	memset(&d, 0, sizeof(d));
	/* Without a TLS listener nothing was committed at start either. */
	if (run->tls_listeners != 0) {
		if (pc_tls_txn_reduce(f->ctx.txn, &d, err, errlen) != 0)
			goto out;
		if (pc_tls_txn_size(f->ctx.txn) != 0 &&
		    pc_tls_txn_commit(f->ctx.txn, err, errlen) != 0)
			goto out;
		*committed = d.added + d.changed + d.removed != 0;
	}
	if (apply_settings(&rs, run, settings, sizeof(settings), err, errlen) != 0)
		goto out;
	/* Files are read again, as nginx's reload does: the ticket keys too. */
	if (run->tls_listeners != 0 && run->tls->ticket_keys[0] != '\0' &&
	    run_line(run, "tls ticket-keys reload", err, errlen) != 0)
		goto out;
	pc_tls_store_counts(&c);
	describe(summary, cap, &d, c.generation, settings);
	rc = 0;
out:
	pc_tls_txn_free(f->ctx.txn);
	f->ctx.txn = NULL;
	rows_free(&rs);
	return rc;
}

/* What show info says of the last reload (cut to fit). */
static void set_result(const char *s)
{
	size_t n = strnlen(s, sizeof(pc_reloads.config_last_result) - 1);

	memcpy(pc_reloads.config_last_result, s, n);
	pc_reloads.config_last_result[n] = '\0';
}

static void reopen_logs(const struct pc_cmd_ctx *run)
{
	int rc = pc_alog_started() ? pc_alog_reopen() : 0;

	if (rc != 0)
		pc_event("reload: access log %s: %s", run->access_log, strerror(-rc));
	rc = pc_event_reopen();
	if (rc != 0)
		pc_event("reload: event log %s: %s", run->event_log, strerror(-rc));
}

int pc_reload(struct pc_cmd_ctx *run, const char *who, FILE *out, char *err, size_t errlen)
{
	struct file_cfg *f;
	struct saved_ctx saved;
	char summary[PC_CMD_ERR_LEN * 5];
	bool committed = false;
	int rc;

	if (run->config_file == NULL) {
		snprintf(err, errlen, "no config file to read (started without -c)");
		return -1;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	enter(run, &saved);
	rc = reload(run, f, summary, sizeof(summary), &committed, err, errlen);
	leave(run, &saved);
	free(f);
	/* logrotate's postrotate: every log opened again, whatever the file
	 * says (the events below land in the new one). */
	reopen_logs(run);
	pc_reloads.config_last = time(NULL);
	pc_reloads.config_last_ok = rc == 0;
	if (rc != 0) {
		pc_reloads.config_failed++;
		/* Only a run-time setting that failed after the commit (a race
		 * with the file system) leaves changes behind: say so. */
		if (committed)
			snprintf(err + strlen(err), errlen - strlen(err),
				 " (the trust objects were committed)");
		set_result(err);
		pc_event("reload (%s) refused: %s%s", who, err, committed ? "" : "; nothing changed");
		return -1;
	}
	pc_reloads.config_ok++;
	set_result(summary);
	pc_event("reload (%s): %s: %s", who, run->config_file, summary);
	if (out != NULL)
		fprintf(out, "%s: %s\n", run->config_file, summary);
	return 0;
}
