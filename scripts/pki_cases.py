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
  nc-b            under a-root, nameConstraints permitted DNS:tenant-b.test and
                  URI:tenant-b.test (a sub-CA meant for tenant B)
  int-server      under a-root, extendedKeyUsage serverAuth only
  rsa-ca          RSA-2048 CA under a-root (signs "pss" with RSA-PSS)
  odd-root        a root with an unknown critical extension (unusable)
  loop-0..7       eight "Loop CA" certificates of one key, self-signed: each
                  can be the issuer of any other, a maze of look-alike issuers
CRLs (PEM):
  a-root.crl          from a-root, revokes nothing we use (covers a-int)
  a-int.crl           from a-int, revokes "revoked"
  a-int-expired.crl   from a-int, nextUpdate 30 days ago
  a-int-2.crl         from a-int, revokes "revoked", cRLNumber 2 (the others: 1)
  b-root.crl          from b-root (a CRL from a CA outside tenant A's set)
  a-int-critical.crl  from a-int, revokes "revoked", an unknown critical extension
  a-int-delta.crl     from a-int, a delta CRL (deltaCRLIndicator)
  a-int-ca-only.crl   from a-int, issuingDistributionPoint onlyContainsCACerts
  a-int-user-only.crl from a-int, revokes "revoked", onlyContainsUserCerts
  a-int-no-number.crl from a-int, revokes "revoked", no cRLNumber
Client certificates (SAN URI spiffe://tenant-a.test/svc/web, DNS
web.tenant-a.test, CN web.tenant-a.test, clientAuth, issued by a-int,
unless stated):
  good              verifies
  rsa               the same with an RSA-2048 key
  ed25519           the same with an Ed25519 key
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
  nc-cross          issued by nc-b, with tenant A's names (outside nc-b's)
  nc-cn             issued by nc-b, no SAN, CN web.tenant-a.test
  nc-cn-san         issued by nc-b, tenant B's SANs, CN admin.tenant-a.test
  nc-ok             issued by nc-b, spiffe://tenant-b.test/svc/web and
                    web.tenant-b.test
  eku-nested        clientAuth, issued by int-server
  weak-rsa          an RSA-1024 key
  p224              an EC P-224 key
  critical-ext      an unknown critical extension
  pss               RSA key, issued by rsa-ca with an RSA-PSS signature
                    (SHA-256, salt 32)
  ip                SAN URI and IP 198.18.0.5, issued by a-int
  any-eku           extendedKeyUsage anyExtendedKeyUsage and clientAuth
  loop              issued by "Loop CA" (loop-0): loop.chain.pem is loop,
                    loop-0..7
Server certificates (serverAuth, DNS tenant-a.test, *.tenant-a.test,
tenant-b.test):
  server-ca, server         ECDSA CA and server certificate
  server-rsa-ca, server-rsa RSA-2048 CA and server certificate
  server.chain.pem, server-rsa.chain.pem   server certificate then its CA

