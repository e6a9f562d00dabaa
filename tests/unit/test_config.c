/* SPDX-License-Identifier: MIT */
/* The command language: good and bad lines, config files, and CLI
 * sessions (transactions, run-time refusals, read-only sessions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pc_mgmt.h"

struct line_case {
	const char *line;
	int ok;
	const char *err_has; /* part of the message for bad lines */
};

static const struct line_case cases[] = {
	{"", 1, NULL},
	{"   # only a comment", 1, NULL},
	{"ip address 198.18.0.1/24", 1, NULL},
	{"ip address 198.18.0.1/24 # trailing comment", 1, NULL},
	{"  ip\taddress   198.18.0.1/24\r\n", 1, NULL},
	{"ip address 198.18.0.1", 0, "not A.B.C.D/LEN"},
	{"ip address 198.18.0.1/33", 0, "out of range"},
	{"ip address 198.18.0.1/0", 0, "out of range"},
	{"ip address 198.18.0.1/", 0, "not a number"},
	{"ip address 198.18.0.1/24x", 0, "not a number"},
	{"ip address 198.18.0.256/24", 0, "not an IPv4 address"},
	{"ip address 198.18.0.0/24", 0, "network or broadcast"},
	{"ip address 198.18.0.255/24", 0, "network or broadcast"},
	{"ip address 198.18.0.1/24 extra", 0, "too many arguments"},
	{"ip address", 0, "missing arguments"},
	{"ip gateway 198.18.0.254", 1, NULL},
	{"ip gateway nowhere", 0, "not an IPv4 address"},
	{"ip ttl 0", 0, "out of range"},
	{"ip ttl 255", 1, NULL},
	{"ip ttl -1", 0, "not a number"},
	{"ip ttl 99999999999999999999999", 0, "not a number"},
	{"arp timeout 60", 1, NULL},
	{"arp timeout 0", 0, "out of range"},
	{"worker idle busy", 1, NULL},
	{"worker idle backoff 10 100 20", 1, NULL},
	{"worker idle backoff 100 10 20", 0, "out of range"},
	{"worker idle backoff 10 100", 0, "expected"},
	{"worker idle sometimes", 0, "expected"},
	{"worker tx-hold 0", 1, NULL},
	{"worker tx-hold 1000", 1, NULL},
	{"worker tx-hold 1001", 0, "out of range"},
	{"worker tx-hold -1", 0, "microseconds"},
	{"worker tx-hold", 0, "missing arguments"},
	{"port mbufs 16384", 1, NULL},
	{"port mbufs 10", 0, "out of range"},
	{"port descriptors 512 512", 1, NULL},
	{"port descriptors 512", 0, "missing"},
	{"ip", 0, "unknown command"},
	{"frobnicate now", 0, "unknown command 'frobnicate'"},
	{"a b c d e f g h i j k l m n o p q", 0, "too many words"},
	{"tls idle-timeout 3600000", 1, NULL},
	{"tls idle-timeout 10", 0, "out of range"},
	{"tcp buffer-pool 2048", 1, NULL},
	{"tcp buffer-pool auto", 1, NULL},
	{"tcp buffer-pool 1", 0, "out of range"},
	{"tcp buffer-pool many", 0, "not a number"},
	{"tcp idle-timeout off", 1, NULL},
	{"tcp idle-timeout 0", 0, "out of range"},
	{"tcp idle-timeout 30 40", 0, "too many arguments"},
	{"tcp fin-wait-2 5000", 1, NULL},
	{"tcp fin-wait-2 0", 0, "out of range"},
	{"tcp fin-wait-2", 0, "missing arguments"},
	{"tcp persist-timeout 60", 1, NULL},
	{"tcp persist-timeout off", 1, NULL},
	{"tcp persist-timeout never", 0, "not a number"},
	{"tcp challenge-ack-limit 100", 1, NULL},
	{"tcp challenge-ack-limit off", 1, NULL},
	{"tcp challenge-ack-limit 0", 0, "out of range"},
	{"tcp time-wait 30000 0", 1, NULL},
	{"tls listen 443 http", 1, NULL},
	{"tls listen 443 ftp", 0, "no TLS application 'ftp'"},
	{"tls listen 0 http", 0, "out of range"},
	{"tls versions 1.2 1.3", 1, NULL},
	{"tls versions 1.3 1.2", 0, "above maximum"},
	{"tls versions 1.1 1.3", 0, "expected 1.2 or 1.3"},
	{"tls groups X25519:P-256", 1, NULL},
	{"tls groups X25519:P-999", 0, "unknown group 'P-999'"},
	{"tls sha1-signatures on", 1, NULL},
	{"tls sha1-signatures yes", 0, "expected on or off"},
	{"tls memory 2", 0, "out of range"},
	{"tls handshake-timeout 50", 0, "out of range"},
	{"tls ticket-lifetime 0", 0, "out of range"},
	{"tls ticket-lifetime 604801", 0, "out of range"},
	{"tls ticket-lifetime 600", 1, NULL},
	{"tls ticket-keys reload", 0, "only at run time"},
	{"tls ticket-keys random", 1, NULL},
	{"tls ticket-keys /nonexistent/ticket.keys", 0, "/nonexistent/ticket.keys"},
	{"tls ticket-keys", 0, "missing arguments"},
	{"tls verify-cache 0", 1, NULL},
	{"tls verify-cache 2000000", 0, "out of range"},
	{"host default verify required", 1, NULL},
	{"host default verify maybe", 0, "expected none, optional"},
	{"host bad_name! verify none", 0, "is not default, a DNS name"},
	{"host *.example.com eku any", 1, NULL},
	{"host a.example.com metrics on", 1, NULL},
	{"host a.example.com metrics off", 1, NULL},
	{"host a.example.com metrics sometimes", 0, "expected on or off"},
	{"metrics listen 127.0.0.1:9101", 1, NULL},
	{"metrics listen 0.0.0.0:65535", 1, NULL},
	{"metrics listen 127.0.0.1", 0, "is not ADDR:PORT"},
	{"metrics listen 127.0.0.1:0", 0, "out of range"},
	{"metrics listen 127.0.0.1:65536", 0, "out of range"},
	{"metrics listen localhost:9101", 0, "not an IPv4 address"},
	{"metrics listen 127.0.0.1:9101 extra", 0, "too many arguments"},
	{"metrics off", 1, NULL},
	{"metrics off now", 0, "too many arguments"},
	{"host a.example.com eku web", 0, "expected client, server or any"},
	{"host a.example.com allow dns:*.example.com", 1, NULL},
	{"host a.example.com allow uri:spiffe://example.org/ns/*", 1, NULL},
	{"host a.example.com allow ip:1.2.3.4", 1, NULL},
	{"host a.example.com allow ip:1.2.3", 0, "not an IPv4 or IPv6 address"},
	{"host a.example.com min-rsa-bits 3072", 1, NULL},
	{"host a.example.com min-rsa-bits 512", 0, "out of range"},
	{"host a.example.com max-depth 9", 0, "out of range"},
	{"host a.example.com on-failure drop", 0, "expected alert or http403"},
	{"host a.example.com protect admin", 0, "must start with /"},
	{"host a.example.com cert /nonexistent.pem /nonexistent.key", 0, "/nonexistent.pem"},
	{"host a.example.com ca /nonexistent.pem", 0, "/nonexistent.pem"},
	{"host a.example.com crl /nonexistent.crl", 0, "has no CA file yet"},
	{"host a.example.com revoke 01ab", 0, "has no CA file yet"},
	{"host a.example.com ca-set tenant-a", 1, NULL},
	{"host a.example.com ca-set host:x", 0, "':' is not allowed"},
	{"host a.example.com cert-ref edge", 1, NULL},
	{"host a.example.com allow none", 1, NULL},
	{"host a.example.com protect none", 1, NULL},
	{"ca-set tenant-a file /nonexistent.pem", 0, "/nonexistent.pem"},
	{"ca-set tenant-a crl /nonexistent.crl", 0, "/nonexistent.crl"},
	{"ca-set tenant-a revoke 00C0FFEE", 1, NULL},
	{"ca-set tenant-a revoke 0xC0", 0, "not 1 to 40 hex digits"},
	{"ca-set tenant-a revoke 123456789012345678901234567890123456789012", 0,
	 "not 1 to 40 hex digits"},
	{"ca-set tenant-a clear", 1, NULL},
	{"ca-set tenant-a clear now", 0, "too many arguments"},
	{"ca-set tenant-a frob x", 0, "unknown ca-set setting 'frob'"},
	{"ca-set bad/name file x", 0, "is not a name"},
	{"ca-set a:b file x", 0, "':' is not allowed"},
	{"cert edge /nonexistent.pem /nonexistent.key", 0, "/nonexistent.pem"},
	{"cert edge only-one", 0, "missing arguments"},
	{"del host nowhere.example.com", 0, "no host nowhere.example.com"},
	{"del ca-set tenant-a", 0, "no ca-set tenant-a"},
	{"del frob x", 0, "expected host, ca-set, cert or backend"},
	{"del backend web", 0, "no backend web"},
	{"backend web server 198.18.1.10:8080", 1, NULL},
	{"backend web server 198.18.1.10:8080 weight 256", 1, NULL},
	{"backend web server 198.18.1.10:8080 weight 0", 0, "out of range"},
	{"backend web server 198.18.1.10:8080 weight 257", 0, "out of range"},
	{"backend web server 198.18.1.10:8080 weight", 0, "expected weight N or off"},
	{"backend web server 198.18.1.10:8080 heavy 2", 0, "expected weight N"},
	{"backend web server 198.18.1.10:8080 off", 0, "no server 198.18.1.10:8080"},
	{"backend web server none", 1, NULL},
	{"backend web server 198.18.1.10", 0, "is not ADDR:PORT"},
	{"backend web server 198.18.1.10:65536", 0, "out of range"},
	{"backend web server example.com:80", 0, "not an IPv4 address"},
	{"backend web server 0.0.0.0:80", 0, "not a unicast address"},
	{"backend web server 224.0.0.1:80", 0, "not a unicast address"},
	{"backend web server 127.0.0.1:80", 0, "not a unicast address"},
	{"backend web server", 0, "missing arguments"},
	{"backend web balance leastconn", 1, NULL},
	{"backend web balance roundrobin", 1, NULL},
	{"backend web balance random", 0, "expected roundrobin or leastconn"},
	{"backend web mode tcp", 1, NULL},
	{"backend web mode http", 1, NULL},
	{"backend web mode udp", 0, "expected tcp or http"},
	{"backend web send-proxy-v2", 1, NULL},
	{"backend web send-proxy-v2 cert", 1, NULL},
	{"backend web send-proxy-v2 off", 1, NULL},
	{"backend web send-proxy-v2 always", 0, "expected nothing, cert or off"},
	{"backend web health none", 1, NULL},
	{"backend web health tcp", 1, NULL},
	{"backend web health tcp interval 500", 1, NULL},
	{"backend web health tcp interval 50", 0, "out of range"},
	{"backend web health tcp /x", 0, "expected [interval MS]"},
	{"backend web health http /healthz", 1, NULL},
	{"backend web health http /healthz interval 1000", 1, NULL},
	{"backend web health http", 0, "need a PATH"},
	{"backend web health http healthz", 0, "need a PATH"},
	{"backend web health http /a interval", 0, "expected [interval MS]"},
	{"backend web health udp", 0, "expected none, tcp or http PATH"},
	{"backend web health none now", 0, "too many arguments"},
	{"backend web timeouts 2000 60000", 1, NULL},
	{"backend web timeouts 0 60000", 0, "out of range"},
	{"backend web timeouts 2000", 0, "missing arguments"},
	{"backend web header client-verify X-Verified", 1, NULL},
	{"backend web header client-cert off", 1, NULL},
	{"backend web header forwarded-proto X-Forwarded-Proto", 1, NULL},
	{"backend web header client-verify Host", 0, "cannot be set"},
	{"backend web header client-verify transfer-encoding", 0, "cannot be set"},
	{"backend web header client-verify X(bad)", 0, "cannot be set"},
	{"backend web header client-dn X-DN", 0, "unknown header 'client-dn'"},
	{"backend web header client-verify", 0, "missing arguments"},
	{"backend web tls", 1, NULL},
	{"backend web tls off", 1, NULL},
	{"backend web tls sni origin.example.com", 1, NULL},
	{"backend web tls sni origin.example.com verify-name other.example.com", 1, NULL},
	{"backend web tls sni bad/name", 0, "is not a DNS name"},
	{"backend web tls ca /nonexistent/ca.pem", 0, "/nonexistent/ca.pem"},
	{"backend web tls cert /nonexistent/c.pem /nonexistent/c.key", 0, "/nonexistent/c.pem"},
	{"backend web tls cert /nonexistent/c.pem", 0, "tls cert: missing argument"},
	{"backend web tls sni", 0, "tls sni: missing argument"},
	{"backend web tls crl x", 0, "unknown tls setting 'crl'"},
	{"backend web frob x", 0, "unknown backend setting 'frob'"},
	{"backend web", 0, "missing arguments"},
	{"backend none server 198.18.1.10:80", 0, "cannot name a backend"},
	{"backend a:b mode tcp", 0, "':' is not allowed"},
	{"backend bad/name mode tcp", 0, "is not a name"},
	{"host a.example.com backend web", 1, NULL},
	{"host a.example.com backend none", 1, NULL},
	{"host a.example.com backend a:b", 0, "':' is not allowed"},
	{"host a.example.com backend", 0, "missing arguments"},
	{"control socket /run/pc.sock", 1, NULL},
	{"control socket /run/pc.sock mode 0660", 1, NULL},
	{"control socket /run/pc.sock mode 0999", 0, "not octal"},
	{"control socket /run/pc.sock group no-such-group-here", 0, "no group"},
	{"control socket /run/pc.sock mode", 0, "expected PATH"},
	{"begin", 0, "a command of the control socket"},
	{"show hosts", 0, "a command of the control socket"},
	{"host a.example.com frob x", 0, "unknown host setting 'frob'"},
	{"host a.example.com", 0, "missing arguments"},
	{"access-log stdout 100", 0, "not a power of two"},
	{"access-log /var/log/pc.log 4096", 1, NULL},
	{"access-log off", 1, NULL},
	{"access-log format json", 1, NULL},
	{"access-log format xml", 0, "expected logfmt or json"},
	{"access-log reopen", 0, "a command of the control socket"},
	{"event-log /var/log/pc-events.log", 1, NULL},
	{"event-log", 0, "missing arguments"},
	{"reload", 0, "a command of the control socket"},
};

