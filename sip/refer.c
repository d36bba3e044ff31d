/* REFER (RFC 3515) and the moves it asks for: the host invites a user into
 * the space (RFC 4579 §5.5, in its dialog or sent to the conference URI),
 * removes one (Refer-To with method=BYE, §5.11), and a guest leaves the
 * space for its own service, keeping its dialog (claims 6-7; also the
 * /leave command).  Part of the SIP adapter; one su_root thread. */
#define LOG_MODULE "sip"
#include "sip/sipua_int.h"

/* The final NOTIFY of a REFER's implicit subscription (RFC 3515 §2.4.5):
 * message/sipfrag with the status line of the outcome. */
static void refer_outcome(nua_handle_t *nh, const sip_event_t *ev, int status,
			  const char *phrase)
{
	char frag[128];

	snprintf(frag, sizeof(frag), "SIP/2.0 %d %s\r\n", status, phrase);
	nua_notify(nh, NUTAG_SUBSTATE(nua_substate_terminated),
		   TAG_IF(ev, SIPTAG_EVENT(ev)),
		   SIPTAG_CONTENT_TYPE_STR("message/sipfrag;version=2.0"),
		   SIPTAG_PAYLOAD_STR(frag), TAG_END());
}

/* How a step that a REFER or a /leave started ends: the REFER's NOTIFY
 * (its handle and event kept in the step), or the answer to /leave. */
static void tell_outcome(struct step *s, int status, const char *phrase)
{
	if (s->event || (s->nh && !s->saved[0])) {
		refer_outcome(s->nh, s->event, status, phrase);
		return;
	}
	ua_step_reply(s, status, phrase,
		      status >= 300 ? "you cannot leave to that service"
				    : NULL);
}

/* -- leaving to one's own service ------------------------------------------ */

/* The re-INVITE to the service's channel is answered (or could not go). */
static void left_reinvited(struct step *s, int error)
{
	int status = (int)s->value;

	tell_outcome(s, status < 300 ? 200 : status,
		     status < 300 ? "OK" : sip_status_phrase(status));
}

static void leave_stored(struct step *s, int error)
{
	struct call *c = s->c;
	struct step *r;

	if (error)
		/* The member has left the core already; a restart would
		 * find the row and re-INVITE it back into the space. */
		log_err("space-%" PRIu64 " %s: leave not stored (%s)",
			c->space_id, c->user, strerror(-error));
	/* RFC 3515 §2.4.5: the NOTIFY reports how the referred action went,
	 * and the action is the re-INVITE to the service's channel.  The
	 * outcome moves to a step of its own that waits for the answer. */
	r = ua_step(s->ua, c, NULL, s->space_id, left_reinvited);
	if (!r) {
		tell_outcome(s, SIP_500_INTERNAL_SERVER_ERROR);
		return;
	}
	r->event = s->event ? sip_event_dup(r->home, s->event) : NULL;
	r->nh = s->nh, s->nh = NULL;
	r->saved[0] = s->saved[0], s->saved[0] = NULL;
	c->after_reinvite = r;
	ua_repoint(c);
}

