/* Master control (S206-S207, claims 2-3): the commands members type in
 * MESSAGE or INFO (and remote-control keys), and comments sent outside a
 * dialog.  A command that changes the space takes the change in the core,
 * commits it, and only then answers and tells everyone; a failed commit
 * gives the change back and answers 503.  Part of the SIP adapter; one
 * su_root thread. */
#define LOG_MODULE "sip"
#include "sip/sipua_int.h"

#include <ctype.h>

/* -- commands whose answer follows a commit ------------------------------- */

static void switch_stored(struct step *s, int error)
{
	struct sipua *ua = s->ua;
	struct space *sp = space_find(ua->mgr, s->space_id);

	if (error) {
		log_err("space-%" PRIu64 " switch not stored (%s)", s->space_id,
			strerror(-error));
		if (sp && s->old)
			space_set_channel(sp, s->old);
		ua_step_reply(s, SIP_503_SERVICE_UNAVAILABLE,
			      "database unavailable, try again");
		return;
	}
	if (!sp) {
		ua_step_reply(s, SIP_200_OK, NULL);
		return;
	}
	log_info("space-%" PRIu64 " switched to %s by %s", s->space_id,
		 space_channel(sp)->id, s->by);
	tv_stats.switches++;
	/* The host's 200 first, then the re-INVITEs: the answer says the
	 * switch is committed, the re-INVITEs carry it out. */
	ua_step_reply(s, SIP_200_OK, NULL);
	ua_repoint_all(sp, s->old);
	ua_programme(ua, sp);
	ua_room_changed(ua, sp);
}

static void cmd_switch(struct sipua *ua, nua_handle_t *nh, struct call *c,
		       const char *channel)
{
	struct space *sp = c->member->space;
	struct step *s = ua_step(ua, c, nh, c->space_id, switch_stored);
	enum space_verdict v;

	if (!s) {
		ua_reply(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
			 "out of memory");
		return;
	}
	v = space_switch(sp, c->user, channel, s->home, &s->old);
	if (v != SPACE_OK) {
		if (v == SPACE_NOT_HOST)
			ua_step_reply(s, SIP_403_FORBIDDEN,
				      "only the host can switch");
		else {
			struct verdict_map st = ua_verdict_status(v);

			/* RFC 5057: a 404 would end the dialog. */
			if (st.status == 404)
				st = (struct verdict_map){SIP_400_BAD_REQUEST};
			ua_step_reply(s, st.status, st.phrase,
				      space_verdict_str(v));
		}
		ua_step_free(s);
		return;
	}
	snprintf(s->by, sizeof(s->by), "%s", c->user);
	if (store_space_update(ua->db, c->space_id, space_channel(sp)->id, NULL,
			       NULL, ua_step_stored, s) < 0)
		ua_step_stored(s, -ENOTCONN);
}

static void remote_moved(struct step *s, int error)
{
	struct sipua *ua = s->ua;
	struct space *sp = space_find(ua->mgr, s->space_id);
	char text[300];

	if (error) {
		/* Give the remote back as it was. */
		if (sp)
			space_handover(sp, s->who, s->by);
		ua_step_reply(s, SIP_503_SERVICE_UNAVAILABLE,
			      "database unavailable, try again");
		return;
	}
	log_info("space-%" PRIu64 " remote handed from %s to %s", s->space_id,
		 s->by, s->who);
	ua_step_reply(s, SIP_200_OK, NULL);
	if (sp) {
		snprintf(text, sizeof(text), "%s holds the remote now", s->who);
		ua_tell_all(sp, NULL, text);
		ua_room_changed(ua, sp);
	}
}

/* Store a move of the remote the core has made (handover, grab), then
 * answer and tell everyone. */
