/* The gate of requests outside a dialog (INVITE, SUBSCRIBE, MESSAGE,
 * REFER): per-source rate limiting, then who is asking (PROTOCOL.md "Who
 * is asking").  A trusted peer's P-Asserted-Identity, or in development
 * mode the From of a loopback request, lets the request through at once;
 * anyone else must answer a digest challenge (RFC 3261 §22, RFC 7616, RFC
 * 8760).  The user's HA1 comes from the store, so an authenticated request
 * is saved (nua_save_event) while the database answers, then handed to the
 * ordinary handlers (ua->dispatch, left by sipua.c) as if it had just
 * arrived, with its identity: the handlers ask ua_ident() and answer with
 * ua_request().  Part of the SIP adapter; one su_root thread.
 *
 * Unknown users and wrong passwords get the same answer after the same
 * work: the same query, a digest computed against the dummy user's secret
 * for an unknown one, the same 403 and Warning.
 *
 * Guessing is limited per user too (server/guard.h): each wrong response
 * counts, whether its nonce was fresh or reused, and past auth_failures in
 * a row the user's credentials are not even looked at (503 with
 * Retry-After) for a lockout that doubles with each further failure.  A
 * source the user has authenticated from keeps a count of its own, so a
 * guesser elsewhere cannot lock the user out.  Unknown users are counted
 * the same, so a lockout does not say who exists.  Each failure is logged
 * in one line, source address first, for fail2ban. */
#define LOG_MODULE "sip"
#include "sip/sipua_int.h"

#include <sys/random.h>

#include <sofia-sip/auth_digest.h>

#include "server/guard.h"
#include "server/ratelimit.h"
#include "sip/digest.h"

/* Sources whose buckets are kept; beyond, the longest idle gives way. */
#define RATE_SLOTS 4096
/* Nonces whose last nonce-count is kept, against replays. */
#define NC_SLOTS 4096
/* Users (and their known sources) whose failures are counted. */
#define GUARD_SLOTS 4096
/* A day without a failure clears a user's count. */
#define GUARD_FORGET 86400

#define AUTH_FAILED "authentication failed"

/* A request whose credentials wait for the user's secrets. */
struct gate_wait {
	struct sipua *ua;
	nua_handle_t *nh;
	nua_saved_event_t saved[1];
	struct digest_cred cred;
	char method[32];
	char src[64];
	bool gone; /* cancelled, or the handle ended, meanwhile */
	struct gate_wait *next;
};

/* The last nonce-count accepted with a nonce (RFC 7616 §3.4: a server
 * that keeps it can refuse a replay). */
struct gate_nc {
	char nonce[DIGEST_NONCE_LEN + 1];
	uint32_t nc;
	int64_t until; /* the nonce is stale after this anyway */
};

/* A refused REFER's handle, ended a while after its answer. */
struct gate_later {
	struct sipua *ua;
	nua_handle_t *nh;
	su_timer_t *timer;
	struct gate_later *next;
};

struct gate {
	su_home_t home[1]; /* first: su_home_new() */
	struct ratelimit *rl;
	struct gate_wait *waits;
	struct gate_later *later;
	struct gate_nc nc[NC_SLOTS];
	struct guard *guard; /* failed authentications per user */
};

static void gate_destructor(void *arg)
{
	struct gate *g = arg;

	/* The handles themselves go with nua. */
	for (struct gate_later *l = g->later; l; l = l->next)
		su_timer_destroy(l->timer);
	g->rl = ratelimit_free(g->rl);
	g->guard = guard_free(g->guard);
}

int ua_gate_init(struct sipua *ua)
{
	struct gate *g = su_home_new(sizeof(*g));
	uint32_t seed = 0;

	if (!g)
		return -ENOMEM;
	/* The guard's hash seed: nobody may pick names that collide. */
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint32_t)su_random();
	if (su_home_destructor(g->home, gate_destructor) < 0 ||
	    !(g->rl = ratelimit_new(RATE_SLOTS)) ||
	    !(g->guard = guard_new(GUARD_SLOTS, seed)) || digest_init() < 0) {
		su_home_unref(g->home);
		return -ENOMEM;
	}
	ua->gate = g;
	return 0;
}

