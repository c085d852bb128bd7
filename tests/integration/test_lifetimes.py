"""Lifetimes: what user.shmfs.lifetime says, what a clean unmount removes
(lifetime mount), what goes with its last user (lifetime process), and what a
restart after a crash cleans up."""

import os
import signal
import time

from harness import (ShmfsTestCase, abort_fuse_connections, getfattr,
                     is_fuse_mounted, run, sh, try_op)

RELEASE_TIMEOUT = 2.0   # a released process segment must be gone by then
STILL_THERE = 1.2       # how long a held segment is watched for staying


class LifetimeCase(ShmfsTestCase):

    def config(self, text):
        """A config file holding text (leading newline dropped); its path."""
        return super().config(text.lstrip("\n"))

    def plant(self, path, data=b"not ours\n"):
        with open(path, "wb") as f:
            f.write(data)

    def clean_unmount(self, m):
        """fusermount3 -u, and the daemon exits 0."""
        m.expect_exit = True
        r = m.unmount()
        self.assertIsNotNone(r, "nothing was mounted")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(m.wait_exit(10), "the daemon did not exit after fusermount3 -u")
        self.assertEqual(m.exit_status, 0, m.stderr())

    def crash(self, m, *clients):
        """kill -9 the daemon, stop the clients, and leave no mount behind."""
        m.expect_exit = True
        m.kill_daemon()
        self.assertTrue(m.daemon_exited())
        for c in clients:
            c.stop()
        run(["fusermount3", "-uz", m.mnt], timeout=10)
        if is_fuse_mounted(m.mnt):
            abort_fuse_connections(m.mnt)
            run(["umount", "-l", m.mnt], timeout=10)
        self.assertFalse(is_fuse_mounted(m.mnt), "the dead mount is still there")

    def assert_released(self, backing, listed_dir, name):
        """Within RELEASE_TIMEOUT the backing object is gone and ls of
        listed_dir no longer shows name."""
        deadline = time.monotonic() + RELEASE_TIMEOUT
        while True:
            gone = not os.path.lexists(backing)
            unlisted = name not in self.ls(listed_dir)
            if gone and unlisted:
                return
            if time.monotonic() > deadline:
                self.fail("%.1f s after its last user: backing %s, %s %s"
                          % (RELEASE_TIMEOUT, "gone" if gone else "still there",
                             name, "unlisted" if unlisted else "still listed"))
            time.sleep(0.05)

    def assert_stays(self, backing, listed_dir, name):
        time.sleep(STILL_THERE)
        self.assertTrue(os.path.exists(backing), "%s went while still in use" % backing)
        self.assertIn(name, self.ls(listed_dir))


