/* The SIP adapter's insides, shared by its files.  The files are layered
 * and call only downwards:
 *
 *   sipua.c      nua's events, each to its handler; the adapter's life
 *   start.c join.c control.c refer.c social.c restore.c gate.c
 *                the flows: a request in, the core's decision, the store
 *   act.c        carrying out the core's verdicts: ends, departures,
 *                re-pointing (paced), deadlines, the daily limit
 *   conference.c comments.c lookup.c
 *                the room's state (RFC 4575), comments, services on demand
 *   call.c step.c
 *                a dialog with a member, responses; the one kind of
 *                continuation across an asynchronous step
 *
 * Where a lower file must reach a higher one (the gate handing on a request
 * it held, a re-INVITE's answer ending a REFER), it calls through a
 * function pointer the higher one left.  Not for use outside sip/. */
#ifndef TVSPACE_SIPUA_INT_H
#define TVSPACE_SIPUA_INT_H

#define NUA_MAGIC_T    struct sipua
#define NUA_HMAGIC_T   struct call
#define SU_TIMER_ARG_T void

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/url.h>
#include "db/db.h"
#include "db/store.h"
#include "media/media.h"
#include "server/admit.h"
#include "server/catalog.h"
#include "server/cfg.h"
#include "server/cmd.h"
#include "server/guide.h"
#include "server/hash.h"
#include "server/log.h"
#include "server/space.h"
#include "server/stats.h"
#include "server/svccache.h"
#include "sip/confinfo.h"
#include "sip/ident.h"
#include "sip/sdpneg.h"
#include "sip/sipua.h"

#define USER_MAX    128
#define RETRY_AFTER "5"
#define UA_MIN_SE   90 /* RFC 4028 §5: our Min-SE, the lowest allowed */
/* RFC 6086: the Info Package a remote control's keys come in, as IANA's
 * Info Packages Registry has it (3GPP TS 24.229); the one we take.  Our
 * INVITE 2xx and the INVITEs we send list it in Recv-Info (§5.2.3). */
#define UA_INFO_PACKAGE "infoDtmf"
#define UA_RECV_INFO    SIPTAG_HEADER_STR("Recv-Info: " UA_INFO_PACKAGE)

struct call;
struct gate;
struct room;
struct step;

/* Handles a request of nua (sipua.c's dispatcher), for the gate to hand
 * on one it held. */
typedef void ua_dispatch_f(nua_event_t event, int status, char const *phrase,
			   struct sipua *ua, nua_handle_t *nh, struct call *c,
			   sip_t const *sip, tagi_t const tags[]);

struct sipua {
	su_home_t home[1];
	su_root_t *root;
	nua_t *nua;
	const struct cfg *cfg;
	struct space_mgr *mgr;
	struct db *db;
	struct media *media;
	const struct guide *guide;
	struct svccache *cache; /* services looked up on demand */
	struct gate *gate;      /* rate limits and digest authentication */
	ua_dispatch_f *dispatch;
	media_dtmf_f *on_key; /* control.c's: a relay member's keys */
	/* The request being handled: what ua_refuse() answers and
	 * ua_save_event() saves.  The stack's current one, or the one the
	 * gate held while it authenticated (then `saved` and the user the
	 * digest established). */
	struct {
		msg_t *msg;
		nua_saved_event_t *saved;
		const char *user;
	} req;
	struct hash_table rooms;  /* conference subscriptions by space */
	struct room *dirty_rooms; /* changed, waiting for notify_timer */
	su_timer_t *notify_timer;
	/* Deadlines of the core: one timer, set to the soonest. */
	su_timer_t *deadline;
	int64_t deadline_at;
	su_timer_t *midnight; /* the daily limit's day rolls over */
	struct call *calls;   /* every call (call.c), to free what is left */
	int64_t day_start;    /* wall clock, unix s */
	unsigned comments_queued; /* comments given to the store so far */
	/* Re-INVITEs that re-point members go out through a window that
	 * answers open (act.c): the rest wait their turn in order.  The
	 * window adapts to the answers' delay: repoint_base is the fastest
	 * answer of this run, repoint_cut when the window last halved. */
	struct call *repoint_head, *repoint_tail;
	unsigned repoint_out, repoint_window;
	su_time64_t repoint_cut, repoint_base;
	/* Overload: how late the loop runs (ms), measured by a timer, and
	 * how much waits unread in the SIP stack's UDP sockets (bytes). */
	su_timer_t *pulse;
	int64_t pulse_due;
	int64_t loop_lag;
	int sip_fds[4];
	unsigned n_sip_fds;
	unsigned sip_backlog, sip_backlog_max;
	double sip_wait_ms; /* the oldest request unread has waited */
	bool overloaded;
	bool shed_in_stack; /* the stack refuses new INVITEs itself */
	/* Below overload, new dialogs are admitted at a rate steered by
	 * the queue delay (server/admit.h). */
	struct admit admit;
	char hostport[160]; /* where we are reached: for Contact */
	void (*shutdown_done)(void *arg);
	void *shutdown_arg;
	bool shutdown_final; /* nua_r_shutdown said it is done */
	bool stopping;
	/* A stop that keeps the dialogs for the next start: nothing of nua
	 * is torn down (that would send BYEs), and once quiet no event is
	 * acted on (the dialogs may be another node's). */
	bool keep_dialogs;
	bool quiet;
	void (*restore_done)(void *arg, int error);
	void *restore_arg;
};

