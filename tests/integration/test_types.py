"""Every object type tmpfs has, as on tmpfs: hard links (one segment, two
names; EXDEV across stores), symlinks kept as symlinks and resolved by the
client, FIFOs, UNIX sockets, device nodes (inert: the mount is nodev); stat,
rename, unlink, chmod, chown and utimes of each; limits and lifetimes count
segments, not names."""

import json
import os
import socket
import stat
import subprocess
import time

from harness import (ATTACKER, SHMFS, VICTIM, ShmfsTestCase, py, run, sh, stat_field,
                     try_op)

RELEASE_TIMEOUT = 2.0


class ObjectTypes(ShmfsTestCase):

    def setUp(self):
        super().setUp()
        self.m = self.mount()

    def test_hard_link_is_a_second_name_of_the_same_segment(self):
        self.ok(sh("echo first > %s" % self.m.path("a")))
        self.ok(run(["ln", self.m.path("a"), self.m.path("b")]))
        self.assertEqual(self.ls(self.m.mnt), ["a", "b"])
        self.assertEqual(stat_field(self.m.path("a"), "%i %h"),
                         stat_field(self.m.path("b"), "%i %h"))
        self.assertEqual(stat_field(self.m.path("b"), "%h"), "2")
        back_a, back_b = os.stat(self.m.backing("a")), os.stat(self.m.backing("b"))
        self.assertEqual((back_a.st_ino, back_a.st_nlink), (back_b.st_ino, 2))
        self.ok(sh("echo second > %s" % self.m.path("b")))
        self.assertEqual(self.ok(run(["cat", self.m.path("a")])), "second\n")
        self.ok(run(["rm", self.m.path("a")]))
        self.assertEqual(self.ok(run(["cat", self.m.path("b")])), "second\n")
        self.assertEqual(stat_field(self.m.path("b"), "%h"), "1")
        self.ok(run(["touch", self.m.path("c")]))
        self.assertEqual(try_op("os.link(A[0], A[1])", self.m.path("b"), self.m.path("c")),
                         "EEXIST")
        self.ok(run(["mkdir", self.m.path("d")]))
        self.assertEqual(try_op("os.link(A[0], A[1])", self.m.path("d"), self.m.path("e")),
                         "EPERM")

    def test_hard_link_of_a_mapped_segment_maps_the_same_pages(self):
        self.ok(run(["truncate", "-s", "4096", self.m.path("a")]))
        mapper = self.mapper(self.m.path("a"))
        self.ok(run(["ln", self.m.path("a"), self.m.path("b")]))
        self.assertEqual(mapper.ask("w 0 through-a"), "ok")
        self.assertEqual(mapper.ask("msync"), "ok")
        self.assertEqual(self.ok(run(["head", "-c", "9", self.m.path("b")])), "through-a")

    def test_symlink_is_kept_as_a_symlink_and_followed_by_the_client(self):
        self.ok(sh("echo target-data > %s" % self.m.path("t")))
        self.ok(run(["ln", "-s", "t", self.m.path("l")]))
        self.assertEqual(self.ok(run(["readlink", self.m.path("l")])), "t\n")
        self.assertEqual(self.ok(run(["cat", self.m.path("l")])), "target-data\n")
        self.assertEqual(stat_field(self.m.path("l"), "%F"), "symbolic link")
        self.assertTrue(os.path.islink(self.m.backing("l")))
        self.assertEqual(os.readlink(self.m.backing("l")), "t")
        self.assertEqual(self.ls(self.m.mnt), ["l", "t"])

    def test_symlink_to_an_absolute_path_and_a_dangling_one(self):
        data = self.tmpfile(b"outside\n")
        self.ok(run(["ln", "-s", data, self.m.path("abs")]))
        self.ok(run(["ln", "-s", "nowhere", self.m.path("dangling")]))
        self.assertEqual(self.ok(run(["cat", self.m.path("abs")])), "outside\n")
        self.fails_with(run(["cat", self.m.path("dangling")]), "No such file or directory")
        self.assertEqual(self.ok(run(["readlink", self.m.path("dangling")])), "nowhere\n")

    def test_fifo_carries_data_from_a_writer_to_a_reader(self):
        self.ok(run(["mkfifo", "-m", "600", self.m.path("p")]))
        self.assertEqual(stat_field(self.m.path("p"), "%F %a"), "fifo 600")
        self.assertTrue(stat.S_ISFIFO(os.lstat(self.m.backing("p")).st_mode))
        reader = subprocess.Popen(["cat", self.m.path("p")], stdout=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL, text=True)
        self.addCleanup(lambda: reader.poll() is None and reader.kill())
        self.ok(sh("echo through-the-fifo > %s" % self.m.path("p")))
        out, _ = reader.communicate(timeout=10)
        self.assertEqual(out, "through-the-fifo\n")

    def test_unix_socket_bound_and_connected_in_the_mount(self):
        code = (
            "import os, socket, sys\n"
            "s = socket.socket(socket.AF_UNIX)\n"
            "s.bind(sys.argv[1]); s.listen(1)\n"
            "if os.fork() == 0:\n"
            "    c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1])\n"
            "    c.sendall(b'over-the-socket'); os._exit(0)\n"
            "conn, _ = s.accept(); print(conn.recv(64).decode()); os.wait()\n")
        out = self.ok(py(code, self.m.path("sock")))
        self.assertEqual(out, "over-the-socket\n")
        self.assertEqual(stat_field(self.m.path("sock"), "%F"), "socket")
        self.assertTrue(stat.S_ISSOCK(os.lstat(self.m.backing("sock")).st_mode))

    def test_device_node_is_made_by_root_and_is_inert(self):
        self.ok(run(["mknod", "-m", "666", self.m.path("null"), "c", "1", "3"]))
        self.assertEqual(stat_field(self.m.path("null"), "%F %t %T"),
                         "character special file 1 3")
        # The mount is nodev: the node opens nothing.
        self.assertEqual(try_op("open(A[0], 'w')", self.m.path("null")), "EACCES")
        self.assertIn("nodev", [o for o in self.mount_options()])

    def mount_options(self):
        with open("/proc/self/mountinfo") as f:
            for line in f:
                fields = line.split()
                if fields[4] == self.m.mnt:
                    return fields[5].split(",")
        return []

    def test_every_type_is_stat_chmod_chown_touched_renamed_and_unlinked(self):
        m = self.m
        self.ok(sh("echo x > %s" % m.path("file")))
        self.ok(run(["mkdir", m.path("dir")]))
        self.ok(run(["ln", "-s", "file", m.path("link")]))
        self.ok(run(["mkfifo", m.path("fifo")]))
        self.ok(py("import socket, sys\nsocket.socket(socket.AF_UNIX).bind(sys.argv[1])",
                   m.path("sock")))
        self.ok(run(["mknod", m.path("chr"), "c", "1", "3"]))
        for name in ("file", "dir", "link", "fifo", "sock", "chr"):
            p = m.path(name)
            self.ok(run(["chown", "-h", "%d:%d" % (VICTIM, VICTIM), p]), name)
            self.assertEqual(stat_field(p, "%u:%g"), "%d:%d" % (VICTIM, VICTIM), name)
            self.assertEqual(os.lstat(m.backing(name)).st_uid, VICTIM, name)
            self.ok(run(["touch", "-h", "-d", "2001-02-03 04:05:06 UTC", p]), name)
            self.assertEqual(stat_field(p, "%Y"), "981173106", name)
            if name != "link":
                self.ok(run(["chmod", "640", p]), name)
                self.assertEqual(stat_field(p, "%a"), "640", name)
            self.ok(run(["mv", p, m.path(name + "2")]), name)
            self.assertTrue(os.path.lexists(m.backing(name + "2")), name)
            self.assertFalse(os.path.lexists(m.backing(name)), name)
            self.ok(run(["rm", "-d", m.path(name + "2")]), name)
            self.assertFalse(os.path.lexists(m.backing(name + "2")), name)
        self.assertEqual(self.ls(m.mnt), [])

    def test_chmod_of_a_symlink_itself_is_eopnotsupp_as_on_tmpfs(self):
        self.ok(run(["ln", "-s", "t", self.m.path("l")]))
        tmp = self.shm_dir()
        os.symlink("t", os.path.join(tmp, "l"))
        op = ("if libc.fchmodat(-100, A[0].encode(), 0o600, 0x100):\n"
              "    raise OSError(ctypes.get_errno(), 'fchmodat')")
        self.assertEqual(try_op(op, self.m.path("l")), try_op(op, os.path.join(tmp, "l")))
        self.assertEqual(try_op(op, self.m.path("l")), "ENOTSUP")  # = EOPNOTSUPP

    def test_rename_of_a_fifo_over_a_segment(self):
        self.ok(sh("echo x > %s" % self.m.path("seg")))
        self.ok(run(["mkfifo", self.m.path("p")]))
        self.ok(run(["mv", "-T", self.m.path("p"), self.m.path("seg")]))
        self.assertEqual(stat_field(self.m.path("seg"), "%F"), "fifo")
        self.assertEqual(self.ls(self.m.mnt), ["seg"])


