"""shmfs as a program's /dev/shm: a mount with an empty prefix, bind-mounted
on /dev/shm in a private mount namespace (unshare -m). POSIX named
semaphores (glibc's sem_open links a temporary name to the real one) and
Python's multiprocessing locks and queues work there, and the README's
recipe runs as written."""

import os
import re
import tempfile

from harness import (SHMFS, ShmfsTestCase, helper, is_fuse_mounted, passthrough_option,
                     random_token, remove_tree, run, sh)
from test_readme import readme_blocks

# Run "$@" in a new mount namespace whose /dev/shm is the mount $1.
IN_BOX = 'mnt=$1; shift; mount --bind "$mnt" /dev/shm && exec "$@"'

MP_SCRIPT = r"""
import multiprocessing as mp, sys

def count(lock, total, queue, n):
    for _ in range(n):
        with lock:
            total.value += 1
    queue.put(mp.current_process().name)

if __name__ == "__main__":
    for method in ("fork", "spawn"):
        ctx = mp.get_context(method)
        lock, queue = ctx.Lock(), ctx.Queue()
        total = ctx.Value("i", 0, lock=False)
        procs = [ctx.Process(target=count, args=(lock, total, queue, 500)) for _ in range(3)]
        for p in procs:
            p.start()
        done = sorted(queue.get(timeout=30) for _ in procs)
        for p in procs:
            p.join(30)
        assert total.value == 1500, total.value
        assert all(p.exitcode == 0 for p in procs)
        print(method, total.value, len(done))
"""


class DevShm(ShmfsTestCase):

    def box(self, m, args, timeout=60):
        """Run args in a private mount namespace with m as /dev/shm."""
        return run(["unshare", "-m", "--propagation", "private", "sh", "-c", IN_BOX, "sh",
                    m.mnt] + list(args), timeout=timeout)

    def test_sem_open_between_two_processes(self):
        m = self.mount(prefix="")
        name = "shmfs-t" + random_token()
        out = self.ok(self.box(m, [helper("sem_pingpong"), name, "2000"]))
        self.assertEqual(out, "ok 2000\n")
        # sem_unlink went through the mount; glibc's temporary names too.
        self.assertEqual(os.listdir(m.shm_dir), [])

    def test_semaphore_is_the_file_sem_name_in_the_store(self):
        m = self.mount(prefix="")
        code = ("import ctypes, sys\n"
                "rt = ctypes.CDLL('libc.so.6', use_errno=True)\n"
                "rt.sem_open.restype = ctypes.c_void_p\n"
                "s = rt.sem_open(b'/held', 0o100 | 0o200, 0o600, 3)\n"
                "sys.exit(0 if s else 1)\n")          # SEM_FAILED is NULL
        self.ok(self.box(m, ["python3", "-c", code]))
        self.assertEqual(os.listdir(m.shm_dir), ["sem.held"])
        self.assertEqual(os.listdir(m.mnt), ["sem.held"])
        self.assertEqual(os.stat(m.path("sem.held")).st_nlink, 1)

    def test_python_multiprocessing_lock_and_queue(self):
        m = self.mount(prefix="")
        script = self.tmpfile(MP_SCRIPT.encode())
        out = self.ok(self.box(m, ["python3", script], timeout=120))
        self.assertEqual(out.splitlines(), ["fork 1500 3", "spawn 1500 3"])
        self.assertEqual(os.listdir(m.shm_dir), [])


class DevShmReadme(ShmfsTestCase):

    def test_readme_dev_shm_recipe_runs_as_written(self):
        blocks = readme_blocks("devshm")
        self.assertEqual(len(blocks), 1, "README.md has %d devshm examples" % len(blocks))
        mnt = self.mountpoint()
        store = tempfile.mktemp(prefix="shmfs-box-", dir="/dev/shm")
        self.addCleanup(remove_tree, store)
        script = blocks[0].replace("/mnt/shm", mnt).replace("/dev/shm/box", store)
        # The daemon of this build, in the suite's data-path mode.
        script = re.sub(r"^shmfs -o ", "%s -o passthrough=%s," % (SHMFS, passthrough_option()),
                        script, count=1, flags=re.M)
        self.addCleanup(lambda: is_fuse_mounted(mnt) and run(["fusermount3", "-u", mnt]))
        out = self.ok(sh("set -e\n" + script, timeout=60)).splitlines()
        self.assertEqual(out[0], "ok")
        self.assertRegex(out[-1], r"^shmfs\s+256M\s")
        self.assertEqual(os.stat(store).st_mode & 0o7777, 0o1777)
        self.assertEqual(os.listdir(store), [])
        self.assertFalse(is_fuse_mounted(mnt), "the recipe's last line unmounts")
