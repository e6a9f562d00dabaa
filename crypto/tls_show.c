/* SPDX-License-Identifier: MIT */
/*
 * Status of the trust objects for the CLI: `show hosts|host|ca-sets|ca-set|
 * certs|backends|backend` as text lines or one JSON document, and `dump config`'s object
 * part. Main lcore (the writer: it reads entries and versions freely).
 */
#include <arpa/inet.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tls_store.h"

static const char *const verify_words[] = {"none", "optional", "optional_no_ca", "required"};
static const char *const eku_words[] = {"client", "server", "any"};
static const char *const id_kinds[] = {"dns", "uri", "email", "cn", "ip"};

static void iso_time(char *buf, size_t len, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == INT64_MAX || gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, len, "never");
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* A digest as hex (its first 16 bytes: enough to compare nodes). */
static const char *digest_hex(char out[33], const uint8_t *d)
{
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	return out;
}

static void json_str_or_null(FILE *out, const char *s)
{
	if (s == NULL)
		fputs("null", out);
	else
		json_str(out, s);
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(struct tls_entry *const *)a)->name, (*(struct tls_entry *const *)b)->name);
}

static int by_metrics_name(const void *a, const void *b)
{
	return strcmp(((const struct pc_tls_host_metrics *)a)->name,
		      ((const struct pc_tls_host_metrics *)b)->name);
}

/* The entries of a table, sorted by name (NULL when empty or out of
 * memory; *n set). */
static struct tls_entry **sorted(enum pc_tls_kind kind, size_t *n)
{
	struct cds_lfht *ht = tls_store_table(kind);
	struct cds_lfht_iter it;
	struct tls_entry *e, **v = NULL;
	size_t cap = 0;

	*n = 0;
	if (ht == NULL)
		return NULL;
	cds_lfht_for_each_entry(ht, &it, e, node) {
		if (*n == cap) {
			struct tls_entry **nv = realloc(v, (cap = cap ? cap * 2 : 256) * sizeof(*v));

			if (nv == NULL)
				break;
			v = nv;
		}
		v[(*n)++] = e;
	}
	if (*n != 0)
		qsort(v, *n, sizeof(*v), by_name);
	return v;
}

void pc_tls_store_counts(struct pc_tls_store_counts *c)
{
	c->hosts = tls_store_count(PC_TLS_HOST);
	c->casets = tls_store_count(PC_TLS_CASET);
	c->certs = tls_store_count(PC_TLS_CERT);
	c->backends = tls_store_count(PC_TLS_BACKEND);
	c->generation = __atomic_load_n(&pc_tls_generation, __ATOMIC_RELAXED);
}

static const char *cert_name(const struct pc_tls_host *h)
{
	return h->cert != NULL ? h->cert->name : "(default's)";
}

void pc_tls_show_hosts(FILE *out, const char *pattern, bool json)
{
	size_t n;
	struct tls_entry **v = sorted(PC_TLS_HOST, &n);
	bool first = true;

	if (json)
		fprintf(out, "{\"hosts\":[");
	for (size_t i = 0; i < n; i++) {
		const struct pc_tls_host *h = v[i]->cur;

		if (pattern != NULL && fnmatch(pattern, v[i]->name, FNM_CASEFOLD) != 0)
			continue;
		if (!json) {
			fprintf(out, "%s verify=%s ca-set=%s cert=%s backend=%s handshakes=%" PRIu64
				" failures=%" PRIu64 "\n",
				h->name, verify_words[h->spec.verify],
				h->caset != NULL ? h->caset->name : "-", cert_name(h),
				h->backend != NULL ? h->backend->name : "-",
				__atomic_load_n(&v[i]->handshakes, __ATOMIC_RELAXED),
				__atomic_load_n(&v[i]->failures, __ATOMIC_RELAXED));
			continue;
		}
		fprintf(out, "%s{\"name\":", first ? "" : ",");
		json_str(out, h->name);
		fprintf(out, ",\"verify\":\"%s\",\"ca_set\":", verify_words[h->spec.verify]);
		json_str(out, h->caset != NULL ? h->caset->name : NULL);
		fprintf(out, ",\"cert\":");
		json_str(out, h->cert != NULL ? h->cert->name : NULL);
		fprintf(out, ",\"backend\":");
		json_str_or_null(out, h->backend != NULL ? h->backend->name : NULL);
		fprintf(out, ",\"handshakes\":%" PRIu64 ",\"failures\":%" PRIu64 "}",
			__atomic_load_n(&v[i]->handshakes, __ATOMIC_RELAXED),
			__atomic_load_n(&v[i]->failures, __ATOMIC_RELAXED));
		first = false;
	}
	if (json)
		fprintf(out, "]}\n");
	free(v);
}