static void service_read(struct step *l, int error)
{
	struct sipua *ua = l->ua;
	struct call *c = l->c;
	struct space_member *m = c->member;
	const struct catalog *cat = space_mgr_catalog(ua->mgr);
	const struct channel *ch;
	struct space *sp;
	struct step *s;

	if (error) {
		tell_outcome(l, SIP_503_SERVICE_UNAVAILABLE);
		return;
	}
	if (!l->has_svc && l->by[0]) {
		/* svc-ID found no "ID": try the whole name. */
		s = ua_step(ua, c, NULL, c->space_id, service_read);
		if (s) {
			s->event =
			    l->event ? sip_event_dup(s->home, l->event) : NULL;
			s->nh = l->nh, l->nh = NULL;
			s->saved[0] = l->saved[0], l->saved[0] = NULL;
			ua_lookup(s, c->user, l->by, false);
			return;
		}
	}
	if (!m || m->role == SPACE_PENDING || call_gone(c)) {
		tell_outcome(l, SIP_481_NO_TRANSACTION);
		return;
	}
	if (!l->has_svc || !su_strmatch(l->svc.user, c->user)) {
		tell_outcome(l, SIP_403_FORBIDDEN);
		return;
	}
	ch = l->svc.default_channel
		 ? catalog_channel(cat, l->svc.default_channel)
		 : NULL;
	if (!ch || ch->media != space_channel(m->space)->media) {
		tell_outcome(l, SIP_488_NOT_ACCEPTABLE);
		return;
	}
	if (m->role == SPACE_HOST) {
		tell_outcome(l, SIP_403_FORBIDDEN);
		return;
	}
	s = ua_step(ua, c, NULL, c->space_id, leave_stored);
	c->personal = catalog_channel_copy(c->home, ch);
	if (!s || !c->personal) {
		ua_step_free(s);
		tell_outcome(l, SIP_500_INTERNAL_SERVER_ERROR);
		return;
	}
	/* The outcome's handle and request go with the next step. */
	s->event = l->event ? sip_event_dup(s->home, l->event) : NULL;
	s->nh = l->nh, l->nh = NULL;
	s->saved[0] = l->saved[0], l->saved[0] = NULL;
	log_info("space-%" PRIu64 " %s leaves to its service %s (%s)",
		 c->space_id, c->user, l->svc.id, ch->id);
	sp = m->space;
	c->delivery = m->delivery;
	c->pt = m->pt;
	ua_call_unlink(c);
	space_member_remove(m, ua_now());
	ua_room_departed(ua, sp, c->user);
	ua_room_changed(ua, sp);
	if (store_member_leave(ua->db, c->space_id, c->user,
			       "left to own service", ua_step_stored, s) < 0)
		ua_step_stored(s, -ENOTCONN);
}

/* A guest goes back to its own service: out of the space, its dialog kept
 * and re-pointed to the service's default channel (claims 6-7).  With a
 * REFER (@a refer) the outcome goes in its NOTIFY (@a ev its event); with
 * /leave, in the answer to the command.  A service URI names service
 * SERVICEID as svc-SERVICEID; ids that begin with "svc-" themselves are
 * found either way. */
void ua_leave_to_service(struct sipua *ua, nua_handle_t *nh, struct call *c,
			 const char *service_id, const sip_event_t *ev,
			 bool refer)
{
	struct step *l;

	if (refer) {
		/* REFER: 202 now, the NOTIFY tells the outcome. */
		l = ua_step(ua, c, NULL, c->space_id, service_read);
		if (l) {
			l->nh = nua_handle_ref(nh);
			l->event = ev ? sip_event_dup(l->home, ev) : NULL;
			if (strncmp(service_id, "svc-", 4) == 0) {
				snprintf(l->by, sizeof(l->by), "%s",
					 service_id);
				service_id += 4;
			}
		}
	}
	else {
		l = ua_step(ua, c, nh, c->space_id, service_read);
	}
	if (!l) {
		ua_reply(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
			 "out of memory");
		return;
	}
	if (!c->member || c->member->role != SPACE_GUEST) {
		tell_outcome(l, SIP_403_FORBIDDEN);
		ua_step_free(l);
		return;
	}
	ua_lookup(l, c->user, service_id, false);
}

/* -- inviting a user (RFC 4579 §5.5) --------------------------------------- */

static void invited_stored(struct step *s, int error)
{
	struct sipua *ua = s->ua;
	struct call *g = s->c;
	struct space_member *m = g->member;

	g->committing--;
	if (!m || call_gone(g) || error) {
		if (error)
			log_err("space-%" PRIu64 " %s: invitation not stored "
				"(%s)",
				g->space_id, g->user, strerror(-error));
		if (m) {
			ua_call_unlink(g);
			space_member_remove(m, ua_now());
		}
		if (!call_gone(g)) {
			g->bye = true;
			nua_bye(g->dlg.nh,
				TAG_IF(error, SIPTAG_REASON_STR(
						  "SIP;cause=503;text=\""
						  "database unavailable\"")),
				TAG_END());
		}
		return;
	}
	ua_room_changed(ua, m->space);
	tv_stats.joins++;
	ua_send_history(g);
}

