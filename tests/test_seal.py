"""The seal against a hostile image (abi_kvm.h, "Threat model").

tests/guest/attack.c tries one way around the seal per variant, before the
seal (from a start-of-day hook) or after it.  Each must be stopped with
INGOT_EXIT_STOPPED and a message naming what was refused, with the monitor
alive to say so; none may reach "attack succeeded".
"""
import pytest

from conftest import EXIT_ABORT, EXIT_STOPPED, boot

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
    # Every gate leads to the monitor's stubs: whatever vector the host
    # delivers (kvm-pvm delivers int3 as a breakpoint even through a DPL 0
    # gate), no image code runs at CPL 0 and the guest ends with a report.
    r = boot("kvm", "attack", [variant], test=True)
    assert "attack succeeded" not in r.out, r
    assert r.rc in (EXIT_ABORT, EXIT_STOPPED), r
    assert "guest fault:" in r.err and "<ingot_main+" in r.err, r

