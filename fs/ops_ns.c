/* ops_ns.c: the namespace: lookup, attributes, create, remove, rename. */
#include "shmfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>

#include "killpriv.h"
#include "watch.h"

struct inode *shmfs_inode(fuse_req_t req, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return &shmfs_data(req)->root;
	return (struct inode *)(uintptr_t)ino;
}

static fuse_ino_t shmfs_nodeid(struct shmfs *fs, struct inode *in)
{
	return in == &fs->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)in;
}

/* A process segment is removed by the name its fd has (store_unlink_fd).
 * If that name was unlinked while another name of it remains (a hard link,
 * as sem_open makes: a temporary name, a link, an unlink), give the fd the
 * name the lookup came by: an fd of the same object, put in place with
 * dup3, which swaps the file behind the number at once for every thread.
 * opath is an fd of in's object. */
static void shmfs_renew_name(struct inode *in, int opath)
{
	static const char deleted[] = " (deleted)";
	size_t dl = sizeof(deleted) - 1;
	char link[64], path[PATH_MAX];
	ssize_t n;
	int fd;

	if (in->fd < 0)
		return;
	store_fd_path(in->fd, link, sizeof(link));
	n = readlink(link, path, sizeof(path));
	if (n < (ssize_t)dl || memcmp(path + n - (ssize_t)dl, deleted, dl) != 0)
		return;
	fd = in->fd_rw ? store_reopen(opath, O_RDWR) : fcntl(opath, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return;
	dup3(fd, in->fd, O_CLOEXEC);
	close(fd);
}

int shmfs_entry(struct shmfs *fs, struct store *store, int top, int opath,
		struct fuse_entry_param *e)
{
	struct inode *in;
	int err;

	memset(e, 0, sizeof(*e));
	e->attr_timeout = fs->timeout;
	e->entry_timeout = fs->timeout;
	if (fstat(opath, &e->attr)) {
		err = errno;
		close(opath);
		return err;
	}
	if (!store_type_shown(e->attr.st_mode)) {
		close(opath);
		return ENOENT;
	}
	in = S_ISREG(e->attr.st_mode) ? itable_find(&fs->inodes, &e->attr) : NULL;
	if (in) {
		if (shmfs_lifetime(in) == LIFETIME_PROCESS)
			shmfs_renew_name(in, opath);
		close(opath);
	} else {
		if (S_ISREG(e->attr.st_mode) && itable_keeps_fd(&fs->inodes))
			opath = shmfs_open_rw(opath);
		in = itable_acquire(&fs->inodes, opath, &e->attr, store, top);
		if (!in)
			return ENOMEM;
	}
	e->ino = shmfs_nodeid(fs, in);
	/* A process-lifetime segment vanishes by the daemon's hand, not the
	 * kernel's: cache nothing about it, so its name goes at once. */
	if (S_ISREG(e->attr.st_mode) && shmfs_lifetime(in) == LIFETIME_PROCESS) {
		e->attr_timeout = 0;
		e->entry_timeout = 0;
	}
	return 0;
}

/* A segment's lifetime is read from its backing object once, then kept
 * (shmfs_set_lifetime updates it): lookups, opens and releases ask. */
enum lifetime shmfs_lifetime(struct inode *in)
{
	int lt;

	if (in->type != S_IFREG)
		return in->store->lifetime;
	lt = __atomic_load_n(&in->lifetime, __ATOMIC_RELAXED);
	if (lt < 0) {
		int fd = inode_fd(in);

		if (fd < 0)
			return in->store->lifetime; /* gone: asked again next time */
		lt = (int)store_lifetime_of(in->store, fd);
		inode_fd_done(in, fd);
		__atomic_store_n(&in->lifetime, lt, __ATOMIC_RELAXED);
	}
	return (enum lifetime)lt;
}

void shmfs_forget_lifetime(struct inode *in)
{
	__atomic_store_n(&in->lifetime, -1, __ATOMIC_RELAXED);
}

int shmfs_pinned(struct shmfs *fs, struct inode *dir, const char *name)
{
	return dir == &fs->root && stores_graft(&fs->stores, name) != NULL;
}

/* A declared name of the root: its object is wherever the config put it. */
static int shmfs_lookup_graft(struct shmfs *fs, struct graft *g, struct fuse_entry_param *e)
{
	int fd;

	if (g->decl->is_dir)
		fd = openat(g->store->dirfd, ".", O_PATH | O_CLOEXEC);
	else
		fd = openat(g->store->dirfd, g->leaf, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno;
	return shmfs_entry(fs, g->store, g->decl->is_dir, fd, e);
}

int shmfs_do_lookup(struct shmfs *fs, struct inode *dir, const char *name,
		    struct fuse_entry_param *e)
{
	char bname[NAME_MAX + 1];
	struct graft *g;
	int fd, dfd, err;

	memset(e, 0, sizeof(*e));
	e->attr_timeout = fs->timeout;
	e->entry_timeout = fs->timeout;
	err = store_backing_name(dir->store, dir->top, name, bname, sizeof(bname));
	if (err)
		return -err;
	if (dir == &fs->root && (g = stores_graft(&fs->stores, name)))
		return shmfs_lookup_graft(fs, g, e) ?: watch_entry(fs, dir, name, e);
	dfd = inode_fd(dir);
	if (dfd < 0)
		return -dfd;
	fd = openat(dfd, bname, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	err = fd < 0 ? errno : 0;
	inode_fd_done(dir, dfd);
	if (err)
		return err;
	return shmfs_entry(fs, dir->store, 0, fd, e) ?: watch_entry(fs, dir, name, e);
}

/* A segment seen for the first time is kept open for reading and writing:
 * that one fd then serves every open of it (and registers it for
 * passthrough), instead of an open and a close per open file. fd is taken;
 * an O_RDWR fd is returned, or fd itself when that cannot be had (also when
 * another user holds a lease on it: the open never waits). */
int shmfs_open_rw(int fd)
{
	int fl = fcntl(fd, F_GETFL), rw;

	if (fl >= 0 && !(fl & O_PATH) && (fl & O_ACCMODE) == O_RDWR)
		return fd;
	rw = store_reopen(fd, O_RDWR);
	if (rw < 0)
		return fd;
	close(fd);
	return rw;
}

int shmfs_open_backing(struct inode *in, int flags)
{
	return inode_reopen(in, flags & ~O_CLOEXEC);
}

void shmfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct shmfs *fs = shmfs_data(req);
	struct fuse_entry_param e;
	int err;

	err = shmfs_do_lookup(fs, shmfs_inode(req, parent), name, &e);
	if (err == ENOENT) {
		/* A negative entry: the kernel caches the absence for the
		 * entry timeout, so a create need not ask twice. */
		e.ino = 0;
		fuse_reply_entry(req, &e);
		return;
	}
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

void shmfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct shmfs *fs = shmfs_data(req);

	if (ino != FUSE_ROOT_ID)
		itable_forget(&fs->inodes, shmfs_inode(req, ino), nlookup);
	fuse_reply_none(req);
}

void shmfs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct shmfs *fs = shmfs_data(req);

	for (size_t i = 0; i < count; i++)
		if (forgets[i].ino != FUSE_ROOT_ID)
			itable_forget(&fs->inodes, shmfs_inode(req, forgets[i].ino),
				      forgets[i].nlookup);
	fuse_reply_none(req);
}

int shmfs_stat(struct inode *in, struct stat *st)
{
	int fd = inode_fd(in), err;

	if (fd < 0)
		return -fd;
	err = fstat(fd, st) ? errno : 0;
	inode_fd_done(in, fd);
	return err;
}

void shmfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct inode *in = shmfs_inode(req, ino);
	struct stat st;
	int err;

	(void)fi;
	err = shmfs_stat(in, &st);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	fuse_reply_attr(req, &st, watch_attr_timeout(shmfs_data(req), in));
}

