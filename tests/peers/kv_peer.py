"""A Redis-protocol client for tests/test_kv.py, run inside the test's
network namespace:
  write ADDR ACKS SEED CONNS   SETs and INCRs from CONNS connections until
                               the server goes away; each acknowledged
                               write is appended to ACKS as it arrives
  verify ADDR ACKS             every write in ACKS is there
  seq ADDR N                   SETs s0..s{N-1}, one at a time
  prefix ADDR N                how many of s0.. are there, and holes
  garbage ADDR SEED            protocol garbage on many connections; the
                               server must still answer PING
  churn ADDR N ROUNDS          writes 100 keys once, then overwrites N keys
                               of 4000 bytes ROUNDS times while a reader
                               checks every value it gets; then all hold
                               their last value
  fill ADDR [SIZE]             new keys of 4000 bytes (or SIZE) until the
                               store refuses one; prints the count and the
                               error
  pipeline ADDR PORT SEED N    N mixed commands and QUIT sent in one write;
                               prints the replies' bytes in hex
"""
import random
import socket
import sys
import threading


def encode(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Client:
    def __init__(self, addr, timeout=10):
        self.s = socket.create_connection((addr, 6379), timeout=timeout)
        self.buf = b""

    def send(self, *args):
        self.s.sendall(encode(*args))

    def _line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise ConnectionError("closed")
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t in (b"+", b"-"):
            return (t.decode(), rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                d = self.s.recv(65536)
                if not d:
                    raise ConnectionError("closed")
                self.buf += d
            v, self.buf = self.buf[:n], self.buf[n + 2:]
            return v
        if t == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise ValueError(f"bad reply {line!r}")

    def call(self, *args):
        self.send(*args)
        return self.reply()


def value(key):
    r = random.Random(key)
    return (key + ":").encode() + bytes(r.randrange(97, 123) for _ in range(r.randrange(1, 3000)))


def write(addr, acks, seed, conns):
    lock = threading.Lock()
    out = open(acks, "a", buffering=1)

    def setter(t):
        try:
            c = Client(addr)
            for i in range(10 ** 9):
                key = f"w{seed}:{t}:{i}"
                if c.call("SET", key, value(key)) != ("+", "OK"):
                    return
                with lock:
                    out.write(f"set {key}\n")
        except (OSError, ConnectionError):
            pass

    def counter():
        try:
            c = Client(addr)
            while True:
                v = c.call("INCR", "counter")
                with lock:
                    out.write(f"incr {v}\n")
        except (OSError, ConnectionError):
            pass

    threads = [threading.Thread(target=setter, args=(t,)) for t in range(conns)]
    threads.append(threading.Thread(target=counter))
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def verify(addr, acks):
    c = Client(addr)
    keys, top = [], 0
    with open(acks) as f:
        for line in f:
            if not line.endswith("\n"):
                continue  # the writer died mid-line
            kind, v = line.split()
            if kind == "set":
                keys.append(v)
            else:
                top = max(top, int(v))
    bad = []
    for i in range(0, len(keys), 200):  # pipelined, 200 at a time
        batch = keys[i:i + 200]
        for k in batch:
            c.send("GET", k)
        bad += [k for k in batch if c.reply() != value(k)]
    ctr = c.call("GET", "counter")
    ctr = int(ctr) if ctr is not None else 0
    print(f"verified {len(keys) - len(bad)} of {len(keys)} sets; counter {ctr} "
          f"after {top} acknowledged")
    if bad or not top <= ctr <= top + 1:
        print("missing or wrong:", bad[:10])
        sys.exit(1)


def seq(addr, n):
    c = Client(addr)
    for i in range(n):
        assert c.call("SET", f"s{i}", value(f"s{i}")) == ("+", "OK")
    print(f"wrote {n}")


def prefix(addr, n):
    c = Client(addr)
    present = [c.call("GET", f"s{i}") == value(f"s{i}") for i in range(n)]
    m = present.index(False) if False in present else n
    print(f"prefix {m} holes {sum(present[m:])}")


def garbage(addr, seed):
    rnd = random.Random(seed)
    samples = [b"*3\r\n$3\r\nSET\r\n", b"*-5\r\n", b"$5\r\nhello\r\n", b"*1\r\n$-3\r\n",
               b"*2\r\n$3\r\nGET\r\n:12\r\n", b"*99999999999999999999\r\n",
               b"\"unbalanced\r\n", b"*1\r\n$999999999\r\n", b"\x00\xff" * 100,
               b"*" + b"9" * 70000, b"PING\r\n" * 50]
    for i in range(200):
        s = socket.create_connection((addr, 6379), timeout=10)
        data = rnd.choice(samples) if i % 2 else rnd.randbytes(rnd.randrange(1, 5000))
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
        except OSError:
            pass
        s.close()
    # The server still serves, and an unknown command keeps its connection.
    c = Client(addr)
    assert c.call("NOSUCHCMD", "x")[0] == "-"
    assert c.call("PING") == ("+", "PONG")
    print("garbage survived")


def big(key, round_):
    return (b"%s/%d/" % (key.encode(), round_)).ljust(4000, b"x")


def churn(addr, n, rounds):
    done = threading.Event()
    errors, reads = [], [0]

    def reader():
        c = Client(addr)
        rnd = random.Random(1)
        while not done.is_set():
            k = f"c{rnd.randrange(n)}"
            v = c.call("GET", k)
            reads[0] += 1
            if v is not None and v != big(k, int(v.split(b"/")[1])):
                errors.append((k, v[:40]))

    t = threading.Thread(target=reader)
    t.start()
    c = Client(addr)
    # Keys written once, in the oldest segment: the compactor moves them.
    for i in range(100):
        assert c.call("SET", f"keep{i}", big(f"keep{i}", 0)) == ("+", "OK")
    for r in range(rounds):
        for i in range(0, n, 50):  # pipelined
            keys = [f"c{j}" for j in range(i, min(n, i + 50))]
            for k in keys:
                c.send("SET", k, big(k, r))
            assert all(c.reply() == ("+", "OK") for _ in keys)
    done.set()
    t.join()
    bad = [k for k in (f"c{j}" for j in range(n)) if c.call("GET", k) != big(k, rounds - 1)]
    bad += [k for k in (f"keep{j}" for j in range(100)) if c.call("GET", k) != big(k, 0)]
    print(f"churned {n} keys {rounds} times; {reads[0]} reads, {len(errors)} wrong; "
          f"{len(bad)} not at the last round")
    if errors or bad:
        sys.exit(1)


def fill(addr, size=None):
    c = Client(addr)
    for i in range(10 ** 6):
        value = f"f{i}/".encode().ljust(size, b"x") if size else big(f"f{i}", 0)
        r = c.call("SET", f"f{i}", value)
        if r != ("+", "OK"):
            print(f"filled {i} then {r}")
            return


def mixed(rnd):
    """One command of a pipeline: small values (kept in memory) and large
    ones (read from the device), hits and misses, counters, errors."""
    key = lambda: f"p{rnd.randrange(40)}"
    val = lambda: bytes(rnd.randrange(97, 123) for _ in range(
        rnd.choice((0, 1, 3, 64, 65, rnd.randrange(66, 700)))))
    return rnd.choice((
        lambda: ("SET", key(), val()),
        lambda: ("GET", key()),
        lambda: ("GET", key()),
        lambda: ("SET", key(), val(), rnd.choice(("NX", "XX", "GET"))),
        lambda: ("INCR", f"n{rnd.randrange(5)}"),
        lambda: ("INCRBY", rnd.choice((key(), f"n{rnd.randrange(5)}")), rnd.randrange(-9, 9)),
        lambda: ("DECR", key()),
        lambda: ("DEL", key(), key()),
        lambda: ("EXISTS", key(), key()),
        lambda: ("MGET", key(), key(), key()),
        lambda: ("MSET", key(), val(), key(), val()),
        lambda: ("ECHO", val()),
        lambda: ("PING",),
        lambda: ("GET",),
        lambda: ("NOSUCH", key()),
    ))()


def pipeline(addr, port, seed, n):
    rnd = random.Random(seed)
    s = socket.create_connection((addr, port), timeout=30)
    s.sendall(b"".join(encode(*mixed(rnd)) for _ in range(n)) + encode("QUIT"))
    out = b""
    while d := s.recv(65536):
        out += d
    print(out.hex())


if __name__ == "__main__":
    mode, addr = sys.argv[1], sys.argv[2]
    if mode == "write":
        write(addr, sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif mode == "verify":
        verify(addr, sys.argv[3])
    elif mode == "seq":
        seq(addr, int(sys.argv[3]))
    elif mode == "prefix":
        prefix(addr, int(sys.argv[3]))
    elif mode == "churn":
        churn(addr, int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "fill":
        fill(addr, int(sys.argv[3]) if len(sys.argv) > 3 else None)
    elif mode == "pipeline":
        pipeline(addr, int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif mode == "garbage":
        garbage(addr, int(sys.argv[3]))
    else:
        sys.exit(f"unknown mode {mode}")
