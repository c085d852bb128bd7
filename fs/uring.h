/* uring: FUSE requests over io_uring (Linux 6.14+), below the handlers.
 *
 * One queue per possible CPU, each served by one thread pinned to that CPU;
 * each request is handed to libfuse (fuse_session_process_buf) as if it
 * had been read from /dev/fuse, so the same handlers serve it, and the reply
 * that libfuse writes through the session's custom I/O (passthrough.c) goes
 * into the ring entry instead. FORGET, INTERRUPT and notifications stay on
 * /dev/fuse, whose loop keeps running. */
#ifndef SHMFS_URING_H
#define SHMFS_URING_H

#include <stdint.h>
#include <sys/uio.h>

struct shmfs;

/* Before mounting: whether the ring may be asked for (io_uring is not off,
 * the module parameter enable_uring is Y, io_uring can be set up), making
 * one io_uring per queue. Returns 0, or -1 when io_uring=on and the ring
 * cannot be had (the reason is logged). fs->uring_why says why not. */
int uring_prepare(struct shmfs *fs);

/* From the FUSE_INIT reply: whether to ask for FUSE_OVER_IO_URING. */
int uring_want(const struct shmfs *fs);

/* After FUSE_INIT is answered and the data path is decided: keep the ring
 * or turn it down (the kernel then keeps /dev/fuse). Returns 0, or -1 when
 * io_uring=on and it cannot be had. */
int uring_decide(struct shmfs *fs);

/* After daemonizing: start the queue threads and register their entries;
 * returns once every queue has answered. 0, or -1 (logged; the kernel then
 * keeps /dev/fuse). */
int uring_start(struct shmfs *fs);

/* From the session's writev: when this thread serves request unique from a
 * ring entry, the reply goes into that entry. Returns 1 then, else 0. */
int uring_reply(const struct iovec *iov, int count, uint64_t unique);

/* At unmount: stop the threads (requests in flight are answered or dropped
 * by the kernel's teardown) and free the rings. */
void uring_stop(struct shmfs *fs);

/* Whether requests come over the ring now. */
int uring_in_use(const struct shmfs *fs);

/* "io_uring" or "/dev/fuse": the transport of requests now. */
const char *uring_transport(const struct shmfs *fs);

#endif
