/* Dialogs with members (struct call, bound to its nua handle, counted) and
 * the responses the adapter sends: Warning headers, verdicts as status
 * codes, the SDP and the focus Contact, MESSAGEs to members.  The lowest
 * layer of the SIP adapter; one su_root thread. */
#define LOG_MODULE "sip"
#include "sip/sipua_int.h"

#include <sofia-sip/sdp.h>

#include "sip/routepin.h"

static char *print_sdp(su_home_t *home, const sdp_session_t *s);

int64_t ua_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ua_wall(void)
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
		buf[n++] = (char)((unsigned char)*p < 0x20 ? ' ' : *p);
	}
	buf[n] = '\0';
	return su_sprintf(home, "399 %s \"%s\"", ua->cfg->domain, buf);
}

msg_t *ua_request(struct sipua *ua)
{
	if (ua->req.saved)
		return nua_saved_event_request(ua->req.saved);
	return ua->req.msg ? ua->req.msg : nua_current_request(ua->nua);
}

int ua_save_event(struct sipua *ua, nua_saved_event_t saved[1])
{
	if (ua->req.saved && ua->req.saved[0]) {
		/* The request the gate handed on is saved already: it
		 * changes hands. */
		saved[0] = ua->req.saved[0];
		ua->req.saved[0] = NULL;
		return 1;
	}
	return nua_save_event(ua->nua, saved);
}

enum ident_source ua_ident(struct sipua *ua, const sip_t *sip, char *buf,
			   size_t len)
{
	if (ua->req.user) {
		if (strlen(ua->req.user) >= len)
			return IDENT_NONE;
		strcpy(buf, ua->req.user);
		return IDENT_DIGEST;
	}
	return ident_user(ua->cfg, ua_request(ua), sip, buf, len);
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
		    SIPTAG_WARNING_STR(ua_warning(home, ua, why)),
		    TAG_IF(status == 503, SIPTAG_RETRY_AFTER_STR(RETRY_AFTER)),
		    ta_tags(ta));
	ta_end(ta);
	su_home_deinit(home);
}

/* Refuse the INVITE a handle holds, later than its event (after a
 * commit or a lookup). */
void ua_refuse_later(struct sipua *ua, nua_handle_t *nh, int status,
		     const char *phrase, const char *why)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct call *c = nua_handle_magic(nh);

	if (c)
		c->answered = true;
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
	case SPACE_ENDING:
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
	case SPACE_BANNED:
		return (struct verdict_map){SIP_403_FORBIDDEN};
	}
	return (struct verdict_map){SIP_500_INTERNAL_SERVER_ERROR};
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

/* -- the call object ------------------------------------------------------- */

/* A call is not a home of its own (a home's table of blocks costs some
 * 560 bytes at once): it is allocated alone, listed in ua->calls so that
 * what is left when the adapter goes is freed, and freed here. */
static void call_free(struct call *c)
{
	c->media.leg = media_leg_destroy(c->media.leg);
	if (c->media.glare)
		su_timer_destroy(c->media.glare);
	if (c->resuming)
		routepin_drop(c->dlg.call_id);
	/* A stop that keeps the dialogs (sipua_keep_dialogs()) leaves a
	 * live dialog's handle to nua: destroying it would send a BYE. */
	if (c->dlg.nh && c->ua->nua) {
		nua_handle_bind(c->dlg.nh, NULL);
		if (!c->ua->keep_dialogs || c->terminated)
			nua_handle_destroy(c->dlg.nh);
	}
	c->dlg.nh = NULL;
	su_home_deinit(c->home);
	free(c->dlg.ids);
	free(c->dlg.local_sdp);
	free(c->media.offer_block);
	*c->calls_prev = c->calls_next;
	if (c->calls_next)
		c->calls_next->calls_prev = c->calls_prev;
	free(c);
}

void ua_calls_free(struct sipua *ua)
{
	struct call *next;

	for (struct call *c = ua->calls; c; c = next) {
		next = c->calls_next;
		call_free(c); /* unlinks it: ua->calls is next */
	}
}

struct call *ua_call_new(struct sipua *ua, nua_handle_t *nh, const char *user)
{
	size_t len = strnlen(user, USER_MAX - 1);
	struct call *c = calloc(1, sizeof(*c) + len + 1);

	if (!c)
		return NULL;
	memcpy(c->user, user, len);
	/* c->home is zeroed: SU_HOME_INIT */
	c->calls_next = ua->calls;
	c->calls_prev = &ua->calls;
	if (ua->calls)
		ua->calls->calls_prev = &c->calls_next;
	ua->calls = c;
	c->refs = 1; /* the handle's binding, until nua is done with it */
	c->ua = ua;
	c->dlg.nh = nh;
	c->dlg.sdp_id = ((uint64_t)ua_wall() << 16) ^ (uint64_t)(uintptr_t)c;
	c->dlg.sdp_version = 1;
	nua_handle_bind(nh, c);
	return c;
}

struct call *call_ref(struct call *c)
{
	if (c)
		c->refs++;
	return c;
}

