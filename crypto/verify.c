/* SPDX-License-Identifier: MIT */
/*
 * Client-certificate verification (pc_verify.h). wolfSSL parses the
 * certificates (wc_ParseCert with NO_VERIFY: no CertManager, no clock) and
 * wolfCrypt checks signatures; the chain building and every policy check
 * are ours, so that a trust object never learns an intermediate (wolfSSL's
 * CertManager would keep the ones it verified, leaking trust between
 * tenants) and verification is a pure function of its arguments.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/rsa.h>
#include <wolfssl/wolfcrypt/sha256.h>
#include <wolfssl/wolfcrypt/signature.h>

#include "pc_str.h"
#include "pc_verify.h"
#include "verify_int.h"

static const struct {
	const char *name;
	const char *help;
	uint8_t alert;
} reasons[] = {
#define PC_VERIFY_REASON(name, text, alert, help) {text, help, alert},
#include "verify_reasons.def"
#undef PC_VERIFY_REASON
};

const char *pc_verify_reason_name(enum pc_verify_reason r)
{
	return r < PC_VERIFY_NB_REASONS ? reasons[r].name : "?";
}

const char *pc_verify_reason_help(enum pc_verify_reason r)
{
	return r < PC_VERIFY_NB_REASONS ? reasons[r].help : "?";
}

uint8_t pc_verify_reason_alert(enum pc_verify_reason r)
{
	return r < PC_VERIFY_NB_REASONS ? reasons[r].alert : 80 /* internal_error */;
}

void pc_verify_policy_defaults(struct pc_verify_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->max_depth = 4;
	p->eku = PC_VERIFY_EKU_CLIENT;
	p->min_rsa_bits = 2048;
}

/* An SPKI as wolfSSL's DecodedCert holds it; RSA-4096 fits. */
#define PC_KEY_MAX 600

/* What the checks need from one certificate: parsed once (CA certificates
 * when the trust object is built, the peer's per handshake). The DER stays
 * where it was (pointers into it). */
struct pc_cert {
	const uint8_t *tbs, *sig, *subject, *issuer, *sig_alg;
	size_t tbs_len, sig_len, subject_len, issuer_len, sig_alg_len;
	uint32_t sig_oid, key_oid;
	uint8_t key[PC_KEY_MAX];
	size_t key_len;
	int64_t not_before, not_after;
	uint8_t serial[EXTERNAL_SERIAL_SIZE];
	size_t serial_len;
	int path_len; /* -1: no pathLenConstraint */
	uint16_t key_usage;
	uint8_t eku;          /* wolfSSL's EXTKEYUSE_* bits, when eku_set */
	bool ku_set, eku_set, is_ca;
	bool self_issued;     /* subject == issuer */
	bool root;            /* self-issued and self-signed (or a self-issued anchor) */
	bool anchor;          /* from the trust object's CA files */
	unsigned int rsa_bits; /* RSA modulus size, 0 for other keys */
	bool key_defect;       /* the defect is the key's: never worth a signature check */
	/* The first RFC 5280 rule or key requirement it breaks (then it fails
	 * any chain that uses it, and only those), else PC_VERIFY_OK. */
	enum pc_verify_reason defect;
	const char *defect_text;
	struct pc_cert_ext ext;
	char name[WC_ASN_NAME_MAX];
	/* A CA's P-256 key: how often it checked a signature, and the table
	 * that speeds those checks once it has checked enough (key_table()).
	 * Written by the verifying threads on a trust object that is
	 * otherwise read-only for them. */
	bool p256;
	atomic_uint key_uses;
	_Atomic(uint8_t *) key_table;
};

/* A serial number without its leading zero bytes. */
struct pc_serial {
	uint8_t len;
	uint8_t b[20];
};

struct pc_trust_crl {
	uint8_t *der;
	struct pc_crl_info info;
	/* Set by pc_trust_finalize when a CA of the set issued the CRL; NULL
	 * when its issuer is not in the set (an intermediate that clients
	 * send): the signature is then checked against the issuer in the
	 * chain, once per worker (crl_cache). */
	const struct pc_cert *signer;
	uint64_t id; /* unique in the process, never reused (crl_cache's key) */
};

struct pc_trust {
	struct pc_cert *cas;
	uint8_t **ca_der; /* owned DER of each CA (the pc_cert points into it) */
	unsigned int nb_cas, cap_cas;
	struct pc_trust_crl *crls;
	unsigned int nb_crls;
	struct pc_serial *denied; /* the operator's deny list */
	unsigned int nb_denied;
	bool final;
	uint8_t digest[PC_TRUST_DIGEST_LEN]; /* pc_trust_digest() */
};

/* Equal octet strings (either may be NULL when its length is 0). */
static bool same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* An AlgorithmIdentifier TLV at *p naming SHA-256, -384 or -512 (0, 1,
 * 2; its parameters, NULL or absent, are not read), or -1. */
static int sha2_alg(const uint8_t **p, const uint8_t *end)
{
	static const uint8_t sha2[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02};
	const uint8_t *q;
	struct pc_der alg, oid;

	if (pc_der_expect(p, end, DER_SEQUENCE, &alg) != 0)
		return -1;
	q = alg.val;
	if (pc_der_expect(&q, alg.val + alg.len, DER_OID, &oid) != 0 ||
	    oid.len != sizeof(sha2) + 1 || memcmp(oid.val, sha2, sizeof(sha2)) != 0 ||
	    oid.val[sizeof(sha2)] < 1 || oid.val[sizeof(sha2)] > 3)
		return -1;
	return oid.val[sizeof(sha2)] - 1;
}

/* RSASSA-PSS-params (RFC 4055 3.1): hash and MGF1 hash SHA-256, -384 or
 * -512 and the same, a salt length, trailer 1. SHA-1 (the defaults) is
 * refused. 0 with *hash, *mgf and *salt set, or -1. */
static int pss_params(const uint8_t *alg, size_t alg_len, enum wc_HashType *hash, int *mgf,
		      int *salt)
{
	static const uint8_t mgf1[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08};
	static const struct {
		enum wc_HashType hash;
		int mgf;
	} hashes[] = {{WC_HASH_TYPE_SHA256, WC_MGF1SHA256},
		      {WC_HASH_TYPE_SHA384, WC_MGF1SHA384},
		      {WC_HASH_TYPE_SHA512, WC_MGF1SHA512}};
	const uint8_t *p = alg, *end = alg + alg_len, *q;
	struct pc_der seq, oid, params, d, h, ho;
	int which = -1, mgf_which = -1;

	*salt = 20;
	if (pc_der_next(&p, end, &seq) != 0)
		return -1;
	p = seq.val;
	end = seq.val + seq.len;
	if (pc_der_next(&p, end, &oid) != 0 || pc_der_next(&p, end, &params) != 0 ||
	    params.tag != DER_SEQUENCE)
		return -1;
	for (p = params.val; p < params.val + params.len;) {
		if (pc_der_next(&p, params.val + params.len, &d) != 0)
			return -1;
		q = d.val;
		switch (d.tag) {
		case 0xa0: /* hashAlgorithm */
			which = sha2_alg(&q, d.val + d.len);
			break;
		case 0xa1: /* maskGenAlgorithm: mgf1 with a hash */
			if (pc_der_expect(&q, d.val + d.len, DER_SEQUENCE, &h) != 0)
				return -1;
			q = h.val;
			if (pc_der_expect(&q, h.val + h.len, DER_OID, &ho) != 0 ||
			    ho.len != sizeof(mgf1) || memcmp(ho.val, mgf1, sizeof(mgf1)) != 0)
				return -1;
			mgf_which = sha2_alg(&q, h.val + h.len);
			break;
		case 0xa2: /* saltLength INTEGER */
			if (pc_der_expect(&q, d.val + d.len, DER_INTEGER, &h) != 0 || h.len < 1 ||
			    h.len > 2 || (h.val[0] & 0x80))
				return -1;
			*salt = h.len == 1 ? h.val[0] : h.val[0] << 8 | h.val[1];
			break;
		case 0xa3: /* trailerField: 1 only */
			if (pc_der_expect(&q, d.val + d.len, DER_INTEGER, &h) != 0 || h.len != 1 ||
			    h.val[0] != 1)
				return -1;
			break;
		default:
			return -1;
		}
	}
	if (which < 0 || which != mgf_which)
		return -1;
	*hash = hashes[which].hash;
	*mgf = hashes[which].mgf;
	return 0;
}

/* An RSASSA-PSS signature (the algorithm's parameters in alg). 1 valid, 0
 * not, -1 unsupported parameters. */
static int pss_verify(RsaKey *k, const uint8_t *alg, size_t alg_len, const uint8_t *tbs,
		      size_t tbs_len, const uint8_t *sig, size_t sig_len)
{
	uint8_t buf[PC_KEY_MAX], digest[WC_MAX_DIGEST_SIZE];
	enum wc_HashType hash;
	int mgf, salt, n, dlen;

	if (pss_params(alg, alg_len, &hash, &mgf, &salt) != 0)
		return -1;
	dlen = wc_HashGetDigestSize(hash);
	if (sig_len > sizeof(buf) || dlen <= 0 || wc_Hash(hash, tbs, (word32)tbs_len, digest,
							  (word32)dlen) != 0)
		return 0;
	memcpy(buf, sig, sig_len);
	n = wc_RsaPSS_Verify_ex(buf, (word32)sig_len, buf, sizeof(buf), hash, mgf, salt, k);
	if (n <= 0)
		return 0;
	return wc_RsaPSS_CheckPadding_ex(digest, (word32)dlen, buf, (word32)n, hash, salt,
					 wc_RsaEncryptSize(k) * 8) == 0;
}

