/* The SIP adapter: sofia-sip nua events in, space manager decisions out.
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
#define LOG_MODULE     "sip"
#define NUA_MAGIC_T    struct sipua
#define NUA_HMAGIC_T   struct call
#define SU_TIMER_ARG_T void

#include "sip/sipua.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/url.h>

#include "db/store.h"
#include "media/media.h"
#include "server/catalog.h"
#include "server/cfg.h"
#include "server/cmd.h"
#include "server/guide.h"
#include "server/log.h"
#include "server/space.h"
#include "sip/confinfo.h"
#include "sip/ident.h"
#include "sip/sdpneg.h"

#define USER_MAX    128
#define RETRY_AFTER "5"

struct sipua {
	su_home_t home[1];
	su_root_t *root;
	nua_t *nua;
	const struct cfg *cfg;
	struct space_mgr *mgr;
	struct db *db;
	struct media *media;
	const struct guide *guide;
	su_timer_t *tick;
	struct call *subs;  /* calls carrying a conference subscription */
	char hostport[160]; /* where we are reached: for Contact */
	void (*shutdown_done)(void *arg);
	void *shutdown_arg;
	void (*restore_done)(void *arg, int error);
	void *restore_arg;
};

enum call_phase {
	CALL_NEW,      /* INVITE received, nothing decided */
	CALL_STORING,  /* the store is committing the start or admission */
	CALL_WAITING,  /* pending: the host is asked */
	CALL_LIVE,     /* 200 sent: a member */
	CALL_RESUMING, /* restored: our re-INVITE is out */
	CALL_PERSONAL, /* left the space to its own service (patent 0086) */
	CALL_INVITING, /* the host's REFER: our INVITE to the user is out */
	CALL_GONE,     /* BYE sent or received; waiting for nua */
};

struct call {
	su_home_t home[1];
	struct sipua *ua;
	nua_handle_t *nh;
	enum call_phase phase;
	bool cancelled;  /* CANCEL or BYE while the store worked */
	bool terminated; /* nua has finished with the dialog */
	uint64_t space_id;
	char user[USER_MAX];
	struct space_member *member; /* NULL when not a member */
	struct space_offer offer;
	struct space_plan plan; /* start only */
	uint64_t sdp_id, sdp_version;
	const char *personal;    /* CALL_PERSONAL: its own channel's id */
	struct leaving *leaving; /* its REFER awaits the re-INVITE's answer */
	bool cpim;               /* its Accept lists message/cpim */
	struct media_leg *leg;   /* relay delivery: our RTP to the member */
	struct cmd_dtmf dtmf;    /* keys pressed, not yet a command */
	unsigned relay_port;
	/* A conference subscription (RFC 4575) rides on this handle. */
	bool subscribed;
	uint64_t sub_space;           /* the space it watches */
	unsigned sub_version;         /* version of the last document sent */
	struct call *sub_next;        /* in ua->subs */
	enum space_delivery delivery; /* kept for a personal session */
	unsigned pt;
	bool reinvite_out;  /* our re-INVITE awaits its answer */
	bool repoint_again; /* the channel changed meanwhile */
	su_timer_t *glare;  /* RFC 3261 §14.1 retry after 491 */
	/* The dialog, as stored for a restart (RFC 3261 §12). */
	char *call_id, *local_tag, *remote_tag;
	char *local_uri, *remote_uri, *remote_target, *route_set;
};

struct leaving;
static void leaving_done(struct call *c, int status);
static void sub_unlink(struct call *c);
static void send_history(struct call *c);
static void space_changed(struct sipua *ua, struct space *sp, bool ended);

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* -- responses ----------------------------------------------------------- */

/* Warning: 399 DOMAIN "text" (RFC 3261 §20.43), text made safe for a
 * quoted-string. */
static const char *warning(su_home_t *home, struct sipua *ua, const char *text)
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
static void refuse(struct sipua *ua, nua_handle_t *nh, int status,
		   const char *phrase, const char *why, tag_type_t tag,
		   tag_value_t value, ...)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	ta_list ta;

	ta_start(ta, tag, value);
	nua_respond(nh, status, phrase, NUTAG_WITH_THIS(ua->nua),
		    SIPTAG_WARNING_STR(warning(home, ua, why)), ta_tags(ta));
	ta_end(ta);
	su_home_deinit(home);
}

/* Refuse a request the stack no longer calls current (a stored INVITE). */
static void refuse_later(struct sipua *ua, nua_handle_t *nh, int status,
			 const char *phrase, const char *why)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};

	nua_respond(nh, status, phrase,
		    SIPTAG_WARNING_STR(warning(home, ua, why)),
		    TAG_IF(status == 503, SIPTAG_RETRY_AFTER_STR(RETRY_AFTER)),
		    TAG_END());
	su_home_deinit(home);
}

struct verdict_map {
	int status;
	const char *phrase;
};

/* Protocol codes live here, not in the core (STYLE.md §1). */
static struct verdict_map verdict_status(enum space_verdict v)
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
		return (struct verdict_map){SIP_403_FORBIDDEN};
	}
	return (struct verdict_map){SIP_500_INTERNAL_SERVER_ERROR};
}

/* -- calls --------------------------------------------------------------- */

static void call_destructor(void *arg)
{
	struct call *c = arg;

	sub_unlink(c);
	c->leg = media_leg_destroy(c->leg);
	if (c->glare)
		su_timer_destroy(c->glare);
	if (c->nh) {
		nua_handle_bind(c->nh, NULL);
		nua_handle_destroy(c->nh);
		c->nh = NULL;
	}
}

static struct call *call_new(struct sipua *ua, nua_handle_t *nh,
			     const char *user)
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
	c->sdp_id = ((uint64_t)now_s() << 16) ^ (uint64_t)(uintptr_t)c;
	c->sdp_version = 1;
	nua_handle_bind(nh, c);
	return c;
}

/* The call is finished with: its handle goes with it. */
static void call_free(struct call *c)
{
	if (c)
		su_home_unref(c->home);
}

/* Forget the member record: it is about to be freed or is gone. */
static void call_unlink(struct call *c)
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
static void call_capture_dialog(struct call *c, const sip_t *sip)
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

static void fill_store_member(const struct call *c,
			      const struct space_member *m,
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
static const struct channel *call_channel(const struct call *c)
{
	if (c->member)
		return space_channel(c->member->space);
	if (c->personal)
		return catalog_channel(space_mgr_catalog(c->ua->mgr),
				       c->personal);
	return NULL;
}

/* The answer that points @a c at the space's current channel. */
static char *call_answer(su_home_t *home, struct call *c,
			 const struct channel *ch)
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
	return sdpneg_answer(home, &a);
}

/* Relay delivery: a leg of ours sending the channel to the member's SDP
 * address (PROTOCOL.md "relay").  0, or -errno (no port left: 503). */
static int call_start_relay(struct call *c, const struct channel *ch,
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
	return err;
}

/* The member stops receiving: its leg goes (multicast members leave the
 * group when their dialog ends). */
static void call_stop_media(struct call *c)
{
	if (c)
		c->leg = media_leg_destroy(c->leg);
}

static const char *contact_of(su_home_t *home, struct sipua *ua, uint64_t id)
{
	/* RFC 4579 §5.1: the focus marks its Contact with isfocus.  The
	 * host part is where we are reached, so in-dialog requests find us. */
	return su_sprintf(home, "<sip:space-%" PRIu64 "@%s>;isfocus", id,
			  ua->hostport);
}

