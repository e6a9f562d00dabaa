/* SPDX-License-Identifier: MIT */
/*
 * TLS to a backend's servers: wolfSSL as a client over one of our TCP
 * connections (pc_tls_client.h), the mirror of tls_conn.c's server.
 *
 *   context   the worker's client WOLFSSL_CTX (tls_config.c: the shared
 *             versions, cipher list, groups and signature algorithms, one
 *             DRBG per worker, no CA, no session cache)
 *   per conn  the backend's SNI, its client certificate and key (DER, as
 *             the commit built them: authenticated origin pull), and with
 *             `tls ca` verification: wolfSSL's certificate manager holds
 *             no CA, so the server's chain always reaches the verify
 *             callback, which runs pc_verify_chain() against the
 *             backend's trust with a server policy (serverAuth) whose one
 *             allowlist entry is verify-name: a SAN dNSName (RFC 6125
 *             wildcards: one whole left-most label) or, for an address,
 *             a SAN iPAddress. The subject CN is never looked at, as
 *             browsers do. Without `tls ca` the server is not verified
 *             (counted as unverified: nginx's proxy_ssl_verify off).
 *   IO        records go straight to and from the TCP buffers; the caller
 *             drives everything from its TCP callbacks (wolfSSL's
 *             WANT_READ / WANT_WRITE), and application data is encrypted
 *             only as whole records the send buffer takes.
 *
 * No session resumption to the origin: connections are kept alive and
 * reused instead (l7/upstream.c's pool). Objects and wolfSSL's memory
 * come from the worker's wolfSSL arena (tls_mem.c).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>

#include <wolfssl/options.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/memory.h>

#include "pc_backend.h"
#include "pc_tls_client.h"
#include "tls.h"
#include "tls_alert.h"

/* wolfSSL's own alert sender (internal API, as in tls_conn.c): the
 * verifier's reason names the precise alert. */
int SendAlert(WOLFSSL *ssl, int severity, int type);

#define TLS_MAX_PLAINTEXT 16384
/* Don't encrypt a record under this when more is to come: wait for
 * send space instead. */
#define TLS_MIN_SEND 1024
/* Room for records wolfSSL writes on its own (a KeyUpdate answer). */
#define TLS_SPARE 64
#define BAD_CERTIFICATE 42

enum origin_outcome {
#define PC_TLS_ORIGIN(name, help) ORIGIN_##name,
#include "tls_origin.def"
#undef PC_TLS_ORIGIN
	ORIGIN__MAX
};

static const char *const origin_names[ORIGIN__MAX] = {
#define PC_TLS_ORIGIN(name, help) #name,
#include "tls_origin.def"
#undef PC_TLS_ORIGIN
};
static const char *const origin_help[ORIGIN__MAX] = {
#define PC_TLS_ORIGIN(name, help) help,
#include "tls_origin.def"
#undef PC_TLS_ORIGIN
};
_Static_assert(ORIGIN__MAX <= PC_TLS_MAX_COUNTERS, "PC_TLS_MAX_COUNTERS: tls_origin.def");

/* Per worker, written only by that worker. */
struct origin_counters {
	uint64_t outcome[ORIGIN__MAX];
	uint64_t verify[PC_VERIFY_NB_REASONS];
	uint64_t active;
} __rte_cache_aligned;

static struct origin_counters origin_cnt[RTE_MAX_LCORE];

static struct origin_counters *cnt(void)
{
	return &origin_cnt[rte_lcore_id() % RTE_MAX_LCORE];
}

enum client_state { CL_HANDSHAKE, CL_OPEN, CL_FAILED };

struct pc_tls_client {
	struct pc_tcb *tcp;
	WOLFSSL *ssl;
	const struct pc_backend *b;
	uint8_t state;
	bool checked;          /* the verify callback judged the server's chain */
	bool swallow;          /* our alert went out: drop wolfSSL's */
	bool out_blocked;      /* wolfSSL has bytes TCP did not take */
	bool eof;              /* the server ended its side */
	uint16_t rec_overhead; /* bytes a full record adds (cipher suite) */
	enum pc_verify_reason vreason;
	const char *vdetail;   /* which rule, for some reasons (static text) */
	const char *why;
	char why_buf[160];
};

