#!/usr/bin/env python3
"""Run the shmfs integration suite once per data-path mode.

    SHMFS=/abs/build/shmfs SHMFS_HELPERS=/abs/build/tests python3 tests/integration/run.py
        [-k PATTERN]... [--mode cached|passthrough] [--uring]

cached (passthrough=off) always runs; passthrough (passthrough=on) runs when a
probe mount with passthrough=on works and reports user.shmfs.io "passthrough";
when it does not, one line says why and each of its tests counts as skipped.
The last line is "integration: N passed, N failed, N skipped"; the exit
status is nonzero when anything failed.

--uring runs the suite over FUSE io_uring: every mount gets io_uring=on, and
the fuse module's enable_uring is Y for the run (set back afterwards). Where
the kernel has no such parameter, nothing runs and the line says why.
"""

import argparse
import contextlib
import os
import signal
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402


class ModeResult(unittest.TextTestResult):
    """Verbose lines that say which mode a test ran in."""

    run_mode = "cached"

    def getDescription(self, test):
        return "[%s] %s" % (self.run_mode, test.id())


def probe_passthrough():
    """None when passthrough mode can be tested here, else why not."""
    m = harness.Mount(passthrough="on")
    try:
        m.start()
        r = harness.sh("echo probe > '%s'" % m.path("probe"))
        if r.returncode != 0:
            return "cannot create a file in a passthrough=on mount: %s" % r.stderr.strip()
        io = harness.getfattr(m.path("probe"), "user.shmfs.io")
        if io != "passthrough":
            return "a file in a passthrough=on mount reports user.shmfs.io = %r" % io
        return None
    except AssertionError as e:
        return "a mount with passthrough=on failed: %s" % " | ".join(
            line for line in str(e).splitlines()[:3] if line)
    finally:
        try:
            m.stop()
        except AssertionError:
            pass


def load(patterns):
    """The suite: every test_*.py, only the tests matching patterns if any."""
    loader = unittest.TestLoader()
    if patterns:
        loader.testNamePatterns = ["*%s*" % p for p in patterns]
    return loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)


def run_mode(mode, patterns):
    os.environ["SHMFS_TEST_MODE"] = mode
    suite = load(patterns)
    ModeResult.run_mode = mode
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=ModeResult)
    result = runner.run(suite)
    failed = {t.id() for t, _ in result.failures + result.errors}
    failed |= {t.id() for t in result.unexpectedSuccesses}
    skipped = {t.id() for t, _ in result.skipped} - failed
    passed = result.testsRun - len(failed) - len(skipped)
    return passed, len(failed), len(skipped)


def check_environment():
    problems = []
    if not harness.SHMFS or not os.access(harness.SHMFS, os.X_OK):
        problems.append("SHMFS=%r is not an executable" % harness.SHMFS)
    if not harness.HELPERS or not os.path.isdir(harness.HELPERS):
        problems.append("SHMFS_HELPERS=%r is not a directory" % harness.HELPERS)
    if os.geteuid() != 0:
        problems.append("the integration tests mount and switch users: run them as root")
    if not os.path.exists("/dev/fuse"):
        problems.append("/dev/fuse is missing")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-k", dest="patterns", action="append", default=[],
                    help="only tests whose id contains PATTERN (fnmatch)")
    ap.add_argument("--mode", choices=("cached", "passthrough"),
                    help="run one mode only")
    ap.add_argument("--uring", action="store_true",
                    help="every mount over FUSE io_uring (io_uring=on)")
    args = ap.parse_args()

    # make's timeout sends SIGTERM: still unmount what is mounted
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    problems = check_environment()
    if problems:
        for p in problems:
            print("integration: %s" % p)
        print("integration: 0 passed, 1 failed, 0 skipped")
        return 1

    with contextlib.ExitStack() as stack:
        if args.uring:
            os.environ["SHMFS_TEST_URING"] = "1"
            if not stack.enter_context(harness.uring_param("Y")):
                print("integration: --uring skipped: the kernel has no %s (FUSE over io_uring "
                      "needs Linux 6.14+)" % harness.URING_PARAM)
                print("integration: 0 passed, 0 failed, 1 skipped")
                return 0
        return run_modes(args)


def run_modes(args):
    totals = [0, 0, 0]
    try:
        modes = ["cached", "passthrough"] if args.mode is None else [args.mode]
        for mode in modes:
            if mode == "passthrough":
                why = probe_passthrough()
                if why:
                    n = load(args.patterns).countTestCases()
                    print("integration: passthrough mode skipped (%d tests): %s" % (n, why),
                          flush=True)
                    totals[2] += n
                    continue
            print("== %s mode ==" % mode, flush=True)
            for i, n in enumerate(run_mode(mode, args.patterns)):
                totals[i] += n
    finally:
        harness.sweep()

    print("integration: %d passed, %d failed, %d skipped" % tuple(totals), flush=True)
    return 1 if totals[1] else 0


if __name__ == "__main__":
    sys.exit(main())
