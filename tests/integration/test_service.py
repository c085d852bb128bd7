"""Running shmfs as a service: after its daemon is killed, a plain restart
on the same mount point works (also through the systemd unit's
ExecStartPre), and a second shmfs on a live mount is refused."""

import os
import re
import shlex
import signal
import time

from harness import (ATTACKER, MOUNT_TIMEOUT, PYTHON, SHMFS, Mount, ShmfsTestCase, mounts_at,
                     passthrough_option, pid_alive, pids_with_arg, run, sh, try_op, uring_suite)

HERE = os.path.dirname(os.path.abspath(__file__))
UNIT = os.path.join(HERE, "..", "..", "config", "shmfs@.service")


def fusermount_helpers(mnt):
    """Pids of the fusermount3 processes that wait to unmount mnt
    (auto_unmount)."""
    return pids_with_arg(mnt, program="fusermount3")


class Service(ShmfsTestCase):

    def first(self, **kw):
        m = self.mount(**kw)
        self.ok(sh("echo before > %s" % m.path("seg")))
        return m

    def kill_9(self, m, helpers_too):
        """kill -9 the daemon; with helpers_too, its fusermount3 first, as
        killing a whole service's processes does: the mount stays, dead."""
        if helpers_too:
            for pid in fusermount_helpers(m.mnt):
                os.kill(pid, signal.SIGKILL)
        m.expect_exit = True
        m.kill_daemon()
        self.assertFalse(m.pid is not None and pid_alive(m.pid))

    def restart(self, m, foreground=True, **kw):
        """A new daemon on m's mount point and store; the segment is there."""
        m2 = Mount(shm_dir=m.shm_dir, mountpoint=m.mnt, foreground=foreground, **kw)
        self.addCleanup(m2.stop)
        m2.start()
        # A foreground start counts as live once anything is mounted there,
        # and the dead mount still is until the new daemon removes it.
        deadline = time.monotonic() + MOUNT_TIMEOUT
        while True:
            r = run(["cat", m2.path("seg")])
            if r.returncode == 0 and len(mounts_at(m.mnt)) == 1 or time.monotonic() > deadline:
                break
            self.assertFalse(m2.daemon_exited(), m2.stderr())
            time.sleep(0.02)
        self.assertEqual(len(mounts_at(m.mnt)), 1, mounts_at(m.mnt))
        self.assertEqual(self.ok(r), "before\n")
        return m2

    def test_kill_9_then_a_plain_restart_works(self):
        m = self.first()
        self.kill_9(m, helpers_too=False)
        self.restart(m)

    def test_a_dead_mount_is_unmounted_at_start_with_one_log_line(self):
        for foreground in (True, False):
            with self.subTest(foreground=foreground):
                m = self.first()
                self.kill_9(m, helpers_too=True)
                self.assertEqual(len(mounts_at(m.mnt)), 1)
                self.assertEqual(try_op("os.stat(A[0])", m.mnt), "ENOTCONN")
                m2 = self.restart(m, foreground=foreground, options=["log=stderr"])
                lines = [l for l in m2.stderr().splitlines() if "dead shmfs mount" in l]
                self.assertEqual(lines, ["shmfs: %s held a dead shmfs mount (its daemon had "
                                         "ended without unmounting): unmounted it lazily"
                                         % m.mnt])
                m2.stop()
                m.stop()

    def test_the_units_exec_start_pre_makes_the_point_and_passes_a_dead_one(self):
        with open(UNIT) as f:
            pre = re.findall(r"(?m)^ExecStartPre=(.*)$", f.read())
        self.assertTrue(pre, "no ExecStartPre in the unit")
        # a missing mount point (with a space on the way) is made
        parent = self.mountpoint()
        missing = os.path.join(parent, "a b", "mnt")
        self.addCleanup(lambda: [os.path.isdir(p) and os.rmdir(p)
                                 for p in (missing, os.path.dirname(missing))])
        for line in pre:
            self.ok(sh(line.lstrip("-").replace("%f", shlex.quote(missing))))
        self.assertTrue(os.path.isdir(missing))
        # a dead mount on it passes, and the start after it works
        m = self.first()
        self.kill_9(m, helpers_too=True)
        for line in pre:
            command = line.lstrip("-").replace("%f", shlex.quote(m.mnt))
            self.ok(sh(command), command)
        self.restart(m)

    def test_a_second_shmfs_on_a_live_mount_is_refused(self):
        m = self.first()
        for flags in (["-f"], []):
            with self.subTest(flags=flags):
                r = run([SHMFS] + flags + ["-o", "shm_dir=%s,passthrough=%s"
                                           % (m.shm_dir, passthrough_option()), "none", m.mnt])
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn("shmfs: mount point %s: a shmfs mount is already there; "
                              "unmount it first (fusermount3 -u %s)" % (m.mnt, m.mnt), r.stderr)
                self.assertEqual(len(mounts_at(m.mnt)), 1)
                self.assertEqual(self.ok(run(["cat", m.path("seg")])), "before\n")

    def test_auto_unmount_is_on_and_noauto_unmount_turns_it_off(self):
        m = self.first()
        self.assertTrue(fusermount_helpers(m.mnt), "no fusermount3 waits to unmount")
        m2 = self.mount(options=["noauto_unmount"])
        self.assertFalse(fusermount_helpers(m2.mnt))


