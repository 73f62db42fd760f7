"""lib/net against Linux peers: ping, arping, UDP echo from Python and socat,
DHCP from dnsmasq, two guests over a bridge and over the no-root backend,
and hostile input from scapy.  Each test makes its own network namespace
(tests/netns.py); nothing leaves this machine."""
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import TARGETS, image
from netns import Guest, Netns, peer_script

GUEST_IP = "10.0.0.2"
HOST_IP = "10.0.0.1"


@pytest.fixture
def ns():
    n = Netns()
    yield n
    n.close()


def echo_guest(ns, target, args=(f"--ipv4={GUEST_IP}/24",), tap="tap0", addr=f"{HOST_IP}/24",
               mac="02:00:00:00:00:02"):
    ns.tap(tap, addr)
    g = Guest(ns, target, "echo", [f"service={tap},mac={mac}"], args)
    g.wait_for(r"^echo: serving UDP port 7")
    return g


def ping(ns, *args):
    return ns.run(["ping", "-n", *args])


def received(ping_out):
    m = re.search(r"(\d+) packets transmitted, (\d+) received", ping_out)
    assert m, ping_out
    return int(m.group(1)), int(m.group(2))


@pytest.mark.parametrize("target", TARGETS)
def test_ping_1000_at_1ms_no_loss(ns, target):
    g = echo_guest(ns, target)
    r = ping(ns, "-c", "1000", "-i", "0.001", "-W", "1", GUEST_IP)
    assert received(r.stdout) == (1000, 1000), r.stdout
    c = g.counters()
    assert c["icmp_echo_replies"] >= 1000, c
    assert g.stop() == 0


@pytest.mark.parametrize("target", TARGETS)
def test_8000_byte_pings_are_fragmented_both_ways(ns, target):
    g = echo_guest(ns, target)
    r = ping(ns, "-c", "5", "-i", "0.2", "-s", "8000", "-W", "2", GUEST_IP)
    assert received(r.stdout) == (5, 5), r.stdout
    assert "8008 bytes from" in r.stdout
    c = g.counters()
    # 8028-byte datagrams: 6 fragments each at a 1500-byte MTU.
    assert c["ip_reassembled"] >= 5 and c["ip_frags_out"] >= 30, c
    assert g.stop() == 0


@pytest.mark.kvm
def test_arping_is_answered(ns):
    g = echo_guest(ns, "kvm")
    r = ns.run(["arping", "-c", "3", "-i", "tap0", GUEST_IP])
    assert "3 packets received" in r.stdout or re.search(r"\b3 packets received", r.stdout), r.stdout
    assert "02:00:00:00:00:02" in r.stdout, r.stdout
    assert g.counters()["arp_replies_sent"] >= 3
    assert g.stop() == 0


SIZES = [0, 1, 7, 100, 1472, 1473, 1480, 2000, 8000, 30000, 65507]


@pytest.mark.parametrize("target", TARGETS)
def test_udp_echo_from_python_0_to_65507_bytes(ns, target):
    g = echo_guest(ns, target)
    r = peer_script(ns, "udp_echo_check.py", GUEST_IP, 7, *SIZES)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count(": ok") == len(SIZES), r.stdout
    c = g.counters()
    assert c["udp_in"] >= len(SIZES) and c["udp_out"] >= len(SIZES), c
    assert g.stop() == 0


@pytest.mark.kvm
@pytest.mark.parametrize("size", [0, 5000, 65507])
def test_udp_echo_from_socat(ns, size):
    g = echo_guest(ns, "kvm")
    payload = os.urandom(size)
    r = subprocess.run(ns.argv(["socat", "-b", "65536", "-T", "2", "-",
                                f"UDP:{GUEST_IP}:7"]),
                       input=payload, capture_output=True, timeout=30)
    if size == 0:
        # socat sends nothing for empty input; an empty datagram is
        # covered by the Python peer.  Check the guest is still there.
        assert r.returncode == 0
    else:
        assert r.stdout == payload, (len(r.stdout), r.stderr)
    assert g.stop() == 0


