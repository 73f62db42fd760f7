"""apps/dns against NSD: the same zone served by both, every section of every
answer compared, for the corpus (tests/dns_queries.txt) and for random
queries from a seeded PRNG; the guest's counters must count exactly what it
answered.  Malformed queries.  Zone files: errors name file:line, and what
zone2c makes of a zone answers as NSD answers from the same file.

The appliance runs on each target (conftest.TARGETS): the kvm runs are
marked kvm, SKIPPED where /dev/kvm is missing and re-run inside QEMU by
tools/test.

The random run takes INGOT_DNS_SEED (default 1; "random" picks one and
prints it) and INGOT_DNS_QUERIES (default 5000), e.g. a long run by hand:
  INGOT_DNS_SEED=random INGOT_DNS_QUERIES=200000 python3 -m pytest \\
      tests/test_dns.py -k random
"""
import ctypes
import json
import os
import random
import re
import subprocess
import tempfile
import time

import dns.flags
import dns.message
import dns.rdatatype
import pytest

from conftest import BUILD, ROOT, TARGETS
from netns import Guest, Netns, peer_script

ZONE = os.path.join(ROOT, "apps", "dns", "example.test.zone")
QUERIES = os.path.join(ROOT, "tests", "dns_queries.txt")
ZONE2C = os.path.join(BUILD, "tools", "zone2c")
RANDOM_SEED = os.environ.get("INGOT_DNS_SEED", "1")
RANDOM_QUERIES = int(os.environ.get("INGOT_DNS_QUERIES", "5000"))


def wait_answering(ns, server, name, proc, log, timeout=15):
    """Polls until server answers a query for name's SOA, for at most
    timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        r = ns.run(["dig", "+short", "+tries=1", "+time=1", f"@{server}", name, "SOA"])
        if r.stdout.strip():
            return
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{server} does not answer for {name}: " + log())
        time.sleep(0.05)  # between polls: a server not yet bound refuses at once


def nsd_conf(workdir, zones_text):
    """An NSD configuration for 127.0.0.1 in workdir, with these zone: entries."""
    conf = os.path.join(workdir, "nsd.conf")
    with open(conf, "w") as f:
        f.write(f"""server:
  ip-address: 127.0.0.1
  port: 53
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "{workdir}"
  pidfile: "{workdir}/nsd.pid"
  database: ""
  xfrdfile: "{workdir}/xfrd.state"
  zonelistfile: "{workdir}/zone.list"
  xfrdir: "{workdir}"
  logfile: "{workdir}/nsd.log"
  server-count: 1
  hide-version: yes
  minimal-responses: yes
  rrl-ratelimit: 0
remote-control:
  control-enable: no
