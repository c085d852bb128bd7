/* ops_data.c: the data path: mmap, read/write, random I/O, ping-pong. */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define IO_CHUNK (1024 * 1024)
#define RAND_BLOCK 4096

/* A new segment of size bytes, open read-write. */
static int segment_create(const char *path, size_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return bench_fail("open", path);
	if (ftruncate(fd, (off_t)size)) {
		bench_fail("ftruncate", path);
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

static void *map(int fd, size_t size, const char *path)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED) {
		bench_fail("mmap", path);
		return NULL;
	}
	return p;
}

static void segment_drop(int fd, const char *path)
{
	close(fd);
	unlink(path);
}

/* Reads every word, so that the compiler cannot skip the loads. */
static uint64_t sum_words(const void *p, size_t size)
{
	const uint64_t *w = p;
	uint64_t s = 0;

	for (size_t i = 0; i < size / sizeof(*w); i++)
		s += w[i];
	return s;
}

static volatile uint64_t sink;

/* Fresh pages: every page is allocated (and zeroed) by its first write. */
static int run_mmap_first_touch(struct run *r)
{
	size_t size = r->p->seq_size;
	const char *path = bench_path(r->t, "mmap-fresh");
	int fd = segment_create(path, size);
	double t0, t1;
	char *p;

	if (fd < 0)
		return -1;
	p = map(fd, size, path);
	if (!p) {
		segment_drop(fd, path);
		return -1;
	}
	t0 = now();
	memset(p, 0x5a, size);
	t1 = now();
	munmap(p, size);
	segment_drop(fd, path);
	r->value[0] = size / GIB / (t1 - t0);
	return 0;
}

/* Resident pages: written once, synced (so clean, as a segment is after its
 * writer's msync), then mapped afresh and written, then read, again. */
static int run_mmap_resident(struct run *r)
{
	size_t size = r->p->seq_size;
	const char *path = bench_path(r->t, "mmap-resident");
	int fd = segment_create(path, size);
	double t0, t1, t2, t3;
	char *p;

	if (fd < 0)
		return -1;
	p = map(fd, size, path);
	if (!p)
		goto fail;
	memset(p, 0x11, size);
	munmap(p, size);
	if (fsync(fd)) {
		bench_fail("fsync", path);
		goto fail;
	}

	if (!(p = map(fd, size, path)))
		goto fail;
	t0 = now();
	memset(p, 0xa5, size);
	t1 = now();
	munmap(p, size);

	if (!(p = map(fd, size, path)))
		goto fail;
	t2 = now();
	sink = sum_words(p, size);
	t3 = now();
	munmap(p, size);

	segment_drop(fd, path);
	r->value[0] = size / GIB / (t1 - t0);
	r->value[1] = size / GIB / (t3 - t2);
	return 0;
fail:
	segment_drop(fd, path);
	return -1;
}

static int write_all(int fd, const char *buf, size_t size, const char *path)
{
	for (size_t done = 0; done < size; done += IO_CHUNK) {
		ssize_t n = write(fd, buf, IO_CHUNK);

		if (n != IO_CHUNK) {
			if (n >= 0)
				errno = EIO; /* short */
			return bench_fail("write", path);
		}
	}
	return 0;
}

static int read_all(int fd, char *buf, size_t size, const char *path)
{
	size_t done = 0;
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET))
		return bench_fail("lseek", path);
	while ((n = read(fd, buf, IO_CHUNK)) > 0)
		done += (size_t)n;
	if (n == 0 && done != size)
		errno = EIO; /* the size is not what was written */
	if (n < 0 || done != size)
		return bench_fail("read", path);
	return 0;
}

/* write() into a new, empty segment, then read() it back twice: the first
 * pass brings it into whatever cache the path keeps, the second is timed. */
