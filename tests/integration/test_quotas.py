"""Limits beyond the basics of test_limits.py: limits from a config file, the
edges of each limit, space given back by unlink and shrink, segments that
existed before the mount, and what statvfs reports."""

import os

from harness import ShmfsTestCase, meminfo, mode, py, run, stat_field, try_op

KIB = 1 << 10
MIB = 1 << 20

STATVFS = ("import os, sys\n"
           "s = os.statvfs(sys.argv[1])\n"
           "print(s.f_blocks, s.f_frsize, s.f_files)\n")

OPEN_SIZE = "fd = os.open(A[0], os.O_CREAT | os.O_RDWR, 0o644); os.ftruncate(fd, int(A[1]))"
FALLOCATE = ("fd = os.open(A[0], os.O_CREAT | os.O_RDWR, 0o644); "
             "os.posix_fallocate(fd, 0, int(A[1]))")
CREATE = "os.close(os.open(A[0], os.O_CREAT | os.O_WRONLY, 0o644))"


class QuotaCase(ShmfsTestCase):

    def size(self, path):
        return int(stat_field(path, "%s"))

    def statvfs(self, path):
        """(f_blocks, f_frsize, f_files) of path, from another process."""
        return tuple(int(v) for v in self.ok(py(STATVFS, path)).split())

    def plant(self, d, name, size):
        with open(os.path.join(d, name), "wb") as f:
            f.truncate(size)


class SegmentSize(QuotaCase):

    def test_limit_from_the_config_file_allows_exactly_the_limit(self):
        m = self.mount_config("[shmfs]\nmax_segment_size = 64K\n")
        self.assertEqual(try_op(OPEN_SIZE, m.path("f"), 64 * KIB), "OK")
        self.assertEqual(try_op(OPEN_SIZE, m.path("f"), 64 * KIB + 1), "EFBIG")
        self.assertEqual(self.size(m.path("f")), 64 * KIB)
        self.assertEqual(os.stat(m.backing("f")).st_size, 64 * KIB)

    def test_truncate_util_says_file_too_large(self):
        m = self.mount(options=["max_segment_size=4096"])
        self.ok(run(["truncate", "-s", "4096", m.path("f")]))
        self.fails_with(run(["truncate", "-s", "4097", m.path("f")]), "File too large")
        self.ok(run(["truncate", "-s", "100", m.path("f")]))
        self.assertEqual(self.size(m.path("f")), 100)

    def test_fallocate_util_past_the_limit_is_efbig(self):
        m = self.mount(options=["max_segment_size=1M"])
        self.ok(run(["fallocate", "-l", "1M", m.path("f")]))
        self.fails_with(run(["fallocate", "-o", "1M", "-l", "4K", m.path("f")]),
                        "File too large")
        self.assertEqual(self.size(m.path("f")), MIB)

    def test_cached_write_up_to_the_limit_works(self):
        if mode() != "cached":
            self.skipTest("a passthrough write is bounded by the backing store only")
        m = self.mount(options=["max_segment_size=64K"])
        data = self.tmpfile(os.urandom(64 * KIB))
        self.ok(run(["cp", data, m.path("w")]))
        self.ok(run(["cmp", data, m.path("w")]))
        r = run(["dd", "if=/dev/zero", "of=" + m.path("w"), "bs=1", "count=1",
                 "seek=%d" % (64 * KIB), "conv=notrunc", "status=none"])
        self.fails_with(r, "File too large")
        self.assertEqual(os.stat(m.backing("w")).st_size, 64 * KIB)


class SegmentCount(QuotaCase):

    def test_segments_that_existed_before_the_mount_count(self):
        d = self.shm_dir()
        self.plant(d, "shmfs.a", 0)
        self.plant(d, "shmfs.b", 0)
        self.plant(d, "not-ours", 0)
        m = self.mount(shm_dir=d, options=["max_segments=3"])
        self.assertEqual(try_op(CREATE, m.path("c")), "OK")
        self.assertEqual(try_op(CREATE, m.path("d")), "ENOSPC")
        self.assertEqual(self.ls(m.mnt), ["a", "b", "c"])

    def test_at_the_limit_existing_segments_still_open_and_rename(self):
        m = self.mount(options=["max_segments=2"])
        self.ok(run(["touch", m.path("one"), m.path("two")]))
        self.assertEqual(try_op(CREATE, m.path("three")), "ENOSPC")
        self.ok(run(["touch", m.path("one")]))
        self.assertEqual(try_op(OPEN_SIZE, m.path("one"), 4096), "OK")
        self.ok(run(["mv", m.path("two"), m.path("deux")]))
        self.assertEqual(self.ls(m.mnt), ["deux", "one"])

    def test_limit_from_the_config_file(self):
        m = self.mount_config("[shmfs]\nmax_segments = 1\n")
        self.ok(run(["touch", m.path("only")]))
        self.fails_with(run(["touch", m.path("second")]), "No space left on device")
        self.assertFalse(os.path.exists(m.backing("second")))


