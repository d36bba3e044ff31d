/* Fuzz target: the M3U lineup loader, lineup_parse(), on the text
 * lineup_load() reads from the file (main.c at start and on SIGHUP).  The
 * text is given in a buffer of its exact size: the parser must not read
 * past its end.  Checks: a refusal says which line; every channel it keeps
 * has an id, a port and a group, and is found again by id and number. */
#include <string.h>

#include "server/catalog.h"
#include "server/lineup.h"
#include "test/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct catalog *cat = catalog_create(home);
	char err[256] = "";
	int rc;

	FUZZ_CHECK(cat);
	rc = lineup_parse(cat, (const char *)data, size, err, sizeof(err));
	if (rc < 0)
		FUZZ_CHECK(!strncmp(err, "line ", 5));
	for (unsigned i = 0; i < catalog_channel_count(cat); i++) {
		const struct channel *ch = catalog_channel_at(cat, i);

		FUZZ_CHECK(ch && ch->id && *ch->id && ch->group);
		FUZZ_CHECK(ch->port > 0 && ch->port <= 65535);
		FUZZ_CHECK(catalog_channel(cat, ch->id) == ch);
		FUZZ_CHECK(catalog_channel_by_number(cat, ch->number) == ch);
	}
	catalog_destroy(cat);
	su_home_deinit(home);
	return 0;
}