/* Send 200 with the SDP answer to the pending INVITE of @a c. */
static void call_accept(struct call *c)
{
	struct sipua *ua = c->ua;
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct space *sp = c->member ? c->member->space : NULL;
	const struct channel *ch = sp ? space_channel(sp) : NULL;
	char *sdp = ch ? call_answer(home, c, ch) : NULL;

	if (!sdp) {
		refuse_later(ua, c->nh, SIP_500_INTERNAL_SERVER_ERROR,
			     "cannot describe the channel");
		su_home_deinit(home);
		return;
	}
	c->phase = CALL_LIVE;
	nua_respond(c->nh, SIP_200_OK,
		    SIPTAG_CONTACT_STR(contact_of(home, ua, c->space_id)),
		    SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		    SIPTAG_PAYLOAD_STR(sdp), TAG_END());
	log_info("space-%" PRIu64 " %s joined as %s on %s (%s) call-id %s",
		 c->space_id, c->user, space_role_str(c->member->role), ch->id,
		 space_delivery_str(c->member->delivery), c->call_id);
	space_changed(ua, sp, false);
	if (c->member->role != SPACE_HOST)
		send_history(c);
	su_home_deinit(home);
}

/* An in-dialog MESSAGE, text/plain, from the space to @a c. */
static void call_tell(struct call *c, const char *text)
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

static void tell_host(struct space *sp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void tell_host(struct space *sp, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	call_tell(host_call(sp), text);
}

/* The space a Request-URI names (sip:space-ID@...), or NULL. */
static struct space *space_of_uri(struct sipua *ua, const url_t *uri)
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

/* -- conference state (RFC 4575) ----------------------------------------- */

static void sub_unlink(struct call *c)
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
		    ua->mgr, space_service(sp)->id, now_s());
	if (sp && space_channel(sp)) {
		const struct programme *p =
		    guide_now(ua->guide, space_channel(sp)->id, now_s());

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
static void space_changed(struct sipua *ua, struct space *sp, bool ended)
{
	uint64_t id = space_id(sp);
	struct call *c, *next;

	for (c = ua->subs; c; c = next) {
		next = c->sub_next;
		if (c->sub_space != id)
			continue;
		sub_notify(c, sp, ended);
		if (ended)
			sub_unlink(c);
	}
}

static void on_subscribe(struct sipua *ua, nua_handle_t *nh, struct call *c,
			 const sip_t *sip)
{
	const sip_event_t *ev = sip->sip_event;
	struct space *sp;
	char user[USER_MAX], src[64];
	const struct space_member *m = NULL;
	bool trusted;

	if (!ev || !su_casematch(ev->o_type, "conference")) {
		refuse(ua, nh, SIP_489_BAD_EVENT, "only the conference event",
		       SIPTAG_ALLOW_EVENTS_STR("conference"), TAG_END());
		return;
	}
	if (c && c->subscribed) {
		/* A refresh or (Expires: 0) the end; nua keeps the timer. */
		sp = space_find(ua->mgr, c->sub_space);
		nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(ua->nua),
			    TAG_END());
		if (sip->sip_expires && sip->sip_expires->ex_delta == 0) {
			sub_unlink(c);
			return;
		}
		sub_notify(c, sp, !sp);
		return;
	}
	sp = c && c->member ? c->member->space
			    : space_of_uri(ua, sip->sip_request->rq_url);
	if (!sp) {
		refuse(ua, nh, SIP_404_NOT_FOUND, "no such space", TAG_END());
		return;
	}
	ident_source_addr(nua_current_request(ua->nua), src, sizeof(src));
	trusted = src[0] && cfg_is_trusted_peer(ua->cfg, src);
	if (ident_user(ua->cfg, nua_current_request(ua->nua), sip, user,
		       sizeof(user)) != IDENT_NONE)
		m = space_member_by_user(sp, user);
	/* The room's state is for its members (a pending joiner sees the
	 * room it asked for) and for the operator's trusted peers. */
	if (!m && !trusted) {
		refuse(ua, nh, SIP_403_FORBIDDEN, "not a member of this space",
		       TAG_END());
		return;
	}
	if (!c) {
		c = call_new(ua, nh, m ? m->user : "peer");
		if (!c) {
			refuse(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
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
	nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(ua->nua), TAG_END());
	sub_notify(c, sp, false);
}

/* -- ending ------------------------------------------------------------- */

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
		su_home_unref(c->home); /* held by end_space() */
	}
	su_free(e->ua->home, e->calls);
	su_free(e->ua->home, e->reason);
	su_free(e->ua->home, e);
}

/* End @a sp (claim 5): book the played time, close it in the core at once
 * (nobody joins an ending space), and once stored send BYE with @a text in
 * a Reason header to every member but @a except (who hung up already).
 * Pending joiners get 480. */
static void end_space(struct sipua *ua, struct space *sp, const char *text,
		      struct call *except)
{
	struct ending *e = su_zalloc(ua->home, sizeof(*e));
	unsigned cap = 0, played;
	char day[16];
	int64_t now = now_s();
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
		call_stop_media(c);
		call_unlink(c);
		if (!c)
			continue;
		if (m->role == SPACE_PENDING) {
			refuse_later(ua, c->nh, SIP_480_TEMPORARILY_UNAVAILABLE,
				     text);
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
	space_changed(ua, sp, true);
	/* What was booked before is in usage already (space_booked()). */
	played = space_unbooked(sp, now);
	cfg_day_name(now, day, sizeof(day));
	log_info("space-%" PRIu64 " ended: %s, %u s played", id, text, played);
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

/* A guest is gone (BYE, kick, failure): stored, and out of the core. */
static void member_left(struct sipua *ua, struct call *c, const char *why)
{
	struct space_member *m = c->member;
	struct space *sp;

	if (!m)
		return;
	sp = m->space;
	if (m->role == SPACE_HOST) {
		end_space(ua, sp, "space ended by host", c);
		return;
	}
	log_info("space-%" PRIu64 " %s left: %s", c->space_id, c->user, why);
	if (m->role != SPACE_PENDING)
		store_member_leave(ua->db, c->space_id, c->user, why, NULL,
				   NULL);
	call_stop_media(c);
	call_unlink(c);
	space_member_remove(m);
	space_changed(ua, sp, false);
}

/* -- deferred replies ---------------------------------------------------- */

/* A command whose 200 waits for the store: the request is saved so the
 * answer can be sent from the completion (nua_save_event). */
struct deferred {
	struct sipua *ua;
	nua_handle_t *nh;
	nua_saved_event_t saved[1];
	uint64_t space_id;
	const struct channel *old; /* /switch: the channel before */
	char by[USER_MAX];
	char to[USER_MAX];
};

static struct deferred *defer(struct sipua *ua, nua_handle_t *nh,
			      uint64_t space_id, const char *by)
{
	struct deferred *d = su_zalloc(ua->home, sizeof(*d));

	if (!d)
		return NULL;
	if (nua_save_event(ua->nua, d->saved) < 1) {
		su_free(ua->home, d);
		return NULL;
	}
	d->ua = ua;
	d->nh = nua_handle_ref(nh);
	d->space_id = space_id;
	snprintf(d->by, sizeof(d->by), "%s", by);
	return d;
}

static void deferred_reply(struct deferred *d, int status, const char *phrase,
			   const char *why)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct sipua *ua = d->ua;

	nua_respond(d->nh, status, phrase, NUTAG_WITH_SAVED(d->saved),
		    TAG_IF(why, SIPTAG_WARNING_STR(why ? warning(home, ua, why)
						       : NULL)),
		    TAG_IF(status == 503, SIPTAG_RETRY_AFTER_STR(RETRY_AFTER)),
		    TAG_END());
	nua_destroy_event(d->saved);
	nua_handle_unref(d->nh);
	su_free(ua->home, d);
	su_home_deinit(home);
}

/* -- re-pointing --------------------------------------------------------- */

/* Offer @a c the space's current channel in a re-INVITE (RFC 3264 §8). */
static void repoint(struct call *c)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	const struct channel *ch = call_channel(c);
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
			leaving_done(c, 200);
		goto out;
	}
	if (c->reinvite_out) {
		/* One offer at a time in a dialog (RFC 3264 §4): send the
		 * newest channel once this one is answered. */
		c->repoint_again = true;
		goto out;
	}
	c->sdp_version++;
	sdp = call_answer(home, c, ch);
	if (!sdp)
		goto out;
	c->reinvite_out = true;
	c->repoint_again = false;
	sent = true;
	nua_invite(c->nh,
		   SIPTAG_CONTACT_STR(contact_of(home, c->ua, c->space_id)),
		   SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		   SIPTAG_PAYLOAD_STR(sdp), TAG_END());
