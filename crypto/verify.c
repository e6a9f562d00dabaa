/* SPDX-License-Identifier: MIT */
/*
 * Client-certificate verification (pc_verify.h). wolfSSL parses the
 * certificates (wc_ParseCert with NO_VERIFY: no CertManager, no clock) and
 * wolfCrypt checks signatures; the chain building and every policy check
 * are ours, so that a trust object never learns an intermediate (wolfSSL's
 * CertManager would keep the ones it verified, leaking trust between
 * tenants) and verification is a pure function of its arguments.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/rsa.h>
#include <wolfssl/wolfcrypt/signature.h>

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
}

/* An SPKI as wolfSSL's DecodedCert holds it; RSA-4096 fits. */
#define PC_KEY_MAX 600

/* What the checks need from one certificate: parsed once (CA certificates
 * when the trust object is built, the peer's per handshake). The DER stays
 * where it was (pointers into it). */
struct pc_cert {
	const uint8_t *tbs, *sig, *subject, *issuer;
	size_t tbs_len, sig_len, subject_len, issuer_len;
	uint32_t sig_oid, key_oid;
	uint8_t key[PC_KEY_MAX];
	size_t key_len;
	int64_t not_before, not_after;
	uint8_t serial[EXTERNAL_SERIAL_SIZE];
	size_t serial_len;
	int path_len; /* -1: no pathLenConstraint */
	uint16_t key_usage;
	bool ku_set, is_ca, root; /* root: self-issued and self-signed */
	char name[WC_ASN_NAME_MAX];
};

/* A serial number without its leading zero bytes. */
struct pc_serial {
	uint8_t len;
	uint8_t b[20];
};

struct pc_trust_crl {
	uint8_t *der;
	struct pc_crl_info info;
	const struct pc_cert *signer; /* set by pc_trust_finalize */
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
};

static bool same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* Does sig over tbs verify with key? 1 yes, 0 no, -1 unsupported algorithm
 * or key. */
static int sig_verify(const struct pc_cert *key, uint32_t sig_oid, const uint8_t *tbs,
		      size_t tbs_len, const uint8_t *sig, size_t sig_len)
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
		if (wc_EccPublicKeyDecode(key->key, &idx, &k, (word32)key->key_len) == 0)
			rc = wc_SignatureVerify(algs[i].hash, WC_SIGNATURE_TYPE_ECC, tbs,
						(word32)tbs_len, sig, (word32)sig_len, &k,
						sizeof(k)) == 0;
		wc_ecc_free(&k);
	} else if (key->key_oid == RSAk) {
		RsaKey k;

		if (wc_InitRsaKey(&k, NULL) != 0)
			return -1;
		if (wc_RsaPublicKeyDecode(key->key, &idx, &k, (word32)key->key_len) == 0)
			rc = wc_SignatureVerify(algs[i].hash, WC_SIGNATURE_TYPE_RSA_W_ENC, tbs,
						(word32)tbs_len, sig, (word32)sig_len, &k,
						sizeof(k)) == 0;
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
	return sig_verify(issuer, c->sig_oid, c->tbs, c->tbs_len, c->sig, c->sig_len);
}

