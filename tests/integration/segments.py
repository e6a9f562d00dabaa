# SPDX-License-Identifier: MIT
"""The TCP segments of portcullis's port while a command runs, seen on the
client namespace's interface (scapy), for the integration tests:

  segments.py PORT CMD [ARG...]

runs CMD once the capture is on (exit status 1 if it cannot be), then
prints one JSON object: {"rc": CMD's exit status, "segments": [{"from":
"server"|"client", "flags": "SA", "len": N}, ...]} in the order they
crossed the interface. The capture runs on after CMD until the sniffer
has caught up with the end of the connection, a FIN or RST from each
side (10 s at most): frames it has not yet taken from its socket when it
stops are lost."""
import json
import subprocess
import sys
import threading
import time

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
    if not started.wait(20):
        sys.exit("segments.py: the capture did not start")
    rc = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, timeout=30).returncode

    def ended(side):
        return any((p[IP].src == ADDR) == (side == "server") and p[TCP].flags & 0x05
                   for p in list(seen))  # FIN or RST

    deadline = time.monotonic() + 10
    while not (ended("server") and ended("client")) and time.monotonic() < deadline:
        time.sleep(0.02)
    sniffer.stop()
    out = [{"from": "server" if p[IP].src == ADDR else "client",
            "flags": str(p[TCP].flags),
            "len": p[IP].len - 4 * p[IP].ihl - 4 * p[TCP].dataofs} for p in seen]
    print(json.dumps({"rc": rc, "segments": out}))


if __name__ == "__main__":
    main()
