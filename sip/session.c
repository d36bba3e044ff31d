/* The life of a space over SIP: start (S201-S203), join (S204-S205),
 * end (claim 5) and guests leaving, re-pointing members when the channel
 * changes, the daily playback limit, and taking dialogs up again after a
 * restart.  Every change is committed by the store before the SIP message
 * that announces it.  Part of the SIP adapter; one su_root thread. */
#define LOG_MODULE "sip"
#include "sip/sipua_int.h"

struct ending {
	struct sipua *ua;
	uint64_t space_id;
	char *reason; /* the Reason header for the guests' BYE */
	unsigned n;
	struct call **calls; /* who gets a BYE once the end is stored */
};

static void ending_stored(void *arg, int error)
{
	struct ending *e = arg;

	if (error)
		/* The members go anyway: a restart finds the space live,
		 * re-INVITEs nobody who answers and ends it then. */
		log_err("space-%" PRIu64 ": end not stored (%s)", e->space_id,
			strerror(-error));
	for (unsigned i = 0; i < e->n; i++) {
		struct call *c = e->calls[i];

		if (!c->terminated)
			nua_bye(c->nh, SIPTAG_REASON_STR(e->reason), TAG_END());
		su_home_unref(c->home); /* held by ua_end_space() */
	}
	su_free(e->ua->home, e->calls);
	su_free(e->ua->home, e->reason);
	su_free(e->ua->home, e);
}

/* End @a sp (claim 5): book the played time, close it in the core at once
 * (nobody joins an ending space), and once stored send BYE with @a text in
 * a Reason header to every member but @a except (who hung up already).
 * Pending joiners get 480. */
void ua_end_space(struct sipua *ua, struct space *sp, const char *text,
		  struct call *except)
{
	struct ending *e = su_zalloc(ua->home, sizeof(*e));
	unsigned cap = 0, played;
	char day[16];
	int64_t now = ua_now_s();
	uint64_t id = space_id(sp);
	const struct service *svc = space_service(sp);
	const char *svc_id = svc ? svc->id : "";
	int err;

	for (struct space_member *m = space_members(sp); m; m = m->next)
		cap++;
	if (e) {
		e->ua = ua;
		e->space_id = id;
		e->reason =
		    su_sprintf(ua->home, "SIP;cause=200;text=\"%s\"", text);
		e->calls = su_zalloc(ua->home, (cap + 1) * sizeof(*e->calls));
	}
	for (struct space_member *m = space_members(sp), *next; m; m = next) {
		struct call *c = m->handle;

		next = m->next;
		ua_call_stop_media(c);
		ua_call_unlink(c);
		if (!c)
			continue;
		if (m->role == SPACE_PENDING) {
			ua_refuse_later(ua, c->nh,
					SIP_480_TEMPORARILY_UNAVAILABLE, text);
			c->phase = CALL_GONE;
		}
		else if (c->phase == CALL_STORING) {
			c->cancelled = true; /* its admission completes as
					      * a refusal */
		}
		else if (c != except && c->phase != CALL_GONE) {
			c->phase = CALL_GONE;
			if (e && e->calls) {
				/* Held until the BYE is sent. */
				su_home_ref(c->home);
				e->calls[e->n++] = c;
			}
			else
				nua_bye(c->nh, TAG_END());
		}
	}
	ua_space_changed(ua, sp, true);
	/* What was booked before is in usage already (space_booked()). */
	played = space_unbooked(sp, now);
	cfg_day_name(now, day, sizeof(day));
	log_info("space-%" PRIu64 " ended: %s, %u s played", id, text,
		 space_played(sp, now));
	space_close(sp);

	err = -ENOMEM;
	if (e && e->calls && e->reason)
		err = store_space_end(ua->db, id, text, svc_id, day, played,
				      ending_stored, e);
	if (err < 0 && e) {
		log_err("space-%" PRIu64 ": cannot store its end (%s)", id,
			strerror(-err));
		ending_stored(e, err);
	}
}

int sipua_end_space(struct sipua *ua, unsigned long long id, const char *text)
{
	struct space *sp = space_find(ua->mgr, id);

	if (!sp)
		return -ENOENT;
	ua_end_space(ua, sp, text, NULL);
	return 0;
}

/* -- when the host is lost ------------------------------------------------ */

