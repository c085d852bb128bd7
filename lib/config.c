#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* inih hands lines of at most this many bytes (INI_MAX_LINE - 1). */
#define CONFIG_LINE_MAX 199

struct config_reader {
	struct config *cfg;
	const char *origin;
	const char *next; /* rest of the text */
	int line;         /* number of the line last handed to inih */
};

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
	cfg->lifetime = LIFETIME_KERNEL;
	cfg->attr_timeout = 1.0;
	cfg->log_level = LOG_LEVEL_INFO;
	strcpy(cfg->log, "auto");
	cfg->store = STORE_SHM;
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

/* Arrays grow by doubling: they are full when their length is 0 or a power
 * of two (configs may be long and machine-made). */
static int config_grows(size_t n)
{
	return (n & (n - 1)) == 0;
}

static size_t config_grown(size_t n)
{
	return n < 8 ? 8 : 2 * n;
}

/* A string -> index table with open addressing, to find what an entry
 * repeats in constant time. */
struct strindex {
	char **keys;
	size_t *vals;
	size_t cap, n;
};

static size_t strindex_hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The slot of key, or of the free place for it. */
static size_t strindex_slot(const struct strindex *t, const char *key)
{
	size_t i = strindex_hash(key) & (t->cap - 1);

	while (t->keys[i] && strcmp(t->keys[i], key) != 0)
		i = (i + 1) & (t->cap - 1);
	return i;
}

/* 1 and *val when key is there; else adds key -> val and returns 0, or
 * -ENOMEM. */
static int strindex_get_or_put(struct strindex *t, const char *key, size_t val, size_t *found)
{
	size_t i;

	if (2 * (t->n + 1) > t->cap) {
		struct strindex bigger = { .cap = t->cap ? 2 * t->cap : 64 };

		bigger.keys = calloc(bigger.cap, sizeof(*bigger.keys));
		bigger.vals = calloc(bigger.cap, sizeof(*bigger.vals));
		if (!bigger.keys || !bigger.vals) {
			free(bigger.keys);
			free(bigger.vals);
			return -ENOMEM;
		}
		for (size_t j = 0; j < t->cap; j++) {
			if (t->keys[j]) {
				size_t k = strindex_slot(&bigger, t->keys[j]);

				bigger.keys[k] = t->keys[j];
				bigger.vals[k] = t->vals[j];
			}
		}
		bigger.n = t->n;
		free(t->keys);
		free(t->vals);
		*t = bigger;
	}
	i = strindex_slot(t, key);
	if (t->keys[i]) {
		*found = t->vals[i];
		return 1;
	}
	t->keys[i] = strdup(key);
	if (!t->keys[i])
		return -ENOMEM;
	t->vals[i] = val;
	t->n++;
	return 0;
}

static void strindex_free(struct strindex *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->keys[i]);
	free(t->keys);
	free(t->vals);
	memset(t, 0, sizeof(*t));
}

