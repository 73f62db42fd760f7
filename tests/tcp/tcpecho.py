#!/usr/bin/python3
"""The Linux reference for apps/tcpecho: the same three services on Linux
sockets, so the harness's scripts meet Linux's TCP where they will meet
the guest's.
  port 7   echo: writes back what it reads; closes at end of input
  port 9   discard: reads and forgets; closes at end of input
  port 19  sender: reads one line, a decimal N; writes N bytes (byte i
           is i % 251); closes
  tcpecho.py ADDRESS
Prints "tcpecho: ready" once all three listen.  Socket options are
Linux's defaults: the scripts record what Linux does out of the box."""
import socket
import sys
import threading


def echo(c):
    while data := c.recv(65536):
        c.sendall(data)


def discard(c):
    while c.recv(65536):
        pass


def sender(c):
    line = b""
    while not line.endswith(b"\n") and len(line) < 32:
        b = c.recv(1)
        if not b:
            return
        line += b
    n = int(line)
    c.sendall(bytes(i % 251 for i in range(n)))  # apps/tcpecho's pattern


def serve(lsock, handler):
    while True:
        c, _ = lsock.accept()
        threading.Thread(target=handle, args=(c, handler), daemon=True).start()


def handle(c, handler):
    try:
        handler(c)
    except (OSError, ValueError):
        pass  # a reset from a script, or a line that is not a number
    finally:
        c.close()


def main():
    addr = sys.argv[1]
    threads = []
    for port, handler in ((7, echo), (9, discard), (19, sender)):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(64)
        threads.append(threading.Thread(target=serve, args=(s, handler), daemon=True))
    for t in threads:
        t.start()
    print("tcpecho: ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
