/* The SIP adapter's insides, shared by its files: sipua.c (nua events,
 * life), call.c (dialogs and responses), session.c (start, join, end,
 * re-pointing, played time, restart), control.c (commands, REFER),
 * comments.c and conference.c (RFC 4575).  Not for use outside sip/. */
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
#include "db/store.h"
#include "media/media.h"
#include "server/catalog.h"
#include "server/cfg.h"
#include "server/cmd.h"
#include "server/guide.h"
#include "server/log.h"
#include "server/space.h"
#include "server/stats.h"
#include "sip/confinfo.h"
#include "sip/ident.h"
#include "sip/sdpneg.h"
#include "sip/sipua.h"

#define USER_MAX    128
#define RETRY_AFTER "5"

struct leaving;
struct gate;

struct sipua {
	su_home_t home[1];
	su_root_t *root;
	nua_t *nua;
	const struct cfg *cfg;
	struct space_mgr *mgr;
	struct db *db;
	struct media *media;
	const struct guide *guide;
	su_timer_t *tick;
	struct call *subs;  /* calls carrying a conference subscription */
	struct gate *gate;  /* rate limits and digest authentication */
	char hostport[160]; /* where we are reached: for Contact */
	void (*shutdown_done)(void *arg);
	void *shutdown_arg;
	bool shutdown_final; /* nua_r_shutdown said it is done */
	void (*restore_done)(void *arg, int error);
	void *restore_arg;
};

enum call_phase {
	CALL_NEW,      /* INVITE received, nothing decided */
	CALL_STORING,  /* the store is committing the start or admission */
	CALL_WAITING,  /* pending: the host is asked */
	CALL_LIVE,     /* 200 sent: a member */
	CALL_RESUMING, /* restored: our re-INVITE is out */
	CALL_PERSONAL, /* left the space to its own service (patent 0086) */
	CALL_INVITING, /* the host's REFER: our INVITE to the user is out */
	CALL_GONE,     /* BYE sent or received; waiting for nua */
};

struct call {
	su_home_t home[1];
	struct sipua *ua;
	nua_handle_t *nh;
	enum call_phase phase;
	bool cancelled;  /* CANCEL or BYE while the store worked */
	bool terminated; /* nua has finished with the dialog */
	uint64_t space_id;
	char user[USER_MAX];
	struct space_member *member; /* NULL when not a member */
	struct space_offer offer;
	struct space_plan plan; /* start only */
	uint64_t sdp_id, sdp_version;
	const char *personal;    /* CALL_PERSONAL: its own channel's id */
	struct leaving *leaving; /* its REFER awaits the re-INVITE's answer */
	bool cpim;               /* its Accept lists message/cpim */
	bool host_back;          /* a lost host dialling in again */
	struct media_leg *leg;   /* relay delivery: our RTP to the member */
	struct cmd_dtmf dtmf;    /* keys pressed, not yet a command */
	unsigned relay_port;
	/* A conference subscription (RFC 4575) rides on this handle. */
	bool subscribed;
	uint64_t sub_space;           /* the space it watches */
	unsigned sub_version;         /* version of the last document sent */
	struct call *sub_next;        /* in ua->subs */
	enum space_delivery delivery; /* kept for a personal session */
	unsigned pt;
	bool reinvite_out;        /* our re-INVITE awaits its answer */
	su_time64_t repoint_sent; /* when it went, for the metrics */
	bool repoint_again;       /* the channel changed meanwhile */
	su_timer_t *glare;        /* RFC 3261 §14.1 retry after 491 */
	/* The dialog, as stored for a restart (RFC 3261 §12). */
	char *call_id, *local_tag, *remote_tag;
	char *local_uri, *remote_uri, *remote_target, *route_set;
};

struct verdict_map {
	int status;
	const char *phrase;
};

/* call.c: dialogs with members, responses */
void ua_call_accept(struct call *c);
char *ua_call_answer(su_home_t *home, struct call *c, const struct channel *ch);
void ua_call_capture_dialog(struct call *c, const sip_t *sip);
const struct channel *ua_call_channel(const struct call *c);
void ua_call_free(struct call *c);
struct call *ua_call_new(struct sipua *ua, nua_handle_t *nh, const char *user);
int ua_call_start_relay(struct call *c, const struct channel *ch,
			const char *addr, unsigned port, unsigned pt);
void ua_call_stop_media(struct call *c);
void ua_call_tell(struct call *c, const char *text);
void ua_call_unlink(struct call *c);
const char *ua_contact_of(su_home_t *home, struct sipua *ua, uint64_t id);
void ua_fill_store_member(const struct call *c, const struct space_member *m,
			  struct store_member *sm);
const char *ua_header_value(const sip_t *sip, const char *name);
int64_t ua_now_s(void);
void ua_refuse(struct sipua *ua, nua_handle_t *nh, int status,
	       const char *phrase, const char *why, tag_type_t tag,
	       tag_value_t value, ...);
void ua_refuse_later(struct sipua *ua, nua_handle_t *nh, int status,
		     const char *phrase, const char *why);
void ua_reply(struct sipua *ua, nua_handle_t *nh, int status,
	      const char *phrase, const char *why);
