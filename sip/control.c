/* Master control (S206-S207, claims 2-3): the commands members type in
 * MESSAGE or INFO (and remote-control keys), and REFER: inviting a user,
 * removing one, a guest leaving to its own service (claims 6-7).  Part of
 * the SIP adapter; one su_root thread. */
#define LOG_MODULE "sip"
#include "sip/sipua_int.h"

static void on_personal_command(struct sipua *ua, nua_handle_t *nh,
				struct call *c, const struct cmd *cmd);

/* A command whose 200 waits for the store: the request is saved so the
 * answer can be sent from the completion (nua_save_event). */

struct deferred *ua_defer(struct sipua *ua, nua_handle_t *nh, uint64_t space_id,
			  const char *by)
{
	struct deferred *d = su_zalloc(ua->home, sizeof(*d));

	if (!d)
		return NULL;
	if (nh && ua_save_event(ua, d->saved) < 1) {
		su_free(ua->home, d);
		return NULL;
	}
	d->ua = ua;
	d->nh = nh ? nua_handle_ref(nh) : NULL;
	d->space_id = space_id;
	snprintf(d->by, sizeof(d->by), "%s", by);
	return d;
}

void ua_deferred_reply(struct deferred *d, int status, const char *phrase,
		       const char *why)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct sipua *ua = d->ua;

	if (!d->nh)
		goto out; /* a remote control's key: nothing to answer */
	nua_respond(d->nh, status, phrase, NUTAG_WITH_SAVED(d->saved),
		    TAG_IF(why, SIPTAG_WARNING_STR(
				    why ? ua_warning(home, ua, why) : NULL)),
		    TAG_IF(status == 503, SIPTAG_RETRY_AFTER_STR(RETRY_AFTER)),
		    TAG_END());
	nua_destroy_event(d->saved);
	nua_handle_unref(d->nh);
out:
	su_free(ua->home, d);
	su_home_deinit(home);
}

static void switch_stored(void *arg, int error)
{
	struct deferred *d = arg;
	struct sipua *ua = d->ua;
	struct space *sp = space_find(ua->mgr, d->space_id);

	if (error) {
		log_err("space-%" PRIu64 " switch not stored (%s)", d->space_id,
			strerror(-error));
		if (sp && d->old)
			space_set_channel(sp, d->old);
		ua_deferred_reply(d, SIP_503_SERVICE_UNAVAILABLE,
				  "database unavailable, try again");
		return;
	}
	if (sp) {
		log_info("space-%" PRIu64 " switched to %s by %s", d->space_id,
			 space_channel(sp)->id, d->by);
		tv_stats.switches++;
	}
	/* The host's 200 first, then the re-INVITEs: the answer says the
	 * switch is committed, the re-INVITEs carry it out. */
	ua_deferred_reply(d, SIP_200_OK, NULL);
	if (sp) {
		ua_repoint_all(sp);
		ua_space_changed(ua, sp, false);
	}
}

static void handover_stored(void *arg, int error)
{
	struct deferred *d = arg;
	struct sipua *ua = d->ua;
	struct space *sp = space_find(ua->mgr, d->space_id);
	char text[300];

	if (error) {
		if (sp)
			space_handover(sp, d->to, d->by);
		ua_deferred_reply(d, SIP_503_SERVICE_UNAVAILABLE,
				  "database unavailable, try again");
		return;
	}
	log_info("space-%" PRIu64 " remote handed from %s to %s", d->space_id,
		 d->by, d->to);
	snprintf(text, sizeof(text), "%s holds the remote now", d->to);
	ua_deferred_reply(d, SIP_200_OK, NULL); /* frees d */
	if (sp) {
		ua_tell_all(sp, NULL, text);
		ua_space_changed(ua, sp, false);
	}
}

static void cmd_allow(struct sipua *ua, nua_handle_t *nh, struct space *sp,
		      unsigned n)
{
	struct space_member *m = NULL;
	enum space_verdict v = space_admit(sp, n, ua_now_s(), &m);
	struct call *g = m ? m->handle : NULL;

	if (v == SPACE_FULL && g) {
		ua_reply_verdict(ua, nh, v, NULL);
		ua_refuse_later(ua, g->nh, SIP_486_BUSY_HERE, "space full");
		g->phase = CALL_GONE;
		ua_call_unlink(g);
		space_member_remove(m);
		return;
	}
	if (v != SPACE_OK || !g) {
		ua_reply_verdict(
		    ua, nh, v,
		    v == SPACE_NO_SUCH_REQUEST ? "no such join request" : NULL);
		return;
	}
	ua_reply(ua, nh, SIP_200_OK, NULL);
	log_info("space-%" PRIu64 " request %u allowed: %s", space_id(sp), n,
		 g->user);
	ua_admit(ua, g);
}