/* A conference subscription (RFC 4575) on a call's handle. */
struct sub {
	struct call *c;
	uint64_t space_id;
	unsigned version; /* of the last document sent */
	struct sub *next; /* in its room */
	bool full_sent;   /* the first document (full) went */
	bool dirty;       /* its full document waits for the room's next */
};

/* A dialog as stored for a restart (RFC 3261 §12), and ours to refresh.
 * The identifiers are in one block of their own (ids, call.c's), or each
 * in the call's home (restore.c's, ids NULL). */
struct dialog {
	nua_handle_t *nh;
	char *call_id, *local_tag, *remote_tag;
	char *local_uri, *remote_uri, *remote_target, *route_set;
	char *ids;
	uint64_t sdp_id, sdp_version; /* o= of what we send */
	char *local_sdp; /* the last SDP we sent (call.c's, malloc) */
	bool sdp_dirty;  /* local_sdp is not the stored one */
	bool cpim;       /* its Accept lists message/cpim */
	bool uac;        /* we sent its INVITE */
	/* RFC 4028: the session interval (s) as last negotiated, 0 when
	 * not known (then the configured one), and the largest Min-SE the
	 * dialog has seen, which our refreshes carry (§7.4). */
	unsigned se_interval, min_se;
};

/* What the member's offer asked for and how its media flows. */
struct call_media {
	struct space_offer offer;
	void *offer_block; /* the offer read from its INVITE, in one block */
	struct media_leg *leg; /* relay delivery: our RTP to the member */
	unsigned relay_port;
	struct cmd_dtmf dtmf; /* keys pressed, not yet a command */
	unsigned ptime;       /* the offer's a=ptime (ms), or 0 */
	/* re-pointing by re-INVITE */
	bool reinvite_out;        /* ours awaits its answer */
	bool queued;              /* waits for a place in the window */
	bool again;               /* the channel changed meanwhile */
	su_time64_t repoint_sent; /* when it went, for the metrics */
	su_timer_t *glare;        /* RFC 3261 §14.1 retry after 491 */
	struct call *queue_next;  /* in ua->repoint_head */
	struct channel *had;      /* what it received before the switch */
	bool reoffer; /* its offer named another group: the channel is
		       * offered once the ACK comes (RFC 3264 §6.2) */
};

/* A dialog with a member, or a subscription's handle: bound to its nua
 * handle, counted.  The handle's binding holds one reference, dropped when
 * nua says the dialog is over; every asynchronous step carrying the call
 * (a commit, a lookup, a timer) holds one, dropped in its completion.  The
 * last reference frees it.  What happened to it are facts (cancelled,
 * bye, terminated), never a phase that steers a free. */
struct call {
	/* What a call rarely needs (a channel's copy, a subscription): the
	 * home's table of blocks is made at its first allocation, and what
	 * every member needs is in blocks of the call's own (ids, the offer,
	 * the SDP), so a member's call has none (docs/performance.md,
	 * "Members held"). */
	su_home_t home[1];
	unsigned refs;
	struct sipua *ua;
	struct call *calls_next, **calls_prev; /* in ua->calls */
	struct dialog dlg;
	uint64_t space_id;
	struct space_member *member; /* NULL when not a member */
	unsigned committing;         /* its membership's commits in flight */
	/* Comments numbered up to this (ua->comments_queued) reach it in
	 * its history, not live (comments.c); 0: none do. */
	unsigned history_to;
	/* A personal session: left the space to its own service (patent
	 * 0086), on its own channel. */
	struct channel *personal;
	enum space_delivery delivery; /* kept for a personal session */
	unsigned pt;
	struct call_media media;
	struct sub *sub;
	struct step *after_reinvite; /* a REFER's outcome waits on it */
	bool answered;               /* a final answer went to its INVITE */
	bool cancelled;              /* CANCEL came before our final answer */
	bool bye;                    /* the session ended by BYE (either way) */
	bool terminated;             /* nua has finished with the dialog */
	bool host_back;              /* a lost host dialling in again */
	bool invited;                /* we INVITEd it (the host's REFER) */
	bool resuming; /* restored: our re-INVITE takes the dialog up */
	char user[];   /* at most USER_MAX - 1 characters */
};