class LifetimeXattr(LifetimeCase):

    def test_lifetime_of_each_kind_of_store(self):
        disk = self.disk_dir()
        m = self.mount_config(
            "[dir persist]\npath = %s\n"
            "[dir tmp]\nlifetime = mount\n"
            "[dir scratch]\nlifetime = process\n"
            "[segment log]\nbackend = file\npath = %s\nsize = 4K\n"
            "[segment cam]\nsize = 4K\n" % (disk, os.path.join(disk, "log.dat")))
        self.ok(sh("echo r > %s; echo p > %s; echo t > %s"
                   % (m.path("root"), m.path("persist", "f"), m.path("tmp", "f"))))
        held = self.holder(m.path("scratch", "f"), "-c", "4096", "-n")
        want = {m.path("root"): "kernel", m.path("persist", "f"): "disk",
                m.path("tmp", "f"): "mount", m.path("scratch", "f"): "process",
                m.path("log"): "disk", m.path("cam"): "kernel"}
        got = {p: getfattr(p, "user.shmfs.lifetime") for p in want}
        self.assertEqual(got, want)
        held.stop()

    def test_root_store_lifetime_mount_is_shown(self):
        m = self.mount(options=["lifetime=mount"])
        self.ok(sh("echo x > %s" % m.path("f")))
        self.assertEqual(getfattr(m.path("f"), "user.shmfs.lifetime"), "mount")

    def test_getfattr_by_name_shows_the_lifetime_a_dump_does_not_list_it(self):
        m = self.mount()
        self.ok(sh("echo x > %s" % m.path("f")))
        out = self.ok(run(["getfattr", "--absolute-names", "-n", "user.shmfs.lifetime",
                           m.path("f")]))
        self.assertIn('user.shmfs.lifetime="kernel"', out)
        out = self.ok(run(["getfattr", "--absolute-names", "-d", m.path("f")]))
        self.assertNotIn("user.shmfs.", out)

    def test_setfattr_marks_one_segment_process(self):
        m = self.mount()
        self.ok(sh("echo x > %s; echo y > %s" % (m.path("f"), m.path("other"))))
        held = self.holder(m.path("f"), "-n")
        self.ok(run(["setfattr", "-n", "user.shmfs.lifetime", "-v", "process", m.path("f")]))
        self.assertEqual(getfattr(m.path("f"), "user.shmfs.lifetime"), "process")
        self.assertEqual(getfattr(m.path("other"), "user.shmfs.lifetime"), "kernel")
        self.assertEqual(self.ok(run(["cat", m.path("f")])), "x\n")
        held.stop()
        self.assert_released(m.backing("f"), m.mnt, "f")
        self.assertEqual(self.ls(m.mnt), ["other"])

    def test_setfattr_back_to_kernel_keeps_the_segment(self):
        m = self.mount()
        self.ok(sh("echo x > %s" % m.path("f")))
        held = self.holder(m.path("f"), "-n")
        self.ok(run(["setfattr", "-n", "user.shmfs.lifetime", "-v", "process", m.path("f")]))
        self.ok(run(["setfattr", "-n", "user.shmfs.lifetime", "-v", "kernel", m.path("f")]))
        self.assertEqual(getfattr(m.path("f"), "user.shmfs.lifetime"), "kernel")
        held.stop()
        self.assert_stays(m.backing("f"), m.mnt, "f")
        self.assertEqual(self.ok(run(["cat", m.path("f")])), "x\n")

    def test_setfattr_of_an_invalid_lifetime_is_einval(self):
        m = self.mount()
        self.ok(sh("echo x > %s" % m.path("f")))
        self.fails_with(run(["setfattr", "-n", "user.shmfs.lifetime", "-v", "forever",
                             m.path("f")]), "Invalid argument")
        self.assertEqual(try_op("os.setxattr(A[0], 'user.shmfs.lifetime', b'soon')",
                                m.path("f")), "EINVAL")
        self.assertEqual(getfattr(m.path("f"), "user.shmfs.lifetime"), "kernel")

    def test_setfattr_on_a_declared_segment_is_eperm(self):
        m = self.mount_config("[segment cam]\nsize = 4K\n")
        self.assertEqual(try_op("os.setxattr(A[0], 'user.shmfs.lifetime', b'process')",
                                m.path("cam")), "EPERM")
        self.fails_with(run(["setfattr", "-n", "user.shmfs.lifetime", "-v", "process",
                             m.path("cam")]), "Operation not permitted")
        self.assertEqual(getfattr(m.path("cam"), "user.shmfs.lifetime"), "kernel")


