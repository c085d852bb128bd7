"""Names: MOUNT/NAME is SHM_DIR/PREFIXNAME; directories, rename, errors."""

import os
import socket

from harness import ShmfsTestCase, run, sh, try_op


class Naming(ShmfsTestCase):

    def test_default_prefix_is_shmfs_dot(self):
        m = self.mount()
        self.ok(sh("echo a > %s" % m.path("cam0")))
        self.assertEqual(os.listdir(m.shm_dir), ["shmfs.cam0"])

    def test_custom_prefix_names_the_backing_object(self):
        m = self.mount(prefix="pfx-")
        self.ok(sh("echo data > %s" % m.path("cam0")))
        self.assertEqual(os.listdir(m.shm_dir), ["pfx-cam0"])
        self.assertEqual(self.read_backing(os.path.join(m.shm_dir, "pfx-cam0")), b"data\n")

    def test_subdirectory_backing_has_no_prefix_below_the_top(self):
        m = self.mount()
        self.ok(run(["mkdir", "-p", m.path("a", "b")]))
        self.ok(sh("echo deep > %s" % m.path("a", "b", "c")))
        self.assertTrue(os.path.isdir(os.path.join(m.shm_dir, "shmfs.a", "b")))
        self.assertEqual(self.read_backing(os.path.join(m.shm_dir, "shmfs.a", "b", "c")),
                         b"deep\n")
        self.assertEqual(self.ok(run(["ls", "-A", m.path("a")])).split(), ["b"])

    def test_entries_without_the_prefix_are_hidden(self):
        m = self.mount()
        with open(os.path.join(m.shm_dir, "other"), "w") as f:
            f.write("not ours")
        with open(os.path.join(m.shm_dir, "shmfs.mine"), "w") as f:
            f.write("ours")
        self.assertEqual(self.ok(run(["ls", "-A1", m.mnt])).split(), ["mine"])
        self.assertEqual(try_op("os.stat(A[0])", m.path("other")), "ENOENT")
        self.assertEqual(self.ok(run(["cat", m.path("mine")])), "ours")

    def test_planted_symlink_fifo_and_socket_are_shown_by_type(self):
        m = self.mount()
        secret = self.tmpfile(b"secret outside the store\n")
        with open(os.path.join(m.shm_dir, "shmfs.real"), "w") as f:
            f.write("real")
        os.symlink(secret, os.path.join(m.shm_dir, "shmfs.link"))
        os.mkfifo(os.path.join(m.shm_dir, "shmfs.fifo"))
        s = socket.socket(socket.AF_UNIX)
        self.addCleanup(s.close)
        s.bind(os.path.join(m.shm_dir, "shmfs.sock"))
        self.assertEqual(self.ls(m.mnt), ["fifo", "link", "real", "sock"])
        self.assertEqual(self.ok(run(["stat", "-c", "%F", m.path("link"), m.path("fifo"),
                                      m.path("sock")], timeout=5)).splitlines(),
                         ["symbolic link", "fifo", "socket"])
        self.assertEqual(self.ok(run(["readlink", m.path("link")])), secret + "\n")

    def test_entry_named_only_the_prefix_is_not_shown(self):
        m = self.mount()
        open(os.path.join(m.shm_dir, "shmfs."), "w").close()
        open(os.path.join(m.shm_dir, "shmfs.x"), "w").close()
        self.assertEqual(self.ok(run(["ls", "-A1", m.mnt])).split(), ["x"])


class Directories(ShmfsTestCase):

    def setUp(self):
        super().setUp()
        self.m = self.mount()

    def test_mkdir_and_rmdir(self):
        self.ok(run(["mkdir", self.m.path("d")]))
        self.assertTrue(os.path.isdir(self.m.backing("d")))
        self.ok(run(["rmdir", self.m.path("d")]))
        self.assertFalse(os.path.exists(self.m.backing("d")))
        self.assertEqual(self.ok(run(["ls", "-A", self.m.mnt])), "")

    def test_rmdir_of_a_non_empty_directory_is_enotempty(self):
        self.ok(run(["mkdir", self.m.path("d")]))
        self.ok(run(["touch", self.m.path("d", "f")]))
        self.fails_with(run(["rmdir", self.m.path("d")]), "Directory not empty")
        self.assertEqual(try_op("os.rmdir(A[0])", self.m.path("d")), "ENOTEMPTY")

    def test_mkdir_of_an_existing_name_is_eexist(self):
        self.ok(run(["touch", self.m.path("f")]))
        self.assertEqual(try_op("os.mkdir(A[0])", self.m.path("f")), "EEXIST")

    def test_segments_in_a_directory_are_listed_there_only(self):
        self.ok(run(["mkdir", self.m.path("d")]))
        self.ok(run(["touch", self.m.path("d", "x"), self.m.path("d", "y"), self.m.path("top")]))
        self.assertEqual(self.ls(self.m.path("d")), ["x", "y"])
        self.assertEqual(self.ls(self.m.mnt), ["d", "top"])

    def test_rm_r_removes_a_tree(self):
        self.ok(run(["mkdir", "-p", self.m.path("t", "u", "v")]))
        self.ok(sh("echo 1 > %s; echo 2 > %s" % (self.m.path("t", "f"),
                                                 self.m.path("t", "u", "v", "g"))))
        self.ok(run(["rm", "-r", self.m.path("t")]))
        self.assertEqual(os.listdir(self.m.shm_dir), [])


