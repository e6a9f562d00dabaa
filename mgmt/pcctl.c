/* SPDX-License-Identifier: MIT */
/*
 * pcctl: the operator's client for portcullis's management socket (a Unix
 * stream socket). It sends commands one per line and prints each reply as it
 * arrives: a status line (OK or ERR <reason>), body lines, an empty line.
 * One command from the arguments, a session read from standard input, or an
 * interactive prompt (libedit) with history and Tab completion of the
 * command words the server lists in its `help`. Plain libc and libedit only.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <histedit.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define PCCTL_DEFAULT_SOCKET "/run/portcullis.sock"
#define PCCTL_LINE_MAX 4096 /* one command line, its newline included */
#define PCCTL_READ_BUF (64 * 1024)
#define PCCTL_MAX_WORDS 16 /* leading command words kept for completion */
#define PCCTL_HISTORY 1000

enum {
	PCCTL_EXIT_OK = 0,
	PCCTL_EXIT_ERR = 1,     /* the server answered ERR, or a command was refused */
	PCCTL_EXIT_TROUBLE = 2, /* usage, no connection, connection lost, protocol */
};

struct conn {
	int fd;
	const char *path;
	bool in_reply; /* some of the current reply has been read */
	size_t pos, len;
	char buf[PCCTL_READ_BUF];
};

/* Where reply text goes: a file descriptor, or a growing buffer (help). */
struct sink {
	int fd;
	bool collect;
	char *data;
	size_t len, cap;
};

/* The leading words of one command, from its usage line. */
struct cmd_words {
	int n;
	char *w[PCCTL_MAX_WORDS];
};

static struct cmd_words *pc_cmds;
static size_t pc_ncmds;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pcctl [-s SOCKET] [COMMAND WORDS...]\n"
		"       pcctl -h | --help\n"
		"\n"
		"Talks to portcullis's management socket (default " PCCTL_DEFAULT_SOCKET ").\n"
		"  pcctl COMMAND WORDS...  send one command, print its reply\n"
		"  pcctl < FILE            send each line of FILE on one connection (one\n"
		"                          session); blank lines and '#' comments are skipped\n"
		"  pcctl                   on a terminal: a prompt with history and Tab\n"
		"                          completion; quit, exit or Ctrl-D leaves\n"
		"Options:\n"
		"  -s, --socket SOCKET     the management socket\n"
		"  -h, --help              this text\n"
		"'pcctl help' lists the server's commands.\n"
		"Exit status: 0 OK; 1 the server answered ERR (stdin: to any line) or pcctl\n"
		"refused a command (longer than %d bytes with its newline); 2 bad usage, no\n"
		"connection, connection lost or a reply that breaks the protocol.\n",
		PCCTL_LINE_MAX);
}

