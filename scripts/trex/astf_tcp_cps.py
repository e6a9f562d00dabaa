# SPDX-License-Identifier: MIT
"""TRex ASTF profile: TCP connection rate against portcullis's echo app.

Each flow: three-way handshake, SIZE bytes to portcullis's `tcp listen 7
echo`, the same bytes back, close (client FIN). TRex plays the clients
only (start it with --astf-client-mask 0x1); portcullis is the server, so
the server template below only names the port TRex would answer on.

  ./t-rex-64 --astf --astf-client-mask 0x1 -f astf_tcp_cps.py -d 60 -m 1 \
      -t cps=20000,size=64,server=198.18.0.1
  (console: start -f astf_tcp_cps.py -m 1 -t cps=20000,size=64)

Tunables: cps (new connections/s at -m 1; -m multiplies), size (echo
payload bytes), server (portcullis's address), port (default 7), clients
(first-last source range, routed to TRex by portcullis's `ip gateway`).
Compare TRex's tcps_connects / tcps_closed and portcullis's
tcp_passive_opens / tcp_conns_established (scripts/trex/README.md).
"""
import argparse

from trex.astf.api import (ASTFAssociationRule, ASTFGlobalInfo, ASTFIPGen,
                           ASTFIPGenDist, ASTFIPGenGlobal, ASTFProfile,
                           ASTFProgram, ASTFTCPClientTemplate,
                           ASTFTCPServerTemplate, ASTFTemplate)


def parse(tunables, kwargs):
    """Tunables arrive as a list of strings (TRex >= 2.89: -t a=1,b=2) or,
    in older releases, as keyword arguments."""
    p = argparse.ArgumentParser(prog="astf_tcp_cps.py")
    p.add_argument("--cps", type=float, default=10000)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--server", default="198.18.0.1")
    p.add_argument("--port", type=int, default=7)
    p.add_argument("--clients", default="16.0.0.1-16.0.255.254")
    if isinstance(tunables, (list, tuple)):
        args = p.parse_args(list(tunables))
    else:
        args = p.parse_args([])
    for k, v in kwargs.items():
        if hasattr(args, k):
            setattr(args, k, type(getattr(args, k))(v))
    return args


class TcpCps:
    def get_profile(self, tunables=(), **kwargs):
        a = parse(tunables, kwargs)
        payload = b"p" * a.size
        first, last = a.clients.split("-")

        client = ASTFProgram()
        client.send(payload)
        client.recv(len(payload))
        # Program end: the client closes (FIN), as pc_load --close fin.

        server = ASTFProgram()  # unused with --astf-client-mask
        server.recv(len(payload))
        server.send(payload)

        ip_gen = ASTFIPGen(glob=ASTFIPGenGlobal(ip_offset="1.0.0.0"),
                           dist_client=ASTFIPGenDist(ip_range=[first, last],
                                                     distribution="seq"),
                           dist_server=ASTFIPGenDist(ip_range=[a.server, a.server],
                                                     distribution="seq"))
        glob = ASTFGlobalInfo()
        glob.tcp.mss = 1460
        glob.tcp.no_delay = 1

        template = ASTFTemplate(
            client_template=ASTFTCPClientTemplate(program=client, ip_gen=ip_gen,
                                                  port=a.port, cps=a.cps),
            server_template=ASTFTCPServerTemplate(program=server,
                                                  assoc=ASTFAssociationRule(port=a.port)))
        return ASTFProfile(default_ip_gen=ip_gen, templates=template,
                           default_c_glob_info=glob)


def register():
    return TcpCps()
