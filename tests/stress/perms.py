"""Permissions and isolation, with clients run as unprivileged users.

Users: 65534 (nobody) and 65533 (no passwd entry needed), through
setpriv --reuid --regid --clear-groups. Each client action runs in its own
/usr/bin/python3 process with a timeout and prints OK or the errno name.
"""

import os
import shutil
import subprocess
import tempfile

import mount

NOBODY, OTHER = 65534, 65533
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else "python3"

_SNIPPET = r"""
import os, sys, errno, mmap
A = sys.argv[1:]
try:
    exec(compile(CODE, "op", "exec"))
    print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
"""


def as_user(uid, code, *args, gid=None, umask=0o022, timeout=20):
    """Run one Python statement as uid; "OK" or the errno name."""
    gid = uid if gid is None else gid
    prog = "import os; os.umask(%d)\nCODE = %r\n%s" % (umask, code, _SNIPPET)
    cmd = [PYTHON, "-c", prog] + list(args)
    if uid != 0:
        cmd = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups"] + cmd
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd="/",
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return "TIMEOUT"
    out = r.stdout.strip().splitlines()
    return out[-1] if out else "CRASH: " + r.stderr.strip()[-300:]


def expect(res, name, got, want):
    ok = got == want if isinstance(want, str) else got in want
    res.check("perms: %s -> %s" % (name, got), ok, "expected %s, got %s" % (want, got))


def without_allow_other(ctx, res):
    with mount.Mount(ctx.shmfs, passthrough="on", world=True, tag="perms") as m:
        with open(m.path("open"), "w") as f:
            f.write("x")
        os.chmod(m.path("open"), 0o666)
        expect(res, "without allow_other, uid %d stats the mount" % NOBODY,
               as_user(NOBODY, "os.stat(A[0])", m.mnt), "EACCES")
        expect(res, "without allow_other, uid %d opens a 0666 file" % NOBODY,
               as_user(NOBODY, "open(A[0]).read()", m.path("open")), "EACCES")
        os.unlink(m.path("open"))