void ua_gate_destroy(struct sipua *ua)
{
	if (ua->gate)
		su_home_unref(ua->gate->home);
	ua->gate = NULL;
}

static void later_expired(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	struct gate_later *l = arg, **pp;
	struct sipua *ua = l->ua;

	for (pp = &ua->gate->later; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	su_timer_destroy(l->timer);
	nua_handle_destroy(l->nh);
	su_free(ua->gate->home, l);
}

/* sofia-sip 1.12.11 crashes (a timer of the stack's thread, some seconds
 * later) when the handle of a REFER refused outside a dialog is destroyed
 * right after the answer; it is destroyed once the transaction is surely
 * over (RFC 3261 Timer J: 32 s over UDP). */
void ua_gate_destroy_later(struct sipua *ua, nua_handle_t *nh)
{
	struct gate *g = ua->gate;
	struct gate_later *l = su_zalloc(g->home, sizeof(*l));

	if (l)
		l->timer = su_timer_create(su_root_task(ua->root), 40000);
	if (!l || !l->timer || su_timer_set(l->timer, later_expired, l) < 0) {
		/* Out of memory: keep the handle until nua goes, rather
		 * than crash. */
		if (l && l->timer)
			su_timer_destroy(l->timer);
		su_free(g->home, l);
		return;
	}
	l->ua = ua;
	l->nh = nh;
	l->next = g->later;
	g->later = l;
}

/* The guard's policy, from the configuration in force. */
static struct guard_policy guard_policy(const struct cfg *cfg)
{
	struct guard_policy p = {
	    .failures = cfg->auth_failures,
	    .delay = cfg->auth_lockout,
	    .max_delay = cfg->auth_lockout_max,
	    .forget = GUARD_FORGET,
	};

	return p;
}

/* Seconds on the monotonic clock: lockouts are durations. */
static int64_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

struct guard *sipua_guard(struct sipua *ua, struct guard_policy *ret_policy)
{
	if (!ua || !ua->gate)
		return NULL;
	*ret_policy = guard_policy(ua->cfg);
	return ua->gate->guard;
}

long long sipua_guard_now(void)
{
	return mono_s();
}

/* Answer @a w's saved request, or the current one when @a w is NULL; a
 * handle of ours outside a dialog (not an INVITE's) ends with it. */
static void answer(struct sipua *ua, struct gate_wait *w, nua_handle_t *nh,
		   nua_event_t event, int status, const char *phrase,
		   const char *why, bool stale, unsigned retry_after)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	const char *realm = cfg_realm(ua->cfg);
	char chal[2][300], ra[16];
	unsigned n = ua->cfg->n_digest_algorithms;
	int64_t now = ua_wall();
	bool challenge = status == 401;

	/* RFC 8760 §2.4 and RFC 7616 §3.7: one challenge per algorithm, the
	 * preferred first. */
	for (unsigned i = 0; challenge && i < ua->cfg->n_digest_algorithms;
	     i++) {
		enum digest_alg alg =
		    ua->cfg->digest_algorithms[i] == CFG_DIGEST_SHA256
			? DIGEST_SHA256
			: DIGEST_MD5;

		if (digest_challenge(chal[i], sizeof(chal[i]), alg, realm, now,
				     stale) < 0) {
			status = 500;
			phrase = sip_500_Internal_server_error;
			why = "cannot make a challenge (auth_realm too long?)";
			challenge = false;
		}
	}
	snprintf(ra, sizeof(ra), "%u", retry_after);
	stats_refusal((unsigned)status);
	nua_respond(
	    nh, status, phrase,
	    NUTAG_WITH(w ? nua_saved_event_request(w->saved)
			 : nua_current_request(ua->nua)),
	    SIPTAG_WARNING_STR(ua_warning(home, ua, why)),
	    TAG_IF(challenge, SIPTAG_WWW_AUTHENTICATE_STR(chal[0])),
	    TAG_IF(challenge && n > 1, SIPTAG_WWW_AUTHENTICATE_STR(chal[1])),
	    TAG_IF(retry_after, SIPTAG_RETRY_AFTER_STR(ra)), TAG_END());
	/* An INVITE's handle ends with its transaction (on_state); others
	 * end here. */
	if (event == nua_i_refer)
		ua_gate_destroy_later(ua, nh);
	else if (event != nua_i_invite)
		nua_handle_destroy(nh);
	su_home_deinit(home);
}

