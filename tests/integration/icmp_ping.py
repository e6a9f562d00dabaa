# SPDX-License-Identifier: MIT
"""An ICMP echo pinger for the integration tests, run inside a namespace
(in_ns) like the other helper scripts:

  icmp_ping.py [-c COUNT] [-i INTERVAL] [-w WAIT] [-s SIZE] [--df]
               [-I SOURCE] [--sync] [--rtts] DEST

sends COUNT echo requests to DEST (a raw socket; identifier: this
process's PID, sequence numbers 0..COUNT-1, SIZE bytes of payload), each
INTERVAL seconds after the one before (as iputils ping: a late wake-up
delays the rest rather than sending a burst), then keeps receiving until
every request has its reply or WAIT seconds have passed since the last
one was sent. --df sets don't-fragment (IP_MTU_DISCOVER=IP_PMTUDISC_DO);
-I binds to SOURCE, which then both sends and is the only address whose
replies are seen. --sync prints "ready" once the socket is set up and
waits for a line (or the end) on stdin before the first request, so that
pingers started together begin together, after their start-up (some
30 ms of CPU each, where iputils ping takes one). Then prints one JSON
line:

  {"sent": n, "received": n, "dups": n, "bad": n, "errors": n,
   "min": ms, "avg": ms, "rtts": [ms, ...]}

received counts the distinct sequence numbers answered, dups the further
replies to one already answered, bad the replies of ours whose checksum
or payload is wrong (neither received nor dups), errors the sends that
failed (not in sent). min and avg are null when nothing was received;
rtts (with --rtts) lists each answered request's first RTT in sequence
order. RTTs use the kernel's receive timestamps (SO_TIMESTAMPNS), so a
late wake-up of this process does not lengthen them. Exits 0 whatever
was lost: the tests decide.

Why not iputils ping: once it has had one reply it waits only
max(2 x the largest RTT seen, the interval) after its last request (-W
applies only while no reply has come), so on a loaded machine a last
reply a few milliseconds late is counted as lost, and the tests' exact
counts fail on a healthy tree.
"""
import argparse
import json
import os
import select
import socket
import struct
import sys
import time

ICMP_ECHO, ICMP_ECHOREPLY = 8, 0
SOL_RAW, ICMP_FILTER = 255, 1  # linux/icmp.h
IP_MTU_DISCOVER = getattr(socket, "IP_MTU_DISCOVER", 10)
IP_PMTUDISC_DO = getattr(socket, "IP_PMTUDISC_DO", 2)
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def payload(seq, size):
    return bytes((seq + k) & 0xFF for k in range(size))


def echo_request(ident, seq, size):
    body = payload(seq, size)
    head = struct.pack("!BBHHH", ICMP_ECHO, 0, 0, ident, seq)
    return struct.pack("!BBHHH", ICMP_ECHO, 0, checksum(head + body), ident, seq) + body


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-c", "--count", type=int, default=1)
    ap.add_argument("-i", "--interval", type=float, default=1.0)
    ap.add_argument("-w", "--wait", type=float, default=5.0)
    ap.add_argument("-s", "--size", type=int, default=56)
    ap.add_argument("--df", action="store_true")
    ap.add_argument("-I", "--source")
    ap.add_argument("--sync", action="store_true")
    ap.add_argument("--rtts", action="store_true")
    ap.add_argument("dest")
    a = ap.parse_args()
    if not 1 <= a.count <= 65536 or a.size < 0 or a.interval < 0 or a.wait < 0:
        ap.error("COUNT 1..65536, SIZE, INTERVAL and WAIT not negative")

    ident = os.getpid() & 0xFFFF
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    # Echo replies only: every other ICMP type is filtered out by the kernel.
    s.setsockopt(SOL_RAW, ICMP_FILTER, struct.pack("=I", ~(1 << ICMP_ECHOREPLY) & 0xFFFFFFFF))
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    if a.df:
        s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
    if a.source:
        s.bind((a.source, 0))
    s.setblocking(False)

    sent_ns = {}  # seq -> CLOCK_REALTIME of the send (the timestamps' clock)
    rtts = {}  # seq -> first RTT (ms)
    dups = bad = errors = 0

    def take(data, addr, ancdata):
        nonlocal dups, bad
        now = time.time_ns()
        for level, kind, cdata in ancdata:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(cdata) >= 16:
                sec, nsec = struct.unpack("@qq", cdata[:16])
                now = sec * 1_000_000_000 + nsec
        if addr[0] != a.dest or len(data) < 20:
            return
        icmp = data[(data[0] & 0x0F) * 4:]
        if len(icmp) < 8:
            return
        kind, code, _, rid, seq = struct.unpack("!BBHHH", icmp[:8])
        if kind != ICMP_ECHOREPLY or rid != ident:
            return  # another pinger's, in the same namespace
        if (code != 0 or seq not in sent_ns or checksum(icmp) != 0
                or icmp[8:] != payload(seq, a.size)):
            bad += 1
        elif seq in rtts:
            dups += 1
        else:
            rtts[seq] = max(0, now - sent_ns[seq]) / 1e6

    def drain():
        while True:
            try:
                data, anc, _, addr = s.recvmsg(65536, 256)
            except BlockingIOError:
                return
            take(data, addr, anc)

    if a.sync:
        print("ready", flush=True)
        sys.stdin.readline()
    due = time.monotonic()
    seq = 0
    deadline = None
    while True:
        now = time.monotonic()
        if seq < a.count:
            if now >= due:
                due = now + a.interval
                pkt = echo_request(ident, seq, a.size)
                sent_ns[seq] = time.time_ns()
                try:
                    s.sendto(pkt, (a.dest, 0))
                except OSError as e:
                    del sent_ns[seq]
                    errors += 1
                    print(f"icmp_ping: seq {seq}: {e}", file=sys.stderr)
                seq += 1
                if seq == a.count:
                    deadline = time.monotonic() + a.wait
                continue
            timeout = due - now
        else:
            if len(rtts) == len(sent_ns) or now >= deadline:
                break
            timeout = deadline - now
        if select.select([s], [], [], timeout)[0]:
            drain()
    drain()
    s.close()

    out = {"sent": len(sent_ns), "received": len(rtts), "dups": dups, "bad": bad,
           "errors": errors,
           "min": round(min(rtts.values()), 3) if rtts else None,
           "avg": round(sum(rtts.values()) / len(rtts), 3) if rtts else None}
    if a.rtts:
        out["rtts"] = [round(rtts[k], 3) for k in sorted(rtts)]
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
