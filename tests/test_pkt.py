"""lib/net's packet buffers: misuse stops the guest (tests/guest/pkt_misuse.c).

Hosted only: the pool exists when a network device is attached, and the
hosted target attaches one without privilege (frames in UDP datagrams on
127.0.0.1; this test sends none).  The fuzz harness checks the other half
of the contract, that the stack gives every buffer back (tests/fuzz)."""
import os

import pytest

from conftest import EXIT_ABORT, boot


def misuse(case):
    port = 30000 + os.getpid() % 20000
    return boot("hosted", "pkt_misuse", [case, "--ipv4=10.99.0.2/24"], test=True,
                mon_args=["--net", f"service=udp:{port}:{port + 1}"])


def test_proper_use_returns_every_buffer():
    r = misuse("none")
    assert r.rc == 0, r


@pytest.mark.parametrize("case, check", [
    ("double-free", "!m->free"),
    ("foreign", "from_pool(p)"),
    ("push", "n <= pkt_headroom(p)"),
    ("pull", "n <= p->len"),
])
def test_misuse_is_caught(case, check):
    r = misuse(case)
    assert r.rc == EXIT_ABORT, r
    assert "survived" not in r.out, r
    assert f"assertion failed: {check} (lib/net/pkt.c:" in r.err, r
