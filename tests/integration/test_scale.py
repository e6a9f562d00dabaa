# SPDX-License-Identifier: MIT
"""10,000 tenant hostnames, each with its own root CA, from a config file
(scripts/pki_scale.py makes the PKI at test time): handshakes on the
first, a middle and the last host, tenant isolation between two others,
and a one-host change committed while they are all loaded. The 100,000
host figures (start-up time, memory per host, commit latency) are
scripts/bench.sh's hosts-scale and trust-update."""
import json
import random
import subprocess
import time

import pytest

from conftest import NS_CLIENT, ROOT, Portcullis, in_ns, running
from test_cli import ok

N = 10000
PY = "/usr/bin/python3"
CLIENT = str(ROOT / "tests" / "integration" / "tls_client.py")
PICKS = sorted({1, N // 2, N, *random.Random(7).sample(range(2, N), 2)})


@pytest.fixture(scope="module")
def scale(netlab, tmp_path_factory):
    d = tmp_path_factory.mktemp("scale")
    pki = d / "pki"
    subprocess.run([PY, str(ROOT / "scripts" / "pki_scale.py"), str(pki), str(N),
                    *map(str, PICKS)], check=True, timeout=300)
    conf = ("ip address 198.18.0.1/24\nworker idle backoff 50 500 50\ntls listen 443 http\n"
            f"control socket {d}/pc.sock\n" + (pki / "hosts.conf").read_text())
    p = Portcullis(d, "af_xdp", conf)
    p.sock = str(d / "pc.sock")
    p.pki = pki
    p.conf = d / "pc.conf"
    yield from running(p)


def handshake(p, host, client):
    r = in_ns(NS_CLIENT, [PY, CLIENT, "--sni", f"t{host}.scale.test", "--cafile",
                          str(p.pki / "server-ca.crt"), "--cert", str(p.pki / f"client-{client}.crt"),
                          "--key", str(p.pki / f"client-{client}.key")], timeout=30)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_every_tenant_loaded_and_served(scale):
    info = json.loads(ok(scale, "show", "info", "json"))
    assert info["hosts"] == N + 1 and info["ca_sets"] == N, info
    print(f"{N} hosts: heap {info['heap_bytes'] / N:.0f} bytes per host, CA included")
    for i in (1, N // 2, N):
        r = handshake(scale, i, i)
        assert r["error"] is None, r
        assert r["responses"][0]["body"] == f"identity: spiffe://t{i}.scale.test/client\n", r


def test_tenant_isolation(scale):
    a, b = PICKS[1], PICKS[2]
    assert a not in (1, N // 2, N) or b not in (1, N // 2, N)
    for host, client in ((a, b), (b, a)):
        r = handshake(scale, host, client)
        assert r["alert"] == "TLSV1_ALERT_UNKNOWN_CA", r


def test_one_host_change_with_all_loaded(scale):
    ok(scale, "host", f"t{N}.scale.test", "allow", "uri:spiffe://elsewhere/*")
    r = handshake(scale, N, N)
    assert r["alert"] == "TLSV1_ALERT_ACCESS_DENIED", r
    ok(scale, "host", f"t{N}.scale.test", "allow", "none")
    assert handshake(scale, N, N)["error"] is None


def test_reload_with_all_loaded(scale):
    """reload of the same file publishes nothing (every CA file read and
    compared, none parsed); a line changed in it changes that host alone."""
    gen = json.loads(ok(scale, "show", "info", "json"))["generation"]
    t0 = time.monotonic()
    out = ok(scale, "reload")
    took = time.monotonic() - t0
    assert "0 added, 0 changed, 0 removed" in out, out
    assert json.loads(ok(scale, "show", "info", "json"))["generation"] == gen
    conf = scale.conf.read_text()
    try:
        scale.conf.write_text(conf + "host t1.scale.test allow uri:spiffe://elsewhere/*\n")
        out = ok(scale, "reload")
        assert "0 added, 1 changed (host t1.scale.test), 0 removed" in out, out
        assert handshake(scale, 1, 1)["alert"] == "TLSV1_ALERT_ACCESS_DENIED"
    finally:
        scale.conf.write_text(conf)
        ok(scale, "reload")
    assert handshake(scale, 1, 1)["error"] is None
    print(f"reload of {N} unchanged tenants: {took:.2f} s")