/* A cached-mode mapping dirties the FUSE page cache; the kernel writes
 * those pages back (FUSE_WRITE) only later, and a store that is full then
 * refuses them where no program sees it (only msync or fsync would say
 * ENOSPC). So when a segment of a cached mount grows, the store space is
 * taken at once: the new range is allocated (fallocate mode 0, which
 * extends the size like ftruncate, and which tmpfs undoes entirely when
 * it fails), and a full store fails the truncate with ENOSPC (EFBIG for a
 * size past the whole store). Returns an errno, or -1 when the store cannot
 * allocate (then ftruncate does). */
/* Whether size is more than the whole store behind fd could ever hold: a
 * size it can never back is "too large" (EFBIG), not "no space now". */
static int shmfs_past_store(int fd, off_t size)
{
	struct statvfs sv;

	return fstatvfs(fd, &sv) == 0 && (uint64_t)size / sv.f_frsize > sv.f_blocks;
}

static int shmfs_grow_reserved(struct shmfs *fs, struct inode *in, int fd, off_t size)
{
	struct stat st;

	if (shmfs_io_choice(fs, in) != INODE_IO_CACHED || fstat(fd, &st) || size <= st.st_size)
		return -1;
	if (fallocate(fd, 0, st.st_size, size - st.st_size) == 0)
		return 0;
	if (errno == EOPNOTSUPP || errno == ENOSYS)
		return -1;
	return errno == ENOSPC && shmfs_past_store(fd, size) ? EFBIG : errno;
}

