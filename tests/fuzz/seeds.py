# SPDX-License-Identifier: MIT
"""Write seed inputs for fuzz_eth_input into a directory: each seed is a
sequence of [2-byte length][frame] (see the target)."""
import struct
import sys
from pathlib import Path

from scapy.all import ARP, ICMP, IP, UDP, Ether, Raw

US, PEER = "198.18.0.1", "198.18.0.2"
MAC, PEER_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"


def seq(*frames):
    out = b""
    for f in frames:
        b = bytes(f) if f is not None else b""
        out += struct.pack(">H", len(b)) + b
    return out


def main(outdir):
    d = Path(outdir)
    d.mkdir(parents=True, exist_ok=True)
    eth = Ether(dst=MAC, src=PEER_MAC)
    arp_req = Ether(dst="ff:ff:ff:ff:ff:ff", src=PEER_MAC) / ARP(psrc=PEER, pdst=US)
    echo = eth / IP(src=PEER, dst=US) / ICMP() / Raw(b"abcdefgh")
    seeds = {
        "arp-then-echo": seq(arp_req, echo),
        "echo-unknown": seq(eth / IP(src="198.18.0.12", dst=US) / ICMP(), None,
                            eth / ARP(op=2, psrc="198.18.0.12", pdst=US,
                                      hwsrc=PEER_MAC, hwdst=MAC)),
        "options": seq(arp_req, eth / IP(src=PEER, dst=US, options=b"\x01\x01\x01\x00")
                       / ICMP()),
        "udp": seq(eth / IP(src=PEER, dst=US) / UDP(dport=53) / Raw(b"q")),
    }
    for name, data in seeds.items():
        (d / name).write_bytes(data)


if __name__ == "__main__":
    main(sys.argv[1])
