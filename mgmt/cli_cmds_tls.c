/* SPDX-License-Identifier: MIT */
/*
 * Commands that configure TLS: listeners and protocol settings (at start),
 * and the trust objects (at start and at run time): hosts with their
 * certificates and client-verification policies, ca-sets, certs, the
 * backends hosts forward to, plus the access log. Object commands are
 * staged in the transaction (ctx->txn); files are read and checked when
 * the command is given, so a bad file is reported at its line, and again
 * with everything else at commit.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "pc_alog.h"
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

static int cmd_tls_sha1(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	return pc_arg_on_off(ctx, argc, argv, &ctx->tls->sha1_signatures);
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

static void apply_hs_timeout(const struct pc_cmd_ctx *ctx)
{
	pc_tls_set_handshake_timeout(ctx->tls->handshake_timeout_ms);
}

static int cmd_tls_idle_timeout(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	return pc_arg_count(ctx, argc, 1) ||
	       pc_arg_u32(ctx, "milliseconds", argv[0], 1000, 604800000, &ctx->tls->idle_timeout_ms);
}

static void apply_idle_timeout(const struct pc_cmd_ctx *ctx)
{
	pc_tls_set_idle_timeout(ctx->tls->idle_timeout_ms);
}

static int path_arg(struct pc_cmd_ctx *ctx, const char *s)
{
	if (strlen(s) >= PC_TLS_PATH_MAX)
		return pc_cmd_fail(ctx, "path too long");
	return 0;
}

/* RFC 8446 4.6.1: seven days at most; a second at least (tests). */
static int cmd_tls_ticket_lifetime(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	return pc_arg_count(ctx, argc, 1) ||
	       pc_arg_u32(ctx, "seconds", argv[0], 1, 604800, &ctx->tls->ticket_lifetime_s);
}

static void apply_ticket_lifetime(const struct pc_cmd_ctx *ctx)
{
	pc_tls_set_ticket_lifetime(ctx->tls->ticket_lifetime_s);
}

/* At start the file is checked here, where it is named, and loaded with
 * the rest of the TLS settings; at run time it replaces the keys at once
 * ("reload": the same file again). */
static int cmd_tls_ticket_keys(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	char file[PC_TLS_PATH_MAX];

	if (pc_arg_count(ctx, argc, 1))
		return -1;
	if (strcmp(argv[0], "reload") == 0) {
		if (!ctx->running)
			return pc_cmd_fail(ctx, "reload: only at run time");
		if (pc_tls_ticket_keys_file()[0] == '\0')
			return pc_cmd_fail(ctx, "reload: the keys are random, not from a file");
		snprintf(file, sizeof(file), "%s", pc_tls_ticket_keys_file());
	} else if (strcmp(argv[0], "random") == 0) {
		file[0] = '\0';
	} else {
		if (path_arg(ctx, argv[0]))
			return -1;
		snprintf(file, sizeof(file), "%s", argv[0]);
	}
	if (ctx->running ? pc_tls_ticket_keys_load(file, ctx->err, sizeof(ctx->err)) != 0
			 : file[0] != '\0' &&
				   pc_tls_check_ticket_keys(file, ctx->err, sizeof(ctx->err)) != 0)
		return -1;
	snprintf(ctx->tls->ticket_keys, sizeof(ctx->tls->ticket_keys), "%s", file);
	return 0;
}

static int cmd_tls_verify_cache(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	return pc_arg_count(ctx, argc, 1) ||
	       pc_arg_u32(ctx, "entries", argv[0], 0, 1u << 20, &ctx->tls->verify_cache);
}

/* Names operators give: ':' is kept for hosts' private objects. */
static int object_name(struct pc_cmd_ctx *ctx, const char *s)
{
	if (strchr(s, ':') != NULL)
		return pc_cmd_fail(ctx, "'%s': ':' is not allowed in names", s);
	return 0;
}

static int set_str(struct pc_cmd_ctx *ctx, char **dst, const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		return pc_cmd_fail(ctx, "out of memory");
	free(*dst);
	*dst = d;
	return 0;
}

/* Add s to v unless it is there already (giving a file again re-reads it). */
static int push_unique(struct pc_cmd_ctx *ctx, struct pc_strv *v, const char *s)
{
	for (unsigned int i = 0; i < v->n; i++)
		if (strcmp(v->v[i], s) == 0)
			return 0;
	if (v->n == PC_TLS_MAX_TRUST_FILES)
		return pc_cmd_fail(ctx, "at most %d", PC_TLS_MAX_TRUST_FILES);
	return pc_strv_push(v, s) != 0 ? pc_cmd_fail(ctx, "out of memory") : 0;
}

/* CA and CRL files are read and checked with the whole set when it is
 * committed; in a CLI transaction also on their own at once, so the bad
 * line is the one refused. A start with 100,000 tenant CAs reads each
 * file once: its lines only check the file can be read, and the commit's
 * error names the set and the file. */
