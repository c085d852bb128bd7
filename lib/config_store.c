/* config_store.c: the store kind of the root and of [dir NAME], and the
 * tmpfs options of private stores (size, nr_inodes, huge, mpol, mode),
 * named as a tmpfs user writes them. See config.h. */
#include "config_parts.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The tmpfs options, the same in [shmfs] and [dir NAME]. */
static const char *const tmpfs_keys[] = { "size", "nr_inodes", "huge", "mpol" };
#define N_TMPFS_KEYS (sizeof(tmpfs_keys) / sizeof(tmpfs_keys[0]))

static int is_tmpfs_key(const char *key)
{
	for (size_t i = 0; i < N_TMPFS_KEYS; i++)
		if (strcmp(key, tmpfs_keys[i]) == 0)
			return 1;
	return 0;
}

/* size: bytes (K M G T suffixes) or N% of RAM, as tmpfs takes it. */
static int tmpfs_set_size(struct tmpfs_opts *o, const char *value, char *why, size_t len)
{
	const char *pct = strchr(value, '%');
	char *end;
	long n;
	int rc;

	if (pct) {
		errno = 0;
		n = strtol(value, &end, 10);
		if (end != pct || pct[1] || errno || n < 1 || n > 100 ||
		    !isdigit((unsigned char)*value)) {
			snprintf(why, len, "size as a share of RAM must be 1%% to 100%%, not '%s'",
				 value);
			return -1;
		}
		o->size_percent = (unsigned)n;
		o->size = 0;
	} else {
		rc = config_parse_size(value, &o->size);
		if (rc) {
			snprintf(why, len, rc == -ERANGE ? "size is too large: '%s'"
				 : "size must be bytes such as 64M or 1G, or a share of RAM such as "
				   "25%%, not '%s'", value);
			return -1;
		}
		o->size_percent = 0;
	}
	o->size_set = 1;
	return 0;
}

/* One of tmpfs_keys into o: 0, or -1 with why. */
static int tmpfs_set(struct tmpfs_opts *o, const char *key, const char *value, char *why,
		     size_t len)
{
	if (strcmp(key, "size") == 0)
		return tmpfs_set_size(o, value, why, len);
	if (strcmp(key, "nr_inodes") == 0) {
		if (config_parse_size(value, &o->nr_inodes)) {
			snprintf(why, len, "nr_inodes must be a whole number (K M G suffixes), "
				 "0 for no limit, not '%s'", value);
			return -1;
		}
		o->nr_inodes_set = 1;
		return 0;
	}
	if (strcmp(key, "huge") == 0) {
		if (tmpfs_parse_huge(value, &o->huge)) {
			snprintf(why, len, "huge must be never, always, within_size or advise, not '%s'",
				 value);
			return -1;
		}
		o->huge_set = 1;
		return 0;
	}
	if (tmpfs_check_mpol(value) || strlen(value) >= sizeof(o->mpol)) {
		snprintf(why, len, "mpol must be default, local, prefer:N, bind:NODES, "
			 "interleave[:NODES] (NODES such as 0-1,3), not '%s'", value);
		return -1;
	}
	strcpy(o->mpol, value);
	return 0;
}

int config_store_kind(const char *name, enum store_key key, const char *value, const char *note,
		      enum store_backend *out, char *why, size_t len)
{
	char names[64];

	if (store_kind_parse(value, key, out) == 0)
		return 0;
	snprintf(why, len, "%s must be %s, not '%s'%s", name,
		 store_kind_choices(key, names, sizeof(names)), value, note);
	return -1;
}

static int set_store(struct config *cfg, const char *value, char *why, size_t len)
{
	return config_store_kind("store", STORE_KEY_STORE, value, "", &cfg->store, why, len);
}

static int set_size(struct config *cfg, const char *value, char *why, size_t len)
{
	return tmpfs_set(&cfg->tmpfs, "size", value, why, len);
}

static int set_nr_inodes(struct config *cfg, const char *value, char *why, size_t len)
{
	return tmpfs_set(&cfg->tmpfs, "nr_inodes", value, why, len);
}

static int set_huge(struct config *cfg, const char *value, char *why, size_t len)
{
	return tmpfs_set(&cfg->tmpfs, "huge", value, why, len);
}

static int set_mpol(struct config *cfg, const char *value, char *why, size_t len)
{
	return tmpfs_set(&cfg->tmpfs, "mpol", value, why, len);
}

