/* writelog: which bytes of a page writeback are older than a write() that
 * raced it (cached mode, BUG-1). No files: the log is bookkeeping only. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"
#include "unit.h"
#include "writelog.h"

#define PG 4096u

static struct writelog_slot in;

static void wl_setup(void)
{
	writelog_init(&in);
}

static void wl_teardown(void)
{
	writelog_destroy(&in);
}

/* A write() of [off, off + len) that has reached the backing object. */
static void written(uint64_t off, uint64_t len)
{
	writelog_done(&in, writelog_begin(&in, off, len));
}

/* What a writeback of [off, off + len) leaves out, as "start-end ..." */
static const char *stale(uint64_t off, uint64_t len)
{
	static char out[256];
	struct writelog_range *r;
	size_t n = writelog_stale(&in, off, len, &r);
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(out + used, sizeof(out) - used, "%s%llu-%llu", i ? " " : "",
					 (unsigned long long)r[i].start, (unsigned long long)r[i].end);
	free(r);
	return out;
}

START_TEST(test_no_writes_nothing_skipped)
{
	ck_assert_str_eq(stale(0, PG), "");
	writelog_read(&in, 0, PG);
	ck_assert_str_eq(stale(0, PG), "");
}
END_TEST

/* The page was cached before the write reached the backing object and not
 * read since: its copy of the written bytes is old. */
START_TEST(test_page_older_than_the_write_keeps_the_written_bytes)
{
	written(100, 50);
	ck_assert_str_eq(stale(0, PG), "100-150");
}
END_TEST

START_TEST(test_page_read_after_the_write_is_written_whole)
{
	written(100, 50);
	writelog_read(&in, 0, PG);
	ck_assert_str_eq(stale(0, PG), "");
}
END_TEST

/* A READ served while the write runs may have got either bytes. */
START_TEST(test_read_during_the_write_does_not_make_the_page_fresh)
{
	uint64_t h = writelog_begin(&in, 100, 50);

	writelog_read(&in, 0, PG);
	writelog_done(&in, h);
	ck_assert_str_eq(stale(0, PG), "100-150");
}
END_TEST

/* Only the pages a READ served become fresh. */
START_TEST(test_freshness_is_per_page)
{
	written(PG - 10, 2 * PG + 20); /* pages 0, 1, 2 and 3 */
	writelog_read(&in, PG, PG);     /* page 1 */
	ck_assert_str_eq(stale(0, 4 * PG), "4086-4096 8192-12298");
	writelog_read(&in, 2 * PG + 5, 1); /* page 2 */
	ck_assert_str_eq(stale(0, 4 * PG), "4086-4096 12288-12298");
}
END_TEST

/* Skips are clipped to the writeback and merged across writes. */
START_TEST(test_ranges_are_clipped_and_merged)
{
	written(10, 20);
	written(25, 20);
	written(60, 5);
	ck_assert_str_eq(stale(0, PG), "10-45 60-65");
	ck_assert_str_eq(stale(20, 30), "20-45");
	ck_assert_str_eq(stale(PG, PG), "");
}
END_TEST

START_TEST(test_write_still_running_is_not_skipped)
{
	writelog_begin(&in, 100, 50);
	ck_assert_str_eq(stale(0, PG), "");
}
END_TEST

/* The log keeps the last writes only; a dropped log skips nothing. */
START_TEST(test_old_writes_and_dropped_logs_are_forgotten)
{
	written(0, 1);
	for (int i = 0; i < 64; i++)
		written(PG + (uint64_t)i, 1);
	ck_assert_str_eq(stale(0, PG), "");
	ck_assert_str_eq(stale(PG, PG), "4144-4160");
	writelog_drop(&in);
	ck_assert_str_eq(stale(PG, PG), "");
}
END_TEST

Suite *writelog_suite(void)
{
	Suite *s = suite_create("writelog");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, wl_setup, wl_teardown);
	tcase_add_test(tc, test_no_writes_nothing_skipped);
	tcase_add_test(tc, test_page_older_than_the_write_keeps_the_written_bytes);
	tcase_add_test(tc, test_page_read_after_the_write_is_written_whole);
	tcase_add_test(tc, test_read_during_the_write_does_not_make_the_page_fresh);
	tcase_add_test(tc, test_freshness_is_per_page);
	tcase_add_test(tc, test_ranges_are_clipped_and_merged);
	tcase_add_test(tc, test_write_still_running_is_not_skipped);
	tcase_add_test(tc, test_old_writes_and_dropped_logs_are_forgotten);
	suite_add_tcase(s, tc);
	return s;
}