int pc_tls_show_host(FILE *out, const char *name, bool json)
{
	char lname[PC_TLS_NAME_MAX + 1], when[32], dg[33];
	struct tls_entry *e;
	const struct pc_tls_host *h;
	const struct pc_tls_cert *c;
	size_t i;

	for (i = 0; i + 1 < sizeof(lname) && name[i] != '\0'; i++)
		lname[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	lname[i] = '\0';
	e = tls_store_get(PC_TLS_HOST, lname);
	if (e == NULL)
		return -1;
	h = e->cur;
	c = tls_store_host_cert(h);
	iso_time(when, sizeof(when), c != NULL ? c->not_after : INT64_MAX);
	if (json) {
		fprintf(out, "{\"name\":");
		json_str(out, h->name);
		fprintf(out, ",\"verify\":\"%s\",\"on_failure\":\"%s\",\"ca_set\":",
			verify_words[h->spec.verify],
			h->spec.on_failure == PC_TLS_FAIL_ALERT ? "alert" : "http403");
		json_str(out, h->caset != NULL ? h->caset->name : NULL);
		fprintf(out, ",\"cert\":");
		json_str(out, h->cert != NULL ? h->cert->name : NULL);
		fprintf(out, ",\"backend\":");
		json_str_or_null(out, h->backend != NULL ? h->backend->name : NULL);
		fprintf(out, ",\"cert_subject\":");
		json_str(out, c != NULL ? c->subject : NULL);
		fprintf(out,
			",\"cert_not_after\":\"%s\",\"max_depth\":%u,\"eku\":\"%s\","
			"\"min_rsa_bits\":%u,\"allow\":[",
			when, h->spec.max_depth, eku_words[h->spec.eku], h->spec.min_rsa_bits);
		for (i = 0; i < h->spec.nb_allow; i++) {
			char a[PC_ID_PATTERN_MAX + 8];

			snprintf(a, sizeof(a), "%s:%s", id_kinds[h->spec.allow[i].kind],
				 h->spec.allow[i].pattern);
			fprintf(out, "%s", i ? "," : "");
			json_str(out, a);
		}
		fprintf(out, "],\"protect\":[");
		for (i = 0; i < h->spec.protect.n; i++) {
			fprintf(out, "%s", i ? "," : "");
			json_str(out, h->spec.protect.v[i]);
		}
		fprintf(out, "],\"handshakes\":%" PRIu64 ",\"failures\":%" PRIu64
			",\"generation\":%" PRIu64 ",\"policy_digest\":\"%s\",\"metrics\":%s}\n",
			__atomic_load_n(&e->handshakes, __ATOMIC_RELAXED),
			__atomic_load_n(&e->failures, __ATOMIC_RELAXED), e->changed,
			digest_hex(dg, h->digest), h->spec.metrics ? "true" : "false");
		return 0;
	}
	fprintf(out, "name: %s\nverify: %s\non-failure: %s\nca-set: %s\ncert: %s\n", h->name,
		verify_words[h->spec.verify],
		h->spec.on_failure == PC_TLS_FAIL_ALERT ? "alert" : "http403",
		h->caset != NULL ? h->caset->name : "-", cert_name(h));
	fprintf(out, "backend: %s\n",
		h->backend != NULL ? h->backend->name : "- (built-in responder)");
	fprintf(out, "cert subject: %s\ncert not after: %s\nmax-depth: %u\neku: %s\n"
		     "min-rsa-bits: %u\n",
		c != NULL ? c->subject : "-", when, h->spec.max_depth, eku_words[h->spec.eku],
		h->spec.min_rsa_bits);
	for (i = 0; i < h->spec.nb_allow; i++)
		fprintf(out, "allow: %s:%s\n", id_kinds[h->spec.allow[i].kind],
			h->spec.allow[i].pattern);
	for (i = 0; i < h->spec.protect.n; i++)
		fprintf(out, "protect: %s\n", h->spec.protect.v[i]);
	fprintf(out, "handshakes: %" PRIu64 "\nfailures: %" PRIu64 "\ngeneration: %" PRIu64 "\n",
		__atomic_load_n(&e->handshakes, __ATOMIC_RELAXED),
		__atomic_load_n(&e->failures, __ATOMIC_RELAXED), e->changed);
	fprintf(out, "policy digest: %s\nmetrics: %s\n", digest_hex(dg, h->digest),
		h->spec.metrics ? "on" : "off");
	return 0;
}

/* The earliest CA notAfter and CRL nextUpdate of a set (INT64_MAX: none). */
static void caset_dates(const struct pc_tls_caset *c, int64_t *ca_end, int64_t *crl_next)
{
	char subj[8];
	int64_t t;

	*ca_end = *crl_next = INT64_MAX;
	for (unsigned int i = 0; i < pc_trust_nb_cas(c->trust); i++) {
		pc_trust_ca_info(c->trust, i, subj, sizeof(subj), &t);
		if (t < *ca_end)
			*ca_end = t;
	}
	for (unsigned int i = 0; i < pc_trust_nb_crls(c->trust); i++) {
		pc_trust_crl_info(c->trust, i, subj, sizeof(subj), &t);
		if (t < *crl_next)
			*crl_next = t;
	}
}

/* The set's CA files then CRL files, for `show ca-sets`. */
static void json_files(FILE *out, const struct pc_tls_caset_spec *s)
{
	fputc('[', out);
	for (unsigned int i = 0; i < s->files.n + s->crls.n; i++) {
		fprintf(out, "%s", i ? "," : "");
		json_str(out, i < s->files.n ? s->files.v[i] : s->crls.v[i - s->files.n]);
	}
	fputc(']', out);
}

void pc_tls_show_casets(FILE *out, bool json)
{
	size_t n;
	struct tls_entry **v = sorted(PC_TLS_CASET, &n);
	char when[32], ca_end[32], crl_next[32];
	int64_t a, b;

	if (json)
		fprintf(out, "{\"ca_sets\":[");
	for (size_t i = 0; i < n; i++) {
		const struct pc_tls_caset *c = v[i]->cur;

		iso_time(when, sizeof(when), c->loaded);
		caset_dates(c, &a, &b);
		iso_time(ca_end, sizeof(ca_end), a);
		iso_time(crl_next, sizeof(crl_next), b);
		if (json) {
			fprintf(out, "%s{\"name\":", i ? "," : "");
			json_str(out, v[i]->name);
			fprintf(out, ",\"cas\":%u,\"crls\":%u,\"revoked\":%u,\"hosts\":%u,"
				"\"loaded\":\"%s\",\"not_after\":\"%s\",\"next_update\":\"%s\",\"files\":",
				pc_trust_nb_cas(c->trust), pc_trust_nb_crls(c->trust),
				pc_trust_nb_denied(c->trust), v[i]->refs, when, ca_end, crl_next);
			json_files(out, &c->spec);
			fputc('}', out);
		} else {
			fprintf(out, "%s cas=%u crls=%u revoked=%u hosts=%u loaded=%s not-after=%s "
				"next-update=%s files=", v[i]->name,
				pc_trust_nb_cas(c->trust), pc_trust_nb_crls(c->trust),
				pc_trust_nb_denied(c->trust), v[i]->refs, when, ca_end, crl_next);
			for (unsigned int f = 0; f < c->spec.files.n + c->spec.crls.n; f++)
				fprintf(out, "%s%s", f ? "," : "",
					f < c->spec.files.n ? c->spec.files.v[f]
							    : c->spec.crls.v[f - c->spec.files.n]);
			fputc('\n', out);
		}
	}
	if (json)
		fprintf(out, "]}\n");
	free(v);
}

int pc_tls_show_caset(FILE *out, const char *name, bool json)
{
	struct tls_entry *e = tls_store_get(PC_TLS_CASET, name);
	const struct pc_tls_caset *c;
	char subj[512], when[32], dg[33];
	const char *why;
	int64_t t;

	if (e == NULL)
		return -1;
	c = e->cur;
	if (json) {
		fprintf(out, "{\"name\":");
		json_str(out, e->name);
		fprintf(out, ",\"hosts\":%u,\"files\":[", e->refs);
		for (unsigned int i = 0; i < c->spec.files.n; i++) {
			fprintf(out, "%s", i ? "," : "");
			json_str(out, c->spec.files.v[i]);
		}
		fprintf(out, "],\"cas\":[");
		for (unsigned int i = 0; i < pc_trust_nb_cas(c->trust); i++) {
			pc_trust_ca_info(c->trust, i, subj, sizeof(subj), &t);
			iso_time(when, sizeof(when), t);
			fprintf(out, "%s{\"subject\":", i ? "," : "");
			json_str(out, subj);
			fprintf(out, ",\"not_after\":\"%s\",\"unusable\":", when);
			json_str_or_null(out, pc_trust_ca_unusable(c->trust, i));
			fprintf(out, ",\"key_table\":%s}",
				pc_trust_ca_key_table(c->trust, i) ? "true" : "false");
		}
		fprintf(out, "],\"crls\":[");
		for (unsigned int i = 0; i < pc_trust_nb_crls(c->trust); i++) {
			pc_trust_crl_info(c->trust, i, subj, sizeof(subj), &t);
			iso_time(when, sizeof(when), t);
			fprintf(out, "%s{\"issuer\":", i ? "," : "");
			json_str(out, subj);
			fprintf(out, ",\"next_update\":\"%s\",\"unusable\":", when);
			json_str_or_null(out, pc_trust_crl_unusable(c->trust, i));
			fprintf(out, "}");
		}
		fprintf(out, "],\"revoked\":[");
		for (unsigned int i = 0; i < c->spec.revoked.n; i++)
			fprintf(out, "%s\"%s\"", i ? "," : "", c->spec.revoked.v[i]);
		fprintf(out, "],\"digest\":\"%s\"}\n", digest_hex(dg, pc_trust_digest(c->trust)));
		return 0;
	}
	fprintf(out, "name: %s\nhosts: %u\ndigest: %s\n", e->name, e->refs,
		digest_hex(dg, pc_trust_digest(c->trust)));
	for (unsigned int i = 0; i < c->spec.files.n; i++)
		fprintf(out, "file: %s\n", c->spec.files.v[i]);
	for (unsigned int i = 0; i < pc_trust_nb_cas(c->trust); i++) {
		pc_trust_ca_info(c->trust, i, subj, sizeof(subj), &t);
		iso_time(when, sizeof(when), t);
		why = pc_trust_ca_unusable(c->trust, i);
		fprintf(out, "ca: %s not-after=%s%s%s%s\n", subj, when,
			pc_trust_ca_key_table(c->trust, i) ? " key-table" : "",
			why ? " unusable: " : "", why ? why : "");
	}
	for (unsigned int i = 0; i < pc_trust_nb_crls(c->trust); i++) {
		pc_trust_crl_info(c->trust, i, subj, sizeof(subj), &t);
		iso_time(when, sizeof(when), t);
		why = pc_trust_crl_unusable(c->trust, i);
		fprintf(out, "crl: %s next-update=%s%s%s\n", subj, when, why ? " unusable: " : "",
			why ? why : "");
	}
	for (unsigned int i = 0; i < c->spec.revoked.n; i++)
		fprintf(out, "revoked: %s\n", c->spec.revoked.v[i]);
	return 0;
}

void pc_tls_show_certs(FILE *out, bool json)
{
	static const char *const flags[] = {"", " EXPIRING", " EXPIRED"};
	static const char *const states[] = {"valid", "expiring", "expired"};
	size_t n;
	struct tls_entry **v = sorted(PC_TLS_CERT, &n);
	int64_t now = time(NULL);
	char when[32], loaded[32];

	if (json)
		fprintf(out, "{\"expiry_warning\":%u,\"certs\":[", pc_tls_cert_expiry_warning());
	for (size_t i = 0; i < n; i++) {
		const struct pc_tls_cert *c = v[i]->cur;
		enum pc_tls_expiry x = pc_tls_expiry_of(c->not_after, now);

		iso_time(when, sizeof(when), c->not_after);
		iso_time(loaded, sizeof(loaded), c->loaded);
		if (json) {
			fprintf(out, "%s{\"name\":", i ? "," : "");
			json_str(out, v[i]->name);
			fprintf(out, ",\"subject\":");
			json_str(out, c->subject);
			fprintf(out, ",\"not_after\":\"%s\",\"expiry\":\"%s\",\"expired\":%s,"
				"\"expiring\":%s,\"loaded\":\"%s\",\"hosts\":%u,\"chain\":", when,
				states[x], x == PC_TLS_EXPIRED ? "true" : "false",
				x == PC_TLS_EXPIRING ? "true" : "false", loaded, v[i]->refs);
			json_str(out, c->spec.chain);
			fprintf(out, ",\"key\":");
			json_str(out, c->spec.key);
			fprintf(out, "}");
		} else {
			fprintf(out, "%s subject=\"%s\" not-after=%s%s loaded=%s hosts=%u chain=%s "
				"key=%s\n", v[i]->name, c->subject, when, flags[x], loaded, v[i]->refs,
				c->spec.chain, c->spec.key);
		}
	}
	if (json) {
		struct pc_tls_cert_expiry x;

		pc_tls_cert_expiry(&x, now);
		fprintf(out, "],\"counts\":{\"expiring\":%lu,\"expired\":%lu}}\n", x.expiring,
			x.expired);
	}
	free(v);
}

size_t pc_tls_metrics_hosts(struct pc_tls_host_metrics **out)
{
	struct cds_lfht *ht = tls_store_table(PC_TLS_HOST);
	struct tls_entry *def = tls_store_get(PC_TLS_HOST, "default"), *e;
	const struct pc_tls_host *dh = def != NULL ? def->cur : NULL;
	struct pc_tls_host_metrics *v = NULL;
	struct cds_lfht_iter it;
	size_t n = 0, cap = 0;

	*out = NULL;
	if (ht == NULL)
		return 0;
	/* One pass over every host: the marked ones are few. */
	cds_lfht_for_each_entry(ht, &it, e, node) {
		const struct pc_tls_host *h = e->cur;
		const struct tls_entry *ce = h->cert != NULL ? h->cert : dh != NULL ? dh->cert : NULL;

		if (!h->spec.metrics)
			continue;
		if (n == cap) {
			struct pc_tls_host_metrics *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (nv == NULL)
				break;
			v = nv;
		}
		v[n++] = (struct pc_tls_host_metrics){
			.name = h->name,
			.handshakes = __atomic_load_n(&e->handshakes, __ATOMIC_RELAXED),
			.failures = __atomic_load_n(&e->failures, __ATOMIC_RELAXED),
			.cert = ce != NULL ? ce->name : NULL,
			.cert_not_after = ce != NULL ? ((const struct pc_tls_cert *)ce->cur)->not_after : 0,
		};
		if (e->reasons != NULL) {
			v[n - 1].by_reason = true;
			for (int i = 0; i < PC_TLS_ERR__MAX; i++)
				v[n - 1].err[i] = __atomic_load_n(&e->reasons->err[i], __ATOMIC_RELAXED);
			for (int i = 0; i < PC_VERIFY_NB_REASONS; i++)
				v[n - 1].verify[i] =
					__atomic_load_n(&e->reasons->verify[i], __ATOMIC_RELAXED);
		}
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), by_metrics_name);
	*out = v;
	return n;
}

