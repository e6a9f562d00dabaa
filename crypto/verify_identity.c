/* SPDX-License-Identifier: MIT */
/*
 * Identity allowlist patterns (pc_verify.h): parsed by the management
 * thread from configuration, matched by any thread during verification.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pc_verify.h"

static const struct {
	const char *prefix;
	enum pc_identity_kind kind;
} kinds[] = {
	{"dns:", PC_ID_DNS},
	{"uri:", PC_ID_URI},
	{"email:", PC_ID_EMAIL},
	{"cn:", PC_ID_CN},
	{"ip:", PC_ID_IP},
};

// Where '*' may stand: "*.suffix" for dns/cn, a final "/*" for uri;
// anywhere in an e-mail address, as itself.
static const char *wildcard_error(enum pc_identity_kind kind, const char *p, size_t len)
{
	const char *star = strchr(p, '*');

	if (star == NULL)
		return NULL;
	switch (kind) {
	case PC_ID_DNS:
	case PC_ID_CN:
		if (star != p || p[1] != '.' || len < 3 || p[2] == '.' || strchr(p + 1, '*'))
			return "a wildcard must be one leading label: *.example.org";
		return NULL;
	case PC_ID_URI:
		if (star != p + len - 1 || len < 3 || p[len - 2] != '/')
			return "a URI wildcard must end the pattern as \"/*\"";
		return NULL;
	default:
		/* e-mail: '*' is a character of the local part (RFC 5280
		 * 4.2.1.10 reads it so), never a wildcard. */
		return NULL;
	}
}

/* An IPv4 or IPv6 address in inet_ntop's form (so that "::0:1" and "::1"
 * are one pattern): 0, or -1 if it is not one. */
static int ip_canonical(const char *p, char *out, size_t len)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, p, a) == 1)
		return inet_ntop(AF_INET, a, out, (socklen_t)len) != NULL ? 0 : -1;
	if (inet_pton(AF_INET6, p, a) == 1)
		return inet_ntop(AF_INET6, a, out, (socklen_t)len) != NULL ? 0 : -1;
	return -1;
}

int pc_identity_parse(const char *spec, struct pc_identity_pattern *out, char *err,
		      size_t errlen)
{
	const char *p = NULL, *msg;
	size_t len;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && p == NULL; i++) {
		if (strncmp(spec, kinds[i].prefix, strlen(kinds[i].prefix)) == 0) {
			p = spec + strlen(kinds[i].prefix);
			out->kind = kinds[i].kind;
		}
	}
	if (p == NULL) {
		snprintf(err, errlen, "'%s': expected dns:, uri:, email:, cn: or ip: PATTERN",
			 spec);
		return -1;
	}
	len = strlen(p);
	if (len == 0 || len >= sizeof(out->pattern)) {
		snprintf(err, errlen, "'%s': the pattern must be 1 to %zu characters", spec,
			 sizeof(out->pattern) - 1);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		/* Printable ASCII except space (CN may hold spaces). */
		if (p[i] < 0x20 || p[i] > 0x7e || (p[i] == ' ' && out->kind != PC_ID_CN)) {
			snprintf(err, errlen, "'%s': only printable characters without spaces",
				 spec);
			return -1;
		}
	}
	if (out->kind == PC_ID_IP) {
		if (ip_canonical(p, out->pattern, sizeof(out->pattern)) != 0) {
			snprintf(err, errlen, "'%s': not an IPv4 or IPv6 address", spec);
			return -1;
		}
		return 0;
	}
	msg = wildcard_error(out->kind, p, len);
	if (msg != NULL) {
		snprintf(err, errlen, "'%s': %s", spec, msg);
		return -1;
	}
	memcpy(out->pattern, p, len + 1);
	return 0;
}

/* "*.suffix": one non-empty label without a wildcard of its own, then the
 * suffix (case-insensitive). */
static bool host_match(const char *pat, const char *v)
{
	if (pat[0] != '*')
		return strcasecmp(pat, v) == 0;
	const char *dot = strchr(v, '.');

	return dot != NULL && dot != v && memchr(v, '*', (size_t)(dot - v)) == NULL &&
	       strcasecmp(dot, pat + 1) == 0;
}

bool pc_identity_match(const struct pc_identity_pattern *p, const char *value)
{
	const char *pat = p->pattern;
	size_t len = strlen(pat);

	switch (p->kind) {
	case PC_ID_DNS:
		/* A wildcard SAN names every host one label under its suffix,
		 * a suffix of two labels at least ("*.com" names nothing). */
		if (pat[0] != '*' && value[0] == '*' && value[1] == '.')
			return strchr(value + 2, '.') != NULL && host_match(value, pat);
		return host_match(pat, value);
	case PC_ID_CN:
		return host_match(pat, value);
	case PC_ID_IP:
		return strcmp(pat, value) == 0;
	case PC_ID_URI:
		if (pat[len - 1] == '*')
			return strncmp(value, pat, len - 1) == 0 && value[len - 1] != '\0';
		return strcmp(pat, value) == 0;
	case PC_ID_EMAIL: {
		/* The local part is exact, the domain is not case-sensitive. */
		const char *pa = strrchr(pat, '@'), *va = strrchr(value, '@');

		if (pa == NULL || va == NULL)
			return strcmp(pat, value) == 0;
		return pa - pat == va - value && strncmp(pat, value, (size_t)(pa - pat)) == 0 &&
		       strcasecmp(pa, va) == 0;
	}
	}
	return false;
}
