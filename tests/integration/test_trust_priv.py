"""Trust (issue 11): setuid/setgid bits and limits against other local users.

Every test runs against a root daemon with allow_other over a 1777 shm_dir
(shared_mount), the clients as unprivileged users (ATTACKER, VICTIM).

Case 11: setuid and setgid bits are cleared on write, truncate and chown as
on tmpfs. Each test runs the same steps in a plain tmpfs directory under
/dev/shm and on the mount, and the modes must match after every step, both
as the mount shows them and on the backing object.

Case 7: fallocate --keep-size cannot allocate past max_total_size.
"""

import os

from harness import ATTACKER, VICTIM, ShmfsTestCase, py, run

# One step by one user: do op on path, then print the mode the same process
# sees (stat through the path it used).
_STEP = r"""
import os, sys
op, path, args = sys.argv[1], sys.argv[2], sys.argv[3:]
if op == "create":
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
elif op == "chmod":
    os.chmod(path, int(args[0], 8))
elif op == "write":
    fd = os.open(path, os.O_WRONLY)
    os.pwrite(fd, b"planted", 0)
    os.close(fd)
elif op == "truncate":
    os.truncate(path, 3)
elif op == "open_trunc":
    os.close(os.open(path, os.O_WRONLY | os.O_TRUNC))
elif op == "fallocate":
    fd = os.open(path, os.O_WRONLY)
    os.posix_fallocate(fd, 0, 8192)
    os.close(fd)
elif op == "chown":
    os.chown(path, int(args[0]), int(args[1]))
print("%04o" % (os.stat(path).st_mode & 0o7777))
"""

ROOT = None

# What another user (with write permission) does to a victim's file, and
# what its owner and root do; before each, the owner puts the bits back.
_STEPS = [
    (ATTACKER, "write"),
    (ATTACKER, "truncate"),
    (ATTACKER, "open_trunc"),
    (ATTACKER, "fallocate"),
    (VICTIM, "write"),
    (VICTIM, "truncate"),
    (ROOT, "write"),
    (ROOT, "truncate"),
    (VICTIM, "chown", "-1", "-1"),
    (ROOT, "chown", "-1", "-1"),
    (VICTIM, "chown", str(VICTIM), str(VICTIM)),
    (ROOT, "chown", str(ATTACKER), str(ATTACKER)),
]


class SetuidBits(ShmfsTestCase):

    def step(self, user, op, path, *args):
        r = py(_STEP, op, path, *args, user=user)
        self.ok(r, "%s %s as %s" % (op, path, user))
        return r.stdout.strip()

    def sequence(self, path, bits, backing=None):
        """The modes after each of _STEPS on a fresh file at path made by
        VICTIM with the given bits; with backing, each as (seen, backing)."""
        self.step(VICTIM, "create", path)
        seen = []
        for user, op, *args in _STEPS:
            if op == "chown" and user == ROOT:
                # give the file back to the victim first (as on tmpfs, a
                # chown clears the bits; the owner sets them again)
                self.step(ROOT, "chown", path, str(VICTIM), str(VICTIM))
            self.step(VICTIM, "chmod", path, "%o" % bits)
            mode = self.step(user, op, path, *args)
            if backing is not None:
                mode = (mode, "%04o" % (os.stat(backing).st_mode & 0o7777))
            seen.append(("%s by %s" % (op, user), mode))
        return seen

    def check_as_tmpfs(self, bits):
        m = self.shared_mount()
        ref = self.shm_dir(mode=0o1777)
        want = self.sequence(os.path.join(ref, "x"), bits)
        got = self.sequence(m.path("x"), bits, backing=m.backing("x"))
        self.assertEqual(got, [(what, (mode, mode)) for what, mode in want])

    def test_setuid_as_on_tmpfs(self):
        self.check_as_tmpfs(0o4777)

    def test_setgid_group_executable_as_on_tmpfs(self):
        self.check_as_tmpfs(0o2777)

    def test_setuid_and_setgid_as_on_tmpfs(self):
        self.check_as_tmpfs(0o6777)

    def test_setgid_not_group_executable_as_on_tmpfs(self):
        self.check_as_tmpfs(0o6767)


class KeepSizeLimit(ShmfsTestCase):
    """With limits set, fallocate --keep-size may not allocate past the end
    of a segment: limits count sizes, and such memory has none."""

    def fallocate(self, *args):
        return run(["fallocate", "-n"] + list(args), user=ATTACKER)

    def test_past_the_total_is_enospc_and_allocates_nothing(self):
        m = self.shared_mount(options=["max_total_size=8M"])
        self.ok(run(["touch", m.path("x")], user=ATTACKER))
        self.fails_with(self.fallocate("-l", "64M", m.path("x")), "No space left on device")
        self.assertEqual(os.stat(m.backing("x")).st_blocks, 0)
        self.assertEqual(os.stat(m.backing("x")).st_size, 0)

    def test_past_the_end_within_the_total_is_refused_within_the_size_works(self):
        m = self.shared_mount(options=["max_total_size=8M"])
        for name in ("a", "b"):
            self.ok(run(["touch", m.path(name)], user=ATTACKER))
            # EOPNOTSUPP, in fallocate(1)'s words
            self.fails_with(self.fallocate("-l", "6M", m.path(name)),
                            "keep size mode is unsupported")
            self.assertEqual(os.stat(m.backing(name)).st_blocks, 0)
        self.ok(run(["truncate", "-s", "6M", m.path("a")], user=ATTACKER))
        self.ok(self.fallocate("-l", "6M", m.path("a")))
        self.assertGreaterEqual(os.stat(m.backing("a")).st_blocks * 512, 6 << 20)
        self.fails_with(run(["truncate", "-s", "3M", m.path("c")], user=VICTIM),
                        "No space left on device")
