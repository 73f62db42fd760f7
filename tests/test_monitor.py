"""ingot-kvm's handling of bad input before any guest runs (no KVM needed)."""
from conftest import EXIT_SETUP, MONITOR, image, run


def test_not_an_image_is_refused():
    r = run([MONITOR, "/bin/true"])
    assert r.rc == EXIT_SETUP, r
    assert "not an ingot kvm image" in r.err
    r = run([MONITOR, image("hosted", "hello")])
    assert r.rc == EXIT_SETUP, r
    assert "an ingot image for another target" in r.err


def test_usage_errors():
    for argv in ([], ["--mem", "64K", "x"], ["--mem", "8G", "x"], ["--mem", "12Q", "x"], ["--watchdog", "-1", "x"],
                 ["--frobnicate", "x"]):
        r = run([MONITOR, *argv])
        assert r.rc == 2, (argv, r)
        assert "usage: ingot-kvm" in r.err, argv
    r = run([MONITOR, "--help"])
    assert r.rc == 0 and "usage: ingot-kvm" in r.out


def test_missing_kvm_is_a_clear_error():
    # Hide /dev/kvm in a mount namespace of our own.
    r = run(["unshare", "--mount", "sh", "-c",
             f"mount -t tmpfs tmpfs /dev && exec {MONITOR} {image('kvm', 'hello')}"])
    assert r.rc == EXIT_SETUP, r
    assert "cannot open /dev/kvm" in r.err
