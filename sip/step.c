/* The one kind of continuation of the SIP adapter.  Whatever an
 * asynchronous step needs later (a commit, a lookup, a re-INVITE's answer)
 * travels in a struct step: a reference on the call, the request to
 * answer (saved with nua_save_event and the handle referenced), the
 * space's id, and a few values.  The completion runs the step's `done`
 * and frees it, whichever way it ended, so every reference taken before
 * the call is dropped after it (libre's mem_ref/mem_deref, Kamailio's
 * dlg_ref/dlg_unref).  Part of the SIP adapter; one su_root thread. */
#define LOG_MODULE "sip"
#include "sip/sipua_int.h"

struct step *ua_step(struct sipua *ua, struct call *c, nua_handle_t *answer,
		     uint64_t space_id, void (*done)(struct step *, int))
{
	struct step *s = su_home_new(sizeof(*s));

	if (!s)
		return NULL;
	if (answer) {
		if (ua_save_event(ua, s->saved) < 1) {
			su_home_unref(s->home);
			return NULL;
		}
		s->nh = nua_handle_ref(answer);
	}
	s->ua = ua;
	s->c = call_ref(c);
	s->space_id = space_id;
	s->done = done;
	return s;
}

void ua_step_reply(struct step *s, int status, const char *phrase,
		   const char *why)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};

	if (!s->nh || !s->saved[0])
		return; /* a remote control's key: nothing to answer */
	if (status >= 300)
		stats_refusal((unsigned)status);
	nua_respond(s->nh, status, phrase, NUTAG_WITH_SAVED(s->saved),
		    TAG_IF(why && status >= 300,
			   SIPTAG_WARNING_STR(why ? ua_warning(home, s->ua, why)
						  : NULL)),
		    TAG_IF(status == 503, SIPTAG_RETRY_AFTER_STR(RETRY_AFTER)),
		    TAG_END());
	nua_destroy_event(s->saved);
	su_home_deinit(home);
}

void ua_step_free(struct step *s)
{
	if (!s)
		return;
	if (s->saved[0])
		nua_destroy_event(s->saved);
	if (s->nh)
		nua_handle_unref(s->nh);
	call_unref(s->c);
	su_home_unref(s->home);
}

void ua_step_stored(void *arg, int error)
{
	struct step *s = arg;

	s->done(s, error);
	ua_step_free(s);
}

void ua_step_value(void *arg, int error, uint64_t value)
{
	struct step *s = arg;

	s->value = value;
	s->done(s, error);
	ua_step_free(s);
}
