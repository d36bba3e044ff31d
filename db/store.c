/* The store: every SQL statement of tvspace.  Each state change is one
 * parameterised statement (data-modifying common table expressions, or a
 * function from the schema), so it commits or fails whole. */
#define LOG_MODULE "store"
#include "db/store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/schema.h"
#include "server/log.h"

/* What a completion needs; freed by the completion. */
struct req {
	struct db *db;
	store_done_f *done;
	store_started_f *started;
	store_space_f *each;
	store_comment_f *comment;
	store_usage_f *usage;
	store_value_f *value;
	store_friend_f *friend;
	store_claim_f *claim;
	store_secrets_f *secrets;
	store_service_f *service;
	store_level_f *level;
	store_status_f *status;
	store_name_f *name;
	void *arg;
	unsigned next; /* store_migrate: next migration to look at */
	int *applied;  /* versions found applied */
	unsigned n_applied;
};

static struct req *req_new(struct db *db, void *arg)
{
	struct req *r = calloc(1, sizeof(*r));

	if (r) {
		r->db = db;
		r->arg = arg;
	}
	return r;
}

static void req_free(struct req *r)
{
	if (r) {
		free(r->applied);
		free(r);
	}
}

/* The node this process is (NULL alone): a node books played time and ends
 * only the spaces it serves, so one that was away while its spaces were
 * claimed cannot write over the node that serves them now. */
static const char *store_node;

void store_set_node(const char *node)
{
	store_node = node && *node ? node : NULL;
}

/* Decimal text of numbers, for text parameters. */
struct num {
	char s[24];
};

static const char *u64(struct num *n, uint64_t v)
{
	snprintf(n->s, sizeof(n->s), "%" PRIu64, v);
	return n->s;
}

static const char *i64(struct num *n, int64_t v)
{
	snprintf(n->s, sizeof(n->s), "%" PRId64, v);
	return n->s;
}

static uint64_t to_u64(const char *s)
{
	return s ? strtoull(s, NULL, 10) : 0;
}

static unsigned to_uint(const char *s)
{
	return s ? (unsigned)strtoul(s, NULL, 10) : 0;
}

static void done_only(void *arg, int error, const struct db_result *res)
{
	struct req *r = arg;

	if (r->done)
		r->done(r->arg, error);
	req_free(r);
}

/* Queue @a sql for a completion that only needs the error; @a how as
 * db_exec_merge() says, or NULL. */
static int exec_merge(struct db *db, const struct db_merge *how,
		      const char *sql, int n, const char *const *params,
		      store_done_f *done, void *arg)
{
	struct req *r = req_new(db, arg);
	int err;

	if (!r)
		return -ENOMEM;
	r->done = done;
	err = db_exec_merge(db, how, sql, n, params, done_only, r);
	if (err < 0)
		req_free(r);
	return err;
}

static int exec_done(struct db *db, const char *sql, int n,
		     const char *const *params, store_done_f *done, void *arg)
{
	return exec_merge(db, NULL, sql, n, params, done, arg);
}

/* The key of a user's memberships (db_exec_merge()): the statements keyed
 * so touch that user's rows only. */
struct member_key {
	char s[96];
};

static const char *member_key(struct member_key *k, const char *user)
{
	/* a longer user name shares its key with others: merely fewer
	 * statements merged */
	snprintf(k->s, sizeof(k->s), "m/%s", user ? user : "");
	return k->s;
}

/* A member's tag and leave are keyed but not merged: an UPDATE over
 * arrays must find N rows of members, and for N of about 10 the planner
 * prices a scan of the whole table (taken as 10 pages while it has never
 * been vacuumed, and cached so while it grows to thousands of rows)
 * below N index lookups; measured at 1,600 joins a second, such a plan
 * cost more than the statements it replaced.  One row by (space_id,
 * user_id) is always an index lookup. */

/* -- migrations ---------------------------------------------------------- */

static void migrate_next(struct req *r);

static void migration_applied(void *arg, int error, const struct db_result *res)
{
	struct req *r = arg;

	if (error) {
		log_err("migration %s failed",
			schema_migrations[r->next - 1].name);
		done_only(r, error, NULL);
		return;
	}
	log_notice("schema migration %s applied",
		   schema_migrations[r->next - 1].name);
	migrate_next(r);
}

static void migrate_next(struct req *r)
{
	while (r->next < schema_n_migrations) {
		const struct schema_migration *m = &schema_migrations[r->next];
		bool done = false;
		char *script;
		size_t len;
		int err;

		r->next++;
		for (unsigned i = 0; i < r->n_applied; i++)
			if (r->applied[i] == m->version)
				done = true;
		if (done)
			continue;
		/* One migration, one transaction; the advisory lock keeps
		 * two nodes starting together from applying it twice. */
		len = strlen(m->sql) + 256;
		script = malloc(len);
		if (!script) {
			done_only(r, -ENOMEM, NULL);
			return;
		}
		snprintf(script, len,
			 "BEGIN;\nSELECT pg_advisory_xact_lock(7262001);\n"
			 "%s\n;INSERT INTO schema_migrations (version) "
			 "VALUES (%d);\nCOMMIT;",
			 m->sql, m->version);
		err = db_exec(r->db, script, 0, NULL, migration_applied, r);
		free(script);
		if (err < 0)
			done_only(r, err, NULL);
		return;
	}
	done_only(r, 0, NULL);
}

static void versions_read(void *arg, int error, const struct db_result *res)
{
	struct req *r = arg;
	int n = db_rows(res);

	if (error) {
		done_only(r, error, NULL);
		return;
	}
	r->applied = calloc((size_t)n + 1, sizeof(int));
	if (!r->applied) {
		done_only(r, -ENOMEM, NULL);
		return;
	}
	for (int i = 0; i < n; i++)
		r->applied[r->n_applied++] = (int)to_uint(db_value(res, i, 0));
	migrate_next(r);
}

