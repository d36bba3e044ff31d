/* The store against a real PostgreSQL (the CTest fixture's cluster, its
 * conninfo in TVSPACE_TEST_DB): migrations, every statement, constraint
 * failures, and a database that is not there. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <poll.h>

#include <libpq-fe.h>
#include <sofia-sip/su_wait.h>

#include "db/db.h"
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

static PGconn *listener;

static void teardown(void)
{
	if (listener)
		PQfinish(listener);
	listener = NULL;
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

static uint64_t loaded_ids[8];
static unsigned loaded_n, loaded_members;

static void on_loaded(void *arg, const struct store_space *s,
		      const struct store_member *m, unsigned n)
{
	(void)arg;
	(void)m;
	if (loaded_n < 8)
		loaded_ids[loaded_n] = s->id;
	loaded_n++;
	loaded_members += n;
}

/* A survivor loads what its claim gave it, not its own spaces again: only
 * the listed spaces that are live and this node's. */
START_TEST(a_claim_loads_only_the_claimed_spaces)
{
	uint64_t id[4], want[3];
	struct store_member g;
	char q[160];

	seed();
	done_count = 0;
	for (int i = 0; i < 4; i++)
		id[i] = start_space();
	g = member(id[1], "bob", "guest", 2);
	ck_assert_int_eq(store_member_add(db, &g, on_done, NULL), 0);
	run_until(done_count + 1);
	ck_assert_int_eq(last_error, 0);
	snprintf(q, sizeof(q),
		 "UPDATE spaces SET node_id = CASE WHEN id = %llu THEN 'n2' "
		 "ELSE 'n1' END",
		 (unsigned long long)id[2]);
	exec_sql(q);
	snprintf(q, sizeof(q),
		 "UPDATE spaces SET state = 'ended', ended = now() "
		 "WHERE id = %llu",
		 (unsigned long long)id[3]);
	exec_sql(q);

	/* id[0] is n1's and not listed; id[2] is n2's; id[3] has ended */
	want[0] = id[1];
	want[1] = id[2];
	want[2] = id[3];
	loaded_n = loaded_members = 0;
	ck_assert_int_eq(store_load_spaces(db, "n1", want, 3, "2026-11-24",
					   on_loaded, on_done, NULL),
			 0);
	run_until(done_count + 1);
	ck_assert_int_eq(last_error, 0);
	ck_assert_uint_eq(loaded_n, 1);
	ck_assert_uint_eq(loaded_ids[0], id[1]);
	ck_assert_uint_eq(loaded_members, 2);

	/* none listed: none loaded */
	loaded_n = 0;
	ck_assert_int_eq(store_load_spaces(db, "n1", NULL, 0, "2026-11-24",
					   on_loaded, on_done, NULL),
			 0);
	run_until(done_count + 1);
	ck_assert_int_eq(last_error, 0);
	ck_assert_uint_eq(loaded_n, 0);

	/* everything of n1, as at a start */
	loaded_n = 0;
	ck_assert_int_eq(
	    store_load_live(db, "n1", "2026-11-24", on_loaded, on_done, NULL),
	    0);
	run_until(done_count + 1);
	ck_assert_uint_eq(loaded_n, 2);
	ck_assert_int_eq(store_load_spaces(db, NULL, want, 3, "2026-11-24",
					   on_loaded, on_done, NULL),
			 -EINVAL);
}
END_TEST

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

/* Queue @a n members' rows at once and run until each is answered: member
 * i's commit must end with @a want[i] (0 or -EIO). */
static void add_members(struct store_member *m, int n, const int *want)
{
	done_count = n_errors = 0;
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(
		    store_member_add(db, &m[i], on_each, (void *)(intptr_t)i),
		    0);
	run_until(n);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(errors[i], want[i]);
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
	add_members(m, 4, (const int[]){0, 0, -EIO, 0});
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

/* Statements executed on members, by a statement-level trigger. */
static void count_statements(void)
{
	exec_sql("CREATE TABLE stmt_count (op text); "
		 "CREATE FUNCTION count_stmt() RETURNS trigger LANGUAGE "
		 "plpgsql AS $$ BEGIN INSERT INTO stmt_count VALUES (TG_OP); "
		 "RETURN NULL; END $$; "
		 "CREATE TRIGGER count_stmt AFTER INSERT OR UPDATE ON members "
		 "FOR EACH STATEMENT EXECUTE FUNCTION count_stmt()");
}

/* Joins, tags and leaves queued while one is in flight go as one
 * statement of each kind, over arrays, and store what each would have
 * stored on its own: quotes, backslashes, braces and NULLs included. */
START_TEST(queued_joins_go_as_one_statement)
{
	static const char *users[] = {"bob", "carol", "dave", "erin"};
	struct store_member m[4];
	uint64_t id;
	char q[256];

	seed();
	exec_sql("INSERT INTO users (user_id) VALUES ('carol'), ('dave'), "
		 "('erin')");
	id = start_space();
	count_statements();
	done_count = n_errors = 0;
	for (int i = 0; i < 4; i++) {
		m[i] = member(id, users[i], "guest", 2 + (unsigned)i);
		m[i].sdp_port = 5004 + 2 * (unsigned)i;
	}
	m[1].remote_uri = "\"c\\a,{r}ol\" <sip:carol@y>";
	m[2].route_set = "<sip:p1;lr>,<sip:p2;lr>";
	m[3].service = NULL;
	m[3].channel = "sport";
	add_members(m, 4, (const int[]){0, 0, 0, 0});
	/* bob alone, then carol, dave and erin in one INSERT */
	ck_assert_int_eq(
	    sql_count("SELECT count(*) FROM stmt_count WHERE op = 'INSERT'"),
	    2);
	ck_assert_int_eq(
	    sql_count("SELECT count(*) FROM members WHERE "
		      "remote_uri = '\"c\\a,{r}ol\" <sip:carol@y>' "
		      "AND user_id = 'carol' AND sdp_port = 5006"),
	    1);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM members WHERE "
				   "route_set = '<sip:p1;lr>,<sip:p2;lr>' AND "
				   "user_id = 'dave' AND route_set IS NOT NULL "
				   "AND admitted_seq = 4"),
			 1);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM members WHERE "
				   "user_id = 'erin' AND service_default_id "
				   "IS NULL AND channel = 'sport' AND joined = "
				   "to_timestamp(1700000000)"),
			 1);
	/* the space's own channel is stored as NULL, as on its own */
	ck_assert_int_eq(sql_count("SELECT count(*) FROM members WHERE "
				   "channel IS NULL AND user_id <> 'erin'"),
			 4);
	/* ids in the order queued */
	ck_assert_int_eq(sql_count("SELECT count(*) FROM members a, members b "
				   "WHERE a.user_id = 'carol' AND b.user_id = "
				   "'dave' AND a.id < b.id"),
			 1);

	/* tags and a leave: bob's alone, then the others, one UPDATE each
	 * (an UPDATE is not merged: store.c says why), keyed so that they
	 * do not stop the joins about them from merging */
	done_count = n_errors = 0;
	ck_assert_int_eq(store_member_dialog(db, id, "bob", "tb", on_each,
					     (void *)(intptr_t)0),
			 0);
	ck_assert_int_eq(store_member_dialog(db, id, "carol", "t\"c", on_each,
					     (void *)(intptr_t)1),
			 0);
	ck_assert_int_eq(store_member_dialog(db, id, "dave", "td", on_each,
					     (void *)(intptr_t)2),
			 0);
	ck_assert_int_eq(store_member_leave(db, id, "erin", "bye", on_each,
					    (void *)(intptr_t)3),
			 0);
	run_until(4);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(errors[i], 0);
	ck_assert_int_eq(
	    sql_count("SELECT count(*) FROM stmt_count WHERE op = 'UPDATE'"),
	    4);
	snprintf(q, sizeof(q),
		 "SELECT count(*) FROM members WHERE space_id = %llu AND "
		 "((user_id = 'bob' AND local_tag = 'tb') OR (user_id = "
		 "'carol' AND local_tag = 't\"c') OR (user_id = 'dave' AND "
		 "local_tag = 'td') OR (user_id = 'erin' AND leave_reason = "
		 "'bye' AND left_at IS NOT NULL))",
		 (unsigned long long)id);
	ck_assert_int_eq(sql_count(q), 4);
}
END_TEST

