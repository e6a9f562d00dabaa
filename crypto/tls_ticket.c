/* SPDX-License-Identifier: MIT */
/*
 * Session tickets (stateless resumption, TLS 1.2 and 1.3), on every host,
 * those that verify clients included.
 *
 * A ticket is wolfSSL's session state followed by our claims (struct
 * tls_ticket_claims: the digests of the host's policy and of its ca-set's
 * content when it was issued, the time, and the verified client's
 * subject, serial and identity), sealed together with ChaCha20-Poly1305.
 * The host's name is part of the authenticated data: a ticket resumes
 * only on the host that issued it. A ticket is refused (a full handshake,
 * never an error) when its key is not held, when it does not open, when
 * the host's policy or ca-set changed since (a new CRL or denied serial
 * included: revocation bites at once), when it is older than
 * `tls ticket-lifetime`, or when the client's verified path has expired
 * meanwhile. The digests are of content, not of this process's
 * generations: a fleet with the same keys and the same trust resumes
 * anywhere.
 *
 * Keys (struct pc_tls_ticket_keys, RCU-published, read by workers within
 * a loop pass): the named keys of `tls ticket-keys FILE`, newest first,
 * or, without a file, random keys rotated every ticket lifetime (the
 * previous one still opens tickets). New tickets are sealed under the
 * first key; any key of the set opens them.
 *
 * Nonces: lcore id and a per-lcore counter, unique per key without a
 * random-number call on the handshake path.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <urcu-qsbr.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "tls_store.h"
#include "verify_int.h"

#define TICKET_AAD_LEN (WOLFSSL_TICKET_NAME_SZ + WOLFSSL_TICKET_IV_SZ + 2 + PC_TLS_NAME_MAX)
#define CLAIMS_VERSION 1

#ifndef WOLFSSL_TICKET_EXTRA_PADDING_SZ
#error "wolfSSL must be built with WOLFSSL_TICKET_EXTRA_PADDING_SZ (scripts/common.sh)"
#endif
_Static_assert(WOLFSSL_TICKET_EXTRA_PADDING_SZ >= TLS_TICKET_CLAIMS_MAX + 2,
	       "no room for the claims in wolfSSL's tickets");
/* A ticket may come from a node whose clock is a little ahead. */
#define TICKET_SKEW_S 300

uint32_t pc_tls_ticket_lifetime_s = PC_TLS_TICKET_LIFETIME_DEFAULT;

static struct pc_tls_ticket_keys *keys_active; /* rcu */
static char keys_file[PC_TLS_PATH_MAX];         /* "" = random keys (main lcore) */

/* --- claims: our part of the ticket ------------------------------------ */

static void put64(uint8_t *p, int64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
}

static int64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

static size_t put_str(uint8_t *p, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	p[0] = (uint8_t)n;
	memcpy(p + 1, s, n);
	return n + 1;
}

/* A length-prefixed string into out (size > 255): -1 when it does not fit
 * what is left or holds a NUL. */
static int get_str(const uint8_t **p, const uint8_t *end, char *out, size_t size)
{
	size_t n;

	if (*p >= end || (n = **p) + 1 > (size_t)(end - *p) || n >= size ||
	    memchr(*p + 1, '\0', n) != NULL)
		return -1;
	memcpy(out, *p + 1, n);
	out[n] = '\0';
	*p += n + 1;
	return 0;
}

size_t tls_ticket_claims_write(const struct tls_ticket_claims *c, uint8_t *buf)
{
	uint8_t *p = buf;

	*p++ = CLAIMS_VERSION;
	*p++ = (uint8_t)(c->resumable | c->verified << 1);
	memcpy(p, c->host_digest, PC_TRUST_DIGEST_LEN);
	p += PC_TRUST_DIGEST_LEN;
	memcpy(p, c->trust_digest, PC_TRUST_DIGEST_LEN);
	p += PC_TRUST_DIGEST_LEN;
	put64(p, c->issued);
	put64(p + 8, c->valid_until);
	p += 16;
	p += put_str(p, c->subject, sizeof(c->subject) - 1);
	p += put_str(p, c->serial, sizeof(c->serial) - 1);
	p += put_str(p, c->identity, sizeof(c->identity) - 1);
	return (size_t)(p - buf);
}

