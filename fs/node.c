/* node.c: the inodes the kernel knows: node ids, lookups and the entries
 * they answer with, lifetimes, and making objects as the caller. The
 * handlers of ops_ns.c, ops_io.c, ops_dir.c and ops_xattr.c build on it. */
#include "node.h"
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
		err = -errno;
		close(opath);
		return err;
	}
	if (!store_type_shown(e->attr.st_mode)) {
		close(opath);
		return -ENOENT;
	}
	in = S_ISREG(e->attr.st_mode) ? itable_find(&fs->inodes, &e->attr) : NULL;
	if (in) {
		if (lifetime_ends_at_release(inode_lifetime(in)))
			shmfs_renew_name(in, opath);
		close(opath);
	} else {
		if (S_ISREG(e->attr.st_mode) && itable_keeps_fd(&fs->inodes))
			opath = store_open_rw(opath);
		in = itable_acquire(&fs->inodes, opath, &e->attr, store, top);
		if (!in)
			return -ENOMEM;
	}
	e->ino = shmfs_nodeid(fs, in);
	/* A process-lifetime segment vanishes by the daemon's hand, not the
	 * kernel's: cache nothing about it, so its name goes at once. */
	if (S_ISREG(e->attr.st_mode) && lifetime_uncached_entries(inode_lifetime(in))) {
		e->attr_timeout = 0;
		e->entry_timeout = 0;
	}
	return 0;
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
		return -errno;
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
		return err;
	if (dir == &fs->root && (g = stores_graft(&fs->stores, name)))
		return shmfs_lookup_graft(fs, g, e) ?: watch_entry(fs, dir, name, e);
	dfd = inode_fd(dir);
	if (dfd < 0)
		return dfd;
	fd = openat(dfd, bname, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	err = fd < 0 ? -errno : 0;
	inode_fd_done(dir, dfd);
	if (err)
		return err;
	return shmfs_entry(fs, dir->store, 0, fd, e) ?: watch_entry(fs, dir, name, e);
}

int shmfs_stat(struct inode *in, struct stat *st)
{
	int fd = inode_fd(in), err;

	if (fd < 0)
		return fd;
	err = fstat(fd, st) ? -errno : 0;
	inode_fd_done(in, fd);
	return err;
}

int shmfs_caller(fuse_req_t req, struct creds *c)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	int n;

	c->uid = ctx->uid;
	c->gid = ctx->gid;
	n = fuse_req_getgroups(req, CREDS_MAX_GROUPS, c->groups);
	if (n < 0)
		return n;
	/* Past CREDS_MAX_GROUPS the rest are left out: the caller may then be
	 * refused what a group beyond them would allow. */
	c->ngroups = n < CREDS_MAX_GROUPS ? n : CREDS_MAX_GROUPS;
	return 0;
}

static int shmfs_make_file(struct shmfs *fs, struct inode *dir, int dirfd, const char *bname,
			   mode_t mode, int *fdp)
{
	struct limits_charge charged;
	int fd = limits_add_segment(&fs->stores.limits, &charged);

	if (fd)
		return fd;
	/* Made whole, then named: a crash leaves nothing half-made. */
	fd = store_create_file(dirfd, bname, mode, (uid_t)-1, (gid_t)-1, 0);
	if (fd < 0) {
		limits_undo(&fs->stores.limits, &charged);
		return fd;
	}
	store_mark_made(dir->store, fd); /* lifetime mount/process: the sweeps' mark */
	if (fdp)
		*fdp = fd;
	else
		close(fd);
	return 0;
}


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
		return -EINVAL;
	return rc ? -errno : 0;
}

/* Make bname in dir; the thread acts as the caller meanwhile. */
static int shmfs_make_as(struct shmfs *fs, struct inode *dir, const char *bname,
			 const struct shmfs_node *n, int *fd)
{
	int dirfd, err;

	dirfd = inode_fd(dir);
	if (dirfd < 0)
		return dirfd;
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
		err = creds_become(&caller);
	if (err)
		return err;
	err = fn(arg);
	creds_restore();
	return err;
}

/* Run fn as the caller of req. Fetching the caller's supplementary groups
 * reads /proc: only when the store refused the caller without them. fn must
 * have done nothing when it fails with EACCES. */
int shmfs_as_caller(fuse_req_t req, int (*fn)(void *), void *arg)
{
	int err = shmfs_as_caller_with(req, fn, arg, 0);

	return err == -EACCES ? shmfs_as_caller_with(req, fn, arg, 1) : err;
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

int shmfs_make_node_named(fuse_req_t req, struct inode *dir, const char *name,
				 const struct shmfs_node *n, int *fd)
{
	char bname[NAME_MAX + 1];
	struct shmfs_make_call c = { shmfs_data(req), dir, bname, n, fd };
	int err;

	err = store_backing_name(dir->store, dir->top, name, bname, sizeof(bname));
	if (err)
		return err;
	if (shmfs_pinned(shmfs_data(req), dir, name))
		return -EEXIST;
	/* Made by the caller: the store checks the caller's access to dir,
	 * and the new object is the caller's from its first instant (in a
	 * set-group-ID directory, of the directory's group), so there is no
	 * chown by name that a swap of the name could misdirect. */
	return shmfs_as_caller(req, shmfs_make_call, &c);
}

/* Whether what a lookup found at a name just made is what was made: the
 * caller's (a daemon that is not root makes its own). In a directory
 * others may write, the name may have been swapped in between; mkdir(2)
 * gives no fd of what it made. */
int shmfs_made_by(fuse_req_t req, const struct stat *st)
{
	uid_t maker = geteuid() == 0 ? fuse_req_ctx(req)->uid : geteuid();

	return st->st_uid == maker;
}

/* The sweeps' mark on what the daemon made (lifetime mount and process). */
void shmfs_mark_made(struct inode *in)
{
	int fd = inode_fd(in);

	if (fd >= 0)
		store_mark_made(in->store, fd);
	inode_fd_done(in, fd);
}