/* A merged statement that fails rolls its batch back, and each goes again
 * on its own: only the one at fault fails. */
START_TEST(a_merged_statement_that_fails_fails_alone)
{
	struct store_member m[4];
	uint64_t id;

	seed();
	exec_sql("INSERT INTO users (user_id) VALUES ('carol'), ('dave'), "
		 "('erin')");
	id = start_space();
	m[0] = member(id, "bob", "guest", 2);
	done_count = 0;
	ck_assert_int_eq(store_member_add(db, &m[0], on_done, NULL), 0);
	run_until(1);
	ck_assert_int_eq(last_error, 0);
	done_count = n_errors = 0;
	m[0] = member(id, "carol", "guest", 3);
	m[1] = member(id, "dave", "guest", 4);
	m[2] = member(id, "bob", "guest", 5); /* bob is in: refused */
	m[3] = member(id, "erin", "guest", 6);
	add_members(m, 4, (const int[]){0, 0, -EIO, 0});
	ck_assert_int_eq(sql_count("SELECT count(*) FROM members WHERE "
				   "user_id IN ('carol', 'dave', 'erin')"),
			 3);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM members WHERE "
				   "user_id = 'bob' AND admitted_seq = 5"),
			 0);
}
END_TEST

/* Statements of one member keep their order within a batch, whatever
 * others are merged around them: a tag follows its join, a leave its tag,
 * a join again follows the leave, and the callbacks run in the order the
 * statements were queued. */
START_TEST(a_members_statements_keep_their_order)
{
	struct store_member m[3];
	uint64_t id;

	seed();
	exec_sql("INSERT INTO users (user_id) VALUES ('carol'), ('dave'), "
		 "('erin')");
	id = start_space();
	done_count = n_errors = 0;
	m[0] = member(id, "dave", "guest", 2);
	m[1] = member(id, "carol", "guest", 3);
	m[2] = member(id, "erin", "guest", 4);
	/* dave goes alone; the rest queue behind him */
	ck_assert_int_eq(
	    store_member_add(db, &m[0], on_each, (void *)(intptr_t)0), 0);
	ck_assert_int_eq(
	    store_member_add(db, &m[1], on_each, (void *)(intptr_t)1), 0);
	ck_assert_int_eq(store_member_dialog(db, id, "carol", "tc", on_each,
					     (void *)(intptr_t)2),
			 0);
	ck_assert_int_eq(
	    store_member_add(db, &m[2], on_each, (void *)(intptr_t)3), 0);
	ck_assert_int_eq(store_member_leave(db, id, "carol", "bye", on_each,
					    (void *)(intptr_t)4),
			 0);
	m[1].admitted_seq = 5;
	ck_assert_int_eq(
	    store_member_add(db, &m[1], on_each, (void *)(intptr_t)5), 0);
	ck_assert_int_eq(store_member_dialog(db, id, "erin", "te", on_each,
					     (void *)(intptr_t)6),
			 0);
	ck_assert_int_eq(store_member_dialog(db, id, "dave", "td", on_each,
					     (void *)(intptr_t)7),
			 0);
	run_until(8);
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(errors[i], 0);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM members WHERE "
				   "user_id = 'carol' AND admitted_seq = 3 AND "
				   "local_tag = 'tc' AND left_at IS NOT NULL"),
			 1);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM members WHERE "
				   "user_id = 'carol' AND admitted_seq = 5 AND "
				   "local_tag IS NULL AND left_at IS NULL"),
			 1);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM members WHERE "
				   "local_tag IN ('te', 'td') AND "
				   "left_at IS NULL"),
			 2);
}
END_TEST

/* A member's role, delivery, SDP port and payload type are checked (by
 * their domains, 009_member_domains.sql) when written, alone or merged;
 * a tag or a leave writes none of them. */
START_TEST(a_members_values_are_checked)
{
	struct store_member m[4];
	uint64_t id;

	seed();
	exec_sql("INSERT INTO users (user_id) VALUES ('carol'), ('dave'), "
		 "('erin')");
	id = start_space();
	done_count = n_errors = 0;
	m[0] = member(id, "bob", "guest", 2);
	m[1] = member(id, "carol", "guest", 3);
	m[1].sdp_port = 70000;
	m[2] = member(id, "dave", "guest", 4);
	m[2].delivery = "unicast";
	m[3] = member(id, "erin", "guest", 5);
	m[3].sdp_pt = 128;
	add_members(m, 4, (const int[]){0, -EIO, -EIO, -EIO});
	done_count = 0;
	m[0] = member(id, "carol", "boss", 6);
	ck_assert_int_eq(store_member_add(db, &m[0], on_done, NULL), 0);
	run_until(1);
	ck_assert_int_eq(last_error, -EIO);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM members"), 2);
	/* a tag and a leave */
	done_count = 0;
	ck_assert_int_eq(
	    store_member_dialog(db, id, "bob", "tb", on_done, NULL), 0);
	ck_assert_int_eq(
	    store_member_leave(db, id, "bob", "bye", on_done, NULL), 0);
	run_until(2);
	ck_assert_int_eq(last_error, 0);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM members WHERE "
				   "local_tag = 'tb' AND left_at IS NOT NULL"),
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

