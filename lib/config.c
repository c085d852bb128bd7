/* config.c: pass two of the config loader (config_validate), the keys of
 * [shmfs] as a table of setters, and config_print. The entries come from
 * lib/config_read.c; grafts are checked by lib/config_graft.c. */
#include "config_parts.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

void config_error(struct config *cfg, const char *origin, int line, const char *fmt, ...)
{
	size_t used = strlen(cfg->errors);
	size_t room = sizeof(cfg->errors) - used;
	va_list ap;
	int n;

	cfg->nerrors++;
	if (line > 0)
		n = snprintf(cfg->errors + used, room, "%s:%d: ", origin, line);
	else
		n = snprintf(cfg->errors + used, room, "%s: ", origin);
	if (n < 0 || (size_t)n >= room)
		return;
	used += n;
	room -= n;
	va_start(ap, fmt);
	n = vsnprintf(cfg->errors + used, room, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < room - 1)
		strcat(cfg->errors, "\n");
}

void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->shm_dir, "/dev/shm");
	strcpy(cfg->prefix, "shmfs.");
	cfg->passthrough = PASSTHROUGH_AUTO;
	cfg->attr_timeout = 1.0;
	cfg->watch = 1;
	cfg->log_level = LOG_LEVEL_INFO;
	strcpy(cfg->log, "auto");
	cfg->store = STORE_SHM;
	cfg->lifetime = store_kind_lasting(cfg->store);
	tmpfs_opts_init(&cfg->tmpfs);
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->nentries; i++) {
		free(cfg->entries[i].section);
		free(cfg->entries[i].key);
		free(cfg->entries[i].value);
	}
	free(cfg->entries);
	cfg->entries = NULL;
	cfg->nentries = 0;
	free(cfg->grafts);
	cfg->grafts = NULL;
	cfg->ngrafts = 0;
}

int config_parse_size(const char *text, uint64_t *out)
{
	static const char units[] = "KMGT";
	unsigned long long n;
	const char *unit;
	char *end;
	int shift = 0;

	while (isspace((unsigned char)*text))
		text++;
	if (!isdigit((unsigned char)*text))
		return -EINVAL;
	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end && (unit = strchr(units, toupper((unsigned char)*end)))) {
		shift = 10 * (int)(unit - units + 1);
		end++;
		if (end[0] == 'i' && end[1] == 'B')
			end += 2;
		else if (*end == 'B')
			end++;
	} else if (*end == 'B') {
		end++;
	}
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return -EINVAL;
	if (shift && n > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)n << shift;
	return 0;
}

uint64_t config_total_limit(const struct config *cfg, uint64_t ram_bytes)
{
	if (cfg->max_total_percent)
		return ram_bytes / 100 * cfg->max_total_percent +
		       ram_bytes % 100 * cfg->max_total_percent / 100;
	return cfg->max_total_size;
}

static const char *const passthrough_names[] = { "auto", "on", "off" };
/* By enum log_level. */
static const char *const log_level_names[] = { "error", "warn", "info", "debug" };

const char *config_passthrough_name(enum passthrough_mode mode)
{
	return passthrough_names[mode];
}

const char *config_uring_name(enum uring_mode mode)
{
	return passthrough_names[mode]; /* the same three words */
}

/* Index of value in names[0..n), or -1. */
static int config_choice(const char *value, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(value, names[i]) == 0)
			return i;
	return -1;
}


static int set_shm_dir(struct config *cfg, const char *value, char *why, size_t len)
{
	struct stat st;

	if (value[0] != '/') {
		snprintf(why, len, "shm_dir must be an absolute path, not '%s'", value);
		return -1;
	}
	if (strlen(value) >= sizeof(cfg->shm_dir)) {
		snprintf(why, len, "shm_dir is too long");
		return -1;
	}
	if (stat(value, &st)) {
		snprintf(why, len, "shm_dir %s: %s", value, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, len, "shm_dir %s: not a directory", value);
		return -1;
	}
	strcpy(cfg->shm_dir, value);
	return 0;
}

static int set_prefix(struct config *cfg, const char *value, char *why, size_t len)
{
	if (strchr(value, '/')) {
		snprintf(why, len, "prefix must not contain '/': '%s'", value);
		return -1;
	}
	if (strlen(value) >= NAME_MAX) {
		snprintf(why, len, "prefix is longer than %d characters", NAME_MAX - 1);
		return -1;
	}
	strcpy(cfg->prefix, value);
	return 0;
}

