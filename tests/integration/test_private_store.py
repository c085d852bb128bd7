"""Private stores (store = private): a tmpfs of the mount's own, with its caps
held by the kernel in both data paths; and shared stores whose usage is told
truthfully after passthrough writes grow them."""

import os
import signal
import subprocess
import time

from harness import (SHMFS, ShmfsTestCase, MountError, getfattr, helper, meminfo, mode, py,
                     run, stat_field, try_op)

MiB = 1 << 20
PRIVATE = ["store=private"]


def touch_map(path, size):
    """Map path (made size bytes long) at a 2 MiB boundary and store to every
    page, in a child process: its CompletedProcess (returncode -SIGBUS when a
    store faulted past the store's size)."""
    # Built by make asan, the helper would catch the SIGBUS itself.
    env = dict(os.environ, ASAN_OPTIONS="handle_sigbus=0")
    return run([helper("touch_map"), path, str(size)], env=env)


def df(path):
    """(total, available) bytes of the filesystem at path, as df sees them
    (statfs, from another process)."""
    r = py("import os, sys; s = os.statvfs(sys.argv[1]); "
           "print(s.f_blocks * s.f_frsize, s.f_bavail * s.f_frsize)", path)
    if r.returncode != 0:
        raise AssertionError("statvfs %s: %s" % (path, r.stderr))
    total, avail = r.stdout.split()
    return int(total), int(avail)


def tmpfs_lines():
    """The tmpfs mounts of this mount namespace, as mountinfo lists them."""
    with open("/proc/self/mountinfo") as f:
        return sorted(line for line in f if " - tmpfs " in line)


