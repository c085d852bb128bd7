/* cached_io.h: the consistency work of cached-mode READ and WRITE
 * (cached_io.c); below the handlers of ops_io.c. */
#ifndef SHMFS_CACHED_IO_H
#define SHMFS_CACHED_IO_H

#include <sys/types.h>

#include "shmfs.h"

/* Before a READ of size bytes at off of in (open file fi) is served. 0 or
 * -errno (the READ then fails: the fault becomes a SIGBUS, as on tmpfs). */
int cached_io_read(struct shmfs *fs, struct inode *in, struct fuse_file_info *fi, off_t off,
		   size_t size);

/* The data of a WRITE: size bytes of in_buf into the backing object at off,
 * leaving out what a page writeback must not undo. The bytes written, or
 * -errno. */
ssize_t cached_io_write(struct shmfs *fs, struct inode *in, struct fuse_file_info *fi,
			struct fuse_bufvec *in_buf, off_t off, size_t size);

#endif