void call_unref(struct call *c)
{
	if (!c || --c->refs > 0)
		return;
	/* Nothing may point at it any more. */
	if (c->member)
		c->member->handle = NULL;
	call_free(c);
}

bool call_gone(const struct call *c)
{
	return c->cancelled || c->bye || c->terminated;
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

/* RFC 3261 §12.1.1: the UAS route set is the Record-Route list in order;
 * §12.1.2: the UAC's is that list reversed. */
static char *route_set(su_home_t *home, const sip_record_route_t *rr,
		       bool reverse)
{
	char *all = NULL;

	for (; rr; rr = rr->r_next) {
		char *one = header_str(home, rr);

		if (!all)
			all = one;
		else if (reverse)
			all = su_sprintf(home, "%s, %s", one, all);
		else
			all = su_sprintf(home, "%s, %s", all, one);
	}
	return all;
}

static void take_accept(struct call *c, const sip_t *sip)
{
	for (const sip_accept_t *a = sip->sip_accept; a; a = a->ac_next)
		if (a->ac_type && su_casematch(a->ac_type, "message/cpim"))
			c->dlg.cpim = true;
}

/* The dialog's identifiers @a v (call_id, local_tag, remote_tag,
 * local_uri, remote_uri, remote_target, route_set; NULL where none) into
 * one block, in place of the one before.  Each may point into that one. */
static int keep_ids(struct dialog *d, const char *const v[7])
{
	char **const field[7] = {
	    &d->call_id,    &d->local_tag,     &d->remote_tag, &d->local_uri,
	    &d->remote_uri, &d->remote_target, &d->route_set};
	size_t size = 0;
	char *block, *p;

	for (unsigned i = 0; i < 7; i++)
		size += v[i] ? strlen(v[i]) + 1 : 0;
	block = malloc(size ? size : 1);
	if (!block)
		return -ENOMEM;
	p = block;
	for (unsigned i = 0; i < 7; i++) {
		if (!v[i]) {
			*field[i] = NULL;
			continue;
		}
		size = strlen(v[i]) + 1;
		*field[i] = memcpy(p, v[i], size);
		p += size;
	}
	free(d->ids);
	d->ids = block;
	return 0;
}

/* Our To tag for the INVITE that @a c answers.  nua chose it when the
 * INVITE came (its dialog's leg is tagged before the event is reported),
 * and every response carries it; a Replaces made from the dialog names it
 * as from-tag (RFC 3891 §3, from the leg's side).  Known now, it goes
 * into the membership's INSERT, not in a second statement after the ACK.
 * NULL if nua has no dialog for the handle. */
static const char *uas_tag(su_home_t *home, struct call *c)
{
	sip_replaces_t *rp;

	if (c->dlg.local_tag || !c->dlg.nh)
		return c->dlg.local_tag;
	rp = nua_handle_make_replaces(c->dlg.nh, home, 0);
	return rp && rp->rp_from_tag && strcmp(rp->rp_from_tag, "0") != 0
		   ? rp->rp_from_tag
		   : NULL;
}

/* The identifiers of a dialog from its INVITE (@a uac false: we are its
 * UAS) or from the 2xx to our INVITE (RFC 3261 §12.1). */
static void capture(struct call *c, const sip_t *sip, bool uac)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	const sip_from_t *local = uac ? sip->sip_from : sip->sip_to;
	const sip_from_t *remote = uac ? sip->sip_to : sip->sip_from;
	const char *remote_uri = url_as_string(home, remote->a_url);
	const char *v[7] = {
	    sip->sip_call_id->i_id,
	    uac ? local->a_tag : uas_tag(home, c),
	    remote->a_tag,
	    url_as_string(home, local->a_url),
	    remote_uri,
	    sip->sip_contact ? url_as_string(home, sip->sip_contact->m_url)
			     : remote_uri,
	    route_set(home, sip->sip_record_route, uac),
	};

	take_accept(c, sip);
	if (keep_ids(&c->dlg, v) < 0)
		log_err("%s: out of memory for the dialog's identifiers",
			c->user);
	su_home_deinit(home);
}

/* Keep what is needed to take this dialog up again after a restart: we
 * are its UAS. */
void ua_call_capture_dialog(struct call *c, const sip_t *sip)
{
	capture(c, sip, false);
	ua_call_timer_asked(c, sip);
}

/* The same from the 2xx to an INVITE we sent (the host's REFER). */
void ua_call_capture_uac(struct call *c, const sip_t *sip)
{
	c->dlg.uac = true;
	capture(c, sip, true);
	ua_call_timer_answered(c, sip);
}

int ua_call_set_local_tag(struct call *c, const char *tag)
{
	struct dialog *d = &c->dlg;
	const char *v[7] = {d->call_id,   tag,           d->remote_tag,
			    d->local_uri, d->remote_uri, d->remote_target,
			    d->route_set};

	return keep_ids(d, v);
}

