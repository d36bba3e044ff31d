/* The quiz: what a host may ask, how members' answers count, and the texts
 * everyone reads. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/quiz.h"

#include "check_run.h"

static su_home_t home[1];

static void setup(void)
{
	su_home_init(home);
}

static void teardown(void)
{
	su_home_deinit(home);
}

START_TEST(question_and_answers)
{
	const char *why = NULL;
	struct quiz *q =
	    quiz_parse(home, " Who scores first?|Home |  Away", &why);
	char text[256];

	ck_assert_ptr_nonnull(q);
	ck_assert_str_eq(q->question, "Who scores first?");
	ck_assert_uint_eq(q->n_answers, 2);
	ck_assert_str_eq(q->answers[0], "Home");
	ck_assert_str_eq(q->answers[1], "Away");
	quiz_question_text(q, text, sizeof(text));
	ck_assert_str_eq(text, "quiz: Who scores first? 1) Home 2) Away - "
			       "reply /answer N");
	quiz_free(home, q);
}
END_TEST

START_TEST(what_is_not_a_quiz)
{
	const char *why = NULL;

	ck_assert_ptr_null(quiz_parse(home, "Only a question", &why));
	ck_assert_ptr_nonnull(strstr(why, "2 to 9 answers"));
	ck_assert_ptr_null(quiz_parse(home, "Q | one", &why));
	ck_assert_ptr_null(quiz_parse(home, " | a | b", &why));
	ck_assert_str_eq(why, "the question is empty");
	ck_assert_ptr_null(quiz_parse(home, "Q | a |  | b", &why));
	ck_assert_str_eq(why, "an answer is empty");
	ck_assert_ptr_null(quiz_parse(home, "Q|1|2|3|4|5|6|7|8|9|10", &why));
	ck_assert_str_eq(why, "more than 9 answers");
	ck_assert_ptr_nonnull(quiz_parse(home, "Q|1|2|3|4|5|6|7|8|9", &why));
}
END_TEST

START_TEST(one_answer_each_the_last_counts)
{
	const char *why = NULL;
	struct quiz *q = quiz_parse(home, "Q | a | b | c", &why);
	char text[256];

	ck_assert_int_eq(quiz_answer(home, q, "bob", 4), -ERANGE);
	ck_assert_int_eq(quiz_answer(home, q, "bob", 0), -ERANGE);
	ck_assert_int_eq(quiz_answer(home, q, "bob", 1), 0);
	ck_assert_int_eq(quiz_answer(home, q, "carol", 1), 0);
	ck_assert_int_eq(quiz_answer(home, q, "bob", 3), 0); /* changes */
	ck_assert_uint_eq(q->tally[0], 1);
	ck_assert_uint_eq(q->tally[1], 0);
	ck_assert_uint_eq(q->tally[2], 1);
	ck_assert_uint_eq(q->n_voters, 2);
	quiz_result_text(q, text, sizeof(text));
	ck_assert_str_eq(text,
			 "quiz result: Q 1) a: 1 2) b: 0 3) c: 1 (2 answers)");
	quiz_free(home, q);
}
END_TEST

START_TEST(texts_fit_their_buffer)
{
	const char *why = NULL;
	struct quiz *q = quiz_parse(home, "A long question | one | two", &why);
	char small[16];

	quiz_question_text(q, small, sizeof(small));
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	quiz_result_text(q, small, sizeof(small));
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("quiz");
	TCase *tc = tcase_create("quiz");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, question_and_answers);
	tcase_add_test(tc, what_is_not_a_quiz);
	tcase_add_test(tc, one_answer_each_the_last_counts);
	tcase_add_test(tc, texts_fit_their_buffer);
	suite_add_tcase(s, tc);
	return check_run(s);
}
