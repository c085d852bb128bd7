/* grafts: what an operator sees from [segment NAME] and [dir NAME] sections.
 * Texts come from strings with the origin "t.ini"; paths they name are in a
 * directory of the test's own under /tmp. */
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "suites.h"
#include "unit.h"

/* tmpdir (unit.h) for this suite, once per TCase in the runner itself:
 * TMP/file (a regular file), TMP/sub (a directory), TMP/link -> sub and
 * TMP/flink -> file. tmpdir_teardown removes it. */
static void grafts_tmpdir_setup(void)
{
	char path[PATH_MAX];
	int fd;

	make_temp_dir(tmpdir, sizeof(tmpdir), "/tmp/shmfs-grafts-XXXXXX");
	snprintf(path, sizeof(path), "%s/file", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		perror(path);
		abort();
	}
	close(fd);
	snprintf(path, sizeof(path), "%s/sub", tmpdir);
	if (mkdir(path, 0755)) {
		perror(path);
		abort();
	}
	snprintf(path, sizeof(path), "%s/link", tmpdir);
	if (symlink("sub", path)) {
		perror(path);
		abort();
	}
	snprintf(path, sizeof(path), "%s/flink", tmpdir);
	if (symlink("file", path)) {
		perror(path);
		abort();
	}
}

/* Both passes, as the daemon runs them, on a text made from fmt: 0 when it
 * is a good config. */
