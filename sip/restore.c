/* Taking spaces up again after a restart or a claim (docs/scaling.md):
 * the live spaces of this node are read back from the store with their
 * members, services and dialogs, rebuilt in the core, and every member's
 * dialog is taken up with a re-INVITE inside it, sent through the
 * re-INVITE window so a takeover of thousands of members does not burst.
 * Part of the SIP adapter; one su_root thread. */
#define LOG_MODULE "sip"
#include "sip/sipua_int.h"

#include "sip/routepin.h"

static void end_logged(struct step *s, int error)
{
	if (error)
		log_err("space-%" PRIu64 ": its end is not stored (%s)",
			s->space_id, strerror(-error));
}

/* A space whose channel the lineup lost cannot be described to its
 * members: it ends, in the store (its members' dialogs are not taken up,
 * so they time out at their end). */
static void end_unplayable(struct sipua *ua, const struct store_space *row)
{
	struct step *s = ua_step(ua, NULL, NULL, row->id, end_logged);
	char day[16];

	log_warn("space-%" PRIu64 ": channel %s is no longer in the lineup; "
		 "the space ends",
		 row->id, row->channel);
	cfg_day_name(ua_wall(), day, sizeof(day));
	if (s &&
	    store_space_end(ua->db, row->id, "channel no longer in the lineup",
			    row->host_service, day, 0, ua_step_stored, s) < 0)
		ua_step_stored(s, -ENOTCONN);
}

static void leave_logged(struct step *s, int error)
{
	if (error)
		log_err("space-%" PRIu64 " %s: departure not stored (%s)",
			s->space_id, s->by, strerror(-error));
}

/* Take @a m's dialog up: a handle with the stored identifiers, and a
 * re-INVITE through the window. */
static void resume(struct sipua *ua, struct space *sp, struct space_member *m,
		   const struct store_member *sm)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	const struct channel *ch = space_channel(sp);
	nua_handle_t *nh;
	struct call *c;

	/* We were the UAS; as UAC of the re-INVITE our tag goes in From and
	 * theirs in To (RFC 3261 §12.2.1.1). */
	nh = nua_handle(
	    ua->nua, NULL, NUTAG_URL(sm->remote_target),
	    SIPTAG_CALL_ID_STR(sm->call_id),
	    SIPTAG_FROM_STR(
		su_sprintf(home, "<%s>;tag=%s", sm->local_uri, sm->local_tag)),
	    SIPTAG_TO_STR(su_sprintf(home, "<%s>;tag=%s", sm->remote_uri,
				     sm->remote_tag)),
	    TAG_IF(sm->route_set, NUTAG_INITIAL_ROUTE_STR(sm->route_set)),
	    TAG_END());
	c = nh ? ua_call_new(ua, nh, sm->user) : NULL;
	if (!c) {
		if (nh)
			nua_handle_destroy(nh);
		space_member_remove(m, ua_now());
		su_home_deinit(home);
		return;
	}
	c->space_id = space_id(sp);
	c->member = m;
	m->handle = c;
	c->answered = true;
	c->resuming = true;
	c->media.offer.media = su_strdup(c->home, sm->sdp_media);
	c->dlg.call_id = su_strdup(c->home, sm->call_id);
	c->dlg.local_tag = su_strdup(c->home, sm->local_tag);
	c->dlg.remote_tag = su_strdup(c->home, sm->remote_tag);
	c->dlg.local_uri = su_strdup(c->home, sm->local_uri);
	c->dlg.remote_uri = su_strdup(c->home, sm->remote_uri);
	c->dlg.remote_target = su_strdup(c->home, sm->remote_target);
	c->dlg.route_set = su_strdup(c->home, sm->route_set);
	/* The session as it was: what the re-INVITE re-offers, and the
	 * payload type the member's keys come back on. */
	if (sm->local_sdp && ua_call_restore_sdp(c, sm->local_sdp) < 0)
		log_warn("space-%" PRIu64 " %s: stored SDP unreadable; the "
			 "channel's is offered",
			 c->space_id, c->user);
	/* RFC 3261 §12.2.1.2: the route set stays the stored one, whatever
	 * the 2xx's Record-Route says (routepin.h). */
	if (sm->route_set && *sm->route_set &&
	    routepin_add(sm->call_id, sm->route_set) < 0)
		log_warn("space-%" PRIu64 " %s: route set not pinned",
			 c->space_id, c->user);
	/* A relay member gets a new leg; the re-INVITE tells it our (new)
	 * port. */
	if (m->delivery == SPACE_RELAY &&
	    ua_call_start_relay(c, ch, m->addr, m->port, m->pt) < 0)
		log_warn("space-%" PRIu64 " %s: relay not resumed", c->space_id,
			 c->user);
	ua_repoint(c);
	su_home_deinit(home);
}

