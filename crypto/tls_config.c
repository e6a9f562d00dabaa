/* SPDX-License-Identifier: MIT */
/*
 * The settings every host shares (versions, cipher suites, groups),
 * built once at start into struct pc_tls_config with one
 * WOLFSSL_CTX per worker lcore (a WOLFSSL_CTX is shared by its connections
 * through a reference count under a mutex: per-lcore contexts keep that
 * mutex uncontended). The contexts hold no certificate: a connection gets
 * its host's certificate, key and verification mode when its SNI has
 * picked the host (tls_conn.c). Process-wide TLS set-up and tear-down.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <urcu-qsbr.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "tls.h"

#include <wolfssl/wolfcrypt/asn.h> /* RSAk, ECDSAk */

/* AEAD suites only, ECDSA and RSA certificates, forward secrecy. */
#define TLS_DEFAULT_CIPHERS                                                          \
	"TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384:TLS13-CHACHA20-POLY1305-SHA256:" \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"                \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"                  \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_DEFAULT_GROUPS "X25519:P-256:P-384"
/* The signature algorithms a CertificateRequest lists, hence those a TLS
 * 1.2 CertificateVerify may use (patches/wolfssl/0005 refuses the others
 * with illegal_parameter): wolfSSL's own list without SHA-1 and SHA-224,
 * as OpenSSL at Debian's security level 2 (`tls sha1-signatures off`);
 * `on` adds SHA-1 back for old clients. wolfSSL's TLS 1.3
 * CertificateRequest lists its own (it rebuilds them, SHA-1 included), but
 * TLS 1.3 never takes a SHA-1 or PKCS#1 v1.5 CertificateVerify (RFC 8446
 * 4.4.3; patches/wolfssl/0002). */
#define TLS_SIGALGS_ECDSA "ECDSA+SHA512:ECDSA+SHA384:ECDSA+SHA256"
#define TLS_SIGALGS_RSA                                                       \
	"RSA-PSS+SHA512:RSA-PSS+SHA384:RSA-PSS+SHA256:RSA+SHA512:RSA+SHA384:" \
	"RSA+SHA256"
static const char tls_sigalgs[] = TLS_SIGALGS_ECDSA ":ED25519:" TLS_SIGALGS_RSA;
static const char tls_sigalgs_sha1[] =
	TLS_SIGALGS_ECDSA ":ECDSA+SHA1:ED25519:" TLS_SIGALGS_RSA ":RSA+SHA1";

struct pc_tls_config *pc_tls_active;
struct pc_tls_worker pc_tls_workers[RTE_MAX_LCORE];
uint32_t pc_tls_handshake_timeout_ms = 10000;
uint32_t pc_tls_idle_timeout_ms = PC_TLS_IDLE_TIMEOUT_DEFAULT;

void pc_tls_spec_defaults(struct pc_tls_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->min_version = 3;
	s->max_version = 3;
	snprintf(s->groups, sizeof(s->groups), "%s", TLS_DEFAULT_GROUPS);
	s->memory_mb = 128;
	s->handshake_timeout_ms = 10000;
	s->idle_timeout_ms = PC_TLS_IDLE_TIMEOUT_DEFAULT;
	s->ticket_lifetime_s = PC_TLS_TICKET_LIFETIME_DEFAULT;
	s->verify_cache = PC_TLS_VERIFY_CACHE_DEFAULT;
	s->cert_expiry_warning_s = PC_TLS_CERT_EXPIRY_WARNING_DEFAULT;
}

int pc_tls_check_trust_file(const char *file, bool crl, char *err, size_t errlen)
{
	struct pc_trust *t = pc_trust_new();
	int rc;

	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = crl ? pc_trust_add_crl_file(t, file, err, errlen)
		 : pc_trust_add_ca_file(t, file, err, errlen);
	pc_trust_free(t);
	return rc;
}

static int set_versions(WOLFSSL_CTX *ctx, const struct pc_tls_spec *s)
{
	if (wolfSSL_CTX_SetMinVersion(ctx, s->min_version == 2 ? WOLFSSL_TLSV1_2
							       : WOLFSSL_TLSV1_3) !=
	    WOLFSSL_SUCCESS)
		return -1;
	return wolfSSL_CTX_set_max_proto_version(ctx, s->max_version == 2 ? TLS1_2_VERSION
									  : TLS1_3_VERSION) ==
			       WOLFSSL_SUCCESS
		       ? 0
		       : -1;
}

