/* Taking spaces up again after a restart or a claim (docs/scaling.md):
 * the live spaces of this node are read back from the store with their
 * members, services and dialogs, rebuilt in the core, and every member's
 * dialog is taken up with a re-INVITE inside it, sent through the
 * re-INVITE window so a takeover of thousands of members does not burst.
 * The rows are copied as they come and rebuilt a slice at a time, a turn
 * of the loop each: rebuilding 1,667 spaces of 3,334 relay members at once
 * held the loop 0.8 to 1.5 s, while the answers to the first re-INVITEs
 * (and the lease's renewal) waited behind it.
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

static void restore_space(struct sipua *ua, const struct store_space *row,
			  const struct store_member *members, unsigned n)
{
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

/* The loop is held at most about this long at a time (ns). */
#define SLICE ((su_time64_t)5000000)

/* A space as read, waiting for its slice: its own home holds the copies
 * of the store's strings (valid only during the store's call). */
struct pending {
	su_home_t home[1];
	struct pending *next;
	struct store_space row;
	struct store_member *members;
	unsigned n;
};

/* One load: the spaces read and not yet rebuilt, in order. */
struct restoring {
	su_home_t home[1];
	struct sipua *ua;
	su_timer_t *slice;
	struct pending *head, **tail;
	bool read; /* the store has called done */
	int error;
};

static void restoring_destructor(void *arg)
{
	struct restoring *r = arg;

	while (r->head) {
		struct pending *p = r->head;

		r->head = p->next;
		su_home_unref(p->home);
	}
	if (r->slice)
		su_timer_destroy(r->slice);
}

#define DUP(field) x->field = su_strdup(p->home, from->field)

static void copy_space(struct pending *p, struct store_space *x,
		       const struct store_space *from)
{
	*x = *from;
	DUP(host_service);
	DUP(host_user);
	DUP(channel);
	DUP(node);
	DUP(host_default_channel);
	DUP(host_package);
}

static void copy_member(struct pending *p, struct store_member *x,
			const struct store_member *from)
{
	*x = *from;
	DUP(user);
	DUP(service);
	DUP(role);
	DUP(delivery);
	DUP(sdp_addr);
	DUP(sdp_media);
	DUP(call_id);
	DUP(local_tag);
	DUP(remote_tag);
	DUP(local_uri);
	DUP(remote_uri);
	DUP(remote_target);
	DUP(route_set);
	DUP(package);
	DUP(channel);
	DUP(local_sdp);
}

#undef DUP

static void slice(su_root_magic_t *magic, su_timer_t *t, void *arg);

/* The next slice, or the end of the load once all is read and rebuilt. */
static void next_slice(struct restoring *r)
{
	struct sipua *ua = r->ua;
	int error = r->error;

	if (r->head || !r->read) {
		if (r->head &&
		    su_timer_set_interval(r->slice, slice, r, 0) < 0) {
			/* no turn of the loop to wait for: all at once */
			slice(NULL, r->slice, r);
		}
		return;
	}
	su_home_unref(r->home); /* its timer too: none is set */
	if (ua->restore_done)
		ua->restore_done(ua->restore_arg, error);
}

static void slice(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	struct restoring *r = arg;
	su_time64_t until = su_monotime(NULL) + SLICE;

	if (r->ua->stopping) {
		/* Stopping: no re-INVITE may leave now.  What is not rebuilt
		 * stays stored, for the next start or another node. */
		while (r->head) {
			struct pending *p = r->head;

			r->head = p->next;
			su_home_unref(p->home);
		}
		r->tail = &r->head;
		if (!r->error)
			r->error = -ECANCELED;
		next_slice(r);
		return;
	}
	/* at least one space a turn, however slow */
	do {
		struct pending *p = r->head;

		r->head = p->next;
		if (!r->head)
			r->tail = &r->head;
		restore_space(r->ua, &p->row, p->members, p->n);
		su_home_unref(p->home);
	} while (r->head && su_monotime(NULL) < until);
	next_slice(r);
}

static void space_read(void *arg, const struct store_space *row,
		       const struct store_member *members, unsigned n)
{
	struct restoring *r = arg;
	struct pending *p = su_home_new(sizeof(*p));

	if (p && n)
		p->members =
		    su_zalloc(p->home, (isize_t)(n * sizeof(*members)));
	if (!p || (n && !p->members)) {
		/* what cannot wait is rebuilt now */
		if (p)
			su_home_unref(p->home);
		restore_space(r->ua, row, members, n);
		return;
	}
	copy_space(p, &p->row, row);
	for (unsigned i = 0; i < n; i++)
		copy_member(p, &p->members[i], &members[i]);
	p->n = n;
	*r->tail = p;
	r->tail = &p->next;
}

static void all_read(void *arg, int error)
{
	struct restoring *r = arg;

	r->read = true;
	if (error)
		r->error = error;
	next_slice(r);
}

/* Load the live spaces of this node (@a ids NULL) or those of them among
 * @a ids. */
static int restore(struct sipua *ua, const uint64_t *ids, unsigned n,
		   void (*done)(void *arg, int error), void *arg)
{
	struct restoring *r = su_home_clone(ua->home, sizeof(*r));
	const char *node = ua->cfg->node_id[0] ? ua->cfg->node_id : NULL;
	char day[16];
	int err;

	if (ids && !node)
		return -EINVAL;
	if (!r)
		return -ENOMEM;
	r->ua = ua;
	r->tail = &r->head;
	r->slice = su_timer_create(su_root_task(ua->root), 0);
	if (!r->slice ||
	    su_home_destructor(r->home, restoring_destructor) < 0) {
		if (r->slice)
			su_timer_destroy(r->slice);
		su_home_unref(r->home);
		return -ENOMEM;
	}
	ua->restore_done = done;
	ua->restore_arg = arg;
	cfg_day_name(ua_wall(), day, sizeof(day));
	err = ids ? store_load_spaces(ua->db, node, ids, n, day, space_read,
				      all_read, r)
		  : store_load_live(ua->db, node, day, space_read, all_read, r);
	if (err < 0)
		su_home_unref(r->home);
	return err;
}

int sipua_restore(struct sipua *ua, void (*done)(void *arg, int error),
		  void *arg)
{
	return restore(ua, NULL, 0, done, arg);
}

int sipua_restore_spaces(struct sipua *ua, const uint64_t *ids, unsigned n,
			 void (*done)(void *arg, int error), void *arg)
{
	return restore(ua, ids, n, done, arg);
}
