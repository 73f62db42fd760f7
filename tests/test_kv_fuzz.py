"""libFuzzer over the storage parsers (tests/fuzz/kv_fuzz.c): apps/kv's RESP
parser, lib/kv's tar indexer and its log record scan (recovery), for a
bounded time, from seeds that reach deep: requests, an archive made by tar,
a segment of well-formed records.  `make fuzz-kv` runs it for longer."""
import os
import struct
import subprocess
import tempfile

from conftest import BUILD
from test_fuzz import run_fuzzer

FUZZER = os.path.join(BUILD, "fuzz", "kv_fuzz")


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def record(epoch, kind, key, value, expire=0):
    body = struct.pack("<QBBHIq", epoch, kind, 0, len(key), len(value), expire) + key + value
    body += bytes(-(8 + len(body)) % 8)
    return struct.pack("<II", 0x4352564B, crc32c(body)) + body


def segment_seed():
    epoch = 7
    seg = bytearray(512)  # the header's sector, not read by the scan
    for i in range(20):
        seg += record(epoch, 1, b"key%d" % i, b"value %d" % i * 3)
    seg += record(epoch, 2, b"key3", b"")
    seg += record(epoch, 1, b"key4", b"", expire=1)
    torn = record(epoch, 1, b"torn", b"x" * 100)
    seg += torn[:60]
    return bytes([2]) + struct.pack("<Q", epoch) + bytes(seg)


def tar_seed(tmp):
    src = os.path.join(tmp, "src")
    os.makedirs(os.path.join(src, "d" * 120))
    for name, data in (("a.txt", b"hello\n"), ("d" * 120 + "/long", b"x" * 700)):
        with open(os.path.join(src, name), "wb") as f:
            f.write(data)
    out = {}
    for fmt in ("gnu", "pax"):
        path = os.path.join(tmp, f"{fmt}.tar")
        subprocess.run(["tar", f"--format={fmt}", "-cf", path, "-C", src, "."], check=True)
        out[f"tar_{fmt}"] = bytes([1]) + open(path, "rb").read()
    return out


def test_fuzz_storage_parsers():
    with tempfile.TemporaryDirectory(prefix="ingot-fuzz-kv-") as d:
        seeds = tar_seed(d)
    seeds["resp"] = b"\0*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\nPING\r\n*1\r\n$4\r\nPING\r\n"
    seeds["segment"] = segment_seed()
    run_fuzzer(FUZZER, seeds)
