"""tools/dir2c compiles a web root into C (lib/http/site.h): the sample
site's C compiles into a checker that finds every file by its path and
gives back its bytes, type, validators and variants; bad trees fail with
the path and the reason."""
import email.utils
import gzip
import os
import shutil
import subprocess

import pytest

from conftest import BUILD, ROOT

DIR2C = os.path.join(BUILD, "tools", "dir2c")
SITE = os.path.join(ROOT, "apps", "http", "site")
DEFAULT_MAX = 256 << 20

CHECKER = r"""
#include <brotli/decode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/http/site.h"

static int bad(unsigned i, const char *what)
{
	fprintf(stderr, "entry %u (%s): %s\n", i, http_files[i].path, what);
	return 1;
}

static void dump(const char *dir, unsigned i, const char *ext,
		 const uint8_t *p, size_t n)
{
	char name[4096];
	snprintf(name, sizeof name, "%s/%u.%s", dir, i, ext);
	FILE *f = fopen(name, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0)
		exit(3);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	for (unsigned i = 0; i < http_nfiles; i++) {
		const struct http_file *f = &http_files[i];
		const struct http_body *b = f->body;
		if (f->path_len != strlen(f->path) || f->path[0] != '/')
			return bad(i, "path");
		if (i && http_path_cmp(http_files[i - 1].path,
				       http_files[i - 1].path_len, f->path,
				       f->path_len) >= 0)
			return bad(i, "not sorted");
		if (http_site_find(f->path, f->path_len) != f)
			return bad(i, "not found by its path");
		if (f->type_len != strlen(f->type))
			return bad(i, "type_len");
		if (strlen(f->last_modified) != HTTP_DATE_LEN)
			return bad(i, "last_modified");
		if (!b[0].data || b[0].data[b[0].len] != 0)
			return bad(i, "identity body");
		for (int e = 0; e < HTTP_ENC_COUNT; e++)
			if (b[e].data && b[e].etag_len != strlen(b[e].etag))
				return bad(i, "etag_len");
		printf("%s\t%s\t%s\t%s\t%lld\t%u\t%llu\t%s\t%s\n", f->path,
		       f->type, b[0].etag, f->last_modified,
		       (long long)f->mtime, f->flags,
		       (unsigned long long)b[0].len,
		       b[1].data ? b[1].etag : "-", b[2].data ? b[2].etag : "-");
		dump(argv[1], i, "id", b[0].data, b[0].len);
		if (b[1].data)
			dump(argv[1], i, "gz", b[1].data, b[1].len);
		if (b[2].data) {
			size_t n = 4 * b[0].len + 64;
			uint8_t *out = malloc(n);
			if (BrotliDecoderDecompress(b[2].len, b[2].data, &n,
						    out) != BROTLI_DECODER_RESULT_SUCCESS)
				return bad(i, "brotli does not decode");
			dump(argv[1], i, "br", b[2].data, b[2].len);
			dump(argv[1], i, "brdec", out, n);
			free(out);
		}
	}
	if (http_site_find("/nope", 5) || http_site_find("", 0))
		return bad(0, "found what is not there");
	return 0;
}
"""


@pytest.fixture(scope="module")
def dir2c():
    r = subprocess.run(["make", "-s", f"BUILD={BUILD}", DIR2C], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return DIR2C


def run_dir2c(dir2c, root, *args, out=None, nocaps=False):
    argv = [dir2c, *args, "-o", str(out), str(root)] if out else [dir2c, *args, str(root)]
    # root reads every file whatever its mode: drop that power so an
    # unreadable file is unreadable.
    if nocaps and os.getuid() == 0:
        argv = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *argv]
    return subprocess.run(argv, capture_output=True)