/* Key tables (patches/wolfssl/0015): a P-256 CA key that has checked
 * PC_KEY_TABLE_AFTER signatures gets a table of its point, built by the
 * thread whose check that is (~230 us, what 7 checks save) and used by all
 * threads from then on: 53 -> 22 us per check here. At most
 * PC_KEY_TABLES_MAX tables (4 KiB each) exist at once in the process, so
 * that 100,000 busy tenant CAs cost 64 MiB at most; past that a CA tries
 * again every PC_KEY_TABLE_AFTER checks. Only CAs of trust objects get
 * one: a client's key signs once per handshake, and its intermediates come
 * and go with it. */
#define PC_KEY_TABLE_AFTER 8
#define PC_KEY_TABLES_MAX 16384
static atomic_uint key_tables_live;

/* The table of CA c's key (decoded in k), or NULL: not a P-256 CA key, not
 * used enough yet, over the budget, out of memory. */
static const uint8_t *key_table(const struct pc_cert *c, ecc_key *k)
{
	/* The counters are the trust object's verification state, not part
	 * of the certificate (see struct pc_cert). */
	struct pc_cert *m = (struct pc_cert *)c;
	uint8_t *tab, *none = NULL;

	if (!c->p256 || !c->anchor)
		return NULL;
	tab = atomic_load_explicit(&m->key_table, memory_order_acquire);
	if (tab != NULL ||
	    (atomic_fetch_add_explicit(&m->key_uses, 1, memory_order_relaxed) + 1) %
			    PC_KEY_TABLE_AFTER !=
		    0)
		return tab;
	if (atomic_fetch_add_explicit(&key_tables_live, 1, memory_order_relaxed) >=
	    PC_KEY_TABLES_MAX)
		goto none;
	tab = aligned_alloc(64, WC_ECC_VERIFY_TABLE_SZ);
	if (tab == NULL || wc_ecc_make_verify_table(k, tab, WC_ECC_VERIFY_TABLE_SZ) != 0) {
		free(tab);
		goto none;
	}
	/* Two threads may build one at once: the first keeps its own. */
	if (atomic_compare_exchange_strong_explicit(&m->key_table, &none, tab,
						    memory_order_acq_rel, memory_order_acquire))
		return tab;
	free(tab);
	atomic_fetch_sub_explicit(&key_tables_live, 1, memory_order_relaxed);
	return none;
none:
	atomic_fetch_sub_explicit(&key_tables_live, 1, memory_order_relaxed);
	return NULL;
}

_Static_assert(PC_VERIFY_KEY_TABLE_SZ == WC_ECC_VERIFY_TABLE_SZ, "key table size");

int pc_verify_key_table(const uint8_t *der, size_t len, uint8_t table[PC_VERIFY_KEY_TABLE_SZ])
{
	DecodedCert dc;
	ecc_key k;
	word32 idx = 0;
	int parsed, rc = -1;

	if (len > UINT32_MAX)
		return -1;
	wc_InitDecodedCert(&dc, der, (word32)len, NULL);
	dc.noX509Names = 1;
	parsed = wc_ParseCert(&dc, CERT_TYPE, NO_VERIFY, NULL);
	if ((parsed == 0 || parsed == ASN_CRIT_EXT_E) && dc.keyOID == ECDSAk &&
	    dc.pkCurveOID == ECC_SECP256R1_OID && wc_ecc_init(&k) == 0) {
		if (wc_EccPublicKeyDecode(dc.publicKey, &idx, &k, dc.pubKeySize) == 0 &&
		    wc_ecc_make_verify_table(&k, table, PC_VERIFY_KEY_TABLE_SZ) == 0)
			rc = 0;
		wc_ecc_free(&k);
	}
	wc_FreeDecodedCert(&dc);
	return rc;
}

bool pc_trust_ca_key_table(const struct pc_trust *t, unsigned int i)
{
	return atomic_load_explicit(&t->cas[i].key_table, memory_order_acquire) != NULL;
}

/* Does sig over tbs verify with key? 1 yes, 0 no, -1 unsupported algorithm
 * or key. alg: the signatureAlgorithm TLV (for RSA-PSS's parameters). */
static int sig_verify(const struct pc_cert *key, uint32_t sig_oid, const uint8_t *alg,
		      size_t alg_len, const uint8_t *tbs, size_t tbs_len, const uint8_t *sig,
		      size_t sig_len)
{
	static const struct {
		uint32_t oid, key_oid;
		enum wc_HashType hash;
	} algs[] = {
		{CTC_SHA256wECDSA, ECDSAk, WC_HASH_TYPE_SHA256},
		{CTC_SHA384wECDSA, ECDSAk, WC_HASH_TYPE_SHA384},
		{CTC_SHA512wECDSA, ECDSAk, WC_HASH_TYPE_SHA512},
		{CTC_SHA256wRSA, RSAk, WC_HASH_TYPE_SHA256},
		{CTC_SHA384wRSA, RSAk, WC_HASH_TYPE_SHA384},
		{CTC_SHA512wRSA, RSAk, WC_HASH_TYPE_SHA512},
		{CTC_RSASSAPSS, RSAk, WC_HASH_TYPE_NONE},
		{CTC_ED25519, ED25519k, WC_HASH_TYPE_NONE},
	};
	word32 idx = 0;
	int rc = -1;
	size_t i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (algs[i].oid == sig_oid)
			break;
	if (i == sizeof(algs) / sizeof(algs[0]) || algs[i].key_oid != key->key_oid)
		return -1;
	if (key->key_oid == ECDSAk) {
		ecc_key k;

		if (wc_ecc_init(&k) != 0)
			return -1;
		if (wc_EccPublicKeyDecode(key->key, &idx, &k, (word32)key->key_len) == 0 &&
		    wc_ecc_use_verify_table(&k, key_table(key, &k)) == 0)
			rc = wc_SignatureVerify(algs[i].hash, WC_SIGNATURE_TYPE_ECC, tbs,
						(word32)tbs_len, sig, (word32)sig_len, &k,
						sizeof(k)) == 0;
		wc_ecc_free(&k);
	} else if (key->key_oid == RSAk) {
		RsaKey k;

		if (wc_InitRsaKey(&k, NULL) != 0)
			return -1;
		if (wc_RsaPublicKeyDecode(key->key, &idx, &k, (word32)key->key_len) == 0)
			rc = sig_oid == CTC_RSASSAPSS
				     ? pss_verify(&k, alg, alg_len, tbs, tbs_len, sig, sig_len)
				     : wc_SignatureVerify(algs[i].hash, WC_SIGNATURE_TYPE_RSA_W_ENC,
							  tbs, (word32)tbs_len, sig,
							  (word32)sig_len, &k, sizeof(k)) == 0;
		wc_FreeRsaKey(&k);
	} else {
		ed25519_key k;
		int ok = 0;

		if (wc_ed25519_init(&k) != 0)
			return -1;
		if (wc_ed25519_import_public(key->key, (word32)key->key_len, &k) == 0)
			rc = wc_ed25519_verify_msg(sig, (word32)sig_len, tbs, (word32)tbs_len, &ok,
						   &k) == 0 && ok == 1;
		wc_ed25519_free(&k);
	}
	return rc;
}

static int cert_sig_verify(const struct pc_cert *issuer, const struct pc_cert *c)
{
	return sig_verify(issuer, c->sig_oid, c->sig_alg, c->sig_alg_len, c->tbs, c->tbs_len,
			  c->sig, c->sig_len);
}

/* RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER },
 * alone or in a SubjectPublicKeyInfo: its size in *bits, and what is
 * wrong with it (a modulus of a whole number of bytes, an odd exponent
 * from 3 to 2^32 - 1: larger ones make every verification slower, at the
 * client's choice), NULL if nothing. */
static const char *rsa_key_defect(const uint8_t *key, size_t len, unsigned int *bits)
{
	const uint8_t *p = key, *end = key + len;
	struct pc_der d, n, e;
	unsigned int top;

	if (pc_der_next(&p, end, &d) != 0 || d.tag != 0x30)
		return "an RSA key that cannot be parsed";
	p = d.val;
	end = d.val + d.len;
	if (p < end && p[0] == 0x30) {
		struct pc_der alg, bits_str;

		if (pc_der_next(&p, end, &alg) != 0 || pc_der_next(&p, end, &bits_str) != 0 ||
		    bits_str.tag != 0x03 || bits_str.len < 1 || bits_str.val[0] != 0)
			return "an RSA key that cannot be parsed";
		p = bits_str.val + 1;
		end = bits_str.val + bits_str.len;
		if (pc_der_next(&p, end, &d) != 0 || d.tag != 0x30)
			return "an RSA key that cannot be parsed";
		p = d.val;
		end = d.val + d.len;
	}
	if (pc_der_next(&p, end, &n) != 0 || n.tag != 0x02 || n.len == 0 ||
	    (n.val[0] & 0x80) || pc_der_next(&p, end, &e) != 0 || e.tag != 0x02 || e.len == 0 ||
	    (e.val[0] & 0x80))
		return "an RSA key that cannot be parsed";
	pc_der_strip_zeros(&n.val, &n.len);
	pc_der_strip_zeros(&e.val, &e.len);
	for (top = 0; top < 8 && (n.val[0] >> top) != 0; top++)
		;
	*bits = (unsigned int)(n.len - 1) * 8 + top;
	if (*bits == 0)
		return "an RSA modulus of 0";
	if (*bits % 8 != 0)
		return "an RSA modulus that is not a whole number of bytes";
	if (e.len > 4 || !(e.val[e.len - 1] & 1) || (e.len == 1 && e.val[0] < 3))
		return "an RSA public exponent that is even, below 3 or above 2^32";
	return NULL;
}

