"""Image arguments: "--" is skipped (include/ingot/net.h).

`ingot-kvm IMAGE -- --ipv4=...` hands the image "--" and "--ipv4=..."; the
hosted target sees the same when its own "--" comes first, as boot() puts
it.  Hosted, on the unprivileged UDP backend (no frame is sent to it)."""
import os
import subprocess

import pytest

from conftest import TARGETS, boot, image

APPS = {"echo": "echo: serving UDP port 7", "dns": "dns: serving UDP port 53"}


def serve(app, args):
    """Boots app until it serves (or ends); returns its status and output."""
    port = 40000 + os.getpid() % 20000
    proc = subprocess.Popen([image("hosted", app), "--net", f"service=udp:{port}:{port + 1}",
                             "--", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith(APPS[app]):
                proc.terminate()
                break
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    return proc.returncode, "".join(lines) + out, err


@pytest.mark.parametrize("app", APPS)
def test_double_dash_is_skipped(app):
    rc, out, err = serve(app, ["--", "--ipv4=10.0.0.2/24"])
    assert "usage" not in err, err
    assert "net: service 10.0.0.2 netmask 255.255.255.0\n" in out, (out, err)
    assert APPS[app] in out and rc == 0, (rc, out, err)


@pytest.mark.parametrize("app", APPS)
def test_arguments_after_double_dash_are_still_checked(app):
    rc, out, err = serve(app, ["--", "--ipv4=10.0.0.2/24", "--bogus"])
    # The guest's stderr is the console, the host's standard output.
    assert rc == 2 and f"usage: {app} " in out, (rc, out, err)
    assert APPS[app] not in out


@pytest.mark.parametrize("target", TARGETS)
def test_the_image_receives_double_dash(target):
    """What the tests above stand for: the args image prints its argv."""
    r = boot(target, "args", ["--", "--ipv4=10.0.0.2/24"], test=True)
    assert r.out == "argc=3\nargv[1]=--\nargv[2]=--ipv4=10.0.0.2/24\n", r