/* Record one entry; key NULL marks a section header. */
static int config_record(struct config *cfg, const char *origin, int line,
			 const char *section, const char *key, const char *value)
{
	struct config_entry *grown, *e;

	if (config_grows(cfg->nentries)) {
		grown = realloc(cfg->entries, config_grown(cfg->nentries) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		cfg->entries = grown;
	}
	e = &cfg->entries[cfg->nentries];
	memset(e, 0, sizeof(*e));
	e->section = strdup(section);
	e->key = key ? strdup(key) : NULL;
	e->value = value ? strdup(value) : NULL;
	snprintf(e->origin, sizeof(e->origin), "%s", origin);
	e->line = line;
	if (!e->section || (key && !e->key) || (value && !e->value)) {
		free(e->section);
		free(e->key);
		free(e->value);
		return -ENOMEM;
	}
	cfg->nentries++;
	return 0;
}

/* A line "[name]" (after blanks) gives the section name inih will report. */
static void config_note_section(struct config_reader *r, const char *line)
{
	const char *start, *end;
	char name[CONFIG_LINE_MAX + 1];
	size_t len;

	while (isspace((unsigned char)*line))
		line++;
	if (*line != '[')
		return;
	start = line + 1;
	end = strchr(start, ']');
	if (!end)
		return; /* inih reports the syntax error */
	len = (size_t)(end - start); /* inih keeps blanks inside the brackets */
	memcpy(name, start, len);
	name[len] = '\0';
	config_record(r->cfg, r->origin, r->line, name, NULL, NULL);
}

/* inih's reader: hands over one line at a time, so that r->line is the line
 * of every key the handler sees, and notes section headers (inih does not
 * report a section that has no keys). */
static char *config_reader_next(char *buf, int size, void *stream)
{
	struct config_reader *r = stream;
	const char *end;
	size_t len, keep;

	if (!r->next || !*r->next)
		return NULL;
	end = strchr(r->next, '\n');
	len = end ? (size_t)(end - r->next) + 1 : strlen(r->next);
	r->line++;
	keep = len;
	if (end && keep == (size_t)size)
		keep--; /* the newline does not fit, and inih does not need it */
	if (keep > (size_t)size - 1) {
		config_error(r->cfg, r->origin, r->line,
			     "line longer than %d characters", CONFIG_LINE_MAX);
		keep = (size_t)size - 2;
		memcpy(buf, r->next, keep);
		buf[keep++] = '\n';
	} else {
		memcpy(buf, r->next, keep);
	}
	buf[keep] = '\0';
	r->next += len;
	config_note_section(r, buf);
	return buf;
}

static int config_handler(void *user, const char *section, const char *key,
			  const char *value)
{
	struct config_reader *r = user;

	if (!*section) {
		config_error(r->cfg, r->origin, r->line,
			     "key '%s' outside of any section", key);
		return 1;
	}
	if (config_record(r->cfg, r->origin, r->line, section, key, value))
		return 0;
	return 1;
}

int config_read_string(struct config *cfg, const char *text, const char *origin)
{
	struct config_reader r = { .cfg = cfg, .origin = origin, .next = text };
	int before = cfg->nerrors;
	int rc;

	/* Keys go to r, lines come from r: the handler's user is the reader. */
	rc = ini_parse_stream(config_reader_next, &r, config_handler, &r);
	if (rc > 0)
		config_error(cfg, origin, rc, "syntax error (expected [section] or key = value)");
	else if (rc < 0)
		config_error(cfg, origin, 0, "out of memory");
	return cfg->nerrors > before ? -1 : 0;
}

/* A config says what a root daemon does (which directories it sweeps,
 * whose segments it makes): one that another user could write is refused. */
static int config_check_owner(struct config *cfg, const char *path, const struct stat *st)
{
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		config_error(cfg, path, 0, "writable by %s (mode %04o): other users could make the "
			     "daemon act for them; chmod go-w %s",
			     st->st_mode & S_IWOTH ? "others" : "its group",
			     (unsigned)(st->st_mode & 07777), path);
		return -1;
	}
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		config_error(cfg, path, 0, "owned by uid %u, neither root nor the daemon's user "
			     "(uid %u): that user could make the daemon act for them",
			     (unsigned)st->st_uid, (unsigned)geteuid());
		return -1;
	}
	return 0;
}

int config_read_file(struct config *cfg, const char *path)
{
	struct stat st;
	FILE *f;
	char *text;
	long len;
	int rc;

	f = fopen(path, "r");
	if (!f) {
		config_error(cfg, path, 0, "%s", strerror(errno));
		return -1;
	}
	/* fopen succeeds on a directory, and its "size" can be LONG_MAX. */
	if (!fstat(fileno(f), &st) && S_ISDIR(st.st_mode)) {
		config_error(cfg, path, 0, "%s", strerror(EISDIR));
		fclose(f);
		return -1;
	}
	if (config_check_owner(cfg, path, &st)) {
		fclose(f);
		return -1;
	}
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		config_error(cfg, path, 0, "cannot read: %s", strerror(errno));
		fclose(f);
		return -1;
	}
	text = malloc((size_t)len + 1);
	if (!text || fread(text, 1, (size_t)len, f) != (size_t)len) {
		config_error(cfg, path, 0, "cannot read: %s", text ? strerror(errno) : "out of memory");
		free(text);
		fclose(f);
		return -1;
	}
	fclose(f);
	text[len] = '\0';
	if (strlen(text) != (size_t)len) {
		config_error(cfg, path, 0, "not a text file (contains a NUL byte)");
		free(text);
		return -1;
	}
	rc = config_read_string(cfg, text, path);
	free(text);
	return rc;
}