int tls_ticket_claims_read(const uint8_t *buf, size_t len, struct tls_ticket_claims *c)
{
	const uint8_t *p = buf, *end = buf + len;

	memset(c, 0, sizeof(*c));
	if (len < 2 + 2 * PC_TRUST_DIGEST_LEN + 16 || p[0] != CLAIMS_VERSION || p[1] > 3)
		return -1;
	c->resumable = p[1] & 1;
	c->verified = p[1] >> 1;
	p += 2;
	memcpy(c->host_digest, p, PC_TRUST_DIGEST_LEN);
	p += PC_TRUST_DIGEST_LEN;
	memcpy(c->trust_digest, p, PC_TRUST_DIGEST_LEN);
	p += PC_TRUST_DIGEST_LEN;
	c->issued = get64(p);
	c->valid_until = get64(p + 8);
	p += 16;
	if (get_str(&p, end, c->subject, sizeof(c->subject)) != 0 ||
	    get_str(&p, end, c->serial, sizeof(c->serial)) != 0 ||
	    get_str(&p, end, c->identity, sizeof(c->identity)) != 0 || p != end)
		return -1;
	return 0;
}

enum tls_ticket_verdict tls_ticket_judge(const struct tls_ticket_claims *t,
					 const struct tls_ticket_claims *now_, int64_t now,
					 uint32_t lifetime_s)
{
	if (!t->resumable)
		return TLS_TICKET_STALE;
	if (memcmp(t->host_digest, now_->host_digest, PC_TRUST_DIGEST_LEN) != 0 ||
	    memcmp(t->trust_digest, now_->trust_digest, PC_TRUST_DIGEST_LEN) != 0)
		return TLS_TICKET_STALE;
	if (t->issued > now + TICKET_SKEW_S || now - t->issued > (int64_t)lifetime_s ||
	    (t->verified && now > t->valid_until))
		return TLS_TICKET_EXPIRED;
	return TLS_TICKET_OK;
}

/* --- sealing and opening -------------------------------------------------- */

static const struct tls_ticket_key *find_key(const struct pc_tls_ticket_keys *ks,
					     const uint8_t id[WOLFSSL_TICKET_NAME_SZ])
{
	for (unsigned int i = 0; ks != NULL && i < ks->n; i++)
		if (memcmp(ks->k[i].id, id, WOLFSSL_TICKET_NAME_SZ) == 0)
			return &ks->k[i];
	return NULL;
}

static size_t make_aad(uint8_t *aad, const uint8_t *name, const uint8_t *iv, int len,
		       const char *host)
{
	size_t n = WOLFSSL_TICKET_NAME_SZ + WOLFSSL_TICKET_IV_SZ, host_len = strlen(host);

	memcpy(aad, name, WOLFSSL_TICKET_NAME_SZ);
	memcpy(aad + WOLFSSL_TICKET_NAME_SZ, iv, WOLFSSL_TICKET_IV_SZ);
	aad[n++] = (uint8_t)(len >> 8);
	aad[n++] = (uint8_t)len;
	memcpy(aad + n, host, host_len);
	return n + host_len;
}

int tls_ticket_open(const struct pc_tls_ticket_keys *ks, const char *host,
		    const uint8_t name[WOLFSSL_TICKET_NAME_SZ], const uint8_t iv[WOLFSSL_TICKET_IV_SZ],
		    const uint8_t mac[WOLFSSL_TICKET_MAC_SZ], uint8_t *ticket, int len,
		    struct tls_ticket_claims *claims)
{
	const struct tls_ticket_key *k = find_key(ks, name);
	uint8_t aad[TICKET_AAD_LEN];
	size_t aad_len, claims_len;

