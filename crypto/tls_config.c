/* SPDX-License-Identifier: MIT */
/*
 * TLS configuration: staging (what config commands fill in and check),
 * committing into an immutable struct pc_tls_config with one WOLFSSL_CTX
 * per host and lcore (a WOLFSSL_CTX is shared by its connections through a
 * reference count under a mutex: per-lcore contexts keep that mutex
 * uncontended), publishing it, and reclaiming replaced ones.
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

struct pc_tls_config *pc_tls_active;

/* Configurations replaced while connections still held them. */
#define TLS_MAX_RETIRED 16
static struct pc_tls_config *retired[TLS_MAX_RETIRED];

void pc_tls_spec_defaults(struct pc_tls_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->min_version = 3;
	s->max_version = 3;
	snprintf(s->groups, sizeof(s->groups), "%s", TLS_DEFAULT_GROUPS);
	s->memory_mb = 128;
	s->handshake_timeout_ms = 10000;
}

struct pc_tls_host_spec *pc_tls_spec_host(struct pc_tls_spec *s, const char *name)
{
	struct pc_tls_host_spec *h;

	for (unsigned int i = 0; i < s->nb_hosts; i++)
		if (strcasecmp(s->hosts[i].name, name) == 0)
			return &s->hosts[i];
	if (s->nb_hosts == PC_TLS_MAX_HOSTS)
		return NULL;
	h = &s->hosts[s->nb_hosts++];
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	pc_verify_policy_defaults(&h->policy);
	return h;
}

/* A context holding host h's certificate and key; the rest is set by
 * new_ctx(). */
static WOLFSSL_CTX *cert_ctx(const char *cert_file, const char *key_file, char *err,
			     size_t errlen)
{
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfSSLv23_server_method());

	if (ctx == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (wolfSSL_CTX_use_certificate_chain_file(ctx, cert_file) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "%s: not a readable PEM certificate chain", cert_file);
		goto fail;
	}
	if (wolfSSL_CTX_use_PrivateKey_file(ctx, key_file, WOLFSSL_FILETYPE_PEM) !=
	    WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "%s: not a readable PEM private key", key_file);
		goto fail;
	}
	if (wolfSSL_CTX_check_private_key(ctx) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "%s does not match the certificate in %s", key_file,
			 cert_file);
		goto fail;
	}
	return ctx;
fail:
	wolfSSL_CTX_free(ctx);
	return NULL;
}

int pc_tls_check_cert(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
	WOLFSSL_CTX *ctx = cert_ctx(cert_file, key_file, err, errlen);

	if (ctx == NULL)
		return -1;
	wolfSSL_CTX_free(ctx);
	return 0;
}

static struct pc_trust *build_trust(const struct pc_tls_host_spec *h, char *err, size_t errlen)
{
	struct pc_trust *t = pc_trust_new();

	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (unsigned int i = 0; i < h->nb_ca; i++)
		if (pc_trust_add_ca_file(t, h->ca_files[i], err, errlen) != 0)
			goto fail;
	for (unsigned int i = 0; i < h->nb_crl; i++)
		if (pc_trust_add_crl_file(t, h->crl_files[i], err, errlen) != 0)
			goto fail;
	if (pc_trust_finalize(t, err, errlen) != 0)
		goto fail;
	return t;
fail:
	pc_trust_free(t);
	return NULL;
}

int pc_tls_check_trust(const struct pc_tls_host_spec *h, char *err, size_t errlen)
{
	struct pc_trust *t = build_trust(h, err, errlen);

	if (t == NULL)
		return -1;
	pc_trust_free(t);
	return 0;
}

static bool host_matches(const struct pc_tls_host *h, const char *sni, size_t len)
{
	if (!h->wildcard)
		return strcasecmp(h->name, sni) == 0;
	/* "*.example.com" takes exactly one more label: "a.example.com". */
	size_t slen = strlen(h->name + 1);

	if (len <= slen || strcasecmp(sni + len - slen, h->name + 1) != 0)
		return false;
	return memchr(sni, '.', len - slen) == NULL;
}

