"""Shared memory between processes: mmap through the mount, msync to the
backing object, and the segment being the POSIX shm object itself."""

import os

from harness import ShmfsTestCase, helper, pattern, py, run, sh, stat_field

MIB = 1 << 20


class SharedMappings(ShmfsTestCase):

    def setUp(self):
        super().setUp()
        self.m = self.mount()

    def test_write_through_one_mapping_is_seen_by_another_process(self):
        path = self.m.path("ring")
        self.ok(run(["truncate", "-s", "64K", path]))
        reader = self.mapper(path)
        writer = self.mapper(path)
        self.assertEqual(writer.ask("w 100 hello from the writer"), "ok")
        self.assertEqual(reader.ask("r 100 21"), "hello from the writer")
        self.assertEqual(reader.ask("w 5000 and back"), "ok")
        self.assertEqual(writer.ask("r 5000 8"), "and back")

    def test_pattern_written_by_one_process_checks_in_a_mapping_held_open(self):
        path = self.m.path("pat")
        self.ok(run(["truncate", "-s", str(4 * MIB), path]))
        holder = self.mapper(path)
        self.ok(run([helper("mapper"), path, "fill", "0", str(4 * MIB), "9"]))
        self.assertEqual(holder.ask("check 0 %d 9" % (4 * MIB)), "ok")

    def test_write_call_is_seen_by_a_process_that_has_the_file_mapped(self):
        path = self.m.path("w")
        self.ok(run(["truncate", "-s", "8K", path]))
        holder = self.mapper(path)
        self.assertEqual(holder.ask("r 10 5"), ".....")
        self.ok(run(["dd", "of=" + path, "bs=1", "seek=10", "conv=notrunc", "status=none"],
                    input="WRITE"))
        self.assertEqual(holder.ask("r 10 5"), "WRITE")

    def test_mapping_write_is_seen_by_read_in_another_process(self):
        path = self.m.path("r")
        self.ok(run(["truncate", "-s", "8K", path]))
        holder = self.mapper(path)
        self.assertEqual(holder.ask("w 4096 mapped-text"), "ok")
        out = self.ok(run(["dd", "if=" + path, "bs=1", "skip=4096", "count=11", "status=none"]))
        self.assertEqual(out, "mapped-text")

    def test_msync_puts_mapped_data_in_the_backing_object(self):
        path = self.m.path("ms")
        self.ok(run([helper("mapper"), "-c", str(MIB), path, "fill", "0", str(MIB), "3",
                     "msync"]))
        self.assertEqual(self.read_backing(self.m.backing("ms")), pattern(0, MIB, 3))

    def test_msync_from_a_long_lived_mapping(self):
        path = self.m.path("ms2")
        self.ok(run(["truncate", "-s", "64K", path]))
        c = self.mapper(path)
        self.assertEqual(c.ask("fill 0 65536 11"), "ok")
        self.assertEqual(c.ask("msync"), "ok")
        self.assertEqual(self.read_backing(self.m.backing("ms2")), pattern(0, 65536, 11))
        self.assertEqual(c.ask("w 0 second"), "ok")
        self.assertEqual(c.ask("msync"), "ok")
        self.assertEqual(self.read_backing(self.m.backing("ms2"))[:6], b"second")

    def test_python_mmap_processes_share_a_counter(self):
        path = self.m.path("counter")
        self.ok(run(["truncate", "-s", "4096", path]))
        code = ("import mmap, os, struct, sys, fcntl\n"
                "fd = os.open(sys.argv[1], os.O_RDWR)\n"
                "m = mmap.mmap(fd, 4096, mmap.MAP_SHARED)\n"
                "for _ in range(1000):\n"
                "    fcntl.flock(fd, fcntl.LOCK_EX)\n"
                "    n, = struct.unpack_from('<Q', m, 0)\n"
                "    struct.pack_into('<Q', m, 0, n + 1)\n"
                "    fcntl.flock(fd, fcntl.LOCK_UN)\n")
        procs = " & ".join("%s -c \"$0\" %s" % ("/usr/bin/python3", path) for _ in range(4))
        self.ok(run(["/bin/sh", "-c", procs + " & wait", code], timeout=60))
        out = self.ok(py("import mmap, os, struct, sys\n"
                         "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
                         "m = mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ)\n"
                         "print(struct.unpack_from('<Q', m, 0)[0])\n", path))
        self.assertEqual(out.strip(), "4000")

    def test_truncate_by_another_process_changes_the_size_of_a_mapped_file(self):
        path = self.m.path("grow")
        self.ok(run(["truncate", "-s", "4096", path]))
        c = self.mapper(path)
        self.ok(run(["truncate", "-s", "1M", path]))
        self.assertEqual(c.ask("size"), str(MIB))
        self.assertEqual(stat_field(path, "%s"), str(MIB))