class TypesAcrossStores(ShmfsTestCase):

    def test_hard_link_across_stores_is_exdev(self):
        disk = self.disk_dir()
        m = self.mount_config("[dir persist]\npath = %s\n" % disk)
        self.ok(sh("echo x > %s" % m.path("a")))
        self.fails_with(run(["ln", m.path("a"), m.path("persist", "a")]),
                        "Invalid cross-device link")
        self.assertEqual(try_op("os.link(A[0], A[1])", m.path("a"), m.path("persist", "a")),
                         "EXDEV")
        self.ok(sh("echo y > %s" % m.path("persist", "b")))
        self.ok(run(["ln", m.path("persist", "b"), m.path("persist", "c")]))
        self.assertEqual(os.stat(os.path.join(disk, "b")).st_nlink, 2)

    def test_hard_link_of_or_onto_a_declared_segment(self):
        m = self.mount_config("[segment cam]\nsize = 4K\n")
        self.ok(run(["touch", m.path("a")]))
        self.ok(run(["ln", m.path("a"), m.path("b")]))
        self.assertEqual(try_op("os.link(A[0], A[1])", m.path("a"), m.path("cam")), "EEXIST")
        # An shm declared segment lives in the root store: it may get
        # another name there, and keeps its own when that one goes.
        self.ok(run(["ln", m.path("cam"), m.path("c")]))
        self.assertEqual(stat_field(m.path("c"), "%i %s"), stat_field(m.path("cam"), "%i %s"))
        self.ok(run(["rm", m.path("c")]))
        self.assertEqual(stat_field(m.path("cam"), "%s %h"), "4096 1")


