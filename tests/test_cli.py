"""The ingot CLI (build/ingot): run, ps, logs, stop, rm, replace, restart
policies, networks, and what the state says when processes die.

Each test has a run directory of its own (INGOT_RUN_DIR) and a network
namespace it makes (netns.py), which `ingot net create --netns` fills
with a bridge; guests, taps and every peer (dig, dnsperf) are inside it.
At the end of each test nothing may be left: no guest process, no tap, no
record.
"""
import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest

from conftest import BUILD, ROOT
from netns import Netns

INGOT = os.path.join(BUILD, "ingot")
DNS = os.path.join(BUILD, "kvm", "dns.kvm")
HELLO = os.path.join(BUILD, "kvm", "hello.kvm")
QUERIES = os.path.join(ROOT, "tests", "dns_queries.txt")
kvm = pytest.mark.kvm


class Cli:
    def __init__(self, run_dir):
        self.env = dict(os.environ, INGOT_RUN_DIR=str(run_dir))
        self.run_dir = str(run_dir)

    def __call__(self, *args, check=True, timeout=60):
        r = subprocess.run([INGOT, *map(str, args)], capture_output=True, text=True,
                           env=self.env, timeout=timeout)
        if check:
            assert r.returncode == 0, f"ingot {' '.join(map(str, args))}: {r}"
        return r

    def ps(self, *names, all=True):
        r = self("ps", "--json", *(["-a"] if all else []), *names)
        return {g["name"]: g for g in json.loads(r.stdout)}

    def guest(self, name):
        return self.ps(name)[name]


@pytest.fixture
def env(tmp_path):
    """A run directory, a namespace and an ingot network in it (10.79.0.1/16
    on the bridge); afterwards checks that nothing was left behind."""
    ns = Netns()
    cli = Cli(tmp_path / "run")
    cli("net", "create", "t", "--netns", ns.name, "--addr", "10.79.0.1/16")
    yield cli, ns
    try:
        for name in cli.ps():
            cli("rm", "-f", name, check=False)
        left = guest_processes(cli.run_dir)
        taps = [l for l in links(ns) if l.startswith("ig")]
        records = os.listdir(os.path.join(cli.run_dir, "guests"))
        cli("net", "delete", "t")
        assert not left, f"processes left behind: {left}"
        assert not taps, f"taps left behind: {taps}"
        assert not records, f"records left behind: {records}"
        assert "ingot-t" not in links(ns)
    finally:
        ns.close()


def links(ns):
    out = subprocess.run(["ip", "-n", ns.name, "-o", "link"], capture_output=True,
                         text=True).stdout
    return [l.split(":")[1].strip().split("@")[0] for l in out.splitlines()]


