/* request: what the daemon notes of each request it takes, from /dev/fuse
 * or from the ring. */
#ifndef SHMFS_REQUEST_H
#define SHMFS_REQUEST_H

#include <stddef.h>

#include "shmfs.h"

/* buf holds the request (n bytes, in the layout read() of /dev/fuse gives):
 * note FUSE_INIT and what the kernel offers, whether the request asks for
 * setuid/setgid bits to go (killpriv.c), and, when ordered, its place among
 * data requests (order.c). The request's handler then runs in the calling
 * thread, which is where these notes are kept. */
void request_note(struct shmfs *fs, const void *buf, size_t n, int ordered);

#endif
