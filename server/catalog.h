/* The catalog: channels (from the lineup) and service levels (a small
 * table of the database), held in memory so the core decides without I/O.
 * Subscribers and their services are not here: they are looked up when a
 * subscriber acts (sip/lookup.c, behind a bounded cache).  Built by the
 * loaders at start and on reload, read by the space manager and the SIP
 * adapter; one su_root thread. */
#ifndef TVSPACE_CATALOG_H
#define TVSPACE_CATALOG_H

#include <stdbool.h>
#include <sofia-sip/su_alloc.h>

enum channel_media {
	CHANNEL_VIDEO, /* MPEG-2 TS over RTP, payload type 33 (RFC 2250) */
	CHANNEL_AUDIO, /* G.711: PCMU (0) or PCMA (8) */
	/* Separate RTP streams, each of its own encoding (VP8, H.264 per RFC
	 * 6184, Opus, G.711...): a picture and its sound as two m= lines,
	 * which is what WebRTC plays.  Its streams[] say what they are. */
	CHANNEL_STREAMS,
};

/* A channel of separate streams has at most one of each media type (a
 * picture, its sound), so a member's m= lines match its streams by media
 * type whatever their order. */
#define CHANNEL_MAX_STREAMS 2

/** One RTP stream of a CHANNEL_STREAMS channel: what it carries (its
 * m= line's media, payload type, a=rtpmap and a=fmtp) and where (the
 * group it is sent to by the headend). */
struct channel_stream {
	enum channel_media media; /* CHANNEL_VIDEO or CHANNEL_AUDIO */
	unsigned pt;              /* the payload type the group carries */
	const char *encoding;     /* a=rtpmap's name: "VP8", "H264", "opus" */
	unsigned clock;           /* a=rtpmap's clock rate */
	unsigned channels;        /* a=rtpmap's channels, 0 when it has none */
	const char *fmtp;         /* a=fmtp's parameters, or NULL */
	const char *group;        /* multicast group and port */
	unsigned port;
	const char *source; /* SSM source address, or NULL */
};

/** One lineup entry.  Strings are owned by the catalog's home (or, for a
 * copy, by the copy's one block).  A CHANNEL_STREAMS channel has its
 * streams in streams[]; its pt, group, port and source are its first
 * stream's (the group its URL names, by which an offer finds it). */
struct channel {
	const char *id;   /* tvg-id, unique: "news.demo" */
	unsigned number;  /* tvg-chno, or position in the lineup from 1 */
	const char *name; /* tvg-name or the #EXTINF title */
	enum channel_media media;
	unsigned pt;          /* RTP payload type */
	const char *group;    /* multicast group "232.1.1.1" */
	unsigned port;        /* RTP port of the group */
	const char *source;   /* SSM source address, or NULL */
	unsigned ttl;         /* for c=IN IP4 group/ttl, default 16 */
	const char *generate; /* a source the server plays: "tone:440",
			       * "ts:FILE", or NULL for an external feed */
	unsigned n_streams;   /* CHANNEL_STREAMS: 1 or 2; else 0 */
	struct channel_stream streams[CHANNEL_MAX_STREAMS];
};

/** A service level (patent table 2): what a service of it may do. */
struct level {
	unsigned level;
	const char *name;
	unsigned capacity;    /* members a space of this level can hold */
	unsigned daily_limit; /* seconds of playback a day, 0: unlimited */
	unsigned features;    /* SERVICE_QUIZ ... */
};

/* Features a service level turns on (service_levels.features). */
#define SERVICE_QUIZ  1u /* "quiz": the host may run quizzes */
#define SERVICE_RELAY 2u /* "relay": listed; relay is not refused yet */

struct catalog;

/** Whether @a package (channel ids, space separated; NULL for all) holds
 * channel @a id. */
bool catalog_package_allows(const char *package, const char *id);

/** Make an empty catalog owned by @a parent. */
struct catalog *catalog_create(su_home_t *parent);
/** Free the catalog and everything in it; NULL is fine. */
struct catalog *catalog_destroy(struct catalog *cat);

/** Copy @a ch into the catalog.  -EEXIST for a duplicate id or number,
 * -EINVAL for a channel without id or port. */
int catalog_add_channel(struct catalog *cat, const struct channel *ch);
/** Copy @a l into the catalog; a later entry with the same level
 * replaces. */
int catalog_add_level(struct catalog *cat, const struct level *l);
/** Forget every level (before they are loaded again). */
void catalog_clear_levels(struct catalog *cat);

/** Channel by id, or NULL.  A hash lookup, as are the others. */
const struct channel *catalog_channel(const struct catalog *cat,
				      const char *id);
/** Channel by number, or NULL. */
const struct channel *catalog_channel_by_number(const struct catalog *cat,
						unsigned number);
/** Channel by its multicast group and port, or NULL. */
const struct channel *catalog_channel_by_group(const struct catalog *cat,
					       const char *group,
					       unsigned port);
/** Channel named by a user: an id, or a number written in digits. */
const struct channel *catalog_channel_lookup(const struct catalog *cat,
					     const char *id_or_number);
/** The @a i-th channel in lineup order, or NULL past the end. */
const struct channel *catalog_channel_at(const struct catalog *cat, unsigned i);
/** Number of channels. */
unsigned catalog_channel_count(const struct catalog *cat);

/** Level @a level, or NULL. */
const struct level *catalog_level(const struct catalog *cat, unsigned level);
/** Number of levels. */
unsigned catalog_level_count(const struct catalog *cat);

/** Whether channels @a a and @a b carry the same media, so that sessions
 * negotiated for one can take the other: both MP2T video, both G.711
 * audio, or both separate streams of the same media types (a picture and
 * its sound, or one of them).  Whether a member's session has the new
 * channel's encodings is the member's own matter (space.h). */
bool catalog_same_media(const struct channel *a, const struct channel *b);

/** The stream of @a ch whose media is @a media (CHANNEL_VIDEO or
 * CHANNEL_AUDIO), or NULL.  CHANNEL_STREAMS channels only. */
const struct channel_stream *catalog_stream_of(const struct channel *ch,
					       enum channel_media media);

/** The @a i-th distinct encoding (media, encoding, clock, channels and
 * fmtp) of the catalog's CHANNEL_STREAMS channels, in lineup order, or
 * NULL past the end: what the server may send on a member's m= lines, so
 * a member's answer lists them all and a switch between them needs no new
 * offer. */
const struct channel_stream *catalog_encoding_at(const struct catalog *cat,
						 unsigned i);

/** A copy of @a ch in one block of @a home (free it with su_free()), so
 * it outlives the catalog it came from.  NULL on OOM. */
struct channel *catalog_channel_copy(su_home_t *home, const struct channel *ch);

#endif
