"""The command line: --help, --version, --check-config, config files, -o,
background start, and how the daemon stops."""

import os
import re
import signal

from harness import (ATTACKER, SHMFS, Mount, MountError, ShmfsTestCase, is_fuse_mounted,
                     passthrough_option, run, sh, stat_field)


class Cli(ShmfsTestCase):

    # -- informational ------------------------------------------------------
    def test_help_exits_0_and_shows_usage(self):
        r = run([SHMFS, "--help"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout + r.stderr, re.compile("usage", re.I))
        self.assertIn("-o", r.stdout + r.stderr)

    def test_version_exits_0(self):
        r = run([SHMFS, "--version"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout + r.stderr, r"\d")

    # -- --check-config -------------------------------------------------------
    def test_check_config_prints_the_effective_settings(self):
        path = self.config("[shmfs]\npassthrough = off\nprefix = cfg.\nmax_segments = 123\n")
        r = run([SHMFS, "--check-config", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout
        self.assertIn("[shmfs]", out)
        self.assertRegex(out, r"(?m)^passthrough\s*=\s*off\s*$")
        self.assertRegex(out, r"(?m)^prefix\s*=\s*cfg\.\s*$")
        self.assertRegex(out, r"(?m)^max_segments\s*=\s*123\s*$")
        self.assertIn("configuration OK", out + r.stderr)

    def test_check_config_shows_defaults_for_missing_keys(self):
        path = self.config("[shmfs]\nlog_level = warn\n")
        r = run([SHMFS, "--check-config", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)^shm_dir\s*=\s*/dev/shm\s*$")
        self.assertRegex(r.stdout, r"(?m)^prefix\s*=\s*shmfs\.\s*$")
        self.assertRegex(r.stdout, r"(?m)^passthrough\s*=\s*auto\s*$")
        self.assertRegex(r.stdout, r"(?m)^log_level\s*=\s*warn\s*$")

    def check_config_error(self, text, line):
        path = self.config(text)
        r = run([SHMFS, "--check-config", path])
        self.assertEqual(r.returncode, 1, "stdout: %s\nstderr: %s" % (r.stdout, r.stderr))
        self.assertIn("%s:%d:" % (path, line), r.stderr)
        self.assertNotIn("configuration OK", r.stdout + r.stderr)
        return r.stderr

    def test_check_config_bad_value_names_file_and_line(self):
        self.check_config_error("[shmfs]\nprefix = x.\npassthrough = maybe\n", 3)

    def test_check_config_bad_size_names_file_and_line(self):
        self.check_config_error("[shmfs]\n\nmax_segment_size = lots\n", 3)

    def test_check_config_unknown_key_is_an_error(self):
        err = self.check_config_error("[shmfs]\nshm_dir = /dev/shm\nno_such_key = 1\n", 3)
        self.assertIn("no_such_key", err)

    def test_check_config_unknown_section_is_an_error(self):
        self.check_config_error("[shmfs]\nprefix = p.\n\n[nonsense]\nkey = 1\n", 4)

    def test_check_config_reports_every_bad_line(self):
        path = self.config("[shmfs]\npassthrough = maybe\nlog_level = loud\n")
        r = run([SHMFS, "--check-config", path])
        self.assertEqual(r.returncode, 1)
        self.assertIn("%s:2:" % path, r.stderr)
        self.assertIn("%s:3:" % path, r.stderr)

    def test_check_config_of_a_missing_file_fails(self):
        path = "/nonexistent/shmfs-%d.ini" % os.getpid()
        r = run([SHMFS, "--check-config", path])
        self.assertEqual(r.returncode, 1)
        self.assertIn(path, r.stderr)

    # -- mounting with a config file or -o ----------------------------------
    def test_mount_with_a_config_file(self):
        d = self.shm_dir()
        path = self.config("[shmfs]\nshm_dir = %s\nprefix = fromfile.\n" % d)
        m = self.mount(config=path, shm_dir=d, shm_dir_option=False)
        self.ok(sh("echo cfg > %s" % m.path("seg")))
        self.assertEqual(os.listdir(d), ["fromfile.seg"])

    def test_o_overrides_the_config_file(self):
        d, other = self.shm_dir(), self.shm_dir()
        path = self.config("[shmfs]\nshm_dir = %s\nprefix = fromfile.\n" % other)
        m = self.mount(config=path, shm_dir=d, prefix="fromopt.")
        self.ok(sh("echo cfg > %s" % m.path("seg")))
        self.assertEqual(os.listdir(d), ["fromopt.seg"])
        self.assertEqual(os.listdir(other), [])

    def test_config_named_shmfs_means_built_in_defaults(self):
        m = self.mount(config="shmfs")
        self.ok(sh("echo x > %s" % m.path("seg")))
        self.assertEqual(os.listdir(m.shm_dir), ["shmfs.seg"])

    def test_bad_o_value_exits_1_and_mounts_nothing(self):
        status, err = self.mount_fails(options=["max_segments=many"])
        self.assertEqual(status, 1, err)
        self.assertIn("-o", err)

    def test_bad_passthrough_o_value_exits_1(self):
        status, err = self.mount_fails(passthrough="sometimes")
        self.assertEqual(status, 1, err)
        self.assertIn("-o", err)

    def test_bad_config_file_exits_1_and_mounts_nothing(self):
        path = self.config("[shmfs]\nlifetime = forever\n")
        status, err = self.mount_fails(config=path)
        self.assertEqual(status, 1, err)
        self.assertIn("%s:2:" % path, err)

    def test_unknown_config_key_in_a_mount_exits_1(self):
        path = self.config("[shmfs]\nprefix = p.\nsize = 1G\n")
        status, err = self.mount_fails(config=path)
        self.assertEqual(status, 1, err)
        self.assertIn("%s:3:" % path, err)

    def test_missing_shm_dir_fails_cleanly(self):
        status, err = self.mount_fails(shm_dir="/dev/shm/shmfs-no-such-dir-%d" % os.getpid())
        self.assertNotEqual(status, 0, err)
        self.assertIn("shmfs-no-such-dir", err)

    # -- background start and stopping ----------------------------------------
    def test_without_f_it_returns_once_the_mount_is_live(self):
        m = Mount(foreground=False)
        self.addCleanup(m.stop)
        opts = "shm_dir=%s,passthrough=%s" % (m.shm_dir, passthrough_option())
        r = sh("'%s' -o %s none '%s' && echo hi > '%s'" % (SHMFS, opts, m.mnt, m.path("x")),
               timeout=15)
        m.adopt()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.read_backing(m.backing("x")), b"hi\n")
        self.assertTrue(is_fuse_mounted(m.mnt))
        self.assertIsNotNone(m.pid, "no daemon process has the mountpoint in its arguments")
        self.assertEqual(stat_field(m.path("x"), "%s"), "3")
        m.stop()
        self.assertFalse(is_fuse_mounted(m.mnt))

    def stop_with_signal(self, sig):
        m = self.mount()
        self.ok(sh("echo x > %s" % m.path("seg")))
        m.expect_exit = True
        os.kill(m.pid, sig)
        self.assertTrue(m.wait_exit(10), "the daemon did not exit within 10 s of %s" % sig)
        self.assertEqual(m.exit_status, 0, m.stderr())
        self.assertFalse(is_fuse_mounted(m.mnt), "still mounted after %s" % sig)
        self.assertEqual(self.read_backing(m.backing("seg")), b"x\n")

    def test_sigterm_unmounts_and_exits_0(self):
        self.stop_with_signal(signal.SIGTERM)

    def test_sigint_unmounts_and_exits_0(self):
        self.stop_with_signal(signal.SIGINT)

    def test_sigterm_unmounts_a_mount_point_given_as_a_relative_path(self):
        parent = os.path.dirname(self.mountpoint())
        mnt = self.mountpoint()
        m = Mount(mountpoint=os.path.basename(mnt), cwd=parent)
        self.addCleanup(m.stop)
        m.start()
        self.assertTrue(is_fuse_mounted(mnt))
        m.expect_exit = True
        os.kill(m.pid, signal.SIGTERM)
        self.assertTrue(m.wait_exit(10))
        self.assertEqual(m.exit_status, 0, m.stderr())
        self.assertFalse(is_fuse_mounted(mnt), "still mounted after SIGTERM")

    def test_sigterm_as_soon_as_the_mount_appears_is_a_clean_stop(self):
        # The mount is in the mount table before the daemon has read
        # FUSE_INIT (longer so through fusermount3, for auto_unmount).
        for _ in range(20):
            m = Mount()
            self.addCleanup(m.stop)
            m.start()
            m.expect_exit = True
            os.kill(m.pid, signal.SIGTERM)
            self.assertTrue(m.wait_exit(10))
            self.assertEqual(m.exit_status, 0, m.stderr())
            self.assertFalse(is_fuse_mounted(m.mnt), "still mounted after SIGTERM")
            m.stop()

    def test_a_libfuse_error_is_one_log_line(self):
        r = run([SHMFS, "-f", "-o", "bogus_option", "none", self.mountpoint()])
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown option(s): `-o bogus_option'", r.stderr)
        self.assertEqual(len([l for l in r.stderr.splitlines() if "bogus" in l]), 1, r.stderr)

    def test_fusermount_u_makes_the_daemon_exit_0(self):
        m = self.mount()
        self.ok(sh("echo x > %s" % m.path("seg")))
        m.expect_exit = True
        r = m.unmount()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(m.wait_exit(10), "the daemon did not exit within 10 s")
        self.assertEqual(m.exit_status, 0, m.stderr())
        self.assertFalse(is_fuse_mounted(m.mnt))


class CliMessages(ShmfsTestCase):
    """What a user sees for each mistake on the command line: one line
    that says what is wrong (and where to look), exit status 1."""

    def says(self, args, message, **kw):
        r = run([SHMFS] + args, **kw)
        self.assertEqual(r.returncode, 1, "stdout: %s\nstderr: %s" % (r.stdout, r.stderr))
        self.assertIn(message, r.stderr)
        self.assertNotIn("Named shared-memory", r.stderr, "the whole usage again")
        return r

    def test_too_many_arguments(self):
        mnt = self.mountpoint()
        self.says(["none", mnt, mnt], "shmfs: too many arguments: '%s'" % mnt)

    def test_no_mount_point(self):
        self.says([], "shmfs: no mount point given")
        path = self.config("[shmfs]\n")
        self.says([path], "shmfs: no mount point given: %s is a file (a config file? then: "
                          "shmfs %s MOUNTPOINT)" % (path, path))

    def test_a_missing_mount_point(self):
        self.says(["-f", "none", "/nonexistent/mnt"],
                  "shmfs: mount point /nonexistent/mnt does not exist")

    def test_check_config_without_its_file(self):
        self.says(["--check-config"], "shmfs: --check-config needs a FILE")

    def test_check_config_fails_on_a_fuse_option_the_mount_would_refuse(self):
        r = self.says(["--check-config", "none", "-o", "bogus=1"],
                      "unknown option(s): `-o bogus=1'")
        self.assertNotIn("configuration OK", r.stdout)
        r = run([SHMFS, "--check-config", "none", "-o", "allow_other,ro,noauto_unmount"])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_an_unknown_command(self):
        self.says(["stats"], "shmfs: 'stats' is not a command (the one command is 'status')")

    def test_o_help_lists_the_options(self):
        r = run([SHMFS, "-o", "help"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for option in ("allow_other", "allow_root", "auto_unmount", "noauto_unmount",
                       "fsname=", "shm_dir", "log_level"):
            self.assertIn(option, r.stdout)

    def test_fsname_is_the_source_findmnt_shows(self):
        def source(m):
            return self.ok(run(["findmnt", "-n", "-o", "SOURCE", "--mountpoint", m.mnt])).strip()
        self.assertEqual(source(self.mount()), "shmfs")
        self.assertEqual(source(self.mount(options=["fsname=app@cams"])), "app@cams")
        path = self.config("[shmfs]\n")
        self.assertEqual(source(self.mount(config=path)), path)


class StoreChecks(ShmfsTestCase):
    """A store in which every create would fail is refused at mount and by
    --check-config, with what to do."""

    def refused(self, message, shm_dir, user=None, prefix=()):
        mnt = self.mountpoint(owner=user)
        for args in (["--check-config", "none"], ["-f", "none", mnt]):
            r = run(list(prefix) + [SHMFS, "-o", "shm_dir=" + shm_dir] + args, user=user)
            self.assertEqual(r.returncode, 1, "%s\n%s" % (args, r.stdout + r.stderr))
            self.assertIn(message, r.stderr)
            self.assertNotIn("configuration OK", r.stdout)
            self.assertFalse(is_fuse_mounted(mnt))

    def test_a_store_the_daemon_cannot_write(self):
        d = self.shm_dir(mode=0o755)
        self.refused("shmfs: shm_dir %s is not writable by uid %d, who runs the daemon (owner "
                     "uid 0, mode 0755)" % (d, ATTACKER), d, user=ATTACKER)

    def test_a_read_only_store(self):
        d = self.disk_dir()
        self.ok(run(["mount", "-t", "tmpfs", "-o", "ro,size=1M", "shmfs-ro", d]))
        self.addCleanup(run, ["umount", "-l", d])
        self.refused("shmfs: shm_dir %s is on a read-only file system" % d, d)

    def test_a_store_owned_by_nobody_in_a_user_namespace(self):
        d = self.shm_dir(mode=0o755)
        r = run(["unshare", "-Ur", "true"], user=ATTACKER)
        if r.returncode != 0:
            self.skipTest("no user namespaces here: %s" % r.stderr.strip())
        self.refused("shmfs: shm_dir %s belongs to uid 65534 (nobody: its owner is not mapped "
                     "into this user namespace)" % d, d, user=ATTACKER,
                     prefix=["unshare", "-Urm"])

    def test_dev_fuse_without_access(self):
        if os.stat("/dev/fuse").st_mode & 0o006 == 0o006:
            self.skipTest("/dev/fuse is open to every user here")
        d = self.shm_dir(owner=ATTACKER)
        mnt = self.mountpoint(owner=ATTACKER)
        r = run([SHMFS, "-f", "-o", "shm_dir=" + d, "none", mnt], user=ATTACKER)
        self.assertEqual(r.returncode, 1)
        self.assertIn("shmfs: /dev/fuse: Permission denied: uid %d may not use FUSE" % ATTACKER,
                      r.stderr)

    def test_an_unusable_default_store_falls_back_to_xdg_runtime_dir(self):
        r = run(["unshare", "-Ur", "true"], user=ATTACKER)
        if r.returncode != 0:
            self.skipTest("no user namespaces here: %s" % r.stderr.strip())
        runtime = self.mountpoint(owner=ATTACKER)
        # a rootless container whose /dev/shm is read-only
        script = ("mount -t tmpfs -o ro none /dev/shm && XDG_RUNTIME_DIR=%s '%s' --check-config none"
                  % (runtime, SHMFS))
        r = run(["unshare", "-Urm", "sh", "-c", script], user=ATTACKER)
        self.addCleanup(lambda: os.path.isdir(runtime + "/shmfs") and os.rmdir(runtime + "/shmfs"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)^shm_dir = %s/shmfs$" % runtime)
        self.assertIn("shmfs: the default shm_dir /dev/shm cannot take segments: using %s/shmfs"
                      % runtime, r.stderr)
        # a shm_dir given on purpose is not replaced
        r = run(["unshare", "-Urm", "sh", "-c", script + " -o shm_dir=/dev/shm"], user=ATTACKER)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("shm_dir /dev/shm is on a read-only file system", r.stderr)