/* Truncate in by fd (an open file of it) or by an open of its own; never
 * truncate(2) by path, which waits out another user's lease. An errno. */
static int shmfs_truncate(struct shmfs *fs, struct inode *in, int fd, off_t size)
{
	int own = -1, rc = 0;

	if (fd < 0 && in->fd_rw)
		fd = in->fd;
	if (fd < 0) {
		if (!S_ISREG(in->type))
			return EISDIR;
		fd = own = inode_reopen(in, O_WRONLY);
		if (fd < 0)
			return -fd;
	}
	rc = shmfs_grow_reserved(fs, in, fd, size);
	if (rc < 0)
		rc = ftruncate(fd, size) ? errno : 0;
	if (own >= 0)
		close(own);
	return rc;
}

/* Apply the changes of a SETATTR to in, whose object ifd is (any fd); fd
 * is an open file of the inode or -1. */
static int shmfs_do_setattr(struct shmfs *fs, struct inode *in, int ifd, int fd,
			    const struct stat *attr, int valid)
{
	char path[64];

	store_fd_path(ifd, path, sizeof(path));
	if (valid & FUSE_SET_ATTR_MODE) {
		if (fchmodat(AT_FDCWD, path, attr->st_mode & 07777, 0))
			return errno;
	}
	if (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t uid = (valid & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
		gid_t gid = (valid & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;

		if (fchownat(ifd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
			return errno;
	}
	if (valid & FUSE_SET_ATTR_SIZE) {
		int64_t charged;
		int rc = shmfs_charge_size(fs, ifd, (uint64_t)attr->st_size, 1, &charged);

		if (rc)
			return rc;
		rc = shmfs_truncate(fs, in, fd, attr->st_size);
		if (rc) {
			stores_uncharge(&fs->stores, 0, charged);
			return rc;
		}
	}
	if (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
		struct timespec tv[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };

		if (valid & FUSE_SET_ATTR_ATIME_NOW)
			tv[0].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_ATIME)
			tv[0] = attr->st_atim;
		if (valid & FUSE_SET_ATTR_MTIME_NOW)
			tv[1].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_MTIME)
			tv[1] = attr->st_mtim;
		/* With an empty path, on the object ifd holds: an O_PATH fd
		 * of a symlink, FIFO or socket too, none of them opened. */
		if (utimensat(ifd, "", tv, AT_EMPTY_PATH))
			return errno;
	}
	return 0;
}

void shmfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
		   struct fuse_file_info *fi)
{
	struct inode *in = shmfs_inode(req, ino);
	int ifd, err;

	order_wait(&shmfs_data(req)->order);
	ifd = inode_fd(in);
	if (ifd < 0) {
		err = -ifd;
	} else {
		/* A truncate, open(O_TRUNC), fallocate, chown or passthrough
		 * write by a caller without CAP_FSETID: setuid/setgid bits go
		 * first. */
		err = killpriv_asked() ? killpriv_apply(req, ifd) : 0;
		if (!err)
			err = shmfs_do_setattr(shmfs_data(req), in, ifd, fi ? (int)fi->fh : -1,
					       attr, valid);
		inode_fd_done(in, ifd);
	}
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	shmfs_getattr(req, ino, fi);
}

int shmfs_caller(fuse_req_t req, struct creds *c)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	int n;

	c->uid = ctx->uid;
	c->gid = ctx->gid;
	n = fuse_req_getgroups(req, CREDS_MAX_GROUPS, c->groups);
	if (n < 0)
		return -n;
	/* Past CREDS_MAX_GROUPS the rest are left out: the caller may then be
	 * refused what a group beyond them would allow. */
	c->ngroups = n < CREDS_MAX_GROUPS ? n : CREDS_MAX_GROUPS;
	return 0;
}

