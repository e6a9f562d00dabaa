/* SPDX-License-Identifier: MIT */
/*
 * The trust object tables (tls_store.h says who may hold what): lookups for
 * workers, generation pins, retiring and reclaiming replaced objects, and
 * building object versions from their specs.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <rte_lcore.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "tls_store.h"
#include "verify_int.h"

#define TLS_CERT_FILE_MAX (1u << 20)

uint64_t pc_tls_generation;

static struct cds_lfht *tables[PC_TLS_NB_KINDS];
static unsigned long counts[PC_TLS_NB_KINDS]; /* entries in each table */

/* Objects replaced or removed, waiting until no connection can hold them. */
struct retired {
	struct retired *next;
	enum pc_tls_kind kind;
	bool entry;
	void *obj;
	uint64_t gen;
};
static struct retired *retired_head;

/* FNV-1a over the name (lowercased for hosts, whose names are stored so). */
static unsigned long name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s != '\0'; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ull;
	}
	return (unsigned long)h;
}

static int name_match(struct cds_lfht_node *node, const void *key)
{
	const struct tls_entry *e = caa_container_of(node, struct tls_entry, node);

	return strcmp(e->name, key) == 0;
}

static struct tls_entry *lookup(enum pc_tls_kind kind, const char *name)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;

	cds_lfht_lookup(tables[kind], name_hash(name), name_match, name, &it);
	n = cds_lfht_iter_get_node(&it);
	return n != NULL ? caa_container_of(n, struct tls_entry, node) : NULL;
}

struct tls_entry *tls_store_find_host(const char *sni)
{
	char name[PC_TLS_NAME_MAX + 3];
	size_t len = strlen(sni);
	struct tls_entry *e;
	const char *dot;

	if (len != 0 && len <= PC_TLS_NAME_MAX) {
		name[0] = '*';
		for (size_t i = 0; i <= len; i++)
			name[i + 1] = (char)tolower((unsigned char)sni[i]);
		e = lookup(PC_TLS_HOST, name + 1);
		if (e != NULL)
			return e;
		/* "*.example.com" takes exactly one more label. */
		dot = strchr(name + 1, '.');
		if (dot != NULL && dot != name + 1 && dot[1] != '\0') {
			char *w = (char *)dot - 1;

			*w = '*';
			e = lookup(PC_TLS_HOST, w);
			if (e != NULL)
				return e;
		}
	}
	return lookup(PC_TLS_HOST, "default");
}

bool pc_tls_host_pick(const char *name, const char **picked, bool *verifies)
{
	struct tls_entry *e = tls_store_find_host(name);
	const struct pc_tls_host *h = e != NULL ? rcu_dereference(e->cur) : NULL;

	if (h == NULL)
		return false;
	*picked = h->name;
	*verifies = h->spec.verify != PC_TLS_VERIFY_NONE;
	return true;
}

const struct pc_tls_cert *tls_store_host_cert(const struct pc_tls_host *h)
{
	struct tls_entry *e = h->cert;

	if (e == NULL) {
		struct tls_entry *d = lookup(PC_TLS_HOST, "default");
		const struct pc_tls_host *dh = d != NULL ? rcu_dereference(d->cur) : NULL;

		e = dh != NULL ? dh->cert : NULL;
	}
	return e != NULL ? rcu_dereference(e->cur) : NULL;
}

const struct pc_backend *tls_store_host_backend(const struct pc_tls_host *h)
{
	const struct pc_tls_backend *b = h->backend != NULL ? rcu_dereference(h->backend->cur) : NULL;

	return b != NULL ? &b->pub : NULL;
}

static void publish_oldest(struct tls_pins *p)
{
	__atomic_store_n(&p->oldest, p->n != 0 ? p->gen[p->head] : UINT64_MAX, __ATOMIC_RELEASE);
}

uint8_t tls_pin(struct tls_pins *p)
{
	uint64_t g = __atomic_load_n(&pc_tls_generation, __ATOMIC_ACQUIRE);
	uint32_t last = (p->head + p->n - 1) % TLS_PIN_BUCKETS;
	uint32_t slot;

	if (p->n != 0 && (p->gen[last] == g || p->n == TLS_PIN_BUCKETS)) {
		p->count[last]++;
		return (uint8_t)last;
	}
	slot = (p->head + p->n) % TLS_PIN_BUCKETS;
	p->gen[slot] = g;
	p->count[slot] = 1;
	p->n++;
	if (p->n == 1)
		publish_oldest(p);
	return (uint8_t)slot;
}

