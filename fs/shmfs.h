/* shmfs.h: the mount's context, shared by the FUSE handlers. */
#ifndef SHMFS_SHMFS_H
#define SHMFS_SHMFS_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <stdint.h>

#include "config.h"
#include "creds.h"
#include "inode.h"
#include "order.h"
#include "store.h"
#include "stores.h"

struct shmfs {
	struct config cfg;
	struct stores stores;
	struct inode root;           /* FUSE_ROOT_ID: the root store's top directory */
	struct inode_table inodes;
	struct fuse_session *se;
	double timeout;              /* entry and attribute timeout, seconds */
	struct order order;          /* data requests in the kernel's order */

	/* Passthrough state, fixed once FUSE_INIT is answered. */
	int kernel_offers_passthrough; /* FUSE_INIT offered FUSE_PASSTHROUGH */
	int kernel_offers_killpriv_v2; /* ... and FUSE_HANDLE_KILLPRIV_V2 */
	int kernel_offers_dio_mmap;    /* ... and FUSE_DIRECT_IO_ALLOW_MMAP */
	uint64_t init_unique;          /* unique of the FUSE_INIT request, or 0 */
	int passthrough_negotiated;    /* the INIT reply asked for it */
	int passthrough;               /* opens may use kernel passthrough */
	char passthrough_why[256];     /* why not, when passthrough is 0 */
	/* Cached-mode opens are FOPEN_DIRECT_IO (read/write to the daemon,
	 * mappings in the page cache): the INIT reply asked for
	 * FUSE_DIRECT_IO_ALLOW_MMAP. See ops_io.c. */
	int cached_direct_io;

	/* The transport (uring.c), fixed once the mount is live. */
	struct uring *uring;           /* NULL: requests come through /dev/fuse */
	int kernel_offers_uring;       /* FUSE_INIT offered FUSE_OVER_IO_URING */
	int uring_negotiated;          /* the INIT reply asked for it */
	uint32_t init_max_write;       /* of the INIT reply: the largest request */
	uint32_t init_max_pages;
	char uring_why[256];           /* why not io_uring */
	uint64_t dev_reads;            /* requests read from /dev/fuse; atomic */
	uint64_t ring_requests;        /* requests served from the ring; atomic */
	int protected_regular;         /* fs.protected_regular at start */
	/* Cached-mode writes of mapped pages (writeback) the store refused;
	 * atomic, see ops_io.c. */
	uint64_t writeback_errors;
};

static inline struct shmfs *shmfs_data(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

struct inode *shmfs_inode(fuse_req_t req, fuse_ino_t ino);

/* fstat of in's object: 0 or an errno. */
int shmfs_stat(struct inode *in, struct stat *st);

/* Lookup of name in dir: fills e, and the found inode gains a lookup.
 * Returns 0 or an errno (positive). */
int shmfs_do_lookup(struct shmfs *fs, struct inode *dir, const char *name,
		    struct fuse_entry_param *e);

/* Fill e for the object behind the O_PATH fd opath, which is taken. */
int shmfs_entry(struct shmfs *fs, struct store *store, int top, int opath,
		struct fuse_entry_param *e);

/* fd (taken) as an O_RDWR open of the same regular file, when possible. */
int shmfs_open_rw(int fd);

/* A new open of in's backing object with flags: an fd, or -errno. */
int shmfs_open_backing(struct inode *in, int flags);

/* Flags for the daemon's own open of a backing object for an open with flags. */
int shmfs_backing_flags(int flags);

/* The lifetime of in: its own mark, or its store's. */
enum lifetime shmfs_lifetime(struct inode *in);
/* The mark changed: read it again next time. */
void shmfs_forget_lifetime(struct inode *in);

/* Whether name in dir is declared in the config (and so cannot go away). */
int shmfs_pinned(struct shmfs *fs, struct inode *dir, const char *name);

/* Admit the segment behind fd (any fd of it) becoming new_size bytes long
 * under the limits; a smaller size is given back only if shrink is set
 * (truncate, not write). Returns 0 or EFBIG/ENOSPC; *charged is what to give
 * back with stores_uncharge() if the change then fails. */
int shmfs_charge_size(struct shmfs *fs, int fd, uint64_t new_size, int shrink,
		      int64_t *charged);

/* The data path mode an open of in would use now. */
enum inode_io shmfs_io_choice(struct shmfs *fs, struct inode *in);

extern const struct fuse_lowlevel_ops shmfs_ops;

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

/* The caller of req: uid, gid and supplementary groups. 0 or an errno. */
int shmfs_caller(fuse_req_t req, struct creds *c);

/* Create a regular file or directory name in dir as the caller of req.
 * For a file, *fd (when fd is not NULL) receives an O_RDWR open of it.
 * Returns 0 or a positive errno. */
int shmfs_make(fuse_req_t req, struct inode *dir, const char *name, mode_t mode, int *fd);

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
/* An inode goes (FORGET): drop the passthrough backing id it kept. */
void shmfs_backing_forget(struct inode *in, void *fs);
/* Close fd if it is an open file's own, not the inode's shared one. */
void shmfs_file_fd_close(struct inode *in, int fd);

#endif
