/* limits: what max_segment_size, max_segments and max_total_size let a user
 * do, and what df shows of them. Pure arithmetic: no files. */
#include <errno.h>
#include <string.h>

#include "limit.h"
#include "suites.h"
#include "unit.h"

/* What a 4 GiB store with 4 KiB blocks and 1000 inodes might say. */
static struct statvfs backing(void)
{
	struct statvfs sv;

	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = 4096;
	sv.f_frsize = 4096;
	sv.f_blocks = GiB;
	sv.f_bfree = 900000;
	sv.f_bavail = 800000;
	sv.f_files = 1000;
	sv.f_ffree = 900;
	sv.f_favail = 900;
	sv.f_namemax = 255;
	return sv;
}

/* ---- limits ---- */

START_TEST(test_active)
{
	struct limits none = { .max_segment_size = 0 };
	struct limits size = { .max_segment_size = 1 };
	struct limits segs = { .max_segments = 1 };
	struct limits total = { .max_total_size = 1 };

	ck_assert(!limits_active(&none));
	ck_assert(limits_active(&size));
	ck_assert(limits_active(&segs));
	ck_assert(limits_active(&total));
}
END_TEST

START_TEST(test_check_size)
{
	struct limits l = { .max_segment_size = 16 * MiB };

	ck_assert_int_eq(limits_check_size(&l, 0), 0);
	ck_assert_int_eq(limits_check_size(&l, 16 * MiB - 1), 0);
	ck_assert_int_eq(limits_check_size(&l, 16 * MiB), 0);
	ck_assert_int_eq(limits_check_size(&l, 16 * MiB + 1), -EFBIG);
	ck_assert_int_eq(limits_check_size(&l, UINT64_MAX), -EFBIG);
}
END_TEST

START_TEST(test_check_size_no_limit)
{
	struct limits l = { .max_segment_size = 0, .max_segments = 1, .max_total_size = 1 };

	ck_assert_int_eq(limits_check_size(&l, 0), 0);
	ck_assert_int_eq(limits_check_size(&l, 1024 * GiB), 0);
	ck_assert_int_eq(limits_check_size(&l, UINT64_MAX), 0);
}
END_TEST

START_TEST(test_admit_segments)
{
	struct limits l = { .max_segments = 10 };
	struct usage u = { .segments = 9, .bytes = 0 };

	/* The tenth segment fits exactly; the eleventh does not. */
	ck_assert_int_eq(limits_admit(&l, &u, 1, 0), 0);
	ck_assert_int_eq(limits_admit(&l, &u, 2, 0), -ENOSPC);
	u.segments = 10;
	ck_assert_int_eq(limits_admit(&l, &u, 1, 0), -ENOSPC);
	/* Growing a segment that exists needs no new one. */
	ck_assert_int_eq(limits_admit(&l, &u, 0, (int64_t)GiB), 0);
	ck_assert_int_eq(limits_admit(&l, &u, -1, 0), 0);
}
END_TEST

START_TEST(test_admit_bytes)
{
	struct limits l = { .max_total_size = 64 * MiB };
	struct usage u = { .segments = 3, .bytes = 60 * MiB };

	ck_assert_int_eq(limits_admit(&l, &u, 0, (int64_t)(4 * MiB)), 0);
	ck_assert_int_eq(limits_admit(&l, &u, 1, (int64_t)(4 * MiB)), 0);
	ck_assert_int_eq(limits_admit(&l, &u, 0, (int64_t)(4 * MiB) + 1), -ENOSPC);
	ck_assert_int_eq(limits_admit(&l, &u, 0, INT64_MAX), -ENOSPC);
	/* No limit on the number of segments. */
	ck_assert_int_eq(limits_admit(&l, &u, 1000000, 0), 0);
}
END_TEST

/* Past max_total_size (passthrough writes grew a segment behind the
 * daemon's back), not even an empty segment is taken; at it exactly, one
 * is (an empty file takes no bytes). */
START_TEST(test_admit_no_segment_when_over)
{
	struct limits l = { .max_total_size = 16 * MiB };
	struct usage u = { .segments = 1, .bytes = 20 * MiB };

	ck_assert_int_eq(limits_admit(&l, &u, 1, 0), -ENOSPC);
	ck_assert_int_eq(limits_admit(&l, &u, -1, -(int64_t)(20 * MiB)), 0);
	u.bytes = 16 * MiB;
	ck_assert_int_eq(limits_admit(&l, &u, 1, 0), 0);
}
END_TEST