static void ask_pending(struct space *sp)
{
	for (struct space_member *m = space_members(sp); m; m = m->next)
		if (m->role == SPACE_PENDING)
			ua_tell_host(sp,
				     "join request %u from %s; reply /allow %u "
				     "or /deny %u",
				     m->request, m->user, m->request,
				     m->request);
}

struct promotion {
	struct sipua *ua;
	uint64_t space_id;
	char user[USER_MAX], lost[USER_MAX];
};

/* The new host is committed: now everyone is told, and joiners who
 * waited are asked of it. */
static void promoted(void *arg, int error)
{
	struct promotion *p = arg;
	struct sipua *ua = p->ua;
	struct space *sp = space_find(ua->mgr, p->space_id);
	struct space_member *host = sp ? space_host(sp) : NULL;
	char text[2 * USER_MAX + 64];

	if (error)
		log_err("space-%" PRIu64 " new host %s not stored (%s)",
			p->space_id, p->user, strerror(-error));
	if (host && su_strmatch(host->user, p->user)) {
		snprintf(text, sizeof(text),
			 "%s holds the remote now: %s did not come back",
			 p->user, p->lost);
		ua_tell_all(sp, NULL, text);
		ask_pending(sp);
		ua_space_changed(ua, sp, false);
	}
	su_free(ua->home, p);
}

void ua_host_grace_over(struct sipua *ua, struct space *sp)
{
	uint64_t id = space_id(sp);
	struct promotion *p = su_zalloc(ua->home, sizeof(*p));
	struct space_member *m;

	if (!p) {
		ua_end_space(ua, sp, "the host did not come back", NULL);
		return;
	}
	snprintf(p->lost, sizeof(p->lost), "%s", space_lost_host(sp));
	if (ua->cfg->host_lost == CFG_HOST_LOST_END ||
	    !(m = space_promote(sp, ua_now_s()))) {
		log_notice("space-%" PRIu64 " ends: its host %s did not come "
			   "back",
			   id, p->lost);
		su_free(ua->home, p);
		ua_end_space(ua, sp, "the host did not come back", NULL);
		return;
	}
	log_notice("space-%" PRIu64 " %s promoted to host: %s did not come "
		   "back",
		   id, m->user, p->lost);
	p->ua = ua;
	p->space_id = id;
	snprintf(p->user, sizeof(p->user), "%s", m->user);
	if (store_space_update(ua->db, id, NULL, m->user, NULL, promoted, p) <
	    0)
		promoted(p, -ENOTCONN);
}

void ua_member_failed(struct sipua *ua, struct call *c, const char *why)
{
	struct space_member *m = c->member;
	struct space *sp;
	uint64_t id;
	char text[256];

	if (!m)
		return;
	if (m->role != SPACE_HOST) {
		ua_member_left(ua, c, why);
		return;
	}
	sp = m->space;
	id = space_id(sp);
	log_notice("space-%" PRIu64 " host %s lost (%s) call-id %s; %u s to "
		   "come back",
		   id, c->user, why, c->call_id ? c->call_id : "-",
		   ua->cfg->host_grace);
	store_member_leave(ua->db, id, c->user, "host lost", NULL, NULL);
	ua_call_stop_media(c);
	ua_call_unlink(c);
	space_lose_host(sp, c->user, ua_now_s());
	snprintf(text, sizeof(text),
		 "the host %s is unreachable; the space waits %u s for them "
		 "to come back",
		 c->user, ua->cfg->host_grace);
	ua_tell_all(sp, NULL, text);
	ua_space_changed(ua, sp, false);
	if (!ua->cfg->host_grace)
		ua_host_grace_over(ua, sp);
}

/* A guest is gone (BYE, kick, failure): stored, and out of the core. */
void ua_member_left(struct sipua *ua, struct call *c, const char *why)
{
	struct space_member *m = c->member;
	struct space *sp;

	if (!m)
		return;
	sp = m->space;
	if (m->role == SPACE_HOST) {
		ua_end_space(ua, sp, "space ended by host", c);
		return;
	}
	log_info("space-%" PRIu64 " %s left: %s call-id %s", c->space_id,
		 c->user, why, c->call_id ? c->call_id : "-");
	if (m->role != SPACE_PENDING)
		store_member_leave(ua->db, c->space_id, c->user, why, NULL,
				   NULL);
	ua_call_stop_media(c);
	ua_call_unlink(c);
	space_member_remove(m);
	ua_space_changed(ua, sp, false);
}

