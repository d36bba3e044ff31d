/* The space manager: spaces, members, roles, admissions and capacity.
 * Pure state: every decision depends only on the arguments and the state
 * held here, so check_space.c can drive it with a fake clock. */
#define LOG_MODULE "space"
#include "server/space.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/su_string.h>

#include "server/catalog.h"
#include "server/log.h"
#include "server/quiz.h"

struct space {
	su_home_t home[1]; /* first member: owns the members and strings */
	struct space_mgr *mgr;
	struct space *next;
	uint64_t id;
	const char *service_id;
	const char *channel_id;
	bool open;
	int64_t started;
	int64_t counted_from;  /* played time before this is booked */
	uint32_t warned;       /* quota warnings sent today, by index */
	unsigned next_request; /* N of the next "/allow N" */
	unsigned next_seq;     /* admission order */
	struct space_member *members;
	char *lost_host; /* whose return the space waits for, or NULL */
	int64_t lost_at;
	struct quiz *quiz;
};

struct friendship {
	char *user, *friend;
};

struct booked {
	char *service;
	unsigned seconds;
};

struct space_mgr {
	su_home_t home[1];
	int64_t day_start;
	struct booked *booked; /* seconds booked today, per service */
	unsigned n_booked;
	const struct catalog *cat;
	struct space *spaces;
	unsigned n_spaces;
	unsigned admission_timeout;
	unsigned host_grace;
	bool auto_admit_friends;
	struct friendship *friends;
	unsigned n_friends, cap_friends;
};

static const char *const verdict_text[] = {
    [SPACE_OK] = "ok",
    [SPACE_NOT_FOUND] = "no such space",
    [SPACE_FULL] = "space full",
    [SPACE_ALREADY_MEMBER] = "already a member of this space",
    [SPACE_NO_SERVICE] = "no IPTV service subscribed",
    [SPACE_NOT_SUBSCRIBED] = "service not subscribed by this user",
    [SPACE_UNKNOWN_SERVICE] = "unknown service",
    [SPACE_UNKNOWN_CHANNEL] = "unknown channel",
    [SPACE_MEDIA_MISMATCH] = "offer cannot receive the channel's media",
    [SPACE_NOT_HOST] = "only the host can do that",
    [SPACE_NOT_MEMBER] = "not a member of this space",
    [SPACE_NO_SUCH_REQUEST] = "no such request",
    [SPACE_NO_SUCH_USER] = "no such member",
    [SPACE_LIMIT_REACHED] = "daily limit reached",
    [SPACE_HOST_ALREADY] = "already the host",
    [SPACE_NO_HOST] = "the host is away; wait for them or for the next host",
    [SPACE_NOT_ENTITLED] = "the channel is not in your package",
};

const char *space_verdict_str(enum space_verdict v)
{
	if ((unsigned)v < sizeof(verdict_text) / sizeof(verdict_text[0]) &&
	    verdict_text[v])
		return verdict_text[v];
	return "refused";
}

const char *space_role_str(enum space_role role)
{
	switch (role) {
	case SPACE_HOST:
		return "host";
	case SPACE_GUEST:
		return "guest";
	case SPACE_PENDING:
		return "pending";
	}
	return "?";
}

const char *space_delivery_str(enum space_delivery d)
{
	return d == SPACE_RELAY ? "relay" : "multicast";
}

struct space_mgr *space_mgr_create(su_home_t *parent, const struct catalog *cat)
{
	struct space_mgr *mgr = su_home_clone(parent, sizeof(*mgr));

	if (!mgr)
		return NULL;
	mgr->cat = cat;
	mgr->admission_timeout = 60;
	mgr->host_grace = 60;
	return mgr;
}

struct space_mgr *space_mgr_destroy(struct space_mgr *mgr)
{
	if (!mgr)
		return NULL;
	while (mgr->spaces)
		space_close(mgr->spaces);
	su_home_zap(mgr->home);
	return NULL;
}