/* Copy as much of src as fits (names are cut, never refused). */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Parse der into c with wolfSSL (dc is scratch space). The caller frees
 * dc with wc_FreeDecodedCert even on failure. A self-issued certificate
 * is a root when its signature verifies with its own key; a trust anchor
 * (from the operator's CA file) when it is self-issued, as OpenSSL takes
 * its anchors (no X509_V_FLAG_CHECK_SS_SIGNATURE): the operator's trust
 * is configuration, and a start with 100,000 tenant roots does not pay
 * 100,000 signature checks. */
static int cert_parse(DecodedCert *dc, const uint8_t *der, size_t len, struct pc_cert *c,
		      bool anchor)
{
	struct pc_der d;
	const uint8_t *p;

	memset(c, 0, sizeof(*c));
	wc_InitDecodedCert(dc, der, (word32)len, NULL);
	if (len > UINT32_MAX || wc_ParseCert(dc, CERT_TYPE, NO_VERIFY, NULL) != 0 ||
	    dc->pubKeySize > PC_KEY_MAX || dc->serialSz < 0 ||
	    (size_t)dc->serialSz > sizeof(c->serial))
		return -1;
	c->tbs = der + dc->certBegin;
	c->tbs_len = dc->sigIndex - dc->certBegin;
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
	memcpy(c->serial, dc->serial, (size_t)dc->serialSz);
	c->serial_len = (size_t)dc->serialSz;
	c->path_len = dc->pathLengthSet ? dc->pathLength : -1;
	c->key_usage = dc->extKeyUsage;
	c->ku_set = dc->extKeyUsageSet;
	c->is_ca = dc->isCA;
	copy_str(c->name, sizeof(c->name), dc->subject);
	if (same(c->subject, c->subject_len, c->issuer, c->issuer_len))
		c->root = anchor || cert_sig_verify(c, c) == 1;
	return 0;
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
		rc = cert_parse(&dc, der, der_len, c, true);
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

int pc_trust_finalize(struct pc_trust *t, char *err, size_t errlen)
{
	bool root = false;

	for (unsigned int i = 0; i < t->nb_cas; i++)
		root |= t->cas[i].root;
	if (!root) {
		snprintf(err, errlen, "no self-signed root CA among the %u CA certificates",
			 t->nb_cas);
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
			    sig_verify(ca, c->info.sig_oid, c->info.tbs, c->info.tbs_len, c->info.sig,
				       c->info.sig_len) == 1)
				c->signer = ca;
		}
		if (c->signer == NULL) {
			snprintf(err, errlen, "CRL %u: %s", i + 1,
				 named ? "its signature does not verify with its issuer's key (or "
					 "the issuer lacks cRLSign)"
				       : "issued by no CA in the set");
			return -1;
		}
	}
	t->final = true;
	return 0;
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
	rc = cert_parse(&dc, der, idx + (word32)l, &c, true);
	wc_FreeDecodedCert(&dc);
	if (rc != 0)
		return -1;
	snprintf(subject, subject_len, "%s", c.name);
	*not_after = c.not_after;
	*key_oid = (int)c.key_oid;
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
	snprintf(issuer, len, "%s", t->crls[i].signer != NULL ? t->crls[i].signer->name : "?");
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
	for (unsigned int i = 0; i < t->nb_cas; i++)
		free(t->ca_der[i]);
	for (unsigned int i = 0; i < t->nb_crls; i++)
		free(t->crls[i].der);
	free(t->cas);
	free(t->ca_der);
	free(t->crls);
	free(t->denied);
	free(t);
}

/* Everything one verification works on: the peer's certificates parsed,
 * the chain being built (pointers to peer or trust certificates). */
struct pc_chain {
	struct pc_cert peer[PC_VERIFY_MAX_PEER];
	unsigned int nb_peer;
	const struct pc_cert *c[PC_VERIFY_MAX_DEPTH + 2];
	unsigned int len;
};

static bool in_chain(const struct pc_chain *ch, const struct pc_cert *c)
{
	for (unsigned int i = 0; i < ch->len; i++)
		if (ch->c[i] == c)
			return true;
	return false;
}

/* Try c as the issuer of the top of the chain; appends it when it is.
 * *named is set when its subject is the right name. */
static int try_issuer(struct pc_chain *ch, const struct pc_cert *c, bool *named)
{
	const struct pc_cert *top = ch->c[ch->len - 1];
	int rc;

	if (!same(c->subject, c->subject_len, top->issuer, top->issuer_len) || in_chain(ch, c))
		return 0;
	*named = true;
	rc = cert_sig_verify(c, top);
	if (rc == 1)
		ch->c[ch->len++] = c;
	return rc;
}

/* Build the chain from the leaf up to a trusted root, looking for each
 * issuer among the trust's roots, then the trust's intermediates, then
 * the peer's certificates (never a root: trust comes only from the trust
 * object). Stops at PC_VERIFY_MAX_DEPTH + 2 certificates without a root:
 * that is too long for any policy. */
static enum pc_verify_reason build_chain(const struct pc_trust *t, struct pc_chain *ch,
					 int *depth)
{
	for (;;) {
		const struct pc_cert *top = ch->c[ch->len - 1];
		bool named = false;
		int rc = 0;

		*depth = (int)ch->len - 1;
		if (ch->len == PC_VERIFY_MAX_DEPTH + 2)
			return PC_VERIFY_CHAIN_TOO_LONG;
		for (unsigned int pass = 0; pass < 3 && rc == 0; pass++) {
			unsigned int nb = pass < 2 ? t->nb_cas : ch->nb_peer;

			for (unsigned int i = 0; i < nb && rc == 0; i++) {
				const struct pc_cert *c = pass < 2 ? &t->cas[i] : &ch->peer[i];

				if ((pass == 0) == c->root)
					rc = try_issuer(ch, c, &named);
			}
		}
		if (rc < 0)
			return PC_VERIFY_UNSUPPORTED;
		if (rc == 1) {
			/* Only a trust root can have been added as a root. */
			if (ch->c[ch->len - 1]->root)
				return PC_VERIFY_OK;
			continue;
		}
		if (named)
			return PC_VERIFY_BAD_SIGNATURE;
		return ch->len == 1 && top->root ? PC_VERIFY_SELF_SIGNED : PC_VERIFY_UNKNOWN_CA;
	}
}

