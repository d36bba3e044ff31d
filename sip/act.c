/* Carrying out the core's verdicts over SIP: the 200 that admits a
 * member, the end of a space (claim 5), departures, re-pointing members to
 * a new channel (paced through a window of unanswered re-INVITEs), and the
 * core's deadlines (admission expiry, a lost host's grace, the daily limit's
 * warnings and end, booking played time).  Every change is committed
 * before the SIP message that announces it.  Part of the SIP adapter; one
 * su_root thread. */
#define LOG_MODULE "sip"
#include "sip/sipua_int.h"

#include "sip/routepin.h"

#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <linux/sock_diag.h>

#include <sofia-sip/nta_tag.h>

/* -- admission ----------------------------------------------------------- */

static void sdp_logged(struct step *s, int error)
{
	if (error)
		log_warn("space-%" PRIu64 " %s: its SDP is not stored (%s); a "
			 "restart re-offers the channel's",
			 s->space_id, s->by, strerror(-error));
}

void ua_call_store_sdp(struct call *c)
{
	struct step *s;

	if (!c->member || !c->dlg.local_sdp || !c->dlg.sdp_dirty)
		return;
	s = ua_step(c->ua, NULL, NULL, c->space_id, sdp_logged);
	if (!s)
		return;
	c->dlg.sdp_dirty = false;
	snprintf(s->by, sizeof(s->by), "%s", c->user);
	if (store_member_sdp(c->ua->db, c->space_id, c->user, c->dlg.local_sdp,
			     ua_step_stored, s) < 0)
		ua_step_stored(s, -ENOTCONN);
}

/* Send 200 with the SDP to the pending INVITE of @a c (its membership is
 * committed). */
static char *answer_sdp(su_home_t *home, struct call *c)
{
	const struct channel *ch = space_channel(c->member->space);
	const struct space_offer *o = &c->media.offer;

	/* RFC 3264 §6.2: an accepted multicast stream is answered with the
	 * offer's own group and port.  A set-top box that offered another
	 * channel's group gets that stream refused, and the space's channel
	 * in a re-INVITE once its ACK comes. */
	c->media.reoffer =
	    c->member->delivery == SPACE_MULTICAST && o->multicast && o->addr &&
	    (!su_strmatch(o->addr, ch->group) || o->port != ch->port);
	return ua_call_sdp(home, c, ch);
}

void ua_answer_ahead(struct call *c)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};

	answer_sdp(home, c);
	su_home_deinit(home);
}

void ua_accept(struct call *c)
{
	struct sipua *ua = c->ua;
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct space *sp = c->member->space;
	const struct channel *ch = space_channel(sp);
	char *sdp;

	sdp = answer_sdp(home, c);
	if (!sdp) {
		ua_refuse_later(ua, c->dlg.nh, SIP_500_INTERNAL_SERVER_ERROR,
				"cannot describe the channel");
		su_home_deinit(home);
		return;
	}
	c->answered = true;
	nua_respond(c->dlg.nh, SIP_200_OK,
		    SIPTAG_CONTACT_STR(ua_contact_of(home, ua, c->space_id)),
		    UA_RECV_INFO, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		    SIPTAG_PAYLOAD_STR(sdp), TAG_END());
	ua_call_store_sdp(c);
	log_info("space-%" PRIu64 " %s joined as %s on %s (%s) call-id %s",
		 c->space_id, c->user, space_role_str(c->member->role), ch->id,
		 space_delivery_str(c->member->delivery), c->dlg.call_id);
	ua_room_changed(ua, sp);
	if (c->member->role != SPACE_HOST) {
		tv_stats.joins++;
		ua_send_history(c);
	}
	su_home_deinit(home);
}

void ua_ask_host(struct space *sp, const struct space_member *m)
{
	ua_tell_host(sp, "join request %u from %s; reply /allow %u or /deny %u",
		     m->request, m->user, m->request, m->request);
}

/* -- the end of a space --------------------------------------------------- */

static void ended(struct step *s, int error)
{
	if (error)
		/* The members go anyway: a restart finds the space live,
		 * re-INVITEs nobody who answers and ends it then. */
		log_err("space-%" PRIu64 ": end not stored (%s)", s->space_id,
			strerror(-error));
	for (unsigned i = 0; i < s->n_calls; i++) {
		struct call *c = s->calls[i];

		if (!call_gone(c)) {
			c->bye = true;
			nua_bye(c->dlg.nh, SIPTAG_REASON_STR(s->text),
				TAG_END());
		}
		call_unref(c);
	}
	s->n_calls = 0;
}

/* End @a sp (claim 5): book the played time, close it in the core at once
 * (nobody joins an ending space), and once stored send BYE with @a text in
 * a Reason header to every member but @a except (who hung up already).
 * Pending joiners get 480. */
void ua_end_space(struct sipua *ua, struct space *sp, const char *text,
		  struct call *except)
{
	int64_t now = ua_now();
	uint64_t id = space_id(sp);
	struct step *s = ua_step(ua, NULL, NULL, id, ended);
	char svc_id[USER_MAX], day[16];
	unsigned played = space_unbooked(sp, now);
	int err = -ENOMEM;

