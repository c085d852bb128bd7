/* order.h: a segment's data requests are served in the order the kernel sent
 * them, where that matters. */
#ifndef SHMFS_ORDER_H
#define SHMFS_ORDER_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

struct order_entry;

struct order {
	pthread_mutex_t read_lock;   /* held across read() of /dev/fuse */
	pthread_mutex_t lock;        /* protects active */
	pthread_cond_t done;         /* an active request was answered */
	struct order_entry *active;  /* changing requests read and not yet answered */
};

void order_init(struct order *o);
void order_destroy(struct order *o);

/* read() of the next request from fd, noting it if it reads or changes a
 * file's data. The request's handler runs in the calling thread. */
ssize_t order_read(struct order *o, int fd, void *buf, size_t len);

/* In the handler of a READ, WRITE, SETATTR, FALLOCATE or OPEN: wait until
 * every earlier request that changes an overlapping range of the same file
 * has been answered. Does nothing for requests that need no order. */
void order_wait(struct order *o);

/* A reply to request unique is being sent. */
void order_answered(struct order *o, uint64_t unique);

#endif
