/* config: what an operator sees from a config text, -o options and
 * --check-config. Texts come from strings with the origin "t.ini", so no file
 * is needed except where reading files is what is tested. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "suites.h"
#include "unit.h"

/* Both passes, as the daemon runs them: 0 when the text is a good config. */
static int parse(const char *text)
{
	return parse_config(&cfg, text, "t.ini");
}

/* A [shmfs] section with one key: the key is on line 2. */
static int parse_key(const char *key, const char *value)
{
	char text[512];

	snprintf(text, sizeof(text), "[shmfs]\n%s = %s\n", key, value);
	return parse(text);
}

/* A text with n characters of 'x' after head, then "\n". */
static char *long_line(const char *head, size_t n)
{
	size_t hlen = strlen(head);
	char *s = malloc(hlen + n + 2);

	ck_assert_ptr_nonnull(s);
	memcpy(s, head, hlen);
	memset(s + hlen, 'x', n);
	s[hlen + n] = '\n';
	s[hlen + n + 1] = '\0';
	return s;
}

static void assert_same_settings(const struct config *a, const struct config *b)
{
	ck_assert_str_eq(a->shm_dir, b->shm_dir);
	ck_assert_str_eq(a->prefix, b->prefix);
	ck_assert_int_eq(a->passthrough, b->passthrough);
	ck_assert_int_eq(a->lifetime, b->lifetime);
	ck_assert_uint_eq(a->max_segment_size, b->max_segment_size);
	ck_assert_uint_eq(a->max_total_size, b->max_total_size);
	ck_assert_uint_eq(a->max_total_percent, b->max_total_percent);
	ck_assert_uint_eq(a->max_segments, b->max_segments);
	ck_assert_double_eq(a->attr_timeout, b->attr_timeout);
	ck_assert_int_eq(a->watch, b->watch);
	ck_assert_int_eq(a->log_level, b->log_level);
}

/* What --check-config prints reads back to the same settings. */
static void assert_print_reparses(void)
{
	char *text = print_config(&cfg);

	assert_reparses(&cfg, text, assert_same_settings);
	free(text);
}

/* ---- core: good configs ---- */

START_TEST(test_defaults)
{
	ck_assert_str_eq(cfg.shm_dir, "/dev/shm");
	ck_assert_str_eq(cfg.prefix, "shmfs.");
	ck_assert_int_eq(cfg.passthrough, PASSTHROUGH_AUTO);
	ck_assert_int_eq(cfg.lifetime, LIFETIME_KERNEL);
	ck_assert_double_eq(cfg.attr_timeout, 1.0);
	ck_assert_int_eq(cfg.watch, 1);
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_INFO);
	ck_assert_uint_eq(cfg.max_segment_size, 0);
	ck_assert_uint_eq(cfg.max_total_size, 0);
	ck_assert_uint_eq(cfg.max_total_percent, 0);
	ck_assert_uint_eq(cfg.max_segments, 0);
	ck_assert_int_eq(cfg.nerrors, 0);
	ck_assert_str_eq(cfg.errors, "");
}
END_TEST

START_TEST(test_empty_text_keeps_defaults)
{
	struct config defaults;

	config_init(&defaults);
	ck_assert_int_eq(parse("; nothing but a comment\n\n# and another\n[shmfs]\n"), 0);
	ck_assert_int_eq(cfg.nerrors, 0);
	assert_same_settings(&cfg, &defaults);
	ck_assert_int_eq(parse(""), 0);
	assert_same_settings(&cfg, &defaults);
}
END_TEST

START_TEST(test_every_key)
{
	ck_assert_int_eq(parse("[shmfs]\n"
			       "shm_dir = /tmp\n"
			       "prefix = app.\n"
			       "passthrough = off\n"
			       "lifetime = mount\n"
			       "max_segment_size = 16G\n"
			       "max_total_size = 50%\n"
			       "max_segments = 100000\n"
			       "attr_timeout = 2.5\n"
			       "watch = off\n"
			       "log_level = debug\n"),
			 0);
	ck_assert_str_eq(cfg.errors, "");
	ck_assert_str_eq(cfg.shm_dir, "/tmp");
	ck_assert_str_eq(cfg.prefix, "app.");
	ck_assert_int_eq(cfg.passthrough, PASSTHROUGH_OFF);
	ck_assert_int_eq(cfg.lifetime, LIFETIME_MOUNT);
	ck_assert_uint_eq(cfg.max_segment_size, 16 * GiB);
	ck_assert_uint_eq(cfg.max_total_percent, 50);
	ck_assert_uint_eq(cfg.max_total_size, 0);
	ck_assert_uint_eq(cfg.max_segments, 100000);
	ck_assert_double_eq(cfg.attr_timeout, 2.5);
	ck_assert_int_eq(cfg.watch, 0);
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_DEBUG);
}
END_TEST

