// SPDX-License-Identifier: MIT
/*
 * pc_impair: an Ethernet impairment relay for the portcullis lab, which
 * stands in for netem (not built into the lab machine's kernel).
 *
 *   pc_impair --a IF --b IF [--seed N] [IMPAIRMENT VALUE]...
 *
 * Run as root inside a network namespace that holds both interfaces
 * (`scripts/lab.sh impair ARGS` starts it in NAME-impair between the lossy
 * client and the bridge). Every frame that arrives on A leaves through B,
 * and every frame that arrives on B leaves through A. Each direction (a2b,
 * b2a) applies its own impairments, in this order:
 *
 *   loss -> corruption -> duplication -> reordering -> delay line -> send
 *
 * Each impairment option (--loss, --dup, ...; see usage()) sets both
 * directions; --a2b-NAME and --b2a-NAME set one direction and win over
 * --NAME whatever their order on the command line.
 *
 * Frames leave each direction in the order they arrived, except those that
 * --reorder holds back: jitter only varies how long a frame waits (never
 * less than the frame ahead of it, as on a real link), so that reordering
 * seen by a test comes from --reorder alone and is counted.
 *
 * Decisions come from one xoshiro256** stream per direction, both derived
 * from --seed (printed at start, so that a run with a random seed can be
 * repeated): a direction's decisions then depend only on the frames it
 * carries, not on how they interleave with the other direction.
 *
 * What it relays is what a wire would carry: a checksum the sender left to
 * offload is filled in before corruption (so receivers catch the flipped
 * bit); a VLAN tag the kernel moved into metadata is put back; a frame
 * bigger than FRAME_MAX or a GSO/GRO super-frame is dropped (oversize), so
 * the interfaces around it need TSO, GSO and GRO off (lab.sh does that).
 * Corruption is caught by the receiving kernel's checksums, but a raw
 * socket gets its copy before that check: ping (raw ICMP) shows corrupted
 * replies, and a corrupted timestamp can make it wait for hours at exit.
 *
 * SIGUSR1 prints the counters; SIGINT or SIGTERM prints them and exits 0.
 * Frames still queued at exit are dropped (the "queued" gauge shows them).
 *
 * I/O: AF_PACKET sockets with recvmmsg/sendmmsg, batches of BATCH frames,
 * one thread, ppoll() sleeping until a socket is readable or the next
 * delayed frame is due. That carried 2.8 Gbit/s of unimpaired TCP on the
 * 2-core lab machine (against 8 Gbit/s straight across the bridge).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* recvmmsg, sendmmsg, ppoll */
#endif
/* <net/if.h> first: after the <linux/...> headers it redefines IFF_*. */
#include <net/if.h>
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Largest frame relayed (a 9000-byte jumbo frame with two VLAN tags fits).
 * Anything bigger, or a GSO/GRO super-frame that the kernel hands over
 * whole, is dropped and counted as oversize: it could not cross a wire. */
#define FRAME_MAX 9216
#define VLAN_HLEN 4
/* Room for a frame with its VLAN tag put back (see restore_vlan()). */
#define SLOT_DATA (FRAME_MAX + VLAN_HLEN)
#define VNET_LEN sizeof(struct virtio_net_hdr)

/* Frames per recvmmsg/sendmmsg: amortises the syscall while staying well
 * under the veth backlog (netdev_max_backlog, 1000) that a send lands in. */
#define BATCH 64
/* Receive batches per direction per wake-up, so that one busy direction
 * does not make the other's due frames wait. */
#define RX_ROUNDS 8
/* Receive buffer per socket: absorbs bursts while the relay is busy with
 * the other direction (frames the kernel still drops are counted as
 * kernel_drops). */
#define RCVBUF_BYTES (8 << 20)

#define NS_PER_MS 1000000LL
#define NS_PER_S 1000000000LL

/* ---- options ------------------------------------------------------------ */

/* One direction's impairments. All doubles, so that the option table can
 * address every field the same way; counts are checked to be integers. */
struct impair {
	double loss, corrupt, dup, reorder, reorder_gap, reorder_ms, delay, jitter, queue;
};

enum kind { PROB, MS, COUNT };

