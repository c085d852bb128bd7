/* stores: the root store and the stores grafted into it by the config, the
 * lifetimes that act on them at start and unmount, and the usage counted
 * against the limits.
 *
 * Declared names ([segment NAME], [dir NAME]) are the root's: each has an
 * entry SHM_DIR/PREFIXNAME (the segment itself for shm segments, the
 * directory itself for shm dirs, otherwise an empty placeholder that keeps
 * the name listed and taken). Functions return 0 or -errno. */
#ifndef SHMFS_STORES_H
#define SHMFS_STORES_H

#include <pthread.h>

#include "config.h"
#include "quota.h"
#include "store.h"
#include "strindex.h"

struct graft {
	const struct config_graft *decl;
	struct store own;        /* dirs; file segments: the file's directory */
	struct store *store;     /* where the graft's object is: &own or the root */
	char entry[NAME_MAX + 1]; /* its entry in the root: PREFIXNAME */
	char leaf[NAME_MAX + 1];  /* segments: the object's name in store's top */
};

struct stores {
	struct store root;
	struct graft *grafts;
	size_t ngrafts;
	struct strindex names;   /* declared name -> index in grafts; set at open */
	struct limits limits;

	pthread_mutex_t lock; /* guards usage and recounts */
	struct usage usage;
	uint64_t recounts;    /* recounts done so far */
	int64_t counted_at;   /* CLOCK_MONOTONIC ns when the last one ended */
	pthread_mutex_t recount_lock; /* one recount walks the stores at a time */
};

/* Open the root store and the grafts; apply lifetimes left over from a
 * previous run (mount and process dirs: what the mount made is removed;
 * segments marked process: removed); create declared objects that are
 * missing; count usage when limits are set. Whatever is found at a declared
 * name that the daemon did not make (wrong type, another owner, other hard
 * links) is refused: -1, with a message naming it. Problems are logged. */
int stores_open(struct stores *s, const struct config *cfg);

/* At unmount, empty what has lifetime mount; then close everything. */
void stores_close(struct stores *s, int unmounting);

/* The graft declared under name at the root, or NULL. */
struct graft *stores_graft(struct stores *s, const char *name);

/* Take a change of usage if the limits allow it (-ENOSPC if not, after
 * recounting the stores, since the count can drift from what is there;
 * callers refused while a recount ran take its result instead of walking
 * again). */
int stores_charge(struct stores *s, int64_t dsegments, int64_t dbytes);
void stores_uncharge(struct stores *s, int64_t dsegments, int64_t dbytes);
/* Count a change that happened without asking (passthrough growth). */
void stores_note(struct stores *s, int64_t dsegments, int64_t dbytes);

/* The usage to report (statfs, user.shmfs.limits): recounted first when
 * the last count is older than STORES_FRESH_NS, since passthrough writes and
 * other programs change the stores behind the daemon's back. */
#define STORES_FRESH_NS 1000000000LL
void stores_usage(struct stores *s, struct usage *out);

/* Count every segment and byte of the stores again. Charges taken while
 * the walk runs are kept (at worst counted twice until the next recount),
 * never lost. */
void stores_recount(struct stores *s);

#endif