const struct pc_tls_host *pc_tls_find_host(const struct pc_tls_config *cfg, const char *sni)
{
	size_t len = strlen(sni);

	if (len != 0)
		for (unsigned int i = 0; i < cfg->nb_hosts; i++)
			if (host_matches(&cfg->hosts[i], sni, len))
				return &cfg->hosts[i];
	return cfg->def;
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

static WOLFSSL_CTX *new_ctx(const struct pc_tls_spec *s, const struct pc_tls_config *cfg,
			    const struct pc_tls_host_spec *hs, const struct pc_tls_host_spec *def,
			    char *err, size_t errlen)
{
	const struct pc_tls_host_spec *certs = hs->cert_file[0] != '\0' ? hs : def;
	WOLFSSL_CTX *ctx;
	int mode;

	if (certs == NULL || certs->cert_file[0] == '\0') {
		snprintf(err, errlen, "host %s has no certificate and there is no default one",
			 hs->name);
		return NULL;
	}
	ctx = cert_ctx(certs->cert_file, certs->key_file, err, errlen);
	if (ctx == NULL)
		return NULL;
	if (set_versions(ctx, s) != 0) {
		snprintf(err, errlen, "TLS versions not supported by this wolfSSL");
		goto fail;
	}
	if (wolfSSL_CTX_set_cipher_list(ctx, s->ciphers[0] != '\0' ? s->ciphers
								   : TLS_DEFAULT_CIPHERS) !=
	    WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "cipher list refused by wolfSSL: %s", s->ciphers);
		goto fail;
	}
	if (set_groups(ctx, s->groups) != 0) {
		snprintf(err, errlen, "group list refused by wolfSSL: %s", s->groups);
		goto fail;
	}
	/* Stateless resumption only: wolfSSL's session cache is one table
	 * behind a lock for every thread. */
	wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_OFF);
	/* A host that verifies clients checks every connection's certificate
	 * against its current trust and CRLs: a resumed session would skip
	 * that, and a ticket cannot carry the verified identity. Without a
	 * ticket callback wolfSSL accepts no ticket either. */
	if (hs->verify != PC_TLS_VERIFY_NONE) {
		if (wolfSSL_CTX_NoTicketTLSv12(ctx) != WOLFSSL_SUCCESS ||
		    wolfSSL_CTX_no_ticket_TLSv13(ctx) != 0) {
			snprintf(err, errlen, "wolfSSL refused to turn session tickets off");
			goto fail;
		}
	} else if (pc_tls_ticket_setup(ctx, &cfg->ticket) != 0) {
		snprintf(err, errlen, "session tickets refused by wolfSSL");
		goto fail;
	}
	/* Certificates are checked by pc_verify_chain() in the callback, with
	 * the host's own trust object: wolfSSL's certificate manager holds no
	 * CA, so every client chain reaches the callback, and nothing the
	 * client sends is learnt as a CA for later connections. */
	mode = WOLFSSL_VERIFY_NONE;
	if (hs->verify != PC_TLS_VERIFY_NONE)
		mode = WOLFSSL_VERIFY_PEER;
	if (hs->verify == PC_TLS_VERIFY_REQUIRED && hs->on_failure == PC_TLS_FAIL_ALERT)
		mode |= WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	wolfSSL_CTX_set_verify(ctx, mode, mode == WOLFSSL_VERIFY_NONE ? NULL : pc_tls_verify_cb);
	wolfSSL_CTX_set_verify_depth(ctx, PC_TLS_MAX_PEER_CHAIN - 1);
	pc_tls_set_io(ctx);
	return ctx;
fail:
	wolfSSL_CTX_free(ctx);
	return NULL;
}

static void free_config(struct pc_tls_config *cfg)
{
	if (cfg == NULL)
		return;
	for (unsigned int i = 0; i < cfg->nb_hosts + (cfg->def != NULL); i++) {
		struct pc_tls_host *h = &cfg->hosts[i];

		for (unsigned int l = 0; l < RTE_MAX_LCORE; l++)
			wolfSSL_CTX_free(h->ctx[l]);
		pc_trust_free(h->trust);
	}
	rte_free(cfg->hosts);
	rte_free(cfg);
}

