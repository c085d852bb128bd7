"""Where the daemon's messages go (the config key log, also -o log=), and
what its start line says. Most of these run the daemon in the background,
as a service would, on a machine whose /dev/log may not exist."""

import os
import shutil
import tempfile

from harness import SHMFS, Mount, ShmfsTestCase, mode, run

NO_SYSLOG = not os.path.exists("/dev/log")


class Logging(ShmfsTestCase):

    def background(self, *options, **kw):
        """A daemon started without -f, stopped (by unmount) at cleanup."""
        return self.mount(foreground=False, options=list(options), **kw)

    def stop_and_output(self, m):
        """Unmount, wait for the daemon to end, return what it wrote to the
        stderr it was started with."""
        m.stop()
        return m.stderr()

    def log_file(self):
        d = tempfile.mkdtemp(prefix="shmfs-log-")
        self.addCleanup(shutil.rmtree, d, True)
        return os.path.join(d, "shmfs.log")

    def assert_start_line(self, text, m, source="shmfs"):
        line = next((l for l in text.splitlines() if " mounted " in l), None)
        self.assertIsNotNone(line, "no start line in:\n" + text)
        self.assertIn("mounted %s on %s" % (source, m.mnt), line)
        self.assertIn("store %s" % m.shm_dir, line)
        if mode() == "passthrough":
            self.assertIn("data path: kernel passthrough", line)
        else:
            self.assertIn("data path: cached", line)
        self.assertRegex(line, r"limits: max_segment_size \S+, max_total_size .+, "
                               r"max_segments \S+")
        return line

    def test_background_without_syslog_falls_back_to_stderr_with_a_warning(self):
        if not NO_SYSLOG:
            self.skipTest("/dev/log exists here")
        for option in ([], ["log=syslog"]):
            with self.subTest(option=option):
                m = self.background(*option)
                out = self.stop_and_output(m)
                self.assertIn("syslog does not answer at /dev/log", out)
                self.assert_start_line(out, m)
                # a message from long after daemonizing reaches it too
                self.assertIn("unmounting %s" % m.mnt, out)

    def test_log_to_a_file_in_the_background(self):
        path = self.log_file()
        m = self.background("log=" + path, "max_segments=77", "max_segment_size=16M")
        self.ok(run(["sh", "-c", "echo x > '%s'" % m.path("seg")]))
        out = self.stop_and_output(m)
        with open(path) as f:
            text = f.read()
        line = self.assert_start_line(text, m)
        self.assertIn("max_segment_size 16M", line)
        self.assertIn("max_segments 77", line)
        self.assertRegex(line, r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d shmfs\[\d+\]: ")
        self.assertIn("unmounting %s" % m.mnt, text)
        self.assertNotIn("mounted", out)

    def test_log_to_stderr_in_the_background(self):
        m = self.background("log=stderr")
        out = self.stop_and_output(m)
        self.assert_start_line(out, m)
        self.assertIn("unmounting %s" % m.mnt, out)
        self.assertNotIn("syslog", out)

    def test_the_config_file_is_the_source_in_the_start_line(self):
        path = self.config("[shmfs]\nlog = stderr\n")
        m = self.background(config=path)
        out = self.stop_and_output(m)
        self.assert_start_line(out, m, source=path)

    def test_a_log_file_that_cannot_be_opened_fails_the_start(self):
        m = Mount(foreground=False, options=["log=/nonexistent/dir/shmfs.log"])
        self.addCleanup(m.stop)
        with self.assertRaises(AssertionError):
            m.start()
        self.assertIn("log /nonexistent/dir/shmfs.log: No such file or directory", m.stderr())

    def test_check_config_checks_and_shows_log(self):
        path = self.config("[shmfs]\nlog = /var/log/shmfs.log\n")
        r = run([SHMFS, "--check-config", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)^log = /var/log/shmfs.log$")
        path = self.config("[shmfs]\n\nlog = journal\n")
        r = run([SHMFS, "--check-config", path])
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("%s:3: log must be syslog, stderr or an absolute file path" % path,
                      r.stderr)
