/* SPDX-License-Identifier: MIT */
/*
 * mgmt/: the command language, one language for the start-up config file
 * and the Unix-socket CLI (pcctl), and the process's life cycle. Main
 * lcore only.
 */
#ifndef PC_MGMT_H
#define PC_MGMT_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "pc_dataplane.h"
#include "pc_tls.h"

#define PC_CMD_MAX_ARGS 16
#define PC_CMD_ERR_LEN 512

struct pc_session;

/* The Unix-socket CLI (`control socket`). */
struct pc_ctl_cfg {
	char path[108];     /* sun_path; "" = no socket */
	uint32_t mode;      /* permission bits (0600) */
	char group[64];     /* "" = the process's */
};

/* The metrics' HTTP endpoint (`metrics listen`): port 0 = none. */
struct pc_metrics_cfg {
	uint32_t addr;      /* IPv4, host order */
	uint16_t port;
};

/* What a command acts on. Before start, commands fill the configuration;
 * trust objects (hosts, ca-sets, certs) are staged in txn, committed at
 * start or by the session's commit. */
struct pc_cmd_ctx {
	struct pc_dp_config *dp;
	struct pc_tls_spec *tls;
	struct pc_tls_txn *txn;
	bool running;                     /* false: the start-up config */
	bool read_only;                   /* a CLI session that may only look */
	struct pc_session *session;       /* the CLI session, NULL at start */
	FILE *out;                        /* a command's reply (CLI); NULL at start */
	unsigned int tls_listeners;
	char access_log[PC_TLS_PATH_MAX]; /* "" = off */
	uint32_t access_log_ring;         /* records per worker */
	bool access_log_json;             /* access-log format json (else logfmt) */
	char event_log[PC_TLS_PATH_MAX];  /* stdout, stderr or a file; "" = stdout */
	const char *config_file;          /* the -c file, read again by reload */
	bool watch_off;                   /* `watch off`: files are not watched */
	bool reread;                      /* that file read again: certificate files only
					   * checked readable, the commit parses what changed */
	struct pc_ctl_cfg ctl;
	struct pc_metrics_cfg metrics;
	char err[PC_CMD_ERR_LEN];
};

/* Where and by whom a command may run. 0: a start-up setting. */
#define PC_CMD_RUN 0x1   /* also at run time (the CLI) */
#define PC_CMD_CLI 0x2   /* only at run time */
#define PC_CMD_READ 0x4  /* changes nothing: sessions of any level */
#define PC_CMD_STAGE 0x8 /* changes trust objects: staged in the transaction */
#define PC_CMD_NO_USAGE 0x10 /* its failures are not about its arguments: no usage line */

/* One row of a command table (HAProxy cli_kws, VPP VLIB_CLI_COMMAND):
 * the fixed words that select it, its usage line, a handler that gets the
 * arguments after the words (and writes any output to ctx->out), where it
 * may run (PC_CMD_*), for a start-up setting why it cannot change at run
 * time, and for a run-time setting what gives the new value to the
 * running process (after the handler succeeded). Handlers return 0, or
 * non-zero with ctx->err set to a message naming the bad argument. */
struct pc_cmd {
	const char *words;
	const char *usage;
	int (*handler)(struct pc_cmd_ctx *ctx, int argc, char **argv);
	unsigned int flags;
	const char *fixed;
	void (*apply)(const struct pc_cmd_ctx *ctx);
};

struct pc_cmd_table {
	const struct pc_cmd *rows;
	unsigned int n;
};

/* Run one line: blank lines and '#' comments are accepted and do nothing.
 * Returns 0 or -1 with ctx->err set. Modifies line (tokenised in place).
 * *row (when not NULL) is set to the row that ran, or NULL. */
int pc_cmd_exec(struct pc_cmd_ctx *ctx, char *line, const struct pc_cmd **row);

/* Read a config file: one command per line. Stops at the first error and
 * prints "FILE:LINE: message" to stderr. Returns 0 or -1. */
int pc_config_load(const char *path, struct pc_cmd_ctx *ctx);
/* The same, the message in err instead. */
int pc_config_read(const char *path, struct pc_cmd_ctx *ctx, char *err, size_t errlen);

/* The config file that reproduces ctx's running state (`dump config`). */
void pc_config_dump(const struct pc_cmd_ctx *ctx, FILE *out);
/* Its settings only (no trust object), one line per setting, defaults
 * included: what reload compares. */
void pc_config_dump_settings(const struct pc_cmd_ctx *ctx, FILE *out);

/* The row a command line would run (line is tokenised in place), or NULL. */
const struct pc_cmd *pc_cmd_find(char *line);

/* Print every command's usage, each line after indent: the config's, or
 * (cli) those the control socket runs. */
void pc_cmd_usage(FILE *out, bool cli, const char *indent);