void ua_reply_verdict(struct sipua *ua, nua_handle_t *nh, enum space_verdict v,
		      const char *why);
struct space *ua_space_of_uri(struct sipua *ua, const url_t *uri);
void ua_tell_all(struct space *sp, struct call *except, const char *text);
void ua_tell_host(struct space *sp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
struct verdict_map ua_verdict_status(enum space_verdict v);
const char *ua_warning(su_home_t *home, struct sipua *ua, const char *text);

/* sipua.c: a request, or an event, to its handler */
void ua_dispatch(nua_event_t event, int status, char const *phrase,
		 struct sipua *ua, nua_handle_t *nh, struct call *c,
		 sip_t const *sip, tagi_t const tags[]);

/* gate.c: rate limits and who is asking (PROTOCOL.md "Who is asking") */
int ua_gate_init(struct sipua *ua);
void ua_gate_destroy(struct sipua *ua);
/* A request outside a dialog: true when it may go on now; false when the
 * gate answered it (503, 401, 403) or holds it while the user's secrets
 * are read (it is then handed to ua_dispatch() once authenticated). */
bool ua_gate(struct sipua *ua, nua_event_t event, nua_handle_t *nh,
	     const sip_t *sip);
/* End the handle of a REFER refused outside a dialog, later. */
void ua_gate_destroy_later(struct sipua *ua, nua_handle_t *nh);
/* @a nh was cancelled or ended: a request held for it is dropped. */
void ua_gate_forget(struct sipua *ua, nua_handle_t *nh);
/* The request being handled: the stack's current one, or the one the gate
 * hands on (answer with NUTAG_WITH(ua_request(ua))). */
msg_t *ua_request(struct sipua *ua);
/* nua_save_event() for the request being handled. */
int ua_save_event(struct sipua *ua, nua_saved_event_t saved[1]);
/* The user ID of the request being handled (ident_user(), or the digest
 * username the gate authenticated). */
enum ident_source ua_ident(struct sipua *ua, const sip_t *sip, char *buf,
			   size_t len);

/* session.c: the life of spaces */
void ua_admit(struct sipua *ua, struct call *c);
void ua_end_space(struct sipua *ua, struct space *sp, const char *text,
		  struct call *except);
/* A command answered after a commit: the request saved until then. */
struct deferred {
	struct sipua *ua;
	nua_handle_t *nh;
	nua_saved_event_t saved[1];
	uint64_t space_id;
	const struct channel *old; /* /switch: the channel before */
	char by[USER_MAX];
	char to[USER_MAX];
};
struct deferred *ua_defer(struct sipua *ua, nua_handle_t *nh, uint64_t space_id,
			  const char *by);
/* Answer the saved request (none for a remote control's key) and free. */
void ua_deferred_reply(struct deferred *d, int status, const char *phrase,
		       const char *why);
/* /friend, /unfriend, /quiz and /answer (sip/social.c); false when @a cmd
 * is none of them. */
bool ua_on_social(struct sipua *ua, nua_handle_t *nh, struct call *c,
		  const struct cmd *cmd);
void ua_member_left(struct sipua *ua, struct call *c, const char *why);
/* A member's dialog failed (@a why): a guest leaves; a host is lost and
 * the space waits host_grace for it (PROTOCOL.md "When the host is
 * lost"). */
void ua_member_failed(struct sipua *ua, struct call *c, const char *why);
/* The grace of @a sp's lost host is over: promote or end. */
void ua_host_grace_over(struct sipua *ua, struct space *sp);
void ua_on_join(struct sipua *ua, nua_handle_t *nh, const char *user,
		uint64_t id, const sip_t *sip);
void ua_on_repointed(struct sipua *ua, struct call *c, int status,
		     sip_t const *sip);
void ua_on_resumed(struct sipua *ua, struct call *c, int status);
void ua_on_start(struct sipua *ua, nua_handle_t *nh, const char *user,
		 const sip_t *sip);
void ua_quota_tick(struct sipua *ua, int64_t now);
void ua_repoint(struct call *c);
void ua_repoint_all(struct space *sp);

/* control.c: commands and REFER */
void ua_on_key(void *arg, struct media_leg *leg, char key);
void ua_leaving_done(struct call *c, int status);
void ua_on_invited(struct sipua *ua, struct call *g, int status,
		   const sip_t *sip);
void ua_on_refer(struct sipua *ua, nua_handle_t *nh, struct call *c,
		 const sip_t *sip, tagi_t const *tags);
void ua_on_text(struct sipua *ua, nua_handle_t *nh, struct call *c,
		const sip_t *sip);

/* comments.c: comments (claim 4) */
void ua_on_comment(struct sipua *ua, nua_handle_t *nh,
		   const struct space_member *m, const sip_payload_t *pl,
		   bool own_handle);
void ua_on_stray_message(struct sipua *ua, nua_handle_t *nh, const sip_t *sip);
void ua_send_history(struct call *c);

/* conference.c: the room's state (RFC 4575) */
void ua_on_subscribe(struct sipua *ua, nua_handle_t *nh, struct call *c,
		     const sip_t *sip);
void ua_space_changed(struct sipua *ua, struct space *sp, bool ended);
void ua_sub_unlink(struct call *c);

#endif
