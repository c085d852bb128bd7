#include "kinds.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define BIT(l) (1u << (l))

static const struct lifetime_kind {
	const char *name;
	unsigned places;        /* enum lifetime_place */
	enum lifetime_end end;
	int forces_cached;      /* lifetime_forces_cached */
	int uncached_entries;   /* lifetime_uncached_entries */
	const char *segment_hint; /* why a [segment] cannot have it, if it is worth saying */
} lifetimes[LIFETIMES] = {
	[LIFETIME_KERNEL] = {
		.name = "kernel",
		.places = LIFETIME_AT_ROOT | LIFETIME_AT_DIR | LIFETIME_AT_SEGMENT | LIFETIME_AS_MARK,
		.end = LIFETIME_ENDS_NEVER,
	},
	[LIFETIME_DISK] = {
		.name = "disk",
		.places = LIFETIME_AT_DIR | LIFETIME_AT_SEGMENT | LIFETIME_AS_MARK,
		.end = LIFETIME_ENDS_NEVER,
	},
	[LIFETIME_MOUNT] = {
		.name = "mount",
		.places = LIFETIME_AT_ROOT | LIFETIME_AT_DIR | LIFETIME_AT_SEGMENT,
		.end = LIFETIME_ENDS_AT_UNMOUNT,
	},
	[LIFETIME_PROCESS] = {
		.name = "process",
		.places = LIFETIME_AT_DIR | LIFETIME_AS_MARK,
		.end = LIFETIME_ENDS_AT_RELEASE,
		.forces_cached = 1,
		.uncached_entries = 1,
		.segment_hint = " (declared segments are pinned; use a [dir] with lifetime = process)",
	},
};

static const struct store_kind {
	const char *name;
	const char *adjective;
	unsigned keys;          /* enum store_key: where the config names it */
	enum store_backing backing;
	unsigned lifetimes;     /* BIT(l) of the lifetimes it can have */
	enum lifetime lasting;  /* store_kind_lasting */
	int passthrough, write, huge_pages;
	int reserves_reads;     /* store_kind_reserves_reads */
} kinds[STORE_KINDS] = {
	[STORE_SHM] = {
		.name = "shm", .adjective = "shm",
		.keys = STORE_KEY_STORE | STORE_KEY_BACKEND,
		.backing = STORE_BACKED_BY_SHM,
		.lifetimes = BIT(LIFETIME_KERNEL) | BIT(LIFETIME_MOUNT) | BIT(LIFETIME_PROCESS),
		.lasting = LIFETIME_KERNEL,
		.passthrough = 1, .write = 1, .huge_pages = 1, /* as shm_dir's tmpfs has them */
	},
	[STORE_FILE] = {
		.name = "file", .adjective = "file-backed",
		.keys = STORE_KEY_BACKEND,
		.backing = STORE_BACKED_BY_DISK,
		.lifetimes = BIT(LIFETIME_DISK) | BIT(LIFETIME_MOUNT) | BIT(LIFETIME_PROCESS),
		.lasting = LIFETIME_DISK,
		.passthrough = 1, .write = 1,
	},
	[STORE_PRIVATE] = {
		.name = "private", .adjective = "private",
		.keys = STORE_KEY_STORE,
		.backing = STORE_BACKED_BY_OWN_TMPFS,
		.lifetimes = BIT(LIFETIME_MOUNT),
		.lasting = LIFETIME_MOUNT, /* nothing in it outlives the mount */
		.passthrough = 1, .write = 1, .huge_pages = 1, /* with huge= */
		.reserves_reads = 1,
	},
};

/* names[0..n) joined as a message lists choices: "a, b or c". */
static const char *kinds_join(const char *const *names, size_t n, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
	return buf;
}

const char *lifetime_name(enum lifetime l)
{
	return lifetimes[l].name;
}

int lifetime_parse(const char *value, size_t len, enum lifetime *out)
{
	for (size_t i = 0; i < LIFETIMES; i++) {
		if (strlen(lifetimes[i].name) == len && memcmp(lifetimes[i].name, value, len) == 0) {
			*out = (enum lifetime)i;
			return 0;
		}
	}
	return -EINVAL;
}

