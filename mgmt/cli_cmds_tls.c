/* SPDX-License-Identifier: MIT */
/*
 * Commands that configure TLS: listeners, protocol settings, and per
 * hostname (SNI) certificates and client-verification policies, plus the
 * access log. Files are read and checked when the command is given, so a
 * bad file is reported at its line; the whole set is built and published
 * at start (pc_tls_commit), where cross-checks (CRL issuers, a certificate
 * for every host) happen.
 */
#include <string.h>
#include <strings.h>

#include "pc_mgmt.h"

static int cmd_tls_listen(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	struct pc_dp_listener *l;
	uint32_t port;

	if (pc_arg_count(ctx, argc, 2) || pc_arg_u32(ctx, "port", argv[0], 1, 65535, &port))
		return -1;
	if (strcmp(argv[1], "http") != 0)
		return pc_cmd_fail(ctx, "no TLS application '%s' (http)", argv[1]);
	l = pc_cmd_add_listener(ctx, port, pc_tls_http_app.name);
	if (l == NULL)
		return -1;
	l->ext_app = &pc_tls_http_app;
	ctx->tls_listeners++;
	return 0;
}

static int version_arg(struct pc_cmd_ctx *ctx, const char *s, uint8_t *out)
{
	if (strcmp(s, "1.2") == 0)
		*out = 2;
	else if (strcmp(s, "1.3") == 0)
		*out = 3;
	else
		return pc_cmd_fail(ctx, "version '%s': expected 1.2 or 1.3", s);
	return 0;
}

static int cmd_tls_versions(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	uint8_t lo = 0, hi = 0;

	if (pc_arg_count(ctx, argc, 2) || version_arg(ctx, argv[0], &lo) ||
	    version_arg(ctx, argv[1], &hi))
		return -1;
	if (lo > hi)
		return pc_cmd_fail(ctx, "minimum %s above maximum %s", argv[0], argv[1]);
	ctx->tls->min_version = lo;
	ctx->tls->max_version = hi;
	return 0;
}

static int copy_list(struct pc_cmd_ctx *ctx, const char *what, const char *s, char *dst,
		     size_t cap)
{
	if (strlen(s) >= cap)
		return pc_cmd_fail(ctx, "%s list too long", what);
	snprintf(dst, cap, "%s", s);
	return 0;
}

static int cmd_tls_ciphers(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	return pc_arg_count(ctx, argc, 1) ||
	       copy_list(ctx, "cipher", argv[0], ctx->tls->ciphers, sizeof(ctx->tls->ciphers));
}

static int cmd_tls_groups(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	static const char *const known[] = {"X25519", "P-256", "P-384", "P-521"};
	char buf[sizeof(ctx->tls->groups)];
	char *save = NULL;

	if (pc_arg_count(ctx, argc, 1) || copy_list(ctx, "group", argv[0], buf, sizeof(buf)))
		return -1;
	for (char *g = strtok_r(buf, ":", &save); g != NULL; g = strtok_r(NULL, ":", &save)) {
		bool ok = false;

		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			ok |= strcmp(g, known[i]) == 0;
		if (!ok)
			return pc_cmd_fail(ctx, "unknown group '%s' (X25519, P-256, P-384, P-521)", g);
	}
	snprintf(ctx->tls->groups, sizeof(ctx->tls->groups), "%s", argv[0]);
	return 0;
}

static int cmd_tls_memory(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	return pc_arg_count(ctx, argc, 1) ||
	       pc_arg_u32(ctx, "MiB", argv[0], 4, 65536, &ctx->tls->memory_mb);
}

static int cmd_tls_hs_timeout(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	return pc_arg_count(ctx, argc, 1) ||
	       pc_arg_u32(ctx, "milliseconds", argv[0], 100, 600000,
			  &ctx->tls->handshake_timeout_ms);
}

/* "default", a DNS name, or "*." and a DNS name. */
static bool valid_host_name(const char *n)
{
	size_t len = strlen(n);

	if (strcmp(n, "default") == 0)
		return true;
	if (n[0] == '*' && n[1] == '.')
		n += 2;
	if (len == 0 || len > PC_TLS_NAME_MAX || *n == '\0' || *n == '.' || *n == '-')
		return false;
	for (; *n != '\0'; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
		      (*n >= '0' && *n <= '9') || *n == '-' || *n == '.'))
			return false;
	return n[-1] != '.';
}

