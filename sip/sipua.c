/* The SIP adapter: sofia-sip nua events in, space manager decisions out.
 * This file is the top of the adapter: which event goes to which handler,
 * the request refused before it costs anything (overload, the gate), and
 * the adapter's life.  The flows are in start.c, join.c, control.c,
 * refer.c, social.c and restore.c; what carries out the core's verdicts in
 * act.c; the dialogs in call.c (sipua_int.h has the layers).
 *
 * Ordering rule (DESIGN.md): the store commits a change before the SIP
 * message that announces it is sent.  The core takes the change first (so a
 * seat is held while the commit is in flight and two joins cannot both take
 * the last one) and gives it back if the commit fails. */
#define LOG_MODULE "sip"
#include "sip/sipua_int.h"

#include "sip/inbound.h"
#include "sip/routepin.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

/* nua, left running to the process's end by a stop that
 * keeps the dialogs (sipua_keep_dialogs()): sofia-sip has no way to free
 * them that sends no BYE.  Kept here, the stack's memory stays reachable
 * until exit (it is not lost: LeakSanitizer does not report it). */
static nua_t *stack_left;

#include <sofia-sip/tport_tag.h>

#define UDP_RMEM (4 << 20) /* the SIP UDP socket's receive buffer */

/* A re-INVITE inside a member's dialog (a session timer refresh, or the
 * terminal's own offer): the same channel again.  A relay member that
 * moved (a new c= or port) is followed there. */
static void on_reinvite(struct sipua *ua, nua_handle_t *nh, struct call *c,
			const sip_t *sip)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	const struct channel *ch = ua_call_channel(c);
	struct space_offer o;
	const char *why = NULL;
	char *sdp;

	if (c->media.leg && sip->sip_payload && sip->sip_payload->pl_len &&
	    sdpneg_parse_offer(home, sip->sip_payload->pl_data,
			       sip->sip_payload->pl_len, &o, &why) == 0 &&
	    ua_call_retarget(c, &o) == 0)
		log_info("space-%" PRIu64 " %s moved to %s:%u", c->space_id,
			 c->user, o.addr, o.port);
	sdp = ch ? ua_call_sdp(home, c, ch) : NULL;
	if (sdp)
		ua_call_timer_asked(c, sip);
	if (sdp)
		nua_respond(nh, SIP_200_OK, UA_RECV_INFO,
			    SIPTAG_CONTENT_TYPE_STR("application/sdp"),
			    SIPTAG_PAYLOAD_STR(sdp), TAG_END());
	else
		ua_refuse(ua, nh, SIP_481_NO_TRANSACTION,
			  "not a member any more", TAG_END());
	if (sdp)
		ua_call_store_sdp(c);
	su_home_deinit(home);
}

static void on_invite(struct sipua *ua, nua_handle_t *nh, struct call *c,
		      const sip_t *sip)
{
	char user[USER_MAX];
	const url_t *ruri = sip->sip_request->rq_url;
	const char *target = ruri->url_user;
	uint64_t id;

	if (c) {
		on_reinvite(ua, nh, c, sip);
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
	if ((id = ua_space_id_of_uri(ruri))) {
		ua_on_join(ua, nh, user, id, sip);
		return;
	}
	ua_refuse(
	    ua, nh, SIP_404_NOT_FOUND,
	    "dial the factory URI to start a space or a space URI to join",
	    TAG_END());
}

/* RFC 3261 §11: a space URI answers with the space's current SDP and the
 * focus Contact (RFC 4579), the factory with what the server can do. */
static void on_options(struct sipua *ua, nua_handle_t *nh, const sip_t *sip)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	const url_t *ruri = sip->sip_request->rq_url;
	uint64_t id = ua_space_id_of_uri(ruri);
	struct space *sp = id ? space_find(ua->mgr, id) : NULL;
	char *sdp = NULL;

	if (id && !sp) {
		ua_refuse(ua, nh, SIP_404_NOT_FOUND, "no such space",
			  TAG_END());
		goto out;
	}
	if (sp) {
		struct sdpneg_answer a = {
		    .session_id = id,
		    .version = 1,
		    .origin_addr = ua->cfg->media_addr,
		    .channel = space_channel(sp),
		    .delivery = SPACE_MULTICAST,
		    .pt = space_channel(sp)->pt,
		    .session_name = "tvspace",
		};

		sdp = sdpneg_answer(home, &a);
	}
	nua_respond(nh, SIP_200_OK, NUTAG_WITH(ua_request(ua)),
		    TAG_IF(sp, SIPTAG_CONTACT_STR(ua_contact_of(home, ua, id))),
		    /* nua adds application/sdp itself */
		    SIPTAG_ACCEPT_STR("text/plain, application/dtmf-relay"),
		    TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
		    TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)), TAG_END());
