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

from conftest import ADDR, NS_CLIENT, ROOT, Portcullis

PY = "/usr/bin/python3"
THIRD_PARTY = ROOT.parent / "shared" / "third_party"

CONF = """ip address 198.18.0.1/24
worker idle backoff 50 500 50
tls listen 443 http
tls versions 1.2 1.3
host default cert {p}/server-rsa.chain.pem {p}/server-rsa.key
{verify}
"""
MTLS = """host default verify required
host default ca {p}/a-bundle.pem"""

# Not in `tls groups` (X25519:P-256:P-384): every probe of these groups
# expects a handshake on them.
OTHER_GROUPS = [f"{g} - {probe}" for g in ("secp521r1", "x448")
                for probe in ("key share from other curve", "point at infinity",
                              "right 0-padded key_share", "right-truncated key_share")]
OTHER_GROUPS += ["secp521r1 - point outside curve", "secp521r1 - x=0, y=0"]
# Compares the CertificateRequest's signature algorithms with one
# implementation's exact list: fails against openssl s_server as well.
SIGALGS_LIST = "check sigalgs in cert request"

# wolfSSL 5.5.4 handles a KeyUpdate split over records, or two in one
# record, one way or another depending on how the records arrive
# (processed, or refused with one alert or another): known gap, left
# out because the outcome varies from run to run.
KEYUPDATE_TIMING = ["fragmented keyupdate msg", "two KeyUpdates in one record",
                    "two KeyUpdates, first fragmented, second fragment under new keys "
                    "together with second KeyUpdate", "empty KeyUpdate message",
                    "large KeyUpdate message"]
KEYUPDATE_TIMING += [f"{n}/{5 - n} fragmented keyupdate msg, appdata between"
                     for n in range(1, 5)]

# (script, arguments, probes excluded (-e), probes expected to fail (-x))
PLAIN = [
    ("test-tls13-conversation", [], [], []),
    ("test-tls13-keyupdate", [], KEYUPDATE_TIMING, []),
    ("test-tls13-record-padding", [], [], []),
    ("test-tls13-zero-length-data", [], [], []),
    ("test-tls13-invalid-ciphers", [], [], []),
    ("test-tls13-hrr", [], [], []),
    ("test-tls13-ccs", [], [], []),
    ("test-tls13-ecdhe-curves", [],
     ["sanity - secp521r1", "sanity - x448", *OTHER_GROUPS], []),
    # Its sanity probe offers CBC suites only (AEAD only here); the 50
    # malformed hellos are the point.
    ("test-invalid-client-hello", [], [], ["sanity"]),
]
CLIENT_CERT = [
    ("test-tls13-certificate-verify", ["-k", "{p}/rsa.key", "-c", "{p}/rsa.crt"],
     [SIGALGS_LIST], []),
    # wolfSSL 5.5.4 accepts these CertificateVerify schemes in TLS 1.3
    # (RFC 8446 4.2.3 wants them refused with a P-256 key): known gap.
    ("test-tls13-ecdsa-in-certificate-verify", ["-k", "{p}/good.key", "-c", "{p}/good.crt"],
     [SIGALGS_LIST],
     ["check ecdsa_secp384r1_sha384 signature is refused",
      "check ecdsa_secp521r1_sha512 signature is refused",
      "check ecdsa_sha1 signature is refused", "check ecdsa_sha224 signature is refused"]),
]


def serve(tmp_path_factory, pki, verify):
    """A portcullis for one class of tests (class scope: one instance in
    the lab at a time)."""
    d = tmp_path_factory.mktemp("tlsfuzzer")
    pc = Portcullis(d, "af_xdp", CONF.format(p=pki, verify=verify.format(p=pki)))
    try:
        yield pc
    finally:
        rc = pc.stop()
    assert rc == 0, pc.output[-3000:]
    assert "Sanitizer" not in pc.output and "runtime error" not in pc.output, pc.output[-3000:]


@pytest.fixture(scope="class")
def pc_plain(netlab, tmp_path_factory, pki):
    yield from serve(tmp_path_factory, pki, "")


@pytest.fixture(scope="class")
def pc_mtls(netlab, tmp_path_factory, pki):
    yield from serve(tmp_path_factory, pki, MTLS)


def run(script, args, exclude, xfail, pki):
    if not (THIRD_PARTY / "tlsfuzzer").is_dir():
        pytest.fail(f"no tlsfuzzer in {THIRD_PARTY}")
    module = script.replace("-", "_")
    cmd = [PY, "-c", f"import sys; from tlsfuzzer._apps import {module} as m; "
           f"sys.argv[0] = '{script}'; m.main()",
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
