/* trust_race: the two sides of the races an unprivileged user may run
 * against a root daemon (tests/integration/test_trust.py). Each side runs
 * for a bounded time or number of rounds and reports what it achieved.
 *
 *   trust_race unlink STORE MOUNT PREFIX TARGET SECONDS
 *       As the owner of a process-lifetime segment MOUNT/d/NAME (NAME the
 *       last component of TARGET), release it again and again while
 *       swapping the store directory STORE/PREFIXd with a symlink to
 *       TARGET's directory. Prints "deleted" (exit 3) once TARGET is gone,
 *       else "rounds N".
 *   trust_race swap-file DIR NAME SECONDS
 *       Whenever DIR/NAME exists, move it aside and link a 0666 decoy of
 *       this user's in its place. Prints "swaps N".
 *   trust_race swap-dir DIR NAME SECONDS
 *       The same with directories: the decoy holds a file "planted".
 *   trust_race create-excl DIR NAME ROUNDS
 *       open(DIR/NAME, O_CREAT|O_EXCL|O_RDWR, 0600) ROUNDS times (removing
 *       it after each); prints "foreign N": the opens that handed back a
 *       file not this user's.
 *   trust_race mkdir DIR NAME ROUNDS
 *       mkdir(DIR/NAME) ROUNDS times; prints "foreign N": the new
 *       directories that were not empty or not this user's.
 * Exit status 0, 3 as said, 1 on a setup error (with a message). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what)
{
	fprintf(stderr, "trust_race: %s: %s\n", what, strerror(errno));
	return 1;
}

/* -- unlink ------------------------------------------------------------ */

struct swapper {
	int dirfd;
	char a[NAME_MAX + 1], b[NAME_MAX + 1];
	volatile int stop;
	long swaps;
};

static void *swap_loop(void *arg)
{
	struct swapper *s = arg;

	while (!s->stop)
		if (renameat2(s->dirfd, s->a, s->dirfd, s->b, RENAME_EXCHANGE) == 0)
			s->swaps++;
	return NULL;
}