/* The [shmfs] part of the sample in the design, comments and all. */
START_TEST(test_inline_comments)
{
	ck_assert_int_eq(parse("[shmfs]\n"
			       "shm_dir = /dev/shm\n"
			       "prefix = shmfs.\n"
			       "passthrough = on            ; auto | on | off\n"
			       "lifetime = kernel             ; kernel | mount  (root store)\n"
			       "max_segment_size = 16G        ; K M G T suffixes\n"
			       "max_total_size = 50%          ; bytes, or % of RAM\n"
			       "max_segments = 100000\n"
			       "attr_timeout = 1.0\n"
			       "log_level = warn              ; error | warn | info | debug\n"),
			 0);
	ck_assert_int_eq(cfg.passthrough, PASSTHROUGH_ON);
	ck_assert_int_eq(cfg.lifetime, LIFETIME_KERNEL);
	ck_assert_uint_eq(cfg.max_segment_size, 16 * GiB);
	ck_assert_uint_eq(cfg.max_total_percent, 50);
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_WARN);
}
END_TEST

START_TEST(test_choices)
{
	static const struct {
		const char *key, *value;
		int want;
	} cases[] = {
		{ "passthrough", "auto", PASSTHROUGH_AUTO },
		{ "passthrough", "on", PASSTHROUGH_ON },
		{ "passthrough", "off", PASSTHROUGH_OFF },
		{ "lifetime", "kernel", LIFETIME_KERNEL },
		{ "lifetime", "mount", LIFETIME_MOUNT },
		{ "log_level", "error", LOG_LEVEL_ERROR },
		{ "log_level", "warn", LOG_LEVEL_WARN },
		{ "log_level", "info", LOG_LEVEL_INFO },
		{ "log_level", "debug", LOG_LEVEL_DEBUG },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got;

		cfg_reset();
		ck_assert_msg(parse_key(cases[i].key, cases[i].value) == 0, "%s = %s: %s",
			      cases[i].key, cases[i].value, cfg.errors);
		if (strcmp(cases[i].key, "passthrough") == 0)
			got = (int)cfg.passthrough;
		else if (strcmp(cases[i].key, "lifetime") == 0)
			got = (int)cfg.lifetime;
		else
			got = cfg.log_level;
		ck_assert_msg(got == cases[i].want, "%s = %s gave %d", cases[i].key,
			      cases[i].value, got);
	}
}
END_TEST

START_TEST(test_size_keys)
{
	ck_assert_int_eq(parse("[shmfs]\nmax_segment_size = 64M\nmax_total_size = 1T\n"), 0);
	ck_assert_uint_eq(cfg.max_segment_size, 64 * MiB);
	ck_assert_uint_eq(cfg.max_total_size, TiB);
	ck_assert_uint_eq(cfg.max_total_percent, 0);

	cfg_reset();
	ck_assert_int_eq(parse("[shmfs]\nmax_segment_size = 4096\nmax_total_size = 100%\n"), 0);
	ck_assert_uint_eq(cfg.max_segment_size, 4096);
	ck_assert_uint_eq(cfg.max_total_percent, 100);

	cfg_reset();
	ck_assert_int_eq(parse("[shmfs]\nmax_total_size = 1%\nmax_segments = 0\n"), 0);
	ck_assert_uint_eq(cfg.max_total_percent, 1);
	ck_assert_uint_eq(cfg.max_segments, 0);
}
END_TEST

START_TEST(test_attr_timeout_range)
{
	ck_assert_int_eq(parse_key("attr_timeout", "0"), 0);
	ck_assert_double_eq(cfg.attr_timeout, 0.0);
	cfg_reset();
	ck_assert_int_eq(parse_key("attr_timeout", "86400"), 0);
	ck_assert_double_eq(cfg.attr_timeout, 86400.0);
	cfg_reset();
	ck_assert_int_eq(parse_key("attr_timeout", "0.25"), 0);
	ck_assert_double_eq(cfg.attr_timeout, 0.25);
}
END_TEST

START_TEST(test_empty_prefix)
{
	ck_assert_int_eq(parse("[shmfs]\nprefix =\n"), 0);
	ck_assert_str_eq(cfg.prefix, "");
}
END_TEST

/* A line of exactly 199 characters is not "longer than 199 characters". */
START_TEST(test_line_of_199_characters)
{
	/* "prefix = " is 9 characters. */
	char *text = long_line("[shmfs]\nprefix = ", 190);
	char want[191];

	ck_assert_int_eq(parse(text), 0);
	ck_assert_str_eq(cfg.errors, "");
	memset(want, 'x', 190);
	want[190] = '\0';
	ck_assert_str_eq(cfg.prefix, want);
	free(text);

	/* The same as the last line of a text, without its newline. */
	cfg_reset();
	text = long_line("[shmfs]\nprefix = ", 190);
	text[strlen(text) - 1] = '\0';
	ck_assert_int_eq(parse(text), 0);
	ck_assert_str_eq(cfg.prefix, want);
	free(text);
}
END_TEST

/* ---- errors: each says where and what ---- */

