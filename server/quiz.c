/* The quiz: see quiz.h. */
#include "server/quiz.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sofia-sip/su_string.h>

/* A copy of [s, e) without the white space around it. */
static char *trimmed(su_home_t *home, const char *s, const char *e)
{
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return e > s ? su_strndup(home, s, (isize_t)(e - s)) : NULL;
}

struct quiz *quiz_parse(su_home_t *home, const char *spec, const char **why)
{
	struct quiz *q = su_zalloc(home, sizeof(*q));
	const char *s = spec, *bar;
	unsigned part = 0;

	if (!q) {
		*why = "out of memory";
		return NULL;
	}
	for (;; s = bar + 1, part++) {
		char *text;

		bar = strchr(s, '|');
		text = trimmed(home, s, bar ? bar : s + strlen(s));
		if (!text) {
			*why = part ? "an answer is empty"
				    : "the question is empty";
			goto fail;
		}
		if (part == 0) {
			q->question = text;
		}
		else if (part > QUIZ_MAX_ANSWERS) {
			su_free(home, text);
			*why = "more than 9 answers";
			goto fail;
		}
		else {
			q->answers[q->n_answers++] = text;
		}
		if (!bar)
			break;
	}
	if (q->n_answers < 2) {
		*why = "give a question and 2 to 9 answers: "
		       "/quiz QUESTION | ANSWER1 | ANSWER2";
		goto fail;
	}
	return q;
fail:
	quiz_free(home, q);
	return NULL;
}

int quiz_answer(su_home_t *home, struct quiz *q, const char *user, unsigned n)
{
	if (n < 1 || n > q->n_answers)
		return -ERANGE;
	for (unsigned i = 0; i < q->n_voters; i++)
		if (su_strmatch(q->voters[i], user)) {
			q->tally[q->vote[i]]--;
			q->vote[i] = n - 1;
			q->tally[n - 1]++;
			return 0;
		}
	if (q->n_voters >= QUIZ_MAX_VOTERS)
		return -ENOSPC;
	if (!q->voters) {
		q->voters = su_zalloc(home, QUIZ_MAX_VOTERS * sizeof(char *));
		q->vote = su_zalloc(home, QUIZ_MAX_VOTERS * sizeof(unsigned));
		if (!q->voters || !q->vote)
			return -ENOMEM;
	}
	q->voters[q->n_voters] = su_strdup(home, user);
	if (!q->voters[q->n_voters])
		return -ENOMEM;
	q->vote[q->n_voters++] = n - 1;
	q->tally[n - 1]++;
	return 0;
}

void quiz_free(su_home_t *home, struct quiz *q)
{
	if (!q)
		return;
	su_free(home, q->question);
	for (unsigned i = 0; i < q->n_answers; i++)
		su_free(home, q->answers[i]);
	for (unsigned i = 0; i < q->n_voters; i++)
		su_free(home, q->voters[i]);
	su_free(home, q->voters);
	su_free(home, q->vote);
	su_free(home, q->channel);
	su_free(home, q->programme);
	su_free(home, q);
}

void quiz_question_text(const struct quiz *q, char *buf, size_t len)
{
	size_t off = (size_t)snprintf(buf, len, "quiz: %s", q->question);

	for (unsigned i = 0; i < q->n_answers && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, " %u) %s", i + 1,
					q->answers[i]);
	if (off < len)
		snprintf(buf + off, len - off, " - reply /answer N");
}

void quiz_result_text(const struct quiz *q, char *buf, size_t len)
{
	size_t off = (size_t)snprintf(buf, len, "quiz result: %s", q->question);

	for (unsigned i = 0; i < q->n_answers && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, " %u) %s: %u",
					i + 1, q->answers[i], q->tally[i]);
	if (off < len)
		snprintf(buf + off, len - off, " (%u answer%s)", q->n_voters,
			 q->n_voters == 1 ? "" : "s");
}
