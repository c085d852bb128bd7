"""Bad input everywhere: every config key with garbage, truncated files, huge
numbers, broken structure, -o garbage, and mounts that must fail. Each must
end with exit status 1 and a clear message (FILE:LINE: why), never a signal,
a hang, a success, or a half-mounted filesystem."""

import os
import random
import shutil
import subprocess
import tempfile
import time

import mount

GARBAGE_COMMON = ["", " ", "\t", "-", "+", "~", "%", "yes please", "1 2", "${HOME}", "\u00fc",
                  "\x01\x7f", "#", "=", "==", "0x", "nan", "-1"]
SIZES = ["-1", "1Q", "1.5G", "G", "1KK", "1e3", "18446744073709551616", "16777216T",
         "17179869184G", "99999999999999999999999999", "0x10", "nan", "inf", "1 G",
         "9" * 150]


def values_for(section, key, tmp):
    if key == "shm_dir":
        return GARBAGE_COMMON + ["relative", "/nonexistent-zz/x", "/etc/passwd",
                                 "/" + "a" * 190]
    if key == "prefix":
        return ["a/b", "/", "../x", "x" * 190 + "/"]
    if key == "passthrough":
        return GARBAGE_COMMON + ["yes", "ON", "1", "autox", "passthrough"]
    if key == "lifetime" and section == "shmfs":
        return GARBAGE_COMMON + ["disk", "process", "forever", "Kernel"]
    if key == "lifetime":
        return GARBAGE_COMMON + ["forever", "Kernel", "reboot"]
    if key in ("max_segment_size", "size"):
        return GARBAGE_COMMON + SIZES
    if key == "max_total_size":
        return GARBAGE_COMMON + SIZES + ["0%", "101%", "-5%", "50%%", "1.5%", "%50",
                                         "99999999999999999999%", "50 %"]
    if key == "max_segments":
        return GARBAGE_COMMON + ["1.5", "1e3", "99999999999999999999", "ten", "0x10", "1K"]
    if key == "attr_timeout":
        return GARBAGE_COMMON + ["inf", "1e999", "86401", "1s", "abc", "--1", "1e-999x"]
    if key == "log_level":
        return GARBAGE_COMMON + ["verbose", "DEBUG", "4", "trace"]
    if key == "watch":
        return GARBAGE_COMMON + ["yes", "ON", "1", "maybe"]
    if key == "mode":
        return GARBAGE_COMMON + ["0999", "8", "077777", "rw", "0x1ff", "99999999999999999999"]
    if key in ("owner", "group"):
        return GARBAGE_COMMON + ["nosuchname-zz", "4294967295", "99999999999999999999", "1.5"]
    if key == "backend":
        return GARBAGE_COMMON + ["disk", "tmpfs", "SHM", "file "]
    if key == "path":
        if section.startswith("dir"):
            return ["relative", "/etc/passwd", "/dev/null", "./x", "~/x"]
        return ["relative", "/nonexistent-zz/x.dat", "/dev/null", "/etc", "./x"]
    if key == "prefault":
        return GARBAGE_COMMON[:10] + ["maybe", "2", "YES", "y"]
    raise KeyError(key)


KEYS = {
    "shmfs": ["shm_dir", "prefix", "passthrough", "lifetime", "max_segment_size",
              "max_total_size", "max_segments", "attr_timeout", "watch",
              "log_level"],
    "segment s": ["size", "mode", "owner", "group", "backend", "path", "prefault", "lifetime"],
    "dir d": ["path", "lifetime", "mode", "owner", "group"],
}

STRUCTURE = [
    ("unknown section", "[shmfsx]\nprefix = a\n"),
    ("unknown key", "[shmfs]\nprefixx = a\n"),
    ("key outside a section", "prefix = a\n"),
    ("duplicate key", "[shmfs]\nprefix = a\nprefix = b\n"),
    ("duplicate section", "[shmfs]\n[shmfs]\n"),
    ("duplicate segment", "[segment a]\n[segment a]\n"),
    ("segment and dir with one name", "[segment a]\n[dir a]\n"),
    ("[segment ] without a name", "[segment ]\nsize = 1\n"),
    ("[dir] without a name", "[dir]\n"),
    ("unterminated section", "[shmfs\nprefix = a\n"),
    ("a line without '='", "[shmfs]\nprefix\n"),
    ("a line longer than 199", "[shmfs]\nprefix = " + "x" * 400 + "\n"),
    ("a section name of 300", "[segment " + "n" * 300 + "]\n"),
    ("a name longer than NAME_MAX", "[segment " + "n" * 190 + "]\n[shmfs]\nprefix=" + "p" * 100 + "\n"),
    ("a segment key in [dir]", "[dir a]\nsize = 1\n"),
    ("backend = file without path", "[segment a]\nbackend = file\n"),
    ("path with backend = shm", "[segment a]\npath = /tmp/x.dat\n"),
    ("process lifetime for a segment", "[segment a]\nlifetime = process\n"),
    ("size above max_segment_size", "[shmfs]\nmax_segment_size = 1M\n[segment a]\nsize = 2M\n"),
    ("a NUL byte", "[shmfs]\nprefix = a\x00b\n"),
    ("only a NUL", "\x00"),
    ("CR line ends and garbage", "[shmfs]\r\nprefix = a\r\n\x1b[31m\r\n"),
    ("binary garbage", None),
]