/* The cipher suites a connection of the host can negotiate, as IANA ids:
 * those of the cipher list that its certificate's key can serve (TLS 1.2
 * ECDSA suites need an ECDSA key, RSA suites an RSA key). */
static int host_suites(struct pc_tls_host *h, const struct pc_tls_spec *s,
		       const char *cert_file, char *err, size_t errlen)
{
	WOLFSSL_X509 *x = wolfSSL_X509_load_certificate_file(cert_file, WOLFSSL_FILETYPE_PEM);
	int key = x != NULL ? wolfSSL_X509_get_pubkey_type(x) : 0;
	const char *list = s->ciphers[0] != '\0' ? s->ciphers : TLS_DEFAULT_CIPHERS;

	wolfSSL_X509_free(x);
	h->nb_suites = 0;
	for (const char *p = list; *p != '\0' && h->nb_suites < PC_TLS_MAX_SUITES;) {
		size_t len = strcspn(p, ":");
		char name[64];
		uint8_t cs0, cs1;
		int flags;

		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		p += len + (p[len] == ':');
		if (wolfSSL_get_cipher_suite_from_name(name, &cs0, &cs1, &flags) != 0 ||
		    (strstr(name, "-ECDSA-") != NULL && key != ECDSAk) ||
		    (strstr(name, "-RSA-") != NULL && key != RSAk))
			continue;
		h->suites[h->nb_suites++] = (uint16_t)(cs0 << 8 | cs1);
	}
	if (h->nb_suites == 0) {
		snprintf(err, errlen, "host %s: no cipher suite of the list fits its certificate",
			 h->name);
		return -1;
	}
	return 0;
}

static int build_host(struct pc_tls_host *h, const struct pc_tls_spec *s,
		      const struct pc_tls_config *cfg,
		      const struct pc_tls_host_spec *hs, const struct pc_tls_host_spec *def,
		      char *err, size_t errlen)
{
	unsigned int id;

	snprintf(h->name, sizeof(h->name), "%s", hs->name);
	h->wildcard = hs->name[0] == '*';
	h->verify = hs->verify;
	h->on_failure = hs->on_failure;
	h->policy = hs->policy;
	h->nb_protected = hs->nb_protected;
	for (unsigned int i = 0; i < hs->nb_protected; i++) {
		snprintf(h->protected_buf[i], sizeof(h->protected_buf[i]), "%s", hs->protected[i]);
		h->protected[i] = h->protected_buf[i];
	}
	if (hs->verify != PC_TLS_VERIFY_NONE) {
		if (hs->nb_ca == 0) {
			snprintf(err, errlen, "host %s verifies clients but has no CA file",
				 hs->name);
			return -1;
		}
		h->trust = build_trust(hs, err, errlen);
		if (h->trust == NULL)
			return -1;
	}
	RTE_LCORE_FOREACH(id) {
		h->ctx[id] = new_ctx(s, cfg, hs, def, err, errlen);
		if (h->ctx[id] == NULL)
			return -1;
	}
	return host_suites(h, s, (hs->cert_file[0] != '\0' ? hs : def)->cert_file, err, errlen);
}

/* Exact names first, then wildcards longest suffix first, default last. */
static int host_order(const struct pc_tls_host_spec *a)
{
	if (strcasecmp(a->name, "default") == 0)
		return 2;
	return a->name[0] == '*' ? 1 : 0;
}