static void store_remote_move(struct sipua *ua, nua_handle_t *nh,
			      struct space *sp, const char *from,
			      const char *to)
{
	struct step *s = ua_step(ua, NULL, nh, space_id(sp), remote_moved);

	if (!s) {
		space_handover(sp, to, from);
		ua_reply(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
			 "out of memory");
		return;
	}
	snprintf(s->by, sizeof(s->by), "%s", from);
	snprintf(s->who, sizeof(s->who), "%s", to);
	if (store_space_update(ua->db, space_id(sp), NULL, to, from,
			       ua_step_stored, s) < 0)
		ua_step_stored(s, -ENOTCONN);
}

static void opened(struct step *s, int error)
{
	struct sipua *ua = s->ua;
	struct space *sp = space_find(ua->mgr, s->space_id);

	if (error) {
		if (sp)
			space_set_open(sp, s->by, !s->on);
		ua_step_reply(s, SIP_503_SERVICE_UNAVAILABLE,
			      "database unavailable, try again");
		return;
	}
	log_info("space-%" PRIu64 " %s by %s", s->space_id,
		 s->on ? "opened" : "closed", s->by);
	ua_step_reply(s, SIP_200_OK, NULL);
	if (sp)
		ua_room_changed(ua, sp);
}

static void cmd_open(struct sipua *ua, nua_handle_t *nh, struct call *c,
		     bool open)
{
	struct space *sp = c->member->space;
	struct step *s;

	if (space_set_open(sp, c->user, open) != SPACE_OK) {
		ua_reply(ua, nh, SIP_403_FORBIDDEN,
			 "only the host can do that");
		return;
	}
	s = ua_step(ua, c, nh, c->space_id, opened);
	if (!s) {
		space_set_open(sp, c->user, !open);
		ua_reply(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
			 "out of memory");
		return;
	}
	s->on = open;
	snprintf(s->by, sizeof(s->by), "%s", c->user);
	if (store_space_set_open(ua->db, c->space_id, open, ua_step_stored, s) <
	    0)
		ua_step_stored(s, -ENOTCONN);
}

/* -- commands answered at once ---------------------------------------------
 */

static void cmd_allow(struct sipua *ua, nua_handle_t *nh, struct space *sp,
		      unsigned n)
{
	struct space_member *m = NULL;
	enum space_verdict v = space_admit(sp, n, ua_now(), &m);
	struct call *g = m ? m->handle : NULL;

	if (v == SPACE_FULL && g) {
		ua_reply_verdict(ua, nh, v, NULL);
		ua_refuse_later(ua, g->dlg.nh, SIP_486_BUSY_HERE, "space full");
		ua_call_unlink(g);
		space_member_remove(m, ua_now());
		ua_room_changed(ua, sp);
		return;
	}
	if (v != SPACE_OK || !g) {
		ua_reply_verdict(
		    ua, nh, v,
		    v == SPACE_NO_SUCH_REQUEST ? "no such join request" : NULL);
		return;
	}
	ua_reply(ua, nh, SIP_200_OK, NULL);
	log_info("space-%" PRIu64 " request %u allowed: %s", space_id(sp), n,
		 g->user);
	ua_admit(ua, g);
}

static void cmd_deny(struct sipua *ua, nua_handle_t *nh, struct space *sp,
		     unsigned n)
{
	struct space_member *m = NULL;
	enum space_verdict v = space_pending(sp, n, &m);

	if (v != SPACE_OK) {
		ua_reply_verdict(ua, nh, v, "no such join request");
		return;
	}
	ua_reply(ua, nh, SIP_200_OK, NULL);
	log_info("space-%" PRIu64 " request %u denied: %s", space_id(sp), n,
		 m->user);
	ua_remove_member(ua, m, "the host", "host");
}