void pc_tls_cert_expiry(struct pc_tls_cert_expiry *x, int64_t now)
{
	struct cds_lfht *ht = tls_store_table(PC_TLS_CERT);
	struct cds_lfht_iter it;
	struct tls_entry *e;

	*x = (struct pc_tls_cert_expiry){.earliest = INT64_MAX};
	if (ht == NULL)
		return;
	cds_lfht_for_each_entry(ht, &it, e, node) {
		const struct pc_tls_cert *c = e->cur;

		x->certs++;
		x->expired += c->not_after < now;
		x->expiring += pc_tls_expiry_of(c->not_after, now) == PC_TLS_EXPIRING;
		if (c->not_after < x->earliest)
			x->earliest = c->not_after;
	}
}

static bool private_name(const char *n)
{
	return strncmp(n, PC_TLS_PRIVATE_PREFIX, strlen(PC_TLS_PRIVATE_PREFIX)) == 0;
}

void pc_tls_dump_objects(FILE *out)
{
	size_t n;
	struct tls_entry **v;

	for (int k = PC_TLS_CASET; k <= PC_TLS_CERT; k++) {
		v = sorted((enum pc_tls_kind)k, &n);
		for (size_t i = 0; i < n; i++) {
			const void *cur = v[i]->cur;

			if (private_name(v[i]->name))
				continue;
			tls_spec_dump(out, (enum pc_tls_kind)k, v[i]->name,
				      k == PC_TLS_CASET ? (const void *)&((const struct pc_tls_caset *)cur)->spec
							: (const void *)&((const struct pc_tls_cert *)cur)->spec,
				      NULL, NULL);
		}
		free(v);
	}
	/* Backends before the hosts that name them. */
	v = sorted(PC_TLS_BACKEND, &n);
	for (size_t i = 0; i < n; i++)
		tls_spec_dump(out, PC_TLS_BACKEND, v[i]->name,
			      &((const struct pc_tls_backend *)v[i]->cur)->pub.spec, NULL, NULL);
	free(v);
	v = sorted(PC_TLS_HOST, &n);
	for (size_t i = 0; i < n; i++) {
		const struct pc_tls_host *h = v[i]->cur;
		const struct pc_tls_caset *pc =
			h->caset != NULL && private_name(h->caset->name) ? h->caset->cur : NULL;
		const struct pc_tls_cert *pt =
			h->cert != NULL && private_name(h->cert->name) ? h->cert->cur : NULL;

		tls_spec_dump(out, PC_TLS_HOST, h->name, &h->spec, pc != NULL ? &pc->spec : NULL,
			      pt != NULL ? &pt->spec : NULL);
	}
	free(v);
}

