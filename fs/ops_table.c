/* ops_table.c: the request handlers libfuse calls, and which requests are
 * served in the kernel's order (order.c).
 *
 * A request that reads or changes a file's data must not overtake an
 * earlier one that changes the same bytes (BUG-1 in docs/RELIABILITY.md).
 * Each such request has one row in shmfs_ordered below: its opcode, the
 * byte range it touches, and the handler that waits first (the one the
 * table names for it). order.c notes the requests the rows describe as they
 * are read; the handlers themselves know nothing of it. A new data request
 * gets a row and a waiting handler here, and shmfs_ops_check() refuses a
 * table whose rows and handlers disagree. */
#include "ops.h"

#include <fcntl.h>
#include <string.h>

#include "fuse_abi.h"
#include "log.h"

static struct order *shmfs_order(fuse_req_t req)
{
	return &shmfs_data(req)->order;
}

static void shmfs_ordered_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			       struct fuse_file_info *fi)
{
	order_wait(shmfs_order(req));
	shmfs_read(req, ino, size, off, fi);
}

static void shmfs_ordered_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in_buf,
				    off_t off, struct fuse_file_info *fi)
{
	order_wait(shmfs_order(req));
	shmfs_write_buf(req, ino, in_buf, off, fi);
}

static void shmfs_ordered_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset,
				    off_t length, struct fuse_file_info *fi)
{
	order_wait(shmfs_order(req));
	shmfs_fallocate(req, ino, mode, offset, length, fi);
}

static void shmfs_ordered_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
				  struct fuse_file_info *fi)
{
	order_wait(shmfs_order(req));
	shmfs_setattr(req, ino, attr, valid, fi);
}

static void shmfs_ordered_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	order_wait(shmfs_order(req));
	shmfs_open(req, ino, fi);
}

const struct fuse_lowlevel_ops shmfs_ops = {
	.lookup = shmfs_lookup,
	.forget = shmfs_forget,
	.forget_multi = shmfs_forget_multi,
	.getattr = shmfs_getattr,
	.setattr = shmfs_ordered_setattr,
	.mknod = shmfs_mknod,
	.mkdir = shmfs_mkdir,
	.symlink = shmfs_symlink,
	.link = shmfs_link,
	.readlink = shmfs_readlink,
	.unlink = shmfs_unlink,
	.rmdir = shmfs_rmdir,
	.rename = shmfs_rename,
	.statfs = shmfs_statfs,
	.opendir = shmfs_opendir,
	.readdir = shmfs_readdir,
	.readdirplus = shmfs_readdirplus,
	.releasedir = shmfs_releasedir,
	.getxattr = shmfs_getxattr,
	.listxattr = shmfs_listxattr,
	.setxattr = shmfs_setxattr,
	.removexattr = shmfs_removexattr,
	.create = shmfs_create,
	.open = shmfs_ordered_open,
	.read = shmfs_ordered_read,
	.write_buf = shmfs_ordered_write_buf,
	.fsync = shmfs_fsync,
	.fallocate = shmfs_ordered_fallocate,
	.release = shmfs_release,
	.lseek = shmfs_lseek,
	.ioctl = shmfs_ioctl,
};

/* [off, off + len), up to the end of files. Returns 1. */
static int shmfs_span(uint64_t off, uint64_t len, uint64_t *start, uint64_t *end)
{
	*start = off;
	*end = off + len < off ? UINT64_MAX : off + len;
	return 1;
}

static int shmfs_range_rw(const void *arg, size_t argn, uint64_t *start, uint64_t *end)
{
	struct shmfs_fuse_rw_in rw;

	if (argn < sizeof(rw))
		return 0;
	memcpy(&rw, arg, sizeof(rw));
	return shmfs_span(rw.offset, rw.size, start, end);
}

static int shmfs_range_fallocate(const void *arg, size_t argn, uint64_t *start, uint64_t *end)
{
	struct shmfs_fuse_fallocate_in fa;

	if (argn < sizeof(fa))
		return 0;
	memcpy(&fa, arg, sizeof(fa));
	return shmfs_span(fa.offset, fa.length, start, end);
}

/* A new size: everything past it, or up to it. */
static int shmfs_range_setattr(const void *arg, size_t argn, uint64_t *start, uint64_t *end)
{
	struct shmfs_fuse_setattr_in sa;

	if (argn < sizeof(sa))
		return 0;
	memcpy(&sa, arg, sizeof(sa));
	return (sa.valid & SHMFS_FATTR_SIZE) && shmfs_span(0, UINT64_MAX, start, end);
}

/* O_TRUNC (with FUSE_ATOMIC_O_TRUNC, which killpriv.c turns off where it
 * can, the truncate comes in the OPEN itself). */
static int shmfs_range_open(const void *arg, size_t argn, uint64_t *start, uint64_t *end)
{
	struct shmfs_fuse_open_in op;

	if (argn < sizeof(op))
		return 0;
	memcpy(&op, arg, sizeof(op));
	return (op.flags & O_TRUNC) && shmfs_span(0, UINT64_MAX, start, end);
}

/* The requests served in order: opcode, whether it changes data, the range
 * it touches, and the handler (in shmfs_ops) that waits. */
static const struct shmfs_ordered {
	uint32_t opcode;
	int changes;
	int (*range)(const void *arg, size_t argn, uint64_t *start, uint64_t *end);
	size_t slot;               /* offsetof the handler in fuse_lowlevel_ops */
	void (*waits)(void);       /* ... which must be this one */
} shmfs_ordered[] = {
	{ SHMFS_FUSE_READ, 0, shmfs_range_rw, offsetof(struct fuse_lowlevel_ops, read),
	  (void (*)(void))shmfs_ordered_read },
	{ SHMFS_FUSE_WRITE, 1, shmfs_range_rw, offsetof(struct fuse_lowlevel_ops, write_buf),
	  (void (*)(void))shmfs_ordered_write_buf },
	{ SHMFS_FUSE_FALLOCATE, 1, shmfs_range_fallocate,
	  offsetof(struct fuse_lowlevel_ops, fallocate), (void (*)(void))shmfs_ordered_fallocate },
	{ SHMFS_FUSE_SETATTR, 1, shmfs_range_setattr, offsetof(struct fuse_lowlevel_ops, setattr),
	  (void (*)(void))shmfs_ordered_setattr },
	{ SHMFS_FUSE_OPEN, 1, shmfs_range_open, offsetof(struct fuse_lowlevel_ops, open),
	  (void (*)(void))shmfs_ordered_open },
};

int shmfs_order_range(uint32_t opcode, const void *arg, size_t argn, uint64_t *start,
		      uint64_t *end, int *changes)
{
	for (size_t i = 0; i < sizeof(shmfs_ordered) / sizeof(shmfs_ordered[0]); i++) {
		if (shmfs_ordered[i].opcode != opcode)
			continue;
		*changes = shmfs_ordered[i].changes;
		return shmfs_ordered[i].range(arg, argn, start, end);
	}
	return 0;
}

int shmfs_ops_check(const struct fuse_lowlevel_ops *ops)
{
	for (size_t i = 0; i < sizeof(shmfs_ordered) / sizeof(shmfs_ordered[0]); i++) {
		void (*handler)(void);

		memcpy(&handler, (const char *)ops + shmfs_ordered[i].slot, sizeof(handler));
		if (handler != shmfs_ordered[i].waits) {
			log_errorx("internal error: the handler of opcode %u does not wait for "
				   "earlier requests (fs/ops_table.c)", shmfs_ordered[i].opcode);
			return -1;
		}
	}
	return 0;
}
