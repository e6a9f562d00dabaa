/* SPDX-License-Identifier: MIT */
/* Config files: the command language, one command per line. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pc_mgmt.h"

#define PC_CONFIG_LINE_MAX 4096

static int config_fail(FILE *f, char *line)
{
	free(line);
	fclose(f);
	return -1;
}

int pc_config_load(const char *path, struct pc_cmd_ctx *ctx)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned int lineno = 0;

	if (f == NULL) {
		fprintf(stderr, "portcullis: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (n > PC_CONFIG_LINE_MAX) {
			fprintf(stderr, "%s:%u: line longer than %d bytes\n", path, lineno,
				PC_CONFIG_LINE_MAX);
			return config_fail(f, line);
		}
		if (strlen(line) != (size_t)n) {
			fprintf(stderr, "%s:%u: NUL byte in line\n", path, lineno);
			return config_fail(f, line);
		}
		if (pc_cmd_exec(ctx, line) != 0) {
			fprintf(stderr, "%s:%u: %s\n", path, lineno, ctx->err);
			return config_fail(f, line);
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "portcullis: %s: read error\n", path);
		return config_fail(f, line);
	}
	free(line);
	fclose(f);
	return 0;
}
