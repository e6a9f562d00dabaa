/* SPDX-License-Identifier: MIT */
/*
 * The verified-chain cache: per worker, the verdict and names of client
 * chains that verified, so that a returning client's full handshake skips
 * the chain's signature checks (its CertificateVerify still proves the
 * key: wolfSSL checks that whatever we say of the chain).
 *
 * An entry is keyed by SHA-256 over the host's digest (its verification
 * policy), its ca-set's digest (the content: CAs, CRLs, denied serials)
 * and every certificate the client sent, in order: any change to the
 * trust or the policy is a new key, so an entry made under the old one is
 * never found again (a revoked client cached as good is refused at once)
 * and leaves by the LRU. An entry also ends when the verdict could change
 * with time (pc_verify_result's valid_until: a certificate's notAfter, a
 * CRL's nextUpdate). Only successes are cached: a failure costs the client
 * its connection, and caching it would let a client fill the cache.
 *
 * Bounded: a fixed array of entries made at start (`tls verify-cache N`),
 * a hash table of indices, an LRU list; a stream of distinct chains
 * recycles the least recently used entry.
 *
 * A chain that keeps coming back also gets a table of its leaf's P-256
 * key (patches/wolfssl/0015 and 0022), made on its entry's
 * TLS_VCACHE_TABLE_AFTER-th hit (~230 us, what 8 verifications with it
 * save) and lent to the handshakes that bring the chain back: their
 * CertificateVerify checks in 22 us instead of 53. At most
 * TLS_VCACHE_TABLES_MAX tables (4 KiB each) per worker. A table is counted
 * by reference, the entry's and each borrowing handshake's (all on the
 * entry's worker), and freed by the last: a handshake may outlive the
 * entry, which a stream of new chains can recycle meanwhile.
 */
#include <stdalign.h>
#include <string.h>

#include <rte_malloc.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "pc_verify.h"
#include "tls.h"

#define NIL UINT32_MAX
#define TLS_VCACHE_TABLE_AFTER 8
#define TLS_VCACHE_TABLES_MAX 1024

struct tls_vcache_table {
	uint32_t refs;
	uint32_t *live;          /* its cache's count of tables */
	alignas(64) uint8_t data[PC_VERIFY_KEY_TABLE_SZ];
};

struct vc_entry {
	uint8_t key[WC_SHA256_DIGEST_SIZE];
	uint32_t hnext;          /* next in its bucket */
	uint32_t prev, next;     /* LRU list, most recent first */
	bool used;
	bool no_table;           /* its leaf's key can have none (not P-256) */
	uint32_t hits;
	struct tls_vcache_table *table; /* of the leaf's key, or NULL */
	struct pc_verify_result res;
};

struct tls_vcache {
	uint32_t n, mask;        /* entries; buckets - 1 */
	uint32_t head, tail;     /* LRU list */
	uint32_t used;           /* entries holding a verdict */
	uint32_t tables;         /* leaf key tables alive (entries' and lent) */
	int socket;
	uint32_t *bucket;
	struct vc_entry *e;
};

static void hash_unlink(struct tls_vcache *c, uint32_t i);

const uint8_t *tls_vcache_table_data(const struct tls_vcache_table *t)
{
	return t->data;
}

void tls_vcache_table_put(struct tls_vcache_table *t)
{
	if (t == NULL || --t->refs != 0)
		return;
	__atomic_store_n(t->live, *t->live - 1, __ATOMIC_RELAXED);
	rte_free(t);
}

/* Entry i leaves the cache (outlived or recycled): its verdict and its
 * hold on the table. */
static void entry_clear(struct tls_vcache *c, uint32_t i)
{
	hash_unlink(c, i);
	c->e[i].used = false;
	c->e[i].no_table = false;
	c->e[i].hits = 0;
	tls_vcache_table_put(c->e[i].table);
	c->e[i].table = NULL;
}