/* -- NOTIFY tvspace -------------------------------------------------------- */

/* What a node hears: a second connection LISTENs on tvspace, and heard()
 * collects the payloads that arrive until none came for @a quiet_ms. */
#define MAX_HEARD 64
static char *heard_payload[MAX_HEARD];
static int n_heard, n_heard_total;

static void listen_start(void)
{
	PGresult *r;

	listener = PQconnectdb(conninfo);
	ck_assert_msg(PQstatus(listener) == CONNECTION_OK, "%s",
		      PQerrorMessage(listener));
	r = PQexec(listener, "LISTEN tvspace");
	ck_assert_int_eq(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
}

static void heard_clear(void)
{
	for (int i = 0; i < n_heard; i++)
		free(heard_payload[i]);
	n_heard = n_heard_total = 0;
}

/* Each payload goes to @a each when given (all of them), and the first
 * MAX_HEARD are kept in heard_payload[]. */
static void heard(int quiet_ms, void (*each)(const char *payload))
{
	struct pollfd pfd = {.fd = PQsocket(listener), .events = POLLIN};

	heard_clear();
	for (int rounds = 0; rounds < 100; rounds++) {
		PGnotify *n;

		if (poll(&pfd, 1, quiet_ms) <= 0)
			break;
		ck_assert(PQconsumeInput(listener));
		while ((n = PQnotifies(listener))) {
			if (each)
				each(n->extra);
			if (n_heard < MAX_HEARD)
				heard_payload[n_heard++] = strdup(n->extra);
			n_heard_total++;
			PQfreemem(n);
		}
	}
}

static bool was_heard(const char *payload)
{
	for (int i = 0; i < n_heard; i++)
		if (strcmp(heard_payload[i], payload) == 0)
			return true;
	return false;
}

/* A change of one service names it and its user; a move to another user
 * names both; a bulk statement is one "services *". */
START_TEST(services_notify_per_row)
{
	seed();
	listen_start();
	exec_sql("INSERT INTO users (user_id) VALUES ('carol')");
	exec_sql("INSERT INTO services VALUES ('svc-carol', 'carol', 1, "
		 "NULL, true)");
	heard(200, NULL);
	ck_assert_int_eq(n_heard, 1);
	ck_assert_str_eq(heard_payload[0], "service svc-carol carol");

	exec_sql("UPDATE services SET package = '{news}' "
		 "WHERE service_default_id = 'svc-bob'");
	heard(200, NULL);
	ck_assert_int_eq(n_heard, 1);
	ck_assert_str_eq(heard_payload[0], "service svc-bob bob");

	/* moved to another user: the old user's cache entry goes too */
	exec_sql("UPDATE services SET user_id = 'alice', is_default = false "
		 "WHERE service_default_id = 'svc-carol'");
	heard(200, NULL);
	ck_assert_int_eq(n_heard, 2);
	ck_assert(was_heard("service svc-carol alice"));
	ck_assert(was_heard("service svc-carol carol"));

	exec_sql("DELETE FROM services WHERE service_default_id = 'svc-bob'");
	heard(200, NULL);
	ck_assert_int_eq(n_heard, 1);
	ck_assert_str_eq(heard_payload[0], "service svc-bob bob");

	/* a user's services go with the user (ON DELETE CASCADE) */
	exec_sql("DELETE FROM users WHERE user_id = 'bob'");
	exec_sql("INSERT INTO users (user_id) VALUES ('bob')");
	heard(200, NULL);
	ck_assert_int_eq(n_heard, 0);

	/* 100 rows are said row by row, 101 at once */
	exec_sql("INSERT INTO users (user_id) SELECT 'u' || g "
		 "FROM generate_series(1, 201) g");
	exec_sql("INSERT INTO services SELECT 's' || g, 'u' || g, 1 "
		 "FROM generate_series(1, 100) g");
	heard(200, NULL);
	ck_assert_int_eq(n_heard_total, 100);
	ck_assert(was_heard("service s1 u1"));
	exec_sql("INSERT INTO services SELECT 's' || g, 'u' || g, 1 "
		 "FROM generate_series(101, 201) g");
	heard(200, NULL);
	ck_assert_int_eq(n_heard_total, 1);
	ck_assert_str_eq(heard_payload[0], "services *");
	exec_sql("UPDATE services SET level = 1");
	heard(200, NULL);
	ck_assert_int_eq(n_heard_total, 1);
	ck_assert_str_eq(heard_payload[0], "services *");

	/* a name a reader could not split on spaces: the bulk form */
	exec_sql("INSERT INTO users (user_id) VALUES ('d e')");
	exec_sql("INSERT INTO services VALUES ('svc d e', 'd e', 1)");
	heard(200, NULL);
	ck_assert_int_eq(n_heard, 1);
	ck_assert_str_eq(heard_payload[0], "services *");

	exec_sql("TRUNCATE services");
	heard(200, NULL);
	ck_assert_int_eq(n_heard, 1);
	ck_assert_str_eq(heard_payload[0], "services *");
	heard_clear();
}
END_TEST

START_TEST(levels_and_friends_notify)
{
	seed();
	exec_sql("INSERT INTO users (user_id) SELECT 'u' || g "
		 "FROM generate_series(1, 101) g");
	listen_start();
	exec_sql("UPDATE service_levels SET capacity = 5");
	heard(200, NULL);
	ck_assert_int_eq(n_heard, 1);
	ck_assert_str_eq(heard_payload[0], "levels");

	exec_sql("INSERT INTO friends (user_id, friend_id) "
		 "VALUES ('alice', 'bob')");
	heard(200, NULL);
	ck_assert_int_eq(n_heard, 1);
	ck_assert_str_eq(heard_payload[0], "friend alice bob on");
	exec_sql("UPDATE friends SET friend_id = 'u1' WHERE user_id = 'alice'");
	heard(200, NULL);
	ck_assert_int_eq(n_heard, 2);
	ck_assert_str_eq(heard_payload[0], "friend alice bob off");
	ck_assert_str_eq(heard_payload[1], "friend alice u1 on");
	exec_sql("DELETE FROM friends");
	heard(200, NULL);
	ck_assert_int_eq(n_heard, 1);
	ck_assert_str_eq(heard_payload[0], "friend alice u1 off");

	exec_sql("INSERT INTO friends (user_id, friend_id) "
		 "SELECT 'alice', 'u' || g FROM generate_series(1, 101) g");
	heard(200, NULL);
	ck_assert_int_eq(n_heard, 1);
	ck_assert_str_eq(heard_payload[0], "friends *");
	/* a friend who goes takes the friendships along */
	exec_sql("DELETE FROM users WHERE user_id = 'u7'");
	heard(200, NULL);
	ck_assert_int_eq(n_heard, 1);
	ck_assert_str_eq(heard_payload[0], "friend alice u7 off");
	heard_clear();
}
END_TEST

/* -- lookups on demand ----------------------------------------------------- */

static struct {
	int calls, error;
	bool found;
	char id[32], user[32], channel[32], package[64];
	unsigned level, played;
	bool is_default, package_null, channel_null;
} got;

static void on_service(void *arg, int error, const struct store_service *s)
{
	done_count++;
	got.calls++;
	got.error = error;
	got.found = s != NULL;
	if (!s)
		return;
	snprintf(got.id, sizeof(got.id), "%s", s->id);
	snprintf(got.user, sizeof(got.user), "%s", s->user);
	got.channel_null = !s->default_channel;
	snprintf(got.channel, sizeof(got.channel), "%s",
		 s->default_channel ? s->default_channel : "");
	got.package_null = !s->package;
	snprintf(got.package, sizeof(got.package), "%s",
		 s->package ? s->package : "");
	got.level = s->level;
	got.played = s->played_today;
	got.is_default = s->is_default;
}

static void get_service(const char *id, const char *day)
{
	int before = done_count;

	memset(&got, 0, sizeof(got));
	ck_assert_int_eq(store_service_get(db, id, day, on_service, NULL), 0);
	run_until(before + 1);
	ck_assert_int_eq(got.error, 0);
}

static void user_service(const char *user, const char *day)
{
	int before = done_count;

	memset(&got, 0, sizeof(got));
	ck_assert_int_eq(store_service_of_user(db, user, day, on_service, NULL),
			 0);
	run_until(before + 1);
	ck_assert_int_eq(got.error, 0);
}

START_TEST(a_service_is_looked_up_by_id)
{
	seed();
	exec_sql("UPDATE services SET package = '{news,sports}' "
		 "WHERE service_default_id = 'svc-bob'");
	exec_sql("INSERT INTO usage VALUES ('svc-bob', '2026-11-24', 300), "
		 "('svc-bob', '2026-11-23', 99)");
	done_count = 0;
	get_service("svc-bob", "2026-11-24");
	ck_assert(got.found);
	ck_assert_str_eq(got.id, "svc-bob");
	ck_assert_str_eq(got.user, "bob");
	ck_assert_uint_eq(got.level, 1);
	ck_assert_str_eq(got.channel, "news");
	ck_assert(got.is_default);
	ck_assert(!got.package_null);
	ck_assert_str_eq(got.package, "news sports");
	ck_assert_uint_eq(got.played, 300);
	/* another day: nothing played yet; alice's package is every channel */
	get_service("svc-bob", "2026-11-25");
	ck_assert(got.found);
	ck_assert_uint_eq(got.played, 0);
	get_service("svc-alice", "2026-11-24");
	ck_assert(got.package_null);
	/* none */
	get_service("svc-nobody", "2026-11-24");
	ck_assert(!got.found);
	/* the caller's mistakes */
	ck_assert_int_eq(
	    store_service_get(db, "svc-bob", "24.11.2026", on_service, NULL),
	    -EINVAL);
	ck_assert_int_eq(
	    store_service_get(db, NULL, "2026-11-24", on_service, NULL),
	    -EINVAL);
	ck_assert_int_eq(
	    store_service_of_user(db, "bob", "2026-11-2x", on_service, NULL),
	    -EINVAL);
}
END_TEST

START_TEST(a_users_service_is_its_default_or_only_one)
{
	seed();
	exec_sql("INSERT INTO users (user_id) VALUES ('carol'), ('dave'), "
		 "('erin')");
	/* bob: a default and another; carol: one, not marked; dave: two,
	 * neither marked; erin: none */
	exec_sql("INSERT INTO services VALUES "
		 "('svc-a-bob', 'bob', 1, 'sports', false), "
		 "('svc-carol', 'carol', 1, NULL, false), "
		 "('svc-dave-1', 'dave', 1, NULL, false), "
		 "('svc-dave-2', 'dave', 1, NULL, false)");
	done_count = 0;
	user_service("bob", "2026-11-24");
	ck_assert(got.found);
	ck_assert_str_eq(got.id, "svc-bob");
	user_service("carol", "2026-11-24");
	ck_assert(got.found);
	ck_assert_str_eq(got.id, "svc-carol");
	ck_assert(got.channel_null);
	ck_assert(!got.is_default);
	user_service("dave", "2026-11-24");
	ck_assert(!got.found);
	user_service("erin", "2026-11-24");
	ck_assert(!got.found);
	user_service("nobody", "2026-11-24");
	ck_assert(!got.found);
}
END_TEST

static char levels_seen[256];

static void on_level(void *arg, const struct store_level *l)
{
	size_t len = strlen(levels_seen);

	snprintf(levels_seen + len, sizeof(levels_seen) - len,
		 "%u:%s:%u:%u:%u;", l->level, l->name, l->capacity,
		 l->daily_limit, l->features);
}

START_TEST(levels_load_with_their_features)
{
	exec_sql("INSERT INTO service_levels VALUES "
		 "(1, 'basic', 4, 7200, '{}'), (2, 'family', 8, 0, '{quiz}'), "
		 "(3, 'premium', 50, 0, '{quiz,relay}'), "
		 "(4, 'relay', 2, 60, '{relay,other}')");
	done_count = 0;
	levels_seen[0] = '\0';
	ck_assert_int_eq(store_load_levels(db, on_level, on_done, NULL), 0);
	run_until(1);
	ck_assert_int_eq(last_error, 0);
	ck_assert_str_eq(levels_seen, "1:basic:4:7200:0;2:family:8:0:1;"
				      "3:premium:50:0:3;4:relay:2:60:2;");
}
END_TEST

static char friends_seen[256];

static void on_friend(void *arg, const char *user, const char *friend)
{
	size_t len = strlen(friends_seen);

	snprintf(friends_seen + len, sizeof(friends_seen) - len, "%s>%s;", user,
		 friend);
}

START_TEST(a_hosts_friends_are_looked_up)
{
	seed();
	exec_sql("INSERT INTO users (user_id) VALUES ('carol')");
	exec_sql("INSERT INTO friends (user_id, friend_id) VALUES "
		 "('alice', 'carol'), ('alice', 'bob'), ('bob', 'alice')");
	done_count = 0;
	friends_seen[0] = '\0';
	ck_assert_int_eq(
	    store_friends_of(db, "alice", on_friend, on_done, NULL), 0);
	run_until(1);
	ck_assert_int_eq(last_error, 0);
	ck_assert_str_eq(friends_seen, "alice>bob;alice>carol;");
	friends_seen[0] = '\0';
	ck_assert_int_eq(
	    store_friends_of(db, "carol", on_friend, on_done, NULL), 0);
	run_until(2);
	ck_assert_str_eq(friends_seen, "");
}
END_TEST

/* Each lookup is served by an index, whatever the number of rows: the plan
 * of each statement, with the planner's statistics of a big table. */
static void plan_uses_index(const char *query)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r;
	char *plan = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&plan, &len);

	r = PQexec(c, "SET enable_seqscan = off");
	PQclear(r);
	r = PQexec(c, query);
	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", query,
		      PQerrorMessage(c));
	for (int i = 0; i < PQntuples(r); i++)
		fprintf(f, "%s\n", PQgetvalue(r, i, 0));
	(void)fclose(f);
	ck_assert_msg(!strstr(plan, "Seq Scan"), "%s:\n%s", query, plan);
	free(plan);
	PQclear(r);
	PQfinish(c);
}

