"""bench/http's servers under test, their site and their network.

The appliance (apps/http on ingot-kvm, behind a tap device in the client's
namespace) and Debian's nginx (one worker, sendfile on, access_log off,
keep-alive as default, in a namespace of its own behind a veth pair) serve
one tree; both are pinned to CPU 1, the clients run on CPU 0.
"""
import os
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
OUT = os.path.join(BUILD, "bench-http")
NS = f"ingot-bench-http-{os.getpid()}"
CLIENT, LINUX_NS = NS + "-c", NS + "-l"
GUEST, NGINX = "10.0.0.2", "10.0.1.2"
FILES = {"612 B page": "/index.html", "100 KiB file": "/100k.bin"}
MEM = "256M"

NGINX_CONF = """
user root;
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log;
worker_rlimit_nofile 8192;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    types {{ text/html html; }}
    default_type application/octet-stream;
    server {{ listen {addr}:80 backlog=4096; root {root}; }}
}}
"""


def sh(*argv, check=True, **kw):
    return subprocess.run(argv, check=check, capture_output=True, text=True, **kw)


def in_ns(ns, *argv):
    return ["ip", "netns", "exec", ns, *argv]


def make_site(d):
    """nginx's own welcome page is 612 bytes; a 100 KiB file of noise."""
    root = os.path.join(d, "www")
    os.makedirs(root)
    page = (b"<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome</title>\n</head>\n<body>\n"
            b"<h1>Welcome</h1>\n<p>")
    tail = b"</p>\n</body>\n</html>\n"
    page += b"x" * (612 - len(page) - len(tail)) + tail
    assert len(page) == 612
    with open(os.path.join(root, "index.html"), "wb") as f:
        f.write(page)
    with open(os.path.join(root, "100k.bin"), "wb") as f:
        f.write(os.urandom(100 * 1024))
    os.chmod(d, 0o755)
    return root


def build(root):
    r = sh("make", "-s", "-C", ROOT, f"BUILD={OUT}", f"WEBROOT={root}",
           f"{OUT}/kvm/http.kvm", check=False, timeout=900)
    if r.returncode:
        raise SystemExit("bench/http: build failed:\n" + r.stdout + r.stderr)
    return os.path.join(OUT, "kvm", "http.kvm")


def setup():
    for ns in (CLIENT, LINUX_NS):
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", CLIENT, "tuntap", "add", "dev", "tap0", "mode", "tap")
    # The guest's only buffer for what 1,000 clients send at once (README,
    # "Network devices"), sized as ingot's CLI sizes its taps.
    sh("ip", "-n", CLIENT, "link", "set", "tap0", "txqueuelen", "8192")
    sh("ip", "-n", CLIENT, "addr", "add", "10.0.0.1/24", "dev", "tap0")
    sh("ip", "-n", CLIENT, "link", "set", "tap0", "up")
    sh("ip", "link", "add", NS[-15:], "netns", CLIENT, "type", "veth", "peer",
       "name", "veth1", "netns", LINUX_NS)
    sh("ip", "-n", CLIENT, "link", "set", NS[-15:], "name", "veth0")
    sh("ip", "-n", CLIENT, "addr", "add", "10.0.1.1/24", "dev", "veth0")
    sh("ip", "-n", CLIENT, "link", "set", "veth0", "up")
    sh("ip", "-n", LINUX_NS, "addr", "add", f"{NGINX}/24", "dev", "veth1")
    sh("ip", "-n", LINUX_NS, "link", "set", "veth1", "up")
    sh(*in_ns(LINUX_NS, "sysctl", "-q", "net.core.somaxconn=4096"))


def teardown(procs):
    # SIGTERM first: nginx's master then stops its worker, which a SIGKILL
    # to the master would leave running.
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    for ns in (CLIENT, LINUX_NS):
        for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
            subprocess.run(["kill", "-9", pid], capture_output=True)
    for ns in (CLIENT, LINUX_NS):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def serves(addr):
    return sh(*in_ns(CLIENT, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                     "--max-time", "2", f"http://{addr}/index.html"), check=False).stdout == "200"


def start_guest(image, mem):
    p = subprocess.Popen(in_ns(CLIENT, "taskset", "-c", "1", os.path.join(BUILD, "ingot-kvm"),
                               "--mem", mem, "--net", "service=tap0", image,
                               f"--ipv4={GUEST}/24"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in p.stdout:
        if line.startswith("http: serving"):
            return p
    p.wait()
    return None


def start_nginx(d, root):
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(d=d, root=root, addr=NGINX))
    p = subprocess.Popen(in_ns(LINUX_NS, "taskset", "-c", "1", "nginx", "-c", conf,
                               "-e", os.path.join(d, "error.log")),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while not serves(NGINX):
        if time.monotonic() > deadline or p.poll() is not None:
            raise SystemExit("bench/http: nginx did not start")
        time.sleep(0.05)
    return p


def cpu_seconds(pids):
    """User + system time of these processes and their threads."""
    t = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                v = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        t += int(v[11]) + int(v[12])
    return t / os.sysconf("SC_CLK_TCK")


def server_pids(p):
    """The process and its children (nginx's worker)."""
    out = sh("pgrep", "-P", str(p.pid), check=False).stdout.split()
    kids = [int(x) for x in out]
    for k in list(kids):
        kids += [int(x) for x in sh("pgrep", "-P", str(k), check=False).stdout.split()]
    return [p.pid, *kids]


