/* writelog.c: page writeback must not undo a write() it raced (cached mode).
 *
 * In cached mode write() goes to the daemon directly (FOPEN_DIRECT_IO, see
 * ops_io.c) while mappings share the page cache. Before a direct write the
 * kernel writes back and drops the cached pages of its range, and after it
 * drops them again. A page another process faults in between those two (its
 * READ served before the write reached the backing object) holds the old
 * bytes of the range; if that process stores to the page meanwhile,
 * writeback sends the whole page, old bytes and all, after the write, and
 * the write is lost (BUG-1 in docs/RELIABILITY.md).
 *
 * So each direct write of an open segment is logged, each READ that fills the
 * page cache marks the pages it serves as fresh for the logged writes already
 * done, and a writeback skips the bytes of any done write whose page was not
 * read since:
 * the page's copy of them is older than the write, or was stored through a
 * mapping while the write ran, a race that either outcome answers. The
 * kernel drops such pages before the write() returns, so the last few writes
 * of each segment are all that need keeping. */
#include "writelog.h"

#include <stdlib.h>
#include <string.h>


#define WLOG_ENTRIES 16
#define WLOG_PAGE 4096u
#define WLOG_PAGES 320 /* pages one entry covers: more than FUSE's max_write spans */

struct wlog_entry {
	uint64_t id;         /* 0: unused */
	uint64_t start, end; /* the bytes written, end exclusive */
	int done;            /* they are in the backing object */
	uint8_t fresh[WLOG_PAGES / 8]; /* pages read since done, from start's page */
};

struct writelog {
	uint64_t last_id;    /* entry id goes in slot (id - 1) % WLOG_ENTRIES */
	struct wlog_entry e[WLOG_ENTRIES];
};

static uint64_t page_of(uint64_t off)
{
	return off / WLOG_PAGE;
}

/* The pages [first, last] of e that [off, off + len) touches; 0 if none. */
static int wlog_pages(const struct wlog_entry *e, uint64_t off, uint64_t len, uint64_t *first,
		      uint64_t *last)
{
	uint64_t end = off + len < off ? UINT64_MAX : off + len;

	if (!e->id || !len || end <= e->start || e->end <= off)
		return 0;
	*first = page_of(off > e->start ? off : e->start) - page_of(e->start);
	*last = page_of((end < e->end ? end : e->end) - 1) - page_of(e->start);
	return 1;
}

uint64_t writelog_begin(struct writelog_slot *slot, uint64_t off, uint64_t len)
{
	struct writelog *wl;
	struct wlog_entry *e;
	uint64_t id;

	if (!len)
		return 0;
	/* One entry covers WLOG_PAGES pages; FUSE never sends more at once. */
	if (page_of(off + len - 1) - page_of(off) >= WLOG_PAGES)
		len = (uint64_t)WLOG_PAGES * WLOG_PAGE - off % WLOG_PAGE;
	pthread_mutex_lock(&slot->lock);
	wl = slot->log;
	if (!wl)
		wl = slot->log = calloc(1, sizeof(*wl));
	if (!wl) {
		pthread_mutex_unlock(&slot->lock);
		return 0;
	}
	id = ++wl->last_id;
	e = &wl->e[(id - 1) % WLOG_ENTRIES];
	memset(e, 0, sizeof(*e));
	e->id = id;
	e->start = off;
	e->end = off + len;
	pthread_mutex_unlock(&slot->lock);
	return id;
}

void writelog_done(struct writelog_slot *slot, uint64_t id)
{
	struct writelog *wl;

	if (!id)
		return;
	pthread_mutex_lock(&slot->lock);
	wl = slot->log;
	/* Its slot may hold a later write by now (more than WLOG_ENTRIES in
	 * flight, as asynchronous direct I/O can have): then it is gone. */
	if (wl && wl->e[(id - 1) % WLOG_ENTRIES].id == id)
		wl->e[(id - 1) % WLOG_ENTRIES].done = 1;
	pthread_mutex_unlock(&slot->lock);
}

void writelog_read(struct writelog_slot *slot, uint64_t off, uint64_t len)
{
	struct writelog *wl;
	uint64_t first, last;

	pthread_mutex_lock(&slot->lock);
	wl = slot->log;
	for (int i = 0; wl && i < WLOG_ENTRIES; i++) {
		struct wlog_entry *e = &wl->e[i];

		/* A write still running may or may not be in what this READ
		 * gets: its pages stay stale. */
		if (!e->done || !wlog_pages(e, off, len, &first, &last))
			continue;
		for (uint64_t p = first; p <= last; p++)
			e->fresh[p / 8] |= (uint8_t)(1u << (p % 8));
	}
	pthread_mutex_unlock(&slot->lock);
}

static int range_cmp(const void *a, const void *b)
{
	const struct writelog_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Add [start, end) to *v (n used, *cap allocated); 0 or -1 (no memory). */
static int range_add(struct writelog_range **v, size_t *n, size_t *cap, uint64_t start,
		     uint64_t end)
{
	if (*n && (*v)[*n - 1].end == start) { /* the common case: the next page */
		(*v)[*n - 1].end = end;
		return 0;
	}
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct writelog_range *nv = realloc(*v, ncap * sizeof(**v));

		if (!nv)
			return -1;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = (struct writelog_range){ start, end };
	return 0;
}

size_t writelog_stale(struct writelog_slot *slot, uint64_t off, uint64_t len,
		      struct writelog_range **skip)
{
	struct writelog_range *v = NULL;
	size_t n = 0, cap = 0, out = 0;
	struct writelog *wl;
	uint64_t first, last, end = off + len;

	pthread_mutex_lock(&slot->lock);
	wl = slot->log;
	for (int i = 0; wl && i < WLOG_ENTRIES; i++) {
		const struct wlog_entry *e = &wl->e[i];
		uint64_t base;

		if (!e->done || !wlog_pages(e, off, len, &first, &last))
			continue;
		base = page_of(e->start) * WLOG_PAGE;
		for (uint64_t p = first; p <= last; p++) {
			uint64_t s = base + p * WLOG_PAGE, t = s + WLOG_PAGE;

			if (e->fresh[p / 8] & (1u << (p % 8)))
				continue;
			s = s > e->start ? s : e->start;
			s = s > off ? s : off;
			t = t < e->end ? t : e->end;
			t = t < end ? t : end;
			if (range_add(&v, &n, &cap, s, t))
				goto nomem;
		}
	}
	pthread_mutex_unlock(&slot->lock);
	/* Merge the ranges of different writes. */
	if (n)
		qsort(v, n, sizeof(*v), range_cmp);
	for (size_t i = 0; i < n; i++) {
		if (out && v[i].start <= v[out - 1].end) {
			if (v[i].end > v[out - 1].end)
				v[out - 1].end = v[i].end;
		} else {
			v[out++] = v[i];
		}
	}
	*skip = v;
	return out;
nomem:
	/* Without the list, write it all: the behaviour before the log. */
	pthread_mutex_unlock(&slot->lock);
	free(v);
	*skip = NULL;
	return 0;
}

void writelog_init(struct writelog_slot *slot)
{
	pthread_mutex_init(&slot->lock, NULL);
	slot->log = NULL;
}

void writelog_destroy(struct writelog_slot *slot)
{
	free(slot->log);
	slot->log = NULL;
	pthread_mutex_destroy(&slot->lock);
}

void writelog_drop(struct writelog_slot *slot)
{
	pthread_mutex_lock(&slot->lock);
	free(slot->log);
	slot->log = NULL;
	pthread_mutex_unlock(&slot->lock);
}
