/* clock.h: CLOCK_MONOTONIC in nanoseconds, for deadlines and ages. */
#ifndef SHMFS_CLOCK_H
#define SHMFS_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#endif
