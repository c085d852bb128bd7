#!/usr/bin/env python3
"""The reliability suite of shmfs: make stress (and, in part, tests/stress/quick).

    run.py --shmfs build/shmfs --bin build/stress [--asan-shmfs build/asan/shmfs]
           [--quick] [--phases verify,stress,asan,crash,perms,badinput] [--seed N]
           [--figures FILE]

Phases (each mount on a fresh mountpoint with its own shm_dir, see mount.py):
  verify    the randomized operation verifier in both data-path modes, on the
            shm store and on an on-disk store ([dir disk]), alone and with a
            second process reading the same mappings
  stress    many processes on shared and private names; no unexpected errors,
            no lost or torn data, nothing left in the stores after unlinking
            everything and unmounting, the daemon's memory flat
  asan      the same stress against the daemon built with ASan/UBSan/LSan
  crash     SIGKILL the daemon at random moments under the stress, remount,
            check the namespace, the data, and that mappings kept working
  perms     permissions and isolation, with unprivileged clients
  badinput  garbage for every config key, truncated files, huge numbers
The last line is the summary:
  stress: N operations verified, N processes, N crashes survived, N bad inputs tried,
  N bytes lost; N passed, N failed, N skipped, N known bugs
A check that cannot run here (no strace, no sanitizer build) is a SKIP line
with its reason and counted as skipped, never as passed.
Exit status 0 when everything passed. Of the daemon bugs this suite found,
the fixed ones fail the run if they come back; the open ones (OPEN_BUGS,
docs/RELIABILITY.md) are reported as "known" unless STRESS_STRICT=1.
STRESS_URING=1 (or --uring) runs every mount over FUSE io_uring
(io_uring=on), with the fuse module's enable_uring set to Y for the run and
set back afterwards.
"""

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import mount  # noqa: E402

NOBODY = 65534
OTHER = 65533
AS_NOBODY = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"]
STRICT = os.environ.get("STRESS_STRICT") == "1"
# Bugs this suite found that are still open: reported as KNOWN (with the
# bytes they got wrong) unless STRESS_STRICT=1. Every other bug it found is
# fixed, and its check fails the run if it comes back. None is open now.
OPEN_BUGS = ()


# Sizes of a run: tiny (tests/stress/quick, < 30 s), quick (make stress
# QUICK=1, < 1 min) and full (make stress, a few minutes).
PROFILES = {
    "tiny": dict(verify_ops=3000, reader_ops=2000, reader_modes=("on",),
                 stress=[("on", 4, 4), ("off", 4, 3)], asan_seconds=0,
                 crash_modes=("on",), crash_rounds=1, crash_procs=3),
    "quick": dict(verify_ops=10000, reader_ops=5000, reader_modes=("on", "off"),
                  stress=[("on", 4, 4), ("off", 4, 4)], asan_seconds=3,
                  crash_modes=("on", "off"), crash_rounds=2, crash_procs=4),
    "full": dict(verify_ops=200000, reader_ops=50000, reader_modes=("on", "off"),
                 stress=[("on", 8, 40), ("off", 8, 40)], asan_seconds=15,
                 crash_modes=("on", "off"), crash_rounds=6, crash_procs=6),
}


class Results:
    def __init__(self):
        self.passed = self.failed = self.skipped = self.known = 0
        self.failures = []
        self.ops = 0            # operations whose results were verified
        self.bytes = 0          # bytes compared against a model
        self.processes = 0      # most client processes at once
        self.crashes = 0        # daemon kills survived
        self.bad_inputs = 0
        self.lost = 0           # bytes found wrong (must stay 0)
        self.known_lost = 0     # bytes found wrong in known bugs

    def ok(self, name, detail=""):
        self.passed += 1
        print("ok    %s%s" % (name, ("  (" + detail + ")") if detail else ""), flush=True)

    def skip(self, name, why):
        """A check that cannot run here: counted and shown, never a pass."""
        self.skipped += 1
        print("SKIP  %s: %s" % (name, why), flush=True)

    def fail(self, name, detail):
        self.failed += 1
        self.failures.append(name)
        print("FAIL  %s\n%s" % (name, indent(detail)), flush=True)

    def known_bug(self, name, bug, detail):
        """A failure that is a known daemon bug: reported, not fatal while
        the bug is open (see OPEN_BUGS)."""
        if STRICT or not bug.startswith(OPEN_BUGS):
            return self.fail(name, "[%s] %s" % (bug, detail))
        self.known += 1
        self.known_lost += lost_bytes(detail)
        print("KNOWN %s: %s (docs/RELIABILITY.md)\n%s" % (name, bug, indent(detail, 12)),
              flush=True)

    def check(self, name, cond, detail=""):
        if cond:
            self.ok(name)
        else:
            self.fail(name, detail)
        return cond

    def summary(self):
        return ("stress: %d operations verified, %d processes, %d crashes survived, "
                "%d bad inputs tried, %d bytes lost; %d passed, %d failed, %d skipped, "
                "%d known bugs%s"
                % (self.ops, self.processes, self.crashes, self.bad_inputs, self.lost,
                   self.passed, self.failed, self.skipped, self.known,
                   " (%d bytes wrong in them)" % self.known_lost if self.known_lost else ""))


