/* The space manager: tvspace's core, a pure state machine.  It owns the
 * spaces, their members and roles, admissions, capacity, the daily limit's
 * accounting and every policy that follows from time (admission expiry, a
 * lost host's grace, quota warnings and the end at the limit, booking of
 * played time).  Events go in, verdicts and member records come out.  No
 * SIP, SQL, sockets or clock: the caller (the SIP adapter, on the one
 * su_root thread) passes `now`, milliseconds on the monotonic clock, and
 * carries the verdicts out.  Lookups are hash lookups; time-driven work is
 * a deadline per space in a heap, never a sweep of everything. */
#ifndef TVSPACE_SPACE_H
#define TVSPACE_SPACE_H

#include <stdbool.h>
#include <stdint.h>
#include <sofia-sip/su_alloc.h>

struct catalog;
struct channel;
struct channel_stream;
struct space;
struct space_mgr;

/** Outcomes of the core's decisions.  sip/ maps each to a status code. */
enum space_verdict {
	SPACE_OK = 0,
	SPACE_NOT_FOUND,       /* no such live space */
	SPACE_FULL,            /* members == capacity of the host's service */
	SPACE_ALREADY_MEMBER,  /* the user is in the space already */
	SPACE_NO_SERVICE,      /* the user has no service at all */
	SPACE_NOT_SUBSCRIBED,  /* the named service is not the user's */
	SPACE_UNKNOWN_SERVICE, /* the named service does not exist */
	SPACE_UNKNOWN_CHANNEL, /* no such channel in the lineup */
	SPACE_MEDIA_MISMATCH,  /* the offer cannot take the channel's media */
	SPACE_NOT_HOST,        /* only the host may do that */
	SPACE_NOT_MEMBER,      /* the user is not (yet) a member */
	SPACE_NO_SUCH_REQUEST, /* /allow N or /deny N with an unknown N */
	SPACE_NO_SUCH_USER,    /* the user named is not in the space */
	SPACE_LIMIT_REACHED,   /* no playback left today */
	SPACE_HOST_ALREADY,    /* the host asked for the remote it holds */
	SPACE_NO_HOST,         /* the host is lost; nobody to ask yet */
	SPACE_NOT_ENTITLED,    /* the channel is not in the service's package */
	SPACE_BANNED,          /* removed by the host; may not ask again */
	SPACE_ENDING,          /* the space is ending */
};

/** A short text a person can read, for Warning headers and logs. */
const char *space_verdict_str(enum space_verdict v);

enum space_role { SPACE_HOST, SPACE_GUEST, SPACE_PENDING };
enum space_delivery { SPACE_MULTICAST, SPACE_RELAY };

/** The role's name as stored: "host", "guest", "pending". */
const char *space_role_str(enum space_role role);
/** The delivery mode's name as stored: "multicast", "relay". */
const char *space_delivery_str(enum space_delivery d);

#define SPACE_MAX_PT 16

/** One format of an m= line: its payload type and, from a=rtpmap and
 * a=fmtp (or RFC 3551's table for a static type), what it is. */
struct space_format {
	unsigned pt;
	const char *encoding; /* "VP8", "H264", "PCMU"; NULL: not known */
	unsigned clock;
	unsigned channels; /* 0 when a=rtpmap names none */
	const char *fmtp;  /* or NULL */
};

/* A browser offers some 30 video formats (rtx, FEC and H.264 variants
 * among them); the first 32 of a line are read. */
#define SPACE_MAX_FORMATS 32

/** One m= line of an offer, in its order (RFC 3264 §6: the answer has as
 * many, in the same order). */
struct space_offer_line {
	const char *media; /* "video", "audio", "application"... */
	const char *proto; /* "RTP/AVP"... */
	bool rtp;          /* RTP/AVP: a line the server can serve */
	unsigned port;     /* 0: refused by the offerer */
	const char *addr;  /* its c= address (or the session's) */
	bool multicast;
	bool recvonly;
	/* n_formats of them (at most SPACE_MAX_FORMATS), no telephone-event;
	 * sized to the line, not to the most a line may have: a member keeps
	 * its offer's lines for its whole session (RFC 3264 §8). */
	const struct space_format *formats;
	unsigned n_formats;
	const char *first_format; /* its first format, as written */
};

