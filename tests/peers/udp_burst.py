#!/usr/bin/python3
"""UDP burst peer: keeps WINDOW requests in flight to ADDR:PORT until COUNT
have been answered, and checks every answer.  Requests that go unanswered
for a second are sent again (at most 3 times each).  MODE echo: datagrams
of 1 to 1472 bytes that must come back byte for byte; MODE dns: A queries
for example.test that must come back as answers (QR set, NOERROR) to their
own ID.  Prints "answered N of COUNT" and exits 0 only if all were.
  udp_burst.py MODE ADDR PORT COUNT WINDOW
"""
import random
import select
import socket
import struct
import sys
import time


def request(mode, i, rng):
    if mode == "echo":
        return struct.pack("!I", i) + rng.randbytes(rng.randrange(0, 1469))
    name = b"".join(bytes([len(p)]) + p for p in (b"example", b"test")) + b"\0"
    return struct.pack("!HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0) + name + struct.pack("!HH", 1, 1)


def key(mode, data):
    """The request an answer is for, if it is well formed; else None."""
    if mode == "echo":
        return struct.unpack("!I", data[:4])[0] if len(data) >= 4 else None
    if len(data) < 12:
        return None
    ident, flags = struct.unpack("!HH", data[:4])
    return ident if flags & 0x8000 and (flags & 0xf) == 0 else None


def main():
    mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    count, window = int(sys.argv[4]), int(sys.argv[5])
    assert mode in ("echo", "dns") and (mode == "echo" or count <= 65536)
    rng = random.Random(count)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.connect((addr, port))
    sent = {}  # key -> [payload, sent at, tries]
    nxt = answered = bad = 0
    deadline = time.monotonic() + 120
    while answered < count and time.monotonic() < deadline:
        while len(sent) < window and nxt < count:
            p = request(mode, nxt, rng)
            sent[nxt & 0xffff if mode == "dns" else nxt] = [p, time.monotonic(), 1]
            s.send(p)
            nxt += 1
        if select.select([s], [], [], 0.2)[0]:
            data = s.recv(65536)
            k = key(mode, data)
            if k in sent and (mode == "dns" or data == sent[k][0]):
                del sent[k]
                answered += 1
            else:
                bad += 1
        now = time.monotonic()
        late = [v for v in sent.values() if now - v[1] > 1.0]
        if any(v[2] == 3 for v in late):
            break
        for v in late:
            v[1], v[2] = now, v[2] + 1
            s.send(v[0])
    print(f"answered {answered} of {count}, {bad} wrong")
    return 0 if answered == count and not bad else 1


if __name__ == "__main__":
    sys.exit(main())