static void cmd_deny(struct sipua *ua, nua_handle_t *nh, struct space *sp,
		     unsigned n)
{
	struct space_member *m = NULL;
	enum space_verdict v = space_pending(sp, n, &m);
	struct call *g = m ? m->handle : NULL;

	if (v != SPACE_OK) {
		ua_reply_verdict(ua, nh, v, "no such join request");
		return;
	}
	ua_reply(ua, nh, SIP_200_OK, NULL);
	log_info("space-%" PRIu64 " request %u denied: %s", space_id(sp), n,
		 m->user);
	if (g) {
		ua_refuse_later(ua, g->nh, SIP_603_DECLINE,
				"the host declined the request");
		g->phase = CALL_GONE;
		ua_call_unlink(g);
	}
	space_member_remove(m);
	ua_space_changed(ua, sp, false);
}

static void cmd_switch(struct sipua *ua, nua_handle_t *nh, struct call *c,
		       const char *channel)
{
	struct space *sp = c->member->space;
	const struct channel *old = NULL;
	enum space_verdict v = space_switch(sp, c->user, channel, &old);
	struct deferred *d;
	int err;

	if (v == SPACE_NOT_HOST) {
		ua_reply(ua, nh, SIP_403_FORBIDDEN, "only the host can switch");
		return;
	}
	if (v != SPACE_OK) {
		ua_reply_verdict(ua, nh, v, NULL);
		return;
	}
	d = ua_defer(ua, nh, c->space_id, c->user);
	if (!d) {
		space_set_channel(sp, old);
		ua_reply(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
			 "out of memory");
		return;
	}
	d->old = old;
	err = store_space_update(ua->db, c->space_id, space_channel(sp)->id,
				 NULL, NULL, switch_stored, d);
	if (err < 0)
		switch_stored(d, err);
}

/* Take @a m out of its space on the word of @a by ("host", the host's
 * /kick or REFER method=BYE, or "operator"): a pending joiner is declined,
 * a guest gets BYE. */
static void remove_member(struct sipua *ua, struct space_member *m,
			  const char *who, const char *by)
{
	struct space *sp = m->space;
	uint64_t id = space_id(sp);
	struct call *k = m->handle;
	char why[64], reason[96];

	snprintf(why, sizeof(why), "removed by %s", by);
	snprintf(reason, sizeof(reason),
		 "SIP;cause=200;text=\"removed by the %s\"", by);
	log_info("space-%" PRIu64 " %s removed by %s", id, m->user, who);
	if (m->role == SPACE_PENDING) {
		if (k) {
			ua_refuse_later(ua, k->nh, SIP_603_DECLINE,
					strcmp(by, "host") == 0
					    ? "the host declined the request"
					    : "declined by the operator");
			k->phase = CALL_GONE;
			ua_call_unlink(k);
		}
		space_member_remove(m);
		ua_space_changed(ua, sp, false);
		return;
	}
	if (!k) {
		store_member_leave(ua->db, id, m->user, why, NULL, NULL);
		space_member_remove(m);
		ua_space_changed(ua, sp, false);
		return;
	}
	ua_member_left(ua, k, why);
	k->phase = CALL_GONE;
	nua_bye(k->nh, SIPTAG_REASON_STR(reason), TAG_END());
}

int sipua_kick(struct sipua *ua, unsigned long long id, const char *user)
{
	struct space *sp = space_find(ua->mgr, id);
	struct space_member *m = sp ? space_member_by_user(sp, user) : NULL;

	if (!m)
		return -ENOENT;
	if (m->role == SPACE_HOST)
		return -EPERM;
	remove_member(ua, m, "the operator", "operator");
	return 0;
}

