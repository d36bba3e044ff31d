/* How every check runner ends: run the suite, exit 0 when all passed. */
#ifndef TVSPACE_CHECK_RUN_H
#define TVSPACE_CHECK_RUN_H

#include <stdlib.h>

#include <check.h>

static inline int check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
