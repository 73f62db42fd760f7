#!/usr/bin/python3
"""UDP echo peer: sends datagrams of the given sizes to ADDR:PORT, checks
each echo byte for byte, and exits 0 if every one came back intact.
  udp_echo_check.py ADDR PORT SIZE...
"""
import os
import socket
import sys


def main():
    addr, port, sizes = sys.argv[1], int(sys.argv[2]), [int(s) for s in sys.argv[3:]]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.settimeout(2)
    bad = 0
    for size in sizes:
        payload = os.urandom(size)
        for attempt in range(3):
            s.sendto(payload, (addr, port))
            try:
                data, src = s.recvfrom(65536)
            except socket.timeout:
                continue
            if src == (addr, port) and data == payload:
                print(f"{size}: ok")
                break
            print(f"{size}: wrong echo ({len(data)} bytes from {src})")
        else:
            print(f"{size}: no echo")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
