"""Operating it like a filesystem: make install, the man page, mount(8) and
fstab through mount.fuse3, the systemd unit."""

import os
import shutil
import tempfile

from harness import (SHMFS, ShmfsTestCase, is_fuse_mounted, mode, passthrough_option,
                     remove_tree, run, sh)

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
# The build directory of the daemon under test (build/ or build/asan/).
BUILD = os.path.dirname(SHMFS)
# What /bin/sh searches when mount(8) has dropped PATH for its helpers.
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class Install(ShmfsTestCase):

    def install(self, destdir):
        return self.ok(run(["make", "-s", "-C", ROOT, "install", "DESTDIR=" + destdir,
                            "PREFIX=/usr", "BUILD=" + BUILD], timeout=300))

    def destdir(self):
        d = tempfile.mkdtemp(prefix="shmfs-dest-")
        self.addCleanup(remove_tree, d)
        self.install(d)
        return d

    def wait_unmounted(self, mnt, seconds=10):
        for _ in range(int(seconds * 50)):
            if not is_fuse_mounted(mnt):
                return True
            run(["sleep", "0.02"])
        return False

    def test_install_lays_out_files_and_keeps_an_edited_config(self):
        d = self.destdir()
        binary = os.path.join(d, "usr/bin/shmfs")
        self.assertTrue(os.access(binary, os.X_OK))
        self.assertIn("shmfs", self.ok(run([binary, "--version"])))
        for f in ("usr/share/man/man1/shmfs.1", "usr/share/doc/shmfs/shmfs.ini",
                  "usr/share/doc/shmfs/fstab.example", "etc/shmfs.ini"):
            self.assertTrue(os.path.isfile(os.path.join(d, f)), f)
        unit = open(os.path.join(d, "usr/lib/systemd/system/shmfs@.service")).read()
        self.assertIn("ExecStart=/usr/bin/shmfs -f ", unit)
        self.ok(run([binary, "--check-config", os.path.join(d, "etc/shmfs.ini")]))
        # An administrator's edit survives a second install and an uninstall.
        with open(os.path.join(d, "etc/shmfs.ini"), "a") as f:
            f.write("; edited\n")
        self.install(d)
        self.assertIn("; edited", open(os.path.join(d, "etc/shmfs.ini")).read())
        self.ok(run(["make", "-s", "-C", ROOT, "uninstall", "DESTDIR=" + d, "PREFIX=/usr"]))
        self.assertFalse(os.path.exists(binary))
        self.assertFalse(os.path.exists(os.path.join(d, "usr/share/man/man1/shmfs.1")))
        self.assertFalse(os.path.exists(os.path.join(d, "usr/lib/systemd/system/shmfs@.service")))
        self.assertIn("; edited", open(os.path.join(d, "etc/shmfs.ini")).read())

    def test_man_page_renders_without_warnings(self):
        if mode() == "passthrough":
            self.skipTest("independent of the data path: runs in cached mode")
        env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80")
        r = run(["man", "--warnings", "-l", os.path.join(ROOT, "docs/shmfs.1")], env=env)
        self.ok(r)
        self.assertEqual(r.stderr, "")
        for heading in ("SYNOPSIS", "OPTIONS", "LIFETIMES", "EXIT STATUS"):
            self.assertIn(heading, r.stdout)

    def check_mount_works(self, mnt, shm_dir):
        self.assertTrue(is_fuse_mounted(mnt))
        self.ok(sh("echo through-mount > %s/x" % mnt))
        self.assertEqual(open(os.path.join(shm_dir, "shmfs.x")).read(), "through-mount\n")
        self.ok(run(["umount", mnt]))
        self.assertTrue(self.wait_unmounted(mnt), "still mounted after umount")

    def test_mount_t_fuse_with_the_installed_program(self):
        d = self.destdir()
        mnt, shm_dir = self.mountpoint(), self.shm_dir()
        self.addCleanup(lambda: is_fuse_mounted(mnt) and run(["umount", "-l", mnt]))
        opts = "shm_dir=%s,passthrough=%s,allow_other" % (shm_dir, passthrough_option())
        self.ok(run(["mount", "-t", "fuse", os.path.join(d, "usr/bin/shmfs") + "#none", mnt,
                     "-o", opts]))
        self.check_mount_works(mnt, shm_dir)

    def test_mount_fuse3_finds_shmfs_on_path_for_type_fuse_shmfs(self):
        d = self.destdir()
        mnt, shm_dir = self.mountpoint(), self.shm_dir()
        self.addCleanup(lambda: is_fuse_mounted(mnt) and run(["umount", "-l", mnt]))
        env = dict(os.environ, PATH=os.path.join(d, "usr/bin") + ":" + os.environ["PATH"])
        opts = "rw,dev,suid,shm_dir=%s,passthrough=%s" % (shm_dir, passthrough_option())
        self.ok(run(["/sbin/mount.fuse3", "none", mnt, "-t", "shmfs", "-o", opts], env=env))
        self.check_mount_works(mnt, shm_dir)

    def test_fstab_line_mounts_through_mount_fuse3(self):
        # mount(8) runs its helpers without the caller's PATH, so the program
        # must be where /bin/sh looks by default: lend it a link there.
        if shutil.which("shmfs", path=DEFAULT_PATH):
            self.skipTest("a shmfs is installed on the default PATH already")
        d = self.destdir()
        link = "/usr/local/bin/shmfs"
        os.symlink(os.path.join(d, "usr/bin/shmfs"), link)
        self.addCleanup(os.unlink, link)
        mnt, shm_dir = self.mountpoint(), self.shm_dir()
        self.addCleanup(lambda: is_fuse_mounted(mnt) and run(["umount", "-l", mnt]))
        config = self.tmpfile(b"[shmfs]\nshm_dir = %s\n" % shm_dir.encode())
        fstab = self.tmpfile(("%s %s fuse.shmfs defaults,allow_other,passthrough=%s 0 0\n"
                              % (config, mnt, passthrough_option())).encode())
        self.ok(run(["mount", "-T", fstab, mnt]))
        self.check_mount_works(mnt, shm_dir)

    def test_systemd_unit_verifies(self):
        if not shutil.which("systemd-analyze"):
            self.skipTest("systemd-analyze is not installed")
        if mode() == "passthrough":
            self.skipTest("independent of the data path: runs in cached mode")
        d = self.destdir()
        unit = open(os.path.join(d, "usr/lib/systemd/system/shmfs@.service")).read()
        # An instance of the template, running the installed program.
        units = tempfile.mkdtemp(prefix="shmfs-unit-")
        self.addCleanup(remove_tree, units)
        path = os.path.join(units, "shmfs@mnt-shm.service")
        with open(path, "w") as f:
            f.write(unit.replace("/usr/bin/shmfs", os.path.join(d, "usr/bin/shmfs")))
        r = run(["systemd-analyze", "verify", "--man=no", path], timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn("shmfs@", r.stdout + r.stderr)
