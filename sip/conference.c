/* The room's state for terminals: the conference event package (RFC
 * 4575).  Subscriptions are kept by room (a space's subscribers), found by
 * the space's id; a change marks the room, and the rooms marked are told
 * once per notify_interval, so a burst of joins costs one NOTIFY per
 * subscriber.  Part of the SIP adapter; one su_root thread. */
#define LOG_MODULE "sip"
#include "sip/sipua_int.h"

#include <sofia-sip/sip_extra.h>

struct room {
	struct hash_node node; /* in ua->rooms */
	struct sipua *ua;
	uint64_t space_id;
	struct sub *subs;
	struct room *next_dirty;
	bool dirty;
	/* Departures told to the members by MESSAGE, at most one a second:
	 * a burst of them goes in one ("bob, carol and 3 others left"). */
	char gone[5][USER_MAX];
	unsigned n_gone;
	int64_t told; /* ms, when the last one went */
	su_timer_t *tell;
};

static struct room *room_find(struct sipua *ua, uint64_t id)
{
	hash_value_t hv = hash_u64(id);

	for (struct hash_node *x = hash_bucket(&ua->rooms, hv); x;
	     x = x->next) {
		struct room *r = hash_entry(x, struct room, node);

		if (r->space_id == id)
			return r;
	}
	return NULL;
}

static void room_free(struct sipua *ua, struct room *r)
{
	struct room **pp;

	if (r->tell)
		su_timer_destroy(r->tell);
	for (pp = &ua->dirty_rooms; *pp; pp = &(*pp)->next_dirty)
		if (*pp == r) {
			*pp = r->next_dirty;
			break;
		}
	hash_remove(&ua->rooms, &r->node);
	su_free(ua->home, r);
}

/* The subscription on @a c ends; the call's reference held for it goes. */
void ua_sub_drop(struct call *c)
{
	struct sipua *ua = c->ua;
	struct sub *s = c->sub;
	struct room *r;
	struct sub **pp;

	if (!s)
		return;
	c->sub = NULL;
	r = room_find(ua, s->space_id);
	for (pp = r ? &r->subs : NULL; pp && *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (r && !r->subs && !r->n_gone)
		room_free(ua, r);
	su_free(c->home, s);
	call_unref(c);
}

static struct room *room_get(struct sipua *ua, uint64_t id)
{
	struct room *r = room_find(ua, id);

	if (!r && (r = su_zalloc(ua->home, sizeof(*r)))) {
		r->ua = ua;
		r->space_id = id;
		hash_insert(&ua->rooms, &r->node, hash_u64(id));
	}
	return r;
}

/* Tell the members who left since the last time. */
static void tell_gone(struct sipua *ua, struct room *r, struct space *sp)
{
	char text[6 * USER_MAX + 64];
	size_t off = 0;
	unsigned shown = r->n_gone < 3 ? r->n_gone : 2;

	for (unsigned i = 0; i < shown; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "%s%s",
					i ? ", " : "", r->gone[i]);
	if (r->n_gone > shown)
		snprintf(text + off, sizeof(text) - off, " and %u other%s",
			 r->n_gone - shown, r->n_gone - shown == 1 ? "" : "s");
	off = strlen(text);
	snprintf(text + off, sizeof(text) - off, " left");
	r->n_gone = 0;
	r->told = ua_now();
	ua_tell_all(sp, NULL, text);
}

static void tell_timer(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	struct room *r = arg;
	struct sipua *ua = r->ua;
	struct space *sp = space_find(ua->mgr, r->space_id);

	if (sp && r->n_gone)
		tell_gone(ua, r, sp);
	r->n_gone = 0;
	if (!r->subs)
		room_free(ua, r);
}

void ua_room_departed(struct sipua *ua, struct space *sp, const char *user)
{
	struct room *r;
	int64_t now = ua_now();

	if (!ua->cfg->member_notices || !(r = room_get(ua, space_id(sp))))
		return;
	if (r->n_gone < 5)
		snprintf(r->gone[r->n_gone], sizeof(r->gone[0]), "%s", user);
	r->n_gone++;
	if (r->tell && su_timer_is_set(r->tell))
		return;
	if (now - r->told >= 1000) {
		tell_gone(ua, r, sp);
		return;
	}
	if (!r->tell)
		r->tell = su_timer_create(su_root_task(ua->root), 1000);
	if (!r->tell ||
	    su_timer_set_interval(r->tell, tell_timer, r,
				  (su_duration_t)(r->told + 1000 - now)) < 0)
		tell_gone(ua, r, sp);
}

/* Send @a s's subscriber the space's full state (or its end). */
static void sub_notify(struct sub *s, struct space *sp, bool final)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct call *c = s->c;
	struct sipua *ua = c->ua;
	struct confinfo_panel panel = {0};
	int64_t wall = ua_wall();
	char *doc;

	if (sp)
		panel.played_today = space_mgr_played_today(
		    ua->mgr, space_service(sp)->id, ua_now());
	if (sp && ua->guide) {
		const struct programme *p =
		    guide_now(ua->guide, space_channel(sp)->id, wall);

		if (p) {
			panel.program_title = p->title;
			panel.program_start = p->start;
			panel.program_stop = p->stop;
		}
	}
	s->version++;
	doc = sp && !final ? confinfo_document(home, sp, ua->cfg->domain,
					       s->version, &panel)
			   : confinfo_deleted(home, s->space_id,
					      ua->cfg->domain, s->version);
	if (doc)
		nua_notify(
		    c->dlg.nh, SIPTAG_EVENT_STR("conference"),
		    NUTAG_SUBSTATE(final ? nua_substate_terminated
					 : nua_substate_active),
		    TAG_IF(final, SIPTAG_SUBSCRIPTION_STATE_STR(
				      "terminated;reason=noresource")),
		    SIPTAG_CONTENT_TYPE_STR("application/conference-info+xml"),
		    SIPTAG_PAYLOAD_STR(doc), TAG_END());
	s->full_sent = true;
	su_home_deinit(home);
}

