/* Asynchronous PostgreSQL on the su_root loop.
 *
 * One connection, non-blocking from the connect on (PQconnectStart and
 * PQconnectPoll), its socket registered with the root.  Jobs wait in a FIFO
 * and go in order: a job is one statement, hence one transaction, or a
 * parameterless BEGIN...COMMIT script.
 *
 * Group commit: the statements that queued up while one was in flight go
 * together, up to DB_BATCH of them, in libpq's pipeline mode with one Sync
 * at the end, which makes them one transaction with one commit (one WAL
 * flush) instead of one each; under load, joins no longer wait for each
 * other's fsync.  Their callbacks run after that commit, in order, so an
 * answer still goes out only once its change is durable.  When one of them
 * fails, the transaction rolls back whole: they go again one by one, and
 * only the one at fault fails.  A lone statement and a script go as before.
 * now() is the transaction's start, so statements of one batch share it.
 *
 * When the connection drops, the jobs in flight and the queued ones fail
 * with -ENOTCONN (the caller answers 503; a statement in flight may or may
 * not have committed, and the statements are written so that either outcome
 * is consistent), and a timer reconnects every second. */
#define LOG_MODULE      "db"
#define SU_TIMER_ARG_T  void
#define SU_WAKEUP_ARG_T void

#include "db/db.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "server/log.h"
#include "server/stats.h"

struct db_result {
	PGresult *res;
};

#define DB_BATCH 64 /* statements in one group commit, at most */

struct job {
	struct job *next;
	char *sql;
	int nparams;
	char **params;
	db_done_f *cb;
	void *arg;
	su_time64_t queued; /* for the metrics */
	PGresult *res;      /* its last result, once in flight */
	bool failed;        /* an SQL error (or skipped after one) */
	bool alone;         /* its batch rolled back: it goes on its own */
};

enum db_state { DB_DOWN, DB_CONNECTING, DB_UP };

struct db {
	su_home_t home[1]; /* first member: owns the jobs */
	su_root_t *root;
	char *conninfo;
	PGconn *conn;
	int reg; /* su_root registration, 0 if none */
	int sock;
	enum db_state state;
	struct job *head, **tail;
	struct job *busy; /* in flight: one job, or a batch in order */
	struct job *recv; /* of a batch: the job whose results come next */
	bool batch;       /* busy is a pipeline, one transaction */
	su_timer_t *retry;
	db_state_f *state_cb;
	void *arg;
	unsigned n_jobs; /* queued and in flight */
	unsigned soft_jobs, hard_jobs;
	su_duration_t max_age; /* ms */
	char *listen; /* "LISTEN channel", sent first on each connection */
	db_notify_f *notify_cb;
	void *notify_arg;
};

static void db_connect(struct db *db);
static void db_send(struct db *db);
static void listened(void *arg, int error, const struct db_result *res);

static void job_free(struct db *db, struct job *j)
{
	if (!j)
		return;
	db->n_jobs--;
	if (j->res)
		PQclear(j->res);
	for (int i = 0; i < j->nparams; i++)
		su_free(db->home, j->params[i]);
	su_free(db->home, j->params);
	su_free(db->home, j->sql);
	su_free(db->home, j);
}

static void unregister(struct db *db)
{
	if (db->reg > 0)
		su_root_deregister(db->root, db->reg);
	db->reg = 0;
	db->sock = -1;
}

/* Complete every job with @a error. */
static void fail_all(struct db *db, int error)
{
	struct job *j;

	db->recv = NULL;
	db->batch = false;
	while ((j = db->busy)) {
		db->busy = j->next;
		tv_stats.db_errors++;
		if (j->cb)
			j->cb(j->arg, error, NULL);
		job_free(db, j);
	}
	while ((j = db->head)) {
		db->head = j->next;
		if (!db->head)
			db->tail = &db->head;
		tv_stats.db_errors++;
		if (j->cb)
			j->cb(j->arg, error, NULL);
		job_free(db, j);
	}
}

static void reconnect(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	struct db *db = arg;

	if (db->state == DB_DOWN)
		db_connect(db);
}