static const struct bad_value {
	const char *key, *value, *why;
} bad_values[] = {
	{ "passthrough", "maybe", "passthrough must be auto, on or off, not 'maybe'" },
	{ "passthrough", "", "passthrough must be auto, on or off, not ''" },
	{ "lifetime", "forever", "lifetime of the root store must be kernel or mount, not 'forever'" },
	{ "lifetime", "process", "lifetime of the root store must be kernel or mount, not 'process'" },
	{ "lifetime", "disk", "lifetime of the root store must be kernel or mount, not 'disk'" },
	{ "log_level", "verbose", "log_level must be error, warn, info or debug, not 'verbose'" },
	{ "shm_dir", "dev/shm", "shm_dir must be an absolute path, not 'dev/shm'" },
	{ "shm_dir", "", "shm_dir must be an absolute path, not ''" },
	{ "prefix", "a/b", "prefix must not contain '/': 'a/b'" },
	{ "prefix", "/", "prefix must not contain '/'" },
	{ "max_segment_size", "12Q", "max_segment_size must be a size such as 4096, 64M or 16G, not '12Q'" },
	{ "max_segment_size", "-5", "max_segment_size must be a size such as 4096, 64M or 16G, not '-5'" },
	{ "max_segment_size", "", "max_segment_size must be a size such as 4096, 64M or 16G, not ''" },
	{ "max_segment_size", "M", "max_segment_size must be a size such as 4096, 64M or 16G, not 'M'" },
	{ "max_segment_size", "1.5G", "max_segment_size must be a size" },
	{ "max_segment_size", "99999999999T", "max_segment_size is too large: '99999999999T'" },
	{ "max_segment_size", "18446744073709551616", "max_segment_size is too large" },
	{ "max_total_size", "12Q", "max_total_size must be a size such as 4096, 64M or 16G, not '12Q'" },
	{ "max_total_size", "99999999999T", "max_total_size is too large: '99999999999T'" },
	{ "max_total_size", "0%", "max_total_size as a share of RAM must be 1% to 100%, not '0%'" },
	{ "max_total_size", "101%", "max_total_size as a share of RAM must be 1% to 100%, not '101%'" },
	{ "max_total_size", "50%x", "max_total_size as a share of RAM must be 1% to 100%, not '50%x'" },
	{ "max_total_size", "%", "max_total_size as a share of RAM must be 1% to 100%, not '%'" },
	{ "max_total_size", "-5%", "max_total_size as a share of RAM must be 1% to 100%" },
	{ "max_total_size", "5.5%", "max_total_size as a share of RAM must be 1% to 100%" },
	{ "max_segments", "abc", "max_segments must be a whole number, not 'abc'" },
	{ "max_segments", "-1", "max_segments must be a whole number, not '-1'" },
	{ "max_segments", "10k", "max_segments must be a whole number, not '10k'" },
	{ "max_segments", "99999999999999999999999", "max_segments must be a whole number" },
	{ "attr_timeout", "-1", "attr_timeout must be seconds from 0 to 86400, not '-1'" },
	{ "attr_timeout", "nan", "attr_timeout must be seconds from 0 to 86400, not 'nan'" },
	{ "attr_timeout", "inf", "attr_timeout must be seconds from 0 to 86400, not 'inf'" },
	{ "attr_timeout", "abc", "attr_timeout must be seconds from 0 to 86400, not 'abc'" },
	{ "attr_timeout", "1e9", "attr_timeout must be seconds from 0 to 86400, not '1e9'" },
	{ "attr_timeout", "1s", "attr_timeout must be seconds from 0 to 86400, not '1s'" },
	{ "attr_timeout", "", "attr_timeout must be seconds from 0 to 86400, not ''" },
};

#define N_BAD_VALUES (int)(sizeof(bad_values) / sizeof(bad_values[0]))

/* Each bad value is one error at its line, and the setting keeps its default. */
START_TEST(test_bad_value)
{
	const struct bad_value *b = &bad_values[_i];
	struct config defaults;

	ck_assert_msg(parse_key(b->key, b->value) == -1, "%s = '%s' was accepted", b->key,
		      b->value);
	ck_assert_msg(cfg.nerrors == 1, "%s = '%s': %d errors:\n%s", b->key, b->value,
		      cfg.nerrors, cfg.errors);
	ck_assert_error("t.ini:2: ", b->why);
	config_init(&defaults);
	assert_same_settings(&cfg, &defaults);
}
END_TEST

START_TEST(test_unknown_key)
{
	ck_assert_int_eq(parse("[shmfs]\nprefix = a.\nbogus = 1\n"), -1);
	ck_assert_only_error("t.ini:3: ", "unknown key 'bogus' in [shmfs]");
	/* The good key beside it is still applied. */
	ck_assert_str_eq(cfg.prefix, "a.");
}
END_TEST

START_TEST(test_unknown_section)
{
	ck_assert_int_eq(parse("[shmfs]\nprefix = a.\n[other]\nx = 1\ny = 2\n"), -1);
	/* One error, at the header: its keys are not reported one by one. */
	ck_assert_only_error("t.ini:3: ", "unknown section [other]");
}
END_TEST

START_TEST(test_empty_unknown_section)
{
	ck_assert_int_eq(parse("[shmfs]\nprefix = a.\n\n[nothing]\n; no keys here\n"), -1);
	ck_assert_only_error("t.ini:4: ", "unknown section [nothing]");

	cfg_reset();
	ck_assert_int_eq(parse("[nothing]"), -1);
	ck_assert_error("t.ini:1: ", "unknown section [nothing]");
}
END_TEST