START_TEST(lookups_have_indexes)
{
	/* enable_seqscan = off leaves a sequential scan only where no index
	 * can serve */
	plan_uses_index("EXPLAIN SELECT * FROM services s LEFT JOIN usage u "
			"ON u.service_default_id = s.service_default_id "
			"AND u.day = '2026-11-24' "
			"WHERE s.service_default_id = 'x'");
	plan_uses_index("EXPLAIN SELECT * FROM services s LEFT JOIN usage u "
			"ON u.service_default_id = s.service_default_id "
			"AND u.day = '2026-11-24' WHERE s.user_id = 'x' "
			"ORDER BY s.is_default DESC LIMIT 2");
	plan_uses_index("EXPLAIN SELECT * FROM friends WHERE user_id = 'x'");
	plan_uses_index("EXPLAIN SELECT * FROM service_status "
			"WHERE service_default_id = 'x'");
	plan_uses_index("EXPLAIN SELECT * FROM space_info "
			"WHERE user_id = 'x'");
}
END_TEST

/* -- claims in pieces ------------------------------------------------------ */

#define CLAIM_SPACES 10000
static unsigned char claim_seen[CLAIM_SPACES + 1];
static int claim_rows, claim_bad, claim_notes;
static size_t claim_longest;

static void on_claim(void *arg, uint64_t id, const char *old)
{
	claim_rows++;
	ck_assert_str_eq(old, "dead");
}