/* Open flags for the daemon's own open of a backing object: it reads and
 * writes for the kernel, which has checked the caller's access already. */
int shmfs_backing_flags(int flags)
{
	return (flags & ~(O_ACCMODE | O_APPEND | O_DIRECT | O_NOCTTY | O_CREAT | O_EXCL |
			  O_NOFOLLOW)) | O_RDWR | O_CLOEXEC;
}

static int shmfs_make_file(struct shmfs *fs, struct inode *dir, int dirfd, const char *bname,
			   mode_t mode, int *fdp)
{
	int limited = quota_active(&fs->stores.limits);
	int fd;

	if (limited && stores_charge(&fs->stores, 1, 0))
		return ENOSPC;
	/* Made whole, then named: a crash leaves nothing half-made. */
	fd = store_create_file(dirfd, bname, mode, (uid_t)-1, (gid_t)-1, 0);
	if (fd < 0) {
		if (limited)
			stores_uncharge(&fs->stores, 1, 0);
		return -fd;
	}
	store_mark_made(dir->store, fd); /* lifetime mount/process: the sweeps' mark */
	if (fdp)
		*fdp = fd;
	else
		close(fd);
	return 0;
}

/* What to make: the type and mode, and a device number (mknod) or a
 * symlink's target. */
struct shmfs_node {
	mode_t mode;
	dev_t rdev;
	const char *target;
};

static int shmfs_make_node(int dirfd, const char *bname, const struct shmfs_node *n)
{
	int rc;

	if (S_ISDIR(n->mode))
		rc = mkdirat(dirfd, bname, n->mode & 07777);
	else if (S_ISLNK(n->mode))
		rc = symlinkat(n->target, dirfd, bname);
	else if (S_ISFIFO(n->mode) || S_ISSOCK(n->mode) || S_ISCHR(n->mode) || S_ISBLK(n->mode))
		/* Device nodes need CAP_MKNOD, which the thread has only while
		 * its fs uid is 0: only a root caller makes one. The mount is
		 * nodev, so they open nothing through it. */
		rc = mknodat(dirfd, bname, n->mode, n->rdev);
	else
		return EINVAL;
	return rc ? errno : 0;
}

/* Make bname in dir; the thread acts as the caller meanwhile. */
static int shmfs_make_as(struct shmfs *fs, struct inode *dir, const char *bname,
			 const struct shmfs_node *n, int *fd)
{
	int dirfd, err;

	dirfd = inode_fd(dir);
	if (dirfd < 0)
		return -dirfd;
	if (S_ISREG(n->mode))
		err = shmfs_make_file(fs, dir, dirfd, bname, n->mode, fd);
	else
		err = shmfs_make_node(dirfd, bname, n);
	inode_fd_done(dir, dirfd);
	return err;
}