/* IO callbacks: as tls_conn.c's. wolfSSL reads exactly what it needs (a
 * record header, then its body), so a read that wants more has emptied
 * the receive buffer. */
static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct pc_tls_client *t = ctx;
	size_t n;

	(void)ssl;
	n = pc_tcp_read(t->tcp, buf, (size_t)sz);
	if (n == 0)
		return pc_tcp_fin_received(t->tcp) ? WOLFSSL_CBIO_ERR_CONN_CLOSE
						   : WOLFSSL_CBIO_ERR_WANT_READ;
	return (int)n;
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct pc_tls_client *t = ctx;
	size_t n;

	(void)ssl;
	if (t->swallow)
		return sz;
	n = pc_tcp_write(t->tcp, buf, (size_t)sz);
	if (n == 0) {
		t->out_blocked = true;
		pc_tcp_notify_writable(t->tcp);
		return WOLFSSL_CBIO_ERR_WANT_WRITE;
	}
	t->out_blocked = n < (size_t)sz;
	return (int)n;
}

void pc_tls_client_set_io(WOLFSSL_CTX *ctx)
{
	wolfSSL_CTX_SetIORecv(ctx, io_recv);
	wolfSSL_CTX_SetIOSend(ctx, io_send);
}

/* The RFC 8446 6 name of an alert description, for *why. */
static const char *alert_name(int desc)
{
	static const struct {
		uint8_t code;
		const char *name;
	} names[] = {
		{0, "close_notify"},          {10, "unexpected_message"},
		{20, "bad_record_mac"},       {22, "record_overflow"},
		{40, "handshake_failure"},    {42, "bad_certificate"},
		{43, "unsupported_certificate"}, {44, "certificate_revoked"},
		{45, "certificate_expired"},  {46, "certificate_unknown"},
		{47, "illegal_parameter"},    {48, "unknown_ca"},
		{49, "access_denied"},        {50, "decode_error"},
		{51, "decrypt_error"},        {70, "protocol_version"},
		{71, "insufficient_security"}, {80, "internal_error"},
		{86, "inappropriate_fallback"}, {90, "user_canceled"},
		{109, "missing_extension"},   {110, "unsupported_extension"},
		{112, "unrecognized_name"},   {113, "bad_certificate_status_response"},
		{115, "unknown_psk_identity"}, {116, "certificate_required"},
		{120, "no_application_protocol"},
	};

	for (size_t i = 0; i < RTE_DIM(names); i++)
		if (names[i].code == desc)
			return names[i].name;
	return "unknown";
}

/* The handshake cannot go on: count it, say why. */
static int fail(struct pc_tls_client *t, enum origin_outcome o, const char *why)
{
	if (t->state != CL_FAILED)
		cnt()->outcome[o]++;
	t->state = CL_FAILED;
	t->why = why;
	return -1;
}

/* The one allowlist entry of a server policy: verify-name as a SAN
 * iPAddress when it is an address, else as a SAN dNSName. */
static int name_pattern(const char *name, struct pc_identity_pattern *p)
{
	char spec[PC_ID_PATTERN_MAX + 8], err[128];
	struct in6_addr a6;
	struct in_addr a4;
	bool ip = inet_pton(AF_INET, name, &a4) == 1 || inet_pton(AF_INET6, name, &a6) == 1;

	snprintf(spec, sizeof(spec), "%s:%s", ip ? "ip" : "dns", name);
	return pc_identity_parse(spec, p, err, sizeof(err));
}

/* Refuse the server's chain from the verify callback with our alert. */
static int refuse(struct pc_tls_client *t, uint8_t alert)
{
	SendAlert(t->ssl, PC_TLS_ALERT_FATAL, alert);
	t->swallow = true;
	return 0;
}

