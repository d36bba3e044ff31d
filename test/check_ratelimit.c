/* Per-source token buckets: a burst, then the rate; sources apart; the
 * table bounded however many sources come. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "server/ratelimit.h"

#include "check_run.h"

START_TEST(burst_then_rate)
{
	struct ratelimit *rl = ratelimit_new(64);
	unsigned wait = 0, ok = 0;

	/* 10 a second, burst 20: 20 at once, then one every 100 ms. */
	for (int i = 0; i < 30; i++)
		ok += ratelimit_take(rl, "192.0.2.1", 10, 20, 0, &wait);
	ck_assert_uint_eq(ok, 20);
	ck_assert_uint_eq(wait, 1);
	ck_assert(!ratelimit_take(rl, "192.0.2.1", 10, 20, 50, NULL));
	ck_assert(ratelimit_take(rl, "192.0.2.1", 10, 20, 100, NULL));
	ck_assert(!ratelimit_take(rl, "192.0.2.1", 10, 20, 150, NULL));
	/* Another source is not touched by the first's flood. */
	ck_assert(ratelimit_take(rl, "192.0.2.2", 10, 20, 150, NULL));
	/* After a long quiet the burst is back, no more. */
	ok = 0;
	for (int i = 0; i < 30; i++)
		ok += ratelimit_take(rl, "192.0.2.1", 10, 20, 100000, NULL);
	ck_assert_uint_eq(ok, 20);
	ratelimit_free(rl);
}
END_TEST

START_TEST(slow_rate_waits_whole_seconds)
{
	struct ratelimit *rl = ratelimit_new(8);
	unsigned wait = 0;

	ck_assert(ratelimit_take(rl, "a", 1, 1, 0, &wait));
	ck_assert(!ratelimit_take(rl, "a", 1, 1, 1, &wait));
	ck_assert_uint_eq(wait, 1);
	ck_assert(ratelimit_take(rl, "a", 1, 1, 1000, &wait));
	ratelimit_free(rl);
}
END_TEST

START_TEST(table_stays_bounded)
{
	struct ratelimit *rl = ratelimit_new(128);
	char key[32];

	/* 10,000 sources, each flooding: the table never grows, and a busy
	 * source is refused again after its slot is taken back. */
	for (int i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "10.0.%d.%d", i / 256, i % 256);
		for (int j = 0; j < 3; j++)
			ratelimit_take(rl, key, 1, 2, i, NULL);
	}
	ck_assert_uint_le(ratelimit_used(rl), 128);
	ck_assert_uint_ge(ratelimit_used(rl), 64);
	ck_assert(ratelimit_take(rl, "198.51.100.1", 1, 2, 20000, NULL));
	ck_assert(ratelimit_take(rl, "198.51.100.1", 1, 2, 20000, NULL));
	ck_assert(!ratelimit_take(rl, "198.51.100.1", 1, 2, 20000, NULL));
	ck_assert_ptr_null(ratelimit_free(rl));
	ck_assert_ptr_null(ratelimit_free(NULL));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("ratelimit");

	tcase_add_test(tc, burst_then_rate);
	tcase_add_test(tc, slow_rate_waits_whole_seconds);
	tcase_add_test(tc, table_stays_bounded);
	suite_add_tcase(s, tc);
	return check_run(s);
}