/* All of buf to fd, through partial writes and EINTR. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int sink_write(struct sink *s, const char *buf, size_t len)
{
	if (s->collect) {
		if (s->len + len + 1 > s->cap) {
			size_t cap = s->cap ? s->cap : 4096;
			char *p;

			while (s->len + len + 1 > cap)
				cap *= 2;
			p = realloc(s->data, cap);
			if (p == NULL) {
				fprintf(stderr, "pcctl: out of memory\n");
				return -1;
			}
			s->data = p;
			s->cap = cap;
		}
		memcpy(s->data + s->len, buf, len);
		s->len += len;
		s->data[s->len] = '\0';
		return 0;
	}
	if (write_all(s->fd, buf, len) != 0) {
		/* A reader that went away (pcctl ... | head) needs no message. */
		if (errno != EPIPE)
			fprintf(stderr, "pcctl: writing the reply: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* A connect() interrupted by a signal goes on in the background. */
static int connect_wait(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int err = 0;
	socklen_t len = sizeof(err);

	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			return errno;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		return errno;
	return err;
}

static int conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	int fd, err = 0;

	c->fd = -1;
	c->path = path;
	c->in_reply = false;
	c->pos = c->len = 0;
	if (len == 0 || len >= sizeof(sa.sun_path)) {
		fprintf(stderr, "pcctl: cannot connect to '%s': %s\n", path,
			len == 0 ? "empty socket path" : "socket path too long");
		return -1;
	}
	memcpy(sa.sun_path, path, len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "pcctl: cannot connect to %s: socket: %s\n", path, strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		err = errno;
		if (err == EINTR)
			err = connect_wait(fd);
	}
	if (err != 0) {
		fprintf(stderr, "pcctl: cannot connect to %s: %s%s\n", path, strerror(err),
			err == ENOENT || err == ECONNREFUSED ?
				" (is portcullis running? -s names another socket)" : "");
		close(fd);
		return -1;
	}
	c->fd = fd;
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static void conn_closed(const struct conn *c)
{
	fprintf(stderr, "pcctl: %s: the server closed the connection%s\n", c->path,
		c->in_reply ? " in the middle of a reply" : "");
}

/* One command line (len bytes, no newline, at most PCCTL_LINE_MAX - 1). */
static int conn_send(struct conn *c, const char *line, size_t len)
{
	char out[PCCTL_LINE_MAX];
	const char *p = out;

	memcpy(out, line, len);
	out[len++] = '\n';
	while (len > 0) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE || errno == ECONNRESET)
				conn_closed(c);
			else
				fprintf(stderr, "pcctl: %s: send: %s\n", c->path, strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int conn_fill(struct conn *c)
{
	for (;;) {
		ssize_t n = read(c->fd, c->buf, sizeof(c->buf));

		if (n > 0) {
			c->pos = 0;
			c->len = (size_t)n;
			return 0;
		}
		if (n == 0 || errno == ECONNRESET) {
			conn_closed(c);
			return -1;
		}
		if (errno != EINTR) {
			fprintf(stderr, "pcctl: %s: read: %s\n", c->path, strerror(errno));
			return -1;
		}
	}
}

static int conn_getc(struct conn *c)
{
	if (c->pos == c->len && conn_fill(c) != 0)
		return -1;
	return (unsigned char)c->buf[c->pos++];
}

/* The rest of the current line, its newline included, to out. */
static int copy_line(struct conn *c, struct sink *out)
{
	for (;;) {
		const char *p, *nl;
		size_t n;

		if (c->pos == c->len && conn_fill(c) != 0)
			return -1;
		p = c->buf + c->pos;
		nl = memchr(p, '\n', c->len - c->pos);
		n = nl != NULL ? (size_t)(nl - p) + 1 : c->len - c->pos;
		if (sink_write(out, p, n) != 0)
			return -1;
		c->pos += n;
		if (nl != NULL)
			return 0;
	}
}

/*
 * Body lines up to the empty line that ends the reply, streamed to out a
 * buffer at a time: the reply may be far larger than any buffer.
 */
static int copy_body(struct conn *c, struct sink *out)
{
	bool bol = true; /* at the start of a body line */

	for (;;) {
		const char *start, *q, *end;
		bool done = false;

		if (c->pos == c->len && conn_fill(c) != 0)
			return -1;
		start = q = c->buf + c->pos;
		end = c->buf + c->len;
		while (q < end) {
			const char *nl;

			if (bol && *q == '\n') {
				done = true;
				break;
			}
			nl = memchr(q, '\n', (size_t)(end - q));
			if (nl == NULL) {
				bol = false;
				q = end;
				break;
			}
			q = nl + 1;
			bol = true;
		}
		if (q > start && sink_write(out, start, (size_t)(q - start)) != 0)
			return -1;
		c->pos = (size_t)(q - c->buf) + (done ? 1 : 0);
		if (done)
			return 0;
	}
}

static void protocol_error(const struct conn *c, const char *head, size_t n)
{
	char shown[4 * 4 + 1], *p = shown;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)head[i];

		if (isprint(ch) && ch != '\\')
			*p++ = (char)ch;
		else
			p += sprintf(p, "\\x%02x", ch);
	}
	*p = '\0';
	fprintf(stderr, "pcctl: %s: protocol error: the status line is neither OK nor ERR "
		"(it starts \"%s\")\n", c->path, shown);
}