static void lost(struct db *db)
{
	bool was_up = db->state == DB_UP;

	if (db->conn && was_up)
		log_warn("connection lost: %s", PQerrorMessage(db->conn));
	unregister(db);
	if (db->conn)
		PQfinish(db->conn);
	db->conn = NULL;
	db->state = DB_DOWN;
	fail_all(db, -ENOTCONN);
	if (was_up && db->state_cb)
		db->state_cb(db->arg, false);
	su_timer_set_interval(db->retry, reconnect, db, 1000);
}

static void set_mask(struct db *db, int events)
{
	if (db->reg > 0)
		su_root_eventmask(db->root, db->reg, db->sock, events);
}

/* One job is done: its callback gets the last result. */
static void finish_job(struct db *db, struct job *j)
{
	struct db_result r = {j->res};
	int error = j->failed ? -EIO : 0;

	if (j->failed) {
		log_debug("statement failed: %s",
			  j->res ? PQresultErrorMessage(j->res)
				 : PQerrorMessage(db->conn));
		tv_stats.db_errors++;
	}
	stats_observe(&tv_stats.db_query,
		      (double)(su_monotime(NULL) - j->queued) / 1e9);
	if (j->cb)
		j->cb(j->arg, error, error ? NULL : &r);
	job_free(db, j);
}

/* The jobs in flight are done (a batch: committed, or rolled back). */
static void finish_busy(struct db *db)
{
	struct job *done = db->busy, *j, *last = NULL;
	bool rolled_back = false;

	if (db->batch && !PQexitPipelineMode(db->conn))
		log_warn("cannot leave pipeline mode: %s",
			 PQerrorMessage(db->conn));
	if (db->batch) {
		for (j = done; j; j = j->next) {
			rolled_back |= j->failed;
			last = j;
		}
	}
	db->busy = db->recv = NULL;
	db->batch = false;
	if (rolled_back) {
		/* Nothing of the batch was kept: each goes again on its own,
		 * in the same order, ahead of what queued since. */
		log_debug("a batch rolled back: its statements go one by one");
		for (j = done; j; j = j->next) {
			if (j->res)
				PQclear(j->res);
			j->res = NULL;
			j->failed = false;
			j->alone = true;
		}
		last->next = db->head;
		if (!db->head)
			db->tail = &last->next;
		db->head = done;
		return;
	}
	while ((j = done)) {
		done = j->next;
		finish_job(db, j);
	}
}

static void on_readable(struct db *db)
{
	PGresult *res;

	if (!PQconsumeInput(db->conn)) {
		lost(db);
		return;
	}
	while (db->busy && !PQisBusy(db->conn)) {
		res = PQgetResult(db->conn);
		if (!res && !db->batch) {
			finish_busy(db);
			break;
		}
		if (!res) { /* a statement of the batch is through */
			db->recv = db->recv ? db->recv->next : NULL;
			continue;
		}
		switch (PQresultStatus(res)) {
		case PGRES_PIPELINE_SYNC: /* the batch's commit (or rollback) */
			PQclear(res);
			finish_busy(db);
			continue;
		case PGRES_FATAL_ERROR:
		case PGRES_BAD_RESPONSE:
		case PGRES_PIPELINE_ABORTED:
			if (db->recv)
				db->recv->failed = true;
			else if (db->busy) /* the commit itself failed */
				db->busy->failed = true;
			break;
		default:
			break;
		}
		if (!db->recv) {
			PQclear(res);
			continue;
		}
		if (db->recv->res)
			PQclear(db->recv->res);
		db->recv->res = res;
	}
	for (PGnotify *n; (n = PQnotifies(db->conn)); PQfreemem(n))
		if (db->notify_cb)
			db->notify_cb(db->notify_arg, n->relname, n->extra);
	if (PQstatus(db->conn) == CONNECTION_BAD) {
		lost(db);
		return;
	}
	if (!db->busy)
		db_send(db);
}

static int on_socket(su_root_magic_t *magic, su_wait_t *w, void *arg)
{
	struct db *db = arg;
	int events = su_wait_events(w, db->sock);

	if (db->state == DB_CONNECTING) {
		db_connect(db);
		return 0;
	}
	if (events & SU_WAIT_OUT) {
		int f = PQflush(db->conn);

		if (f < 0) {
			lost(db);
			return 0;
		}
		set_mask(db, f ? SU_WAIT_IN | SU_WAIT_OUT : SU_WAIT_IN);
	}
	if (events & (SU_WAIT_IN | SU_WAIT_HUP | SU_WAIT_ERR))
		on_readable(db);
	return 0;
}