/* "claim n1 dead 1,2,3": every id once, each payload under 8000 bytes. */
static void claim_payload(const char *p)
{
	static const char head[] = "claim n1 dead ";
	char *copy, *save = NULL;

	claim_notes++;
	if (strlen(p) > claim_longest)
		claim_longest = strlen(p);
	if (strncmp(p, head, sizeof(head) - 1) != 0) {
		claim_bad++;
		return;
	}
	copy = strdup(p + sizeof(head) - 1);
	for (char *t = strtok_r(copy, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		unsigned long id = strtoul(t, NULL, 10);

		if (id < 1 || id > CLAIM_SPACES || claim_seen[id]++)
			claim_bad++;
	}
	free(copy);
}

START_TEST(a_claim_of_10000_spaces_notifies_in_pieces)
{
	seed();
	exec_sql("INSERT INTO nodes VALUES "
		 "('dead', 'sip:dead', now() - interval '1 minute'), "
		 "('n1', 'sip:n1', now() + interval '1 hour')");
	exec_sql("INSERT INTO spaces (host_service, host_user, channel, "
		 "node_id) SELECT 'svc-alice', 'alice', 'news', 'dead' "
		 "FROM generate_series(1, 10000)");
	ck_assert_int_eq(sql_count("SELECT max(id) FROM spaces"), CLAIM_SPACES);
	listen_start();
	memset(claim_seen, 0, sizeof(claim_seen));
	claim_rows = claim_bad = claim_notes = 0;
	claim_longest = 0;
	done_count = 0;
	ck_assert_int_eq(store_claim(db, "n1", on_claim, on_done, NULL), 0);
	run_until(1);
	ck_assert_int_eq(last_error, 0);
	ck_assert_int_eq(claim_rows, CLAIM_SPACES);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM spaces "
				   "WHERE node_id = 'n1'"),
			 CLAIM_SPACES);
	heard(300, claim_payload);
	ck_assert_int_eq(claim_bad, 0);
	for (int id = 1; id <= CLAIM_SPACES; id++)
		ck_assert_msg(claim_seen[id] == 1, "space %d notified %d times",
			      id, claim_seen[id]);
	ck_assert_uint_lt(claim_longest, 8000);
	/* in pieces, and not in needlessly many */
	ck_assert_int_gt(claim_notes, 1);
	ck_assert_int_le(claim_notes, 10);
	heard_clear();
}
END_TEST

/* -- the patent's tables: service_status and space_info -------------------- */

/* One value of service_status's row for @a svc, as text ("" for NULL). */
static void status_is(const char *svc, const char *column, const char *want)
{
	PGconn *c = PQconnectdb(conninfo);
	char q[256];
	PGresult *r;

	snprintf(q, sizeof(q),
		 "SELECT %s FROM service_status WHERE service_default_id = "
		 "'%s'",
		 column, svc);
	r = PQexec(c, q);
	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", q);
	ck_assert_int_eq(PQntuples(r), 1);
	ck_assert_msg(strcmp(PQgetvalue(r, 0, 0), want) == 0,
		      "%s of %s: got '%s', want '%s'", column, svc,
		      PQgetvalue(r, 0, 0), want);
	PQclear(r);
	PQfinish(c);
}

/* space_info's rows, "user:role:channel:follows;" in admission order. */
static void info_is(const char *want)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r =
	    PQexec(c, "SELECT string_agg(user_id || ':' || role || ':' || "
		      "channel || ':' || follows || ':' || sdp_addr || ':' || "
		      "sdp_port || ':' || sdp_media || ':' || sdp_pt || ':' || "
		      "service_default_id, ';' ORDER BY admitted_seq) "
		      "FROM space_info");

	ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
	ck_assert_msg(strcmp(PQgetvalue(r, 0, 0), want) == 0,
		      "space_info: got '%s', want '%s'", PQgetvalue(r, 0, 0),
		      want);
	PQclear(r);
	PQfinish(c);
}

/* The same programme again (a survivor taking a space over) writes no new
 * version of the space's row; a change does, clearing included. */
