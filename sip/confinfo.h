/* Conference state documents (RFC 4575, application/conference-info+xml)
 * for a space, built with libxml2: full documents (every member with its
 * roles and status), partial ones (only the users that changed, each with
 * its own state, RFC 4575 §4.6), and the last one of a space that ended.
 * The conference description uses RFC 4575's own elements where it has
 * them (display-text, subject, conf-uris, maximum-user-count,
 * available-media, user-count) and tvspace's extension for the rest (the
 * room panel: the space, its channel, the programme from the guide, the
 * host service's level and daily playback).  Called by the SIP adapter for
 * each NOTIFY of the conference event package; pure (no I/O, no clock). */
#ifndef TVSPACE_CONFINFO_H
#define TVSPACE_CONFINFO_H

#include <stdbool.h>
#include <stdint.h>
#include <sofia-sip/su_alloc.h>

struct channel;
struct space;

/** The namespace of RFC 4575's documents. */
#define CONFINFO_NS "urn:ietf:params:xml:ns:conference-info"
/** The namespace of the room panel extension: a UUID URN (RFC 4122 §3,
 * a registered URN namespace whose names anyone may mint and nobody else
 * will), as docs/sip-interface.md explains; its schema is
 * docs/tvspace-space.xsd. */
#define CONFINFO_TV_NS "urn:uuid:8a7896b9-8a0b-45bd-aa8f-c66ad19abc2f"

/** How a member left (RFC 4575 disconnection-method). */
enum confinfo_how {
	CONFINFO_DEPARTED, /* it hung up: BYE, CANCEL, REFER to its service */
	CONFINFO_BOOTED,   /* the host or the operator removed or refused it */
	CONFINFO_FAILED,   /* its dialog failed, or its request expired */
};

/** The state of a user entry in a partial document (RFC 4575 §4.6). */
enum confinfo_entry {
	CONFINFO_ENTRY_FULL,    /* the whole user: new, or back */
	CONFINFO_ENTRY_PARTIAL, /* only what `changed` names */
	CONFINFO_ENTRY_DELETED, /* gone from the conference's state */
};

/* What a partial entry carries. */
#define CONFINFO_ROLE   0x1u /* roles */
#define CONFINFO_STATUS 0x2u /* the endpoint's status */
#define CONFINFO_NAME   0x4u /* display-text */

/** One user of a document. */
struct confinfo_user {
	const char *user;    /* the user id: entity sip:USER@DOMAIN */
	const char *display; /* display-text; NULL: none (the user id) */
	bool host;           /* role "host", else "guest" */
	bool pending;        /* status "pending" (asking to join) */
	bool gone;           /* status "disconnected", with how and when */
	enum confinfo_how how;
	int64_t when; /* unix seconds it left; 0: not said */
	enum confinfo_entry entry;
	unsigned changed; /* CONFINFO_ROLE ... (a partial entry) */
};

/** The conference's description: RFC 4575 §5.3 and the room panel. */
struct confinfo_desc {
	uint64_t id;                   /* the space: sip:space-ID@DOMAIN */
	const struct channel *channel; /* the channel it plays */
	const char *program_title;     /* the guide's programme, or NULL */
	int64_t program_start;         /* unix seconds, 0 if unknown */
	int64_t program_stop;
	const char *service_id; /* the host's service */
	unsigned level;
	unsigned capacity;     /* maximum-user-count */
	unsigned daily_limit;  /* seconds, 0: none */
	unsigned played_today; /* seconds, as of the document */
	bool open;
	int64_t started; /* unix seconds */
};

/** A document to build. */
struct confinfo_doc {
	uint64_t id;
	const char *domain; /* of the entity and the users' URIs */
	unsigned version;
	bool partial; /* state "partial", else "full" */
	/* The description: in a partial document only when it changed
	 * (NULL leaves it out); a full document must have one. */
	const struct confinfo_desc *desc;
	bool with_count;     /* conference-state (always in a full one) */
	unsigned user_count; /* members admitted (RFC 4575 user-count) */
	const struct confinfo_user *users;
	unsigned n_users;
};

/** What the panel shows beyond the core's state. */
struct confinfo_panel {
	const char *program_title; /* the guide's programme, or NULL */
	int64_t program_start;     /* unix seconds, 0 if unknown */
	int64_t program_stop;
	unsigned played_today; /* seconds booked today */
};

