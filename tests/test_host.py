"""The host side (host/), the same on both targets: the same option errors
and exit statuses, a console nobody reads, statuses a guest cannot forge,
addresses checked, text from the image kept printable, and the hosted
target's device descriptors closed at the seal."""
import os
import subprocess
import tempfile

import pytest

from conftest import EXIT_ABORT, EXIT_SETUP, EXIT_STOPPED, MONITOR, TARGETS, image, run
from netns import Guest, Netns

EXIT_BAD_STATUS = 250  # include/ingot/abi.h

# Option checks run before any guest does: no /dev/kvm needed.
BOTH = ["hosted", "kvm"]


def argv_for(target, name, host_args=(), args=(), test=False):
    path = image(target, name, test)
    if target == "kvm":
        return [MONITOR, *host_args, path, *args]
    return [path, *host_args, "--", *args]


def message(err):
    """The first line of stderr without the host's name ("ingot-kvm: ")."""
    line = err.splitlines()[0]
    assert line.startswith(("ingot: ", "ingot-kvm: ")), err
    return line.split(": ", 1)[1]


BAD_NET = [
    ("service=tap0,mac=01:00:00:00:00:01", "unicast"),
    ("service=tap0,mac=02:00:00:00:00:01,junk", "expected after the backend only"),
    ("service=tap0,junk", "expected after the backend only"),
    ("service=tap0,offload=on", "expected after the backend only"),
    ("service=tap0,queue=65537", "queue= takes 0 to 65536"),
    ("service=tap0,queue=", "queue= takes 0 to 65536"),
    ("service=tap0,queue=1k", "queue= takes 0 to 65536"),
    ("service=udp:1:2,queue=100", "expected after the backend only"),
    ("service=tap0,mtu=1501", "mtu= takes 576 to 1500"),
    ("service=tap0,mac=02:00:00:00:00", "unicast"),
    ("service=tap0,mac=00:00:00:00:00:00", "unicast"),
    ("service=tap%d", "has no '%'"),
    ("service=a/b", "not a network device's name"),
    ("service=sixteen-chars-xx", "1 to 15 characters"),
    ("service=udp:1", "expected udp:LPORT:RPORT"),
    ("service=udp:0:1", "expected udp:LPORT:RPORT"),
    ("service=udp:1:65536", "expected udp:LPORT:RPORT"),
    ("service=udp:00000000001:2", "expected udp:LPORT:RPORT"),
    ("nonsense", "--net wants NAME=TAP"),
    ("=tap0", "1 to 31 characters"),
]


@pytest.mark.parametrize("spec,why", BAD_NET)
def test_bad_net_option_is_a_usage_error_on_both_targets(spec, why):
    msgs = {}
    for target in BOTH:
        r = run(argv_for(target, "echo", ["--net", spec]))
        assert r.rc == 2, (target, r)
        assert why in r.err and "usage:" in r.err, (target, r)
        msgs[target] = message(r.err)
    assert msgs["hosted"] == msgs["kvm"], msgs


def test_a_device_given_twice_is_a_usage_error():
    for target in BOTH:
        r = run(argv_for(target, "echo", ["--net", "service=udp:1:2",
                                           "--net", "service=udp:3:4"]))
        assert r.rc == 2 and "given twice" in r.err, (target, r)


@pytest.fixture
def ns():
    n = Netns()
    yield n
    n.close()


def test_a_missing_tap_is_refused_not_created(ns):
    """Inside a namespace of its own, so that a tap created by mistake
    would not outlive the test."""
    msgs = {}
    for target in BOTH:
        r = ns.run(argv_for(target, "echo", ["--net", "service=nosuch0"]), timeout=30)
        assert r.returncode == EXIT_SETUP, (target, r)
        assert "there is no tap device nosuch0" in r.stderr, (target, r)
        msgs[target] = message(r.stderr)
        gone = subprocess.run(["ip", "-n", ns.name, "link", "show", "nosuch0"],
                              capture_output=True)
        assert gone.returncode != 0, (target, "the tap device was created")
    assert msgs["hosted"] == msgs["kvm"], msgs


