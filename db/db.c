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
 * Merging: a statement queued with db_exec_merge() names what it touches
 * (its key) and may give its form over arrays.  In a batch, statements of
 * one form go as one execution of that form, each parameter the array of
 * theirs (one INSERT of N rows instead of N INSERTs: PostgreSQL's work per
 * execution, the executor's start, its plan copied, the table's
 * constraints read, is then paid once for the batch).  The merged
 * statement takes the place of the first of them; the others are moved up
 * to it, which the keys make safe: a statement is moved only past
 * statements of other keys (two reads of one key also commute), never
 * past a statement queued with db_exec() (it touches anything), and a
 * second statement of a key already in the batch starts new groups after
 * it.  If the merged statement fails, the batch rolls back and each goes
 * on its own as always, so only the one at fault fails.  Reads of one
 * batch that are the same (text and parameters, e.g. the last comments of
 * one space, for each of its joiners) go once, and each gets the result.
 *
 * Prepared statements: a statement with parameters is parsed and planned
 * once per connection (a Parse sent ahead of its first use, in the same
 * pipeline), then only bound and executed, which is most of PostgreSQL's
 * work saved for the short statements of a join; the texts are a fixed
 * set, kept in a small table (DB_PREPARED of them at most, later ones go
 * unprepared).  A statement that goes on its own after a rollback goes
 * unprepared, as before.
 *
 * When the connection drops, the jobs in flight and the queued ones fail
 * with -ENOTCONN (the caller answers 503; a statement in flight may or may
 * not have committed, and the statements are written so that either outcome
 * is consistent), and a timer reconnects every second.
 *
 * The queue is bounded (db_set_limits): past hard_jobs a new job is refused
 * with -EBUSY, and from soft_jobs on, or while its oldest job is older than
 * max_age_ms, db_overloaded() says so, for the SIP side to refuse new
 * dialogs early while the members already in are served.
 *
 * Nothing waits on DNS on the loop: libpq resolves a host name inside
 * PQconnectStart(), synchronously, so a host name of the conninfo is
 * resolved first by glibc's getaddrinfo_a() on its own thread, and libpq
 * gets the addresses as hostaddr=.  An address or a socket folder needs no
 * resolution. */
#define LOG_MODULE      "db"
#define SU_TIMER_ARG_T  void
#define SU_WAKEUP_ARG_T void

#include "db/db.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "server/log.h"
#include "server/stats.h"

struct db_result {
	PGresult *res;
};

#define DB_BATCH        64  /* statements in one group commit, at most */
#define DB_GROUPS       8   /* statement forms merged at once in a batch */
#define DB_PREPARED     256 /* statement texts prepared per connection */
#define DB_PREP_BUCKETS 64

/* The queue's limits unless db_set_limits() says otherwise.  A job holds
 * its statement and parameters, under a kilobyte, so the hard limit keeps
 * the queue under about 50 MB, high enough that the work of members
 * already in (a takeover's thousands of re-INVITEs and their tags) is not
 * refused; new dialogs are refused long before, at the soft limit or age,
 * when a join would wait about half a second for its commit. */
#define DB_SOFT_JOBS  1000
#define DB_HARD_JOBS  50000
#define DB_MAX_AGE_MS 500
#define DB_MAX_ADDRS  8 /* addresses tried per host name */

/* A statement text prepared, or being prepared, on the connection. */
struct prep {
	struct prep *next; /* in its bucket */
	char *sql;
	unsigned name; /* "tv<name>" on the server */
	unsigned conn; /* the connection it was prepared on (db->conn_no) */
};

struct job {
	struct job *next;
	struct prep *prep; /* a Parse of this statement (no callback), or the
			    * prepared statement this job executes */
	bool parse;        /* this job is the Parse of prep */
	char *sql;
	int nparams;
	char **params;
	db_done_f *cb;
	void *arg;
	su_time64_t queued; /* for the metrics */
	uint64_t seq;       /* its place in the queue */
	PGresult *res;      /* its last result, once in flight */
	bool failed;        /* an SQL error (or skipped after one) */
	bool alone;         /* its batch rolled back: it goes on its own */
	/* db_exec_merge() */
	char *key;        /* what it touches; NULL: anything */
	const char *many; /* its form over arrays (static text), or NULL */
	bool read;        /* it only reads */
	bool follower;    /* merged into the statement of a job before it */
	unsigned merged;  /* a leader: followers after it in the list */
	bool shared;      /* a leader: its followers are reads the same as
			   * it, which take its result */
	struct job *same; /* such a follower: its leader */
	char **arrays;    /* a leader's parameters over its group */
};

enum db_state { DB_DOWN, DB_RESOLVING, DB_CONNECTING, DB_UP };

/* One asynchronous lookup of the conninfo's host names, shared by the loop
 * and glibc's notification thread: each holds a reference, and whoever
 * drops the last frees it (the loop may give up on it while the resolver
 * still waits, at a reconnection or at db_destroy()). */
struct lookup {
	atomic_int refs;
	int efd;          /* eventfd: written by the thread when all are done */
	unsigned n;       /* names */
	struct gaicb *cb; /* [n] */
	struct gaicb **list;
	struct addrinfo hints;
};

