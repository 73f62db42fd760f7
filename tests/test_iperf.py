"""apps/iperf against Debian's stock iperf3 client (3.12), in a namespace:
both directions, several streams, the results exchange (the client prints
the guest's side, which must equal what the guest itself counted), and the
refusals (UDP; a second client while a test runs)."""
import json
import re
import subprocess

import pytest

from conftest import TARGETS
from netns import Guest, Netns


@pytest.fixture(params=TARGETS)
def guest(request):
    ns = Netns()
    try:
        ns.tap("tap0", "10.0.0.1/24")
        g = Guest(ns, request.param, "iperf", ["service=tap0"], ["--ipv4=10.0.0.2/24"])
        g.wait_for(r"^iperf: serving TCP port 5201")
        yield ns, g
    finally:
        ns.close()


def iperf3(ns, *args, timeout=30):
    return ns.run(["iperf3", "-c", "10.0.0.2", "--json", *args], timeout=timeout)


def guest_streams(g, verb, count):
    """The last test's per-stream bytes as the guest printed them."""
    g.wait_for(r"^iperf: test of \d+ streams", timeout=10)
    lines = [l for l in g.out if re.match(r"^iperf: stream \d+ ", l)]
    found = {int(m.group(1)): int(m.group(2)) for m in
             (re.match(rf"^iperf: stream (\d+) {verb} (\d+) bytes", l) for l in lines[-count:])
             if m}
    assert len(found) == count, g.out
    return found


@pytest.mark.parametrize("streams,reverse", [(1, False), (1, True), (4, False)],
                         ids=["1-stream", "reverse", "4-streams"])
def test_iperf3_measures_the_guest(guest, streams, reverse):
    ns, g = guest
    r = iperf3(ns, "-t", "1", "-P", str(streams), *(["-R"] if reverse else []))
    assert r.returncode == 0, r.stdout + r.stderr
    end = json.loads(r.stdout)["end"]
    assert len(end["streams"]) == streams
    ours = guest_streams(g, "sent" if reverse else "received", streams)
    # iperf3 numbers streams 1, 3, 4, ...; the guest's side of each, as the
    # client printed it from the results exchange, is what the guest counted.
    assert sorted(ours) == [1, 3, 4, 5][:streams]
    side = "sender" if reverse else "receiver"
    reported = sorted(s[side]["bytes"] for s in end["streams"])
    assert reported == sorted(ours.values()), (reported, ours)
    assert min(ours.values()) > 1 << 20, ours  # a megabyte at least, each
    # Both ends agree on the total within what was in flight at the end.
    assert end["sum_received"]["bytes"] <= end["sum_sent"]["bytes"]
    assert end["sum_received"]["bytes"] > 0.9 * end["sum_sent"]["bytes"], end


def test_udp_is_refused_and_the_server_goes_on(guest):
    ns, g = guest
    r = iperf3(ns, "-t", "1", "-u")  # --json reports errors in the JSON
    assert "not implemented yet" in json.loads(r.stdout).get("error", ""), r.stdout
    r = iperf3(ns, "-t", "1")
    assert r.returncode == 0 and "error" not in json.loads(r.stdout), r.stdout + r.stderr


def test_a_second_client_is_turned_away_while_a_test_runs(guest):
    ns, g = guest
    first = subprocess.Popen(ns.argv(["iperf3", "-c", "10.0.0.2", "-t", "3", "--json"]),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    g.wait_for(r"^iperf: test started: 1 streams")
    error = json.loads(iperf3(ns, "-t", "1").stdout).get("error", "")
    out, _ = first.communicate(timeout=30)
    assert "error" not in json.loads(out), out
    assert "busy" in error, error
