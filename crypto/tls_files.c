/* SPDX-License-Identifier: MIT */
/*
 * What the file watcher (mgmt/watch.c) asks of the trust objects that come
 * from files: which files a ca-set, cert or backend (`tls` files) was
 * built from, whether those
 * files now hold something else than what was read (SHA-256 of the bytes
 * the builder parsed, kept in the version), a trial build that publishes
 * nothing, the commit hook that tells the watcher what changed, and the
 * expiry of server certificates (the warning window, a certificate's
 * state). Main lcore only (the writer reads versions freely).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "tls_store.h"
#include "verify_int.h"

static pc_tls_commit_hook commit_hook;
static uint32_t expiry_warning_s = PC_TLS_CERT_EXPIRY_WARNING_DEFAULT;

void pc_tls_set_commit_hook(pc_tls_commit_hook fn)
{
	commit_hook = fn;
}

void tls_files_published(enum pc_tls_kind kind, const char *name, bool deleted)
{
	if (commit_hook != NULL)
		commit_hook(kind, name, deleted);
}

static const void *current(enum pc_tls_kind kind, const char *name)
{
	struct tls_entry *e = kind == PC_TLS_HOST ? NULL : tls_store_get(kind, name);

	return e != NULL ? e->cur : NULL;
}

int pc_tls_object_files(enum pc_tls_kind kind, const char *name, const char **paths,
			unsigned int max)
{
	const void *cur = current(kind, name);
	unsigned int n = 0;

	if (cur == NULL)
		return -1;
	if (kind == PC_TLS_CERT) {
		const struct pc_tls_cert *c = cur;

		if (max >= 2) {
			paths[n++] = c->spec.chain;
			paths[n++] = c->spec.key;
		}
		return (int)n;
	}
	if (kind == PC_TLS_BACKEND) {
		const struct pc_tls_backend_spec *b = &((const struct pc_tls_backend *)cur)->pub.spec;

		if (b->tls && b->tls_ca != NULL && n < max)
			paths[n++] = b->tls_ca;
		if (b->tls && b->tls_cert != NULL && n + 2 <= max) {
			paths[n++] = b->tls_cert;
			paths[n++] = b->tls_key;
		}
		return (int)n;
	}
	const struct pc_tls_caset_spec *s = &((const struct pc_tls_caset *)cur)->spec;

	for (unsigned int i = 0; i < s->files.n && n < max; i++)
		paths[n++] = s->files.v[i];
	for (unsigned int i = 0; i < s->crls.n && n < max; i++)
		paths[n++] = s->crls.v[i];
	return (int)n;
}

int pc_tls_object_stale(enum pc_tls_kind kind, const char *name,
			uint8_t state[PC_TRUST_DIGEST_LEN])
{
	const void *cur = current(kind, name);
	const struct pc_tls_caset *cs = cur;
	const struct pc_tls_cert *ce = cur;
	const struct pc_tls_backend *be = cur;
	char why[PC_TLS_PATH_MAX + 64];
	const void *spec;
	const uint8_t *had;

	if (cur == NULL)
		return -1;
	if (kind == PC_TLS_CERT) {
		spec = &ce->spec;
		had = ce->files_digest;
	} else if (kind == PC_TLS_BACKEND) {
		spec = &be->pub.spec;
		had = be->files_digest;
	} else {
		spec = &cs->spec;
		had = cs->files_digest;
	}
	/* The digest over every file, as the version keeps it; a file that
	 * cannot be read makes a state of its own: the reason's digest. */
	if (tls_store_files_digest(kind, spec, state, why, sizeof(why)) != 0) {
		wc_Sha256Hash((const byte *)why, (word32)strlen(why), state);
		return 1;
	}
	return memcmp(state, had, PC_TRUST_DIGEST_LEN) != 0;
}

int pc_tls_object_check(enum pc_tls_kind kind, const char *name, char *err, size_t errlen)
{
	const void *cur = current(kind, name);
	bool mismatch = false;
	void *v;

	if (cur == NULL) {
		snprintf(err, errlen, "no such object");
		return -1;
	}
	if (kind == PC_TLS_CERT)
		v = tls_store_build_cert_pair(&((const struct pc_tls_cert *)cur)->spec, &mismatch,
					      err, errlen);
	else if (kind == PC_TLS_BACKEND)
		v = tls_store_build_backend(name, &((const struct pc_tls_backend *)cur)->pub.spec,
					    &mismatch, err, errlen);
	else
		v = tls_store_build_caset(&((const struct pc_tls_caset *)cur)->spec, err, errlen);
	if (v == NULL)
		return mismatch ? PC_TLS_PAIR_MISMATCH : -1;
	tls_store_free_version(kind, v);
	return 0;
}

int pc_tls_ticket_keys_stale(uint8_t state[PC_TRUST_DIGEST_LEN])
{
	const struct pc_tls_ticket_keys *ks = tls_ticket_keys();
	char *buf, why[PC_TLS_PATH_MAX + 64];
	size_t len;

	if (ks == NULL || ks->file[0] == '\0')
		return -1;
	if (pc_read_file(ks->file, &buf, &len, why, sizeof(why)) != 0) {
		wc_Sha256Hash((const byte *)why, (word32)strlen(why), state);
		return 1;
	}
	wc_Sha256Hash((const byte *)buf, (word32)len, state);
	explicit_bzero(buf, len);
	free(buf);
	return memcmp(state, ks->digest, PC_TRUST_DIGEST_LEN) != 0;
}

void pc_tls_set_cert_expiry_warning(uint32_t s)
{
	expiry_warning_s = s;
}

uint32_t pc_tls_cert_expiry_warning(void)
{
	return expiry_warning_s;
}

int64_t pc_tls_cert_not_after(const char *name)
{
	const struct pc_tls_cert *c = current(PC_TLS_CERT, name);

	return c != NULL ? c->not_after : INT64_MIN;
}

enum pc_tls_expiry pc_tls_expiry_of(int64_t not_after, int64_t now)
{
	if (not_after < now)
		return PC_TLS_EXPIRED;
	if (not_after - now <= (int64_t)expiry_warning_s)
		return PC_TLS_EXPIRING;
	return PC_TLS_VALID;
}