/* The one kind of continuation: what an asynchronous step (a commit, a
 * lookup) carries, with a reference on each object it needs. */
struct step {
	su_home_t home[1]; /* first: owns the strings below */
	struct sipua *ua;
	struct call *c;   /* a reference, or NULL */
	nua_handle_t *nh; /* a reference, when a request waits for it */
	nua_saved_event_t saved[1];
	uint64_t space_id;
	void (*done)(struct step *s, int error);
	char by[USER_MAX];
	char who[USER_MAX];
	char *text;
	struct channel *old;     /* /switch: the channel before */
	sip_event_t *event;      /* REFER: its subscription's event */
	struct space_plan plan;  /* a start: what the core planned */
	struct channel *channel; /* a copy of the plan's channel */
	struct call **calls;     /* an end: who gets BYE once it is stored */
	unsigned n_calls;
	bool on;
	unsigned comment_no; /* a comment: its number (comments.c) */
	uint64_t value;      /* what a statement answered */
	/* a service looked up */
	bool by_id; /* by its id, not as the user's default */
	bool has_svc;
	struct space_service svc;
	unsigned played_today;
};

struct verdict_map {
	int status;
	const char *phrase;
};

/* -- call.c: dialogs with members, responses --------------------------- */

struct call *ua_call_new(struct sipua *ua, nua_handle_t *nh, const char *user);
struct call *call_ref(struct call *c);
void call_unref(struct call *c);
/* The session is over or never came to be: CANCEL, BYE, or nua done. */
bool call_gone(const struct call *c);
void ua_call_capture_dialog(struct call *c, const sip_t *sip);
void ua_call_capture_uac(struct call *c, const sip_t *sip);
/* Our tag of a dialog we are the UAS of, known from its ACK. */
int ua_call_set_local_tag(struct call *c, const char *tag);
/* The calls left when the adapter goes (a stop that keeps the dialogs). */
void ua_calls_free(struct sipua *ua);
/* RFC 4028: the session timer of @a c's dialog after a request of the
 * member (its INVITE or re-INVITE) that nua answers with the interval
 * worked out here, or after the 2xx to an INVITE of ours. */
void ua_call_timer_asked(struct call *c, const sip_t *sip);
void ua_call_timer_answered(struct call *c, const sip_t *sip);
/* What a re-INVITE of ours asks (a refresh, §7.4): the session's
 * interval, at least the dialog's Min-SE (in @a ret_min_se); 0 when the
 * server runs no session timers. */
unsigned ua_call_timer_refresh(const struct call *c, unsigned *ret_min_se);
const struct channel *ua_call_channel(const struct call *c);
/* The SDP that points @a c at @a ch (a new version of the session's). */
char *ua_call_sdp(su_home_t *home, struct call *c, const struct channel *ch);
/* The re-offer that takes a restored dialog up (RFC 3264 §8): the SDP
 * the session had, as the server last sent it (members.local_sdp), at
 * version c->dlg.sdp_version; a relay member's c= and port those of its
 * new leg.  NULL when none is stored, it does not parse or it is for
 * another channel than @a ch. */
char *ua_call_resume_sdp(su_home_t *home, struct call *c,
			 const struct channel *ch);
/* A restored dialog's stored SDP @a text: its o= id and version, its
 * telephone-event payload type and ptime go on.  0 or -EBADMSG. */
int ua_call_restore_sdp(struct call *c, const char *text);
int ua_call_start_relay(struct call *c, const struct channel *ch,
			const char *addr, unsigned port, unsigned pt);
/* A relay member's legs to @a ch (a switch: no new SDP).  0 or -errno. */
int ua_call_switch_relay(struct call *c, const struct channel *ch);
/* A relay member's re-INVITE moved it: its legs send where @a o says
 * (each stream to the first line of its media).  0 or -EINVAL. */
