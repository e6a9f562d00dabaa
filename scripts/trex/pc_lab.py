# SPDX-License-Identifier: MIT
"""What the lab's TRex profiles share: their tunables (TRex >= 2.89 hands
them over as a list, from `-t key=value,...` or the API's tunables), the
address generator for portcullis's side of the lab (scripts/trex.sh:
TRex's clients 198.18.16.0/20, portcullis 198.18.0.1) and the ASTF
profile of a client-only template."""
import argparse

CLIENTS = "198.18.16.1-198.18.31.254"
SERVER = "198.18.0.1"


def parse(prog, tunables, **defaults):
    """Parses the tunables with the common ones (server, port, clients)
    and the profile's own, given as name=default (the default's type is
    the tunable's)."""
    p = argparse.ArgumentParser(prog=prog)
    p.add_argument("--server", default=SERVER)
    p.add_argument("--clients", default=CLIENTS)
    for name, default in defaults.items():
        p.add_argument(f"--{name}", type=type(default), default=default)
    return p.parse_args(list(tunables))


def astf_profile(a, client, server, glob):
    """One template: TRex runs `client` from the --clients range in
    sequence to --server:--port at --cps; `server` is what TRex would
    answer with, unused when it plays the clients only (client_mask 1).
    glob: the ASTFGlobalInfo (TCP options)."""
    from trex.astf.api import (ASTFAssociationRule, ASTFIPGen, ASTFIPGenDist,
                               ASTFIPGenGlobal, ASTFProfile, ASTFTCPClientTemplate,
                               ASTFTCPServerTemplate, ASTFTemplate)
    first, last = a.clients.split("-")
    gen = ASTFIPGen(glob=ASTFIPGenGlobal(ip_offset="0.0.0.0"),
                    dist_client=ASTFIPGenDist(ip_range=[first, last], distribution="seq"),
                    dist_server=ASTFIPGenDist(ip_range=[a.server, a.server],
                                              distribution="seq"))
    template = ASTFTemplate(
        client_template=ASTFTCPClientTemplate(program=client, ip_gen=gen, port=a.port,
                                              cps=a.cps),
        server_template=ASTFTCPServerTemplate(program=server,
                                              assoc=ASTFAssociationRule(port=a.port)))
    return ASTFProfile(default_ip_gen=gen, templates=template, default_c_glob_info=glob)
