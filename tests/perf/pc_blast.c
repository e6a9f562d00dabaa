/* SPDX-License-Identifier: MIT */
/*
 * pc_blast: closed-loop ICMP echo load generator for the portcullis lab.
 *
 *   pc_blast --dst ADDR [--size BYTES] [--seconds S] [--window N]
 *            [--timeout-ms MS] [--json]
 *
 * Run inside a lab namespace (ip netns exec pc-client ...), as root.
 *
 * Closed loop: at most --window echo requests are outstanding at any time,
 * so the measured rate is what the responder sustains, not what survives a
 * generator overrunning it. A request unanswered after --timeout-ms is lost
 * and frees its place in the window.
 *
 * Every reply is checked: identifier, sequence number, length, ICMP checksum
 * and the whole payload (which differs per request, so a responder that
 * mixes up buffers is caught). Only a reply to a request still outstanding
 * counts as received; a bad reply, a duplicate or a reply to a sequence
 * never sent is an error, a correct reply after its timeout is "late".
 *
 * Requests leave through an AF_PACKET socket (PACKET_QDISC_BYPASS) as
 * whole Ethernet frames built here, which skips the kernel's IP output path
 * (route lookup, netfilter, neighbour, qdisc): on the 2-core lab machine,
 * where the generator's core is one of the two saturated ones, that gave
 * 13-26 % more echoes per second than sendmmsg() on the raw ICMP socket.
 * Replies come back through a raw ICMP socket, which the kernel already
 * narrows to echo replies from --dst. The warm-up echo goes through that
 * raw socket, so the kernel resolves the neighbour whose MAC address the
 * frames then carry.
 *
 * Rates (replies/s, Gbit/s) count the replies received during the
 * --seconds sending phase, divided by its length. Gbit/s counts IP bytes
 * (IP header + ICMP header + payload, no Ethernet framing). RTTs are taken
 * per batch (one clock read per sendmmsg and per recvmmsg), which is below
 * the queueing delay a full window adds anyway.
 *
 * Bounded: one warm-up echo (at most --timeout-ms, so ARP resolution is not
 * measured), --seconds of sending, then at most --timeout-ms waiting for the
 * replies still outstanding.
 *
 * Exit status: 0 done, 1 bad usage or set-up failure, 2 done but at least
 * one reply was an error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sendmmsg, recvmmsg */
#endif
/* <net/if.h> first: after the <linux/...> headers it redefines IFF_*. */
#include <net/if.h>
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/icmp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "load/hist.h"

/* Messages per sendmmsg/recvmmsg: enough to amortise the syscall, small
 * enough that a batch does not overrun the veth backlog (1000 packets). */
#define BATCH 64

/* Requests are tracked in a ring indexed by the 16-bit ICMP sequence; the
 * full 64-bit sequence travels in the payload to tell wraps apart. */
#define RING (1u << 16)
#define RING_MASK (RING - 1)
#define WINDOW_MAX (RING / 2)

#define L2L3_LEN (ETH_HLEN + sizeof(struct iphdr))
#define PAYLOAD_MIN ((unsigned)sizeof(uint64_t))
#define PAYLOAD_MAX (65535u - 20u - 8u) /* and no more than the MTU allows */

/* Payload after the sequence number is a slice of this pattern starting at
 * an offset taken from the sequence, so consecutive requests differ. */
#define PATTERN_PERIOD 256u

enum slot_state { SLOT_FREE, SLOT_PENDING, SLOT_DONE, SLOT_LOST };

struct slot {
	uint64_t seq;
	uint64_t tx_ns;
	enum slot_state state;
};

struct opts {
	struct in_addr dst;
	const char *dst_text;
	unsigned size; /* ICMP payload bytes, as ping -s */
	double seconds;
	unsigned window;
	unsigned timeout_ms;
	bool json;
};

struct counters {
	uint64_t sent;
	uint64_t received;
	uint64_t lost;
	uint64_t late;
	uint64_t dup;	  /* second reply to an answered request */
	uint64_t bad;	  /* wrong length, checksum, header or payload */
	uint64_t unknown; /* reply to a sequence never sent */
	uint64_t foreign; /* echo replies to another pinger: ignored, shown */
	uint64_t phase_replies;
	uint64_t phase_bytes;
};