	snprintf(svc_id, sizeof(svc_id), "%s", space_service(sp)->id);
	space_set_ending(sp);
	if (s) {
		s->text =
		    su_sprintf(s->home, "SIP;cause=200;text=\"%s\"", text);
		s->calls = su_zalloc(
		    s->home,
		    (isize_t)((space_count(sp) + space_pending_count(sp) + 1) *
			      sizeof(struct call *)));
	}
	for (struct space_member *m = space_members(sp), *next; m; m = next) {
		struct call *c = m->handle;

		next = m->next;
		if (!c)
			continue;
		ua_call_stop_media(c);
		ua_call_unlink(c);
		if (m->role == SPACE_PENDING)
			ua_refuse_later(ua, c->dlg.nh,
					SIP_480_TEMPORARILY_UNAVAILABLE, text);
		else if (c->committing)
			; /* its commit completes as a refusal */
		else if (c != except && !call_gone(c) && s && s->calls)
			s->calls[s->n_calls++] = call_ref(c); /* BYE later */
		else if (c != except && !call_gone(c))
			c->bye = true, nua_bye(c->dlg.nh, TAG_END());
	}
	ua_room_ended(ua, id);
	log_info("space-%" PRIu64 " ended: %s, %u s played", id, text,
		 space_played(sp, now));
	cfg_day_name(ua_wall(), day, sizeof(day));
	space_close(sp);
	if (s && s->text && s->calls)
		err = store_space_end(ua->db, id, text, svc_id, day, played,
				      ua_step_stored, s);
	if (err < 0) {
		log_err("space-%" PRIu64 ": cannot store its end (%s)", id,
			strerror(-err));
		if (s)
			ua_step_stored(s, err);
	}
	ua_schedule(ua);
}

int sipua_end_space(struct sipua *ua, unsigned long long id, const char *text)
{
	struct space *sp = space_find(ua->mgr, id);

	if (!sp)
		return -ENOENT;
	ua_end_space(ua, sp, text, NULL);
	return 0;
}

/* -- departures ------------------------------------------------------------ */

static void store_logged(struct step *s, int error)
{
	if (error)
		log_err("space-%" PRIu64 " %s: %s not stored (%s)", s->space_id,
			s->by, s->text ? s->text : "change", strerror(-error));
}

/* Store that @a user left; a failure is logged (the member is gone from
 * the core already; a restart finds the row and re-INVITEs, and the member
 * answers 481). */
static void store_leave(struct sipua *ua, uint64_t id, const char *user,
			const char *why)
{
	struct step *s = ua_step(ua, NULL, NULL, id, store_logged);

	if (!s)
		return;
	snprintf(s->by, sizeof(s->by), "%s", user);
	s->text = su_sprintf(s->home, "departure (%s)", why);
	if (store_member_leave(ua->db, id, user, why, ua_step_stored, s) < 0)
		ua_step_stored(s, -ENOTCONN);
}

void ua_member_gone(struct sipua *ua, struct call *c, const char *why,
		    bool failed)
{
	struct space_member *m = c->member;
	struct space *sp;
	char text[2 * USER_MAX + 96];
	bool pending;

	if (!m)
		return;
	sp = m->space;
	pending = m->role == SPACE_PENDING;
	ua_call_stop_media(c);
	ua_call_unlink(c);
	switch (space_leave(m, failed, ua_now())) {
	case SPACE_END:
		ua_end_space(ua, sp, "space ended by host", c);
		return;
	case SPACE_HOST_LOST:
		log_notice("space-%" PRIu64 " host %s lost (%s) call-id %s; "
			   "%u s to come back",
			   c->space_id, c->user, why,
			   c->dlg.call_id ? c->dlg.call_id : "-",
			   ua->cfg->host_grace);
		store_leave(ua, c->space_id, c->user, "host lost");
		snprintf(text, sizeof(text),
			 "the host %s is unreachable; the space waits %u s "
			 "for them to come back",
			 c->user, ua->cfg->host_grace);
		ua_tell_all(sp, NULL, text);
		break;
	case SPACE_LEFT:
		log_info("space-%" PRIu64 " %s left: %s call-id %s",
			 c->space_id, c->user, why,
			 c->dlg.call_id ? c->dlg.call_id : "-");
		if (pending) {
			ua_room_left(ua, sp, c->user,
				     failed ? CONFINFO_FAILED
					    : CONFINFO_DEPARTED);
			break;
		}
		store_leave(ua, c->space_id, c->user, why);
		ua_room_departed(ua, sp, c->user);
		if (failed)
			ua_room_left(ua, sp, c->user, CONFINFO_FAILED);
		break;
	}
	ua_room_changed(ua, sp);
	ua_schedule(ua);
}

void ua_remove_member(struct sipua *ua, struct space_member *m, const char *who,
		      const char *by)
{
	struct space *sp = m->space;
	uint64_t id = space_id(sp);
	struct call *k = m->handle;
	struct space_member *actor = space_member_by_user(sp, who);
	/* The host who removed a member knows: its 200 said so. */
	struct call *except = actor ? actor->handle : NULL;
	char why[64], reason[96], text[USER_MAX + 64];

	snprintf(why, sizeof(why), "removed by %s", by);
	snprintf(reason, sizeof(reason),
		 "SIP;cause=200;text=\"removed by the %s\"", by);
	log_info("space-%" PRIu64 " %s removed by %s", id, m->user, who);
	ua_room_left(ua, sp, m->user, CONFINFO_BOOTED);
	if (m->role == SPACE_PENDING) {
		if (k) {
			ua_refuse_later(ua, k->dlg.nh, SIP_603_DECLINE,
					strcmp(by, "host") == 0
					    ? "the host declined the request"
					    : "declined by the operator");
			ua_call_unlink(k);
		}
		space_member_remove(m, ua_now());
		ua_room_changed(ua, sp);
		ua_schedule(ua);
		return;
	}
	snprintf(text, sizeof(text), "%s was removed by the %s", m->user, by);
	if (!k) {
		store_leave(ua, id, m->user, why);
		space_member_remove(m, ua_now());
		if (ua->cfg->member_notices)
			ua_tell_all(sp, except, text);
		ua_room_changed(ua, sp);
		return;
	}
	call_ref(k);
	ua_call_stop_media(k);
	ua_call_unlink(k);
	store_leave(ua, id, m->user, why);
	space_member_remove(m, ua_now());
	if (ua->cfg->member_notices)
		ua_tell_all(sp, except, text);
	ua_room_changed(ua, sp);
	if (!call_gone(k)) {
		k->bye = true;
		nua_bye(k->dlg.nh, SIPTAG_REASON_STR(reason), TAG_END());
	}
	call_unref(k);
}