void tls_unpin(struct tls_pins *p, uint8_t token)
{
	uint32_t head = p->head;

	p->count[token]--;
	while (p->n != 0 && p->count[p->head] == 0) {
		p->head = (p->head + 1) % TLS_PIN_BUCKETS;
		p->n--;
	}
	if (p->head != head || p->n == 0)
		publish_oldest(p);
}

struct cds_lfht *tls_store_table(enum pc_tls_kind kind)
{
	return tables[kind];
}

struct tls_entry *tls_store_get(enum pc_tls_kind kind, const char *name)
{
	/* Config lines are staged before TLS starts: nothing is committed. */
	return tables[kind] != NULL ? lookup(kind, name) : NULL;
}

void tls_store_link(struct tls_entry *e)
{
	cds_lfht_add(tables[e->kind], name_hash(e->name), &e->node);
	counts[e->kind]++;
}

void tls_store_unlink(struct tls_entry *e)
{
	cds_lfht_del(tables[e->kind], &e->node);
	counts[e->kind]--;
}

unsigned long tls_store_count(enum pc_tls_kind kind)
{
	return counts[kind];
}

static void free_caset(struct pc_tls_caset *c)
{
	tls_spec_free(PC_TLS_CASET, &c->spec);
	pc_trust_free(c->trust);
	free(c);
}

static void free_cert(struct pc_tls_cert *c)
{
	tls_spec_free(PC_TLS_CERT, &c->spec);
	free(c->chain);
	if (c->key != NULL)
		explicit_bzero(c->key, c->key_len);
	free(c->key);
	wolfSSL_CERT_LOAN_free(c->held);
	free(c);
}

static void free_backend(struct pc_tls_backend *b)
{
	tls_spec_free(PC_TLS_BACKEND, &b->pub.spec);
	if (b->origin != NULL)
		free_caset(b->origin);
	if (b->client != NULL)
		free_cert(b->client);
	free(b->name);
	free(b);
}

static void free_host(struct pc_tls_host *h)
{
	tls_spec_free(PC_TLS_HOST, &h->spec);
	free(h->name);
	free(h);
}

void tls_store_free_version(enum pc_tls_kind kind, void *v)
{
	if (v == NULL)
		return;
	if (kind == PC_TLS_CASET)
		free_caset(v);
	else if (kind == PC_TLS_CERT)
		free_cert(v);
	else if (kind == PC_TLS_BACKEND)
		free_backend(v);
	else
		free_host(v);
}

static void free_entry(struct tls_entry *e)
{
	free(e->reasons);
	free(e->name);
	free(e);
}

void tls_store_retire(enum pc_tls_kind kind, void *obj, bool entry, uint64_t gen)
{
	struct retired *r = malloc(sizeof(*r));

	if (r == NULL) {
		/* Leaking one object beats freeing it under a reader. */
		fprintf(stderr, "portcullis: out of memory retiring an object; it is kept\n");
		return;
	}
	*r = (struct retired){.next = retired_head, .kind = kind, .entry = entry, .obj = obj,
			      .gen = gen};
	retired_head = r;
}

/* The oldest generation a connection of any worker is pinned in. */
static uint64_t oldest_pinned(void)
{
	uint64_t m = UINT64_MAX;

	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		uint64_t o = __atomic_load_n(&pc_tls_workers[l].pins.oldest, __ATOMIC_ACQUIRE);

		if (o < m)
			m = o;
	}
	return m;
}

void pc_tls_reclaim(void)
{
	uint64_t oldest = oldest_pinned();
	struct retired **pp = &retired_head;

	while (*pp != NULL) {
		struct retired *r = *pp;

		if (r->gen > oldest) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		if (r->entry)
			free_entry(r->obj);
		else
			tls_store_free_version(r->kind, r->obj);
		free(r);
	}
}