static void cmd_kick(struct sipua *ua, nua_handle_t *nh, struct call *c,
		     const char *user)
{
	struct space_member *m = space_member_by_user(c->member->space, user);

	if (!m) {
		ua_reply(ua, nh, SIP_404_NOT_FOUND, "no such member");
		return;
	}
	if (m->role == SPACE_HOST) {
		ua_reply(ua, nh, SIP_403_FORBIDDEN,
			 "the host leaves with BYE or /end");
		return;
	}
	ua_reply(ua, nh, SIP_200_OK, NULL);
	remove_member(ua, m, c->user, "host");
}

/* Store a move of the remote the core has made (handover, grab), then
 * answer @a nh and tell everyone. */
static void store_remote_move(struct sipua *ua, nua_handle_t *nh,
			      struct space *sp, const char *from,
			      const char *to)
{
	struct deferred *d = ua_defer(ua, nh, space_id(sp), from);
	int err;

	if (!d) {
		space_handover(sp, to, from);
		ua_reply(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
			 "out of memory");
		return;
	}
	snprintf(d->to, sizeof(d->to), "%s", to);
	err = store_space_update(ua->db, space_id(sp), NULL, to, from,
				 handover_stored, d);
	if (err < 0)
		handover_stored(d, err);
}

static void cmd_handover(struct sipua *ua, nua_handle_t *nh, struct call *c,
			 const char *to)
{
	struct space *sp = c->member->space;
	enum space_verdict v = space_handover(sp, c->user, to);

	if (v != SPACE_OK) {
		ua_reply_verdict(ua, nh, v, NULL);
		return;
	}
	store_remote_move(ua, nh, sp, c->user, to);
}

static void cmd_grab(struct sipua *ua, nua_handle_t *nh, struct call *c)
{
	struct space *sp = c->member->space;
	struct space_member *host = space_host(sp);
	char from[USER_MAX];
	bool at_once = ua->cfg->grab_policy == CFG_GRAB_FREE;
	unsigned n = 0;
	enum space_verdict v;

	snprintf(from, sizeof(from), "%s", host ? host->user : "");
	v = space_grab(sp, c->user, at_once, &n);
	if (v != SPACE_OK) {
		ua_reply_verdict(ua, nh, v, NULL);
		return;
	}
	if (at_once) {
		store_remote_move(ua, nh, sp, from, c->user);
		return;
	}
	ua_reply(ua, nh, SIP_200_OK, NULL);
	log_info("space-%" PRIu64 " grab request %u from %s", c->space_id, n,
		 c->user);
	ua_tell_host(sp, "grab request %u from %s; reply /allow %u or /deny %u",
		     n, c->user, n, n);
}

/* /allow N or /deny N naming a grab request. */
static void grab_answer(struct sipua *ua, nua_handle_t *nh, struct call *c,
			unsigned n, bool allow)
{
	struct space *sp = c->member->space;
	struct space_member *g = NULL;
	char asker[USER_MAX];

	space_grab_answer(sp, n, allow, &g);
	snprintf(asker, sizeof(asker), "%s", g->user);
	if (allow) {
		store_remote_move(ua, nh, sp, c->user, asker);
		return;
	}
	ua_reply(ua, nh, SIP_200_OK, NULL);
	ua_call_tell(g->handle, "the host keeps the remote");
}

