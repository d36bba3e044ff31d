/* The patent's panel buttons beyond the remote: the friend list (/friend,
 * /unfriend; with auto_admit = friends a host's friends come in unasked)
 * and the quiz (/quiz QUESTION | A1 | A2 ..., /answer N, /quiz end), as
 * PROTOCOL.md "Friends" and "Quiz" say.  A friend change and a quiz's end
 * are committed before they are answered. */
#define LOG_MODULE "sip"
#include "sip/sipua_int.h"

#include "server/guide.h"
#include "server/quiz.h"

/* -- friends --------------------------------------------------------------- */

struct friending {
	struct deferred *d;
	char friend[USER_MAX];
	bool on;
};

static void friend_stored(void *arg, int error, uint64_t done)
{
	struct friending *f = arg;
	struct deferred *d = f->d;
	struct sipua *ua = d->ua;
	struct space *sp = space_find(ua->mgr, d->space_id);
	struct space_member *m = sp ? space_member_by_user(sp, d->by) : NULL;
	char text[2 * USER_MAX + 64];

	if (error) {
		ua_deferred_reply(d, SIP_503_SERVICE_UNAVAILABLE,
				  "database unavailable, try again");
	}
	else if (!done) {
		ua_deferred_reply(d, SIP_400_BAD_REQUEST, "no such user");
	}
	else {
		space_mgr_friend(ua->mgr, d->by, f->friend, f->on);
		log_info("space-%" PRIu64 " %s %s %s", d->space_id, d->by,
			 f->on ? "befriends" : "unfriends", f->friend);
		ua_deferred_reply(d, SIP_200_OK, NULL);
		snprintf(text, sizeof(text), "%s is %s your friend list",
			 f->friend, f->on ? "on" : "off");
		if (m)
			ua_call_tell(m->handle, text);
	}
	su_free(ua->home, f);
}

static void cmd_friend(struct sipua *ua, nua_handle_t *nh, struct call *c,
		       const char *friend, bool on)
{
	struct friending *f;

	if (strlen(friend) >= sizeof(f->friend)) {
		ua_reply(ua, nh, SIP_400_BAD_REQUEST, "no such user");
		return;
	}
	f = su_zalloc(ua->home, sizeof(*f));
	if (!f || !(f->d = ua_defer(ua, nh, c->space_id, c->user))) {
		su_free(ua->home, f);
		ua_reply(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
			 "out of memory");
		return;
	}
	snprintf(f->friend, sizeof(f->friend), "%s", friend);
	f->on = on;
	if (store_friend(ua->db, c->user, friend, on, friend_stored, f) < 0)
		friend_stored(f, -ENOTCONN, 0);
}

/* -- the quiz -------------------------------------------------------------- */

static void cmd_quiz(struct sipua *ua, nua_handle_t *nh, struct call *c,
		     const char *spec)
{
	struct space *sp = c->member->space;
	const struct service *svc = space_service(sp);
	const struct channel *ch = space_channel(sp);
	const struct programme *prog =
	    ch && ua->guide ? guide_now(ua->guide, ch->id, ua_now_s()) : NULL;
	const char *why = NULL;
	struct quiz *q;
	char text[1024];

	if (!svc || !(svc->features & SERVICE_QUIZ)) {
		ua_reply(ua, nh, SIP_403_FORBIDDEN,
			 "quizzes are not in this service's level");
		return;
	}
	if (space_quiz(sp)) {
		ua_reply(ua, nh, SIP_403_FORBIDDEN,
			 "a quiz is running; /quiz end first");
		return;
	}
	q = quiz_parse(space_home(sp), spec, &why);
	if (!q) {
		ua_reply(ua, nh, SIP_400_BAD_REQUEST, why);
		return;
	}
	q->asked = ua_now_s();
	q->channel = ch ? su_strdup(space_home(sp), ch->id) : NULL;
	q->programme =
	    prog && prog->title ? su_strdup(space_home(sp), prog->title) : NULL;
	space_set_quiz(sp, q);
	log_info("space-%" PRIu64 " quiz by %s: %s (%u answers)", c->space_id,
		 c->user, q->question, q->n_answers);
	ua_reply(ua, nh, SIP_200_OK, NULL);
	quiz_question_text(q, text, sizeof(text));
	ua_tell_all(sp, NULL, text);
}

