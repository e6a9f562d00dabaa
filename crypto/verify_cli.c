/* SPDX-License-Identifier: MIT */
/*
 * `portcullis verify`: the offline verifier. It runs the handshake's
 * verification (pc_verify_chain) on files, the way `openssl verify
 * -CAfile ... -untrusted ... -CRLfile ... -crl_check_all -purpose
 * sslclient` does, so an operator can tell why a client is refused.
 * Runs in the main thread before anything else (no EAL).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pc_verify.h"
#include "verify_int.h"

static const char usage[] =
	"usage: portcullis verify --ca FILE [--untrusted FILE]... [--crl FILE]...\n"
	"                         [--at UNIX_SECONDS] [--max-depth N] [--eku client|server|any]\n"
	"                         [--min-rsa-bits N] [--allow dns:|uri:|email:|cn:|ip:PATTERN]...\n"
	"                         CERT.pem\n"
	"CERT.pem's first certificate is the leaf; --untrusted files hold intermediates.\n"
	"Prints OK (exit 0) or FAIL: REASON (exit 1); exit 2 on usage or file errors.\n";

/* The peer's chain as the command line gives it. */
struct cli_chain {
	uint8_t *der[PC_VERIFY_MAX_PEER];
	uint32_t len[PC_VERIFY_MAX_PEER];
	unsigned int n;
};

/* Append the certificates of a PEM file (only the first when first_only). */
static int add_pem_certs(struct cli_chain *c, const char *path, int first_only)
{
	char *buf, err[256];
	const char *p, *end;
	size_t len, der_len;
	uint8_t *der;
	unsigned int before = c->n;
	int rc;

	if (pc_read_file(path, &buf, &len, err, sizeof(err)) != 0) {
		fprintf(stderr, "portcullis verify: %s\n", err);
		return -1;
	}
	p = buf;
	end = buf + len;
	while ((rc = pc_pem_next(&p, end, "CERTIFICATE", &der, &der_len)) == 1) {
		if (c->n == PC_VERIFY_MAX_PEER || der_len > UINT32_MAX) {
			free(der);
			fprintf(stderr, "portcullis verify: %s: more than %d certificates in all\n",
				path, PC_VERIFY_MAX_PEER);
			rc = -2;
			break;
		}
		c->der[c->n] = der;
		c->len[c->n++] = (uint32_t)der_len;
		if (first_only)
			break;
	}
	free(buf);
	if (rc == -1)
		fprintf(stderr, "portcullis verify: %s: broken PEM certificate block\n", path);
	else if (rc >= 0 && c->n == before)
		fprintf(stderr, "portcullis verify: %s: no PEM certificate\n", path);
	return rc < 0 || c->n == before ? -1 : 0;
}

static int parse_num(const char *s, long long min, long long max, long long *out)
{
	char *e;

	errno = 0;
	*out = strtoll(s, &e, 10);
	return errno == 0 && e != s && *e == '\0' && *out >= min && *out <= max ? 0 : -1;
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "portcullis verify: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage);
	return 2;
}

/* What the trust object keeps but cannot use: said once, on stderr. */
static void warn_unusable(const struct pc_trust *t)
{
	char name[256];
	const char *why;
	int64_t when;

	for (unsigned int i = 0; i < pc_trust_nb_cas(t); i++) {
		if ((why = pc_trust_ca_unusable(t, i)) == NULL)
			continue;
		pc_trust_ca_info(t, i, name, sizeof(name), &when);
		fprintf(stderr, "portcullis verify: warning: CA certificate %u (%s) is unusable: %s\n",
			i + 1, name, why);
	}
	for (unsigned int i = 0; i < pc_trust_nb_crls(t); i++)
		if ((why = pc_trust_crl_unusable(t, i)) != NULL)
			fprintf(stderr, "portcullis verify: warning: CRL %u is not used: %s\n",
				i + 1, why);
}

/* Parse the command line into the trust object, the policy and the chain;
 * the chain's intermediates are added after the leaf, at the end. */