class LimitsCountSegments(ShmfsTestCase):

    def test_a_hard_link_is_not_another_segment(self):
        m = self.mount(options=["max_segments=2"])
        self.ok(run(["touch", m.path("a")]))
        self.ok(run(["ln", m.path("a"), m.path("b")]))
        self.ok(run(["ln", m.path("a"), m.path("c")]))
        self.ok(run(["touch", m.path("d")]))
        self.fails_with(run(["touch", m.path("e")]), "No space left on device")
        # Removing one of three names frees nothing: the segment is still there.
        self.ok(run(["rm", m.path("b")]))
        self.fails_with(run(["touch", m.path("e")]), "No space left on device")
        self.ok(run(["rm", m.path("a"), m.path("c")]))
        self.ok(run(["touch", m.path("e")]))

    def test_segments_with_two_names_count_once_at_start(self):
        d = self.shm_dir()
        with open(os.path.join(d, "shmfs.a"), "w") as f:
            f.write("x" * 1000)
        os.link(os.path.join(d, "shmfs.a"), os.path.join(d, "shmfs.b"))
        m = self.mount(shm_dir=d, options=["max_segments=2"])
        self.ok(run(["touch", m.path("c")]))
        self.fails_with(run(["touch", m.path("d")]), "No space left on device")

    def test_symlinks_fifos_and_sockets_are_not_segments(self):
        m = self.mount(options=["max_segments=1"])
        self.ok(run(["ln", "-s", "x", m.path("l")]))
        self.ok(run(["mkfifo", m.path("p")]))
        self.ok(run(["touch", m.path("seg")]))
        self.fails_with(run(["touch", m.path("seg2")]), "No space left on device")


