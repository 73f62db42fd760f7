"""The build: compile-time address-space randomisation, image sizes, and
build options (each app compiled under its own)."""
import os
import select
import socket
import struct
import subprocess
import time

import pytest

from conftest import ROOT, BUILD


def build(tmp, seed, target):
    out = os.path.join(tmp, f"seed{seed}")
    subprocess.run(["make", "-s", "-C", ROOT, f"BUILD={out}", f"INGOT_SEED={seed}",
                    os.path.join(out, target)], check=True, capture_output=True)
    with open(os.path.join(out, target), "rb") as f:
        return f.read()


def load_address(elf):
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    for i in range(phnum):
        p_type, _, _, vaddr = struct.unpack_from("<IIQQ", elf, phoff + i * phentsize)
        if p_type == 1:  # PT_LOAD
            return vaddr
    raise AssertionError("no PT_LOAD")


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("seeds"))
    return {(seed, t): build(tmp, seed, t) for seed in (1, 2)
            for t in ("kvm/hello.kvm", "hosted/hello")}


@pytest.mark.parametrize("target", ["kvm/hello.kvm", "hosted/hello"])
def test_seeds_change_the_layout(builds, target):
    a, b = builds[(1, target)], builds[(2, target)]
    assert load_address(a) != load_address(b)
    assert a != b


@pytest.mark.parametrize("target", ["kvm/hello.kvm", "hosted/hello"])
def test_same_seed_same_bytes(builds, target, tmp_path):
    assert build(str(tmp_path), 1, target) == builds[(1, target)]


def test_hello_image_is_small():
    size = os.path.getsize(os.path.join(BUILD, "kvm", "hello.kvm"))
    assert size <= 32 * 1024, f"hello.kvm is {size} bytes"


# --- build options (include/ingot/options.h, apps/APP/options.h) ------------

def make(build, *args):
    return subprocess.run(["make", "-s", "-C", ROOT, f"BUILD={build}", *args],
                          capture_output=True, text=True)


def nm(path, *flags):
    """(name, type, size) of each symbol nm lists with a size."""
    out = subprocess.run(["nm", "-S", *flags, path], check=True, capture_output=True,
                         text=True).stdout
    return [(f[3], f[2], int(f[1], 16)) for f in (line.split() for line in out.splitlines())
            if len(f) == 4]


def option_build(tmp, sockets):
    """apps/dns built with CONFIG_NET_UDP_SOCKETS and a static address from
    make's command line, with a fixed seed: its images and the symbols of
    the object the option sizes."""
    out = os.path.join(tmp, f"udp{sockets}")
    r = make(out, "INGOT_SEED=1", f"CONFIG_NET_UDP_SOCKETS={sockets}",
             "CONFIG_NET_IPV4=10.9.8.7/24", os.path.join(out, "kvm", "dns.kvm"),
             os.path.join(out, "hosted", "dns"))
    assert r.returncode == 0, r.stderr
    image = os.path.join(out, "kvm", "dns.kvm")
    with open(image, "rb") as f:
        elf = f.read()
    return {"dir": out, "image": image, "elf": elf, "symbols": nm(image),
            "udp": {n for n, _, _ in nm(os.path.join(out, "obj", "dns", "lib", "net", "udp.o"),
                                        "--defined-only")}}


@pytest.fixture(scope="module")
def option_builds(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("options"))
    return {n: option_build(tmp, n) for n in (4, 8)}


def test_an_option_resizes_what_it_sizes_and_nothing_else(option_builds):
    a, b = option_builds[4], option_builds[8]
    assert load_address(a["elf"]) == load_address(b["elf"])  # the same layout
    assert sorted(n for n, _, _ in a["symbols"]) == sorted(n for n, _, _ in b["symbols"])
    # The socket table doubles with the option (a data object of lib/net/udp.c
    # whose size changed, by exactly the factor) ...
    resized = [(x, y) for x, y in zip(sorted(a["symbols"]), sorted(b["symbols"]))
               if x[0] in a["udp"] and x[1] in "bBdD" and x != y]
    assert resized and all(y[2] == 2 * x[2] for x, y in resized), resized
    # ... and every symbol from outside that file is the same size.
    others = [sorted(s for s in build["symbols"] if s[0] not in a["udp"])
              for build in (a, b)]
    assert others[0] == others[1]