START_TEST(the_same_programme_is_not_written_again)
{
	uint64_t id;
	char q[192];
	int xmin;

	seed();
	done_count = 0;
	id = start_space();
	snprintf(q, sizeof(q),
		 "SELECT xmin::text::bigint FROM spaces WHERE id = %llu",
		 (unsigned long long)id);
	ck_assert_int_eq(store_space_programme(db, id, "Match", 1764001800,
					       1764007200, on_done, NULL),
			 0);
	run_until(done_count + 1);
	ck_assert_int_eq(last_error, 0);
	xmin = sql_count(q);
	ck_assert_int_eq(store_space_programme(db, id, "Match", 1764001800,
					       1764007200, on_done, NULL),
			 0);
	run_until(done_count + 1);
	ck_assert_int_eq(last_error, 0);
	ck_assert_int_eq(sql_count(q), xmin);
	/* another stop (none) */
	ck_assert_int_eq(store_space_programme(db, id, "Match", 1764001800, 0,
					       on_done, NULL),
			 0);
	run_until(done_count + 1);
	ck_assert_int_ne(sql_count(q), xmin);
	snprintf(q, sizeof(q),
		 "SELECT count(*) FROM spaces WHERE id = %llu AND "
		 "programme_title = 'Match' AND programme_stop IS NULL",
		 (unsigned long long)id);
	ck_assert_int_eq(sql_count(q), 1);
	/* cleared, then cleared again */
	ck_assert_int_eq(
	    store_space_programme(db, id, NULL, 0, 0, on_done, NULL), 0);
	run_until(done_count + 1);
	snprintf(q, sizeof(q),
		 "SELECT count(*) FROM spaces WHERE id = %llu AND "
		 "programme_title IS NULL AND programme_start IS NULL",
		 (unsigned long long)id);
	ck_assert_int_eq(sql_count(q), 1);
	snprintf(q, sizeof(q),
		 "SELECT xmin::text::bigint FROM spaces WHERE id = %llu",
		 (unsigned long long)id);
	xmin = sql_count(q);
	ck_assert_int_eq(
	    store_space_programme(db, id, NULL, 0, 0, on_done, NULL), 0);
	run_until(done_count + 1);
	ck_assert_int_eq(last_error, 0);
	ck_assert_int_eq(sql_count(q), xmin);
}
END_TEST

START_TEST(the_views_follow_a_space)
{
	uint64_t id;
	struct store_member g;

	seed();
	done_count = 0;
	/* nothing live: the service's row is there, empty */
	status_is("svc-alice", "current_members", "0");
	status_is("svc-alice", "coalesce(current_programme, '-')", "-");
	status_is("svc-alice", "capacity || '/' || daily_limit_s", "4/7200");
	info_is("");

	id = start_space();
	status_is("svc-alice", "current_members", "1");
	status_is("svc-alice", "live_spaces", "1");
	status_is("svc-alice", "channel", "news");
	status_is("svc-alice", "space_id = (SELECT max(id) FROM spaces)", "t");
	info_is("alice:host:news:true:232.10.0.1:5004:video:33:svc-alice");

	/* a guest joins */
	g = member(id, "bob", "guest", 2);
	g.service = "svc-bob";
	g.sdp_addr = "10.0.0.2";
	g.delivery = "relay";
	ck_assert_int_eq(store_member_add(db, &g, on_done, NULL), 0);
	run_until(2);
	ck_assert_int_eq(last_error, 0);
	status_is("svc-alice", "current_members", "2");
	status_is("svc-bob", "current_members", "0");
	info_is("alice:host:news:true:232.10.0.1:5004:video:33:svc-alice;"
		"bob:guest:news:true:10.0.0.2:5004:video:33:svc-bob");

	/* the programme, then a switch: the old channel's programme goes */
	ck_assert_int_eq(store_space_programme(db, id, "Evening News",
					       1764000000, 1764001800, on_done,
					       NULL),
			 0);
	run_until(3);
	ck_assert_int_eq(last_error, 0);
	status_is("svc-alice", "current_programme", "Evening News");
	status_is("svc-alice",
		  "extract(epoch FROM programme_start)::bigint || '-' || "
		  "extract(epoch FROM programme_stop)::bigint",
		  "1764000000-1764001800");
	ck_assert_int_eq(
	    store_space_update(db, id, "sports", NULL, NULL, on_done, NULL), 0);
	run_until(4);
	status_is("svc-alice", "channel", "sports");
	status_is("svc-alice", "coalesce(current_programme, '-')", "-");
	ck_assert_int_eq(store_space_programme(db, id, "Match", 1764001800,
					       1764007200, on_done, NULL),
			 0);
	run_until(5);
	status_is("svc-alice", "current_programme", "Match");
	/* a refresh of the same channel keeps it */
	ck_assert_int_eq(
	    store_space_update(db, id, "sports", NULL, NULL, on_done, NULL), 0);
	run_until(6);
	status_is("svc-alice", "current_programme", "Match");

	/* bob could not follow to sports: he stays on news */
	ck_assert_int_eq(
	    store_member_channel(db, id, "bob", "news", on_done, NULL), 0);
	run_until(7);
	info_is("alice:host:sports:true:232.10.0.1:5004:video:33:svc-alice;"
		"bob:guest:news:false:10.0.0.2:5004:video:33:svc-bob");
	/* the space's own channel is following */
	ck_assert_int_eq(
	    store_member_channel(db, id, "bob", "sports", on_done, NULL), 0);
	run_until(8);
	info_is("alice:host:sports:true:232.10.0.1:5004:video:33:svc-alice;"
		"bob:guest:sports:true:10.0.0.2:5004:video:33:svc-bob");
	/* left behind on news again, then the space comes back to news */
	ck_assert_int_eq(
	    store_member_channel(db, id, "bob", "news", on_done, NULL), 0);
	ck_assert_int_eq(
	    store_space_update(db, id, "news", NULL, NULL, on_done, NULL), 0);
	run_until(10);
	info_is("alice:host:news:true:232.10.0.1:5004:video:33:svc-alice;"
		"bob:guest:news:true:10.0.0.2:5004:video:33:svc-bob");

	/* the guest leaves */
	ck_assert_int_eq(
	    store_member_leave(db, id, "bob", "bye", on_done, NULL), 0);
	run_until(11);
	status_is("svc-alice", "current_members", "1");
	info_is("alice:host:news:true:232.10.0.1:5004:video:33:svc-alice");

	/* the space ends: nothing live, the time booked */
	ck_assert_int_eq(store_space_end(db, id, "space ended by host",
					 "svc-alice", "2026-11-24", 90, on_done,
					 NULL),
			 0);
	run_until(12);
	status_is("svc-alice", "current_members", "0");
	status_is("svc-alice", "live_spaces", "0");
	status_is("svc-alice", "coalesce(space_id, 0)", "0");
	info_is("");
}
END_TEST

