/* Nodes on one database: the lease, claims and takeover, NOTIFY tvspace.
 * See cluster.h and docs/scaling.md.  Everything runs on the su_root loop;
 * each database step is one statement, and at most one of each kind is in
 * flight (a slow database delays the next renewal instead of piling them
 * up).
 *
 * The lease and the claims have a connection of their own.  On the
 * connection of the node's writes a renewal waits in line behind every
 * statement queued before it, and goes into their transaction (db.h): one
 * write waiting on a lock, or a backlog of thousands after a burst, held
 * the renewal back past the lease, and a node that was alive and serving
 * lost its spaces and was fenced; the survivors' own renewals then queued
 * behind the loading of what they claimed.  The lease says that the node's
 * loop runs, not that its writes are done. */
#define LOG_MODULE "cluster"
#include "server/cluster.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sofia-sip/su_time.h>

#include "db/db.h"
#include "db/store.h"
#include "server/cfg.h"
#include "server/log.h"
#include "server/space.h"
#include "sip/sipua.h"

/* A list of space ids that grows as rows come; once memory runs out it
 * misses some and says so (failed), and must not be used. */
struct id_list {
	uint64_t *ids;
	unsigned n, cap;
	bool failed;
};

static void id_list_add(struct id_list *l, uint64_t id)
{
	if (l->failed)
		return;
	if (l->n == l->cap) {
		unsigned cap = l->cap ? 2 * l->cap : 64;
		uint64_t *n = realloc(l->ids, cap * sizeof(*n));

		if (!n) {
			l->failed = true;
			return;
		}
		l->ids = n;
		l->cap = cap;
	}
	l->ids[l->n++] = id;
}

static void id_list_clear(struct id_list *l)
{
	l->n = 0;
	l->failed = false;
}

static void id_list_free(struct id_list *l)
{
	free(l->ids);
	*l = (struct id_list){0};
}

struct cluster {
	const struct cfg *cfg;
	struct db *db;
	struct db *lease_db;   /* renewals and claims; NULL when alone */
	struct space_mgr *mgr; /* NULL until serving */
	struct sipua *ua;
	cluster_reload_f *reload;
	void *reload_arg;
	su_timer_t *tick;
	const char *node; /* cfg->node_id, or NULL when alone */
	char uri[256];    /* what the proxy is told to use */
	void (*then)(void *arg, int error);
	void *then_arg;
	void (*left)(void *arg, int error); /* cluster_leave()'s */
	void *left_arg;
	bool renewing, claiming, loading, reconciling, leaving;
	bool release_pending; /* cluster_leave() waits for a renewal */
	bool closing;         /* cluster_destroy(): jobs are cancelled */
	bool reload_pending;
	/* the claim under way, and the ids of what it gave this node (only
	 * those are loaded; all ours when the list failed) */
	unsigned claimed;
	struct id_list claim_ids;
	char from[64];
	su_time64_t claim_start;
	/* the reconciliation under way: the live spaces still ours */
	struct id_list owned;
};

static void claim(struct cluster *cl);
static void reconcile(struct cluster *cl);
static void release(struct cluster *cl);

/* The lease's connection while it is up; the node's own until then (at
 * start, or while it reconnects), which is late behind a backlog but
 * better than no renewal at all. */
static struct db *lease_conn(const struct cluster *cl)
{
	return cl->lease_db && db_is_up(cl->lease_db) ? cl->lease_db : cl->db;
}

/* -- the lease ------------------------------------------------------------- */

static void renewed(void *arg, int error, uint64_t was_expired)
{
	struct cluster *cl = arg;
	void (*then)(void *, int) = cl->then;

	cl->renewing = false;
	if (cl->closing)
		return;
	if (cl->release_pending) {
		/* given up after this renewal, not before it */
		release(cl);
		return;
	}
	if (then) {
		cl->then = NULL;
		if (!error)
			log_notice("node %s holds its lease (%u s) as %s",
				   cl->node, cl->cfg->lease_time, cl->uri);
		then(cl->then_arg, error);
		return;
	}
	if (error) {
		log_warn("node %s: lease not renewed (%s)", cl->node,
			 strerror(-error));
		return;
	}
	if (was_expired) {
		/* Others may have claimed our spaces while we were away;
		 * their NOTIFYs may be lost with the old connection. */
		log_warn("node %s: the lease had run out; checking which "
			 "spaces are still ours",
			 cl->node);
		reconcile(cl);
	}
	claim(cl);
}

