# SPDX-License-Identifier: MIT
"""The TCP segments of portcullis's port while a command runs, seen on the
client namespace's interface (scapy), for the integration tests:

  segments.py PORT CMD [ARG...]

runs CMD, then prints one JSON object: {"rc": CMD's exit status,
"segments": [{"from": "server"|"client", "flags": "SA", "len": N}, ...]}
in the order they crossed the interface."""
import json
import subprocess
import sys
import threading

from scapy.all import IP, TCP, AsyncSniffer, conf

conf.verb = 0
IFACE = "cl0"
ADDR = "198.18.0.1"


def main():
    port = int(sys.argv[1])
    seen = []
    started = threading.Event()
    sniffer = AsyncSniffer(
        iface=IFACE, store=False,
        lfilter=lambda p: TCP in p and port in (p[TCP].sport, p[TCP].dport),
        prn=seen.append, started_callback=started.set)
    sniffer.start()
    started.wait(5)
    rc = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, timeout=30).returncode
    sniffer.stop()
    out = [{"from": "server" if p[IP].src == ADDR else "client",
            "flags": str(p[TCP].flags),
            "len": p[IP].len - 4 * p[IP].ihl - 4 * p[TCP].dataofs} for p in seen]
    print(json.dumps({"rc": rc, "segments": out}))


if __name__ == "__main__":
    main()
