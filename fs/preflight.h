/* preflight: checks before mounting that turn a setup in which every
 * create or the mount itself would fail into one message saying what to do. */
#ifndef SHMFS_PREFLIGHT_H
#define SHMFS_PREFLIGHT_H

#include "config.h"

/* The root store (shm_dir) can take new segments: not on a read-only file
 * system, writable by the daemon's user (unless read_only: a -o ro mount).
 * When the default one cannot, a daemon without privilege takes
 * $XDG_RUNTIME_DIR/shmfs instead (cfg->shm_dir changes; a warning says so).
 * Returns 0, or -1 after saying why on stderr. */
int preflight_store(struct config *cfg, int read_only);

/* The daemon's user may open /dev/fuse (read and write). 0, or -1 after
 * saying why on stderr. */
int preflight_fuse(void);

/* An integer from /proc/sys (path), or dflt when it cannot be read. */
long preflight_sysctl(const char *path, long dflt);

#endif
