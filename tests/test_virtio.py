"""The virtio target: the same images booted by stock QEMU (-kernel, PVH),
on microvm and q35.

The guest's console is QEMU's serial port, so everything it prints, fault
reports included, is on QEMU's standard output; QEMU's own warnings are on
its standard error.  QEMU's exit status carries the guest's in the mapping
of platform/virtio/virtio_exit.c, which guest_status() undoes.
"""
import os
import shutil

import pytest

from conftest import BUILD, EXIT_ABORT, HAVE_KVM, run
from test_platform import slept_ns

QEMU = shutil.which("qemu-system-x86_64")

pytestmark = pytest.mark.skipif(
    not QEMU or not HAVE_KVM,
    reason="SKIPPED: the virtio tests need qemu-system-x86_64 and /dev/kvm "
    f"(qemu: {QEMU or 'missing'}, /dev/kvm: {'present' if HAVE_KVM else 'missing'})")

# -nodefaults leaves only what each machine needs: microvm keeps its
# isa-serial; on q35 SeaBIOS would print its banner on the serial port
# unless told not to (sercon-port 0).  -no-reboot turns a triple fault
# into QEMU's exit 0 instead of a boot loop.
MACHINES = {
    "microvm": ["-M", "microvm,rtc=off"],
    "q35": ["-M", "q35", "-fw_cfg", "name=etc/sercon-port,string=0"],
}
BOTH = list(MACHINES)


def guest_status(rc):
    """The guest's exit status from QEMU's (virtio_exit.c)."""
    if rc == 255:
        return EXIT_ABORT
    if rc == 253:
        return 250
    assert rc % 2 == 1 and 3 <= rc <= 251, f"QEMU exited {rc}: not the guest's status"
    return (rc - 3) // 2


def image(name, test):
    base = os.path.join(BUILD, "test") if test else BUILD
    path = os.path.join(base, "virtio", name + ".virtio")
    assert os.path.exists(path), f"{path} was not built (run make)"
    return path


def boot(name, args=(), test=False, machine="microvm", timeout=60):
    argv = [QEMU, *MACHINES[machine], "-accel", "kvm", "-m", "64M",
            "-kernel", image(name, test), "-nodefaults", "-no-user-config",
            "-nographic", "-serial", "stdio", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    if args:
        argv += ["-append", " ".join(quote(a) for a in args)]
    r = run(argv, timeout=timeout)
    r.qemu_rc = r.rc
    r.rc = guest_status(r.rc)
    return r


def quote(arg):
    """An argument as the guest splits its command line (virtio_start.c)."""
    if arg and not any(c in arg for c in ' \t"\\'):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


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
