"""lib/libc: the unit-test image on every target, heap misuse reports, and
the differential test of printf and strto* against glibc."""
import os

import pytest

from conftest import BUILD, EXIT_ABORT, TARGETS, boot, run


@pytest.mark.parametrize("target", TARGETS)
def test_libc_unit(target):
    r = boot(target, "libc_test", test=True, timeout=60)
    assert r.rc == 0, r.out + r.err
    assert r.out.endswith("checks, 0 failed\n"), r.out


@pytest.mark.parametrize("target", TARGETS)
def test_double_free_is_reported(target):
    r = boot(target, "double_free", test=True)
    assert r.rc == EXIT_ABORT, r
    assert "the second free returned" not in r.out
    assert "malloc: double free of 0x" in r.err


def test_format_and_strtol_match_glibc():
    r = run([os.path.join(BUILD, "test", "host", "libc_diff"), "300000"], timeout=120)
    assert r.rc == 0, r.out + r.err
    assert r.out.endswith(", 0 differences\n"), r.out
