"""IPv4 forwarding and source NAT (apps/router) between two namespaces.

    A (10.0.1.1) --- wan 10.0.1.2 [router guest] lan 10.0.2.1 --- B (10.0.2.10)

The router, on each target, runs in a namespace of its own with its two
taps and a bridge per side; a veth pair joins each bridge to its host's
namespace.  Linux in A
and B is the peer: its ping, curl and sockets see what a router in
between does (TTL, ICMP errors, fragments, NAT).
"""
import hashlib
import os
import re
import subprocess
import time

import pytest

from conftest import TARGETS
from netns import Guest, Netns

A_IP, WAN_IP, LAN_IP, B_IP = "10.0.1.1", "10.0.1.2", "10.0.2.1", "10.0.2.10"
WAN_MAC, LAN_MAC = "02:00:00:00:01:02", "02:00:00:00:02:01"


class Topology:
    def __init__(self, target):
        self.target = target
        self.r, self.a, self.b = Netns(), Netns(), Netns()
        # br_netfilter, where loaded, would check IP headers on the bridges
        # and drop the hostile packets before the router sees them.
        self.r.run(["sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0"])
        for side, host in (("w", self.a), ("l", self.b)):
            self.r.ip("link", "add", f"br{side}", "type", "bridge")
            self.r.ip("link", "set", f"br{side}", "up")
            self.r.tap(f"t{side}")
            self.r.ip("link", "set", f"t{side}", "master", f"br{side}")
            self.r.ip("link", "add", f"v{side}", "type", "veth", "peer", "name",
                      "eth0", "netns", host.name)
            self.r.ip("link", "set", f"v{side}", "master", f"br{side}", "up")
        self.a.ip("addr", "add", f"{A_IP}/24", "dev", "eth0")
        self.a.ip("link", "set", "eth0", "up")
        self.b.ip("addr", "add", f"{B_IP}/24", "dev", "eth0")
        self.b.ip("link", "set", "eth0", "up")
        self.b.ip("route", "add", "default", "via", LAN_IP)
        self.router = None

    def boot(self, *args, lan_mtu=None, a_route=True):
        if a_route:
            self.a.ip("route", "add", "10.0.2.0/24", "via", WAN_IP)
        lan = f"lan=tl,mac={LAN_MAC}" + (f",mtu={lan_mtu}" if lan_mtu else "")
        self.router = Guest(self.r, self.target, "router", [f"wan=tw,mac={WAN_MAC}", lan],
                            [f"--ipv4:wan={WAN_IP}/24", f"--ipv4:lan={LAN_IP}/24", *args],
                            mon_args=["--mem", "64M"])
        self.router.wait_for(r"^router: forwarding")
        return self.router

    def close(self):
        if self.router:
            self.router.stop()
        for n in (self.a, self.b, self.r):
            n.close()


@pytest.fixture(params=TARGETS)
def topo(request):
    t = Topology(request.param)
    yield t
    t.close()


def ping(ns, *args):
    return ns.run(["ping", "-n", *args], timeout=30).stdout


def test_ping_crosses_the_router_with_one_hop_less(topo):
    r = topo.boot()
    before = r.counters("wan")
    out = ping(topo.a, "-c", "5", "-i", "0.2", B_IP)
    assert "5 packets transmitted, 5 received" in out, out
    assert re.search(r"ttl=63", out), out  # B's 64, one router hop
    wan = r.counters("wan")
    assert wan["ip_forwarded"] - before.get("ip_forwarded", 0) == 5
    assert r.counters("lan")["ip_forwarded"] == 5  # the replies
    # The router answers on both of its addresses from either side.
    assert "1 received" in ping(topo.a, "-c", "1", LAN_IP)


def test_ttl_1_is_answered_with_time_exceeded(topo):
    r = topo.boot()
    out = ping(topo.a, "-c", "1", "-t", "1", "-W", "2", B_IP)
    assert re.search(rf"From {WAN_IP} .*Time to live exceeded", out), out
    assert r.counters("wan")["ip_fwd_drop_ttl"] == 1


def test_no_route_is_answered_with_net_unreachable(topo):
    r = topo.boot()
    topo.a.ip("route", "add", "10.9.0.0/16", "via", WAN_IP)
    out = ping(topo.a, "-c", "1", "-W", "2", "10.9.9.9")
    assert re.search(rf"From {WAN_IP} .*Destination Net Unreachable", out), out
    assert r.counters("wan")["ip_drop_no_route"] == 1


def test_a_silent_next_hop_is_answered_with_host_unreachable(topo):
    r = topo.boot()
    out = ping(topo.a, "-c", "1", "-W", "6", "10.0.2.99")  # nobody on lan
    assert re.search(rf"From {WAN_IP} .*Destination Host Unreachable", out), out
    assert r.counters("lan")["arp_unresolved"] == 1


