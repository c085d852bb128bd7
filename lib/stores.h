/* stores: the root store and the stores grafted into it by the config, the
 * lifetimes that act on them at start and unmount.
 *
 * Declared names ([segment NAME], [dir NAME]) are the root's: each has an
 * entry SHM_DIR/PREFIXNAME (the segment itself for shm segments, the
 * directory itself for shm dirs, otherwise an empty placeholder that keeps
 * the name listed and taken). The limits (limits.h) count what the stores
 * hold. Functions return 0 or -errno. */
#ifndef SHMFS_STORES_H
#define SHMFS_STORES_H

#include <pthread.h>

#include "config.h"
#include "limit.h"
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

#endif