static int parse_args(int argc, char **argv, struct pc_trust *t, struct pc_verify_policy *pol,
		      int64_t *now, struct cli_chain *chain, const char **untrusted,
		      unsigned int *nb_untrusted)
{
	static struct pc_identity_pattern allow[PC_VERIFY_MAX_ALLOW];
	static const struct option opts[] = {
		{"ca", required_argument, NULL, 'c'},
		{"untrusted", required_argument, NULL, 'u'},
		{"crl", required_argument, NULL, 'r'},
		{"at", required_argument, NULL, 't'},
		{"max-depth", required_argument, NULL, 'd'},
		{"eku", required_argument, NULL, 'e'},
		{"min-rsa-bits", required_argument, NULL, 'm'},
		{"allow", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char *const ekus[] = {"client", "server", "any"};
	char err[512];
	long long v;
	int c, nb_ca = 0;

	pol->allow = allow;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (pc_trust_add_ca_file(t, optarg, err, sizeof(err)) != 0) {
				fprintf(stderr, "portcullis verify: %s\n", err);
				return 2;
			}
			nb_ca++;
			break;
		case 'u':
			if (*nb_untrusted == PC_VERIFY_MAX_PEER)
				return usage_error("too many --untrusted files (last: %s)", optarg);
			untrusted[(*nb_untrusted)++] = optarg;
			break;
		case 'r':
			if (pc_trust_add_crl_file(t, optarg, err, sizeof(err)) != 0) {
				fprintf(stderr, "portcullis verify: %s\n", err);
				return 2;
			}
			break;
		case 't':
			if (parse_num(optarg, 0, INT64_MAX, &v) != 0)
				return usage_error("--at %s: not a number of seconds", optarg);
			*now = v;
			break;
		case 'd':
			if (parse_num(optarg, 0, PC_VERIFY_MAX_DEPTH, &v) != 0)
				return usage_error("--max-depth %s: not 0 to 8", optarg);
			pol->max_depth = (uint8_t)v;
			break;
		case 'e':
			for (v = 0; v < 3 && strcmp(optarg, ekus[v]) != 0; v++)
				;
			if (v == 3)
				return usage_error("--eku %s: expected client, server or any", optarg);
			pol->eku = (enum pc_verify_eku)v;
			break;
		case 'm':
			if (parse_num(optarg, 1024, 16384, &v) != 0)
				return usage_error("--min-rsa-bits %s: not 1024 to 16384", optarg);
			pol->min_rsa_bits = (uint16_t)v;
			break;
		case 'a':
			if (pol->nb_allow == PC_VERIFY_MAX_ALLOW)
				return usage_error("too many --allow (last: %s)", optarg);
			if (pc_identity_parse(optarg, &allow[pol->nb_allow], err, sizeof(err)) !=
			    0)
				return usage_error("--allow %s", err);
			pol->nb_allow++;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return usage_error("bad option or missing argument: %s",
					   argv[optind - 1]);
		}
	}
	if (nb_ca == 0)
		return usage_error("%s", "--ca FILE is required");
	if (optind != argc - 1)
		return usage_error("%s", "expected one CERT.pem after the options");
	if (pc_trust_finalize(t, err, sizeof(err)) != 0) {
		fprintf(stderr, "portcullis verify: trusted set refused: %s\n", err);
		return 2;
	}
	warn_unusable(t);
	if (add_pem_certs(chain, argv[optind], 1) != 0)
		return 2;
	for (unsigned int i = 0; i < *nb_untrusted; i++)
		if (add_pem_certs(chain, untrusted[i], 0) != 0)
			return 2;
	return -1;
}

int pc_verify_main(int argc, char **argv)
{
	struct pc_verify_policy pol;
	struct pc_verify_result res;
	struct cli_chain chain = {.n = 0};
	const char *untrusted[PC_VERIFY_MAX_PEER];
	unsigned int nb_untrusted = 0;
	struct pc_trust *t = pc_trust_new();
	int64_t now = (int64_t)time(NULL);
	int rc;

	if (t == NULL) {
		fprintf(stderr, "portcullis verify: out of memory\n");
		return 2;
	}
	pc_verify_policy_defaults(&pol);
	rc = parse_args(argc, argv, t, &pol, &now, &chain, untrusted, &nb_untrusted);
	if (rc < 0) {
		pc_verify_chain(t, &pol, (const uint8_t *const *)chain.der, chain.len, chain.n, now,
				&res);
		if (res.reason == PC_VERIFY_OK) {
			printf("OK\n");
			rc = 0;
		} else {
			printf("FAIL: %s (certificate %d: %s)\n", pc_verify_reason_name(res.reason),
			       res.depth,
			       res.detail != NULL ? res.detail : pc_verify_reason_help(res.reason));
			rc = 1;
		}
	}
	for (unsigned int i = 0; i < chain.n; i++)
		free(chain.der[i]);
	pc_trust_free(t);
	return rc;
}
