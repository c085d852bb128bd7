/* status: the `shmfs status` command (fs/status*.c). */
#ifndef SHMFS_STATUS_H
#define SHMFS_STATUS_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

/* argv[0] is "status". Returns the exit status. */
int status_main(int argc, char *argv[]);

/* What follows is shared by the status_*.c files only. */

/* One line of /proc/self/mountinfo. */
struct mount_entry {
	uint64_t id;       /* the first field; statx's stx_mnt_id */
	dev_t dev;         /* st_dev of everything on it */
	char *path;        /* the mount point, octal escapes undone */
	char fstype[64];
	char *source;      /* the mount's source (fsname), escapes undone */
	long long uid;     /* user_id= of a FUSE mount: who mounted it; -1 if none */
	int trusted;       /* may be looked into (see status_mounts.c) */
};

struct mount_table {
	struct mount_entry *v;
	size_t n;
};

/* mounts_read() fills t from /proc/self/mountinfo (0 or -errno);
 * mounts_free() frees what it holds. */
int mounts_read(struct mount_table *t);
void mounts_free(struct mount_table *t);
const struct mount_entry *mounts_by_id(const struct mount_table *t, uint64_t id);
/* The shmfs mount mounted last on the absolute path, or NULL. */
const struct mount_entry *mounts_at(const struct mount_table *t, const char *path);

/* Open an absolute path one component at a time, never following a
 * symlink and never looking up a name inside a mount that is not trusted;
 * the last component is opened with flags (plus O_NOFOLLOW | O_CLOEXEC).
 * *sx gets its statx. Returns the fd, -EPERM when the path leads into or
 * through a mount that is not trusted, or another -errno. */
int status_open_path(const struct mount_table *t, const char *path, int flags,
		     struct statx *sx);
/* The id of the mount fd is on, asking no FUSE daemon anything. */
int status_mnt_id(int fd, uint64_t *id);
/* statx of fd (of a trusted mount: its daemon may be asked). */
int status_statx(int fd, struct statx *sx);

/* Directory levels below a mount point that status walks: one open fd each. */
#define STATUS_MAX_DEPTH 64

struct seg {
	char *name;    /* below the mount point */
	char *backing; /* user.shmfs.backing, as the daemon says it */
	char backend[16], lifetime[16], io[16];
	uint64_t size, resident, ino;
	dev_t backing_dev; /* 0 when the backing could not be checked */
	unsigned opens;
	pid_t *pids;
	size_t npids;
};

struct status {
	const struct mount_table *mounts;
	const struct mount_entry *mnt;
	int rootfd;          /* O_PATH of the mount's root */
	struct seg *segs;
	size_t nsegs, cap;
	char limits[256];    /* user.shmfs.limits of the root */
	char daemon[512];    /* user.shmfs.daemon of the root ("" if absent) */
	char store[PATH_MAX]; /* user.shmfs.backing of the root ("" if absent) */
	size_t deep;         /* directories left out: too deep */
	size_t others[5];    /* objects that are not segments, by STATUS_TYPES */
	size_t estimated;    /* segments whose RES is their allocated size */
	double deadline;     /* CLOCK_MONOTONIC seconds: no mincore after it */
};

/* The object types that are not segments, as status counts them. */
#define STATUS_TYPES { "symlink", "FIFO", "socket", "character device", "block device" }

/* status_walk.c: every regular file of the mount into s->segs; the
 * CLOCK_MONOTONIC time in seconds. */
void status_walk(struct status *s);
double status_now(void);
/* status_print.c */
void status_print_table(const struct status *s, FILE *out);
void status_print_json(const struct status *s, FILE *out, int first);
/* name escaped for a terminal: \\, \n, \t, \xHH, \uHHHH (see the man page);
 * returns how many characters it took. */
size_t status_put_escaped(FILE *out, const char *name);

#endif