/* --- backends ------------------------------------------------------------ */

static pc_tls_backend_state_fn backend_state;

void pc_tls_set_backend_state(pc_tls_backend_state_fn fn)
{
	backend_state = fn;
}

static const char *const mode_words[] = {"http", "tcp"};
static const char *const balance_words[] = {"roundrobin", "leastconn"};
static const char *const health_words[] = {"none", "tcp", "http"};

static void server_text(char *buf, size_t len, const struct pc_backend_server *v)
{
	uint32_t a = ntohl(v->addr);

	snprintf(buf, len, "%u.%u.%u.%u:%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff,
		 ntohs(v->port));
}

/* The servers of b: configuration, then the run-time state the hook adds. */
static void show_servers(FILE *out, const struct pc_backend *b, bool json, const char *indent)
{
	char sv[32];

	for (unsigned int i = 0; i < b->spec.nb_servers; i++) {
		server_text(sv, sizeof(sv), &b->spec.servers[i]);
		if (json)
			fprintf(out, "%s{\"address\":\"%s\",\"weight\":%u", i ? "," : "", sv,
				b->spec.servers[i].weight);
		else
			fprintf(out, "%sserver: %s weight=%u", indent, sv, b->spec.servers[i].weight);
		if (backend_state != NULL)
			backend_state(out, b, i, json);
		fputs(json ? "}" : "\n", out);
	}
}