out:
	if (!sent)
		leaving_done(c, 500);
	su_home_deinit(home);
}

/* Every admitted member at once: the re-INVITEs go out together and are
 * answered independently, so one slow terminal delays nobody else. */
static void repoint_all(struct space *sp)
{
	for (struct space_member *m = space_members(sp); m; m = m->next)
		if (m->role != SPACE_PENDING && m->handle)
			repoint(m->handle);
}

static void glare_retry(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	struct call *c = arg;

	c->reinvite_out = false;
	repoint(c);
}

/* The answer to a re-INVITE that re-pointed a live member. */
static void on_repointed(struct sipua *ua, struct call *c, int status)
{
	if (status < 200)
		return;
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
	leaving_done(c, status);
	if (status == 481 || status == 408) {
		log_info("space-%" PRIu64 " %s unreachable (%d): removed",
			 c->space_id, c->user, status);
		member_left(ua, c, "unreachable");
		if (c->nh)
			nua_bye(c->nh, TAG_END());
		c->phase = CALL_GONE;
		return;
	}
	if (status >= 300)
		log_warn("space-%" PRIu64 " %s refused the channel (%d)",
			 c->space_id, c->user, status);
	if (c->repoint_again)
		repoint(c);
}

static void tell_all(struct space *sp, struct call *except, const char *text)
{
	for (struct space_member *m = space_members(sp); m; m = m->next)
		if (m->role != SPACE_PENDING && m->handle != except)
			call_tell(m->handle, text);
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
		deferred_reply(d, SIP_503_SERVICE_UNAVAILABLE,
			       "database unavailable, try again");
		return;
	}
	if (sp) {
		log_info("space-%" PRIu64 " switched to %s by %s", d->space_id,
			 space_channel(sp)->id, d->by);
	}
	/* The host's 200 first, then the re-INVITEs: the answer says the
	 * switch is committed, the re-INVITEs carry it out. */
	deferred_reply(d, SIP_200_OK, NULL);
	if (sp) {
		repoint_all(sp);
		space_changed(ua, sp, false);
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
		deferred_reply(d, SIP_503_SERVICE_UNAVAILABLE,
			       "database unavailable, try again");
		return;
	}
	log_info("space-%" PRIu64 " remote handed from %s to %s", d->space_id,
		 d->by, d->to);
	snprintf(text, sizeof(text), "%s holds the remote now", d->to);
	deferred_reply(d, SIP_200_OK, NULL); /* frees d */
	if (sp) {
		tell_all(sp, NULL, text);
		space_changed(ua, sp, false);
	}
}

/* -- start (S201-S203) -------------------------------------------------- */

static const char *header_value(const sip_t *sip, const char *name)
{
	for (const sip_unknown_t *u = sip->sip_unknown; u; u = u->un_next)
		if (su_casematch(u->un_name, name))
			return u->un_value;
	return NULL;
}

static void start_stored(void *arg, int error, uint64_t id);

/* A completion for @a c is done: free it if nua finished with it meanwhile.
 */
static void call_settle(struct call *c)
{
	if (c->terminated && c->phase != CALL_STORING)
		call_free(c);
}

