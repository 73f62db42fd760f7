"""The virtio target: the same images booted by stock QEMU (-kernel, PVH),
on microvm and q35 (tests/qemu.py builds QEMU's command)."""
import os
import re
import socket
import subprocess
import tempfile

import pytest

from conftest import EXIT_ABORT, run, run_measured
from netns import PYTHON, Guest, Netns, peer_script
from qemu import (ACCEL, BOTH, MACHINES, NET_DEVICE, QEMU, guest_status, image,  # noqa: F401
                  qemu_argv, skip_unless_qemu)
from test_dns import QUERIES, ZONE, compare, corpus_size, explain, start_nsd
from test_platform import slept_ns
from test_ring import BROKEN as BROKEN_RING
from test_tcp import PEER as TCP_PEER

pytestmark = skip_unless_qemu


def boot(name, args=(), test=False, machine="microvm", timeout=60, measured=False,
         extra=()):
    argv = qemu_argv(name, args, test, machine, extra)
    r = (run_measured if measured else run)(argv, timeout=timeout)
    r.qemu_rc = r.rc
    r.rc = guest_status(r.rc)
    return r


@pytest.mark.parametrize("machine", BOTH)
def test_hello(machine):
    r = boot("hello", machine=machine)
    assert r.rc == 0, r
    assert r.out == "Hello from ingot!\n"
    print(f"{machine}: hello booted and exited in {r.wall:.2f} s")


@pytest.mark.parametrize("machine", BOTH)
def test_arguments_come_from_the_command_line(machine):
    r = boot("args", ["one", "two words", "", 'a "quoted" \\ arg'], test=True,
             machine=machine)
    assert r.rc == 15, r
    assert r.out == ('argc=5\nargv[1]=one\nargv[2]=two words\nargv[3]=\n'
                     'argv[4]=a "quoted" \\ arg\n')


@pytest.mark.parametrize("machine", BOTH)
def test_write_to_code_faults(machine):
    r = boot("write_code", test=True, machine=machine)
    assert r.rc == EXIT_ABORT, r
    assert "code was writable" not in r.out
    assert "page fault (vector 14) at" in r.out
    assert "<overwrite" in r.out
    assert "writing address" in r.out and "the page is read-only" in r.out
    assert "backtrace:" in r.out and "<ingot_main+" in r.out


def test_executing_the_heap_faults():
    r = boot("exec_heap", test=True)
    assert r.rc == EXIT_ABORT, r
    assert "the heap was executable" not in r.out
    assert "executing address" in r.out and "the page is not executable" in r.out
    assert "<ingot_main+" in r.out


def test_stack_overflow_hits_the_guard_page():
    r = boot("stack_overflow", test=True)
    assert r.rc == EXIT_ABORT, r
    assert "the stack never overflowed" not in r.out
    assert "page fault (vector 14) at" in r.out and "<recurse" in r.out
    assert "the page is not mapped" in r.out and "a stack overflow" in r.out


def test_an_interrupt_without_a_gate_is_reported():
    """The IDT ends at the highest vector in use; past it, a #GP that the
    report names by the vector (an int n here; a stray device interrupt
    takes the same path), never a triple fault."""
    r = boot("int_vector", test=True)
    assert r.rc == EXIT_ABORT, r
    assert "int $0x50 returned" not in r.out
    if "invalid opcode (vector 6) at" in r.out:
        # kvm-pvm (this nested host) turns int n at CPL 3 into a #UD
        # (README, the virtio target): still a report, not a reset.
        assert ACCEL == "kvm", r
    else:
        # (QEMU's emulator puts the vector at bit 4 of the error code
        # for int n where the CPU puts it at bit 3.)
        assert re.search(r"ingot: int (80|160): no gate this code may use\n", r.out), r
        assert "general protection fault (vector 13) at" in r.out, r
    assert "<ingot_main+" in r.out, r


def test_protections_are_fixed_after_the_seal():
    r = boot("protect_after_seal", test=True)
    assert r.rc == 0, r
    assert "ingot_mem_protect after seal: -1\n" in r.out  # -EPERM