""" + zones_text)
    return conf


def start_nsd(ns, workdir, zones):
    conf = nsd_conf(workdir, "".join(f"zone:\n  name: {name}\n  zonefile: \"{path}\"\n"
                                     for name, path in zones))
    return run_nsd(ns, workdir, conf, [name for name, _ in zones])


def run_nsd(ns, workdir, conf, names, timeout=15):
    """Starts NSD on conf; returns once it answers for every name."""
    p = ns.popen(["nsd", "-d", "-c", conf], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def log():
        path = os.path.join(workdir, "nsd.log")
        return open(path).read() if os.path.exists(path) else "(no log)"
    for name in names:
        wait_answering(ns, "127.0.0.1", name, p, log, timeout=timeout)
    return p


@pytest.fixture(params=TARGETS)
def servers(request):
    """apps/dns on a target at 10.0.0.2 and NSD at 127.0.0.1, one namespace."""
    ns = Netns()
    try:
        ns.tap("tap0", "10.0.0.1/24")
        g = Guest(ns, request.param, "dns", ["service=tap0"], ["--ipv4=10.0.0.2/24"])
        # Printed once its socket is open: from then on it answers.
        g.wait_for(r"^dns: serving UDP port 53")
        with tempfile.TemporaryDirectory(prefix="ingot-nsd-") as d:
            nsd = start_nsd(ns, d, [("example.test", ZONE)])
            yield ns, g
            nsd.terminate()
            nsd.wait(10)
    finally:
        ns.close()


def dns_counters(g):
    """The DNS counters the guest printed at exit: {line: {name: n}}."""
    found = {}
    for line in g.out:
        for key, prefix in (("types", "dns: queries by type:"),
                            ("rcodes", "dns: answers by rcode:"),
                            ("dropped", "dns: dropped:")):
            if line.startswith(prefix):
                found[key] = {k: int(v) for k, v in
                              re.findall(r"([\w-]+)=(\d+)", line[len(prefix):])}
    assert set(found) == {"types", "rcodes", "dropped"}, g.out
    rc = found["rcodes"]
    found["badvers"], found["truncated"], found["referrals"] = \
        rc.pop("badvers"), rc.pop("truncated"), rc.pop("referrals")
    return found


def compare(ns, *args, timeout=120):
    """Runs dns_compare.py; returns its summary and the differences it
    printed that are not allowed."""
    r = peer_script(ns, "dns_compare.py", *args, timeout=timeout)
    lines = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    assert lines and "summary" in lines[-1], r.stdout + r.stderr
    bad = [l for l in lines[:-1] if not l["allowed"]]
    assert (r.returncode != 0) == bool(bad), r.stdout + r.stderr
    return lines[-1], bad


def explain(bad, limit=20):
    return f"{len(bad)} answers differ from NSD's:\n" + "\n".join(
        f"  {b['query']}\n    wire {b['wire']}\n    {json.dumps(b['diff'])}"
        for b in bad[:limit])


def check_counters(g, summary):
    """The guest counted every query it was sent, and answered each with
    the rcode the peer saw."""
    c = dns_counters(g)
    asked = summary["asked"]
    s = summary["summary"]
    assert c["types"] == s["types"], (c, s)
    assert sum(c["types"].values()) == asked
    assert c["rcodes"] == s["rcodes"], (c, s)
    assert sum(c["rcodes"].values()) + c["badvers"] == asked
    for k in ("badvers", "truncated", "referrals"):
        assert c[k] == s[k], (k, c, s)
    assert c["dropped"] == {"short": 0, "response": 0}


def corpus_size():
    return sum(1 for l in open(QUERIES) if l.split("#")[0].strip())


def test_answers_match_nsd(servers):
    ns, g = servers
    summary, bad = compare(ns, "10.0.0.2", "127.0.0.1", QUERIES)
    assert not bad, explain(bad)
    assert summary["asked"] == corpus_size()
    assert g.stop() == 0
    check_counters(g, summary)
    s = summary["summary"]
    # The corpus reaches every kind of answer.
    assert set(s["rcodes"]) == {"noerror", "nxdomain", "refused", "notimp", "notauth"}, s
    assert s["badvers"] and s["truncated"] and s["referrals"], s


def test_answers_over_tcp_match_nsd(servers):
    # The corpus again, over one TCP connection to each (RFC 7766): the
    # answers truncated over UDP come whole.
    ns, g = servers
    summary, bad = compare(ns, "tcp:10.0.0.2", "tcp:127.0.0.1", QUERIES)
    assert not bad, explain(bad)
    assert summary["asked"] == corpus_size()
    assert summary["summary"]["truncated"] == 0, summary
    assert g.stop() == 0
    check_counters(g, summary)
    tcp = tcp_counters(g)
    assert tcp["accepted"] == 1 and tcp["answered"] == corpus_size(), tcp


def tcp_counters(g):
    lines = [l for l in g.out if l.startswith("dns: tcp:")]
    assert lines, g.out
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", lines[-1])}


def test_tcp_pipelined_queries_and_the_connection_cap(servers):
    # Queries sent back to back on one connection are all answered, in
    # order; beyond CONFIG_DNS_TCP_CONNS (apps/dns/options.h: 4) a
    # connection is closed at once while the others keep being served.
    ns, g = servers
    r = peer_script(ns, "dns_tcp_check.py", "10.0.0.2", "4", timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "pipelined 50 answered in order" in r.stdout, r.stdout
    assert "connection 5 closed at once; 4 others still answered" in r.stdout, r.stdout
    assert g.stop() == 0
    tcp = tcp_counters(g)
    assert tcp["refused"] >= 1 and tcp["accepted"] == 5, tcp


def random_seed():
    if RANDOM_SEED == "random":
        return random.SystemRandom().randrange(1 << 32)
    return int(RANDOM_SEED)


def test_random_queries_match_nsd(servers):
    ns, g = servers
    seed = random_seed()
    print(f"INGOT_DNS_SEED={seed} INGOT_DNS_QUERIES={RANDOM_QUERIES}")
    summary, bad = compare(ns, "10.0.0.2", "127.0.0.1", "--random", RANDOM_QUERIES,
                           "--seed", seed, "--zone", f"example.test={ZONE}",
                           timeout=60 + RANDOM_QUERIES // 50)
    assert not bad, f"INGOT_DNS_SEED={seed} INGOT_DNS_QUERIES={RANDOM_QUERIES}: " + \
        explain(bad)
    assert summary["asked"] == RANDOM_QUERIES
    assert g.stop() == 0
    check_counters(g, summary)


def test_malformed_queries_get_formerr_or_silence(servers):
    ns, g = servers
    r = peer_script(ns, "dns_malformed.py", "10.0.0.2")
    assert r.returncode == 0, r.stdout + r.stderr
    s = json.loads(r.stdout.splitlines()[-1])
    # Still answering.
    d = ns.run(["dig", "+short", "+tries=1", "+time=3", "@10.0.0.2", "www.example.test", "A"])
    assert d.stdout.strip() == "192.0.2.10", d
    assert g.stop() == 0
    c = dns_counters(g)
    s["rcodes"]["noerror"] = s["rcodes"].get("noerror", 0) + 1  # dig's
    assert c["rcodes"] == s["rcodes"], (c, s)
    assert c["badvers"] == s["badvers"] and c["truncated"] == s["truncated"], (c, s)
    assert c["dropped"] == s["dropped"], (c, s)
    assert s["rcodes"]["formerr"] >= 10 and s["dropped"]["short"] and s["dropped"]["response"]


# --- zone files -----------------------------------------------------------


def zone2c(text, name="bad.test.zone"):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run([ZONE2C, "-o", os.path.join(d, "out.c"), path],
                           capture_output=True, text=True)
        return r, path


HEAD = "$TTL 300\n@ IN SOA ns hostmaster 1 2 3 4 5\n  IN NS ns\nns IN A 192.0.2.1\n"
SHA1 = "d1e2ca3e3b24234750677b1f0bcae341910f58f2"


@pytest.mark.parametrize("body,line,message", [
    ("www IN A 300.1.2.3\n", 5, "expected an IPv4 address, found '300.1.2.3'"),
    ("www IN AAAA 2001:db8::g\n", 5, "expected an IPv6 address"),
    ("www IN BOGUS 1\n", 5, "expected a record type"),
    ("www IN MX mail\n", 5, "expected an MX preference (0 to 65535), found 'mail'"),
    ("www IN TXT \"unterminated\n", 5, "expected '\"' to end the string"),
    ("www IN A 192.0.2.1 extra\n", 5, "expected the end of the record, found 'extra'"),
    ("www IN CNAME a\nwww IN A 192.0.2.2\n", 6, "expected a CNAME to be the only record"),
    ("www.other.test. IN A 192.0.2.1\n", 5, "expected names under the zone"),
    ("www IN A (\n192.0.2.1\n", 5, "expected ')' to close this line's '('"),
    ("$BOGUS x\n", 5, "expected $ORIGIN, $TTL or $INCLUDE"),
    ("$INCLUDE missing.inc\n", 5, "cannot open included file"),
    ("www CH A 192.0.2.1\n", 5, "expected class IN, found 'CH'"),
    # DS (RFC 4034 5.3)
    ("s IN NS ns\ns IN DS 70000 13 1 " + SHA1 + "\n", 6,
     "expected a DS key tag (0 to 65535), found '70000'"),
    ("s IN NS ns\ns IN DS 1 NOSUCHALG 1 " + SHA1 + "\n", 6,
     "expected a DS algorithm (0 to 255), found 'NOSUCHALG'"),
    ("s IN NS ns\ns IN DS 1 13 256 " + SHA1 + "\n", 6,
     "expected a DS digest type (0 to 255), found '256'"),
    ("s IN NS ns\ns IN DS 1 13 1\n", 6, "expected a DS digest in hex"),
    ("s IN NS ns\ns IN DS 1 13 1 ( " + SHA1[:20] + "\n xyz" + SHA1[20:] + " )\n", 7,
     "expected a DS digest in hex, found 'xyz"),
    ("s IN NS ns\ns IN DS 1 13 1 " + SHA1 + "0\n", 6,
     "expected a DS digest of whole bytes"),
    ("s IN NS ns\ns IN DS 1 13 2 " + SHA1 + "\n", 6,
     "expected a digest of 32 bytes for DS digest type 2, found 20"),
    ("s IN NS ns\ns IN DS 1 13 1 \"" + SHA1 + "\"\n", 6, "expected a DS digest in hex"),
    ("www IN A 192.0.2.1\nwww IN DS 1 13 1 " + SHA1 + "\n", 6,
     "expected a DS record at a delegation (a name with NS records)"),
    ("@ IN DS 1 13 1 " + SHA1 + "\n", 5,
     "expected a DS record at a delegation, not at the zone's apex"),
])
def test_zone_errors_name_file_and_line(body, line, message):
    r, path = zone2c(HEAD + body)
    assert r.returncode != 0
    assert r.stderr.startswith(f"{path}:{line}: "), r.stderr
    assert message in r.stderr, r.stderr


def test_zone_without_soa_fails():
    r, path = zone2c("$TTL 300\n@ IN NS ns\nns IN A 192.0.2.1\n")
    assert r.returncode != 0 and "expected an SOA record" in r.stderr, r.stderr


def build_lib(d, paths):
    """lib/dns with the zones in paths compiled in, as a shared library
    (a zone set no image was built with)."""
    gen, lib = os.path.join(d, "zones.c"), os.path.join(d, "libdns.so")
    r = subprocess.run([ZONE2C, "-o", gen, *paths], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    subprocess.run(["cc", "-std=gnu11", "-O1", "-shared", "-fPIC", "-Wall", "-Werror",
                    "-I", os.path.join(ROOT, "include"), "-I", ROOT, "-o", lib,
                    os.path.join(ROOT, "lib", "dns", "answer.c"), gen], check=True)
    return lib


def lib_ask(lib, name, rdtype):
    """lib/dns's answer to one query, parsed."""
    f = ctypes.CDLL(lib).dns_answer
    f.restype = ctypes.c_size_t
    f.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t,
                  ctypes.c_bool]
    q = dns.message.make_query(name, rdtype, use_edns=False).to_wire()
    buf = ctypes.create_string_buffer(1232)
    n = f(q, len(q), buf, len(buf), False)
    assert n, (name, rdtype)
    return dns.message.from_wire(buf.raw[:n])


