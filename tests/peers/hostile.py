#!/usr/bin/python3
"""Hostile input for the guest's receive path, sent with scapy on a tap
device: malformed headers, bad checksums, hostile fragments, ARP spoofing
and unknown protocols.  Prints what it sent, one "kind count" per line.
  hostile.py IFACE GUEST_MAC GUEST_IP OUR_IP
With "arp-strangers FIRST COUNT" it sends only COUNT ARP requests for the
guest's address, each from a sender of its own: the addresses FIRST,
FIRST+1, ... counted from the start of OUR_IP's /16 (so 256 is x.y.1.0),
each with its own hardware address.
  hostile.py IFACE GUEST_MAC GUEST_IP OUR_IP arp-strangers FIRST COUNT
"""
import ipaddress
import random
import sys

from scapy.all import ARP, ICMP, IP, UDP, Ether, Raw, conf, sendp

conf.verb = 0


def arp_strangers(iface, gmac, gip, our_ip, first, count):
    """ARP requests for the guest from count distinct strangers: each one
    asks for the guest, so the guest answers each and (RFC 826) may cache
    each sender."""
    our_mac = open(f"/sys/class/net/{iface}/address").read().strip()
    base = int(ipaddress.ip_network(f"{our_ip}/16", strict=False).network_address)
    frames = []
    for k in range(first, first + count):
        ip = str(ipaddress.ip_address(base + k))
        mac = "02:5a:%02x:%02x:%02x:%02x" % tuple(k.to_bytes(4, "big"))
        frames.append(Ether(dst="ff:ff:ff:ff:ff:ff", src=our_mac) /
                      ARP(op=1, hwsrc=mac, psrc=ip, pdst=gip))
    sendp(frames, iface=iface)
    print("arp_strangers_ask", len(frames))


def main():
    iface, gmac, gip, our_ip = sys.argv[1:5]
    if sys.argv[5:6] == ["arp-strangers"]:
        return arp_strangers(iface, gmac, gip, our_ip, int(sys.argv[6]), int(sys.argv[7]))
    our_mac = open(f"/sys/class/net/{iface}/address").read().strip()
    eth = Ether(dst=gmac, src=our_mac, type=0x0800)
    rnd = random.Random(1)
    sent = {}

    def send(kind, frames):
        frames = list(frames)
        sendp(frames, iface=iface)
        sent[kind] = sent.get(kind, 0) + len(frames)

    def raw_ip(pkt):
        """pkt with its checksums and lengths computed, as bytes."""
        return bytes(pkt)

    # Ethernet: shorter than a header; an unknown EtherType.  A packet
    # socket cannot put less than a header on a tap: as root the kernel pads
    # these 12 bytes to 14 (EtherType 0), so the guest sees an unknown type.
    # test_net.py sends truly short frames over the hosted UDP backend.
    send("eth_truncated", [Raw(bytes(eth)[:12])] * 20)
    send("eth_unknown_type", [Ether(dst=gmac, src=our_mac, type=0x88b5) / Raw(b"x" * 50)] * 300)

    # IPv4 headers: truncated, bad version or header length, total length
    # beyond the frame, bad checksum.
    good = raw_ip(IP(src=our_ip, dst=gip) / ICMP() / Raw(b"p" * 32))
    send("ip_truncated", [eth / Raw(good[:12])] * 20)
    bad_version = bytearray(good)
    bad_version[0] = 0x65
    bad_ihl = bytearray(good)
    bad_ihl[0] = 0x44
    send("ip_bad_header", [eth / Raw(bytes(bad_version)), eth / Raw(bytes(bad_ihl))] * 10)
    send("ip_too_long", [eth / IP(src=our_ip, dst=gip, len=1400) / ICMP()] * 20)
    send("ip_bad_checksum", [eth / IP(src=our_ip, dst=gip, chksum=0x1234) / ICMP()] * 20)

    # Transport: bad checksums, UDP length beyond the datagram.
    send("udp_bad_checksum", [eth / IP(src=our_ip, dst=gip) / UDP(sport=9999, dport=7, chksum=0x1234) / Raw(b"u" * 20)] * 20)
    send("udp_bad_length", [eth / IP(src=our_ip, dst=gip) / UDP(sport=9999, dport=7, len=200) / Raw(b"u" * 20)] * 20)
    send("icmp_bad_checksum", [eth / IP(src=our_ip, dst=gip) / ICMP(chksum=0x1234) / Raw(b"i" * 20)] * 20)
    send("unknown_protocol", [eth / IP(src=our_ip, dst=gip, proto=200) / Raw(b"?" * 40)] * 300)

    # Fragments: overlapping, beyond 64 KiB, misaligned, and endless (first
    # fragments that never complete, each a new datagram).
    frames = []
    for i in range(20):
        frames.append(eth / IP(src=our_ip, dst=gip, id=1000 + i, flags="MF", frag=0, proto=17) / Raw(b"a" * 16))
        frames.append(eth / IP(src=our_ip, dst=gip, id=1000 + i, flags="MF", frag=1, proto=17) / Raw(b"b" * 16))
    send("frag_overlap", frames)
    send("frag_beyond_64k", [eth / IP(src=our_ip, dst=gip, id=3000 + i, flags="MF", frag=8185, proto=17) / Raw(b"c" * 64) for i in range(20)])
    send("frag_misaligned", [eth / IP(src=our_ip, dst=gip, id=4000 + i, flags="MF", frag=2, proto=17) / Raw(b"d" * 13) for i in range(20)])
    send("frag_endless", [eth / IP(src=our_ip, dst=gip, id=10000 + i, flags="MF", frag=0, proto=1) / Raw(b"e" * 1000) for i in range(500)])

    # ARP: unsolicited replies claiming our address for other hardware,
    # requests between strangers, requests for the guest from strangers.
    net = our_ip.rsplit(".", 1)[0]
    def rmac():
        return "02:%02x:%02x:%02x:%02x:%02x" % tuple(rnd.randrange(256) for _ in range(5))
    send("arp_spoof_reply", [Ether(dst=gmac, src=our_mac) / ARP(op=2, hwsrc=rmac(), psrc=our_ip, hwdst=gmac, pdst=gip) for _ in range(300)])
    send("arp_not_for_us", [Ether(dst="ff:ff:ff:ff:ff:ff", src=our_mac) / ARP(op=1, hwsrc=rmac(), psrc=f"{net}.{rnd.randrange(100, 200)}", pdst=f"{net}.{rnd.randrange(200, 250)}") for _ in range(300)])
    send("arp_strangers_ask", [Ether(dst="ff:ff:ff:ff:ff:ff", src=our_mac) / ARP(op=1, hwsrc=rmac(), psrc=f"{net}.{100 + i % 100}", pdst=gip) for i in range(300)])
    send("arp_truncated", [Ether(dst=gmac, src=our_mac, type=0x0806) / Raw(b"\x00\x01\x08\x00\x06\x04")] * 20)

    for kind, n in sent.items():
        print(kind, n)


if __name__ == "__main__":
    main()
