/* Dialogs with members (struct call, bound to its nua handle) and the
 * responses the adapter sends: Warning headers, verdicts as status codes,
 * the SDP answer and the focus Contact.  Part of the SIP adapter; one
 * su_root thread. */
#define LOG_MODULE "sip"
#include "sip/sipua_int.h"

int64_t ua_now_s(void)
{
	return (int64_t)time(NULL);
}

/* Warning: 399 DOMAIN "text" (RFC 3261 §20.43), text made safe for a
 * quoted-string. */
const char *ua_warning(su_home_t *home, struct sipua *ua, const char *text)
{
	char buf[300];
	size_t n = 0;

	for (const char *p = text; *p && n < sizeof(buf) - 2; p++) {
		if (*p == '"' || *p == '\\')
			buf[n++] = '\\';
		buf[n++] = (unsigned char)*p < 0x20 ? ' ' : *p;
	}
	buf[n] = '\0';
	return su_sprintf(home, "399 %s \"%s\"", ua->cfg->domain, buf);
}

/* Refuse the current request on @a nh with @a status and a Warning. */
void ua_refuse(struct sipua *ua, nua_handle_t *nh, int status,
	       const char *phrase, const char *why, tag_type_t tag,
	       tag_value_t value, ...)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	ta_list ta;

	if (!nh) {
		/* A command from a remote control's keys has no request to
		 * answer; the log says why it went nowhere. */
		log_info("key command refused: %d %s", status, why);
		return;
	}
	stats_refusal((unsigned)status);
	ta_start(ta, tag, value);
	nua_respond(nh, status, phrase, NUTAG_WITH(ua_request(ua)),
		    SIPTAG_WARNING_STR(ua_warning(home, ua, why)), ta_tags(ta));
	ta_end(ta);
	su_home_deinit(home);
}

/* Refuse a request the stack no longer calls current (a stored INVITE). */
void ua_refuse_later(struct sipua *ua, nua_handle_t *nh, int status,
		     const char *phrase, const char *why)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};

	stats_refusal((unsigned)status);
	nua_respond(nh, status, phrase,
		    SIPTAG_WARNING_STR(ua_warning(home, ua, why)),
		    TAG_IF(status == 503, SIPTAG_RETRY_AFTER_STR(RETRY_AFTER)),
		    TAG_END());
	su_home_deinit(home);
}

/* Protocol codes live here, not in the core (STYLE.md §1). */
struct verdict_map ua_verdict_status(enum space_verdict v)
{
	switch (v) {
	case SPACE_OK:
		return (struct verdict_map){SIP_200_OK};
	case SPACE_NOT_FOUND:
	case SPACE_NO_SUCH_REQUEST:
	case SPACE_NO_SUCH_USER:
	case SPACE_UNKNOWN_CHANNEL:
		return (struct verdict_map){SIP_404_NOT_FOUND};
	case SPACE_FULL:
	case SPACE_ALREADY_MEMBER:
		return (struct verdict_map){SIP_486_BUSY_HERE};
	case SPACE_MEDIA_MISMATCH:
		return (struct verdict_map){SIP_488_NOT_ACCEPTABLE};
	case SPACE_NO_SERVICE:
	case SPACE_NOT_SUBSCRIBED:
	case SPACE_UNKNOWN_SERVICE:
	case SPACE_NOT_HOST:
	case SPACE_NOT_MEMBER:
	case SPACE_LIMIT_REACHED:
	case SPACE_HOST_ALREADY:
	case SPACE_NO_HOST:
	case SPACE_NOT_ENTITLED:
		return (struct verdict_map){SIP_403_FORBIDDEN};
	}
	return (struct verdict_map){SIP_500_INTERNAL_SERVER_ERROR};
}

static void call_destructor(void *arg)
{
	struct call *c = arg;

	ua_sub_unlink(c);
	c->leg = media_leg_destroy(c->leg);
	if (c->glare)
		su_timer_destroy(c->glare);
	if (c->nh) {
		nua_handle_bind(c->nh, NULL);
		nua_handle_destroy(c->nh);
		c->nh = NULL;
	}
}

struct call *ua_call_new(struct sipua *ua, nua_handle_t *nh, const char *user)
{
	struct call *c = su_home_clone(ua->home, sizeof(*c));

	if (!c)
		return NULL;
	if (su_home_destructor(c->home, call_destructor) < 0) {
		su_home_unref(c->home);
		return NULL;
	}
	c->ua = ua;
	c->nh = nh;
	snprintf(c->user, sizeof(c->user), "%s", user);
	c->sdp_id = ((uint64_t)ua_now_s() << 16) ^ (uint64_t)(uintptr_t)c;
	c->sdp_version = 1;
	nua_handle_bind(nh, c);
	return c;
}

