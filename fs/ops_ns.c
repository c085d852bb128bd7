/* ops_ns.c: the namespace: lookup, attributes, create, remove, rename. */
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>

#include "datapath.h"
#include "killpriv.h"
#include "node.h"
#include "watch.h"


void shmfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct shmfs *fs = shmfs_data(req);
	struct fuse_entry_param e;
	int err;

	err = shmfs_do_lookup(fs, shmfs_inode(req, parent), name, &e);
	if (err == -ENOENT) {
		/* A negative entry: the kernel caches the absence for the
		 * entry timeout, so a create need not ask twice. */
		e.ino = 0;
		fuse_reply_entry(req, &e);
		return;
	}
	if (err)
		fuse_reply_err(req, -err);
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
	int err;

	(void)fi;
	err = shmfs_stat(in, &st);
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	fuse_reply_attr(req, &st, watch_attr_timeout(shmfs_data(req), in));
}

/* Whether size is more than the whole store behind fd could ever hold: a
 * size it can never back is "too large" (EFBIG), not "no space now". */
static int shmfs_past_store(int fd, off_t size)
{
	struct statvfs sv;

	return fstatvfs(fd, &sv) == 0 && (uint64_t)size / sv.f_frsize > sv.f_blocks;
}

/* A cached-mode mapping dirties the FUSE page cache; the kernel writes
 * those pages back (FUSE_WRITE) only later, and a store that is full then
 * refuses them where no program sees it (only msync or fsync would say
 * ENOSPC). So when a segment of a cached mount grows, the store space is
 * taken at once: the new range is allocated (fallocate mode 0, which
 * extends the size like ftruncate, and which tmpfs undoes entirely when
 * it fails), and a full store fails the truncate with ENOSPC (EFBIG for a
 * size past the whole store). Returns 0 or -errno, or 1 when the store cannot
 * allocate (then ftruncate does). */
static int shmfs_grow_reserved(struct shmfs *fs, struct inode *in, int fd, off_t size)
{
	struct stat st;

	if (shmfs_io_choice(fs, in) != INODE_IO_CACHED || fstat(fd, &st) || size <= st.st_size)
		return 1;
	if (fallocate(fd, 0, st.st_size, size - st.st_size) == 0)
		return 0;
	if (errno == EOPNOTSUPP || errno == ENOSYS)
		return 1;
	return errno == ENOSPC && shmfs_past_store(fd, size) ? -EFBIG : -errno;
}

/* Truncate in by fd (an open file of it) or by an open of its own; never
 * truncate(2) by path, which waits out another user's lease. 0 or -errno. */
static int shmfs_truncate(struct shmfs *fs, struct inode *in, int fd, off_t size)
{
	int own = -1, rc = 0;

	if (fd < 0 && in->fd_rw)
		fd = in->fd;
	if (fd < 0) {
		if (!S_ISREG(in->type))
			return -EISDIR;
		fd = own = inode_reopen(in, O_WRONLY);
		if (fd < 0)
			return fd;
	}
	rc = shmfs_grow_reserved(fs, in, fd, size);
	if (rc > 0)
		rc = ftruncate(fd, size) ? -errno : 0;
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
			return -errno;
	}
	if (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t uid = (valid & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
		gid_t gid = (valid & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;

		if (fchownat(ifd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
			return -errno;
	}
	if (valid & FUSE_SET_ATTR_SIZE) {
		struct limits_charge charged;
		int rc = shmfs_resize_charge(fs, ifd, (uint64_t)attr->st_size, 1, &charged);

		if (rc)
			return rc;
		rc = shmfs_truncate(fs, in, fd, attr->st_size);
		if (rc) {
			limits_undo(&fs->stores.limits, &charged);
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
			return -errno;
	}
	return 0;
}

void shmfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
		   struct fuse_file_info *fi)
{
	struct inode *in = shmfs_inode(req, ino);
	int ifd, err;

	ifd = inode_fd(in);
	if (ifd < 0) {
		err = ifd;
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
		fuse_reply_err(req, -err);
		return;
	}
	shmfs_getattr(req, ino, fi);
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
		err = -EEXIST;
	}
	if (!err && !S_ISREG(n->mode))
		shmfs_mark_made(shmfs_inode(req, e.ino)); /* files were, as they were made */
	if (err)
		fuse_reply_err(req, -err);
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
		err = -errno;
	inode_fd_done(in, fd);
	if (err) {
		fuse_reply_err(req, -err);
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
		return ifd;
	dfd = inode_fd(c->dir);
	if (dfd < 0) {
		inode_fd_done(c->in, ifd);
		return dfd;
	}
	/* Following /proc/self/fd/N reaches the very object the fd holds (a
	 * symlink stays a symlink); linkat with AT_EMPTY_PATH would need
	 * CAP_DAC_READ_SEARCH, which a thread with the caller's fs uid lacks. */
	store_fd_path(ifd, path, sizeof(path));
	if (linkat(AT_FDCWD, path, dfd, c->bname, AT_SYMLINK_FOLLOW))
		err = -errno;
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
		return -EXDEV;
	if (S_ISDIR(in->type))
		return -EPERM;
	err = store_backing_name(dir->store, dir->top, name, bname, sizeof(bname));
	if (err)
		return err;
	if (shmfs_pinned(shmfs_data(req), dir, name))
		return -EEXIST;
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
		err = -EEXIST;
	}
	if (err)
		fuse_reply_err(req, -err);
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
	if (limits_active(&fs->stores.limits) &&
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

	err = store_backing_name(dir->store, dir->top, name, bname, sizeof(bname));
	if (!err && shmfs_pinned(fs, dir, name))
		err = -EBUSY;
	if (!err && (dirfd = inode_fd(dir)) < 0)
		err = dirfd;
	if (!err) {
		shmfs_held(fs, dirfd, bname, &held);
		if (unlinkat(dirfd, bname, flags))
			err = -errno;
		else
			limits_release(&fs->stores.limits, held.segments, held.bytes);
	}
	inode_fd_done(dir, dirfd);
	fuse_reply_err(req, -err);
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
	err = store_backing_name(from->store, from->top, name, bfrom, sizeof(bfrom));
	if (!err)
		err = store_backing_name(to->store, to->top, newname, bto, sizeof(bto));
	if (!err && (ffd = inode_fd(from)) < 0)
		err = ffd;
	if (!err && (tfd = inode_fd(to)) < 0)
		err = tfd;
	if (!err && !(flags & RENAME_EXCHANGE))
		shmfs_held(fs, tfd, bto, &held);
	if (!err && renameat2(ffd, bfrom, tfd, bto, flags))
		err = -errno;
	else if (!err)
		limits_release(&fs->stores.limits, held.segments, held.bytes);
	inode_fd_done(from, ffd);
	inode_fd_done(to, tfd);
	fuse_reply_err(req, -err);
}

void shmfs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct shmfs *fs = shmfs_data(req);
	struct inode *in = shmfs_inode(req, ino);
	struct statvfs sv;
	int fd = inode_fd(in), err;

	err = fd < 0 ? fd : fstatvfs(fd, &sv) ? -errno : 0;
	inode_fd_done(in, fd);
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	if (limits_active(&fs->stores.limits)) {
		struct usage u;

		limits_usage(&fs->stores.limits, &u);
		limits_statfs(&fs->stores.limits, &u, &sv);
	}
	fuse_reply_statfs(req, &sv);
}