static int path_arg(struct pc_cmd_ctx *ctx, const char *s, char *dst)
{
	if (strlen(s) >= PC_TLS_PATH_MAX)
		return pc_cmd_fail(ctx, "path too long");
	snprintf(dst, PC_TLS_PATH_MAX, "%s", s);
	return 0;
}

static int host_cert(struct pc_cmd_ctx *ctx, struct pc_tls_host_spec *h, int argc, char **argv)
{
	if (pc_arg_count(ctx, argc, 2))
		return -1;
	if (pc_tls_check_cert(argv[0], argv[1], ctx->err, sizeof(ctx->err)) != 0)
		return -1;
	return path_arg(ctx, argv[0], h->cert_file) || path_arg(ctx, argv[1], h->key_file);
}

static int host_verify(struct pc_cmd_ctx *ctx, struct pc_tls_host_spec *h, int argc, char **argv)
{
	static const char *const modes[] = {"none", "optional", "optional_no_ca", "required"};

	if (pc_arg_count(ctx, argc, 1))
		return -1;
	for (unsigned int i = 0; i < 4; i++)
		if (strcmp(argv[0], modes[i]) == 0) {
			h->verify = (enum pc_tls_verify_mode)i;
			return 0;
		}
	return pc_cmd_fail(ctx, "expected none, optional, optional_no_ca or required");
}

/* Add a CA or CRL file after checking it on its own (the CRLs' issuers
 * are checked against the CA files at start). */
static int host_trust_file(struct pc_cmd_ctx *ctx, struct pc_tls_host_spec *h, int argc,
			   char **argv, bool crl)
{
	unsigned int *n = crl ? &h->nb_crl : &h->nb_ca;
	struct pc_trust *t;
	int rc;

	if (pc_arg_count(ctx, argc, 1))
		return -1;
	if (*n == PC_TLS_MAX_TRUST_FILES)
		return pc_cmd_fail(ctx, "at most %d files", PC_TLS_MAX_TRUST_FILES);
	t = pc_trust_new();
	if (t == NULL)
		return pc_cmd_fail(ctx, "out of memory");
	rc = crl ? pc_trust_add_crl_file(t, argv[0], ctx->err, sizeof(ctx->err))
		 : pc_trust_add_ca_file(t, argv[0], ctx->err, sizeof(ctx->err));
	pc_trust_free(t);
	if (rc != 0)
		return -1;
	if (path_arg(ctx, argv[0], crl ? h->crl_files[*n] : h->ca_files[*n]))
		return -1;
	(*n)++;
	return 0;
}

static int host_ca(struct pc_cmd_ctx *ctx, struct pc_tls_host_spec *h, int argc, char **argv)
{
	return host_trust_file(ctx, h, argc, argv, false);
}

static int host_crl(struct pc_cmd_ctx *ctx, struct pc_tls_host_spec *h, int argc, char **argv)
{
	return host_trust_file(ctx, h, argc, argv, true);
}

static int host_depth(struct pc_cmd_ctx *ctx, struct pc_tls_host_spec *h, int argc, char **argv)
{
	uint32_t d;

	if (pc_arg_count(ctx, argc, 1) ||
	    pc_arg_u32(ctx, "depth", argv[0], 0, PC_VERIFY_MAX_DEPTH, &d))
		return -1;
	h->policy.max_depth = (uint8_t)d;
	return 0;
}

static int host_eku(struct pc_cmd_ctx *ctx, struct pc_tls_host_spec *h, int argc, char **argv)
{
	if (pc_arg_count(ctx, argc, 1))
		return -1;
	if (strcmp(argv[0], "client") == 0)
		h->policy.eku = PC_VERIFY_EKU_CLIENT;
	else if (strcmp(argv[0], "server") == 0)
		h->policy.eku = PC_VERIFY_EKU_SERVER;
	else if (strcmp(argv[0], "any") == 0)
		h->policy.eku = PC_VERIFY_EKU_ANY;
	else
		return pc_cmd_fail(ctx, "expected client, server or any");
	return 0;
}

static int host_allow(struct pc_cmd_ctx *ctx, struct pc_tls_host_spec *h, int argc, char **argv)
{
	if (pc_arg_count(ctx, argc, 1))
		return -1;
	if (h->policy.nb_allow == PC_VERIFY_MAX_ALLOW)
		return pc_cmd_fail(ctx, "at most %d identities", PC_VERIFY_MAX_ALLOW);
	if (pc_identity_parse(argv[0], &h->policy.allow[h->policy.nb_allow], ctx->err,
			      sizeof(ctx->err)) != 0)
		return -1;
	h->policy.nb_allow++;
	return 0;
}

