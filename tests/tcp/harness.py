"""The packet-level TCP harness: this process is the remote peer, frame by
frame.  It answers ARP for its own address, sends TCP segments written in
the notation of tests/tcp/README.md (sequence and acknowledgment numbers
relative to the initial sequence numbers, as packetdrill has them) and
expects segments in the same notation, with timing.  Every failure says
what was expected, what came and when, followed by the whole trace.

The wire is a Link: a tap device this process owns (the Linux reference:
the kernel's stack is on the other side), a packet socket on a tap a
guest's monitor holds, or the hosted target's frames-in-UDP backend.
"""
import fcntl
import os
import random
import re
import select
import socket
import struct
import time

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

HARNESS_IP = "10.0.0.2"
HARNESS_MAC = "02:00:00:00:00:0a"
TARGET_IP = "10.0.0.1"

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000
ETH_P_ALL = 0x0003


class ScriptError(AssertionError):
    """An expectation that did not hold; the runner prints the trace after it."""


# ---------------------------------------------------------------- links


class TapLink:
    """A tap device created by this process and held by its descriptor:
    what the harness writes, the kernel receives on that interface."""

    def __init__(self, name):
        self.fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
        fcntl.ioctl(self.fd, TUNSETIFF, struct.pack("16sH22x", name.encode(), IFF_TAP | IFF_NO_PI))

    def fileno(self):
        return self.fd

    def recv(self):
        try:
            return os.read(self.fd, 65536)
        except BlockingIOError:
            return None

    def send(self, frame):
        os.write(self.fd, frame)


class PacketLink:
    """A packet socket on an interface whose other end a guest holds (a
    tap its monitor attached to): frames the guest sends arrive here."""

    def __init__(self, ifname):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.s.bind((ifname, 0))
        self.s.setblocking(False)

    def fileno(self):
        return self.s.fileno()

    def recv(self):
        while True:
            try:
                frame, addr = self.s.recvfrom(65536)
            except BlockingIOError:
                return None
            if addr[2] != socket.PACKET_OUTGOING:  # not our own sends
                return frame

    def send(self, frame):
        self.s.send(frame)


class UdpLink:
    """The hosted target's no-root backend: one Ethernet frame per UDP
    datagram on 127.0.0.1 (`--net service=udp:GUEST_PORT:OUR_PORT`)."""

    def __init__(self, lport, rport):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", lport))
        self.s.connect(("127.0.0.1", rport))
        self.s.setblocking(False)

    def fileno(self):
        return self.s.fileno()

    def recv(self):
        try:
            return self.s.recv(65536)
        except (BlockingIOError, ConnectionRefusedError):
            return None

    def send(self, frame):
        try:
            self.s.send(frame)
        except ConnectionRefusedError:
            pass  # the guest is not up yet: a frame lost on the wire


def open_link(spec):
    """tap:NAME, packet:NAME or udp:LPORT:RPORT."""
    kind, _, arg = spec.partition(":")
    if kind == "tap":
        return TapLink(arg)
    if kind == "packet":
        return PacketLink(arg)
    if kind == "udp":
        lport, rport = map(int, arg.split(":"))
        return UdpLink(lport, rport)
    raise ValueError(f"a link is tap:NAME, packet:NAME or udp:LPORT:RPORT, not {spec!r}")


# ---------------------------------------------------------------- notation

FLAG_ORDER = "FSRP.UEW"  # tcpdump's order
SCAPY_FLAG = {"F": "F", "S": "S", "R": "R", "P": "P", ".": "A", "U": "U", "E": "E", "W": "C"}
FLAG_BITS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, ".": 0x10, "U": 0x20, "E": 0x40, "W": 0x80}
ANY = "*"

SEG_RE = re.compile(
    r"^\s*(?P<flags>[FSRP.UEW]+)"
    r"(?:\s+(?P<seq>-?\d+|\*):(?P<end>-?\d+|\*)\((?P<len>\d+|\*)\))?"
    r"(?:\s+ack\s+(?P<ack>-?\d+|\*))?"
    r"(?:\s+win\s+(?P<win>\d+|\*))?"
    r"(?:\s+<(?P<opts>[^>]*)>)?\s*$")


def _num(s):
    return None if s is None else (ANY if s == ANY else int(s))