void space_mgr_set_catalog(struct space_mgr *mgr, const struct catalog *cat)
{
	mgr->cat = cat;
}

const struct catalog *space_mgr_catalog(const struct space_mgr *mgr)
{
	return mgr->cat;
}

void space_mgr_set_admission_timeout(struct space_mgr *mgr, unsigned seconds)
{
	mgr->admission_timeout = seconds;
}

unsigned space_mgr_count(const struct space_mgr *mgr)
{
	return mgr->n_spaces;
}

/* The payload type the offer and the channel share, or -1.  RFC 3264 §6:
 * the answer may only use formats of the offer. */
static int common_pt(const struct space_offer *offer, const struct channel *ch)
{
	const char *want = ch->media == CHANNEL_AUDIO ? "audio" : "video";

	if (!offer->media || !su_casematch(offer->media, want))
		return -1;
	for (unsigned i = 0; i < offer->n_pts && i < SPACE_MAX_PT; i++)
		if (offer->pts[i] == ch->pt)
			return (int)ch->pt;
	return -1;
}

static enum space_delivery offer_delivery(const struct space_offer *offer)
{
	return offer->multicast || offer->want_multicast ? SPACE_MULTICAST
							 : SPACE_RELAY;
}

enum space_verdict space_plan_start(const struct space_mgr *mgr,
				    const char *user,
				    const struct space_offer *offer,
				    int64_t now, struct space_plan *ret)
{
	const struct service *svc;
	const struct channel *ch = NULL;
	int pt;

	if (offer->bc_service) {
		svc = catalog_service(mgr->cat, offer->bc_service);
		if (!svc)
			return SPACE_UNKNOWN_SERVICE;
		if (!su_strmatch(svc->user, user))
			return SPACE_NOT_SUBSCRIBED;
	}
	else {
		svc = catalog_user_service(mgr->cat, user);
		if (!svc)
			return SPACE_NO_SERVICE;
	}

	/* Patent 0041: the terminal names the channel it wants by the
	 * multicast address in its offer. */
	if (offer->multicast && offer->addr)
		ch = catalog_channel_by_group(mgr->cat, offer->addr,
					      offer->port);
	if (!ch && offer->bc_channel) {
		ch = catalog_channel_lookup(mgr->cat, offer->bc_channel);
		if (!ch)
			return SPACE_UNKNOWN_CHANNEL;
	}
	if (!ch && svc->default_channel)
		ch = catalog_channel(mgr->cat, svc->default_channel);
	if (!ch)
		return SPACE_UNKNOWN_CHANNEL;

	pt = common_pt(offer, ch);
	if (pt < 0)
		return SPACE_MEDIA_MISMATCH;
	if (!catalog_service_allows(svc, ch->id))
		return SPACE_NOT_ENTITLED;
	if (space_mgr_left_today(mgr, svc->id, now) == 0)
		return SPACE_LIMIT_REACHED;

	ret->service = svc;
	ret->channel = ch;
	ret->delivery = offer_delivery(offer);
	ret->pt = (unsigned)pt;
	return SPACE_OK;
}

static struct space *space_new(struct space_mgr *mgr, uint64_t id,
			       const char *service, const char *channel,
			       bool open, int64_t started)
{
	struct space *sp = su_home_clone(mgr->home, sizeof(*sp));

	if (!sp)
		return NULL;
	sp->mgr = mgr;
	sp->id = id;
	sp->service_id = su_strdup(sp->home, service);
	sp->channel_id = su_strdup(sp->home, channel);
	sp->open = open;
	sp->started = started;
	sp->counted_from = started;
	sp->next_request = 1;
	sp->next_seq = 1;
	if (!sp->service_id || !sp->channel_id) {
		su_home_unref(sp->home);
		return NULL;
	}
	sp->next = mgr->spaces;
	mgr->spaces = sp;
	mgr->n_spaces++;
	return sp;
}

