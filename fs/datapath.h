/* datapath.h: each inode's data path (passthrough or cached), its opens and
 * last release, and segment sizes under the limits. Below the handlers of
 * ops_io.c, ops_ns.c and ops_xattr.c. */
#ifndef SHMFS_DATAPATH_H
#define SHMFS_DATAPATH_H

#include <sys/stat.h>

#include "shmfs.h"

/* The data path an open of in would use now. */
enum inode_io shmfs_io_choice(struct shmfs *fs, struct inode *in);

/* One more open file of in, backed by fd: the first settles the inode's
 * mode and registers the passthrough backing. Returns the mode of this open;
 * called before the reply goes out (see order.h). */
enum inode_io shmfs_io_begin(struct shmfs *fs, struct inode *in, int fd);

/* One open file of in less. The last gives back what the mode took, and
 * removes a process-lifetime segment. size: the segment's size at that
 * point (when limits are counted), or NULL. */
void shmfs_io_end(struct shmfs *fs, struct inode *in, const struct stat *size);

/* An inode goes (FORGET): drop the passthrough backing id it kept. */
void shmfs_backing_forget(struct inode *in, void *fs);

/* Close fd if it is an open file's own, not the inode's shared one. */
void shmfs_file_fd_close(struct inode *in, int fd);

/* Charge the segment behind fd (any fd of it) becoming new_size bytes long
 * (limits_resize): -EFBIG or -ENOSPC past a limit; c says what to undo. */
int shmfs_resize_charge(struct shmfs *fs, int fd, uint64_t new_size, int shrink,
			struct limits_charge *c);

#endif
