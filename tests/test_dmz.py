"""The surveys' DMZ topology, end to end, every box an ingot guest:

    client C 10.0.0.1 -- outside [firewall] inside 10.0.1.1
        -- 10.0.1.2 wan [router, masquerade] lan 192.0.2.254
        -- DMZ 192.0.2.0/24 {dns 192.0.2.53, www 192.0.2.10, inside host I .100}

The DNS guest serves the example zone (www.example.test is 192.0.2.10), the
web guest the sample site.  From C: dig resolves www through the firewall
and the router, curl fetches the page by that name (C's resolver is the DNS
guest), ping is dropped at the firewall; from I: a connection to C leaves
through the router's NAT and the firewall's state.  The guests' counters
must agree with what was sent.  One namespace holds the four monitors, their
taps and three bridges; C and I are namespaces of their own on veth pairs.
"""
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import ROOT
from netns import Guest, Netns
from test_firewall import DNS_RULE, PING_RULE, fw_report

pytestmark = pytest.mark.kvm

C_IP, FW_OUT, FW_IN, R_WAN, R_LAN = "10.0.0.1", "10.0.0.2", "10.0.1.1", "10.0.1.2", "192.0.2.254"
DNS_IP, WWW_IP, I_IP = "192.0.2.53", "192.0.2.10", "192.0.2.100"


class Dmz:
    def __init__(self):
        self.x, self.c, self.i = Netns(), Netns(), Netns()
        self.guests = []
        self.x.run(["sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0"])
        links = {"bo": ["tfo"], "bm": ["tfi", "trw"], "bd": ["trl", "tdns", "twww"]}
        for br, taps in links.items():
            self.x.ip("link", "add", br, "type", "bridge")
            self.x.ip("link", "set", br, "up")
            for t in taps:
                self.x.tap(t)
                self.x.ip("link", "set", t, "master", br)
        for br, host, addr, gw in (("bo", self.c, C_IP, None), ("bd", self.i, I_IP, R_LAN)):
            self.x.ip("link", "add", f"v{br}", "type", "veth", "peer", "name", "eth0",
                      "netns", host.name)
            self.x.ip("link", "set", f"v{br}", "master", br, "up")
            host.ip("addr", "add", f"{addr}/24", "dev", "eth0")
            host.ip("link", "set", "eth0", "up")
            if gw:
                host.ip("route", "add", "default", "via", gw)
        # C reaches the DMZ, and the router's outer address (what the
        # inside hosts' connections come from), through the firewall.
        self.c.ip("route", "add", "192.0.2.0/24", "via", FW_OUT)
        self.c.ip("route", "add", "10.0.1.0/24", "via", FW_OUT)
        # ip netns exec gives C this resolver: the DNS guest.
        self.etc = f"/etc/netns/{self.c.name}"
        os.makedirs(self.etc, exist_ok=True)
        with open(f"{self.etc}/resolv.conf", "w") as f:
            f.write(f"nameserver {DNS_IP}\noptions timeout:2 attempts:2\n")

    def boot(self, name, nets, args, mem="64M", ready=None):
        g = Guest(self.x, "kvm", name, nets, args, mon_args=["--mem", mem])
        self.guests.append(g)
        if ready:
            g.wait_for(ready, timeout=30)
        return g

    def close(self):
        for g in self.guests:
            g.stop()
        shutil.rmtree(self.etc, ignore_errors=True)
        for n in (self.c, self.i, self.x):
            n.close()


@pytest.fixture(scope="module")
def dmz():
    d = Dmz()
    d.fw = d.boot("firewall", ["outside=tfo", "inside=tfi"],
                  [f"--ipv4:outside={FW_OUT}/24", f"--ipv4:inside={FW_IN}/24",
                   f"--ipv4-gateway:outside={C_IP}", f"--route=192.0.2.0/24,via={R_WAN}"],
                  ready=r"^firewall: ")
    d.router = d.boot("router", ["wan=trw", "lan=trl"],
                      [f"--ipv4:wan={R_WAN}/24", f"--ipv4:lan={R_LAN}/24",
                       f"--ipv4-gateway:wan={FW_IN}", "--masquerade=wan"],
                      ready=r"^router: forwarding")
    d.dns = d.boot("dns", ["service=tdns"], [f"--ipv4={DNS_IP}/24", f"--ipv4-gateway={R_LAN}"],
                   ready=r"^dns: serving")
    d.www = d.boot("http", ["service=twww"], [f"--ipv4={WWW_IP}/24", f"--ipv4-gateway={R_LAN}"],
                   mem="256M", ready=r"^http: serving")
    yield d
    d.close()


