"""A SYN flood (hping3, from random sources, bounded in time, inside a
namespace the test creates) against apps/tcpecho while legitimate clients
connect and move data: with the backlog full, SYNs are answered with SYN
cookies (RFC 4987) and no state, so every legitimate connection opens and
completes, and nothing of the flood stays behind."""
import re
import subprocess

import pytest

from conftest import TARGETS
from netns import PYTHON, Guest, Netns

CLIENTS = r"""
import os, socket, sys
ok = 0
for i in range(20):
    data = os.urandom(100000)
    s = socket.create_connection(("10.0.0.2", 7), timeout=5)
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    s.close()
    ok += got == data
print("echoed", ok)
"""


def tcp_counters(out):
    found = {}
    for line in out:
        for k, v in re.findall(r"(\w+)=(\d+)", line):
            found[k] = int(v)
    return found


@pytest.mark.parametrize("target", TARGETS)
def test_syn_flood_leaves_room_for_real_clients(target):
    ns = Netns()
    try:
        ns.tap("tap0", "10.0.0.1/24")
        g = Guest(ns, target, "tcpecho", ["service=tap0"], ["--ipv4=10.0.0.2/24"])
        g.wait_for(r"^tcpecho: serving")
        flood = ns.popen(["timeout", "6", "hping3", "--flood", "-S", "-p", "7",
                          "--rand-source", "10.0.0.2"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        r = ns.run([PYTHON, "-c", CLIENTS], timeout=60)
        flooding = flood.poll() is None
        flood.wait(15)
        assert flooding, "the flood ended before the clients did"
        assert r.returncode == 0 and "echoed 20" in r.stdout, r.stdout + r.stderr
        assert g.stop() == 0
        c = tcp_counters(g.out)
        assert c["listen_overflow"] > 1000 and c["syn_cookies_sent"] > 1000, c
        assert c["syn_cookies_accepted"] >= 1, c
        assert c["established"] == 0, c
    finally:
        ns.close()