static void restore_space(void *arg, const struct store_space *row,
			  const struct store_member *members, unsigned n)
{
	struct sipua *ua = arg;
	const struct channel *ch =
	    catalog_channel(space_mgr_catalog(ua->mgr), row->channel);
	struct space_service svc = {
	    .id = row->host_service,
	    .user = row->host_user,
	    .level = row->host_level,
	    .default_channel = row->host_default_channel,
	    .package = row->host_package,
	};
	int64_t now = ua_now(), wall = ua_wall();
	struct space *sp;

	if (space_find(ua->mgr, row->id))
		return; /* ours already: a load after a claim */
	if (!ch) {
		end_unplayable(ua, row);
		return;
	}
	if (space_restore(ua->mgr, row->id, &svc, row->played_today, ch,
			  row->open, (wall - row->started) * 1000,
			  (wall - row->booked_until) * 1000, now, row->started,
			  &sp) < 0) {
		log_err("space-%" PRIu64 ": cannot restore", row->id);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct store_member *sm = &members[i];
		enum space_role role =
		    su_strmatch(sm->role, "host") ? SPACE_HOST : SPACE_GUEST;
		enum space_delivery d = su_strmatch(sm->delivery, "relay")
					    ? SPACE_RELAY
					    : SPACE_MULTICAST;
		struct space_member *m;
		struct step *s;

		if (space_restore_member(sp, sm->user, sm->service, sm->package,
					 role, d, sm->sdp_pt, sm->sdp_addr,
					 sm->sdp_port, sm->admitted_seq, now,
					 &m) < 0)
			continue;
		/* It had not followed the space to its channel (RFC 6141,
		 * or its package). */
		if (sm->channel && !su_strmatch(sm->channel, ch->id) &&
		    catalog_channel(space_mgr_catalog(ua->mgr), sm->channel))
			space_member_stay(
			    m, catalog_channel(space_mgr_catalog(ua->mgr),
					       sm->channel));
		if (sm->call_id && sm->local_tag && sm->remote_tag &&
		    sm->remote_target) {
			resume(ua, sp, m, sm);
			continue;
		}
		/* No dialog to take up (lost before its ACK). */
		log_warn("space-%" PRIu64 " %s: no dialog to resume", row->id,
			 sm->user);
		space_member_remove(m, now);
		s = ua_step(ua, NULL, NULL, row->id, leave_logged);
		if (!s)
			continue;
		snprintf(s->by, sizeof(s->by), "%s", sm->user);
		if (store_member_leave(ua->db, row->id, sm->user, "dialog lost",
				       ua_step_stored, s) < 0)
			ua_step_stored(s, -ENOTCONN);
	}
	if (!space_host(sp)) {
		/* Its host was lost before the restart: the grace starts
		 * again, and only the host service's user can come back. */
		space_lose_host(sp, row->host_user, now);
		log_notice("space-%" PRIu64 " restored without its host; "
			   "waiting %u s",
			   row->id, ua->cfg->host_grace);
	}
	log_info("space-%" PRIu64 " restored with %u members", row->id,
		 space_count(sp));
	ua_programme(ua, sp);
}

static void restore_done(void *arg, int error)
{
	struct sipua *ua = arg;

	if (ua->restore_done)
		ua->restore_done(ua->restore_arg, error);
}

int sipua_restore(struct sipua *ua, void (*done)(void *arg, int error),
		  void *arg)
{
	char day[16];

	ua->restore_done = done;
	ua->restore_arg = arg;
	cfg_day_name(ua_wall(), day, sizeof(day));
	return store_load_live(ua->db,
			       ua->cfg->node_id[0] ? ua->cfg->node_id : NULL,
			       day, restore_space, restore_done, ua);
}
