/* config: the [shmfs] settings, from an INI file (inih) and -o key=value.
 *
 * Parsing takes two passes: the inih handler only records each key with its
 * line, then config_validate() checks every value and reports each problem as
 * "ORIGIN:LINE: what is wrong" into cfg->errors. */
#ifndef SHMFS_CONFIG_H
#define SHMFS_CONFIG_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "kinds.h"
#include "tmpfs.h"

enum passthrough_mode { PASSTHROUGH_AUTO, PASSTHROUGH_ON, PASSTHROUGH_OFF };
/* The kernel transport: FUSE over io_uring, or read/write of /dev/fuse. */
enum uring_mode { URING_AUTO, URING_ON, URING_OFF };

/* A name of the root grafted from the config: [segment NAME] or [dir NAME]. */
struct config_graft {
	char name[NAME_MAX + 1];
	int is_dir;                 /* [dir NAME]; else [segment NAME] */
	char path[PATH_MAX];        /* the file or directory on disk; "" for shm */
	enum store_backend backend;
	enum lifetime lifetime;
	uint64_t size;              /* segments: the declared size */
	mode_t mode;
	uid_t uid;                  /* (uid_t)-1: whoever runs the daemon */
	gid_t gid;                  /* (gid_t)-1: likewise */
	int prefault;               /* segments: populate the pages at mount */
	struct tmpfs_opts tmpfs;    /* dirs with store = private */
	char origin[PATH_MAX];      /* where it was declared, for messages */
	int line;
	/* Lines of the keys given (0: not given), to blame the right one. */
	int path_line, lifetime_line, backend_line, size_line;
	int store_line, tmpfs_line; /* store; the first of size, nr_inodes, huge, mpol */
};

#define CONFIG_ERRORS_MAX 4096

struct config_entry {
	char *section; /* as written between the brackets, e.g. "shmfs" */
	char *key;
	char *value;
	char origin[PATH_MAX]; /* file name, or "-o" */
	int line;              /* 0 for -o */
};

struct config {
	char shm_dir[PATH_MAX];
	char prefix[NAME_MAX + 1];
	enum passthrough_mode passthrough;
	enum uring_mode io_uring;
	enum lifetime lifetime;
	uint64_t max_segment_size;   /* 0: no limit */
	uint64_t max_total_size;     /* bytes, 0: no limit; see max_total_percent */
	unsigned max_total_percent;  /* 1..100 of RAM when set, else 0 */
	uint64_t max_segments;       /* 0: no limit */
	double attr_timeout;         /* seconds */
	int watch;                   /* watch the stores for direct changes (fs/watch.c) */
	int log_level;               /* enum log_level */
	char log[PATH_MAX];          /* auto, syslog, stderr or a file's path */
	enum store_backend store;    /* of the root: STORE_SHM or STORE_PRIVATE */
	struct tmpfs_opts tmpfs;     /* store = private */

	struct config_graft *grafts;  /* in the order declared */
	size_t ngrafts;

	struct config_entry *entries; /* pass one: what the files and -o said */
	size_t nentries;
	char errors[CONFIG_ERRORS_MAX]; /* pass two: one line per problem */
	int nerrors;
};

void config_init(struct config *cfg);
void config_free(struct config *cfg);

/* Pass one. Record the keys of an INI text or file; syntax errors and keys
 * outside a section are reported at once. Return 0, or -1 with errors. */
int config_read_string(struct config *cfg, const char *text, const char *origin);
int config_read_file(struct config *cfg, const char *path);
/* Record one "key=value" of section [shmfs] given with -o. */
int config_add_option(struct config *cfg, const char *key, const char *value);
/* Whether key is a key of section [shmfs] (so -o key=value belongs to us). */
int config_is_shmfs_key(const char *key);

/* Pass two: check every recorded entry and fill the settings, later entries
 * overriding earlier ones. Return 0, or -1 when cfg->errors has lines. */
int config_validate(struct config *cfg);

/* A key's setter: check value, store it, or write why it is wrong and
 * return -1. */
typedef int (*config_setter)(struct config *cfg, const char *value, char *why, size_t len);

/* Add "ORIGIN:LINE: what" to cfg->errors (line 0: "ORIGIN: what"). */
void config_error(struct config *cfg, const char *origin, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Print the effective settings as an INI [shmfs] section. */
void config_print(const struct config *cfg, FILE *out);

/* "64M", "16G", "4096": K M G T are powers of 1024, an optional "B" or "iB"
 * may follow. Return 0, -EINVAL (not a size) or -ERANGE (too large). */
int config_parse_size(const char *text, uint64_t *out);

/* The byte limit max_total_size stands for, given the machine's RAM. */
uint64_t config_total_limit(const struct config *cfg, uint64_t ram_bytes);

/* The graft declared under name, or NULL. */
const struct config_graft *config_find_graft(const struct config *cfg, const char *name);

const char *config_passthrough_name(enum passthrough_mode mode);
/* lifetime_name (lib/kinds.h), as older callers name it. */
static inline const char *config_lifetime_name(enum lifetime lifetime)
{
	return lifetime_name(lifetime);
}
const char *config_uring_name(enum uring_mode mode);

#endif
