# SPDX-License-Identifier: MIT
"""`portcullis verify` on every case of the test PKI (scripts/pki_cases.py),
each compared with `openssl verify -x509_strict -auth_level 2 -purpose
sslclient -crl_check_all` given the same files; where the two differ, the
case says why, and the test checks that OpenSSL does differ. No lab needed:
the verifier runs before any DPDK initialisation."""
import subprocess
import time

import pytest

from conftest import BINARY, ROOT


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    out = tmp_path_factory.mktemp("pki")
    subprocess.run(["/usr/bin/python3", str(ROOT / "scripts" / "pki_cases.py"), str(out)],
                   check=True)
    return out


def ours(pki, *args):
    return subprocess.run([str(BINARY), "verify", *args], cwd=pki, capture_output=True,
                          text=True, timeout=30)


def openssl(pki, *args):
    return subprocess.run(["openssl", "verify", *args], cwd=pki, capture_output=True,
                          text=True, timeout=30)


def to_openssl(args):
    """Our flags as openssl verify's (the certificate stays last)."""
    names = {"--ca": "-CAfile", "--untrusted": "-untrusted", "--crl": "-CRLfile",
             "--at": "-attime", "--max-depth": "-verify_depth"}
    out, crl = ["-x509_strict", "-auth_level", "2", "-purpose", "sslclient"], False
    it = iter(args[:-1])
    for a in it:
        if a == "--eku":
            v = next(it)
            out[4] = {"client": "sslclient", "server": "sslserver"}[v]
            continue
        out += [names[a], next(it)]
        crl |= a == "--crl"
    if crl:
        out.append("-crl_check_all")
    return out + [args[-1]]


A = ["--ca", "a-root.crt"]
A_CRL = ["--ca", "a-bundle.pem", "--crl", "a-root.crl", "--crl", "a-int.crl"]
ALLOW = ["--allow", "uri:spiffe://tenant-a.test/svc/*", "--allow", "dns:*.tenant-a.test"]