/* The conninfo taken apart, for connecting with resolved addresses. */
struct conn_opts {
	const char **keys, **vals; /* PQconnectStartParams's arrays */
	char **hosts;              /* the host list, split at commas */
	char **ports;              /* the port list, or one for all */
	unsigned n_hosts, n_ports;
	bool *is_name; /* [n_hosts]: needs resolving */
	PQconninfoOption *parsed;
};

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
	char *listen; /* "LISTEN channel", sent first on each connection */
	db_notify_f *notify_cb;
	void *notify_arg;
	/* the queue: its length, its limits */
	unsigned n_jobs;
	unsigned soft_jobs, hard_jobs;
	unsigned max_age_ms;
	/* host names to resolve before connecting, when there are any */
	struct conn_opts *opts;
	struct lookup *lookup; /* the one under way */
	int lookup_reg;
	/* prepared statements, by text */
	struct prep *prep[DB_PREP_BUCKETS];
	unsigned n_prep, prep_names, conn_no;
	uint64_t seq; /* jobs queued so far */
	/* what a batch costs, for db_expected_wait(): a line fitted to the
	 * batches' jobs (x) and time in flight (y, seconds), through sums
	 * decayed batch by batch */
	su_time64_t sent_at; /* the batch in flight went then */
	unsigned sent_jobs;  /* its jobs (not its Parses) */
	double fit_w, fit_x, fit_y, fit_xx, fit_xy;
};

static void db_connect(struct db *db);
static void db_send(struct db *db);
static void lookup_end(struct db *db);
static void listened(void *arg, int error, const struct db_result *res);

/* Undo a merge: the leader's arrays go, every job is its own again. */
static void unmerge(struct job *j)
{
	if (j->arrays) {
		for (int i = 0; i < j->nparams; i++)
			free(j->arrays[i]);
		free(j->arrays);
	}
	j->arrays = NULL;
	j->merged = 0;
	j->follower = false;
	j->shared = false;
	j->same = NULL;
}

/* Undo the merge that @a leader leads: it and its followers go on their
 * own. */
static void unmerge_group(struct job *leader)
{
	struct job *f = leader->next;

	for (unsigned k = leader->merged; k > 0 && f; k--, f = f->next)
		f->follower = false;
	unmerge(leader);
}

/* @a j, or the first job after it with a statement of its own (the
 * followers of a merge have none). */
static struct job *next_sent(struct job *j)
{
	while (j && j->follower)
		j = j->next;
	return j;
}

static void job_free(struct db *db, struct job *j)
{
	if (!j)
		return;
	if (j->res)
		PQclear(j->res);
	unmerge(j);
	free(j); /* its text, parameters and key are in the same block */
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
		if (j->parse) {
			job_free(db, j);
			continue;
		}
		db->n_jobs--;
		tv_stats.db_errors++;
		if (j->cb)
			j->cb(j->arg, error, NULL);
		job_free(db, j);
	}
	while ((j = db->head)) {
		db->head = j->next;
		if (!db->head)
			db->tail = &db->head;
		db->n_jobs--;
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
	lookup_end(db);
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
	struct db_result r = {j->same ? j->same->res : j->res};
	int error = j->failed ? -EIO : 0;

	if (j->parse)
		return;
	if (j->failed) {
		log_debug("statement failed: %s",
			  j->res ? PQresultErrorMessage(j->res)
				 : PQerrorMessage(db->conn));
		tv_stats.db_errors++;
	}
	db->n_jobs--;
	stats_observe(&tv_stats.db_query,
		      (double)(su_monotime(NULL) - j->queued) / 1e9);
	if (j->cb)
		j->cb(j->arg, error, error ? NULL : &r);
}

/* @a list sorted by the jobs' queue order (a batch: DB_BATCH jobs and
 * their Parses at most, mostly in order already). */
static struct job *in_queue_order(struct job *list)
{
	struct job *sorted = NULL, **pp, *j;

	while ((j = list)) {
		list = j->next;
		for (pp = &sorted; *pp && (*pp)->seq <= j->seq;)
			pp = &(*pp)->next;
		j->next = *pp;
		*pp = j;
	}
	return sorted;
}

/* The batch in flight is through: its jobs and its time are one more
 * point of the line db_batch_cost() fits.  Decayed by a tenth a batch, so
 * the line follows the server's load within a few dozen batches (a few
 * hundred ms when busy). */
