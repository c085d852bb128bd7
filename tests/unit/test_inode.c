/* inode table: lookups and forgets as the kernel sends them. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "inode.h"
#include "suites.h"
#include "unit.h"

#define MANY 5000

static struct inode_table table;

static void setup(void)
{
	ck_assert_int_eq(itable_init(&table), 0);
}

static void teardown(void)
{
	itable_destroy(&table);
}

static int fd_closed(int fd)
{
	return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

/* An O_PATH fd of tmpdir/name, made as a file (or a directory) if missing. */
static int open_path(const char *name, int dir)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if (dir) {
		if (mkdir(path, 0700) && errno != EEXIST)
			ck_abort_msg("mkdir %s: %s", path, strerror(errno));
	} else {
		fd = open(path, O_WRONLY | O_CREAT, 0600);
		ck_assert_msg(fd >= 0, "create %s: %s", path, strerror(errno));
		close(fd);
	}
	fd = open(path, O_PATH | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	return fd;
}

/* What a lookup of tmpdir/name does: open it, stat it, acquire its inode. */
static struct inode *lookup(const char *name, int dir, int *fdp)
{
	struct stat sb;
	int fd = open_path(name, dir);
	struct inode *in;

	ck_assert_int_eq(fstat(fd, &sb), 0);
	in = itable_acquire(&table, fd, &sb, NULL, 1);
	ck_assert_ptr_nonnull(in);
	if (fdp)
		*fdp = fd;
	return in;
}

/* A made-up object: the table only looks at st_dev, st_ino and the type. */
static struct stat fake_stat(dev_t dev, ino_t ino)
{
	struct stat sb;

	memset(&sb, 0, sizeof(sb));
	sb.st_dev = dev;
	sb.st_ino = ino;
	sb.st_mode = S_IFREG | 0600;
	return sb;
}

/* How many fds the test may hold at once: the soft limit raised to the hard
 * one, as the daemon does, less some for the runner. */
static size_t fd_budget(void)
{
	struct rlimit rl;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > MANY + 64)
		return MANY;
	return rl.rlim_cur - 64;
}

/* ---- core ---- */

START_TEST(test_empty)
{
	ck_assert_uint_eq(itable_count(&table), 0);
}
END_TEST

START_TEST(test_same_object_twice)
{
	int fd1, fd2;
	struct inode *a = lookup("same", 0, &fd1);
	struct inode *b = lookup("same", 0, &fd2);

	/* The second fd is closed at once: check before anything reuses it. */
	ck_assert(fd_closed(fd2));
	ck_assert_ptr_eq(a, b);
	ck_assert_uint_eq(a->nlookup, 2);
	ck_assert_uint_eq(itable_count(&table), 1);
	ck_assert_int_eq(a->fd, fd1);
	ck_assert(!fd_closed(fd1));
	ck_assert_uint_eq(a->type, S_IFREG);
	ck_assert_int_eq(a->top, 1);
}
END_TEST

START_TEST(test_different_objects)
{
	struct stat sb;
	struct inode *a = lookup("one", 0, NULL);
	struct inode *b = lookup("two", 0, NULL);
	struct inode *d = lookup("dir", 1, NULL);

	ck_assert_ptr_ne(a, b);
	ck_assert_ptr_ne(a, d);
	ck_assert_ptr_ne(b, d);
	ck_assert_uint_eq(itable_count(&table), 3);
	ck_assert_uint_eq(a->nlookup, 1);
	ck_assert_uint_eq(b->nlookup, 1);
	ck_assert_uint_eq(a->type, S_IFREG);
	ck_assert_uint_eq(d->type, S_IFDIR);
	/* Each inode's fd is its own object. */
	ck_assert_int_eq(fstat(b->fd, &sb), 0);
	ck_assert(sb.st_dev == b->dev && sb.st_ino == b->ino);
	ck_assert(b->ino != a->ino);
}
END_TEST

