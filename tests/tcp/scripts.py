"""The harness's scripts, one behaviour each, in the notation of
tests/tcp/README.md.  Each is a function of the Peer; the target runs
tcpecho (echo on 7, discard on 9, the sender on 19).  Where Linux and the
RFCs part ways, the script accepts both, says so in a comment, and holds
the Linux target to what Linux was seen to do."""
from harness import Conn

ECHO, DISCARD, SENDER = 7, 9, 19

SCRIPTS = {}


def script(fn):
    SCRIPTS[fn.__name__] = fn
    return fn


def doubled(a, b, rel=0.25, slack=0.06):
    """Whether interval b is about twice interval a, as a backed-off timer
    makes it: within a quarter, plus 60 ms for the scheduling of this
    machine's two shared cores (a segment read late lengthens one
    interval and shortens the next).  A timer that does not back off
    (b = a) fails by a wide margin at every RTO Linux or the RFC allow."""
    return abs(b - 2 * a) <= rel * 2 * a + slack


@script
def handshake_options(h):
    """The SYN-ACK answers exactly the options the SYN offered (RFC 9293 3.5, RFC 7323, RFC 2018)."""
    c = h.connection(DISCARD)
    c.send("S 0:0(0) win 65535 <mss 1000,sackOK,TS val 100 ecr 0,nop,wscale 7>")
    sa = c.expect("S. 0:0(0) ack 1 <mss *,sackOK,TS val * ecr 100,wscale *>")
    h.check(536 <= sa.opt("mss") <= 1460, f"MSS {sa.opt('mss')} on a 1500-byte link")
    h.check(sa.opt("wscale") <= 14, "RFC 7323 2.3: a shift above 14")
    h.check(sa.win > 0, "a zero window in the SYN-ACK")
    # Linux: S. 0:0(0) ack 1 win 65160 <mss 1460,sackOK,TS val V ecr 100,nop,wscale 10>
    h.note(f"SYN-ACK: {sa}")
    c.send(". 1:1(0) ack 1 win 512")
    data = c.send("P. 1:11(10) ack 1 win 512")
    a = c.expect(". 1:1(0) ack 11 <TS val * ecr *>", within=0.5)
    val, ecr = a.opt("TS")
    h.check(ecr == data.opt("TS")[0], f"RFC 7323 4.3: TS ecr {ecr}, not the val of our segment")
    h.check((val - sa.opt("TS")[0]) & 0xFFFFFFFF < 1 << 31, "RFC 7323 5.4: TS val went backwards")

    # Offer MSS alone: the answer carries MSS alone, and so do later segments.
    c = h.connection(DISCARD)
    c.send("S 0:0(0) win 65535 <mss 1000>")
    c.expect("S. 0:0(0) ack 1 <mss *>")  # Linux: win 64240 <mss 1460>
    c.send(". 1:1(0) ack 1")
    c.send("P. 1:11(10) ack 1")
    c.expect(". 1:1(0) ack 11 <>", within=0.5)


@script
def data_in_order(h):
    """In-order data is acknowledged within 0.5 s (RFC 9293 3.8.6.3) and the echo is exact."""
    c = h.connection(DISCARD)
    c.connect()
    c.send("P. 1:101(100) ack 1")
    # Linux, in quick-ACK mode at the start of a connection, answers at once.
    c.expect(". 1:1(0) ack 101", within=0.5)
    c.send("P. 101:1101(1000) ack 1")
    c.expect(". 1:1(0) ack 1101", within=0.5)
    c.expect_nothing(0.1)

    c = h.connection(ECHO)
    c.connect()
    c.send("P. 1:6(5) ack 1", payload=b"hello")
    # The ACK may ride on the echo or come first (Linux: first).
    e = c.expect("P. 1:6(5) ack 6", allow=". 1:1(0) ack 6", within=0.5)
    h.check(e.payload == b"hello", f"echoed {e.payload!r}")
    c.send(". 6:6(0) ack 6")
    c.expect_nothing(0.1)


