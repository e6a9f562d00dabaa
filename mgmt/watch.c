/* SPDX-License-Identifier: MIT */
/*
 * The file watcher: trust objects that come from files (certs' chains and
 * keys, ca-sets' CA and CRL files, backends' `tls` CA, chain and key, the
 * ticket-keys file) are reloaded when
 * their files change on disk, and server certificates are watched for
 * their expiry. A source of the management thread's loop (loop.c).
 *
 * inotify watches each file's DIRECTORY, not the file: tools replace
 * files in every way there is (write-then-rename by Vault Agent and
 * consul-template, Kubernetes' swap of the `..data` symlink of a secret
 * volume, a rewrite in place, delete and create), and a watch on a file
 * follows the inode that was renamed away or deleted. Events of a
 * directory are debounced: once it has been quiet for WATCH_QUIET_MS (or
 * WATCH_MAX_MS after its first event, for a directory written all the
 * time), each object with a file there whose name was in the events (or
 * that is a symlink, whose target can change without its own name
 * appearing) has its files' content compared with what it was built from
 * (SHA-256 of the bytes parsed). Changed objects are rebuilt from the same
 * spec in a trial, and those that build are committed in ONE transaction,
 * the one `pcctl commit` makes. One that does not build is refused with
 * one event line and keeps serving what it has; the same content is not
 * tried (nor logged) again, the next change is. A chain and key that do
 * not match may be half of a pair being written: the cert waits
 * WATCH_PAIR_WAIT_MS for the other half before it is refused.
 *
 * The watched objects follow the commits (pc_tls_set_commit_hook), so
 * objects added, changed or removed by pcctl are watched or dropped.
 * Main lcore only.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pc_mgmt.h"

#define WATCH_QUIET_MS 200
#define WATCH_MAX_MS 1000
#define WATCH_PAIR_WAIT_MS 5000
#define WATCH_EXPIRY_SCAN_MS 10000
#define WATCH_NAMES 32 /* names kept per directory; more: every file is a candidate */
#define WATCH_HASH 4096
#define WATCH_EVENTS (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | \
		      IN_ATTRIB | IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
/* The ticket-keys file is an object of its own kind. */
#define WATCH_TICKET_KEYS PC_TLS_NB_KINDS

struct wdir;
struct wobj;

/* One file of an object, in its directory's list. */
struct wlink {
	struct wlink *prev, *next;
	struct wobj *o;
	struct wdir *d;
	unsigned int file;     /* index in the object's files */
	bool symlink;          /* the path was a symlink when the object was built */
};

struct wobj {
	struct wobj *hnext, *cand;
	int kind;              /* enum pc_tls_kind, or WATCH_TICKET_KEYS */
	const char *name;      /* stored after the struct (one allocation) */
	unsigned int nlinks;
	struct wlink *links;
	bool queued;           /* in the candidate list */
	bool refused;          /* state was refused: not tried again */
	uint8_t state[32];     /* what the files held when last checked */
	uint64_t pair_deadline; /* ms: the other half of a pair may come until then; 0 */
	enum pc_tls_expiry expiry; /* the last state logged */
};

struct wdir {
	struct wdir *hnext, *wnext, *next; /* by path, by watch descriptor; all */
	char *path;
	int wd;                /* -1: not watched */
	struct wlink *links;
	bool pending, all;     /* all: every file here is a candidate */
	bool failed;           /* inotify_add_watch failed (logged) */
	uint64_t first_ms, last_ms;
	unsigned int nnames;
	char **names;          /* WATCH_NAMES of them once an event came */
};

static int ifd = -1;
static struct wobj *objs[WATCH_HASH];
static struct wdir *dir_hash[WATCH_HASH], *wd_hash[WATCH_HASH], *dirs;
static struct wobj tk = {.kind = WATCH_TICKET_KEYS, .name = "ticket-keys"};
static char tk_file[PC_TLS_PATH_MAX];
static uint64_t next_expiry_scan;
static unsigned int pair_waits; /* objects with a pair_deadline */
static unsigned int dirs_pending; /* directories with events not yet flushed */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static unsigned int hash(int kind, const char *s)
{
	uint32_t h = 2166136261u ^ (uint32_t)kind;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h % WATCH_HASH;
}

static const char *kind_word(int kind)
{
	return kind == PC_TLS_CERT	? "cert"
	       : kind == PC_TLS_CASET	? "ca-set"
	       : kind == PC_TLS_BACKEND ? "backend"
					: "tls";
}