/* wolfSSL calls back for every certificate it could not verify (all of
 * them: it holds no CA); the leaf's call comes last and sees the chain. */
static int verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
	struct pc_tls_client *t = store->userCtx;
	const uint8_t *der[PC_TLS_MAX_PEER_CHAIN];
	uint32_t len[PC_TLS_MAX_PEER_CHAIN];
	struct pc_identity_pattern name;
	struct pc_verify_policy pol;
	struct pc_verify_result res;
	unsigned int n = 0;
	enum pc_verify_reason r;

	(void)preverify;
	if (store->error_depth != 0)
		return 1;
	pc_verify_policy_defaults(&pol);
	pol.eku = PC_VERIFY_EKU_SERVER;
	if (t->b->verify_name != NULL) {
		if (name_pattern(t->b->verify_name, &name) != 0) {
			t->checked = true;
			t->vreason = PC_VERIFY_IDENTITY;
			return refuse(t, BAD_CERTIFICATE);
		}
		pol.nb_allow = 1;
		pol.allow = &name;
	}
	for (int i = 0; i < store->totalCerts && n < RTE_DIM(der); i++, n++) {
		der[n] = store->certs[i].buffer;
		len[n] = store->certs[i].length;
		if (len[n] == 0) {
			t->checked = true;
			t->vreason = PC_VERIFY_MALFORMED;
			return refuse(t, PC_TLS_ALERT_DECODE_ERROR);
		}
	}
	r = n == 0 ? PC_VERIFY_NO_CERT
		   : pc_verify_chain_decoded(t->b->origin_trust, &pol, store->decodedCert, der,
					     len, n, time(NULL), &res);
	t->checked = true;
	t->vreason = r;
	t->vdetail = n != 0 ? res.detail : NULL;
	if (r == PC_VERIFY_OK)
		return 1;
	/* A name that does not match is the server's certificate being
	 * the wrong one, not a client refused by an allowlist. */
	return refuse(t, r == PC_VERIFY_IDENTITY ? BAD_CERTIFICATE : pc_verify_reason_alert(r));
}

struct pc_tls_client *pc_tls_client_new(struct pc_tcb *c, const struct pc_backend *b)
{
	const struct pc_tls_config *cfg = pc_tls_active;
	const struct pc_tls_backend_spec *s = &b->spec;
	struct pc_tls_client *t = XMALLOC(sizeof(*t), NULL, DYNAMIC_TYPE_TMP_BUFFER);
	struct in6_addr a6;
	struct in_addr a4;