/** The formats a member's session agreed on one media type, for the
 * streams of CHANNEL_STREAMS channels: its offer's m= line that carries
 * that media (-1: none does), where the member receives it, and the
 * formats of the line that the server may send (those of the catalog's
 * channels; catalog_encoding_at()), in the offer's order.  A switch to
 * another channel needs no new offer while the line has its encoding. */
#define SPACE_MAX_AGREED 8
struct space_stream {
	int line;
	const char *addr;
	unsigned port;
	bool multicast;
	unsigned n_formats;
	struct space_format formats[SPACE_MAX_AGREED];
};

/** A member's streams, by media type: [CHANNEL_VIDEO], [CHANNEL_AUDIO]. */
struct space_streams {
	struct space_stream media[2];
};

/** What a terminal's SDP offer asks for, as the SIP adapter read it.  An
 * INVITE without an offer is a multicast offer with no address: the server
 * offers the channel and the terminal answers (RFC 3264 §5).  The fields
 * from media to recvonly are its first audio or video m= line's, the one a
 * one-stream channel is served on; lines[] has every m= line. */
struct space_offer {
	const char *media;          /* m= media: "video", "audio" */
	unsigned port;              /* m= port; 0 refuses the stream */
	const char *addr;           /* c= address, NULL without an offer */
	bool multicast;             /* c= is a multicast group */
	unsigned pts[SPACE_MAX_PT]; /* payload types offered */
	unsigned n_pts;
	bool none;              /* no offer: the server offers (multicast) */
	const char *bc_service; /* a=bc_service, P-Asserted-Service ... */
	const char *channel;    /* the project's own channel attribute */
	bool want_multicast;    /* the project's delivery attribute */
	unsigned event_pt;      /* RFC 4733 telephone-event, 0 if none */
	bool recvonly;          /* a=recvonly: the terminal only receives */
	const struct space_offer_line *lines; /* every m= line, in order */
	unsigned n_lines;
};

/** A subscriber's service as the core needs it (patent table 2): its
 * owner, level and package.  The level's capacity, daily limit and
 * features come from the catalog's levels, so a change of level settings
 * reaches live spaces at once. */
struct space_service {
	const char *id;   /* Service Default ID */
	const char *user; /* the subscriber */
	unsigned level;
	const char *default_channel; /* or NULL */
	const char *package; /* channel ids, space separated; NULL: all */
};

/** A member record.  Owned by its space; read-only outside space.c; valid
 * until the member is removed or the space is closed. */
struct space_member {
	struct space *space;
	const char *user;
	const char *service; /* the member's own service, or NULL */
	const char *package; /* its channel package, NULL for all */
	enum space_role role;
	enum space_delivery delivery;
	unsigned pt;      /* payload type agreed */
	const char *addr; /* the terminal's SDP address and port */
	unsigned port;
	unsigned request; /* pending: the N of "/allow N" */
	unsigned grab;    /* N of this guest's open /grab, or 0 */
	unsigned seq;     /* order of admission, the host is 1 */
	bool friend;      /* admitted unasked as the host's friend */
	int64_t since;    /* asked (pending) or admitted, ms */
	/* The channel it still receives when it could not follow the
	 * space's (not in its package, or it refused the re-INVITE: RFC
	 * 6141), or NULL while it follows. */
	const struct channel *behind;
	/* A member of a CHANNEL_STREAMS space: what its session agreed for
	 * each media type (a copy); NULL for one-stream channels, and for a
	 * member restored after a restart until the adapter sets it. */
	const struct space_streams *streams;
	void *handle; /* the adapter's, never touched here */
	struct space_member *next, *prev; /* in the space, in order */
};

/** What space_plan_start() decided. */
struct space_plan {
	const struct channel *channel; /* the first channel */
	enum space_delivery delivery;
	unsigned pt;
	/* CHANNEL_STREAMS: its streams as the offer takes them (strings
	 * point into the offer) */
	struct space_streams streams;
};

/** The policies that follow from time and loss (PROTOCOL.md), in ms. */
struct space_policy {
	int64_t admission_timeout; /* a pending joiner waits this long */
	int64_t host_grace;        /* a lost host has this long to return */
	bool host_lost_end; /* after the grace: end (else promote a guest) */
	bool grab_free;     /* /grab passes at once (else the host is asked) */
	bool auto_admit_friends; /* the host's friends come in unasked */
	int64_t book_interval;   /* played time is booked this often, on the
				  * next whole second of the clock */
	/* Members are told when this many seconds of the host service's
	 * daily playback are left, highest first. */
	unsigned warnings[8];
	unsigned n_warnings;
};