static void cost_measured(struct db *db)
{
	su_time64_t now = su_monotime(NULL);
	double x = db->sent_jobs, y = (double)(now - db->sent_at) / 1e9;

	if (!db->sent_jobs || now <= db->sent_at)
		return;
	db->fit_w = 0.9 * db->fit_w + 1;
	db->fit_x = 0.9 * db->fit_x + x;
	db->fit_y = 0.9 * db->fit_y + y;
	db->fit_xx = 0.9 * db->fit_xx + x * x;
	db->fit_xy = 0.9 * db->fit_xy + x * y;
	db->sent_jobs = 0;
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
	cost_measured(db);
	if (rolled_back) {
		/* Nothing of the batch was kept: each goes again on its own,
		 * in the same order, ahead of what queued since. */
		log_debug("a batch rolled back: its statements go one by one");
		done = in_queue_order(done);
		for (struct job **pp = &done; (j = *pp);) {
			if (j->parse) {
				/* Perhaps not prepared: prepared again,
				 * under a new name, when next used. */
				j->prep->conn = 0;
				*pp = j->next;
				job_free(db, j);
				continue;
			}
			if (j->res)
				PQclear(j->res);
			j->res = NULL;
			j->failed = false;
			j->alone = true;
			j->prep = NULL;
			unmerge(j);
			last = j;
			pp = &j->next;
		}
		if (!done)
			return;
		last->next = db->head;
		if (!db->head)
			db->tail = &last->next;
		db->head = done;
		return;
	}
	/* Completions in the order the jobs were queued, whatever order
	 * merging sent them in. */
	done = in_queue_order(done);
	for (j = done; j; j = j->next)
		finish_job(db, j);
	/* freed after: a shared result is its leader's */
	while ((j = done)) {
		done = j->next;
		job_free(db, j);
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
			db->recv = db->recv ? next_sent(db->recv->next) : NULL;
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

/* -- host names, resolved off the loop ------------------------------------ */

/* @a s split at commas, each piece malloc'd (libpq's host and port lists);
 * NULL on OOM. */
static char **split_list(const char *s, unsigned *ret_n)
{
	unsigned n = 1, i = 0;
	char **v;

	for (const char *c = s; *c; c++)
		n += *c == ',';
	v = calloc(n, sizeof(*v));
	if (!v)
		return NULL;
	for (const char *c = s;; i++) {
		size_t len = strcspn(c, ",");

		v[i] = strndup(c, len);
		if (!v[i]) {
			while (i--)
				free(v[i]);
			free(v);
			return NULL;
		}
		if (!c[len])
			break;
		c += len + 1;
	}
	*ret_n = n;
	return v;
}

static void list_free(char **v, unsigned n)
{
	for (unsigned i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static bool is_address(const char *h)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, h, buf) == 1 ||
	       inet_pton(AF_INET6, h, buf) == 1;
}

/* A host that libpq would look up: not empty (the default socket), not a
 * socket folder ("/..." or an abstract "@..."), not an address. */
static bool is_name(const char *h)
{
	return h[0] && h[0] != '/' && h[0] != '@' && !is_address(h);
}

static void opts_free(struct conn_opts *o)
{
	if (!o)
		return;
	list_free(o->hosts, o->n_hosts);
	list_free(o->ports, o->n_ports);
	free(o->is_name);
	free(o->keys);
	free(o->vals);
	if (o->parsed)
		PQconninfoFree(o->parsed);
	free(o);
}

/* The conninfo taken apart when a host of it is a name; NULL when none is
 * (or it does not parse: libpq then says why when it connects).  The
 * environment's PGHOST, PGHOSTADDR and PGPORT stand in for what the
 * conninfo leaves out, as in libpq.  A host named only in a pg_service.conf
 * service is libpq's to resolve. */
static struct conn_opts *opts_parse(const char *conninfo)
{
	struct conn_opts *o;
	const char *host = NULL, *hostaddr = NULL, *port = NULL;
	unsigned n = 0, names = 0;
	char *err = NULL;
	PQconninfoOption *parsed = PQconninfoParse(conninfo, &err);

	if (!parsed) {
		PQfreemem(err);
		return NULL;
	}
	for (PQconninfoOption *opt = parsed; opt->keyword; opt++) {
		if (!opt->val)
			continue;
		if (strcmp(opt->keyword, "host") == 0)
			host = opt->val;
		else if (strcmp(opt->keyword, "hostaddr") == 0)
			hostaddr = opt->val;
		else if (strcmp(opt->keyword, "port") == 0)
			port = opt->val;
		else
			n++;
	}
	if (!host || !*host)
		host = getenv("PGHOST");
	if (!hostaddr || !*hostaddr)
		hostaddr = getenv("PGHOSTADDR");
	if (!port || !*port)
		port = getenv("PGPORT");
	o = calloc(1, sizeof(*o));
	if (!o || (hostaddr && *hostaddr) || !host || !*host)
		goto none;
	o->parsed = parsed;
	o->hosts = split_list(host, &o->n_hosts);
	o->ports = port && *port ? split_list(port, &o->n_ports) : NULL;
	o->is_name = calloc(o->n_hosts ? o->n_hosts : 1, sizeof(bool));
	/* the options as given, and host, hostaddr, port, NULL */
	o->keys = calloc(n + 4, sizeof(char *));
	o->vals = calloc(n + 4, sizeof(char *));
	if (!o->hosts || (port && *port && !o->ports) || !o->is_name ||
	    !o->keys || !o->vals)
		goto none;
	for (unsigned i = 0; i < o->n_hosts; i++)
		names += o->is_name[i] = is_name(o->hosts[i]);
	if (!names)
		goto none;
	n = 0;
	for (PQconninfoOption *opt = parsed; opt->keyword; opt++)
		if (opt->val && strcmp(opt->keyword, "host") != 0 &&
		    strcmp(opt->keyword, "hostaddr") != 0 &&
		    strcmp(opt->keyword, "port") != 0) {
			o->keys[n] = opt->keyword;
			o->vals[n++] = opt->val;
		}
	o->keys[n] = "host";
	o->keys[n + 1] = "hostaddr";
	o->keys[n + 2] = "port";
	return o;
none:
	if (o && o->parsed)
		opts_free(o);
	else {
		free(o);
		PQconninfoFree(parsed);
	}
	return NULL;
}

static void lookup_unref(struct lookup *lk)
{
	if (atomic_fetch_sub(&lk->refs, 1) != 1)
		return;
	for (unsigned i = 0; i < lk->n; i++) {
		if (lk->cb[i].ar_result)
			freeaddrinfo(lk->cb[i].ar_result);
		free((char *)lk->cb[i].ar_name);
	}
	if (lk->efd >= 0)
		close(lk->efd);
	free(lk->cb);
	free(lk->list);
	free(lk);
}

/* On glibc's thread, once every name of the lookup is answered or has
 * failed: wake the loop, drop the thread's reference. */
static void lookup_notified(union sigval v)
{
	struct lookup *lk = v.sival_ptr;
	uint64_t one = 1;

	if (write(lk->efd, &one, sizeof(one)) < 0) {
		/* an eventfd cannot be full after one write */
	}
	lookup_unref(lk);
}

/* The loop is done with the lookup (used, or given up on). */
static void lookup_end(struct db *db)
{
	if (db->lookup_reg > 0)
		su_root_deregister(db->root, db->lookup_reg);
	db->lookup_reg = 0;
	if (db->lookup)
		lookup_unref(db->lookup);
	db->lookup = NULL;
}

/* Append @a piece to the comma list @a list (malloc'd, may be NULL). */
static int list_add(char **list, const char *piece)
{
	size_t old = *list ? strlen(*list) : 0;
	char *s = realloc(*list, old + strlen(piece) + 2);

	if (!s)
		return -ENOMEM;
	if (old)
		s[old++] = ',';
	strcpy(s + old, piece);
	*list = s;
	return 0;
}

/* One more entry of libpq's parallel host, hostaddr (and port) lists. */
static int add_host(char **hosts, char **addrs, char **ports, const char *host,
		    const char *addr, const char *port)
{
	if (list_add(hosts, host) < 0 || list_add(addrs, addr) < 0 ||
	    (port && list_add(ports, port) < 0))
		return -ENOMEM;
	return 0;
}

static void connect_start(struct db *db, PGconn *conn);

/* Every name of the lookup is answered: connect to host NAME with hostaddr
 * each address it has (up to DB_MAX_ADDRS), the others as they are. */
static void lookup_done(struct db *db)
{
	struct conn_opts *o = db->opts;
	struct lookup *lk = db->lookup;
	char *hosts = NULL, *addrs = NULL, *ports = NULL;
	bool per_host = o->n_ports > 1 && o->n_ports == o->n_hosts;
	unsigned k = 0, n = 0, any = 0;
	int err = 0;
	size_t last = 0;
	PGconn *conn;

	while (o->keys[last])
		last++; /* the three at the end: host, hostaddr, port */
	last -= 3;
	for (unsigned i = 0; i < o->n_hosts && !err; i++) {
		const char *port = per_host ? o->ports[i] : NULL;
		char text[INET6_ADDRSTRLEN];
		int rc;

		if (!o->is_name[i]) {
			err = add_host(
			    &hosts, &addrs, &ports, o->hosts[i],
			    is_address(o->hosts[i]) ? o->hosts[i] : "", port);
			any++;
			continue;
		}
		rc = gai_error(&lk->cb[k]);
		if (rc) {
			log_debug("cannot resolve %s: %s", o->hosts[i],
				  gai_strerror(rc));
			k++;
			continue;
		}
		n = 0;
		for (struct addrinfo *ai = lk->cb[k].ar_result;
		     ai && n < DB_MAX_ADDRS && !err; ai = ai->ai_next) {
			const void *a =
			    ai->ai_family == AF_INET
				? (const void *)&(
				      (struct sockaddr_in *)ai->ai_addr)
				      ->sin_addr
				: (const void *)&(
				      (struct sockaddr_in6 *)ai->ai_addr)
				      ->sin6_addr;

			if ((ai->ai_family != AF_INET &&
			     ai->ai_family != AF_INET6) ||
			    !inet_ntop(ai->ai_family, a, text, sizeof(text)))
				continue;
			err = add_host(&hosts, &addrs, &ports, o->hosts[i],
				       text, port);
			n++;
		}
		log_debug("%s resolved: %u address%s", o->hosts[i], n,
			  n == 1 ? "" : "es");
		any += n;
		k++;
	}
	lookup_end(db);
	if (err || !any) {
		free(hosts);
		free(addrs);
		free(ports);
		lost(db);
		return;
	}
	o->vals[last] = hosts;
	o->vals[last + 1] = addrs;
	o->vals[last + 2] = per_host ? ports : o->n_ports ? o->ports[0] : NULL;
	if (!o->vals[last + 2])
		o->keys[last + 2] = NULL; /* libpq's default port */
	conn = PQconnectStartParams(o->keys, o->vals, 0);
	o->keys[last + 2] = "port";
	o->vals[last] = o->vals[last + 1] = o->vals[last + 2] = NULL;
	free(hosts);
	free(addrs);
	free(ports);
	connect_start(db, conn);
}

static int on_lookup(su_root_magic_t *magic, su_wait_t *w, void *arg)
{
	struct db *db = arg;
	uint64_t v;

	if (!db->lookup || read(db->lookup->efd, &v, sizeof(v)) < 0)
		return 0;
	for (unsigned i = 0; i < db->lookup->n; i++)
		if (gai_error(&db->lookup->cb[i]) == EAI_INPROGRESS)
			return 0;
	lookup_done(db);
	return 0;
}

/* Ask glibc for the addresses of every host name of the conninfo; the
 * answer comes back to the loop through an eventfd. */
static int lookup_start(struct db *db)
{
	struct conn_opts *o = db->opts;
	struct lookup *lk = calloc(1, sizeof(*lk));
	struct sigevent sev = {.sigev_notify = SIGEV_THREAD};
	su_wait_t w;
	unsigned k = 0;
	int rc;

	if (!lk)
		return -ENOMEM;
	atomic_init(&lk->refs, 1);
	lk->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	for (unsigned i = 0; i < o->n_hosts; i++)
		lk->n += o->is_name[i];
	lk->cb = calloc(lk->n, sizeof(*lk->cb));
	lk->list = calloc(lk->n, sizeof(struct gaicb *));
	lk->hints.ai_family = AF_UNSPEC;
	lk->hints.ai_socktype = SOCK_STREAM;
	if (lk->efd < 0 || !lk->cb || !lk->list) {
		lookup_unref(lk);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < o->n_hosts; i++) {
		if (!o->is_name[i])
			continue;
		lk->cb[k].ar_name = strdup(o->hosts[i]);
		lk->cb[k].ar_request = &lk->hints;
		lk->list[k] = &lk->cb[k];
		if (!lk->cb[k++].ar_name) {
			lookup_unref(lk);
			return -ENOMEM;
		}
	}
	if (su_wait_create(&w, lk->efd, SU_WAIT_IN) < 0 ||
	    (db->lookup_reg =
		 su_root_register(db->root, &w, on_lookup, db, 0)) <= 0) {
		db->lookup_reg = 0;
		lookup_unref(lk);
		return -EIO;
	}
	db->lookup = lk;
	sev.sigev_notify_function = lookup_notified;
	sev.sigev_value.sival_ptr = lk;
	atomic_fetch_add(&lk->refs, 1); /* glibc's thread's */
	rc = getaddrinfo_a(GAI_NOWAIT, lk->list, (int)lk->n, &sev);
	if (rc) {
		/* Nothing queued, or not all: when some were, their
		 * notification drops the thread's reference; when none
		 * were, the lookup stays allocated (rare: out of memory). */
		log_debug("cannot resolve the database host: %s",
			  gai_strerror(rc));
		lookup_end(db);
		return -EAGAIN;
	}
	db->state = DB_RESOLVING;
	return 0;
}

/* -- connecting ------------------------------------------------------------ */

/* Continue a non-blocking connect (PQconnectPoll's protocol). */
static void connect_poll(struct db *db, PostgresPollingStatusType st)
{
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
	db->conn_no++; /* nothing is prepared on this connection yet */
	/* Notifications sent while we were away are lost: the listener's
	 * state callback below is where it catches up. */
	if (db->listen)
		db_exec(db, db->listen, 0, NULL, listened, db);
	if (db->state_cb)
		db->state_cb(db->arg, true);
	db_send(db);
}

static void connect_start(struct db *db, PGconn *conn)
{
	db->conn = conn;
	if (!conn || PQstatus(conn) == CONNECTION_BAD) {
		log_debug("cannot connect: %s",
			  conn ? PQerrorMessage(conn) : "out of memory");
		lost(db);
		return;
	}
	PQsetNoticeProcessor(conn, on_notice, db);
	db->state = DB_CONNECTING;
	connect_poll(db, PGRES_POLLING_WRITING);
}

/* Start a connection (after resolving the host names, when there are
 * some), or continue the one under way. */
static void db_connect(struct db *db)
{
	if (db->state == DB_CONNECTING) {
		connect_poll(db, PQconnectPoll(db->conn));
		return;
	}
	if (db->state != DB_DOWN)
		return;
	if (!db->opts) {
		/* no name to resolve: libpq does nothing blocking */
		connect_start(db, PQconnectStart(db->conninfo));
		return;
	}
	if (lookup_start(db) < 0)
		lost(db);
}

static unsigned str_hash(const char *s)
{
	unsigned h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

/* The prepared statement of @a sql, or one to prepare (its conn not the
 * current connection's); NULL past DB_PREPARED texts or out of memory. */
static struct prep *prep_of(struct db *db, const char *sql)
{
	struct prep **b = &db->prep[str_hash(sql) % DB_PREP_BUCKETS], *p;

	for (p = *b; p; p = p->next)
		if (strcmp(p->sql, sql) == 0)
			return p;
	if (db->n_prep >= DB_PREPARED || !(p = su_zalloc(db->home, sizeof(*p))))
		return NULL;
	if (!(p->sql = su_strdup(db->home, sql))) {
		su_free(db->home, p);
		return NULL;
	}
	p->next = *b;
	*b = p;
	db->n_prep++;
	return p;
}

/* Put the Parse of @a j's statement before it when this connection has
 * not prepared it yet; false when the statement goes unprepared. */
static bool add_parse(struct db *db, struct job **pp)
{
	struct job *j = *pp, *parse;
	struct prep *p = prep_of(db, j->arrays ? j->many : j->sql);

	if (!p)
		return false;
	j->prep = p;
	if (p->conn == db->conn_no)
		return true;
	parse = calloc(1, sizeof(*parse));
	if (!parse) {
		j->prep = NULL;
		return false;
	}
	p->conn = db->conn_no;
	p->name = ++db->prep_names;
	parse->parse = true;
	parse->prep = p;
	parse->nparams = j->nparams;
	parse->queued = j->queued;
	parse->seq = j->seq;
	parse->next = j;
	*pp = parse;
	return true;
}

static int send_job(struct db *db, struct job *j)
{
	char name[16];

	if (j->follower) /* its parameters are in its leader's arrays */
		return 1;
	if (!j->prep) {
		if (j->nparams)
			return PQsendQueryParams(
			    db->conn, j->sql, j->nparams, NULL,
			    (const char *const *)j->params, NULL, NULL, 0);
		return PQsendQuery(db->conn, j->sql);
	}
	/* A Parse (add_parse()) is always of a prepared statement. */
	snprintf(name, sizeof(name), "tv%u", j->prep->name);
	if (j->parse)
		return PQsendPrepare(db->conn, name, j->prep->sql, j->nparams,
				     NULL);
	return PQsendQueryPrepared(
	    db->conn, name, j->nparams,
	    (const char *const *)(j->arrays ? j->arrays : j->params), NULL,
	    NULL, 0);
}

/* Whether @a a and @a b are the same read: text and parameters. */
static bool same_read(const struct job *a, const struct job *b)
{
	if (a->nparams != b->nparams || strcmp(a->sql, b->sql) != 0)
		return false;
	for (int i = 0; i < a->nparams; i++)
		if (a->params[i] != b->params[i] &&
		    (!a->params[i] || !b->params[i] ||
		     strcmp(a->params[i], b->params[i]) != 0))
			return false;
	return true;
}

/* Whether @a j may not move past @a o (db_exec_merge()). */
static bool conflicts(const struct job *j, const struct job *o)
{
	return strcmp(j->key, o->key) == 0 && !(j->read && o->read);
}

/* A PostgreSQL array literal of parameter @a i of @a leader and its
 * followers: each element quoted, '"' and '\\' escaped, NULL unquoted;
 * malloc'd, NULL on OOM. */
static char *array_of(const struct job *leader, int i)
{
	const struct job *j = leader;
	size_t len = 3;
	char *out, *p;

	for (unsigned k = 0; k <= leader->merged && j; k++, j = j->next) {
		const char *v = j->params[i];

		len += v ? 3 : 5;
		for (; v && *v; v++)
			len += 1 + (*v == '"' || *v == '\\');
	}
	out = p = malloc(len);
	if (!out)
		return NULL;
	*p++ = '{';
	j = leader;
	for (unsigned k = 0; k <= leader->merged && j; k++, j = j->next) {
		const char *v = j->params[i];

		if (k)
			*p++ = ',';
		if (!v) {
			memcpy(p, "NULL", 4);
			p += 4;
			continue;
		}
		*p++ = '"';
		for (; *v; v++) {
			if (*v == '"' || *v == '\\')
				*p++ = '\\';
			*p++ = *v;
		}
		*p++ = '"';
	}
	*p++ = '}';
	*p = '\0';
	return out;
}

/* Merge the batch in flight (db_exec_merge()): the jobs of one form become
 * followers of the first, moved up behind it.  A job moves only past jobs
 * of other keys: a job queued without a key, or one whose key is in the
 * segment already, closes the groups open, and later jobs start new
 * ones. */
static void merge_batch(struct db *db)
{
	struct job *v[DB_BATCH], *j, **pp;
	int lead[DB_BATCH]; /* the first job of its group, or -1 */
	unsigned open[DB_GROUPS], seen[DB_BATCH], reads[DB_BATCH];
	unsigned n = 0, n_open = 0, n_seen = 0, n_reads = 0;

	for (j = db->busy; j && n < DB_BATCH; j = j->next)
		v[n++] = j;
	if (j) /* a batch holds DB_BATCH jobs at most */
		return;
	for (unsigned i = 0; i < n; i++) {
		bool clash = !v[i]->key;

		lead[i] = -1;
		for (unsigned k = 0; k < n_seen && !clash; k++)
			clash = conflicts(v[i], v[seen[k]]);
		if (clash)
			n_open = n_seen = n_reads = 0;
		if (v[i]->key)
			seen[n_seen++] = i;
		if (v[i]->read && !v[i]->many) {
			/* the same read as one before: its result */
			for (unsigned k = 0; k < n_reads && lead[i] < 0; k++)
				if (same_read(v[reads[k]], v[i]))
					lead[i] = (int)reads[k];
			if (lead[i] < 0) {
				reads[n_reads++] = i;
				continue;
			}
			v[i]->follower = true;
			v[i]->same = v[lead[i]];
			v[lead[i]]->shared = true;
			v[lead[i]]->merged++;
			continue;
		}
		if (!v[i]->many)
			continue;
		for (unsigned k = 0; k < n_open && lead[i] < 0; k++)
			if (v[open[k]]->nparams == v[i]->nparams &&
			    strcmp(v[open[k]]->many, v[i]->many) == 0)
				lead[i] = (int)open[k];
		if (lead[i] >= 0) {
			v[i]->follower = true;
			v[lead[i]]->merged++;
		}
		else if (n_open < DB_GROUPS) {
			open[n_open++] = i;
		}
	}
	pp = &db->busy;
	for (unsigned i = 0; i < n; i++) {
		if (lead[i] >= 0)
			continue;
		*pp = v[i];
		pp = &v[i]->next;
		for (unsigned f = i + 1; v[i]->merged && f < n; f++)
			if (lead[f] == (int)i) {
				*pp = v[f];
				pp = &v[f]->next;
			}
	}
	*pp = NULL;
	/* A leader's parameters become arrays over its group; without
	 * memory, the group goes statement by statement (in its new order,
	 * which the keys allow). */
	for (j = db->busy; j; j = j->next) {
		if (!j->merged || j->shared)
			continue;
		j->arrays = calloc((size_t)j->nparams, sizeof(char *));
		for (int i = 0; j->arrays && i < j->nparams; i++)
			if (!(j->arrays[i] = array_of(j, i))) {
				unmerge_group(j);
				break;
			}
		if (!j->arrays)
			unmerge_group(j);
	}
}

static void db_send(struct db *db)
{
	struct job *j, **pp;
	unsigned n = 0;
	bool prepared;
	int ok = 1, f;

	if (db->state != DB_UP || db->busy || !db->head)
		return;
	/* What queued up goes together, prepared; a script, or a statement
	 * whose batch rolled back, goes on its own, unprepared. */
	for (j = db->head; j && n < DB_BATCH && j->nparams && !j->alone;
	     j = j->next)
		n++;
	prepared = n > 0;
	if (!n)
		n = 1;
	for (pp = &db->busy; n > 0 && db->head; n--, pp = &(*pp)->next) {
		*pp = db->head;
		db->head = db->head->next;
		(*pp)->next = NULL;
	}
	if (!db->head)
		db->tail = &db->head;
	if (prepared && db->busy->next)
		merge_batch(db);
	/* A statement's first use on this connection is preceded by its
	 * Parse, in the same pipeline. */
	for (pp = &db->busy; prepared && (j = *pp); pp = &j->next)
		if (!j->follower)
			add_parse(db, pp);
	if (!db->busy) /* not reached: the head was taken into it */
		return;
	db->batch = (db->busy->next != NULL) && PQenterPipelineMode(db->conn);
	if (db->busy->next && !db->batch) {
		/* No pipeline: the first statement goes alone and
		 * unprepared, the others back to the head of the queue. */
		struct job *rest = NULL, **rt = &rest, *first = NULL;

		db->busy = in_queue_order(db->busy);
		while ((j = db->busy)) {
			db->busy = j->next;
			j->next = NULL;
			if (j->parse) {
				j->prep->conn = 0;
				job_free(db, j);
				continue;
			}
			j->prep = NULL;
			unmerge(j);
			if (!first) {
				first = j;
				continue;
			}
			*rt = j;
			rt = &j->next;
		}
		db->busy = first;
		if (rest) {
			*rt = db->head;
			if (!db->head)
				db->tail = rt;
			db->head = rest;
		}
	}
	db->recv = db->busy;
	db->sent_at = su_monotime(NULL);
	db->sent_jobs = 0;
	for (j = db->busy; j; j = j->next)
		db->sent_jobs += !j->parse;
	for (j = db->busy; j && ok; j = j->next)
		ok = send_job(db, j);
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
	/* a lookup under way is glibc's thread's to free */
	lookup_end(db);
	opts_free(db->opts);
	db->opts = NULL;
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
	db->opts = opts_parse(conninfo);
	db_set_limits(db, DB_SOFT_JOBS, DB_HARD_JOBS, DB_MAX_AGE_MS);
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

void db_set_limits(struct db *db, unsigned soft_jobs, unsigned hard_jobs,
		   unsigned max_age_ms)
{
	db->hard_jobs = hard_jobs ? hard_jobs : DB_HARD_JOBS;
	db->soft_jobs = soft_jobs < db->hard_jobs ? soft_jobs : db->hard_jobs;
	db->max_age_ms = max_age_ms;
}

unsigned db_queue_len(const struct db *db)
{
	return db->n_jobs;
}

/* The oldest job is the first in flight (they were taken from the head of
 * the queue, and a batch that rolled back goes back there), else the head. */
static const struct job *oldest(const struct db *db)
{
	return db->busy ? db->busy : db->head;
}

double db_oldest_age(const struct db *db)
{
	const struct job *j = oldest(db);
	su_time64_t now = su_monotime(NULL);

	return j && now > j->queued ? (double)(now - j->queued) / 1e9 : 0;
}

/* The batch's own part (a round trip and a commit, whatever it holds) and
 * each job's, seconds: least squares over the batches seen.  Until their
 * sizes differ enough to tell the two apart (an idle server sends its jobs
 * one by one), all of a batch's time is its own part: pricing every job of
 * a queue at a lone job's cost, commit and all, made a burst from idle look
 * like an overload and be refused 503 at half the rate it was served at. */
static void batch_line(const struct db *db, double *fixed, double *per_job)
{
	double w = db->fit_w, sx = db->fit_x, sy = db->fit_y;
	double den = w * db->fit_xx - sx * sx;

	*fixed = *per_job = 0;
	if (w <= 0)
		return;
	if (den > 1e-6 * w * db->fit_xx)
		*per_job = (w * db->fit_xy - sx * sy) / den;
	if (*per_job < 0)
		*per_job = 0;
	*fixed = (sy - *per_job * sx) / w;
	if (*fixed < 0) { /* through the origin */
		*fixed = 0;
		*per_job = sx > 0 ? sy / sx : 0;
	}
}

double db_batch_cost(const struct db *db, unsigned jobs)
{
	double fixed, per_job;

	batch_line(db, &fixed, &per_job); /* 0 and 0 before the first batch */
	return fixed + per_job * jobs;
}

double db_expected_wait(const struct db *db)
{
	unsigned flying = db->busy ? db->sent_jobs : 0;
	unsigned ahead = db->n_jobs > flying ? db->n_jobs - flying : 0;
	/* it goes with the jobs ahead of it but for the full batches before */
	double wait = (double)(ahead / DB_BATCH) * db_batch_cost(db, DB_BATCH);

	if (db->busy) {
		double gone = (double)(su_monotime(NULL) - db->sent_at) / 1e9,
		       left = db_batch_cost(db, flying) - gone;

		wait += left > 0 ? left : 0;
	}
	return wait;
}

bool db_overloaded(const struct db *db)
{
	const struct job *j = oldest(db);

	if (db->soft_jobs && db->n_jobs >= db->soft_jobs)
		return true;
	return j && db->max_age_ms &&
	       su_monotime(NULL) - j->queued >=
		   (su_time64_t)db->max_age_ms * 1000000;
}

int db_exec(struct db *db, const char *sql, int nparams,
	    const char *const *params, db_done_f *cb, void *arg)
{
	return db_exec_merge(db, NULL, sql, nparams, params, cb, arg);
}

/* Copy @a s to @a at, point @a dst to it: the byte after it. */
static char *copy(char **dst, char *at, const char *s)
{
	size_t n = strlen(s) + 1;

	memcpy(at, s, n);
	*dst = at;
	return at + n;
}

int db_exec_merge(struct db *db, const struct db_merge *how, const char *sql,
		  int nparams, const char *const *params, db_done_f *cb,
		  void *arg)
{
	struct job *j;
	const char *key;
	size_t len;
	char *end;

	if (db->state != DB_UP)
		return -ENOTCONN;
	if (db->n_jobs >= db->hard_jobs) {
		tv_stats.db_rejected++;
		return -EBUSY;
	}
	/* One block a job, in this order: the job, its parameters' pointers,
	 * their text, its statement's text, its key (under load jobs are
	 * queued and freed thousands of times a second: one allocation
	 * each, not one a string). */
	len = sizeof(*j) + sizeof(char *) * (size_t)(nparams > 0 ? nparams : 0);
	for (int i = 0; i < nparams; i++)
		len += params[i] ? strlen(params[i]) + 1 : 0;
	len += strlen(sql) + 1;
	key = how && how->key && nparams ? how->key : NULL;
	len += key ? strlen(key) + 1 : 0;
	j = calloc(1, len);
	if (!j)
		return -ENOMEM;
	end = (char *)(j + 1);
	if (nparams > 0) {
		j->params = (char **)end;
		end += sizeof(char *) * (size_t)nparams;
	}
	for (int i = 0; i < nparams; i++)
		if (params[i])
			end = copy(&j->params[i], end, params[i]);
	end = copy(&j->sql, end, sql);
	if (key) {
		copy(&j->key, end, key);
		j->many = how->many;
		j->read = how->read;
	}
	j->nparams = nparams;
	j->cb = cb;
	j->arg = arg;
	j->queued = su_monotime(NULL);
	j->seq = ++db->seq;
	*db->tail = j;
	db->tail = &j->next;
	db->n_jobs++;
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
