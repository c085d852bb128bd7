#include "creds.h"

#include <errno.h>
#include <grp.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

/* setfsuid and setfsgid return the previous value, never an error; the
 * only way to know they took is to ask again with an impossible id. */
static int creds_set_fsuid(uid_t uid)
{
	setfsuid(uid);
	return (uid_t)setfsuid((uid_t)-1) == uid ? 0 : -EPERM;
}

static int creds_set_fsgid(gid_t gid)
{
	setfsgid(gid);
	return (gid_t)setfsgid((gid_t)-1) == gid ? 0 : -EPERM;
}

/* Whether this thread's groups were changed (creds_restore undoes it). */
static __thread int creds_grouped;

int creds_become(const struct creds *c)
{
	if (geteuid() != 0)
		return 0;
	if (c->ngroups >= 0) {
		if (syscall(SYS_setgroups, (size_t)c->ngroups, c->ngroups ? c->groups : NULL))
			return -errno;
		creds_grouped = 1;
	}
	/* The gid first: with the fs uid no longer 0 the thread could not
	 * change it any more. */
	if (creds_set_fsgid(c->gid) || creds_set_fsuid(c->uid)) {
		creds_restore();
		return -EPERM;
	}
	return 0;
}

void creds_restore(void)
{
	if (geteuid() != 0)
		return;
	setfsuid(0);
	setfsgid(getegid());
	/* Root's own groups: none but its gid, as the daemon sets at start. */
	if (creds_grouped)
		syscall(SYS_setgroups, (size_t)0, NULL);
	creds_grouped = 0;
}

static int creds_in_group(const struct creds *c, gid_t gid)
{
	if (c->gid == gid)
		return 1;
	for (int i = 0; i < c->ngroups; i++)
		if (c->groups[i] == gid)
			return 1;
	return 0;
}

int creds_may_access(const struct creds *c, const struct stat *st, int mask)
{
	mode_t bits;

	if (c->uid == 0)
		return (mask & X_OK) && !(st->st_mode & 0111) && !S_ISDIR(st->st_mode)
			       ? -EACCES : 0;
	if (c->uid == st->st_uid)
		bits = (st->st_mode >> 6) & 7;
	else if (creds_in_group(c, st->st_gid))
		bits = (st->st_mode >> 3) & 7;
	else
		bits = st->st_mode & 7;
	return ((mode_t)mask & ~bits) ? -EACCES : 0;
}

int creds_may_open_in_sticky(const struct creds *c, const struct stat *dir,
			     const struct stat *st, int level)
{
	if (level <= 0 || !(dir->st_mode & S_ISVTX) || !S_ISREG(st->st_mode))
		return 0;
	if (st->st_uid == c->uid || st->st_uid == dir->st_uid)
		return 0;
	if (dir->st_mode & S_IWOTH)
		return -EACCES;
	if (level >= 2 && (dir->st_mode & S_IWGRP))
		return -EACCES;
	return 0;
}