/* mode: of the private store's root directory (default 1777, as /dev/shm). */
static int set_mode(struct config *cfg, const char *value, char *why, size_t len)
{
	unsigned long m;
	char *end;

	errno = 0;
	m = strtoul(value, &end, 8);
	if (!isdigit((unsigned char)*value) || *end || errno || m > 07777) {
		snprintf(why, len, "mode must be octal such as 1777, not '%s'", value);
		return -1;
	}
	cfg->tmpfs.mode = (mode_t)m;
	return 0;
}

config_setter config_store_setter(const char *key)
{
	static const struct {
		const char *key;
		config_setter set;
	} keys[] = {
		{ "store", set_store }, { "size", set_size }, { "nr_inodes", set_nr_inodes },
		{ "huge", set_huge }, { "mpol", set_mpol }, { "mode", set_mode },
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i].key) == 0)
			return keys[i].set;
	return NULL;
}

int config_store_graft_key(struct config_graft *g, const struct config_entry *e, int *known,
			   char *why, size_t len)
{
	*known = 1;
	if (strcmp(e->key, "store") == 0) {
		if (config_store_kind("store", STORE_KEY_STORE, e->value,
				      " (a [dir] with a path is on disk)", &g->backend, why, len))
			return -1;
		g->store_line = e->line;
		return 0;
	}
	if (!is_tmpfs_key(e->key)) {
		*known = 0;
		return 0;
	}
	if (!g->tmpfs_line)
		g->tmpfs_line = e->line;
	return tmpfs_set(&g->tmpfs, e->key, e->value, why, len);
}

void config_store_check(struct config *cfg)
{
	static const char *const private_keys[] = { "size", "nr_inodes", "huge", "mpol", "mode" };
	const struct config_entry *e;
	enum lifetime lt;

	if (store_kind_own_tmpfs(cfg->store)) {
		e = config_last_entry(cfg, "lifetime");
		/* (Values the root store cannot have are refused as they are.) */
		if (e && lifetime_parse(e->value, strlen(e->value), &lt) == 0 &&
		    lt != store_kind_lasting(cfg->store) && lifetime_given_at(lt, LIFETIME_AT_ROOT))
			config_error(cfg, e->origin, e->line,
				     "lifetime = %s is not possible with store = private: a private "
				     "store lives as long as the mount (lifetime = %s)", e->value,
				     lifetime_name(store_kind_lasting(cfg->store)));
		cfg->lifetime = store_kind_lasting(cfg->store);
		/* No directory, and no names shared with anyone: shm_dir and
		 * prefix do not apply (documented as ignored). */
		cfg->prefix[0] = '\0';
		return;
	}
	for (size_t i = 0; i < sizeof(private_keys) / sizeof(private_keys[0]); i++) {
		e = config_last_entry(cfg, private_keys[i]);
		if (e)
			config_error(cfg, e->origin, e->line,
				     "%s is an option of store = private (a tmpfs of the mount's own); "
				     "the limit of a shm store is max_total_size", e->key);
	}
}

int config_store_finish_graft(const struct config *cfg, struct config_graft *g, char *why,
			      size_t len, int *line)
{
	if (store_kind_own_tmpfs(g->backend)) {
		if (g->path[0]) {
			*line = g->path_line;
			snprintf(why, len, "[dir %s]: a private store has no path", g->name);
			return -1;
		}
		g->tmpfs.mode = g->mode; /* (its lifetime is checked with the others') */
		return 0;
	}
	if (g->tmpfs_line) {
		*line = g->tmpfs_line;
		snprintf(why, len, "[dir %s]: size, nr_inodes, huge and mpol are options of "
			 "store = private", g->name);
		return -1;
	}
	/* In a private root, shm grafts live in its tmpfs: gone with the mount.
	 * (Other lifetimes a shm graft cannot have are refused as they are.) */
	if (store_kind_own_tmpfs(cfg->store) && store_kind_backing(g->backend) == STORE_BACKED_BY_SHM) {
		if (!g->lifetime_line)
			g->lifetime = store_kind_lasting(cfg->store);
		if (g->lifetime == store_kind_lasting(g->backend)) {
			*line = g->lifetime_line;
			snprintf(why, len, "[%s %s]: lifetime = %s is not possible in a private "
				 "root store (it lives as long as the mount)",
				 g->is_dir ? "dir" : "segment", g->name, lifetime_name(g->lifetime));
			return -1;
		}
	}
	return 0;
}

void config_store_print(const struct tmpfs_opts *o, int with_mode, FILE *out)
{
	char value[80];
	const char *key;

	fprintf(out, "store = private\n");
	for (size_t i = 0; i < TMPFS_NOPTS; i++)
		if (tmpfs_option(o, i, &key, value, sizeof(value)) &&
		    (with_mode || strcmp(key, "mode") != 0))
			fprintf(out, "%s = %s\n", key, value);
}