@script
def out_of_order_sack(h):
    """Out-of-order data gets an immediate duplicate ACK with SACK blocks, newest first (RFC 5681 4.2, RFC 2018 4)."""
    c = h.connection(DISCARD)
    c.connect()  # MSS 1000, SACK permitted, no timestamps
    c.send("P. 101:201(100) ack 1")
    c.expect(". 1:1(0) ack 1 <sack 101:201>", within=0.5)  # Linux: <nop,nop,sack 101:201>
    c.send("P. 301:401(100) ack 1")
    c.expect(". 1:1(0) ack 1 <sack 301:401 101:201>", within=0.5)
    c.send("P. 1:101(100) ack 1")  # fills the first hole
    c.expect(". 1:1(0) ack 201 <sack 301:401>", within=0.5)
    c.send("P. 201:301(100) ack 1")  # fills the last
    c.expect(". 1:1(0) ack 401 <>", within=0.5)


@script
def data_beyond_window(h):
    """Data beyond the receive window is dropped and answered with an ACK (RFC 9293 3.10.7.4)."""
    c = h.connection(DISCARD)
    sa = c.connect()
    beyond = 1 + sa.win + 1000
    c.send(f"P. {beyond}:{beyond + 100}(100) ack 1")
    c.expect(". 1:1(0) ack 1", within=0.5)
    c.send("P. 1:11(10) ack 1")
    c.expect(". 1:1(0) ack 11", within=0.5)


@script
def paws_old_timestamp(h):
    """With timestamps, a segment whose TSval is older than TS.Recent is dropped and answered with an ACK (RFC 7323 5.3)."""
    c = h.connection(DISCARD)
    c.connect(opts="mss 1000,sackOK,TS val 1000 ecr 0,nop,wscale 7")
    fresh = c.send("P. 1:11(10) ack 1")  # TS val 1000 or later
    c.expect(". 1:1(0) ack 11 <TS val * ecr *>", within=0.5)
    c.send(f"P. 11:21(10) ack 1 <TS val 900 ecr {c.ts_recent}>")
    a = c.expect(". 1:1(0) ack 11 <TS val * ecr *>", within=0.5)
    h.check(a.opt("TS")[1] == fresh.opt("TS")[0],
            f"TS ecr {a.opt('TS')[1]}: TS.Recent moved to the rejected segment's")
    c.send("P. 11:21(10) ack 1")
    c.expect(". 1:1(0) ack 21 <TS val * ecr *>", within=0.5)


@script
def retransmission_backoff(h):
    """Unacknowledged data is sent again, each timeout twice the last (RFC 6298 5.5)."""
    c = h.connection(ECHO)
    c.connect()
    c.send("P. 1:101(100) ack 1")
    first = c.expect("P. 1:101(100) ack 101", allow=". 1:1(0) ack 101")
    # We never acknowledge the echo.  Linux first sends a tail loss probe
    # (RFC 8985 7.2: PTO = 2 SRTT, plus 200 ms with one segment in flight,
    # capped by the RTO), then RTO retransmissions.  Its RTO floor is
    # 200 ms where RFC 6298 2.4 says 1 s: Linux was seen at 0.2 (the
    # probe), 0.2, 0.4, 0.8 s.
    probe = 1 if h.target == "linux" else 0
    times = [first.t]
    while True:
        r = c.expect("P. 1:101(100) ack 101", within=10)
        h.check(r.payload == first.payload, f"retransmitted {r.payload!r}")
        times.append(r.t)
        gaps = [b - a for a, b in zip(times, times[1:])]
        rtos = gaps[probe:]
        # Three timeouts, or two once 2.5 s have passed (an RTO of 1 s).
        if len(rtos) >= 3 or (len(rtos) >= 2 and r.t - first.t > 2.5):
            break
    h.note("retransmission intervals " + ", ".join(f"{g:.3f}" for g in gaps))
    h.check(0.19 <= rtos[0] <= 3.0, f"a first RTO of {rtos[0]:.3f} s")
    for a, b in zip(rtos, rtos[1:]):
        h.check(doubled(a, b), f"RTO backoff from {a:.3f} s to {b:.3f} s is not a doubling")


