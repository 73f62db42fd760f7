"""apps/http serving the files of a tar archive (made by plain tar) on its
block device "site", through the same answers as the files compiled in:
every file fetched and compared byte for byte (one of a few MiB, a nested
directory, a name that needs percent-encoding), media types by extension,
validators from the tar headers, ranges, conditional requests, HEAD,
directory redirects and 404; the disk's file winning over the image's of
the same path; a file larger than the guest's memory streamed; a
malformed archive refused at start with the offset of its bad header.
Each test's guest runs in a namespace of its own (tests/netns.py) on each
target that has block devices (conftest.TARGETS, and QEMU: tests/qemu.py)."""
import email.utils
import hashlib
import os
import random
import re
import subprocess

import pytest

from netns import Guest, Netns
from qemu import ALL_TARGETS as ALL
from qemu import VIRTIO_Q35
from test_http import ARGS, GUEST, SITE, curl

MTIME = 1_700_000_000  # Tue, 14 Nov 2023 22:13:20 GMT
BIG = 3 * 1024 * 1024 + 123  # several of the server's 16 KiB chunks


def make_tree(root):
    """URL path -> bytes of the tree written under root."""
    rnd = random.Random(11)
    files = {
        "/index.html": b"<html><body>the disk's index</body></html>\n",
        "/notes.txt": b"plain text\n" * 50,
        "/style.css": b"body { color: black }\n",
        "/big.bin": rnd.randbytes(BIG),
        "/nested/dir/index.html": b"<html>nested index</html>\n",
        "/nested/dir/data.json": b'{"a": 1}\n',
        "/with space.txt": b"a name with a space\n",
        "/empty.txt": b"",
    }
    for path, data in files.items():
        full = os.path.join(root, path[1:])
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
        os.utime(full, (MTIME, MTIME))
    return files


def make_tar(tmp, files_from=make_tree):
    root = os.path.join(tmp, "site")
    os.makedirs(root)
    files = files_from(root)
    tar = os.path.join(tmp, "site.tar")
    subprocess.run(["tar", "-cf", tar, "-C", root, "."], check=True)
    return tar, files


def boot(ns, target, tar, mem="256M"):
    ns.tap("tap0", "10.0.0.1/24")
    return Guest(ns, target, "http", ["service=tap0"], ARGS,
                 mon_args=["--mem", mem, "--block", f"site={tar},ro"])


# On QEMU the drive is a virtio-blk device: virtio-mmio on microvm,
# virtio-pci on q35.
@pytest.fixture(scope="module", params=[*ALL, VIRTIO_Q35])
def server(request, tmp_path_factory):
    tar, files = make_tar(str(tmp_path_factory.mktemp("tar")))
    ns = Netns()
    try:
        g = boot(ns, request.param, tar)
        g.wait_for(r"^http: 8 files \(\d+ bytes\) from the tar archive on block device site$")
        g.wait_for(r"^http: serving")
        yield ns, g, files
        assert g.stop() == 0
    finally:
        ns.close()


TYPES = {".html": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".json": "application/json",
         ".bin": "application/octet-stream"}
LAST_MODIFIED = email.utils.formatdate(MTIME, usegmt=True)


def url(path):
    return path.replace(" ", "%20")


def test_every_file_byte_for_byte(server):
    ns, g, files = server
    for path, data in files.items():
        r = curl(ns, "-H", "Accept-Encoding: gzip, br", path=url(path))
        assert r.status == 200, (path, r)
        assert r.body == data, path
        h = r.headers
        assert int(h["content-length"]) == len(data)
        assert h["content-type"] == TYPES[os.path.splitext(path)[1]], (path, h)
        assert h["last-modified"] == LAST_MODIFIED
        m = re.fullmatch(r'"t([0-9a-f]+)-([0-9a-f]+)-([0-9a-f]+)"', h["etag"])
        assert m and int(m.group(2), 16) == len(data) and int(m.group(3), 16) == MTIME, h
        assert "content-encoding" not in h and "vary" not in h
        assert h["accept-ranges"] == "bytes"
    # Directories' indexes, and the disk's index over the image's.
    assert curl(ns, path="/").body == files["/index.html"]
    assert curl(ns, path="/nested/dir/").body == files["/nested/dir/index.html"]
    # What the disk lacks comes from the image.
    with open(os.path.join(SITE, "logo.svg"), "rb") as f:
        r = curl(ns, path="/logo.svg")
        assert r.status == 200 and r.body == f.read()


