"""What an unprivileged local user cannot make a root daemon do (docs/SECURITY.md).

Every test attacks the setup shmfs is meant for: a root daemon with allow_other
over a world-writable sticky shm_dir. The attacker is uid ATTACKER, the victim
uid VICTIM; both are plain users of their own (setpriv, no account needed).
Races run for a bounded time, long enough to have won against the code
before these defences.
"""

import os
import tempfile
import time

from harness import (ATTACKER, PYTHON, VICTIM, Mount, ShmfsTestCase, helper, py, remove_tree,
                     run, try_op)


class DeleteAnyFile(ShmfsTestCase):
    """Issue 11, case 1: the removal of a process-lifetime segment."""

    def test_process_segment_removal_never_follows_a_swapped_directory(self):
        m = self.shared_mount()
        target_dir = tempfile.mkdtemp(prefix="shmfs-trust-")
        self.addCleanup(remove_tree, target_dir)
        os.chmod(target_dir, 0o755)
        target = os.path.join(target_dir, "victim")
        with open(target, "w") as f:
            f.write("root's own file\n")
        os.chmod(target, 0o600)
        r = run([helper("trust_race"), "unlink", m.shm_dir, m.mnt, "shmfs.", target, "4"],
                user=ATTACKER, timeout=60)
        self.assertNotIn("deleted", r.stdout)
        out = self.ok(r)
        self.assertTrue(out.startswith("rounds "), out)
        self.assertTrue(os.path.exists(target), "the daemon deleted %s" % target)


class CreateOverAnothersSegment(ShmfsTestCase):
    """Issue 11, case 2: a CREATE that finds the name taken. The kernel sends
    CREATE for open(O_CREAT) when it holds a negative entry for the name, and
    then checks no permission: the daemon must."""

    def setUp(self):
        super().setUp()
        # entries cached long enough for the three steps below
        self.m = self.shared_mount(options=["attr_timeout=30"])
        self.seg = self.m.path("secret")
        self.backing = self.m.backing("secret")

    def victim_makes_it_in_the_store(self, mode):
        self.assertEqual(try_op("os.stat(A[0])", self.seg, user=ATTACKER), "ENOENT")
        self.ok(py("import os, sys\n"
                   "fd = os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_RDWR, %d)\n"
                   "os.write(fd, b'victim data')\n" % mode, self.backing, user=VICTIM))

    def test_open_creat_of_a_0600_segment_made_meanwhile_is_refused(self):
        self.victim_makes_it_in_the_store(0o600)
        got = try_op("fd = os.open(A[0], os.O_CREAT | os.O_RDWR, 0o666); "
                     "print(os.read(fd, 100))", self.seg, user=ATTACKER)
        self.assertEqual(got, "EACCES")
        self.assertEqual(self.read_backing(self.backing), b"victim data")

    def test_open_creat_gets_what_the_mode_allows(self):
        self.victim_makes_it_in_the_store(0o644)
        self.assertEqual(try_op("os.close(os.open(A[0], os.O_CREAT | os.O_RDONLY, 0o666))",
                                self.seg, user=ATTACKER), "OK")
        self.assertEqual(try_op("os.open(A[0], os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o666)",
                                self.seg, user=ATTACKER), "EACCES")
        self.assertEqual(self.read_backing(self.backing), b"victim data")


LEASE_HOLDER = r"""
import fcntl, os, signal, sys
signal.signal(signal.SIGIO, signal.SIG_IGN)   # keep holding when asked to break
fds = []
for path in sys.argv[1:]:
    fd = os.open(path, os.O_CREAT | os.O_RDONLY, 0o644)
    fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    fds.append(fd)
print("ready", flush=True)
sys.stdin.read()
"""


class Freeze(ShmfsTestCase):
    """Issue 11, case 3: a read lease on an object in the store made the
    daemon's open of it wait out the lease-break time (45 s by default)."""

    def setUp(self):
        super().setUp()
        self.m = self.shared_mount()
        leased = [self.m.backing("leased%d" % i) for i in range(3)]
        holder = self.client([PYTHON, "-c", LEASE_HOLDER] + leased, user=ATTACKER)
        self.assertEqual(holder.readline().strip(), "ready")

    def test_ls_l_of_the_mount_never_waits_on_a_lease(self):
        start = time.monotonic()
        out = self.ok(run(["ls", "-l", self.m.mnt], timeout=15))
        self.assertIn("leased0", out)
        self.assertLess(time.monotonic() - start, 10)

    def test_another_users_create_never_waits_on_a_lease(self):
        self.ok(run(["ls", "-l", self.m.mnt], timeout=15))
        start = time.monotonic()
        self.ok(run(["sh", "-c", "echo hi > '%s'" % self.m.path("x")], user=VICTIM, timeout=15))
        self.assertLess(time.monotonic() - start, 10)

    def test_an_open_of_a_leased_segment_fails_at_once_with_eagain(self):
        start = time.monotonic()
        got = try_op("os.open(A[0], os.O_RDWR)", self.m.path("leased1"), user=VICTIM,
                     timeout=15)
        self.assertIn(got, ("EAGAIN", "EACCES"))
        self.assertLess(time.monotonic() - start, 10)


