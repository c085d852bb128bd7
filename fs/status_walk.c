/* status_walk.c: every segment of a mount, found by walking the mount
 * itself (directories are opened through it; regular files only with O_PATH,
 * which sends no OPEN, so that status never counts as a user of a
 * process-lifetime segment), and how much of each is in memory.
 *
 * Whatever users put in the store bounds nothing here: the walk is a loop
 * with one open directory per level and at most STATUS_MAX_DEPTH levels,
 * RES is counted a window at a time over the data of the backing object
 * only, within a time budget, and the backing object is opened only once it
 * is known to be the segment's own regular file. */
#include "status.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define RES_WINDOW_PAGES 16384 /* pages per mincore(): a 16 KiB vector */

struct walk {
	DIR *dirs[STATUS_MAX_DEPTH + 1]; /* the open directory of each level */
	size_t at[STATUS_MAX_DEPTH + 1]; /* length of rel for that directory */
	int depth;
	char *rel; /* name of the current entry below the mount point */
	size_t cap;
};

double status_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An attribute of the object behind an O_PATH fd: O_PATH fds have no
 * fgetxattr, but /proc/self/fd/N leads to the very same inode. */
static void seg_xattr(int fd, const char *name, char *buf, size_t len)
{
	char path[32];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = getxattr(path, name, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
}

/* Pages in memory among [off, end) of fd, one mapped window at a time. */
static int resident_range(int fd, off_t off, off_t end, uint64_t *pages, double deadline)
{
	static unsigned char vec[RES_WINDOW_PAGES];
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	while (off < end) {
		size_t len = (size_t)(end - off), n;
		void *map;

		if (len > RES_WINDOW_PAGES * page)
			len = RES_WINDOW_PAGES * page;
		if (status_now() > deadline)
			return -ETIME;
		map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, off);
		if (map == MAP_FAILED)
			return -errno;
		n = (len + page - 1) / page;
		if (mincore(map, len, vec) == 0)
			for (size_t i = 0; i < n; i++)
				*pages += vec[i] & 1;
		munmap(map, len);
		off += (off_t)len;
	}
	return 0;
}

/* Bytes of fd in memory. Only its data is looked at: SEEK_DATA skips holes
 * (tmpfs and disk filesystems report them; others call it all data), so a
 * sparse segment of any size costs what it has allocated. */
static int resident_bytes(int fd, uint64_t size, double deadline, uint64_t *bytes)
{
	off_t page = (off_t)sysconf(_SC_PAGESIZE), data = 0, hole;
	uint64_t pages = 0;
	int err;

	while ((uint64_t)data < size) {
		data = lseek(fd, data, SEEK_DATA);
		if (data < 0)
			break;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole > size)
			hole = (off_t)size;
		data -= data % page;
		if (hole <= data)
			hole = data + page;
		if ((err = resident_range(fd, data, hole, &pages, deadline)) < 0)
			return err;
		data = hole;
	}
	if (data < 0 && errno != ENXIO)
		return -errno;
	*bytes = pages * (uint64_t)page;
	return 0;
}

/* The backing object, opened for reading, if the path the daemon gave is
 * still the segment's own regular file (same inode number), reached without
 * a symlink or an untrusted mount. What users can put at that path (a FIFO,
 * a device, a symlink, a name ending in " (deleted)") is at most opened with
 * O_PATH, which opens nothing. O_NONBLOCK: a write lease another user holds
 * fails the open at once (EWOULDBLOCK) instead of waiting out its break. */