int sipua_kick(struct sipua *ua, unsigned long long id, const char *user)
{
	struct space *sp = space_find(ua->mgr, id);
	struct space_member *m = sp ? space_member_by_user(sp, user) : NULL;

	if (!m)
		return -ENOENT;
	if (m->role == SPACE_HOST)
		return -EPERM;
	ua_remove_member(ua, m, "the operator", "operator");
	return 0;
}

/* -- re-pointing ----------------------------------------------------------- */

/* The REFER that made @a c leave to its own service waits on this
 * re-INVITE's answer. */
static void reinvite_done(struct call *c, int status)
{
	struct step *s = c->after_reinvite;

	if (!s)
		return;
	c->after_reinvite = NULL;
	s->value = (uint64_t)status;
	s->done(s, 0);
	ua_step_free(s);
}

static void send_reinvite(struct call *c)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct sipua *ua = c->ua;
	const struct channel *ch = ua_call_channel(c);
	unsigned se, min_se = 0;
	char *sdp;

	c->dlg.sdp_version++;
	/* Taking a restored dialog up re-offers what the session had: its
	 * payload types, telephone-event, directions and ptime (RFC 3264
	 * §8); a space that moved on meanwhile gets its channel's. */
	sdp = c->resuming && ch ? ua_call_resume_sdp(home, c, ch) : NULL;
	if (!sdp && ch)
		sdp = ua_call_sdp(home, c, ch);
	if (!sdp || call_gone(c)) {
		reinvite_done(c, 500);
		su_home_deinit(home);
		return;
	}
	c->media.reinvite_out = true;
	c->media.again = false;
	c->media.repoint_sent = su_monotime(NULL);
	ua->repoint_out++;
	/* A re-INVITE is a session refresh (RFC 4028 §7.4): it asks the
	 * session's interval with the dialog's Min-SE, not the configured
	 * ones.  nua keeps both as the handle's own for later requests, so
	 * they go back to ours once this one has gone: the member's next
	 * refresh is measured against our Min-SE, not its own. */
	se = ua_call_timer_refresh(c, &min_se);
	nua_invite(c->dlg.nh,
		   SIPTAG_CONTACT_STR(ua_contact_of(home, ua, c->space_id)),
		   TAG_IF(se, NUTAG_SESSION_TIMER(se)),
		   TAG_IF(se, NUTAG_MIN_SE(min_se)), UA_RECV_INFO,
		   SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		   SIPTAG_PAYLOAD_STR(sdp), TAG_END());
	if (se)
		nua_set_hparams(c->dlg.nh,
				NUTAG_SESSION_TIMER(ua->cfg->session_expires),
				NUTAG_MIN_SE(UA_MIN_SE), TAG_END());
	su_home_deinit(home);
}

/* Send what waits while the window has room.  A deployment sends every
 * re-INVITE through one P-CSCF: a burst of thousands would be lost in one
 * socket buffer and come back after T1 as retransmissions. */
static void pump(struct sipua *ua)
{
	struct call *c;

	if (!ua->repoint_out && !ua->repoint_head)
		ua->repoint_base = 0; /* the next run measures afresh */

	while (ua->repoint_out < ua->repoint_window && (c = ua->repoint_head)) {
		ua->repoint_head = c->media.queue_next;
		if (!ua->repoint_head)
			ua->repoint_tail = NULL;
		c->media.queue_next = NULL;
		c->media.queued = false;
		send_reinvite(c);
		call_unref(c); /* the queue's */
	}
}

/* Offer @a c its current channel in a re-INVITE (RFC 3264 §8), or switch
 * its relay leg. */
void ua_repoint(struct call *c)
{
	struct sipua *ua = c->ua;
	const struct channel *ch = ua_call_channel(c);

	if (!ch || call_gone(c) || !c->answered) {
		reinvite_done(c, 500);
		return;
	}
	if (c->media.leg && !c->resuming) {
		/* Relay: the same session, another source (PROTOCOL.md): no
		 * new SDP, the leg keeps SSRC and timeline and marks the
		 * first packet of the new channel. */
		int err = ua_call_switch_relay(c, ch);

		reinvite_done(c, err ? 500 : 200);
		return;
	}
	if (c->media.reinvite_out || c->media.queued) {
		/* One offer at a time in a dialog (RFC 3264 §4): the newest
		 * channel goes once this one is answered. */
		c->media.again = c->media.reinvite_out;
		return;
	}
	c->media.queued = true;
	call_ref(c);
	if (ua->repoint_tail)
		ua->repoint_tail->media.queue_next = c;
	else
		ua->repoint_head = c;
	ua->repoint_tail = c;
	pump(ua);
}

/* Where a member is, as the store keeps it: the channel it still receives
 * when it could not follow the space's, NULL when it follows. */
static void store_where(struct sipua *ua, struct space_member *m)
{
	struct step *s =
	    ua_step(ua, NULL, NULL, space_id(m->space), store_logged);

	if (!s)
		return;
	snprintf(s->by, sizeof(s->by), "%s", m->user);
	s->text = su_strdup(s->home, "the member's channel");
	if (store_member_channel(ua->db, space_id(m->space), m->user,
				 m->behind ? m->behind->id : NULL,
				 ua_step_stored, s) < 0)
		ua_step_stored(s, -ENOTCONN);
}

/* @a c's dialog is over while our re-INVITE in it waits for its answer:
 * nua reports no answer after that, so the re-INVITE's place in the window
 * goes to the next now, or each such loss would hold a place for ever and
 * re-pointing would stop.  A re-INVITE waiting out a glare (491) holds no
 * place. */
