/* Comments (claim 4): stored, then relayed to every other member as
 * text/plain "AUTHOR: TEXT" or message/cpim; the last ones for a member
 * who just joined.  Part of the SIP adapter; one su_root thread. */
#define LOG_MODULE "sip"
#include "sip/sipua_int.h"

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
			    SIPTAG_WARNING_STR(ua_warning(
				home, ua, "database unavailable, try again")),
			    TAG_END());
	}
	else {
		nua_respond(cm->nh, SIP_200_OK, NUTAG_WITH_SAVED(cm->saved),
			    TAG_END());
		tv_stats.comments++;
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

	su_home_unref(c->home); /* held by ua_send_history() */
}

void ua_send_history(struct call *c)
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
void ua_on_comment(struct sipua *ua, nua_handle_t *nh,
		   const struct space_member *m, const sip_payload_t *pl,
		   bool own_handle)
{
	struct comment *cm;
	int err;

	if (pl->pl_len > ua->cfg->max_body) {
		su_home_t home[1] = {SU_HOME_INIT(home)};

		ua_refuse(ua, nh, SIP_413_REQUEST_TOO_LARGE,
			  su_sprintf(home, "a comment holds at most %u bytes",
				     ua->cfg->max_body),
			  TAG_END());
		su_home_deinit(home);
		return;
	}
	if (!valid_utf8((const unsigned char *)pl->pl_data, pl->pl_len)) {
		ua_reply(ua, nh, SIP_400_BAD_REQUEST, "comments must be UTF-8");
		return;
	}
	cm = su_zalloc(ua->home, sizeof(*cm));
	if (!cm || ua_save_event(ua, cm->saved) < 1) {
		su_free(ua->home, cm);
		ua_reply(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
			 "out of memory");
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
			ua_on_comment(ua, nh, m, pl, true);
			return;
		}
		ua_reply(ua, nh, SIP_403_FORBIDDEN,
			 "send commands in your dialog with the space");
	}
	nua_handle_destroy(nh);
}
