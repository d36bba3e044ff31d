/* Lineup loader: an M3U playlist as IPTV operators publish it, one channel
 * per #EXTINF entry and URL line, into the catalog.  Called at start and on
 * SIGHUP from the su_root thread; does no other I/O than reading the file. */
#ifndef TVSPACE_LINEUP_H
#define TVSPACE_LINEUP_H

#include <stddef.h>

struct catalog;

/** Parse M3U @a text of @a len bytes into @a cat.  On a bad entry, returns
 * -EBADMSG and writes "line N: reason" into @a err (size @a errlen); the
 * catalog may then hold the entries before it. */
int lineup_parse(struct catalog *cat, const char *text, size_t len, char *err,
		 size_t errlen);
/** Read and parse the file @a path; -errno when it cannot be read. */
int lineup_load(struct catalog *cat, const char *path, char *err,
		size_t errlen);

#endif