out:
	su_home_deinit(home);
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
	if (c->terminated)
		return;
	c->terminated = true;
	ua_repoint_gone(c);
	/* Gone without a BYE we saw (session timer, transport, a CANCEL
	 * while pending); a membership whose commit is in flight is settled
	 * by the commit's completion. */
	if (c->member && !c->committing)
		ua_member_gone(ua, c, "dialog terminated", !c->bye);
	call_unref(c); /* the handle's binding */
}

static void store_tag(struct sipua *ua, struct call *c, bool again);

/* Without its tag a restart cannot take the dialog up: a failed write is
 * tried once more, then said. */
static void tag_stored(struct step *s, int error)
{
	if (!error)
		return;
	if (!s->on && s->c->member && !call_gone(s->c)) {
		store_tag(s->ua, s->c, true);
		return;
	}
	log_err("space-%" PRIu64 " %s: dialog tag not stored (%s); a restart "
		"cannot take this dialog up",
		s->space_id, s->c->user, strerror(-error));
}

static void store_tag(struct sipua *ua, struct call *c, bool again)
{
	struct step *s = ua_step(ua, c, NULL, c->space_id, tag_stored);

	if (!s)
		return;
	s->on = again;
	if (store_member_dialog(ua->db, c->space_id, c->user, c->dlg.local_tag,
				ua_step_stored, s) < 0)
		ua_step_stored(s, -ENOTCONN);
}

/* The dialog's tag went with the membership's INSERT (call.c takes it
 * from nua when the INVITE comes); only a dialog whose tag was not known
 * then has it stored from the ACK, in a statement of its own. */
static void on_ack(struct sipua *ua, struct call *c, const sip_t *sip)
{
	if (!c->dlg.local_tag && sip && sip->sip_to && sip->sip_to->a_tag &&
	    ua_call_set_local_tag(c, sip->sip_to->a_tag) == 0 && c->member)
		store_tag(ua, c, false);
	if (c->media.reoffer) {
		/* The stream it offered was refused: now the channel. */
		c->media.reoffer = false;
		ua_repoint(c);
	}
}

/* A request or answer inside a dialog that failed: RFC 3261 §12.2.1.2,
 * 481 and 408 end it; so does a transport that cannot reach the member
 * (our own 503, without the Retry-After of a busy terminal). */
static void on_answer(struct sipua *ua, struct call *c, int status,
		      const sip_t *sip)
{
	if (!c || !c->member || call_gone(c))
		return;
	if (status == 481 || status == 408 ||
	    (status == 503 && !(sip && sip->sip_retry_after))) {
		log_info("space-%" PRIu64 " %s unreachable (%d)", c->space_id,
			 c->user, status);
		ua_member_gone(ua, c, "unreachable", true);
		c->bye = true;
		nua_bye(c->dlg.nh, TAG_END());
	}
}

