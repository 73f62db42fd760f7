"""The seal against a hostile image (abi_kvm.h, "Threat model").

tests/guest/attack.c tries one way around the seal per variant, before the
seal (from a start-of-day hook) or after it.  Each must be stopped with
INGOT_EXIT_STOPPED and a message naming what was refused, with the monitor
alive to say so; none may reach "attack succeeded".
"""
import os
import struct
import subprocess

import pytest

from conftest import EXIT_ABORT, EXIT_SETUP, EXIT_STOPPED, MONITOR, boot, image, run

pytestmark = pytest.mark.kvm

REFUSED = {
    # before the seal: the tables and descriptor pages are never the guest's
    "pt-write": "guest wrote to its page tables at",
    "idt-write": "guest wrote to its descriptor tables at",
    "gdt-write": "guest wrote to its descriptor tables at",
    "stub-write": "guest wrote to the monitor's exception stubs at",
    "boot-write": "guest wrote to its boot information at",
    # protection requests the monitor will not carry out
    "protect-wx": "refused a protection request: a protection other than none, read or read-write",
    "protect-code": "refused a protection request: a range outside the heap",
    "protect-tables": "refused a protection request: a range outside the heap",
    "protect-descriptors": "refused a protection request: a range outside the heap",
    "protect-wrap": "refused a protection request: a range outside the heap",
    # the monitor must not write the tables on the guest's behalf either
    "results-in-tables": "poll hypercall with its results outside guest-writable memory",
    # reconfiguring the CPU from CPL 3
    "lidt": "guest executed a privileged instruction (lgdt, lidt, lmsw, invlpg): refused",
    "mov-cr3": "guest executed a privileged instruction (mov to a control register): refused",
    # after the seal
    "sealed-pt-write": "guest wrote to its page tables at",
    "protect-after-seal": "protect hypercall after the seal: refused",
}


@pytest.mark.parametrize("variant", sorted(REFUSED))
def test_attack_is_refused(variant):
    r = boot("kvm", "attack", [variant], test=True)
    assert "attack succeeded" not in r.out, r
    assert r.rc == EXIT_STOPPED, r
    assert REFUSED[variant] in r.err, r
    assert "guest stopped" in r.err, r


@pytest.mark.parametrize("variant", ["int3", "int80"])
def test_software_interrupts_reach_only_the_monitor(variant):
    # Every gate has DPL 0 and leads to the monitor's stubs.  A CPU refuses
    # the gate (#GP, stopped as an attack); kvm-pvm delivers int3 as a
    # breakpoint and int $0x80 as an invalid opcode instead.  Either way no
    # image code runs at CPL 0 and the guest ends with a report.
    r = boot("kvm", "attack", [variant], test=True)
    assert "attack succeeded" not in r.out, r
    assert "guest fault:" in r.err and "<ingot_main+" in r.err, r
    if r.rc == EXIT_STOPPED:
        assert "guest raised a software interrupt: refused" in r.err, r
    else:
        assert r.rc == EXIT_ABORT, r
        assert "breakpoint (vector 3)" in r.err or "invalid opcode (vector 6)" in r.err, r



def test_the_running_monitor_has_no_privileges_and_two_filters():
    # Once the guest runs, the monitor keeps no capability and is confined
    # by its filter plus the seal's (which takes away the special-register
    # calls).
    p = subprocess.Popen([MONITOR, image("kvm", "sleep", test=True), "3000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "sleeping for 3000 ms\n"
        status = dict(line.split(":\t", 1) for line in
                      open(f"/proc/{p.pid}/status").read().splitlines() if ":\t" in line)
    finally:
        p.kill()
        p.wait()
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status[cap], 16) == 0, (cap, status[cap])
    assert status["NoNewPrivs"] == "1"
    assert status["Seccomp"] == "2"
    assert status["Seccomp_filters"] == "2"


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "image"
    os.mkfifo(fifo)
    r = run([MONITOR, str(fifo)], timeout=5)
    assert r.rc == EXIT_SETUP, r
    assert "not a regular file" in r.err


def test_an_offset_near_the_top_of_the_address_space_is_refused(tmp_path):
    # Every PT_LOAD's p_vaddr moved so that virtual - physical wraps past
    # 2^64 when the monitor adds guest memory to it.
    data = bytearray(open(image("kvm", "hello"), "rb").read())
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    for i in range(phnum):
        at = phoff + i * phentsize
        if struct.unpack_from("<I", data, at)[0] == 1:  # PT_LOAD
            paddr, = struct.unpack_from("<Q", data, at + 24)
            struct.pack_into("<Q", data, at + 16, (paddr - (2 << 20)) % (1 << 64))
    bad = tmp_path / "wrapped.kvm"
    bad.write_bytes(data)
    r = run([MONITOR, str(bad)])
    assert r.rc == EXIT_SETUP, r
    assert "unusable virtual address" in r.err