void ua_repoint_gone(struct call *c)
{
	struct sipua *ua = c->ua;

	if (!c->media.reinvite_out ||
	    (c->media.glare && su_timer_is_set(c->media.glare)))
		return;
	c->media.reinvite_out = false;
	if (ua->repoint_out)
		ua->repoint_out--;
	pump(ua);
}

/* A member whose service lacks the space's new channel is not re-pointed
 * (PROTOCOL.md "Entitlements"): a relay member gets the slate, a multicast
 * member keeps the stream it has (@a had); either is told why. */
static void not_following(struct call *c, struct space_member *m,
			  const struct channel *ch, const struct channel *had)
{
	char text[256];
	/* Entitled, it cannot take the channel's encodings (a channel of
	 * separate streams): a relay leg keeps its stream too. */
	bool cannot = space_member_entitled(m, ch);

	if (cannot)
		snprintf(text, sizeof(text),
			 "your terminal did not offer what %s is sent in: "
			 "you stay on your channel",
			 ch->name);
	else if (c->media.leg && media_leg_slate(c->media.leg) == 0)
		snprintf(text, sizeof(text),
			 "%s is not in your package: you get the slate until "
			 "the space is on a channel of yours",
			 ch->name);
	else
		snprintf(text, sizeof(text),
			 "%s is not in your package: you stay on your channel",
			 ch->name);
	if ((!c->media.leg || cannot) && had && had != m->behind &&
	    space_member_stay(m, had) == 0)
		store_where(c->ua, m);
	log_info("space-%" PRIu64 " %s cannot follow to %s", c->space_id,
		 c->user, ch->id);
	ua_tell(c, text);
}

void ua_repoint_all(struct space *sp, const struct channel *old)
{
	const struct channel *ch = space_channel(sp);
	char cannot[512] = "";
	size_t off = 0;

	for (struct space_member *m = space_members(sp); m; m = m->next) {
		struct call *c = m->handle;
		const struct channel *had = m->behind ? m->behind : old;

		if (m->role == SPACE_PENDING || !c)
			continue;
		if (!space_member_entitled(m, ch)) {
			not_following(c, m, ch, had);
			if (off < sizeof(cannot))
				off += (size_t)snprintf(
				    cannot + off, sizeof(cannot) - off, "%s%s",
				    off ? ", " : "", m->user);
			continue;
		}
		if (!space_member_can_take(m, ch)) {
			/* Its session has not the channel's encodings: as a
			 * refused re-INVITE, it stays (RFC 6141). */
			not_following(c, m, ch, had);
			ua_tell_host(sp,
				     "%s cannot follow to %s: its terminal did "
				     "not offer what it is sent in",
				     m->user, ch->name);
			continue;
		}
		/* RFC 6141: should the member refuse the new channel, it
		 * stays where it was. */
		if (!c->media.leg && had) {
			su_free(c->home, c->media.had);
			c->media.had = catalog_channel_copy(c->home, had);
		}
		if (m->behind) {
			space_member_stay(m, NULL);
			store_where(c->ua, m);
		}
		ua_repoint(c);
	}
	if (off)
		ua_tell_host(sp,
			     "cannot follow to %s (not in their package): %s",
			     ch->name, cannot);
}

static void glare_retry(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	struct call *c = arg;

	c->media.reinvite_out = false;
	ua_repoint(c);
	call_unref(c); /* the timer's */
}

/* RFC 3261 §12.2.1.2: a request in a dialog that timed out ends the dialog,
 * and for an INVITE dialog that is a BYE.  This sofia-sip ends the session
 * on the 408 without one, so the BYE goes out on a handle of its own that
 * carries the dialog's identifiers (as a restart takes a dialog up), its
 * CSeq one above the re-INVITE's.  Its answer is not waited for. */
static void bye_after_timeout(struct sipua *ua, struct call *c, uint32_t seq)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	const struct dialog *d = &c->dlg;
	nua_handle_t *nh;

	if (!d->call_id || !d->local_tag || !d->remote_tag || !d->remote_target)
		return;
	nh = nua_handle(
	    ua->nua, NULL, NUTAG_URL(d->remote_target),
	    SIPTAG_CALL_ID_STR(d->call_id),
	    SIPTAG_FROM_STR(
		su_sprintf(home, "<%s>;tag=%s", d->local_uri, d->local_tag)),
	    SIPTAG_TO_STR(
		su_sprintf(home, "<%s>;tag=%s", d->remote_uri, d->remote_tag)),
	    TAG_IF(d->route_set, NUTAG_INITIAL_ROUTE_STR(d->route_set)),
	    TAG_END());
	if (nh)
		nua_method(nh, NUTAG_METHOD("BYE"),
			   SIPTAG_CSEQ(sip_cseq_create(home, seq + 1,
						       sip_method_bye, NULL)),
			   SIPTAG_REASON_STR(
			       "SIP;cause=408;text=\"re-INVITE timed out\""),
			   TAG_END());
	su_home_deinit(home);
}

static void retry_after(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	struct call *c = arg;

	c->media.reinvite_out = false;
	if (c->member && !call_gone(c)) {
		/* The space's channel is offered again. */
		if (c->member->behind) {
			su_free(c->home, c->media.had);
			c->media.had =
			    catalog_channel_copy(c->home, c->member->behind);
			space_member_stay(c->member, NULL);
		}
		ua_repoint(c);
	}
	call_unref(c); /* the timer's */
}

/* RFC 6141: a non-2xx answer to a re-INVITE leaves the session as it was.
 * The member stays on the channel it had; it and the host are told; the
 * core and the store say so.  A 500 or 503 with Retry-After is tried again
 * then (RFC 3261 §21.5.4, §21.5.4). */