/* The table of entry e's leaf (der), made on its TLS_VCACHE_TABLE_AFTER-th
 * hit; NULL: not yet, not a P-256 key (never then), over the budget, no
 * memory (tried again TLS_VCACHE_TABLE_AFTER hits later). */
static struct tls_vcache_table *entry_table(struct tls_vcache *c, struct vc_entry *e,
					     const uint8_t *der, uint32_t len)
{
	struct tls_vcache_table *t;

	if (e->table != NULL || e->no_table || ++e->hits % TLS_VCACHE_TABLE_AFTER != 0 ||
	    c->tables >= TLS_VCACHE_TABLES_MAX)
		return e->table;
	t = rte_malloc_socket("tls_vcache_table", sizeof(*t), 64, c->socket);
	if (t == NULL)
		return NULL;
	if (pc_verify_key_table(der, len, t->data) != 0) {
		e->no_table = true;
		rte_free(t);
		return NULL;
	}
	t->refs = 1;
	t->live = &c->tables;
	__atomic_store_n(&c->tables, c->tables + 1, __ATOMIC_RELAXED);
	e->table = t;
	return t;
}

static uint32_t bucket_of(const struct tls_vcache *c, const uint8_t *key)
{
	uint32_t h;

	memcpy(&h, key, sizeof(h));
	return h & c->mask;
}

static void lru_unlink(struct tls_vcache *c, uint32_t i)
{
	struct vc_entry *x = &c->e[i];

	if (x->prev != NIL)
		c->e[x->prev].next = x->next;
	else
		c->head = x->next;
	if (x->next != NIL)
		c->e[x->next].prev = x->prev;
	else
		c->tail = x->prev;
}

static void lru_push_front(struct tls_vcache *c, uint32_t i)
{
	c->e[i].prev = NIL;
	c->e[i].next = c->head;
	if (c->head != NIL)
		c->e[c->head].prev = i;
	c->head = i;
	if (c->tail == NIL)
		c->tail = i;
}

static void lru_push_back(struct tls_vcache *c, uint32_t i)
{
	c->e[i].next = NIL;
	c->e[i].prev = c->tail;
	if (c->tail != NIL)
		c->e[c->tail].next = i;
	c->tail = i;
	if (c->head == NIL)
		c->head = i;
}

static void hash_unlink(struct tls_vcache *c, uint32_t i)
{
	uint32_t *p = &c->bucket[bucket_of(c, c->e[i].key)];

	while (*p != i)
		p = &c->e[*p].hnext;
	*p = c->e[i].hnext;
}

static uint32_t find(const struct tls_vcache *c, const uint8_t *key)
{
	for (uint32_t i = c->bucket[bucket_of(c, key)]; i != NIL; i = c->e[i].hnext)
		if (memcmp(c->e[i].key, key, sizeof(c->e[i].key)) == 0)
			return i;
	return NIL;
}

struct tls_vcache *tls_vcache_new(uint32_t entries, int socket)
{
	struct tls_vcache *c;
	uint32_t buckets = 1;

	if (entries == 0)
		return NULL;
	while (buckets < entries)
		buckets <<= 1;
	c = rte_zmalloc_socket("tls_vcache", sizeof(*c), RTE_CACHE_LINE_SIZE, socket);
	if (c == NULL)
		return NULL;
	c->bucket = rte_malloc_socket("tls_vcache", buckets * sizeof(*c->bucket),
				      RTE_CACHE_LINE_SIZE, socket);
	c->e = rte_zmalloc_socket("tls_vcache", entries * sizeof(*c->e), RTE_CACHE_LINE_SIZE,
				  socket);
	if (c->bucket == NULL || c->e == NULL) {
		tls_vcache_free(c);
		return NULL;
	}
	c->n = entries;
	c->mask = buckets - 1;
	c->socket = socket;
	memset(c->bucket, 0xff, buckets * sizeof(*c->bucket));
	/* Every entry on the LRU list from the start, unused ones last to be
	 * found and first to be taken. */
	c->head = c->tail = NIL;
	for (uint32_t i = 0; i < entries; i++)
		lru_push_front(c, i);
	return c;
}

