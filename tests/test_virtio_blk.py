"""virtio-blk on the virtio target (platform/virtio/virtio_blk.c): the block
ABI's tests of tests/test_block.py on QEMU microvm (virtio-mmio) and q35
(virtio-pci), with the image's device on a QEMU drive (-drive if=none plus
a virtio-blk device): the bytes reach the file and survive a reboot of the
guest, a read-only drive reads and refuses writes, a hostile request stops
the guest with the message ingot-kvm gives, apps/kv's store survives a
restart of QEMU, and apps/http serves a tar archive from a drive."""
import re
import shutil

import pytest

from netns import Guest
from test_block import ATTACKS, disk, holds_block_io_writes  # noqa: F401
from test_http import curl
from test_http_tar import make_tar
from test_virtio import (BOTH, GUEST_IP, HOST_IP, boot, net_args, ns,  # noqa: F401
                         pytestmark, qemu_argv)

# A stopped guest ends QEMU with 255, as an abort does (virtio_exit.c);
# the console line says which.
QEMU_STOPPED = 255
BLK_DEVICE = {"microvm": "virtio-blk-device", "q35": "virtio-blk-pci"}


def drive(machine, path, ro=False, index=0, cache="writeback"):
    """The QEMU options of one virtio-blk device on the raw file path."""
    opts = f"file={path},format=raw,if=none,id=d{index},cache={cache}"
    if ro:
        opts += ",readonly=on"
    return ["-drive", opts, "-device", f"{BLK_DEVICE[machine]},drive=d{index}"]


@pytest.mark.parametrize("machine", BOTH)
def test_writes_reach_the_file_and_survive_a_reboot(machine, disk):
    r = boot("block_io", test=True, machine=machine, extra=drive(machine, disk))
    assert r.rc == 0, r
    assert "block_io: 8192 sectors of 512 bytes\n" in r.out
    assert "block_io: ok" in r.out and " 1 flushes " in r.out
    holds_block_io_writes(disk.read_bytes())
    # A second boot of the guest reads back what the first wrote.
    r = boot("block_io", ["after"], test=True, machine=machine, extra=drive(machine, disk))
    assert r.rc == 0, r
    assert "block_io: after ok" in r.out


@pytest.mark.parametrize("machine", BOTH)
def test_read_only_drive_refuses_writes(machine, disk):
    before = disk.read_bytes()
    r = boot("block_io", ["ro"], test=True, machine=machine,
             extra=drive(machine, disk, ro=True))
    assert r.rc == 0, r
    assert "sectors of 512 bytes, read-only" in r.out and "read-only ok" in r.out
    assert disk.read_bytes() == before
    # Past the library, the platform stops a guest writing anyway.
    r = boot("block_attack", ["read-only"], test=True, machine=machine,
             extra=drive(machine, disk, ro=True))
    assert r.qemu_rc == QEMU_STOPPED, r
    assert "ingot: stopped: block request writing to a read-only device" in r.out
    assert disk.read_bytes() == before


def test_valid_raw_request_is_served(disk):
    r = boot("block_attack", ["ok"], test=True, extra=drive("microvm", disk))
    assert r.rc == 0, r
    assert "block_attack: ok served, status 0" in r.out


@pytest.mark.parametrize("attack", sorted(a for a in ATTACKS if a != "read-only"))
def test_hostile_request_stops_the_guest(attack, disk):
    before = disk.read_bytes()
    r = boot("block_attack", [attack], test=True, extra=drive("microvm", disk))
    assert r.qemu_rc == QEMU_STOPPED, r
    assert any(line.startswith("ingot: stopped: ") and ATTACKS[attack] in line
               for line in r.out.splitlines()), r
    assert "served" not in r.out
    assert disk.read_bytes() == before


def test_a_missing_block_device_is_named():
    r = boot("block_io", test=True)
    assert r.rc == 10, r  # blk_open("disk") found nothing
    assert "virtio-blk: no device for block device disk: not attached" in r.out


