"""Issue 11, case 9 and the status half of case 5: what an unprivileged user
can put in a shared store, or mount, must not hang, flood, forge or crash
root's `shmfs status`."""

import errno
import json
import os
import signal
import stat
import subprocess
import time

from harness import ATTACKER, NOBODY, PYTHON, SHMFS, Mount, ShmfsTestCase, getfattr, run, sh

STATUS_TIMEOUT = 60.0


def status(*args, timeout=STATUS_TIMEOUT):
    """Run `shmfs status ARGS` as root; (exit status, stdout bytes, stderr
    text, seconds, max RSS in KiB). A status still running after timeout is
    killed and fails the test."""
    cmd = ["/usr/bin/time", "-f", "maxrss=%M", SHMFS, "status"] + list(args)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError("shmfs status still running after %ss" % timeout) from None
    seconds = time.monotonic() - start
    err = err.decode(errors="replace")
    lines = err.splitlines()
    rss = int(lines[-1].split("=")[1]) if lines and lines[-1].startswith("maxrss=") else -1
    # /usr/bin/time reports a signal as "Command terminated by signal N"
    return proc.returncode, out, "\n".join(lines[:-1]), seconds, rss


def mountinfo_line(path):
    for line in open("/proc/self/mountinfo"):
        if line.split()[4] == path:
            return line
    return ""


def remove_deep(parent, name):
    """Remove parent/name however deep it goes, without recursion: each
    sub-directory is first moved up beside it, then emptied in turn."""
    pfd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
    todo, n = [name], 0
    try:
        while todo:
            cur = todo.pop()
            try:
                fd = os.open(cur, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=pfd)
            except OSError:
                try:
                    os.unlink(cur, dir_fd=pfd)
                except OSError:
                    pass
                continue
            try:
                for e in os.listdir(fd):
                    if stat.S_ISDIR(os.stat(e, dir_fd=fd, follow_symlinks=False).st_mode):
                        n += 1
                        moved = "%s.rm%d" % (name, n)
                        os.rename(e, moved, src_dir_fd=fd, dst_dir_fd=pfd)
                        todo.append(moved)
                    else:
                        os.unlink(e, dir_fd=fd)
            finally:
                os.close(fd)
            os.rmdir(cur, dir_fd=pfd)
    finally:
        os.close(pfd)


# As ATTACKER, directly in the store: a chain of directories DEPTH deep,
# each made and entered relative to its parent's fd (paths would pass PATH_MAX).
MAKE_DEEP = r"""
import os, sys
top, depth = sys.argv[1], int(sys.argv[2])
os.mkdir(top)
fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
for _ in range(depth):
    os.mkdir("d", dir_fd=fd)
    nfd = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    fd = nfd
open(os.open("bottom", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w").write("x")
print("made")
"""