/* --- directories -------------------------------------------------------- */

/* d's watch descriptor, and its place in wd_hash (events name it). */
static void dir_set_wd(struct wdir *d, int wd)
{
	struct wdir **pp;

	if (d->wd >= 0) {
		for (pp = &wd_hash[d->wd % WATCH_HASH]; *pp != d; pp = &(*pp)->wnext)
			;
		*pp = d->wnext;
	}
	d->wd = wd;
	if (wd >= 0) {
		d->wnext = wd_hash[wd % WATCH_HASH];
		wd_hash[wd % WATCH_HASH] = d;
	}
}

static struct wdir *dir_by_wd(int wd)
{
	struct wdir *d = wd >= 0 ? wd_hash[wd % WATCH_HASH] : NULL;

	while (d != NULL && d->wd != wd)
		d = d->wnext;
	return d;
}

/* Watch d (again); a failure is logged once, until it succeeds. */
static void dir_watch(struct wdir *d)
{
	if (ifd < 0 || d->wd >= 0)
		return;
	dir_set_wd(d, inotify_add_watch(ifd, d->path, WATCH_EVENTS));
	if (d->wd < 0 && !d->failed)
		pc_event("watch: %s: %s: its files are not watched until it can be", d->path,
			 strerror(errno));
	else if (d->wd >= 0 && d->failed)
		pc_event("watch: %s: watched again", d->path);
	d->failed = d->wd < 0;
}

static void dir_clear(struct wdir *d)
{
	for (unsigned int i = 0; i < d->nnames; i++)
		free(d->names[i]);
	free(d->names);
	d->names = NULL;
	d->nnames = 0;
	dirs_pending -= d->pending;
	d->pending = d->all = false;
}

/* The directory of path (made and watched when new), or NULL. */
static struct wdir *dir_get(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dpath[PC_TLS_PATH_MAX];
	struct wdir *d;
	unsigned int h;

	if (slash == NULL)
		snprintf(dpath, sizeof(dpath), ".");
	else if (slash == path)
		snprintf(dpath, sizeof(dpath), "/");
	else
		snprintf(dpath, sizeof(dpath), "%.*s", (int)(slash - path), path);
	h = hash(0, dpath);
	for (d = dir_hash[h]; d != NULL; d = d->hnext)
		if (strcmp(d->path, dpath) == 0) {
			dir_watch(d); /* again, if it went away and came back */
			return d;
		}
	d = calloc(1, sizeof(*d));
	if (d == NULL || (d->path = strdup(dpath)) == NULL) {
		free(d);
		return NULL;
	}
	d->wd = -1;
	d->hnext = dir_hash[h];
	dir_hash[h] = d;
	d->next = dirs;
	dirs = d;
	dir_watch(d);
	return d;
}

/* An event in d at now (all: every file there is a candidate). */
static void dir_touch(struct wdir *d, uint64_t now, bool all)
{
	if (!d->pending) {
		d->pending = true;
		d->first_ms = now;
		dirs_pending++;
	}
	d->last_ms = now;
	d->all |= all;
}

static void dir_put(struct wdir *d)
{
	struct wdir **pp;

	if (d->links != NULL)
		return;
	if (ifd >= 0 && d->wd >= 0)
		inotify_rm_watch(ifd, d->wd);
	dir_set_wd(d, -1);
	for (pp = &dir_hash[hash(0, d->path)]; *pp != d; pp = &(*pp)->hnext)
		;
	*pp = d->hnext;
	for (pp = &dirs; *pp != d; pp = &(*pp)->next)
		;
	*pp = d->next;
	dir_clear(d);
	free(d->path);
	free(d);
}

/* --- objects ------------------------------------------------------------ */

