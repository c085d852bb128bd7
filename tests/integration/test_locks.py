"""flock and fcntl locks between two processes on the same path."""

from harness import ShmfsTestCase, run, try_op

# Takes the lock, says "locked", holds it until stdin closes.
HOLD = r"""
import fcntl, os, sys
kind, path = sys.argv[1], sys.argv[2]
fd = os.open(path, os.O_RDWR)
if kind == "flock":
    fcntl.flock(fd, fcntl.LOCK_EX)
else:
    fcntl.lockf(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()
"""

FLOCK_NB = "fd = os.open(A[0], os.O_RDWR); fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)"
LOCKF_NB = "fd = os.open(A[0], os.O_RDWR); fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)"
FLOCK_SH_NB = "fd = os.open(A[0], os.O_RDWR); fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)"


class Locks(ShmfsTestCase):

    def setUp(self):
        super().setUp()
        self.m = self.mount()
        self.path = self.m.path("lockme")
        self.ok(run(["truncate", "-s", "4096", self.path]))

    def hold(self, kind):
        c = self.client(["/usr/bin/python3", "-c", HOLD, kind, self.path])
        self.assertEqual(c.readline(), "locked")
        return c

    def test_flock_held_by_one_process_blocks_another(self):
        holder = self.hold("flock")
        self.assertIn(try_op(FLOCK_NB, self.path), ("EWOULDBLOCK", "EAGAIN"))
        self.assertIn(try_op(FLOCK_SH_NB, self.path), ("EWOULDBLOCK", "EAGAIN"))
        holder.stop()
        self.assertEqual(try_op(FLOCK_NB, self.path), "OK")

    def test_fcntl_lock_held_by_one_process_blocks_another(self):
        holder = self.hold("lockf")
        self.assertIn(try_op(LOCKF_NB, self.path), ("EWOULDBLOCK", "EAGAIN", "EACCES"))
        holder.stop()
        self.assertEqual(try_op(LOCKF_NB, self.path), "OK")

    def test_flock_util_reports_the_lock_busy(self):
        holder = self.hold("flock")
        r = run(["flock", "-n", "-E", "42", self.path, "true"])
        self.assertEqual(r.returncode, 42, r.stderr)
        holder.stop()
        self.ok(run(["flock", "-n", self.path, "true"]))
