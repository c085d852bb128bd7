#include "stores.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "log.h"

struct graft *stores_graft(struct stores *s, const char *name)
{
	for (size_t i = 0; i < s->ngrafts; i++)
		if (strcmp(s->grafts[i].decl->name, name) == 0)
			return &s->grafts[i];
	return NULL;
}

/* Root walks leave declared names to their own lifetimes. */
static int stores_skip_declared(const char *name, void *arg)
{
	return stores_graft(arg, name) != NULL;
}

static void visit_remove(int dirfd, const char *name, const struct stat *sb, void *arg)
{
	(void)arg;
	if (unlinkat(dirfd, name, S_ISDIR(sb->st_mode) ? AT_REMOVEDIR : 0) && errno != ENOENT)
		log_warn("removing %s", name);
}

/* Removes segments marked with lifetime process; arg is their store. */
static void visit_sweep(int dirfd, const char *name, const struct stat *sb, void *arg)
{
	enum lifetime lt;
	int fd;

	if (!S_ISREG(sb->st_mode))
		return;
	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	lt = store_lifetime_of(arg, fd);
	close(fd);
	if (lt == LIFETIME_PROCESS)
		visit_remove(dirfd, name, sb, NULL);
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

void stores_recount(struct stores *s)
{
	struct count c = { { 0, 0 }, 0, 0 };
	struct usage u;
	struct stat sb;

	stores_walk(s, &s->root, visit_count, &c);
	for (size_t i = 0; i < s->ngrafts; i++) {
		struct graft *g = &s->grafts[i];

		if (g->decl->is_dir)
			stores_walk(s, &g->own, visit_count, &c);
		else if (fstatat(g->store->dirfd, g->leaf, &sb, AT_SYMLINK_NOFOLLOW) == 0)
			visit_count(g->store->dirfd, g->leaf, &sb, &c);
	}
	u.segments = c.whole.segments + (uint64_t)(c.segments + 0.5);
	u.bytes = c.whole.bytes + (uint64_t)(c.bytes + 0.5);
	pthread_mutex_lock(&s->lock);
	s->usage = u;
	pthread_mutex_unlock(&s->lock);
}

static int stores_try_charge(struct stores *s, int64_t dsegments, int64_t dbytes)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = quota_admit(&s->limits, &s->usage, dsegments, dbytes);
	if (!rc)
		quota_apply(&s->usage, dsegments, dbytes);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int stores_charge(struct stores *s, int64_t dsegments, int64_t dbytes)
{
	if (stores_try_charge(s, dsegments, dbytes) == 0)
		return 0;
	/* Refuse only on a fresh count: passthrough writes and other programs
	 * change the stores behind our back. */
	stores_recount(s);
	return stores_try_charge(s, dsegments, dbytes);
}

void stores_uncharge(struct stores *s, int64_t dsegments, int64_t dbytes)
{
	pthread_mutex_lock(&s->lock);
	quota_apply(&s->usage, -dsegments, -dbytes);
	pthread_mutex_unlock(&s->lock);
}

/* mkdir -p; the last component gets mode. */
static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

static void stores_chown(int dirfd, const char *name, const struct config_graft *d)
{
	if ((d->uid != (uid_t)-1 || d->gid != (gid_t)-1) &&
	    fchownat(dirfd, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH)))
		log_warn("%s:%d: [%s %s]: setting the owner", d->origin, d->line,
			 d->is_dir ? "dir" : "segment", d->name);
}

/* The root's entry for a graft whose object lives elsewhere: an empty
 * directory or file that keeps the name listed and taken. */
static void stores_placeholder(struct stores *s, struct graft *g)
{
	int fd;

	if (g->decl->is_dir) {
		if (mkdirat(s->root.dirfd, g->entry, 0755) && errno != EEXIST)
			log_warn("placeholder for [dir %s]", g->decl->name);
		return;
	}
	fd = openat(s->root.dirfd, g->entry, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0444);
	if (fd < 0)
		log_warn("placeholder for [segment %s]", g->decl->name);
	else
		close(fd);
}

static int stores_open_dir(struct stores *s, struct graft *g)
{
	const struct config_graft *d = g->decl;
	char path[PATH_MAX];
	int rc;

	if (d->path[0]) {
		struct stat before;
		int existed = stat(d->path, &before) == 0;

		rc = mkdir_p(d->path, d->mode);
		if (rc == 0 && !existed)
			stores_chown(AT_FDCWD, d->path, d);
		snprintf(path, sizeof(path), "%s", d->path);
		stores_placeholder(s, g);
	} else {
		rc = mkdirat(s->root.dirfd, g->entry, d->mode) ? -errno : 0;
		if (rc == 0)
			stores_chown(s->root.dirfd, g->entry, d);
		else if (rc == -EEXIST)
			rc = 0;
		snprintf(path, sizeof(path), "%s/%s", s->root.path, g->entry);
	}
	if (rc == 0)
		rc = store_open(&g->own, path, "", d->path[0] ? STORE_FILE : STORE_SHM, d->lifetime);
	if (rc) {
		log_errorx("%s:%d: [dir %s]: %s: %s", d->origin, d->line, d->name, path, strerror(-rc));
		return -1;
	}
	g->store = &g->own;
	/* What a mount or process lifetime left behind after a crash. */
	if (d->lifetime == LIFETIME_MOUNT || d->lifetime == LIFETIME_PROCESS)
		stores_walk(s, &g->own, visit_remove, NULL);
	else
		stores_walk(s, &g->own, visit_sweep, &g->own);
	return 0;
}

