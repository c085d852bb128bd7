"""Grafts: segments and directories declared in the config ([segment NAME],
[dir NAME]), pinned at the root, stores on disk, renames across stores, and
config errors in those sections."""

import os

from harness import (Mount, MountError, ShmfsTestCase, getfattr, helper, is_fuse_mounted,
                     pattern, run, sh, stat_field, try_op)

KIB = 1 << 10


class GraftCase(ShmfsTestCase):
    """Config files and on-disk store directories made for one test."""

    def config(self, text):
        """A config file holding text (leading newline dropped); its path."""
        return super().config(text.lstrip("\n"))

    def write_file(self, path, data):
        with open(path, "wb") as f:
            f.write(data)


class DeclaredSegments(GraftCase):

    def test_declared_segment_exists_at_mount_with_its_size_and_mode(self):
        m = self.mount_config("[segment cam]\nsize = 64K\nmode = 0640\n")
        self.assertEqual(self.ls(m.mnt), ["cam"])
        self.assertEqual(stat_field(m.path("cam"), "%F %s %a %U %G"),
                         "regular file 65536 640 root root")
        st = os.stat(m.backing("cam"))
        self.assertEqual((st.st_size, st.st_mode & 0o7777), (64 * KIB, 0o640))

    def test_declared_segment_owner_and_group_by_name(self):
        m = self.mount_config("[segment cam]\nsize = 4096\nowner = nobody\ngroup = nogroup\n")
        self.assertEqual(stat_field(m.path("cam"), "%U %G %u %g"), "nobody nogroup 65534 65534")
        st = os.stat(m.backing("cam"))
        self.assertEqual((st.st_uid, st.st_gid), (65534, 65534))

    def test_declared_segment_owner_and_group_by_number(self):
        m = self.mount_config("[segment cam]\nowner = 65534\ngroup = 65534\nmode = 0604\n")
        self.assertEqual(stat_field(m.path("cam"), "%u %g %a"), "65534 65534 604")

    def test_declared_segment_defaults_are_empty_0600_and_the_daemons_user(self):
        m = self.mount_config("[segment plain]\n")
        self.assertEqual(stat_field(m.path("plain"), "%s %a %u %g"), "0 600 0 0")
        self.assertTrue(os.path.isfile(m.backing("plain")))

    def test_declared_segment_uses_the_prefix(self):
        m = self.mount_config("[segment cam]\nsize = 8K\n", prefix="app-")
        self.assertEqual(os.listdir(m.shm_dir), ["app-cam"])
        self.assertEqual(os.stat(os.path.join(m.shm_dir, "app-cam")).st_size, 8 * KIB)
        self.ok(sh("printf through-the-mount | dd of=%s conv=notrunc status=none"
                   % m.path("cam")))
        data = self.read_backing(os.path.join(m.shm_dir, "app-cam"))
        self.assertEqual(data[:17], b"through-the-mount")

    def test_prefault_populates_the_pages_at_mount(self):
        m = self.mount_config("[segment hot]\nsize = 1M\nprefault = yes\n"
                              "[segment cold]\nsize = 1M\n")
        self.assertGreaterEqual(os.stat(m.backing("hot")).st_blocks * 512, 1 << 20)
        self.assertEqual(os.stat(m.backing("cold")).st_blocks, 0)
        self.assertEqual(stat_field(m.path("hot"), "%s"), str(1 << 20))
        out = self.ok(run([helper("mapper"), "-r", m.path("hot"), "sum"]))
        self.assertEqual(out.strip(), "0")

    def test_existing_segment_keeps_its_bytes_and_its_size(self):
        d = self.shm_dir()
        self.write_file(os.path.join(d, "shmfs.cam"), b"kept bytes\n")
        m = self.mount_config("[segment cam]\nsize = 64K\nmode = 0640\n", shm_dir=d)
        self.assertEqual(self.ok(run(["cat", m.path("cam")])), "kept bytes\n")
        self.assertEqual(stat_field(m.path("cam"), "%s"), "11")
        self.assertEqual(self.read_backing(os.path.join(d, "shmfs.cam")), b"kept bytes\n")
        self.assertRegex(m.stderr(), r"\bcam\b", "no warning about the differing size of cam")

    def test_file_backend_keeps_the_bytes_in_path(self):
        disk = self.disk_dir()
        dat = os.path.join(disk, "cam.dat")
        m = self.mount_config("[segment cam]\nbackend = file\npath = %s\nsize = 8K\n" % dat)
        self.assertEqual(os.stat(dat).st_size, 8 * KIB)
        self.assertEqual(stat_field(m.path("cam"), "%s"), "8192")
        self.ok(sh("printf on-disk | dd of=%s bs=1 seek=100 conv=notrunc status=none"
                   % m.path("cam")))
        for name in os.listdir(m.shm_dir):
            p = os.path.join(m.shm_dir, name)
            self.assertFalse(os.path.isfile(p) and b"on-disk" in self.read_backing(p),
                             "the bytes went to %s" % p)
        m.stop()
        data = self.read_backing(dat)
        self.assertEqual(len(data), 8 * KIB)
        self.assertEqual(data[100:107], b"on-disk")

    def test_file_backend_msynced_mapping_reaches_the_file(self):
        disk = self.disk_dir()
        dat = os.path.join(disk, "log.dat")
        m = self.mount_config("[segment log]\nbackend = file\npath = %s\nsize = 64K\n" % dat)
        self.ok(run([helper("mapper"), m.path("log"), "fill", "0", "65536", "3", "msync"]))
        self.assertEqual(self.read_backing(dat), pattern(0, 64 * KIB, 3))

    def test_file_backend_existing_file_keeps_its_bytes(self):
        disk = self.disk_dir()
        dat = os.path.join(disk, "old.dat")
        self.write_file(dat, b"old data")
        m = self.mount_config("[segment old]\nbackend = file\npath = %s\nsize = 64K\n" % dat)
        self.assertEqual(self.ok(run(["cat", m.path("old")])), "old data")
        self.assertEqual(os.stat(dat).st_size, 8)

    def test_file_backend_xattrs_say_file_disk_and_the_path(self):
        disk = self.disk_dir()
        dat = os.path.join(disk, "log.dat")
        m = self.mount_config("[segment log]\nbackend = file\npath = %s\nsize = 4K\n"
                              "[segment cam]\nsize = 4K\n" % dat)
        self.assertEqual(getfattr(m.path("log"), "user.shmfs.backend"), "file")
        self.assertEqual(getfattr(m.path("log"), "user.shmfs.lifetime"), "disk")
        self.assertEqual(os.path.realpath(getfattr(m.path("log"), "user.shmfs.backing") or ""),
                         os.path.realpath(dat))
        self.assertEqual(getfattr(m.path("cam"), "user.shmfs.backend"), "shm")
        self.assertEqual(getfattr(m.path("cam"), "user.shmfs.lifetime"), "kernel")


