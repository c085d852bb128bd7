/* ops.h: the FUSE request handlers, one file per group, all below in
 * fs/main.c's table. A handler replies exactly once; it builds on node.h
 * and datapath.h, never on another file's handlers. */
#ifndef SHMFS_OPS_H
#define SHMFS_OPS_H

#include "shmfs.h"

/* ops_table.c: the table of handlers, those of data requests waiting for
 * earlier ones first (order.h); which requests those are, for order_init;
 * and a check that the two agree (0, or -1 logged). */
extern const struct fuse_lowlevel_ops shmfs_ops;
int shmfs_order_range(uint32_t opcode, const void *arg, size_t argn, uint64_t *start,
		      uint64_t *end, int *changes);
int shmfs_ops_check(const struct fuse_lowlevel_ops *ops);

/* ops_ns.c */
void shmfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void shmfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void shmfs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets);
void shmfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void shmfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
		   struct fuse_file_info *fi);
void shmfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev);
void shmfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void shmfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name);
void shmfs_readlink(fuse_req_t req, fuse_ino_t ino);
void shmfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname);
void shmfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void shmfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void shmfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		  const char *newname, unsigned int flags);
void shmfs_statfs(fuse_req_t req, fuse_ino_t ino);

/* ops_dir.c */
void shmfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void shmfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi);
void shmfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi);
void shmfs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
/* The fd of an open directory (its fi from opendir). */
int shmfs_dir_fd(struct fuse_file_info *fi);

/* ops_file.c */
void shmfs_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		 struct fuse_file_info *fi);
void shmfs_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void *arg, struct fuse_file_info *fi,
		 unsigned flags, const void *in_buf, size_t in_bufsz, size_t out_bufsz);

/* ops_xattr.c */
void shmfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void shmfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void shmfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
		    size_t size, int flags);
void shmfs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

/* ops_io.c */
void shmfs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		  struct fuse_file_info *fi);
void shmfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void shmfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi);
void shmfs_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in_buf, off_t off,
		     struct fuse_file_info *fi);
void shmfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);
void shmfs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
		     struct fuse_file_info *fi);
void shmfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);

#endif
