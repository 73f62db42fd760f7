"""lib/net's TCP against Linux peers, through apps/tcpecho (echo on port 7,
discard on 9, a sender on 19): payloads echoed byte for byte, 100 MiB each
way by sha256, 200 concurrent and 2000 sequential connections with the
guest's connection counters back to zero, transfers through netem loss and
reordering, refused ports, and the guest connecting out to a Linux
listener.  Each test makes its own network namespace (tests/netns.py), on
each target (conftest.TARGETS, and QEMU: tests/qemu.py)."""
import hashlib
import re
import subprocess
import time

import pytest

from conftest import ROOT
from netns import PYTHON, Guest, Netns
from qemu import ALL_TARGETS as ALL
from qemu import VIRTIO, VIRTIO_Q35

# q35, whose SeaBIOS adds seconds to each boot: for a test each way.

GUEST_IP = "10.0.0.2"
HOST_IP = "10.0.0.1"
GUEST_MAC = "02:00:00:00:00:02"

# The Linux side: one script, run in the namespace with a mode.
PEER = r'''
import hashlib, os, selectors, socket, sys, threading, time

def pattern(n):
    base = bytes(i % 251 for i in range(251 * 256))
    return (base * (n // len(base) + 1))[:n]

def payload(size, seed):
    block = hashlib.sha256(b"%d" % seed).digest() * 2048
    return (block * (size // len(block) + 1))[:size]

def echo(addr, size, seed, read_after=0):
    data = payload(size, seed)
    s = socket.create_connection((addr, 7), timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    err = []
    def writer():
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except Exception as e:
            err.append(e)
    t = threading.Thread(target=writer)
    t.start()
    time.sleep(read_after)
    h, got = hashlib.sha256(), 0
    while True:
        d = s.recv(1 << 16)
        if not d:
            break
        got += len(d)
        h.update(d)
    t.join()
    s.close()
    if err:
        return f"send error {err[0]!r}"
    if got != size:
        return f"got {got} of {size}"
    return "ok" if h.digest() == hashlib.sha256(data).digest() else "corrupt"

def recv19(addr, size, slow=0):
    s = socket.create_connection((addr, 19), timeout=30)
    if slow:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b"%d\n" % size)
    h, got = hashlib.sha256(), 0
    while True:
        if slow:
            time.sleep(slow / 1000)
        d = s.recv(1 << 16)
        if not d:
            break
        got += len(d)
        h.update(d)
    s.close()
    if got != size:
        return f"got {got} of {size}"
    return "ok" if h.digest() == hashlib.sha256(pattern(size)).digest() else "corrupt"

def concurrent(addr, n, size):
    socks = [socket.create_connection((addr, 7), timeout=30) for _ in range(n)]
    data = [payload(size, i) for i in range(n)]
    for s, d in zip(socks, data):
        s.sendall(d)
    bad = 0
    for s, d in zip(socks, data):
        got = b""
        while len(got) < size:
            c = s.recv(size - len(got))
            if not c:
                break
            got += c
        bad += got != d
    for s in socks:
        s.close()
    return f"bad {bad}"

def sequential(addr, n):
    bad = 0
    for i in range(n):
        s = socket.create_connection((addr, 7), timeout=10)
        s.sendall(b"x%d" % i)
        got = s.recv(100)
        bad += got != b"x%d" % i
        s.close()
    return f"bad {bad}"

def unread(addr):
    # Port 19 reads its line, finds no number, closes with the rest unread.
    s = socket.create_connection((addr, 19), timeout=10)
    s.sendall(b"nonsense\n" + b"x" * 1000)
    try:
        while s.recv(65536):
            pass
    except ConnectionResetError:
        return "reset"
    return "closed"

def refused(addr, port):
    try:
        socket.create_connection((addr, port), timeout=5)
    except ConnectionRefusedError:
        return "refused"
    return "connected"

mode, addr, args = sys.argv[1], sys.argv[2], [int(a) for a in sys.argv[3:]]
if mode == "echo":
    for i, n in enumerate(args):
        print(n, echo(addr, n, i), flush=True)
elif mode == "echo-late":
    print(args[0], echo(addr, args[0], 0, args[1]), flush=True)
elif mode == "recv":
    for n in args:
        print(n, recv19(addr, n), flush=True)
elif mode == "recv-slow":
    print(args[0], recv19(addr, args[0], args[1]), flush=True)
elif mode == "concurrent":
    print(concurrent(addr, *args))
elif mode == "sequential":
    print(sequential(addr, *args))
elif mode == "unread":
    print(unread(addr))
elif mode == "refused":
    print(refused(addr, *args))
'''