class TrustStatusTest(ShmfsTestCase):
    """Root runs `shmfs status` over a shared mount that ATTACKER uses."""

    def setUp(self):
        super().setUp()
        self.m = self.shared_mount()

    def rows(self, out):
        """The segment rows of a one-mount table."""
        lines = out.decode().splitlines()
        self.assertTrue(lines[0].startswith(self.m.mnt + ": daemon "), lines[0])
        self.assertTrue(lines[-1].startswith("total: "), lines)
        return lines[2:-1]

    def test_a_fifo_at_the_backing_name_does_not_hang_status(self):
        # ATTACKER keeps a segment open through the mount, gives it a second
        # name in the store and removes the first: the daemon's fd now reads
        # back as "<backing> (deleted)", and a FIFO of that name waits there.
        seg = self.m.backing("x")
        self.ok(sh("echo data > %s" % self.m.path("x"), user=ATTACKER))
        holder = self.mapper(self.m.path("x"), user=ATTACKER)
        self.ok(run(["ln", seg, self.m.backing("y")], user=ATTACKER))
        self.ok(run(["rm", seg], user=ATTACKER))
        self.ok(run(["mkfifo", seg + " (deleted)"], user=ATTACKER))
        self.assertEqual(getfattr(self.m.path("y"), "user.shmfs.backing"), seg + " (deleted)")

        rc, out, err, _, _ = status(self.m.mnt, timeout=20)

        self.assertEqual(rc, 0, err)
        row = [r.split() for r in self.rows(out) if r.startswith("y ")]
        self.assertEqual(len(row), 1, out)
        self.assertIn(str(holder.proc.pid), row[0][7].split(","))
        # nobody opened the FIFO for reading: a writer finds no reader
        self.assertEqual(run([PYTHON, "-c", "import os,sys\ntry:\n os.open(sys.argv[1], "
                              "os.O_WRONLY | os.O_NONBLOCK)\nexcept OSError as e:\n print(e.errno)",
                              seg + " (deleted)"]).stdout.strip(), str(errno.ENXIO))

    def test_a_huge_sparse_segment_costs_status_neither_memory_nor_time(self):
        self.ok(run(["truncate", "-s", "4T", self.m.backing("huge")], user=ATTACKER))

        rc, out, err, seconds, rss_kib = status(self.m.mnt)

        self.assertEqual(rc, 0, err)
        self.assertEqual([r.split()[:3] for r in self.rows(out)], [["huge", "4T", "0B"]])
        self.assertLess(rss_kib, 200 * 1024, "max RSS %d KiB" % rss_kib)
        self.assertGreater(rss_kib, 0)
        self.assertLess(seconds, 5.0)

    def test_names_cannot_forge_rows_or_reach_the_terminal(self):
        forged = "evil\nforged 1T 1T shm kernel cached 0 1\x1b[31m\\"
        self.ok(run([PYTHON, "-c", "import sys; open(sys.argv[1], 'w').write('x')",
                     self.m.path(forged)], user=ATTACKER))

        rc, out, err, _, _ = status(self.m.mnt)

        self.assertEqual(rc, 0, err)
        self.assertNotIn(b"\x1b", out)
        rows = self.rows(out)
        self.assertEqual(len(rows), 1, out)
        self.assertTrue(rows[0].startswith(
            "evil\\nforged 1T 1T shm kernel cached 0 1\\x1b[31m\\\\ "), rows[0])
        self.assertIn("total: 1 segment,", out.decode())

        rc, out, err, _, _ = status("--json", self.m.mnt)

        self.assertEqual(rc, 0, err)
        self.assertNotIn(b"\x1b", out)
        names = [g["name"] for g in json.loads(out.decode("utf-8"))["mounts"][0]["segments"]]
        self.assertEqual(names, [forged])

    def test_json_is_valid_utf8_for_any_name(self):
        self.ok(run([PYTHON, "-c", "import os, sys; os.close(os.open(os.fsencode(sys.argv[1]) "
                     "+ b'\\xff\\xc0\\x80\\xed\\xa0\\x80', os.O_CREAT | os.O_WRONLY, 0o644))",
                     self.m.backing("bad")], user=ATTACKER))

        rc, out, err, _, _ = status("--json", self.m.mnt)

        self.assertEqual(rc, 0, err)
        doc = json.loads(out.decode("utf-8", errors="strict"))
        names = [g["name"] for g in doc["mounts"][0]["segments"]]
        self.assertEqual(names, ["bad" + "\ufffd" * 6])

        rc, out, err, _, _ = status(self.m.mnt)

        self.assertEqual(rc, 0, err)
        self.assertEqual([r.split()[0] for r in self.rows(out)],
                         ["bad\\xff\\xc0\\x80\\xed\\xa0\\x80"])

    def test_a_tree_100000_deep_does_not_crash_status(self):
        top = self.m.backing("deep")
        self.addCleanup(remove_deep, self.m.shm_dir, os.path.basename(top))
        r = run([PYTHON, "-c", MAKE_DEEP, top, "100000"], user=ATTACKER, timeout=120)
        self.assertEqual(r.stdout.strip(), "made", r.stderr)
        self.ok(sh("echo x > %s" % self.m.path("shallow"), user=ATTACKER))

        rc, out, err, seconds, _ = status(self.m.mnt, timeout=120)

        self.assertEqual(rc, 0, "status %d: %s" % (rc, err))
        self.assertEqual([r.split()[0] for r in self.rows(out)], ["shallow"])
        self.assertIn("1 directory deeper than 64 levels not shown", err)


# In a fresh mount namespace: detach every fuse.shmfs mount but the ones
# named, then run `shmfs status` with no MOUNTPOINT.
ONLY_THESE = r"""
import ctypes, os, re, sys
shmfs, keep = sys.argv[1], set(sys.argv[2:])
libc = ctypes.CDLL(None, use_errno=True)
unesc = lambda p: re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), p)
for line in open("/proc/self/mountinfo"):
    fields, fstype = line.split(" - ")[0].split(), line.split(" - ")[1].split()[0]
    path = unesc(fields[4])
    if fstype == "fuse.shmfs" and path not in keep:
        libc.umount2(path.encode(), 2)  # MNT_DETACH: this namespace only
os.execv(shmfs, [shmfs, "status"])
"""


class TrustStatusMountsTest(ShmfsTestCase):
    """Which mounts root's `shmfs status` reads at all."""

    def test_a_mount_made_by_another_user_is_not_read(self):
        # What fusermount3 makes for a user, and this daemon run by that user:
        # a mount whose user_id= is theirs. Here a root daemon whose real uid
        # is NOBODY (libfuse passes getuid()), as /dev/fuse is root's only.
        theirs = Mount(options=["allow_other"])
        self.addCleanup(theirs.stop)
        theirs.args = ["setpriv", "--ruid=%d" % NOBODY] + theirs.args
        theirs.start()
        self.assertIn("user_id=%d," % NOBODY, mountinfo_line(theirs.mnt))
        ours = self.mount()
        self.ok(run(["truncate", "-s", "1M", ours.path("seg")]))

        rc, out, err, _, _ = status(ours.mnt, theirs.mnt)

        self.assertEqual(rc, 1)
        self.assertIn("%s: on a FUSE mount of another user: not read" % theirs.mnt, err)
        self.assertIn(("%s: daemon " % ours.mnt).encode(), out)
        self.assertNotIn(theirs.mnt.encode(), out)

        # Without MOUNTPOINT, in a mount namespace of its own that has only
        # these two shmfs mounts (the machine may hold others).
        r = run(["unshare", "--mount", "--propagation", "private", PYTHON, "-c", ONLY_THESE,
                 SHMFS, ours.mnt, theirs.mnt], timeout=STATUS_TIMEOUT)

        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("%s: mounted by uid %d: not read" % (theirs.mnt, NOBODY), r.stderr)
        self.assertIn("%s: daemon " % ours.mnt, r.stdout)
        self.assertNotIn(theirs.mnt, r.stdout)