/* nua negotiates the session timer (RFC 4028) but forgets what it learnt
 * from a 422 and asks the configured interval again in every re-INVITE:
 * a refresh should ask the session's interval and carry the largest
 * Min-SE the dialog has seen (§7.4), so what nua agreed is kept here. */
void ua_call_timer_asked(struct call *c, const sip_t *sip)
{
	unsigned cfg = c->ua->cfg->session_expires, se, min;

	if (!cfg)
		return;
	min = sip->sip_min_se ? (unsigned)sip->sip_min_se->min_delta : 0;
	if (min > c->dlg.min_se)
		c->dlg.min_se = min;
	/* As nua answers (§9): the member's interval, at most ours, at
	 * least both Min-SEs. */
	se = sip->sip_session_expires
		 ? (unsigned)sip->sip_session_expires->x_delta
		 : 0;
	if (!se || se > cfg)
		se = cfg;
	if (se < UA_MIN_SE)
		se = UA_MIN_SE;
	if (se < min)
		se = min;
	c->dlg.se_interval = se;
}

void ua_call_timer_answered(struct call *c, const sip_t *sip)
{
	unsigned min, asked = ua_call_timer_refresh(c, &min), se;

	if (!asked || !sip)
		return;
	if (sip->sip_min_se && sip->sip_min_se->min_delta > c->dlg.min_se)
		c->dlg.min_se = (unsigned)sip->sip_min_se->min_delta;
	se = sip->sip_session_expires
		 ? (unsigned)sip->sip_session_expires->x_delta
		 : 0;
	/* A UAS may shorten the interval, never lengthen it (§9): a longer
	 * one is a 422 on the way, which nua answered by asking its Min-SE
	 * (§7.3); the dialog's Min-SE is that now. */
	if (se > asked && se > c->dlg.min_se)
		c->dlg.min_se = se;
	/* None: the member runs no timer (§7.2); ours asks the configured. */
	c->dlg.se_interval = se;
}

unsigned ua_call_timer_refresh(const struct call *c, unsigned *ret_min_se)
{
	unsigned cfg = c->ua->cfg->session_expires;
	unsigned min = c->dlg.min_se > UA_MIN_SE ? c->dlg.min_se : UA_MIN_SE;
	unsigned se = c->dlg.se_interval ? c->dlg.se_interval : cfg;

	if (!cfg)
		return 0;
	if (se < min)
		se = min;
	*ret_min_se = min;
	return se;
}

void ua_fill_store_member(const struct call *c, const struct space_member *m,
			  struct store_member *sm)
{
	memset(sm, 0, sizeof(*sm));
	sm->space_id = c->space_id;
	sm->user = m->user;
	sm->service = m->service;
	sm->role =
	    space_role_str(m->role == SPACE_PENDING ? SPACE_GUEST : m->role);
	sm->delivery = space_delivery_str(m->delivery);
	sm->sdp_addr = m->addr;
	sm->sdp_port = m->port;
	sm->sdp_media = c->media.offer.media;
	if (m->streams) {
		/* the media it receives, of which addr, port and pt are the
		 * first's */
		bool v = m->streams->media[CHANNEL_VIDEO].line >= 0;
		bool a = m->streams->media[CHANNEL_AUDIO].line >= 0;

		sm->sdp_media = v && a ? "video audio" : v ? "video" : "audio";
	}
	sm->sdp_pt = m->pt;
	sm->admitted_seq = m->seq;
	sm->call_id = c->dlg.call_id;
	sm->local_tag = c->dlg.local_tag;
	sm->remote_tag = c->dlg.remote_tag;
	sm->local_uri = c->dlg.local_uri;
	sm->remote_uri = c->dlg.remote_uri;
	sm->remote_target = c->dlg.remote_target;
	sm->route_set = c->dlg.route_set;
	sm->local_sdp = c->dlg.local_sdp;
	sm->joined = ua_wall();
}

/* The channel @a c receives: its space's, or in a personal session (after
 * leaving to its own service) its own. */
const struct channel *ua_call_channel(const struct call *c)
{
	if (c->member)
		return c->member->behind ? c->member->behind
					 : space_channel(c->member->space);
	return c->personal;
}

/* @a sdp with a=ptime:@a ptime on its media line: a relay member's own
 * packet time, offered back (RFC 3264 §6.1) so that a re-offer after a
 * restart carries it as the session had it. */
static char *with_ptime(su_home_t *home, char *sdp, unsigned ptime)
{
	sdp_parser_t *p = sdp_parse(home, sdp, (issize_t)strlen(sdp), 0);
	sdp_session_t *s = sdp_session(p);
	sdp_media_t *m = s ? s->sdp_media : NULL;
	sdp_attribute_t a = {.a_size = sizeof(a), .a_name = "ptime"};
	char value[12], *text = sdp;

	if (m && !sdp_attribute_find(m->m_attributes, "ptime")) {
		snprintf(value, sizeof(value), "%u", ptime);
		a.a_value = value;
		a.a_next = m->m_attributes;
		m->m_attributes = &a;
		text = print_sdp(home, s);
		m->m_attributes = a.a_next;
	}
	sdp_parser_free(p);
	return text ? text : sdp;
}

