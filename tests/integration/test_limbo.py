# SPDX-License-Identifier: MIT
"""x509-limbo (../shared/conformance, C2SP): every case through `portcullis
verify`, with the case's trusted and untrusted certificates, CRLs,
validation time, depth, purpose and expected peer name as an allowlist
entry. The answers must agree with limbo's except the cases listed, with
their reasons, in tests/conformance/limbo_differences.txt. No lab needed."""
import datetime
import json
import subprocess

from conftest import BINARY, ROOT

CASES = ROOT.parent / "shared" / "conformance" / "x509-limbo-subset.json"
DIFFERENCES = ROOT / "tests" / "conformance" / "limbo_differences.txt"
KINDS = {"DNS": "dns", "IP": "ip", "RFC822": "email"}


def known_differences():
    out = {}
    for line in DIFFERENCES.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            case, expected, _why = line.split(None, 2)
            out[case] = expected
    return out


def arguments(case, tmp):
    """The case as `portcullis verify` arguments (files written in tmp)."""
    def put(name, pems):
        p = tmp / name
        p.write_text("".join(pems))
        return str(p)

    args = ["--ca", put("trusted.pem", case["trusted_certs"])]
    if case["untrusted_intermediates"]:
        args += ["--untrusted", put("untrusted.pem", case["untrusted_intermediates"])]
    for i, crl in enumerate(case["crls"]):
        args += ["--crl", put(f"crl{i}.pem", [crl])]
    if case["validation_time"]:
        at = datetime.datetime.fromisoformat(case["validation_time"])
        args += ["--at", str(int(at.timestamp()))]
    depth = case["max_chain_depth"]
    args += ["--max-depth", str(8 if depth is None else min(depth, 8))]
    eku = case["extended_key_usage"]
    purpose = ("client" if "clientAuth" in eku else "server") if eku else \
        case["validation_kind"].lower()
    args += ["--eku", purpose]
    names = [case["expected_peer_name"]] if case["expected_peer_name"] else \
        case["expected_peer_names"]
    for n in names:
        args += ["--allow", f"{KINDS[n['kind']]}:{n['value']}"]
    return args + [put("peer.pem", [case["peer_certificate"]])]


def test_limbo(tmp_path):
    cases = json.loads(CASES.read_text())["testcases"]
    known = known_differences()
    differ, agree_now, errors = {}, [], []
    for i, case in enumerate(cases):
        tmp = tmp_path / str(i)
        tmp.mkdir()
        r = subprocess.run([str(BINARY), "verify", *arguments(case, tmp)], capture_output=True,
                           text=True, timeout=60)
        # 0 OK, 1 FAIL, 2 a trust set or file refused: a failure too.
        if r.returncode not in (0, 1, 2) or "Sanitizer" in r.stderr or \
                "runtime error" in r.stderr:
            errors.append(f"{case['id']}: exit {r.returncode}: {r.stderr[-400:]}")
        got = "SUCCESS" if r.returncode == 0 else "FAILURE"
        if got != case["expected_result"]:
            differ[case["id"]] = r.stdout.strip() or r.stderr.strip()
        elif case["id"] in known:
            agree_now.append(case["id"])
    assert not errors, "\n".join(errors)
    unexpected = {k: v for k, v in differ.items() if k not in known}
    assert not unexpected, "new disagreements with x509-limbo:\n" + "\n".join(
        f"{k}: {v}" for k, v in sorted(unexpected.items()))
    assert not agree_now, f"now agree, remove from {DIFFERENCES.name}: {agree_now}"
    assert len(cases) - len(differ) >= 195, f"{len(cases) - len(differ)}/{len(cases)}"
