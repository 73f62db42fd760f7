#!/usr/bin/python3
"""Malformed queries: each must get FORMERR (or NOTIMP, or silence), never a
malformed answer.  Exits 0 if so.
  dns_malformed.py SERVER
"""
import random
import socket
import struct
import sys

import dns.message

SERVER = sys.argv[1]
rnd = random.Random(7)


def header(qd=1, an=0, ns=0, ar=0, flags=0, id=7):
    return struct.pack(">HHHHHH", id, flags, qd, an, ns, ar)


QNAME = b"\x03www\x07example\x04test\x00"
Q = QNAME + b"\x00\x01\x00\x01"
cases = {
    "no question": header(qd=0),
    "two questions": header(qd=2) + Q + Q,
    "truncated name": header() + b"\x03www\x07exa",
    "no type": header() + QNAME,
    "pointer in question": header() + b"\xc0\x0c\x00\x01\x00\x01",
    "label too long": header() + b"\x40" + b"a" * 64 + b"\x00\x00\x01\x00\x01",
    "name too long": header() + b"\x3f" + b"a" * 63 * 1 + (b"\x3f" + b"a" * 63) * 4 + b"\x00\x00\x01\x00\x01",
    "answer present": header(an=1) + Q,
    "two OPT": header(ar=2) + Q + (b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00") * 2,
    "OPT not at root": header(ar=1) + Q + b"\x01a\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00",
    "truncated OPT": header(ar=1) + Q + b"\x00\x00\x29\x04",
    "status opcode": header(flags=2 << 11) + Q,
    "update opcode": header(flags=5 << 11) + Q,
    "header only": header(),
    "short": b"\x00\x01\x02",
    "a response": header(flags=0x8000) + Q,
}
for i in range(200):
    body = bytearray(header() + Q + b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00")
    for _ in range(rnd.randrange(1, 6)):
        body[rnd.randrange(len(body))] = rnd.randrange(256)
    cases[f"random {i}"] = bytes(body[:rnd.randrange(1, len(body) + 1)])

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
bad = 0
for name, data in cases.items():
    s.sendto(data, (SERVER, 53))
    try:
        reply = s.recv(65536)
    except socket.timeout:
        continue  # silence is allowed
    opcode = reply[2] >> 3 & 0xf if len(reply) >= 3 else 0
    if opcode != 0:
        # dnspython parses only the opcodes it knows: check by hand that
        # this is a bare NOTIMP header.
        if len(reply) != 12 or not reply[2] & 0x80 or reply[3] & 0xf != 4 or any(reply[4:12]):
            print(f"{name}: expected a bare NOTIMP header, got {reply!r}")
            bad += 1
        continue
    try:
        m = dns.message.from_wire(reply, ignore_trailing=False, question_only=False)
    except Exception as e:
        print(f"{name}: malformed answer {reply!r}: {e}")
        bad += 1
        continue
    if not name.startswith("random") and name not in ("status opcode", "update opcode") \
            and m.rcode() != 1:
        print(f"{name}: expected FORMERR, got rcode {m.rcode()}")
        bad += 1
    if name in ("short", "a response"):
        print(f"{name}: expected silence")
        bad += 1
sys.exit(1 if bad else 0)
