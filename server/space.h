/* The space manager: tvspace's core, a pure state machine.  It owns the
 * spaces, their members and roles, admissions and capacity; events go in,
 * verdicts and member records come out.  No SIP, SQL, sockets or clock: the
 * caller (the SIP adapter, on the one su_root thread) passes `now` in unix
 * seconds and maps verdicts to protocol codes. */
#ifndef TVSPACE_SPACE_H
#define TVSPACE_SPACE_H

#include <stdbool.h>
#include <stdint.h>
#include <sofia-sip/su_alloc.h>

struct catalog;
struct channel;
struct service;
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

/** What a terminal's SDP offer asks for, as the SIP adapter read it. */
struct space_offer {
	const char *media;          /* m= media: "video", "audio" */
	unsigned port;              /* m= port; 0 refuses the stream */
	const char *addr;           /* c= address */
	bool multicast;             /* c= is a multicast group */
	unsigned pts[SPACE_MAX_PT]; /* payload types offered */
	unsigned n_pts;
	const char *bc_service; /* a=bc_service or P-Service-Default-ID */
	const char *bc_channel; /* a=bc_channel */
	bool want_multicast;    /* a=bc_delivery:multicast */
	unsigned event_pt;      /* RFC 4733 telephone-event, 0 if none */
};

/** A member record.  Owned by its space; read-only outside space.c; valid
 * until the member is removed or the space is closed. */
struct space_member {
	struct space *space;
	const char *user;
	const char *service; /* the member's own service, or NULL */
	enum space_role role;
	enum space_delivery delivery;
	unsigned pt;      /* payload type agreed */
	const char *addr; /* the terminal's SDP address and port */
	unsigned port;
	unsigned request; /* pending: the N of "/allow N" */
	unsigned grab;    /* N of this guest's open /grab, or 0 */
	unsigned seq;     /* order of admission, the host is 1 */
	bool friend;      /* admitted unasked as the host's friend */
	int64_t since;    /* asked (pending) or admitted, unix s */
	void *handle;     /* the adapter's, never touched here */
	struct space_member *next;
};

/** What space_plan_start() decided. */
struct space_plan {
	const struct service *service; /* the host's service */
	const struct channel *channel; /* the first channel */
	enum space_delivery delivery;
	unsigned pt;
};

/** Make a manager reading channels and services from @a cat. */
struct space_mgr *space_mgr_create(su_home_t *parent,
				   const struct catalog *cat);
/** Free every space; NULL is fine. */
struct space_mgr *space_mgr_destroy(struct space_mgr *mgr);
/** Read channels and services from @a cat from now on (a reload).  Spaces
 * keep their channel and service by id. */
void space_mgr_set_catalog(struct space_mgr *mgr, const struct catalog *cat);
/** The catalog in force. */
const struct catalog *space_mgr_catalog(const struct space_mgr *mgr);
/** Seconds a pending joiner waits for the host before it is refused. */
void space_mgr_set_admission_timeout(struct space_mgr *mgr, unsigned seconds);
/** Number of live spaces. */
unsigned space_mgr_count(const struct space_mgr *mgr);

/** Decide whether @a user may start a space with @a offer, and on what:
 * the service (named in the offer, else the user's default), the channel
 * (the offer's multicast group when the lineup has it, else a=bc_channel,
 * else the service's default), the delivery mode and payload type.  Changes
 * nothing; on SPACE_OK fills @a ret. */
enum space_verdict space_plan_start(const struct space_mgr *mgr,
				    const char *user,
				    const struct space_offer *offer,
				    int64_t now, struct space_plan *ret);

/** Create live space @a id (its id comes from the store) with @a user as
 * host, as @a plan says.  @a addr/@a port are the host's SDP address. */
int space_open(struct space_mgr *mgr, uint64_t id, const char *user,
	       const struct space_plan *plan, const char *addr, unsigned port,
	       void *handle, int64_t now, struct space **ret_space);

/** Put back a space read from the store after a restart.  The host and
 * guests are added with space_restore_member(). */
int space_restore(struct space_mgr *mgr, uint64_t id, const char *service,
		  const char *channel, bool open, int64_t started,
		  int64_t counted_from, struct space **ret_space);