static void test_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static struct pc_tls_spec tls;
		struct pc_dp_config dp;
		struct pc_cmd_ctx ctx = {.dp = &dp, .tls = &tls, .txn = pc_tls_txn_new()};
		char line[256];

		pc_dp_config_defaults(&dp);
		pc_tls_spec_defaults(&tls);
		snprintf(line, sizeof(line), "%s", cases[i].line);
		int rc = pc_cmd_exec(&ctx, line, NULL);

		pc_tls_txn_free(ctx.txn);
		if ((rc == 0) != cases[i].ok)
			fail_msg("'%s': expected %s, got rc %d (%s)", cases[i].line,
				 cases[i].ok ? "success" : "an error", rc, ctx.err);
		if (!cases[i].ok && strstr(ctx.err, cases[i].err_has) == NULL)
			fail_msg("'%s': message '%s' lacks '%s'", cases[i].line, ctx.err,
				 cases[i].err_has);
	}
}

static void test_values(void **state)
{
	struct pc_dp_config dp;
	struct pc_cmd_ctx ctx = {.dp = &dp};
	char l1[] = "ip address 198.18.0.1/24", l2[] = "ip gateway 198.18.0.254",
	     l3[] = "worker idle backoff 10 100 20", l4[] = "arp timeout 60",
	     l5[] = "worker tx-hold 40";

	(void)state;
	pc_dp_config_defaults(&dp);
	assert_int_equal(pc_cmd_exec(&ctx, l1, NULL), 0);
	assert_int_equal(pc_cmd_exec(&ctx, l2, NULL), 0);
	assert_int_equal(pc_cmd_exec(&ctx, l3, NULL), 0);
	assert_int_equal(pc_cmd_exec(&ctx, l4, NULL), 0);
	assert_int_equal(dp.idle.tx_hold_us, 0);
	assert_int_equal(pc_cmd_exec(&ctx, l5, NULL), 0);
	assert_int_equal(dp.addr, 0xc6120001);
	assert_int_equal(dp.prefix_len, 24);
	assert_int_equal(dp.gateway, 0xc61200fe);
	assert_false(dp.idle.busy);
	assert_int_equal(dp.idle.pause_after_us, 10);
	assert_int_equal(dp.idle.sleep_after_us, 100);
	assert_int_equal(dp.idle.sleep_us, 20);
	assert_int_equal(dp.idle.tx_hold_us, 40);
	assert_int_equal(dp.arp_timeout_s, 60);
}

