"""Network namespaces for tests, and guests booted inside them.

Every network test makes its own namespace (ip netns add), puts the tap
devices, the monitor and every peer inside it, and deletes it afterwards with
whatever still runs there: no traffic ever leaves this machine.
"""
import itertools
import os
import re
import signal
import subprocess
import threading
import time

import qemu
from conftest import BUILD, MONITOR, image

PYTHON = "/usr/bin/python3"
_serial = itertools.count()


class Netns:
    def __init__(self):
        self.name = f"ingot-t{os.getpid()}-{next(_serial)}"
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.ip("link", "set", "lo", "up")
        self.procs = []

    def ip(self, *args):
        subprocess.run(["ip", "-n", self.name, *args], check=True)

    def argv(self, argv):
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, argv, timeout=60, input=None):
        """Runs argv inside; returns the CompletedProcess (text output)."""
        return subprocess.run(self.argv(argv), capture_output=True, text=True,
                              timeout=timeout, input=input)

    def popen(self, argv, **kw):
        p = subprocess.Popen(self.argv(argv), **kw)
        self.procs.append(p)
        return p

    def tap(self, name, addr=None):
        self.ip("tuntap", "add", "dev", name, "mode", "tap")
        if addr:
            self.ip("addr", "add", addr, "dev", name)
        self.ip("link", "set", name, "up")

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        pids = subprocess.run(["ip", "netns", "pids", self.name],
                              capture_output=True, text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["ip", "netns", "del", self.name], check=False)


class NoNetns:
    """Stands in for a Netns where no namespace is needed: the hosted
    target's UDP backend moves frames over 127.0.0.1 only."""

    def __init__(self):
        self.procs = []

    def popen(self, argv, **kw):
        p = subprocess.Popen(argv, **kw)
        self.procs.append(p)
        return p

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


class Guest:
    """An image booted in a namespace, its output collected as it comes.

    target "kvm" and "hosted" run the image as the suites always have;
    "virtio" and "virtio-q35" boot the virtio image on QEMU (tests/qemu.py)
    with the same nets, args and monitor options, operator requests going
    to the guest's console input instead of signals."""

    def __init__(self, ns, target, name, nets, args=(), test=False, mon_args=(),
                 path=None, argv=None):
        """path: an image built elsewhere (another BUILD) instead of name's;
        argv: a command of its own (QEMU's, tests/test_virtio.py) instead."""
        self.qemu = target in qemu.MACHINE_OF
        net_opts = [a for n in nets for a in ("--net", n)]
        if argv:
            pass
        elif self.qemu:
            argv = qemu.guest_argv(target, name, nets, args, test, mon_args, path)
        elif target == "kvm":
            argv = [MONITOR, *net_opts, *mon_args, path or image(target, name, test), *args]
        else:
            argv = [path or image(target, name, test), *net_opts, *mon_args, "--", *args]
        self.proc = ns.popen(argv, stdin=subprocess.PIPE if self.qemu else None,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out, self.err = [], []
        self.cond = threading.Condition()
        self.readers = [threading.Thread(target=self._read, args=(f, buf), daemon=True)
                        for f, buf in ((self.proc.stdout, self.out),
                                       (self.proc.stderr, self.err))]
        for t in self.readers:
            t.start()

    def _ask(self, sig, byte):
        """An operator request: a signal to the monitor or hosted process,
        a byte on a QEMU guest's console."""
        if not self.qemu:
            self.proc.send_signal(sig)
            return
        try:
            self.proc.stdin.write(byte.decode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass  # QEMU has ended: wait() says how

    def report(self):
        """Asks the guest to print its counters (SIGUSR1)."""
        self._ask(signal.SIGUSR1, qemu.REQUEST_REPORT)

    def _read(self, f, buf):
        for line in f:
            with self.cond:
                buf.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, pattern, timeout=15, start=0):
        """The first stdout line from index start matching pattern (regex)."""
        return self.out[self.wait_index(pattern, timeout, start)]

    def wait_index(self, pattern, timeout=15, start=0):
        """The index of the first stdout line from index start matching
        pattern (regex); fails after timeout seconds or when the guest has
        ended without printing it."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        with self.cond:
            while True:
                for i in range(start, len(self.out)):
                    if rx.search(self.out[i]):
                        return i
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and
                                 not any(t.is_alive() for t in self.readers)):
                    raise AssertionError(
                        f"no line matching {pattern!r} in {timeout} s; "
                        f"stdout: {self.out!r} stderr: {self.err!r}")
                # Readers notify at every line and at end of file.
                self.cond.wait(min(left, 1.0))

    def counters(self, name="service", timeout=10):
        """Asks for a report (SIGUSR1) and returns the interface's counters.

        The report has no end marker, so a second report marks the end of
        the first: the guest takes the first request before it prints the
        first header, so a request sent after that header is a new one,
        answered only once the first report has been written out in full."""
        header = rf"^net: counters of {re.escape(name)}:"
        start = len(self.out)
        self.report()
        first = self.wait_index(header, timeout, start)
        self.report()
        self.wait_index(header, timeout, first + 1)
        return self._parse_counters(name, first)

    def _parse_counters(self, name, start):
        with self.cond:
            lines = self.out[start:]
        i = next(i for i, l in enumerate(lines) if l.startswith(f"net: counters of {name}:"))
        counts = {}
        for line in lines[i + 1:]:
            if not line.startswith(" "):
                break
            for k, v in re.findall(r"(\w+)=(\d+)", line):
                counts[k] = int(v)
        return counts

    def stop(self, timeout=15):
        """Asks the guest to stop (SIGTERM); returns its exit status."""
        if self.proc.poll() is None:
            self._ask(signal.SIGTERM, qemu.REQUEST_STOP)
        return self.wait(timeout)

    def wait(self, timeout=60):
        """Waits for the guest to end; returns its exit status (a QEMU
        guest's, decoded from QEMU's)."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"the guest did not stop; stderr: {self.err!r}")
        for t in self.readers:
            t.join(5)
        return qemu.guest_status(rc) if self.qemu else rc

    def final_counters(self, name="service"):
        """The counters the guest printed at exit."""
        idx = [i for i, l in enumerate(self.out) if l.startswith(f"net: counters of {name}:")]
        assert idx, f"no counters at exit; stdout: {self.out!r}"
        return self._parse_counters(name, idx[-1])


def peer_script(ns, script, *args, timeout=120):
    """Runs a Python peer (tests/peers/SCRIPT) inside the namespace."""
    here = os.path.dirname(os.path.abspath(__file__))
    r = ns.run([PYTHON, os.path.join(here, "peers", script), *map(str, args)],
               timeout=timeout)
    return r