static void refused_channel(struct sipua *ua, struct call *c, int status,
			    sip_t const *sip)
{
	struct space_member *m = c->member;
	const struct channel *ch = space_channel(m->space);
	unsigned ra = sip && sip->sip_retry_after
			  ? (unsigned)sip->sip_retry_after->af_delta
			  : 0;
	char text[256];

	log_warn("space-%" PRIu64 " %s refused %s (%d)", c->space_id, c->user,
		 ch->id, status);
	if (c->media.had && space_member_stay(m, c->media.had) == 0)
		store_where(ua, m);
	snprintf(text, sizeof(text),
		 "your terminal refused %s (%d): you stay on %s", ch->name,
		 status, m->behind ? m->behind->name : "your channel");
	ua_tell(c, text);
	ua_tell_host(m->space, "%s cannot follow to %s (%d)", c->user, ch->name,
		     status);
	if ((status == 500 || status == 503) && ra && ra <= 60) {
		c->media.reinvite_out = true; /* none other meanwhile */
		if (!c->media.glare)
			c->media.glare =
			    su_timer_create(su_root_task(ua->root), ra * 1000);
		if (c->media.glare &&
		    su_timer_set_interval(c->media.glare, retry_after,
					  call_ref(c), ra * 1000) == 0)
			return;
		c->media.reinvite_out = false;
		call_unref(c);
	}
}

/* The answer to a re-INVITE that re-pointed a member. */
/* The window follows the answers, as a sender's congestion window does,
 * on their delay: an answer about as fast as the fastest of this run opens
 * it by one (so it doubles each round while all are fast); one much
 * slower than that, or a timeout, halves it, once for the re-INVITEs that
 * were out together.  A peer (or the proxy before it) that falls behind
 * first queues them, which shows in the delay, then loses them in its
 * socket buffer, and a lost one comes again only after T1 (500 ms). */
#define REPOINT_MIN 8
#define MS          ((su_time64_t)1000000)

static void adapt_window(struct sipua *ua, struct call *c, int status)
{
	su_time64_t now = su_monotime(NULL);
	su_time64_t took = now - c->media.repoint_sent;
	su_time64_t base = ua->repoint_base;
	unsigned max = ua->cfg->reinvite_window_max;
	unsigned min = ua->cfg->reinvite_window < REPOINT_MIN
			   ? ua->cfg->reinvite_window
			   : REPOINT_MIN;

	if (max <= ua->cfg->reinvite_window)
		return; /* a fixed window */
	if (status != 408 && (!base || took < base))
		ua->repoint_base = base = took;
	if (status == 408 || took > 4 * base + 20 * MS) {
		if (c->media.repoint_sent < ua->repoint_cut)
			return; /* out before the last cut: counted there */
		ua->repoint_window =
		    ua->repoint_window / 2 > min ? ua->repoint_window / 2 : min;
		ua->repoint_cut = now;
		log_debug("re-INVITE window %u (an answer took %lld ms)",
			  ua->repoint_window, (long long)(took / MS));
	}
	else if (took < 2 * base + 5 * MS && ua->repoint_window < max)
		ua->repoint_window++;
}

void ua_on_repointed(struct sipua *ua, struct call *c, int status,
		     sip_t const *sip)
{
	if (status < 200 || !c->media.reinvite_out)
		return;
	c->media.reinvite_out = false;
	if (ua->repoint_out)
		ua->repoint_out--;
	adapt_window(ua, c, status);
	pump(ua);
	if (status < 300) {
		stats_observe(
		    &tv_stats.repoint,
		    (double)(su_monotime(NULL) - c->media.repoint_sent) / 1e9);
		ua_call_store_sdp(c);
		/* It refreshed the session (RFC 4028 §7.4). */
		ua_call_timer_answered(c, sip);
	}
	if (status == 491) {
		/* RFC 3261 §14.1: the owner of the Call-ID (the UAC of the
		 * INVITE that made the dialog) waits 2.1 to 4 s, the other
		 * 0 to 2 s. */
		unsigned ms = c->dlg.uac ? 2100 + (unsigned)(random() % 1900)
					 : (unsigned)(random() % 2000);

		c->media.reinvite_out = true; /* still ours to send */
		if (!c->media.glare)
			c->media.glare =
			    su_timer_create(su_root_task(ua->root), ms);
		if (c->media.glare &&
		    su_timer_set_interval(c->media.glare, glare_retry,
					  call_ref(c), ms) == 0)
			return;
		c->media.reinvite_out = false;
		call_unref(c);
	}
	if (c->resuming && status != 491) {
		/* The re-INVITE that took a restored dialog up: its 2xx has
		 * set the route set for good (routepin.h). */
		c->resuming = false;
		routepin_drop(c->dlg.call_id);
		if (status < 300) {
			log_info("space-%" PRIu64 " %s resumed", c->space_id,
				 c->user);
			ua_call_take_answer(c, sip);
			if (c->media.again)
				ua_repoint(c);
			return;
		}
		log_info("space-%" PRIu64 " %s did not resume (%d)",
			 c->space_id, c->user, status);
		ua_member_gone(ua, c, "dialog lost in restart", true);
		c->bye = true;
		return;
	}
	if (status == 481 || status == 408) {
		log_info("space-%" PRIu64
			 " %s unreachable (%d): removed call-id %s",
			 c->space_id, c->user, status,
			 c->dlg.call_id ? c->dlg.call_id : "-");
		reinvite_done(c, status);
		ua_member_gone(ua, c, "unreachable", true);
		/* After a 481 there is no dialog at the other end. */
		if (status == 408)
			bye_after_timeout(
			    ua, c,
			    sip && sip->sip_cseq ? sip->sip_cseq->cs_seq : 0);
		c->bye = true;
		return;
	}
	reinvite_done(c, status);
	if (status >= 300 && c->member)
		refused_channel(ua, c, status, sip);
	else if (status < 300)
		su_free(c->home, c->media.had), c->media.had = NULL;
	if (c->media.again)
		ua_repoint(c);
}