static void on_command(struct sipua *ua, nua_handle_t *nh, struct call *c,
		       const struct cmd *cmd)
{
	struct space_member *m = c->member;
	struct space *sp = m->space;
	bool host = m->role == SPACE_HOST;

	if (ua_on_social(ua, nh, c, cmd))
		return;
	switch (cmd->kind) {
	case CMD_HELP:
		ua_reply(ua, nh, SIP_200_OK, NULL);
		ua_call_tell(c, cmd_list());
		return;
	case CMD_ALLOW:
	case CMD_DENY:
	case CMD_END:
	case CMD_OPEN:
	case CMD_CLOSE:
	case CMD_HANDOVER:
	case CMD_KICK:
		if (!host) {
			ua_reply(ua, nh, SIP_403_FORBIDDEN,
				 "only the host can do that");
			return;
		}
		break;
	default:
		break;
	}
	switch (cmd->kind) {
	case CMD_ALLOW:
	case CMD_DENY:
		if (space_grabber(sp, cmd->number))
			grab_answer(ua, nh, c, cmd->number,
				    cmd->kind == CMD_ALLOW);
		else if (cmd->kind == CMD_ALLOW)
			cmd_allow(ua, nh, sp, cmd->number);
		else
			cmd_deny(ua, nh, sp, cmd->number);
		return;
	case CMD_GRAB:
		cmd_grab(ua, nh, c);
		return;
	case CMD_SWITCH:
		cmd_switch(ua, nh, c, cmd->arg);
		return;
	case CMD_HANDOVER:
		cmd_handover(ua, nh, c, cmd->arg);
		return;
	case CMD_KICK:
		cmd_kick(ua, nh, c, cmd->arg);
		return;
	case CMD_END:
		/* Same as the host's BYE, and the host's dialog ends too. */
		ua_reply(ua, nh, SIP_200_OK, NULL);
		ua_end_space(ua, sp, "space ended by host", NULL);
		return;
	case CMD_OPEN:
	case CMD_CLOSE:
		space_set_open(sp, c->user, cmd->kind == CMD_OPEN);
		ua_space_changed(ua, sp, false);
		store_space_set_open(ua->db, c->space_id, cmd->kind == CMD_OPEN,
				     NULL, NULL);
		ua_reply(ua, nh, SIP_200_OK, NULL);
		return;
	default:
		ua_reply(ua, nh, SIP_501_NOT_IMPLEMENTED,
			 "this command is not available yet");
		return;
	}
}

void ua_on_text(struct sipua *ua, nua_handle_t *nh, struct call *c,
		const sip_t *sip)
{
	const sip_payload_t *pl = sip->sip_payload;
	const sip_content_type_t *ct = sip->sip_content_type;
	struct cmd cmd;
	su_home_t home[1] = {SU_HOME_INIT(home)};

	if (!c && sip->sip_to && sip->sip_to->a_tag) {
		/* RFC 3261 §12.2.2: in a dialog we do not have.  nua
		 * answers a BYE or MESSAGE like this itself; an INFO it
		 * passes on. */
		ua_refuse(ua, nh, SIP_481_NO_TRANSACTION,
			  "no dialog with these tags", TAG_END());
		return;
	}
	if (!c || ((!c->member || c->member->role == SPACE_PENDING) &&
		   c->phase != CALL_PERSONAL)) {
		ua_refuse(ua, nh, SIP_403_FORBIDDEN,
			  "not a member of this space", TAG_END());
		return;
	}
	if (!pl || !pl->pl_len) {
		ua_reply(ua, nh, SIP_400_BAD_REQUEST, "empty body");
		return;
	}
	if (ct && su_casematch(ct->c_type, "application/dtmf-relay")) {
		/* A remote control's keys (INFO, as SIP phones send them):
		 * digits then '#' switch, '*' asks for the remote.  The INFO
		 * that completes a command gets that command's answer. */
		char key;

		if (cmd_dtmf_relay(pl->pl_data, pl->pl_len, &key) < 0)
			ua_reply(
			    ua, nh, SIP_400_BAD_REQUEST,
			    "expected Signal=KEY in application/dtmf-relay");
		else if (!cmd_dtmf_feed(&c->dtmf, key, &cmd))
			ua_reply(ua, nh, SIP_200_OK, NULL);
		else if (c->phase == CALL_PERSONAL)
			on_personal_command(ua, nh, c, &cmd);
		else
			on_command(ua, nh, c, &cmd);
		return;
	}
	if (ct && !su_casematch(ct->c_type, "text/plain")) {
		ua_refuse(
		    ua, nh, SIP_415_UNSUPPORTED_MEDIA,
		    "commands and comments are text/plain",
		    SIPTAG_ACCEPT_STR("text/plain, application/dtmf-relay"),
		    TAG_END());
		return;
	}
	cmd_parse(pl->pl_data, pl->pl_len, &cmd);
	if (cmd.kind == CMD_BAD) {
		ua_reply(ua, nh, SIP_400_BAD_REQUEST,
			 su_sprintf(home, "%s; commands: %s", cmd.error,
				    cmd_list()));
	}
	else if (cmd.kind == CMD_NONE) {
		if (c->phase == CALL_PERSONAL)
			ua_reply(ua, nh, SIP_403_FORBIDDEN,
				 "not in a space: nobody to read comments");
		else
			ua_on_comment(ua, nh, c->member, pl, false);
	}
	else if (c->phase == CALL_PERSONAL) {
		on_personal_command(ua, nh, c, &cmd);
	}
	else {
		on_command(ua, nh, c, &cmd);
	}
	su_home_deinit(home);
}

