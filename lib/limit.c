/* limit.c: see limit.h. */
#include "limit.h"

#include <errno.h>
#include <time.h>

#include "clock.h"

int limits_active(const struct limits *l)
{
	return l->max_segment_size || l->max_segments || l->max_total_size;
}

int limits_check_size(const struct limits *l, uint64_t new_size)
{
	return l->max_segment_size && new_size > l->max_segment_size ? -EFBIG : 0;
}

/* base + delta, or 0 below zero. */
static uint64_t usage_add(uint64_t base, int64_t delta)
{
	if (delta < 0 && (uint64_t)-delta > base)
		return 0;
	return base + (uint64_t)delta;
}

int limits_admit(const struct limits *l, const struct usage *u, int64_t dsegments,
		 int64_t dbytes)
{
	if (dsegments > 0 && l->max_segments &&
	    usage_add(u->segments, dsegments) > l->max_segments)
		return -ENOSPC;
	/* A store already past max_total_size (grown behind the daemon's back,
	 * by passthrough writes) takes no new segment until it is back under. */
	if (dsegments > 0 && l->max_total_size && u->bytes > l->max_total_size)
		return -ENOSPC;
	if (dbytes > 0 && l->max_total_size && usage_add(u->bytes, dbytes) > l->max_total_size)
		return -ENOSPC;
	return 0;
}

void usage_apply(struct usage *u, int64_t dsegments, int64_t dbytes)
{
	u->segments = usage_add(u->segments, dsegments);
	u->bytes = usage_add(u->bytes, dbytes);
}

void limits_statfs(const struct limits *l, const struct usage *u, struct statvfs *sv)
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

void limits_init(struct limits *l, limits_count_fn count, void *count_arg)
{
	l->count = count;
	l->count_arg = count_arg;
	l->usage.segments = l->usage.bytes = 0;
	l->recounts = 0;
	l->counted_at = 0;
	pthread_mutex_init(&l->lock, NULL);
	pthread_mutex_init(&l->recount_lock, NULL);
}

void limits_destroy(struct limits *l)
{
	pthread_mutex_destroy(&l->lock);
	pthread_mutex_destroy(&l->recount_lock);
}

/* A count; recount_lock held. */
static void limits_recount_locked(struct limits *l)
{
	struct usage before, u = { 0, 0 };

	if (!l->count)
		return;
	pthread_mutex_lock(&l->lock);
	before = l->usage;
	pthread_mutex_unlock(&l->lock);
	l->count(l->count_arg, &u);
	pthread_mutex_lock(&l->lock);
	/* What was charged while the walk ran may or may not be in its count:
	 * keep it, so that a count never loses a charge (two's complement
	 * makes the differences signed). */
	usage_apply(&u, (int64_t)(l->usage.segments - before.segments),
		    (int64_t)(l->usage.bytes - before.bytes));
	l->usage = u;
	l->recounts++;
	l->counted_at = clock_mono_ns();
	pthread_mutex_unlock(&l->lock);
}

void limits_recount(struct limits *l)
{
	pthread_mutex_lock(&l->recount_lock);
	limits_recount_locked(l);
	pthread_mutex_unlock(&l->recount_lock);
}

static int limits_try(struct limits *l, int64_t dsegments, int64_t dbytes)
{
	int rc;

	pthread_mutex_lock(&l->lock);
	rc = limits_admit(l, &l->usage, dsegments, dbytes);
	if (!rc)
		usage_apply(&l->usage, dsegments, dbytes);
	pthread_mutex_unlock(&l->lock);
	return rc;
}

/* Take a change of usage, refusing only on a fresh count. One count at a
 * time: a count that ended after this refusal is fresh enough. */
static int limits_take(struct limits *l, int64_t dsegments, int64_t dbytes,
		       struct limits_charge *c)
{
	uint64_t seen;
	int rc = limits_try(l, dsegments, dbytes);

	if (rc) {
		pthread_mutex_lock(&l->lock);
		seen = l->recounts;
		pthread_mutex_unlock(&l->lock);
		pthread_mutex_lock(&l->recount_lock);
		pthread_mutex_lock(&l->lock);
		if (l->recounts == seen) {
			pthread_mutex_unlock(&l->lock);
			limits_recount_locked(l);
		} else {
			pthread_mutex_unlock(&l->lock);
		}
		pthread_mutex_unlock(&l->recount_lock);
		rc = limits_try(l, dsegments, dbytes);
	}
	if (!rc) {
		c->segments += dsegments;
		c->bytes += dbytes;
	}
	return rc;
}

int limits_add_segment(struct limits *l, struct limits_charge *c)
{
	c->segments = c->bytes = 0;
	return limits_active(l) ? limits_take(l, 1, 0, c) : 0;
}

int limits_resize(struct limits *l, uint64_t old_size, uint64_t new_size, int shrink,
		  struct limits_charge *c)
{
	c->segments = c->bytes = 0;
	if (!limits_active(l))
		return 0;
	if (limits_check_size(l, new_size))
		return -EFBIG;
	if (new_size <= old_size) {
		if (shrink)
			limits_release(l, 0, old_size - new_size);
		return 0;
	}
	return limits_take(l, 0, (int64_t)(new_size - old_size), c);
}

void limits_undo(struct limits *l, struct limits_charge *c)
{
	if (c->segments || c->bytes) {
		pthread_mutex_lock(&l->lock);
		usage_apply(&l->usage, -c->segments, -c->bytes);
		pthread_mutex_unlock(&l->lock);
	}
	c->segments = c->bytes = 0;
}

void limits_release(struct limits *l, uint64_t segments, uint64_t bytes)
{
	pthread_mutex_lock(&l->lock);
	usage_apply(&l->usage, -(int64_t)segments, -(int64_t)bytes);
	pthread_mutex_unlock(&l->lock);
}

void limits_note(struct limits *l, uint64_t bytes)
{
	pthread_mutex_lock(&l->lock);
	usage_apply(&l->usage, 0, (int64_t)bytes);
	pthread_mutex_unlock(&l->lock);
}

/* Whether no count ended since since - LIMITS_FRESH_NS. */
static int limits_stale(struct limits *l, int64_t since)
{
	int stale;

	pthread_mutex_lock(&l->lock);
	stale = since - l->counted_at >= LIMITS_FRESH_NS;
	pthread_mutex_unlock(&l->lock);
	return stale;
}

void limits_usage(struct limits *l, struct usage *out)
{
	int64_t now = clock_mono_ns();

	/* At most one walk a second however often df asks; a caller that
	 * waited for another's walk takes its result. */
	if (limits_active(l) && limits_stale(l, now)) {
		pthread_mutex_lock(&l->recount_lock);
		if (limits_stale(l, now))
			limits_recount_locked(l);
		pthread_mutex_unlock(&l->recount_lock);
	}
	pthread_mutex_lock(&l->lock);
	*out = l->usage;
	pthread_mutex_unlock(&l->lock);
}
