"""Negative controls: scripts that must FAIL against any correct TCP,
each with the message it must fail with.  They show that the harness
notices a wrong number, an unwanted segment and a missing one, and says
what it expected, what came and when (tests/test_tcp_harness.py)."""
from scripts import DISCARD, ECHO

SCRIPTS = {}
MESSAGES = {}


def fails_with(*fragments):
    def register(fn):
        SCRIPTS[fn.__name__] = fn
        MESSAGES[fn.__name__] = fragments
        return fn
    return register


@fails_with("expected within 1.000 s of", ": S. 0:0(0) ack 2", "came at +", "(ack 1, not 2)")
def wrong_ack(h):
    """A SYN-ACK acknowledging one more than our SYN."""
    c = h.connection(DISCARD)
    c.send("S 0:0(0) win 65535 <mss 1000>")
    c.expect("S. 0:0(0) ack 2")


@fails_with("(no wscale option)",)
def missing_option(h):
    """A window scale the SYN never offered."""
    c = h.connection(DISCARD)
    c.send("S 0:0(0) win 65535 <mss 1000>")
    c.expect("S. 0:0(0) ack 1 <mss *,wscale *>")


@fails_with("expected nothing for 0.500 s", "came at +", ". 1:1(0) ack 11")
def unwanted_ack(h):
    """Silence after data, which is acknowledged."""
    c = h.connection(DISCARD)
    c.connect()
    c.send("P. 1:11(10) ack 1")
    c.expect_nothing(0.5)


@fails_with("expected within 0.100 s of", "nothing came")
def early_retransmission(h):
    """A retransmission 0.1 s after the echo: sooner than any RTO."""
    c = h.connection(ECHO)
    c.connect()
    c.send("P. 1:11(10) ack 1")
    c.expect("P. 1:11(10) ack 11", allow=". 1:1(0) ack 11")
    c.expect("P. 1:11(10) ack 11", within=0.1)