/* The Digest credentials for our realm, if the request has any. */
static const sip_authorization_t *
our_credentials(const sip_t *sip, const char *realm, bool *ret_other)
{
	const sip_authorization_t *au;

	*ret_other = false;
	for (au = sip->sip_authorization; au; au = au->au_next) {
		const char *r;

		if (!au->au_scheme || !su_casematch(au->au_scheme, "Digest"))
			continue;
		r = msg_params_find(au->au_params, "realm");
		if (r && (auth_strcmp(r, realm) == 0))
			return au;
		*ret_other = true;
	}
	return NULL;
}

/* Whether the nonce-count of @a cred is new for its nonce; when it is, it
 * is kept (the credentials are right: only then is it worth a slot). */
static bool nc_fresh(struct gate *g, const struct digest_cred *cred,
		     int64_t now, unsigned lifetime)
{
	struct gate_nc *slot = NULL;

	for (unsigned i = 0; i < NC_SLOTS; i++) {
		struct gate_nc *e = &g->nc[i];

		if (e->nonce[0] && strcmp(e->nonce, cred->nonce) == 0) {
			if (cred->nc_value <= e->nc)
				return false;
			e->nc = cred->nc_value;
			return true;
		}
		/* A free slot, else the one nearest its end (an expired
		 * nonce's first: a replay of it is refused as stale). */
		if (!slot || (slot->nonce[0] &&
			      (!e->nonce[0] || e->until < slot->until)))
			slot = e;
	}
	snprintf(slot->nonce, sizeof(slot->nonce), "%s", cred->nonce);
	slot->nc = cred->nc_value;
	slot->until = now + (int64_t)lifetime;
	return true;
}

