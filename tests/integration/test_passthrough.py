"""Kernel passthrough: a mapping through the mount is the shm object's pages."""

import os
import signal
import subprocess
import time

from harness import (SHMFS, AS_NOBODY, MOUNT_TIMEOUT, Mount, MountError, ShmfsTestCase,
                     getfattr, helper, is_fuse_mounted, meminfo, run, sh)

MIB = 1 << 20


class Passthrough(ShmfsTestCase):
    passthrough_only = True

    def test_mount_mapping_and_backing_mapping_see_each_other_without_msync(self):
        m = self.mount()
        self.ok(run(["truncate", "-s", "64K", m.path("seg")]))
        via_mount = self.mapper(m.path("seg"))
        direct = self.mapper(m.backing("seg"))
        self.assertEqual(via_mount.ask("w 10 through-the-mount"), "ok")
        self.assertEqual(direct.ask("r 10 17"), "through-the-mount")
        self.assertEqual(direct.ask("w 40000 direct-write"), "ok")
        self.assertEqual(via_mount.ask("r 40000 12"), "direct-write")

    def test_a_segment_reopens_after_its_last_close_in_either_mode(self):
        # Its passthrough backing stays registered after the last close (until
        # the kernel forgets the inode); a segment marked process later opens
        # cached, so the registration must give way.
        m = self.mount()
        seg = m.path("seg")
        for i in range(3):
            self.ok(sh("echo round%d >> '%s' && cat '%s' > /dev/null" % (i, seg, seg)))
        self.assertEqual(self.read_backing(m.backing("seg")), b"round0\nround1\nround2\n")
        self.assertEqual(getfattr(seg, "user.shmfs.io"), "passthrough")
        self.ok(run(["setfattr", "-n", "user.shmfs.lifetime", "-v", "process", seg]))
        self.assertEqual(getfattr(seg, "user.shmfs.io"), "cached")
        holder = self.mapper(seg)
        self.assertEqual(holder.ask("r 0 6"), "round0")
        holder.stop()
        deadline = time.monotonic() + 5
        while os.path.exists(m.backing("seg")) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(os.path.exists(m.backing("seg")), "the process segment stayed")

    def test_shm_open_writer_is_seen_by_a_mount_mapping_at_once(self):
        prefix = self.shm_prefix()
        m = self.mount(shm_dir="/dev/shm", prefix=prefix)
        self.ok(run([helper("shm_seg"), prefix, "cam", "create", "4096"]))
        via_mount = self.mapper(m.path("cam"))
        self.ok(run([helper("shm_seg"), prefix, "cam", "write", "7", "shm-open-write"]))
        self.assertEqual(via_mount.ask("r 7 14"), "shm-open-write")
        self.assertEqual(via_mount.ask("w 100 back-to-shm"), "ok")
        out = self.ok(run([helper("shm_seg"), prefix, "cam", "print", "100", "11"]))
        self.assertEqual(out, "back-to-shm")

    def test_read_of_a_256_mib_segment_does_not_double_the_page_cache(self):
        # Cached: counts every page cache page of the machine, so other work
        # can only add to it: take the least growth of up to three tries, each
        # on a fresh mount (a new FUSE inode with an empty page cache).
        d = self.shm_dir()
        self.ok(run(["dd", "if=/dev/zero", "of=" + os.path.join(d, "shmfs.big"), "bs=1M",
                     "count=256", "status=none"], timeout=60))
        growths = []
        for _ in range(3):
            m = self.mount(shm_dir=d)
            before = meminfo("Cached")
            self.ok(run(["dd", "if=" + m.path("big"), "of=/dev/null", "bs=1M", "status=none"],
                        timeout=60))
            self.assertEqual(self.ok(run([helper("mapper"), "-r", m.path("big"), "sum"],
                                         timeout=60)).strip(), "0")
            growths.append(meminfo("Cached") - before)
            m.stop()
            if growths[-1] < 64 * MIB:
                break
        self.assertLess(min(growths), 64 * MIB,
                        "Cached grew by %s MiB" % [g // MIB for g in growths])

    def test_mapping_survives_sigkill_of_the_daemon(self):
        m = self.mount()
        self.ok(run(["truncate", "-s", "64K", m.path("seg")]))
        c = self.mapper(m.path("seg"))
        self.assertEqual(c.ask("w 0 before"), "ok")
        m.expect_exit = True
        os.kill(m.pid, signal.SIGKILL)
        self.assertTrue(m.wait_exit(10))
        self.assertEqual(c.ask("r 0 6"), "before")
        self.assertEqual(c.ask("w 6 after-the-crash"), "ok")
        self.assertEqual(c.ask("r 0 21"), "beforeafter-the-crash")
        self.assertEqual(self.read_backing(m.backing("seg"))[:21], b"beforeafter-the-crash")
        c.stop()
        # auto_unmount (the default) has fusermount3 take the dead mount away
        # by itself, soon; whatever is left, fusermount3 -uz removes.
        deadline = time.monotonic() + 5
        while is_fuse_mounted(m.mnt) and time.monotonic() < deadline:
            if run(["fusermount3", "-uz", m.mnt]).returncode != 0:
                time.sleep(0.05)
        self.assertFalse(is_fuse_mounted(m.mnt))


class Unprivileged(ShmfsTestCase):
    """The daemon run by uid 65534, without CAP_SYS_ADMIN."""
    passthrough_only = True

    def setUp(self):
        super().setUp()
        # libfuse opens /dev/fuse itself before it falls back to fusermount3,
        # so a user can mount only where /dev/fuse is open to others (Debian's
        # udev makes it 0666; some machines leave it 0600). Open it to others
        # for this test only, as udev would, and put its mode back after.
        mode_before = os.stat("/dev/fuse").st_mode & 0o7777
        if mode_before & 0o006 != 0o006:
            os.chmod("/dev/fuse", mode_before | 0o006)
            self.addCleanup(os.chmod, "/dev/fuse", mode_before)

    def nobody_dirs(self):
        return self.shm_dir(owner=65534), self.mountpoint(owner=65534)

    def test_passthrough_on_fails_cleanly_without_cap_sys_admin(self):
        d, mnt = self.nobody_dirs()
        args = AS_NOBODY + ["--inh-caps=-all", SHMFS, "-f", "-o",
                            "shm_dir=%s,passthrough=on" % d, "none", mnt]
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd="/")
        try:
            out, err = proc.communicate(timeout=MOUNT_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate(timeout=10)
            self.fail("shmfs passthrough=on as nobody kept running (mounted: %s)"
                      % is_fuse_mounted(mnt))
        finally:
            if is_fuse_mounted(mnt):
                subprocess.run(["umount", "-l", mnt], capture_output=True, timeout=10)
        self.assertEqual(proc.returncode, 1, out + err)
        self.assertIn("passthrough", (out + err).lower())
        self.assertFalse(is_fuse_mounted(mnt))

    def test_passthrough_auto_falls_back_to_cached_mode(self):
        d, mnt = self.nobody_dirs()
        m = Mount(shm_dir=d, mountpoint=mnt, passthrough="auto", user="nobody")
        self.addCleanup(m.stop)
        try:
            m.start()
        except MountError as e:
            self.fail(str(e))
        self.ok(sh("echo x > %s" % m.path("f"), user="nobody"))
        self.assertEqual(getfattr(m.path("f"), "user.shmfs.io", user="nobody"), "cached")
        self.assertEqual(self.ok(run(["cat", m.path("f")], user="nobody")), "x\n")
        self.assertEqual(os.stat(m.backing("f")).st_uid, 65534)