void tls_vcache_free(struct tls_vcache *c)
{
	if (c == NULL)
		return;
	/* Workers are stopped. A table a handshake still holds stays: that
	 * connection is dropped whole (pc_tls_conn_fini), never released. */
	for (uint32_t i = 0; c->e != NULL && i < c->n; i++)
		tls_vcache_table_put(c->e[i].table);
	rte_free(c->bucket);
	rte_free(c->e);
	rte_free(c);
}

int tls_vcache_key(const uint8_t host[PC_TRUST_DIGEST_LEN], const uint8_t trust[PC_TRUST_DIGEST_LEN],
		   const uint8_t *const *der, const uint32_t *len, unsigned int n,
		   uint8_t key[TLS_VCACHE_KEY_LEN])
{
	wc_Sha256 h;
	int rc = wc_InitSha256(&h) || wc_Sha256Update(&h, host, PC_TRUST_DIGEST_LEN) ||
		 wc_Sha256Update(&h, trust, PC_TRUST_DIGEST_LEN);

	for (unsigned int i = 0; rc == 0 && i < n; i++) {
		uint8_t l[4] = {(uint8_t)(len[i] >> 24), (uint8_t)(len[i] >> 16),
				(uint8_t)(len[i] >> 8), (uint8_t)len[i]};

		rc = wc_Sha256Update(&h, l, sizeof(l)) || wc_Sha256Update(&h, der[i], len[i]);
	}
	rc = rc || wc_Sha256Final(&h, key);
	wc_Sha256Free(&h);
	return rc ? -1 : 0;
}

bool tls_vcache_get(struct tls_vcache *c, const uint8_t key[TLS_VCACHE_KEY_LEN], int64_t now,
		    const uint8_t *leaf, uint32_t leaf_len, struct pc_verify_result *out,
		    struct tls_vcache_table **table)
{
	struct tls_vcache_table *t;
	uint32_t i;

	*table = NULL;
	if (c == NULL || (i = find(c, key)) == NIL)
		return false;
	lru_unlink(c, i);
	if (now > c->e[i].res.valid_until) {
		/* Outlived: unused, the next to be taken. */
		entry_clear(c, i);
		__atomic_store_n(&c->used, c->used - 1, __ATOMIC_RELAXED);
		lru_push_back(c, i);
		return false;
	}
	lru_push_front(c, i);
	*out = c->e[i].res;
	t = entry_table(c, &c->e[i], leaf, leaf_len);
	if (t != NULL) {
		t->refs++;
		*table = t;
	}
	return true;
}

void tls_vcache_put(struct tls_vcache *c, const uint8_t key[TLS_VCACHE_KEY_LEN],
		    const struct pc_verify_result *res)
{
	uint32_t i, b;

	if (c == NULL || find(c, key) != NIL)
		return;
	i = c->tail;
	lru_unlink(c, i);
	if (c->e[i].used)
		entry_clear(c, i);
	else
		__atomic_store_n(&c->used, c->used + 1, __ATOMIC_RELAXED);
	memcpy(c->e[i].key, key, sizeof(c->e[i].key));
	c->e[i].res = *res;
	c->e[i].used = true;
	b = bucket_of(c, key);
	c->e[i].hnext = c->bucket[b];
	c->bucket[b] = i;
	lru_push_front(c, i);
}

uint32_t tls_vcache_used(const struct tls_vcache *c)
{
	return c != NULL ? __atomic_load_n(&c->used, __ATOMIC_RELAXED) : 0;
}

uint32_t tls_vcache_tables(const struct tls_vcache *c)
{
	return c != NULL ? __atomic_load_n(&c->tables, __ATOMIC_RELAXED) : 0;
}