def indent(text, n=6, limit=40):
    lines = text.rstrip().splitlines()
    if len(lines) > limit:
        lines = lines[:limit // 2] + ["..."] + lines[-limit // 2:]
    return "\n".join(" " * n + line for line in lines)


def run(args, timeout, **kw):
    """Run a client to completion; a hang is a failure, never a hung suite."""
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, cwd="/", **kw)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        return subprocess.CompletedProcess(args, -999, out, err + "\n(timed out after %ss)" % timeout)


# ---------------------------------------------------------------------------
# verify

def phase_verify(ctx, res):
    ops, reader_ops = ctx.p["verify_ops"], ctx.p["reader_ops"]
    for mode in ("on", "off"):
        with mount.Mount(ctx.shmfs, passthrough=mode, disk=True, tag="verify") as m:
            io = probe_io(m)
            if not res.check("verify[%s]: files are opened in %s mode" % (mode, io),
                             io == ("passthrough" if mode == "on" else "cached"),
                             "user.shmfs.io is %r" % io):
                continue
            for store, d, backing, prefix in (("shm", m.mnt, m.shm_dir, m.prefix),
                                              ("disk", m.disk, m.disk_dir, "")):
                for reader in (False, True) if mode in ctx.p["reader_modes"] else (False,):
                    seed = ctx.rng.getrandbits(32)
                    name = "verify[passthrough=%s, %s store%s] seed %d" % (
                        mode, store, ", concurrent reader" if reader else "", seed)
                    args = [ctx.bin("verify"), "--seed", str(seed), "--tag", "%d" % seed,
                            "--ops", str(reader_ops if reader else ops),
                            "--backing", backing, "--prefix", prefix]
                    if reader:
                        args.append("--reader")
                    r = run(args + [d], timeout=600)
                    verified(res, r)
                    # A failed run leaves its segments behind: remove them, so that
                    # the store check below is about the daemon.
                    if r.returncode:
                        for e in os.listdir(d):
                            if e.startswith("vfy.%d." % seed):
                                os.unlink(os.path.join(d, e))
                    if r.returncode == 0:
                        res.ok(name, last_line(r.stdout))
                    elif reader and mode == "off":
                        res.known_bug(name, "BUG-1 cached mode serves stale pages to a "
                                      "concurrent reader", r.stderr)
                    else:
                        res.lost += lost_bytes(r.stderr)
                        res.fail(name, r.stderr + r.stdout)
                    res.processes = max(res.processes, 2 if reader else 1)
            # The verifier itself: a byte changed behind its back is caught.
            seed = ctx.rng.getrandbits(32)
            r = run([ctx.bin("verify"), "--seed", str(seed), "--tag", "self", "--ops", "2000",
                     "--corrupt-at", "1000", m.mnt], timeout=120)
            res.check("verify[%s]: the verifier catches a byte changed behind its back" % mode,
                      r.returncode == 1 and "self-test read" in r.stderr,
                      "exit %s\n%s" % (r.returncode, r.stderr[-1500:]))
            for e in os.listdir(m.mnt):
                if e.startswith("vfy.self."):
                    os.unlink(m.path(e))
            check_unmount(res, m, "verify[%s]" % mode)


def lost_bytes(text):
    """How many bytes a failure report says were wrong."""
    m = re.search(r"(\d+) of \d+ bytes from there differ", text)
    if m:
        return int(m.group(1))
    return 1 if re.search(r"byte \d+ is|torn|lost write", text) else 0


