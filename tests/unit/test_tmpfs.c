/* tmpfs and the private store kind: the option checks, the config keys of
 * store = private (root and [dir]) with their errors at the right line, and
 * a real tmpfs made with the new mount API where the runner may (root):
 * its caps hold and nothing of it has a path. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "config.h"
#include "stores.h"
#include "suites.h"
#include "tmpfs.h"
#include "unit.h"

static int parse(const char *text)
{
	return parse_config(&cfg, text, "t.ini");
}

/* ---- options ---- */

START_TEST(test_huge_names)
{
	static const char *const names[] = { "never", "always", "within_size", "advise" };
	enum tmpfs_huge h;

	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(tmpfs_parse_huge(names[i], &h), 0);
		ck_assert_str_eq(tmpfs_huge_name(h), names[i]);
	}
	ck_assert_int_eq(tmpfs_parse_huge("sometimes", &h), -EINVAL);
	ck_assert_int_eq(tmpfs_parse_huge("Always", &h), -EINVAL);
	ck_assert_int_eq(tmpfs_parse_huge("deny", &h), -EINVAL); /* sysfs only */
}
END_TEST

START_TEST(test_mpol_forms)
{
	static const char *const good[] = {
		"default", "local", "prefer", "prefer:0", "bind:0", "bind:0-3", "bind:0,2-3",
		"interleave", "interleave:0-1", "bind=static:1", "interleave=relative:0",
		"weighted-interleave",
	};
	static const char *const bad[] = {
		"", "bind", "bind:", "bind:a", "bind:3-1", "bind:0,", "prefer:0-1", "prefer:",
		"local:0", "default:0", "default=static", "random", "interleave=dynamic:0",
		"bind:0 ", "bind:-1",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(tmpfs_check_mpol(good[i]) == 0, "'%s' is a policy", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(tmpfs_check_mpol(bad[i]) == -EINVAL, "'%s' is not", bad[i]);
}
END_TEST

/* What fsconfig is given: only what was set, and the root's mode. */
START_TEST(test_option_strings)
{
	struct tmpfs_opts o;
	char value[80];
	const char *key;
	int set = 0;

	tmpfs_opts_init(&o);
	for (size_t i = 0; i < TMPFS_NOPTS; i++)
		set += tmpfs_option(&o, i, &key, value, sizeof(value));
	ck_assert_int_eq(set, 1);
	ck_assert_str_eq(key, "mode");
	ck_assert_str_eq(value, "1777");
	o.size_set = 1;
	o.size_percent = 25;
	ck_assert_int_eq(tmpfs_option(&o, 0, &key, value, sizeof(value)), 1);
	ck_assert_str_eq(key, "size");
	ck_assert_str_eq(value, "25%");
	o.size_percent = 0;
	o.size = 16 * MiB;
	tmpfs_option(&o, 0, &key, value, sizeof(value));
	ck_assert_str_eq(value, "16777216");
	o.huge_set = 1;
	o.huge = TMPFS_HUGE_WITHIN_SIZE;
	ck_assert_int_eq(tmpfs_option(&o, 2, &key, value, sizeof(value)), 1);
	ck_assert_str_eq(key, "huge");
	ck_assert_str_eq(value, "within_size");
}
END_TEST

/* ---- config ---- */

START_TEST(test_private_root)
{
	ck_assert_int_eq(parse("[shmfs]\nstore = private\nsize = 1G\nnr_inodes = 10k\n"
			       "huge = within_size\nmpol = interleave\nmode = 0700\n"), 0);
	ck_assert_int_eq(cfg.store, STORE_PRIVATE);
	ck_assert_int_eq(cfg.lifetime, LIFETIME_MOUNT);
	ck_assert_str_eq(cfg.prefix, ""); /* no shared names: nothing to tell apart */
	ck_assert_uint_eq(cfg.tmpfs.size, GiB);
	ck_assert_uint_eq(cfg.tmpfs.nr_inodes, 10 * KiB);
	ck_assert_int_eq(cfg.tmpfs.huge, TMPFS_HUGE_WITHIN_SIZE);
	ck_assert_str_eq(cfg.tmpfs.mpol, "interleave");
	ck_assert_uint_eq(cfg.tmpfs.mode, 0700);
	cfg_reset();
	ck_assert_int_eq(parse("[shmfs]\nstore = private\nsize = 25%\nlifetime = mount\n"), 0);
	ck_assert_uint_eq(cfg.tmpfs.size_percent, 25);
	/* shm_dir and prefix do not apply, and are not errors (the example
	 * config sets them). */
	cfg_reset();
	ck_assert_int_eq(parse("[shmfs]\nshm_dir = /dev/shm\nprefix = p.\nstore = private\n"), 0);
	ck_assert_str_eq(cfg.prefix, "");
}
END_TEST

START_TEST(test_private_root_option)
{
	ck_assert_int_eq(config_add_option(&cfg, "store", "private"), 0);
	ck_assert_int_eq(config_add_option(&cfg, "size", "1G"), 0);
	ck_assert_int_eq(config_validate(&cfg), 0);
	ck_assert_int_eq(cfg.store, STORE_PRIVATE);
	ck_assert_uint_eq(cfg.tmpfs.size, GiB);
}
END_TEST

static void same_store(const struct config *a, const struct config *b)
{
	ck_assert_int_eq(a->store, b->store);
	ck_assert_int_eq(a->lifetime, b->lifetime);
	ck_assert_mem_eq(&a->tmpfs, &b->tmpfs, sizeof(a->tmpfs));
	ck_assert_uint_eq(a->ngrafts, b->ngrafts);
	for (size_t i = 0; i < a->ngrafts; i++) {
		ck_assert_int_eq(a->grafts[i].backend, b->grafts[i].backend);
		ck_assert_int_eq(a->grafts[i].lifetime, b->grafts[i].lifetime);
		ck_assert_mem_eq(&a->grafts[i].tmpfs, &b->grafts[i].tmpfs, sizeof(a->grafts[i].tmpfs));
	}
}

START_TEST(test_private_prints_back)
{
	char *text;

	ck_assert_int_eq(parse("[shmfs]\nstore = private\nsize = 10%\nhuge = always\n"
			       "[dir a]\nstore = private\nsize = 64M\nnr_inodes = 100\nmode = 0700\n"
			       "[dir b]\n"), 0);
	text = print_config(&cfg);
	ck_assert_ptr_null(strstr(text, "shm_dir"));
	ck_assert_ptr_nonnull(strstr(text, "store = private\nsize = 10%\nhuge = always\n"));
	assert_reparses(&cfg, text, same_store);
	free(text);
}
END_TEST

START_TEST(test_private_dir)
{
	const struct config_graft *g;

	ck_assert_int_eq(parse("[dir fast]\nstore = private\nsize = 1G\nhuge = always\n"
			       "mode = 0750\n"), 0);
	g = config_find_graft(&cfg, "fast");
	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(g->backend, STORE_PRIVATE);
	ck_assert_int_eq(g->lifetime, LIFETIME_MOUNT);
	ck_assert_uint_eq(g->tmpfs.size, GiB);
	ck_assert_uint_eq(g->tmpfs.mode, 0750);
	ck_assert_int_eq(cfg.store, STORE_SHM);
}
END_TEST

/* In a private root, declared shm names live in its tmpfs. */
START_TEST(test_grafts_in_private_root)
{
	ck_assert_int_eq(parse("[shmfs]\nstore = private\n[segment s]\nsize = 1M\n[dir d]\n"), 0);
	ck_assert_int_eq(cfg.grafts[0].lifetime, LIFETIME_MOUNT);
	ck_assert_int_eq(cfg.grafts[1].lifetime, LIFETIME_MOUNT);
	cfg_reset();
	ck_assert_int_eq(parse("[shmfs]\nstore = private\n[dir d]\nlifetime = process\n"), 0);
}
END_TEST

static const struct {
	const char *text;
	const char *where;
	const char *why;
} private_errors[] = {
	{ "[shmfs]\nstore = private\nsize = banana\n", "t.ini:3: ",
	  "size must be bytes such as 64M or 1G, or a share of RAM such as 25%, not 'banana'" },
	{ "[shmfs]\nstore = private\nsize = 0%\n", "t.ini:3: ", "1% to 100%" },
	{ "[shmfs]\nstore = private\nsize = 99999999999T\n", "t.ini:3: ", "size is too large" },
	{ "[shmfs]\nstore = private\nhuge = sometimes\n", "t.ini:3: ",
	  "huge must be never, always, within_size or advise, not 'sometimes'" },
	{ "[shmfs]\nstore = private\nnr_inodes = many\n", "t.ini:3: ", "nr_inodes must be" },
	{ "[shmfs]\nstore = private\nmpol = bind\n", "t.ini:3: ", "mpol must be" },
	{ "[shmfs]\nstore = private\nmode = 999\n", "t.ini:3: ", "mode must be octal" },
	{ "[shmfs]\nstore = tmpfs\n", "t.ini:2: ", "store must be shm or private, not 'tmpfs'" },
	{ "[shmfs]\nlifetime = kernel\nstore = private\n", "t.ini:2: ",
	  "lifetime = kernel is not possible with store = private" },
	{ "[shmfs]\nstore = private\nlifetime = disk\n", "t.ini:3: ",
	  "lifetime of the root store must be kernel or mount, not 'disk'" },
	{ "[shmfs]\nsize = 1G\n", "t.ini:2: ", "size is an option of store = private" },
	{ "[shmfs]\nhuge = always\n", "t.ini:2: ", "huge is an option of store = private" },
	{ "[dir d]\nstore = private\nlifetime = disk\n", "t.ini:3: ",
	  "[dir d]: lifetime = disk is not possible for a private dir" },
	{ "[dir d]\nstore = private\nlifetime = kernel\n", "t.ini:3: ", "private dir" },
	{ "[dir d]\nstore = private\nlifetime = process\n", "t.ini:3: ", "private dir" },
	{ "[dir d]\nstore = private\npath = /var/tmp/d\n", "t.ini:3: ",
	  "[dir d]: a private store has no path" },
	{ "[dir d]\nhuge = always\n", "t.ini:2: ",
	  "[dir d]: size, nr_inodes, huge and mpol are options of store = private" },
	{ "[dir d]\nstore = disk\n", "t.ini:2: ", "store must be shm or private, not 'disk'" },
	{ "[shmfs]\nstore = private\n[segment s]\nlifetime = kernel\n", "t.ini:4: ",
	  "[segment s]: lifetime = kernel is not possible in a private root store" },
};

#define N_PRIVATE_ERRORS (int)(sizeof(private_errors) / sizeof(private_errors[0]))

START_TEST(test_private_errors)
{
	ck_assert_int_eq(parse(private_errors[_i].text), -1);
	ck_assert_only_error(private_errors[_i].where, private_errors[_i].why);
}
END_TEST

/* ---- a real tmpfs (needs CAP_SYS_ADMIN) ---- */

/* The mount fd of a tmpfs with size bytes and nr_inodes, or -1 (the test
 * then has nothing to check: not root). */
static int small_tmpfs(uint64_t size, uint64_t nr_inodes)
{
	struct tmpfs_opts o;
	char why[256];
	int fd;

	tmpfs_opts_init(&o);
	o.size_set = o.nr_inodes_set = 1;
	o.size = size;
	o.nr_inodes = nr_inodes;
	o.mode = 0700;
	fd = tmpfs_mount(&o, why, sizeof(why));
	if (fd == -EPERM) {
		ck_assert_ptr_nonnull(strstr(why, "CAP_SYS_ADMIN"));
		return -1;
	}
	ck_assert_msg(fd >= 0, "%s", why);
	return fd;
}

START_TEST(test_mount_caps)
{
	char buf[64 * 1024] = { 0 };
	struct statvfs sv;
	struct stat st;
	int fd = small_tmpfs(MiB, 4), f, i;

	if (fd < 0)
		return;
	ck_assert_int_eq(fstatvfs(fd, &sv), 0);
	ck_assert_uint_eq((uint64_t)sv.f_blocks * sv.f_frsize, MiB);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	/* size: the 17th 64 KiB write finds no room. */
	f = openat(fd, "big", O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	ck_assert_int_ge(f, 0);
	for (i = 0; i < 16; i++)
		ck_assert_int_eq(write(f, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	ck_assert_int_eq(write(f, buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, ENOSPC);
	close(f);
	/* nr_inodes counts the root: three more files, then ENOSPC. */
	for (i = 0; i < 2; i++) {
		snprintf(buf, sizeof(buf), "f%d", i);
		f = openat(fd, buf, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
		ck_assert_int_ge(f, 0);
		close(f);
	}
	ck_assert_int_eq(openat(fd, "one-too-many", O_CREAT | O_RDWR | O_CLOEXEC, 0600), -1);
	ck_assert_int_eq(errno, ENOSPC);
	close(fd);
}
END_TEST

/* A detached mount is in no mount table. */
START_TEST(test_mount_has_no_path)
{
	char line[4096], link[256], proc[64];
	int fd = small_tmpfs(MiB, 0), count = 0;
	ssize_t n;
	FILE *f;

	if (fd < 0)
		return;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, link, sizeof(link) - 1);
	ck_assert_int_gt(n, 0);
	link[n] = '\0';
	ck_assert_str_eq(link, "/");
	f = fopen("/proc/self/mountinfo", "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		count += strstr(line, "size=1024k") != NULL;
	fclose(f);
	ck_assert_int_eq(count, 0);
	close(fd);
}
END_TEST

/* What tmpfs refuses is said in its own words. */
START_TEST(test_mount_refused)
{
	struct tmpfs_opts o;
	char why[256];
	int fd;

	tmpfs_opts_init(&o);
	strcpy(o.mpol, "bind:4095"); /* a node this machine does not have */
	fd = tmpfs_mount(&o, why, sizeof(why));
	if (fd == -EPERM)
		return;
	ck_assert_int_eq(fd, -EINVAL);
	ck_assert_msg(strstr(why, "tmpfs mpol=bind:4095") && strstr(why, "mpol"), "%s", why);
}
END_TEST

/* stores_open with store = private: the root is the tmpfs, with no prefix
 * and no path. */
START_TEST(test_stores_private_root)
{
	struct stores s;
	struct statvfs sv;

	ck_assert_int_eq(parse("[shmfs]\nstore = private\nsize = 2M\n[dir d]\nstore = private\n"
			       "size = 1M\n[segment s]\nsize = 4096\n"), 0);
	if (geteuid() != 0)
		return;
	ck_assert_int_eq(stores_open(&s, &cfg), 0);
	ck_assert_int_eq(s.root.backend, STORE_PRIVATE);
	ck_assert_str_eq(s.root.prefix, "");
	ck_assert_int_eq(fstatvfs(s.root.dirfd, &sv), 0);
	ck_assert_uint_eq((uint64_t)sv.f_blocks * sv.f_frsize, 2 * MiB);
	ck_assert_int_eq(s.grafts[0].store->backend, STORE_PRIVATE);
	ck_assert_int_eq(fstatvfs(s.grafts[0].store->dirfd, &sv), 0);
	ck_assert_uint_eq((uint64_t)sv.f_blocks * sv.f_frsize, MiB);
	/* The declared segment and the dir's placeholder are in the root. */
	ck_assert_int_eq(faccessat(s.root.dirfd, "s", F_OK, 0), 0);
	ck_assert_int_eq(faccessat(s.root.dirfd, "d", F_OK, 0), 0);
	stores_close(&s, 1);
}
END_TEST

Suite *tmpfs_suite(void)
{
	Suite *s = suite_create("tmpfs");
	TCase *tc;

	tc = tcase_create("options");
	tcase_add_test(tc, test_huge_names);
	tcase_add_test(tc, test_mpol_forms);
	tcase_add_test(tc, test_option_strings);
	suite_add_tcase(s, tc);

	tc = tcase_create("config");
	tcase_add_checked_fixture(tc, cfg_setup, cfg_teardown);
	tcase_add_test(tc, test_private_root);
	tcase_add_test(tc, test_private_root_option);
	tcase_add_test(tc, test_private_prints_back);
	tcase_add_test(tc, test_private_dir);
	tcase_add_test(tc, test_grafts_in_private_root);
	tcase_add_loop_test(tc, test_private_errors, 0, N_PRIVATE_ERRORS);
	suite_add_tcase(s, tc);

	tc = tcase_create("mount");
	tcase_add_checked_fixture(tc, cfg_setup, cfg_teardown);
	tcase_add_test(tc, test_mount_caps);
	tcase_add_test(tc, test_mount_has_no_path);
	tcase_add_test(tc, test_mount_refused);
	tcase_add_test(tc, test_stores_private_root);
	suite_add_tcase(s, tc);
	return s;
}