static void start_done(struct call *c, int error, uint64_t id)
{
	struct sipua *ua = c->ua;
	struct space *sp;
	int err;

	if (error) {
		log_err("start by %s not stored (%s)", c->user,
			strerror(-error));
		call_stop_media(c);
		if (!c->cancelled)
			refuse_later(ua, c->nh, SIP_503_SERVICE_UNAVAILABLE,
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
			 c->offer.port, c, now_s(), &sp);
	if (err < 0) {
		refuse_later(ua, c->nh, SIP_500_INTERNAL_SERVER_ERROR,
			     "cannot open the space");
		return;
	}
	c->member = space_host(sp);
	log_info("space-%" PRIu64 " started by %s (service %s)", id, c->user,
		 c->plan.service->id);
	call_accept(c);
}

static void start_stored(void *arg, int error, uint64_t id)
{
	struct call *c = arg;

	c->phase = CALL_GONE; /* call_accept() makes it live */
	start_done(c, error, id);
	call_settle(c);
}

static bool read_offer(struct sipua *ua, nua_handle_t *nh, struct call *c,
		       const sip_t *sip)
{
	const char *why = NULL;

	if (!sip->sip_payload || !sip->sip_payload->pl_len) {
		refuse(ua, nh, SIP_488_NOT_ACCEPTABLE,
		       "an SDP offer is required", TAG_END());
		return false;
	}
	if (sip->sip_content_type &&
	    !su_casematch(sip->sip_content_type->c_type, "application/sdp")) {
		refuse(ua, nh, SIP_415_UNSUPPORTED_MEDIA,
		       "the offer must be application/sdp",
		       SIPTAG_ACCEPT_STR("application/sdp"), TAG_END());
		return false;
	}
	if (sdpneg_parse_offer(c->home, sip->sip_payload->pl_data,
			       sip->sip_payload->pl_len, &c->offer, &why) < 0) {
		refuse(ua, nh, SIP_488_NOT_ACCEPTABLE, why, TAG_END());
		return false;
	}
	if (c->offer.port == 0) {
		/* RFC 3264 §6: port 0 refuses the stream; there is no
		 * other stream to offer the space on. */
		refuse(ua, nh, SIP_488_NOT_ACCEPTABLE,
		       "the media stream is refused (port 0)", TAG_END());
		return false;
	}
	if (!c->offer.multicast && !c->offer.want_multicast && !ua->media) {
		refuse(ua, nh, SIP_488_NOT_ACCEPTABLE,
		       "relay delivery is not available; offer a multicast "
		       "address or a=bc_delivery:multicast",
		       TAG_END());
		return false;
	}
	return true;
}

static void on_start(struct sipua *ua, nua_handle_t *nh, const char *user,
		     const sip_t *sip)
{
	struct call *c = call_new(ua, nh, user);
	struct store_space row = {0};
	struct store_member host = {0};
	struct space_member m = {0};
	enum space_verdict v;
	const char *svc;
	int err;

	if (!c) {
		refuse(ua, nh, SIP_500_INTERNAL_SERVER_ERROR, "out of memory",
		       TAG_END());
		return;
	}
	if (!read_offer(ua, nh, c, sip))
		goto refused;
	call_capture_dialog(c, sip);
	svc = header_value(sip, "P-Service-Default-ID");
	if (!c->offer.bc_service && svc)
		c->offer.bc_service = su_strdup(c->home, svc);

	v = space_plan_start(ua->mgr, user, &c->offer, now_s(), &c->plan);
	if (v != SPACE_OK) {
		struct verdict_map s = verdict_status(v);

		/* At the start an unknown channel is a media problem of the
		 * offer (PROTOCOL.md): 488, not 404. */
		if (v == SPACE_UNKNOWN_CHANNEL)
			s = (struct verdict_map){SIP_488_NOT_ACCEPTABLE};
		log_info("start by %s refused: %s", user, space_verdict_str(v));
		refuse(ua, nh, s.status, s.phrase, space_verdict_str(v),
		       TAG_END());
		goto refused;
	}

	row.host_service = c->plan.service->id;
	row.host_user = user;
	row.channel = c->plan.channel->id;
	row.started = now_s();
	m.user = user;
	m.service = c->plan.service->id;
	m.role = SPACE_HOST;
	m.delivery = c->plan.delivery;
	m.pt = c->plan.pt;
	m.addr = c->offer.addr;
	m.port = c->offer.port;
	m.seq = 1;
	m.since = row.started;
	fill_store_member(c, &m, &host);

	if (c->plan.delivery == SPACE_RELAY &&
	    call_start_relay(c, c->plan.channel, c->offer.addr, c->offer.port,
			     c->plan.pt) < 0) {
		refuse(ua, nh, SIP_503_SERVICE_UNAVAILABLE,
		       "no relay port available, try again",
		       SIPTAG_RETRY_AFTER_STR(RETRY_AFTER), TAG_END());
		goto refused;
	}
	c->phase = CALL_STORING;
	err = store_space_start(ua->db, &row, &host, start_stored, c);
	if (err < 0) {
		refuse(ua, nh, SIP_503_SERVICE_UNAVAILABLE,
		       "database unavailable, try again",
		       SIPTAG_RETRY_AFTER_STR(RETRY_AFTER), TAG_END());
		goto refused;
	}
	return;
refused:
	c->phase = CALL_GONE;
}

/* -- join (S204-S205) --------------------------------------------------- */

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
			refuse_later(ua, c->nh, SIP_480_TEMPORARILY_UNAVAILABLE,
				     "the space has ended");
			c->phase = CALL_GONE;
		}
		else if (m) {
			call_unlink(c);
			space_member_remove(m);
		}
		call_stop_media(c);
		return;
	}
	if (error) {
		log_err("space-%" PRIu64 " admission of %s not stored (%s)",
			c->space_id, c->user, strerror(-error));
		call_stop_media(c);
		call_unlink(c);
		space_member_remove(m);
		refuse_later(ua, c->nh, SIP_503_SERVICE_UNAVAILABLE,
			     "database unavailable, try again");
		c->phase = CALL_GONE;
		return;
	}
	call_accept(c);
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
static void admit(struct sipua *ua, struct call *c)
{
	struct store_member sm;
	struct space_member *m = c->member;
	int err;

	if (m->delivery == SPACE_RELAY &&
	    call_start_relay(c, space_channel(m->space), m->addr, m->port,
			     m->pt) < 0) {
		refuse_later(ua, c->nh, SIP_503_SERVICE_UNAVAILABLE,
			     "no relay port available, try again");
		c->phase = CALL_GONE;
		call_unlink(c);
		space_member_remove(m);
		return;
	}
	fill_store_member(c, c->member, &sm);
	c->phase = CALL_STORING;
	err = store_member_add(ua->db, &sm, admit_stored, c);
	if (err < 0)
		admit_stored(c, err);
}

static void on_join(struct sipua *ua, nua_handle_t *nh, const char *user,
		    uint64_t id, const sip_t *sip)
{
	struct space *sp = space_find(ua->mgr, id);
	struct space_member *m;
	enum space_verdict v;
	struct call *c;

	if (!sp) {
		refuse(ua, nh, SIP_404_NOT_FOUND, "no such space", TAG_END());
		return;
	}
	c = call_new(ua, nh, user);
	if (!c) {
		refuse(ua, nh, SIP_500_INTERNAL_SERVER_ERROR, "out of memory",
		       TAG_END());
		return;
	}
	c->space_id = id;
	if (!read_offer(ua, nh, c, sip)) {
		c->phase = CALL_GONE;
		return;
	}
	call_capture_dialog(c, sip);
	v = space_join(sp, user, &c->offer, c, now_s(), &m);
	if (v != SPACE_OK) {
		struct verdict_map s = verdict_status(v);

		log_info("space-%" PRIu64 " join by %s refused: %s", id, user,
			 space_verdict_str(v));
		refuse(ua, nh, s.status, s.phrase, space_verdict_str(v),
		       TAG_END());
		c->phase = CALL_GONE;
		return;
	}
	c->member = m;
	if (m->role != SPACE_PENDING) {
		admit(ua, c);
		return;
	}
	c->phase = CALL_WAITING;
	nua_respond(nh, SIP_180_RINGING, TAG_END());
	log_info("space-%" PRIu64 " join request %u from %s", id, m->request,
		 user);
	tell_host(sp, "join request %u from %s; reply /allow %u or /deny %u",
		  m->request, user, m->request, m->request);
	space_changed(ua, sp, false);
}

/* -- commands ----------------------------------------------------------- */

/* Reply to the command MESSAGE/INFO being handled. */
static void reply(struct sipua *ua, nua_handle_t *nh, int status,
		  const char *phrase, const char *why)
{
	/* RFC 5057 §5.1: inside a dialog 404, 410 and 480-485 end the dialog
	 * itself, and sofia does so.  A host who mistypes "/switch 99" must
	 * keep its session: "nothing by that name" is a bad request here,
	 * with the Warning saying what was not found. */
	if (status == 404 || status == 410 || (status >= 480 && status <= 485))
		status = 400, phrase = sip_400_Bad_request;
	if (status < 300)
		nua_respond(nh, status, phrase, NUTAG_WITH_THIS(ua->nua),
			    TAG_END());
	else
		refuse(ua, nh, status, phrase, why, TAG_END());
}

static void reply_verdict(struct sipua *ua, nua_handle_t *nh,
			  enum space_verdict v, const char *why)
{
	struct verdict_map s = verdict_status(v);

	reply(ua, nh, s.status, s.phrase, why ? why : space_verdict_str(v));
}

static void cmd_allow(struct sipua *ua, nua_handle_t *nh, struct space *sp,
		      unsigned n)
{
	struct space_member *m = NULL;
	enum space_verdict v = space_admit(sp, n, now_s(), &m);
	struct call *g = m ? m->handle : NULL;

	if (v == SPACE_FULL && g) {
		reply_verdict(ua, nh, v, NULL);
		refuse_later(ua, g->nh, SIP_486_BUSY_HERE, "space full");
		g->phase = CALL_GONE;
		call_unlink(g);
		space_member_remove(m);
		return;
	}
	if (v != SPACE_OK || !g) {
		reply_verdict(
		    ua, nh, v,
		    v == SPACE_NO_SUCH_REQUEST ? "no such join request" : NULL);
		return;
	}
	reply(ua, nh, SIP_200_OK, NULL);
	log_info("space-%" PRIu64 " request %u allowed: %s", space_id(sp), n,
		 g->user);
	admit(ua, g);
}

