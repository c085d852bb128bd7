/* store: how mount names map to backing names and back, and opening a
 * store's top directory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "suites.h"
#include "unit.h"

/* A store with this prefix, for the naming rules: they need no directory. */
static struct store named(const char *prefix)
{
	struct store st;

	memset(&st, 0, sizeof(st));
	st.dirfd = -1;
	snprintf(st.prefix, sizeof(st.prefix), "%s", prefix);
	return st;
}

static int fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/* ---- names ---- */

START_TEST(test_backing_name)
{
	struct store st = named("shmfs.");
	char out[NAME_MAX + 1];

	ck_assert_int_eq(store_backing_name(&st, 1, "cam0", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "shmfs.cam0");
	/* Deeper directories hold plain names. */
	ck_assert_int_eq(store_backing_name(&st, 0, "cam0", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "cam0");
	/* Dots inside or around a name are part of it. */
	ck_assert_int_eq(store_backing_name(&st, 1, "...", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "shmfs....");
	ck_assert_int_eq(store_backing_name(&st, 1, ".hidden", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "shmfs..hidden");
}
END_TEST

START_TEST(test_backing_name_not_a_component)
{
	static const char *const bad[] = { "", ".", "..", "a/b", "/a", "a/", "/" };
	struct store st = named("shmfs.");
	char out[NAME_MAX + 1];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (int top = 0; top <= 1; top++) {
			int rc = store_backing_name(&st, top, bad[i], out, sizeof(out));

			ck_assert_msg(rc == -EINVAL, "'%s' (top %d): %d, expected -EINVAL",
				      bad[i], top, rc);
		}
	}
}
END_TEST

START_TEST(test_backing_name_length)
{
	struct store st = named("shmfs.");
	char name[NAME_MAX + 2];
	char out[NAME_MAX + 16];
	size_t fit = NAME_MAX - strlen("shmfs.");

	/* Exactly NAME_MAX once prefixed. */
	memset(name, 'n', fit);
	name[fit] = '\0';
	ck_assert_int_eq(store_backing_name(&st, 1, name, out, sizeof(out)), 0);
	ck_assert_uint_eq(strlen(out), NAME_MAX);
	ck_assert_int_eq(strncmp(out, "shmfs.", 6), 0);
	ck_assert_str_eq(out + 6, name);

	/* One byte more. */
	name[fit] = 'n';
	name[fit + 1] = '\0';
	ck_assert_int_eq(store_backing_name(&st, 1, name, out, sizeof(out)), -ENAMETOOLONG);
	/* Below the top there is no prefix, so it fits there. */
	ck_assert_int_eq(store_backing_name(&st, 0, name, out, sizeof(out)), 0);
	ck_assert_str_eq(out, name);

	memset(name, 'n', NAME_MAX + 1);
	name[NAME_MAX + 1] = '\0';
	ck_assert_int_eq(store_backing_name(&st, 0, name, out, sizeof(out)), -ENAMETOOLONG);
	name[NAME_MAX] = '\0';
	ck_assert_int_eq(store_backing_name(&st, 0, name, out, sizeof(out)), 0);
}
END_TEST

/* A buffer too small for the name is refused, never overrun. */
START_TEST(test_backing_name_small_buffer)
{
	struct store st = named("shmfs.");
	char out[16];

	memset(out, '#', sizeof(out));
	ck_assert_int_eq(store_backing_name(&st, 1, "cam0", out, 10), -ENAMETOOLONG);
	for (size_t i = 10; i < sizeof(out); i++)
		ck_assert_int_eq(out[i], '#');
	ck_assert_int_eq(store_backing_name(&st, 1, "cam0", out, 11), 0);
	ck_assert_str_eq(out, "shmfs.cam0");
}
END_TEST

START_TEST(test_backing_name_empty_prefix)
{
	struct store st = named("");
	char out[NAME_MAX + 1];
	char name[NAME_MAX + 2];

	ck_assert_int_eq(store_backing_name(&st, 1, "cam0", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "cam0");
	ck_assert_int_eq(store_backing_name(&st, 1, "..", out, sizeof(out)), -EINVAL);
	memset(name, 'n', NAME_MAX);
	name[NAME_MAX] = '\0';
	ck_assert_int_eq(store_backing_name(&st, 1, name, out, sizeof(out)), 0);
	name[NAME_MAX] = 'n';
	name[NAME_MAX + 1] = '\0';
	ck_assert_int_eq(store_backing_name(&st, 1, name, out, sizeof(out)), -ENAMETOOLONG);
}
END_TEST

START_TEST(test_visible_name)
{
	struct store st = named("shmfs.");

	ck_assert_str_eq(store_visible_name(&st, 1, "shmfs.cam0"), "cam0");
	/* Not ours: other programs' objects in shm_dir are not shown. */
	ck_assert_ptr_null(store_visible_name(&st, 1, "other"));
	ck_assert_ptr_null(store_visible_name(&st, 1, "shmfs"));
	ck_assert_ptr_null(store_visible_name(&st, 1, "xshmfs.cam0"));
	/* Below the top, every name is shown as it is. */
	ck_assert_str_eq(store_visible_name(&st, 0, "other"), "other");
	ck_assert_str_eq(store_visible_name(&st, 0, "shmfs.cam0"), "shmfs.cam0");
}
END_TEST

/* Nothing is shown under a name the mount cannot have. */
START_TEST(test_visible_name_hidden)
{
	struct store st = named("shmfs.");

	ck_assert_ptr_null(store_visible_name(&st, 1, "shmfs."));
	ck_assert_ptr_null(store_visible_name(&st, 1, "shmfs.."));
	ck_assert_ptr_null(store_visible_name(&st, 1, "shmfs..."));
	ck_assert_str_eq(store_visible_name(&st, 1, "shmfs...."), "...");
	for (int top = 0; top <= 1; top++) {
		ck_assert_ptr_null(store_visible_name(&st, top, "."));
		ck_assert_ptr_null(store_visible_name(&st, top, ".."));
	}
}
END_TEST

START_TEST(test_visible_name_empty_prefix)
{
	struct store st = named("");

	ck_assert_str_eq(store_visible_name(&st, 1, "cam0"), "cam0");
	ck_assert_str_eq(store_visible_name(&st, 1, "shmfs.cam0"), "shmfs.cam0");
	ck_assert_ptr_null(store_visible_name(&st, 1, "."));
	ck_assert_ptr_null(store_visible_name(&st, 1, ".."));
}
END_TEST

/* What store_backing_name makes, store_visible_name shows as it was. */
START_TEST(test_names_round_trip)
{
	static const char *const names[] = { "cam0", "a", "...", ".x", "shmfs.y", "a b" };
	struct store st = named("shmfs.");
	char out[NAME_MAX + 1];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		for (int top = 0; top <= 1; top++) {
			const char *shown;

			ck_assert_int_eq(store_backing_name(&st, top, names[i], out, sizeof(out)), 0);
			shown = store_visible_name(&st, top, out);
			ck_assert_msg(shown && strcmp(shown, names[i]) == 0,
				      "'%s' (top %d) came back as '%s'", names[i], top,
				      shown ? shown : "(hidden)");
		}
	}
}
END_TEST

START_TEST(test_type_shown)
{
	ck_assert(store_type_shown(S_IFREG | 0644));
	ck_assert(store_type_shown(S_IFDIR | 0755));
	ck_assert(store_type_shown(S_IFLNK | 0777));
	ck_assert(store_type_shown(S_IFIFO | 0644));
	ck_assert(store_type_shown(S_IFCHR | 0644));
	ck_assert(store_type_shown(S_IFBLK | 0644));
	ck_assert(store_type_shown(S_IFSOCK | 0755));
	ck_assert(!store_type_shown(0644));
}
END_TEST

START_TEST(test_backend_name)
{
	ck_assert_str_eq(store_backend_name(STORE_SHM), "shm");
	ck_assert_str_eq(store_backend_name(STORE_FILE), "file");
}
END_TEST

/* ---- open ---- */

START_TEST(test_open)
{
	struct store st;
	struct stat sb, dir;
	char path[PATH_MAX];
	int fd;

	ck_assert_int_eq(store_open(&st, tmpdir, "shmfs.", STORE_FILE, LIFETIME_DISK), 0);
	ck_assert_int_ge(st.dirfd, 0);
	ck_assert_int_eq(fstat(st.dirfd, &sb), 0);
	ck_assert_int_eq(stat(tmpdir, &dir), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	ck_assert(sb.st_dev == dir.st_dev && sb.st_ino == dir.st_ino);
	ck_assert_str_eq(st.path, tmpdir);
	ck_assert_str_eq(st.prefix, "shmfs.");
	ck_assert_int_eq(st.backend, STORE_FILE);
	ck_assert_int_eq(st.lifetime, LIFETIME_DISK);

	/* Objects are reached from the store's fd. */
	fd = openat(st.dirfd, "shmfs.cam0", O_RDWR | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/shmfs.cam0", tmpdir);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert(S_ISREG(sb.st_mode));

	fd = st.dirfd;
	store_close(&st);
	ck_assert_int_eq(st.dirfd, -1);
	ck_assert(fcntl(fd, F_GETFD) == -1 && errno == EBADF);
	/* Closing twice is harmless. */
	store_close(&st);
}
END_TEST

START_TEST(test_open_missing)
{
	struct store st;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	ck_assert_int_eq(store_open(&st, path, "shmfs.", STORE_SHM, LIFETIME_KERNEL), -ENOENT);
}
END_TEST

START_TEST(test_open_file)
{
	struct store st;
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/plain", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(store_open(&st, path, "shmfs.", STORE_SHM, LIFETIME_KERNEL), -ENOTDIR);
}
END_TEST

/* Graft paths on disk are opened a component at a time and never through
 * a symlink, whenever they are opened, not only when the config was read. */
START_TEST(test_open_path_no_symlinks)
{
	char path[PATH_MAX], link[PATH_MAX], via[PATH_MAX + 8];
	struct stat sb;
	int fd, made = -1;

	snprintf(path, sizeof(path), "%s/a/b/c", tmpdir);
	fd = store_open_path(path, 1, 0700, &made);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(made, 1);
	ck_assert_int_eq(fstat(fd, &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	ck_assert_int_eq(sb.st_mode & 07777, 0700);
	close(fd);
	fd = store_open_path(path, 1, 0700, &made);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(made, 0);
	close(fd);

	snprintf(link, sizeof(link), "%s/l", tmpdir);
	snprintf(via, sizeof(via), "%s/b/c", link);
	ck_assert_int_eq(symlink("a", link), 0);
	ck_assert_int_eq(store_open_path(via, 0, 0, NULL), -ELOOP);
	ck_assert_int_eq(store_open_path(link, 0, 0, NULL), -ELOOP);
	snprintf(via, sizeof(via), "%s/new", link);
	ck_assert_int_eq(store_open_path(via, 1, 0755, NULL), -ELOOP);
	snprintf(via, sizeof(via), "%s/a/new", tmpdir);
	ck_assert_msg(lstat(via, &sb) != 0, "made through the link");
	ck_assert_int_eq(store_open_path("relative", 0, 0, NULL), -EINVAL);
	unlink(link);
}
END_TEST

/* A failed open leaves nothing for store_close to close: cleanup code may
 * close every store it tried to open, and must not take someone else's fd. */
START_TEST(test_close_after_failed_open)
{
	char prefix[NAME_MAX + 2];
	char path[PATH_MAX];
	struct store st;
	/* fds 0..fd are all open: a stray close of a low fd would show. */
	int fd = open("/dev/null", O_RDONLY);
	int low;

	ck_assert_int_ge(fd, 0);
	memset(prefix, 'p', sizeof(prefix) - 1);
	prefix[sizeof(prefix) - 1] = '\0';
	ck_assert_int_eq(store_open(&st, tmpdir, prefix, STORE_SHM, LIFETIME_KERNEL),
			 -ENAMETOOLONG);
	store_close(&st);
	for (low = 0; low <= fd; low++)
		ck_assert_msg(fd_is_open(low), "fd %d was closed", low);

	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	ck_assert_int_eq(store_open(&st, path, "shmfs.", STORE_SHM, LIFETIME_KERNEL), -ENOENT);
	store_close(&st);
	for (low = 0; low <= fd; low++)
		ck_assert_msg(fd_is_open(low), "fd %d was closed", low);
	close(fd);
}
END_TEST

Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc;

	tc = tcase_create("names");
	tcase_add_test(tc, test_backing_name);
	tcase_add_test(tc, test_backing_name_not_a_component);
	tcase_add_test(tc, test_backing_name_length);
	tcase_add_test(tc, test_backing_name_small_buffer);
	tcase_add_test(tc, test_backing_name_empty_prefix);
	tcase_add_test(tc, test_visible_name);
	tcase_add_test(tc, test_visible_name_hidden);
	tcase_add_test(tc, test_visible_name_empty_prefix);
	tcase_add_test(tc, test_names_round_trip);
	tcase_add_test(tc, test_type_shown);
	tcase_add_test(tc, test_backend_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("open");
	tcase_add_unchecked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, test_open);
	tcase_add_test(tc, test_open_missing);
	tcase_add_test(tc, test_open_file);
	tcase_add_test(tc, test_close_after_failed_open);
	tcase_add_test(tc, test_open_path_no_symlinks);
	suite_add_tcase(s, tc);

	return s;
}