/* played_s counts today only: a new day starts from nothing booked. */
START_TEST(the_service_status_counts_today)
{
	seed();
	exec_sql("INSERT INTO usage VALUES "
		 "('svc-alice', current_date - 1, 5000), "
		 "('svc-bob', current_date - 1, 100), "
		 "('svc-bob', current_date, 42)");
	status_is("svc-alice", "booked_s || '/' || played_s", "0/0");
	status_is("svc-bob", "booked_s || '/' || played_s", "42/42");
	/* a live space adds what it played since it was booked, never from
	 * before midnight */
	exec_sql("INSERT INTO spaces (host_service, host_user, channel, "
		 "started, booked_until) VALUES ('svc-bob', 'bob', 'news', "
		 "now() - interval '3 days', now() - interval '30 seconds')");
	status_is("svc-bob", "played_s - booked_s BETWEEN 29 AND 40", "t");
	exec_sql("UPDATE spaces SET booked_until = NULL");
	status_is("svc-bob",
		  "played_s - booked_s <= extract(epoch FROM now() - "
		  "current_date::timestamptz) + 1",
		  "t");
	/* at midnight: what was today is yesterday */
	exec_sql("UPDATE usage SET day = day - 1");
	status_is("svc-bob", "booked_s", "0");
}
END_TEST

START_TEST(spaces_book_their_played_time_in_one_statement)
{
	uint64_t a, b, c;
	int before;

	seed();
	a = start_space();
	b = start_space();
	c = start_space();
	exec_sql("UPDATE spaces SET state = 'ended', ended = now() "
		 "WHERE id = (SELECT max(id) FROM spaces)");
	{
		/* two of alice's spaces in one row of usage, one of them
		 * twice as long; the ended one books nothing; a quote in a
		 * service's name is data */
		struct store_booking bk[] = {
		    {a, "svc-alice", "2026-11-30", 30, 1700000100},
		    {b, "svc-alice", "2026-11-30", 60, 1700000100},
		    {c, "svc-alice", "2026-11-30", 500, 1700000100},
		    {b, "svc-alice", "2026-11-29", 7, 1700000050},
		    {a, "svc-\"b'ob", "2026-11-30", 0, 1700000100},
		};

		before = done_count;
		ck_assert_int_eq(store_usage_book(db, bk, 4, on_done, NULL), 0);
		run_until(before + 1);
		ck_assert_int_eq(last_error, 0);
		before = done_count;
		ck_assert_int_eq(store_usage_book(db, bk + 4, 1, on_done, NULL),
				 0);
		run_until(before + 1);
		ck_assert_int_eq(last_error, 0);
	}
	ck_assert_int_eq(sql_count("SELECT seconds FROM usage WHERE "
				   "service_default_id = 'svc-alice' "
				   "AND day = '2026-11-30'"),
			 90);
	ck_assert_int_eq(sql_count("SELECT seconds FROM usage WHERE "
				   "service_default_id = 'svc-alice' "
				   "AND day = '2026-11-29'"),
			 7);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM usage"), 2);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM spaces WHERE "
				   "booked_until = to_timestamp(1700000100)"),
			 2);
	/* a malformed day is refused before anything is queued */
	{
		struct store_booking bad = {a, "svc-alice", "30/11/2026", 1,
					    1700000100};

		ck_assert_int_eq(store_usage_book(db, &bad, 1, on_done, NULL),
				 -EINVAL);
	}
}
END_TEST

static char status_seen[512];

static void on_status(void *arg, const struct store_service_status *st)
{
	size_t len = strlen(status_seen);

	snprintf(status_seen + len, sizeof(status_seen) - len,
		 "%s:%s:%u:%s:%u:%u:%u:%u:%s:%s:%lld;", st->id, st->user,
		 st->level, st->level_name, st->capacity, st->daily_limit,
		 st->members, st->live_spaces, st->channel ? st->channel : "-",
		 st->programme ? st->programme : "-",
		 (long long)st->programme_stop);
}

START_TEST(the_service_status_is_read_by_the_store)
{
	uint64_t id;

	seed();
	done_count = 0;
	id = start_space();
	ck_assert_int_eq(store_space_programme(db, id, "Evening News",
					       1764000000, 1764001800, on_done,
					       NULL),
			 0);
	run_until(2);
	status_seen[0] = '\0';
	ck_assert_int_eq(
	    store_service_status(db, "svc-bob", 0, on_status, on_done, NULL),
	    0);
	run_until(3);
	ck_assert_int_eq(last_error, 0);
	ck_assert_str_eq(status_seen, "svc-bob:bob:1:basic:4:7200:0:0:-:-:0;");
	/* without an id: the services hosting a live space */
	status_seen[0] = '\0';
	ck_assert_int_eq(
	    store_service_status(db, NULL, 0, on_status, on_done, NULL), 0);
	run_until(4);
	ck_assert_str_eq(status_seen, "svc-alice:alice:1:basic:4:7200:1:1:"
				      "news:Evening News:1764001800;");
	/* a list stops at its limit, in the order of the ids */
	exec_sql("INSERT INTO spaces (host_service, host_user, channel) "
		 "VALUES ('svc-bob', 'bob', 'music')");
	status_seen[0] = '\0';
	ck_assert_int_eq(
	    store_service_status(db, NULL, 1, on_status, on_done, NULL), 0);
	run_until(5);
	ck_assert_str_eq(status_seen, "svc-alice:alice:1:basic:4:7200:1:1:"
				      "news:Evening News:1764001800;");
	status_seen[0] = '\0';
	ck_assert_int_eq(
	    store_service_status(db, NULL, 0, on_status, on_done, NULL), 0);
	run_until(6);
	ck_assert_str_eq(status_seen,
			 "svc-alice:alice:1:basic:4:7200:1:1:"
			 "news:Evening News:1764001800;"
			 "svc-bob:bob:1:basic:4:7200:0:1:music:-:0;");
	status_seen[0] = '\0';
	ck_assert_int_eq(
	    store_service_status(db, "nosuch", 0, on_status, on_done, NULL), 0);
	run_until(7);
	ck_assert_str_eq(status_seen, "");
	ck_assert_int_eq(
	    store_space_programme(db, id, "x", 10, 9, on_done, NULL), -EINVAL);
}
END_TEST

/* -- members' own state ---------------------------------------------------- */

static char live_sdp[256], live_channel[32];

