"""Trust in the store (issue 11, cases 4, 5, 8, 12): what another user can
make a root daemon do by writing its store directly or through the mount.
Every test runs the attack as an unprivileged user (harness.ATTACKER) against
a root daemon with allow_other over a 1777 shm_dir (shared_mount)."""

import os
import stat
import subprocess
import time

from harness import (ATTACKER, MOUNT_TIMEOUT, SHMFS, VICTIM, Mount, ShmfsTestCase,
                     abort_fuse_connections, getfattr, is_fuse_mounted, py, run, sh, try_op)

DEEP = 100000          # levels of the tree that crashed recursive walks
# The daemon's thread stacks in the deep-tree test. A recursive walk holds an
# fd per level, so this machine's fd limit (20000, which a daemon without
# CAP_SYS_RESOURCE cannot raise) stops it at 20000 levels, 5 MB of stack:
# a 1 MiB stack stands for the 8 MiB one of a daemon whose fd limit lets it
# go all the way down.
STACK_KIB = 1024
RELEASE_WAIT = 1.5     # how long a segment is watched for staying after its last close


class TrustCase(ShmfsTestCase):

    def config(self, text):
        return super().config(text.lstrip("\n"))

    def as_user(self, uid, statement, *args):
        """try_op as uid: "OK" or the errno name."""
        return try_op(statement, *args, user=uid)

    def make_as(self, uid, path, mode=0o666, data="x\n"):
        """uid makes path (through the mount or directly), umask 0."""
        self.ok(sh("printf %s > %s && chmod %o %s" % (data.strip(), path, mode, path),
                   user=uid, umask=0))

    def assert_stays(self, path):
        time.sleep(RELEASE_WAIT)
        self.assertTrue(os.path.lexists(path), "%s was removed" % path)

    def start_fails(self, cfg, shm_dir, timeout=MOUNT_TIMEOUT):
        """Run the daemon in the foreground on cfg: it must exit non-zero
        within timeout, mounting nothing. Returns (why not, its stderr):
        why is None when it refused as it should."""
        mnt = self.mountpoint()
        args = [SHMFS, "-f", "-o", "shm_dir=%s,passthrough=off,allow_other" % shm_dir, cfg, mnt]
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + timeout
        why = None
        while proc.poll() is None and why is None:
            if is_fuse_mounted(mnt):
                why = "the daemon started"
            elif time.monotonic() > deadline:
                why = "the daemon neither started nor refused within %ss" % timeout
            else:
                time.sleep(0.05)
        if why:
            run(["fusermount3", "-u", mnt], timeout=10)
            if is_fuse_mounted(mnt):
                abort_fuse_connections(mnt)
                run(["umount", "-l", mnt], timeout=10)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
        _, err = proc.communicate(timeout=10)
        if not why and proc.returncode == 0:
            why = "the daemon exited 0"
        return why, err

    def refused(self, cfg, shm_dir, message):
        why, err = self.start_fails(cfg, shm_dir)
        self.assertIsNone(why, "%s:\n%s" % (why, err))
        self.assertIn(message, err)


class LifetimeMarks(TrustCase):
    """Case 8: only a segment's owner may make it go with its last user."""

    def test_another_user_cannot_mark_a_victims_segment_process(self):
        m = self.shared_mount()
        self.make_as(VICTIM, m.path("v"), 0o666)
        self.assertEqual(self.as_user(ATTACKER,
                                      "os.setxattr(A[0], 'user.shmfs.lifetime', b'process')",
                                      m.path("v")), "EPERM")
        self.assertEqual(self.as_user(ATTACKER, "os.removexattr(A[0], 'user.shmfs.lifetime')",
                                      m.path("v")), "EPERM")
        self.ok(run(["cat", m.path("v")], user=ATTACKER))
        self.assert_stays(m.backing("v"))
        self.assertEqual(getfattr(m.path("v"), "user.shmfs.lifetime"), "kernel")

    def test_the_owner_still_may(self):
        m = self.shared_mount()
        self.make_as(VICTIM, m.path("v"), 0o600)
        self.assertEqual(self.as_user(VICTIM,
                                      "os.setxattr(A[0], 'user.shmfs.lifetime', b'process')",
                                      m.path("v")), "OK")
        self.ok(run(["cat", m.path("v")], user=VICTIM))
        deadline = time.monotonic() + 3
        while os.path.lexists(m.backing("v")) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(os.path.lexists(m.backing("v")))

    def test_a_mark_written_on_the_store_directly_is_not_trusted(self):
        m = self.shared_mount()
        self.make_as(VICTIM, m.path("v"), 0o666)
        # user.* xattrs need only write access to the file: the attacker
        # has it, on the store itself.
        self.assertEqual(self.as_user(ATTACKER,
                                      "os.setxattr(A[0], 'user.shmfs.lifetime', b'process')",
                                      m.backing("v")), "OK")
        self.ok(run(["cat", m.path("v")], user=ATTACKER))
        self.assert_stays(m.backing("v"))
        # Nor at the next start.
        m.stop()
        m2 = self.shared_mount(shm_dir=m.shm_dir)
        self.assertEqual(self.ok(run(["cat", m2.path("v")])), "x")

    def test_the_daemons_marks_are_not_shown_or_settable_through_the_mount(self):
        m = self.shared_mount()
        self.make_as(VICTIM, m.path("v"), 0o600)
        self.assertEqual(self.as_user(VICTIM,
                                      "os.setxattr(A[0], 'user.shmfs.lifetime', b'process')",
                                      m.path("v")), "OK")
        names = os.listxattr(m.backing("v"))
        self.assertIn("trusted.shmfs.lifetime", names)
        self.assertNotIn("user.shmfs.lifetime", names)
        out = self.ok(run(["getfattr", "-d", "-m", "-", "--absolute-names", m.path("v")]))
        self.assertNotIn("trusted.shmfs", out)
        self.assertEqual(try_op("os.setxattr(A[0], 'trusted.shmfs.mount', b'x')", m.path("v")),
                         "ENOTSUP")