static struct pc_tls_config *build_config(const struct pc_tls_spec *s, char *err,
					  size_t errlen)
{
	struct pc_tls_config *cfg = rte_zmalloc("tls_config", sizeof(*cfg), RTE_CACHE_LINE_SIZE);
	const struct pc_tls_host_spec *def = NULL;
	const struct pc_tls_host_spec *order[PC_TLS_MAX_HOSTS];
	unsigned int n = 0;

	if (cfg == NULL)
		goto nomem;
	cfg->hosts = rte_zmalloc("tls_hosts", sizeof(cfg->hosts[0]) * (s->nb_hosts + 1),
				 RTE_CACHE_LINE_SIZE);
	if (cfg->hosts == NULL)
		goto nomem;
	cfg->handshake_timeout_ms = s->handshake_timeout_ms;
	cfg->hello.nb_groups = parse_groups(s->groups, cfg->hello.groups);
	cfg->hello.tls13 = s->max_version == 3;
	cfg->hello.tls12 = s->min_version == 2;
	cfg->hello.alpn = "http/1.1";
	if (pc_tls_ticket_key_init(&cfg->ticket) != 0) {
		snprintf(err, errlen, "getrandom failed for the ticket key");
		goto fail;
	}
	for (int rank = 0; rank < 2; rank++)
		for (unsigned int i = 0; i < s->nb_hosts; i++)
			if (host_order(&s->hosts[i]) == rank)
				order[n++] = &s->hosts[i];
	for (unsigned int i = 0; i < s->nb_hosts; i++)
		if (host_order(&s->hosts[i]) == 2)
			def = &s->hosts[i];
	/* Longest wildcard suffix first (a stable insertion sort). */
	for (unsigned int i = 1; i < n; i++)
		for (unsigned int j = i; j > 0 && order[j]->name[0] == '*' &&
					 order[j - 1]->name[0] == '*' &&
					 strlen(order[j]->name) > strlen(order[j - 1]->name);
		     j--) {
			const struct pc_tls_host_spec *t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (unsigned int i = 0; i < n; i++) {
		cfg->nb_hosts = i + 1;
		if (build_host(&cfg->hosts[i], s, cfg, order[i], def, err, errlen) != 0)
			goto fail;
	}
	if (def != NULL) {
		cfg->def = &cfg->hosts[n];
		if (build_host(cfg->def, s, cfg, def, def, err, errlen) != 0)
			goto fail;
	}
	return cfg;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	free_config(cfg);
	return NULL;
}

static bool unreferenced(const struct pc_tls_config *cfg)
{
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++)
		if (__atomic_load_n(&cfg->refs[l], __ATOMIC_RELAXED) != 0)
			return false;
	return true;
}

static int free_slot(void)
{
	for (int i = 0; i < TLS_MAX_RETIRED; i++)
		if (retired[i] == NULL)
			return i;
	return -1;
}

int pc_tls_commit(const struct pc_tls_spec *s, char *err, size_t errlen)
{
	struct pc_tls_config *cfg, *old;
	int slot;

	pc_tls_reclaim();
	slot = free_slot();
	if (pc_tls_active != NULL && slot < 0) {
		snprintf(err, errlen, "%d older configurations are still held by connections",
			 TLS_MAX_RETIRED);
		return -1;
	}
	cfg = build_config(s, err, errlen);
	if (cfg == NULL)
		return -1;
	old = rcu_xchg_pointer(&pc_tls_active, cfg);
	if (old == NULL)
		return 0;
	/* After the grace period no worker can pick old for a new
	 * connection; the ones that hold it keep it until they close. */
	synchronize_rcu();
	retired[slot] = old;
	pc_tls_reclaim();
	return 0;
}

void pc_tls_reclaim(void)
{
	for (unsigned int i = 0; i < TLS_MAX_RETIRED; i++)
		if (retired[i] != NULL && unreferenced(retired[i])) {
			free_config(retired[i]);
			retired[i] = NULL;
		}
}

void pc_tls_config_fini(void)
{
	free_config(rcu_xchg_pointer(&pc_tls_active, NULL));
	for (unsigned int i = 0; i < TLS_MAX_RETIRED; i++) {
		free_config(retired[i]);
		retired[i] = NULL;
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
	return 0;
}

void pc_tls_fini(void)
{
	if (!tls_initialized)
		return;
	tls_initialized = false;
	pc_tls_config_fini();
	pc_tls_conn_fini();
	wolfSSL_Cleanup();
	pc_tls_mem_fini();
}