static int host_on_failure(struct pc_cmd_ctx *ctx, struct pc_tls_host_spec *h, int argc,
			   char **argv)
{
	if (pc_arg_count(ctx, argc, 1))
		return -1;
	if (strcmp(argv[0], "alert") == 0)
		h->on_failure = PC_TLS_FAIL_ALERT;
	else if (strcmp(argv[0], "http403") == 0)
		h->on_failure = PC_TLS_FAIL_HTTP403;
	else
		return pc_cmd_fail(ctx, "expected alert or http403");
	return 0;
}

static int host_protect(struct pc_cmd_ctx *ctx, struct pc_tls_host_spec *h, int argc,
			char **argv)
{
	if (pc_arg_count(ctx, argc, 1))
		return -1;
	if (argv[0][0] != '/' || strlen(argv[0]) >= sizeof(h->protected[0]))
		return pc_cmd_fail(ctx, "path prefix '%s' must start with / and be shorter than %zu",
				   argv[0], sizeof(h->protected[0]));
	if (h->nb_protected == PC_TLS_MAX_PROTECTED)
		return pc_cmd_fail(ctx, "at most %d protected paths", PC_TLS_MAX_PROTECTED);
	snprintf(h->protected[h->nb_protected++], sizeof(h->protected[0]), "%s", argv[0]);
	return 0;
}

static const struct {
	const char *word;
	int (*fn)(struct pc_cmd_ctx *, struct pc_tls_host_spec *, int, char **);
} host_settings[] = {
	{"cert", host_cert},     {"verify", host_verify},   {"ca", host_ca},
	{"crl", host_crl},       {"max-depth", host_depth}, {"eku", host_eku},
	{"allow", host_allow},   {"on-failure", host_on_failure},
	{"protect", host_protect},
};

static int cmd_host(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	struct pc_tls_host_spec *h;

	if (argc < 2)
		return pc_cmd_fail(ctx, "missing arguments");
	if (!valid_host_name(argv[0]))
		return pc_cmd_fail(ctx, "'%s' is not default, a DNS name or *.DNS-name", argv[0]);
	for (size_t i = 0; i < sizeof(host_settings) / sizeof(host_settings[0]); i++) {
		if (strcmp(argv[1], host_settings[i].word) != 0)
			continue;
		h = pc_tls_spec_host(ctx->tls, argv[0]);
		if (h == NULL)
			return pc_cmd_fail(ctx, "at most %d hosts", PC_TLS_MAX_HOSTS);
		return host_settings[i].fn(ctx, h, argc - 2, argv + 2);
	}
	return pc_cmd_fail(ctx, "unknown host setting '%s'", argv[1]);
}

static int cmd_access_log(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	uint32_t ring = 4096;

	if (argc < 1 || argc > 2)
		return pc_arg_count(ctx, argc, 1);
	if (argc == 2 && pc_arg_u32(ctx, "records", argv[1], 64, 1u << 20, &ring))
		return -1;
	if ((ring & (ring - 1)) != 0)
		return pc_cmd_fail(ctx, "records %u is not a power of two", ring);
	if (strcmp(argv[0], "off") == 0) {
		ctx->access_log[0] = '\0';
		return 0;
	}
	ctx->access_log_ring = ring;
	return path_arg(ctx, argv[0], ctx->access_log);
}

static const struct pc_cmd tls_cmds[] = {
	{"tls listen", "tls listen PORT http", cmd_tls_listen},
	{"tls versions", "tls versions MIN MAX  (1.2 or 1.3)", cmd_tls_versions},
	{"tls ciphers", "tls ciphers NAME:NAME...  (wolfSSL names)", cmd_tls_ciphers},
	{"tls groups", "tls groups X25519:P-256:P-384", cmd_tls_groups},
	{"tls memory", "tls memory MIB  (wolfSSL memory per worker)", cmd_tls_memory},
	{"tls handshake-timeout", "tls handshake-timeout MILLISECONDS", cmd_tls_hs_timeout},
	{"host", "host NAME|*.NAME|default cert CHAIN KEY | verify none|optional|optional_no_ca|"
		 "required | ca FILE | crl FILE | max-depth N | eku client|server|any | "
		 "allow dns:|uri:|email:|cn:PATTERN | on-failure alert|http403 | protect PATH",
	 cmd_host},
	{"access-log", "access-log FILE|stdout|off [RING_RECORDS]", cmd_access_log},
};

const struct pc_cmd_table pc_cmds_tls = {tls_cmds, sizeof(tls_cmds) / sizeof(tls_cmds[0])};