/* @a sdp is what the dialog has now; stored when it is new. */
static void keep_local_sdp(struct call *c, const char *sdp)
{
	if (c->dlg.local_sdp && strcmp(c->dlg.local_sdp, sdp) == 0)
		return;
	free(c->dlg.local_sdp);
	c->dlg.local_sdp = strdup(sdp);
	c->dlg.sdp_dirty = true;
}

/* -- a member's streams (a channel of separate streams) --------------------
 * A relay member has a leg a stream it receives, chained in the order of
 * the media types (video, then audio) whatever the order of its m= lines;
 * each sends the payload type the member's answer agreed for the stream's
 * encoding (space_stream_pt()). */

/* What @a c's session agreed for the streams of @a ch: its member's, or
 * (a start before the member exists, a personal session) what its offer
 * takes.  false when nothing says. */
static bool call_streams(const struct call *c, const struct channel *ch,
			 struct space_streams *ret)
{
	if (ch->media != CHANNEL_STREAMS)
		return false;
	if (c->member && c->member->streams) {
		*ret = *c->member->streams;
		return true;
	}
	if (!c->media.offer.lines && !c->media.offer.none)
		return false;
	return space_streams_fit(c->ua->mgr, &c->media.offer, ch, ret) ==
	       SPACE_OK;
}

/* The payload type @a s (a relay member's streams) receives @a st on. */
static int agreed_pt(const struct space_streams *s,
		     const struct channel_stream *st)
{
	return space_streams_pt(s, st);
}

/* @a c's leg for media @a media, or NULL. */
static struct media_leg *leg_of(const struct call *c,
				const struct space_streams *s,
				enum channel_media media)
{
	struct media_leg *leg = c->media.leg;

	if (s->media[media].line < 0)
		return NULL;
	if (media == CHANNEL_AUDIO && s->media[CHANNEL_VIDEO].line >= 0)
		leg = media_leg_next(leg);
	return leg;
}

/* A leg a stream of @a ch that @a c receives, video first. */
static int start_stream_relay(struct call *c, const struct channel *ch)
{
	struct sipua *ua = c->ua;
	struct space_streams s;
	int err;

	if (!call_streams(c, ch, &s))
		return -EINVAL;
	err = media_source_start(ua->media, ch);
	for (unsigned k = 0; !err && k < 2; k++) {
		const struct channel_stream *st =
		    catalog_stream_of(ch, (enum channel_media)k);
		int pt = st ? agreed_pt(&s, st) : -1;
		struct media_leg *leg = NULL;
		unsigned port = 0;

		if (s.media[k].line < 0)
			continue;
		if (pt < 0) {
			err = -EINVAL;
			break;
		}
		err = media_leg_create_stream(ua->media, ch->id,
					      (unsigned)(st - ch->streams),
					      s.media[k].addr, s.media[k].port,
					      (unsigned)pt, &leg, &port);
		if (err < 0)
			break;
		if (c->media.leg) {
			media_leg_chain(c->media.leg, leg);
		}
		else {
			c->media.leg = leg;
			c->media.relay_port = port;
		}
	}
	if (err < 0)
		c->media.leg = media_leg_destroy(c->media.leg);
	return err;
}

int ua_call_switch_relay(struct call *c, const struct channel *ch)
{
	struct sipua *ua = c->ua;
	struct space_streams s;
	int err = media_source_start(ua->media, ch);

	if (err < 0)
		return err;
	if (ch->media != CHANNEL_STREAMS)
		return media_leg_switch(c->media.leg, ch->id);
	if (!call_streams(c, ch, &s))
		return -EINVAL;
	for (unsigned k = 0; k < 2; k++) {
		const struct channel_stream *st =
		    catalog_stream_of(ch, (enum channel_media)k);
		struct media_leg *leg = leg_of(c, &s, (enum channel_media)k);
		int pt = st ? agreed_pt(&s, st) : -1;

		if (!leg)
			continue;
		if (pt < 0)
			return -EINVAL; /* space_member_can_take() said no */
		err = media_leg_switch_stream(
		    leg, ch->id, (unsigned)(st - ch->streams), (unsigned)pt);
		if (err < 0)
			return err;
	}
	return 0;
}

int ua_call_retarget(struct call *c, const struct space_offer *o)
{
	const struct channel *ch = ua_call_channel(c);
	struct space_streams s;
	int err = 0;

	if (!c->media.leg || !o->addr || !o->port || o->multicast)
		return -EINVAL;
	if (!ch || !call_streams(c, ch, &s))
		return media_leg_retarget(c->media.leg, o->addr, o->port);
	/* Each stream to the new offer's first line of its media. */
	for (unsigned k = 0; k < 2 && !err; k++) {
		struct media_leg *leg = leg_of(c, &s, (enum channel_media)k);

		for (unsigned l = 0; leg && l < o->n_lines; l++) {
			const struct space_offer_line *x = &o->lines[l];

			if (x->rtp && x->port && !x->multicast &&
			    su_casematch(x->media, k == CHANNEL_AUDIO
						       ? "audio"
						       : "video")) {
				err = media_leg_retarget(leg, x->addr, x->port);
				break;
			}
		}
	}
	return err;
}