/* What the backend's TLS to its servers is, in words. */
static const char *origin_check(const struct pc_backend *b)
{
	if (!b->spec.tls)
		return "off";
	if (b->origin_trust == NULL)
		return "not verified (no tls ca)";
	return b->verify_name != NULL ? "chain and name verified" : "chain verified, no name checked";
}

static void show_tls_json(FILE *out, const struct pc_tls_backend *v)
{
	const struct pc_tls_backend_spec *s = &v->pub.spec;

	if (!s->tls) {
		fputs("null", out);
		return;
	}
	fprintf(out, "{\"ca\":");
	json_str_or_null(out, s->tls_ca);
	fprintf(out, ",\"cert\":");
	json_str_or_null(out, s->tls_cert);
	fprintf(out, ",\"key\":");
	json_str_or_null(out, s->tls_key);
	fprintf(out, ",\"cert_subject\":");
	json_str_or_null(out, v->client != NULL ? v->client->subject : NULL);
	fprintf(out, ",\"sni\":");
	json_str_or_null(out, s->tls_sni);
	fprintf(out, ",\"verify_name\":");
	json_str_or_null(out, v->pub.verify_name);
	fprintf(out, ",\"origin_verified\":%s,\"check\":\"%s\"}",
		v->pub.origin_trust != NULL ? "true" : "false", origin_check(&v->pub));
}

