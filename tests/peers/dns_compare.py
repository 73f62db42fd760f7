#!/usr/bin/python3
"""Asks the same queries of two DNS servers and prints every difference in
their answers, one JSON object per line.
  dns_compare.py OURS REFERENCE QUERIES-FILE
  dns_compare.py OURS REFERENCE --random COUNT --seed SEED --zone ORIGIN=PATH...
OURS and REFERENCE are IPv4 addresses (UDP port 53), tcp:ADDR (one TCP
connection to port 53 for every query, RFC 7766), or OURS is lib:PATH, a
shared library holding lib/dns (its dns_answer is called directly).

A query line: NAME TYPE [class=C] [edns=SIZE] [ver=N] [do] [ednsz=N]
[opt=CODE] [rd] [cd] [ad] [id=N]; blank lines and # comments are skipped.
--random draws COUNT queries from the zones instead (dns_random.py), from
the seeded PRNG; each difference prints the query as such a line, which
can be added to tests/dns_queries.txt to keep it.

Differences the RFCs allow are reported with "allowed" and the reason, and
are not failures.  The last line is "summary" and what OURS answered, as
its counters must count it (queries by type, answers by rcode, truncated,
referrals).  Exits 1 on a difference that is not allowed.
"""
import ctypes
import json
import random
import socket
import sys

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rdataclass
import dns.rcode
import dns.rdatatype

import dns_random

# The names of apps/dns's counters (lib/dns/answer.c).
COUNTED = ["A", "AAAA", "NS", "SOA", "CNAME", "MX", "TXT", "SRV", "PTR", "CAA",
           "DS", "ANY"]


def parse_line(line):
    words = line.split()
    q = {"name": words[0], "type": words[1], "class": "IN", "rd": False,
         "cd": False, "ad": False, "id": 4242, "edns": None, "ver": 0,
         "do": False, "ednsz": 0, "opt": None}
    for o in words[2:]:
        k, _, v = o.partition("=")
        if k in ("rd", "cd", "ad", "do"):
            q[k] = True
        elif k == "class":
            q[k] = v
        elif k in ("edns", "ver", "ednsz", "opt", "id"):
            q[k] = int(v, 0)
            if k == "ver" and q["edns"] is None:
                q["edns"] = 1232
        else:
            raise ValueError(f"unknown option {o!r} in {line!r}")
    return q


def line_of(q):
    """The query as a line of the corpus."""
    words = [q["name"], q["type"]]
    if q["class"] != "IN":
        words.append(f"class={q['class']}")
    if q["edns"] is not None:
        words.append(f"edns={q['edns']}")
        if q["ver"]:
            words.append(f"ver={q['ver']}")
        if q["do"]:
            words.append("do")
        if q["ednsz"]:
            words.append(f"ednsz={q['ednsz']:#x}")
        if q["opt"] is not None:
            words.append(f"opt={q['opt']}")
    words += [f for f in ("rd", "cd", "ad") if q[f]]
    words.append(f"id={q['id']}")
    return " ".join(words)


def wire(q):
    m = dns.message.make_query(dns.name.from_text(q["name"]),
                               dns.rdatatype.from_text(q["type"]),
                               dns.rdataclass.from_text(q["class"]), use_edns=False)
    m.id = q["id"]
    m.flags = 0
    for f, bit in (("rd", dns.flags.RD), ("cd", dns.flags.CD), ("ad", dns.flags.AD)):
        if q[f]:
            m.flags |= bit
    if q["edns"] is not None:
        # In one call: make_query's want_dnssec loses the version.
        m.use_edns(q["ver"], (dns.flags.DO if q["do"] else 0) | q["ednsz"], q["edns"],
                   options=[dns.edns.GenericOption(q["opt"], b"")] if q["opt"] is not None
                   else None)
    data = m.to_wire()
    check = dns.message.from_wire(data)
    assert check.edns == (q["ver"] if q["edns"] is not None else -1), q
    return data


class Udp:
    def __init__(self, addr):
        self.addr = addr
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.settimeout(3)
        self.s.connect((addr, 53))

    def ask(self, data):
        self.s.send(data)
        while True:
            try:
                reply = self.s.recv(65536)
            except socket.timeout:
                return None
            if reply[:2] == data[:2]:
                return reply  # a late answer to an earlier query is skipped


class Tcp:
    """One TCP connection (RFC 7766), kept for every query; opened again if
    the server closed it between two."""

    def __init__(self, addr):
        self.addr = addr
        self.s = None

    def _recv(self, n):
        data = b""
        while len(data) < n:
            chunk = self.s.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def ask(self, data):
        for _ in range(2):
            if self.s is None:
                self.s = socket.create_connection((self.addr, 53), timeout=3)
            try:
                self.s.sendall(len(data).to_bytes(2, "big") + data)
                head = self._recv(2)
                if head is not None:
                    return self._recv(int.from_bytes(head, "big"))
            except (ConnectionError, socket.timeout):
                pass
            self.s.close()
            self.s = None
        return None