/* "[ shmfs ]" is not [shmfs]: its keys must not be dropped without a word. */
START_TEST(test_section_with_blanks)
{
	ck_assert_int_eq(parse("[ shmfs ]\npassthrough = off\n"), -1);
	ck_assert_only_error("t.ini:1: ", "unknown section [ shmfs ]");
	ck_assert_int_eq(cfg.passthrough, PASSTHROUGH_AUTO);
}
END_TEST

START_TEST(test_duplicate_key)
{
	ck_assert_int_eq(parse("[shmfs]\nprefix = a.\nlog_level = warn\nprefix = b.\n"), -1);
	ck_assert_only_error("t.ini:4: ", "key 'prefix' given twice (first at line 2)");
}
END_TEST

START_TEST(test_duplicate_section)
{
	ck_assert_int_eq(parse("[shmfs]\nprefix = a.\n[shmfs]\nlog_level = warn\n"), -1);
	ck_assert_only_error("t.ini:3: ", "section [shmfs] given twice (first at line 1)");
}
END_TEST

START_TEST(test_key_outside_section)
{
	ck_assert_int_eq(config_read_string(&cfg, "prefix = a.\n[shmfs]\n", "t.ini"), -1);
	ck_assert_only_error("t.ini:1: ", "key 'prefix' outside of any section");
	config_validate(&cfg);
	ck_assert_str_eq(cfg.prefix, "shmfs.");
}
END_TEST

START_TEST(test_syntax_error)
{
	ck_assert_int_eq(config_read_string(&cfg, "[shmfs]\nprefix = a.\nthis is not a key\n",
					    "t.ini"),
			 -1);
	ck_assert_only_error("t.ini:3: ", "syntax error");

	cfg_reset();
	ck_assert_int_eq(parse("[shmfs\nprefix = a.\n"), -1);
	ck_assert_error("t.ini:1: ", "syntax error");
}
END_TEST

START_TEST(test_shm_dir_missing)
{
	char dir[] = "/tmp/shmfs-unit-XXXXXX";
	char path[64], why[128];
	int rc;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/missing", dir);
	rc = parse_key("shm_dir", path);
	rmdir(dir);
	ck_assert_int_eq(rc, -1);
	snprintf(why, sizeof(why), "shm_dir %s: %s", path, strerror(ENOENT));
	ck_assert_error("t.ini:2: ", why);
	ck_assert_str_eq(cfg.shm_dir, "/dev/shm");
}
END_TEST

START_TEST(test_shm_dir_is_a_file)
{
	char path[] = "/tmp/shmfs-unit-XXXXXX";
	char why[128];
	int fd = mkstemp(path);
	int rc;

	ck_assert_int_ge(fd, 0);
	close(fd);
	rc = parse_key("shm_dir", path);
	unlink(path);
	ck_assert_int_eq(rc, -1);
	snprintf(why, sizeof(why), "shm_dir %s: not a directory", path);
	ck_assert_error("t.ini:2: ", why);
}
END_TEST

START_TEST(test_prefix_too_long)
{
	char prefix[NAME_MAX + 2];

	/* Longer than a config line may be, so given with -o. */
	memset(prefix, 'p', NAME_MAX);
	prefix[NAME_MAX] = '\0';
	ck_assert_int_eq(config_add_option(&cfg, "prefix", prefix), 0);
	ck_assert_int_eq(config_validate(&cfg), -1);
	ck_assert_error("-o: ", "prefix is longer than 254 characters");
	ck_assert_str_eq(cfg.prefix, "shmfs.");

	/* One byte shorter leaves room for a one-character name. */
	cfg_reset();
	prefix[NAME_MAX - 1] = '\0';
	ck_assert_int_eq(config_add_option(&cfg, "prefix", prefix), 0);
	ck_assert_int_eq(config_validate(&cfg), 0);
	ck_assert_str_eq(cfg.prefix, prefix);
}
END_TEST

START_TEST(test_line_too_long)
{
	char *text = long_line("[shmfs]\n; ", 250);
	size_t len = strlen(text);

	/* The lines after it keep their numbers. */
	text = realloc(text, len + 32);
	ck_assert_ptr_nonnull(text);
	strcpy(text + len, "bogus = 1\n");
	ck_assert_int_eq(parse(text), -1);
	ck_assert_error("t.ini:2: ", "line longer than 199 characters");
	ck_assert_error("t.ini:3: ", "unknown key 'bogus'");
	free(text);

	/* 200 characters: one too many, as the last line too. */
	cfg_reset();
	text = long_line("[shmfs]\nprefix = ", 191);
	text[strlen(text) - 1] = '\0';
	ck_assert_int_eq(parse(text), -1);
	ck_assert_error("t.ini:2: ", "line longer than 199 characters");
	free(text);
}
END_TEST

