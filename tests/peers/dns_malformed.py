#!/usr/bin/python3
"""Malformed queries: each must get FORMERR (or NOTIMP, or silence where a
server must not answer), never a malformed answer.
  dns_malformed.py SERVER
Silence is expected for exactly the datagrams shorter than a header and the
responses (QR set); every other datagram must be answered.  Silence is
checked without waiting: a valid probe query follows, and its answer must
be the next datagram to arrive (the server answers in order).
Prints the problems, then a JSON line of what the server answered, as its
counters must count it.  Exits 0 if there was no problem.
"""
import json
import random
import socket
import struct
import sys

import dns.message
import dns.rcode

SERVER = sys.argv[1]
rnd = random.Random(7)


def header(qd=1, an=0, ns=0, ar=0, flags=0, id=7):
    return struct.pack(">HHHHHH", id, flags, qd, an, ns, ar)


QNAME = b"\x03www\x07example\x04test\x00"
Q = QNAME + b"\x00\x01\x00\x01"
OPT = b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"
cases = {
    "no question": header(qd=0),
    "two questions": header(qd=2) + Q + Q,
    "truncated name": header() + b"\x03www\x07exa",
    "no type": header() + QNAME,
    "pointer in question": header() + b"\xc0\x0c\x00\x01\x00\x01",
    "label too long": header() + b"\x40" + b"a" * 64 + b"\x00\x00\x01\x00\x01",
    "name too long": header() + b"\x3f" + b"a" * 63 * 1 + (b"\x3f" + b"a" * 63) * 4 + b"\x00\x00\x01\x00\x01",
    "answer present": header(an=1) + Q,
    "two OPT": header(ar=2) + Q + OPT * 2,
    "OPT not at root": header(ar=1) + Q + b"\x01a" + OPT[1:],
    "truncated OPT": header(ar=1) + Q + b"\x00\x00\x29\x04",
    "status opcode": header(flags=2 << 11) + Q,
    "update opcode": header(flags=5 << 11) + Q,
    "header only": header(),
    "short": b"\x00\x01\x02",
    "a response": header(flags=0x8000) + Q,
}
for i in range(200):
    body = bytearray(header(ar=1) + Q + OPT)
    for _ in range(rnd.randrange(1, 6)):
        body[rnd.randrange(len(body))] = rnd.randrange(256)
    cases[f"random {i}"] = bytes(body[:rnd.randrange(1, len(body) + 1)])

PROBE_ID = 0xbeef
PROBE = dns.message.make_query("ns1.example.test", "A", id=PROBE_ID).to_wire()

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((SERVER, 53))
bad = 0
tally = {"rcodes": {}, "badvers": 0, "truncated": 0,
         "dropped": {"short": 0, "response": 0}}


def count(reply):
    """Tallies a well-formed reply by its rcode (BADVERS apart) and TC."""
    if len(reply) >= 12 and reply[2] >> 3 & 0xf == 0:
        rcode = dns.message.from_wire(reply).rcode()
    else:
        rcode = reply[3] & 0xf
    if rcode == dns.rcode.BADVERS:
        tally["badvers"] += 1
    else:
        name = dns.rcode.to_text(rcode).lower()
        tally["rcodes"][name] = tally["rcodes"].get(name, 0) + 1
    tally["truncated"] += bool(reply[2] & 0x02)


def problem(text):
    global bad
    print(text)
    bad += 1


for name, data in cases.items():
    silent = len(data) < 12 or data[2] & 0x80
    if silent:
        tally["dropped"]["short" if len(data) < 12 else "response"] += 1
    s.send(data)
    if silent:
        s.send(PROBE)
    try:
        reply = s.recv(65536)
    except socket.timeout:
        problem(f"{name}: no answer in 3 s (data {data.hex()})")
        continue
    if silent:
        if reply[:2] != struct.pack(">H", PROBE_ID):
            problem(f"{name}: expected silence, got {reply!r}")
            continue
        count(reply)
        continue
    opcode = reply[2] >> 3 & 0xf if len(reply) >= 3 else 0
    if opcode != 0:
        # dnspython parses only the opcodes it knows: check by hand that
        # this is a bare NOTIMP header.
        if len(reply) != 12 or not reply[2] & 0x80 or reply[3] & 0xf != 4 or any(reply[4:12]):
            problem(f"{name}: expected a bare NOTIMP header, got {reply!r}")
            continue
        count(reply)
        continue
    try:
        m = dns.message.from_wire(reply, ignore_trailing=False, question_only=False)
    except Exception as e:
        problem(f"{name}: malformed answer {reply!r}: {e}")
        continue
    if reply[:2] != data[:2]:
        problem(f"{name}: the answer's ID {reply[:2].hex()} is not the query's")
    if not name.startswith("random") and name not in ("status opcode", "update opcode") \
            and m.rcode() != dns.rcode.FORMERR:
        problem(f"{name}: expected FORMERR, got rcode {m.rcode()}")
    count(reply)
print(json.dumps(tally))
sys.exit(1 if bad else 0)
