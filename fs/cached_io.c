/* cached_io.c: what a cached-mode segment's READ and WRITE do beyond
 * copying bytes, so that direct write()s and the page cache of other
 * processes' mappings stay consistent: the write log (writelog.h: a page
 * writeback never undoes a write() it raced), store space taken for pages
 * a mapping fills, and writebacks the store refused. The order of
 * requests, the other half of that consistency, is order.c's, with the
 * requests it covers listed in ops_table.c. BUG-1 in docs/RELIABILITY.md. */
#include "cached_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "writelog.h"


/* A tmpfs allocates a page when a mapping first touches it, and a touch
 * past its size= is a SIGBUS. A cached mapping of a private store's segment
 * touches FUSE's page cache instead, whose writeback could later find no
 * room and lose the bytes; so the READ that fills the page cache allocates
 * the pages in the store (without changing the size), and fails when they
 * do not fit: the kernel then makes the fault a SIGBUS, as tmpfs would. */
static int shmfs_read_reserve(int fd, off_t off, size_t size)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (off >= st.st_size)
		return 0;
	if ((uint64_t)size > (uint64_t)(st.st_size - off))
		size = (size_t)(st.st_size - off);
	return fallocate(fd, FALLOC_FL_KEEP_SIZE, off, (off_t)size) ? -errno : 0;
}

/* Before a READ is served: one that fills the page cache (not a read() of
 * a direct-I/O file: the kernel sends a lock owner with direct reads,
 * current->files, and none with page-cache reads, fault or readahead)
 * makes its pages fresh in the write log, and in a private store has its
 * pages allocated. 0 or -errno. */
int cached_io_read(struct shmfs *fs, struct inode *in, struct fuse_file_info *fi, off_t off,
		   size_t size)
{
	if (!fs->cached_direct_io || fi->lock_owner != 0)
		return 0;
	writelog_read(&in->wlog, (uint64_t)off, size);
	if (store_kind_reserves_reads(in->store->backend))
		return shmfs_read_reserve((int)fi->fh, off, size);
	return 0;
}

/* Write the size bytes of in_buf to fd at off, except the skip ranges (in
 * order, within the write). */
static ssize_t shmfs_write_except(int fd, struct fuse_bufvec *in_buf, off_t off, size_t size,
				  const struct writelog_range *skip, size_t nskip)
{
	struct fuse_bufvec mem = FUSE_BUFVEC_INIT(size);
	uint64_t pos = (uint64_t)off, end = (uint64_t)off + size;
	ssize_t n;

	mem.buf[0].mem = malloc(size);
	if (!mem.buf[0].mem)
		return -ENOMEM;
	n = fuse_buf_copy(&mem, in_buf, 0);
	if (n >= 0 && (size_t)n != size)
		n = -EIO;
	for (size_t i = 0; n >= 0 && i <= nskip; i++) {
		uint64_t stop = i < nskip ? skip[i].start : end;
		ssize_t w = 0;

		if (stop > pos)
			w = pwrite(fd, (char *)mem.buf[0].mem + (pos - (uint64_t)off), stop - pos,
				   (off_t)pos);
		if (w < 0 || (stop > pos && (uint64_t)w != stop - pos))
			n = w < 0 ? -errno : -EIO;
		if (i < nskip && skip[i].end > pos)
			pos = skip[i].end;
	}
	free(mem.buf[0].mem);
	return n;
}

/* A page writeback the store refused: the program that dirtied the pages
 * through a mapping may never ask (only msync or fsync would say), so the
 * daemon logs it, once per segment, with the backing object's name, and
 * counts every one (user.shmfs.daemon, shmfs status). */
static void shmfs_writeback_failed(struct shmfs *fs, struct inode *in, int fd, off_t off,
				   size_t size, int err)
{
	char proc[64], name[PATH_MAX];
	ssize_t n;

	__atomic_add_fetch(&fs->writeback_errors, 1, __ATOMIC_RELAXED);
	if (__atomic_exchange_n(&in->writeback_failed, 1, __ATOMIC_RELAXED))
		return;
	store_fd_path(fd, proc, sizeof(proc));
	n = readlink(proc, name, sizeof(name) - 1);
	name[n > 0 ? n : 0] = '\0';
	log_errorx("writeback of segment %s (%zu bytes at %lld) failed: %s: what a mapping wrote "
		   "there is lost; later failures of this segment are counted in shmfs status",
		   name, size, (long long)off, strerror(err));
}

/* The data half of WRITE. In cached mode with direct write(), a write()
 * is logged, and a page writeback leaves out what the log says is newer
 * than the kernel's copy of the page (writelog.c). */
ssize_t cached_io_write(struct shmfs *fs, struct inode *in, struct fuse_file_info *fi,
			struct fuse_bufvec *in_buf, off_t off, size_t size)
{
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(size);
	struct writelog_range *skip = NULL;
	size_t nskip = 0;
	uint64_t logged = 0;
	ssize_t n;

	if (fs->cached_direct_io && fi->writepage)
		nskip = writelog_stale(&in->wlog, (uint64_t)off, size, &skip);
	else if (fs->cached_direct_io)
		logged = writelog_begin(&in->wlog, (uint64_t)off, size);
	if (nskip) {
		n = shmfs_write_except((int)fi->fh, in_buf, off, size, skip, nskip);
		free(skip);
	} else {
		out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		out.buf[0].fd = (int)fi->fh;
		out.buf[0].pos = off;
		n = fuse_buf_copy(&out, in_buf, 0);
		writelog_done(&in->wlog, logged);
	}
	if (fi->writepage && (n < 0 || (size_t)n < size))
		shmfs_writeback_failed(fs, in, (int)fi->fh, off, size, n < 0 ? (int)-n : ENOSPC);
	return n;
}