def rdatas(m, rdtype):
    t = dns.rdatatype.from_text(rdtype)
    return sorted(rd.to_text() for rrset in m.answer if rrset.rdtype == t for rd in rrset)


def compare_with_nsd(d, zones, lib, queries=None, random_count=0):
    """Asks lib and NSD (serving the same zone files) the same queries;
    asserts every answer is the same."""
    ns = Netns()
    try:
        nsd = start_nsd(ns, d, zones)
        if queries:
            qfile = os.path.join(d, "queries.txt")
            with open(qfile, "w") as f:
                f.write("\n".join(queries) + "\n")
            summary, bad = compare(ns, "lib:" + lib, "127.0.0.1", qfile)
            assert not bad, explain(bad)
            assert summary["asked"] == len(queries)
        if random_count:
            args = [a for name, path in zones for a in ("--zone", f"{name}={path}")]
            summary, bad = compare(ns, "lib:" + lib, "127.0.0.1", "--random", random_count,
                                   "--seed", random_seed(), *args)
            assert not bad, explain(bad)
        nsd.terminate()
        nsd.wait(10)
    finally:
        ns.close()


def test_zone_syntax_that_must_parse():
    text = """$ORIGIN bad.test.
$TTL 1h30m
@   IN  SOA ns.bad.test. host\\.master.bad.test. ( 1 ; serial
        2h 1h 2w 5m )
    NS  ns                    ; owner, TTL and class omitted
ns  300 IN A 192.0.2.1
ns  IN 300 AAAA 2001:db8::1   ; class before TTL
txt TXT "a \\"quoted\\" string" plain \\065BC
$INCLUDE sub.inc sub.bad.test.
d   NS  ns
    DS  ( 60485 RSASHA256 1
          D1E2CA3E3B24234750677B1F
          0bcae341910f58f2 )  ; a mnemonic, a digest split over lines
"""
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "sub.inc"), "w") as f:
            f.write("www A 192.0.2.9\n@ TXT \"included\"\n")
        path = os.path.join(d, "bad.test.zone")
        with open(path, "w") as f:
            f.write(text)
        lib = build_lib(d, [path])
        soa = lib_ask(lib, "bad.test", "SOA")
        assert rdatas(soa, "SOA") == ["ns.bad.test. host\\.master.bad.test. 1 7200 3600 "
                                      "1209600 300"]
        assert soa.answer[0].ttl == 5400
        assert rdatas(lib_ask(lib, "bad.test", "NS"), "NS") == ["ns.bad.test."]
        ns = lib_ask(lib, "ns.bad.test", "A")
        assert rdatas(ns, "A") == ["192.0.2.1"] and ns.answer[0].ttl == 300
        assert rdatas(lib_ask(lib, "ns.bad.test", "AAAA"), "AAAA") == ["2001:db8::1"]
        assert rdatas(lib_ask(lib, "txt.bad.test", "TXT"), "TXT") == [
            '"a \\"quoted\\" string" "plain" "ABC"']
        assert rdatas(lib_ask(lib, "www.sub.bad.test", "A"), "A") == ["192.0.2.9"]
        assert rdatas(lib_ask(lib, "sub.bad.test", "TXT"), "TXT") == ['"included"']
        assert rdatas(lib_ask(lib, "d.bad.test", "DS"), "DS") == [
            "60485 8 1 d1e2ca3e3b24234750677b1f0bcae341910f58f2"]
        # And NSD reads the same file the same way.
        compare_with_nsd(d, [("bad.test", path)], lib, [
            f"{n} {t}" for n in ("bad.test", "ns.bad.test", "txt.bad.test",
                                 "www.sub.bad.test", "sub.bad.test", "d.bad.test")
            for t in ("SOA", "NS", "A", "AAAA", "TXT", "DS", "ANY")])


