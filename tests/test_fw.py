"""lib/fw and tools/rules2c: the rules compiler's errors; a verdict table of
crafted packets decided by lib/fw on the host (tests/host/fw_verdict.c, the
rules of tests/fw/verdict.rules) and by Linux nftables with the same rules
(tests/fw/verdict.nft) in a namespace routing between two others, both
checked against the table; flow tracking (TCP through its teardown and
timeouts, UDP replies, a full table); the fuzzer over both."""
import ctypes
import os
import re
import select
import socket
import subprocess
import threading
import time

import pytest

from conftest import BUILD, ROOT
from netns import Netns
from test_fuzz import run_fuzzer

RULES2C = os.path.join(BUILD, "tools", "rules2c")
HARNESS = os.path.join(BUILD, "test", "host", "fw_verdict")
FUZZER = os.path.join(BUILD, "fuzz", "fw_fuzz")
NFT_RULES = os.path.join(ROOT, "tests", "fw", "verdict.nft")
HARNESS_FLOWS = 64  # the harness's CONFIG_FW_FLOWS (Makefile)

OUT, IN = "outside", "inside"


class Harness:
    """lib/fw on the host: packets in, verdicts out (tests/host/fw_verdict.c)."""

    def __init__(self):
        assert os.path.exists(HARNESS), f"{HARNESS} was not built (make host-tests)"
        self.p = subprocess.Popen([HARNESS], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)

    def _ask(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        return self.p.stdout.readline().strip()

    def verdict(self, side, pkt, to_self=False):
        """The verdict on pkt arriving on side (and leaving on the other)."""
        out = "-" if to_self else (IN if side == OUT else OUT)
        return self._ask(f"p {side} {out} {bytes(pkt).hex()}")

    def advance(self, seconds):
        self.p.stdin.write(f"t {seconds}\ne\n")

    def stats(self):
        """The flow table's numbers: the counters report's last line."""
        return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", self.counters()[-1])}

    def counters(self):
        self.p.stdin.write("c\n")
        self.p.stdin.flush()
        lines = []
        while (line := self.p.stdout.readline().rstrip("\n")) != "end":
            lines.append(line)
        return lines

    def close(self):
        self.p.stdin.close()
        assert self.p.wait(10) == 0


@pytest.fixture
def fw():
    h = Harness()
    yield h
    h.close()


# --- the verdict table --------------------------------------------------------

def tcp(src, dst, sport, dport, flags, seq=0, ack=0, data=b""):
    from scapy.all import IP, TCP, Raw
    p = IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack)
    return p / Raw(data) if data else p


def udp(src, dst, sport, dport, data=b"q"):
    from scapy.all import IP, UDP, Raw
    return IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(data)


def icmp(src, dst, type, code=0, id=0, seq=1, quote=None):
    from scapy.all import ICMP, IP, Raw
    p = IP(src=src, dst=dst) / ICMP(type=type, code=code, id=id, seq=seq)
    return p / (quote if quote is not None else Raw(b"ping" * 8))


def quoted(pkt):
    """The first 28 bytes of pkt's datagram, as an ICMP error quotes it."""
    from scapy.all import Raw
    return Raw(bytes(pkt)[:28])


C, WEB, DNS, H = "198.51.100.7", "10.0.2.80", "10.0.2.53", "10.0.1.5"


