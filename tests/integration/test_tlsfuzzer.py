# SPDX-License-Identifier: MIT
"""tlsfuzzer (the TLS test suite OpenSSL, GnuTLS and NSS run), unmodified
from ../shared/third_party, against portcullis from the client
namespace: the TLS 1.3 scripts, and the certificate-verify scripts with a
client certificate. Every probe runs except those listed below with their
reason (README, "TLS conformance"): our documented policy (`tls groups`,
AEAD suites only), probes that fail against `openssl s_server
-verify_return_error` too, and known gaps of wolfSSL 5.5.4 marked as
expected failures (-x), so that fixing one makes the script report it."""
import os
import subprocess

import pytest

from conftest import ADDR, NS_CLIENT, ROOT, Portcullis, running

PY = "/usr/bin/python3"
THIRD_PARTY = ROOT.parent / "shared" / "third_party"

# Our default suites plus one ECDHE-RSA CBC suite, as an operator serving
# old TLS 1.2 clients would configure: most TLS 1.2 scripts offer CBC
# suites only.
CIPHERS = ("TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384:TLS13-CHACHA20-POLY1305-SHA256:"
           "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:"
           "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-SHA")
CONF = """ip address 198.18.0.1/24
worker idle backoff 50 500 50
tls listen 443 http
tls versions 1.2 1.3
tls ciphers {ciphers}
host default cert {p}/server-rsa.chain.pem {p}/server-rsa.key
{verify}
"""
MTLS = """host default verify required
host default ca {p}/a-bundle.pem"""
MTLS_OPTIONAL = """host default verify optional
host default ca {p}/a-bundle.pem"""

# Each list below is expected to fail (-x) for the reason above it (a
# probe that starts passing fails the script: XPASS); README "TLS
# conformance" has the same table. Probes that fail against `openssl
# s_server -verify_return_error` as well are marked (both). Nothing is
# excluded (-e): the scripts draw their probes from what is not excluded.

# Not in `tls groups` (X25519:P-256:P-384): every probe of these groups
# expects a handshake on them.
OTHER_GROUPS = [f"{g} - {probe}" for g in ("secp521r1", "x448")
                for probe in ("key share from other curve", "point at infinity",
                              "right 0-padded key_share", "right-truncated key_share")]
OTHER_GROUPS += ["secp521r1 - point outside curve", "secp521r1 - x=0, y=0"]
# Compares the CertificateRequest's signature algorithms with one
# implementation's exact list (both).
SIGALGS_LIST = "check sigalgs in cert request"
# A ClientHello is taken up to 64 KiB, its records together within the
# 64 KiB receive buffer; bigger ones get handshake_failure (the two
# largest paddings: both). test-large-hello draws 50 of its probes, with
# a fixed seed (run()): these are the big ones it draws.
OVERSIZE = ['big pad: 65536 of "0" byte padding', 'huge pad: 131584 of "0" byte padding',
            'max pad: 16777021 of "0" byte padding', "16375 extensions",
            "maximum size: max fragment - 65385B extension", "max client hello",
            "ciphers even 10983", "ext #80, 65427 bytes", "ext #80, 65473 bytes",
            "ext padding, 65416 bytes", "ext padding, 65484 bytes",
            "fragmented, padding ext 65408 bytes", "fragmented, padding ext 65414 bytes",
            "fragmented, padding ext 65428 bytes"]
# The client's later handshake messages in 1-byte records: wolfSSL 5.5.4
# needs a handshake message's 4-byte header within one record (portcullis
# re-frames the ClientHello itself, so that one may come in any records).
HEADER_SPLIT = ["small, maximum fragmentation: 1 fragment - 20B extension",
                "medium, maximum fragmentation: 1 fragment - 1024B extension"]
# A KeyUpdate split over records is refused at its first fragment with
# unexpected_message (wolfSSL reassembles nothing after the handshake);
# this probe expects bad_record_mac from the fragment under new keys.
KEYUPDATE_SPLIT = ["two KeyUpdates, first fragmented, second fragment under new keys "
                   "together with second KeyUpdate"]
# No renegotiation (a no_renegotiation warning, RFC 5746 4.4): these
# probes expect one to happen (both).
RENEGOTIATION = ["renegotiation 2nd handshake alpn", "renegotiation with protocol change",
                 "renegotiation without protocol change",
                 "insecure (legacy) renegotiation with GET after 2nd handshake",
                 "insecure (legacy) renegotiation with incomplete GET",
                 "secure renegotiation with GET after 2nd handshake",
                 "secure renegotiation with incomplete GET",
                 "sending both SCSV and renegotiation_info in renegotiated handshake",
                 "sending both SCSV and renegotiation_info in renegotiation+resumption",
                 "extended master secret with renegotiation",
                 "renegotiate with EMS in session without EMS",
                 "renegotiate without EMS in session with EMS"]