def compile_site(dir2c, root, tmp_path):
    """dir2c's C for root, linked into the checker; its entries by path."""
    site_c = tmp_path / "site.c"
    r = run_dir2c(dir2c, root, out=site_c)
    assert r.returncode == 0, r.stderr.decode()
    (tmp_path / "checker.c").write_text(CHECKER)
    exe = tmp_path / "checker"
    cc = subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-I", ROOT,
                         "-o", str(exe), str(tmp_path / "checker.c"), str(site_c),
                         "-lbrotlidec"], capture_output=True, text=True)
    assert cc.returncode == 0, cc.stderr[-3000:]
    dump = tmp_path / "dump"
    dump.mkdir()
    r = subprocess.run([str(exe), str(dump)], capture_output=True)
    assert r.returncode == 0, r.stderr.decode()
    entries = {}
    for i, line in enumerate(r.stdout.decode().splitlines()):
        path, ctype, etag, lm, mtime, flags, length, etag_gz, etag_br = line.split("\t")
        e = dict(type=ctype, etag=etag, lm=lm, mtime=int(mtime), flags=int(flags),
                 len=int(length), etag_gz=etag_gz, etag_br=etag_br,
                 body=(dump / f"{i}.id").read_bytes())
        for ext in ("gz", "br", "brdec"):
            p = dump / f"{i}.{ext}"
            e[ext] = p.read_bytes() if p.exists() else None
        entries[path] = e
    return entries


def tree_files(root):
    """URL path -> (bytes, mtime) of every file under root, index aliases too."""
    files = {}
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            url = "/" + os.path.relpath(p, root)
            with open(p, "rb") as f:
                files[url] = (f.read(), int(os.stat(p).st_mtime))
            if n == "index.html":
                files[url[:-len("index.html")]] = files[url]
    return files


def brotli_decode(data):
    if shutil.which("brotli"):
        return subprocess.run(["brotli", "-dc"], input=data, capture_output=True,
                              check=True).stdout
    try:
        import brotli
    except ImportError:
        return None  # the checker, linked with libbrotli, decoded it
    return brotli.decompress(data)


TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".svg": "image/svg+xml", ".txt": "text/plain; charset=utf-8",
         ".bin": "application/octet-stream", "/": "text/html; charset=utf-8"}


def test_the_sample_site_round_trips(dir2c, tmp_path):
    entries = compile_site(dir2c, SITE, tmp_path)
    files = tree_files(SITE)
    assert sorted(entries) == sorted(files)
    assert {"/", "/docs/", "/index.html", "/docs/index.html", "/style.css",
            "/logo.svg", "/words.txt", "/noise.bin"} <= set(entries)
    for path, e in entries.items():
        data, mtime = files[path]
        assert e["body"] == data and e["len"] == len(data), path
        ext = "/" if path.endswith("/") else os.path.splitext(path)[1]
        assert e["type"] == TYPES[ext], path
        assert e["flags"] == (1 if path.endswith("/") else 0), path
        assert e["mtime"] == mtime
        assert e["lm"] == email.utils.formatdate(mtime, usegmt=True), path
        assert e["etag"].startswith('"') and e["etag"].endswith('"'), path
        if e["gz"] is not None:
            assert len(e["gz"]) < len(data), path
            assert gzip.decompress(e["gz"]) == data, path
            assert e["etag_gz"] not in ("-", e["etag"]), path
        if e["br"] is not None:
            assert len(e["br"]) < len(data), path
            assert e["brdec"] == data, path
            dec = brotli_decode(e["br"])
            assert dec is None or dec == data, path
            assert e["etag_br"] not in ("-", e["etag"], e["etag_gz"]), path
    # The text compresses both ways; the random bytes are not tried.
    assert entries["/words.txt"]["gz"] and entries["/words.txt"]["br"]
    assert entries["/noise.bin"]["gz"] is None and entries["/noise.bin"]["br"] is None
    assert entries["/docs/"]["etag"] == entries["/docs/index.html"]["etag"]
    tags = {e["etag"] for p, e in entries.items() if not p.endswith("/")}
    assert len(tags) == len(entries) - 2  # every file's bytes differ


