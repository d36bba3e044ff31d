/* db.c against a real PostgreSQL (the CTest fixture's cluster, its conninfo
 * in TVSPACE_TEST_DB): the job queue is bounded and measured (a table
 * locked by a second connection holds it up), a statement is prepared
 * once per connection, and a host name never makes
 * the loop wait on DNS (a network namespace whose resolver never answers,
 * when run as root). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sofia-sip/su_time.h>
#include <sofia-sip/su_wait.h>

#include "db/db.h"
#include "server/stats.h"

#include "check_run.h"

static su_home_t home[1];
static su_root_t *root;
static struct db *db;
static char conninfo[512];
static PGconn *locker; /* the second connection, holding a lock */
static int jobs_done, last_error;

static void on_state(void *arg, bool up)
{
}

static void on_job(void *arg, int error, const struct db_result *res)
{
	jobs_done++;
	last_error = error;
}

/* Test code may block: PQexec on a connection of its own. */
static void sql_on(const char *base, const char *sql)
{
	PGconn *c = PQconnectdb(base);
	PGresult *r;

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	r = PQexec(c, sql);
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql,
		      PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

static void step_for(unsigned ms)
{
	su_time64_t end = su_monotime(NULL) + (su_time64_t)ms * 1000000;

	while (su_monotime(NULL) < end)
		su_root_step(root, 5);
}

static void run_until(int count)
{
	for (int i = 0; i < 2000 && jobs_done < count; i++)
		su_root_step(root, 5);
	ck_assert_msg(jobs_done >= count, "timed out: %d of %d jobs done",
		      jobs_done, count);
}

static void setup(void)
{
	const char *base = getenv("TVSPACE_TEST_DB");

	ck_assert_ptr_nonnull(base);
	sql_on(base, "DROP DATABASE IF EXISTS tv_check_db WITH (FORCE)");
	sql_on(base, "CREATE DATABASE tv_check_db");
	snprintf(conninfo, sizeof(conninfo), "%s dbname=tv_check_db", base);
	sql_on(conninfo, "CREATE TABLE t (n integer)");
	su_home_init(home);
	root = su_root_create(NULL);
	db = db_create(home, root, conninfo, on_state, NULL);
	ck_assert_ptr_nonnull(db);
	for (int i = 0; i < 1000 && !db_is_up(db); i++)
		su_root_step(root, 5);
	ck_assert(db_is_up(db));
	jobs_done = 0;
}

static void teardown(void)
{
	if (locker)
		PQfinish(locker);
	locker = NULL;
	db = db_destroy(db);
	su_root_destroy(root);
	su_home_deinit(home);
}

/* Another session takes the table: every statement on it waits. */
static void lock_table(void)
{
	PGresult *r;

	locker = PQconnectdb(conninfo);
	ck_assert(PQstatus(locker) == CONNECTION_OK);
	r = PQexec(locker, "BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
	ck_assert_int_eq(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
}

static void unlock_table(void)
{
	PGresult *r = PQexec(locker, "COMMIT");

	ck_assert_int_eq(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
}

static int insert(int n)
{
	char v[16];
	const char *p[] = {v};

	snprintf(v, sizeof(v), "%d", n);
	return db_exec(db, "INSERT INTO t VALUES ($1)", 1, p, on_job, NULL);
}

static int rows_in_t(void)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r = PQexec(c, "SELECT count(*) FROM t");
	int n = atoi(PQgetvalue(r, 0, 0));

	PQclear(r);
	PQfinish(c);
	return n;
}

START_TEST(the_queue_is_bounded)
{
	uint64_t rejected = tv_stats.db_rejected;

	db_set_limits(db, 3, 5, 0);
	lock_table();
	ck_assert_uint_eq(db_queue_len(db), 0);
	ck_assert(!db_overloaded(db));
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(insert(i), 0);
		/* soft: from 3 jobs on */
		ck_assert(db_overloaded(db) == (i >= 2));
	}
	ck_assert_uint_eq(db_queue_len(db), 5);
	/* hard: the sixth is refused, and nothing is queued for it */
	ck_assert_int_eq(insert(5), -EBUSY);
	ck_assert_uint_eq(tv_stats.db_rejected, rejected + 1);
	ck_assert_uint_eq(db_queue_len(db), 5);
	step_for(200);
	ck_assert_int_eq(jobs_done, 0);
	ck_assert_uint_eq(db_queue_len(db), 5);
	ck_assert(db_oldest_age(db) >= 0.2);
	ck_assert(db_oldest_age(db) < 5);

	unlock_table();
	run_until(5);
	ck_assert_int_eq(last_error, 0);
	ck_assert_uint_eq(db_queue_len(db), 0);
	ck_assert(db_oldest_age(db) == 0);
	ck_assert(!db_overloaded(db));
	ck_assert_int_eq(insert(6), 0);
	run_until(6);
	ck_assert_int_eq(rows_in_t(), 6);
}
END_TEST

/* Few jobs, but one of them old: overloaded all the same. */
START_TEST(an_old_job_is_overload)
{
	db_set_limits(db, 0, 0, 150);
	lock_table();
	ck_assert_int_eq(insert(1), 0);
	ck_assert(!db_overloaded(db));
	step_for(100);
	ck_assert(!db_overloaded(db));
	step_for(100);
	ck_assert(db_overloaded(db));
	ck_assert(db_oldest_age(db) >= 0.15);
	/* the default hard limit holds */
	for (int i = 0; i < 200; i++)
		ck_assert_int_eq(insert(i), 0);
	ck_assert_uint_eq(db_queue_len(db), 201);
	unlock_table();
	run_until(201);
	ck_assert(!db_overloaded(db));
	ck_assert(db_oldest_age(db) == 0);
	ck_assert_int_eq(rows_in_t(), 201);
}
END_TEST

/* What a job costs is measured from the batches; the expected wait of a
 * job queued now is the jobs ahead at that cost and what is left of the
 * batch in flight: it grows as the queue does, before its head has
 * waited, and shrinks as the flight goes on. */
START_TEST(the_expected_wait_follows_the_queue)
{
	double cost, w, w2, w3, w4;

	ck_assert(db_batch_cost(db, 1) == 0);
	ck_assert(db_expected_wait(db) == 0);
	lock_table();
	ck_assert_int_eq(insert(0), 0);
	step_for(200);
	unlock_table();
	run_until(1);
	/* one batch of one job that took 200 ms or more: until batches of
	 * other sizes tell, that is what any batch costs */
	cost = db_batch_cost(db, 1);
	ck_assert_msg(cost >= 0.2 && cost < 5, "cost %f", cost);
	ck_assert(db_batch_cost(db, 30) == cost);
	/* idle, a job queued now goes at once */
	ck_assert(db_expected_wait(db) == 0);
	PQfinish(locker);
	locker = NULL;

	lock_table();
	ck_assert_int_eq(insert(1), 0); /* in flight, held */
	ck_assert_int_eq(insert(2), 0);
	/* what is left of the batch in flight */
	w = db_expected_wait(db);
	ck_assert_msg(w > 0.9 * cost && w <= cost, "wait %f", w);
	/* more queued, in the same batch as the next: not longer */
	for (int i = 3; i <= 10; i++)
		ck_assert_int_eq(insert(i), 0);
	w2 = db_expected_wait(db);
	ck_assert_msg(w2 <= w, "wait %f then %f", w, w2);
	/* past a batch's worth ahead, a batch more */
	for (int i = 11; i <= 80; i++)
		ck_assert_int_eq(insert(i), 0);
	w3 = db_expected_wait(db);
	ck_assert_msg(w3 > w2 + 0.9 * cost && w3 <= w2 + cost,
		      "wait %f then %f", w2, w3);
	ck_assert(db_oldest_age(db) < 0.1);
	step_for(100);
	w4 = db_expected_wait(db);
	ck_assert_msg(w4 < w3 - 0.09, "wait %f then %f", w3, w4);
	unlock_table();
	run_until(81);
	ck_assert_int_eq(rows_in_t(), 81);
}
END_TEST

/* Jobs that came one at a time cost a batch each, commit and all.  A burst
 * of them after that goes in one batch once the one in flight is through:
 * priced as that many lone jobs ahead, a burst from idle looked like an
 * overload. */
START_TEST(a_burst_after_lone_jobs_is_priced_as_a_batch)
{
	double lone, w;

	for (int i = 0; i < 20; i++) {
		ck_assert_int_eq(insert(i), 0);
		run_until(i + 1);
	}
	lone = db_batch_cost(db, 1);
	ck_assert(lone > 0);
	lock_table();
	ck_assert_int_eq(insert(20), 0); /* in flight, held */
	for (int i = 21; i <= 60; i++)
		ck_assert_int_eq(insert(i), 0);
	w = db_expected_wait(db);
	ck_assert_msg(w <= lone, "40 jobs queued: %f s, a lone job %f s", w,
		      lone);
	unlock_table();
	run_until(61);
	ck_assert_int_eq(rows_in_t(), 61);
	/* and the batch of 41, held by the lock, is in the line now */
	ck_assert(db_batch_cost(db, 41) >= db_batch_cost(db, 1));
}
END_TEST

/* A batch that rolls back goes again job by job; the count holds. */
START_TEST(the_count_survives_a_rolled_back_batch)
{
	const char *bad[] = {"not a number"};

	lock_table();
	ck_assert_int_eq(insert(1), 0);
	ck_assert_int_eq(insert(2), 0);
	ck_assert_int_eq(
	    db_exec(db, "INSERT INTO t VALUES ($1)", 1, bad, on_job, NULL), 0);
	ck_assert_int_eq(insert(3), 0);
	ck_assert_uint_eq(db_queue_len(db), 4);
	unlock_table();
	run_until(4);
	ck_assert_uint_eq(db_queue_len(db), 0);
	ck_assert_uint_eq(db_pending(db), 0);
	ck_assert_int_eq(rows_in_t(), 3);
}
END_TEST

/* -- prepared statements ----------------------------------------------------
 */

static char seen[64];

static void on_value(void *arg, int error, const struct db_result *res)
{
	jobs_done++;
	last_error = error;
	snprintf(seen, sizeof(seen), "%s",
		 !error && db_rows(res) ? db_value(res, 0, 0) : "");
}

/* The INSERT's prepared statements on db's own connection (they are the
 * session's: only it can see them). */
static int prepared_inserts(void)
{
	int before = jobs_done;

	ck_assert_int_eq(
	    db_exec(db,
		    "SELECT count(*) FROM pg_prepared_statements "
		    "WHERE statement = 'INSERT INTO t VALUES ($1)'",
		    0, NULL, on_value, NULL),
	    0);
	run_until(before + 1);
	ck_assert_int_eq(last_error, 0);
	return atoi(seen);
}

/* Ends every other session on the test's database: db's connection. */
static void kill_sessions(void)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r = PQexec(c, "SELECT pg_terminate_backend(pid) FROM "
				"pg_stat_activity WHERE datname = "
				"'tv_check_db' AND pid <> pg_backend_pid()");

	ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
	PQclear(r);
	PQfinish(c);
}

/* Until db is up (or down), 15 s at most. */
static void wait_up(bool up)
{
	su_time64_t end = su_monotime(NULL) + 15 * (su_time64_t)1000000000;

	while (db_is_up(db) != up && su_monotime(NULL) < end)
		su_root_step(root, 5);
	ck_assert(db_is_up(db) == up);
}

START_TEST(a_statement_is_prepared_once_per_connection)
{
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(insert(i), 0);
		run_until(i + 1);
		ck_assert_int_eq(last_error, 0);
	}
	ck_assert_int_eq(prepared_inserts(), 1);
	/* a batch of them, the first waiting on a lock: the same one */
	lock_table();
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(insert(10 + i), 0);
	unlock_table();
	run_until(7);
	ck_assert_int_eq(last_error, 0);
	ck_assert_int_eq(prepared_inserts(), 1);
	ck_assert_int_eq(rows_in_t(), 6);

	/* a new connection knows none: prepared again at its first use */
	kill_sessions();
	wait_up(false);
	wait_up(true); /* a reconnection every second */
	ck_assert_int_eq(insert(20), 0);
	run_until(jobs_done + 1);
	ck_assert_int_eq(last_error, 0);
	ck_assert_int_eq(prepared_inserts(), 1);
	ck_assert_int_eq(rows_in_t(), 7);
}
END_TEST

