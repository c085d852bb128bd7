/* order.h: a segment's data requests are served in the order the kernel sent
 * them, where that matters. */
#ifndef SHMFS_ORDER_H
#define SHMFS_ORDER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct order_entry;

/* Whether a request with opcode and argument arg (argn bytes, after the
 * fuse_in_header) reads or changes a file's data: 1 with the byte range
 * [*start, *end) it touches and *changes (0 for a read), or 0. */
typedef int (*order_range_fn)(uint32_t opcode, const void *arg, size_t argn, uint64_t *start,
			      uint64_t *end, int *changes);

#define ORDER_SLOTS 64

/* A worker thread that may read without read_lock. */
struct order_slot {
	pid_t tid;                   /* the kernel's thread id */
	int used;                    /* the slot is a live thread's; atomic */
	int bare;                    /* it is reading without read_lock now; atomic */
};

struct order {
	order_range_fn range;        /* which requests need order */
	pthread_mutex_t read_lock;   /* held across read() of /dev/fuse while ordered */
	pthread_mutex_t lock;        /* protects active */
	pthread_cond_t done;         /* an active request was answered */
	struct order_entry *active;  /* changing requests read and not yet answered */
	int cached;                  /* reasons to order: inodes open in cached mode,
				      * plus one for a mount without passthrough; atomic */
	struct order_slot slots[ORDER_SLOTS];
};

void order_init(struct order *o, order_range_fn range);
void order_destroy(struct order *o);

/* What a transport notes of each request it takes (buf holds n bytes, 0
 * when none was read): ordered says whether it is taken in the kernel's
 * order now, and is passed on to order_note. */
typedef void (*order_note_fn)(void *arg, const void *buf, size_t n, int ordered);

/* read() of the next request from fd, then note(arg, ...) before the next
 * thread may read. The request's handler runs in the calling thread. While
 * nothing is open in cached mode, requests are read without read_lock (and
 * noted as not ordered). */
ssize_t order_read(struct order *o, int fd, void *buf, size_t len, order_note_fn note, void *arg);

/* Note the request this thread is about to serve if it reads or changes a
 * file's data and ordered is set; otherwise it waits for nothing. */
void order_note(struct order *o, const void *buf, size_t n, int ordered);

/* Whether there is a reason to order now (an inode open in cached mode, or
 * a mount without passthrough). */
int order_wanted(struct order *o);

/* Before the handler of a request the range function says needs order
 * (ops_table.c installs the waits): wait until every earlier request that
 * changes an overlapping range of the same file has been answered. Does
 * nothing for requests that need no order. */
void order_wait(struct order *o);

/* One more reason to order (+1: an inode's first cached-mode open, or a
 * mount without passthrough, for good) or one less (-1: the inode's last
 * release). Called before the OPEN reply goes out: on +1 it returns only
 * once no thread reads without read_lock any more. */
void order_cached(struct order *o, int delta);

/* A reply to request unique is being sent. */
void order_answered(struct order *o, uint64_t unique);

#endif
