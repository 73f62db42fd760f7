#!/usr/bin/python3
"""DNS over TCP beyond single queries (RFC 7766), against a server with a
cap of CAP connections served at once.
  dns_tcp_check.py ADDR CAP
First CAP connections each get an answer and stay open; one more must be
closed by the server without an answer while those CAP are still served.
Then, once they are closed, 50 queries sent back to back on one new
connection must all be answered, in order.  Prints what it saw; exits 1 on
the first failure."""
import socket
import sys
import time

import dns.message
import dns.rcode


def query(qid, name="www.example.test"):
    m = dns.message.make_query(name, "A", use_edns=False)
    m.id = qid
    data = m.to_wire()
    return len(data).to_bytes(2, "big") + data


def recv_exactly(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def answer(s):
    head = recv_exactly(s, 2)
    if head is None:
        return None
    return dns.message.from_wire(recv_exactly(s, int.from_bytes(head, "big")))


def ask(s, qid):
    s.sendall(query(qid))
    m = answer(s)
    if m is None or m.id != qid or m.rcode() != dns.rcode.NOERROR or not m.answer:
        raise SystemExit(f"query {qid}: bad or no answer: {m}")


def closed_at_once(s, timeout=3):
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def main():
    addr, cap = sys.argv[1], int(sys.argv[2])
    held = []
    for i in range(cap):
        s = socket.create_connection((addr, 53), timeout=5)
        ask(s, 100 + i)
        held.append(s)
    extra = socket.create_connection((addr, 53), timeout=5)
    if not closed_at_once(extra):
        raise SystemExit(f"connection {cap + 1} was kept open beyond the cap")
    for i, s in enumerate(held):
        ask(s, 200 + i)
    print(f"connection {cap + 1} closed at once; {cap} others still answered")
    for s in held:
        s.close()

    # The server frees a slot when it sees the close: try again until one is.
    for _ in range(50):
        s = socket.create_connection((addr, 53), timeout=5)
        s.sendall(b"".join(query(i) for i in range(1, 51)))
        m = answer(s)
        if m is not None:
            break
        s.close()
        time.sleep(0.1)
    else:
        raise SystemExit("no slot came free after the held connections closed")
    ids = [m.id]
    for _ in range(49):
        m = answer(s)
        if m is None:
            raise SystemExit(f"the connection closed after {len(ids)} answers")
        ids.append(m.id)
    if ids != list(range(1, 51)):
        raise SystemExit(f"answers out of order: {ids}")
    print("pipelined 50 answered in order")


if __name__ == "__main__":
    main()
