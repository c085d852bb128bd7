/* killpriv: setuid and setgid bits cleared on write, truncate and chown by
 * callers without CAP_FSETID, as tmpfs clears them. */
#ifndef SHMFS_KILLPRIV_H
#define SHMFS_KILLPRIV_H

#include "shmfs.h"

#include <stddef.h>

/* From the request hook, for each request read (buf holds n bytes): notes
 * whether it asks for the bits to go. */
void killpriv_note(const void *buf, size_t n);

/* Does the request this thread is serving ask for the bits to go? */
int killpriv_asked(void);

/* Clear, on the object fd (any fd of it, O_PATH too), what tmpfs clears
 * for the caller of req: S_ISUID, and S_ISGID where S_IXGRP is set or the
 * caller is not in the file's group. Returns 0 or -errno. */
int killpriv_apply(fuse_req_t req, int fd);

#endif
