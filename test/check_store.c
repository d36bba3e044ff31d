/* The store against a real PostgreSQL (the CTest fixture's cluster, its
 * conninfo in TVSPACE_TEST_DB): migrations, every statement, constraint
 * failures, and a database that is not there. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sofia-sip/su_wait.h>

#include "db/db.h"
#include "db/schema.h"
#include "db/schema.h"
#include "db/store.h"
#include "server/catalog.h"

#include "check_run.h"

static su_home_t home[1];
static su_root_t *root;
static struct db *db;
static char conninfo[512];

/* Completion bookkeeping for the loop. */
static int done_count, last_error;
static uint64_t last_id;

static void on_done(void *arg, int error)
{
	done_count++;
	last_error = error;
}

static void on_started(void *arg, int error, uint64_t id)
{
	done_count++;
	last_error = error;
	last_id = id;
}

static void on_state(void *arg, bool up)
{
}

static void run_until(int count)
{
	for (int i = 0; i < 2000 && done_count < count; i++)
		su_root_step(root, 5);
	ck_assert_msg(done_count >= count, "timed out waiting for the store");
}

static void wait_up(void)
{
	for (int i = 0; i < 1000 && !db_is_up(db); i++)
		su_root_step(root, 5);
	ck_assert(db_is_up(db));
}

/* Test code may block: a fresh database for this runner. */
static void admin(const char *sql)
{
	const char *base = getenv("TVSPACE_TEST_DB");
	PGconn *c = PQconnectdb(base);
	PGresult *r;

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	r = PQexec(c, sql);
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s",
		      PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

static void setup(void)
{
	const char *base = getenv("TVSPACE_TEST_DB");

	ck_assert_ptr_nonnull(base);
	admin("DROP DATABASE IF EXISTS tv_check_store WITH (FORCE)");
	admin("CREATE DATABASE tv_check_store");
	snprintf(conninfo, sizeof(conninfo), "%s dbname=tv_check_store", base);
	su_home_init(home);
	root = su_root_create(NULL);
	db = db_create(home, root, conninfo, on_state, NULL);
	ck_assert_ptr_nonnull(db);
	wait_up();
	done_count = 0;
	ck_assert_int_eq(store_migrate(db, on_done, NULL), 0);
	run_until(1);
	ck_assert_int_eq(last_error, 0);
}

static void teardown(void)
{
	db = db_destroy(db);
	su_root_destroy(root);
	su_home_deinit(home);
}

static int sql_count(const char *query)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r = PQexec(c, query);
	int n = atoi(PQgetvalue(r, 0, 0));

	PQclear(r);
	PQfinish(c);
	return n;
}

static void exec_sql(const char *query)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r = PQexec(c, query);

	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s",
		      PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

static void seed(void)
{
	exec_sql("INSERT INTO service_levels VALUES (1, 'basic', 4, 7200); "
		 "INSERT INTO users (user_id) VALUES ('alice'), ('bob'); "
		 "INSERT INTO services VALUES ('svc-alice', 'alice', 1, "
		 "'news', true), ('svc-bob', 'bob', 1, 'news', true)");
}

static struct store_member member(uint64_t space, const char *user,
				  const char *role, unsigned seq)
{
	struct store_member m = {
	    .space_id = space,
	    .user = user,
	    .service = "svc-alice",
	    .role = role,
	    .delivery = "multicast",
	    .sdp_addr = "232.10.0.1",
	    .sdp_port = 5004,
	    .sdp_media = "video",
	    .sdp_pt = 33,
	    .admitted_seq = seq,
	    .call_id = "abc@host",
	    .local_tag = NULL,
	    .remote_tag = "t1",
	    .local_uri = "sip:space-1@x",
	    .remote_uri = "sip:alice@y",
	    .remote_target = "sip:alice@y:5",
	    .route_set = NULL,
	    .joined = 1700000000,
	};
	return m;
}

