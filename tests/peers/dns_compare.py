#!/usr/bin/python3
"""Asks the same queries of two DNS servers and prints every difference in
their answers, one JSON object per line (nothing when they agree).
  dns_compare.py OURS REFERENCE QUERIES-FILE
A query line: NAME TYPE [edns=SIZE] [ver=N] [do] [rd]; blank lines and # comments
are skipped.  Differences the RFCs allow are reported with "allowed" and
the reason, and are not failures.
"""
import json
import sys

import dns.flags
import dns.message
import dns.query
import dns.rdatatype


def ask(server, name, rdtype, edns, ver, do, rd):
    use = ver if ver is not None else edns is not None
    q = dns.message.make_query(name, rdtype, use_edns=use,
                               payload=edns or 1232, want_dnssec=do)
    if not rd:
        q.flags &= ~dns.flags.RD
    q.id = 4242
    return dns.query.udp(q, server, timeout=3, ignore_trailing=False)


def section(rrsets):
    return sorted(rr.to_text() for rr in rrsets)


def norm(m):
    return {
        "rcode": m.rcode(),
        "flags": dns.flags.to_text(m.flags),
        "question": [q.to_text() for q in m.question],
        "answer": section(m.answer),
        "authority": section(m.authority),
        "additional": section(m.additional),
        "edns": m.edns,
        "ednsflags": m.ednsflags,
    }


def main():
    ours, ref, path = sys.argv[1:4]
    failures = 0
    for line in open(path):
        line = line.split("#", 1)[0].split()
        if not line:
            continue
        name, rdtype, opts = line[0], line[1], line[2:]
        edns = next((int(o[5:]) for o in opts if o.startswith("edns=")), None)
        ver = next((int(o[4:]) for o in opts if o.startswith("ver=")), None)
        args = (name, dns.rdatatype.from_text(rdtype), edns, ver, "do" in opts, "rd" in opts)
        a, b = norm(ask(ours, *args)), norm(ask(ref, *args))
        if a == b:
            continue
        diff = {k: {"ours": a[k], "reference": b[k]} for k in a if a[k] != b[k]}
        allowed = None
        if rdtype == "ANY" and set(diff) <= {"answer"} and a["answer"] and \
                set(a["answer"]) <= set(b["answer"]):
            allowed = "RFC 8482: ANY answered with one RRset of the name's"
        elif "tc" in a["flags"].lower().split() and "tc" in b["flags"].lower().split() \
                and set(diff) <= {"answer", "authority", "additional"}:
            allowed = "RFC 2181 9: what a truncated answer keeps is the server's choice"
        print(json.dumps({"query": " ".join(line), "diff": diff, "allowed": allowed}))
        failures += allowed is None
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