def test_etags_follow_the_bytes(dir2c, tmp_path):
    site = tmp_path / "site"
    (site / "d").mkdir(parents=True)
    (site / "a.txt").write_text("same bytes\n")
    (site / "d" / "b.txt").write_text("same bytes\n")
    (site / "c.txt").write_text("other bytes\n")
    (site / "e.txt").write_text("")
    os.utime(site / "d" / "b.txt", (1000000000, 1000000000))
    (tmp_path / "1").mkdir()
    first = compile_site(dir2c, site, tmp_path / "1")
    assert first["/a.txt"]["etag"] == first["/d/b.txt"]["etag"]
    assert first["/a.txt"]["etag"] != first["/c.txt"]["etag"]
    assert first["/e.txt"]["body"] == b"" and first["/e.txt"]["gz"] is None
    assert first["/d/b.txt"]["lm"] == "Sun, 09 Sep 2001 01:46:40 GMT"
    # Another build, other mtimes: the same tags.
    os.utime(site / "a.txt", (1500000000, 1500000000))
    (tmp_path / "2").mkdir()
    second = compile_site(dir2c, site, tmp_path / "2")
    for p in first:
        assert first[p]["etag"] == second[p]["etag"], p
    (site / "c.txt").write_text("other bytez\n")
    (tmp_path / "3").mkdir()
    third = compile_site(dir2c, site, tmp_path / "3")
    assert third["/c.txt"]["etag"] != first["/c.txt"]["etag"]


def test_symlinks_inside_the_tree_are_followed(dir2c, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "real.css").write_text("a { color: red }\n")
    os.symlink("real.css", site / "alias.css")
    e = compile_site(dir2c, site, tmp_path)
    assert e["/alias.css"]["body"] == e["/real.css"]["body"]
    assert e["/alias.css"]["etag"] == e["/real.css"]["etag"]


def test_odd_but_valid_names(dir2c, tmp_path):
    site = tmp_path / "site"
    (site / "x*").mkdir(parents=True)
    (site / "x*" / "a b.txt").write_text("space\n")
    (site / "x*" / "caf\u00e9 \u2603.html").write_text("<p>utf-8</p>\n")
    (site / "x*" / "index.html").write_text("*/ not a comment end\n")
    (site / "noext").write_bytes(b"\0\1\2?\\\"")
    e = compile_site(dir2c, site, tmp_path)
    assert sorted(e) == sorted(tree_files(site))
    assert e["/x*/"]["body"] == b"*/ not a comment end\n"
    assert e["/x*/caf\u00e9 \u2603.html"]["type"] == "text/html; charset=utf-8"
    assert e["/noext"]["type"] == "application/octet-stream"
    assert e["/noext"]["body"] == b"\0\1\2?\\\""
    # The same tree gives the same C.
    a, b = tmp_path / "a.c", tmp_path / "b.c"
    assert run_dir2c(dir2c, site, out=a).returncode == 0
    assert run_dir2c(dir2c, site, out=b).returncode == 0
    assert a.read_bytes() == b.read_bytes()


def bad_tree(tmp_path, make):
    site = tmp_path / "site"
    site.mkdir()
    (site / "ok.html").write_text("<p>fine</p>\n")
    return site, make(site)


def fifo(site):
    os.mkfifo(site / "pipe")
    return site / "pipe"


def unreadable_file(site):
    (site / "secret.txt").write_text("x")
    os.chmod(site / "secret.txt", 0)
    return site / "secret.txt"


def unreadable_dir(site):
    (site / "locked").mkdir()
    (site / "locked" / "f.txt").write_text("x")
    os.chmod(site / "locked", 0)
    return site / "locked"


def named(name):
    def make(site):
        p = os.path.join(os.fsencode(site), name)
        with open(p, "wb") as f:
            f.write(b"x")
        return os.fsdecode(p)
    return make