def test_a_static_route_reaches_a_network_beyond_a_next_hop(topo):
    # 10.0.3.0/24 lies behind B (B forwards for it, a second hop).
    topo.b.run(["sysctl", "-qw", "net.ipv4.ip_forward=1"])
    topo.b.ip("addr", "add", "10.0.3.1/24", "dev", "lo")
    topo.a.ip("route", "add", "10.0.3.0/24", "via", WAN_IP)
    r = topo.boot(f"--route=10.0.3.0/24,via={B_IP}")
    r.wait_for(rf"^net: route 10.0.3.0/24 via {B_IP}", start=0)
    out = ping(topo.a, "-c", "3", "-i", "0.2", "10.0.3.1")
    assert "3 received" in out, out


def test_bad_route_arguments_stop_the_boot(topo):
    for bad in ("--route=10.0.3.1/24,via=10.0.2.10", "--route=10.0.3.0/24",
                "--route=10.0.3.0/24,dev=nosuch", "--route=default,dev=lan"):
        g = Guest(topo.r, topo.target, "router", ["wan=tw", "lan=tl"],
                  [f"--ipv4:wan={WAN_IP}/24", f"--ipv4:lan={LAN_IP}/24", bad],
                  mon_args=["--mem", "64M"])
        assert g.wait(30) != 0
        assert any("bad route" in line for line in g.err + g.out), (g.out, g.err)


def test_df_larger_than_the_next_mtu_gets_fragmentation_needed(topo):
    r = topo.boot(lan_mtu=1280)
    # Without DF the router cuts them: 1428 bytes into two fragments each.
    # (First: once A has heard of the smaller MTU, it cuts them itself.)
    out = ping(topo.a, "-c", "3", "-i", "0.2", "-M", "dont", "-s", "1400", B_IP)
    assert "3 received" in out, out
    assert r.counters("lan")["ip_frags_out"] == 6
    out = ping(topo.a, "-c", "1", "-W", "2", "-M", "do", "-s", "1400", B_IP)
    assert re.search(r"[Ff]rag needed and DF set \(mtu = 1280\)", out), out
    assert r.counters("wan")["ip_fwd_drop_too_big"] == 1


def test_tcp_transfer_through_the_router_is_intact_and_stays_coalesced(topo, tmp_path):
    topo.boot()
    data = os.urandom(8 << 20)
    (tmp_path / "blob").write_bytes(data)
    srv = topo.b.popen(["/usr/bin/python3", "-m", "http.server", "8080", "--bind", B_IP,
                        "--directory", str(tmp_path)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_port(topo.b, B_IP, 8080)
    out = tmp_path / "got"
    r = topo.a.run(["curl", "-sS", "--max-time", "60", "-o", str(out),
                    f"http://{B_IP}:8080/blob"], timeout=90)
    assert r.returncode == 0, r.stderr
    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(data).digest()
    srv.kill()
    # B's kernel sends segments of up to 64 KiB (TSO) and the router
    # forwards them whole: far fewer frames than 1,448-byte segments.
    forwarded = topo.router.counters("lan")["ip_forwarded"]
    print(f"{forwarded} frames forwarded for {len(data) // 1448} segments' worth")
    assert forwarded < len(data) // 1448 // 4


def _wait_port(ns, ip, port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = ns.run(["/usr/bin/python3", "-c",
                    f"import socket; socket.create_connection(('{ip}', {port}), 1)"])
        if r.returncode == 0:
            return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {ip}:{port}")


UDP_PEER = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("{bind}", {port}))
s.settimeout(20)
for _ in range({n}):
    data, peer = s.recvfrom(65535)
    s.sendto(peer[0].encode() + b" " + data, peer)
"""

UDP_CLIENT = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", {sport}))
s.settimeout(5)
for i in range({n}):
    s.sendto(b"x" * {size}, ("{dst}", {port}))
    print(s.recvfrom(65535)[0].split(b" ")[0].decode())
"""


def test_masquerade_gives_inside_hosts_the_wan_address(topo, tmp_path):
    # A has no route to B's network: only NAT lets B's connections back.
    r = topo.boot("--masquerade=wan", a_route=False)
    r.wait_for(r"^net: masquerade on wan", start=0)
    # TCP: A's server sees the router's address.
    blob = os.urandom(4 << 20)  # coalesced segments, translated whole
    (tmp_path / "f").write_bytes(blob)
    log = open(tmp_path / "log", "w")
    srv = topo.a.popen(["/usr/bin/python3", "-m", "http.server", "8080", "--bind", A_IP,
                        "--directory", str(tmp_path)], stdout=log, stderr=log)
    _wait_port(topo.a, A_IP, 8080)
    got = subprocess.run(topo.b.argv(["curl", "-sS", "--max-time", "20",
                                      f"http://{A_IP}:8080/f"]), capture_output=True, timeout=30)
    assert got.returncode == 0, got.stderr
    assert hashlib.sha256(got.stdout).digest() == hashlib.sha256(blob).digest()
    srv.kill()
    log.close()
    assert re.search(rf"^{re.escape(WAN_IP)} - .*GET /f", (tmp_path / "log").read_text(), re.M)
    # UDP, with a datagram large enough to be fragmented on the way back.
    peer = topo.a.popen(["/usr/bin/python3", "-c", UDP_PEER.format(bind=A_IP, port=9000, n=3)])
    time.sleep(0.3)
    out = topo.b.run(["/usr/bin/python3", "-c",
                      UDP_CLIENT.format(sport=5555, n=3, size=3000, dst=A_IP, port=9000)])
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [WAN_IP] * 3
    peer.wait(10)
    # ICMP echo, by identifier.
    assert "3 received" in ping(topo.b, "-c", "3", "-i", "0.2", A_IP)
    wan = r.counters("wan")
    assert wan["nat_mappings"] >= 3 and wan["nat_in"] > 0 and wan["nat_out"] > 0
    # With a route back, A reaches B untranslated, masquerade or not.
    topo.a.ip("route", "add", "10.0.2.0/24", "via", WAN_IP)
    assert "2 received" in ping(topo.a, "-c", "2", "-i", "0.2", B_IP)


REFUSED = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 6000))
s.connect((sys.argv[1], int(sys.argv[2])))
s.settimeout(3)
s.send(b"x")
try:
    s.recv(10)
