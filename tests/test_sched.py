"""lib/sched on every target: the unit tests, deadlock and overflow reports."""
import pytest

from conftest import EXIT_ABORT, TARGETS, boot


@pytest.mark.parametrize("target", TARGETS)
def test_sched_unit(target):
    r = boot(target, "sched_test", test=True, timeout=60)
    assert r.rc == 0, r.out + r.err
    assert r.out.endswith("checks, 0 failed\n"), r.out


@pytest.mark.parametrize("target", TARGETS)
def test_deadlock_is_reported(target):
    r = boot(target, "sched_deadlock", test=True)
    assert r.rc == EXIT_ABORT, r
    assert "sched_run returned" not in r.out
    assert "sched: deadlock" in r.err
    assert "stuck-one" in r.err and "stuck-two" in r.err


@pytest.mark.parametrize("target", TARGETS)
def test_stack_overflow_hits_the_guard_page(target):
    r = boot(target, "stack_overflow", test=True)
    assert r.rc == EXIT_ABORT, r
    assert "the stack never overflowed" not in r.out
    assert "page fault (vector 14)" in r.err
    assert "a stack overflow" in r.err
    assert "<recurse" in r.err
