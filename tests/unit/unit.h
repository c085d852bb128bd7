/* What the unit test suites share: sizes, directories of a test's own, and
 * the config under test with the errors it reports. What only one suite
 * needs stays in its own file. */
#ifndef SHMFS_TEST_UNIT_H
#define SHMFS_TEST_UNIT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <check.h>

#include "config.h"

#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define TiB (UINT64_C(1) << 40)

/* ---- skips ----
 * Check has no skip: a test that cannot run here calls unit_skip() and
 * returns; the line it prints and the count in main's closing line
 * ("unit: N passed, N failed, N skipped") say so. The count lives in a
 * shared mapping, so that it reaches the runner from a forked test. */

/* Set up the skip count; main calls it before running the suites. */
void unit_skips_init(void);

/* How many tests skipped themselves. */
int unit_skips(void);

/* Report the running test (in file, its function test: __FILE__, __func__)
 * as skipped because of why. */
void unit_skip(const char *file, const char *test, const char *why);

/* End the running test as skipped unless the runner is root. */
#define skip_unless_root(why)                                       \
	do {                                                        \
		if (geteuid() != 0) {                               \
			unit_skip(__FILE__, __func__, why);         \
			return;                                     \
		}                                                   \
	} while (0)

/* ---- directories ---- */

/* Make a new directory from tmpl (a mkdtemp template) into dir, which holds
 * size bytes; aborts the runner when it cannot. */
void make_temp_dir(char *dir, size_t size, const char *tmpl);

/* Remove path and everything below it, following no symlink. */
void remove_tree(const char *path);

/* A directory of the test's own: tmpdir_setup (/tmp/shmfs-unit-XXXXXX) and
 * tmpdir_teardown are an unchecked fixture, run once per TCase in the runner
 * itself, so that it is removed even when a test fails. A suite that wants
 * more in it makes it with make_temp_dir in a setup of its own. */
extern char tmpdir[PATH_MAX];
void tmpdir_setup(void);
void tmpdir_teardown(void);

/* ---- configs ---- */

/* The config under test: cfg_setup and cfg_teardown are a checked fixture,
 * cfg_reset starts over with a fresh one inside a test. */
extern struct config cfg;
void cfg_setup(void);
void cfg_teardown(void);
void cfg_reset(void);

/* Both passes over text, as the daemon runs them, into c with origin as its
 * name in errors: 0 when it is a good config, else -1. */
int parse_config(struct config *c, const char *text, const char *origin);

/* config_print of c, in a string to free. */
char *print_config(const struct config *c);

/* What --check-config printed of c (text) reads back, with no error, to
 * settings that same() finds the same as those of c. */
void assert_reparses(const struct config *c, const char *text,
		     void (*same)(const struct config *a, const struct config *b));

/* Whether c->errors has a line that starts with where and contains what. */
int has_error(const struct config *c, const char *where, const char *what);

/* cfg has an error at where saying what. */
#define ck_assert_error(where, what)                                                   \
	ck_assert_msg(has_error(&cfg, where, what), "no error \"%s...%s\" in:\n%s", where, \
		      what, cfg.errors)

/* cfg was refused with exactly one error, at where, saying what. */
#define ck_assert_only_error(where, what)                                         \
	do {                                                                      \
		ck_assert_msg(cfg.nerrors == 1, "%d errors:\n%s", cfg.nerrors,    \
			      cfg.errors);                                        \
		ck_assert_error(where, what);                                     \
	} while (0)

#endif