# TLS 1.2 resumption by session id needs a server-side session cache,
# which portcullis does not keep (stateless tickets only: a fleet resumes
# on any node holding the keys).
SESSION_ID_RESUMPTION = ["resumption with alpn", "resumption with alpn change",
                         "resumption without alpn change", "EMS with session resume",
                         "EMS with session resume and SHA384 PRF",
                         "EMS with session resume without extension",
                         "resume with certificate and EMS"]
# Policy: TLS 1.2 and 1.3 only, ECDHE only.
POLICY = ["extended master secret in TLSv1.1", "sanity TLSv1.1", "extended master secret w/DHE"]
# A name we do not serve goes to the `default` host (both).
DEFAULT_HOST = ["incorrect SNI"]
# TLS 1.2: our CertificateRequest lists no SHA-1 (`tls sha1-signatures
# off`, the default) and no SHA-224, and a CertificateVerify made with an
# algorithm it did not list is refused with illegal_parameter (RFC 5246
# 7.4.8); these ECDSA and RSA probes assume it was listed.
UNLISTED_HASHES = [f"make {h}+ecdsa signature in CertificateVerify" for h in ("sha224", "sha1")]
UNLISTED_HASHES += [
    f"make {h}+ecdsa signature, advertise it as {a}+ecdsa in CertificateVerify"
    for a in ("sha224", "sha1") for h in ("sha1", "sha224", "sha256", "sha384", "sha512")
    if h != a]
RSA_SHA1 = ["check sha1 w/sha256 PRF", "check sha1 w/sha384 PRF"]
# A Certificate message whose one entry is 2 bytes of garbage: wolfSSL
# answers decode_error where the probe wants bad_certificate.
CERT_ALERT = ["fuzz empty certificate - overall 8, certs 5, cert 2"]
# Expects a handshake without a client certificate where the host
# requires one (both).
NO_CLIENT_CERT = ["sanity - no client cert"]

# (script, arguments, probes excluded (-e), probes expected to fail (-x))
PLAIN = [
    ("test-tls13-conversation", [], [], []),
    ("test-tls13-keyupdate", [], [], KEYUPDATE_SPLIT),
    ("test-tls13-record-padding", [], [], []),
    ("test-tls13-zero-length-data", [], [], []),
    ("test-tls13-invalid-ciphers", [], [], []),
    ("test-tls13-hrr", [], [], []),
    ("test-tls13-ccs", [], [], []),
    ("test-tls13-finished", [], [], []),
    ("test-tls13-finished-plaintext", [], [], []),
    ("test-tls13-empty-alert", [], [], []),
    ("test-tls13-nociphers", [], [], []),
    ("test-tls13-keyshare-omitted", [], [], []),
    ("test-tls13-record-layer-limits", [], [], []),
    ("test-tls13-ecdhe-curves", [], [],
     ["sanity - secp521r1", "sanity - x448", *OTHER_GROUPS]),
    # Its sanity probe offers static-RSA suites only (ECDHE only here);
    # the 50 malformed hellos are the point.
    ("test-invalid-client-hello", [], [], ["sanity"]),
    ("test-conversation", ["-d"], [], []),
    ("test-fuzzed-plaintext", ["-d"], [], []),
    ("test-truncating-of-client-hello", ["-d"], [], OVERSIZE),
    ("test-record-layer-fragmentation", ["-d"], [], OVERSIZE + HEADER_SPLIT),
    ("test-large-hello", ["-d"], [], OVERSIZE),
    ("test-large-number-of-extensions", ["-d"], [], OVERSIZE),
    ("test-client-hello-max-size", ["-d"], [], OVERSIZE),
    ("test-alpn-negotiation", ["-d"], [], RENEGOTIATION + SESSION_ID_RESUMPTION),
    ("test-invalid-server-name-extension", ["-d"], [], DEFAULT_HOST),
    ("test-renegotiation-disabled", ["-d"], [], []),
    ("test-legacy-renegotiation", ["-d"], [], RENEGOTIATION),
    ("test-extended-master-secret-extension", ["-d"], [],
     RENEGOTIATION + SESSION_ID_RESUMPTION + POLICY),
]
RSA_CLIENT = ["-k", "{p}/rsa.key", "-c", "{p}/rsa.crt"]
ECDSA_CLIENT = ["-k", "{p}/good.key", "-c", "{p}/good.crt"]
CLIENT_CERT = [
    ("test-tls13-certificate-verify", RSA_CLIENT, [], [SIGALGS_LIST]),
    ("test-tls13-ecdsa-in-certificate-verify", ECDSA_CLIENT, [], [SIGALGS_LIST]),
    ("test-certificate-verify", ["-d", *RSA_CLIENT], [], []),
    ("test-certificate-verify-malformed", ["-d", *RSA_CLIENT], [], []),
    ("test-certificate-malformed", ["-d", *RSA_CLIENT], [], CERT_ALERT + NO_CLIENT_CERT),
    ("test-rsa-sigs-on-certificate-verify", ["-d", *RSA_CLIENT], [], RSA_SHA1),
    ("test-ecdsa-in-certificate-verify", ["-n", "0", *ECDSA_CLIENT], [], UNLISTED_HASHES),
]
# Scripts whose probes also run without a certificate: a host that asks
# for one but does not require it.
OPTIONAL_CERT = [
    ("test-certificate-request", ["-d", *RSA_CLIENT], [], [SIGALGS_LIST]),
    ("test-extended-master-secret-extension-with-client-cert", ["-d", *RSA_CLIENT], [],
     SESSION_ID_RESUMPTION),
]