static void versions_table(void *arg, int error, const struct db_result *res)
{
	struct req *r = arg;
	int err;

	if (error) {
		done_only(r, error, NULL);
		return;
	}
	err = db_exec(r->db, "SELECT version FROM schema_migrations", 0, NULL,
		      versions_read, r);
	if (err < 0)
		done_only(r, err, NULL);
}

int store_migrate(struct db *db, store_done_f *done, void *arg)
{
	struct req *r = req_new(db, arg);
	int err;

	if (!r)
		return -ENOMEM;
	r->done = done;
	err = db_exec(db,
		      "CREATE TABLE IF NOT EXISTS schema_migrations ("
		      "version integer PRIMARY KEY, "
		      "applied timestamptz NOT NULL DEFAULT now())",
		      0, NULL, versions_table, r);
	if (err < 0)
		req_free(r);
	return err;
}

/* -- lookups on demand ----------------------------------------------------- */

/* "YYYY-MM-DD", checked here so a caller's mistake is -EINVAL, not an SQL
 * error. */
static bool day_ok(const char *day)
{
	if (!day || strlen(day) != 10 || day[4] != '-' || day[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (day[i] < '0' || day[i] > '9'))
			return false;
	return true;
}

/* The columns of struct store_service, in order. */
#define SERVICE_COLUMNS                                                        \
	"s.service_default_id, s.user_id, s.level, s.default_channel, "        \
	"s.is_default, array_to_string(s.package, ' '), "                      \
	"coalesce(u.seconds, 0) "                                              \
	"FROM services s LEFT JOIN usage u ON u.service_default_id = "         \
	"s.service_default_id AND u.day = $2::date "

static void service_row(const struct db_result *res, int i,
			struct store_service *svc)
{
	const char *is_default = db_value(res, i, 4);

	*svc = (struct store_service){
	    .id = db_value(res, i, 0),
	    .user = db_value(res, i, 1),
	    .level = to_uint(db_value(res, i, 2)),
	    .default_channel = db_value(res, i, 3),
	    .is_default = is_default && is_default[0] == 't',
	    .package = db_value(res, i, 5),
	    .played_today = to_uint(db_value(res, i, 6)),
	};
}

static void service_read(void *arg, int error, const struct db_result *res)
{
	struct req *r = arg;
	struct store_service svc;
	int rows = error ? 0 : db_rows(res);

	/* A user's: the default one when marked (it sorts first), else the
	 * only one; several without a default name none. */
	if (rows >= 1)
		service_row(res, 0, &svc);
	r->service(r->arg, error,
		   rows == 1 || (rows > 1 && svc.is_default) ? &svc : NULL);
	req_free(r);
}

static int service_query(struct db *db, const char *sql, const char *key,
			 const char *day, store_service_f *done, void *arg)
{
	struct req *r;
	const char *p[] = {key, day};
	int err;

	if (!key || !day_ok(day) || !done)
		return -EINVAL;
	r = req_new(db, arg);
	if (!r)
		return -ENOMEM;
	r->service = done;
	/* reads services and usage only, which no keyed statement writes */
	err = db_exec_merge(db, &(struct db_merge){.key = "s", .read = true},
			    sql, 2, p, service_read, r);
	if (err < 0)
		req_free(r);
	return err;
}

int store_service_get(struct db *db, const char *id, const char *day,
		      store_service_f *done, void *arg)
{
	return service_query(
	    db, "SELECT " SERVICE_COLUMNS "WHERE s.service_default_id = $1", id,
	    day, done, arg);
}

int store_service_of_user(struct db *db, const char *user, const char *day,
			  store_service_f *done, void *arg)
{
	/* Two rows at most: enough to tell "the only one" from "several". */
	return service_query(db,
			     "SELECT " SERVICE_COLUMNS "WHERE s.user_id = $1 "
			     "ORDER BY s.is_default DESC, "
			     "s.service_default_id LIMIT 2",
			     user, day, done, arg);
}

static void levels_read(void *arg, int error, const struct db_result *res)
{
	struct req *r = arg;
	int rows = db_rows(res);

	for (int i = 0; !error && i < rows; i++) {
		struct store_level l = {
		    .level = to_uint(db_value(res, i, 0)),
		    .name = db_value(res, i, 1),
		    .capacity = to_uint(db_value(res, i, 2)),
		    .daily_limit = to_uint(db_value(res, i, 3)),
		    .features = to_uint(db_value(res, i, 4)),
		};

		r->level(r->arg, &l);
	}
	done_only(r, error, NULL);
}

int store_load_levels(struct db *db, store_level_f *each, store_done_f *done,
		      void *arg)
{
	struct req *r;
	int err;

	if (!each)
		return -EINVAL;
	r = req_new(db, arg);
	if (!r)
		return -ENOMEM;
	r->level = each;
	r->done = done;
	err = db_exec(db,
		      "SELECT level, name, capacity, daily_limit_s, "
		      "(CASE WHEN 'quiz' = ANY (features) THEN 1 ELSE 0 END"
		      " + CASE WHEN 'relay' = ANY (features) THEN 2 "
		      "ELSE 0 END) FROM service_levels ORDER BY level",
		      0, NULL, levels_read, r);
	if (err < 0)
		req_free(r);
	return err;
}

static int64_t to_i64(const char *s)
{
	return s ? strtoll(s, NULL, 10) : 0;
}

static void status_read(void *arg, int error, const struct db_result *res)
{
	struct req *r = arg;
	int rows = db_rows(res);

	for (int i = 0; !error && i < rows; i++) {
		struct store_service_status st = {
		    .id = db_value(res, i, 0),
		    .user = db_value(res, i, 1),
		    .level = to_uint(db_value(res, i, 2)),
		    .level_name = db_value(res, i, 3),
		    .capacity = to_uint(db_value(res, i, 4)),
		    .daily_limit = to_uint(db_value(res, i, 5)),
		    .played = to_uint(db_value(res, i, 6)),
		    .booked = to_uint(db_value(res, i, 7)),
		    .members = to_uint(db_value(res, i, 8)),
		    .live_spaces = to_uint(db_value(res, i, 9)),
		    .space_id = to_u64(db_value(res, i, 10)),
		    .channel = db_value(res, i, 11),
		    .programme = db_value(res, i, 12),
		    .programme_start = to_i64(db_value(res, i, 13)),
		    .programme_stop = to_i64(db_value(res, i, 14)),
		    .node = db_value(res, i, 15),
		};

		r->status(r->arg, &st);
	}
	done_only(r, error, NULL);
}

#define STATUS_COLUMNS                                                         \
	"service_default_id, user_id, service_level, level_name, capacity, "   \
	"daily_limit_s, played_s, booked_s, current_members, live_spaces, "    \
	"space_id, channel, current_programme, "                               \
	"extract(epoch FROM programme_start)::bigint, "                        \
	"extract(epoch FROM programme_stop)::bigint, node_id "                 \
	"FROM service_status "

int store_service_status(struct db *db, const char *id, unsigned limit,
			 store_status_f *each, store_done_f *done, void *arg)
{
	struct req *r;
	struct num n;
	const char *p[] = {id};
	const char *lim[] = {limit ? u64(&n, limit) : NULL};
	int err;

	if (!each)
		return -EINVAL;
	r = req_new(db, arg);
	if (!r)
		return -ENOMEM;
	r->status = each;
	r->done = done;
	/* Two statements rather than one with "$1 IS NULL OR": each keeps
	 * its index (the primary key; the live spaces' hosts).  The list
	 * goes from the live spaces to the services' primary key: an IN
	 * (SELECT ...) is planned as a scan of every service. */
	if (id)
		err = db_exec(db,
			      "SELECT " STATUS_COLUMNS
			      "WHERE service_default_id = $1",
			      1, p, status_read, r);
	else
		err = db_exec(db,
			      "SELECT " STATUS_COLUMNS
			      "WHERE service_default_id = ANY (ARRAY("
			      "SELECT DISTINCT host_service FROM spaces "
			      "WHERE state = 'live' ORDER BY host_service "
			      "LIMIT $1::bigint)) ORDER BY service_default_id",
			      1, lim, status_read, r);
	if (err < 0)
		req_free(r);
	return err;
}

/* -- spaces and members -------------------------------------------------- */

#define MEMBER_COLUMNS                                                         \
	"user_id, service_default_id, role, delivery, sdp_addr, sdp_port, "    \
	"sdp_media, sdp_pt, admitted_seq, call_id, local_tag, remote_tag, "    \
	"local_uri, remote_uri, remote_target, route_set, joined, channel, "   \
	"local_sdp"

/* $FIRST.. $FIRST+18 of a member, in MEMBER_COLUMNS order. */
#define MEMBER_PARAMS 19

static void member_params(const struct store_member *m, const char **p,
			  struct num *n)
{
	p[0] = m->user;
	p[1] = m->service;
	p[2] = m->role;
	p[3] = m->delivery;
	p[4] = m->sdp_addr;
	p[5] = u64(&n[0], m->sdp_port);
	p[6] = m->sdp_media;
	p[7] = u64(&n[1], m->sdp_pt);
	p[8] = u64(&n[2], m->admitted_seq);
	p[9] = m->call_id;
	p[10] = m->local_tag;
	p[11] = m->remote_tag;
	p[12] = m->local_uri;
	p[13] = m->remote_uri;
	p[14] = m->remote_target;
	p[15] = m->route_set;
	p[16] = i64(&n[3], m->joined);
	p[17] = m->channel;
	p[18] = m->local_sdp;
}

static void space_started(void *arg, int error, const struct db_result *res)
{
	struct req *r = arg;
	uint64_t id = error ? 0 : to_u64(db_value(res, 0, 0));

	if (!error && !id)
		error = -EIO;
	if (r->started)
		r->started(r->arg, error, id);
	req_free(r);
}

int store_space_start(struct db *db, const struct store_space *space,
		      const struct store_member *host, store_started_f *done,
		      void *arg)
{
	struct req *r = req_new(db, arg);
	const char *p[5 + MEMBER_PARAMS];
	struct num n[5];
	int err;

	if (!r)
		return -ENOMEM;
	r->started = done;
	p[0] = space->host_service;
	p[1] = space->host_user;
	p[2] = space->channel;
	p[3] = i64(&n[4], space->started);
	member_params(host, p + 4, n);
	p[4 + MEMBER_PARAMS] = space->node;
	err = db_exec(db,
		      "WITH s AS (INSERT INTO spaces (host_service, host_user, "
		      "channel, started, node_id) VALUES ($1, $2, $3, "
		      "to_timestamp($4), $24) RETURNING id) "
		      "INSERT INTO members (space_id, " MEMBER_COLUMNS ") "
		      "SELECT s.id, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
		      "$14, $15, $16, $17, $18, $19, $20, to_timestamp($21), "
		      "NULLIF($22, $3), $23 FROM s RETURNING space_id",
		      5 + MEMBER_PARAMS, p, space_started, r);
	if (err < 0)
		req_free(r);
	return err;
}

int store_member_add(struct db *db, const struct store_member *m,
		     store_done_f *done, void *arg)
{
	const char *p[1 + MEMBER_PARAMS];
	struct num n[5];
	struct member_key k;
	/* A guest's row touches only its own key; a host's also the
	 * space's one host (members_one_host), so it goes unmerged and
	 * nothing moves past it. */
	struct db_merge how = {
	    .key = m->role && strcmp(m->role, "guest") == 0
		       ? member_key(&k, m->user)
		       : NULL,
	    .many = "INSERT INTO members (space_id, " MEMBER_COLUMNS ") "
		    "SELECT u.space_id, u.user_id, u.service, u.role, "
		    "u.delivery, u.sdp_addr, u.sdp_port, u.sdp_media, "
		    "u.sdp_pt, u.admitted_seq, u.call_id, u.local_tag, "
		    "u.remote_tag, u.local_uri, u.remote_uri, "
		    "u.remote_target, u.route_set, to_timestamp(u.joined), "
		    "NULLIF(u.channel, (SELECT channel FROM spaces "
		    "WHERE id = u.space_id)), u.local_sdp "
		    "FROM unnest($1::bigint[], $2::text[], $3::text[], "
		    "$4::text[], $5::text[], $6::text[], $7::integer[], "
		    "$8::text[], $9::integer[], $10::integer[], $11::text[], "
		    "$12::text[], $13::text[], $14::text[], $15::text[], "
		    "$16::text[], $17::text[], $18::float8[], $19::text[], "
		    "$20::text[]) WITH ORDINALITY AS u(space_id, user_id, "
		    "service, role, delivery, sdp_addr, sdp_port, sdp_media, "
		    "sdp_pt, admitted_seq, call_id, local_tag, remote_tag, "
		    "local_uri, remote_uri, remote_target, route_set, joined, "
		    "channel, local_sdp, ord) ORDER BY u.ord",
	};

	p[0] = u64(&n[4], m->space_id);
	member_params(m, p + 1, n);
	return exec_merge(db, &how,
			  "INSERT INTO members (space_id, " MEMBER_COLUMNS ") "
			  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
			  "$11, $12, $13, $14, $15, $16, $17, "
			  "to_timestamp($18), NULLIF($19, (SELECT channel FROM "
			  "spaces WHERE id = $1)), $20)",
			  1 + MEMBER_PARAMS, p, done, arg);
}

int store_member_dialog(struct db *db, uint64_t space_id, const char *user,
			const char *local_tag, store_done_f *done, void *arg)
{
	struct num n;
	const char *p[] = {u64(&n, space_id), user, local_tag};
	struct member_key k;
	struct db_merge how = {
	    .key = member_key(&k, user),
	};

	return exec_merge(
	    db, &how,
	    "UPDATE members SET local_tag = $3 WHERE space_id = $1 "
	    "AND user_id = $2 AND left_at IS NULL",
	    3, p, done, arg);
}

int store_member_leave(struct db *db, uint64_t space_id, const char *user,
		       const char *reason, store_done_f *done, void *arg)
{
	struct num n;
	const char *p[] = {u64(&n, space_id), user, reason};
	struct member_key k;
	struct db_merge how = {
	    .key = member_key(&k, user),
	};

	return exec_merge(
	    db, &how,
	    "UPDATE members SET left_at = now(), leave_reason = $3 "
	    "WHERE space_id = $1 AND user_id = $2 "
	    "AND left_at IS NULL",
	    3, p, done, arg);
}

int store_space_end(struct db *db, uint64_t space_id, const char *reason,
		    const char *service, const char *day, unsigned played,
		    store_done_f *done, void *arg)
{
	struct num n[2];
	const char *p[] = {u64(&n[0], space_id), reason,    service, day,
			   u64(&n[1], played),   store_node};

	/* Played time is booked only by the statement that ends a live
	 * space, so an end stored twice books it once; and only by the node
	 * that serves it. */
	return exec_done(
	    db,
	    "WITH s AS (UPDATE spaces SET state = 'ended', ended = now(), "
	    "end_reason = $2 WHERE id = $1 AND state = 'live' "
	    "AND node_id IS NOT DISTINCT FROM $6 RETURNING id), "
	    "m AS (UPDATE members SET left_at = now(), leave_reason = $2 "
	    "WHERE space_id IN (SELECT id FROM s) AND left_at IS NULL) "
	    "INSERT INTO usage (service_default_id, day, seconds) "
	    "SELECT $3, $4::date, $5::integer FROM s WHERE $5::integer > 0 "
	    "ON CONFLICT (service_default_id, day) DO UPDATE "
	    "SET seconds = usage.seconds + EXCLUDED.seconds",
	    6, p, done, arg);
}

int store_space_update(struct db *db, uint64_t space_id, const char *channel,
		       const char *new_host, const char *old_host,
		       store_done_f *done, void *arg)
{
	struct num n;
	const char *p[] = {u64(&n, space_id), channel, new_host, old_host};

	return exec_done(db, "SELECT tv_space_update($1, $2, $3, $4)", 4, p,
			 done, arg);
}

int store_space_set_open(struct db *db, uint64_t space_id, bool open,
			 store_done_f *done, void *arg)
{
	struct num n;
	const char *p[] = {u64(&n, space_id), open ? "true" : "false"};

	return exec_done(db, "UPDATE spaces SET is_open = $2 WHERE id = $1", 2,
			 p, done, arg);
}

int store_space_programme(struct db *db, uint64_t space_id, const char *title,
			  int64_t start, int64_t stop, store_done_f *done,
			  void *arg)
{
	struct num n[3];
	const char *p[] = {u64(&n[0], space_id), title,
			   title ? i64(&n[1], start) : NULL,
			   title && stop ? i64(&n[2], stop) : NULL};

	/* stop 0: the guide gives none (it runs until the next one) */
	if (title && stop && stop < start)
		return -EINVAL;
	/* The same programme again (a survivor taking a space over, a
	 * restart) writes nothing: no new version of the row, no WAL.  A
	 * takeover of 1,667 spaces a survivor wrote each space's row again
	 * with what it held, beside the re-INVITEs. */
	return exec_done(db,
			 "UPDATE spaces SET programme_title = $2, "
			 "programme_start = to_timestamp($3), "
			 "programme_stop = to_timestamp($4) "
			 "WHERE id = $1 AND state = 'live' "
			 "AND (programme_title, programme_start, "
			 "programme_stop) IS DISTINCT FROM ($2, "
			 "to_timestamp($3), to_timestamp($4))",
			 4, p, done, arg);
}

int store_member_channel(struct db *db, uint64_t space_id, const char *user,
			 const char *channel_or_null, store_done_f *done,
			 void *arg)
{
	struct num n;
	const char *p[] = {u64(&n, space_id), user, channel_or_null};

	if (!user)
		return -EINVAL;
	return exec_done(db,
			 "UPDATE members m SET channel = NULLIF($3, s.channel) "
			 "FROM spaces s WHERE s.id = m.space_id "
			 "AND m.space_id = $1 AND m.user_id = $2 "
			 "AND m.left_at IS NULL",
			 3, p, done, arg);
}

int store_member_sdp(struct db *db, uint64_t space_id, const char *user,
		     const char *local_sdp, store_done_f *done, void *arg)
{
	struct num n;
	const char *p[] = {u64(&n, space_id), user, local_sdp};

	if (!user)
		return -EINVAL;
	return exec_done(
	    db,
	    "UPDATE members SET local_sdp = $3 WHERE space_id = $1 "
	    "AND user_id = $2 AND left_at IS NULL",
	    3, p, done, arg);
}

int store_space_forget(struct db *db, uint64_t space_id, store_done_f *done,
		       void *arg)
{
	struct num n;
	const char *p[] = {u64(&n, space_id), store_node};

	/* members, comments and quizzes go with it (ON DELETE CASCADE) */
	return exec_done(db,
			 "DELETE FROM spaces WHERE id = $1 "
			 "AND node_id IS NOT DISTINCT FROM $2",
			 2, p, done, arg);
}

int store_member_forget(struct db *db, uint64_t space_id, const char *user,
			store_done_f *done, void *arg)
{
	struct num n;
	const char *p[] = {u64(&n, space_id), user};

	if (!user)
		return -EINVAL;
	/* The row the admission wrote is the user's latest in the space:
	 * current, or closed by the space's end that came meanwhile (the
	 * joiner then never was a member either).  Earlier memberships
	 * stay. */
	return exec_done(db,
			 "DELETE FROM members WHERE id = (SELECT max(id) FROM "
			 "members WHERE space_id = $1 AND user_id = $2)",
			 2, p, done, arg);
}

static void live_read(void *arg, int error, const struct db_result *res)
{
	struct req *r = arg;
	int rows = db_rows(res), i = 0;
	struct store_member *members = NULL;

	if (!error && rows)
		members = calloc((size_t)rows, sizeof(*members));
	if (!error && rows && !members)
		error = -ENOMEM;
	while (!error && i < rows) {
		struct store_space s = {
		    .id = to_u64(db_value(res, i, 0)),
		    .host_service = db_value(res, i, 1),
		    .host_user = db_value(res, i, 2),
		    .channel = db_value(res, i, 3),
		    .open = db_value(res, i, 4)[0] == 't',
		    .started = (int64_t)to_u64(db_value(res, i, 5)),
		    .booked_until = (int64_t)to_u64(db_value(res, i, 23)),
		    .host_level = to_uint(db_value(res, i, 24)),
		    .host_default_channel = db_value(res, i, 25),
		    .host_package = db_value(res, i, 26),
		    .played_today = to_uint(db_value(res, i, 27)),
		};
		unsigned n = 0;

		for (; i < rows && to_u64(db_value(res, i, 0)) == s.id; i++) {
			struct store_member *m = &members[n];

			if (!db_value(res, i, 6))
				continue; /* a space without members */
			m->space_id = s.id;
			m->user = db_value(res, i, 6);
			m->service = db_value(res, i, 7);
			m->role = db_value(res, i, 8);
			m->delivery = db_value(res, i, 9);
			m->sdp_addr = db_value(res, i, 10);
			m->sdp_port = to_uint(db_value(res, i, 11));
			m->sdp_media = db_value(res, i, 12);
			m->sdp_pt = to_uint(db_value(res, i, 13));
			m->admitted_seq = to_uint(db_value(res, i, 14));
			m->call_id = db_value(res, i, 15);
			m->local_tag = db_value(res, i, 16);
			m->remote_tag = db_value(res, i, 17);
			m->local_uri = db_value(res, i, 18);
			m->remote_uri = db_value(res, i, 19);
			m->remote_target = db_value(res, i, 20);
			m->route_set = db_value(res, i, 21);
			m->joined = (int64_t)to_u64(db_value(res, i, 22));
			m->package = db_value(res, i, 28);
			m->channel = db_value(res, i, 29);
			m->local_sdp = db_value(res, i, 30);
			n++;
		}
		r->each(r->arg, &s, members, n);
	}
	free(members);
	done_only(r, error, NULL);
}

/* The columns and joins of a load; the WHERE clause is the caller's. */
#define LIVE_SELECT                                                            \
	"SELECT s.id, s.host_service, s.host_user, s.channel, "                \
	"s.is_open, extract(epoch FROM s.started)::bigint, "                   \
	"m.user_id, m.service_default_id, m.role, m.delivery, "                \
	"m.sdp_addr, m.sdp_port, m.sdp_media, m.sdp_pt, "                      \
	"m.admitted_seq, m.call_id, m.local_tag, m.remote_tag, "               \
	"m.local_uri, m.remote_uri, m.remote_target, m.route_set, "            \
	"extract(epoch FROM m.joined)::bigint, "                               \
	"extract(epoch FROM coalesce(s.booked_until, s.started))::bigint, "    \
	"hs.level, hs.default_channel, array_to_string(hs.package, ' '), "     \
	"coalesce(u.seconds, 0), array_to_string(ms.package, ' '), "           \
	"m.channel, m.local_sdp "                                              \
	"FROM spaces s "                                                       \
	"LEFT JOIN services hs ON hs.service_default_id = s.host_service "     \
	"LEFT JOIN usage u ON u.service_default_id = s.host_service "          \
	"AND u.day = $2::date "                                                \
	"LEFT JOIN members m ON m.space_id = s.id AND m.left_at IS NULL "      \
	"LEFT JOIN services ms "                                               \
	"ON ms.service_default_id = m.service_default_id "

static int load_live(struct db *db, const char *sql, int n,
		     const char *const *p, store_space_f *each,
		     store_done_f *done, void *arg)
{
	struct req *r = req_new(db, arg);
	int err;

	if (!r)
		return -ENOMEM;
	r->each = each;
	r->done = done;
	err = db_exec(db, sql, n, p, live_read, r);
	if (err < 0)
		req_free(r);
	return err;
}

int store_load_live(struct db *db, const char *node, const char *day,
		    store_space_f *each, store_done_f *done, void *arg)
{
	const char *p[] = {node, day};

	return load_live(db,
			 LIVE_SELECT "WHERE s.state = 'live' AND "
				     "($1::text IS NULL OR s.node_id = $1) "
				     "ORDER BY s.id, m.admitted_seq",
			 2, p, each, done, arg);
}

int store_load_spaces(struct db *db, const char *node, const uint64_t *ids,
		      unsigned n, const char *day, store_space_f *each,
		      store_done_f *done, void *arg)
{
	struct num num;
	char *list, *end;
	int err;

	if (!node || (n && !ids))
		return -EINVAL;
	/* "{1,2,...}": digits and commas only */
	list = malloc((size_t)n * (sizeof(num.s) + 1) + 3);
	if (!list)
		return -ENOMEM;
	end = list;
	*end++ = '{';
	for (unsigned i = 0; i < n; i++) {
		const char *v = u64(&num, ids[i]);
		size_t len = strlen(v);

		if (i)
			*end++ = ',';
		memcpy(end, v, len);
		end += len;
	}
	*end++ = '}';
	*end = '\0';
	{
		const char *p[] = {node, day, list};

		err =
		    load_live(db,
			      LIVE_SELECT "WHERE s.id = ANY ($3::bigint[]) AND "
					  "s.state = 'live' AND s.node_id = $1 "
					  "ORDER BY s.id, m.admitted_seq",
			      3, p, each, done, arg);
	}
	free(list);
	return err;
}

/* -- played time -------------------------------------------------------- */

/* Append @a v to the PostgreSQL array literal at @a p as one quoted
 * element ('"' and '\\' escaped); the end of what was written. */
static char *array_put(char *p, const char *v, bool first)
{
	if (!first)
		*p++ = ',';
	*p++ = '"';
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			*p++ = '\\';
		*p++ = *v;
	}
	*p++ = '"';
	return p;
}

