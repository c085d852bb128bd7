/* The unit test suites: one per lib/ module (and fs/order.c, which needs no
 * mount), run together by main.c. */
#ifndef SHMFS_TEST_SUITES_H
#define SHMFS_TEST_SUITES_H

#include <check.h>

Suite *config_suite(void);
Suite *store_suite(void);
Suite *inode_suite(void);
Suite *limits_suite(void);
Suite *stores_suite(void);
Suite *grafts_suite(void);
Suite *writelog_suite(void);
Suite *creds_suite(void);
Suite *tmpfs_suite(void);
Suite *order_suite(void);
Suite *kinds_suite(void);

#endif