int ua_call_retarget(struct call *c, const struct space_offer *o);
/* The member's answer to our re-offer of a picture-and-sound channel (a
 * restored dialog's): its legs send where it says.  0 or -EINVAL. */
int ua_call_take_answer(struct call *c, const sip_t *sip);
bool ua_read_offer(struct sipua *ua, nua_handle_t *nh, struct call *c,
		   const sip_t *sip);
void ua_call_stop_media(struct call *c);
void ua_call_unlink(struct call *c);
void ua_fill_store_member(const struct call *c, const struct space_member *m,
			  struct store_member *sm);
const char *ua_contact_of(su_home_t *home, struct sipua *ua, uint64_t id);
const char *ua_header_value(const sip_t *sip, const char *name);
int64_t ua_now(void);  /* ms on the monotonic clock */
int64_t ua_wall(void); /* unix seconds */
void ua_refuse(struct sipua *ua, nua_handle_t *nh, int status,
	       const char *phrase, const char *why, tag_type_t tag,
	       tag_value_t value, ...);
void ua_refuse_later(struct sipua *ua, nua_handle_t *nh, int status,
		     const char *phrase, const char *why);
void ua_reply(struct sipua *ua, nua_handle_t *nh, int status,
	      const char *phrase, const char *why);
void ua_reply_verdict(struct sipua *ua, nua_handle_t *nh, enum space_verdict v,
		      const char *why);
