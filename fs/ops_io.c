/* ops_io.c: open files and the data path.
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
#include "shmfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "killpriv.h"
#include "log.h"
#include "passthrough.h"
#include "watch.h"
#include "writelog.h"

/* The one place that picks an inode's mode. A process-lifetime segment is
 * always cached: only then does the kernel release the FUSE file when the
 * last mapping goes (a passthrough mapping holds the backing file). */
static enum inode_io shmfs_io_pick(struct shmfs *fs, struct inode *in)
{
	if (!fs->passthrough || shmfs_lifetime(in) == LIFETIME_PROCESS)
		return INODE_IO_CACHED;
	return INODE_IO_PASSTHROUGH;
}

enum inode_io shmfs_io_choice(struct shmfs *fs, struct inode *in)
{
	enum inode_io io;

	pthread_mutex_lock(&in->lock);
	io = in->io;
	pthread_mutex_unlock(&in->lock);
	return io != INODE_IO_CLOSED ? io : shmfs_io_pick(fs, in);
}

/* The first open of in since its last release: settle its mode. A backing
 * id kept from earlier passthrough opens serves again (saving a BACKING_OPEN
 * and a BACKING_CLOSE ioctl per open and close); an inode that now opens
 * cached (its lifetime became process) gives it up first. In lock held. */
static void shmfs_io_first(struct shmfs *fs, struct inode *in, int fd)
{
	struct stat st;
	int id;

	in->io = shmfs_io_pick(fs, in);
	if (in->io == INODE_IO_CACHED && in->backing_id > 0) {
		passthrough_backing_close(fs, in->backing_id);
		in->backing_id = 0;
	}
	if (in->io != INODE_IO_PASSTHROUGH)
		return;
	/* What passthrough writes add from now on is counted at the last
	 * release (shmfs_count_passthrough). */
	in->pt_size = fstat(fd, &st) ? 0 : (uint64_t)st.st_size;
	if (in->backing_id > 0)
		return;
	id = passthrough_backing_open(fs, fd);
	if (id < 0) {
		log_warnx("passthrough registration failed (%s), opening in cached mode",
			  strerror(-id));
		in->io = INODE_IO_CACHED;
		return;
	}
	in->backing_id = id;
	/* Kept after the last release only if it is the inode's own read-write
	 * open: a later open may want to write. */
	in->backing_kept = fd == in->fd && in->fd_rw;
}

/* Account one more open file of in, backed by fd; registers the backing with
 * the kernel on the first passthrough open. Returns the mode of this open. */
static enum inode_io shmfs_io_begin(struct shmfs *fs, struct inode *in, int fd)
{
	enum inode_io io;

	pthread_mutex_lock(&in->lock);
	if (in->opens == 0) {
		shmfs_io_first(fs, in, fd);
		if (in->io == INODE_IO_CACHED)
			order_cached(&fs->order, 1); /* before the reply: see order.c */
	}
	in->opens++;
	io = in->io;
	pthread_mutex_unlock(&in->lock);
	return io;
}

void shmfs_backing_forget(struct inode *in, void *arg)
{
	if (in->backing_id > 0)
		passthrough_backing_close(arg, in->backing_id);
	in->backing_id = 0;
}

/* Remove a process-lifetime segment whose last user is gone: by the name
 * it has now, reached from its store's top without following a symlink,
 * if that name still holds this very object (store_unlink_fd). A segment
 * with several names (hard links) is left alone: the daemon knows one name
 * of an object, not all, and removing one of them would remove nothing.
 * Its names go as their users unlink them; once it has one name again, the
 * release of its next last user removes it. */
static void shmfs_remove_process_segment(struct shmfs *fs, struct inode *in)
{
	struct stat st;
	int fd = inode_fd(in), rc;

	rc = fd < 0 ? fd : fstat(fd, &st) ? -errno : 0;
	if (!rc && st.st_nlink > 1) {
		inode_fd_done(in, fd);
		log_debug("keeping process-lifetime segment (inode %lu): it has %lu names",
			  (unsigned long)st.st_ino, (unsigned long)st.st_nlink);
		return;
	}
	if (!rc)
		rc = store_unlink_fd(in->store, fd);
	inode_fd_done(in, fd);
	if (rc == -ENOENT || rc == -ESTALE)
		return; /* unlinked already, or the name is someone else's now */
	if (rc) {
		log_warnx("not removing process-lifetime segment (inode %lu): %s",
			  (unsigned long)st.st_ino, strerror(-rc));
		return;
	}
	stores_uncharge(&fs->stores, 1, st.st_size);
	watch_removed(fs, in);
	log_debug("removed process-lifetime segment (inode %lu): its last user is gone",
		  (unsigned long)st.st_ino);
}