class Rename(ShmfsTestCase):

    def setUp(self):
        super().setUp()
        self.m = self.mount()

    def put(self, name, text):
        self.ok(sh("printf '%s' > %s" % (text, self.m.path(*name.split("/")))))

    def cat(self, name):
        return self.ok(run(["cat", self.m.path(*name.split("/"))]))

    def test_mv_renames_the_segment_and_its_backing_object(self):
        self.put("a", "AAA")
        self.ok(run(["mv", self.m.path("a"), self.m.path("b")]))
        self.assertEqual(self.cat("b"), "AAA")
        self.assertEqual(try_op("os.stat(A[0])", self.m.path("a")), "ENOENT")
        self.assertEqual(sorted(os.listdir(self.m.shm_dir)), ["shmfs.b"])

    def test_mv_into_and_out_of_a_directory(self):
        self.put("a", "AAA")
        self.ok(run(["mkdir", self.m.path("d")]))
        self.ok(run(["mv", self.m.path("a"), self.m.path("d", "a2")]))
        self.assertEqual(self.cat("d/a2"), "AAA")
        self.assertEqual(self.read_backing(os.path.join(self.m.shm_dir, "shmfs.d", "a2")),
                         b"AAA")
        self.ok(run(["mv", self.m.path("d", "a2"), self.m.path("back")]))
        self.assertEqual(self.cat("back"), "AAA")
        self.assertEqual(sorted(os.listdir(self.m.shm_dir)), ["shmfs.back", "shmfs.d"])

    def test_mv_onto_an_existing_file_replaces_it(self):
        self.put("a", "new")
        self.put("b", "old")
        self.ok(run(["mv", "-f", self.m.path("a"), self.m.path("b")]))
        self.assertEqual(self.cat("b"), "new")
        self.assertEqual(self.ok(run(["ls", "-A1", self.m.mnt])).split(), ["b"])

    def test_rename_of_a_directory_moves_its_contents(self):
        self.ok(run(["mkdir", self.m.path("d")]))
        self.put("d/f", "inside")
        self.ok(run(["mv", self.m.path("d"), self.m.path("e")]))
        self.assertEqual(self.cat("e/f"), "inside")
        self.assertTrue(os.path.isdir(self.m.backing("e")))

    def test_rename_noreplace_onto_an_existing_file_is_eexist(self):
        self.put("a", "A")
        self.put("b", "B")
        self.assertEqual(try_op("renameat2(A[0], A[1], 1)", self.m.path("a"), self.m.path("b")),
                         "EEXIST")
        self.assertEqual(self.cat("a"), "A")
        self.assertEqual(self.cat("b"), "B")

    def test_rename_noreplace_onto_a_free_name_works(self):
        self.put("a", "A")
        self.assertEqual(try_op("renameat2(A[0], A[1], 1)", self.m.path("a"), self.m.path("c")),
                         "OK")
        self.assertEqual(self.cat("c"), "A")

    def test_rename_exchange_swaps_two_files(self):
        self.put("a", "A")
        self.put("b", "B")
        self.assertEqual(try_op("renameat2(A[0], A[1], 2)", self.m.path("a"), self.m.path("b")),
                         "OK")
        self.assertEqual(self.cat("a"), "B")
        self.assertEqual(self.cat("b"), "A")
        self.assertEqual(self.read_backing(self.m.backing("a")), b"B")

    def test_renamed_segment_keeps_its_open_mapping(self):
        self.put("a", "0123456789")
        c = self.mapper(self.m.path("a"))
        self.ok(run(["mv", self.m.path("a"), self.m.path("b")]))
        self.assertEqual(c.ask("w 0 X"), "ok")
        self.assertEqual(c.ask("msync"), "ok")
        self.assertEqual(self.read_backing(self.m.backing("b")), b"X123456789")


class Errors(ShmfsTestCase):

    def setUp(self):
        super().setUp()
        self.m = self.mount()

    def test_name_too_long_once_prefixed_is_enametoolong(self):
        name = "n" * 250   # 256 bytes with "shmfs.": past NAME_MAX
        self.fails_with(sh("echo x > %s" % self.m.path(name)), "File name too long")
        self.assertEqual(try_op("open(A[0], 'w')", self.m.path(name)), "ENAMETOOLONG")
        self.assertEqual(os.listdir(self.m.shm_dir), [])

    def test_longest_name_that_fits_works(self):
        name = "n" * (255 - len("shmfs."))
        self.ok(sh("echo x > %s" % self.m.path(name)))
        self.assertEqual(self.ok(run(["ls", "-A1", self.m.mnt])).split(), [name])

    def test_open_of_a_missing_file_is_enoent(self):
        self.fails_with(run(["cat", self.m.path("missing")]), "No such file or directory")
        self.assertEqual(try_op("open(A[0])", self.m.path("missing")), "ENOENT")

    def test_rmdir_of_a_file_is_enotdir(self):
        self.ok(run(["touch", self.m.path("f")]))
        self.fails_with(run(["rmdir", self.m.path("f")]), "Not a directory")
        self.assertEqual(try_op("os.rmdir(A[0])", self.m.path("f")), "ENOTDIR")

    def test_unlink_of_a_directory_is_eisdir(self):
        self.ok(run(["mkdir", self.m.path("d")]))
        self.assertEqual(try_op("os.unlink(A[0])", self.m.path("d")), "EISDIR")
        self.assertTrue(os.path.isdir(self.m.backing("d")))
