/* store: a backing store is a directory fd plus naming rules.
 *
 * The root store is a directory of POSIX shm objects (shm_dir): the segment
 * MOUNT/NAME is the object SHM_DIR/PREFIXNAME, so only names in the store's
 * top directory carry the prefix; deeper directories hold plain names.
 * Every function returns 0 or -errno. */
#ifndef SHMFS_STORE_H
#define SHMFS_STORE_H

#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config.h"

struct store {
	int dirfd;            /* O_PATH of the top directory */
	int mntfd;            /* a real open of it, for open_by_handle_at, or -1 */
	char path[PATH_MAX];  /* the top directory, for user.shmfs.backing */
	char prefix[NAME_MAX + 1];
	enum store_backend backend;
	enum lifetime lifetime;
};

/* Open the top directory at path (which must be a directory). */
int store_open(struct store *st, const char *path, const char *prefix,
	       enum store_backend backend, enum lifetime lifetime);
void store_close(struct store *st);

/* The name in the backing directory of what the mount calls name; top says
 * whether the parent is the store's top directory. -EINVAL for names that
 * are not a single path component, -ENAMETOOLONG past NAME_MAX. */
int store_backing_name(const struct store *st, int top, const char *name,
		       char *out, size_t len);

/* The name the mount shows for backing entry name, or NULL when the entry is
 * not shown (no prefix, or nothing left after it). */
const char *store_visible_name(const struct store *st, int top, const char *name);

/* Whether a backing object of this type is shown: every type tmpfs has
 * (regular files, the segments, directories, symlinks, FIFOs, sockets,
 * device nodes). The daemon never follows a symlink nor opens a FIFO or a
 * device: it stats them and acts on their names and O_PATH fds. */
int store_type_shown(mode_t mode);

const char *store_backend_name(enum store_backend backend);

/* "/proc/self/fd/N": a path that reaches the object behind fd, O_PATH fds
 * too, for the calls that take no fd (xattrs of O_PATH fds, reopening). */
void store_fd_path(int fd, char *buf, size_t len);

/* Make the regular file name in dirfd, owned by uid:gid ((uid_t)-1 and
 * (gid_t)-1 keep the maker's), with mode and size, all at once: the file is
 * made unnamed (O_TMPFILE) and linked in only when complete, so that a
 * crash never leaves a half-made file under name. Where the filesystem has
 * no O_TMPFILE it is made in place and then completed. Returns an O_RDWR fd,
 * or -errno (-EEXIST when name exists). */
int store_create_file(int dirfd, const char *name, mode_t mode, uid_t uid, gid_t gid,
		      off_t size);

/* A new open of the object behind fd (any fd, O_PATH too) with flags, never
 * waiting on another user's lease: an fd, or -errno (-EWOULDBLOCK then). */
int store_reopen(int fd, int flags);

/* Unlink name in dirfd if it still names the object want was fstat'ed from
 * (a name that has become another object's is left alone: -ESTALE). */
int store_unlink_at(int dirfd, const char *name, const struct stat *want);

/* Unlink the object behind fd by the name it has now in the store, reached
 * from the store's top directory without following a symlink or leaving
 * the store (-ELOOP, -EXDEV, -ENOENT otherwise), if that name still holds
 * it. */
int store_unlink_fd(const struct store *st, int fd);

/* The xattr on a backing object that overrides its store's lifetime. */
#define STORE_LIFETIME_XATTR "user.shmfs.lifetime"

/* The lifetime of the object behind fd (any fd, O_PATH too): its
 * STORE_LIFETIME_XATTR if it has a valid one, else the store's. */
enum lifetime store_lifetime_of(const struct store *st, int fd);

/* Parse a lifetime name: 0 and *out, or -EINVAL. */
int store_parse_lifetime(const char *value, size_t len, enum lifetime *out);

/* Called for every segment and directory below the store's top, children
 * before their directory; dirfd and name locate the object. */
typedef void (*store_visit_fn)(int dirfd, const char *name, const struct stat *sb, void *arg);
/* Says whether a name of the top directory (as the mount shows it) is left out. */
typedef int (*store_skip_fn)(const char *name, void *arg);

/* Walk the store. Symlinks are visited (every type is) but never followed;
 * in the top directory only names with the prefix are. */
void store_walk(const struct store *st, store_skip_fn skip, void *skip_arg,
		store_visit_fn visit, void *arg);

#endif
