"""ingot-oci, the OCI runtime: podman (--runtime) and containerd (ctr
--runc-binary) run the DNS appliance packed as an OCI image (FROM scratch
plus the .kvm file, built here by podman, no registry) on KVM, and it
answers at the container's address.

The container's network namespace is one the test makes, joined with
podman's --network ns:PATH and ctr's --with-ns: a veth pair from it to a
client namespace, where dig and ping run.  Nothing is sent outside them.
Where podman or containerd cannot run, the test says SKIPPED and why.
"""
import itertools
import json
import os
import shutil
import subprocess
import time

import pytest

from conftest import BUILD, ROOT
from netns import Netns

OCI = os.path.join(BUILD, "ingot-oci")
DNS = os.path.join(BUILD, "kvm", "dns.kvm")
PODMAN = ["podman", "--cgroup-manager=cgroupfs"]
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
ADDR, PEER = "10.81.0.2", "10.81.0.1"
pytestmark = pytest.mark.kvm
_calls = itertools.count()


def need(tool):
    if not shutil.which(tool):
        pytest.skip(f"SKIPPED: {tool} is not installed (tools/deps test installs it)")


@pytest.fixture
def nets():
    """The container's namespace (eth0, ADDR/24) and the client's (PEER)."""
    box, client = Netns(), Netns()
    try:
        box.ip("link", "add", "name", "eth0", "type", "veth", "peer", "name", "peer0",
               "netns", client.name)
        box.ip("addr", "add", f"{ADDR}/24", "dev", "eth0")
        box.ip("link", "set", "eth0", "up")
        client.ip("addr", "add", f"{PEER}/24", "dev", "peer0")
        client.ip("link", "set", "peer0", "up")
        yield box, client
        # The runtime gave everything back: no tap, no redirect, no state.
        out = subprocess.run(["ip", "-n", box.name, "link"], capture_output=True,
                             text=True).stdout
        assert "ingot0" not in out, out
        qd = subprocess.run(["tc", "-n", box.name, "qdisc"], capture_output=True,
                            text=True).stdout
        assert "ingress" not in qd, qd
    finally:
        box.close()
        client.close()


def answers(client, tries=3):
    r = client.run(["dig", f"@{ADDR}", "www.example.test", "+short", "+time=1",
                    f"+tries={tries}"])
    return r.stdout.strip()


def wait_answer(client, timeout=10):
    deadline = time.monotonic() + timeout
    while answers(client, tries=1) != "192.0.2.10":
        assert time.monotonic() < deadline, "the container does not answer"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """localhost/ingot-test-dns: FROM scratch plus dns.kvm, built by podman."""
    need("podman")
    ctx = tmp_path_factory.mktemp("image")
    shutil.copy(DNS, ctx / "dns.kvm")
    (ctx / "Containerfile").write_text('FROM scratch\nCOPY dns.kvm /dns.kvm\n'
                                       'ENTRYPOINT ["/dns.kvm"]\n')
    tag = f"localhost/ingot-test-dns-{os.getpid()}"
    r = subprocess.run([*PODMAN, "build", "-q", "-t", tag, str(ctx)],
                       capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"SKIPPED: podman cannot build images here: {r.stderr.strip()}")
    yield tag
    subprocess.run([*PODMAN, "rmi", "-f", tag], capture_output=True)


def podman(*args, check=True):
    r = subprocess.run([*PODMAN, *args], capture_output=True, text=True, timeout=60)
    assert not check or r.returncode == 0, r
    return r


def monitors():
    return subprocess.run(["pgrep", "-f", OCI.replace("ingot-oci", "ingot-kvm")],
                          capture_output=True, text=True).stdout.split()