static struct wobj *obj_find(int kind, const char *name)
{
	for (struct wobj *o = objs[hash(kind, name)]; o != NULL; o = o->hnext)
		if (o->kind == kind && strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

static void set_pair_deadline(struct wobj *o, uint64_t t)
{
	pair_waits += (t != 0) - (o->pair_deadline != 0);
	o->pair_deadline = t;
}

static void obj_unlink(struct wobj *o)
{
	for (unsigned int i = 0; i < o->nlinks; i++) {
		struct wlink *l = &o->links[i];

		if (l->d == NULL)
			continue;
		if (l->prev != NULL)
			l->prev->next = l->next;
		else
			l->d->links = l->next;
		if (l->next != NULL)
			l->next->prev = l->prev;
		dir_put(l->d);
	}
	free(o->links);
	o->links = NULL;
	o->nlinks = 0;
}

/* The object's files, as the watcher sees them: n of them in paths. */
static int obj_files(const struct wobj *o, const char **paths, unsigned int max)
{
	if (o->kind == WATCH_TICKET_KEYS) {
		paths[0] = tk_file;
		return tk_file[0] != '\0' ? 1 : 0;
	}
	return pc_tls_object_files((enum pc_tls_kind)o->kind, o->name, paths, max);
}

/* Put each of the object's files in its directory's list. */
static void obj_link(struct wobj *o)
{
	const char *paths[PC_TLS_OBJ_FILES_MAX];
	int n = obj_files(o, paths, PC_TLS_OBJ_FILES_MAX);

	obj_unlink(o);
	if (n <= 0 || (o->links = calloc((size_t)n, sizeof(*o->links))) == NULL)
		return;
	o->nlinks = (unsigned int)n;
	for (int i = 0; i < n; i++) {
		struct wlink *l = &o->links[i];
		struct stat st;

		l->o = o;
		l->file = (unsigned int)i;
		l->symlink = lstat(paths[i], &st) == 0 && S_ISLNK(st.st_mode);
		l->d = dir_get(paths[i]);
		if (l->d == NULL)
			continue;
		l->next = l->d->links;
		if (l->next != NULL)
			l->next->prev = l;
		l->d->links = l;
	}
}

static void expiry_check(struct wobj *o, int64_t now);

/* After a commit (pc_tls_set_commit_hook): follow what it published. */
static void on_commit(enum pc_tls_kind kind, const char *name, bool deleted)
{
	struct wobj *o = obj_find(kind, name);

	if (deleted) {
		struct wobj **pp;

		if (o == NULL)
			return;
		set_pair_deadline(o, 0);
		obj_unlink(o);
		for (pp = &objs[hash(kind, name)]; *pp != o; pp = &(*pp)->hnext)
			;
		*pp = o->hnext;
		free(o);
		return;
	}
	if (o == NULL) {
		size_t len = strlen(name) + 1;

		o = calloc(1, sizeof(*o) + len);
		if (o == NULL) {
			pc_event("watch: %s %s: out of memory: its files are not watched",
				 kind_word(kind), name);
			return;
		}
		o->name = memcpy(o + 1, name, len);
		o->kind = kind;
		o->hnext = objs[hash(kind, name)];
		objs[hash(kind, name)] = o;
	}
	/* A new version: what was refused or awaited is history. */
	o->refused = false;
	set_pair_deadline(o, 0);
	obj_link(o);
	if (kind == PC_TLS_CERT)
		expiry_check(o, time(NULL));
}

/* --- reloading ---------------------------------------------------------- */

static struct wobj *cands;

static void candidate(struct wobj *o)
{
	if (o->queued)
		return;
	o->queued = true;
	o->cand = cands;
	cands = o;
}

static bool name_seen(const struct wdir *d, const char *path)
{
	const char *base = strrchr(path, '/');

	base = base != NULL ? base + 1 : path;
	for (unsigned int i = 0; i < d->nnames; i++)
		if (strcmp(d->names[i], base) == 0)
			return true;
	return false;
}

/* The objects with a file in d that the events may have changed: its name
 * was in them, or it is a symlink, whose target can change while only
 * another name (Kubernetes' `..data`) appears. */
static void dir_flush(struct wdir *d)
{
	for (struct wlink *l = d->links; l != NULL; l = l->next) {
		const char *paths[PC_TLS_OBJ_FILES_MAX];
		int n;

		if (l->o->queued)
			continue;
		if (d->all || l->symlink) {
			candidate(l->o);
			continue;
		}
		n = obj_files(l->o, paths, PC_TLS_OBJ_FILES_MAX);
		if ((int)l->file < n && name_seen(d, paths[l->file]))
			candidate(l->o);
	}
	dir_clear(d);
}


/* Refuse what o's files hold now (o->state): logged once, counted; the
 * same content is not tried again. */
static void refuse(struct wobj *o, const char *why)
{
	pc_event("watch: %s %s: refused: %s; the loaded one stays", kind_word(o->kind), o->name,
		 why);
	o->refused = true;
	pc_reloads.files_refused++;
	pc_reloads.files_last = time(NULL);
	pc_reloads.files_last_ok = false;
}

static void reload_ticket_keys(struct wobj *o)
{
	char err[PC_CMD_ERR_LEN];
	uint8_t state[32];

	if (pc_tls_ticket_keys_stale(state) != 1 ||
	    (o->refused && memcmp(state, o->state, sizeof(state)) == 0))
		return;
	memcpy(o->state, state, sizeof(state));
	if (pc_tls_ticket_keys_load(tk_file, err, sizeof(err)) != 0) {
		refuse(o, err);
		return;
	}
	o->refused = false;
	pc_event("watch: ticket keys reloaded from %s", tk_file);
	pc_reloads.files_ok++;
	pc_reloads.files_last = time(NULL);
	pc_reloads.files_last_ok = true;
}

/* Whether o is to be reloaded now: its files changed (o->state: what they
 * hold) and it builds from them. */
static bool ready(struct wobj *o, uint64_t now)
{
	enum pc_tls_kind kind = (enum pc_tls_kind)o->kind;
	char err[PC_CMD_ERR_LEN];
	uint8_t state[32];
	int rc = pc_tls_object_stale(kind, o->name, state);

	if (rc <= 0) {
		/* Back to what is loaded (or gone): nothing to wait for. */
		set_pair_deadline(o, 0);
		o->refused = false;
		return false;
	}
	if (o->refused && memcmp(state, o->state, sizeof(state)) == 0)
		return false;
	memcpy(o->state, state, sizeof(state));
	o->refused = false;
	rc = pc_tls_object_check(kind, o->name, err, sizeof(err));
	if (rc == PC_TLS_PAIR_MISMATCH && (o->pair_deadline == 0 || now < o->pair_deadline)) {
		if (o->pair_deadline == 0)
			set_pair_deadline(o, now + WATCH_PAIR_WAIT_MS);
		return false;
	}
	set_pair_deadline(o, 0);
	if (rc != 0) {
		refuse(o, err);
		return false;
	}
	return true;
}

/* The objects of list (linked by cand) re-staged with their specs in one
 * transaction and committed, the way `pcctl commit` does: 0, or -1 with
 * err set and nothing changed. */
static int commit_objects(struct wobj *list, char *err, size_t errlen)
{
	struct pc_tls_txn *x = pc_tls_txn_new();
	struct pc_tls_store_counts c;
	char what[1024] = "";
	unsigned int n = 0;
	size_t len = 0;

	if (x == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (struct wobj *o = list; o != NULL; o = o->cand, n++) {
		void *spec = o->kind == PC_TLS_CERT	 ? (void *)pc_tls_txn_cert(x, o->name, err, errlen)
			     : o->kind == PC_TLS_BACKEND ? (void *)pc_tls_txn_backend(x, o->name, err, errlen)
							 : (void *)pc_tls_txn_caset(x, o->name, err, errlen);

		if (spec == NULL) {
			pc_tls_txn_free(x);
			return -1;
		}
		if (len < sizeof(what))
			len += (size_t)snprintf(what + len, sizeof(what) - len, "%s%s %s",
						len ? ", " : "", kind_word(o->kind), o->name);
	}
	if (pc_tls_txn_commit(x, err, errlen) != 0) {
		pc_tls_txn_free(x);
		return -1;
	}
	pc_tls_txn_free(x);
	pc_tls_store_counts(&c);
	pc_event("watch: reloaded %s (files changed), generation %" PRIu64, what, c.generation);
	pc_reloads.files_ok += n;
	pc_reloads.files_last = time(NULL);
	pc_reloads.files_last_ok = true;
	return 0;
}

/* The candidates: each one checked, those ready committed together. A
 * commit refuses what checks alone cannot see (a CRL older than the one
 * in use, a file changed again meanwhile): then each object is tried on
 * its own, so that one bad object does not hold the others back. */
static void reload(uint64_t now)
{
	struct wobj *staged = NULL, *o, *next;
	char err[PC_CMD_ERR_LEN];

	for (o = cands, cands = NULL; o != NULL; o = next) {
		next = o->cand;
		o->queued = false;
		o->cand = NULL;
		if (o->kind == WATCH_TICKET_KEYS)
			reload_ticket_keys(o);
		else if (ready(o, now)) {
			o->cand = staged;
			staged = o;
		}
	}
	if (staged == NULL || commit_objects(staged, err, sizeof(err)) == 0) {
		for (o = staged; o != NULL; o = next) {
			next = o->cand;
			o->cand = NULL;
		}
		return;
	}
	if (staged->cand == NULL) {
		refuse(staged, err);
		return;
	}
	for (o = staged; o != NULL; o = next) {
		next = o->cand;
		o->cand = NULL;
		if (commit_objects(o, err, sizeof(err)) != 0)
			refuse(o, err);
	}
}

/* --- expiry ------------------------------------------------------------- */

static void expiry_check(struct wobj *o, int64_t now)
{
	int64_t t = pc_tls_cert_not_after(o->name);
	enum pc_tls_expiry x;
	char when[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == INT64_MIN)
		return;
	x = pc_tls_expiry_of(t, now);
	if (x > o->expiry) {
		gmtime_r(&tt, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (x == PC_TLS_EXPIRED)
			pc_event("watch: cert %s expired at %s", o->name, when);
		else
			pc_event("watch: cert %s expires at %s, within %u s (tls cert-expiry-warning)",
				 o->name, when, pc_tls_cert_expiry_warning());
	}
	o->expiry = x;
}

void pc_watch_expiry_scan(void)
{
	int64_t now = time(NULL);

	for (unsigned int h = 0; h < WATCH_HASH; h++)
		for (struct wobj *o = objs[h]; o != NULL; o = o->hnext)
			if (o->kind == PC_TLS_CERT)
				expiry_check(o, now);
	next_expiry_scan = now_ms() + WATCH_EXPIRY_SCAN_MS;
}

/* --- the loop source ---------------------------------------------------- */

static void read_events(void)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	uint64_t now = now_ms();
	ssize_t n;

	while ((n = read(ifd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			struct wdir *d;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				/* Events were lost: everything may have changed. */
				for (d = dirs; d != NULL; d = d->next)
					dir_touch(d, now, true);
				continue;
			}
			d = dir_by_wd(ev->wd);
			if (d == NULL)
				continue;
			if (ev->mask & IN_IGNORED)
				/* The directory went away (or was moved): its files
				 * are checked, and it is watched again once it is
				 * back (every WATCH_EXPIRY_SCAN_MS, and at a commit
				 * that names it). */
				dir_set_wd(d, -1);
			dir_touch(d, now, (ev->mask & IN_IGNORED) != 0);
			if (ev->len == 0 || d->all)
				continue;
			bool known = false;

			for (unsigned int i = 0; i < d->nnames && !known; i++)
				known = strcmp(d->names[i], ev->name) == 0;
			if (known)
				continue;
			if (d->names == NULL)
				d->names = calloc(WATCH_NAMES, sizeof(*d->names));
			if (d->names == NULL || d->nnames == WATCH_NAMES ||
			    (d->names[d->nnames] = strdup(ev->name)) == NULL)
				d->all = true;
			else
				d->nnames++;
		}
	}
}

static bool due(const struct wdir *d, uint64_t now)
{
	return d->pending &&
	       (now >= d->last_ms + WATCH_QUIET_MS || now >= d->first_ms + WATCH_MAX_MS);
}

static unsigned int watch_fds(struct pollfd *p, unsigned int max)
{
	if (ifd < 0 || max == 0)
		return 0;
	p[0] = (struct pollfd){.fd = ifd, .events = POLLIN};
	return 1;
}

/* The ticket-keys file is not a committed object: follow its name. */
static void follow_ticket_keys(void)
{
	const char *f = pc_tls_ticket_keys_file();

	if (strcmp(f, tk_file) == 0)
		return;
	snprintf(tk_file, sizeof(tk_file), "%s", f);
	tk.refused = false;
	obj_link(&tk);
}

static void pair_deadlines(uint64_t now)
{
	for (unsigned int h = 0; h < WATCH_HASH; h++)
		for (struct wobj *o = objs[h]; o != NULL; o = o->hnext)
			if (o->pair_deadline != 0 && now >= o->pair_deadline)
				candidate(o);
}

/* The first pair deadline (O(objects), so only when some object waits). */
static void first_pair_deadline(uint64_t *first)
{
	if (pair_waits == 0)
		return;
	for (unsigned int h = 0; h < WATCH_HASH; h++)
		for (struct wobj *o = objs[h]; o != NULL; o = o->hnext)
			if (o->pair_deadline != 0 && o->pair_deadline < *first)
				*first = o->pair_deadline;
}

static void watch_run(const struct pollfd *p, unsigned int n)
{
	uint64_t now, first = UINT64_MAX;

	follow_ticket_keys();
	if (n == 1 && (p[0].revents & POLLIN))
		read_events();
	now = now_ms();
	for (struct wdir *d = dirs; d != NULL && dirs_pending != 0; d = d->next)
		if (due(d, now))
			dir_flush(d);
	first_pair_deadline(&first);
	if (now >= first)
		pair_deadlines(now);
	if (cands != NULL)
		reload(now);
	if (now >= next_expiry_scan) {
		pc_watch_expiry_scan();
		/* Directories that could not be watched (gone, or not there
		 * yet) are tried again; what they hold is checked. */
		for (struct wdir *d = dirs; d != NULL; d = d->next)
			if (ifd >= 0 && d->wd < 0) {
				dir_watch(d);
				if (d->wd >= 0)
					dir_touch(d, now, true);
			}
	}
}

static int watch_next_ms(void)
{
	uint64_t now = now_ms(), first = next_expiry_scan;

	for (const struct wdir *d = dirs; d != NULL && dirs_pending != 0; d = d->next)
		if (d->pending) {
			uint64_t t = d->last_ms + WATCH_QUIET_MS;

			if (d->first_ms + WATCH_MAX_MS < t)
				t = d->first_ms + WATCH_MAX_MS;
			if (t < first)
				first = t;
		}
	first_pair_deadline(&first);
	return first <= now ? 0 : first - now > INT_MAX ? INT_MAX : (int)(first - now);
}

static const struct pc_loop_src watch_src = {
	.fds = watch_fds, .run = watch_run, .next_ms = watch_next_ms};

static void watch_start(void)
{
	if (ifd >= 0)
		return;
	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ifd < 0) {
		pc_event("watch: inotify: %s: files are not watched", strerror(errno));
		return;
	}
	for (struct wdir *d = dirs; d != NULL; d = d->next) {
		dir_watch(d);
		/* What changed while nobody watched is picked up now. */
		dir_touch(d, now_ms(), true);
	}
}

static void watch_stop(void)
{
	if (ifd < 0)
		return;
	close(ifd);
	ifd = -1;
	for (struct wdir *d = dirs; d != NULL; d = d->next) {
		dir_set_wd(d, -1);
		dir_clear(d);
	}
}

int pc_watch_init(const struct pc_cmd_ctx *ctx)
{
	pc_tls_set_cert_expiry_warning(ctx->tls->cert_expiry_warning_s);
	pc_tls_set_commit_hook(on_commit);
	if (!ctx->watch_off)
		watch_start();
	return pc_loop_add(&watch_src);
}

void pc_watch_fini(void)
{
	pc_loop_del(&watch_src);
	pc_tls_set_commit_hook(NULL);
	watch_stop();
	for (unsigned int h = 0; h < WATCH_HASH; h++)
		while (objs[h] != NULL) {
			struct wobj *o = objs[h];

			objs[h] = o->hnext;
			obj_unlink(o);
			free(o);
		}
	obj_unlink(&tk);
	tk_file[0] = '\0';
}

/* --- commands ----------------------------------------------------------- */

/* The handlers fill the configuration (ctx); the running process takes it
 * in apply (at run time) or pc_watch_init() (at start), so that a config
 * read again by `reload` changes nothing until it is applied. */
static int cmd_watch(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	bool on;

	if (pc_arg_on_off(ctx, argc, argv, &on))
		return -1;
	ctx->watch_off = !on;
	return 0;
}

static void apply_watch(const struct pc_cmd_ctx *ctx)
{
	if (!ctx->watch_off)
		watch_start();
	else
		watch_stop();
}

static int cmd_expiry_warning(struct pc_cmd_ctx *ctx, int argc, char **argv)
{
	return pc_arg_count(ctx, argc, 1) ||
	       pc_arg_u32(ctx, "seconds", argv[0], 0, 10 * 365 * 86400,
			  &ctx->tls->cert_expiry_warning_s);
}

static void apply_expiry_warning(const struct pc_cmd_ctx *ctx)
{
	pc_tls_set_cert_expiry_warning(ctx->tls->cert_expiry_warning_s);
	pc_watch_expiry_scan();
}

static const struct pc_cmd watch_cmds[] = {
	{"watch", "watch on|off  (reload trust objects whose files change)", cmd_watch, PC_CMD_RUN,
	 NULL, apply_watch},
	{"tls cert-expiry-warning", "tls cert-expiry-warning SECONDS  (flag certs expiring this soon)",
	 cmd_expiry_warning, PC_CMD_RUN, NULL, apply_expiry_warning},
};

const struct pc_cmd_table pc_cmds_watch = {watch_cmds, sizeof(watch_cmds) / sizeof(watch_cmds[0])};
