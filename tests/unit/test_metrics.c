/* SPDX-License-Identifier: MIT */
/* The metrics: the endpoint's request parser on a table of requests (each
 * fed whole and in every prefix), and the exposition's shape (every
 * sample's family has HELP and TYPE first, names prefixed, values
 * numbers), rendered without workers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

struct req_case {
	const char *req;
	int status; /* 0: incomplete */
	bool head;
};

static const struct req_case reqs[] = {
	{"GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n", 200, false},
	{"GET /metrics HTTP/1.0\r\n\r\n", 200, false},
	{"GET /metrics?x=1 HTTP/1.1\r\n\r\n", 200, false},
	{"GET /metrics HTTP/1.1\n\n", 200, false},
	{"HEAD /metrics HTTP/1.1\r\n\r\n", 200, true},
	{"HEAD / HTTP/1.1\r\n\r\n", 404, true},
	{"GET / HTTP/1.1\r\n\r\n", 404, false},
	{"GET /metricsx HTTP/1.1\r\n\r\n", 404, false},
	{"GET /metrics/ HTTP/1.1\r\n\r\n", 404, false},
	{"GET http://a/metrics HTTP/1.1\r\n\r\n", 404, false},
	{"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405, false},
	{"get /metrics HTTP/1.1\r\n\r\n", 405, false},
	{"GET /metrics HTTP/2.0\r\n\r\n", 505, false},
	{"GET /metrics HTTP/1.1", 0, false},
	{"GET /metrics HTTP/1.1\r\nHost: a\r\n", 0, false},
	{"", 0, false},
	{"GET /metrics\r\n\r\n", 400, false},
	{"GET  /metrics HTTP/1.1\r\n\r\n", 400, false},
	{"GET /metrics HTTP/1.1 \r\n\r\n", 400, false},
	{"GET /metrics HTTP/1.11\r\n\r\n", 400, false},
	{"GET /metrics HTTPS/1.1\r\n\r\n", 400, false},
	{"GET /met\x01rics HTTP/1.1\r\n\r\n", 400, false},
	{"GET /metrics HTTP/1.1\r\nno colon\r\n\r\n", 400, false},
	{"GET /metrics HTTP/1.1\r\n: empty name\r\n\r\n", 400, false},
	{"GET /metrics HTTP/1.1\r\n folded: x\r\n\r\n", 400, false},
	{"GET /metrics HTTP/1.1\r\nX: a\x7f\r\n\r\n", 400, false},
	{"\x16\x03\x01\x02\x01\x01\x01\x01\xfc\x03\x03\n", 400, false},
	{"\r\n", 400, false},
	/* Garbage is refused at its first line, before the head ends. */
	{"GARBAGE\r\nmore", 400, false},
};

static void test_parser(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		const char *r = reqs[i].req;
		size_t len = strlen(r);
		bool head;
		int st = pc_metrics_http_parse(r, len, &head);

		if (st != reqs[i].status || (st != 0 && head != reqs[i].head))
			fail_msg("case %zu '%s': status %d head %d", i, r, st, head);
		/* No prefix has a verdict other than the whole's. */
		for (size_t k = 0; k < len; k++) {
			int p = pc_metrics_http_parse(r, k, &head);

			if (p != 0 && p != st)
				fail_msg("case %zu, prefix %zu: status %d, whole %d", i, k, p, st);
		}
	}
}

static void test_parser_bounds(void **state)
{
	char *big = malloc(PC_METRICS_REQ_MAX + 64);
	bool head;
	size_t n;

	(void)state;
	assert_non_null(big);
	n = (size_t)snprintf(big, PC_METRICS_REQ_MAX, "GET /metrics HTTP/1.1\r\nX: ");
	memset(big + n, 'a', PC_METRICS_REQ_MAX + 64 - n);
	/* Short of the bound: waiting for more; at it: too large. */
	assert_int_equal(pc_metrics_http_parse(big, PC_METRICS_REQ_MAX - 1, &head), 0);
	assert_int_equal(pc_metrics_http_parse(big, PC_METRICS_REQ_MAX, &head), 431);
	/* A head that ends past the bound is too large too. */
	memcpy(big + PC_METRICS_REQ_MAX + 10, "\r\n\r\n", 4);
	assert_int_equal(pc_metrics_http_parse(big, PC_METRICS_REQ_MAX + 14, &head), 431);
	free(big);
}

static void test_render(void **state)
{
	char *buf = NULL, *save = NULL, fam[256] = "";
	size_t len = 0, samples = 0;
	FILE *m = open_memstream(&buf, &len);
	bool typed = false;

	(void)state;
	assert_non_null(m);
	pc_metrics_render(m);
	fclose(m);
	for (char *l = strtok_r(buf, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
		char name[256], *end;

		if (strncmp(l, "# HELP ", 7) == 0) {
			assert_int_equal(sscanf(l + 7, "%255s", fam), 1);
			typed = false;
			continue;
		}
		if (strncmp(l, "# TYPE ", 7) == 0) {
			assert_int_equal(sscanf(l + 7, "%255s", name), 1);
			assert_string_equal(name, fam);
			typed = true;
			continue;
		}
		assert_true(typed);
		assert_int_equal(sscanf(l, "%255[^{ ]", name), 1);
		if (strncmp(name, fam, strlen(fam)) != 0)
			fail_msg("sample '%s' under family '%s'", l, fam);
		assert_int_equal(strncmp(name, "portcullis_", 11), 0);
		strtod(strrchr(l, ' ') + 1, &end);
		assert_true(*end == '\0');
		samples++;
	}
	free(buf);
	/* Drops by reason, TLS errors and verification reasons at least. */
	assert_true(samples > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parser),
		cmocka_unit_test(test_parser_bounds),
		cmocka_unit_test(test_render),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