/*
 * One reply: the status line (an ERR line goes to err), the body to body.
 * Returns 0 on OK, 1 on ERR, -1 when the connection or the output failed or
 * the reply broke the protocol (reported).
 */
static int read_reply(struct conn *c, struct sink *body, struct sink *err)
{
	char head[4];
	size_t n = 0;
	bool nl = false;
	int status;

	c->in_reply = false;
	while (n < sizeof(head)) {
		int ch = conn_getc(c);

		if (ch < 0)
			return -1;
		c->in_reply = true;
		if (ch == '\n') {
			nl = true;
			break;
		}
		head[n++] = (char)ch;
	}
	if (nl && n == 2 && memcmp(head, "OK", 2) == 0) {
		status = 0;
	} else if (nl && n == 3 && memcmp(head, "ERR", 3) == 0) {
		status = 1;
		if (sink_write(err, "ERR\n", 4) != 0)
			return -1;
	} else if (!nl && memcmp(head, "ERR ", 4) == 0) {
		status = 1;
		if (sink_write(err, head, 4) != 0 || copy_line(c, err) != 0)
			return -1;
	} else {
		protocol_error(c, head, n);
		return -1;
	}
	if (copy_body(c, body) != 0)
		return -1;
	c->in_reply = false;
	return status;
}

/* Why pcctl will not send this line, or NULL if it will. */
static const char *line_refusal(const char *line, size_t len, char *why, size_t whylen)
{
	if (len + 1 > PCCTL_LINE_MAX) {
		snprintf(why, whylen,
			 "command too long: %zu bytes with its newline, the limit is %d", len + 1,
			 PCCTL_LINE_MAX);
		return why;
	}
	if (memchr(line, '\n', len) != NULL)
		return "command contains a newline";
	if (memchr(line, '\0', len) != NULL)
		return "command contains a NUL byte";
	return NULL;
}

static bool blank_or_comment(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && isspace((unsigned char)line[i]))
		i++;
	return i == len || line[i] == '#';
}

/* One command from the words of the command line. */
static int run_args(struct conn *c, int argc, char **argv)
{
	struct sink out = {.fd = STDOUT_FILENO}, err = {.fd = STDERR_FILENO};
	size_t len = 0;
	char why[128], *line, *p;
	const char *refusal;
	int r;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + (i > 0);
	line = p = malloc(len + 1);
	if (line == NULL) {
		fprintf(stderr, "pcctl: out of memory\n");
		return PCCTL_EXIT_TROUBLE;
	}
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (i > 0)
			*p++ = ' ';
		memcpy(p, argv[i], n);
		p += n;
	}
	*p = '\0';
	refusal = line_refusal(line, len, why, sizeof(why));
	if (refusal == NULL && blank_or_comment(line, len))
		refusal = "empty command";
	if (refusal != NULL) {
		fprintf(stderr, "pcctl: %s; not sent\n", refusal);
		free(line);
		return PCCTL_EXIT_ERR;
	}
	r = conn_send(c, line, len);
	free(line);
	if (r != 0)
		return PCCTL_EXIT_TROUBLE;
	r = read_reply(c, &out, &err);
	return r < 0 ? PCCTL_EXIT_TROUBLE : r == 1 ? PCCTL_EXIT_ERR : PCCTL_EXIT_OK;
}

/*
 * Standard input as one session: each line sent, its reply read and printed
 * before the next. An ERR does not stop the session; a line pcctl refuses
 * does (the lines after it may depend on it), and the connection closes.
 */
