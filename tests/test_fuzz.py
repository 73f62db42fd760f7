"""libFuzzer over the network receive path (tests/fuzz/net_fuzz.c, with a
static address, with the DHCP client, and as a router with NAT), the DNS query handler
(tests/fuzz/dns_fuzz.c), TCP's input path and the HTTP request parser
(tests/fuzz/http_fuzz.c), for a bounded time each; `make fuzz-net`,
`make fuzz-dns`, `make fuzz-tcp` and `make fuzz-http` run them for longer."""
import os
import subprocess
import tempfile

from conftest import BUILD

FUZZER = os.path.join(BUILD, "fuzz", "net_fuzz")
DNS_FUZZER = os.path.join(BUILD, "fuzz", "dns_fuzz")
DHCP_FUZZER = os.path.join(BUILD, "fuzz", "net_dhcp_fuzz")
FORWARD_FUZZER = os.path.join(BUILD, "fuzz", "net_forward_fuzz")
TCP_FUZZER = os.path.join(BUILD, "fuzz", "tcp_fuzz")
HTTP_FUZZER = os.path.join(BUILD, "fuzz", "http_fuzz")
SECONDS = 20


def frame_record(frame, advance=0):
    return bytes([advance]) + len(frame).to_bytes(2, "big") + frame


def seeds():
    """Well-formed traffic to start from: the fuzzer mutates it."""
    from scapy.all import ARP, ICMP, IP, UDP, Ether, Raw, fragment
    us, them = "02:00:00:00:00:02", "02:00:00:00:00:01"
    eth = Ether(dst=us, src=them)
    ping = IP(src="10.0.0.1", dst="10.0.0.2") / ICMP() / Raw(b"x" * 56)
    frames = {
        "arp": [eth / ARP(op=1, hwsrc=them, psrc="10.0.0.1", pdst="10.0.0.2")],
        "ping": [eth / ping],
        "udp": [eth / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=5000, dport=7) / Raw(b"hello")],
        "udp_closed": [eth / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=5000, dport=9) / Raw(b"?")],
        "frags": [eth / f for f in fragment(IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=5000, dport=7) / Raw(b"y" * 3000), 1480)],
        "arp_reply": [eth / ARP(op=2, hwsrc=them, psrc="10.0.0.1", hwdst=us, pdst="10.0.0.2")],
    }
    return {k: b"".join(frame_record(bytes(f), i % 3) for i, f in enumerate(v))
            for k, v in frames.items()}


def dhcp_seeds():
    """A server's offer, then its ack, to the client's first exchange (the
    harness's xid is 1), and a NAK."""
    from scapy.all import BOOTP, DHCP, IP, UDP, Ether
    us = "02:00:00:00:00:02"
    chaddr = bytes.fromhex(us.replace(":", "")) + bytes(10)

    def reply(kind):
        return bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src="02:00:00:00:00:01")
                     / IP(src="10.0.0.1", dst="255.255.255.255") / UDP(sport=67, dport=68)
                     / BOOTP(op=2, xid=1, yiaddr="10.0.0.50", chaddr=chaddr)
                     / DHCP(options=[("message-type", kind), ("server_id", "10.0.0.1"),
                                     ("lease_time", 120), ("renewal_time", 3),
                                     ("subnet_mask", "255.255.255.0"),
                                     ("router", "10.0.0.1"), "end"]))
    return {"offer_ack": frame_record(reply("offer")) + frame_record(reply("ack"), 5),
            "offer_nak": frame_record(reply("offer")) + frame_record(reply("nak"))}


def dns_seeds():
    import dns.message
    out = {}
    for i, (name, rdtype, edns) in enumerate([
            ("www.example.test", "A", None), ("alias.example.test", "A", 1232),
            ("x.wild.example.test", "TXT", None), ("foo.sub.example.test", "A", 4096),
            ("big.example.test", "TXT", 512), ("nope.example.test", "AAAA", None),
            ("example.test", "ANY", 1232), ("b.c.example.test", "MX", None)]):
        q = dns.message.make_query(name, rdtype, use_edns=edns is not None, payload=edns or 512)
        out[f"q{i}"] = q.to_wire()
    return out


def run_fuzzer(fuzzer, seed_files):
    assert os.path.exists(fuzzer), f"{fuzzer} was not built (make fuzzers)"
    with tempfile.TemporaryDirectory(prefix="ingot-fuzz-") as d:
        corpus, crashes = os.path.join(d, "corpus"), os.path.join(d, "crashes") + "/"
        os.mkdir(corpus)
        os.mkdir(crashes)
        for name, data in seed_files.items():
            with open(os.path.join(corpus, name), "wb") as f:
                f.write(data)
        r = subprocess.run([fuzzer, f"-max_total_time={SECONDS}", "-print_final_stats=1",
                            f"-artifact_prefix={crashes}", corpus],
                           capture_output=True, text=True, timeout=SECONDS + 120)
        assert r.returncode == 0 and not os.listdir(crashes), r.stderr[-4000:]
        runs = int(next(l for l in r.stderr.splitlines()
                        if l.startswith("stat::number_of_executed_units:")).split()[-1])
        assert runs > 10000, r.stderr[-2000:]