/** Make a manager reading channels and levels from @a cat. */
struct space_mgr *space_mgr_create(su_home_t *parent,
				   const struct catalog *cat);
/** Free every space; NULL is fine. */
struct space_mgr *space_mgr_destroy(struct space_mgr *mgr);
/** Read channels and levels from @a cat from now on (a reload).  Spaces
 * keep the channel they play (their own copy). */
void space_mgr_set_catalog(struct space_mgr *mgr, const struct catalog *cat);
/** The catalog in force. */
const struct catalog *space_mgr_catalog(const struct space_mgr *mgr);
/** The policies from now on; spaces' deadlines are computed again. */
void space_mgr_set_policy(struct space_mgr *mgr, const struct space_policy *p,
			  int64_t now);
/** Number of live spaces. */
unsigned space_mgr_count(const struct space_mgr *mgr);
/** Members (host, guests and pending) of every live space. */
unsigned space_mgr_members(const struct space_mgr *mgr);

/** Decide whether @a user may start a space on service @a svc (the one the
 * request named, or the user's default, as the store gave it; NULL: the
 * user has none) with @a offer, having played @a played_today seconds
 * today: the channel (the offer's multicast group when the lineup has it,
 * else the offer's channel attribute, else the service's default), the
 * delivery mode and payload type.  Changes nothing. */
enum space_verdict space_plan_start(const struct space_mgr *mgr,
				    const char *user,
				    const struct space_service *svc,
				    unsigned played_today,
				    const struct space_offer *offer,
				    int64_t now, struct space_plan *ret);

/** Create live space @a id (its id comes from the store) with @a user as
 * host on @a svc, as @a plan says; @a played_today is the service's day so
 * far when no other space of it is live here.  @a started is the wall
 * clock's unix seconds, for the room panel. */
int space_open(struct space_mgr *mgr, uint64_t id, const char *user,
	       const struct space_service *svc, unsigned played_today,
	       const struct space_plan *plan, const struct space_offer *offer,
	       void *handle, int64_t now, int64_t started,
	       struct space **ret_space);

/** Put back a space read from the store after a restart or a claim; the
 * host and guests follow with space_restore_member().  @a played_ms is
 * what it played so far, @a unbooked_ms what of that is not booked yet;
 * @a ch is its channel as the catalog has it (a space whose channel the
 * lineup lost cannot be described to its members: the caller ends it). */
int space_restore(struct space_mgr *mgr, uint64_t id,
		  const struct space_service *svc, unsigned played_today,
		  const struct channel *ch, bool open, int64_t played_ms,
		  int64_t unbooked_ms, int64_t now, int64_t started,
		  struct space **ret_space);
/** Put back one admitted member of a restored space. */
int space_restore_member(struct space *sp, const char *user,
			 const char *service, const char *package,
			 enum space_role role, enum space_delivery delivery,
			 unsigned pt, const char *addr, unsigned port,
			 unsigned seq, int64_t now,
			 struct space_member **ret_member);

/** The live space @a id, or NULL. */
struct space *space_find(const struct space_mgr *mgr, uint64_t id);
/** Call @a fn for every live space (operator's listings only; no event
 * of a member walks all spaces).  @a fn may close the space it is given. */
void space_mgr_foreach(struct space_mgr *mgr,
		       void (*fn)(void *arg, struct space *sp), void *arg);
/** Call @a fn for every live space hosted by service @a service. */
void space_mgr_foreach_of_service(struct space_mgr *mgr, const char *service,
				  void (*fn)(void *arg, struct space *sp),
				  void *arg);

uint64_t space_id(const struct space *sp);
/** The channel the space plays: its own copy, never NULL. */
const struct channel *space_channel(const struct space *sp);
/** The host's service (a copy taken at start and on changes). */
const struct space_service *space_service(const struct space *sp);
/** Whether service @a service has a live space here. */
bool space_mgr_has_service(const struct space_mgr *mgr, const char *service);
/** Update the service's settings (provisioning changed it). */
int space_mgr_service_changed(struct space_mgr *mgr,
			      const struct space_service *svc);
