/* Command parser for the bodies members type: "/switch 2", "/allow 3". */
#include "server/cmd.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

struct cmd_name {
	const char *name;
	enum cmd_kind kind;
	/* ARG_REST: the rest of the line, words and all (the quiz) */
	enum { ARG_NONE, ARG_NUMBER, ARG_WORD, ARG_REST } arg;
};

static const struct cmd_name names[] = {
    {"allow", CMD_ALLOW, ARG_NUMBER},     {"deny", CMD_DENY, ARG_NUMBER},
    {"end", CMD_END, ARG_NONE},           {"switch", CMD_SWITCH, ARG_WORD},
    {"handover", CMD_HANDOVER, ARG_WORD}, {"grab", CMD_GRAB, ARG_NONE},
    {"kick", CMD_KICK, ARG_WORD},         {"open", CMD_OPEN, ARG_NONE},
    {"close", CMD_CLOSE, ARG_NONE},       {"leave", CMD_LEAVE, ARG_WORD},
    {"help", CMD_HELP, ARG_NONE},         {"friend", CMD_FRIEND, ARG_WORD},
    {"unfriend", CMD_UNFRIEND, ARG_WORD}, {"quiz", CMD_QUIZ, ARG_REST},
    {"answer", CMD_ANSWER, ARG_NUMBER},   {"unban", CMD_UNBAN, ARG_WORD},
};

const char *cmd_list(void)
{
	return "/allow N, /deny N, /switch CHANNEL, /handover USER, /grab, "
	       "/kick USER, /unban USER, /open, /close, /leave SERVICE, /end, "
	       "/friend USER, "
	       "/unfriend USER, /quiz QUESTION | ANSWER1 | ANSWER2, /quiz end, "
	       "/answer N, /help";
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void bad(struct cmd *ret, const char *why)
{
	ret->kind = CMD_BAD;
	ret->error = why;
}

/* The argument [w, w + n) into ret->arg: not too long, no control
 * characters (tabs only inside a line of words).  False with CMD_BAD. */
static bool copy_arg(struct cmd *ret, const char *w, size_t n, bool tabs)
{
	if (n >= CMD_ARG_MAX) {
		bad(ret, "the argument is too long");
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)w[i] < 0x20 && !(tabs && w[i] == '\t')) ||
		    w[i] == 0x7f) {
			bad(ret, "control characters in the argument");
			return false;
		}
	memcpy(ret->arg, w, n);
	ret->arg[n] = '\0';
	return true;
}

void cmd_parse(const char *text, size_t len, struct cmd *ret)
{
	const char *p = text, *end = text + len, *w;
	const struct cmd_name *cn = NULL;
	size_t n;

	memset(ret, 0, sizeof(*ret));
	while (p < end && is_space(*p))
		p++;
	while (end > p && is_space(end[-1]))
		end--;
	if (p == end || *p != '/') {
		ret->kind = CMD_NONE;
		return;
	}
	p++;
	for (w = p; p < end && !is_space(*p); p++)
		;
	n = (size_t)(p - w);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == n &&
		    strncasecmp(names[i].name, w, n) == 0)
			cn = &names[i];
	if (!cn) {
		bad(ret, "unknown command");
		return;
	}
	while (p < end && is_space(*p))
		p++;
	if (cn->arg == ARG_REST) {
		n = (size_t)(end - p);
		if (!n) {
			bad(ret, "the question and its answers are missing");
			return;
		}
		if (!copy_arg(ret, p, n, true))
			return;
		ret->kind =
		    strcasecmp(ret->arg, "end") == 0 ? CMD_QUIZ_END : cn->kind;
		return;
	}
	/* The argument is one word: no user id, channel or service id
	 * has white space, and a second word is a typing mistake. */
	for (w = p; p < end && !is_space(*p); p++)
		;
	n = (size_t)(p - w);
	if (p != end) {
		bad(ret, "too many arguments");
		return;
	}
	switch (cn->arg) {
	case ARG_NONE:
		if (n) {
			bad(ret, "this command takes no argument");
			return;
		}
		break;
	case ARG_NUMBER: {
		unsigned long v = 0;

		if (!n) {
			bad(ret, "a request number is missing");
			return;
		}
		for (size_t i = 0; i < n; i++) {
			if (!isdigit((unsigned char)w[i]) || v > 99999999UL) {
				bad(ret, "the request number is not a number");
				return;
			}
			v = v * 10 + (unsigned long)(w[i] - '0');
		}
		ret->number = (unsigned)v;
		break;
	}
	case ARG_REST: /* handled above */
	case ARG_WORD:
		if (!n) {
			bad(ret, "an argument is missing");
			return;
		}
		if (!copy_arg(ret, w, n, false))
			return;
		break;
	}
	ret->kind = cn->kind;
}

int cmd_dtmf_relay(const char *body, size_t len, char *ret_key)
{
	static const char keys[] = "0123456789*#ABCD";
	const char *p = body, *end = body + len;

	/* Lines of "Name=value"; only Signal matters here. */
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;

		while (p < le && is_space(*p))
			p++;
		if ((size_t)(le - p) > 7 && strncasecmp(p, "Signal", 6) == 0) {
			const char *v = p + 6;
			unsigned n = 0;

			while (v < le && (*v == ' ' || *v == '='))
				v++;
			if (v < le && isdigit((unsigned char)*v)) {
				while (v < le && isdigit((unsigned char)*v) &&
				       n < 100)
					n = n * 10 + (unsigned)(*v++ - '0');
				if (n > 15)
					return -EBADMSG;
				*ret_key = keys[n];
				return 0;
			}
			if (v < le && strchr("*#ABCDabcd", *v) && *v) {
				*ret_key = (char)toupper((unsigned char)*v);
				return 0;
			}
			return -EBADMSG;
		}
		p = eol ? eol + 1 : end;
	}
	return -EBADMSG;
}

bool cmd_dtmf_feed(struct cmd_dtmf *buf, char key, struct cmd *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (key == '*') {
		buf->n = 0;
		ret->kind = CMD_GRAB;
		return true;
	}
	if (key == '#') {
		if (!buf->n)
			return false;
		memcpy(ret->arg, buf->digits, buf->n);
		ret->arg[buf->n] = '\0';
		buf->n = 0;
		ret->kind = CMD_SWITCH;
		return true;
	}
	if (key >= '0' && key <= '9') {
		/* A channel number longer than the buffer is a mistake: start
		 * over from this key. */
		if (buf->n == sizeof(buf->digits) - 1)
			buf->n = 0;
		buf->digits[buf->n++] = key;
	}
	return false;
}
