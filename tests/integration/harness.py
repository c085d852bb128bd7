"""The one shared helper of the shmfs integration tests (standard library only).

A test mounts a real shmfs on a fresh temporary directory with its own shm_dir
(Mount, over tests/shmfs_mount.py, which the stress suite and the benchmark
mount with too), drives it from separate processes (shell tools, python3 -c
with mmap, the C helpers) and always unmounts and removes what it made, even
when it fails.

The test process itself never touches the mount: every access goes through a
child process with a timeout, so a hung daemon fails a test instead of hanging
the suite. The backing directory (shm_dir) is plain tmpfs and is read directly.

Environment: SHMFS (the daemon), SHMFS_HELPERS (the compiled C helpers),
SHMFS_TEST_MODE (cached | passthrough, set by run.py) and SHMFS_TEST_URING
(set by run.py --uring: every mount gets io_uring=on).
"""

import contextlib

import errno
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import shmfs_mount  # noqa: E402
# The tests take these from here, with the rest of their helpers.
from shmfs_mount import (MOUNT_TIMEOUT, MountError, abort_fuse_connections,  # noqa: E402,F401
                         is_fuse_mounted, make_mountpoint, make_shm_dir, mounts_at, pid_alive,
                         remove_tree)

SHMFS = os.environ.get("SHMFS", "")
HELPERS = os.environ.get("SHMFS_HELPERS", "")
CMD_TIMEOUT = 20.0     # default for every client command
NOBODY = 65534
# Two unprivileged users of their own for the trust tests: numeric ids that no
# account has (setpriv needs none), so nothing is added to /etc/passwd.
ATTACKER = 61001
VICTIM = 61002

# Clients run a system python, which user nobody can execute (a python under
# /root may not be reachable for that user).
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable


def as_user(uid):
    """The setpriv prefix that runs a command as uid (and gid uid), no groups."""
    return ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups"]


AS_NOBODY = as_user(NOBODY)

def mode():
    """The data-path mode the suite runs in now: "cached" or "passthrough"."""
    return os.environ.get("SHMFS_TEST_MODE", "cached")


def passthrough_option():
    return "on" if mode() == "passthrough" else "off"


URING_PARAM = "/sys/module/fuse/parameters/enable_uring"


def uring_suite():
    """Whether the suite runs over FUSE io_uring (run.py --uring)."""
    return os.environ.get("SHMFS_TEST_URING") == "1"


@contextlib.contextmanager
def uring_param(value):
    """The fuse module's enable_uring set to value ("Y"/"N") for a while, and
    set back to what it was even on failure. Yields False (nothing changed)
    when the kernel has no such parameter."""
    try:
        with open(URING_PARAM) as f:
            old = f.read().strip()
    except OSError:
        yield False
        return
    with open(URING_PARAM, "w") as f:
        f.write(value)
    try:
        yield True
    finally:
        with open(URING_PARAM, "w") as f:
            f.write(old)


def helper(name):
    """Absolute path of a compiled C helper (tests/integration/NAME.c)."""
    return os.path.join(HELPERS, name)


def random_token(n=8):
    return "%0*x" % (n, random.getrandbits(4 * n))


# ---------------------------------------------------------------------------
# Running client processes