struct blast {
	struct opts o;
	int rx_fd; /* raw ICMP: the replies, and the warm-up request */
	int tx_fd; /* AF_PACKET: the measured requests */
	uint16_t id;
	uint16_t ip_id;
	uint8_t l2l3[L2L3_LEN]; /* Ethernet + IPv4 header template */
	uint64_t head; /* next sequence to send */
	uint64_t tail; /* oldest sequence that may still be pending */
	unsigned outstanding;
	struct slot *ring;
	uint8_t *pattern; /* PATTERN_PERIOD + size bytes */
	uint8_t *txbuf;	  /* BATCH request frames */
	uint8_t *rxbuf;	  /* BATCH replies */
	size_t req_len;	  /* ICMP header + payload */
	size_t frame_len; /* Ethernet + IPv4 + req_len */
	size_t rx_cap;	  /* room per reply: larger than any good reply */
	struct counters c;
	struct pl_hist *hist; /* round-trip times */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* RFC 1071 Internet checksum; returns 0 over data that carries a valid one. */
static uint16_t inet_csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t sum = 0;

	for (; len >= 2; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pc_blast --dst ADDR [--size BYTES] [--seconds S] [--window N]\n"
		"                [--timeout-ms MS] [--json]\n"
		"  --dst         IPv4 address to send ICMP echo requests to\n"
		"  --size        ICMP payload bytes, %u..%u (default 64; 1472 fills a 1500 MTU)\n"
		"  --seconds     length of the sending phase (default 5)\n"
		"  --window      most requests outstanding at once, 1..%u (default 256)\n"
		"  --timeout-ms  a request unanswered this long is lost (default 1000)\n"
		"  --json        print the result as one JSON object\n"
		"Runs for at most --seconds plus twice --timeout-ms (warm-up, final replies).\n",
		PAYLOAD_MIN, PAYLOAD_MAX, WINDOW_MAX);
}

static bool parse_uint(const char *s, unsigned long min, unsigned long max,
		       unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "dst", required_argument, NULL, 'd' },
		{ "size", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 't' },
		{ "window", required_argument, NULL, 'w' },
		{ "timeout-ms", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	*o = (struct opts){ .size = 64, .seconds = 5, .window = 256, .timeout_ms = 1000 };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (inet_pton(AF_INET, optarg, &o->dst) != 1) {
				fprintf(stderr, "pc_blast: --dst %s: not an IPv4 address\n", optarg);
				return -1;
			}
			o->dst_text = optarg;
			break;
		case 's':
			if (!parse_uint(optarg, PAYLOAD_MIN, PAYLOAD_MAX, &o->size)) {
				fprintf(stderr, "pc_blast: --size must be %u..%u\n", PAYLOAD_MIN,
					PAYLOAD_MAX);
				return -1;
			}
			break;
		case 't':
			errno = 0;
			o->seconds = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->seconds > 0) ||
			    o->seconds > 86400) {
				fprintf(stderr, "pc_blast: --seconds must be > 0 and <= 86400\n");
				return -1;
			}
			break;
		case 'w':
			if (!parse_uint(optarg, 1, WINDOW_MAX, &o->window)) {
				fprintf(stderr, "pc_blast: --window must be 1..%u\n", WINDOW_MAX);
				return -1;
			}
			break;
		case 'T':
			if (!parse_uint(optarg, 1, 60000, &o->timeout_ms)) {
				fprintf(stderr, "pc_blast: --timeout-ms must be 1..60000\n");
				return -1;
			}
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || !o->dst_text) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/*
 * The raw ICMP socket (ping sockets would need ping_group_range changed in
 * every namespace). connect() makes the kernel drop ICMP from other sources
 * before it reaches us, and ICMP_FILTER drops every type but echo reply.
 */
static int open_rx_socket(const struct opts *o)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = o->dst };
	struct icmp_filter filter = { .data = ~(1u << ICMP_ECHOREPLY) };
	int buf = 4 << 20;
	int fd;

	fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (fd < 0) {
		fprintf(stderr, "pc_blast: raw socket: %s (needs root or CAP_NET_RAW)\n",
			strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof(filter)) < 0 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		fprintf(stderr, "pc_blast: raw socket to %s: %s\n", o->dst_text,
			strerror(errno));
		close(fd);
		return -1;
	}
	/* Room for several windows of replies, so a slow reader is not
	 * mistaken for a lossy responder. FORCE needs CAP_NET_ADMIN; the plain
	 * call is the fallback (capped at rmem_max). */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	return fd;
}

