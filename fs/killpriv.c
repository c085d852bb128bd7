/* killpriv.c: setuid and setgid bits cleared as tmpfs clears them.
 *
 * The mount takes FUSE_HANDLE_KILLPRIV_V2 (passthrough.c says why), which
 * leaves clearing the bits to the daemon. The kernel says when, in fields
 * that libfuse 3.14 does not pass on, so the request hook reads them:
 *  - WRITE: FUSE_WRITE_KILL_SUIDGID in write_flags, set when the writer lacks
 *    CAP_FSETID (cached mode; a passthrough write does not come here);
 *  - SETATTR of the size: FATTR_KILL_SUIDGID, likewise; open(O_TRUNC) comes
 *    as such a SETATTR too, because the mount does not take
 *    FUSE_ATOMIC_O_TRUNC (an OPEN that truncates would carry the kill in
 *    open_flags, past libfuse);
 *  - a SETATTR with nothing to set: what fuse_setattr() leaves of the
 *    kernel's own file_remove_privs() or chown once it takes the mode change
 *    out. It comes before a passthrough write or a fallocate by a caller
 *    without CAP_FSETID, and with chown(-1, -1).
 * A chown that changes ids needs nothing here: the daemon's fchown clears
 * the bits of the backing object as any chown does.
 *
 * libfuse's loops serve a request in the thread that read it, so the hook's
 * note is a thread-local flag. */
#include "killpriv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fuse_abi.h"
#include "store.h"

static __thread int killpriv_flag;

void killpriv_note(const void *buf, size_t n)
{
	const struct shmfs_fuse_in_header *in = buf;
	const char *arg = (const char *)(in + 1);
	size_t argn = n >= sizeof(*in) ? n - sizeof(*in) : 0;

	killpriv_flag = 0;
	if (argn == 0)
		return;
	if (in->opcode == SHMFS_FUSE_WRITE && argn >= sizeof(struct shmfs_fuse_write_in)) {
		const struct shmfs_fuse_write_in *w = (const void *)arg;

		killpriv_flag = !!(w->write_flags & SHMFS_FUSE_WRITE_KILL_SUIDGID);
	} else if (in->opcode == SHMFS_FUSE_SETATTR &&
		   argn >= sizeof(struct shmfs_fuse_setattr_in)) {
		const struct shmfs_fuse_setattr_in *s = (const void *)arg;

		killpriv_flag = (s->valid & SHMFS_FATTR_KILL_SUIDGID) ||
				!(s->valid & ~(SHMFS_FATTR_FH | SHMFS_FATTR_LOCKOWNER));
	}
}

int killpriv_asked(void)
{
	return killpriv_flag;
}

/* Is the caller of req in group gid? root counts as in every group: the
 * daemon cannot see its capabilities (CAP_FSETID), and root has them. */
static int killpriv_in_group(fuse_req_t req, gid_t gid)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	gid_t *groups;
	int n, in = 0;

	if (ctx->uid == 0 || ctx->gid == gid)
		return 1;
	n = fuse_req_getgroups(req, 0, NULL);
	groups = n > 0 ? calloc((size_t)n, sizeof(*groups)) : NULL;
	if (groups && fuse_req_getgroups(req, n, groups) == n)
		for (int i = 0; i < n && !in; i++)
			in = groups[i] == gid;
	free(groups);
	return in;
}

int killpriv_apply(fuse_req_t req, int fd)
{
	char path[64];
	struct stat st;
	mode_t mode;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return 0;
	mode = st.st_mode & 07777 & ~(mode_t)S_ISUID;
	/* A set-group-ID bit without group execute marks mandatory locking,
	 * not privilege; the kernel leaves it to members of the group. */
	if ((mode & S_ISGID) && ((mode & S_IXGRP) || !killpriv_in_group(req, st.st_gid)))
		mode &= ~(mode_t)S_ISGID;
	if (mode == (st.st_mode & 07777))
		return 0;
	store_fd_path(fd, path, sizeof(path));
	return fchmodat(AT_FDCWD, path, mode, 0) ? -errno : 0;
}
