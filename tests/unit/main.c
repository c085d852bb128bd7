/* Unit tests of lib/: no mount, no FUSE. The last line is "unit: N passed,
 * N failed, N skipped" (a test that needs root skips itself as another
 * user); the exit status is nonzero when any test failed. CK_RUN_SUITE and
 * CK_RUN_CASE select what runs, as in Check. */
#include <stdio.h>
#include <stdlib.h>

#include "suites.h"
#include "unit.h"

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed, run;

	srunner_add_suite(sr, store_suite());
	srunner_add_suite(sr, inode_suite());
	srunner_add_suite(sr, limits_suite());
	srunner_add_suite(sr, grafts_suite());
	srunner_add_suite(sr, stores_suite());
	srunner_add_suite(sr, writelog_suite());
	srunner_add_suite(sr, creds_suite());
	srunner_add_suite(sr, tmpfs_suite());
	srunner_add_suite(sr, order_suite());
	srunner_add_suite(sr, kinds_suite());
	unit_skips_init();
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	printf("unit: %d passed, %d failed, %d skipped\n", run - failed - unit_skips(), failed,
	       unit_skips());
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
