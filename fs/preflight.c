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
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

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

static unsigned preflight_overflow_uid(void)
{
	FILE *f = fopen("/proc/sys/kernel/overflowuid", "re");
	unsigned uid = 65534;

	if (f) {
		if (fscanf(f, "%u", &uid) != 1)
			uid = 65534;
		fclose(f);
	}
	return uid;
}

static void preflight_not_writable(const char *dir, const struct stat *st)
{
	if (preflight_in_userns() && st->st_uid == preflight_overflow_uid()) {
		fprintf(stderr, "shmfs: shm_dir %s belongs to uid %u (nobody: its owner is not "
				"mapped into this user namespace), so this daemon cannot make segments "
				"in it; use -o shm_dir=DIR with a directory of your own, e.g. "
				"$XDG_RUNTIME_DIR/shmfs\n", dir, (unsigned)st->st_uid);
		return;
	}
	fprintf(stderr, "shmfs: shm_dir %s is not writable by uid %u, who runs the daemon (owner "
			"uid %u, mode %04o): every create would fail; make it writable (chown, chmod) "
			"or choose another shm_dir\n", dir, (unsigned)geteuid(), (unsigned)st->st_uid,
		(unsigned)(st->st_mode & 07777));
}

int preflight_store(const struct config *cfg, int read_only)
{
	const char *dir = cfg->shm_dir;
	struct statvfs sv;
	struct stat st;

	if (read_only)
		return 0;
	if (stat(dir, &st) || statvfs(dir, &sv)) {
		fprintf(stderr, "shmfs: shm_dir %s: %s\n", dir, strerror(errno));
		return -1;
	}
	if ((sv.f_flag & ST_RDONLY) ||
	    (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) && errno == EROFS)) {
		fprintf(stderr, "shmfs: shm_dir %s is on a read-only file system: every create "
				"would fail; remount it read-write, choose another shm_dir, or mount "
				"with -o ro\n", dir);
		return -1;
	}
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS)) {
		preflight_not_writable(dir, &st);
		return -1;
	}
	return 0;
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
