"""Restart: after kill -9 of the daemon and a new mount with the same config,
every segment and every byte is where it was, grafts included."""

import os

from harness import (ShmfsTestCase, abort_fuse_connections, helper, is_fuse_mounted,
                     pattern, run, sh, stat_field, try_op)

KIB = 1 << 10


class Restart(ShmfsTestCase):

    def setUp(self):
        super().setUp()
        self.shm = self.shm_dir()
        self.disk = self.disk_dir()
        self.store = os.path.join(self.disk, "persist")
        self.logfile = os.path.join(self.disk, "log.dat")
        text = ("[dir persist]\npath = %s\n\n"
                "[segment cam]\nsize = 64K\nmode = 0640\n\n"
                "[segment log]\nbackend = file\npath = %s\nsize = 16K\n"
                % (self.store, self.logfile))
        self.cfg = self.config(text)
        self.blob = os.urandom(300 * KIB)
        self.blobfile = self.tmpfile(self.blob)

    def start(self):
        return self.mount(shm_dir=self.shm, config=self.cfg)

    def crash(self, m):
        """kill -9 the daemon and leave no mount behind."""
        m.expect_exit = True
        m.kill_daemon()
        self.assertTrue(m.daemon_exited())
        run(["fusermount3", "-uz", m.mnt], timeout=10)
        if is_fuse_mounted(m.mnt):
            abort_fuse_connections(m.mnt)
            run(["umount", "-l", m.mnt], timeout=10)
        self.assertFalse(is_fuse_mounted(m.mnt), "the dead mount is still there")

    def check_pattern(self, path, off, length, seed):
        out = self.ok(run([helper("mapper"), "-r", path, "check", str(off), str(length),
                           str(seed)]))
        self.assertEqual(out.strip(), "ok", path)

    def fill(self, path, off, length, seed, create=None):
        opts = ["-c", str(create)] if create is not None else []
        self.ok(run([helper("mapper")] + opts + [path, "fill", str(off), str(length),
                                                  str(seed), "msync"]))

    def cmp(self, path):
        self.ok(run(["cmp", self.blobfile, path]))

    def write_everything(self, m):
        """write() and msynced mappings into every kind of segment."""
        self.ok(run(["cp", self.blobfile, m.path("a")]))
        self.fill(m.path("m"), 0, 128 * KIB, 5, create=128 * KIB)
        self.ok(run(["mkdir", m.path("sub")]))
        self.ok(sh("echo nested > %s" % m.path("sub", "n")))
        self.ok(run(["cp", self.blobfile, m.path("persist", "p")]))
        self.fill(m.path("persist", "pm"), 0, 64 * KIB, 9, create=64 * KIB)
        self.fill(m.path("cam"), 0, 64 * KIB, 11)
        self.ok(run(["truncate", "-s", "96K", m.path("cam")]))
        self.ok(sh("printf tail-of-cam | dd of=%s bs=1 seek=%d conv=notrunc status=none"
                   % (m.path("cam"), 96 * KIB - 11)))
        self.ok(sh("printf log-line | dd of=%s conv=notrunc status=none" % m.path("log")))
        self.fill(m.path("log"), 4 * KIB, 4 * KIB, 13)

    def test_every_segment_and_byte_is_back_after_kill_9(self):
        m = self.start()
        self.write_everything(m)
        self.crash(m)
        m2 = self.start()
        self.assertEqual(self.ls(m2.mnt), ["a", "cam", "log", "m", "persist", "sub"])
        self.cmp(m2.path("a"))
        self.check_pattern(m2.path("m"), 0, 128 * KIB, 5)
        self.assertEqual(self.ok(run(["cat", m2.path("sub", "n")])), "nested\n")
        self.assertEqual(self.ls(m2.path("persist")), ["p", "pm"])
        self.cmp(m2.path("persist", "p"))
        self.check_pattern(m2.path("persist", "pm"), 0, 64 * KIB, 9)

    def test_declared_segments_are_reattached_with_their_data(self):
        m = self.start()
        self.write_everything(m)
        self.crash(m)
        m2 = self.start()
        self.assertEqual(stat_field(m2.path("cam"), "%s %a"), "%d 640" % (96 * KIB))
        self.check_pattern(m2.path("cam"), 0, 64 * KIB, 11)
        self.assertEqual(self.ok(run(["tail", "-c", "11", m2.path("cam")])), "tail-of-cam")
        self.assertEqual(stat_field(m2.path("log"), "%s"), str(16 * KIB))
        self.assertEqual(self.ok(run(["head", "-c", "8", m2.path("log")])), "log-line")
        self.check_pattern(m2.path("log"), 4 * KIB, 4 * KIB, 13)
        data = self.read_backing(self.logfile)
        self.assertEqual(data[4 * KIB:8 * KIB], pattern(4 * KIB, 4 * KIB, 13))

    def test_backing_objects_hold_the_data_right_after_the_crash(self):
        m = self.start()
        self.write_everything(m)
        self.crash(m)
        self.assertEqual(self.read_backing(os.path.join(self.shm, "shmfs.a")), self.blob)
        self.assertEqual(self.read_backing(os.path.join(self.shm, "shmfs.m")),
                         pattern(0, 128 * KIB, 5))
        self.assertEqual(self.read_backing(os.path.join(self.store, "p")), self.blob)
        self.assertEqual(self.read_backing(os.path.join(self.store, "pm")),
                         pattern(0, 64 * KIB, 9))
        self.assertEqual(self.read_backing(self.logfile)[:8], b"log-line")

    def test_grafts_are_pinned_again_after_the_restart(self):
        m = self.start()
        self.ok(sh("echo x > %s" % m.path("persist", "f")))
        self.crash(m)
        m2 = self.start()
        self.assertEqual(try_op("os.unlink(A[0])", m2.path("cam")), "EBUSY")
        self.assertEqual(try_op("os.rmdir(A[0])", m2.path("persist")), "EBUSY")
        self.assertEqual(try_op("os.rename(A[0], A[1])", m2.path("persist", "f"), m2.path("f")),
                         "EXDEV")
        self.ok(sh("echo y > %s" % m2.path("persist", "g")))
        self.assertEqual(sorted(os.listdir(self.store)), ["f", "g"])

    def test_a_second_crash_and_restart_still_has_everything(self):
        m = self.start()
        self.write_everything(m)
        self.crash(m)
        m2 = self.start()
        self.ok(sh("echo after-first > %s" % m2.path("persist", "later")))
        self.crash(m2)
        m3 = self.start()
        self.cmp(m3.path("a"))
        self.check_pattern(m3.path("cam"), 0, 64 * KIB, 11)
        self.assertEqual(self.ok(run(["cat", m3.path("persist", "later")])), "after-first\n")
        self.cmp(m3.path("persist", "p"))