class StatusForOperators(ShmfsTestCase):
    """shmfs status as an operator uses it: a header per mount, rows in
    order, right plurals, and one clear line for a mount it cannot read."""

    def status(self, *args, user=None, timeout=20):
        return run([SHMFS, "status"] + list(args), user=user, timeout=timeout)

    def test_header_sorted_rows_and_plurals(self):
        cfg = self.config("[shmfs]\nmax_segments = 10\n")
        m = self.mount(config=cfg)
        for name in ("zeta", "alpha", "mid"):
            self.ok(sh("echo x > %s" % m.path(name)))
        lines = self.ok(self.status(m.mnt)).splitlines()
        io = "passthrough" if passthrough_option() == "on" else "cached"
        transport = "io_uring" if uring_suite() else "/dev/fuse"
        self.assertEqual(lines[0], "%s: daemon %d, source %s, store %s, prefix 'shmfs.', "
                                   "data path %s, transport %s"
                         % (m.mnt, m.pid, cfg, m.shm_dir, io, transport))
        self.assertEqual([l.split()[0] for l in lines[2:-1]], ["alpha", "mid", "zeta"])
        self.assertTrue(lines[-1].startswith("total: 3 segments of 10, "), lines[-1])
        self.ok(run(["rm", m.path("alpha"), m.path("mid")]))
        lines = self.ok(self.status(m.mnt)).splitlines()
        self.assertTrue(lines[-1].startswith("total: 1 segment of 10, "), lines[-1])

    def test_a_mount_point_with_spaces(self):
        parent = self.mountpoint()
        mnt = os.path.join(parent, "a b\tc")
        os.mkdir(mnt)
        self.addCleanup(os.rmdir, mnt)
        m = self.mount(mountpoint=mnt)
        self.ok(sh("echo x > '%s'" % m.path("seg")))
        r = self.status()
        self.assertIn("%s: daemon %d" % (mnt.replace("\t", "\\t"), m.pid), r.stdout)
        lines = self.ok(self.status(mnt)).splitlines()
        self.assertEqual([l.split()[0] for l in lines[2:-1]], ["seg"])

    def test_a_stopped_daemon_is_not_responding(self):
        m = self.mount()
        os.kill(m.pid, signal.SIGSTOP)
        self.addCleanup(os.kill, m.pid, signal.SIGCONT)
        # (Named: without it, status would also walk every other mount of
        # this machine, which this test does not control.)
        t0 = time.monotonic()
        r = self.status(m.mnt, timeout=30)
        self.assertLess(time.monotonic() - t0, 10)
        self.assertIn("shmfs status: %s: not responding" % m.mnt, r.stderr)
        self.assertEqual(r.returncode, 1)

    def test_a_dead_mount(self):
        m = self.mount(options=["noauto_unmount"])
        m.expect_exit = True
        m.kill_daemon()
        r = self.status(m.mnt)
        self.assertEqual(r.returncode, 1)
        self.assertIn("shmfs status: %s: dead: its daemon is gone" % m.mnt, r.stderr)

    def test_not_a_shmfs_mount_and_not_a_mount_point(self):
        d = self.mountpoint()
        r = self.status(d)
        self.assertEqual(r.returncode, 1)
        self.assertIn("shmfs status: %s: not a mount point, so not a shmfs mount" % d, r.stderr)
        r = self.status("/proc")
        self.assertIn("shmfs status: /proc: not a shmfs mount (a proc mount)", r.stderr)
        r = self.status("/nonexistent")
        self.assertIn("shmfs status: /nonexistent: No such file or directory", r.stderr)

    def test_a_mount_without_allow_other_seen_by_another_user(self):
        m = self.mount()
        os.chmod(m.mnt, 0o755)
        r = self.status(m.mnt, user=ATTACKER)
        self.assertEqual(r.returncode, 1)
        self.assertIn("shmfs status: %s: permission denied (mounted without allow_other" % m.mnt,
                      r.stderr)