static uint64_t start_space(void)
{
	struct store_space s = {.host_service = "svc-alice",
				.host_user = "alice",
				.channel = "news",
				.started = 1700000000};
	struct store_member h = member(0, "alice", "host", 1);
	int before = done_count;

	ck_assert_int_eq(store_space_start(db, &s, &h, on_started, NULL), 0);
	run_until(before + 1);
	ck_assert_int_eq(last_error, 0);
	return last_id;
}

START_TEST(migrations_are_idempotent)
{
	ck_assert_int_eq(sql_count("SELECT count(*) FROM schema_migrations"),
			 (int)schema_n_migrations);
	done_count = 0;
	ck_assert_int_eq(store_migrate(db, on_done, NULL), 0);
	run_until(1);
	ck_assert_int_eq(last_error, 0);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM schema_migrations"),
			 (int)schema_n_migrations);
}
END_TEST

static struct {
	int calls, error;
	bool found;
	char id[64], user[64], package[64];
	unsigned level, played;
} svc_seen;

static void on_service(void *arg, int error, const struct store_service *svc)
{
	svc_seen.calls++;
	svc_seen.error = error;
	svc_seen.found = svc != NULL;
	if (svc) {
		snprintf(svc_seen.id, sizeof(svc_seen.id), "%s", svc->id);
		snprintf(svc_seen.user, sizeof(svc_seen.user), "%s", svc->user);
		snprintf(svc_seen.package, sizeof(svc_seen.package), "%s",
			 svc->package ? svc->package : "");
		svc_seen.level = svc->level;
		svc_seen.played = svc->played_today;
	}
	done_count++;
}

static unsigned levels_seen;

static void on_level(void *arg, const struct store_level *l)
{
	if (l->level == 1)
		ck_assert_uint_eq(l->capacity, 4);
	levels_seen++;
}

START_TEST(services_are_looked_up_one_at_a_time)
{
	seed();
	exec_sql("INSERT INTO usage VALUES ('svc-alice', '2026-11-24', 120)");
	done_count = 0;
	ck_assert_int_eq(
	    store_service_of_user(db, "alice", "2026-11-24", on_service, NULL),
	    0);
	run_until(1);
	ck_assert(svc_seen.found);
	ck_assert_str_eq(svc_seen.id, "svc-alice");
	ck_assert_uint_eq(svc_seen.played, 120);
	ck_assert_int_eq(
	    store_service_get(db, "svc-bob", "2026-11-24", on_service, NULL),
	    0);
	run_until(2);
	ck_assert(svc_seen.found);
	ck_assert_str_eq(svc_seen.user, "bob");
	ck_assert_uint_eq(svc_seen.played, 0);
	ck_assert_int_eq(
	    store_service_of_user(db, "nobody", "2026-11-24", on_service, NULL),
	    0);
	run_until(3);
	ck_assert(!svc_seen.found);
	ck_assert_int_eq(svc_seen.error, 0);
	levels_seen = 0;
	ck_assert_int_eq(store_load_levels(db, on_level, on_done, NULL), 0);
	run_until(4);
	ck_assert_uint_gt(levels_seen, 0);
}
END_TEST

static int live_spaces, live_members;
static char live_host[32];

static void on_space(void *arg, const struct store_space *s,
		     const struct store_member *m, unsigned n)
{
	live_spaces++;
	live_members += (int)n;
	for (unsigned i = 0; i < n; i++)
		if (strcmp(m[i].role, "host") == 0)
			snprintf(live_host, sizeof(live_host), "%s", m[i].user);
	ck_assert_str_eq(s->channel, "sports");
}