/* Members stay in admission order with the pending ones at the end, so a
 * walk of the list is the order of the conference NOTIFY and of promotion. */
static void member_link(struct space *sp, struct space_member *m)
{
	struct space_member **pp = &sp->members;

	if (m->role == SPACE_PENDING) {
		while (*pp)
			pp = &(*pp)->next;
	}
	else {
		while (*pp && (*pp)->role != SPACE_PENDING &&
		       (*pp)->seq < m->seq)
			pp = &(*pp)->next;
	}
	m->next = *pp;
	*pp = m;
}

static void member_unlink(struct space_member *m)
{
	struct space_member **pp = &m->space->members;

	while (*pp && *pp != m)
		pp = &(*pp)->next;
	if (*pp)
		*pp = m->next;
	m->next = NULL;
}

static struct space_member *
member_new(struct space *sp, const char *user, const char *service,
	   enum space_role role, enum space_delivery delivery, unsigned pt,
	   const char *addr, unsigned port)
{
	struct space_member *m = su_zalloc(sp->home, sizeof(*m));

	if (!m)
		return NULL;
	m->space = sp;
	m->user = su_strdup(sp->home, user);
	m->service = service ? su_strdup(sp->home, service) : NULL;
	m->addr = addr ? su_strdup(sp->home, addr) : NULL;
	m->role = role;
	m->delivery = delivery;
	m->pt = pt;
	m->port = port;
	if (!m->user || (addr && !m->addr) || (service && !m->service)) {
		su_free(sp->home, (void *)m->user);
		su_free(sp->home, m);
		return NULL;
	}
	return m;
}

static void member_free(struct space_member *m)
{
	su_home_t *home = m->space->home;

	su_free(home, (void *)m->user);
	su_free(home, (void *)m->service);
	su_free(home, (void *)m->addr);
	su_free(home, m);
}

int space_open(struct space_mgr *mgr, uint64_t id, const char *user,
	       const struct space_plan *plan, const char *addr, unsigned port,
	       void *handle, int64_t now, struct space **ret_space)
{
	struct space *sp;
	struct space_member *host;

	if (space_find(mgr, id))
		return -EEXIST;
	sp = space_new(mgr, id, plan->service->id, plan->channel->id, false,
		       now);
	if (!sp)
		return -ENOMEM;
	host = member_new(sp, user, plan->service->id, SPACE_HOST,
			  plan->delivery, plan->pt, addr, port);
	if (!host) {
		space_close(sp);
		return -ENOMEM;
	}
	host->seq = sp->next_seq++;
	host->since = now;
	host->handle = handle;
	member_link(sp, host);
	*ret_space = sp;
	return 0;
}

int space_restore(struct space_mgr *mgr, uint64_t id, const char *service,
		  const char *channel, bool open, int64_t started,
		  int64_t counted_from, struct space **ret_space)
{
	struct space *sp;

	if (space_find(mgr, id))
		return -EEXIST;
	sp = space_new(mgr, id, service, channel, open, started);
	if (!sp)
		return -ENOMEM;
	if (counted_from > started)
		sp->counted_from = counted_from;
	*ret_space = sp;
	return 0;
}

int space_restore_member(struct space *sp, const char *user,
			 const char *service, enum space_role role,
			 enum space_delivery delivery, unsigned pt,
			 const char *addr, unsigned port, unsigned seq,
			 int64_t since, struct space_member **ret_member)
{
	struct space_member *m;

	if (role == SPACE_PENDING)
		return -EINVAL;
	if (space_member_by_user(sp, user))
		return -EEXIST;
	if (role == SPACE_HOST && space_host(sp))
		return -EEXIST;
	m = member_new(sp, user, service, role, delivery, pt, addr, port);
	if (!m)
		return -ENOMEM;
	m->seq = seq;
	m->since = since;
	if (seq >= sp->next_seq)
		sp->next_seq = seq + 1;
	member_link(sp, m);
	*ret_member = m;
	return 0;
}

