"""The checked-in .clang-format is the C style: every tracked .c and .h
file is formatted by it (`make format` rewrites them)."""
import os
import re
import shutil
import subprocess

from conftest import ROOT

DIFFERS = re.compile(r"^(.+?):\d+:\d+: error: code should be clang-formatted")


def tracked_c_files():
    out = subprocess.run(["git", "ls-files", "-z", "*.c", "*.h"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    # A file deleted but not yet committed is gone from the tree, not unformatted.
    return [f for f in out.split("\0") if f and os.path.exists(os.path.join(ROOT, f))]


def test_the_style_file_is_there():
    assert os.path.exists(os.path.join(ROOT, ".clang-format"))


def test_every_tracked_c_file_is_formatted():
    clang_format = shutil.which("clang-format")
    assert clang_format, "clang-format is not installed (Debian: clang-format)"
    files = tracked_c_files()
    assert len(files) > 50, files
    r = subprocess.run([clang_format, "--dry-run", "-Werror", *files], cwd=ROOT,
                       capture_output=True, text=True)
    differ = sorted({m.group(1) for m in map(DIFFERS.match, r.stderr.splitlines()) if m})
    assert r.returncode == 0 or differ, r.stderr[-2000:]
    assert not differ, f"{len(differ)} files differ from .clang-format " \
        "(make format rewrites them):\n  " + "\n  ".join(differ)