static void renew(struct cluster *cl)
{
	int err;

	if (!cl->node || cl->renewing || cl->leaving)
		return;
	cl->renewing = true;
	err = store_node_renew(lease_conn(cl), cl->node, cl->uri,
			       cl->cfg->lease_time, renewed, cl);
	if (err < 0)
		renewed(cl, err, 0);
}

/* The lease's connection came up (or back): renew now, not at the next
 * tick. */
static void lease_state(void *arg, bool up)
{
	struct cluster *cl = arg;

	if (up && cl->mgr)
		renew(cl);
}

static void on_tick(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	struct cluster *cl = (struct cluster *)arg;

	if (cl->reload_pending && cl->reload) {
		cl->reload_pending = false;
		if (cl->reload(cl->reload_arg) == -EBUSY)
			cl->reload_pending = true;
	}
	if (cl->mgr)
		renew(cl);
}

/* -- claims: taking over the spaces of a node that is gone ----------------- */

static void taken_up(void *arg, int error)
{
	struct cluster *cl = arg;
	double ms = (double)(su_monotime(NULL) - cl->claim_start) / 1e6;

	cl->loading = false;
	if (error) {
		log_err("node %s: claimed spaces not loaded (%s); they are "
			"loaded at the next claim",
			cl->node, strerror(-error));
		return;
	}
	log_notice("node %s took over %u space%s of %s in %.1f ms; "
		   "re-INVITEs sent",
		   cl->node, cl->claimed, cl->claimed == 1 ? "" : "s", cl->from,
		   ms);
}

static void on_claimed(void *arg, uint64_t id, const char *old)
{
	struct cluster *cl = arg;

	log_notice("space-%" PRIu64 " of node %s claimed", id, old ? old : "?");
	snprintf(cl->from, sizeof(cl->from), "%s", old ? old : "?");
	id_list_add(&cl->claim_ids, id);
	cl->claimed++;
}

static void claim_done(void *arg, int error)
{
	struct cluster *cl = arg;
	int err;

	cl->claiming = false;
	if (cl->closing)
		return;
	if (error) {
		log_warn("node %s: claim failed (%s)", cl->node,
			 strerror(-error));
		return;
	}
	if (!cl->claimed || cl->leaving)
		return; /* leaving: they go with the lease given up */
	/* Load what is ours now, with the dialogs: every member is
	 * re-INVITEd with this node's media address.  Only what this claim
	 * gave us is read, not our own spaces again (loaded already, and
	 * skipped); without the list, everything live of ours, which skips
	 * what is here. */
	cl->loading = true;
	err = cl->claim_ids.failed
		  ? sipua_restore(cl->ua, taken_up, cl)
		  : sipua_restore_spaces(cl->ua, cl->claim_ids.ids,
					 cl->claim_ids.n, taken_up, cl);
	if (err < 0)
		taken_up(cl, err);
}

static void claim(struct cluster *cl)
{
	int err;

	if (!cl->node || !cl->ua || cl->claiming || cl->loading || cl->leaving)
		return;
	cl->claiming = true;
	cl->claimed = 0;
	id_list_clear(&cl->claim_ids);
	cl->claim_start = su_monotime(NULL);
	err = store_claim(lease_conn(cl), cl->node, on_claimed, claim_done, cl);
	if (err < 0)
		claim_done(cl, err);
}

/* -- reconciliation: is what we serve still ours? ------------------------- */

static void owned_row(void *arg, uint64_t id, const char *node)
{
	struct cluster *cl = arg;

	id_list_add(&cl->owned, id);
}