/* Passthrough writes past the end grow a segment without the daemon: take
 * that growth into the count when the last file goes (size: the segment's
 * size then, or NULL). Counting it twice (a recount saw it already) is
 * harmless: a charge is refused only after a fresh count. */
static void shmfs_count_passthrough(struct shmfs *fs, struct inode *in, const struct stat *size)
{
	if (size && (uint64_t)size->st_size > in->pt_size)
		stores_note(&fs->stores, 0, (int64_t)((uint64_t)size->st_size - in->pt_size));
}

static void shmfs_io_end(struct shmfs *fs, struct inode *in, const struct stat *size)
{
	pthread_mutex_lock(&in->lock);
	if (--in->opens == 0) {
		if (in->io == INODE_IO_PASSTHROUGH) {
			shmfs_count_passthrough(fs, in, size);
			if (!in->backing_kept) {
				passthrough_backing_close(fs, in->backing_id);
				in->backing_id = 0;
			}
		}
		if (in->io == INODE_IO_CACHED)
			order_cached(&fs->order, -1);
		in->io = INODE_IO_CLOSED;
		writelog_drop(in);
		/* RELEASE of the last file comes after the last close and the
		 * last munmap: a mapping holds its file. */
		if (shmfs_lifetime(in) == LIFETIME_PROCESS)
			shmfs_remove_process_segment(fs, in);
	}
	pthread_mutex_unlock(&in->lock);
}

int shmfs_charge_size(struct shmfs *fs, int fd, uint64_t new_size, int shrink,
		      int64_t *charged)
{
	struct stat st;
	int64_t delta;

	*charged = 0;
	if (!quota_active(&fs->stores.limits))
		return 0;
	if (quota_check_size(&fs->stores.limits, new_size))
		return EFBIG;
	if (fstat(fd, &st))
		return errno;
	delta = (int64_t)new_size - (int64_t)st.st_size;
	if (delta <= 0) {
		if (shrink)
			stores_uncharge(&fs->stores, 0, -delta);
		return 0;
	}
	if (stores_charge(&fs->stores, 0, delta))
		return ENOSPC;
	*charged = delta;
	return 0;
}

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
 * not open every segment so). O_TRUNC is applied here. Returns fd or errno
 * negated. */
static int shmfs_file_fd(struct shmfs *fs, struct inode *in, int flags)
{
	int fd = in->fd, rc;
	int64_t charged;

	if (!in->fd_rw) {
		int bflags = shmfs_backing_flags(flags) & ~O_TRUNC;

		fd = shmfs_open_backing(in, bflags);
		if (fd == -EACCES || fd == -EROFS) /* only what the caller asked */
			fd = shmfs_open_backing(in, (bflags & ~O_ACCMODE) | (flags & O_ACCMODE));
		if (fd == -EWOULDBLOCK)
			log_warnx("open of inode %lu refused with EAGAIN: someone holds a lease on "
				  "it in the store", (unsigned long)in->ino);
		if (fd < 0)
			return fd;
	}
	if (flags & O_TRUNC) {
		rc = shmfs_charge_size(fs, fd, 0, 1, &charged);
		if (!rc && ftruncate(fd, 0))
			rc = errno;
		if (rc) {
			shmfs_file_fd_close(in, fd);
			return -rc;
		}
	}
	return fd;
}

void shmfs_file_fd_close(struct inode *in, int fd)
{
	if (fd != in->fd)
		close(fd);
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
		return EISDIR;
	if ((flags & O_ACCMODE) != O_WRONLY)
		mask |= R_OK;
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC))
		mask |= W_OK;
	err = shmfs_caller(req, &caller);
	if (!err)
		err = -creds_may_access(&caller, st, mask);
	if (!err && shmfs_stat(dir, &dst) == 0)
		err = -creds_may_open_in_sticky(&caller, &dst, st, fs->protected_regular);
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
		err = errno;
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
	struct fuse_entry_param e;
	struct inode *in;
	int fd = -1, err, made;

	err = shmfs_make(req, dir, name, S_IFREG | (mode & 07777), &fd);
	made = !err;
	if (err == EEXIST && !(fi->flags & O_EXCL))
		err = 0;
	if (!err)
		err = shmfs_create_entry(req, dir, name, made, fd, fi, &e);
	if (err) {
		fuse_reply_err(req, err);
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

	order_wait(&fs->order);
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
		return errno;
	if (off >= st.st_size)
		return 0;
	if ((uint64_t)size > (uint64_t)(st.st_size - off))
		size = (size_t)(st.st_size - off);
	return fallocate(fd, FALLOC_FL_KEEP_SIZE, off, (off_t)size) ? errno : 0;
}

void shmfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi)
{
	struct shmfs *fs = shmfs_data(req);
	struct inode *in = shmfs_inode(req, ino);
	char *mem = read_buf_get(size);
	ssize_t n;
	int err;

	order_wait(&fs->order);
	/* Only a READ that fills the page cache makes its pages fresh in the
	 * write log; a read() of a direct-I/O file caches nothing. The kernel
	 * sends a lock owner with direct reads (current->files) and none with
	 * page-cache reads (fault, readahead). */
	if (fs->cached_direct_io && fi->lock_owner == 0) {
		writelog_read(in, (uint64_t)off, size);
		if (in->store->backend == STORE_PRIVATE &&
		    (err = shmfs_read_reserve((int)fi->fh, off, size))) {
			fuse_reply_err(req, err);
			return;
		}
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
static ssize_t shmfs_write_data(struct shmfs *fs, struct inode *in, struct fuse_file_info *fi,
				struct fuse_bufvec *in_buf, off_t off, size_t size)
{
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(size);
	struct writelog_range *skip = NULL;
	size_t nskip = 0;
	uint64_t logged = 0;
	ssize_t n;

	if (fs->cached_direct_io && fi->writepage)
		nskip = writelog_stale(in, (uint64_t)off, size, &skip);
	else if (fs->cached_direct_io)
		logged = writelog_begin(in, (uint64_t)off, size);
	if (nskip) {
		n = shmfs_write_except((int)fi->fh, in_buf, off, size, skip, nskip);
		free(skip);
	} else {
		out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		out.buf[0].fd = (int)fi->fh;
		out.buf[0].pos = off;
		n = fuse_buf_copy(&out, in_buf, 0);
		writelog_done(in, logged);
	}
	if (fi->writepage && (n < 0 || (size_t)n < size))
		shmfs_writeback_failed(fs, in, (int)fi->fh, off, size, n < 0 ? (int)-n : ENOSPC);
	return n;
}

void shmfs_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in_buf, off_t off,
		     struct fuse_file_info *fi)
{
	struct shmfs *fs = shmfs_data(req);
	size_t size = fuse_buf_size(in_buf);
	const struct limits *l = &fs->stores.limits;
	int64_t charged = 0;
	ssize_t n;
	int err;

	order_wait(&fs->order);
	/* As on tmpfs, the bits go before the data is written. */
	err = killpriv_asked() ? killpriv_apply(req, (int)fi->fh) : 0;
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	if (quota_active(l)) {
		/* Past max_segment_size a write is cut short, or refused. */
		if (l->max_segment_size && (uint64_t)off + size > l->max_segment_size) {
			if ((uint64_t)off >= l->max_segment_size) {
				fuse_reply_err(req, EFBIG);
				return;
			}
			size = l->max_segment_size - (uint64_t)off;
		}
		err = shmfs_charge_size(fs, (int)fi->fh, (uint64_t)off + size, 0, &charged);
		if (err) {
			fuse_reply_err(req, err);
			return;
		}
	}
	n = shmfs_write_data(fs, shmfs_inode(req, ino), fi, in_buf, off, size);
	if (n < 0) {
		stores_uncharge(&fs->stores, 0, charged);
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
	int64_t charged;
	int err;

	if (!quota_active(&fs->stores.limits))
		return 0;
	if (fstat(fd, &st))
		return errno;
	if (end <= (uint64_t)st.st_size)
		return 0;
	err = shmfs_charge_size(fs, fd, end, 0, &charged);
	stores_uncharge(&fs->stores, 0, charged);
	return err ? err : EOPNOTSUPP;
}

void shmfs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
		     struct fuse_file_info *fi)
{
	struct shmfs *fs = shmfs_data(req);
	uint64_t end = (uint64_t)offset + (uint64_t)length;
	int64_t charged = 0;
	int err = 0;

	(void)ino;
	order_wait(&fs->order);
	if (!(mode & FALLOC_FL_KEEP_SIZE))
		err = shmfs_charge_size(fs, (int)fi->fh, end, 0, &charged);
	else if (!(mode & FALLOC_FL_PUNCH_HOLE)) /* a hole only frees */
		err = shmfs_keep_size_check(fs, (int)fi->fh, end);
	if (!err && fallocate((int)fi->fh, mode, offset, length)) {
		err = errno;
		stores_uncharge(&fs->stores, 0, charged);
	}
	fuse_reply_err(req, err);
}

void shmfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct shmfs *fs = shmfs_data(req);
	struct inode *in = shmfs_inode(req, ino);
	struct stat st;
	int sized = quota_active(&fs->stores.limits) && fstat((int)fi->fh, &st) == 0;

	shmfs_file_fd_close(in, (int)fi->fh);
	shmfs_io_end(fs, in, sized ? &st : NULL);
	fuse_reply_err(req, 0);
}