/* The MAC address and device of --dst from the kernel's neighbour table,
 * which the warm-up filled. */
static int find_neighbour(const struct opts *o, uint8_t mac[ETH_ALEN],
			  char dev[IF_NAMESIZE])
{
	char want[INET_ADDRSTRLEN], line[256];
	FILE *f = fopen("/proc/net/arp", "r");
	int rc = -1;

	if (!f) {
		fprintf(stderr, "pc_blast: /proc/net/arp: %s\n", strerror(errno));
		return -1;
	}
	inet_ntop(AF_INET, &o->dst, want, sizeof(want));
	while (rc < 0 && fgets(line, sizeof(line), f)) {
		char ip[INET_ADDRSTRLEN];
		unsigned flags;

		if (sscanf(line, "%15s %*s %x %hhx:%hhx:%hhx:%hhx:%hhx:%hhx %*s %15s", ip,
			   &flags, &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5],
			   dev) == 9 &&
		    strcmp(ip, want) == 0 && (flags & ATF_COM))
			rc = 0;
	}
	fclose(f);
	if (rc < 0)
		fprintf(stderr, "pc_blast: no neighbour entry for %s: does it answer ARP?\n",
			want);
	return rc;
}

/* The address the kernel would send from to --dst. */
static int find_source(const struct opts *o, struct in_addr *src)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = o->dst,
				   .sin_port = htons(9) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1;

	/* A UDP connect() sends nothing: it only picks the route. */
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0) {
		*src = sin.sin_addr;
		rc = 0;
	} else {
		fprintf(stderr, "pc_blast: no route to %s: %s\n", o->dst_text, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Opens the AF_PACKET socket on the neighbour's device and fills the
 * Ethernet + IPv4 header template of the requests. */
static int open_tx_socket(struct blast *b)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	char dev[IF_NAMESIZE];
	struct ifreq ifr = { 0 };
	struct ethhdr *eth = (struct ethhdr *)b->l2l3;
	struct iphdr *ip = (struct iphdr *)(b->l2l3 + ETH_HLEN);
	struct in_addr src;
	int one = 1, buf = 4 << 20;

	if (find_neighbour(&b->o, eth->h_dest, dev) < 0 || find_source(&b->o, &src) < 0)
		return -1;
	/* Protocol 0: a send-only socket, no copy of every received frame. */
	b->tx_fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (b->tx_fd < 0) {
		fprintf(stderr, "pc_blast: packet socket: %s\n", strerror(errno));
		return -1;
	}
	memcpy(ifr.ifr_name, dev, sizeof(ifr.ifr_name));
	if (ioctl(b->tx_fd, SIOCGIFHWADDR, &ifr) < 0) {
		fprintf(stderr, "pc_blast: %s: no MAC address: %s\n", dev, strerror(errno));
		return -1;
	}
	memcpy(eth->h_source, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	if (ioctl(b->tx_fd, SIOCGIFMTU, &ifr) < 0) {
		fprintf(stderr, "pc_blast: %s: no MTU: %s\n", dev, strerror(errno));
		return -1;
	}
	if (b->frame_len - ETH_HLEN > (size_t)ifr.ifr_mtu) {
		fprintf(stderr, "pc_blast: --size %u does not fit the MTU of %s (at most %zu)\n",
			b->o.size, dev, (size_t)ifr.ifr_mtu - (b->frame_len - ETH_HLEN - b->o.size));
		return -1;
	}
	sll.sll_ifindex = (int)if_nametoindex(dev);
	if (bind(b->tx_fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		fprintf(stderr, "pc_blast: bind to %s: %s\n", dev, strerror(errno));
		return -1;
	}
	/* Straight to the driver: the qdisc adds nothing on a veth. */
	setsockopt(b->tx_fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	if (setsockopt(b->tx_fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(b->tx_fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));

	eth->h_proto = htons(ETH_P_IP);
	*ip = (struct iphdr){ .version = 4, .ihl = sizeof(*ip) / 4,
			      .tot_len = htons((uint16_t)(sizeof(*ip) + b->req_len)),
			      .frag_off = htons(IP_DF), .ttl = 64, .protocol = IPPROTO_ICMP,
			      .saddr = src.s_addr, .daddr = b->o.dst.s_addr };
	return 0;
}

static void build_request(const struct blast *b, uint8_t *p, uint64_t seq)
{
	struct icmphdr *ih = (struct icmphdr *)p;
	uint8_t *payload = p + sizeof(*ih);

	ih->type = ICMP_ECHO;
	ih->code = 0;
	ih->checksum = 0;
	ih->un.echo.id = htons(b->id);
	ih->un.echo.sequence = htons((uint16_t)seq);
	memcpy(payload, &seq, sizeof(seq));
	memcpy(payload + sizeof(seq), b->pattern + seq % PATTERN_PERIOD,
	       b->o.size - sizeof(seq));
	ih->checksum = inet_csum(p, b->req_len);
}

static void build_frame(struct blast *b, uint8_t *frame, uint64_t seq)
{
	struct iphdr *ip = (struct iphdr *)(frame + ETH_HLEN);

	memcpy(frame, b->l2l3, L2L3_LEN);
	ip->id = htons(b->ip_id++);
	ip->check = inet_csum(ip, sizeof(*ip));
	build_request(b, frame + L2L3_LEN, seq);
}

/* Books n requests from head on as sent at time t. */
static void mark_sent(struct blast *b, unsigned n, uint64_t t)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		struct slot *s = &b->ring[(b->head + i) & RING_MASK];

		*s = (struct slot){ .seq = b->head + i, .tx_ns = t, .state = SLOT_PENDING };
	}
	b->head += n;
	b->outstanding += n;
	b->c.sent += n;
}

/* Sends up to n requests as frames; returns how many the kernel took (0
 * when it had no room). */
static int send_batch(struct blast *b, unsigned n)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint64_t t;
	unsigned i;
	int sent;

	for (i = 0; i < n; i++) {
		uint8_t *frame = b->txbuf + (size_t)i * b->frame_len;

		build_frame(b, frame, b->head + i);
		iov[i] = (struct iovec){ .iov_base = frame, .iov_len = b->frame_len };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	t = now_ns();
	sent = sendmmsg(b->tx_fd, msgs, n, MSG_DONTWAIT);
	if (sent < 0) {
		if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR)
			return 0;
		fprintf(stderr, "pc_blast: sendmmsg: %s\n", strerror(errno));
		return -1;
	}
	mark_sent(b, (unsigned)sent, t);
	return sent;
}

/* Checks one reply (IP header included, as raw sockets deliver it) and
 * books it. in_phase: arrived while still sending, so it counts in rates. */
static void take_reply(struct blast *b, const uint8_t *p, size_t len, bool truncated,
		       uint64_t t, bool in_phase)
{
	const struct iphdr *ip = (const struct iphdr *)p;
	const struct icmphdr *ih;
	const uint8_t *payload;
	struct slot *s;
	uint64_t seq;
	size_t ihl;

	if (len < sizeof(*ip) || ip->version != 4) {
		b->c.bad++;
		return;
	}
	ihl = (size_t)ip->ihl * 4;
	if (ihl < sizeof(*ip) || len < ihl + sizeof(*ih)) {
		b->c.bad++;
		return;
	}
	ih = (const struct icmphdr *)(p + ihl);
	if (ntohs(ih->un.echo.id) != b->id) {
		b->c.foreign++;
		return;
	}
	payload = p + ihl + sizeof(*ih);
	if (truncated || ntohs(ip->tot_len) != len || len - ihl != b->req_len ||
	    ih->code != 0 || inet_csum(ih, b->req_len) != 0) {
		b->c.bad++;
		return;
	}
	memcpy(&seq, payload, sizeof(seq));
	if ((uint16_t)seq != ntohs(ih->un.echo.sequence) ||
	    memcmp(payload + sizeof(seq), b->pattern + seq % PATTERN_PERIOD,
		   b->o.size - sizeof(seq)) != 0) {
		b->c.bad++;
		return;
	}
	if (seq >= b->head) {
		b->c.unknown++;
		return;
	}
	s = &b->ring[seq & RING_MASK];
	if (s->seq != seq) {
		/* Its slot was reused: a real request, answered very late. */
		b->c.late++;
		return;
	}
	switch (s->state) {
	case SLOT_PENDING:
		s->state = SLOT_DONE;
		b->outstanding--;
		b->c.received++;
		pl_hist_record(b->hist, t - s->tx_ns);
		if (in_phase) {
			b->c.phase_replies++;
			b->c.phase_bytes += len;
		}
		break;
	case SLOT_DONE:
		b->c.dup++;
		break;
	case SLOT_LOST:
		b->c.late++;
		break;
	case SLOT_FREE:
		b->c.unknown++;
		break;
	}
}

/* Drains up to one batch of replies; returns how many arrived, -1 on error. */
static int recv_batch(struct blast *b, bool in_phase)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint64_t t;
	int n, i;

	for (i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ .iov_base = b->rxbuf + (size_t)i * b->rx_cap,
					 .iov_len = b->rx_cap };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	n = recvmmsg(b->rx_fd, msgs, BATCH, MSG_DONTWAIT, NULL);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		fprintf(stderr, "pc_blast: recvmmsg: %s\n", strerror(errno));
		return -1;
	}
	t = now_ns();
	for (i = 0; i < n; i++)
		take_reply(b, iov[i].iov_base, msgs[i].msg_len,
			   msgs[i].msg_hdr.msg_flags & MSG_TRUNC, t, in_phase);
	return n;
}