/* Write a temp file, load it, and return the result; stderr goes to a file
 * so the message can be checked. */
static int load_text(const char *text, size_t len, char *msg, size_t msglen)
{
	char path[] = "/tmp/pc-test-config-XXXXXX";
	int fd = mkstemp(path);
	struct pc_dp_config dp;
	struct pc_cmd_ctx ctx = {.dp = &dp};

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	pc_dp_config_defaults(&dp);
	fflush(stderr);
	FILE *err = tmpfile();
	int saved = dup(2);

	dup2(fileno(err), 2);
	int rc = pc_config_load(path, &ctx);

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(err);
	size_t n = fread(msg, 1, msglen - 1, err);

	msg[n] = '\0';
	fclose(err);
	unlink(path);
	return rc;
}

static void test_files(void **state)
{
	char msg[512];
	static const char good[] = "# demo\nip address 198.18.0.1/24\n\nworker idle busy\n";
	static const char bad[] = "ip address 198.18.0.1/24\nip ttl 300\n";
	static const char nul[] = "ip address 198.18.0.1/24\nip ttl\0 3\n";
	char *longline = malloc(5000);

	(void)state;
	assert_int_equal(load_text(good, sizeof(good) - 1, msg, sizeof(msg)), 0);
	assert_int_equal(load_text(bad, sizeof(bad) - 1, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, ":2: ip ttl: ttl 300 out of range"));
	assert_int_equal(load_text(nul, sizeof(nul) - 1, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, ":2: NUL byte"));
	memset(longline, 'x', 4999);
	longline[4999] = '\n';
	assert_int_equal(load_text(longline, 5000, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, ":1: line longer"));
	free(longline);

	struct pc_dp_config dp;
	struct pc_cmd_ctx ctx = {.dp = &dp};

	assert_int_equal(pc_config_load("/nonexistent/pc.conf", &ctx), -1);
}

