"""ingot-kvm: the monitor's checks, its confinement and its watchdog."""
import pytest

from conftest import EXIT_ABORT, EXIT_STOPPED, EXIT_WATCHDOG, boot
from test_platform import slept_ns

pytestmark = pytest.mark.kvm


def test_bad_hypercall_argument_stops_the_guest_not_the_monitor():
    r = boot("kvm", "bad_hypercall", test=True)
    # A clean exit with the ABI's status, not a crash of the monitor.
    assert r.rc == EXIT_STOPPED, r
    assert "console hypercall with a buffer outside guest memory" in r.err
    assert "the monitor accepted a bad buffer" not in r.out


def test_syscall_instruction_is_invalid_in_a_guest():
    r = boot("kvm", "forbidden_syscall", test=True)
    assert r.rc == EXIT_ABORT, r
    assert "invalid opcode (vector 6)" in r.err


def test_watchdog_stops_a_spinning_guest():
    r = boot("kvm", "spin", test=True, mon_args=["--watchdog", "1"], timeout=60)
    assert r.rc == EXIT_WATCHDOG, r
    assert "watchdog: the guest made no hypercall for 1 s" in r.err
    assert "<spin_forever+" in r.err


def test_watchdog_ignores_a_sleeping_guest():
    r = boot("kvm", "sleep", ["2500"], test=True, mon_args=["--watchdog", "1"], timeout=60)
    assert r.rc == 0, r
    slept_ns(r, 2500)  # slept through the watchdog's period, on time


def test_large_memory_costs_only_touched_pages():
    small = boot("kvm", "hello", mon_args=["--mem", "8M"], measured=True)
    large = boot("kvm", "hello", mon_args=["--mem", "4G"], measured=True)
    assert small.rc == 0 and large.rc == 0, (small, large)
    # 4 GiB of guest memory, but only the pages hello touches are resident.
    assert large.maxrss_kib < small.maxrss_kib + 1024, (small.maxrss_kib, large.maxrss_kib)