static int set_passthrough(struct config *cfg, const char *value, char *why, size_t len)
{
	int i = config_choice(value, passthrough_names, 3);

	if (i < 0) {
		snprintf(why, len, "passthrough must be auto, on or off, not '%s'", value);
		return -1;
	}
	cfg->passthrough = (enum passthrough_mode)i;
	return 0;
}

static int set_io_uring(struct config *cfg, const char *value, char *why, size_t len)
{
	int i = config_choice(value, passthrough_names, 3);

	if (i < 0) {
		snprintf(why, len, "io_uring must be auto, on or off, not '%s'", value);
		return -1;
	}
	cfg->io_uring = (enum uring_mode)i;
	return 0;
}

static int set_lifetime(struct config *cfg, const char *value, char *why, size_t len)
{
	enum lifetime lt;
	char names[64];

	if (lifetime_parse(value, strlen(value), &lt) || !lifetime_given_at(lt, LIFETIME_AT_ROOT)) {
		snprintf(why, len, "lifetime of the root store must be %s, not '%s'",
			 lifetime_choices(LIFETIME_AT_ROOT, names, sizeof(names)), value);
		return -1;
	}
	cfg->lifetime = lt;
	return 0;
}

int config_size_value(const char *key, const char *value, uint64_t *out, char *why, size_t len)
{
	int rc = config_parse_size(value, out);

	if (rc == -ERANGE)
		snprintf(why, len, "%s is too large: '%s'", key, value);
	else if (rc)
		snprintf(why, len, "%s must be a size such as 4096, 64M or 16G, not '%s'", key, value);
	return rc ? -1 : 0;
}

static int set_max_segment_size(struct config *cfg, const char *value, char *why, size_t len)
{
	return config_size_value("max_segment_size", value, &cfg->max_segment_size, why, len);
}

static int set_max_total_size(struct config *cfg, const char *value, char *why, size_t len)
{
	const char *pct = strchr(value, '%');
	char *end;
	long n;

	if (!pct) {
		cfg->max_total_percent = 0;
		return config_size_value("max_total_size", value, &cfg->max_total_size, why, len);
	}
	errno = 0;
	n = strtol(value, &end, 10);
	if (end != pct || pct[1] || errno || n < 1 || n > 100 || !isdigit((unsigned char)*value)) {
		snprintf(why, len, "max_total_size as a share of RAM must be 1%% to 100%%, not '%s'", value);
		return -1;
	}
	cfg->max_total_percent = (unsigned)n;
	cfg->max_total_size = 0;
	return 0;
}

static int set_max_segments(struct config *cfg, const char *value, char *why, size_t len)
{
	unsigned long long n;
	char *end;

	errno = 0;
	n = strtoull(value, &end, 10);
	if (!isdigit((unsigned char)*value) || *end || errno) {
		snprintf(why, len, "max_segments must be a whole number, not '%s'", value);
		return -1;
	}
	cfg->max_segments = n;
	return 0;
}

static int set_attr_timeout(struct config *cfg, const char *value, char *why, size_t len)
{
	char *end;
	double t;

	errno = 0;
	t = strtod(value, &end);
	if (end == value || *end || errno || !isfinite(t) || t < 0 || t > 86400) {
		snprintf(why, len, "attr_timeout must be seconds from 0 to 86400, not '%s'", value);
		return -1;
	}
	cfg->attr_timeout = t;
	return 0;
}

static int set_watch(struct config *cfg, const char *value, char *why, size_t len)
{
	static const char *const names[] = { "off", "on" };
	int i = config_choice(value, names, 2);

	if (i < 0) {
		snprintf(why, len, "watch must be on or off, not '%s'", value);
		return -1;
	}
	cfg->watch = i;
	return 0;
}

static int set_log_level(struct config *cfg, const char *value, char *why, size_t len)
{
	int i = config_choice(value, log_level_names, 4);

	if (i < 0) {
		snprintf(why, len, "log_level must be error, warn, info or debug, not '%s'", value);
		return -1;
	}
	cfg->log_level = i;
	return 0;
}

