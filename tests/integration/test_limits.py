"""Quotas: max_segment_size (EFBIG), max_segments and max_total_size (ENOSPC)."""

import os

from harness import ShmfsTestCase, mode, run, stat_field, try_op


class Limits(ShmfsTestCase):

    def test_truncate_past_max_segment_size_is_efbig(self):
        m = self.mount(options=["max_segment_size=1M"])
        self.ok(run(["truncate", "-s", "1M", m.path("fits")]))
        self.fails_with(run(["truncate", "-s", "2M", m.path("fits")]), "File too large")
        self.assertEqual(stat_field(m.path("fits"), "%s"), str(1 << 20))
        self.assertEqual(os.stat(m.backing("fits")).st_size, 1 << 20)

    def test_fallocate_past_max_segment_size_is_efbig(self):
        m = self.mount(options=["max_segment_size=1M"])
        self.assertEqual(try_op("fd = os.open(A[0], os.O_CREAT | os.O_RDWR, 0o644); "
                                "os.posix_fallocate(fd, 0, 2 << 20)", m.path("f")), "EFBIG")
        self.assertLessEqual(os.stat(m.backing("f")).st_size, 1 << 20)

    def test_cached_write_past_max_segment_size_is_efbig(self):
        if mode() != "cached":
            self.skipTest("a passthrough write is bounded by the backing store only")
        m = self.mount(options=["max_segment_size=64K"])
        r = run(["dd", "if=/dev/zero", "of=" + m.path("w"), "bs=16K", "count=8", "status=none"])
        self.fails_with(r, "File too large")
        self.assertLessEqual(os.stat(m.backing("w")).st_size, 64 << 10)

    def test_max_segments_refuses_one_more_with_enospc(self):
        m = self.mount(options=["max_segments=2"])
        self.ok(run(["touch", m.path("one"), m.path("two")]))
        self.fails_with(run(["touch", m.path("three")]), "No space left on device")
        self.assertEqual(sorted(os.listdir(m.shm_dir)), ["shmfs.one", "shmfs.two"])
        self.ok(run(["rm", m.path("one")]))
        self.ok(run(["touch", m.path("three")]))

    def test_max_total_size_refuses_growth_with_enospc(self):
        m = self.mount(options=["max_total_size=1M"])
        self.ok(run(["truncate", "-s", "600K", m.path("a")]))
        self.fails_with(run(["truncate", "-s", "600K", m.path("b")]), "No space left on device")
        self.ok(run(["truncate", "-s", "300K", m.path("b")]))
        self.assertEqual(stat_field(m.path("b"), "%s"), str(300 << 10))
