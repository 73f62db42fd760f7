"""lib/net against Linux peers: ping, arping, UDP echo from Python and socat,
DHCP from dnsmasq, two guests over a bridge and over the no-root backend,
hostile input from scapy, the ARP cache's bound under a flood of strangers,
frames shorter than a header.  Each test makes its own network namespace
(tests/netns.py), or uses only 127.0.0.1; nothing leaves this machine.
Counters are read after a barrier (a reply the guest can only send once it
has handled what came before), never after a pause."""
import collections
import os
import re
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import ROOT, TARGETS, image
from netns import PYTHON, Guest, Netns, NoNetns, peer_script

GUEST_IP = "10.0.0.2"
HOST_IP = "10.0.0.1"
GUEST_MAC = "02:00:00:00:00:02"


def build_option(name, app="echo"):
    """A CONFIG_ value as APP's libraries are built: include/ingot/options.h
    after apps/APP/options.h, as options.h says (the guest does not print
    its sizes).  An integer, or the test fails."""
    pre = []
    app_options = os.path.join(ROOT, "apps", app, "options.h")
    if os.path.exists(app_options):
        pre = ["-include", app_options]
    r = subprocess.run(["gcc", "-E", "-dM", "-I", os.path.join(ROOT, "include"), *pre,
                        os.path.join(ROOT, "include", "ingot", "options.h")],
                       capture_output=True, text=True, check=True)
    m = re.search(rf"^#define {name} (.+)$", r.stdout, re.M)
    assert m, f"{name} is not defined by options.h"
    expr = re.sub(r"(?<=\d)[uUlL]+\b", "", m.group(1))
    assert re.fullmatch(r"[\d\s()*+-]+", expr), f"{name} is {m.group(1)!r}"
    return int(eval(expr))


@pytest.fixture
def ns():
    n = Netns()
    yield n
    n.close()


def echo_guest(ns, target, args=(f"--ipv4={GUEST_IP}/24",), tap="tap0", addr=f"{HOST_IP}/24",
               mac=GUEST_MAC):
    ns.tap(tap, addr)
    g = Guest(ns, target, "echo", [f"service={tap},mac={mac}"], args)
    g.wait_for(r"^echo: serving UDP port 7")
    return g


def pin_guest_neighbour(ns, tap="tap0"):
    """The host's ARP entry for the guest, fixed: the host then never asks
    the guest for its address, so the guest's ARP counters move only by
    what a test sends."""
    ns.ip("neigh", "replace", GUEST_IP, "lladdr", GUEST_MAC, "dev", tap, "nud", "permanent")


def delta(after, before):
    """after - before, per counter; 0 for a counter neither printed (the
    guest prints only counters that are not zero)."""
    return collections.Counter({k: after.get(k, 0) - before.get(k, 0)
                                for k in set(after) | set(before)})


def ping(ns, *args):
    return ns.run(["ping", "-n", *args])


def received(ping_out):
    m = re.search(r"(\d+) packets transmitted, (\d+) received", ping_out)
    assert m, ping_out
    return int(m.group(1)), int(m.group(2))


@pytest.mark.parametrize("target", TARGETS)
def test_ping_1000_at_1ms_no_loss(ns, target):
    g = echo_guest(ns, target)
    r = ping(ns, "-c", "1000", "-i", "0.001", "-W", "1", GUEST_IP)
    assert received(r.stdout) == (1000, 1000), r.stdout
    c = g.counters()
    assert c["icmp_echo_replies"] == 1000, c
    assert g.stop() == 0


LEAVE_12_BYTE_HEADER = r'''
import fcntl, struct, sys
fd = open("/dev/net/tun", "r+b", buffering=0)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", sys.argv[1].encode(), 0x0002 | 0x1000 | 0x4000))
fcntl.ioctl(fd, 0x400454d8, struct.pack("i", 12))  # TUNSETVNETHDRSZ, as QEMU sets it
'''


@pytest.mark.parametrize("target", TARGETS)
def test_a_tap_left_with_another_header_size_still_works(ns, target):
    """The virtio-net header's size belongs to the tap device and outlives
    whoever set it (QEMU leaves 12 bytes): the host sets its own."""
    ns.tap("tap0", f"{HOST_IP}/24")
    r = ns.run([PYTHON, "-c", LEAVE_12_BYTE_HEADER, "tap0"])
    assert r.returncode == 0, r.stderr
    g = Guest(ns, target, "echo", [f"service=tap0,mac={GUEST_MAC}"], [f"--ipv4={GUEST_IP}/24"])
    g.wait_for(r"^echo: serving UDP port 7")
    r = ping(ns, "-c", "20", "-i", "0.01", "-W", "1", GUEST_IP)
    assert received(r.stdout) == (20, 20), r.stdout
    assert g.stop() == 0


