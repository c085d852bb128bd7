#include "stores.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct graft *stores_graft(struct stores *s, const char *name)
{
	size_t i;

	return strindex_get(&s->names, name, &i) ? &s->grafts[i] : NULL;
}

/* Root walks leave declared names to their own lifetimes. */
static int stores_skip_declared(const char *name, void *arg)
{
	return stores_graft(arg, name) != NULL;
}

/* Open what dirfd/name is now, for a check: O_PATH (no open of a FIFO, no
 * wait on a lease), never following, and the object the walk saw. */
static int open_seen(int dirfd, const char *name, const struct stat *sb)
{
	struct stat now;
	int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &now) || now.st_dev != sb->st_dev || now.st_ino != sb->st_ino) {
		close(fd);
		return -1;
	}
	return fd;
}

/* lifetime mount and process dirs: only what this mount made is removed,
 * and only directories it made are gone into (arg is the store). */
static int enter_made(int fd, const struct stat *sb, void *arg)
{
	(void)sb;
	return store_made_here(arg, fd);
}

static void visit_remove_made(int dirfd, const char *name, const struct stat *sb, void *arg)
{
	int fd, made;

	if (S_ISDIR(sb->st_mode)) {
		/* Entered, so made here; what others put in it keeps it. */
		if (unlinkat(dirfd, name, AT_REMOVEDIR) && errno != ENOENT && errno != ENOTEMPTY)
			log_warn("removing %s", name);
		return;
	}
	fd = open_seen(dirfd, name, sb);
	if (fd < 0)
		return;
	made = store_made_here(arg, fd);
	close(fd);
	if (made && unlinkat(dirfd, name, 0) && errno != ENOENT)
		log_warn("removing %s", name);
}

/* Removes segments marked with a lifetime that ends at their last release
 * (a crash's leftovers); arg is their store. */
static void visit_sweep(int dirfd, const char *name, const struct stat *sb, void *arg)
{
	enum lifetime lt;
	int fd;

	if (!S_ISREG(sb->st_mode))
		return;
	fd = open_seen(dirfd, name, sb);
	if (fd < 0)
		return;
	lt = store_lifetime_of(arg, fd);
	close(fd);
	if (lifetime_ends_at_release(lt) && unlinkat(dirfd, name, 0) && errno != ENOENT)
		log_warn("removing %s", name);
}

/* Limits count segments, not names: a segment with n names (hard links)
 * counts 1/n at each, which adds up to one when all its names are in the
 * stores, and needs no memory per object. */
struct count {
	struct usage whole;      /* segments with one name */
	double segments, bytes;  /* shares of segments with several */
};

static void visit_count(int dirfd, const char *name, const struct stat *sb, void *arg)
{
	struct count *c = arg;

	(void)dirfd;
	(void)name;
	if (!S_ISREG(sb->st_mode))
		return;
	if (sb->st_nlink <= 1) {
		c->whole.segments++;
		c->whole.bytes += (uint64_t)sb->st_size;
	} else {
		c->segments += 1.0 / (double)sb->st_nlink;
		c->bytes += (double)sb->st_size / (double)sb->st_nlink;
	}
}

/* Walk a graft's own store, or the root less the declared names. */
static void stores_walk(struct stores *s, struct store *st, store_visit_fn visit, void *arg)
{
	store_walk(st, st == &s->root ? stores_skip_declared : NULL, s, visit, arg);
}

/* Remove what the mount made in st (lifetime mount or process). A private
 * store is new at start and goes with the mount's last fd: never swept
 * (store_kind_swept). */
static void stores_sweep_made(struct stores *s, struct store *st)
{
	const struct store_walk_ops ops = {
		st == &s->root ? stores_skip_declared : NULL, s, enter_made, visit_remove_made, st
	};

	if (store_kind_swept(st->backend))
		store_walk_with(st, &ops);
}

/* A private store: a tmpfs of the mount's own (lib/tmpfs.h), known by no
 * path. what names it in messages. 0, or -1 (logged). */
static int stores_open_private(struct store *st, const struct tmpfs_opts *o, const char *what)
{
	char why[512];
	int fd = tmpfs_mount(o, why, sizeof(why));

	if (fd < 0) {
		log_errorx("%s: %s", what, why);
		return -1;
	}
	fd = store_open_fd(st, fd, "(private tmpfs)", "", STORE_PRIVATE,
			   store_kind_lasting(STORE_PRIVATE));
	if (fd) {
		log_errorx("%s: %s", what, strerror(-fd));
		return -1;
	}
	return 0;
}

/* The count of the limits (limits_count_fn): every segment and byte of the
 * stores, a segment of n names counted 1/n for each. */
