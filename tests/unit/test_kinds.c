/* kinds: the lifetime and store kind tables, as the rest of the daemon asks
 * them; and the string index the config and the stores find names with. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kinds.h"
#include "store.h"
#include "strindex.h"
#include "suites.h"

static const enum lifetime all_lifetimes[] = {
	LIFETIME_KERNEL, LIFETIME_DISK, LIFETIME_MOUNT, LIFETIME_PROCESS,
};
static const enum store_backend all_kinds[] = { STORE_SHM, STORE_FILE, STORE_PRIVATE };

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- names ---- */

START_TEST(test_lifetime_names)
{
	static const char *const names[] = { "kernel", "disk", "mount", "process" };
	enum lifetime lt;

	ck_assert_int_eq(N(all_lifetimes), LIFETIMES);
	for (size_t i = 0; i < N(all_lifetimes); i++) {
		ck_assert_str_eq(lifetime_name(all_lifetimes[i]), names[i]);
		lt = LIFETIME_PROCESS - all_lifetimes[i];
		ck_assert_int_eq(lifetime_parse(names[i], strlen(names[i]), &lt), 0);
		ck_assert_int_eq(lt, all_lifetimes[i]);
	}
	/* A length, not a NUL, ends the name (an xattr value has none). */
	ck_assert_int_eq(lifetime_parse("mountain", 5, &lt), 0);
	ck_assert_int_eq(lt, LIFETIME_MOUNT);
	ck_assert_int_eq(lifetime_parse("mountain", 8, &lt), -EINVAL);
	ck_assert_int_eq(lifetime_parse("Kernel", 6, &lt), -EINVAL);
	ck_assert_int_eq(lifetime_parse("", 0, &lt), -EINVAL);
}
END_TEST

START_TEST(test_store_kind_names)
{
	enum store_backend k = STORE_SHM;

	ck_assert_int_eq(N(all_kinds), STORE_KINDS);
	ck_assert_str_eq(store_kind_name(STORE_SHM), "shm");
	ck_assert_str_eq(store_kind_name(STORE_FILE), "file");
	ck_assert_str_eq(store_kind_name(STORE_PRIVATE), "private");
	ck_assert_str_eq(store_kind_adjective(STORE_FILE), "file-backed");
	/* store = takes shm and private; backend = shm and file. */
	ck_assert_int_eq(store_kind_parse("private", STORE_KEY_STORE, &k), 0);
	ck_assert_int_eq(k, STORE_PRIVATE);
	ck_assert_int_eq(store_kind_parse("file", STORE_KEY_STORE, &k), -EINVAL);
	ck_assert_int_eq(store_kind_parse("file", STORE_KEY_BACKEND, &k), 0);
	ck_assert_int_eq(k, STORE_FILE);
	ck_assert_int_eq(store_kind_parse("private", STORE_KEY_BACKEND, &k), -EINVAL);
	ck_assert_int_eq(store_kind_parse("shm", STORE_KEY_BACKEND, &k), 0);
	ck_assert_int_eq(k, STORE_SHM);
	ck_assert_int_eq(store_kind_parse("s", STORE_KEY_STORE, &k), -EINVAL);
	ck_assert_int_eq(store_kind_parse("shmx", STORE_KEY_STORE, &k), -EINVAL);
}
END_TEST

START_TEST(test_choices)
{
	char buf[64];

	ck_assert_str_eq(store_kind_choices(STORE_KEY_STORE, buf, sizeof(buf)), "shm or private");
	ck_assert_str_eq(store_kind_choices(STORE_KEY_BACKEND, buf, sizeof(buf)), "shm or file");
	ck_assert_str_eq(lifetime_choices(LIFETIME_AT_ROOT, buf, sizeof(buf)), "kernel or mount");
	ck_assert_str_eq(lifetime_choices(~0u, buf, sizeof(buf)), "kernel, disk, mount or process");
	/* Cut short, never overrun. */
	ck_assert_str_eq(lifetime_choices(~0u, buf, 10), "kernel, d");
}
END_TEST

/* ---- what lifetimes do ---- */