/* "X25519:P-256:P-384", in order of preference, as IANA group ids (which
 * are wolfSSL's too). Returns how many, 0 for a bad list. */
static unsigned int parse_groups(const char *list, uint16_t ids[PC_TLS_HELLO_MAX_GROUPS])
{
	static const struct {
		const char *name;
		uint16_t id;
	} known[] = {
		{"X25519", WOLFSSL_ECC_X25519},
		{"P-256", WOLFSSL_ECC_SECP256R1},
		{"P-384", WOLFSSL_ECC_SECP384R1},
		{"P-521", WOLFSSL_ECC_SECP521R1},
	};
	unsigned int n = 0;

	for (const char *p = list; *p != '\0';) {
		size_t len = strcspn(p, ":");
		size_t k;

		for (k = 0; k < RTE_DIM(known); k++)
			if (strlen(known[k].name) == len && strncmp(p, known[k].name, len) == 0)
				break;
		if (k == RTE_DIM(known) || n == PC_TLS_HELLO_MAX_GROUPS)
			return 0;
		ids[n++] = known[k].id;
		p += len + (p[len] == ':');
	}
	return n;
}

/* The groups of TLS 1.3 key shares and, with the curves outside the list
 * disabled, of TLS 1.2 ECDHE too (wolfSSL_CTX_set_groups alone leaves
 * TLS 1.2 free to pick any curve the client offers). */
static int set_groups(WOLFSSL_CTX *ctx, const char *list)
{
	uint16_t ids[PC_TLS_HELLO_MAX_GROUPS];

	return parse_groups(list, ids) != 0 &&
			       wolfSSL_CTX_set1_curves_list(ctx, list) == WOLFSSL_SUCCESS
		       ? 0
		       : -1;
}

/* A worker's shared context: no certificate, no verification (both are
 * set per connection). */
static WOLFSSL_CTX *new_ctx(const struct pc_tls_spec *s, const struct pc_tls_config *cfg,
			    char *err, size_t errlen)
{
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfSSLv23_server_method());

	if (ctx == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (set_versions(ctx, s) != 0) {
		snprintf(err, errlen, "TLS versions not supported by this wolfSSL");
		goto fail;
	}
	if (wolfSSL_CTX_set_cipher_list(ctx, cfg->ciphers) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "cipher list refused by wolfSSL: %s", s->ciphers);
		goto fail;
	}
	if (set_groups(ctx, s->groups) != 0) {
		snprintf(err, errlen, "group list refused by wolfSSL: %s", s->groups);
		goto fail;
	}
	/* The signature algorithms a CertificateRequest lists, after the
	 * cipher list (which sets wolfSSL's own, SHA-1 included).
	 * Connections keep both: their certificate and key are lent
	 * (tls_conn.c), not loaded. */
	if (wolfSSL_CTX_set1_sigalgs_list(ctx, cfg->sigalgs) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "signature algorithms refused by wolfSSL: %s", cfg->sigalgs);
		goto fail;
	}
	/* Stateless resumption only: wolfSSL's session cache is one table
	 * behind a lock for every thread. The lifetime clients are told is
	 * set here; each connection gets the current one (tls_conn.c). */
	wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_OFF);
	if (wolfSSL_CTX_set_timeout(ctx, s->ticket_lifetime_s) != WOLFSSL_SUCCESS ||
	    pc_tls_ticket_setup(ctx) != 0) {
		snprintf(err, errlen, "session tickets refused by wolfSSL");
		goto fail;
	}
	/* One DRBG per worker for all its connections (the context is its
	 * alone): otherwise wolfSSL_new() seeds one per connection, a
	 * /dev/urandom open and read plus the DRBG's health tests
	 * (patches/wolfssl/0007). */
	if (wolfSSL_CTX_new_rng(ctx) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "random number generator: wolfSSL could not seed one");
		goto fail;
	}
	wolfSSL_CTX_set_verify_depth(ctx, PC_TLS_MAX_PEER_CHAIN - 1);
	/* The verify callback reads the client's DER chain and the connection
	 * keeps its verdict and identity in its own strings: no OpenSSL-style
	 * copy of the client's certificates, made on every handshake and held
	 * for the connection's lifetime (patches/wolfssl/0009). */
	wolfSSL_CTX_NoPeerX509(ctx);
	/* What an established TLS 1.3 connection no longer needs (the
	 * suites, the session, the client's extensions) is freed with the
	 * handshake's resources: ALPN's answer is the only one read after
	 * (patches/wolfssl/0010). */
	wolfSSL_CTX_LeanAfterHandshake(ctx);
	pc_tls_set_io(ctx);
	return ctx;