/* Over the limit (it was lowered, or others wrote to shm_dir): whatever
 * frees space is still allowed, whatever takes more is not. */
START_TEST(test_admit_shrink_when_over)
{
	struct limits l = { .max_segments = 2, .max_total_size = MiB };
	struct usage u = { .segments = 5, .bytes = 10 * MiB };

	ck_assert_int_eq(limits_admit(&l, &u, -1, -(int64_t)MiB), 0);
	ck_assert_int_eq(limits_admit(&l, &u, 0, -1), 0);
	ck_assert_int_eq(limits_admit(&l, &u, -1, 0), 0);
	ck_assert_int_eq(limits_admit(&l, &u, 0, 0), 0);
	ck_assert_int_eq(limits_admit(&l, &u, 0, 1), -ENOSPC);
	ck_assert_int_eq(limits_admit(&l, &u, 1, 0), -ENOSPC);
	/* A rename that drops one segment and grows another. */
	ck_assert_int_eq(limits_admit(&l, &u, -1, 1), -ENOSPC);
}
END_TEST

START_TEST(test_admit_no_limits)
{
	struct limits l = { .max_segment_size = 0 };
	struct usage u = { .segments = UINT64_MAX - 1, .bytes = UINT64_MAX - 1 };

	ck_assert_int_eq(limits_admit(&l, &u, 1, 1), 0);
	ck_assert_int_eq(limits_admit(&l, &u, INT64_MAX, INT64_MAX), 0);
}
END_TEST

START_TEST(test_apply)
{
	struct usage u = { 0, 0 };

	usage_apply(&u, 2, (int64_t)(3 * MiB));
	ck_assert_uint_eq(u.segments, 2);
	ck_assert_uint_eq(u.bytes, 3 * MiB);
	usage_apply(&u, -1, -(int64_t)MiB);
	ck_assert_uint_eq(u.segments, 1);
	ck_assert_uint_eq(u.bytes, 2 * MiB);
	usage_apply(&u, 0, 0);
	ck_assert_uint_eq(u.segments, 1);
	ck_assert_uint_eq(u.bytes, 2 * MiB);
}
END_TEST

/* A count that drifted below what is taken away stops at zero. */
START_TEST(test_apply_never_below_zero)
{
	struct usage u = { .segments = 1, .bytes = 100 };

	usage_apply(&u, -3, -1000);
	ck_assert_uint_eq(u.segments, 0);
	ck_assert_uint_eq(u.bytes, 0);
	usage_apply(&u, -1, -1);
	ck_assert_uint_eq(u.segments, 0);
	ck_assert_uint_eq(u.bytes, 0);
	usage_apply(&u, -INT64_MAX, -INT64_MAX);
	ck_assert_uint_eq(u.segments, 0);
	ck_assert_uint_eq(u.bytes, 0);
	usage_apply(&u, 1, 1);
	ck_assert_uint_eq(u.segments, 1);
	ck_assert_uint_eq(u.bytes, 1);
}
END_TEST

/* ---- statfs ---- */

START_TEST(test_statfs_total_size)
{
	struct limits l = { .max_total_size = 64 * MiB };
	struct usage u = { .segments = 2, .bytes = 10 * MiB };
	struct statvfs sv = backing();

	limits_statfs(&l, &u, &sv);
	ck_assert_uint_eq((uint64_t)sv.f_blocks * sv.f_frsize, 64 * MiB);
	ck_assert_uint_eq((uint64_t)sv.f_bfree * sv.f_frsize, 54 * MiB);
	ck_assert_uint_eq((uint64_t)sv.f_bavail * sv.f_frsize, 54 * MiB);
	ck_assert_uint_eq(sv.f_frsize, 4096);
	ck_assert_uint_eq(sv.f_bsize, 4096);
	/* No max_segments: the inodes are the store's. */
	ck_assert_uint_eq(sv.f_files, 1000);
	ck_assert_uint_eq(sv.f_ffree, 900);
	ck_assert_uint_eq(sv.f_favail, 900);
	ck_assert_uint_eq(sv.f_namemax, 255);
}
END_TEST

/* A limit that is not a whole number of blocks shows whole blocks; bytes
 * in use take whole blocks. */