/* Declares lost the oldest requests that timed out, and moves the tail past
 * requests already settled. Requests go out in sequence order, so the
 * oldest pending one is always at the tail. */
static void expire(struct blast *b, uint64_t t)
{
	uint64_t timeout_ns = (uint64_t)b->o.timeout_ms * 1000000u;

	while (b->tail < b->head) {
		struct slot *s = &b->ring[b->tail & RING_MASK];

		if (s->state == SLOT_PENDING) {
			if (t - s->tx_ns < timeout_ns)
				break;
			s->state = SLOT_LOST;
			b->outstanding--;
			b->c.lost++;
		}
		b->tail++;
	}
}

/* Sends one echo through the raw socket, so that the kernel resolves the
 * neighbour, and waits for its reply. Not counted. Returns false if nothing
 * came back. */
static bool warm_up(struct blast *b)
{
	uint64_t deadline = now_ns() + (uint64_t)b->o.timeout_ms * 1000000u;
	struct pollfd pfd = { .fd = b->rx_fd, .events = POLLIN };
	bool answered;

	build_request(b, b->txbuf, b->head);
	if (send(b->rx_fd, b->txbuf, b->req_len, 0) != (ssize_t)b->req_len) {
		fprintf(stderr, "pc_blast: warm-up send: %s\n", strerror(errno));
		return false;
	}
	mark_sent(b, 1, now_ns());
	while (b->outstanding && now_ns() < deadline) {
		if (recv_batch(b, false) < 0)
			return false;
		if (b->outstanding)
			poll(&pfd, 1, 1);
	}
	answered = b->c.received == 1;
	expire(b, UINT64_MAX);
	b->c = (struct counters){ 0 };
	memset(b->hist, 0, sizeof(*b->hist));
	return answered;
}