/* Run fn as the caller of req (fs uid, gid), with its supplementary groups
 * or with none. */
static int shmfs_as_caller_with(fuse_req_t req, int (*fn)(void *), void *arg, int groups)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	/* Without groups: the thread has none (creds.h), so they stay. */
	struct creds caller = { .uid = ctx->uid, .gid = ctx->gid, .ngroups = -1 };
	int err = groups ? shmfs_caller(req, &caller) : 0;

	if (!err)
		err = -creds_become(&caller);
	if (err)
		return err;
	err = fn(arg);
	creds_restore();
	return err;
}

/* Run fn as the caller of req. Fetching the caller's supplementary groups
 * reads /proc: only when the store refused the caller without them. fn must
 * have done nothing when it fails with EACCES. */
static int shmfs_as_caller(fuse_req_t req, int (*fn)(void *), void *arg)
{
	int err = shmfs_as_caller_with(req, fn, arg, 0);

	return err == EACCES ? shmfs_as_caller_with(req, fn, arg, 1) : err;
}

struct shmfs_make_call {
	struct shmfs *fs;
	struct inode *dir;
	const char *bname;
	const struct shmfs_node *node;
	int *fd;
};

static int shmfs_make_call(void *arg)
{
	struct shmfs_make_call *c = arg;

	return shmfs_make_as(c->fs, c->dir, c->bname, c->node, c->fd);
}

static int shmfs_make_node_named(fuse_req_t req, struct inode *dir, const char *name,
				 const struct shmfs_node *n, int *fd)
{
	char bname[NAME_MAX + 1];
	struct shmfs_make_call c = { shmfs_data(req), dir, bname, n, fd };
	int err;

	err = store_backing_name(dir->store, dir->top, name, bname, sizeof(bname));
	if (err)
		return -err;
	if (shmfs_pinned(shmfs_data(req), dir, name))
		return EEXIST;
	/* Made by the caller: the store checks the caller's access to dir,
	 * and the new object is the caller's from its first instant (in a
	 * set-group-ID directory, of the directory's group), so there is no
	 * chown by name that a swap of the name could misdirect. */
	return shmfs_as_caller(req, shmfs_make_call, &c);
}

int shmfs_make(fuse_req_t req, struct inode *dir, const char *name, mode_t mode, int *fd)
{
	struct shmfs_node n = { .mode = mode };

	return shmfs_make_node_named(req, dir, name, &n, fd);
}

/* Whether what a lookup found at a name just made is what was made: the
 * caller's (a daemon that is not root makes its own). In a directory
 * others may write, the name may have been swapped in between; mkdir(2)
 * gives no fd of what it made. */
static int shmfs_made_by(fuse_req_t req, const struct stat *st)
{
	uid_t maker = geteuid() == 0 ? fuse_req_ctx(req)->uid : geteuid();

	return st->st_uid == maker;
}

/* The sweeps' mark on what the daemon made (lifetime mount and process). */
static void shmfs_mark_made(struct inode *in)
{
	int fd = inode_fd(in);

	if (fd >= 0)
		store_mark_made(in->store, fd);
	inode_fd_done(in, fd);
}

static void shmfs_make_reply(fuse_req_t req, fuse_ino_t parent, const char *name,
			     const struct shmfs_node *n)
{
	struct shmfs *fs = shmfs_data(req);
	struct inode *dir = shmfs_inode(req, parent);
	struct fuse_entry_param e;
	int err;

	err = shmfs_make_node_named(req, dir, name, n, NULL);
	if (!err)
		err = shmfs_do_lookup(fs, dir, name, &e);
	if (!err && !shmfs_made_by(req, &e.attr)) {
		itable_forget(&fs->inodes, shmfs_inode(req, e.ino), 1);
		err = EEXIST;
	}
	if (!err && !S_ISREG(n->mode))
		shmfs_mark_made(shmfs_inode(req, e.ino)); /* files were, as they were made */
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

void shmfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	struct shmfs_node n = { .mode = mode, .rdev = rdev };

	shmfs_make_reply(req, parent, name, &n);
}

void shmfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct shmfs_node n = { .mode = S_IFDIR | (mode & 07777) };

	shmfs_make_reply(req, parent, name, &n);
}

/* A symlink is kept as a symlink in the store; the daemon never follows
 * one (every open and stat of a name is O_NOFOLLOW), the client's kernel
 * resolves it. */
void shmfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	struct shmfs_node n = { .mode = S_IFLNK | 0777, .target = link };

	shmfs_make_reply(req, parent, name, &n);
}

void shmfs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct inode *in = shmfs_inode(req, ino);
	char buf[PATH_MAX + 1];
	ssize_t n;
	int fd = inode_fd(in), err = 0;

	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	/* An empty path reads the symlink an O_PATH fd refers to. */
	n = readlinkat(fd, "", buf, sizeof(buf) - 1);
	if (n < 0)
		err = errno;
	inode_fd_done(in, fd);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	buf[n] = '\0';
	fuse_reply_readlink(req, buf);
}

struct shmfs_link_call {
	struct inode *in, *dir;
	const char *bname;
};

/* As the caller: the store then applies fs.protected_hardlinks and the
 * directory's permissions to the caller, as the kernel did on the mount. */
static int shmfs_link_call(void *arg)
{
	struct shmfs_link_call *c = arg;
	char path[64];
	int ifd, dfd, err = 0;

	ifd = inode_fd(c->in);
	if (ifd < 0)
		return -ifd;
	dfd = inode_fd(c->dir);
	if (dfd < 0) {
		inode_fd_done(c->in, ifd);
		return -dfd;
	}
	/* Following /proc/self/fd/N reaches the very object the fd holds (a
	 * symlink stays a symlink); linkat with AT_EMPTY_PATH would need
	 * CAP_DAC_READ_SEARCH, which a thread with the caller's fs uid lacks. */
	store_fd_path(ifd, path, sizeof(path));
	if (linkat(AT_FDCWD, path, dfd, c->bname, AT_SYMLINK_FOLLOW))
		err = errno;
	inode_fd_done(c->dir, dfd);
	inode_fd_done(c->in, ifd);
	return err;
}

static int shmfs_do_link(fuse_req_t req, struct inode *in, struct inode *dir, const char *name)
{
	char bname[NAME_MAX + 1];
	struct shmfs_link_call c = { in, dir, bname };
	int err;

	/* Names in two stores cannot be one object: ln fails as across
	 * filesystems. */
	if (in->store != dir->store)
		return EXDEV;
	if (S_ISDIR(in->type))
		return EPERM;
	err = store_backing_name(dir->store, dir->top, name, bname, sizeof(bname));
	if (err)
		return -err;
	if (shmfs_pinned(shmfs_data(req), dir, name))
		return EEXIST;
	return shmfs_as_caller(req, shmfs_link_call, &c);
}

/* A hard link: one more name of the same object, so the same inode (the
 * table finds inodes by device and inode number). Limits count objects,
 * not names: a link charges nothing. */
void shmfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct shmfs *fs = shmfs_data(req);
	struct inode *in = shmfs_inode(req, ino);
	struct inode *dir = shmfs_inode(req, newparent);
	struct fuse_entry_param e;
	int err;

	err = shmfs_do_link(req, in, dir, newname);
	if (!err)
		err = shmfs_do_lookup(fs, dir, newname, &e);
	if (!err && (e.attr.st_dev != in->dev || e.attr.st_ino != in->ino)) {
		/* The new name was swapped for another object at once. */
		itable_forget(&fs->inodes, shmfs_inode(req, e.ino), 1);
		err = EEXIST;
	}
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