static int register_socket(struct db *db, int events)
{
	su_wait_t w;
	int sock = PQsocket(db->conn);

	if (sock < 0)
		return -EIO;
	if (db->reg > 0 && sock == db->sock) {
		set_mask(db, events);
		return 0;
	}
	unregister(db);
	if (su_wait_create(&w, sock, events) < 0)
		return -EIO;
	db->reg = su_root_register(db->root, &w, on_socket, db, 0);
	if (db->reg < 0) {
		su_wait_destroy(&w);
		db->reg = 0;
		return -EIO;
	}
	db->sock = sock;
	return 0;
}

/* Server notices ("relation already exists, skipping") are chatter. */
static void on_notice(void *arg, const char *message)
{
	log_debug("server: %s", message);
}

/* Start or continue a non-blocking connect (PQconnectPoll's protocol). */
static void db_connect(struct db *db)
{
	PostgresPollingStatusType st;

	if (db->state == DB_DOWN) {
		db->conn = PQconnectStart(db->conninfo);
		if (!db->conn || PQstatus(db->conn) == CONNECTION_BAD) {
			log_debug("cannot connect: %s",
				  db->conn ? PQerrorMessage(db->conn)
					   : "out of memory");
			lost(db);
			return;
		}
		PQsetNoticeProcessor(db->conn, on_notice, db);
		db->state = DB_CONNECTING;
		st = PGRES_POLLING_WRITING;
	}
	else {
		st = PQconnectPoll(db->conn);
	}
	switch (st) {
	case PGRES_POLLING_READING:
		if (register_socket(db, SU_WAIT_IN) < 0)
			lost(db);
		return;
	case PGRES_POLLING_WRITING:
		if (register_socket(db, SU_WAIT_OUT) < 0)
			lost(db);
		return;
	case PGRES_POLLING_OK:
		break;
	default:
		log_debug("cannot connect: %s", PQerrorMessage(db->conn));
		lost(db);
		return;
	}
	if (PQsetnonblocking(db->conn, 1) < 0 ||
	    register_socket(db, SU_WAIT_IN) < 0) {
		lost(db);
		return;
	}
	su_timer_reset(db->retry);
	db->state = DB_UP;
	/* Notifications sent while we were away are lost: the listener's
	 * state callback below is where it catches up. */
	if (db->listen)
		db_exec(db, db->listen, 0, NULL, listened, db);
	if (db->state_cb)
		db->state_cb(db->arg, true);
	db_send(db);
}

static void db_send(struct db *db)
{
	struct job *j, **pp;
	unsigned n = 0;
	int ok = 1, f;

	if (db->state != DB_UP || db->busy || !db->head)
		return;
	/* What queued up goes together; a script, or a statement whose batch
	 * rolled back, goes on its own. */
	for (j = db->head; j && n < DB_BATCH && j->nparams && !j->alone;
	     j = j->next)
		n++;
	db->batch = n > 1 && PQenterPipelineMode(db->conn);
	if (!db->batch)
		n = 1;
	for (pp = &db->busy; n > 0; n--, pp = &(*pp)->next) {
		*pp = db->head;
		db->head = db->head->next;
		(*pp)->next = NULL;
	}
	if (!db->head)
		db->tail = &db->head;
	db->recv = db->busy;
	for (j = db->busy; j && ok; j = j->next)
		ok = j->nparams
			 ? PQsendQueryParams(db->conn, j->sql, j->nparams, NULL,
					     (const char *const *)j->params,
					     NULL, NULL, 0)
			 : PQsendQuery(db->conn, j->sql);
	if (ok && db->batch)
		ok = PQpipelineSync(db->conn);
	if (!ok) {
		lost(db);
		return;
	}
	f = PQflush(db->conn);
	if (f < 0) {
		lost(db);
		return;
	}
	set_mask(db, f ? SU_WAIT_IN | SU_WAIT_OUT : SU_WAIT_IN);
}

static void db_destructor(void *arg)
{
	struct db *db = arg;

	fail_all(db, -ECANCELED);
	unregister(db);
	if (db->conn)
		PQfinish(db->conn);
	db->conn = NULL;
	if (db->retry)
		su_timer_destroy(db->retry);
	db->retry = NULL;
}