/* Spaces of ours were claimed by another node while we were away (stopped,
 * or cut off from the database past the lease).  Their members' dialogs are
 * served there now; sofia-sip cannot let a dialog go without a BYE, and one
 * BYE from here would end a member's session.  So the node stops at once,
 * as a SIGKILL would, and says nothing to anyone; its supervisor (systemd's
 * Restart=) starts it again, and the new process serves only what is still
 * its own (docs/scaling.md, "Fencing"). */
static void fence(struct cluster *cl, const char *by, const char *what)
{
	log_err("node %s: %s claimed by %s while this node was away; "
		"stopping at once so that no member of them hears from "
		"here (status %d: start the node again)",
		cl->node, what, by, CLUSTER_FENCED);
	(void)fflush(NULL); /* what is lost is lost: it stops either way */
	_exit(CLUSTER_FENCED);
}

static void find_lost(void *arg, struct space *sp)
{
	struct cluster *cl = arg;
	uint64_t id = space_id(sp);
	char what[48];

	for (unsigned i = 0; i < cl->owned.n; i++)
		if (cl->owned.ids[i] == id)
			return;
	snprintf(what, sizeof(what), "space-%" PRIu64, id);
	fence(cl, "another node", what);
}

static void owned_done(void *arg, int error)
{
	struct cluster *cl = arg;

	cl->reconciling = false;
	/* no fencing on half a list */
	if (!error && !cl->owned.failed && cl->mgr && !cl->leaving)
		space_mgr_foreach(cl->mgr, find_lost, cl);
	id_list_clear(&cl->owned);
}

static void reconcile(struct cluster *cl)
{
	if (!cl->node || !cl->ua || cl->reconciling)
		return;
	cl->reconciling = true;
	cl->owned.n = 0;
	if (store_owned(cl->db, cl->node, owned_row, owned_done, cl) < 0)
		cl->reconciling = false;
}

/* -- NOTIFY tvspace -------------------------------------------------------- */

/* "claim NEW OLD 1,2,3": spaces of OLD now served by NEW. */
static void heard_claim(struct cluster *cl, const char *args)
{
	char new_node[64], old_node[64], what[96];
	int n = 0;

	if (sscanf(args, "%63s %63s %n", new_node, old_node, &n) != 2 || !n)
		return;
	if (!cl->node || !cl->mgr || cl->leaving)
		return;
	if (strcmp(old_node, cl->node) != 0) {
		/* Another survivor took its share of a node that is gone:
		 * ours is claimed now, not at our next renewal (up to a third
		 * of the lease later, while those members wait). */
		if (strcmp(new_node, cl->node) != 0)
			claim(cl);
		return;
	}
	snprintf(what, sizeof(what), "spaces %s", args + n);
	fence(cl, new_node, what);
}

static void on_notify(void *arg, const char *channel, const char *payload)
{
	struct cluster *cl = arg;
	char who[64], user[256];

	log_debug("NOTIFY %s '%s'", channel, payload);
	if (strncmp(payload, "claim ", 6) == 0) {
		heard_claim(cl, payload + 6);
	}
	else if (sscanf(payload, "release %63s", who) == 1) {
		if (cl->node && strcmp(who, cl->node) != 0) {
			log_notice("node %s released its spaces", who);
			claim(cl);
		}
	}
	else if (sscanf(payload, "service %63s %255s", who, user) == 2) {
		/* One row of services changed: the cache forgets it. */
		if (cl->ua)
			sipua_service_changed(cl->ua, who, user);
	}
	else if (strcmp(payload, "services *") == 0) {
		/* Many rows at once (provisioning in bulk). */
		if (cl->ua)
			sipua_service_changed(cl->ua, NULL, NULL);
	}
	else if (strcmp(payload, "levels") == 0 ||
		 strcmp(payload, "services") == 0) {
		log_notice("service levels changed in the database; loading "
			   "them again");
		if (cl->ua)
			sipua_service_changed(cl->ua, NULL, NULL);
		cl->reload_pending = true;
		on_tick(NULL, NULL, (su_timer_arg_t *)cl);
	}
}