/* Room for @a v as an element of an array literal. */
static size_t array_room(const char *v)
{
	size_t len = 3;

	for (; *v; v++)
		len += 1 + (*v == '"' || *v == '\\');
	return len;
}

int store_usage_book(struct db *db, const struct store_booking *b, unsigned n,
		     store_done_f *done, void *arg)
{
	size_t room[5] = {2, 2, 2, 2, 2};
	char *arr[5] = {NULL}, *end[5];
	struct num num;
	int err = -ENOMEM;

	for (unsigned i = 0; i < n; i++) {
		if (!b[i].service || !day_ok(b[i].day))
			return -EINVAL;
		room[0] += array_room(u64(&num, b[i].space_id));
		room[1] += array_room(b[i].service);
		room[2] += array_room(b[i].day);
		room[3] += array_room(u64(&num, b[i].seconds));
		room[4] += array_room(i64(&num, b[i].until));
	}
	for (int k = 0; k < 5; k++) {
		if (!(arr[k] = malloc(room[k])))
			goto out;
		end[k] = arr[k];
		*end[k]++ = '{';
	}
	for (unsigned i = 0; i < n; i++) {
		end[0] = array_put(end[0], u64(&num, b[i].space_id), !i);
		end[1] = array_put(end[1], b[i].service, !i);
		end[2] = array_put(end[2], b[i].day, !i);
		end[3] = array_put(end[3], u64(&num, b[i].seconds), !i);
		end[4] = array_put(end[4], i64(&num, b[i].until), !i);
	}
	for (int k = 0; k < 5; k++) {
		*end[k]++ = '}';
		*end[k] = '\0';
	}
	{
		const char *p[] = {arr[0], arr[1], arr[2],
				   arr[3], arr[4], store_node};

		/* A service's spaces book in one row of usage (one INSERT
		 * may not update a row twice); a space booked twice (two
		 * days) is noted up to the later. */
		err = exec_done(
		    db,
		    "WITH b AS (SELECT * FROM unnest($1::bigint[], "
		    "$2::text[], $3::date[], $4::integer[], $5::bigint[]) "
		    "AS b(space_id, service, day, seconds, until)), "
		    "s AS (UPDATE spaces SET booked_until = "
		    "to_timestamp(u.until) "
		    "FROM (SELECT space_id, max(until) AS until FROM b "
		    "GROUP BY space_id) u WHERE spaces.id = u.space_id "
		    "AND spaces.state = 'live' "
		    "AND spaces.node_id IS NOT DISTINCT FROM $6 "
		    "RETURNING spaces.id) "
		    "INSERT INTO usage (service_default_id, day, seconds) "
		    "SELECT b.service, b.day, sum(b.seconds)::integer "
		    "FROM b JOIN s ON s.id = b.space_id WHERE b.seconds > 0 "
		    "GROUP BY b.service, b.day "
		    "ON CONFLICT (service_default_id, day) DO UPDATE "
		    "SET seconds = usage.seconds + EXCLUDED.seconds",
		    6, p, done, arg);
	}
out:
	for (int k = 0; k < 5; k++)
		free(arr[k]);
	return err;
}