def test_podman_runs_the_appliance(nets, image):
    box, client = nets
    name = f"ingot-test-{os.getpid()}"
    r = podman("run", "-d", "--name", name, "--runtime", OCI,
               "--network", f"ns:/run/netns/{box.name}", *ULIMITS, image)
    cid = r.stdout.strip()
    try:
        wait_answer(client)
        ping = client.run(["ping", "-c", "2", "-W", "1", ADDR])
        assert ping.returncode == 0, ping.stdout
        state = json.loads(subprocess.run([OCI, "state", cid], capture_output=True,
                                          text=True, check=True).stdout)
        assert state["status"] == "running" and state["pid"] > 0
        with open(f"/proc/{state['pid']}/cmdline", "rb") as f:
            assert b"ingot-kvm" in f.read().split(b"\0")[0]
        assert "dns: serving UDP port 53" in podman("logs", name).stdout
        podman("stop", name)
        info = json.loads(podman("inspect", name).stdout)[0]["State"]
        assert info["Status"] == "exited" and info["ExitCode"] == 0, info
        # The clean stop printed the guest's counters.
        log = podman("logs", name)
        assert "dns: queries by type: A=" in log.stdout + log.stderr
    finally:
        podman("rm", "-f", name, check=False)
    assert not os.path.exists(f"/run/ingot-oci/{cid}")
    assert answers(client, tries=1) != "192.0.2.10"


def test_podman_other_images(nets, image, tmp_path):
    """A container that is not an ingot image (as a pod's pause container)
    is handed to runc and runs as usual; a terminal for an ingot image is
    refused with the reason, and nothing is left half-started."""
    box, _ = nets
    shutil.copy(os.path.join(BUILD, "hosted", "hello"), tmp_path / "hello")
    (tmp_path / "Containerfile").write_text('FROM scratch\nCOPY hello /hello\n'
                                            'CMD ["/hello"]\n')
    tag = f"localhost/ingot-test-plain-{os.getpid()}"
    podman("build", "-q", "-t", tag, str(tmp_path))
    ids = []
    try:
        for args, ok in (([*ULIMITS, "--network", "none", tag], True),
                         (["-t", "--network", f"ns:/run/netns/{box.name}", *ULIMITS, image],
                          False)):
            cidfile = tmp_path / f"cid{len(ids)}"
            r = podman("run", "--rm", "--cidfile", str(cidfile), "--runtime", OCI, *args,
                       check=False)
            ids.append(cidfile.read_text().strip())
            if ok:
                assert r.returncode == 0 and "Hello from ingot!" in r.stdout, r
            else:
                assert r.returncode != 0 and "without -t" in r.stderr, r
    finally:
        podman("rmi", "-f", tag, check=False)
    assert not monitors()
    # Neither left state behind: ours or runc's.
    for cid in ids:
        assert not os.path.exists(f"/run/ingot-oci/{cid}")
        assert not os.path.exists(f"/run/ingot-oci/runc/{cid}")


def bundle(path, netns, args=("/dns.kvm",)):
    rootfs = path / "rootfs"
    rootfs.mkdir(parents=True)
    shutil.copy(DNS, rootfs / "dns.kvm")
    (path / "config.json").write_text(json.dumps({
        "ociVersion": "1.0.2", "root": {"path": "rootfs"},
        "process": {"args": list(args), "cwd": "/"},
        "linux": {"namespaces": [{"type": "network", "path": f"/run/netns/{netns}"}]},
    }))
    return str(path)


def oci(root, *args):
    """Runs the runtime; its output through files, since the container
    keeps create's standard output and error (the guest's console)."""
    n = next(_calls)
    with open(f"{root}.{n}.out", "w+") as out, open(f"{root}.{n}.err", "w+") as err:
        r = subprocess.run([OCI, "--root", str(root), *args], stdout=out, stderr=err,
                           text=True, timeout=30)
        out.seek(0)
        err.seek(0)
        r.stdout, r.stderr = out.read(), err.read()
    return r


