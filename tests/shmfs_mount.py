"""One shmfs mount, for the integration tests, the stress suite and the
benchmark (standard library only).

A Mount owns a fresh temporary mount point and its own shm_dir under /dev/shm
(or the ones it is given, which it then leaves in place), runs the daemon in
the foreground as its child, waits until the mount is live, and undoes all of
it in any state: unmount, wait for the daemon, SIGKILL it by pid when it does
not exit, abort the FUSE connection of a hung mount through fusectl, detach
what is still mounted, remove the directories it made. Every Mount not yet
closed is closed by close_all() (callers run it at exit).

Used by tests/integration/harness.py, tests/stress/mount.py and scripts/bench,
each of which adds what only it needs (the daemon's arguments, its log).
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

MOUNT_TIMEOUT = 10.0   # seconds until a mount must be live
FUSECTL = "/sys/fs/fuse/connections"

_live = []   # every Mount not yet closed, oldest first


# ---------------------------------------------------------------------------
# The mount table and the FUSE connections

def mounts_at(path):
    """The mounts on path, from /proc/self/mountinfo: a list of
    (device "major:minor", fs type), the top one last. path must be absolute
    and free of symlinks: resolving it here would stat the mount, which hangs
    when the daemon does."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            point = fields[4].encode().decode("unicode_escape")
            if point == path:
                found.append((fields[2], fields[sep + 1]))
    return found


def is_fuse(fstype):
    return fstype == "fuse" or fstype.startswith("fuse.")


def is_fuse_mounted(path):
    return any(is_fuse(t) for _, t in mounts_at(path))


def fuse_connection(dev):
    """The fusectl directory name of the mount with device "major:minor":
    the kernel's dev_t of the superblock."""
    major, minor = (int(x) for x in dev.split(":"))
    return str((major << 20) | minor)


def abort_connection(conn):
    """Abort FUSE connection conn: every request waiting on it fails with
    ENOTCONN, and so does every later one."""
    if not os.path.isdir(FUSECTL):
        return
    if not os.listdir(FUSECTL):
        run_quiet(["mount", "-t", "fusectl", "none", FUSECTL])
    try:
        with open(os.path.join(FUSECTL, conn, "abort"), "w") as f:
            f.write("1")
    except OSError:
        pass


def abort_fuse_connections(path):
    """Abort the FUSE connection of every mount on path (a hung daemon)."""
    for dev, fstype in mounts_at(path):
        if is_fuse(fstype):
            abort_connection(fuse_connection(dev))


def pid_alive(pid):
    """Whether pid runs (a zombie counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return False


def run_quiet(args, timeout=10):
    """Run a cleanup command; a failure or a timeout is not an error here."""
    try:
        subprocess.run(args, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        pass


# ---------------------------------------------------------------------------
# Directories

def make_shm_dir(tag="test", owner=None, mode=None):
    """A fresh directory under /dev/shm for one mount's segments."""
    d = tempfile.mkdtemp(prefix="shmfs-%s-" % tag, dir="/dev/shm")
    if owner is not None:
        os.chown(d, owner, owner)
    if mode is not None:
        os.chmod(d, mode)
    return d


def make_mountpoint(tag="test", owner=None):
    """A fresh directory to mount on, resolved now, while nothing is mounted
    there (see mounts_at)."""
    d = os.path.realpath(tempfile.mkdtemp(prefix="shmfs-%s-mnt-" % tag))
    if owner is not None:
        os.chown(d, owner, owner)
    return d


def remove_tree(path):
    if path and os.path.lexists(path):
        shutil.rmtree(path, ignore_errors=True)


def remove_mountpoint(path):
    """rmdir path; a detached mount may keep it busy for a moment."""
    for _ in range(50):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)


# ---------------------------------------------------------------------------
# A mount

class MountError(AssertionError):
    """The daemon did not give a live mount."""