class Pinned(GraftCase):
    """Declared names at the root cannot be removed or renamed (EBUSY)."""

    def setUp(self):
        super().setUp()
        self.disk = self.disk_dir()
        self.m = self.mount_config("[segment cam]\nsize = 4K\n"
                                   "[dir persist]\npath = %s\n"
                                   "[dir scratch]\n" % self.disk)

    def test_rm_of_a_declared_segment_is_ebusy(self):
        self.fails_with(run(["rm", "-f", self.m.path("cam")]), "Device or resource busy")
        self.assertEqual(try_op("os.unlink(A[0])", self.m.path("cam")), "EBUSY")
        self.assertEqual(self.ls(self.m.mnt), ["cam", "persist", "scratch"])
        self.assertEqual(os.stat(self.m.backing("cam")).st_size, 4096)

    def test_rmdir_of_a_graft_directory_is_ebusy(self):
        self.fails_with(run(["rmdir", self.m.path("persist")]), "Device or resource busy")
        self.assertEqual(try_op("os.rmdir(A[0])", self.m.path("scratch")), "EBUSY")
        self.assertEqual(self.ls(self.m.mnt), ["cam", "persist", "scratch"])
        self.assertTrue(os.path.isdir(self.disk))

    def test_mv_of_a_declared_name_is_ebusy(self):
        self.fails_with(run(["mv", self.m.path("cam"), self.m.path("other")]),
                        "Device or resource busy")
        self.assertEqual(try_op("os.rename(A[0], A[1])", self.m.path("persist"),
                                self.m.path("moved")), "EBUSY")
        self.assertEqual(try_op("os.rename(A[0], A[1])", self.m.path("scratch"),
                                self.m.path("moved")), "EBUSY")
        self.assertEqual(self.ls(self.m.mnt), ["cam", "persist", "scratch"])

    def test_mv_onto_a_declared_name_is_ebusy(self):
        self.ok(sh("echo intruder > %s" % self.m.path("other")))
        self.ok(run(["mkdir", self.m.path("d")]))
        self.fails_with(run(["mv", "-f", self.m.path("other"), self.m.path("cam")]),
                        "Device or resource busy")
        self.assertEqual(try_op("os.rename(A[0], A[1])", self.m.path("d"),
                                self.m.path("scratch")), "EBUSY")
        self.assertEqual(try_op("os.rename(A[0], A[1])", self.m.path("d"),
                                self.m.path("persist")), "EBUSY")
        self.assertEqual(self.ok(run(["cat", self.m.path("other")])), "intruder\n")
        self.assertEqual(stat_field(self.m.path("cam"), "%s"), "4096")
        self.assertEqual(self.ls(self.m.mnt), ["cam", "d", "other", "persist", "scratch"])

    def test_rename_exchange_with_a_declared_name_is_ebusy(self):
        self.ok(sh("echo other > %s" % self.m.path("other")))
        self.assertEqual(try_op("renameat2(A[0], A[1], 2)", self.m.path("other"),
                                self.m.path("cam")), "EBUSY")
        self.assertEqual(try_op("renameat2(A[0], A[1], 2)", self.m.path("cam"),
                                self.m.path("other")), "EBUSY")
        self.assertEqual(self.ok(run(["cat", self.m.path("other")])), "other\n")
        self.assertEqual(stat_field(self.m.path("cam"), "%s"), "4096")

    def test_files_inside_a_graft_directory_are_free(self):
        for top in ("persist", "scratch"):
            self.ok(sh("echo one > %s" % self.m.path(top, "a")))
            self.ok(run(["mv", self.m.path(top, "a"), self.m.path(top, "b")]))
            self.ok(run(["mkdir", self.m.path(top, "sub")]))
            self.ok(run(["mv", self.m.path(top, "b"), self.m.path(top, "sub", "c")]))
            self.assertEqual(self.ok(run(["cat", self.m.path(top, "sub", "c")])), "one\n")
            self.ok(run(["rm", "-r", self.m.path(top, "sub")]))
            self.assertEqual(self.ls(self.m.path(top)), [])
        self.assertEqual(os.listdir(self.disk), [])


