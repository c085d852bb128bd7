/* creds: the access checks the daemon makes for a CREATE that found its
 * name taken (mode bits, groups, fs.protected_regular), and acting as a
 * caller on one thread. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "creds.h"
#include "suites.h"
#include "unit.h"

static struct stat object(uid_t uid, gid_t gid, mode_t mode)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_uid = uid;
	st.st_gid = gid;
	st.st_mode = mode;
	return st;
}

static struct creds caller(uid_t uid, gid_t gid, int ngroups, const gid_t *groups)
{
	struct creds c;

	memset(&c, 0, sizeof(c));
	c.uid = uid;
	c.gid = gid;
	c.ngroups = ngroups;
	if (ngroups > 0)
		memcpy(c.groups, groups, (size_t)ngroups * sizeof(gid_t));
	return c;
}

START_TEST(test_owner_group_other_bits)
{
	struct stat st = object(1000, 100, S_IFREG | 0640);
	struct creds owner = caller(1000, 1000, 0, NULL);
	struct creds member = caller(2000, 100, 0, NULL);
	struct creds other = caller(3000, 3000, 0, NULL);

	ck_assert_int_eq(creds_may_access(&owner, &st, R_OK | W_OK), 0);
	ck_assert_int_eq(creds_may_access(&member, &st, R_OK), 0);
	ck_assert_int_eq(creds_may_access(&member, &st, W_OK), -EACCES);
	ck_assert_int_eq(creds_may_access(&other, &st, R_OK), -EACCES);
}
END_TEST

START_TEST(test_owner_bits_rule_even_when_the_group_would_allow)
{
	struct stat st = object(1000, 100, S_IFREG | 0060);
	struct creds owner = caller(1000, 100, 0, NULL);

	ck_assert_int_eq(creds_may_access(&owner, &st, R_OK), -EACCES);
}
END_TEST

START_TEST(test_supplementary_groups_count)
{
	static const gid_t groups[] = { 7, 100 };
	struct stat st = object(1000, 100, S_IFREG | 0660);
	struct creds in_group = caller(2000, 2000, 2, groups);
	struct creds not_in = caller(2000, 2000, 1, groups);

	ck_assert_int_eq(creds_may_access(&in_group, &st, R_OK | W_OK), 0);
	ck_assert_int_eq(creds_may_access(&not_in, &st, R_OK), -EACCES);
}
END_TEST

START_TEST(test_root_reads_and_writes_anything)
{
	struct stat st = object(1000, 100, S_IFREG | 0000);
	struct creds root = caller(0, 0, 0, NULL);

	ck_assert_int_eq(creds_may_access(&root, &st, R_OK | W_OK), 0);
	ck_assert_int_eq(creds_may_access(&root, &st, X_OK), -EACCES);
}
END_TEST

START_TEST(test_protected_regular)
{
	struct stat dir = object(0, 0, S_IFDIR | 01777);
	struct stat group_dir = object(0, 50, S_IFDIR | 01770);
	struct stat plain_dir = object(0, 0, S_IFDIR | 0777);
	struct stat theirs = object(1000, 1000, S_IFREG | 0666);
	struct stat mine = object(2000, 2000, S_IFREG | 0600);
	struct creds me = caller(2000, 2000, 0, NULL);

	ck_assert_int_eq(creds_may_open_in_sticky(&me, &dir, &theirs, 0), 0);
	ck_assert_int_eq(creds_may_open_in_sticky(&me, &dir, &theirs, 1), -EACCES);
	ck_assert_int_eq(creds_may_open_in_sticky(&me, &dir, &mine, 2), 0);
	ck_assert_int_eq(creds_may_open_in_sticky(&me, &plain_dir, &theirs, 2), 0);
	ck_assert_int_eq(creds_may_open_in_sticky(&me, &group_dir, &theirs, 1), 0);
	ck_assert_int_eq(creds_may_open_in_sticky(&me, &group_dir, &theirs, 2), -EACCES);
}
END_TEST

START_TEST(test_a_file_made_as_a_caller_is_the_callers)
{
	char dir[] = "/dev/shm/shmfs-unit-XXXXXX";
	struct creds c = caller(61003, 61004, 0, NULL);
	struct stat st;
	int fd, rc;

	skip_unless_root("only root switches to a caller");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chmod(dir, 01777), 0);
	ck_assert_int_eq(creds_become(&c), 0);
	fd = openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY);
	rc = fd < 0 ? -1 : mkdirat(fd, "made", 0700);
	creds_restore();
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(fstatat(fd, "made", &st, 0), 0);
	ck_assert_int_eq(st.st_uid, 61003);
	ck_assert_int_eq(st.st_gid, 61004);
	/* Back to root: what only root may do works again. */
	ck_assert_int_eq(fchownat(fd, "made", 0, 0, 0), 0);
	ck_assert_int_eq(unlinkat(fd, "made", AT_REMOVEDIR), 0);
	close(fd);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

Suite *creds_suite(void)
{
	Suite *s = suite_create("creds");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_owner_group_other_bits);
	tcase_add_test(tc, test_owner_bits_rule_even_when_the_group_would_allow);
	tcase_add_test(tc, test_supplementary_groups_count);
	tcase_add_test(tc, test_root_reads_and_writes_anything);
	tcase_add_test(tc, test_protected_regular);
	tcase_add_test(tc, test_a_file_made_as_a_caller_is_the_callers);
	suite_add_tcase(s, tc);
	return s;
}
