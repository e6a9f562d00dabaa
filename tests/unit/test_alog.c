/* SPDX-License-Identifier: MIT */
/*
 * The access log's JSON lines: a record's members and types, strings
 * escaped (quotes, backslashes, control bytes, bytes that are not UTF-8),
 * and a buffer too small for the record, which leaves fields out whole
 * and says so, the line still one JSON object.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pc_alog.h"

static struct pc_alog_rec record(void)
{
	struct pc_alog_rec r;

	memset(&r, 0, sizeof(r));
	r.time_ns = 1700000000123456789LL;
	r.duration_us = 1500;
	r.bytes_in = 517;
	r.bytes_out = 10;
	r.client_addr = __builtin_bswap32(0xc6120002); /* 198.18.0.2, network order */
	r.client_port = 40000;
	r.status = 200;
	r.tls_version = 0x0304;
	r.resumed = true;
	strcpy(r.event, "request");
	strcpy(r.sni, "web.tenant-a.test");
	strcpy(r.cipher, "TLS13-AES128-GCM-SHA256");
	strcpy(r.verify, "SUCCESS");
	strcpy(r.method, "GET");
	strcpy(r.path, "/");
	return r;
}

static void test_members(void **state)
{
	struct pc_alog_rec r = record();
	char buf[PC_ALOG_LINE_MAX];
	int n;

	(void)state;
	n = pc_alog_format_json(&r, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(
		buf, "{\"time\":\"2023-11-14T22:13:20.123Z\",\"event\":\"request\","
		     "\"client\":\"198.18.0.2:40000\",\"sni\":\"web.tenant-a.test\","
		     "\"tls\":\"TLSv1.3\",\"cipher\":\"TLS13-AES128-GCM-SHA256\",\"resumed\":true,"
		     "\"verify\":\"SUCCESS\",\"subject\":null,\"serial\":null,\"identity\":null,"
		     "\"method\":\"GET\",\"path\":\"/\",\"status\":200,\"bytes_in\":517,"
		     "\"bytes_out\":10,\"duration_ms\":1.500}");
}

static void test_escaping(void **state)
{
	struct pc_alog_rec r = record();
	char buf[PC_ALOG_LINE_MAX];
	const char *p, *want_path = "\"path\":\"/q\\\"\\\\\\n\\t\\u0001\x7f\",";

	(void)state;
	strcpy(r.path, "/q\"\\\n\t\x01\x7f");
	strcpy(r.subject, "/CN=caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80");
	/* Not UTF-8: a lone byte, an overlong '/', a surrogate, a cut sequence. */
	strcpy(r.identity, "a\xff" "b\xc0\xaf" "c\xed\xa0\x80" "d\xe4\xb8");
	strcpy(r.error, "tls: alert \"bad\"");
	pc_alog_format_json(&r, buf, sizeof(buf));
	p = strstr(buf, "\"path\":");
	assert_non_null(p);
	assert_true(strncmp(p, want_path, strlen(want_path)) == 0);
	assert_non_null(strstr(buf, "\"subject\":\"/CN=caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\""));
	assert_non_null(strstr(buf, "\"identity\":\"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffd\\ufffdd"
				    "\\ufffd\\ufffd\""));
	assert_non_null(strstr(buf, ",\"error\":\"tls: alert \\\"bad\\\"\"}"));
	assert_null(strchr(buf, '\n'));
}

static void test_small_buffer(void **state)
{
	struct pc_alog_rec r = record();
	char buf[120];
	int n;

	(void)state;
	memset(r.identity, 'i', sizeof(r.identity) - 1);
	n = pc_alog_format_json(&r, buf, sizeof(buf));
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	assert_string_equal(buf, "{\"time\":\"2023-11-14T22:13:20.123Z\",\"event\":\"request\","
				 "\"client\":\"198.18.0.2:40000\",\"truncated\":true}");
	/* Too small for anything: still an object. */
	n = pc_alog_format_json(&r, buf, 3);
	assert_string_equal(buf, "{}");
	assert_int_equal(n, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_small_buffer),
	};

	return cmocka_run_group_tests_name("alog", tests, NULL, NULL);
}