CHILD = """$TTL 600
@   IN SOA ns.sub.example.test. hostmaster.sub.example.test. 7 3600 900 86400 60
    IN NS  ns
    IN A   192.0.2.210
ns  IN A   192.0.2.200
www IN A   192.0.2.211
"""


def test_several_zones_and_a_parents_ds():
    """Zones side by side, and a parent with its child: the child answers
    for itself, except DS at its apex, the parent's (RFC 4035 3.1.4.1)."""
    with tempfile.TemporaryDirectory() as d:
        zones = []
        for name, text in (("one.test", HEAD), ("two.test", HEAD.replace("192.0.2.1", "192.0.2.2")),
                           ("sub.example.test", CHILD)):
            path = os.path.join(d, name + ".zone")
            with open(path, "w") as f:
                f.write(text)
            zones.append((name, path))
        zones.append(("example.test", ZONE))
        lib = build_lib(d, [p for _, p in zones])
        assert rdatas(lib_ask(lib, "ns.one.test", "A"), "A") == ["192.0.2.1"]
        assert rdatas(lib_ask(lib, "ns.two.test", "A"), "A") == ["192.0.2.2"]
        m = lib_ask(lib, "sub.example.test", "A")
        assert rdatas(m, "A") == ["192.0.2.210"] and m.flags & dns.flags.AA
        m = lib_ask(lib, "sub.example.test", "DS")
        assert not m.answer and m.flags & dns.flags.AA
        assert [r.name.to_text() for r in m.authority] == ["example.test."]
        assert len(rdatas(lib_ask(lib, "secure.example.test", "DS"), "DS")) == 2
        queries = [f"{n} {t}" for n in ("one.test", "ns.two.test", "sub.example.test",
                                        "www.sub.example.test", "x.sub.example.test",
                                        "ns.sub.example.test", "secure.example.test",
                                        "tosub.example.test", "example.test")
                   for t in ("SOA", "NS", "A", "DS", "ANY")]
        compare_with_nsd(d, zones, lib, queries, random_count=1000)


