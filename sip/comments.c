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

	if (call_gone(to) || !to->answered)
		goto out;
	if (!to->dlg.cpim) {
		nua_message(to->dlg.nh,
			    SIPTAG_CONTENT_TYPE_STR("text/plain;charset=UTF-8"),
			    SIPTAG_PAYLOAD_STR(
				su_sprintf(home, "%s: %s", author, text)),
			    TAG_END());
		goto out;
	}
	gmtime_r(&t, &tm);
	if (!strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm))
		stamp[0] = '\0'; /* else undefined: no room */
	nua_message(to->dlg.nh, SIPTAG_CONTENT_TYPE_STR("message/cpim"),
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

/* Stored: 200 to the sender, the comment to everyone else. */
static void comment_stored(struct step *s, int error)
{
	struct sipua *ua = s->ua;
	struct space *sp = space_find(ua->mgr, s->space_id);

	if (error) {
		ua_step_reply(s, SIP_503_SERVICE_UNAVAILABLE,
			      "database unavailable, try again");
	}
	else {
		ua_step_reply(s, SIP_200_OK, NULL);
		tv_stats.comments++;
		for (struct space_member *m = sp ? space_members(sp) : NULL; m;
		     m = m->next) {
			struct call *to = m->handle;

			/* A joiner whose history was read after this was
			 * queued has it there: it would come twice. */
			if (m->role != SPACE_PENDING && to &&
			    !su_strmatch(m->user, s->by) &&
			    (!to->history_to ||
			     (int)(to->history_to - s->comment_no) < 0))
				relay_comment(to, s->space_id, s->by, s->text);
		}
	}
	/* Out of a dialog the handle was ours: it ends with its answer. */
	if (s->on && s->nh)
		nua_handle_destroy(s->nh);
}

/* A new member is sent the last comments of the space (comment_history),
 * oldest first, so it can follow the conversation. */
static void history_item(void *arg, const char *author, int64_t at,
			 const char *text)
{
	struct step *s = arg;

	if (s->c->member && author && text)
		relay_comment(s->c, s->space_id, author, text);
}

static void history_done(struct step *s, int error)
{
	if (error)
		log_debug("space-%" PRIu64 " %s: no comment history (%s)",
			  s->space_id, s->c->user, strerror(-error));
}

void ua_send_history(struct call *c)
{
	struct sipua *ua = c->ua;
	struct space *sp = space_find(ua->mgr, c->space_id);
	struct step *s;

	/* A space opened here that nobody has commented on has no history
	 * to read. */
	if (!ua->cfg->comment_history || !sp || !space_has_comments(sp))
		return;
	s = ua_step(ua, c, NULL, c->space_id, history_done);
	if (!s)
		return;
	if (store_comments_recent(ua->db, c->space_id, ua->cfg->comment_history,
				  history_item, ua_step_stored, s) < 0) {
		ua_step_free(s);
		return;
	}
	/* The comments queued before this read are in what it returns (a
	 * comment's INSERT is a plain statement: no read moves past it, nor
	 * shares the result of one before it): those come to it there. */
	c->history_to = ua->comments_queued;
}

/* A member's comment: stored with author and time, then 200 to the sender
 * and a MESSAGE from the space to every other member. */
void ua_comment(struct sipua *ua, nua_handle_t *nh,
		const struct space_member *m, const sip_payload_t *pl,
		bool own_handle)
{
	struct step *s;
	int err;

	if (pl->pl_len > ua->cfg->max_body) {
		su_home_t home[1] = {SU_HOME_INIT(home)};

		ua_refuse(ua, nh, SIP_413_REQUEST_TOO_LARGE,
			  su_sprintf(home, "a comment holds at most %u bytes",
				     ua->cfg->max_body),
			  TAG_END());
		su_home_deinit(home);
		goto refused;
	}
	if (!valid_utf8((const unsigned char *)pl->pl_data, pl->pl_len)) {
		ua_reply(ua, nh, SIP_400_BAD_REQUEST, "comments must be UTF-8");
		goto refused;
	}
	/* Before it is stored: a joiner meanwhile reads the history. */
	space_note_comment(m->space);
	s = ua_step(ua, NULL, nh, space_id(m->space), comment_stored);
	if (!s) {
		ua_reply(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
			 "out of memory");
		goto refused;
	}
	s->on = own_handle;
	if (!++ua->comments_queued)
		ua->comments_queued++; /* 0 is none (history_to) */
	s->comment_no = ua->comments_queued;
	snprintf(s->by, sizeof(s->by), "%s", m->user);
	s->text = su_strndup(s->home, pl->pl_data, (isize_t)pl->pl_len);
	err = s->text ? store_comment_add(ua->db, s->space_id, s->by, s->text,
					  ua_step_stored, s)
		      : -ENOMEM;
	if (err < 0)
		ua_step_stored(s, err);
	return;
refused:
	if (own_handle)
		nua_handle_destroy(nh);
}
