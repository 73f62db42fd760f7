"""Block devices (abi.h, "Block devices"): lib/blk against files on the
host, on both targets; the host's checks against a hostile guest; the
--block option's errors."""
import fcntl
import mmap
import os
import re
import subprocess

import pytest

from conftest import BUILD, EXIT_SETUP, EXIT_STOPPED, MONITOR, TARGETS, boot, image, run

SECTORS = 8192


def host_byte(o):
    return ((o >> 9) ^ (o & 0xFF) ^ 0x5A) & 0xFF


def guest_byte(o):
    return ((o >> 9) * 31 + (o & 0xFF) + 7) & 0xFF


def pattern(f, start, end):
    return bytes(f(o) for o in range(start, end))


@pytest.fixture
def disk(tmp_path):
    path = tmp_path / "disk.img"
    path.write_bytes(pattern(host_byte, 0, SECTORS * 512))
    return path


@pytest.mark.parametrize("target", TARGETS)
def test_reads_writes_and_flushes_reach_the_file(target, disk):
    r = boot(target, "block_io", test=True, mon_args=["--block", f"disk={disk}"])
    assert r.rc == 0, r
    assert "block_io: ok" in r.out
    # The host opened the file for direct I/O (the test's file system
    # allows it) and counted the guest's requests.
    assert "block disk (direct):" in r.err and " 1 flushes, 0 errors" in r.err
    holds_block_io_writes(disk.read_bytes())


def holds_block_io_writes(data):
    """Asserts that data is the disk after block_io's mode rw."""
    assert len(data) == SECTORS * 512
    for first, count in ((0, 8), (100, 6144), (6400, 128)):
        a, b = first * 512, (first + count) * 512
        assert data[a:b] == pattern(guest_byte, a, b), (first, count)
    # What the guest did not write is the host's, untouched.
    for first, count in ((8, 92), (6244, 156), (6528, SECTORS - 6528)):
        a, b = first * 512, (first + count) * 512
        assert data[a:b] == pattern(host_byte, a, b), (first, count)


@pytest.mark.parametrize("target", TARGETS)
def test_read_only_device(target, disk):
    before = disk.read_bytes()
    r = boot(target, "block_io", args=["ro"], test=True,
             mon_args=["--block", f"disk={disk},ro"])
    assert r.rc == 0, r
    assert "read-only ok" in r.out
    assert disk.read_bytes() == before