int pc_tls_store_init(void)
{
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++)
		pc_tls_workers[l].pins.oldest = UINT64_MAX;
	pc_tls_generation = 0;
	/* The main lcore, the writer, is a registered QSBR reader (mgmt's
	 * main.c): rculfhash's updates run in read-side critical sections. */
	for (int k = 0; k < PC_TLS_NB_KINDS; k++) {
		tables[k] = cds_lfht_new(1024, 1024, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
					 NULL);
		if (tables[k] == NULL)
			return -1;
	}
	return 0;
}

void pc_tls_store_fini(void)
{
	struct cds_lfht_iter it;
	struct tls_entry *e;
	bool online;

	for (int k = 0; k < PC_TLS_NB_KINDS; k++) {
		if (tables[k] == NULL)
			continue;
		cds_lfht_for_each_entry(tables[k], &it, e, node) {
			tls_store_unlink(e);
			tls_store_free_version(e->kind, e->cur);
			free_entry(e);
		}
	}
	/* Workers are stopped: nothing is pinned any more. */
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++)
		pc_tls_workers[l].pins.oldest = UINT64_MAX;
	pc_tls_reclaim();
	online = rcu_read_ongoing();
	if (online)
		rcu_thread_offline();
	for (int k = 0; k < PC_TLS_NB_KINDS; k++) {
		if (tables[k] != NULL)
			cds_lfht_destroy(tables[k], NULL);
		tables[k] = NULL;
	}
	/* rculfhash frees its resized bucket arrays through call_rcu. */
	rcu_barrier();
	if (online)
		rcu_thread_online();
}

/* A whole file, NUL-terminated, at most max bytes. */
static char *read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(max + 1);
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max) {
		snprintf(err, errlen, "%s: %s", path, ferror(f) ? "read error" : "file too large");
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* One file's bytes into a files digest, its length first (so that where
 * one file ends counts). */
static int digest_add(wc_Sha256 *h, const void *buf, size_t len)
{
	uint64_t n = len;

	return wc_Sha256Update(h, (const byte *)&n, sizeof(n)) != 0 ||
			       wc_Sha256Update(h, (const byte *)buf, (word32)len) != 0
		       ? -1
		       : 0;
}

int tls_store_files_digest(enum pc_tls_kind kind, const void *spec,
			   uint8_t out[PC_TRUST_DIGEST_LEN], char *err, size_t errlen)
{
	const struct pc_tls_caset_spec *cs = spec;
	const struct pc_tls_cert_spec *ce = spec;
	const struct pc_tls_backend_spec *bs = spec;
	const struct pc_strv *lists[2] = {NULL, NULL};
	char *files[3] = {NULL, NULL, NULL};
	struct pc_strv some = {0, files};
	wc_Sha256 h;
	int rc = 0;

	if (kind == PC_TLS_CASET) {
		lists[0] = &cs->files;
		lists[1] = &cs->crls;
	} else if (kind == PC_TLS_CERT) {
		files[some.n++] = ce->chain;
		files[some.n++] = ce->key;
		lists[0] = &some;
	} else {
		/* A backend's `tls` files, those it has (none: the digest of
		 * nothing). */
		if (bs->tls && bs->tls_ca != NULL)
			files[some.n++] = bs->tls_ca;
		if (bs->tls && bs->tls_cert != NULL) {
			files[some.n++] = bs->tls_cert;
			files[some.n++] = bs->tls_key;
		}
		lists[0] = &some;
	}
	if (wc_InitSha256(&h) != 0) {
		snprintf(err, errlen, "SHA-256 failed");
		return -1;
	}
	for (int l = 0; l < 2 && rc == 0; l++)
		for (unsigned int i = 0; lists[l] != NULL && i < lists[l]->n && rc == 0; i++) {
			char *buf;
			size_t len;

			rc = pc_read_file(lists[l]->v[i], &buf, &len, err, errlen);
			if (rc != 0)
				break;
			rc = digest_add(&h, buf, len);
			explicit_bzero(buf, len); /* a private key, maybe */
			free(buf);
		}
	if (rc == 0 && wc_Sha256Final(&h, out) != 0)
		rc = -1;
	wc_Sha256Free(&h);
	return rc;
}

/* The files of a ca-set, each read once: hashed into the version's files
 * digest and parsed from the same bytes. */