@pytest.mark.parametrize("machine", BOTH)
def test_an_extra_block_device_is_named(machine, disk, tmp_path):
    other = tmp_path / "other.img"
    other.write_bytes(b"\0" * 65536)
    r = boot("block_io", ["ro"], test=True, machine=machine,
             extra=drive(machine, disk, ro=True) + drive(machine, other, index=1))
    assert r.rc == 0, r
    assert re.search(r"^virtio-blk: virtio-(mmio at 0x[0-9a-f]+|pci at 00:[0-9a-f]{2}\.0): "
                     r"the image declares no further block device: not used$", r.out, re.M), r
    assert other.read_bytes() == b"\0" * 65536


@pytest.mark.parametrize("machine", BOTH)
def test_blkbench_runs(machine, tmp_path):
    path = tmp_path / "bench.img"
    with open(path, "wb") as f:
        f.truncate(16 << 20)
    for mode in ("randwrite", "randread"):
        r = boot("blkbench", [mode, "1", "8"], machine=machine,
                 extra=drive(machine, path, cache="none"))
        assert r.rc == 0, r
        m = re.search(rf"^blkbench: {mode} (\d+) ios in \d+ ms: (\d+) iops", r.out, re.M)
        assert m and int(m.group(1)) > 100, r
    # The writes were blkbench's 0xab blocks.
    data = path.read_bytes()
    assert data.count(b"\xab" * 4096) > 100


def redis(ns, *cmd):
    r = ns.run(["redis-cli", "--no-raw", "-h", GUEST_IP, *cmd])
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.mark.parametrize("machine", BOTH)
def test_kv_store_survives_a_restart(ns, machine, tmp_path):  # noqa: F811
    if not shutil.which("redis-cli"):
        pytest.skip("SKIPPED: redis-cli is not installed (tools/deps test)")
    data = tmp_path / "data.img"
    with open(data, "wb") as f:
        f.truncate(64 << 20)  # zeros: formatted at first boot
    ns.tap("tap0", f"{HOST_IP}/24")

    def start():
        argv = qemu_argv("kv", [f"--ipv4={GUEST_IP}/24"], machine=machine,
                         extra=net_args(machine, ["tap0"]) + drive(machine, data)) \
            + ["-m", "128M"]
        g = Guest(ns, "virtio", "kv", [], argv=argv)
        g.wait_for(r"^kv: serving RESP on TCP port 6379", timeout=30)
        return g

    g = start()
    assert redis(ns, "SET", "greeting", "hello from virtio") == "OK"
    assert redis(ns, "INCR", "boots") == "(integer) 1"
    assert redis(ns, "GET", "greeting") == '"hello from virtio"'
    # Acknowledged means written and flushed: QEMU killed outright loses
    # none of it.
    g.proc.kill()
    g.proc.wait(10)
    g = start()
    line = g.wait_for(r"^kv: store of ")
    assert re.search(r" 2 keys \(2 records replayed, 0 corrupt skipped, 0 dropped", line), line
    assert redis(ns, "GET", "greeting") == '"hello from virtio"'
    assert redis(ns, "INCR", "boots") == "(integer) 2"
    g.proc.kill()
    g.proc.wait(10)


def test_http_serves_a_tar_drive(ns, tmp_path):  # noqa: F811
    """apps/http's files from a tar archive (tests/test_http_tar.py) on a
    read-only virtio-blk drive."""
    tar, files = make_tar(str(tmp_path))
    ns.tap("tap0", f"{HOST_IP}/24")
    argv = qemu_argv("http", [f"--ipv4={GUEST_IP}/24"],
                     extra=net_args("microvm", ["tap0"]) + drive("microvm", tar, ro=True)) \
        + ["-m", "256M"]
    g = Guest(ns, "virtio", "http", [], argv=argv)
    try:
        g.wait_for(r"^http: 8 files \(\d+ bytes\) from the tar archive on block device site$",
                   timeout=30)
        g.wait_for(r"^http: serving")
        for path in ("/big.bin", "/nested/dir/data.json", "/nested/dir/"):
            r = curl(ns, path=path)
            assert r.status == 200 and r.body == files[path if path[-1] != "/" else
                                                       path + "index.html"], path
        r = curl(ns, "-H", "Range: bytes=100000-200000", path="/big.bin")
        assert r.status == 206 and r.body == files["/big.bin"][100000:200001]
    finally:
        g.proc.kill()
        g.proc.wait(10)