int config_add_option(struct config *cfg, const char *key, const char *value)
{
	return config_record(cfg, "-o", 0, "shmfs", key, value) ? -1 : 0;
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
static const char *const lifetime_names[] = { "kernel", "disk", "mount", "process" };

const char *config_passthrough_name(enum passthrough_mode mode)
{
	return passthrough_names[mode];
}

const char *config_uring_name(enum uring_mode mode)
{
	return passthrough_names[mode]; /* the same three words */
}

const char *config_lifetime_name(enum lifetime lifetime)
{
	return lifetime_names[lifetime];
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
	int i = config_choice(value, lifetime_names, 4);

	if (i != LIFETIME_KERNEL && i != LIFETIME_MOUNT) {
		snprintf(why, len, "lifetime of the root store must be kernel or mount, not '%s'", value);
		return -1;
	}
	cfg->lifetime = (enum lifetime)i;
	return 0;
}

/* A size; "0" means no limit. */
static int size_value(const char *key, const char *value, uint64_t *out, char *why, size_t len)
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
	return size_value("max_segment_size", value, &cfg->max_segment_size, why, len);
}

static int set_max_total_size(struct config *cfg, const char *value, char *why, size_t len)
{
	const char *pct = strchr(value, '%');
	char *end;
	long n;

	if (!pct) {
		cfg->max_total_percent = 0;
		return size_value("max_total_size", value, &cfg->max_total_size, why, len);
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

static int set_log_level(struct config *cfg, const char *value, char *why, size_t len)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	int i = config_choice(value, names, 4);

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

/* A graft's name as a section gives it, without blanks around it; longer
 * than NAME_MAX it is cut to NAME_MAX + 1 characters (and then refused). */
typedef char graft_name[NAME_MAX + 2];

/* "segment NAME" and "dir NAME": the kind, and NAME in name. */
static int config_graft_section(const char *section, int *is_dir, graft_name name)
{
	static const struct {
		const char *word;
		int is_dir;
	} kinds[] = { { "segment", 0 }, { "dir", 1 } };

	for (size_t i = 0; i < 2; i++) {
		size_t n = strlen(kinds[i].word);

		if (strncmp(section, kinds[i].word, n) == 0 && isspace((unsigned char)section[n])) {
			const char *p = section + n;
			size_t len;

			while (isspace((unsigned char)*p))
				p++;
			len = strlen(p);
			while (len && isspace((unsigned char)p[len - 1]))
				len--;
			if (len > NAME_MAX + 1)
				len = NAME_MAX + 1;
			memcpy(name, p, len);
			name[len] = '\0';
			*is_dir = kinds[i].is_dir;
			return 1;
		}
	}
	return 0;
}

static int config_known_section(const char *section)
{
	int is_dir;
	graft_name name;

	return strcmp(section, "shmfs") == 0 || config_graft_section(section, &is_dir, name);
}

const struct config_graft *config_find_graft(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ngrafts; i++)
		if (strcmp(cfg->grafts[i].name, name) == 0)
			return &cfg->grafts[i];
	return NULL;
}

/* The graft a section header declares: checks the name, adds the graft.
 * names maps graft names to their index in cfg->grafts. */
static void config_add_graft(struct config *cfg, const struct config_entry *e,
			     struct strindex *names)
{
	const struct config_graft *other;
	struct config_graft *g, *grown;
	graft_name name;
	size_t found;
	int is_dir, rc;

	config_graft_section(e->section, &is_dir, name);
	if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		config_error(cfg, e->origin, e->line,
			     "[%s]: the name must be one path component, without '/'", e->section);
		return;
	}
	if (strlen(name) > NAME_MAX) {
		config_error(cfg, e->origin, e->line, "[%s]: the name is too long", e->section);
		return;
	}
	rc = strindex_get_or_put(names, name, cfg->ngrafts, &found);
	if (rc == 1) {
		other = &cfg->grafts[found];
		config_error(cfg, e->origin, e->line, "[%s]: '%s' is already declared at %s:%d",
			     e->section, name, other->origin, other->line);
		return;
	}
	grown = rc ? NULL : cfg->grafts;
	if (!rc && config_grows(cfg->ngrafts))
		grown = realloc(cfg->grafts, config_grown(cfg->ngrafts) * sizeof(*grown));
	if (!grown) {
		config_error(cfg, e->origin, e->line, "out of memory");
		return;
	}
	cfg->grafts = grown;
	g = &cfg->grafts[cfg->ngrafts++];
	memset(g, 0, sizeof(*g));
	strcpy(g->name, name);
	g->is_dir = is_dir;
	g->uid = (uid_t)-1;
	g->gid = (gid_t)-1;
	g->mode = is_dir ? 0755 : 0600;
	snprintf(g->origin, sizeof(g->origin), "%s", e->origin);
	g->line = e->line;
}