static void cmd_kick(struct sipua *ua, nua_handle_t *nh, struct call *c,
		     const char *user)
{
	struct space_member *m = NULL;
	enum space_verdict v = space_kick(c->member->space, c->user, user, &m);

	if (v == SPACE_HOST_ALREADY) {
		ua_reply(ua, nh, SIP_403_FORBIDDEN,
			 "the host leaves with BYE or /end");
		return;
	}
	if (v != SPACE_OK) {
		ua_reply_verdict(ua, nh, v,
				 v == SPACE_NO_SUCH_USER ? "no such member"
							 : NULL);
		return;
	}
	ua_reply(ua, nh, SIP_200_OK, NULL);
	ua_remove_member(ua, m, c->user, "host");
}

static void cmd_unban(struct sipua *ua, nua_handle_t *nh, struct call *c,
		      const char *user)
{
	enum space_verdict v = space_unban(c->member->space, c->user, user);

	if (v == SPACE_NO_SUCH_USER) {
		ua_reply(ua, nh, SIP_400_BAD_REQUEST,
			 "that user was not removed from this space");
		return;
	}
	if (v != SPACE_OK) {
		ua_reply_verdict(ua, nh, v, NULL);
		return;
	}
	log_info("space-%" PRIu64 " %s may ask again (by %s)", c->space_id,
		 user, c->user);
	ua_reply(ua, nh, SIP_200_OK, NULL);
}

static void cmd_handover(struct sipua *ua, nua_handle_t *nh, struct call *c,
			 const char *to)
{
	struct space *sp = c->member->space;
	enum space_verdict v = space_handover(sp, c->user, to);

	if (v != SPACE_OK) {
		ua_reply_verdict(ua, nh, v, NULL);
		return;
	}
	store_remote_move(ua, nh, sp, c->user, to);
}

static void cmd_grab(struct sipua *ua, nua_handle_t *nh, struct call *c)
{
	struct space *sp = c->member->space;
	struct space_member *host = space_host(sp);
	char from[USER_MAX];
	unsigned n = 0;
	enum space_verdict v;

	snprintf(from, sizeof(from), "%s", host ? host->user : "");
	v = space_grab(sp, c->user, &n);
	if (v != SPACE_OK) {
		ua_reply_verdict(ua, nh, v, NULL);
		return;
	}
	if (!n) {
		/* grab_policy = free: it passed at once. */
		store_remote_move(ua, nh, sp, from, c->user);
		return;
	}
	ua_reply(ua, nh, SIP_200_OK, NULL);
	log_info("space-%" PRIu64 " grab request %u from %s", c->space_id, n,
		 c->user);
	ua_tell_host(sp, "grab request %u from %s; reply /allow %u or /deny %u",
		     n, c->user, n, n);
}

/* /allow N or /deny N naming a grab request. */
static void grab_answer(struct sipua *ua, nua_handle_t *nh, struct call *c,
			unsigned n, bool allow)
{
	struct space *sp = c->member->space;
	struct space_member *g = NULL;
	char asker[USER_MAX];

	if (space_grab_answer(sp, n, allow, &g) != SPACE_OK) {
		ua_reply(ua, nh, SIP_400_BAD_REQUEST, "no such grab request");
		return;
	}
	snprintf(asker, sizeof(asker), "%s", g->user);
	if (allow) {
		store_remote_move(ua, nh, sp, c->user, asker);
		return;
	}
	ua_reply(ua, nh, SIP_200_OK, NULL);
	ua_tell(g->handle, "the host keeps the remote");
}

