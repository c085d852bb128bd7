/* Unit tests of lib/: no mount, no FUSE. Exit status is nonzero when any
 * test failed. CK_RUN_SUITE and CK_RUN_CASE select what runs, as in Check. */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

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
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
