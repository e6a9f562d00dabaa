/* SPDX-License-Identifier: MIT */
/*
 * Transactions over the trust objects: staging specs (copies of the
 * committed ones, changed by config commands), then one commit that
 * validates everything and publishes every changed object, or changes
 * nothing. A commit costs O(objects it changes): hosts name their ca-set,
 * cert and backend by entry, so a replaced ca-set is one pointer swap
 * however many hosts share it. A backend's entry also carries its id,
 * given when the entry is made and kept by every version. Main lcore
 * only.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "tls_store.h"

#define NAME_MAX_OBJ 64

struct item {
	struct item *hnext, *next; /* hash chain; order of staging */
	enum pc_tls_kind kind;
	char *name;                /* hosts: lowercase */
	bool del;                  /* staged: delete the object */
	bool skip;                 /* dropped at commit (a private object nobody names) */
	uint64_t base;             /* the entry's `changed` when first staged, 0: absent */
	union {
		struct pc_tls_host_spec host;
		struct pc_tls_caset_spec caset;
		struct pc_tls_cert_spec cert;
		struct pc_tls_backend_spec backend;
	} spec;
	/* Commit scratch. */
	void *built;
	struct tls_entry *entry;
	bool new_entry;
};

struct pc_tls_txn {
	struct item **buckets;
	unsigned int nb_buckets, n;
	struct item *first, **tail;
	bool whole; /* states the whole trust configuration (pc_tls_txn_new_whole) */
};

/* Hosts whose spec names no cert (committed), for the default-cert rule. */
static unsigned long certless_hosts;
/* The last backend id given (struct pc_backend's id: one per entry). */
static uint32_t last_backend_id;

const char *const pc_backend_header_default[PC_BACKEND_NB_HEADERS] = {
	"X-SSL-Client-Verify", "X-SSL-Client-S-DN", "X-SSL-Client-SAN", "X-SSL-Client-Serial",
	"X-SSL-Client-Fingerprint", "X-Client-Identity", "Client-Cert", "Client-Cert-Chain",
	"X-Forwarded-For", "X-Forwarded-Proto",
};
const char *const pc_backend_header_word[PC_BACKEND_NB_HEADERS] = {
	"client-verify", "client-s-dn", "client-san", "client-serial", "client-fingerprint",
	"client-identity", "client-cert", "client-cert-chain", "forwarded-for", "forwarded-proto",
};

bool pc_backend_header_name_ok(const char *name)
{
	/* Framing, routing and hop-by-hop fields (RFC 9110 7.6.1, RFC 9112). */
	static const char *const kept[] = {
		"Host", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive",
		"Proxy-Connection", "TE", "Trailer", "Upgrade", "Expect", "Content-Type",
	};

	if (*name == '\0' || strlen(name) > PC_BACKEND_HEADER_NAME_MAX)
		return false;
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (strcasecmp(name, kept[i]) == 0)
			return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("!#$%&'*+-.^_`|~", *p) == NULL)
			return false;
	return true;
}

int pc_strv_push(struct pc_strv *v, const char *s)
{
	char **n = realloc(v->v, (v->n + 1) * sizeof(*n));
	char *d = strdup(s);

	if (n == NULL || d == NULL) {
		free(d);
		if (n != NULL)
			v->v = n;
		return -1;
	}
	v->v = n;
	v->v[v->n++] = d;
	return 0;
}