enum lifetime_end lifetime_end(enum lifetime l)
{
	return lifetimes[l].end;
}

const char *lifetime_choices(unsigned places, char *buf, size_t len)
{
	const char *names[LIFETIMES];
	size_t n = 0;

	for (size_t i = 0; i < LIFETIMES; i++)
		if (lifetimes[i].places & places)
			names[n++] = lifetimes[i].name;
	return kinds_join(names, n, buf, len);
}

int lifetime_given_at(enum lifetime l, enum lifetime_place place)
{
	return (lifetimes[l].places & place) != 0;
}

int lifetime_allowed(enum lifetime l, enum lifetime_place place, enum store_backend k)
{
	return lifetime_given_at(l, place) && store_kind_holds(k, l);
}

int lifetime_lasts(enum lifetime l)
{
	return lifetime_end(l) == LIFETIME_ENDS_NEVER;
}

int lifetime_marks_made(enum lifetime l)
{
	return !lifetime_lasts(l);
}

int lifetime_ends_at_unmount(enum lifetime l)
{
	return lifetime_end(l) == LIFETIME_ENDS_AT_UNMOUNT;
}

int lifetime_ends_at_release(enum lifetime l)
{
	return lifetime_end(l) == LIFETIME_ENDS_AT_RELEASE;
}

int lifetime_forces_cached(enum lifetime l)
{
	return lifetimes[l].forces_cached;
}

int lifetime_uncached_entries(enum lifetime l)
{
	return lifetimes[l].uncached_entries;
}

const char *lifetime_segment_hint(enum lifetime l)
{
	return lifetimes[l].segment_hint ? lifetimes[l].segment_hint : "";
}

const char *store_kind_name(enum store_backend k)
{
	return kinds[k].name;
}

const char *store_kind_adjective(enum store_backend k)
{
	return kinds[k].adjective;
}

int store_kind_parse(const char *value, enum store_key key, enum store_backend *out)
{
	for (size_t i = 0; i < STORE_KINDS; i++) {
		if ((kinds[i].keys & key) && strcmp(value, kinds[i].name) == 0) {
			*out = (enum store_backend)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *store_kind_choices(enum store_key key, char *buf, size_t len)
{
	const char *names[STORE_KINDS];
	size_t n = 0;

	for (size_t i = 0; i < STORE_KINDS; i++)
		if (kinds[i].keys & key)
			names[n++] = kinds[i].name;
	return kinds_join(names, n, buf, len);
}

enum store_backing store_kind_backing(enum store_backend k)
{
	return kinds[k].backing;
}

enum lifetime store_kind_lasting(enum store_backend k)
{
	return kinds[k].lasting;
}

int store_kind_holds(enum store_backend k, enum lifetime l)
{
	return (kinds[k].lifetimes & BIT(l)) != 0;
}

int store_kind_own_tmpfs(enum store_backend k)
{
	switch (store_kind_backing(k)) {
	case STORE_BACKED_BY_SHM:
	case STORE_BACKED_BY_DISK:
		return 0;
	case STORE_BACKED_BY_OWN_TMPFS:
		return 1;
	}
	return 0;
}

int store_kind_needs_path(enum store_backend k)
{
	switch (store_kind_backing(k)) {
	case STORE_BACKED_BY_SHM:
	case STORE_BACKED_BY_OWN_TMPFS:
		return 0;
	case STORE_BACKED_BY_DISK:
		return 1;
	}
	return 0;
}

int store_kind_swept(enum store_backend k)
{
	/* A tmpfs of the mount's own is new at every start and goes with the
	 * mount's last fd of it. */
	return !store_kind_own_tmpfs(k);
}

int store_kind_can_passthrough(enum store_backend k)
{
	return kinds[k].passthrough;
}

int store_kind_can_write(enum store_backend k)
{
	return kinds[k].write;
}

int store_kind_huge_pages(enum store_backend k)
{
	return kinds[k].huge_pages;
}

int store_kind_reserves_reads(enum store_backend k)
{
	return kinds[k].reserves_reads;
}

const char *store_kind_backing_tag(enum store_backend k)
{
	return store_kind_own_tmpfs(k) ? "private:" : "";
}