/* The host's REFER with Refer-To: <sip:USER@...> (RFC 4579 §5.5): we
 * INVITE the user into the space, already admitted; nua reports the
 * outcome to the host in the REFER's NOTIFYs. */
static void invite_into_space(struct sipua *ua, nua_handle_t *nh,
			      struct call *host, const url_t *to,
			      const char *user, const sip_event_t *ev)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct space *sp = host->member->space;
	const struct channel *ch = space_channel(sp);
	struct space_offer o = {
	    .media = ch->media == CHANNEL_AUDIO ? "audio" : "video",
	    .port = ch->port,
	    .addr = ch->group,
	    .multicast = true,
	    .pts = {ch->pt},
	    .n_pts = 1,
	};
	struct space_member *m = NULL, *a = NULL;
	enum space_verdict v = space_join(sp, user, &o, NULL, ua_now_s(), &m);
	url_t *target;
	nua_handle_t *gh;
	struct call *g;
	char *sdp;

	if (v == SPACE_OK && m->role == SPACE_PENDING)
		v = space_admit(sp, m->request, ua_now_s(), &a);
	if (v != SPACE_OK) {
		struct verdict_map r = ua_verdict_status(v);

		if (m && m->role == SPACE_PENDING)
			space_member_remove(m);
		ua_refuse(ua, nh, r.status, r.phrase, space_verdict_str(v),
			  TAG_END());
		goto out;
	}
	target = url_hdup(home, to);
	if (target)
		target->url_params = NULL;
	gh = target ? nua_handle(ua->nua, NULL, NUTAG_URL(target),
				 SIPTAG_TO_STR(url_as_string(home, target)),
				 SIPTAG_FROM_STR(su_sprintf(
				     home, "<sip:space-%" PRIu64 "@%s>",
				     host->space_id, ua->hostport)),
				 TAG_END())
		    : NULL;
	g = gh ? ua_call_new(ua, gh, user) : NULL;
	if (!g) {
		if (gh)
			nua_handle_destroy(gh);
		space_member_remove(m);
		ua_refuse(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
			  "out of memory", TAG_END());
		goto out;
	}
	nua_respond(nh, SIP_202_ACCEPTED, NUTAG_WITH(ua_request(ua)),
		    TAG_END());
	g->space_id = host->space_id;
	g->member = m;
	m->handle = g;
	g->offer.media = su_strdup(g->home, o.media);
	g->phase = CALL_INVITING;
	sdp = ua_call_answer(home, g, ch);
	log_info("space-%" PRIu64 " %s invites %s", g->space_id, host->user,
		 user);
	nua_invite(gh, SIPTAG_CONTACT_STR(ua_contact_of(home, ua, g->space_id)),
		   SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		   SIPTAG_PAYLOAD_STR(sdp), NUTAG_NOTIFY_REFER(nh),
		   TAG_IF(ev, NUTAG_REFER_EVENT(ev)), TAG_END());
out:
	su_home_deinit(home);
}

/* The answer of a user the host invited by REFER. */
void ua_on_invited(struct sipua *ua, struct call *g, int status,
		   const sip_t *sip)
{
	struct space_member *m = g->member;
	struct store_member sm;

	if (status < 200)
		return;
	if (!m) {
		/* The space ended while the user was ringing. */
		if (status < 300)
			nua_bye(g->nh, TAG_END());
		g->phase = CALL_GONE;
		return;
	}
	if (status >= 300 || !sip) {
		log_info("space-%" PRIu64 " invitation of %s failed (%d)",
			 g->space_id, g->user, status);
		ua_call_unlink(g);
		space_member_remove(m);
		g->phase = CALL_GONE;
		return;
	}
	/* Ours is the UAC side here: our tag is in From, theirs in To. */
	g->call_id = su_strdup(g->home, sip->sip_call_id->i_id);
	g->local_tag = su_strdup(g->home, sip->sip_from->a_tag);
	g->remote_tag = su_strdup(g->home, sip->sip_to->a_tag);
	g->local_uri = url_as_string(g->home, sip->sip_from->a_url);
	g->remote_uri = url_as_string(g->home, sip->sip_to->a_url);
	g->remote_target = sip->sip_contact
			       ? url_as_string(g->home, sip->sip_contact->m_url)
			       : su_strdup(g->home, g->remote_uri);
	g->phase = CALL_LIVE;
	ua_fill_store_member(g, m, &sm);
	store_member_add(ua->db, &sm, NULL, NULL);
	ua_space_changed(ua, m->space, false);
}

