# SPDX-License-Identifier: MIT
"""Packaging: the man pages (built from doc/manpages.md and the binary's
command tables: clean for groff and man, every command of `portcullis
--help` in them, drift reported), the systemd unit (systemd-analyze
verify), `meson install`, and the unit run by a real systemd in the lab:
a bad config failing the start without restarts, the start returning once
ready, mutual TLS served through its sandbox with the access log in its
LogsDirectory, its control socket answering, `systemctl reload` reaching
the same process, a killed process restarted, a clean stop.

This machine's PID 1 is not systemd, so the last test runs systemd as
PID 1 of its own PID, mount and cgroup namespaces (as a container would):
its own /run (the lab's /run/netns bound in), a cgroup2 tree of its own,
and a unit path holding only the unit under test and stub targets, so
nothing of the host's is started."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import (ADDR, BINARY, BUILD, NS_CLIENT, NS_DP, ROOT, eal_args, in_ns, lab)

PCCTL = BUILD / "pcctl"
MKMAN = ROOT / "doc" / "mkman.py"
SOURCE = ROOT / "doc" / "manpages.md"
UNIT_IN = ROOT / "dist" / "portcullis.service.in"


def roff_text(path):
    """The text of a roff page, font escapes dropped, for searching."""
    text = Path(path).read_text()
    text = re.sub(r"\\f[BIR]", "", text)
    return text.replace("\\-", "-").replace("\\e", "\\").replace("\\&", "")


def help_usages():
    out = subprocess.run([str(BINARY), "--help"], check=True, capture_output=True,
                         text=True).stdout
    config, cli, cur = [], [], None
    for line in out.splitlines():
        if line.startswith("Config commands"):
            cur = config
        elif line.startswith("Control socket commands"):
            cur = cli
        elif line.startswith("  ") and cur is not None:
            cur.append(line.strip())
    assert config and cli
    return config, cli


def mkman(tmp_path, binary=BINARY):
    out = tmp_path / "man"
    out.mkdir(exist_ok=True)
    return out, subprocess.run(["/usr/bin/python3", str(MKMAN), "--portcullis", str(binary),
                                "--version", "test", "--outdir", str(out), str(SOURCE)],
                               capture_output=True, text=True, timeout=60)


def test_man_pages_built_and_clean(tmp_path):
    """The build made both pages; made again from the source they are
    the same, every command has its description, and groff and man find
    nothing to warn about."""
    out, r = mkman(tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr == "", "the man source lags the command tables:\n" + r.stderr
    for page in ("portcullis.8", "pcctl.8"):
        built = BUILD / "doc" / page
        assert built.is_file(), f"the build did not make {built}"
        # Same text but the version in the footer.
        strip = lambda t: re.sub(r'"portcullis [^"]*"', "", t)  # noqa: E731
        assert strip(built.read_text()) == strip((out / page).read_text())
        g = subprocess.run(["groff", "-man", "-ww", "-z", str(out / page)],
                           capture_output=True, text=True, timeout=60)
        assert g.returncode == 0 and g.stderr == "", g.stderr
        m = subprocess.run(["man", "--warnings", "-l", str(out / page)], capture_output=True,
                           text=True, timeout=60, env=dict(os.environ, MANWIDTH="80",
                                                           LC_ALL="C.UTF-8", MANPAGER="cat"))
        assert m.returncode == 0 and m.stderr == "", m.stderr
        text = roff_text(out / page)
        for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS",
                        "EXIT STATUS", "FILES", "EXAMPLES", "SEE ALSO"):
            assert f".SH {section}\n" in text, f"{page}: no {section}"
    assert ".SH SIGNALS\n" in roff_text(out / "portcullis.8")
    for section in ("INTERACTIVE MODE", "PROTOCOL"):
        assert f".SH {section}\n" in roff_text(out / "pcctl.8")


def test_every_command_in_the_pages():
    """Every usage line the binary prints is in portcullis(8) (the
    control socket's own commands in pcctl(8) too), and every option of
    pcctl --help in pcctl(8)."""
    config, cli = help_usages()
    page = roff_text(BUILD / "doc" / "portcullis.8")
    pcctl_page = roff_text(BUILD / "doc" / "pcctl.8")
    for u in config + cli:
        assert u in page, f"portcullis(8) lacks '{u}'"
    for u in cli:
        if u not in config:
            assert u in pcctl_page, f"pcctl(8) lacks '{u}'"
    # Run-time config commands are named in the control socket's list.
    sock = page.split(".SS Control socket", 1)[1]
    for u in cli:
        if u in config:
            assert u.split()[0] in sock
    opts = subprocess.run([str(PCCTL), "--help"], capture_output=True, text=True).stdout
    for opt in set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", opts)):
        assert opt in pcctl_page, f"pcctl(8) lacks {opt}"


def test_drift_is_reported(tmp_path):
    """A command the source does not describe, or a description of a
    command the binary lacks, is named (so the test above would fail)."""
    real = subprocess.run([str(BINARY), "--help"], check=True, capture_output=True,
                          text=True).stdout
    # The binary with one command more and one ("dump config") fewer.
    fake_help = real.replace("  dump config\n", "  frobnicate now FAST|SLOW\n")
    assert fake_help != real
    fake = tmp_path / "portcullis"
    (tmp_path / "help.txt").write_text(fake_help)
    fake.write_text(f"#!/bin/sh\ncat {tmp_path / 'help.txt'}\n")
    fake.chmod(0o755)
    out, r = mkman(tmp_path, fake)
    assert r.returncode == 0
    assert "no description of 'frobnicate now FAST|SLOW'" in r.stderr
    assert "'@@ dump config' describes no command the binary has" in r.stderr
    # The page still lists what the binary has.
    assert "frobnicate now FAST|SLOW" in roff_text(out / "portcullis.8")


def unit_text(sbindir, sysconfdir):
    return (UNIT_IN.read_text().replace("@sbindir@", str(sbindir))
            .replace("@sysconfdir@", str(sysconfdir)))


def test_unit_verifies(tmp_path):
    """systemd-analyze verify passes on the unit with this build's
    binary, and its Documentation= pages are the generated ones."""
    # The build's unit is the template with absolute paths filled in.
    pattern = re.escape(UNIT_IN.read_text()).replace("@sbindir@", "/[^ ]+").replace(
        "@sysconfdir@", "/[^ ]+")
    assert re.fullmatch(pattern, (BUILD / "dist" / "portcullis.service").read_text())
    units = tmp_path / "units"
    units.mkdir()
    (units / "portcullis.service").write_text(unit_text(BUILD, tmp_path / "etc"))
    man8 = tmp_path / "share" / "man" / "man8"
    man8.mkdir(parents=True)
    for page in ("portcullis.8", "pcctl.8"):
        (man8 / page).symlink_to(BUILD / "doc" / page)
    # Other pages named there (systemd.service(5)) are the system's.
    manpath = f"{tmp_path / 'share' / 'man'}:" + subprocess.run(
        ["manpath", "-q"], capture_output=True, text=True).stdout.strip()
    r = subprocess.run(["systemd-analyze", "verify", "--man=yes",
                        str(units / "portcullis.service")],
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, MANPATH=manpath, SYSTEMD_LOG_LEVEL="notice"))
    assert r.returncode == 0 and r.stderr.strip() == "", r.stdout + r.stderr
    # Without this build's binary the same check fails: it looks.
    (units / "portcullis.service").write_text(unit_text(tmp_path / "nowhere", tmp_path))
    r = subprocess.run(["systemd-analyze", "verify", "--man=no",
                        str(units / "portcullis.service")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "nowhere/portcullis" in r.stderr


def test_meson_install(tmp_path):
    """meson install puts the binaries, the unit and the pages where a
    package takes them."""
    r = subprocess.run(["meson", "install", "-C", str(BUILD), "--no-rebuild", "--quiet",
                        "--destdir", str(tmp_path)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    prefix = tmp_path / "usr" / "local"
    for f in ("sbin/portcullis", "sbin/pcctl", "lib/systemd/system/portcullis.service",
              "share/man/man8/portcullis.8", "share/man/man8/pcctl.8",
              "share/doc/portcullis/examples/portcullis.conf",
              "share/doc/portcullis/examples/portcullis.env"):
        assert (prefix / f).is_file(), f"{f} not installed"
    unit = (prefix / "lib/systemd/system/portcullis.service").read_text()
    assert "ExecStart=/usr/local/sbin/portcullis $PORTCULLIS_EAL -- -c " \
           "/usr/local/etc/portcullis/portcullis.conf" in unit


# --- The unit under a real systemd --------------------------------------

STUB_TARGETS = ("sysinit.target", "basic.target", "shutdown.target", "default.target",
                "network.target", "multi-user.target")

CONFIG = """
ip address {addr}/24
worker idle backoff 50 500 50
tls listen 443 http
tls versions 1.2 1.3
host default cert {pki}/server.crt {pki}/server.key
host default verify required
host default ca {pki}/ca.crt
control socket /run/portcullis/portcullis.sock
access-log /var/log/portcullis/access.log
"""


class NsSystemd:
    """systemd as PID 1 of new PID, mount and cgroup namespaces."""

    def __init__(self, root):
        self.root = root
        self.cg = Path("/sys/fs/cgroup/unified") / f"pc-dist-{os.getpid()}"
        if not self.cg.parent.is_dir():
            # A pure cgroup2 host: its root is the unified tree.
            self.cg = Path("/sys/fs/cgroup") / f"pc-dist-{os.getpid()}"
        self.cg.mkdir()
        keep = root / "netns-keep"
        keep.mkdir()
        inner = root / "inner.sh"
        inner.write_text(f"""set -e
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount --rbind /run/netns {keep}
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir /run/netns
mount --move {keep} /run/netns
mount -t tmpfs -o mode=0755 tmpfs /var/log
export SYSTEMD_UNIT_PATH={root / 'units'} container=portcullis-test
exec /lib/systemd/systemd --system --unit=default.target --log-target=console \\
    --log-level=info
""")
        self.log = open(root / "systemd.log", "w")
        # The shell moves itself into the cgroup first, so that the cgroup
        # namespace's root is that cgroup.
        self.proc = subprocess.Popen(
            ["sh", "-c", f'echo $$ > {self.cg}/cgroup.procs && exec unshare --pid --fork '
                         f'--mount --cgroup --propagation private --mount-proc '
                         f'--kill-child bash {inner}'],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.pid1 = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            kids = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
            if self.pid1 is None and kids.exists() and kids.read_text().split():
                self.pid1 = int(kids.read_text().split()[0])
            if self.pid1 is not None:
                r = self.run("systemctl", "is-system-running")
                if r.stdout.strip() in ("running", "degraded"):
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.close()
        raise RuntimeError("systemd did not come up: " + (root / "systemd.log").read_text())

    def run(self, *cmd, timeout=60):
        return subprocess.run(["nsenter", "-t", str(self.pid1), "-m", "-p", *cmd],
                              capture_output=True, text=True, timeout=timeout)

    def prop(self, unit, name):
        return self.run("systemctl", "show", "-P", name, unit).stdout.strip()

    def diag(self, out):
        """What went wrong: the unit's status, its output, systemd's log."""
        status = self.run("systemctl", "status", "--no-pager", "-l", "portcullis.service")
        return "\n".join([status.stdout, out.read_text() if out.exists() else "(no output)",
                          (self.root / "systemd.log").read_text()[-3000:]])

    def close(self):
        # SIGKILL to a PID namespace's init ends every process in it.
        if self.pid1 is not None:
            try:
                os.kill(self.pid1, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        # Once init is reaped every process of the namespace is gone; a
        # cgroup may still read busy for a moment.
        deadline = time.monotonic() + 30
        for d in sorted(self.cg.glob("**/"), key=lambda p: -len(p.parts)):
            while True:
                try:
                    d.rmdir()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)


def wait_for(pred, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def curl(pki):
    return in_ns(NS_CLIENT, ["curl", "-sS", "--max-time", "20", "--resolve",
                             f"portcullis.test:443:{ADDR}", "--cacert", f"{pki}/ca.crt",
                             "--cert", f"{pki}/client.crt", "--key", f"{pki}/client.key",
                             "https://portcullis.test/"], timeout=60)


def test_unit_runs_under_systemd(netlab):
    if shutil.which("nsenter") is None or shutil.which("unshare") is None:
        pytest.skip("needs nsenter and unshare (util-linux)")
    pki = ROOT / "build" / "demo-pki"
    lab("queues", "1")
    # In the checkout's build directory, where the unit can read it.
    root = Path(tempfile.mkdtemp(prefix="dist-test-", dir=BUILD))
    sd = None
    try:
        etc = root / "etc"
        (etc / "portcullis").mkdir(parents=True)
        (etc / "portcullis" / "portcullis.conf").write_text(CONFIG.format(addr=ADDR, pki=pki))
        (etc / "portcullis" / "portcullis.env").write_text(
            'PORTCULLIS_EAL="' + " ".join(eal_args("af_xdp", 1)) + '"\n')
        units = root / "units"
        (units / "portcullis.service.d").mkdir(parents=True)
        (units / "portcullis.service").write_text(unit_text(BINARY.parent, etc))
        for t in STUB_TARGETS:
            (units / t).write_text("[Unit]\nDefaultDependencies=no\n")
        out = root / "out.log"
        # The lab's port is in its namespace; output to a file (no journald
        # here); the sanitizers' options when the build has them.
        dropin = [f"[Service]\nNetworkNamespacePath=/run/netns/{NS_DP}",
                  f"StandardOutput=append:{out}", "StandardError=inherit"]
        # The binary, PKI and config live in this checkout: a checkout under
        # /tmp or a home directory (CI clones anywhere) would be hidden by
        # PrivateTmp= or ProtectHome=, so only those are relaxed, and only
        # then; the rest of the sandbox is tested as installed.
        hidden = {"PrivateTmp": [Path(tempfile.gettempdir()), Path("/var/tmp")],
                  "ProtectHome": [Path("/home"), Path("/root"), Path("/run/user")]}
        for option, dirs in hidden.items():
            if any(d == p or d in p.parents for d in dirs for p in (ROOT, BUILD)):
                dropin.append(f"{option}=no")
        for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if var in os.environ:
                dropin.append(f'Environment="{var}={os.environ[var]}"')
        if "ASAN_OPTIONS" in os.environ:
            # LeakSanitizer stops the process's threads with ptrace.
            dropin.append("CapabilityBoundingSet=CAP_SYS_PTRACE")
        (units / "portcullis.service.d" / "test.conf").write_text("\n".join(dropin) + "\n")

        sd = NsSystemd(root)
        conf = etc / "portcullis" / "portcullis.conf"
        good = conf.read_text()
        # A bad config fails the start (exit 2: not restarted).
        conf.write_text(good + "tls versions 1.3 1.9\n")
        r = sd.run("systemctl", "start", "portcullis.service", timeout=120)
        assert r.returncode != 0, sd.diag(out)
        assert sd.prop("portcullis.service", "ActiveState") == "failed", sd.diag(out)
        assert sd.prop("portcullis.service", "ExecMainStatus") == "2"
        assert sd.prop("portcullis.service", "NRestarts") == "0"
        bad_line = len(good.splitlines()) + 1
        assert f"portcullis.conf:{bad_line}: tls versions" in out.read_text()
        conf.write_text(good)
        assert sd.run("systemctl", "reset-failed", "portcullis.service").returncode == 0

        # Type=notify: start returns once portcullis said READY=1.
        r = sd.run("systemctl", "start", "portcullis.service", timeout=120)
        assert r.returncode == 0, r.stderr + sd.diag(out)
        assert sd.prop("portcullis.service", "ActiveState") == "active"
        assert "portcullis: ready" in out.read_text()
        pid = sd.prop("portcullis.service", "MainPID")
        assert pid not in ("", "0")
        # The sandbox holds: bounded capabilities, no new privileges.
        status = sd.run("cat", f"/proc/{pid}/status").stdout
        bnd = int(re.search(r"^CapBnd:\s*([0-9a-f]+)", status, re.M).group(1), 16)
        assert bnd & (1 << 16) == 0, "CAP_SYS_MODULE in the bounding set"
        assert bnd & (1 << 12), "no CAP_NET_ADMIN"
        assert re.search(r"^NoNewPrivs:\s*1$", status, re.M)
        ctl = sd.run(str(PCCTL), "-s", "/run/portcullis/portcullis.sock", "show", "info")
        assert ctl.returncode == 0, ctl.stdout + ctl.stderr
        assert "generation" in ctl.stdout
        # Traffic through the hardened service.
        c = curl(pki)
        assert c.returncode == 0 and "identity: spiffe://portcullis.test/client" in c.stdout, \
            c.stdout + c.stderr
        # The access log in LogsDirectory=, writable under ProtectSystem=strict.
        wait_for(lambda: "identity=spiffe://portcullis.test/client" in sd.run(
            "cat", "/var/log/portcullis/access.log").stdout, "the access-log line")

        # systemctl reload: SIGHUP reaches the same process, which goes on.
        before = out.read_text().count("\n")
        r = sd.run("systemctl", "reload", "portcullis.service")
        assert r.returncode == 0, r.stderr
        wait_for(lambda: re.search(r"portcullis: .*(SIGHUP|reload)",
                                   "\n".join(out.read_text().splitlines()[before:])),
                 "the reload in the log")
        assert sd.prop("portcullis.service", "MainPID") == pid
        assert sd.prop("portcullis.service", "ActiveState") == "active"
        ctl = sd.run(str(PCCTL), "-s", "/run/portcullis/portcullis.sock", "show", "info")
        assert ctl.returncode == 0, ctl.stdout + ctl.stderr

        # Restart=on-failure: a killed process comes back.
        r = sd.run("systemctl", "kill", "-s", "KILL", "portcullis.service")
        assert r.returncode == 0, r.stderr
        wait_for(lambda: sd.prop("portcullis.service", "MainPID") not in ("0", "", pid)
                 and sd.prop("portcullis.service", "ActiveState") == "active",
                 "the restart", timeout=120)
        assert sd.prop("portcullis.service", "NRestarts") == "1"
        wait_for(lambda: sd.run(str(PCCTL), "-s", "/run/portcullis/portcullis.sock",
                                "show", "info").returncode == 0, "the restarted socket")
        c = curl(pki)
        assert c.returncode == 0, c.stdout + c.stderr

        # A clean stop: exit 0, the runtime directory gone.
        r = sd.run("systemctl", "stop", "portcullis.service", timeout=120)
        assert r.returncode == 0, r.stderr
        assert sd.prop("portcullis.service", "ActiveState") == "inactive"
        assert sd.prop("portcullis.service", "Result") == "success"
        # (LeakSanitizer may print the suppressions it used after it.)
        assert "\nportcullis: stopped\n" in out.read_text()
        assert sd.run("test", "-e", "/run/portcullis").returncode == 1
        text = out.read_text()
        assert "Sanitizer" not in text and "runtime error" not in text, text[-3000:]
    finally:
        if sd is not None:
            sd.close()
        shutil.rmtree(root, ignore_errors=True)