class StatusOfTypes(ShmfsTestCase):
    """shmfs status lists segments, and counts the other types."""

    def test_status_counts_them_by_type_without_opening_them(self):
        m = self.mount()
        self.ok(run(["ln", "-s", "x", m.path("l")]))
        self.ok(run(["mkfifo", m.path("p")]))   # opened, it would hang status
        self.ok(run(["mkfifo", m.path("q")]))
        self.ok(run(["touch", m.path("seg")]))
        out = self.ok(run([SHMFS, "status", m.mnt], timeout=20))
        self.assertIn("other objects: 1 symlink, 2 FIFOs", out)
        self.assertIn("total: 1 segment", out)
        doc = json.loads(self.ok(run([SHMFS, "status", "--json", m.mnt], timeout=20)))
        others = doc["mounts"][0]["others"]
        self.assertEqual((others["symlink"], others["FIFO"]), (1, 2))


class ProcessSegmentNames(ShmfsTestCase):
    """A process segment with two names is not removed at its last release;
    once it has one name again, it goes with its next last user."""

    def wait_gone(self, backing):
        deadline = time.monotonic() + RELEASE_TIMEOUT
        while os.path.lexists(backing):
            if time.monotonic() > deadline:
                self.fail("%s still there %.1f s after its last user"
                          % (backing, RELEASE_TIMEOUT))
            time.sleep(0.05)

    def test_process_segment_with_two_names(self):
        m = self.mount_config("[dir scratch]\nlifetime = process\n")
        a, b = m.path("scratch", "a"), m.path("scratch", "b")
        h = self.holder(a, "-c", "4096", "-n")
        self.assertEqual(h.ask("pw 0 kept"), "ok")
        self.ok(run(["ln", a, b]))
        h.stop()
        time.sleep(0.5)
        self.assertEqual(self.ls(m.path("scratch")), ["a", "b"])
        self.assertEqual(self.ok(run(["head", "-c", "4", b])), "kept")
        self.ok(run(["rm", a]))
        self.ok(run(["cat", b]))   # its next last user
        self.wait_gone(m.backing("scratch", "b"))
        self.assertEqual(self.ls(m.path("scratch")), [])


class SharedMountTypes(ShmfsTestCase):
    """As an unprivileged user against a root daemon over a 1777 store."""

    def setUp(self):
        super().setUp()
        self.m = self.shared_mount()

    def test_objects_are_made_as_the_caller(self):
        self.ok(run(["ln", "-s", "t", self.m.path("l")], user=ATTACKER))
        self.ok(run(["mkfifo", self.m.path("p")], user=ATTACKER))
        for name in ("l", "p"):
            st = os.lstat(self.m.backing(name))
            self.assertEqual((st.st_uid, st.st_gid), (ATTACKER, ATTACKER), name)

    def test_planted_symlink_is_resolved_with_the_callers_rights_not_the_daemons(self):
        secret = self.tmpfile(b"root only\n")
        os.chmod(secret, 0o600)
        os.symlink(secret, os.path.join(self.m.shm_dir, "shmfs.leak"))
        self.assertEqual(self.ok(run(["readlink", self.m.path("leak")])), secret + "\n")
        self.fails_with(run(["cat", self.m.path("leak")], user=ATTACKER), "Permission denied")

    def test_hard_links_by_a_user_follow_protected_hardlinks(self):
        self.ok(sh("echo a > %s" % self.m.path("mine"), user=ATTACKER))
        self.ok(run(["ln", self.m.path("mine"), self.m.path("mine2")], user=ATTACKER))
        self.assertEqual(os.stat(self.m.backing("mine")).st_nlink, 2)
        with open("/proc/sys/fs/protected_hardlinks") as f:
            protected = f.read().strip() == "1"
        self.ok(sh("echo v > %s && chmod 600 %s" % (self.m.path("v"), self.m.path("v")),
                   user=VICTIM))
        if protected:
            self.assertEqual(try_op("os.link(A[0], A[1])", self.m.path("v"),
                                    self.m.path("h"), user=ATTACKER), "EPERM")
            self.assertFalse(os.path.lexists(self.m.backing("h")))

    def test_device_nodes_only_where_the_caller_may_make_them(self):
        self.ok(run(["mknod", self.m.path("root-made"), "c", "1", "3"]))
        self.assertEqual(try_op("os.mknod(A[0], 0o600 | stat.S_IFCHR, os.makedev(1, 3))",
                                self.m.path("n"), user=ATTACKER), "EPERM")
        self.assertEqual(self.ls(self.m.mnt), ["root-made"])

    def test_a_planted_fifo_is_stat_ed_never_opened(self):
        os.mkfifo(os.path.join(self.m.shm_dir, "shmfs.fifo"))
        r = run(["stat", "-c", "%F", self.m.path("fifo")], user=ATTACKER, timeout=5)
        self.assertEqual(self.ok(r), "fifo\n")
        self.assertEqual(self.ok(run(["ls", self.m.mnt], user=ATTACKER, timeout=5)), "fifo\n")