struct space_member *space_host(const struct space *sp);
/** Members in admission order, the pending ones last. */
struct space_member *space_members(const struct space *sp);
/** Admitted members: host and guests. */
unsigned space_count(const struct space *sp);
unsigned space_pending_count(const struct space *sp);
unsigned space_capacity(const struct space *sp);
/** The daily limit of the host service's level, seconds (0: none). */
unsigned space_daily_limit(const struct space *sp);
/** The level's features (SERVICE_QUIZ ...). */
unsigned space_features(const struct space *sp);
bool space_is_open(const struct space *sp);
/** Whether comments may have been written in @a sp: false for a space
 * opened here (space_open()) until space_note_comment(), true for one
 * restored (written before, or on another node).  A joiner of a space
 * without comments needs no history read. */
bool space_has_comments(const struct space *sp);
void space_note_comment(struct space *sp);
/** Wall clock unix seconds of the start, as given. */
int64_t space_started(const struct space *sp);
/** @a user's record in the space (any role), or NULL.  A hash lookup. */
struct space_member *space_member_by_user(const struct space *sp,
					  const char *user);

/** @a user (whose own service is @a own, NULL for none) asks to join
 * @a sp with @a offer; @a friend: the host's friend (the caller asked the
 * store).  SPACE_OK with @a ret_member pending (the host is to be asked
 * with ret_member->request) or already a guest (an open space, or a friend
 * with auto_admit: the caller stores it).  Refusals: SPACE_FULL,
 * SPACE_ALREADY_MEMBER, SPACE_MEDIA_MISMATCH, SPACE_NOT_ENTITLED,
 * SPACE_BANNED, SPACE_ENDING. */
enum space_verdict space_join(struct space *sp, const char *user,
			      const struct space_service *own, bool friend,
			      const struct space_offer *offer, void *handle,
			      int64_t now, struct space_member **ret_member);
/** The host invites @a user (RFC 4579 §5.5): a guest at once, the seat
 * taken.  Refusals as space_join(). */
enum space_verdict space_invite(struct space *sp, const char *by,
				const char *user,
				const struct space_service *own, int64_t now,
				struct space_member **ret_member);
/** The host's "/allow N": the pending member becomes a guest, holding its
 * seat at once (so two admissions cannot both take the last one).
 * SPACE_NO_SUCH_REQUEST, SPACE_FULL (the member stays pending: the caller
 * refuses it and removes it). */
enum space_verdict space_admit(struct space *sp, unsigned request, int64_t now,
			       struct space_member **ret_member);
/** The host's "/deny N": the pending member, for the caller to refuse and
 * remove. */
enum space_verdict space_pending(struct space *sp, unsigned request,
				 struct space_member **ret_member);
/** Remove @a m from its space (refused, cancelled, kicked, or its commit
 * failed).  A departure that may end the space is space_leave(). */
void space_member_remove(struct space_member *m, int64_t now);

/** What follows from a member's departure. */
enum space_leave_verdict {
	SPACE_LEFT,      /* a guest left; the space goes on */
	SPACE_HOST_LOST, /* the host is lost: the space waits host_grace */
	SPACE_END,       /* the host left: the caller ends the space */
};
/** @a m leaves: @a failed when its dialog failed (timer, transport,
 * 408/481) rather than ended by BYE.  A guest is removed; a host who hung
 * up ends the space; a host whose dialog failed is lost and the space
 * waits for it (PROTOCOL.md "When the host is lost").  After SPACE_LEFT
 * and SPACE_HOST_LOST @a m is freed. */
enum space_leave_verdict space_leave(struct space_member *m, bool failed,
				     int64_t now);

/** Switch @a sp to channel @a id_or_number, asked by @a user.
 * SPACE_NOT_HOST, SPACE_UNKNOWN_CHANNEL, SPACE_MEDIA_MISMATCH (a video
 * space cannot switch to an audio channel and back), SPACE_NOT_ENTITLED
 * (not in the host service's package).  On SPACE_OK the space plays the
 * new channel; @a ret_old (the caller's copy, allocated in @a home) is the
 * one before, for undo with space_set_channel(). */
enum space_verdict space_switch(struct space *sp, const char *user,
				const char *id_or_number, su_home_t *home,
				struct channel **ret_old);
/** Play @a ch from now on (undo of a failed switch). */
int space_set_channel(struct space *sp, const struct channel *ch);
/** Make @a to (a guest) the host; @a by must be the host. */
enum space_verdict space_handover(struct space *sp, const char *by,
				  const char *to);
