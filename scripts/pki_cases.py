#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Test PKI for client-certificate verification, one case per failure
class, generated at run time (keys and certificates are never committed).

    scripts/pki_cases.py OUTDIR

ECDSA P-256 / SHA-256 unless stated. Every client case X has X.crt (the
leaf), X.key and, when it has intermediates, X.chain.pem (leaf, then its
intermediates from the bottom up: what a TLS client sends).

CAs (*.crt certificate, *.key key):
  a-root          tenant A root CA (keyCertSign, cRLSign)
  a-int           tenant A issuing CA, under a-root
  a-bundle.pem    a-root + a-int: the CA file to use with CRLs (a CRL is
                  accepted only from a CA in the trusted set)
  b-root          tenant B root CA
  rogue-root      a CA that nobody trusts
  deep-1..3       a-root -> deep-1 -> deep-2 -> deep-3 (issues "deep")
  plen0           CA:TRUE, pathlen:0, under a-root
  plen0-sub       CA under plen0: a path-length violation already
CRLs (PEM):
  a-root.crl          from a-root, revokes nothing we use (covers a-int)
  a-int.crl           from a-int, revokes "revoked"
  a-int-expired.crl   from a-int, nextUpdate 30 days ago
  b-root.crl          from b-root (a CRL from a CA outside tenant A's set)
Client certificates (SAN URI spiffe://tenant-a.test/svc/web, DNS
web.tenant-a.test, CN web.tenant-a.test, clientAuth, issued by a-int,
unless stated):
  good              verifies
  rsa               the same with an RSA-2048 key
  expired           notAfter 30 days ago
  not-yet-valid     notBefore in 365 days
  unknown-ca        issued by rogue-root
  tenant-b          issued by b-root (spiffe://tenant-b.test/svc/web)
  revoked           on a-int.crl
  eku-server        extendedKeyUsage serverAuth only
  bad-signature     good's certificate with a signature byte altered
  deep              issued by deep-3: 4 certificates below the root, so
                    max depth 3 or less fails (chain-too-long), 4 passes
  self-signed       self-signed leaf
  identity-denied   spiffe://tenant-a.test/batch/job, DNS and CN
                    job.batch.tenant-a.test: valid, but outside the
                    allowlist "uri:spiffe://tenant-a.test/svc/*" +
                    "dns:*.tenant-a.test" that "good" matches (one label)
  no-ku-ds          keyUsage keyEncipherment only (no digitalSignature)
  pathlen           issued by plen0-sub (plen0 has pathlen:0)
  not-ca            issued by not-ca-issuer, a leaf under a-int (CA:FALSE, no
                    keyUsage): not-ca.chain.pem holds not-ca, not-ca-issuer,
                    a-int
Server certificates (serverAuth, DNS tenant-a.test, *.tenant-a.test,
tenant-b.test):
  server-ca, server         ECDSA CA and server certificate
  server-rsa-ca, server-rsa RSA-2048 CA and server certificate
  server.chain.pem, server-rsa.chain.pem   server certificate then its CA

Idempotent: nothing is written while every file exists and nothing that
should be valid expires (and "not-yet-valid" does not become valid)
within a day; otherwise the whole set is made again.
"""
import datetime
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DAY = datetime.timedelta(days=1)
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
STAMP = "valid-until"  # POSIX time before which the set need not change

GOOD_SANS = [x509.UniformResourceIdentifier("spiffe://tenant-a.test/svc/web"),
             x509.DNSName("web.tenant-a.test")]
SERVER_NAMES = ["tenant-a.test", "*.tenant-a.test", "tenant-b.test"]
CLIENTS = ["good", "rsa", "expired", "not-yet-valid", "unknown-ca", "tenant-b",
           "revoked", "eku-server", "bad-signature", "deep", "self-signed",
           "identity-denied", "no-ku-ds", "pathlen", "not-ca"]


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "portcullis test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def new_key(kind="ec"):
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


class Issued:
    def __init__(self, key, cert, parents=()):
        self.key, self.cert, self.parents = key, cert, list(parents)


def make(cn, key, issuer, *, ca=False, pathlen=None, eku=(ExtendedKeyUsageOID.CLIENT_AUTH,),
         sans=None, ku=None, not_before=None, not_after=None):
    """A certificate for key, signed by issuer (an Issued, or None for
    self-signed)."""
    # CAs from a year back, so that --at can go back to when "expired" was valid.
    nb = not_before or (NOW - 365 * DAY if ca else NOW - DAY)
    na = not_after or (NOW + 3650 * DAY if ca else NOW + 90 * DAY)
    subject = name(cn)
    b = (x509.CertificateBuilder().subject_name(subject)
         .issuer_name(issuer.cert.subject if issuer else subject)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(nb).not_valid_after(na)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=pathlen), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                        critical=False))
    if issuer:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer.key.public_key()), critical=False)
    if ku is None:
        ku = ["key_cert_sign", "crl_sign"] if ca else ["digital_signature"]
    flags = {f: f in ku for f in ["digital_signature", "content_commitment",
                                  "key_encipherment", "data_encipherment", "key_agreement",
                                  "key_cert_sign", "crl_sign"]}
    if ku:  # [] leaves keyUsage out
        b = b.add_extension(x509.KeyUsage(**flags, encipher_only=False, decipher_only=False),
                            critical=True)
    if not ca and eku:
        b = b.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    signer = issuer.key if issuer else key
    cert = b.sign(signer, hashes.SHA256())
    return Issued(key, cert, ([issuer] + issuer.parents) if issuer else [])


def crl(issuer, revoked_serials, this_update, next_update):
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer.cert.subject)
         .last_update(this_update).next_update(next_update))
    for s in revoked_serials:
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(s)
                                      .revocation_date(this_update).build())
    return b.sign(issuer.key, hashes.SHA256())


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def alter_signature(der):
    """The same certificate with one byte of its signature's r changed:
    still well-formed DER, no longer a valid signature."""
    der = bytearray(der)
    # ECDSA-Sig-Value: ... BIT STRING { SEQUENCE { INTEGER r, INTEGER s } };
    # s is 32 or 33 bytes long (shorter with odds below 2^-90): the 20th
    # byte from the end lies inside s.
    der[-20] ^= 0x01
    return bytes(der)


def build(out):
    w = {}  # file name -> bytes

    def put(stem, it, chain=True):
        w[stem + ".crt"] = pem(it.cert)
        w[stem + ".key"] = it.key.private_bytes(serialization.Encoding.PEM,
                                                serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption())
        inter = [p for p in it.parents if p.parents]  # all but the root
        if chain and inter:
            w[stem + ".chain.pem"] = pem(it.cert) + b"".join(pem(p.cert) for p in inter)

    a_root = make("Tenant A Root CA", new_key(), None, ca=True)
    a_int = make("Tenant A Issuing CA", new_key(), a_root, ca=True)
    b_root = make("Tenant B Root CA", new_key(), None, ca=True)
    rogue = make("Rogue Root CA", new_key(), None, ca=True)
    deep1 = make("Tenant A Deep 1", new_key(), a_root, ca=True)
    deep2 = make("Tenant A Deep 2", new_key(), deep1, ca=True)
    deep3 = make("Tenant A Deep 3", new_key(), deep2, ca=True)
    plen0 = make("Tenant A Pathlen 0", new_key(), a_root, ca=True, pathlen=0)
    plen0_sub = make("Tenant A Under Pathlen 0", new_key(), plen0, ca=True)
    for stem, it in [("a-root", a_root), ("a-int", a_int), ("b-root", b_root),
                     ("rogue-root", rogue), ("deep-1", deep1), ("deep-2", deep2),
                     ("deep-3", deep3), ("plen0", plen0), ("plen0-sub", plen0_sub)]:
        put(stem, it, chain=False)
    w["a-bundle.pem"] = pem(a_root.cert) + pem(a_int.cert)

    cn = "web.tenant-a.test"
    good = make(cn, new_key(), a_int, sans=GOOD_SANS)
    clients = {
        "good": good,
        "rsa": make(cn, new_key("rsa"), a_int, sans=GOOD_SANS),
        "expired": make(cn, new_key(), a_int, sans=GOOD_SANS, not_before=NOW - 60 * DAY,
                        not_after=NOW - 30 * DAY),
        "not-yet-valid": make(cn, new_key(), a_int, sans=GOOD_SANS,
                              not_before=NOW + 365 * DAY, not_after=NOW + 730 * DAY),
        "unknown-ca": make(cn, new_key(), rogue, sans=GOOD_SANS),
        "tenant-b": make("web.tenant-b.test", new_key(), b_root, sans=[
            x509.UniformResourceIdentifier("spiffe://tenant-b.test/svc/web"),
            x509.DNSName("web.tenant-b.test")]),
        "revoked": make(cn, new_key(), a_int, sans=GOOD_SANS),
        "eku-server": make(cn, new_key(), a_int, sans=GOOD_SANS,
                           eku=(ExtendedKeyUsageOID.SERVER_AUTH,)),
        "deep": make(cn, new_key(), deep3, sans=GOOD_SANS),
        "self-signed": make(cn, new_key(), None, sans=GOOD_SANS),
        "identity-denied": make("job.batch.tenant-a.test", new_key(), a_int, sans=[
            x509.UniformResourceIdentifier("spiffe://tenant-a.test/batch/job"),
            x509.DNSName("job.batch.tenant-a.test")]),
        "no-ku-ds": make(cn, new_key(), a_int, sans=GOOD_SANS,
                         ku=["key_encipherment"]),
        "pathlen": make(cn, new_key(), plen0_sub, sans=GOOD_SANS),
    }
    not_ca_issuer = make("not-ca-issuer.tenant-a.test", new_key(), a_int, ku=[])
    clients["not-ca"] = make(cn, new_key(), not_ca_issuer, sans=GOOD_SANS)
    for stem, it in clients.items():
        put(stem, it)
    bad = alter_signature(good.cert.public_bytes(serialization.Encoding.DER))
    w["bad-signature.crt"] = pem(x509.load_der_x509_certificate(bad))
    w["bad-signature.key"] = w["good.key"]
    w["bad-signature.chain.pem"] = w["bad-signature.crt"] + pem(a_int.cert)

    revoked = clients["revoked"].cert.serial_number
    crl_next = NOW + 30 * DAY
    crls = {
        "a-root.crl": crl(a_root, [x509.random_serial_number()], NOW - DAY, crl_next),
        "a-int.crl": crl(a_int, [revoked], NOW - DAY, crl_next),
        "a-int-expired.crl": crl(a_int, [revoked], NOW - 60 * DAY, NOW - 30 * DAY),
        "b-root.crl": crl(b_root, [], NOW - DAY, crl_next),
    }
    for stem, c in crls.items():
        w[stem] = c.public_bytes(serialization.Encoding.PEM)

    sans = [x509.DNSName(n) for n in SERVER_NAMES]
    for stem, kind in [("server", "ec"), ("server-rsa", "rsa")]:
        ca = make(f"Server CA ({kind})", new_key(kind), None, ca=True)
        srv = make("tenant-a.test", new_key(kind), ca, sans=sans,
                   eku=(ExtendedKeyUsageOID.SERVER_AUTH,),
                   ku=["digital_signature", "key_encipherment"])
        put(stem + "-ca", ca, chain=False)
        put(stem, srv, chain=False)
        w[stem + ".chain.pem"] = pem(srv.cert) + pem(ca.cert)

    # The set must be made again before a valid certificate or CRL is about
    # to expire, or "not-yet-valid" is about to become valid.
    until = min(crl_next, NOW + 90 * DAY, NOW + 365 * DAY)
    out.mkdir(parents=True, exist_ok=True)
    for fname, data in w.items():
        p = out / fname
        p.write_bytes(data)
        if fname.endswith(".key"):
            p.chmod(0o600)
    (out / STAMP).write_text(f"{int(until.timestamp())}\n")


def up_to_date(out):
    try:
        until = int((out / STAMP).read_text())
    except (OSError, ValueError):
        return False
    if until < (NOW + DAY).timestamp():
        return False
    need = ["a-root.crt", "a-int.crt", "a-bundle.pem", "b-root.crt", "rogue-root.crt",
            "a-root.crl", "a-int.crl", "a-int-expired.crl", "b-root.crl",
            "server.chain.pem", "server.key", "server-rsa.chain.pem", "server-rsa.key"]
    need += [c + ".crt" for c in CLIENTS] + [c + ".key" for c in CLIENTS]
    return all((out / f).is_file() for f in need)


def main():
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} OUTDIR", file=sys.stderr)
        return 2
    out = Path(sys.argv[1])
    if not up_to_date(out):
        build(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