static int seg_open_backing(const struct status *s, struct seg *g)
{
	struct statx sx;
	char proc[32];
	int pfd, fd;

	if (g->backing[0] != '/')
		return -1;
	pfd = status_open_path(s->mounts, g->backing, O_PATH, &sx);
	if (pfd < 0)
		return -1;
	if (!S_ISREG(sx.stx_mode) || sx.stx_ino != g->ino) {
		close(pfd);
		return -1;
	}
	g->backing_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	fd = open(proc, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	close(pfd);
	return fd;
}

/* RES of g: counted, or its allocated size when the backing cannot be
 * checked or the time budget is spent. */
static void seg_resident(struct status *s, struct seg *g, uint64_t blocks)
{
	int fd = seg_open_backing(s, g);

	if (fd < 0 || resident_bytes(fd, g->size, s->deadline, &g->resident) < 0) {
		g->resident = blocks * 512;
		s->estimated++;
	}
	if (fd >= 0)
		close(fd);
}

static void status_add(struct status *s, const char *rel, int fd, const struct statx *sx)
{
	char backing[PATH_MAX + 16], opens[16];
	struct seg *g;

	if (s->nsegs == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct seg *grown = realloc(s->segs, cap * sizeof(*grown));

		if (!grown)
			return;
		s->segs = grown;
		s->cap = cap;
	}
	g = &s->segs[s->nsegs];
	memset(g, 0, sizeof(*g));
	seg_xattr(fd, "user.shmfs.backing", backing, sizeof(backing));
	g->name = strdup(rel);
	g->backing = strdup(backing);
	if (!g->name || !g->backing) {
		free(g->name);
		free(g->backing);
		return;
	}
	seg_xattr(fd, "user.shmfs.backend", g->backend, sizeof(g->backend));
	seg_xattr(fd, "user.shmfs.lifetime", g->lifetime, sizeof(g->lifetime));
	seg_xattr(fd, "user.shmfs.io", g->io, sizeof(g->io));
	seg_xattr(fd, "user.shmfs.opens", opens, sizeof(opens));
	g->opens = (unsigned)strtoul(opens, NULL, 10);
	g->size = sx->stx_size;
	g->ino = sx->stx_ino;
	seg_resident(s, g, sx->stx_blocks);
	s->nsegs++;
}

/* w->rel becomes the name of entry name of the current directory. */
static int walk_name(struct walk *w, const char *name)
{
	size_t at = w->at[w->depth], need = at + 1 + strlen(name) + 1;

	if (need > w->cap) {
		char *grown = realloc(w->rel, need);

		if (!grown)
			return -ENOMEM;
		w->rel = grown;
		w->cap = need;
	}
	snprintf(w->rel + at, w->cap - at, "%s%s", at ? "/" : "", name);
	return 0;
}

/* Descend into the directory behind the O_PATH fd: it is reopened through
 * that fd, not by name, so nothing swapped in meanwhile is entered. */
static void walk_push(struct status *s, struct walk *w, int fd)
{
	DIR *dp;
	int dfd;

	if (w->depth == STATUS_MAX_DEPTH) {
		s->deep++;
		return;
	}
	dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);
	if (dfd < 0)
		return;
	dp = fdopendir(dfd);
	if (!dp) {
		close(dfd);
		return;
	}
	w->depth++;
	w->dirs[w->depth] = dp;
	w->at[w->depth] = strlen(w->rel);
}

/* An object that is not a segment or a directory, by type (STATUS_TYPES). */
static void walk_other(struct status *s, mode_t mode)
{
	static const mode_t types[] = { S_IFLNK, S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if ((mode & S_IFMT) == types[i])
			s->others[i]++;
}

/* One entry of the current directory. Something mounted on it is not part
 * of the mount (and may be another user's FUSE mount): it is left alone. */
static void walk_entry(struct status *s, struct walk *w, const char *name)
{
	int fd = openat(dirfd(w->dirs[w->depth]), name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct statx sx;
	uint64_t id;

	if (fd < 0)
		return;
	if (status_mnt_id(fd, &id) == 0 && id == s->mnt->id && status_statx(fd, &sx) == 0 &&
	    walk_name(w, name) == 0) {
		if (S_ISREG(sx.stx_mode))
			status_add(s, w->rel, fd, &sx);
		else if (S_ISDIR(sx.stx_mode))
			walk_push(s, w, fd);
		else
			walk_other(s, sx.stx_mode); /* counted, never opened */
	}
	close(fd);
}

void status_walk(struct status *s)
{
	struct walk w = { .depth = 0 };
	struct dirent *de;
	int fd = openat(s->rootfd, ".", O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0 || !(w.dirs[0] = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while (w.depth >= 0) {
		de = readdir(w.dirs[w.depth]);
		if (!de) {
			closedir(w.dirs[w.depth--]);
			continue;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		walk_entry(s, &w, de->d_name);
	}
	free(w.rel);
}