/* The answer of a user the host invited by REFER. */
void ua_on_invited(struct sipua *ua, struct call *g, int status,
		   const sip_t *sip)
{
	struct space_member *m = g->member;
	struct store_member sm;
	struct step *s;

	if (status < 200)
		return;
	g->invited = false;
	if (!m || status >= 300 || !sip) {
		if (status < 300) {
			/* The space ended while the user was ringing. */
			g->bye = true;
			nua_bye(g->dlg.nh, TAG_END());
		}
		log_info("space-%" PRIu64 " invitation of %s ended (%d)",
			 g->space_id, g->user, status);
		if (m) {
			struct space *sp = m->space;

			ua_call_unlink(g);
			space_member_remove(m, ua_now());
			ua_room_changed(ua, sp);
		}
		return;
	}
	g->answered = true;
	ua_call_capture_uac(g, sip);
	s = ua_step(ua, g, NULL, g->space_id, invited_stored);
	ua_fill_store_member(g, m, &sm);
	g->committing++;
	if (!s || store_member_add(ua->db, &sm, ua_step_stored, s) < 0) {
		if (s)
			ua_step_stored(s, -ENOTCONN);
		else
			g->committing--;
	}
}

static void invitee_read(struct step *l, int error)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct sipua *ua = l->ua;
	struct space *sp = space_find(ua->mgr, l->space_id);
	struct space_member *m = NULL;
	enum space_verdict v;
	url_t *target;
	nua_handle_t *gh = NULL;
	struct call *g = NULL;
	char *sdp;

	if (error || !sp) {
		refer_outcome(l->nh, l->event, error ? 503 : 404,
			      error ? "Service Unavailable" : "Not Found");
		goto out;
	}
	v = space_invite(sp, l->by, l->who, l->has_svc ? &l->svc : NULL,
			 ua_now(), &m);
	if (v != SPACE_OK) {
		struct verdict_map r = ua_verdict_status(v);

		log_info("space-%" PRIu64 " invitation of %s refused: %s",
			 l->space_id, l->who, space_verdict_str(v));
		refer_outcome(l->nh, l->event, r.status, r.phrase);
		goto out;
	}
	target = url_make(home, l->text);
	if (target)
		target->url_params = NULL;
	gh = target ? nua_handle(ua->nua, NULL, NUTAG_URL(target),
				 SIPTAG_TO_STR(url_as_string(home, target)),
				 SIPTAG_FROM_STR(su_sprintf(
				     home, "<sip:space-%" PRIu64 "@%s>",
				     l->space_id, ua->hostport)),
				 TAG_END())
		    : NULL;
	g = gh ? ua_call_new(ua, gh, l->who) : NULL;
	if (!g) {
		if (gh)
			nua_handle_destroy(gh);
		space_member_remove(m, ua_now());
		refer_outcome(l->nh, l->event, SIP_500_INTERNAL_SERVER_ERROR);
		goto out;
	}
	g->space_id = l->space_id;
	g->member = m;
	m->handle = g;
	g->invited = true;
	g->media.offer.media = su_strdup(
	    g->home,
	    space_channel(sp)->media == CHANNEL_AUDIO ? "audio" : "video");
	sdp = ua_call_sdp(home, g, space_channel(sp));
	log_info("space-%" PRIu64 " %s invites %s", l->space_id, l->by, l->who);
	/* nua reports the INVITE's progress to the referrer in the REFER's
	 * NOTIFYs. */
	nua_invite(gh, SIPTAG_CONTACT_STR(ua_contact_of(home, ua, g->space_id)),
		   UA_RECV_INFO, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		   SIPTAG_PAYLOAD_STR(sdp), NUTAG_NOTIFY_REFER(l->nh),
		   TAG_IF(l->event, NUTAG_REFER_EVENT(l->event)), TAG_END());
	ua_room_changed(ua, sp);
out:
	su_home_deinit(home);
}