static void health_text(char *buf, size_t len, const struct pc_tls_backend_spec *s)
{
	if (s->health == PC_BACKEND_HEALTH_NONE)
		snprintf(buf, len, "none");
	else
		snprintf(buf, len, "%s%s%s interval=%ums", health_words[s->health],
			 s->health_path != NULL ? " " : "", s->health_path != NULL ? s->health_path : "",
			 s->health_interval_ms);
}

void pc_tls_show_backends(FILE *out, bool json)
{
	size_t n;
	struct tls_entry **v = sorted(PC_TLS_BACKEND, &n);

	if (json)
		fprintf(out, "{\"backends\":[");
	for (size_t i = 0; i < n; i++) {
		const struct pc_tls_backend *b = v[i]->cur;
		const struct pc_tls_backend_spec *s = &b->pub.spec;

		if (json) {
			fprintf(out, "%s{\"name\":", i ? "," : "");
			json_str(out, v[i]->name);
			fprintf(out, ",\"id\":%u,\"mode\":\"%s\",\"balance\":\"%s\",\"tls\":%s,"
				"\"hosts\":%u,\"generation\":%" PRIu64 ",\"servers\":[",
				b->pub.id, mode_words[s->mode], balance_words[s->balance],
				s->tls ? "true" : "false", v[i]->refs, v[i]->changed);
			show_servers(out, &b->pub, true, "");
			fprintf(out, "]}");
			continue;
		}
		fprintf(out, "%s mode=%s balance=%s servers=%u tls=%s health=%s hosts=%u "
			"generation=%" PRIu64 "\n", v[i]->name, mode_words[s->mode],
			balance_words[s->balance], s->nb_servers, s->tls ? "on" : "off",
			s->health == PC_BACKEND_HEALTH_NONE ? "none" : health_words[s->health],
			v[i]->refs, v[i]->changed);
		show_servers(out, &b->pub, false, "  ");
	}
	if (json)
		fprintf(out, "]}\n");
	free(v);
}