class FileQueries(ShmfsTestCase):
    """SEEK_DATA/SEEK_HOLE, lsattr/chattr and O_TMPFILE, against a plain
    tmpfs directory doing the same."""

    SEEKS = (
        "import os, sys\n"
        "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)\n"
        "os.ftruncate(fd, 1 << 20); os.pwrite(fd, b'x', 65536)\n"
        "out = []\n"
        "for off, how in ((0, os.SEEK_DATA), (0, os.SEEK_HOLE), (65536, os.SEEK_HOLE),\n"
        "                 (70000, os.SEEK_DATA), (1 << 21, os.SEEK_HOLE)):\n"
        "    try:\n"
        "        out.append(str(os.lseek(fd, off, how)))\n"
        "    except OSError as e:\n"
        "        out.append(os.strerror(e.errno))\n"
        "print(' '.join(out))\n")

    def test_seek_data_and_seek_hole_find_what_tmpfs_finds(self):
        m = self.mount()
        tmpfs = self.shm_dir()
        want = self.ok(py(self.SEEKS, os.path.join(tmpfs, "sparse")))
        self.assertEqual(want.split()[:3], ["65536", "0", "69632"])
        self.assertEqual(self.ok(py(self.SEEKS, m.path("sparse"))), want)
        # O_TMPFILE: the kernel sends FUSE_TMPFILE, which libfuse 3.14 does
        # not handle (the README says so).
        self.assertEqual(try_op("os.open(A[0], os.O_TMPFILE | os.O_RDWR, 0o600)", m.mnt),
                         "ENOTSUP")

    def test_lsattr_and_chattr_as_on_tmpfs(self):
        m = self.mount()
        tmpfs = self.shm_dir()
        for d in (m.mnt, tmpfs):
            self.ok(run(["touch", os.path.join(d, "f")]))
            self.ok(run(["chattr", "+d", os.path.join(d, "f")]))
            self.ok(run(["mkdir", os.path.join(d, "sub")]))
            self.ok(run(["chattr", "+A", os.path.join(d, "sub")]))
        for name, opt in (("f", []), ("sub", ["-d"])):
            got = self.ok(run(["lsattr"] + opt + [m.path(name)])).split()[0]
            want = self.ok(run(["lsattr"] + opt + [os.path.join(tmpfs, name)])).split()[0]
            self.assertEqual(got, want, name)
        self.assertEqual(self.ok(run(["lsattr", m.backing("f")])).split()[0],
                         self.ok(run(["lsattr", m.path("f")])).split()[0])
        # Immutable and append-only would not hold for opens through the
        # mount (the FUSE inode does not carry them): refused.
        self.fails_with(run(["chattr", "+i", m.path("f")]), "Operation not supported")
        self.ok(run(["chattr", "-d", m.path("f")]))
        self.assertEqual(self.ok(run(["lsattr", m.path("f")])).split()[0], "-" * 22)
        # No other ioctl reaches the backing object.
        code = ("import fcntl, os, sys, termios\n"
                "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
                "try:\n"
                "    fcntl.ioctl(fd, termios.TIOCGWINSZ, b'\\0' * 8); print('OK')\n"
                "except OSError as e:\n"
                "    print(os.strerror(e.errno))\n")
        self.assertEqual(self.ok(py(code, m.path("f"))), "Inappropriate ioctl for device\n")

    def test_chattr_by_a_user_is_the_users(self):
        m = self.shared_mount()
        self.ok(run(["touch", m.path("f")], user=ATTACKER))
        self.ok(run(["chattr", "+d", m.path("f")], user=ATTACKER))
        self.ok(run(["touch", m.path("v")], user=VICTIM))
        self.fails_with(run(["chattr", "+d", m.path("v")], user=ATTACKER),
                        "Operation not permitted")
        self.assertEqual(self.ok(run(["lsattr", m.backing("v")])).split()[0], "-" * 22)
