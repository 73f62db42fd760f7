"""Random DNS queries drawn from zones, for differential runs against a
reference server (dns_compare.py --random).  A seeded PRNG: the same seed
and zones give the same queries, so a difference found once is found again.

Names: the zones' owners and the empty non-terminals above them, names below
them (below a delegation: referrals; below a wildcard's parent: wildcard
matches; elsewhere: NXDOMAIN), the wildcard owners themselves, names outside
the zones, odd bytes in labels, names near 255 bytes; each in random case
(0x20).  Types: the zone's and DS, ANY, rare and unknown ones, meta types.
Flags: RD, CD, AD.  EDNS: none, or version 0 (mostly) or another, random
payload sizes, DO, other flag bits, an unknown option.
"""
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.zone

COMMON = ["A", "AAAA", "NS", "SOA", "CNAME", "MX", "TXT", "SRV", "PTR", "CAA",
          "DS", "ANY"]
RARE = ["DNSKEY", "RRSIG", "NSEC", "NSEC3", "NSEC3PARAM", "HINFO", "NAPTR",
        "TLSA", "SVCB", "HTTPS", "SSHFP", "NULL", "WKS", "MB", "MINFO", "DNAME",
        "SPF", "URI", "CDS", "CDNSKEY", "TYPE0", "TYPE65535", "TYPE65280",
        "IXFR", "AXFR", "MAILB", "MAILA", "OPT", "TSIG", "TKEY"]
LABEL_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-_"
PAYLOADS = [0, 1, 511, 512, 513, 1024, 1231, 1232, 1233, 1400, 4096, 65535]


def zone_names(origin, path):
    """(names, wildcard parents, delegations) of a zone file."""
    z = dns.zone.from_file(path, origin, relativize=False, check_origin=False)
    apex = z.origin
    names, wild_parents, cuts = set(), set(), set()
    for name, node in z.nodes.items():
        if name.labels[0] == b"*":
            wild_parents.add(name.parent())
        if name != apex and node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NS):
            cuts.add(name)
        while name != apex:  # the name and its empty non-terminals
            names.add(name)
            name = name.parent()
    names.add(apex)
    return sorted(names), sorted(wild_parents), sorted(cuts)


class Generator:
    def __init__(self, rnd, zones):
        """zones: [(origin, path)]."""
        self.rnd = rnd
        self.names, self.wild, self.cuts, self.apexes = [], [], [], []
        for origin, path in zones:
            n, w, c = zone_names(origin, path)
            self.names += n
            self.wild += w
            self.cuts += c
            self.apexes.append(dns.name.from_text(origin))

    def label(self):
        r = self.rnd
        k = r.random()
        if k < 0.85:
            n = r.choice([1, 1, 2, 3, 5, 8, 13])
            return "".join(r.choice(LABEL_CHARS) for _ in range(n)).encode()
        if k < 0.93:  # bytes that need escapes: dots, NULs, non-ASCII
            return bytes(r.randrange(256) for _ in range(r.randrange(1, 6)))
        if k < 0.97:
            return b"*"
        return "".join(r.choice(LABEL_CHARS) for _ in range(63)).encode()

    def below(self, name, max_labels=3):
        labels = [self.label() for _ in range(self.rnd.randrange(1, max_labels + 1))]
        try:
            return dns.name.Name(labels + list(name.labels))
        except dns.name.NameTooLong:
            return name

    def long_name(self, base):
        """A name under base of 250 to 255 bytes."""
        r = self.rnd
        labels = list(base.labels)
        size = sum(len(l) + 1 for l in labels)
        target = r.randrange(250, 256)
        while size < target:
            n = min(63, target - size - 1)
            if n < 1:
                break
            labels.insert(0, "".join(r.choice(LABEL_CHARS) for _ in range(n)).encode())
            size += n + 1
        return dns.name.Name(labels)

    def name(self):
        r = self.rnd
        k = r.random()
        if k < 0.40:
            n = r.choice(self.names)
        elif k < 0.55:
            n = self.below(r.choice(self.names))
        elif k < 0.67 and self.wild:
            n = self.below(r.choice(self.wild))
        elif k < 0.75 and self.cuts:
            c = r.choice(self.cuts)
            n = c if r.random() < 0.5 else self.below(c)
        elif k < 0.85:  # outside the zones
            apex = r.choice(self.apexes)
            n = r.choice([
                dns.name.root, apex.parent() if apex != dns.name.root else apex,
                dns.name.from_text("example.org"),
                dns.name.Name([self.label()] + list(apex.labels[1:])),
                dns.name.Name([apex.labels[0] + b"x"] + list(apex.labels[1:])),
                self.below(dns.name.root, 2),
            ])
        elif k < 0.90:
            n = self.long_name(r.choice(self.names))
        else:
            n = r.choice(self.apexes)
        return self.case(n)

    def case(self, name):
        """Random 0x20 case on the ASCII letters."""
        r = self.rnd
        if r.random() < 0.4:
            return name
        labels = []
        for l in name.labels:
            labels.append(bytes(c ^ 0x20 if (65 <= c <= 90 or 97 <= c <= 122)
                                and r.random() < 0.5 else c for c in l))
        return dns.name.Name(labels)

    def rdtype(self):
        r = self.rnd
        k = r.random()
        if k < 0.75:
            return dns.rdatatype.from_text(r.choice(COMMON))
        if k < 0.80:
            return dns.rdatatype.DS
        if k < 0.95:
            return dns.rdatatype.from_text(r.choice(RARE))
        return r.randrange(65536)

    def query(self):
        """A query, as dns_compare.py's query dict."""
        r = self.rnd
        q = {"name": self.name().to_text(), "type": dns.rdatatype.to_text(self.rdtype()),
             "class": "IN", "rd": r.random() < 0.5, "cd": r.random() < 0.2,
             "ad": r.random() < 0.2, "id": r.randrange(65536),
             "edns": None, "ver": 0, "do": False, "ednsz": 0, "opt": None}
        if r.random() < 0.02:
            q["class"] = r.choice(["CH", "HS", "NONE", "ANY", "CLASS42"])
        if r.random() < 0.6:
            q["edns"] = r.choice(PAYLOADS) if r.random() < 0.8 else r.randrange(65536)
            if r.random() < 0.1:
                q["ver"] = r.randrange(1, 256)
            q["do"] = r.random() < 0.4
            if r.random() < 0.05:
                q["ednsz"] = r.randrange(1, 0x8000)  # the other flag bits
            if r.random() < 0.05:
                q["opt"] = r.choice([65001, 3, 12])  # unknown, NSID, padding
        return q
