/* Asynchronous PostgreSQL on the su_root loop: one libpq connection in
 * non-blocking mode, its socket registered with the root, a FIFO of queued
 * statements sent in order (a statement is its own transaction, or a
 * BEGIN..COMMIT sequence sent as one job; statements that queued up while
 * another was in flight go together and commit as one transaction, each
 * callback after that commit).  Reconnects by itself; a host name of the
 * conninfo is resolved off the loop.  The queue is bounded and measured.
 * The only module besides store.c that includes libpq-fe.h. */
#ifndef TVSPACE_DB_H
#define TVSPACE_DB_H

#include <stdbool.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/su_wait.h>

struct db;

/** The rows of one result, valid only during the callback. */
struct db_result;

/** Completion of a job.  @a error is 0, or -EIO when the statement failed
 * (SQL error: the transaction was rolled back), or -ENOTCONN when the
 * database could not be reached; @a res is NULL unless error is 0. */
typedef void db_done_f(void *arg, int error, const struct db_result *res);

/** Called when the connection comes up (@a up true) or is lost. */
typedef void db_state_f(void *arg, bool up);

/** A notification (NOTIFY @a channel, @a payload) heard on the connection. */
typedef void db_notify_f(void *arg, const char *channel, const char *payload);

/** Connect to @a conninfo on @a root; connection state changes are reported
 * to @a state_cb.  NULL on OOM. */
struct db *db_create(su_home_t *parent, su_root_t *root, const char *conninfo,
		     db_state_f *state_cb, void *arg);
/** Close the connection; queued jobs complete with -ECANCELED. */
struct db *db_destroy(struct db *db);
/** True while connected and usable. */
bool db_is_up(const struct db *db);
/** Jobs queued or in flight (a clean shutdown waits for them). */
unsigned db_pending(const struct db *db);

/** Bound the queue: past @a hard_jobs jobs (queued or in flight)
 * db_exec() fails with -EBUSY; db_overloaded() is true from @a soft_jobs
 * on, or while the oldest job is @a max_age_ms old or more.  0 for
 * @a soft_jobs or @a max_age_ms: no such limit; 0 for @a hard_jobs: the
 * default.  Defaults: 1000, 50000, 500 ms. */
void db_set_limits(struct db *db, unsigned soft_jobs, unsigned hard_jobs,
		   unsigned max_age_ms);
/** True while the queue holds soft_jobs or more, or its oldest job (queued
 * or in flight) is older than max_age_ms (monotonic clock): refuse new
 * work that can wait (new dialogs get 503), keep serving what is in. */
bool db_overloaded(const struct db *db);
/** Jobs queued or in flight. */
unsigned db_queue_len(const struct db *db);
/** Age of the oldest job queued or in flight, seconds; 0 when none. */
double db_oldest_age(const struct db *db);
/** What a batch of @a jobs would cost now, seconds: a part of its own (a
 * round trip and a commit) and a part for each job, fitted to the batches
 * lately in flight; 0 before the first batch. */
double db_batch_cost(const struct db *db, unsigned jobs);
/** How long a job queued now would wait before its batch is sent,
 * seconds: what is left of the batch in flight, and the full batches
 * (DB_BATCH jobs) of the jobs ahead of it that go before it, at
 * db_batch_cost() each; the jobs after those go with it.  Unlike
 * db_oldest_age(), it grows as soon as the queue does, not once the
 * queue's head has waited. */
double db_expected_wait(const struct db *db);

/** Queue @a sql with @a nparams text parameters (NULL for SQL NULL).
 * Parameters are copied.  @a cb runs from the loop when the job completes.
 * A job whose text holds several statements (BEGIN; ...; COMMIT) must not
 * have parameters.  -ENOTCONN when the database is down (the caller answers
 * 503), -EBUSY when the queue is full (db_set_limits(); 503 too), -ENOMEM. */
int db_exec(struct db *db, const char *sql, int nparams,
	    const char *const *params, db_done_f *cb, void *arg);

/** How a statement may go with others of a group commit (db.c, "Merging").
 * @a key names what the statement touches (e.g. one member of one space):
 * statements of different keys, and two reads of the same key, may run in
 * either order.  @a many, when not NULL, is the same statement over
 * arrays (a text kept by the caller, e.g. a literal): its parameter i is
 * an array of parameter i of each statement merged into it, in order
 * (`INSERT ... SELECT ... FROM unnest($1::bigint[], $2::text[])`), with
 * the same effect as each statement run on its own; statements of one
 * batch sharing @a many go as one execution of it.  @a read: the
 * statement only reads; reads of one batch with the same text and
 * parameters go once, and each gets that result. */
struct db_merge {
	const char *key;
	const char *many;
	bool read;
};

/** db_exec() of a statement that may be moved and merged as @a how says
 * (NULL, or a NULL key: as db_exec(), a statement that may touch anything;
 * nothing is moved past it).  A statement that went merged completes with
 * its error only: @a cb gets a result of no rows. */
int db_exec_merge(struct db *db, const struct db_merge *how, const char *sql,
		  int nparams, const char *const *params, db_done_f *cb,
		  void *arg);

/** LISTEN on @a channel (an SQL identifier of letters, digits and '_'),
 * now and after every reconnection; notifications go to @a cb.  One
 * listener per connection. */
int db_listen(struct db *db, const char *channel, db_notify_f *cb, void *arg);

/** Number of rows of @a res. */
int db_rows(const struct db_result *res);
/** Text of row @a r, column @a c; NULL for SQL NULL. */
const char *db_value(const struct db_result *res, int r, int c);

#endif
