"""Owners, modes and times: segments belong to who made them, the caller's
umask applies, the kernel enforces the mode bits."""

import os
import stat

from harness import NOBODY, ShmfsTestCase, run, sh, stat_field, try_op

OPEN_0666 = "fd = os.open(A[0], os.O_CREAT | os.O_WRONLY, 0o666); os.close(fd)"


class Attributes(ShmfsTestCase):

    def setUp(self):
        super().setUp()
        self.m = self.mount()
        self.ok(sh("echo x > %s" % self.m.path("f")))

    def test_chmod_is_seen_on_the_mount_and_the_backing_object(self):
        self.ok(run(["chmod", "640", self.m.path("f")]))
        self.assertEqual(stat_field(self.m.path("f"), "%a"), "640")
        self.assertEqual(stat.S_IMODE(os.stat(self.m.backing("f")).st_mode), 0o640)

    def test_chown_is_seen_on_the_mount_and_the_backing_object(self):
        self.ok(run(["chown", "%d:%d" % (NOBODY, NOBODY), self.m.path("f")]))
        self.assertEqual(stat_field(self.m.path("f"), "%u:%g"), "%d:%d" % (NOBODY, NOBODY))
        st = os.stat(self.m.backing("f"))
        self.assertEqual((st.st_uid, st.st_gid), (NOBODY, NOBODY))

    def test_touch_d_sets_the_modification_time(self):
        self.ok(run(["touch", "-d", "2001-02-03 04:05:06 UTC", self.m.path("f")]))
        self.assertEqual(stat_field(self.m.path("f"), "%Y"), "981173106")
        self.assertEqual(int(os.stat(self.m.backing("f")).st_mtime), 981173106)

    def test_touch_a_sets_the_access_time(self):
        self.ok(run(["touch", "-a", "-d", "2002-03-04 05:06:07 UTC", self.m.path("f")]))
        self.assertEqual(stat_field(self.m.path("f"), "%X"), "1015218367")

    def test_write_updates_the_modification_time(self):
        self.ok(run(["touch", "-d", "2001-02-03 04:05:06 UTC", self.m.path("f")]))
        self.ok(sh("echo more >> %s" % self.m.path("f")))
        self.assertGreater(int(stat_field(self.m.path("f"), "%Y")), 981173106)

    def test_chmod_of_a_directory(self):
        self.ok(run(["mkdir", self.m.path("d")]))
        self.ok(run(["chmod", "711", self.m.path("d")]))
        self.assertEqual(stat_field(self.m.path("d"), "%a"), "711")
        self.assertEqual(stat.S_IMODE(os.stat(self.m.backing("d")).st_mode), 0o711)