/* The hosts that forward to backend entry e, sorted (O(hosts)). */
static void backend_users(FILE *out, const struct tls_entry *e, bool json)
{
	size_t n, k = 0;
	struct tls_entry **v = sorted(PC_TLS_HOST, &n);

	for (size_t i = 0; i < n; i++) {
		const struct pc_tls_host *h = v[i]->cur;

		if (h->backend != e)
			continue;
		if (json) {
			fputs(k ? "," : "", out);
			json_str(out, h->name);
		} else {
			fprintf(out, "host: %s\n", h->name);
		}
		k++;
	}
	free(v);
}

int pc_tls_show_backend(FILE *out, const char *name, bool json)
{
	struct tls_entry *e = tls_store_get(PC_TLS_BACKEND, name);
	const struct pc_tls_backend *b;
	const struct pc_tls_backend_spec *s;
	char when[32], health[PC_BACKEND_HEALTH_PATH_MAX + 64];
	bool tcp;

	if (e == NULL)
		return -1;
	b = e->cur;
	s = &b->pub.spec;
	tcp = s->mode == PC_BACKEND_TCP;
	iso_time(when, sizeof(when), b->loaded);
	if (json) {
		fprintf(out, "{\"name\":");
		json_str(out, e->name);
		fprintf(out, ",\"id\":%u,\"mode\":\"%s\",\"balance\":\"%s\",\"send_proxy_v2\":%s,"
			"\"send_proxy_v2_cert\":%s,\"health\":{\"check\":\"%s\",\"path\":",
			b->pub.id, mode_words[s->mode], balance_words[s->balance],
			s->proxy_v2 ? "true" : "false", s->proxy_v2_cert ? "true" : "false",
			health_words[s->health]);
		json_str_or_null(out, s->health_path);
		fprintf(out, ",\"interval_ms\":%u},\"timeouts\":{\"connect_ms\":%u,\"idle_ms\":%u},"
			"\"headers_used\":%s,\"headers\":{",
			s->health_interval_ms, s->connect_ms, s->idle_ms, tcp ? "false" : "true");
		for (int i = 0; i < PC_BACKEND_NB_HEADERS; i++) {
			fprintf(out, "%s\"%s\":", i ? "," : "", pc_backend_header_word[i]);
			json_str_or_null(out, b->pub.header[i]);
		}
		fprintf(out, "},\"tls\":");
		show_tls_json(out, b);
		fprintf(out, ",\"servers\":[");
		show_servers(out, &b->pub, true, "");
		fprintf(out, "],\"hosts\":[");
		backend_users(out, e, true);
		fprintf(out, "],\"loaded\":\"%s\",\"generation\":%" PRIu64 "}\n", when, e->changed);
		return 0;
	}
	health_text(health, sizeof(health), s);
	fprintf(out, "name: %s\nid: %u\nmode: %s\nbalance: %s\nsend-proxy-v2: %s\nhealth: %s\n"
		"timeouts: connect=%ums idle=%ums\n", e->name, b->pub.id, mode_words[s->mode],
		balance_words[s->balance],
		!s->proxy_v2 ? "off" : s->proxy_v2_cert ? "on, with the client certificate" : "on",
		health, s->connect_ms, s->idle_ms);
	for (int i = 0; i < PC_BACKEND_NB_HEADERS; i++)
		fprintf(out, "header %s: %s%s\n", pc_backend_header_word[i],
			b->pub.header[i] != NULL ? b->pub.header[i] : "off",
			tcp ? " (not used: mode tcp)" : "");
	fprintf(out, "tls: %s\n", origin_check(&b->pub));
	if (s->tls) {
		fprintf(out, "tls ca: %s\n", s->tls_ca != NULL ? s->tls_ca : "-");
		fprintf(out, "tls cert: %s%s%s\n", s->tls_cert != NULL ? s->tls_cert : "-",
			s->tls_key != NULL ? " key " : "", s->tls_key != NULL ? s->tls_key : "");
		if (b->client != NULL)
			fprintf(out, "tls cert subject: %s\n", b->client->subject);
		fprintf(out, "tls sni: %s\ntls verify-name: %s\n",
			s->tls_sni != NULL ? s->tls_sni : "-",
			b->pub.verify_name != NULL ? b->pub.verify_name : "-");
	}
	show_servers(out, &b->pub, false, "");
	fprintf(out, "hosts: %u\n", e->refs);
	backend_users(out, e, false);
	fprintf(out, "loaded: %s\ngeneration: %" PRIu64 "\n", when, e->changed);
	return 0;
}

