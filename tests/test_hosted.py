"""The hosted target: a Linux process confined by seccomp after its seal."""
import select
import subprocess

from conftest import EXIT_STOPPED, image, run


def test_forbidden_system_call_stops_the_guest():
    r = run([image("hosted", "forbidden_syscall", test=True)])
    assert r.rc == EXIT_STOPPED, r
    assert "openat returned" not in r.out
    assert "forbidden system call 257 (openat)" in r.err
    assert "<ingot_main+" in r.err


def test_no_mapping_is_writable_and_executable():
    proc = subprocess.Popen([image("hosted", "sleep", test=True), "--", "3000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # The guest prints this from ingot_main, after its seal; bounded, so
        # a guest that hangs silently fails here instead of hanging the run.
        assert select.select([proc.stdout], [], [], 10)[0], "no output in 10 s"
        assert proc.stdout.readline() == b"sleeping for 3000 ms\n"
        with open(f"/proc/{proc.pid}/maps") as f:
            maps = [line.split() for line in f]
    finally:
        proc.kill()
        proc.wait()
    perms = [m[1] for m in maps]
    assert any(p.startswith("r-x") for p in perms), maps  # the code
    assert not any("w" in p and "x" in p for p in perms), maps


def test_usage():
    hello = image("hosted", "hello")
    r = run([hello, "--help"])
    assert r.rc == 0 and "usage:" in r.out
    for bad in (["--mem", "1M"], ["--mem", "lots"], ["--mem"]):
        r = run([hello, *bad])
        assert r.rc == 2, (bad, r)
        assert "usage:" in r.err
    r = run([hello, "--mem", "64M"])
    assert r.rc == 0 and r.out == "Hello from ingot!\n"