/* Offer @a c the space's current channel in a re-INVITE (RFC 3264 §8). */
void ua_repoint(struct call *c)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	const struct channel *ch = ua_call_channel(c);
	bool sent = c->reinvite_out;
	char *sdp;

	if (!ch || (c->phase != CALL_LIVE && c->phase != CALL_PERSONAL))
		goto out;
	if (c->leg) {
		/* Relay: the same session, another source (PROTOCOL.md): no
		 * new SDP, the leg keeps SSRC and timeline and marks the
		 * first packet of the new channel. */
		if (media_source_start(c->ua->media, ch) == 0 &&
		    media_leg_switch(c->leg, ch->id) == 0)
			ua_leaving_done(c, 200);
		goto out;
	}
	if (c->reinvite_out) {
		/* One offer at a time in a dialog (RFC 3264 §4): send the
		 * newest channel once this one is answered. */
		c->repoint_again = true;
		goto out;
	}
	c->sdp_version++;
	sdp = ua_call_answer(home, c, ch);
	if (!sdp)
		goto out;
	c->reinvite_out = true;
	c->repoint_sent = su_monotime(NULL);
	c->repoint_again = false;
	sent = true;
	nua_invite(c->nh,
		   SIPTAG_CONTACT_STR(ua_contact_of(home, c->ua, c->space_id)),
		   SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		   SIPTAG_PAYLOAD_STR(sdp), TAG_END());
out:
	if (!sent)
		ua_leaving_done(c, 500);
	su_home_deinit(home);
}

/* Every admitted member at once: the re-INVITEs go out together and are
 * answered independently, so one slow terminal delays nobody else. */
/* A member whose service lacks the space's new channel is not re-pointed
 * (PROTOCOL.md "Entitlements"): a relay member gets the slate, a multicast
 * member keeps the stream it has; either is told why. */
static void not_following(struct call *c, const struct channel *ch)
{
	char text[256];

	if (c->leg && media_leg_slate(c->leg) == 0)
		snprintf(text, sizeof(text),
			 "%s is not in your package: you get the slate until "
			 "the space is on a channel of yours",
			 ch->name);
	else
		snprintf(text, sizeof(text),
			 "%s is not in your package: you stay on your channel",
			 ch->name);
	log_info("space-%" PRIu64 " %s cannot follow to %s", c->space_id,
		 c->user, ch->id);
	ua_call_tell(c, text);
}

void ua_repoint_all(struct space *sp)
{
	const struct channel *ch = space_channel(sp);
	char cannot[512] = "";
	size_t off = 0;

	for (struct space_member *m = space_members(sp); m; m = m->next) {
		if (m->role == SPACE_PENDING || !m->handle)
			continue;
		if (ch && !space_member_entitled(m, ch)) {
			not_following(m->handle, ch);
			if (off < sizeof(cannot))
				off += (size_t)snprintf(
				    cannot + off, sizeof(cannot) - off, "%s%s",
				    off ? ", " : "", m->user);
			continue;
		}
		ua_repoint(m->handle);
	}
	if (off)
		ua_tell_host(sp,
			     "cannot follow to %s (not in their package): %s",
			     ch->name, cannot);
}

static void glare_retry(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	struct call *c = arg;

	c->reinvite_out = false;
	ua_repoint(c);
}

/* RFC 3261 §12.2.1.2: a request in a dialog that timed out ends the dialog,
 * and for an INVITE dialog that is a BYE.  This sofia-sip ends the session
 * on the 408 without one, so the BYE goes out on a handle of its own that
 * carries the dialog's identifiers (as a restart takes a dialog up), its
 * CSeq one above the re-INVITE's.  Its answer is not waited for. */
