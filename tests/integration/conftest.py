# SPDX-License-Identifier: MIT
"""Integration fixtures: a private lab (namespaces pct-dp, pct-client,
pct-backend, so a demo or benchmark in the default lab is left alone;
PC_TEST_LAB=NAME picks another prefix, for a second run beside the first)
and portcullis started inside it. Everything is torn down even when a test
fails; processes are stopped by PID."""
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAB = os.environ.get("PC_TEST_LAB", "pct")
NS_DP, NS_CLIENT, NS_BACKEND = f"{LAB}-dp", f"{LAB}-client", f"{LAB}-backend"
ADDR = "198.18.0.1"
CLIENT_ADDR = "198.18.0.2"
BUILD = Path(os.environ.get("PC_BUILD", ROOT / "build" / "release"))
BINARY = BUILD / "portcullis"
DEMO_CONF = ROOT / "conf" / "demo.conf"


def lab(*args):
    env = dict(os.environ, PC_LAB=LAB)
    subprocess.run([str(ROOT / "scripts" / "lab.sh"), *args], check=True, env=env)


def in_ns(ns, cmd, **kw):
    """Run cmd inside namespace ns; returns CompletedProcess (text)."""
    return subprocess.run(["ip", "netns", "exec", ns, *cmd], text=True,
                          capture_output=True, **kw)


def icmp_ping_cmd(dest, count, interval, wait=5, size=None, df=False, source=None,
                  sync=False):
    """The command line of icmp_ping.py (count echo requests to dest, then
    up to wait seconds for the last replies: see its header, iputils ping
    gives up on a late last reply), to run in a namespace."""
    cmd = ["/usr/bin/python3", str(Path(__file__).with_name("icmp_ping.py")),
           "-c", str(count), "-i", str(interval), "-w", str(wait)]
    if size is not None:
        cmd += ["-s", str(size)]
    if df:
        cmd.append("--df")
    if source is not None:
        cmd += ["-I", source]
    if sync:
        cmd.append("--sync")
    return [*cmd, dest]


def eal_args(pmd, workers=1, mtu=1500):
    out = subprocess.run(
        ["bash", "-c", f'ROOT="{ROOT}"; . "$ROOT/scripts/common.sh"; '
                       f'pc_eal_args {pmd} {workers}'],
        check=True, capture_output=True, text=True,
        env=dict(os.environ, PC_LAB=LAB, PC_MTU=str(mtu))).stdout
    return out.split()


@pytest.fixture(scope="session")
def netlab():
    # The demo config's TLS host needs the demo PKI (made at run time).
    subprocess.run([str(ROOT / "scripts" / "pki.sh"), str(ROOT / "build" / "demo-pki")],
                   check=True, capture_output=True)
    lab("down")
    lab("up")
    try:
        yield
    finally:
        lab("down")


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """The failure-class PKI of scripts/pki_cases.py (see its header),
    made once per run."""
    d = tmp_path_factory.mktemp("pki")
    subprocess.run(["/usr/bin/python3", str(ROOT / "scripts" / "pki_cases.py"), str(d)],
                   check=True, capture_output=True)
    return d