/* A session that left its space to its own service is under its own
 * control (patent 0086): it switches its own channel. */
static void on_personal_command(struct sipua *ua, nua_handle_t *nh,
				struct call *c, const struct cmd *cmd)
{
	const struct catalog *cat = space_mgr_catalog(ua->mgr);
	const struct channel *ch, *now = ua_call_channel(c);

	if (cmd->kind != CMD_SWITCH) {
		ua_reply(ua, nh, SIP_403_FORBIDDEN,
			 "not in a space; only /switch works here");
		return;
	}
	ch = catalog_channel_lookup(cat, cmd->arg);
	if (!ch) {
		ua_reply(ua, nh, SIP_404_NOT_FOUND, "unknown channel");
		return;
	}
	if (now && now->media != ch->media) {
		ua_reply(ua, nh, SIP_488_NOT_ACCEPTABLE,
			 "offer cannot receive the channel's media");
		return;
	}
	c->personal = su_strdup(c->home, ch->id);
	ua_reply(ua, nh, SIP_200_OK, NULL);
	ua_repoint(c);
}

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

struct leaving {
	struct sipua *ua;
	struct call *c;
	nua_handle_t *nh;
	sip_event_t *ev;
	su_home_t home[1];
};

static void leave_stored(void *arg, int error)
{
	struct leaving *l = arg;
	struct call *c = l->c;

	if (error)
		/* The member has left the core already; a restart would
		 * find the row and re-INVITE it back into the space, so
		 * say so. */
		log_err("space-%" PRIu64 " %s: leave not stored (%s)",
			c->space_id, c->user, strerror(-error));
	/* RFC 3515 §2.4.5: the NOTIFY reports how the referred action went,
	 * and the action is the re-INVITE to the service's channel. */
	c->leaving = l;
	if (c->terminated)
		ua_leaving_done(c, 481);
	else
		ua_repoint(c);
}

/* The re-INVITE of a leaving guest is answered (or could not be sent):
 * the REFER's subscription ends with its outcome. */
void ua_leaving_done(struct call *c, int status)
{
	struct leaving *l = c->leaving;
	char phrase[32];

	if (!l)
		return;
	c->leaving = NULL;
	snprintf(phrase, sizeof(phrase), "%s",
		 status < 300 ? "OK" : sip_status_phrase(status));
	refer_outcome(l->nh, l->ev, status < 300 ? 200 : status,
		      phrase[0] ? phrase : "Failed");
	nua_handle_unref(l->nh);
	su_home_deinit(l->home);
	free(l);
	su_home_unref(c->home);
}

/* A guest goes back to its own service: out of the space, its dialog kept
 * and re-pointed to the service's default channel (claims 6-7). */
static void leave_to_service(struct sipua *ua, nua_handle_t *nh, struct call *c,
			     const char *service_id, const sip_event_t *ev)
{
	const struct catalog *cat = space_mgr_catalog(ua->mgr);
	const struct service *svc = catalog_service(cat, service_id);
	struct space_member *m = c->member;
	struct space *sp = m->space;
	const struct channel *ch;
	struct leaving *l;

	if (!svc || !su_strmatch(svc->user, c->user)) {
		refer_outcome(nh, ev, SIP_403_FORBIDDEN);
		return;
	}
	ch = svc->default_channel ? catalog_channel(cat, svc->default_channel)
				  : NULL;
	if (!ch || ch->media != space_channel(m->space)->media) {
		refer_outcome(nh, ev, SIP_488_NOT_ACCEPTABLE);
		return;
	}
	if (m->role == SPACE_HOST) {
		refer_outcome(nh, ev, SIP_403_FORBIDDEN);
		return;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		refer_outcome(nh, ev, SIP_500_INTERNAL_SERVER_ERROR);
		return;
	}
	su_home_init(l->home);
	l->ua = ua;
	l->c = c;
	l->nh = nua_handle_ref(nh);
	l->ev = ev ? sip_event_dup(l->home, ev) : NULL;
	su_home_ref(c->home);
	log_info("space-%" PRIu64 " %s leaves to its service %s (%s)",
		 c->space_id, c->user, svc->id, ch->id);
	c->delivery = m->delivery;
	c->pt = m->pt;
	ua_call_unlink(c);
	space_member_remove(m);
	c->personal = su_strdup(c->home, ch->id);
	c->phase = CALL_PERSONAL;
	ua_space_changed(ua, sp, false);
	if (store_member_leave(ua->db, c->space_id, c->user,
			       "left to own service", leave_stored, l) < 0)
		leave_stored(l, -ENOTCONN);
}

