"""apps/kv, the Redis-protocol appliance, on its log store (lib/kv):
redis-cli's replies for every command compared with redis-server's in the
same namespace; acknowledged writes surviving kill -9 of the monitor; a
torn tail (the host file cut and regrown) and bit flips detected and
reported; protocol garbage never crashing it.  Each test makes its own
network namespace (tests/netns.py) and backing file."""
import os
import random
import re
import shutil
import subprocess
import time

import pytest

from conftest import TARGETS
from netns import PYTHON, Guest, Netns

GUEST_IP = "10.0.0.2"
HOST_IP = "10.0.0.1"
GUEST_MAC = "02:00:00:00:00:02"
HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "peers", "kv_peer.py")
CRASH_ROUNDS = int(os.environ.get("INGOT_KV_CRASH_ROUNDS", "5"))


@pytest.fixture
def ns():
    n = Netns()
    n.tap("tap0", f"{HOST_IP}/24")
    yield n
    n.close()


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "data.img"
    with open(path, "wb") as f:
        f.truncate(64 << 20)  # zeros: an empty store
    return path


def boot_kv(ns, target, data):
    g = Guest(ns, target, "kv", [f"service=tap0,mac={GUEST_MAC}"],
              [f"--ipv4={GUEST_IP}/24"], mon_args=["--mem", "128M", "--block", f"data={data}"])
    g.wait_for(r"^kv: serving RESP on TCP port 6379")
    return g


def store_line(g):
    line = g.wait_for(r"^kv: store of ")
    m = re.search(r"(\d+) keys \((\d+) records replayed, (\d+) corrupt skipped, "
                  r"(\d+) dropped from a torn tail\)", line)
    return {k: int(v) for k, v in zip(("keys", "replayed", "corrupt", "dropped"), m.groups())}


def peer(ns, *args, timeout=120, check=True):
    r = ns.run([PYTHON, PEER, *map(str, args)], timeout=timeout)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def redis_cli(ns, host, port, script):
    r = ns.run(["redis-cli", "--no-raw", "-h", host, "-p", str(port)], input=script)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


@pytest.mark.parametrize("target", TARGETS)
def test_every_command_answers_as_redis_does(ns, target, data, tmp_path):
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        pytest.skip("SKIPPED: redis-server and redis-cli are not installed (tools/deps test)")
    g = boot_kv(ns, target, data)
    redis = ns.popen(["redis-server", "--port", "6390", "--bind", "127.0.0.1", "--save", "",
                      "--appendonly", "no", "--dir", str(tmp_path)],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if ns.run(["redis-cli", "-p", "6390", "ping"]).stdout.strip() == "PONG":
            break
        time.sleep(0.05)
    script = open(os.path.join(HERE, "kv_commands.txt")).read()
    ours = redis_cli(ns, GUEST_IP, 6379, script)
    theirs = redis_cli(ns, "127.0.0.1", 6390, script)
    commands = script.splitlines()
    assert len(ours) >= len(commands)
    diff = [(c, a, b) for c, a, b in zip(commands, ours, theirs) if a != b]
    assert ours == theirs, diff
    # What differs by design: the store's own settings and section.
    assert redis_cli(ns, GUEST_IP, 6379, "CONFIG GET appendonly\n") == \
        ["1) \"appendonly\"", "2) \"yes\""]
    assert redis_cli(ns, GUEST_IP, 6379, "SELECT 1\n") == \
        ["(error) ERR DB index is out of range"]  # one database
    info = "\n".join(redis_cli(ns, GUEST_IP, 6379, "SET x 1\nINFO\n"))
    assert "# Keyspace" in info and "db0:keys=1," in info, info
    redis.kill()
    assert g.stop() == 0


@pytest.mark.kvm
def test_acknowledged_writes_survive_kill_9(ns, data, tmp_path):
    """The monitor is killed (SIGKILL) at a random moment while five
    connections write; after each restart every write that was
    acknowledged reads back, and no record is corrupt."""
    acks = tmp_path / "acks"
    rnd = random.Random(14)
    for round_ in range(CRASH_ROUNDS):
        g = boot_kv(ns, "kvm", data)
        st = store_line(g)
        assert st["corrupt"] == 0, (round_, st)
        if round_:
            out = peer(ns, "verify", GUEST_IP, acks)
            assert "verified" in out
        writer = ns.popen([PYTHON, PEER, "write", GUEST_IP, str(acks), str(round_), "4"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(rnd.uniform(0.3, 1.5))
        g.proc.kill()
        g.wait()
        # The guest's end sends no reset: the writer would wait out its
        # timeout.  What it recorded was acknowledged before the kill.
        writer.kill()
        writer.wait()
    g = boot_kv(ns, "kvm", data)
    assert store_line(g)["corrupt"] == 0
    out = peer(ns, "verify", GUEST_IP, acks)
    n = int(re.search(r"verified (\d+)", out).group(1))
    assert n > 50 * CRASH_ROUNDS, out
    assert g.stop() == 0


def test_torn_tail_is_dropped_and_reported(ns, data):
    """The host file cut at random points inside the log and grown back
    with zeros: what lies before the cut is kept, in order, and the cut
    record is counted as dropped, once."""
    rnd = random.Random(7)
    g = boot_kv(ns, "hosted", data)
    peer(ns, "seq", GUEST_IP, 300)
    assert g.stop() == 0
    with open(data, "rb") as f:
        image = f.read(8 << 20)
    end = len(image.rstrip(b"\0"))
    # Segment 0 starts after the superblock; the log's first bytes are
    # the segment header and the first record.
    for cut in sorted(rnd.sample(range(4096 + 512 + 64, end), 3), reverse=True):
        with open(data, "r+b") as f:
            f.truncate(cut)
            f.truncate(64 << 20)
        g = boot_kv(ns, "hosted", data)
        st = store_line(g)
        out = peer(ns, "prefix", GUEST_IP, 300)
        m = re.search(r"prefix (\d+) holes (\d+)", out)
        kept, holes = int(m.group(1)), int(m.group(2))
        assert holes == 0 and 0 < kept < 300 and st["keys"] == kept, (cut, out, st)
        assert st["dropped"] <= 1 and st["corrupt"] == 0, (cut, st)
        assert g.stop() == 0
        # Zeroed at mount: the next boot finds no torn tail.
        g = boot_kv(ns, "hosted", data)
        assert store_line(g) == dict(st, dropped=0, replayed=st["replayed"]), st
        assert g.stop() == 0


def test_bit_flips_are_detected_reported_and_skipped(ns, data):
    g = boot_kv(ns, "hosted", data)
    peer(ns, "seq", GUEST_IP, 200)
    assert g.stop() == 0
    blob = bytearray(open(data, "rb").read(8 << 20))
    victims = [17, 90, 150]
    for i in victims:
        at = blob.index(b"s%d:" % i) + 8  # inside the value
        blob[at] ^= 0x10
    with open(data, "r+b") as f:
        f.write(blob)
    g = boot_kv(ns, "hosted", data)
    st = store_line(g)
    assert st["corrupt"] == 3 and st["dropped"] == 0 and st["keys"] == 197, st
    out = peer(ns, "prefix", GUEST_IP, 200)
    assert "prefix 17 holes 180" in out, out  # all but the three
    assert g.stop() == 0


@pytest.mark.parametrize("target", TARGETS)
def test_protocol_garbage_never_crashes_it(ns, target, data):
    g = boot_kv(ns, target, data)
    assert "garbage survived" in peer(ns, "garbage", GUEST_IP, 3)
    assert g.proc.poll() is None
    assert g.stop() == 0