static const struct param {
	const char *name;
	size_t off; /* into struct impair */
	enum kind kind;
	double def, max;
	const char *help;
} params[] = {
	{"loss", offsetof(struct impair, loss), PROB, 0, 1,
	 "probability that a frame is dropped"},
	{"corrupt", offsetof(struct impair, corrupt), PROB, 0, 1,
	 "probability that one random bit after the Ethernet header is flipped"},
	{"dup", offsetof(struct impair, dup), PROB, 0, 1,
	 "probability that a frame is sent twice"},
	{"reorder", offsetof(struct impair, reorder), PROB, 0, 1,
	 "probability that a frame is held back and sent later"},
	{"reorder-gap", offsetof(struct impair, reorder_gap), COUNT, 3, 1000,
	 "a held-back frame is sent after this many later frames..."},
	{"reorder-ms", offsetof(struct impair, reorder_ms), MS, 10, 60000,
	 "...or after this many ms, whichever comes first"},
	{"delay", offsetof(struct impair, delay), MS, 0, 60000,
	 "one-way delay (ms)"},
	{"jitter", offsetof(struct impair, jitter), MS, 0, 60000,
	 "the delay varies uniformly within +-this (ms); order is kept"},
	{"queue", offsetof(struct impair, queue), COUNT, 4096, 65536,
	 "frames a direction may hold (delayed or held back); more are "
	 "dropped (queue_overflow)"},
};
#define NPARAMS (sizeof params / sizeof params[0])

/* Where an option applies: --NAME, --a2b-NAME, --b2a-NAME. */
enum scope { BOTH, A2B, B2A, NSCOPES };
static const char *const scope_prefix[NSCOPES] = {"", "a2b-", "b2a-"};

/* getopt_long values: plain options use their letter, impairment options
 * OPT_PARAM + scope * NPARAMS + index into params[]. */
#define OPT_PARAM 0x100

static double *field(struct impair *imp, const struct param *p)
{
	return (double *)((char *)imp + p->off);
}

/* ---- counters ----------------------------------------------------------- */

/* Per direction. Every received frame is dropped, oversize, or too short
 * for Ethernet (rx_errors), or goes on as one copy or two (duplicated);
 * every copy is forwarded, refused by the kernel (tx_errors), dropped for
 * want of room (queue_overflow) or still waiting (the "queued" gauge). */
#define COUNTERS(X)                                                          \
	X(received)       /* frames read from the input interface */         \
	X(forwarded)      /* frames sent, duplicates included */             \
	X(dropped)        /* --loss */                                       \
	X(duplicated)     /* --dup: extra copies made */                     \
	X(reordered)      /* --reorder: frames held back */                  \
	X(corrupted)      /* --corrupt: frames with a flipped bit */         \
	X(queue_overflow) /* no room in the queue (--queue) */               \
	X(oversize)       /* bigger than FRAME_MAX, or a GSO super-frame */  \
	X(rx_errors)      /* receive errors, frames shorter than Ethernet */ \
	X(tx_errors)      /* sends the kernel refused (frame lost) */        \
	X(kernel_drops)   /* socket buffer overruns (PACKET_STATISTICS) */

struct counters {
#define X(ctr) uint64_t ctr;
	COUNTERS(X)
#undef X
};

/* ---- state -------------------------------------------------------------- */

struct slot {
	int64_t release_ns; /* delay line: may be sent from then on */
	int64_t hold_until; /* held back: released by time at the latest... */
	uint64_t hold_after; /* ...or once the line has taken this many frames */
	uint32_t len;
	unsigned char data[SLOT_DATA];
};

/* FIFO of slot indices; capacity = number of slots, so it cannot fill. */
struct ring {
	uint32_t *idx;
	uint32_t head, count, cap;
};

struct rng {
	uint64_t s[4];
};

struct dir {
	const char *name; /* "a2b", "b2a" */
	int rx_fd, tx_fd;
	struct impair cfg;
	int64_t delay_ns, jitter_ns, hold_ns;
	uint64_t gap;
	struct rng rng;
	struct slot *slots;
	uint32_t *free; /* stack of free slot indices: LIFO keeps few hot */
	uint32_t nfree;
	struct ring line; /* delay line, in sending order */
	struct ring held; /* frames held back by --reorder, oldest first */
	uint64_t entered; /* frames that have entered the delay line */
	int64_t tail_release; /* release time of the newest frame in line */
	struct counters c;
};

/* Receive and send batches. One set serves both directions: a batch is
 * finished before the next one is read. Each receive buffer keeps
 * VLAN_HLEN bytes in front of the virtio header, so that a VLAN tag can
 * be put back in place once that header has been read. */