static void cmd_deny(struct sipua *ua, nua_handle_t *nh, struct space *sp,
		     unsigned n)
{
	struct space_member *m = NULL;
	enum space_verdict v = space_pending(sp, n, &m);
	struct call *g = m ? m->handle : NULL;

	if (v != SPACE_OK) {
		reply_verdict(ua, nh, v, "no such join request");
		return;
	}
	reply(ua, nh, SIP_200_OK, NULL);
	log_info("space-%" PRIu64 " request %u denied: %s", space_id(sp), n,
		 m->user);
	if (g) {
		refuse_later(ua, g->nh, SIP_603_DECLINE,
			     "the host declined the request");
		g->phase = CALL_GONE;
		call_unlink(g);
	}
	space_member_remove(m);
	space_changed(ua, sp, false);
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
		reply(ua, nh, SIP_403_FORBIDDEN, "only the host can switch");
		return;
	}
	if (v != SPACE_OK) {
		reply_verdict(ua, nh, v, NULL);
		return;
	}
	d = defer(ua, nh, c->space_id, c->user);
	if (!d) {
		space_set_channel(sp, old);
		reply(ua, nh, SIP_500_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	d->old = old;
	err = store_space_update(ua->db, c->space_id, space_channel(sp)->id,
				 NULL, NULL, switch_stored, d);
	if (err < 0)
		switch_stored(d, err);
}

/* Take @a m out of the space on the host's word (/kick, REFER method=BYE):
 * a pending joiner is declined, a guest gets BYE. */
static void remove_member(struct sipua *ua, struct call *by,
			  struct space_member *m)
{
	struct call *k = m->handle;

	log_info("space-%" PRIu64 " %s removed by %s", by->space_id, m->user,
		 by->user);
	if (m->role == SPACE_PENDING) {
		if (k) {
			refuse_later(ua, k->nh, SIP_603_DECLINE,
				     "the host declined the request");
			k->phase = CALL_GONE;
			call_unlink(k);
		}
		space_member_remove(m);
		space_changed(ua, by->member->space, false);
		return;
	}
	if (!k) {
		store_member_leave(ua->db, by->space_id, m->user,
				   "removed by host", NULL, NULL);
		space_member_remove(m);
		return;
	}
	member_left(ua, k, "removed by host");
	k->phase = CALL_GONE;
	nua_bye(k->nh,
		SIPTAG_REASON_STR("SIP;cause=200;text=\"removed by the host\""),
		TAG_END());
}

static void cmd_kick(struct sipua *ua, nua_handle_t *nh, struct call *c,
		     const char *user)
{
	struct space_member *m = space_member_by_user(c->member->space, user);

	if (!m) {
		reply(ua, nh, SIP_404_NOT_FOUND, "no such member");
		return;
	}
	if (m->role == SPACE_HOST) {
		reply(ua, nh, SIP_403_FORBIDDEN,
		      "the host leaves with BYE or /end");
		return;
	}
	reply(ua, nh, SIP_200_OK, NULL);
	remove_member(ua, c, m);
}

/* Store a move of the remote the core has made (handover, grab), then
 * answer @a nh and tell everyone. */
static void store_remote_move(struct sipua *ua, nua_handle_t *nh,
			      struct space *sp, const char *from,
			      const char *to)
{
	struct deferred *d = defer(ua, nh, space_id(sp), from);
	int err;

	if (!d) {
		space_handover(sp, to, from);
		reply(ua, nh, SIP_500_INTERNAL_SERVER_ERROR, "out of memory");
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
		reply_verdict(ua, nh, v, NULL);
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
		reply_verdict(ua, nh, v, NULL);
		return;
	}
	if (at_once) {
		store_remote_move(ua, nh, sp, from, c->user);
		return;
	}
	reply(ua, nh, SIP_200_OK, NULL);
	log_info("space-%" PRIu64 " grab request %u from %s", c->space_id, n,
		 c->user);
	tell_host(sp, "grab request %u from %s; reply /allow %u or /deny %u", n,
		  c->user, n, n);
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
	reply(ua, nh, SIP_200_OK, NULL);
	call_tell(g->handle, "the host keeps the remote");
}

static void on_command(struct sipua *ua, nua_handle_t *nh, struct call *c,
		       const struct cmd *cmd)
{
	struct space_member *m = c->member;
	struct space *sp = m->space;
	bool host = m->role == SPACE_HOST;

	switch (cmd->kind) {
	case CMD_HELP:
		reply(ua, nh, SIP_200_OK, NULL);
		call_tell(c, cmd_list());
		return;
	case CMD_ALLOW:
	case CMD_DENY:
	case CMD_END:
	case CMD_OPEN:
	case CMD_CLOSE:
	case CMD_HANDOVER:
	case CMD_KICK:
		if (!host) {
			reply(ua, nh, SIP_403_FORBIDDEN,
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
		reply(ua, nh, SIP_200_OK, NULL);
		end_space(ua, sp, "space ended by host", NULL);
		return;
	case CMD_OPEN:
	case CMD_CLOSE:
		space_set_open(sp, c->user, cmd->kind == CMD_OPEN);
		space_changed(ua, sp, false);
		store_space_set_open(ua->db, c->space_id, cmd->kind == CMD_OPEN,
				     NULL, NULL);
		reply(ua, nh, SIP_200_OK, NULL);
		return;
	default:
		reply(ua, nh, SIP_501_NOT_IMPLEMENTED,
		      "this command is not available yet");
		return;
	}
}

/* MESSAGE or INFO in a member's dialog: a command, or a comment. */
static void on_personal_command(struct sipua *ua, nua_handle_t *nh,
				struct call *c, const struct cmd *cmd);

/* -- comments (claim 4) -------------------------------------------------- */

/* RFC 3629: comments are stored and relayed as UTF-8 text; anything else
 * would reach other members as mojibake, or worse. */
static bool valid_utf8(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char b = p[i];
		size_t len;
		uint32_t cp;

		if (b == 0)
			return false;
		if (b < 0x80) {
			i++;
			continue;
		}
		if ((b & 0xe0) == 0xc0)
			len = 2, cp = b & 0x1f;
		else if ((b & 0xf0) == 0xe0)
			len = 3, cp = b & 0x0f;
		else if ((b & 0xf8) == 0xf0)
			len = 4, cp = b & 0x07;
		else
			return false;
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		/* overlong forms, surrogates, beyond U+10FFFF */
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* Relay a comment to @a to: text/plain "AUTHOR: TEXT", or message/cpim
 * (RFC 3862) when its Accept asked for it. */
static void relay_comment(struct call *to, uint64_t space_id,
			  const char *author, const char *text)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct sipua *ua = to->ua;
	char stamp[32];
	time_t t = time(NULL);
	struct tm tm;

	if (to->phase != CALL_LIVE)
		goto out;
	if (!to->cpim) {
		nua_message(to->nh,
			    SIPTAG_CONTENT_TYPE_STR("text/plain;charset=UTF-8"),
			    SIPTAG_PAYLOAD_STR(
				su_sprintf(home, "%s: %s", author, text)),
			    TAG_END());
		goto out;
	}
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	nua_message(to->nh, SIPTAG_CONTENT_TYPE_STR("message/cpim"),
		    SIPTAG_PAYLOAD_STR(su_sprintf(
			home,
			"From: %s <sip:%s@%s>\r\n"
			"To: <sip:space-%" PRIu64 "@%s>\r\n"
			"DateTime: %s\r\n\r\n"
			"Content-Type: text/plain;charset=UTF-8\r\n\r\n%s",
			author, author, ua->cfg->domain, space_id,
			ua->cfg->domain, stamp, text)),
		    TAG_END());
out:
	su_home_deinit(home);
}

struct comment {
	struct sipua *ua;
	nua_saved_event_t saved[1];
	nua_handle_t *nh;
	uint64_t space_id;
	bool own_handle; /* out of dialog: the handle is ours to end */
	char author[USER_MAX];
	char *text;
};

static void comment_stored(void *arg, int error)
{
	struct comment *cm = arg;
	struct sipua *ua = cm->ua;
	struct space *sp = space_find(ua->mgr, cm->space_id);
	su_home_t home[1] = {SU_HOME_INIT(home)};

	if (error) {
		nua_respond(cm->nh, SIP_503_SERVICE_UNAVAILABLE,
			    NUTAG_WITH_SAVED(cm->saved),
			    SIPTAG_RETRY_AFTER_STR(RETRY_AFTER),
			    SIPTAG_WARNING_STR(warning(
				home, ua, "database unavailable, try again")),
			    TAG_END());
	}
	else {
		nua_respond(cm->nh, SIP_200_OK, NUTAG_WITH_SAVED(cm->saved),
			    TAG_END());
		for (struct space_member *m = sp ? space_members(sp) : NULL; m;
		     m = m->next) {
			struct call *to = m->handle;

			if (m->role != SPACE_PENDING && to &&
			    !su_strmatch(m->user, cm->author))
				relay_comment(to, cm->space_id, cm->author,
					      cm->text);
		}
	}
	nua_destroy_event(cm->saved);
	if (cm->own_handle)
		nua_handle_destroy(cm->nh);
	nua_handle_unref(cm->nh);
	su_free(ua->home, cm->text);
	su_free(ua->home, cm);
	su_home_deinit(home);
}

/* A new member is sent the last comments of the space (comment_history),
 * oldest first, so it can follow the conversation. */
static void history_item(void *arg, const char *author, int64_t at,
			 const char *text)
{
	struct call *c = arg;

	if (c->member && author && text)
		relay_comment(c, c->space_id, author, text);
}

static void history_done(void *arg, int error)
{
	struct call *c = arg;

	su_home_unref(c->home); /* held by send_history() */
}

static void send_history(struct call *c)
{
	struct sipua *ua = c->ua;

	if (!ua->cfg->comment_history)
		return;
	su_home_ref(c->home);
	if (store_comments_recent(ua->db, c->space_id, ua->cfg->comment_history,
				  history_item, history_done, c) < 0)
		su_home_unref(c->home);
}

/* A member's comment: stored with author and time, then 200 to the sender
 * and a MESSAGE from the space to every other member. */
static void on_comment(struct sipua *ua, nua_handle_t *nh,
		       const struct space_member *m, const sip_payload_t *pl,
		       bool own_handle)
{
	struct comment *cm;
	int err;

	if (pl->pl_len > ua->cfg->max_body) {
		su_home_t home[1] = {SU_HOME_INIT(home)};

		refuse(ua, nh, SIP_413_REQUEST_TOO_LARGE,
		       su_sprintf(home, "a comment holds at most %u bytes",
				  ua->cfg->max_body),
		       TAG_END());
		su_home_deinit(home);
		return;
	}
	if (!valid_utf8((const unsigned char *)pl->pl_data, pl->pl_len)) {
		reply(ua, nh, SIP_400_BAD_REQUEST, "comments must be UTF-8");
		return;
	}
	cm = su_zalloc(ua->home, sizeof(*cm));
	if (!cm || nua_save_event(ua->nua, cm->saved) < 1) {
		su_free(ua->home, cm);
		reply(ua, nh, SIP_500_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	cm->ua = ua;
	cm->own_handle = own_handle;
	cm->nh = nua_handle_ref(nh);
	cm->space_id = space_id(m->space);
	snprintf(cm->author, sizeof(cm->author), "%s", m->user);
	cm->text = su_strndup(ua->home, pl->pl_data, pl->pl_len);
	err = cm->text ? store_comment_add(ua->db, cm->space_id, cm->author,
					   cm->text, comment_stored, cm)
		       : -ENOMEM;
	if (err < 0)
		comment_stored(cm, err);
}

/* A MESSAGE outside any dialog: a member's comment sent to the space URI.
 * The handle is ours; it ends when the answer has gone. */
static void on_stray_message(struct sipua *ua, nua_handle_t *nh,
			     const sip_t *sip)
{
	const sip_payload_t *pl = sip->sip_payload;
	struct space *sp = space_of_uri(ua, sip->sip_request->rq_url);
	struct space_member *m = NULL;
	char user[USER_MAX];
	struct cmd cmd;

	if (sp && ident_user(ua->cfg, nua_current_request(ua->nua), sip, user,
			     sizeof(user)) != IDENT_NONE)
		m = space_member_by_user(sp, user);
	if (!m || m->role == SPACE_PENDING) {
		refuse(ua, nh, SIP_403_FORBIDDEN, "not a member of this space",
		       TAG_END());
	}
	else if (!pl || !pl->pl_len) {
		reply(ua, nh, SIP_400_BAD_REQUEST, "empty body");
	}
	else if (sip->sip_content_type &&
		 !su_casematch(sip->sip_content_type->c_type, "text/plain")) {
		refuse(ua, nh, SIP_415_UNSUPPORTED_MEDIA,
		       "comments are text/plain",
		       SIPTAG_ACCEPT_STR("text/plain"), TAG_END());
	}
	else {
		cmd_parse(pl->pl_data, pl->pl_len, &cmd);
		if (cmd.kind == CMD_NONE) {
			on_comment(ua, nh, m, pl, true);
			return;
		}
		reply(ua, nh, SIP_403_FORBIDDEN,
		      "send commands in your dialog with the space");
	}
	nua_handle_destroy(nh);
}

static void on_text(struct sipua *ua, nua_handle_t *nh, struct call *c,
		    const sip_t *sip)
{
	const sip_payload_t *pl = sip->sip_payload;
	const sip_content_type_t *ct = sip->sip_content_type;
	struct cmd cmd;
	su_home_t home[1] = {SU_HOME_INIT(home)};

	if (!c || ((!c->member || c->member->role == SPACE_PENDING) &&
		   c->phase != CALL_PERSONAL)) {
		refuse(ua, nh, SIP_403_FORBIDDEN, "not a member of this space",
		       TAG_END());
		return;
	}
	if (!pl || !pl->pl_len) {
		reply(ua, nh, SIP_400_BAD_REQUEST, "empty body");
		return;
	}
	if (ct && su_casematch(ct->c_type, "application/dtmf-relay")) {
		/* A remote control's keys (INFO, as SIP phones send them):
		 * digits then '#' switch, '*' asks for the remote.  The INFO
		 * that completes a command gets that command's answer. */
		char key;

		if (cmd_dtmf_relay(pl->pl_data, pl->pl_len, &key) < 0)
			reply(ua, nh, SIP_400_BAD_REQUEST,
			      "expected Signal=KEY in application/dtmf-relay");
		else if (!cmd_dtmf_feed(&c->dtmf, key, &cmd))
			reply(ua, nh, SIP_200_OK, NULL);
		else if (c->phase == CALL_PERSONAL)
			on_personal_command(ua, nh, c, &cmd);
		else
			on_command(ua, nh, c, &cmd);
		return;
	}
	if (ct && !su_casematch(ct->c_type, "text/plain")) {
		refuse(ua, nh, SIP_415_UNSUPPORTED_MEDIA,
		       "commands and comments are text/plain",
		       SIPTAG_ACCEPT_STR("text/plain, application/dtmf-relay"),
		       TAG_END());
		return;
	}
	cmd_parse(pl->pl_data, pl->pl_len, &cmd);
	if (cmd.kind == CMD_BAD) {
		reply(ua, nh, SIP_400_BAD_REQUEST,
		      su_sprintf(home, "%s; commands: %s", cmd.error,
				 cmd_list()));
	}
	else if (cmd.kind == CMD_NONE) {
		if (c->phase == CALL_PERSONAL)
			reply(ua, nh, SIP_403_FORBIDDEN,
			      "not in a space: nobody to read comments");
		else
			on_comment(ua, nh, c->member, pl, false);
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
	enum space_verdict v = space_join(sp, user, &o, NULL, now_s(), &m);
	url_t *target;
	nua_handle_t *gh;
	struct call *g;
	char *sdp;

	if (v == SPACE_OK && m->role == SPACE_PENDING)
		v = space_admit(sp, m->request, now_s(), &a);
	if (v != SPACE_OK) {
		struct verdict_map r = verdict_status(v);

		if (m && m->role == SPACE_PENDING)
			space_member_remove(m);
		refuse(ua, nh, r.status, r.phrase, space_verdict_str(v),
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
	g = gh ? call_new(ua, gh, user) : NULL;
	if (!g) {
		if (gh)
			nua_handle_destroy(gh);
		space_member_remove(m);
		refuse(ua, nh, SIP_500_INTERNAL_SERVER_ERROR, "out of memory",
		       TAG_END());
		goto out;
	}
	nua_respond(nh, SIP_202_ACCEPTED, NUTAG_WITH_THIS(ua->nua), TAG_END());
	g->space_id = host->space_id;
	g->member = m;
	m->handle = g;
	g->offer.media = su_strdup(g->home, o.media);
	g->phase = CALL_INVITING;
	sdp = call_answer(home, g, ch);
	log_info("space-%" PRIu64 " %s invites %s", g->space_id, host->user,
		 user);
	nua_invite(gh, SIPTAG_CONTACT_STR(contact_of(home, ua, g->space_id)),
		   SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		   SIPTAG_PAYLOAD_STR(sdp), NUTAG_NOTIFY_REFER(nh),
		   TAG_IF(ev, NUTAG_REFER_EVENT(ev)), TAG_END());
out:
	su_home_deinit(home);
}

/* The answer of a user the host invited by REFER. */
static void on_invited(struct sipua *ua, struct call *g, int status,
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
		call_unlink(g);
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
	fill_store_member(g, m, &sm);
	store_member_add(ua->db, &sm, NULL, NULL);
	space_changed(ua, m->space, false);
}

/* -- personal sessions and REFER (RFC 3515, RFC 4579 §5.5) --------------- */

/* A session that left its space to its own service is under its own
 * control (patent 0086): it switches its own channel. */
static void on_personal_command(struct sipua *ua, nua_handle_t *nh,
				struct call *c, const struct cmd *cmd)
{
	const struct catalog *cat = space_mgr_catalog(ua->mgr);
	const struct channel *ch, *now = call_channel(c);

	if (cmd->kind != CMD_SWITCH) {
		reply(ua, nh, SIP_403_FORBIDDEN,
		      "not in a space; only /switch works here");
		return;
	}
	ch = catalog_channel_lookup(cat, cmd->arg);
	if (!ch) {
		reply(ua, nh, SIP_404_NOT_FOUND, "unknown channel");
		return;
	}
	if (now && now->media != ch->media) {
		reply(ua, nh, SIP_488_NOT_ACCEPTABLE,
		      "offer cannot receive the channel's media");
		return;
	}
	c->personal = su_strdup(c->home, ch->id);
	reply(ua, nh, SIP_200_OK, NULL);
	repoint(c);
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
		leaving_done(c, 481);
	else
		repoint(c);
}

/* The re-INVITE of a leaving guest is answered (or could not be sent):
 * the REFER's subscription ends with its outcome. */
static void leaving_done(struct call *c, int status)
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
	call_unlink(c);
	space_member_remove(m);
	c->personal = su_strdup(c->home, ch->id);
	c->phase = CALL_PERSONAL;
	space_changed(ua, sp, false);
	if (store_member_leave(ua->db, c->space_id, c->user,
			       "left to own service", leave_stored, l) < 0)
		leave_stored(l, -ENOTCONN);
}

static void on_refer(struct sipua *ua, nua_handle_t *nh, struct call *c,
		     const sip_t *sip, tagi_t const *tags)
{
	sip_event_t const *ev = NULL;
	const url_t *to;
	char user[USER_MAX], method[16];
	const char *svc;

	if (!c || !c->member || c->member->role == SPACE_PENDING) {
		refuse(ua, nh, SIP_403_FORBIDDEN, "not a member of this space",
		       TAG_END());
		return;
	}
	if (!sip->sip_refer_to ||
	    ident_url_user(sip->sip_refer_to->r_url, user, sizeof(user)) < 0) {
		refuse(ua, nh, SIP_400_BAD_REQUEST,
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
		nua_respond(nh, SIP_202_ACCEPTED, NUTAG_WITH_THIS(ua->nua),
			    TAG_END());
		/* Service ids that begin with "svc-" themselves are named
		 * with or without the prefix. */
		if (!catalog_service(space_mgr_catalog(ua->mgr), svc))
			svc = user;
		leave_to_service(ua, nh, c, svc, ev);
		return;
	}
	if (c->member->role != SPACE_HOST) {
		refuse(ua, nh, SIP_403_FORBIDDEN, "only the host can do that",
		       TAG_END());
		return;
	}
	if (su_casematch(method, "BYE")) {
		struct space_member *m =
		    space_member_by_user(c->member->space, user);

		if (!m || m->role == SPACE_HOST) {
			refuse(ua, nh, SIP_404_NOT_FOUND, "no such member",
			       TAG_END());
			return;
		}
		nua_respond(nh, SIP_202_ACCEPTED, NUTAG_WITH_THIS(ua->nua),
			    TAG_END());
		remove_member(ua, c, m);
		refer_outcome(nh, ev, SIP_200_OK);
		return;
	}
	if (method[0] && !su_casematch(method, "INVITE")) {
		refuse(ua, nh, SIP_400_BAD_REQUEST,
		       "Refer-To method must be INVITE or BYE", TAG_END());
		return;
	}
	invite_into_space(ua, nh, c, to, user, ev);
}

/* -- restore ------------------------------------------------------------- */

static void restore_space(void *arg, const struct store_space *row,
			  const struct store_member *members, unsigned n)
{
	struct sipua *ua = arg;
	struct space *sp;
	su_home_t home[1] = {SU_HOME_INIT(home)};

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
		c = nh ? call_new(ua, nh, sm->user) : NULL;
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
		    call_start_relay(c, space_channel(sp), sm->sdp_addr,
				     sm->sdp_port, sm->sdp_pt) < 0)
			log_warn("space-%" PRIu64 " %s: relay not resumed",
				 row->id, sm->user);
		sdp = space_channel(sp)
			  ? call_answer(home, c, space_channel(sp))
			  : NULL;
		nua_invite(
		    nh, SIPTAG_CONTACT_STR(contact_of(home, ua, row->id)),
		    TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
		    TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)), TAG_END());
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
	return store_load_live(ua->db, restore_space, restore_done, ua);
}

/* The answer to our re-INVITE of a restored member. */
static void on_resumed(struct sipua *ua, struct call *c, int status)
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
	member_left(ua, c, "dialog lost in restart");
}

/* -- played time and the daily limit ------------------------------------- */

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
		end_space(ua, sp, "daily limit reached", NULL);
		return;
	}
	/* Thresholds run high to low: of those crossed, only the lowest
	 * one is worth saying. */
	for (unsigned i = 0; i < cfg->n_quota_warnings; i++)
		if (left <= cfg->quota_warnings[i] && space_warn_once(sp, i))
			warn = cfg->quota_warnings[i];
	if (warn) {
		say_left(text, sizeof(text), warn);
		tell_all(sp, NULL, text);
	}
}

/* Once a second: roll the day over at local midnight, book played time,
 * warn members as the host service's limit nears, end spaces at it. */
static void quota_tick(struct sipua *ua, int64_t now)
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

/* -- events ------------------------------------------------------------- */

static void tick(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	struct sipua *ua = arg;
	struct space_member *m;
	int64_t now = now_s();

	quota_tick(ua, now);
	while ((m = space_mgr_expired(ua->mgr, now))) {
		struct call *c = m->handle;
		struct space *sp = m->space;

		log_info("space-%" PRIu64 " join request %u from %s expired",
			 space_id(sp), m->request, m->user);
		tell_host(sp, "join request %u from %s expired", m->request,
			  m->user);
		if (c) {
			refuse_later(ua, c->nh, SIP_480_TEMPORARILY_UNAVAILABLE,
				     "the host did not answer in time");
			c->phase = CALL_GONE;
			call_unlink(c);
		}
		space_member_remove(m);
		space_changed(ua, sp, false);
	}
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
		const struct channel *ch = call_channel(c);
		char *sdp = ch ? call_answer(home, c, ch) : NULL;

		if (sdp)
			nua_respond(nh, SIP_200_OK,
				    SIPTAG_CONTENT_TYPE_STR("application/sdp"),
				    SIPTAG_PAYLOAD_STR(sdp), TAG_END());
		else
			refuse(ua, nh, SIP_481_NO_TRANSACTION,
			       "not a member any more", TAG_END());
		su_home_deinit(home);
		return;
	}
	if (ident_user(ua->cfg, nua_current_request(ua->nua), sip, user,
		       sizeof(user)) == IDENT_NONE) {
		refuse(ua, nh, SIP_403_FORBIDDEN,
		       "identity not asserted by a trusted peer", TAG_END());
		return;
	}
	if (target && su_strmatch(target, ua->cfg->factory_user)) {
		on_start(ua, nh, user, sip);
		return;
	}
	if (target && strncmp(target, "space-", 6) == 0 && target[6] >= '0' &&
	    target[6] <= '9') {
		errno = 0;
		id = strtoull(target + 6, &end, 10);
		if (!*end && !errno && id) {
			on_join(ua, nh, user, (uint64_t)id, sip);
			return;
		}
	}
	refuse(ua, nh, SIP_404_NOT_FOUND,
	       "dial the factory URI to start a space or a space URI to join",
	       TAG_END());
}

static void on_state(struct sipua *ua, nua_handle_t *nh, struct call *c,
		     tagi_t const *tags)
{
	int state = nua_callstate_init;

	tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
	if (state != nua_callstate_terminated)
		return;
	if (!c) {
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
		member_left(ua, c, "dialog terminated");
	}
	call_free(c);
}

static void event_cb(nua_event_t event, int status, char const *phrase,
		     nua_t *nua, struct sipua *ua, nua_handle_t *nh,
		     struct call *c, sip_t const *sip, tagi_t tags[])
{
	log_debug("%s %d %s%s%s", nua_event_name(event), status, phrase,
		  c ? " user " : "", c ? c->user : "");
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
			tell_host(sp, "join request %u from %s was withdrawn",
				  n, c->user);
			struct space_member *gone = c->member;

			call_unlink(c);
			space_member_remove(gone);
			space_changed(ua, sp, false);
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
			member_left(ua, c, "bye");
		}
		break;
	case nua_i_message:
		if (!c && sip)
			on_stray_message(ua, nh, sip);
		else if (sip)
			on_text(ua, nh, c, sip);
		else if (!c)
			nua_handle_destroy(nh);
		break;
	case nua_i_info:
		if (sip)
			on_text(ua, nh, c, sip);
		if (!c)
			nua_handle_destroy(nh);
		break;
	case nua_i_state:
		on_state(ua, nh, c, tags);
		break;
	case nua_r_invite:
		if (c && c->phase == CALL_RESUMING)
			on_resumed(ua, c, status);
		else if (c && c->phase == CALL_INVITING)
			on_invited(ua, c, status, sip);
		else if (c && c->reinvite_out)
			on_repointed(ua, c, status);
		break;
	case nua_r_message:
	case nua_r_info:
		if (c && (status == 481 || status == 408))
			log_info("space-%" PRIu64 " %s unreachable (%d)",
				 c->space_id, c->user, status);
		break;
	case nua_r_shutdown:
		if (status >= 200 && ua->shutdown_done)
			ua->shutdown_done(ua->shutdown_arg);
		break;
	case nua_i_refer:
		if (sip)
			on_refer(ua, nh, c, sip, tags);
		if (!c)
			nua_handle_destroy(nh);
		break;
	case nua_i_subscribe:
		if (sip)
			on_subscribe(ua, nh, c, sip);
		if (!c && !nua_handle_magic(nh))
			nua_handle_destroy(nh);
		break;
	case nua_r_notify:
		if (c && c->subscribed && (status == 481 || status == 408))
			sub_unlink(c);
		break;
	case nua_i_options:
	case nua_i_notify:
	case nua_i_publish:
	case nua_i_method:
		if (!c) {
			if (event != nua_i_options)
				refuse(ua, nh, SIP_501_NOT_IMPLEMENTED,
				       "not supported yet", TAG_END());
			nua_handle_destroy(nh);
		}
		else if (event != nua_i_options) {
			refuse(ua, nh, SIP_501_NOT_IMPLEMENTED,
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

/* -- life ---------------------------------------------------------------- */

static void ua_destructor(void *arg)
{
	struct sipua *ua = arg;

	if (ua->tick)
		su_timer_destroy(ua->tick);
	if (ua->nua)
		nua_destroy(ua->nua);
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
	    SIPTAG_SERVER_STR("tvspace/" TVSPACE_VERSION),
	    SIPTAG_USER_AGENT_STR("tvspace/" TVSPACE_VERSION), TAG_END());
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