static void on_command(struct sipua *ua, nua_handle_t *nh, struct call *c,
		       const struct cmd *cmd)
{
	struct space_member *m = c->member;
	struct space *sp = m->space;
	bool host = m->role == SPACE_HOST;

	if (ua_on_social(ua, nh, c, cmd))
		return;
	switch (cmd->kind) {
	case CMD_HELP:
		ua_reply(ua, nh, SIP_200_OK, NULL);
		ua_tell(c, cmd_list());
		return;
	case CMD_ALLOW:
	case CMD_DENY:
	case CMD_END:
	case CMD_OPEN:
	case CMD_CLOSE:
	case CMD_HANDOVER:
	case CMD_KICK:
	case CMD_UNBAN:
		if (!host) {
			ua_reply(ua, nh, SIP_403_FORBIDDEN,
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
	case CMD_UNBAN:
		cmd_unban(ua, nh, c, cmd->arg);
		return;
	case CMD_END:
		/* Same as the host's BYE, and the host's dialog ends too. */
		ua_reply(ua, nh, SIP_200_OK, NULL);
		ua_end_space(ua, sp, "space ended by host", NULL);
		return;
	case CMD_OPEN:
	case CMD_CLOSE:
		cmd_open(ua, nh, c, cmd->kind == CMD_OPEN);
		return;
	case CMD_LEAVE:
		ua_leave_to_service(ua, nh, c, cmd->arg, NULL, false);
		return;
	default:
		ua_reply(ua, nh, SIP_400_BAD_REQUEST, "not a command here");
		return;
	}
}

/* A session that left its space to its own service is under its own
 * control (patent 0086): it switches its own channel. */
static void on_personal_command(struct sipua *ua, nua_handle_t *nh,
				struct call *c, const struct cmd *cmd)
{
	const struct catalog *cat = space_mgr_catalog(ua->mgr);
	const struct channel *ch, *now = c->personal;
	struct channel *copy;

	if (cmd->kind != CMD_SWITCH) {
		ua_reply(ua, nh, SIP_403_FORBIDDEN,
			 "not in a space; only /switch works here");
		return;
	}
	ch = catalog_channel_lookup(cat, cmd->arg);
	if (!ch) {
		ua_reply(ua, nh, SIP_400_BAD_REQUEST, "unknown channel");
		return;
	}
	if (now && now->media != ch->media) {
		ua_reply(ua, nh, SIP_488_NOT_ACCEPTABLE,
			 "offer cannot receive the channel's media");
		return;
	}
	copy = catalog_channel_copy(c->home, ch);
	if (!copy) {
		ua_reply(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
			 "out of memory");
		return;
	}
	su_free(c->home, c->personal);
	c->personal = copy;
	ua_reply(ua, nh, SIP_200_OK, NULL);
	ua_repoint(c);
}

static void command(struct sipua *ua, nua_handle_t *nh, struct call *c,
		    const struct cmd *cmd)
{
	if (c->personal)
		on_personal_command(ua, nh, c, cmd);
	else
		on_command(ua, nh, c, cmd);
}

/* The key of an application/dtmf body (a bare key, as the DTMF INFO
 * variants send it): 0 or -EBADMSG. */
static int dtmf_key(const char *body, size_t len, char *ret_key)
{
	static const char keys[] = "0123456789*#ABCDabcd";
	const char *k = NULL;

	for (size_t i = 0; i < len; i++) {
		if (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' ||
		    body[i] == '\n')
			continue;
		if (k || !body[i] || !strchr(keys, body[i]))
			return -EBADMSG;
		k = body + i;
	}
	if (!k)
		return -EBADMSG;
	*ret_key = (char)toupper((unsigned char)*k);
	return 0;
}

/* RFC 6086 §7.2: the Info Package an INFO names, its name alone (its
 * parameters are not ours to read).  0 without one, 1 with one in @a buf,
 * -EBADMSG when it is malformed or there are several. */
static int info_package(const sip_t *sip, char *buf, size_t size)
{
	const sip_unknown_t *u;
	int found = 0;

	for (u = sip->sip_unknown; u; u = u->un_next) {
		const char *v = u->un_value;
		size_t n;

		if (!u->un_name || !su_casematch(u->un_name, "Info-Package"))
			continue;
		if (found++ || !v)
			return -EBADMSG;
		v += strspn(v, " \t");
		n = strcspn(v, " \t;");
		if (!n || n >= size)
			return -EBADMSG;
		memcpy(buf, v, n);
		buf[n] = '\0';
	}
	return found;
}

/* A remote control's keys (INFO, as SIP phones send them): digits then
 * '#' switch, '*' asks for the remote.  The INFO that completes a command
 * gets that command's answer. */
static void on_key(struct sipua *ua, nua_handle_t *nh, struct call *c, char key)
{
	struct cmd cmd;

	if (!cmd_dtmf_feed(&c->media.dtmf, key, &cmd))
		ua_reply(ua, nh, SIP_200_OK, NULL);
	else
		command(ua, nh, c, &cmd);
}

/* An INFO of our Info Package (RFC 6086 §4.2.2), or one naming another:
 * 469 with the package we take in Recv-Info.  Its body is a key, as
 * application/dtmf-relay (Signal=KEY) or application/dtmf (KEY). */
static void on_info_package(struct sipua *ua, nua_handle_t *nh, struct call *c,
			    const sip_t *sip, const char *pkg)
{
	const sip_payload_t *pl = sip->sip_payload;
	const sip_content_type_t *ct = sip->sip_content_type;
	su_home_t home[1] = {SU_HOME_INIT(home)};
	char key;

	if (!su_casematch(pkg, UA_INFO_PACKAGE)) {
		ua_refuse(ua, nh, 469, "Bad Info Package",
			  su_sprintf(home,
				     "Info Package %s is not taken here; "
				     "Recv-Info says which is",
				     pkg),
			  UA_RECV_INFO, TAG_END());
	}
	else if (!ct || !pl || !pl->pl_len ||
		 (!su_casematch(ct->c_type, "application/dtmf-relay") &&
		  !su_casematch(ct->c_type, "application/dtmf"))) {
		ua_refuse(ua, nh, SIP_415_UNSUPPORTED_MEDIA,
			  UA_INFO_PACKAGE " carries application/dtmf-relay "
					  "or application/dtmf",
			  SIPTAG_ACCEPT_STR(
			      "application/dtmf-relay, application/dtmf"),
			  TAG_END());
	}
	else if ((su_casematch(ct->c_type, "application/dtmf")
		      ? dtmf_key(pl->pl_data, pl->pl_len, &key)
		      : cmd_dtmf_relay(pl->pl_data, pl->pl_len, &key)) < 0) {
		ua_reply(ua, nh, SIP_400_BAD_REQUEST,
			 "expected one key: Signal=KEY in "
			 "application/dtmf-relay, KEY in application/dtmf");
	}
	else {
		on_key(ua, nh, c, key);
	}
	su_home_deinit(home);
}

void ua_on_text(struct sipua *ua, nua_handle_t *nh, struct call *c,
		const sip_t *sip)
{
	const sip_payload_t *pl = sip->sip_payload;
	const sip_content_type_t *ct = sip->sip_content_type;
	struct cmd cmd;
	su_home_t home[1] = {SU_HOME_INIT(home)};

	if (!c && sip->sip_to && sip->sip_to->a_tag) {
		/* RFC 3261 §12.2.2: in a dialog we do not have.  nua
		 * answers a BYE or MESSAGE like this itself; an INFO it
		 * passes on. */
		ua_refuse(ua, nh, SIP_481_NO_TRANSACTION,
			  "no dialog with these tags", TAG_END());
		return;
	}
	if (!c || ((!c->member || c->member->role == SPACE_PENDING) &&
		   !c->personal)) {
		ua_refuse(ua, nh, SIP_403_FORBIDDEN,
			  "not a member of this space", TAG_END());
		return;
	}
	if (sip->sip_request->rq_method == sip_method_info) {
		char pkg[64];
		int has = info_package(sip, pkg, sizeof(pkg));

		if (has < 0) {
			ua_reply(ua, nh, SIP_400_BAD_REQUEST,
				 "one Info-Package header with a package name");
			return;
		}
		if (has) {
			on_info_package(ua, nh, c, sip, pkg);
			return;
		}
		/* Without one: legacy INFO usage (RFC 6086 §3), as
		 * before. */
	}
	if (!pl || !pl->pl_len) {
		ua_reply(ua, nh, SIP_400_BAD_REQUEST, "empty body");
		return;
	}
	if (ct && su_casematch(ct->c_type, "application/dtmf-relay")) {
		char key;

		if (cmd_dtmf_relay(pl->pl_data, pl->pl_len, &key) < 0)
			ua_reply(
			    ua, nh, SIP_400_BAD_REQUEST,
			    "expected Signal=KEY in application/dtmf-relay");
		else
			on_key(ua, nh, c, key);
		return;
	}
	if (ct && !su_casematch(ct->c_type, "text/plain")) {
		ua_refuse(
		    ua, nh, SIP_415_UNSUPPORTED_MEDIA,
		    "commands and comments are text/plain",
		    SIPTAG_ACCEPT_STR("text/plain, application/dtmf-relay"),
		    TAG_END());
		return;
	}
	cmd_parse(pl->pl_data, pl->pl_len, &cmd);
	if (cmd.kind == CMD_BAD)
		ua_reply(ua, nh, SIP_400_BAD_REQUEST,
			 su_sprintf(home, "%s; commands: %s", cmd.error,
				    cmd_list()));
	else if (cmd.kind != CMD_NONE)
		command(ua, nh, c, &cmd);
	else if (c->personal)
		ua_reply(ua, nh, SIP_403_FORBIDDEN,
			 "not in a space: nobody to read comments");
	else
		ua_comment(ua, nh, c->member, pl, false);
	su_home_deinit(home);
}

/* A MESSAGE outside any dialog: a member's comment sent to the space URI.
 * The handle is ours; it ends when the answer has gone. */
void ua_on_stray_message(struct sipua *ua, nua_handle_t *nh, const sip_t *sip)
{
	const sip_payload_t *pl = sip->sip_payload;
	struct space *sp = ua_space_of_uri(ua, sip->sip_request->rq_url);
	struct space_member *m = NULL;
	char user[USER_MAX];
	struct cmd cmd;

	if (sp && ua_ident(ua, sip, user, sizeof(user)) != IDENT_NONE)
		m = space_member_by_user(sp, user);
	if (!m || m->role == SPACE_PENDING) {
		ua_refuse(ua, nh, SIP_403_FORBIDDEN,
			  "not a member of this space", TAG_END());
	}
	else if (!pl || !pl->pl_len) {
		ua_reply(ua, nh, SIP_400_BAD_REQUEST, "empty body");
	}
	else if (sip->sip_content_type &&
		 !su_casematch(sip->sip_content_type->c_type, "text/plain")) {
		ua_refuse(ua, nh, SIP_415_UNSUPPORTED_MEDIA,
			  "comments are text/plain",
			  SIPTAG_ACCEPT_STR("text/plain"), TAG_END());
	}
	else {
		cmd_parse(pl->pl_data, pl->pl_len, &cmd);
		if (cmd.kind == CMD_NONE) {
			ua_comment(ua, nh, m, pl, true);
			return;
		}
		ua_reply(ua, nh, SIP_403_FORBIDDEN,
			 "send commands in your dialog with the space");
	}
	nua_handle_destroy(nh);
}

void ua_on_key(void *arg, struct media_leg *leg, char key)
{
	struct call *c = arg;
	struct cmd cmd;

	/* RFC 4733 keys on the relay RTP: digits then '#' switch, '*' asks
	 * for the remote, as with INFO; there is no request to answer. */
	if (!cmd_dtmf_feed(&c->media.dtmf, key, &cmd))
		return;
	log_info("space-%" PRIu64 " %s: key command %s", c->space_id, c->user,
		 cmd.kind == CMD_GRAB ? "/grab" : cmd.arg);
	if (c->personal || (c->member && c->member->role != SPACE_PENDING))
		command(c->ua, NULL, c, &cmd);
}