START_TEST(test_all_errors_reported)
{
	ck_assert_int_eq(parse("[shmfs]\n"                 /* 1 */
			       "passthrough = sometimes\n" /* 2 */
			       "bogus = 1\n"               /* 3 */
			       "log_level = loud\n"        /* 4 */
			       "not a key at all\n"        /* 5 */
			       "max_total_size = 0%\n"     /* 6 */
			       "passthrough = off\n"       /* 7 */
			       "[extra]\n"                 /* 8 */
			       "x = 1\n"),                 /* 9 */
			 -1);
	ck_assert_msg(cfg.nerrors == 7, "%d errors:\n%s", cfg.nerrors, cfg.errors);
	ck_assert_error("t.ini:2: ", "passthrough must be auto, on or off, not 'sometimes'");
	ck_assert_error("t.ini:3: ", "unknown key 'bogus'");
	ck_assert_error("t.ini:4: ", "log_level must be");
	ck_assert_error("t.ini:5: ", "syntax error");
	ck_assert_error("t.ini:6: ", "max_total_size as a share of RAM");
	ck_assert_error("t.ini:7: ", "key 'passthrough' given twice (first at line 2)");
	ck_assert_error("t.ini:8: ", "unknown section [extra]");
}
END_TEST

/* So many errors that they do not fit: all are counted, the text stays a
 * string within its buffer. */
START_TEST(test_many_errors)
{
	size_t cap = 300 * 32;
	char *text = malloc(cap);
	size_t len;

	ck_assert_ptr_nonnull(text);
	len = (size_t)snprintf(text, cap, "[shmfs]\n");
	for (int i = 0; i < 300; i++)
		len += (size_t)snprintf(text + len, cap - len, "bogus%d = 1\n", i);
	ck_assert_int_eq(parse(text), -1);
	ck_assert_int_eq(cfg.nerrors, 300);
	ck_assert_uint_lt(strlen(cfg.errors), sizeof(cfg.errors));
	ck_assert_error("t.ini:2: ", "unknown key 'bogus0'");
	free(text);
}
END_TEST

/* ---- options: -o, files, printing ---- */

START_TEST(test_option_overrides_file)
{
	ck_assert_int_eq(config_read_string(&cfg,
					    "[shmfs]\npassthrough = on\nlog_level = warn\n"
					    "max_total_size = 50%\n",
					    "t.ini"),
			 0);
	ck_assert_int_eq(config_add_option(&cfg, "passthrough", "off"), 0);
	ck_assert_int_eq(config_add_option(&cfg, "max_total_size", "1G"), 0);
	ck_assert_int_eq(config_validate(&cfg), 0);
	ck_assert_int_eq(cfg.passthrough, PASSTHROUGH_OFF);
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_WARN);
	ck_assert_uint_eq(cfg.max_total_size, GiB);
	ck_assert_uint_eq(cfg.max_total_percent, 0);
	ck_assert_uint_eq(config_total_limit(&cfg, 64 * GiB), GiB);
}
END_TEST

START_TEST(test_option_repeated_last_wins)
{
	ck_assert_int_eq(config_add_option(&cfg, "attr_timeout", "3"), 0);
	ck_assert_int_eq(config_add_option(&cfg, "attr_timeout", "0.5"), 0);
	ck_assert_int_eq(config_validate(&cfg), 0);
	ck_assert_int_eq(cfg.nerrors, 0);
	ck_assert_double_eq(cfg.attr_timeout, 0.5);
}
END_TEST

START_TEST(test_option_bad_value)
{
	ck_assert_int_eq(config_read_string(&cfg, "[shmfs]\npassthrough = on\n", "t.ini"), 0);
	ck_assert_int_eq(config_add_option(&cfg, "passthrough", "sometimes"), 0);
	ck_assert_int_eq(config_validate(&cfg), -1);
	ck_assert_only_error("-o: ", "passthrough must be auto, on or off, not 'sometimes'");
	/* No line number for an option. */
	ck_assert_ptr_null(strstr(cfg.errors, "-o:0"));

	cfg_reset();
	ck_assert_int_eq(config_add_option(&cfg, "bogus", "1"), 0);
	ck_assert_int_eq(config_validate(&cfg), -1);
	ck_assert_error("-o: ", "unknown key 'bogus'");
}
END_TEST

