/* ops_io.c: open files and the data path (datapath.c chooses it per inode).
 *
 * Every open of an inode goes one of two ways, chosen when the first open
 * comes and kept while any file stays open (the kernel refuses to mix them on
 * one inode, see fs/fuse/iomode.c):
 *  - passthrough: the kernel does read/write/mmap on the backing object
 *    itself; all opens share one backing id, closed after the last release.
 *  - cached: the FUSE page cache holds the shared pages; READ/WRITE come here
 *    and are served from the backing fd. Where the kernel allows it
 *    (FUSE_DIRECT_IO_ALLOW_MMAP, Linux 6.6+) these opens are FOPEN_DIRECT_IO:
 *    read() and write() go straight to the daemon and only mappings use the
 *    page cache; the kernel writes back and drops the cached pages of the
 *    range around each read() and write(). Write-through instead (write()
 *    copying into the page cache, then sending WRITE) races the writeback of
 *    pages dirtied through a mapping: writeback of the page at the end of
 *    the file zeroes its tail beyond the old size while an extending write()
 *    is in flight, wiping the new bytes in the cache (and in the WRITE, whose
 *    data are those very pages, if it is not read yet); BUG-1 in
 *    docs/RELIABILITY.md. Older kernels get write-through, and a warning.
 *
 * There is no FLUSH handler: closing a backing object does nothing a close
 * of the FUSE file needs (its dirty pages the kernel writes back before it
 * would send FLUSH), so the kernel, told ENOSYS once, stops sending it and
 * close() costs no round trip. */
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cached_io.h"
#include "datapath.h"
#include "killpriv.h"
#include "log.h"
#include "node.h"
#include "passthrough.h"
#include "watch.h"

/* The reply half of OPEN and CREATE (e is NULL for OPEN). If the kernel will
 * not send RELEASE (the request was interrupted), undo the open here. */
static void shmfs_reply_opened(fuse_req_t req, struct inode *in, const struct fuse_entry_param *e,
			       struct fuse_file_info *fi, enum inode_io io)
{
	struct shmfs *fs = shmfs_data(req);
	int rc;

	if (io == INODE_IO_PASSTHROUGH) {
		rc = e ? passthrough_reply_create(req, e, fi, in->backing_id)
		       : passthrough_reply_open(req, fi, in->backing_id);
	} else {
		/* Without keep_cache the kernel drops every cached page of the
		 * inode on open, under other processes' mappings too. */
		fi->keep_cache = 1;
		fi->direct_io = fs->cached_direct_io;
		rc = e ? fuse_reply_create(req, e, fi) : fuse_reply_open(req, fi);
	}
	if (rc == -ENOENT) {
		shmfs_file_fd_close(in, (int)fi->fh);
		shmfs_io_end(fs, in, NULL);
		if (e)
			itable_forget(&fs->inodes, in, 1);
	}
}

/* The fd an open file of in works with: the inode's own when that is open
 * for reading and writing, else a new open (a daemon that is not root may
 * not open every segment so). O_TRUNC is applied here. Returns fd or -errno
 * negated. */
static int shmfs_file_fd(struct shmfs *fs, struct inode *in, int flags)
{
	int fd = in->fd, rc;
	struct limits_charge charged;

	if (!in->fd_rw) {
		int bflags = store_backing_flags(flags) & ~O_TRUNC;

		fd = inode_reopen(in, bflags);
		if (fd == -EACCES || fd == -EROFS) /* only what the caller asked */
			fd = inode_reopen(in, (bflags & ~O_ACCMODE) | (flags & O_ACCMODE));
		if (fd == -EWOULDBLOCK)
			log_warnx("open of inode %lu refused with EAGAIN: someone holds a lease on "
				  "it in the store", (unsigned long)in->ino);
		if (fd < 0)
			return fd;
	}
	if (flags & O_TRUNC) {
		rc = shmfs_resize_charge(fs, fd, 0, 1, &charged);
		if (!rc && ftruncate(fd, 0))
			rc = -errno;
		if (rc) {
			shmfs_file_fd_close(in, fd);
			return rc;
		}
	}
	return fd;
}


/* A CREATE that found name taken (someone made it since the kernel
 * looked): the kernel, believing it made the file, checks nothing, so the
 * daemon checks what the kernel's open of an existing file would. */