def verified(res, r):
    m = re.search(r"ops=(\d+) bytes=(\d+)", r.stdout)
    if m:
        res.ops += int(m.group(1))
        res.bytes += int(m.group(2))


def last_line(text):
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def probe_io(m):
    p = m.path("probe-io")
    try:
        with open(p, "w") as f:
            f.write("x")
            f.flush()
            io = os.getxattr(p, "user.shmfs.io").decode()
        os.unlink(p)
        return io
    except OSError as e:
        return "error: %s" % e


def check_unmount(res, m, name, asan=False):
    status = m.stop()
    left = m.leftovers()
    res.check("%s: clean unmount (exit 0)" % name, status == 0,
              "daemon exit status %s\n%s" % (status, m.log_tail()))
    res.check("%s: no backing objects left behind" % name, not left,
              "left in the stores: %s" % left)
    log = open(m.log, errors="replace").read()
    bad = [line for line in log.splitlines()
           if re.search(r"AddressSanitizer|LeakSanitizer|runtime error|SUMMARY", line)]
    if asan or bad:
        res.check("%s: no sanitizer reports" % name, not bad, "\n".join(bad[:20]) + "\n" +
                  m.log_tail(60))


# ---------------------------------------------------------------------------
# stress

def start_workers(ctx, m, n, seconds, seed, extra=(), user=None, states=None):
    procs = []
    for i in range(n):
        args = [ctx.bin("worker"), "--id", str(i), "--root", m.mnt, "--disk", m.disk,
                "--seconds", str(seconds), "--seed", str(seed)] + list(extra)
        if states:
            args += ["--state", os.path.join(states, "w%d.state" % i)]
        if user:
            args = AS_NOBODY + args
        procs.append(subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      stdin=subprocess.DEVNULL, text=True, cwd="/"))
    return procs


