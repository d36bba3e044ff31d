/* In-dialog commands: the text/plain bodies starting with '/' that members
 * type (PROTOCOL.md "Master control"), parsed into a struct.  Pure; called
 * by the SIP adapter for MESSAGE and INFO bodies. */
#ifndef TVSPACE_CMD_H
#define TVSPACE_CMD_H

#include <stdbool.h>
#include <stddef.h>

enum cmd_kind {
	CMD_NONE,     /* not a command: a comment */
	CMD_BAD,      /* starts with '/' but is not a command we know */
	CMD_ALLOW,    /* /allow N */
	CMD_DENY,     /* /deny N */
	CMD_END,      /* /end */
	CMD_SWITCH,   /* /switch CHANNEL */
	CMD_HANDOVER, /* /handover USER */
	CMD_GRAB,     /* /grab */
	CMD_KICK,     /* /kick USER */
	CMD_OPEN,     /* /open */
	CMD_CLOSE,    /* /close */
	CMD_LEAVE,    /* /leave SERVICEID */
	CMD_HELP,     /* /help */
	CMD_FRIEND,   /* /friend USER */
	CMD_UNFRIEND, /* /unfriend USER */
	CMD_QUIZ,     /* /quiz QUESTION | ANSWER1 | ANSWER2 ... */
	CMD_QUIZ_END, /* /quiz end */
	CMD_ANSWER,   /* /answer N */
	CMD_UNBAN,    /* /unban USER: a removed user may ask again */
};

#define CMD_ARG_MAX 512

struct cmd {
	enum cmd_kind kind;
	unsigned number;       /* N of /allow and /deny */
	char arg[CMD_ARG_MAX]; /* CHANNEL, USER, SERVICEID or the quiz */
	const char *error;     /* CMD_BAD: why, for the Warning */
};

/** Parse @a len bytes of @a text.  Leading and trailing white space is
 * ignored; a body not starting with '/' is CMD_NONE.  Never fails: bad
 * commands come back as CMD_BAD with @a ret->error set. */
void cmd_parse(const char *text, size_t len, struct cmd *ret);

/** DTMF keys a member pressed, kept until they make a command. */
struct cmd_dtmf {
	char digits[8];
	unsigned n;
};

/** Read the key of an INFO application/dtmf-relay body ("Signal=5",
 * "Signal=#", "Signal=11"); 0, or -EBADMSG. */
int cmd_dtmf_relay(const char *body, size_t len, char *ret_key);

/** Feed @a key to @a buf.  Digits then '#' make "/switch DIGITS"; '*'
 * makes "/grab" (PROTOCOL.md "Master control").  True when @a ret holds a
 * command; other keys are kept (digits) or dropped (A-D, '#' alone). */
bool cmd_dtmf_feed(struct cmd_dtmf *buf, char key, struct cmd *ret);

/** The list of commands, for the 400 that answers an unknown one. */
const char *cmd_list(void);

#endif
