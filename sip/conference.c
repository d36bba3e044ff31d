/* The room's state for terminals: the conference event package (RFC
 * 4575).  Subscriptions are kept by room (a space's subscribers), found by
 * the space's id.  A room remembers the members as its subscribers were
 * told (sip/confinfo.h, struct confinfo_room): each subscription's first
 * NOTIFY is a full document, later ones are partial, carrying only the
 * users that changed, so a change in a space of N members costs the same
 * for each subscriber whatever N.  A change marks the room; the rooms
 * marked are told once per notify_interval, so a burst of joins costs one
 * NOTIFY per subscriber, and what changed is found then by comparing the
 * space with what the room remembers.  Display names come from the store
 * when a member first shows up in a watched room; the NOTIFY waits for
 * them a little, so a member is listed once, with its name.  Part of the
 * SIP adapter; one su_root thread. */
#define LOG_MODULE "sip"
#include "sip/sipua_int.h"

#include <sofia-sip/sip_extra.h>

/* Users whose names are looked up in one statement. */
#define NAMES_BATCH 500
/* How long a NOTIFY waits for the display names of new members. */
#define NAMES_WAIT_MS 500
/* How old a room's full document may be and still serve a subscriber
 * that comes (its played-today is that stale). */
#define FULL_FRESH_MS 1000

struct room {
	struct hash_node node; /* in ua->rooms */
	struct sipua *ua;
	uint64_t space_id;
	struct sub *subs;
	struct room *next_dirty;
	bool dirty;
	struct confinfo_room *state; /* what the subscribers were told */
	/* Display names asked for; a NOTIFY waits for them a while. */
	unsigned naming;
	int64_t naming_since;
	/* The full document (version 0) for subscribers as they come. */
	char *full;
	int64_t full_at;
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

static void full_stale(struct sipua *ua, struct room *r)
{
	su_free(ua->home, r->full);
	r->full = NULL;
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
	full_stale(ua, r);
	confinfo_room_destroy(r->state);
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
	if (r && !r->subs && !r->n_gone) {
		room_free(ua, r);
	}
	else if (r && !r->subs) {
		/* Kept for the departures to tell: nobody watches. */
		confinfo_room_forget(r->state);
		full_stale(ua, r);
	}
	su_free(c->home, s);
	call_unref(c);
}

static struct room *room_get(struct sipua *ua, uint64_t id)
{
	struct room *r = room_find(ua, id);

	if (r)
		return r;
	r = su_zalloc(ua->home, sizeof(*r));
	if (!r)
		return NULL;
	r->state = confinfo_room_create(ua->home);
	if (!r->state) {
		su_free(ua->home, r);
		return NULL;
	}
	r->ua = ua;
	r->space_id = id;
	hash_insert(&ua->rooms, &r->node, hash_u64(id));
	return r;
}

static void room_dirty(struct sipua *ua, struct room *r);
static void flush_now(struct sipua *ua, struct room *r);

/* -- display names ----------------------------------------------------------
 */

/* A lookup of names for a room, found again by the space's id when the
 * store answers (the room may be gone by then). */
struct naming {
	struct sipua *ua;
	uint64_t space_id;
};

static void named(void *arg, const char *user, const char *display)
{
	struct naming *n = arg;
	struct room *r = room_find(n->ua, n->space_id);

	if (!r)
		return;
	confinfo_room_named(r->state, user, display);
	full_stale(n->ua, r);
}

static void named_done(void *arg, int error)
{
	struct naming *n = arg;
	struct sipua *ua = n->ua;
	struct room *r = room_find(ua, n->space_id);

	if (error)
		log_info("space-%" PRIu64 ": display names not read (%s)",
			 n->space_id, strerror(-error));
	free(n);
	if (!r || !r->naming || --r->naming)
		return;
	/* The last answer: what waited for it goes now; a name that
	 * changed goes with the next NOTIFY. */
	if (r->dirty)
		flush_now(ua, r);
	else if (confinfo_room_pending(r->state))
		room_dirty(ua, r);
}

/* Ask the store for the display names of the members not asked for yet
 * (each once while the room is watched; a failure leaves the user id). */
static void ask_names(struct sipua *ua, struct room *r)
{
	const char *users[NAMES_BATCH];
	unsigned n;

	while ((n = confinfo_room_unnamed(r->state, users, NAMES_BATCH))) {
		struct naming *nm;

		if (!ua->db || !db_is_up(ua->db))
			continue;
		nm = malloc(sizeof(*nm));
		if (!nm)
			continue;
		nm->ua = ua;
		nm->space_id = r->space_id;
		if (store_display_names(ua->db, users, n, named, named_done,
					nm) < 0) {
			free(nm);
			continue;
		}
		if (!r->naming++)
			r->naming_since = ua_now();
	}
}

/* -- notifications ----------------------------------------------------------
 */

static void describe(struct sipua *ua, const struct space *sp,
		     struct confinfo_desc *d)
{
	struct confinfo_panel panel = {0};