fail:
	wolfSSL_CTX_free(ctx);
	return NULL;
}

/* A worker's client context, for TLS to backends (tls_client.c): the
 * same versions, cipher list, groups and signature algorithms as the
 * servers; no CA (the verify callback checks servers), no session cache
 * (connections to servers are kept alive and reused instead), one DRBG
 * per worker. Certificates, SNI and verification are per connection. */
static WOLFSSL_CTX *new_client_ctx(const struct pc_tls_spec *s, const struct pc_tls_config *cfg,
				   char *err, size_t errlen)
{
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfSSLv23_client_method());

	if (ctx == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (set_versions(ctx, s) != 0 ||
	    wolfSSL_CTX_set_cipher_list(ctx, cfg->ciphers) != WOLFSSL_SUCCESS ||
	    set_groups(ctx, s->groups) != 0 ||
	    wolfSSL_CTX_set1_sigalgs_list(ctx, cfg->sigalgs) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "TLS client settings refused by wolfSSL");
		goto fail;
	}
	wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_OFF);
	if (wolfSSL_CTX_new_rng(ctx) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "random number generator: wolfSSL could not seed one");
		goto fail;
	}
	wolfSSL_CTX_set_verify_depth(ctx, PC_TLS_MAX_PEER_CHAIN - 1);
	/* The origin's chain is read as DER too (tls_client.c). */
	wolfSSL_CTX_NoPeerX509(ctx);
	pc_tls_client_set_io(ctx);
	return ctx;
fail:
	wolfSSL_CTX_free(ctx);
	return NULL;
}

static void free_config(struct pc_tls_config *cfg)
{
	if (cfg == NULL)
		return;
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		wolfSSL_CTX_free(cfg->ctx[l]);
		wolfSSL_CTX_free(cfg->client_ctx[l]);
	}
	rte_free(cfg);
}

/* The cipher suites a connection can negotiate with a certificate whose
 * key is of type key_oid, as IANA ids: those of the cipher list that the
 * key can serve (TLS 1.2 ECDSA suites need an ECDSA key, RSA suites an
 * RSA key; TLS 1.3 suites take any). */
unsigned int pc_tls_suites_for_key(int key_oid, uint16_t ids[PC_TLS_MAX_SUITES])
{
	unsigned int n = 0;

	for (const char *p = pc_tls_active->ciphers; *p != '\0' && n < PC_TLS_MAX_SUITES;) {
		size_t len = strcspn(p, ":");
		char name[64];
		uint8_t cs0, cs1;
		int flags;

		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		p += len + (p[len] == ':');
		if (wolfSSL_get_cipher_suite_from_name(name, &cs0, &cs1, &flags) != 0 ||
		    (strstr(name, "-ECDSA-") != NULL && key_oid != ECDSAk) ||
		    (strstr(name, "-RSA-") != NULL && key_oid != RSAk))
			continue;
		ids[n++] = (uint16_t)(cs0 << 8 | cs1);
	}
	return n;
}