class ExclusiveCreate(ShmfsTestCase):
    """Issue 11, case 10: in a directory every user may write (not sticky),
    the attacker swaps the victim's new name for a decoy of their own while
    the daemon works; the victim must never be handed the decoy."""

    def setUp(self):
        super().setUp()
        # The victim's checks read, by path, what the kernel cached from the
        # daemon's reply. With the store watch the kernel would drop that
        # entry as soon as the attacker renames the name away after the reply,
        # and the checks would see the decoy, as they would on tmpfs itself:
        # a swap after the reply, not a decoy handed back. watch=off keeps the
        # entry for attr_timeout, so what is checked is the reply.
        self.m = self.shared_mount(options=["watch=off"])
        self.ok(run(["mkdir", "-m", "0777", self.m.path("pub")]))
        self.store_dir = self.m.backing("pub")
        os.chmod(self.store_dir, 0o777)

    def race(self, attacker_side, victim_side, rounds):
        attacker = self.client([helper("trust_race"), attacker_side, self.store_dir, "x", "8"],
                               user=ATTACKER)
        r = run([helper("trust_race"), victim_side, self.m.path("pub"), "x", str(rounds)],
                user=VICTIM, timeout=60)
        out = self.ok(r).split()
        swaps = attacker.readline(timeout=30).split()
        self.assertEqual(swaps[0], "swaps")
        self.assertGreater(int(swaps[1]), 0, "the attacker never got to swap")
        return int(out[1])

    def test_o_excl_create_never_returns_the_attackers_file(self):
        self.assertEqual(self.race("swap-file", "create-excl", 6000), 0)

    def test_mkdir_never_hands_the_victim_an_attackers_directory(self):
        self.assertEqual(self.race("swap-dir", "mkdir", 6000), 0)


MAKE_MANY = r"""
import os, sys
for i in range(int(sys.argv[2])):
    os.close(os.open(os.path.join(sys.argv[1], "shmfs.many%d" % i), os.O_CREAT | os.O_WRONLY, 0o644))
"""

STAT_ALL_AND_HOLD = r"""
import os, sys
names = [n for n in os.listdir(sys.argv[1]) if n.startswith("many")]
for n in names:
    os.stat(os.path.join(sys.argv[1], n))
print(len(names), flush=True)
sys.stdin.read()
"""


class ExhaustFds(ShmfsTestCase):
    """Issue 11, case 6: a user who makes more objects in the store than the
    daemon has file descriptors, and has them all looked up through the
    mount, must not leave every other user's create failing with EMFILE."""

    NOFILE = 256
    OBJECTS = 1200

    def setUp(self):
        super().setUp()
        shm_dir = self.shm_dir(mode=0o1777)
        mnt = self.mountpoint()
        os.chmod(mnt, 0o755)
        self.m = Mount(shm_dir=shm_dir, mountpoint=mnt, options=["allow_other"])
        self.addCleanup(self.m.stop)
        self.m.args = ["prlimit", "--nofile=%d:%d" % (self.NOFILE, self.NOFILE), "--"] + \
            self.m.args
        self.m.start()
        self.ok(py(MAKE_MANY, shm_dir, self.OBJECTS, user=ATTACKER, timeout=60))
        holder = self.client([PYTHON, "-c", STAT_ALL_AND_HOLD, self.m.mnt], user=ATTACKER)
        self.assertEqual(holder.readline(timeout=60).strip(), str(self.OBJECTS))

    def test_other_users_still_create_and_use_segments(self):
        for i in range(5):
            path = self.m.path("victim%d" % i)
            self.ok(run(["sh", "-c", "echo data%d > '%s' && cat '%s'" % (i, path, path)],
                        user=VICTIM))
            self.assertEqual(self.read_backing(self.m.backing("victim%d" % i)),
                             b"data%d\n" % i)

    def test_the_daemon_keeps_within_its_fd_limit(self):
        self.assertLess(len(os.listdir("/proc/%d/fd" % self.m.pid)), self.NOFILE)

    def test_every_looked_up_object_still_answers(self):
        out = self.ok(run(["ls", "-l", self.m.mnt], user=VICTIM, timeout=60))
        self.assertEqual(out.count("many"), self.OBJECTS)
        self.assertEqual(try_op("open(A[0], 'w').write('x')", self.m.path("many7"),
                                user=ATTACKER), "OK")
        self.assertEqual(self.read_backing(self.m.backing("many7")), b"x")


class CreateAsCaller(ShmfsTestCase):
    """New objects are made by the daemon acting as the caller: the store
    checks the caller's own access, supplementary groups included."""

    GROUP = 61010

    def test_a_supplementary_group_lets_the_caller_create(self):
        m = self.shared_mount()
        self.ok(run(["mkdir", m.path("team")]))
        os.chown(m.backing("team"), 0, self.GROUP)
        os.chmod(m.backing("team"), 0o2770)
        as_member = ["setpriv", "--reuid=%d" % VICTIM, "--regid=%d" % VICTIM,
                     "--groups=%d" % self.GROUP]
        self.ok(run(as_member + ["sh", "-c", "echo hi > '%s' && mkdir '%s'"
                                 % (m.path("team", "f"), m.path("team", "d"))]))
        for name in ("f", "d"):
            st = os.stat(m.backing("team", name))
            self.assertEqual((st.st_uid, st.st_gid), (VICTIM, self.GROUP), name)
        self.assertEqual(try_op("open(A[0], 'w')", m.path("team", "g"), user=VICTIM), "EACCES")
