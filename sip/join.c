/* Joining a space (patent S204-S205): an INVITE to a space URI.  The
 * joiner's service is looked up (for its package), the core decides
 * (pending, admitted at once, refused), the host is asked, and an admitted
 * member's row is committed before its 200.  A CANCEL while pending
 * withdraws the request; one while the admission commits leaves no trace.
 * Part of the SIP adapter; one su_root thread. */
#define LOG_MODULE "sip"
#include "sip/sipua_int.h"

static void forgotten(struct step *s, int error)
{
	if (error)
		log_err("space-%" PRIu64 " %s: the cancelled admission is "
			"left in the store (%s)",
			s->space_id, s->by, strerror(-error));
}

static void forget_member(struct sipua *ua, uint64_t id, const char *user)
{
	struct step *s = ua_step(ua, NULL, NULL, id, forgotten);

	if (!s)
		return;
	snprintf(s->by, sizeof(s->by), "%s", user);
	if (store_member_forget(ua->db, id, user, ua_step_stored, s) < 0)
		ua_step_stored(s, -ENOTCONN);
}

/* Undo a membership whose commit failed or whose INVITE went: a guest
 * leaves, a host that had come back is lost again. */
static void roll_back(struct sipua *ua, struct call *c)
{
	struct space_member *m = c->member;
	struct space *sp = m->space;

	ua_call_stop_media(c);
	ua_call_unlink(c);
	ua_room_left(ua, sp, c->user, CONFINFO_FAILED);
	if (space_leave(m, true, ua_now()) == SPACE_END) {
		ua_end_space(ua, sp, "space ended by host", c);
		return;
	}
	ua_room_changed(ua, sp);
	ua_schedule(ua);
}

static void admit_stored(struct step *s, int error)
{
	struct sipua *ua = s->ua;
	struct call *c = s->c;
	struct space_member *m = c->member;
	struct space *sp;

	c->committing--;
	if (!m) {
		/* The space ended meanwhile. */
		if (!error)
			forget_member(ua, s->space_id, c->user);
		ua_call_stop_media(c);
		if (!call_gone(c))
			ua_refuse_later(ua, c->dlg.nh,
					SIP_480_TEMPORARILY_UNAVAILABLE,
					"the space has ended");
		return;
	}
	if (call_gone(c)) {
		/* CANCEL, or the transaction ended, while it was stored. */
		log_info("space-%" PRIu64 " %s gave up while admitted",
			 c->space_id, c->user);
		if (!error)
			forget_member(ua, s->space_id, c->user);
		roll_back(ua, c);
		return;
	}
	if (error) {
		log_err("space-%" PRIu64 " admission of %s not stored (%s)",
			c->space_id, c->user, strerror(-error));
		roll_back(ua, c);
		ua_refuse_later(ua, c->dlg.nh, SIP_503_SERVICE_UNAVAILABLE,
				"database unavailable, try again");
		return;
	}
	sp = m->space;
	/* The row has the answer made ahead: stored unless it changed. */
	if (s->text && c->dlg.local_sdp &&
	    strcmp(s->text, c->dlg.local_sdp) == 0)
		c->dlg.sdp_dirty = false;
	ua_accept(c);
	if (space_member_by_friendship(m))
		ua_tell_host(sp,
			     "%s joined without asking: a friend of yours "
			     "(auto_admit = friends)",
			     c->user);
	if (c->host_back && m->role == SPACE_HOST) {
		char text[256];

		snprintf(text, sizeof(text), "%s is back and holds the remote",
			 c->user);
		ua_tell_all(sp, c, text);
		for (struct space_member *x = space_members(sp); x; x = x->next)
			if (x->role == SPACE_PENDING)
				ua_ask_host(sp, x);
	}
}

/* Store @a c's admission (its seat is held in the core); the 200 follows
 * the commit. */
void ua_admit(struct sipua *ua, struct call *c)
{
	struct space_member *m = c->member;
	struct store_member sm;
	struct step *s;
	int err;

	if (m->delivery == SPACE_RELAY &&
	    (err = ua_call_start_relay(c, space_channel(m->space), m->addr,
				       m->port, m->pt)) < 0) {
		roll_back(ua, c);
		if (err == -EADDRINUSE)
			ua_refuse_later(ua, c->dlg.nh,
					SIP_503_SERVICE_UNAVAILABLE,
					"no relay port available, try again");
		else
			ua_refuse_later(ua, c->dlg.nh, SIP_488_NOT_ACCEPTABLE,
					"this channel cannot be relayed; offer "
					"a multicast address");
		return;
	}
	s = ua_step(ua, c, NULL, c->space_id, admit_stored);
	if (!s) {
		roll_back(ua, c);
		ua_refuse_later(ua, c->dlg.nh, SIP_500_INTERNAL_SERVER_ERROR,
				"out of memory");
		return;
	}
	ua_answer_ahead(c);
	ua_fill_store_member(c, m, &sm);
	if (sm.local_sdp && !(s->text = su_strdup(s->home, sm.local_sdp)))
		sm.local_sdp = NULL;
	c->committing++;
	err = store_member_add(ua->db, &sm, ua_step_stored, s);
	if (err < 0)
		ua_step_stored(s, err);
}

/* The core decides on the joiner, knowing its service and whether it is
 * the host's friend. */
