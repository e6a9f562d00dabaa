# SPDX-License-Identifier: MIT
"""TRex STL profile: a SYN flood against portcullis's TLS port, to run while
pc_load (tests/perf/load) drives real mTLS handshakes from another host.

Random source addresses (inside --clients, which portcullis must route
back to TRex through `ip gateway`), random source ports and sequence
numbers; every SYN is a new half-open connection. Once a worker holds `tcp
syn-backlog` half-open connections it answers with SYN cookies: watch
tcp_syncookies_sent grow while pc_load's handshakes/s and error count stay
where they were without the flood (scripts/trex/README.md).

  ./t-rex-64 -i              (stateless server), then in trex-console:
  start -f stl_syn_flood.py -p 0 -m 1mpps -t port=443,server=198.18.0.1

Tunables: server, port (default 443), clients (first-last), pps (rate at
-m 1; -m overrides it with an absolute rate such as 2mpps). The TCP
checksum is left to the NIC (TRex's default checksum offload).
"""
from pc_lab import parse
from trex_stl_lib.api import (IP, TCP, CTRexVmInsFixHwCs, Ether,
                              STLPktBuilder, STLScVmRaw, STLStream,
                              STLTXCont, STLVmFixChecksumHw, STLVmFlowVar,
                              STLVmWrFlowVar)


class SynFlood:
    def get_streams(self, tunables=(), direction=0, **kwargs):
        a = parse("stl_syn_flood.py", tunables, port=443, pps=100000.0)
        first, last = a.clients.split("-")
        # MSS, SACK-permitted, timestamps, window scale: what a real client
        # offers, so the SYN-cookie path encodes all of it.
        syn = (Ether() / IP(src=first, dst=a.server, ttl=64) /
               TCP(sport=1025, dport=a.port, flags="S", seq=1, window=64240,
                   options=[("MSS", 1460), ("SAckOK", b""),
                            ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)]))
        vm = STLScVmRaw([
            STLVmFlowVar(name="src", min_value=first, max_value=last, size=4, op="random"),
            STLVmFlowVar(name="sport", min_value=1025, max_value=65535, size=2, op="random"),
            STLVmFlowVar(name="seq", min_value=0, max_value=0xFFFFFFFF, size=4, op="random"),
            STLVmWrFlowVar(fv_name="src", pkt_offset="IP.src"),
            STLVmWrFlowVar(fv_name="sport", pkt_offset="TCP.sport"),
            STLVmWrFlowVar(fv_name="seq", pkt_offset="TCP.seq"),
            STLVmFixChecksumHw(l3_offset="IP", l4_offset="TCP",
                               l4_type=CTRexVmInsFixHwCs.L4_TYPE_TCP),
        ])
        return [STLStream(packet=STLPktBuilder(pkt=syn, vm=vm),
                          mode=STLTXCont(pps=a.pps))]


def register():
    return SynFlood()
