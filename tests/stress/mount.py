"""Mounts for the reliability tests (standard library only).

A Mount is tests/shmfs_mount.py's (a fresh temporary mountpoint with its own
shm_dir, the daemon in the foreground as our child, the fusectl abort of a
hung mount, kill by pid, cleanup even on failure) with what the stress suite
adds: a temporary directory on disk grafted as MOUNT/disk ([dir disk]) when
asked, stores open to every user (world), a config of its own, one log for
every start (the crash tests restart the daemon on the same directories), and
the daemon's memory, fds and threads. stop() unmounts cleanly and returns the
exit status; cleanup() removes every temporary directory, and runs at exit for
any Mount left over.
"""

import atexit
import os
import shutil
import signal
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import shmfs_mount  # noqa: E402
from shmfs_mount import MountError, is_fuse_mounted as is_mounted  # noqa: E402,F401
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import uring_param  # noqa: E402,F401

# Every mount over FUSE io_uring (io_uring=on): run.py --uring, STRESS_URING=1.
URING = os.environ.get("STRESS_URING") == "1"


def backing_entries(root):
    """Every path below root (files and directories), relative to it."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            out.append(os.path.relpath(os.path.join(dirpath, n), root))
    return sorted(out)


def daemon_status(pid, field):
    """An integer field of /proc/PID/status (VmRSS in KiB, Threads), or 0."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def daemon_rss_kib(pid):
    return daemon_status(pid, "VmRSS")


def daemon_fds(pid):
    """Open fds of the daemon: inodes, open files, /dev/fuse."""
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return 0


class Mount(shmfs_mount.Mount):
    def __init__(self, shmfs, passthrough="on", disk=False, sections="", options=(),
                 prefix=None, env=None, world=False, tag="stress"):
        super().__init__(tag)
        self.shmfs = os.path.abspath(shmfs)
        self.wrapper = []   # runs the daemon under another program (strace)
        self.passthrough = passthrough
        self.options = list(options)
        self.env = env
        self.prefix = "shmfs." if prefix is None else prefix
        self.tmp = tempfile.mkdtemp(prefix="shmfs-%s-cfg-" % tag)
        self.disk_dir = None
        if disk:
            self.disk_dir = tempfile.mkdtemp(prefix="shmfs-%s-disk-" % tag, dir="/var/tmp")
            sections += "\n[dir disk]\npath = %s\nlifetime = disk\n" % self.disk_dir
        if world:  # unprivileged clients create files in the root store
            os.chmod(self.shm_dir, 0o1777)
            os.chmod(self.mnt, 0o755)
            if self.disk_dir:
                os.chmod(self.disk_dir, 0o1777)
        self.config = "none"
        if sections:
            self.config = os.path.join(self.tmp, "shmfs.ini")
            with open(self.config, "w") as f:
                f.write("[shmfs]\n" + sections)
        self.log = os.path.join(self.tmp, "daemon.log")
        self.starts = 0

    # -- paths
    @property
    def disk(self):
        return self.path("disk")

    def backing(self, name):
        return os.path.join(self.shm_dir, self.prefix + name)

    # -- life cycle
    def command(self):
        # noauto_unmount: a kill -9 leaves the dead mount a crash test expects
        # (with auto_unmount, fusermount3 would take it away under the workers).
        opts = "shm_dir=%s,passthrough=%s,noauto_unmount" % (self.shm_dir, self.passthrough)
        if self.prefix != "shmfs.":
            opts += ",prefix=" + self.prefix
        for o in self.options:
            opts += "," + o
        if URING and not any(o.startswith("io_uring=") for o in self.options):
            opts += ",io_uring=on"
        return self.wrapper + [self.shmfs, "-f", "-o", opts, self.config, self.mnt]

    def start(self):
        with open(self.log, "a") as logf:
            logf.write("=== start %d: %s\n" % (self.starts, " ".join(self.command())))
            logf.flush()
            self.starts += 1
            return self.spawn(self.command(), logf, env=self.env)

    def output(self):
        return self.log_tail()

    def log_tail(self, n=30):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self, timeout=20.0):
        """Unmount cleanly and return the daemon's exit status (None if it
        had to be killed)."""
        if self.proc is None:
            return None
        self.end(timeout)
        self.proc = self.pid = None
        return None if self.killed else self.exit_status

    def kill9(self, detach=True):
        """SIGKILL the daemon (a crash). The dead mount stays (every access
        fails with ENOTCONN) until detach(), as after a real crash."""
        if self.proc is None:
            return
        self.kill()
        if detach:
            self.detach()
        self.proc = self.pid = None

    def remove(self):
        super().remove()
        for d in (self.disk_dir, self.tmp):
            if d:
                shutil.rmtree(d, ignore_errors=True)

    def cleanup(self):
        self.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
        return False

    # -- observations
    def rss_kib(self):
        return daemon_rss_kib(self.pid) if self.pid else 0

    def fds(self):
        return daemon_fds(self.pid) if self.pid else 0

    def threads(self):
        return daemon_status(self.pid, "Threads") if self.pid else 0

    def leftovers(self):
        """Backing objects still present (the stores should be empty)."""
        out = ["shm:" + e for e in backing_entries(self.shm_dir)]
        if self.disk_dir:
            out += ["disk:" + e for e in backing_entries(self.disk_dir)]
        # The [dir disk] graft keeps a placeholder directory in shm_dir.
        return [e for e in out if e != "shm:" + self.prefix + "disk"]


atexit.register(shmfs_mount.close_all)


def _on_signal(signum, frame):
    shmfs_mount.close_all()
    os._exit(128 + signum)


for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _on_signal)
