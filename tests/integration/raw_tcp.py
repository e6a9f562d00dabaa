# SPDX-License-Identifier: MIT
"""Hostile TCP from the client namespace (scapy), for the integration
tests.

  raw_tcp.py hostile        a hand-made connection to the echo port whose
                            sequence numbers wrap around 2^32, with
                            overlapping segments, out-of-window and
                            in-window RSTs, a SYN on the live connection,
                            malformed options and flags; checks the echo
                            stays right and the connection alive
  raw_tcp.py synflood SECS  SYNs from spoofed addresses for SECS seconds
  raw_tcp.py rstflood N     a hand-made connection to the echo port, then N
                            in-window RSTs that are not exact (each one
                            asks for a challenge ACK); checks the
                            connection still echoes and prints
                            {"sent": N, "acks": A, "seconds": S}
"""
import json
import random
import subprocess
import sys
import threading
import time

from scapy.all import ARP, IP, TCP, AsyncSniffer, Ether, Raw, conf, get_if_hwaddr, sendp, srp1

conf.verb = 0
IFACE = "cl0"
ADDR = "198.18.0.1"
ME = "198.18.0.12"
SPORT = 40007


def fail(msg):
    sys.exit("FAIL: " + msg)


def portcullis_mac():
    for _ in range(5):
        r = srp1(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst=ADDR, psrc=ME), iface=IFACE,
                 timeout=1)
        if r is not None and ARP in r:
            return r[ARP].hwsrc
    fail("no ARP answer")


