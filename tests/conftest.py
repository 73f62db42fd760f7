"""Shared pytest fixtures: where the build is, and running images on each target.

Tests that need /dev/kvm are marked `kvm`; without it they are reported as
SKIPPED (with the reason), never as passed.  `tools/test` reruns them inside a
QEMU VM that has KVM when this machine lacks it.
"""
import os
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("INGOT_BUILD", os.path.join(ROOT, "build"))
MONITOR = os.path.join(BUILD, "ingot-kvm")
HAVE_KVM = os.path.exists("/dev/kvm")

# Exit statuses, from include/ingot/abi.h.
EXIT_WATCHDOG = 251
EXIT_SETUP = 252
EXIT_STOPPED = 254
EXIT_ABORT = 255


def pytest_configure(config):
    config.addinivalue_line("markers", "kvm: needs /dev/kvm")


def pytest_collection_modifyitems(config, items):
    if HAVE_KVM:
        return
    skip = pytest.mark.skip(reason="SKIPPED: no /dev/kvm on this machine")
    for item in items:
        if "kvm" in item.keywords:
            item.add_marker(skip)


class Result:
    def __init__(self, rc, out, err, wall, cpu=None, maxrss_kib=None):
        self.rc, self.out, self.err, self.wall = rc, out, err, wall
        self.cpu, self.maxrss_kib = cpu, maxrss_kib

    def __repr__(self):
        return f"Result(rc={self.rc}, out={self.out!r}, err={self.err!r})"


def run(argv, timeout=30, env=None):
    """Runs argv, returning its status, output, wall time and CPU time."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"{argv} did not finish in {timeout} s; stderr: {err!r}")
    wall = time.monotonic() - start
    return Result(proc.returncode, out.decode(errors="replace"),
                  err.decode(errors="replace"), wall)


def run_measured(argv, timeout=30):
    """Like run(), also measuring the child's CPU time (user + system) and
    peak resident memory."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = start + timeout
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"{argv} did not finish in {timeout} s")
        time.sleep(0.01)
    wall = time.monotonic() - start
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Result(proc.returncode, out.decode(errors="replace"),
                  err.decode(errors="replace"), wall, ru.ru_utime + ru.ru_stime,
                  ru.ru_maxrss)


def image(target, name, test=False):
    base = os.path.join(BUILD, "test") if test else BUILD
    if target == "kvm":
        path = os.path.join(base, "kvm", name + ".kvm")
    else:
        path = os.path.join(base, "hosted", name)
    assert os.path.exists(path), f"{path} was not built (run make)"
    return path


def boot(target, name, args=(), test=False, mon_args=(), timeout=30, measured=False):
    """Boots image `name` on `target` ("kvm" or "hosted")."""
    path = image(target, name, test)
    if target == "kvm":
        argv = [MONITOR, *mon_args, path, *args]
    else:
        argv = [path, *mon_args, *(["--"] if args else []), *args]
    return (run_measured if measured else run)(argv, timeout=timeout)


TARGETS = [
    pytest.param("hosted", id="hosted"),
    pytest.param("kvm", id="kvm", marks=pytest.mark.kvm),
]
