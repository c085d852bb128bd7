/* status.c: `shmfs status [--json] [MOUNTPOINT...]`: what segments a mount
 * has and who uses them. Everything comes from the mount's user.shmfs.*
 * attributes, the backing objects and /proc/PID/maps; nothing is opened
 * through the mount (that would count as a user of process-lifetime
 * segments). */
#include "status.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

struct seg {
	char name[PATH_MAX];    /* relative to the mount point */
	char path[PATH_MAX];    /* through the mount */
	char backing[PATH_MAX]; /* user.shmfs.backing */
	char backend[16], lifetime[16], io[16];
	uint64_t size, resident;
	unsigned opens;
	pid_t *pids;
	size_t npids;
};

struct status {
	const char *mountpoint;
	struct seg *segs;
	size_t nsegs;
	char limits[256]; /* user.shmfs.limits of the root */
};

static void status_xattr(const char *path, const char *name, char *buf, size_t len)
{
	ssize_t n = lgetxattr(path, name, buf, len - 1);

	buf[n > 0 ? n : 0] = '\0';
}

/* Pages of the backing object in memory: mincore over a mapping of it.
 * Falls back to the allocated size when it cannot be mapped. */
static uint64_t status_resident(const char *backing, const struct stat *st)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t pages, n = 0;
	unsigned char *vec;
	void *map;
	int fd;

	if (st->st_size == 0)
		return 0;
	fd = open(backing, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return (uint64_t)st->st_blocks * 512;
	map = mmap(NULL, (size_t)st->st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return (uint64_t)st->st_blocks * 512;
	pages = ((size_t)st->st_size + (size_t)page - 1) / (size_t)page;
	vec = malloc(pages);
	if (vec && mincore(map, (size_t)st->st_size, vec) == 0)
		for (size_t i = 0; i < pages; i++)
			n += vec[i] & 1;
	free(vec);
	munmap(map, (size_t)st->st_size);
	return (uint64_t)n * (uint64_t)page;
}

static int status_add(struct status *s, const char *rel, const char *path, const struct stat *st)
{
	struct seg *grown, *g;
	char opens[16];

	grown = realloc(s->segs, (s->nsegs + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	s->segs = grown;
	g = &s->segs[s->nsegs++];
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", rel);
	snprintf(g->path, sizeof(g->path), "%s", path);
	status_xattr(path, "user.shmfs.backing", g->backing, sizeof(g->backing));
	status_xattr(path, "user.shmfs.backend", g->backend, sizeof(g->backend));
	status_xattr(path, "user.shmfs.lifetime", g->lifetime, sizeof(g->lifetime));
	status_xattr(path, "user.shmfs.io", g->io, sizeof(g->io));
	status_xattr(path, "user.shmfs.opens", opens, sizeof(opens));
	g->opens = (unsigned)strtoul(opens, NULL, 10);
	g->size = (uint64_t)st->st_size;
	g->resident = status_resident(g->backing, st);
	return 0;
}

/* Every segment below dir (rel is its name relative to the mount). */
static void status_walk(struct status *s, const char *dir, const char *rel)
{
	struct dirent *de;
	DIR *dp = opendir(dir);

	if (!dp)
		return;
	while ((de = readdir(dp))) {
		char path[PATH_MAX], name[PATH_MAX];
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		snprintf(name, sizeof(name), "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		if (lstat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode))
			status_walk(s, path, name);
		else if (S_ISREG(st.st_mode))
			status_add(s, name, path, &st);
	}
	closedir(dp);
}

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

/* The path field of a /proc/PID/maps line, without " (deleted)". */
static const char *maps_path(char *line)
{
	char *p = strchr(line, '/');
	size_t len;

	if (!p)
		return NULL;
	len = strcspn(p, "\n");
	p[len] = '\0';
	if (len > 10 && strcmp(p + len - 10, " (deleted)") == 0)
		p[len - 10] = '\0';
	return p;
}

/* Which processes map each segment, through the mount or the backing. */
static void status_mappers(struct status *s)
{
	struct dirent *de;
	DIR *proc = opendir("/proc");
	char line[PATH_MAX + 256];

	if (!proc)
		return;
	while ((de = readdir(proc))) {
		char maps[64];
		FILE *f;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(maps, sizeof(maps), "/proc/%s/maps", de->d_name);
		f = fopen(maps, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			const char *path = maps_path(line);

			if (!path)
				continue;
			for (size_t i = 0; i < s->nsegs; i++)
				if (!strcmp(path, s->segs[i].path) || !strcmp(path, s->segs[i].backing))
					seg_add_pid(&s->segs[i], (pid_t)atoi(de->d_name));
		}
		fclose(f);
	}
	closedir(proc);
}

/* "64M", "1.5G": sizes for people. */
static void human(uint64_t n, char *buf, size_t len)
{
	static const char units[] = "BKMGTP";
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%lluB", (unsigned long long)n);
	else
		snprintf(buf, len, v < 10 && v != (int)v ? "%.1f%c" : "%.0f%c", v, units[u]);
}

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", *s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

/* The value of key=N in the root's user.shmfs.limits, 0 if absent. */
static uint64_t limit_of(const struct status *s, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "%s=", key);
	p = strstr(s->limits, pat);
	return p ? strtoull(p + strlen(pat), NULL, 10) : 0;
}

static void status_totals(const struct status *s, uint64_t *size, uint64_t *resident)
{
	*size = *resident = 0;
	for (size_t i = 0; i < s->nsegs; i++) {
		*size += s->segs[i].size;
		*resident += s->segs[i].resident;
	}
}

static void status_print_json(const struct status *s, FILE *out, int first)
{
	uint64_t size, resident;

	status_totals(s, &size, &resident);
	fprintf(out, "%s{\"mountpoint\": ", first ? "" : ", ");
	json_string(out, s->mountpoint);
	fprintf(out, ", \"segments\": [");
	for (size_t i = 0; i < s->nsegs; i++) {
		const struct seg *g = &s->segs[i];

		fprintf(out, "%s{\"name\": ", i ? ", " : "");
		json_string(out, g->name);
		fprintf(out, ", \"size\": %llu, \"resident\": %llu, \"backend\": ",
			(unsigned long long)g->size, (unsigned long long)g->resident);
		json_string(out, g->backend);
		fprintf(out, ", \"backing\": ");
		json_string(out, g->backing);
		fprintf(out, ", \"lifetime\": ");
		json_string(out, g->lifetime);
		fprintf(out, ", \"io\": ");
		json_string(out, g->io);
		fprintf(out, ", \"opens\": %u, \"pids\": [", g->opens);
		for (size_t j = 0; j < g->npids; j++)
			fprintf(out, "%s%d", j ? ", " : "", (int)g->pids[j]);
		fprintf(out, "]}");
	}
	fprintf(out, "], \"total\": {\"segments\": %zu, \"size\": %llu, \"resident\": %llu}, "
		     "\"limits\": {\"max_segments\": %llu, \"max_total_size\": %llu, "
		     "\"max_segment_size\": %llu}}",
		s->nsegs, (unsigned long long)size, (unsigned long long)resident,
		(unsigned long long)limit_of(s, "max_segments"),
		(unsigned long long)limit_of(s, "max_total_size"),
		(unsigned long long)limit_of(s, "max_segment_size"));
}

static void status_print_table(const struct status *s, FILE *out)
{
	char size[16], res[16], lim[16];
	uint64_t total, resident, max;

	fprintf(out, "%s:\n", s->mountpoint);
	fprintf(out, "%-24s %7s %7s %-7s %-8s %-11s %5s  %s\n", "NAME", "SIZE", "RES", "BACKEND",
		"LIFETIME", "IO", "OPENS", "PIDS");
	for (size_t i = 0; i < s->nsegs; i++) {
		const struct seg *g = &s->segs[i];

		human(g->size, size, sizeof(size));
		human(g->resident, res, sizeof(res));
		fprintf(out, "%-24s %7s %7s %-7s %-8s %-11s %5u  ", g->name, size, res, g->backend,
			g->lifetime, g->io, g->opens);
		for (size_t j = 0; j < g->npids; j++)
			fprintf(out, "%s%d", j ? "," : "", (int)g->pids[j]);
		fputs(g->npids ? "\n" : "-\n", out);
	}
	status_totals(s, &total, &resident);
	human(total, size, sizeof(size));
	human(resident, res, sizeof(res));
	fprintf(out, "total: %zu segments", s->nsegs);
	if ((max = limit_of(s, "max_segments")))
		fprintf(out, " of %llu", (unsigned long long)max);
	fprintf(out, ", %s", size);
	if ((max = limit_of(s, "max_total_size"))) {
		human(max, lim, sizeof(lim));
		fprintf(out, " of %s", lim);
	}
	fprintf(out, ", %s resident\n", res);
}

/* The mount points of every shmfs mount, from /proc/self/mountinfo. */
static size_t status_mounts(char ***out)
{
	char line[2 * PATH_MAX], mnt[PATH_MAX], fstype[64];
	char **list = NULL;
	size_t n = 0;
	FILE *f = fopen("/proc/self/mountinfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");
		char **grown;

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", fstype) != 1 || strcmp(fstype, "fuse.shmfs") != 0)
			continue;
		grown = realloc(list, (n + 1) * sizeof(*list));
		if (!grown)
			break;
		list = grown;
		list[n++] = strdup(mnt); /* octal escapes (\040) left as they are */
	}
	fclose(f);
	*out = list;
	return n;
}

static int status_one(const char *mountpoint, int json, int first)
{
	struct status s = { .mountpoint = mountpoint };

	if (lgetxattr(mountpoint, "user.shmfs.limits", s.limits, sizeof(s.limits) - 1) < 0) {
		fprintf(stderr, "shmfs status: %s: not a shmfs mount (%s)\n", mountpoint,
			strerror(errno));
		return -1;
	}
	status_walk(&s, mountpoint, "");
	status_mappers(&s);
	if (json)
		status_print_json(&s, stdout, first);
	else
		status_print_table(&s, stdout);
	for (size_t i = 0; i < s.nsegs; i++)
		free(s.segs[i].pids);
	free(s.segs);
	return 0;
}

int status_main(int argc, char *argv[])
{
	char **mounts = NULL;
	size_t nmounts = 0;
	int json = 0, rc = 0, first = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("usage: shmfs status [--json] [MOUNTPOINT...]\n"
			       "One line per segment: name, size, resident memory, backend,\n"
			       "lifetime, data path, open files and the processes mapping it.\n"
			       "Without MOUNTPOINT: every shmfs mount.\n");
			return 0;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "shmfs status: unknown option %s\n", argv[i]);
			return 1;
		} else {
			char **grown = realloc(mounts, (nmounts + 1) * sizeof(*mounts));

			if (!grown)
				return 1;
			mounts = grown;
			mounts[nmounts++] = strdup(argv[i]);
		}
	}
	if (nmounts == 0)
		nmounts = status_mounts(&mounts);
	if (json)
		printf("{\"mounts\": [");
	for (size_t i = 0; i < nmounts; i++) {
		if (status_one(mounts[i], json, first))
			rc = 1;
		else
			first = 0;
		if (!json && i + 1 < nmounts)
			putchar('\n');
		free(mounts[i]);
	}
	if (json)
		printf("]}\n");
	free(mounts);
	return rc;
}