except ConnectionRefusedError:
    print("refused")
"""

LATE_REPLY = """
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("%s", 9000))
s.settimeout(10)
data, peer = s.recvfrom(100)
s.connect(peer)
time.sleep(1)  # the client has gone: its host answers port unreachable
s.send(b"late")
s.settimeout(3)
try:
    s.recv(10)
except ConnectionRefusedError:
    print("refused", peer[0])
"""


def test_masquerade_translates_icmp_errors_both_ways(topo):
    topo.boot("--masquerade=wan", a_route=False)
    # In: A's port unreachable about B's translated datagram reaches B.
    r = topo.b.run(["/usr/bin/python3", "-c", REFUSED, A_IP, "9"], timeout=20)
    assert r.stdout.strip() == "refused", (r.stdout, r.stderr)
    # Out: B's port unreachable about A's reply to a translated flow
    # reaches A as about the router's address and port.
    late = topo.a.popen(["/usr/bin/python3", "-c", LATE_REPLY % A_IP],
                        stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)
    topo.b.run(["/usr/bin/python3", "-c", f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"hi", ("{A_IP}", 9000))
"""])
    out, _ = late.communicate(timeout=20)
    assert out.strip() == f"refused {WAN_IP}", out
    # A connection from outside, forwarded in untranslated: its error
    # leaves untranslated.
    topo.a.ip("route", "add", "10.0.2.0/24", "via", WAN_IP)
    r = topo.a.run(["/usr/bin/python3", "-c", REFUSED, B_IP, "9"], timeout=20)
    assert r.stdout.strip() == "refused", (r.stdout, r.stderr)


SCAPY = """
import sys
from scapy.all import Ether, IP, UDP, Raw, sendp, conf
conf.verb = 0
src_mac = open("/sys/class/net/eth0/address").read().strip()
def send(pkt, dst="{wan_mac}"):
    sendp(Ether(src=src_mac, dst=dst) / pkt, iface="eth0")
kind = sys.argv[1]
base = IP(src="{a}", dst="{b}")
if kind == "options":  # record route: forwarded with its option
    send(IP(src="{a}", dst="{b}", options=b"\\x07\\x07\\x04\\x00\\x00\\x00\\x00\\x00") / UDP(sport=4000, dport=7000) / Raw(b"opt"))
elif kind == "bad-checksum":
    send(IP(src="{a}", dst="{b}", chksum=0x1234) / UDP(sport=4000, dport=7000) / Raw(b"bad"))
elif kind == "link-broadcast":
    send(base / UDP(sport=4000, dport=7000) / Raw(b"bcast"), dst="ff:ff:ff:ff:ff:ff")
elif kind == "martian":
    send(IP(src="127.0.0.1", dst="{b}") / UDP(sport=4000, dport=7000) / Raw(b"mart"))
"""

RECV = """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("{b}", 7000))
s.settimeout(3)
try:
    print(s.recv(100).decode())
except socket.timeout:
    print("nothing")
"""


@pytest.mark.parametrize("kind,arrives,counter", [
    ("options", "opt", "ip_forwarded"),
    ("bad-checksum", "nothing", "ip_drop_bad_checksum"),
    ("link-broadcast", "nothing", "ip_fwd_drop_not_unicast"),
    ("martian", "nothing", "ip_drop_bad_header"),
])
def test_hostile_and_odd_packets_are_handled_as_linux_does(topo, kind, arrives, counter):
    r = topo.boot()
    # B learns the router's MAC before the test packet is the first frame.
    assert "1 received" in ping(topo.b, "-c", "1", LAN_IP)
    before = r.counters("wan")
    rx = topo.b.popen(["/usr/bin/python3", "-c", RECV.format(b=B_IP)],
                      stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)
    s = topo.a.run(["/usr/bin/python3", "-c",
                    SCAPY.format(wan_mac=WAN_MAC, a=A_IP, b=B_IP), kind], timeout=30)
    assert s.returncode == 0, s.stderr
    out, _ = rx.communicate(timeout=10)
    assert out.strip() == arrives
    after = r.counters("wan")
    assert after.get(counter, 0) - before.get(counter, 0) == 1, (before, after)