static unsigned char rx_buf[BATCH][VLAN_HLEN + VNET_LEN + FRAME_MAX];
static union {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
} rx_ctrl[BATCH];
static struct iovec rx_iov[BATCH];
static struct mmsghdr rx_msgs[BATCH];
static struct iovec tx_iov[BATCH];
static struct mmsghdr tx_msgs[BATCH];

static volatile sig_atomic_t stop_requested, dump_requested;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump_requested = 1;
	else
		stop_requested = 1;
}

/* Exit status: 2 for bad usage, 1 for a set-up failure. */
static void die(int status, const char *fmt, ...)
{
	va_list ap;
	fputs("pc_impair: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* ---- PRNG: splitmix64 seeds xoshiro256** (Blackman & Vigna) ------------- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [0, 1), 53 bits. */
static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Draws only for an impairment that is on (p = 0 costs nothing). With the
 * same seed, options and frames, a run makes the same decisions. */
static bool chance(struct rng *r, double p)
{
	return p > 0 && rng_unit(r) < p;
}

/* ---- rings -------------------------------------------------------------- */

static void ring_push(struct ring *r, uint32_t v)
{
	r->idx[(r->head + r->count) % r->cap] = v;
	r->count++;
}

static uint32_t ring_peek(const struct ring *r)
{
	return r->idx[r->head];
}

static uint32_t ring_pop(struct ring *r)
{
	uint32_t v = r->idx[r->head];
	r->head = (r->head + 1) % r->cap;
	r->count--;
	return v;
}

/* ---- the pipeline ------------------------------------------------------- */

/* Sends tx_msgs[0..n). A frame the kernel refuses (device down, bigger
 * than the output's MTU) is counted and skipped; the rest still go. */
static void send_batch(struct dir *d, unsigned int n)
{
	unsigned int done = 0;
	while (done < n) {
		int r = sendmmsg(d->tx_fd, tx_msgs + done, n - done, 0);
		if (r <= 0) {
			d->c.tx_errors++;
			done++;
		} else {
			d->c.forwarded += (unsigned int)r;
			done += (unsigned int)r;
		}
	}
}

static void line_push(struct dir *d, uint32_t i)
{
	struct slot *s = &d->slots[i];
	/* Never before the frame ahead of it: jitter does not reorder. */
	if (s->release_ns < d->tail_release)
		s->release_ns = d->tail_release;
	d->tail_release = s->release_ns;
	ring_push(&d->line, i);
	d->entered++;
}

/* Sends every frame that is due at `now`, after moving held-back frames
 * whose time is up into the line. */
static void flush(struct dir *d, int64_t now)
{
	while (d->held.count && d->slots[ring_peek(&d->held)].hold_until <= now)
		line_push(d, ring_pop(&d->held));
	while (d->line.count && d->slots[ring_peek(&d->line)].release_ns <= now) {
		uint32_t idx[BATCH];
		unsigned int n = 0;
		while (n < BATCH && d->line.count &&
		       d->slots[ring_peek(&d->line)].release_ns <= now) {
			struct slot *s;
			idx[n] = ring_pop(&d->line);
			s = &d->slots[idx[n]];
			tx_iov[n] = (struct iovec){.iov_base = s->data, .iov_len = s->len};
			tx_msgs[n].msg_hdr = (struct msghdr){.msg_iov = &tx_iov[n], .msg_iovlen = 1};
			n++;
		}
		send_batch(d, n);
		for (unsigned int k = 0; k < n; k++)
			d->free[d->nfree++] = idx[k];
	}
}

/* Queues one copy of a frame: held back (--reorder) or into the delay
 * line. `release` is when it may go out. */
static void place(struct dir *d, const unsigned char *f, uint32_t len, int64_t release,
		  int64_t now)
{
	uint32_t i;
	struct slot *s;

	/* With little or no delay the queue holds only frames already due:
	 * send them rather than count an overflow the link would not have. */
	if (d->nfree == 0)
		flush(d, now);
	if (d->nfree == 0) {
		d->c.queue_overflow++;
		return;
	}
	i = d->free[--d->nfree];
	s = &d->slots[i];
	memcpy(s->data, f, len);
	s->len = len;
	s->release_ns = release;
	if (chance(&d->rng, d->cfg.reorder)) {
		s->hold_after = d->entered + d->gap;
		s->hold_until = now + d->hold_ns;
		ring_push(&d->held, i);
		d->c.reordered++;
		return;
	}
	line_push(d, i);
	/* Held-back frames whose gap is now filled go right behind it. */
	while (d->held.count && d->slots[ring_peek(&d->held)].hold_after <= d->entered)
		line_push(d, ring_pop(&d->held));
}

/* Applies the direction's impairments to one received frame. hlen is the
 * Ethernet header (with any VLAN tag), which corruption leaves alone so
 * the frame still reaches its station and the checksums are what catch
 * the damage. */
static void impair_frame(struct dir *d, unsigned char *f, uint32_t len, uint32_t hlen,
			 int64_t now)
{
	int64_t release;
	int copies = 1;

	if (chance(&d->rng, d->cfg.loss)) {
		d->c.dropped++;
		return;
	}
	if (len > hlen && chance(&d->rng, d->cfg.corrupt)) {
		uint64_t bit = rng_next(&d->rng) % ((uint64_t)(len - hlen) * 8);
		f[hlen + bit / 8] ^= (unsigned char)(1u << (bit % 8));
		d->c.corrupted++;
	}
	if (chance(&d->rng, d->cfg.dup)) {
		copies = 2;
		d->c.duplicated++;
	}
	release = now + d->delay_ns;
	if (d->jitter_ns > 0)
		release += (int64_t)((2 * rng_unit(&d->rng) - 1) * (double)d->jitter_ns);
	if (release < now)
		release = now;
	for (int k = 0; k < copies; k++)
		place(d, f, len, release, now);
}

/* Fills in a checksum the sender left to offload (CHECKSUM_PARTIAL: veth
 * passes such frames on as they are, with only the pseudo-header sum in
 * the field). Done before any corruption, as a sender's NIC would, so
 * that the receiver's check catches flipped bits. */
static void complete_csum(unsigned char *f, uint32_t len, uint32_t start, uint32_t off)
{
	uint32_t sum = 0, n;
	const unsigned char *p;
	uint16_t csum;

	if (start >= len || off + 2 > len - start)
		return; /* not a hint that fits this frame: leave the frame as is */
	p = f + start;
	for (n = len - start; n > 1; n -= 2, p += 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (n)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	csum = (uint16_t)~sum;
	if (csum == 0)
		csum = 0xffff; /* 0 means "no checksum" in UDP; same value in TCP */
	f[start + off] = (unsigned char)(csum >> 8);
	f[start + off + 1] = (unsigned char)csum;
}

/* The kernel moves a VLAN tag from the frame into skb metadata before
 * packet sockets see it, and reports it in PACKET_AUXDATA; put it back so
 * that the frame leaves as it arrived. The VLAN_HLEN bytes in front of the
 * frame are free (they held the virtio header, already read). */
static unsigned char *restore_vlan(unsigned char *frame, uint32_t *len,
				   const struct tpacket_auxdata *aux)
{
	unsigned char *f = frame - VLAN_HLEN;
	uint16_t tpid = (aux->tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux->tp_vlan_tpid
								       : ETH_P_8021Q;
	memmove(f, frame, 2 * ETH_ALEN);
	f[12] = (unsigned char)(tpid >> 8);
	f[13] = (unsigned char)tpid;
	f[14] = (unsigned char)(aux->tp_vlan_tci >> 8);
	f[15] = (unsigned char)aux->tp_vlan_tci;
	*len += VLAN_HLEN;
	return f;
}

static const struct tpacket_auxdata *auxdata(struct msghdr *m)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
		if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA)
			return (const struct tpacket_auxdata *)CMSG_DATA(c);
	return NULL;
}

/* One received message: virtio header (PACKET_VNET_HDR), then the frame. */
static void take(struct dir *d, struct mmsghdr *m, unsigned char *buf, int64_t now)
{
	struct virtio_net_hdr vh;
	const struct tpacket_auxdata *aux;
	unsigned char *frame = buf + VLAN_HLEN + VNET_LEN;
	uint32_t len, hlen = ETH_HLEN;

	d->c.received++;
	memcpy(&vh, buf + VLAN_HLEN, VNET_LEN);
	if ((m->msg_hdr.msg_flags & MSG_TRUNC) || vh.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		d->c.oversize++;
		return;
	}
	if (m->msg_len < VNET_LEN + ETH_HLEN) {
		d->c.rx_errors++;
		return;
	}
	len = m->msg_len - VNET_LEN;
	/* Packet sockets write the header in host byte order (legacy virtio),
	 * offsets from the start of the frame as received, tag not included. */
	if (vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		complete_csum(frame, len, vh.csum_start, vh.csum_offset);
	aux = auxdata(&m->msg_hdr);
	if (aux && (aux->tp_status & TP_STATUS_VLAN_VALID)) {
		frame = restore_vlan(frame, &len, aux);
		hlen += VLAN_HLEN;
	}
	impair_frame(d, frame, len, hlen, now);
}

/* Reads what is waiting on the direction's input, RX_ROUNDS batches at
 * most, and sends what is due after each batch. */
static void receive(struct dir *d)
{
	for (int round = 0; round < RX_ROUNDS; round++) {
		int n;
		int64_t now;

		for (int i = 0; i < BATCH; i++)
			rx_msgs[i].msg_hdr.msg_controllen = sizeof rx_ctrl[i];
		n = recvmmsg(d->rx_fd, rx_msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				d->c.rx_errors++;
			return;
		}
		now = now_ns();
		for (int i = 0; i < n; i++)
			take(d, &rx_msgs[i], rx_buf[i], now);
		flush(d, now);
		if (n < BATCH)
			return;
	}
}

/* When the direction next needs the clock: INT64_MAX if never. */
static int64_t next_deadline(const struct dir *d)
{
	int64_t t = INT64_MAX;
	if (d->line.count)
		t = d->slots[ring_peek(&d->line)].release_ns;
	if (d->held.count && d->slots[ring_peek(&d->held)].hold_until < t)
		t = d->slots[ring_peek(&d->held)].hold_until;
	return t;
}

static void print_counters(struct dir *dirs)
{
	printf("pc_impair: counters\n");
	for (int k = 0; k < 2; k++) {
		struct dir *d = &dirs[k];
		struct tpacket_stats st;
		socklen_t sl = sizeof st;

		/* Reading the statistics resets them: accumulate. */
		if (getsockopt(d->rx_fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl) == 0)
			d->c.kernel_drops += st.tp_drops;
#define X(ctr) printf("%s." #ctr " %" PRIu64 "\n", d->name, d->c.ctr);
		COUNTERS(X)
#undef X
		printf("%s.queued %" PRIu32 "\n", d->name, d->line.count + d->held.count);
	}
	fflush(stdout);
}

/* ---- set-up ------------------------------------------------------------- */

static int ifindex_of(const char *name)
{
	unsigned int i = if_nametoindex(name);
	if (i == 0)
		die(1, "interface %s: %s", name, strerror(errno));
	return (int)i;
}

static void set_opt(int fd, int level, int opt, int val, const char *what, const char *ifname)
{
	if (setsockopt(fd, level, opt, &val, sizeof val) < 0)
		die(1, "%s: %s: %s", ifname, what, strerror(errno));
}

static int open_rx(const char *ifname)
{
	int ifindex = ifindex_of(ifname);
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_ALL),
				  .sll_ifindex = ifindex};
	struct packet_mreq mr = {.mr_ifindex = ifindex, .mr_type = PACKET_MR_PROMISC};
	/* Protocol 0 until bound: with ETH_P_ALL from the start, the socket
	 * would queue frames of every interface in the namespace until bind()
	 * narrows it to this one. */
	int fd = socket(AF_PACKET, SOCK_RAW, 0);

	if (fd < 0)
		die(1, "%s: socket(AF_PACKET): %s (run as root)", ifname, strerror(errno));
	/* The other direction sends out of this interface: without this its
	 * frames would come back in here and loop. */
	set_opt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING", ifname);
	/* Tells whether a frame is a GSO super-frame and where a checksum
	 * left to offload goes (see take()). */
	set_opt(fd, SOL_PACKET, PACKET_VNET_HDR, 1, "PACKET_VNET_HDR", ifname);
	/* Reports the VLAN tag the kernel took out of the frame. */
	set_opt(fd, SOL_PACKET, PACKET_AUXDATA, 1, "PACKET_AUXDATA", ifname);
	/* Beyond net.core.rmem_max (root only); the default is the fallback. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int){RCVBUF_BYTES}, sizeof(int)) < 0)
		fprintf(stderr, "pc_impair: %s: SO_RCVBUFFORCE: %s (keeping the default)\n",
			ifname, strerror(errno));
	if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0)
		die(1, "%s: bind: %s", ifname, strerror(errno));
	/* A relay carries frames for every station, not just this one. */
	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0)
		die(1, "%s: promiscuous mode: %s", ifname, strerror(errno));
	return fd;
}