static void decide(struct sipua *ua, struct call *c,
		   const struct space_service *own, bool friend)
{
	struct space *sp = space_find(ua->mgr, c->space_id);
	struct space_member *m = NULL;
	enum space_verdict v;
	int64_t now = ua_now();

	if (!sp) {
		ua_refuse_later(ua, c->dlg.nh, SIP_404_NOT_FOUND,
				"no such space");
		return;
	}
	if (space_lost_host(sp) && su_strmatch(space_lost_host(sp), c->user) &&
	    space_host_back(sp, c->user, own, &c->media.offer, c, now, &m) ==
		SPACE_OK) {
		log_notice("space-%" PRIu64 " %s is back and holds the remote",
			   c->space_id, c->user);
		c->member = m;
		c->host_back = true;
		ua_admit(ua, c);
		return;
	}
	v = space_join(sp, c->user, own, friend, &c->media.offer, c, now, &m);
	if (v != SPACE_OK) {
		struct verdict_map st = ua_verdict_status(v);

		log_info("space-%" PRIu64 " join by %s refused: %s",
			 c->space_id, c->user, space_verdict_str(v));
		ua_refuse_later(ua, c->dlg.nh, st.status, st.phrase,
				space_verdict_str(v));
		return;
	}
	c->member = m;
	if (m->role != SPACE_PENDING) {
		ua_admit(ua, c);
		return;
	}
	nua_respond(c->dlg.nh, SIP_180_RINGING, TAG_END());
	log_info("space-%" PRIu64 " join request %u from %s", c->space_id,
		 m->request, c->user);
	ua_ask_host(sp, m);
	ua_room_changed(ua, sp);
	ua_schedule(ua);
}

static void friendship_read(struct step *s, int error)
{
	if (call_gone(s->c))
		return;
	/* Not knowing makes it an ordinary request: the host is asked. */
	decide(s->ua, s->c, s->has_svc ? &s->svc : NULL, !error && s->value);
}

static void looked_up(struct step *l, int error)
{
	struct sipua *ua = l->ua;
	struct call *c = l->c;
	struct space *sp = space_find(ua->mgr, c->space_id);
	struct space_member *host = sp ? space_host(sp) : NULL;
	struct step *s;

	if (call_gone(c))
		return;
	if (error) {
		ua_refuse_later(ua, c->dlg.nh, SIP_503_SERVICE_UNAVAILABLE,
				"database unavailable, try again");
		return;
	}
	/* auto_admit = friends: is the joiner on the host's list? */
	if (ua->cfg->auto_admit == CFG_ADMIT_FRIENDS && host &&
	    !space_is_open(sp)) {
		s = ua_step(ua, c, NULL, c->space_id, friendship_read);
		if (s) {
			s->has_svc = l->has_svc;
			s->svc = l->svc; /* strings stay with l, copied: */
			if (l->has_svc) {
				s->svc.id = su_strdup(s->home, l->svc.id);
				s->svc.user = su_strdup(s->home, l->svc.user);
				s->svc.package =
				    su_strdup(s->home, l->svc.package);
				s->svc.default_channel =
				    su_strdup(s->home, l->svc.default_channel);
			}
			if (store_friendship(ua->db, host->user, c->user,
					     ua_step_value, s) == 0)
				return;
			ua_step_free(s);
		}
	}
	decide(ua, c, l->has_svc ? &l->svc : NULL, false);
}

void ua_on_join(struct sipua *ua, nua_handle_t *nh, const char *user,
		uint64_t id, const sip_t *sip)
{
	struct space *sp = space_find(ua->mgr, id);
	struct call *c;
	struct step *l;

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
	if (!ua_read_offer(ua, nh, c, sip)) {
		c->answered = true;
		return;
	}
	ua_call_capture_dialog(c, sip);
	l = ua_step(ua, c, NULL, id, looked_up);
	if (!l) {
		ua_refuse(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
			  "out of memory", TAG_END());
		c->answered = true;
		return;
	}
	ua_lookup(l, user, NULL, false);
}

/* CANCEL: a pending joiner withdraws; the host is told.  A start or an
 * admission being committed finds the call gone when the commit lands.
 * An admission already committed and answered is undone too: nua reports
 * a CANCEL only for an INVITE it has not answered yet, and answers it 487
 * (its thread took the CANCEL before our 200, which then never goes), so
 * the joiner never was a member. */
void ua_on_cancel(struct sipua *ua, struct call *c)
{
	struct space_member *m = c->member;
	struct space *sp;
	unsigned n;

	c->cancelled = true;
	if (!m || c->committing)
		return;
	if (m->role != SPACE_PENDING) {
		log_info("space-%" PRIu64 " %s gave up as it was admitted",
			 c->space_id, c->user);
		forget_member(ua, c->space_id, c->user);
		roll_back(ua, c);
		return;
	}
	sp = m->space;
	n = m->request;
	log_info("space-%" PRIu64 " join request %u from %s cancelled",
		 c->space_id, n, c->user);
	ua_tell_host(sp, "join request %u from %s was withdrawn", n, c->user);
	ua_call_unlink(c);
	space_member_remove(m, ua_now());
	ua_room_changed(ua, sp);
	ua_schedule(ua);
}