	panel.played_today =
	    space_mgr_played_today(ua->mgr, space_service(sp)->id, ua_now());
	if (ua->guide) {
		const struct programme *p =
		    guide_now(ua->guide, space_channel(sp)->id, ua_wall());

		if (p) {
			panel.program_title = p->title;
			panel.program_start = p->start;
			panel.program_stop = p->stop;
		}
	}
	confinfo_describe(sp, &panel, d);
}

/* The full document for subscribers as they come: the room's, kept while
 * nothing changes (a second at most, for played-today). */
static const char *room_full(struct sipua *ua, struct room *r,
			     const struct space *sp)
{
	int64_t now = ua_now();
	struct confinfo_desc desc;

	if (r->full && now - r->full_at < FULL_FRESH_MS)
		return r->full;
	full_stale(ua, r);
	describe(ua, sp, &desc);
	r->full =
	    confinfo_room_full(ua->home, r->state, &desc, ua->cfg->domain, 0);
	r->full_at = now;
	return r->full;
}

/* Send @a doc (version 0) to @a s, with its subscription's next version;
 * @a final ends the subscription (the space is gone). */
static void notify(struct sub *s, const char *doc, bool final)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct call *c = s->c;
	char *text = doc ? confinfo_set_version(home, doc, ++s->version) : NULL;

	if (text)
		nua_notify(
		    c->dlg.nh, SIPTAG_EVENT_STR("conference"),
		    NUTAG_SUBSTATE(final ? nua_substate_terminated
					 : nua_substate_active),
		    TAG_IF(final, SIPTAG_SUBSCRIPTION_STATE_STR(
				      "terminated;reason=noresource")),
		    SIPTAG_CONTENT_TYPE_STR("application/conference-info+xml"),
		    SIPTAG_PAYLOAD_STR(text), TAG_END());
	else
		log_err("space-%" PRIu64 ": no conference document for %s",
			s->space_id, c->user);
	s->full_sent = true;
	s->dirty = false;
	su_home_deinit(home);
}

/* A subscription's first document, or a refresh's: the full state. */
static void notify_full(struct sipua *ua, struct room *r, struct sub *s,
			const struct space *sp)
{
	/* Members' names are on their way, and the NOTIFY of the room waits
	 * for them (a while): this one goes with it. */
	if (r->naming) {
		s->dirty = true;
		room_dirty(ua, r);
		return;
	}
	notify(s, room_full(ua, r, sp), false);
}

/* Tell the room's subscribers what changed since the last NOTIFY, and
 * those that came meanwhile the whole state. */
static void room_send(struct sipua *ua, struct room *r, const struct space *sp)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct confinfo_desc desc;
	bool full = false, told = false;
	char *doc = NULL;

	for (struct sub *s = r->subs; s; s = s->next)
		told |= !s->dirty;
	describe(ua, sp, &desc);
	if (told)
		doc = confinfo_room_update(home, r->state, &desc,
					   ua->cfg->domain, 0, &full);
	for (struct sub *s = r->subs; doc && s; s = s->next)
		if (!s->dirty)
			notify(s, doc, false);
	if (doc || !told) {
		confinfo_room_told(r->state, &desc);
		full_stale(ua, r);
	}
	if (doc)
		log_debug("space-%" PRIu64 ": %s state, %zu bytes", r->space_id,
			  full ? "full" : "partial", strlen(doc));
	for (struct sub *s = r->subs; s; s = s->next)
		if (s->dirty)
			notify(s, room_full(ua, r, sp), false);
	su_home_deinit(home);
}