/* Before a name in dirfd goes: when limits are counted, what it held. A
 * segment is counted once, whatever its names: only its last name holds
 * it. (Two names unlinked at once may both see the other: the count then
 * keeps a segment too many until a refused change recounts.) */
static void shmfs_held(struct shmfs *fs, int dirfd, const char *bname, struct usage *held)
{
	struct stat st;

	held->segments = held->bytes = 0;
	if (quota_active(&fs->stores.limits) &&
	    fstatat(dirfd, bname, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	    st.st_nlink == 1) {
		held->segments = 1;
		held->bytes = (uint64_t)st.st_size;
	}
}

static void shmfs_remove(fuse_req_t req, fuse_ino_t parent, const char *name, int flags)
{
	struct shmfs *fs = shmfs_data(req);
	struct inode *dir = shmfs_inode(req, parent);
	char bname[NAME_MAX + 1];
	struct usage held;
	int dirfd = -1, err;

	err = -store_backing_name(dir->store, dir->top, name, bname, sizeof(bname));
	if (!err && shmfs_pinned(fs, dir, name))
		err = EBUSY;
	if (!err && (dirfd = inode_fd(dir)) < 0)
		err = -dirfd;
	if (!err) {
		shmfs_held(fs, dirfd, bname, &held);
		if (unlinkat(dirfd, bname, flags))
			err = errno;
		else
			stores_uncharge(&fs->stores, (int64_t)held.segments, (int64_t)held.bytes);
	}
	inode_fd_done(dir, dirfd);
	fuse_reply_err(req, err);
}

void shmfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	shmfs_remove(req, parent, name, 0);
}

void shmfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	shmfs_remove(req, parent, name, AT_REMOVEDIR);
}

void shmfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		  const char *newname, unsigned int flags)
{
	struct shmfs *fs = shmfs_data(req);
	struct inode *from = shmfs_inode(req, parent);
	struct inode *to = shmfs_inode(req, newparent);
	char bfrom[NAME_MAX + 1], bto[NAME_MAX + 1];
	struct usage held = { 0, 0 };
	int ffd = -1, tfd = -1, err;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (shmfs_pinned(fs, from, name) || shmfs_pinned(fs, to, newname)) {
		fuse_reply_err(req, EBUSY);
		return;
	}
	/* Stores differ in where and how long objects live: mv copies. */
	if (from->store != to->store) {
		fuse_reply_err(req, EXDEV);
		return;
	}
	err = -store_backing_name(from->store, from->top, name, bfrom, sizeof(bfrom));
	if (!err)
		err = -store_backing_name(to->store, to->top, newname, bto, sizeof(bto));
	if (!err && (ffd = inode_fd(from)) < 0)
		err = -ffd;
	if (!err && (tfd = inode_fd(to)) < 0)
		err = -tfd;
	if (!err && !(flags & RENAME_EXCHANGE))
		shmfs_held(fs, tfd, bto, &held);
	if (!err && renameat2(ffd, bfrom, tfd, bto, flags))
		err = errno;
	else if (!err)
		stores_uncharge(&fs->stores, (int64_t)held.segments, (int64_t)held.bytes);
	inode_fd_done(from, ffd);
	inode_fd_done(to, tfd);
	fuse_reply_err(req, err);
}

void shmfs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct shmfs *fs = shmfs_data(req);
	struct inode *in = shmfs_inode(req, ino);
	struct statvfs sv;
	int fd = inode_fd(in), err;

	err = fd < 0 ? -fd : fstatvfs(fd, &sv) ? errno : 0;
	inode_fd_done(in, fd);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	if (quota_active(&fs->stores.limits)) {
		struct usage u;

		stores_usage(&fs->stores, &u);
		quota_statfs(&fs->stores.limits, &u, &sv);
	}
	fuse_reply_statfs(req, &sv);
}