class Lib:
    """lib/dns's dns_answer, called in this process (a zone set that no
    image was built with)."""

    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        self.lib.dns_answer.restype = ctypes.c_size_t
        self.lib.dns_answer.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                                        ctypes.c_size_t, ctypes.c_bool]
        self.buf = ctypes.create_string_buffer(1232)

    def ask(self, data):
        n = self.lib.dns_answer(data, len(data), self.buf, len(self.buf), False)
        return self.buf.raw[:n] if n else None


def server(spec):
    if spec.startswith("lib:"):
        return Lib(spec[4:])
    return Tcp(spec[4:]) if spec.startswith("tcp:") else Udp(spec)


def section(rrsets):
    return sorted(rr.to_text() for rr in rrsets)


def norm(reply):
    if reply is None:
        return {"reply": None}
    try:
        m = dns.message.from_wire(reply, ignore_trailing=False)
    except Exception as e:
        return {"reply": reply.hex(), "error": str(e)}
    return {
        "id": m.id,
        "rcode": m.rcode(),
        "flags": dns.flags.to_text(m.flags),
        "header": m.flags,  # every bit, the opcode too
        "question": [q.to_text() for q in m.question],
        "answer": section(m.answer),
        "authority": section(m.authority),
        "additional": section(m.additional),
        "edns": m.edns,
        "ednsflags": m.ednsflags,
        "payload": m.payload if m.edns >= 0 else None,
        "options": [o.to_text() for o in m.options],
    }


def allowed(q, a, b, diff):
    """Why a difference is allowed, or None."""
    if "reply" in a or "reply" in b:
        return None
    if q["type"] == "ANY" and set(diff) <= {"answer"} and a["answer"] and \
            set(a["answer"]) <= set(b["answer"]):
        return "RFC 8482: ANY answered with one RRset of the name's"
    if "tc" in a["flags"].lower().split() and "tc" in b["flags"].lower().split() \
            and set(diff) <= {"answer", "authority", "additional"}:
        return "RFC 2181 9: what a truncated answer keeps is the server's choice"
    return None


class Tally:
    """What OURS answered, in its counters' terms."""

    def __init__(self):
        self.types, self.rcodes = {}, {}
        self.badvers = self.truncated = self.referrals = 0

    def add(self, q, reply):
        t = dns.rdatatype.to_text(dns.rdatatype.from_text(q["type"]))
        t = t if t in COUNTED else "other"
        self.types[t] = self.types.get(t, 0) + 1
        m = dns.message.from_wire(reply)
        if m.rcode() == 16:
            self.badvers += 1
        else:
            r = dns.rcode.to_text(m.rcode()).lower()
            self.rcodes[r] = self.rcodes.get(r, 0) + 1
        self.truncated += bool(m.flags & dns.flags.TC)
        self.referrals += any(rr.rdtype == dns.rdatatype.NS for rr in m.authority)

    def summary(self):
        return {"types": self.types, "rcodes": self.rcodes, "badvers": self.badvers,
                "truncated": self.truncated, "referrals": self.referrals}


def queries(args):
    if args[0] != "--random":
        for line in open(args[0]):
            line = line.split("#", 1)[0].strip()
            if line:
                yield parse_line(line)
        return
    count, seed, zones = None, None, []
    it = iter(args)
    for a in it:
        if a == "--random":
            count = int(next(it))
        elif a == "--seed":
            seed = int(next(it))
        elif a == "--zone":
            origin, _, path = next(it).partition("=")
            zones.append((origin, path))
    gen = dns_random.Generator(random.Random(seed), zones)
    for _ in range(count):
        yield gen.query()


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    ours, ref = server(sys.argv[1]), server(sys.argv[2])
    tally = Tally()
    failures = asked = 0
    for q in queries(sys.argv[3:]):
        data = wire(q)
        ra, rb = ours.ask(data), ref.ask(data)
        asked += 1
        if ra is not None:
            tally.add(q, ra)
        a, b = norm(ra), norm(rb)
        if a == b:
            continue
        diff = {k: {"ours": a.get(k), "reference": b.get(k)}
                for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}
        why = allowed(q, a, b, diff)
        print(json.dumps({"query": line_of(q), "wire": data.hex(), "diff": diff,
                          "allowed": why}), flush=True)
        failures += why is None
    print(json.dumps({"summary": tally.summary(), "asked": asked, "failures": failures}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
