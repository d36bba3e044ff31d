/* The SIP adapter: sofia-sip nua events in, space manager decisions out.
 * This file: the event loop side (which request goes where) and the life
 * of the adapter; the flows are in session.c, control.c, comments.c and
 * conference.c, the dialogs in call.c.
 *
 * Each dialog with a member is a `struct call` bound to its nua handle.  A
 * call points at its member record in the core while it is a member; the
 * pointer is cleared whenever the record goes (left, refused, space closed),
 * so a completion that arrives later finds NULL and knows.
 *
 * Ordering rule (DESIGN.md): the store commits a change before the SIP
 * message that announces it is sent.  The core takes the change first (so a
 * seat is held while the commit is in flight and two joins cannot both take
 * the last one) and gives it back if the commit fails. */
#define LOG_MODULE "sip"
#include "sip/sipua_int.h"

#include "sip/inbound.h"

static void tick(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	struct sipua *ua = arg;
	struct space_member *m;
	struct space *sp;
	int64_t now = ua_now_s();

	ua_quota_tick(ua, now);
	while ((m = space_mgr_expired(ua->mgr, now))) {
		struct call *c = m->handle;

		sp = m->space;
		log_info("space-%" PRIu64 " join request %u from %s expired",
			 space_id(sp), m->request, m->user);
		ua_tell_host(sp, "join request %u from %s expired", m->request,
			     m->user);
		if (c) {
			ua_refuse_later(ua, c->nh,
					SIP_480_TEMPORARILY_UNAVAILABLE,
					"the host did not answer in time");
			c->phase = CALL_GONE;
			ua_call_unlink(c);
		}
		space_member_remove(m);
		ua_space_changed(ua, sp, false);
	}
	while ((sp = space_mgr_host_gone(ua->mgr, now)))
		ua_host_grace_over(ua, sp);
}

static void on_invite(struct sipua *ua, nua_handle_t *nh, struct call *c,
		      const sip_t *sip)
{
	char user[USER_MAX];
	const url_t *ruri = sip->sip_request->rq_url;
	const char *target = ruri->url_user;
	char *end;
	unsigned long long id;

	if (c) {
		/* A refresh of an established dialog (session timer, or a
		 * terminal's re-INVITE): the same channel again. */
		su_home_t home[1] = {SU_HOME_INIT(home)};
		const struct channel *ch = ua_call_channel(c);
		char *sdp = ch ? ua_call_answer(home, c, ch) : NULL;

		if (sdp)
			nua_respond(nh, SIP_200_OK,
				    SIPTAG_CONTENT_TYPE_STR("application/sdp"),
				    SIPTAG_PAYLOAD_STR(sdp), TAG_END());
		else
			ua_refuse(ua, nh, SIP_481_NO_TRANSACTION,
				  "not a member any more", TAG_END());
		su_home_deinit(home);
		return;
	}
	if (ua_ident(ua, sip, user, sizeof(user)) == IDENT_NONE) {
		ua_refuse(ua, nh, SIP_403_FORBIDDEN,
			  "identity not asserted by a trusted peer", TAG_END());
		return;
	}
	if (target && su_strmatch(target, ua->cfg->factory_user)) {
		ua_on_start(ua, nh, user, sip);
		return;
	}
	if (target && strncmp(target, "space-", 6) == 0 && target[6] >= '0' &&
	    target[6] <= '9') {
		errno = 0;
		id = strtoull(target + 6, &end, 10);
		if (!*end && !errno && id) {
			ua_on_join(ua, nh, user, (uint64_t)id, sip);
			return;
		}
	}
	ua_refuse(
	    ua, nh, SIP_404_NOT_FOUND,
	    "dial the factory URI to start a space or a space URI to join",
	    TAG_END());
}

static void on_state(struct sipua *ua, nua_handle_t *nh, struct call *c,
		     tagi_t const tags[])
{
	int state = nua_callstate_init;

	tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
	if (state != nua_callstate_terminated)
		return;
	if (!c) {
		ua_gate_forget(ua, nh);
		nua_handle_destroy(nh);
		return;
	}
	c->terminated = true;
	if (c->phase == CALL_STORING) {
		/* The commit completes later, finds it cancelled and frees
		 * it. */
		c->cancelled = true;
		return;
	}
	if (c->member) {
		/* Gone without a BYE we saw: session timer, transport. */
		ua_member_failed(ua, c, "dialog terminated");
	}
	ua_call_free(c);
}

