#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

int store_open(struct store *st, const char *path, const char *prefix,
	       enum store_backend backend, enum lifetime lifetime)
{
	struct stat sb;

	memset(st, 0, sizeof(*st));
	st->dirfd = st->mntfd = -1; /* store_close() after a failed open closes nothing */
	if (strlen(path) >= sizeof(st->path) || strlen(prefix) >= sizeof(st->prefix))
		return -ENAMETOOLONG;
	st->dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (st->dirfd < 0)
		return -errno;
	if (fstat(st->dirfd, &sb)) {
		int err = errno;

		close(st->dirfd);
		st->dirfd = -1;
		return -err;
	}
	/* (open_by_handle_at takes no O_PATH fd for the filesystem.) */
	st->mntfd = openat(st->dirfd, ".", O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);
	strcpy(st->path, path);
	strcpy(st->prefix, prefix);
	st->backend = backend;
	st->lifetime = lifetime;
	return 0;
}

void store_close(struct store *st)
{
	if (st->dirfd >= 0)
		close(st->dirfd);
	if (st->mntfd >= 0)
		close(st->mntfd);
	st->dirfd = st->mntfd = -1;
}

int store_backing_name(const struct store *st, int top, const char *name,
		       char *out, size_t len)
{
	const char *prefix = top ? st->prefix : "";
	size_t n;

	if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	n = strlen(prefix) + strlen(name);
	if (n > NAME_MAX)
		return -ENAMETOOLONG;
	if (n >= len)
		return -ENAMETOOLONG;
	snprintf(out, len, "%s%s", prefix, name);
	return 0;
}

const char *store_visible_name(const struct store *st, int top, const char *name)
{
	size_t plen = top ? strlen(st->prefix) : 0;

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return NULL;
	if (plen && strncmp(name, st->prefix, plen) != 0)
		return NULL;
	name += plen;
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return NULL;
	return name;
}

int store_type_shown(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFIFO: case S_IFSOCK:
	case S_IFCHR: case S_IFBLK:
		return 1;
	default:
		return 0;
	}
}

const char *store_backend_name(enum store_backend backend)
{
	return backend == STORE_SHM ? "shm" : "file";
}

void store_fd_path(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

int store_parse_lifetime(const char *value, size_t len, enum lifetime *out)
{
	static const enum lifetime all[] = { LIFETIME_KERNEL, LIFETIME_DISK, LIFETIME_MOUNT,
					     LIFETIME_PROCESS };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		const char *name = config_lifetime_name(all[i]);

		if (strlen(name) == len && memcmp(name, value, len) == 0) {
			*out = all[i];
			return 0;
		}
	}
	return -EINVAL;
}

enum lifetime store_lifetime_of(const struct store *st, int fd)
{
	char path[64], value[16];
	enum lifetime lt;
	ssize_t n;

	n = fgetxattr(fd, STORE_LIFETIME_XATTR, value, sizeof(value));
	if (n < 0 && errno == EBADF) {
		/* O_PATH fds have no fgetxattr: go through the path. */
		store_fd_path(fd, path, sizeof(path));
		n = getxattr(path, STORE_LIFETIME_XATTR, value, sizeof(value));
	}
	if (n > 0 && store_parse_lifetime(value, (size_t)n, &lt) == 0)
		return lt;
	return st->lifetime;
}

static void store_walk_dir(const struct store *st, int fd, int top, store_skip_fn skip,
			   void *skip_arg, store_visit_fn visit, void *arg)
{
	struct dirent *de;
	DIR *dp;

	dp = fdopendir(fd);
	if (!dp) {
		close(fd);
		return;
	}
	while ((de = readdir(dp))) {
		const char *name = store_visible_name(st, top, de->d_name);
		struct stat sb;

		if (!name || (top && skip && skip(name, skip_arg)))
			continue;
		if (fstatat(dirfd(dp), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) ||
		    !store_type_shown(sb.st_mode))
			continue;
		if (S_ISDIR(sb.st_mode)) {
			int sub = openat(dirfd(dp), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0)
				store_walk_dir(st, sub, 0, NULL, NULL, visit, arg);
		}
		visit(dirfd(dp), de->d_name, &sb, arg);
	}
	closedir(dp);
}

void store_walk(const struct store *st, store_skip_fn skip, void *skip_arg,
		store_visit_fn visit, void *arg)
{
	int fd = openat(st->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0)
		store_walk_dir(st, fd, 1, skip, skip_arg, visit, arg);
}

/* Owner, mode and size of a file being made; -errno. */
static int store_complete_file(int fd, mode_t mode, uid_t uid, gid_t gid, off_t size)
{
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid))
		return -errno;
	/* fchown may clear set-group-ID: set the mode after it. */
	if (fchmod(fd, mode & 07777))
		return -errno;
	if (size && ftruncate(fd, size))
		return -errno;
	return 0;
}

