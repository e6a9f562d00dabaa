# SPDX-License-Identifier: MIT
"""TRex ASTF profile: TCP connection rate against portcullis's echo app.

Each flow: three-way handshake, SIZE bytes to portcullis's `tcp listen 7
echo`, the same bytes back, close (client FIN). TRex plays the clients
only (--astf-client-mask 0x1 / the API's client_mask=1); portcullis is the
server, so the server template only names the port.

  lab:        scripts/bench.sh trex-cps (scripts/trex/README.md, "Lab")
  bare metal: ./t-rex-64 --astf --astf-client-mask 0x1 -f astf_tcp_cps.py \\
                  -d 60 -m 1 -t cps=20000,size=64,server=198.18.0.1

Tunables: cps (new connections/s at -m 1; -m multiplies), size (echo
payload bytes), server (portcullis's address), port (default 7), clients
(first-last source range, routed back to TRex by portcullis's `ip
gateway`). Compare TRex's tcps_connects / tcps_closed with portcullis's
tcp_passive_opens / tcp_conns_established.
"""
from pc_lab import astf_profile, parse
from trex.astf.api import ASTFGlobalInfo, ASTFProgram


class TcpCps:
    def get_profile(self, tunables=(), **_):
        a = parse("astf_tcp_cps.py", tunables, cps=10000.0, size=64, port=7)
        payload = b"p" * a.size

        client = ASTFProgram()
        client.send(payload)
        client.recv(len(payload))
        # Program end: the client closes (FIN), as pc_load --close fin.

        server = ASTFProgram()  # unused: TRex plays the clients only
        server.recv(len(payload))
        server.send(payload)

        glob = ASTFGlobalInfo()
        glob.tcp.mss = 1460
        glob.tcp.no_delay = 1
        return astf_profile(a, client, server, glob)


def register():
    return TcpCps()