struct space *space_find(const struct space_mgr *mgr, uint64_t id)
{
	for (struct space *sp = mgr->spaces; sp; sp = sp->next)
		if (sp->id == id)
			return sp;
	return NULL;
}

void space_mgr_foreach(struct space_mgr *mgr,
		       void (*fn)(void *arg, struct space *sp), void *arg)
{
	struct space *sp, *next;

	/* fn may close the space it is given. */
	for (sp = mgr->spaces; sp; sp = next) {
		next = sp->next;
		fn(arg, sp);
	}
}

uint64_t space_id(const struct space *sp)
{
	return sp->id;
}

const struct channel *space_channel(const struct space *sp)
{
	return catalog_channel(sp->mgr->cat, sp->channel_id);
}

const struct service *space_service(const struct space *sp)
{
	return catalog_service(sp->mgr->cat, sp->service_id);
}

struct space_member *space_host(const struct space *sp)
{
	for (struct space_member *m = sp->members; m; m = m->next)
		if (m->role == SPACE_HOST)
			return m;
	return NULL;
}

struct space_member *space_members(const struct space *sp)
{
	return sp->members;
}

unsigned space_count(const struct space *sp)
{
	unsigned n = 0;

	for (struct space_member *m = sp->members; m; m = m->next)
		if (m->role != SPACE_PENDING)
			n++;
	return n;
}

unsigned space_capacity(const struct space *sp)
{
	const struct service *svc = space_service(sp);

	/* A service removed from the table by a reload keeps its space
	 * running but admits no one new. */
	return svc ? svc->capacity : 0;
}

bool space_is_open(const struct space *sp)
{
	return sp->open;
}

int64_t space_started(const struct space *sp)
{
	return sp->started;
}

struct space_member *space_member_by_user(const struct space *sp,
					  const char *user)
{
	for (struct space_member *m = sp->members; m; m = m->next)
		if (su_strmatch(m->user, user))
			return m;
	return NULL;
}

/* Whether @a user's @a offer can take the space's channel: the payload
 * type in @a ret_pt, the user's own service in @a ret_own. */
static enum space_verdict fit_offer(const struct space *sp, const char *user,
				    const struct space_offer *offer,
				    int *ret_pt, const struct service **ret_own)
{
	const struct channel *ch = space_channel(sp);

	if (!ch)
		return SPACE_UNKNOWN_CHANNEL;
	*ret_pt = common_pt(offer, ch);
	if (*ret_pt < 0)
		return SPACE_MEDIA_MISMATCH;
	*ret_own = catalog_user_service(sp->mgr->cat, user);
	if (*ret_own && !catalog_service_allows(*ret_own, ch->id))
		return SPACE_NOT_ENTITLED;
	return SPACE_OK;
}

enum space_verdict space_join(struct space *sp, const char *user,
			      const struct space_offer *offer, void *handle,
			      int64_t now, struct space_member **ret_member)
{
	const struct service *own;
	struct space_member *m, *host;
	enum space_verdict v;
	bool friend;
	int pt;

	if (space_member_by_user(sp, user))
		return SPACE_ALREADY_MEMBER;
	/* A lost host's seat is kept for its return. */
	if (space_count(sp) + (sp->lost_host ? 1u : 0u) >= space_capacity(sp))
		return SPACE_FULL;
	v = fit_offer(sp, user, offer, &pt, &own);
	if (v != SPACE_OK)
		return v;
	host = space_host(sp);
	friend = !sp->open && sp->mgr->auto_admit_friends && host &&
		 space_mgr_is_friend(sp->mgr, host->user, user);
	m = member_new(sp, user, own ? own->id : NULL,
		       sp->open || friend ? SPACE_GUEST : SPACE_PENDING,
		       offer_delivery(offer), (unsigned)pt, offer->addr,
		       offer->port);
	if (!m)
		return SPACE_FULL; /* out of memory: refuse, don't crash */
	m->friend = friend;
	m->handle = handle;
	m->since = now;
	if (m->role == SPACE_PENDING)
		m->request = sp->next_request++;
	else
		m->seq = sp->next_seq++;
	member_link(sp, m);
	*ret_member = m;
	return SPACE_OK;
}

