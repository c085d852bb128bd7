/* datapath.c: the data path of each inode: passthrough or cached, chosen
 * in one place when its first open comes and kept while any file of it is
 * open (the kernel refuses to mix the two on one inode, fs/fuse/iomode.c);
 * the passthrough backing id; what the last release does (lifetime
 * process); segment sizes under the limits. */
#include "datapath.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "node.h"
#include "passthrough.h"
#include "watch.h"
#include "writelog.h"

/* The one place that picks an inode's mode: passthrough where the mount
 * has it, the segment's lifetime allows it (lifetime_forces_cached: a
 * process-lifetime segment, whose FUSE file the kernel must keep until the
 * last mapping goes) and its store can back it. */
static enum inode_io shmfs_io_pick(struct shmfs *fs, struct inode *in)
{
	if (!fs->passthrough || lifetime_forces_cached(inode_lifetime(in)) ||
	    !store_kind_can_passthrough(in->store->backend))
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
enum inode_io shmfs_io_begin(struct shmfs *fs, struct inode *in, int fd)
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
	limits_release(&fs->stores.limits, 1, (uint64_t)st.st_size);
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
		limits_note(&fs->stores.limits, (uint64_t)size->st_size - in->pt_size);
}

void shmfs_io_end(struct shmfs *fs, struct inode *in, const struct stat *size)
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
		writelog_drop(&in->wlog);
		/* RELEASE of the last file comes after the last close and the
		 * last munmap: a mapping holds its file. */
		if (lifetime_ends_at_release(inode_lifetime(in)))
			shmfs_remove_process_segment(fs, in);
	}
	pthread_mutex_unlock(&in->lock);
}

void shmfs_file_fd_close(struct inode *in, int fd)
{
	if (fd != in->fd)
		close(fd);
}

int shmfs_resize_charge(struct shmfs *fs, int fd, uint64_t new_size, int shrink,
			struct limits_charge *c)
{
	struct stat st;

	c->segments = c->bytes = 0;
	if (!limits_active(&fs->stores.limits))
		return 0;
	if (fstat(fd, &st))
		return -errno;
	return limits_resize(&fs->stores.limits, (uint64_t)st.st_size, new_size, shrink, c);
}
