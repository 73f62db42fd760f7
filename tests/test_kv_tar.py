"""lib/kv's read-only store over archives made by GNU tar (gnu, pax and
ustar formats, long names, nested folders, a file appended twice), and
malformed archives, which are refused with the offset of the bad header
and never crash the guest."""
import os
import random
import subprocess

import pytest

from conftest import TARGETS, boot

LONG = "n" * 150


def fnv(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    rnd = random.Random(14)
    files = {
        "index.html": b"<h1>hello</h1>\n",
        "empty": b"",
        "sub/big.bin": rnd.randbytes(200_000),
        "sub/deeper/exact512": rnd.randbytes(512),
        f"sub/{LONG}/{LONG}.txt": b"a long name\n",
        "odd name, with spaces": b"spaces\n",
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    os.symlink("index.html", root / "link")
    return root, files


def make_tar(site, tmp_path, fmt):
    root, _ = site
    out = tmp_path / f"{fmt}.tar"
    subprocess.run(["tar", f"--format={fmt}", "-cf", str(out), "-C", str(root), "."],
                   check=True)
    return out


def listing(r):
    files = {}
    for line in r.out.splitlines():
        if line.startswith("FILE "):
            rest, size, h = line[5:].rsplit(" ", 2)
            files[rest] = (int(size), h)
    return files


def mount(target, archive, lookups=()):
    return boot(target, "kv_tar", args=list(lookups), test=True,
                mon_args=["--block", f"archive={archive},ro"])


@pytest.mark.parametrize("fmt", ["gnu", "pax"])
@pytest.mark.parametrize("target", TARGETS)
def test_archive_made_by_tar(target, fmt, site, tmp_path):
    archive = make_tar(site, tmp_path, fmt)
    r = mount(target, archive, ["index.html", "./sub//big.bin", "/sub/./deeper/../big.bin",
                                "nope", "../index.html", "link"])
    assert r.rc == 0, r
    want = {name: (len(data), fnv(data)) for name, data in site[1].items()}
    assert listing(r) == want
    assert f"kv_tar: {len(want)} files" in r.out
    assert "FOUND index.html index.html" in r.out
    assert "FOUND ./sub//big.bin sub/big.bin" in r.out
    assert "FOUND /sub/./deeper/../big.bin sub/big.bin" in r.out
    assert "MISSING nope" in r.out and "MISSING ../index.html" in r.out
    assert "MISSING link" in r.out  # symbolic links are not files


def test_ustar_and_appended_copy(site, tmp_path):
    # ustar splits long names into prefix and name (only names it can
    # split: the long one is left out with an error from tar).
    root, files = site
    small = tmp_path / "small"
    (small / ("d" * 90)).mkdir(parents=True)
    (small / ("d" * 90) / ("f" * 90)).write_bytes(b"split name\n")
    (small / "again").write_bytes(b"first\n")
    archive = tmp_path / "ustar.tar"
    subprocess.run(["tar", "--format=ustar", "-cf", str(archive), "-C", str(small), "."],
                   check=True)
    (small / "again").write_bytes(b"second, longer\n")
    subprocess.run(["tar", "--format=ustar", "-rf", str(archive), "-C", str(small), "again"],
                   check=True)
    r = mount("hosted", archive)
    assert r.rc == 0, r
    assert listing(r) == {
        f"{'d' * 90}/{'f' * 90}": (11, fnv(b"split name\n")),
        "again": (15, fnv(b"second, longer\n")),  # the last copy wins
    }


def header_offsets(data):
    """The offsets of the headers in a well-formed archive."""
    off, out = 0, []
    while off + 512 <= len(data) and data[off:off + 512] != bytes(512):
        out.append(off)
        size = int(data[off + 124:off + 136].strip(b"\0 ") or b"0", 8)
        off += 512 + (size + 511) // 512 * 512
    return out


@pytest.mark.parametrize("target", TARGETS)
def test_malformed_archives_are_refused_with_the_offset(target, site, tmp_path):
    good = make_tar(site, tmp_path, "gnu").read_bytes()
    heads = header_offsets(good)
    assert len(heads) >= 6
    cases = []
    # A checksum that does not match, in the third header.
    bad = bytearray(good)
    bad[heads[2] + 148:heads[2] + 156] = b"0000000\0"
    cases.append((bad, f"offset {heads[2]}: bad checksum"))

    def with_field(off, start, value):
        b = bytearray(good)
        b[off + start:off + start + len(value)] = value
        b[off + 148:off + 156] = b" " * 8
        s = sum(b[off:off + 512])
        b[off + 148:off + 156] = b"%06o\0 " % s
        return b

    # A size that is not octal, and one past the end of the archive.
    cases.append((with_field(heads[1], 124, b"0000000009x\0"),
                  f"offset {heads[1]}: bad size field"))
    cases.append((with_field(heads[1], 124, b"77777777777\0"),
                  f"offset {heads[1]}: contents run past the end"))
    # A name that climbs out of the archive.
    cases.append((with_field(heads[1], 0, b"../../etc/passwd\0"),
                  f"offset {heads[1]}: file name empty or above the root"))
    # Cut in the middle of the big file's contents.
    big = max(heads, key=lambda o: int(good[o + 124:o + 136].strip(b"\0 ") or b"0", 8))
    cases.append((good[:big + 512 + 100_352], f"offset {big}: contents run past the end"))
    for n, (data, want) in enumerate(cases):
        path = tmp_path / f"bad{n}.tar"
        path.write_bytes(bytes(data))
        r = mount(target, path)
        assert r.rc == 3, (n, r)
        assert "kv_tar: error: malformed tar header at " + want in r.out, (n, r.out)


def test_pax_garbage_and_random_bytes_never_crash(tmp_path):
    def pax_archive(records):
        h = bytearray(512)
        h[0:9] = b"PaxHeader"
        h[124:136] = b"%011o\0" % len(records)
        h[156:157] = b"x"
        h[257:263] = b"ustar\0"
        h[148:156] = b" " * 8
        h[148:156] = b"%06o\0 " % sum(h)
        body = records + bytes(-len(records) % 512)
        return bytes(h) + body + bytes(1024)

    for records in (b"99 path=x\n", b"x path=y\n", b"5 a\n", b"12 pathx\n"):
        path = tmp_path / "pax.tar"
        path.write_bytes(pax_archive(records))
        r = mount("hosted", path)
        assert r.rc == 3 and "malformed tar header at offset 0" in r.out, (records, r)
    rnd = random.Random(5)
    for n in range(20):
        path = tmp_path / f"random{n}.tar"
        path.write_bytes(rnd.randbytes(512 * rnd.randint(1, 40)))
        r = mount("hosted", path)
        assert r.rc in (0, 3), (n, r)  # an archive of nothing, or refused