class MountSweep(TrustCase):
    """Case 12: lifetime = mount removes only what this mount made."""

    def test_unmount_leaves_another_users_file_made_in_the_store(self):
        m = self.shared_mount(options=["lifetime=mount"])
        self.ok(sh("echo ours > %s" % m.path("ours")))
        theirs = os.path.join(m.shm_dir, "shmfs.theirs")
        self.make_as(VICTIM, theirs, 0o600)
        m.expect_exit = True
        self.assertEqual(m.unmount().returncode, 0)
        self.assertTrue(m.wait_exit(10))
        self.assertFalse(os.path.lexists(m.backing("ours")))
        self.assertTrue(os.path.exists(theirs), "the victim's own file was swept")

    def test_start_leaves_another_users_file_made_in_the_store(self):
        d = self.shm_dir(mode=0o1777)
        theirs = os.path.join(d, "shmfs.theirs")
        self.make_as(VICTIM, theirs, 0o600)
        m = self.shared_mount(shm_dir=d, options=["lifetime=mount"])
        self.assertTrue(os.path.exists(theirs), "the victim's own file was swept at start")
        self.assertEqual(self.ls(m.mnt), ["theirs"])

    def test_empty_prefix_with_lifetime_mount_over_a_shared_dir_is_refused(self):
        d = self.shm_dir(mode=0o1777)
        cfg = self.config("[shmfs]\nshm_dir = %s\nprefix =\nlifetime = mount\n" % d)
        r = run([SHMFS, "--check-config", cfg])
        self.fails_with(r, "%s:4: lifetime = mount with an empty prefix" % cfg)

    def test_a_config_file_others_can_write_is_refused(self):
        cfg = self.config("[shmfs]\n")
        os.chmod(cfg, 0o666)
        self.fails_with(run([SHMFS, "--check-config", cfg]), "writable by others")
        os.chmod(cfg, 0o644)
        os.chown(cfg, ATTACKER, ATTACKER)
        self.fails_with(run([SHMFS, "--check-config", cfg]), "owned by uid %d" % ATTACKER)