def test_runtime_cli(nets, tmp_path):
    """The runtime's own commands, as an engine calls them."""
    box, client = nets
    root = tmp_path / "state"
    b = bundle(tmp_path / "b", box.name)
    r = oci(root, "create", "--bundle", b, "--pid-file", str(tmp_path / "pid"), "c1")
    assert r.returncode == 0, r
    pid = int((tmp_path / "pid").read_text())
    assert json.loads(oci(root, "state", "c1").stdout)["status"] == "created"
    assert oci(root, "create", "--bundle", b, "c1").returncode == 1
    assert oci(root, "start", "c1").returncode == 0
    assert json.loads(oci(root, "state", "c1").stdout)["status"] == "running"
    wait_answer(client)
    r = oci(root, "delete", "c1")
    assert r.returncode == 1 and "is running" in r.stderr
    assert oci(root, "kill", "c1", "SIGTERM").returncode == 0
    deadline = time.monotonic() + 10
    while json.loads(oci(root, "state", "c1").stdout)["status"] != "stopped":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}/cmdline") or \
        open(f"/proc/{pid}/stat").read().split(")")[1].split()[0] == "Z"
    assert oci(root, "kill", "c1", "NOSUCHSIG").returncode == 1
    assert oci(root, "delete", "c1").returncode == 0
    assert not (root / "c1").exists()
    r = oci(root, "state", "c1")
    assert r.returncode == 1 and "does not exist" in r.stderr


@pytest.mark.parametrize("config, why", [
    ("{not json", "not valid JSON"),
    ('{"root": {"path": "rootfs"}}', "no process"),
    ('{"root": {"path": "rootfs"}, "process": {"args": []}}', "process.args is empty"),
    ('{"root": {"path": "rootfs"}, "process": {"args": ["/nope.kvm"]}}',
     "not a readable ingot kvm image"),
    ('{"root": {"path": "rootfs"}, "process": {"args": ["dns.kvm"]}}',
     "not an absolute path"),
    ('{"root": {"path": "rootfs"}, "process": {"args": ["/dns.kvm"], "terminal": true}}',
     "without -t"),
    ('{"root": {"path": "rootfs"}, "process": {"args": ["/dns.kvm"]}}', "--network host"),
])
def test_invalid_config(tmp_path, config, why):
    b = tmp_path / "b"
    (b / "rootfs").mkdir(parents=True)
    shutil.copy(DNS, b / "rootfs" / "dns.kvm")
    (b / "config.json").write_text(config)
    root = tmp_path / "state"
    r = oci(root, "create", "--bundle", str(b), "bad")
    assert r.returncode == 1 and why in r.stderr, r
    assert not (root / "bad").exists()


@pytest.fixture
def containerd(tmp_path):
    """A containerd of the test's own (socket, root and state in tmp)."""
    need("containerd")
    need("ctr")
    sock = tmp_path / "ctrd.sock"
    proc = subprocess.Popen(["containerd", "-a", str(sock), "--root", str(tmp_path / "root"),
                             "--state", str(tmp_path / "cstate")],
                            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "ctrd.log", "w"))
    ctr = ["ctr", "-a", str(sock), "-n", "ingot-test"]
    deadline = time.monotonic() + 15
    while subprocess.run([*ctr, "version"], capture_output=True).returncode:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.skip("SKIPPED: containerd does not start here: "
                        + (tmp_path / "ctrd.log").read_text()[-500:])
        time.sleep(0.2)
    yield ctr
    proc.terminate()
    proc.wait(15)


def test_ctr_runs_the_appliance(nets, image, containerd, tmp_path):
    box, client = nets
    ctr = containerd
    archive = tmp_path / "image.tar"
    podman("save", "--format", "docker-archive", "-o", str(archive), image)
    subprocess.run([*ctr, "images", "import", str(archive)], check=True,
                   capture_output=True)
    ref = image + ":latest"
    r = subprocess.run([*ctr, "run", "-d", "--runc-binary", OCI, "--with-ns",
                        f"network:/run/netns/{box.name}", ref, "c1"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r
    try:
        wait_answer(client)
        tasks = subprocess.run([*ctr, "task", "ls"], capture_output=True, text=True).stdout
        assert "RUNNING" in tasks, tasks
        subprocess.run([*ctr, "task", "kill", "c1"], check=True)
        deadline = time.monotonic() + 10
        while "STOPPED" not in subprocess.run([*ctr, "task", "ls"], capture_output=True,
                                              text=True).stdout:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        subprocess.run([*ctr, "task", "delete", "-f", "c1"], capture_output=True)
        subprocess.run([*ctr, "container", "delete", "c1"], capture_output=True)
    assert answers(client, tries=1) != "192.0.2.10"