static int caset_add_files(struct pc_tls_caset *c, const struct pc_strv *v, bool crl,
			   wc_Sha256 *h, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < v->n; i++) {
		char *buf, msg[200] = "";
		size_t len;
		int rc;

		if (pc_read_file(v->v[i], &buf, &len, err, errlen) != 0)
			return -1;
		rc = digest_add(h, buf, len);
		if (rc == 0)
			rc = crl ? pc_trust_add_crl_mem(c->trust, (const uint8_t *)buf, len, msg,
							sizeof(msg))
				 : pc_trust_add_ca_pem(c->trust, buf, len, msg, sizeof(msg));
		free(buf);
		if (rc != 0) {
			snprintf(err, errlen, "%s: %s", v->v[i], msg[0] != '\0' ? msg : "SHA-256 failed");
			return -1;
		}
	}
	return 0;
}

struct pc_tls_caset *tls_store_build_caset(const struct pc_tls_caset_spec *s, char *err,
					   size_t errlen)
{
	struct pc_tls_caset *c = calloc(1, sizeof(*c));
	wc_Sha256 h;
	bool hashing = false;

	if (c == NULL || tls_spec_copy(PC_TLS_CASET, &c->spec, s) != 0 ||
	    (c->trust = pc_trust_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (s->files.n == 0) {
		snprintf(err, errlen, "no CA file");
		goto fail;
	}
	if (wc_InitSha256(&h) != 0) {
		snprintf(err, errlen, "SHA-256 failed");
		goto fail;
	}
	hashing = true;
	if (caset_add_files(c, &s->files, false, &h, err, errlen) != 0 ||
	    caset_add_files(c, &s->crls, true, &h, err, errlen) != 0)
		goto fail;
	if (wc_Sha256Final(&h, c->files_digest) != 0) {
		snprintf(err, errlen, "SHA-256 failed");
		goto fail;
	}
	for (unsigned int i = 0; i < s->revoked.n; i++)
		if (pc_trust_revoke_serial(c->trust, s->revoked.v[i], err, errlen) != 0)
			goto fail;
	if (pc_trust_finalize(c->trust, err, errlen) != 0)
		goto fail;
	wc_Sha256Free(&h);
	c->loaded = time(NULL);
	return c;
fail:
	if (hashing)
		wc_Sha256Free(&h);
	if (c != NULL)
		free_caset(c);
	return NULL;
}

/* Every certificate of a PEM chain, as DER back to back. */
static int chain_to_der(struct pc_tls_cert *c, const char *pem, size_t len, char *err,
			size_t errlen)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	static const char end[] = "-----END CERTIFICATE-----";
	const char *p = pem;
	uint8_t *der;

	der = malloc(len); /* DER is shorter than its base64 */
	if (der == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->chain = der;
	while ((p = strstr(p, begin)) != NULL) {
		const char *e = strstr(p, end);
		int n;

		if (e == NULL)
			break;
		e += sizeof(end) - 1;
		n = wc_CertPemToDer((const unsigned char *)p, (int)(e - p), der + c->chain_len,
				    (int)(len - c->chain_len), CERT_TYPE);
		if (n <= 0) {
			snprintf(err, errlen, "certificate %u does not parse",
				 c->chain_len == 0 ? 1u : 2u);
			return -1;
		}
		if (c->chain_len == 0)
			c->leaf_len = (size_t)n;
		c->chain_len += (size_t)n;
		p = e;
	}
	if (c->chain_len == 0) {
		snprintf(err, errlen, "no PEM certificate");
		return -1;
	}
	return 0;
}

/* The chain and the key must load into a context together: wolfSSL checks
 * that the leaf and the key match. A served certificate keeps them as
 * loaded (c->held); a backend's client certificate is loaded by each of
 * its connections (tls_client.c: the loan sets a server's flags). */
static int load_pair(struct pc_tls_cert *c, bool server, char *err, size_t errlen)
{
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfSSLv23_server_method());
	int rc = -1;

	if (ctx == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (wolfSSL_CTX_use_certificate_chain_buffer_format(ctx, c->chain, (long)c->chain_len,
							    WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS)
		snprintf(err, errlen, "the certificate chain does not load");
	else if (wolfSSL_CTX_use_PrivateKey_buffer(ctx, c->key, (long)c->key_len,
						   WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS)
		snprintf(err, errlen, "the private key does not load");
	else if (wolfSSL_CTX_check_private_key(ctx) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "the key does not match the certificate");
		rc = -2;
	} else if (server && (c->held = wolfSSL_CERT_LOAN_new(ctx)) == NULL)
		snprintf(err, errlen, "out of memory");
	else
		rc = 0;
	wolfSSL_CTX_free(ctx);
	return rc;
}

/* A cert's files digest from the chain and key as read. */
static int files_digest(uint8_t out[PC_TRUST_DIGEST_LEN], const char *pem, size_t len,
			const char *kpem, size_t klen)
{
	wc_Sha256 h;
	int rc;

	if (wc_InitSha256(&h) != 0)
		return -1;
	rc = digest_add(&h, pem, len) != 0 || digest_add(&h, kpem, klen) != 0 ||
	     wc_Sha256Final(&h, out) != 0;
	wc_Sha256Free(&h);
	return rc ? -1 : 0;
}

struct pc_tls_cert *tls_store_build_cert(const struct pc_tls_cert_spec *s, char *err,
					 size_t errlen)
{
	bool mismatch;

	return tls_store_build_cert_pair(s, &mismatch, err, errlen);
}

/* A cert from its files. server: served to clients, so it needs a cipher
 * suite of the list for its key (a backend's client certificate does
 * not: the backend's server picks). */
static struct pc_tls_cert *build_cert(const struct pc_tls_cert_spec *s, bool server,
				      bool *mismatch, char *err, size_t errlen)
{
	struct pc_tls_cert *c = calloc(1, sizeof(*c));
	char *pem = NULL, *kpem = NULL, why[256];
	size_t len, klen;
	int n, rc;

	*mismatch = false;
	if (c == NULL || tls_spec_copy(PC_TLS_CERT, &c->spec, s) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	pem = read_file(s->chain, TLS_CERT_FILE_MAX, &len, err, errlen);
	if (pem == NULL)
		goto fail;
	if (chain_to_der(c, pem, len, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s: %s", s->chain, why);
		goto fail;
	}
	kpem = read_file(s->key, TLS_CERT_FILE_MAX, &klen, err, errlen);
	if (kpem == NULL)
		goto fail;
	c->key = malloc(klen + 1);
	if (c->key == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	n = wc_KeyPemToDer((const unsigned char *)kpem, (int)klen, c->key, (int)klen, NULL);
	if (n <= 0) {
		snprintf(err, errlen, "%s: not a PEM private key", s->key);
		goto fail;
	}
	c->key_len = (size_t)n;
	if (files_digest(c->files_digest, pem, len, kpem, klen) != 0) {
		snprintf(err, errlen, "SHA-256 failed");
		goto fail;
	}
	if ((rc = load_pair(c, server, why, sizeof(why))) != 0) {
		*mismatch = rc == -2;
		snprintf(err, errlen, "%s and %s: %s", s->chain, s->key, why);
		goto fail;
	}
	if (pc_cert_summary(c->chain, c->chain_len, c->subject, sizeof(c->subject),
			    &c->not_after, &c->key_oid) != 0 ||
	    pc_cert_algs(c->chain, c->chain_len, c->sig_alg, sizeof(c->sig_alg), c->key_alg,
			 sizeof(c->key_alg)) != 0) {
		snprintf(err, errlen, "%s: the leaf certificate does not parse", s->chain);
		goto fail;
	}
	/* Before start (a config line checked alone) the list is not known yet:
	 * the commit checks again. */
	if (server && pc_tls_active != NULL)
		c->nb_suites = pc_tls_suites_for_key(c->key_oid, c->suites);
	if (server && pc_tls_active != NULL && c->nb_suites == 0) {
		snprintf(err, errlen, "%s: no cipher suite of the list fits its key", s->chain);
		goto fail;
	}
	c->loaded = time(NULL);
	free(pem);
	explicit_bzero(kpem, klen);
	free(kpem);
	return c;
fail:
	free(pem);
	if (kpem != NULL)
		explicit_bzero(kpem, klen);
	free(kpem);
	if (c != NULL)
		free_cert(c);
	return NULL;
}

struct pc_tls_cert *tls_store_build_cert_pair(const struct pc_tls_cert_spec *s, bool *mismatch,
					      char *err, size_t errlen)
{
	return build_cert(s, true, mismatch, err, errlen);
}

struct pc_tls_backend *tls_store_build_backend(const char *name,
					       const struct pc_tls_backend_spec *s, bool *mismatch,
					       char *err, size_t errlen)
{
	struct pc_tls_backend *b = calloc(1, sizeof(*b));
	const struct pc_tls_backend_spec *bs;
	char why[PC_TLS_PATH_MAX + 256];

	*mismatch = false;
	if (b == NULL || (b->name = strdup(name)) == NULL ||
	    tls_spec_copy(PC_TLS_BACKEND, &b->pub.spec, s) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	bs = &b->pub.spec;
	b->pub.name = b->name;
	if (bs->nb_servers == 0) {
		snprintf(err, errlen, "no server (backend %s server ADDR:PORT)", name);
		goto fail;
	}
	for (unsigned int i = 0; i < PC_BACKEND_NB_HEADERS; i++) {
		const char *h = bs->headers[i];

		if (h != NULL && h[0] != '\0' && !pc_backend_header_name_ok(h)) {
			snprintf(err, errlen, "header %s: '%s' cannot be set", pc_backend_header_word[i],
				 h);
			goto fail;
		}
		b->pub.header[i] = h == NULL ? pc_backend_header_default[i] : h[0] != '\0' ? h : NULL;
		/* Two settings under one name: which value goes is anyone's guess. */
		for (unsigned int j = 0; j < i && b->pub.header[i] != NULL; j++)
			if (b->pub.header[j] != NULL &&
			    strcasecmp(b->pub.header[j], b->pub.header[i]) == 0) {
				snprintf(err, errlen, "headers %s and %s are both named %s",
					 pc_backend_header_word[j], pc_backend_header_word[i],
					 b->pub.header[i]);
				goto fail;
			}
	}
	/* The files' digest before they are parsed: a file rewritten in
	 * between is seen as changed by the next look, never missed. */
	if (tls_store_files_digest(PC_TLS_BACKEND, bs, b->files_digest, err, errlen) != 0)
		goto fail;
	if (bs->tls && bs->tls_ca != NULL) {
		struct pc_tls_caset_spec ca = {.files = {1, (char **)&bs->tls_ca}};

		b->origin = tls_store_build_caset(&ca, why, sizeof(why));
		if (b->origin == NULL) {
			snprintf(err, errlen, "tls ca %s", why);
			goto fail;
		}
		b->pub.origin_trust = b->origin->trust;
	}
	if (bs->tls && bs->tls_cert != NULL) {
		struct pc_tls_cert_spec cs = {bs->tls_cert, bs->tls_key};

		b->client = build_cert(&cs, false, mismatch, why, sizeof(why));
		if (b->client == NULL) {
			snprintf(err, errlen, "tls cert %s", why);
			goto fail;
		}
		b->pub.client_chain = b->client->chain;
		b->pub.client_chain_len = b->client->chain_len;
		b->pub.client_key = b->client->key;
		b->pub.client_key_len = b->client->key_len;
		b->pub.client_key_oid = b->client->key_oid;
	}
	if (bs->tls)
		b->pub.verify_name = bs->tls_verify_name != NULL ? bs->tls_verify_name : bs->tls_sni;
	b->loaded = time(NULL);
	return b;
fail:
	if (b != NULL)
		free_backend(b);
	return NULL;
}

int pc_tls_check_client_cert(const char *cert_file, const char *key_file, char *err,
			     size_t errlen)
{
	struct pc_tls_cert_spec s = {(char *)cert_file, (char *)key_file};
	bool mismatch;
	struct pc_tls_cert *c = build_cert(&s, false, &mismatch, err, errlen);

	if (c == NULL)
		return -1;
	free_cert(c);
	return 0;
}

int pc_tls_check_cert(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
	struct pc_tls_cert_spec s = {(char *)cert_file, (char *)key_file};
	struct pc_tls_cert *c = tls_store_build_cert(&s, err, errlen);

	if (c == NULL)
		return -1;
	free_cert(c);
	return 0;
}