char *ua_call_sdp(su_home_t *home, struct call *c, const struct channel *ch)
{
	struct sipua *ua = c->ua;
	const struct space_member *m = c->member;
	struct sdpneg_answer a = {
	    .session_id = c->dlg.sdp_id,
	    .version = c->dlg.sdp_version,
	    .origin_addr = ua->cfg->media_addr,
	    .channel = ch,
	    .delivery = m ? m->delivery : c->delivery,
	    /* A channel's own payload type: what the group carries, the same
	     * as the member's whenever the media type is the same. */
	    .pt = m && m->delivery == SPACE_RELAY ? m->pt : ch->pt,
	};
	struct space_streams streams;
	char name[64], *sdp;

	snprintf(name, sizeof(name), "tvspace space-%" PRIu64, c->space_id);
	a.session_name = name;
	a.relay_addr = ua->cfg->media_addr;
	a.relay_port = c->media.relay_port;
	a.event_pt = c->media.leg ? c->media.offer.event_pt : 0;
	if (c->media.reoffer && !c->answered)
		a.refused_group = c->media.offer.addr;
	if (a.delivery == SPACE_RELAY && c->pt && !m)
		a.pt = c->pt;
	/* RFC 3264 §6, §8: the lines of the member's offer, in its order, in
	 * every answer and re-offer of the dialog. */
	if (c->media.offer.lines)
		a.offer = &c->media.offer;
	if (ch->media == CHANNEL_STREAMS && call_streams(c, ch, &streams)) {
		a.streams = &streams;
		for (unsigned k = 0; k < 2; k++)
			a.stream_ports[k] = media_leg_port(
			    leg_of(c, &streams, (enum channel_media)k));
	}
	sdp = sdpneg_answer(home, &a);
	if (sdp && a.delivery == SPACE_RELAY && c->media.ptime)
		sdp = with_ptime(home, sdp, c->media.ptime);
	if (sdp)
		keep_local_sdp(c, sdp);
	return sdp;
}

/* The first m= line of @a s that is audio or video (the one served). */
static sdp_media_t *served_media(sdp_session_t *s)
{
	for (sdp_media_t *m = s ? s->sdp_media : NULL; m; m = m->m_next)
		if (m->m_type == sdp_media_audio ||
		    m->m_type == sdp_media_video)
			return m;
	return NULL;
}

static char *print_sdp(su_home_t *home, const sdp_session_t *s)
{
	sdp_printer_t *pr = sdp_print(home, s, NULL, 0, sdp_f_all_rtpmaps);
	char *text = NULL;

	if (sdp_message(pr))
		text = su_strdup(home, sdp_message(pr));
	sdp_printer_free(pr);
	return text;
}

char *ua_call_resume_sdp(su_home_t *home, struct call *c,
			 const struct channel *ch)
{
	const char *addr = c->ua->cfg->media_addr;
	struct space_streams streams;
	sdp_parser_t *p;
	sdp_session_t *s;
	sdp_media_t *m;
	sdp_attribute_t *a;
	char *text = NULL;

	if (!c->dlg.local_sdp)
		return NULL;
	p = sdp_parse(home, c->dlg.local_sdp,
		      (issize_t)strlen(c->dlg.local_sdp), 0);
	s = sdp_session(p);
	m = served_media(s);
	if (!s || !s->sdp_origin || !m) {
		log_warn("space-%" PRIu64 " %s: the stored SDP does not parse "
			 "(%s)",
			 c->space_id, c->user, sdp_parsing_error(p));
		goto out;
	}
	a = sdp_attribute_find(m->m_attributes, "tvspace-channel");
	if (a && a->a_value && !su_strmatch(a->a_value, ch->id) &&
	    c->media.leg) {
		/* Relay: a switch changed the leg's source, not the session
		 * (PROTOCOL.md); the SDP names what it carries now. */
		a->a_value = (char *)ch->id;
		s->sdp_information = (char *)ch->name;
	}
	else if (a && a->a_value && !su_strmatch(a->a_value, ch->id)) {
		/* The space moved on while this member's SDP was not
		 * stored: the channel's SDP goes instead. */
		log_info("space-%" PRIu64 " %s: stored SDP is for %s, the "
			 "space is on %s",
			 c->space_id, c->user, a->a_value, ch->id);
		goto out;
	}
	/* RFC 3264 §8: the same o= but for its version. */
	s->sdp_origin->o_version = c->dlg.sdp_version;
	if (c->media.leg && ch->media == CHANNEL_STREAMS &&
	    call_streams(c, ch, &streams)) {
		/* A leg a stream: each line its media's leg's port, and the
		 * channel it carries now. */
		for (sdp_media_t *x = s->sdp_media; x; x = x->m_next) {
			enum channel_media k = x->m_type == sdp_media_audio
						   ? CHANNEL_AUDIO
						   : CHANNEL_VIDEO;
			sdp_attribute_t *ca;

			if (!x->m_port || (x->m_type != sdp_media_audio &&
					   x->m_type != sdp_media_video))
				continue;
			x->m_port = media_leg_port(leg_of(c, &streams, k));
			ca = sdp_attribute_find(x->m_attributes,
						"tvspace-channel");
			if (ca)
				ca->a_value = (char *)ch->id;
		}
		if (s->sdp_connection && !s->sdp_connection->c_mcast) {
			s->sdp_connection->c_addrtype =
			    strchr(addr, ':') ? sdp_addr_ip6 : sdp_addr_ip4;
			s->sdp_connection->c_address = (char *)addr;
		}
	}
	else if (c->media.leg) {
		/* Relay: the member's RTP comes from our new leg, on this
		 * node's address (a takeover moves it). */
		sdp_connection_t *cs[2] = {s->sdp_connection, m->m_connections};

		m->m_port = c->media.relay_port;
		for (unsigned i = 0; i < 2; i++)
			if (cs[i] && !cs[i]->c_mcast) {
				cs[i]->c_addrtype = strchr(addr, ':')
							? sdp_addr_ip6
							: sdp_addr_ip4;
				cs[i]->c_address = (char *)addr;
			}
	}
	text = print_sdp(home, s);
	if (text)
		keep_local_sdp(c, text);
out:
	sdp_parser_free(p);
	return text;
}