class Stores(GraftCase):

    def test_dir_with_path_keeps_its_files_on_disk_across_a_remount(self):
        disk = self.disk_dir()
        cfg = self.config("[dir persist]\npath = %s\n" % disk)
        m = self.mount(config=cfg)
        self.ok(sh("echo on-disk > %s" % m.path("persist", "a")))
        self.ok(run(["mkdir", m.path("persist", "sub")]))
        self.ok(sh("echo deeper > %s" % m.path("persist", "sub", "b")))
        self.assertEqual(self.read_backing(os.path.join(disk, "a")), b"on-disk\n")
        self.assertEqual(self.read_backing(os.path.join(disk, "sub", "b")), b"deeper\n")
        self.assertNotIn("shmfs.a", os.listdir(m.shm_dir))
        self.assertFalse(os.path.exists(m.backing("persist", "a")))
        m.stop()
        self.assertEqual(sorted(os.listdir(disk)), ["a", "sub"])
        m2 = self.mount(config=cfg)
        self.assertEqual(self.ls(m2.path("persist")), ["a", "sub"])
        self.assertEqual(self.ok(run(["cat", m2.path("persist", "a")])), "on-disk\n")
        self.assertEqual(self.ok(run(["cat", m2.path("persist", "sub", "b")])), "deeper\n")

    def test_dir_path_is_created_when_missing(self):
        disk = self.disk_dir()
        store = os.path.join(disk, "store")
        m = self.mount_config("[dir persist]\npath = %s\nmode = 0700\nowner = nobody\n"
                              "group = nogroup\n" % store)
        self.assertTrue(os.path.isdir(store))
        st = os.stat(store)
        self.assertEqual((st.st_mode & 0o7777, st.st_uid, st.st_gid), (0o700, 65534, 65534))
        self.assertEqual(stat_field(m.path("persist"), "%F %a %U"), "directory 700 nobody")
        self.ok(sh("echo x > %s" % m.path("persist", "f")))
        self.assertEqual(os.listdir(store), ["f"])

    def test_existing_dir_path_keeps_its_mode_and_files(self):
        store = self.disk_dir()
        os.chmod(store, 0o755)
        self.write_file(os.path.join(store, "old"), b"was here\n")
        m = self.mount_config("[dir persist]\npath = %s\nmode = 0700\n" % store)
        self.assertEqual(os.stat(store).st_mode & 0o7777, 0o755)
        self.assertEqual(self.ls(m.path("persist")), ["old"])
        self.assertEqual(self.ok(run(["cat", m.path("persist", "old")])), "was here\n")

    def test_dir_without_path_is_a_directory_of_the_shm_dir(self):
        m = self.mount_config("[dir scratch]\nmode = 0750\n")
        self.assertEqual(stat_field(m.path("scratch"), "%F %a"), "directory 750")
        self.ok(sh("echo in-shm > %s" % m.path("scratch", "x")))
        self.assertEqual(self.read_backing(m.backing("scratch", "x")), b"in-shm\n")
        self.assertEqual(os.stat(m.backing("scratch")).st_mode & 0o7777, 0o750)
        self.assertEqual(getfattr(m.path("scratch", "x"), "user.shmfs.backend"), "shm")

    def test_files_of_an_on_disk_store_say_backend_file_and_lifetime_disk(self):
        disk = self.disk_dir()
        m = self.mount_config("[dir persist]\npath = %s\n" % disk)
        self.ok(sh("echo x > %s" % m.path("persist", "f")))
        self.assertEqual(getfattr(m.path("persist", "f"), "user.shmfs.backend"), "file")
        self.assertEqual(getfattr(m.path("persist", "f"), "user.shmfs.lifetime"), "disk")
        backing = getfattr(m.path("persist", "f"), "user.shmfs.backing") or ""
        self.assertEqual(os.path.realpath(backing), os.path.realpath(os.path.join(disk, "f")))

    def test_two_dirs_on_disk_are_separate(self):
        one, two = self.disk_dir(), self.disk_dir()
        m = self.mount_config("[dir one]\npath = %s\n[dir two]\npath = %s\n" % (one, two))
        self.ok(sh("echo 1 > %s; echo 2 > %s" % (m.path("one", "f"), m.path("two", "g"))))
        self.assertEqual(os.listdir(one), ["f"])
        self.assertEqual(os.listdir(two), ["g"])
        self.assertEqual(self.ls(m.path("one")), ["f"])
        self.assertEqual(self.ls(m.path("two")), ["g"])


