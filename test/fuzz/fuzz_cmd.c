/* Fuzz target: the bodies members send in a dialog, as sip/control.c and
 * sip/comments.c read them: a text/plain MESSAGE or INFO through
 * cmd_parse(), an application/dtmf-relay INFO through cmd_dtmf_relay() and
 * the key it gives into cmd_dtmf_feed().  Checks what the SIP adapter
 * relies on: an argument always ends within the buffer, a word argument has
 * no control character, a refusal always has a reason for the Warning. */
#include <string.h>

#include "server/cmd.h"
#include "test/fuzz/fuzz.h"

static void check_cmd(const struct cmd *c)
{
	size_t n = strnlen(c->arg, sizeof(c->arg));

	FUZZ_CHECK(n < sizeof(c->arg));
	if (c->kind == CMD_BAD)
		FUZZ_CHECK(c->error && *c->error);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(
		    ((unsigned char)c->arg[i] >= 0x20 && c->arg[i] != 0x7f) ||
		    (c->arg[i] == '\t' && c->kind == CMD_QUIZ));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	static struct cmd_dtmf dtmf; /* a member's keys, across INFOs */
	struct cmd c;
	char key;

	cmd_parse(text, size, &c);
	check_cmd(&c);
	if (cmd_dtmf_relay(text, size, &key) == 0) {
		FUZZ_CHECK(strchr("0123456789*#ABCD", key) && key);
		if (cmd_dtmf_feed(&dtmf, key, &c)) {
			check_cmd(&c);
			FUZZ_CHECK(c.kind == CMD_SWITCH || c.kind == CMD_GRAB);
		}
	}
	/* Keys typed one by one, as RFC 4733 events arrive. */
	for (size_t i = 0; i < size && i < 64; i++)
		if (cmd_dtmf_feed(&dtmf, text[i], &c))
			check_cmd(&c);
	return 0;
}