class OtherUser(ShmfsTestCase):
    """A root daemon mounted with allow_other, used by uid 65534."""

    def setUp(self):
        super().setUp()
        self.m = self.mount(shm_dir=self.shm_dir(mode=0o1777), options=["allow_other"])

    def owner(self, name):
        on_mount = stat_field(self.m.path(*name.split("/")), "%u:%g")
        st = os.stat(self.m.backing(*name.split("/")))
        return on_mount, "%d:%d" % (st.st_uid, st.st_gid)

    def mode(self, name):
        on_mount = stat_field(self.m.path(*name.split("/")), "%a")
        return on_mount, "%o" % stat.S_IMODE(os.stat(self.m.backing(*name.split("/"))).st_mode)

    def test_file_created_by_nobody_belongs_to_nobody(self):
        self.ok(sh("echo mine > %s" % self.m.path("nf"), user="nobody"))
        self.assertEqual(self.owner("nf"), ("65534:65534", "65534:65534"))

    def test_directory_created_by_nobody_belongs_to_nobody(self):
        self.ok(run(["mkdir", self.m.path("nd")], user="nobody"))
        self.ok(sh("echo deeper > %s" % self.m.path("nd", "f"), user="nobody"))
        self.assertEqual(self.owner("nd"), ("65534:65534", "65534:65534"))
        self.assertEqual(self.owner("nd/f"), ("65534:65534", "65534:65534"))

    def test_umask_077_gives_0600_for_a_file_opened_0666(self):
        self.assertEqual(try_op(OPEN_0666, self.m.path("u"), user="nobody", umask=0o077), "OK")
        self.assertEqual(self.mode("u"), ("600", "600"))

    def test_umask_022_gives_0644_for_a_file_opened_0666(self):
        self.assertEqual(try_op(OPEN_0666, self.m.path("u"), user="nobody", umask=0o022), "OK")
        self.assertEqual(self.mode("u"), ("644", "644"))

    def test_umask_applies_to_mkdir(self):
        self.assertEqual(try_op("os.mkdir(A[0], 0o777)", self.m.path("ud"), user="nobody",
                                umask=0o077), "OK")
        self.assertEqual(self.mode("ud"), ("700", "700"))

    def test_creator_can_chmod_truncate_and_reopen(self):
        p = self.m.path("own")
        self.assertEqual(try_op(OPEN_0666, p, user="nobody", umask=0o077), "OK")
        self.ok(run(["chmod", "640", p], user="nobody"))
        self.assertEqual(self.mode("own"), ("640", "640"))
        self.ok(run(["truncate", "-s", "100", p], user="nobody"))
        self.assertEqual(stat_field(p, "%s"), "100")
        self.ok(sh("echo reopened > %s" % p, user="nobody"))
        self.assertEqual(self.ok(run(["cat", p], user="nobody")), "reopened\n")
        self.ok(run(["rm", p], user="nobody"))
        self.assertFalse(os.path.exists(self.m.backing("own")))

    def test_nobody_cannot_write_a_root_file_with_mode_0644(self):
        self.ok(sh("echo root > %s && chmod 644 %s" % (self.m.path("r"), self.m.path("r"))))
        self.assertEqual(self.ok(run(["cat", self.m.path("r")], user="nobody")), "root\n")
        self.fails_with(sh("echo nobody >> %s" % self.m.path("r"), user="nobody"),
                        "Permission denied")
        self.assertEqual(try_op("open(A[0], 'r+')", self.m.path("r"), user="nobody"), "EACCES")
        self.assertEqual(try_op("os.truncate(A[0], 0)", self.m.path("r"), user="nobody"),
                         "EACCES")
        self.assertEqual(self.read_backing(self.m.backing("r")), b"root\n")

    def test_nobody_cannot_read_a_root_file_with_mode_0600(self):
        self.ok(sh("echo secret > %s && chmod 600 %s" % (self.m.path("s"), self.m.path("s"))))
        self.fails_with(run(["cat", self.m.path("s")], user="nobody"), "Permission denied")

    def test_nobody_cannot_chmod_a_root_file(self):
        self.ok(run(["touch", self.m.path("r")]))
        self.assertEqual(try_op("os.chmod(A[0], 0o666)", self.m.path("r"), user="nobody"),
                         "EPERM")

    def test_nobody_cannot_create_in_a_root_0755_directory(self):
        self.ok(run(["mkdir", "-m", "755", self.m.path("rootdir")]))
        self.fails_with(sh("echo x > %s" % self.m.path("rootdir", "f"), user="nobody"),
                        "Permission denied")

    def test_nobody_maps_its_own_segment(self):
        code = ("import mmap, os, sys\n"
                "fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR, 0o600)\n"
                "os.ftruncate(fd, 4096)\n"
                "m = mmap.mmap(fd, 4096, mmap.MAP_SHARED)\n"
                "m[:5] = b'nobod'\n"
                "m.flush()\n")
        self.ok(run(["/usr/bin/python3", "-c", code, self.m.path("nm")], user="nobody"))
        self.assertEqual(self.read_backing(self.m.backing("nm"))[:5], b"nobod")


class NoAllowOther(ShmfsTestCase):

    def test_other_user_gets_eacces_without_allow_other(self):
        m = self.mount(shm_dir=self.shm_dir(mode=0o1777))
        self.ok(sh("echo x > %s" % m.path("f")))
        self.fails_with(run(["ls", m.mnt], user="nobody"), "Permission denied")
        self.assertEqual(try_op("os.stat(A[0])", m.mnt, user="nobody"), "EACCES")
        self.assertEqual(try_op("open(A[0])", m.path("f"), user="nobody"), "EACCES")
