#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A SaaS-shaped PKI and config for scale tests and benchmarks: N tenant
hostnames, each with its own root CA (tenant isolation), one server
certificate for all of them, client certificates for a few tenants.

    scripts/pki_scale.py OUTDIR N [CLIENT_INDEX...]

Writes into OUTDIR (generated at run time, never committed):
  server-ca.crt, server.crt, server.key   ECDSA P-256, DNS *.scale.test
  ca/tI.crt                               tenant I's root CA (I = 1..N)
  client-I.crt, client-I.key              a client of tenant I, for each
                                          CLIENT_INDEX (default: 1, N/2, N)
                                          SAN URI spiffe://tI.scale.test/client
  hosts.conf                              for each tenant:
                                            ca-set tI file OUTDIR/ca/tI.crt
                                            host tI.scale.test ca-set tI
                                            host tI.scale.test verify required
                                          and the default host's cert
"""
import datetime
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
DAY = datetime.timedelta(days=1)


def cert(cn, key, issuer_name, issuer_key, *, ca, sans=(), eku=None):
    b = (x509.CertificateBuilder()
         .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
         .issuer_name(issuer_name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
         .public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(NOW - DAY).not_valid_after(NOW + 365 * DAY)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                        critical=False))
    if issuer_key:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer_key.public_key()), critical=False)
    if ca:
        b = b.add_extension(x509.KeyUsage(True, False, False, False, False, True, True,
                                          False, False), critical=True)
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
    return b.sign(issuer_key or key, hashes.SHA256())


def key_pem(k):
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption())


def pem(c):
    return c.public_bytes(serialization.Encoding.PEM)


def main(out, n, clients):
    out = Path(out)
    (out / "ca").mkdir(parents=True, exist_ok=True)
    skey = ec.generate_private_key(ec.SECP256R1())
    sca_key = ec.generate_private_key(ec.SECP256R1())
    sca = cert("Scale Server CA", sca_key, None, None, ca=True)
    srv = cert("scale.test", skey, sca.subject, sca_key, ca=False,
               sans=[x509.DNSName("*.scale.test")], eku=ExtendedKeyUsageOID.SERVER_AUTH)
    (out / "server-ca.crt").write_bytes(pem(sca))
    (out / "server.crt").write_bytes(pem(srv) + pem(sca))
    (out / "server.key").write_bytes(key_pem(skey))
    conf = [f"cert edge {out}/server.crt {out}/server.key", "host default cert-ref edge"]
    for i in range(1, n + 1):
        k = ec.generate_private_key(ec.SECP256R1())
        ca = cert(f"Tenant {i} Root CA", k, None, None, ca=True)
        (out / "ca" / f"t{i}.crt").write_bytes(pem(ca))
        conf += [f"ca-set t{i} file {out}/ca/t{i}.crt", f"host t{i}.scale.test ca-set t{i}",
                 f"host t{i}.scale.test verify required"]
        if i in clients:
            ck = ec.generate_private_key(ec.SECP256R1())
            cc = cert(f"client.t{i}.scale.test", ck, ca.subject, k, ca=False,
                      sans=[x509.UniformResourceIdentifier(f"spiffe://t{i}.scale.test/client")],
                      eku=ExtendedKeyUsageOID.CLIENT_AUTH)
            (out / f"client-{i}.crt").write_bytes(pem(cc))
            (out / f"client-{i}.key").write_bytes(key_pem(ck))
    (out / "hosts.conf").write_text("\n".join(conf) + "\n")


if __name__ == "__main__":
    count = int(sys.argv[2])
    picks = {int(a) for a in sys.argv[3:]} or {1, max(1, count // 2), count}
    main(sys.argv[1], count, picks)