/* Validity, CA flags, pathLen, depth, leaf keyUsage: the checks on the
 * built chain that need nothing but the parsed certificates. */
static enum pc_verify_reason check_chain(const struct pc_chain *ch,
					 const struct pc_verify_policy *pol, int64_t now, int *depth)
{
	unsigned int i;

	for (i = 0; i < ch->len; i++) {
		*depth = (int)i;
		if (now < ch->c[i]->not_before)
			return PC_VERIFY_NOT_YET_VALID;
		if (now > ch->c[i]->not_after)
			return PC_VERIFY_EXPIRED;
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
		if (ch->c[i]->path_len >= 0 && (int)i - 1 > ch->c[i]->path_len)
			return PC_VERIFY_PATH_LEN;
	}
	/* Intermediates between the leaf and the root, as OpenSSL counts. */
	if (ch->len - 2 > pol->max_depth) {
		*depth = pol->max_depth + 1;
		return PC_VERIFY_CHAIN_TOO_LONG;
	}
	*depth = 0;
	if (ch->c[0]->ku_set && !(ch->c[0]->key_usage & KEYUSE_DIGITAL_SIG))
		return PC_VERIFY_KEY_USAGE;
	return PC_VERIFY_OK;
}

/* No certificate below the root may be on the operator's deny list. */
static enum pc_verify_reason check_denied(const struct pc_trust *t, const struct pc_chain *ch,
					  int *depth)
{
	for (unsigned int i = 0; i + 1 < ch->len; i++) {
		const uint8_t *s = ch->c[i]->serial;
		size_t len = ch->c[i]->serial_len;

		while (len > 1 && s[0] == 0) {
			s++;
			len--;
		}
		for (unsigned int k = 0; k < t->nb_denied; k++)
			if (t->denied[k].len == len && memcmp(t->denied[k].b, s, len) == 0) {
				*depth = (int)i;
				return PC_VERIFY_REVOKED;
			}
	}
	return PC_VERIFY_OK;
}

/* Every certificate below the root must be covered by a current CRL from
 * its issuer (same name, and signed by the same key as the issuer in this
 * chain), and not be on it. */
static enum pc_verify_reason check_crls(const struct pc_trust *t, const struct pc_chain *ch,
					int64_t now, int *depth)
{
	for (unsigned int i = 0; i + 1 < ch->len; i++) {
		const struct pc_cert *c = ch->c[i], *iss = ch->c[i + 1];
		bool found = false, current = false;

		*depth = (int)i;
		for (unsigned int k = 0; k < t->nb_crls; k++) {
			const struct pc_trust_crl *crl = &t->crls[k];

			if (!same(crl->info.issuer, crl->info.issuer_len, iss->subject,
				  iss->subject_len) ||
			    !same(crl->signer->key, crl->signer->key_len, iss->key, iss->key_len))
				continue;
			found = true;
			if (now < crl->info.this_update || now > crl->info.next_update)
				continue;
			current = true;
			if (pc_crl_lists(&crl->info, c->serial, c->serial_len))
				return PC_VERIFY_REVOKED;
		}
		if (!found)
			return PC_VERIFY_CRL_MISSING;
		if (!current)
			return PC_VERIFY_CRL_EXPIRED;
	}
	return PC_VERIFY_OK;
}

/* The leaf's names the allowlist looks at. */
#define PC_VERIFY_MAX_NAMES 32
struct leaf_names {
	const char *v[PC_VERIFY_MAX_NAMES];
	enum pc_identity_kind kind[PC_VERIFY_MAX_NAMES];
	unsigned int n;
	char cn[PC_ID_PATTERN_MAX];
};

static void add_names(struct leaf_names *ln, const DNS_entry *e, int type,
		      enum pc_identity_kind kind)
{
	/* wolfSSL lists them last first: collect, then reverse. */
	unsigned int first = ln->n;