START_TEST(test_lifetime_ends)
{
	ck_assert(lifetime_lasts(LIFETIME_KERNEL));
	ck_assert(lifetime_lasts(LIFETIME_DISK));
	ck_assert(!lifetime_lasts(LIFETIME_MOUNT));
	ck_assert(lifetime_ends_at_unmount(LIFETIME_MOUNT));
	ck_assert(!lifetime_ends_at_unmount(LIFETIME_PROCESS));
	ck_assert(lifetime_ends_at_release(LIFETIME_PROCESS));
	ck_assert(!lifetime_ends_at_release(LIFETIME_MOUNT));
	/* What the sweeps remove is marked: mount and process stores. */
	ck_assert(lifetime_marks_made(LIFETIME_MOUNT));
	ck_assert(lifetime_marks_made(LIFETIME_PROCESS));
	ck_assert(!lifetime_marks_made(LIFETIME_KERNEL));
	ck_assert(!lifetime_marks_made(LIFETIME_DISK));
	for (size_t i = 0; i < N(all_lifetimes); i++) {
		enum lifetime lt = all_lifetimes[i];

		ck_assert_int_eq(lifetime_marks_made(lt), lifetime_end(lt) != LIFETIME_ENDS_NEVER);
		/* The kernel must keep the FUSE file until the last mapping goes
		 * (cached), and nothing may cache the name, where the daemon
		 * removes a segment at its last release. */
		ck_assert_int_eq(lifetime_forces_cached(lt), lifetime_ends_at_release(lt));
		ck_assert_int_eq(lifetime_uncached_entries(lt), lifetime_ends_at_release(lt));
	}
}
END_TEST

/* Where each lifetime may be given, for each store kind: the rules of the
 * config and of setfattr user.shmfs.lifetime. */
START_TEST(test_lifetime_allowed)
{
	static const struct {
		enum lifetime_place place;
		enum store_backend kind;
		unsigned lifetimes; /* 1 << lifetime */
	} want[] = {
		{ LIFETIME_AT_SEGMENT, STORE_SHM, 1u << LIFETIME_KERNEL | 1u << LIFETIME_MOUNT },
		{ LIFETIME_AT_SEGMENT, STORE_FILE, 1u << LIFETIME_DISK | 1u << LIFETIME_MOUNT },
		{ LIFETIME_AT_DIR, STORE_SHM,
		  1u << LIFETIME_KERNEL | 1u << LIFETIME_MOUNT | 1u << LIFETIME_PROCESS },
		{ LIFETIME_AT_DIR, STORE_FILE,
		  1u << LIFETIME_DISK | 1u << LIFETIME_MOUNT | 1u << LIFETIME_PROCESS },
		{ LIFETIME_AT_DIR, STORE_PRIVATE, 1u << LIFETIME_MOUNT },
		{ LIFETIME_AT_ROOT, STORE_SHM, 1u << LIFETIME_KERNEL | 1u << LIFETIME_MOUNT },
		{ LIFETIME_AT_ROOT, STORE_PRIVATE, 1u << LIFETIME_MOUNT },
	};

	for (size_t i = 0; i < N(want); i++) {
		for (size_t j = 0; j < N(all_lifetimes); j++) {
			enum lifetime lt = all_lifetimes[j];

			ck_assert_msg(lifetime_allowed(lt, want[i].place, want[i].kind) ==
					      !!(want[i].lifetimes & (1u << lt)),
				      "lifetime %s at place %d in a %s store", lifetime_name(lt),
				      want[i].place, store_kind_name(want[i].kind));
		}
	}
	/* A mark: kernel and disk (whichever fits the store: store_lasting)
	 * or process; mount is the store's, never a segment's. */
	ck_assert(lifetime_given_at(LIFETIME_KERNEL, LIFETIME_AS_MARK));
	ck_assert(lifetime_given_at(LIFETIME_DISK, LIFETIME_AS_MARK));
	ck_assert(lifetime_given_at(LIFETIME_PROCESS, LIFETIME_AS_MARK));
	ck_assert(!lifetime_given_at(LIFETIME_MOUNT, LIFETIME_AS_MARK));
	ck_assert_str_eq(lifetime_segment_hint(LIFETIME_PROCESS),
			 " (declared segments are pinned; use a [dir] with lifetime = process)");
	ck_assert_str_eq(lifetime_segment_hint(LIFETIME_DISK), "");
}
END_TEST

/* ---- what store kinds do ---- */

