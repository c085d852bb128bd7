/* tmpfs: a tmpfs instance that belongs to one process, made with the new
 * mount API (fsopen, fsconfig, fsmount). The result is a detached mount:
 * it is in no mount namespace, has no path anyone can look up, and its only
 * handle is the fd fsmount returns (and what is opened through it). It
 * lives while any of those fds, open files or mappings of its files live.
 *
 * Options pass through to tmpfs as a tmpfs user writes them (mount -t
 * tmpfs -o size=,nr_inodes=,huge=,mpol=,mode=). Functions return 0 or
 * -errno. */
#ifndef SHMFS_TMPFS_H
#define SHMFS_TMPFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum tmpfs_huge { TMPFS_HUGE_NEVER, TMPFS_HUGE_ALWAYS, TMPFS_HUGE_WITHIN_SIZE, TMPFS_HUGE_ADVISE };

struct tmpfs_opts {
	int size_set;            /* else tmpfs's default: half of RAM */
	uint64_t size;           /* bytes, 0: no limit (as tmpfs) */
	unsigned size_percent;   /* 1..100 of RAM when set, else 0 */
	int nr_inodes_set;       /* else tmpfs's default: half of RAM's pages */
	uint64_t nr_inodes;      /* 0: no limit (as tmpfs) */
	int huge_set;            /* else tmpfs's default (never, unless sysfs forces) */
	enum tmpfs_huge huge;
	char mpol[64];           /* "" : tmpfs's default */
	mode_t mode;             /* of the root directory */
};

/* Defaults: nothing set, root mode 1777 (as /dev/shm and tmpfs). */
void tmpfs_opts_init(struct tmpfs_opts *o);

/* never | always | within_size | advise: 0 and *out, or -EINVAL. */
int tmpfs_parse_huge(const char *text, enum tmpfs_huge *out);
const char *tmpfs_huge_name(enum tmpfs_huge huge);

/* Whether text is a NUMA policy as tmpfs takes it: default, local,
 * prefer[:N], bind:NODELIST, interleave[:NODELIST],
 * weighted-interleave[:NODELIST], each mode with an optional =static or
 * =relative; NODELIST is N or N-M, comma-separated. Whether the nodes exist
 * is the kernel's to say, at mount. 0 or -EINVAL. */
int tmpfs_check_mpol(const char *text);

#define TMPFS_NOPTS 5

/* Option i (0 .. TMPFS_NOPTS-1) of o as fsconfig takes it: 1 with *key and
 * value filled, or 0 when o leaves it to tmpfs. */
int tmpfs_option(const struct tmpfs_opts *o, size_t i, const char **key, char *value,
		 size_t len);

/* Make the tmpfs: fsopen("tmpfs"), the options, FSCONFIG_CMD_CREATE,
 * fsmount (nodev, nosuid, noexec). Returns the mount's fd (an O_PATH fd of
 * its root; the caller owns it), or -errno with why filled: the kernel's own
 * message for a refused option, and a hint for -EPERM (CAP_SYS_ADMIN). */
int tmpfs_mount(const struct tmpfs_opts *o, char *why, size_t len);

#endif
