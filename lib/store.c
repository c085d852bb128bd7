#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "log.h"

int store_open_fd(struct store *st, int fd, const char *path, const char *prefix,
		  enum store_backend backend, enum lifetime lifetime)
{
	struct stat sb;
	int err;

	memset(st, 0, sizeof(*st));
	st->dirfd = st->mntfd = -1; /* store_close() after a failed open closes nothing */
	if (strlen(path) >= sizeof(st->path) || strlen(prefix) >= sizeof(st->prefix)) {
		close(fd);
		return -ENAMETOOLONG;
	}
	err = fstat(fd, &sb) ? errno : S_ISDIR(sb.st_mode) ? 0 : ENOTDIR;
	if (err) {
		close(fd);
		return -err;
	}
	st->dirfd = fd;
	/* (open_by_handle_at takes no O_PATH fd for the filesystem.) */
	st->mntfd = openat(st->dirfd, ".", O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);
	strcpy(st->path, path);
	strcpy(st->prefix, prefix);
	st->backend = backend;
	st->lifetime = lifetime;
	st->trusted = geteuid() == 0;
	return 0;
}

int store_open(struct store *st, const char *path, const char *prefix,
	       enum store_backend backend, enum lifetime lifetime)
{
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		memset(st, 0, sizeof(*st));
		st->dirfd = st->mntfd = -1;
		return -errno;
	}
	return store_open_fd(st, fd, path, prefix, backend, lifetime);
}

/* The directory name in the directory at, never followed; made with mode
 * when missing and create is set. An O_PATH fd or -errno. */
static int store_open_component(int at, const char *name, int create, mode_t mode, int *made)
{
	struct stat sb;
	int fd;

	*made = 0;
	fd = openat(at, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(at, name, mode) == 0)
			*made = 1;
		else if (errno != EEXIST)
			return -errno;
		fd = openat(at, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd >= 0)
		return fd;
	if (fstatat(at, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode))
		return -ELOOP;
	return -errno;
}