/* A restored member of a picture-and-sound channel: what its session
 * agreed is read back from the answer stored (@a text lists the formats
 * agreed on each line), and its lines kept for the re-offers.  Where it
 * receives: the store kept its first stream's address and port; the other
 * stream's leg waits (port 0) for the member's answer to the re-INVITE
 * (ua_call_take_answer()). */
static int restore_streams(struct call *c, const struct channel *ch,
			   const char *text)
{
	struct space_member *m = c->member;
	struct space_offer o;
	struct space_streams st;
	const char *why = NULL;
	bool first = true;

	if (sdpneg_parse_offer(c->home, text, strlen(text), &o, &why) < 0 ||
	    space_streams_fit(c->ua->mgr, &o, ch, &st) != SPACE_OK)
		return -EBADMSG;
	for (unsigned i = 0; i < ch->n_streams && i < CHANNEL_MAX_STREAMS;
	     i++) {
		struct space_stream *x = &st.media[ch->streams[i].media];

		if (x->line < 0)
			continue;
		x->addr = m->addr;
		x->port = first ? m->port : 0;
		x->multicast = false;
		first = false;
	}
	c->media.offer.lines = o.lines;
	c->media.offer.n_lines = o.n_lines;
	return space_member_set_streams(m, &st);
}

int ua_call_take_answer(struct call *c, const sip_t *sip)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	const struct channel *ch = ua_call_channel(c);
	struct space_offer o;
	const char *why = NULL;
	int err = -EINVAL;

	if (c->media.leg && ch && ch->media == CHANNEL_STREAMS && sip &&
	    sip->sip_payload && sip->sip_payload->pl_len &&
	    sdpneg_parse_offer(home, sip->sip_payload->pl_data,
			       sip->sip_payload->pl_len, &o, &why) == 0)
		err = ua_call_retarget(c, &o);
	su_home_deinit(home);
	return err;
}

int ua_call_restore_sdp(struct call *c, const char *text)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	sdp_parser_t *p = sdp_parse(home, text, (issize_t)strlen(text), 0);
	sdp_session_t *s = sdp_session(p);
	sdp_media_t *m = served_media(s);
	const char *ptime;
	int err = -EBADMSG;

	if (!s || !s->sdp_origin || !m)
		goto out;
	free(c->dlg.local_sdp);
	c->dlg.local_sdp = strdup(text);
	c->dlg.sdp_dirty = false;
	c->dlg.sdp_id = s->sdp_origin->o_id;
	c->dlg.sdp_version = s->sdp_origin->o_version;
	/* RFC 4733: the keys come back on the payload type we answered. */
	for (const sdp_rtpmap_t *rm = m->m_rtpmaps; rm; rm = rm->rm_next)
		if (rm->rm_encoding &&
		    su_casematch(rm->rm_encoding, "telephone-event"))
			c->media.offer.event_pt = rm->rm_pt;
	ptime = sdp_attribute_find(m->m_attributes, "ptime")
		    ? sdp_attribute_find(m->m_attributes, "ptime")->a_value
		    : NULL;
	if (ptime)
		c->media.ptime = (unsigned)strtoul(ptime, NULL, 10);
	err = c->dlg.local_sdp ? 0 : -ENOMEM;
	if (!err && c->member && ua_call_channel(c) &&
	    ua_call_channel(c)->media == CHANNEL_STREAMS)
		err = restore_streams(c, ua_call_channel(c), text);
out:
	sdp_parser_free(p);
	su_home_deinit(home);
	return err;
}

/* Relay delivery: a leg of ours sending the channel to the member's SDP
 * address (PROTOCOL.md "relay").  0, or -errno (no port left: 503). */
