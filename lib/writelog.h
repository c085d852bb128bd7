/* writelog.h: page writeback must not undo a write() it raced (cached mode). */
#ifndef SHMFS_WRITELOG_H
#define SHMFS_WRITELOG_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct writelog;

/* The write log of one segment (an inode's), with its own lock: the log is
 * allocated at the first logged write and dropped at the last release. */
struct writelog_slot {
	pthread_mutex_t lock;
	struct writelog *log;
};

void writelog_init(struct writelog_slot *slot);
void writelog_destroy(struct writelog_slot *slot);

struct writelog_range {
	uint64_t start, end; /* end is exclusive */
};

/* A write() of [off, off + len) of the segment is about to reach the
 * backing object. Returns its id for writelog_done, or 0 (not logged: no
 * memory). */
uint64_t writelog_begin(struct writelog_slot *slot, uint64_t off, uint64_t len);
/* ... and has reached it. */
void writelog_done(struct writelog_slot *slot, uint64_t id);

/* A READ of [off, off + len) that fills the kernel's page cache (not a
 * direct read) is about to be served from the backing object. */
void writelog_read(struct writelog_slot *slot, uint64_t off, uint64_t len);

/* The parts of a writeback of [off, off + len) that must not be written: bytes
 * of logged writes that are newer than the kernel's copy of their page.
 * Returns how many ranges (merged, in order) *skip holds; free(*skip). */
size_t writelog_stale(struct writelog_slot *slot, uint64_t off, uint64_t len,
		      struct writelog_range **skip);

/* The segment has no open files left: forget its log. */
void writelog_drop(struct writelog_slot *slot);

#endif