static void quiz_stored(void *arg, int error)
{
	struct deferred *d = arg;
	struct sipua *ua = d->ua;
	struct space *sp = space_find(ua->mgr, d->space_id);
	struct quiz *q = sp ? space_quiz(sp) : NULL;
	char text[1024];

	if (error || !q) {
		/* The quiz stays: /quiz end can be tried again. */
		ua_deferred_reply(d, SIP_503_SERVICE_UNAVAILABLE,
				  "database unavailable, try again");
		return;
	}
	quiz_result_text(q, text, sizeof(text));
	log_info("space-%" PRIu64 " %s", d->space_id, text);
	ua_deferred_reply(d, SIP_200_OK, NULL);
	ua_tell_all(sp, NULL, text);
	space_set_quiz(sp, NULL);
}

static void cmd_quiz_end(struct sipua *ua, nua_handle_t *nh, struct call *c)
{
	struct space *sp = c->member->space;
	struct quiz *q = space_quiz(sp);
	struct store_quiz sq;
	struct deferred *d;

	if (!q) {
		ua_reply(ua, nh, SIP_403_FORBIDDEN, "no quiz is running");
		return;
	}
	d = ua_defer(ua, nh, c->space_id, c->user);
	if (!d) {
		ua_reply(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
			 "out of memory");
		return;
	}
	sq = (struct store_quiz){
	    .space_id = c->space_id,
	    .asked_by = c->user,
	    .channel = q->channel,
	    .programme = q->programme,
	    .question = q->question,
	    .answers = (const char *const *)q->answers,
	    .tally = q->tally,
	    .n_answers = q->n_answers,
	    .asked = q->asked,
	};
	if (store_quiz_add(ua->db, &sq, quiz_stored, d) < 0)
		quiz_stored(d, -ENOTCONN);
}

static void cmd_answer(struct sipua *ua, nua_handle_t *nh, struct call *c,
		       unsigned n)
{
	struct space *sp = c->member->space;
	struct quiz *q = space_quiz(sp);
	char text[512];
	int rc;

	if (!q) {
		ua_reply(ua, nh, SIP_403_FORBIDDEN, "no quiz is running");
		return;
	}
	rc = quiz_answer(space_home(sp), q, c->user, n);
	if (rc == -ERANGE) {
		ua_reply(ua, nh, SIP_400_BAD_REQUEST, "no such answer");
		return;
	}
	if (rc < 0) {
		ua_reply(ua, nh, SIP_403_FORBIDDEN, "no more answers taken");
		return;
	}
	ua_reply(ua, nh, SIP_200_OK, NULL);
	snprintf(text, sizeof(text), "your answer: %u) %s", n,
		 q->answers[n - 1]);
	ua_call_tell(c, text);
}

bool ua_on_social(struct sipua *ua, nua_handle_t *nh, struct call *c,
		  const struct cmd *cmd)
{
	bool host = c->member->role == SPACE_HOST;

	switch (cmd->kind) {
	case CMD_FRIEND:
	case CMD_UNFRIEND:
		cmd_friend(ua, nh, c, cmd->arg, cmd->kind == CMD_FRIEND);
		return true;
	case CMD_QUIZ:
	case CMD_QUIZ_END:
		if (!host)
			ua_reply(ua, nh, SIP_403_FORBIDDEN,
				 "only the host can run a quiz");
		else if (cmd->kind == CMD_QUIZ)
			cmd_quiz(ua, nh, c, cmd->arg);
		else
			cmd_quiz_end(ua, nh, c);
		return true;
	case CMD_ANSWER:
		cmd_answer(ua, nh, c, cmd->number);
		return true;
	default:
		return false;
	}
}