def test_a_zone_given_twice_fails():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "one.test.zone")
        with open(path, "w") as f:
            f.write(HEAD)
        r = subprocess.run([ZONE2C, "-o", os.path.join(d, "out.c"), path, path],
                           capture_output=True, text=True)
        assert r.returncode != 0 and "expected each zone once" in r.stderr, r.stderr


@pytest.fixture(scope="module")
def xfr_build(tmp_path_factory):
    """apps/dns built to allow transfers to 10.0.0.1 only."""
    out = tmp_path_factory.mktemp("xfr-build")
    r = subprocess.run(["make", "-s", "-C", ROOT, f"BUILD={out}", f"{out}/kvm/dns.kvm",
                        f"{out}/hosted/dns", "XFR_ALLOW=10.0.0.1"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return out


@pytest.mark.parametrize("target", TARGETS)
def test_axfr_to_a_stock_secondary(target, xfr_build):
    # NSD, configured as a secondary of the appliance, takes the zone by
    # AXFR (RFC 5936); what it then serves equals the zone file record for
    # record.  A peer outside XFR_ALLOW is refused.
    ns = Netns()
    try:
        ns.tap("tap0", "10.0.0.1/24")
        ns.ip("addr", "add", "10.0.0.3/24", "dev", "tap0")
        image = (os.path.join(xfr_build, "kvm", "dns.kvm") if target == "kvm"
                 else os.path.join(xfr_build, "hosted", "dns"))
        argv = ([os.path.join(BUILD, "ingot-kvm"), "--net", "service=tap0", image]
                if target == "kvm" else [image, "--net", "service=tap0", "--"])
        g = ns.popen([*argv, "--ipv4=10.0.0.2/24"], stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)
        for line in g.stdout:
            if line.startswith("dns: serving UDP port 53"):
                break
        with tempfile.TemporaryDirectory(prefix="ingot-nsd-") as d:
            nsd = start_secondary(ns, d)
            r = ns.run([PYTHON, "-c", XFR_COMPARE, ZONE, "127.0.0.1", "10.0.0.2"], timeout=60)
            assert r.returncode == 0, r.stdout + r.stderr
            assert "secondary has the zone: 41 records" in r.stdout, r.stdout
            assert "10.0.0.3 refused" in r.stdout, r.stdout
            nsd.terminate()
            nsd.wait(10)
        g.terminate()
        out = g.communicate(timeout=15)[0]
        assert re.search(r"^dns: tcp: .*transfers=1\b", out, re.M), out
    finally:
        ns.close()


PYTHON = "/usr/bin/python3"
# Run inside the namespace: the secondary's zone by AXFR from NSD (which
# allows 127.0.0.1) against the zone file; then an AXFR from 10.0.0.3,
# outside XFR_ALLOW, straight to the appliance.
XFR_COMPARE = r"""
import sys, dns.message, dns.query, dns.rcode, dns.zone
zonefile, secondary, appliance = sys.argv[1:]
want = dns.zone.from_file(zonefile, "example.test", relativize=False)
got = dns.zone.from_xfr(dns.query.xfr(secondary, "example.test", relativize=False,
                                      lifetime=10), relativize=False)
def records(z):
    return sorted(f"{n} {rds.ttl} {rd.to_text()} {dns.rdatatype.to_text(rds.rdtype)}"
                  for n, node in z.nodes.items() for rds in node.rdatasets for rd in rds)
assert records(got) == records(want), (set(records(got)) ^ set(records(want)))
print(f"secondary has the zone: {len(records(got))} records")
q = dns.message.make_query("example.test", "AXFR")
r = dns.query.tcp(q, appliance, timeout=5, source="10.0.0.3")
assert r.rcode() == dns.rcode.REFUSED, r
print("10.0.0.3 refused")
"""


def start_secondary(ns, workdir):
    """NSD as a secondary of the appliance at 10.0.0.2, serving 127.0.0.1;
    returns once it has the zone."""
    conf = nsd_conf(workdir, f"""zone:
  name: example.test
  zonefile: "{workdir}/example.test.secondary"
  request-xfr: AXFR 10.0.0.2 NOKEY
  allow-notify: 10.0.0.2 NOKEY
  provide-xfr: 127.0.0.1 NOKEY
""")
    return run_nsd(ns, workdir, conf, ["example.test"], timeout=30)