/* -- life ------------------------------------------------------------------ */

struct cluster *cluster_create(su_home_t *home, su_root_t *root,
			       const struct cfg *cfg, struct db *db,
			       cluster_reload_f *reload, void *arg)
{
	struct cluster *cl = su_zalloc(home, sizeof(*cl));
	unsigned period;
	bool own_conn;

	if (!cl)
		return NULL;
	cl->cfg = cfg;
	cl->db = db;
	cl->reload = reload;
	cl->reload_arg = arg;
	cl->node = cfg->node_id[0] ? cfg->node_id : NULL;
	snprintf(cl->uri, sizeof(cl->uri), "%s",
		 cfg->node_uri[0] ? cfg->node_uri : cfg->listen);
	/* A lease is renewed three times in its life: one lost renewal
	 * does not lose it. */
	period = cl->node ? cfg->lease_time * 1000 / 3 : 1000;
	cl->tick = su_timer_create(su_root_task(root), period);
	own_conn = cl->node && cfg->db[0];
	if (own_conn)
		cl->lease_db = db_create(home, root, cfg->db, lease_state, cl);
	if (!cl->tick || (own_conn && !cl->lease_db) ||
	    su_timer_set_for_ever(cl->tick, on_tick, (su_timer_arg_t *)cl) <
		0 ||
	    db_listen(db, "tvspace", on_notify, cl) < 0)
		return cluster_destroy(cl);
	return cl;
}

int cluster_join(struct cluster *cl, void (*then)(void *arg, int error),
		 void *arg)
{
	if (!cl->node) {
		then(arg, 0);
		return 0;
	}
	cl->then = then;
	cl->then_arg = arg;
	cl->renewing = true;
	return store_node_renew(lease_conn(cl), cl->node, cl->uri,
				cl->cfg->lease_time, renewed, cl);
}

void cluster_serve(struct cluster *cl, struct space_mgr *mgr, struct sipua *ua)
{
	cl->mgr = mgr;
	cl->ua = ua;
	/* A claim that raced our first renewal is not missed: */
	reconcile(cl);
	claim(cl); /* and a node that died while none was up is served */
}

void cluster_db_up(struct cluster *cl)
{
	if (!cl->mgr)
		return;
	renew(cl);
	reconcile(cl);
}

struct cluster *cluster_destroy(struct cluster *cl)
{
	if (cl) {
		cl->closing = true;
		if (cl->tick)
			su_timer_destroy(cl->tick);
		cl->tick = NULL;
		cl->lease_db = db_destroy(cl->lease_db);
		id_list_free(&cl->owned);
		id_list_free(&cl->claim_ids);
	}
	return NULL;
}

static void released(void *arg, int error)
{
	struct cluster *cl = arg;
	void (*then)(void *, int) = cl->left;

	cl->left = NULL;
	if (error)
		log_warn("node %s: lease not released (%s); the others claim "
			 "its spaces when it runs out",
			 cl->node, strerror(-error));
	else
		log_notice("node %s gave up its lease: its spaces are the "
			   "others' to claim",
			   cl->node);
	if (then)
		then(cl->left_arg, error);
}

void cluster_leave(struct cluster *cl, void (*then)(void *arg, int error),
		   void *arg)
{
	if (!cl->node || cl->leaving) {
		if (then)
			then(arg, 0);
		return;
	}
	cl->leaving = true;
	cl->left = then;
	cl->left_arg = arg;
	log_notice("node %s gives up its lease", cl->node);
	/* A renewal on the lease's connection that committed after the
	 * release would take the lease back for lease_time: the release
	 * waits for it. */
	if (cl->renewing)
		cl->release_pending = true;
	else
		release(cl);
}

/* On the node's own connection, after every write queued before it: the
 * others take the spaces over from what is stored. */
static void release(struct cluster *cl)
{
	int err;

	cl->release_pending = false;
	err = store_node_release(cl->db, cl->node, released, cl);
	if (err < 0)
		released(cl, err);
}