int store_open_path(const char *path, int create, mode_t mode, int *made)
{
	char name[NAME_MAX + 1];
	const char *p = path;
	int fd, made_last = 0;

	if (path[0] != '/')
		return -EINVAL;
	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		size_t n;
		int next;

		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (n == 0)
			break;
		if (n > NAME_MAX) {
			close(fd);
			return -ENAMETOOLONG;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		next = store_open_component(fd, name, create,
					    p[strspn(p, "/")] ? 0755 : mode, &made_last);
		close(fd);
		if (next < 0)
			return next;
		fd = next;
	}
	if (made)
		*made = made_last;
	return fd;
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

void store_fd_path(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

/* The xattr calls on any fd: O_PATH fds have none of their own (EBADF),
 * so those go through /proc/self/fd, which reaches the very object. */
static ssize_t fd_getxattr(int fd, const char *name, void *value, size_t len)
{
	char path[64];
	ssize_t n = fgetxattr(fd, name, value, len);

	if (n < 0 && errno == EBADF) {
		store_fd_path(fd, path, sizeof(path));
		n = getxattr(path, name, value, len);
	}
	return n;
}

static int fd_setxattr(int fd, const char *name, const void *value, size_t len)
{
	char path[64];
	int rc = fsetxattr(fd, name, value, len, 0);

	if (rc && errno == EBADF) {
		store_fd_path(fd, path, sizeof(path));
		rc = setxattr(path, name, value, len, 0);
	}
	return rc ? -errno : 0;
}

static int fd_removexattr(int fd, const char *name)
{
	char path[64];
	int rc = fremovexattr(fd, name);

	if (rc && errno == EBADF) {
		store_fd_path(fd, path, sizeof(path));
		rc = removexattr(path, name);
	}
	return rc ? -errno : 0;
}

static const char *store_lifetime_xattr(const struct store *st)
{
	return st->trusted ? STORE_TRUSTED_LIFETIME_XATTR : STORE_LIFETIME_XATTR;
}

enum lifetime store_lifetime_of(const struct store *st, int fd)
{
	char value[16];
	enum lifetime lt;
	ssize_t n;

	n = fd_getxattr(fd, store_lifetime_xattr(st), value, sizeof(value));
	if (n > 0 && lifetime_parse(value, (size_t)n, &lt) == 0)
		return lt;
	return st->lifetime;
}

enum lifetime store_lasting(const struct store *st)
{
	enum lifetime lt = store_kind_lasting(st->backend);

	return lifetime_lasts(lt) ? lt : st->lifetime;
}

int store_set_lifetime(const struct store *st, int fd, enum lifetime lt)
{
	const char *name = lifetime_name(lt);
	int rc;

	if (lt != st->lifetime)
		return fd_setxattr(fd, store_lifetime_xattr(st), name, strlen(name));
	rc = fd_removexattr(fd, store_lifetime_xattr(st));
	return rc == -ENODATA ? 0 : rc;
}

/* What marks an object as made by the mount of st: its path and prefix. */
static int store_token(const struct store *st, char *buf, size_t len)
{
	return snprintf(buf, len, "%s/%s", st->path, st->prefix);
}

static const char *store_mount_xattr(const struct store *st)
{
	return st->trusted ? STORE_TRUSTED_MOUNT_XATTR : STORE_USER_MOUNT_XATTR;
}

/* Whether what the mount makes in st is marked: where its lifetime has the
 * sweeps remove it, and the store outlives the mount. */
static int store_marks(const struct store *st)
{
	return lifetime_marks_made(st->lifetime) && store_kind_swept(st->backend);
}

int store_mark_made(const struct store *st, int fd)
{
	char token[PATH_MAX + NAME_MAX + 2];
	int n;

	if (!store_marks(st))
		return 0;
	n = store_token(st, token, sizeof(token));
	return fd_setxattr(fd, store_mount_xattr(st), token, (size_t)n);
}

int store_mark_made_at(const struct store *st, int dirfd, const char *name)
{
	int fd, rc;

	if (!store_marks(st))
		return 0;
	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = store_mark_made(st, fd);
	close(fd);
	return rc;
}

int store_made_here(const struct store *st, int fd)
{
	char token[PATH_MAX + NAME_MAX + 2], value[PATH_MAX + NAME_MAX + 2];
	int n = store_token(st, token, sizeof(token));
	ssize_t got = fd_getxattr(fd, store_mount_xattr(st), value, sizeof(value));

	return got == n && memcmp(token, value, (size_t)n) == 0;
}

/* One directory being walked, and how its parent saw it. */
struct walk_level {
	DIR *dp;
	char name[NAME_MAX + 1];
	struct stat sb;
};

/* Open the directory name of the level below, relative to its parent fd:
 * never a symlink (O_NOFOLLOW), never a FIFO (O_DIRECTORY), never waiting
 * (O_NONBLOCK), and the object lstat saw. A DIR or NULL. */
static DIR *walk_open(int parent, const char *name, const struct stat *sb,
		      const struct store_walk_ops *ops)
{
	struct stat now;
	DIR *dp;
	int fd;

	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &now) || now.st_dev != sb->st_dev || now.st_ino != sb->st_ino ||
	    (ops->enter && !ops->enter(fd, sb, ops->arg))) {
		close(fd);
		return NULL;
	}
	dp = fdopendir(fd);
	if (!dp)
		close(fd);
	return dp;
}

/* The next entry of level depth worth a look, with its lstat; NULL at the end. */
static const char *walk_next(const struct store *st, struct walk_level *lv, int depth,
			     const struct store_walk_ops *ops, struct stat *sb)
{
	struct dirent *de;

	while ((de = readdir(lv->dp))) {
		const char *name = store_visible_name(st, depth == 0, de->d_name);

		if (!name)
			continue;
		if (depth == 0 && ops->skip && ops->skip(name, ops->skip_arg))
			continue;
		if (fstatat(dirfd(lv->dp), de->d_name, sb, AT_SYMLINK_NOFOLLOW) == 0)
			return de->d_name;
	}
	return NULL;
}

