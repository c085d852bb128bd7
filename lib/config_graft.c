/* config_graft.c: the sections [segment NAME] and [dir NAME] of the config
 * (names grafted into the root): their headers, their keys as a table of
 * setters, and the checks once all their keys are known. See config.h. */
#include "config_parts.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

int config_known_section(const char *section)
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

void config_add_graft(struct config *cfg, const struct config_entry *e, struct strindex *names)
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

struct config_graft *config_graft_of(struct config *cfg, const struct config_entry *e,
				     const struct strindex *names)
{
	struct config_graft *g;
	graft_name name;
	size_t i;
	int is_dir;

	if (!config_graft_section(e->section, &is_dir, name) || !strindex_get(names, name, &i))
		return NULL;
	g = &cfg->grafts[i];
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

/* The keys of [segment NAME] and [dir NAME]: each sets one field of the
 * graft from e->value, or writes why it is wrong and returns -1. */
typedef int (*graft_setter)(struct config_graft *g, const struct config_entry *e, char *why,
			    size_t len);

static int graft_set_path(struct config_graft *g, const struct config_entry *e, char *why,
			  size_t len)
{
	if (e->value[0] != '/' || strlen(e->value) >= sizeof(g->path)) {
		snprintf(why, len, "path must be an absolute path, not '%s'", e->value);
		return -1;
	}
	strcpy(g->path, e->value);
	g->path_line = e->line;
	return 0;
}

static int graft_set_lifetime(struct config_graft *g, const struct config_entry *e, char *why,
			      size_t len)
{
	char names[64];

	if (lifetime_parse(e->value, strlen(e->value), &g->lifetime)) {
		snprintf(why, len, "lifetime must be %s, not '%s'",
			 lifetime_choices(~0u, names, sizeof(names)), e->value);
		return -1;
	}
	g->lifetime_line = e->line;
	return 0;
}

static int graft_set_mode(struct config_graft *g, const struct config_entry *e, char *why,
			  size_t len)
{
	unsigned long m;
	char *end;

	errno = 0;
	m = strtoul(e->value, &end, 8);
	if (!isdigit((unsigned char)*e->value) || *end || errno || m > 07777) {
		snprintf(why, len, "mode must be octal such as 0660, not '%s'", e->value);
		return -1;
	}
	g->mode = (mode_t)m;
	return 0;
}

/* owner and group: a user or a group by name or number. */
static int graft_set_id(struct config_graft *g, const struct config_entry *e, char *why,
			size_t len)
{
	int group = strcmp(e->key, "group") == 0;
	unsigned id;

	if (parse_id(e->value, group, &id)) {
		snprintf(why, len, "%s: no such %s '%s'", e->key, group ? "group" : "user", e->value);
		return -1;
	}
	if (group)
		g->gid = id;
	else
		g->uid = id;
	return 0;
}

static int graft_set_size(struct config_graft *g, const struct config_entry *e, char *why,
			  size_t len)
{
	g->size_line = e->line;
	return config_size_value("size", e->value, &g->size, why, len);
}

static int graft_set_backend(struct config_graft *g, const struct config_entry *e, char *why,
			     size_t len)
{
	if (config_store_kind("backend", STORE_KEY_BACKEND, e->value, "", &g->backend, why, len))
		return -1;
	g->backend_line = e->line;
	return 0;
}

static int graft_set_prefault(struct config_graft *g, const struct config_entry *e, char *why,
			      size_t len)
{
	if (parse_yes_no(e->value, &g->prefault)) {
		snprintf(why, len, "prefault must be yes or no, not '%s'", e->value);
		return -1;
	}
	return 0;
}

enum { IN_SEGMENT = 1, IN_DIR = 2 };

static const struct {
	const char *key;
	unsigned in;      /* the sections that have it; [dir] also has the store keys */
	graft_setter set;
} graft_keys[] = {
	{ "path", IN_SEGMENT | IN_DIR, graft_set_path },
	{ "lifetime", IN_SEGMENT | IN_DIR, graft_set_lifetime },
	{ "mode", IN_SEGMENT | IN_DIR, graft_set_mode },
	{ "owner", IN_SEGMENT | IN_DIR, graft_set_id },
	{ "group", IN_SEGMENT | IN_DIR, graft_set_id },
	{ "size", IN_SEGMENT, graft_set_size },
	{ "backend", IN_SEGMENT, graft_set_backend },
	{ "prefault", IN_SEGMENT, graft_set_prefault },
};

int config_set_graft_key(struct config_graft *g, const struct config_entry *e, char *why,
			 size_t len)
{
	unsigned in = g->is_dir ? IN_DIR : IN_SEGMENT;
	int rc, known;

	for (size_t i = 0; i < sizeof(graft_keys) / sizeof(graft_keys[0]); i++)
		if ((graft_keys[i].in & in) && strcmp(e->key, graft_keys[i].key) == 0)
			return graft_keys[i].set(g, e, why, len);
	if (g->is_dir) {
		rc = config_store_graft_key(g, e, &known, why, len);
		if (known)
			return rc;
		snprintf(why, len, "unknown key '%s' in [dir %s] (known: path, lifetime, mode, owner, "
			 "group, store, size, nr_inodes, huge, mpol)", e->key, g->name);
		return -1;
	}
	snprintf(why, len, "unknown key '%s' in [segment %s] (known: size, mode, owner, "
		 "group, backend, path, prefault, lifetime)", e->key, g->name);
	return -1;
}

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

/* The line of a key if it was given, else of the section header. */
static int key_line(const struct config_graft *g, int line)
{
	return line ? line : g->line;
}

/* The graft's store kind and lifetime, defaults filled in: 0, or -1 with
 * why and *line. */
static int config_graft_kind(const struct config *cfg, struct config_graft *g, char *why,
			     size_t len, int *line)
{
	const char *kind = g->is_dir ? "dir" : "segment";
	enum lifetime_place place = g->is_dir ? LIFETIME_AT_DIR : LIFETIME_AT_SEGMENT;

	/* A [dir] is private by store =, on disk by its path, else shm. */
	if (g->is_dir && g->path[0] && !store_kind_own_tmpfs(g->backend))
		g->backend = STORE_FILE;
	if (!g->is_dir && store_kind_needs_path(g->backend) && !g->path[0]) {
		*line = key_line(g, g->backend_line);
		snprintf(why, len, "[segment %s]: backend = file needs a path", g->name);
		return -1;
	}
	if (!g->is_dir && !store_kind_needs_path(g->backend) && g->path[0]) {
		*line = key_line(g, g->path_line);
		snprintf(why, len, "[segment %s]: path is for backend = file only", g->name);
		return -1;
	}
	if (!g->lifetime_line)
		g->lifetime = store_kind_lasting(g->backend);
	if (config_store_finish_graft(cfg, g, why, len, line))
		return -1;
	if (!lifetime_allowed(g->lifetime, place, g->backend)) {
		*line = key_line(g, g->lifetime_line);
		snprintf(why, len, "[%s %s]: lifetime = %s is not possible for a %s %s%s", kind,
			 g->name, lifetime_name(g->lifetime), store_kind_adjective(g->backend), kind,
			 g->is_dir ? "" : lifetime_segment_hint(g->lifetime));
		return -1;
	}
	return 0;
}

/* *line: where the problem is, the key's line where one key is to blame. */
int config_finish_graft(const struct config *cfg, struct config_graft *g, char *why, size_t len,
			int *line, struct strindex *paths)
{
	const char *kind = g->is_dir ? "dir" : "segment";
	size_t found;

	*line = g->line;
	if (config_graft_kind(cfg, g, why, len, line))
		return -1;
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