/* -- the core's deadlines ---------------------------------------------------
 */

static void promoted(struct step *s, int error)
{
	struct sipua *ua = s->ua;
	struct space *sp = space_find(ua->mgr, s->space_id);
	struct space_member *host = sp ? space_host(sp) : NULL;
	char text[2 * USER_MAX + 64];

	if (error)
		log_err("space-%" PRIu64 " new host %s not stored (%s)",
			s->space_id, s->by, strerror(-error));
	if (!host || !su_strmatch(host->user, s->by))
		return;
	snprintf(text, sizeof(text),
		 "%s holds the remote now: %s did not come back", s->by,
		 s->who);
	ua_tell_all(sp, NULL, text);
	/* Joiners who waited are asked of the new host. */
	for (struct space_member *m = space_members(sp); m; m = m->next)
		if (m->role == SPACE_PENDING)
			ua_ask_host(sp, m);
	ua_room_changed(ua, sp);
}

/* One run of the core's deadlines: the played time due in it is gathered
 * and booked in one statement after it. */
struct deadline_run {
	struct sipua *ua;
	struct step *booking; /* its home holds the entries */
	struct store_booking *books;
	unsigned n_books, size;
};

static void booked(struct step *s, int error)
{
	if (error)
		log_err("played time of %s not stored (%s)", s->text,
			strerror(-error));
}

/* Out of memory while gathering: the core counts @a seconds as booked, so
 * an operator must learn that the store lacks them. */
static void book_lost(struct space *sp, unsigned seconds)
{
	log_err("played time of space-%" PRIu64 " not stored (%u s: out of "
		"memory)",
		space_id(sp), seconds);
}

static void book(struct deadline_run *r, struct space *sp, unsigned seconds,
		 bool old_day)
{
	struct sipua *ua = r->ua;
	struct store_booking *b;
	char day[16];

	if (!r->booking && !(r->booking = ua_step(ua, NULL, NULL, 0, booked))) {
		book_lost(sp, seconds);
		return;
	}
	if (r->n_books == r->size) {
		unsigned n = r->size ? 2 * r->size : 16;

		b = su_realloc(r->booking->home, r->books,
			       (isize_t)(n * sizeof(*b)));
		if (!b) {
			book_lost(sp, seconds);
			return;
		}
		r->books = b;
		r->size = n;
	}
	/* The old day's share is booked just after its midnight. */
	cfg_day_name(old_day ? ua_wall() - 3600 : ua_wall(), day, sizeof(day));
	b = &r->books[r->n_books];
	*b = (struct store_booking){
	    .space_id = space_id(sp),
	    .service = su_strdup(r->booking->home, space_service(sp)->id),
	    .day = su_strdup(r->booking->home, day),
	    .seconds = seconds,
	    .until = space_booked_until(sp),
	};
	if (b->service && b->day)
		r->n_books++;
	else
		book_lost(sp, seconds);
}

/* Store what @a r gathered. */
static void book_all(struct deadline_run *r)
{
	struct step *s = r->booking;

	if (!s)
		return;
	s->text =
	    r->n_books == 1
		? su_sprintf(s->home, "space-%" PRIu64, r->books[0].space_id)
		: su_sprintf(s->home, "%u spaces", r->n_books);
	if (!r->n_books || store_usage_book(r->ua->db, r->books, r->n_books,
					    ua_step_stored, s) < 0)
		ua_step_stored(s, r->n_books ? -ENOTCONN : 0);
}

static void say_left(char *buf, size_t len, unsigned seconds)
{
	if (seconds >= 60 && seconds % 60 == 0)
		snprintf(buf, len, "%u minute%s of playback left today",
			 seconds / 60, seconds == 60 ? "" : "s");
	else
		snprintf(buf, len, "%u second%s of playback left today",
			 seconds, seconds == 1 ? "" : "s");
}

/* The guide's programme on @a sp's channel, now: stored (so an operator's
 * SQL sees it: views service_status and space_info), and the core told when
 * it changes next. */
void ua_programme(struct sipua *ua, struct space *sp)
{
	const struct channel *ch = space_channel(sp);
	int64_t wall = ua_wall(), next;
	const struct programme *p =
	    ua->guide ? guide_now(ua->guide, ch->id, wall) : NULL;
	struct step *s = ua_step(ua, NULL, NULL, space_id(sp), store_logged);

	if (s) {
		snprintf(s->by, sizeof(s->by), "%s", ch->id);
		s->text = su_strdup(s->home, "the programme");
		if (store_space_programme(ua->db, space_id(sp),
					  p ? p->title : NULL, p ? p->start : 0,
					  p ? p->stop : 0, ua_step_stored,
					  s) < 0)
			ua_step_stored(s, -ENOTCONN);
	}
	next = ua->guide ? guide_next_change(ua->guide, ch->id, wall) : 0;
	space_set_programme_change(
	    sp, next > wall ? ua_now() + (next - wall) * 1000 : -1, ua_now());
	ua_schedule(ua);
}