def direct_io_works(path):
    """Whether this file system takes O_DIRECT reads of one sector."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    except OSError:
        return False
    try:
        buf = mmap.mmap(-1, 4096)
        os.preadv(fd, [memoryview(buf)[:512]], 0)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


@pytest.mark.parametrize("target", TARGETS)
def test_direct_io_where_the_file_system_allows(target, tmp_path):
    # The test's directory and /dev/shm (tmpfs: O_DIRECT only on recent
    # kernels): the host uses direct I/O exactly where Python's probe can.
    for d in (tmp_path, "/dev/shm"):
        path = os.path.join(d, "ingot-test-block-%d.img" % os.getpid())
        with open(path, "wb") as f:
            f.write(pattern(host_byte, 0, SECTORS * 512))
        try:
            r = boot(target, "block_io", test=True, mon_args=["--block", f"disk={path}"])
            assert r.rc == 0, r
            mode = "direct" if direct_io_works(path) else "buffered"
            assert f"block disk ({mode}):" in r.err, (d, r)
        finally:
            os.unlink(path)


ATTACKS = {
    "past-end": "past the end of the device",
    "straddle": "past the end of the device",
    "wrap": "past the end of the device",
    "misaligned": "not aligned to a sector",
    "outside": "outside guest memory",
    "into-code": "outside guest-writable memory",
    "zero-count": "count out of range",
    "huge": "count out of range",
    "bad-op": "unknown op",
    "flush-count": "FLUSH with a count",
    "index": "block ring index out of range",
    "read-only": "writing to a read-only device",
}


@pytest.mark.parametrize("target", TARGETS)
def test_valid_raw_request_is_served(target, disk):
    r = boot(target, "block_attack", args=["ok"], test=True,
             mon_args=["--block", f"disk={disk}"])
    assert r.rc == 0, r
    assert "block_attack: ok served, status 0" in r.out


@pytest.mark.parametrize("attack", sorted(ATTACKS))
@pytest.mark.parametrize("target", TARGETS)
def test_hostile_request_stops_the_guest(target, attack, disk):
    before = disk.read_bytes()
    ro = ",ro" if attack == "read-only" else ""
    r = boot(target, "block_attack", args=[attack], test=True,
             mon_args=["--block", f"disk={disk}{ro}"])
    assert r.rc == EXIT_STOPPED, r
    assert ATTACKS[attack] in r.err, r
    assert "served" not in r.out
    assert disk.read_bytes() == before


@pytest.mark.parametrize("target", TARGETS)
def test_option_errors(target, disk, tmp_path):
    def run_with(spec):
        return boot(target, "block_io", test=True, mon_args=["--block", spec])

    r = run_with("disk")
    assert r.rc == 2 and "--block wants NAME=FILE" in r.err, r
    r = run_with("di/sk=x")
    assert r.rc == 2 and "letters, digits and _" in r.err, r
    r = run_with(f"disk={tmp_path}/missing")
    assert r.rc == EXIT_SETUP and "cannot open it: No such file" in r.err, r
    r = run_with(f"other={disk}")
    assert r.rc == EXIT_SETUP and "declares no block device of that name" in r.err, r
    empty = tmp_path / "empty"
    empty.write_bytes(b"x" * 511)
    r = run_with(f"disk={empty}")
    assert r.rc == EXIT_SETUP and "smaller than one sector" in r.err, r
    r = run_with(f"disk={tmp_path}")
    assert r.rc == EXIT_SETUP and "cannot open it: Is a directory" in r.err, r
    r = run_with(f"disk={tmp_path},ro")
    assert r.rc == EXIT_SETUP and "not a regular file or a block device" in r.err, r
    r = boot(target, "block_io", test=True,
             mon_args=["--block", f"disk={disk}", "--block", f"disk={disk}"])
    assert r.rc == 2 and "given twice" in r.err, r
    # A file another process holds is not written by two hosts at once.
    with open(disk, "rb") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        r = run_with(f"disk={disk}")
    assert r.rc == EXIT_SETUP and "another process is using it" in r.err, r


def test_unattached_device_is_reported_absent(disk):
    r = boot("hosted", "block_io", test=True)
    assert r.rc == 10, r


def test_hosted_allowlist_gives_block_descriptors_only_their_calls(disk, tmp_path):
    """A sealed hosted guest's raw pread64/pwrite64 on the descriptors
    reserved for block devices: its read-only device reads and refuses
    writes, and a descriptor inherited at another reserved number was
    closed at the seal."""
    decoy = tmp_path / "decoy"
    decoy.write_bytes(b"d" * 4096)
    fd = os.open(decoy, os.O_RDWR)
    try:
        os.dup2(fd, 117)
        p = subprocess.run([image("hosted", "block_fds", test=True), "--block", f"disk={disk},ro"],
                           pass_fds=(117,), capture_output=True, text=True, timeout=30)
    finally:
        os.close(117)
        os.close(fd)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "fd 116: pread64 512, pwrite64 -9" in p.stdout
    assert "1 of 32 calls went through" in p.stdout
    assert decoy.read_bytes() == b"d" * 4096


def round_byte(o, rnd):
    return ((o >> 9) * 7 + (o & 0xFF) + rnd * 13 + 1) & 0xFF


def order_disk(tmp_path):
    """block_order's disk: host bytes, then a hole (read as zeros at once)."""
    path = tmp_path / "order.img"
    path.write_bytes(pattern(host_byte, 0, 6144 * 512))
    os.truncate(path, SECTORS * 512)
    return path


def holds_block_order_writes(data):
    """Asserts that data is the disk after block_order: its last batch
    round's bytes, its writers' 0xc3, the host's bytes, the hole."""
    assert len(data) == SECTORS * 512
    assert data[:1024 * 512] == bytes(round_byte(o, 39) for o in range(1024 * 512))
    assert data[1024 * 512:2048 * 512] == pattern(host_byte, 1024 * 512, 2048 * 512)
    assert data[2048 * 512:2560 * 512] == b"\xc3" * (512 * 512)
    assert data[2560 * 512:6144 * 512] == pattern(host_byte, 2560 * 512, 6144 * 512)
    assert data[6144 * 512:] == bytes(2048 * 512)


def number(pattern, text):
    """The number that pattern's group captures in text."""
    m = re.search(pattern, text)
    assert m, text
    return int(m.group(1))


def rounds_ahead(out):
    return number(r"block_order: ok, (\d+) of 40 rounds ahead", out)


@pytest.mark.parametrize("target", TARGETS)
def test_requests_in_flight_complete_in_any_order(target, tmp_path):
    """Requests in flight together: reads of a hole complete before a 1 MiB
    read ahead of them and their fibers wake first (kvm, io_uring; the
    hosted target carries requests out one at a time, in ring order); a
    flush returns after the writes in flight ahead of it, and reads behind
    a flush see the writes ahead of it, round after round."""
    disk = order_disk(tmp_path)
    r = boot(target, "block_order", test=True, mon_args=["--block", f"disk={disk}"])
    assert r.rc == 0, r
    ahead = rounds_ahead(r.out)
    if target == "kvm":
        assert ahead >= 20, r
        m = re.search(r"block: io_uring: (\d+) requests in (\d+) system calls, "
                      r"(\d+) completed ahead of an earlier one", r.err)
        assert m, r.err
        assert int(m.group(1)) == 1000 + 648 + 41 and int(m.group(3)) > 0, r.err
        assert int(m.group(2)) < int(m.group(1)), r.err
    else:
        assert ahead == 0, r
    assert "41 flushes, 0 errors" in r.err, r.err
    holds_block_order_writes(disk.read_bytes())