def guest_processes(run_dir):
    """Monitors and supervisors whose state lives in run_dir."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                environ = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            continue
        if b"INGOT_RUN_DIR=" + run_dir.encode() in environ.split(b"\0") and \
                any(c.endswith((b"ingot", b"ingot-kvm")) for c in cmd):
            found.append((pid, cmd))
    return found


def dig(ns, addr, name="www.example.test", tries=3):
    r = ns.run(["dig", f"@{addr}", name, "+short", "+time=1", f"+tries={tries}"])
    return r.stdout.strip()


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def wait_until(what, cond, timeout=10):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


# --- usage and bad input (no guest runs) ---------------------------------

COMMANDS = ["build", "run", "ps", "logs", "stop", "rm", "replace", "net", "summon", "oci"]


def test_help_everywhere(tmp_path):
    cli = Cli(tmp_path)
    r = cli("--help")
    for c in COMMANDS:
        assert re.search(rf"^  {c} ", r.stdout, re.M), r.stdout
        h = cli(c, "--help")
        assert h.stdout.startswith(f"usage: ingot {c}"), h.stdout


@pytest.mark.parametrize("args", [
    ["nosuchcommand"], ["--bogus", "ps"], ["run", "--bogus", "dns"], ["run"],
    ["run", "--restart", "sometimes", "dns"], ["run", "--mem", "12Q", "dns"],
    ["run", "--name", "bad/name", "dns"], ["ps", "--bogus"], ["logs"],
    ["stop", "-t", "x", "a"], ["replace", "onlyname"], ["net", "create"],
    ["net", "frobnicate"], ["build", "dns", "--target", "arm"],
    ["build", "dns", "lowercase=1"],
])
def test_bad_usage(tmp_path, args):
    r = Cli(tmp_path)(*args, check=False)
    assert r.returncode == 2, r
    assert "--help" in r.stderr or "usage: ingot" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(tmp_path, "guests")) or \
        not os.listdir(os.path.join(tmp_path, "guests"))


def test_build(tmp_path):
    """ingot build drives make and names the image (built already: make
    has nothing to do)."""
    r = Cli(tmp_path)("build", "hello", "--target", "hosted", "--json", timeout=600)
    j = json.loads(r.stdout)
    assert j["target"] == "hosted" and j["image"].endswith("/build/hosted/hello"), j
    assert os.access(j["image"], os.X_OK)


def test_build_unknown_app(tmp_path):
    r = Cli(tmp_path)("build", "nosuchapp", check=False)
    assert r.returncode == 1 and "no app 'nosuchapp'" in r.stderr
    assert "dns" in r.stderr  # the apps there are are listed


def test_bad_input_leaves_nothing(env):
    cli, ns = env
    r = cli("run", "-d", "--net", "t", "nosuchimage", check=False)
    assert r.returncode == 1 and "no image 'nosuchimage'" in r.stderr, r
    r = cli("run", "-d", "--net", "nonet", DNS, check=False)
    assert r.returncode == 1 and "no network nonet" in r.stderr, r
    r = cli("run", "-d", "--net", "t", os.path.join(ROOT, "README.md"), check=False)
    assert r.returncode == 1 and "not an ingot image" in r.stderr, r
    # A tap that exists is refused, and left as it was.
    ns.tap("igtaken")
    r = cli("run", "-d", "--net", "t", "--tap", "igtaken", DNS, check=False)
    assert r.returncode == 1 and "igtaken exists already" in r.stderr, r
    assert "igtaken" in links(ns)
    ns.ip("link", "del", "igtaken")
    r = cli("net", "create", "t", check=False)
    assert r.returncode == 1 and "exists already" in r.stderr
    assert cli.ps() == {}


# --- guests ----------------------------------------------------------------

@kvm
def test_run_ps_logs_stop(env):
    cli, ns = env
    r = cli("run", "-d", "--json", "--name", "web", "--net", "t", "--ip", "10.79.0.2/24", DNS)
    assert json.loads(r.stdout)["name"] == "web"
    g = cli.guest("web")
    assert g["status"] == "running" and alive(g["pid"]) and g["rss_kib"] > 0
    assert g["ip"] == "10.79.0.2/24" and g["network"] == "t" and g["tap"] in links(ns)
    assert dig(ns, "10.79.0.2") == "192.0.2.10"
    # A name in use is refused.
    r = cli("run", "-d", "--name", "web", "--net", "t", DNS, check=False)
    assert r.returncode == 1 and "name web is taken" in r.stderr
    g = cli("ps", "--json", "--counters", "web")
    g = json.loads(g.stdout)[0]
    assert g["frames_in"] > 0 and g["frames_out"] > 0, g
    table = cli("ps").stdout
    assert re.search(r"^web\s+dns\.kvm\s+running\s", table, re.M), table
    assert "dns: serving UDP port 53" in cli("logs", "web").stdout
    r = cli("stop", "web")
    assert r.stdout.strip() == "web: exited (0)"
    g = cli.guest("web")
    assert g["status"] == "exited" and g["exit"] == 0 and not alive(g["pid"] or 1 << 22)
    assert g["tap"] not in links(ns)
    assert "web" not in cli.ps(all=False)
    # The clean stop printed the guest's final counters.
    assert "dns: queries by type: A=" in cli("logs", "web").stdout
    r = cli("rm", "web")
    assert "web" not in cli.ps()


@kvm
def test_run_ready(env):
    """--ready returns once the console shows the text, and a guest that
    does not show it in time is stopped and forgotten."""
    cli, ns = env
    cli("run", "-d", "--name", "r", "--net", "t", "--ip", "10.79.0.12/24",
        "--ready", "serving UDP port 53", DNS)
    assert cli.guest("r")["status"] == "running"
    assert dig(ns, "10.79.0.12", tries=1) == "192.0.2.10"
    r = cli("run", "-d", "--name", "r2", "--net", "t", "--ip", "10.79.0.13/24",
            "--ready", "never printed", "--ready-timeout", "1", DNS, check=False)
    assert r.returncode != 0 and "did not print 'never printed' in 1000 ms" in r.stderr, r.stderr
    assert "dns: serving UDP port 53" in r.stderr  # its console, shown
    assert "r2" not in cli.ps()
    cli("stop", "r")
    cli("rm", "r")


@kvm
def test_foreground_run(env):
    cli, _ = env
    r = cli("run", "--rm", "--name", "fg", HELLO)
    assert "Hello from ingot!" in r.stdout
    assert cli.ps() == {}
    r = cli("run", "--name", "fg2", DNS, "--", "--bogus", check=False)
    assert r.returncode == 2 and "usage: dns" in r.stdout
    assert cli.guest("fg2")["state"] == "exited (2)"


@kvm
def test_logs_follow(env):
    cli, _ = env
    cli("run", "-d", "--name", "f", "--net", "t", "--ip", "10.79.0.3/24", DNS)
    follow = subprocess.Popen([INGOT, "logs", "-f", "f"], stdout=subprocess.PIPE, text=True,
                              env=cli.env)
    time.sleep(0.3)
    assert follow.poll() is None  # following while the guest runs
    cli("stop", "f")
    out, _ = follow.communicate(timeout=10)
    assert "serving UDP" in out and "dns: queries by type" in out, out


@kvm
def test_monitor_killed(env):
    """A monitor killed with SIGKILL shows as exited with that signal; a
    killed supervisor takes its guest with it and shows as lost, never as
    running."""
    cli, ns = env
    cli("run", "-d", "--name", "k", "--net", "t", "--ip", "10.79.0.4/24", DNS)
    pid = cli.guest("k")["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_until("exited", lambda: cli.guest("k")["status"] == "exited")
    g = cli.guest("k")
    assert g["signal"] == 9 and g["exit"] == 137 and g["state"] == "exited (killed by SIGKILL)"
    assert g["restarts"] == 0 and g["tap"] not in links(ns)

    cli("run", "-d", "--name", "k2", "--net", "t", "--ip", "10.79.0.5/24", DNS)
    g = cli.guest("k2")
    sup = int(open(os.path.join(cli.run_dir, "guests", "k2", "state")).read()
              .split("sup_pid=")[1].split()[0])
    os.kill(sup, signal.SIGKILL)
    wait_until("monitor gone", lambda: not alive(g["pid"]))
    g2 = cli.guest("k2")
    assert g2["status"] == "exited" and g2["state"] == "exited (supervisor lost)", g2
    assert "192.0.2.10" not in dig(ns, "10.79.0.5", tries=1)
    # rm takes away the tap the dead supervisor left.
    assert g2["tap"] in links(ns)
    cli("rm", "k2")
    assert g2["tap"] not in links(ns)


@kvm
def test_restart_policies(env):
    cli, ns = env
    # on-failure: a killed monitor comes back, answering at its address.
    cli("run", "-d", "--name", "of", "--net", "t", "--ip", "10.79.0.6/24",
        "--restart", "on-failure", DNS)
    first = cli.guest("of")["pid"]
    os.kill(first, signal.SIGKILL)
    wait_until("restart", lambda: cli.guest("of")["restarts"] == 1 and
               cli.guest("of")["status"] == "running")
    assert cli.guest("of")["pid"] != first
    assert dig(ns, "10.79.0.6") == "192.0.2.10"
    assert "restarting in 100 ms" in cli("logs", "of").stdout
    # A stop is not a failure: it stays stopped.
    cli("stop", "of")
    time.sleep(0.5)
    assert cli.guest("of")["status"] == "exited" and cli.guest("of")["restarts"] == 1

    # on-failure and a clean exit (hello returns 0): not restarted.
    cli("run", "-d", "--name", "ok", "--restart", "on-failure", HELLO)
    wait_until("hello exits", lambda: cli.guest("ok")["status"] == "exited")
    time.sleep(0.3)
    assert cli.guest("ok")["restarts"] == 0

    # always: restarted after every exit, backing off (0.1, 0.2, 0.4, 0.8 s...).
    cli("run", "-d", "--name", "al", "--restart", "always", HELLO)
    time.sleep(1.2)
    n = cli.guest("al")["restarts"]
    assert 2 <= n <= 5, n
    assert cli("logs", "al").stdout.count("Hello from ingot!") >= n
    cli("stop", "al")
    n = cli.guest("al")["restarts"]
    time.sleep(0.5)
    assert cli.guest("al")["status"] == "exited" and cli.guest("al")["restarts"] == n


@kvm
def test_replace_loses_nothing(env):
    """dnsperf queries the service address throughout a replacement: every
    query is answered, by the old guest or the new one."""
    cli, ns = env
    cli("run", "-d", "--name", "svc", "--net", "t", "--ip", "10.79.0.10/24", DNS)
    old = cli.guest("svc")
    perf = ns.popen(["dnsperf", "-s", "10.79.0.10", "-d", QUERIES, "-l", "4", "-Q", "2000"],
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(1)
    r = cli("replace", "--json", "svc", DNS)
    assert json.loads(r.stdout)["ok"] is True, r
    out, _ = perf.communicate(timeout=30)
    sent = int(re.search(r"Queries sent:\s+(\d+)", out).group(1))
    done = int(re.search(r"Queries completed:\s+(\d+)", out).group(1))
    assert sent >= 6000 and done == sent, out
    new = cli.guest("svc")
    assert new["pid"] != old["pid"] and alive(new["pid"]) and not alive(old["pid"])
    assert new["tap"] != old["tap"] and old["tap"] not in links(ns)
    assert [l for l in links(ns) if l.startswith("ig")] == [new["tap"]]
    log = cli("logs", "svc").stdout
    assert "replace: ok" in log and "the old guest stopped (status 0)" in log
    # The new guest answers; the old one printed its counters as it stopped,
    # which ps does not take for the new one's.
    assert dig(ns, "10.79.0.10") == "192.0.2.10"
    assert cli.guest("svc")["frames_in"] == -1
    wait_until("the new guest's counters", lambda: json.loads(
        cli("ps", "--json", "--counters", "svc").stdout)[0]["frames_in"] > 0)

    # An image that never says it serves: the replacement fails and the
    # guest that serves stays.
    r = cli("replace", "--timeout", "1", "svc", HELLO, check=False)
    assert r.returncode == 1 and "did not print 'serving'" in r.stderr or \
        "ended" in r.stderr, r
    assert cli.guest("svc")["pid"] == new["pid"]
    assert dig(ns, "10.79.0.10") == "192.0.2.10"
    assert [l for l in links(ns) if l.startswith("ig")] == [new["tap"]]
    r = cli("replace", "svc", "nosuchimage", check=False)
    assert r.returncode == 1 and "no image" in r.stderr


@kvm
def test_concurrent_commands(env):
    """Commands at once: every name given once is started once, a name
    given twice is started once, and the state reads whole throughout."""
    cli, ns = env
    names = [f"c{i}" for i in range(8)] + ["c0", "c1"]
    results = {}

    def start(i, name):
        results[i] = cli("run", "-d", "--name", name, "--net", "t",
                         "--ip", f"10.79.1.{i + 1}/16", DNS, check=False)

    threads = [threading.Thread(target=start, args=(i, n)) for i, n in enumerate(names)]
    stop = threading.Event()
    bad = []

    def reader():
        while not stop.is_set():
            r = cli("ps", "--json", "-a", check=False)
            try:
                json.loads(r.stdout)
            except ValueError:
                bad.append(r.stdout)

    rd = threading.Thread(target=reader)
    rd.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [names[i] for i, r in results.items() if r.returncode == 0]
    assert sorted(ok) == sorted(set(names)), results
    taken = [r for r in results.values() if r.returncode != 0]
    assert len(taken) == 2 and all("is taken" in r.stderr for r in taken), taken
    ps = cli.ps()
    assert sorted(ps) == sorted(set(names))
    assert all(g["status"] == "running" for g in ps.values())
    stoppers = [threading.Thread(target=cli, args=("stop", n)) for n in set(names)]
    for t in stoppers:
        t.start()
    for t in stoppers:
        t.join()
    stop.set()
    rd.join()
    assert not bad, bad
    assert all(g["status"] == "exited" and g["exit"] == 0 for g in cli.ps().values())


@kvm
def test_hundred_guests(env):
    """100 DNS guests started, listed, each answering at its address,
    stopped: nothing left behind (the fixture checks processes, taps and
    records)."""
    cli, ns = env
    n = 100
    t0 = time.monotonic()
    for i in range(n):
        cli("run", "-d", "--name", f"g{i}", "--net", "t",
            "--ip", f"10.79.2.{i + 1}/16", "--mem", "4M", DNS)
    started = time.monotonic() - t0
    ps = cli.ps()
    ended = {k: (g["state"], cli("logs", k).stdout[-500:])
             for k, g in ps.items() if g["status"] != "running"}
    assert len(ps) == n and not ended, ended
    # Every guest answers: one dig process, a query per address.
    batch = os.path.join(cli.run_dir, "digs")
    with open(batch, "w") as f:
        f.writelines(f"@10.79.2.{i + 1} www.example.test +short +time=2 +tries=3\n"
                     for i in range(n))
    r = ns.run(["dig", "-f", batch], timeout=120)
    answers = r.stdout.split()
    assert answers.count("192.0.2.10") == n, r
    t1 = time.monotonic()
    cli("stop", *[f"g{i}" for i in range(n)], timeout=300)
    stopped = time.monotonic() - t1
    assert all(g["state"] == "exited (0)" for g in cli.ps().values())
    cli("rm", *[f"g{i}" for i in range(n)])
    assert cli.ps() == {}
    print(f"100 guests: started in {started:.1f} s, stopped in {stopped:.1f} s")


def dig_timed(ns, server, name):
    """(answer lines, query time in ms) from dig."""
    r = ns.run(["dig", f"@{server}", name, "+time=5", "+tries=1", "+noall", "+answer",
                "+stats"])
    ms = re.search(r"Query time: (\d+) msec", r.stdout)
    lines = [l for l in r.stdout.splitlines() if l and not l.startswith(";")]
    return lines, int(ms.group(1)) if ms else None


@kvm
def test_summon(env):
    """A cold name's first query boots its guest and is answered with its
    address; the guest serves; idle, it is stopped and forgotten."""
    cli, ns = env
    summon = subprocess.Popen([INGOT, "summon", "--net", "t", "--listen", "10.79.0.1:53",
                               "--idle", "2", "www.example.test=dns@10.79.0.30/16"],
                              stderr=subprocess.PIPE, text=True, env=cli.env)
    try:
        wait_until("summon listens", lambda: "answering" in (summon.stderr.readline() or ""))
        assert cli.ps() == {}
        cold, cold_ms = dig_timed(ns, "10.79.0.1", "www.example.test")
        assert len(cold) == 1 and cold[0].split()[-2:] == ["A", "10.79.0.30"], cold
        assert cli.guest("www.example.test")["status"] == "running"
        assert dig(ns, "10.79.0.30") == "192.0.2.10"
        warm, warm_ms = dig_timed(ns, "10.79.0.1", "www.example.test")
        assert warm == cold
        other = ns.run(["dig", "@10.79.0.1", "other.test", "+time=2", "+tries=1"])
        assert "status: REFUSED" in other.stdout
        print(f"summon: cold name answered in {cold_ms} ms, warm in {warm_ms} ms")
        # In use (answering the client directly, twice a second), it
        # outlives the idle time: what the guest sends counts as use.
        in_use = time.monotonic() + 3.5
        while time.monotonic() < in_use:
            assert dig(ns, "10.79.0.30") == "192.0.2.10"
            time.sleep(0.5)
        assert cli.guest("www.example.test")["status"] == "running"
        # Idle for 2 s (the dig above was the last traffic): stopped.
        wait_until("the idle guest is stopped", lambda: cli.ps() == {}, timeout=8)
        assert "192.0.2.10" not in dig(ns, "10.79.0.30", tries=1)
        # And summoned again.
        again, _ = dig_timed(ns, "10.79.0.1", "www.example.test")
        assert again == cold
    finally:
        summon.send_signal(signal.SIGTERM)
        summon.wait(30)
    # On SIGTERM it stopped what it had started.
    assert cli.ps() == {}


@pytest.mark.parametrize("args", [
    ["summon", "--listen", "10.0.0.1", "a=dns@10.0.0.2/24"],
    ["summon", "--net", "t", "--listen", "10.0.0.1"],
    ["summon", "--net", "t", "--listen", "10.0.0.1", "a=dns"],
    ["summon", "--net", "t", "--listen", "10.0.0.1", "a=dns@10.0.0.300/24"],
    ["summon", "--net", "t", "--listen", "10.0.0.1", "--idle", "x", "a=dns@10.0.0.2/24"],
    ["run", "-d", "--ready", "", "dns"],
])
def test_bad_usage_more(tmp_path, args):
    r = Cli(tmp_path)(*args, check=False)
    assert r.returncode == 2 and "--help" in r.stderr, r
