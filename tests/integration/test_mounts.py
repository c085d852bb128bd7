"""Mounts: what survives a remount, what two mounts share, statfs, ro."""

import os

from harness import Mount, ShmfsTestCase, helper, is_fuse_mounted, pattern, run, sh, try_op

MIB = 1 << 20


class Remount(ShmfsTestCase):

    def test_mount_is_always_nosuid_and_nodev(self):
        m = self.mount(options=["suid", "dev"])
        opts = [line.split()[3] for line in open("/proc/self/mounts")
                if line.split()[1] == m.mnt]
        self.assertEqual(len(opts), 1)
        self.assertIn("nosuid", opts[0].split(","))
        self.assertIn("nodev", opts[0].split(","))

    def test_segments_survive_unmount_and_remount(self):
        d = self.shm_dir()
        m = self.mount(shm_dir=d)
        self.ok(sh("echo persistent > %s" % m.path("keep")))
        self.ok(run(["mkdir", m.path("dir")]))
        self.ok(sh("echo inner > %s" % m.path("dir", "f")))
        m.stop()
        self.assertEqual(self.read_backing(os.path.join(d, "shmfs.keep")), b"persistent\n")
        m2 = self.mount(shm_dir=d)
        self.assertEqual(self.ls(m2.mnt), ["dir", "keep"])
        self.assertEqual(self.ok(run(["cat", m2.path("keep")])), "persistent\n")
        self.assertEqual(self.ok(run(["cat", m2.path("dir", "f")])), "inner\n")

    def test_msynced_mapping_data_is_in_the_backing_file_after_unmount(self):
        d = self.shm_dir()
        m = self.mount(shm_dir=d)
        self.ok(run([helper("mapper"), "-c", str(MIB), m.path("img"),
                     "fill", "0", str(MIB), "21", "msync"]))
        self.ok(sh("printf tail | dd of=%s bs=1 seek=%d conv=notrunc status=none"
                   % (m.path("img"), MIB - 4)))
        m.stop()
        data = self.read_backing(os.path.join(d, "shmfs.img"))
        self.assertEqual(len(data), MIB)
        self.assertEqual(data[:MIB - 4], pattern(0, MIB - 4, 21))
        self.assertEqual(data[MIB - 4:], b"tail")

    def test_remount_with_the_same_prefix_in_dev_shm(self):
        prefix = self.shm_prefix()
        m = self.mount(shm_dir="/dev/shm", prefix=prefix)
        self.ok(sh("echo again > %s" % m.path("s")))
        m.stop()
        m2 = self.mount(shm_dir="/dev/shm", prefix=prefix)
        self.assertEqual(self.ok(run(["cat", m2.path("s")])), "again\n")
        self.assertEqual(self.ok(run(["ls", "-A1", m2.mnt])).split(), ["s"])


class TwoMounts(ShmfsTestCase):

    def test_two_shm_dirs_do_not_see_each_other(self):
        a = self.mount()
        b = self.mount()
        self.ok(sh("echo A > %s" % a.path("only-a")))
        self.ok(sh("echo B > %s" % b.path("only-b")))
        self.assertEqual(self.ok(run(["ls", "-A1", a.mnt])).split(), ["only-a"])
        self.assertEqual(self.ok(run(["ls", "-A1", b.mnt])).split(), ["only-b"])
        self.assertEqual(try_op("os.stat(A[0])", b.path("only-a")), "ENOENT")

    def test_two_prefixes_in_one_shm_dir_do_not_see_each_other(self):
        d = self.shm_dir()
        a = self.mount(shm_dir=d, prefix="a.")
        b = self.mount(shm_dir=d, prefix="b.")
        self.ok(sh("echo A > %s" % a.path("x")))
        self.assertEqual(self.ok(run(["ls", "-A", b.mnt])), "")
        self.assertEqual(try_op("os.stat(A[0])", b.path("x")), "ENOENT")
        self.ok(sh("echo B > %s" % b.path("x")))
        self.assertEqual(self.ok(run(["cat", a.path("x")])), "A\n")
        self.assertEqual(self.ok(run(["cat", b.path("x")])), "B\n")
        self.assertEqual(sorted(os.listdir(d)), ["a.x", "b.x"])

    def test_same_store_mounted_twice_shares_segments(self):
        d = self.shm_dir()
        a = self.mount(shm_dir=d)
        b = self.mount(shm_dir=d)
        self.ok(sh("echo shared > %s" % a.path("s")))
        self.assertEqual(self.ok(run(["cat", b.path("s")])), "shared\n")


class Statfs(ShmfsTestCase):

    def test_df_reports_the_size_of_the_shm_dir_filesystem(self):
        m = self.mount()
        mnt_size = self.ok(run(["df", "-B1", "--output=size", m.mnt])).split()[-1]
        dir_size = self.ok(run(["df", "-B1", "--output=size", m.shm_dir])).split()[-1]
        self.assertEqual(mnt_size, dir_size)
        self.assertGreater(int(mnt_size), 0)

    def test_statvfs_counts_match_the_shm_dir(self):
        m = self.mount()
        code = ("import os, sys\n"
                "s = os.statvfs(sys.argv[1])\n"
                "print(s.f_blocks * s.f_frsize, s.f_namemax > 0)\n")
        out = self.ok(run(["/usr/bin/python3", "-c", code, m.mnt])).split()
        st = os.statvfs(m.shm_dir)
        self.assertEqual(int(out[0]), st.f_blocks * st.f_frsize)
        self.assertEqual(out[1], "True")


class ReadOnly(ShmfsTestCase):

    def test_ro_mount_reads_but_refuses_writes(self):
        d = self.shm_dir()
        with open(os.path.join(d, "shmfs.seg"), "w") as f:
            f.write("readable")
        m = self.mount(shm_dir=d, options=["ro"])
        self.assertEqual(self.ok(run(["cat", m.path("seg")])), "readable")
        self.fails_with(sh("echo x > %s" % m.path("new")), "Read-only file system")
        self.fails_with(sh("echo x >> %s" % m.path("seg")), "Read-only file system")
        self.assertEqual(sorted(os.listdir(d)), ["shmfs.seg"])


class DaemonFlags(ShmfsTestCase):

    def test_single_threaded_mount_works(self):
        m = self.mount(flags=["-s"])
        self.ok(sh("echo single > %s" % m.path("s")))
        self.assertEqual(self.ok(run(["cat", m.path("s")])), "single\n")

    def test_debug_mount_works_and_logs(self):
        m = self.mount(flags=["-d"])
        self.ok(sh("echo debug > %s" % m.path("s")))
        self.assertEqual(self.ok(run(["cat", m.path("s")])), "debug\n")
        self.assertNotEqual(m.stderr().strip(), "")

    def test_teardown_unmounts_and_removes_the_directories(self):
        m = Mount()
        try:
            m.start()
            self.assertTrue(is_fuse_mounted(m.mnt))
        finally:
            m.stop()
        self.assertFalse(is_fuse_mounted(m.mnt))
        self.assertFalse(os.path.exists(m.mnt))
        self.assertFalse(os.path.exists(m.shm_dir))