void pc_tls_show_ticket_keys(FILE *out, bool json)
{
	const struct pc_tls_ticket_keys *ks = tls_ticket_keys();
	char when[32];

	if (ks == NULL)
		return;
	iso_time(when, sizeof(when), ks->loaded);
	if (json) {
		fprintf(out, "{\"file\":");
		json_str_or_null(out, ks->file[0] != '\0' ? ks->file : NULL);
		fprintf(out, ",\"loaded\":\"%s\",\"lifetime\":%u,\"keys\":[", when,
			__atomic_load_n(&pc_tls_ticket_lifetime_s, __ATOMIC_RELAXED));
		for (unsigned int i = 0; i < ks->n; i++) {
			fprintf(out, "%s", i ? "," : "");
			json_str(out, ks->k[i].name);
		}
		fprintf(out, "]}\n");
		return;
	}
	fprintf(out, "file: %s\nloaded: %s\nlifetime: %us\n",
		ks->file[0] != '\0' ? ks->file : "none (random keys)", when,
		__atomic_load_n(&pc_tls_ticket_lifetime_s, __ATOMIC_RELAXED));
	for (unsigned int i = 0; i < ks->n; i++)
		fprintf(out, "key: %s%s\n", ks->k[i].name, i == 0 ? " (seals new tickets)" : "");
}
