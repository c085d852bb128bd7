/* limit.h: the limits (functions limits_*): max_segment_size, max_segments
 * and max_total_size, the usage counted against them, and the protocol every
 * change follows: charge before acting, undo if the act fails, release what
 * goes. The module owns its lock; the count itself (a walk of the stores)
 * is a callback, run at most one at a time. Zero means no limit. Functions return 0 or -errno. */
#ifndef SHMFS_LIMIT_H
#define SHMFS_LIMIT_H

#include <pthread.h>
#include <stdint.h>
#include <sys/statvfs.h>

struct usage {
	uint64_t segments;
	uint64_t bytes;
};

/* Count what the stores hold now into *out. */
typedef void (*limits_count_fn)(void *arg, struct usage *out);

struct limits {
	uint64_t max_segment_size; /* EFBIG past it */
	uint64_t max_segments;     /* ENOSPC past it */
	uint64_t max_total_size;   /* ENOSPC past it: sum of segment sizes */

	limits_count_fn count;
	void *count_arg;
	pthread_mutex_t lock;      /* guards usage, recounts, counted_at */
	struct usage usage;
	uint64_t recounts;         /* recounts done so far */
	int64_t counted_at;        /* CLOCK_MONOTONIC ns when the last one ended */
	pthread_mutex_t recount_lock; /* one count at a time */
};

/* What a charge took, to give back with limits_undo if the act fails. */
struct limits_charge {
	int64_t segments;
	int64_t bytes;
};

/* count (may be NULL: no recounts) is called with count_arg. */
void limits_init(struct limits *l, limits_count_fn count, void *count_arg);
void limits_destroy(struct limits *l);

int limits_active(const struct limits *l);

/* Charges. Each fills *c with what it took (nothing when no limit is set).
 * A refusal comes only after a fresh count: passthrough writes and other
 * programs change the stores behind the daemon's back. */
/* A new segment: -ENOSPC past max_segments, or while past max_total_size. */
int limits_add_segment(struct limits *l, struct limits_charge *c);
/* A segment going from old_size to new_size bytes: -EFBIG past
 * max_segment_size, -ENOSPC past max_total_size. Shrinking is given back
 * at once when shrink is set (truncate, not write). */
int limits_resize(struct limits *l, uint64_t old_size, uint64_t new_size, int shrink,
		  struct limits_charge *c);
/* The act a charge was for failed. */
void limits_undo(struct limits *l, struct limits_charge *c);
/* Segments and bytes gone (unlink, rename over, process lifetime). */
void limits_release(struct limits *l, uint64_t segments, uint64_t bytes);
/* Growth that happened without asking (passthrough writes). */
void limits_note(struct limits *l, uint64_t bytes);

/* The usage to report (statfs, user.shmfs.limits): counted again first when
 * the last count is older than LIMITS_FRESH_NS. */
#define LIMITS_FRESH_NS 1000000000LL
void limits_usage(struct limits *l, struct usage *out);
/* Count again. Charges taken meanwhile are kept (at worst counted twice
 * until the next count), never lost. */
void limits_recount(struct limits *l);

/* Shape a statvfs of the backing store to show the limits: capacity is
 * max_total_size, free is what is left of it (no more than the store has
 * free, when the store reports a capacity); likewise files and max_segments. */
void limits_statfs(const struct limits *l, const struct usage *u, struct statvfs *sv);

/* The arithmetic, without the lock. May a segment be new_size bytes long
 * (-EFBIG if not)? May usage u change by dsegments and dbytes (-ENOSPC if
 * that passes a limit, or adds a segment while past max_total_size;
 * shrinking always may)? */
int limits_check_size(const struct limits *l, uint64_t new_size);
int limits_admit(const struct limits *l, const struct usage *u, int64_t dsegments,
		 int64_t dbytes);
/* Apply a change to usage, never going below zero. */
void usage_apply(struct usage *u, int64_t dsegments, int64_t dbytes);

#endif
