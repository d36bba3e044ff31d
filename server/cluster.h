/* One node among several on one database (docs/scaling.md): the node's
 * lease, renewed on a timer; claiming the spaces of nodes whose lease ran
 * out and taking up their dialogs; and what the other nodes say through
 * NOTIFY tvspace (db/schema/005_nodes.sql): a node whose spaces were
 * claimed while it lived stops at once (fencing), a released node's spaces
 * are claimed at once, friend lists and services follow the database.  A
 * server that runs alone (no node_id) still listens, for the services. */
#ifndef TVSPACE_CLUSTER_H
#define TVSPACE_CLUSTER_H

#include <sofia-sip/su_alloc.h>
#include <sofia-sip/su_wait.h>

/** Exit status of a node that stopped itself because its spaces were
 * claimed while it was away (EX_TEMPFAIL: start it again). */
#define CLUSTER_FENCED 75

struct cfg;
struct db;
struct space_mgr;
struct sipua;
struct cluster;

/** Asked to load the services again (NOTIFY services); -EBUSY: ask again
 * a little later. */
typedef int cluster_reload_f(void *arg);

/** Listen on @a db for the other nodes; NULL on OOM. */
struct cluster *cluster_create(su_home_t *home, su_root_t *root,
			       const struct cfg *cfg, struct db *db,
			       cluster_reload_f *reload, void *arg);

/** Take the node's lease (at once, before anything is loaded), then run
 * @a then; with no node_id, @a then runs at once.  @a then gets 0 or a
 * negative errno. */
int cluster_join(struct cluster *cl, void (*then)(void *arg, int error),
		 void *arg);

/** Serving: renew the lease and claim orphaned spaces from now on, on
 * @a mgr and @a ua. */
void cluster_serve(struct cluster *cl, struct space_mgr *mgr, struct sipua *ua);

/** The database connection came back: catch up with what was missed. */
void cluster_db_up(struct cluster *cl);

/** Stop renewing and give the lease up, so the others claim what is left
 * at once (queued on the database: it runs after what is queued before);
 * @a then (may be NULL) runs once the release is stored or failed, or at
 * once when the node runs alone.  After it, the node's spaces are the
 * others': nothing may be sent into their dialogs from this node. */
void cluster_leave(struct cluster *cl, void (*then)(void *arg, int error),
		   void *arg);

/** Stop the timer (before the root goes); the memory stays with the home
 * given to cluster_create().  Returns NULL. */
struct cluster *cluster_destroy(struct cluster *cl);

#endif