static void on_action(void *arg, const struct space_action *a)
{
	struct deadline_run *r = arg;
	struct sipua *ua = r->ua;
	struct space *sp = a->space;
	uint64_t id = space_id(sp);
	struct call *c;
	struct step *s;
	char text[96];

	switch (a->kind) {
	case SPACE_ACT_EXPIRED:
		log_info("space-%" PRIu64 " join request %u from %s expired",
			 id, a->request, a->user);
		ua_tell_host(sp, "join request %u from %s expired", a->request,
			     a->user);
		ua_room_left(ua, sp, a->user, CONFINFO_FAILED);
		c = a->handle;
		if (c) {
			c->member = NULL;
			ua_refuse_later(ua, c->dlg.nh,
					SIP_480_TEMPORARILY_UNAVAILABLE,
					"the host did not answer in time");
		}
		ua_room_changed(ua, sp);
		break;
	case SPACE_ACT_PROMOTED:
		log_notice("space-%" PRIu64 " %s promoted to host: %s did not "
			   "come back",
			   id, a->member->user, a->lost);
		s = ua_step(ua, NULL, NULL, id, promoted);
		if (!s)
			break;
		snprintf(s->by, sizeof(s->by), "%s", a->member->user);
		snprintf(s->who, sizeof(s->who), "%s", a->lost);
		if (store_space_update(ua->db, id, NULL, s->by, NULL,
				       ua_step_stored, s) < 0)
			ua_step_stored(s, -ENOTCONN);
		break;
	case SPACE_ACT_END:
		if (a->reason == SPACE_END_LIMIT) {
			log_info("space-%" PRIu64 ": %s reached its daily "
				 "limit",
				 id, space_service(sp)->id);
			ua_end_space(ua, sp, "daily limit reached", NULL);
		}
		else {
			log_notice("space-%" PRIu64 " ends: its host %s did "
				   "not come back",
				   id, a->lost);
			ua_end_space(ua, sp, "the host did not come back",
				     NULL);
		}
		break;
	case SPACE_ACT_WARN:
		say_left(text, sizeof(text), a->seconds);
		ua_tell_all(sp, NULL, text);
		break;
	case SPACE_ACT_BOOK:
		book(r, sp, a->seconds, a->old_day);
		break;
	case SPACE_ACT_PROGRAMME:
		ua_programme(ua, sp);
		ua_room_changed(ua, sp);
		break;
	}
}

static void deadline(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	struct sipua *ua = arg;
	struct deadline_run r = {.ua = ua};

	ua->deadline_at = -1;
	space_mgr_run(ua->mgr, ua_now(), on_action, &r);
	book_all(&r);
	ua_schedule(ua);
}

/* The loop wakes for the core's deadlines on a grid of this many ms,
 * for all that are due by then: a timer costs sofia-sip's loop up to a
 * millisecond of waiting with a timeout of 0 (it counts whole ms), and
 * ten thousand spaces' deadlines each at its own millisecond kept it
 * spinning. */
#define DEADLINE_GRID_MS 10

void ua_schedule(struct sipua *ua)
{
	int64_t at = space_mgr_next_deadline(ua->mgr), now;

	if (at > 0 && at % DEADLINE_GRID_MS)
		at += DEADLINE_GRID_MS - at % DEADLINE_GRID_MS;
	if (at == ua->deadline_at || !ua->deadline)
		return;
	ua->deadline_at = at;
	if (at < 0) {
		su_timer_reset(ua->deadline);
		return;
	}
	now = ua_now();
	su_timer_set_interval(ua->deadline, deadline, ua,
			      at > now ? (su_duration_t)(at - now) : 0);
}

/* Local midnight: the old day's share is booked, the new day begins. */
static void midnight(su_root_magic_t *magic, su_timer_t *t, void *arg);

static void arm_midnight(struct sipua *ua)
{
	int64_t wall = ua_wall();
	/* Two hours into tomorrow is in tomorrow whether today has 23, 24
	 * or 25 hours (daylight saving time). */
	int64_t next = cfg_day_start(cfg_day_start(wall) + 86400 + 7200);

	su_timer_set_interval(ua->midnight, midnight, ua,
			      (su_duration_t)((next - wall) * 1000 + 500));
}

static void midnight(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	struct sipua *ua = arg;
	int64_t day = cfg_day_start(ua_wall());

	if (day != ua->day_start) {
		struct deadline_run r = {.ua = ua};

		log_info("a new day: played time starts from zero");
		ua->day_start = day;
		space_mgr_new_day(ua->mgr, ua_now(), on_action, &r);
		book_all(&r);
		ua_schedule(ua);
	}
	arm_midnight(ua);
}

/* What waits unread in the SIP stack's UDP sockets, in one walk of them:
 * the bytes the kernel holds, and how long the oldest request has waited.
 *
 * The bytes: requests arriving faster than the stack reads them wait
 * there; past a point the stack's own work grows with them (sofia-sip
 * keeps the transactions waiting for an ACK in one sorted list, inserted
 * into by walking it), so a backlog is refused early, before it snowballs.
 *
 * The wait, ms: the kernel stamped each datagram as it came
 * (SO_TIMESTAMPNS, set on them by sipua.c), and the head of each queue is
 * peeked at, not read, so the stack still reads it in turn.  This is the
 * time a new request spends before the stack sees it, which the bytes
 * waiting only hint at (how many datagrams they hold, and how fast they
 * are read, vary). */
static void sip_unread(struct sipua *ua)
{
	struct timespec now;
	unsigned total = 0;
	double worst = 0;

	clock_gettime(CLOCK_REALTIME, &now);
	for (unsigned i = 0; i < ua->n_sip_fds; i++) {
		uint32_t mem[SK_MEMINFO_VARS];
		socklen_t len = sizeof(mem);
		char byte, control[CMSG_SPACE(sizeof(struct timespec))];
		struct iovec iov = {.iov_base = &byte, .iov_len = 1};
		struct msghdr msg = {
		    .msg_iov = &iov,
		    .msg_iovlen = 1,
		    .msg_control = control,
		    .msg_controllen = sizeof(control),
		};
		struct cmsghdr *c;

		if (getsockopt(ua->sip_fds[i], SOL_SOCKET, SO_MEMINFO, mem,
			       &len) == 0 &&
		    len > SK_MEMINFO_RMEM_ALLOC * sizeof(mem[0]))
			total += mem[SK_MEMINFO_RMEM_ALLOC];
		if (recvmsg(ua->sip_fds[i], &msg, MSG_PEEK | MSG_DONTWAIT) < 0)
			continue;
		for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			struct timespec at;
			double ms;

			if (c->cmsg_level != SOL_SOCKET ||
			    c->cmsg_type != SCM_TIMESTAMPNS)
				continue;
			memcpy(&at, CMSG_DATA(c), sizeof(at));
			ms = (double)(now.tv_sec - at.tv_sec) * 1000.0 +
			     (double)(now.tv_nsec - at.tv_nsec) / 1e6;
			if (ms > worst)
				worst = ms;
		}
	}
	ua->sip_backlog = total;
	ua->sip_wait_ms = worst;
}

