/* The patent's panel buttons beyond the remote: the friend list (/friend,
 * /unfriend; with auto_admit = friends a host's friends come in unasked)
 * and the quiz (/quiz QUESTION | A1 | A2 ..., /answer N, /quiz end), as
 * PROTOCOL.md "Friends" and "Quiz" say.  A friend change and a quiz's end
 * are committed before they are answered.  Friend lists stay in the
 * database: a join asks it whether the joiner is the host's friend. */
#define LOG_MODULE "sip"
#include "sip/sipua_int.h"

#include "server/guide.h"
#include "server/quiz.h"

/* -- friends --------------------------------------------------------------- */

static void friend_stored(struct step *s, int error)
{
	struct sipua *ua = s->ua;
	char text[2 * USER_MAX + 64];

	if (error) {
		ua_step_reply(s, SIP_503_SERVICE_UNAVAILABLE,
			      "database unavailable, try again");
		return;
	}
	if (!s->value) {
		ua_step_reply(s, SIP_400_BAD_REQUEST, "no such user");
		return;
	}
	log_info("space-%" PRIu64 " %s %s %s", s->space_id, s->by,
		 s->on ? "befriends" : "unfriends", s->who);
	ua_step_reply(s, SIP_200_OK, NULL);
	snprintf(text, sizeof(text), "%s is %s your friend list", s->who,
		 s->on ? "on" : "off");
	ua_tell(s->c, text);
	(void)ua;
}

static void cmd_friend(struct sipua *ua, nua_handle_t *nh, struct call *c,
		       const char *friend, bool on)
{
	struct step *s;

	if (strlen(friend) >= USER_MAX) {
		ua_reply(ua, nh, SIP_400_BAD_REQUEST, "no such user");
		return;
	}
	s = ua_step(ua, c, nh, c->space_id, friend_stored);
	if (!s) {
		ua_reply(ua, nh, SIP_500_INTERNAL_SERVER_ERROR,
			 "out of memory");
		return;
	}
	snprintf(s->by, sizeof(s->by), "%s", c->user);
	snprintf(s->who, sizeof(s->who), "%s", friend);
	s->on = on;
	if (store_friend(ua->db, c->user, friend, on, ua_step_value, s) < 0)
		ua_step_value(s, -ENOTCONN, 0);
}

/* -- the quiz -------------------------------------------------------------- */

static void cmd_quiz(struct sipua *ua, nua_handle_t *nh, struct call *c,
		     const char *spec)
{
	struct space *sp = c->member->space;
	const struct channel *ch = space_channel(sp);
	const struct programme *prog =
	    ua->guide ? guide_now(ua->guide, ch->id, ua_wall()) : NULL;
	const char *why = NULL;
	struct quiz *q;
	char text[1024];

	if (!(space_features(sp) & SERVICE_QUIZ)) {
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
	q->asked = ua_wall();
	q->channel = su_strdup(space_home(sp), ch->id);
	q->programme =
	    prog && prog->title ? su_strdup(space_home(sp), prog->title) : NULL;
	space_set_quiz(sp, q);
	log_info("space-%" PRIu64 " quiz by %s: %s (%u answers)", c->space_id,
		 c->user, q->question, q->n_answers);
	ua_reply(ua, nh, SIP_200_OK, NULL);
	quiz_question_text(q, text, sizeof(text));
	ua_tell_all(sp, NULL, text);
}

static void quiz_stored(struct step *s, int error)
{
	struct sipua *ua = s->ua;
	struct space *sp = space_find(ua->mgr, s->space_id);
	struct quiz *q = sp ? space_quiz(sp) : NULL;
	char text[1024];

	if (error || !q) {
		/* The quiz stays: /quiz end can be tried again. */
		ua_step_reply(s, SIP_503_SERVICE_UNAVAILABLE,
			      "database unavailable, try again");
		return;
	}
	quiz_result_text(q, text, sizeof(text));
	log_info("space-%" PRIu64 " %s", s->space_id, text);
	ua_step_reply(s, SIP_200_OK, NULL);
	ua_tell_all(sp, NULL, text);
	space_set_quiz(sp, NULL);
}

static void cmd_quiz_end(struct sipua *ua, nua_handle_t *nh, struct call *c)
{
	struct space *sp = c->member->space;
	struct quiz *q = space_quiz(sp);
	struct store_quiz sq;
	struct step *s;

	if (!q) {
		ua_reply(ua, nh, SIP_403_FORBIDDEN, "no quiz is running");
		return;
	}
	s = ua_step(ua, c, nh, c->space_id, quiz_stored);
	if (!s) {
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
	if (store_quiz_add(ua->db, &sq, ua_step_stored, s) < 0)
		ua_step_stored(s, -ENOTCONN);
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
	ua_tell(c, text);
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
