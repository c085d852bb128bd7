#include "quota.h"

#include <errno.h>

int quota_active(const struct limits *l)
{
	return l->max_segment_size || l->max_segments || l->max_total_size;
}

int quota_check_size(const struct limits *l, uint64_t new_size)
{
	return l->max_segment_size && new_size > l->max_segment_size ? -EFBIG : 0;
}

/* base + delta, or 0 below zero. */
static uint64_t quota_add(uint64_t base, int64_t delta)
{
	if (delta < 0 && (uint64_t)-delta > base)
		return 0;
	return base + (uint64_t)delta;
}

int quota_admit(const struct limits *l, const struct usage *u, int64_t dsegments,
		 int64_t dbytes)
{
	if (dsegments > 0 && l->max_segments &&
	    quota_add(u->segments, dsegments) > l->max_segments)
		return -ENOSPC;
	/* A store already past max_total_size (grown behind the daemon's back,
	 * by passthrough writes) takes no new segment until it is back under. */
	if (dsegments > 0 && l->max_total_size && u->bytes > l->max_total_size)
		return -ENOSPC;
	if (dbytes > 0 && l->max_total_size && quota_add(u->bytes, dbytes) > l->max_total_size)
		return -ENOSPC;
	return 0;
}

void quota_apply(struct usage *u, int64_t dsegments, int64_t dbytes)
{
	u->segments = quota_add(u->segments, dsegments);
	u->bytes = quota_add(u->bytes, dbytes);
}

void quota_statfs(const struct limits *l, const struct usage *u, struct statvfs *sv)
{
	if (l->max_total_size && sv->f_frsize) {
		fsblkcnt_t blocks = l->max_total_size / sv->f_frsize;
		fsblkcnt_t used = (u->bytes + sv->f_frsize - 1) / sv->f_frsize;
		fsblkcnt_t avail = used < blocks ? blocks - used : 0;
		/* A tmpfs mounted with size=0 has no capacity and says 0 blocks, 0 free. */
		int bounded = sv->f_blocks != 0;

		/* Capacity is the limit; what is free is also bounded by
		 * what the backing store has left. */
		sv->f_blocks = blocks;
		if (!bounded || avail < sv->f_bavail)
			sv->f_bavail = avail;
		if (!bounded || avail < sv->f_bfree)
			sv->f_bfree = avail;
	}
	if (l->max_segments) {
		fsfilcnt_t files = l->max_segments;
		fsfilcnt_t free = u->segments < files ? files - u->segments : 0;

		sv->f_files = files;
		sv->f_ffree = free;
		sv->f_favail = free;
	}
}
