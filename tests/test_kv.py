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


def start_redis(ns, tmp_path):
    """redis-server on 127.0.0.1:6390 inside ns, for comparison."""
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        pytest.skip("SKIPPED: redis-server and redis-cli are not installed (tools/deps test)")
    redis = ns.popen(["redis-server", "--port", "6390", "--bind", "127.0.0.1", "--save", "",
                      "--appendonly", "no", "--dir", str(tmp_path)],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if ns.run(["redis-cli", "-p", "6390", "ping"]).stdout.strip() == "PONG":
            break
        time.sleep(0.05)
    return redis


@pytest.mark.parametrize("target", TARGETS)
def test_every_command_answers_as_redis_does(ns, target, data, tmp_path):
    redis = start_redis(ns, tmp_path)
    g = boot_kv(ns, target, data)
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


def replies(raw):
    """The top-level RESP replies in raw, as (type, payload) in order."""
    out, at = [], 0

    def one():
        nonlocal at
        end = raw.index(b"\r\n", at)
        t, rest = raw[at:at + 1], raw[at + 1:end]
        at = end + 2
        if t == b"$" and int(rest) >= 0:
            v = raw[at:at + int(rest)]
            assert raw[at + int(rest):at + int(rest) + 2] == b"\r\n"
            at += int(rest) + 2
            return (t, v)
        if t == b"*":
            return (t, [one() for _ in range(int(rest))])
        assert t in (b"+", b"-", b":", b"$"), raw[at - 20:at + 20]
        return (t, rest)

    while at < len(raw):
        out.append(one())
    return out


@pytest.mark.parametrize("target", TARGETS)
def test_pipelined_replies_match_redis(ns, target, data, tmp_path):
    """1,000 mixed commands (small and large values, hits and misses,
    counters, errors) sent in one write, then QUIT: every reply comes,
    in order, byte for byte as redis-server's."""
    redis = start_redis(ns, tmp_path)
    g = boot_kv(ns, target, data)
    for seed in (14, 15):
        ours = bytes.fromhex(peer(ns, "pipeline", GUEST_IP, 6379, seed, 1000).strip())
        theirs = bytes.fromhex(peer(ns, "pipeline", "127.0.0.1", 6390, seed, 1000).strip())
        got, want = replies(ours), replies(theirs)
        assert len(want) == 1001 and want[-1] == (b"+", b"OK"), len(want)
        kinds = {t for t, _ in want}
        assert kinds == {b"+", b"-", b":", b"$", b"*"}, kinds
        assert any(t == b"$" and len(v) > 64 for t, v in want)  # read from the device
        diff = next((i, a, b) for i, (a, b) in enumerate(zip(got + [None] * 1001, want))
                    if a != b) if got != want else None
        assert ours == theirs, (diff, g.out)
    redis.kill()
    assert g.stop() == 0


def test_small_values_are_read_from_memory(ns, data):
    """Values of up to 64 bytes are kept with their keys, after a restart
    too: reading them never reads the device; larger ones are read from
    it, and a key moving between the two is read right either way."""
    g = boot_kv(ns, "hosted", data)
    redis_cli(ns, GUEST_IP, 6379, "SET s1 " + "a" * 64 + "\nSET b1 " + "b" * 65 +
              "\nSET s2 small\nSET b2 " + "c" * 500 + "\n")
    assert g.stop() == 0
    g = boot_kv(ns, "hosted", data)
    assert store_line(g)["keys"] == 4
    got = redis_cli(ns, GUEST_IP, 6379, "GET s1\nGET s2\nGET s2\n")
    assert got == ['"' + "a" * 64 + '"', '"small"', '"small"'], got
    info = store_info(ns)
    assert (info["store_reads_memory"], info["store_reads_device"]) == (3, 0), info
    assert redis_cli(ns, GUEST_IP, 6379, "GET b1\n") == ['"' + "b" * 65 + '"']
    assert store_info(ns)["store_reads_device"] == 1
    # b1 becomes small and s1 large, then each is read back once.
    got = redis_cli(ns, GUEST_IP, 6379, "SET b1 now-small\nSET s1 " + "d" * 300 +
                    "\nGET b1\nGET s1\n")
    assert got == ["OK", "OK", '"now-small"', '"' + "d" * 300 + '"'], got
    assert g.stop() == 0
    g = boot_kv(ns, "hosted", data)
    got = redis_cli(ns, GUEST_IP, 6379, "GET b1\nGET s1\nGET b2\n")
    assert got == ['"now-small"', '"' + "d" * 300 + '"', '"' + "c" * 500 + '"'], got
    info = store_info(ns)
    assert (info["store_reads_memory"], info["store_reads_device"]) == (1, 2), info
    assert g.stop() == 0


@pytest.mark.kvm
def test_acknowledged_writes_survive_kill_9(ns, data, tmp_path):
    """The monitor is killed (SIGKILL) at a random moment while five
    connections write; after each restart every write that was
    acknowledged reads back, and no record is corrupt.  The store has
    room for every round's writes (about 1.6 MB of values a round): a full
    one would refuse them (Redis's OOM error) and the rounds after would
    kill a server nobody writes to."""
    os.truncate(data, (64 + 2 * CRASH_ROUNDS) << 20)
    acks = tmp_path / "acks"
    rnd = random.Random(14)
    acked = 0
    for round_ in range(CRASH_ROUNDS):
        g = boot_kv(ns, "kvm", data)
        st = store_line(g)
        assert st["corrupt"] == 0, (round_, st)
        if round_:
            # Every write so far is read back: the time grows with the
            # rounds (make soak-kv's hundredth reads some 50,000 values).
            out = peer(ns, "verify", GUEST_IP, acks, timeout=120 + 4 * round_)
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
        was, acked = acked, acks.read_text().count("set ")
        assert acked > was, (round_, "no SET acknowledged", writer.stderr.read())
    g = boot_kv(ns, "kvm", data)
    assert store_line(g)["corrupt"] == 0
    out = peer(ns, "verify", GUEST_IP, acks, timeout=120 + 4 * CRASH_ROUNDS)
    n = int(re.search(r"verified (\d+)", out).group(1))
    assert n > 50 * CRASH_ROUNDS, out
    assert g.stop() == 0


@pytest.mark.kvm
def test_a_commit_under_load_costs_about_one_exit(ns, data):
    """redis-benchmark's SETs, not pipelined, from 20 connections: while a
    commit is in flight the guest sleeps until it completes (lib/kv's
    hold_for_commit, ingot_poll_for) and takes the SETs that arrived
    meanwhile in that turn, so the vCPU exits about once per commit rather
    than once for each SET's arrival (2-3 times per commit without)."""
    if not shutil.which("redis-benchmark"):
        pytest.skip("SKIPPED: redis-benchmark is not installed (tools/deps test)")
    g = boot_kv(ns, "kvm", data)
    r = ns.run(["redis-benchmark", "-h", GUEST_IP, "-c", "20", "-n", "20000", "-r", "1000",
                "-t", "set", "-q"], timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    commits = store_info(ns)["store_commits"]
    assert g.stop() == 0
    exits = int(re.search(r"vcpu: (\d+) exits", "\n".join(g.err)).group(1))
    # Boot, the benchmark's connections and INFO take a few hundred.
    assert 0 < commits < 20000 and exits < 1.4 * commits + 400, (exits, commits, g.err)


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


def store_info(ns):
    r = ns.run(["redis-cli", "-h", GUEST_IP, "INFO"])
    return {k: int(v) for k, v in re.findall(r"^(store_\w+):(\d+)", r.stdout, re.M)}


def test_compaction_keeps_every_value_and_readers_going(ns, tmp_path):
    """A 16 MiB store (15 segments) takes 24 MB of overwrites: the
    compactor frees segments again and again while a reader checks every
    value it gets; all keys hold their last value, before and after a
    restart."""
    small = tmp_path / "small.img"
    with open(small, "wb") as f:
        f.truncate(16 << 20)
    g = boot_kv(ns, "hosted", small)
    out = peer(ns, "churn", GUEST_IP, 500, 12)
    assert "0 wrong; 0 not at the last round" in out, out
    info = store_info(ns)
    assert info["store_compactions"] >= 10 and info["store_records_moved"] > 0, info
    assert g.stop() == 0
    g = boot_kv(ns, "hosted", small)
    st = store_line(g)
    assert st["keys"] == 600 and st["corrupt"] == 0 and st["dropped"] == 0, st
    out = peer(ns, "churn", GUEST_IP, 500, 1)
    assert "0 not at the last round" in out, out
    assert g.stop() == 0


def test_full_store_refuses_writes_and_recovers_with_deletes(ns, tmp_path):
    small = tmp_path / "small.img"
    with open(small, "wb") as f:
        f.truncate(16 << 20)
    g = boot_kv(ns, "hosted", small)
    out = peer(ns, "fill", GUEST_IP)
    m = re.search(r"filled (\d+) then \('-', \"OOM command not allowed", out)
    assert m and 1500 < int(m.group(1)) < 2600, out
    filled = int(m.group(1))
    script = "".join(f"DEL f{i}\n" for i in range(200)) + "SET after-delete yes\nGET f300\n"
    r = ns.run(["redis-cli", "-h", GUEST_IP], input=script)
    assert r.stdout.splitlines()[-2:] == ["OK", "f300/0/" + "x" * 3993], r.stdout[-200:]
    assert g.stop() == 0
    g = boot_kv(ns, "hosted", small)
    assert store_line(g)["keys"] == filled - 200 + 1
    assert g.stop() == 0


def test_store_full_of_segment_tails_refuses_writes_at_once(ns, tmp_path):
    """Values of 256 KiB go three to a segment, a quarter of each left
    over: a 16 MiB store's free segments reach the compactor's floor with
    no garbage to reclaim.  Writes then get the OOM error at once (they
    waited for ever), deletes go through and make room again."""
    small = tmp_path / "small.img"
    with open(small, "wb") as f:
        f.truncate(16 << 20)
    g = boot_kv(ns, "hosted", small)
    out = peer(ns, "fill", GUEST_IP, 256 << 10, timeout=60)
    assert re.search(r"filled \d+ then \('-', \"OOM command not allowed", out), out
    script = "INCR counter\n" + "".join(f"DEL f{i}\n" for i in range(8)) + \
        "SET after-delete yes\nGET after-delete\n"
    r = ns.run(["timeout", "30", "redis-cli", "-h", GUEST_IP], input=script)
    lines = [line for line in r.stdout.splitlines() if line]
    assert lines[0].startswith("OOM command not allowed"), r.stdout
    assert lines[1:] == ["1"] * 8 + ["OK", "yes"], r.stdout
    assert g.stop() == 0


@pytest.mark.parametrize("target", TARGETS)
def test_protocol_garbage_never_crashes_it(ns, target, data):
    g = boot_kv(ns, target, data)
    assert "garbage survived" in peer(ns, "garbage", GUEST_IP, 3)
    assert g.proc.poll() is None
    assert g.stop() == 0