static void dispatch(nua_event_t event, int status, char const *phrase,
		     struct sipua *ua, nua_handle_t *nh, struct call *c,
		     sip_t const *sip, tagi_t const tags[])
{
	int substate = -1;

	switch (event) {
	case nua_i_invite:
		if (sip)
			on_invite(ua, nh, c, sip);
		break;
	case nua_i_cancel:
		/* A start's host is a member only once its space is stored
		 * and answered; a host who came back is a joiner. */
		if (c && c->member && !c->committing && !c->host_back &&
		    c->member->role == SPACE_HOST)
			ua_start_cancelled(ua, c);
		else if (c)
			ua_on_cancel(ua, c);
		else
			ua_gate_forget(ua, nh);
		break;
	case nua_i_ack:
		if (c)
			on_ack(ua, c, sip);
		break;
	case nua_i_bye:
		if (c) {
			c->bye = true;
			ua_member_gone(ua, c, "bye", false);
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
		if (c && c->invited)
			ua_on_invited(ua, c, status, sip);
		else if (c && c->media.reinvite_out)
			ua_on_repointed(ua, c, status, sip);
		break;
	case nua_r_message:
	case nua_r_info:
		on_answer(ua, c, status, sip);
		break;
	case nua_r_method:
		/* A BYE of a dialog that timed out (act.c), answered. */
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
		tl_gets(tags, NUTAG_SUBSTATE_REF(substate), TAG_END());
		if (c && c->sub && status >= 300)
			ua_sub_answered(c, status);
		if (c && c->sub &&
		    (status == 481 || status == 408 ||
		     substate == nua_substate_terminated))
			ua_sub_drop(c);
		break;
	case nua_i_options:
		if (sip)
			on_options(ua, nh, sip);
		if (!c)
			nua_handle_destroy(nh);
		break;
	case nua_i_notify:
	case nua_i_publish:
	case nua_i_method:
		ua_refuse(ua, nh, SIP_501_NOT_IMPLEMENTED, "not supported",
			  TAG_END());
		if (!c)
			nua_handle_destroy(nh);
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

/* A request that would start something new (outside a dialog). */
static bool opens_dialog(nua_event_t event)
{
	return event == nua_i_invite || event == nua_i_subscribe ||
	       event == nua_i_message || event == nua_i_refer;
}

static void event_cb(nua_event_t event, int status, char const *phrase,
		     nua_t *nua, struct sipua *ua, nua_handle_t *nh,
		     struct call *c, sip_t const *sip, tagi_t tags[])
{
	if (log_level() >= LOG_DEBUG)
		log_debug("%s %d %s%s%s", nua_event_name(event), status, phrase,
			  c ? " user " : "", c ? c->user : "");
	if (ua->quiet && event != nua_r_shutdown) {
		/* The dialogs are left for the next start or another node:
		 * nothing goes into them from here. */
		log_debug("stopping: %s ignored", nua_event_name(event));
		return;
	}
	ua->req.msg = nua_event_is_incoming_request(event)
			  ? nua_current_request(nua)
			  : NULL;
	if (!c && sip && opens_dialog(event)) {
		/* DESIGN.md: overload is refused early and cheaply; members
		 * already in keep being served (their requests are in a
		 * dialog). */
		if (ua->overloaded || ua->stopping ||
		    !admit_take(&ua->admit, ua_now())) {
			su_home_t home[1] = {SU_HOME_INIT(home)};

			tv_stats.shed++;
			stats_refusal(503);
			nua_respond(
			    nh, SIP_503_SERVICE_UNAVAILABLE,
			    NUTAG_WITH(ua->req.msg),
			    SIPTAG_RETRY_AFTER_STR(ua->stopping ? "5" : "1"),
			    SIPTAG_WARNING_STR(ua_warning(
				home, ua,
				ua->stopping ? "the server is stopping"
					     : "the server is overloaded, "
					       "try again")),
			    TAG_END());
			if (event == nua_i_refer)
				ua_gate_destroy_later(ua, nh);
			else if (event != nua_i_invite)
				nua_handle_destroy(nh);
			su_home_deinit(home);
			return;
		}
		/* Rate limits and who is asking (gate.c).  Inside a dialog
		 * the dialog says who it is. */
		if (!ua_gate(ua, event, nh, sip))
			return;
	}
	dispatch(event, status, phrase, ua, nh, c, sip, tags);
	ua->req.msg = NULL;
}

static void ua_destructor(void *arg)
{
	struct sipua *ua = arg;

	ua_act_stop(ua);
	if (ua->notify_timer)
		su_timer_destroy(ua->notify_timer);
	ua_gate_destroy(ua);
	/* nua may only be destroyed once its shutdown has completed; a
	 * second signal or the shutdown deadline stops the daemon before
	 * that, and the stack's memory goes with the process. */
	routepin_clear();
	if (ua->nua && ua->shutdown_final) {
		/* The calls go after this destructor (they are the home's
		 * children): their handles went with nua. */
		nua_destroy(ua->nua);
		ua->nua = NULL;
	}
	else if (ua->nua) {
		if (!ua->keep_dialogs)
			log_warn("stopping before the SIP stack finished its "
				 "shutdown");
		stack_left = ua->nua;
	}
	ua_calls_free(ua);
}

/* host[:port] of the listen URL, for our Contact; returns the port. */
static unsigned make_hostport(struct sipua *ua)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	url_t *url = url_make(home, ua->cfg->listen);
	const char *host = url && url->url_host ? url->url_host : "127.0.0.1";
	unsigned port =
	    url && url->url_port ? (unsigned)atoi(url->url_port) : 5060;

	if (su_strmatch(host, "0.0.0.0") || su_strmatch(host, "*") ||
	    su_strmatch(host, "[::]"))
		host = ua->cfg->domain;
	if (url && url->url_port)
		snprintf(ua->hostport, sizeof(ua->hostport), "%s:%s", host,
			 url->url_port);
	else
		snprintf(ua->hostport, sizeof(ua->hostport), "%s", host);
	su_home_deinit(home);
	return port;
}

/* The SIP stack's UDP sockets, found among the process's descriptors by
 * the listen port (sofia-sip does not hand them out), for the overload
 * measure of what waits unread in them (act.c).  Refused when more than
 * an eighth of a socket's buffer waits: about 100 ms of a burst with the
 * 4 MB buffer asked for, at a few thousand requests a second. */
static void find_sip_sockets(struct sipua *ua, unsigned port)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	ua->n_sip_fds = 0;
	ua->sip_backlog_max = 0;
	while (d && (e = readdir(d)) &&
	       ua->n_sip_fds < sizeof(ua->sip_fds) / sizeof(ua->sip_fds[0])) {
		struct sockaddr_storage ss = {0};
		socklen_t len = sizeof(ss);
		int fd = atoi(e->d_name), type = 0, rcvbuf = 0;
		socklen_t tl = sizeof(type), rl = sizeof(rcvbuf);
		unsigned p = 0;

		if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == dirfd(d))
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 ||
		    type != SOCK_DGRAM ||
		    getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
			continue;
		if (ss.ss_family == AF_INET)
			p = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			p = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		if (p != port)
			continue;
		ua->sip_fds[ua->n_sip_fds++] = fd;
		/* Each datagram stamped as it comes: how long the oldest
		 * has waited unread (act.c). */
		if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &(int){1},
			       sizeof(int)) < 0)
			log_info("SIP socket %d: no receive time stamps: %s",
				 fd, strerror(errno));
		if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &rl) == 0 &&
		    rcvbuf > 0 && (unsigned)rcvbuf / 8 > ua->sip_backlog_max)
			ua->sip_backlog_max = (unsigned)rcvbuf / 8;
	}
	if (d)
		closedir(d);
	if (!ua->n_sip_fds)
		log_info("SIP sockets not found: their backlog is not "
			 "measured for overload");
}

