#!/usr/bin/env python3
"""Run the libFuzzer targets for a bounded time, keep what they find.

    run.py --bin build/fuzz --seconds 60 config names

Each target fuzzes (all at once, one per core) for SECONDS from its seed corpus
tests/fuzz/corpus/TARGET (the working corpus, which grows, is BIN/corpus/TARGET:
the repository's corpus stays small). A crash, leak, timeout or OOM input is
copied to tests/fuzz/regressions/TARGET/ (so that it stays a regression test)
and fails the run. Then every regression input is replayed through its target.
Last line: "fuzz: N executions, N targets, N corpus inputs, N regressions
replayed, N crashes".
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# Config lines are at most 199 characters, names at most NAME_MAX: longer
# inputs only slow the search (config validation is quadratic, BUG-5).
MAX_LEN = {"config": 1024, "names": 600}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("targets", nargs="+")
    a = ap.parse_args()
    bindir = os.path.abspath(a.bin)
    secs = max(1, a.seconds)
    procs = {}
    for t in a.targets:
        work = os.path.join(bindir, "corpus", t)
        arts = os.path.join(bindir, "artifacts", t) + "/"
        shutil.rmtree(arts, ignore_errors=True)
        os.makedirs(work, exist_ok=True)
        os.makedirs(arts, exist_ok=True)
        seed = os.path.join(HERE, "corpus", t)
        args = [os.path.join(bindir, "fuzz_" + t), "-max_total_time=%d" % secs,
                "-print_final_stats=1", "-timeout=10", "-rss_limit_mb=2048",
                "-max_len=%d" % MAX_LEN.get(t, 4096),
                "-artifact_prefix=" + arts, work, seed]
        d = os.path.join(HERE, t + ".dict")
        if os.path.exists(d):
            args.insert(1, "-dict=" + d)
        log = open(os.path.join(bindir, "fuzz_%s.log" % t), "w")
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
        procs[t] = (subprocess.Popen(args, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                     env=env), log)
    execs = corpus = crashes = replayed = 0
    failed = []
    for t, (p, log) in procs.items():
        try:
            p.wait(timeout=secs + 240)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()
        text = open(log.name, errors="replace").read()
        m = re.search(r"stat::number_of_executed_units:\s*(\d+)", text)
        n = int(m.group(1)) if m else 0
        execs += n
        found = sorted(glob.glob(os.path.join(bindir, "artifacts", t, "*")))
        corpus += len(os.listdir(os.path.join(bindir, "corpus", t)))
        keep = os.path.join(HERE, "regressions", t)
        for f in found:
            os.makedirs(keep, exist_ok=True)
            shutil.copy(f, keep)
            print("fuzz %s: %s kept as %s/%s" % (t, os.path.basename(f), keep,
                                                 os.path.basename(f)))
        crashes += len(found)
        if p.returncode != 0 or found:
            failed.append(t)
            tail = "\n".join(text.splitlines()[-40:])
            print("fuzz %s: FAILED (exit %s)\n%s" % (t, p.returncode, tail))
        else:
            print("fuzz %s: %d executions in %d s, no crash" % (t, n, secs))
    for t in a.targets:
        inputs = glob.glob(os.path.join(HERE, "regressions", t, "*"))
        if not inputs:
            continue
        r = subprocess.run([os.path.join(bindir, "fuzz_" + t)] + sorted(inputs),
                           capture_output=True, text=True, timeout=300)
        replayed += len(inputs)
        if r.returncode != 0:
            failed.append(t + " (regressions)")
            print("fuzz %s: a regression input crashes:\n%s" % (t, r.stderr[-3000:]))
    with open(os.path.join(bindir, "figures.txt"), "w") as f:
        f.write("executions: %d\nseconds: %d\ntargets: %d\ncorpus: %d\nregressions: %d\n"
                "crashes: %d\n" % (execs, secs, len(a.targets), corpus, replayed, crashes))
    print("fuzz: %d executions, %d targets, %d corpus inputs, %d regressions replayed, "
          "%d crashes%s" % (execs, len(a.targets), corpus, replayed, crashes,
                            "; FAILED: " + ", ".join(failed) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
