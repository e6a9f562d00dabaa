/* SPDX-License-Identifier: MIT */
/*
 * mgmt/: the command language (config files now, the Unix-socket CLI
 * later) and the process's life cycle. Main lcore only.
 */
#ifndef PC_MGMT_H
#define PC_MGMT_H

#include <stdio.h>

#include "pc_dataplane.h"
#include "pc_tls.h"

#define PC_CMD_MAX_ARGS 16
#define PC_CMD_ERR_LEN 512

/* What a command acts on. Before start, commands fill the configuration. */
struct pc_cmd_ctx {
	struct pc_dp_config *dp;
	struct pc_tls_spec *tls;
	unsigned int tls_listeners;
	char access_log[PC_TLS_PATH_MAX]; /* "" = off */
	uint32_t access_log_ring;         /* records per worker */
	char err[PC_CMD_ERR_LEN];
};

/* One row of a command table (HAProxy cli_kws, VPP VLIB_CLI_COMMAND):
 * the fixed words that select it, its usage line, and a handler that gets
 * the arguments after the words. Handlers return 0, or non-zero with
 * ctx->err set to a message naming the bad argument. */
struct pc_cmd {
	const char *words;
	const char *usage;
	int (*handler)(struct pc_cmd_ctx *ctx, int argc, char **argv);
};

struct pc_cmd_table {
	const struct pc_cmd *rows;
	unsigned int n;
};

/* Run one line: blank lines and '#' comments are accepted and do nothing.
 * Returns 0 or -1 with ctx->err set. Modifies line (tokenised in place). */
int pc_cmd_exec(struct pc_cmd_ctx *ctx, char *line);

/* Read a config file: one command per line. Stops at the first error and
 * prints "FILE:LINE: message" to stderr. Returns 0 or -1. */
int pc_config_load(const char *path, struct pc_cmd_ctx *ctx);

/* Print every command's usage. */
void pc_cmd_usage(FILE *out);

/* Set ctx->err (printf-style) and return -1: the way handlers fail. */
int pc_cmd_fail(struct pc_cmd_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Argument parsers for handlers: 0 on success, -1 with ctx->err set. */
/* Exactly want arguments, or "missing/too many arguments". */
int pc_arg_count(struct pc_cmd_ctx *ctx, int argc, int want);
int pc_arg_u32(struct pc_cmd_ctx *ctx, const char *what, const char *s, uint32_t min,
	       uint32_t max, uint32_t *out);
int pc_arg_ipv4(struct pc_cmd_ctx *ctx, const char *what, const char *s, uint32_t *out);
int pc_arg_prefix(struct pc_cmd_ctx *ctx, const char *what, const char *s, uint32_t *addr,
		  uint8_t *len);

/* A new listener on port for the application named app (zeroed besides),
 * or NULL with ctx->err set (port taken, table full). */
struct pc_dp_listener *pc_cmd_add_listener(struct pc_cmd_ctx *ctx, uint32_t port,
					   const char *app);

/* Per-module command tables. */
extern const struct pc_cmd_table pc_cmds_dataplane;
extern const struct pc_cmd_table pc_cmds_tcp;
extern const struct pc_cmd_table pc_cmds_tls;

#endif