static void bye_after_timeout(struct sipua *ua, struct call *c, uint32_t seq)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	nua_handle_t *nh;

	if (!c->call_id || !c->local_tag || !c->remote_tag || !c->remote_target)
		return;
	nh = nua_handle(
	    ua->nua, NULL, NUTAG_URL(c->remote_target),
	    SIPTAG_CALL_ID_STR(c->call_id),
	    SIPTAG_FROM_STR(
		su_sprintf(home, "<%s>;tag=%s", c->local_uri, c->local_tag)),
	    SIPTAG_TO_STR(
		su_sprintf(home, "<%s>;tag=%s", c->remote_uri, c->remote_tag)),
	    TAG_IF(c->route_set, NUTAG_INITIAL_ROUTE_STR(c->route_set)),
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

/* The answer to a re-INVITE that re-pointed a live member. */
void ua_on_repointed(struct sipua *ua, struct call *c, int status,
		     sip_t const *sip)
{
	if (status < 200)
		return;
	if (status < 300)
		stats_observe(&tv_stats.repoint,
			      (double)(su_monotime(NULL) - c->repoint_sent) /
				  1e9);
	if (status == 491) {
		/* RFC 3261 §14.1: we do not own the Call-ID, so wait a random
		 * 0 to 2 s before trying again. */
		unsigned ms = (unsigned)(random() % 2000);

		if (!c->glare)
			c->glare = su_timer_create(su_root_task(ua->root), ms);
		if (c->glare &&
		    su_timer_set_interval(c->glare, glare_retry, c, ms) == 0)
			return;
	}
	c->reinvite_out = false;
	ua_leaving_done(c, status);
	if (status == 481 || status == 408) {
		log_info("space-%" PRIu64
			 " %s unreachable (%d): removed call-id %s",
			 c->space_id, c->user, status,
			 c->call_id ? c->call_id : "-");
		ua_member_failed(ua, c, "unreachable");
		/* After a 481 there is no dialog at the other end. */
		if (status == 408)
			bye_after_timeout(
			    ua, c,
			    sip && sip->sip_cseq ? sip->sip_cseq->cs_seq : 0);
		c->phase = CALL_GONE;
		return;
	}
	if (status >= 300)
		log_warn("space-%" PRIu64 " %s refused the channel (%d)",
			 c->space_id, c->user, status);
	if (c->repoint_again)
		ua_repoint(c);
}

/* A completion for @a c is done: free it if nua finished with it meanwhile.
 */
static void call_settle(struct call *c)
{
	if (c->terminated && c->phase != CALL_STORING)
		ua_call_free(c);
}

static void start_done(struct call *c, int error, uint64_t id)
{
	struct sipua *ua = c->ua;
	struct space *sp;
	int err;

	if (error) {
		log_err("start by %s not stored (%s)", c->user,
			strerror(-error));
		ua_call_stop_media(c);
		if (!c->cancelled)
			ua_refuse_later(ua, c->nh, SIP_503_SERVICE_UNAVAILABLE,
					"database unavailable, try again");
		return;
	}
	c->space_id = id;
	if (c->cancelled) {
		/* CANCEL won the race: the space never was. */
		store_space_end(ua->db, id, "cancelled", c->plan.service->id,
				"1970-01-01", 0, NULL, NULL);
		return;
	}
	err = space_open(ua->mgr, id, c->user, &c->plan, c->offer.addr,
			 c->offer.port, c, ua_now_s(), &sp);
	if (err < 0) {
		ua_refuse_later(ua, c->nh, SIP_500_INTERNAL_SERVER_ERROR,
				"cannot open the space");
		return;
	}
	c->member = space_host(sp);
	log_info("space-%" PRIu64 " started by %s (service %s)", id, c->user,
		 c->plan.service->id);
	tv_stats.starts++;
	ua_call_accept(c);
}

static void start_stored(void *arg, int error, uint64_t id)
{
	struct call *c = arg;

	c->phase = CALL_GONE; /* ua_call_accept() makes it live */
	start_done(c, error, id);
	call_settle(c);
}

static bool read_offer(struct sipua *ua, nua_handle_t *nh, struct call *c,
		       const sip_t *sip)
{
	const char *why = NULL;

	if (!sip->sip_payload || !sip->sip_payload->pl_len) {
		ua_refuse(ua, nh, SIP_488_NOT_ACCEPTABLE,
			  "an SDP offer is required", TAG_END());
		return false;
	}
	if (sip->sip_content_type &&
	    !su_casematch(sip->sip_content_type->c_type, "application/sdp")) {
		ua_refuse(ua, nh, SIP_415_UNSUPPORTED_MEDIA,
			  "the offer must be application/sdp",
			  SIPTAG_ACCEPT_STR("application/sdp"), TAG_END());
		return false;
	}
	if (sip->sip_payload->pl_len > SDPNEG_MAX_LEN) {
		su_home_t home[1] = {SU_HOME_INIT(home)};

		ua_refuse(ua, nh, SIP_413_REQUEST_TOO_LARGE,
			  su_sprintf(home,
				     "an SDP offer holds at most %u bytes",
				     SDPNEG_MAX_LEN),
			  TAG_END());
		su_home_deinit(home);
		return false;
	}
	if (sdpneg_parse_offer(c->home, sip->sip_payload->pl_data,
			       sip->sip_payload->pl_len, &c->offer, &why) < 0) {
		ua_refuse(ua, nh, SIP_488_NOT_ACCEPTABLE, why, TAG_END());
		return false;
	}
	if (c->offer.port == 0) {
		/* RFC 3264 §6: port 0 refuses the stream; there is no
		 * other stream to offer the space on. */
		ua_refuse(ua, nh, SIP_488_NOT_ACCEPTABLE,
			  "the media stream is refused (port 0)", TAG_END());
		return false;
	}
	if (!c->offer.multicast && !c->offer.want_multicast && !ua->media) {
		ua_refuse(ua, nh, SIP_488_NOT_ACCEPTABLE,
			  "relay delivery is not available; offer a multicast "
			  "address or a=bc_delivery:multicast",
			  TAG_END());
		return false;
	}
	return true;
}

void ua_on_start(struct sipua *ua, nua_handle_t *nh, const char *user,
		 const sip_t *sip)
{
	struct call *c = ua_call_new(ua, nh, user);
	struct store_space row = {0};
	struct store_member host = {0};
	struct space_member m = {0};
	enum space_verdict v;
	const char *svc;
	int err;

	if (!c) {
		ua_refuse(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
			  "out of memory", TAG_END());
		return;
	}
	if (!read_offer(ua, nh, c, sip))
		goto refused;
	ua_call_capture_dialog(c, sip);
	svc = ua_header_value(sip, "P-Service-Default-ID");
	if (!c->offer.bc_service && svc)
		c->offer.bc_service = su_strdup(c->home, svc);

	v = space_plan_start(ua->mgr, user, &c->offer, ua_now_s(), &c->plan);
	if (v != SPACE_OK) {
		struct verdict_map s = ua_verdict_status(v);

		/* At the start an unknown channel is a media problem of the
		 * offer (PROTOCOL.md): 488, not 404. */
		if (v == SPACE_UNKNOWN_CHANNEL)
			s = (struct verdict_map){SIP_488_NOT_ACCEPTABLE};
		log_info("start by %s refused: %s", user, space_verdict_str(v));
		ua_refuse(ua, nh, s.status, s.phrase, space_verdict_str(v),
			  TAG_END());
		goto refused;
	}

	row.host_service = c->plan.service->id;
	row.host_user = user;
	row.channel = c->plan.channel->id;
	row.node = ua->cfg->node_id[0] ? ua->cfg->node_id : NULL;
	row.started = ua_now_s();
	m.user = user;
	m.service = c->plan.service->id;
	m.role = SPACE_HOST;
	m.delivery = c->plan.delivery;
	m.pt = c->plan.pt;
	m.addr = c->offer.addr;
	m.port = c->offer.port;
	m.seq = 1;
	m.since = row.started;
	ua_fill_store_member(c, &m, &host);

	if (c->plan.delivery == SPACE_RELAY &&
	    (err = ua_call_start_relay(c, c->plan.channel, c->offer.addr,
				       c->offer.port, c->plan.pt)) < 0) {
		if (err == -EADDRINUSE)
			ua_refuse(ua, nh, SIP_503_SERVICE_UNAVAILABLE,
				  "no relay port available, try again",
				  SIPTAG_RETRY_AFTER_STR(RETRY_AFTER),
				  TAG_END());
		else
			ua_refuse(ua, nh, SIP_488_NOT_ACCEPTABLE,
				  "this channel cannot be relayed; offer a "
				  "multicast address",
				  TAG_END());
		goto refused;
	}
	c->phase = CALL_STORING;
	err = store_space_start(ua->db, &row, &host, start_stored, c);
	if (err < 0) {
		ua_refuse(ua, nh, SIP_503_SERVICE_UNAVAILABLE,
			  "database unavailable, try again",
			  SIPTAG_RETRY_AFTER_STR(RETRY_AFTER), TAG_END());
		goto refused;
	}
	return;
refused:
	c->phase = CALL_GONE;
}

static void admit_done(struct call *c, int error)
{
	struct sipua *ua = c->ua;
	struct space_member *m = c->member;

	if (c->cancelled || !m) {
		/* The joiner gave up or the space ended meanwhile. */
		if (!error)
			store_member_leave(ua->db, c->space_id, c->user,
					   "cancelled", NULL, NULL);
		if (!m && c->phase == CALL_STORING) {
			ua_refuse_later(ua, c->nh,
					SIP_480_TEMPORARILY_UNAVAILABLE,
					"the space has ended");
			c->phase = CALL_GONE;
		}
		else if (m) {
			ua_call_unlink(c);
			space_member_remove(m);
		}
		ua_call_stop_media(c);
		return;
	}
	if (error) {
		log_err("space-%" PRIu64 " admission of %s not stored (%s)",
			c->space_id, c->user, strerror(-error));
		ua_call_stop_media(c);
		ua_call_unlink(c);
		space_member_remove(m);
		ua_refuse_later(ua, c->nh, SIP_503_SERVICE_UNAVAILABLE,
				"database unavailable, try again");
		c->phase = CALL_GONE;
		return;
	}
	ua_call_accept(c);
	if (c->member && space_member_by_friendship(c->member))
		ua_tell_host(c->member->space,
			     "%s joined without asking: a friend of yours "
			     "(auto_admit = friends)",
			     c->user);
	if (c->host_back && c->member && c->member->role == SPACE_HOST) {
		struct space *sp = c->member->space;
		char text[256];

		snprintf(text, sizeof(text), "%s is back and holds the remote",
			 c->user);
		ua_tell_all(sp, c, text);
		ask_pending(sp);
	}
}

static void admit_stored(void *arg, int error)
{
	struct call *c = arg;

	admit_done(c, error);
	if (c->phase == CALL_STORING)
		c->phase = CALL_GONE;
	call_settle(c);
}

/* Store @a c's admission; the 200 follows the commit. */
void ua_admit(struct sipua *ua, struct call *c)
{
	struct store_member sm;
	struct space_member *m = c->member;
	int err;

	if (m->delivery == SPACE_RELAY &&
	    (err = ua_call_start_relay(c, space_channel(m->space), m->addr,
				       m->port, m->pt)) < 0) {
		if (err == -EADDRINUSE)
			ua_refuse_later(ua, c->nh, SIP_503_SERVICE_UNAVAILABLE,
					"no relay port available, try again");
		else
			ua_refuse_later(ua, c->nh, SIP_488_NOT_ACCEPTABLE,
					"this channel cannot be relayed; offer "
					"a multicast address");
		c->phase = CALL_GONE;
		ua_call_unlink(c);
		space_member_remove(m);
		return;
	}
	ua_fill_store_member(c, c->member, &sm);
	c->phase = CALL_STORING;
	err = store_member_add(ua->db, &sm, admit_stored, c);
	if (err < 0)
		admit_stored(c, err);
}

void ua_on_join(struct sipua *ua, nua_handle_t *nh, const char *user,
		uint64_t id, const sip_t *sip)
{
	struct space *sp = space_find(ua->mgr, id);
	struct space_member *m;
	enum space_verdict v;
	struct call *c;

	if (!sp) {
		ua_refuse(ua, nh, SIP_404_NOT_FOUND, "no such space",
			  TAG_END());
		return;
	}
	c = ua_call_new(ua, nh, user);
	if (!c) {
		ua_refuse(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
			  "out of memory", TAG_END());
		return;
	}
	c->space_id = id;
	if (!read_offer(ua, nh, c, sip)) {
		c->phase = CALL_GONE;
		return;
	}
	ua_call_capture_dialog(c, sip);
	if (space_lost_host(sp) && su_strmatch(space_lost_host(sp), user) &&
	    space_host_back(sp, user, &c->offer, c, ua_now_s(), &m) ==
		SPACE_OK) {
		log_notice("space-%" PRIu64 " %s is back and holds the remote",
			   id, user);
		c->member = m;
		c->host_back = true;
		ua_admit(ua, c);
		return;
	}
	v = space_join(sp, user, &c->offer, c, ua_now_s(), &m);
	if (v != SPACE_OK) {
		struct verdict_map s = ua_verdict_status(v);

		log_info("space-%" PRIu64 " join by %s refused: %s", id, user,
			 space_verdict_str(v));
		ua_refuse(ua, nh, s.status, s.phrase, space_verdict_str(v),
			  TAG_END());
		c->phase = CALL_GONE;
		return;
	}
	c->member = m;
	if (m->role != SPACE_PENDING) {
		ua_admit(ua, c);
		return;
	}
	c->phase = CALL_WAITING;
	nua_respond(nh, SIP_180_RINGING, TAG_END());
	log_info("space-%" PRIu64 " join request %u from %s", id, m->request,
		 user);
	ua_tell_host(sp, "join request %u from %s; reply /allow %u or /deny %u",
		     m->request, user, m->request, m->request);
	ua_space_changed(ua, sp, false);
}

static void restore_space(void *arg, const struct store_space *row,
			  const struct store_member *members, unsigned n)
{
	struct sipua *ua = arg;
	struct space *sp;
	su_home_t home[1] = {SU_HOME_INIT(home)};

	if (space_find(ua->mgr, row->id))
		return; /* ours already: a load after a claim */
	if (space_restore(ua->mgr, row->id, row->host_service, row->channel,
			  row->open, row->started, row->booked_until,
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
		struct call *c;
		nua_handle_t *nh;
		char *sdp;

		if (space_restore_member(sp, sm->user, sm->service, role, d,
					 sm->sdp_pt, sm->sdp_addr, sm->sdp_port,
					 sm->admitted_seq, sm->joined, &m) < 0)
			continue;
		if (!sm->call_id || !sm->local_tag || !sm->remote_tag) {
			/* No dialog to take up (lost before its ACK). */
			log_warn("space-%" PRIu64 " %s: no dialog to resume",
				 row->id, sm->user);
			store_member_leave(ua->db, row->id, sm->user,
					   "dialog lost", NULL, NULL);
			space_member_remove(m);
			continue;
		}
		/* We were the UAS; as UAC of the re-INVITE our tag goes in
		 * From and theirs in To (RFC 3261 §12.2.1.1). */
		nh = nua_handle(
		    ua->nua, NULL, NUTAG_URL(sm->remote_target),
		    SIPTAG_CALL_ID_STR(sm->call_id),
		    SIPTAG_FROM_STR(su_sprintf(home, "<%s>;tag=%s",
					       sm->local_uri, sm->local_tag)),
		    SIPTAG_TO_STR(su_sprintf(home, "<%s>;tag=%s",
					     sm->remote_uri, sm->remote_tag)),
		    TAG_IF(sm->route_set,
			   NUTAG_INITIAL_ROUTE_STR(sm->route_set)),
		    TAG_END());
		c = nh ? ua_call_new(ua, nh, sm->user) : NULL;
		if (!c) {
			if (nh)
				nua_handle_destroy(nh);
			space_member_remove(m);
			continue;
		}
		c->space_id = row->id;
		c->member = m;
		m->handle = c;
		c->offer.media = su_strdup(c->home, sm->sdp_media);
		c->call_id = su_strdup(c->home, sm->call_id);
		c->local_tag = su_strdup(c->home, sm->local_tag);
		c->remote_tag = su_strdup(c->home, sm->remote_tag);
		c->local_uri = su_strdup(c->home, sm->local_uri);
		c->remote_uri = su_strdup(c->home, sm->remote_uri);
		c->remote_target = su_strdup(c->home, sm->remote_target);
		c->route_set = su_strdup(c->home, sm->route_set);
		c->phase = CALL_RESUMING;
		/* A relay member gets a new leg; the re-INVITE tells it our
		 * (new) port. */
		if (d == SPACE_RELAY && space_channel(sp) &&
		    ua_call_start_relay(c, space_channel(sp), sm->sdp_addr,
					sm->sdp_port, sm->sdp_pt) < 0)
			log_warn("space-%" PRIu64 " %s: relay not resumed",
				 row->id, sm->user);
		sdp = space_channel(sp)
			  ? ua_call_answer(home, c, space_channel(sp))
			  : NULL;
		nua_invite(
		    nh, SIPTAG_CONTACT_STR(ua_contact_of(home, ua, row->id)),
		    TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
		    TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)), TAG_END());
	}
	if (!space_host(sp)) {
		/* Its host was lost before the restart: the grace starts
		 * again, and only the host service's user can come back. */
		const struct service *svc = space_service(sp);

		space_lose_host(sp, svc ? svc->user : "", ua_now_s());
		log_notice("space-%" PRIu64 " restored without its host; "
			   "waiting %u s",
			   row->id, ua->cfg->host_grace);
	}
	log_info("space-%" PRIu64 " restored with %u members", row->id,
		 space_count(sp));
	su_home_deinit(home);
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
	ua->restore_done = done;
	ua->restore_arg = arg;
	return store_load_live(ua->db,
			       ua->cfg->node_id[0] ? ua->cfg->node_id : NULL,
			       restore_space, restore_done, ua);
}