static char read_values[4][16];
static int n_reads;

static void on_read(void *arg, int error, const struct db_result *res)
{
	int i = (int)(intptr_t)arg;

	ck_assert_int_eq(error, 0);
	ck_assert_int_eq(i, n_reads); /* in the order queued */
	ck_assert_int_eq(db_rows(res), 1);
	snprintf(read_values[i], sizeof(read_values[i]), "%s",
		 db_value(res, 0, 0));
	n_reads++;
	jobs_done++;
}

/* Reads of one batch that are the same go once and share the result; a
 * read with other parameters goes on its own.  (The sequence only tells
 * how often the statement ran: the flag says it reads.) */
START_TEST(the_same_reads_of_a_batch_go_once)
{
	const struct db_merge how = {.key = "r", .read = true};
	const char *a[] = {"1"}, *b[] = {"2"};

	sql_on(conninfo, "CREATE SEQUENCE q");
	lock_table();
	/* in flight, waiting: the reads queue behind it */
	ck_assert_int_eq(insert(1), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(
		    db_exec_merge(db, &how, "SELECT nextval('q') + $1 * 0", 1,
				  i == 2 ? b : a, on_read, (void *)(intptr_t)i),
		    0);
	unlock_table();
	run_until(5);
	ck_assert_int_eq(n_reads, 4);
	ck_assert_str_eq(read_values[0], read_values[1]);
	ck_assert_str_eq(read_values[0], read_values[3]);
	ck_assert_str_ne(read_values[0], read_values[2]);
}
END_TEST

/* A batch whose Parse comes first and whose statement fails rolls back;
 * the statement is then used, prepared, as if never seen. */
START_TEST(a_rolled_back_first_use_prepares_again)
{
	const char *bad[] = {"not a number"};

	lock_table();
	ck_assert_int_eq(db_exec(db, "SELECT 1", 0, NULL, on_job, NULL), 0);
	ck_assert_int_eq(
	    db_exec(db, "INSERT INTO t VALUES ($1)", 1, bad, on_job, NULL), 0);
	ck_assert_int_eq(insert(1), 0);
	unlock_table();
	run_until(3);
	ck_assert_int_eq(rows_in_t(), 1);
	ck_assert_int_eq(insert(2), 0);
	ck_assert_int_eq(insert(3), 0);
	run_until(5);
	ck_assert_int_eq(last_error, 0);
	ck_assert_int_eq(rows_in_t(), 3);
	ck_assert_int_le(prepared_inserts(), 2);
}
END_TEST

/* -- DNS ------------------------------------------------------------------- */

/* A timer on the loop: the longest it waited past its period. */
static su_time64_t last_tick;
static double worst_gap_ms;

static void tick(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *a)
{
	su_time64_t now = su_monotime(NULL);

	if (last_tick && (double)(now - last_tick) / 1e6 > worst_gap_ms)
		worst_gap_ms = (double)(now - last_tick) / 1e6;
	last_tick = now;
}

/* A host name is resolved and connected to: a listener of ours on
 * 127.0.0.1 sees libpq arrive when the conninfo says "localhost". */
START_TEST(a_host_name_is_resolved_and_connected_to)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), fd = -1;
	char ci[128];
	struct db *named;

	ck_assert_int_ge(ls, 0);
	ck_assert_int_eq(bind(ls, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(ls, 4), 0);
	ck_assert_int_eq(getsockname(ls, (struct sockaddr *)&sin, &len), 0);
	snprintf(ci, sizeof(ci),
		 "host=localhost port=%u dbname=x user=x connect_timeout=2",
		 ntohs(sin.sin_port));
	named = db_create(home, root, ci, on_state, NULL);
	ck_assert_ptr_nonnull(named);
	for (int i = 0; i < 600 && fd < 0; i++) {
		su_root_step(root, 5);
		fd = accept(ls, NULL, NULL);
	}
	ck_assert_msg(fd >= 0, "libpq never reached 127.0.0.1 for localhost");
	close(fd);
	ck_assert(!db_is_up(named));
	db_destroy(named);
	close(ls);
}
END_TEST