def table():
    """(what, the side it comes in on, the datagram, lib/fw's verdict, or the
    verdict and False for a case nftables does not see: one addressed to
    the router itself, or not a datagram Linux forwards as sent).  In order:
    flows carry from one case to the next."""
    return [
        ("dns query from outside", OUT, udp(C, DNS, 40000, 53), "pass-rule"),
        ("its answer", IN, udp(DNS, C, 53, 40000), "pass-state"),
        ("an answer nobody asked for", IN, udp(DNS, C, 53, 40001), "drop-default"),
        ("first match: blocked network to dns", OUT, udp("203.0.113.9", DNS, 40000, 53), "drop-rule"),
        ("dns over tcp: syn", OUT, tcp(C, DNS, 40100, 53, "S", 77), "pass-rule"),
        ("dns over tcp: syn-ack", IN, tcp(DNS, C, 53, 40100, "SA", 900, 78), "pass-state"),
        ("http syn", OUT, tcp(C, WEB, 41000, 80, "S", 1000), "pass-rule"),
        ("http syn-ack", IN, tcp(WEB, C, 80, 41000, "SA", 5000, 1001), "pass-state"),
        ("http ack", OUT, tcp(C, WEB, 41000, 80, "A", 1001, 5001), "pass-state"),
        ("http request", OUT, tcp(C, WEB, 41000, 80, "PA", 1001, 5001, b"GET / xy\r\n"), "pass-state"),
        ("http response", IN, tcp(WEB, C, 80, 41000, "PA", 5001, 1011, b"200 "), "pass-state"),
        ("http client fin", OUT, tcp(C, WEB, 41000, 80, "FA", 1011, 5005), "pass-state"),
        ("http server fin", IN, tcp(WEB, C, 80, 41000, "FA", 5005, 1012), "pass-state"),
        ("http last ack", OUT, tcp(C, WEB, 41000, 80, "A", 1012, 5006), "pass-state"),
        ("https syn", OUT, tcp(C, WEB, 41001, 443, "S", 3000), "pass-rule"),
        ("a stray ack to the web server", OUT, tcp(C, WEB, 41002, 80, "A", 1, 1), "drop-default"),
        ("a stray syn-ack from the web server", IN, tcp(WEB, C, 80, 41003, "SA", 1, 1), "drop-default"),
        ("a syn to a port the server has no rule for", OUT, tcp(C, WEB, 41004, 22, "S", 1), "drop-default"),
        ("ping from outside", OUT, icmp(C, WEB, 8, id=5), "drop-rule"),
        ("unreachable to a server", OUT, icmp(C, WEB, 3, 3, quote=quoted(udp(WEB, C, 1, 2))), "pass-rule"),
        ("time exceeded to a server", OUT, icmp(C, DNS, 11, 0, quote=quoted(udp(DNS, C, 1, 2))), "pass-rule"),
        ("redirect to a server", OUT, icmp(C, WEB, 5, 1, quote=quoted(udp(WEB, C, 1, 2))), "drop-default"),
        ("ping out from inside", IN, icmp(H, C, 8, id=77), "pass-rule"),
        ("its echo reply", OUT, icmp(C, H, 0, id=77), "pass-state"),
        ("an echo reply to another id", OUT, icmp(C, H, 0, id=78), "drop-default"),
        ("smtp out", IN, tcp(H, C, 42000, 25, "S", 10), "drop-rule"),
        ("https out", IN, tcp(H, C, 42001, 443, "S", 10), "pass-rule"),
        ("its syn-ack", OUT, tcp(C, H, 443, 42001, "SA", 20, 11), "pass-state"),
        ("its ack", IN, tcp(H, C, 42001, 443, "A", 11, 21), "pass-state"),
        ("fragmentation needed for it", OUT,
         icmp("198.51.100.1", H, 3, 4, quote=quoted(tcp(H, C, 42001, 443, "A", 11, 21))), "pass-related"),
        ("unreachable for a flow that is not there", OUT,
         icmp("198.51.100.1", H, 3, 4, quote=quoted(tcp(H, C, 42999, 443, "A", 11, 21))), "drop-default"),
        ("udp to the discard port, out", IN, udp(H, C, 5000, 9), "drop-rule"),
        ("udp to the discard port, in", OUT, udp(C, "10.0.2.9", 5000, 9), "drop-rule"),
        ("udp out from inside", IN, udp(H, C, 5353, 53), "pass-rule"),
        ("its answer", OUT, udp(C, H, 53, 5353), "pass-state"),
        ("inside to the dmz is not out", IN, udp(H, DNS, 5353, 53), "drop-default"),
        ("the dmz cannot start flows out", IN, udp(DNS, C, 5353, 53), "drop-default"),
        ("stateless udp in, port ranges", OUT, udp(C, "10.0.2.9", 3000, 5005), "pass-rule"),
        ("its answer, by its own rule", IN, udp("10.0.2.9", C, 5005, 3000), "pass-rule"),
        ("source port below the range", OUT, udp(C, "10.0.2.9", 1000, 5005), "drop-default"),
        ("destination port past the range", OUT, udp(C, "10.0.2.9", 3000, 5011), "drop-default"),
        ("negated ports: 8080 from the one client", OUT, tcp(C, WEB, 43000, 8080, "A", 5, 5), "pass-rule"),
        ("negated ports: 22 from it", OUT, tcp(C, WEB, 43000, 22, "A", 5, 5), "drop-default"),
        ("negated ports: another client", OUT, tcp("198.51.100.8", WEB, 43000, 8080, "S", 5), "drop-default"),
        ("a gre packet from outside", OUT, gre(C, WEB), "drop-default"),
        ("a gre packet out from inside", IN, gre(H, C), "pass-rule"),
        # Cases nftables does not see.
        ("ping to the firewall from outside", OUT, icmp(C, "192.0.2.1", 8, id=9), ("drop-rule", "self")),
        ("dns to the firewall from inside", IN, udp(H, "10.0.1.1", 5353, 53), ("drop-default", "self")),
        ("out to the world, to the firewall", IN, udp(H, C, 5354, 53), ("pass-rule", "self")),
        ("a tcp header cut short", OUT, truncated(tcp(C, WEB, 41005, 80, "S", 1), 10), ("drop-malformed", None)),
        ("a udp header cut short", OUT, truncated(udp(C, DNS, 41005, 53), 6), ("drop-malformed", None)),
        ("an icmp header cut short", OUT, truncated(icmp(C, WEB, 3, 3), 4), ("drop-malformed", None)),
        ("a fragment", OUT, fragment_of(udp(C, DNS, 40000, 53, b"x" * 100)), ("drop-fragment", None)),
    ]


