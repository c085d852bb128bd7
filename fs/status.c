/* status.c: `shmfs status [--json] [MOUNTPOINT...]`: what segments a mount
 * has and who uses them. Everything comes from the mount's user.shmfs.*
 * attributes, the backing objects and /proc/PID/maps; no segment is opened
 * through the mount (that would count as a user of process-lifetime
 * segments). Which mounts are read: status_mounts.c; the walk and RES:
 * status_walk.c; the output: status_print.c. */
#include "status.h"
#include "mountpoint.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Seconds of mincore per mount; past them RES is the allocated size. */
#define STATUS_RESIDENT_SECONDS 5.0
/* How long a mount's daemon may take to answer a statfs. */
#define STATUS_PROBE_MS 2000

static void seg_add_pid(struct seg *g, pid_t pid)
{
	pid_t *grown;

	if (g->npids && g->pids[g->npids - 1] == pid)
		return;
	grown = realloc(g->pids, (g->npids + 1) * sizeof(*grown));
	if (!grown)
		return;
	g->pids = grown;
	g->pids[g->npids++] = pid;
}

static int seg_by_ino(const void *a, const void *b)
{
	const struct seg *x = *(struct seg *const *)a, *y = *(struct seg *const *)b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* The segments a maps line names: by its device and inode number, which
 * are the mount's for a mapping through it (in either data path) and the
 * backing object's for a mapping of that. Paths are not compared: users
 * choose them. */
static void maps_line(struct seg **by_ino, size_t n, dev_t mdev, const char *line, pid_t pid)
{
	unsigned maj, min;
	unsigned long long ino;
	struct seg key, *k = &key, **hit;
	dev_t dev;

	if (sscanf(line, "%*x-%*x %*s %*x %x:%x %llu", &maj, &min, &ino) != 3 || ino == 0)
		return;
	dev = makedev(maj, min);
	key.ino = ino;
	hit = bsearch(&k, by_ino, n, sizeof(*by_ino), seg_by_ino);
	if (!hit)
		return;
	while (hit > by_ino && hit[-1]->ino == ino)
		hit--;
	for (; hit < by_ino + n && (*hit)->ino == ino; hit++)
		if (dev == mdev || (dev == (*hit)->backing_dev && dev != 0))
			seg_add_pid(*hit, pid);
}

/* Which processes map each segment, through the mount or the backing. */
static void status_mappers(struct status *s)
{
	struct seg **by_ino = malloc((s->nsegs ? s->nsegs : 1) * sizeof(*by_ino));
	DIR *proc = opendir("/proc");
	char *line = NULL;
	size_t cap = 0;
	struct dirent *de;

	if (!proc || !by_ino)
		goto out;
	for (size_t i = 0; i < s->nsegs; i++)
		by_ino[i] = &s->segs[i];
	qsort(by_ino, s->nsegs, sizeof(*by_ino), seg_by_ino);
	while ((de = readdir(proc))) {
		char maps[64];
		FILE *f;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(maps, sizeof(maps), "/proc/%s/maps", de->d_name);
		if (!(f = fopen(maps, "re")))
			continue;
		while (getline(&line, &cap, f) > 0)
			maps_line(by_ino, s->nsegs, s->mnt->dev, line, (pid_t)atoi(de->d_name));
		fclose(f);
	}
out:
	free(line);
	free(by_ino);
	if (proc)
		closedir(proc);
}

/* What was left out, on stderr, so that the table stays a table. */
static void status_notes(const struct status *s)
{
	if (s->deep) {
		fputs("shmfs status: ", stderr);
		status_put_escaped(stderr, s->mnt->path);
		fprintf(stderr, ": %zu %s deeper than %d levels not shown\n", s->deep,
			s->deep == 1 ? "directory" : "directories", STATUS_MAX_DEPTH);
	}
	if (s->estimated) {
		fputs("shmfs status: ", stderr);
		status_put_escaped(stderr, s->mnt->path);
		fprintf(stderr, ": RES of %zu %s is the allocated size (backing not checked, or "
			"the %.0f s budget spent)\n", s->estimated,
			s->estimated == 1 ? "segment" : "segments", STATUS_RESIDENT_SECONDS);
	}
}

static int seg_by_name(const void *a, const void *b)
{
	return strcmp(((const struct seg *)a)->name, ((const struct seg *)b)->name);
}

/* Why a mount cannot be read, from the -errno its daemon (or the kernel
 * for it) answered with. */
static const char *status_why(int err)
{
	switch (-err) {
	case ETIMEDOUT:
		return "not responding";
	case ENOTCONN:
	case ECONNABORTED:
		return "dead: its daemon is gone (unmount it with fusermount3 -uz, or start shmfs "
		       "on it again)";
	case EACCES:
	case EPERM:
		return "permission denied (mounted without allow_other: only the user who mounted "
		       "it may look in)";
	case ENODATA:
	case ENOTSUP:
		return "not a shmfs mount (its daemon has no user.shmfs.limits)";
	default:
		return strerror(-err);
	}
}

/* Whether the daemon of the trusted FUSE mount on path answers a statfs:
 * 0, or -ETIMEDOUT, -ENOTCONN, ... The statfs is made by a child that
 * status can leave behind: a stopped daemon never answers, and any
 * request to it (the statx of its root too) would hold status forever. */
static int status_probe(const struct mount_table *t, const char *path)
{
	const struct mount_entry *top = NULL;
	int rc;

	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].path, path) == 0)
			top = &t->v[i];
	if (!top || !top->trusted || strncmp(top->fstype, "fuse", 4) != 0)
		return 0;
	rc = mountpoint_probe(path, STATUS_PROBE_MS);
	return rc < 0 ? rc : 0;
}