START_TEST(test_is_shmfs_key)
{
	static const char *const keys[] = {
		"shm_dir", "prefix", "passthrough", "lifetime", "max_segment_size",
		"max_total_size", "max_segments", "attr_timeout", "log_level",
		"store", "size", "nr_inodes", "huge", "mpol", "mode",
	};
	static const char *const others[] = {
		"allow_other", "default_permissions", "ro", "", "shmfs", "SHM_DIR",
		"sizes", "path", "prefix ", "max_segment", "uid",
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(config_is_shmfs_key(keys[i]), "%s is a key of [shmfs]", keys[i]);
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		ck_assert_msg(!config_is_shmfs_key(others[i]), "'%s' is not a key of [shmfs]",
			      others[i]);
}
END_TEST

/* lifetime = mount with no prefix sweeps every name of shm_dir: refused
 * where other users can make names. */
START_TEST(test_empty_prefix_mount_sweep)
{
	char dir[] = "/tmp/shmfs-unit-XXXXXX";
	char text[256];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chmod(dir, 01777), 0);
	snprintf(text, sizeof(text), "[shmfs]\nshm_dir = %s\nprefix =\nlifetime = mount\n", dir);
	ck_assert_int_eq(parse(text), -1);
	ck_assert_error("t.ini:4: ", "lifetime = mount with an empty prefix would sweep all of");
	/* With a prefix, or with no prefix over a directory of the daemon's own. */
	cfg_reset();
	snprintf(text, sizeof(text), "[shmfs]\nshm_dir = %s\nprefix = a.\nlifetime = mount\n", dir);
	ck_assert_int_eq(parse(text), 0);
	cfg_reset();
	ck_assert_int_eq(chmod(dir, 0755), 0);
	snprintf(text, sizeof(text), "[shmfs]\nshm_dir = %s\nprefix =\nlifetime = mount\n", dir);
	ck_assert_int_eq(parse(text), 0);
	/* -o lifetime=mount is blamed as -o. */
	cfg_reset();
	ck_assert_int_eq(chmod(dir, 0775), 0);
	snprintf(text, sizeof(text), "[shmfs]\nshm_dir = %s\nprefix =\n", dir);
	ck_assert_int_eq(config_read_string(&cfg, text, "t.ini"), 0);
	ck_assert_int_eq(config_add_option(&cfg, "lifetime", "mount"), 0);
	ck_assert_int_eq(config_validate(&cfg), -1);
	ck_assert_error("-o", "lifetime = mount with an empty prefix");
	rmdir(dir);
}
END_TEST

/* A config another user could write is refused, naming the file. */
START_TEST(test_read_file_writable_by_others)
{
	static const char text[] = "[shmfs]\n";
	static const struct {
		mode_t mode;
		uid_t uid;
		const char *why;
	} bad[] = {
		{ 0666, 0, "writable by others (mode 0666)" },
		{ 0620, 0, "writable by its group (mode 0620)" },
		{ 0600, 61001, "owned by uid 61001, neither root nor the daemon's user" },
	};

	skip_unless_root("chown to another user needs root");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char tmpl[] = "/tmp/shmfs-unit-XXXXXX";
		char where[64];
		int fd = mkstemp(tmpl), rc;

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
		ck_assert_int_eq(fchmod(fd, bad[i].mode), 0);
		ck_assert_int_eq(fchown(fd, bad[i].uid, (gid_t)-1), 0);
		close(fd);
		cfg_reset();
		rc = config_read_file(&cfg, tmpl);
		unlink(tmpl);
		ck_assert_int_eq(rc, -1);
		snprintf(where, sizeof(where), "%s: ", tmpl);
		ck_assert_error(where, bad[i].why);
	}
}
END_TEST

START_TEST(test_read_file_missing)
{
	char path[] = "/tmp/shmfs-unit-XXXXXX";
	char where[64];
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	unlink(path);
	ck_assert_int_eq(config_read_file(&cfg, path), -1);
	ck_assert_int_eq(cfg.nerrors, 1);
	snprintf(where, sizeof(where), "%s: ", path);
	ck_assert_error(where, strerror(ENOENT));
}
END_TEST

START_TEST(test_read_file_directory)
{
	char dir[] = "/tmp/shmfs-unit-XXXXXX";
	char where[64];
	int rc;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	rc = config_read_file(&cfg, dir);
	rmdir(dir);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(cfg.nerrors, 1);
	snprintf(where, sizeof(where), "%s: ", dir);
	ck_assert_error(where, strerror(EISDIR));
}
END_TEST

/* Write text to a new temporary file, read it as a config, remove it. */
static int read_temp_file(const char *text, size_t len, char *path, size_t pathlen)
{
	char tmpl[] = "/tmp/shmfs-unit-XXXXXX";
	int fd = mkstemp(tmpl);
	int rc;

	ck_assert_int_ge(fd, 0);
	snprintf(path, pathlen, "%s", tmpl);
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		unlink(tmpl);
		ck_abort_msg("cannot write %s", tmpl);
	}
	close(fd);
	rc = config_read_file(&cfg, tmpl);
	unlink(tmpl);
	return rc;
}

START_TEST(test_read_file)
{
	static const char text[] = "[shmfs]\npassthrough = off\nbogus = 1\n";
	char path[64], where[80];

	ck_assert_int_eq(read_temp_file(text, strlen(text), path, sizeof(path)), 0);
	ck_assert_int_eq(config_validate(&cfg), -1);
	ck_assert_int_eq(cfg.passthrough, PASSTHROUGH_OFF);
	snprintf(where, sizeof(where), "%s:3: ", path);
	ck_assert_error(where, "unknown key 'bogus'");
}
END_TEST

START_TEST(test_read_file_with_nul)
{
	static const char text[] = "[shmfs]\npassthrough = off\0\n";
	char path[64], where[80];

	ck_assert_int_eq(read_temp_file(text, sizeof(text) - 1, path, sizeof(path)), -1);
	snprintf(where, sizeof(where), "%s: ", path);
	ck_assert_error(where, "not a text file");
}
END_TEST

