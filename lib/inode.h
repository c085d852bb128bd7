/* inode: the table of backing objects the kernel knows of.
 *
 * Each inode holds an fd of its backing object and is found by
 * (st_dev, st_ino), so two names of one object are one inode. nlookup counts
 * the kernel's references (each successful lookup/create adds one, FORGET
 * takes them away); the inode is freed when it drops to zero.
 *
 * A filesystem may give the number of a deleted object to a new one (ext4
 * does, at once) while the kernel still holds the old inode: an entry whose
 * object has no links left is taken out of the hash when its (dev, ino)
 * turns up again, so that the new object gets an inode of its own.
 *
 * File descriptors are bounded: past the table's fd budget a new inode
 * keeps a file handle (name_to_handle_at) instead of an fd, and each use
 * opens one from it (open_by_handle_at, which needs CAP_DAC_READ_SEARCH:
 * only a root daemon has a budget). So no number of objects that users
 * make in a store and look up through the mount can use up the daemon's
 * fds. */
#ifndef SHMFS_INODE_H
#define SHMFS_INODE_H

#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "writelog.h"

struct store;

enum inode_io { INODE_IO_CLOSED, INODE_IO_CACHED, INODE_IO_PASSTHROUGH };

struct inode {
	struct inode *next; /* hash chain, or the stale list; table lock */
	int stale;          /* its object was deleted and its (dev, ino) may be
			     * another object's now: out of the hash; table lock */
	dev_t dev;
	ino_t ino;
	mode_t type;          /* S_IFMT of the object: only S_IFREG is a segment */
	int fd;               /* O_PATH of the backing object, or, for segments
			       * when possible, an O_RDWR open of it (fd_rw);
			       * -1 past the fd budget: then handle is set */
	struct file_handle *handle;
	int fd_rw;
	struct store *store;  /* the store it lives in */
	int top;              /* the store's top directory: names in it are prefixed */
	uint64_t nlookup;     /* table lock */
	int lifetime;         /* enum lifetime once known, else -1; atomic */

	pthread_mutex_t lock; /* guards the open state below */
	unsigned opens;       /* open files of this inode */
	enum inode_io io;     /* how they are open; CLOSED when opens == 0 */
	int backing_id;       /* kernel passthrough id while io == PASSTHROUGH, and
			       * after, while backing_kept, until the inode goes */
	int backing_kept;
	uint64_t pt_size;     /* size at the first passthrough open: what passthrough
			       * writes add is counted at the last release */
	struct writelog_slot wlog; /* recent write()s while io == CACHED
			       * (writelog.h), with a lock of its own */
	int writeback_failed; /* a page writeback of it was refused and logged;
			       * atomic */
};

struct inode_table {
	pthread_mutex_t lock;
	struct inode **buckets;
	size_t nbuckets;
	size_t count;         /* inodes in the buckets */
	struct inode *stale;  /* inodes out of the buckets, still known to the kernel */
	size_t fds;           /* inodes that keep an fd */
	void (*gone)(struct inode *in, void *arg); /* called as FORGET frees one */
	void *gone_arg;
	size_t fd_budget;     /* at most this many keep one; 0: no limit */
};

int itable_init(struct inode_table *t);
/* Frees every inode still in the table and closes its fd. */
void itable_destroy(struct inode_table *t);

/* Find the inode of (sb->st_dev, sb->st_ino) or add one. The inode gains one
 * lookup. fd is an O_PATH of the object: the table takes it, and closes it
 * when the inode existed already. Returns NULL (fd closed) on ENOMEM. */
struct inode *itable_acquire(struct inode_table *t, int fd, const struct stat *sb,
			     struct store *store, int top);

/* The inode of (sb->st_dev, sb->st_ino) with one more lookup, or NULL. */
struct inode *itable_find(struct inode_table *t, const struct stat *sb);

/* Drop n lookups; the inode is freed at zero. */
void itable_forget(struct inode_table *t, struct inode *in, uint64_t n);

size_t itable_count(struct inode_table *t);

/* Have fn(in, arg) called for each inode a FORGET frees, before it goes
 * (not at itable_destroy). */
void itable_on_gone(struct inode_table *t, void (*fn)(struct inode *in, void *arg), void *arg);

/* Let at most n inodes keep an fd (0: no limit). */
void itable_set_fd_budget(struct inode_table *t, size_t n);

/* Whether a new inode would keep an fd now (else only a handle): worth
 * opening a better fd for it first. */
int itable_keeps_fd(struct inode_table *t);

/* An fd of in's object for one use (O_PATH when opened from the handle):
 * in's own, or a new one that inode_fd_done() closes. -errno on failure
 * (-ESTALE: the object is gone). */
int inode_fd(struct inode *in);
void inode_fd_done(struct inode *in, int fd);

/* A new open of in's object with flags, never waiting on another user's
 * lease: an fd, or -errno. */
int inode_reopen(struct inode *in, int flags);

/* The lifetime of in: its own mark (read once from its object, then
 * kept), or its store's. */
enum lifetime inode_lifetime(struct inode *in);
/* The mark changed: read it again next time. */
void inode_forget_lifetime(struct inode *in);

#endif