static void usage_read(void *arg, int error, const struct db_result *res)
{
	struct req *r = arg;
	int rows = db_rows(res);

	for (int i = 0; !error && i < rows; i++)
		r->usage(r->arg, db_value(res, i, 0),
			 to_uint(db_value(res, i, 1)));
	done_only(r, error, NULL);
}

int store_load_usage(struct db *db, const char *day, store_usage_f *each,
		     store_done_f *done, void *arg)
{
	struct req *r = req_new(db, arg);
	const char *p[] = {day};
	int err;

	if (!r)
		return -ENOMEM;
	r->usage = each;
	r->done = done;
	err = db_exec(db,
		      "SELECT service_default_id, seconds FROM usage "
		      "WHERE day = $1::date",
		      1, p, usage_read, r);
	if (err < 0)
		req_free(r);
	return err;
}

/* -- comments ------------------------------------------------------------ */

int store_comment_add(struct db *db, uint64_t space_id, const char *author,
		      const char *text, store_done_f *done, void *arg)
{
	struct num n;
	const char *p[] = {u64(&n, space_id), author, text};

	return exec_done(db,
			 "INSERT INTO comments (space_id, author, body) "
			 "VALUES ($1, $2, $3)",
			 3, p, done, arg);
}

static void comments_read(void *arg, int error, const struct db_result *res)
{
	struct req *r = arg;
	int rows = db_rows(res);

	for (int i = 0; !error && i < rows; i++)
		r->comment(r->arg, db_value(res, i, 0),
			   (int64_t)to_u64(db_value(res, i, 1)),
			   db_value(res, i, 2));
	done_only(r, error, NULL);
}

