/* SPDX-License-Identifier: MIT */
/*
 * Client-certificate verification: identity patterns, reasons, the trust
 * builder's refusals and the chain checks on the test PKI, which
 * scripts/pki_cases.py makes in PC_PKI_DIR (meson sets it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "pc_verify.h"
#include "verify_int.h"

static char pki[512];

struct pattern_case {
	const char *spec;
	int ok;
	const char *value; /* matched against the parsed pattern */
	int match;
};

static const struct pattern_case patterns[] = {
	{"dns:web.tenant-a.test", 1, "web.tenant-a.test", 1},
	{"dns:web.tenant-a.test", 1, "WEB.Tenant-A.test", 1},
	{"dns:web.tenant-a.test", 1, "web.tenant-a.test.", 0},
	{"dns:*.tenant-a.test", 1, "web.tenant-a.test", 1},
	{"dns:*.tenant-a.test", 1, "tenant-a.test", 0},
	{"dns:*.tenant-a.test", 1, "job.batch.tenant-a.test", 0},
	{"dns:*.tenant-a.test", 1, ".tenant-a.test", 0},
	{"dns:*.tenant-a.test", 1, "*.tenant-a.test", 0},
	{"dns:*.tenant-a.test", 1, "webtenant-a.test", 0},
	{"cn:*.tenant-a.test", 1, "api.TENANT-A.test", 1},
	{"cn:Build Robot", 1, "build robot", 1},
	{"uri:spiffe://tenant-a.test/svc/*", 1, "spiffe://tenant-a.test/svc/web", 1},
	{"uri:spiffe://tenant-a.test/svc/*", 1, "spiffe://tenant-a.test/svc/web/x", 1},
	{"uri:spiffe://tenant-a.test/svc/*", 1, "spiffe://tenant-a.test/svc/", 0},
	{"uri:spiffe://tenant-a.test/svc/*", 1, "spiffe://tenant-a.test/svc", 0},
	{"uri:spiffe://tenant-a.test/svc/*", 1, "spiffe://tenant-a.test/svcx/web", 0},
	{"uri:spiffe://tenant-a.test/svc/*", 1, "spiffe://tenant-b.test/svc/web", 0},
	{"uri:spiffe://tenant-a.test/svc/web", 1, "spiffe://tenant-a.test/svc/web", 1},
	{"uri:spiffe://tenant-a.test/svc/web", 1, "spiffe://tenant-a.test/svc/WEB", 0},
	{"email:ops@Example.org", 1, "ops@example.ORG", 1},
	{"email:ops@example.org", 1, "OPS@example.org", 0},
	{"email:ops@example.org", 1, "xops@example.org", 0},
	{"dns:", 0, "1 to 255 characters", 0},
	{"web.tenant-a.test", 0, "expected dns:", 0},
	{"DNS:web", 0, "expected dns:", 0},
	{"dns:web.*.test", 0, "one leading label", 0},
	{"dns:*", 0, "one leading label", 0},
	{"dns:*.", 0, "one leading label", 0},
	{"dns:**.test", 0, "one leading label", 0},
	{"dns:*.*.test", 0, "one leading label", 0},
	{"dns:a b", 0, "printable", 0},
	{"dns:a\tb", 0, "printable", 0},
	{"uri:spiffe://td/a*", 0, "\"/*\"", 0},
	{"uri:spiffe://td/*/x", 0, "\"/*\"", 0},
	{"uri:*", 0, "\"/*\"", 0},
	/* '*' in an e-mail address is itself (RFC 5280 4.2.1.10). */
	{"email:*@example.org", 1, "*@example.org", 1},
	{"email:*@example.org", 1, "ops@example.org", 0},
	/* A wildcard SAN covers an exact DNS pattern one label under it. */
	{"dns:web.tenant-a.test", 1, "*.tenant-a.test", 1},
	{"dns:web.tenant-a.test", 1, "*.web.tenant-a.test", 0},
	{"dns:a.b.tenant-a.test", 1, "*.tenant-a.test", 0},
	{"dns:web.test", 1, "*.test", 0},
	{"ip:198.18.0.5", 1, "198.18.0.5", 1},
	{"ip:198.18.0.5", 1, "198.18.0.50", 0},
	{"ip:2001:DB8:0:0::1", 1, "2001:db8::1", 1},
	{"ip:198.18.0", 0, "not an IPv4 or IPv6 address", 0},
	{"ip:*", 0, "not an IPv4 or IPv6 address", 0},
};