class PrivateStore(ShmfsTestCase):

    def private(self, *options, **kw):
        return self.mount(options=PRIVATE + list(options), **kw)

    # -- the caps hold in every data path ---------------------------------
    def test_write_past_size_is_enospc(self):
        m = self.private("size=16M")
        r = run(["dd", "if=/dev/zero", "of=" + m.path("w"), "bs=1M", "count=20", "status=none"])
        self.fails_with(r, "No space left on device")
        self.assertLessEqual(int(stat_field(m.path("w"), "%s")), 16 * MiB)

    def test_fallocate_past_size_is_enospc(self):
        m = self.private("size=16M")
        self.assertEqual(try_op("fd = os.open(A[0], os.O_CREAT | os.O_RDWR, 0o644); "
                                "os.posix_fallocate(fd, 0, 20 << 20)", m.path("f")), "ENOSPC")
        self.assertEqual(try_op("fd = os.open(A[0], os.O_CREAT | os.O_RDWR, 0o644); "
                                "os.posix_fallocate(fd, 0, 8 << 20)", m.path("g")), "OK")

    def test_mapping_fault_past_size_is_sigbus(self):
        # As on a tmpfs of that size: the file may be longer than the store,
        # a store to a page the store cannot hold is a SIGBUS. In cached mode
        # a segment's growth is reserved in the store at the truncate (no
        # silent loss, README), so there the truncate itself is refused.
        m = self.private("size=16M")
        self.ok(touch_map(m.path("fits"), 8 * MiB))
        r = touch_map(m.path("big"), 32 * MiB)
        if mode() == "cached":
            # more than the store could ever hold: EFBIG; more than it has
            # left: ENOSPC
            self.assertEqual((r.returncode, "File too large" in r.stderr), (1, True),
                             "touch_map: %s %s" % (r.returncode, r.stderr))
            r = touch_map(m.path("more"), 12 * MiB)
            self.assertEqual((r.returncode, "No space left on device" in r.stderr), (1, True),
                             "touch_map: %s %s" % (r.returncode, r.stderr))
        else:
            self.assertEqual(r.returncode, -signal.SIGBUS,
                             "touch_map: %s %s" % (r.returncode, r.stderr))

    def test_df_is_the_private_tmpfs(self):
        m = self.private("size=16M")
        total, free = df(m.mnt)
        self.assertEqual(total, 16 * MiB)
        self.assertEqual(free, 16 * MiB)
        self.ok(run(["dd", "if=/dev/zero", "of=" + m.path("four"), "bs=1M", "count=4",
                     "status=none"]))
        total, free = df(m.mnt)
        self.assertEqual((total, free), (16 * MiB, 12 * MiB))

    def test_size_as_a_share_of_ram(self):
        m = self.private("size=1%")
        total, _ = df(m.mnt)
        ram = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        self.assertLess(abs(total - ram // 100), 2 * MiB)

    def test_nr_inodes_caps_creates(self):
        # The root directory takes one of the 8 inodes.
        m = self.private("nr_inodes=8")
        made = [n for n in range(10)
                if try_op("os.close(os.open(A[0], os.O_CREAT | os.O_RDWR, 0o644))",
                          m.path("f%d" % n)) == "OK"]
        self.assertEqual(made, list(range(7)))
        self.assertEqual(try_op("os.mkdir(A[0])", m.path("d")), "ENOSPC")
        self.ok(run(["rm", m.path("f0")]))
        self.assertEqual(try_op("os.mkdir(A[0])", m.path("d")), "OK")

    # -- nobody else can reach it -----------------------------------------
    def test_nothing_is_visible_outside_the_mount(self):
        tmpfs_before = tmpfs_lines()
        m = self.private("size=16M")
        shm_before = set(os.listdir("/dev/shm"))
        self.ok(run(["sh", "-c", "echo secret > '%s'" % m.path("secret")]))
        self.assertEqual(set(os.listdir("/dev/shm")) - shm_before, set())
        self.assertEqual(os.listdir(m.shm_dir), [])       # shm_dir is not used
        self.assertEqual(tmpfs_lines(), tmpfs_before)    # no mount with a path
        self.assertEqual(getfattr(m.path("secret"), "user.shmfs.backend"), "private")
        self.assertEqual(getfattr(m.path("secret"), "user.shmfs.backing"), "private:/secret")
        self.assertFalse(os.path.exists("/secret"))

    # -- what survives what ------------------------------------------------
    def test_unmount_frees_the_memory(self):
        before = meminfo("Shmem")
        m = self.private("size=512M")
        self.ok(run(["dd", "if=/dev/zero", "of=" + m.path("big"), "bs=1M", "count=256",
                     "status=none"]))
        self.assertGreater(meminfo("Shmem"), before + 200 * MiB)
        m.stop()
        # Other tests on this machine use shm too: a tolerance, and a few
        # seconds for the last references to go.
        deadline = time.monotonic() + 5
        while meminfo("Shmem") > before + 64 * MiB and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertLess(meminfo("Shmem"), before + 64 * MiB)

    def test_restart_starts_empty(self):
        m = self.private()
        self.ok(run(["sh", "-c", "echo gone > '%s'" % m.path("x")]))
        m.stop()
        m2 = self.private()
        self.assertEqual(self.ls(m2.mnt), [])

    def test_kill_9_keeps_what_mappings_hold(self):
        if mode() != "passthrough":
            self.skipTest("a cached mapping holds FUSE pages: after the daemon dies, a page "
                          "it has not faulted in yet is a SIGBUS")
        m = self.private("size=16M")
        mapper = self.mapper(m.path("seg"), "-c", str(4 * MiB))
        self.assertEqual(mapper.ask("fill 0 %d 7" % (4 * MiB)), "ok")
        m.expect_exit = True
        m.kill_daemon()
        # The mapping maps the tmpfs's own pages: they live as long as it.
        self.assertEqual(mapper.ask("check 0 %d 7" % (4 * MiB)), "ok")
        self.assertEqual(mapper.ask("w 0 after"), "ok")
        self.assertEqual(mapper.ask("r 0 5"), "after")

    # -- huge pages --------------------------------------------------------
    def test_huge_always_maps_pmd_pages(self):
        if mode() != "passthrough":
            self.skipTest("in cached mode a mapping maps FUSE page-cache pages, never the "
                          "tmpfs's huge pages")
        with open("/sys/kernel/mm/transparent_hugepage/shmem_enabled") as f:
            if "[deny]" in f.read():
                self.skipTest("shmem huge pages are denied on this machine")
        m = self.private("size=64M", "huge=always")
        r = self.ok(touch_map(m.path("h"), 8 * MiB))
        self.assertGreaterEqual(int(r.split()[1]), 2048, r)   # KB PMD-mapped
        m4k = self.private("size=64M", "huge=never")
        r = self.ok(touch_map(m4k.path("h"), 8 * MiB))
        self.assertEqual(int(r.split()[1]), 0, r)

    # -- a private [dir] ----------------------------------------------------
    def test_private_dir_has_its_own_size(self):
        m = self.mount_config("[dir fast]\nstore = private\nsize = 4M\n")
        total, _ = df(m.path("fast"))
        self.assertEqual(total, 4 * MiB)
        r = run(["dd", "if=/dev/zero", "of=" + m.path("fast", "x"), "bs=1M", "count=8",
                 "status=none"])
        self.fails_with(r, "No space left on device")
        self.ok(run(["truncate", "-s", "8M", m.path("root")]))
        self.assertEqual(try_op("os.rename(A[0], A[1])", m.path("root"), m.path("fast", "r")),
                         "EXDEV")
        self.assertEqual(getfattr(m.path("fast", "x"), "user.shmfs.backend"), "private")

    # -- errors --------------------------------------------------------------
    def test_a_config_error_for_each_bad_value(self):
        cases = [
            ("[shmfs]\nstore = private\nsize = banana\n", ":3: size must be bytes"),
            ("[shmfs]\nstore = private\nhuge = sometimes\n",
             ":3: huge must be never, always, within_size or advise, not 'sometimes'"),
            ("[shmfs]\nstore = private\nmpol = bind\n", ":3: mpol must be"),
            ("[shmfs]\nstore = private\nlifetime = kernel\n",
             ":3: lifetime = kernel is not possible with store = private"),
            ("[dir d]\nstore = private\nlifetime = disk\n",
             ":3: [dir d]: lifetime = disk is not possible for a private dir"),
            ("[shmfs]\nsize = 1G\n", ":2: size is an option of store = private"),
        ]
        for text, why in cases:
            path = self.config(text)
            r = run([SHMFS, "--check-config", path])
            self.assertEqual(r.returncode, 1, text)
            self.assertIn(path + why, r.stderr)
        r = run([SHMFS, "-f", "-o", "store=private,size=banana", "none", self.mountpoint()])
        self.assertEqual(r.returncode, 1)
        self.assertIn("-o: size must be bytes", r.stderr)

    def test_without_cap_sys_admin_a_clear_error(self):
        with self.assertRaises(MountError) as caught:
            self.mount(options=PRIVATE, user="nobody", passthrough="off")
        self.assertIn("CAP_SYS_ADMIN", str(caught.exception))


class SharedStoreHonesty(ShmfsTestCase):
    """max_total_size over a shm store: what passthrough writes add shows in
    df and user.shmfs.limits, and later growth is refused."""

    def test_growth_shows_in_df_and_later_growth_is_enospc(self):
        m = self.mount(options=["max_total_size=16M"])
        r = run(["dd", "if=/dev/zero", "of=" + m.path("a"), "bs=1M", "count=20", "status=none"])
        if mode() == "passthrough":
            self.ok(r)    # bounded only by the backing store
        else:
            self.fails_with(r, "No space left on device")
        size = int(stat_field(m.path("a"), "%s"))
        self.assertGreaterEqual(size, 16 * MiB)
        # df tells what the store holds (recounted at most once a second).
        deadline = time.monotonic() + 3
        while df(m.mnt)[1] != 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(df(m.mnt), (16 * MiB, 0))
        limits = dict(kv.split("=") for kv in getfattr(m.mnt, "user.shmfs.limits").split())
        self.assertEqual(int(limits["bytes"]), size)
        # Nothing more: not a new segment, not a bigger one.
        self.fails_with(run(["truncate", "-s", "1M", m.path("b")]), "No space left on device")
        self.fails_with(run(["truncate", "-s", "+1M", m.path("a")]), "No space left on device")
        # Making room makes room.
        self.ok(run(["truncate", "-s", "8M", m.path("a")]))
        self.ok(run(["truncate", "-s", "1M", m.path("b")]))