/* The root's attributes status needs; 0 or -errno. */
static int status_attrs(struct status *s)
{
	char proc[32];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", s->rootfd);
	if (getxattr(proc, "user.shmfs.limits", s->limits, sizeof(s->limits) - 1) < 0)
		return -errno;
	n = getxattr(proc, "user.shmfs.daemon", s->daemon, sizeof(s->daemon) - 1);
	s->daemon[n > 0 ? n : 0] = '\0';
	n = getxattr(proc, "user.shmfs.backing", s->store, sizeof(s->store) - 1);
	s->store[n > 0 ? n : 0] = '\0';
	return 0;
}

static void status_free(struct status *s)
{
	for (size_t i = 0; i < s->nsegs; i++) {
		free(s->segs[i].name);
		free(s->segs[i].backing);
		free(s->segs[i].pids);
	}
	free(s->segs);
	if (s->rootfd >= 0)
		close(s->rootfd);
}

static void status_fail(const char *path, const char *why)
{
	fputs("shmfs status: ", stderr);
	status_put_escaped(stderr, path);
	fprintf(stderr, ": %s\n", why);
}

/* The root of mount m, if it is still what its mount point leads to. */
static int status_root(const struct mount_table *t, const struct mount_entry *m)
{
	struct statx sx;
	int fd = status_open_path(t, m->path, O_PATH | O_DIRECTORY, &sx);

	if (fd >= 0 && sx.stx_mnt_id != m->id) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

static int status_one(const struct mount_table *t, const struct mount_entry *m, int json,
		      int first)
{
	struct status s = { .mounts = t, .mnt = m, .rootfd = -1 };
	int err = status_probe(t, m->path);

	if (err) {
		status_fail(m->path, status_why(err));
		return -1;
	}
	s.rootfd = status_root(t, m);
	if (s.rootfd < 0) {
		status_fail(m->path, strerror(-s.rootfd));
		return -1;
	}
	if ((err = status_attrs(&s))) {
		status_fail(m->path, status_why(err));
		status_free(&s);
		return -1;
	}
	s.deadline = status_now() + STATUS_RESIDENT_SECONDS;
	status_walk(&s);
	if (s.nsegs) /* qsort takes no NULL, even for nothing */
		qsort(s.segs, s.nsegs, sizeof(*s.segs), seg_by_name);
	status_mappers(&s);
	if (json)
		status_print_json(&s, stdout, first);
	else
		status_print_table(&s, stdout);
	fflush(stdout);
	status_notes(&s);
	status_free(&s);
	return 0;
}

/* The absolute path arg names, without resolving its last component: that
 * is the mount point, and resolving it would ask the mount's daemon. */
static char *status_canonical(const char *arg)
{
	char *copy = strdup(arg), *slash, *dir, *res = NULL;
	const char *base;
	size_t len;

	if (!copy)
		return NULL;
	len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	slash = strrchr(copy, '/');
	base = slash ? slash + 1 : copy;
	if (strcmp(copy, "/") == 0 || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		res = realpath(copy, NULL);
	} else {
		if (slash)
			*slash = '\0';
		dir = realpath(!slash ? "." : slash == copy ? "/" : copy, NULL);
		if (dir && asprintf(&res, "%s/%s", strcmp(dir, "/") ? dir : "", base) < 0)
			res = NULL;
		free(dir);
	}
	free(copy);
	return res;
}

static void status_not_shmfs(const char *arg, const struct mount_entry *m)
{
	char why[96];

	snprintf(why, sizeof(why), "not a shmfs mount (a %s mount)", m->fstype);
	status_fail(arg, why);
}

/* The shmfs mount whose mount point arg names, or NULL (said why). */
static const struct mount_entry *status_named(const struct mount_table *t, const char *arg)
{
	const struct mount_entry *m = NULL;
	char *path = status_canonical(arg);
	struct statx sx;
	int err = path ? status_probe(t, path) : 0;
	int fd = !path ? -errno : err ? err : status_open_path(t, path, O_PATH | O_DIRECTORY, &sx);

	if (fd == -EPERM)
		status_fail(arg, "on a FUSE mount of another user: not read (see STATUS in shmfs(1))");
	else if (fd < 0)
		status_fail(arg, status_why(fd));
	else if (!(m = mounts_by_id(t, sx.stx_mnt_id)) || strcmp(m->path, path) != 0)
		status_fail(arg, "not a mount point, so not a shmfs mount"), m = NULL;
	else if (strcmp(m->fstype, "fuse.shmfs") != 0)
		status_not_shmfs(arg, m), m = NULL;
	if (fd >= 0)
		close(fd);
	free(path);
	return m;
}

/* Every fuse.shmfs mount that may be read; the others are named on stderr. */
static size_t status_all(const struct mount_table *t, const struct mount_entry ***out)
{
	const struct mount_entry **list = calloc(t->n ? t->n : 1, sizeof(*list));
	size_t n = 0;

	for (size_t i = 0; list && i < t->n; i++) {
		const struct mount_entry *m = &t->v[i];
		char why[96];

		if (strcmp(m->fstype, "fuse.shmfs") != 0)
			continue;
		if (m->trusted) {
			list[n++] = m;
			continue;
		}
		snprintf(why, sizeof(why), "mounted by uid %lld: not read (see STATUS in shmfs(1))",
			 m->uid);
		status_fail(m->path, why);
	}
	*out = list;
	return n;
}

static int status_usage(int rc)
{
	printf("usage: shmfs status [--json] [MOUNTPOINT...]\n"
	       "One line per segment: name, size, resident memory, backend,\n"
	       "lifetime, data path, open files and the processes mapping it.\n"
	       "Without MOUNTPOINT: every shmfs mount made by root or by you.\n");
	return rc;
}

int status_main(int argc, char *argv[])
{
	const struct mount_entry **list = NULL;
	struct mount_table t;
	size_t n = 0;
	int json = 0, rc = 0, first = 1, named = 0, err;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			return status_usage(0);
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "shmfs status: unknown option %s\n", argv[i]);
			return 1;
		} else {
			named++;
		}
	}
	if ((err = mounts_read(&t)) < 0) {
		fprintf(stderr, "shmfs status: /proc/self/mountinfo: %s\n", strerror(-err));
		return 1;
	}
	if (named) {
		list = calloc((size_t)named, sizeof(*list));
		for (int i = 1; list && i < argc; i++)
			if (argv[i][0] != '-' && !(list[n++] = status_named(&t, argv[i])))
				rc = 1;
	} else {
		n = status_all(&t, &list);
	}
	if (!list) {
		fprintf(stderr, "shmfs status: %s\n", strerror(ENOMEM));
		mounts_free(&t);
		return 1;
	}
	if (json)
		printf("{\"mounts\": [");
	for (size_t i = 0; i < n; i++) {
		if (!list[i])
			continue;
		if (!json && !first)
			putchar('\n');
		if (status_one(&t, list[i], json, first))
			rc = 1;
		else
			first = 0;
	}
	if (json)
		printf("]}\n");
	free(list);
	mounts_free(&t);
	return rc;
}