def gre(src, dst):
    from scapy.all import GRE, IP, Raw
    return IP(src=src, dst=dst) / GRE() / Raw(b"\x00" * 8)


def truncated(pkt, l4_bytes):
    """pkt with only l4_bytes of its transport header, its IP length made to
    agree."""
    from scapy.all import IP
    raw = bytes(pkt)[:20 + l4_bytes]
    p = IP(raw)
    p.len, p.chksum = len(raw), None
    return IP(bytes(p))


def fragment_of(pkt):
    from scapy.all import fragment
    return fragment(pkt, 64)[0]


def expected(entry):
    v = entry[3]
    return v if isinstance(v, str) else v[0]


def test_verdict_table_lib_fw(fw):
    wrong = []
    t = table()
    for entry in t:
        what, side, pkt = entry[:3]
        to_self = not isinstance(entry[3], str) and entry[3][1] == "self"
        got = fw.verdict(side, pkt, to_self)
        if got != expected(entry):
            wrong.append(f"{what}: {got}, expected {expected(entry)}")
    assert not wrong, "\n".join(wrong)
    # The rules counted what matched them, the default what nothing did.
    report = fw.counters()
    rules = [int(m.group(1)) for line in report
             if (m := re.match(r"\s+rule\d+ line=\d+ packets=(\d+)", line))]
    default = [int(m.group(1)) for line in report
               if (m := re.match(r"\s+default packets=(\d+)", line))]
    assert len(rules) == 11 and len(default) == 1, report
    assert sum(rules) == sum(expected(e) in ("pass-rule", "drop-rule") for e in t), report
    assert default[0] == sum(expected(e) == "drop-default" for e in t), report
    # The first rule (the blocked network) matched exactly once.
    assert rules[0] == 1, report


# --- the same table through Linux --------------------------------------------

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {path}")
    finally:
        os.close(fd)