	for (; e != NULL && ln->n < PC_VERIFY_MAX_NAMES; e = e->next) {
		/* A name with a NUL inside could pass for a shorter one. */
		if (e->type == type && e->len >= 0 && strlen(e->name) == (size_t)e->len) {
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

static void leaf_names(const DecodedCert *dc, struct leaf_names *ln)
{
	ln->n = 0;
	add_names(ln, dc->altNames, ASN_URI_TYPE, PC_ID_URI);
	add_names(ln, dc->altNames, ASN_DNS_TYPE, PC_ID_DNS);
	add_names(ln, dc->altEmailNames, ASN_RFC822_TYPE, PC_ID_EMAIL);
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
	copy_str(out->subject, sizeof(out->subject), dc->subject);
	copy_str(out->issuer, sizeof(out->issuer), dc->issuer);
	for (int i = 0; i < dc->serialSz && i < (int)(sizeof(out->serial) - 1) / 2; i++)
		snprintf(out->serial + 2 * i, 3, "%02x", dc->serial[i]);
	/* First URI, else DNS, else CN: the order leaf_names collects them. */
	for (unsigned int i = 0; i < ln->n; i++) {
		if (ln->kind[i] != PC_ID_EMAIL) {
			copy_str(out->identity, sizeof(out->identity), ln->v[i]);
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
				copy_str(out->identity, sizeof(out->identity), ln->v[i]);
				return true;
			}
		}
	}
	return false;
}

/* The scratch space of one verification, on the caller's stack. */
struct verify_ctx {
	struct pc_chain ch;
	DecodedCert leaf, dc;
	struct leaf_names names;
};

static enum pc_verify_reason verify(struct verify_ctx *v, const struct pc_trust *t,
				    const struct pc_verify_policy *pol,
				    const uint8_t *const *der, const uint32_t *der_len,
				    unsigned int n, int64_t now, struct pc_verify_result *out)
{
	struct pc_chain *ch = &v->ch;
	enum pc_verify_reason r;
	int rc;

	out->depth = 0;
	if (cert_parse(&v->leaf, der[0], der_len[0], &ch->peer[0], false) != 0)
		return PC_VERIFY_MALFORMED;
	leaf_names(&v->leaf, &v->names);
	fill_result(&v->leaf, &v->names, out);
	ch->nb_peer = n < PC_VERIFY_MAX_PEER ? n : PC_VERIFY_MAX_PEER;
	for (unsigned int i = 1; i < ch->nb_peer; i++) {
		rc = cert_parse(&v->dc, der[i], der_len[i], &ch->peer[i], false);
		wc_FreeDecodedCert(&v->dc);
		if (rc != 0) {
			out->depth = (int)i;
			return PC_VERIFY_MALFORMED;
		}
	}
	ch->c[0] = &ch->peer[0];
	ch->len = 1;
	r = build_chain(t, ch, &out->depth);
	if (r == PC_VERIFY_OK)
		r = check_chain(ch, pol, now, &out->depth);
	if (r != PC_VERIFY_OK)
		return r;
	out->depth = 0;
	if (pol->eku != PC_VERIFY_EKU_ANY && v->leaf.extExtKeyUsageSet &&
	    !(v->leaf.extExtKeyUsage & (EXTKEYUSE_ANY | (pol->eku == PC_VERIFY_EKU_CLIENT
							    ? EXTKEYUSE_CLIENT_AUTH
							    : EXTKEYUSE_SERVER_AUTH))))
		return PC_VERIFY_EKU;
	if (t->nb_denied > 0 && (r = check_denied(t, ch, &out->depth)) != PC_VERIFY_OK)
		return r;
	if (t->nb_crls > 0 && (r = check_crls(t, ch, now, &out->depth)) != PC_VERIFY_OK)
		return r;
	out->depth = 0;
	if (!identity_allowed(pol, &v->names, out))
		return PC_VERIFY_IDENTITY;
	out->depth = -1;
	out->chain_len = ch->len;
	return PC_VERIFY_OK;
}

enum pc_verify_reason pc_verify_chain(const struct pc_trust *t,
				      const struct pc_verify_policy *pol,
				      const uint8_t *const *der, const uint32_t *der_len,
				      unsigned int n, int64_t now, struct pc_verify_result *out)
{
	struct verify_ctx v;

	memset(out, 0, sizeof(*out));
	out->depth = -1;
	if (n == 0)
		return out->reason = PC_VERIFY_NO_CERT;
	if (!t->final)
		return out->reason = PC_VERIFY_UNKNOWN_CA;
	out->reason = verify(&v, t, pol, der, der_len, n, now, out);
	wc_FreeDecodedCert(&v.leaf);
	return out->reason;
}