static void set_defect(struct pc_cert *c, enum pc_verify_reason r, const char *what)
{
	if (c->defect == PC_VERIFY_OK) {
		c->defect = r;
		c->defect_text = what;
	}
}

/* The key's rules: before anything pays a signature check with it. */
static void key_rules(struct pc_cert *c, uint32_t curve)
{
	if (c->key_oid == RSAk) {
		const char *k = rsa_key_defect(c->key, c->key_len, &c->rsa_bits);

		if (k != NULL)
			set_defect(c, PC_VERIFY_WEAK_KEY, k);
	} else if (c->key_oid == ECDSAk) {
		if (curve != ECC_SECP256R1_OID && curve != ECC_SECP384R1_OID &&
		    curve != ECC_SECP521R1_OID)
			set_defect(c, PC_VERIFY_WEAK_KEY,
				   "an EC key on a curve other than P-256, P-384 and P-521");
	} else if (c->key_oid != ED25519k) {
		set_defect(c, PC_VERIFY_UNSUPPORTED,
			   "a key type other than RSA, ECDSA P-256/384/521 and Ed25519");
	}
	c->key_defect = c->defect != PC_VERIFY_OK;
}

/* The rules that need wolfSSL's reading and ours together (RFC 5280
 * 4.2.1.1-4.2.1.10, 4.1.2.3, 4.1.2.6). */
static void cert_rules(struct pc_cert *c)
{
	const struct pc_cert_ext *e = &c->ext;

	if (e->defect != PC_VERIFY_OK)
		set_defect(c, e->defect, e->defect_text);
	/* A trust anchor is a name and a key (RFC 5280 6.1.1 (d)): its serial
	 * and its own issuer are not part of any path (real roots have
	 * serial 0, cross-signed anchors have no AKI). */
	if (e->bad_serial != NULL && !c->anchor)
		set_defect(c, PC_VERIFY_INVALID_CERT, e->bad_serial);
	/* Certificate policies cannot change the outcome unless a CA requires
	 * an explicit policy: that needs the policy tree, which we do not
	 * build, so such a CA is refused rather than half-processed. */
	if (e->explicit_policy)
		set_defect(c, PC_VERIFY_CRITICAL_EXT,
			   "policyConstraints requireExplicitPolicy (policies are not processed)");
	if (c->is_ca && !e->bc_critical)
		set_defect(c, PC_VERIFY_INVALID_CERT, "basicConstraints of a CA not critical");
	if (c->ku_set && (c->key_usage & KEYUSE_KEY_CERT_SIGN) && !c->is_ca)
		set_defect(c, PC_VERIFY_INVALID_CERT, "keyCertSign without CA:TRUE");
	if (e->has_nc && !c->is_ca)
		set_defect(c, PC_VERIFY_INVALID_CERT, "nameConstraints in a certificate not a CA");
	if (c->is_ca && e->ski == NULL)
		set_defect(c, PC_VERIFY_INVALID_CERT, "a CA without subjectKeyIdentifier");
	if (!c->self_issued && !c->anchor && e->aki_id == NULL)
		set_defect(c, PC_VERIFY_INVALID_CERT, "no authorityKeyIdentifier keyIdentifier");
	if (c->root && (e->aki_issuer_serial ||
			(e->aki_id != NULL && e->ski != NULL &&
			 !same(e->aki_id, e->aki_id_len, e->ski, e->ski_len))))
		set_defect(c, PC_VERIFY_INVALID_CERT,
			   "a self-signed certificate whose authorityKeyIdentifier is not its own");
	if (e->subject_len == 0 && !(e->san != NULL && e->san_critical))
		set_defect(c, PC_VERIFY_INVALID_CERT,
			   "an empty subject without a critical subjectAltName");
	/* RFC 5280 4.2.1.6: critical only when the subject is empty (a
	 * client's names are then in one place only). */
	if (e->subject_len > 0 && e->san != NULL && e->san_critical)
		set_defect(c, PC_VERIFY_INVALID_CERT,
			   "a critical subjectAltName with a non-empty subject");
	if (!same(e->sig_alg, e->sig_alg_len, c->sig_alg, c->sig_alg_len))
		set_defect(c, PC_VERIFY_INVALID_CERT,
			   "a signature algorithm other than the one signed");
}

/* Where a certificate comes from, for cert_parse. */
enum cert_role {
	ROLE_ANCHOR, /* the operator's CA file */
	ROLE_LEAF,   /* the peer's first certificate */
	ROLE_PEER,   /* the peer's other certificates */
};

/* Read c from dc, wolfSSL's whole decoding of der (len bytes), and
 * pc_cert_scan: -1 when it cannot be read. A trust anchor is a root when
 * it is self-issued, as OpenSSL takes its anchors (no
 * X509_V_FLAG_CHECK_SS_SIGNATURE): the operator's trust is configuration,
 * and a start with 100,000 tenant roots does not pay 100,000 signature
 * checks. A self-issued leaf is a root (self-signed, for the reason given)
 * when its signature verifies with its own key; the peer's other
 * certificates are never roots (no check at all: it would be the
 * client's to order, outside the path budget). */
static int cert_read(const DecodedCert *dc, const uint8_t *der, size_t len, struct pc_cert *c,
		     enum cert_role role)
{
	struct pc_der d;
	const uint8_t *p;

	memset(c, 0, sizeof(*c));
	c->defect = PC_VERIFY_OK;
	if (dc->pubKeySize > PC_KEY_MAX || dc->serialSz < 0 ||
	    (size_t)dc->serialSz > sizeof(c->serial))
		return -1;
	c->tbs = der + dc->certBegin;
	c->tbs_len = dc->sigIndex - dc->certBegin;
	c->sig_alg = der + dc->sigIndex;
	p = c->sig_alg;
	if (pc_der_next(&p, der + len, &d) != 0)
		return -1;
	c->sig_alg_len = (size_t)(p - c->sig_alg);
	c->sig = dc->signature;
	c->sig_len = dc->sigLength;
	c->sig_oid = dc->signatureOID;
	c->subject = dc->subjectRaw;
	c->subject_len = (size_t)dc->subjectRawLen;
	c->issuer = dc->issuerRaw;
	c->issuer_len = (size_t)dc->issuerRawLen;
	memcpy(c->key, dc->publicKey, dc->pubKeySize);
	c->key_len = dc->pubKeySize;
	c->key_oid = dc->keyOID;
	/* wolfSSL keeps the dates as TLVs and checks them against the system
	 * clock only when verifying; ours compare with the caller's now. */
	p = dc->beforeDate;
	if (pc_der_next(&p, p + dc->beforeDateLen, &d) != 0 || pc_der_time(&d, &c->not_before) != 0)
		return -1;
	p = dc->afterDate;
	if (pc_der_next(&p, p + dc->afterDateLen, &d) != 0 || pc_der_time(&d, &c->not_after) != 0)
		return -1;
	if (pc_cert_scan(c->tbs, c->tbs_len, &c->ext) != 0)
		return -1;
	memcpy(c->serial, dc->serial, (size_t)dc->serialSz);
	c->serial_len = (size_t)dc->serialSz;
	c->path_len = dc->pathLengthSet ? dc->pathLength : -1;
	c->key_usage = dc->extKeyUsage;
	c->ku_set = dc->extKeyUsageSet;
	c->eku = dc->extExtKeyUsage;
	c->eku_set = dc->extExtKeyUsageSet;
	c->is_ca = dc->isCA;
	c->anchor = role == ROLE_ANCHOR;
	pc_str_copy(c->name, sizeof(c->name), dc->subject);
	c->self_issued = same(c->subject, c->subject_len, c->issuer, c->issuer_len);
	key_rules(c, dc->pkCurveOID);
	c->p256 = c->key_oid == ECDSAk && dc->pkCurveOID == ECC_SECP256R1_OID;
	if (c->self_issued && role != ROLE_PEER)
		c->root = c->anchor || (!c->key_defect && cert_sig_verify(c, c) == 1);
	cert_rules(c);
	return 0;
}

/* Parse der into c with wolfSSL (dc is scratch space) and cert_read. The
 * caller frees dc with wc_FreeDecodedCert even on failure. -1 only when
 * the certificate cannot be read at all; a certificate that breaks a rule
 * parses, with c->defect set. */
static int cert_parse(DecodedCert *dc, const uint8_t *der, size_t len, struct pc_cert *c,
		      enum cert_role role)
{
	int rc;

	wc_InitDecodedCert(dc, der, (word32)len, NULL);
	/* The names are read as DER (subjectRaw, issuerRaw): no OpenSSL-style
	 * name objects (patches/wolfssl/0009). */
	dc->noX509Names = 1;
	if (len > UINT32_MAX)
		return -1;
	/* An unknown critical extension: wolfSSL parses the rest all the
	 * same and says so at the end; pc_cert_scan decides (it knows the
	 * extensions we process, wolfSSL's own set differs). */
	rc = wc_ParseCert(dc, CERT_TYPE, NO_VERIFY, NULL);
	if (rc != 0 && rc != ASN_CRIT_EXT_E)
		return -1;
	return cert_read(dc, der, len, c, role);
}

struct pc_trust *pc_trust_new(void)
{
	return calloc(1, sizeof(struct pc_trust));
}

