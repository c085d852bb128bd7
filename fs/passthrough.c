/* passthrough.c: kernel FUSE passthrough negotiated by hand (libfuse 3.14
 * knows nothing of it). See fuse_abi.h for the ABI and fs/fuse/iomode.c and
 * fs/fuse/passthrough.c in the kernel for the rules followed here. */
#include "passthrough.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "fuse_abi.h"
#include "log.h"
#include "request.h"
#include "uring.h"

#define OVERLAYFS_MAGIC 0x794c7630

static int passthrough_have_cap_sys_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return 0;
	return !!(data[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32)));
}

/* Backing files on a stacking filesystem (overlayfs, as in many containers)
 * need a stack depth of 2; tmpfs and disk filesystems need 1. */
static uint32_t passthrough_stack_depth(struct shmfs *fs)
{
	struct statfs sf;

	if (fstatfs(fs->stores.root.dirfd, &sf) == 0 && sf.f_type == OVERLAYFS_MAGIC)
		return 2;
	return 1;
}

static void passthrough_note(void *fs, const void *buf, size_t n, int ordered)
{
	request_note(fs, buf, n, ordered);
}

/* A request from /dev/fuse: noted (request.c) before the next thread may read. */
static ssize_t passthrough_io_read(int fd, void *buf, size_t len, void *userdata)
{
	struct shmfs *fs = userdata;
	ssize_t n = order_read(&fs->order, fd, buf, len, passthrough_note, fs);

	if (n > 0)
		__atomic_add_fetch(&fs->dev_reads, 1, __ATOMIC_RELAXED);
	return n;
}

static uint32_t *init_out_u32(struct iovec *iov, size_t offset)
{
	return (uint32_t *)((char *)iov->iov_base + offset);
}

/* Patches the FUSE_INIT reply, whose fuse_init_out is init_out.
 *
 * FUSE_HANDLE_KILLPRIV_V2: without it FUSE keeps SB_NOSEC off, and the
 * kernel asks the daemon for "security.capability" before every write(2),
 * a round trip that costs more than a small passthrough write itself. With
 * it the kernel leaves killing setuid/setgid bits on write, truncate and
 * chown to the filesystem, which killpriv.c does. FUSE_ATOMIC_O_TRUNC goes
 * with it: open(O_TRUNC) then comes as OPEN and a SETATTR of the size, and
 * that SETATTR says whether the bits go, which an OPEN says only in a field
 * libfuse 3.14 does not pass on.
 *
 * FUSE_DIRECT_IO_ALLOW_MMAP: lets cached-mode files be FOPEN_DIRECT_IO and
 * still be mapped shared (see ops_io.c for why they are).
 *
 * Passthrough: the kernel refuses it with writeback cache.
 *
 * FUSE_OVER_IO_URING: once this reply is in, the kernel holds new requests
 * back until the ring's queues are registered (uring.c), or one REGISTER is
 * refused. max_write and max_pages size the ring's buffers. */