int store_walk_with(const struct store *st, const struct store_walk_ops *ops)
{
	struct walk_level *lv = calloc(STORE_WALK_MAX_DEPTH + 1, sizeof(*lv));
	int depth = 0, fd, too_deep = 0;

	if (!lv)
		return -ENOMEM;
	fd = openat(st->dirfd, ".", O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);
	lv[0].dp = fd < 0 ? NULL : fdopendir(fd);
	if (!lv[0].dp) {
		if (fd >= 0)
			close(fd);
		free(lv);
		return 0;
	}
	while (depth >= 0) {
		struct walk_level *cur = &lv[depth];
		const char *name;
		struct stat sb;

		name = walk_next(st, cur, depth, ops, &sb);
		if (!name) {
			closedir(cur->dp);
			if (depth > 0)
				ops->visit(dirfd(lv[depth - 1].dp), cur->name, &cur->sb, ops->arg);
			depth--;
			continue;
		}
		if (!S_ISDIR(sb.st_mode)) {
			ops->visit(dirfd(cur->dp), name, &sb, ops->arg);
			continue;
		}
		if (depth == STORE_WALK_MAX_DEPTH) {
			too_deep = 1;
			continue;
		}
		lv[depth + 1].dp = walk_open(dirfd(cur->dp), name, &sb, ops);
		if (!lv[depth + 1].dp)
			continue;
		depth++;
		snprintf(lv[depth].name, sizeof(lv[depth].name), "%s", name);
		lv[depth].sb = sb;
	}
	free(lv);
	if (too_deep)
		log_warnx("%s: directories more than %d levels deep were left out of a walk",
			  st->path, STORE_WALK_MAX_DEPTH);
	return too_deep ? -E2BIG : 0;
}

int store_walk(const struct store *st, store_skip_fn skip, void *skip_arg,
	       store_visit_fn visit, void *arg)
{
	const struct store_walk_ops ops = { skip, skip_arg, NULL, visit, arg };

	return store_walk_with(st, &ops);
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
	int rw;

	/* O_NONBLOCK: an open that would break another user's lease fails
	 * with EWOULDBLOCK instead of waiting out the lease-break time. */
	store_fd_path(fd, path, sizeof(path));
	rw = open(path, flags | O_NONBLOCK | O_CLOEXEC);
	return rw < 0 ? -errno : store_nonblock_done(rw, flags);
}

int store_nonblock_done(int fd, int flags)
{
	int fl = fcntl(fd, F_GETFL);

	if (!(flags & O_NONBLOCK) && fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return fd;
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

/* A segment seen for the first time is kept open for reading and writing:
 * that one fd then serves every open of it (and registers it for
 * passthrough), instead of an open and a close per open file. fd is taken;
 * an O_RDWR fd is returned, or fd itself when that cannot be had (also when
 * another user holds a lease on it: the open never waits). */
int store_fd_is_rw(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && !(fl & O_PATH) && (fl & O_ACCMODE) == O_RDWR;
}

int store_open_rw(int fd)
{
	int rw;

	if (store_fd_is_rw(fd))
		return fd;
	rw = store_reopen(fd, O_RDWR);
	if (rw < 0)
		return fd;
	close(fd);
	return rw;
}


/* Open flags for the daemon's own open of a backing object: it reads and
 * writes for the kernel, which has checked the caller's access already. */
int store_backing_flags(int flags)
{
	return (flags & ~(O_ACCMODE | O_APPEND | O_DIRECT | O_NOCTTY | O_CREAT | O_EXCL |
			  O_NOFOLLOW)) | O_RDWR | O_CLOEXEC;
}

/* Filesystems whose every change passes through this kernel, so that a
 * mark sees it. Network and FUSE stores can change elsewhere; overlayfs
 * does not report changes made to its layers directly. */
int store_fs_local(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf))
		return 0;
	switch ((unsigned long)sf.f_type) {
	case TMPFS_MAGIC:
	case RAMFS_MAGIC:
	case EXT4_SUPER_MAGIC:
	case XFS_SUPER_MAGIC:
	case BTRFS_SUPER_MAGIC:
	case F2FS_SUPER_MAGIC:
		return 1;
	}
	return 0;
}