struct verdict_map ua_verdict_status(enum space_verdict v);
const char *ua_warning(su_home_t *home, struct sipua *ua, const char *text);
struct space *ua_space_of_uri(struct sipua *ua, const url_t *uri);
uint64_t ua_space_id_of_uri(const url_t *uri);
void ua_tell(struct call *c, const char *text);
void ua_tell_all(struct space *sp, struct call *except, const char *text);
void ua_tell_host(struct space *sp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The request being handled, its identity, and saving it. */
msg_t *ua_request(struct sipua *ua);
enum ident_source ua_ident(struct sipua *ua, const sip_t *sip, char *buf,
			   size_t len);
int ua_save_event(struct sipua *ua, nua_saved_event_t saved[1]);

/* -- step.c: continuations ------------------------------------------------ */

/* A step of @a c (may be NULL) in space @a space_id; with @a answer (the
 * handle of the request being handled) the request is kept to be answered
 * from the completion. */
struct step *ua_step(struct sipua *ua, struct call *c, nua_handle_t *answer,
		     uint64_t space_id, void (*done)(struct step *, int));
/* Answer the request the step saved (none for a remote control's key). */
void ua_step_reply(struct step *s, int status, const char *phrase,
		   const char *why);
void ua_step_free(struct step *s);
/* Completions for the store: run the step's done, then free it. */
void ua_step_stored(void *arg, int error);
void ua_step_value(void *arg, int error, uint64_t value);

/* -- lookup.c: services on demand ------------------------------------------ */

/* Find @a user's default service (@a id NULL) or service @a id, through
 * the cache (a start bypasses it with @a fresh: it needs today's played
 * time).  The step's done runs (now, or when the store answers) with
 * s->has_svc, s->svc, s->played_today, and the step is freed. */
void ua_lookup(struct step *s, const char *user, const char *id, bool fresh);
/* NOTIFY tvspace: a row of services changed ("service ID USER"). */
void ua_service_changed(struct sipua *ua, const char *id, const char *user);

/* -- comments.c ------------------------------------------------------------ */

void ua_comment(struct sipua *ua, nua_handle_t *nh,
		const struct space_member *m, const sip_payload_t *pl,
		bool own_handle);
void ua_send_history(struct call *c);

/* -- conference.c: the room's state (RFC 4575) ----------------------------- */

int ua_rooms_init(struct sipua *ua);
void ua_on_subscribe(struct sipua *ua, nua_handle_t *nh, struct call *c,
		     const sip_t *sip);
/* Something of @a sp changed: its subscribers are told (coalesced). */
void ua_room_changed(struct sipua *ua, struct space *sp);
/* @a user left @a sp: its members are told (a burst in one MESSAGE, at
 * most one a second). */
void ua_room_departed(struct sipua *ua, struct space *sp, const char *user);
/* @a user left @a sp, @a how (RFC 4575 disconnection-method): call it
 * where the member goes, before or after the core removes it; a departure
 * nobody names is "departed" ("failed" for a lost host). */
void ua_room_left(struct sipua *ua, struct space *sp, const char *user,
		  enum confinfo_how how);
/* nua's answer @a status to a NOTIFY of @a c's subscription: one that
 * failed without ending the subscription (481 and 408 end it) leaves the
 * subscriber a version behind; it gets the full state next.  For sipua.c's
 * nua_r_notify. */
void ua_sub_answered(struct call *c, int status);
/* Space @a id ended: the last NOTIFY ends the subscriptions. */
void ua_room_ended(struct sipua *ua, uint64_t id);
void ua_sub_drop(struct call *c);

/* -- act.c: carrying out the core's verdicts ---------------------------- */

/* The SDP @a c's session has now (sent in a 2xx, or answered with one)
 * is stored, when it changed. */
void ua_call_store_sdp(struct call *c);
void ua_accept(struct call *c);
/* The answer ua_accept() will send, made ahead into the dialog's
 * local_sdp, so that the admission's row carries it (no UPDATE after the
 * 200 when it has not changed by then). */
void ua_answer_ahead(struct call *c);
void ua_end_space(struct sipua *ua, struct space *sp, const char *text,
		  struct call *except);
/* @a c's membership ends: BYE (@a failed false) or its dialog failed. */
void ua_member_gone(struct sipua *ua, struct call *c, const char *why,
		    bool failed);
/* The host (or the operator, @a by "operator") removes @a m. */
void ua_remove_member(struct sipua *ua, struct space_member *m, const char *who,
		      const char *by);
void ua_repoint(struct call *c);
/* Every member of @a sp to its new channel; @a old is the one before. */
void ua_repoint_all(struct space *sp, const struct channel *old);
void ua_on_repointed(struct sipua *ua, struct call *c, int status,
		     sip_t const *sip);
/* The guide's programme of @a sp now: stored, and its next change
 * scheduled. */
void ua_programme(struct sipua *ua, struct space *sp);
/* @a c's dialog ended: its unanswered re-INVITE leaves the window. */
void ua_repoint_gone(struct call *c);
/* The core's deadlines: set the timer to the soonest. */
void ua_schedule(struct sipua *ua);
int ua_act_init(struct sipua *ua);
void ua_act_stop(struct sipua *ua);
/* A join request's text to the host. */
void ua_ask_host(struct space *sp, const struct space_member *m);

/* -- the flows ------------------------------------------------------------- */

void ua_on_start(struct sipua *ua, nua_handle_t *nh, const char *user,
		 const sip_t *sip);
/* CANCEL of a start whose space is opened (its 200 lost the race). */
void ua_start_cancelled(struct sipua *ua, struct call *c);
void ua_on_join(struct sipua *ua, nua_handle_t *nh, const char *user,
		uint64_t id, const sip_t *sip);
void ua_admit(struct sipua *ua, struct call *c);
void ua_on_cancel(struct sipua *ua, struct call *c);
void ua_on_text(struct sipua *ua, nua_handle_t *nh, struct call *c,
		const sip_t *sip);
void ua_on_stray_message(struct sipua *ua, nua_handle_t *nh, const sip_t *sip);
void ua_on_key(void *arg, struct media_leg *leg, char key);
void ua_leave_to_service(struct sipua *ua, nua_handle_t *nh, struct call *c,
			 const char *service_id, const sip_event_t *ev,
			 bool refer);
void ua_on_refer(struct sipua *ua, nua_handle_t *nh, struct call *c,
		 const sip_t *sip, tagi_t const *tags);
void ua_on_invited(struct sipua *ua, struct call *g, int status,
		   const sip_t *sip);
bool ua_on_social(struct sipua *ua, nua_handle_t *nh, struct call *c,
		  const struct cmd *cmd);

/* -- gate.c: rate limits and who is asking -------------------------------- */

int ua_gate_init(struct sipua *ua);
void ua_gate_destroy(struct sipua *ua);
/* A request outside a dialog: true when it may go on now; false when the
 * gate answered it (503, 401, 403) or holds it while the user's secrets
 * are read (then it is handed to ua->dispatch once authenticated). */
bool ua_gate(struct sipua *ua, nua_event_t event, nua_handle_t *nh,
	     const sip_t *sip);
void ua_gate_destroy_later(struct sipua *ua, nua_handle_t *nh);
void ua_gate_forget(struct sipua *ua, nua_handle_t *nh);

#endif
