"""A segment is a file: create, write, read, truncate, fallocate, stat, remove."""

import os

from harness import ShmfsTestCase, helper, mounts_at, run, sh, py, stat_field


class Basic(ShmfsTestCase):

    def setUp(self):
        super().setUp()
        self.m = self.mount()

    def test_mount_is_listed_as_fuse_and_starts_empty(self):
        types = [t for _, t in mounts_at(self.m.mnt)]
        self.assertTrue(any(t in ("fuse.shmfs", "fuse") for t in types), types)
        self.assertEqual(self.ok(run(["ls", "-A", self.m.mnt])), "")

    def test_echo_then_cat_shows_the_bytes(self):
        self.ok(sh("echo hello shm > %s" % self.m.path("greeting")))
        self.assertEqual(self.ok(run(["cat", self.m.path("greeting")])), "hello shm\n")

    def test_written_bytes_are_in_the_backing_object(self):
        self.ok(sh("printf 'abc\\000def' > %s" % self.m.path("seg")))
        self.assertEqual(self.read_backing(self.m.backing("seg")), b"abc\0def")

    def test_backing_object_written_directly_is_read_through_the_mount(self):
        with open(self.m.backing("direct"), "wb") as f:
            f.write(b"from the store\n")
        self.assertEqual(self.ok(run(["cat", self.m.path("direct")])), "from the store\n")

    def test_dd_of_four_mib_reads_back_identical(self):
        data = os.urandom(4 << 20)
        src = self.tmpfile(data)
        self.ok(run(["dd", "if=" + src, "of=" + self.m.path("big"), "bs=1M", "status=none"]))
        self.assertEqual(stat_field(self.m.path("big"), "%s"), str(len(data)))
        self.ok(run(["cmp", src, self.m.path("big")]))
        self.assertEqual(self.read_backing(self.m.backing("big")), data)

    def test_write_at_an_offset_keeps_the_rest(self):
        self.ok(sh("printf 0123456789 > %s" % self.m.path("f")))
        self.ok(run(["dd", "of=" + self.m.path("f"), "bs=1", "seek=3", "conv=notrunc",
                     "status=none"], input="abc"))
        self.assertEqual(self.ok(run(["cat", self.m.path("f")])), "012abc6789")

    def test_append_grows_the_file(self):
        self.ok(sh("echo one > %s && echo two >> %s" % (self.m.path("log"), self.m.path("log"))))
        self.assertEqual(self.ok(run(["cat", self.m.path("log")])), "one\ntwo\n")
        self.assertEqual(stat_field(self.m.path("log"), "%s"), "8")

    def test_truncate_grow_is_seen_by_stat_at_once(self):
        self.ok(sh("printf abc > %s" % self.m.path("t")))
        self.ok(run(["truncate", "-s", "1M", self.m.path("t")]))
        self.assertEqual(stat_field(self.m.path("t"), "%s"), str(1 << 20))
        self.assertEqual(os.stat(self.m.backing("t")).st_size, 1 << 20)
        head = self.ok(run(["head", "-c", "5", self.m.path("t")]))
        self.assertEqual(head, "abc\0\0")

    def test_truncate_shrink_keeps_the_head(self):
        self.ok(sh("printf 0123456789 > %s" % self.m.path("t")))
        self.ok(run(["truncate", "-s", "4", self.m.path("t")]))
        self.assertEqual(stat_field(self.m.path("t"), "%s"), "4")
        self.assertEqual(self.ok(run(["cat", self.m.path("t")])), "0123")
        self.assertEqual(self.read_backing(self.m.backing("t")), b"0123")

    def test_truncate_to_zero_then_write_again(self):
        self.ok(sh("printf 0123456789 > %s" % self.m.path("t")))
        self.ok(run(["truncate", "-s", "0", self.m.path("t")]))
        self.assertEqual(self.ok(run(["cat", self.m.path("t")])), "")
        self.ok(sh("printf new > %s" % self.m.path("t")))
        self.assertEqual(self.ok(run(["cat", self.m.path("t")])), "new")

    def test_fallocate_sets_the_size(self):
        self.ok(run(["fallocate", "-l", "1M", self.m.path("fa")]))
        self.assertEqual(stat_field(self.m.path("fa"), "%s"), str(1 << 20))
        self.assertEqual(os.stat(self.m.backing("fa")).st_size, 1 << 20)

    def test_fallocate_keep_size_leaves_the_size(self):
        self.ok(sh("printf abc > %s" % self.m.path("fk")))
        self.ok(run(["fallocate", "-n", "-l", "1M", self.m.path("fk")]))
        self.assertEqual(stat_field(self.m.path("fk"), "%s"), "3")

    def test_fsync_after_write_puts_data_in_the_backing_object(self):
        code = ("import os, sys\n"
                "fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR, 0o644)\n"
                "os.write(fd, b'synced bytes')\n"
                "os.fsync(fd)\n"
                "print(open(sys.argv[2], 'rb').read().decode())\n"
                "os.close(fd)\n")
        out = self.ok(py(code, self.m.path("fs"), self.m.backing("fs")))
        self.assertEqual(out.strip(), "synced bytes")

    def test_rm_removes_the_segment_and_its_backing_object(self):
        self.ok(sh("echo x > %s" % self.m.path("gone")))
        self.assertTrue(os.path.exists(self.m.backing("gone")))
        self.ok(run(["rm", self.m.path("gone")]))
        self.assertEqual(self.ok(run(["ls", "-A", self.m.mnt])), "")
        self.assertFalse(os.path.lexists(self.m.backing("gone")))
        self.assertNotEqual(run(["cat", self.m.path("gone")]).returncode, 0)

    def test_unlinked_segment_stays_readable_while_open(self):
        code = ("import os, sys\n"
                "fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR, 0o644)\n"
                "os.write(fd, b'still here')\n"
                "os.unlink(sys.argv[1])\n"
                "print(os.path.exists(sys.argv[1]), os.pread(fd, 100, 0).decode())\n")
        out = self.ok(py(code, self.m.path("tmp")))
        self.assertEqual(out.strip(), "False still here")

    def test_ls_shows_exactly_the_created_names(self):
        names = ["alpha", "beta.bin", "gamma-3", "with space"]
        for n in names:
            self.ok(run(["touch", self.m.path(n)]))
        self.ok(run(["mkdir", self.m.path("dir")]))
        out = self.ok(run(["ls", "-A1", self.m.mnt]))
        self.assertEqual(sorted(out.splitlines()), sorted(names + ["dir"]))

    def test_many_segments_are_all_listed(self):
        self.ok(sh("cd %s && for i in $(seq 1 300); do : > seg$i; done" % self.m.mnt))
        out = self.ok(run(["ls", "-A1", self.m.mnt]))
        self.assertEqual(sorted(out.splitlines()), sorted("seg%d" % i for i in range(1, 301)))

    def test_stat_reports_a_regular_file_and_a_directory(self):
        self.ok(run(["touch", self.m.path("f")]))
        self.ok(run(["mkdir", self.m.path("d")]))
        self.assertEqual(stat_field(self.m.path("f"), "%F"), "regular empty file")
        self.assertEqual(stat_field(self.m.path("d"), "%F"), "directory")
        self.assertEqual(stat_field(self.m.mnt, "%F"), "directory")

    def test_python_mmap_write_is_read_by_cat(self):
        code = ("import mmap, os, sys\n"
                "fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR, 0o644)\n"
                "os.ftruncate(fd, 4096)\n"
                "m = mmap.mmap(fd, 4096, mmap.MAP_SHARED)\n"
                "m[0:11] = b'via python\\n'\n"
                "m.flush()\n")
        self.ok(py(code, self.m.path("pym")))
        out = self.ok(run(["head", "-c", "11", self.m.path("pym")]))
        self.assertEqual(out, "via python\n")

    def test_mapper_pattern_round_trip(self):
        self.ok(run([helper("mapper"), "-c", str(1 << 20), self.m.path("pat"),
                     "fill", "0", str(1 << 20), "5", "msync"]))
        self.ok(run([helper("mapper"), self.m.path("pat"), "check", "0", str(1 << 20), "5"]))
