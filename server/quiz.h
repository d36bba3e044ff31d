/* The quiz (the patent's quiz button, PROTOCOL.md "Quiz"): the host asks a
 * question with numbered answers, members answer once each (a second answer
 * replaces the first), and the tally goes to everyone at the end.  Pure:
 * parsing, voting and the texts members read. */
#ifndef TVSPACE_QUIZ_H
#define TVSPACE_QUIZ_H

#include <stdbool.h>
#include <stddef.h>
#include <sofia-sip/su_alloc.h>

#define QUIZ_MAX_ANSWERS 9
#define QUIZ_MAX_VOTERS  1024

struct quiz {
	char *question;
	char *answers[QUIZ_MAX_ANSWERS];
	unsigned n_answers;
	unsigned tally[QUIZ_MAX_ANSWERS];
	long long asked; /* unix seconds; set by the caller */
	char *channel;   /* the space's channel then, and the programme */
	char *programme; /* on it (the guide's title), or NULL */
	char **voters;   /* who answered ... */
	unsigned *vote;  /* ... and what (index) */
	unsigned n_voters;
};

/** Parse "QUESTION | ANSWER1 | ANSWER2 ..." (2 to 9 answers, none empty)
 * into a quiz allocated from @a home.  NULL with the reason in @a why. */
struct quiz *quiz_parse(su_home_t *home, const char *spec, const char **why);
/** @a user answers @a n (1-based).  -ERANGE for no such answer, -ENOSPC
 * when too many have answered. */
int quiz_answer(su_home_t *home, struct quiz *q, const char *user, unsigned n);
/** Free @a q (allocated from @a home); NULL is fine. */
void quiz_free(su_home_t *home, struct quiz *q);

/** The question as members get it:
 * "quiz: Who scores first? 1) Home 2) Away - reply /answer N". */
void quiz_question_text(const struct quiz *q, char *buf, size_t len);
/** The tally: "quiz result: Who scores first? 1) Home: 2 2) Away: 1
 * (3 answers)". */
void quiz_result_text(const struct quiz *q, char *buf, size_t len);

#endif
