/* ops_ns.c: the namespace: lookup, attributes, create, remove, rename. */
#include "shmfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "killpriv.h"

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
	/* Whatever is not a segment or a directory is not there. */
	if (!store_type_shown(e->attr.st_mode)) {
		close(opath);
		return ENOENT;
	}
	in = S_ISREG(e->attr.st_mode) ? itable_find(&fs->inodes, &e->attr) : NULL;
	if (in) {
		close(opath);
	} else {
		if (S_ISREG(e->attr.st_mode))
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
		lt = (int)store_lifetime_of(in->store, in->fd);
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
	int fd, err;

	memset(e, 0, sizeof(*e));
	e->attr_timeout = fs->timeout;
	e->entry_timeout = fs->timeout;
	err = store_backing_name(dir->store, dir->top, name, bname, sizeof(bname));
	if (err)
		return -err;
	if (dir == &fs->root && (g = stores_graft(&fs->stores, name)))
		return shmfs_lookup_graft(fs, g, e);
	fd = openat(dir->fd, bname, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno;
	return shmfs_entry(fs, dir->store, 0, fd, e);
}

/* A segment seen for the first time is kept open for reading and writing:
 * that one fd then serves every open of it (and registers it for
 * passthrough), instead of an open and a close per open file. fd is taken;
 * an O_RDWR fd is returned, or fd itself when that cannot be had. */
int shmfs_open_rw(int fd)
{
	char path[64];
	int fl = fcntl(fd, F_GETFL), rw;

	if (fl >= 0 && !(fl & O_PATH) && (fl & O_ACCMODE) == O_RDWR)
		return fd;
	store_fd_path(fd, path, sizeof(path));
	rw = open(path, O_RDWR | O_CLOEXEC);
	if (rw < 0)
		return fd;
	close(fd);
	return rw;
}

int shmfs_open_backing(struct inode *in, int flags)
{
	char path[64];
	int fd;

	store_fd_path(in->fd, path, sizeof(path));
	fd = open(path, flags);
	return fd < 0 ? -errno : fd;
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

void shmfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct inode *in = shmfs_inode(req, ino);
	struct stat st;

	(void)fi;
	if (fstat(in->fd, &st)) {
		fuse_reply_err(req, errno);
		return;
	}
	fuse_reply_attr(req, &st, shmfs_data(req)->timeout);
}

/* Apply the changes of a SETATTR; fd is an open file of the inode or -1. */
static int shmfs_do_setattr(struct shmfs *fs, struct inode *in, int fd, const struct stat *attr,
			    int valid)
{
	char path[64];

	store_fd_path(in->fd, path, sizeof(path));
	if (valid & FUSE_SET_ATTR_MODE) {
		if (fchmodat(AT_FDCWD, path, attr->st_mode & 07777, 0))
			return errno;
	}
	if (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t uid = (valid & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
		gid_t gid = (valid & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;

		if (fchownat(in->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
			return errno;
	}
	if (valid & FUSE_SET_ATTR_SIZE) {
		int64_t charged;
		int rc = shmfs_charge_size(fs, in->fd, (uint64_t)attr->st_size, 1, &charged);

		if (rc)
			return rc;
		rc = fd >= 0 ? ftruncate(fd, attr->st_size) : truncate(path, attr->st_size);
		if (rc) {
			rc = errno;
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
		if (utimensat(AT_FDCWD, path, tv, 0))
			return errno;
	}
	return 0;
}

void shmfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
		   struct fuse_file_info *fi)
{
	struct inode *in = shmfs_inode(req, ino);
	int err;

	order_wait(&shmfs_data(req)->order);
	/* A truncate, open(O_TRUNC), fallocate, chown or passthrough write by
	 * a caller without CAP_FSETID: setuid/setgid bits go first. */
	err = killpriv_asked() ? killpriv_apply(req, in->fd) : 0;
	if (!err)
		err = shmfs_do_setattr(shmfs_data(req), in, fi ? (int)fi->fh : -1, attr, valid);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	shmfs_getattr(req, ino, fi);
}

/* The owner a new object in dir gets: the caller, or, in a set-group-ID
 * directory, the directory's group (which the backing store already gave). */
static void shmfs_caller_owner(fuse_req_t req, struct inode *dir, uid_t *uid, gid_t *gid)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct stat dst;

	*uid = ctx->uid;
	*gid = ctx->gid;
	if (fstat(dir->fd, &dst) == 0 && (dst.st_mode & S_ISGID))
		*gid = (gid_t)-1;
	/* A daemon that is not root can only make its own files. */
	if (geteuid() != 0)
		*uid = (uid_t)-1, *gid = (gid_t)-1;
}

/* Open flags for the daemon's own open of a backing object: it reads and
 * writes for the kernel, which has checked the caller's access already. */
int shmfs_backing_flags(int flags)
{
	return (flags & ~(O_ACCMODE | O_APPEND | O_DIRECT | O_NOCTTY | O_CREAT | O_EXCL |
			  O_NOFOLLOW)) | O_RDWR | O_CLOEXEC;
}

static int shmfs_make_file(fuse_req_t req, struct inode *dir, const char *bname,
			   mode_t mode, int *fdp)
{
	struct shmfs *fs = shmfs_data(req);
	int limited = quota_active(&fs->stores.limits);
	uid_t uid;
	gid_t gid;
	int fd;

	if (limited && stores_charge(&fs->stores, 1, 0))
		return ENOSPC;
	/* Made whole, then named: a crash leaves nothing half-made. */
	shmfs_caller_owner(req, dir, &uid, &gid);
	fd = store_create_file(dir->fd, bname, mode, uid, gid, 0);
	if (fd < 0) {
		if (limited)
			stores_uncharge(&fs->stores, 1, 0);
		return -fd;
	}
	if (fdp)
		*fdp = fd;
	else
		close(fd);
	return 0;
}

int shmfs_make(fuse_req_t req, struct inode *dir, const char *name, mode_t mode, int *fd)
{
	char bname[NAME_MAX + 1];
	uid_t uid;
	gid_t gid;
	int err;

	err = store_backing_name(dir->store, dir->top, name, bname, sizeof(bname));
	if (err)
		return -err;
	if (shmfs_pinned(shmfs_data(req), dir, name))
		return EEXIST;
	if (S_ISREG(mode))
		return shmfs_make_file(req, dir, bname, mode, fd);
	if (!S_ISDIR(mode))
		return EPERM; /* device nodes, fifos and sockets are not segments */
	/* (No unnamed directories: a crash between these two steps leaves a
	 * directory owned by the daemon's user.) */
	if (mkdirat(dir->fd, bname, mode & 07777))
		return errno;
	shmfs_caller_owner(req, dir, &uid, &gid);
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    fchownat(dir->fd, bname, uid, gid, AT_SYMLINK_NOFOLLOW)) {
		err = errno;
		unlinkat(dir->fd, bname, AT_REMOVEDIR);
		return err;
	}
	return 0;
}

static void shmfs_make_reply(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct shmfs *fs = shmfs_data(req);
	struct inode *dir = shmfs_inode(req, parent);
	struct fuse_entry_param e;
	int err;

	err = shmfs_make(req, dir, name, mode, NULL);
	if (!err)
		err = shmfs_do_lookup(fs, dir, name, &e);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

void shmfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	(void)rdev;
	shmfs_make_reply(req, parent, name, mode);
}

void shmfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	shmfs_make_reply(req, parent, name, S_IFDIR | (mode & 07777));
}

/* Symlinks and hard links are not segments. */
void shmfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	(void)link;
	(void)parent;
	(void)name;
	fuse_reply_err(req, EPERM);
}

void shmfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	(void)ino;
	(void)newparent;
	(void)newname;
	fuse_reply_err(req, EPERM);
}