int store_comments_recent(struct db *db, uint64_t space_id, unsigned n,
			  store_comment_f *each, store_done_f *done, void *arg)
{
	struct req *r = req_new(db, arg);
	struct num a, b;
	const char *p[] = {u64(&a, space_id), u64(&b, n)};
	int err;

	if (!r)
		return -ENOMEM;
	r->comment = each;
	r->done = done;
	/* reads comments only, which no keyed statement writes */
	err =
	    db_exec_merge(db, &(struct db_merge){.key = "c", .read = true},
			  "SELECT author, extract(epoch FROM at)::bigint, body "
			  "FROM (SELECT * FROM comments WHERE space_id = $1 "
			  "ORDER BY id DESC LIMIT $2) c ORDER BY id",
			  2, p, comments_read, r);
	if (err < 0)
		req_free(r);
	return err;
}

/* -- friends and quizzes ------------------------------------------------- */

static void value_read(void *arg, int error, const struct db_result *res)
{
	struct req *r = arg;
	uint64_t v = 0;

	if (!error && db_rows(res) == 1)
		v = to_u64(db_value(res, 0, 0));
	else if (!error)
		error = -EIO;
	r->value(r->arg, error, v);
	req_free(r);
}

int store_friend(struct db *db, const char *user, const char *friend, bool on,
		 store_value_f *done, void *arg)
{
	struct req *r = req_new(db, arg);
	const char *p[] = {user, friend, on ? "true" : "false"};
	int err;

	if (!r)
		return -ENOMEM;
	r->value = done;
	err = db_exec(db, "SELECT tv_friend($1, $2, $3)", 3, p, value_read, r);
	if (err < 0)
		req_free(r);
	return err;
}

