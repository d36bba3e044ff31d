/* The room's state for terminals: the conference event package (RFC
 * 4575), a full conference-info document on every change.  Part of the SIP
 * adapter; one su_root thread. */
#define LOG_MODULE "sip"
#include "sip/sipua_int.h"

void ua_sub_unlink(struct call *c)
{
	struct call **pp = &c->ua->subs;

	if (!c->subscribed)
		return;
	while (*pp && *pp != c)
		pp = &(*pp)->sub_next;
	if (*pp)
		*pp = c->sub_next;
	c->sub_next = NULL;
	c->subscribed = false;
}

/* Send @a c's subscriber the space's full state (or its end). */
static void sub_notify(struct call *c, struct space *sp, bool final)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct sipua *ua = c->ua;
	struct confinfo_panel panel = {0};
	char *doc;

	if (sp && space_service(sp))
		panel.played_today = space_mgr_played_today(
		    ua->mgr, space_service(sp)->id, ua_now_s());
	if (sp && space_channel(sp)) {
		const struct programme *p =
		    guide_now(ua->guide, space_channel(sp)->id, ua_now_s());

		if (p) {
			panel.program_title = p->title;
			panel.program_start = p->start;
			panel.program_stop = p->stop;
		}
	}
	c->sub_version++;
	doc = sp && !final ? confinfo_document(home, sp, ua->cfg->domain,
					       c->sub_version, &panel)
			   : confinfo_deleted(home, c->sub_space,
					      ua->cfg->domain, c->sub_version);
	if (doc)
		nua_notify(
		    c->nh, SIPTAG_EVENT_STR("conference"),
		    NUTAG_SUBSTATE(final ? nua_substate_terminated
					 : nua_substate_active),
		    TAG_IF(final, SIPTAG_SUBSCRIPTION_STATE_STR(
				      "terminated;reason=noresource")),
		    SIPTAG_CONTENT_TYPE_STR("application/conference-info+xml"),
		    SIPTAG_PAYLOAD_STR(doc), TAG_END());
	su_home_deinit(home);
}

/* Something of @a sp changed: every subscriber gets the new state.  With
 * @a ended, the last NOTIFY ends their subscriptions. */
void ua_space_changed(struct sipua *ua, struct space *sp, bool ended)
{
	uint64_t id = space_id(sp);
	struct call *c, *next;

	for (c = ua->subs; c; c = next) {
		next = c->sub_next;
		if (c->sub_space != id)
			continue;
		sub_notify(c, sp, ended);
		if (ended)
			ua_sub_unlink(c);
	}
}

void ua_on_subscribe(struct sipua *ua, nua_handle_t *nh, struct call *c,
		     const sip_t *sip)
{
	const sip_event_t *ev = sip->sip_event;
	struct space *sp;
	char user[USER_MAX], src[64];
	const struct space_member *m = NULL;
	bool trusted;

	if (!ev || !su_casematch(ev->o_type, "conference")) {
		ua_refuse(ua, nh, SIP_489_BAD_EVENT,
			  "only the conference event",
			  SIPTAG_ALLOW_EVENTS_STR("conference"), TAG_END());
		return;
	}
	if (c && c->subscribed) {
		/* A refresh or (Expires: 0) the end; nua keeps the timer. */
		sp = space_find(ua->mgr, c->sub_space);
		nua_respond(nh, SIP_200_OK, NUTAG_WITH(ua_request(ua)),
			    TAG_END());
		if (sip->sip_expires && sip->sip_expires->ex_delta == 0) {
			ua_sub_unlink(c);
			return;
		}
		sub_notify(c, sp, !sp);
		return;
	}
	sp = c && c->member ? c->member->space
			    : ua_space_of_uri(ua, sip->sip_request->rq_url);
	if (!sp) {
		ua_refuse(ua, nh, SIP_404_NOT_FOUND, "no such space",
			  TAG_END());
		return;
	}
	ident_source_addr(ua_request(ua), src, sizeof(src));
	trusted = src[0] && cfg_is_trusted_peer(ua->cfg, src);
	/* Inside a member's dialog the dialog says who it is (it was
	 * authenticated when it was made); outside, the request does. */
	if (c && c->member)
		m = c->member;
	else if (ua_ident(ua, sip, user, sizeof(user)) != IDENT_NONE)
		m = space_member_by_user(sp, user);
	/* The room's state is for its members (a pending joiner sees the
	 * room it asked for) and for the operator's trusted peers. */
	if (!m && !trusted) {
		ua_refuse(ua, nh, SIP_403_FORBIDDEN,
			  "not a member of this space", TAG_END());
		return;
	}
	if (!c) {
		c = ua_call_new(ua, nh, m ? m->user : "peer");
		if (!c) {
			ua_refuse(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
				  "out of memory", TAG_END());
			return;
		}
		c->phase = CALL_GONE; /* no session of its own */
		c->space_id = space_id(sp);
	}
	c->subscribed = true;
	c->sub_space = space_id(sp);
	c->sub_next = ua->subs;
	ua->subs = c;
	nua_respond(nh, SIP_200_OK, NUTAG_WITH(ua_request(ua)), TAG_END());
	sub_notify(c, sp, false);
}
