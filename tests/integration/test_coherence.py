"""Changes made directly in the store are seen through the mount.

The kernel caches what the mount shows (entries, attributes, listings) for
an hour where the store is watched (fs/watch.c). These mounts set
attr_timeout = 30, so nothing here could be seen within BOUND by a cache
merely expiring: only the watch's invalidations show it.
"""

import os
import signal
import time

from harness import ATTACKER, PYTHON, ShmfsTestCase, run, sh, stat_field, try_op

BOUND = 2.0          # seconds: the tests' allowance for "at once" (docs/ARCHITECTURE.md)
SLOW_CACHE = "attr_timeout=30"


def seen(check, bound=BOUND):
    """Whether check() turns true within bound seconds (asked every 20 ms)."""
    deadline = time.monotonic() + bound
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def fstat_through(path):
    """Size and mode as an open file of path shows them (open, fstat)."""
    r = run([PYTHON, "-c", "import os, sys; s = os.fstat(os.open(sys.argv[1], os.O_RDONLY)); "
             "print(s.st_size, oct(s.st_mode & 0o7777))", path])
    return r.stdout.split() if r.returncode == 0 else None


class Coherence(ShmfsTestCase):
    """Helpers of the tests below."""

    def watched_mount(self, **kw):
        m = self.mount(options=[SLOW_CACHE] + list(kw.pop("options", ())), **kw)
        self.assertNotIn("not watched", m.stderr())
        return m

    def warm(self, m, *names):
        """Let the kernel cache the names (or their absence) and the listing."""
        for name in names:
            run(["stat", m.path(name)])
        self.ls(m.mnt)
        self.ls(m.mnt)


class DirectChanges(Coherence):

    def test_create_in_the_store_is_seen(self):
        m = self.watched_mount()
        self.warm(m, "cam0")
        self.assertEqual(try_op("os.stat(A[0])", m.path("cam0")), "ENOENT")
        with open(m.backing("cam0"), "w") as f:
            f.write("made directly")
        self.assertTrue(seen(lambda: "cam0" in self.ls(m.mnt)), self.ls(m.mnt))
        self.assertEqual(self.ok(run(["cat", m.path("cam0")])), "made directly")
        self.assertEqual(stat_field(m.path("cam0"), "%s"), "13")

    def test_unlink_in_the_store_is_seen(self):
        m = self.watched_mount()
        self.ok(sh("echo data > %s" % m.path("cam0")))
        self.warm(m, "cam0")
        os.unlink(m.backing("cam0"))
        self.assertTrue(seen(lambda: try_op("os.stat(A[0])", m.path("cam0")) == "ENOENT"))
        self.assertEqual(self.ls(m.mnt), [])
        self.assertEqual(try_op("open(A[0]).read()", m.path("cam0")), "ENOENT")

    def test_rename_in_the_store_is_seen(self):
        m = self.watched_mount()
        self.ok(sh("echo data > %s" % m.path("old")))
        self.warm(m, "old", "new")
        os.rename(m.backing("old"), m.backing("new"))
        self.assertTrue(seen(lambda: self.ls(m.mnt) == ["new"]), self.ls(m.mnt))
        self.assertEqual(try_op("os.stat(A[0])", m.path("old")), "ENOENT")
        self.assertEqual(self.ok(run(["cat", m.path("new")])), "data\n")

    def test_truncate_in_the_store_is_seen_by_stat_and_open_files(self):
        m = self.watched_mount()
        self.ok(sh("echo data > %s" % m.path("cam0")))
        self.warm(m, "cam0")
        self.assertEqual(fstat_through(m.path("cam0"))[0], "5")
        os.truncate(m.backing("cam0"), 65536)
        self.assertTrue(seen(lambda: stat_field(m.path("cam0"), "%s") == "65536"))
        self.assertEqual(fstat_through(m.path("cam0"))[0], "65536")
        with open(m.backing("cam0"), "r+") as f:
            f.truncate(3)
        self.assertTrue(seen(lambda: fstat_through(m.path("cam0"))[0] == "3"))
        self.assertEqual(self.ok(run(["cat", m.path("cam0")])), "dat")

    def test_chmod_in_the_store_is_seen_and_enforced(self):
        m = self.watched_mount(options=["allow_other"])
        os.chmod(m.mnt, 0o755)
        self.ok(sh("echo data > %s; chmod 644 %s" % (m.path("cam0"), m.path("cam0"))))
        self.warm(m, "cam0")
        self.ok(run(["cat", m.path("cam0")], user="nobody"))
        os.chmod(m.backing("cam0"), 0o600)
        self.assertTrue(seen(lambda: stat_field(m.path("cam0"), "%a") == "600"))
        self.assertNotEqual(run(["cat", m.path("cam0")], user="nobody").returncode, 0)
        self.assertEqual(fstat_through(m.path("cam0"))[1], "0o600")

    def test_changes_in_a_subdirectory_are_seen(self):
        m = self.watched_mount()
        self.ok(run(["mkdir", m.path("d")]))
        self.ok(sh("echo a > %s" % m.path("d", "a")))
        self.ls(m.path("d"))
        run(["stat", m.path("d", "b"), m.path("d", "a")])
        with open(m.backing("d", "b"), "w") as f:
            f.write("b")
        os.unlink(m.backing("d", "a"))
        self.assertTrue(seen(lambda: self.ls(m.path("d")) == ["b"]), self.ls(m.path("d")))
        self.assertEqual(self.ok(run(["cat", m.path("d", "b")])), "b")
        self.assertEqual(try_op("os.stat(A[0])", m.path("d", "a")), "ENOENT")

    def test_names_without_the_prefix_stay_hidden(self):
        m = self.watched_mount()
        self.warm(m, "x")
        with open(os.path.join(m.shm_dir, "x"), "w") as f:
            f.write("not ours")
        with open(m.backing("y"), "w") as f:
            f.write("ours")
        self.assertTrue(seen(lambda: self.ls(m.mnt) == ["y"]), self.ls(m.mnt))
        self.assertEqual(try_op("os.stat(A[0])", m.path("x")), "ENOENT")