int pc_trust_add_ca_pem(struct pc_trust *t, const char *pem, size_t len, char *err,
			size_t errlen)
{
	const char *p = pem, *end = pem + len;
	unsigned int n = 0;
	uint8_t *der;
	size_t der_len;
	DecodedCert dc;
	int rc;

	if (t->final) {
		snprintf(err, errlen, "the trust object is finalized");
		return -1;
	}
	/* Parse into the spare room after the committed CAs: on error the
	 * count stays as it was, so nothing is added. */
	while ((rc = pc_pem_next(&p, end, "CERTIFICATE", &der, &der_len)) == 1) {
		if (t->nb_cas + n == t->cap_cas) {
			/* One more at a time: a trust object holds a handful, and a
			 * node may hold 100,000 trust objects. */
			unsigned int ncap = t->cap_cas + 1;
			struct pc_cert *nc = realloc(t->cas, ncap * sizeof(*nc));
			uint8_t **nd = nc ? realloc(t->ca_der, ncap * sizeof(*nd)) : NULL;

			if (nc)
				t->cas = nc;
			if (nd == NULL) {
				free(der);
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			t->ca_der = nd;
			t->cap_cas = ncap;
		}
		struct pc_cert *c = &t->cas[t->nb_cas + n];

		t->ca_der[t->nb_cas + n] = der;
		n++;
		rc = cert_parse(&dc, der, der_len, c, ROLE_ANCHOR);
		wc_FreeDecodedCert(&dc);
		if (rc != 0) {
			snprintf(err, errlen, "certificate %u cannot be parsed", n);
			goto fail;
		}
		if (!c->is_ca || (c->ku_set && !(c->key_usage & KEYUSE_KEY_CERT_SIGN))) {
			snprintf(err, errlen, "certificate %u (%s) is not a CA", n, c->name);
			goto fail;
		}
	}
	if (rc < 0) {
		snprintf(err, errlen, "broken PEM block after certificate %u", n);
		goto fail;
	}
	if (n == 0) {
		snprintf(err, errlen, "no PEM certificate");
		return -1;
	}
	t->nb_cas += n;
	return 0;
fail:
	for (unsigned int i = 0; i < n; i++)
		free(t->ca_der[t->nb_cas + i]);
	return -1;
}

int pc_trust_add_ca_file(struct pc_trust *t, const char *path, char *err, size_t errlen)
{
	char *buf, msg[200];
	size_t len;
	int rc;

	if (pc_read_file(path, &buf, &len, err, errlen) != 0)
		return -1;
	rc = pc_trust_add_ca_pem(t, buf, len, msg, sizeof(msg));
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", path, msg);
	free(buf);
	return rc;
}

/* Where CRL ids come from: 1, 2, ... for the process's life. */
static uint64_t crl_ids;

/* Copy and parse one DER CRL (number nr in its file). */
static int add_crl(struct pc_trust *t, const uint8_t *der, size_t len, unsigned int nr,
		   char *err, size_t errlen)
{
	struct pc_trust_crl *nc = realloc(t->crls, (t->nb_crls + 1) * sizeof(*nc));
	struct pc_trust_crl *c;
	size_t used;

	if (nc == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	t->crls = nc;
	c = &t->crls[t->nb_crls];
	c->signer = NULL;
	c->id = __atomic_add_fetch(&crl_ids, 1, __ATOMIC_RELAXED);
	c->der = malloc(len ? len : 1);
	if (c->der == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(c->der, der, len);
	if (pc_crl_parse(c->der, len, &c->info, &used) != 0 || used != len) {
		free(c->der);
		snprintf(err, errlen, "CRL %u is malformed", nr);
		return -1;
	}
	t->nb_crls++;
	return 0;
}

int pc_trust_add_crl_mem(struct pc_trust *t, const uint8_t *buf, size_t len, char *err,
			 size_t errlen)
{
	unsigned int before = t->nb_crls, nr = 0;
	const char *p = (const char *)buf, *end = p + len;
	struct pc_crl_info info;
	size_t used;
	int rc = 0;

	if (t->final) {
		snprintf(err, errlen, "the trust object is finalized");
		return -1;
	}
	if (memmem(buf, len, "-----BEGIN", 10) != NULL) {
		uint8_t *der;
		size_t der_len;

		while (rc == 0 && (rc = pc_pem_next(&p, end, "X509 CRL", &der, &der_len)) == 1) {
			rc = add_crl(t, der, der_len, ++nr, err, errlen);
			free(der);
		}
		if (rc < 0 && nr == t->nb_crls - before)
			snprintf(err, errlen, "broken PEM block after CRL %u", nr);
	} else {
		/* DER: CRLs one after the other. */
		while (rc == 0 && len > 0) {
			if (pc_crl_parse(buf, len, &info, &used) != 0) {
				snprintf(err, errlen, "CRL %u is malformed", nr + 1);
				rc = -1;
				break;
			}
			rc = add_crl(t, buf, used, ++nr, err, errlen);
			buf += used;
			len -= used;
		}
	}
	if (rc == 0 && t->nb_crls == before) {
		snprintf(err, errlen, "no CRL");
		rc = -1;
	}
	if (rc < 0) {
		while (t->nb_crls > before)
			free(t->crls[--t->nb_crls].der);
		return -1;
	}
	return 0;
}

int pc_trust_add_crl_file(struct pc_trust *t, const char *path, char *err, size_t errlen)
{
	char *buf, msg[200] = "";
	size_t len;
	int rc;

	if (pc_read_file(path, &buf, &len, err, errlen) != 0)
		return -1;
	rc = pc_trust_add_crl_mem(t, (const uint8_t *)buf, len, msg, sizeof(msg));
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", path, msg);
	free(buf);
	return rc;
}

static int trust_digest(struct pc_trust *t);

int pc_trust_finalize(struct pc_trust *t, char *err, size_t errlen)
{
	if (t->nb_cas == 0) {
		snprintf(err, errlen, "no CA certificate");
		return -1;
	}
	for (unsigned int i = 0; i < t->nb_crls; i++) {
		struct pc_trust_crl *c = &t->crls[i];
		bool named = false;

		for (unsigned int j = 0; j < t->nb_cas && c->signer == NULL; j++) {
			const struct pc_cert *ca = &t->cas[j];

			if (!same(ca->subject, ca->subject_len, c->info.issuer, c->info.issuer_len))
				continue;
			named = true;
			if ((!ca->ku_set || (ca->key_usage & KEYUSE_CRL_SIGN)) &&
			    sig_verify(ca, c->info.sig_oid, c->info.sig_alg, c->info.sig_alg_len,
				       c->info.tbs, c->info.tbs_len, c->info.sig,
				       c->info.sig_len) == 1)
				c->signer = ca;
		}
		/* A CRL from an issuer outside the set waits for that issuer
		 * to arrive in a client's chain; one that a CA of the set
		 * names but did not sign is a mistake. */
		if (c->signer == NULL && named) {
			snprintf(err, errlen,
				 "CRL %u: its signature does not verify with its issuer's key (or "
				 "the issuer lacks cRLSign)",
				 i + 1);
			return -1;
		}
	}
	if (trust_digest(t) != 0) {
		snprintf(err, errlen, "SHA-256 failed");
		return -1;
	}
	t->final = true;
	return 0;
}

/* Length-prefixed, so that no two different contents hash alike. */
static int digest_part(wc_Sha256 *h, const uint8_t *b, size_t len)
{
	uint8_t n[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			(uint8_t)len};

	return wc_Sha256Update(h, n, sizeof(n)) || (len > 0 && wc_Sha256Update(h, b, (word32)len));
}

/* What the trust object decides with: each CA's signed part and signature,
 * each CRL's, each denied serial, in the order they were added. */
static int trust_digest(struct pc_trust *t)
{
	wc_Sha256 h;
	int rc = wc_InitSha256(&h);

	for (unsigned int i = 0; rc == 0 && i < t->nb_cas; i++)
		rc = digest_part(&h, t->cas[i].tbs, t->cas[i].tbs_len) ||
		     digest_part(&h, t->cas[i].sig, t->cas[i].sig_len);
	rc = rc || digest_part(&h, NULL, 0);
	for (unsigned int i = 0; rc == 0 && i < t->nb_crls; i++)
		rc = digest_part(&h, t->crls[i].info.tbs, t->crls[i].info.tbs_len) ||
		     digest_part(&h, t->crls[i].info.sig, t->crls[i].info.sig_len);
	rc = rc || digest_part(&h, NULL, 0);
	for (unsigned int i = 0; rc == 0 && i < t->nb_denied; i++)
		rc = digest_part(&h, t->denied[i].b, t->denied[i].len);
	rc = rc || wc_Sha256Final(&h, t->digest);
	wc_Sha256Free(&h);
	return rc;
}

const uint8_t *pc_trust_digest(const struct pc_trust *t)
{
	return t->digest;
}

int pc_verify_policy_digest(const struct pc_verify_policy *p, uint8_t out[PC_TRUST_DIGEST_LEN])
{
	uint8_t fixed[] = {p->max_depth, (uint8_t)p->eku, (uint8_t)(p->min_rsa_bits >> 8),
			   (uint8_t)p->min_rsa_bits};
	wc_Sha256 h;
	int rc = wc_InitSha256(&h) || digest_part(&h, fixed, sizeof(fixed));

	for (unsigned int i = 0; rc == 0 && i < p->nb_allow; i++) {
		uint8_t kind = (uint8_t)p->allow[i].kind;

		rc = digest_part(&h, &kind, 1) ||
		     digest_part(&h, (const uint8_t *)p->allow[i].pattern,
				 strlen(p->allow[i].pattern));
	}
	rc = rc || wc_Sha256Final(&h, out);
	wc_Sha256Free(&h);
	return rc;
}

const char *pc_trust_ca_unusable(const struct pc_trust *t, unsigned int i)
{
	const struct pc_cert *c = &t->cas[i];

	return c->defect == PC_VERIFY_OK ? NULL : c->defect_text;
}

const char *pc_trust_crl_unusable(const struct pc_trust *t, unsigned int i)
{
	return t->crls[i].info.unusable;
}

/* Compare two cRLNumbers (big-endian, no leading zeros). */
static int crl_number_cmp(const struct pc_crl_info *a, const struct pc_crl_info *b)
{
	if (a->number_len != b->number_len)
		return a->number_len < b->number_len ? -1 : 1;
	return memcmp(a->number, b->number, a->number_len);
}

static void hex(char *out, size_t size, const uint8_t *b, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < len && n + 3 <= size; i++)
		n += (size_t)snprintf(out + n, size - n, "%02x", b[i]);
}

/* Same issuer (name, and key when both are known) and same scope
 * (issuingDistributionPoint): cRLNumbers only grow within one (RFC 5280
 * 5.2.3). */
static bool same_crl_series(const struct pc_trust_crl *a, const struct pc_trust_crl *b)
{
	return same(a->info.issuer, a->info.issuer_len, b->info.issuer, b->info.issuer_len) &&
	       (a->signer == NULL || b->signer == NULL ||
		same(a->signer->key, a->signer->key_len, b->signer->key, b->signer->key_len)) &&
	       a->info.only_user == b->info.only_user && a->info.only_ca == b->info.only_ca &&
	       same(a->info.idp_name, a->info.idp_name_len, b->info.idp_name, b->info.idp_name_len);
}

/* The newest CRL of t in crl's series, NULL if none has a number. */
static const struct pc_trust_crl *newest_in_series(const struct pc_trust *t,
						   const struct pc_trust_crl *crl)
{
	const struct pc_trust_crl *best = NULL;

	for (unsigned int i = 0; i < t->nb_crls; i++) {
		const struct pc_trust_crl *c = &t->crls[i];

		if (c->info.number_len > 0 && same_crl_series(c, crl) &&
		    (best == NULL || crl_number_cmp(&c->info, &best->info) > 0))
			best = c;
	}
	return best;
}

bool pc_trust_crl_regressed(const struct pc_trust *cur, const struct pc_trust *next, char *err,
			    size_t errlen)
{
	for (unsigned int i = 0; i < next->nb_crls; i++) {
		const struct pc_trust_crl *n = newest_in_series(next, &next->crls[i]);
		const struct pc_trust_crl *c = n != NULL ? newest_in_series(cur, n) : NULL;
		char was[41], now[41];

		if (c == NULL || crl_number_cmp(&n->info, &c->info) >= 0)
			continue;
		hex(was, sizeof(was), c->info.number, c->info.number_len);
		hex(now, sizeof(now), n->info.number, n->info.number_len);
		snprintf(err, errlen, "CRL %u (%s) has cRLNumber 0x%s, older than the 0x%s in use",
			 (unsigned int)(n - next->crls) + 1,
			 n->signer != NULL ? n->signer->name : "an issuer outside the set", now, was);
		return true;
	}
	return false;
}

int pc_cert_summary(const uint8_t *der, size_t len, char *subject, size_t subject_len,
		    int64_t *not_after, int *key_oid)
{
	DecodedCert dc;
	struct pc_cert c;
	word32 idx = 0;
	int l = 0, rc;

	if (len > UINT32_MAX || GetSequence(der, &idx, &l, (word32)len) < 0)
		return -1;
	rc = cert_parse(&dc, der, idx + (word32)l, &c, ROLE_ANCHOR);
	wc_FreeDecodedCert(&dc);
	if (rc != 0)
		return -1;
	snprintf(subject, subject_len, "%s", c.name);
	*not_after = c.not_after;
	*key_oid = (int)c.key_oid;
	return 0;
}

/* OpenSSL's short names, as HAProxy's PROXY v2 SSL sub-TLVs carry them. */
static const char *sig_alg_name(uint32_t oid)
{
	switch (oid) {
	case CTC_SHAwECDSA: return "ecdsa-with-SHA1";
	case CTC_SHA224wECDSA: return "ecdsa-with-SHA224";
	case CTC_SHA256wECDSA: return "ecdsa-with-SHA256";
	case CTC_SHA384wECDSA: return "ecdsa-with-SHA384";
	case CTC_SHA512wECDSA: return "ecdsa-with-SHA512";
	case CTC_SHAwRSA: return "RSA-SHA1";
	case CTC_SHA224wRSA: return "RSA-SHA224";
	case CTC_SHA256wRSA: return "RSA-SHA256";
	case CTC_SHA384wRSA: return "RSA-SHA384";
	case CTC_SHA512wRSA: return "RSA-SHA512";
	case CTC_RSASSAPSS: return "RSASSA-PSS";
	case CTC_ED25519: return "ED25519";
	case CTC_ED448: return "ED448";
	default: return "unknown";
	}
}

int pc_cert_algs(const uint8_t *der, size_t len, char *sig_alg, size_t sig_alg_len,
		 char *key_alg, size_t key_alg_len)
{
	DecodedCert dc;
	struct pc_cert c;
	word32 idx = 0;
	int l = 0, rc, bits = 0;

	if (len > UINT32_MAX || GetSequence(der, &idx, &l, (word32)len) < 0)
		return -1;
	rc = cert_parse(&dc, der, idx + (word32)l, &c, ROLE_ANCHOR);
	if (rc == 0 && c.key_oid == ECDSAk) {
		int id = wc_ecc_get_oid(dc.pkCurveOID, NULL, NULL);

		bits = id >= 0 ? wc_ecc_get_curve_size_from_id(id) * 8 : 0;
		/* P-521's 66 bytes */
		bits = bits == 528 ? 521 : bits;
	}
	wc_FreeDecodedCert(&dc);
	if (rc != 0)
		return -1;
	snprintf(sig_alg, sig_alg_len, "%s", sig_alg_name(c.sig_oid));
	if (c.key_oid == RSAk)
		snprintf(key_alg, key_alg_len, "RSA%u", c.rsa_bits);
	else if (c.key_oid == ECDSAk)
		snprintf(key_alg, key_alg_len, "EC%d", bits);
	else if (c.key_oid == ED25519k)
		snprintf(key_alg, key_alg_len, "ED25519");
	else
		snprintf(key_alg, key_alg_len, "unknown");
	return 0;
}

int pc_serial_normalize(const char *hex, char out[41])
{
	size_t len;

	while (hex[0] == '0' && hex[1] != '\0')
		hex++;
	len = strlen(hex);
	if (len == 0 || len > 40 || strspn(hex, "0123456789abcdefABCDEF") != len)
		return -1;
	for (size_t i = 0; i <= len; i++)
		out[i] = (char)tolower((unsigned char)hex[i]);
	return 0;
}

int pc_trust_revoke_serial(struct pc_trust *t, const char *hex, char *err, size_t errlen)
{
	char norm[41];
	struct pc_serial s = {0}, *n;
	size_t len;

	if (pc_serial_normalize(hex, norm) != 0) {
		snprintf(err, errlen, "serial '%s' is not 1 to 40 hex digits", hex);
		return -1;
	}
	/* An odd number of digits has an implicit leading 0. */
	len = strlen(norm);
	s.len = (uint8_t)((len + 1) / 2);
	for (size_t i = 0; i < len; i++) {
		unsigned int d = (unsigned int)(isdigit((unsigned char)norm[len - 1 - i])
							  ? norm[len - 1 - i] - '0'
							  : norm[len - 1 - i] - 'a' + 10);

		s.b[s.len - 1 - i / 2] |= (uint8_t)(i % 2 ? d << 4 : d);
	}
	n = realloc(t->denied, (t->nb_denied + 1) * sizeof(*n));
	if (n == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	t->denied = n;
	t->denied[t->nb_denied++] = s;
	return 0;
}

unsigned int pc_trust_nb_denied(const struct pc_trust *t)
{
	return t->nb_denied;
}

void pc_trust_ca_info(const struct pc_trust *t, unsigned int i, char *subject, size_t len,
		      int64_t *not_after)
{
	snprintf(subject, len, "%s", t->cas[i].name);
	*not_after = t->cas[i].not_after;
}

void pc_trust_crl_info(const struct pc_trust *t, unsigned int i, char *issuer, size_t len,
		       int64_t *next_update)
{
	snprintf(issuer, len, "%s",
		 t->crls[i].signer != NULL ? t->crls[i].signer->name
					   : "(an intermediate outside the CA set)");
	*next_update = t->crls[i].info.next_update;
}

unsigned int pc_trust_nb_cas(const struct pc_trust *t)
{
	return t->nb_cas;
}

unsigned int pc_trust_nb_crls(const struct pc_trust *t)
{
	return t->nb_crls;
}

void pc_trust_free(struct pc_trust *t)
{
	if (t == NULL)
		return;
	for (unsigned int i = 0; i < t->nb_cas; i++) {
		uint8_t *tab = atomic_load_explicit(&t->cas[i].key_table, memory_order_acquire);

		if (tab != NULL) {
			free(tab);
			atomic_fetch_sub_explicit(&key_tables_live, 1, memory_order_relaxed);
		}
		free(t->ca_der[i]);
	}
	for (unsigned int i = 0; i < t->nb_crls; i++)
		free(t->crls[i].der);
	free(t->cas);
	free(t->ca_der);
	free(t->crls);
	free(t->denied);
	free(t);
}

/* Limits of one verification (pc_verify.h says why). */
#define PC_VERIFY_MAX_SIG_CHECKS 32
#define PC_VERIFY_MAX_NC_CHECKS 65536

/* A signature check done while building paths, kept so that trying a
 * second path through the same certificates does not pay it again. */
struct sig_memo {
	const struct pc_cert *issuer, *c;
	int rc;
};

/* Everything one verification works on: the peer's certificates parsed,
 * the path being built (pointers to peer or trust certificates), the
 * signature checks done, and the failure to report if no path verifies:
 * that of the first complete path, else the deepest place where building
 * stopped. */
struct pc_chain {
	struct pc_cert peer[PC_VERIFY_MAX_PEER];
	unsigned int nb_peer;
	const struct pc_cert *c[PC_VERIFY_MAX_DEPTH + 2];
	unsigned int len;
	struct sig_memo memo[PC_VERIFY_MAX_SIG_CHECKS];
	unsigned int nb_memo;
	bool complete;  /* a complete path failed, or one was cut at the length
			 * limit: no partial chain then */
	bool exhausted; /* out of signature checks: stop */
	bool fail_complete;
	enum pc_verify_reason fail;
	int fail_depth;
	const char *fail_detail;
};

static bool in_chain(const struct pc_chain *ch, const struct pc_cert *c)
{
	for (unsigned int i = 0; i < ch->len; i++)
		if (ch->c[i] == c)
			return true;
	return false;
}

static void note_failure(struct pc_chain *ch, enum pc_verify_reason r, int depth, bool complete,
			 const char *detail)
{
	if (ch->fail_complete)
		return;
	/* Out of budget: the search is unfinished, whatever it met so far. */
	if (complete || r == PC_VERIFY_TOO_COMPLEX || ch->fail == PC_VERIFY_OK ||
	    depth > ch->fail_depth) {
		ch->fail = r;
		ch->fail_depth = depth;
		ch->fail_complete = complete;
		ch->fail_detail = detail;
	}
}

/* cert_sig_verify through the memo: 1, 0, -1 as it, -2 out of budget. */
static int memo_sig(struct pc_chain *ch, const struct pc_cert *issuer, const struct pc_cert *c)
{
	int rc;

	for (unsigned int i = 0; i < ch->nb_memo; i++)
		if (ch->memo[i].issuer == issuer && ch->memo[i].c == c)
			return ch->memo[i].rc;
	if (ch->nb_memo == PC_VERIFY_MAX_SIG_CHECKS)
		return -2;
	rc = cert_sig_verify(issuer, c);
	ch->memo[ch->nb_memo++] = (struct sig_memo){issuer, c, rc};
	return rc;
}

/* How well a candidate's subjectKeyIdentifier fits the child's
 * authorityKeyIdentifier: 0 equal, 1 one of them absent, 2 different. */
static int key_id_fit(const struct pc_cert *cand, const struct pc_cert *child)
{
	if (cand->ext.ski == NULL || child->ext.aki_id == NULL)
		return 1;
	return same(cand->ext.ski, cand->ext.ski_len, child->ext.aki_id, child->ext.aki_id_len)
		       ? 0
		       : 2;
}

/* The leaf's names the allowlist looks at. */
#define PC_VERIFY_MAX_NAMES 256
struct leaf_names {
	const char *v[PC_VERIFY_MAX_NAMES];
	enum pc_identity_kind kind[PC_VERIFY_MAX_NAMES];
	unsigned int n;
	char cn[PC_ID_PATTERN_MAX];
	char ip[8][INET6_ADDRSTRLEN];
	unsigned int nb_ip;
};

static void add_names(struct leaf_names *ln, const DNS_entry *e, int type,
		      enum pc_identity_kind kind)
{
	/* wolfSSL lists them last first: collect, then reverse. */
	unsigned int first = ln->n;

	for (; e != NULL && ln->n < PC_VERIFY_MAX_NAMES; e = e->next) {
		/* A name with a NUL inside could pass for a shorter one; a DNS
		 * name out of the preferred syntax (an underscore, an empty
		 * label) names no host (RFC 5280 4.2.1.6). */
		if (e->type == type && e->len >= 0 && strlen(e->name) == (size_t)e->len &&
		    (kind != PC_ID_DNS || pc_dns_name_valid(e->name, (size_t)e->len, true))) {
			ln->v[ln->n] = e->name;
			ln->kind[ln->n++] = kind;
		}
	}
	for (unsigned int i = first, j = ln->n; i + 1 < j; i++, j--) {
		const char *v = ln->v[i];

		ln->v[i] = ln->v[j - 1];
		ln->v[j - 1] = v;
	}
}

static void add_ip(void *arg, const uint8_t *ip, size_t len)
{
	struct leaf_names *ln = arg;

	if (ln->nb_ip == sizeof(ln->ip) / sizeof(ln->ip[0]) || ln->n == PC_VERIFY_MAX_NAMES ||
	    inet_ntop(len == 4 ? AF_INET : AF_INET6, ip, ln->ip[ln->nb_ip],
		      sizeof(ln->ip[0])) == NULL)
		return;
	ln->v[ln->n] = ln->ip[ln->nb_ip++];
	ln->kind[ln->n++] = PC_ID_IP;
}

static void leaf_names(const DecodedCert *dc, const struct pc_cert *leaf, struct leaf_names *ln)
{
	ln->n = 0;
	ln->nb_ip = 0;
	add_names(ln, dc->altNames, ASN_URI_TYPE, PC_ID_URI);
	add_names(ln, dc->altNames, ASN_DNS_TYPE, PC_ID_DNS);
	add_names(ln, dc->altEmailNames, ASN_RFC822_TYPE, PC_ID_EMAIL);
	pc_cert_ip_names(&leaf->ext, add_ip, ln);
	if (dc->subjectCN != NULL && dc->subjectCNLen > 0 &&
	    (size_t)dc->subjectCNLen < sizeof(ln->cn) && ln->n < PC_VERIFY_MAX_NAMES &&
	    memchr(dc->subjectCN, '\0', (size_t)dc->subjectCNLen) == NULL) {
		memcpy(ln->cn, dc->subjectCN, (size_t)dc->subjectCNLen);
		ln->cn[dc->subjectCNLen] = '\0';
		ln->v[ln->n] = ln->cn;
		ln->kind[ln->n++] = PC_ID_CN;
	}
}

static void fill_result(const DecodedCert *dc, const struct leaf_names *ln,
			struct pc_verify_result *out)
{
	static const char hex[] = "0123456789abcdef";
	int b;

	pc_str_copy(out->subject, sizeof(out->subject), dc->subject);
	pc_str_copy(out->issuer, sizeof(out->issuer), dc->issuer);
	for (b = 0; b < dc->serialSz && b < (int)(sizeof(out->serial) - 1) / 2; b++) {
		out->serial[2 * b] = hex[dc->serial[b] >> 4];
		out->serial[2 * b + 1] = hex[dc->serial[b] & 15];
	}
	out->serial[2 * b] = '\0';
	/* First URI, else DNS, else IP, else CN: the order leaf_names
	 * collects them. */
	for (unsigned int i = 0; i < ln->n; i++) {
		if (ln->kind[i] != PC_ID_EMAIL) {
			pc_str_copy(out->identity, sizeof(out->identity), ln->v[i]);
			break;
		}
	}
}

static bool identity_allowed(const struct pc_verify_policy *pol, const struct leaf_names *ln,
			     struct pc_verify_result *out)
{
	if (pol->nb_allow == 0)
		return true;
	for (unsigned int a = 0; a < pol->nb_allow && a < PC_VERIFY_MAX_ALLOW; a++) {
		for (unsigned int i = 0; i < ln->n; i++) {
			if (ln->kind[i] == pol->allow[a].kind &&
			    pc_identity_match(&pol->allow[a], ln->v[i])) {
				pc_str_copy(out->identity, sizeof(out->identity), ln->v[i]);
				return true;
			}
		}
	}
	return false;
}

/* The scratch space of one verification, on the caller's stack, and its
 * arguments. */
struct verify_ctx {
	struct pc_chain ch;
	DecodedCert own_leaf, dc;
	const DecodedCert *leaf; /* own_leaf, or wolfSSL's decoding */
	struct leaf_names names;
	const struct pc_trust *t;
	const struct pc_verify_policy *pol;
	int64_t now;
	struct pc_verify_result *out;
};

static enum pc_verify_reason check_path(struct verify_ctx *v, int *depth, const char **detail);

/* Extend the path from its top to a trust anchor, depth first: the
 * candidates for each issuer are ordered by key identifier (matching,
 * unknown, different), then by where they come from (the trust's roots,
 * its other certificates, the peer's: a peer's certificate is never an
 * anchor), each tried once per path (no loops). A path ends at a
 * self-signed anchor or, with partial, at any anchor (a CA-file
 * certificate without its root, as OpenSSL's partial chains); then every
 * check runs, and a path that fails them gives way to the next. true
 * when a path verified. */
static bool extend(struct verify_ctx *v, bool partial)
{
	struct pc_chain *ch = &v->ch;
	const struct pc_trust *t = v->t;
	const struct pc_cert *top = ch->c[ch->len - 1];
	bool named = false, bad_sig = false, unsupported = false;
	const char *detail;
	enum pc_verify_reason r;
	int depth;

	if (top->anchor && (top->root || partial)) {
		ch->complete = true;
		r = check_path(v, &depth, &detail);
		if (r == PC_VERIFY_OK)
			return true;
		note_failure(ch, r, depth, true, detail);
		return false;
	}
	if (ch->len == PC_VERIFY_MAX_DEPTH + 2) {
		/* This path might have gone on to a root: no partial chain may
		 * stand in for it (it would skip that root's checks). */
		ch->complete = true;
		note_failure(ch, PC_VERIFY_CHAIN_TOO_LONG, (int)ch->len - 1, false, NULL);
		return false;
	}
	for (int fit = 0; fit < 3; fit++) {
		for (unsigned int pass = 0; pass < 3; pass++) {
			unsigned int nb = pass < 2 ? t->nb_cas : ch->nb_peer;

			for (unsigned int i = 0; i < nb; i++) {
				const struct pc_cert *c = pass < 2 ? &t->cas[i] : &ch->peer[i];
				int rc;

				if ((pass == 0) != c->root ||
				    !same(c->subject, c->subject_len, top->issuer, top->issuer_len) ||
				    key_id_fit(c, top) != fit || in_chain(ch, c))
					continue;
				named = true;
				/* A key we refuse is not worth a signature check (a huge
				 * RSA exponent makes each one slow). */
				if (c->key_defect) {
					note_failure(ch, c->defect, (int)ch->len, false,
						     c->defect_text);
					continue;
				}
				rc = memo_sig(ch, c, top);
				if (rc == -2) {
					ch->exhausted = true;
					note_failure(ch, PC_VERIFY_TOO_COMPLEX, (int)ch->len - 1,
						     false, "more than 32 signature checks");
					return false;
				}
				bad_sig |= rc == 0;
				unsupported |= rc == -1;
				if (rc != 1)
					continue;
				ch->c[ch->len++] = c;
				if (extend(v, partial))
					return true;
				ch->len--;
				if (ch->exhausted)
					return false;
			}
		}
	}
	if (unsupported)
		r = PC_VERIFY_UNSUPPORTED;
	else if (bad_sig)
		r = PC_VERIFY_BAD_SIGNATURE;
	else if (named)
		return false; /* each issuer led to a failure noted deeper */
	else
		r = ch->len == 1 && top->root ? PC_VERIFY_SELF_SIGNED : PC_VERIFY_UNKNOWN_CA;
	note_failure(ch, r, (int)ch->len - 1, false, NULL);
	return false;
}

/* Certificates between the leaf (excluded) and position i (excluded)
 * that count against a length limit: self-issued ones do not (RFC 5280
 * 6.1.4 (l): a CA's key rollover adds no CA to the path). */
static int counted_between(const struct pc_chain *ch, unsigned int i)
{
	int n = 0;

	for (unsigned int j = 1; j < i; j++)
		n += !ch->c[j]->self_issued;
	return n;
}

/* The checks of a built path that need nothing but its certificates and
 * the policy: each certificate's own defects, validity, key sizes, CA
 * flags, pathLen, depth, the leaf's keyUsage and role, name constraints,
 * and extendedKeyUsage on the leaf and every CA above it (a CA whose
 * purposes lack the one asked for cannot issue for it: OpenSSL's
 * purpose check, Go's EKU nesting). */
static enum pc_verify_reason check_chain(const struct pc_chain *ch,
					 const struct pc_verify_policy *pol, int64_t now, int *depth,
					 const char **detail)
{
	unsigned int nc_budget = PC_VERIFY_MAX_NC_CHECKS;
	unsigned int i;

	for (i = 0; i < ch->len; i++) {
		*depth = (int)i;
		if (ch->c[i]->defect != PC_VERIFY_OK) {
			*detail = ch->c[i]->defect_text;
			return ch->c[i]->defect;
		}
	}
	for (i = 0; i < ch->len; i++) {
		*depth = (int)i;
		if (now < ch->c[i]->not_before)
			return PC_VERIFY_NOT_YET_VALID;
		if (now > ch->c[i]->not_after)
			return PC_VERIFY_EXPIRED;
	}
	for (i = 0; i < ch->len; i++) {
		*depth = (int)i;
		if (ch->c[i]->rsa_bits != 0 && ch->c[i]->rsa_bits < pol->min_rsa_bits) {
			*detail = "an RSA key under the minimum size";
			return PC_VERIFY_WEAK_KEY;
		}
	}
	for (i = 1; i < ch->len; i++) {
		const struct pc_cert *c = ch->c[i];

		*depth = (int)i;
		if (!c->is_ca || (c->ku_set && !(c->key_usage & KEYUSE_KEY_CERT_SIGN)))
			return PC_VERIFY_NOT_CA;
	}
	/* pathLenConstraint counts the CA certificates below this one, not
	 * the leaf (RFC 5280 4.2.1.9). */
	for (i = 2; i < ch->len; i++) {
		*depth = (int)i;
		if (ch->c[i]->path_len >= 0 && counted_between(ch, i) > ch->c[i]->path_len)
			return PC_VERIFY_PATH_LEN;
	}
	/* Intermediates between the leaf and the anchor, as OpenSSL counts. */
	if (counted_between(ch, ch->len - 1) > pol->max_depth) {
		*depth = pol->max_depth + 1;
		return PC_VERIFY_CHAIN_TOO_LONG;
	}
	*depth = 0;
	if (ch->c[0]->ku_set && !(ch->c[0]->key_usage & KEYUSE_DIGITAL_SIG))
		return PC_VERIFY_KEY_USAGE;
	/* A client is an end entity: a CA certificate (rfc5280 allows one as
	 * a leaf) is not an identity. */
	if (ch->c[0]->is_ca) {
		*detail = "a CA certificate as a client's";
		return PC_VERIFY_INVALID_CERT;
	}
	/* Name constraints of every CA, on the certificates below it but
	 * the self-issued intermediates (RFC 5280 6.1.3 (b), (c)). */
	for (unsigned int j = 1; j < ch->len; j++) {
		if (!ch->c[j]->ext.has_nc)
			continue;
		for (i = 0; i < j; i++) {
			enum pc_verify_reason r;

			if (i > 0 && ch->c[i]->self_issued)
				continue;
			*depth = (int)i;
			r = pc_nc_check(&ch->c[j]->ext, &ch->c[i]->ext, i == 0, &nc_budget);
			if (r == PC_VERIFY_TOO_COMPLEX)
				*detail = "more than 65,536 name-constraint comparisons";
			if (r != PC_VERIFY_OK)
				return r;
		}
	}
	/* anyExtendedKeyUsage lets a CA issue for any purpose; a leaf that
	 * claims every purpose was not issued for this one and is refused
	 * (rustls-webpki; CA/B Forum 7.1.2.7.10 forbids it in leaves). */
	if (pol->eku != PC_VERIFY_EKU_ANY) {
		uint8_t want = EXTKEYUSE_ANY | (pol->eku == PC_VERIFY_EKU_CLIENT
							? EXTKEYUSE_CLIENT_AUTH
							: EXTKEYUSE_SERVER_AUTH);

		for (i = 0; i < ch->len; i++) {
			*depth = (int)i;
			if (ch->c[i]->eku_set &&
			    (!(ch->c[i]->eku & want) ||
			     (i == 0 && (ch->c[i]->eku & EXTKEYUSE_ANY))))
				return PC_VERIFY_EKU;
		}
	}
	*depth = 0;
	return PC_VERIFY_OK;
}

/* No certificate below the anchor may be on the operator's deny list. */
static enum pc_verify_reason check_denied(const struct pc_trust *t, const struct pc_chain *ch,
					  int *depth)
{
	for (unsigned int i = 0; i + 1 < ch->len; i++) {
		const uint8_t *s = ch->c[i]->serial;
		size_t len = ch->c[i]->serial_len;

		pc_der_strip_zeros(&s, &len);
		for (unsigned int k = 0; k < t->nb_denied; k++)
			if (t->denied[k].len == len && memcmp(t->denied[k].b, s, len) == 0) {
				*depth = (int)i;
				return PC_VERIFY_REVOKED;
			}
	}
	return PC_VERIFY_OK;
}

/* Signature checks of CRLs whose issuer is not in the CA set, per worker
 * thread: one per CRL and issuer key, not one per handshake. CRL ids are
 * never reused, so an entry cannot outlive its CRL's meaning. */
#define CRL_CACHE_SIZE 16
struct crl_cache_entry {
	uint64_t crl_id; /* 0: empty */
	size_t key_len;
	uint8_t key[PC_KEY_MAX];
	bool ok;
};
static __thread struct crl_cache_entry crl_cache[CRL_CACHE_SIZE];
static __thread unsigned int crl_cache_next;

static bool crl_signed_by(const struct pc_trust_crl *crl, const struct pc_cert *iss)
{
	struct crl_cache_entry *e;

	if (iss->ku_set && !(iss->key_usage & KEYUSE_CRL_SIGN))
		return false;
	for (unsigned int i = 0; i < CRL_CACHE_SIZE; i++) {
		e = &crl_cache[i];
		if (e->crl_id == crl->id && same(e->key, e->key_len, iss->key, iss->key_len))
			return e->ok;
	}
	e = &crl_cache[crl_cache_next++ % CRL_CACHE_SIZE];
	e->ok = sig_verify(iss, crl->info.sig_oid, crl->info.sig_alg, crl->info.sig_alg_len,
			   crl->info.tbs, crl->info.tbs_len, crl->info.sig, crl->info.sig_len) == 1;
	e->crl_id = crl->id;
	memcpy(e->key, iss->key, iss->key_len);
	e->key_len = iss->key_len;
	return e->ok;
}

/* Does a CRL with an issuingDistributionPoint name cover c? When c names
 * the same distribution point (the DistributionPointName octet for
 * octet) in its cRLDistributionPoints (RFC 5280 6.3.3 (b)(2)(i)). */
static bool crl_dp_covers(const struct pc_crl_info *crl, const struct pc_cert_ext *c)
{
	const uint8_t *p = c->crldp;
	struct pc_der list, dp, name;

	if (p == NULL || pc_der_next(&p, c->crldp + c->crldp_len, &list) != 0 ||
	    list.tag != DER_SEQUENCE)
		return false;
	for (p = list.val; p < list.val + list.len;) {
		const uint8_t *q, *start;

		if (pc_der_next(&p, list.val + list.len, &dp) != 0 || dp.tag != 0x30)
			return false;
		q = start = dp.val;
		if (pc_der_next(&q, dp.val + dp.len, &name) == 0 && name.tag == 0xa0 &&
		    same(start, (size_t)(q - start), crl->idp_name, crl->idp_name_len))
			return true;
	}
	return false;
}

/* Every certificate below the anchor must be covered by a current, usable
 * CRL from its issuer (same name, signed by the issuer in this chain: a
 * CA of the set with the same key, or checked against the chain's issuer
 * when the CRL's issuer is not in the set), and not be on it. */
static enum pc_verify_reason check_crls(const struct pc_trust *t, const struct pc_chain *ch,
					int64_t now, int *depth)
{
	for (unsigned int i = 0; i + 1 < ch->len; i++) {
		const struct pc_cert *c = ch->c[i], *iss = ch->c[i + 1];
		bool found = false, current = false;

		*depth = (int)i;
		for (unsigned int k = 0; k < t->nb_crls; k++) {
			const struct pc_trust_crl *crl = &t->crls[k];
			const struct pc_crl_info *info = &crl->info;

			if (!same(info->issuer, info->issuer_len, iss->subject, iss->subject_len) ||
			    info->unusable != NULL || (info->only_user && c->is_ca) ||
			    (info->only_ca && !c->is_ca) ||
			    (info->idp_name != NULL && !crl_dp_covers(info, &c->ext)))
				continue;
			if (crl->signer != NULL ? !same(crl->signer->key, crl->signer->key_len,
							 iss->key, iss->key_len)
						: !crl_signed_by(crl, iss))
				continue;
			found = true;
			if (now < info->this_update || now > info->next_update)
				continue;
			current = true;
			if (pc_crl_lists(info, c->serial, c->serial_len))
				return PC_VERIFY_REVOKED;
		}
		if (!found)
			return PC_VERIFY_CRL_MISSING;
		if (!current)
			return PC_VERIFY_CRL_EXPIRED;
	}
	return PC_VERIFY_OK;
}

/* A leaf with DNS or IP names whose CN is an address in any of its
 * written forms (IPv6; IPv4 dotted, with leading zeros, or in hex as
 * inet_aton reads them) must give one of its iPAddress names in RFC 5952
 * / dotted-decimal form (CA/B Forum BR 7.1.4.3): otherwise a cn:
 * allowlist entry and an ip: one would read two different addresses.
 * (A CN that is a host name is not held to the DNS names: RFC 5280 does
 * not ask it, and many client PKIs put a device's name there.) */
static bool cn_consistent(const struct leaf_names *ln)
{
	const char *cn = NULL;
	bool hosts = false;
	struct in_addr a4;
	struct in6_addr a6;

	for (unsigned int i = 0; i < ln->n; i++) {
		if (ln->kind[i] == PC_ID_CN)
			cn = ln->v[i];
		hosts |= ln->kind[i] == PC_ID_DNS || ln->kind[i] == PC_ID_IP;
	}
	if (cn == NULL || !hosts)
		return true;
	/* inet_aton also takes a bare number ("12345"): a device serial, not
	 * an address, unless dotted or in hex. */
	if (inet_pton(AF_INET6, cn, &a6) != 1 &&
	    (inet_aton(cn, &a4) == 0 ||
	     (strchr(cn, '.') == NULL && strncasecmp(cn, "0x", 2) != 0)))
		return true;
	for (unsigned int i = 0; i < ln->n; i++)
		if (ln->kind[i] == PC_ID_IP && strcmp(ln->v[i], cn) == 0)
			return true;
	return false;
}

/* Every check of a complete path, in the order pc_verify_chain names. */
static enum pc_verify_reason check_path(struct verify_ctx *v, int *depth, const char **detail)
{
	const struct pc_chain *ch = &v->ch;
	enum pc_verify_reason r;

	*detail = NULL;
	r = check_chain(ch, v->pol, v->now, depth, detail);
	if (r != PC_VERIFY_OK)
		return r;
	if (v->t->nb_denied > 0 && (r = check_denied(v->t, ch, depth)) != PC_VERIFY_OK)
		return r;
	if (v->t->nb_crls > 0 && (r = check_crls(v->t, ch, v->now, depth)) != PC_VERIFY_OK)
		return r;
	*depth = 0;
	if (!cn_consistent(&v->names)) {
		*detail = "a common name written as an address that is not one of its IP names";
		return PC_VERIFY_INVALID_CERT;
	}
	if (!identity_allowed(v->pol, &v->names, v->out))
		return PC_VERIFY_IDENTITY;
	return PC_VERIFY_OK;
}

/* Until when the verdict on a verified path holds: its certificates'
 * notAfter, and for the CRLs, the next time one of them could decide
 * otherwise (a current CRL's nextUpdate, a future one's thisUpdate). */
static int64_t valid_until(const struct pc_trust *t, const struct pc_chain *ch, int64_t now)
{
	int64_t until = INT64_MAX;

	for (unsigned int i = 0; i < ch->len; i++)
		if (ch->c[i]->not_after < until)
			until = ch->c[i]->not_after;
	for (unsigned int k = 0; k < t->nb_crls; k++) {
		const struct pc_crl_info *info = &t->crls[k].info;

		int64_t next = now < info->this_update ? info->this_update : info->next_update;

		if (next >= now && next < until)
			until = next;
	}
	return until;
}

static enum pc_verify_reason verify(struct verify_ctx *v, const uint8_t *const *der,
				    const uint32_t *der_len, unsigned int n)
{
	struct pc_chain *ch = &v->ch;
	struct pc_verify_result *out = v->out;
	int rc;

	out->depth = 0;
	if (v->leaf != NULL) {
		rc = cert_read(v->leaf, der[0], der_len[0], &ch->peer[0], ROLE_LEAF);
	} else {
		v->leaf = &v->own_leaf;
		rc = cert_parse(&v->own_leaf, der[0], der_len[0], &ch->peer[0], ROLE_LEAF);
	}
	if (rc != 0)
		return PC_VERIFY_MALFORMED;
	leaf_names(v->leaf, &ch->peer[0], &v->names);
	fill_result(v->leaf, &v->names, out);
	ch->nb_peer = n < PC_VERIFY_MAX_PEER ? n : PC_VERIFY_MAX_PEER;
	for (unsigned int i = 1; i < ch->nb_peer; i++) {
		rc = cert_parse(&v->dc, der[i], der_len[i], &ch->peer[i], ROLE_PEER);
		wc_FreeDecodedCert(&v->dc);
		if (rc != 0) {
			out->depth = (int)i;
			return PC_VERIFY_MALFORMED;
		}
	}
	ch->c[0] = &ch->peer[0];
	ch->len = 1;
	ch->nb_memo = 0;
	ch->complete = ch->exhausted = ch->fail_complete = false;
	ch->fail = PC_VERIFY_OK;
	ch->fail_depth = 0;
	ch->fail_detail = NULL;
	/* Paths to a self-signed root first; only when there is none at all,
	 * paths that end at an anchor without its root. */
	if (extend(v, false) ||
	    (!ch->complete && !ch->exhausted && (ch->len = 1, extend(v, true)))) {
		out->depth = -1;
		out->chain_len = ch->len;
		out->valid_until = valid_until(v->t, ch, v->now);
		return PC_VERIFY_OK;
	}
	out->depth = ch->fail_depth;
	out->detail = ch->fail_detail;
	return ch->fail;
}

enum pc_verify_reason pc_verify_chain_decoded(const struct pc_trust *t,
					      const struct pc_verify_policy *pol,
					      const struct DecodedCert *leaf,
					      const uint8_t *const *der, const uint32_t *der_len,
					      unsigned int n, int64_t now,
					      struct pc_verify_result *out)
{
	struct verify_ctx v;

	memset(out, 0, sizeof(*out));
	out->depth = -1;
	if (n == 0)
		return out->reason = PC_VERIFY_NO_CERT;
	if (!t->final)
		return out->reason = PC_VERIFY_UNKNOWN_CA;
	v.t = t;
	v.pol = pol;
	v.now = now;
	v.out = out;
	/* Only a decoding of this very buffer stands for the leaf. */
	v.leaf = leaf != NULL && leaf->source == der[0] && leaf->maxIdx == der_len[0] ? leaf
										 : NULL;
	out->reason = verify(&v, der, der_len, n);
	if (v.leaf == &v.own_leaf)
		wc_FreeDecodedCert(&v.own_leaf);
	return out->reason;
}

enum pc_verify_reason pc_verify_chain(const struct pc_trust *t,
				      const struct pc_verify_policy *pol,
				      const uint8_t *const *der, const uint32_t *der_len,
				      unsigned int n, int64_t now, struct pc_verify_result *out)
{
	return pc_verify_chain_decoded(t, pol, NULL, der, der_len, n, now, out);
}
