/* Password guessing limited per user (server/guard.c): the lockout that
 * grows, what clears a count, known sources that a guesser cannot lock
 * out, and the tables' bounds. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "server/guard.h"

#include "check_run.h"

static const struct guard_policy policy = {
    .failures = 5, .delay = 30, .max_delay = 3600, .forget = 86400};
static struct guard *g;

static void setup(void)
{
	g = guard_new(16, 12345);
	ck_assert_ptr_nonnull(g);
}

static void teardown(void)
{
	g = guard_free(g);
}

static unsigned failed(const char *user, const char *src, int64_t now)
{
	unsigned n;

	return guard_failed(g, &policy, user, src, now, &n);
}

START_TEST(lockout_starts_at_the_threshold_and_doubles)
{
	unsigned n, d;
	int64_t t = 1000;

	for (unsigned i = 1; i < 5; i++) {
		ck_assert_uint_eq(
		    guard_failed(g, &policy, "alice", "192.0.2.7", t, &n), 0);
		ck_assert_uint_eq(n, i);
		ck_assert_uint_eq(
		    guard_wait(g, &policy, "alice", "192.0.2.7", t), 0);
	}
	ck_assert_uint_eq(guard_failed(g, &policy, "alice", "192.0.2.7", t, &n),
			  30);
	ck_assert_uint_eq(n, 5);
	/* Every source but the user's known ones waits; so does another
	 * address of the guesser's. */
	ck_assert_uint_eq(guard_wait(g, &policy, "alice", "192.0.2.7", t), 30);
	ck_assert_uint_eq(guard_wait(g, &policy, "alice", "198.51.100.1", t),
			  30);
	ck_assert_uint_eq(guard_wait(g, &policy, "bob", "192.0.2.7", t), 0);
	/* Asking again does not lengthen it. */
	ck_assert_uint_eq(guard_wait(g, &policy, "alice", "192.0.2.7", t + 10),
			  20);
	ck_assert_uint_eq(guard_wait(g, &policy, "alice", "192.0.2.7", t + 30),
			  0);
	/* Each further failure doubles it, up to max_delay. */
	d = 30;
	for (unsigned i = 6; i < 16; i++) {
		t += 4000;
		d = d * 2 > 3600 ? 3600 : d * 2;
		ck_assert_uint_eq(failed("alice", "192.0.2.7", t), d);
	}
	ck_assert_uint_eq(d, 3600);
}
END_TEST

START_TEST(success_clears_the_count)
{
	for (unsigned i = 0; i < 4; i++)
		failed("alice", "192.0.2.7", 100);
	guard_succeeded(g, "alice", "192.0.2.7", 101);
	/* Four more are free again. */
	for (unsigned i = 0; i < 4; i++)
		ck_assert_uint_eq(failed("alice", "192.0.2.7", 102), 0);
	ck_assert_uint_eq(failed("alice", "192.0.2.7", 102), 30);
}
END_TEST

START_TEST(a_day_without_failures_clears_the_count)
{
	unsigned n;
	int64_t t = 500;

	for (unsigned i = 0; i < 7; i++)
		failed("alice", "192.0.2.7", t);
	ck_assert_uint_gt(guard_wait(g, &policy, "alice", "192.0.2.7", t), 0);
	/* Still counted a little before the day is over... */
	guard_failed(g, &policy, "alice", "192.0.2.7", t + 86399, &n);
	ck_assert_uint_eq(n, 8);
	/* ...and not a day after the last failure. */
	t += 86399 + 86400;
	ck_assert_uint_eq(guard_wait(g, &policy, "alice", "192.0.2.7", t), 0);
	guard_failed(g, &policy, "alice", "192.0.2.7", t, &n);
	ck_assert_uint_eq(n, 1);
}
END_TEST

/* A guesser cannot lock a user out where it has logged in before; a
 * guesser there (behind the same address) has a count of its own. */
START_TEST(known_sources_are_not_locked_out_by_others)
{
	unsigned n;
	int64_t t = 10;

	guard_succeeded(g, "alice", "198.51.100.1", t);
	ck_assert(guard_known(g, "alice", "198.51.100.1", t));
	ck_assert(!guard_known(g, "alice", "192.0.2.7", t));
	for (unsigned i = 0; i < 12; i++)
		failed("alice", "192.0.2.7", t);
	ck_assert_uint_gt(guard_wait(g, &policy, "alice", "192.0.2.7", t), 0);
	ck_assert_uint_eq(guard_wait(g, &policy, "alice", "198.51.100.1", t),
			  0);
	/* Failures at the known source count there, and lock it out. */
	for (unsigned i = 1; i <= 5; i++) {
		guard_failed(g, &policy, "alice", "198.51.100.1", t, &n);
		ck_assert_uint_eq(n, i);
	}
	ck_assert_uint_eq(guard_wait(g, &policy, "alice", "198.51.100.1", t),
			  30);
	/* The known source's success clears its own count only. */
	guard_succeeded(g, "alice", "198.51.100.1", t + 31);
	ck_assert_uint_eq(
	    guard_wait(g, &policy, "alice", "198.51.100.1", t + 31), 0);
	ck_assert_uint_gt(guard_wait(g, &policy, "alice", "192.0.2.7", t + 31),
			  0);
	/* A source is known for 30 days after the last success there. */
	ck_assert(guard_known(g, "alice", "198.51.100.1", t + 31 + 86400 * 29));
	ck_assert(
	    !guard_known(g, "alice", "198.51.100.1", t + 31 + 86400 * 30));
}
END_TEST

/* The table is bounded: the least recently used count gives way, passing
 * over counts at the threshold. */
