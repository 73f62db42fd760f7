"""The packet pool under pressure: apps/http with more pipelined requests
held for it than its pool has packets, and an application that reads the
next request only once it has answered the one before.

150 keep-alive connections with an MSS of 600 (a packet per segment: the
guest copies only segments of up to 512 bytes into the one before) each
send 500 pipelined GETs at once and read the answers as they come.  The
receive windows alone (16 KiB each, in 28 packets) would take more than
the pool's 4,096 packets; held data must then be shed (counted, the peer
sends it again) and the writers must still get packets, since only their
answers let the requests be read.  Every request is answered, new
connections are served afterwards, and the pool is back to its idle
level once the connections have closed.  Before the fix this wedged for
good: the receive queues held the pool, every writer waited for it, and
the guest slept (bench/RESULTS.md, "the overload stop").
"""
import re

import pytest

from qemu import ALL_TARGETS
from netns import PYTHON, Guest, Netns
from test_tcp import tcp_counters, wait_counters

GUEST = "10.0.0.2"
CONNS, REQUESTS = 300, 504

CLIENT = r"""
import selectors, socket, sys, time
conns, n, addr = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
req = b"GET /index.html HTTP/1.1\r\nHost: pressure\r\n\r\n"
chunk = len(req) * 14  # 630 bytes a segment
mark = b"HTTP/1.1 200 "
sel = selectors.DefaultSelector()
state = {}
for i in range(conns):
    s = socket.socket()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.connect((addr, 80))
    s.setblocking(False)
    state[s] = [req * n, 0, b""]  # to send, answers seen, tail of the input
    sel.register(s, selectors.EVENT_READ)
# Each connection's requests in segments of their own, round after round,
# faster than the guest answers them.
while any(st[0] for st in state.values()):
    for s, st in state.items():
        try:
            st[0] = st[0][s.send(st[0][:chunk]):] if st[0] else st[0]
        except BlockingIOError:
            pass
    for key, ev in sel.select(0):
        s, st = key.fileobj, state[key.fileobj]
        buf = st[2] + s.recv(1 << 20)
        st[1] += buf.count(mark)
        st[2] = buf[-(len(mark) - 1):]
deadline = time.monotonic() + 40
left = {s for s, st in state.items() if st[1] < n}
while left and time.monotonic() < deadline:
    for key, ev in sel.select(1):
        s, st = key.fileobj, state[key.fileobj]
        data = s.recv(1 << 20)
        buf = st[2] + data
        st[1] += buf.count(mark)
        st[2] = buf[-(len(mark) - 1):]
        if not data or st[1] == n:
            sel.unregister(s)
            left.discard(s)
answered = sum(st[1] for st in state.values())
print(f"answered={answered} of {conns * n}", flush=True)
for s in state:
    s.close()
"""

@pytest.mark.parametrize("target", ALL_TARGETS)
def test_pool_pressure_sheds_and_recovers(target):
    ns = Netns()
    try:
        ns.tap("tap0", "10.0.0.1/24")
        # Small writes leave as segments of their own, not corked together.
        ns.run(["sysctl", "-q", "net.ipv4.tcp_autocorking=0"])
        g = Guest(ns, target, "http", ["service=tap0"], [f"--ipv4={GUEST}/24"],
                  mon_args=["--mem", "256M"])
        g.wait_for(r"^http: serving")
        idle = tcp_counters(g)["pkts_in_use"]  # the RX ring's buffers
        r = ns.run([PYTHON, "-c", CLIENT, str(CONNS), str(REQUESTS), GUEST], timeout=90)
        assert r.returncode == 0, r.stdout + r.stderr
        assert f"answered={CONNS * REQUESTS} of" in r.stdout, r.stdout
        c = wait_counters(g, lambda c: c["established"] == 0 and c["pkts_in_use"] <= idle, 15)
        assert c["established"] == 0 and c["pkts_in_use"] <= idle, (idle, c)
        assert c["pkts_sndq"] == c["pkts_rcvq"] == c["pkts_ooq"] == 0, c
        # The pressure was real: held data was shed (and sent again).
        assert c.get("drop_no_memory", 0) + c.get("ooo_pruned", 0) > 0, c
        curl = ns.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time",
                       "5", f"http://{GUEST}/index.html"])
        assert curl.stdout == "200", curl.stdout + curl.stderr
        assert g.stop() == 0
        assert re.search(r"send_timeouts=0\b", "\n".join(g.out)), g.out[-12:]
    finally:
        ns.close()