/* Put the real directory back under its name a (it may be under b). */
static void swap_settle(struct swapper *s)
{
	struct stat st;

	if (fstatat(s->dirfd, s->a, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
		renameat2(s->dirfd, s->a, s->dirfd, s->b, RENAME_EXCHANGE);
}

static int unlink_race(int argc, char **argv)
{
	const char *store = argv[2], *mnt = argv[3], *prefix = argv[4], *target = argv[5];
	double end = now() + atof(argv[6]);
	char seg[PATH_MAX], dir[PATH_MAX], tdir[PATH_MAX];
	const char *slash = strrchr(target, '/');
	struct swapper s = { .stop = 0 };
	long rounds = 0;
	struct stat st;

	(void)argc;
	if (!slash)
		return fail("TARGET must be an absolute path");
	snprintf(tdir, sizeof(tdir), "%.*s", (int)(slash - target), target);
	snprintf(dir, sizeof(dir), "%s/d", mnt);
	snprintf(seg, sizeof(seg), "%s/d/%s", mnt, slash + 1);
	s.dirfd = open(store, O_PATH | O_DIRECTORY);
	snprintf(s.a, sizeof(s.a), "%sd", prefix);
	snprintf(s.b, sizeof(s.b), "%sl", prefix);
	if (s.dirfd < 0)
		return fail("opening the store");
	if (mkdir(dir, 0755) && errno != EEXIST)
		return fail("mkdir MOUNT/d");
	if (symlinkat(tdir, s.dirfd, s.b) && errno != EEXIST)
		return fail("symlink in the store");
	while (now() < end) {
		pthread_t t;
		int fd;

		rounds++;
		/* Marked while open: a close before the mark would send a
		 * RELEASE that may reach the daemon after it, and remove the
		 * segment there and then (its last user gone). */
		fd = open(seg, O_CREAT | O_RDWR, 0600);
		if (fd < 0)
			return fail("creating the segment");
		if (setxattr(seg, "user.shmfs.lifetime", "process", 7, 0))
			return fail("marking the segment process");
		s.stop = 0;
		if (pthread_create(&t, NULL, swap_loop, &s))
			return fail("starting the swapper");
		close(fd); /* the last release: the daemon removes the segment */
		usleep(2000);
		s.stop = 1;
		pthread_join(t, NULL);
		swap_settle(&s);
		if (stat(target, &st) && errno == ENOENT) {
			printf("deleted\n");
			return 3;
		}
		unlink(seg);
	}
	printf("rounds %ld\n", rounds);
	return 0;
}

/* -- swap-file, swap-dir ------------------------------------------------ */

static int swap_race(char **argv, int dirs)
{
	const char *name = argv[3];
	double end = now() + atof(argv[4]);
	char decoy[NAME_MAX + 1], aside[NAME_MAX + 1];
	long swaps = 0, n = 0;
	int dfd = open(argv[2], O_PATH | O_DIRECTORY);

	if (dfd < 0)
		return fail("opening DIR");
	while (now() < end) {
		snprintf(aside, sizeof(aside), ".aside.%ld", n);
		if (renameat(dfd, name, dfd, aside) != 0)
			continue;
		n++;
		snprintf(decoy, sizeof(decoy), ".decoy.%ld", n);
		if (dirs) {
			int d, f;

			if (mkdirat(dfd, decoy, 0777) || fchmodat(dfd, decoy, 0777, 0))
				return fail("making a decoy directory");
			d = openat(dfd, decoy, O_RDONLY | O_DIRECTORY);
			f = d < 0 ? -1 : openat(d, "planted", O_CREAT | O_WRONLY, 0666);
			if (f < 0)
				return fail("planting in the decoy");
			close(f);
			close(d);
		} else {
			int f = openat(dfd, decoy, O_CREAT | O_EXCL | O_WRONLY, 0666);

			if (f < 0 || fchmod(f, 0666))
				return fail("making a decoy file");
			close(f);
		}
		if (renameat2(dfd, decoy, dfd, name, RENAME_NOREPLACE) == 0)
			swaps++;
	}
	printf("swaps %ld\n", swaps);
	return 0;
}

/* -- create-excl, mkdir ------------------------------------------------- */

static int dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int empty = 1;

	if (!d)
		return 1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty;
}

static int victim_race(char **argv, int dirs)
{
	long rounds = atol(argv[4]), foreign = 0;
	char path[PATH_MAX], inner[PATH_MAX + 16];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", argv[2], argv[3]);
	for (long i = 0; i < rounds; i++) {
		if (dirs) {
			if (mkdir(path, 0700) == 0 && stat(path, &st) == 0 &&
			    (st.st_uid != getuid() || !dir_is_empty(path)))
				foreign++;
			snprintf(inner, sizeof(inner), "%s/planted", path);
			unlink(inner);
			rmdir(path);
		} else {
			int fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0600);

			if (fd >= 0 && fstat(fd, &st) == 0 && st.st_uid != getuid())
				foreign++;
			if (fd >= 0)
				close(fd);
			unlink(path);
		}
	}
	printf("foreign %ld\n", foreign);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 7 && strcmp(argv[1], "unlink") == 0)
		return unlink_race(argc, argv);
	if (argc == 5 && strcmp(argv[1], "swap-file") == 0)
		return swap_race(argv, 0);
	if (argc == 5 && strcmp(argv[1], "swap-dir") == 0)
		return swap_race(argv, 1);
	if (argc == 5 && strcmp(argv[1], "create-excl") == 0)
		return victim_race(argv, 0);
	if (argc == 5 && strcmp(argv[1], "mkdir") == 0)
		return victim_race(argv, 1);
	fprintf(stderr, "usage: see the comment at the top of trust_race.c\n");
	return 2;
}