# (id, our arguments, expected reason or None for OK, failing certificate,
#  True when openssl verify agrees, False when it cannot be asked (an
#  allowlist, a flag it lacks), or why it disagrees)
CASES = [
    ("good", A + ["--untrusted", "a-int.crt", "good.crt"], None, None, True),
    ("good-chain-file", A + ["--untrusted", "good.chain.pem", "good.crt"], None, None, True),
    ("rsa", A + ["--untrusted", "a-int.crt", "rsa.crt"], None, None, True),
    ("bundle", ["--ca", "a-bundle.pem", "good.crt"], None, None, True),
    ("missing-intermediate", A + ["good.crt"], "unknown-ca", 0, True),
    ("expired", A + ["--untrusted", "a-int.crt", "expired.crt"], "expired", 0, True),
    ("not-yet-valid", A + ["--untrusted", "a-int.crt", "not-yet-valid.crt"],
     "not-yet-valid", 0, True),
    ("unknown-ca", A + ["unknown-ca.crt"], "unknown-ca", 0, True),
    ("tenant-b-on-a", A + ["tenant-b.crt"], "unknown-ca", 0, True),
    ("tenant-a-on-b", ["--ca", "b-root.crt", "--untrusted", "a-int.crt", "good.crt"],
     "unknown-ca", 1, True),
    ("tenant-b", ["--ca", "b-root.crt", "tenant-b.crt"], None, None, True),
    ("revoked", A_CRL + ["revoked.crt"], "revoked", 0, True),
    ("revoked-no-crl", A + ["--untrusted", "a-int.crt", "revoked.crt"], None, None, True),
    ("good-with-crls", A_CRL + ["good.crt"], None, None, True),
    ("crl-expired", ["--ca", "a-bundle.pem", "--crl", "a-root.crl", "--crl",
                     "a-int-expired.crl", "good.crt"], "crl-expired", 0, True),
    ("crl-missing", ["--ca", "a-bundle.pem", "--crl", "a-int.crl", "good.crt"],
     "crl-missing", 1, True),
    ("eku-server", A + ["--untrusted", "a-int.crt", "eku-server.crt"], "eku", 0, True),
    ("eku-server-as-server", A + ["--untrusted", "a-int.crt", "--eku", "server",
                                  "eku-server.crt"], None, None, True),
    ("eku-any", A + ["--untrusted", "a-int.crt", "--eku", "any", "eku-server.crt"],
     None, None, False),
    ("bad-signature", A + ["--untrusted", "a-int.crt", "bad-signature.crt"],
     "bad-signature", 0, True),
    ("deep", A + ["--untrusted", "deep.chain.pem", "deep.crt"], None, None, True),
    ("deep-max-2", A + ["--untrusted", "deep.chain.pem", "--max-depth", "2", "deep.crt"],
     "chain-too-long", 3, True),
    ("deep-max-3", A + ["--untrusted", "deep.chain.pem", "--max-depth", "3", "deep.crt"],
     None, None, True),
    ("good-max-0", A + ["--untrusted", "a-int.crt", "--max-depth", "0", "good.crt"],
     "chain-too-long", 1, True),
    ("good-max-1", A + ["--untrusted", "a-int.crt", "--max-depth", "1", "good.crt"],
     None, None, True),
    ("self-signed", A + ["self-signed.crt"], "self-signed", 0, True),
    ("identity-denied", A + ["--untrusted", "a-int.crt"] + ALLOW + ["identity-denied.crt"],
     "identity-denied", 0, False),
    ("identity-denied-no-allowlist", A + ["--untrusted", "a-int.crt", "identity-denied.crt"],
     None, None, True),
    ("identity-allowed", A + ["--untrusted", "a-int.crt"] + ALLOW + ["good.crt"],
     None, None, False),
    ("no-ku-ds", A + ["--untrusted", "a-int.crt", "no-ku-ds.crt"], "key-usage", 0, True),
    ("pathlen", A + ["--untrusted", "pathlen.chain.pem", "pathlen.crt"], "path-len", 2, True),
    ("not-ca", A + ["--untrusted", "not-ca.chain.pem", "not-ca.crt"], "not-ca", 1, True),
    ("nc-cross", A + ["--untrusted", "nc-cross.chain.pem", "nc-cross.crt"],
     "name-constraints", 0, True),
    ("nc-cn", A + ["--untrusted", "nc-cn.chain.pem", "nc-cn.crt"], "name-constraints", 0, True),
    ("nc-cn-san", A + ["--untrusted", "nc-cn-san.chain.pem", "nc-cn-san.crt"],
     "name-constraints", 0,
     "OpenSSL holds a CN to DNS constraints only without DNS SANs; a cn: entry could match it"),
    ("nc-ok", A + ["--untrusted", "nc-ok.chain.pem", "nc-ok.crt"], None, None, True),
    ("eku-nested", A + ["--untrusted", "eku-nested.chain.pem", "eku-nested.crt"], "eku", 1,
     True),
    ("weak-rsa", A + ["--untrusted", "a-int.crt", "weak-rsa.crt"], "weak-key", 0, True),
    ("weak-rsa-allowed", A + ["--untrusted", "a-int.crt", "--min-rsa-bits", "1024",
                              "weak-rsa.crt"], None, None, False),
    ("p224", A + ["--untrusted", "a-int.crt", "p224.crt"], "weak-key", 0,
     "OpenSSL's level 2 takes P-224 (112-bit security); we take P-256, P-384, P-521"),
    ("critical-ext", A + ["--untrusted", "a-int.crt", "critical-ext.crt"],
     "critical-extension", 0, True),
    ("pss", A + ["--untrusted", "pss.chain.pem", "pss.crt"], None, None, True),
    ("ip-allowed", A + ["--untrusted", "a-int.crt", "--allow", "ip:198.18.0.5", "ip.crt"],
     None, None, False),
    ("ip-denied", A + ["--untrusted", "a-int.crt", "--allow", "ip:198.18.0.6", "ip.crt"],
     "identity-denied", 0, False),
    ("any-eku", A + ["--untrusted", "a-int.crt", "any-eku.crt"], "eku", 0,
     "OpenSSL takes a leaf with anyExtendedKeyUsage beside clientAuth"),
    ("loop", A + ["--untrusted", "loop.chain.pem", "loop.crt"], "too-complex", 6, True),
    ("unusable-root-in-bundle", ["--ca", "a-odd-bundle.pem", "--untrusted", "a-int.crt",
                                 "good.crt"], None, None, True),
    ("unusable-root", ["--ca", "odd-root.crt", "--untrusted", "a-int.crt", "good.crt"],
     "unknown-ca", 1, True),
    ("partial-chain", ["--ca", "a-int.crt", "good.crt"], None, None,
     "OpenSSL trusts an intermediate alone only with -partial_chain"),
    ("crl-critical", ["--ca", "a-bundle.pem", "--crl", "a-root.crl", "--crl",
                      "a-int-critical.crl", "good.crt"], "crl-missing", 0, True),
    ("crl-delta", ["--ca", "a-bundle.pem", "--crl", "a-root.crl", "--crl", "a-int-delta.crl",
                   "good.crt"], "crl-missing", 0,
     "OpenSSL without -use_deltas takes a delta CRL for a complete one"),
    ("crl-ca-only", ["--ca", "a-bundle.pem", "--crl", "a-root.crl", "--crl",
                     "a-int-ca-only.crl", "good.crt"], "crl-missing", 0, True),
    ("crl-user-only", ["--ca", "a-bundle.pem", "--crl", "a-root.crl", "--crl",
                       "a-int-user-only.crl", "revoked.crt"], "revoked", 0, True),
    ("crl-no-number", ["--ca", "a-bundle.pem", "--crl", "a-root.crl", "--crl",
                       "a-int-no-number.crl", "good.crt"], "crl-missing", 0,
     "OpenSSL uses a CRL without cRLNumber (RFC 5280 5.2.3 requires one)"),
    ("crl-from-chain", A + ["--untrusted", "a-int.crt", "--crl", "a-root.crl", "--crl",
                            "a-int.crl", "revoked.crt"], "revoked", 0, True),
    ("crl-from-chain-good", A + ["--untrusted", "a-int.crt", "--crl", "a-root.crl", "--crl",
                                 "a-int.crl", "good.crt"], None, None, True),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_case(pki, case):
    _, args, reason, depth, openssl_agrees = case
    r = ours(pki, *args)
    if reason is None:
        assert (r.returncode, r.stdout) == (0, "OK\n"), r.stderr
    else:
        assert r.returncode == 1, r.stdout + r.stderr
        assert r.stdout.startswith(f"FAIL: {reason} (certificate {depth}: "), r.stdout
    if openssl_agrees is not False:
        o = openssl(pki, *to_openssl(args))
        agree = (o.returncode == 0) == (reason is None)
        assert agree == (openssl_agrees is True), (openssl_agrees, o.stdout + o.stderr)


def test_unusable_warned(pki):
    """What the trust keeps but cannot use is named on stderr, once."""
    r = ours(pki, "--ca", "a-odd-bundle.pem", "--untrusted", "a-int.crt", "--crl",
             "a-root.crl", "--crl", "a-int-critical.crl", "--crl", "a-int.crl", "good.crt")
    assert r.returncode == 0, r.stdout + r.stderr
    assert ("warning: CA certificate 1 (/O=portcullis test/CN=Odd Root CA) is unusable: "
            "an unknown critical extension") in r.stderr
    assert "warning: CRL 2 is not used: an unknown critical CRL extension" in r.stderr
    assert r.stderr.count("warning:") == 2, r.stderr


def test_at(pki):
    """--at moves the clock for certificates and CRLs alike."""
    now = int(time.time())
    good = ["--untrusted", "a-int.crt", "good.crt"]
    for at, reason in [(now - 2 * 86400, "not-yet-valid"), (now + 200 * 86400, "expired"),
                       (now, None)]:
        args = A + ["--at", str(at)] + good
        r = ours(pki, *args)
        o = openssl(pki, *to_openssl(args))
        if reason:
            assert r.returncode == 1 and r.stdout.startswith(f"FAIL: {reason} "), r.stdout
        else:
            assert r.returncode == 0, r.stdout
        assert (o.returncode == 0) == (reason is None), o.stdout + o.stderr
    # The expired certificate was valid 45 days ago; the CRLs were not yet.
    args = A + ["--at", str(now - 45 * 86400), "--untrusted", "a-int.crt", "expired.crt"]
    assert ours(pki, *args).returncode == 0
    args = A_CRL + ["--at", str(now - 45 * 86400), "expired.crt"]
    r = ours(pki, *args)
    assert r.stdout.startswith("FAIL: crl-expired "), r.stdout
    assert openssl(pki, *to_openssl(args)).returncode != 0
    # 45 days ago the expired CRL was current (the leaf passes it) and
    # a-root.crl, which covers the intermediate, was not yet.
    args = ["--ca", "a-bundle.pem", "--crl", "a-int-expired.crl", "--crl", "a-root.crl",
            "--at", str(now - 45 * 86400), "expired.crt"]
    assert ours(pki, *args).stdout.startswith("FAIL: crl-expired (certificate 1")
    assert openssl(pki, *to_openssl(args)).returncode != 0


@pytest.mark.parametrize("args,message", [
    ([], "--ca FILE is required"),
    (["good.crt"], "--ca FILE is required"),
    (["--ca", "a-root.crt"], "expected one CERT.pem"),
    (["--ca", "a-root.crt", "good.crt", "rsa.crt"], "expected one CERT.pem"),
    (["--ca", "a-root.crt", "--frobnicate", "good.crt"], "bad option"),
    (["--ca"], "bad option or missing argument"),
    (["--ca", "a-root.crt", "--at", "soon", "good.crt"], "--at soon"),
    (["--ca", "a-root.crt", "--max-depth", "9", "good.crt"], "--max-depth 9"),
    (["--ca", "a-root.crt", "--eku", "both", "good.crt"], "--eku both"),
    (["--ca", "a-root.crt", "--allow", "web", "good.crt"], "expected dns:"),
    (["--ca", "nowhere.pem", "good.crt"], "nowhere.pem: No such file"),
    (["--ca", "a-root.crt", "nowhere.crt"], "nowhere.crt: No such file"),
    (["--ca", "a-root.crt", "--untrusted", "nowhere.crt", "good.crt"], "nowhere.crt"),
    (["--ca", "a-root.crt", "--crl", "nowhere.crl", "good.crt"], "nowhere.crl"),
    (["--ca", "good.crt", "good.crt"], "good.crt: certificate 1"),
    (["--ca", "a-root.crt", "a-root.key"], "a-root.key: no PEM certificate"),
    (["--ca", "a-root.crt", "--min-rsa-bits", "512", "good.crt"], "--min-rsa-bits 512"),
    (["--ca", "a-root.crt", "--allow", "ip:198.18.0", "good.crt"], "not an IPv4 or IPv6"),
    (["--ca", "a-root.crt", "broken.pem"], "broken.pem: broken PEM"),
    (["--ca", "broken.pem", "good.crt"], "broken.pem: broken PEM"),
])
def test_usage_and_file_errors(pki, args, message):
    (pki / "broken.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB$$$\n"
                                    "-----END CERTIFICATE-----\n")
    r = ours(pki, *args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stdout == ""
    assert message in r.stderr


def test_help(pki):
    r = ours(pki, "--help")
    assert r.returncode == 0 and "usage: portcullis verify" in r.stdout


def test_malformed_certificate(pki):
    """Good PEM around a DER that is not a certificate: a verdict, not a
    file error."""
    (pki / "junk.pem").write_text("-----BEGIN CERTIFICATE-----\nMAMCAQE=\n"
                                  "-----END CERTIFICATE-----\n")
    r = ours(pki, *A, "junk.pem")
    assert r.returncode == 1 and r.stdout.startswith("FAIL: malformed (certificate 0: ")
    assert openssl(pki, "-CAfile", "a-root.crt", "junk.pem").returncode != 0
