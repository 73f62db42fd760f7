"""Segments outside a TCP connection's windows, sent into a firewall
between a real client and server (tests/test_firewall.py).

  tcp_window.py server ADDR SECONDS
      An echo server on ADDR:80 for one connection, and a capture of every
      TCP segment that reaches this namespace's eth0 for it.  Prints
      "listening", then "got DATA" per read, "reset" if the client's end
      was reset, and at the end one line "seen SEQ FLAGS LEN" per segment
      captured from the client.
  tcp_window.py client ADDR SERVER
      Connects from ADDR, exchanges "before", then sends with scapy, on
      the connection's ports: data 2^30 past the window, data acknowledging
      2^30 more than the server sent, a reset 2^30 past the window, and a
      reset before what the server acknowledged; exchanges "after"; and
      last a reset exactly at the next sequence number.  Prints one line
      "sent NAME SEQ FLAGS" per segment it made, then "done".
"""
import select
import socket
import struct
import sys
import threading
import time

ETH_P_ALL = 0x0003
FAR = 1 << 30


def tcp_of(frame):
    """(src, dst, sport, dport, seq, ack, flags, payload) of an Ethernet
    frame carrying IPv4 TCP, else None."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return None
    ip = frame[14:]
    hl = (ip[0] & 15) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    t = ip[hl:total]
    if len(t) < 20:
        return None
    sport, dport, seq, ack = struct.unpack("!HHII", t[:12])
    thl = (t[12] >> 4) * 4
    return (socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20]), sport, dport, seq,
            ack, t[13], t[thl:])


def capture_socket():
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind(("eth0", 0))
    return s


def server(addr, seconds):
    cap = capture_socket()
    seen = []
    stop = time.monotonic() + seconds

    def sniff():
        while (left := stop - time.monotonic()) > 0:
            if not select.select([cap], [], [], left)[0]:
                continue
            frame, info = cap.recvfrom(65536)
            seg = tcp_of(frame)
            if seg and seg[1] == addr and seg[3] == 80 and info[2] != socket.PACKET_OUTGOING:
                seen.append(seg)
    t = threading.Thread(target=sniff)
    t.start()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, 80))
    ls.listen(1)
    print("listening", flush=True)
    ls.settimeout(seconds)
    c, _ = ls.accept()
    c.settimeout(max(0.1, stop - time.monotonic()))
    try:
        while data := c.recv(4096):
            print("got", data.decode(errors="replace"), flush=True)
            c.sendall(data)
    except ConnectionResetError:
        print("reset", flush=True)
    except socket.timeout:
        pass
    t.join()
    for src, _, _, _, seq, _, flags, payload in seen:
        print("seen", seq, flags, len(payload), flush=True)


def client(addr, srv):
    from scapy.all import IP, TCP, Raw, send
    cap = capture_socket()
    s = socket.create_connection((srv, 80), source_address=(addr, 0))
    sport = s.getsockname()[1]

    def exchange(word):
        s.sendall(word)
        got = b""
        while len(got) < len(word):
            got += s.recv(100)
        assert got == word, got
        time.sleep(0.3)  # the last acknowledgements cross

    nxt, injected = {}, set()

    def next_numbers():
        """The client's next sequence number and the server's, from the
        segments the two sent (not those injected)."""
        while select.select([cap], [], [], 0)[0]:
            seg = tcp_of(cap.recv(65536))
            if not seg or {seg[2], seg[3]} != {sport, 80} or \
                    (seg[4], seg[6], bytes(seg[7])) in injected:
                continue
            end = seg[4] + len(seg[7]) + (1 if seg[6] & 3 else 0)  # SYN, FIN
            side = "c" if seg[0] == addr else "s"
            if side not in nxt or 0 < (end - nxt[side]) % (1 << 32) < FAR:
                nxt[side] = end % (1 << 32)
        return nxt["c"], nxt["s"]

    def inject(name, flags, seq, ack=0, data=b""):
        p = IP(src=addr, dst=srv) / TCP(sport=sport, dport=80, flags=flags,
                                       seq=seq % (1 << 32), ack=ack % (1 << 32), window=502)
        injected.add((seq % (1 << 32), int(p[TCP].flags), data))
        send(p / Raw(data) if data else p, verbose=0)
        print("sent", name, seq % (1 << 32), int(p[TCP].flags), flush=True)

    exchange(b"before")
    c, sv = next_numbers()
    inject("far-data", "PA", c + FAR, sv, b"far-data")
    inject("far-ack", "PA", c, sv + FAR, b"far-ack")
    inject("far-reset", "R", c + FAR)
    inject("old-reset", "R", c - 1000)
    exchange(b"after")
    c, sv = next_numbers()
    inject("exact-reset", "R", c)
    print("done", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(sys.argv[2], float(sys.argv[3]))
    else:
        client(sys.argv[2], sys.argv[3])