START_TEST(test_statfs_rounding)
{
	struct limits l = { .max_total_size = 10 * MiB + 100 };
	struct usage u = { .segments = 1, .bytes = MiB + 1 };
	struct statvfs sv = backing();

	limits_statfs(&l, &u, &sv);
	ck_assert_uint_eq(sv.f_blocks, 2560);
	ck_assert_uint_eq((uint64_t)sv.f_blocks * sv.f_frsize, 10 * MiB);
	ck_assert_uint_eq(sv.f_bfree, 2560 - 257);
	ck_assert_uint_eq(sv.f_bavail, 2560 - 257);
}
END_TEST

/* df never promises more than the store behind it has left. */
START_TEST(test_statfs_backing_fuller)
{
	struct limits l = { .max_total_size = 64 * MiB };
	struct usage u = { .segments = 0, .bytes = 0 };
	struct statvfs sv = backing();

	sv.f_bfree = 200;
	sv.f_bavail = 100;
	limits_statfs(&l, &u, &sv);
	ck_assert_uint_eq((uint64_t)sv.f_blocks * sv.f_frsize, 64 * MiB);
	ck_assert_uint_eq(sv.f_bfree, 200);
	ck_assert_uint_eq(sv.f_bavail, 100);
}
END_TEST

/* A tmpfs mounted with size=0 has no size of its own and says 0 blocks,
 * 0 free: the limit is then all there is to show. */
START_TEST(test_statfs_unbounded_backing)
{
	struct limits l = { .max_total_size = 64 * MiB };
	struct usage u = { .segments = 1, .bytes = 4 * MiB };
	struct statvfs sv = backing();

	sv.f_blocks = 0;
	sv.f_bfree = 0;
	sv.f_bavail = 0;
	limits_statfs(&l, &u, &sv);
	ck_assert_uint_eq((uint64_t)sv.f_blocks * sv.f_frsize, 64 * MiB);
	ck_assert_uint_eq((uint64_t)sv.f_bfree * sv.f_frsize, 60 * MiB);
	ck_assert_uint_eq((uint64_t)sv.f_bavail * sv.f_frsize, 60 * MiB);
}
END_TEST

START_TEST(test_statfs_over_the_limit)
{
	struct limits l = { .max_segments = 10, .max_total_size = MiB };
	struct usage u = { .segments = 12, .bytes = 5 * MiB };
	struct statvfs sv = backing();

	limits_statfs(&l, &u, &sv);
	ck_assert_uint_eq((uint64_t)sv.f_blocks * sv.f_frsize, MiB);
	ck_assert_uint_eq(sv.f_bfree, 0);
	ck_assert_uint_eq(sv.f_bavail, 0);
	ck_assert_uint_eq(sv.f_files, 10);
	ck_assert_uint_eq(sv.f_ffree, 0);
	ck_assert_uint_eq(sv.f_favail, 0);
}
END_TEST

START_TEST(test_statfs_segments)
{
	struct limits l = { .max_segments = 100 };
	struct usage u = { .segments = 30, .bytes = 5 * MiB };
	struct statvfs sv = backing();
	struct statvfs before = sv;

	limits_statfs(&l, &u, &sv);
	ck_assert_uint_eq(sv.f_files, 100);
	ck_assert_uint_eq(sv.f_ffree, 70);
	ck_assert_uint_eq(sv.f_favail, 70);
	/* No max_total_size: the blocks are the store's. */
	ck_assert_uint_eq(sv.f_blocks, before.f_blocks);
	ck_assert_uint_eq(sv.f_bfree, before.f_bfree);
	ck_assert_uint_eq(sv.f_bavail, before.f_bavail);

	u.segments = 100;
	sv = backing();
	limits_statfs(&l, &u, &sv);
	ck_assert_uint_eq(sv.f_files, 100);
	ck_assert_uint_eq(sv.f_ffree, 0);
}
END_TEST

START_TEST(test_statfs_no_limits)
{
	struct limits l = { .max_segment_size = 16 * MiB };
	struct usage u = { .segments = 30, .bytes = 5 * MiB };
	struct statvfs sv = backing();
	struct statvfs before = sv;

	limits_statfs(&l, &u, &sv);
	ck_assert_int_eq(memcmp(&sv, &before, sizeof(sv)), 0);
	l.max_segment_size = 0;
	limits_statfs(&l, &u, &sv);
	ck_assert_int_eq(memcmp(&sv, &before, sizeof(sv)), 0);
}
END_TEST

/* The stores as the count sees them: what a walk would find. */
static struct usage counted;

static void count_fixed(void *arg, struct usage *out)
{
	(*(int *)arg)++;
	*out = counted;
}

