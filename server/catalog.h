/* The catalog: channels (from the lineup) and services with their levels
 * (from the database), held in memory so the core decides without I/O.
 * Built by the loaders at start and on SIGHUP, read by the space manager and
 * the SIP adapter; one su_root thread. */
#ifndef TVSPACE_CATALOG_H
#define TVSPACE_CATALOG_H

#include <stdbool.h>
#include <sofia-sip/su_alloc.h>

enum channel_media {
	CHANNEL_VIDEO, /* MPEG-2 TS over RTP, payload type 33 (RFC 2250) */
	CHANNEL_AUDIO, /* G.711: PCMU (0) or PCMA (8) */
};

/** One lineup entry.  Strings are owned by the catalog's home. */
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
};

/** A subscriber's service (patent table 2), with its level's settings. */
struct service {
	const char *id;   /* Service Default ID */
	const char *user; /* subscriber user id: "alice@tv.example" */
	unsigned level;
	unsigned capacity;    /* members a space of this service can hold */
	unsigned daily_limit; /* seconds of playback a day, 0: unlimited */
	const char *default_channel;
	bool is_default;     /* the user's default service */
	unsigned features;   /* SERVICE_QUIZ ... of its level */
	const char *package; /* channel ids it may watch, space separated;
			      * NULL for all */
};

/* Features a service level turns on (service_levels.features). */
#define SERVICE_QUIZ  1u /* "quiz": the host may run quizzes */
#define SERVICE_RELAY 2u /* "relay": listed; relay is not refused yet */

struct catalog;

/** Whether @a svc's package holds channel @a id (NULL package: all). */
bool catalog_service_allows(const struct service *svc, const char *id);

/** Make an empty catalog owned by @a parent. */
struct catalog *catalog_create(su_home_t *parent);
/** Free the catalog and everything in it; NULL is fine. */
struct catalog *catalog_destroy(struct catalog *cat);

/** Copy @a ch into the catalog.  -EEXIST for a duplicate id or number,
 * -EINVAL for a channel without id or port. */
int catalog_add_channel(struct catalog *cat, const struct channel *ch);
/** Copy @a svc into the catalog; a later entry with the same id replaces. */
int catalog_add_service(struct catalog *cat, const struct service *svc);

/** Channel by id, or NULL. */
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

/** Service by Service Default ID, or NULL. */
const struct service *catalog_service(const struct catalog *cat,
				      const char *id);
/** The default service of @a user (or its only one), or NULL. */
const struct service *catalog_user_service(const struct catalog *cat,
					   const char *user);

#endif
