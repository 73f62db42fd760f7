"""Every global symbol a library defines carries its library's prefix.

An image is one static link of the app, the platform and the libraries, so
a global name is shared by all of them: an app that defines `format` would
silently replace a libc function of that name, or fail to link.  The rule:

- a library's globals start with one of its prefixes (PREFIXES; a library
  not listed there uses its folder's name and `_`, so lib/blk exports blk_*),
  or with `ingot_` (the platform ABI's prefix, include/ingot/abi.h);
- lib/net's prefixes are its own and its protocols' (net_, pkt_, eth_, arp_,
  ipv4_, icmp_, udp_, tcp_, dhcp_, nat_): the names its public header and its files use;
- libc defines, besides libc_*, exactly the standard names in LIBC_STANDARD.

Everything else is static, or renamed.  The archives are found by globbing
the build directory, wherever the build puts them; one older than a source
of its library is left out, since it is not what the sources build (an
archive of an earlier layout, say).
"""
import glob
import os
import re
import subprocess

from conftest import BUILD, ROOT

PREFIXES = {
    "libc": ("libc_",),
    "sched": ("sched_",),
    "net": ("net_", "pkt_", "eth_", "arp_", "ipv4_", "icmp_", "udp_", "tcp_", "dhcp_", "nat_"),
    "dns": ("dns_",),
}
ABI_PREFIX = "ingot_"

# What lib/libc provides under the C standard's own names (ISO C11, and the
# POSIX and BSD additions include/ingot/libc.h lists), and the three hooks the
# compiler calls by name: assert's target and the stack protector's.
LIBC_STANDARD = {
    # <ctype.h>
    "isalnum", "isalpha", "isblank", "iscntrl", "isdigit", "isgraph",
    "islower", "isprint", "ispunct", "isspace", "isupper", "isxdigit",
    "tolower", "toupper",
    # <errno.h>
    "errno",
    # <stdio.h>
    "stdout", "stderr", "printf", "fprintf", "sprintf", "snprintf",
    "vprintf", "vfprintf", "vsprintf", "vsnprintf", "putchar", "putc",
    "fputc", "puts", "fputs", "fwrite", "fflush",
    # <stdlib.h>
    "malloc", "calloc", "realloc", "free", "aligned_alloc", "posix_memalign",
    "strtol", "strtoll", "strtoul", "strtoull", "atoi", "atol", "abs", "labs",
    "llabs", "qsort", "bsearch", "exit", "atexit", "abort",
    # <string.h>, <strings.h>
    "memcpy", "memmove", "memset", "memcmp", "memchr", "strlen", "strnlen",
    "strcmp", "strncmp", "strcasecmp", "strncasecmp", "strchr", "strrchr",
    "strstr", "strspn", "strcspn", "strncpy", "strlcpy", "strdup", "strndup",
    "strtok_r", "strerror",
    # compiler hooks
    "__assert_fail", "__stack_chk_fail", "__stack_chk_guard",
}

ARCHIVE = re.compile(r"^lib(\w+)\.a$")


def newest_source(library):
    """When lib/LIBRARY last changed (forever ahead if it is gone)."""
    times = [os.path.getmtime(f) for f in glob.glob(os.path.join(ROOT, "lib", library, "*"))
             if os.path.isfile(f)]
    return max(times, default=float("inf"))


def archives():
    """{library: [archive paths]} for every up-to-date lib*.a under the build."""
    found = {}
    for path in glob.glob(os.path.join(BUILD, "**", "lib*.a"), recursive=True):
        m = ARCHIVE.match(os.path.basename(path))
        if m and os.path.getmtime(path) >= newest_source(m.group(1)):
            found.setdefault(m.group(1), []).append(path)
    return found


def defined_globals(path):
    """{symbol: member} for the global symbols the archive defines."""
    out = subprocess.run(["nm", "-A", "-g", "--defined-only", "-P", path],
                         capture_output=True, text=True, check=True).stdout
    symbols = {}
    for line in out.splitlines():
        where, _, rest = line.partition(": ")
        member = where[where.find("[") + 1:-1] if where.endswith("]") else where
        symbols[rest.split()[0]] = member
    return symbols


def allowed(library, symbol):
    if symbol.startswith(ABI_PREFIX):
        return True
    if library == "libc" and symbol in LIBC_STANDARD:
        return True
    return symbol.startswith(PREFIXES.get(library, (library + "_",)))


def test_the_rule_itself():
    """The check would catch what it is for."""
    assert not allowed("libc", "format")
    assert not allowed("sched", "sched") and not allowed("sched", "loop_next")
    assert not allowed("net", "csum_add") and not allowed("net", "ip_route")
    assert not allowed("net", "memcpy") and not allowed("dns", "strlen")
    assert not allowed("blk", "kv_get") and allowed("blk", "blk_read")
    assert allowed("libc", "memcpy") and allowed("net", "ipv4_route")
    assert allowed("sched", "ingot_main")


def test_every_library_global_carries_its_prefix():
    libs = archives()
    assert {"libc", "sched", "net"} <= libs.keys(), \
        f"no up-to-date library archives under {BUILD} (run make): {libs}"
    bad = []
    for library, paths in sorted(libs.items()):
        for path in paths:
            for symbol, member in sorted(defined_globals(path).items()):
                if not allowed(library, symbol):
                    bad.append(f"{os.path.relpath(path, BUILD)}({member}): {symbol}")
    assert not bad, "globals outside their library's prefixes " \
        "(rename them or make them static):\n  " + "\n  ".join(bad)


def test_the_libc_allowlist_names_only_what_libc_defines():
    """A name libc no longer defines leaves the list, so that the list
    stays the exact set of standard names an app must not reuse."""
    defined = set()
    for path in archives().get("libc", []):
        defined |= defined_globals(path).keys()
    assert defined, f"no liblibc.a under {BUILD} (run make)"
    assert not LIBC_STANDARD - defined, sorted(LIBC_STANDARD - defined)
