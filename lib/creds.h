/* creds: act as another user on this thread only.
 *
 * A root daemon makes new objects as the caller of the request, so that the
 * store checks the caller's access to the directory and nothing is ever
 * owned by root, even for an instant. setfsuid(2) and setfsgid(2) change only
 * the calling thread; so does the raw setgroups system call (glibc's
 * setgroups() changes every thread). While the fs uid is not 0 the thread has
 * none of CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID; they come back
 * with the fs uid 0. Functions return 0 or -errno. */
#ifndef SHMFS_CREDS_H
#define SHMFS_CREDS_H

#include <sys/stat.h>
#include <sys/types.h>

#define CREDS_MAX_GROUPS 256

struct creds {
	uid_t uid;
	gid_t gid;
	int ngroups;                     /* -1: keep the thread's groups (a root
					  * daemon's threads have none) */
	gid_t groups[CREDS_MAX_GROUPS];
};

/* Become creds on this thread (fs uid, fs gid, supplementary groups).
 * Only a root daemon switches: for any other it does nothing and returns 0. */
int creds_become(const struct creds *c);

/* Back to the daemon's own fs uid, fs gid and groups on this thread. */
void creds_restore(void);

/* Whether c may open the object st describes for mask (R_OK, W_OK, X_OK),
 * as the kernel's mode-bit check would answer (uid 0 may read and write
 * anything). 0 or -EACCES. */
int creds_may_access(const struct creds *c, const struct stat *st, int mask);

/* fs.protected_regular (proc(5)): whether c may open with O_CREAT the
 * existing regular file st in the directory dir. At level 1 a file in a
 * sticky world-writable directory, at level 2 also in a sticky
 * group-writable one, that is neither c's nor the directory owner's is
 * refused. 0 or -EACCES. */
int creds_may_open_in_sticky(const struct creds *c, const struct stat *dir,
			     const struct stat *st, int level);

#endif