START_TEST(space_life_round_trip)
{
	uint64_t id;
	struct store_member g;

	seed();
	done_count = 0;
	id = start_space();
	ck_assert_uint_ne(id, 0);
	g = member(id, "bob", "guest", 2);
	g.service = "svc-bob";
	ck_assert_int_eq(store_member_add(db, &g, on_done, NULL), 0);
	ck_assert_int_eq(
	    store_member_dialog(db, id, "bob", "ours", on_done, NULL), 0);
	/* channel and host change in one transaction */
	ck_assert_int_eq(
	    store_space_update(db, id, "sports", "bob", "alice", on_done, NULL),
	    0);
	run_until(4);
	ck_assert_int_eq(last_error, 0);
	live_spaces = live_members = 0;
	ck_assert_int_eq(
	    store_load_live(db, NULL, "2026-11-24", on_space, on_done, NULL),
	    0);
	run_until(5);
	ck_assert_int_eq(live_spaces, 1);
	ck_assert_int_eq(live_members, 2);
	ck_assert_str_eq(live_host, "bob");
	ck_assert_int_eq(sql_count("SELECT count(*) FROM members WHERE "
				   "local_tag = 'ours'"),
			 1);

	/* the guest leaves, then the space ends: played time booked once */
	ck_assert_int_eq(
	    store_member_leave(db, id, "alice", "bye", on_done, NULL), 0);
	ck_assert_int_eq(store_space_end(db, id, "space ended by host",
					 "svc-alice", "2026-11-24", 90, on_done,
					 NULL),
			 0);
	ck_assert_int_eq(store_space_end(db, id, "again", "svc-alice",
					 "2026-11-24", 90, on_done, NULL),
			 0);
	run_until(8);
	ck_assert_int_eq(last_error, 0);
	ck_assert_int_eq(sql_count("SELECT seconds FROM usage"), 90);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM members WHERE "
				   "left_at IS NULL"),
			 0);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM spaces WHERE "
				   "state = 'ended' AND end_reason = "
				   "'space ended by host'"),
			 1);
}
END_TEST

START_TEST(constraints_fail_whole_and_the_next_job_runs)
{
	uint64_t id;
	struct store_member h2;

	seed();
	done_count = 0;
	id = start_space();
	/* a second host for the same space: refused by the one-host index */
	h2 = member(id, "bob", "host", 2);
	ck_assert_int_eq(store_member_add(db, &h2, on_done, NULL), 0);
	run_until(2);
	ck_assert_int_eq(last_error, -EIO);
	/* handing the remote to a non-member changes nothing, channel
	 * included */
	ck_assert_int_eq(store_space_update(db, id, "sports", "carol", "alice",
					    on_done, NULL),
			 0);
	run_until(3);
	ck_assert_int_eq(last_error, -EIO);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM spaces WHERE "
				   "channel = 'news'"),
			 1);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM members WHERE "
				   "role = 'host'"),
			 1);
}
END_TEST

/* Each completion's error, in the order the callbacks ran. */
static int errors[8], n_errors;

static void on_each(void *arg, int error)
{
	ck_assert_int_eq((int)(intptr_t)arg, n_errors);
	if (n_errors < 8)
		errors[n_errors++] = error;
	done_count++;
}

/* Statements queued while one is in flight go as one transaction: the
 * rows they insert share their transaction id. */
START_TEST(queued_statements_commit_together)
{
	static const char *users[] = {"bob", "carol", "dave", "erin"};
	struct store_member m[4];
	uint64_t id;

	seed();
	exec_sql("INSERT INTO users (user_id) VALUES ('carol'), ('dave'), "
		 "('erin')");
	id = start_space();
	done_count = n_errors = 0;
	for (int i = 0; i < 4; i++) {
		m[i] = member(id, users[i], "guest", 2 + (unsigned)i);
		ck_assert_int_eq(
		    store_member_add(db, &m[i], on_each, (void *)(intptr_t)i),
		    0);
	}
	ck_assert_uint_eq(db_pending(db), 4);
	run_until(4);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(errors[i], 0);
	/* bob went alone; carol, dave and erin had queued behind him */
	ck_assert_int_eq(sql_count("SELECT count(DISTINCT xmin::text) FROM "
				   "members WHERE user_id IN ('carol', "
				   "'dave', 'erin')"),
			 1);
	ck_assert_int_eq(sql_count("SELECT count(DISTINCT xmin::text) FROM "
				   "members WHERE user_id IN ('bob', "
				   "'carol')"),
			 2);
}
END_TEST

/* One statement of a batch fails: the batch rolls back and each goes
 * again on its own, so the others are kept and only that one fails. */