def collision(site):
    (site / "Page.html").write_text("a")
    (site / "page.html").write_text("b")
    return site / "page.html"  # either one is named


def symlink_out(site):
    outside = site.parent / "outside.txt"
    outside.write_text("private\n")
    os.symlink("../outside.txt", site / "leak.txt")
    return site / "leak.txt"


def symlink_abs(site):
    os.symlink("/etc/hostname", site / "host.txt")
    return site / "host.txt"


def symlink_dir(site):
    (site / "sub").mkdir()
    os.symlink("sub", site / "loop")
    return site / "loop"


def dangling(site):
    os.symlink("missing.html", site / "gone.html")
    return site / "gone.html"


BAD = [
    ("fifo", fifo, "not a regular file"),
    ("unreadable file", unreadable_file, "cannot read"),
    ("unreadable directory", unreadable_dir, "cannot read directory"),
    ("control character", named(b"a\x01b.html"), "control character 0x01"),
    ("tab", named(b"a\tb.html"), "control character 0x09"),
    ("DEL", named(b"a\x7fb.html"), "control character 0x7f"),
    ("percent", named(b"100%.html"), "'%' in a name"),
    ("question mark", named(b"why?.html"), "'?' in a name"),
    ("hash", named(b"a#b.html"), "'#' in a name"),
    ("backslash", named(b"a\\b.html"), "'\\' in a name"),
    ("not UTF-8", named(b"caf\xe9.html"), "not UTF-8"),
    ("overlong UTF-8", named(b"\xc0\xaf.html"), "not UTF-8"),
    ("surrogate", named(b"\xed\xa0\x80.html"), "not UTF-8"),
    ("collision", collision, "collides with"),
    ("symlink out of the tree", symlink_out, "a symlink leaving the tree"),
    ("absolute symlink out", symlink_abs, "a symlink leaving the tree"),
    ("symlink to a directory", symlink_dir, "a symlink to a directory"),
    ("dangling symlink", dangling, "a symlink that cannot be followed"),
]


@pytest.mark.parametrize("make,reason", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_trees_fail_with_path_and_reason(dir2c, tmp_path, make, reason):
    site, path = bad_tree(tmp_path, make)
    out = tmp_path / "out.c"
    r = run_dir2c(dir2c, site, out=out, nocaps=True)
    err = r.stderr.decode(errors="surrogateescape")
    assert r.returncode != 0, err
    if make is collision:
        assert "page.html: collides with" in err.lower(), err
    else:
        assert err.startswith(f"{path}: "), err
    assert reason in err, err
    assert len(err.splitlines()) == 1, err
    assert not out.exists()


def test_the_root_must_be_a_directory(dir2c, tmp_path):
    r = run_dir2c(dir2c, tmp_path / "missing")
    assert r.returncode != 0 and b"missing: cannot stat" in r.stderr


def test_a_tree_over_the_limit_is_refused(dir2c, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "a.bin").write_bytes(b"a" * 600)
    (site / "b.bin").write_bytes(b"b" * 400)
    assert run_dir2c(dir2c, site, "-m", "1000").returncode == 0
    r = run_dir2c(dir2c, site, "-m", "999")
    assert r.returncode != 0
    assert b"over the limit of 999 bytes" in r.stderr, r.stderr


def test_a_file_just_over_the_default_limit_is_refused(dir2c, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    big = site / "big.bin"
    # Sparse: the size is refused before any byte is read.
    with open(big, "wb") as f:
        f.truncate(DEFAULT_MAX + 1)
    r = run_dir2c(dir2c, site, "-o", str(tmp_path / "out.c"))
    assert r.returncode != 0
    assert r.stderr.decode().startswith(f"{big}: the tree is over the limit of {DEFAULT_MAX} bytes")
    assert not (tmp_path / "out.c").exists()