class Conn:
    """A TCP connection driven by hand; replies are sniffed."""

    def __init__(self, mac):
        self.eth = Ether(dst=mac, src=get_if_hwaddr(IFACE))
        self.got = []
        started = threading.Event()
        self.sniffer = AsyncSniffer(
            iface=IFACE, store=False,
            lfilter=lambda p: TCP in p and p[IP].src == ADDR and p[TCP].dport == SPORT,
            prn=self.got.append, started_callback=started.set)
        self.sniffer.start()
        if not started.wait(30):
            fail("the sniffer did not start")

    def send(self, flags, seq, ack=0, data=b"", options=None):
        tcp = TCP(sport=SPORT, dport=7, flags=flags, seq=seq % 2**32, ack=ack % 2**32,
                  window=65535, options=options or [])
        sendp(self.eth / IP(src=ME, dst=ADDR) / tcp / Raw(data), iface=IFACE)

    def wait(self, pred, timeout=30.0):
        """The first packet received that pred accepts, or None after
        timeout seconds (generous: it returns as soon as one is there)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for p in list(self.got):
                if pred(p):
                    return p
            time.sleep(0.02)
        return None

    def wait_echoed(self, want, timeout=30.0):
        """True once exactly want has been echoed."""
        deadline = time.monotonic() + timeout
        while self.echoed() != want:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def echoed(self):
        """The in-order bytes portcullis sent so far (retransmissions
        overlap harmlessly)."""
        out = bytearray()
        for p in sorted((p for p in self.got if Raw in p),
                        key=lambda p: (p[TCP].seq - self.irs) % 2**32):
            off = (p[TCP].seq - self.irs - 1) % 2**32
            chunk = bytes(p[Raw].load)
            if off <= len(out) < off + len(chunk):
                out += chunk[len(out) - off:]
        return bytes(out)

    def stop(self):
        self.sniffer.stop()


def kernel_quiet(run, *args):
    """run(*args) while the kernel sends no RST for our hand-made
    connection (it knows no socket for it)."""
    subprocess.run(["nft", "add table inet pc_raw"], check=True)
    try:
        subprocess.run(["nft", "add chain inet pc_raw out { type filter hook output priority 0; }"],
                       check=True)
        subprocess.run(["nft", f"add rule inet pc_raw out tcp sport {SPORT} tcp flags rst drop"],
                       check=True)
        run(*args)
    finally:
        subprocess.run(["nft", "delete table inet pc_raw"], check=False)


def hostile():
    kernel_quiet(run_hostile)


def handshake(c, iss):
    """SYN, SYN-ACK, ACK; returns (snd, rcv)."""
    c.send("S", iss, options=[("MSS", 1460), ("SAckOK", b""), ("WScale", 7)])
    synack = c.wait(lambda p: p[TCP].flags == "SA")
    if synack is None:
        fail("no SYN-ACK")
    c.irs = synack[TCP].seq
    c.send("A", iss + 1, c.irs + 1)
    return iss + 1, c.irs + 1


def run_rstflood(n):
    c = Conn(portcullis_mac())
    snd, rcv = handshake(c, 1000)
    c.send("PA", snd, rcv, b"before")
    snd += 6
    if not c.wait_echoed(b"before"):
        fail(f"no echo before the flood: {c.echoed()!r}")
    before = len(c.got)
    rsts = [c.eth / IP(src=ME, dst=ADDR) /
            TCP(sport=SPORT, dport=7, flags="R", seq=(snd + 1 + i) % 2**32, window=0)
            for i in range(n)]
    start = time.monotonic()
    sendp(rsts, iface=IFACE)
    seconds = time.monotonic() - start
    c.send("PA", snd, rcv + 6, b"after")
    snd += 5
    if not c.wait_echoed(b"beforeafter"):
        fail(f"connection lost after the flood: {c.echoed()!r}")
    acks = sum(1 for p in c.got[before:] if p[TCP].flags == "A" and Raw not in p)
    c.send("R", snd)
    c.stop()
    print(json.dumps({"sent": n, "acks": acks, "seconds": seconds}))


def rstflood(n):
    kernel_quiet(run_rstflood, n)


def run_hostile():
    c = Conn(portcullis_mac())
    snd, rcv = handshake(c, 2**32 - 20)  # data will cross the wrap
    msg = b"0123456789abcdefghijklmnopqrstuvwxyz"
    # Overlapping segments across the wrap: [0,20) then [10,36).
    c.send("PA", snd, rcv, msg[:20])
    c.send("PA", snd + 10, rcv, msg[10:])
    # The same again (a retransmission entirely below rcv_nxt).
    c.send("PA", snd, rcv, msg[:20])
    snd += len(msg)
    if not c.wait_echoed(msg):
        fail(f"echo across the wrap: {c.echoed()!r}")
    # Out-of-window RST: ignored. In-window RST not at rcv_nxt, SYN on the
    # live connection: challenge ACKs (RFC 5961).
    n = len(c.got)
    c.send("R", snd + 2**30)
    c.send("R", snd + 100)
    c.send("S", snd + 5)
    deadline = time.monotonic() + 30
    while True:
        acks = [p for p in c.got[n:] if p[TCP].flags == "A"]
        if len(acks) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if len(acks) < 2:
        fail(f"expected two challenge ACKs, got {[p.summary() for p in c.got[n:]]}")
    # Malformed options (kind 8 with length 0, in a 24-byte header whose
    # option bytes scapy takes as given) and SYN+FIN: dropped.
    bad = (c.eth / IP(src=ME, dst=ADDR) /
           TCP(sport=SPORT, dport=7, flags="PA", seq=snd % 2**32, ack=rcv % 2**32, dataofs=6,
               window=65535) / Raw(b"\x08\x00\x01\x01" + b"Y"))
    sendp(bad, iface=IFACE)
    c.send("SF", snd, rcv)
    # Still alive and echoing.
    before = c.echoed()
    c.send("PA", snd, rcv, b"still here")
    snd += len(b"still here")
    if not c.wait_echoed(before + b"still here"):
        fail(f"connection lost after hostile segments: {c.echoed()!r}")
    # Close.
    c.send("FA", snd, rcv + len(c.echoed()))
    fin = c.wait(lambda p: "F" in str(p[TCP].flags))
    if fin is None:
        fail("no FIN back")
    c.send("A", snd + 1, fin[TCP].seq + 1)
    c.stop()
    print("hostile: ok")


def synflood(seconds):
    mac = portcullis_mac()
    src_mac = get_if_hwaddr(IFACE)
    rng = random.Random(1)
    frames = []
    for i in range(2000):
        src = f"198.18.0.{rng.randint(100, 250)}"
        pkt = (Ether(dst=mac, src=src_mac) / IP(src=src, dst=ADDR) /
               TCP(sport=rng.randint(1024, 65535), dport=7, flags="S",
                   seq=rng.randint(0, 2**32 - 1), options=[("MSS", 1460)]))
        frames.append(Raw(bytes(pkt)))
    deadline = time.monotonic() + seconds
    sent = 0
    while time.monotonic() < deadline:
        sendp(frames, iface=IFACE)
        if sent == 0:
            print("flooding", flush=True)
        sent += len(frames)
    print(f"synflood: {sent} SYNs")


if __name__ == "__main__":
    if sys.argv[1] == "hostile":
        hostile()
    elif sys.argv[1] == "rstflood":
        rstflood(int(sys.argv[2]))
    elif sys.argv[1] == "synflood":
        synflood(float(sys.argv[2]))
    else:
        sys.exit("usage: raw_tcp.py hostile | synflood SECONDS | rstflood COUNT")