/* Protocol 0: this socket only sends, the kernel never queues input on it. */
static int open_tx(const char *ifname)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = ifindex_of(ifname)};
	int fd = socket(AF_PACKET, SOCK_RAW, 0);

	if (fd < 0)
		die(1, "%s: socket(AF_PACKET): %s (run as root)", ifname, strerror(errno));
	if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0)
		die(1, "%s: bind: %s", ifname, strerror(errno));
	return fd;
}

/* ms >= 0, checked when parsed; rounded to the nearest ns. */
static int64_t ms_to_ns(double ms)
{
	return (int64_t)(ms * NS_PER_MS + 0.5);
}

static void setup_dir(struct dir *d, const char *name, const char *in, const char *out,
		      const struct impair *cfg, uint64_t *seed_state)
{
	uint32_t n = (uint32_t)cfg->queue;

	d->name = name;
	d->cfg = *cfg;
	d->delay_ns = ms_to_ns(cfg->delay);
	d->jitter_ns = ms_to_ns(cfg->jitter);
	d->hold_ns = ms_to_ns(cfg->reorder_ms);
	d->gap = (uint64_t)cfg->reorder_gap;
	for (int k = 0; k < 4; k++)
		d->rng.s[k] = splitmix64(seed_state);
	/* calloc'd pages stay untouched (no memory used) until a slot is
	 * first needed; the LIFO free stack keeps reusing the same few. */
	d->slots = calloc(n, sizeof *d->slots);
	d->free = calloc(n, sizeof *d->free);
	d->line.idx = calloc(n, sizeof *d->line.idx);
	d->held.idx = calloc(n, sizeof *d->held.idx);
	if (!d->slots || !d->free || !d->line.idx || !d->held.idx)
		die(1, "%s: cannot allocate a queue of %" PRIu32 " frames", name, n);
	d->line.cap = d->held.cap = n;
	for (uint32_t i = 0; i < n; i++)
		d->free[i] = n - 1 - i;
	d->nfree = n;
	d->rx_fd = open_rx(in);
	d->tx_fd = open_tx(out);
}