static struct space_member *pending_by_request(const struct space *sp,
					       unsigned request)
{
	for (struct space_member *m = sp->members; m; m = m->next)
		if (m->role == SPACE_PENDING && m->request == request)
			return m;
	return NULL;
}

enum space_verdict space_admit(struct space *sp, unsigned request, int64_t now,
			       struct space_member **ret_member)
{
	struct space_member *m = pending_by_request(sp, request);

	if (!m)
		return SPACE_NO_SUCH_REQUEST;
	*ret_member = m;
	if (space_count(sp) >= space_capacity(sp))
		return SPACE_FULL;
	member_unlink(m);
	m->role = SPACE_GUEST;
	m->seq = sp->next_seq++;
	m->since = now;
	member_link(sp, m);
	return SPACE_OK;
}

enum space_verdict space_pending(struct space *sp, unsigned request,
				 struct space_member **ret_member)
{
	struct space_member *m = pending_by_request(sp, request);

	if (!m)
		return SPACE_NO_SUCH_REQUEST;
	*ret_member = m;
	return SPACE_OK;
}

void space_unadmit(struct space_member *m)
{
	member_unlink(m);
	m->role = SPACE_PENDING;
	member_link(m->space, m);
}

void space_member_remove(struct space_member *m)
{
	member_unlink(m);
	member_free(m);
}

struct space_member *space_mgr_expired(const struct space_mgr *mgr, int64_t now)
{
	int64_t limit = (int64_t)mgr->admission_timeout;

	/* Without a host, joiners wait for the next one. */
	for (struct space *sp = mgr->spaces; sp; sp = sp->next)
		for (struct space_member *m = sp->members; m && !sp->lost_host;
		     m = m->next)
			if (m->role == SPACE_PENDING && now - m->since >= limit)
				return m;
	return NULL;
}

int64_t space_mgr_next_deadline(const struct space_mgr *mgr, int64_t now)
{
	int64_t best = -1;
	int64_t limit = (int64_t)mgr->admission_timeout;

	for (struct space *sp = mgr->spaces; sp; sp = sp->next) {
		if (sp->lost_host) {
			int64_t left =
			    sp->lost_at + (int64_t)mgr->host_grace - now;

			if (left < 0)
				left = 0;
			if (best < 0 || left < best)
				best = left;
			continue;
		}
		for (struct space_member *m = sp->members; m; m = m->next) {
			int64_t left;

			if (m->role != SPACE_PENDING)
				continue;
			left = m->since + limit - now;
			if (left < 0)
				left = 0;
			if (best < 0 || left < best)
				best = left;
		}
	}
	return best;
}

static void pass_remote(struct space *sp, struct space_member *m);

static bool is_host(const struct space *sp, const char *user)
{
	struct space_member *h = space_host(sp);

	return h && su_strmatch(h->user, user);
}

enum space_verdict space_switch(struct space *sp, const char *user,
				const char *id_or_number,
				const struct channel **ret_old)
{
	const struct channel *ch, *old = space_channel(sp);

	if (!is_host(sp, user))
		return SPACE_NOT_HOST;
	ch = catalog_channel_lookup(sp->mgr->cat, id_or_number);
	if (!ch)
		return SPACE_UNKNOWN_CHANNEL;
	/* Every member's session was negotiated for one media type. */
	if (old && old->media != ch->media)
		return SPACE_MEDIA_MISMATCH;
	/* The host switches only to what its own service may watch. */
	if (!catalog_service_allows(
		sp->service_id ? catalog_service(sp->mgr->cat, sp->service_id)
			       : NULL,
		ch->id))
		return SPACE_NOT_ENTITLED;
	if (ret_old)
		*ret_old = old;
	space_set_channel(sp, ch);
	return SPACE_OK;
}

