/* ops_xattr.c: user.shmfs.* attributes describe a segment (read by name,
 * never listed: user.shmfs.backend, .backing, .lifetime, .io, .opens, and
 * .limits and .daemon on the root); other extended attributes are the backing object's
 * own. */
#include "ops.h"
#include "node.h"
#include "datapath.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "uring.h"

#define SHMFS_XATTR_PREFIX "user.shmfs."

/* The daemon's marks on backing objects (store.h); never shown, read or
 * written through the mount. */
#define SHMFS_TRUSTED_PREFIX "trusted.shmfs."

static int shmfs_is_own_xattr(const char *name)
{
	return strncmp(name, SHMFS_XATTR_PREFIX, strlen(SHMFS_XATTR_PREFIX)) == 0;
}

static int shmfs_is_mark(const char *name)
{
	return strncmp(name, SHMFS_TRUSTED_PREFIX, strlen(SHMFS_TRUSTED_PREFIX)) == 0;
}

/* user.shmfs.limits on the root: the limits (0: none) and the usage
 * counted against them (counted only while a limit is set; recounted when
 * the count is older than a second). */
static int shmfs_limits_value(struct shmfs *fs, char *buf, size_t len)
{
	const struct limits *l = &fs->stores.limits;
	struct usage u;

	limits_usage(&fs->stores.limits, &u);
	return snprintf(buf, len,
			"max_segment_size=%llu max_segments=%llu max_total_size=%llu "
			"segments=%llu bytes=%llu",
			(unsigned long long)l->max_segment_size, (unsigned long long)l->max_segments,
			(unsigned long long)l->max_total_size, (unsigned long long)u.segments,
			(unsigned long long)u.bytes);
}

/* user.shmfs.daemon on the root: who serves the mount and how, for
 * shmfs status's header: the data path, the transport and how many requests
 * each way brought. The prefix comes last: it may hold spaces. */
static int shmfs_daemon_value(struct shmfs *fs, char *buf, size_t len)
{
	return snprintf(buf, len,
			"pid=%ld io=%s transport=%s dev_reads=%llu ring_requests=%llu "
			"writeback_errors=%llu prefix=%s",
			(long)getpid(), fs->passthrough ? "passthrough" : "cached",
			uring_transport(fs),
			(unsigned long long)__atomic_load_n(&fs->dev_reads, __ATOMIC_RELAXED),
			(unsigned long long)__atomic_load_n(&fs->ring_requests, __ATOMIC_RELAXED),
			(unsigned long long)__atomic_load_n(&fs->writeback_errors, __ATOMIC_RELAXED),
			fs->cfg.prefix);
}

/* The value of one of our attributes into buf; returns its length or -errno. */
static int shmfs_xattr_value(struct shmfs *fs, struct inode *in, const char *name,
			     char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	if (strcmp(name, "user.shmfs.backend") == 0)
		return snprintf(buf, len, "%s", store_backend_name(in->store->backend));
	if (strcmp(name, "user.shmfs.backing") == 0) {
		int fd = inode_fd(in);

		if (fd < 0)
			return fd;
		store_fd_path(fd, path, sizeof(path));
		/* A private store is a detached mount: the kernel shows its paths
		 * as if from /, where they are not. Say what they are. */
		n = snprintf(buf, len, "%s", store_kind_backing_tag(in->store->backend));
		if (n >= 0 && (size_t)n < len - 1) {
			ssize_t got = readlink(path, buf + n, len - 1 - (size_t)n);

			n = got < 0 ? -errno : n + got;
		}
		inode_fd_done(in, fd);
		if (n < 0)
			return (int)n;
		buf[n] = '\0';
		return (int)n;
	}
	if (strcmp(name, "user.shmfs.io") == 0 && in->type == S_IFREG) {
		enum inode_io io = shmfs_io_choice(fs, in);

		return snprintf(buf, len, "%s", io == INODE_IO_PASSTHROUGH ? "passthrough" : "cached");
	}
	if (strcmp(name, STORE_LIFETIME_XATTR) == 0)
		return snprintf(buf, len, "%s", config_lifetime_name(inode_lifetime(in)));
	if (strcmp(name, "user.shmfs.opens") == 0 && in->type == S_IFREG) {
		unsigned opens;

		pthread_mutex_lock(&in->lock);
		opens = in->opens;
		pthread_mutex_unlock(&in->lock);
		return snprintf(buf, len, "%u", opens);
	}
	if (strcmp(name, "user.shmfs.limits") == 0 && in == &fs->root)
		return shmfs_limits_value(fs, buf, len);
	if (strcmp(name, "user.shmfs.daemon") == 0 && in == &fs->root)
		return shmfs_daemon_value(fs, buf, len);
	return -ENODATA;
}

