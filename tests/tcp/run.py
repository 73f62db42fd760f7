#!/usr/bin/python3
"""Runs harness scripts against a target, inside the current network
namespace (it makes devices there: run it under `ip netns exec`).

  run.py --target linux [--via tap|packet|udp] [-v] [SCRIPT...]
      Linux's TCP: 10.0.0.1/24 on a tap device tcp0 this process owns,
      tests/tcp/tcpecho.py listening there.  --via packet and --via udp
      reach it by the paths the ingot targets take (a packet socket on a
      tap whose descriptor another holds; UDP on 127.0.0.1), through a
      relay standing in for the guest's host side.
  run.py --target ingot --link packet:IFACE|udp:LPORT:RPORT [-v] [SCRIPT...]
      a guest already booted at 10.0.0.1 running apps/tcpecho, on a tap
      its monitor holds (packet:) or the hosted no-root backend (udp:).
  run.py --list

No script names: every script.  Prints PASS or FAIL per script, what the
script noted about the target, and on failure (or with -v) the trace;
exits 0 only if every script passed."""
import argparse
import os
import select
import subprocess
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import importlib  # noqa: E402

import harness  # noqa: E402


def quiet_ipv6():
    """No IPv6 on devices made from here on: the kernel's router
    solicitations would be noise on the wire the scripts watch."""
    for conf in ("all", "default"):
        with open(f"/proc/sys/net/ipv6/conf/{conf}/disable_ipv6", "w") as f:
            f.write("1")


def linux_target(via):
    """Linux's stack on 10.0.0.1, the reference tcpecho listening there,
    and the harness's link to it: a tap this process owns (tap); or the
    paths the ingot targets take, with a relay thread standing in for the
    guest's host side: a packet socket on a second tap whose descriptor
    the relay holds, as a kvm guest's monitor holds its tap (packet), or
    UDP on 127.0.0.1, as the hosted target's no-root backend (udp)."""
    quiet_ipv6()
    link = harness.TapLink("tcp0")
    if via == "packet":
        relay(link, harness.TapLink("tcp1"))
        subprocess.run(["ip", "link", "set", "tcp1", "up"], check=True)
        link = harness.PacketLink("tcp1")
    elif via == "udp":
        relay(link, harness.UdpLink(5001, 5002))
        link = harness.UdpLink(5002, 5001)
    subprocess.run(["ip", "addr", "add", f"{harness.TARGET_IP}/24", "dev", "tcp0"], check=True)
    subprocess.run(["ip", "link", "set", "tcp0", "up"], check=True)
    server = subprocess.Popen([sys.executable, os.path.join(HERE, "tcpecho.py"), harness.TARGET_IP],
                              stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    if line.strip() != "tcpecho: ready":
        server.kill()
        sys.exit(f"run.py: the Linux reference did not start ({line!r})")
    return link, server


def relay(a, b):
    """Frames between links a and b, both ways, in a thread."""
    def run():
        while True:
            select.select([a, b], [], [])
            while (f := a.recv()) is not None:
                b.send(f)
            while (f := b.recv()) is not None:
                a.send(f)

    threading.Thread(target=run, daemon=True).start()


def wait_ready(link, target):
    """The target is up once it answers ARP and a SYN to the discard port
    (asked every 0.2 s for 10 s); the probe connection is then reset."""
    peer = harness.Peer(link, target)
    peer.resolve(timeout=10)
    deadline = time.monotonic() + 10
    while True:
        c = peer.connection(9)
        c.send("S 0:0(0) win 65535 <mss 1000>")
        seg = c.poll(0.2)
        if seg is not None and seg.flags == {"S", "."}:
            peer.sleep(0.05)  # late answers to earlier probes
            for p in peer.conns.values():
                if p.irs is not None:
                    p.send("R 1:1(0)")
            return
        if time.monotonic() > deadline:
            sys.exit("run.py: the target did not answer a SYN to port 9 in 10 s:\n"
                     + "\n".join(peer.trace))


def run_one(fn, name, link, target, verbose):
    peer = harness.Peer(link, target)
    start = time.monotonic()
    ok = False
    try:
        peer.resolve()
        fn(peer)
        ok = True
        print(f"PASS {name} ({time.monotonic() - start:.2f} s)")
    except harness.ScriptError as e:
        print(f"FAIL {name} ({time.monotonic() - start:.2f} s)\n{e}")
    except Exception:  # noqa: BLE001 - a script's own bug fails that script
        print(f"FAIL {name}: the script raised\n{traceback.format_exc()}")
    for n in peer.notes:
        print(f"  note: {n}")
    if not ok or verbose:
        trace = peer.trace
        if not verbose and len(trace) > 120:
            # A window filled segment by segment: its start and its end.
            trace = trace[:40] + [f"... {len(trace) - 120} lines (all of them with -v) ..."] + trace[-80:]
        print("  trace:\n" + "\n".join("    " + line for line in trace))
    sys.stdout.flush()
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", choices=("linux", "ingot"))
    ap.add_argument("--link")
    ap.add_argument("--via", choices=("tap", "packet", "udp"), default="tap")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--module", default="scripts",
                    help="where the scripts are (negative: the controls that must fail)")
    ap.add_argument("-v", action="store_true", help="print every trace")
    ap.add_argument("scripts", nargs="*")
    a = ap.parse_args()
    scripts = importlib.import_module(a.module)
    if a.list:
        for name, fn in scripts.SCRIPTS.items():
            print(f"{name}: {(fn.__doc__ or '').strip().splitlines()[0]}")
        return 0
    names = a.scripts or list(scripts.SCRIPTS)
    unknown = [n for n in names if n not in scripts.SCRIPTS]
    if unknown or not a.target:
        ap.error(f"unknown scripts {unknown}" if unknown else "--target is needed")
    server = None
    if a.target == "linux":
        link, server = linux_target(a.via)
    else:
        if not a.link:
            ap.error("--target ingot needs --link")
        link = harness.open_link(a.link)
    wait_ready(link, a.target)
    try:
        results = [run_one(scripts.SCRIPTS[n], n, link, a.target, a.v) for n in names]
    finally:
        if server:
            server.kill()
            server.wait()
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