/* Make a declared segment if it is missing; an existing one keeps its data
 * and size, and gets the declared mode and owner. */
static int stores_make_segment(struct graft *g)
{
	const struct config_graft *d = g->decl;
	struct stat st;
	int fd, made = 1;

	/* Made whole (size, mode, owner), then named. */
	fd = store_create_file(g->store->dirfd, g->leaf, d->mode, d->uid, d->gid, (off_t)d->size);
	if (fd == -EEXIST) {
		made = 0;
		fd = openat(g->store->dirfd, g->leaf, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	} else if (fd < 0) {
		errno = -fd;
		fd = -1;
	}
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		int err = fd < 0 ? errno : EINVAL;

		log_errorx("%s:%d: [segment %s]: %s/%s: %s", d->origin, d->line, d->name,
			   g->store->path, g->leaf, err == EINVAL ? "not a regular file" : strerror(err));
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
		stores_chown(fd, "", d);
	if (d->prefault) {
		/* Allocate every page now so that no first touch waits. */
		if (fallocate(fd, 0, 0, (off_t)(made ? d->size : (uint64_t)st.st_size)))
			log_warn("[segment %s]: prefault", d->name);
		posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
	}
	close(fd);
	return 0;
}

static int stores_open_segment(struct stores *s, struct graft *g)
{
	const struct config_graft *d = g->decl;
	char dir[PATH_MAX], base[PATH_MAX];
	int rc;

	if (d->backend == STORE_FILE) {
		snprintf(dir, sizeof(dir), "%s", d->path);
		snprintf(base, sizeof(base), "%s", d->path);
		rc = store_open(&g->own, dirname(dir), "", STORE_FILE, d->lifetime);
		if (rc) {
			log_errorx("%s:%d: [segment %s]: %s: %s", d->origin, d->line, d->name,
				   dir, strerror(-rc));
			return -1;
		}
		snprintf(g->leaf, sizeof(g->leaf), "%s", basename(base));
		g->store = &g->own;
		stores_placeholder(s, g);
	} else {
		g->store = &s->root;
	}
	/* A mount lifetime's leftover from a crash: start afresh. */
	if (d->lifetime == LIFETIME_MOUNT)
		unlinkat(g->store->dirfd, g->leaf, 0);
	return stores_make_segment(g);
}

int stores_open(struct stores *s, const struct config *cfg)
{
	long pages = sysconf(_SC_PHYS_PAGES), pagesize = sysconf(_SC_PAGESIZE);
	int rc;

	memset(s, 0, sizeof(*s));
	s->root.dirfd = -1;
	pthread_mutex_init(&s->lock, NULL);
	rc = store_open(&s->root, cfg->shm_dir, cfg->prefix, STORE_SHM, cfg->lifetime);
	if (rc) {
		log_errorx("shm_dir %s: %s", cfg->shm_dir, strerror(-rc));
		return -1;
	}
	s->limits.max_segment_size = cfg->max_segment_size;
	s->limits.max_segments = cfg->max_segments;
	s->limits.max_total_size = config_total_limit(cfg, (uint64_t)pages * (uint64_t)pagesize);
	s->grafts = calloc(cfg->ngrafts ? cfg->ngrafts : 1, sizeof(*s->grafts));
	if (!s->grafts)
		return -1;
	for (size_t i = 0; i < cfg->ngrafts; i++) {
		struct graft *g = &s->grafts[i];

		g->decl = &cfg->grafts[i];
		g->own.dirfd = g->own.mntfd = -1;
		snprintf(g->entry, sizeof(g->entry), "%s%s", cfg->prefix, g->decl->name);
		strcpy(g->leaf, g->entry);
		s->ngrafts = i + 1;
	}
	stores_walk(s, &s->root, cfg->lifetime == LIFETIME_MOUNT ? visit_remove : visit_sweep,
		    &s->root);
	for (size_t i = 0; i < s->ngrafts; i++) {
		struct graft *g = &s->grafts[i];

		rc = g->decl->is_dir ? stores_open_dir(s, g) : stores_open_segment(s, g);
		if (rc)
			return -1;
	}
	if (quota_active(&s->limits))
		stores_recount(s);
	return 0;
}

void stores_close(struct stores *s, int unmounting)
{
	for (size_t i = 0; i < s->ngrafts; i++) {
		struct graft *g = &s->grafts[i];

		if (unmounting && g->store && g->decl->lifetime == LIFETIME_MOUNT) {
			if (g->decl->is_dir)
				stores_walk(s, &g->own, visit_remove, NULL);
			else
				unlinkat(g->store->dirfd, g->leaf, 0);
		}
		store_close(&g->own);
	}
	if (unmounting && s->root.dirfd >= 0 && s->root.lifetime == LIFETIME_MOUNT)
		stores_walk(s, &s->root, visit_remove, NULL);
	store_close(&s->root);
	free(s->grafts);
	s->grafts = NULL;
	s->ngrafts = 0;
	pthread_mutex_destroy(&s->lock);
}
