/* ops_meta.c: opens, metadata over many segments, and many segments mapped
 * at once. */
#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define META_SIZE (64 * 1024)

static void sleep_seconds(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* What a program does to reach a segment that exists: open it by name, map
 * it, and let go of both. */
static int run_open_map(struct run *r)
{
	const char *path = bench_path(r->t, "openmap");
	long n = r->p->opens;
	double t0, t1;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return bench_fail("open", path);
	if (ftruncate(fd, META_SIZE)) {
		bench_fail("ftruncate", path);
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	t0 = now();
	for (long i = 0; i < n; i++) {
		void *p;

		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			bench_fail("open", path);
			unlink(path);
			return -1;
		}
		p = mmap(NULL, META_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			bench_fail("mmap", path);
			close(fd);
			unlink(path);
			return -1;
		}
		munmap(p, META_SIZE);
		close(fd);
	}
	t1 = now();
	unlink(path);
	r->value[0] = n / 1e3 / (t1 - t0);
	return 0;
}

static int meta_create(const struct target *t, long n)
{
	for (long i = 0; i < n; i++) {
		const char *path = bench_path(t, "meta-%ld", i);
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

		if (fd < 0)
			return bench_fail("create", path);
		if (ftruncate(fd, META_SIZE)) {
			bench_fail("ftruncate", path);
			close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

static int meta_stat(const struct target *t, long first, long n)
{
	struct stat st;

	for (long i = first; i < first + n; i++) {
		const char *path = bench_path(t, "meta-%ld", i);

		if (stat(path, &st))
			return bench_fail("stat", path);
		if (st.st_size != META_SIZE) {
			fprintf(stderr, "bench: stat %s: size %lld, not %d\n", path,
				(long long)st.st_size, META_SIZE);
			return -1;
		}
	}
	return 0;
}

static int meta_unlink(const struct target *t, long n, int quiet)
{
	int rc = 0;

	for (long i = 0; i < n; i++) {
		const char *path = bench_path(t, "meta-%ld", i);

		if (unlink(path) && !quiet)
			rc = bench_fail("unlink", path);
	}
	return rc;
}

/* Chunks of the stat runs: a chunk is stat'ed twice in a row, so that its
 * second stat comes well within the attribute timeout of its first. */
#define STAT_CHUNK 500

/* stat every segment once the attribute timeout has passed since it was
 * made (so that every stat asks the daemon again), then at once again, while
 * the kernel may trust what it was just told. */
static int meta_stat_twice(struct run *r)
{
	long n = r->p->meta_count;
	double cold = 0, warm = 0;

	for (long i = 0; i < n; i += STAT_CHUNK) {
		long len = n - i < STAT_CHUNK ? n - i : STAT_CHUNK;
		double t0 = now(), t1, t2;

		if (meta_stat(r->t, i, len))
			return -1;
		t1 = now();
		if (meta_stat(r->t, i, len))
			return -1;
		t2 = now();
		cold += t1 - t0;
		warm += t2 - t1;
	}
	r->value[1] = n / 1e3 / warm;
	r->value[2] = n / 1e3 / cold;
	return 0;
}

/* open+close of an existing segment, the cheapest thing a program does
 * to one by name. */
static int run_open_close(struct run *r)
{
	const char *path = bench_path(r->t, "openclose");
	long n = r->p->opens;
	double t0;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return bench_fail("open", path);
	close(fd);
	t0 = now();
	for (long i = 0; i < n; i++) {
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			bench_fail("open", path);
			unlink(path);
			return -1;
		}
		close(fd);
	}
	r->value[0] = n / 1e3 / (now() - t0);
	unlink(path);
	return 0;
}

/* mkdir+rmdir of one name, and rename of a segment back and forth. */
static int run_dirs(struct run *r)
{
	const char *dir = bench_path(r->t, "dir");
	char a[4096], b[4096];
	long n = r->p->opens;
	double t0;
	int fd;

	t0 = now();
	for (long i = 0; i < n; i++) {
		if (mkdir(dir, 0700))
			return bench_fail("mkdir", dir);
		if (rmdir(dir))
			return bench_fail("rmdir", dir);
	}
	r->value[0] = n / 1e3 / (now() - t0);
	snprintf(a, sizeof(a), "%s", bench_path(r->t, "rename-a"));
	snprintf(b, sizeof(b), "%s", bench_path(r->t, "rename-b"));
	fd = open(a, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return bench_fail("create", a);
	close(fd);
	t0 = now();
	for (long i = 0; i < n; i += 2) {
		if (rename(a, b) || rename(b, a)) {
			bench_fail("rename", a);
			unlink(a);
			unlink(b);
			return -1;
		}
	}
	r->value[1] = n / 1e3 / (now() - t0);
	unlink(a);
	return 0;
}

#define READDIR_ENTRIES 1000

/* A directory of 1000 segments listed again and again (opendir, readdir
 * to the end, closedir). */
static int run_readdir(struct run *r)
{
	const char *dir = bench_path(r->t, "listing");
	char path[4096];
	long n = r->p->opens / 20, seen = 0;
	double t0;
	int rc = 0;

	if (mkdir(dir, 0700))
		return bench_fail("mkdir", dir);
	for (int i = 0; i < READDIR_ENTRIES && !rc; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/entry-%d", dir, i);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			rc = bench_fail("create", path);
		else
			close(fd);
	}
	t0 = now();
	for (long i = 0; i < n && !rc; i++) {
		DIR *d = opendir(dir);

		if (!d) {
			rc = bench_fail("opendir", dir);
			break;
		}
		while (readdir(d))
			seen++;
		closedir(d);
	}
	if (!rc)
		r->value[0] = (now() - t0) * 1e6 / (double)n;
	if (!rc && seen != n * (READDIR_ENTRIES + 2)) {
		fprintf(stderr, "bench: readdir %s: %ld entries in %ld listings\n", dir, seen, n);
		rc = -1;
	}
	for (int i = 0; i < READDIR_ENTRIES; i++) {
		snprintf(path, sizeof(path), "%s/entry-%d", dir, i);
		unlink(path);
	}
	rmdir(dir);
	return rc;
}

/* Over meta_count segments, phase by phase on both targets: create +
 * ftruncate + close; stat, twice; unlink. The wait for the attribute timeout
 * of one side is spent on the other side's work. */
static int run_metadata(struct run *a, struct run *b)
{
	struct run *r[2] = { a, b };
	double made[2], value[2][BENCH_MAX_METRICS];
	long n = a->p->meta_count;
	int ok[2] = { 1, 1 };

	for (int i = 0; i < 2; i++) {
		double t0 = now();

		ok[i] = meta_create(r[i]->t, n) == 0;
		made[i] = now();
		value[i][0] = n / 1e3 / (made[i] - t0);
	}
	for (int i = 0; i < 2; i++) {
		double wait = made[i] + r[i]->p->attr_timeout + 0.1 - now();

		if (!ok[i])
			continue;
		if (wait > 0)
			sleep_seconds(wait);
		ok[i] = meta_stat_twice(r[i]) == 0;
		value[i][1] = r[i]->value[1];
		value[i][2] = r[i]->value[2];
	}
	for (int i = 0; i < 2; i++) {
		double t0 = now();

		if (ok[i]) {
			ok[i] = meta_unlink(r[i]->t, n, 0) == 0;
			value[i][3] = n / 1e3 / (now() - t0);
		}
		if (!ok[i])
			meta_unlink(r[i]->t, n, 1);
		for (int m = 0; m < 4; m++)
			r[i]->value[m] = ok[i] ? value[i][m] : NAN;
	}
	return ok[0] && ok[1] ? 0 : -1;
}

/* Many segments in use at once: each created, sized, mapped and written
 * (one byte a page), its fd closed while the mapping stays, as a program
 * that holds many shared buffers does. The daemon's memory is noted while
 * all are mapped; tearing them down (munmap, unlink) is timed apart. */
static int run_scale(struct run *r)
{
	size_t size = r->p->scale_size;
	long n = r->p->scale_count, made = 0;
	char **maps = calloc((size_t)n, sizeof(*maps));
	double t0, t1, t2;
	int rc = -1, err = 0;

	if (!maps)
		return -1;
	if (r->t->daemon)
		run_note(r, "daemon_rss_idle_kib", (double)proc_rss_kib(r->t->daemon));
	t0 = now();
	for (; made < n; made++) {
		const char *path = bench_path(r->t, "scale-%ld", made);
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		char *p;

		if (fd < 0) {
			err = errno;
			bench_fail("create", path);
			goto out;
		}
		if (ftruncate(fd, (off_t)size)) {
			err = errno;
			bench_fail("ftruncate", path);
			close(fd);
			goto out;
		}
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		err = errno;
		close(fd);
		if (p == MAP_FAILED) {
			errno = err;
			bench_fail("mmap", path);
			goto out;
		}
		for (size_t off = 0; off < size; off += 4096)
			p[off] = 1;
		maps[made] = p;
	}
	t1 = now();
	rc = 0;
out:
	if (r->t->daemon) {
		run_note(r, "daemon_rss_kib", (double)proc_rss_kib(r->t->daemon));
		run_note(r, "daemon_fds", (double)proc_fd_count(r->t->daemon));
		run_note(r, "daemon_threads", (double)proc_threads(r->t->daemon));
	}
	if (rc) {
		fprintf(stderr, "bench: %s: %ld of %ld segments were mapped\n", r->t->label, made, n);
		run_note(r, "mapped_before_failure", (double)made);
		run_note(r, "failure_errno", (double)err);
		/* What failed goes too: a failed create may leave its object. */
		unlink(bench_path(r->t, "scale-%ld", made));
	}
	t2 = now();
	for (long i = 0; i < made; i++) {
		munmap(maps[i], size);
		unlink(bench_path(r->t, "scale-%ld", i));
	}
	free(maps);
	if (rc == 0) {
		r->value[0] = n / (t1 - t0);
		r->value[1] = n / (now() - t2);
	}
	return rc;
}

const struct bench bench_meta[] = {
	{ .id = "open-map",
	  .metrics = { { "open+mmap+munmap+close, existing segment", "kops/s", 1 } },
	  .run = run_open_map },
	{ .id = "open-close",
	  .metrics = { { "open+close, existing segment", "kops/s", 1 } },
	  .run = run_open_close },
	{ .id = "dirs",
	  .metrics = { { "mkdir+rmdir", "kops/s", 1 },
		       { "rename, back and forth", "kops/s", 1 } },
	  .run = run_dirs },
	{ .id = "readdir",
	  .metrics = { { "readdir of 1000 entries", "us", 0 } },
	  .run = run_readdir },
	{ .id = "metadata",
	  .metrics = { { "create+ftruncate+close", "kops/s", 1 },
		       { "stat, attributes cached", "kops/s", 1 },
		       { "stat, after attr_timeout", "kops/s", 1 },
		       { "unlink", "kops/s", 1 } },
	  .run_pair = run_metadata, .slow = 1 },
	{ .id = "scale",
	  .metrics = { { "scale: create+map+touch 64 KiB segments, all mapped", "segments/s", 1 },
		       { "scale: munmap+unlink them", "segments/s", 1 } },
	  .run = run_scale, .slow = 1 },
};

const size_t bench_meta_count = sizeof(bench_meta) / sizeof(bench_meta[0]);