/** Put back one admitted member of a restored space. */
int space_restore_member(struct space *sp, const char *user,
			 const char *service, enum space_role role,
			 enum space_delivery delivery, unsigned pt,
			 const char *addr, unsigned port, unsigned seq,
			 int64_t since, struct space_member **ret_member);

/** The live space @a id, or NULL. */
struct space *space_find(const struct space_mgr *mgr, uint64_t id);
/** Call @a fn for every live space. */
void space_mgr_foreach(struct space_mgr *mgr,
		       void (*fn)(void *arg, struct space *sp), void *arg);

uint64_t space_id(const struct space *sp);
const struct channel *space_channel(const struct space *sp);
const struct service *space_service(const struct space *sp);
struct space_member *space_host(const struct space *sp);
/** Members in admission order, the pending ones last. */
struct space_member *space_members(const struct space *sp);
/** Admitted members: host and guests. */
unsigned space_count(const struct space *sp);
unsigned space_capacity(const struct space *sp);
bool space_is_open(const struct space *sp);
int64_t space_started(const struct space *sp);
/** @a user's record in the space (any role), or NULL. */
struct space_member *space_member_by_user(const struct space *sp,
					  const char *user);

/** @a user asks to join @a sp with @a offer.  SPACE_OK with @a ret_member
 * pending (the host is to be asked with ret_member->request) or already a
 * guest (an open space admits at once: the caller stores it).  Refusals:
 * SPACE_FULL, SPACE_ALREADY_MEMBER, SPACE_MEDIA_MISMATCH. */
enum space_verdict space_join(struct space *sp, const char *user,
			      const struct space_offer *offer, void *handle,
			      int64_t now, struct space_member **ret_member);
/** The host's "/allow N": the pending member becomes a guest, holding its
 * seat at once (so two admissions cannot both take the last one).
 * SPACE_NO_SUCH_REQUEST, SPACE_FULL (then the member stays pending: the
 * caller refuses it with space_member_remove()). */
enum space_verdict space_admit(struct space *sp, unsigned request, int64_t now,
			       struct space_member **ret_member);
/** The host's "/deny N": the pending member, for the caller to refuse and
 * remove. */
enum space_verdict space_pending(struct space *sp, unsigned request,
				 struct space_member **ret_member);
/** Undo space_admit() when the store failed: the member is pending again. */
void space_unadmit(struct space_member *m);
/** Remove @a m from its space (left, refused, cancelled, kicked). */
void space_member_remove(struct space_member *m);

/** The first pending member whose admission deadline has passed at @a now,
 * or NULL.  The caller refuses and removes it, then asks again. */
struct space_member *space_mgr_expired(const struct space_mgr *mgr,
				       int64_t now);
/** Seconds until the next admission deadline, or -1 for none. */
int64_t space_mgr_next_deadline(const struct space_mgr *mgr, int64_t now);

/** Switch @a sp to channel @a id_or_number, asked by @a user.
 * SPACE_NOT_HOST, SPACE_UNKNOWN_CHANNEL, SPACE_MEDIA_MISMATCH (a video
 * space cannot switch to an audio channel and back).  On SPACE_OK the
 * previous channel comes back in @a ret_old for undo. */
enum space_verdict space_switch(struct space *sp, const char *user,
				const char *id_or_number,
				const struct channel **ret_old);
/** Put @a ch back as the channel (undo of a failed switch). */
void space_set_channel(struct space *sp, const struct channel *ch);
/** Make @a to (a guest) the host; @a by must be the host. */
enum space_verdict space_handover(struct space *sp, const char *by,
				  const char *to);
/** @a user asks for the remote (/grab).  With @a at_once (grab_policy
 * free) it passes now: SPACE_OK and @a ret_request 0.  Otherwise the host
 * is to be asked "grab request N": SPACE_OK with N in @a ret_request (the
 * same N again if the user asked already).  SPACE_HOST_ALREADY,
 * SPACE_NOT_MEMBER. */
enum space_verdict space_grab(struct space *sp, const char *user, bool at_once,
			      unsigned *ret_request);
/** The member whose open grab request is @a request, or NULL. */
struct space_member *space_grabber(const struct space *sp, unsigned request);
/** The host's answer to grab request @a request: allowed, the remote moves
 * to its asker; denied, the request is dropped.  SPACE_NO_SUCH_REQUEST. */