static int run_stdin(struct conn *c)
{
	struct sink out = {.fd = STDOUT_FILENO}, err = {.fd = STDERR_FILENO};
	char *line = NULL, why[128];
	size_t cap = 0;
	ssize_t n;
	unsigned long lineno = 0;
	int rc = PCCTL_EXIT_OK;

	while ((n = getline(&line, &cap, stdin)) != -1) {
		size_t len = (size_t)n;
		const char *refusal;
		int r;

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (blank_or_comment(line, len))
			continue;
		refusal = line_refusal(line, len, why, sizeof(why));
		if (refusal != NULL) {
			fprintf(stderr, "pcctl: standard input line %lu: %s; not sent, "
				"and nothing after it\n", lineno, refusal);
			rc = PCCTL_EXIT_ERR;
			break;
		}
		if (conn_send(c, line, len) != 0) {
			rc = PCCTL_EXIT_TROUBLE;
			break;
		}
		r = read_reply(c, &out, &err);
		if (r < 0) {
			rc = PCCTL_EXIT_TROUBLE;
			break;
		}
		if (r == 1)
			rc = PCCTL_EXIT_ERR;
	}
	if (n == -1 && ferror(stdin)) {
		fprintf(stderr, "pcctl: reading standard input: %s\n", strerror(errno));
		rc = PCCTL_EXIT_TROUBLE;
	}
	free(line);
	return rc;
}

/* A usage-line token that stands for a value or a choice, not a word. */
static bool is_placeholder(const char *tok)
{
	for (const char *p = tok; *p != '\0'; p++)
		if (isupper((unsigned char)*p) || strchr("[]|<>.:", *p) != NULL)
			return true;
	return false;
}

static int add_cmd(char **words, int n)
{
	struct cmd_words *p = realloc(pc_cmds, (pc_ncmds + 1) * sizeof(*pc_cmds));
	struct cmd_words *cw;

	if (p == NULL)
		return -1;
	pc_cmds = p;
	cw = &pc_cmds[pc_ncmds];
	cw->n = 0;
	for (int i = 0; i < n; i++) {
		cw->w[i] = strdup(words[i]);
		if (cw->w[i] == NULL) {
			while (i-- > 0)
				free(cw->w[i]);
			return -1;
		}
	}
	cw->n = n;
	pc_ncmds++;
	return 0;
}

/* The completion words: the leading words of each usage line of `help`. */
static void learn_cmds(char *help)
{
	static char *local[] = {"help", "quit", "exit"};
	char *save_line = NULL;

	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		add_cmd(&local[i], 1);
	if (help == NULL)
		return;
	for (char *l = strtok_r(help, "\n", &save_line); l != NULL;
	     l = strtok_r(NULL, "\n", &save_line)) {
		char *words[PCCTL_MAX_WORDS], *save = NULL;
		int n = 0;

		for (char *t = strtok_r(l, " \t", &save); t != NULL && n < PCCTL_MAX_WORDS;
		     t = strtok_r(NULL, " \t", &save)) {
			if (is_placeholder(t))
				break;
			words[n++] = t;
		}
		if (n > 0)
			add_cmd(words, n);
	}
}

