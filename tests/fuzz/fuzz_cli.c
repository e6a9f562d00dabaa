/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the CLI session: an input is a byte stream as a control-socket
 * client would send it, cut into lines at '\n' (a line longer than the
 * socket's 4095 bytes is dropped, as the socket does). The first byte
 * picks the session's level (admin or read-only). Every line runs through
 * pc_session_line() against a default configuration with TLS not started
 * (trust objects are staged, their commit refused), so the tokenizer, the
 * command tables, every handler's argument checks, transactions (begin,
 * abort, commit, show staged) and the show commands all get the bytes.
 * Checked: a failed line always has a reason; a session freed with a
 * transaction open leaks nothing (LeakSanitizer).
 */
#include <stdlib.h>
#include <string.h>

#include "pc_mgmt.h"

#define LINE_MAX_BYTES 4095

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pc_dp_config dp;
	static struct pc_tls_spec tls;
	struct pc_cmd_ctx ctx = {.dp = &dp, .tls = &tls};
	struct pc_session *s;
	char line[LINE_MAX_BYTES + 1], err[PC_CMD_ERR_LEN];

	if (size == 0)
		return 0;
	pc_dp_config_defaults(&dp);
	pc_tls_spec_defaults(&tls);
	s = pc_session_new(0, 1, data[0] & 1);
	if (s == NULL)
		abort();
	data++;
	size--;
	while (size > 0) {
		const uint8_t *nl = memchr(data, '\n', size);
		size_t n = nl != NULL ? (size_t)(nl - data) : size;
		char *body = NULL;
		size_t blen = 0;
		FILE *out;
		int rc;

		if (n <= LINE_MAX_BYTES && memchr(data, '\0', n) == NULL) {
			memcpy(line, data, n);
			line[n] = '\0';
			out = open_memstream(&body, &blen);
			if (out == NULL)
				abort();
			err[0] = '\0';
			rc = pc_session_line(s, &ctx, line, out, err, sizeof(err));
			fclose(out);
			free(body);
			if (rc != 0 && err[0] == '\0')
				abort();
		}
		data += n + (nl != NULL);
		size -= n + (nl != NULL);
	}
	pc_session_free(s);
	return 0;
}