int store_friendship(struct db *db, const char *user, const char *friend,
		     store_value_f *done, void *arg)
{
	struct req *r = req_new(db, arg);
	const char *p[] = {user, friend};
	int err;

	if (!r)
		return -ENOMEM;
	r->value = done;
	err = db_exec(db,
		      "SELECT count(*) FROM friends WHERE user_id = $1 "
		      "AND friend_id = $2",
		      2, p, value_read, r);
	if (err < 0)
		req_free(r);
	return err;
}

static void friends_read(void *arg, int error, const struct db_result *res)
{
	struct req *r = arg;
	int rows = db_rows(res);

	for (int i = 0; !error && i < rows; i++)
		r->friend(r->arg, db_value(res, i, 0), db_value(res, i, 1));
	if (!error)
		log_info("%d friendships loaded", rows);
	done_only(r, error, NULL);
}

static void friends_of_read(void *arg, int error, const struct db_result *res)
{
	struct req *r = arg;

	for (int i = 0; !error && i < db_rows(res); i++)
		r->friend(r->arg, db_value(res, i, 0), db_value(res, i, 1));
	done_only(r, error, NULL);
}

int store_load_friends(struct db *db, store_friend_f *each, store_done_f *done,
		       void *arg)
{
	struct req *r = req_new(db, arg);
	int err;

	if (!r)
		return -ENOMEM;
	r->friend = each;
	r->done = done;
	err = db_exec(db, "SELECT user_id, friend_id FROM friends", 0, NULL,
		      friends_read, r);
	if (err < 0)
		req_free(r);
	return err;
}