@script
def window_update(h):
    """A receiver whose window closed announces it again once its application has read (RFC 9293 3.8.6.2.2)."""
    c = h.connection(ECHO)
    sa = c.connect(win=0)
    # Our window stays shut, so the echo cannot leave: the target's
    # application blocks writing, stops reading, and the target's window
    # closes as our data fills its buffer.
    una, wnd = 1, sa.win
    while not (wnd == 0 and una == c.snd_nxt):
        h.check(c.snd_nxt < 4 << 20, "the window did not close in 4 MiB")
        while c.snd_nxt < una + wnd:
            n = min(1000, una + wnd - c.snd_nxt)
            c.send(f"P. {c.snd_nxt}:{c.snd_nxt + n}({n}) ack 1 win 0")
        s = c.poll(1.0)
        h.check(s is not None, f"no ACK in 1 s with {c.snd_nxt - una} bytes unacknowledged")
        # With our window shut only a probe may carry data: one byte.
        h.check(s.len <= 1, f"{s.len} bytes into a zero window")
        if s.ack >= una:
            una, wnd = s.ack, s.wnd
    filled = c.snd_nxt
    h.note(f"its window closed after {filled - 1} bytes")
    c.send(f". {filled}:{filled}(0) ack 1 win 65535")
    # The echo drains into our open window (we acknowledge it as it comes),
    # the application reads again, and the window reopens.
    got = 1
    while True:
        s = c.poll(2.0)
        h.check(s is not None, "no window update within 2 s of our window opening")
        if s.len and s.seq == got:
            got = s.end
            c.send(f". {filled}:{filled}(0) ack {got} win 65535")
        if s.wnd > 0:
            break
    # Receiver-side silly window avoidance: the window reopens by at least
    # a segment of ours, never a sliver.
    h.check(s.wnd >= 1000, f"the window reopened by {s.wnd} bytes, under a segment")
    h.note(f"window update after {got - 1} bytes echoed: {s}")
    c.send(f"P. {filled}:{filled + 100}(100) ack {got} win 0")
    c.expect(f". *:*(*) ack {filled + 100}", allow=". *:*(*) ack *", within=1.0)


@script
def zero_window_probes(h):
    """A sender facing a zero window probes it, backing off, and sends again when it opens (RFC 9293 3.8.6.1)."""
    c = h.connection(SENDER)
    c.connect(win=2000)
    c.send("P. 1:6(5) ack 1 win 2000", payload=b"3000\n")
    got = 1
    while got < 2001:
        s = c.poll(1.0)
        h.check(s is not None, f"only {got - 1} of the 2000 bytes our window allows came")
        h.check(s.end <= 2001, f"data beyond our window: {s}")
        if s.len:
            h.check(s.seq == got, f"data out of order: {s}")
            got = s.end
    shut = c.send(". 6:6(0) ack 2001 win 0")
    times = [shut.t]
    for _ in range(3):
        p = c.expect(". *:*(*) ack 6", within=5)
        # A copy of data we already have is a retransmission that crossed
        # our ACK (a loaded machine delays it), not a probe.
        while p.len and p.end <= 2001:
            p = c.expect(". *:*(*) ack 6", within=5)
        if p.len == 0:
            # Linux probes with SEG.SEQ=SND.UNA-1 and no data, a segment
            # outside our window that we must answer with an ACK.
            h.check(p.seq == 2000, f"a probe at {p.seq}, not SND.UNA-1")
        else:
            # RFC 9293 3.8.6.1: a probe carries one octet of new data.
            h.check(h.target != "linux", "Linux was seen to probe without data")
            h.check((p.seq, p.len) == (2001, 1), f"a probe of {p.len} bytes at {p.seq}")
        times.append(p.t)
        c.send(". 6:6(0) ack 2001 win 0")
    gaps = [b - a for a, b in zip(times, times[1:])]
    h.note("probe intervals " + ", ".join(f"{g:.3f}" for g in gaps))
    # The persist timer backs off as the RTO does (RFC 9293 3.8.6.1 asks
    # for exponential backoff); Linux: 0.2, 0.4, 0.8 s.
    for a, b in zip(gaps, gaps[1:]):
        h.check(doubled(a, b), f"probe backoff from {a:.3f} s to {b:.3f} s is not a doubling")
    c.send(". 6:6(0) ack 2001 win 2000")
    while got < 3001:
        s = c.poll(1.0)
        h.check(s is not None, f"no data after our window opened (have {got - 1} bytes)")
        if s.len:
            h.check(s.seq == got, f"data out of order: {s}")
            got = s.end