static int run_read_write(struct run *r)
{
	size_t size = r->p->seq_size;
	const char *path = bench_path(r->t, "rw");
	char *buf = malloc(IO_CHUNK);
	double t0, t1, t2, t3;
	int fd;

	if (!buf)
		return -1;
	memset(buf, 0x3c, IO_CHUNK);
	fd = segment_create(path, 0);
	if (fd < 0) {
		free(buf);
		return -1;
	}
	t0 = now();
	if (write_all(fd, buf, size, path))
		goto fail;
	t1 = now();
	if (read_all(fd, buf, size, path))
		goto fail;
	t2 = now();
	if (read_all(fd, buf, size, path))
		goto fail;
	t3 = now();
	segment_drop(fd, path);
	free(buf);
	r->value[0] = size / GIB / (t1 - t0);
	r->value[1] = size / GIB / (t3 - t2);
	return 0;
fail:
	segment_drop(fd, path);
	free(buf);
	return -1;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* 4 KiB preads, then pwrites, at the same random aligned offsets on both
 * targets, in a resident segment. */
static int run_random(struct run *r)
{
	size_t size = r->p->rand_size, blocks = size / RAND_BLOCK;
	const char *path = bench_path(r->t, "random");
	char *buf = malloc(IO_CHUNK);
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	long nr = r->p->rand_reads, nw = r->p->rand_writes;
	double t0, t1, t2;
	int fd;

	if (!buf)
		return -1;
	memset(buf, 0x77, IO_CHUNK);
	fd = segment_create(path, 0);
	if (fd < 0 || write_all(fd, buf, size, path) || read_all(fd, buf, size, path))
		goto fail;
	t0 = now();
	for (long i = 0; i < nr; i++) {
		off_t off = (off_t)(xorshift(&seed) % blocks) * RAND_BLOCK;

		if (pread(fd, buf, RAND_BLOCK, off) != RAND_BLOCK) {
			bench_fail("pread", path);
			goto fail;
		}
	}
	t1 = now();
	for (long i = 0; i < nw; i++) {
		off_t off = (off_t)(xorshift(&seed) % blocks) * RAND_BLOCK;

		if (pwrite(fd, buf, RAND_BLOCK, off) != RAND_BLOCK) {
			bench_fail("pwrite", path);
			goto fail;
		}
	}
	t2 = now();
	segment_drop(fd, path);
	free(buf);
	r->value[0] = nr / 1e3 / (t1 - t0);
	r->value[1] = nw / 1e3 / (t2 - t1);
	return 0;
fail:
	if (fd >= 0)
		segment_drop(fd, path);
	free(buf);
	return -1;
}

/* The ping-pong segment: one word each way, on separate cache lines. */
struct court {
	uint32_t ball;          /* odd: the server's turn; even: the client's */
	char pad[60];
	uint32_t ready;
};

#define PONG_TIMEOUT 20.0 /* seconds: a mapping that does not share hangs */

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % (int)sysconf(_SC_NPROCESSORS_ONLN), &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static long futex(uint32_t *word, int op, uint32_t val)
{
	struct timespec ts = { .tv_sec = 1 };

	return syscall(SYS_futex, word, op, val, op == FUTEX_WAIT ? &ts : NULL, NULL, 0);
}

#define PONG_STOP UINT32_MAX /* the ball that ends the game */

/* Wait until *word is want: spin, or sleep on the futex. 0; 1 when the
 * other side stopped the game; -1 when it never answers. */
static int await(uint32_t *word, uint32_t want, int use_futex, double deadline)
{
	for (unsigned spins = 0;; spins++) {
		uint32_t v = __atomic_load_n(word, __ATOMIC_ACQUIRE);

		if (v == want)
			return 0;
		if (v == PONG_STOP)
			return 1;
		if (use_futex)
			futex(word, FUTEX_WAIT, v);
		else
			__builtin_ia32_pause();
		if ((use_futex || (spins & 0xffff) == 0) && now() > deadline)
			return -1;
	}
}

static void serve(uint32_t *ball, uint32_t next, int use_futex)
{
	__atomic_store_n(ball, next, __ATOMIC_RELEASE);
	if (use_futex)
		futex(ball, FUTEX_WAKE, 1);
}

static struct court *court_map(const char *path, int *fdp)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	struct court *c;

	if (fd < 0) {
		bench_fail("open", path);
		return NULL;
	}
	c = map(fd, 4096, path);
	if (!c) {
		close(fd);
		return NULL;
	}
	*fdp = fd;
	return c;
}

/* The other process: opens the path on its own (no inherited mapping) and
 * answers every odd ball with the next even one. */
