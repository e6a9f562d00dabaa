# SPDX-License-Identifier: MIT
"""The build refuses a wolfSSL without the optimized crypto unless told."""
import shutil
import subprocess

from conftest import ROOT


def make_prefix(tmp_path, drop_define):
    """A copy of the installed wolfSSL prefix with one define removed."""
    src = ROOT / "build" / "wolfssl" / "prefix"
    dst = tmp_path / "wolfssl"
    shutil.copytree(src, dst)
    opts = dst / "include" / "wolfssl" / "options.h"
    text = opts.read_text()
    assert f"#define {drop_define}\n" in text
    opts.write_text(text.replace(f"#define {drop_define}\n", ""))
    return dst


def meson_setup(tmp_path, prefix, *extra):
    return subprocess.run(["meson", "setup", str(tmp_path / "b"), str(ROOT),
                           f"-Dwolfssl_prefix={prefix}", *extra],
                          capture_output=True, text=True, timeout=120)


def test_refuses_unoptimized_wolfssl(tmp_path):
    prefix = make_prefix(tmp_path, "WOLFSSL_AESNI")
    r = meson_setup(tmp_path, prefix)
    assert r.returncode != 0
    assert "lacks WOLFSSL_AESNI" in r.stdout
    assert "is not the optimized build" in r.stdout


def test_unoptimized_wolfssl_on_request(tmp_path):
    prefix = make_prefix(tmp_path, "WOLFSSL_SP_X86_64_ASM")
    r = meson_setup(tmp_path, prefix, "-Dallow_unoptimized_wolfssl=true")
    assert r.returncode == 0, r.stdout + r.stderr


def test_missing_wolfssl_is_explained(tmp_path):
    r = meson_setup(tmp_path, tmp_path / "nowhere")
    assert r.returncode != 0
    assert "run scripts/setup.sh" in r.stdout
