# SPDX-License-Identifier: MIT
"""TRex ASTF profile: TCP bulk transfer in both directions through
portcullis's echo app.

Each flow: connect, send SIZE bytes to `tcp listen 7 echo` while reading
the same SIZE bytes back (so both directions carry SIZE bytes at once),
close. `cps` flows start per second: with SIZE large, a few flows are
active at any time and the run measures bytes, not connections. TRex
plays the clients only.

  lab:        scripts/bench.sh trex-bulk (scripts/trex/README.md, "Lab")
  bare metal: ./t-rex-64 --astf --astf-client-mask 0x1 -f astf_tcp_bulk.py \\
                  -d 60 -m 1 -t cps=4,size=268435456,server=198.18.0.1

Tunables: cps, size (bytes each way per flow), server, port (default 7),
clients, window (TRex's TCP buffers, bytes each way, default 256 KiB; the
receive window it advertises). In the lab, over memif, TRex's zero-copy
transmit crashes (a segmentation fault in its send_burst) once its ring
overflows: 40 flows/s with 1 MiB windows does it, 30 flows/s with the
default window stays clear (scripts/bench.sh trex-bulk).
"""
from pc_lab import astf_profile, parse
from trex.astf.api import ASTFGlobalInfo, ASTFProgram


class TcpBulk:
    def get_profile(self, tunables=(), **_):
        a = parse("astf_tcp_bulk.py", tunables, cps=2.0, size=64 << 20, port=7,
                  window=256 << 10)

        client = ASTFProgram()
        client.send(b"b" * 4096, size=a.size)  # 4 KiB repeated, not held whole
        client.recv(a.size)

        server = ASTFProgram()  # unused: TRex plays the clients only
        server.recv(a.size)

        glob = ASTFGlobalInfo()
        glob.tcp.mss = 1460
        glob.tcp.rxbufsize = a.window
        glob.tcp.txbufsize = a.window
        return astf_profile(a, client, server, glob)


def register():
    return TcpBulk()