static void flush(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	struct sipua *ua = arg;
	struct room *r;

	while ((r = ua->dirty_rooms)) {
		struct space *sp = space_find(ua->mgr, r->space_id);

		ua->dirty_rooms = r->next_dirty;
		r->dirty = false;
		r->next_dirty = NULL;
		for (struct sub *s = r->subs; s && sp; s = s->next)
			sub_notify(s, sp, false);
	}
}

void ua_room_changed(struct sipua *ua, struct space *sp)
{
	struct room *r = room_find(ua, space_id(sp));

	if (!r || r->dirty)
		return;
	r->dirty = true;
	r->next_dirty = ua->dirty_rooms;
	ua->dirty_rooms = r;
	if (!ua->cfg->notify_interval || !ua->notify_timer) {
		flush(NULL, NULL, ua);
		return;
	}
	if (!su_timer_is_set(ua->notify_timer))
		su_timer_set_interval(ua->notify_timer, flush, ua,
				      ua->cfg->notify_interval);
}

void ua_room_ended(struct sipua *ua, uint64_t id)
{
	struct room *r = room_find(ua, id);

	if (r)
		r->n_gone = 0; /* nobody is left to tell */
	while (r && r->subs) {
		struct call *c = r->subs->c;

		sub_notify(r->subs, NULL, true);
		ua_sub_drop(c); /* frees the room with its last one */
		r = room_find(ua, id);
	}
	if (r)
		room_free(ua, r);
}

void ua_on_subscribe(struct sipua *ua, nua_handle_t *nh, struct call *c,
		     const sip_t *sip)
{
	const sip_event_t *ev = sip->sip_event;
	struct space *sp;
	struct room *r;
	struct sub *s;
	char user[USER_MAX], src[64];
	const struct space_member *m = NULL;
	bool operator= false;

	if (!ev || !su_casematch(ev->o_type, "conference")) {
		ua_refuse(ua, nh, SIP_489_BAD_EVENT,
			  "only the conference event",
			  SIPTAG_ALLOW_EVENTS_STR("conference"), TAG_END());
		return;
	}
	if (c && c->sub) {
		/* A refresh or (Expires: 0) the end; nua keeps the timer. */
		sp = space_find(ua->mgr, c->sub->space_id);
		nua_respond(nh, SIP_200_OK, NUTAG_WITH(ua_request(ua)),
			    TAG_END());
		if (sip->sip_expires && sip->sip_expires->ex_delta == 0) {
			ua_sub_drop(c);
			return;
		}
		sub_notify(c->sub, sp, !sp);
		if (!sp)
			ua_sub_drop(c);
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
	/* Who asks: inside a dialog, the user the dialog was made with
	 * (authenticated then); outside, the request's identity, which from
	 * a trusted peer is the user its P-Asserted-Identity names, never
	 * the peer itself.  The room's state is for that user only if it is
	 * in the space (a pending joiner sees the room it asked for).  The
	 * operator's own monitoring is a trusted peer's request that asserts
	 * nobody at all: no P-Asserted-Identity, no other identity. */
	if (c && c->member)
		m = c->member;
	else if (c)
		m = space_member_by_user(sp, c->user);
	else if (ua_ident(ua, sip, user, sizeof(user)) != IDENT_NONE)
		m = space_member_by_user(sp, user);
	else
		operator= src[0] && cfg_is_trusted_peer(ua->cfg, src) &&
		    !sip_p_asserted_identity(sip);
	if (!m && !operator) {
		ua_refuse(ua, nh, SIP_403_FORBIDDEN,
			  "not a member of this space", TAG_END());
		return;
	}
	if (!c) {
		/* A handle of its own: the subscription's reference is the
		 * handle's. */
		/* The operator's name has a space: no user id has one. */
		c = ua_call_new(ua, nh,
				m ? m->user : "operator (trusted peer)");
		if (!c) {
			ua_refuse(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
				  "out of memory", TAG_END());
			return;
		}
		c->space_id = space_id(sp);
		c->answered = true;
	}
	else {
		call_ref(c); /* the subscription's own */
	}
	s = su_zalloc(c->home, sizeof(*s));
	r = s ? room_get(ua, space_id(sp)) : NULL;
	if (!s || !r) {
		su_free(c->home, s);
		ua_refuse(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
			  "out of memory", TAG_END());
		call_unref(c);
		return;
	}
	s->c = c;
	s->space_id = space_id(sp);
	s->next = r->subs;
	r->subs = s;
	c->sub = s;
	nua_respond(nh, SIP_200_OK, NUTAG_WITH(ua_request(ua)), TAG_END());
	sub_notify(s, sp, false);
}

int ua_rooms_init(struct sipua *ua)
{
	if (hash_init(&ua->rooms, ua->home) < 0)
		return -ENOMEM;
	ua->notify_timer = su_timer_create(su_root_task(ua->root), 100);
	return ua->notify_timer ? 0 : -ENOMEM;
}