int pc_tls_commit(const struct pc_tls_spec *s, char *err, size_t errlen)
{
	struct pc_tls_config *cfg = rte_zmalloc("tls_config", sizeof(*cfg), RTE_CACHE_LINE_SIZE);
	unsigned int id;

	if (cfg == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pc_tls_handshake_timeout_ms = s->handshake_timeout_ms;
	pc_tls_idle_timeout_ms = s->idle_timeout_ms;
	snprintf(cfg->ciphers, sizeof(cfg->ciphers), "%s",
		 s->ciphers[0] != '\0' ? s->ciphers : TLS_DEFAULT_CIPHERS);
	cfg->sigalgs = s->sha1_signatures ? tls_sigalgs_sha1 : tls_sigalgs;
	cfg->hello.nb_groups = parse_groups(s->groups, cfg->hello.groups);
	cfg->hello.tls13 = s->max_version == 3;
	cfg->hello.tls12 = s->min_version == 2;
	cfg->hello.alpn = "http/1.1";
	pc_tls_set_ticket_lifetime(s->ticket_lifetime_s);
	if (pc_tls_ticket_keys_load(s->ticket_keys, err, errlen) != 0)
		goto fail;
	RTE_LCORE_FOREACH(id) {
		cfg->ctx[id] = new_ctx(s, cfg, err, errlen);
		if (cfg->ctx[id] == NULL)
			goto fail;
		cfg->client_ctx[id] = new_client_ctx(s, cfg, err, errlen);
		if (cfg->client_ctx[id] == NULL)
			goto fail;
	}
	rcu_assign_pointer(pc_tls_active, cfg);
	return 0;
fail:
	free_config(cfg);
	return -1;
}

int pc_tls_arm_contexts(const uint8_t *leaf, size_t leaf_len, const uint8_t *key,
			size_t key_len)
{
	struct pc_tls_config *cfg = pc_tls_active;
	unsigned int id;

	if (cfg->armed)
		return 0;
	RTE_LCORE_FOREACH(id) {
		if (wolfSSL_CTX_use_certificate_buffer(cfg->ctx[id], leaf, (long)leaf_len,
						       WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS ||
		    wolfSSL_CTX_use_PrivateKey_buffer(cfg->ctx[id], key, (long)key_len,
						      WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS)
			return -1;
	}
	cfg->armed = true;
	return 0;
}

void pc_tls_set_handshake_timeout(uint32_t ms)
{
	__atomic_store_n(&pc_tls_handshake_timeout_ms, ms, __ATOMIC_RELAXED);
}

void pc_tls_set_idle_timeout(uint32_t ms)
{
	__atomic_store_n(&pc_tls_idle_timeout_ms, ms, __ATOMIC_RELAXED);
}

void pc_tls_set_ticket_lifetime(uint32_t s)
{
	__atomic_store_n(&pc_tls_ticket_lifetime_s, s, __ATOMIC_RELAXED);
}

void pc_tls_config_fini(void)
{
	free_config(rcu_xchg_pointer(&pc_tls_active, NULL));
	pc_tls_ticket_fini();
}

/* Each worker's verified-chain cache, on its socket. */
static int vcache_init(uint32_t entries)
{
	unsigned int id;

	if (entries == 0)
		return 0;
	RTE_LCORE_FOREACH_WORKER(id) {
		pc_tls_workers[id].vcache =
			tls_vcache_new(entries, (int)rte_lcore_to_socket_id(id));
		if (pc_tls_workers[id].vcache == NULL)
			return -1;
	}
	return 0;
}

static void vcache_fini(void)
{
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		tls_vcache_free(pc_tls_workers[l].vcache);
		pc_tls_workers[l].vcache = NULL;
	}
}

static bool tls_initialized;

int pc_tls_init(const struct pc_tls_spec *s, uint32_t conns_per_lcore)
{
	tls_initialized = true;
	if (pc_tls_mem_init(s->memory_mb) != 0) {
		fprintf(stderr, "portcullis: TLS memory: %u MiB per worker not available "
			"on hugepages\n", s->memory_mb);
		return -ENOMEM;
	}
	if (wolfSSL_Init() != WOLFSSL_SUCCESS) {
		fprintf(stderr, "portcullis: wolfSSL_Init failed\n");
		pc_tls_mem_fini();
		return -EINVAL;
	}
	if (pc_tls_conn_init(conns_per_lcore) != 0) {
		fprintf(stderr, "portcullis: TLS connection pools (%u per lcore, %zu bytes each) "
			"not available on hugepages\n", conns_per_lcore, pc_tls_conn_size());
		pc_tls_fini();
		return -ENOMEM;
	}
	if (pc_tls_store_init() != 0) {
		fprintf(stderr, "portcullis: TLS object tables: out of memory\n");
		pc_tls_fini();
		return -ENOMEM;
	}
	if (vcache_init(s->verify_cache) != 0) {
		fprintf(stderr, "portcullis: verified-chain caches (%u entries per worker) not "
			"available on hugepages\n", s->verify_cache);
		pc_tls_fini();
		return -ENOMEM;
	}
	return 0;
}

void pc_tls_fini(void)
{
	if (!tls_initialized)
		return;
	tls_initialized = false;
	pc_tls_store_fini();
	pc_tls_config_fini();
	pc_tls_conn_fini();
	vcache_fini();
	wolfSSL_Cleanup();
	pc_tls_mem_fini();
}