/** The text of document @a d, allocated in @a home; NULL on failure. */
char *confinfo_build(su_home_t *home, const struct confinfo_doc *d);

/** Fill @a d from space @a sp and @a panel (which may be NULL). */
void confinfo_describe(const struct space *sp,
		       const struct confinfo_panel *panel,
		       struct confinfo_desc *d);

/** A full document for @a sp straight from the core's members (user ids
 * as display text), version @a version, with URIs in @a domain. */
char *confinfo_document(su_home_t *home, const struct space *sp,
			const char *domain, unsigned version,
			const struct confinfo_panel *panel);

/** The document that says space @a id is gone (state "deleted", RFC 4575
 * §5.1), sent with the final NOTIFY when a space ends. */
char *confinfo_deleted(su_home_t *home, uint64_t id, const char *domain,
		       unsigned version);

/** A copy of document @a text (built by this module) with version
 * @a version, so that one document serves every subscriber of a room;
 * NULL when @a text has no version. */
char *confinfo_set_version(su_home_t *home, const char *text, unsigned version);

/* -- a room: what a space's subscribers were told -----------------------
 * The members as the subscribers of a space know them (user, role,
 * status, display name), so that each NOTIFY after the first carries only
 * what changed.  What changed is found by comparing the space with it
 * (confinfo_room_look(): one walk of the members and one of the room);
 * what a partial document costs is the changes'.  A member who left is
 * listed disconnected once, with how it left, and deleted by the next
 * document that goes. */

struct confinfo_room;

/** An empty room, allocated in a home of its own under @a parent. */
struct confinfo_room *confinfo_room_create(su_home_t *parent);
/** Free @a r; NULL is fine. */
void confinfo_room_destroy(struct confinfo_room *r);
/** Compare @a sp with what @a r remembers, @a now the wall clock's unix
 * seconds (when the departures happened).  The first look (or the first
 * after confinfo_room_forget()) is what the first subscriber will be told
 * in full: no changes.  Returns the changes waiting. */
unsigned confinfo_room_look(struct confinfo_room *r, const struct space *sp,
			    int64_t now);
/** Whether @a r has looked at its space since it was made or forgotten. */
bool confinfo_room_synced(const struct confinfo_room *r);
/** Forget everything (nobody watches any more). */
void confinfo_room_forget(struct confinfo_room *r);
/** @a user is leaving or left, @a how; what the next look finds gone
 * without being told is "departed" ("failed" for a host the space lost). */
void confinfo_room_left(struct confinfo_room *r, const char *user,
			enum confinfo_how how);
/** Display names longer than this (bytes) are not shown. */
#define CONFINFO_NAME_MAX 256

/** @a user's display name is @a display: a change when the subscribers
 * knew the user by another.  A name that is not UTF-8 text without
 * control characters, or is longer than CONFINFO_NAME_MAX, is ignored:
 * the user id stays. */
void confinfo_room_named(struct confinfo_room *r, const char *user,
			 const char *display);
/** Up to @a max users whose display names were not asked for yet, into
 * @a users (valid until the next look); each is given once. */
unsigned confinfo_room_unnamed(struct confinfo_room *r, const char **users,
			       unsigned max);
/** Changes seen and not yet told. */
unsigned confinfo_room_pending(const struct confinfo_room *r);
/** The full document of the room (members as last looked at, those who
 * left since the last told() listed disconnected), with @a desc. */
char *confinfo_room_full(su_home_t *home, const struct confinfo_room *r,
			 const struct confinfo_desc *desc, const char *domain,
			 unsigned version);
/** The document that tells what changed since the last told(): partial
 * (the users that changed, the description when it changed but for
 * played-today, user-count when it changed), or full when too much
 * changed (@a ret_full says which).  NULL when there is nothing to tell:
 * the description and count as told, and no user changed but those
 * deleted, who wait for the next. */
char *confinfo_room_update(su_home_t *home, const struct confinfo_room *r,
			   const struct confinfo_desc *desc, const char *domain,
			   unsigned version, bool *ret_full);
/** The subscribers were told (by an update, or by the full document after
 * the first look): what changed is their state now. */
void confinfo_room_told(struct confinfo_room *r,
			const struct confinfo_desc *desc);

#endif