START_TEST(full_table_evicts_the_least_recently_used)
{
	char user[32];
	struct guard_policy forget_never = policy;
	unsigned n;

	forget_never.forget = 1000000;
	/* mallory is locked out; then 16 other users fail once each. */
	for (unsigned i = 0; i < 5; i++)
		guard_failed(g, &forget_never, "mallory-target", "192.0.2.7", 1,
			     &n);
	for (unsigned i = 0; i < 16; i++) {
		snprintf(user, sizeof(user), "user%u", i);
		guard_failed(g, &forget_never, user, "192.0.2.7", 2 + i, &n);
	}
	/* The locked count stayed; the oldest single failures went. */
	ck_assert_uint_eq(
	    guard_wait(g, &forget_never, "mallory-target", "192.0.2.7", 20),
	    30 - 19);
	guard_failed(g, &forget_never, "user0", "192.0.2.7", 30, &n);
	ck_assert_uint_eq(n, 1);
	guard_failed(g, &forget_never, "user15", "192.0.2.7", 30, &n);
	ck_assert_uint_eq(n, 2);
	/* Sixteen locked counts at the end of the list: the oldest goes. */
	for (unsigned i = 0; i < 16; i++) {
		snprintf(user, sizeof(user), "locked%u", i);
		for (unsigned k = 0; k < 5; k++)
			guard_failed(g, &forget_never, user, "192.0.2.7", 40,
				     &n);
	}
	ck_assert_uint_eq(
	    guard_wait(g, &forget_never, "mallory-target", "192.0.2.7", 41), 0);
	guard_failed(g, &forget_never, "mallory-target", "192.0.2.7", 41, &n);
	ck_assert_uint_eq(n, 1);
}
END_TEST

/* Failures cannot push known sources out: they have a table of their
 * own. */
START_TEST(failures_do_not_flush_known_sources)
{
	char user[32];

	guard_succeeded(g, "alice", "198.51.100.1", 1);
	for (unsigned i = 0; i < 100; i++) {
		snprintf(user, sizeof(user), "nobody%u", i);
		failed(user, "192.0.2.7", 2);
	}
	ck_assert(guard_known(g, "alice", "198.51.100.1", 3));
}
END_TEST

struct seen {
	unsigned n;
	char lines[4][160];
};

static void collect(void *arg, const struct guard_entry *e)
{
	struct seen *s = arg;

	if (s->n < 4)
		snprintf(s->lines[s->n], sizeof(s->lines[0]),
			 "%s [%s] %u locked=%u since=%u from %s", e->user,
			 e->source, e->failures, e->locked, e->since,
			 e->last_src);
	s->n++;
}

START_TEST(list_and_clear)
{
	struct seen s = {0};

	guard_succeeded(g, "alice", "198.51.100.1", 1);
	for (unsigned i = 0; i < 5; i++)
		failed("alice", "192.0.2.7", 10);
	failed("alice", "198.51.100.1", 12);
	failed("bob", "192.0.2.8", 13);
	ck_assert_uint_eq(guard_list(g, &policy, 20, collect, &s), 3);
	ck_assert_str_eq(s.lines[0],
			 "bob [] 1 locked=0 since=7 from 192.0.2.8");
	ck_assert_str_eq(s.lines[1], "alice [198.51.100.1] 1 locked=0 since=8 "
				     "from 198.51.100.1");
	ck_assert_str_eq(s.lines[2],
			 "alice [] 5 locked=20 since=10 from 192.0.2.7");
	ck_assert_uint_eq(guard_clear(g, "alice"), 2);
	ck_assert_uint_eq(guard_clear(g, "alice"), 0);
	ck_assert_uint_eq(guard_wait(g, &policy, "alice", "192.0.2.7", 20), 0);
	/* Its known source stays. */
	ck_assert(guard_known(g, "alice", "198.51.100.1", 20));
	memset(&s, 0, sizeof(s));
	ck_assert_uint_eq(guard_list(g, &policy, 20, collect, &s), 1);
	/* A cleared count, and one a day old, are not listed. */
	ck_assert_uint_eq(guard_list(g, &policy, 13 + 86400, collect, &s), 0);
}
END_TEST

START_TEST(off_never_locks)
{
	struct guard_policy off = policy;
	unsigned n;

	off.failures = 0;
	for (unsigned i = 0; i < 50; i++)
		ck_assert_uint_eq(
		    guard_failed(g, &off, "alice", "192.0.2.7", 1, &n), 0);
	ck_assert_uint_eq(guard_wait(g, &off, "alice", "192.0.2.7", 1), 0);
}
END_TEST

/* Names longer than kept are cut the same way each time: one count. */
START_TEST(long_names_are_one_count)
{
	char user[300];

	memset(user, 'u', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	for (unsigned i = 0; i < 4; i++)
		ck_assert_uint_eq(failed(user, "192.0.2.7", 1), 0);
	ck_assert_uint_eq(failed(user, "192.0.2.7", 1), 30);
	ck_assert_uint_eq(guard_wait(g, &policy, user, "192.0.2.7", 1), 30);
}
END_TEST

static Suite *guard_suite(void)
{
	Suite *s = suite_create("guard");
	TCase *tc = tcase_create("guard");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, lockout_starts_at_the_threshold_and_doubles);
	tcase_add_test(tc, success_clears_the_count);
	tcase_add_test(tc, a_day_without_failures_clears_the_count);
	tcase_add_test(tc, known_sources_are_not_locked_out_by_others);
	tcase_add_test(tc, full_table_evicts_the_least_recently_used);
	tcase_add_test(tc, failures_do_not_flush_known_sources);
	tcase_add_test(tc, list_and_clear);
	tcase_add_test(tc, off_never_locks);
	tcase_add_test(tc, long_names_are_one_count);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(guard_suite());
}