/* The call is finished with: its handle goes with it. */
void ua_call_free(struct call *c)
{
	if (c)
		su_home_unref(c->home);
}

/* Forget the member record: it is about to be freed or is gone. */
void ua_call_unlink(struct call *c)
{
	if (c && c->member) {
		c->member->handle = NULL;
		c->member = NULL;
	}
}

static char *header_str(su_home_t *home, const void *h)
{
	return h ? sip_header_as_string(home, (const sip_header_t *)h) : NULL;
}

/* Keep what is needed to take this dialog up again after a restart. */
void ua_call_capture_dialog(struct call *c, const sip_t *sip)
{
	for (const sip_accept_t *a = sip->sip_accept; a; a = a->ac_next)
		if (a->ac_type && su_casematch(a->ac_type, "message/cpim"))
			c->cpim = true;
	c->call_id = su_strdup(c->home, sip->sip_call_id->i_id);
	c->remote_tag = su_strdup(c->home, sip->sip_from->a_tag);
	c->remote_uri = url_as_string(c->home, sip->sip_from->a_url);
	c->local_uri = url_as_string(c->home, sip->sip_to->a_url);
	if (sip->sip_contact)
		c->remote_target =
		    url_as_string(c->home, sip->sip_contact->m_url);
	else
		c->remote_target = su_strdup(c->home, c->remote_uri);
	if (sip->sip_record_route) {
		/* RFC 3261 §12.1.1: the UAS route set is the Record-Route
		 * list in order. */
		char *all = NULL;

		for (const sip_record_route_t *r = sip->sip_record_route; r;
		     r = r->r_next) {
			char *one = header_str(c->home, r);

			all =
			    all ? su_sprintf(c->home, "%s, %s", all, one) : one;
		}
		c->route_set = all;
	}
}

void ua_fill_store_member(const struct call *c, const struct space_member *m,
			  struct store_member *sm)
{
	memset(sm, 0, sizeof(*sm));
	sm->space_id = c->space_id;
	sm->user = m->user;
	sm->service = m->service;
	sm->role = space_role_str(m->role);
	sm->delivery = space_delivery_str(m->delivery);
	sm->sdp_addr = m->addr;
	sm->sdp_port = m->port;
	sm->sdp_media = c->offer.media;
	sm->sdp_pt = m->pt;
	sm->admitted_seq = m->seq;
	sm->call_id = c->call_id;
	sm->local_tag = c->local_tag;
	sm->remote_tag = c->remote_tag;
	sm->local_uri = c->local_uri;
	sm->remote_uri = c->remote_uri;
	sm->remote_target = c->remote_target;
	sm->route_set = c->route_set;
	sm->joined = m->since;
}

/* The channel @a c receives: its space's, or in a personal session (after
 * leaving to its own service) its own. */
const struct channel *ua_call_channel(const struct call *c)
{
	if (c->member)
		return space_channel(c->member->space);
	if (c->personal)
		return catalog_channel(space_mgr_catalog(c->ua->mgr),
				       c->personal);
	return NULL;
}

/* The answer that points @a c at the space's current channel. */
char *ua_call_answer(su_home_t *home, struct call *c, const struct channel *ch)
{
	struct sipua *ua = c->ua;
	const struct space_member *m = c->member;
	struct sdpneg_answer a = {
	    .session_id = c->sdp_id,
	    .version = c->sdp_version,
	    .origin_addr = ua->cfg->media_addr,
	    .channel = ch,
	    .delivery = m ? m->delivery : c->delivery,
	    .pt = m ? m->pt : (c->pt ? c->pt : ch->pt),
	};
	char name[64];

	snprintf(name, sizeof(name), "tvspace space-%" PRIu64, c->space_id);
	a.session_name = name;
	a.relay_addr = ua->cfg->media_addr;
	a.relay_port = c->relay_port;
	a.event_pt = c->leg ? c->offer.event_pt : 0;
	return sdpneg_answer(home, &a);
}

/* Relay delivery: a leg of ours sending the channel to the member's SDP
 * address (PROTOCOL.md "relay").  0, or -errno (no port left: 503). */
int ua_call_start_relay(struct call *c, const struct channel *ch,
			const char *addr, unsigned port, unsigned pt)
{
	struct sipua *ua = c->ua;
	int err;

	if (c->leg || !ua->media)
		return c->leg ? 0 : -ENOTSUP;
	err = media_source_start(ua->media, ch);
	if (!err)
		err = media_leg_create(ua->media, ch->id, addr, port, pt,
				       &c->leg, &c->relay_port);
	if (err < 0)
		log_warn("space-%" PRIu64 " %s: no relay leg (%s)", c->space_id,
			 c->user, strerror(-err));
	else if (c->offer.event_pt)
		media_leg_on_dtmf(c->leg, c->offer.event_pt, ua_on_key, c);
	return err;
}

