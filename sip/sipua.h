/* The SIP adapter: sofia-sip's nua on the su_root loop, turning requests
 * into space manager calls and its verdicts into responses, MESSAGEs, BYEs
 * and re-INVITEs.  Every state change is committed through the store before
 * the SIP message that announces it.  Owned by main; one thread. */
#ifndef TVSPACE_SIPUA_H
#define TVSPACE_SIPUA_H

#include <stdbool.h>

#include <sofia-sip/su_alloc.h>
#include <sofia-sip/su_wait.h>

struct cfg;
struct catalog;
struct db;
struct guide;
struct media;
struct space_mgr;
struct sipua;

struct sipua_deps {
	su_root_t *root;
	const struct cfg *cfg;
	struct space_mgr *mgr;
	struct db *db;
	struct media *media;       /* may be NULL: relay mode is then refused */
	const struct guide *guide; /* may be NULL */
};

/** Bind the SIP transports of cfg->listen and start serving.  NULL when the
 * address cannot be bound. */
struct sipua *sipua_create(su_home_t *parent, const struct sipua_deps *deps);
/** Rebuild the live spaces from the store (those of this node, when
 * cfg->node_id names one) that are not loaded yet and take up their
 * dialogs: each member is re-pointed with a re-INVITE; one that answers 481
 * or not at all is removed.  @a done runs once the spaces are loaded (error
 * 0 or -errno).  Called at start, and after the node claimed spaces of
 * another. */
int sipua_restore(struct sipua *ua, void (*done)(void *arg, int error),
		  void *arg);
/** sipua_restore() of the spaces of @a ids only (those a claim gave this
 * node): its own spaces, loaded already, are not read again.  -EINVAL
 * when cfg->node_id names no node. */
int sipua_restore_spaces(struct sipua *ua, const uint64_t *ids, unsigned n,
			 void (*done)(void *arg, int error), void *arg);
/** A service's row changed in the database (NOTIFY "service ID USER"):
 * the cache forgets it and live spaces of it read it again.  @a id NULL:
 * many changed, forget every service. */
void sipua_service_changed(struct sipua *ua, const char *id, const char *user);
/** The SIP side's load, for the metrics. */
struct sipua_load {
	double loop_lag;      /* seconds the loop ran late */
	unsigned sip_unread;  /* bytes waiting in the SIP UDP sockets */
	double sip_wait;      /* s the oldest of them has waited */
	bool overloaded;      /* new dialogs get 503 */
	unsigned admit_rate;  /* new dialogs admitted a second; 0: no limit */
	uint64_t admit_gated; /* refused: the database's wait too long */
	unsigned long long cache_hits, cache_misses, cache_evictions;
	unsigned cache_entries, cache_capacity;
};
void sipua_load(const struct sipua *ua, struct sipua_load *ret);
/** Use @a guide for the room panel from now on (a reload). */
void sipua_set_guide(struct sipua *ua, const struct guide *guide);
/** A stop for good, first step: end every live space as the operator's
 * `end` does (stored ended, then BYE with Reason "the server is shutting
 * down" to every member); no new dialog is taken.  Returns how many. */
unsigned sipua_end_all(struct sipua *ua);
/** Shut nua down once the spaces are ended (sipua_end_all()); @a done
 * runs when nua has finished (every BYE answered or given up on). */
void sipua_shutdown(struct sipua *ua, void (*done)(void *arg), void *arg);
/** A stop that keeps the dialogs (a restart, an upgrade): no new dialog
 * is taken, joiners still waiting get 503, no deadline or re-INVITE runs
 * from now on, and nothing tears a dialog down, not even
 * sipua_destroy(): nua and its thread are left to the process's end, as
 * after SIGKILL (sofia-sip cannot free them without a BYE on every
 * dialog).  The next start takes the dialogs up from the store. */
void sipua_keep_dialogs(struct sipua *ua);
/** After sipua_keep_dialogs(): from now on no event is acted on and
 * nothing is sent (the spaces are about to be another node's). */
void sipua_quiet(struct sipua *ua);
/** Whether nua finished its shutdown, so sipua_destroy() frees it and the
 * root may go; false after a stop that kept the dialogs or one cut short
 * (nua's thread then runs on the root until the process ends). */
bool sipua_stack_done(const struct sipua *ua);
/** Free everything; NULL is fine. */
struct sipua *sipua_destroy(struct sipua *ua);

/** End live space @a id on the operator's word: every member, the host
 * too, gets BYE with Reason @a text.  -ENOENT when there is no such space. */
int sipua_end_space(struct sipua *ua, unsigned long long id, const char *text);
/** Remove @a user from space @a id on the operator's word, as the host's
 * /kick does.  -ENOENT for no such space or member, -EPERM for the host. */
int sipua_kick(struct sipua *ua, unsigned long long id, const char *user);

struct guard;
struct guard_policy;
/** The failed digest authentications per user (server/guard.h) and the
 * policy in force, for the operator's listing and clearing; times are
 * sipua_guard_now()'s.  NULL before the adapter exists. */
struct guard *sipua_guard(struct sipua *ua, struct guard_policy *ret_policy);
/** The guard's clock: monotonic seconds. */
long long sipua_guard_now(void);

#endif