def run(args, user=None, input=None, timeout=CMD_TIMEOUT, umask=None, shell=False,
        env=None, cwd="/"):
    """Run a client command to completion and return the CompletedProcess
    (text mode, stdout and stderr captured). user="nobody" runs it as 65534,
    a number as that uid (and gid).
    A command that outlives timeout is killed and fails the calling test."""
    if shell:
        script = args if umask is None else "umask %03o; %s" % (umask, args)
        args = ["/bin/sh", "-c", script]
    elif umask is not None:
        args = ["/bin/sh", "-c", 'umask %03o; exec "$@"' % umask, "sh"] + list(args)
    if user == "nobody":
        args = AS_NOBODY + list(args)
    elif isinstance(user, int):
        args = as_user(user) + list(args)
    elif user is not None:
        raise ValueError("unknown user %r" % user)
    # its own process group, so that a timeout also ends what a shell started
    stdin = subprocess.PIPE if input is not None else subprocess.DEVNULL
    proc = subprocess.Popen(args, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=cwd, start_new_session=True)
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise AssertionError("timed out after %ss: %s" % (timeout, args)) from None
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def _kill_group(proc):
    """SIGKILL the process group of our child proc (made with
    start_new_session) and reap the child."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.communicate(timeout=5)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        proc.wait(timeout=10)


def sh(script, **kw):
    """Run a /bin/sh script (see run())."""
    return run(script, shell=True, **kw)


def py(code, *args, **kw):
    """Run python3 -c CODE ARGS... in a separate process (see run())."""
    return run([PYTHON, "-c", code] + [str(a) for a in args], **kw)


# A snippet that runs one statement on the paths in sys.argv and prints OK or
# the errno name it failed with, e.g. try_op("os.symlink('t', A[0])", path).
_TRY_OP = r"""
import os, sys, errno, fcntl, ctypes, stat
A = sys.argv[1:]
libc = ctypes.CDLL(None, use_errno=True)
def renameat2(old, new, flags):
    if libc.renameat2(-100, old.encode(), -100, new.encode(), flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
try:
    exec(compile(CODE, "op", "exec"))
    print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
"""


def try_op(statement, *args, **kw):
    """Run one Python statement in a separate process; return "OK" or the
    errno name (ENOENT, EPERM, ...) it failed with."""
    code = "CODE = %r\n%s" % (statement, _TRY_OP)
    r = py(code, *args, **kw)
    if r.returncode != 0 or not r.stdout.strip():
        raise AssertionError("python snippet failed: %s\n%s" % (statement, r.stderr))
    return r.stdout.strip().splitlines()[-1]


class Client:
    """A long-lived client process spoken to line by line (e.g. the mapper
    helper in stdin mode). Always stopped by the test's cleanup."""

    def __init__(self, args, user=None):
        if user == "nobody":
            args = AS_NOBODY + list(args)
        elif isinstance(user, int):
            args = as_user(user) + list(args)
        self.args = args
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, cwd="/", start_new_session=True)
        self._buf = b""

    def readline(self, timeout=CMD_TIMEOUT):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no answer within %ss from %s" % (timeout, self.args))
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    try:
                        self.proc.wait(timeout=2)
                        err = self.proc.stderr.read1(65536)
                    except subprocess.TimeoutExpired:
                        err = b""
                    raise AssertionError("%s ended (status %s): %s" % (
                        self.args, self.proc.poll(), err.decode(errors="replace")))
                self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode(errors="replace")

    def ask(self, command, timeout=CMD_TIMEOUT):
        """Send one command line, return the answer line."""
        self.proc.stdin.write(command.encode() + b"\n")
        self.proc.stdin.flush()
        return self.readline(timeout)

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                _kill_group(self.proc)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except OSError:
                pass


def pattern(off, length, seed):
    """The bytes the mapper helper's fill writes at [off, off+length)."""
    return bytes(((seed + 7 * i + (i >> 8)) & 0xff) for i in range(off, off + length))


# ---------------------------------------------------------------------------
# Processes