/* The graft of a key's section, if its header was accepted. */
static struct config_graft *config_graft_of(struct config *cfg, const struct config_entry *e,
					    struct strindex *names)
{
	struct config_graft *g;
	graft_name name;
	size_t i;
	int is_dir;

	if (!config_graft_section(e->section, &is_dir, name) || !names->cap)
		return NULL;
	i = strindex_slot(names, name);
	if (!names->keys[i])
		return NULL;
	g = &cfg->grafts[names->vals[i]];
	return g->is_dir == is_dir && strcmp(g->origin, e->origin) == 0 ? g : NULL;
}

static int parse_yes_no(const char *value, int *out)
{
	if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "on") ||
	    !strcmp(value, "1"))
		*out = 1;
	else if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "off") ||
		 !strcmp(value, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

/* A user or group by name or number. */
static int parse_id(const char *value, int group, unsigned *out)
{
	unsigned long n;
	char *end;

	if (isdigit((unsigned char)*value)) {
		errno = 0;
		n = strtoul(value, &end, 10);
		if (*end || errno || n >= (unsigned)-1)
			return -1;
		*out = (unsigned)n;
		return 0;
	}
	if (group) {
		struct group *gr = getgrnam(value);

		if (!gr)
			return -1;
		*out = gr->gr_gid;
	} else {
		struct passwd *pw = getpwnam(value);

		if (!pw)
			return -1;
		*out = pw->pw_uid;
	}
	return 0;
}

/* One key of a [segment] or [dir] section. */
static int config_set_graft_key(struct config_graft *g, const struct config_entry *e,
				char *why, size_t len)
{
	const char *key = e->key, *value = e->value;
	char *end;
	int i, known;

	if (strcmp(key, "path") == 0) {
		if (value[0] != '/' || strlen(value) >= sizeof(g->path)) {
			snprintf(why, len, "path must be an absolute path, not '%s'", value);
			return -1;
		}
		strcpy(g->path, value);
		g->path_line = e->line;
	} else if (strcmp(key, "lifetime") == 0) {
		i = config_choice(value, lifetime_names, 4);
		if (i < 0) {
			snprintf(why, len, "lifetime must be kernel, disk, mount or process, not '%s'",
				 value);
			return -1;
		}
		g->lifetime = (enum lifetime)i;
		g->lifetime_line = e->line;
	} else if (strcmp(key, "mode") == 0) {
		errno = 0;
		unsigned long m = strtoul(value, &end, 8);

		if (!isdigit((unsigned char)*value) || *end || errno || m > 07777) {
			snprintf(why, len, "mode must be octal such as 0660, not '%s'", value);
			return -1;
		}
		g->mode = (mode_t)m;
	} else if (strcmp(key, "owner") == 0 || strcmp(key, "group") == 0) {
		int group = key[0] == 'g';
		unsigned id;

		if (parse_id(value, group, &id)) {
			snprintf(why, len, "%s: no such %s '%s'", key, group ? "group" : "user", value);
			return -1;
		}
		if (group)
			g->gid = id;
		else
			g->uid = id;
	} else if (g->is_dir) {
		i = config_store_graft_key(g, e, &known, why, len);
		if (known)
			return i;
		snprintf(why, len, "unknown key '%s' in [dir %s] (known: path, lifetime, mode, owner, "
			 "group, store, size, nr_inodes, huge, mpol)", key, g->name);
		return -1;
	} else if (strcmp(key, "size") == 0) {
		g->size_line = e->line;
		return size_value("size", value, &g->size, why, len);
	} else if (strcmp(key, "backend") == 0) {
		if (strcmp(value, "shm") && strcmp(value, "file")) {
			snprintf(why, len, "backend must be shm or file, not '%s'", value);
			return -1;
		}
		g->backend = value[0] == 's' ? STORE_SHM : STORE_FILE;
		g->backend_line = e->line;
	} else if (strcmp(key, "prefault") == 0) {
		if (parse_yes_no(value, &g->prefault)) {
			snprintf(why, len, "prefault must be yes or no, not '%s'", value);
			return -1;
		}
	} else {
		snprintf(why, len, "unknown key '%s' in [segment %s] (known: size, mode, owner, "
			 "group, backend, path, prefault, lifetime)", key, g->name);
		return -1;
	}
	return 0;
}

/* What kind of object path may be: -1 missing parent etc. (why is set). */
/* Refuse "." and ".." components and symbolic links anywhere on the way:
 * a graft is exactly the path written, never somewhere it leads. */
static int config_check_components(const char *path, char *why, size_t len)
{
	char prefix[PATH_MAX];
	const char *p = path;
	struct stat st;

	for (p = path; *p; p += strcspn(p, "/")) {
		p += strspn(p, "/");
		if ((p[0] == '.' && (p[1] == '/' || !p[1])) ||
		    (p[0] == '.' && p[1] == '.' && (p[2] == '/' || !p[2]))) {
			snprintf(why, len, "path %s: '.' and '..' are not allowed in it", path);
			return -1;
		}
	}
	p = path;
	while (*p) {
		const char *start = p + strspn(p, "/");
		size_t n = strcspn(start, "/");

		p = start + n;
		if (n == 0)
			break;
		memcpy(prefix, path, (size_t)(p - path));
		prefix[p - path] = '\0';
		if (lstat(prefix, &st))
			break; /* missing from here on: made at mount, or refused below */
		if (S_ISLNK(st.st_mode)) {
			snprintf(why, len, "path %s: %s is a symbolic link; give the real path", path,
				 prefix);
			return -1;
		}
	}
	return 0;
}

static int config_check_path(const struct config_graft *g, char *why, size_t len)
{
	char parent[PATH_MAX], *slash;
	struct stat st;

	if (config_check_components(g->path, why, len))
		return -1;
	if (lstat(g->path, &st) == 0) {
		if (S_ISLNK(st.st_mode)) {
			snprintf(why, len, "path %s is a symbolic link; give the real path", g->path);
			return -1;
		}
		if (g->is_dir && !S_ISDIR(st.st_mode)) {
			snprintf(why, len, "path %s is not a directory", g->path);
			return -1;
		}
		if (!g->is_dir && !S_ISREG(st.st_mode)) {
			snprintf(why, len, "path %s is not a regular file", g->path);
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT) {
		snprintf(why, len, "path %s: %s", g->path, strerror(errno));
		return -1;
	}
	if (g->is_dir)
		return 0; /* made at mount, parents too */
	strcpy(parent, g->path);
	slash = strrchr(parent, '/');
	if (slash == parent)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(parent, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(why, len, "path %s: the directory %s does not exist", g->path, parent);
		return -1;
	}
	return 0;
}

/* Defaults and cross-key rules of a graft, once all its keys are known. */
/* The line of a key if it was given, else of the section header. */
static int key_line(const struct config_graft *g, int line)
{
	return line ? line : g->line;
}

/* *line: where the problem is, the key's line where one key is to blame. */
static int config_finish_graft(const struct config *cfg, struct config_graft *g,
			       char *why, size_t len, int *line, struct strindex *paths)
{
	size_t found;
	static const unsigned allowed[2][3] = {
		/* segment: shm, file, private (none) */
		{ 1u << LIFETIME_KERNEL | 1u << LIFETIME_MOUNT,
		  1u << LIFETIME_DISK | 1u << LIFETIME_MOUNT, 0 },
		/* dir: shm, file, private */
		{ 1u << LIFETIME_KERNEL | 1u << LIFETIME_MOUNT | 1u << LIFETIME_PROCESS,
		  1u << LIFETIME_DISK | 1u << LIFETIME_MOUNT | 1u << LIFETIME_PROCESS,
		  1u << LIFETIME_MOUNT },
	};
	static const char *const kinds[] = { "shm", "file-backed", "private" };
	const char *kind = g->is_dir ? "dir" : "segment";

	if (g->is_dir && g->backend != STORE_PRIVATE)
		g->backend = g->path[0] ? STORE_FILE : STORE_SHM;
	*line = g->line;
	if (!g->is_dir && g->backend == STORE_FILE && !g->path[0]) {
		*line = key_line(g, g->backend_line);
		snprintf(why, len, "[segment %s]: backend = file needs a path", g->name);
		return -1;
	}
	if (!g->is_dir && g->backend == STORE_SHM && g->path[0]) {
		*line = key_line(g, g->path_line);
		snprintf(why, len, "[segment %s]: path is for backend = file only", g->name);
		return -1;
	}
	if (!g->lifetime_line)
		g->lifetime = g->backend == STORE_FILE ? LIFETIME_DISK : LIFETIME_KERNEL;
	if (config_store_finish_graft(cfg, g, why, len, line))
		return -1;
	if (!(allowed[g->is_dir][g->backend] & (1u << g->lifetime))) {
		*line = key_line(g, g->lifetime_line);
		snprintf(why, len, "[%s %s]: lifetime = %s is not possible for a %s %s%s", kind,
			 g->name, lifetime_names[g->lifetime], kinds[g->backend], kind,
			 !g->is_dir && g->lifetime == LIFETIME_PROCESS
				 ? " (declared segments are pinned; use a [dir] with lifetime = process)"
				 : "");
		return -1;
	}
	if (strlen(cfg->prefix) + strlen(g->name) > NAME_MAX) {
		snprintf(why, len, "[%s %s]: the name is too long with prefix '%s'", kind, g->name,
			 cfg->prefix);
		return -1;
	}
	if (cfg->max_segment_size && g->size > cfg->max_segment_size) {
		*line = key_line(g, g->size_line);
		snprintf(why, len, "[segment %s]: size is larger than max_segment_size", g->name);
		return -1;
	}
	*line = key_line(g, g->path_line);
	if (g->path[0] && config_check_path(g, why, len))
		return -1;
	if (g->path[0] && strindex_get_or_put(paths, g->path, (size_t)(g - cfg->grafts),
					      &found) == 1) {
		const struct config_graft *o = &cfg->grafts[found];

		snprintf(why, len, "[%s %s]: path %s is also the path of '%s' (line %d)", kind,
			 g->name, g->path, o->name, o->line);
		return -1;
	}
	return 0;
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

/* The last entry of [shmfs] key, or NULL. */
static const struct config_entry *config_last(const struct config *cfg, const char *key)
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
	const struct config_entry *e = config_last(cfg, "lifetime");
	struct stat st;

	if (cfg->store == STORE_PRIVATE || cfg->lifetime != LIFETIME_MOUNT || cfg->prefix[0] ||
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
	static const char *const levels[] = { "error", "warn", "info", "debug" };

	fprintf(out, "[shmfs]\n");
	if (cfg->store == STORE_PRIVATE) {
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
	fprintf(out, "log_level = %s\n", levels[cfg->log_level]);
	fprintf(out, "log = %s\n", cfg->log);
	for (size_t i = 0; i < cfg->ngrafts; i++) {
		const struct config_graft *g = &cfg->grafts[i];

		fprintf(out, "\n[%s %s]\n", g->is_dir ? "dir" : "segment", g->name);
		if (!g->is_dir) {
			print_size(out, "size", g->size);
			fprintf(out, "backend = %s\n", g->backend == STORE_FILE ? "file" : "shm");
			fprintf(out, "prefault = %s\n", g->prefault ? "yes" : "no");
		}
		if (g->backend == STORE_PRIVATE)
			config_store_print(&g->tmpfs, 0, out);
		if (g->path[0])
			fprintf(out, "path = %s\n", g->path);
		fprintf(out, "lifetime = %s\n", lifetime_names[g->lifetime]);
		fprintf(out, "mode = %04o\n", (unsigned)g->mode);
		if (g->uid != (uid_t)-1)
			fprintf(out, "owner = %u\n", (unsigned)g->uid);
		if (g->gid != (gid_t)-1)
			fprintf(out, "group = %u\n", (unsigned)g->gid);
	}
}