void ua_on_refer(struct sipua *ua, nua_handle_t *nh, struct call *c,
		 const sip_t *sip, tagi_t const *tags)
{
	sip_event_t const *ev = NULL;
	const url_t *to;
	char user[USER_MAX], method[16];
	const char *svc;

	if (!c || !c->member || c->member->role == SPACE_PENDING) {
		ua_refuse(ua, nh, SIP_403_FORBIDDEN,
			  "not a member of this space", TAG_END());
		return;
	}
	if (!sip->sip_refer_to ||
	    ident_url_user(sip->sip_refer_to->r_url, user, sizeof(user)) < 0) {
		ua_refuse(ua, nh, SIP_400_BAD_REQUEST,
			  "Refer-To must name a user or a service", TAG_END());
		return;
	}
	to = sip->sip_refer_to->r_url;
	tl_gets(tags, NUTAG_REFER_EVENT_REF(ev), TAG_END());
	method[0] = '\0';
	if (to->url_params)
		url_param(to->url_params, "method", method, sizeof(method));

	/* The service URI: sip:svc-SERVICEID@DOMAIN. */
	svc = strncmp(user, "svc-", 4) == 0 ? user + 4 : NULL;
	if (svc && !method[0]) {
		nua_respond(nh, SIP_202_ACCEPTED, NUTAG_WITH(ua_request(ua)),
			    TAG_END());
		/* Service ids that begin with "svc-" themselves are named
		 * with or without the prefix. */
		if (!catalog_service(space_mgr_catalog(ua->mgr), svc))
			svc = user;
		leave_to_service(ua, nh, c, svc, ev);
		return;
	}
	if (c->member->role != SPACE_HOST) {
		ua_refuse(ua, nh, SIP_403_FORBIDDEN,
			  "only the host can do that", TAG_END());
		return;
	}
	if (su_casematch(method, "BYE")) {
		struct space_member *m =
		    space_member_by_user(c->member->space, user);

		if (!m || m->role == SPACE_HOST) {
			ua_refuse(ua, nh, SIP_404_NOT_FOUND, "no such member",
				  TAG_END());
			return;
		}
		nua_respond(nh, SIP_202_ACCEPTED, NUTAG_WITH(ua_request(ua)),
			    TAG_END());
		remove_member(ua, m, c->user, "host");
		refer_outcome(nh, ev, SIP_200_OK);
		return;
	}
	if (method[0] && !su_casematch(method, "INVITE")) {
		ua_refuse(ua, nh, SIP_400_BAD_REQUEST,
			  "Refer-To method must be INVITE or BYE", TAG_END());
		return;
	}
	invite_into_space(ua, nh, c, to, user, ev);
}

void ua_on_key(void *arg, struct media_leg *leg, char key)
{
	struct call *c = arg;
	struct cmd cmd;

	/* RFC 4733 keys on the relay RTP: digits then '#' switch, '*' asks
	 * for the remote, as with INFO; there is no request to answer. */
	if (!cmd_dtmf_feed(&c->dtmf, key, &cmd))
		return;
	log_info("space-%" PRIu64 " %s: key command %s", c->space_id, c->user,
		 cmd.kind == CMD_GRAB ? "/grab" : cmd.arg);
	if (c->phase == CALL_PERSONAL)
		on_personal_command(c->ua, NULL, c, &cmd);
	else if (c->member && c->member->role != SPACE_PENDING)
		on_command(c->ua, NULL, c, &cmd);
}