/* Backend lines in a config file: staged in the start-up transaction; a
 * bad one named by its line. */
static void test_backend_file(void **state)
{
	static const char text[] = "backend web server 198.18.1.10:8080\n"
				   "backend web balance leastconn\n"
				   "host default backend web\n"
				   "backend web server 198.18.1.11:8080 weight 999\n";
	char path[] = "/tmp/pc-test-backend-XXXXXX", err[PC_CMD_ERR_LEN + 128];
	static struct pc_tls_spec tls;
	struct pc_dp_config dp;
	struct pc_cmd_ctx ctx = {.dp = &dp, .tls = &tls, .txn = pc_tls_txn_new()};
	char *body = NULL;
	size_t len = 0;
	FILE *m;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	pc_dp_config_defaults(&dp);
	pc_tls_spec_defaults(&tls);
	assert_int_equal(pc_config_read(path, &ctx, err, sizeof(err)), -1);
	unlink(path);
	assert_non_null(strstr(err, ":4: backend: weight 999 out of range"));
	/* What the first three lines staged. */
	assert_int_equal(pc_tls_txn_size(ctx.txn), 2);
	m = open_memstream(&body, &len);
	assert_non_null(m);
	pc_tls_txn_show(ctx.txn, m);
	fclose(m);
	assert_non_null(strstr(body, "backend web server 198.18.1.10:8080\n"
				     "backend web mode http\nbackend web balance leastconn\n"
				     "backend web health none\nbackend web timeouts 5000 60000\n"));
	assert_non_null(strstr(body, "host default backend web\n"));
	free(body);
	pc_tls_txn_free(ctx.txn);
}