void pc_strv_free(struct pc_strv *v)
{
	for (unsigned int i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

static int strv_copy(struct pc_strv *d, const struct pc_strv *s)
{
	memset(d, 0, sizeof(*d));
	for (unsigned int i = 0; i < s->n; i++)
		if (pc_strv_push(d, s->v[i]) != 0)
			return -1;
	return 0;
}

void tls_spec_free(enum pc_tls_kind kind, void *spec)
{
	if (kind == PC_TLS_HOST) {
		struct pc_tls_host_spec *h = spec;

		free(h->caset);
		free(h->cert);
		free(h->backend);
		free(h->allow);
		pc_strv_free(&h->protect);
	} else if (kind == PC_TLS_CASET) {
		struct pc_tls_caset_spec *c = spec;

		pc_strv_free(&c->files);
		pc_strv_free(&c->crls);
		pc_strv_free(&c->revoked);
	} else if (kind == PC_TLS_BACKEND) {
		struct pc_tls_backend_spec *b = spec;

		free(b->health_path);
		for (int i = 0; i < PC_BACKEND_NB_HEADERS; i++)
			free(b->headers[i]);
		free(b->tls_ca);
		free(b->tls_cert);
		free(b->tls_key);
		free(b->tls_sni);
		free(b->tls_verify_name);
		memset(b, 0, sizeof(*b));
	} else {
		struct pc_tls_cert_spec *c = spec;

		free(c->chain);
		free(c->key);
		c->chain = c->key = NULL;
	}
}

static int dup_or_null(char **d, const char *s)
{
	*d = s != NULL ? strdup(s) : NULL;
	return s != NULL && *d == NULL ? -1 : 0;
}

int tls_spec_copy(enum pc_tls_kind kind, void *dst, const void *src)
{
	if (kind == PC_TLS_HOST) {
		struct pc_tls_host_spec *d = dst;
		const struct pc_tls_host_spec *s = src;

		*d = *s;
		d->caset = d->cert = d->backend = NULL;
		d->allow = NULL;
		memset(&d->protect, 0, sizeof(d->protect));
		if (s->nb_allow != 0) {
			d->allow = malloc(s->nb_allow * sizeof(*d->allow));
			if (d->allow == NULL)
				return -1;
			memcpy(d->allow, s->allow, s->nb_allow * sizeof(*d->allow));
		}
		return dup_or_null(&d->caset, s->caset) || dup_or_null(&d->cert, s->cert) ||
			       dup_or_null(&d->backend, s->backend) ||
			       strv_copy(&d->protect, &s->protect)
		       ? -1
		       : 0;
	}
	if (kind == PC_TLS_CASET) {
		struct pc_tls_caset_spec *d = dst;
		const struct pc_tls_caset_spec *s = src;

		return strv_copy(&d->files, &s->files) || strv_copy(&d->crls, &s->crls) ||
			       strv_copy(&d->revoked, &s->revoked)
		       ? -1
		       : 0;
	}
	if (kind == PC_TLS_BACKEND) {
		struct pc_tls_backend_spec *d = dst;
		const struct pc_tls_backend_spec *s = src;
		int rc;

		/* Every string NULL first: a failed copy is freed whole. */
		*d = *s;
		d->health_path = d->tls_ca = d->tls_cert = d->tls_key = NULL;
		d->tls_sni = d->tls_verify_name = NULL;
		memset(d->headers, 0, sizeof(d->headers));
		rc = dup_or_null(&d->health_path, s->health_path) ||
		     dup_or_null(&d->tls_ca, s->tls_ca) || dup_or_null(&d->tls_cert, s->tls_cert) ||
		     dup_or_null(&d->tls_key, s->tls_key) || dup_or_null(&d->tls_sni, s->tls_sni) ||
		     dup_or_null(&d->tls_verify_name, s->tls_verify_name);
		for (int i = 0; i < PC_BACKEND_NB_HEADERS && rc == 0; i++)
			rc = dup_or_null(&d->headers[i], s->headers[i]);
		return rc ? -1 : 0;
	}
	struct pc_tls_cert_spec *d = dst;
	const struct pc_tls_cert_spec *s = src;

	return dup_or_null(&d->chain, s->chain) || dup_or_null(&d->key, s->key) ? -1 : 0;
}

static const char *const kind_words[PC_TLS_NB_KINDS] = {"host", "ca-set", "cert", "backend"};

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
		if (!(isalnum((unsigned char)*n) || *n == '-' || (*n == '.' && n[1] != '.')))
			return false;
	return n[-1] != '.';
}

/* Letters, digits, '.', '_', '-'; or "host:" and a host name (private). */
static bool valid_object_name(const char *n)
{
	size_t len = strlen(n);

	if (strncmp(n, PC_TLS_PRIVATE_PREFIX, strlen(PC_TLS_PRIVATE_PREFIX)) == 0)
		return valid_host_name(n + strlen(PC_TLS_PRIVATE_PREFIX));
	if (len == 0 || len > NAME_MAX_OBJ)
		return false;
	for (; *n != '\0'; n++)
		if (!(isalnum((unsigned char)*n) || *n == '-' || *n == '_' || *n == '.'))
			return false;
	return true;
}

static unsigned int item_hash(enum pc_tls_kind kind, const char *name)
{
	uint32_t h = 2166136261u ^ (uint32_t)kind;

	for (; *name != '\0'; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	return h;
}

struct pc_tls_txn *pc_tls_txn_new(void)
{
	struct pc_tls_txn *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return NULL;
	x->nb_buckets = 64;
	x->buckets = calloc(x->nb_buckets, sizeof(*x->buckets));
	if (x->buckets == NULL) {
		free(x);
		return NULL;
	}
	x->tail = &x->first;
	return x;
}

static void item_free(struct item *it)
{
	if (!it->del)
		tls_spec_free(it->kind, &it->spec);
	free(it->name);
	free(it);
}

static void txn_clear(struct pc_tls_txn *x)
{
	struct item *it = x->first;

	while (it != NULL) {
		struct item *next = it->next;

		item_free(it);
		it = next;
	}
	memset(x->buckets, 0, x->nb_buckets * sizeof(*x->buckets));
	x->first = NULL;
	x->tail = &x->first;
	x->n = 0;
}

struct pc_tls_txn *pc_tls_txn_new_whole(void)
{
	struct pc_tls_txn *x = pc_tls_txn_new();

	if (x != NULL)
		x->whole = true;
	return x;
}

void pc_tls_txn_free(struct pc_tls_txn *x)
{
	if (x == NULL)
		return;
	txn_clear(x);
	free(x->buckets);
	free(x);
}

unsigned int pc_tls_txn_size(const struct pc_tls_txn *x)
{
	unsigned int n = 0;

	for (const struct item *it = x->first; it != NULL; it = it->next)
		n += !it->skip;
	return n;
}

static struct item *find_item(const struct pc_tls_txn *x, enum pc_tls_kind kind,
			      const char *name)
{
	for (struct item *it = x->buckets[item_hash(kind, name) & (x->nb_buckets - 1)];
	     it != NULL; it = it->hnext)
		if (it->kind == kind && strcmp(it->name, name) == 0)
			return it;
	return NULL;
}

static void grow(struct pc_tls_txn *x)
{
	unsigned int nb = x->nb_buckets * 2;
	struct item **b = calloc(nb, sizeof(*b));

	if (b == NULL)
		return; /* longer chains, still correct */
	for (struct item *it = x->first; it != NULL; it = it->next) {
		unsigned int h = item_hash(it->kind, it->name) & (nb - 1);

		it->hnext = b[h];
		b[h] = it;
	}
	free(x->buckets);
	x->buckets = b;
	x->nb_buckets = nb;
}

static struct item *add_item(struct pc_tls_txn *x, enum pc_tls_kind kind, const char *name)
{
	struct item *it = calloc(1, sizeof(*it));
	unsigned int h;

	if (it == NULL || (it->name = strdup(name)) == NULL) {
		free(it);
		return NULL;
	}
	it->kind = kind;
	if (x->n >= x->nb_buckets)
		grow(x);
	h = item_hash(kind, name) & (x->nb_buckets - 1);
	it->hnext = x->buckets[h];
	x->buckets[h] = it;
	*x->tail = it;
	x->tail = &it->next;
	x->n++;
	return it;
}

static void host_defaults(struct pc_tls_host_spec *h)
{
	memset(h, 0, sizeof(*h));
	h->max_depth = 4;
	h->eku = PC_VERIFY_EKU_CLIENT;
	h->min_rsa_bits = 2048;
}

static void backend_defaults(struct pc_tls_backend_spec *b)
{
	memset(b, 0, sizeof(*b));
	b->mode = PC_BACKEND_HTTP;
	b->balance = PC_BACKEND_ROUNDROBIN;
	b->health_interval_ms = PC_BACKEND_HEALTH_MS_DEFAULT;
	b->connect_ms = PC_BACKEND_CONNECT_MS_DEFAULT;
	b->idle_ms = PC_BACKEND_IDLE_MS_DEFAULT;
}

/* A new object's spec: the defaults of its kind. */
static void spec_defaults(enum pc_tls_kind kind, void *spec)
{
	if (kind == PC_TLS_HOST)
		host_defaults(spec);
	else if (kind == PC_TLS_BACKEND)
		backend_defaults(spec);
}

/* The committed spec of an entry's current version. */
static const void *entry_spec(const struct tls_entry *e)
{
	const void *cur = e->cur;

	switch (e->kind) {
	case PC_TLS_HOST:
		return &((const struct pc_tls_host *)cur)->spec;
	case PC_TLS_CASET:
		return &((const struct pc_tls_caset *)cur)->spec;
	case PC_TLS_CERT:
		return &((const struct pc_tls_cert *)cur)->spec;
	default:
		return &((const struct pc_tls_backend *)cur)->pub.spec;
	}
}

/* The staged spec of (kind, name), staged now from the committed one. */
static void *stage(struct pc_tls_txn *x, enum pc_tls_kind kind, const char *given, char *err,
		   size_t errlen)
{
	char name[PC_TLS_NAME_MAX + 8];
	struct tls_entry *e;
	struct item *it;

	if (kind == PC_TLS_BACKEND &&
	    (strcmp(given, "none") == 0 || strchr(given, ':') != NULL)) {
		snprintf(err, errlen, "'%s' cannot name a backend (none: a host without one)",
			 given);
		return NULL;
	}
	if (kind == PC_TLS_HOST ? !valid_host_name(given) : !valid_object_name(given)) {
		snprintf(err, errlen,
			 kind == PC_TLS_HOST ? "'%s' is not default, a DNS name or *.DNS-name"
					     : "'%s' is not a name (letters, digits, '.', '_', "
					       "'-', at most 64)",
			 given);
		return NULL;
	}
	snprintf(name, sizeof(name), "%s", given);
	if (kind == PC_TLS_HOST)
		for (char *p = name; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	it = find_item(x, kind, name);
	if (it != NULL && it->del) {
		/* Deleted, then defined again: a new object replaces it. */
		it->del = it->skip = false;
		memset(&it->spec, 0, sizeof(it->spec));
		spec_defaults(kind, &it->spec);
	}
	if (it != NULL)
		return &it->spec;
	it = add_item(x, kind, name);
	if (it == NULL)
		goto nomem;
	e = tls_store_get(kind, name);
	/* A whole transaction states every object from scratch, as the
	 * config file does at start; the base still guards against commits
	 * in between. */
	if (e != NULL && x->whole) {
		it->base = e->changed;
		spec_defaults(kind, &it->spec);
	} else if (e != NULL) {
		it->base = e->changed;
		if (tls_spec_copy(kind, &it->spec, entry_spec(e)) != 0)
			goto nomem;
	} else {
		spec_defaults(kind, &it->spec);
	}
	return &it->spec;
nomem:
	snprintf(err, errlen, "out of memory");
	return NULL;
}

struct pc_tls_host_spec *pc_tls_txn_host(struct pc_tls_txn *x, const char *name, char *err,
					 size_t errlen)
{
	return stage(x, PC_TLS_HOST, name, err, errlen);
}

struct pc_tls_caset_spec *pc_tls_txn_caset(struct pc_tls_txn *x, const char *name, char *err,
					   size_t errlen)
{
	return stage(x, PC_TLS_CASET, name, err, errlen);
}

struct pc_tls_cert_spec *pc_tls_txn_cert(struct pc_tls_txn *x, const char *name, char *err,
					 size_t errlen)
{
	return stage(x, PC_TLS_CERT, name, err, errlen);
}

struct pc_tls_backend_spec *pc_tls_txn_backend(struct pc_tls_txn *x, const char *name, char *err,
					       size_t errlen)
{
	return stage(x, PC_TLS_BACKEND, name, err, errlen);
}

static void lower(char *dst, size_t cap, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < cap && src[i] != '\0'; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

int pc_tls_txn_del(struct pc_tls_txn *x, enum pc_tls_kind kind, const char *given, char *err,
		   size_t errlen)
{
	char name[PC_TLS_NAME_MAX + 8];
	struct tls_entry *e;
	struct item *it;

	if (kind == PC_TLS_HOST)
		lower(name, sizeof(name), given);
	else
		snprintf(name, sizeof(name), "%s", given);
	e = tls_store_get(kind, name);
	it = find_item(x, kind, name);
	if (it == NULL && e == NULL) {
		snprintf(err, errlen, "no %s %s", kind_words[kind], name);
		return -1;
	}
	if (it == NULL) {
		it = add_item(x, kind, name);
		if (it == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		it->base = e->changed;
	} else if (!it->del) {
		tls_spec_free(kind, &it->spec);
	}
	/* Staged and deleted before it ever existed: nothing left to do. */
	it->del = true;
	it->skip = e == NULL;
	/* A host's private objects go with it. */
	if (kind == PC_TLS_HOST)
		for (int k = PC_TLS_CASET; k <= PC_TLS_CERT; k++) {
			char priv[sizeof(name) + 8];
			struct item *p;

			snprintf(priv, sizeof(priv), PC_TLS_PRIVATE_PREFIX "%s", name);
			p = find_item(x, (enum pc_tls_kind)k, priv);
			if ((p != NULL && !p->del) ||
			    (p == NULL && tls_store_get((enum pc_tls_kind)k, priv) != NULL))
				pc_tls_txn_del(x, (enum pc_tls_kind)k, priv, err, errlen);
		}
	return 0;
}

/* The config commands that make an object; private objects (owned by a
 * host) are given through their host's shortcuts. */
static void dump_caset_lines(FILE *out, const char *prefix, const char *name,
			     const struct pc_tls_caset_spec *c)
{
	for (unsigned int i = 0; i < c->files.n; i++)
		fprintf(out, "%s %s %s %s\n", prefix, name, prefix[0] == 'h' ? "ca" : "file",
			c->files.v[i]);
	for (unsigned int i = 0; i < c->crls.n; i++)
		fprintf(out, "%s %s crl %s\n", prefix, name, c->crls.v[i]);
	for (unsigned int i = 0; i < c->revoked.n; i++)
		fprintf(out, "%s %s revoke %s\n", prefix, name, c->revoked.v[i]);
}

static bool is_private_of(const char *obj, const char *host)
{
	size_t pl = strlen(PC_TLS_PRIVATE_PREFIX);

	return obj != NULL && strncmp(obj, PC_TLS_PRIVATE_PREFIX, pl) == 0 &&
	       strcmp(obj + pl, host) == 0;
}

static void dump_backend(FILE *out, const char *name, const struct pc_tls_backend_spec *b)
{
	static const char *const health[] = {"none", "tcp", "http"};

	for (unsigned int i = 0; i < b->nb_servers; i++) {
		const struct pc_backend_server *v = &b->servers[i];
		uint32_t a = ntohl(v->addr);

		fprintf(out, "backend %s server %u.%u.%u.%u:%u", name, a >> 24, (a >> 16) & 0xff,
			(a >> 8) & 0xff, a & 0xff, ntohs(v->port));
		if (v->weight != 1)
			fprintf(out, " weight %u", v->weight);
		fputc('\n', out);
	}
	fprintf(out, "backend %s mode %s\n", name, b->mode == PC_BACKEND_TCP ? "tcp" : "http");
	fprintf(out, "backend %s balance %s\n", name,
		b->balance == PC_BACKEND_LEASTCONN ? "leastconn" : "roundrobin");
	if (b->proxy_v2)
		fprintf(out, "backend %s send-proxy-v2%s\n", name, b->proxy_v2_cert ? " cert" : "");
	if (b->health == PC_BACKEND_HEALTH_NONE)
		fprintf(out, "backend %s health none\n", name);
	else
		fprintf(out, "backend %s health %s%s%s interval %u\n", name, health[b->health],
			b->health_path != NULL ? " " : "",
			b->health_path != NULL ? b->health_path : "", b->health_interval_ms);
	fprintf(out, "backend %s timeouts %u %u\n", name, b->connect_ms, b->idle_ms);
	for (int i = 0; i < PC_BACKEND_NB_HEADERS; i++)
		if (b->headers[i] != NULL)
			fprintf(out, "backend %s header %s %s\n", name, pc_backend_header_word[i],
				b->headers[i][0] != '\0' ? b->headers[i] : "off");
	if (!b->tls)
		return;
	fprintf(out, "backend %s tls", name);
	if (b->tls_ca != NULL)
		fprintf(out, " ca %s", b->tls_ca);
	if (b->tls_cert != NULL)
		fprintf(out, " cert %s %s", b->tls_cert, b->tls_key);
	if (b->tls_sni != NULL)
		fprintf(out, " sni %s", b->tls_sni);
	if (b->tls_verify_name != NULL)
		fprintf(out, " verify-name %s", b->tls_verify_name);
	fputc('\n', out);
}

void tls_spec_dump(FILE *out, enum pc_tls_kind kind, const char *name, const void *spec,
		   const struct pc_tls_caset_spec *private_caset,
		   const struct pc_tls_cert_spec *private_cert)
{
	static const char *const modes[] = {"none", "optional", "optional_no_ca", "required"};
	static const char *const ekus[] = {"client", "server", "any"};
	static const char *const kinds[] = {"dns", "uri", "email", "cn", "ip"};

	if (kind == PC_TLS_CASET) {
		dump_caset_lines(out, "ca-set", name, spec);
		return;
	}
	if (kind == PC_TLS_CERT) {
		const struct pc_tls_cert_spec *c = spec;

		fprintf(out, "cert %s %s %s\n", name, c->chain, c->key);
		return;
	}
	if (kind == PC_TLS_BACKEND) {
		dump_backend(out, name, spec);
		return;
	}
	const struct pc_tls_host_spec *h = spec;

	fprintf(out, "host %s verify %s\n", name, modes[h->verify]);
	if (is_private_of(h->caset, name) && private_caset != NULL)
		dump_caset_lines(out, "host", name, private_caset);
	else if (h->caset != NULL)
		fprintf(out, "host %s ca-set %s\n", name, h->caset);
	if (is_private_of(h->cert, name) && private_cert != NULL)
		fprintf(out, "host %s cert %s %s\n", name, private_cert->chain, private_cert->key);
	else if (h->cert != NULL)
		fprintf(out, "host %s cert-ref %s\n", name, h->cert);
	fprintf(out, "host %s max-depth %u\n", name, h->max_depth);
	fprintf(out, "host %s eku %s\n", name, ekus[h->eku]);
	fprintf(out, "host %s min-rsa-bits %u\n", name, h->min_rsa_bits);
	for (unsigned int i = 0; i < h->nb_allow; i++)
		fprintf(out, "host %s allow %s:%s\n", name, kinds[h->allow[i].kind],
			h->allow[i].pattern);
	fprintf(out, "host %s on-failure %s\n", name,
		h->on_failure == PC_TLS_FAIL_ALERT ? "alert" : "http403");
	for (unsigned int i = 0; i < h->protect.n; i++)
		fprintf(out, "host %s protect %s\n", name, h->protect.v[i]);
	if (h->backend != NULL)
		fprintf(out, "host %s backend %s\n", name, h->backend);
	if (h->metrics)
		fprintf(out, "host %s metrics on\n", name);
}

void pc_tls_txn_show(const struct pc_tls_txn *x, FILE *out)
{
	for (const struct item *it = x->first; it != NULL; it = it->next) {
		if (it->skip)
			continue;
		if (it->del)
			fprintf(out, "del %s %s\n", kind_words[it->kind], it->name);
		else
			tls_spec_dump(out, it->kind, it->name, &it->spec, NULL, NULL);
	}
}

static const struct pc_tls_host_spec *committed_host(const char *name)
{
	struct tls_entry *e = tls_store_get(PC_TLS_HOST, name);

	return e != NULL ? &((const struct pc_tls_host *)e->cur)->spec : NULL;
}

/* The host spec (kind, name) will have after the commit, or NULL. */
static const struct pc_tls_host_spec *final_host(const struct pc_tls_txn *x, const char *name)
{
	const struct item *it = find_item(x, PC_TLS_HOST, name);

	if (it != NULL)
		return it->del ? NULL : &it->spec.host;
	return committed_host(name);
}

/* Private objects follow their host: dropped (or deleted) when the host
 * no longer names them. */
static int settle_private(struct pc_tls_txn *x, char *err, size_t errlen)
{
	size_t pl = strlen(PC_TLS_PRIVATE_PREFIX);

	/* A host that stops naming its committed private object. */
	for (struct item *it = x->first; it != NULL; it = it->next) {
		const struct pc_tls_host_spec *old;

		if (it->kind != PC_TLS_HOST || it->skip || (old = committed_host(it->name)) == NULL)
			continue;
		for (int k = PC_TLS_CASET; k <= PC_TLS_CERT; k++) {
			const char *o = k == PC_TLS_CASET ? old->caset : old->cert;
			const char *n = it->del ? NULL : k == PC_TLS_CASET ? it->spec.host.caset
									   : it->spec.host.cert;

			if (is_private_of(o, it->name) && (n == NULL || strcmp(n, o) != 0) &&
			    find_item(x, (enum pc_tls_kind)k, o) == NULL &&
			    pc_tls_txn_del(x, (enum pc_tls_kind)k, o, err, errlen) != 0)
				return -1;
		}
	}
	/* A private object staged for a host that does not name it. */
	for (struct item *it = x->first; it != NULL; it = it->next) {
		const struct pc_tls_host_spec *h;
		const char *ref;

		if (it->kind == PC_TLS_HOST || it->del ||
		    strncmp(it->name, PC_TLS_PRIVATE_PREFIX, pl) != 0)
			continue;
		h = final_host(x, it->name + pl);
		ref = h == NULL ? NULL : it->kind == PC_TLS_CASET ? h->caset : h->cert;
		if (ref != NULL && strcmp(ref, it->name) == 0)
			continue;
		if (tls_store_get(it->kind, it->name) == NULL) {
			it->skip = true;
		} else {
			tls_spec_free(it->kind, &it->spec);
			it->del = true;
		}
	}
	return 0;
}

/* The entry (kind, name) resolves to after the commit, or NULL. */
static struct tls_entry *resolve(const struct pc_tls_txn *x, enum pc_tls_kind kind,
				 const char *name)
{
	const struct item *it = find_item(x, kind, name);

	if (it != NULL)
		return it->del || it->skip ? NULL : it->entry;
	return tls_store_get(kind, name);
}

static const char *describe(char *buf, size_t len, const struct item *it)
{
	snprintf(buf, len, "%s %s", kind_words[it->kind], it->name);
	return buf;
}

static int check_conflicts(const struct pc_tls_txn *x, char *err, size_t errlen)
{
	char what[PC_TLS_NAME_MAX + 16];

	for (const struct item *it = x->first; it != NULL; it = it->next) {
		const struct tls_entry *e = tls_store_get(it->kind, it->name);
		uint64_t cur = e != NULL ? e->changed : 0;

		if (!it->skip && cur != it->base) {
			snprintf(err, errlen,
				 "%s was %s by another commit since this transaction staged it",
				 describe(what, sizeof(what), it),
				 cur == 0 ? "deleted" : it->base == 0 ? "created" : "changed");
			return -1;
		}
	}
	return 0;
}

static struct tls_entry *new_entry(enum pc_tls_kind kind, const char *name)
{
	struct tls_entry *e = calloc(1, sizeof(*e));

	if (e == NULL || (e->name = strdup(name)) == NULL) {
		free(e);
		return NULL;
	}
	e->kind = kind;
	/* Per-worker state outlives a backend's versions by this id. */
	if (kind == PC_TLS_BACKEND)
		e->id = ++last_backend_id;
	cds_lfht_node_init(&e->node);
	return e;
}

/* Entries for every staged object (existing, or new and not yet in a
 * table); ca-sets and certs built from their files. */
static int build_objects(struct pc_tls_txn *x, char *err, size_t errlen)
{
	char why[512], what[PC_TLS_NAME_MAX + 16];

	for (struct item *it = x->first; it != NULL; it = it->next) {
		if (it->skip || it->del)
			continue;
		it->entry = tls_store_get(it->kind, it->name);
		if (it->entry == NULL) {
			it->entry = new_entry(it->kind, it->name);
			it->new_entry = true;
			if (it->entry == NULL) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
		}
		if (it->kind == PC_TLS_CASET) {
			it->built = tls_store_build_caset(&it->spec.caset, why, sizeof(why));
		} else if (it->kind == PC_TLS_CERT) {
			it->built = tls_store_build_cert(&it->spec.cert, why, sizeof(why));
		} else if (it->kind == PC_TLS_BACKEND) {
			bool mismatch;
			struct pc_tls_backend *b = tls_store_build_backend(
				it->name, &it->spec.backend, &mismatch, why, sizeof(why));

			if (b != NULL)
				b->pub.id = it->entry->id;
			it->built = b;
		} else {
			continue;
		}
		if (it->built == NULL) {
			snprintf(err, errlen, "%s: %s", describe(what, sizeof(what), it), why);
			return -1;
		}
		/* A CRL never goes back to an older one of its issuer (a stale
		 * copy, a replay): revocations must not come undone. */
		if (it->kind == PC_TLS_CASET && !it->new_entry && it->entry->cur != NULL &&
		    pc_trust_crl_regressed(((const struct pc_tls_caset *)it->entry->cur)->trust,
					   ((const struct pc_tls_caset *)it->built)->trust, why,
					   sizeof(why))) {
			snprintf(err, errlen, "%s: %s", describe(what, sizeof(what), it), why);
			return -1;
		}
		if (it->kind == PC_TLS_CERT) {
			const struct pc_tls_cert *c = it->built;

			if (pc_tls_arm_contexts(c->chain, c->leaf_len, c->key, c->key_len) != 0) {
				snprintf(err, errlen, "%s: wolfSSL refused it",
					 describe(what, sizeof(what), it));
				return -1;
			}
		}
	}
	return 0;
}

static int host_digest(struct pc_tls_host *h)
{
	uint8_t buf[2 + PC_TRUST_DIGEST_LEN] = {(uint8_t)h->spec.verify,
						(uint8_t)h->spec.on_failure};

	return pc_verify_policy_digest(&h->policy, buf + 2) != 0 ||
	       wc_Sha256Hash(buf, sizeof(buf), h->digest) != 0;
}

static struct pc_tls_host *build_host(const struct pc_tls_txn *x, const struct item *it,
				      char *err, size_t errlen)
{
	const struct pc_tls_host_spec *s = &it->spec.host;
	struct pc_tls_host *h;

	if (s->verify != PC_TLS_VERIFY_NONE && s->caset == NULL) {
		snprintf(err, errlen, "host %s verifies clients but has no ca-set (or ca FILE)",
			 it->name);
		return NULL;
	}
	if (s->caset != NULL && resolve(x, PC_TLS_CASET, s->caset) == NULL) {
		snprintf(err, errlen, "host %s: no ca-set %s", it->name, s->caset);
		return NULL;
	}
	if (s->cert != NULL && resolve(x, PC_TLS_CERT, s->cert) == NULL) {
		snprintf(err, errlen, "host %s: no cert %s", it->name, s->cert);
		return NULL;
	}
	if (s->backend != NULL && resolve(x, PC_TLS_BACKEND, s->backend) == NULL) {
		snprintf(err, errlen, "host %s: no backend %s", it->name, s->backend);
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL || (h->name = strdup(it->name)) == NULL ||
	    tls_spec_copy(PC_TLS_HOST, &h->spec, s) != 0) {
		if (h != NULL)
			tls_store_free_version(PC_TLS_HOST, h);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->caset = s->caset != NULL ? resolve(x, PC_TLS_CASET, s->caset) : NULL;
	h->cert = s->cert != NULL ? resolve(x, PC_TLS_CERT, s->cert) : NULL;
	h->backend = s->backend != NULL ? resolve(x, PC_TLS_BACKEND, s->backend) : NULL;
	h->policy.max_depth = s->max_depth;
	h->policy.eku = s->eku;
	h->policy.min_rsa_bits = s->min_rsa_bits;
	h->policy.nb_allow = s->nb_allow;
	h->policy.allow = h->spec.allow;
	if (host_digest(h) != 0) {
		tls_store_free_version(PC_TLS_HOST, h);
		snprintf(err, errlen, "SHA-256 failed");
		return NULL;
	}
	return h;
}

static int build_hosts(struct pc_tls_txn *x, char *err, size_t errlen)
{
	for (struct item *it = x->first; it != NULL; it = it->next) {
		if (it->skip || it->del || it->kind != PC_TLS_HOST)
			continue;
		it->built = build_host(x, it, err, errlen);
		if (it->built == NULL)
			return -1;
	}
	return 0;
}

/* How each staged host changes the reference counts of the ca-sets,
 * certs and backends it names (entry->refs, applied at publish), and the number of
 * hosts without a cert. */
static long count_refs(struct pc_tls_txn *x, int sign)
{
	long certless = 0;

	for (struct item *it = x->first; it != NULL; it = it->next) {
		const struct pc_tls_host_spec *old, *new;
		struct tls_entry *e;

		if (it->kind != PC_TLS_HOST || it->skip)
			continue;
		old = committed_host(it->name);
		new = it->del ? NULL : &it->spec.host;
		if (old != NULL) {
			struct tls_entry *he = tls_store_get(PC_TLS_HOST, it->name);
			const struct pc_tls_host *hv = he->cur;

			if (hv->caset != NULL)
				hv->caset->refs -= (uint32_t)sign;
			if (hv->cert != NULL)
				hv->cert->refs -= (uint32_t)sign;
			if (hv->backend != NULL)
				hv->backend->refs -= (uint32_t)sign;
			certless -= old->cert == NULL;
		}
		if (new != NULL) {
			const struct pc_tls_host *nv = it->built;

			if ((e = nv->caset) != NULL)
				e->refs += (uint32_t)sign;
			if ((e = nv->cert) != NULL)
				e->refs += (uint32_t)sign;
			if ((e = nv->backend) != NULL)
				e->refs += (uint32_t)sign;
			certless += new->cert == NULL;
		}
	}
	return certless;
}

/* A host that names obj (for the error message); O(hosts): error path. */
static const char *a_user(const struct pc_tls_txn *x, const struct tls_entry *obj)
{
	struct cds_lfht_iter iter;
	struct tls_entry *e;

	for (const struct item *it = x->first; it != NULL; it = it->next) {
		const struct pc_tls_host *h = it->built;

		if (it->kind == PC_TLS_HOST && h != NULL &&
		    (h->caset == obj || h->cert == obj || h->backend == obj))
			return it->name;
	}
	cds_lfht_for_each_entry(tls_store_table(PC_TLS_HOST), &iter, e, node) {
		const struct pc_tls_host *h = e->cur;
		const struct item *it = find_item(x, PC_TLS_HOST, e->name);

		if (it == NULL && (h->caset == obj || h->cert == obj || h->backend == obj))
			return e->name;
	}
	return "?";
}

static int check_refs(struct pc_tls_txn *x, char *err, size_t errlen)
{
	long certless;
	int rc = 0;

	certless = (long)certless_hosts + count_refs(x, 1);
	for (struct item *it = x->first; it != NULL && rc == 0; it = it->next) {
		struct tls_entry *e;

		if (it->kind == PC_TLS_HOST || !it->del || it->skip)
			continue;
		e = tls_store_get(it->kind, it->name);
		if (e->refs != 0) {
			snprintf(err, errlen, "%s %s is used by %u host(s), %s among them: not deleted",
				 kind_words[it->kind], it->name, e->refs, a_user(x, e));
			rc = -1;
		}
	}
	if (rc == 0 && certless > 0) {
		const struct pc_tls_host_spec *d = final_host(x, "default");

		if (d == NULL || d->cert == NULL) {
			snprintf(err, errlen, "%ld host(s) have no certificate and the default host "
				 "%s: host default cert CHAIN KEY", certless,
				 d == NULL ? "does not exist" : "has none");
			rc = -1;
		}
	}
	count_refs(x, -1);
	return rc;
}

static void unbuild(struct pc_tls_txn *x)
{
	for (struct item *it = x->first; it != NULL; it = it->next) {
		tls_store_free_version(it->kind, it->built);
		it->built = NULL;
		if (it->new_entry) {
			free(it->entry->name);
			free(it->entry);
		}
		it->entry = NULL;
		it->new_entry = false;
	}
}

static void publish(struct pc_tls_txn *x, uint64_t gen)
{
	/* Ca-sets and certs first, then the hosts that name them, deletions
	 * last: a connection never finds a name that does not resolve. */
	for (int pass = 0; pass < 3; pass++)
		for (struct item *it = x->first; it != NULL; it = it->next) {
			bool leaf = it->kind != PC_TLS_HOST;
			struct tls_entry *e = it->entry;
			void *old;

			if (it->skip || (pass == 0 && (!leaf || it->del)) ||
			    (pass == 1 && (leaf || it->del)) || (pass == 2 && !it->del))
				continue;
			if (it->del) {
				e = tls_store_get(it->kind, it->name);
				tls_store_unlink(e);
				if (it->kind == PC_TLS_HOST)
					certless_hosts -= e->certless;
				tls_store_retire(it->kind, e->cur, false, gen);
				tls_store_retire(it->kind, e, true, gen);
				continue;
			}
			if (it->kind == PC_TLS_HOST) {
				const struct pc_tls_host *h = it->built;

				certless_hosts += (h->spec.cert == NULL) - (unsigned long)e->certless;
				e->certless = h->spec.cert == NULL;
				/* Counted from now on; should calloc fail, the host's
				 * series by reason are missing, nothing else. */
				if (h->spec.metrics && e->reasons == NULL)
					rcu_assign_pointer(e->reasons,
							   calloc(1, sizeof(*e->reasons)));
			}
			e->changed = gen;
			if (it->new_entry) {
				e->cur = it->built;
				tls_store_link(e);
			} else {
				old = rcu_xchg_pointer(&e->cur, it->built);
				tls_store_retire(it->kind, old, false, gen);
			}
			it->built = NULL;
			it->new_entry = false;
		}
}

/* A spec as its config lines (malloc()ed, NULL when out of memory). */
static char *spec_text(enum pc_tls_kind kind, const char *name, const void *spec)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (m == NULL)
		return NULL;
	tls_spec_dump(m, kind, name, spec, NULL, NULL);
	if (fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Compared as their config lines, so that every setting `dump config`
 * knows is compared, those added later included. */
bool tls_spec_equal(enum pc_tls_kind kind, const char *name, const void *a, const void *b)
{
	char *ta = spec_text(kind, name, a), *tb = spec_text(kind, name, b);
	bool eq = ta != NULL && tb != NULL && strcmp(ta, tb) == 0;

	free(ta);
	free(tb);
	return eq;
}

/* Is the staged object the committed one: the same spec and, for ca-sets,
 * certs and backends, files with the same content as when it was built (a file
 * that cannot be read counts as changed: the commit says why). */
static bool unchanged(const struct item *it, const struct tls_entry *e)
{
	uint8_t dg[PC_TRUST_DIGEST_LEN];
	char why[256];
	const uint8_t *had;

	if (!tls_spec_equal(it->kind, it->name, &it->spec, entry_spec(e)))
		return false;
	if (it->kind == PC_TLS_HOST)
		return true;
	had = it->kind == PC_TLS_CASET	? ((const struct pc_tls_caset *)e->cur)->files_digest
	      : it->kind == PC_TLS_CERT ? ((const struct pc_tls_cert *)e->cur)->files_digest
					: ((const struct pc_tls_backend *)e->cur)->files_digest;
	return tls_store_files_digest(it->kind, &it->spec, dg, why, sizeof(why)) == 0 &&
	       memcmp(dg, had, sizeof(dg)) == 0;
}

/* Take an item out of the transaction. */
static void drop_item(struct pc_tls_txn *x, struct item **link)
{
	struct item *it = *link;
	struct item **h = &x->buckets[item_hash(it->kind, it->name) & (x->nb_buckets - 1)];

	while (*h != it)
		h = &(*h)->hnext;
	*h = it->hnext;
	*link = it->next;
	if (x->tail == &it->next)
		x->tail = link;
	x->n--;
	item_free(it);
}

/* "kind name" into one of the diff's name lists, while it has room. */
static void diff_note(char *list, size_t cap, unsigned long count, const struct item *it)
{
	size_t at = strlen(list);

	if (count > PC_TLS_DIFF_NAMES) {
		if (count == PC_TLS_DIFF_NAMES + 1 && at + 5 < cap)
			snprintf(list + at, cap - at, ", ...");
		return;
	}
	snprintf(list + at, cap - at, "%s%s %s", at == 0 ? "" : ", ", kind_words[it->kind],
		 it->name);
}

int pc_tls_txn_reduce(struct pc_tls_txn *x, struct pc_tls_diff *d, char *err, size_t errlen)
{
	size_t pl = strlen(PC_TLS_PRIVATE_PREFIX);

	memset(d, 0, sizeof(*d));
	/* What the configuration no longer names is removed; a host's
	 * private objects follow their host (pc_tls_txn_del, settle_private). */
	for (int k = 0; k < PC_TLS_NB_KINDS; k++) {
		struct cds_lfht *t = tls_store_table((enum pc_tls_kind)k);
		struct cds_lfht_iter iter;
		struct tls_entry *e;

		if (t == NULL)
			continue;
		cds_lfht_for_each_entry(t, &iter, e, node) {
			if (strncmp(e->name, PC_TLS_PRIVATE_PREFIX, pl) == 0 ||
			    find_item(x, e->kind, e->name) != NULL)
				continue;
			if (pc_tls_txn_del(x, e->kind, e->name, err, errlen) != 0)
				return -1;
		}
	}
	if (settle_private(x, err, errlen) != 0)
		return -1;
	for (struct item **link = &x->first; *link != NULL;) {
		struct item *it = *link;
		const struct tls_entry *e = it->skip ? NULL : tls_store_get(it->kind, it->name);

		if (it->skip) {
			link = &it->next;
			continue;
		}
		if (it->del) {
			diff_note(d->removed_names, sizeof(d->removed_names), ++d->removed, it);
		} else if (e == NULL) {
			diff_note(d->added_names, sizeof(d->added_names), ++d->added, it);
		} else if (unchanged(it, e)) {
			d->unchanged++;
			drop_item(x, link);
			continue;
		} else {
			diff_note(d->changed_names, sizeof(d->changed_names), ++d->changed, it);
		}
		link = &it->next;
	}
	return 0;
}

int pc_tls_txn_commit(struct pc_tls_txn *x, char *err, size_t errlen)
{
	uint64_t gen = pc_tls_generation + 1;
	int rc = -1;

	if (pc_tls_active == NULL) {
		snprintf(err, errlen, "TLS is not running (no tls listen)");
		goto out;
	}
	if (settle_private(x, err, errlen) != 0 || check_conflicts(x, err, errlen) != 0)
		goto out;
	if (pc_tls_txn_size(x) == 0) {
		rc = 0;
		goto out;
	}
	if (build_objects(x, err, errlen) != 0 || build_hosts(x, err, errlen) != 0 ||
	    check_refs(x, err, errlen) != 0) {
		unbuild(x);
		goto out;
	}
	count_refs(x, 1);
	publish(x, gen);
	__atomic_store_n(&pc_tls_generation, gen, __ATOMIC_RELEASE);
	/* Workers that could still pick a replaced object have pinned it
	 * once every one of them has passed a quiescent state. */
	synchronize_rcu();
	pc_tls_reclaim();
	for (const struct item *it = x->first; it != NULL; it = it->next)
		if (!it->skip && it->kind != PC_TLS_HOST)
			tls_files_published(it->kind, it->name, it->del);
	rc = 0;
out:
	txn_clear(x);
	return rc;
}
