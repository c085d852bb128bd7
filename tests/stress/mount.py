"""Mounts for the reliability tests (standard library only).

Every Mount lives on a fresh temporary mountpoint with its own shm_dir
(mktemp -d -p /dev/shm) and, when asked, a temporary directory on disk grafted
as MOUNT/disk ([dir disk]). The daemon runs in the foreground as our child.
stop() unmounts cleanly; if the mount hangs it aborts the FUSE connection
through fusectl, kills our daemon by pid and detaches the mount. cleanup()
removes every temporary directory, and runs at exit for any Mount left over.
"""

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# The integration suite's mount-table reader serves here too.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import mounts_at, uring_param  # noqa: E402,F401

# Every mount over FUSE io_uring (io_uring=on): run.py --uring, STRESS_URING=1.
URING = os.environ.get("STRESS_URING") == "1"

MOUNT_TIMEOUT = 10.0
FUSECTL = "/sys/fs/fuse/connections"

_live = []


def mountinfo(path):
    """(major:minor, fstype) of the mount on path (absolute, free of
    symlinks: every mountpoint here is a mkdtemp one), or None. Not
    resolved with realpath, which would stat a mount whose daemon may hang."""
    found = mounts_at(path)
    return found[-1] if found else None  # the last one is on top


def is_mounted(path):
    info = mountinfo(path)
    return info is not None and info[1].startswith("fuse")


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


class MountError(Exception):
    pass


class Mount:
    def __init__(self, shmfs, passthrough="on", disk=False, sections="", options=(),
                 prefix=None, env=None, world=False, tag="stress"):
        self.shmfs = os.path.abspath(shmfs)
        self.passthrough = passthrough
        self.options = list(options)
        self.env = env
        self.prefix = "shmfs." if prefix is None else prefix
        # Resolved now, while nothing is mounted there (see mountinfo).
        self.mountpoint = os.path.realpath(tempfile.mkdtemp(prefix="shmfs-%s-mnt-" % tag))
        self.shm_dir = tempfile.mkdtemp(prefix="shmfs-%s-" % tag, dir="/dev/shm")
        self.tmp = tempfile.mkdtemp(prefix="shmfs-%s-cfg-" % tag)
        self.disk_dir = None
        if disk:
            self.disk_dir = tempfile.mkdtemp(prefix="shmfs-%s-disk-" % tag, dir="/var/tmp")
            sections += "\n[dir disk]\npath = %s\nlifetime = disk\n" % self.disk_dir
        if world:  # unprivileged clients create files in the root store
            os.chmod(self.shm_dir, 0o1777)
            os.chmod(self.mountpoint, 0o755)
            if self.disk_dir:
                os.chmod(self.disk_dir, 0o1777)
        self.config = "none"
        if sections:
            self.config = os.path.join(self.tmp, "shmfs.ini")
            with open(self.config, "w") as f:
                f.write("[shmfs]\n" + sections)
        self.log = os.path.join(self.tmp, "daemon.log")
        self.proc = None
        self.conn = None
        self.starts = 0
        _live.append(self)

    # -- paths
    def path(self, *names):
        return os.path.join(self.mountpoint, *names)

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
        return [self.shmfs, "-f", "-o", opts, self.config, self.mountpoint]

    def start(self):
        logf = open(self.log, "a")
        logf.write("=== start %d: %s\n" % (self.starts, " ".join(self.command())))
        logf.flush()
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=logf,
                                     stderr=logf, env=self.env, cwd="/")
        logf.close()
        self.starts += 1
        deadline = time.monotonic() + MOUNT_TIMEOUT
        while time.monotonic() < deadline:
            info = mountinfo(self.mountpoint)
            if info and info[1].startswith("fuse"):
                self.conn = info[0].split(":")[1]
                return self
            if self.proc.poll() is not None:
                raise MountError("shmfs exited with status %s before mounting:\n%s"
                                 % (self.proc.returncode, self.log_tail()))
            time.sleep(0.02)
        self._abort()
        raise MountError("shmfs did not mount within %ss:\n%s" % (MOUNT_TIMEOUT, self.log_tail()))

    def log_tail(self, n=30):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=20.0):
        """Unmount cleanly and return the daemon's exit status (None if it
        had to be killed)."""
        if self.proc is None:
            return None
        status = None
        if is_mounted(self.mountpoint):
            try:
                subprocess.run(["fusermount3", "-u", self.mountpoint], timeout=timeout,
                               capture_output=True)
            except subprocess.TimeoutExpired:
                pass
        try:
            status = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._abort()
        self._detach()
        self.proc = None
        return status

    def kill9(self, detach=True):
        """SIGKILL the daemon (a crash). The dead mount stays (every access
        fails with ENOTCONN) until detach(), as after a real crash."""
        if self.proc is None:
            return
        os.kill(self.proc.pid, signal.SIGKILL)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._abort()
        if detach:
            self._detach()
        self.proc = None

    def detach(self):
        self._detach()

    def _abort(self):
        """A hung mount: abort the connection, kill our daemon, detach."""
        if self.conn:
            if not os.path.isdir(os.path.join(FUSECTL, self.conn)):
                subprocess.run(["mount", "-t", "fusectl", "none", FUSECTL],
                               capture_output=True, timeout=10)
            try:
                with open(os.path.join(FUSECTL, self.conn, "abort"), "w") as f:
                    f.write("1")
            except OSError:
                pass
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self._detach()

    def _detach(self):
        for _ in range(3):
            if not is_mounted(self.mountpoint):
                return
            subprocess.run(["fusermount3", "-u", "-z", self.mountpoint], capture_output=True,
                           timeout=10)
            if is_mounted(self.mountpoint):
                subprocess.run(["umount", "-l", self.mountpoint], capture_output=True, timeout=10)

    def cleanup(self):
        try:
            if self.proc is not None:
                self.stop()
        finally:
            self._detach()
            for d in (self.mountpoint,):
                try:
                    os.rmdir(d)
                except OSError:
                    pass
            for d in (self.shm_dir, self.disk_dir, self.tmp):
                if d:
                    shutil.rmtree(d, ignore_errors=True)
            if self in _live:
                _live.remove(self)

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


@atexit.register
def _cleanup_all():
    for m in list(_live):
        try:
            m.cleanup()
        except Exception:  # noqa: BLE001 - last-resort cleanup
            pass


def _on_signal(signum, frame):
    _cleanup_all()
    os._exit(128 + signum)


for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _on_signal)