class CrossStore(GraftCase):
    """A rename between stores is EXDEV, so mv copies."""

    def setUp(self):
        super().setUp()
        self.disk = self.disk_dir()
        self.m = self.mount_config("[dir persist]\npath = %s\n[dir scratch]\n" % self.disk)
        self.ok(sh("echo root > %s; echo disk > %s; echo shm > %s"
                   % (self.m.path("r"), self.m.path("persist", "p"),
                      self.m.path("scratch", "s"))))

    def rename(self, src, dst):
        return try_op("os.rename(A[0], A[1])", src, dst)

    def test_rename_from_the_root_into_a_dir_on_disk_is_exdev(self):
        self.assertEqual(self.rename(self.m.path("r"), self.m.path("persist", "r")), "EXDEV")
        self.assertEqual(os.listdir(self.disk), ["p"])

    def test_rename_from_a_dir_on_disk_to_the_root_is_exdev(self):
        self.assertEqual(self.rename(self.m.path("persist", "p"), self.m.path("p")), "EXDEV")

    def test_rename_between_two_dirs_is_exdev(self):
        self.assertEqual(self.rename(self.m.path("persist", "p"), self.m.path("scratch", "p")),
                         "EXDEV")
        self.assertEqual(self.rename(self.m.path("scratch", "s"), self.m.path("persist", "s")),
                         "EXDEV")

    def test_rename_from_the_root_into_a_shm_dir_graft_is_exdev(self):
        self.assertEqual(self.rename(self.m.path("r"), self.m.path("scratch", "r")), "EXDEV")

    def test_rename_of_a_directory_across_stores_is_exdev(self):
        self.ok(run(["mkdir", self.m.path("d")]))
        self.assertEqual(self.rename(self.m.path("d"), self.m.path("persist", "d")), "EXDEV")
        self.assertEqual(self.rename(self.m.path("d"), self.m.path("scratch", "d")), "EXDEV")
        self.assertEqual(os.listdir(self.disk), ["p"])

    def test_mv_from_the_root_to_disk_copies_the_file(self):
        self.ok(run(["mv", self.m.path("r"), self.m.path("persist", "r")]))
        self.assertEqual(self.read_backing(os.path.join(self.disk, "r")), b"root\n")
        self.assertEqual(self.ls(self.m.mnt), ["persist", "scratch"])
        self.assertFalse(os.path.exists(self.m.backing("r")))
        self.assertEqual(self.ok(run(["cat", self.m.path("persist", "r")])), "root\n")

    def test_mv_between_stores_copies_quietly(self):
        # mv copies extended attributes too: the descriptive user.shmfs.*
        # ones must not make it complain.
        r = run(["mv", self.m.path("r"), self.m.path("persist", "r")])
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        self.assertEqual(getfattr(self.m.path("persist", "r"), "user.shmfs.lifetime"), "disk")
        r = run(["cp", "-a", self.m.path("persist", "p"), self.m.path("p2")])
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        self.assertEqual(getfattr(self.m.path("p2"), "user.shmfs.lifetime"), "kernel")

    def test_mv_from_disk_to_the_root_copies_the_file(self):
        self.ok(run(["mv", self.m.path("persist", "p"), self.m.path("p")]))
        self.assertEqual(self.read_backing(self.m.backing("p")), b"disk\n")
        self.assertEqual(os.listdir(self.disk), [])


