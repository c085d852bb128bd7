"""The README's examples, run as they are written.

Each code block marked `<!-- readme-test: KIND -->` in README.md is taken
verbatim; only /mnt/shm (the mount point), the shm prefix "shmfs." and host
paths are replaced by this test's own, so that nothing outside the test's
mount point and prefix is touched.
"""

import mmap
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from harness import (NOBODY, SHMFS, Mount, ShmfsTestCase, getfattr, is_fuse_mounted, meminfo,
                     mode, passthrough_option, remove_tree, run, sh, stat_field)

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, "..", "..", "README.md")
MIB = 1 << 20


def readme_blocks(kind):
    """The code blocks of README.md marked with <!-- readme-test: kind -->."""
    with open(README) as f:
        text = f.read()
    pattern = r"<!-- readme-test: %s -->\n```[a-z]*\n(.*?)```" % re.escape(kind)
    return re.findall(pattern, text, re.S)


class Readme(ShmfsTestCase):

    def one_block(self, kind):
        blocks = readme_blocks(kind)
        self.assertEqual(len(blocks), 1, "README.md has %d '%s' examples" % (len(blocks), kind))
        return blocks[0]

    def localize(self, text, mnt, prefix):
        return re.sub(r"(?<=/)shmfs\.", prefix, text.replace("/mnt/shm", mnt))

    def test_make_run_mounts_mnt_and_ctrl_c_unmounts(self):
        if mode() == "passthrough":
            self.skipTest("independent of the data path: runs in cached mode")
        root = os.path.dirname(os.path.dirname(HERE))
        mnt = os.path.join(root, "mnt")
        if is_fuse_mounted(mnt):
            self.skipTest("%s is in use" % mnt)
        shm_dir = self.shm_dir()
        build = os.path.dirname(SHMFS)
        make = self.make_run(["make", "-s", "-C", root, "run", "BUILD=" + build,
                              "RUN_OPTS=-o shm_dir=%s" % shm_dir], mnt, 120)
        self.ok(sh("echo hi > %s/x" % mnt))
        self.assertEqual(open(os.path.join(shm_dir, "shmfs.x")).read(), "hi\n")
        os.killpg(make.pid, signal.SIGINT)          # what Ctrl-C in a terminal does
        for _ in range(500):
            if not is_fuse_mounted(mnt):
                break
            time.sleep(0.02)
        self.assertFalse(is_fuse_mounted(mnt), "still mounted after Ctrl-C")

    def make_run(self, args, mnt, timeout, cwd=None, env=None):
        """Start make run (args) in a session of its own, killed and its
        mount detached at cleanup; return it once mnt is mounted."""
        make = subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)

        def stop():
            if make.poll() is None:
                os.killpg(make.pid, signal.SIGKILL)
                make.wait(10)
            if is_fuse_mounted(mnt):
                run(["umount", "-l", mnt])
        self.addCleanup(stop)
        deadline = time.monotonic() + timeout
        while not is_fuse_mounted(mnt) and time.monotonic() < deadline and make.poll() is None:
            time.sleep(0.05)
        self.assertTrue(is_fuse_mounted(mnt), "make run did not mount %s: %s"
                        % (mnt, make.stdout.read() if make.poll() is not None else ""))
        return make

    def fresh_copy(self):
        """The project's files as a fresh clone has them (git ls-files of
        this tree, uncommitted changes included), in a new directory."""
        root = os.path.dirname(os.path.dirname(HERE))
        r = run(["git", "-C", root, "ls-files", "-z", "--cached", "--others",
                 "--exclude-standard"])
        self.assertEqual(r.returncode, 0, r.stderr)
        copy = tempfile.mkdtemp(prefix="shmfs-clone-")
        self.addCleanup(remove_tree, copy)
        for name in filter(None, r.stdout.split("\0")):
            src = os.path.join(root, name)
            if not os.path.isfile(src):
                continue   # removed in the work tree
            dst = os.path.join(copy, name)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(src, dst)
        return copy

    def test_the_commands_work_in_order_from_a_fresh_clone(self):
        """make run (then Ctrl-C), the shell block, Python, C, the unmount:
        in the clone's directory, as written, with only the test's own shm
        prefix and data path added to the two mount commands."""
        copy = self.fresh_copy()
        prefix = self.shm_prefix()
        mnt = os.path.join(copy, "mnt")
        self.addCleanup(lambda: is_fuse_mounted(mnt) and run(["umount", "-l", mnt]))
        opts = "-o shm_dir=/dev/shm,prefix=%s,passthrough=%s" % (prefix, passthrough_option())
        # As a user at a shell would: not inside this suite's make (make asan
        # passes BUILD and CFLAGS down through MAKEFLAGS).
        env = {k: v for k, v in os.environ.items()
               if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "BUILD",
                            "CFLAGS", "CC")}
        make = self.make_run(["make", "-s", "run", "RUN_OPTS=" + opts], mnt, 180, cwd=copy,
                             env=env)
        os.killpg(make.pid, signal.SIGINT)          # Ctrl-C
        make.wait(30)
        self.assertFalse(is_fuse_mounted(mnt), "still mounted after Ctrl-C")

        script = self.one_block("sh").replace("build/shmfs none", "build/shmfs %s none" % opts, 1)
        script = re.sub(r"(?<=/)shmfs\.", prefix, script)
        r = sh("set -e\n" + script, cwd=copy, timeout=30)
        want_io = "passthrough" if mode() == "passthrough" else "cached"
        self.assertEqual(self.ok(r).splitlines(), ["hello", "1048576", want_io])
        self.assertNotIn("Removing leading", r.stderr)
        self.assertTrue(os.path.isdir("/dev/shm/%scams" % prefix))

        self.ok(run(["python3", "-c", self.one_block("python")], cwd=copy))
        self.ok(run(["python3", "-c", "import mmap,os; m=mmap.mmap(os.open('mnt/frame', "
                     "os.O_RDWR), 4096); assert m[:5] == b'hello', m[:5]"], cwd=copy))
        src = os.path.join(copy, "example.c")
        with open(src, "w") as f:
            f.write(re.sub(r"(?<=/)shmfs\.", prefix, self.one_block("c")))
        self.ok(run(["cc", "-o", "example", "example.c", "-lrt"], cwd=copy, timeout=60))
        self.assertEqual(self.ok(run(["./example"], cwd=copy)), "hello\n")

        self.ok(sh("set -e\n" + self.one_block("sh-end"), cwd=copy))
        self.assertFalse(is_fuse_mounted(mnt), "the example's last line unmounts")

    def test_make_check_passes_as_an_unprivileged_user(self):
        """make check, as written, by a user who is not root, in a fresh
        clone of theirs: the unit tests pass, those that need root are
        counted as skipped."""
        if mode() == "passthrough":
            self.skipTest("independent of the data path: runs in cached mode")
        command = self.one_block("check").split("#")[0].strip()
        self.assertEqual(command, "make check")
        copy = self.fresh_copy()
        self.ok(run(["chown", "-R", "%d:%d" % (NOBODY, NOBODY), copy]))
        os.chmod(copy, 0o755)
        env = {k: v for k, v in os.environ.items()
               if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "BUILD",
                            "CFLAGS", "CC")}
        env["HOME"] = copy
        r = run(["sh", "-c", command], user="nobody", cwd=copy, env=env, timeout=300)
        out = self.ok(r)
        last = out.strip().splitlines()[-1]
        m = re.fullmatch(r"unit: (\d+) passed, 0 failed, (\d+) skipped", last)
        self.assertIsNotNone(m, "closing line: %r" % last)
        self.assertGreater(int(m.group(1)), 0, last)
        self.assertGreater(int(m.group(2)), 0, "no root-only test was skipped as nobody: "
                           + last)
        self.assertIn("skipped: tests/unit/test_stores.c: test_declared_owner: ", out)

    def test_python_and_c_examples_share_one_segment(self):
        prefix = self.shm_prefix()
        parent = self.mountpoint()
        os.mkdir(os.path.join(parent, "mnt"))
        self.addCleanup(os.rmdir, os.path.join(parent, "mnt"))
        m = self.mount(shm_dir="/dev/shm", prefix=prefix, mountpoint=os.path.join(parent, "mnt"))
        # The Python example writes; a second process mapping the path sees it.
        self.ok(run(["python3", "-c", self.one_block("python")], cwd=parent))
        self.ok(run(["python3", "-c", "import mmap,os; m=mmap.mmap(os.open(%r, os.O_RDWR), 4096);"
                     "assert m[:5] == b'hello', m[:5]" % m.path("frame")]))
        # The C example opens the POSIX shm object /PREFIXframe, no mount involved.
        src = self.tmpfile(self.localize(self.one_block("c"), m.mnt, prefix).encode())
        exe = src + ".bin"
        self.addCleanup(lambda: os.path.exists(exe) and os.unlink(exe))
        self.ok(run(["cc", "-x", "c", "-o", exe, src, "-lrt"], timeout=60))
        self.assertEqual(self.ok(run([exe])), "hello\n")

    def test_config_example_is_valid_and_does_what_it_says(self):
        persist = tempfile.mkdtemp(prefix="shmfs-persist-")
        self.addCleanup(remove_tree, persist)
        shm_dir = self.shm_dir()
        ini = self.one_block("ini").replace("/var/lib/shmfs/persist", persist + "/p")
        ini = ini.replace("shm_dir = /dev/shm", "shm_dir = " + shm_dir)
        cfg = self.tmpfile(ini.encode())
        self.ok(run([SHMFS, "--check-config", cfg]))
        m = self.mount(config=cfg, shm_dir=shm_dir, shm_dir_option=False)
        self.assertEqual(stat_field(m.path("sensors"), "%s %a %U"), "%d 660 nobody" % (64 * MIB))
        self.ok(sh("echo kept > %s" % m.path("persist", "notes")))
        self.assertEqual(open(os.path.join(persist, "p", "notes")).read(), "kept\n")
        self.assertEqual(getfattr(m.path("scratch"), "user.shmfs.lifetime"), "process")
        r = run(["rm", m.path("sensors")])
        self.assertIn("Device or resource busy", r.stderr)
        r = run(["python3", "-c", "import os; os.rename(%r, %r)"
                 % (m.path("persist", "notes"), m.path("notes"))])
        self.assertIn("Invalid cross-device link", r.stderr)

    def test_cached_mode_keeps_a_second_copy_passthrough_does_not(self):
        # The README's memory row: touching a segment through a mapping of a
        # cached mount fills the FUSE page cache besides the shm object.
        m = self.mount()
        self.ok(run(["dd", "if=/dev/zero", "of=" + m.backing("big"), "bs=1M", "count=128",
                     "status=none"], timeout=60))
        before = meminfo("Cached")
        with open(m.path("big"), "rb") as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as mp:
            touched = sum(mp[i] for i in range(0, len(mp), 4096))
        self.assertEqual(touched, 0)
        growth = meminfo("Cached") - before
        if mode() == "passthrough":
            self.assertLess(growth, 32 * MIB)
        else:
            self.assertGreater(growth, 96 * MIB)

    def test_read_sees_a_direct_change_of_the_object_while_a_mapping_holds_the_page(self):
        # The README's "programs using the shm object directly" row: read()
        # through the mount goes to the object, in either mode (cached mode:
        # Linux 6.6+, which this kernel is).
        m = self.mount()
        with open(m.backing("seg"), "wb") as f:
            f.write(b"a" * 4096)
        fd = os.open(m.path("seg"), os.O_RDWR)
        try:
            with mmap.mmap(fd, 4096) as mp:
                self.assertEqual(mp[:1], b"a")  # the page is cached now
                with open(m.backing("seg"), "r+b") as f:
                    f.write(b"b")
                self.assertEqual(os.pread(fd, 1, 0), b"b")
        finally:
            os.close(fd)

    def test_status_shows_a_mapping_process(self):
        m = self.mount()
        self.ok(run(["truncate", "-s", "1M", m.path("frame")]))
        holder = self.mapper(m.path("frame"))
        self.assertEqual(holder.ask("w 0 x"), "ok")
        out = self.ok(run([SHMFS, "status", m.mnt]))
        lines = out.splitlines()
        self.assertTrue(lines[0].startswith(m.mnt + ": daemon "), lines[0])
        self.assertEqual(lines[1].split(), ["NAME", "SIZE", "RES", "BACKEND", "LIFETIME", "IO",
                                            "OPENS", "PIDS"])
        row = [l.split() for l in lines if l.startswith("frame ")]
        self.assertEqual(len(row), 1, out)
        want_io = "passthrough" if mode() == "passthrough" else "cached"
        self.assertEqual(row[0][1:6], ["1M", row[0][2], "shm", "kernel", want_io])
        self.assertIn(str(holder.proc.pid), row[0][7].split(","))
        self.assertTrue(lines[-1].startswith("total: 1 segment, 1M"), out)