static void free_cmds(void)
{
	for (size_t i = 0; i < pc_ncmds; i++)
		for (int j = 0; j < pc_cmds[i].n; j++)
			free(pc_cmds[i].w[j]);
	free(pc_cmds);
	pc_cmds = NULL;
	pc_ncmds = 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Tab: complete the word before the cursor from the commands whose leading
 * words match the words before it. One candidate is inserted with a space
 * after it; several extend the word to their common prefix, or, when that
 * adds nothing, are listed.
 */
static unsigned char complete(EditLine *el, int ch)
{
	const LineInfo *li = el_line(el);
	size_t upto = (size_t)(li->cursor - li->buffer), ws, plen, nc = 0, common;
	char line[PCCTL_LINE_MAX], *before[PCCTL_MAX_WORDS], *save = NULL;
	const char *prefix, **cand;
	int nb = 0;
	unsigned char ret;

	(void)ch;
	if (upto >= sizeof(line))
		return CC_REFRESH_BEEP;
	memcpy(line, li->buffer, upto);
	line[upto] = '\0';
	ws = upto;
	while (ws > 0 && !isspace((unsigned char)line[ws - 1]))
		ws--;
	prefix = li->buffer + ws; /* the word being completed, plen bytes */
	plen = upto - ws;
	line[ws] = '\0'; /* the words before it */
	for (char *t = strtok_r(line, " \t\r\n", &save); t != NULL;
	     t = strtok_r(NULL, " \t\r\n", &save)) {
		if (nb == PCCTL_MAX_WORDS)
			return CC_REFRESH_BEEP;
		before[nb++] = t;
	}
	cand = malloc((pc_ncmds ? pc_ncmds : 1) * sizeof(*cand));
	if (cand == NULL)
		return CC_ERROR;
	for (size_t i = 0; i < pc_ncmds; i++) {
		const struct cmd_words *cw = &pc_cmds[i];
		int j;

		if (cw->n <= nb)
			continue;
		for (j = 0; j < nb && strcmp(cw->w[j], before[j]) == 0; j++)
			;
		if (j == nb && strncmp(cw->w[nb], prefix, plen) == 0)
			cand[nc++] = cw->w[nb];
	}
	if (nc == 0) {
		free(cand);
		return CC_REFRESH_BEEP;
	}
	qsort(cand, nc, sizeof(*cand), cmp_str);
	{
		size_t k = 1;

		for (size_t i = 1; i < nc; i++)
			if (strcmp(cand[i], cand[k - 1]) != 0)
				cand[k++] = cand[i];
		nc = k;
	}
	common = strlen(cand[0]);
	for (size_t i = 1; i < nc; i++) {
		size_t k = 0;

		while (k < common && cand[i][k] == cand[0][k])
			k++;
		common = k;
	}
	if (nc == 1 || common > plen) {
		char ins[PCCTL_LINE_MAX];
		int len = snprintf(ins, sizeof(ins), "%.*s%s", (int)(common - plen),
				   cand[0] + plen, nc == 1 ? " " : "");

		ret = len > 0 && (size_t)len < sizeof(ins) && el_insertstr(el, ins) == 0 ?
			CC_REFRESH : CC_ERROR;
	} else {
		fputc('\n', stdout);
		for (size_t i = 0; i < nc; i++)
			fprintf(stdout, "%s%s", i > 0 ? "  " : "", cand[i]);
		fputc('\n', stdout);
		fflush(stdout);
		ret = CC_REDISPLAY;
	}
	free(cand);
	return ret;
}

static char *prompt(EditLine *el)
{
	static char p[] = "pcctl> ";

	(void)el;
	return p;
}

/* The line without surrounding blanks is exactly word. */
static bool is_word(const char *line, size_t len, const char *word)
{
	size_t wl = strlen(word);

	while (len > 0 && isspace((unsigned char)*line)) {
		line++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)line[len - 1]))
		len--;
	return len == wl && memcmp(line, word, wl) == 0;
}