/* The user's secrets are here (or the database failed): decide. */
static void secrets_read(void *arg, int error, const char *ha1_md5,
			 const char *ha1_sha256)
{
	struct gate_wait *w = arg, **pp;
	struct sipua *ua = w->ua;
	struct gate *g = ua->gate;
	nua_saved_event_t const *saved = w->saved;
	const nua_event_data_t *e = nua_event_data(saved);
	nua_event_t event = e ? e->e_event : nua_i_error;
	int64_t now = ua_wall();
	enum digest_nonce ns;
	bool ok;

	for (pp = &g->waits; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	if (w->gone || !e)
		goto out;
	if (error) {
		log_warn("digest: secrets of %s not read (%s)",
			 w->cred.username, strerror(-error));
		answer(ua, w, w->nh, event, SIP_503_SERVICE_UNAVAILABLE,
		       "database unavailable, try again", false, 5);
		goto out;
	}
	ok = digest_verify(&w->cred,
			   w->cred.alg == DIGEST_SHA256 ? ha1_sha256 : ha1_md5,
			   w->method);
	if (!ok) {
		struct guard_policy pol = guard_policy(ua->cfg);
		unsigned n = 0;
		unsigned lock = guard_failed(g->guard, &pol, w->cred.username,
					     w->src, mono_s(), &n);

		/* fail2ban: the source first, before anything the client
		 * chose (docs/operations.md). */
		if (lock)
			log_notice("digest: authentication failed from %s for "
				   "user %s (%u in a row; locked out for %u s)",
				   w->src[0] ? w->src : "-", w->cred.username,
				   n, lock);
		else
			log_notice("digest: authentication failed from %s for "
				   "user %s (%u in a row)",
				   w->src[0] ? w->src : "-", w->cred.username,
				   n);
		answer(ua, w, w->nh, event, SIP_403_FORBIDDEN, AUTH_FAILED,
		       false, 0);
		goto out;
	}
	/* Right credentials on a nonce that is no longer good: stale=true
	 * lets the client retry without asking its user (RFC 7616 §3.3). */
	ns = digest_nonce_check(w->cred.nonce, now, ua->cfg->nonce_lifetime);
	if (ns != DIGEST_NONCE_FRESH) {
		answer(ua, w, w->nh, event, SIP_401_UNAUTHORIZED,
		       "nonce expired, authenticate again", true, 0);
		goto out;
	}
	if (!nc_fresh(g, &w->cred, now, ua->cfg->nonce_lifetime)) {
		log_info("digest: %s from %s: nonce count %s used before",
			 w->cred.username, w->src, w->cred.nc);
		answer(ua, w, w->nh, event, SIP_401_UNAUTHORIZED,
		       "nonce count used before, authenticate again", false, 0);
		goto out;
	}
	log_debug("digest: %s authenticated (%s)", w->cred.username,
		  w->cred.alg == DIGEST_SHA256 ? "SHA-256" : "MD5");
	/* Only now, fresh nonce and count: a replayed response proves no
	 * password and must not clear a count or make a source known. */
	guard_succeeded(g->guard, w->cred.username, w->src, mono_s());
	/* Handed on as if it had just arrived, with its identity. */
	ua->req.msg = NULL;
	ua->req.saved = w->saved;
	ua->req.user = w->cred.username;
	ua->dispatch(e->e_event, e->e_status, e->e_phrase, ua, w->nh,
		     nua_handle_magic(w->nh), sip_object(e->e_msg), e->e_tags);
	ua->req.saved = NULL;
	ua->req.user = NULL;
out:
	if (w->saved[0])
		nua_destroy_event(w->saved);
	nua_handle_unref(w->nh);
	su_free(ua->home, w);
}

/* The credentials' uri is the Request-URI, or (as SIPp and some phones
 * send it) the Request-URI's host and port without a user: either way
 * credentials for another server are not taken. */
static bool same_target(const url_t *uri, const url_t *ruri)
{
	if (url_cmp(uri, ruri) == 0)
		return true;
	return !uri->url_user && uri->url_type == ruri->url_type &&
	       uri->url_host && ruri->url_host &&
	       su_casematch(uri->url_host, ruri->url_host) &&
	       su_strmatch(url_port(uri), url_port(ruri));
}

static bool offered(const struct cfg *cfg, enum digest_alg alg)
{
	enum cfg_digest want =
	    alg == DIGEST_SHA256 ? CFG_DIGEST_SHA256 : CFG_DIGEST_MD5;

	for (unsigned i = 0; i < cfg->n_digest_algorithms; i++)
		if (cfg->digest_algorithms[i] == want)
			return true;
	return false;
}

/* Check the credentials of a request with an Authorization for us; the
 * secrets are asked of the store. */
static void authenticate(struct sipua *ua, nua_event_t event, nua_handle_t *nh,
			 const sip_t *sip, const sip_authorization_t *au,
			 const char *src)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct gate_wait *w = su_zalloc(ua->home, sizeof(*w));
	const char *why = NULL;
	char from[USER_MAX];
	struct guard_policy pol;
	unsigned wait;
	url_t *uri;
	int err;

	if (!w) {
		answer(ua, NULL, nh, event, SIP_500_INTERNAL_SERVER_ERROR,
		       "out of memory", false, 0);
		goto out;
	}
	if (digest_parse(au->au_params, &w->cred, &why) < 0) {
		answer(ua, NULL, nh, event, SIP_403_FORBIDDEN, why, false, 0);
		goto fail;
	}
	if (!offered(ua->cfg, w->cred.alg)) {
		answer(ua, NULL, nh, event, SIP_403_FORBIDDEN,
		       "credentials: algorithm not offered", false, 0);
		goto fail;
	}
	/* RFC 7616 §3.4.6: the uri names the request's target. */
	uri = url_make(home, w->cred.uri);
	if (!uri || !same_target(uri, sip->sip_request->rq_url)) {
		answer(ua, NULL, nh, event, SIP_403_FORBIDDEN,
		       "credentials: uri is not the request-URI", false, 0);
		goto fail;
	}
	/* The identity is the From URI, authenticated (PROTOCOL.md). */
	if (!sip->sip_from ||
	    ident_url_user(sip->sip_from->a_url, from, sizeof(from)) < 0 ||
	    strcmp(from, w->cred.username) != 0) {
		answer(ua, NULL, nh, event, SIP_403_FORBIDDEN,
		       "the From user must be the digest username", false, 0);
		goto fail;
	}
	/* A user locked out: the secrets are not even asked for. */
	pol = guard_policy(ua->cfg);
	wait =
	    guard_wait(ua->gate->guard, &pol, w->cred.username, src, mono_s());
	if (wait) {
		log_info("digest: authentication refused from %s for user %s: "
			 "locked out for %u s more",
			 src[0] ? src : "-", w->cred.username, wait);
		answer(ua, NULL, nh, event, SIP_503_SERVICE_UNAVAILABLE,
		       "too many failed authentications, try again later",
		       false, wait);
		goto fail;
	}
	if (ua_save_event(ua, w->saved) < 1) {
		answer(ua, NULL, nh, event, SIP_500_INTERNAL_SERVER_ERROR,
		       "out of memory", false, 0);
		goto fail;
	}
	w->ua = ua;
	w->nh = nua_handle_ref(nh);
	snprintf(w->method, sizeof(w->method), "%s",
		 sip->sip_request->rq_method_name);
	snprintf(w->src, sizeof(w->src), "%s", src);
	err = store_user_secrets(ua->db, w->cred.username, secrets_read, w);
	if (err < 0) {
		answer(ua, w, nh, event, SIP_503_SERVICE_UNAVAILABLE,
		       "database unavailable, try again", false, 5);
		nua_destroy_event(w->saved);
		nua_handle_unref(w->nh);
		goto fail;
	}
	w->next = ua->gate->waits;
	ua->gate->waits = w;
	goto out;
fail:
	su_free(ua->home, w);
out:
	su_home_deinit(home);
}