/* auto: stderr with -f, else syslog. A file is opened at start, not here. */
static int set_log(struct config *cfg, const char *value, char *why, size_t len)
{
	if (strcmp(value, "auto") != 0 && strcmp(value, "syslog") != 0 &&
	    strcmp(value, "stderr") != 0 && value[0] != '/') {
		snprintf(why, len, "log must be syslog, stderr or an absolute file path, not '%s'",
			 value);
		return -1;
	}
	if (strlen(value) >= sizeof(cfg->log)) {
		snprintf(why, len, "log is too long");
		return -1;
	}
	strcpy(cfg->log, value);
	return 0;
}

static const struct {
	const char *key;
	config_setter set;
} shmfs_keys[] = {
	{ "shm_dir", set_shm_dir },
	{ "prefix", set_prefix },
	{ "passthrough", set_passthrough },
	{ "io_uring", set_io_uring },
	{ "lifetime", set_lifetime },
	{ "max_segment_size", set_max_segment_size },
	{ "max_total_size", set_max_total_size },
	{ "max_segments", set_max_segments },
	{ "attr_timeout", set_attr_timeout },
	{ "watch", set_watch },
	{ "log_level", set_log_level },
	{ "log", set_log },
};

#define N_SHMFS_KEYS (sizeof(shmfs_keys) / sizeof(shmfs_keys[0]))

static config_setter config_shmfs_setter(const char *key)
{
	for (size_t i = 0; i < N_SHMFS_KEYS; i++)
		if (strcmp(key, shmfs_keys[i].key) == 0)
			return shmfs_keys[i].set;
	return config_store_setter(key);
}

int config_is_shmfs_key(const char *key)
{
	return config_shmfs_setter(key) != NULL;
}

/* The earlier entry of the same origin that entry i repeats (same section
 * header, or same key in the same section), or NULL. -o may repeat a key. */
static const struct config_entry *config_repeated(const struct config *cfg, size_t i,
						  struct strindex *seen)
{
	const struct config_entry *e = &cfg->entries[i];
	char *id;
	size_t found;
	int rc;

	if (e->line == 0)
		return NULL;
	/* Origin, section and key (or none, for a header), apart. */
	if (asprintf(&id, "%s\x1f%s\x1f%s%s", e->origin, e->section, e->key ? "=" : "[",
		     e->key ? e->key : "") < 0)
		return NULL;
	rc = strindex_get_or_put(seen, id, i, &found);
	free(id);
	return rc == 1 ? &cfg->entries[found] : NULL;
}

const struct config_entry *config_last_entry(const struct config *cfg, const char *key)
{
	for (size_t i = cfg->nentries; i-- > 0;) {
		const struct config_entry *e = &cfg->entries[i];

		if (e->key && strcmp(e->section, "shmfs") == 0 && strcmp(e->key, key) == 0)
			return e;
	}
	return NULL;
}

/* lifetime = mount with no prefix sweeps every name of shm_dir: refused
 * where anyone but root and the daemon's user can make names there (such
 * as /dev/shm), since those are other programs' objects. */
static void config_check_sweep(struct config *cfg)
{
	const struct config_entry *e = config_last_entry(cfg, "lifetime");
	struct stat st;

	if (!store_kind_swept(cfg->store) || !lifetime_marks_made(cfg->lifetime) || cfg->prefix[0] ||
	    !e || stat(cfg->shm_dir, &st))
		return;
	if (!(st.st_mode & (S_IWGRP | S_IWOTH)) && (st.st_uid == 0 || st.st_uid == geteuid()))
		return;
	config_error(cfg, e->origin, e->line,
		     "lifetime = mount with an empty prefix would sweep all of shm_dir %s, which "
		     "other users can write; set a prefix, or use a shm_dir only the daemon's "
		     "user can write", cfg->shm_dir);
}

