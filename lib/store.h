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
	int trusted;          /* marks are trusted.shmfs.* (the daemon is root), else user.shmfs.* */
};

/* Open the top directory at path (which must be a directory). */
int store_open(struct store *st, const char *path, const char *prefix,
	       enum store_backend backend, enum lifetime lifetime);
/* Likewise with an O_PATH fd of the directory, which the store takes (also
 * on failure); path is only what messages and user.shmfs.backing say. */
int store_open_fd(struct store *st, int fd, const char *path, const char *prefix,
		  enum store_backend backend, enum lifetime lifetime);

/* Open the directory path (absolute) one component at a time, relative to
 * the last, never following a symbolic link (-ELOOP), making what is
 * missing when create is set (0755, the last one mode; *made then says
 * whether the last one was made). Returns an O_PATH fd or -errno. */
int store_open_path(const char *path, int create, mode_t mode, int *made);
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

/* store_kind_name (lib/kinds.h), as older callers name it. */
static inline const char *store_backend_name(enum store_backend backend)
{
	return store_kind_name(backend);
}

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

/* Whether fd is open for reading and writing (not O_PATH). */
int store_fd_is_rw(int fd);

/* fd (taken) as an O_RDWR open of the same regular file when that can be
 * had without waiting, else fd itself. */
int store_open_rw(int fd);

/* Flags for the daemon's own open of a backing object, for a client's open
 * with flags: read-write, no O_APPEND/O_CREAT/O_EXCL/O_NOFOLLOW/O_DIRECT. */
int store_backing_flags(int flags);

/* fd, just opened with O_NONBLOCK added to flags (so as not to wait on a
 * lease), made blocking again unless flags asked for O_NONBLOCK. */
int store_nonblock_done(int fd, int flags);

/* Unlink name in dirfd if it still names the object want was fstat'ed from
 * (a name that has become another object's is left alone: -ESTALE). */
int store_unlink_at(int dirfd, const char *name, const struct stat *want);

/* Unlink the object behind fd by the name it has now in the store, reached
 * from the store's top directory without following a symlink or leaving
 * the store (-ELOOP, -EXDEV, -ENOENT otherwise), if that name still holds
 * it. */
int store_unlink_fd(const struct store *st, int fd);

/* A segment's lifetime, as the mount shows it (getfattr/setfattr). */
#define STORE_LIFETIME_XATTR "user.shmfs.lifetime"

/* The marks kept on backing objects. Marks drive removal, so a root daemon
 * keeps them in the trusted namespace, which only CAP_SYS_ADMIN may write:
 * nobody writing the store directly can forge one. A daemon that is not
 * root cannot write trusted.*, and keeps them as user.shmfs.*. */
#define STORE_TRUSTED_LIFETIME_XATTR "trusted.shmfs.lifetime"
#define STORE_TRUSTED_MOUNT_XATTR "trusted.shmfs.mount"
#define STORE_USER_MOUNT_XATTR "user.shmfs.mount"

/* The lifetime of the object behind fd (any fd, O_PATH too): its mark if it
 * has a valid one, else the store's. A root daemon reads only the trusted
 * mark: a user.shmfs.lifetime written on the store directly means nothing. */
enum lifetime store_lifetime_of(const struct store *st, int fd);

/* What "until unlinked" is in st: its kind's lasting lifetime (kernel,
 * disk) where that outlives the mount, else the store's own (nothing in a
 * private store outlives the mount). */
enum lifetime store_lasting(const struct store *st);

/* Mark the object behind fd with lifetime lt (none when lt is the store's
 * own). 0 or -errno. */
int store_set_lifetime(const struct store *st, int fd, enum lifetime lt);

/* Mark an object the daemon just made in st (fd: the new file or directory,
 * O_PATH too) as this mount's, in stores whose lifetime (mount, process)
 * removes what the mount made: the sweeps remove only marked objects.
 * Private stores are never swept (they go with the mount) and get no marks. The
 * mark holds the store's token (its path and prefix), so that mounts with
 * overlapping prefixes in one directory never remove each other's objects.
 * 0 (also where nothing is marked) or -errno. */
int store_mark_made(const struct store *st, int fd);

/* store_mark_made for a caller that holds no fd of the new object: opens
 * name in dirfd (O_PATH | O_NOFOLLOW), a lookup by name that an fd of the
 * object made avoids; prefer store_mark_made. */
int store_mark_made_at(const struct store *st, int dirfd, const char *name);

/* Whether the object behind fd carries st's mark (store_mark_made). */
int store_made_here(const struct store *st, int fd);

/* Parse a lifetime name (lifetime_parse, lib/kinds.h): 0 and *out, or -EINVAL. */
static inline int store_parse_lifetime(const char *value, size_t len, enum lifetime *out)
{
	return lifetime_parse(value, len, out);
}

/* Called for every object below the store's top, children before their
 * directory; dirfd and name locate the object, sb is its lstat. Objects of
 * every type are visited (visitors pick); a directory only if it was
 * entered. */
typedef void (*store_visit_fn)(int dirfd, const char *name, const struct stat *sb, void *arg);
/* Says whether a name of the top directory (as the mount shows it) is left out. */
typedef int (*store_skip_fn)(const char *name, void *arg);
/* Says whether to go into a directory; fd is a read-only fd of it. */
typedef int (*store_enter_fn)(int fd, const struct stat *sb, void *arg);

struct store_walk_ops {
	store_skip_fn skip;   /* NULL: every name of the top */
	void *skip_arg;
	store_enter_fn enter; /* NULL: every directory */
	store_visit_fn visit;
	void *arg;            /* of enter and visit */
};

/* How deep a walk goes below the top; it holds one fd per level, so this is
 * its fd budget too. Deeper levels are left out, with one log line. */
#define STORE_WALK_MAX_DEPTH 128

/* Walk the store without recursion: each directory is opened relative to
 * its parent's fd (O_NOFOLLOW | O_DIRECTORY | O_NONBLOCK, and checked to be
 * what lstat saw), so no symlink is followed and no FIFO opened; every type
 * is visited; in the top directory only names with the prefix are seen. Returns 0, or -E2BIG when
 * levels past STORE_WALK_MAX_DEPTH were left out. */
int store_walk_with(const struct store *st, const struct store_walk_ops *ops);
/* store_walk_with, entering every directory. */
int store_walk(const struct store *st, store_skip_fn skip, void *skip_arg,
	       store_visit_fn visit, void *arg);

/* Whether every change of the filesystem behind fd passes through this
 * kernel (tmpfs, ramfs, ext4, xfs, btrfs, f2fs), so that a fanotify mark
 * sees it: network and FUSE stores change elsewhere, overlayfs does not
 * report changes to its layers. */
int store_fs_local(int fd);

#endif