	if (k == NULL)
		return TLS_TICKET_UNKNOWN_KEY;
	if (len < 2)
		return TLS_TICKET_INVALID;
	aad_len = make_aad(aad, name, iv, len, host);
	if (wc_ChaCha20Poly1305_Decrypt(k->key, iv, aad, (word32)aad_len, ticket, (word32)len, mac,
					ticket) != 0)
		return TLS_TICKET_INVALID;
	/* wolfSSL's state, our claims, their length (2 bytes). */
	claims_len = (size_t)ticket[len - 2] << 8 | ticket[len - 1];
	if (claims_len + 2 > (size_t)len ||
	    tls_ticket_claims_read(ticket + len - 2 - claims_len, claims_len, claims) != 0)
		return TLS_TICKET_INVALID;
	return (int)((size_t)len - 2 - claims_len);
}

int tls_ticket_seal(const struct tls_ticket_key *k, const char *host,
		    const uint8_t iv[WOLFSSL_TICKET_IV_SZ], uint8_t mac[WOLFSSL_TICKET_MAC_SZ],
		    uint8_t *ticket, int len, const struct tls_ticket_claims *claims)
{
	uint8_t aad[TICKET_AAD_LEN];
	size_t claims_len = tls_ticket_claims_write(claims, ticket + len), aad_len;

	ticket[len + claims_len] = (uint8_t)(claims_len >> 8);
	ticket[len + claims_len + 1] = (uint8_t)claims_len;
	len += (int)claims_len + 2;
	aad_len = make_aad(aad, k->id, iv, len, host);
	if (wc_ChaCha20Poly1305_Encrypt(k->key, iv, aad, (word32)aad_len, ticket, (word32)len,
					ticket, mac) != 0)
		return TLS_TICKET_INVALID;
	memset(mac + CHACHA20_POLY1305_AEAD_AUTHTAG_SIZE, 0,
	       WOLFSSL_TICKET_MAC_SZ - CHACHA20_POLY1305_AEAD_AUTHTAG_SIZE);
	return len;
}

static int ticket_cb(WOLFSSL *ssl, unsigned char name[WOLFSSL_TICKET_NAME_SZ],
		     unsigned char iv[WOLFSSL_TICKET_IV_SZ], unsigned char mac[WOLFSSL_TICKET_MAC_SZ],
		     int enc, unsigned char *ticket, int len, int *out_len, void *arg)
{
	const struct pc_tls_ticket_keys *ks = rcu_dereference(keys_active);
	struct pc_tls_counters *cnt = &pc_tls_self()->cnt;
	const char *host = pc_tls_conn_host(ssl)->name;
	struct tls_ticket_claims mine, theirs;
	unsigned int lcore = rte_lcore_id() % RTE_MAX_LCORE;
	int64_t now = time(NULL);
	uint64_t nonce;
	int rc;

	(void)arg;
	pc_tls_conn_claims(ssl, &mine, now);
	if (!enc) {
		bool first = pc_tls_conn_first_look(ssl, iv);

		rc = tls_ticket_open(ks, host, name, iv, mac, ticket, len, &theirs);
		if (rc >= 0)
			rc = tls_ticket_judge(&theirs, &mine, now,
					      __atomic_load_n(&pc_tls_ticket_lifetime_s,
							      __ATOMIC_RELAXED)) ?: rc;
		switch (first ? rc : 0) {
		case TLS_TICKET_UNKNOWN_KEY:
			cnt->ticket_unknown_key++;
			break;
		case TLS_TICKET_INVALID:
			cnt->ticket_invalid++;
			break;
		case TLS_TICKET_STALE:
			cnt->ticket_stale++;
			break;
		case TLS_TICKET_EXPIRED:
			cnt->ticket_expired++;
			break;
		default:
			break;
		}
		if (rc < 0)
			return WOLFSSL_TICKET_RET_REJECT;
		pc_tls_conn_offer(ssl, &theirs);
		*out_len = rc;
		return WOLFSSL_TICKET_RET_OK;
	}
	if (ks == NULL || len <= 0)
		return WOLFSSL_TICKET_RET_REJECT;
	memcpy(name, ks->k[0].id, WOLFSSL_TICKET_NAME_SZ);
	memset(iv, 0, WOLFSSL_TICKET_IV_SZ);
	nonce = ++pc_tls_self()->ticket_nonce;
	memcpy(iv, &lcore, sizeof(lcore));
	memcpy(iv + sizeof(lcore), &nonce, sizeof(nonce));
	rc = tls_ticket_seal(&ks->k[0], host, iv, mac, ticket, len, &mine);
	if (rc < 0)
		return WOLFSSL_TICKET_RET_REJECT;
	*out_len = rc;
	cnt->tickets_issued++;
	return WOLFSSL_TICKET_RET_OK;
}

