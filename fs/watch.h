/* watch.h: the stores watched for changes made behind the mount's back.
 *
 * A program that uses the store directly (shm_open, /dev/shm) creates,
 * removes, renames, truncates and chmods objects the kernel may hold in
 * its caches for the mount. Every directory of a store the kernel has
 * looked up gets a fanotify mark; a thread of its own reads the events and
 * invalidates exactly the entries and inodes they name
 * (fuse_lowlevel_notify_inval_entry/_inode). Entries and attributes of what
 * is watched can then be cached for WATCH_TIMEOUT instead of attr_timeout.
 * Events of the daemon's own changes are left out: the kernel made those
 * through the mount and knows them already.
 *
 * What cannot be watched keeps attr_timeout: stores on filesystems whose
 * changes may come from elsewhere (network, FUSE), directories whose mark
 * was refused (fs.fanotify.max_user_marks), declared segments, negative
 * entries, process-lifetime segments (never cached). attr_timeout = 0 or a
 * kernel without fanotify directory events (Linux 5.9+, with file handles
 * of the store's filesystem) turns the watch off. */
#ifndef SHMFS_WATCH_H
#define SHMFS_WATCH_H

#include "shmfs.h"

/* Entry and attribute timeout, seconds, of what is watched: a safety net
 * for a change no event reports, not the bound on seeing a change. */
#define WATCH_TIMEOUT 3600.0

/* Make the fanotify group and mark the root store, before mounting.
 * Returns 0; without a watch (fs->watch stays NULL, logged once)
 * everything keeps attr_timeout. */
int watch_open(struct shmfs *fs);

/* Start the thread: after fuse_daemonize (threads do not survive its
 * fork), before the loop. */
int watch_start(struct shmfs *fs);

/* Stop the thread and drop every mark; after the loop, before the session
 * goes. Also undoes a watch_open without watch_start. */
void watch_stop(struct shmfs *fs);

/* A lookup of name in dir gave e: remember where its inode was seen, mark
 * it if it is a directory, and lengthen e's timeouts when its changes are
 * watched. Returns 0 (e is always usable). */
int watch_entry(struct shmfs *fs, struct inode *dir, const char *name,
		struct fuse_entry_param *e);

/* The attribute timeout for a GETATTR reply of in. */
double watch_attr_timeout(struct shmfs *fs, struct inode *in);

/* Whether the kernel may cache dir's listing (FOPEN_CACHE_DIR). */
int watch_caches_dir(struct shmfs *fs, struct inode *dir);

/* The daemon removed in's name itself, not at the kernel's request (a
 * process-lifetime segment): the watch thread invalidates the entry. */
void watch_removed(struct shmfs *fs, struct inode *in);

/* in goes (FORGET): its record and mark go too. */
void watch_forget(struct shmfs *fs, struct inode *in);

#endif