class DeclaredNames(TrustCase):
    """Case 4: what another user planted at a declared name is refused at
    start, never adopted, followed or swept."""

    def victim_tree(self):
        """A victim's directory with a file, where an attacker can point a
        symlink."""
        d = self.disk_dir()
        os.chmod(d, 0o755)
        victim = os.path.join(d, "victim")
        os.mkdir(victim)
        with open(os.path.join(victim, "precious"), "w") as f:
            f.write("keep\n")
        os.chown(victim, VICTIM, VICTIM)
        return victim

    def test_symlink_at_a_process_dir_is_refused_and_its_target_kept(self):
        d = self.shm_dir(mode=0o1777)
        victim = self.victim_tree()
        self.ok(run(["ln", "-s", victim, os.path.join(d, "shmfs.scratch")], user=ATTACKER))
        cfg = self.config("[dir scratch]\nlifetime = process\n")
        why, err = self.start_fails(cfg, d)
        self.assertTrue(os.path.exists(os.path.join(victim, "precious")),
                        "the start swept the symlink's target")
        self.assertIsNone(why, "%s:\n%s" % (why, err))
        self.assertIn("shmfs.scratch is a symbolic link", err)

    def test_planted_directory_is_refused(self):
        d = self.shm_dir(mode=0o1777)
        planted = os.path.join(d, "shmfs.data")
        self.ok(run(["mkdir", "-m", "0777", planted], user=ATTACKER))
        cfg = self.config("[dir data]\nmode = 0700\n")
        self.refused(cfg, d, "shmfs.data is owned by uid %d" % ATTACKER)

    def test_planted_segment_is_refused_not_handed_over(self):
        d = self.shm_dir(mode=0o1777)
        planted = os.path.join(d, "shmfs.sensors")
        self.make_as(ATTACKER, planted, 0o666)
        cfg = self.config("[segment sensors]\nsize = 4K\nmode = 0600\nowner = %d\n" % VICTIM)
        why, err = self.start_fails(cfg, d)
        self.assertEqual(os.stat(planted).st_uid, ATTACKER, "handed over to the declared owner")
        self.assertIsNone(why, "%s:\n%s" % (why, err))
        self.assertIn("shmfs.sensors is owned by uid %d" % ATTACKER, err)

    def test_symlink_at_a_declared_segment_is_refused_by_name(self):
        d = self.shm_dir(mode=0o1777)
        self.ok(run(["ln", "-s", "/etc/shadow", os.path.join(d, "shmfs.cam")], user=ATTACKER))
        cfg = self.config("[segment cam]\nsize = 4K\n")
        self.refused(cfg, d, "shmfs.cam is a symbolic link, not a regular file")

    def test_fifo_at_a_placeholder_does_not_block_the_start(self):
        d = self.shm_dir(mode=0o1777)
        disk = self.disk_dir()
        self.ok(run(["mkfifo", "-m", "0666", os.path.join(d, "shmfs.log")], user=ATTACKER))
        cfg = self.config("[segment log]\nbackend = file\npath = %s/log.dat\nsize = 4K\n" % disk)
        self.refused(cfg, d, "shmfs.log is a FIFO")

    def test_declared_names_made_by_the_daemon_are_taken_again(self):
        d = self.shm_dir(mode=0o1777)
        disk = self.disk_dir()
        cfg = self.config("[dir data]\nmode = 0700\nowner = %d\n"
                          "[segment sensors]\nsize = 4K\nowner = %d\n"
                          "[segment log]\nbackend = file\npath = %s/log.dat\nsize = 4K\n"
                          "[dir scratch]\nlifetime = process\n"
                          % (VICTIM, VICTIM, disk))
        m = self.shared_mount(shm_dir=d, config=cfg)
        self.ok(sh("echo v > %s" % m.path("data", "f"), user=VICTIM))
        m.stop()
        m2 = self.shared_mount(shm_dir=d, config=cfg)
        self.assertEqual(self.ok(run(["cat", m2.path("data", "f")], user=VICTIM)), "v\n")
        self.assertEqual(self.ls(m2.mnt), ["data", "log", "scratch", "sensors"])


class DeepTree(TrustCase):
    """Case 5 (the daemon's walks): a tree DEEP levels deep made directly in
    the store crashes nothing."""

    def make_deep(self, top, uid):
        """uid makes top/d/d/d... DEEP levels; removed after the test."""
        code = ("import os, sys\n"
                "fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)\n"
                "for _ in range(int(sys.argv[2])):\n"
                "    os.mkdir('d', dir_fd=fd)\n"
                "    nfd = os.open('d', os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)\n"
                "    os.close(fd)\n"
                "    fd = nfd\n")
        os.mkdir(top)
        os.chown(top, uid, uid)
        self.addCleanup(self.remove_deep, top)
        self.ok(py(code, top, DEEP, user=uid, timeout=120))

    def remove_deep(self, top):
        """Remove top/d/d/... without recursion: down to the bottom, then up
        through '..', removing each level's d."""
        if not os.path.isdir(top):
            return
        fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
        depth = 0
        while True:
            try:
                nfd = os.open("d", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                break
            os.close(fd)
            fd, depth = nfd, depth + 1
        for _ in range(depth):
            parent = os.open("..", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            os.rmdir("d", dir_fd=parent)
            fd = parent
        os.close(fd)
        os.rmdir(top)

    def small_stack_mount(self, **kw):
        """shared_mount(), the daemon's stacks STACK_KIB (see there)."""
        m = Mount(shm_dir=self.shm_dir(mode=0o1777), mountpoint=self.mountpoint(),
                  options=["allow_other"] + kw.pop("options", []), **kw)
        os.chmod(m.mnt, 0o755)
        m.args = ["/bin/sh", "-c", 'ulimit -s %d && exec "$@"' % STACK_KIB, "sh"] + m.args
        self.addCleanup(m.stop)
        return m.start()

    def test_a_refused_truncate_recounts_over_a_deep_tree_without_crashing(self):
        m = self.small_stack_mount(options=["max_total_size=1M"])
        self.make_deep(os.path.join(m.shm_dir, "shmfs.deep"), ATTACKER)
        self.make_as(ATTACKER, m.path("f"), 0o644)
        r = run(["truncate", "-s", "2M", m.path("f")], user=ATTACKER, timeout=60)
        self.fails_with(r, "No space left on device")
        self.assertIn("deep", self.ls(m.mnt))
        self.assertIn("levels deep were left out", m.stderr())