def test_a_string_option_reaches_the_guest(option_builds):
    """CONFIG_NET_IPV4 given unquoted on the make line is the address the
    guest configures when its arguments name none."""
    dns = os.path.join(option_builds[4]["dir"], "hosted", "dns")
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    proc = subprocess.Popen([dns, "--net", f"service=udp:{ports[0]}:{ports[1]}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, deadline = b"", time.monotonic() + 10
    try:
        while b"dns: serving" not in out:
            left = deadline - time.monotonic()
            assert left > 0 and select.select([proc.stdout], [], [], left)[0], \
                f"not serving in 10 s: {out!r}"
            chunk = os.read(proc.stdout.fileno(), 4096)
            assert chunk, f"exited: {out!r}"
            out += chunk
    finally:
        proc.kill()
        proc.wait()
    assert b"net: service 10.9.8.7 netmask 255.255.255.0\n" in out, out


def test_an_unchanged_option_rebuilds_nothing_and_a_changed_one_its_app(option_builds):
    out = option_builds[8]["dir"]
    image = os.path.join(out, "kvm", "dns.kvm")
    keys = ["INGOT_SEED=1", "CONFIG_NET_UDP_SOCKETS=8", "CONFIG_NET_IPV4=10.9.8.7/24"]
    # Up to date first: sources may have changed since the fixture built it.
    assert make(out, *keys, image).returncode == 0
    same = make(out, *keys, image)
    assert same.returncode == 0 and same.stdout == "", same.stdout
    changed = make(out, "INGOT_SEED=1", "CONFIG_NET_UDP_SOCKETS=6",
                   "CONFIG_NET_IPV4=10.9.8.7/24", image)
    assert changed.returncode == 0, changed.stderr
    assert f"CC    {out}/obj/dns/lib/net/udp.o" in changed.stdout
    assert f"LINK {image}" in changed.stdout


@pytest.mark.parametrize("key, value, message", [
    ("CONFIG_NET_RING_SLOTS", "100", "CONFIG_NET_RING_SLOTS must be a power of two"),
    ("CONFIG_NET_RING_SLOTS", "2048", "CONFIG_NET_RING_SLOTS must be a power of two"),
    ("CONFIG_NET_PKTS", "31", "CONFIG_NET_PKTS must be at least 32"),
    ("CONFIG_SCHED_STACK_SIZE", "5000", "CONFIG_SCHED_STACK_SIZE must be a positive multiple"),
    ("CONFIG_SCHED_FIBERS_MAX", "0", "CONFIG_SCHED_FIBERS_MAX must be at least 1"),
    ("CONFIG_NET_UDP_SOCKETS", "0", "CONFIG_NET_UDP_SOCKETS must be at least 1"),
])
def test_a_bad_option_fails_the_build(tmp_path, key, value, message):
    out = str(tmp_path)
    r = make(out, f"{key}={value}", os.path.join(out, "obj", "dns", "lib", "libc", "string.o"))
    assert r.returncode != 0
    assert f"#error \"{message}" in r.stderr, r.stderr


def test_an_unknown_option_is_refused(tmp_path):
    r = make(str(tmp_path), "CONFIG_NET_PKT=64", "all")
    assert r.returncode != 0
    assert "CONFIG_NET_PKT: no such build option" in r.stderr, r.stderr


def test_each_app_compiles_under_its_own_options():
    """apps/dns/options.h sizes the packet pool and rings: lib/net's
    interface code differs in the dns image's set from the defaults, which
    apps without options (echo) and the test images share; code that reads
    no option is the same in every set."""
    obj = os.path.join(BUILD, "obj")

    def read(app, path):
        with open(os.path.join(obj, app, path), "rb") as f:
            return f.read()
    assert os.path.exists(os.path.join(ROOT, "apps", "echo")) and not os.path.exists(
        os.path.join(ROOT, "apps", "echo", "options.h"))
    assert read("dns", "lib/net/netif.o") != read("test", "lib/net/netif.o")
    assert read("echo", "lib/net/netif.o") == read("test", "lib/net/netif.o")
    assert read("dns", "lib/libc/string.o") == read("test", "lib/libc/string.o")


def archive_globals(app, lib):
    path = os.path.join(BUILD, "lib", app, f"lib{lib}.a")
    return {n for n, t, _ in nm(path, "--defined-only") if t.isupper()}


@pytest.mark.parametrize("app, unused", [("hello", ("net", "sched", "dns")),
                                         ("echo", ("dns",))])
def test_an_image_holds_only_the_libraries_it_uses(app, unused):
    linked = {n for n, _, _ in nm(os.path.join(BUILD, "kvm", f"{app}.kvm"))}
    for lib in unused:
        assert not linked & archive_globals(app, lib), lib
    # The check sees a library where one is linked.
    dns = {n for n, _, _ in nm(os.path.join(BUILD, "kvm", "dns.kvm"))}
    assert dns & archive_globals("dns", "dns")