/* Set ctx->err (printf-style) and return -1: the way handlers fail. */
int pc_cmd_fail(struct pc_cmd_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Argument parsers for handlers: 0 on success, -1 with ctx->err set. */
/* Exactly want arguments, or "missing/too many arguments". */
int pc_arg_count(struct pc_cmd_ctx *ctx, int argc, int want);
int pc_arg_u32(struct pc_cmd_ctx *ctx, const char *what, const char *s, uint32_t min,
	       uint32_t max, uint32_t *out);
/* Exactly one argument, on or off. */
int pc_arg_on_off(struct pc_cmd_ctx *ctx, int argc, char **argv, bool *on);
int pc_arg_ipv4(struct pc_cmd_ctx *ctx, const char *what, const char *s, uint32_t *out);
int pc_arg_prefix(struct pc_cmd_ctx *ctx, const char *what, const char *s, uint32_t *addr,
		  uint8_t *len);

/* A new listener on port for the application named app (zeroed besides),
 * or NULL with ctx->err set (port taken, table full). */
struct pc_dp_listener *pc_cmd_add_listener(struct pc_cmd_ctx *ctx, uint32_t port,
					   const char *app);

/* apply of the dataplane's run-time settings (worker idle, TCP keepalive
 * and idle timeout). */
void pc_cmd_apply_dp(const struct pc_cmd_ctx *ctx);

/* Per-module command tables. */
extern const struct pc_cmd_table pc_cmds_dataplane;
extern const struct pc_cmd_table pc_cmds_tcp;
extern const struct pc_cmd_table pc_cmds_tls;
extern const struct pc_cmd_table pc_cmds_ctl;
extern const struct pc_cmd_table pc_cmds_metrics;

/* The management thread's event loop (loop.c). A source gives the file
 * descriptors it waits on (at most max, returns how many), is run after
 * every poll with their results (revents 0 when nothing happened: a
 * source may act on its own deadlines then) and may shorten the wait to
 * its next deadline (next_ms: milliseconds, or -1 for none; may be NULL). */
struct pollfd;
struct pc_loop_src {
	unsigned int (*fds)(struct pollfd *p, unsigned int max);
	void (*run)(const struct pollfd *p, unsigned int n);
	int (*next_ms)(void);
};
/* 0, or -1 when the loop has no room for another source. */
int pc_loop_add(const struct pc_loop_src *s);
void pc_loop_del(const struct pc_loop_src *s);
/* Wait at most timeout_ms (less when a source's deadline is nearer) and
 * serve every source. */
void pc_loop_poll(int timeout_ms);

/* Tell systemd (Type=notify) the service's state, e.g. "READY=1"
 * (notify.c): 0, or -1 when NOTIFY_SOCKET is set but cannot be told. */
int pc_notify(const char *state);

/* The event log (event.c): one line per event, to stdout (the default)
 * or stderr with a "portcullis: " prefix, or appended to a file with an
 * ISO-8601 UTC timestamp. Main lcore. */
void pc_event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Send events to where ("stdout", "stderr" or a file, opened O_APPEND)
 * from now on: 0, or a negative errno with the old destination kept. */
int pc_event_open(const char *where);
/* Open the file again (logrotate's rename); 0 when the log is not a file. */
int pc_event_reopen(void);
/* Has main opened the event log (pc_event_open)? Before, `event-log` at
 * run time is refused (unit tests, fuzzing). */
bool pc_event_started(void);

/* What reloads did (event.c): of the config file (`reload`, SIGHUP) and of
 * objects whose files changed on disk; for `show info` and the metrics. */
struct pc_reload_stats {
	uint64_t config_ok, config_failed;
	time_t config_last;     /* last attempt, 0 = none yet */
	bool config_last_ok;
	uint64_t files_ok, files_refused;
	time_t files_last;      /* last attempt, 0 = none yet */
	bool files_last_ok;
	char config_last_result[PC_CMD_ERR_LEN]; /* what the last config reload did, or why not */
};
extern struct pc_reload_stats pc_reloads;

/* `reload` and SIGHUP (reload.c): read run->config_file again and apply
 * the difference with the running state as one transaction, or change
 * nothing and return -1 with the reason in err. who names the trigger in
 * the event log ("SIGHUP", "cli uid=0 pid=42"); out (may be NULL) gets
 * the summary. Also reopens the access log and the event log. Main lcore. */
int pc_reload(struct pc_cmd_ctx *run, const char *who, FILE *out, char *err, size_t errlen);

/* The file watcher (watch.c): trust objects reloaded when their files
 * change, certificate expiry logged. init before the start-up commit (it
 * follows the commits), fini after the workers stopped. */
int pc_watch_init(const struct pc_cmd_ctx *ctx);
void pc_watch_fini(void);
/* Log the certs that entered the expiry window or expired since the last
 * scan (every 10 s, and when the window changes). */
void pc_watch_expiry_scan(void);
extern const struct pc_cmd_table pc_cmds_watch;

/* The control socket (ctl.c): opened after start-up, a source of the
 * loop. ctx is the running configuration the sessions' commands act on. */
int pc_ctl_open(struct pc_cmd_ctx *ctx);
void pc_ctl_close(void);

/* Sessions (session.c): one per CLI client. */
struct pc_session *pc_session_new(uid_t uid, pid_t pid, bool admin);
void pc_session_free(struct pc_session *s);
/* Run one line for the session: the reply body goes to out; 0 (OK) or -1
 * (ERR, reason in err). */
int pc_session_line(struct pc_session *s, struct pc_cmd_ctx *base, char *line, FILE *out,
		    char *err, size_t errlen);
/* begin / commit / abort / show staged (cli_cmds_ctl.c calls these). */
int pc_session_begin(struct pc_session *s, char *err, size_t errlen);
int pc_session_commit(struct pc_session *s, char *err, size_t errlen);
void pc_session_abort(struct pc_session *s);
void pc_session_show_staged(const struct pc_session *s, FILE *out);
/* "uid=U pid=P" of the session's peer, for the log. */
const char *pc_session_peer(const struct pc_session *s);
/* When the process started (show info). */
extern time_t pc_start_time;

#endif
