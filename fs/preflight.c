/* preflight.c: the store and /dev/fuse, checked before mounting.
 *
 * access(2) with AT_EACCESS answers for the daemon's effective ids and
 * capabilities, and says EROFS for W_OK on a read-only file system. In a
 * user namespace of its own a daemon's "root" has CAP_DAC_OVERRIDE only
 * over files whose owner is mapped into it; the others show as owned by
 * the overflow uid (65534, nobody) and are as closed to it as to anyone. */
#include "preflight.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "log.h"
#include "tmpfs.h"

/* Whether this process is in a user namespace other than the first one. */
static int preflight_in_userns(void)
{
	char map[128] = "";
	FILE *f = fopen("/proc/self/uid_map", "re");

	if (!f)
		return 0;
	if (!fgets(map, sizeof(map), f))
		map[0] = '\0';
	fclose(f);
	return strstr(map, "4294967295") == NULL;
}

long preflight_sysctl(const char *path, long dflt)
{
	FILE *f = fopen(path, "re");
	long v = dflt;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = dflt;
		fclose(f);
	}
	return v;
}

static unsigned preflight_overflow_uid(void)
{
	return (unsigned)preflight_sysctl("/proc/sys/kernel/overflowuid", 65534);
}

static void preflight_not_writable(const char *dir, const struct stat *st, char *why, size_t len)
{
	if (preflight_in_userns() && st->st_uid == preflight_overflow_uid()) {
		snprintf(why, len, "shm_dir %s belongs to uid %u (nobody: its owner is not mapped "
			 "into this user namespace), so this daemon cannot make segments in it; use "
			 "-o shm_dir=DIR with a directory of your own, e.g. $XDG_RUNTIME_DIR/shmfs",
			 dir, (unsigned)st->st_uid);
		return;
	}
	snprintf(why, len, "shm_dir %s is not writable by uid %u, who runs the daemon (owner uid "
		 "%u, mode %04o): every create would fail; make it writable (chown, chmod) or "
		 "choose another shm_dir", dir, (unsigned)geteuid(), (unsigned)st->st_uid,
		 (unsigned)(st->st_mode & 07777));
}

/* Why dir cannot take new segments, into why; 0 when it can. */
static int preflight_dir(const char *dir, char *why, size_t len)
{
	struct statvfs sv;
	struct stat st;

	if (stat(dir, &st) || statvfs(dir, &sv)) {
		snprintf(why, len, "shm_dir %s: %s", dir, strerror(errno));
		return -1;
	}
	if ((sv.f_flag & ST_RDONLY) ||
	    (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) && errno == EROFS)) {
		snprintf(why, len, "shm_dir %s is on a read-only file system: every create would "
			 "fail; remount it read-write, choose another shm_dir, or mount with -o ro",
			 dir);
		return -1;
	}
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS)) {
		preflight_not_writable(dir, &st, why, len);
		return -1;
	}
	return 0;
}

/* Whether shm_dir was set (in the file or with -o), not left at its default. */
static int preflight_chosen(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->nentries; i++)
		if (strcmp(cfg->entries[i].key, "shm_dir") == 0 &&
		    strcmp(cfg->entries[i].section, "shmfs") == 0)
			return 1;
	return 0;
}

/* A daemon without privilege whose default shm_dir cannot take segments
 * (a rootless container's /dev/shm) gets $XDG_RUNTIME_DIR/shmfs, a
 * directory its user owns (made 0700). 0 when cfg->shm_dir is now that. */
static int preflight_fallback(struct config *cfg)
{
	const char *run = getenv("XDG_RUNTIME_DIR");
	char dir[PATH_MAX], why[768];
	struct stat st;

	if ((geteuid() == 0 && !preflight_in_userns()) || preflight_chosen(cfg) || !run ||
	    run[0] != '/' || snprintf(dir, sizeof(dir), "%s/shmfs", run) >= (int)sizeof(dir))
		return -1;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -1;
	if (lstat(dir, &st) || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    preflight_dir(dir, why, sizeof(why)))
		return -1;
	strcpy(cfg->shm_dir, dir);
	return 0;
}

int preflight_store(struct config *cfg, int read_only)
{
	char why[768], was[PATH_MAX];

	/* A private store has no shm_dir: the daemon makes its tmpfs, which
	 * is tried here (and let go at once) so that what it lacks is said
	 * before anything else. */
	if (store_kind_own_tmpfs(cfg->store)) {
		int fd = tmpfs_mount(&cfg->tmpfs, why, sizeof(why));

		if (fd < 0) {
			fprintf(stderr, "shmfs: store = private: %s\n", why);
			return -1;
		}
		close(fd);
		return 0;
	}
	if (read_only || preflight_dir(cfg->shm_dir, why, sizeof(why)) == 0)
		return 0;
	strcpy(was, cfg->shm_dir);
	if (preflight_fallback(cfg) == 0) {
		log_warnx("the default shm_dir %s cannot take segments: using %s, which uid %u owns "
			  "(set shm_dir to choose another)", was, cfg->shm_dir, (unsigned)geteuid());
		return 0;
	}
	fprintf(stderr, "shmfs: %s\n", why);
	return -1;
}

int preflight_fuse(void)
{
	if (faccessat(AT_FDCWD, "/dev/fuse", R_OK | W_OK, AT_EACCESS) == 0)
		return 0;
	if (errno == ENOENT)
		fprintf(stderr, "shmfs: /dev/fuse does not exist: load the fuse module (modprobe "
				"fuse), or in a container pass the device in (--device /dev/fuse)\n");
	else
		fprintf(stderr, "shmfs: /dev/fuse: %s: uid %u may not use FUSE; it needs read and "
				"write access to /dev/fuse (mode 0666 is the usual; in a container, pass "
				"the device in)\n", strerror(errno), (unsigned)geteuid());
	return -1;
}