static int caset_file(struct pc_cmd_ctx *ctx, struct pc_tls_caset_spec *c, const char *file,
		      bool crl)
{
	if (path_arg(ctx, file))
		return -1;
	if (!ctx->running && access(file, R_OK) != 0)
		return pc_cmd_fail(ctx, "%s: %s", file, strerror(errno));
	if (ctx->running && pc_tls_check_trust_file(file, crl, ctx->err, sizeof(ctx->err)) != 0)
		return -1;
	return push_unique(ctx, crl ? &c->crls : &c->files, file);
}

static int caset_revoke(struct pc_cmd_ctx *ctx, struct pc_tls_caset_spec *c, const char *serial)
{
	char norm[41];

	if (pc_serial_normalize(serial, norm) != 0)
		return pc_cmd_fail(ctx, "serial '%s' is not 1 to 40 hex digits", serial);
	return push_unique(ctx, &c->revoked, norm);
}

static char priv_name[PC_TLS_NAME_MAX + 8];

static const char *private_of(const char *host)
{
	snprintf(priv_name, sizeof(priv_name), PC_TLS_PRIVATE_PREFIX "%s", host);
	return priv_name;
}

/* The host's private ca-set (made when it has none; a host that names a
 * shared ca-set is changed through that set). */
static struct pc_tls_caset_spec *host_caset(struct pc_cmd_ctx *ctx, const char *name,
					    struct pc_tls_host_spec *h, bool create)
{
	const char *priv = private_of(name);
	struct pc_tls_caset_spec *c;

	if (h->caset != NULL && strcmp(h->caset, priv) != 0) {
		if (!create) {
			pc_cmd_fail(ctx, "host %s uses ca-set %s: change that set (ca-set %s ...)",
				    name, h->caset, h->caset);
			return NULL;
		}
	}
	if (!create && h->caset == NULL) {
		pc_cmd_fail(ctx, "host %s has no CA file yet (host %s ca FILE)", name, name);
		return NULL;
	}
	c = pc_tls_txn_caset(ctx->txn, priv, ctx->err, sizeof(ctx->err));
	if (c == NULL || set_str(ctx, &h->caset, priv) != 0)
		return NULL;
	return c;
}

/* A certificate and key named by a line: loaded and checked at once; when
 * the config file is read again (reload) only readable, as CA files at
 * start: the reload parses what changed, once, at its commit. */
static int cert_files(struct pc_cmd_ctx *ctx, const char *chain, const char *key)
{
	if (path_arg(ctx, chain) || path_arg(ctx, key))
		return -1;
	if (!ctx->reread)
		return pc_tls_check_cert(chain, key, ctx->err, sizeof(ctx->err));
	if (access(chain, R_OK) != 0)
		return pc_cmd_fail(ctx, "%s: %s", chain, strerror(errno));
	if (access(key, R_OK) != 0)
		return pc_cmd_fail(ctx, "%s: %s", key, strerror(errno));
	return 0;
}

static int host_cert(struct pc_cmd_ctx *ctx, const char *name, struct pc_tls_host_spec *h,
		     int argc, char **argv)
{
	struct pc_tls_cert_spec *c;

	if (pc_arg_count(ctx, argc, 2) || cert_files(ctx, argv[0], argv[1]))
		return -1;
	c = pc_tls_txn_cert(ctx->txn, private_of(name), ctx->err, sizeof(ctx->err));
	if (c == NULL)
		return -1;
	return set_str(ctx, &c->chain, argv[0]) || set_str(ctx, &c->key, argv[1]) ||
	       set_str(ctx, &h->cert, private_of(name));
}

static int host_cert_ref(struct pc_cmd_ctx *ctx, const char *name, struct pc_tls_host_spec *h,
			 int argc, char **argv)
{
	(void)name;
	return pc_arg_count(ctx, argc, 1) || object_name(ctx, argv[0]) ||
	       set_str(ctx, &h->cert, argv[0]);
}

static int host_caset_ref(struct pc_cmd_ctx *ctx, const char *name, struct pc_tls_host_spec *h,
			  int argc, char **argv)
{
	(void)name;
	return pc_arg_count(ctx, argc, 1) || object_name(ctx, argv[0]) ||
	       set_str(ctx, &h->caset, argv[0]);
}

static int host_verify(struct pc_cmd_ctx *ctx, const char *name, struct pc_tls_host_spec *h,
		       int argc, char **argv)
{
	static const char *const modes[] = {"none", "optional", "optional_no_ca", "required"};

	(void)name;
	if (pc_arg_count(ctx, argc, 1))
		return -1;
	for (unsigned int i = 0; i < 4; i++)
		if (strcmp(argv[0], modes[i]) == 0) {
			h->verify = (enum pc_tls_verify_mode)i;
			return 0;
		}
	return pc_cmd_fail(ctx, "expected none, optional, optional_no_ca or required");
}

static int host_ca(struct pc_cmd_ctx *ctx, const char *name, struct pc_tls_host_spec *h,
		   int argc, char **argv)
{
	struct pc_tls_caset_spec *c;

	if (pc_arg_count(ctx, argc, 1))
		return -1;
	c = host_caset(ctx, name, h, true);
	return c == NULL ? -1 : caset_file(ctx, c, argv[0], false);
}