/* Two names of one object are one inode. */
START_TEST(test_hard_link)
{
	char from[PATH_MAX], to[PATH_MAX];
	struct inode *a = lookup("linked", 0, NULL);
	struct inode *b;

	snprintf(from, sizeof(from), "%s/linked", tmpdir);
	snprintf(to, sizeof(to), "%s/linked2", tmpdir);
	ck_assert_int_eq(link(from, to), 0);
	b = lookup("linked2", 0, NULL);
	ck_assert_ptr_eq(a, b);
	ck_assert_uint_eq(a->nlookup, 2);
	ck_assert_uint_eq(itable_count(&table), 1);
}
END_TEST

/* A deleted object's number given to a new object (as ext4 does) while the
 * old inode is still known: the new object gets an inode of its own. */
START_TEST(test_number_of_a_deleted_object)
{
	char path[PATH_MAX];
	struct inode *old = lookup("gone", 0, NULL);
	struct stat sb = { .st_dev = old->dev, .st_ino = old->ino, .st_mode = S_IFREG };
	struct inode *fresh, *again;

	snprintf(path, sizeof(path), "%s/gone", tmpdir);
	ck_assert_int_eq(unlink(path), 0);
	/* The same (dev, ino), for another object. */
	fresh = itable_acquire(&table, open_path("new", 0), &sb, NULL, 0);
	ck_assert_ptr_nonnull(fresh);
	ck_assert_ptr_ne(fresh, old);
	ck_assert_uint_eq(fresh->nlookup, 1);
	ck_assert_uint_eq(old->nlookup, 1);
	ck_assert_uint_eq(itable_count(&table), 1);
	again = itable_find(&table, &sb);
	ck_assert_ptr_eq(again, fresh);
	/* Both go when forgotten, in either order. */
	itable_forget(&table, old, 1);
	itable_forget(&table, fresh, 2);
	ck_assert_uint_eq(itable_count(&table), 0);
}
END_TEST

START_TEST(test_forget)
{
	int fd;
	struct inode *a = lookup("forget", 0, &fd);

	ck_assert_ptr_eq(lookup("forget", 0, NULL), a);
	itable_forget(&table, a, 1);
	ck_assert_uint_eq(itable_count(&table), 1);
	ck_assert_uint_eq(a->nlookup, 1);
	ck_assert(!fd_closed(fd));

	itable_forget(&table, a, 1);
	ck_assert_uint_eq(itable_count(&table), 0);
	ck_assert(fd_closed(fd));

	/* Looked up again, it is a new inode with one lookup. */
	a = lookup("forget", 0, NULL);
	ck_assert_uint_eq(a->nlookup, 1);
	ck_assert_uint_eq(itable_count(&table), 1);
}
END_TEST

START_TEST(test_forget_many_at_once)
{
	int fd;
	struct inode *a = lookup("batch", 0, &fd);

	for (int i = 0; i < 4; i++)
		lookup("batch", 0, NULL);
	ck_assert_uint_eq(a->nlookup, 5);
	itable_forget(&table, a, 3);
	ck_assert_uint_eq(a->nlookup, 2);
	itable_forget(&table, a, 2);
	ck_assert_uint_eq(itable_count(&table), 0);
	ck_assert(fd_closed(fd));
}
END_TEST

/* Forgetting more than was looked up frees the inode once, and nothing else. */
START_TEST(test_forget_clamped)
{
	int fd;
	struct inode *a = lookup("clamp-a", 0, &fd);
	struct inode *b = lookup("clamp-b", 0, NULL);

	lookup("clamp-a", 0, NULL);
	ck_assert_uint_eq(itable_count(&table), 2);
	itable_forget(&table, a, 10);
	ck_assert_uint_eq(itable_count(&table), 1);
	ck_assert(fd_closed(fd));
	ck_assert_uint_eq(b->nlookup, 1);
	ck_assert_ptr_eq(lookup("clamp-b", 0, NULL), b);
	ck_assert_uint_eq(b->nlookup, 2);
	itable_forget(&table, b, UINT64_MAX);
	ck_assert_uint_eq(itable_count(&table), 0);
}
END_TEST

