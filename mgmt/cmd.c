/* SPDX-License-Identifier: MIT */
/* The command language: tokenising, table lookup, argument parsing. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pc_mgmt.h"

static const struct pc_cmd_table *const pc_tables[] = {
	&pc_cmds_dataplane,
	&pc_cmds_tcp,
	&pc_cmds_tls,
	&pc_cmds_ctl,
	&pc_cmds_metrics,
	&pc_cmds_watch,
};

int pc_cmd_fail(struct pc_cmd_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* Number of leading tokens of argv that spell words, or 0 if they don't. */
static int words_match(const char *words, int argc, char **argv)
{
	int i = 0;
	const char *w = words;

	while (*w != '\0') {
		size_t len = strcspn(w, " ");

		if (i >= argc || strlen(argv[i]) != len || strncmp(argv[i], w, len) != 0)
			return 0;
		i++;
		w += len;
		while (*w == ' ')
			w++;
	}
	return i;
}

/* Tokenise line in place (a '#' starts a comment) into argv; returns the
 * number of words, or -1 when there are too many. */
static int tokenise(char *line, char **argv)
{
	char *save = NULL;
	int argc = 0;
	char *hash = strchr(line, '#');

	if (hash != NULL)
		*hash = '\0';
	for (char *t = strtok_r(line, " \t\r\n", &save); t != NULL;
	     t = strtok_r(NULL, " \t\r\n", &save)) {
		if (argc == PC_CMD_MAX_ARGS)
			return -1;
		argv[argc++] = t;
	}
	return argc;
}

/* The row whose words match the most leading words of argv. */
static const struct pc_cmd *lookup(int argc, char **argv, int *nwords)
{
	const struct pc_cmd *best = NULL;
	int best_n = 0;

	for (size_t t = 0; t < sizeof(pc_tables) / sizeof(pc_tables[0]); t++) {
		for (unsigned int r = 0; r < pc_tables[t]->n; r++) {
			const struct pc_cmd *c = &pc_tables[t]->rows[r];
			int n = words_match(c->words, argc, argv);

			if (n > best_n) {
				best = c;
				best_n = n;
			}
		}
	}
	*nwords = best_n;
	return best;
}

const struct pc_cmd *pc_cmd_find(char *line)
{
	char *argv[PC_CMD_MAX_ARGS + 1];
	int argc = tokenise(line, argv), n;

	return argc > 0 ? lookup(argc, argv, &n) : NULL;
}

int pc_cmd_exec(struct pc_cmd_ctx *ctx, char *line, const struct pc_cmd **row)
{
	char *argv[PC_CMD_MAX_ARGS + 1];
	int argc, best_n;
	const struct pc_cmd *best;

	ctx->err[0] = '\0';
	if (row != NULL)
		*row = NULL;
	argc = tokenise(line, argv);
	if (argc < 0)
		return pc_cmd_fail(ctx, "too many words (at most %d)", PC_CMD_MAX_ARGS);
	if (argc == 0)
		return 0;
	best = lookup(argc, argv, &best_n);
	if (best == NULL)
		return pc_cmd_fail(ctx, "unknown command '%s'", argv[0]);
	if (row != NULL)
		*row = best;
	if (ctx->read_only && !(best->flags & PC_CMD_READ))
		return pc_cmd_fail(ctx, "%s: permission denied: this session may only look "
				   "(connect as root or as portcullis's user to change things)",
				   best->words);
	if (ctx->running && !(best->flags & (PC_CMD_RUN | PC_CMD_CLI)))
		return pc_cmd_fail(ctx, "%s: cannot change at run time: %s", best->words,
				   best->fixed != NULL ? best->fixed
						       : "set at start (restart with the new config)");
	if (!ctx->running && (best->flags & PC_CMD_CLI))
		return pc_cmd_fail(ctx, "%s: a command of the control socket (pcctl), not of "
				   "the config file", best->words);
	if (best->handler(ctx, argc - best_n, argv + best_n) != 0) {
		char msg[PC_CMD_ERR_LEN];

		snprintf(msg, sizeof(msg), "%s", ctx->err);
		if (best->flags & PC_CMD_NO_USAGE)
			return pc_cmd_fail(ctx, "%s: %s", best->words, msg);
		return pc_cmd_fail(ctx, "%s: %s (usage: %s)", best->words, msg, best->usage);
	}
	if (ctx->running && best->apply != NULL)
		best->apply(ctx);
	return 0;
}

void pc_cmd_usage(FILE *out, bool cli, const char *indent)
{
	for (size_t t = 0; t < sizeof(pc_tables) / sizeof(pc_tables[0]); t++)
		for (unsigned int r = 0; r < pc_tables[t]->n; r++) {
			const struct pc_cmd *c = &pc_tables[t]->rows[r];

			if (cli ? (c->flags & (PC_CMD_RUN | PC_CMD_CLI)) != 0
				: (c->flags & PC_CMD_CLI) == 0)
				fprintf(out, "%s%s\n", indent, c->usage);
		}
}

int pc_arg_count(struct pc_cmd_ctx *ctx, int argc, int want)
{
	if (argc == want)
		return 0;
	return pc_cmd_fail(ctx, "%s arguments", argc < want ? "missing" : "too many");
}

int pc_arg_on_off(struct pc_cmd_ctx *ctx, int argc, char **argv, bool *on)
{
	if (pc_arg_count(ctx, argc, 1))
		return -1;
	if (strcmp(argv[0], "on") != 0 && strcmp(argv[0], "off") != 0)
		return pc_cmd_fail(ctx, "expected on or off");
	*on = strcmp(argv[0], "on") == 0;
	return 0;
}

int pc_arg_u32(struct pc_cmd_ctx *ctx, const char *what, const char *s, uint32_t min,
	       uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (s == NULL)
		return pc_cmd_fail(ctx, "missing %s", what);
	if (*s < '0' || *s > '9')
		return pc_cmd_fail(ctx, "%s '%s' is not a number", what, s);
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return pc_cmd_fail(ctx, "%s '%s' is not a number", what, s);
	if (v < min || v > max)
		return pc_cmd_fail(ctx, "%s %llu out of range %" PRIu32 "..%" PRIu32, what, v, min,
			       max);
	*out = (uint32_t)v;
	return 0;
}

int pc_arg_ipv4(struct pc_cmd_ctx *ctx, const char *what, const char *s, uint32_t *out)
{
	struct in_addr a;

	if (s == NULL)
		return pc_cmd_fail(ctx, "missing %s", what);
	if (inet_pton(AF_INET, s, &a) != 1)
		return pc_cmd_fail(ctx, "%s '%s' is not an IPv4 address", what, s);
	*out = ntohl(a.s_addr);
	return 0;
}

int pc_arg_prefix(struct pc_cmd_ctx *ctx, const char *what, const char *s, uint32_t *addr,
		  uint8_t *len)
{
	char buf[32];
	uint32_t l;

	if (s == NULL)
		return pc_cmd_fail(ctx, "missing %s", what);
	const char *slash = strchr(s, '/');

	if (slash == NULL || (size_t)(slash - s) >= sizeof(buf))
		return pc_cmd_fail(ctx, "%s '%s' is not A.B.C.D/LEN", what, s);
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (pc_arg_ipv4(ctx, what, buf, addr) != 0 ||
	    pc_arg_u32(ctx, "prefix length", slash + 1, 1, 32, &l) != 0)
		return -1;
	*len = (uint8_t)l;
	return 0;
}