int ua_call_start_relay(struct call *c, const struct channel *ch,
			const char *addr, unsigned port, unsigned pt)
{
	struct sipua *ua = c->ua;
	int err;

	if (c->media.leg || !ua->media)
		return c->media.leg ? 0 : -ENOTSUP;
	if (ch->media == CHANNEL_STREAMS) {
		/* A leg a stream, where each of the offer's lines says, on
		 * the channel the member receives (a restored one may not
		 * have followed the space's: RFC 6141). */
		if (c->member && c->member->behind)
			ch = c->member->behind;
		err = start_stream_relay(c, ch);
		if (err < 0)
			log_warn("space-%" PRIu64 " %s: no relay legs (%s)",
				 c->space_id, c->user, strerror(-err));
		return err;
	}
	if (!addr)
		return -EINVAL;
	err = media_source_start(ua->media, ch);
	if (!err)
		err = media_leg_create(ua->media, ch->id, addr, port, pt,
				       &c->media.leg, &c->media.relay_port);
	if (err < 0)
		log_warn("space-%" PRIu64 " %s: no relay leg (%s)", c->space_id,
			 c->user, strerror(-err));
	else if (c->media.offer.event_pt)
		media_leg_on_dtmf(c->media.leg, c->media.offer.event_pt,
				  ua->on_key, c);
	return err;
}

/* The member stops receiving: its leg goes (multicast members leave the
 * group when their dialog ends). */
void ua_call_stop_media(struct call *c)
{
	if (c)
		c->media.leg = media_leg_destroy(c->media.leg);
}

const char *ua_contact_of(su_home_t *home, struct sipua *ua, uint64_t id)
{
	/* RFC 4579 §5.1: the focus marks its Contact with isfocus.  The
	 * host part is where we are reached, so in-dialog requests find us. */
	return su_sprintf(home, "<sip:space-%" PRIu64 "@%s>;isfocus", id,
			  ua->hostport);
}

const char *ua_header_value(const sip_t *sip, const char *name)
{
	for (const sip_unknown_t *u = sip->sip_unknown; u; u = u->un_next)
		if (su_casematch(u->un_name, name))
			return u->un_value;
	return NULL;
}

uint64_t ua_space_id_of_uri(const url_t *uri)
{
	const char *u = uri ? uri->url_user : NULL;
	char *end;
	unsigned long long id;

	if (!u || strncmp(u, "space-", 6) != 0 || u[6] < '0' || u[6] > '9')
		return 0;
	errno = 0;
	id = strtoull(u + 6, &end, 10);
	if (*end || errno)
		return 0;
	return (uint64_t)id;
}

/* The space a Request-URI names (sip:space-ID@...), or NULL. */
struct space *ua_space_of_uri(struct sipua *ua, const url_t *uri)
{
	uint64_t id = ua_space_id_of_uri(uri);

	return id ? space_find(ua->mgr, id) : NULL;
}

/* An in-dialog MESSAGE, text/plain, from the space to @a c. */
void ua_tell(struct call *c, const char *text)
{
	if (!c || !c->dlg.nh || call_gone(c) || !c->answered)
		return;
	nua_message(c->dlg.nh,
		    SIPTAG_CONTENT_TYPE_STR("text/plain; charset=UTF-8"),
		    SIPTAG_PAYLOAD_STR(text), TAG_END());
}

void ua_tell_host(struct space *sp, const char *fmt, ...)
{
	struct space_member *h = space_host(sp);
	char text[512];
	va_list ap;

	if (!h)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ua_tell(h->handle, text);
}

void ua_tell_all(struct space *sp, struct call *except, const char *text)
{
	for (struct space_member *m = space_members(sp); m; m = m->next)
		if (m->role != SPACE_PENDING && m->handle != except)
			ua_tell(m->handle, text);
}

/* The a=ptime of the offer's served m= line (or its session), 0 when
 * none: what a relay member's answer gives back. */
static unsigned offer_ptime(const char *sdp, size_t len)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	sdp_parser_t *p = sdp_parse(home, sdp, (issize_t)len, 0);
	sdp_session_t *s = sdp_session(p);
	sdp_media_t *m = served_media(s);
	sdp_attribute_t *a =
	    m ? sdp_attribute_find(m->m_attributes, "ptime") : NULL;
	unsigned long v = 0;

	if (!a && s)
		a = sdp_attribute_find(s->sdp_attributes, "ptime");
	if (a && a->a_value)
		v = strtoul(a->a_value, NULL, 10);
	sdp_parser_free(p);
	su_home_deinit(home);
	/* RFC 4566 §6: milliseconds; anything beyond a second is not one. */
	return v > 0 && v <= 1000 ? (unsigned)v : 0;
}

/* -- the offer, in one block ----------------------------------------------
 * A member's offer is kept for its whole session (its lines are answered
 * in every re-offer, RFC 3264 §8): one block for it rather than a dozen
 * small ones in a home.  Two passes of the same walk: the first counts
 * (@a p NULL), the second copies. */