class TotalSize(QuotaCase):

    def test_fallocate_past_the_total_is_enospc(self):
        m = self.mount(options=["max_total_size=1M"])
        self.ok(run(["truncate", "-s", "768K", m.path("a")]))
        self.assertEqual(try_op(FALLOCATE, m.path("b"), 512 * KIB), "ENOSPC")
        self.assertEqual(self.size(m.path("b")), 0)
        self.assertEqual(try_op(FALLOCATE, m.path("b"), 256 * KIB), "OK")
        self.assertEqual(self.size(m.path("b")), 256 * KIB)

    def test_ftruncate_past_the_total_is_enospc(self):
        m = self.mount(options=["max_total_size=1M"])
        self.assertEqual(try_op(OPEN_SIZE, m.path("a"), MIB), "OK")
        self.assertEqual(try_op(OPEN_SIZE, m.path("b"), 1), "ENOSPC")
        self.assertEqual(self.size(m.path("a")), MIB)

    def test_shrinking_a_segment_gives_its_space_back(self):
        m = self.mount(options=["max_total_size=1M"])
        self.ok(run(["truncate", "-s", "1M", m.path("a")]))
        self.fails_with(run(["truncate", "-s", "4K", m.path("b")]), "No space left on device")
        self.ok(run(["truncate", "-s", "512K", m.path("a")]))
        self.ok(run(["truncate", "-s", "512K", m.path("b")]))
        self.fails_with(run(["truncate", "-s", "513K", m.path("b")]), "No space left on device")
        self.assertEqual(self.size(m.path("b")), 512 * KIB)

    def test_unlinking_a_segment_gives_its_space_back(self):
        m = self.mount(options=["max_total_size=1M"])
        self.ok(run(["truncate", "-s", "1M", m.path("a")]))
        self.fails_with(run(["fallocate", "-l", "64K", m.path("b")]), "No space left on device")
        self.ok(run(["rm", m.path("a")]))
        self.ok(run(["fallocate", "-l", "1M", m.path("b")]))
        self.assertEqual(self.size(m.path("b")), MIB)

    def test_segments_that_existed_before_the_mount_count(self):
        d = self.shm_dir()
        self.plant(d, "shmfs.old", 768 * KIB)
        m = self.mount_config("[shmfs]\nmax_total_size = 1M\n", shm_dir=d)
        self.fails_with(run(["truncate", "-s", "512K", m.path("new")]), "No space left on device")
        self.ok(run(["truncate", "-s", "256K", m.path("new")]))

    def test_cached_write_past_the_total_is_enospc(self):
        if mode() != "cached":
            self.skipTest("a passthrough write is bounded by the backing store only")
        m = self.mount(options=["max_total_size=256K"])
        self.ok(run(["truncate", "-s", "128K", m.path("a")]))
        r = run(["dd", "if=/dev/zero", "of=" + m.path("w"), "bs=64K", "count=4", "status=none"])
        self.fails_with(r, "No space left on device")
        self.assertLessEqual(os.stat(m.backing("w")).st_size, 128 * KIB)
        self.ok(run(["rm", m.path("a")]))
        self.ok(run(["dd", "if=/dev/zero", "of=" + m.path("w"), "bs=64K", "count=4",
                     "status=none"]))
        self.assertEqual(self.size(m.path("w")), 256 * KIB)


class Statvfs(QuotaCase):

    def test_blocks_and_files_are_the_limits(self):
        m = self.mount_config("[shmfs]\nmax_total_size = 64M\nmax_segments = 1000\n")
        blocks, frsize, files = self.statvfs(m.mnt)
        self.assertGreater(frsize, 0)
        self.assertLessEqual(abs(blocks * frsize - 64 * MIB), frsize)
        self.assertEqual(files, 1000)

    def test_total_size_in_percent_of_ram(self):
        m = self.mount(options=["max_total_size=10%"])
        blocks, frsize, _ = self.statvfs(m.mnt)
        want = meminfo("MemTotal") // 10
        self.assertLessEqual(abs(blocks * frsize - want), max(frsize, want // 100),
                             "statvfs size %d, 10%% of MemTotal %d" % (blocks * frsize, want))

    def test_without_limits_it_matches_the_shm_dir(self):
        m = self.mount()
        blocks, frsize, files = self.statvfs(m.mnt)
        st = os.statvfs(m.shm_dir)
        self.assertEqual(blocks * frsize, st.f_blocks * st.f_frsize)
        self.assertEqual(files, st.f_files)