static int host_crl(struct pc_cmd_ctx *ctx, const char *name, struct pc_tls_host_spec *h,
		    int argc, char **argv)
{
	struct pc_tls_caset_spec *c;

	if (pc_arg_count(ctx, argc, 1))
		return -1;
	c = host_caset(ctx, name, h, false);
	return c == NULL ? -1 : caset_file(ctx, c, argv[0], true);
}

static int host_revoke(struct pc_cmd_ctx *ctx, const char *name, struct pc_tls_host_spec *h,
		       int argc, char **argv)
{
	struct pc_tls_caset_spec *c;

	if (pc_arg_count(ctx, argc, 1))
		return -1;
	c = host_caset(ctx, name, h, false);
	return c == NULL ? -1 : caset_revoke(ctx, c, argv[0]);
}

static int host_depth(struct pc_cmd_ctx *ctx, const char *name, struct pc_tls_host_spec *h,
		      int argc, char **argv)
{
	uint32_t d;

	(void)name;
	if (pc_arg_count(ctx, argc, 1) ||
	    pc_arg_u32(ctx, "depth", argv[0], 0, PC_VERIFY_MAX_DEPTH, &d))
		return -1;
	h->max_depth = (uint8_t)d;
	return 0;
}

static int host_min_rsa(struct pc_cmd_ctx *ctx, const char *name, struct pc_tls_host_spec *h,
			int argc, char **argv)
{
	uint32_t bits;

	(void)name;
	if (pc_arg_count(ctx, argc, 1) || pc_arg_u32(ctx, "bits", argv[0], 1024, 16384, &bits))
		return -1;
	h->min_rsa_bits = (uint16_t)bits;
	return 0;
}

static int host_eku(struct pc_cmd_ctx *ctx, const char *name, struct pc_tls_host_spec *h,
		    int argc, char **argv)
{
	(void)name;
	if (pc_arg_count(ctx, argc, 1))
		return -1;
	if (strcmp(argv[0], "client") == 0)
		h->eku = PC_VERIFY_EKU_CLIENT;
	else if (strcmp(argv[0], "server") == 0)
		h->eku = PC_VERIFY_EKU_SERVER;
	else if (strcmp(argv[0], "any") == 0)
		h->eku = PC_VERIFY_EKU_ANY;
	else
		return pc_cmd_fail(ctx, "expected client, server or any");
	return 0;
}

static int host_allow(struct pc_cmd_ctx *ctx, const char *name, struct pc_tls_host_spec *h,
		      int argc, char **argv)
{
	struct pc_identity_pattern p, *n;

	(void)name;
	if (pc_arg_count(ctx, argc, 1))
		return -1;
	if (strcmp(argv[0], "none") == 0) {
		free(h->allow);
		h->allow = NULL;
		h->nb_allow = 0;
		return 0;
	}
	if (h->nb_allow == PC_VERIFY_MAX_ALLOW)
		return pc_cmd_fail(ctx, "at most %d identities", PC_VERIFY_MAX_ALLOW);
	if (pc_identity_parse(argv[0], &p, ctx->err, sizeof(ctx->err)) != 0)
		return -1;
	n = realloc(h->allow, (h->nb_allow + 1) * sizeof(*n));
	if (n == NULL)
		return pc_cmd_fail(ctx, "out of memory");
	h->allow = n;
	h->allow[h->nb_allow++] = p;
	return 0;
}