/* The member stops receiving: its leg goes (multicast members leave the
 * group when their dialog ends). */
void ua_call_stop_media(struct call *c)
{
	if (c)
		c->leg = media_leg_destroy(c->leg);
}

const char *ua_contact_of(su_home_t *home, struct sipua *ua, uint64_t id)
{
	/* RFC 4579 §5.1: the focus marks its Contact with isfocus.  The
	 * host part is where we are reached, so in-dialog requests find us. */
	return su_sprintf(home, "<sip:space-%" PRIu64 "@%s>;isfocus", id,
			  ua->hostport);
}

/* Send 200 with the SDP answer to the pending INVITE of @a c. */
void ua_call_accept(struct call *c)
{
	struct sipua *ua = c->ua;
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct space *sp = c->member ? c->member->space : NULL;
	const struct channel *ch = sp ? space_channel(sp) : NULL;
	char *sdp = ch ? ua_call_answer(home, c, ch) : NULL;

	if (!sdp) {
		ua_refuse_later(ua, c->nh, SIP_500_INTERNAL_SERVER_ERROR,
				"cannot describe the channel");
		su_home_deinit(home);
		return;
	}
	c->phase = CALL_LIVE;
	nua_respond(c->nh, SIP_200_OK,
		    SIPTAG_CONTACT_STR(ua_contact_of(home, ua, c->space_id)),
		    SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		    SIPTAG_PAYLOAD_STR(sdp), TAG_END());
	log_info("space-%" PRIu64 " %s joined as %s on %s (%s) call-id %s",
		 c->space_id, c->user, space_role_str(c->member->role), ch->id,
		 space_delivery_str(c->member->delivery), c->call_id);
	ua_space_changed(ua, sp, false);
	if (c->member->role != SPACE_HOST) {
		tv_stats.joins++;
		ua_send_history(c);
	}
	su_home_deinit(home);
}

/* An in-dialog MESSAGE, text/plain, from the space to @a c. */
void ua_call_tell(struct call *c, const char *text)
{
	if (!c || !c->nh || c->phase != CALL_LIVE)
		return;
	nua_message(c->nh, SIPTAG_CONTENT_TYPE_STR("text/plain; charset=UTF-8"),
		    SIPTAG_PAYLOAD_STR(text), TAG_END());
}

static struct call *host_call(struct space *sp)
{
	struct space_member *h = space_host(sp);

	return h ? h->handle : NULL;
}

void ua_tell_host(struct space *sp, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ua_call_tell(host_call(sp), text);
}

/* The space a Request-URI names (sip:space-ID@...), or NULL. */
struct space *ua_space_of_uri(struct sipua *ua, const url_t *uri)
{
	const char *u = uri ? uri->url_user : NULL;
	char *end;
	unsigned long long id;

	if (!u || strncmp(u, "space-", 6) != 0 || u[6] < '0' || u[6] > '9')
		return NULL;
	errno = 0;
	id = strtoull(u + 6, &end, 10);
	if (*end || errno || !id)
		return NULL;
	return space_find(ua->mgr, (uint64_t)id);
}

void ua_tell_all(struct space *sp, struct call *except, const char *text)
{
	for (struct space_member *m = space_members(sp); m; m = m->next)
		if (m->role != SPACE_PENDING && m->handle != except)
			ua_call_tell(m->handle, text);
}

const char *ua_header_value(const sip_t *sip, const char *name)
{
	for (const sip_unknown_t *u = sip->sip_unknown; u; u = u->un_next)
		if (su_casematch(u->un_name, name))
			return u->un_value;
	return NULL;
}

/* Reply to the command MESSAGE/INFO being handled. */
void ua_reply(struct sipua *ua, nua_handle_t *nh, int status,
	      const char *phrase, const char *why)
{
	/* RFC 5057 §5.1: inside a dialog 404, 410 and 480-485 end the dialog
	 * itself, and sofia does so.  A host who mistypes "/switch 99" must
	 * keep its session: "nothing by that name" is a bad request here,
	 * with the Warning saying what was not found. */
	if (status == 404 || status == 410 || (status >= 480 && status <= 485))
		status = 400, phrase = sip_400_Bad_request;
	if (!nh && status < 300)
		return;
	if (status < 300)
		nua_respond(nh, status, phrase, NUTAG_WITH(ua_request(ua)),
			    TAG_END());
	else
		ua_refuse(ua, nh, status, phrase, why, TAG_END());
}

void ua_reply_verdict(struct sipua *ua, nua_handle_t *nh, enum space_verdict v,
		      const char *why)
{
	struct verdict_map s = ua_verdict_status(v);

	ua_reply(ua, nh, s.status, s.phrase, why ? why : space_verdict_str(v));
}