static void stores_count(void *arg, struct usage *out)
{
	struct stores *s = arg;
	struct count c = { { 0, 0 }, 0, 0 };
	struct stat sb;

	stores_walk(s, &s->root, visit_count, &c);
	for (size_t i = 0; i < s->ngrafts; i++) {
		struct graft *g = &s->grafts[i];

		if (g->decl->is_dir)
			stores_walk(s, &g->own, visit_count, &c);
		else if (fstatat(g->store->dirfd, g->leaf, &sb, AT_SYMLINK_NOFOLLOW) == 0)
			visit_count(g->store->dirfd, g->leaf, &sb, &c);
	}
	out->segments = c.whole.segments + (uint64_t)(c.segments + 0.5);
	out->bytes = c.whole.bytes + (uint64_t)(c.bytes + 0.5);
}

static const char *stores_kind(const struct config_graft *d)
{
	return d->is_dir ? "dir" : "segment";
}

/* The owner a declared object gets (fd: any fd of it, O_PATH too). */
static void stores_chown(int fd, const struct config_graft *d)
{
	if ((d->uid != (uid_t)-1 || d->gid != (gid_t)-1) &&
	    fchownat(fd, "", d->uid, d->gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		log_warn("%s:%d: [%s %s]: setting the owner", d->origin, d->line, stores_kind(d),
			 d->name);
}

static const char *type_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "a regular file";
	case S_IFDIR: return "a directory";
	case S_IFLNK: return "a symbolic link";
	case S_IFIFO: return "a FIFO";
	case S_IFSOCK: return "a socket";
	default: return "a device node";
	}
}

/* Whether what was found at a declared name may be taken as the daemon's:
 * of the type wanted, owned by the daemon's user or by owner (the declared
 * one; (uid_t)-1: none), and a file with no other hard link (which would
 * hand the daemon another object). Only root and the declared owner can
 * make such an object, so nobody else can plant one. 0, or -EPERM with a
 * message naming it. */
static int stores_check_found(const struct config_graft *d, const struct store *st,
			      const char *name, const struct stat *sb, mode_t type, uid_t owner)
{
	char why[128];

	if ((sb->st_mode & S_IFMT) != type)
		snprintf(why, sizeof(why), "is %s, not %s", type_name(sb->st_mode),
			 type_name(type));
	else if (sb->st_uid != geteuid() && (owner == (uid_t)-1 || sb->st_uid != owner))
		snprintf(why, sizeof(why), "is owned by uid %u, neither the daemon's nor the declared owner",
			 (unsigned)sb->st_uid);
	else if (S_ISREG(type) && sb->st_nlink != 1)
		snprintf(why, sizeof(why), "has %lu hard links", (unsigned long)sb->st_nlink);
	else
		return 0;
	log_errorx("%s:%d: [%s %s]: %s/%s %s: shmfs did not make it and will not take it over; "
		   "remove it (or move it aside) and start again",
		   d->origin, d->line, stores_kind(d), d->name, st->path, name, why);
	return -EPERM;
}

/* What is at name in st, checked (stores_check_found): an O_PATH fd,
 * -ENOENT when nothing is there, -EPERM when refused (logged). */