static void passthrough_patch_init(struct shmfs *fs, struct iovec *init_out)
{
	uint16_t max_pages;

	if (fs->kernel_offers_killpriv_v2) {
		*init_out_u32(init_out, SHMFS_INIT_OUT_FLAGS) |= SHMFS_FUSE_HANDLE_KILLPRIV_V2;
		*init_out_u32(init_out, SHMFS_INIT_OUT_FLAGS) &= ~SHMFS_FUSE_ATOMIC_O_TRUNC;
	}
	if (fs->kernel_offers_dio_mmap) {
		*init_out_u32(init_out, SHMFS_INIT_OUT_FLAGS) |= SHMFS_FUSE_INIT_EXT;
		*init_out_u32(init_out, SHMFS_INIT_OUT_FLAGS2) |= SHMFS_FUSE_DIRECT_IO_ALLOW_MMAP_FLAGS2;
		fs->cached_direct_io = 1;
	}
	if (fs->cfg.passthrough != PASSTHROUGH_OFF && fs->kernel_offers_passthrough &&
	    passthrough_have_cap_sys_admin()) {
		*init_out_u32(init_out, SHMFS_INIT_OUT_FLAGS) |= SHMFS_FUSE_INIT_EXT;
		*init_out_u32(init_out, SHMFS_INIT_OUT_FLAGS) &= ~SHMFS_FUSE_WRITEBACK_CACHE;
		*init_out_u32(init_out, SHMFS_INIT_OUT_FLAGS2) |= SHMFS_FUSE_PASSTHROUGH_FLAGS2;
		*init_out_u32(init_out, SHMFS_INIT_OUT_MAX_STACK_DEPTH) = passthrough_stack_depth(fs);
		fs->passthrough_negotiated = 1;
	}
	if (uring_want(fs)) {
		*init_out_u32(init_out, SHMFS_INIT_OUT_FLAGS) |= SHMFS_FUSE_INIT_EXT;
		*init_out_u32(init_out, SHMFS_INIT_OUT_FLAGS2) |= SHMFS_FUSE_OVER_IO_URING_FLAGS2;
		fs->uring_negotiated = 1;
	}
	fs->init_max_write = *init_out_u32(init_out, SHMFS_INIT_OUT_MAX_WRITE);
	memcpy(&max_pages, (char *)init_out->iov_base + SHMFS_INIT_OUT_MAX_PAGES, sizeof(max_pages));
	fs->init_max_pages = max_pages;
}

static ssize_t passthrough_io_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	struct shmfs *fs = userdata;
	const struct shmfs_fuse_out_header *out = iov[0].iov_base;

	if (count < 1 || iov[0].iov_len < sizeof(*out) || !out->unique)
		return writev(fd, iov, count); /* a notification */
	if (fs->init_unique && out->unique == fs->init_unique) {
		if (count >= 2 && out->error == 0 &&
		    iov[1].iov_len >= SHMFS_INIT_OUT_MAX_STACK_DEPTH + 4)
			passthrough_patch_init(fs, &iov[1]);
		fs->init_unique = 0;
	}
	order_answered(&fs->order, out->unique);
	if (uring_reply(iov, count, out->unique))
		return (ssize_t)out->len; /* committed with the ring's next wait */
	return writev(fd, iov, count);
}

int passthrough_setup(struct shmfs *fs)
{
	static const struct fuse_custom_io io = {
		.read = passthrough_io_read,
		.writev = passthrough_io_writev,
	};
	int rc;

	rc = fuse_session_custom_io(fs->se, &io, fuse_session_fd(fs->se));
	if (rc)
		log_warnx("cannot hook FUSE_INIT: %s", strerror(-rc));
	return rc;
}

int passthrough_backing_open(struct shmfs *fs, int fd)
{
	struct shmfs_fuse_backing_map map = { .fd = fd };
	int id = ioctl(fuse_session_fd(fs->se), SHMFS_FUSE_DEV_IOC_BACKING_OPEN, &map);

	return id < 0 ? -errno : id;
}

void passthrough_backing_close(struct shmfs *fs, int backing_id)
{
	uint32_t id = (uint32_t)backing_id;

	if (ioctl(fuse_session_fd(fs->se), SHMFS_FUSE_DEV_IOC_BACKING_CLOSE, &id))
		log_warn("closing passthrough backing %d", backing_id);
}

/* Register and drop an unnamed file of the store: proves that the kernel
 * takes this store's objects as backing files. */
static int passthrough_probe(struct shmfs *fs)
{
	int fd, id;

	fd = openat(fs->stores.root.dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		char path[PATH_MAX];

		if (snprintf(path, sizeof(path), "%s/.shmfs-probe-%d", fs->stores.root.path,
			     (int)getpid()) >= (int)sizeof(path))
			return -ENAMETOOLONG;
		fd = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		unlink(path);
	}
	id = passthrough_backing_open(fs, fd);
	close(fd);
	if (id < 0)
		return id;
	passthrough_backing_close(fs, id);
	return 0;
}