static void test_patterns(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		const struct pattern_case *c = &patterns[i];
		struct pc_identity_pattern p;
		char err[256] = "";
		int rc = pc_identity_parse(c->spec, &p, err, sizeof(err));

		if ((rc == 0) != c->ok)
			fail_msg("'%s': expected %s, got %d (%s)", c->spec, c->ok ? "ok" : "an error",
				 rc, err);
		if (!c->ok && strstr(err, c->value) == NULL)
			fail_msg("'%s': message '%s' lacks '%s'", c->spec, err, c->value);
		if (c->ok && pc_identity_match(&p, c->value) != c->match)
			fail_msg("'%s' vs '%s': expected %s", c->spec, c->value,
				 c->match ? "a match" : "no match");
	}
	/* 255 characters fit, 256 do not. */
	char spec[300] = "dns:";
	struct pc_identity_pattern p;
	char err[256];

	memset(spec + 4, 'a', 255);
	assert_int_equal(pc_identity_parse(spec, &p, err, sizeof(err)), 0);
	spec[4 + 255] = 'a';
	assert_int_equal(pc_identity_parse(spec, &p, err, sizeof(err)), -1);
}

static void test_reasons(void **state)
{
	static const struct {
		enum pc_verify_reason r;
		const char *name;
		uint8_t alert;
	} cases[] = {
		{PC_VERIFY_OK, "ok", 0},
		{PC_VERIFY_UNKNOWN_CA, "unknown-ca", 48},
		{PC_VERIFY_EXPIRED, "expired", 45},
		{PC_VERIFY_REVOKED, "revoked", 44},
		{PC_VERIFY_IDENTITY, "identity-denied", 49},
		{PC_VERIFY_NB_REASONS, "?", 80},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_string_equal(pc_verify_reason_name(cases[i].r), cases[i].name);
		assert_int_equal(pc_verify_reason_alert(cases[i].r), cases[i].alert);
	}
	/* Every reason has its own name and a help text. */
	for (int a = 0; a < PC_VERIFY_NB_REASONS; a++) {
		assert_true(strlen(pc_verify_reason_help(a)) > 0);
		for (int b = a + 1; b < PC_VERIFY_NB_REASONS; b++)
			assert_string_not_equal(pc_verify_reason_name(a), pc_verify_reason_name(b));
	}
}

