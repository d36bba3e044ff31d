/* The store: tvspace's data in PostgreSQL (patent tables 2 and 3): users,
 * service levels and services, spaces, members with their dialog ids,
 * usage and comments.  All SQL of the tree lives in db/; every statement is
 * parameterised.  Called by the SIP adapter and main on the su_root thread;
 * completions come back through callbacks. */
#ifndef TVSPACE_STORE_H
#define TVSPACE_STORE_H

#include <stdbool.h>
#include <stdint.h>

struct db;

/** What is stored of a member: its role, the terminal's SDP attributes and
 * the dialog, so a restarted server can take the dialog up again. */
struct store_member {
	uint64_t space_id;
	const char *user;
	const char *service;   /* the member's Service Default ID */
	const char *role;      /* "host" or "guest" */
	const char *delivery;  /* "multicast" or "relay" */
	const char *sdp_addr;  /* the terminal's c= address */
	unsigned sdp_port;     /* its m= port */
	const char *sdp_media; /* "video" or "audio" */
	unsigned sdp_pt;       /* the payload type chosen */
	unsigned admitted_seq; /* order of admission in the space */
	/* Dialog (RFC 3261 12): ours is the UAS side. */
	const char *call_id;
	const char *local_tag;
	const char *remote_tag;
	const char *local_uri;     /* the space URI the member dialled */
	const char *remote_uri;    /* the member's From URI */
	const char *remote_target; /* its Contact */
	const char *route_set;     /* Record-Route, comma separated, or NULL */
	int64_t joined;            /* unix seconds */
	const char *package;       /* loaded: its own service's package */
	/* The channel the member receives when it is not the space's (it
	 * could not follow a switch); NULL while it follows. */
	const char *channel;
	/* The last SDP body the server sent in the dialog (so a restart
	 * re-offers the same session), or NULL. */
	const char *local_sdp;
};

/** A live space as stored. */
struct store_space {
	uint64_t id;
	const char *host_service;
	const char *host_user;
	const char *channel;
	bool open;
	int64_t started;      /* unix seconds */
	int64_t booked_until; /* played time before this is in usage */
	const char *node;     /* the node serving it; NULL alone */
	/* loaded: the host service's row and its played time that day */
	unsigned host_level;
	const char *host_default_channel, *host_package;
	unsigned played_today;
};

/** Completion: 0, or a negative errno as db_done_f says. */
typedef void store_done_f(void *arg, int error);
/** Completion of store_space_start(): the new space's id. */
typedef void store_started_f(void *arg, int error, uint64_t space_id);
/** Completion of store_user_secrets(): the user's digest secrets (RFC
 * 7616 HA1, lowercase hex), NULL when the user has none or does not exist;
 * valid only during the call. */
typedef void store_secrets_f(void *arg, int error, const char *ha1_md5,
			     const char *ha1_sha256);
/** Completion with the number a statement answered. */
typedef void store_value_f(void *arg, int error, uint64_t value);
/** One friendship, during store_load_friends(). */
typedef void store_friend_f(void *arg, const char *user, const char *friend);
/** One live space and its members, during store_load_live(); the strings are
 * valid only during the call.  Called once per space, then @a done. */
typedef void store_space_f(void *arg, const struct store_space *space,
			   const struct store_member *members,
			   unsigned n_members);

/** Apply the schema migrations not yet applied (db/schema/NNN_*.sql, kept
 * in the binary), in order, each in its own transaction. */
int store_migrate(struct db *db, store_done_f *done, void *arg);

/** Whether @a friend is on @a user's friend list: @a done gets 1 or 0. */
int store_friendship(struct db *db, const char *user, const char *friend,
		     store_value_f *done, void *arg);

/* -- lookups on demand (docs/scaling.md, "Subscribers") ------------------ */

/** A subscriber's service as stored (patent table 2) and what it played on
 * the day asked; strings valid only during the callback. */