int passthrough_decide(struct shmfs *fs)
{
	int rc;

	fs->passthrough = 0;
	if (fs->cfg.passthrough == PASSTHROUGH_OFF) {
		snprintf(fs->passthrough_why, sizeof(fs->passthrough_why), "passthrough=off");
		return 0;
	}
	if (!fs->kernel_offers_passthrough)
		snprintf(fs->passthrough_why, sizeof(fs->passthrough_why),
			 "the kernel does not offer FUSE passthrough (needs Linux 6.9 or later)");
	else if (!passthrough_have_cap_sys_admin())
		snprintf(fs->passthrough_why, sizeof(fs->passthrough_why),
			 "the daemon lacks CAP_SYS_ADMIN, which FUSE passthrough needs");
	else if (!fs->passthrough_negotiated)
		snprintf(fs->passthrough_why, sizeof(fs->passthrough_why),
			 "FUSE_INIT could not be patched to ask for passthrough");
	else if ((rc = passthrough_probe(fs)) < 0)
		snprintf(fs->passthrough_why, sizeof(fs->passthrough_why),
			 "the kernel refused a backing file in shm_dir: %s", strerror(-rc));
	else
		fs->passthrough = 1;

	if (!fs->passthrough && fs->cfg.passthrough == PASSTHROUGH_ON) {
		log_errorx("passthrough=on, but %s", fs->passthrough_why);
		return -1;
	}
	return 0;
}

/* Only DIRECT_IO, PARALLEL_DIRECT_WRITES and NOFLUSH may go with PASSTHROUGH
 * (KEEP_CACHE fails the open with EIO). NOFLUSH spares a round trip per
 * close: there is nothing to flush, the data is in the backing object. */
static void passthrough_open_out(struct shmfs_fuse_open_out *out, const struct fuse_file_info *fi,
				 int backing_id)
{
	out->fh = fi->fh;
	out->open_flags = SHMFS_FOPEN_PASSTHROUGH | SHMFS_FOPEN_NOFLUSH;
	out->backing_id = backing_id;
}

int passthrough_reply_open(fuse_req_t req, const struct fuse_file_info *fi, int backing_id)
{
	struct shmfs_fuse_open_out out;

	memset(&out, 0, sizeof(out));
	passthrough_open_out(&out, fi, backing_id);
	return fuse_reply_buf(req, (const char *)&out, sizeof(out));
}

static uint64_t timeout_sec(double t)
{
	return t <= 0 ? 0 : (uint64_t)t;
}

static uint32_t timeout_nsec(double t)
{
	return t <= 0 ? 0 : (uint32_t)((t - (double)(uint64_t)t) * 1e9);
}

static void passthrough_fill_attr(struct shmfs_fuse_attr *a, const struct stat *st)
{
	a->ino = st->st_ino;
	a->size = (uint64_t)st->st_size;
	a->blocks = (uint64_t)st->st_blocks;
	a->atime = (uint64_t)st->st_atim.tv_sec;
	a->mtime = (uint64_t)st->st_mtim.tv_sec;
	a->ctime = (uint64_t)st->st_ctim.tv_sec;
	a->atimensec = (uint32_t)st->st_atim.tv_nsec;
	a->mtimensec = (uint32_t)st->st_mtim.tv_nsec;
	a->ctimensec = (uint32_t)st->st_ctim.tv_nsec;
	a->mode = st->st_mode;
	a->nlink = (uint32_t)st->st_nlink;
	a->uid = st->st_uid;
	a->gid = st->st_gid;
	a->rdev = (uint32_t)st->st_rdev;
	a->blksize = (uint32_t)st->st_blksize;
}

int passthrough_reply_create(fuse_req_t req, const struct fuse_entry_param *e,
			     const struct fuse_file_info *fi, int backing_id)
{
	struct {
		struct shmfs_fuse_entry_out entry;
		struct shmfs_fuse_open_out open;
	} out;

	memset(&out, 0, sizeof(out));
	out.entry.nodeid = e->ino;
	out.entry.generation = e->generation;
	out.entry.entry_valid = timeout_sec(e->entry_timeout);
	out.entry.entry_valid_nsec = timeout_nsec(e->entry_timeout);
	out.entry.attr_valid = timeout_sec(e->attr_timeout);
	out.entry.attr_valid_nsec = timeout_nsec(e->attr_timeout);
	passthrough_fill_attr(&out.entry.attr, &e->attr);
	passthrough_open_out(&out.open, fi, backing_id);
	return fuse_reply_buf(req, (const char *)&out, sizeof(out));
}
