/* bench.h: the shmfs benchmark's harness and its operations.
 *
 * Every operation runs on two targets in turn: a directory of a shmfs mount
 * and the mount's own shm_dir (the tmpfs that backs it, the physical limit).
 * The harness interleaves the two, repeats, and reports medians; an
 * operation only says how to do itself once on one target. */
#ifndef SHMFS_BENCH_H
#define SHMFS_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MIB (1024.0 * 1024.0)
#define GIB (1024.0 * MIB)

/* Where one side of the comparison lives. Both sides may share a directory
 * (the shm_dir holds the mount's backing objects): prefix keeps their names
 * apart. */
struct target {
	const char *label;  /* "shmfs" or "tmpfs" */
	const char *dir;
	const char *prefix; /* put before every name this side makes */
	pid_t daemon;       /* the shmfs daemon serving dir, or 0 */
};

/* Sizes and counts; --quick makes them small. */
struct params {
	size_t seq_size;     /* bytes of the sequential mmap and read/write runs */
	size_t rand_size;    /* bytes of the file random I/O runs over */
	long rand_reads;     /* random 4 KiB preads per run */
	long rand_writes;    /* random 4 KiB pwrites per run */
	long spin_trips;     /* ping-pong round trips, spinning */
	long futex_trips;    /* ping-pong round trips, futex */
	double pong_seconds; /* ... or as many as fit in this time */
	long opens;          /* open+mmap+munmap+close per run */
	long meta_count;     /* segments of the metadata runs */
	long scale_count;    /* segments mapped at once in the scale run */
	size_t scale_size;   /* bytes of each of them */
	double attr_timeout; /* the mount's attribute timeout, seconds */
	int reps;            /* runs per target; the median is reported */
	int reps_slow;       /* the same for the slow runs (many segments) */
};

#define BENCH_MAX_METRICS 4
#define BENCH_MAX_NOTES 8

struct metric {
	const char *name;
	const char *unit;
	int higher_is_better;
};

/* One run of an operation on one target: what it measured, in the order of
 * its metrics, and notes (a daemon's memory, say) kept beside them. */
struct run {
	const struct target *t;
	const struct params *p;
	double value[BENCH_MAX_METRICS];
	const char *note_key[BENCH_MAX_NOTES];
	double note[BENCH_MAX_NOTES];
	int nnotes;
};

struct bench {
	const char *id; /* for --only */
	struct metric metrics[BENCH_MAX_METRICS];
	/* Fills r->value[]; 0, or -1 after saying why on stderr. Untimed set-up
	 * and clean-up happen inside: a run leaves nothing behind. */
	int (*run)(struct run *r);
	/* Instead of run: both targets in one go, phase by phase (first's
	 * phase, then second's), for operations that must wait between
	 * phases. Returns 0, or -1 when either failed (its values are NAN). */
	int (*run_pair)(struct run *first, struct run *second);
	int slow; /* repeated reps_slow times, not reps */
};

/* bench.c: helpers for the operations. */
double now(void);

/* tlb.c: "bench tlb FILE SIZE ACCESSES" (argv[0] is "tlb"). */
int bench_tlb_main(int argc, char **argv);
/* "DIR/PREFIXname" of t, name made as by printf. The buffer is static: use
 * the path before asking for another. */
const char *bench_path(const struct target *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void run_note(struct run *r, const char *key, double value);
int bench_fail(const char *what, const char *path);
/* VmRSS of pid in KiB, or -1. */
long proc_rss_kib(pid_t pid);
/* Threads of pid, or -1. */
long proc_threads(pid_t pid);
/* Open fds of pid, or -1. */
long proc_fd_count(pid_t pid);

/* ops_data.c and ops_meta.c */
extern const struct bench bench_data[];
extern const size_t bench_data_count;
extern const struct bench bench_meta[];
extern const size_t bench_meta_count;

#endif
