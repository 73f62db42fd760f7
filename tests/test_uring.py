"""ingot-kvm's tap I/O through io_uring (host/net_uring.c) and without it:
bursts of UDP requests with many in flight, so that one poll moves several
frames each way, answered whole either way.  The echo guest takes TSO
(each read offered room for a 64 KiB frame, the frames moved together
after); the DNS guest does not (a buffer per read).  Without io_uring: turned off with --no-io-uring, and on a
kernel where io_uring_setup fails (tests/host/no_uring.c).  The ring rules
with io_uring are tests/test_ring.py's (kvm), without it the last test's."""
import os
import re

import pytest

from conftest import BUILD, EXIT_STOPPED, MONITOR, image
from netns import Guest, Netns, peer_script
from test_ring import BROKEN, finish

pytestmark = pytest.mark.kvm
NO_URING = os.path.join(BUILD, "test", "host", "no_uring")


@pytest.fixture
def ns():
    n = Netns()
    yield n
    n.close()


def serve(ns, app, mon_args=()):
    ns.tap("tap0", "10.0.0.1/24")
    g = Guest(ns, "kvm", app, ["service=tap0"], ["--ipv4=10.0.0.2/24"],
              mon_args=mon_args)
    g.wait_for(rf"^{app}: serving")
    return g


def batching(g):
    """(reads and writes, system calls) from the monitor's exit report."""
    err = "\n".join(g.err)
    m = re.search(r"net: io_uring: (\d+) reads and writes in (\d+) system calls", err)
    assert m, err
    return int(m.group(1)), int(m.group(2))


@pytest.mark.parametrize("app,port,count", [("echo", 7, 20000), ("dns", 53, 20000)])
def test_bursts_go_through_io_uring_in_batches(ns, app, port, count):
    g = serve(ns, app)
    r = peer_script(ns, "udp_burst.py", "echo" if app == "echo" else "dns",
                    "10.0.0.2", port, count, 64)
    assert r.returncode == 0, r.stdout + r.stderr
    assert g.stop() == 0
    ops, calls = batching(g)
    # A batch holds two reads or writes at least (one alone is a plain
    # system call, not counted); under this load most frames go in them.
    assert ops >= count and 2 * calls <= ops, (ops, calls)


@pytest.mark.parametrize("app,port", [("echo", 7), ("dns", 53)])
def test_bursts_without_io_uring(ns, app, port):
    g = serve(ns, app, ["--no-io-uring"])
    r = peer_script(ns, "udp_burst.py", app, "10.0.0.2", port, 5000, 64)
    assert r.returncode == 0, r.stdout + r.stderr
    assert g.stop() == 0
    err = "\n".join(g.err)
    assert "net: io_uring turned off: a system call per frame" in err, err
    assert "reads and writes in" not in err, err


def test_the_tap_is_free_the_moment_the_monitor_is_gone(ns):
    """Killed mid-burst, a monitor's io_uring holds no reference to the tap
    (registered files would, for tens of milliseconds after the process),
    so a monitor started at once, as a supervisor restarts one, attaches."""
    g = serve(ns, "echo")
    peer = ns.popen(["/usr/bin/python3", os.path.join(os.path.dirname(__file__), "peers",
                                                      "udp_burst.py"),
                     "echo", "10.0.0.2", "7", "1000000", "64"])
    g.wait_for(r"^echo: serving")
    g.proc.kill()
    g.proc.wait()
    peer.kill()
    g = Guest(ns, "kvm", "echo", ["service=tap0"], ["--ipv4=10.0.0.2/24"])
    g.wait_for(r"^echo: serving")
    r = peer_script(ns, "udp_burst.py", "echo", "10.0.0.2", 7, 1000, 16)
    assert r.returncode == 0, r.stdout + r.stderr
    assert g.stop() == 0


def test_a_kernel_without_io_uring_falls_back(ns):
    ns.tap("tap0", "10.0.0.1/24")
    g = Guest(ns, "kvm", "echo", [], argv=[
        NO_URING, MONITOR, "--net", "service=tap0", image("kvm", "echo"),
        "--ipv4=10.0.0.2/24"])
    g.wait_for(r"^echo: serving")
    r = peer_script(ns, "udp_burst.py", "echo", "10.0.0.2", 7, 2000, 16)
    assert r.returncode == 0, r.stdout + r.stderr
    assert g.stop() == 0
    err = "\n".join(g.err)
    assert "net: io_uring not available (kernel.io_uring_disabled?) (error 38)" in err, err
    assert "reads and writes in" not in err, err


@pytest.mark.parametrize("mode,why", BROKEN)
def test_a_broken_rule_stops_the_guest_without_io_uring(ns, mode, why):
    ns.tap("ring0")
    g = Guest(ns, "kvm", "bad_ring", ["service=ring0"], [mode], test=True,
              mon_args=["--no-io-uring"])
    rc = finish(g)
    err = "\n".join(g.err)
    assert rc == EXIT_STOPPED, (rc, g.out, err)
    assert why in err, err