/* Before an object in dir goes: when limits are counted, what it held. */
static void shmfs_held(struct shmfs *fs, struct inode *dir, const char *bname,
		       struct usage *held)
{
	struct stat st;

	held->segments = held->bytes = 0;
	if (quota_active(&fs->stores.limits) &&
	    fstatat(dir->fd, bname, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
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
	int err;

	err = -store_backing_name(dir->store, dir->top, name, bname, sizeof(bname));
	if (!err && shmfs_pinned(fs, dir, name))
		err = EBUSY;
	if (!err) {
		shmfs_held(fs, dir, bname, &held);
		if (unlinkat(dir->fd, bname, flags))
			err = errno;
		else
			stores_uncharge(&fs->stores, (int64_t)held.segments, (int64_t)held.bytes);
	}
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
	int err;

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
	if (!err && !(flags & RENAME_EXCHANGE))
		shmfs_held(fs, to, bto, &held);
	if (!err && renameat2(from->fd, bfrom, to->fd, bto, flags))
		err = errno;
	else if (!err)
		stores_uncharge(&fs->stores, (int64_t)held.segments, (int64_t)held.bytes);
	fuse_reply_err(req, err);
}

void shmfs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct inode *in = shmfs_inode(req, ino);
	struct statvfs sv;

	struct shmfs *fs = shmfs_data(req);

	if (fstatvfs(in->fd, &sv)) {
		fuse_reply_err(req, errno);
		return;
	}
	if (quota_active(&fs->stores.limits)) {
		pthread_mutex_lock(&fs->stores.lock);
		quota_statfs(&fs->stores.limits, &fs->stores.usage, &sv);
		pthread_mutex_unlock(&fs->stores.lock);
	}
	fuse_reply_statfs(req, &sv);
}
