/* fuzz_config: libFuzzer target for the config parser (lib/config.c).
 *
 * The input is an INI text, optionally followed by a line "--" and lines
 * "key=value" that are given as -o options. It goes through
 * config_read_string() and config_validate() as the daemon does, and, when
 * valid, config_print(). Besides memory errors (ASan) and undefined behaviour
 * (UBSan), a valid result must keep the promises the rest of the daemon
 * relies on; a broken promise aborts:
 *   - every declared name is one path component (not "", ".", "..", no '/'),
 *     and with the prefix still fits in NAME_MAX;
 *   - every graft path is absolute; the prefix has no '/';
 *   - modes fit in 07777; the error text is NUL-terminated in its buffer;
 *   - an invalid result has at least one "ORIGIN:..." error line.
 * Graft paths must also have no "." or ".." component (BUG-2 in
 * docs/RELIABILITY.md, fixed; SHMFS_FUZZ_STRICT=0 skips that check). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_config: broken promise: %s: '%s'\n", what, detail);
	abort();
}

static int has_dot_component(const char *path)
{
	for (const char *p = path; (p = strstr(p, "/.")); p++) {
		const char *c = p + 2;

		if (*c == '.')
			c++;
		if (*c == '/' || *c == '\0')
			return 1;
	}
	return 0;
}

static void check_valid(const struct config *cfg)
{
	static int strict = -1;

	if (strict < 0)
		strict = !getenv("SHMFS_FUZZ_STRICT") || strcmp(getenv("SHMFS_FUZZ_STRICT"), "0") != 0;
	if (strchr(cfg->prefix, '/'))
		broken("prefix with '/'", cfg->prefix);
	for (size_t i = 0; i < cfg->ngrafts; i++) {
		const struct config_graft *g = &cfg->grafts[i];

		if (!g->name[0] || strchr(g->name, '/') || !strcmp(g->name, ".") ||
		    !strcmp(g->name, ".."))
			broken("declared name is not one component", g->name);
		if (strlen(cfg->prefix) + strlen(g->name) > NAME_MAX)
			broken("declared name too long with the prefix", g->name);
		if (g->path[0] && g->path[0] != '/')
			broken("relative graft path", g->path);
		if (strict && has_dot_component(g->path))
			broken("graft path with a '.' or '..' component", g->path);
		if (g->mode & ~07777u)
			broken("mode out of range", g->name);
		if (!g->is_dir && g->backend == STORE_FILE && !g->path[0])
			broken("file segment without a path", g->name);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct config *cfg;
	char *text, *opts;
	int rc;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	text = malloc(size + 1);
	cfg = malloc(sizeof(*cfg));
	if (!text || !cfg)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	config_init(cfg);
	opts = strstr(text, "\n--\n");
	if (opts) {
		*opts = '\0';
		opts += 4;
	}
	rc = config_read_string(cfg, text, "fuzz.ini");
	while (opts && *opts) {
		char *nl = strchr(opts, '\n'), *eq;

		if (nl)
			*nl = '\0';
		eq = strchr(opts, '=');
		if (eq) {
			*eq = '\0';
			if (config_is_shmfs_key(opts))
				config_add_option(cfg, opts, eq + 1);
		}
		opts = nl ? nl + 1 : NULL;
	}
	rc |= config_validate(cfg);
	if (memchr(cfg->errors, '\0', sizeof(cfg->errors)) == NULL)
		broken("error text not terminated", "");
	if (rc && cfg->nerrors == 0)
		broken("invalid without an error", text);
	if (rc && !strstr(cfg->errors, "fuzz.ini") && !strstr(cfg->errors, "-o"))
		broken("an error that names no origin", cfg->errors);
	if (!rc) {
		check_valid(cfg);
		if (devnull)
			config_print(cfg, devnull);
	}
	config_free(cfg);
	free(cfg);
	free(text);
	return 0;
}