static int parse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int parse(const char *fmt, ...)
{
	char text[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ck_assert_int_lt(n, (int)sizeof(text));
	return parse_config(&cfg, text, "t.ini");
}

/* A string of n copies of c, in a buffer to free. */
static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static uid_t uid_of(const char *user)
{
	struct passwd *pw = getpwnam(user);

	ck_assert_msg(pw != NULL, "no user %s on this machine", user);
	return pw->pw_uid;
}

static const struct config_graft *graft(const char *name)
{
	const struct config_graft *g = config_find_graft(&cfg, name);

	ck_assert_msg(g != NULL, "'%s' is not declared; errors:\n%s", name, cfg.errors);
	return g;
}

/* ---- core: good sections ---- */

START_TEST(test_segment_every_key)
{
	uid_t nobody = uid_of("nobody");
	const struct config_graft *g;

	ck_assert_int_eq(parse("[segment cam0]\n"           /* 1 */
			       "size = 64M\n"               /* 2 */
			       "mode = 0660\n"              /* 3 */
			       "owner = nobody\n"           /* 4 */
			       "group = 4321\n"             /* 5 */
			       "backend = file\n"           /* 6 */
			       "path = %s/cam0.dat\n"       /* 7 */
			       "prefault = yes\n"           /* 8 */
			       "lifetime = mount\n",        /* 9 */
			       tmpdir),
			 0);
	ck_assert_str_eq(cfg.errors, "");
	ck_assert_uint_eq(cfg.ngrafts, 1);
	g = graft("cam0");
	ck_assert_ptr_eq(g, &cfg.grafts[0]);
	ck_assert_str_eq(g->name, "cam0");
	ck_assert_int_eq(g->is_dir, 0);
	ck_assert_uint_eq(g->size, 64 * MiB);
	ck_assert_uint_eq(g->mode, 0660);
	ck_assert_uint_eq(g->uid, nobody);
	ck_assert_uint_eq(g->gid, 4321);
	ck_assert_int_eq(g->backend, STORE_FILE);
	ck_assert_str_eq(g->path + strlen(tmpdir), "/cam0.dat");
	ck_assert_int_eq(strncmp(g->path, tmpdir, strlen(tmpdir)), 0);
	ck_assert_int_eq(g->prefault, 1);
	ck_assert_int_eq(g->lifetime, LIFETIME_MOUNT);
	ck_assert_str_eq(g->origin, "t.ini");
	ck_assert_int_eq(g->line, 1);
}
END_TEST

/* Owners and groups by number, and by name. */
START_TEST(test_owner_and_group)
{
	ck_assert_int_eq(parse("[segment a]\nowner = 1234\ngroup = 5678\n"
			       "[segment b]\nowner = root\ngroup = root\n"
			       "[dir c]\nowner = nobody\ngroup = 0\n"),
			 0);
	ck_assert_uint_eq(graft("a")->uid, 1234);
	ck_assert_uint_eq(graft("a")->gid, 5678);
	ck_assert_uint_eq(graft("b")->uid, 0);
	ck_assert_uint_eq(graft("b")->gid, 0);
	ck_assert_uint_eq(graft("c")->uid, uid_of("nobody"));
	ck_assert_uint_eq(graft("c")->gid, 0);
}
END_TEST

START_TEST(test_segment_defaults)
{
	const struct config_graft *g;

	ck_assert_int_eq(parse("[segment a]\nsize = 4K\n"), 0);
	g = graft("a");
	ck_assert_int_eq(g->is_dir, 0);
	ck_assert_uint_eq(g->size, 4096);
	ck_assert_uint_eq(g->mode, 0600);
	ck_assert_int_eq(g->backend, STORE_SHM);
	ck_assert_int_eq(g->lifetime, LIFETIME_KERNEL);
	ck_assert_str_eq(g->path, "");
	ck_assert_uint_eq(g->uid, (uid_t)-1);
	ck_assert_uint_eq(g->gid, (gid_t)-1);
	ck_assert_int_eq(g->prefault, 0);
}
END_TEST

/* A file-backed segment lives on disk, and so does a dir with a path. */
START_TEST(test_defaults_on_disk)
{
	ck_assert_int_eq(parse("[segment f]\nbackend = file\npath = %s/f.dat\n"
			       "[dir d]\npath = %s/d\n"
			       "[dir s]\n",
			       tmpdir, tmpdir),
			 0);
	ck_assert_int_eq(graft("f")->backend, STORE_FILE);
	ck_assert_int_eq(graft("f")->lifetime, LIFETIME_DISK);
	ck_assert_uint_eq(graft("f")->mode, 0600);

	ck_assert_int_eq(graft("d")->is_dir, 1);
	ck_assert_int_eq(graft("d")->backend, STORE_FILE);
	ck_assert_int_eq(graft("d")->lifetime, LIFETIME_DISK);
	ck_assert_uint_eq(graft("d")->mode, 0755);
	ck_assert_uint_eq(graft("d")->uid, (uid_t)-1);
	ck_assert_uint_eq(graft("d")->gid, (gid_t)-1);

	ck_assert_int_eq(graft("s")->is_dir, 1);
	ck_assert_int_eq(graft("s")->backend, STORE_SHM);
	ck_assert_int_eq(graft("s")->lifetime, LIFETIME_KERNEL);
	ck_assert_uint_eq(graft("s")->mode, 0755);
	ck_assert_str_eq(graft("s")->path, "");
}
END_TEST

START_TEST(test_dir_every_key)
{
	const struct config_graft *g;
	char want[PATH_MAX];

	/* An existing directory, and one made at mount with its parents. */
	ck_assert_int_eq(parse("[dir a]\npath = %s/sub\nlifetime = process\nmode = 0700\n"
			       "owner = 10\ngroup = 20\n"
			       "[dir b]\npath = %s/new/deeper\n",
			       tmpdir, tmpdir),
			 0);
	g = graft("a");
	snprintf(want, sizeof(want), "%s/sub", tmpdir);
	ck_assert_str_eq(g->path, want);
	ck_assert_int_eq(g->is_dir, 1);
	ck_assert_int_eq(g->lifetime, LIFETIME_PROCESS);
	ck_assert_uint_eq(g->mode, 0700);
	ck_assert_uint_eq(g->uid, 10);
	ck_assert_uint_eq(g->gid, 20);
	ck_assert_int_eq(g->line, 1);
	ck_assert_int_eq(graft("b")->line, 7);
}
END_TEST

/* "[segment x]" with nothing under it declares x with the defaults. */
/* Blanks around a name in the brackets are not part of it. */
START_TEST(test_blanks_around_the_name)
{
	ck_assert_int_eq(parse("[dir  x ]\n[segment\ty\t]\nsize = 1K\n"), 0);
	ck_assert_uint_eq(graft("x")->is_dir, 1);
	ck_assert_uint_eq(graft("y")->size, 1024);
	ck_assert_ptr_null(config_find_graft(&cfg, "x "));
}
END_TEST

START_TEST(test_empty_sections)
{
	ck_assert_int_eq(parse("[segment x]\n[dir y]\n\n[segment z]\n"), 0);
	ck_assert_uint_eq(cfg.ngrafts, 3);
	ck_assert_int_eq(graft("x")->is_dir, 0);
	ck_assert_uint_eq(graft("x")->size, 0);
	ck_assert_uint_eq(graft("x")->mode, 0600);
	ck_assert_int_eq(graft("x")->lifetime, LIFETIME_KERNEL);
	ck_assert_int_eq(graft("x")->line, 1);
	ck_assert_int_eq(graft("y")->is_dir, 1);
	ck_assert_uint_eq(graft("y")->mode, 0755);
	ck_assert_int_eq(graft("y")->line, 2);
	ck_assert_int_eq(graft("z")->line, 4);
}
END_TEST

START_TEST(test_find_graft)
{
	ck_assert_uint_eq(cfg.ngrafts, 0);
	ck_assert_ptr_null(config_find_graft(&cfg, "a"));
	ck_assert_int_eq(parse("[shmfs]\nprefix = app.\n[segment a]\n[dir b]\n[segment c]\n"), 0);
	/* In the order declared. */
	ck_assert_uint_eq(cfg.ngrafts, 3);
	ck_assert_ptr_eq(config_find_graft(&cfg, "a"), &cfg.grafts[0]);
	ck_assert_ptr_eq(config_find_graft(&cfg, "b"), &cfg.grafts[1]);
	ck_assert_ptr_eq(config_find_graft(&cfg, "c"), &cfg.grafts[2]);
	/* Names are the mount's, never the backing's. */
	ck_assert_ptr_null(config_find_graft(&cfg, "app.a"));
	ck_assert_ptr_null(config_find_graft(&cfg, "d"));
	ck_assert_ptr_null(config_find_graft(&cfg, "A"));
	ck_assert_ptr_null(config_find_graft(&cfg, ""));
}
END_TEST

/* Which lifetimes each kind of graft may have. */
static const struct {
	const char *section; /* the part before lifetime = */
	const char *lifetime;
	int ok;
	const char *why; /* when not ok */
} lifetimes[] = {
	{ "[segment s]\n", "kernel", 1, NULL },
	{ "[segment s]\n", "mount", 1, NULL },
	{ "[segment s]\n", "disk", 0, "[segment s]: lifetime = disk is not possible for a shm segment" },
	{ "[segment s]\n", "process", 0,
	  "[segment s]: lifetime = process is not possible for a shm segment (declared segments "
	  "are pinned; use a [dir] with lifetime = process)" },
	{ "[segment s]\nbackend = file\npath = %s/s.dat\n", "disk", 1, NULL },
	{ "[segment s]\nbackend = file\npath = %s/s.dat\n", "mount", 1, NULL },
	{ "[segment s]\nbackend = file\npath = %s/s.dat\n", "kernel", 0,
	  "[segment s]: lifetime = kernel is not possible for a file-backed segment" },
	{ "[segment s]\nbackend = file\npath = %s/s.dat\n", "process", 0,
	  "[segment s]: lifetime = process is not possible for a file-backed segment (declared" },
	{ "[dir d]\n", "kernel", 1, NULL },
	{ "[dir d]\n", "mount", 1, NULL },
	{ "[dir d]\n", "process", 1, NULL },
	{ "[dir d]\n", "disk", 0, "[dir d]: lifetime = disk is not possible for a shm dir" },
	{ "[dir d]\npath = %s/d\n", "disk", 1, NULL },
	{ "[dir d]\npath = %s/d\n", "mount", 1, NULL },
	{ "[dir d]\npath = %s/d\n", "process", 1, NULL },
	{ "[dir d]\npath = %s/d\n", "kernel", 0,
	  "[dir d]: lifetime = kernel is not possible for a file-backed dir" },
};

START_TEST(test_lifetimes)
{
	char text[1024], head[512];

	snprintf(head, sizeof(head), lifetimes[_i].section, tmpdir);
	snprintf(text, sizeof(text), "%slifetime = %s\n", head, lifetimes[_i].lifetime);
	if (lifetimes[_i].ok) {
		ck_assert_msg(parse("%s", text) == 0, "%s:\n%s", text, cfg.errors);
		ck_assert_uint_eq(cfg.ngrafts, 1);
		ck_assert_str_eq(config_lifetime_name(cfg.grafts[0].lifetime),
				 lifetimes[_i].lifetime);
		ck_assert_int_ne(cfg.grafts[0].lifetime_line, 0);
	} else {
		char where[32];
		int line = 1;

		for (const char *p = head; *p; p++)
			line += *p == '\n';
		ck_assert_msg(parse("%s", text) == -1, "%s: accepted", text);
		/* Reported at the lifetime key's line. */
		snprintf(where, sizeof(where), "t.ini:%d: ", line);
		ck_assert_only_error(where, lifetimes[_i].why);
	}
}
END_TEST

/* ---- errors: each at the line that has it ---- */

START_TEST(test_unknown_lifetime)
{
	ck_assert_int_eq(parse("[segment a]\nsize = 1M\nlifetime = forever\n"), -1);
	ck_assert_only_error("t.ini:3: ",
			     "lifetime must be kernel, disk, mount or process, not 'forever'");
	cfg_reset();
	ck_assert_int_eq(parse("[dir d]\nlifetime = Kernel\n"), -1);
	ck_assert_only_error("t.ini:2: ", "not 'Kernel'");
}
END_TEST

START_TEST(test_file_without_path)
{
	ck_assert_int_eq(parse("[segment a]\nsize = 1M\nbackend = file\n"), -1);
	ck_assert_only_error("t.ini:3: ", "[segment a]: backend = file needs a path");
}
END_TEST

START_TEST(test_path_with_shm)
{
	ck_assert_int_eq(parse("[segment a]\nbackend = shm\npath = %s/a.dat\n", tmpdir), -1);
	ck_assert_only_error("t.ini:3: ", "[segment a]: path is for backend = file only");
	/* shm is the default backend. */
	cfg_reset();
	ck_assert_int_eq(parse("[segment a]\npath = %s/a.dat\n", tmpdir), -1);
	ck_assert_only_error("t.ini:2: ", "[segment a]: path is for backend = file only");
}
END_TEST

START_TEST(test_bad_backend)
{
	ck_assert_int_eq(parse("[segment a]\nbackend = disk\n"), -1);
	ck_assert_error("t.ini:2: ", "backend must be shm or file, not 'disk'");
}
END_TEST

START_TEST(test_path_not_absolute)
{
	ck_assert_int_eq(parse("[segment a]\nbackend = file\npath = data/a.dat\n"), -1);
	ck_assert_error("t.ini:3: ", "path must be an absolute path, not 'data/a.dat'");
	cfg_reset();
	ck_assert_int_eq(parse("[dir d]\npath = ./d\n"), -1);
	ck_assert_only_error("t.ini:2: ", "path must be an absolute path, not './d'");
	cfg_reset();
	ck_assert_int_eq(parse("[dir d]\npath =\n"), -1);
	ck_assert_only_error("t.ini:2: ", "path must be an absolute path, not ''");
}
END_TEST

START_TEST(test_dir_path_is_a_file)
{
	char want[PATH_MAX + 64];

	ck_assert_int_eq(parse("[dir d]\npath = %s/file\n", tmpdir), -1);
	snprintf(want, sizeof(want), "path %s/file is not a directory", tmpdir);
	ck_assert_only_error("t.ini:2: ", want);
}
END_TEST

START_TEST(test_segment_path_is_a_dir)
{
	char want[PATH_MAX + 64];

	ck_assert_int_eq(parse("[segment a]\nbackend = file\npath = %s/sub\n", tmpdir), -1);
	snprintf(want, sizeof(want), "path %s/sub is not a regular file", tmpdir);
	ck_assert_only_error("t.ini:3: ", want);
	/* An existing file is what a segment may have. */
	cfg_reset();
	ck_assert_int_eq(parse("[segment a]\nbackend = file\npath = %s/file\n", tmpdir), 0);
}
END_TEST

START_TEST(test_segment_path_no_directory)
{
	char want[2 * PATH_MAX];

	ck_assert_int_eq(parse("[segment a]\nbackend = file\npath = %s/missing/a.dat\n", tmpdir),
			 -1);
	snprintf(want, sizeof(want), "path %s/missing/a.dat: the directory %s/missing does not exist",
		 tmpdir, tmpdir);
	ck_assert_only_error("t.ini:3: ", want);
	/* A file where the directory should be. */
	cfg_reset();
	ck_assert_int_eq(parse("[segment a]\nbackend = file\npath = %s/file/a.dat\n", tmpdir), -1);
	snprintf(want, sizeof(want), "path %s/file/a.dat: ", tmpdir);
	ck_assert_only_error("t.ini:3: ", want);
	/* A dir's path is made with its parents at mount. */
	cfg_reset();
	ck_assert_int_eq(parse("[dir d]\npath = %s/missing/d\n", tmpdir), 0);
}
END_TEST

/* No way out of the path as written: no '.', '..' or symlinked parents. */
START_TEST(test_path_cannot_escape)
{
	char want[PATH_MAX + 64];

	ck_assert_int_eq(parse("[dir d]\npath = %s/a/../../etc\n", tmpdir), -1);
	ck_assert_only_error("t.ini:2: ", "'.' and '..' are not allowed in it");
	cfg_reset();
	ck_assert_int_eq(parse("[segment s]\nbackend = file\npath = %s/./s.dat\n", tmpdir), -1);
	ck_assert_only_error("t.ini:3: ", "'.' and '..' are not allowed in it");
	cfg_reset();
	ck_assert_int_eq(parse("[dir d]\npath = %s/link/sub\n", tmpdir), -1);
	snprintf(want, sizeof(want), "%s/link is a symbolic link; give the real path", tmpdir);
	ck_assert_only_error("t.ini:2: ", want);
	/* Dots inside names are names. */
	cfg_reset();
	ck_assert_int_eq(parse("[dir d]\npath = %s/x..y/.z\n", tmpdir), 0);
}
END_TEST

START_TEST(test_path_is_a_symlink)
{
	char want[PATH_MAX + 64];

	ck_assert_int_eq(parse("[dir d]\npath = %s/link\n", tmpdir), -1);
	snprintf(want, sizeof(want), "path %s/link: %s/link is a symbolic link; give the real path",
		 tmpdir, tmpdir);
	ck_assert_only_error("t.ini:2: ", want);
	cfg_reset();
	ck_assert_int_eq(parse("[segment a]\nbackend = file\npath = %s/flink\n", tmpdir), -1);
	snprintf(want, sizeof(want), "path %s/flink: %s/flink is a symbolic link; give the real path",
		 tmpdir, tmpdir);
	ck_assert_only_error("t.ini:3: ", want);
}
END_TEST

START_TEST(test_name_not_a_component)
{
	static const char *const bad[] = {
		"[segment a/b]", "[segment /a]", "[segment .]", "[segment ..]",
		"[dir a/b]", "[dir .]", "[dir ..]", "[dir x/]", "[segment ]",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[64];

		cfg_reset();
		ck_assert_msg(parse("[shmfs]\n%s\nmode = 0600\n", bad[i]) == -1, "%s accepted",
			      bad[i]);
		snprintf(want, sizeof(want), "%s: the name must be one path component", bad[i]);
		ck_assert_only_error("t.ini:2: ", want);
		ck_assert_uint_eq(cfg.ngrafts, 0);
	}
}
END_TEST

/* One name, one graft: a second declaration is refused, the first stays. */
START_TEST(test_same_name_twice)
{
	ck_assert_int_eq(parse("[segment x]\nsize = 1M\n[dir x]\nmode = 0700\n"), -1);
	ck_assert_only_error("t.ini:3: ", "[dir x]: 'x' is already declared at t.ini:1");
	ck_assert_uint_eq(cfg.ngrafts, 1);
	ck_assert_int_eq(graft("x")->is_dir, 0);
	ck_assert_uint_eq(graft("x")->size, MiB);
	ck_assert_uint_eq(graft("x")->mode, 0600);

	cfg_reset();
	ck_assert_int_eq(parse("[dir x]\n\n[segment x]\n"), -1);
	ck_assert_only_error("t.ini:3: ", "[segment x]: 'x' is already declared at t.ini:1");

	cfg_reset();
	ck_assert_int_eq(parse("[segment x]\n[segment x]\n"), -1);
	ck_assert_error("t.ini:2: ", "[segment x]");
	ck_assert_uint_eq(cfg.ngrafts, 1);
}
END_TEST

START_TEST(test_same_path_twice)
{
	char want[PATH_MAX + 128];

	ck_assert_int_eq(parse("[dir a]\npath = %s/d\n[dir b]\npath = %s/d\n", tmpdir, tmpdir), -1);
	snprintf(want, sizeof(want), "[dir b]: path %s/d is also the path of 'a' (line 1)", tmpdir);
	ck_assert_only_error("t.ini:4: ", want);

	cfg_reset();
	ck_assert_int_eq(parse("[segment a]\nbackend = file\npath = %s/s.dat\n"
			       "[segment b]\nbackend = file\npath = %s/s.dat\n",
			       tmpdir, tmpdir),
			 -1);
	snprintf(want, sizeof(want), "[segment b]: path %s/s.dat is also the path of 'a' (line 1)",
		 tmpdir);
	ck_assert_only_error("t.ini:6: ", want);
}
END_TEST

START_TEST(test_unknown_key)
{
	ck_assert_int_eq(parse("[segment a]\nsize = 1M\ncolour = red\n"), -1);
	ck_assert_only_error("t.ini:3: ", "unknown key 'colour' in [segment a] (known: size, mode, "
					  "owner, group, backend, path, prefault, lifetime)");
	/* What only segments have is unknown in a [dir]. */
	cfg_reset();
	ck_assert_int_eq(parse("[dir d]\nsize = 1M\nbackend = file\nprefault = yes\n"), -1);
	ck_assert_int_eq(cfg.nerrors, 3);
	/* size is a tmpfs option of private dirs. */
	ck_assert_error("t.ini:2: ", "[dir d]: size, nr_inodes, huge and mpol are options of "
				     "store = private");
	ck_assert_error("t.ini:3: ", "unknown key 'backend' in [dir d] (known: path, lifetime, "
				     "mode, owner, group, store, size, nr_inodes, huge, mpol)");
	ck_assert_error("t.ini:4: ", "unknown key 'prefault' in [dir d]");
}
END_TEST

START_TEST(test_bad_size)
{
	ck_assert_int_eq(parse("[segment a]\nsize = 12Q\n"), -1);
	ck_assert_only_error("t.ini:2: ", "size must be a size such as 4096, 64M or 16G, not '12Q'");
	cfg_reset();
	ck_assert_int_eq(parse("[segment a]\nsize = -1\n"), -1);
	ck_assert_only_error("t.ini:2: ", "not '-1'");
	cfg_reset();
	ck_assert_int_eq(parse("[segment a]\nsize = 99999999999T\n"), -1);
	ck_assert_only_error("t.ini:2: ", "size is too large: '99999999999T'");
}
END_TEST

START_TEST(test_bad_mode)
{
	static const char *const bad[] = { "999", "abc", "0o644", "10000", "-1", "" , "0644x" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[64];

		cfg_reset();
		ck_assert_msg(parse("[dir d]\nmode = %s\n", bad[i]) == -1, "mode '%s' accepted",
			      bad[i]);
		snprintf(want, sizeof(want), "mode must be octal such as 0660, not '%s'", bad[i]);
		ck_assert_only_error("t.ini:2: ", want);
	}
	cfg_reset();
	ck_assert_int_eq(parse("[segment a]\nmode = 7777\n[segment b]\nmode = 0\n"), 0);
	ck_assert_uint_eq(graft("a")->mode, 07777);
	ck_assert_uint_eq(graft("b")->mode, 0);
}
END_TEST

START_TEST(test_no_such_owner)
{
	ck_assert_int_eq(parse("[segment a]\nowner = no-such-user-xyz\n"
			       "group = no-such-group-xyz\n"),
			 -1);
	ck_assert_int_eq(cfg.nerrors, 2);
	ck_assert_error("t.ini:2: ", "owner: no such user 'no-such-user-xyz'");
	ck_assert_error("t.ini:3: ", "group: no such group 'no-such-group-xyz'");
	cfg_reset();
	ck_assert_int_eq(parse("[dir d]\nowner = 12abc\n"), -1);
	ck_assert_only_error("t.ini:2: ", "owner: no such user '12abc'");
}
END_TEST

START_TEST(test_bad_prefault)
{
	ck_assert_int_eq(parse("[segment a]\nprefault = maybe\n"), -1);
	ck_assert_only_error("t.ini:2: ", "prefault must be yes or no, not 'maybe'");
	cfg_reset();
	ck_assert_int_eq(parse("[segment a]\nprefault = no\n[segment b]\nprefault = on\n"), 0);
	ck_assert_int_eq(graft("a")->prefault, 0);
	ck_assert_int_eq(graft("b")->prefault, 1);
}
END_TEST

START_TEST(test_size_above_max_segment_size)
{
	ck_assert_int_eq(parse("[shmfs]\nmax_segment_size = 1M\n[segment big]\nsize = 2M\n"), -1);
	ck_assert_only_error("t.ini:4: ", "[segment big]: size is larger than max_segment_size");
	/* Whatever order the file gives them in. */
	cfg_reset();
	ck_assert_int_eq(parse("[segment big]\nsize = 1025K\n[shmfs]\nmax_segment_size = 1M\n"), -1);
	ck_assert_only_error("t.ini:2: ", "[segment big]: size is larger than max_segment_size");
	/* Exactly the limit is allowed. */
	cfg_reset();
	ck_assert_int_eq(parse("[shmfs]\nmax_segment_size = 1M\n[segment big]\nsize = 1024K\n"), 0);
}
END_TEST

START_TEST(test_name_too_long_with_prefix)
{
	char *prefix = repeat('p', 150);
	char *name = repeat('n', NAME_MAX - 150 + 1);

	ck_assert_int_eq(parse("[shmfs]\nprefix = %s\n[segment %s]\n", prefix, name), -1);
	ck_assert_only_error("t.ini:3: ", "the name is too long with prefix");
	/* Exactly NAME_MAX once prefixed. */
	name[NAME_MAX - 150] = '\0';
	cfg_reset();
	ck_assert_int_eq(parse("[shmfs]\nprefix = %s\n[dir %s]\n", prefix, name), 0);
	ck_assert_uint_eq(strlen(cfg.prefix) + strlen(cfg.grafts[0].name), NAME_MAX);
	free(prefix);
	free(name);
}
END_TEST

/* Every problem is reported in one go, each at its own line. */
START_TEST(test_all_errors_reported)
{
	ck_assert_int_eq(parse("[segment a]\n"         /* 1 */
			       "size = lots\n"         /* 2 */
			       "mode = rw\n"           /* 3 */
			       "[dir b]\n"             /* 4 */
			       "lifetime = disk\n"     /* 5 */
			       "[segment c/d]\n"       /* 6 */
			       "[segment e]\n"         /* 7 */
			       "backend = file\n"      /* 8 */
			       "[dir a]\n"),           /* 9 */
			 -1);
	ck_assert_int_eq(cfg.nerrors, 6);
	ck_assert_error("t.ini:2: ", "size must be a size");
	ck_assert_error("t.ini:3: ", "mode must be octal");
	ck_assert_error("t.ini:5: ", "[dir b]: lifetime = disk");
	ck_assert_error("t.ini:6: ", "[segment c/d]: the name must be one path component");
	ck_assert_error("t.ini:8: ", "[segment e]: backend = file needs a path");
	ck_assert_error("t.ini:9: ", "[dir a]: 'a' is already declared at t.ini:1");
}
END_TEST

/* ---- print ---- */

static void assert_same_grafts(const struct config *a, const struct config *b)
{
	ck_assert_uint_eq(a->ngrafts, b->ngrafts);
	for (size_t i = 0; i < a->ngrafts; i++) {
		const struct config_graft *x = &a->grafts[i], *y = &b->grafts[i];

		ck_assert_str_eq(x->name, y->name);
		ck_assert_int_eq(x->is_dir, y->is_dir);
		ck_assert_str_eq(x->path, y->path);
		ck_assert_int_eq(x->backend, y->backend);
		ck_assert_int_eq(x->lifetime, y->lifetime);
		ck_assert_uint_eq(x->size, y->size);
		ck_assert_uint_eq(x->mode, y->mode);
		ck_assert_uint_eq(x->uid, y->uid);
		ck_assert_uint_eq(x->gid, y->gid);
		ck_assert_int_eq(x->prefault, y->prefault);
	}
}

START_TEST(test_print_grafts)
{
	char want[PATH_MAX + 256];
	const char *sensors;
	char *text;

	ck_assert_int_eq(parse("[segment cam0]\nsize = 64M\nmode = 0660\nowner = 1234\n"
			       "group = 5678\nbackend = file\npath = %s/cam0.dat\nprefault = yes\n"
			       "lifetime = mount\n"
			       "[dir scratch]\nlifetime = process\n"
			       "[dir persist]\npath = %s/persist\n"
			       "[segment sensors]\nsize = 4097\n",
			       tmpdir, tmpdir),
			 0);
	text = print_config(&cfg);
	snprintf(want, sizeof(want),
		 "\n[segment cam0]\nsize = 64M\nbackend = file\nprefault = yes\n"
		 "path = %s/cam0.dat\nlifetime = mount\nmode = 0660\nowner = 1234\ngroup = 5678\n",
		 tmpdir);
	ck_assert_msg(strstr(text, want), "no\n%s\nin:\n%s", want, text);
	ck_assert_msg(strstr(text, "\n[dir scratch]\nlifetime = process\nmode = 0755\n"), "%s", text);
	snprintf(want, sizeof(want), "\n[dir persist]\npath = %s/persist\nlifetime = disk\n"
		 "mode = 0755\n", tmpdir);
	ck_assert_msg(strstr(text, want), "no\n%s\nin:\n%s", want, text);
	ck_assert_msg(strstr(text, "\n[segment sensors]\nsize = 4097\nbackend = shm\n"
				   "prefault = no\nlifetime = kernel\nmode = 0600\n"),
		      "%s", text);
	/* Nobody named: the daemon's own. */
	sensors = strstr(text, "[segment sensors]");
	ck_assert_ptr_nonnull(sensors);
	ck_assert_msg(!strstr(sensors, "owner"), "%s", text);
	/* In the order declared. */
	ck_assert(strstr(text, "[segment cam0]") < strstr(text, "[dir scratch]"));
	ck_assert(strstr(text, "[dir scratch]") < strstr(text, "[dir persist]"));
	ck_assert(strstr(text, "[dir persist]") < strstr(text, "[segment sensors]"));

	/* What --check-config prints reads back to the same settings. */
	assert_reparses(&cfg, text, assert_same_grafts);
	free(text);
}
END_TEST

Suite *grafts_suite(void)
{
	Suite *s = suite_create("grafts");
	TCase *tc;

	tc = tcase_create("core");
	tcase_add_unchecked_fixture(tc, grafts_tmpdir_setup, tmpdir_teardown);
	tcase_add_checked_fixture(tc, cfg_setup, cfg_teardown);
	tcase_add_test(tc, test_segment_every_key);
	tcase_add_test(tc, test_owner_and_group);
	tcase_add_test(tc, test_segment_defaults);
	tcase_add_test(tc, test_defaults_on_disk);
	tcase_add_test(tc, test_dir_every_key);
	tcase_add_test(tc, test_empty_sections);
	tcase_add_test(tc, test_blanks_around_the_name);
	tcase_add_test(tc, test_find_graft);
	tcase_add_loop_test(tc, test_lifetimes, 0, (int)(sizeof(lifetimes) / sizeof(lifetimes[0])));
	tcase_add_test(tc, test_print_grafts);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_unchecked_fixture(tc, grafts_tmpdir_setup, tmpdir_teardown);
	tcase_add_checked_fixture(tc, cfg_setup, cfg_teardown);
	tcase_add_test(tc, test_unknown_lifetime);
	tcase_add_test(tc, test_file_without_path);
	tcase_add_test(tc, test_path_with_shm);
	tcase_add_test(tc, test_bad_backend);
	tcase_add_test(tc, test_path_not_absolute);
	tcase_add_test(tc, test_dir_path_is_a_file);
	tcase_add_test(tc, test_segment_path_is_a_dir);
	tcase_add_test(tc, test_segment_path_no_directory);
	tcase_add_test(tc, test_path_is_a_symlink);
	tcase_add_test(tc, test_path_cannot_escape);
	tcase_add_test(tc, test_name_not_a_component);
	tcase_add_test(tc, test_same_name_twice);
	tcase_add_test(tc, test_same_path_twice);
	tcase_add_test(tc, test_unknown_key);
	tcase_add_test(tc, test_bad_size);
	tcase_add_test(tc, test_bad_mode);
	tcase_add_test(tc, test_no_such_owner);
	tcase_add_test(tc, test_bad_prefault);
	tcase_add_test(tc, test_size_above_max_segment_size);
	tcase_add_test(tc, test_name_too_long_with_prefix);
	tcase_add_test(tc, test_all_errors_reported);
	suite_add_tcase(s, tc);

	return s;
}