def raw_socket(ns, dev):
    """An AF_PACKET socket on dev inside namespace ns (made there, it stays
    there when this thread returns to its own namespace)."""
    home = f"/proc/self/task/{threading.get_native_id()}/ns/net"
    home_fd = os.open(home, os.O_RDONLY)
    try:
        setns(f"/run/netns/{ns.name}")
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        s.bind((dev, 0))
    finally:
        if _libc.setns(home_fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back")
        os.close(home_fd)
    return s


def mac_of(ns, dev):
    import json
    out = subprocess.run(["ip", "-n", ns.name, "-j", "link", "show", dev],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)[0]["address"]


class LinuxRouter:
    """Three namespaces: a router whose interfaces are named outside and
    inside, with the nftables ruleset loaded and forwarding on, and a
    namespace at the far end of each, where raw sockets send the table's
    datagrams and see what comes through."""

    def __init__(self):
        self.r, self.o, self.i = Netns(), Netns(), Netns()
        try:
            self._setup()
        except Exception:
            self.close()
            raise

    def _setup(self):
        r = self.r
        for ns, name, addr, peer in ((self.o, OUT, "192.0.2.1/24", "192.0.2.2"),
                                     (self.i, IN, "10.255.0.1/24", "10.255.0.2")):
            r.ip("link", "add", name, "type", "veth", "peer", "name", "end", "netns", ns.name)
            ns.run(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
            ns.ip("link", "set", "end", "up")
            r.ip("addr", "add", addr, "dev", name)
            r.ip("link", "set", name, "up")
            r.ip("neigh", "replace", peer, "lladdr", mac_of(ns, "end"), "dev", name, "nud",
                 "permanent")
        r.run(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
        for key in ("net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
                    "net.ipv4.conf.all.send_redirects=0"):
            assert r.run(["sysctl", "-qw", key]).returncode == 0, key
        r.ip("route", "add", "default", "via", "192.0.2.2", "dev", OUT)
        r.ip("route", "add", "10.0.0.0/8", "via", "10.255.0.2", "dev", IN)
        res = r.run(["nft", "-f", NFT_RULES])
        assert res.returncode == 0, res.stderr
        self.mac = {OUT: mac_of(r, OUT), IN: mac_of(r, IN)}
        self.sock = {OUT: raw_socket(self.o, "end"), IN: raw_socket(self.i, "end")}

    def forwards(self, side, pkt, wait=0.3):
        """Whether pkt, sent into the router's interface side, comes out of
        the other one."""
        from scapy.all import IP, Ether
        other = IN if side == OUT else OUT
        rx = self.sock[other]
        while select.select([rx], [], [], 0)[0]:
            rx.recv(65536)
        ip = bytes(pkt)
        self.sock[side].send(bytes(Ether(dst=self.mac[side], src="02:00:00:00:00:99", type=0x0800)) + ip)
        want = IP(ip)
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            if not select.select([rx], [], [], left)[0]:
                break
            frame = rx.recv(65536)
            if len(frame) < 34 or frame[12:14] != b"\x08\x00":
                continue
            got = IP(frame[14:])
            if (got.src, got.dst, got.proto, got.id) == (want.src, want.dst, want.proto, want.id) \
                    and bytes(got.payload) == bytes(want.payload):
                return True
        return False

    def close(self):
        for s in getattr(self, "sock", {}).values():
            s.close()
        for ns in (self.r, self.o, self.i):
            ns.close()


def test_verdict_table_nftables():
    """The same packets through Linux forwarding with the same rules in
    nftables: everything lib/fw passes comes through, nothing else."""
    router = LinuxRouter()
    try:
        wrong = []
        seen = 0
        for n, entry in enumerate(table()):
            what, side, pkt, verdict = entry
            if not isinstance(verdict, str):
                continue
            pkt.id = 1000 + n  # tells it from anything else on the wire
            got = router.forwards(side, pkt)
            seen += 1
            if got != verdict.startswith("pass"):
                wrong.append(f"{what}: Linux {'passed' if got else 'dropped'} it, "
                             f"the table says {verdict}")
        assert seen >= 40
        assert not wrong, "\n".join(wrong)
    finally:
        router.close()


# --- flow tracking ------------------------------------------------------------

def handshake(fw, sport, seq=100):
    assert fw.verdict(OUT, tcp(C, WEB, sport, 80, "S", seq)) == "pass-rule"
    assert fw.verdict(IN, tcp(WEB, C, 80, sport, "SA", 9000, seq + 1)) == "pass-state"
    assert fw.verdict(OUT, tcp(C, WEB, sport, 80, "A", seq + 1, 9001)) == "pass-state"


def test_tcp_teardown_and_timeouts(fw):
    handshake(fw, 50000)
    assert fw.stats()["assured"] == 1
    # An ACK from the opener before the SYN-ACK is not TCP: dropped.
    assert fw.verdict(OUT, tcp(C, WEB, 50001, 80, "S", 1)) == "pass-rule"
    assert fw.verdict(OUT, tcp(C, WEB, 50001, 80, "A", 2, 0)) == "drop-state"
    # A day idle does not end an established connection (5 days do).
    fw.advance(86400)
    assert fw.verdict(IN, tcp(WEB, C, 80, 50000, "PA", 9001, 101, b"x")) == "pass-state"
    assert fw.verdict(OUT, tcp(C, WEB, 50000, 80, "FA", 101, 9002)) == "pass-state"
    assert fw.verdict(IN, tcp(WEB, C, 80, 50000, "FA", 9002, 102)) == "pass-state"
    assert fw.verdict(OUT, tcp(C, WEB, 50000, 80, "A", 102, 9003)) == "pass-state"
    st = fw.stats()
    assert st["flows"] == 1 and st["assured"] == 0  # the SYN_SENT one expired with the day
    # TIME_WAIT lasts 120 s: a late ACK passes at 119 s, not after 121 s.
    fw.advance(119)
    assert fw.verdict(OUT, tcp(C, WEB, 50000, 80, "A", 102, 9003)) == "pass-state"
    fw.advance(121)
    assert fw.stats()["flows"] == 0
    assert fw.verdict(OUT, tcp(C, WEB, 50000, 80, "A", 102, 9003)) == "drop-default"
    # A reset closes a connection; 10 s later it is gone.
    handshake(fw, 50002)
    assert fw.verdict(IN, tcp(WEB, C, 80, 50002, "R", 9001)) == "pass-state"
    fw.advance(11)
    assert fw.verdict(IN, tcp(WEB, C, 80, 50002, "A", 9001, 101)) == "drop-default"
    # A new SYN on a closed connection's ports is a new connection.
    handshake(fw, 50003)
    assert fw.verdict(OUT, tcp(C, WEB, 50003, 80, "R", 101)) == "pass-state"
    handshake(fw, 50003, seq=7000)
    # A SYN that never gets an answer ends after 120 s.
    assert fw.verdict(OUT, tcp(C, WEB, 50004, 80, "S", 1)) == "pass-rule"
    fw.advance(121)
    assert fw.verdict(IN, tcp(WEB, C, 80, 50004, "SA", 5, 2)) == "drop-default"


def test_udp_reply_only_after_request(fw):
    assert fw.verdict(IN, udp(DNS, C, 53, 40000)) == "drop-default"
    assert fw.verdict(OUT, udp(C, DNS, 40000, 53)) == "pass-rule"
    assert fw.verdict(IN, udp(DNS, C, 53, 40000)) == "pass-state"
    # Unanswered: 30 s.  Answered: 120 s from the last packet.
    assert fw.verdict(OUT, udp(C, DNS, 40001, 53)) == "pass-rule"
    fw.advance(31)
    assert fw.verdict(IN, udp(DNS, C, 53, 40001)) == "drop-default"
    assert fw.verdict(IN, udp(DNS, C, 53, 40000)) == "pass-state"
    fw.advance(119)
    assert fw.verdict(OUT, udp(C, DNS, 40000, 53)) == "pass-state"
    fw.advance(121)
    assert fw.verdict(IN, udp(DNS, C, 53, 40000)) == "drop-default"
    assert fw.stats()["flows"] == 0
    # ICMP echo: the reply to the request's identifier only, for 30 s.
    assert fw.verdict(IN, icmp(H, C, 8, id=300)) == "pass-rule"
    assert fw.verdict(OUT, icmp(C, H, 0, id=301)) == "drop-default"
    assert fw.verdict(OUT, icmp(C, H, 0, id=300)) == "pass-state"
    # A request the other way is not a reply, even where its identifier
    # and the request's type look like a reply's (8, 8).
    assert fw.verdict(IN, icmp(H, C, 8, id=8)) == "pass-rule"
    assert fw.verdict(OUT, icmp(C, H, 8, id=8)) == "drop-rule"
    fw.advance(31)
    assert fw.verdict(OUT, icmp(C, H, 0, id=300)) == "drop-default"


def test_full_table_keeps_established_flows(fw):
    """A flood of new flows into a table of HARNESS_FLOWS: the oldest
    unassured flows make room, the established connection never does; when
    every flow is established, new ones are refused."""
    handshake(fw, 51000)
    flood = 5000
    for n in range(flood):
        assert fw.verdict(OUT, tcp(C, WEB, 1024 + n, 443, "S", n)) == "pass-rule"
        if n % 500 == 0:
            assert fw.verdict(IN, tcp(WEB, C, 80, 51000, "PA", 9001, 101, b"x")) == "pass-state"
    st = fw.stats()
    assert st["flows"] == HARNESS_FLOWS and st["max"] == HARNESS_FLOWS, st
    assert st["evicted"] == flood - (HARNESS_FLOWS - 1), st
    assert st["assured"] == 1, st
    assert fw.verdict(OUT, tcp(C, WEB, 51000, 80, "PA", 101, 9002, b"y")) == "pass-state"
    # The newest SYN still has its flow; the oldest ones are gone.
    assert fw.verdict(IN, tcp(WEB, C, 443, 1024 + flood - 1, "SA", 1, flood)) == "pass-state"
    assert fw.verdict(IN, tcp(WEB, C, 443, 1024, "SA", 1, 1)) == "drop-default"
    # Established connections fill the table: a new one is refused.
    for n in range(HARNESS_FLOWS - 1):
        handshake(fw, 52000 + n)
    st = fw.stats()
    assert st["assured"] == HARNESS_FLOWS, st
    assert fw.verdict(OUT, tcp(C, WEB, 53000, 80, "S", 1)) == "drop-full"
    assert fw.verdict(IN, tcp(WEB, C, 80, 51000, "PA", 9001, 101, b"x")) == "pass-state"
    report = "\n".join(fw.counters())
    assert "drop-full=1" in report and f"flows={HARNESS_FLOWS}" in report, report


# --- windows --------------------------------------------------------------------

def seg(src, dst, sport, dport, flags, seq, ack=0, data=b"", win=8192, opts=()):
    from scapy.all import IP, TCP, Raw
    p = IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags, seq=seq & 0xffffffff, ack=ack,
                                   window=win, options=list(opts))
    return p / Raw(data) if data else p


SYN_OPTS = (("MSS", 1460), ("SAckOK", b""), ("WScale", 7))


def window_table():
    """TCP segments of connections from C to the web server, in order,
    with lib/fw's verdict: the windows of Linux conntrack (be_liberal
    off), so that Linux with tests/fw/verdict.nft, where an invalid
    packet falls through to the default drop, agrees."""
    def out(sport, *a, **k):
        return (OUT, seg(C, WEB, sport, 80, *a, **k))

    def back(sport, *a, **k):
        return (IN, seg(WEB, C, 80, sport, *a, **k))
    a, b, c, d = 44000, 44001, 44002, 44003
    big = 1 << 30
    return [
        ("syn, window scale 7", *out(a, "S", 1000, win=64240, opts=SYN_OPTS), "pass-rule"),
        ("syn-ack, window scale 7", *back(a, "SA", 5000, 1001, win=65160, opts=SYN_OPTS),
         "pass-state"),
        ("ack: a window of 2000 << 7", *out(a, "A", 1001, 5001, win=2000), "pass-state"),
        ("data", *out(a, "PA", 1001, 5001, b"x" * 100, win=2000), "pass-state"),
        ("data far past the window", *out(a, "PA", 1101 + big, 5001, b"y" * 100, win=2000),
         "drop-window"),
        ("an ack of data never sent", *back(a, "A", 5001, 1101 + 100000, win=509), "drop-window"),
        ("a sack block past what was sent", *back(a, "A", 5001, 1101, win=509,
                                                   opts=(("SAck", (1101, 1101 + 100000)),)),
         "drop-window"),
        ("the server acks the data", *back(a, "A", 5001, 1101, win=509), "pass-state"),
        ("data 130000 on, inside the scaled window", *back(a, "PA", 5001 + 130000, 1101,
                                                           b"z" * 100, win=509), "pass-state"),
        ("data long since acknowledged, sent again", *out(a, "PA", 1101 - 200000, 5001,
                                                          b"o" * 10, win=2000), "pass-state"),
        ("a reset far out of the window", *out(a, "R", 1101 + big), "drop-window"),
        ("a reset before the server's ack", *out(a, "R", 1050), "drop-window"),
        ("a reset in the window, not where expected", *out(a, "R", 1101 + 1000), "pass-state"),
        ("it did not close the connection", *out(a, "PA", 1101, 5001, b"w" * 10, win=2000),
         "pass-state"),
        # RFC 5961: the server answers with a challenge ACK; conntrack
        # lets the SYN through and keeps the connection as it was.
        ("a syn on the open connection", *out(a, "S", 3000000, win=64240, opts=SYN_OPTS),
         "pass-state"),
        ("the server's challenge ack", *back(a, "A", 5001 + 130100, 1111, win=509),
         "pass-state"),
        ("flags no TCP sends: syn and rst", *out(a, "SR", 1111), "drop-state"),
        ("flags no TCP sends: fin without ack", *out(a, "F", 1111), "drop-state"),
        ("flags no TCP sends: none", *out(a, "", 1111, data=b"n"), "drop-state"),
        ("a reset where the server expects it", *out(a, "R", 1111), "pass-state"),
        # No window scale in the answer: the 2000 is bytes.
        ("syn, window scale 7", *out(b, "S", 7000, win=64240, opts=SYN_OPTS), "pass-rule"),
        ("syn-ack without it", *back(b, "SA", 9000, 7001, win=65160,
                                     opts=(("MSS", 1460), ("SAckOK", b""))), "pass-state"),
        ("ack: a window of 2000", *out(b, "A", 7001, 9001, win=2000), "pass-state"),
        ("data 130000 on, past the window", *back(b, "PA", 9001 + 130000, 7001, b"z" * 100,
                                                  win=509), "drop-window"),
        ("data in the window", *back(b, "PA", 9001, 7001, b"z" * 1000, win=509), "pass-state"),
        ("a sack block within what was sent", *out(b, "A", 7001, 9001, win=2000,
                                                   opts=(("SAck", (9501, 10001)),)), "pass-state"),
        # Both ends lost connection c, the firewall did not: the new
        # handshake on its ports takes the flow over, as in conntrack.
        ("syn", *out(c, "S", 20000, win=64240, opts=SYN_OPTS), "pass-rule"),
        ("syn-ack", *back(c, "SA", 30000, 20001, win=65160, opts=SYN_OPTS), "pass-state"),
        ("ack", *out(c, "A", 20001, 30001, win=2000), "pass-state"),
        ("a syn-ack answering nothing", *back(c, "SA", 12345, 20001, win=65160,
                                              opts=SYN_OPTS), "pass-state"),
        ("a new syn on the ports, far from the old numbers",
         *out(c, "S", 20001 + big, win=64240, opts=SYN_OPTS), "pass-state"),
        ("the syn-ack answering it", *back(c, "SA", 30001 + big, 20002 + big, win=65160,
                                           opts=SYN_OPTS), "pass-state"),
        ("the new connection's ack", *out(c, "A", 20002 + big, 30002 + big, win=2000),
         "pass-state"),
        ("data in the new connection's window", *back(c, "PA", 30002 + big, 20002 + big,
                                                      b"d" * 100, win=509), "pass-state"),
        ("data far past it", *back(c, "PA", 30002 + 3 * big // 2, 20002 + big, b"e" * 100,
                                   win=509), "drop-window"),
        # A SYN while the last FIN is unacknowledged: the server's
        # challenge ACK is not that acknowledgement (the flow stays, and
        # the next SYN is ignored too; after the real one it reopens).
        ("syn", *out(d, "S", 40000, win=64240, opts=SYN_OPTS), "pass-rule"),
        ("syn-ack", *back(d, "SA", 50000, 40001, win=65160, opts=SYN_OPTS), "pass-state"),
        ("ack", *out(d, "A", 40001, 50001, win=2000), "pass-state"),
        ("the client's fin", *out(d, "FA", 40001, 50001, win=2000), "pass-state"),
        ("the server's fin", *back(d, "FA", 50001, 40002, win=509), "pass-state"),
        ("a syn before the last ack", *out(d, "S", 40000 + big, win=64240, opts=SYN_OPTS),
         "pass-state"),
        ("the server's challenge ack", *back(d, "A", 50002, 40002, win=509), "pass-state"),
        ("the syn again: still ignored", *out(d, "S", 40000 + big, win=64240, opts=SYN_OPTS),
         "pass-state"),
        ("the last ack", *out(d, "A", 40002, 50002, win=2000), "pass-state"),
        ("a syn after it reopens", *out(d, "S", 40000 + big, win=64240, opts=SYN_OPTS),
         "pass-rule"),
    ]


def test_windows_lib_fw(fw):
    wrong = []
    for what, side, pkt, want in window_table():
        got = fw.verdict(side, pkt)
        if got != want:
            wrong.append(f"{what}: {got}, expected {want}")
    assert not wrong, "\n".join(wrong)
    report = "\n".join(fw.counters())
    for verdict in ("drop-window", "drop-state"):
        drops = sum(want == verdict for *_, want in window_table())
        assert f"{verdict}={drops}" in report, report


def test_windows_nftables():
    """The same segments through Linux forwarding and conntrack: what
    lib/fw passes comes through, what it drops as out of the window does
    not."""
    router = LinuxRouter()
    try:
        res = router.r.run(["sysctl", "-n", "net.netfilter.nf_conntrack_tcp_be_liberal"])
        assert res.stdout.strip() == "0", res.stdout
        wrong = []
        for n, (what, side, pkt, want) in enumerate(window_table()):
            pkt.id = 2000 + n
            got = router.forwards(side, pkt)
            if got != want.startswith("pass"):
                wrong.append(f"{what}: Linux {'passed' if got else 'dropped'} it, "
                             f"lib/fw says {want}")
        assert not wrong, "\n".join(wrong)
    finally:
        router.close()


def test_fuzz_fw():
    """libFuzzer over the rules and the flow table (tests/fuzz/fw_fuzz.c),
    seeded with the verdict table's datagrams and the window table's
    connections."""
    def record(side, pkt):
        raw = bytes(pkt)
        return bytes([0 if side == OUT else 1, len(raw) >> 8, len(raw) & 255]) + raw
    seeds = {f"t{n}": record(e[1], e[2]) for n, e in enumerate(table())}
    # Whole runs, so that mutations start from flows and windows.
    seeds["table"] = b"".join(record(e[1], e[2]) for e in table())
    seeds["windows"] = b"".join(record(side, pkt) for _, side, pkt, _ in window_table())
    run_fuzzer(FUZZER, seeds)


# --- rules2c ------------------------------------------------------------------

def compile_rules(tmp_path, text, *ifs):
    path = tmp_path / "test.rules"
    path.write_text(text)
    args = [RULES2C, "-o", str(tmp_path / "out.c")]
    for i in ifs:
        args += ["-i", i]
    return subprocess.run(args + [str(path)], capture_output=True, text=True), str(path)


BAD_RULES = [
    ("pass in proto tcp\n", 1, "'in' needs 'on INTERFACE'"),
    ("\n\npass on dmz all\n", 3, "no interface 'dmz' in the image (its network devices: outside, inside)"),
    ("pass proto tcp from any port 80:70\n", 1, "the range 80:70 is empty"),
    ("pass proto tcp to any port 65536\n", 1, "expected a port"),
    ("pass from 10.0.0.1/24\n", 1, "10.0.0.1/24 has bits set past its prefix length (10.0.0.0/24"),
    ("pass from 10.0.0.256\n", 1, "expected an address or prefix"),
    ("pass from 10..0.1\n", 1, "expected an address or prefix"),
    ("pass to any port 53\n", 1, "'port' needs 'proto tcp'"),
    ("pass proto { tcp icmp } to any port 53\n", 1, "'port' needs 'proto tcp'"),
    ("pass proto udp icmp-type echo-request\n", 1, "'icmp-type' needs 'proto icmp'"),
    ("pass proto icmp icmp-type ping\n", 1, "expected an ICMP type"),
    ("block proto tcp keep state\n", 1, "'keep state' belongs on a pass rule"),
    ("pass proto sctp\n", 1, "expected a protocol"),
    ("# c\nallow all\n", 2, "expected a rule (pass or block)"),
    ("pass all keep\n", 1, "expected 'state' after 'keep'"),
    ("pass to $web\n", 1, "no macro 'web' defined above"),
    ("a = 1.2.3.4\na = 1.2.3.5\n", 2, "macro 'a' is already defined at line 1"),
    ("pass from { }\n", 1, "an empty list matches nothing"),
    ("pass from { 1.2.3.4, ! 1.2.3.5 }\n", 1, "'!' inside a list"),
    ("pass from { 1.2.3.4\n", 1, "expected '}' to close the list"),
    ("pass all \\\n", 1, "the file ends inside a continued line"),
    ("pass to any from any\n", 1, "unexpected 'from'"),
    ("pass all; block all\n", 1, "unexpected character ';'"),
]


@pytest.mark.parametrize("text,line,message", BAD_RULES)
def test_rules2c_errors(tmp_path, text, line, message):
    r, path = compile_rules(tmp_path, text, OUT, IN)
    assert r.returncode != 0
    assert r.stderr.startswith(f"{path}:{line}: "), r.stderr
    assert message in r.stderr, r.stderr
    assert not os.path.exists(tmp_path / "out.c")


def test_rules2c_sample_and_continuations(tmp_path):
    """The firewall's sample rules compile for its devices; a rule over
    several lines is reported where it starts, as one line of text."""
    sample = os.path.join(ROOT, "apps", "firewall", "dmz.rules")
    r = subprocess.run([RULES2C, "-i", OUT, "-i", IN, sample], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "const struct fw_ruleset fw_rules" in r.stdout
    r, path = compile_rules(tmp_path, "n = { 10.0.0.0/8 \\\n  192.168.0.0/16 }\n"
                            "pass in on outside proto tcp \\\n\tfrom $n # why\n")
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "out.c").read_text()
    assert '"pass in on outside proto tcp from $n", 3,' in text, text