# The sanitizer build: leaks at exit are checked once, on their own (BUG-4,
# fixed): a leak would make every refused input look like a crash.
ENV = dict(os.environ, ASAN_OPTIONS="detect_leaks=0", UBSAN_OPTIONS="halt_on_error=1")


def check_config(shmfs, path, timeout=20, extra=(), env=ENV):
    try:
        r = subprocess.run([shmfs] + list(extra) + ["--check-config", path], capture_output=True,
                           timeout=timeout, stdin=subprocess.DEVNULL, env=env)
        return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired:
        return "timeout", "", ""


def judge(res, name, rc, out, err, where):
    """Exit 1 with a message naming where, and nothing else, is right."""
    res.bad_inputs += 1
    ok = rc == 1 and where in err and "configuration OK" not in out
    if not ok:
        res.fail("badinput: " + name, "exit %s (want 1 with a message naming %s)\nstdout: %s\n"
                 "stderr: %s" % (rc, where, out[-400:], err[-400:]))
    return ok


def key_garbage(shmfs, res, tmp, tag):
    bad = 0
    cfg = os.path.join(tmp, "bad.ini")
    for section, keys in KEYS.items():
        for key in keys:
            for v in values_for(section, key, tmp):
                text = "[%s]\n%s = %s\n" % (section, key, v)
                with open(cfg, "w") as f:
                    f.write(text)
                rc, out, err = check_config(shmfs, cfg)
                # A line that names the file; the line number is 2 or the header's 1.
                bad += not judge(res, "%s[%s] %s = %r" % (tag, section, key, v), rc, out, err, cfg + ":")
    return bad


def structure(shmfs, res, tmp, tag):
    cfg = os.path.join(tmp, "bad.ini")
    rnd = random.Random(1234)
    bad = 0
    for name, text in STRUCTURE:
        data = text.encode() if text is not None else bytes(rnd.getrandbits(8) for _ in range(4096))
        with open(cfg, "wb") as f:
            f.write(data)
        rc, out, err = check_config(shmfs, cfg)
        bad += not judge(res, tag + name, rc, out, err, cfg + ":")
    for i in range(40):  # random binary and random text
        n = rnd.choice([1, 10, 100, 1000, 20000])
        data = bytes(rnd.getrandbits(8) for _ in range(n))
        if i % 2:
            data = bytes(rnd.choice(b"[]=;#\n \tabcdefghijklmnopqrstuvwxyz0123456789KMG%") for _ in range(n))
            data = b"[shmfs]\n" + data
        with open(cfg, "wb") as f:
            f.write(data)
        rc, out, err = check_config(shmfs, cfg)
        res.bad_inputs += 1
        if rc not in (0, 1) or (rc == 1 and cfg not in err):
            bad += 1
            res.fail("badinput: %srandom input %d (%d bytes)" % (tag, i, n),
                     "exit %s\n%s" % (rc, err[-400:]))
    big = os.path.join(tmp, "big.ini")
    with open(big, "w") as f:
        f.write("[shmfs]\n" + "; comment\n" * 1000000 + "bogus = 1\n")
    rc, out, err = check_config(shmfs, big, timeout=60)
    bad += not judge(res, tag + "a 10 MB file with an error at the end", rc, out, err, big + ":1000002:")
    for name, path in (("a missing file", os.path.join(tmp, "missing.ini")),
                       ("a directory", tmp), ("an empty path", "")):
        rc, out, err = check_config(shmfs, path)
        bad += not judge(res, tag + "CONFIG is " + name, rc, out, err, path + ":" if path else "")
    return bad