void ua_dispatch(nua_event_t event, int status, char const *phrase,
		 struct sipua *ua, nua_handle_t *nh, struct call *c,
		 sip_t const *sip, tagi_t const tags[])
{
	switch (event) {
	case nua_i_invite:
		if (sip)
			on_invite(ua, nh, c, sip);
		break;
	case nua_i_cancel:
		if (c && c->phase == CALL_STORING)
			c->cancelled = true;
		if (c && c->member && c->member->role == SPACE_PENDING) {
			struct space *sp = c->member->space;
			unsigned n = c->member->request;

			log_info("space-%" PRIu64 " join request %u from %s "
				 "cancelled",
				 c->space_id, n, c->user);
			ua_tell_host(sp,
				     "join request %u from %s was withdrawn", n,
				     c->user);
			struct space_member *gone = c->member;

			ua_call_unlink(c);
			space_member_remove(gone);
			ua_space_changed(ua, sp, false);
		}
		if (c)
			c->phase = CALL_GONE;
		break;
	case nua_i_ack:
		if (c && sip && sip->sip_to && sip->sip_to->a_tag &&
		    !c->local_tag) {
			c->local_tag = su_strdup(c->home, sip->sip_to->a_tag);
			if (c->member)
				store_member_dialog(ua->db, c->space_id,
						    c->user, c->local_tag, NULL,
						    NULL);
		}
		break;
	case nua_i_bye:
		if (c) {
			c->phase = CALL_GONE;
			ua_member_left(ua, c, "bye");
		}
		break;
	case nua_i_message:
		if (!c && sip)
			ua_on_stray_message(ua, nh, sip);
		else if (sip)
			ua_on_text(ua, nh, c, sip);
		else if (!c)
			nua_handle_destroy(nh);
		break;
	case nua_i_info:
		if (sip)
			ua_on_text(ua, nh, c, sip);
		if (!c)
			nua_handle_destroy(nh);
		break;
	case nua_i_state:
		on_state(ua, nh, c, tags);
		break;
	case nua_r_invite:
		if (c && c->phase == CALL_RESUMING)
			ua_on_resumed(ua, c, status);
		else if (c && c->phase == CALL_INVITING)
			ua_on_invited(ua, c, status, sip);
		else if (c && c->reinvite_out)
			ua_on_repointed(ua, c, status, sip);
		break;
	case nua_r_message:
	case nua_r_info:
		/* RFC 3261 §12.2.1.2: 481 and 408 end the dialog; so does a
		 * transport that cannot reach the member (our own 503,
		 * without the Retry-After of a busy terminal). */
		if (c && c->member && c->phase == CALL_LIVE &&
		    (status == 481 || status == 408 ||
		     (status == 503 && !(sip && sip->sip_retry_after)))) {
			log_info("space-%" PRIu64 " %s unreachable (%d)",
				 c->space_id, c->user, status);
			ua_member_failed(ua, c, "unreachable");
			c->phase = CALL_GONE;
			nua_bye(nh, TAG_END());
		}
		break;
	case nua_r_method:
		/* bye_after_timeout()'s handle, done with its answer. */
		if (!c && status >= 200)
			nua_handle_destroy(nh);
		break;
	case nua_r_shutdown:
		if (status >= 200)
			ua->shutdown_final = true;
		if (status >= 200 && ua->shutdown_done)
			ua->shutdown_done(ua->shutdown_arg);
		break;
	case nua_i_refer:
		if (sip)
			ua_on_refer(ua, nh, c, sip, tags);
		if (!c)
			ua_gate_destroy_later(ua, nh);
		break;
	case nua_i_subscribe:
		if (sip)
			ua_on_subscribe(ua, nh, c, sip);
		if (!c && !nua_handle_magic(nh))
			nua_handle_destroy(nh);
		break;
	case nua_r_notify:
		if (c && c->subscribed && (status == 481 || status == 408))
			ua_sub_unlink(c);
		break;
	case nua_i_options:
	case nua_i_notify:
	case nua_i_publish:
	case nua_i_method:
		if (!c) {
			if (event != nua_i_options)
				ua_refuse(ua, nh, SIP_501_NOT_IMPLEMENTED,
					  "not supported yet", TAG_END());
			nua_handle_destroy(nh);
		}
		else if (event != nua_i_options) {
			ua_refuse(ua, nh, SIP_501_NOT_IMPLEMENTED,
				  "not supported yet", TAG_END());
		}
		break;
	case nua_i_error:
		log_warn("sip error %d %s", status, phrase);
		break;
	default:
		if (status >= 300 && event >= nua_r_set_params)
			log_debug("event %s: %d %s", nua_event_name(event),
				  status, phrase);
		break;
	}
}

static void event_cb(nua_event_t event, int status, char const *phrase,
		     nua_t *nua, struct sipua *ua, nua_handle_t *nh,
		     struct call *c, sip_t const *sip, tagi_t tags[])
{
	log_debug("%s %d %s%s%s", nua_event_name(event), status, phrase,
		  c ? " user " : "", c ? c->user : "");
	switch (event) {
	case nua_i_invite:
	case nua_i_subscribe:
	case nua_i_message:
	case nua_i_refer:
		/* Outside a dialog: rate limits and who is asking first
		 * (sip/gate.c).  Inside one, the dialog says who it is. */
		if (!c && sip && !ua_gate(ua, event, nh, sip))
			return;
		break;
	case nua_i_cancel:
		if (!c)
			ua_gate_forget(ua, nh);
		break;
	default:
		break;
	}
	ua_dispatch(event, status, phrase, ua, nh, c, sip, tags);
}