def with_allow_other(ctx, res, mode):
    with mount.Mount(ctx.shmfs, passthrough=mode, world=True, disk=True,
                     options=["allow_other"], tag="perms") as m:
        t = "[%s] " % ("passthrough" if mode == "on" else "cached")
        a, d = m.path("a"), m.path("d")
        expect(res, t + "nobody creates a file (umask 022)",
               as_user(NOBODY, "open(A[0], 'w').write('hello')", a), "OK")
        st = os.stat(m.backing("a"))
        res.check("perms: %sthe backing object is the creator's, mode masked by the umask "
                  "(%d:%d %04o)" % (t, st.st_uid, st.st_gid, st.st_mode & 0o7777),
                  (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (NOBODY, NOBODY, 0o644))
        expect(res, t + "another user reads a 0644 file", as_user(OTHER, "open(A[0]).read()", a), "OK")
        expect(res, t + "another user writes a 0644 file",
               as_user(OTHER, "open(A[0], 'r+').write('x')", a), "EACCES")
        expect(res, t + "another user maps a 0644 file writable", as_user(
            OTHER, "f = open(A[0], 'rb'); mmap.mmap(f.fileno(), 5, mmap.MAP_SHARED, "
            "mmap.PROT_READ | mmap.PROT_WRITE)", a), "EACCES")
        expect(res, t + "another user truncates", as_user(OTHER, "os.truncate(A[0], 0)", a), "EACCES")
        expect(res, t + "another user chmods", as_user(OTHER, "os.chmod(A[0], 0o666)", a), "EPERM")
        expect(res, t + "another user chowns", as_user(OTHER, "os.chown(A[0], %d, -1)" % OTHER, a),
               "EPERM")
        expect(res, t + "the owner gives the file away",
               as_user(NOBODY, "os.chown(A[0], %d, -1)" % OTHER, a), "EPERM")
        expect(res, t + "another user unlinks in a sticky directory",
               as_user(OTHER, "os.unlink(A[0])", a), "EPERM")
        expect(res, t + "another user renames in a sticky directory",
               as_user(OTHER, "os.rename(A[0], A[0] + '2')", a), "EPERM")
        expect(res, t + "the owner chmods 0600", as_user(NOBODY, "os.chmod(A[0], 0o600)", a), "OK")
        expect(res, t + "another user reads a 0600 file", as_user(OTHER, "open(A[0]).read()", a), "EACCES")
        expect(res, t + "the owner reads and writes a 0600 file",
               as_user(NOBODY, "f = open(A[0], 'r+'); f.write('x'); f.seek(0); f.read()", a), "OK")
        expect(res, t + "the owner chmods 0640", as_user(NOBODY, "os.chmod(A[0], 0o640)", a), "OK")
        expect(res, t + "a member of the group reads a 0640 file",
               as_user(OTHER, "open(A[0]).read()", a, gid=NOBODY), "OK")
        expect(res, t + "a member of the group writes a 0640 file",
               as_user(OTHER, "open(A[0], 'r+').write('x')", a, gid=NOBODY), "EACCES")
        with open(m.path("rootonly"), "w") as f:
            f.write("secret")
        os.chmod(m.path("rootonly"), 0o600)
        expect(res, t + "nobody reads root's 0600 file",
               as_user(NOBODY, "open(A[0]).read()", m.path("rootonly")), "EACCES")
        expect(res, t + "nobody makes a 0700 directory",
               as_user(NOBODY, "os.mkdir(A[0], 0o700)", d), "OK")
        expect(res, t + "another user creates in it",
               as_user(OTHER, "open(A[0] + '/x', 'w')", d), "EACCES")
        expect(res, t + "another user lists it", as_user(OTHER, "os.listdir(A[0])", d), "EACCES")
        expect(res, t + "umask 077 gives 0600",
               as_user(NOBODY, "open(A[0], 'w'); assert os.stat(A[0]).st_mode & 0o777 == 0o600, "
                       "oct(os.stat(A[0]).st_mode)", m.path("u077"), umask=0o077), "OK")
        expect(res, t + "nobody creates in the on-disk store",
               as_user(NOBODY, "open(A[0], 'w').write('d')", m.path("disk", "n")), "OK")
        st = os.stat(os.path.join(m.disk_dir, "n"))
        res.check("perms: %son disk too the file is the creator's (%d)" % (t, st.st_uid),
                  st.st_uid == NOBODY)
        expect(res, t + "nobody unlinks its own file", as_user(NOBODY, "os.unlink(A[0])", a), "OK")
        for p in (m.path("rootonly"), m.path("u077"), m.path("disk", "n")):
            os.unlink(p)
        os.rmdir(d)
        mount_done(res, m, t)


def mount_done(res, m, t):
    status = m.stop()
    res.check("perms: %sclean unmount, nothing left" % t, status == 0 and not m.leftovers(),
              "status %s, left %s" % (status, m.leftovers()))


def isolation(ctx, res, mode):
    outside = tempfile.mkdtemp(prefix="shmfs-outside-")
    target = os.path.join(outside, "target")
    with open(target, "w") as f:
        f.write("outside")
    os.chmod(target, 0o644)
    t = "[%s] " % ("passthrough" if mode == "on" else "cached")
    try:
        with mount.Mount(ctx.shmfs, passthrough=mode, world=True, disk=True,
                         options=["allow_other"], tag="iso") as m:
            sd = m.shm_dir
            with open(os.path.join(sd, "secret"), "w") as f:
                f.write("not ours")
            os.symlink(target, os.path.join(sd, "shmfs.evil"))
            os.symlink(outside, os.path.join(sd, "shmfs.evdir"))
            os.mkdir(os.path.join(sd, "shmfs.sub"))
            os.symlink(outside, os.path.join(sd, "shmfs.sub", "ln"))
            os.symlink(target, os.path.join(sd, "shmfs.sub", "lnf"))
            os.mkfifo(os.path.join(sd, "shmfs.fifo"))
            with open(m.path("mine"), "w") as f:
                f.write("mine")
            # Every type is shown as itself; a symlink is resolved by the
            # client's kernel with the client's rights, never by the daemon.
            listing = sorted(os.listdir(m.mnt))
            res.check("perms: %severy prefixed entry is listed, by type: %s" % (t, listing),
                      listing == ["disk", "evdir", "evil", "fifo", "mine", "sub"])
            res.check("perms: %ssymlinks in a directory are listed as symlinks" % t,
                      sorted(os.listdir(m.path("sub"))) == ["ln", "lnf"]
                      and os.path.islink(m.path("sub", "ln")))
            expect(res, t + "root opens a name without the prefix",
                   as_user(0, "open(A[0]).read()", m.path("secret")), "ENOENT")
            # The targets are in a 0700 directory of root's: nobody cannot
            # reach them through the mount, as through any symlink.
            for name, code in (("stat", "os.stat(A[0])"), ("open", "open(A[0]).read()"),
                               ("open for writing", "open(A[0], 'r+').write('x')"),
                               ("create over", "open(A[0], 'w').write('x')"),
                               ("truncate", "os.truncate(A[0], 0)"),
                               ("chmod", "os.chmod(A[0], 0o777)"),
                               ("unlink", "os.unlink(A[0])"),
                               ("setxattr", "os.setxattr(A[0], 'user.x', b'1')")):
                expect(res, t + "nobody: %s through a planted symlink" % name,
                       as_user(NOBODY, code, m.path("evil")), ("EACCES", "EPERM"))
                expect(res, t + "nobody: %s through a symlink planted in a directory" % name,
                       as_user(NOBODY, code, m.path("sub", "lnf")), ("EACCES", "EPERM"))
            expect(res, t + "nobody: a file below a planted directory symlink",
                   as_user(NOBODY, "open(A[0]).read()", m.path("evdir", "target")), "EACCES")
            expect(res, t + "root: a planted symlink reads as the client's own",
                   as_user(0, "assert os.readlink(A[0]) == A[1] and open(A[0]).read() == "
                           "'outside'", m.path("evil"), target), "OK")
            for who in (0, NOBODY):
                expect(res, t + "%s: mkdir over a planted directory symlink" % who,
                       as_user(who, "os.mkdir(A[0])", m.path("evdir")), ("EEXIST", "EACCES"))
            expect(res, t + "a fifo planted in shm_dir is stat'ed and opened without a hang",
                   as_user(0, "os.stat(A[0]); os.close(os.open(A[0], os.O_RDONLY | "
                           "os.O_NONBLOCK))", m.path("fifo"), timeout=10), "OK")
            expect(res, t + "rename onto a planted symlink",
                   as_user(0, "os.rename(A[0], A[1])", m.path("mine"), m.path("evil")), "OK")
            expect(res, t + "symlinks are made as symlinks, never followed", as_user(
                0, "os.symlink('/etc/passwd', A[0]); assert os.readlink(A[0]) == '/etc/passwd'",
                m.path("ln2")), "OK")
            expect(res, t + "hard links are made",
                   as_user(0, "os.link(A[0], A[1])", m.path("evil"), m.path("hl")), "OK")
            expect(res, t + "fifos are made", as_user(0, "os.mkfifo(A[0])", m.path("ff")), "OK")
            with open(m.path("x"), "w") as f:
                f.write("x")
            expect(res, t + "rename across stores", as_user(0, "os.rename(A[0], A[1])",
                                                            m.path("x"), m.path("disk", "x")), "EXDEV")
            expect(res, t + "rename of a grafted name", as_user(0, "os.rename(A[0], A[1])",
                                                                m.disk, m.path("d2")), "EBUSY")
            expect(res, t + "rmdir of a grafted name", as_user(0, "os.rmdir(A[0])", m.disk), "EBUSY")
            os.unlink(m.path("x"))
            content = open(target).read()
            st = os.stat(target)
            res.check("perms: %sthe symlinks' targets outside are untouched (%r, %04o, uid %d)"
                      % (t, content, st.st_mode & 0o7777, st.st_uid),
                      content == "outside" and st.st_mode & 0o7777 == 0o644 and st.st_uid == 0)
            res.check("perms: %sthe file without the prefix is untouched" % t,
                      open(os.path.join(sd, "secret")).read() == "not ours")
            for n in ("secret", "shmfs.evil", "shmfs.evdir", "shmfs.fifo", "shmfs.mine",
                      "shmfs.ln2", "shmfs.hl", "shmfs.ff"):
                p = os.path.join(sd, n)
                if os.path.lexists(p):
                    os.unlink(p)
            shutil.rmtree(os.path.join(sd, "shmfs.sub"))
            mount_done(res, m, t)
        # lifetime = mount empties the store at unmount: never through a symlink.
        with mount.Mount(ctx.shmfs, passthrough=mode, options=["lifetime=mount"], tag="iso") as m:
            os.symlink(outside, os.path.join(m.shm_dir, "shmfs.evdir"))
            os.mkdir(os.path.join(m.shm_dir, "shmfs.sub"))
            os.symlink(outside, os.path.join(m.shm_dir, "shmfs.sub", "ln"))
            with open(m.path("tmp"), "w") as f:
                f.write("t")
            m.stop()
            res.check("perms: %slifetime=mount cleanup does not follow symlinks out of shm_dir" % t,
                      os.path.exists(target) and open(target).read() == "outside"
                      and not os.path.exists(m.backing("tmp")))
    finally:
        shutil.rmtree(outside, ignore_errors=True)


def config_escapes(ctx, res):
    """Graft paths and declared names that would reach outside: refused."""
    tmp = tempfile.mkdtemp(prefix="shmfs-esc-")
    try:
        os.mkdir(os.path.join(tmp, "real"))
        os.symlink(os.path.join(tmp, "real"), os.path.join(tmp, "link"))
        os.symlink("/etc", os.path.join(tmp, "etc"))
        cases = [
            ("a '..' in a [dir] path", "[dir x]\npath = %s/real/../../x\n" % tmp, "BUG-2"),
            ("a '..' in a [segment] path",
             "[segment x]\nbackend = file\npath = %s/real/../x.dat\n" % tmp, "BUG-2"),
            ("a [dir] path through a symlink", "[dir x]\npath = %s/link/sub\n" % tmp, "BUG-2"),
            ("a [segment] path through a symlink",
             "[segment x]\nbackend = file\npath = %s/etc/x.dat\n" % tmp, "BUG-2"),
            ("a [dir] path that is a symlink", "[dir x]\npath = %s/link\n" % tmp, None),
            ("a relative [dir] path", "[dir x]\npath = real\n", None),
            ("[segment ../x]", "[segment ../x]\nsize = 1\n", None),
            ("[segment /etc/passwd]", "[segment /etc/passwd]\nsize = 1\n", None),
            ("[segment a/b]", "[segment a/b]\nsize = 1\n", None),
            ("[dir ..]", "[dir ..]\n", None),
            ("[dir .]", "[dir .]\n", None),
            ("a prefix with '/'", "[shmfs]\nprefix = ../x\n", None),
            ("a relative shm_dir", "[shmfs]\nshm_dir = dev/shm\n", None),
        ]
        for name, text, bug in cases:
            cfg = os.path.join(tmp, "c.ini")
            with open(cfg, "w") as f:
                f.write(text)
            r = subprocess.run([ctx.shmfs, "--check-config", cfg], capture_output=True, text=True,
                               timeout=20)
            ok = r.returncode == 1 and (cfg + ":") in r.stderr
            label = "perms: config refuses %s" % name
            if ok or not bug:
                res.check(label + (" (%s)" % r.stderr.strip().splitlines()[-1] if ok else ""), ok,
                          "exit %s: %s%s" % (r.returncode, r.stdout[-300:], r.stderr[-300:]))
            else:
                res.known_bug(label, "%s graft paths may escape through '..' or a symlink" % bug,
                              "exit %s; stdout: %s" % (r.returncode, r.stdout.strip()[-200:]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def phase_perms(ctx, res):
    without_allow_other(ctx, res)
    for mode in ("on", "off"):
        with_allow_other(ctx, res, mode)
        isolation(ctx, res, mode)
    config_escapes(ctx, res)