int pc_tls_ticket_setup(WOLFSSL_CTX *ctx)
{
	if (wolfSSL_CTX_set_TicketEncCb(ctx, ticket_cb) != WOLFSSL_SUCCESS)
		return -1;
	return 0;
}

/* --- keys ------------------------------------------------------------------ */

/* A key's id on the wire: from its secret, so that two keys given the
 * same name by mistake are still told apart. */
static int key_id(struct tls_ticket_key *k)
{
	uint8_t h[WC_SHA256_DIGEST_SIZE];

	if (wc_Sha256Hash(k->key, sizeof(k->key), h) != 0)
		return -1;
	memcpy(k->id, h, sizeof(k->id));
	return 0;
}

static int hex_nibble(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

int tls_ticket_keys_parse(const char *text, size_t len, struct pc_tls_ticket_keys *ks, char *err,
			  size_t errlen)
{
	const char *p = text, *end = text + len;
	unsigned int line = 0;

	memset(ks, 0, sizeof(*ks));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl != NULL ? nl : end;
		char name[PC_TLS_TICKET_KEY_NAME_MAX + 2], key[66];
		struct tls_ticket_key *k;
		char buf[256];
		size_t n = (size_t)(eol - p);
		int used = 0;

		line++;
		if (n >= sizeof(buf)) {
			snprintf(err, errlen, "line %u: too long", line);
			return -1;
		}
		memcpy(buf, p, n);
		buf[n] = '\0';
		p = eol + (nl != NULL);
		if (memchr(buf, '\0', n) != NULL) {
			snprintf(err, errlen, "line %u: a NUL byte", line);
			return -1;
		}
		if (buf[strspn(buf, " \t\r")] == '\0' || buf[strspn(buf, " \t")] == '#')
			continue;
		if (sscanf(buf, " %65s %65s %n", name, key, &used) != 2 || buf[used] != '\0') {
			snprintf(err, errlen, "line %u: expected NAME and 64 hex digits", line);
			return -1;
		}
		if (strlen(name) > PC_TLS_TICKET_KEY_NAME_MAX ||
		    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
			    strlen(name)) {
			snprintf(err, errlen, "line %u: a key name is 1 to %d of [A-Za-z0-9._-]", line,
				 PC_TLS_TICKET_KEY_NAME_MAX);
			return -1;
		}
		if (strlen(key) != 64 || strspn(key, "0123456789abcdefABCDEF") != 64) {
			snprintf(err, errlen, "line %u: key %s is not 64 hex digits (32 bytes)", line,
				 name);
			return -1;
		}
		if (ks->n == PC_TLS_MAX_TICKET_KEYS) {
			snprintf(err, errlen, "line %u: more than %d keys", line,
				 PC_TLS_MAX_TICKET_KEYS);
			return -1;
		}
		k = &ks->k[ks->n];
		memcpy(k->name, name, strlen(name) + 1); /* checked above: it fits */
		for (int i = 0; i < 32; i++)
			k->key[i] = (uint8_t)(hex_nibble(key[2 * i]) << 4 | hex_nibble(key[2 * i + 1]));
		if (key_id(k) != 0) {
			snprintf(err, errlen, "SHA-256 failed");
			return -1;
		}
		for (unsigned int i = 0; i < ks->n; i++)
			if (memcmp(ks->k[i].id, k->id, sizeof(k->id)) == 0 ||
			    strcmp(ks->k[i].name, k->name) == 0) {
				snprintf(err, errlen, "line %u: key %s repeats key %s", line, k->name,
					 ks->k[i].name);
				return -1;
			}
		ks->n++;
	}
	if (ks->n == 0) {
		snprintf(err, errlen, "no key");
		return -1;
	}
	return 0;
}

