"""Extended attributes that say what backs a segment and how it is served."""

import os

from harness import ShmfsTestCase, getfattr, mode, run, sh


class Xattrs(ShmfsTestCase):

    def setUp(self):
        super().setUp()
        self.m = self.mount()
        self.ok(sh("echo x > %s" % self.m.path("seg")))

    def test_backend_is_shm(self):
        self.assertEqual(getfattr(self.m.path("seg"), "user.shmfs.backend"), "shm")

    def test_backing_is_the_absolute_path_of_the_backing_object(self):
        value = getfattr(self.m.path("seg"), "user.shmfs.backing")
        self.assertIsNotNone(value)
        self.assertTrue(os.path.isabs(value), value)
        self.assertEqual(os.path.realpath(value), os.path.realpath(self.m.backing("seg")))

    def test_backing_of_a_segment_in_a_directory(self):
        self.ok(run(["mkdir", self.m.path("d")]))
        self.ok(run(["touch", self.m.path("d", "f")]))
        value = getfattr(self.m.path("d", "f"), "user.shmfs.backing")
        self.assertEqual(os.path.realpath(value or ""),
                         os.path.realpath(os.path.join(self.m.shm_dir, "shmfs.d", "f")))

    def test_backing_follows_a_rename(self):
        self.ok(run(["mv", self.m.path("seg"), self.m.path("moved")]))
        value = getfattr(self.m.path("moved"), "user.shmfs.backing")
        self.assertEqual(os.path.realpath(value or ""),
                         os.path.realpath(self.m.backing("moved")))

    def test_io_says_the_data_path_of_this_mount(self):
        want = "passthrough" if mode() == "passthrough" else "cached"
        self.assertEqual(getfattr(self.m.path("seg"), "user.shmfs.io"), want)

    def test_listxattr_lists_only_the_objects_own_attributes(self):
        self.ok(run(["setfattr", "-n", "user.note", "-v", "hi", self.m.path("seg")]))
        out = self.ok(run(["getfattr", "--absolute-names", "-d", "-m", "-",
                           self.m.path("seg")]))
        self.assertIn('user.note="hi"', out)
        self.assertNotIn("user.shmfs.", out)
        self.assertEqual(os.listxattr(self.m.path("seg")), ["user.note"])
        self.assertEqual(os.listxattr(self.m.mnt), [])
        # Still there by name.
        self.assertEqual(getfattr(self.m.path("seg"), "user.shmfs.backend"), "shm")

    def test_listxattr_with_a_buffer_sized_for_the_real_attributes(self):
        self.ok(run(["setfattr", "-n", "user.a", "-v", "1", self.m.path("seg")]))
        code = ("import ctypes, sys\n"
                "libc = ctypes.CDLL(None, use_errno=True)\n"
                "buf = ctypes.create_string_buffer(len(b'user.a\\0'))\n"
                "n = libc.listxattr(sys.argv[1].encode(), buf, len(buf))\n"
                "print(n, ctypes.get_errno() if n < 0 else buf.raw[:n])\n")
        self.assertEqual(self.ok(run(["python3", "-c", code, self.m.path("seg")])),
                         "7 b'user.a\\x00'\n")

    def test_cp_preserve_xattr_copies_no_virtual_attribute(self):
        dest = self.tmpfile()
        self.ok(run(["cp", "--preserve=xattr", self.m.path("seg"), dest]))
        self.assertEqual([a for a in os.listxattr(dest) if a.startswith("user.shmfs.")], [])

    def test_setting_a_descriptive_attribute_is_not_supported(self):
        r = run(["setfattr", "-n", "user.shmfs.backend", "-v", "file", self.m.path("seg")])
        self.assertIn("Operation not supported", r.stderr)
        self.assertEqual(getfattr(self.m.path("seg"), "user.shmfs.backend"), "shm")
        r = run(["setfattr", "-x", "user.shmfs.io", self.m.path("seg")])
        self.assertIn("Operation not supported", r.stderr)

    def test_other_user_attributes_are_the_backing_objects_own(self):
        self.ok(run(["setfattr", "-n", "user.note", "-v", "hello", self.m.path("seg")]))
        self.assertEqual(getfattr(self.m.path("seg"), "user.note"), "hello")
        self.assertEqual(os.getxattr(self.m.backing("seg"), "user.note"), b"hello")
        self.ok(run(["setfattr", "-x", "user.note", self.m.path("seg")]))
        self.assertIsNone(getfattr(self.m.path("seg"), "user.note"))

    def test_unknown_attribute_is_absent(self):
        r = run(["getfattr", "--absolute-names", "-n", "user.shmfs.nosuch", self.m.path("seg")])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("No such attribute", r.stderr)