struct store_service {
	const char *id; /* Service Default ID */
	const char *user;
	unsigned level;
	const char *default_channel; /* or NULL */
	bool is_default;
	const char *package;   /* channel ids, space separated; NULL: all */
	unsigned played_today; /* usage.seconds of that day, 0 if none */
};
/** @a svc is NULL when there is none: no such service; a user with no
 * service, or with several and none marked default. */
typedef void store_service_f(void *arg, int error,
			     const struct store_service *svc);
/** Service @a id with its usage of @a day ("YYYY-MM-DD"): one statement
 * by primary keys.  -EINVAL for a missing id or a malformed day. */
int store_service_get(struct db *db, const char *id, const char *day,
		      store_service_f *done, void *arg);
/** @a user's default service (or its only one) with its usage of @a day. */
int store_service_of_user(struct db *db, const char *user, const char *day,
			  store_service_f *done, void *arg);

/** A service level (a small table kept in memory). */
struct store_level {
	unsigned level;
	const char *name;
	unsigned capacity;
	unsigned daily_limit;
	unsigned features; /* 1 quiz, 2 relay (SERVICE_QUIZ, SERVICE_RELAY) */
};
typedef void store_level_f(void *arg, const struct store_level *l);
/** Call @a each for every service level, then @a done. */
int store_load_levels(struct db *db, store_level_f *each, store_done_f *done,
		      void *arg);

/** The service status (patent table 2, the view service_status): what
 * `tvspacectl services` prints.  Strings valid during the callback. */
struct store_service_status {
	const char *id; /* Service Default ID */
	const char *user;
	unsigned level;
	const char *level_name;
	unsigned capacity;
	unsigned daily_limit; /* seconds, 0: none */
	unsigned played;      /* today: booked + live since booked */
	unsigned booked;      /* today's usage row */
	unsigned members;     /* current members of its live spaces */
	unsigned live_spaces;
	uint64_t space_id; /* its latest live space, 0 if none */
	const char *channel;
	const char *programme; /* the current programme, or NULL */
	int64_t programme_start, programme_stop; /* unix s, 0 unknown */
	const char *node;
};
typedef void store_status_f(void *arg, const struct store_service_status *st);
/** Call @a each for service @a id's status row (none when there is no such
 * service), or with @a id NULL for the services hosting a live space,
 * ordered by id, at most @a limit of them (0: all); then @a done.  The
 * list costs about 40 us a row on the shared connection, and every
 * statement queued behind it waits: keep @a limit small. */
int store_service_status(struct db *db, const char *id, unsigned limit,
			 store_status_f *each, store_done_f *done, void *arg);

/** Create a live space with its host, in one transaction; the id comes back
 * through @a done.  @a host->space_id is ignored. */
int store_space_start(struct db *db, const struct store_space *space,
		      const struct store_member *host, store_started_f *done,
		      void *arg);
/** Add an admitted member (role guest or host). */
int store_member_add(struct db *db, const struct store_member *m,
		     store_done_f *done, void *arg);
/** Record our tag of @a user's dialog (known once the ACK arrives). */
int store_member_dialog(struct db *db, uint64_t space_id, const char *user,
			const char *local_tag, store_done_f *done, void *arg);
/** Leave no trace of a start whose INVITE was cancelled while it was
 * being committed: the space and what hangs off it are deleted. */
int store_space_forget(struct db *db, uint64_t space_id, store_done_f *done,
		       void *arg);
/** The same for a membership: @a user's latest row in @a space_id (its
 * current one, or the one the space's end closed meanwhile). */
int store_member_forget(struct db *db, uint64_t space_id, const char *user,
			store_done_f *done, void *arg);
/** Mark @a user's membership of @a space_id ended, with @a reason. */
int store_member_leave(struct db *db, uint64_t space_id, const char *user,
		       const char *reason, store_done_f *done, void *arg);