/* The host asks us to INVITE @a user (Refer-To @a to) into its space. */
static void invite_into_space(struct sipua *ua, nua_handle_t *nh,
			      uint64_t space, const char *host, const url_t *to,
			      const char *user, const sip_event_t *ev)
{
	struct step *l = ua_step(ua, NULL, NULL, space, invitee_read);

	if (!l) {
		ua_refuse(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
			  "out of memory", TAG_END());
		return;
	}
	/* Outside a dialog the 202 makes one (the REFER's subscription):
	 * the focus names itself in it, as in its other dialogs (RFC 4579
	 * §4.2). */
	nua_respond(nh, SIP_202_ACCEPTED, NUTAG_WITH(ua_request(ua)),
		    SIPTAG_CONTACT_STR(ua_contact_of(l->home, ua, space)),
		    TAG_END());
	l->nh = nua_handle_ref(nh);
	l->event = ev ? sip_event_dup(l->home, ev) : NULL;
	snprintf(l->by, sizeof(l->by), "%s", host);
	/* The invitee's service decides what it may watch. */
	l->text = url_as_string(l->home, to);
	ua_lookup(l, user, NULL, false);
}

void ua_on_refer(struct sipua *ua, nua_handle_t *nh, struct call *c,
		 const sip_t *sip, tagi_t const *tags)
{
	sip_event_t const *ev = NULL;
	const url_t *to;
	char user[USER_MAX], method[16], who[USER_MAX];
	struct space_member *self = NULL, *m;
	struct space *sp;
	const char *svc;

	tl_gets(tags, NUTAG_REFER_EVENT_REF(ev), TAG_END());
	if (c && c->member && c->member->role != SPACE_PENDING) {
		self = c->member;
	}
	else if (!c && (sp = ua_space_of_uri(ua, sip->sip_request->rq_url)) &&
		 ua_ident(ua, sip, who, sizeof(who)) != IDENT_NONE) {
		/* RFC 4579 §5.5: outside a dialog, to the conference URI. */
		self = space_member_by_user(sp, who);
	}
	if (!self || self->role == SPACE_PENDING) {
		ua_refuse(ua, nh, SIP_403_FORBIDDEN,
			  "not a member of this space", TAG_END());
		return;
	}
	sp = self->space;
	if (!sip->sip_refer_to ||
	    ident_url_user(sip->sip_refer_to->r_url, user, sizeof(user)) < 0) {
		ua_refuse(ua, nh, SIP_400_BAD_REQUEST,
			  "Refer-To must name a user or a service", TAG_END());
		return;
	}
	to = sip->sip_refer_to->r_url;
	method[0] = '\0';
	if (to->url_params)
		url_param(to->url_params, "method", method, sizeof(method));

	/* The service URI: sip:svc-SERVICEID@DOMAIN, in a guest's dialog. */
	svc = strncmp(user, "svc-", 4) == 0 ? user + 4 : NULL;
	if (svc && !method[0] && c) {
		nua_respond(nh, SIP_202_ACCEPTED, NUTAG_WITH(ua_request(ua)),
			    TAG_END());
		ua_leave_to_service(ua, nh, c, user, ev, true);
		return;
	}
	if (self->role != SPACE_HOST) {
		ua_refuse(ua, nh, SIP_403_FORBIDDEN,
			  "only the host can do that", TAG_END());
		return;
	}
	if (su_casematch(method, "BYE")) {
		enum space_verdict v = space_kick(sp, self->user, user, &m);

		if (v != SPACE_OK) {
			ua_refuse(ua, nh, SIP_404_NOT_FOUND, "no such member",
				  TAG_END());
			return;
		}
		nua_respond(nh, SIP_202_ACCEPTED, NUTAG_WITH(ua_request(ua)),
			    TAG_END());
		ua_remove_member(ua, m, self->user, "host");
		refer_outcome(nh, ev, SIP_200_OK);
		return;
	}
	if (method[0] && !su_casematch(method, "INVITE")) {
		ua_refuse(ua, nh, SIP_400_BAD_REQUEST,
			  "Refer-To method must be INVITE or BYE", TAG_END());
		return;
	}
	invite_into_space(ua, nh, space_id(sp), self->user, to, user, ev);
}