def serve(tmp_path_factory, pki, verify):
    """A portcullis for one class of tests (class scope: one instance in
    the lab at a time)."""
    d = tmp_path_factory.mktemp("tlsfuzzer")
    yield from running(Portcullis(d, "af_xdp", CONF.format(p=pki, ciphers=CIPHERS,
                                                        verify=verify.format(p=pki))))


@pytest.fixture(scope="class")
def pc_plain(netlab, tmp_path_factory, pki):
    yield from serve(tmp_path_factory, pki, "")


@pytest.fixture(scope="class")
def pc_mtls(netlab, tmp_path_factory, pki):
    yield from serve(tmp_path_factory, pki, MTLS)


@pytest.fixture(scope="class")
def pc_optional(netlab, tmp_path_factory, pki):
    yield from serve(tmp_path_factory, pki, MTLS_OPTIONAL)


def run(script, args, exclude, xfail, pki):
    if not (THIRD_PARTY / "tlsfuzzer").is_dir():
        pytest.fail(f"no tlsfuzzer in {THIRD_PARTY}")
    module = script.replace("-", "_")
    # A fixed seed: the scripts draw their probes (and sizes, and fuzzed
    # bytes) at random; the same ones run every time.
    cmd = [PY, "-c", f"import random, sys; random.seed(1); "
           f"from tlsfuzzer._apps import {module} as m; sys.argv[0] = '{script}'; m.main()",
           "-h", ADDR, "-p", "443", *[a.format(p=pki) for a in args]]
    for probe in exclude:
        cmd += ["-e", probe]
    for probe in xfail:
        cmd += ["-x", probe]
    env = dict(os.environ, PYTHONPATH=f"{THIRD_PARTY / 'tlsfuzzer'}:{THIRD_PARTY / 'tlslite-ng'}")
    r = subprocess.run(["ip", "netns", "exec", NS_CLIENT, *cmd], capture_output=True, text=True,
                       env=env, timeout=900, cwd=pki)
    summary = r.stdout[r.stdout.rfind("Test end"):]
    assert r.returncode == 0, summary + r.stderr[-2000:]
    assert "\nFAIL: 0" in summary and "\nXPASS: 0" in summary, summary


class TestWithoutClientCertificate:
    @pytest.mark.parametrize("script,args,exclude,xfail", PLAIN, ids=[s[0] for s in PLAIN])
    def test_script(self, pc_plain, pki, script, args, exclude, xfail):
        run(script, args, exclude, xfail, pki)


class TestWithClientCertificate:
    @pytest.mark.parametrize("script,args,exclude,xfail", CLIENT_CERT,
                             ids=[s[0] for s in CLIENT_CERT])
    def test_script(self, pc_mtls, pki, script, args, exclude, xfail):
        run(script, args, exclude, xfail, pki)


class TestWithOptionalClientCertificate:
    @pytest.mark.parametrize("script,args,exclude,xfail", OPTIONAL_CERT,
                             ids=[s[0] for s in OPTIONAL_CERT])
    def test_script(self, pc_optional, pki, script, args, exclude, xfail):
        run(script, args, exclude, xfail, pki)