void space_set_channel(struct space *sp, const struct channel *ch)
{
	const char *id = su_strdup(sp->home, ch->id);

	if (!id)
		return; /* keep the old channel rather than none */
	su_free(sp->home, (void *)sp->channel_id);
	sp->channel_id = id;
}

enum space_verdict space_handover(struct space *sp, const char *by,
				  const char *to)
{
	struct space_member *host = space_host(sp), *m;

	if (!host || !su_strmatch(host->user, by))
		return SPACE_NOT_HOST;
	m = space_member_by_user(sp, to);
	if (!m || m->role == SPACE_PENDING)
		return SPACE_NO_SUCH_USER;
	if (m == host)
		return SPACE_HOST_ALREADY;
	pass_remote(sp, m);
	return SPACE_OK;
}

/* The remote moves from the host to @a m. */
static void pass_remote(struct space *sp, struct space_member *m)
{
	struct space_member *host = space_host(sp);

	if (host)
		host->role = SPACE_GUEST;
	m->role = SPACE_HOST;
	for (struct space_member *x = sp->members; x; x = x->next)
		x->grab = 0; /* open requests were for the old host */
}

enum space_verdict space_grab(struct space *sp, const char *user, bool at_once,
			      unsigned *ret_request)
{
	struct space_member *m = space_member_by_user(sp, user);

	if (!m || m->role == SPACE_PENDING)
		return SPACE_NOT_MEMBER;
	if (m->role == SPACE_HOST)
		return SPACE_HOST_ALREADY;
	if (sp->lost_host)
		return SPACE_NO_HOST;
	if (at_once) {
		pass_remote(sp, m);
		*ret_request = 0;
		return SPACE_OK;
	}
	if (!m->grab)
		m->grab = sp->next_request++;
	*ret_request = m->grab;
	return SPACE_OK;
}

struct space_member *space_grabber(const struct space *sp, unsigned request)
{
	if (!request)
		return NULL;
	for (struct space_member *m = sp->members; m; m = m->next)
		if (m->grab == request && m->role == SPACE_GUEST)
			return m;
	return NULL;
}

enum space_verdict space_grab_answer(struct space *sp, unsigned request,
				     bool allow, struct space_member **ret)
{
	struct space_member *m = space_grabber(sp, request);

	if (!m)
		return SPACE_NO_SUCH_REQUEST;
	*ret = m;
	if (allow)
		pass_remote(sp, m);
	else
		m->grab = 0;
	return SPACE_OK;
}

bool space_member_entitled(const struct space_member *m,
			   const struct channel *ch)
{
	const struct service *svc =
	    m->service ? catalog_service(m->space->mgr->cat, m->service) : NULL;

	return catalog_service_allows(svc, ch->id);
}

int space_mgr_friend(struct space_mgr *mgr, const char *user,
		     const char *friend, bool on)
{
	struct friendship *f;

	for (unsigned i = 0; i < mgr->n_friends; i++) {
		f = &mgr->friends[i];
		if (!su_strmatch(f->user, user) ||
		    !su_strmatch(f->friend, friend))
			continue;
		if (!on) {
			su_free(mgr->home, f->user);
			su_free(mgr->home, f->friend);
			*f = mgr->friends[--mgr->n_friends];
		}
		return 0;
	}
	if (!on)
		return 0;
	if (mgr->n_friends == mgr->cap_friends) {
		unsigned cap = mgr->cap_friends ? 2 * mgr->cap_friends : 16;
		struct friendship *n = su_realloc(mgr->home, mgr->friends,
						  (isize_t)(cap * sizeof(*n)));

		if (!n)
			return -ENOMEM;
		mgr->friends = n;
		mgr->cap_friends = cap;
	}
	f = &mgr->friends[mgr->n_friends];
	f->user = su_strdup(mgr->home, user);
	f->friend = su_strdup(mgr->home, friend);
	if (!f->user || !f->friend) {
		su_free(mgr->home, f->user);
		su_free(mgr->home, f->friend);
		return -ENOMEM;
	}
	mgr->n_friends++;
	return 0;
}

