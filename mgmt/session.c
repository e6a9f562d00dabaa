/* SPDX-License-Identifier: MIT */
/*
 * CLI sessions: one per control-socket client. A session runs command
 * lines against the running configuration; trust-object commands are
 * staged in the session's transaction between `begin` and `commit`, or
 * committed one by one outside a transaction. Every change is logged with
 * the peer's uid and pid. Main lcore.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pc_mgmt.h"

struct pc_session {
	struct pc_tls_txn *txn;     /* the open transaction, NULL outside one */
	char txn_err[PC_CMD_ERR_LEN]; /* its first failed command: commit refuses */
	bool admin;
	char peer[48];
};

struct pc_session *pc_session_new(uid_t uid, pid_t pid, bool admin)
{
	struct pc_session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->admin = admin;
	snprintf(s->peer, sizeof(s->peer), "uid=%u pid=%d", (unsigned int)uid, (int)pid);
	return s;
}

void pc_session_free(struct pc_session *s)
{
	if (s == NULL)
		return;
	if (s->txn != NULL)
		pc_event("cli %s: disconnected: transaction aborted", s->peer);
	pc_tls_txn_free(s->txn);
	free(s);
}

const char *pc_session_peer(const struct pc_session *s)
{
	return s->peer;
}

int pc_session_begin(struct pc_session *s, char *err, size_t errlen)
{
	if (s->txn != NULL) {
		snprintf(err, errlen, "a transaction is already open (commit or abort it)");
		return -1;
	}
	s->txn = pc_tls_txn_new();
	if (s->txn == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->txn_err[0] = '\0';
	return 0;
}

void pc_session_abort(struct pc_session *s)
{
	pc_tls_txn_free(s->txn);
	s->txn = NULL;
}

static int commit(struct pc_session *s, struct pc_tls_txn *x, char *err, size_t errlen)
{
	struct pc_tls_store_counts c;
	unsigned int n = pc_tls_txn_size(x);

	if (n == 0)
		return pc_tls_txn_commit(x, err, errlen);
	if (pc_tls_txn_commit(x, err, errlen) != 0) {
		pc_event("cli %s: commit refused: %s", s->peer, err);
		return -1;
	}
	pc_tls_store_counts(&c);
	pc_event("cli %s: committed %u object(s), generation %" PRIu64, s->peer, n,
		 c.generation);
	return 0;
}

int pc_session_commit(struct pc_session *s, char *err, size_t errlen)
{
	int rc;

	if (s->txn == NULL) {
		snprintf(err, errlen, "no transaction (begin first)");
		return -1;
	}
	if (s->txn_err[0] != '\0') {
		snprintf(err, errlen, "a command of this transaction failed (%s): nothing committed",
			 s->txn_err);
		rc = -1;
	} else {
		rc = commit(s, s->txn, err, errlen);
	}
	pc_session_abort(s);
	return rc;
}

void pc_session_show_staged(const struct pc_session *s, FILE *out)
{
	if (s->txn != NULL)
		pc_tls_txn_show(s->txn, out);
}

int pc_session_line(struct pc_session *s, struct pc_cmd_ctx *base, char *line, FILE *out,
		    char *err, size_t errlen)
{
	struct pc_cmd_ctx *ctx = base;
	struct pc_tls_txn *own = NULL;
	const struct pc_cmd *row = NULL;
	char *copy = strdup(line);
	int rc;

	if (copy == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ctx->running = true;
	ctx->read_only = !s->admin;
	ctx->session = s;
	ctx->out = out;
	ctx->txn = s->txn;
	if (ctx->txn == NULL)
		ctx->txn = own = pc_tls_txn_new();
	rc = ctx->txn == NULL ? pc_cmd_fail(ctx, "out of memory") : pc_cmd_exec(ctx, line, &row);
	if (rc != 0) {
		snprintf(err, errlen, "%s", ctx->err);
		/* A transaction with a failed change must not commit the rest. */
		if (s->txn != NULL && row != NULL && (row->flags & PC_CMD_STAGE) &&
		    s->txn_err[0] == '\0')
			snprintf(s->txn_err, sizeof(s->txn_err), "%s", ctx->err);
	} else if (row != NULL && !(row->flags & PC_CMD_READ)) {
		copy[strcspn(copy, "\r\n")] = '\0';
		pc_event("cli %s: %s", s->peer, copy);
		/* Outside a transaction a change is its own transaction. */
		if (own != NULL && (row->flags & PC_CMD_STAGE))
			rc = commit(s, own, err, errlen);
	}
	pc_tls_txn_free(own);
	ctx->txn = NULL;
	ctx->session = NULL;
	ctx->out = NULL;
	free(copy);
	return rc;
}