# A Linux echo listener for the guest's --connect.
LISTENER = r'''
import socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(1)
print("listening", flush=True)
c, _ = l.accept()
while True:
    d = c.recv(65536)
    if not d:
        break
    c.sendall(d)
c.close()
'''


@pytest.fixture
def ns():
    n = Netns()
    yield n
    n.close()


def tcpecho(ns, target, args=(), path=None, mon_args=()):
    ns.tap("tap0", f"{HOST_IP}/24")
    g = Guest(ns, target, "tcpecho", [f"service=tap0,mac={GUEST_MAC}"],
              [f"--ipv4={GUEST_IP}/24", *args], path=path, mon_args=mon_args)
    g.wait_for(r"^tcpecho: serving TCP ports 7 9 19")
    return g


def peer(ns, mode, *args, timeout=60):
    r = ns.run([PYTHON, "-c", PEER, mode, GUEST_IP, *map(str, args)],
               timeout=timeout)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def tcp_counters(g):
    """TCP's counters from a report (SIGUSR1): its block follows the
    interface's, and Guest.counters() returns once the report is whole."""
    start = len(g.out)
    g.counters()
    with g.cond:
        lines = g.out[start:]
    i = next(i for i, l in enumerate(lines) if l.startswith("tcp: counters:"))
    counts = {}
    for line in lines[i + 1:]:
        if not line.startswith(" "):
            break
        counts.update({k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)})
    return counts