/* A prompt on the terminal; replies and ERR lines go to standard output. */
static int run_interactive(struct conn *c)
{
	struct sink out = {.fd = STDOUT_FILENO}, help = {.collect = true};
	EditLine *el;
	History *hist;
	HistEvent ev;
	char why[128];
	int r, rc = PCCTL_EXIT_OK;

	/* The completion words, from the server. */
	if (conn_send(c, "help", 4) != 0)
		return PCCTL_EXIT_TROUBLE;
	r = read_reply(c, &help, &out);
	if (r < 0) {
		free(help.data);
		return PCCTL_EXIT_TROUBLE;
	}
	if (r == 1)
		fprintf(stderr,
			"pcctl: the server refused 'help': no Tab completion of commands\n");
	learn_cmds(r == 0 ? help.data : NULL);
	free(help.data);

	setlocale(LC_CTYPE, "");
	el = el_init("pcctl", stdin, stdout, stderr);
	hist = history_init();
	if (el == NULL || hist == NULL) {
		fprintf(stderr, "pcctl: cannot set up line editing\n");
		if (el != NULL)
			el_end(el);
		if (hist != NULL)
			history_end(hist);
		free_cmds();
		return PCCTL_EXIT_TROUBLE;
	}
	history(hist, &ev, H_SETSIZE, PCCTL_HISTORY);
	history(hist, &ev, H_SETUNIQUE, 1);
	el_set(el, EL_EDITOR, "emacs");
	el_set(el, EL_SIGNAL, 1);
	el_set(el, EL_PROMPT, prompt);
	el_set(el, EL_HIST, history, hist);
	/* The wide form: libedit's narrow EL_ADDFN leaks its copies of the names. */
	el_wset(el, EL_ADDFN, L"pcctl-complete", L"complete a command word", complete);
	el_set(el, EL_BIND, "^I", "pcctl-complete", NULL);
	el_source(el, NULL); /* ~/.editrc, if any */

	for (;;) {
		int count = 0;
		const char *got = el_gets(el, &count);
		const char *refusal;
		char *line;
		size_t len;

		if (got == NULL || count <= 0) {
			if (count < 0 && errno == EINTR)
				continue;
			fputc('\n', stdout); /* Ctrl-D: leave the shell a fresh line */
			fflush(stdout);
			break;
		}
		len = (size_t)count;
		if (got[len - 1] == '\n')
			len--;
		line = malloc(len + 1);
		if (line == NULL) {
			fprintf(stderr, "pcctl: out of memory\n");
			rc = PCCTL_EXIT_TROUBLE;
			break;
		}
		memcpy(line, got, len);
		line[len] = '\0';
		if (blank_or_comment(line, len)) {
			free(line);
			continue;
		}
		if (strlen(line) == len)
			history(hist, &ev, H_ENTER, line);
		if (is_word(line, len, "quit") || is_word(line, len, "exit")) {
			free(line);
			break;
		}
		refusal = line_refusal(line, len, why, sizeof(why));
		if (refusal != NULL) {
			fprintf(stderr, "pcctl: %s; not sent\n", refusal);
			free(line);
			continue;
		}
		r = conn_send(c, line, len);
		free(line);
		if (r != 0 || read_reply(c, &out, &out) < 0) {
			rc = PCCTL_EXIT_TROUBLE;
			break;
		}
	}
	el_end(el);
	history_end(hist);
	free_cmds();
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = PCCTL_DEFAULT_SOCKET;
	struct sigaction sa = {.sa_handler = SIG_IGN};
	struct conn *c;
	int opt, rc;

	/* "+": the command words after the options are never taken as options. */
	while ((opt = getopt_long(argc, argv, "+s:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return PCCTL_EXIT_OK;
		default:
			fprintf(stderr, "usage: pcctl [-s SOCKET] [COMMAND WORDS...] "
				"(pcctl --help for more)\n");
			return PCCTL_EXIT_TROUBLE;
		}
	}
	/* A closed socket or output shows as EPIPE from write(), not a signal. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);

	c = malloc(sizeof(*c));
	if (c == NULL) {
		fprintf(stderr, "pcctl: out of memory\n");
		return PCCTL_EXIT_TROUBLE;
	}
	if (conn_open(c, path) != 0) {
		free(c);
		return PCCTL_EXIT_TROUBLE;
	}
	if (optind < argc)
		rc = run_args(c, argc - optind, argv + optind);
	else if (!isatty(STDIN_FILENO))
		rc = run_stdin(c);
	else
		rc = run_interactive(c);
	conn_close(c);
	free(c);
	return rc;
}