Idempotent: nothing is written while every file exists, the set is of
this script's FORMAT and nothing that should be valid expires (and
"not-yet-valid" does not become valid) within a day; otherwise the whole
set is made again.
"""
import datetime
import ipaddress
import subprocess
import sys
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DAY = datetime.timedelta(days=1)
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
STAMP = "valid-until"  # POSIX time before which the set need not change, and FORMAT
FORMAT = 4  # bumped when the set changes: an older set is made again

GOOD_SANS = [x509.UniformResourceIdentifier("spiffe://tenant-a.test/svc/web"),
             x509.DNSName("web.tenant-a.test")]
SERVER_NAMES = ["tenant-a.test", "*.tenant-a.test", "tenant-b.test"]
CLIENTS = ["good", "rsa", "ed25519", "expired", "not-yet-valid", "unknown-ca", "tenant-b",
           "revoked", "eku-server", "bad-signature", "deep", "self-signed",
           "identity-denied", "no-ku-ds", "pathlen", "not-ca", "nc-cross", "nc-cn", "nc-cn-san",
           "nc-ok", "eku-nested", "weak-rsa", "p224", "critical-ext", "pss", "ip", "any-eku", "loop"]
# An OID of ours (under the private enterprise arc example, 1.3.6.1.4.1.32473)
# that no verifier knows.
ODD_OID = x509.ObjectIdentifier("1.3.6.1.4.1.32473.1.1")


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "portcullis test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def new_key(kind="ec"):
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "rsa1024":
        return rsa.generate_private_key(public_exponent=65537, key_size=1024)
    if kind == "p224":
        return ec.generate_private_key(ec.SECP224R1())
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


class Issued:
    def __init__(self, key, cert, parents=()):
        self.key, self.cert, self.parents = key, cert, list(parents)


def make(cn, key, issuer, *, ca=False, pathlen=None, eku=(ExtendedKeyUsageOID.CLIENT_AUTH,),
         sans=None, ku=None, not_before=None, not_after=None, extra=(), issuer_name=None,
         signer=None):
    """A certificate for key, signed by issuer (an Issued, or None for
    self-signed). extra: (extension, critical) pairs; issuer_name and
    signer (a key) stand in for issuer's name and key when given; a CA
    gets an extendedKeyUsage only when eku is passed for it."""
    # CAs from a year back, so that --at can go back to when "expired" was valid.
    nb = not_before or (NOW - 365 * DAY if ca else NOW - DAY)
    na = not_after or (NOW + 3650 * DAY if ca else NOW + 90 * DAY)
    subject = name(cn)
    iname = issuer_name or (issuer.cert.subject if issuer else subject)
    b = (x509.CertificateBuilder().subject_name(subject)
         .issuer_name(iname)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(nb).not_valid_after(na)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=pathlen), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                        critical=False))
    if issuer or signer:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            (signer or issuer.key).public_key()), critical=False)
    if ku is None:
        ku = ["key_cert_sign", "crl_sign"] if ca else ["digital_signature"]
    flags = {f: f in ku for f in ["digital_signature", "content_commitment",
                                  "key_encipherment", "data_encipherment", "key_agreement",
                                  "key_cert_sign", "crl_sign"]}
    if ku:  # [] leaves keyUsage out
        b = b.add_extension(x509.KeyUsage(**flags, encipher_only=False, decipher_only=False),
                            critical=True)
    if eku and (not ca or eku != (ExtendedKeyUsageOID.CLIENT_AUTH,)):
        b = b.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    for ext, critical in extra:
        b = b.add_extension(ext, critical=critical)
    signer = signer or (issuer.key if issuer else key)
    cert = b.sign(signer, hashes.SHA256())
    return Issued(key, cert, ([issuer] + issuer.parents) if issuer else [])


def crl(issuer, revoked_serials, this_update, next_update, number=1, extra=()):
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer.cert.subject)
         .last_update(this_update).next_update(next_update))
    if number is not None:
        b = b.add_extension(x509.CRLNumber(number), critical=False)
    for ext, critical in extra:
        b = b.add_extension(ext, critical=critical)
    for s in revoked_serials:
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(s)
                                      .revocation_date(this_update).build())
    return b.sign(issuer.key, hashes.SHA256())


def idp(users=False, cas=False):
    return x509.IssuingDistributionPoint(
        full_name=None, relative_name=None, only_contains_user_certs=users,
        only_contains_ca_certs=cas, only_some_reasons=None, indirect_crl=False,
        only_contains_attribute_certs=False)


def pss_signed(cn, key, ca):
    """A client certificate for key issued by ca with RSASSA-PSS (SHA-256,
    MGF1 SHA-256, salt 32): the openssl command line signs it from a
    request (cryptography 38 signs PKCS#1 v1.5 only) and adds the key
    identifiers."""
    csr = (x509.CertificateSigningRequestBuilder().subject_name(name(cn))
           .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
           .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False,
                                        False), critical=True)
           .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                          critical=False)
           .add_extension(x509.SubjectAlternativeName(GOOD_SANS), critical=False)
           .sign(key, hashes.SHA256()))
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        (d / "ca.key").write_bytes(ca.key.private_bytes(serialization.Encoding.PEM,
                                                        serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
        (d / "ca.crt").write_bytes(pem(ca.cert))
        (d / "in.csr").write_bytes(csr.public_bytes(serialization.Encoding.PEM))
        subprocess.run(["openssl", "x509", "-req", "-in", d / "in.csr", "-CA", d / "ca.crt",
                        "-CAkey", d / "ca.key", "-days", "90", "-set_serial",
                        str(x509.random_serial_number()), "-copy_extensions", "copyall",
                        "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32",
                        "-out", d / "out.pem"], check=True, capture_output=True)
        cert = x509.load_pem_x509_certificate((d / "out.pem").read_bytes())
    return Issued(key, cert, [ca] + ca.parents)


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
    nc_b = make("Tenant B Sub-CA", new_key(), a_root, ca=True, extra=[(x509.NameConstraints(
        permitted_subtrees=[x509.DNSName("tenant-b.test"),
                            x509.UniformResourceIdentifier("tenant-b.test")],
        excluded_subtrees=None), True)])
    int_server = make("Tenant A Server Issuing CA", new_key(), a_root, ca=True,
                      eku=(ExtendedKeyUsageOID.SERVER_AUTH,))
    rsa_ca = make("Tenant A RSA CA", new_key("rsa"), a_root, ca=True)
    odd_root = make("Odd Root CA", new_key(), None, ca=True,
                    extra=[(x509.UnrecognizedExtension(ODD_OID, b"\x05\x00"), True)])
    # The maze: eight CAs of one name and one key, each signed by that key
    # (so each can be the issuer of any other): 8! paths, none trusted.
    loop_key = new_key()
    loops = [make("Loop CA", loop_key, None, ca=True) for _ in range(8)]
    for stem, it in [("a-root", a_root), ("a-int", a_int), ("b-root", b_root),
                     ("rogue-root", rogue), ("deep-1", deep1), ("deep-2", deep2),
                     ("deep-3", deep3), ("plen0", plen0), ("plen0-sub", plen0_sub),
                     ("nc-b", nc_b), ("int-server", int_server), ("rsa-ca", rsa_ca),
                     ("odd-root", odd_root)]:
        put(stem, it, chain=False)
    w["a-odd-bundle.pem"] = pem(odd_root.cert) + pem(a_root.cert)
    w["a-bundle.pem"] = pem(a_root.cert) + pem(a_int.cert)

    cn = "web.tenant-a.test"
    good = make(cn, new_key(), a_int, sans=GOOD_SANS)
    clients = {
        "good": good,
        "rsa": make(cn, new_key("rsa"), a_int, sans=GOOD_SANS),
        "ed25519": make(cn, new_key("ed25519"), a_int, sans=GOOD_SANS),
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
    clients["nc-cross"] = make(cn, new_key(), nc_b, sans=GOOD_SANS)
    clients["nc-cn"] = make(cn, new_key(), nc_b)
    clients["nc-cn-san"] = make("admin.tenant-a.test", new_key(), nc_b, sans=[
        x509.UniformResourceIdentifier("spiffe://tenant-b.test/svc/web"),
        x509.DNSName("web.tenant-b.test")])
    clients["nc-ok"] = make("web.tenant-b.test", new_key(), nc_b, sans=[
        x509.UniformResourceIdentifier("spiffe://tenant-b.test/svc/web"),
        x509.DNSName("web.tenant-b.test")])
    clients["eku-nested"] = make(cn, new_key(), int_server, sans=GOOD_SANS)
    clients["weak-rsa"] = make(cn, new_key("rsa1024"), a_int, sans=GOOD_SANS)
    clients["p224"] = make(cn, new_key("p224"), a_int, sans=GOOD_SANS)
    clients["critical-ext"] = make(cn, new_key(), a_int, sans=GOOD_SANS, extra=[
        (x509.UnrecognizedExtension(ODD_OID, b"\x05\x00"), True)])
    clients["pss"] = pss_signed(cn, new_key("rsa"), rsa_ca)
    clients["ip"] = make("198.18.0.5", new_key(), a_int, sans=[
        x509.UniformResourceIdentifier("spiffe://tenant-a.test/svc/ip"),
        x509.IPAddress(ipaddress.ip_address("198.18.0.5"))])
    clients["any-eku"] = make(cn, new_key(), a_int, sans=GOOD_SANS, eku=(
        ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE))
    clients["loop"] = make(cn, new_key(), loops[0], sans=GOOD_SANS)
    for stem, it in clients.items():
        put(stem, it)
    w["loop.chain.pem"] = pem(clients["loop"].cert) + b"".join(pem(c.cert) for c in loops)
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
        "a-int-2.crl": crl(a_int, [revoked], NOW - DAY, crl_next, number=2),
        "b-root.crl": crl(b_root, [], NOW - DAY, crl_next),
        "a-int-critical.crl": crl(a_int, [revoked], NOW - DAY, crl_next, extra=[
            (x509.UnrecognizedExtension(ODD_OID, b"\x05\x00"), True)]),
        "a-int-delta.crl": crl(a_int, [revoked], NOW - DAY, crl_next, number=2,
                               extra=[(x509.DeltaCRLIndicator(1), True)]),
        "a-int-ca-only.crl": crl(a_int, [], NOW - DAY, crl_next,
                                 extra=[(idp(cas=True), True)]),
        "a-int-user-only.crl": crl(a_int, [revoked], NOW - DAY, crl_next,
                                   extra=[(idp(users=True), True)]),
        "a-int-no-number.crl": crl(a_int, [revoked], NOW - DAY, crl_next, number=None),
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
    (out / STAMP).write_text(f"{int(until.timestamp())} {FORMAT}\n")


def up_to_date(out):
    try:
        until, fmt = (int(f) for f in (out / STAMP).read_text().split())
    except (OSError, ValueError):
        return False
    if fmt != FORMAT or until < (NOW + DAY).timestamp():
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