static const char *place_str(char **p, size_t *n, const char *s)
{
	size_t len;

	if (!s)
		return NULL;
	len = strlen(s) + 1;
	*n += len;
	if (!*p)
		return NULL;
	memcpy(*p, s, len);
	*p += len;
	return *p - len;
}

/* The strings of @a o, and its lines (to @a lines, their formats to
 * @a formats), placed at @a p; with @a p NULL only counted.  Returns the
 * strings' length. */
static size_t place_offer(struct space_offer *o, char *p,
			  struct space_offer_line *lines,
			  struct space_format *formats)
{
	size_t n = 0;

	o->media = place_str(&p, &n, o->media);
	o->addr = place_str(&p, &n, o->addr);
	o->bc_service = place_str(&p, &n, o->bc_service);
	o->channel = place_str(&p, &n, o->channel);
	for (unsigned i = 0; i < o->n_lines; i++) {
		const struct space_offer_line *x = &o->lines[i];
		struct space_offer_line l = *x;

		for (unsigned k = 0; k < x->n_formats; k++) {
			struct space_format f = x->formats[k];

			f.encoding = place_str(&p, &n, f.encoding);
			f.fmtp = place_str(&p, &n, f.fmtp);
			if (formats)
				formats[k] = f;
		}
		l.formats = formats && x->n_formats ? formats : NULL;
		l.media = place_str(&p, &n, x->media);
		l.proto = place_str(&p, &n, x->proto);
		l.addr = place_str(&p, &n, x->addr);
		l.first_format = place_str(&p, &n, x->first_format);
		if (lines) {
			lines[i] = l;
			formats += x->n_formats;
		}
	}
	return n;
}

/* A copy of @a o in one block (malloc), its address in @a ret_block. */
static int pack_offer(const struct space_offer *o, struct space_offer *ret,
		      void **ret_block)
{
	size_t n_formats = 0, size;
	struct space_offer copy = *o;
	struct space_offer_line *lines;
	struct space_format *formats;
	char *block;

	for (unsigned i = 0; i < o->n_lines; i++)
		n_formats += o->lines[i].n_formats;
	size = o->n_lines * sizeof(*lines) + n_formats * sizeof(*formats);
	size += place_offer(&copy, NULL, NULL, NULL);
	block = malloc(size ? size : 1);
	if (!block)
		return -ENOMEM;
	lines = (struct space_offer_line *)block;
	formats = (struct space_format *)(lines + o->n_lines);
	copy = *o;
	place_offer(&copy, (char *)(formats + n_formats), lines, formats);
	copy.lines = o->n_lines ? lines : NULL;
	*ret = copy;
	*ret_block = block;
	return 0;
}

/* @a pl parsed into @a c's offer, in a block of its own when it is the
 * first (a later one goes to the call's home: what points into the one
 * before stays valid).  false when it was refused (488). */
static bool read_offer(struct sipua *ua, nua_handle_t *nh, struct call *c,
		       const sip_payload_t *pl)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct space_offer o;
	const char *why = NULL;
	int err;

	if (c->media.offer_block)
		err = sdpneg_parse_offer(c->home, pl->pl_data, pl->pl_len,
					 &c->media.offer, &why);
	else {
		err =
		    sdpneg_parse_offer(home, pl->pl_data, pl->pl_len, &o, &why);
		if (!err && pack_offer(&o, &c->media.offer,
				       &c->media.offer_block) < 0) {
			err = -ENOMEM;
			why = "out of memory";
		}
	}
	if (err < 0)
		ua_refuse(ua, nh, SIP_488_NOT_ACCEPTABLE, why, TAG_END());
	su_home_deinit(home);
	return err == 0;
}

/* Read the SDP offer of an INVITE into @a c (none: the server offers, RFC
 * 3264 §5).  false when the request was refused (415, 413, 488). */
bool ua_read_offer(struct sipua *ua, nua_handle_t *nh, struct call *c,
		   const sip_t *sip)
{
	struct space_offer *o = &c->media.offer;

	if (!sip->sip_payload || !sip->sip_payload->pl_len) {
		/* Offer-less: multicast on the channel the server offers in
		 * the 200, answered in the ACK. */
		memset(o, 0, sizeof(*o));
		o->none = true;
		o->media = NULL;
		return true;
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
	if (!read_offer(ua, nh, c, sip->sip_payload))
		return false;
	c->media.ptime =
	    offer_ptime(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
	if (o->port == 0) {
		/* RFC 3264 §6: port 0 refuses the stream; there is no
		 * other stream to offer the space on. */
		ua_refuse(ua, nh, SIP_488_NOT_ACCEPTABLE,
			  "the media stream is refused (port 0)", TAG_END());
		return false;
	}
	if (!o->multicast && !o->want_multicast && !ua->media) {
		ua_refuse(ua, nh, SIP_488_NOT_ACCEPTABLE,
			  "relay delivery is not available; offer a multicast "
			  "address or a=tvspace-delivery:multicast",
			  TAG_END());
		return false;
	}
	return true;
}