# Maps PATH (SIZE bytes, after ftruncate to SIZE unless it is that size) and
# writes every page; then msync when asked. Prints the errno name of what
# failed, or OK. Death by a signal (SIGBUS at the fault) is seen by the caller.
TOUCH = r"""
import errno, mmap, os, sys
path, size, sync = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "msync"
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
try:
    if os.fstat(fd).st_size != size:
        os.ftruncate(fd, size)
    m = mmap.mmap(fd, size)
    for off in range(0, size, 4096):
        m[off:off + 4] = b"data"
    if sync:
        m.flush()
    print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
"""

MIB = 1 << 20


class NoSilentLoss(ShmfsTestCase):
    """A store too small for what a program maps: the program is told (at
    the truncate, or at the fault), and a writeback the store refuses is
    logged and counted."""

    def small_store(self):
        d = self.disk_dir()
        self.ok(run(["mount", "-t", "tmpfs", "-o", "size=1M", "shmfs-small", d]))
        self.addCleanup(run, ["umount", "-l", d])
        return d

    def touch(self, path, size, sync=False):
        return run([PYTHON, "-c", TOUCH, path, str(size), "msync" if sync else "-"])

    def test_mapping_more_than_the_store_holds_fails_visibly(self):
        d = self.small_store()
        m = self.mount(shm_dir=d)   # -f: the log is its stderr
        r = self.touch(m.path("big"), 4 * MIB)
        if passthrough_option() == "on":
            # the mapping is the store's own: tmpfs raises SIGBUS at the fault
            self.assertEqual(r.returncode, -signal.SIGBUS, r.stdout + r.stderr)
        else:
            # the space is taken at the truncate, which fails: EFBIG, since
            # 4 MiB is more than the 1 MiB store could ever hold (ENOSPC when
            # it could, but is full)
            self.assertEqual(r.stdout.strip(), "EFBIG", r.stderr)
            self.assertEqual(os.stat(m.backing("big")).st_size, 0)
            self.assertLess(os.statvfs(d).f_bfree * os.statvfs(d).f_bsize, 1 * MIB + 1)
            self.assertGreater(os.statvfs(d).f_bfree, 0)
            # and what fits still works, and keeps its bytes
            r = self.touch(m.path("small"), 256 << 10, sync=True)
            self.assertEqual(r.stdout.strip(), "OK", r.stderr)

    def test_a_refused_writeback_is_logged_once_and_counted(self):
        if passthrough_option() == "on":
            self.skipTest("cached mode only: passthrough mappings are the store's own pages")
        d = self.small_store()
        m = self.mount(shm_dir=d)   # -f: the log is its stderr
        # grown in the store directly, so nothing reserved its pages
        with open(m.backing("seg"), "wb") as f:
            f.truncate(4 * MIB)
        r = self.touch(m.path("seg"), 4 * MIB, sync=True)
        self.assertIn(r.stdout.strip(), ("ENOSPC", "EIO"), r.stdout + r.stderr)
        lines = [l for l in m.stderr().splitlines() if "writeback of segment" in l]
        self.assertEqual(len(lines), 1, m.stderr())
        self.assertIn("writeback of segment %s " % m.backing("seg"), lines[0])
        self.assertIn("No space left on device", lines[0])
        out = self.ok(run([SHMFS, "status", m.mnt]))
        self.assertRegex(out.splitlines()[-1], r"; \d+ writebacks? lost \(see the daemon's log\)")