static int host_on_failure(struct pc_cmd_ctx *ctx, const char *name, struct pc_tls_host_spec *h,
			   int argc, char **argv)
{
	(void)name;
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

static int host_protect(struct pc_cmd_ctx *ctx, const char *name, struct pc_tls_host_spec *h,
			int argc, char **argv)
{
	(void)name;
	if (pc_arg_count(ctx, argc, 1))
		return -1;
	if (strcmp(argv[0], "none") == 0) {
		pc_strv_free(&h->protect);
		return 0;
	}
	if (argv[0][0] != '/' || strlen(argv[0]) >= 128)
		return pc_cmd_fail(ctx, "path prefix '%s' must start with / and be shorter than 128",
				   argv[0]);
	if (h->protect.n == PC_TLS_MAX_PROTECTED)
		return pc_cmd_fail(ctx, "at most %d protected paths", PC_TLS_MAX_PROTECTED);
	return pc_strv_push(&h->protect, argv[0]) != 0 ? pc_cmd_fail(ctx, "out of memory") : 0;
}

static int host_metrics(struct pc_cmd_ctx *ctx, const char *name, struct pc_tls_host_spec *h,
			int argc, char **argv)
{
	(void)name;
	return pc_arg_on_off(ctx, argc, argv, &h->metrics);
}

/* The backend the host forwards to; none: the built-in responder. */
static int host_backend(struct pc_cmd_ctx *ctx, const char *name, struct pc_tls_host_spec *h,
			int argc, char **argv)
{
	(void)name;
	if (pc_arg_count(ctx, argc, 1))
		return -1;
	if (strcmp(argv[0], "none") == 0) {
		free(h->backend);
		h->backend = NULL;
		return 0;
	}
	return object_name(ctx, argv[0]) || set_str(ctx, &h->backend, argv[0]);
}

static const struct {
	const char *word;
	int (*fn)(struct pc_cmd_ctx *, const char *, struct pc_tls_host_spec *, int, char **);
} host_settings[] = {
	{"cert", host_cert},       {"cert-ref", host_cert_ref}, {"verify", host_verify},
	{"ca", host_ca},           {"ca-set", host_caset_ref},  {"crl", host_crl},
	{"revoke", host_revoke},   {"max-depth", host_depth},   {"eku", host_eku},
	{"min-rsa-bits", host_min_rsa},
	{"allow", host_allow},     {"on-failure", host_on_failure},
	{"protect", host_protect}, {"metrics", host_metrics}, {"backend", host_backend},
};

static int cmd_host(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	struct pc_tls_host_spec *h;

	if (argc < 2)
		return pc_cmd_fail(ctx, "missing arguments");
	for (size_t i = 0; i < sizeof(host_settings) / sizeof(host_settings[0]); i++) {
		if (strcmp(argv[1], host_settings[i].word) != 0)
			continue;
		h = pc_tls_txn_host(ctx->txn, argv[0], ctx->err, sizeof(ctx->err));
		if (h == NULL)
			return -1;
		return host_settings[i].fn(ctx, argv[0], h, argc - 2, argv + 2);
	}
	return pc_cmd_fail(ctx, "unknown host setting '%s'", argv[1]);
}

static int cmd_caset(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	struct pc_tls_caset_spec *c;

	if (argc < 2)
		return pc_cmd_fail(ctx, "missing arguments");
	if (object_name(ctx, argv[0]))
		return -1;
	if (strcmp(argv[1], "file") != 0 && strcmp(argv[1], "crl") != 0 &&
	    strcmp(argv[1], "revoke") != 0 && strcmp(argv[1], "clear") != 0)
		return pc_cmd_fail(ctx, "unknown ca-set setting '%s'", argv[1]);
	if (pc_arg_count(ctx, argc - 2, strcmp(argv[1], "clear") == 0 ? 0 : 1))
		return -1;
	c = pc_tls_txn_caset(ctx->txn, argv[0], ctx->err, sizeof(ctx->err));
	if (c == NULL)
		return -1;
	if (strcmp(argv[1], "clear") == 0) {
		pc_strv_free(&c->files);
		pc_strv_free(&c->crls);
		pc_strv_free(&c->revoked);
		return 0;
	}
	if (strcmp(argv[1], "revoke") == 0)
		return caset_revoke(ctx, c, argv[2]);
	return caset_file(ctx, c, argv[2], strcmp(argv[1], "crl") == 0);
}

static int cmd_cert(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	struct pc_tls_cert_spec *c;

	if (pc_arg_count(ctx, argc, 3) || object_name(ctx, argv[0]) ||
	    cert_files(ctx, argv[1], argv[2]))
		return -1;
	c = pc_tls_txn_cert(ctx->txn, argv[0], ctx->err, sizeof(ctx->err));
	if (c == NULL)
		return -1;
	return set_str(ctx, &c->chain, argv[1]) || set_str(ctx, &c->key, argv[2]);
}

/* --- backends ----------------------------------------------------------- */

/* "A.B.C.D:PORT". */
static int server_arg(struct pc_cmd_ctx *ctx, const char *s, uint32_t *addr, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	char buf[16];
	uint32_t p;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(buf))
		return pc_cmd_fail(ctx, "server '%s' is not ADDR:PORT", s);
	memcpy(buf, s, (size_t)(colon - s));
	buf[colon - s] = '\0';
	if (pc_arg_ipv4(ctx, "server address", buf, addr) ||
	    pc_arg_u32(ctx, "server port", colon + 1, 1, 65535, &p))
		return -1;
	if (*addr == 0 || *addr == 0xffffffffu || (*addr >> 24) == 127 || (*addr >> 28) >= 14)
		return pc_cmd_fail(ctx, "server address %s is not a unicast address", buf);
	*port = (uint16_t)p;
	return 0;
}

/* server ADDR:PORT [weight N] (added, or its weight changed), server
 * ADDR:PORT off (removed), server none (all removed). */