int store_friends_of(struct db *db, const char *user, store_friend_f *each,
		     store_done_f *done, void *arg)
{
	struct req *r;
	const char *p[] = {user};
	int err;

	if (!user || !each)
		return -EINVAL;
	r = req_new(db, arg);
	if (!r)
		return -ENOMEM;
	r->friend = each;
	r->done = done;
	err = db_exec(db,
		      "SELECT user_id, friend_id FROM friends "
		      "WHERE user_id = $1 ORDER BY friend_id",
		      1, p, friends_of_read, r);
	if (err < 0)
		req_free(r);
	return err;
}

/* A PostgreSQL array literal of @a n strings (each quoted, with '"' and
 * '\\' escaped) or numbers, in a malloc'd string. */
static char *array_literal(const char *const *strs, const unsigned *nums,
			   unsigned n)
{
	size_t len = 3;
	char *out, *p;

	for (unsigned i = 0; i < n; i++)
		len += strs ? 2 * strlen(strs[i]) + 3 : 12;
	out = p = malloc(len);
	if (!out)
		return NULL;
	*p++ = '{';
	for (unsigned i = 0; i < n; i++) {
		if (i)
			*p++ = ',';
		if (!strs) {
			p += sprintf(p, "%u", nums[i]);
			continue;
		}
		*p++ = '"';
		for (const char *s = strs[i]; *s; s++) {
			if (*s == '"' || *s == '\\')
				*p++ = '\\';
			*p++ = *s;
		}
		*p++ = '"';
	}
	*p++ = '}';
	*p = '\0';
	return out;
}

