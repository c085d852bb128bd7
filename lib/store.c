#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

int store_open(struct store *st, const char *path, const char *prefix,
	       enum store_backend backend, enum lifetime lifetime)
{
	struct stat sb;

	memset(st, 0, sizeof(*st));
	st->dirfd = -1; /* store_close() after a failed open closes nothing */
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
	st->dirfd = -1;
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
	return S_ISREG(mode) || S_ISDIR(mode);
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
			unlinkat(dirfd, name, 0);
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
	 * says "#ino (deleted)"): hand back an open of the name instead. */
	named = openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	close(fd);
	return named < 0 ? -errno : named;
}
