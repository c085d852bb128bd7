/* What the unit test suites share (unit.h). No tests here, and no main. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "unit.h"

char tmpdir[PATH_MAX];
struct config cfg;

/* ---- skips ---- */

static int *skips;   /* MAP_SHARED: forked tests count here too */

void unit_skips_init(void)
{
	skips = mmap(NULL, sizeof(*skips), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		     -1, 0);
	if (skips == MAP_FAILED) {
		perror("mmap");
		abort();
	}
	*skips = 0;
}

int unit_skips(void)
{
	return *skips;
}

void unit_skip(const char *file, const char *test, const char *why)
{
	size_t len = strlen(test);

	/* START_TEST(name) defines name_fn */
	if (len > 3 && !strcmp(test + len - 3, "_fn"))
		len -= 3;
	printf("skipped: %s: %.*s: %s\n", file, (int)len, test, why);
	fflush(stdout);
	__atomic_add_fetch(skips, 1, __ATOMIC_SEQ_CST);
}

/* ---- directories ---- */

void make_temp_dir(char *dir, size_t size, const char *tmpl)
{
	snprintf(dir, size, "%s", tmpl);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		abort();
	}
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void tmpdir_setup(void)
{
	make_temp_dir(tmpdir, sizeof(tmpdir), "/tmp/shmfs-unit-XXXXXX");
}

void tmpdir_teardown(void)
{
	remove_tree(tmpdir);
}

/* ---- configs ---- */

void cfg_setup(void)
{
	config_init(&cfg);
}

void cfg_teardown(void)
{
	config_free(&cfg);
}

void cfg_reset(void)
{
	config_free(&cfg);
	config_init(&cfg);
}

int parse_config(struct config *c, const char *text, const char *origin)
{
	int rc = config_read_string(c, text, origin);

	if (config_validate(c))
		rc = -1;
	return rc;
}

/* Not inlined: GCC 12 then takes the text for a pointer to the local buf,
 * -Wdangling-pointer. */
__attribute__((noinline)) char *print_config(const struct config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(out);
	config_print(c, out);
	ck_assert_int_eq(fclose(out), 0);
	return buf;
}

void assert_reparses(const struct config *c, const char *text,
		     void (*same)(const struct config *a, const struct config *b))
{
	struct config again;
	int rc;

	config_init(&again);
	rc = parse_config(&again, text, "printed");
	ck_assert_msg(rc == 0, "printed config does not parse:\n%s\nerrors:\n%s", text,
		      again.errors);
	same(c, &again);
	config_free(&again);
}

int has_error(const struct config *c, const char *where, const char *what)
{
	const char *line = c->errors;

	while (*line) {
		const char *end = strchrnul(line, '\n');
		size_t len = (size_t)(end - line);

		if (strncmp(line, where, strlen(where)) == 0 &&
		    memmem(line, len, what, strlen(what)))
			return 1;
		line = *end ? end + 1 : end;
	}
	return 0;
}
