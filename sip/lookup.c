/* Subscribers' services, looked up when a subscriber acts (DESIGN.md:
 * memory follows what is live): the cache first, else one parameterised
 * statement on the store's connection, answered on the loop.  A start asks
 * the store every time, as it needs the service's played time of today.
 * Part of the SIP adapter; one su_root thread. */
#define LOG_MODULE "sip"
#include "sip/sipua_int.h"

static void take(struct step *s, const struct space_service *svc,
		 unsigned played_today)
{
	s->has_svc = svc != NULL;
	s->played_today = played_today;
	if (!svc)
		return;
	s->svc.level = svc->level;
	s->svc.id = su_strdup(s->home, svc->id);
	s->svc.user = su_strdup(s->home, svc->user);
	s->svc.default_channel = su_strdup(s->home, svc->default_channel);
	s->svc.package = su_strdup(s->home, svc->package);
	if (!s->svc.id || !s->svc.user)
		s->has_svc = false;
}

static void finish(struct step *s, int error)
{
	s->done(s, error);
	ua_step_free(s);
}

static void looked_up(void *arg, int error, const struct store_service *row)
{
	struct step *s = arg;
	struct sipua *ua = s->ua;
	struct space_service svc;
	int64_t now = ua_now();

	if (error) {
		finish(s, error);
		return;
	}
	if (!row) {
		/* Remembered too: a flood of strangers costs the store one
		 * statement each per time to live, not one per request. */
		if (!s->by_id)
			svccache_put_none(ua->cache, s->who, now);
		take(s, NULL, 0);
		finish(s, 0);
		return;
	}
	svc = (struct space_service){
	    .id = row->id,
	    .user = row->user,
	    .level = row->level,
	    .default_channel = row->default_channel,
	    .package = row->package,
	};
	svccache_put(ua->cache, &svc, !s->by_id || row->is_default, now);
	take(s, &svc, row->played_today);
	finish(s, 0);
}

void ua_lookup(struct step *s, const char *user, const char *id, bool fresh)
{
	struct sipua *ua = s->ua;
	const struct space_service *svc = NULL;
	enum svccache_result r = SVCCACHE_MISS;
	char day[16];
	int err;

	snprintf(s->who, sizeof(s->who), "%s", user ? user : "");
	s->by_id = id != NULL;
	if (!fresh)
		r = id ? svccache_by_id(ua->cache, id, ua_now(), &svc)
		       : svccache_by_user(ua->cache, user, ua_now(), &svc);
	if (r != SVCCACHE_MISS) {
		take(s, r == SVCCACHE_HIT ? svc : NULL, 0);
		finish(s, 0);
		return;
	}
	cfg_day_name(ua_wall(), day, sizeof(day));
	err = id ? store_service_get(ua->db, id, day, looked_up, s)
		 : store_service_of_user(ua->db, user, day, looked_up, s);
	if (err < 0)
		finish(s, err);
}

/* The spaces of a changed service take its new settings. */
static void refreshed(struct step *s, int error)
{
	if (!error && s->has_svc)
		space_mgr_service_changed(s->ua->mgr, &s->svc);
}

void ua_service_changed(struct sipua *ua, const char *id, const char *user)
{
	struct step *s;

	if (!id) {
		svccache_clear(ua->cache);
		return;
	}
	svccache_forget(ua->cache, id, user);
	/* A live space of the service reads its row again: capacity,
	 * package and level may have changed. */
	if (!space_mgr_has_service(ua->mgr, id))
		return;
	s = ua_step(ua, NULL, NULL, 0, refreshed);
	if (s)
		ua_lookup(s, user, id, true);
}
