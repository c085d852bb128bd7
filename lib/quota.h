/* quota: the arithmetic of max_segment_size, max_segments and
 * max_total_size. Zero means no limit. Functions return 0 or -errno. */
#ifndef SHMFS_QUOTA_H
#define SHMFS_QUOTA_H

#include <stdint.h>
#include <sys/statvfs.h>

struct limits {
	uint64_t max_segment_size; /* EFBIG past it */
	uint64_t max_segments;     /* ENOSPC past it */
	uint64_t max_total_size;   /* ENOSPC past it: sum of segment sizes */
};

struct usage {
	uint64_t segments;
	uint64_t bytes;
};

int quota_active(const struct limits *l);

/* May a segment be new_size bytes long? -EFBIG if not. */
int quota_check_size(const struct limits *l, uint64_t new_size);

/* May usage change by dsegments and dbytes? -ENOSPC if that passes a limit,
 * or adds a segment to a store already past max_total_size. Shrinking is
 * always allowed. */
int quota_admit(const struct limits *l, const struct usage *u, int64_t dsegments,
		 int64_t dbytes);

/* Apply a change to usage, never going below zero. */
void quota_apply(struct usage *u, int64_t dsegments, int64_t dbytes);

/* Shape a statvfs of the backing store to show the limits: capacity is
 * max_total_size, free is what is left of it (no more than the store has
 * free, when the store reports a capacity); likewise files and max_segments. */
void quota_statfs(const struct limits *l, const struct usage *u, struct statvfs *sv);

#endif