START_TEST(test_destroy)
{
	int fds[3];
	struct stat sb = fake_stat(1, 42);
	struct inode *in;

	lookup("destroy-a", 0, &fds[0]);
	lookup("destroy-a", 0, NULL);
	lookup("destroy-d", 1, &fds[1]);
	fds[2] = dup(fds[0]);
	ck_assert_int_ge(fds[2], 0);
	in = itable_acquire(&table, fds[2], &sb, NULL, 0);
	ck_assert_ptr_nonnull(in);
	ck_assert_uint_eq(itable_count(&table), 3);

	itable_destroy(&table);
	for (int i = 0; i < 3; i++)
		ck_assert_msg(fd_closed(fds[i]), "fd %d of inode %d still open", fds[i], i);
	/* For the fixture's teardown. */
	ck_assert_int_eq(itable_init(&table), 0);
}
END_TEST

/* ---- sizes ---- */

/* Thousands of objects: the table grows, and finds every one again. */
START_TEST(test_many)
{
	size_t n = fd_budget() - 1; /* one for base */
	struct inode **ins = calloc(n, sizeof(*ins));
	int *fds = calloc(n, sizeof(*fds));
	int base = open_path("many", 0);
	size_t i;

	ck_assert_ptr_nonnull(ins);
	ck_assert_ptr_nonnull(fds);
	ck_assert_msg(n > 2 * 1024, "only %zu fds: too few to make the table grow", n);
	for (i = 0; i < n; i++) {
		struct stat sb = fake_stat(7, 100000 + i * 3);

		fds[i] = dup(base);
		ck_assert_int_ge(fds[i], 0);
		ins[i] = itable_acquire(&table, fds[i], &sb, NULL, 1);
		ck_assert_ptr_nonnull(ins[i]);
		ck_assert_uint_eq(ins[i]->nlookup, 1);
	}
	ck_assert_uint_eq(itable_count(&table), n);
	ck_assert_msg(table.nbuckets > 1024, "the table did not grow (%zu buckets)",
		      table.nbuckets);

	for (i = 0; i < n; i++) {
		struct stat sb = fake_stat(7, 100000 + i * 3);
		int fd = dup(base);
		struct inode *in;

		ck_assert_int_ge(fd, 0);
		in = itable_acquire(&table, fd, &sb, NULL, 1);
		ck_assert_msg(in == ins[i], "object %zu not found again", i);
		ck_assert(fd_closed(fd));
		ck_assert_uint_eq(in->nlookup, 2);
		ck_assert_int_eq(in->fd, fds[i]);
	}
	ck_assert_uint_eq(itable_count(&table), n);

	/* Forget every other one; the rest are still found. */
	for (i = 0; i < n; i += 2)
		itable_forget(&table, ins[i], 2);
	ck_assert_uint_eq(itable_count(&table), n / 2);
	for (i = 0; i < n; i += 2)
		ck_assert(fd_closed(fds[i]));
	for (i = 1; i < n; i += 2) {
		struct stat sb = fake_stat(7, 100000 + i * 3);
		int fd = dup(base);

		ck_assert_ptr_eq(itable_acquire(&table, fd, &sb, NULL, 1), ins[i]);
		ck_assert_uint_eq(ins[i]->nlookup, 3);
	}
	for (i = 1; i < n; i += 2)
		itable_forget(&table, ins[i], 3);
	ck_assert_uint_eq(itable_count(&table), 0);
	close(base);
	free(ins);
	free(fds);
}
END_TEST