static int backend_server(struct pc_cmd_ctx *ctx, struct pc_tls_backend_spec *b, int argc,
			  char **argv)
{
	uint32_t addr, weight = 1;
	uint16_t port;
	unsigned int i;

	if (argc == 1 && strcmp(argv[0], "none") == 0) {
		b->nb_servers = 0;
		return 0;
	}
	if (argc != 1 && argc != 2 && argc != 3)
		return pc_arg_count(ctx, argc, 1);
	if (server_arg(ctx, argv[0], &addr, &port))
		return -1;
	if (argc == 2 && strcmp(argv[1], "off") != 0)
		return pc_cmd_fail(ctx, "expected weight N or off after the server");
	if (argc == 3 && (strcmp(argv[1], "weight") != 0 ||
			  pc_arg_u32(ctx, "weight", argv[2], 1, 256, &weight)))
		return strcmp(argv[1], "weight") != 0 ? pc_cmd_fail(ctx, "expected weight N") : -1;
	for (i = 0; i < b->nb_servers; i++)
		if (b->servers[i].addr == htonl(addr) && b->servers[i].port == htons(port))
			break;
	if (argc == 2) {
		if (i == b->nb_servers)
			return pc_cmd_fail(ctx, "no server %s in this backend", argv[0]);
		memmove(&b->servers[i], &b->servers[i + 1],
			(b->nb_servers - i - 1) * sizeof(b->servers[0]));
		b->nb_servers--;
		return 0;
	}
	if (i == PC_BACKEND_MAX_SERVERS)
		return pc_cmd_fail(ctx, "at most %d servers", PC_BACKEND_MAX_SERVERS);
	b->servers[i] = (struct pc_backend_server){htonl(addr), htons(port), (uint16_t)weight};
	if (i == b->nb_servers)
		b->nb_servers++;
	return 0;
}

static int backend_balance(struct pc_cmd_ctx *ctx, struct pc_tls_backend_spec *b, int argc,
			   char **argv)
{
	if (pc_arg_count(ctx, argc, 1))
		return -1;
	if (strcmp(argv[0], "roundrobin") == 0)
		b->balance = PC_BACKEND_ROUNDROBIN;
	else if (strcmp(argv[0], "leastconn") == 0)
		b->balance = PC_BACKEND_LEASTCONN;
	else
		return pc_cmd_fail(ctx, "expected roundrobin or leastconn");
	return 0;
}

static int backend_mode(struct pc_cmd_ctx *ctx, struct pc_tls_backend_spec *b, int argc,
			char **argv)
{
	if (pc_arg_count(ctx, argc, 1))
		return -1;
	if (strcmp(argv[0], "http") == 0)
		b->mode = PC_BACKEND_HTTP;
	else if (strcmp(argv[0], "tcp") == 0)
		b->mode = PC_BACKEND_TCP;
	else
		return pc_cmd_fail(ctx, "expected tcp or http");
	return 0;
}

static int backend_proxy_v2(struct pc_cmd_ctx *ctx, struct pc_tls_backend_spec *b, int argc,
			    char **argv)
{
	if (argc > 1)
		return pc_arg_count(ctx, argc, 1);
	if (argc == 1 && strcmp(argv[0], "cert") != 0 && strcmp(argv[0], "off") != 0)
		return pc_cmd_fail(ctx, "expected nothing, cert or off");
	b->proxy_v2 = argc == 0 || strcmp(argv[0], "off") != 0;
	b->proxy_v2_cert = argc == 1 && strcmp(argv[0], "cert") == 0;
	return 0;
}

/* health none | tcp [interval MS] | http PATH [interval MS] */
static int backend_health(struct pc_cmd_ctx *ctx, struct pc_tls_backend_spec *b, int argc,
			  char **argv)
{
	enum pc_backend_health kind;
	uint32_t interval = PC_BACKEND_HEALTH_MS_DEFAULT;
	const char *path = NULL;
	int at = 1;

	if (argc < 1)
		return pc_arg_count(ctx, argc, 1);
	if (strcmp(argv[0], "none") == 0) {
		if (pc_arg_count(ctx, argc, 1))
			return -1;
		free(b->health_path);
		b->health_path = NULL;
		b->health = PC_BACKEND_HEALTH_NONE;
		b->health_interval_ms = PC_BACKEND_HEALTH_MS_DEFAULT;
		return 0;
	}
	if (strcmp(argv[0], "tcp") == 0) {
		kind = PC_BACKEND_HEALTH_TCP;
	} else if (strcmp(argv[0], "http") == 0) {
		kind = PC_BACKEND_HEALTH_HTTP;
		path = argc > 1 ? argv[1] : NULL;
		if (path == NULL || path[0] != '/' || strlen(path) > PC_BACKEND_HEALTH_PATH_MAX)
			return pc_cmd_fail(ctx, "http health checks need a PATH starting with / "
					   "(at most %d bytes)", PC_BACKEND_HEALTH_PATH_MAX);
		for (const char *p = path; *p != '\0'; p++)
			if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
				return pc_cmd_fail(ctx, "health path: byte 0x%02x is not allowed",
						   (unsigned char)*p);
		at = 2;
	} else {
		return pc_cmd_fail(ctx, "expected none, tcp or http PATH");
	}
	if (argc == at + 2 && strcmp(argv[at], "interval") == 0) {
		if (pc_arg_u32(ctx, "interval", argv[at + 1], 100, 3600000, &interval))
			return -1;
	} else if (argc != at) {
		return pc_cmd_fail(ctx, "expected [interval MS] after %s", argv[at - 1]);
	}
	if (path != NULL && set_str(ctx, &b->health_path, path))
		return -1;
	if (path == NULL) {
		free(b->health_path);
		b->health_path = NULL;
	}
	b->health = kind;
	b->health_interval_ms = interval;
	return 0;
}