static void teardown_dir(struct dir *d)
{
	close(d->rx_fd);
	close(d->tx_fd);
	free(d->slots);
	free(d->free);
	free(d->line.idx);
	free(d->held.idx);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: pc_impair --a IF --b IF [--seed N] [IMPAIRMENT VALUE]...\n"
		     "Relays frames between IF a and IF b (as root, in their namespace).\n"
		     "Impairments, for both directions (--NAME) or one (--a2b-NAME,\n"
		     "--b2a-NAME, which win over --NAME):\n");
	for (size_t i = 0; i < NPARAMS; i++)
		fprintf(out, "  --%-12s %s (default %g)\n", params[i].name, params[i].help,
			params[i].def);
	fprintf(out, "SIGUSR1 prints the counters; SIGINT/SIGTERM prints them and exits.\n");
}

static void parse_value(const struct param *p, const char *opt, const char *text, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	/* Written so that NaN and infinities fail too. */
	if (errno || end == text || *end || !(v >= 0 && v <= p->max) ||
	    (p->kind == COUNT && (v < 1 || v != (double)(uint32_t)v)))
		die(2, "--%s: '%s' is not %s from %g to %g", opt, text,
		    p->kind == COUNT ? "a whole number" : "a number",
		    p->kind == COUNT ? 1.0 : 0.0, p->max);
	*out = v;
}