@script
def fin_in_established(h):
    """FIN in ESTABLISHED: ACK, CLOSE_WAIT, the application closes, FIN, LAST_ACK, CLOSED (RFC 9293 3.6)."""
    c = h.connection(DISCARD)
    c.connect()
    c.send("F. 1:1(0) ack 1")
    # The ACK of our FIN may come alone or with the target's own FIN
    # (Linux: with it, the application closing at once).
    c.expect("F. 1:1(0) ack 2", allow=". 1:1(0) ack 2")
    c.send(". 2:2(0) ack 2")
    # CLOSED: a segment now meets no connection, and is reset with
    # SEQ=SEG.ACK (RFC 9293 3.10.7.1).
    c.send("P. 2:12(10) ack 2")
    c.expect("R 2:2(0)")


@script
def half_close(h):
    """After our FIN the target still sends, from CLOSE_WAIT, then closes (RFC 9293 3.6)."""
    c = h.connection(SENDER)
    c.connect()
    c.send("FP. 1:6(5) ack 1", payload=b"2000\n")  # the request, then our FIN
    got = 1
    while True:
        s = c.poll(1.0)
        h.check(s is not None, f"{got - 1} of 2000 bytes and no FIN")
        h.check(s.ack == 7, f"our FIN is not acknowledged: {s}")
        if s.len:
            h.check(s.seq == got, f"data out of order: {s}")
            got = s.end
        if "F" in s.flags:
            break
    h.check(got == 2001, f"FIN after {got - 1} bytes, not 2000")
    c.send(f". 7:7(0) ack {got + 1}")  # LAST_ACK to CLOSED
    c.send(f"P. 7:17(10) ack {got + 1}")
    c.expect(f"R {got + 1}:{got + 1}(0)")


@script
def simultaneous_close(h):
    """FINs that cross: FIN_WAIT_1, CLOSING, TIME_WAIT (RFC 9293 3.6, figure 13)."""
    c = h.connection(SENDER)
    c.connect()
    c.send("P. 1:3(2) ack 1", payload=b"0\n")  # send nothing, then close
    c.expect("F. 1:1(0) ack 3", allow=". 1:1(0) ack 3")
    c.send("F. 3:3(0) ack 1")  # ours, not acknowledging theirs
    c.expect(". 2:2(0) ack 4")
    c.send(". 4:4(0) ack 2")
    c.send("F. 3:3(0) ack 2")  # as if our FIN was lost: TIME_WAIT answers it
    c.expect(". 2:2(0) ack 4")


@script
def time_wait_answers_fin(h):
    """TIME_WAIT acknowledges a retransmitted FIN (RFC 9293 3.10.7.4)."""
    c = h.connection(SENDER)
    c.connect()
    c.send("P. 1:3(2) ack 1", payload=b"0\n")
    c.expect("F. 1:1(0) ack 3", allow=". 1:1(0) ack 3")
    c.send(". 3:3(0) ack 2")  # FIN_WAIT_2
    c.send("F. 3:3(0) ack 2")  # TIME_WAIT
    c.expect(". 2:2(0) ack 4")
    c.send("F. 3:3(0) ack 2")  # as if that ACK was lost
    c.expect(". 2:2(0) ack 4")


@script
def time_wait_reopened_by_timestamp(h):
    """A SYN with a later timestamp reopens a connection in TIME_WAIT even
    below its sequence numbers (RFC 6191)."""
    c = h.connection(SENDER)
    c.connect(opts="mss 1000,sackOK,TS val 100 ecr 0")
    c.send("P. 1:3(2) ack 1", payload=b"0\n")
    c.expect("F. 1:1(0) ack 3", allow=". 1:1(0) ack 3")
    c.send(". 3:3(0) ack 2")
    c.send("F. 3:3(0) ack 2")  # the target is in TIME_WAIT
    c.expect(". 2:2(0) ack 4")
    # The same ports, an ISN 1000 below the old one: by sequence numbers
    # alone an old duplicate; its later timestamp says it is new.
    h.conns.pop((c.sport, c.dport))
    d = Conn(h, c.sport, c.dport, (c.iss - 1000) % (1 << 32))
    h.conns[(d.sport, d.dport)] = d
    d.ts_last = c.ts_val() + 1000
    d.connect(opts=f"mss 1000,sackOK,TS val {d.ts_last} ecr 0")