enum space_verdict space_grab_answer(struct space *sp, unsigned request,
				     bool allow, struct space_member **ret);
/* -- when the host is lost (PROTOCOL.md) --------------------------------- */

/** Seconds a lost host has to come back (host_grace, default 60). */
void space_mgr_set_host_grace(struct space_mgr *mgr, unsigned seconds);
/** The host's dialog failed (or, after a restart, the space has no host):
 * the host member goes, the space plays on without one and keeps the seat
 * of @a user (the host's, when NULL) for the grace.  Pending joiners wait
 * without expiring.  0, -ENOENT with neither a host nor @a user. */
int space_lose_host(struct space *sp, const char *user, int64_t now);
/** The user whose return the space waits for, or NULL when it has a host. */
const char *space_lost_host(const struct space *sp);
/** The lost host dials in again within the grace: a member again, host at
 * once, admitted after the guests (its seq is new).  SPACE_NOT_HOST for
 * anyone else. */
enum space_verdict space_host_back(struct space *sp, const char *user,
				   const struct space_offer *offer,
				   void *handle, int64_t now,
				   struct space_member **ret_member);
/** A space whose lost host's grace is over, or NULL. */
struct space *space_mgr_host_gone(const struct space_mgr *mgr, int64_t now);
/** The earliest-admitted guest becomes host; NULL (and nothing changes)
 * when there is no guest.  Pending joiners' admission time starts again:
 * they are asked of the new host. */
struct space_member *space_promote(struct space *sp, int64_t now);

/* -- entitlements (PROTOCOL.md "Entitlements") -------------------------- */

/** Whether @a m's own service may watch @a ch (a member without a service
 * of its own, or a service without a package, may watch every channel). */
bool space_member_entitled(const struct space_member *m,
			   const struct channel *ch);

/* -- friends (PROTOCOL.md "Friends") ------------------------------------ */

/** @a user's friend list gains (@a on) or loses @a friend. */
int space_mgr_friend(struct space_mgr *mgr, const char *user,
		     const char *friend, bool on);
bool space_mgr_is_friend(const struct space_mgr *mgr, const char *user,
			 const char *friend);
/** auto_admit = friends: a friend of the host is admitted without asking
 * (space_join() gives SPACE_GUEST and sets *ret_friend). */
void space_mgr_set_auto_admit_friends(struct space_mgr *mgr, bool on);
/** Whether @a m came in as the host's friend, unasked. */
bool space_member_by_friendship(const struct space_member *m);

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

/* Played time and the daily limit (patent tables 2 and 3).  A space's
 * played time counts against its host service's day while it is live; the
 * caller books it to the store from time to time (space_booked()) so it
 * survives a restart, and at the end. */

/** A new accounting day begins at @a day_start (local midnight, unix s):
 * booked seconds are forgotten and every space's warnings re-armed.  The
 * caller books what was played before midnight to the old day first. */
void space_mgr_new_day(struct space_mgr *mgr, int64_t day_start);
/** The start of the accounting day in force. */
int64_t space_mgr_day_start(const struct space_mgr *mgr);
/** Add @a seconds booked today by @a service (the store's figure at start,
 * then every booking). */
int space_mgr_add_booked(struct space_mgr *mgr, const char *service,
			 unsigned seconds);
/** Seconds @a service has played today: booked, plus its live spaces' time
 * not booked yet. */
unsigned space_mgr_played_today(const struct space_mgr *mgr,
				const char *service, int64_t now);
/** Seconds of playback @a service has left today; UINT32_MAX when its
 * level has no limit. */
unsigned space_mgr_left_today(const struct space_mgr *mgr, const char *service,
			      int64_t now);
/** Seconds played since the space's time was last booked. */
unsigned space_unbooked(const struct space *sp, int64_t now);
/** The time up to @a upto is booked: it is added to the service's day and
 * the space counts from there on. */
void space_booked(struct space *sp, int64_t upto);
/** True the first time it is asked for warning @a i (0..31) today. */
bool space_warn_once(struct space *sp, unsigned i);
/** Close the space: it and its members are freed. */
void space_close(struct space *sp);

#endif