/* The header tables and the header name rule. */
static void test_backend_headers(void **state)
{
	(void)state;
	assert_string_equal(pc_backend_header_default[PC_HDR_CLIENT_VERIFY], "X-SSL-Client-Verify");
	assert_string_equal(pc_backend_header_default[PC_HDR_FORWARDED_PROTO], "X-Forwarded-Proto");
	assert_string_equal(pc_backend_header_word[PC_HDR_CLIENT_CERT_CHAIN], "client-cert-chain");
	for (int i = 0; i < PC_BACKEND_NB_HEADERS; i++) {
		assert_non_null(pc_backend_header_default[i]);
		assert_true(pc_backend_header_name_ok(pc_backend_header_default[i]));
	}
	assert_true(pc_backend_header_name_ok("X-Client_ID.v2"));
	assert_false(pc_backend_header_name_ok(""));
	assert_false(pc_backend_header_name_ok("X Client"));
	assert_false(pc_backend_header_name_ok("X-Client:"));
	assert_false(pc_backend_header_name_ok("content-length"));
	assert_false(pc_backend_header_name_ok("HOST"));
	assert_false(pc_backend_header_name_ok(
		"X-0123456789012345678901234567890123456789012345678901234567890123"));
}

/* CLI sessions, line after line on one session (TLS not started: trust
 * objects stage, their commit is refused). */