def process_argvs():
    """(pid, argv as bytes) of every process whose command line is readable."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % name, "rb") as f:
                yield int(name), f.read().split(b"\0")
        except OSError:
            continue


def pids_with_arg(arg, program=None):
    """Pids whose command line has exactly the argument arg (our unique
    mountpoint path: how a daemon that forked itself is found). With
    program, only processes of that name; without, never fusermount3, which
    (auto_unmount) waits beside the daemon with the same mount point in its
    arguments."""
    pids = []
    for pid, argv in process_argvs():
        name = os.path.basename(argv[0])
        if (arg.encode() in argv and pid != os.getpid()
                and (name == program.encode() if program else name != b"fusermount3")):
            pids.append(pid)
    return pids


def remove_prefixed(directory, prefix):
    """Remove the entries of directory whose names start with prefix."""
    for name in os.listdir(directory):
        if name.startswith(prefix):
            p = os.path.join(directory, name)
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, ignore_errors=True)
            else:
                try:
                    os.unlink(p)
                except OSError:
                    pass


# ---------------------------------------------------------------------------
# A mount

class Mount(shmfs_mount.Mount):
    """One shmfs daemon on a fresh mountpoint (tests/shmfs_mount.py).

    shm_dir: the store directory (made fresh under /dev/shm, and removed at
      teardown, when not given); prefix: None for the daemon's default
      ("shmfs."); passthrough: "on"/"off"/"auto" (default: the suite's mode);
    options: more -o options; config: "none" or a config file path;
    foreground: False runs the daemon without -f (it must return only once the
      mount is live); user="nobody" runs the daemon as 65534;
    shm_dir_option=False leaves shm_dir to the config file.
    """

    def __init__(self, shm_dir=None, prefix=None, passthrough=None, options=(),
                 config="none", foreground=True, user=None, flags=(), mountpoint=None,
                 shm_dir_option=True, cwd="/"):
        # As given on the command line (may be relative to cwd), and absolute.
        self.mnt_arg = mountpoint
        if mountpoint is not None:
            mountpoint = os.path.realpath(os.path.join(cwd, mountpoint))
        super().__init__("test", shm_dir=shm_dir, mountpoint=mountpoint)
        if self.mnt_arg is None:
            self.mnt_arg = self.mnt
        self.prefix = prefix
        self.passthrough = passthrough if passthrough is not None else passthrough_option()
        self.cwd = cwd
        self.config = config
        self.foreground = foreground
        self.user = user
        self.expect_exit = False   # set when a test stops the daemon itself
        self.torn_down = False
        self.live = False          # start() succeeded
        self._stderr = tempfile.TemporaryFile()
        self._output = ""
        opts = ["shm_dir=" + self.shm_dir] if shm_dir_option else []
        if prefix is not None:
            opts.append("prefix=" + prefix)
        if self.passthrough is not None:
            opts.append("passthrough=" + self.passthrough)
        opts.extend(options)
        if uring_suite() and not any(o.startswith("io_uring=") for o in options):
            opts.append("io_uring=on")
        args = [SHMFS] + (["-f"] if foreground else []) + list(flags)
        args += ["-o", ",".join(opts)]
        if config is not None:
            args.append(config)
        args.append(self.mnt_arg)
        self.args = args

    # -- paths ------------------------------------------------------------
    def backing(self, name, *rest):
        """SHM_DIR/PREFIXname/rest...: where the segment name lives."""
        prefix = "shmfs." if self.prefix is None else self.prefix
        return os.path.join(self.shm_dir, prefix + name, *rest)

    def stderr(self):
        """What the daemon printed (all of it, also after teardown)."""
        if not self._stderr.closed:
            self._stderr.seek(0)
            self._output = self._stderr.read().decode(errors="replace")
        return self._output

    output = stderr

    # -- life ---------------------------------------------------------------
    def start(self):
        # as nobody: no capabilities at all, as a user's own daemon would run
        args = self.args if self.user is None else AS_NOBODY + ["--inh-caps=-all"] + self.args
        if self.foreground:
            self.spawn(args, self._stderr, cwd=self.cwd)
            self.live = True
            return self
        try:
            r = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=self._stderr,
                               stderr=self._stderr, timeout=MOUNT_TIMEOUT, cwd=self.cwd)
        except subprocess.TimeoutExpired:
            self._find_background_pid()
            raise MountError("shmfs (background) did not return within %ss: %s\n%s"
                             % (MOUNT_TIMEOUT, " ".join(args), self.stderr()))
        self._find_background_pid()
        if r.returncode != 0:
            raise MountError("shmfs (background) exited %d: %s\n%s"
                             % (r.returncode, " ".join(args), self.stderr()))
        self.live = True
        return self

    def _find_background_pid(self):
        pids = pids_with_arg(self.mnt_arg)
        self.pid = pids[0] if pids else None

    def adopt(self):
        """Take charge of a daemon a test started itself without -f on this
        mountpoint: find its pid, tear it down with the rest."""
        self._find_background_pid()
        self.live = True

    def daemon_exited(self):
        return not self.running()

    kill_daemon = shmfs_mount.Mount.kill

    def stop(self):
        """Tear down, always completely: unmount, wait for the daemon (SIGKILL
        it after a timeout), abort a hung connection, remove the mountpoint
        and the shm_dir. Raise when the daemon had died on its own or did not
        exit with status 0 after the unmount."""
        if self.torn_down:
            return
        self.torn_down = True
        self.closed = True
        problems = []
        try:
            died_early = (self.live and self.pid is not None and self.daemon_exited()
                          and not self.expect_exit)
            if died_early:
                self.wait_exit(1)
                problems.append("the daemon had exited (status %s) before teardown"
                                % self.exit_status)
            killed_before = self.killed
            problems += self.end()
            if (self.live and not died_early and not self.expect_exit
                    and self.killed == killed_before and self.proc is not None
                    and self.exit_status not in (0, None)):
                problems.append("the daemon exited with status %s after the unmount"
                                % self.exit_status)
        finally:
            self.remove()
            if self.daemon_exited():
                self.stderr()
                self._stderr.close()
        if problems:
            raise AssertionError("; ".join(problems) + "\n" + " ".join(self.args)
                                 + "\ndaemon output:\n" + self.stderr()[-4000:])

    def close(self):
        try:
            self.stop()
        except AssertionError:
            pass
        return []


def sweep():
    """Tear down every mount a test left (used by the runner at exit)."""
    shmfs_mount.close_all()


# ---------------------------------------------------------------------------
# Test case base

class ShmfsTestCase(unittest.TestCase):
    """Base of every integration test. passthrough_only = True skips a class
    in cached mode."""

    passthrough_only = False
    maxDiff = 4000

    def setUp(self):
        if self.passthrough_only and mode() != "passthrough":
            self.skipTest("passthrough mode only")

    # -- resources, each torn down by addCleanup (last made, first undone) --
    def mount(self, **kw):
        """Start a mount; its teardown runs after the test even on failure."""
        m = Mount(**kw)
        self.addCleanup(m.stop)
        m.start()
        return m

    def mount_fails(self, **kw):
        """Start a mount that must fail; return the daemon's exit status and
        output. Fails the test if it mounted."""
        m = Mount(**kw)
        self.addCleanup(m.stop)
        try:
            m.start()
        except MountError:
            self.assertFalse(is_fuse_mounted(m.mnt), "a failed start left a mount")
            m.wait_exit(10)
            return m.exit_status, m.stderr()
        self.fail("the mount succeeded: %s" % " ".join(m.args))

    def shared_mount(self, **kw):
        """A root daemon with allow_other over a fresh 1777 shm_dir, on a
        mount point every user can reach: the setup the trust tests attack."""
        kw.setdefault("shm_dir", self.shm_dir(mode=0o1777))
        mnt = self.mountpoint()
        os.chmod(mnt, 0o755)
        kw.setdefault("mountpoint", mnt)
        kw["options"] = ["allow_other"] + list(kw.get("options", ()))
        return self.mount(**kw)

    def shm_dir(self, owner=None, mode=None):
        d = make_shm_dir(owner=owner, mode=mode)
        self.addCleanup(remove_tree, d)
        return d

    def mountpoint(self, owner=None):
        d = make_mountpoint(owner=owner)
        self.addCleanup(_rmdir_quiet, d)
        return d

    def shm_prefix(self):
        """A random prefix for real POSIX shm names in /dev/shm; objects with
        it are removed after the test."""
        prefix = "shmfs-t%s." % random_token()
        self.addCleanup(remove_prefixed, "/dev/shm", prefix)
        return prefix

    def client(self, args, user=None):
        c = Client(args, user=user)
        self.addCleanup(c.stop)
        return c

    def ready_helper(self, name, path, *opts, user=None):
        """The C helper name (mapper, holder) started on path, once it has
        said "ready"; ask() it commands."""
        c = self.client([helper(name)] + list(opts) + [path], user=user)
        line = c.readline()
        self.assertTrue(line.startswith("ready "), "%s %s: %s" % (name, path, line))
        return c

    def mapper(self, path, *opts, user=None):
        """A mapper helper holding path mapped (mapper.c)."""
        return self.ready_helper("mapper", path, *opts, user=user)

    def holder(self, path, *opts, user=None):
        """A process holding path open, and mapped unless -n, that lets go of
        the fd and the mapping separately (holder.c)."""
        return self.ready_helper("holder", path, *opts, user=user)

    def tmpfile(self, data=b""):
        fd, p = tempfile.mkstemp(prefix="shmfs-data-")
        os.write(fd, data)
        os.close(fd)
        os.chmod(p, 0o644)
        self.addCleanup(_unlink_quiet, p)
        return p

    def config(self, text):
        """A config file holding text as it is; its path."""
        fd, path = tempfile.mkstemp(prefix="shmfs-cfg-", suffix=".ini")
        os.write(fd, text.encode())
        os.close(fd)
        self.addCleanup(os.unlink, path)
        return path

    def mount_config(self, text, **kw):
        """A mount (see mount()) with the config file self.config(text)."""
        return self.mount(config=self.config(text), **kw)

    def disk_dir(self):
        """A fresh directory under /tmp (for stores on disk), removed after
        the test."""
        d = tempfile.mkdtemp(prefix="shmfs-disk-", dir="/tmp")
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def ls(self, path):
        """The names in directory path (ls -A1, from another process), sorted."""
        return sorted(self.ok(run(["ls", "-A1", path])).split())

    # -- assertions -------------------------------------------------------
    def ok(self, result, what=None):
        """Assert a CompletedProcess succeeded; return its stdout."""
        self.assertEqual(result.returncode, 0, "%s failed (status %d)\nstdout: %s\nstderr: %s"
                         % (what or result.args, result.returncode, result.stdout, result.stderr))
        return result.stdout

    def fails_with(self, result, message):
        """Assert a CompletedProcess failed and said message on stderr."""
        self.assertNotEqual(result.returncode, 0, "%s succeeded, expected %r"
                            % (result.args, message))
        self.assertIn(message, result.stderr, "%s" % (result.args,))

    def read_backing(self, path):
        with open(path, "rb") as f:
            return f.read()


def _rmdir_quiet(path):
    try:
        os.rmdir(path)
    except OSError:
        pass


def _unlink_quiet(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def stat_field(path, fmt, **kw):
    """stat -c FMT path, from a separate process."""
    r = run(["stat", "-c", fmt, path], **kw)
    if r.returncode != 0:
        raise AssertionError("stat %s: %s" % (path, r.stderr.strip()))
    return r.stdout.strip()


def getfattr(path, name, **kw):
    """getfattr --only-values -n name path; None when it fails."""
    r = run(["getfattr", "--only-values", "--absolute-names", "-n", name, path], **kw)
    return r.stdout if r.returncode == 0 else None


def meminfo(field):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def errno_name(n):
    return errno.errorcode.get(n, str(n))
