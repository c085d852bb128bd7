/* node.h: the inodes the kernel knows, below every request handler: node
 * ids, lookups and the entries they answer with, lifetimes, and objects made
 * as the caller. Like everything in fs/, functions return 0 (or an fd) on
 * success and -errno on failure; only a handler turns that into a reply. */
#ifndef SHMFS_NODE_H
#define SHMFS_NODE_H

#include <sys/stat.h>

#include "shmfs.h"

/* The inode of a node id the kernel sent. */
struct inode *shmfs_inode(fuse_req_t req, fuse_ino_t ino);

/* fstat of in's object. */
int shmfs_stat(struct inode *in, struct stat *st);

/* Lookup of name in dir: fills e, and the found inode gains a lookup. */
int shmfs_do_lookup(struct shmfs *fs, struct inode *dir, const char *name,
		    struct fuse_entry_param *e);

/* Fill e for the object behind the O_PATH fd opath, which is taken. */
int shmfs_entry(struct shmfs *fs, struct store *store, int top, int opath,
		struct fuse_entry_param *e);

/* Whether name in dir is declared in the config (and so cannot go away). */
int shmfs_pinned(struct shmfs *fs, struct inode *dir, const char *name);

/* The caller of req: uid, gid and supplementary groups. */
int shmfs_caller(fuse_req_t req, struct creds *c);

/* Run fn(arg) on this thread as the caller of req (fs uid, fs gid; the
 * supplementary groups are fetched, from /proc, only if fn fails with
 * -EACCES without them, so fn must have done nothing then). */
int shmfs_as_caller(fuse_req_t req, int (*fn)(void *), void *arg);

/* What to make: the type and mode, and a device number (mknod) or a
 * symlink's target. */
struct shmfs_node {
	mode_t mode;
	dev_t rdev;
	const char *target;
};

/* Make name in dir as the caller of req. For a regular file, *fd (when fd
 * is not NULL) receives an O_RDWR open of what was made, which is the
 * caller's even if the name was swapped meanwhile; -EEXIST if name is
 * taken (or declared). */
int shmfs_make_node_named(fuse_req_t req, struct inode *dir, const char *name,
			  const struct shmfs_node *n, int *fd);

/* Whether what a lookup found at a name just made is the caller's (a
 * daemon that is not root makes its own). */
int shmfs_made_by(fuse_req_t req, const struct stat *st);

/* The sweeps' mark on what the daemon made (lifetime mount and process). */
void shmfs_mark_made(struct inode *in);

#endif
