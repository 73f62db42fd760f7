"""TCP soak (make soak-tcp; not part of make test, which runs the same
checks smaller): 1 GiB each way, 1,000 connections at once, 100,000 one
after another, and a transfer across a 10-second outage, against
apps/tcpecho on each target, each in a namespace of its own."""
import subprocess
import threading
import time

import pytest

from conftest import ROOT, TARGETS
from netns import Netns
from test_tcp import GUEST_IP, peer, tcp_counters, tcpecho, wait_counters

BIG = ["CONFIG_SCHED_FIBERS_MAX=1100", "CONFIG_NET_TCP_CONNS=1200",
       "CONFIG_SCHED_TIMERS_MAX=2048"]


@pytest.fixture
def ns():
    n = Netns()
    yield n
    n.close()


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """tcpecho with room for 1,000 connections (a fiber each)."""
    out = tmp_path_factory.mktemp("soak") / "build"
    r = subprocess.run(["make", "-C", ROOT, f"BUILD={out}", *BIG,
                        f"{out}/hosted/tcpecho", f"{out}/kvm/tcpecho.kvm"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    return {"hosted": str(out / "hosted" / "tcpecho"),
            "kvm": str(out / "kvm" / "tcpecho.kvm")}


def leaves_nothing(g, start, opened):
    c = wait_counters(g, lambda c: c["established"] == 0 and c["conns_in_use"] == 0
                      and c["pkts_in_use"] <= start, 30)
    assert c["established"] == 0 and c["conns_in_use"] == 0, c
    assert c["pkts_in_use"] <= start, (start, c)
    assert c["conns_opened_passive"] == opened, c


@pytest.mark.parametrize("target", TARGETS)
def test_1gib_each_way_by_sha256(ns, target):
    g = tcpecho(ns, target)
    out = peer(ns, "echo", 1 << 30, timeout=900)
    assert out.split() == [str(1 << 30), "ok"], out
    assert g.stop() == 0


@pytest.mark.parametrize("target", TARGETS)
def test_1000_concurrent_connections(ns, target, big):
    g = tcpecho(ns, target, path=big[target], mon_args=["--mem", "128M"])
    start = tcp_counters(g)["pkts_in_use"]
    assert peer(ns, "concurrent", 1000, 20000, timeout=300).split() == ["bad", "0"]
    leaves_nothing(g, start, 1000)
    assert g.stop() == 0


@pytest.mark.parametrize("target", TARGETS)
def test_100000_sequential_connections(ns, target):
    # The client closes first, so each connection leaves a TIME_WAIT
    # behind on its side; a fast run would spend the 28,000 ephemeral
    # ports in under 60 s without reusing them (timestamps make it safe).
    ns.run(["sysctl", "-qw", "net.ipv4.tcp_tw_reuse=1"])
    g = tcpecho(ns, target)
    start = tcp_counters(g)["pkts_in_use"]
    assert peer(ns, "sequential", 100000, timeout=1800).split() == ["bad", "0"]
    leaves_nothing(g, start, 100000)
    assert g.stop() == 0


@pytest.mark.parametrize("target", TARGETS)
def test_a_transfer_lives_through_a_10_second_outage(ns, target):
    g = tcpecho(ns, target)
    result = {}

    def transfer():
        # A slow reader (2 ms per read of a 4 KiB buffer): the guest is
        # still sending when the link goes.
        result["out"] = peer(ns, "recv-slow", 8 << 20, 2, timeout=300)

    t = threading.Thread(target=transfer)
    t.start()
    time.sleep(1)
    ns.ip("link", "set", "tap0", "down")
    time.sleep(10)
    ns.ip("link", "set", "tap0", "up")
    t.join(300)
    assert result.get("out", "").split() == [str(8 << 20), "ok"], result
    c = tcp_counters(g)
    assert c.get("rto_timeouts", 0) > 0, c
    assert g.stop() == 0