struct session_case {
	const char *line;
	int ok;
	const char *has; /* in the error, or in the output when ok */
};

static const struct session_case admin_session[] = {
	{"help", 1, "show hosts [PATTERN] [json]"},
	{"help", 1, "show backend NAME [json]"},
	{"show info", 1, "generation: 0"},
	{"show info json", 1, "\"hosts\":0"},
	{"show info extra", 0, "too many arguments"},
	{"show hosts json", 1, "{\"hosts\":[]}"},
	{"show host nowhere.test", 0, "no host nowhere.test"},
	{"show ca-set nothing", 0, "no ca-set nothing"},
	{"show conns 0", 0, "out of range"},
	{"commit", 0, "no transaction (begin first)"},
	{"abort", 1, NULL},
	{"tcp buffers 65536 65536", 0, "cannot change at run time: connections and their buffers"},
	{"tcp buffer-pool 64", 0, "cannot change at run time: connections and their buffers"},
	{"port mtu 9000", 0, "cannot change at run time: the port"},
	{"tls ciphers ECDHE-ECDSA-AES128-GCM-SHA256", 0, "cannot change at run time"},
	{"tls sha1-signatures on", 0, "cannot change at run time"},
	{"control socket /tmp/other.sock", 0, "the socket is opened at start"},
	{"tcp idle-timeout 30", 1, NULL},
	{"access-log /tmp/pc-never.log", 0, "the log's rings are made at start"},
	{"tls handshake-timeout 50", 0, "out of range"},
	{"tls verify-cache 10", 0, "cannot change at run time: the caches are made"},
	{"tls ticket-keys reload", 0, "the keys are random, not from a file"},
	{"tls ticket-lifetime 120", 1, NULL},
	{"worker idle busy", 1, NULL},
	{"reload", 0, "reload: no config file to read"},
	{"access-log reopen", 0, "no access log"},
	{"event-log /tmp/pc-never-events.log", 0, "the event log is not open yet"},
	{"access-log format json", 1, NULL},
	{"show info", 1, "reloads: 0 ok, 0 failed\nlast reload: never\n"},
	{"show info json", 1, "\"reloads_ok\":0,\"reloads_failed\":0,\"last_reload\":null}"},
	{"host a.example.com verify required", 0, "TLS is not running"},
	{"begin", 1, NULL},
	{"begin", 0, "a transaction is already open"},
	{"host a.example.com verify optional", 1, NULL},
	{"host a.example.com ca-set shared", 1, NULL},
	{"ca-set shared revoke 0A", 1, NULL},
	{"show staged", 1, "host a.example.com verify optional"},
	{"show staged", 1, "ca-set shared revoke a"},
	{"show staged json", 1, "{\"staged\":[\"host a.example.com verify optional\","},
	{"del host a.example.com", 1, NULL},
	{"show staged", 1, "ca-set shared revoke a"},
	{"abort", 1, NULL},
	{"show staged", 1, NULL},
	{"begin", 1, NULL},
	{"backend web server 198.18.1.10:8080", 1, NULL},
	{"backend web server 198.18.1.11:8080 weight 3", 1, NULL},
	{"backend web server 198.18.1.10:8080 weight 2", 1, NULL},
	{"backend web health http /healthz", 1, NULL},
	{"backend web header client-identity X-Peer", 1, NULL},
	{"backend web header forwarded-for off", 1, NULL},
	{"backend web header client-verify x-ssl-client-verify", 1, NULL},
	{"backend web tls sni origin.test", 1, NULL},
	{"host a.example.com backend web", 1, NULL},
	{"show staged", 1, "backend web server 198.18.1.10:8080 weight 2\n"
			   "backend web server 198.18.1.11:8080 weight 3\n"
			   "backend web mode http\nbackend web balance roundrobin\n"
			   "backend web health http /healthz interval 2000\n"
			   "backend web timeouts 5000 60000\n"
			   "backend web header client-identity X-Peer\n"
			   "backend web header forwarded-for off\n"
			   "backend web tls sni origin.test\n"},
	{"show staged", 1, "host a.example.com backend web\n"},
	{"backend web server 198.18.1.10:8080 off", 1, NULL},
	{"backend web tls off", 1, NULL},
	{"backend web send-proxy-v2 cert", 1, NULL},
	{"show staged", 1, "backend web server 198.18.1.11:8080 weight 3\nbackend web mode http\n"},
	{"show staged", 1, "backend web send-proxy-v2 cert\nbackend web health"},
	{"del backend web", 1, NULL},
	{"show staged", 1, "host a.example.com backend web\n"},
	{"backend web server 198.18.1.12:80", 1, NULL},
	{"show staged", 1, "backend web server 198.18.1.12:80\nbackend web mode http\n"},
	{"commit", 0, "TLS is not running"},
	{"show backends", 1, NULL},
	{"show backends json", 1, "{\"backends\":[]}"},
	{"show backend web", 0, "no backend web"},
	{"begin", 1, NULL},
	{"host b.example.com eku sideways", 0, "expected client, server or any"},
	{"host b.example.com eku any", 1, NULL},
	{"commit", 0, "a command of this transaction failed (host: expected client"},
	{"commit", 0, "no transaction"},
	{"dump config", 1, "tcp idle-timeout 30\n"},
	{"dump config", 1, "worker idle busy\n"},
	{"dump config", 1, "access-log format json\nevent-log stdout\n"},
	{"dump config", 1, "tls sha1-signatures off\n"},
	{"dump config", 1, "tls ticket-lifetime 120\ntls ticket-keys random\ntls verify-cache 1024\n"},
};