@pytest.mark.parametrize("target", TARGETS)
def test_8000_byte_pings_are_fragmented_both_ways(ns, target):
    g = echo_guest(ns, target)
    r = ping(ns, "-c", "5", "-i", "0.2", "-s", "8000", "-W", "2", GUEST_IP)
    assert received(r.stdout) == (5, 5), r.stdout
    assert "8008 bytes from" in r.stdout
    c = g.counters()
    # 8028-byte datagrams: 6 fragments each at a 1500-byte MTU.
    assert c["ip_reassembled"] >= 5 and c["ip_frags_out"] >= 30, c
    assert g.stop() == 0


@pytest.mark.kvm
def test_arping_is_answered(ns):
    g = echo_guest(ns, "kvm")
    pin_guest_neighbour(ns)
    before = g.counters()
    r = ns.run(["arping", "-c", "3", "-i", "tap0", GUEST_IP])
    m = re.search(r"(\d+) packets transmitted, (\d+) packets received", r.stdout)
    assert m and (int(m.group(1)), int(m.group(2))) == (3, 3), r.stdout
    assert GUEST_MAC in r.stdout, r.stdout
    assert delta(g.counters(), before)["arp_replies_sent"] == 3
    assert g.stop() == 0


SIZES = [0, 1, 7, 100, 1472, 1473, 1480, 2000, 8000, 30000, 65507]


@pytest.mark.parametrize("target", TARGETS)
def test_udp_echo_from_python_0_to_65507_bytes(ns, target):
    g = echo_guest(ns, target)
    r = peer_script(ns, "udp_echo_check.py", GUEST_IP, 7, *SIZES)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count(": ok") == len(SIZES), r.stdout
    c = g.counters()
    assert c["udp_in"] >= len(SIZES) and c["udp_out"] >= len(SIZES), c
    assert g.stop() == 0


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("size", [1, 5000, 65507])
def test_udp_echo_from_socat(ns, target, size):
    """socat sends one datagram per read of its input, and nothing at all
    for empty input: the empty datagram is the next test's."""
    g = echo_guest(ns, target)
    payload = os.urandom(size)
    r = subprocess.run(ns.argv(["socat", "-b", "65536", "-T", "2", "-",
                                f"UDP:{GUEST_IP}:7"]),
                       input=payload, capture_output=True, timeout=30)
    assert r.stdout == payload, (len(r.stdout), r.stderr)
    assert g.stop() == 0


EMPTY_ECHO = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"", (sys.argv[1], 7))
data, src = s.recvfrom(65536)
print(len(data), src[0], src[1])
"""


@pytest.mark.parametrize("target", TARGETS)
def test_udp_echo_of_an_empty_datagram(ns, target):
    """One zero-length datagram, sent once: it comes back empty from port
    7, and the guest counts exactly one datagram in and one out."""
    g = echo_guest(ns, target)
    pin_guest_neighbour(ns)
    # The guest learns the host's address first, so the one datagram is
    # not queued behind an ARP exchange.
    assert received(ping(ns, "-c", "1", "-W", "2", GUEST_IP).stdout) == (1, 1)
    before = g.counters()
    r = ns.run([PYTHON, "-c", EMPTY_ECHO, GUEST_IP], timeout=30)
    assert r.returncode == 0, r.stderr  # a timeout is a traceback here
    assert r.stdout.split() == ["0", GUEST_IP, "7"], r.stdout
    d = delta(g.counters(), before)
    assert d["udp_in"] == 1 and d["udp_out"] == 1, d
    assert g.stop() == 0


def wait_until(cond, timeout, what, alive=lambda: True):
    """Polls cond() until it holds, for at most timeout seconds; fails
    early when alive() says the awaited process has gone."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert alive(), f"gone while waiting for {what}"
        assert time.monotonic() < deadline, f"no {what} in {timeout} s"
        time.sleep(0.02)  # the poll interval, not a guess at readiness


def udp_listening(ns, port):
    r = ns.run(["ss", "-H", "-u", "-l", "-n", f"sport = :{port}"])
    return r.returncode == 0 and r.stdout.strip() != ""


def lease_file(path):
    """[MAC, ADDRESS] of each lease in a dnsmasq lease file."""
    with open(path) as f:
        return [line.split()[1:3] for line in f if line.strip()]