@pytest.mark.parametrize("machine", BOTH)
@pytest.mark.parametrize("ms", [1, 100])
def test_sleep_wakes_on_time(machine, ms):
    r = boot("sleep", [str(ms)], test=True, machine=machine)
    assert r.rc == 0, r
    slept_ns(r, ms)


def test_long_sleep_spans_many_timer_shots():
    r = boot("sleep", ["1500"], test=True)
    assert r.rc == 0, r
    slept_ns(r, 1500)


def test_idle_guest_uses_no_cpu():
    # QEMU's own start costs CPU too: compare with a guest that exits at
    # once.  A guest that spun through its second would add ~1 s.
    base = boot("hello", measured=True)
    r = boot("sleep", ["1000"], test=True, measured=True)
    assert base.rc == 0 and r.rc == 0, (base, r)
    slept_ns(r, 1000)
    assert r.cpu - base.cpu < 0.15, \
        f"an idle second cost {(r.cpu - base.cpu) * 1000:.0f} ms of CPU"


@pytest.mark.parametrize("status", [0, 1, 7, 123])
def test_exit_status_reaches_the_host(status):
    r = boot("exit_status", [str(status)], test=True)
    assert r.rc == status, r
    assert r.qemu_rc == 2 * status + 3
    assert r.out == ""


def test_exit_status_qemu_cannot_carry_is_printed():
    r = boot("exit_status", ["200"], test=True)
    assert r.qemu_rc == 251, r
    assert "ingot: exit status 200 (QEMU exits 251)" in r.out


@pytest.mark.parametrize("status", [-1, 250, 255, 1000])
def test_host_statuses_are_refused(status):
    r = boot("exit_status", [str(status)], test=True)
    assert r.rc == 250, r
    assert f"the guest asked for exit status {status}" in r.out


class Monitor:
    """QEMU's human monitor on a unix socket, one command at a time."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self._until_prompt()

    def _until_prompt(self):
        buf = b""
        while not buf.endswith(b"(qemu) "):
            data = self.sock.recv(65536)
            assert data, f"the monitor closed: {buf!r}"
            buf += data
        return buf.decode(errors="replace")

    def command(self, cmd):
        self.sock.sendall(cmd.encode() + b"\n")
        out = self._until_prompt()
        # The monitor echoes the command with terminal escapes; the
        # answer starts on the next line.
        return out.split("\n", 1)[1] if "\n" in out else ""


def page_table_pages(mon, cr3):
    """The physical pages of the guest's page tables, found by walking
    them from CR3 with the monitor's physical memory reads."""
    pages, todo = [], [(cr3, 4)]
    while todo:
        phys, level = todo.pop()
        pages.append(phys)
        if level == 1:
            continue
        words = re.findall(r"0x([0-9a-f]{16})", mon.command(f"xp /512gx {phys:#x}"))
        assert len(words) == 512, (phys, words[:4])
        for w in map(lambda x: int(x, 16), words):
            if w & 1 and not (level == 2 and w & 0x80):
                todo.append((w & 0x000ffffffffff000, level - 1))
    return pages