static int backend_timeouts(struct pc_cmd_ctx *ctx, struct pc_tls_backend_spec *b, int argc,
			    char **argv)
{
	uint32_t c, i;

	if (pc_arg_count(ctx, argc, 2) ||
	    pc_arg_u32(ctx, "connect milliseconds", argv[0], 1, 600000, &c) ||
	    pc_arg_u32(ctx, "idle milliseconds", argv[1], 1, 86400000, &i))
		return -1;
	b->connect_ms = c;
	b->idle_ms = i;
	return 0;
}

/* header WHICH NAME|off; the default name gives the default back. */
static int backend_header(struct pc_cmd_ctx *ctx, struct pc_tls_backend_spec *b, int argc,
			  char **argv)
{
	int w;

	if (pc_arg_count(ctx, argc, 2))
		return -1;
	for (w = 0; w < PC_BACKEND_NB_HEADERS; w++)
		if (strcmp(argv[0], pc_backend_header_word[w]) == 0)
			break;
	if (w == PC_BACKEND_NB_HEADERS)
		return pc_cmd_fail(ctx, "unknown header '%s' (client-verify, client-s-dn, "
				   "client-san, client-serial, client-fingerprint, client-identity, "
				   "client-cert, client-cert-chain, forwarded-for, forwarded-proto)",
				   argv[0]);
	if (strcmp(argv[1], "off") == 0)
		return set_str(ctx, &b->headers[w], "");
	if (!pc_backend_header_name_ok(argv[1]))
		return pc_cmd_fail(ctx, "'%s' cannot be set: not a header name (at most %d bytes) "
				   "or one that frames the request", argv[1],
				   PC_BACKEND_HEADER_NAME_MAX);
	if (strcasecmp(argv[1], pc_backend_header_default[w]) == 0) {
		free(b->headers[w]);
		b->headers[w] = NULL;
		return 0;
	}
	return set_str(ctx, &b->headers[w], argv[1]);
}

/* A DNS name for `tls sni` and `tls verify-name`. */
static int tls_name_arg(struct pc_cmd_ctx *ctx, const char *what, const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > PC_TLS_NAME_MAX)
		return pc_cmd_fail(ctx, "%s '%s' is not a DNS name", what, s);
	for (const char *p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_')
			return pc_cmd_fail(ctx, "%s '%s' is not a DNS name", what, s);
	return 0;
}

/* The CA file of `tls ca`: as a ca-set's (caset_file). */
static int backend_ca_file(struct pc_cmd_ctx *ctx, const char *file)
{
	if (path_arg(ctx, file))
		return -1;
	if (!ctx->running && access(file, R_OK) != 0)
		return pc_cmd_fail(ctx, "%s: %s", file, strerror(errno));
	if (ctx->running && pc_tls_check_trust_file(file, false, ctx->err, sizeof(ctx->err)) != 0)
		return -1;
	return 0;
}

/* The client certificate of `tls cert`: as a cert's (cert_files). */
static int backend_cert_files(struct pc_cmd_ctx *ctx, const char *chain, const char *key)
{
	if (path_arg(ctx, chain) || path_arg(ctx, key))
		return -1;
	if (!ctx->reread)
		return pc_tls_check_client_cert(chain, key, ctx->err, sizeof(ctx->err));
	if (access(chain, R_OK) != 0)
		return pc_cmd_fail(ctx, "%s: %s", chain, strerror(errno));
	if (access(key, R_OK) != 0)
		return pc_cmd_fail(ctx, "%s: %s", key, strerror(errno));
	return 0;
}

/* The TLS part of a backend spec: freed, off. */
static void tls_clear(struct pc_tls_backend_spec *b)
{
	free(b->tls_ca);
	free(b->tls_cert);
	free(b->tls_key);
	free(b->tls_sni);
	free(b->tls_verify_name);
	b->tls_ca = b->tls_cert = b->tls_key = b->tls_sni = b->tls_verify_name = NULL;
	b->tls = false;
}

/* tls [ca FILE] [cert CHAIN KEY] [sni NAME] [verify-name NAME]: the whole
 * TLS setting, replaced; tls off: plain TCP to the servers. */
