/* ops_dir.c: directory listing, with the store's naming rules applied. */
#include "ops.h"
#include "node.h"
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct shmfs_dir {
	DIR *dp;
	struct inode *in;
	off_t offset;         /* position of entry (telldir cookie) */
	struct dirent *entry; /* read but not yet handed to the kernel */
};

static struct shmfs_dir *shmfs_dir(struct fuse_file_info *fi)
{
	return (struct shmfs_dir *)(uintptr_t)fi->fh;
}

int shmfs_dir_fd(struct fuse_file_info *fi)
{
	return dirfd(shmfs_dir(fi)->dp);
}

void shmfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct inode *in = shmfs_inode(req, ino);
	struct shmfs_dir *d;
	int fd, err;

	d = calloc(1, sizeof(*d));
	if (!d) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fd = inode_reopen(in, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		errno = -fd;
	if (fd < 0 || !(d->dp = fdopendir(fd))) {
		err = errno;
		if (fd >= 0)
			close(fd);
		free(d);
		fuse_reply_err(req, err);
		return;
	}
	d->in = in;
	fi->fh = (uintptr_t)d;
	/* The kernel keeps the listing in the directory's page cache, and
	 * drops it on its own changes of the directory (fuse_dir_changed) and
	 * at the watch's invalidations. */
	fi->cache_readdir = fi->keep_cache = watch_caches_dir(shmfs_data(req), in);
	if (fuse_reply_open(req, fi) == -ENOENT) {
		/* Interrupted: no RELEASEDIR will come. */
		closedir(d->dp);
		free(d);
	}
}

/* Whether a backing entry is listed, and under which name. */
static const char *shmfs_dir_shown(struct shmfs_dir *d, struct dirent *de)
{
	const char *name;
	struct stat st;

	if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
		return de->d_name;
	name = store_visible_name(d->in->store, d->in->top, de->d_name);
	if (!name)
		return NULL;
	if (de->d_type != DT_UNKNOWN)
		return store_type_shown(DTTOIF(de->d_type)) ? name : NULL;
	if (fstatat(dirfd(d->dp), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
	    !store_type_shown(st.st_mode))
		return NULL;
	return name;
}

/* Add one entry to buf; returns its size, 0 when it does not fit, or
 * -errno when the entry vanished (skip it). */
static long shmfs_dir_add(fuse_req_t req, struct shmfs_dir *d, int plus, const char *name,
			  char *buf, size_t room, off_t next)
{
	struct shmfs *fs = shmfs_data(req);
	struct fuse_entry_param e;
	int err;
	size_t n;

	if (!plus) {
		struct stat st = { .st_ino = d->entry->d_ino, .st_mode = DTTOIF(d->entry->d_type) };

		return (long)fuse_add_direntry(req, buf, room, name, &st, next);
	}
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		/* The kernel does not look these up: no node id, no lookup. */
		memset(&e, 0, sizeof(e));
		e.attr.st_ino = d->entry->d_ino;
		e.attr.st_mode = DTTOIF(d->entry->d_type);
		return (long)fuse_add_direntry_plus(req, buf, room, name, &e, next);
	}
	err = shmfs_do_lookup(fs, d->in, name, &e);
	if (err)
		return err;
	n = fuse_add_direntry_plus(req, buf, room, name, &e, next);
	if (n > room) {
		/* It did not fit: the kernel never learns of this lookup. */
		itable_forget(&fs->inodes, shmfs_inode(req, e.ino), 1);
		return 0;
	}
	return (long)n;
}

static void shmfs_do_readdir(fuse_req_t req, size_t size, off_t offset,
			     struct fuse_file_info *fi, int plus)
{
	struct shmfs_dir *d = shmfs_dir(fi);
	char *buf, *p;
	size_t room = size;
	int err = 0;

	buf = p = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (offset != d->offset) {
		seekdir(d->dp, offset);
		d->entry = NULL;
		d->offset = offset;
	}
	for (;;) {
		const char *name;
		long n;

		if (!d->entry) {
			errno = 0;
			d->entry = readdir(d->dp);
			if (!d->entry) {
				err = errno;
				break;
			}
		}
		name = shmfs_dir_shown(d, d->entry);
		n = name ? shmfs_dir_add(req, d, plus, name, p, room, d->entry->d_off) : -ENOENT;
		if (n == 0 || (n > 0 && (size_t)n > room))
			break; /* full: this entry goes first next time */
		if (n > 0) {
			p += n;
			room -= (size_t)n;
		}
		d->offset = d->entry->d_off;
		d->entry = NULL;
	}
	/* An error after some entries is reported by the next call. */
	if (err && p == buf)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, buf, size - room);
	free(buf);
}

void shmfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	(void)ino;
	shmfs_do_readdir(req, size, off, fi, 0);
}

void shmfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)ino;
	shmfs_do_readdir(req, size, off, fi, 1);
}

void shmfs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct shmfs_dir *d = shmfs_dir(fi);

	(void)ino;
	closedir(d->dp);
	free(d);
	fuse_reply_err(req, 0);
}