/* The answer to our re-INVITE of a restored member. */
void ua_on_resumed(struct sipua *ua, struct call *c, int status)
{
	if (status < 200 || !c)
		return;
	if (status < 300) {
		c->phase = CALL_LIVE;
		log_info("space-%" PRIu64 " %s resumed", c->space_id, c->user);
		return;
	}
	log_info("space-%" PRIu64 " %s did not resume (%d)", c->space_id,
		 c->user, status);
	c->phase = CALL_GONE;
	ua_member_failed(ua, c, "dialog lost in restart");
}

static void book(struct sipua *ua, struct space *sp, int64_t upto)
{
	const struct service *svc = space_service(sp);
	unsigned seconds = space_unbooked(sp, upto);
	char day[16];
	int err;

	if (!seconds || !svc)
		return;
	cfg_day_name(upto - 1, day, sizeof(day));
	err = store_usage_book(ua->db, space_id(sp), svc->id, day, seconds,
			       upto, NULL, NULL);
	if (err < 0)
		log_warn("space-%" PRIu64 ": %u s not booked (%s)",
			 space_id(sp), seconds, strerror(-err));
	space_booked(sp, upto);
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

struct quota_pass {
	struct sipua *ua;
	int64_t now;
	int64_t midnight; /* non-zero: a new day began there */
};

static void quota_space(void *arg, struct space *sp)
{
	struct quota_pass *q = arg;
	struct sipua *ua = q->ua;
	const struct cfg *cfg = ua->cfg;
	const struct service *svc = space_service(sp);
	unsigned left, warn = 0;
	char text[96];

	if (q->midnight) {
		book(ua, sp, q->midnight); /* the old day's share */
		return;
	}
	if (space_unbooked(sp, q->now) >= cfg->book_interval)
		book(ua, sp, q->now);
	if (!svc)
		return;
	left = space_mgr_left_today(ua->mgr, svc->id, q->now);
	if (left == UINT32_MAX)
		return;
	if (left == 0) {
		log_info("space-%" PRIu64 ": %s reached its daily limit",
			 space_id(sp), svc->id);
		ua_end_space(ua, sp, "daily limit reached", NULL);
		return;
	}
	/* Thresholds run high to low: of those crossed, only the lowest
	 * one is worth saying. */
	for (unsigned i = 0; i < cfg->n_quota_warnings; i++)
		if (left <= cfg->quota_warnings[i] && space_warn_once(sp, i))
			warn = cfg->quota_warnings[i];
	if (warn) {
		say_left(text, sizeof(text), warn);
		ua_tell_all(sp, NULL, text);
	}
}

/* Once a second: roll the day over at local midnight, book played time,
 * warn members as the host service's limit nears, end spaces at it. */
void ua_quota_tick(struct sipua *ua, int64_t now)
{
	struct quota_pass q = {.ua = ua, .now = now};
	int64_t midnight = cfg_day_start(now);

	if (midnight != space_mgr_day_start(ua->mgr)) {
		q.midnight = midnight;
		space_mgr_foreach(ua->mgr, quota_space, &q);
		space_mgr_new_day(ua->mgr, midnight);
		q.midnight = 0;
	}
	space_mgr_foreach(ua->mgr, quota_space, &q);
}