def test_sealed_guest_memory_map_as_qemu_sees_it():
    """W^X and the seal, checked from outside: the sleeping guest's
    translations as QEMU reads them (info tlb), and its tables' pages,
    which code at CPL 3 (the guest's after the seal) cannot reach."""
    path = image("sleep", test=True)
    nm = subprocess.run(["nm", path], capture_output=True, text=True, check=True).stdout
    offset = int(re.search(r"^([0-9a-f]+) A __ingot_offset$", nm, re.M).group(1), 16)
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "monitor")
        proc = subprocess.Popen(
            [QEMU, *MACHINES["microvm"], "-accel", ACCEL, "-m", "64M", "-kernel", path,
             "-append", "3000", "-nodefaults", "-no-user-config", "-nographic",
             "-serial", "stdio", "-no-reboot",
             "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
             "-monitor", f"unix:{sock},server=on,wait=off"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            # The first line is printed after the seal, by ingot_main.
            assert proc.stdout.readline() == b"sleeping for 3000 ms\n"
            mon = Monitor(sock)
            regs = mon.command("info registers")
            cr0 = int(re.search(r"CR0=([0-9a-f]+)", regs).group(1), 16)
            cr3 = int(re.search(r"CR3=([0-9a-f]+)", regs).group(1), 16)
            tlb = {}
            for va, pte, flags in re.findall(r"^([0-9a-f]{16}): ([0-9a-f]{16}) (\S{9})",
                                             mon.command("info tlb"), re.M):
                tlb[int(va, 16)] = (int(pte, 16), flags)
            tables = page_table_pages(mon, cr3 & ~0xfff)
        finally:
            out, err = proc.communicate(timeout=30)
    assert guest_status(proc.returncode) == 0, (proc.returncode, out, err)
    assert cr0 & (1 << 16), "CR0.WP is off"
    assert tlb, "no translations"
    writable_code = [hex(va) for va, (_, f) in tlb.items() if f[8] == "W" and f[0] != "X"]
    assert not writable_code, f"writable and executable: {writable_code}"
    assert min(tlb) >= offset + 0x100000, "something is mapped below the image"
    # Every page of the tables is mapped, read-only.
    for phys in tables:
        va = offset + phys
        assert va in tlb, f"table page {phys:#x} is not mapped"
        assert tlb[va][1][8] != "W", f"table page {phys:#x} is writable after the seal"
        assert tlb[va][1][7] != "U", f"table page {phys:#x} is reachable at CPL 3"
    assert len(tables) >= 4


# Networked: QEMU and a tap inside a namespace of the test's own
# (tests/netns.py), the tap opened by QEMU with its virtio-net header, so
# the device offers the offloads.  microvm's devices are virtio-mmio
# (found by probing its window: with ACPI, QEMU lists none on the command
# line), q35's virtio-pci (MSI-X).
GUEST_IP = "10.0.0.2"
HOST_IP = "10.0.0.1"
GUEST_MAC = "02:00:00:00:00:02"
NET_MACHINES = BOTH


def net_args(machine, taps, macs=None):
    out = []
    for i, tap in enumerate(taps):
        mac = (macs or [GUEST_MAC])[i] if macs is not None or i == 0 else \
            f"02:00:00:00:01:{i:02x}"
        out += ["-netdev", f"tap,id=n{i},ifname={tap},script=no,downscript=no,vnet_hdr=on",
                "-device", f"{NET_DEVICE[machine]},netdev=n{i},mac={mac}"]
    return out


@pytest.fixture
def ns():
    n = Netns()
    yield n
    n.close()


def net_guest(ns, name, machine, ready, args=(f"--ipv4={GUEST_IP}/24",), taps=("tap0",)):
    for tap in taps:
        ns.tap(tap, f"{HOST_IP}/24" if tap == "tap0" else None)
    argv = qemu_argv(name, args, machine=machine, extra=net_args(machine, taps))
    g = Guest(ns, "virtio", name, [], argv=argv)
    g.wait_for(ready)
    return g


@pytest.mark.parametrize("machine", NET_MACHINES)
def test_ping_and_udp_echo(ns, machine):
    g = net_guest(ns, "echo", machine, r"^echo: serving UDP port 7")
    r = ns.run(["ping", "-n", "-c", "200", "-i", "0.002", "-W", "1", GUEST_IP])
    assert " 200 received" in r.stdout, r.stdout
    r = ns.run(["ping", "-n", "-c", "3", "-i", "0.2", "-s", "8000", "-W", "2", GUEST_IP])
    assert " 3 received" in r.stdout and "8008 bytes from" in r.stdout, r.stdout
    sizes = [0, 1, 100, 1472, 1473, 8000, 65507]
    r = peer_script(ns, "udp_echo_check.py", GUEST_IP, 7, *sizes)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count(": ok") == len(sizes), r.stdout


@pytest.mark.parametrize("machine", NET_MACHINES)
def test_dns_answers_match_nsd(ns, machine):
    net_guest(ns, "dns", machine, r"^dns: serving UDP port 53")
    with tempfile.TemporaryDirectory(prefix="ingot-nsd-") as d:
        nsd = start_nsd(ns, d, [("example.test", ZONE)])
        for guest, peer in ((GUEST_IP, "127.0.0.1"), (f"tcp:{GUEST_IP}", "tcp:127.0.0.1")):
            summary, bad = compare(ns, guest, peer, QUERIES)
            assert not bad, explain(bad)
            assert summary["asked"] == corpus_size()
        nsd.terminate()
        nsd.wait(10)


@pytest.mark.parametrize("machine", NET_MACHINES)
def test_tcp_10mib_each_way(ns, machine):
    g = net_guest(ns, "tcpecho", machine, r"^tcpecho: serving TCP ports 7 9 19")
    for mode in ("echo", "recv"):
        r = ns.run([PYTHON, "-c", TCP_PEER, mode, GUEST_IP, str(10 << 20)], timeout=60)
        assert r.returncode == 0 and r.stdout == f"{10 << 20} ok\n", \
            (r.stdout, r.stderr, g.out)


def test_a_missing_device_is_named(ns):
    argv = qemu_argv("echo", [f"--ipv4={GUEST_IP}/24"])
    g = Guest(ns, "virtio", "echo", [], argv=argv)
    g.wait_for(r"^virtio-net: no device for network interface service: not attached")
    g.wait_for(r"^net: no network device attached")


def test_an_extra_device_is_named(ns):
    g = net_guest(ns, "echo", "microvm", r"^echo: serving UDP port 7", taps=("tap0", "tap1"))
    g.wait_for(r"^virtio-net: virtio-mmio at 0x[0-9a-f]+: the image declares no further "
               r"network interface: not used")
    r = ns.run(["ping", "-n", "-c", "3", "-i", "0.2", "-W", "1", GUEST_IP])
    assert " 3 received" in r.stdout, r.stdout


def test_devices_named_on_the_command_line(ns):
    """The virtio_mmio.device= entries are taken out of the image's
    arguments (echo refuses arguments it does not know)."""
    net_guest(ns, "echo", "microvm-noacpi", r"^echo: serving UDP port 7")
    r = ns.run(["ping", "-n", "-c", "3", "-i", "0.2", "-W", "1", GUEST_IP])
    assert " 3 received" in r.stdout, r.stdout


@pytest.mark.parametrize("mode,why", BROKEN_RING)
def test_a_broken_ring_rule_stops_the_guest(ns, mode, why):
    """The platform serves the rings as ingot-kvm does (tests/test_ring.py):
    a guest that breaks a rule is stopped with the rule's message, on the
    console here, and QEMU exits 255 (virtio_exit.c: host statuses)."""
    ns.tap("ring0")
    argv = qemu_argv("bad_ring", [mode], test=True, extra=net_args("microvm", ["ring0"]))
    g = Guest(ns, "virtio", "bad_ring", [], argv=argv)
    rc = g.wait(timeout=30)
    assert rc == 255, (rc, g.out, g.err)
    assert any(line.startswith("ingot: stopped: ") and why in line for line in g.out), g.out
    assert not any("still running" in line for line in g.out), g.out


@pytest.mark.parametrize("machine", NET_MACHINES)
def test_operator_requests_on_the_console(ns, machine):
    """QEMU passes the guest no signal: a byte on the console's input asks
    what SIGUSR1 and SIGTERM ask of ingot-kvm (`r` a report, `q` a clean
    stop: platform/virtio/virtio_operator.c); any other byte is ignored.
    The suites' Guest sends these (tests/netns.py)."""
    g = net_guest(ns, "echo", machine, r"^echo: serving UDP port 7")
    g.proc.stdin.write("abc, xyz 123\n" * 20)  # neither q nor r
    g.proc.stdin.flush()
    r = ns.run(["ping", "-n", "-c", "3", "-i", "0.2", "-W", "1", GUEST_IP])
    assert " 3 received" in r.stdout, r.stdout
    assert g.proc.poll() is None and not any("counters" in l for l in g.out), g.out
    c = g.counters()
    assert c["icmp_echo_replies"] == 3, c
    assert g.stop() == 0, (g.out, g.err)
    assert g.final_counters()["icmp_echo_replies"] == 3