/** End a space: state ended, every member left, @a played seconds booked to
 * the host service's usage of @a day ("YYYY-MM-DD"), one transaction. */
int store_space_end(struct db *db, uint64_t space_id, const char *reason,
		    const char *service, const char *day, unsigned played,
		    store_done_f *done, void *arg);
/** Change the channel and/or the host of a space in one transaction: the
 * space's channel (NULL: unchanged), the new host's and old host's roles
 * (NULL: unchanged). */
int store_space_update(struct db *db, uint64_t space_id, const char *channel,
		       const char *new_host, const char *old_host,
		       store_done_f *done, void *arg);
/** The programme on live space @a space_id's channel now: @a title (NULL
 * when the guide has none: the columns are cleared) from @a start to
 * @a stop (unix seconds).  A change of channel (store_space_update())
 * clears it: store the new channel's programme after that.  @a stop 0:
 * the guide gives none.  The same programme as stored writes nothing.
 * -EINVAL when @a stop is before @a start. */
int store_space_programme(struct db *db, uint64_t space_id, const char *title,
			  int64_t start, int64_t stop, store_done_f *done,
			  void *arg);
/** The channel @a user receives in @a space_id when it could not follow
 * the space's (not in its package, or it refused the re-INVITE), or NULL
 * when it follows again.  The space's own channel is stored as NULL.  Call
 * it after the store_space_update() of that switch: a switch makes the
 * members that were on the new channel follow again. */
int store_member_channel(struct db *db, uint64_t space_id, const char *user,
			 const char *channel_or_null, store_done_f *done,
			 void *arg);
/** The last SDP body the server sent in @a user's dialog of @a space_id
 * (what a restart re-offers, its version then incremented). */
int store_member_sdp(struct db *db, uint64_t space_id, const char *user,
		     const char *local_sdp, store_done_f *done, void *arg);
/** Leave no trace of a start whose INVITE ended while its commit was in
 * flight: delete space @a space_id and what hangs off it (members,
 * comments, quizzes).  Only a space of this node (store_set_node()). */
int store_space_forget(struct db *db, uint64_t space_id, store_done_f *done,
		       void *arg);
/** Leave no trace of a join that ended while its commit was in flight:
 * delete @a user's latest membership row of @a space_id (current, or
 * closed by the space's end that came meanwhile); earlier ones stay. */
int store_member_forget(struct db *db, uint64_t space_id, const char *user,
			store_done_f *done, void *arg);
/** Set whether the space admits joiners without asking. */
int store_space_set_open(struct db *db, uint64_t space_id, bool open,
			 store_done_f *done, void *arg);
/** One space's played time to book (store_usage_book()). */
struct store_booking {
	uint64_t space_id;
	const char *service; /* its host service */
	const char *day;     /* "YYYY-MM-DD" */
	unsigned seconds;
	int64_t until; /* booked up to then now (unix s) */
};

/** Book @a n spaces' played time in one statement: each adds its seconds
 * to its service's usage of its day, and its space is noted as booked up
 * to its until; nothing is booked for a space that is not live on this
 * node.  -EINVAL for a malformed day. */
int store_usage_book(struct db *db, const struct store_booking *b, unsigned n,
		     store_done_f *done, void *arg);
/** One service's usage, during store_load_usage(). */
typedef void store_usage_f(void *arg, const char *service, unsigned seconds);
/** Call @a each for every service with usage on @a day, then @a done. */
int store_load_usage(struct db *db, const char *day, store_usage_f *each,
		     store_done_f *done, void *arg);
/** Store a comment of @a author in @a space_id, verbatim. */
int store_comment_add(struct db *db, uint64_t space_id, const char *author,
		      const char *text, store_done_f *done, void *arg);
/** One stored comment, during store_comments_recent(). */
typedef void store_comment_f(void *arg, const char *author, int64_t at,
			     const char *text);