@script
def rst_in_window_exact(h):
    """A RST at exactly RCV.NXT closes the connection (RFC 5961 3.2)."""
    c = h.connection(DISCARD)
    c.connect()
    c.send("R 1:1(0)")
    c.expect_nothing(0.2)
    c.send("P. 1:11(10) ack 1")
    c.expect("R 1:1(0)")


@script
def syn_to_closed_port(h):
    """A SYN to a port nobody listens on gets <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (RFC 9293 3.10.7.1)."""
    c = h.connection(13)
    c.send("S 0:0(0) win 65535 <mss 1000>")
    c.expect("R. 0:0(0) ack 1")  # no SYN from the target: its numbers are absolute


@script
def rst_out_of_window(h):
    """A RST outside the window is dropped silently; the connection lives on (RFC 5961 3.2)."""
    c = h.connection(DISCARD)
    c.connect()
    c.send(f"R {1 << 20}:{1 << 20}(0)")
    c.expect_nothing(0.3)
    c.send("P. 1:11(10) ack 1")
    c.expect(". 1:1(0) ack 11", within=0.5)


@script
def rst_in_window_challenge(h):
    """A RST inside the window but not at RCV.NXT gets a challenge ACK and changes nothing (RFC 5961 3.2)."""
    c = h.connection(DISCARD)
    sa = c.connect()
    c.send("R 2:2(0)")
    c.expect(". 1:1(0) ack 1")
    c.send("P. 1:11(10) ack 1")
    c.expect(". 1:1(0) ack 11", within=0.5)
    # The last sequence number inside the window, on a connection of its
    # own: Linux sends at most one challenge ACK per connection every
    # 0.5 s (net.ipv4.tcp_invalid_ratelimit).
    c = h.connection(DISCARD)
    sa = c.connect()
    edge = 1 + sa.win - 1
    c.send(f"R {edge}:{edge}(0)")
    c.expect(". 1:1(0) ack 1")
    c.send("P. 1:11(10) ack 1")
    c.expect(". 1:1(0) ack 11", within=0.5)
    # RCV.NXT+RCV.WND itself is outside the window (RFC 9293 3.3.2: a
    # zero-length segment is acceptable if RCV.NXT =< SEG.SEQ <
    # RCV.NXT+RCV.WND), so RFC 5961 drops it silently.  Linux tests
    # SEG.SEQ =< RCV.NXT+RCV.WND and answers with a challenge ACK.
    c = h.connection(DISCARD)
    sa = c.connect()
    edge = 1 + sa.win
    c.send(f"R {edge}:{edge}(0)")
    if h.target == "linux":
        c.expect(". 1:1(0) ack 1")
    else:
        c.expect_nothing(0.3, allow=". 1:1(0) ack 1")
    c.send("P. 1:11(10) ack 1")
    c.expect(". 1:1(0) ack 11", within=0.5)


@script
def syn_in_established(h):
    """A SYN on an established connection gets a challenge ACK and changes nothing (RFC 5961 4.2)."""
    c = h.connection(DISCARD)
    c.connect()
    c.send("S 0:0(0) win 65535 <mss 1000>")  # the first SYN again
    c.expect(". 1:1(0) ack 1")
    c.send("P. 1:11(10) ack 1")
    c.expect(". 1:1(0) ack 11", within=0.5)
    c = h.connection(DISCARD)
    c.connect()
    c.send("S 100:100(0) win 65535 <mss 1000>")  # inside the window
    c.expect(". 1:1(0) ack 1")
    c.send("P. 1:11(10) ack 1")
    c.expect(". 1:1(0) ack 11", within=0.5)


@script
def bad_checksum_ignored(h):
    """Segments with a bad checksum are dropped unanswered (RFC 9293 3.1)."""
    c = h.connection(DISCARD)
    c.connect()
    c.send("P. 1:11(10) ack 1", bad_checksum=True)
    c.expect_nothing(0.3)
    c.send("P. 1:11(10) ack 1")
    c.expect(". 1:1(0) ack 11", within=0.5)
    c = h.connection(DISCARD)
    c.send("S 0:0(0) win 65535 <mss 1000>", bad_checksum=True)
    c.expect_nothing(0.2)