/** @a user asks for the remote (/grab).  With the free grab policy it
 * passes now: SPACE_OK and @a ret_request 0.  Otherwise the host is to be
 * asked "grab request N": SPACE_OK with N in @a ret_request (the same N
 * again if the user asked already).  SPACE_HOST_ALREADY, SPACE_NOT_MEMBER,
 * SPACE_NO_HOST. */
enum space_verdict space_grab(struct space *sp, const char *user,
			      unsigned *ret_request);
/** The member whose open grab request is @a request, or NULL. */
struct space_member *space_grabber(const struct space *sp, unsigned request);
/** The host's answer to grab request @a request: allowed, the remote moves
 * to its asker; denied, the request is dropped.  SPACE_NO_SUCH_REQUEST. */
enum space_verdict space_grab_answer(struct space *sp, unsigned request,
				     bool allow, struct space_member **ret);

/** The user whose return the space waits for, or NULL when it has a host. */
const char *space_lost_host(const struct space *sp);
/** The lost host dials in again within the grace: a member again, host at
 * once, admitted after the guests (its seq is new).  SPACE_NOT_HOST for
 * anyone else. */
enum space_verdict space_host_back(struct space *sp, const char *user,
				   const struct space_service *own,
				   const struct space_offer *offer,
				   void *handle, int64_t now,
				   struct space_member **ret_member);
/** A restored space whose host did not come back with it: lost from @a
 * now, its seat kept for @a user. */
int space_lose_host(struct space *sp, const char *user, int64_t now);

/** How @a offer takes the streams of CHANNEL_STREAMS channel @a ch, in
 * @a ret: for each stream of @a ch, the first RTP m= line of its media
 * type, not refused, with a format of the stream's encoding (for H.264 the
 * same packetization-mode and profile, a level at least the stream's);
 * the other lines are refused (port 0).  Without an offer, the server
 * offers each stream at its own payload type.  SPACE_MEDIA_MISMATCH when
 * no stream can be served.  The catalog's other encodings that a line
 * offers are agreed too (space_stream). */
enum space_verdict space_streams_fit(const struct space_mgr *mgr,
				     const struct space_offer *offer,
				     const struct channel *ch,
				     struct space_streams *ret);
/** The payload type @a m receives stream @a st of channel @a ch on: its
 * agreed format for the stream's encoding (relay), or the stream's own
 * (multicast: the group's, offered in a re-INVITE).  -1 when its session
 * has none. */
int space_stream_pt(const struct space_member *m, const struct channel *ch,
		    const struct channel_stream *st);
/** The payload type a relay member whose session agreed @a s receives
 * stream @a st on: the agreed format of the stream's encoding that fits
 * best (the stream's own fmtp before a higher level), the first of the
 * offer's order among equals; -1 when it has none. */
int space_streams_pt(const struct space_streams *s,
		     const struct channel_stream *st);
/** Whether @a m's session can take channel @a ch as it is: a one-stream
 * channel always (as before), a CHANNEL_STREAMS one when each stream it
 * receives has an agreed format on its line (multicast members are
 * offered the new formats).  A member that cannot stays where it is. */
bool space_member_can_take(const struct space_member *m,
			   const struct channel *ch);
/** Set what @a m's session agreed (a copy is kept; NULL forgets it): for
 * a member restored after a restart, read back from its stored SDP. */
int space_member_set_streams(struct space_member *m,
			     const struct space_streams *streams);

/** Whether @a m's own service may watch @a ch (a member without a service
 * of its own, or a service without a package, may watch every channel). */
bool space_member_entitled(const struct space_member *m,
			   const struct channel *ch);
/** @a m keeps receiving @a ch (a copy is kept) instead of the space's
 * channel; NULL: it follows the space again. */
int space_member_stay(struct space_member *m, const struct channel *ch);
/** Whether @a m came in as the host's friend, unasked. */
bool space_member_by_friendship(const struct space_member *m);

/** The host removes @a user (/kick, REFER method=BYE): it may not ask
 * again unless the host allows it (RFC 6501's deny list).  The member, for
 * the caller to end and remove with space_member_remove(); the user is
 * banned even when not present.  SPACE_NOT_HOST, SPACE_NO_SUCH_USER. */
enum space_verdict space_kick(struct space *sp, const char *by,
			      const char *user, struct space_member **ret);
/** The host lifts a ban (/unban).  SPACE_NOT_HOST, SPACE_NO_SUCH_USER. */
enum space_verdict space_unban(struct space *sp, const char *by,
			       const char *user);
/** Whether @a user was removed by the host and may not ask again. */
bool space_is_banned(const struct space *sp, const char *user);