def test_ranges_on_a_disk_file(server):
    ns, g, files = server
    big = files["/big.bin"]
    for spec, first, last in (("1000-2999", 1000, 2999), ("16000-70000", 16000, 70000),
                              ("-100", BIG - 100, BIG - 1), (f"{BIG - 5}-", BIG - 5, BIG - 1),
                              ("0-0", 0, 0)):
        r = curl(ns, "-H", f"Range: bytes={spec}", path="/big.bin")
        assert r.status == 206, (spec, r)
        assert r.headers["content-range"] == f"bytes {first}-{last}/{BIG}"
        assert r.body == big[first:last + 1], spec
    r = curl(ns, "-H", f"Range: bytes={BIG}-", path="/big.bin")
    assert r.status == 416 and r.headers["content-range"] == f"bytes */{BIG}"
    etag = curl(ns, "-I", path="/big.bin").headers["etag"]
    r = curl(ns, "-H", "Range: bytes=10-19", "-H", f"If-Range: {etag}", path="/big.bin")
    assert r.status == 206 and r.body == big[10:20]
    r = curl(ns, "-H", "Range: bytes=10-19", "-H", 'If-Range: "t0-0-0"', path="/big.bin")
    assert r.status == 200 and r.body == big


def test_conditional_requests_on_a_disk_file(server):
    ns, g, files = server
    etag = curl(ns, "-I", path="/notes.txt").headers["etag"]
    r = curl(ns, "-H", f"If-None-Match: {etag}", path="/notes.txt")
    assert r.status == 304 and r.body == b"" and r.headers["etag"] == etag
    r = curl(ns, "-H", f"If-Modified-Since: {LAST_MODIFIED}", path="/notes.txt")
    assert r.status == 304 and r.body == b""
    earlier = email.utils.formatdate(MTIME - 1, usegmt=True)
    r = curl(ns, "-H", f"If-Modified-Since: {earlier}", path="/notes.txt")
    assert r.status == 200 and r.body == files["/notes.txt"]
    r = curl(ns, "-H", 'If-Match: "t0-0-0"', path="/notes.txt")
    assert r.status == 412
    r = curl(ns, "-H", f"If-Match: {etag}", path="/notes.txt")
    assert r.status == 200


def test_head_redirect_and_404(server):
    ns, g, files = server
    r = curl(ns, "-I", path="/big.bin")
    assert r.status == 200 and int(r.headers["content-length"]) == BIG and r.body == b""
    r = curl(ns, path="/nested/dir?x=1")
    assert r.status == 301 and r.headers["location"] == "/nested/dir/?x=1"
    r = curl(ns, path="/nested")  # a directory with no index
    assert r.status == 404
    r = curl(ns, path="/nested/dir/missing.txt")
    assert r.status == 404
    r = curl(ns, path="/nested/../notes.txt")
    assert r.status == 200 and r.body == files["/notes.txt"]


@pytest.mark.parametrize("target", ALL)
def test_a_file_larger_than_memory_streams(target, tmp_path):
    """A file larger than the guest's memory (192 MiB: about the smallest
    that holds the default build's 10,251 fiber stacks on both targets) is
    read in chunks."""
    mem = 192
    size = (mem + 32) << 20

    def tree(root):
        with open(os.path.join(root, "huge.bin"), "wb") as f:
            block = random.Random(5).randbytes(1 << 20)
            for i in range(size >> 20):
                f.write(bytes([i]) + block[1:])
        return {}

    tar, _ = make_tar(str(tmp_path), tree)
    with open(os.path.join(tmp_path, "site", "huge.bin"), "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    ns = Netns()
    try:
        g = boot(ns, target, tar, mem=f"{mem}M")
        g.wait_for(r"^http: serving")
        out = os.path.join(tmp_path, "got")
        os.chmod(tmp_path, 0o777)
        r = ns.run(["curl", "-s", "-S", "--max-time", "60", "-o", out,
                    f"http://{GUEST}/huge.bin"], timeout=90)
        assert r.returncode == 0, r.stderr
        assert os.path.getsize(out) == size
        with open(out, "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == want
        assert g.stop() == 0
    finally:
        ns.close()


@pytest.mark.parametrize("target", ALL)
def test_a_malformed_tar_is_refused_with_its_offset(target, tmp_path):
    tar, _ = make_tar(str(tmp_path))
    with open(tar, "r+b") as f:
        data = bytearray(f.read())
        # The second header: after the first and its contents.
        size = int(data[124:136].strip(b"\0 ") or b"0", 8)
        second = 512 + (size + 511) // 512 * 512
        data[second + 148:second + 156] = b"garbage!"  # its checksum
        f.seek(0)
        f.write(data)
    ns = Netns()
    try:
        g = boot(ns, target, tar)
        rc = g.wait(timeout=30)
        assert rc == 1, (rc, g.out, g.err)
        msg = f"http: the tar archive on block device site: malformed tar header at offset {second}: "
        assert any(line.startswith(msg) for line in g.out), (g.out, g.err)
        assert not any(line.startswith("http: serving") for line in g.out)
    finally:
        ns.close()