def many_sections(shmfs, res, tmp, tag):
    """A large config is checked in linear time, not quadratic (BUG-5): ten
    times the sections take well under a hundred times as long. Both sizes
    are timed in the same moment, so a busy machine slows both alike; no
    absolute time is asserted."""
    n = 30000
    secs = {}
    for count in (n // 10, n):
        cfg = os.path.join(tmp, "many%d.ini" % count)
        with open(cfg, "w") as f:
            f.write("".join("[dir d%d]\n" % i for i in range(count)))
        t0 = time.monotonic()
        rc, out, err = check_config(shmfs, cfg, timeout=120)
        secs[count] = time.monotonic() - t0
        if rc != 0:
            res.fail("badinput: %sa config of %d sections is checked" % (tag, count),
                     "exit %s: %s" % (rc, err[-300:]))
            return
    res.bad_inputs += 1
    ratio = secs[n] / max(secs[n // 10], 0.01)
    name = ("badinput: %sa config of %d sections is checked in linear time (%.1f s; %d: "
            "%.2f s, %.0f times as long for 10 times the sections)"
            % (tag, n, secs[n], n // 10, secs[n // 10], ratio))
    if ratio < 30:
        res.ok(name)
    else:
        res.known_bug(name, "BUG-5 config validation is quadratic in the number of entries",
                      "%d sections took %.1f s, %d took %.2f s"
                      % (n, secs[n], n // 10, secs[n // 10]))


def truncations(shmfs, res, tmp, tag, step=1):
    """Every prefix of a full valid config: valid, or a clean error."""
    disk = os.path.join(tmp, "persist")
    full = ("[shmfs]\nshm_dir = %s\nprefix = t.\npassthrough = off\nlifetime = kernel\n"
            "max_segment_size = 16G\nmax_total_size = 50%%\nmax_segments = 100000\n"
            "attr_timeout = 1.0\nlog_level = info\n\n[dir persist]\npath = %s\nlifetime = disk\n"
            "mode = 0755\n\n[dir scratch]\nlifetime = process\n\n[segment sensors]\nsize = 64M\n"
            "mode = 0660\nowner = 0\ngroup = 0\nbackend = shm\nprefault = no\n\n"
            "[segment file]\nbackend = file\npath = %s/f.dat\nlifetime = disk\n"
            % (tmp, disk, tmp))
    cfg = os.path.join(tmp, "trunc.ini")
    rc, out, err = check_config(shmfs, cfg)
    with open(cfg, "w") as f:
        f.write(full)
    rc, out, err = check_config(shmfs, cfg)
    res.check("badinput: %sthe full config is valid" % tag, rc == 0, err)
    bad = 0
    if tag:  # the sanitizer build: does --check-config free what it read?
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
        rc, out, err = check_config(shmfs, cfg, env=env)
        res.check("badinput: %s--check-config of a valid file frees what it read (BUG-4)" % tag,
                  rc == 0, err[-1500:])
    for n in range(0, len(full), step):
        with open(cfg, "w") as f:
            f.write(full[:n])
        rc, out, err = check_config(shmfs, cfg)
        res.bad_inputs += 1
        if rc == 0 and "configuration OK" in out:
            continue
        if rc != 1 or cfg + ":" not in err:
            bad += 1
            res.fail("badinput: %sthe config cut after %d bytes" % (tag, n),
                     "exit %s\nstdout: %s\nstderr: %s" % (rc, out[-300:], err[-300:]))
    return bad


def option_garbage(shmfs, res, tmp, tag):
    bad = 0
    for key in KEYS["shmfs"]:
        for v in values_for("shmfs", key, tmp):
            if "," in v:
                continue
            rc, out, err = check_config(shmfs, "none", extra=["-o", "%s=%s" % (key, v)])
            bad += not judge(res, "%s-o %s=%r" % (tag, key, v), rc, out, err, "-o:")
    return bad


def failed_mounts(shmfs, res, tmp, tag, quick):
    """Configs and options that must not mount: exit 1, no mount left."""
    mnt = os.path.realpath(tempfile.mkdtemp(prefix="shmfs-bad-mnt-"))
    shm = tempfile.mkdtemp(prefix="shmfs-bad-", dir="/dev/shm")
    cases = [(["-o", "max_segments=abc"], "none", mnt, "-o:"),
             (["-o", "passthrough=maybe"], "none", mnt, "-o:"),
             (["-o", "shm_dir=/nonexistent-zz"], "none", mnt, "-o:"),
             ([], "none", os.path.join(tmp, "no-such-mountpoint"), ""),
             ([], os.path.join(tmp, "missing.ini"), mnt, "missing.ini"),
             (["-o", "bogus_fuse_option"], "none", mnt, "")]
    dcfg = os.path.join(tmp, "mountfail.ini")
    with open(dcfg, "w") as f:
        f.write("[dir x]\npath = /proc/shmfs-cannot-be-made/x\n")
    cases.append(([], dcfg, mnt, ""))
    if not quick:
        for key in KEYS["shmfs"]:
            for v in values_for("shmfs", key, tmp)[:8]:
                if "," not in v:
                    cases.append((["-o", "%s=%s" % (key, v)], "none", mnt, "-o:"))
    bad = 0
    try:
        for extra, cfg, point, where in cases:
            args = [shmfs, "-f", "-o", "shm_dir=%s" % shm] + extra + [cfg, point]
            if extra[:1] == ["-o"] and extra[1].startswith("shm_dir="):
                args = [shmfs, "-f"] + extra + [cfg, point]
            try:
                r = subprocess.run(args, capture_output=True, timeout=20, stdin=subprocess.DEVNULL,
                                   env=ENV)
                rc, err = r.returncode, r.stderr.decode(errors="replace")
            except subprocess.TimeoutExpired:
                rc, err = "timeout (it mounted?)", ""
            half = mount.is_mounted(point) if os.path.isdir(point) else False
            if half:
                subprocess.run(["fusermount3", "-u", "-z", point], capture_output=True, timeout=10)
            res.bad_inputs += 1
            ok = rc == 1 and err.strip() and where in err and not half
            if not ok:
                bad += 1
                res.fail("badinput: %smount with %s %s %s must fail" % (tag, extra, cfg, point),
                         "exit %s, mounted: %s\n%s" % (rc, half, err[-400:]))
    finally:
        if not mount.is_mounted(mnt):
            os.rmdir(mnt)
        shutil.rmtree(shm, ignore_errors=True)
    return bad


def file_mountpoint(shmfs, res, tmp, tag):
    """A regular file as MOUNTPOINT must be refused (BUG-6: it is mounted,
    and every access to it fails with EIO)."""
    point = os.path.join(tmp, "afile")
    shm = tempfile.mkdtemp(prefix="shmfs-bad-", dir="/dev/shm")
    open(point, "w").close()
    name = "badinput: %sa regular file as the mount point is refused" % tag
    p = subprocess.Popen([shmfs, "-f", "-o", "shm_dir=" + shm, "none", point],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    res.bad_inputs += 1
    try:
        rc = p.wait(timeout=3)
        err = p.stderr.read().decode(errors="replace")
        res.check(name, rc == 1 and err.strip(), "exit %s: %s" % (rc, err[-300:]))
    except subprocess.TimeoutExpired:
        try:
            os.stat(point)
            how = "stat works"
        except OSError as e:
            how = "stat: %s" % e.strerror
        subprocess.run(["fusermount3", "-u", "-z", point], capture_output=True, timeout=10)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        res.known_bug(name, "BUG-6 shmfs mounts on a regular file, and the mount answers EIO",
                      "still running after 3 s, mounted on %s (%s)" % (point, how))
    finally:
        p.stderr.close()
        shutil.rmtree(shm, ignore_errors=True)


def phase_badinput(ctx, res):
    binaries = [("", ctx.shmfs)]
    if not ctx.quick and ctx.asan_shmfs and os.access(ctx.asan_shmfs, os.X_OK):
        binaries.append(("[asan] ", ctx.asan_shmfs))
    elif not ctx.quick:
        res.skip("badinput: [asan] bad inputs against the sanitizer build",
                 "no sanitizer build of the daemon at %s" % ctx.asan_shmfs)
    for tag, shmfs in binaries:
        tmp = os.path.realpath(tempfile.mkdtemp(prefix="shmfs-badinput-"))
        try:
            before = res.bad_inputs
            bad = key_garbage(shmfs, res, tmp, tag)
            bad += structure(shmfs, res, tmp, tag)
            bad += truncations(shmfs, res, tmp, tag, step=(13 if tag else 1) * (5 if ctx.quick else 1))
            bad += option_garbage(shmfs, res, tmp, tag)
            if not ctx.quick and not tag:
                many_sections(shmfs, res, tmp, tag)
            bad += failed_mounts(shmfs, res, tmp, tag, ctx.quick)
            if not tag:
                file_mountpoint(shmfs, res, tmp, tag)
            res.check("badinput: %s%d bad inputs, each refused with exit 1 and a message"
                      % (tag, res.bad_inputs - before), bad == 0, "%d were not" % bad)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