struct sipua *sipua_create(su_home_t *parent, const struct sipua_deps *deps)
{
	struct sipua *ua = su_home_clone(parent, sizeof(*ua));
	const struct cfg *cfg = deps->cfg;
	const char *agent = cfg_server_header(cfg);
	unsigned port;

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
	ua->dispatch = dispatch;
	ua->on_key = ua_on_key;
	port = make_hostport(ua);
	ua->cache = svccache_create(ua->home, cfg->service_cache_size,
				    (int64_t)cfg->service_cache_ttl * 1000);
	if (!ua->cache || ua_gate_init(ua) < 0 || ua_rooms_init(ua) < 0 ||
	    ua_act_init(ua) < 0)
		goto fail;

	/* Requests whose answer cannot be sent are dropped in the parser,
	 * before the transaction layer (sip/inbound.c). */
	if (!inbound_mclass() ||
	    routepin_install((msg_mclass_t *)inbound_mclass()) < 0) {
		log_err("out of memory");
		goto fail;
	}
	/* The stack runs on our loop, not in a thread of its own (the
	 * root's default): every event and every answer crossed between the
	 * two threads, with a lock, a wakeup and a context switch each way;
	 * on one thread they are messages on the same loop (docs/
	 * performance.md, "Where the time goes"). */
	su_root_threading(ua->root, 0);
	ua->nua = nua_create(
	    ua->root, event_cb, ua, NUTAG_URL(cfg->listen),
	    NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOANSWER(0), NUTAG_AUTOACK(1),
	    NUTAG_ENABLEINVITE(1), NUTAG_ENABLEMESSAGE(1),
	    NUTAG_APPL_METHOD("MESSAGE"), NUTAG_APPL_METHOD("INFO"),
	    NUTAG_APPL_METHOD("REFER"), NUTAG_APPL_METHOD("SUBSCRIBE"),
	    NUTAG_APPL_METHOD("OPTIONS"), NUTAG_ALLOW_EVENTS("conference"),
	    NUTAG_ALLOW("INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE, "
			"INFO, UPDATE, REFER, SUBSCRIBE, NOTIFY"),
	    TAG_IF(cfg->session_expires,
		   NUTAG_SESSION_TIMER(cfg->session_expires)),
	    TAG_IF(cfg->session_expires, NUTAG_MIN_SE(UA_MIN_SE)),
	    /* nua puts the User-Agent in responses too (server_header). */
	    TAG_IF(*agent, SIPTAG_SERVER_STR(agent)),
	    TAG_IF(*agent, SIPTAG_USER_AGENT_STR(agent)),
	    TAG_IF(!*agent, SIPTAG_USER_AGENT(SIP_NONE)),
	    /* A burst of requests waits in the kernel until the stack reads
	     * it; with the default buffer (about 200 KB, 300 INVITEs) a
	     * burst past capacity is dropped there, unanswered even by 503,
	     * and comes back as retransmissions that keep the overload up.
	     * Unprivileged, the kernel caps it at net.core.rmem_max. */
	    TPTAG_UDP_RMEM(UDP_RMEM), NTATAG_MCLASS(inbound_mclass()),
	    /* A burst of NOTIFYs to subscribers on one TCP connection waits
	     * in the stack past the socket's buffer: 64 by default, past
	     * that nua answers them 503 itself (1000 is sofia's cap). */
	    TPTAG_QUEUESIZE(1000), TAG_END());
	if (!ua->nua) {
		log_err("cannot listen on %s", cfg->listen);
		goto fail;
	}
	find_sip_sockets(ua, port);
	log_notice("listening on %s, domain %s, factory sip:%s@%s", cfg->listen,
		   cfg->domain, cfg->factory_user, cfg->domain);
	return ua;
fail:
	su_home_unref(ua->home);
	return NULL;
}

