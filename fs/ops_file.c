/* ops_file.c: what an open file asks beyond its data: SEEK_DATA/SEEK_HOLE
 * and the inode flags of lsattr/chattr, answered from the backing object. */
#include "ops.h"
#include "node.h"

#include <errno.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* The kernel answers SEEK_SET/CUR/END itself and sends only SEEK_DATA and
 * SEEK_HOLE, in either data path. fi->fh may be the segment's shared fd:
 * its offset is never used (reads and writes are pread/pwrite), so moving
 * it does no harm. */
void shmfs_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		 struct fuse_file_info *fi)
{
	off_t at;

	(void)ino;
	at = lseek((int)fi->fh, off, whence);
	if (at < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_lseek(req, at);
}

/* Flags chattr may set through the mount: those tmpfs keeps that need
 * nothing from the mount (no dump, no atime updates). Immutable and
 * append-only are refused: the FUSE inode does not carry them, so an open
 * for writing through the mount would not be stopped by them. */
#define SHMFS_SETTABLE_FLAGS (FS_NODUMP_FL | FS_NOATIME_FL)

static int shmfs_get_flags(int fd, unsigned int *flags)
{
	int f;

	if (ioctl(fd, FS_IOC_GETFLAGS, &f))
		return -errno;
	*flags = (unsigned int)f;
	return 0;
}

/* As the caller, so that the backing store's own checks (owner, and
 * CAP_LINUX_IMMUTABLE, which a thread with a caller's fs uid lacks) are
 * the caller's, as the kernel's were on the mount. */
static int shmfs_set_flags(fuse_req_t req, int fd, unsigned int flags)
{
	struct creds caller;
	unsigned int old = 0;
	int f = (int)flags, err;

	err = shmfs_get_flags(fd, &old);
	if (err)
		return err;
	if ((old ^ flags) & ~SHMFS_SETTABLE_FLAGS)
		return -EOPNOTSUPP;
	err = shmfs_caller(req, &caller);
	if (!err)
		err = creds_become(&caller);
	if (err)
		return err;
	err = ioctl(fd, FS_IOC_SETFLAGS, &f) ? -errno : 0;
	creds_restore();
	return err;
}

/* FS_IOC_FSSETXATTR: the same rule for the xflags of xfs_io chattr; the
 * project id and extent sizes are left as they are. */
static int shmfs_set_xattr_flags(fuse_req_t req, int fd, const struct fsxattr *want)
{
	const unsigned int settable = FS_XFLAG_NODUMP | FS_XFLAG_NOATIME;
	struct fsxattr old;
	struct creds caller;
	int err;

	if (ioctl(fd, FS_IOC_FSGETXATTR, &old))
		return -errno;
	if ((old.fsx_xflags ^ want->fsx_xflags) & ~settable ||
	    old.fsx_projid != want->fsx_projid || old.fsx_extsize != want->fsx_extsize ||
	    old.fsx_cowextsize != want->fsx_cowextsize)
		return -EOPNOTSUPP;
	old.fsx_xflags = want->fsx_xflags;
	err = shmfs_caller(req, &caller);
	if (!err)
		err = creds_become(&caller);
	if (err)
		return err;
	err = ioctl(fd, FS_IOC_FSSETXATTR, &old) ? -errno : 0;
	creds_restore();
	return err;
}

/* The inode-flag ioctls (lsattr, chattr; the kernel sends the GET of one
 * kind before any SET) reach the backing object; every other ioctl a user
 * sends is refused as by a file without it. */
static int shmfs_do_ioctl(fuse_req_t req, int fd, unsigned int cmd, const void *in,
			  size_t in_size, void *out, size_t *out_size)
{
	size_t want = cmd == (unsigned int)FS_IOC_FSGETXATTR ||
				      cmd == (unsigned int)FS_IOC_FSSETXATTR ?
			      sizeof(struct fsxattr) : sizeof(unsigned int);
	unsigned int f;

	if (cmd == (unsigned int)FS_IOC_GETFLAGS || cmd == (unsigned int)FS_IOC_FSGETXATTR) {
		if (*out_size < want)
			return -EINVAL;
		*out_size = want;
		if (cmd == (unsigned int)FS_IOC_FSGETXATTR)
			return ioctl(fd, FS_IOC_FSGETXATTR, out) ? -errno : 0;
		return shmfs_get_flags(fd, out);
	}
	if (cmd != (unsigned int)FS_IOC_SETFLAGS && cmd != (unsigned int)FS_IOC_FSSETXATTR)
		return -ENOTTY;
	if (in_size < want)
		return -EINVAL;
	*out_size = *out_size < want ? 0 : want;
	memcpy(out, in, *out_size);
	if (cmd == (unsigned int)FS_IOC_FSSETXATTR)
		return shmfs_set_xattr_flags(req, fd, in);
	memcpy(&f, in, sizeof(f));
	return shmfs_set_flags(req, fd, f);
}

void shmfs_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void *arg,
		 struct fuse_file_info *fi, unsigned flags, const void *in_buf, size_t in_bufsz,
		 size_t out_bufsz)
{
	int fd = (flags & FUSE_IOCTL_DIR) ? shmfs_dir_fd(fi) : (int)fi->fh;
	struct fsxattr out;
	size_t n = out_bufsz < sizeof(out) ? out_bufsz : sizeof(out);
	int err;

	(void)ino;
	(void)arg;
	err = shmfs_do_ioctl(req, fd, cmd, in_buf, in_bufsz, &out, &n);
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_ioctl(req, 0, n ? &out : NULL, n);
}