/* Whether in is a declared segment (its lifetime is the config's). */
static int shmfs_is_declared(struct shmfs *fs, struct inode *in)
{
	for (size_t i = 0; i < fs->stores.ngrafts; i++) {
		struct graft *g = &fs->stores.grafts[i];
		struct stat st;

		if (!g->decl->is_dir &&
		    fstatat(g->store->dirfd, g->leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_dev == in->dev && st.st_ino == in->ino)
			return 1;
	}
	return 0;
}

/* setxattr of name on in's object, or removexattr when value is NULL. */
static int shmfs_xattr_op(struct inode *in, const char *name, const char *value, size_t size,
			  int flags)
{
	char path[64];
	int fd = inode_fd(in), rc;

	if (fd < 0)
		return fd;
	store_fd_path(fd, path, sizeof(path));
	if (value)
		rc = setxattr(path, name, value, size, flags) ? -errno : 0;
	else
		rc = removexattr(path, name) ? -errno : 0;
	inode_fd_done(in, fd);
	return rc;
}

/* Put lifetime lt's mark on in's object (store_set_lifetime), and only
 * then cache it: a lookup in between would otherwise cache the old one
 * again. 0 or -errno. */
static int shmfs_mark_lifetime(struct inode *in, enum lifetime lt)
{
	int fd = inode_fd(in), err;

	if (fd < 0)
		return fd;
	err = store_set_lifetime(in->store, fd, lt);
	inode_fd_done(in, fd);
	if (!err)
		__atomic_store_n(&in->lifetime, (int)lt, __ATOMIC_RELAXED);
	return err;
}

/* Whether the caller may change in's lifetime: a lifetime process has the
 * daemon remove the segment, so only its owner may ask for it, as only
 * the owner may remove a file from a sticky directory; uid 0 stands for
 * CAP_FOWNER. 0 or -EPERM. */
static int shmfs_lifetime_allowed(fuse_req_t req, struct inode *in)
{
	uid_t uid = fuse_req_ctx(req)->uid;
	struct stat st;
	int err;

	if (uid == 0)
		return 0;
	err = shmfs_stat(in, &st);
	if (err)
		return err;
	return st.st_uid == uid ? 0 : -EPERM;
}

/* setfattr -n user.shmfs.lifetime -v process|kernel|disk on one segment:
 * kept on the backing object, so that a restart finds the mark. kernel and
 * disk both mean "until unlinked": whichever of the two fits the segment's
 * store is kept, and none at all where that is the store's own lifetime
 * (so that copying a segment between stores, as mv does, carries over
 * what makes sense and fails on nothing). flags (XATTR_CREATE/REPLACE)
 * are not applied: the mark's existence is not what the mount shows. */
static int shmfs_set_lifetime(fuse_req_t req, struct inode *in, const char *value, size_t size)
{
	struct shmfs *fs = shmfs_data(req);
	enum lifetime lt;
	int err;

	if (in->type != S_IFREG)
		return -ENOTSUP; /* directories: the config's */
	if (shmfs_is_declared(fs, in))
		return -EPERM;
	err = shmfs_lifetime_allowed(req, in);
	if (err)
		return err;
	if (store_parse_lifetime(value, size, &lt) || !lifetime_given_at(lt, LIFETIME_AS_MARK))
		return -EINVAL;
	if (lifetime_lasts(lt))
		lt = store_lasting(in->store);
	return shmfs_mark_lifetime(in, lt);
}

static void shmfs_reply_value(fuse_req_t req, const char *value, size_t len, size_t size)
{
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, value, len);
}

void shmfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct inode *in = shmfs_inode(req, ino);
	char path[64], *buf;
	ssize_t n;
	int fd;

	if (shmfs_is_mark(name)) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	if (shmfs_is_own_xattr(name)) {
		char value[PATH_MAX];
		int len = shmfs_xattr_value(shmfs_data(req), in, name, value, sizeof(value));

		if (len < 0)
			fuse_reply_err(req, -len);
		else
			shmfs_reply_value(req, value, (size_t)len, size);
		return;
	}
	buf = size ? malloc(size) : NULL;
	if (size && !buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fd = inode_fd(in);
	store_fd_path(fd, path, sizeof(path));
	n = fd < 0 ? (errno = -fd, -1) : getxattr(path, name, buf, size);
	inode_fd_done(in, fd);
	if (n < 0)
		fuse_reply_err(req, errno);
	else
		shmfs_reply_value(req, buf, (size_t)n, size);
	free(buf);
}

/* The backing object's names minus user.shmfs.*, then ours. */
/* The backing object's own attributes, less user.shmfs.* (the lifetime
 * mark): the virtual ones are read by name but not listed, so cp
 * --preserve=xattr and rsync -X copy only real attributes, and a caller
 * that sizes its buffer for those gets no ERANGE. */
void shmfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct inode *in = shmfs_inode(req, ino);
	char path[64], *list, *out, *p;
	ssize_t n = 0;
	size_t len = 0;
	int fd = inode_fd(in);

	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	store_fd_path(fd, path, sizeof(path));
	n = listxattr(path, NULL, 0);
	if (n < 0)
		n = 0;
	list = malloc((size_t)n + 1);
	out = malloc((size_t)n + 1);
	if (!list || !out) {
		free(list);
		free(out);
		inode_fd_done(in, fd);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = n ? listxattr(path, list, (size_t)n) : 0;
	inode_fd_done(in, fd);
	for (p = list; n > 0 && p < list + n; p += strlen(p) + 1) {
		if (!shmfs_is_own_xattr(p) && !shmfs_is_mark(p)) {
			memcpy(out + len, p, strlen(p) + 1);
			len += strlen(p) + 1;
		}
	}
	shmfs_reply_value(req, out, len, size);
	free(list);
	free(out);
}

void shmfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
		    size_t size, int flags)
{
	struct inode *in = shmfs_inode(req, ino);

	if (strcmp(name, STORE_LIFETIME_XATTR) == 0) {
		fuse_reply_err(req, -shmfs_set_lifetime(req, in, value, size));
		return;
	}
	if (shmfs_is_own_xattr(name) || shmfs_is_mark(name)) {
		/* They describe the segment and cannot be set. ENOTSUP, not
		 * EPERM: cp -a and mv then copy a segment quietly. */
		fuse_reply_err(req, ENOTSUP);
		return;
	}
	fuse_reply_err(req, -shmfs_xattr_op(in, name, value, size, flags));
}

void shmfs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct inode *in = shmfs_inode(req, ino);
	int err;

	if (strcmp(name, STORE_LIFETIME_XATTR) == 0 && in->type == S_IFREG &&
	    !shmfs_is_declared(shmfs_data(req), in)) {
		/* Back to the store's lifetime. */
		err = shmfs_lifetime_allowed(req, in);
		if (!err)
			err = shmfs_mark_lifetime(in, in->store->lifetime);
		fuse_reply_err(req, -err);
		return;
	}
	if (shmfs_is_own_xattr(name) || shmfs_is_mark(name)) {
		fuse_reply_err(req, ENOTSUP);
		return;
	}
	fuse_reply_err(req, -shmfs_xattr_op(in, name, NULL, 0, 0));
}