bool space_mgr_is_friend(const struct space_mgr *mgr, const char *user,
			 const char *friend)
{
	for (unsigned i = 0; i < mgr->n_friends; i++)
		if (su_strmatch(mgr->friends[i].user, user) &&
		    su_strmatch(mgr->friends[i].friend, friend))
			return true;
	return false;
}

void space_mgr_set_auto_admit_friends(struct space_mgr *mgr, bool on)
{
	mgr->auto_admit_friends = on;
}

bool space_member_by_friendship(const struct space_member *m)
{
	return m->friend;
}

struct quiz *space_quiz(const struct space *sp)
{
	return sp->quiz;
}

void space_set_quiz(struct space *sp, struct quiz *q)
{
	if (sp->quiz && sp->quiz != q)
		quiz_free(sp->home, sp->quiz);
	sp->quiz = q;
}

su_home_t *space_home(struct space *sp)
{
	return sp->home;
}

void space_mgr_set_host_grace(struct space_mgr *mgr, unsigned seconds)
{
	mgr->host_grace = seconds;
}

int space_lose_host(struct space *sp, const char *user, int64_t now)
{
	struct space_member *host = space_host(sp);
	const char *name = user ? user : host ? host->user : NULL;
	char *who = name ? su_strdup(sp->home, name) : NULL;

	if (!who)
		return -ENOENT;
	if (host)
		space_member_remove(host);
	for (struct space_member *x = sp->members; x; x = x->next)
		x->grab = 0; /* they were asking the lost host */
	su_free(sp->home, sp->lost_host);
	sp->lost_host = who;
	sp->lost_at = now;
	return 0;
}

const char *space_lost_host(const struct space *sp)
{
	return sp->lost_host;
}

/* A host again: joiners waiting are asked of it from now. */
static void host_found(struct space *sp, int64_t now)
{
	su_free(sp->home, sp->lost_host);
	sp->lost_host = NULL;
	for (struct space_member *x = sp->members; x; x = x->next)
		if (x->role == SPACE_PENDING)
			x->since = now;
}

enum space_verdict space_host_back(struct space *sp, const char *user,
				   const struct space_offer *offer,
				   void *handle, int64_t now,
				   struct space_member **ret_member)
{
	const struct service *own;
	struct space_member *m;
	enum space_verdict v;
	int pt;

	if (!sp->lost_host || !su_strmatch(sp->lost_host, user))
		return SPACE_NOT_HOST;
	v = fit_offer(sp, user, offer, &pt, &own);
	if (v != SPACE_OK)
		return v;
	m = member_new(sp, user, own ? own->id : NULL, SPACE_HOST,
		       offer_delivery(offer), (unsigned)pt, offer->addr,
		       offer->port);
	if (!m)
		return SPACE_FULL;
	m->handle = handle;
	m->since = now;
	m->seq = sp->next_seq++;
	member_link(sp, m);
	host_found(sp, now);
	*ret_member = m;
	return SPACE_OK;
}

struct space *space_mgr_host_gone(const struct space_mgr *mgr, int64_t now)
{
	for (struct space *sp = mgr->spaces; sp; sp = sp->next)
		if (sp->lost_host &&
		    now - sp->lost_at >= (int64_t)mgr->host_grace)
			return sp;
	return NULL;
}

struct space_member *space_promote(struct space *sp, int64_t now)
{
	struct space_member *best = NULL;

	for (struct space_member *m = sp->members; m; m = m->next)
		if (m->role == SPACE_GUEST && (!best || m->seq < best->seq))
			best = m;
	if (!best)
		return NULL;
	best->role = SPACE_HOST;
	host_found(sp, now);
	return best;
}