def wait_counters(g, cond, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        c = tcp_counters(g)
        if cond(c) or time.monotonic() > deadline:
            return c
        time.sleep(0.2)


def all_ok(out, n):
    lines = out.splitlines()
    assert len(lines) == n and all(l.endswith(" ok") for l in lines), out


SIZES = [0, 1, 7, 536, 1448, 1460, 1461, 4096, 65535, 65536, 100000, 1 << 20]


@pytest.mark.parametrize("target", [*ALL, VIRTIO_Q35])
def test_echo_0_to_1mib_byte_for_byte(ns, target):
    g = tcpecho(ns, target)
    all_ok(peer(ns, "echo", *SIZES), len(SIZES))
    all_ok(peer(ns, "recv", 0, 1, 1460, 1461, 1 << 20), 5)
    c = wait_counters(g, lambda c: c["established"] == 0)
    assert c["established"] == 0 and c["conns_opened_passive"] == len(SIZES) + 5, c
    assert g.stop() == 0


@pytest.mark.parametrize("target", ALL)
def test_100mib_each_way_by_sha256(ns, target):
    g = tcpecho(ns, target)
    all_ok(peer(ns, "echo", 100 << 20, timeout=60), 1)
    all_ok(peer(ns, "recv", 100 << 20, timeout=60), 1)
    assert g.stop() == 0


@pytest.mark.parametrize("target", ALL)
def test_windows_shut_and_reopen(ns, target):
    """Both ways a window closes: the guest's, while its echo waits for a
    Linux client that does not read yet (the guest must announce the
    window again when it reads: mirage-tcpip#340), and Linux's, while a
    slow reader takes the sender's bytes (the guest probes it)."""
    g = tcpecho(ns, target)
    all_ok(peer(ns, "echo-late", 8 << 20, 1), 1)
    all_ok(peer(ns, "recv-slow", 300000, 20), 1)
    c = tcp_counters(g)
    assert c["established"] == 0, c
    assert g.stop() == 0


@pytest.mark.parametrize("target", ALL)
def test_200_concurrent_connections(ns, target):
    g = tcpecho(ns, target)
    start = tcp_counters(g)["pkts_in_use"]
    assert peer(ns, "concurrent", 200, 20000).split() == ["bad", "0"]
    c = wait_counters(g, lambda c: c["established"] == 0 and c["conns_in_use"] == 0
                      and c["pkts_in_use"] <= start)
    assert c["established"] == 0 and c["conns_in_use"] == 0, c
    assert c["pkts_in_use"] <= start, (start, c)  # start: the RX ring, a frame in flight
    assert c["conns_opened_passive"] == 200, c
    assert g.stop() == 0


@pytest.mark.parametrize("target", ALL)
def test_2000_sequential_connections_leave_nothing_behind(ns, target):
    g = tcpecho(ns, target)
    start = tcp_counters(g)["pkts_in_use"]
    assert peer(ns, "sequential", 2000, timeout=80).split() == ["bad", "0"]
    c = wait_counters(g, lambda c: c["established"] == 0 and c["conns_in_use"] == 0
                      and c["pkts_in_use"] <= start)
    assert c["established"] == 0 and c["conns_in_use"] == 0, c
    assert c["pkts_in_use"] <= start, (start, c)  # start: the RX ring, a frame in flight
    assert c["conns_opened_passive"] == 2000, c
    # SYN-ACK, the echo, and the FIN carrying the ACK of the peer's FIN
    # (the echo closes at once): three segments each, retransmissions aside.
    assert c["segs_out"] - c.get("retransmits", 0) == 3 * 2000, c
    assert g.stop() == 0


# netem is not in every kernel (not in this machine's): the wire between
# the guest and Linux is then this relay, between the guest's UDP backend
# and a tap it holds open, dropping, delaying and reordering frames as
# netem's loss, delay and reorder options do.
WIRE = r'''
import fcntl, heapq, os, random, select, socket, struct, sys, time
tap, lport, rport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
loss, delay, reorder = float(sys.argv[4]), float(sys.argv[5]) / 1000, float(sys.argv[6])
rnd = random.Random(int(sys.argv[7]))
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", tap.encode(), 0x0002 | 0x1000))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", lport))
print("wire up", flush=True)
held, n = [], 0
def out(to_tap, frame):
    if to_tap:
        os.write(fd, frame)
    else:
        u.sendto(frame, ("127.0.0.1", rport))
while True:
    now = time.monotonic()
    while held and held[0][0] <= now:
        _, _, to_tap, frame = heapq.heappop(held)
        out(to_tap, frame)
    wait = max(0, held[0][0] - now) if held else 1.0
    for r in select.select([fd, u], [], [], wait)[0]:
        to_tap = r is u
        frame = u.recv(65536) if to_tap else os.read(fd, 65536)
        if rnd.random() < loss:
            continue
        if delay and rnd.random() >= reorder:
            n += 1
            heapq.heappush(held, (time.monotonic() + delay, n, to_tap, frame))
        else:
            out(to_tap, frame)
'''


def tcpecho_on_wire(ns, target, loss=0.0, delay_ms=0, reorder=0.0, path=None):
    """tcpecho behind WIRE: its UDP backend on 127.0.0.1 inside the
    namespace, the relay holding tap0."""
    ns.tap("tap0", f"{HOST_IP}/24")
    wire = ns.popen([PYTHON, "-c", WIRE, "tap0", "5000", "5001", str(loss),
                     str(delay_ms), str(reorder), "1"],
                    stdout=subprocess.PIPE, text=True)
    assert wire.stdout.readline().strip() == "wire up"
    g = Guest(ns, target, "tcpecho", [f"service=udp:5001:5000,mac={GUEST_MAC}"],
              [f"--ipv4={GUEST_IP}/24"], path=path)
    g.wait_for(r"^tcpecho: serving TCP ports 7 9 19")
    return g


@pytest.fixture(scope="module")
def newreno(tmp_path_factory):
    """tcpecho built with NewReno (CONFIG_NET_TCP_CC=1; CUBIC is the
    default), hosted, in a build directory of its own."""
    out = tmp_path_factory.mktemp("newreno") / "build"
    r = subprocess.run(["make", "-C", ROOT, f"BUILD={out}", "CONFIG_NET_TCP_CC=1",
                        f"{out}/hosted/tcpecho"], capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    return str(out / "hosted" / "tcpecho")


@pytest.mark.parametrize("target,cc", [
    pytest.param("hosted", "cubic", id="hosted-cubic"),
    pytest.param("kvm", "cubic", id="kvm-cubic", marks=pytest.mark.kvm),
    pytest.param("virtio", "cubic", id="virtio-cubic", marks=VIRTIO.marks),
    pytest.param("hosted", "newreno", id="hosted-newreno"),
])
def test_transfers_through_5_percent_loss(ns, target, cc, request):
    path = request.getfixturevalue("newreno") if cc == "newreno" else None
    g = tcpecho_on_wire(ns, target, loss=0.05, path=path)
    all_ok(peer(ns, "echo", 256 << 10, 10000, timeout=60), 2)
    all_ok(peer(ns, "recv", 256 << 10, timeout=60), 1)
    c = tcp_counters(g)
    assert c.get("retransmits", 0) > 0 and c.get("fast_retransmits", 0) > 0, c
    assert g.stop() == 0


@pytest.mark.parametrize("target", ALL)
def test_transfers_through_delay_and_reordering(ns, target):
    g = tcpecho_on_wire(ns, target, delay_ms=50, reorder=0.25)
    all_ok(peer(ns, "echo", 256 << 10, timeout=60), 1)
    all_ok(peer(ns, "recv", 256 << 10, timeout=60), 1)
    c = tcp_counters(g)
    assert c.get("ooo_queued", 0) > 0, c
    assert g.stop() == 0


@pytest.mark.parametrize("target", ALL)
def test_keepalive_gives_up_on_a_silent_peer(ns, target):
    """tcp_set_keepalive (tcpecho --keepalive): a connection whose peer
    falls silent (the tap goes down under it) is probed and then reset;
    one whose peer answers the probes stays."""
    g = tcpecho(ns, target, ["--keepalive=300,200,3"])
    hold = ns.popen([PYTHON, "-c", "import socket, time\n"
                     f"s = socket.create_connection(('{GUEST_IP}', 9))\n"
                     "print('up', flush=True)\ntime.sleep(60)\n"],
                    stdout=subprocess.PIPE, text=True)
    assert hold.stdout.readline().strip() == "up"
    c = wait_counters(g, lambda c: c.get("keepalive_probes", 0) >= 2, 5)
    assert c.get("keepalive_probes", 0) >= 2 and c.get("established") == 1, c
    ns.ip("link", "set", "tap0", "down")
    c = wait_counters(g, lambda c: c.get("established") == 0, 5)
    assert c.get("established") == 0, c
    hold.kill()
    assert g.stop() == 0


@pytest.mark.parametrize("target", ALL)
def test_closed_port_is_refused(ns, target):
    g = tcpecho(ns, target)
    assert peer(ns, "refused", 8).strip() == "refused"
    c = tcp_counters(g)
    assert c["drop_no_conn"] >= 1 and c["resets_sent"] >= 1, c
    assert g.stop() == 0


@pytest.mark.parametrize("target", ALL)
def test_close_with_unread_data_resets(ns, target):
    """As Linux does: closing with received bytes unread sends an RST, so
    the peer learns they were not taken."""
    g = tcpecho(ns, target)
    assert peer(ns, "unread").strip() == "reset"
    c = wait_counters(g, lambda c: c["conns_in_use"] == 0)
    assert c["conns_reset_out"] == 1 and c["conns_in_use"] == 0, c
    assert g.stop() == 0


@pytest.mark.parametrize("target", [*ALL, VIRTIO_Q35])
def test_guest_connects_out_to_linux(ns, target):
    ns.tap("tap0", f"{HOST_IP}/24")
    lst = ns.popen([PYTHON, "-c", LISTENER, HOST_IP, "7000"], stdout=subprocess.PIPE,
                   text=True)
    assert lst.stdout.readline().strip() == "listening"
    g = Guest(ns, target, "tcpecho", [f"service=tap0,mac={GUEST_MAC}"],
              [f"--ipv4={GUEST_IP}/24", f"--connect={HOST_IP}:7000"])
    line = g.wait_for(r"^tcpecho: connect ", timeout=20)
    h = 2166136261
    for i in range(100000):
        h = ((h ^ (i % 251)) * 16777619) & 0xffffffff
    assert line == f"tcpecho: connect sent 100000 got 100000 bytes fnv {h:08x}", line
    c = tcp_counters(g)
    assert c["conns_opened_active"] == 1, c
    assert g.stop() == 0


@pytest.mark.parametrize("target", ALL)
def test_guest_connecting_to_a_closed_port_is_refused(ns, target):
    ns.tap("tap0", f"{HOST_IP}/24")
    g = Guest(ns, target, "tcpecho", [f"service=tap0,mac={GUEST_MAC}"],
              [f"--ipv4={GUEST_IP}/24", f"--connect={HOST_IP}:7001"])
    line = g.wait_for(r"^tcpecho: connect ", timeout=20)
    assert line.startswith("tcpecho: connect failed: ") and "refused" in line, line
    c = tcp_counters(g)
    assert c["conns_refused"] == 1 and c["conns_in_use"] == 0, c
    assert g.stop() == 0