class BadGraftConfig(GraftCase):
    """A bad [segment]/[dir] section: exit 1, FILE:LINE: on stderr, no mount."""

    HEAD = "; shmfs test config\n[shmfs]\nmax_segments = 100\n\n"

    def mount_fails(self, body, *lines):
        """Mount with HEAD + body; it must fail with status 1 and name one of
        lines (1-based, counted in body) of the file on stderr."""
        text = self.HEAD + body
        path = self.config(text)
        offset = self.HEAD.count("\n")
        d = self.shm_dir()
        m = Mount(config=path, shm_dir=d)
        self.addCleanup(m.stop)
        try:
            m.start()
        except MountError:
            pass
        else:
            self.fail("the mount succeeded with:\n" + text)
        self.assertFalse(is_fuse_mounted(m.mnt), "a failed start left a mount")
        self.assertTrue(m.wait_exit(10))
        err = m.stderr()
        self.assertEqual(m.exit_status, 1, err)
        wanted = ["%s:%d:" % (path, offset + n) for n in lines]
        self.assertTrue(any(w in err for w in wanted),
                        "none of %s on stderr:\n%s" % (wanted, err))
        self.assertEqual(os.listdir(d), [], "a failed start created backing objects")
        return err

    def test_unknown_lifetime(self):
        self.mount_fails("[dir d]\nmode = 0700\nlifetime = forever\n", 3)

    def test_size_that_does_not_parse(self):
        self.mount_fails("[segment s]\nmode = 0600\nsize = 12Q\n", 3)

    def test_dir_path_that_is_a_regular_file(self):
        f = self.tmpfile(b"a file, not a directory")
        self.mount_fails("[dir d]\npath = %s\n" % f, 2)

    def test_name_with_a_slash(self):
        self.mount_fails("[segment ok]\n\n[segment a/b]\nsize = 4K\n", 3)

    def test_the_same_name_declared_twice(self):
        self.mount_fails("[segment x]\nsize = 4K\n\n[dir x]\n", 4)

    def test_lifetime_process_on_a_segment(self):
        self.mount_fails("[segment s]\nsize = 4K\nlifetime = process\n", 3)

    def test_file_backend_without_path(self):
        # either the section or its backend line is the right place
        self.mount_fails("[segment s]\nsize = 4K\nbackend = file\n", 1, 3)

    def test_unknown_key_in_a_segment(self):
        err = self.mount_fails("[segment s]\nsize = 4K\ncolour = blue\n", 3)
        self.assertIn("colour", err)
