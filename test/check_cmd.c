/* The command parser: what members type after '/'. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/cmd.h"

#include "check_run.h"

static struct cmd parse(const char *text)
{
	struct cmd c;

	cmd_parse(text, strlen(text), &c);
	return c;
}

START_TEST(comments_are_not_commands)
{
	ck_assert_int_eq(parse("hello all").kind, CMD_NONE);
	ck_assert_int_eq(parse("  what a goal /switch 2").kind, CMD_NONE);
	ck_assert_int_eq(parse("").kind, CMD_NONE);
	ck_assert_int_eq(parse(" \r\n").kind, CMD_NONE);
}
END_TEST

START_TEST(allow_and_deny_take_a_number)
{
	struct cmd c = parse("/allow 12\r\n");

	ck_assert_int_eq(c.kind, CMD_ALLOW);
	ck_assert_uint_eq(c.number, 12);
	c = parse("  /DENY\t3 ");
	ck_assert_int_eq(c.kind, CMD_DENY);
	ck_assert_uint_eq(c.number, 3);
	ck_assert_int_eq(parse("/allow").kind, CMD_BAD);
	ck_assert_int_eq(parse("/allow x1").kind, CMD_BAD);
	ck_assert_int_eq(parse("/allow 1 2").kind, CMD_BAD);
	ck_assert_int_eq(parse("/allow 99999999999999999999").kind, CMD_BAD);
}
END_TEST

START_TEST(word_arguments)
{
	struct cmd c = parse("/switch sports");

	ck_assert_int_eq(c.kind, CMD_SWITCH);
	ck_assert_str_eq(c.arg, "sports");
	c = parse("/handover bob");
	ck_assert_int_eq(c.kind, CMD_HANDOVER);
	ck_assert_str_eq(c.arg, "bob");
	c = parse("/leave svc-bob");
	ck_assert_int_eq(c.kind, CMD_LEAVE);
	ck_assert_str_eq(c.arg, "svc-bob");
	ck_assert_int_eq(parse("/kick").kind, CMD_BAD);
}
END_TEST

START_TEST(bare_commands_take_nothing)
{
	ck_assert_int_eq(parse("/end").kind, CMD_END);
	ck_assert_int_eq(parse("/grab").kind, CMD_GRAB);
	ck_assert_int_eq(parse("/open").kind, CMD_OPEN);
	ck_assert_int_eq(parse("/close").kind, CMD_CLOSE);
	ck_assert_int_eq(parse("/help").kind, CMD_HELP);
	ck_assert_int_eq(parse("/end now").kind, CMD_BAD);
}
END_TEST

START_TEST(unknown_and_hostile_commands)
{
	struct cmd c = parse("/format c:");
	char big[600];
	char nul[] = "/switch a\0b";

	ck_assert_int_eq(c.kind, CMD_BAD);
	ck_assert_str_eq(c.error, "unknown command");
	ck_assert_int_eq(parse("/").kind, CMD_BAD);
	memset(big, 'x', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(parse(big).kind, CMD_BAD);
	memcpy(big, "/kick ", 6);
	ck_assert_int_eq(parse(big).kind, CMD_BAD);
	cmd_parse(nul, sizeof(nul) - 1, &c);
	ck_assert_int_eq(c.kind, CMD_BAD);
	ck_assert_ptr_nonnull(strstr(cmd_list(), "/allow N"));
}
END_TEST

START_TEST(dtmf_keys_make_commands)
{
	struct cmd_dtmf buf = {0};
	struct cmd c;
	char key = 0;

	ck_assert_int_eq(
	    cmd_dtmf_relay("Signal=4\r\nDuration=160\r\n", 27, &key), 0);
	ck_assert_int_eq(key, '4');
	ck_assert_int_eq(cmd_dtmf_relay("signal= 11\r\n", 13, &key), 0);
	ck_assert_int_eq(key, '#');
	ck_assert_int_eq(cmd_dtmf_relay("Signal=*", 8, &key), 0);
	ck_assert_int_eq(key, '*');
	ck_assert_int_eq(cmd_dtmf_relay("Duration=160", 12, &key), -EBADMSG);
	ck_assert_int_eq(cmd_dtmf_relay("Signal=99", 9, &key), -EBADMSG);

	ck_assert(!cmd_dtmf_feed(&buf, '#', &c)); /* nothing typed yet */
	ck_assert(!cmd_dtmf_feed(&buf, '1', &c));
	ck_assert(!cmd_dtmf_feed(&buf, '2', &c));
	ck_assert(!cmd_dtmf_feed(&buf, 'A', &c));
	ck_assert(cmd_dtmf_feed(&buf, '#', &c));
	ck_assert_int_eq(c.kind, CMD_SWITCH);
	ck_assert_str_eq(c.arg, "12");
	ck_assert(!cmd_dtmf_feed(&buf, '3', &c));
	ck_assert(cmd_dtmf_feed(&buf, '*', &c));
	ck_assert_int_eq(c.kind, CMD_GRAB);
	ck_assert(!cmd_dtmf_feed(&buf, '#', &c)); /* '*' cleared the 3 */
}
END_TEST

START_TEST(friends_quiz_and_answers)
{
	struct cmd c = parse("/friend carol");

	ck_assert_int_eq(c.kind, CMD_FRIEND);
	ck_assert_str_eq(c.arg, "carol");
	ck_assert_int_eq(parse("/unfriend carol").kind, CMD_UNFRIEND);
	ck_assert_int_eq(parse("/friend carol dave").kind, CMD_BAD);
	/* The quiz takes the rest of the line, words, '|' and all. */
	c = parse("/quiz  Who scores first? | Home | Away \r\n");
	ck_assert_int_eq(c.kind, CMD_QUIZ);
	ck_assert_str_eq(c.arg, "Who scores first? | Home | Away");
	ck_assert_int_eq(parse("/quiz END").kind, CMD_QUIZ_END);
	ck_assert_int_eq(parse("/quiz").kind, CMD_BAD);
	ck_assert_int_eq(parse("/quiz a\x01b | c | d").kind, CMD_BAD);
	c = parse("/answer 2");
	ck_assert_int_eq(c.kind, CMD_ANSWER);
	ck_assert_uint_eq(c.number, 2);
	ck_assert_int_eq(parse("/answer two").kind, CMD_BAD);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cmd");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, comments_are_not_commands);
	tcase_add_test(tc, friends_quiz_and_answers);
	tcase_add_test(tc, allow_and_deny_take_a_number);
	tcase_add_test(tc, word_arguments);
	tcase_add_test(tc, bare_commands_take_nothing);
	tcase_add_test(tc, unknown_and_hostile_commands);
	tcase_add_test(tc, dtmf_keys_make_commands);
	suite_add_tcase(s, tc);
	return check_run(s);
}