int config_validate(struct config *cfg)
{
	struct strindex seen = { 0 }, names = { 0 }, paths = { 0 };
	int before = cfg->nerrors;
	char why[512];

	for (size_t i = 0; i < cfg->nentries; i++) {
		const struct config_entry *e = &cfg->entries[i];
		const struct config_entry *p = config_repeated(cfg, i, &seen);
		struct config_graft *g;
		config_setter set;

		if (!e->key) {
			if (!config_known_section(e->section))
				config_error(cfg, e->origin, e->line,
					     "unknown section [%s] (known: [shmfs], [segment NAME], "
					     "[dir NAME])", e->section);
			else if (p)
				config_error(cfg, e->origin, e->line,
					     "section [%s] given twice (first at line %d)",
					     e->section, p->line);
			else if (strcmp(e->section, "shmfs") != 0)
				config_add_graft(cfg, e, &names);
			continue;
		}
		if (!config_known_section(e->section))
			continue; /* reported at its header */
		if (p) {
			config_error(cfg, e->origin, e->line,
				     "key '%s' given twice (first at line %d)", e->key, p->line);
			continue;
		}
		if (strcmp(e->section, "shmfs") != 0) {
			g = config_graft_of(cfg, e, &names);
			if (g && config_set_graft_key(g, e, why, sizeof(why)))
				config_error(cfg, e->origin, e->line, "%s", why);
			continue;
		}
		set = config_shmfs_setter(e->key);
		if (!set) {
			config_error(cfg, e->origin, e->line, "unknown key '%s' in [%s]",
				     e->key, e->section);
			continue;
		}
		if (set(cfg, e->value, why, sizeof(why)))
			config_error(cfg, e->origin, e->line, "%s", why);
	}
	config_store_check(cfg);
	config_check_sweep(cfg);
	for (size_t i = 0; i < cfg->ngrafts; i++) {
		struct config_graft *g = &cfg->grafts[i];

		int line;

		if (config_finish_graft(cfg, g, why, sizeof(why), &line, &paths))
			config_error(cfg, g->origin, line, "%s", why);
	}
	strindex_free(&seen);
	strindex_free(&names);
	strindex_free(&paths);
	return cfg->nerrors > before ? -1 : 0;
}

static void print_size(FILE *out, const char *key, uint64_t bytes)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (bytes && u < 3 && (bytes & 1023) == 0) {
		bytes >>= 10;
		u++;
	}
	if (u < 0)
		fprintf(out, "%s = %llu\n", key, (unsigned long long)bytes);
	else
		fprintf(out, "%s = %llu%c\n", key, (unsigned long long)bytes, units[u]);
}

void config_print(const struct config *cfg, FILE *out)
{
	fprintf(out, "[shmfs]\n");
	if (store_kind_own_tmpfs(cfg->store)) {
		config_store_print(&cfg->tmpfs, 1, out);
	} else {
		fprintf(out, "shm_dir = %s\n", cfg->shm_dir);
		fprintf(out, "prefix = %s\n", cfg->prefix);
	}
	fprintf(out, "passthrough = %s\n", config_passthrough_name(cfg->passthrough));
	fprintf(out, "io_uring = %s\n", config_uring_name(cfg->io_uring));
	fprintf(out, "lifetime = %s\n", config_lifetime_name(cfg->lifetime));
	print_size(out, "max_segment_size", cfg->max_segment_size);
	if (cfg->max_total_percent)
		fprintf(out, "max_total_size = %u%%\n", cfg->max_total_percent);
	else
		print_size(out, "max_total_size", cfg->max_total_size);
	fprintf(out, "max_segments = %llu\n", (unsigned long long)cfg->max_segments);
	fprintf(out, "attr_timeout = %g\n", cfg->attr_timeout);
	fprintf(out, "watch = %s\n", cfg->watch ? "on" : "off");
	fprintf(out, "log_level = %s\n", log_level_names[cfg->log_level]);
	fprintf(out, "log = %s\n", cfg->log);
	for (size_t i = 0; i < cfg->ngrafts; i++) {
		const struct config_graft *g = &cfg->grafts[i];

		fprintf(out, "\n[%s %s]\n", g->is_dir ? "dir" : "segment", g->name);
		if (!g->is_dir) {
			print_size(out, "size", g->size);
			fprintf(out, "backend = %s\n", store_kind_name(g->backend));
			fprintf(out, "prefault = %s\n", g->prefault ? "yes" : "no");
		}
		if (store_kind_own_tmpfs(g->backend))
			config_store_print(&g->tmpfs, 0, out);
		if (g->path[0])
			fprintf(out, "path = %s\n", g->path);
		fprintf(out, "lifetime = %s\n", lifetime_name(g->lifetime));
		fprintf(out, "mode = %04o\n", (unsigned)g->mode);
		if (g->uid != (uid_t)-1)
			fprintf(out, "owner = %u\n", (unsigned)g->uid);
		if (g->gid != (gid_t)-1)
			fprintf(out, "group = %u\n", (unsigned)g->gid);
	}
}
