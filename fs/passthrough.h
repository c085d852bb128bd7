/* passthrough: kernel FUSE passthrough (Linux 6.9+) with libfuse 3.14, which
 * predates it. Negotiation patches FUSE_INIT through a custom I/O; backing
 * files are registered with an ioctl on the session fd; OPEN and CREATE are
 * answered with FOPEN_PASSTHROUGH and the backing id. */
#ifndef SHMFS_PASSTHROUGH_H
#define SHMFS_PASSTHROUGH_H

#include "shmfs.h"

/* Install the custom I/O on the mounted session that patches FUSE_INIT
 * (passthrough unless passthrough=off; FUSE_HANDLE_KILLPRIV_V2). */
int passthrough_setup(struct shmfs *fs);

/* After FUSE_INIT is answered: decide fs->passthrough, trying a backing
 * registration in the store; fs->passthrough_why says why not. Returns 0,
 * or -1 when passthrough=on and it cannot be had (the reason is logged). */
int passthrough_decide(struct shmfs *fs);

/* Register fd (an open backing object) with the kernel: backing id or -errno. */
int passthrough_backing_open(struct shmfs *fs, int fd);
void passthrough_backing_close(struct shmfs *fs, int backing_id);

/* Reply to OPEN / CREATE with FOPEN_PASSTHROUGH and backing_id. */
int passthrough_reply_open(fuse_req_t req, const struct fuse_file_info *fi, int backing_id);
int passthrough_reply_create(fuse_req_t req, const struct fuse_entry_param *e,
			     const struct fuse_file_info *fi, int backing_id);

#endif