START_TEST(test_print_defaults)
{
	char *text = print_config(&cfg);

	ck_assert_ptr_nonnull(strstr(text, "[shmfs]\n"));
	ck_assert_ptr_nonnull(strstr(text, "shm_dir = /dev/shm\n"));
	ck_assert_ptr_nonnull(strstr(text, "prefix = shmfs.\n"));
	ck_assert_ptr_nonnull(strstr(text, "passthrough = auto\n"));
	ck_assert_ptr_nonnull(strstr(text, "lifetime = kernel\n"));
	ck_assert_ptr_nonnull(strstr(text, "max_segment_size = 0\n"));
	ck_assert_ptr_nonnull(strstr(text, "max_total_size = 0\n"));
	ck_assert_ptr_nonnull(strstr(text, "max_segments = 0\n"));
	ck_assert_ptr_nonnull(strstr(text, "attr_timeout = 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "log_level = info\n"));
	free(text);
	assert_print_reparses();
}
END_TEST

START_TEST(test_print_settings)
{
	char *text;

	ck_assert_int_eq(parse("[shmfs]\n"
			       "shm_dir = /tmp\n"
			       "prefix = app.\n"
			       "passthrough = off\n"
			       "lifetime = mount\n"
			       "max_segment_size = 16G\n"
			       "max_total_size = 50%\n"
			       "max_segments = 1000\n"
			       "attr_timeout = 2.5\n"
			       "watch = off\n"
			       "log_level = debug\n"),
			 0);
	text = print_config(&cfg);
	ck_assert_ptr_nonnull(strstr(text, "shm_dir = /tmp\n"));
	ck_assert_ptr_nonnull(strstr(text, "prefix = app.\n"));
	ck_assert_ptr_nonnull(strstr(text, "passthrough = off\n"));
	ck_assert_ptr_nonnull(strstr(text, "lifetime = mount\n"));
	ck_assert_ptr_nonnull(strstr(text, "max_segment_size = 16G\n"));
	ck_assert_ptr_nonnull(strstr(text, "max_total_size = 50%\n"));
	ck_assert_ptr_nonnull(strstr(text, "max_segments = 1000\n"));
	ck_assert_ptr_nonnull(strstr(text, "attr_timeout = 2.5\n"));
	ck_assert_ptr_nonnull(strstr(text, "watch = off\n"));
	ck_assert_ptr_nonnull(strstr(text, "log_level = debug\n"));
	free(text);
	assert_print_reparses();
}
END_TEST

/* Sizes that are not a whole number of a unit print in a smaller one. */
START_TEST(test_print_odd_sizes)
{
	static const char *const sizes[][2] = {
		{ "1536K", "1536K" }, { "4097", "4097" }, { "1T", "1T" },
		{ "2048T", "2048T" }, { "3M", "3M" }, { "1024", "1K" },
	};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char want[64];
		char *text;

		cfg_reset();
		ck_assert_int_eq(parse_key("max_total_size", sizes[i][0]), 0);
		text = print_config(&cfg);
		snprintf(want, sizeof(want), "max_total_size = %s\n", sizes[i][1]);
		ck_assert_msg(strstr(text, want), "%s printed as:\n%s", sizes[i][0], text);
		free(text);
		assert_print_reparses();
	}
}
END_TEST

/* ---- sizes ---- */

static const struct {
	const char *text;
	uint64_t bytes;
} good_sizes[] = {
	{ "0", 0 },
	{ "4096", 4096 },
	{ "64K", 64 * KiB },
	{ "64k", 64 * KiB },
	{ "1M", MiB },
	{ "1m", MiB },
	{ "16G", 16 * GiB },
	{ "2T", 2 * TiB },
	{ "64MiB", 64 * MiB },
	{ "64MB", 64 * MiB },
	{ "512B", 512 },
	{ " 64K", 64 * KiB },
	{ "64K ", 64 * KiB },
	{ "\t1M\n", MiB },
	{ "16777215T", 16777215 * TiB },
	{ "18446744073709551615", UINT64_MAX },
};

START_TEST(test_parse_size)
{
	uint64_t got = 12345;
	int rc = config_parse_size(good_sizes[_i].text, &got);

	ck_assert_msg(rc == 0, "'%s': %d", good_sizes[_i].text, rc);
	ck_assert_msg(got == good_sizes[_i].bytes, "'%s' gave %llu, not %llu",
		      good_sizes[_i].text, (unsigned long long)got,
		      (unsigned long long)good_sizes[_i].bytes);
}
END_TEST

static const struct {
	const char *text;
	int rc;
} bad_sizes[] = {
	{ "", -EINVAL },
	{ " ", -EINVAL },
	{ "M", -EINVAL },
	{ "12Q", -EINVAL },
	{ "-5", -EINVAL },
	{ "+5", -EINVAL },
	{ "1.5G", -EINVAL },
	{ "64KB5", -EINVAL },
	{ "64Ki", -EINVAL },
	{ "64iB", -EINVAL },
	{ "64BB", -EINVAL },
	{ "0x10", -EINVAL },
	{ "K64", -EINVAL },
	{ "99999999999T", -ERANGE },
	{ "16777216T", -ERANGE },
	{ "16777216TiB", -ERANGE },
	{ "18446744073709551616", -ERANGE },
	{ "99999999999999999999999", -ERANGE },
	{ "17179869184G", -ERANGE },
};

START_TEST(test_parse_size_bad)
{
	uint64_t got = 12345;
	int rc = config_parse_size(bad_sizes[_i].text, &got);

	ck_assert_msg(rc == bad_sizes[_i].rc, "'%s': %d, expected %d", bad_sizes[_i].text, rc,
		      bad_sizes[_i].rc);
}
END_TEST

START_TEST(test_total_limit)
{
	/* No limit. */
	ck_assert_uint_eq(config_total_limit(&cfg, 8 * GiB), 0);

	ck_assert_int_eq(parse_key("max_total_size", "3G"), 0);
	ck_assert_uint_eq(config_total_limit(&cfg, 8 * GiB), 3 * GiB);
	/* Bytes are bytes, whatever the RAM. */
	ck_assert_uint_eq(config_total_limit(&cfg, 1 * GiB), 3 * GiB);

	cfg_reset();
	ck_assert_int_eq(parse_key("max_total_size", "50%"), 0);
	ck_assert_uint_eq(config_total_limit(&cfg, 8 * GiB), 4 * GiB);
	ck_assert_uint_eq(config_total_limit(&cfg, 1000000), 500000);

	cfg_reset();
	ck_assert_int_eq(parse_key("max_total_size", "100%"), 0);
	ck_assert_uint_eq(config_total_limit(&cfg, 64 * GiB), 64 * GiB);

	cfg_reset();
	ck_assert_int_eq(parse_key("max_total_size", "1%"), 0);
	ck_assert_uint_eq(config_total_limit(&cfg, 100 * GiB), GiB);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(config_passthrough_name(PASSTHROUGH_AUTO), "auto");
	ck_assert_str_eq(config_passthrough_name(PASSTHROUGH_ON), "on");
	ck_assert_str_eq(config_passthrough_name(PASSTHROUGH_OFF), "off");
	ck_assert_str_eq(config_lifetime_name(LIFETIME_KERNEL), "kernel");
	ck_assert_str_eq(config_lifetime_name(LIFETIME_DISK), "disk");
	ck_assert_str_eq(config_lifetime_name(LIFETIME_MOUNT), "mount");
	ck_assert_str_eq(config_lifetime_name(LIFETIME_PROCESS), "process");
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("core");
	tcase_add_checked_fixture(tc, cfg_setup, cfg_teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_empty_text_keeps_defaults);
	tcase_add_test(tc, test_every_key);
	tcase_add_test(tc, test_inline_comments);
	tcase_add_test(tc, test_choices);
	tcase_add_test(tc, test_size_keys);
	tcase_add_test(tc, test_attr_timeout_range);
	tcase_add_test(tc, test_empty_prefix);
	tcase_add_test(tc, test_line_of_199_characters);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, cfg_setup, cfg_teardown);
	tcase_add_loop_test(tc, test_bad_value, 0, N_BAD_VALUES);
	tcase_add_test(tc, test_unknown_key);
	tcase_add_test(tc, test_unknown_section);
	tcase_add_test(tc, test_empty_unknown_section);
	tcase_add_test(tc, test_section_with_blanks);
	tcase_add_test(tc, test_duplicate_key);
	tcase_add_test(tc, test_duplicate_section);
	tcase_add_test(tc, test_key_outside_section);
	tcase_add_test(tc, test_syntax_error);
	tcase_add_test(tc, test_shm_dir_missing);
	tcase_add_test(tc, test_shm_dir_is_a_file);
	tcase_add_test(tc, test_prefix_too_long);
	tcase_add_test(tc, test_line_too_long);
	tcase_add_test(tc, test_all_errors_reported);
	tcase_add_test(tc, test_many_errors);
	tcase_add_test(tc, test_empty_prefix_mount_sweep);
	tcase_add_test(tc, test_read_file_writable_by_others);
	suite_add_tcase(s, tc);

	tc = tcase_create("options");
	tcase_add_checked_fixture(tc, cfg_setup, cfg_teardown);
	tcase_add_test(tc, test_option_overrides_file);
	tcase_add_test(tc, test_option_repeated_last_wins);
	tcase_add_test(tc, test_option_bad_value);
	tcase_add_test(tc, test_is_shmfs_key);
	tcase_add_test(tc, test_read_file_missing);
	tcase_add_test(tc, test_read_file_directory);
	tcase_add_test(tc, test_read_file);
	tcase_add_test(tc, test_read_file_with_nul);
	tcase_add_test(tc, test_print_defaults);
	tcase_add_test(tc, test_print_settings);
	tcase_add_test(tc, test_print_odd_sizes);
	suite_add_tcase(s, tc);

	tc = tcase_create("sizes");
	tcase_add_checked_fixture(tc, cfg_setup, cfg_teardown);
	tcase_add_loop_test(tc, test_parse_size, 0,
			    (int)(sizeof(good_sizes) / sizeof(good_sizes[0])));
	tcase_add_loop_test(tc, test_parse_size_bad, 0,
			    (int)(sizeof(bad_sizes) / sizeof(bad_sizes[0])));
	tcase_add_test(tc, test_total_limit);
	suite_add_tcase(s, tc);

	return s;
}