static int bring_lo_up(void)
{
	struct ifreq ifr = {0};
	int s = socket(AF_INET, SOCK_DGRAM, 0), rc;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	rc = ioctl(s, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	rc = rc < 0 ? rc : ioctl(s, SIOCSIFFLAGS, &ifr);
	close(s);
	return rc;
}

/* In a network namespace of its own whose resolver never answers (a UDP
 * socket on 127.0.0.1:53 that reads nothing; resolv.conf bind-mounted, as
 * `ip netns exec` does), a conninfo naming a host must not stall the loop:
 * before, PQconnectStart() resolved the name inside db_create() and every
 * second after, for the resolver's whole timeout. */
START_TEST(a_silent_resolver_never_stalls_the_loop)
{
	char conf[] = "/tmp/tvspace-resolv-XXXXXX";
	struct sockaddr_in dns = {.sin_family = AF_INET,
				  .sin_port = htons(53),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	char query[512];
	int cfd, mute;
	su_timer_t *t;
	su_time64_t t0;
	double create_ms;
	struct db *named;

	if (geteuid() != 0 || unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) {
		fprintf(stderr,
			"a_silent_resolver_never_stalls_the_loop: "
			"skipped (needs root for a network namespace)\n");
		return;
	}
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	cfd = mkstemp(conf);
	ck_assert_int_ge(cfd, 0);
	dprintf(cfd, "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n");
	close(cfd);
	ck_assert_int_eq(mount(conf, "/etc/resolv.conf", NULL, MS_BIND, NULL),
			 0);
	ck_assert_int_eq(bring_lo_up(), 0);
	mute = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(bind(mute, (struct sockaddr *)&dns, sizeof(dns)), 0);

	t = su_timer_create(su_root_task(root), 20);
	ck_assert_int_eq(su_timer_set_for_ever(t, tick, NULL), 0);
	last_tick = 0;
	worst_gap_ms = 0;
	t0 = su_monotime(NULL);
	named = db_create(home, root,
			  "host=db.tvspace.test port=5432 dbname=x user=x "
			  "connect_timeout=1",
			  on_state, NULL);
	create_ms = (double)(su_monotime(NULL) - t0) / 1e6;
	ck_assert_ptr_nonnull(named);
	/* over a resolver timeout and a retry */
	step_for(3500);
	su_timer_destroy(t);
	ck_assert_msg(create_ms < 100, "db_create took %.0f ms", create_ms);
	ck_assert_msg(worst_gap_ms < 250,
		      "the loop stalled: a 20 ms timer waited %.0f ms",
		      worst_gap_ms);
	ck_assert(!db_is_up(named));
	ck_assert_int_eq(db_exec(named, "SELECT 1", 0, NULL, on_job, NULL),
			 -ENOTCONN);
	/* the name was asked of the silent resolver indeed */
	ck_assert_msg(recv(mute, query, sizeof(query), 0) > 0,
		      "no DNS query reached the silent resolver");
	/* given up while the resolver is still silent: the lookup is left
	 * to glibc's thread */
	db_destroy(named);
	/* a socket folder needs no resolving: up at once, silent resolver
	 * or not */
	named = db_create(home, root, conninfo, on_state, NULL);
	t0 = su_monotime(NULL);
	while (!db_is_up(named) && su_monotime(NULL) - t0 < 2000000000)
		su_root_step(root, 5);
	ck_assert(db_is_up(named));
	ck_assert_msg(su_monotime(NULL) - t0 < 500000000,
		      "a socket folder's database took %.0f ms",
		      (double)(su_monotime(NULL) - t0) / 1e6);
	db_destroy(named);
	umount("/etc/resolv.conf");
	unlink(conf);
	close(mute);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("db");
	TCase *tc = tcase_create("queue");
	TCase *dns = tcase_create("dns");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, the_queue_is_bounded);
	tcase_add_test(tc, an_old_job_is_overload);
	tcase_add_test(tc, the_expected_wait_follows_the_queue);
	tcase_add_test(tc, a_burst_after_lone_jobs_is_priced_as_a_batch);
	tcase_add_test(tc, the_count_survives_a_rolled_back_batch);
	tcase_add_test(tc, a_statement_is_prepared_once_per_connection);
	tcase_add_test(tc, a_rolled_back_first_use_prepares_again);
	tcase_add_test(tc, the_same_reads_of_a_batch_go_once);
	suite_add_tcase(s, tc);
	tcase_set_timeout(dns, 30);
	tcase_add_checked_fixture(dns, setup, teardown);
	tcase_add_test(dns, a_host_name_is_resolved_and_connected_to);
	tcase_add_test(dns, a_silent_resolver_never_stalls_the_loop);
	suite_add_tcase(s, dns);
	return check_run(s);
}
