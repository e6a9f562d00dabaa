# SPDX-License-Identifier: MIT
"""The TRex profiles in scripts/trex/ at least compile. TRex's libraries
(trex.astf.api, trex_stl_lib) are not installed here, so this checks Python
syntax only, plus the entry point TRex looks for; the profiles run on bare
metal (scripts/trex/README.md)."""
import ast
import py_compile

import pytest

from conftest import ROOT

TREX = ROOT / "scripts" / "trex"
PROFILES = sorted(TREX.glob("*.py"))


def compile_profile(path, tmp_path):
    """py_compile with errors raised, writing the byte code outside the tree."""
    py_compile.compile(str(path), cfile=str(tmp_path / (path.name + "c")), doraise=True)


def test_there_are_profiles():
    names = {p.name for p in PROFILES}
    assert {"astf_tcp_cps.py", "stl_syn_flood.py"} <= names, names


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.name)
def test_profile_compiles(path, tmp_path):
    compile_profile(path, tmp_path)
    tree = ast.parse(path.read_text(), filename=str(path))
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "register" in functions, f"{path.name}: TRex loads a profile through register()"


def test_a_syntax_error_fails(tmp_path):
    """The check above bites: a broken profile does not compile."""
    bad = tmp_path / "broken_profile.py"
    bad.write_text("def register(:\n    return None\n")
    with pytest.raises(py_compile.PyCompileError):
        compile_profile(bad, tmp_path)
