/* Fuzz target: the XMLTV guide loader, guide_parse(), on the text
 * guide_load() reads from the file (main.c at start and on SIGHUP); the
 * only XML the server parses.  The text is untrusted (PROTOCOL.md, and the
 * corpus holds the classic attacks): no file or network is read for an
 * external entity, entities do not multiply the input into gigabytes,
 * nesting is bounded.  Checks: a refusal has a reason; no title carries
 * the first line of /etc/passwd (the corpus's external entity names it)
 * unless the file itself does; the titles kept are not larger than the
 * input. */
#include <string.h>

#include "server/guide.h"
#include "test/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct guide *g = guide_create(home);
	const struct programme *p;
	char err[256] = "";
	size_t titles = 0;
	static const char passwd[] = "root:x:0:0:";

	FUZZ_CHECK(g);
	if (guide_parse(g, (const char *)data, size, err, sizeof(err)) < 0)
		FUZZ_CHECK(*err);
	for (unsigned i = 0; (p = guide_at(g, i)); i++) {
		FUZZ_CHECK(p->channel && p->title && p->start >= 0);
		/* from the file itself, not from /etc/passwd */
		FUZZ_CHECK(!strstr(p->title, passwd) ||
			   memmem(data, size, passwd, strlen(passwd)));
		FUZZ_CHECK(guide_now(g, p->channel, p->start));
		titles += strlen(p->title);
	}
	/* No entity may make the text larger than the file. */
	FUZZ_CHECK(titles <= size);
	guide_destroy(g);
	su_home_deinit(home);
	return 0;
}
