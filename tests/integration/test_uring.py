"""FUSE over io_uring: which transport a mount uses, that the ring really
serves requests, and a clean stop with requests in flight.

Each test sets the fuse module's enable_uring for its own run and sets it
back afterwards (harness.uring_param), also when it fails."""

import os
import signal
import subprocess
import time

from harness import (SHMFS, ShmfsTestCase, getfattr, is_fuse_mounted, mode, run, sh,
                     uring_param)


def daemon_fields(m):
    """user.shmfs.daemon of the mount's root as a dict (prefix= runs to the end)."""
    text = getfattr(m.mnt, "user.shmfs.daemon")
    head, _, prefix = text.partition(" prefix=")
    fields = dict(kv.split("=", 1) for kv in head.split())
    fields["prefix"] = prefix
    return fields


class Uring(ShmfsTestCase):
    def with_param(self, value):
        ctx = uring_param(value)
        if not ctx.__enter__():
            ctx.__exit__(None, None, None)
            self.skipTest("the kernel has no FUSE over io_uring (no enable_uring parameter)")
        self.addCleanup(ctx.__exit__, None, None, None)

    def test_lookups_are_served_by_the_ring_not_read_from_dev_fuse(self):
        self.with_param("Y")
        m = self.mount(options=["io_uring=on"])
        before = daemon_fields(m)
        self.assertEqual(before["transport"], "io_uring")
        # New names: LOOKUPs (and a CREATE), none of which may come by read().
        r = sh("for i in 1 2 3 4 5 6 7 8; do stat '%s'/absent$i; done" % m.mnt)
        self.assertEqual(r.stderr.count("No such file or directory"), 8, r.stderr)
        self.ok(sh("echo x > '%s' && cat '%s'" % (m.path("made"), m.path("made"))))
        after = daemon_fields(m)
        self.assertEqual(after["dev_reads"], before["dev_reads"],
                         "requests were read from /dev/fuse: %s -> %s" % (before, after))
        self.assertGreaterEqual(int(after["ring_requests"]) - int(before["ring_requests"]), 10)
        self.assertIn("transport: io_uring", m.stderr())

    def test_on_without_kernel_support_refuses_to_mount(self):
        self.with_param("N")
        status, out = self.mount_fails(options=["io_uring=on"])
        self.assertEqual(status, 1, out)
        self.assertIn("io_uring=on, but", out)
        self.assertIn("modprobe fuse enable_uring=1", out)
        self.assertIn("/sys/module/fuse/parameters/enable_uring", out)

    def test_auto_without_the_parameter_keeps_dev_fuse_and_says_why(self):
        self.with_param("N")
        m = self.mount(options=["io_uring=auto"])
        self.assertEqual(daemon_fields(m)["transport"], "/dev/fuse")
        self.assertIn("transport: /dev/fuse (the fuse module's enable_uring is N", m.stderr())

    def test_auto_takes_the_ring_with_passthrough_and_keeps_dev_fuse_in_cached_mode(self):
        self.with_param("Y")
        m = self.mount(options=["io_uring=auto"])
        fields = daemon_fields(m)
        if mode() == "passthrough":
            self.assertEqual(fields["transport"], "io_uring")
        else:
            # Cached mode needs the total order of /dev/fuse (BUG-1).
            self.assertEqual(fields["transport"], "/dev/fuse")
            self.assertIn("cached mode keeps /dev/fuse", m.stderr())
        self.ok(sh("echo hi > '%s' && cat '%s'" % (m.path("f"), m.path("f"))))

    def test_status_names_the_transport(self):
        self.with_param("Y")
        m = self.mount(options=["io_uring=on"])
        out = self.ok(run([SHMFS, "status", m.mnt]))
        self.assertIn("transport io_uring", out.splitlines()[0])

    def stop_with_requests_in_flight(self, stop):
        """Clients busy on the mount (creates, stats, reads, removes) when
        stop(m) ends the daemon: it must exit 0 within 10 s, unmounted, and
        every client must end too (an error, not a hang)."""
        self.with_param("Y")
        m = self.mount(options=["io_uring=on"])
        self.assertEqual(daemon_fields(m)["transport"], "io_uring")
        # Until the mount is no FUSE mount any more (or its statfs fails).
        loop = ("i=0; while [ \"$(stat -f -c %%t %s)\" = 65735546 ]; do i=$((i+1)); "
                "echo $i > %s/c$$.$i; cat %s/c$$.$i; stat %s/nope$i; rm -f %s/c$$.$i; done"
                % ((m.mnt,) * 5))
        clients = [subprocess.Popen(["sh", "-c", loop], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
                   for _ in range(6)]
        try:
            time.sleep(0.5)
            stop(m)
            self.assertTrue(m.wait_exit(10), "the daemon did not exit within 10 s")
            self.assertEqual(m.exit_status, 0, m.stderr())
            self.assertFalse(is_fuse_mounted(m.mnt))
            for c in clients:
                try:
                    c.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.fail("a client hung on the stopped mount")
        finally:
            for c in clients:
                if c.poll() is None:
                    os.killpg(c.pid, signal.SIGKILL)
                    c.wait()

    def test_sigterm_with_requests_in_flight_stops_cleanly(self):
        def sigterm(m):
            m.expect_exit = True
            os.kill(m.pid, signal.SIGTERM)
        self.stop_with_requests_in_flight(sigterm)

    def test_unmount_with_requests_in_flight_stops_cleanly(self):
        def unmount(m):
            m.expect_exit = True
            r = run(["fusermount3", "-uz", m.mnt])
            self.assertEqual(r.returncode, 0, r.stderr)
        self.stop_with_requests_in_flight(unmount)