struct db *db_create(su_home_t *parent, su_root_t *root, const char *conninfo,
		     db_state_f *state_cb, void *arg)
{
	struct db *db = su_home_clone(parent, sizeof(*db));

	if (!db)
		return NULL;
	db->root = root;
	db->sock = -1;
	db->tail = &db->head;
	db->state_cb = state_cb;
	db->arg = arg;
	db->conninfo = su_strdup(db->home, conninfo);
	db->retry = su_timer_create(su_root_task(root), 1000);
	if (!db->conninfo || !db->retry ||
	    su_home_destructor(db->home, db_destructor) < 0) {
		if (db->retry)
			su_timer_destroy(db->retry);
		su_home_unref(db->home);
		return NULL;
	}
	db_connect(db);
	return db;
}

struct db *db_destroy(struct db *db)
{
	if (db)
		su_home_unref(db->home);
	return NULL;
}

bool db_is_up(const struct db *db)
{
	return db->state == DB_UP;
}

unsigned db_pending(const struct db *db)
{
	return db->n_jobs;
}

unsigned db_queue_len(const struct db *db)
{
	return db->n_jobs;
}

void db_set_limits(struct db *db, unsigned soft_jobs, unsigned hard_jobs,
		   unsigned max_age_ms)
{
	db->soft_jobs = soft_jobs;
	db->hard_jobs = hard_jobs;
	db->max_age = (su_duration_t)max_age_ms;
}

bool db_overloaded(const struct db *db)
{
	const struct job *oldest = db->busy ? db->busy : db->head;

	if (db->soft_jobs && db->n_jobs >= db->soft_jobs)
		return true;
	return db->max_age && oldest &&
	       (int64_t)((su_monotime(NULL) - oldest->queued) / 1000000) >
		   (int64_t)db->max_age;
}

int db_exec(struct db *db, const char *sql, int nparams,
	    const char *const *params, db_done_f *cb, void *arg)
{
	struct job *j;

	if (db->state != DB_UP)
		return -ENOTCONN;
	if (db->hard_jobs && db->n_jobs >= db->hard_jobs)
		return -EBUSY;
	j = su_zalloc(db->home, sizeof(*j));
	if (!j)
		return -ENOMEM;
	db->n_jobs++;
	j->sql = su_strdup(db->home, sql);
	j->params = nparams
			? su_zalloc(db->home,
				    (isize_t)(sizeof(char *) * (size_t)nparams))
			: NULL;
	j->nparams = nparams;
	j->cb = cb;
	j->arg = arg;
	j->queued = su_monotime(NULL);
	if (!j->sql || (nparams && !j->params)) {
		j->nparams = 0;
		job_free(db, j);
		return -ENOMEM;
	}
	for (int i = 0; i < nparams; i++)
		if (params[i] &&
		    !(j->params[i] = su_strdup(db->home, params[i]))) {
			job_free(db, j);
			return -ENOMEM;
		}
	*db->tail = j;
	db->tail = &j->next;
	db_send(db);
	return 0;
}

static void listened(void *arg, int error, const struct db_result *res)
{
	struct db *db = arg;

	if (error)
		log_err("%s failed; changes made by other nodes go unheard",
			db->listen);
}

int db_listen(struct db *db, const char *channel, db_notify_f *cb, void *arg)
{
	size_t len = strlen(channel);

	if (!len || len > 63 ||
	    strspn(channel, "abcdefghijklmnopqrstuvwxyz"
			    "0123456789_") != len)
		return -EINVAL;
	db->listen = su_sprintf(db->home, "LISTEN %s", channel);
	if (!db->listen)
		return -ENOMEM;
	db->notify_cb = cb;
	db->notify_arg = arg;
	return db->state == DB_UP
		   ? db_exec(db, db->listen, 0, NULL, listened, db)
		   : 0;
}

int db_rows(const struct db_result *res)
{
	return res && res->res ? PQntuples(res->res) : 0;
}

const char *db_value(const struct db_result *res, int r, int c)
{
	if (!res || !res->res || r >= PQntuples(res->res) ||
	    c >= PQnfields(res->res) || PQgetisnull(res->res, r, c))
		return NULL;
	return PQgetvalue(res->res, r, c);
}
