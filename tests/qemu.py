"""The virtio target's images booted by stock QEMU, on microvm and q35.

The guest's console is QEMU's serial port, so everything it prints, fault
reports included, is on QEMU's standard output; QEMU's own warnings are on
its standard error.  QEMU's exit status carries the guest's in the mapping
of platform/virtio/virtio_exit.c, which guest_status() undoes.

guest_argv() turns a Guest's ingot-kvm options (tests/netns.py: --net
NAME=TAP|udp:L:R[,mac=M][,offload=off], --mem, --block NAME=FILE[,ro])
into QEMU's, so that a suite parametrized with VIRTIO_TARGETS runs its
own test functions on QEMU as on kvm.
"""
import os
import shutil

import pytest

from conftest import BUILD, EXIT_ABORT, HAVE_KVM, TARGETS

QEMU = shutil.which("qemu-system-x86_64")
# Without /dev/kvm the same tests run in QEMU's emulator (still real: no
# kvmclock there, so the PIT-calibrated TSC); INGOT_VIRTIO_ACCEL=tcg
# chooses it where KVM is present too.
ACCEL = os.environ.get("INGOT_VIRTIO_ACCEL", "kvm" if HAVE_KVM else "tcg")

skip_unless_qemu = pytest.mark.skipif(
    not QEMU or (ACCEL == "kvm" and not HAVE_KVM),
    reason="SKIPPED: the virtio tests need qemu-system-x86_64 "
    f"(qemu: {QEMU or 'missing'}, accel: {ACCEL}, "
    f"/dev/kvm: {'present' if HAVE_KVM else 'missing'})")

# -nodefaults leaves only what each machine needs: microvm keeps its
# isa-serial; on q35 SeaBIOS would print its banner on the serial port
# unless told not to (sercon-port 0).  -no-reboot turns a triple fault
# into QEMU's exit 0 instead of a boot loop.
MACHINES = {
    # QEMU 7.2's virtio-mmio is legacy unless told; the guest drives only
    # the modern interface.
    "microvm": ["-M", "microvm,rtc=off", "-global", "virtio-mmio.force-legacy=false"],
    "q35": ["-M", "q35", "-fw_cfg", "name=etc/sercon-port,string=0"],
}
BOTH = ["microvm", "q35"]
# Without ACPI, microvm lists its virtio-mmio devices on the kernel
# command line (virtio_mmio.device=...), as Firecracker does.
MACHINES["microvm-noacpi"] = ["-M", "microvm,rtc=off,acpi=off",
                              *MACHINES["microvm"][2:]]
NET_DEVICE = {"microvm": "virtio-net-device", "microvm-noacpi": "virtio-net-device",
              "q35": "virtio-net-pci"}
BLK_DEVICE = {"microvm": "virtio-blk-device", "microvm-noacpi": "virtio-blk-device",
              "q35": "virtio-blk-pci"}

# Guest targets (tests/netns.py's Guest) on QEMU: "virtio" is microvm.
MACHINE_OF = {"virtio": "microvm", "virtio-q35": "q35"}
VIRTIO = pytest.param("virtio", id="virtio", marks=skip_unless_qemu)
# q35 boots through SeaBIOS (seconds): for the suites' few guests only.
VIRTIO_Q35 = pytest.param("virtio-q35", id="virtio-q35", marks=skip_unless_qemu)
# The network suites' targets: conftest.TARGETS and QEMU microvm.
ALL_TARGETS = [*TARGETS, VIRTIO]

# The console's input asks the guest (platform/virtio/virtio_operator.c)
# for what ingot-kvm's SIGTERM and SIGUSR1 ask.
REQUEST_STOP = b"q"
REQUEST_REPORT = b"r"


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


def quote(arg):
    """An argument as the guest splits its command line (virtio_start.c)."""
    if arg and not any(c in arg for c in ' \t"\\'):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def qemu_argv(name, args=(), test=False, machine="microvm", extra=(), path=None,
              mem="64M"):
    argv = [QEMU, *MACHINES[machine], "-accel", ACCEL, "-m", mem,
            "-kernel", path or image(name, test), "-nodefaults", "-no-user-config",
            "-nographic", "-serial", "stdio", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", *extra]
    if args:
        argv += ["-append", " ".join(quote(a) for a in args)]
    return argv


def netdev(machine, index, spec):
    """QEMU's options for one ingot-kvm --net NAME=TAP|udp:LOCAL:REMOTE
    [,mac=M][,offload=off]: a tap with its virtio-net header (the device
    then offers the offloads) unless offload=off, or raw frames over UDP
    on 127.0.0.1 as the hosted backend sends them.  The device order is
    the manifest's, so NAME is not passed on."""
    _, _, rest = spec.partition("=")
    backend, *opts = rest.split(",")
    opts = dict(o.split("=", 1) for o in opts)
    unknown = set(opts) - {"mac", "offload"}
    assert not unknown, f"--net {spec}: no QEMU equivalent for {sorted(unknown)}"
    nid = f"n{index}"
    if backend.startswith("udp:"):
        local, remote = backend[4:].split(":")
        net = f"socket,id={nid},udp=127.0.0.1:{remote},localaddr=127.0.0.1:{local}"
    else:
        vnet_hdr = "off" if opts.get("offload") == "off" else "on"
        net = f"tap,id={nid},ifname={backend},script=no,downscript=no,vnet_hdr={vnet_hdr}"
    dev = f"{NET_DEVICE[machine]},netdev={nid}"
    if "mac" in opts:
        dev += f",mac={opts['mac']}"
    return ["-netdev", net, "-device", dev]


def guest_argv(target, name, nets, args=(), test=False, mon_args=(), path=None):
    """The QEMU command that boots image name (or path) as ingot-kvm would
    with these --net options and monitor arguments."""
    machine = MACHINE_OF[target]
    extra, mem, mon = [], "64M", list(mon_args)
    for i, spec in enumerate(nets):
        extra += netdev(machine, i, spec)
    blocks = 0
    while mon:
        opt = mon.pop(0)
        assert mon, f"monitor option {opt} without a value"
        value = mon.pop(0)
        if opt == "--mem":
            mem = value
        elif opt == "--block":
            _, _, rest = value.partition("=")
            file, *flags = rest.split(",")
            drive = f"file={file},format=raw,if=none,id=d{blocks}"
            if flags == ["ro"]:
                drive += ",readonly=on"
            else:
                assert not flags, f"--block {value}: no QEMU equivalent for {flags}"
            extra += ["-drive", drive, "-device", f"{BLK_DEVICE[machine]},drive=d{blocks}"]
            blocks += 1
        else:
            raise AssertionError(f"monitor option {opt}: no QEMU equivalent")
    return qemu_argv(name, args, test, machine, extra, path=path, mem=mem)