def parse_options(text):
    """'mss 1000,sackOK,TS val 1 ecr 0,nop,wscale 7,sack 1:101 201:301'
    -> [("mss", 1000), ("sackOK", None), ("TS", (1, 0)), ...]."""
    opts = []
    for item in filter(None, (i.strip() for i in text.split(","))):
        w = item.split()
        name = w[0]
        if name in ("mss", "wscale") and len(w) == 2:
            opts.append((name, _num(w[1])))
        elif name in ("sackOK", "nop", "eol") and len(w) == 1:
            opts.append((name, None))
        elif name == "TS" and len(w) == 5 and w[1] == "val" and w[3] == "ecr":
            opts.append(("TS", (_num(w[2]), _num(w[4]))))
        elif name == "sack" and len(w) >= 2:
            blocks = []
            for b in w[1:]:
                left, right = b.split(":")
                blocks.append((_num(left), _num(right)))
            opts.append(("sack", tuple(blocks)))
        else:
            raise ValueError(f"not an option: {item!r}")
    return opts


def format_options(opts):
    out = []
    for name, v in opts:
        if name == "TS":
            out.append(f"TS val {v[0]} ecr {v[1]}")
        elif name == "sack":
            out.append("sack " + " ".join(f"{a}:{b}" for a, b in v))
        elif v is None:
            out.append(name)
        else:
            out.append(f"{name} {v}")
    return "<" + ",".join(out) + ">"


class Spec:
    """A segment as a script writes it; None is 'not said', ANY is '*'."""

    def __init__(self, text):
        m = SEG_RE.match(text)
        if not m:
            raise ValueError(f"not a segment: {text!r} (see tests/tcp/README.md)")
        self.text = text.strip()
        self.flags = set(m["flags"])
        self.seq, self.end, self.len = _num(m["seq"]), _num(m["end"]), _num(m["len"])
        self.ack, self.win = _num(m["ack"]), _num(m["win"])
        self.opts = None if m["opts"] is None else parse_options(m["opts"])


class Seg:
    """A segment on the wire, in numbers relative to the connection."""

    def __init__(self, flags, seq, ack, win, opts, payload, t=None, csum_ok=True):
        self.flags, self.seq, self.ack, self.win = set(flags), seq, ack, win
        self.opts, self.payload, self.t, self.csum_ok = opts, payload, t, csum_ok
        self.wnd = win  # the window in bytes (scaled), set by the connection

    @property
    def len(self):
        return len(self.payload)

    @property
    def end(self):
        return self.seq + len(self.payload)

    def opt(self, name):
        for n, v in self.opts:
            if n == name:
                return v if v is not None else True
        return None

    def __str__(self):
        s = "".join(f for f in FLAG_ORDER if f in self.flags)
        s += f" {self.seq}:{self.end}({self.len})"
        if "." in self.flags:
            s += f" ack {self.ack}"
        s += f" win {self.win}"
        if self.opts:
            s += " " + format_options(self.opts)
        if not self.csum_ok:
            s += " [bad checksum]"
        return s


def _match_value(want, got):
    if want == ANY:
        return True
    if isinstance(want, tuple):
        return (isinstance(got, tuple) and len(want) == len(got) and
                all(_match_value(w, g) for w, g in zip(want, got)))
    return want == got


def mismatches(spec, seg):
    """What in seg differs from spec, as sentences (empty when it matches).
    Flags match exactly, except that PSH is checked only when the spec
    names it; options match as a set, NOP and EOL aside."""
    why = []
    want = spec.flags if "P" in spec.flags else spec.flags | ({"P"} & seg.flags)
    if want != seg.flags:
        why.append("flags differ")
    for name, w, g in (("seq", spec.seq, seg.seq), ("end", spec.end, seg.end),
                       ("length", spec.len, seg.len), ("ack", spec.ack, seg.ack),
                       ("win", spec.win, seg.win)):
        if w is not None and not _match_value(w, g):
            why.append(f"{name} {g}, not {w}")
    if spec.opts is not None:
        want_o = {n: v for n, v in spec.opts if n not in ("nop", "eol")}
        got_o = {n: v for n, v in seg.opts if n not in ("nop", "eol")}
        for n in want_o:
            if n not in got_o:
                why.append(f"no {n} option")
            elif not _match_value(want_o[n], got_o[n]):
                why.append(f"{n} {got_o[n]}, not {want_o[n]}")
        why += [f"an unexpected {n} option" for n in got_o if n not in want_o]
    if not seg.csum_ok:
        why.append("its checksum is wrong")
    return why


# ---------------------------------------------------------------- checksums


