"""HTTP clients for tests/test_http.py, run inside a test's namespace:
  http_peer.py MODE ADDR PORT [ARGS-JSON]
prints one JSON document on stdout.  Bodies travel as base64."""
import base64
import hashlib
import http.client
import json
import os
import resource
import selectors
import socket
import sys
import time


def b64(b):
    return base64.b64encode(b).decode()


def read_all(s, wait):
    """What the server sends until it closes, or wait seconds pass with
    nothing new: (bytes, closed, reset)."""
    s.settimeout(wait)
    out = b""
    while True:
        try:
            d = s.recv(65536)
        except socket.timeout:
            return out, False, False
        except ConnectionResetError:
            return out, True, True
        if not d:
            return out, True, False
        out += d


def raw(addr, port, items):
    """Each item: {"data": b64, "wait": s, "pause": s, "split": n}: sends the
    bytes (in pieces of split bytes, pause seconds apart), then reads."""
    res = []
    for it in items:
        s = socket.create_connection((addr, port), timeout=10)
        data = base64.b64decode(it["data"])
        step = it.get("split") or len(data) or 1
        try:
            for i in range(0, len(data), step):
                s.sendall(data[i:i + step])
                if it.get("pause"):
                    time.sleep(it["pause"])
        except (BrokenPipeError, ConnectionResetError):
            pass
        start = time.monotonic()
        out, closed, reset = read_all(s, it.get("wait", 3))
        res.append({"resp": b64(out), "closed": closed, "reset": reset,
                    "elapsed": time.monotonic() - start})
        s.close()
    return res


class Unclosed:
    """A socket's file that http.client's responses cannot close: the
    next response on the connection reads on from it."""

    def __init__(self, f):
        self.f = f

    def __getattr__(self, name):
        return getattr(self.f, name)

    def close(self):
        pass


def keepalive(addr, port, n):
    """n requests on one http.client connection (GET and HEAD), then an
    HTTP/1.0 keep-alive pair: the statuses, and whether one socket served
    them all."""
    c = http.client.HTTPConnection(addr, port, timeout=10)
    out = {"statuses": [], "same_socket": True}
    sock = None
    for i in range(n):
        method = "HEAD" if i % 3 == 2 else "GET"
        c.request(method, "/" if i % 2 else "/style.css")
        r = c.getresponse()
        body = r.read()
        out["statuses"].append([method, r.status, len(body),
                                r.getheader("Content-Length")])
        if sock is None:
            sock = c.sock
        out["same_socket"] &= c.sock is sock
    c.close()
    s = socket.create_connection((addr, port), timeout=10)
    f = Unclosed(s.makefile("rb"))
    got = []
    for path in ("/", "/style.css"):
        s.sendall(f"GET {path} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".encode())
        r = http.client.HTTPResponse(s)
        r.fp = f
        r.begin()
        got.append([r.status, r.getheader("Connection"), len(r.read())])
    s.close()
    out["http10"] = got
    return out


def pipeline(addr, port, paths):
    """Every request in one write; the answers read in order."""
    s = socket.create_connection((addr, port), timeout=10)
    reqs = b"".join(
        f"{'HEAD' if p.startswith('HEAD ') else 'GET'} {p.split(' ')[-1]} HTTP/1.1\r\n"
        f"Host: t\r\n\r\n".encode() for p in paths)
    s.sendall(reqs)
    f = Unclosed(s.makefile("rb"))
    out = []
    for p in paths:
        r = http.client.HTTPResponse(s, method="HEAD" if p.startswith("HEAD ") else "GET")
        r.fp = f
        r.begin()
        body = r.read()
        out.append([p, r.status, hashlib.sha256(body).hexdigest(), len(body)])
    s.close()
    return out


def fetch(addr, port, spec):
    """spec: {"dir": d, "paths": [...], "codings": [...]}: each path with
    each Accept-Encoding on one connection, bodies written to d/i.j."""
    c = http.client.HTTPConnection(addr, port, timeout=10)
    out = []
    for i, p in enumerate(spec["paths"]):
        for j, ae in enumerate(spec["codings"]):
            c.request("GET", p, headers={"Accept-Encoding": ae} if ae else {})
            r = c.getresponse()
            body = r.read()
            name = os.path.join(spec["dir"], f"{i}.{j}")
            with open(name, "wb") as f:
                f.write(body)
            out.append({"path": p, "ae": ae, "status": r.status, "file": name,
                        "headers": {k.lower(): v for k, v in r.getheaders()}})
    c.close()
    return out


def many(addr, port, spec):
    """Opens spec["n"] connections, a GET / on each; holds them all open,
    then asks again on every one: how many answered each time."""
    n = spec["n"]
    resource.setrlimit(resource.RLIMIT_NOFILE, (n + 1024, n + 1024))
    sel = selectors.DefaultSelector()
    req = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
    socks, bufs = [], {}
    start = time.monotonic()
    deadline = start + spec.get("timeout", 120)

    def answered(s):
        b = bufs[s]
        i = b.find(b"\r\n\r\n")
        if i < 0:
            return False
        length = int([l for l in b[:i].split(b"\r\n") if l.lower().startswith(b"content-length:")][0]
                     .split(b":")[1])
        return len(b) >= i + 4 + length

    def round_trip(batch):
        """Sends the request on every socket of batch and waits for every
        answer; the sockets that answered."""
        pending = set()
        for s in batch:
            bufs[s] = b""
            try:
                s.sendall(req)
            except OSError:
                continue
            sel.register(s, selectors.EVENT_READ)
            pending.add(s)
        ok = []
        while pending and time.monotonic() < deadline:
            for key, _ in sel.select(1):
                s = key.fileobj
                try:
                    d = s.recv(65536)
                except OSError:
                    d = b""
                if not d:
                    sel.unregister(s)
                    pending.discard(s)
                    continue
                bufs[s] += d
                if answered(s):
                    sel.unregister(s)
                    pending.discard(s)
                    ok.append(s)
        for s in pending:
            sel.unregister(s)
        return ok

    first = 0
    batch = 500
    for i in range(0, n, batch):
        group = []
        for _ in range(min(batch, n - i)):
            s = socket.socket()
            s.settimeout(30)
            try:
                s.connect((addr, port))
            except OSError:
                s.close()
                continue
            s.setblocking(False)
            group.append(s)
        socks += group
        first += len(round_trip(group))
    opened = time.monotonic() - start
    # Everything is open now: the server holds them all.
    print(json.dumps({"held": len(socks), "answered": first}), flush=True)
    sys.stdin.readline()  # the test checks the server's count, then asks on
    second = 0
    for i in range(0, len(socks), batch):
        second += len(round_trip(socks[i:i + batch]))
    for s in socks:
        s.close()
    return {"n": n, "connected": len(socks), "answered": first,
            "answered_again": second, "open_seconds": opened,
            "seconds": time.monotonic() - start}


def main():
    mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    arg = json.loads(sys.argv[4]) if len(sys.argv) > 4 else None
    if arg is None and mode in ("raw", "fetch"):
        arg = json.load(sys.stdin)
    fn = {"raw": raw, "keepalive": keepalive, "pipeline": pipeline,
          "fetch": fetch, "many": many}[mode]
    print(json.dumps(fn(addr, port, arg)), flush=True)


if __name__ == "__main__":
    main()
