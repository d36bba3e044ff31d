/* Starting a space (patent S201-S203): an INVITE to the factory URI.  The
 * host's service is looked up, the core plans the start, the space and its
 * host's row are committed, and only then the 200 goes.  A CANCEL (or the
 * transaction's end) at any moment leaves no trace: whichever step finds
 * the call gone undoes what was written.  Part of the SIP adapter; one
 * su_root thread. */
#define LOG_MODULE "sip"
#include "sip/sipua_int.h"

/* The service the request names: the SDP's a=bc_service (ETSI TS 183 063),
 * RFC 6050's P-Asserted-Service (believed as the identity is) or
 * P-Preferred-Service, or the project's P-Service-Default-ID; NULL for the
 * user's default. */
static const char *named_service(struct call *c, const sip_t *sip)
{
	static const char *const headers[] = {"P-Asserted-Service",
					      "P-Preferred-Service",
					      "P-Service-Default-ID"};
	const char *v;

	if (c->media.offer.bc_service)
		return c->media.offer.bc_service;
	for (unsigned i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
		if ((v = ua_header_value(sip, headers[i])) && *v)
			return su_strdup(c->home, v);
	return NULL;
}

static void forgotten(struct step *s, int error)
{
	if (error)
		log_err("space-%" PRIu64 ": the cancelled start is left in the "
			"store (%s)",
			s->space_id, strerror(-error));
}

static void forget_space(struct sipua *ua, uint64_t id)
{
	struct step *s = ua_step(ua, NULL, NULL, id, forgotten);

	if (s && store_space_forget(ua->db, id, ua_step_stored, s) < 0)
		ua_step_stored(s, -ENOTCONN);
}

static void start_stored(struct step *s, int error)
{
	struct sipua *ua = s->ua;
	struct call *c = s->c;
	uint64_t id = s->value;
	struct space *sp;
	int err;

	if (error) {
		log_err("start by %s not stored (%s)", c->user,
			strerror(-error));
		ua_call_stop_media(c);
		if (!call_gone(c))
			ua_refuse_later(ua, c->dlg.nh,
					SIP_503_SERVICE_UNAVAILABLE,
					"database unavailable, try again");
		return;
	}
	if (call_gone(c)) {
		/* CANCEL won the race: the space never was. */
		log_info("space-%" PRIu64 " start by %s cancelled while it "
			 "was stored",
			 id, c->user);
		ua_call_stop_media(c);
		forget_space(ua, id);
		return;
	}
	s->plan.channel = s->channel;
	err =
	    space_open(ua->mgr, id, c->user, &s->svc, s->played_today, &s->plan,
		       &c->media.offer, c, ua_now(), ua_wall(), &sp);
	if (err < 0) {
		ua_call_stop_media(c);
		forget_space(ua, id);
		ua_refuse_later(ua, c->dlg.nh, SIP_500_INTERNAL_SERVER_ERROR,
				"cannot open the space");
		return;
	}
	c->space_id = id;
	c->member = space_host(sp);
	log_info("space-%" PRIu64 " started by %s (service %s)", id, c->user,
		 s->svc.id);
	tv_stats.starts++;
	ua_accept(c);
	ua_programme(ua, sp);
}

/* The host's CANCEL reached nua before our 200 did: nua reports a CANCEL
 * only for an INVITE it has not answered, and answers it 487, so the space
 * opened and stored never was.  Nobody else knows its URI (it went out in
 * that 200 alone): it is forgotten.  Should anyone have dialled it
 * meanwhile, it ends as any space does. */
void ua_start_cancelled(struct sipua *ua, struct call *c)
{
	struct space *sp = c->member->space;
	uint64_t id = c->space_id;

	c->cancelled = true;
	log_info("space-%" PRIu64 " start by %s cancelled as it was answered",
		 id, c->user);
	if (space_count(sp) + space_pending_count(sp) > 1) {
		ua_member_gone(ua, c, "cancelled", false);
		return;
	}
	ua_call_stop_media(c);
	ua_call_unlink(c);
	space_set_ending(sp);
	ua_room_ended(ua, id);
	space_close(sp);
	forget_space(ua, id);
	ua_schedule(ua);
}

static int copy_service(su_home_t *home, struct space_service *dst,
			const struct space_service *src)
{
	*dst = (struct space_service){
	    .id = su_strdup(home, src->id),
	    .user = su_strdup(home, src->user),
	    .level = src->level,
	    .default_channel = su_strdup(home, src->default_channel),
	    .package = su_strdup(home, src->package),
	};
	return dst->id && dst->user ? 0 : -ENOMEM;
}

/* The host's service is known: the core decides, the store commits. */
static void looked_up(struct step *l, int error)
{
	struct sipua *ua = l->ua;
	struct call *c = l->c;
	struct store_space row = {0};
	struct store_member host;
	struct space_member m = {0};
	enum space_verdict v;
	struct space_plan plan;
	struct step *s;
	int err;

	if (call_gone(c))
		return;
	if (error) {
		ua_refuse_later(ua, c->dlg.nh, SIP_503_SERVICE_UNAVAILABLE,
				"database unavailable, try again");
		return;
	}
	v = space_plan_start(ua->mgr, c->user, l->has_svc ? &l->svc : NULL,
			     l->played_today, &c->media.offer, ua_now(), &plan);
	if (v != SPACE_OK) {
		struct verdict_map st = ua_verdict_status(v);

		/* At the start an unknown channel is a media problem of the
		 * offer (PROTOCOL.md): 488, not 404. */
		if (v == SPACE_UNKNOWN_CHANNEL)
			st = (struct verdict_map){SIP_488_NOT_ACCEPTABLE};
		log_info("start by %s refused: %s", c->user,
			 space_verdict_str(v));
		ua_refuse_later(ua, c->dlg.nh, st.status, st.phrase,
				space_verdict_str(v));
		return;
	}
	s = ua_step(ua, c, NULL, 0, start_stored);
	if (!s || copy_service(s->home, &s->svc, &l->svc) < 0 ||
	    !(s->channel = catalog_channel_copy(s->home, plan.channel))) {
		ua_step_free(s);
		ua_refuse_later(ua, c->dlg.nh, SIP_500_INTERNAL_SERVER_ERROR,
				"out of memory");
		return;
	}
	s->plan = plan;
	s->played_today = l->played_today;

	if (plan.delivery == SPACE_RELAY &&
	    (err = ua_call_start_relay(c, plan.channel, c->media.offer.addr,
				       c->media.offer.port, plan.pt)) < 0) {
		ua_step_free(s);
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
	row.host_service = s->svc.id;
	row.host_user = c->user;
	row.channel = plan.channel->id;
	row.node = ua->cfg->node_id[0] ? ua->cfg->node_id : NULL;
	row.started = ua_wall();
	m.user = c->user;
	m.service = s->svc.id;
	m.role = SPACE_HOST;
	m.delivery = plan.delivery;
	m.pt = plan.pt;
	m.addr = c->media.offer.addr;
	m.port = c->media.offer.port;
	m.seq = 1;
	ua_fill_store_member(c, &m, &host);
	err = store_space_start(ua->db, &row, &host, ua_step_value, s);
	if (err < 0) {
		ua_call_stop_media(c);
		ua_step_free(s);
		ua_refuse_later(ua, c->dlg.nh, SIP_503_SERVICE_UNAVAILABLE,
				"database unavailable, try again");
	}
}

void ua_on_start(struct sipua *ua, nua_handle_t *nh, const char *user,
		 const sip_t *sip)
{
	struct call *c = ua_call_new(ua, nh, user);
	struct step *l;

	if (!c) {
		ua_refuse(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
			  "out of memory", TAG_END());
		return;
	}
	if (!ua_read_offer(ua, nh, c, sip)) {
		c->answered = true;
		return;
	}
	ua_call_capture_dialog(c, sip);
	l = ua_step(ua, c, NULL, 0, looked_up);
	if (!l) {
		ua_refuse(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
			  "out of memory", TAG_END());
		c->answered = true;
		return;
	}
	/* The core tells a service that does not exist from none named. */
	c->media.offer.bc_service = named_service(c, sip);
	/* A start always asks the store: it needs today's played time. */
	ua_lookup(l, user, c->media.offer.bc_service, true);
}