static void flush_room(struct sipua *ua, struct room *r)
{
	struct space *sp = space_find(ua->mgr, r->space_id);

	if (!sp || !r->subs)
		return;
	confinfo_room_look(r->state, sp, ua_wall());
	ask_names(ua, r);
	/* New members' names are on their way: wait for them a little, so
	 * a member is listed once, with its name. */
	if (r->naming && ua->cfg->notify_interval &&
	    ua_now() - r->naming_since < NAMES_WAIT_MS) {
		room_dirty(ua, r);
		return;
	}
	room_send(ua, r, sp);
}

/* Out of the marked rooms, and told now. */
static void flush_now(struct sipua *ua, struct room *r)
{
	struct room **pp;

	for (pp = &ua->dirty_rooms; *pp; pp = &(*pp)->next_dirty)
		if (*pp == r) {
			*pp = r->next_dirty;
			break;
		}
	r->dirty = false;
	r->next_dirty = NULL;
	flush_room(ua, r);
}

static void flush(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	struct sipua *ua = arg;
	struct room *r, *list = ua->dirty_rooms;

	ua->dirty_rooms = NULL;
	while ((r = list)) {
		list = r->next_dirty;
		r->dirty = false;
		r->next_dirty = NULL;
		flush_room(ua, r);
	}
}

static void room_dirty(struct sipua *ua, struct room *r)
{
	if (r->dirty)
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

void ua_room_changed(struct sipua *ua, struct space *sp)
{
	struct room *r = room_find(ua, space_id(sp));

	if (r && r->subs) {
		full_stale(ua, r);
		room_dirty(ua, r);
	}
}

void ua_room_left(struct sipua *ua, struct space *sp, const char *user,
		  enum confinfo_how how)
{
	struct room *r = room_find(ua, space_id(sp));

	if (!r || !r->subs)
		return;
	confinfo_room_left(r->state, user, how);
	full_stale(ua, r);
	room_dirty(ua, r);
}

void ua_sub_answered(struct call *c, int status)
{
	if (!c->sub || status < 300 || status == 481 || status == 408)
		return;
	/* It did not reach the subscriber (our own 503: the connection's
	 * send queue was full, say): the subscriber is a version behind
	 * and gets the whole state with the room's next NOTIFY (not at
	 * once: a peer that is gone would be sent it again and again). */
	c->sub->dirty = true;
}

/* -- members told by MESSAGE ------------------------------------------------
 */

/* Tell the members who left since the last time. */
static void tell_gone(struct sipua *ua, struct room *r, struct space *sp)
{
	char text[6 * USER_MAX + 64];
	size_t off = 0;
	unsigned shown = r->n_gone < 3 ? r->n_gone : 2;

	text[0] = '\0';
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

	ua_room_left(ua, sp, user, CONFINFO_DEPARTED);
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

/* -- subscriptions ----------------------------------------------------------
 */

void ua_room_ended(struct sipua *ua, uint64_t id)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct room *r = room_find(ua, id);
	char *doc = confinfo_deleted(home, id, ua->cfg->domain, 0);

	if (r)
		r->n_gone = 0; /* nobody is left to tell */
	while (r && r->subs) {
		struct call *c = r->subs->c;

		notify(r->subs, doc, true);
		ua_sub_drop(c); /* frees the room with its last one */
		r = room_find(ua, id);
	}
	if (r)
		room_free(ua, r);
	su_home_deinit(home);
}

/* The room of @a sp for a new subscriber, looked at first if nobody
 * watched it: what the first subscriber is told is what later NOTIFYs
 * are partial to. */
static struct room *room_watch(struct sipua *ua, struct space *sp)
{
	struct room *r = room_get(ua, space_id(sp));
	struct confinfo_desc desc;

	if (r && !confinfo_room_synced(r->state)) {
		confinfo_room_look(r->state, sp, ua_wall());
		describe(ua, sp, &desc);
		confinfo_room_told(r->state, &desc);
		full_stale(ua, r);
		ask_names(ua, r);
	}
	return r;
}

/* Who asks, and whether the room's state is theirs to read.  Inside a
 * dialog, the user the dialog was made with (authenticated then);
 * outside, the request's identity, which from a trusted peer is the user
 * its P-Asserted-Identity names, never the peer itself.  The state is for
 * that user only if it is in the space (a pending joiner sees the room it
 * asked for).  The operator's own monitoring is a trusted peer's request
 * that asserts nobody at all: no P-Asserted-Identity, no other identity
 * (the gate challenges such a request today, sip/gate.c). */
static bool may_watch(struct sipua *ua, const struct call *c,
		      const struct space *sp, const sip_t *sip,
		      const struct space_member **ret_member)
{
	char user[USER_MAX], src[64];

	*ret_member = NULL;
	if (c && c->member)
		*ret_member = c->member;
	else if (c)
		*ret_member = space_member_by_user(sp, c->user);
	else if (ua_ident(ua, sip, user, sizeof(user)) != IDENT_NONE)
		*ret_member = space_member_by_user(sp, user);
	else {
		ident_source_addr(ua_request(ua), src, sizeof(src));
		return src[0] && cfg_is_trusted_peer(ua->cfg, src) &&
		       !sip_p_asserted_identity(sip);
	}
	return *ret_member != NULL;
}

/* A refresh of @a c's subscription, or (Expires: 0) its end.  nua has
 * answered it already (and keeps the subscription's timer); to a refresh
 * it also sent the last NOTIFY again, whose version the subscriber has
 * (RFC 4575 §4.6: it ignores it). */
static void resubscribe(struct sipua *ua, struct call *c, const sip_t *sip)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct space *sp = space_find(ua->mgr, c->sub->space_id);
	struct room *r = sp ? room_find(ua, space_id(sp)) : NULL;

	if (sip->sip_expires && sip->sip_expires->ex_delta == 0) {
		ua_sub_drop(c);
	}
	else if (r) {
		/* RFC 4575 §4.6: a subscriber that missed a version
		 * refreshes for the full state. */
		notify_full(ua, r, c->sub, sp);
	}
	else {
		notify(c->sub,
		       confinfo_deleted(home, c->sub->space_id, ua->cfg->domain,
					0),
		       true);
		ua_sub_drop(c);
	}
	su_home_deinit(home);
}