static int backend_tls(struct pc_cmd_ctx *ctx, struct pc_tls_backend_spec *b, int argc,
		       char **argv)
{
	const char *ca = NULL, *chain = NULL, *key = NULL, *sni = NULL, *vname = NULL;
	struct pc_tls_backend_spec n = {.tls = true};
	int i;

	if (argc == 1 && strcmp(argv[0], "off") == 0) {
		tls_clear(b);
		return 0;
	}
	for (i = 0; i < argc;) {
		const char *w = argv[i];
		int need = strcmp(w, "cert") == 0 ? 2 : 1;

		if (strcmp(w, "ca") != 0 && strcmp(w, "cert") != 0 && strcmp(w, "sni") != 0 &&
		    strcmp(w, "verify-name") != 0)
			return pc_cmd_fail(ctx, "unknown tls setting '%s' (ca FILE, cert CHAIN KEY, "
					   "sni NAME, verify-name NAME, or off)", w);
		if (i + need >= argc)
			return pc_cmd_fail(ctx, "tls %s: missing argument", w);
		if (strcmp(w, "ca") == 0)
			ca = argv[i + 1];
		else if (strcmp(w, "cert") == 0) {
			chain = argv[i + 1];
			key = argv[i + 2];
		} else if (strcmp(w, "sni") == 0)
			sni = argv[i + 1];
		else
			vname = argv[i + 1];
		i += need + 1;
	}
	if ((ca != NULL && backend_ca_file(ctx, ca)) ||
	    (chain != NULL && backend_cert_files(ctx, chain, key)) ||
	    (sni != NULL && tls_name_arg(ctx, "sni", sni)) ||
	    (vname != NULL && tls_name_arg(ctx, "verify-name", vname)))
		return -1;
	if ((ca != NULL && set_str(ctx, &n.tls_ca, ca)) ||
	    (chain != NULL && (set_str(ctx, &n.tls_cert, chain) || set_str(ctx, &n.tls_key, key))) ||
	    (sni != NULL && set_str(ctx, &n.tls_sni, sni)) ||
	    (vname != NULL && set_str(ctx, &n.tls_verify_name, vname))) {
		tls_clear(&n);
		return -1;
	}
	tls_clear(b);
	b->tls = true;
	b->tls_ca = n.tls_ca;
	b->tls_cert = n.tls_cert;
	b->tls_key = n.tls_key;
	b->tls_sni = n.tls_sni;
	b->tls_verify_name = n.tls_verify_name;
	return 0;
}

static const struct {
	const char *word;
	int (*fn)(struct pc_cmd_ctx *, struct pc_tls_backend_spec *, int, char **);
} backend_settings[] = {
	{"server", backend_server},	  {"balance", backend_balance},
	{"mode", backend_mode},		  {"send-proxy-v2", backend_proxy_v2},
	{"health", backend_health},	  {"timeouts", backend_timeouts},
	{"header", backend_header},	  {"tls", backend_tls},
};

static int cmd_backend(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	struct pc_tls_backend_spec *b;

	if (argc < 2)
		return pc_cmd_fail(ctx, "missing arguments");
	if (object_name(ctx, argv[0]))
		return -1;
	for (size_t i = 0; i < sizeof(backend_settings) / sizeof(backend_settings[0]); i++) {
		if (strcmp(argv[1], backend_settings[i].word) != 0)
			continue;
		b = pc_tls_txn_backend(ctx->txn, argv[0], ctx->err, sizeof(ctx->err));
		if (b == NULL)
			return -1;
		return backend_settings[i].fn(ctx, b, argc - 2, argv + 2);
	}
	return pc_cmd_fail(ctx, "unknown backend setting '%s'", argv[1]);
}

static int cmd_del(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	static const char *const kinds[PC_TLS_NB_KINDS] = {"host", "ca-set", "cert", "backend"};

	if (pc_arg_count(ctx, argc, 2))
		return -1;
	for (int k = 0; k < PC_TLS_NB_KINDS; k++)
		if (strcmp(argv[0], kinds[k]) == 0)
			return (k != PC_TLS_HOST && object_name(ctx, argv[1])) ||
			       pc_tls_txn_del(ctx->txn, (enum pc_tls_kind)k, argv[1], ctx->err,
					      sizeof(ctx->err));
	return pc_cmd_fail(ctx, "expected host, ca-set, cert or backend");
}

static int cmd_access_log(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	bool off = argc >= 1 && strcmp(argv[0], "off") == 0;
	uint32_t ring = ctx->running ? ctx->access_log_ring : 4096;
	int rc;

	if (argc < 1 || argc > 2)
		return pc_arg_count(ctx, argc, 1);
	if (argc == 2 && pc_arg_u32(ctx, "records", argv[1], 64, 1u << 20, &ring))
		return -1;
	if ((ring & (ring - 1)) != 0)
		return pc_cmd_fail(ctx, "records %u is not a power of two", ring);
	if (!off && path_arg(ctx, argv[0]))
		return -1;
	/* At run time the file changes; the rings were made at start. */
	if (ctx->running) {
		if (!pc_alog_started())
			return pc_cmd_fail(ctx, "the log's rings are made at start: start with "
					   "access-log FILE to change it at run time");
		if (ring != ctx->access_log_ring)
			return pc_cmd_fail(ctx, "the ring size (%u records) is fixed at start",
					   ctx->access_log_ring);
		rc = pc_alog_switch(off ? NULL : argv[0]);
		if (rc != 0)
			return pc_cmd_fail(ctx, "%s: %s", argv[0], strerror(-rc));
	}
	if (off) {
		ctx->access_log[0] = '\0';
		return 0;
	}
	ctx->access_log_ring = ring;
	snprintf(ctx->access_log, sizeof(ctx->access_log), "%s", argv[0]);
	return 0;
}