static void pong(const char *path, int use_futex, pid_t parent)
{
	struct court *c;
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the benchmark */
	if (getppid() != parent)
		_exit(1);
	pin_to_cpu(1);
	c = court_map(path, &fd);
	if (!c)
		_exit(1);
	__atomic_store_n(&c->ready, 1, __ATOMIC_RELEASE);
	for (uint32_t i = 0;; i++) {
		int rc = await(&c->ball, 2 * i + 1, use_futex, now() + PONG_TIMEOUT);

		if (rc)
			_exit(rc > 0 ? 0 : 2);
		serve(&c->ball, 2 * i + 2, use_futex);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Round trips between two processes that each mapped the segment by its
 * path: 1000 warm-up trips, then batches of batch trips, for at most
 * max_seconds. The result is the median batch's mean, so that a batch in
 * which another program took the CPU (2 cores, shared) does not count for
 * more than one. */
static double ping_pong(const struct target *t, long trips, long batch, int use_futex,
			double max_seconds)
{
	const char *path = bench_path(t, "pingpong");
	long warm = 1000, nbatch = trips / batch, total = warm + nbatch * batch;
	double *mean = calloc((size_t)nbatch, sizeof(*mean));
	double t0 = 0, start = 0, result, deadline;
	long done = 0;
	struct court *c = NULL;
	int fd = -1, status;
	pid_t parent, child = -1;

	if (!mean)
		return -1;
	fd = segment_create(path, 4096);
	if (fd < 0)
		goto fail;
	close(fd);
	parent = getpid();
	child = fork();
	if (child == 0)
		pong(path, use_futex, parent);
	pin_to_cpu(0);
	c = child < 0 ? NULL : court_map(path, &fd);
	if (!c)
		goto fail;
	deadline = now() + PONG_TIMEOUT;
	while (!__atomic_load_n(&c->ready, __ATOMIC_ACQUIRE))
		if (now() > deadline)
			goto timeout;
	for (uint32_t i = 0;; i++) {
		if (i >= (uint32_t)warm && (i - warm) % batch == 0) {
			double t1 = now();

			if (i == (uint32_t)warm)
				start = t1;
			else
				mean[done++] = (t1 - t0) * 1e9 / batch;
			if (i == (uint32_t)total || (t1 - start > max_seconds && done > 0))
				break;
			t0 = t1;
		}
		serve(&c->ball, 2 * i + 1, use_futex);
		if (await(&c->ball, 2 * i + 2, use_futex, now() + PONG_TIMEOUT))
			goto timeout;
	}
	serve(&c->ball, PONG_STOP, use_futex);
	munmap(c, 4096);
	close(fd);
	c = NULL;
	if (waitpid(child, &status, 0) != child || status != 0)
		goto fail;
	unlink(path);
	qsort(mean, (size_t)done, sizeof(*mean), cmp_double);
	result = mean[done / 2];
	free(mean);
	return result;
timeout:
	fprintf(stderr, "bench: %s: ping-pong got no answer: the mapping is not shared\n", path);
fail:
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	if (c) {
		munmap(c, 4096);
		close(fd);
	}
	unlink(path);
	free(mean);
	return -1;
}

static int run_ping_pong(struct run *r)
{
	cpu_set_t all;
	double spin, fut;

	sched_getaffinity(0, sizeof(all), &all);
	spin = ping_pong(r->t, r->p->spin_trips, 1000, 0, r->p->pong_seconds);
	fut = spin < 0 ? -1 : ping_pong(r->t, r->p->futex_trips, 100, 1, r->p->pong_seconds);
	sched_setaffinity(0, sizeof(all), &all);
	if (spin < 0 || fut < 0)
		return -1;
	r->value[0] = spin;
	r->value[1] = fut;
	return 0;
}

const struct bench bench_data[] = {
	{ .id = "first-touch",
	  .metrics = { { "mmap write, fresh pages (first touch)", "GiB/s", 1 } },
	  .run = run_mmap_first_touch },
	{ .id = "mmap-resident",
	  .metrics = { { "mmap write, resident pages", "GiB/s", 1 },
		       { "mmap read, resident pages", "GiB/s", 1 } },
	  .run = run_mmap_resident },
	{ .id = "read-write",
	  .metrics = { { "write() 1 MiB blocks, new segment", "GiB/s", 1 },
		       { "read() 1 MiB blocks, resident", "GiB/s", 1 } },
	  .run = run_read_write },
	{ .id = "random",
	  .metrics = { { "pread() 4 KiB, random", "kops/s", 1 },
		       { "pwrite() 4 KiB, random", "kops/s", 1 } },
	  .run = run_random },
	{ .id = "ping-pong",
	  .metrics = { { "ping-pong over a mapping, spin", "ns/round trip", 0 },
		       { "ping-pong over a mapping, futex", "ns/round trip", 0 } },
	  .run = run_ping_pong },
};

const size_t bench_data_count = sizeof(bench_data) / sizeof(bench_data[0]);
