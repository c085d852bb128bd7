/* config_read.c: pass one of the config loader. Every key is recorded with
 * its origin and line, as written; nothing is checked but the INI syntax
 * and who may write the file (pass two is config_validate, lib/config.c). */
#include "config_parts.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* inih hands lines of at most this many bytes (INI_MAX_LINE - 1). */
#define CONFIG_LINE_MAX 199

struct config_reader {
	struct config *cfg;
	const char *origin;
	const char *next; /* rest of the text */
	int line;         /* number of the line last handed to inih */
};

/* Full when the length is 0 or a power of two (configs may be long and
 * machine-made). */
int config_grows(size_t n)
{
	return (n & (n - 1)) == 0;
}

size_t config_grown(size_t n)
{
	return n < 8 ? 8 : 2 * n;
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
