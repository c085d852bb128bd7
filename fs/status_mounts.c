/* status_mounts.c: which mounts `shmfs status` may look into, and opening a
 * path without trusting anything on the way.
 *
 * Any user can mount a FUSE filesystem of type fuse.shmfs (fusermount3
 * -o subtype=shmfs with their own daemon, or this daemon run as that user),
 * and a FUSE daemon that never answers makes every lookup under its mount
 * wait forever. So status looks up names only on mounts that are not FUSE,
 * or FUSE mounts made by root or by the user running it: the kernel's
 * user_id= option says who mounted it (fusermount3 sets it to the real uid
 * of its caller and does not let the caller choose it). Landing on the root
 * of a mount sends nothing to its daemon; looking up a name under it does. */
#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Undo the octal escapes (\040 for a space, \012 for a newline, \134 for a
 * backslash) that the kernel puts in mountinfo paths, in place. */
static void mounts_unescape(char *s)
{
	char *w = s;

	for (const char *r = s; *r; w++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w = (char)((r[1] - '0') << 6 | (r[2] - '0') << 3 | (r[3] - '0'));
			r += 4;
		} else {
			*w = *r++;
		}
	}
	*w = '\0';
}

static int is_fuse(const char *fstype)
{
	return strcmp(fstype, "fuse") == 0 || strcmp(fstype, "fuseblk") == 0 ||
	       strncmp(fstype, "fuse.", 5) == 0;
}

/* user_id=N among the comma-separated super options, -1 if absent. */
static long long mounts_user_id(const char *opts)
{
	for (const char *p = opts; p; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (strncmp(p, "user_id=", 8) == 0)
			return strtoll(p + 8, NULL, 10);
	}
	return -1;
}

/* One mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] -
 * FSTYPE SOURCE SUPEROPTS". Returns 0, or -1 for a line it cannot read. */
static int mounts_parse(char *line, struct mount_entry *m)
{
	unsigned maj, min;
	char *sep = strstr(line, " - ");
	char super[1024];
	unsigned long long id;

	if (!sep || sscanf(line, "%llu %*u %u:%u %*s %ms", &id, &maj, &min, &m->path) != 4)
		return -1;
	if (sscanf(sep + 3, "%63s %ms %1023s", m->fstype, &m->source, super) != 3) {
		free(m->path);
		free(m->source);
		return -1;
	}
	mounts_unescape(m->path);
	mounts_unescape(m->source);
	m->id = id;
	m->dev = makedev(maj, min);
	m->uid = is_fuse(m->fstype) ? mounts_user_id(super) : -1;
	m->trusted = !is_fuse(m->fstype) || m->uid == 0 || m->uid == (long long)getuid();
	return 0;
}

static int mounts_cmp(const void *a, const void *b)
{
	const struct mount_entry *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int mounts_read(struct mount_table *t)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int err = 0;

	t->v = NULL;
	t->n = 0;
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		struct mount_entry *grown = realloc(t->v, (t->n + 1) * sizeof(*grown));

		if (!grown) {
			err = -ENOMEM;
			break;
		}
		t->v = grown;
		memset(&t->v[t->n], 0, sizeof(t->v[t->n]));
		if (mounts_parse(line, &t->v[t->n]) == 0)
			t->n++;
	}
	free(line);
	fclose(f);
	qsort(t->v, t->n, sizeof(*t->v), mounts_cmp);
	return err;
}

void mounts_free(struct mount_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].path);
		free(t->v[i].source);
	}
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

/* A mount made after the table was read is not found: not trusted. */
const struct mount_entry *mounts_by_id(const struct mount_table *t, uint64_t id)
{
	struct mount_entry key = { .id = id };

	return bsearch(&key, t->v, t->n, sizeof(*t->v), mounts_cmp);
}

int status_statx(int fd, struct statx *sx)
{
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, sx))
		return -errno;
	return 0;
}

/* A statx that asks for nothing (mask 0) still says the mount id, and FUSE
 * answers it without its daemon, also for a caller the mount does not let
 * in: it cannot hang, whoever's mount fd is on. */
int status_mnt_id(int fd, uint64_t *id)
{
	struct statx sx;

	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC, 0, &sx))
		return -errno;
	if (!(sx.stx_mask & STATX_MNT_ID))
		return -ENOSYS;
	*id = sx.stx_mnt_id;
	return 0;
}

/* fd's statx, when fd is on a trusted mount; else -EPERM. */
static int status_trusted(const struct mount_table *t, int fd, struct statx *sx)
{
	const struct mount_entry *m;
	uint64_t id;
	int err = status_mnt_id(fd, &id);

	if (err)
		return err;
	m = mounts_by_id(t, id);
	if (!m || !m->trusted)
		return -EPERM;
	if ((err = status_statx(fd, sx)))
		return err;
	sx->stx_mnt_id = id;
	return 0;
}

/* The next component of *p into comp; 1 when it is the last one. */
static int next_component(const char **p, char comp[NAME_MAX + 1])
{
	size_t len;

	while (**p == '/')
		(*p)++;
	len = strcspn(*p, "/");
	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(comp, *p, len);
	comp[len] = '\0';
	*p += len;
	while (**p == '/')
		(*p)++;
	return **p == '\0';
}

int status_open_path(const struct mount_table *t, const char *path, int flags,
		     struct statx *sx)
{
	char comp[NAME_MAX + 1];
	int fd, next, last, err;

	if (path[0] != '/')
		return -EINVAL;
	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		if ((err = status_trusted(t, fd, sx)) < 0)
			break;
		if (path[strspn(path, "/")] == '\0')
			return fd;
		last = next_component(&path, comp);
		if (last < 0 || strcmp(comp, "..") == 0) {
			err = last < 0 ? last : -EINVAL;
			break;
		}
		next = openat(fd, comp, (last ? flags : O_PATH | O_DIRECTORY) | O_NOFOLLOW |
				O_CLOEXEC);
		if (next < 0) {
			err = -errno;
			break;
		}
		close(fd);
		fd = next;
	}
	close(fd);
	return err;
}