static int shmfs_may_open_existing(fuse_req_t req, struct inode *dir,
				   const struct stat *st, int flags)
{
	struct shmfs *fs = shmfs_data(req);
	int mask = 0, err;
	struct creds caller;
	struct stat dst;

	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if ((flags & O_ACCMODE) != O_WRONLY)
		mask |= R_OK;
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC))
		mask |= W_OK;
	err = shmfs_caller(req, &caller);
	if (!err)
		err = creds_may_access(&caller, st, mask);
	if (!err && shmfs_stat(dir, &dst) == 0)
		err = creds_may_open_in_sticky(&caller, &dst, st, fs->protected_regular);
	return err;
}

/* Unlink what a CREATE made when it cannot be handed back, so that a
 * failed create leaves no name behind. */
static void shmfs_unmake(struct inode *dir, const char *name, const struct stat *made)
{
	char bname[NAME_MAX + 1];
	int dirfd = inode_fd(dir);

	if (dirfd >= 0 && store_backing_name(dir->store, dir->top, name, bname, sizeof(bname)) == 0)
		store_unlink_at(dirfd, bname, made);
	inode_fd_done(dir, dirfd);
}

/* The entry of the file name in dir that a CREATE made (fd) or found. */
static int shmfs_create_entry(fuse_req_t req, struct inode *dir, const char *name, int made,
			      int fd, struct fuse_file_info *fi, struct fuse_entry_param *e)
{
	struct shmfs *fs = shmfs_data(req);
	struct stat st;
	int err;

	if (!made) {
		err = shmfs_do_lookup(fs, dir, name, e);
		if (!err) {
			err = shmfs_may_open_existing(req, dir, &e->attr, fi->flags);
			if (err)
				itable_forget(&fs->inodes, shmfs_inode(req, e->ino), 1);
		}
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	/* The entry of what was made, even if renamed meanwhile. */
	err = shmfs_entry(fs, dir->store, 0, fd, e);
	if (err)
		shmfs_unmake(dir, name, &st);
	return err ?: watch_entry(fs, dir, name, e);
}

void shmfs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		  struct fuse_file_info *fi)
{
	struct shmfs *fs = shmfs_data(req);
	struct inode *dir = shmfs_inode(req, parent);
	struct shmfs_node node = { .mode = S_IFREG | (mode & 07777) };
	struct fuse_entry_param e;
	struct inode *in;
	int fd = -1, err, made;

	err = shmfs_make_node_named(req, dir, name, &node, &fd);
	made = !err;
	if (err == -EEXIST && !(fi->flags & O_EXCL))
		err = 0;
	if (!err)
		err = shmfs_create_entry(req, dir, name, made, fd, fi, &e);
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	in = shmfs_inode(req, e.ino);
	/* O_TRUNC matters only to a file that was there already. */
	fd = shmfs_file_fd(fs, in, made ? fi->flags & ~O_TRUNC : fi->flags);
	if (fd < 0) {
		itable_forget(&fs->inodes, in, 1);
		if (made)
			shmfs_unmake(dir, name, &e.attr);
		fuse_reply_err(req, -fd);
		return;
	}
	fi->fh = (uint64_t)fd;
	shmfs_reply_opened(req, in, &e, fi, shmfs_io_begin(fs, in, fd));
}

void shmfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct shmfs *fs = shmfs_data(req);
	struct inode *in = shmfs_inode(req, ino);
	int fd;

	fd = shmfs_file_fd(fs, in, fi->flags);

	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	fi->fh = (uint64_t)fd;
	shmfs_reply_opened(req, in, NULL, fi, shmfs_io_begin(fs, in, fd));
}

/* A thread's buffer for READ replies, kept while the thread lives. An
 * fd-backed reply (fuse_reply_data) took libfuse's copying path here every
 * time (measured: it never spliced), which allocates a buffer of the reply's
 * size per reply; those, of every size up to max_read and in every thread's
 * arena, fragmented the heap and the daemon's RSS crept up. */
struct read_buf {
	char *mem;
	size_t cap;
};

static pthread_key_t read_buf_key;
static pthread_once_t read_buf_once = PTHREAD_ONCE_INIT;

static void read_buf_free(void *p)
{
	struct read_buf *b = p;

	if (b->mem)
		munmap(b->mem, b->cap);
	free(b);
}

static void read_buf_key_make(void)
{
	if (pthread_key_create(&read_buf_key, read_buf_free))
		log_warnx("no thread key for read buffers");
}