def test_fuzz_net_receive_path():
    run_fuzzer(FUZZER, seeds())


def test_fuzz_dns_query_handler():
    run_fuzzer(DNS_FUZZER, dns_seeds())


def test_fuzz_dhcp_client():
    run_fuzzer(DHCP_FUZZER, {**dhcp_seeds(), **seeds()})


def forward_seeds():
    """Traffic through the harness's router (wan 10.0.0.2/24, lan
    10.0.1.1/24 with MTU 1280, masquerade on wan): both ways, NATed
    replies and ICMP errors about them, a large datagram without DF to cut,
    one with DF, TTL 1, partial checksums (the record's 0x40 bit)."""
    from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw, IPerror, UDPerror
    wan, lan, peer = "02:00:00:00:00:02", "02:00:00:00:01:02", "02:00:00:00:00:01"

    def rec(frame, dev=0, partial=False, advance=0):
        return frame_record(bytes(frame), dev << 7 | partial << 6 | advance)
    out_udp = Ether(dst=lan, src=peer) / IP(src="10.0.1.5", dst="8.8.8.8") / UDP(sport=5000, dport=53) / Raw(b"q")
    back_udp = Ether(dst=wan, src=peer) / IP(src="8.8.8.8", dst="10.0.0.2") / UDP(sport=53, dport=5000) / Raw(b"a")
    err = (Ether(dst=wan, src=peer) / IP(src="8.8.8.8", dst="10.0.0.2") / ICMP(type=3, code=3)
           / IPerror(src="10.0.0.2", dst="8.8.8.8") / UDPerror(sport=5000, dport=53))
    syn = Ether(dst=lan, src=peer) / IP(src="10.0.1.5", dst="1.2.3.4") / TCP(sport=40000, dport=80, flags="S")
    synack = Ether(dst=wan, src=peer) / IP(src="1.2.3.4", dst="10.0.0.2") / TCP(sport=80, dport=40000, flags="SA")
    big = Ether(dst=wan, src=peer) / IP(src="1.2.3.4", dst="10.0.1.5") / UDP(sport=1, dport=2) / Raw(b"z" * 1400)
    df = Ether(dst=wan, src=peer) / IP(src="1.2.3.4", dst="10.0.1.5", flags="DF") / UDP(sport=1, dport=2) / Raw(b"z" * 1400)
    ttl1 = Ether(dst=wan, src=peer) / IP(src="1.2.3.4", dst="10.0.5.7", ttl=1) / ICMP()
    ping = Ether(dst=lan, src=peer) / IP(src="10.0.1.5", dst="1.2.3.4") / ICMP(id=7) / Raw(b"p" * 32)
    pong = Ether(dst=wan, src=peer) / IP(src="1.2.3.4", dst="10.0.0.2") / ICMP(type=0, id=7) / Raw(b"p" * 32)
    return {"nat_udp": rec(out_udp, 1) + rec(back_udp) + rec(err),
            "nat_tcp": rec(syn, 1, True) + rec(synack, 0, True, 3),
            "cut": rec(big) + rec(df) + rec(ttl1),
            "ping": rec(ping, 1) + rec(pong)}


def test_fuzz_forwarding_and_nat():
    run_fuzzer(FORWARD_FUZZER, forward_seeds())


def test_fuzz_tcp_input_path():
    # Its inputs are programs (segments near each connection's numbers,
    # application calls, the clock); libFuzzer starts from an empty corpus.
    run_fuzzer(TCP_FUZZER, {})


def http_seeds():
    """Requests to start from (the first byte picks the harness's read
    sizes): fields of every kind the server reads, a chunked body."""
    heads = [
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"HEAD /a/../b%2e/./c?x=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        b"GET http://a:80/d/ HTTP/1.1\r\nHost: b\r\nAccept-Encoding: gzip;q=0.5, br;q=1.0, *;q=0\r\n"
        b"Range: bytes=1-5\r\nIf-Range: \"1-abc\"\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: a\r\nIf-None-Match: W/\"1-abc\", \"2\"\r\n"
        b"If-Modified-Since: Sunday, 06-Nov-94 08:49:37 GMT\r\nIf-Match: *\r\n"
        b"If-Unmodified-Since: Sun Nov  6 08:49:37 1994\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
        b"5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
    ]
    return {f"h{i}": bytes([i * 5]) + h for i, h in enumerate(heads)}


def test_fuzz_http_request_parser():
    run_fuzzer(HTTP_FUZZER, http_seeds())