START_TEST(test_store_kinds)
{
	ck_assert_int_eq(store_kind_lasting(STORE_SHM), LIFETIME_KERNEL);
	ck_assert_int_eq(store_kind_lasting(STORE_FILE), LIFETIME_DISK);
	ck_assert_int_eq(store_kind_lasting(STORE_PRIVATE), LIFETIME_MOUNT);
	ck_assert(store_kind_needs_path(STORE_FILE));
	ck_assert(!store_kind_needs_path(STORE_SHM));
	ck_assert(store_kind_own_tmpfs(STORE_PRIVATE));
	ck_assert(!store_kind_own_tmpfs(STORE_SHM));
	/* A private store goes with the mount: no marks, no sweeps. */
	ck_assert(!store_kind_swept(STORE_PRIVATE));
	ck_assert(store_kind_swept(STORE_SHM));
	ck_assert(store_kind_swept(STORE_FILE));
	ck_assert_str_eq(store_kind_backing_tag(STORE_PRIVATE), "private:");
	ck_assert_str_eq(store_kind_backing_tag(STORE_SHM), "");
	ck_assert(store_kind_reserves_reads(STORE_PRIVATE));
	ck_assert(!store_kind_reserves_reads(STORE_SHM));
	for (size_t i = 0; i < N(all_kinds); i++) {
		enum store_backend k = all_kinds[i], parsed;

		/* Every kind is named somewhere in the config, holds its own
		 * lasting lifetime (a graft's default), and has a data path: the
		 * cached one writes with pwrite, passthrough needs none. Huge
		 * pages reach a mapping only through passthrough. */
		ck_assert_msg(store_kind_parse(store_kind_name(k), STORE_KEY_STORE, &parsed) == 0 ||
			      store_kind_parse(store_kind_name(k), STORE_KEY_BACKEND, &parsed) == 0,
			      "%s", store_kind_name(k));
		ck_assert_int_eq(parsed, k);
		ck_assert(store_kind_holds(k, store_kind_lasting(k)));
		ck_assert(store_kind_can_write(k) || store_kind_can_passthrough(k));
		ck_assert(!store_kind_huge_pages(k) || store_kind_can_passthrough(k));
		/* A lifetime that forces cached I/O needs a store that takes write(). */
		for (size_t j = 0; j < N(all_lifetimes); j++)
			ck_assert(!store_kind_holds(k, all_lifetimes[j]) ||
				  !lifetime_forces_cached(all_lifetimes[j]) || store_kind_can_write(k));
	}
}
END_TEST

/* What setfattr user.shmfs.lifetime=kernel (or disk) keeps: "until
 * unlinked" as the segment's store has it. */
START_TEST(test_store_lasting)
{
	struct store st;

	memset(&st, 0, sizeof(st));
	st.backend = STORE_SHM;
	st.lifetime = LIFETIME_MOUNT;
	ck_assert_int_eq(store_lasting(&st), LIFETIME_KERNEL);
	st.backend = STORE_FILE;
	ck_assert_int_eq(store_lasting(&st), LIFETIME_DISK);
	/* Nothing in a private store outlives the mount: the store's own. */
	st.backend = STORE_PRIVATE;
	ck_assert_int_eq(store_lasting(&st), LIFETIME_MOUNT);
	st.lifetime = LIFETIME_PROCESS;
	ck_assert_int_eq(store_lasting(&st), LIFETIME_PROCESS);
}
END_TEST

/* ---- the string index ---- */

START_TEST(test_strindex)
{
	struct strindex t = { 0 };
	char key[32];
	size_t found = 0;

	ck_assert_int_eq(strindex_get(&t, "a", &found), 0);
	/* Past the first growth (64 slots, kept half full). */
	for (size_t i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "name%zu", i);
		ck_assert_int_eq(strindex_get_or_put(&t, key, i, &found), 0);
	}
	ck_assert_uint_eq(t.n, 1000);
	for (size_t i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "name%zu", i);
		ck_assert_int_eq(strindex_get(&t, key, &found), 1);
		ck_assert_uint_eq(found, i);
	}
	/* A key put again keeps its first value. */
	ck_assert_int_eq(strindex_get_or_put(&t, "name7", 99, &found), 1);
	ck_assert_uint_eq(found, 7);
	ck_assert_int_eq(strindex_get(&t, "name1000", &found), 0);
	ck_assert_int_eq(strindex_get(&t, "", &found), 0);
	strindex_free(&t);
	ck_assert_uint_eq(t.cap, 0);
	ck_assert_int_eq(strindex_get(&t, "name7", &found), 0);
}
END_TEST

Suite *kinds_suite(void)
{
	Suite *s = suite_create("kinds");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_lifetime_names);
	tcase_add_test(tc, test_store_kind_names);
	tcase_add_test(tc, test_choices);
	tcase_add_test(tc, test_lifetime_ends);
	tcase_add_test(tc, test_lifetime_allowed);
	tcase_add_test(tc, test_store_kinds);
	tcase_add_test(tc, test_store_lasting);
	tcase_add_test(tc, test_strindex);
	suite_add_tcase(s, tc);
	return s;
}