void ua_on_subscribe(struct sipua *ua, nua_handle_t *nh, struct call *c,
		     const sip_t *sip)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	const sip_event_t *ev = sip->sip_event;
	const struct space_member *m;
	struct space *sp;
	struct room *r;
	struct sub *s;

	if (!ev || !su_casematch(ev->o_type, "conference")) {
		ua_refuse(ua, nh, SIP_489_BAD_EVENT,
			  "only the conference event",
			  SIPTAG_ALLOW_EVENTS_STR("conference"), TAG_END());
		return;
	}
	if (c && c->sub) {
		resubscribe(ua, c, sip);
		return;
	}
	sp = c && c->member ? c->member->space
			    : ua_space_of_uri(ua, sip->sip_request->rq_url);
	if (!sp) {
		ua_refuse(ua, nh, SIP_404_NOT_FOUND, "no such space",
			  TAG_END());
		return;
	}
	if (!may_watch(ua, c, sp, sip, &m)) {
		ua_refuse(ua, nh, SIP_403_FORBIDDEN,
			  "not a member of this space", TAG_END());
		return;
	}
	if (!c) {
		/* A handle of its own: the subscription's reference is the
		 * handle's.  The operator's name has a space: no user id
		 * has one. */
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
	r = s ? room_watch(ua, sp) : NULL;
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
	/* The focus's Contact (RFC 4579 §5.1): the space URI, so that the
	 * subscriber's refreshes name the space (and reach its node). */
	nua_respond(nh, SIP_200_OK, NUTAG_WITH(ua_request(ua)),
		    SIPTAG_CONTACT_STR(ua_contact_of(home, ua, space_id(sp))),
		    TAG_END());
	notify_full(ua, r, s, sp);
	su_home_deinit(home);
}

int ua_rooms_init(struct sipua *ua)
{
	if (hash_init(&ua->rooms, ua->home) < 0)
		return -ENOMEM;
	ua->notify_timer = su_timer_create(su_root_task(ua->root), 100);
	return ua->notify_timer ? 0 : -ENOMEM;
}