static const struct session_case reader_session[] = {
	{"show info", 1, "workers:"},
	{"dump config", 1, "ip address"},
	{"begin", 0, "permission denied"},
	{"host a.example.com verify none", 0, "permission denied"},
	{"tcp idle-timeout 30", 0, "permission denied"},
};

static void run_session(const struct session_case *cases, size_t n, bool admin)
{
	static struct pc_tls_spec tls;
	struct pc_dp_config dp;
	struct pc_cmd_ctx ctx = {.dp = &dp, .tls = &tls};
	struct pc_session *s = pc_session_new(0, 1, admin);

	pc_dp_config_defaults(&dp);
	pc_tls_spec_defaults(&tls);
	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		char line[256], err[PC_CMD_ERR_LEN] = "", *body = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&body, &len);
		int rc;

		snprintf(line, sizeof(line), "%s", cases[i].line);
		rc = pc_session_line(s, &ctx, line, out, err, sizeof(err));
		fclose(out);
		if ((rc == 0) != cases[i].ok)
			fail_msg("'%s': expected %s, got rc %d (%s)", cases[i].line,
				 cases[i].ok ? "OK" : "ERR", rc, err);
		if (cases[i].has != NULL && strstr(cases[i].ok ? body : err, cases[i].has) == NULL)
			fail_msg("'%s': '%s' lacks '%s'", cases[i].line, cases[i].ok ? body : err,
				 cases[i].has);
		if (cases[i].ok && cases[i].has == NULL && strcmp(cases[i].line, "show staged") == 0 &&
		    len != 0)
			fail_msg("'show staged' after abort: '%s'", body);
		free(body);
	}
	pc_session_free(s);
}

static void test_sessions(void **state)
{
	(void)state;
	run_session(admin_session, sizeof(admin_session) / sizeof(admin_session[0]), true);
	run_session(reader_session, sizeof(reader_session) / sizeof(reader_session[0]), false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_backend_file),
		cmocka_unit_test(test_backend_headers),
		cmocka_unit_test(test_sessions),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