/* Charge, act, undo on failure, release: what every operation does. */
START_TEST(test_charge_undo_release)
{
	struct limits l = { .max_segments = 2, .max_total_size = MiB };
	struct limits_charge c, c2;
	int walks = 0;

	limits_init(&l, count_fixed, &walks);
	ck_assert_int_eq(limits_add_segment(&l, &c), 0);
	ck_assert_int_eq(c.segments, 1);
	ck_assert_int_eq(limits_resize(&l, 0, 512 * 1024, 0, &c2), 0);
	ck_assert_uint_eq(l.usage.bytes, 512 * 1024);
	/* The act failed: both undone. */
	limits_undo(&l, &c2);
	limits_undo(&l, &c);
	ck_assert_uint_eq(l.usage.segments, 0);
	ck_assert_uint_eq(l.usage.bytes, 0);
	/* Undoing twice gives back nothing more. */
	limits_undo(&l, &c);
	ck_assert_uint_eq(l.usage.segments, 0);
	ck_assert_int_eq(walks, 0);
	/* Past max_segment_size: refused without a count. */
	l.max_segment_size = MiB / 2;
	ck_assert_int_eq(limits_resize(&l, 0, MiB, 0, &c), -EFBIG);
	ck_assert_int_eq(c.bytes, 0);
	/* Shrinking gives back at once when asked (truncate), not otherwise. */
	ck_assert_int_eq(limits_resize(&l, 0, 1000, 0, &c), 0);
	ck_assert_int_eq(limits_resize(&l, 1000, 400, 0, &c), 0);
	ck_assert_uint_eq(l.usage.bytes, 1000);
	ck_assert_int_eq(limits_resize(&l, 1000, 400, 1, &c), 0);
	ck_assert_uint_eq(l.usage.bytes, 400);
	limits_release(&l, 0, 400);
	ck_assert_uint_eq(l.usage.bytes, 0);
	limits_destroy(&l);
}
END_TEST

/* A refusal comes only after a fresh count, and a count keeps what was
 * charged meanwhile. */
START_TEST(test_refused_after_count)
{
	struct limits l = { .max_segments = 1 };
	struct limits_charge c;
	int walks = 0;

	limits_init(&l, count_fixed, &walks);
	counted.segments = 1;
	counted.bytes = 0;
	limits_recount(&l);
	ck_assert_int_eq(walks, 1);
	ck_assert_int_eq(limits_add_segment(&l, &c), -ENOSPC);
	ck_assert_int_eq(walks, 2);
	ck_assert_int_eq(c.segments, 0);
	/* The segment went behind the daemon's back: the count finds room. */
	counted.segments = 0;
	ck_assert_int_eq(limits_add_segment(&l, &c), 0);
	ck_assert_int_eq(walks, 3);
	ck_assert_uint_eq(l.usage.segments, 1);
	/* Without limits nothing is counted or taken. */
	l.max_segments = 0;
	ck_assert_int_eq(limits_add_segment(&l, &c), 0);
	ck_assert_int_eq(c.segments, 0);
	ck_assert_int_eq(walks, 3);
	limits_destroy(&l);
}
END_TEST

Suite *limits_suite(void)
{
	Suite *s = suite_create("limits");
	TCase *tc;

	tc = tcase_create("limits");
	tcase_add_test(tc, test_active);
	tcase_add_test(tc, test_check_size);
	tcase_add_test(tc, test_check_size_no_limit);
	tcase_add_test(tc, test_admit_segments);
	tcase_add_test(tc, test_admit_bytes);
	tcase_add_test(tc, test_admit_no_segment_when_over);
	tcase_add_test(tc, test_admit_shrink_when_over);
	tcase_add_test(tc, test_admit_no_limits);
	tcase_add_test(tc, test_apply);
	tcase_add_test(tc, test_apply_never_below_zero);
	suite_add_tcase(s, tc);

	tc = tcase_create("charges");
	tcase_add_test(tc, test_charge_undo_release);
	tcase_add_test(tc, test_refused_after_count);
	suite_add_tcase(s, tc);

	tc = tcase_create("statfs");
	tcase_add_test(tc, test_statfs_total_size);
	tcase_add_test(tc, test_statfs_rounding);
	tcase_add_test(tc, test_statfs_backing_fuller);
	tcase_add_test(tc, test_statfs_unbounded_backing);
	tcase_add_test(tc, test_statfs_over_the_limit);
	tcase_add_test(tc, test_statfs_segments);
	tcase_add_test(tc, test_statfs_no_limits);
	suite_add_tcase(s, tc);

	return s;
}
