"""The platform ABI, the same on every target: booting, arguments, faults,
sealing, idle sleep."""
import re

import pytest

from conftest import EXIT_ABORT, TARGETS, boot


@pytest.mark.parametrize("target", TARGETS)
def test_hello(target):
    r = boot(target, "hello")
    assert r.rc == 0, r
    assert r.out == "Hello from ingot!\n"


@pytest.mark.parametrize("target", TARGETS)
def test_arguments_reach_the_guest(target):
    r = boot(target, "args", ["one", "two words", ""], test=True)
    assert r.rc == 14, r
    assert r.out == "argc=4\nargv[1]=one\nargv[2]=two words\nargv[3]=\n"


@pytest.mark.parametrize("target", TARGETS)
def test_write_to_code_faults(target):
    r = boot(target, "write_code", test=True)
    assert r.rc == EXIT_ABORT, r
    assert "code was writable" not in r.out
    assert "page fault (vector 14) at" in r.err
    assert "<overwrite" in r.err
    assert "writing address" in r.err and "the page is read-only" in r.err
    assert "backtrace:" in r.err and "<ingot_main+" in r.err


@pytest.mark.parametrize("target", TARGETS)
def test_executing_the_heap_faults(target):
    r = boot(target, "exec_heap", test=True)
    assert r.rc == EXIT_ABORT, r
    assert "the heap was executable" not in r.out
    assert "executing address" in r.err and "the page is not executable" in r.err


@pytest.mark.parametrize("target", TARGETS)
def test_protections_are_fixed_after_the_seal(target):
    r = boot(target, "protect_after_seal", test=True)
    assert r.rc == 0, r
    assert "ingot_mem_protect after seal: -1\n" in r.out  # -EPERM


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("where", ["small", "large"])
def test_a_protection_holds_on_a_page_touched_before_the_seal(target, where):
    # The monitor changes copies of the tables, put in force at the seal:
    # a translation the host derived from the page's first write must not
    # outlive it.
    r = boot(target, "protect_touched", [where], test=True)
    assert r.rc == EXIT_ABORT, r
    assert "read 1 before writing\n" in r.out, r
    assert "took a write" not in r.out, r
    assert "page fault (vector 14)" in r.err or "SIGSEGV" in r.err, r


# A sleeping guest wakes at its deadline or after it, never before; how
# late is up to the host's scheduler (two shared cores here), but a timer
# late by this much is broken, not slow.
SLEEP_LATE_NS = 200_000_000


def slept_ns(r, ms):
    """The nanoseconds tests/guest/sleep.c measured on its own monotonic
    clock for a sleep of ms, checked against what it was asked for."""
    m = re.fullmatch(rf"sleeping for {ms} ms\nawake after (\d+) ns\n", r.out)
    assert m, r
    ns = int(m.group(1))
    assert ns >= ms * 1_000_000, f"woke {ms * 1_000_000 - ns} ns early: {r}"
    assert ns < ms * 1_000_000 + SLEEP_LATE_NS, f"woke {ns - ms * 1_000_000} ns late: {r}"
    # The guest's interval lies inside the process's life: its clock does
    # not run fast.
    assert ns <= r.wall * 1e9, (ns, r.wall)
    return ns


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("ms", [1, 100])
def test_sleep_wakes_on_time(target, ms):
    r = boot(target, "sleep", [str(ms)], test=True)
    assert r.rc == 0, r
    slept_ns(r, ms)


@pytest.mark.parametrize("target", TARGETS)
def test_idle_guest_uses_no_cpu(target):
    r = boot(target, "sleep", ["1000"], test=True, measured=True)
    assert r.rc == 0, r
    slept_ns(r, 1000)
    # Start-up and exit included; a guest that spun would use ~1 s.
    assert r.cpu < 0.1, f"an idle second cost {r.cpu * 1000:.0f} ms of CPU"