/* Half the buffer waiting: even our 503 costs too much (a transaction held
 * for its ACK, in the stack's sorted list).  nta then answers a new INVITE
 * 503 itself, statelessly, while another INVITE is still unanswered
 * (NTATAG_MAX_PROCEEDING 1; 0 lifts it), as a proxy's stateless reply
 * would.  That 503 has no Retry-After or Warning. */
static void shed_in_stack(struct sipua *ua)
{
	bool severe =
	    ua->sip_backlog_max && ua->sip_backlog > 4 * ua->sip_backlog_max;

	if (severe == ua->shed_in_stack || !ua->nua)
		return;
	ua->shed_in_stack = severe;
	nua_set_params(ua->nua, NTATAG_MAX_PROCEEDING(severe ? 1 : 0),
		       TAG_END());
	log_warn(severe ? "overload: the SIP stack refuses new INVITEs itself "
			  "(%u KB of SIP unread)"
			: "overload: the SIP stack no longer refuses new "
			  "INVITEs itself (%u KB of SIP unread)",
		 ua->sip_backlog / 1024);
}

/* The queue delay that steers the admission rate, ms: the worst of the
 * loop's lag, the database queue's oldest job, and the oldest SIP request
 * waiting unread. */
static double queue_delay(const struct sipua *ua)
{
	double delay = (double)ua->loop_lag;
	double db_ms = db_oldest_age(ua->db) * 1000.0;

	if (db_ms > delay)
		delay = db_ms;
	if (ua->sip_wait_ms > delay)
		delay = ua->sip_wait_ms;
	return delay < 1e6 ? delay : 1e6;
}

/* The admission's gauge (admit.h), read as each new dialog asks: how long
 * a statement queued now would wait for the database, ms. */
static unsigned db_wait_ms(void *arg)
{
	const struct sipua *ua = arg;
	double ms = db_expected_wait(ua->db) * 1000.0;

	return ms < 1e6 ? (unsigned)ms : 1000000;
}

static void steer_admission(struct sipua *ua, int64_t now)
{
	unsigned was = admit_rate(&ua->admit);
	double delay = queue_delay(ua);

	admit_measure(&ua->admit, now, (unsigned)delay);
	if (was && !admit_rate(&ua->admit))
		log_notice("admission: no longer limited (%.0f ms of queue "
			   "delay)",
			   delay);
	else if (!was && admit_rate(&ua->admit))
		log_notice("admission: new dialogs limited to %u a second "
			   "(%.0f ms of queue delay)",
			   admit_rate(&ua->admit), delay);
}

/* The loop's pulse: how late a 100 ms timer fires is how long events wait
 * for the loop (DESIGN.md "Overload is refused early and cheaply"). */
static void pulse(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	struct sipua *ua = arg;
	int64_t now = ua_now();
	bool was = ua->overloaded;

	ua->loop_lag = ua->pulse_due ? now - ua->pulse_due : 0;
	ua->pulse_due = now + 100;
	sip_unread(ua);
	ua->overloaded =
	    ua->loop_lag > (int64_t)ua->cfg->max_loop_lag ||
	    db_overloaded(ua->db) ||
	    (ua->sip_backlog_max && ua->sip_backlog > ua->sip_backlog_max);
	shed_in_stack(ua);
	steer_admission(ua, now);
	if (ua->overloaded != was)
		log_warn(
		    ua->overloaded
			? "overload: new dialogs are refused (loop %" PRId64
			  " ms late, %u database jobs waiting, %u KB of "
			  "SIP unread)"
			: "overload over (loop %" PRId64
			  " ms late, %u database jobs waiting, %u KB of "
			  "SIP unread)",
		    ua->loop_lag, db_queue_len(ua->db), ua->sip_backlog / 1024);
}

int ua_act_init(struct sipua *ua)
{
	_su_task_r task = su_root_task(ua->root);

	ua->repoint_window = ua->cfg->reinvite_window;
	ua->deadline_at = -1;
	ua->deadline = su_timer_create(task, 1000);
	ua->midnight = su_timer_create(task, 1000);
	ua->pulse = su_timer_create(task, 100);
	if (!ua->deadline || !ua->midnight || !ua->pulse ||
	    su_timer_set_for_ever(ua->pulse, pulse, ua) < 0)
		return -ENOMEM;
	ua->day_start = cfg_day_start(ua_wall());
	arm_midnight(ua);
	admit_init(&ua->admit, ua->cfg->queue_delay_target, ua_now());
	admit_gauge(&ua->admit, db_wait_ms, ua);
	return 0;
}

void ua_act_stop(struct sipua *ua)
{
	struct call *c;

	if (ua->deadline)
		su_timer_destroy(ua->deadline);
	if (ua->midnight)
		su_timer_destroy(ua->midnight);
	if (ua->pulse)
		su_timer_destroy(ua->pulse);
	ua->deadline = ua->midnight = ua->pulse = NULL;
	while ((c = ua->repoint_head)) {
		ua->repoint_head = c->media.queue_next;
		c->media.queued = false;
		call_unref(c);
	}
	ua->repoint_tail = NULL;
}