static char *read_buf_get(size_t size)
{
	struct read_buf *b;
	size_t cap = 64 * 1024;
	void *mem;

	pthread_once(&read_buf_once, read_buf_key_make);
	b = pthread_getspecific(read_buf_key);
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b || pthread_setspecific(read_buf_key, b)) {
			free(b);
			return NULL;
		}
	}
	if (b->mem && b->cap >= size)
		return b->mem;
	while (cap < size)
		cap *= 2;
	mem = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	if (b->mem)
		munmap(b->mem, b->cap);
	b->mem = mem;
	b->cap = cap;
	return mem;
}

void shmfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi)
{
	char *mem = read_buf_get(size);
	ssize_t n;
	int err;

	err = cached_io_read(shmfs_data(req), shmfs_inode(req, ino), fi, off, size);
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	if (!mem) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = pread((int)fi->fh, mem, size, off);
	if (n < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_buf(req, mem, (size_t)n);
}

void shmfs_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in_buf, off_t off,
		     struct fuse_file_info *fi)
{
	struct shmfs *fs = shmfs_data(req);
	size_t size = fuse_buf_size(in_buf);
	const struct limits *l = &fs->stores.limits;
	struct limits_charge charged = { 0, 0 };
	ssize_t n;
	int err;

	/* As on tmpfs, the bits go before the data is written. */
	err = killpriv_asked() ? killpriv_apply(req, (int)fi->fh) : 0;
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	if (limits_active(l)) {
		/* Past max_segment_size a write is cut short, or refused. */
		if (l->max_segment_size && (uint64_t)off + size > l->max_segment_size) {
			if ((uint64_t)off >= l->max_segment_size) {
				fuse_reply_err(req, EFBIG);
				return;
			}
			size = l->max_segment_size - (uint64_t)off;
		}
		err = shmfs_resize_charge(fs, (int)fi->fh, (uint64_t)off + size, 0, &charged);
		if (err) {
			fuse_reply_err(req, -err);
			return;
		}
	}
	n = cached_io_write(fs, shmfs_inode(req, ino), fi, in_buf, off, size);
	if (n < 0) {
		limits_undo(&fs->stores.limits, &charged);
		fuse_reply_err(req, (int)-n);
	} else {
		fuse_reply_write(req, (size_t)n);
	}
}

void shmfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	int fd = (int)fi->fh;

	(void)ino;
	fuse_reply_err(req, (datasync ? fdatasync(fd) : fsync(fd)) ? errno : 0);
}

/* FALLOC_FL_KEEP_SIZE past the end of a segment allocates memory that its
 * size does not show, and the limits count sizes. So with limits set such
 * a range is refused: ENOSPC or EFBIG where it would not fit even as the
 * segment's size, else EOPNOTSUPP (the caller can still write the bytes,
 * and then they count). Within the size it is allocation only. */
static int shmfs_keep_size_check(struct shmfs *fs, int fd, uint64_t end)
{
	struct stat st;
	struct limits_charge charged;
	int err;

	if (!limits_active(&fs->stores.limits))
		return 0;
	if (fstat(fd, &st))
		return -errno;
	if (end <= (uint64_t)st.st_size)
		return 0;
	err = shmfs_resize_charge(fs, fd, end, 0, &charged);
	limits_undo(&fs->stores.limits, &charged);
	return err ? err : -EOPNOTSUPP;
}

void shmfs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
		     struct fuse_file_info *fi)
{
	struct shmfs *fs = shmfs_data(req);
	uint64_t end = (uint64_t)offset + (uint64_t)length;
	struct limits_charge charged = { 0, 0 };
	int err = 0;

	(void)ino;
	if (!(mode & FALLOC_FL_KEEP_SIZE))
		err = shmfs_resize_charge(fs, (int)fi->fh, end, 0, &charged);
	else if (!(mode & FALLOC_FL_PUNCH_HOLE)) /* a hole only frees */
		err = shmfs_keep_size_check(fs, (int)fi->fh, end);
	if (!err && fallocate((int)fi->fh, mode, offset, length)) {
		err = -errno;
		limits_undo(&fs->stores.limits, &charged);
	}
	fuse_reply_err(req, -err);
}

void shmfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct shmfs *fs = shmfs_data(req);
	struct inode *in = shmfs_inode(req, ino);
	struct stat st;
	int sized = limits_active(&fs->stores.limits) && fstat((int)fi->fh, &st) == 0;

	shmfs_file_fd_close(in, (int)fi->fh);
	shmfs_io_end(fs, in, sized ? &st : NULL);
	fuse_reply_err(req, 0);
}