static int stores_take_found(const struct config_graft *d, const struct store *st,
			     const char *name, mode_t type, uid_t owner)
{
	struct stat sb;
	int fd = openat(st->dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb)) {
		int err = errno;

		close(fd);
		return -err;
	}
	if (stores_check_found(d, st, name, &sb, type, owner)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* The root's entry for a graft whose object lives elsewhere: an empty
 * directory or file that keeps the name listed and taken. -1 when what is
 * there is refused. */
static int stores_placeholder(struct stores *s, struct graft *g)
{
	const struct config_graft *d = g->decl;
	int fd;

	if (d->is_dir) {
		if (mkdirat(s->root.dirfd, g->entry, 0755) && errno != EEXIST)
			log_warn("placeholder for [dir %s]", d->name);
	} else {
		fd = openat(s->root.dirfd, g->entry,
			    O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0444);
		if (fd >= 0)
			close(fd);
		else if (errno != EEXIST)
			log_warn("placeholder for [segment %s]", d->name);
	}
	fd = stores_take_found(d, &s->root, g->entry, d->is_dir ? S_IFDIR : S_IFREG, (uid_t)-1);
	if (fd == -EPERM)
		return -1;
	if (fd >= 0)
		close(fd);
	return 0;
}

/* A shm [dir]: its directory in the root, made if missing. An O_PATH fd,
 * or -errno (-EPERM: refused, logged). */
static int stores_shm_dir(struct stores *s, struct graft *g, int *made)
{
	*made = mkdirat(s->root.dirfd, g->entry, g->decl->mode) == 0;
	if (!*made && errno != EEXIST)
		return -errno;
	return stores_take_found(g->decl, &s->root, g->entry, S_IFDIR, g->decl->uid);
}

/* A [dir] with store = private: its own tmpfs, and a placeholder in the
 * root that keeps the name. */
static int stores_open_private_dir(struct stores *s, struct graft *g)
{
	const struct config_graft *d = g->decl;
	char what[NAME_MAX + 64];

	snprintf(what, sizeof(what), "%s:%d: [dir %s]", d->origin, d->line, d->name);
	if (stores_open_private(&g->own, &d->tmpfs, what))
		return -1;
	g->store = &g->own;
	stores_chown(g->own.dirfd, d);
	return stores_placeholder(s, g);
}

static int stores_open_dir(struct stores *s, struct graft *g)
{
	const struct config_graft *d = g->decl;
	enum store_backend kind = d->backend;
	char path[PATH_MAX] = "";
	int fd = -EINVAL, made = 0, rc;

	switch (store_kind_backing(d->backend)) {
	case STORE_BACKED_BY_OWN_TMPFS:
		return stores_open_private_dir(s, g);
	case STORE_BACKED_BY_DISK:
		snprintf(path, sizeof(path), "%s", d->path);
		fd = store_open_path(d->path, 1, d->mode, &made);
		if (fd >= 0 && stores_placeholder(s, g)) {
			close(fd);
			return -1;
		}
		break;
	case STORE_BACKED_BY_SHM:
		/* An entry of the root store: of its kind (a private root's tmpfs). */
		kind = s->root.backend;
		snprintf(path, sizeof(path), "%s/%s", s->root.path, g->entry);
		fd = stores_shm_dir(s, g, &made);
		if (fd == -EPERM)
			return -1;
		break;
	}
	if (fd >= 0 && made)
		stores_chown(fd, d);
	rc = fd < 0 ? fd : store_open_fd(&g->own, fd, path, "", kind, d->lifetime);
	if (rc) {
		log_errorx("%s:%d: [dir %s]: %s: %s", d->origin, d->line, d->name, path,
			   rc == -ELOOP ? "a symbolic link is on the way (never followed)"
					: strerror(-rc));
		return -1;
	}
	g->store = &g->own;
	/* What a mount or process lifetime left behind after a crash. */
	if (lifetime_marks_made(d->lifetime))
		stores_sweep_made(s, &g->own);
	else
		stores_walk(s, &g->own, visit_sweep, &g->own);
	return 0;
}

/* An existing declared segment, checked, opened for reading and writing
 * without waiting (O_NONBLOCK: a lease makes it fail, not block). */
static int stores_open_found(struct graft *g)
{
	char path[64];
	int opath, fd;

	opath = stores_take_found(g->decl, g->store, g->leaf, S_IFREG, g->decl->uid);
	if (opath < 0)
		return opath;
	store_fd_path(opath, path, sizeof(path));
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	close(opath);
	return fd < 0 ? -errno : fd;
}

/* Make a declared segment if it is missing; an existing one (which must
 * pass stores_check_found) keeps its data and size, and gets the declared
 * mode and owner. */
static int stores_make_segment(struct graft *g)
{
	const struct config_graft *d = g->decl;
	struct stat st;
	int fd, made = 1;

	/* Made whole (size, mode, owner), then named. */
	fd = store_create_file(g->store->dirfd, g->leaf, d->mode, d->uid, d->gid, (off_t)d->size);
	if (fd == -EEXIST) {
		made = 0;
		fd = stores_open_found(g);
		if (fd == -EPERM)
			return -1;
	}
	if (fd < 0 || fstat(fd, &st)) {
		int err = fd < 0 ? -fd : errno;

		log_errorx("%s:%d: [segment %s]: %s/%s: %s", d->origin, d->line, d->name,
			   g->store->path, g->leaf, strerror(err));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!made && (uint64_t)st.st_size != d->size)
		log_warnx("[segment %s]: size is %lld, declared %llu; the data is kept as it is",
			  d->name, (long long)st.st_size, (unsigned long long)d->size);
	if (!made && (st.st_mode & 07777) != d->mode && fchmod(fd, d->mode))
		log_warn("[segment %s]: setting the mode", d->name);
	if (!made)
		stores_chown(fd, d);
	if (d->prefault) {
		/* Allocate every page now so that no first touch waits. */
		if (fallocate(fd, 0, 0, (off_t)(made ? d->size : (uint64_t)st.st_size)))
			log_warn("[segment %s]: prefault", d->name);
		posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
	}
	close(fd);
	return 0;
}

/* A declared segment with lifetime mount: what is there is removed (at
 * start: a crash's leftover), once it passes stores_check_found. */
static int stores_remove_segment(struct graft *g)
{
	int fd = stores_take_found(g->decl, g->store, g->leaf, S_IFREG, g->decl->uid);

	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return -1;
	close(fd);
	if (unlinkat(g->store->dirfd, g->leaf, 0) && errno != ENOENT)
		log_warn("removing [segment %s]", g->decl->name);
	return 0;
}

static int stores_open_segment(struct stores *s, struct graft *g)
{
	const struct config_graft *d = g->decl;
	char dir[PATH_MAX], base[PATH_MAX];
	int fd, rc;

	switch (store_kind_backing(d->backend)) {
	case STORE_BACKED_BY_DISK:
		/* dirname and basename may write into what they are given. */
		snprintf(base, sizeof(base), "%s", d->path);
		snprintf(dir, sizeof(dir), "%s", dirname(base));
		snprintf(base, sizeof(base), "%s", d->path);
		fd = store_open_path(dir, 0, 0, NULL);
		rc = fd < 0 ? fd : store_open_fd(&g->own, fd, dir, "", d->backend, d->lifetime);
		if (rc) {
			log_errorx("%s:%d: [segment %s]: %s: %s", d->origin, d->line, d->name, dir,
				   rc == -ELOOP ? "a symbolic link is on the way (never followed)"
						: strerror(-rc));
			return -1;
		}
		snprintf(g->leaf, sizeof(g->leaf), "%s", basename(base));
		g->store = &g->own;
		if (stores_placeholder(s, g))
			return -1;
		break;
	case STORE_BACKED_BY_SHM:
	case STORE_BACKED_BY_OWN_TMPFS: /* (no kind of [segment]: config_graft.c) */
		g->store = &s->root;
		break;
	}
	/* A mount lifetime's leftover from a crash: start afresh. */
	if (lifetime_ends_at_unmount(d->lifetime) && stores_remove_segment(g))
		return -1;
	return stores_make_segment(g);
}

int stores_open(struct stores *s, const struct config *cfg)
{
	long pages = sysconf(_SC_PHYS_PAGES), pagesize = sysconf(_SC_PAGESIZE);
	int rc;

	memset(s, 0, sizeof(*s));
	s->root.dirfd = s->root.mntfd = -1;
	limits_init(&s->limits, stores_count, s);
	if (store_kind_own_tmpfs(cfg->store)) {
		if (stores_open_private(&s->root, &cfg->tmpfs, "store = private"))
			return -1;
	} else {
		rc = store_open(&s->root, cfg->shm_dir, cfg->prefix, cfg->store, cfg->lifetime);
		if (rc) {
			log_errorx("shm_dir %s: %s", cfg->shm_dir, strerror(-rc));
			return -1;
		}
	}
	s->limits.max_segment_size = cfg->max_segment_size;
	s->limits.max_segments = cfg->max_segments;
	s->limits.max_total_size = config_total_limit(cfg, (uint64_t)pages * (uint64_t)pagesize);
	s->grafts = calloc(cfg->ngrafts ? cfg->ngrafts : 1, sizeof(*s->grafts));
	if (!s->grafts)
		return -1;
	for (size_t i = 0; i < cfg->ngrafts; i++) {
		struct graft *g = &s->grafts[i];
		size_t other;

		g->decl = &cfg->grafts[i];
		g->own.dirfd = g->own.mntfd = -1;
		snprintf(g->entry, sizeof(g->entry), "%s%s", cfg->prefix, g->decl->name);
		strcpy(g->leaf, g->entry);
		s->ngrafts = i + 1;
		if (strindex_get_or_put(&s->names, g->decl->name, i, &other) < 0)
			return -1; /* (the config declares each name once) */
	}
	if (lifetime_marks_made(cfg->lifetime))
		stores_sweep_made(s, &s->root);
	else
		stores_walk(s, &s->root, visit_sweep, &s->root);
	for (size_t i = 0; i < s->ngrafts; i++) {
		struct graft *g = &s->grafts[i];

		rc = g->decl->is_dir ? stores_open_dir(s, g) : stores_open_segment(s, g);
		if (rc)
			return -1;
	}
	if (limits_active(&s->limits))
		limits_recount(&s->limits);
	return 0;
}

void stores_close(struct stores *s, int unmounting)
{
	for (size_t i = 0; i < s->ngrafts; i++) {
		struct graft *g = &s->grafts[i];

		if (unmounting && g->store && lifetime_ends_at_unmount(g->decl->lifetime)) {
			if (g->decl->is_dir)
				stores_sweep_made(s, &g->own);
			else
				stores_remove_segment(g);
		}
		store_close(&g->own);
	}
	if (unmounting && s->root.dirfd >= 0 && lifetime_ends_at_unmount(s->root.lifetime))
		stores_sweep_made(s, &s->root);
	store_close(&s->root);
	free(s->grafts);
	s->grafts = NULL;
	s->ngrafts = 0;
	strindex_free(&s->names);
	limits_destroy(&s->limits);
}