/* One inode number on different devices: different objects. */
START_TEST(test_same_ino_other_dev)
{
	enum { NDEV = 100 };
	struct inode *ins[NDEV];
	int base = open_path("devs", 0);

	for (int d = 0; d < NDEV; d++) {
		struct stat sb = fake_stat((dev_t)(d + 1), 12345);

		ins[d] = itable_acquire(&table, dup(base), &sb, NULL, 1);
		ck_assert_ptr_nonnull(ins[d]);
		for (int e = 0; e < d; e++)
			ck_assert_ptr_ne(ins[d], ins[e]);
	}
	ck_assert_uint_eq(itable_count(&table), NDEV);
	for (int d = 0; d < NDEV; d++) {
		struct stat sb = fake_stat((dev_t)(d + 1), 12345);

		ck_assert_ptr_eq(itable_acquire(&table, dup(base), &sb, NULL, 1), ins[d]);
		ck_assert_uint_eq(ins[d]->nlookup, 2);
	}
	close(base);
}
END_TEST

/* Several kernel threads looking up and forgetting the same objects. */
enum { NTHREADS = 4, NSHARED = 3000 };

struct worker {
	int base;
	pthread_barrier_t *barrier;
	struct inode **ins; /* NSHARED, what this thread got */
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;

	for (size_t i = 0; i < NSHARED; i++) {
		struct stat sb = fake_stat(9, 1 + i);

		w->ins[i] = itable_acquire(&table, dup(w->base), &sb, NULL, 1);
	}
	pthread_barrier_wait(w->barrier);
	/* All have looked up all: compared by the main thread meanwhile. */
	pthread_barrier_wait(w->barrier);
	for (size_t i = 0; i < NSHARED; i++)
		if (w->ins[i])
			itable_forget(&table, w->ins[i], 1);
	return NULL;
}

START_TEST(test_threads)
{
	pthread_barrier_t barrier;
	pthread_t threads[NTHREADS];
	struct worker workers[NTHREADS];
	int base = open_path("threads", 0);

	ck_assert_uint_ge(fd_budget(), NSHARED + 2 * NTHREADS + 1);
	ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, NTHREADS + 1), 0);
	for (int t = 0; t < NTHREADS; t++) {
		workers[t].base = base;
		workers[t].barrier = &barrier;
		workers[t].ins = calloc(NSHARED, sizeof(struct inode *));
		ck_assert_ptr_nonnull(workers[t].ins);
		ck_assert_int_eq(pthread_create(&threads[t], NULL, worker_run, &workers[t]), 0);
	}
	pthread_barrier_wait(&barrier);
	ck_assert_uint_eq(itable_count(&table), NSHARED);
	for (size_t i = 0; i < NSHARED; i++) {
		ck_assert_ptr_nonnull(workers[0].ins[i]);
		for (int t = 1; t < NTHREADS; t++)
			ck_assert_ptr_eq(workers[t].ins[i], workers[0].ins[i]);
		ck_assert_uint_eq(workers[0].ins[i]->nlookup, NTHREADS);
	}
	pthread_barrier_wait(&barrier);
	for (int t = 0; t < NTHREADS; t++) {
		pthread_join(threads[t], NULL);
		free(workers[t].ins);
	}
	ck_assert_uint_eq(itable_count(&table), 0);
	pthread_barrier_destroy(&barrier);
	close(base);
}
END_TEST

Suite *inode_suite(void)
{
	Suite *s = suite_create("inode");
	TCase *tc;

	tc = tcase_create("core");
	tcase_add_unchecked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_same_object_twice);
	tcase_add_test(tc, test_different_objects);
	tcase_add_test(tc, test_hard_link);
	tcase_add_test(tc, test_number_of_a_deleted_object);
	tcase_add_test(tc, test_forget);
	tcase_add_test(tc, test_forget_many_at_once);
	tcase_add_test(tc, test_forget_clamped);
	tcase_add_test(tc, test_destroy);
	suite_add_tcase(s, tc);

	tc = tcase_create("sizes");
	tcase_add_unchecked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_many);
	tcase_add_test(tc, test_same_ino_other_dev);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);

	return s;
}