	if (t == NULL) {
		cnt()->outcome[ORIGIN_no_memory]++;
		return NULL;
	}
	memset(t, 0, sizeof(*t));
	t->tcp = c;
	t->b = b;
	t->ssl = wolfSSL_new(cfg->client_ctx[rte_lcore_id()]);
	if (t->ssl == NULL)
		goto no_memory;
	/* The key resets wolfSSL's suites, the cipher list its signature
	 * algorithms: in this order (as tls_conn.c). */
	if (b->client_chain != NULL &&
	    (wolfSSL_use_PrivateKey_buffer(t->ssl, b->client_key, (long)b->client_key_len,
					   WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS ||
	     wolfSSL_use_certificate_chain_buffer_format(t->ssl, b->client_chain,
							 (long)b->client_chain_len,
							 WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS))
		goto no_memory;
	if (wolfSSL_set_cipher_list(t->ssl, cfg->ciphers) != WOLFSSL_SUCCESS ||
	    wolfSSL_set1_sigalgs_list(t->ssl, cfg->sigalgs) != WOLFSSL_SUCCESS)
		goto no_memory;
	/* RFC 6066 3: no address as a server name. */
	if (s->tls_sni != NULL && s->tls_sni[0] != '\0' && inet_pton(AF_INET, s->tls_sni, &a4) != 1 &&
	    inet_pton(AF_INET6, s->tls_sni, &a6) != 1 &&
	    wolfSSL_UseSNI(t->ssl, WOLFSSL_SNI_HOST_NAME, s->tls_sni,
			   (unsigned short)strlen(s->tls_sni)) != WOLFSSL_SUCCESS)
		goto no_memory;
	if (s->mode == PC_BACKEND_HTTP &&
	    wolfSSL_UseALPN(t->ssl, (char *)"http/1.1", 8, WOLFSSL_ALPN_CONTINUE_ON_MISMATCH) !=
		    WOLFSSL_SUCCESS)
		goto no_memory;
	/* wolfSSL's client verifies by default: off unless there is a CA. */
	if (b->origin_trust != NULL)
		wolfSSL_set_verify(t->ssl, WOLFSSL_VERIFY_PEER, verify_cb);
	else
		wolfSSL_set_verify(t->ssl, WOLFSSL_VERIFY_NONE, NULL);
	wolfSSL_SetIOReadCtx(t->ssl, t);
	wolfSSL_SetIOWriteCtx(t->ssl, t);
	wolfSSL_SetCertCbCtx(t->ssl, t);
	cnt()->active++;
	return t;
no_memory:
	cnt()->outcome[ORIGIN_no_memory]++;
	if (t->ssl != NULL)
		wolfSSL_free(t->ssl);
	XFREE(t, NULL, DYNAMIC_TYPE_TMP_BUFFER);
	return NULL;
}

/* A fatal alert from the server, into why_buf. */
static bool alert_received(struct pc_tls_client *t)
{
	WOLFSSL_ALERT_HISTORY h;

	if (wolfSSL_get_alert_history(t->ssl, &h) != WOLFSSL_SUCCESS ||
	    h.last_rx.level != PC_TLS_ALERT_FATAL)
		return false;
	snprintf(t->why_buf, sizeof(t->why_buf), "alert %s", alert_name(h.last_rx.code));
	return true;
}

/* Why wolfSSL_connect() failed with err. */
static int handshake_failed(struct pc_tls_client *t, int err)
{
	if (t->checked && t->vreason != PC_VERIFY_OK) {
		if (t->vreason == PC_VERIFY_IDENTITY)
			return fail(t, ORIGIN_name_mismatch, "name mismatch");
		cnt()->verify[t->vreason]++;
		snprintf(t->why_buf, sizeof(t->why_buf), "certificate: %s%s%s%s",
			 pc_verify_reason_name(t->vreason), t->vdetail != NULL ? " (" : "",
			 t->vdetail != NULL ? t->vdetail : "", t->vdetail != NULL ? ")" : "");
		return fail(t, ORIGIN_cert_refused, t->why_buf);
	}
	if (err == MEMORY_E)
		return fail(t, ORIGIN_no_memory, "no memory");
	if (alert_received(t))
		return fail(t, ORIGIN_alert_received, t->why_buf);
	if (err == SOCKET_PEER_CLOSED_E || err == SOCKET_ERROR_E)
		return fail(t, ORIGIN_peer_closed, "closed during the handshake");
	snprintf(t->why_buf, sizeof(t->why_buf), "handshake: %s",
		 wolfSSL_ERR_reason_error_string((unsigned long)err));
	return fail(t, ORIGIN_handshake, t->why_buf);
}

/* The handshake is done: the last line (verified means our callback
 * said so), then counted. */
static int handshake_done(struct pc_tls_client *t)
{
	if (t->b->origin_trust != NULL && !(t->checked && t->vreason == PC_VERIFY_OK))
		return fail(t, ORIGIN_cert_refused, "certificate: not verified");
	t->state = CL_OPEN;
	t->rec_overhead =
		(uint16_t)(wolfSSL_GetOutputSize(t->ssl, TLS_MAX_PLAINTEXT) - TLS_MAX_PLAINTEXT);
	if (t->b->origin_trust != NULL) {
		cnt()->verify[PC_VERIFY_OK]++;
		cnt()->outcome[ORIGIN_verified]++;
	} else {
		cnt()->outcome[ORIGIN_unverified]++;
	}
	return 1;
}

int pc_tls_client_handshake(struct pc_tls_client *t, const char **why)
{
	int ret, err;

	if (t->state == CL_OPEN)
		return 1;
	if (t->state == CL_HANDSHAKE) {
		ret = wolfSSL_connect(t->ssl);
		err = ret == WOLFSSL_SUCCESS ? 0 : wolfSSL_get_error(t->ssl, ret);
		if (ret == WOLFSSL_SUCCESS && handshake_done(t) == 1)
			return 1;
		if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) {
			if (!pc_tcp_fin_received(t->tcp) || pc_tcp_readable(t->tcp) != 0)
				return 0;
			fail(t, ORIGIN_peer_closed, "closed during the handshake");
		} else if (err != 0) {
			handshake_failed(t, err);
		}
	}
	*why = t->why;
	return -1;
}

/* A failure after the handshake: counted once, reported by reads. */
static void broken(struct pc_tls_client *t)
{
	if (t->state != CL_OPEN)
		return;
	if (alert_received(t)) {
		cnt()->outcome[ORIGIN_alert_received]++;
		t->why = t->why_buf;
	} else {
		cnt()->outcome[ORIGIN_record]++;
		t->why = "record error";
	}
	t->state = CL_FAILED;
}

const char *pc_tls_client_error(const struct pc_tls_client *t)
{
	return t->state == CL_FAILED ? t->why : NULL;
}

/* wolfSSL's own records that TCP did not take whole (a KeyUpdate
 * answer, which TLS_SPARE normally leaves room for): out first, when
 * they fit. false while they wait, or when the connection broke. */
static bool flush(struct pc_tls_client *t)
{
	static const uint8_t none;
	int r;

	if (!t->out_blocked)
		return true;
	r = wolfSSL_write(t->ssl, &none, 0);
	if (r >= 0)
		return !t->out_blocked;
	if (wolfSSL_get_error(t->ssl, r) != WOLFSSL_ERROR_WANT_WRITE)
		broken(t);
	return false;
}

long pc_tls_client_read(struct pc_tls_client *t, void *buf, size_t len, bool *err)
{
	int r, e;

	*err = false;
	if (t->state == CL_OPEN && !t->eof)
		flush(t);
	if (t->state != CL_OPEN) {
		*err = t->state == CL_FAILED;
		return -1;
	}
	if (t->eof)
		return -1;
	if (len == 0)
		return 0;
	r = wolfSSL_read(t->ssl, buf, (int)RTE_MIN(len, (size_t)INT32_MAX));
	if (r > 0)
		return r;
	e = wolfSSL_get_error(t->ssl, r);
	/* All read and the server's FIN came: its end, no close_notify. */
	if (e == WOLFSSL_ERROR_WANT_READ && pc_tcp_fin_received(t->tcp) &&
	    pc_tcp_readable(t->tcp) == 0)
		e = SOCKET_PEER_CLOSED_E;
	if (e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE)
		return 0;
	if (e == WOLFSSL_ERROR_ZERO_RETURN || e == SOCKET_PEER_CLOSED_E) {
		if (e != WOLFSSL_ERROR_ZERO_RETURN)
			cnt()->outcome[ORIGIN_no_close_notify]++;
		t->eof = true;
		return -1;
	}
	broken(t);
	*err = true;
	return -1;
}

bool pc_tls_client_pending(const struct pc_tls_client *t)
{
	/* Bytes in the receive buffer are records wolfSSL has not read: a
	 * read returns their plaintext, or 0 having taken them all (a record
	 * not complete yet: more comes with the next TCP event). */
	return t->state == CL_OPEN && !t->eof &&
	       (wolfSSL_pending(t->ssl) > 0 || pc_tcp_readable(t->tcp) > 0);
}

size_t pc_tls_client_readable(const struct pc_tls_client *t)
{
	int pending;

	if (t->state != CL_OPEN || t->eof)
		return 0;
	pending = wolfSSL_pending(t->ssl);
	return (pending > 0 ? (size_t)pending : 0) + pc_tcp_readable(t->tcp);
}

/* The plaintext of the next record TCP's send space can take whole, with
 * len bytes to write: 0 when none is worth making now. */
static size_t next_record(size_t space, uint16_t overhead, size_t len)
{
	size_t room;

	if (space <= (size_t)overhead + TLS_SPARE)
		return 0;
	room = RTE_MIN(space - overhead - TLS_SPARE, (size_t)TLS_MAX_PLAINTEXT);
	if (room < RTE_MIN(len, (size_t)TLS_MIN_SEND))
		return 0;
	return RTE_MIN(room, len);
}

size_t pc_tls_client_write(struct pc_tls_client *t, const void *buf, size_t len)
{
	size_t done = 0, n;

	if (t->state != CL_OPEN || !flush(t))
		return 0;
	while (done < len &&
	       (n = next_record(pc_tcp_write_space(t->tcp), t->rec_overhead, len - done)) != 0) {
		if (wolfSSL_write(t->ssl, (const uint8_t *)buf + done, (int)n) != (int)n) {
			broken(t);
			break;
		}
		done += n;
	}
	if (done < len)
		pc_tcp_notify_writable(t->tcp);
	return done;
}

size_t pc_tls_client_write_space(const struct pc_tls_client *t)
{
	size_t space, total = 0, n;

	if (t->state != CL_OPEN)
		return 0;
	/* What pc_tls_client_write() would take of an endless buffer, once
	 * what wolfSSL has waiting (at most TLS_SPARE bytes) is out. */
	space = pc_tcp_write_space(t->tcp);
	if (t->out_blocked)
		space -= RTE_MIN(space, (size_t)TLS_SPARE);
	while ((n = next_record(space, t->rec_overhead, SIZE_MAX)) != 0) {
		total += n;
		space -= n + t->rec_overhead;
	}
	return total;
}

void pc_tls_client_shutdown(struct pc_tls_client *t)
{
	if (t->state == CL_OPEN && flush(t))
		wolfSSL_shutdown(t->ssl);
}

void pc_tls_client_free(struct pc_tls_client *t)
{
	if (t == NULL)
		return;
	wolfSSL_free(t->ssl);
	cnt()->active--;
	XFREE(t, NULL, DYNAMIC_TYPE_TMP_BUFFER);
}

const char *pc_tls_origin_name(unsigned int i, const char **help)
{
	if (i >= ORIGIN__MAX)
		return NULL;
	*help = origin_help[i];
	return origin_names[i];
}

void pc_tls_origin_sums(struct pc_tls_origin_sums *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		const struct origin_counters *c = &origin_cnt[l];

		for (int i = 0; i < ORIGIN__MAX; i++)
			s->outcome[i] += __atomic_load_n(&c->outcome[i], __ATOMIC_RELAXED);
		for (int i = 0; i < PC_VERIFY_NB_REASONS; i++)
			s->verify[i] += __atomic_load_n(&c->verify[i], __ATOMIC_RELAXED);
		s->active += __atomic_load_n(&c->active, __ATOMIC_RELAXED);
	}
}

void pc_tls_origin_dump(FILE *out)
{
	struct pc_tls_origin_sums sum;

	pc_tls_origin_sums(&sum);
	fprintf(out, "tls_origin_connections_active %" PRIu64 "  # TLS connections to backends\n",
		sum.active);
	for (int i = 0; i < ORIGIN__MAX; i++)
		fprintf(out, "tls_origin_%s %" PRIu64 "  # %s\n", origin_names[i], sum.outcome[i],
			origin_help[i]);
	for (int i = 0; i < PC_VERIFY_NB_REASONS; i++) {
		char name[32];

		if (i == PC_VERIFY_IDENTITY)
			continue; /* counted as name_mismatch */
		snprintf(name, sizeof(name), "%s", pc_verify_reason_name(i));
		for (char *p = name; *p != '\0'; p++)
			if (*p == '-')
				*p = '_';
		fprintf(out, "tls_origin_verify_%s %" PRIu64 "  # %s\n", name, sum.verify[i],
			pc_verify_reason_help(i));
	}
}
