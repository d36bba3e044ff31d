/* The service cache: hits, misses, expiry, eviction, invalidation by row;
 * and the hash table under it. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "server/hash.h"
#include "server/space.h"
#include "server/svccache.h"

#include "check_run.h"

static su_home_t home[1];
static struct svccache *c;

static const struct space_service alice = {"svc-alice", "alice", 1, "news",
					   "news sports"};

static void setup(void)
{
	su_home_init(home);
	c = svccache_create(home, 4, 10000);
	ck_assert_ptr_nonnull(c);
}

static void teardown(void)
{
	c = svccache_destroy(c);
	su_home_deinit(home);
}

START_TEST(miss_then_hit_by_id_and_user)
{
	const struct space_service *s = NULL;
	struct svccache_stats st;

	ck_assert_int_eq(svccache_by_user(c, "alice", 0, &s), SVCCACHE_MISS);
	svccache_put(c, &alice, 1, 0);
	ck_assert_int_eq(svccache_by_user(c, "alice", 1, &s), SVCCACHE_HIT);
	ck_assert_str_eq(s->id, "svc-alice");
	ck_assert_str_eq(s->package, "news sports");
	ck_assert_int_eq(svccache_by_id(c, "svc-alice", 1, &s), SVCCACHE_HIT);
	ck_assert_str_eq(s->user, "alice");
	ck_assert_uint_eq(s->level, 1);
	svccache_stats(c, &st);
	ck_assert_uint_eq(st.hits, 2);
	ck_assert_uint_eq(st.misses, 1);
	ck_assert_uint_eq(st.entries, 2);
}
END_TEST

START_TEST(a_user_without_service_is_remembered)
{
	const struct space_service *s = NULL;

	svccache_put_none(c, "mallory", 0);
	ck_assert_int_eq(svccache_by_user(c, "mallory", 5, &s), SVCCACHE_NONE);
}
END_TEST

START_TEST(entries_expire)
{
	const struct space_service *s = NULL;
	struct svccache_stats st;

	svccache_put(c, &alice, 1, 0);
	ck_assert_int_eq(svccache_by_id(c, "svc-alice", 9999, &s),
			 SVCCACHE_HIT);
	ck_assert_int_eq(svccache_by_id(c, "svc-alice", 10000, &s),
			 SVCCACHE_MISS);
	svccache_stats(c, &st);
	ck_assert_uint_eq(st.expired, 1);
	ck_assert_uint_eq(st.entries, 1);
}
END_TEST

START_TEST(least_recently_used_gives_way)
{
	const struct space_service *s = NULL;
	struct space_service x = alice;
	char id[16], user[16];
	struct svccache_stats st;

	for (unsigned i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "svc-%u", i);
		snprintf(user, sizeof(user), "u%u", i);
		x.id = id;
		x.user = user;
		svccache_put(c, &x, 0, 0);
	}
	/* svc-0 used: svc-1 is now the oldest */
	ck_assert_int_eq(svccache_by_id(c, "svc-0", 1, &s), SVCCACHE_HIT);
	x.id = "svc-9";
	svccache_put(c, &x, 0, 1);
	ck_assert_int_eq(svccache_by_id(c, "svc-1", 1, &s), SVCCACHE_MISS);
	ck_assert_int_eq(svccache_by_id(c, "svc-0", 1, &s), SVCCACHE_HIT);
	ck_assert_int_eq(svccache_by_id(c, "svc-9", 1, &s), SVCCACHE_HIT);
	svccache_stats(c, &st);
	ck_assert_uint_eq(st.evictions, 1);
	ck_assert_uint_eq(st.entries, 4);
}
END_TEST

START_TEST(a_changed_row_is_forgotten)
{
	const struct space_service *s = NULL;

	svccache_put(c, &alice, 1, 0);
	svccache_put_none(c, "bob", 0);
	svccache_forget(c, "svc-alice", "alice");
	ck_assert_int_eq(svccache_by_id(c, "svc-alice", 1, &s), SVCCACHE_MISS);
	ck_assert_int_eq(svccache_by_user(c, "alice", 1, &s), SVCCACHE_MISS);
	ck_assert_int_eq(svccache_by_user(c, "bob", 1, &s), SVCCACHE_NONE);
	svccache_clear(c);
	ck_assert_int_eq(svccache_by_user(c, "bob", 1, &s), SVCCACHE_MISS);
}
END_TEST

START_TEST(capacity_zero_keeps_nothing)
{
	const struct space_service *s = NULL;

	svccache_configure(c, 0, 1000);
	svccache_put(c, &alice, 1, 0);
	ck_assert_int_eq(svccache_by_id(c, "svc-alice", 1, &s), SVCCACHE_MISS);
}
END_TEST

struct item {
	struct hash_node node;
	unsigned key;
};

START_TEST(hash_grows_and_removes)
{
	static struct item items[5000];
	struct hash_table t;
	unsigned found = 0;

	ck_assert_int_eq(hash_init(&t, home), 0);
	for (unsigned i = 0; i < 5000; i++) {
		items[i].key = i;
		hash_insert(&t, &items[i].node, hash_u64(i));
	}
	ck_assert_uint_eq(t.n, 5000);
	ck_assert_uint_ge(t.n_buckets, 4096);
	for (unsigned i = 0; i < 5000; i += 2)
		hash_remove(&t, &items[i].node);
	for (unsigned i = 0; i < 5000; i++) {
		for (struct hash_node *x = hash_bucket(&t, hash_u64(i)); x;
		     x = x->next)
			if (hash_entry(x, struct item, node)->key == i) {
				ck_assert_uint_eq(i % 2, 1);
				found++;
			}
	}
	ck_assert_uint_eq(found, 2500);
	ck_assert_uint_eq(t.n, 2500);
	hash_deinit(&t);
}
END_TEST

static Suite *svccache_suite(void)
{
	Suite *s = suite_create("svccache");
	TCase *tc = tcase_create("cache");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, miss_then_hit_by_id_and_user);
	tcase_add_test(tc, a_user_without_service_is_remembered);
	tcase_add_test(tc, entries_expire);
	tcase_add_test(tc, least_recently_used_gives_way);
	tcase_add_test(tc, a_changed_row_is_forgotten);
	tcase_add_test(tc, capacity_zero_keeps_nothing);
	tcase_add_test(tc, hash_grows_and_removes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(svccache_suite());
}