@pytest.mark.kvm
def test_requests_one_at_a_time_without_io_uring(tmp_path):
    """--no-io-uring, or a kernel without io_uring: the same guest, every
    request carried out in ring order."""
    no_uring = os.path.join(BUILD, "test", "host", "no_uring")
    path = image("kvm", "block_order", test=True)
    for wrapper, why in (((), "turned off"),
                         ((no_uring,), "not available (kernel.io_uring_disabled?) (error 38)")):
        disk = order_disk(tmp_path)
        flags = ["--no-io-uring"] if not wrapper else []
        r = run([*wrapper, MONITOR, *flags, "--block", f"disk={disk}", path], timeout=60)
        assert r.rc == 0, r
        assert rounds_ahead(r.out) == 0, r
        assert f"block: io_uring {why}" in r.err, r.err
        holds_block_order_writes(disk.read_bytes())


@pytest.mark.kvm
def test_restart_at_once_after_kill_9_with_writes_in_flight(tmp_path):
    """A monitor killed with writes in flight lets go of its file's lock
    when the kernel finished them, after the process ended: the next one
    waits for that instead of refusing the file."""
    disk = tmp_path / "disk.img"
    disk.write_bytes(b"")
    os.truncate(disk, 16 << 20)
    bench = image("kvm", "blkbench")
    for _ in range(5):
        p = subprocess.Popen([MONITOR, "--block", f"disk={disk}", bench, "randwrite", "5"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            p.wait(timeout=0.5)
            raise AssertionError("blkbench ended before the kill")
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        r = run([MONITOR, "--block", f"disk={disk}", bench, "randread", "1"], timeout=30)
        assert r.rc == 0 and " iops" in r.out, r


def sync_byte(o):
    return ((o >> 9) * 13 + (o & 0xFF) + 1) & 0xFF


def carried_flushes(err):
    return number(r"(\d+) flushes carried by their O_DSYNC writes", err)


@pytest.mark.parametrize("target", TARGETS)
def test_flush_behind_writes_of_its_batch(target, tmp_path):
    """A write and a flush in one batch, as a group commit makes them: on
    kvm the flush costs no fdatasync of its own once every earlier write is
    durable (its writes go with RWF_DSYNC); the first flush, behind a
    write of another batch, is an fdatasync.  Every byte reaches the
    file."""
    disk = tmp_path / "disk.img"
    disk.write_bytes(bytes(SECTORS * 512))
    r = boot(target, "block_sync", test=True, mon_args=["--block", f"disk={disk}"])
    assert r.rc == 0, r
    assert "block_sync: ok, 200 sectors written" in r.out, r
    assert "block disk (direct):" in r.err and " 23 flushes, 0 errors" in r.err, r.err
    if target == "kvm":
        assert carried_flushes(r.err) == 22, r.err
    data = disk.read_bytes()
    assert data[:200 * 512] == pattern(sync_byte, 0, 200 * 512)
    assert data[200 * 512:] == bytes((SECTORS - 200) * 512)


FULL_FS = """set -e
mount -t tmpfs -o size=4m tmpfs "$1"
truncate -s 32M "$1/disk.img"
dd if=/dev/zero of="$1/disk.img" bs=512 count=208 conv=notrunc status=none
dd if=/dev/zero of="$1/ballast" bs=4k status=none 2>/dev/null || true
shift
exec "$@"
"""


@pytest.mark.parametrize("target", TARGETS)
def test_failed_write_leaves_its_flush_to_an_fdatasync(target, tmp_path):
    """On a file system that is full, a batch's write into a hole of the
    file fails (-ENOSPC) and the flush behind it still completes: on kvm
    it was to be carried by that write, and becomes an fdatasync; later
    batches work again."""
    small = tmp_path / "small"
    small.mkdir()
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("SKIPPED: cannot make a mount namespace (unshare -m) for a full file system")
    path = image(target, "block_sync", test=True)
    disk = f"disk={small}/disk.img"
    argv = [MONITOR, "--block", disk, path, "full"] if target == "kvm" \
        else [path, "--block", disk, "--", "full"]
    r = run(["unshare", "-m", "sh", "-c", FULL_FS, "sh", str(small), *argv], timeout=60)
    assert r.rc == 0, r
    assert "block_sync: ok, 208 sectors written" in r.out, r
    assert "block disk (" in r.err and " 25 flushes, 1 errors" in r.err, r.err
    if target == "kvm":
        # Every batch's but the first's and the failed one's.
        assert carried_flushes(r.err) == 23, r.err