class Portcullis:
    """A running portcullis; its output is collected in a file."""

    def __init__(self, tmp_path, pmd, config_text=None, workers=1, mtu=1500):
        self.log_path = tmp_path / f"portcullis-{pmd}.log"
        conf = DEMO_CONF
        if config_text is not None:
            conf = tmp_path / "pc.conf"
            conf.write_text(config_text)
        lab("queues", str(workers))
        if pmd == "memif":
            # A socket file left by a killed memif server makes the bind
            # of the next one fail.
            sock = Path(f"/run/portcullis-lab-{LAB}-memif.sock")
            sock.unlink(missing_ok=True)
        self.log = open(self.log_path, "w+")
        cmd = ["ip", "netns", "exec", NS_DP, str(BINARY), *eal_args(pmd, workers, mtu),
               "--", "-c", str(conf)]
        # ip netns exec execs the binary: the PID is portcullis's own.
        # cwd: the demo config names its PKI relative to the repository.
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT,
                                     stdin=subprocess.DEVNULL)
        self.output = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = self.log_path.read_text()
            if "portcullis: ready" in text:
                if pmd == "tap":
                    self._join_tap()
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"portcullis exited {self.proc.returncode}:\n{text}")
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("portcullis did not become ready:\n" + self.log_path.read_text())

    def _join_tap(self):
        # net_tap's netdev exists once the port started; it leaves the
        # bridge (and the namespace) by itself when portcullis exits.
        r = subprocess.run(
            ["bash", "-c", f'ROOT="{ROOT}"; . "$ROOT/scripts/common.sh"; '
                           f'pc_tap_join {NS_DP}'], capture_output=True, text=True)
        if r.returncode != 0:
            self.stop()
            raise RuntimeError(f"tap not joined to the bridge: {r.stderr}")

    def counters(self):
        """Ask for a dump (SIGUSR1) and parse the newest one."""
        before = self.log_path.read_text().count("\ncounters end\n")
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = self.log_path.read_text()
            if text.count("\ncounters end\n") > before:
                return parse_counters(text)
            time.sleep(0.02)
        raise RuntimeError("no counter dump after SIGUSR1")

    def wait_counters(self, pred, timeout=30):
        """Counters once pred(counters) holds, or the last ones after
        timeout seconds (the caller's assertions then say what is wrong).
        For what the worker does after a client has finished: on a loaded
        machine that can take a while."""
        deadline = time.monotonic() + timeout
        while True:
            c = self.counters()
            if pred(c) or time.monotonic() > deadline:
                return c
            time.sleep(0.05)

    def stop(self):
        """SIGTERM, wait; returns the exit code and keeps the output."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        self.output = self.log_path.read_text()
        return self.proc.returncode


def running(p):
    """Yields p, a started Portcullis, for a fixture; then stops it and
    checks it exited cleanly with no sanitizer report."""
    try:
        yield p
    finally:
        check_stopped(p)


def check_stopped(p):
    """Stops p and checks it exited cleanly with no sanitizer report."""
    rc = p.stop()
    assert rc == 0, p.output[-3000:]
    assert "Sanitizer" not in p.output and "runtime error" not in p.output, p.output[-3000:]


def parse_counters(text):
    """Counters of the last dump in text: {name: value} (totals only)."""
    block = text.rsplit("counters (all workers", 1)[1]
    out = {}
    for line in block.splitlines()[1:]:
        m = re.match(r"^([a-z_0-9]+) (\d+(?:\.\d+)?)", line)
        if m:
            out[m.group(1)] = float(m.group(2)) if "." in m.group(2) else int(m.group(2))
        elif not line.startswith("lcore"):
            break
    return out


@pytest.fixture
def proxy(netlab, pki, tmp_path):
    """The proxy tests' portcullis: start(config) (proxy_lab.proxy_starter)."""
    from proxy_lab import proxy_starter
    yield from proxy_starter(pki, tmp_path)


@pytest.fixture
def backends(netlab, tmp_path):
    """The proxy tests' backend servers (proxy_lab.backend_factory)."""
    from proxy_lab import backend_factory
    yield from backend_factory(tmp_path)


@pytest.fixture
def start_portcullis(netlab, tmp_path):
    started = []

    def start(pmd="af_xdp", config_text=None, workers=1, mtu=1500):
        """mtu: the driver's frames (PC_MTU); the lab's links and the
        config's `port mtu` are the caller's."""
        pc = Portcullis(tmp_path, pmd, config_text, workers, mtu)
        started.append(pc)
        return pc

    try:
        yield start
    finally:
        for pc in started:
            pc.stop()


@pytest.fixture
def relay(netlab):
    """Start pc_impair (scripts/lab.sh impair) in the test lab; always
    stopped by its PID afterwards."""
    env = dict(os.environ, PC_LAB=LAB, PC_BUILD=str(BUILD))
    started = []

    def start(*args):
        subprocess.run([str(ROOT / "scripts" / "lab.sh"), "impair", *args], env=env,
                       check=True, timeout=60)
        started.append(True)

    try:
        yield start
    finally:
        if started:
            subprocess.run([str(ROOT / "scripts" / "lab.sh"), "impair-stop"], env=env,
                           timeout=60, capture_output=True)