START_TEST(a_failed_statement_fails_alone)
{
	struct store_member m[4];
	uint64_t id;

	seed();
	exec_sql("INSERT INTO users (user_id) VALUES ('carol'), ('erin')");
	id = start_space();
	done_count = n_errors = 0;
	m[0] = member(id, "bob", "guest", 2);
	m[1] = member(id, "carol", "guest", 3);
	m[2] = member(id, "bob", "host", 4); /* a second host: refused */
	m[3] = member(id, "erin", "guest", 5);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(
		    store_member_add(db, &m[i], on_each, (void *)(intptr_t)i),
		    0);
	run_until(4);
	ck_assert_int_eq(errors[0], 0);
	ck_assert_int_eq(errors[1], 0);
	ck_assert_int_eq(errors[2], -EIO);
	ck_assert_int_eq(errors[3], 0);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM members WHERE "
				   "role = 'guest'"),
			 3);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM members WHERE "
				   "role = 'host'"),
			 1);
	/* the next statements go together again */
	done_count = n_errors = 0;
	exec_sql("INSERT INTO users (user_id) VALUES ('f1'), ('f2'), ('f3')");
	m[0] = member(id, "f1", "guest", 6);
	m[1] = member(id, "f2", "guest", 7);
	m[2] = member(id, "f3", "guest", 8);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(
		    store_member_add(db, &m[i], on_each, (void *)(intptr_t)i),
		    0);
	run_until(3);
	ck_assert_int_eq(sql_count("SELECT count(DISTINCT xmin::text) FROM "
				   "members WHERE user_id IN ('f2', 'f3')"),
			 1);
}
END_TEST

static int n_comments;

static void on_comment(void *arg, const char *author, int64_t at,
		       const char *text)
{
	n_comments++;
	if (n_comments == 1)
		ck_assert_str_eq(
		    text, "it's '; DROP TABLE comments; -- \xe2\x9c\x93");
}

START_TEST(comments_are_stored_verbatim)
{
	uint64_t id;

	seed();
	done_count = 0;
	id = start_space();
	ck_assert_int_eq(
	    store_comment_add(db, id, "alice", "first one", on_done, NULL), 0);
	ck_assert_int_eq(
	    store_comment_add(db, id, "bob",
			      "it's '; DROP TABLE comments; -- \xe2\x9c\x93",
			      on_done, NULL),
	    0);
	ck_assert_int_eq(
	    store_comment_add(db, id, "alice", "third", on_done, NULL), 0);
	run_until(4);
	n_comments = 0;
	ck_assert_int_eq(
	    store_comments_recent(db, id, 2, on_comment, on_done, NULL), 0);
	run_until(5);
	ck_assert_int_eq(n_comments, 2);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM comments"), 3);
}
END_TEST

START_TEST(no_database_means_enotconn)
{
	su_home_t h[1] = {SU_HOME_INIT(h)};
	struct db *down = db_create(h, root,
				    "host=/nonexistent port=1 dbname=x "
				    "connect_timeout=1",
				    on_state, NULL);

	ck_assert_ptr_nonnull(down);
	for (int i = 0; i < 20; i++)
		su_root_step(root, 5);
	ck_assert(!db_is_up(down));
	ck_assert_int_eq(store_member_leave(down, 1, "x", "y", on_done, NULL),
			 -ENOTCONN);
	db_destroy(down);
	su_home_deinit(h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("postgresql");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, migrations_are_idempotent);
	tcase_add_test(tc, services_are_looked_up_one_at_a_time);
	tcase_add_test(tc, space_life_round_trip);
	tcase_add_test(tc, constraints_fail_whole_and_the_next_job_runs);
	tcase_add_test(tc, queued_statements_commit_together);
	tcase_add_test(tc, a_failed_statement_fails_alone);
	tcase_add_test(tc, comments_are_stored_verbatim);
	tcase_add_test(tc, no_database_means_enotconn);
	suite_add_tcase(s, tc);
	return check_run(s);
}