def _inet_sum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def tcp_checksum_ok(ip_raw):
    ihl = (ip_raw[0] & 15) * 4
    total = struct.unpack("!H", ip_raw[2:4])[0]
    seg = ip_raw[ihl:total]
    pseudo = ip_raw[12:20] + struct.pack("!BBH", 0, 6, len(seg))
    return _inet_sum(ip_raw[:ihl]) == 0xFFFF and _inet_sum(pseudo + seg) == 0xFFFF


# ---------------------------------------------------------------- the peer


SCAPY_OPT = {"MSS": "mss", "SAckOK": "sackOK", "Timestamp": "TS", "WScale": "wscale",
             "SAck": "sack", "NOP": "nop", "EOL": "eol"}


def _mod(x):
    """A 32-bit difference as a signed number."""
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x >= 1 << 31 else x


_used_ports = set()


class Peer:
    """The remote end of the wire.  Times in the trace and on segments are
    seconds since the peer was made."""

    def __init__(self, link, target, target_ip=TARGET_IP, ip=HARNESS_IP, mac=HARNESS_MAC):
        self.link, self.target = link, target
        self.target_ip, self.ip, self.mac = target_ip, ip, mac
        self.target_mac = None
        self.t0 = time.monotonic()
        self.trace = []
        self.notes = []
        self.conns = {}
        self.ip_id = random.randrange(65536)

    def now(self):
        return time.monotonic() - self.t0

    def log(self, line):
        self.trace.append(f"{self.now():+8.3f} {line}")

    def note(self, text):
        """Records an observation about the target (printed with the result)."""
        self.notes.append(text)
        self.log(f"note: {text}")

    def fail(self, message):
        raise ScriptError(f"at {self.now():+.3f}: {message}")

    def check(self, cond, message):
        if not cond:
            self.fail(message)

    # The wire.

    def _send_frame(self, frame):
        self.link.send(frame)

    def pump(self, deadline):
        """Reads and dispatches frames until the deadline (monotonic) or
        until at least one came; True if one came."""
        while True:
            got = False
            while (frame := self.link.recv()) is not None:
                self._dispatch(frame)
                got = True
            left = deadline - time.monotonic()
            if got or left <= 0:
                return got
            select.select([self.link], [], [], left)

    def _dispatch(self, frame):
        try:
            eth = Ether(frame)
        except Exception as e:  # noqa: BLE001 - what came is logged, not trusted
            self.log(f"target> undecodable frame ({e}): {frame[:32].hex()}")
            return
        if ARP in eth:
            a = eth[ARP]
            if a.op == 1 and a.pdst == self.ip:
                self._send_frame(bytes(Ether(src=self.mac, dst=a.hwsrc) /
                                       ARP(op=2, hwsrc=self.mac, psrc=self.ip,
                                           hwdst=a.hwsrc, pdst=a.psrc)))
                self.log(f"target> ARP who-has {a.pdst} tell {a.psrc}; answered")
            elif a.op == 2 and a.psrc == self.target_ip:
                self.target_mac = a.hwsrc
                self.log(f"target> ARP {a.psrc} is-at {a.hwsrc}")
            return
        if eth.type != 0x0800 or TCP not in eth or eth[IP].dst != self.ip:
            self.log(f"target> other: {eth.summary()}")
            return
        ip_raw = frame[14:]
        ip = eth[IP]
        tcp = eth[TCP]
        ihl = ip.ihl * 4
        body = ip_raw[ihl:ip.len]
        payload = body[tcp.dataofs * 4:]
        conn = self.conns.get((tcp.dport, tcp.sport))
        if conn is None:
            self.log(f"target> segment for no connection of ours: {ip.src}:{tcp.sport} > "
                     f"{ip.dst}:{tcp.dport} flags {tcp.flags}")
            return
        conn._incoming(tcp, payload, tcp_checksum_ok(ip_raw))

    def resolve(self, timeout=10):
        """Learns the target's hardware address by ARP (asking every 0.2 s);
        the first answer also says the target is up."""
        deadline = time.monotonic() + timeout
        while self.target_mac is None:
            self.check(time.monotonic() < deadline,
                       f"no ARP answer from {self.target_ip} in {timeout} s")
            self._send_frame(bytes(Ether(src=self.mac, dst="ff:ff:ff:ff:ff:ff") /
                                   ARP(op=1, hwsrc=self.mac, psrc=self.ip, pdst=self.target_ip)))
            again = min(deadline, time.monotonic() + 0.2)
            while self.target_mac is None and time.monotonic() < again:
                self.pump(again)
        return self.target_mac

    def sleep(self, seconds):
        """Waits, answering ARP and queueing segments meanwhile."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.pump(deadline)

    def connection(self, port, sport=None, iss=None):
        """A connection (not yet open) from a port of ours to port: a port
        this process has not used before, unless sport says otherwise (the
        target may still hold an earlier script's connection)."""
        while sport is None or sport in _used_ports:
            sport = random.randrange(20000, 60000)
        _used_ports.add(sport)
        c = Conn(self, sport, port, random.getrandbits(32) if iss is None else iss)
        self.conns[(sport, port)] = c
        return c


class Conn:
    """One connection as the harness sees it.  Numbers in specs are
    relative: our sequence numbers to our ISN (iss), the target's to its
    ISN (irs, learnt from its SYN)."""

    def __init__(self, peer, sport, dport, iss):
        self.peer, self.sport, self.dport, self.iss = peer, sport, dport, iss
        self.irs = None
        self.queue = []
        self.snd_nxt = 0       # ours, relative
        self.rcv_nxt = 0       # the target's, relative: what we have seen
        self.ts_recent = 0     # the target's last TSval
        self.ts_last = 0       # our last TSval
        self.syn_opts = {}     # what each SYN offered: ours and theirs
        self.their_syn_opts = {}
        self.peer.log(f"conn :{sport} -> :{dport}, our ISN {iss}")

    @property
    def ts_on(self):
        return "TS" in self.syn_opts and "TS" in self.their_syn_opts

    @property
    def snd_shift(self):
        """How the target's window fields scale (RFC 7323 2.3)."""
        if "wscale" in self.syn_opts and "wscale" in self.their_syn_opts:
            return self.their_syn_opts["wscale"]
        return 0

    def ts_val(self):
        """Our clock for timestamps: milliseconds since the script began,
        plus 100, never behind a value a script sent itself."""
        return max(self.ts_last, 100 + int(self.peer.now() * 1000))

    # Sending.

    def send(self, spec, payload=None, bad_checksum=False):
        """Sends the segment the spec describes.  seq omitted: our next
        sequence number; ack omitted with '.': everything seen from the
        target; win omitted: 65535; options omitted: a timestamp when the
        handshake agreed on them, else none.  The payload is `payload`, or
        as many bytes as the spec's length says."""
        sp = Spec(spec)
        if ANY in (sp.seq, sp.end, sp.len, sp.ack, sp.win):
            raise ValueError(f"a sent segment says every number: {spec!r}")
        if payload is None:
            n = sp.len or 0
            payload = bytes(0x61 + i % 26 for i in range(n))
        if sp.len is not None and sp.len != len(payload):
            raise ValueError(f"{spec!r} says length {sp.len}, the payload is {len(payload)}")
        seq = self.snd_nxt if sp.seq is None else sp.seq
        if sp.end is not None and sp.end != seq + len(payload):
            raise ValueError(f"{spec!r}: {sp.seq}+{len(payload)} is not {sp.end}")
        ack = sp.ack if sp.ack is not None else (self.rcv_nxt if "." in sp.flags else 0)
        win = 65535 if sp.win is None else sp.win
        opts = sp.opts
        if opts is None:
            opts = [("TS", (self.ts_val(), self.ts_recent))] if self.ts_on else []
        if "S" in sp.flags:
            self.syn_opts = {n: v for n, v in opts}
        for n, v in opts:
            if n == "TS":
                self.ts_last = max(self.ts_last, v[0])
        scapy_opts = []
        for name, v in opts:
            if name == "mss":
                scapy_opts.append(("MSS", v))
            elif name == "wscale":
                scapy_opts.append(("WScale", v))
            elif name == "sackOK":
                scapy_opts.append(("SAckOK", b""))
            elif name == "TS":
                scapy_opts.append(("Timestamp", v))
            elif name == "nop":
                scapy_opts.append(("NOP", None))
            elif name == "eol":
                scapy_opts.append(("EOL", None))
            elif name == "sack":
                edges = [(self.irs + x) & 0xFFFFFFFF for b in v for x in b]
                scapy_opts.append(("SAck", tuple(edges)))
        seg = Seg(sp.flags, seq, ack if "." in sp.flags else 0, win, opts, payload)
        self.peer.ip_id = (self.peer.ip_id + 1) & 0xFFFF
        pkt = (Ether(src=self.peer.mac, dst=self.peer.target_mac or "ff:ff:ff:ff:ff:ff") /
               IP(src=self.peer.ip, dst=self.peer.target_ip, id=self.peer.ip_id, flags="DF") /
               TCP(sport=self.sport, dport=self.dport, seq=(self.iss + seq) & 0xFFFFFFFF,
                   ack=((self.irs or 0) + ack) & 0xFFFFFFFF if "." in sp.flags else 0,
                   flags="".join(SCAPY_FLAG[f] for f in sp.flags), window=win,
                   options=scapy_opts) / Raw(payload))
        frame = bytearray(bytes(pkt))
        if bad_checksum:
            off = 14 + 20 + 16  # the TCP checksum field
            frame[off] ^= 0x5A
            seg.csum_ok = False
        self.peer._send_frame(bytes(frame))
        seg.t = self.peer.now()
        self.peer.log(f"harness> :{self.sport} > :{self.dport} {seg}")
        self.snd_nxt = max(self.snd_nxt, seg.end + ("S" in sp.flags) + ("F" in sp.flags))
        return seg

    # Receiving.

    def _incoming(self, tcp, payload, csum_ok):
        if tcp.flags.S and self.irs is None:
            self.irs = tcp.seq
        opts = []
        for o in tcp.options:
            name = SCAPY_OPT.get(o[0], f"kind {o[0]}")
            v = o[1]
            if name == "sack":
                v = tuple((_mod(v[i] - self.iss), _mod(v[i + 1] - self.iss))
                          for i in range(0, len(v) - 1, 2))
            elif name in ("sackOK", "nop", "eol"):
                v = None
            opts.append((name, v))
        flags = {f for f, bit in FLAG_BITS.items() if int(tcp.flags) & bit}
        # Until the target's SYN gives its ISN, its numbers are absolute.
        seq = tcp.seq if self.irs is None else _mod(tcp.seq - self.irs)
        seg = Seg(flags, seq,
                  _mod(tcp.ack - self.iss) if "." in flags else 0,
                  tcp.window, opts, bytes(payload), self.peer.now(), csum_ok)
        if "S" in flags:
            self.their_syn_opts = {n: v for n, v in opts}
        else:
            seg.wnd = seg.win << self.snd_shift
        ts = seg.opt("TS")
        if ts:
            self.ts_recent = ts[0]
        self.rcv_nxt = max(self.rcv_nxt, seg.end + ("S" in flags) + ("F" in flags))
        self.peer.log(f"target>  :{self.dport} > :{self.sport} {seg}")
        self.queue.append(seg)
        return seg

    def poll(self, within):
        """The next segment from the target within `within` seconds, or None."""
        deadline = time.monotonic() + within
        while not self.queue:
            if not self.peer.pump(deadline) and time.monotonic() >= deadline:
                return None
        return self.queue.pop(0)

    def expect(self, spec, within=1.0, allow=()):
        """The next segment, which must match spec and come within
        `within` seconds; segments matching a spec in `allow` may come
        first and are passed over.  Returns the segment."""
        sp = Spec(spec)
        allowed = [Spec(a) for a in ([allow] if isinstance(allow, str) else allow)]
        start = self.peer.now()
        deadline = time.monotonic() + within
        while True:
            seg = self.poll(max(0.0, deadline - time.monotonic()))
            if seg is None:
                self.peer.fail(f"expected within {within:.3f} s of {start:+.3f}: {sp.text}\n"
                               f"  nothing came")
            why = mismatches(sp, seg)
            if not why:
                return seg
            if any(not mismatches(a, seg) for a in allowed):
                continue
            self.peer.fail(f"expected within {within:.3f} s of {start:+.3f}: {sp.text}\n"
                           f"  came at {seg.t:+.3f}: {seg}\n  ({'; '.join(why)})")

    def expect_nothing(self, duration, allow=()):
        """Nothing from the target for `duration` seconds, but segments
        matching a spec in `allow`."""
        allowed = [Spec(a) for a in ([allow] if isinstance(allow, str) else allow)]
        start = self.peer.now()
        deadline = time.monotonic() + duration
        while (seg := self.poll(max(0.0, deadline - time.monotonic()))) is not None:
            if not any(not mismatches(a, seg) for a in allowed):
                self.peer.fail(f"expected nothing for {duration:.3f} s from {start:+.3f}\n"
                               f"  came at {seg.t:+.3f}: {seg}")

    # Common openings.

    def connect(self, opts="mss 1000,sackOK", win=65535, within=1.0):
        """The three-way handshake from our side, with our ISN as
        relative 0; returns the target's SYN-ACK."""
        self.send(f"S 0:0(0) win {win} <{opts}>")
        synack = self.expect("S. 0:0(0) ack 1", within)
        self.send(f". 1:1(0) ack 1 win {win}")
        return synack