static int cmd_access_log_format(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	if (pc_arg_count(ctx, argc, 1))
		return -1;
	if (strcmp(argv[0], "json") != 0 && strcmp(argv[0], "logfmt") != 0)
		return pc_cmd_fail(ctx, "expected logfmt or json");
	ctx->access_log_json = strcmp(argv[0], "json") == 0;
	return 0;
}

static void apply_access_log_format(const struct pc_cmd_ctx *ctx)
{
	pc_alog_set_json(ctx->access_log_json);
}

/* logrotate's create mode: the file was renamed, a new one is wanted. */
static int cmd_access_log_reopen(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	int rc;

	(void)argv;
	if (pc_arg_count(ctx, argc, 0))
		return -1;
	if (!pc_alog_started())
		return pc_cmd_fail(ctx, "no access log (access-log FILE at start)");
	rc = pc_alog_reopen();
	if (rc != 0)
		return pc_cmd_fail(ctx, "%s: %s", ctx->access_log, strerror(-rc));
	return 0;
}

#define CTX_FIXED "every worker's shared TLS context is built from it at start"
#define OBJ (PC_CMD_RUN | PC_CMD_STAGE)

static const struct pc_cmd tls_cmds[] = {
	{"tls listen", "tls listen PORT http", cmd_tls_listen, 0,
	 "listeners are opened at start"},
	{"tls versions", "tls versions MIN MAX  (1.2 or 1.3)", cmd_tls_versions, 0, CTX_FIXED},
	{"tls ciphers", "tls ciphers NAME:NAME...  (wolfSSL names)", cmd_tls_ciphers, 0,
	 CTX_FIXED},
	{"tls groups", "tls groups X25519:P-256:P-384", cmd_tls_groups, 0, CTX_FIXED},
	{"tls sha1-signatures", "tls sha1-signatures on|off  (TLS 1.2 client CertificateVerify)",
	 cmd_tls_sha1, 0, CTX_FIXED},
	{"tls memory", "tls memory MIB  (wolfSSL memory per worker)", cmd_tls_memory, 0,
	 "the arenas are reserved on hugepages at start"},
	{"tls handshake-timeout", "tls handshake-timeout MILLISECONDS", cmd_tls_hs_timeout,
	 PC_CMD_RUN, NULL, apply_hs_timeout},
	{"tls idle-timeout", "tls idle-timeout MILLISECONDS  (an idle connection is reset)",
	 cmd_tls_idle_timeout, PC_CMD_RUN, NULL, apply_idle_timeout},
	{"tls ticket-lifetime", "tls ticket-lifetime SECONDS  (1 to 604800)",
	 cmd_tls_ticket_lifetime, PC_CMD_RUN, NULL, apply_ticket_lifetime},
	{"tls ticket-keys", "tls ticket-keys FILE|random|reload", cmd_tls_ticket_keys, PC_CMD_RUN},
	{"tls verify-cache", "tls verify-cache ENTRIES  (verified chains per worker, 0 = off)",
	 cmd_tls_verify_cache, 0, "the caches are made on hugepages at start"},
	{"host", "host NAME|*.NAME|default cert CHAIN KEY | cert-ref CERT | verify none|optional|"
		 "optional_no_ca|required | ca FILE | ca-set CA_SET | crl FILE | revoke SERIAL | "
		 "max-depth N | eku client|server|any | min-rsa-bits N | "
		 "allow dns:|uri:|email:|cn:|ip:PATTERN|none | "
		 "on-failure alert|http403 | protect PATH|none | metrics on|off | "
		 "backend BACKEND|none",
	 cmd_host, OBJ},
	{"ca-set", "ca-set NAME file FILE | crl FILE | revoke SERIAL | clear", cmd_caset, OBJ},
	{"cert", "cert NAME CHAIN KEY", cmd_cert, OBJ},
	{"backend", "backend NAME server ADDR:PORT [weight N]|ADDR:PORT off|none | "
		    "balance roundrobin|leastconn | mode tcp|http | send-proxy-v2 [cert|off] | "
		    "health none|tcp [interval MS]|http PATH [interval MS] | "
		    "timeouts CONNECT_MS IDLE_MS | "
		    "tls [ca FILE] [cert CHAIN KEY] [sni NAME] [verify-name NAME]|off | "
		    "header WHICH NAME|off  (WHICH: client-verify, client-s-dn, client-san, "
		    "client-serial, client-fingerprint, client-identity, client-cert, "
		    "client-cert-chain, forwarded-for, forwarded-proto)",
	 cmd_backend, OBJ},
	{"del", "del host|ca-set|cert|backend NAME", cmd_del, OBJ},
	{"access-log", "access-log FILE|stdout|off [RING_RECORDS]", cmd_access_log, PC_CMD_RUN},
	{"access-log format", "access-log format logfmt|json", cmd_access_log_format, PC_CMD_RUN,
	 NULL, apply_access_log_format},
	{"access-log reopen", "access-log reopen  (after logrotate renamed the file)",
	 cmd_access_log_reopen, PC_CMD_CLI | PC_CMD_NO_USAGE},
};

const struct pc_cmd_table pc_cmds_tls = {tls_cmds, sizeof(tls_cmds) / sizeof(tls_cmds[0])};