bool ua_gate(struct sipua *ua, nua_event_t event, nua_handle_t *nh,
	     const sip_t *sip)
{
	const struct cfg *cfg = ua->cfg;
	msg_t *msg = nua_current_request(ua->nua);
	const sip_authorization_t *au;
	char src[64], user[USER_MAX];
	bool believed, other;
	unsigned rate, wait_s = 1;

	ident_source_addr(msg, src, sizeof(src));
	/* Identities we believe without a challenge: a trusted peer's PAI
	 * (RFC 3325), a loopback From in development mode. */
	believed = ident_user(cfg, msg, sip, user, sizeof(user)) != IDENT_NONE;

	/* Those sources carry many users' traffic (an S-CSCF; the tests and
	 * benchmarks on one machine): their own limit, none by default. */
	rate = believed ? cfg->rate_limit_trusted : cfg->rate_limit;
	if (rate && src[0] &&
	    !ratelimit_take(ua->gate->rl, src, rate,
			    believed ? 2 * rate : cfg->rate_burst, ua_now(),
			    &wait_s)) {
		log_debug("rate limit: %s from %s refused",
			  sip->sip_request->rq_method_name, src);
		answer(ua, NULL, nh, event, SIP_503_SERVICE_UNAVAILABLE,
		       "too many requests from your address, slow down", false,
		       wait_s);
		return false;
	}
	if (believed)
		return true;
	au = our_credentials(sip, cfg_realm(cfg), &other);
	if (!au) {
		answer(ua, NULL, nh, event, SIP_401_UNAUTHORIZED,
		       other ? "credentials are for another realm"
			     : "authenticate with SIP digest (SHA-256 or MD5)",
		       false, 0);
		return false;
	}
	authenticate(ua, event, nh, sip, au, src);
	return false;
}

void ua_gate_forget(struct sipua *ua, nua_handle_t *nh)
{
	for (struct gate_wait *w = ua->gate ? ua->gate->waits : NULL; w;
	     w = w->next)
		if (w->nh == nh)
			w->gone = true;
}