/** Call @a each for the last @a n comments of @a space_id, oldest first,
 * then @a done. */
int store_comments_recent(struct db *db, uint64_t space_id, unsigned n,
			  store_comment_f *each, store_done_f *done, void *arg);
/** Call @a each for every live space of @a node (NULL: every live space)
 * with its current members and the services it needs (played time of
 * @a day, "YYYY-MM-DD"), then @a done. */
int store_load_live(struct db *db, const char *node, const char *day,
		    store_space_f *each, store_done_f *done, void *arg);
/** store_load_live() of the live spaces of @a node among the @a n of
 * @a ids only: what a claim gave this node, without its own spaces (a
 * survivor that served 3,333 spaces and claimed 1,667 read all 5,000 with
 * their members' dialogs, to skip two thirds).  -EINVAL without @a node. */
int store_load_spaces(struct db *db, const char *node, const uint64_t *ids,
		      unsigned n, const char *day, store_space_f *each,
		      store_done_f *done, void *arg);

/* -- nodes (docs/scaling.md) ---------------------------------------------- */

/** This process is node @a node (NULL or "": it runs alone); set once at
 * start.  Ending a space and booking its time then apply only to the
 * spaces this node serves. */
void store_set_node(const char *node);

/** Renew @a node's lease for @a lease_s seconds, recording the @a uri the
 * proxy reaches it at; @a done gets 1 when the lease had run out before
 * (what the node held may have been claimed), else 0. */
int store_node_renew(struct db *db, const char *node, const char *uri,
		     unsigned lease_s, store_value_f *done, void *arg);
/** End @a node's lease now, so the other nodes claim its spaces. */
int store_node_release(struct db *db, const char *node, store_done_f *done,
		       void *arg);
/** One space claimed, during store_claim(). */
typedef void store_claim_f(void *arg, uint64_t space_id, const char *old_node);
/** Claim for @a node its share of the spaces of nodes whose lease has run
 * out: @a each for each, then @a done. */
int store_claim(struct db *db, const char *node, store_claim_f *each,
		store_done_f *done, void *arg);
/** Call @a each(arg, id, node) for every live space of @a node, then
 * @a done: what the node still owns. */
int store_owned(struct db *db, const char *node, store_claim_f *each,
		store_done_f *done, void *arg);

/** @a user's friend list gains (@a on) or loses @a friend; @a done gets
 * 1, or 0 when @a friend is not a known user. */
int store_friend(struct db *db, const char *user, const char *friend, bool on,
		 store_value_f *done, void *arg);
/** Every friendship, to @a each, then @a done.  (Start-up of old: being
 * replaced by store_friends_of().) */
int store_load_friends(struct db *db, store_friend_f *each, store_done_f *done,
		       void *arg);
/** One host's friend list (loaded when the host starts a space): @a each
 * for each friend of @a user, then @a done. */
int store_friends_of(struct db *db, const char *user, store_friend_f *each,
		     store_done_f *done, void *arg);

/** A quiz as it ended. */
struct store_quiz {
	uint64_t space_id;
	const char *asked_by;
	const char *channel;
	const char *programme; /* the guide's title, or NULL */
	const char *question;
	const char *const *answers;
	const unsigned *tally;
	unsigned n_answers;
	int64_t asked; /* unix seconds */
};
int store_quiz_add(struct db *db, const struct store_quiz *q,
		   store_done_f *done, void *arg);

/** A user's display name (users.display_name), for store_display_names(). */
typedef void store_name_f(void *arg, const char *user, const char *display);
/** The display names of the @a n users @a users: @a each for every one
 * that has one, then @a done; one statement for all. */
int store_display_names(struct db *db, const char *const *users, unsigned n,
			store_name_f *each, store_done_f *done, void *arg);

/** Read the digest secrets of @a user (SIP digest authentication). */
int store_user_secrets(struct db *db, const char *user, store_secrets_f *done,
		       void *arg);

#endif