@pytest.mark.kvm
def test_dhcp_from_dnsmasq_and_renewal(ns):
    ns.tap("tap0", f"{HOST_IP}/24")
    leases = tempfile.NamedTemporaryFile(prefix="ingot-dnsmasq-", delete=False)
    leases.close()
    dnsmasq = ns.popen(["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0",
                        "--interface=tap0", "--bind-interfaces", "--no-ping",
                        f"--dhcp-leasefile={leases.name}",
                        "--dhcp-range=10.0.0.50,10.0.0.60,255.255.255.0,2m",
                        f"--dhcp-option=option:router,{HOST_IP}",
                        # Renew after 3 s (T1), rebind after 100 s (T2), so
                        # the test sees a renewal without a long wait.
                        "--dhcp-option=58,3", "--dhcp-option=59,100"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: udp_listening(ns, 67), 10, "dnsmasq listening on port 67",
                   lambda: dnsmasq.poll() is None)
        g = Guest(ns, "kvm", "echo", [f"service=tap0,mac={GUEST_MAC}"], ["--ipv4=dhcp"])
        line = g.wait_for(r"^net: service 10\.0\.0\.\d+ netmask 255\.255\.255\.0 "
                          r"gateway 10\.0\.0\.1 \(DHCP from 10\.0\.0\.1", timeout=20)
        addr = line.split()[2]
        assert 50 <= int(addr.rsplit(".", 1)[1]) <= 60, line
        # dnsmasq's own record of the lease: "EXPIRY MAC ADDRESS ...".
        wait_until(lambda: [GUEST_MAC, addr] in lease_file(leases.name), 10,
                   f"a lease for {GUEST_MAC} {addr} in {leases.name}")
        r = ping(ns, "-c", "3", "-i", "0.2", "-W", "2", addr)
        assert received(r.stdout) == (3, 3), r.stdout
        g.wait_for(rf"^net: service renewed {re.escape(addr)}", timeout=20)
        c = g.counters()
        assert c["dhcp_offers"] == 1 and c["dhcp_acks"] >= 2 and c["dhcp_renewals"] >= 1, c
        assert g.stop() == 0
    finally:
        dnsmasq.terminate()
        dnsmasq.wait(10)
        os.unlink(leases.name)


@pytest.mark.kvm
def test_two_guests_over_a_linux_bridge(ns):
    ns.ip("link", "add", "br0", "type", "bridge")
    ns.ip("link", "set", "br0", "up")
    for tap in ("tap0", "tap1"):
        ns.tap(tap)
        ns.ip("link", "set", tap, "master", "br0")
    server = Guest(ns, "kvm", "echo", ["service=tap0"], [f"--ipv4={GUEST_IP}/24"])
    server.wait_for(r"^echo: serving")
    client = Guest(ns, "kvm", "net_client", ["service=tap1"],
                   ["--ipv4=10.0.0.3/24", f"--peer={GUEST_IP}"], test=True)
    assert client.wait(timeout=60) == 0, (client.out, client.err)
    assert "net_client: 8/8 echoed" in client.out, client.out
    assert server.stop() == 0


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_hosted_guests_over_the_no_root_backend():
    """Unprivileged: frames in UDP datagrams on 127.0.0.1, no namespace
    needed (nothing leaves the loopback interface)."""
    host = NoNetns()
    a, b = free_udp_port(), free_udp_port()
    try:
        server = Guest(host, "hosted", "echo", [f"service=udp:{a}:{b}"],
                       [f"--ipv4={GUEST_IP}/24"])
        server.wait_for(r"^echo: serving UDP port 7")
        client = subprocess.run(
            [image("hosted", "net_client", test=True), "--net",
             f"service=udp:{b}:{a}", "--", "--ipv4=10.0.0.3/24",
             f"--peer={GUEST_IP}"], capture_output=True, text=True, timeout=60)
        assert client.returncode == 0, client
        assert "net_client: 8/8 echoed" in client.stdout
        assert server.stop() == 0, server.err
        assert server.final_counters()["udp_in"] == 8, server.out
    finally:
        host.close()


def arp_request(sha, spa, tpa):
    """An Ethernet frame: a broadcast ARP request (RFC 826)."""
    mac = bytes.fromhex(sha.replace(":", ""))
    return (b"\xff" * 6 + mac + b"\x08\x06" + bytes.fromhex("0001080006040001") +
            mac + socket.inet_aton(spa) + b"\0" * 6 + socket.inet_aton(tpa))


def test_truncated_frames_over_the_udp_backend():
    """Frames shorter than an Ethernet header, which no tap can carry (the
    kernel pads what a packet socket sends to a whole header): the UDP
    backend hands the guest each datagram as it came, and the guest counts
    and drops each one."""
    host = NoNetns()
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(5)
        guest_port = free_udp_port()
        g = Guest(host, "hosted", "echo",
                  [f"service=udp:{guest_port}:{peer.getsockname()[1]},mac={GUEST_MAC}"],
                  [f"--ipv4={GUEST_IP}/24"])
        g.wait_for(r"^echo: serving UDP port 7")
        before = g.counters()
        short = [b"", b"\x02", GUEST_MAC.encode()[:6], b"\xff" * 12, b"\xff" * 13]
        for frame in short:
            peer.sendto(frame, ("127.0.0.1", guest_port))
        # Frames are taken in order: once the guest answers an ARP request
        # sent after them, it has seen every short one.
        peer.sendto(arp_request("02:00:00:00:00:09", "10.0.0.9", GUEST_IP),
                    ("127.0.0.1", guest_port))
        while True:
            frame = peer.recv(2048)  # a timeout fails the test
            if frame[12:14] == b"\x08\x06" and frame[20:22] == b"\x00\x02":
                break
        assert frame[6:12] == bytes.fromhex(GUEST_MAC.replace(":", "")), frame
        d = delta(g.counters(), before)
        assert d["eth_drop_truncated"] == len(short), d
        assert d["eth_frames_in"] == len(short) + 1, d
        assert d["arp_replies_sent"] == 1, d
        assert g.stop() == 0
    finally:
        peer.close()
        host.close()


def test_hosted_net_option_errors():
    echo = image("hosted", "echo")
    r = subprocess.run([echo, "--net", "nonsense"], capture_output=True, text=True)
    assert r.returncode == 2 and "--net wants NAME=TAP" in r.stderr, r
    r = subprocess.run([echo, "--net", "other=udp:1:2"], capture_output=True, text=True)
    assert r.returncode == 252 and "declares no network device" in r.stderr, r
    r = subprocess.run([echo, "--net", "service=udp:1"], capture_output=True, text=True)
    assert r.returncode == 2 and "expected udp:LPORT:RPORT" in r.stderr, r


def ping_barrier(ns):
    """One ping answered: the guest takes frames from its tap in order, so
    it has also handled every frame sent before this one."""
    r = ping(ns, "-c", "1", "-W", "5", GUEST_IP)
    assert received(r.stdout) == (1, 1), r.stdout


@pytest.mark.parametrize("target", TARGETS)
def test_hostile_input_is_counted_and_dropped(ns, target):
    g = echo_guest(ns, target)
    pin_guest_neighbour(ns)
    # The guest learns the host's hardware address first (its ARP request).
    assert received(ping(ns, "-c", "2", "-i", "0.2", GUEST_IP).stdout) == (2, 2)
    before = g.counters()
    r = peer_script(ns, "hostile.py", "tap0", GUEST_MAC, GUEST_IP, HOST_IP)
    assert r.returncode == 0, r.stderr
    sent = {k: int(v) for k, v in (l.split() for l in r.stdout.split("\n") if l)}
    ping_barrier(ns)
    d = delta(g.counters(), before)
    reass_slots = build_option("CONFIG_NET_REASS_SLOTS")

    # A tap pads the short frames to a header of type 0 (hostile.py); the
    # truly short ones are test_truncated_frames_over_the_udp_backend's.
    assert d["eth_drop_truncated"] + d["eth_drop_unknown_type"] == \
        sent["eth_truncated"] + sent["eth_unknown_type"], d
    assert d["ip_drop_truncated"] >= sent["ip_truncated"] + sent["ip_too_long"], d
    assert d["ip_drop_bad_header"] >= sent["ip_bad_header"], d
    assert d["ip_drop_bad_checksum"] >= sent["ip_bad_checksum"], d
    assert d["udp_drop_bad_checksum"] >= sent["udp_bad_checksum"], d
    assert d["udp_drop_malformed"] >= sent["udp_bad_length"], d
    assert d["icmp_drop_bad_checksum"] >= sent["icmp_bad_checksum"], d
    assert d["ip_drop_unknown_protocol"] >= sent["unknown_protocol"], d
    assert d["icmp_errors_rate_limited"] > 0, d  # 300 unreachables asked for
    assert d["ip_frag_drop_overlap"] >= sent["frag_overlap"] // 2, d
    assert d["ip_frag_drop_invalid"] >= sent["frag_beyond_64k"] + sent["frag_misaligned"], d
    # Endless fragments: each new datagram evicts the oldest, so at most
    # CONFIG_NET_REASS_SLOTS datagrams (64 KiB each) are ever held.
    assert d["ip_frag_drop_evicted"] >= sent["frag_endless"] - reass_slots, (reass_slots, d)
    # ARP: the spoofed replies are refused, the strangers' requests for
    # others dropped, the truncated ones counted; every stranger asking
    # for the guest is answered, though they are more senders than the
    # cache holds (the bound itself: test_arp_cache_holds_its_bound).
    assert d["arp_ignored_conflict"] == sent["arp_spoof_reply"], d
    assert d["arp_drop_not_for_us"] == sent["arp_not_for_us"], d
    assert d["arp_drop_malformed"] == sent["arp_truncated"], d
    assert d["arp_replies_sent"] == sent["arp_strangers_ask"], d

    # Still answering, to the right hardware address, fragments included.
    assert received(ping(ns, "-c", "3", "-i", "0.2", "-W", "2", GUEST_IP).stdout) == (3, 3)
    r = ping(ns, "-c", "2", "-i", "0.2", "-s", "8000", "-W", "2", GUEST_IP)
    assert received(r.stdout) == (2, 2), r.stdout
    assert g.stop() == 0


def arp_requests_sent(c):
    """ARP requests the guest sent: everything it sent but its replies."""
    return c.get("arp_out", 0) - c.get("arp_replies_sent", 0)


@pytest.mark.parametrize("target", TARGETS)
def test_arp_cache_holds_its_bound(ns, target):
    """Strangers asking for the guest each take a cache entry (arp.c), and
    the entry expiring first makes room.  The host's entry, learnt first,
    survives CONFIG_NET_ARP_ENTRIES - 1 strangers (the cache holds at least
    its bound) and is gone after one more: the guest has to ask for the
    host's address again (it holds no more).  Then a flood of several times
    the bound: every stranger answered, the host still answered."""
    entries = build_option("CONFIG_NET_ARP_ENTRIES")
    # A /16, so that any bound finds room for its strangers.
    g = echo_guest(ns, target, args=(f"--ipv4={GUEST_IP}/16",), addr=f"{HOST_IP}/16")
    pin_guest_neighbour(ns)

    def strangers(first, count):
        r = peer_script(ns, "hostile.py", "tap0", GUEST_MAC, GUEST_IP, HOST_IP,
                        "arp-strangers", first, count)
        assert r.returncode == 0 and r.stdout.split() == ["arp_strangers_ask", str(count)], r

    c0 = g.counters()
    ping_barrier(ns)  # the guest asks for the host: its first entry
    c1 = g.counters()
    assert arp_requests_sent(c1) - arp_requests_sent(c0) == 1, (c0, c1)

    strangers(256, entries - 1)
    ping_barrier(ns)
    c2 = g.counters()
    assert delta(c2, c1)["arp_replies_sent"] == entries - 1, (c1, c2)
    assert arp_requests_sent(c2) == arp_requests_sent(c1), \
        f"the host's entry did not survive {entries - 1} strangers: {c1} {c2}"

    strangers(256 + entries - 1, 1)
    ping_barrier(ns)
    c3 = g.counters()
    assert delta(c3, c2)["arp_replies_sent"] == 1, (c2, c3)
    assert arp_requests_sent(c3) - arp_requests_sent(c2) == 1, \
        f"the host's entry survived {entries} strangers in a {entries}-entry cache: {c2} {c3}"

    flood = 4 * entries
    strangers(256 + entries, flood)
    ping_barrier(ns)
    c4 = g.counters()
    assert delta(c4, c3)["arp_replies_sent"] == flood, (c3, c4)
    assert delta(c4, c0)["drop_no_buffer"] == 0, c4
    assert received(ping(ns, "-c", "3", "-i", "0.2", "-W", "2", GUEST_IP).stdout) == (3, 3)
    assert g.stop() == 0


@pytest.mark.kvm
def test_monitor_rejects_unknown_device_and_bad_mac():
    from conftest import MONITOR, run
    echo = image("kvm", "echo")
    r = run([MONITOR, "--net", "other=tap0", echo])
    assert r.rc == 252 and "declares no network device" in r.err, r
    r = run([MONITOR, "--net", "service=tap0,mac=01:00:00:00:00:01", echo])
    assert r.rc == 2 and "unicast" in r.err, r