static void ua_destructor(void *arg)
{
	struct sipua *ua = arg;

	if (ua->tick)
		su_timer_destroy(ua->tick);
	ua_gate_destroy(ua);
	/* nua may only be destroyed once its shutdown has completed; a
	 * second signal or the shutdown deadline stops the daemon before
	 * that, and the stack's memory goes with the process. */
	if (ua->nua && ua->shutdown_final)
		nua_destroy(ua->nua);
	else if (ua->nua)
		log_warn("stopping before the SIP stack finished its shutdown");
}

/* host[:port] of the listen URL, for our Contact. */
static void make_hostport(struct sipua *ua)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	url_t *url = url_make(home, ua->cfg->listen);
	const char *host = url && url->url_host ? url->url_host : "127.0.0.1";

	if (su_strmatch(host, "0.0.0.0") || su_strmatch(host, "*") ||
	    su_strmatch(host, "[::]"))
		host = ua->cfg->domain;
	if (url && url->url_port)
		snprintf(ua->hostport, sizeof(ua->hostport), "%s:%s", host,
			 url->url_port);
	else
		snprintf(ua->hostport, sizeof(ua->hostport), "%s", host);
	su_home_deinit(home);
}

struct sipua *sipua_create(su_home_t *parent, const struct sipua_deps *deps)
{
	struct sipua *ua = su_home_clone(parent, sizeof(*ua));
	const struct cfg *cfg = deps->cfg;
	const char *agent = cfg_server_header(cfg);

	if (!ua)
		return NULL;
	if (su_home_destructor(ua->home, ua_destructor) < 0)
		goto fail;
	ua->root = deps->root;
	ua->cfg = cfg;
	ua->mgr = deps->mgr;
	ua->db = deps->db;
	ua->media = deps->media;
	ua->guide = deps->guide;
	make_hostport(ua);
	if (ua_gate_init(ua) < 0)
		goto fail;

	/* Requests whose answer cannot be sent are dropped in the parser,
	 * before the transaction layer (sip/inbound.c). */
	if (!inbound_mclass()) {
		log_err("out of memory");
		goto fail;
	}
	ua->nua = nua_create(
	    ua->root, event_cb, ua, NUTAG_URL(cfg->listen),
	    NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOANSWER(0), NUTAG_AUTOACK(1),
	    NUTAG_ENABLEINVITE(1), NUTAG_ENABLEMESSAGE(1),
	    NUTAG_APPL_METHOD("MESSAGE"), NUTAG_APPL_METHOD("INFO"),
	    NUTAG_APPL_METHOD("REFER"), NUTAG_APPL_METHOD("SUBSCRIBE"),
	    NUTAG_ALLOW_EVENTS("conference"),
	    NUTAG_ALLOW("INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE, "
			"INFO, UPDATE, REFER, SUBSCRIBE, NOTIFY"),
	    TAG_IF(cfg->session_expires,
		   NUTAG_SESSION_TIMER(cfg->session_expires)),
	    TAG_IF(cfg->session_expires, NUTAG_MIN_SE(90)),
	    /* nua puts the User-Agent in responses too (server_header). */
	    TAG_IF(*agent, SIPTAG_SERVER_STR(agent)),
	    TAG_IF(*agent, SIPTAG_USER_AGENT_STR(agent)),
	    TAG_IF(!*agent, SIPTAG_USER_AGENT(SIP_NONE)),
	    NTATAG_MCLASS(inbound_mclass()), TAG_END());
	if (!ua->nua) {
		log_err("cannot listen on %s", cfg->listen);
		goto fail;
	}
	ua->tick = su_timer_create(su_root_task(ua->root), 1000);
	if (!ua->tick || su_timer_set_for_ever(ua->tick, tick, ua) < 0)
		goto fail;
	log_notice("listening on %s, domain %s, factory sip:%s@%s", cfg->listen,
		   cfg->domain, cfg->factory_user, cfg->domain);
	return ua;
fail:
	su_home_unref(ua->home);
	return NULL;
}

void sipua_set_guide(struct sipua *ua, const struct guide *guide)
{
	ua->guide = guide;
}

void sipua_shutdown(struct sipua *ua, void (*done)(void *arg), void *arg)
{
	ua->shutdown_done = done;
	ua->shutdown_arg = arg;
	if (ua->tick)
		su_timer_reset(ua->tick);
	nua_shutdown(ua->nua);
}

struct sipua *sipua_destroy(struct sipua *ua)
{
	if (ua)
		su_home_unref(ua->home);
	return NULL;
}