/* Publish a new key set; the old one is freed once no worker can hold it.
 * Main lcore. */
static void publish(struct pc_tls_ticket_keys *ks)
{
	struct pc_tls_ticket_keys *old = rcu_xchg_pointer(&keys_active, ks);

	if (old != NULL) {
		synchronize_rcu();
		free(old);
	}
}

/* A random key in front of the current random ones (the newest of those
 * kept to open the tickets it sealed). */
static int rotate_random(void)
{
	struct pc_tls_ticket_keys *ks = calloc(1, sizeof(*ks));
	const struct pc_tls_ticket_keys *cur = keys_active;
	struct tls_ticket_key *k;

	if (ks == NULL)
		return -ENOMEM;
	k = &ks->k[0];
	if (getrandom(k->key, sizeof(k->key), 0) != sizeof(k->key) || key_id(k) != 0) {
		free(ks);
		return -EIO;
	}
	snprintf(k->name, sizeof(k->name), "random-%" PRIu64, cur == NULL ? 1 : cur->serial + 1);
	ks->n = 1;
	if (cur != NULL && cur->file[0] == '\0')
		ks->k[ks->n++] = cur->k[0];
	ks->serial = cur == NULL ? 1 : cur->serial + 1;
	ks->loaded = time(NULL);
	publish(ks);
	return 0;
}

/* The keys of a file, read and parsed: a new set, or NULL with err set. */
static struct pc_tls_ticket_keys *read_keys(const char *file, char *err, size_t errlen)
{
	struct pc_tls_ticket_keys *ks;
	char *buf, msg[160];
	size_t len;

	if (strlen(file) >= sizeof(ks->file)) {
		snprintf(err, errlen, "path too long");
		return NULL;
	}
	ks = calloc(1, sizeof(*ks));
	if (ks == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (pc_read_file(file, &buf, &len, err, errlen) != 0) {
		free(ks);
		return NULL;
	}
	if (wc_Sha256Hash((const byte *)buf, (word32)len, ks->digest) != 0) {
		snprintf(err, errlen, "%s: SHA-256 failed", file);
		free(ks);
		ks = NULL;
	} else if (tls_ticket_keys_parse(buf, len, ks, msg, sizeof(msg)) != 0) {
		snprintf(err, errlen, "%s: %s", file, msg);
		free(ks);
		ks = NULL;
	}
	free(buf);
	return ks;
}

int pc_tls_check_ticket_keys(const char *file, char *err, size_t errlen)
{
	struct pc_tls_ticket_keys *ks = read_keys(file, err, errlen);

	free(ks);
	return ks != NULL ? 0 : -1;
}

int pc_tls_ticket_keys_load(const char *file, char *err, size_t errlen)
{
	struct pc_tls_ticket_keys *ks;

	if (file == NULL || file[0] == '\0') {
		keys_file[0] = '\0';
		if (rotate_random() != 0) {
			snprintf(err, errlen, "no random key: out of memory or getrandom failed");
			return -1;
		}
		return 0;
	}
	ks = read_keys(file, err, errlen);
	if (ks == NULL)
		return -1;
	snprintf(ks->file, sizeof(ks->file), "%s", file);
	ks->serial = keys_active != NULL ? keys_active->serial + 1 : 1;
	ks->loaded = time(NULL);
	snprintf(keys_file, sizeof(keys_file), "%s", file);
	publish(ks);
	return 0;
}

const char *pc_tls_ticket_keys_file(void)
{
	return keys_file;
}

void pc_tls_ticket_timer(void)
{
	const struct pc_tls_ticket_keys *cur = keys_active;

	if (cur != NULL && cur->file[0] == '\0' &&
	    time(NULL) - cur->loaded >= (int64_t)pc_tls_ticket_lifetime_s &&
	    rotate_random() != 0)
		fprintf(stderr, "portcullis: ticket key rotation failed; the key is kept\n");
}

const struct pc_tls_ticket_keys *tls_ticket_keys(void)
{
	return keys_active;
}

void pc_tls_ticket_fini(void)
{
	free(rcu_xchg_pointer(&keys_active, NULL));
	keys_file[0] = '\0';
}
