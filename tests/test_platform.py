"""The platform ABI, the same on every target: booting, arguments, faults,
sealing, idle sleep."""
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
def test_idle_guest_uses_no_cpu(target):
    r = boot(target, "sleep", ["1000"], test=True, measured=True)
    assert r.rc == 0, r
    assert r.out == "sleeping for 1000 ms\nawake after 1000 ms\n" or \
        r.out.startswith("sleeping for 1000 ms\nawake after 100"), r
    assert r.wall >= 1.0
    # Start-up and exit included; a guest that spun would use ~1 s.
    assert r.cpu < 0.1, f"an idle second cost {r.cpu * 1000:.0f} ms of CPU"