def tap_queue(ns, tap):
    out = subprocess.run(["ip", "-n", ns.name, "-d", "link", "show", tap],
                         capture_output=True, text=True, check=True).stdout
    return int(out.split(" qlen ")[1].split()[0])


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("before,opt,after", [
    (1000, "", 1000),             # left as it is unless asked
    (1000, ",queue=3000", 3000),
    (1000, ",queue=0", 1000),
    (20000, ",queue=3000", 20000),  # raised, never lowered
])
def test_the_taps_queue_is_raised_at_attach(ns, target, before, opt, after):
    ns.tap("tap0", "10.0.0.1/24")
    ns.ip("link", "set", "tap0", "txqueuelen", str(before))
    g = Guest(ns, target, "echo", [f"service=tap0{opt}"], args=["--ipv4=10.0.0.2/24"])
    try:
        g.wait_for("net: service 10.0.0.2")
        assert tap_queue(ns, "tap0") == after
    finally:
        g.stop()


def test_a_device_the_image_lacks_is_refused_the_same_way():
    msgs = {}
    for target in BOTH:
        r = run(argv_for(target, "echo", ["--net", "other=udp:1:2"]))
        assert r.rc == EXIT_SETUP and "declares no network device" in r.err, (target, r)
        msgs[target] = message(r.err)
    assert msgs["hosted"] == msgs["kvm"], msgs


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("status", [250, 251, 252, 253, 254, 255, -1])
def test_a_guest_cannot_give_the_hosts_statuses(target, status):
    r = run(argv_for(target, "exit_status", args=[str(status)], test=True))
    assert r.rc == EXIT_BAD_STATUS, r
    assert "outside 0..249" in r.err, r


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("status", [0, 7, 249])
def test_a_guests_own_status_passes_through(target, status):
    r = run(argv_for(target, "exit_status", args=[str(status)], test=True))
    assert r.rc == status and r.err == "", r


@pytest.mark.parametrize("target", TARGETS)
def test_a_vanished_console_reader_is_counted_not_fatal(target):
    """`IMAGE | head -n 1`: the guest writes on after its reader left."""
    proc = subprocess.Popen(argv_for(target, "sleep", args=["300"], test=True),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"sleeping for 300 ms\n"
        proc.stdout.close()
        err = proc.stderr.read().decode()
        rc = proc.wait(30)
    finally:
        proc.kill()
        proc.wait()
    assert rc == 0, (rc, err)
    assert "console: " in err and "bytes dropped" in err, err


@pytest.mark.parametrize("target", TARGETS)
def test_a_console_buffer_outside_guest_memory_stops_the_guest(target):
    r = run(argv_for(target, "bad_console", test=True))
    assert r.rc == EXIT_STOPPED, r
    assert "with a buffer outside guest memory" in r.err, r
    assert "accepted a bad buffer" not in r.out


@pytest.mark.parametrize("target", TARGETS)
def test_symbol_names_in_fault_reports_are_printable(target):
    r = run(argv_for(target, "escape_symbol", test=True))
    assert r.rc == EXIT_ABORT, r
    assert "<crash?[2J?[31m+0x0>" in r.err, r
    assert all(c == "\n" or " " <= c <= "~" for c in r.err), repr(r.err)


def test_an_inherited_descriptor_at_a_device_number_is_closed_at_the_seal():
    """fd 100 is a device's number in the hosted allowlist; with no device
    there, what the process inherited there must not be writable."""
    with tempfile.TemporaryFile() as f:
        fd = os.dup(f.fileno())
        os.dup2(fd, 100)
        os.close(fd)
        try:
            proc = subprocess.run([image("hosted", "device_fds", test=True)],
                                  capture_output=True, text=True, pass_fds=[100],
                                  timeout=30)
        finally:
            os.close(100)
        f.seek(0)
        assert f.read() == b""
    assert proc.returncode == 0, proc
    assert "0 of 16 writes went through" in proc.stdout, proc


@pytest.mark.kvm
def test_the_no_root_backend_joins_a_kvm_guest_and_a_hosted_one():
    """Frames in UDP datagrams on 127.0.0.1: the same backend on both
    targets, so one of each can be joined by a virtual cable."""
    port = 20000 + (os.getpid() * 7) % 20000
    server = subprocess.Popen(
        [MONITOR, "--net", f"service=udp:{port}:{port + 1}", image("kvm", "echo"),
         "--ipv4=10.0.0.2/24"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().startswith("net: service")
        client = subprocess.run(
            [image("hosted", "net_client", test=True), "--net",
             f"service=udp:{port + 1}:{port}", "--", "--ipv4=10.0.0.3/24",
             "--peer=10.0.0.2"], capture_output=True, text=True, timeout=60)
        assert client.returncode == 0, client
        assert "net_client: 8/8 echoed" in client.stdout, client
    finally:
        server.terminate()
        out, err = server.communicate(timeout=10)
    assert server.returncode == 0, err
    assert f"net service (udp:{port}:{port + 1}): in " in err, err