static int run(struct blast *b)
{
	uint64_t start = now_ns();
	uint64_t end = start + (uint64_t)(b->o.seconds * 1e9);
	struct pollfd pfd[2] = { { .fd = b->rx_fd, .events = POLLIN }, { .fd = b->tx_fd } };

	for (;;) {
		uint64_t t = now_ns();
		bool sending = t < end;
		unsigned room = 0;
		int sent = 0, got;

		expire(b, t);
		if (!sending && b->outstanding == 0)
			break;
		if (sending) {
			room = b->o.window - b->outstanding;
			if (room > RING - (b->head - b->tail))
				room = RING - (unsigned)(b->head - b->tail);
			if (room > BATCH)
				room = BATCH;
		}
		if (room) {
			sent = send_batch(b, room);
			if (sent < 0)
				return -1;
		}
		got = recv_batch(b, sending);
		if (got < 0)
			return -1;
		/* Nothing to do: sleep until a reply (or send room) comes, at
		 * most 1 ms so timeouts and the deadline are noticed. On two
		 * cores this leaves the CPU to the softirqs that move the
		 * packets rather than spinning against them. */
		if (sent == 0 && got == 0) {
			pfd[1].events = room ? POLLOUT : 0;
			poll(pfd, 2, 1);
		}
	}
	return 0;
}

