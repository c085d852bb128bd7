/* mountpoint: what is on a mount point before shmfs mounts there, and
 * asking a FUSE mount whether its daemon answers. */
#ifndef SHMFS_MOUNTPOINT_H
#define SHMFS_MOUNTPOINT_H

#include <stddef.h>

/* statfs(path) in a child process, which is killed after timeout_ms: a
 * daemon that never answers cannot hold the caller. Returns 0 (answered),
 * -ETIMEDOUT, or statfs's -errno (-ENOTCONN, -ECONNABORTED: the daemon is
 * gone). */
int mountpoint_probe(const char *path, int timeout_ms);

/* Make arg (the MOUNTPOINT argument) absolute into abs (PATH_MAX bytes),
 * and check it can take a shmfs mount: a directory, with no live shmfs
 * mount on it. A dead shmfs mount on it (its daemon gone: ENOTCONN) is
 * unmounted lazily and *recovered set. Returns 0, or -1 after saying why on
 * stderr. */
int mountpoint_prepare(const char *arg, char *abs, int *recovered);

#endif