@pytest.mark.kvm
def test_dhcp_from_dnsmasq_and_renewal(ns):
    ns.tap("tap0", f"{HOST_IP}/24")
    leases = tempfile.NamedTemporaryFile(prefix="ingot-dnsmasq-", delete=False)
    leases.close()
    dnsmasq = ns.popen(["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0",
                        "--interface=tap0", "--bind-interfaces", "--no-ping",
                        f"--dhcp-leasefile={leases.name}",
                        "--dhcp-range=10.0.0.50,10.0.0.60,255.255.255.0,2m",
                        f"--dhcp-option=option:router,{HOST_IP}",
                        # Renew after 3 s (T1), rebind after 100 s (T2), so
                        # the test sees a renewal without a long wait.
                        "--dhcp-option=58,3", "--dhcp-option=59,100"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(0.3)
        g = Guest(ns, "kvm", "echo", ["service=tap0"], ["--ipv4=dhcp"])
        line = g.wait_for(r"^net: service 10\.0\.0\.\d+ netmask 255\.255\.255\.0 "
                          r"gateway 10\.0\.0\.1 \(DHCP from 10\.0\.0\.1", timeout=20)
        addr = line.split()[2]
        assert 50 <= int(addr.rsplit(".", 1)[1]) <= 60, line
        r = ping(ns, "-c", "3", "-i", "0.2", "-W", "2", addr)
        assert received(r.stdout) == (3, 3), r.stdout
        g.wait_for(rf"^net: service renewed {re.escape(addr)}", timeout=20)
        c = g.counters()
        assert c["dhcp_offers"] == 1 and c["dhcp_acks"] >= 2 and c["dhcp_renewals"] >= 1, c
        assert g.stop() == 0
    finally:
        dnsmasq.terminate()
        dnsmasq.wait(10)
        os.unlink(leases.name)


@pytest.mark.kvm
def test_two_guests_over_a_linux_bridge(ns):
    ns.ip("link", "add", "br0", "type", "bridge")
    ns.ip("link", "set", "br0", "up")
    for tap in ("tap0", "tap1"):
        ns.tap(tap)
        ns.ip("link", "set", tap, "master", "br0")
    server = Guest(ns, "kvm", "echo", ["service=tap0"], [f"--ipv4={GUEST_IP}/24"])
    server.wait_for(r"^echo: serving")
    client = Guest(ns, "kvm", "net_client", ["service=tap1"],
                   ["--ipv4=10.0.0.3/24", f"--peer={GUEST_IP}"], test=True)
    assert client.wait(timeout=60) == 0, (client.out, client.err)
    assert "net_client: 8/8 echoed" in client.out, client.out
    assert server.stop() == 0


def test_two_hosted_guests_over_the_no_root_backend():
    """Unprivileged: frames in UDP datagrams on 127.0.0.1, no namespace
    needed (nothing leaves the loopback interface)."""
    port = 20000 + os.getpid() % 20000
    server = subprocess.Popen(
        [image("hosted", "echo"), "--net", f"service=udp:{port}:{port + 1}", "--",
         f"--ipv4={GUEST_IP}/24"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().startswith("net: service")
        client = subprocess.run(
            [image("hosted", "net_client", test=True), "--net",
             f"service=udp:{port + 1}:{port}", "--", "--ipv4=10.0.0.3/24",
             f"--peer={GUEST_IP}"], capture_output=True, text=True, timeout=60)
        assert client.returncode == 0, client
        assert "net_client: 8/8 echoed" in client.stdout
    finally:
        server.terminate()
        out, err = server.communicate(timeout=10)
    assert server.returncode == 0, err
    assert "udp_in=8" in out, out


def test_hosted_net_option_errors():
    echo = image("hosted", "echo")
    r = subprocess.run([echo, "--net", "nonsense"], capture_output=True, text=True)
    assert r.returncode == 2 and "--net wants NAME=TAP" in r.stderr, r
    r = subprocess.run([echo, "--net", "other=udp:1:2"], capture_output=True, text=True)
    assert r.returncode == 252 and "declares no network device" in r.stderr, r
    r = subprocess.run([echo, "--net", "service=udp:1"], capture_output=True, text=True)
    assert r.returncode == 252 and "expected udp:LPORT:RPORT" in r.stderr, r


@pytest.mark.parametrize("target", TARGETS)
def test_hostile_input_is_counted_and_dropped(ns, target):
    g = echo_guest(ns, target)
    # The guest learns the host's hardware address first (its ARP request).
    assert received(ping(ns, "-c", "2", "-i", "0.2", GUEST_IP).stdout) == (2, 2)
    before = g.counters()
    r = peer_script(ns, "hostile.py", "tap0", "02:00:00:00:00:02", GUEST_IP, HOST_IP)
    assert r.returncode == 0, r.stderr
    sent = {k: int(v) for k, v in (l.split() for l in r.stdout.split("\n") if l)}
    time.sleep(0.5)
    c = g.counters()
    d = {k: c.get(k, 0) - before.get(k, 0) for k in set(c) | set(before)}

    assert d["eth_drop_unknown_type"] >= sent["eth_unknown_type"], d
    assert d["ip_drop_truncated"] >= sent["ip_truncated"] + sent["ip_too_long"], d
    assert d["ip_drop_bad_header"] >= sent["ip_bad_header"], d
    assert d["ip_drop_bad_checksum"] >= sent["ip_bad_checksum"], d
    assert d["udp_drop_bad_checksum"] >= sent["udp_bad_checksum"], d
    assert d["udp_drop_malformed"] >= sent["udp_bad_length"], d
    assert d["icmp_drop_bad_checksum"] >= sent["icmp_bad_checksum"], d
    assert d["ip_drop_unknown_protocol"] >= sent["unknown_protocol"], d
    assert d["icmp_errors_rate_limited"] > 0, d  # 300 unreachables asked for
    assert d["ip_frag_drop_overlap"] >= sent["frag_overlap"] // 2, d
    assert d["ip_frag_drop_invalid"] >= sent["frag_beyond_64k"] + sent["frag_misaligned"], d
    # Endless fragments: each new datagram evicts the oldest; at most
    # CONFIG_NET_REASS_SLOTS (4) are ever held, 64 KiB each.
    assert d["ip_frag_drop_evicted"] >= sent["frag_endless"] - 4, d
    assert d["arp_ignored_conflict"] >= sent["arp_spoof_reply"], d
    assert d["arp_drop_not_for_us"] >= sent["arp_not_for_us"], d
    assert d["arp_drop_malformed"] >= sent["arp_truncated"], d

    # Still answering, to the right hardware address, fragments included.
    assert received(ping(ns, "-c", "3", "-i", "0.2", "-W", "2", GUEST_IP).stdout) == (3, 3)
    r = ping(ns, "-c", "2", "-i", "0.2", "-s", "8000", "-W", "2", GUEST_IP)
    assert received(r.stdout) == (2, 2), r.stdout
    assert g.stop() == 0


@pytest.mark.kvm
def test_monitor_rejects_unknown_device_and_bad_mac():
    from conftest import MONITOR, run
    echo = image("kvm", "echo")
    r = run([MONITOR, "--net", "other=tap0", echo])
    assert r.rc == 252 and "declares no network device" in r.err, r
    r = run([MONITOR, "--net", "service=tap0,mac=01:00:00:00:00:01", echo])
    assert r.rc == 2 and "unicast" in r.err, r
