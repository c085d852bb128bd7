/* kinds: the lifetimes and the store kinds, one table row each (lib/kinds.c),
 * and the questions the rest of the daemon asks of them. No other file
 * spells their names or compares them to decide what to do: adding a
 * lifetime or a store kind is an enum value and a row here, then the code of
 * its one new behaviour (switches on these enums are checked by
 * -Wswitch-enum; see docs/ARCHITECTURE.md). */
#ifndef SHMFS_KINDS_H
#define SHMFS_KINDS_H

#include <stddef.h>

enum lifetime { LIFETIME_KERNEL, LIFETIME_DISK, LIFETIME_MOUNT, LIFETIME_PROCESS };
#define LIFETIMES (LIFETIME_PROCESS + 1)

/* Store kinds: shm (a directory of POSIX shm objects), file (a directory on
 * disk), private (a tmpfs of the mount's own, lib/tmpfs.h). */
enum store_backend { STORE_SHM, STORE_FILE, STORE_PRIVATE };
#define STORE_KINDS (STORE_PRIVATE + 1)

/* Where a lifetime may be given. */
enum lifetime_place {
	LIFETIME_AT_ROOT = 1,    /* [shmfs] lifetime: the root store's */
	LIFETIME_AT_DIR = 2,     /* [dir NAME] lifetime */
	LIFETIME_AT_SEGMENT = 4, /* [segment NAME] lifetime */
	LIFETIME_AS_MARK = 8,    /* setfattr user.shmfs.lifetime on a segment */
};

/* When the objects of a lifetime are removed by the daemon. */
enum lifetime_end {
	LIFETIME_ENDS_NEVER,        /* when someone unlinks them */
	LIFETIME_ENDS_AT_UNMOUNT,   /* what the mount made: at unmount, and at the
				     * next start after a crash */
	LIFETIME_ENDS_AT_RELEASE,   /* a segment: at the last release of its file
				     * (marked leftovers: at the next start) */
};

/* What holds a store's objects. */
enum store_backing {
	STORE_BACKED_BY_SHM,   /* shm_dir, shared with every program on the machine */
	STORE_BACKED_BY_DISK,  /* a directory on disk */
	STORE_BACKED_BY_OWN_TMPFS, /* a detached tmpfs of the mount's own */
};

/* Where a store kind can be named in the config. */
enum store_key {
	STORE_KEY_STORE = 1,   /* store = (root, [dir NAME]) */
	STORE_KEY_BACKEND = 2, /* backend = ([segment NAME]) */
};

const char *lifetime_name(enum lifetime l);
/* A lifetime by its name (value[0..len), not NUL-terminated): 0 and *out,
 * or -EINVAL. */
int lifetime_parse(const char *value, size_t len, enum lifetime *out);
enum lifetime_end lifetime_end(enum lifetime l);
/* The names of the lifetimes that may be given at any of places, as a
 * message lists them: "kernel or mount". */
const char *lifetime_choices(unsigned places, char *buf, size_t len);
/* Whether l may be given at place (for some store kind). */
int lifetime_given_at(enum lifetime l, enum lifetime_place place);
/* Whether l may be given at place for a store of kind k. */
int lifetime_allowed(enum lifetime l, enum lifetime_place place, enum store_backend k);
/* Objects of l outlive the mount: removed only by whoever unlinks them. */
int lifetime_lasts(enum lifetime l);
/* What the mount makes in a store of l gets the store's mark
 * (store_mark_made), so that the sweeps remove it and nothing else. */
int lifetime_marks_made(enum lifetime l);
/* Removed at unmount (and at the next start, after a crash). */
int lifetime_ends_at_unmount(enum lifetime l);
/* A segment removed at its last release; a marked one found at start is a
 * crash's leftover and is removed. */
int lifetime_ends_at_release(enum lifetime l);
/* Its segments are always opened cached: only then does the kernel keep
 * the FUSE file until the last mapping goes, so that the last RELEASE means
 * "no more users" (a passthrough mapping holds the backing file). */
int lifetime_forces_cached(enum lifetime l);
/* Lookups of its segments are not cached: the daemon removes them, not the
 * kernel, so their names must go at once. */
int lifetime_uncached_entries(enum lifetime l);
/* The hint added where l is refused for a [segment], or "". */
const char *lifetime_segment_hint(enum lifetime l);

const char *store_kind_name(enum store_backend k);
/* In messages: "a file-backed dir". */
const char *store_kind_adjective(enum store_backend k);
/* A kind by a name that key may give: 0 and *out, or -EINVAL. */
int store_kind_parse(const char *value, enum store_key key, enum store_backend *out);
/* The names key accepts, as a message lists them: "shm or private". */
const char *store_kind_choices(enum store_key key, char *buf, size_t len);
enum store_backing store_kind_backing(enum store_backend k);
/* A tmpfs the mount makes (lib/tmpfs.c), with the tmpfs options. */
int store_kind_own_tmpfs(enum store_backend k);
/* A graft of kind k is a path on disk (path = is required). */
int store_kind_needs_path(enum store_backend k);
/* The lifetime of "until unlinked" in a store of kind k: a graft's default,
 * and what a mark of kernel or disk becomes there. */
enum lifetime store_kind_lasting(enum store_backend k);
/* Whether a store of kind k can have lifetime l (anywhere). */
int store_kind_holds(enum store_backend k, enum lifetime l);
/* Objects the mount made in it are marked and swept (store_mark_made); a
 * store of the mount's own needs no sweep: it goes with the mount. */
int store_kind_swept(enum store_backend k);
/* Its objects can back a kernel passthrough open (FUSE_DEV_IOC_BACKING_OPEN). */
int store_kind_can_passthrough(enum store_backend k);
/* Its objects take write(2) (the daemon's WRITE of the cached data path). */
int store_kind_can_write(enum store_backend k);
/* Its objects can have huge pages (a mapping gets them only through
 * passthrough: the FUSE page cache of the cached path has small pages). */
int store_kind_huge_pages(enum store_backend k);
/* A page-cache READ of the cached path allocates its pages in the store
 * first, failing the READ when they do not fit: its size is the kernel's
 * (a tmpfs's size=), and a writeback it refused later would lose bytes. */
int store_kind_reserves_reads(enum store_backend k);
/* What user.shmfs.backing says before the path: "private:" for a detached
 * tmpfs, whose paths the kernel shows as if from /, where they are not. */
const char *store_kind_backing_tag(enum store_backend k);

#endif