static void on_live_bob(void *arg, const struct store_space *s,
			const struct store_member *m, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (strcmp(m[i].user, "bob") != 0)
			continue;
		snprintf(live_sdp, sizeof(live_sdp), "%s",
			 m[i].local_sdp ? m[i].local_sdp : "(null)");
		snprintf(live_channel, sizeof(live_channel), "%s",
			 m[i].channel ? m[i].channel : "(null)");
	}
}

static void load_bob(void)
{
	int before = done_count;

	live_sdp[0] = live_channel[0] = '\0';
	ck_assert_int_eq(
	    store_load_live(db, NULL, "2026-11-24", on_live_bob, on_done, NULL),
	    0);
	run_until(before + 1);
	ck_assert_int_eq(last_error, 0);
}

START_TEST(a_members_sdp_and_channel_come_back)
{
	static const char sdp1[] = "v=0\r\no=tvspace 7 1 IN IP4 10.0.0.1\r\n"
				   "m=audio 20000 RTP/AVP 0 101\r\n"
				   "a=rtpmap:101 telephone-event/8000\r\n"
				   "a=sendonly\r\n";
	static const char sdp2[] = "v=0\r\no=tvspace 7 2 IN IP4 10.0.0.1\r\n";
	struct store_member g;
	uint64_t id;

	seed();
	done_count = 0;
	id = start_space();
	g = member(id, "bob", "guest", 2);
	g.local_sdp = sdp1;
	ck_assert_int_eq(store_member_add(db, &g, on_done, NULL), 0);
	run_until(2);
	ck_assert_int_eq(last_error, 0);
	load_bob();
	ck_assert_str_eq(live_sdp, sdp1);
	ck_assert_str_eq(live_channel, "(null)");
	ck_assert_int_eq(store_member_sdp(db, id, "bob", sdp2, on_done, NULL),
			 0);
	ck_assert_int_eq(
	    store_member_channel(db, id, "bob", "music", on_done, NULL), 0);
	run_until(5);
	ck_assert_int_eq(last_error, 0);
	load_bob();
	ck_assert_str_eq(live_sdp, sdp2);
	ck_assert_str_eq(live_channel, "music");
	ck_assert_int_eq(
	    store_member_channel(db, id, "bob", NULL, on_done, NULL), 0);
	run_until(7);
	load_bob();
	ck_assert_str_eq(live_channel, "(null)");
}
END_TEST

/* A start or a join whose INVITE ended while its commit was in flight
 * leaves nothing behind. */
START_TEST(a_cancelled_start_or_join_is_forgotten)
{
	struct store_member g;
	uint64_t id, other;

	seed();
	exec_sql("INSERT INTO users (user_id) VALUES ('carol')");
	done_count = 0;
	id = start_space();
	other = start_space();
	g = member(id, "bob", "guest", 2);
	ck_assert_int_eq(store_member_add(db, &g, on_done, NULL), 0);
	ck_assert_int_eq(
	    store_comment_add(db, id, "bob", "hello", on_done, NULL), 0);
	run_until(4);
	ck_assert_int_eq(last_error, 0);

	/* carol had been in before, left, joined again: only the current
	 * row goes */
	g = member(other, "carol", "guest", 2);
	ck_assert_int_eq(store_member_add(db, &g, on_done, NULL), 0);
	ck_assert_int_eq(
	    store_member_leave(db, other, "carol", "bye", on_done, NULL), 0);
	g.admitted_seq = 3;
	ck_assert_int_eq(store_member_add(db, &g, on_done, NULL), 0);
	ck_assert_int_eq(store_member_forget(db, other, "carol", on_done, NULL),
			 0);
	run_until(8);
	ck_assert_int_eq(last_error, 0);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM members WHERE "
				   "user_id = 'carol'"),
			 1);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM members WHERE "
				   "user_id = 'carol' AND left_at IS NULL"),
			 0);

	ck_assert_int_eq(store_space_forget(db, id, on_done, NULL), 0);
	run_until(9);
	ck_assert_int_eq(last_error, 0);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM spaces WHERE id = 1"),
			 0);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM members WHERE "
				   "space_id = 1"),
			 0);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM comments"), 0);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM spaces"), 1);

	/* a node forgets only its own */
	store_set_node("n2");
	ck_assert_int_eq(store_space_forget(db, other, on_done, NULL), 0);
	run_until(10);
	store_set_node(NULL);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM spaces"), 1);
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

static void no_name(void *arg, const char *user, const char *display)
{
	ck_abort_msg("no user was asked for, %s is not wanted", user);
}

/* A list of users that is not there, however long it is said to be, is
 * refused rather than read. */
START_TEST(display_names_of_no_list_are_refused)
{
	done_count = 0;
	ck_assert_int_eq(
	    store_display_names(db, NULL, 2, no_name, on_done, NULL), -EINVAL);
	ck_assert_int_eq(done_count, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("postgresql");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, migrations_are_idempotent);
	tcase_add_test(tc, space_life_round_trip);
	tcase_add_test(tc, constraints_fail_whole_and_the_next_job_runs);
	tcase_add_test(tc, queued_statements_commit_together);
	tcase_add_test(tc, a_failed_statement_fails_alone);
	tcase_add_test(tc, queued_joins_go_as_one_statement);
	tcase_add_test(tc, a_merged_statement_that_fails_fails_alone);
	tcase_add_test(tc, a_claim_loads_only_the_claimed_spaces);
	tcase_add_test(tc, the_same_programme_is_not_written_again);
	tcase_add_test(tc, a_members_statements_keep_their_order);
	tcase_add_test(tc, a_members_values_are_checked);
	tcase_add_test(tc, comments_are_stored_verbatim);
	tcase_add_test(tc, no_database_means_enotconn);
	tcase_add_test(tc, display_names_of_no_list_are_refused);
	tcase_add_test(tc, services_notify_per_row);
	tcase_add_test(tc, levels_and_friends_notify);
	tcase_add_test(tc, a_service_is_looked_up_by_id);
	tcase_add_test(tc, a_users_service_is_its_default_or_only_one);
	tcase_add_test(tc, levels_load_with_their_features);
	tcase_add_test(tc, a_hosts_friends_are_looked_up);
	tcase_add_test(tc, lookups_have_indexes);
	tcase_add_test(tc, a_claim_of_10000_spaces_notifies_in_pieces);
	tcase_add_test(tc, the_views_follow_a_space);
	tcase_add_test(tc, the_service_status_counts_today);
	tcase_add_test(tc, spaces_book_their_played_time_in_one_statement);
	tcase_add_test(tc, the_service_status_is_read_by_the_store);
	tcase_add_test(tc, a_members_sdp_and_channel_come_back);
	tcase_add_test(tc, a_cancelled_start_or_join_is_forgotten);
	suite_add_tcase(s, tc);
	return check_run(s);
}