def delta(after, before, key):
    return after.get(key, 0) - before.get(key, 0)


def test_dig_resolves_www_through_the_firewall_and_router(dmz):
    for proto in ("+notcp", "+tcp"):
        rules0 = fw_report(dmz.fw)[0]
        wan0, lan0 = dmz.router.counters("wan"), dmz.router.counters("lan")
        dns0 = dmz.dns.counters()
        r = dmz.c.run(["dig", f"@{DNS_IP}", "www.example.test", "A", "+short", proto,
                       "+time=3", "+tries=1"], timeout=30)
        assert r.stdout.split() == [WWW_IP], (proto, r.stdout, r.stderr)
        rules = fw_report(dmz.fw)[0]
        wan, lan = dmz.router.counters("wan"), dmz.router.counters("lan")
        dns = dmz.dns.counters()
        if proto == "+notcp":
            # One query in, one answer out, at every box on the way.
            assert rules[DNS_RULE] - rules0[DNS_RULE] == 1
            assert delta(wan, wan0, "ip_forwarded") == 1
            assert delta(lan, lan0, "ip_forwarded") == 1
            assert delta(dns, dns0, "udp_in") == 1 and delta(dns, dns0, "udp_out") == 1
        else:
            # The SYN makes the flow (the rule counts it); the rest of
            # the connection passes by state, through the router both ways.
            assert rules[DNS_RULE] - rules0[DNS_RULE] == 1
            assert delta(wan, wan0, "ip_forwarded") >= 4
            assert delta(lan, lan0, "ip_forwarded") >= 3


def test_curl_fetches_the_page_by_name(dmz):
    r = dmz.c.run(["curl", "-sS", "--max-time", "20", "http://www.example.test/"], timeout=30)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(ROOT, "apps", "http", "site", "index.html")) as f:
        assert r.stdout == f.read()


def test_a_file_crosses_both_boxes_in_coalesced_frames(dmz):
    path = os.path.join(ROOT, "apps", "http", "site", "words.txt")
    with open(path, "rb") as f:
        want = f.read()
    fw0, r0 = dmz.fw.counters("outside"), dmz.router.counters("wan")
    r = subprocess.run(dmz.c.argv(["curl", "-sS", "--max-time", "30",
                                   "http://www.example.test/words.txt"]),
                       capture_output=True, timeout=40)
    assert r.returncode == 0 and r.stdout == want, r.stderr
    # The web guest sends TSO frames; the router and then the firewall
    # (filtering their headers) forward them whole: the frames they send
    # towards the client are larger than the MTU on average.
    for g, name, before in ((dmz.fw, "outside", fw0), (dmz.router, "wan", r0)):
        after = g.counters(name)
        sent = delta(after, before, "ip_bytes_out")
        frames = delta(after, before, "ip_packets_out")
        assert sent >= len(want) and sent / frames > 1500, (name, sent, frames)


def test_ping_from_outside_is_dropped_at_the_firewall(dmz):
    rules0 = fw_report(dmz.fw)[0]
    before = dmz.fw.counters("outside")
    wan0 = dmz.router.counters("wan")
    r = dmz.c.run(["ping", "-n", "-c", "4", "-i", "0.2", "-W", "1", WWW_IP], timeout=30)
    assert "4 packets transmitted, 0 received" in r.stdout, r.stdout
    after = dmz.fw.counters("outside")
    assert delta(after, before, "ip_drop_filtered") == 4
    assert fw_report(dmz.fw)[0][PING_RULE] - rules0[PING_RULE] == 4
    # None of them reached the router.
    assert delta(dmz.router.counters("wan"), wan0, "icmp_in") == 0
    assert delta(dmz.router.counters("wan"), wan0, "ip_forwarded") == 0


def test_an_inside_host_reaches_outside_through_the_nat(dmz, tmp_path):
    (tmp_path / "hello").write_text("outside says hello\n")
    log = open(tmp_path / "log", "w")
    srv = dmz.c.popen(["/usr/bin/python3", "-m", "http.server", "8080", "--bind", C_IP,
                       "--directory", str(tmp_path)], stdout=log, stderr=log)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        r = dmz.i.run(["curl", "-sS", "--max-time", "5", f"http://{C_IP}:8080/hello"], timeout=15)
        if r.returncode == 0:
            break
        time.sleep(0.2)
    srv.kill()
    log.close()
    assert r.returncode == 0 and r.stdout == "outside says hello\n", r.stderr
    # C saw the router's address, not the inside host's.
    assert re.search(rf"^{re.escape(R_WAN)} - .*GET /hello", (tmp_path / "log").read_text(), re.M)