enum space_verdict space_set_open(struct space *sp, const char *by, bool open)
{
	if (!is_host(sp, by))
		return SPACE_NOT_HOST;
	sp->open = open;
	return SPACE_OK;
}

unsigned space_played(const struct space *sp, int64_t now)
{
	return now > sp->started ? (unsigned)(now - sp->started) : 0;
}

void space_close(struct space *sp)
{
	struct space_mgr *mgr = sp->mgr;
	struct space **pp = &mgr->spaces;

	while (*pp && *pp != sp)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = sp->next;
		mgr->n_spaces--;
	}
	su_home_unref(sp->home);
}

/* -- played time and the daily limit ------------------------------------- */

static struct booked *booked_of(const struct space_mgr *mgr,
				const char *service)
{
	for (unsigned i = 0; i < mgr->n_booked; i++)
		if (su_strmatch(mgr->booked[i].service, service))
			return &mgr->booked[i];
	return NULL;
}

void space_mgr_new_day(struct space_mgr *mgr, int64_t day_start)
{
	for (unsigned i = 0; i < mgr->n_booked; i++)
		mgr->booked[i].seconds = 0;
	for (struct space *sp = mgr->spaces; sp; sp = sp->next) {
		sp->warned = 0;
		/* Time before midnight belongs to the old day; the caller
		 * booked it there. */
		if (sp->counted_from < day_start)
			sp->counted_from = day_start;
	}
	mgr->day_start = day_start;
}

int64_t space_mgr_day_start(const struct space_mgr *mgr)
{
	return mgr->day_start;
}

int space_mgr_add_booked(struct space_mgr *mgr, const char *service,
			 unsigned seconds)
{
	struct booked *b = booked_of(mgr, service), *nb;

	if (!b) {
		nb = su_realloc(mgr->home, mgr->booked,
				(isize_t)(sizeof(*nb) * (mgr->n_booked + 1)));
		if (!nb)
			return -ENOMEM;
		mgr->booked = nb;
		b = &nb[mgr->n_booked];
		b->service = su_strdup(mgr->home, service);
		b->seconds = 0;
		if (!b->service)
			return -ENOMEM;
		mgr->n_booked++;
	}
	b->seconds += seconds;
	return 0;
}

unsigned space_unbooked(const struct space *sp, int64_t now)
{
	return now > sp->counted_from ? (unsigned)(now - sp->counted_from) : 0;
}

void space_booked(struct space *sp, int64_t upto)
{
	if (upto <= sp->counted_from)
		return;
	/* Only the part within today counts against today. */
	if (upto > sp->mgr->day_start)
		space_mgr_add_booked(
		    sp->mgr, sp->service_id,
		    (unsigned)(upto - (sp->counted_from > sp->mgr->day_start
					   ? sp->counted_from
					   : sp->mgr->day_start)));
	sp->counted_from = upto;
}

unsigned space_mgr_played_today(const struct space_mgr *mgr,
				const char *service, int64_t now)
{
	const struct booked *b = booked_of(mgr, service);
	uint64_t total = b ? b->seconds : 0;

	for (const struct space *sp = mgr->spaces; sp; sp = sp->next)
		if (su_strmatch(sp->service_id, service))
			total += space_unbooked(sp, now);
	return total > UINT32_MAX ? UINT32_MAX : (unsigned)total;
}

unsigned space_mgr_left_today(const struct space_mgr *mgr, const char *service,
			      int64_t now)
{
	const struct service *svc = catalog_service(mgr->cat, service);
	unsigned played;

	if (!svc || !svc->daily_limit)
		return UINT32_MAX;
	played = space_mgr_played_today(mgr, service, now);
	return played >= svc->daily_limit ? 0 : svc->daily_limit - played;
}

bool space_warn_once(struct space *sp, unsigned i)
{
	uint32_t bit = (uint32_t)1 << (i & 31);

	if (sp->warned & bit)
		return false;
	sp->warned |= bit;
	return true;
}
