"""apps/dns against NSD: the same zone served by both, every section of every
answer compared (tests/dns_queries.txt); malformed queries; zone file errors."""
import os
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import BUILD, ROOT
from netns import Guest, Netns, peer_script

ZONE = os.path.join(ROOT, "apps", "dns", "example.test.zone")
ZONE2C = os.path.join(BUILD, "tools", "zone2c")


def start_nsd(ns, workdir, zones):
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
""")
        for name, path in zones:
            f.write(f"zone:\n  name: {name}\n  zonefile: \"{path}\"\n")
    p = ns.popen(["nsd", "-d", "-c", conf], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for _ in range(100):
        r = ns.run(["dig", "+short", "+tries=1", "+time=1", "@127.0.0.1", "example.test", "SOA"])
        if r.stdout.strip():
            return p
        time.sleep(0.1)
    raise AssertionError("nsd did not start: " + open(os.path.join(workdir, "nsd.log")).read())


@pytest.fixture
def servers():
    ns = Netns()
    ns.tap("tap0", "10.0.0.1/24")
    g = Guest(ns, "kvm" if os.path.exists("/dev/kvm") else "hosted", "dns",
              ["service=tap0"], ["--ipv4=10.0.0.2/24"])
    g.wait_for(r"^dns: serving UDP port 53")
    with tempfile.TemporaryDirectory(prefix="ingot-nsd-") as d:
        nsd = start_nsd(ns, d, [("example.test", ZONE)])
        yield ns, g
        nsd.terminate()
        nsd.wait(10)
    ns.close()


def test_answers_match_nsd(servers):
    ns, g = servers
    r = peer_script(ns, "dns_compare.py", "10.0.0.2", "127.0.0.1",
                    os.path.join(ROOT, "tests", "dns_queries.txt"))
    # Differences the RFCs allow are printed, and tolerated, by the script.
    assert r.returncode == 0, r.stdout + r.stderr
    assert g.stop() == 0
    answered = sum(1 for l in open(os.path.join(ROOT, "tests", "dns_queries.txt"))
                   if l.split("#")[0].strip())
    assert any(f"noerror=" in l for l in g.out), g.out
    assert answered > 50


def test_malformed_queries_get_formerr_or_silence(servers):
    ns, g = servers
    r = peer_script(ns, "dns_malformed.py", "10.0.0.2")
    assert r.returncode == 0, r.stdout + r.stderr
    # Still answering.
    d = ns.run(["dig", "+short", "@10.0.0.2", "www.example.test", "A"])
    assert d.stdout.strip() == "192.0.2.10", d
    assert g.stop() == 0
    assert any("dns: answers by rcode:" in l and "formerr=" in l for l in g.out), g.out


def zone2c(text, name="bad.test.zone"):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run([ZONE2C, "-o", os.path.join(d, "out.c"), path],
                           capture_output=True, text=True)
        return r, path


HEAD = "$TTL 300\n@ IN SOA ns hostmaster 1 2 3 4 5\n  IN NS ns\nns IN A 192.0.2.1\n"


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
])
def test_zone_errors_name_file_and_line(body, line, message):
    r, path = zone2c(HEAD + body)
    assert r.returncode != 0
    assert r.stderr.startswith(f"{path}:{line}: "), r.stderr
    assert message in r.stderr, r.stderr


def test_zone_without_soa_fails():
    r, path = zone2c("$TTL 300\n@ IN NS ns\nns IN A 192.0.2.1\n")
    assert r.returncode != 0 and "expected an SOA record" in r.stderr, r.stderr


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
"""
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "sub.inc"), "w") as f:
            f.write("www A 192.0.2.9\n@ TXT \"included\"\n")
        path = os.path.join(d, "bad.test.zone")
        with open(path, "w") as f:
            f.write(text)
        out = os.path.join(d, "out.c")
        r = subprocess.run([ZONE2C, "-o", out, path], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        c = open(out).read()
    for name in ("/* www.sub.bad.test. */", "/* txt.bad.test. */", "/* ns.bad.test. */"):
        assert name in c, c


def test_several_zones_and_a_zone_given_twice():
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for name in ("one.test", "two.test"):
            path = os.path.join(d, name + ".zone")
            with open(path, "w") as f:
                f.write(HEAD)
            paths.append(path)
        out = os.path.join(d, "out.c")
        r = subprocess.run([ZONE2C, "-o", out, *paths], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        c = open(out).read()
        assert "/* one.test. */" in c and "/* two.test. */" in c
        assert "const unsigned dns_nzones = 2;" in c
        r = subprocess.run([ZONE2C, "-o", out, paths[0], paths[0]], capture_output=True, text=True)
        assert r.returncode != 0 and "expected each zone once" in r.stderr, r.stderr