MAKE_MANY = r"""
import os, sys
for i in range(int(sys.argv[2])):
    os.close(os.open(os.path.join(sys.argv[1], "shmfs.m%d" % i), os.O_CREAT | os.O_WRONLY, 0o644))
    os.unlink(os.path.join(sys.argv[1], "shmfs.m%d" % i))
"""


class FreshMount(Coherence):

    def test_other_users_list_the_root_while_the_store_changes_at_mount(self):
        """Until the kernel has the root's attributes from the daemon it has
        those of the mount options (no permission bits), and it drops an
        answer that an invalidation overtakes: changes in the store right
        after the mount must not leave another user refused the root."""
        for round_ in range(10):
            m = self.shared_mount()
            maker = self.client([PYTHON, "-c", MAKE_MANY, m.shm_dir, "20000"])
            time.sleep(0.2)  # the store is changing: the watch invalidates
            r = run(["ls", m.mnt], user=ATTACKER, timeout=30)
            self.assertEqual(r.returncode, 0, "round %d: %s" % (round_, r.stderr))
            maker.stop()
            m.stop()


class LostEvents(Coherence):
    """When the event queue overflows, everything the kernel was given is
    invalidated: the changes still show."""

    SYSCTL = "/proc/sys/fs/fanotify/max_queued_events"

    def small_queue_mount(self):
        with open(self.SYSCTL) as f:
            saved = f.read().strip()

        def restore():
            with open(self.SYSCTL, "w") as f:
                f.write(saved)
        self.addCleanup(restore)
        with open(self.SYSCTL, "w") as f:
            f.write("8")
        try:
            # The group's limit is fixed when the daemon makes it, at start.
            m = self.watched_mount()
        finally:
            restore()
        return m

    def test_overflow_falls_back_to_invalidating_everything(self):
        m = self.small_queue_mount()
        self.ok(run(["mkdir", m.path("d")]))
        self.ok(sh("for n in a b c; do echo $n > %s/$n; done" % m.mnt))
        self.ok(sh("echo x > %s" % m.path("d", "x")))
        self.warm(m, "a", "b", "c", "new")
        self.ls(m.path("d"))
        # More changes than the queue holds, made while the daemon is
        # stopped, so that the last ones are certainly lost.
        os.kill(m.pid, signal.SIGSTOP)
        self.addCleanup(os.kill, m.pid, signal.SIGCONT)
        try:
            for i in range(50):
                open(os.path.join(m.shm_dir, "junk%d" % i), "w").close()
            os.unlink(m.backing("a"))
            os.rename(m.backing("b"), m.backing("new"))
            os.truncate(m.backing("c"), 4096)
            os.chmod(m.backing("c"), 0o600)
            os.unlink(m.backing("d", "x"))
        finally:
            os.kill(m.pid, signal.SIGCONT)
        self.assertTrue(seen(lambda: self.ls(m.mnt) == ["c", "d", "new"]), self.ls(m.mnt))
        # Each inode and entry is invalidated in turn: within BOUND, like
        # every direct change.
        self.assertTrue(seen(lambda: try_op("os.stat(A[0])", m.path("a")) == "ENOENT"))
        self.assertTrue(seen(lambda: try_op("os.stat(A[0])", m.path("b")) == "ENOENT"))
        self.assertEqual(self.ok(run(["cat", m.path("new")])), "b\n")
        self.assertTrue(seen(lambda: stat_field(m.path("c"), "%s %a") == "4096 600"))
        self.assertTrue(seen(lambda: self.ls(m.path("d")) == []))
        self.assertTrue(seen(lambda: "events were lost" in m.stderr()), m.stderr())


class WatchOff(Coherence):

    def test_watch_off_leaves_direct_changes_to_attr_timeout(self):
        m = self.mount(options=["attr_timeout=2", "watch=off"])
        self.warm(m, "cam0")
        with open(m.backing("cam0"), "w") as f:
            f.write("made directly")
        time.sleep(0.3)
        self.assertEqual(try_op("os.stat(A[0])", m.path("cam0")), "ENOENT")
        self.assertTrue(seen(lambda: "cam0" in self.ls(m.mnt), bound=2 + BOUND))
        self.assertEqual(self.ok(run(["cat", m.path("cam0")])), "made directly")