int main(int argc, char **argv)
{
	static char names[NSCOPES][NPARAMS][32];
	struct option longopts[NSCOPES * NPARAMS + 5];
	double val[NSCOPES][NPARAMS] = {{0}};
	bool given[NSCOPES][NPARAMS] = {{false}};
	const char *if_a = NULL, *if_b = NULL;
	uint64_t seed = 0, seed_state;
	bool seeded = false;
	struct impair cfg[2];
	struct dir dirs[2] = {{0}};
	sigset_t block, run_mask;
	struct pollfd pfd[2];
	int nopt = 0, c, rc = 0;

	for (int s = 0; s < NSCOPES; s++)
		for (size_t i = 0; i < NPARAMS; i++) {
			snprintf(names[s][i], sizeof names[s][i], "%s%s", scope_prefix[s],
				 params[i].name);
			longopts[nopt++] = (struct option){names[s][i], required_argument, NULL,
							   OPT_PARAM + s * (int)NPARAMS + (int)i};
		}
	longopts[nopt++] = (struct option){"a", required_argument, NULL, 'a'};
	longopts[nopt++] = (struct option){"b", required_argument, NULL, 'b'};
	longopts[nopt++] = (struct option){"seed", required_argument, NULL, 's'};
	longopts[nopt++] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[nopt] = (struct option){0};

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c >= OPT_PARAM) {
			int s = (c - OPT_PARAM) / (int)NPARAMS;
			size_t i = (size_t)(c - OPT_PARAM) % NPARAMS;
			parse_value(&params[i], names[s][i], optarg, &val[s][i]);
			given[s][i] = true;
			continue;
		}
		switch (c) {
		case 'a':
			if_a = optarg;
			break;
		case 'b':
			if_b = optarg;
			break;
		case 's': {
			char *end;
			errno = 0;
			seed = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end)
				die(2, "--seed: '%s' is not an unsigned 64-bit number", optarg);
			seeded = true;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !if_a || !if_b) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(if_a, if_b))
		die(2, "--a and --b must be different interfaces");
	if (!seeded && getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);

	/* Per direction: its own option, else the shared one, else default. */
	for (int k = 0; k < 2; k++) {
		int s = k == 0 ? A2B : B2A;
		for (size_t i = 0; i < NPARAMS; i++)
			*field(&cfg[k], &params[i]) = given[s][i]      ? val[s][i]
						      : given[BOTH][i] ? val[BOTH][i]
								       : params[i].def;
	}

	/* The signals are delivered only inside ppoll(), so a request can
	 * never slip in between the check of the flags and going to sleep. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &run_mask);
	sigdelset(&run_mask, SIGINT);
	sigdelset(&run_mask, SIGTERM);
	sigdelset(&run_mask, SIGUSR1);
	{
		struct sigaction sa = {.sa_handler = on_signal};
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGUSR1, &sa, NULL);
	}

	seed_state = seed;
	setup_dir(&dirs[0], "a2b", if_a, if_b, &cfg[0], &seed_state);
	setup_dir(&dirs[1], "b2a", if_b, if_a, &cfg[1], &seed_state);
	for (int i = 0; i < BATCH; i++) {
		rx_iov[i] = (struct iovec){.iov_base = rx_buf[i] + VLAN_HLEN,
					   .iov_len = VNET_LEN + FRAME_MAX};
		rx_msgs[i].msg_hdr = (struct msghdr){.msg_iov = &rx_iov[i], .msg_iovlen = 1,
						     .msg_control = rx_ctrl[i].buf};
	}
	pfd[0] = (struct pollfd){.fd = dirs[0].rx_fd, .events = POLLIN};
	pfd[1] = (struct pollfd){.fd = dirs[1].rx_fd, .events = POLLIN};

	printf("pc_impair: a=%s b=%s seed=%" PRIu64 "\n", if_a, if_b, seed);
	for (int k = 0; k < 2; k++) {
		printf("pc_impair: %s", dirs[k].name);
		for (size_t i = 0; i < NPARAMS; i++)
			printf(" %s=%g", params[i].name, *field(&cfg[k], &params[i]));
		printf("\n");
	}
	printf("pc_impair: ready\n");
	fflush(stdout);

	while (!stop_requested) {
		int64_t now = now_ns();
		int64_t next = next_deadline(&dirs[0]);
		struct timespec ts, *tsp = NULL;
		int r;

		if (dump_requested) {
			dump_requested = 0;
			print_counters(dirs);
		}
		if (next_deadline(&dirs[1]) < next)
			next = next_deadline(&dirs[1]);
		if (next != INT64_MAX) {
			int64_t wait = next > now ? next - now : 0;
			ts = (struct timespec){.tv_sec = wait / NS_PER_S, .tv_nsec = wait % NS_PER_S};
			tsp = &ts;
		}
		r = ppoll(pfd, 2, tsp, &run_mask);
		if (r < 0 && errno != EINTR) {
			fprintf(stderr, "pc_impair: ppoll: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		for (int k = 0; k < 2 && r > 0; k++)
			if (pfd[k].revents)
				receive(&dirs[k]);
		now = now_ns();
		flush(&dirs[0], now);
		flush(&dirs[1], now);
	}
	print_counters(dirs);
	teardown_dir(&dirs[0]);
	teardown_dir(&dirs[1]);
	return rc;
}