class MountLifetime(LifetimeCase):
    """lifetime = mount: gone at a clean unmount, or at the next start."""

    def plant_strangers(self, d):
        """Objects in shm_dir that are not this mount's: never touched."""
        strangers = {"keep-me": b"no prefix\n", "other.seg": b"another prefix\n",
                     "shmfs-x": b"prefix without its dot\n"}
        for name, data in strangers.items():
            self.plant(os.path.join(d, name), data)
        return strangers

    def assert_only_strangers(self, d, strangers):
        self.assertEqual(sorted(os.listdir(d)), sorted(strangers))
        for name, data in strangers.items():
            self.assertEqual(self.read_backing(os.path.join(d, name)), data)

    def test_root_store_is_emptied_at_unmount_and_strangers_stay(self):
        d = self.shm_dir()
        strangers = self.plant_strangers(d)
        m = self.mount(shm_dir=d, options=["lifetime=mount"])
        self.ok(run(["mkdir", m.path("sub")]))
        self.ok(sh("echo a > %s; echo b > %s" % (m.path("a"), m.path("sub", "b"))))
        self.ok(run(["truncate", "-s", "1M", m.path("big")]))
        self.assertTrue(os.path.exists(m.backing("a")))
        self.clean_unmount(m)
        self.assert_only_strangers(d, strangers)

    def test_sigterm_is_a_clean_unmount_too(self):
        d = self.shm_dir()
        strangers = self.plant_strangers(d)
        m = self.mount(shm_dir=d, options=["lifetime=mount"])
        self.ok(sh("echo a > %s" % m.path("a")))
        m.expect_exit = True
        os.kill(m.pid, signal.SIGTERM)
        self.assertTrue(m.wait_exit(10), "the daemon did not exit after SIGTERM")
        self.assertEqual(m.exit_status, 0, m.stderr())
        self.assertFalse(is_fuse_mounted(m.mnt))
        self.assert_only_strangers(d, strangers)

    def test_dir_on_disk_with_lifetime_mount_is_emptied_at_unmount(self):
        d = self.shm_dir()
        disk = self.disk_dir()
        store = os.path.join(disk, "tmp")
        outside = os.path.join(disk, "outside")
        self.plant(outside, b"next to the store\n")
        m = self.mount_config("[dir tmp]\npath = %s\nlifetime = mount\n" % store, shm_dir=d)
        self.ok(run(["mkdir", m.path("tmp", "sub")]))
        self.ok(sh("echo t > %s; echo u > %s; echo root > %s"
                   % (m.path("tmp", "t"), m.path("tmp", "sub", "u"), m.path("root"))))
        self.assertEqual(sorted(os.listdir(store)), ["sub", "t"])
        self.clean_unmount(m)
        self.assertEqual(os.listdir(store) if os.path.exists(store) else [], [])
        self.assertEqual(self.read_backing(outside), b"next to the store\n")
        self.assertEqual(self.read_backing(os.path.join(d, "shmfs.root")), b"root\n")

    def test_shm_dir_graft_with_lifetime_mount_is_emptied_at_unmount(self):
        d = self.shm_dir()
        strangers = self.plant_strangers(d)
        m = self.mount_config("[dir tmp]\nlifetime = mount\n", shm_dir=d)
        self.ok(sh("echo t > %s; echo root > %s" % (m.path("tmp", "t"), m.path("root"))))
        self.assertTrue(os.path.exists(os.path.join(d, "shmfs.tmp", "t")))
        self.clean_unmount(m)
        store = os.path.join(d, "shmfs.tmp")
        self.assertEqual(os.listdir(store) if os.path.exists(store) else [], [])
        self.assertEqual(self.read_backing(os.path.join(d, "shmfs.root")), b"root\n")
        for name, data in strangers.items():
            self.assertEqual(self.read_backing(os.path.join(d, name)), data)

    def test_leftovers_of_a_crash_are_removed_at_the_next_start(self):
        d = self.shm_dir()
        m = self.mount(shm_dir=d, options=["lifetime=mount"])
        self.ok(run(["mkdir", m.path("sub")]))
        self.ok(sh("echo a > %s; echo b > %s" % (m.path("a"), m.path("sub", "b"))))
        self.crash(m)
        self.assertEqual(sorted(os.listdir(d)), ["shmfs.a", "shmfs.sub"])
        strangers = self.plant_strangers(d)
        m2 = self.mount(shm_dir=d, options=["lifetime=mount"])
        self.assertEqual(self.ls(m2.mnt), [])
        self.assert_only_strangers(d, strangers)

    def test_leftovers_of_a_crash_in_a_dir_on_disk_are_removed_at_the_next_start(self):
        d = self.shm_dir()
        store = os.path.join(self.disk_dir(), "tmp")
        cfg = self.config("[dir tmp]\npath = %s\nlifetime = mount\n" % store)
        m = self.mount(shm_dir=d, config=cfg)
        self.ok(sh("echo t > %s; echo root > %s" % (m.path("tmp", "t"), m.path("root"))))
        self.crash(m)
        self.assertEqual(os.listdir(store), ["t"])
        m2 = self.mount(shm_dir=d, config=cfg)
        self.assertEqual(self.ls(m2.path("tmp")), [])
        self.assertEqual(os.listdir(store), [])
        self.assertEqual(self.ok(run(["cat", m2.path("root")])), "root\n")