static void programme_again(void *arg, struct space *sp)
{
	ua_programme(arg, sp);
}

void sipua_set_guide(struct sipua *ua, const struct guide *guide)
{
	ua->guide = guide;
	/* Once a reload: every live space reads its programme again. */
	space_mgr_foreach(ua->mgr, programme_again, ua);
}

void sipua_load(const struct sipua *ua, struct sipua_load *ret)
{
	struct svccache_stats st;

	svccache_stats(ua->cache, &st);
	*ret = (struct sipua_load){
	    .loop_lag = (double)ua->loop_lag / 1000.0,
	    .sip_unread = ua->sip_backlog,
	    .sip_wait = ua->sip_wait_ms / 1000.0,
	    .overloaded = ua->overloaded,
	    .admit_rate = admit_rate(&ua->admit),
	    .admit_gated = ua->admit.gated,
	    .cache_hits = st.hits,
	    .cache_misses = st.misses,
	    .cache_evictions = st.evictions,
	    .cache_entries = st.entries,
	    .cache_capacity = st.capacity,
	};
}

void sipua_service_changed(struct sipua *ua, const char *id, const char *user)
{
	ua_service_changed(ua, id, user);
}

void sipua_shutdown(struct sipua *ua, void (*done)(void *arg), void *arg)
{
	ua->shutdown_done = done;
	ua->shutdown_arg = arg;
	ua->stopping = true;
	ua_act_stop(ua);
	nua_shutdown(ua->nua);
}

static void end_one(void *arg, struct space *sp)
{
	struct sipua *ua = arg;

	ua_end_space(ua, sp, "the server is shutting down", NULL);
}

unsigned sipua_end_all(struct sipua *ua)
{
	unsigned n = space_mgr_count(ua->mgr);

	ua->stopping = true;
	space_mgr_foreach(ua->mgr, end_one, ua);
	return n;
}

/* A joiner waiting for the host's word has no dialog yet: it is told to
 * come back (the next start knows nothing of it). */
static void refuse_pending(void *arg, struct space *sp)
{
	struct sipua *ua = arg;

	for (struct space_member *m = space_members(sp), *next; m; m = next) {
		struct call *c = m->handle;

		next = m->next;
		if (m->role != SPACE_PENDING || !c)
			continue;
		ua_call_unlink(c);
		ua_refuse_later(ua, c->dlg.nh, SIP_503_SERVICE_UNAVAILABLE,
				"the server is restarting, try again");
		space_member_remove(m, ua_now());
	}
}

void sipua_keep_dialogs(struct sipua *ua)
{
	ua->stopping = true;
	ua->keep_dialogs = true;
	/* No deadline fires and no re-INVITE leaves: the next start runs
	 * them from the stored state. */
	ua_act_stop(ua);
	space_mgr_foreach(ua->mgr, refuse_pending, ua);
}

void sipua_quiet(struct sipua *ua)
{
	ua->quiet = true;
}

bool sipua_stack_done(const struct sipua *ua)
{
	return !ua->nua || ua->shutdown_final;
}

struct sipua *sipua_destroy(struct sipua *ua)
{
	if (ua)
		su_home_unref(ua->home);
	return NULL;
}