/* -- the quiz ------------------------------------------------------------- */

struct quiz;
/** The space's running quiz, or NULL. */
struct quiz *space_quiz(const struct space *sp);
/** Attach @a q (NULL: none) as the running quiz; the space frees it with
 * quiz_free() when replaced or when it closes.  Allocate it from
 * space_home(). */
void space_set_quiz(struct space *sp, struct quiz *q);
su_home_t *space_home(struct space *sp);

/** @a by (the host) opens or closes the space to joiners. */
enum space_verdict space_set_open(struct space *sp, const char *by, bool open);
/** Seconds played from start to @a now. */
unsigned space_played(const struct space *sp, int64_t now);

/* -- time: the deadlines of each space --------------------------------------
 * Played time counts against the host service's day while a space is
 * live.  Each space has its next deadline (the earliest pending joiner's
 * expiry, its lost host's grace, the next quota warning or the limit, the
 * next booking) in a heap; space_mgr_run() carries out what is due, one
 * decision at a time, as actions for the caller to carry out. */

enum space_action_kind {
	SPACE_ACT_EXPIRED,   /* a pending joiner waited too long: removed */
	SPACE_ACT_PROMOTED,  /* a guest holds the remote: the host is gone */
	SPACE_ACT_END,       /* the caller must end the space now */
	SPACE_ACT_WARN,      /* playback left today: tell the members */
	SPACE_ACT_BOOK,      /* store this much played time */
	SPACE_ACT_PROGRAMME, /* the guide's programme changed (see below) */
};

enum space_end_reason {
	SPACE_END_HOST_GONE, /* the lost host did not come back */
	SPACE_END_LIMIT,     /* the daily limit is reached */
};

/** One decision of the core, valid during the callback. */
struct space_action {
	enum space_action_kind kind;
	struct space *space;
	/* EXPIRED: the joiner, already out of the space */
	const char *user;
	unsigned request;
	void *handle;
	/* PROMOTED: the new host, and who it replaces */
	struct space_member *member;
	const char *lost;
	/* END */
	enum space_end_reason reason;
	/* WARN: seconds left; BOOK: seconds to book, whole */
	unsigned seconds;
	bool old_day; /* BOOK: for the day that just ended */
};

typedef void space_action_f(void *arg, const struct space_action *a);

/** Carry out every decision due at @a now, each through @a fn.  On
 * SPACE_ACT_END the caller ends the space (space_close()) before it
 * returns. */
void space_mgr_run(struct space_mgr *mgr, int64_t now, space_action_f *fn,
		   void *arg);
/** The guide's programme on @a sp's channel changes at @a at (ms; -1 for
 * never): SPACE_ACT_PROGRAMME then, for the caller to look it up. */
void space_set_programme_change(struct space *sp, int64_t at, int64_t now);
/** When space_mgr_run() has something to do next (ms, monotonic), or -1. */
int64_t space_mgr_next_deadline(const struct space_mgr *mgr);

/** A new accounting day begins (local midnight passed): each live space's
 * time up to @a now is booked to the old day (SPACE_ACT_BOOK with
 * old_day), then the services' days start from zero and warnings are armed
 * again.  Once a day, a walk of the live spaces. */
void space_mgr_new_day(struct space_mgr *mgr, int64_t now, space_action_f *fn,
		       void *arg);
/** Seconds service @a service has played today: what was booked before
 * its first live space here, what its spaces booked, and their time not
 * booked yet.  0 for a service with no live space here. */
unsigned space_mgr_played_today(const struct space_mgr *mgr,
				const char *service, int64_t now);
/** Up to when @a sp's played time is booked, wall clock unix seconds on
 * the frame of its start (space_started() plus the seconds booked): what
 * the store keeps, so that a restart counts on from there to the second
 * (bookings fall due on whole seconds of the clock, not of the start). */
int64_t space_booked_until(const struct space *sp);
/** Whole seconds @a sp played that are not booked yet. */
unsigned space_unbooked(const struct space *sp, int64_t now);
/** Seconds of playback @a sp's host service has left today; UINT32_MAX
 * when its level has no limit. */
unsigned space_left_today(const struct space *sp, int64_t now);
/** Close the space: it and its members are freed. */
void space_close(struct space *sp);
/** The space is ending (its end is being stored): joins are refused and
 * no deadline of it runs. */
void space_set_ending(struct space *sp);

#endif
