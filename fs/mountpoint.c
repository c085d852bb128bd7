/* mountpoint.c: the mount point before mounting.
 *
 * When a FUSE daemon dies without unmounting (kill -9, a crash), the kernel
 * aborts its connection: the mount stays, and every request on it, the
 * lookup of the mount point itself included, fails with ENOTCONN (with
 * ECONNABORTED after an abort through /sys/fs/fuse/connections). Nothing
 * can be mounted there until it is unmounted, which only root (umount2) or
 * the user who mounted it (fusermount3 -u) may do. */
#include "mountpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "status.h"

static int mp_dead(int err)
{
	return err == -ENOTCONN || err == -ECONNABORTED;
}

int mountpoint_probe(const char *path, int timeout_ms)
{
	const struct timespec tick = { 0, 5 * 1000 * 1000 };
	pid_t pid;
	int st;

	fflush(NULL); /* the child leaves by _exit, but not twice the buffers */
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		struct statfs sf;
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		/* It may outlive the caller (below): none of the caller's
		 * output may wait for its end. */
		if (null >= 0) {
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		_exit(statfs(path, &sf) ? errno & 0xff : 0);
	}
	for (int waited = 0; waited <= timeout_ms; waited += 5) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? -WEXITSTATUS(st) : -EIO;
		if (r < 0 && errno != EINTR)
			return -errno;
		nanosleep(&tick, NULL);
	}
	/* A request still queued waits killably: SIGKILL ends the child. One
	 * the daemon has taken waits for its answer, killed or not, and over
	 * FUSE io_uring a request is the daemon's as soon as it is queued (a
	 * stopped daemon's ring entries take it): then the child is left
	 * behind, to end when the daemon answers (init reaps it). */
	kill(pid, SIGKILL);
	for (int waited = 0; waited <= 200; waited += 5) {
		if (waitpid(pid, &st, WNOHANG) != 0)
			break;
		nanosleep(&tick, NULL);
	}
	return -ETIMEDOUT;
}


/* The absolute path of arg when its last component cannot be resolved
 * because a dead mount is on it: the parent's real path, plus the name. */
static int mp_absolute(const char *arg, char *abs)
{
	char copy[PATH_MAX], parent[PATH_MAX];
	const char *dir = ".", *base;
	char *slash;
	size_t len;

	if (realpath(arg, abs))
		return 0;
	if (!mp_dead(-errno) || strlen(arg) >= sizeof(copy))
		return -errno;
	strcpy(copy, arg);
	len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	slash = strrchr(copy, '/');
	base = copy;
	if (slash) {
		*slash = '\0';
		dir = slash == copy ? "/" : copy;
		base = slash + 1;
	}
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return -ENOTCONN;
	if (!realpath(dir, parent))
		return -errno;
	if (snprintf(abs, PATH_MAX, "%s/%s", strcmp(parent, "/") ? parent : "", base) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* The fs type of the mount on top at abs ("" when none). */
static void mp_top_type(const char *abs, char *fstype, size_t len)
{
	struct mount_table t;

	fstype[0] = '\0';
	if (mounts_read(&t) == 0) {
		/* Sorted by id: the last one on abs was mounted last. */
		for (size_t i = 0; i < t.n; i++)
			if (strcmp(t.v[i].path, abs) == 0)
				snprintf(fstype, len, "%s", t.v[i].fstype);
	}
	mounts_free(&t);
}

/* Lazy unmount: root may umount2; the user who mounted it runs fusermount3. */
static int mp_detach(const char *abs)
{
	pid_t pid;
	int st;

	if (umount2(abs, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
		return 0;
	if (errno != EPERM)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execlp("fusermount3", "fusermount3", "-uz", "--", abs, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EPERM;
}

/* A FUSE mount is on top at abs: may shmfs mount over it? */
static int mp_check_fuse(const char *arg, const char *abs, const char *fstype, int *recovered)
{
	int shmfs = strcmp(fstype, "fuse.shmfs") == 0;
	int rc = mountpoint_probe(abs, 2000);

	if (rc == 0 && !shmfs)
		return 0; /* a live mount of another kind: mounting over it is allowed */
	if (rc == 0) {
		char now[64];

		/* A dead mount's fusermount3 (auto_unmount) may have taken it
		 * away since the table was read: the probe then answered from
		 * what is below. */
		mp_top_type(abs, now, sizeof(now));
		if (strcmp(now, fstype) != 0)
			return 0;
		fprintf(stderr, "shmfs: mount point %s: a shmfs mount is already there; "
				"unmount it first (fusermount3 -u %s)\n", arg, abs);
		return -1;
	}
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "shmfs: mount point %s: the %s mount there does not respond; "
				"unmount it with umount -l %s (or fusermount3 -uz)\n", arg, fstype, abs);
		return -1;
	}
	if (!mp_dead(rc) || !shmfs) {
		fprintf(stderr, "shmfs: mount point %s: %s%s%s%s\n", arg, strerror(-rc),
			mp_dead(rc) ? " (a dead " : "", mp_dead(rc) ? fstype : "",
			mp_dead(rc) ? " mount: its daemon is gone; unmount it with "
				      "fusermount3 -uz or umount -l)" : "");
		return -1;
	}
	rc = mp_detach(abs);
	if (rc == -EINVAL)
		return 0; /* no longer a mount point: unmounted by someone else */
	if (rc) {
		fprintf(stderr, "shmfs: mount point %s: a dead shmfs mount is there (its daemon is "
				"gone) and unmounting it failed: %s\n", arg, strerror(-rc));
		return -1;
	}
	*recovered = 1;
	return 0;
}

int mountpoint_prepare(const char *arg, char *abs, int *recovered)
{
	char fstype[64];
	struct stat st;
	int rc = mp_absolute(arg, abs);

	*recovered = 0;
	if (rc == 0) {
		mp_top_type(abs, fstype, sizeof(fstype));
		if (strncmp(fstype, "fuse", 4) == 0 && mp_check_fuse(arg, abs, fstype, recovered))
			return -1;
		rc = stat(abs, &st) ? -errno : S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	}
	if (rc == -ENOENT)
		fprintf(stderr, "shmfs: mount point %s does not exist (make it with mkdir)\n", arg);
	else if (rc == -ENOTDIR)
		fprintf(stderr, "shmfs: mount point %s: not a directory\n", arg);
	else if (rc)
		fprintf(stderr, "shmfs: mount point %s: %s\n", arg, strerror(-rc));
	return rc ? -1 : 0;
}
