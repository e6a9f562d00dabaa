/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the metrics endpoint's request parser (mgmt/metrics_http.c). An
 * input is the bytes a client sends, taken as they would accumulate in
 * the client's buffer (at most PC_METRICS_REQ_MAX of them). Checked: the
 * verdict is one of the statuses the endpoint answers; it never reads
 * past the bytes given (ASan: each prefix is its own allocation); 0
 * (incomplete) only below the bound; and the verdict of a prefix, once
 * there is one, is the verdict of everything after it (the endpoint
 * answers as soon as it has one).
 */
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse_copy(const uint8_t *data, size_t n, bool *head)
{
	char *buf = malloc(n != 0 ? n : 1);
	int st;

	if (buf == NULL)
		abort();
	memcpy(buf, data, n);
	st = pc_metrics_http_parse(buf, n, head);
	free(buf);
	return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool head;
	int whole, first = 0;
	size_t step;

	if (size > PC_METRICS_REQ_MAX)
		size = PC_METRICS_REQ_MAX;
	whole = parse_copy(data, size, &head);
	switch (whole) {
	case 0:
		if (size >= PC_METRICS_REQ_MAX)
			abort();
		break;
	case 200: case 400: case 404: case 405: case 431: case 505:
		break;
	default:
		abort();
	}
	/* Prefixes, as the bytes arrive: every one for short inputs. */
	step = size <= 256 ? 1 : size / 64;
	for (size_t n = 0; n <= size; n += step) {
		int st = parse_copy(data, n, &head);

		if (first == 0)
			first = st;
		else if (st != first)
			abort();
	}
	if (first != 0 && first != whole)
		abort();
	return 0;
}