int store_reopen(int fd, int flags)
{
	char path[64];
	int rw, fl;

	/* O_NONBLOCK: an open that would break another user's lease fails
	 * with EWOULDBLOCK instead of waiting out the lease-break time. */
	store_fd_path(fd, path, sizeof(path));
	rw = open(path, flags | O_NONBLOCK | O_CLOEXEC);
	if (rw < 0)
		return -errno;
	fl = fcntl(rw, F_GETFL);
	if (!(flags & O_NONBLOCK) && fl >= 0)
		fcntl(rw, F_SETFL, fl & ~O_NONBLOCK);
	return rw;
}

static int store_same_object(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

int store_create_file(int dirfd, const char *name, mode_t mode, uid_t uid, gid_t gid,
		      off_t size)
{
	char path[64];
	int fd, rc, named;

	fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode & 0700);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		/* No O_TMPFILE here: made in place, then completed. */
		fd = openat(dirfd, name, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC,
			    mode & 0700);
		if (fd < 0)
			return -errno;
		rc = store_complete_file(fd, mode, uid, gid, size);
		if (rc) {
			struct stat made;

			if (fstat(fd, &made) == 0)
				store_unlink_at(dirfd, name, &made);
			close(fd);
		}
		return rc ? rc : fd;
	}
	if (fd < 0)
		return -errno;
	rc = store_complete_file(fd, mode, uid, gid, size);
	store_fd_path(fd, path, sizeof(path));
	if (!rc && linkat(AT_FDCWD, path, dirfd, name, AT_SYMLINK_FOLLOW))
		rc = -errno;
	if (rc) {
		close(fd);
		return rc;
	}
	/* An fd of the unnamed file keeps its anonymous path (/proc/self/fd
	 * says "#ino (deleted)"): hand back an open of the name instead, but
	 * only if the name still holds this very file. In a directory others
	 * may write, the name may have been swapped already; then the file
	 * made is still the one to hand back. */
	named = openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (named < 0 || !store_same_object(named, fd)) {
		if (named >= 0)
			close(named);
		return fd;
	}
	close(fd);
	fcntl(named, F_SETFL, O_RDWR);
	return named;
}

int store_unlink_at(int dirfd, const char *name, const struct stat *want)
{
	struct stat got;

	if (fstatat(dirfd, name, &got, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (got.st_dev != want->st_dev || got.st_ino != want->st_ino)
		return -ESTALE; /* the name is another object's now */
	return unlinkat(dirfd, name, S_ISDIR(got.st_mode) ? AT_REMOVEDIR : 0) ? -errno : 0;
}

/* The directory of the store that holds rel's last component, opened
 * without following any symlink or leaving the store; *leaf points into
 * rel. Returns an O_PATH fd or -errno. */
static int store_open_parent(const struct store *st, char *rel, const char **leaf)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			   RESOLVE_NO_XDEV,
	};
	char *slash = strrchr(rel, '/');
	long fd;

	if (!slash) {
		*leaf = rel;
		fd = fcntl(st->dirfd, F_DUPFD_CLOEXEC, 0);
		return fd < 0 ? -errno : (int)fd;
	}
	*slash = '\0';
	*leaf = slash + 1;
	fd = syscall(SYS_openat2, st->dirfd, rel, &how, sizeof(how));
	return fd < 0 ? -errno : (int)fd;
}

/* The path of the object behind fd relative to the store's top, from what
 * /proc says of both; -ENOENT when it has no name in the store. */
static int store_relative_path(const struct store *st, int fd, char *rel, size_t len)
{
	char link[64], top[PATH_MAX], path[PATH_MAX];
	ssize_t nt, np;

	store_fd_path(st->dirfd, link, sizeof(link));
	nt = readlink(link, top, sizeof(top) - 1);
	store_fd_path(fd, link, sizeof(link));
	np = readlink(link, path, sizeof(path) - 1);
	if (nt <= 0 || np <= 0)
		return -ENOENT;
	top[nt] = path[np] = '\0';
	if (strcmp(top, "/") == 0)
		nt = 0;
	if (strncmp(path, top, (size_t)nt) != 0 || path[nt] != '/' ||
	    (size_t)(np - nt) >= len)
		return -ENOENT;
	strcpy(rel, path + nt + 1);
	return 0;
}

int store_unlink_fd(const struct store *st, int fd)
{
	char rel[PATH_MAX];
	const char *leaf;
	struct stat want;
	int dir, rc;

	if (fstat(fd, &want))
		return -errno;
	rc = store_relative_path(st, fd, rel, sizeof(rel));
	if (rc)
		return rc;
	dir = store_open_parent(st, rel, &leaf);
	if (dir < 0)
		return dir;
	rc = store_unlink_at(dir, leaf, &want);
	close(dir);
	return rc;
}
