"""The build: compile-time address-space randomisation and image sizes."""
import os
import struct
import subprocess

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