class Mount:
    """One FUSE daemon, our child, on a mount point of its own.

    tag names the directories made here (shmfs-TAG-mnt-*, /dev/shm/shmfs-TAG-*);
    shm_dir and mountpoint, when given, are used and left in place.
    Subclasses say what the daemon's output is (output()).

    After spawn(): proc and pid (the daemon), conn (its fusectl connection).
    After end(): exit_status (the daemon's, negative for a signal) and killed
    (whether it had to be SIGKILLed).
    """

    def __init__(self, tag="test", shm_dir=None, mountpoint=None):
        self.own_shm_dir = shm_dir is None
        self.shm_dir = shm_dir if shm_dir is not None else make_shm_dir(tag)
        self.own_mnt = mountpoint is None
        self.mnt = mountpoint if mountpoint is not None else make_mountpoint(tag)
        self.proc = None
        self.pid = None
        self.conn = None
        self.exit_status = None
        self.killed = False
        self.closed = False
        _live.append(self)

    def path(self, *names):
        """MOUNT/names..."""
        return os.path.join(self.mnt, *names)

    def output(self):
        """What the daemon printed (for error messages)."""
        return ""

    # -- start ----------------------------------------------------------------
    def spawn(self, args, out, env=None, cwd="/", new_session=False, timeout=MOUNT_TIMEOUT):
        """Run args (a daemon that stays in the foreground) as our child, its
        stdout and stderr to the file out, and wait until it has mounted.
        A daemon that exits first, or does not mount in time, raises
        MountError; one that hangs is ended (end()) first."""
        self.exit_status = None
        self.killed = False
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                     env=env, cwd=cwd, start_new_session=new_session)
        self.pid = self.proc.pid
        try:
            self.wait_live(timeout, args)
        except MountError:
            if self.running():
                self.end(timeout=1.0)
            raise
        return self

    def wait_live(self, timeout=MOUNT_TIMEOUT, args=()):
        """Wait until a FUSE mount is on mnt; note its connection."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for dev, fstype in reversed(mounts_at(self.mnt)):
                if is_fuse(fstype):
                    self.conn = fuse_connection(dev)
                    return
            if self.proc is not None and self.proc.poll() is not None:
                self.exit_status = self.proc.returncode
                raise MountError("shmfs exited with status %d before the mount was live: %s\n%s"
                                 % (self.proc.returncode, " ".join(args), self.output()))
            time.sleep(0.02)
        raise MountError("%s not mounted within %ss: %s\n%s"
                         % (self.mnt, timeout, " ".join(args), self.output()))

    # -- the daemon -------------------------------------------------------------
    def running(self):
        """Whether our daemon still runs."""
        if self.proc is not None:
            return self.proc.poll() is None
        return self.pid is not None and pid_alive(self.pid)

    def wait_exit(self, timeout):
        """Wait for the daemon; return True when it is gone."""
        if self.proc is not None:
            try:
                self.exit_status = self.proc.wait(timeout=timeout)
                return True
            except subprocess.TimeoutExpired:
                return False
        deadline = time.monotonic() + timeout
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.05)
        return not self.running()

    def kill(self):
        """SIGKILL our own daemon, by pid, and wait for it. The mount stays
        (dead: every access fails with ENOTCONN) until detach()."""
        if self.pid is not None and self.running():
            try:
                os.kill(self.pid, signal.SIGKILL)
                self.killed = True
            except ProcessLookupError:
                pass
        if not self.wait_exit(10):
            self.abort()
            self.wait_exit(10)

    # -- the mount ----------------------------------------------------------------
    def mounted(self):
        return is_fuse_mounted(self.mnt)

    def unmount(self, timeout=10.0):
        """fusermount3 -u (then umount -l when that failed); return
        fusermount3's CompletedProcess, or None when nothing was mounted."""
        if not self.mounted():
            return None
        deadline = time.monotonic() + 3.0
        while True:
            try:
                r = subprocess.run(["fusermount3", "-u", self.mnt], capture_output=True,
                                   text=True, timeout=timeout, stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                r = subprocess.CompletedProcess([], 124, "", "fusermount3 -u timed out")
            # Busy: a process is still finishing a request on the mount (a
            # status probe the test left waiting on a stopped daemon, say);
            # give it a moment, as an operator would, before calling it a
            # problem.
            if "busy" not in r.stderr or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        if r.returncode != 0:
            if not self.mounted():
                # Gone meanwhile: the fusermount3 of auto_unmount takes the
                # mount away once a killed daemon is gone.
                return None
            run_quiet(["umount", "-l", self.mnt])
        return r

    def abort(self):
        """Abort the FUSE connection of what is mounted on mnt, and of our
        daemon while it runs (its connection number cannot be anyone else's
        then)."""
        abort_fuse_connections(self.mnt)
        if self.conn and self.running():
            abort_connection(self.conn)

    def detach(self):
        """Take away what is still mounted on mnt (lazily: a dead or hung
        mount, or one still in use)."""
        for _ in range(3):
            if not self.mounted():
                return
            run_quiet(["fusermount3", "-u", "-z", self.mnt])
            if self.mounted():
                run_quiet(["umount", "-l", self.mnt])

    def end(self, timeout=10.0):
        """Unmount and let the daemon exit; a daemon that does not exit within
        timeout is SIGKILLed and its connection aborted; what is still mounted
        then is detached. Return what went wrong, as sentences: none when the
        unmount worked and the daemon exited by itself."""
        problems = []
        r = self.unmount(timeout)
        if r is not None and r.returncode != 0:
            problems.append("fusermount3 -u failed: %s" % r.stderr.strip())
        if self.pid is not None and not self.wait_exit(timeout):
            problems.append("the daemon did not exit within %.0f s of the unmount" % timeout)
            self.abort()
            self.kill()
        if self.mounted():
            problems.append("still mounted after the daemon exited")
            self.abort()
            self.detach()
        return problems

    def remove(self):
        """Remove the directories made here (after end())."""
        if self.own_mnt:
            remove_mountpoint(self.mnt)
        if self.own_shm_dir:
            remove_tree(self.shm_dir)
        if self in _live:
            _live.remove(self)

    def close(self):
        """end() and remove(), once, in any state; return end()'s problems."""
        if self.closed:
            return []
        self.closed = True
        try:
            return self.end()
        finally:
            self.remove()


def close_all():
    """Close every Mount not yet closed (at exit, or on a signal)."""
    for m in list(reversed(_live)):
        try:
            m.close()
        except Exception:  # noqa: BLE001 - last-resort cleanup
            pass