class PosixShm(ShmfsTestCase):
    """With shm_dir=/dev/shm, MOUNT/NAME is the object shm_open("/PREFIXNAME")."""

    def setUp(self):
        super().setUp()
        self.prefix = self.shm_prefix()
        self.m = self.mount(shm_dir="/dev/shm", prefix=self.prefix)

    def shm_seg(self, name, *args):
        return run([helper("shm_seg"), self.prefix, name] + list(args))

    def test_shm_open_object_is_read_by_cat(self):
        self.ok(self.shm_seg("cam0", "create", "64"))
        self.ok(self.shm_seg("cam0", "write", "0", "frame 1"))
        out = self.ok(run(["head", "-c", "7", self.m.path("cam0")]))
        self.assertEqual(out, "frame 1")
        self.assertEqual(stat_field(self.m.path("cam0"), "%s"), "64")

    def test_file_written_through_the_mount_is_read_by_shm_open(self):
        self.ok(sh("printf 'written by the shell' > %s" % self.m.path("note")))
        self.assertEqual(self.ok(self.shm_seg("note", "print", "0", "100")),
                         "written by the shell")
        self.assertEqual(self.ok(self.shm_seg("note", "size")).strip(), "20")

    def test_shm_open_segment_is_listed_without_its_prefix(self):
        self.ok(self.shm_seg("listed", "create", "10"))
        self.assertIn("listed", self.ok(run(["ls", "-A1", self.m.mnt])).split())
        self.assertNotIn(self.prefix + "listed", self.ok(run(["ls", "-A1", self.m.mnt])))

    def test_only_objects_with_the_prefix_are_listed(self):
        self.ok(self.shm_seg("mine", "create", "10"))
        names = self.ok(run(["ls", "-A1", self.m.mnt])).split()
        self.assertEqual(names, ["mine"])

    def test_shm_unlink_removes_the_file(self):
        self.ok(self.shm_seg("tmp", "create", "10"))
        self.ok(run(["stat", self.m.path("tmp")]))
        self.ok(self.shm_seg("tmp", "unlink"))
        self.assertNotIn("tmp", self.ok(run(["ls", "-A1", self.m.mnt])).split())

    def test_rm_through_the_mount_is_seen_by_shm_open(self):
        self.ok(self.shm_seg("gone", "create", "10"))
        self.ok(run(["rm", self.m.path("gone")]))
        r = self.shm_seg("gone", "size")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("No such file or directory", r.stderr)

    def test_size_changed_by_a_shm_user_is_seen_by_stat(self):
        m = self.mount(shm_dir="/dev/shm", prefix=self.shm_prefix(), options=["attr_timeout=0"])
        self.ok(run([helper("shm_seg"), m.prefix, "resized", "create", "100"]))
        self.assertEqual(stat_field(m.path("resized"), "%s"), "100")
        os.truncate(m.backing("resized"), 5000)
        self.assertEqual(stat_field(m.path("resized"), "%s"), "5000")
        self.assertEqual(self.ok(run([helper("shm_seg"), m.prefix, "resized", "size"])).strip(),
                         "5000")