int store_quiz_add(struct db *db, const struct store_quiz *q,
		   store_done_f *done, void *arg)
{
	struct num a, b;
	char *answers = array_literal(q->answers, NULL, q->n_answers);
	char *tally = array_literal(NULL, q->tally, q->n_answers);
	const char *p[] = {
	    u64(&a, q->space_id), q->asked_by, q->channel, q->programme,
	    q->question,          answers,     tally,      i64(&b, q->asked)};
	int err = -ENOMEM;

	if (answers && tally)
		err = exec_done(db,
				"INSERT INTO quizzes (space_id, asked_by, "
				"channel, programme, question, answers, tally, "
				"asked) VALUES ($1, $2, $3, $4, $5, $6, $7, "
				"to_timestamp($8))",
				8, p, done, arg);
	free(answers);
	free(tally);
	return err;
}

/* -- nodes ------------------------------------------------------------------
 */

static void bool_read(void *arg, int error, const struct db_result *res)
{
	struct req *r = arg;
	const char *v = error ? NULL : db_value(res, 0, 0);

	if (r->value)
		r->value(r->arg, error, v && v[0] == 't');
	req_free(r);
}

int store_node_renew(struct db *db, const char *node, const char *uri,
		     unsigned lease_s, store_value_f *done, void *arg)
{
	struct req *r = req_new(db, arg);
	struct num n;
	const char *p[] = {node, uri, u64(&n, lease_s)};
	int err;

	if (!r)
		return -ENOMEM;
	r->value = done;
	err =
	    db_exec(db, "SELECT tv_node_renew($1, $2, $3)", 3, p, bool_read, r);
	if (err < 0)
		req_free(r);
	return err;
}

int store_node_release(struct db *db, const char *node, store_done_f *done,
		       void *arg)
{
	const char *p[] = {node};

	return exec_done(db, "SELECT tv_node_release($1)", 1, p, done, arg);
}

static void claim_read(void *arg, int error, const struct db_result *res)
{
	struct req *r = arg;

	for (int i = 0; !error && i < db_rows(res); i++)
		r->claim(r->arg, to_u64(db_value(res, i, 0)),
			 db_value(res, i, 1));
	done_only(r, error, NULL);
}

static int claim_query(struct db *db, const char *sql, const char *node,
		       store_claim_f *each, store_done_f *done, void *arg)
{
	struct req *r = req_new(db, arg);
	const char *p[] = {node};
	int err;

	if (!r)
		return -ENOMEM;
	r->claim = each;
	r->done = done;
	err = db_exec(db, sql, 1, p, claim_read, r);
	if (err < 0)
		req_free(r);
	return err;
}

int store_claim(struct db *db, const char *node, store_claim_f *each,
		store_done_f *done, void *arg)
{
	return claim_query(db, "SELECT space_id, old_node FROM tv_claim($1)",
			   node, each, done, arg);
}

int store_owned(struct db *db, const char *node, store_claim_f *each,
		store_done_f *done, void *arg)
{
	return claim_query(db,
			   "SELECT id, node_id FROM spaces "
			   "WHERE state = 'live' AND node_id = $1",
			   node, each, done, arg);
}

/* -- users ---------------------------------------------------------------- */

static void secrets_read(void *arg, int error, const struct db_result *res)
{
	struct req *r = arg;
	bool one = !error && db_rows(res) == 1;

	r->secrets(r->arg, error, one ? db_value(res, 0, 0) : NULL,
		   one ? db_value(res, 0, 1) : NULL);
	req_free(r);
}

static void names_read(void *arg, int error, const struct db_result *res)
{
	struct req *r = arg;

	for (int i = 0; !error && i < db_rows(res); i++)
		r->name(r->arg, db_value(res, i, 0), db_value(res, i, 1));
	done_only(r, error, NULL);
}

int store_display_names(struct db *db, const char *const *users, unsigned n,
			store_name_f *each, store_done_f *done, void *arg)
{
	struct req *r;
	char *list;
	int err;

	if (!n || !users || !each)
		return -EINVAL;
	list = array_literal(users, NULL, n);
	r = list ? req_new(db, arg) : NULL;
	if (!r) {
		free(list);
		return -ENOMEM;
	}
	r->name = each;
	r->done = done;
	err = db_exec(db,
		      "SELECT user_id, display_name FROM users "
		      "WHERE user_id = ANY ($1::text[]) "
		      "AND display_name IS NOT NULL",
		      1, (const char *const[]){list}, names_read, r);
	free(list);
	if (err < 0)
		req_free(r);
	return err;
}

int store_user_secrets(struct db *db, const char *user, store_secrets_f *done,
		       void *arg)
{
	struct req *r = req_new(db, arg);
	const char *p[] = {user};
	int err;

	if (!r)
		return -ENOMEM;
	r->secrets = done;
	/* The same statement, whether the user exists or not (the timing of
	 * the answer must not tell). */
	err = db_exec(
	    db, "SELECT ha1_md5, ha1_sha256 FROM users WHERE user_id = $1", 1,
	    p, secrets_read, r);
	if (err < 0)
		req_free(r);
	return err;
}
