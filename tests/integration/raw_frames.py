# SPDX-License-Identifier: MIT
"""Raw frames from the client namespace (scapy), for the integration tests.

  raw_frames.py malformed           send malformed frames of every kind the
                                    lab's bridge lets through; print
                                    "sent REASON N" per drop reason
  raw_frames.py unknown-neighbour   send an echo request from 198.18.0.12
                                    with no ARP first; exit 0 once the echo
                                    reply comes back (portcullis had to ARP)
"""
import sys
import threading
import time

from scapy.all import (ARP, ICMP, IP, TCP, UDP, AsyncSniffer, Dot1Q, Ether, IPv6, Raw,
                       conf, get_if_hwaddr, sendp, srp1)

IFACE = "cl0"
ADDR = "198.18.0.1"
CLIENT = "198.18.0.2"
UNKNOWN = "198.18.0.12"
COUNT = 10

conf.verb = 0


def portcullis_mac():
    for _ in range(5):
        r = srp1(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst=ADDR, psrc=CLIENT),
                 iface=IFACE, timeout=1)
        if r is not None and ARP in r:
            return r[ARP].hwsrc
    sys.exit("portcullis does not answer ARP")


def malformed():
    pc = portcullis_mac()
    me = get_if_hwaddr(IFACE)
    eth = Ether(dst=pc, src=me)
    eth_ip = Ether(dst=pc, src=me, type=0x0800)
    good = IP(src=CLIENT, dst=ADDR) / ICMP() / Raw(b"x" * 32)

    raw_good = bytes(good)
    cases = {
        # Ethernet (runts and bad source MACs never cross the lab's bridge:
        # the unit tests cover those)
        "eth_multicast": Ether(dst="01:00:5e:00:00:fb", src=me) / good,
        "eth_bcast_non_arp": Ether(dst="ff:ff:ff:ff:ff:ff", src=me) / good,
        "eth_vlan": eth / Dot1Q(vlan=7) / good,
        "eth_ipv6": eth / IPv6(src="fd00::2", dst="fd00::1") / Raw(b"v6"),
        "eth_unknown_type": Ether(dst=pc, src=me, type=0x88B5) / Raw(b"?" * 46),
        # IPv4
        "ipv4_short": eth_ip / Raw(raw_good[:12]),
        "ipv4_bad_version": eth_ip / Raw(b"\x65" + raw_good[1:]),
        "ipv4_bad_ihl": eth_ip / Raw(b"\x44" + raw_good[1:]),
        "ipv4_bad_length": eth / IP(src=CLIENT, dst=ADDR, len=2000) / ICMP(),
        "ipv4_bad_checksum": eth / IP(src=CLIENT, dst=ADDR, chksum=0x1234) / ICMP(),
        "ipv4_bad_options": eth / IP(src=CLIENT, dst=ADDR, options=b"\x44\x00\x00\x00") / ICMP(),
        "ipv4_source_route": eth / IP(src=CLIENT, dst=ADDR,
                                      options=b"\x83\x07\x04\xc6\x12\x00\x02\x00") / ICMP(),
        "ipv4_fragment": eth / IP(src=CLIENT, dst=ADDR, flags="MF") / ICMP(),
        "ipv4_bad_src": eth / IP(src="127.0.0.1", dst=ADDR) / ICMP(),
        "ipv4_not_for_us": eth / IP(src=CLIENT, dst="198.18.0.9") / ICMP(),
        "ipv4_bcast_mcast": eth / IP(src=CLIENT, dst="198.18.0.255") / ICMP(),
        "ipv4_unhandled_proto": eth / IP(src=CLIENT, dst=ADDR) / UDP(dport=9) / Raw(b"u"),
        # ICMP
        "icmp_short": eth / IP(src=CLIENT, dst=ADDR, proto=1) / Raw(b"\x08\x00\xf7"),
        "icmp_bad_checksum": eth / IP(src=CLIENT, dst=ADDR) / ICMP(chksum=0x4321),
        "icmp_unhandled": eth / IP(src=CLIENT, dst=ADDR) / ICMP(type=13),
        # TCP (with RX checksum offload, the device's verdict)
        "tcp_bad_checksum": eth / IP(src=CLIENT, dst=ADDR) / TCP(dport=7, flags="S",
                                                                  chksum=0x1234),
        # ARP
        "arp_short": bytes(Ether(dst=pc, src=me, type=0x0806) / Raw(b"\x00\x01\x08\x00")),
        # hardware type 6 (IEEE 802), patched into an otherwise good request
        "arp_bad_format": (lambda b: b[:14] + b"\x00\x06" + b[16:])(
            bytes(eth / ARP(pdst=ADDR, psrc=CLIENT))),
        "arp_bad_op": eth / ARP(op=9, pdst=ADDR, psrc=CLIENT),
        "arp_bad_sender": eth / ARP(op=1, pdst=ADDR, psrc=ADDR),
    }
    for reason, frame in cases.items():
        data = bytes(frame)
        for _ in range(COUNT):
            sendp(Raw(data), iface=IFACE)
        print(f"sent {reason} {COUNT}")


def unknown_neighbour():
    pc = portcullis_mac()
    me = get_if_hwaddr(IFACE)
    ident = 0x5C0F

    def is_reply(p):
        return (IP in p and ICMP in p and p[IP].src == ADDR and p[IP].dst == UNKNOWN
                and p[ICMP].type == 0 and p[ICMP].id == ident)

    started = threading.Event()
    sniffer = AsyncSniffer(iface=IFACE, lfilter=is_reply, count=1, store=True,
                           started_callback=started.set)
    sniffer.start()
    if not started.wait(30):
        sys.exit("the sniffer did not start")
    req = Ether(dst=pc, src=me) / IP(src=UNKNOWN, dst=ADDR) / ICMP(id=ident, seq=1) / Raw(b"hello")
    sendp(req, iface=IFACE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not sniffer.results:
        time.sleep(0.05)
    if sniffer.running:
        sniffer.stop()
    else:
        sniffer.join()
    if not sniffer.results:
        sys.exit("no echo reply to the unknown neighbour")
    r = sniffer.results[0]
    if bytes(r[ICMP].payload) != b"hello" or r[Ether].dst.lower() != me.lower():
        sys.exit(f"wrong reply: {r.summary()}")
    print("echo reply received")


if __name__ == "__main__":
    {"malformed": malformed, "unknown-neighbour": unknown_neighbour}[sys.argv[1]]()