def wait_workers(procs, timeout):
    out = []
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            o, e = p.communicate(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            o, e = p.communicate()
            e += "\n(killed: no end within the time limit)"
        out.append((p.returncode, o, e))
    return out


def worker_figures(res, results):
    for rc, o, e in results:
        m = re.search(r"ops=(\d+) bytes=(\d+)", o)
        if m:
            res.ops += int(m.group(1))
            res.bytes += int(m.group(2))
        if rc == 1:
            res.lost += lost_bytes(e)


def sanitized(binary):
    """Whether binary was built with AddressSanitizer (make asan): its RSS
    grows with the sanitizer's quarantine, so memory is not checked flat."""
    try:
        with open(binary, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def stress_run(ctx, res, shmfs, mode, nproc, seconds, tag, asan=False):
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1") if asan else None
    name = "%s[passthrough=%s, %d processes, %ss]" % (tag, mode, nproc, seconds)
    with mount.Mount(shmfs, passthrough=mode, disk=True, env=env, tag=tag) as m:
        seed = ctx.rng.getrandbits(32)
        first_fds = m.fds()
        procs = start_workers(ctx, m, nproc, seconds, seed)
        res.processes = max(res.processes, nproc)
        samples = []
        t0 = time.monotonic()
        while any(p.poll() is None for p in procs) and time.monotonic() - t0 < seconds + 120:
            samples.append((time.monotonic() - t0, m.rss_kib(), m.fds(), m.threads()))
            time.sleep(0.25)
        results = wait_workers(procs, 60)
        worker_figures(res, results)
        bad = [(i, rc, e) for i, (rc, o, e) in enumerate(results) if rc != 0]
        res.check("%s seed %d: every worker verified its data, no unexpected errors" % (name, seed),
                  not bad, "\n".join("worker %d exit %s:\n%s" % (i, rc, e) for i, rc, e in bad))
        # Shared names are everyone's: the last one out removes them.
        for d in (m.mnt, m.disk):
            for e in os.listdir(d):
                if e.startswith("shared."):
                    os.unlink(os.path.join(d, e))
        # RELEASE and FORGET reach the daemon a moment after the last close.
        for _ in range(20):
            time.sleep(0.1)
            if m.fds() <= first_fds + 1:
                break
        end_rss, end_fds = m.rss_kib(), m.fds()
        if not asan and not sanitized(shmfs) and samples:
            # Warm-up: threads and arenas appear in the first part of the run.
            # The thread count is shown: libfuse adding workers late would
            # explain growth that is not a leak.
            warm = [s for s in samples if s[0] >= seconds * 0.3] or samples
            base = warm[0][1]
            peak = max(s[1] for s in warm)
            grow = peak - base
            res.check("%s: daemon memory flat (RSS %d KiB after warm-up, peak %d, end %d KiB, "
                      "%d threads -> %d)" % (name, base, peak, end_rss, warm[0][3],
                                             max(s[3] for s in warm)),
                      grow <= max(4096, base // 4),
                      "RSS grew by %d KiB over the run: %s" % (grow, samples[::max(1, len(samples) // 12)]))
            res.check("%s: daemon fds back to where they started (%d -> %d)"
                      % (name, first_fds, end_fds), end_fds <= first_fds + 2,
                      "the daemon holds %d fds, %d at the start"
                      % (end_fds, first_fds))
        check_unmount(res, m, name, asan=asan)


def phase_stress(ctx, res):
    for mode, n, secs in ctx.p["stress"]:
        stress_run(ctx, res, ctx.shmfs, mode, n, secs, "stress")


def phase_asan(ctx, res):
    if not ctx.asan_shmfs or not os.access(ctx.asan_shmfs, os.X_OK):
        res.fail("asan", "no sanitizer build of the daemon at %s" % ctx.asan_shmfs)
        return
    secs = ctx.p["asan_seconds"]
    for mode in ("on", "off"):
        stress_run(ctx, res, ctx.asan_shmfs, mode, 4, secs, "asan-stress", asan=True)


# ---------------------------------------------------------------------------
# crash

def namespace_diff(m):
    """Differences between what the mount shows and what the stores hold, and
    the half-made objects: (problems, [(backing path, why)])."""
    problems, half = [], []

    def listing(root, prefix=""):
        out = {}
        for e in os.listdir(root):
            if prefix and not e.startswith(prefix):
                continue
            st = os.lstat(os.path.join(root, e))
            out[e[len(prefix):]] = (st.st_mode & 0o170000, st.st_size if not os.path.isdir(
                os.path.join(root, e)) else 0, st.st_uid)
        return out

    for shown, store, prefix in ((m.mnt, m.shm_dir, m.prefix), (m.disk, m.disk_dir, "")):
        a, b = listing(shown), listing(store, prefix)
        if shown == m.mnt:
            a.pop("disk", None)
            b.pop("disk", None)
        for n in sorted(set(a) | set(b)):
            if n not in a:
                problems.append("%s/%s is in the store but not shown" % (shown, n))
            elif n not in b:
                problems.append("%s/%s is shown but not in the store" % (shown, n))
            elif a[n] != b[n]:
                problems.append("%s/%s: shown as %s, the store has %s" % (shown, n, a[n], b[n]))
            elif n.startswith("p") and a[n][2] != NOBODY:
                half.append((os.path.join(store, prefix + n), "%s/%s: owner %d, not the "
                             "creator %d" % (shown, n, a[n][2], NOBODY)))
    return problems, half


def half_made_repro(ctx, res):
    """BUG-3, deterministically: the daemon runs under strace, which holds
    every fchown(), fchownat() and linkat() for 3 s (the steps that give a
    new segment its owner and its name); a segment is created by uid 65534
    and the daemon killed during the hold. After a remount the segment must be the
    creator's, or not there at all."""
    import shutil
    name = "crash: a create cut by a kill leaves no half-made segment"
    strace = shutil.which("strace")
    if not strace:
        res.skip(name, "no strace (scripts/deps installs it)")
        return
    m = mount.Mount(ctx.shmfs, passthrough="on", options=["allow_other"], world=True, tag="half")
    try:
        m.wrapper = [strace, "-f", "-qq", "-o", "/dev/null",
                     "-e", "inject=fchown,fchownat,linkat:delay_enter=3000000"]
        m.start()
        client = subprocess.Popen(AS_NOBODY + ["/bin/sh", "-c", "umask 022; : > '%s'"
                                               % m.path("half")], stderr=subprocess.PIPE)
        time.sleep(1.0)
        daemon = [int(c) for t in os.listdir("/proc/%d/task" % m.pid)
                  for c in open("/proc/%d/task/%s/children" % (m.pid, t)).read().split()]
        for pid in daemon:
            os.kill(pid, 9)
        m.kill9(detach=False)
        client.wait(timeout=30)
        m.detach()
        m.wrapper = []
        m.start()
        p = m.backing("half")
        if not os.path.exists(p):
            res.ok(name + " (it is not there)")
        else:
            st = os.stat(p)
            if st.st_uid == NOBODY:
                res.ok(name + " (it is the creator's)")
            else:
                res.known_bug(name, "BUG-3 a segment created when the daemon is killed is left "
                              "owned by root", "%s: uid %d gid %d mode %04o, created by uid %d"
                              % (p, st.st_uid, st.st_gid, st.st_mode & 0o7777, NOBODY))
            os.unlink(p)
        check_unmount(res, m, "crash[half-made]")
    except (mount.MountError, OSError, subprocess.TimeoutExpired) as e:
        res.fail(name, "%s: %s" % (type(e).__name__, e))
    finally:
        m.cleanup()


def phase_crash(ctx, res):
    half_made_repro(ctx, res)
    for mode in ctx.p["crash_modes"]:
        crash_mode(ctx, res, mode, ctx.p["crash_rounds"], ctx.p["crash_procs"])


def crash_mode(ctx, res, mode, rounds, nproc):
    name = "crash[passthrough=%s]" % mode
    states = tempfile.mkdtemp(prefix="shmfs-crash-state-")
    os.chmod(states, 0o777)
    m = mount.Mount(ctx.shmfs, passthrough=mode, disk=True, options=["allow_other"],
                    world=True, tag="crash")
    writer = None
    try:
        m.start()
        if mode == "on":
            stop = os.path.join(states, "map_writer.stop")
            writer = subprocess.Popen([ctx.bin("map_writer"), m.path("held"), stop],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            writer.stdout.readline()
        seed = ctx.rng.getrandbits(32)
        for rnd in range(rounds):
            procs = start_workers(ctx, m, nproc, 30, seed + rnd, user="nobody", states=states)
            res.processes = max(res.processes, nproc + (1 if writer else 0))
            time.sleep(ctx.rng.uniform(0.3, 2.5))
            m.kill9(detach=False)
            results = wait_workers(procs, 60)
            m.detach()
            worker_figures(res, results)
            bad = [(i, rc, e) for i, (rc, o, e) in enumerate(results) if rc not in (0, 3)]
            if not res.check("%s round %d (seed %d): workers stopped cleanly at the kill"
                             % (name, rnd + 1, seed + rnd), not bad,
                             "\n".join("worker %d exit %s:\n%s" % (i, rc, e) for i, rc, e in bad)):
                return
            m.start()
            problems, half = namespace_diff(m)
            if not res.check("%s round %d: after remount the namespace matches the stores"
                             % (name, rnd + 1), not problems, "\n".join(problems)):
                return
            if half:
                res.known_bug("%s round %d: no half-made objects" % (name, rnd + 1),
                              "BUG-3 a segment created when the daemon is killed is left "
                              "owned by root", "\n".join(why for _, why in half) +
                              "\n(given to its creator, as the daemon should have, to go on)")
                for path, _ in half:
                    os.chown(path, NOBODY, NOBODY)
            else:
                res.ok("%s round %d: no half-made objects" % (name, rnd + 1))
            res.crashes += 1
        # The last round: check everything once more, then remove it all.
        procs = start_workers(ctx, m, nproc, 0, seed, extra=["--final"], user="nobody",
                              states=states)
        results = wait_workers(procs, 60)
        worker_figures(res, results)
        bad = [(i, rc, e) for i, (rc, o, e) in enumerate(results) if rc != 0]
        res.check("%s: after %d crashes every segment holds what was written or msynced"
                  % (name, rounds), not bad,
                  "\n".join("worker %d exit %s:\n%s" % (i, rc, e) for i, rc, e in bad))
        if writer:
            open(stop, "w").close()
            try:
                o, e = writer.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                writer.kill()
                o, e = writer.communicate()
            last = re.search(r"last=(\d+)", o)
            ok = writer.returncode == 0 and last
            detail = "map_writer exit %s: %s %s" % (writer.returncode, o, e)
            if ok:
                want = int(last.group(1))
                raw = open(m.backing("held"), "rb").read()
                via = open(m.path("held"), "rb").read()
                got = [int.from_bytes(raw[i * 4096:i * 4096 + 8], "little") for i in range(16)]
                tail = int.from_bytes(raw[-8:], "little")
                ok = all(g == want for g in got) and tail == want and via == raw
                detail = "last value %d; the backing holds %s and %d; via the mount %s" % (
                    want, got, tail, "the same" if via == raw else "different")
            res.check("%s: a process that mapped a segment before %d daemon kills kept "
                      "working, and its data is in the store" % (name, rounds), ok, detail)
            writer = None
            os.unlink(m.path("held"))
        check_unmount(res, m, name)
    except mount.MountError as e:
        res.fail(name, str(e))
    finally:
        if writer and writer.poll() is None:
            writer.kill()
            writer.wait()
        m.cleanup()
        subprocess.run(["rm", "-rf", states])


# ---------------------------------------------------------------------------

class Context:
    def __init__(self, a):
        self.shmfs = os.path.abspath(a.shmfs)
        self.asan_shmfs = os.path.abspath(a.asan_shmfs) if a.asan_shmfs else None
        self.bindir = os.path.abspath(a.bin)
        self.quick = a.quick or a.tiny
        self.p = PROFILES["tiny" if a.tiny else "quick" if a.quick else "full"]
        self.seed = a.seed if a.seed is not None else random.getrandbits(32)
        self.rng = random.Random(self.seed)

    def bin(self, name):
        return os.path.join(self.bindir, name)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shmfs", required=True)
    ap.add_argument("--asan-shmfs")
    ap.add_argument("--bin", required=True, help="where verify, worker and map_writer are")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--tiny", action="store_true", help="the subset of tests/stress/quick")
    ap.add_argument("--phases", default="verify,stress,asan,crash,perms,badinput")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--figures", help="write the figures of this run here")
    ap.add_argument("--uring", action="store_true", default=mount.URING,
                    help="every mount over FUSE io_uring (also STRESS_URING=1)")
    a = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("stress: needs root (FUSE passthrough, unprivileged clients)")
        return 1
    if not a.uring:
        return run_phases(a)
    mount.URING = True
    with mount.uring_param("Y") as present:
        if not present:
            print("stress: --uring: the kernel has no FUSE over io_uring (no enable_uring)")
            return 1
        print("stress: every mount over FUSE io_uring (io_uring=on)", flush=True)
        return run_phases(a)


def run_phases(a):
    ctx = Context(a)
    res = Results()
    print("stress: seed %d%s (run.py --seed %d replays the same choices)"
          % (ctx.seed, " quick" if ctx.quick else "", ctx.seed), flush=True)
    t0 = time.monotonic()
    import perms
    import badinput
    phases = {"verify": phase_verify, "stress": phase_stress, "asan": phase_asan,
              "crash": phase_crash, "perms": perms.phase_perms,
              "badinput": badinput.phase_badinput}
    for p in a.phases.split(","):
        if p not in phases:
            print("stress: no phase %r (have %s)" % (p, ", ".join(phases)))
            return 2
        print("--- %s" % p, flush=True)
        try:
            phases[p](ctx, res)
        except (mount.MountError, OSError) as e:
            # e.g. a client program that was not built: the phase fails,
            # the others still run and the summary is still printed
            res.fail(p, "%s: %s" % (type(e).__name__, e))
    elapsed = time.monotonic() - t0
    if a.figures:
        os.makedirs(os.path.dirname(os.path.abspath(a.figures)), exist_ok=True)
        with open(a.figures, "w") as f:
            f.write("date: %s\nseed: %d\nquick: %s\nseconds: %.0f\noperations verified: %d\n"
                    "bytes verified: %d\nprocesses: %d\ncrashes survived: %d\n"
                    "bad inputs tried: %d\nbytes lost: %d\npassed: %d\nfailed: %d\nskipped: %d\n"
                    "known: %d\n"
                    % (time.strftime("%Y-%m-%d %H:%M:%S"), ctx.seed, ctx.quick, elapsed, res.ops,
                       res.bytes, res.processes, res.crashes, res.bad_inputs, res.lost,
                       res.passed, res.failed, res.skipped, res.known))
    if res.failures:
        print("failed: %s" % "; ".join(res.failures))
    print("%s (%.0f s)" % (res.summary(), elapsed))
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
