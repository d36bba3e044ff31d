/* The programme guide: an XMLTV file (as IPTV guides are published), read
 * with libxml2 into programmes per channel id (the lineup's tvg-id).
 * Loaded by main at start and on SIGHUP; read by the SIP adapter for the
 * room panel.  One su_root thread. */
#ifndef TVSPACE_GUIDE_H
#define TVSPACE_GUIDE_H

#include <stddef.h>
#include <stdint.h>
#include <sofia-sip/su_alloc.h>

/** One programme.  Strings are owned by the guide. */
struct programme {
	const char *channel; /* the XMLTV channel id = the lineup's id */
	int64_t start, stop; /* unix seconds */
	const char *title;
};

struct guide;

/** An empty guide owned by @a parent; NULL on OOM. */
struct guide *guide_create(su_home_t *parent);
/** Free it; NULL is fine. */
struct guide *guide_destroy(struct guide *g);

/** Parse XMLTV @a text into @a g.  The text is untrusted: no network, no
 * external entities, no DTD.  -EBADMSG with a reason in @a err. */
int guide_parse(struct guide *g, const char *text, size_t len, char *err,
		size_t errlen);
/** Read and parse @a path; -errno when it cannot be read. */
int guide_load(struct guide *g, const char *path, char *err, size_t errlen);

/** The programme on @a channel at @a now, or NULL. */
const struct programme *guide_now(const struct guide *g, const char *channel,
				  int64_t now);
/** When what guide_now() says for @a channel changes next (the current
 * programme's stop or the next one's start, unix s), or 0 for never. */
int64_t guide_next_change(const struct guide *g, const char *channel,
			  int64_t now);
/** Number of programmes. */
unsigned guide_count(const struct guide *g);
/** The @a i-th programme in the file's order, or NULL past the end. */
const struct programme *guide_at(const struct guide *g, unsigned i);

#endif
