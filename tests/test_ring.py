"""The network rings' rules (abi.h, "Network devices") enforced by the host
on both targets: a guest that breaks one (tests/guest/bad_ring.c) is
stopped with the rule's message, never served; a well-formed frame in
pieces with checksum offload reaches the wire whole; offloads the host did
not offer are refused at attach.  Each case in a namespace of its own, on
a tap device (which offers checksum offload and TSO) or the UDP backend
(which offers none)."""
import subprocess

import pytest

from conftest import EXIT_STOPPED, TARGETS
from netns import PYTHON, Guest, Netns

BROKEN = [
    ("index", "network ring index out of range"),
    ("chain_past_avail", "chained past its ring"),
    ("chain_long", "chained past its ring or INGOT_NET_CHAIN_MAX"),
    ("not_taken", "offloads not taken"),
    ("offload_later", "offloads past its first slot"),
    ("csum_outside", "checksum offload outside its frame"),
    ("tso_no_csum", "TSO frame without its checksum"),
    ("too_long", "frame length out of range"),
    ("tso_too_long", "frame length out of range"),
    ("outside", "outside guest memory"),
    ("empty_piece", "frame length out of range"),
    ("rx_small", "receive buffer smaller than a frame"),
]


@pytest.fixture
def ns():
    n = Netns()
    yield n
    n.close()


def finish(g, timeout=20):
    rc = g.proc.wait(timeout=timeout)
    for t in g.readers:
        t.join(timeout=5)
    return rc


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("mode,why", BROKEN)
def test_a_broken_rule_stops_the_guest(ns, target, mode, why):
    ns.tap("ring0")
    g = Guest(ns, target, "bad_ring", ["service=ring0"], [mode], test=True)
    rc = finish(g)
    err = "\n".join(g.err)
    assert rc == EXIT_STOPPED, (rc, g.out, err)
    assert why in err, err
    assert not any("still running" in line for line in g.out), g.out


CAPTURE = r"""
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind(("ring0", 0))
s.settimeout(15)
print("ready", flush=True)
while True:
    f = s.recv(65536)
    if f[6:12] == b"\x02" * 6:
        print(f.hex(), flush=True)
        break
"""


@pytest.mark.parametrize("target", TARGETS)
def test_a_frame_in_pieces_reaches_the_wire_whole(ns, target):
    ns.tap("ring0")
    cap = ns.popen([PYTHON, "-c", CAPTURE], stdout=subprocess.PIPE, text=True)
    assert cap.stdout.readline().strip() == "ready"
    g = Guest(ns, target, "bad_ring", ["service=ring0"], ["valid"], test=True)
    rc = finish(g)
    assert rc == 0, (rc, g.out, g.err)
    out, _ = cap.communicate(timeout=20)
    assert out.strip(), "the frame never reached the tap"
    frame = bytes.fromhex(out.strip())
    want = bytes([0xff] * 6 + [0x02] * 6 + [0x08, 0x00]) + bytes(
        (i * 7) & 0xff for i in range(14, 1000))
    assert len(frame) == 1000, len(frame)
    # The checksum field (34 + 6) is the host's or the kernel's to fill.
    assert frame[:40] == want[:40] and frame[42:] == want[42:]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("backend,features,result", [
    ("udp:5101:5102", 1, -22),   # the UDP backend offers no offloads
    ("ring0", 2, -22),           # TSO without checksum offload
    ("ring0", 4, -22),           # no such offload
    ("ring0", 3, 0),             # both, offered by a tap
    ("ring0,offload=off", 1, -22),
])
def test_offloads_not_offered_are_refused_at_attach(ns, target, backend, features, result):
    ns.tap("ring0")
    g = Guest(ns, target, "bad_ring", [f"service={backend}"], [f"features={features}"],
              test=True)
    rc = finish(g)
    assert rc == 0, (rc, g.out, g.err)
    assert f"attach: {result}" in g.out, g.out