class ProcessLifetime(LifetimeCase):
    """lifetime = process: a segment goes with its last open file or mapping."""

    def setUp(self):
        super().setUp()
        self.m = self.mount_config("[dir scratch]\nlifetime = process\n")
        self.dir = self.m.path("scratch")
        self.seg = self.m.path("scratch", "seg")
        self.backing = self.m.backing("scratch", "seg")

    def test_segment_stays_while_open_and_goes_after_the_last_close(self):
        h = self.holder(self.seg, "-c", "4096", "-n")
        self.assertEqual(h.ask("pw 0 alive"), "ok")
        self.assertTrue(os.path.exists(self.backing))
        out = self.ok(run(["head", "-c", "5", self.seg]))
        self.assertEqual(out, "alive")
        self.assert_stays(self.backing, self.dir, "seg")
        self.assertEqual(h.ask("close"), "ok")
        self.assert_released(self.backing, self.dir, "seg")

    def test_mapping_keeps_the_segment_after_its_fd_is_closed(self):
        h = self.holder(self.seg, "-c", "8192")
        self.assertEqual(h.ask("w 0 mapped-data"), "ok")
        self.assertEqual(h.ask("close"), "ok")
        self.assert_stays(self.backing, self.dir, "seg")
        self.assertEqual(self.ok(run(["head", "-c", "11", self.seg])), "mapped-data")
        self.assertEqual(h.ask("r 0 11"), "mapped-data")
        self.assertEqual(h.ask("unmap"), "ok")
        self.assert_released(self.backing, self.dir, "seg")

    def test_a_segment_written_and_closed_at_once_goes(self):
        self.ok(sh("echo gone-soon > %s" % self.seg))
        self.assert_released(self.backing, self.dir, "seg")

    def test_the_last_of_two_users_releases_it(self):
        first = self.holder(self.seg, "-c", "4096")
        second = self.holder(self.seg, "-n")
        self.assertEqual(first.ask("w 0 shared"), "ok")
        first.stop()
        self.assert_stays(self.backing, self.dir, "seg")
        self.assertEqual(self.ok(run(["head", "-c", "6", self.seg])), "shared")
        second.stop()
        self.assert_released(self.backing, self.dir, "seg")

    def test_process_segment_is_served_cached_even_on_a_passthrough_mount(self):
        h = self.holder(self.seg, "-c", "4096")
        self.assertEqual(getfattr(self.seg, "user.shmfs.io"), "cached")
        self.assertEqual(getfattr(self.seg, "user.shmfs.lifetime"), "process")
        self.assertEqual(h.ask("w 0 via-mapping"), "ok")
        self.assertEqual(self.ok(run(["head", "-c", "11", self.seg])), "via-mapping")
        h.stop()
        self.assert_released(self.backing, self.dir, "seg")

    def test_other_segments_are_not_affected(self):
        self.ok(sh("echo kernel > %s" % self.m.path("root")))
        h = self.holder(self.seg, "-c", "4096", "-n")
        h.stop()
        self.assert_released(self.backing, self.dir, "seg")
        self.assertEqual(self.ls(self.m.mnt), ["root", "scratch"])
        self.assertEqual(self.read_backing(self.m.backing("root")), b"kernel\n")


class ProcessLifetimeOnDisk(LifetimeCase):

    def test_dir_on_disk_with_lifetime_process(self):
        store = self.disk_dir()
        m = self.mount_config("[dir scratch]\npath = %s\nlifetime = process\n" % store)
        h = self.holder(m.path("scratch", "seg"), "-c", "4096", "-n")
        self.assertEqual(h.ask("pw 0 disk"), "ok")
        self.assertEqual(os.listdir(store), ["seg"])
        self.assertEqual(getfattr(m.path("scratch", "seg"), "user.shmfs.lifetime"), "process")
        h.stop()
        self.assert_released(os.path.join(store, "seg"), m.path("scratch"), "seg")


class ProcessLeftovers(LifetimeCase):

    def test_restart_after_sigkill_removes_process_leftovers(self):
        d = self.shm_dir()
        store = self.disk_dir()
        cfg = self.config("[dir scratch]\nlifetime = process\n"
                          "[dir disk]\npath = %s\nlifetime = process\n" % store)
        m = self.mount(shm_dir=d, config=cfg)
        in_dir = self.holder(m.path("scratch", "seg"), "-c", "4096")
        on_disk = self.holder(m.path("disk", "seg"), "-c", "4096", "-n")
        self.ok(sh("echo marked > %s; echo plain > %s" % (m.path("marked"), m.path("plain"))))
        marked = self.holder(m.path("marked"), "-n")
        self.ok(run(["setfattr", "-n", "user.shmfs.lifetime", "-v", "process",
                     m.path("marked")]))
        self.crash(m, in_dir, on_disk, marked)
        leftovers = [os.path.join(d, "shmfs.scratch", "seg"), os.path.join(store, "seg"),
                     os.path.join(d, "shmfs.marked")]
        for p in leftovers:
            self.assertTrue(os.path.exists(p), "%s vanished with the crash" % p)
        m2 = self.mount(shm_dir=d, config=cfg)
        for p in leftovers:
            self.assertFalse(os.path.exists(p), "%s is still there after the restart" % p)
        self.assertEqual(self.ls(m2.mnt), ["disk", "plain", "scratch"])
        self.assertEqual(self.ls(m2.path("scratch")), [])
        self.assertEqual(self.ls(m2.path("disk")), [])
        self.assertEqual(self.ok(run(["cat", m2.path("plain")])), "plain\n")