static void test_der_time(void **state)
{
	static const struct {
		uint8_t tag;
		const char *s;
		int ok;
		int64_t t;
	} cases[] = {
		{0x17, "700101000000Z", 1, 0},
		{0x17, "491231235959Z", 1, 2524607999},
		{0x17, "500101000000Z", 1, -631152000},
		{0x18, "20240229120000Z", 1, 1709208000},
		{0x18, "99991231235959Z", 1, 253402300799},
		{0x17, "700101000000", 0, 0},
		{0x17, "701301000000Z", 0, 0},
		{0x17, "70010100000aZ", 0, 0},
		{0x17, "x00101000000Z", 0, 0},
		{0x17, "0x0101000000Z", 0, 0},
		{0x18, "700101000000Z", 0, 0},
		{0x04, "700101000000Z", 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pc_der d = {cases[i].tag, (const uint8_t *)cases[i].s, strlen(cases[i].s)};
		int64_t t = -1;
		int rc = pc_der_time(&d, &t);

		if ((rc == 0) != cases[i].ok || (rc == 0 && t != cases[i].t))
			fail_msg("%s: rc %d, %lld", cases[i].s, rc, (long long)t);
	}
}

static void test_pem(void **state)
{
	static const struct {
		const char *text;
		int rc;
		const char *der;
	} cases[] = {
		{"-----BEGIN X-----\nYWJj\n-----END X-----\n", 1, "abc"},
		{"junk\n-----BEGIN X-----\r\nYW\r\nJjZA==\r\n-----END X-----", 1, "abcd"},
		{"-----BEGIN X-----\nYWJjZA=\n-----END X-----\n", 1, "abcd"},
		{"-----BEGIN X-----\nYW=Jj\n-----END X-----\n", -1, NULL},
		{"-----BEGIN X-----\nYW*j\n-----END X-----\n", -1, NULL},
		{"-----BEGIN X-----\nYWJj\n", -1, NULL},
		{"-----BEGIN X-----\n\n-----END X-----\n", -1, NULL},
		{"-----BEGIN Y-----\nYWJj\n-----END Y-----\n", 0, NULL},
		{"", 0, NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = cases[i].text, *end = p + strlen(p);
		uint8_t *der = NULL;
		size_t len = 0;
		int rc = pc_pem_next(&p, end, "X", &der, &len);

		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d", i, rc);
		if (rc == 1 && (len != strlen(cases[i].der) || memcmp(der, cases[i].der, len) != 0))
			fail_msg("case %zu: wrong bytes", i);
		free(der);
	}
}

static char *path(const char *name)
{
	static char buf[600];

	snprintf(buf, sizeof(buf), "%s/%s", pki, name);
	return buf;
}

static struct pc_trust *trust(const char *ca, const char *crl1, const char *crl2)
{
	struct pc_trust *t = pc_trust_new();
	char err[512];

	assert_non_null(t);
	if (pc_trust_add_ca_file(t, path(ca), err, sizeof(err)) != 0 ||
	    (crl1 && pc_trust_add_crl_file(t, path(crl1), err, sizeof(err)) != 0) ||
	    (crl2 && pc_trust_add_crl_file(t, path(crl2), err, sizeof(err)) != 0) ||
	    pc_trust_finalize(t, err, sizeof(err)) != 0)
		fail_msg("trust %s: %s", ca, err);
	return t;
}

/* DER of the n-th certificate in a PEM file. */
static uint8_t *load_der(const char *name, unsigned int n, uint32_t *len)
{
	char *buf, err[256];
	size_t blen, dlen = 0;
	const char *p;
	uint8_t *der = NULL;

	assert_int_equal(pc_read_file(path(name), &buf, &blen, err, sizeof(err)), 0);
	p = buf;
	for (unsigned int i = 0; i <= n; i++) {
		free(der);
		assert_int_equal(pc_pem_next(&p, buf + blen, "CERTIFICATE", &der, &dlen), 1);
	}
	free(buf);
	*len = (uint32_t)dlen;
	return der;
}

/* pc_verify_chain_decoded() on the leaf as a TLS handshake decodes it
 * must answer exactly as pc_verify_chain() did (want), down to every byte
 * of the result. wolfSSL's ProcessPeerCerts, whose certificate manager
 * holds no CA, decodes it with VERIFY and finds no signer
 * (patches/wolfssl/0023), or, for a leaf sent alone, keeps its NO_VERIFY
 * decoding, with which the handshake goes on only when it succeeded
 * (0024). A leaf that VERIFY cannot decode whole is one pc_verify_chain()
 * found malformed. */
static void check_decoded(const struct pc_trust *t, const struct pc_verify_policy *pol,
			  const uint8_t *const *der, const uint32_t *len, unsigned int n,
			  int64_t now, const struct pc_verify_result *want)
{
	static const struct {
		int verify, whole;
	} modes[] = {{VERIFY, ASN_NO_SIGNER_E}, {NO_VERIFY, 0}};
	WOLFSSL_CERT_MANAGER *cm = wolfSSL_CertManagerNew();
	struct pc_verify_result got;
	DecodedCert dc;

	assert_non_null(cm);
	for (unsigned int m = 0; m < 2; m++) {
		wc_InitDecodedCert(&dc, der[0], len[0], NULL);
		dc.noX509Names = 1;
		if (ParseCertRelative(&dc, CERT_TYPE, modes[m].verify, cm) == modes[m].whole) {
			assert_int_equal(pc_verify_chain_decoded(t, pol, &dc, der, len, n, now,
								 &got),
					 want->reason);
			assert_memory_equal(&got, want, sizeof(got));
		} else if (modes[m].verify == VERIFY) {
			assert_int_equal(want->reason, PC_VERIFY_MALFORMED);
			assert_int_equal(want->depth, 0);
		}
		wc_FreeDecodedCert(&dc);
	}
	wolfSSL_CertManagerFree(cm);
}

static enum pc_verify_reason verify_file(const struct pc_trust *t,
					 const struct pc_verify_policy *pol, const char *chain,
					 unsigned int n, struct pc_verify_result *res)
{
	uint8_t *der[4];
	uint32_t len[4];
	enum pc_verify_reason r;
	int64_t now = time(NULL);

	for (unsigned int i = 0; i < n; i++)
		der[i] = load_der(chain, i, &len[i]);
	r = pc_verify_chain(t, pol, (const uint8_t *const *)der, len, n, now, res);
	check_decoded(t, pol, (const uint8_t *const *)der, len, n, now, res);
	for (unsigned int i = 0; i < n; i++)
		free(der[i]);
	return r;
}

static void test_trust_refusals(void **state)
{
	static const struct {
		const char *ca, *crl;
		const char *err_has;
	} cases[] = {
		{"good.crt", NULL, "is not a CA"},
		{"a-root.key", NULL, "no PEM certificate"},
		{"missing.pem", NULL, "No such file"},
		{"a-root.crt", "a-root.key", "no CRL"},
		{"a-root.crt", "good.crt", "no CRL"},
	};
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pc_trust *t = pc_trust_new();
		int rc = pc_trust_add_ca_file(t, path(cases[i].ca), err, sizeof(err));

		if (rc == 0 && cases[i].crl)
			rc = pc_trust_add_crl_file(t, path(cases[i].crl), err, sizeof(err));
		if (rc == 0)
			rc = pc_trust_finalize(t, err, sizeof(err));
		if (rc == 0 || strstr(err, cases[i].err_has) == NULL)
			fail_msg("%s %s: rc %d, '%s' lacks '%s'", cases[i].ca,
				 cases[i].crl ? cases[i].crl : "", rc, err, cases[i].err_has);
		pc_trust_free(t);
	}

	/* A file with a good CA then a broken block adds nothing. */
	struct pc_trust *t = pc_trust_new();
	char *root, *text;
	size_t len;

	assert_int_equal(pc_read_file(path("a-root.crt"), &root, &len, err, sizeof(err)), 0);
	text = malloc(len + 64);
	len = (size_t)sprintf(text, "%s-----BEGIN CERTIFICATE-----\nAA!A\n-----END CERTIFICATE-----\n",
			      root);
	assert_int_equal(pc_trust_add_ca_pem(t, text, len, err, sizeof(err)), -1);
	assert_int_equal(pc_trust_nb_cas(t), 0);
	assert_int_equal(pc_trust_add_ca_pem(t, root, strlen(root), err, sizeof(err)), 0);
	assert_int_equal(pc_trust_nb_cas(t), 1);

	/* A CRL whose signature was altered is refused, and the CRLs added
	 * with it. */
	char *crl_pem;
	const char *p;
	uint8_t *crl;
	size_t crl_len;

	assert_int_equal(pc_read_file(path("a-root.crl"), &crl_pem, &len, err, sizeof(err)), 0);
	p = crl_pem;
	assert_int_equal(pc_pem_next(&p, crl_pem + len, "X509 CRL", &crl, &crl_len), 1);
	assert_int_equal(pc_trust_add_crl_mem(t, crl, crl_len, err, sizeof(err)), 0);
	crl[crl_len - 10] ^= 1;
	assert_int_equal(pc_trust_add_crl_mem(t, crl, crl_len, err, sizeof(err)), 0);
	assert_int_equal(pc_trust_nb_crls(t), 2);
	assert_int_equal(pc_trust_finalize(t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "CRL 2: its signature does not verify"));
	/* Truncated DER is malformed, and nothing of it is kept. */
	assert_int_equal(pc_trust_add_crl_mem(t, crl, crl_len - 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "malformed"));
	assert_int_equal(pc_trust_nb_crls(t), 2);
	free(crl);
	free(crl_pem);
	free(root);
	free(text);
	pc_trust_free(t);
}

/* A CA key that checks signatures often gets a table of its point
 * (patches/wolfssl/0015, verify.c's key_table): verdicts are the same
 * before and after, good and bad signatures alike. a-bundle.pem holds
 * the root (0) and the issuing CA (1) that signs the clients. */
static void test_key_table(void **state)
{
	struct pc_trust *t = trust("a-bundle.pem", NULL, NULL);
	struct pc_trust *rsa = trust("rsa-ca.crt", NULL, NULL);
	struct pc_verify_policy pol;
	struct pc_verify_result res;
	unsigned int n;

	(void)state;
	pc_verify_policy_defaults(&pol);
	assert_false(pc_trust_ca_key_table(t, 1));
	for (n = 0; n < 64 && !pc_trust_ca_key_table(t, 1); n++) {
		assert_int_equal(verify_file(t, &pol, "good.crt", 1, &res), PC_VERIFY_OK);
		assert_int_equal(verify_file(t, &pol, "bad-signature.crt", 1, &res),
				 PC_VERIFY_BAD_SIGNATURE);
	}
	/* Made after a handful of checks, not on the first. */
	assert_true(pc_trust_ca_key_table(t, 1));
	assert_true(n > 1);
	for (unsigned int i = 0; i < 20; i++) {
		assert_int_equal(verify_file(t, &pol, "good.crt", 1, &res), PC_VERIFY_OK);
		assert_string_equal(res.identity, "spiffe://tenant-a.test/svc/web");
		assert_int_equal(verify_file(t, &pol, "good.chain.pem", 2, &res), PC_VERIFY_OK);
		assert_int_equal(verify_file(t, &pol, "bad-signature.crt", 1, &res),
				 PC_VERIFY_BAD_SIGNATURE);
		assert_int_equal(verify_file(t, &pol, "bad-signature.chain.pem", 2, &res),
				 PC_VERIFY_BAD_SIGNATURE);
		assert_int_equal(verify_file(t, &pol, "unknown-ca.crt", 1, &res),
				 PC_VERIFY_UNKNOWN_CA);
	}
	/* Only P-256 keys get one ("pss" is signed by the RSA CA). */
	for (unsigned int i = 0; i < 64; i++)
		assert_int_equal(verify_file(rsa, &pol, "pss.crt", 1, &res), PC_VERIFY_OK);
	assert_false(pc_trust_ca_key_table(rsa, 0));
	pc_trust_free(t);
	pc_trust_free(rsa);
}

/* Does the signature of certificate name verify with issuer's key, with
 * or without a table of that key made by pc_verify_key_table()? */
static int cert_sig_ok(const char *name, const char *issuer, const uint8_t *table)
{
	uint32_t len, ilen;
	uint8_t *der = load_der(name, 0, &len), *ider = load_der(issuer, 0, &ilen);
	uint8_t digest[WC_SHA256_DIGEST_SIZE];
	DecodedCert dc, ic;
	ecc_key k;
	word32 idx = 0;
	int ok = -1;

	wc_InitDecodedCert(&dc, der, len, NULL);
	wc_InitDecodedCert(&ic, ider, ilen, NULL);
	assert_int_equal(wc_ParseCert(&dc, CERT_TYPE, NO_VERIFY, NULL), 0);
	assert_int_equal(wc_ParseCert(&ic, CERT_TYPE, NO_VERIFY, NULL), 0);
	assert_int_equal(wc_Sha256Hash(der + dc.certBegin, dc.sigIndex - dc.certBegin, digest), 0);
	assert_int_equal(wc_ecc_init(&k), 0);
	assert_int_equal(wc_EccPublicKeyDecode(ic.publicKey, &idx, &k, ic.pubKeySize), 0);
	assert_int_equal(wc_ecc_use_verify_table(&k, table), 0);
	assert_int_equal(wc_ecc_verify_hash(dc.signature, dc.sigLength, digest, sizeof(digest),
					    &ok, &k), 0);
	wc_ecc_free(&k);
	wc_FreeDecodedCert(&dc);
	wc_FreeDecodedCert(&ic);
	free(der);
	free(ider);
	return ok;
}

/* The chain cache's tables of returning clients' keys are made by
 * pc_verify_key_table() from a certificate: here from a CA's, whose key
 * signs certificates the test PKI holds. */
static void test_leaf_key_table(void **state)
{
	static _Alignas(64) uint8_t table[PC_VERIFY_KEY_TABLE_SZ];
	static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
	uint32_t len;
	uint8_t *der;

	(void)state;
	der = load_der("a-int.crt", 0, &len);
	assert_int_equal(pc_verify_key_table(der, len, table), 0);
	free(der);
	assert_int_equal(cert_sig_ok("good.crt", "a-int.crt", NULL), 1);
	assert_int_equal(cert_sig_ok("good.crt", "a-int.crt", table), 1);
	assert_int_equal(cert_sig_ok("revoked.crt", "a-int.crt", table), 1);
	assert_int_equal(cert_sig_ok("bad-signature.crt", "a-int.crt", table), 0);
	assert_int_equal(cert_sig_ok("bad-signature.crt", "a-int.crt", NULL), 0);
	/* P-256 keys only; anything else is refused, never a table. */
	for (const char *const *n = (const char *const[]){"rsa.crt", "ed25519.crt", "p224.crt", NULL};
	     *n != NULL; n++) {
		der = load_der(*n, 0, &len);
		assert_int_equal(pc_verify_key_table(der, len, table), -1);
		free(der);
	}
	assert_int_equal(pc_verify_key_table(junk, sizeof(junk), table), -1);
}

static void test_chains(void **state)
{
	struct pc_trust *a = trust("a-root.crt", NULL, NULL), *b = trust("b-root.crt", NULL, NULL);
	struct pc_trust *a_crl = trust("a-bundle.pem", "a-root.crl", "a-int.crl");
	struct pc_verify_policy pol;
	struct pc_verify_result res;

	(void)state;
	pc_verify_policy_defaults(&pol);
	assert_int_equal(verify_file(a, &pol, "good.chain.pem", 2, &res), PC_VERIFY_OK);
	assert_string_equal(res.subject, "/O=portcullis test/CN=web.tenant-a.test");
	assert_string_equal(res.issuer, "/O=portcullis test/CN=Tenant A Issuing CA");
	assert_string_equal(res.identity, "spiffe://tenant-a.test/svc/web");
	assert_int_equal(strlen(res.serial) % 2, 0);
	assert_true(strlen(res.serial) >= 2);
	assert_int_equal(res.chain_len, 3);
	assert_int_equal(res.depth, -1);
	/* Tenant isolation: A's client against B's root, with or without the
	 * intermediate; and B's trust is not changed by having seen it. */
	assert_int_equal(verify_file(b, &pol, "good.chain.pem", 2, &res), PC_VERIFY_UNKNOWN_CA);
	assert_int_equal(verify_file(b, &pol, "good.chain.pem", 1, &res), PC_VERIFY_UNKNOWN_CA);
	assert_int_equal(verify_file(b, &pol, "tenant-b.crt", 1, &res), PC_VERIFY_OK);
	assert_int_equal(verify_file(a, &pol, "tenant-b.crt", 1, &res), PC_VERIFY_UNKNOWN_CA);
	/* Missing intermediate. */
	assert_int_equal(verify_file(a, &pol, "good.chain.pem", 1, &res), PC_VERIFY_UNKNOWN_CA);
	assert_int_equal(res.depth, 0);
	/* CRLs: the intermediate comes from the trust (bundle). */
	assert_int_equal(verify_file(a_crl, &pol, "good.crt", 1, &res), PC_VERIFY_OK);
	assert_int_equal(verify_file(a_crl, &pol, "revoked.crt", 1, &res), PC_VERIFY_REVOKED);
	assert_int_equal(res.depth, 0);
	assert_int_equal(verify_file(a_crl, &pol, "deep.chain.pem", 4, &res),
			 PC_VERIFY_CRL_MISSING);
	/* Allowlist: the value that matched is the identity. */
	char err[256];

	struct pc_identity_pattern allow[2];

	pol.allow = allow;
	pol.nb_allow = 2;
	assert_int_equal(pc_identity_parse("uri:spiffe://tenant-a.test/other/*", &allow[0], err,
					   sizeof(err)), 0);
	assert_int_equal(pc_identity_parse("dns:*.tenant-a.test", &allow[1], err, sizeof(err)),
			 0);
	assert_int_equal(verify_file(a, &pol, "good.chain.pem", 2, &res), PC_VERIFY_OK);
	assert_string_equal(res.identity, "web.tenant-a.test");
	assert_int_equal(verify_file(a, &pol, "identity-denied.chain.pem", 2, &res),
			 PC_VERIFY_IDENTITY);
	/* Depth as OpenSSL counts it: intermediates between leaf and root. */
	pc_verify_policy_defaults(&pol);
	pol.max_depth = 0;
	assert_int_equal(verify_file(a, &pol, "good.chain.pem", 2, &res),
			 PC_VERIFY_CHAIN_TOO_LONG);
	pol.max_depth = 1;
	assert_int_equal(verify_file(a, &pol, "good.chain.pem", 2, &res), PC_VERIFY_OK);
	/* Nothing sent. */
	assert_int_equal(pc_verify_chain(a, &pol, NULL, NULL, 0, 0, &res), PC_VERIFY_NO_CERT);
	pc_trust_free(a);
	pc_trust_free(b);
	pc_trust_free(a_crl);

	/* An intermediate alone is an anchor: the chain ends there. */
	struct pc_trust *a_int = trust("a-int.crt", NULL, NULL);

	assert_int_equal(verify_file(a_int, &pol, "good.chain.pem", 1, &res), PC_VERIFY_OK);
	assert_int_equal(res.chain_len, 2);
	assert_int_equal(verify_file(a_int, &pol, "tenant-b.crt", 1, &res), PC_VERIFY_UNKNOWN_CA);
	pc_trust_free(a_int);
	/* A CRL from the intermediate the client sends (not in the set):
	 * checked against that certificate's key. Without it (only another
	 * tenant's CRL), the leaf has none. */
	struct pc_trust *chain_crl = trust("a-root.crt", "a-root.crl", "a-int.crl");

	assert_int_equal(pc_trust_nb_crls(chain_crl), 2);
	assert_int_equal(verify_file(chain_crl, &pol, "good.chain.pem", 2, &res), PC_VERIFY_OK);
	assert_int_equal(verify_file(chain_crl, &pol, "revoked.chain.pem", 2, &res),
			 PC_VERIFY_REVOKED);
	assert_int_equal(res.depth, 0);
	/* Again: the worker's cache of that CRL's signature gives the same. */
	assert_int_equal(verify_file(chain_crl, &pol, "revoked.chain.pem", 2, &res),
			 PC_VERIFY_REVOKED);
	pc_trust_free(chain_crl);
	chain_crl = trust("a-root.crt", "a-root.crl", "b-root.crl");
	assert_int_equal(verify_file(chain_crl, &pol, "good.chain.pem", 2, &res),
			 PC_VERIFY_CRL_MISSING);
	assert_int_equal(res.depth, 0);
	pc_trust_free(chain_crl);
}

int main(void)
{
	const char *dir = getenv("PC_PKI_DIR"), *script = getenv("PC_PKI_SCRIPT");
	char cmd[1200];

	if (dir == NULL || script == NULL) {
		fprintf(stderr, "test_verify: set PC_PKI_DIR and PC_PKI_SCRIPT\n");
		return 1;
	}
	snprintf(pki, sizeof(pki), "%s", dir);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s' '%s'", script, dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "test_verify: %s failed\n", cmd);
		return 1;
	}

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patterns),    cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_der_time),    cmocka_unit_test(test_pem),
		cmocka_unit_test(test_trust_refusals), cmocka_unit_test(test_chains),
		cmocka_unit_test(test_key_table),
		cmocka_unit_test(test_leaf_key_table),
	};

	return cmocka_run_group_tests_name("verify", tests, NULL, NULL);
}
