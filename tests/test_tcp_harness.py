"""The packet-level TCP harness (tests/tcp) against each target: Linux's
TCP always, as the reference the guest is judged against; apps/tcpecho on
the hosted target (over the no-root UDP backend), on kvm and QEMU microvm
(over a tap) once it is built, SKIPPED until then.  Each script runs in a
namespace of its own, with the target inside, deleted afterwards; the
harness is the only peer on the wire and nothing leaves the namespace.  The harness is
itself tested: its notation, the two links the ingot targets use (tried
on Linux), and negative controls it must fail."""
import os
import sys

import pytest

from conftest import BUILD
from netns import PYTHON, Guest, Netns
from qemu import ALL_TARGETS

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.path.join(HERE, "tcp", "run.py")
sys.path.insert(0, os.path.join(HERE, "tcp"))
import harness  # noqa: E402
import negative  # noqa: E402
import scripts  # noqa: E402

NAMES = list(scripts.SCRIPTS)
GUEST_MAC = "02:00:00:00:00:01"
GUEST_UDP, HARNESS_UDP = 5001, 5002  # the namespace's own 127.0.0.1


@pytest.fixture
def ns():
    n = Netns()
    yield n
    n.close()


def passed(r, name, guest=None):
    out = r.stdout + r.stderr
    if guest is not None:
        out += "\nguest stdout:\n" + "\n".join(guest.out) + "\nguest stderr:\n" + "\n".join(guest.err)
    assert r.returncode == 0 and r.stdout.startswith(f"PASS {name} "), out


def test_every_script_says_which_rfc():
    for name, fn in scripts.SCRIPTS.items():
        assert fn.__doc__ and "RFC" in fn.__doc__, name


def test_the_notation():
    seg = harness.Seg({"S", "."}, 0, 1, 65160,
                      [("mss", 1460), ("sackOK", None), ("TS", (7, 100)), ("nop", None),
                       ("wscale", 10)], b"")
    assert str(seg) == "S. 0:0(0) ack 1 win 65160 <mss 1460,sackOK,TS val 7 ecr 100,nop,wscale 10>"
    assert harness.mismatches(harness.Spec(str(seg)), seg) == []
    assert harness.mismatches(harness.Spec("S. 0:0(0) ack 1 <wscale *,mss *,TS val * ecr 100,sackOK>"), seg) == []
    assert harness.mismatches(harness.Spec("S. 0:0(0) ack 2 <mss *>"), seg) == [
        "ack 1, not 2", "an unexpected sackOK option", "an unexpected TS option",
        "an unexpected wscale option"]
    assert harness.mismatches(harness.Spec("S 0:0(0)"), seg) == ["flags differ"]
    data = harness.Seg({"P", "."}, 1, 6, 512, [("nop", None), ("nop", None),
                                               ("sack", ((101, 201), (301, 401)))], b"x" * 10)
    assert harness.mismatches(harness.Spec(". 1:11(10) ack 6 <sack 101:201 301:401>"), data) == []
    assert harness.mismatches(harness.Spec(". 1:11(10) ack 6 <sack 301:401 101:201>"), data) == [
        "sack ((101, 201), (301, 401)), not ((301, 401), (101, 201))"]
    with pytest.raises(ValueError, match="README"):
        harness.Spec("SYN seq 0")


@pytest.mark.parametrize("name", NAMES)
def test_linux(ns, name):
    passed(ns.run([PYTHON, RUN, "--target", "linux", name], timeout=60), name)


LINK_SCRIPTS = ["handshake_options", "out_of_order_sack", "zero_window_probes",
                "simultaneous_close"]


@pytest.mark.parametrize("via", ["packet", "udp"])
def test_linux_over_the_ingot_links(ns, via):
    """Scripts of options, SACK blocks, timing and closing over the paths
    the ingot targets take: a packet socket on a tap another process holds
    (kvm), UDP on 127.0.0.1 (hosted), with a relay in the harness standing
    in for the guest's host side."""
    r = ns.run([PYTHON, RUN, "--target", "linux", "--via", via, *LINK_SCRIPTS], timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert [l.split()[1] for l in r.stdout.splitlines() if l.startswith("PASS ")] == \
        LINK_SCRIPTS, r.stdout


def test_negative_controls_fail_and_say_why(ns):
    r = ns.run([PYTHON, RUN, "--target", "linux", "--module", "negative"], timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    blocks = {}
    for block in ("\n" + r.stdout).split("\nFAIL ")[1:]:
        name = block.split()[0]
        blocks[name] = block
    assert sorted(blocks) == sorted(negative.SCRIPTS), r.stdout
    for name, fragments in negative.MESSAGES.items():
        for f in fragments:
            assert f in blocks[name], (name, f, blocks[name])
        assert "  trace:" in blocks[name], blocks[name]


def tcpecho_image(target):
    if target == "kvm":
        return os.path.join(BUILD, "kvm", "tcpecho.kvm")
    if target == "virtio":
        return os.path.join(BUILD, "virtio", "tcpecho.virtio")
    return os.path.join(BUILD, "hosted", "tcpecho")


@pytest.mark.parametrize("target", ALL_TARGETS)
@pytest.mark.parametrize("name", NAMES)
def test_ingot(ns, target, name):
    path = tcpecho_image(target)
    if not os.path.exists(path):
        pytest.skip(f"SKIPPED: apps/tcpecho not built yet ({path} is missing)")
    if target in ("kvm", "virtio"):
        # No IPv6 chatter from the kernel onto the guest's wire.
        ns.run(["sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1"])
        ns.tap("tcp0")
        # The harness reads the wire: frames as they leave the guest,
        # whole and with their checksums (no TSO, no checksum offload;
        # on QEMU, a tap without the virtio-net header).
        nets, link = [f"service=tcp0,mac={GUEST_MAC},offload=off"], "packet:tcp0"
    else:
        nets = [f"service=udp:{GUEST_UDP}:{HARNESS_UDP},mac={GUEST_MAC}"]
        link = f"udp:{HARNESS_UDP}:{GUEST_UDP}"
    g = Guest(ns, target, "tcpecho", nets, ["--ipv4=10.0.0.1/24"])
    try:
        r = ns.run([PYTHON, RUN, "--target", "ingot", "--link", link, name], timeout=90)
    finally:
        rc = g.stop()
    passed(r, name, g)
    assert rc == 0, (g.out, g.err)