static void report(const struct blast *b)
{
	const struct counters *c = &b->c;
	double elapsed = b->o.seconds;
	uint64_t errors = c->dup + c->bad + c->unknown;
	double pps = (double)c->phase_replies / elapsed;
	double gbps = (double)c->phase_bytes * 8 / elapsed / 1e9;
	char p50[32] = "null", p99[32] = "null";

	if (c->received) {
		snprintf(p50, sizeof(p50), "%.1f", pl_hist_quantile(b->hist, 0.50) / 1e3);
		snprintf(p99, sizeof(p99), "%.1f", pl_hist_quantile(b->hist, 0.99) / 1e3);
	}
	if (b->o.json) {
		printf("{\"dst\": \"%s\", \"size\": %u, \"window\": %u, \"seconds\": %.3f, "
		       "\"sent\": %" PRIu64 ", \"received\": %" PRIu64 ", \"lost\": %" PRIu64
		       ", \"late\": %" PRIu64 ", \"errors\": %" PRIu64 ", \"dup\": %" PRIu64
		       ", \"bad\": %" PRIu64 ", \"unknown\": %" PRIu64 ", \"foreign\": %" PRIu64
		       ", \"pps\": %.0f, \"gbps\": %.4f, \"bytes\": \"ip\", "
		       "\"rtt_p50_us\": %s, \"rtt_p99_us\": %s}\n",
		       b->o.dst_text, b->o.size, b->o.window, elapsed, c->sent, c->received,
		       c->lost, c->late, errors, c->dup, c->bad, c->unknown, c->foreign, pps,
		       gbps, p50, p99);
		return;
	}
	printf("pc_blast: %s, %u-byte payload, window %u, %.2f s\n", b->o.dst_text,
	       b->o.size, b->o.window, elapsed);
	printf("  sent %" PRIu64 "  received %" PRIu64 "  lost %" PRIu64 "  late %" PRIu64
	       "  errors %" PRIu64 " (dup %" PRIu64 ", bad %" PRIu64 ", unknown %" PRIu64
	       ")\n",
	       c->sent, c->received, c->lost, c->late, errors, c->dup, c->bad, c->unknown);
	printf("  %.0f replies/s  %.3f Gbit/s (IP bytes)  rtt p50 %s us  p99 %s us\n", pps,
	       gbps, c->received ? p50 : "-", c->received ? p99 : "-");
	if (c->foreign)
		printf("  %" PRIu64 " echo replies to another pinger ignored\n", c->foreign);
}

int main(int argc, char **argv)
{
	struct blast b = { .tx_fd = -1 };
	unsigned i;
	int rc = 1;

	if (parse_opts(argc, argv, &b.o) < 0)
		return 1;
	b.rx_fd = open_rx_socket(&b.o);
	if (b.rx_fd < 0)
		return 1;
	/* The identifier tells our replies from those of another ping in the
	 * same namespace. */
	b.id = (uint16_t)getpid();
	b.req_len = sizeof(struct icmphdr) + b.o.size;
	b.frame_len = L2L3_LEN + b.req_len;
	b.rx_cap = 60 + b.req_len + 1; /* largest IP header, plus one to see overlong replies */
	b.ring = calloc(RING, sizeof(*b.ring));
	b.pattern = malloc(PATTERN_PERIOD + b.o.size);
	b.txbuf = malloc(BATCH * b.frame_len);
	b.rxbuf = malloc(BATCH * b.rx_cap);
	b.hist = calloc(1, sizeof(*b.hist));
	if (!b.ring || !b.pattern || !b.txbuf || !b.rxbuf || !b.hist) {
		fprintf(stderr, "pc_blast: out of memory\n");
		goto out;
	}
	for (i = 0; i < PATTERN_PERIOD + b.o.size; i++)
		b.pattern[i] = (uint8_t)(i * 7u + 1u);

	if (!warm_up(&b))
		fprintf(stderr, "pc_blast: warning: %s did not answer the warm-up echo\n",
			b.o.dst_text);
	if (open_tx_socket(&b) < 0 || run(&b) < 0)
		goto out;
	report(&b);
	rc = b.c.dup + b.c.bad + b.c.unknown ? 2 : 0;
out:
	free(b.hist);
	free(b.rxbuf);
	free(b.txbuf);
	free(b.pattern);
	free(b.ring);
	if (b.tx_fd >= 0)
		close(b.tx_fd);
	close(b.rx_fd);
	return rc;
}
