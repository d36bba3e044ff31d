/* The space manager: spaces, members, roles, admissions, capacity, the
 * daily limit's accounting and the policies that follow from time.  Pure
 * state: every decision depends only on the arguments and the state held
 * here, so check_space.c drives it with a fake clock.
 *
 * Indexes: spaces by id, members by (space, user), and the services that
 * have live spaces here by id, each a hash table (hash.h); every space's
 * next deadline in one binary heap.  No event walks all spaces or all
 * members. */
#include "server/space.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/su_string.h>

#include "server/catalog.h"
#include "server/hash.h"
#include "server/quiz.h"

#define MAX_BANNED 256

/* A service with live spaces here: its day's accounting.  Played time
 * counts against the host service's daily limit. */
struct service_day {
	struct hash_node node; /* in mgr->days */
	char *service;
	unsigned booked;      /* seconds of today in the store */
	struct space *spaces; /* its live spaces, through day_next */
	unsigned n;
};

struct space {
	su_home_t home[1]; /* first member: owns the members and strings */
	struct space_mgr *mgr;
	uint64_t id;
	struct hash_node node;    /* in mgr->spaces */
	struct space_service svc; /* the host's service, a copy */
	struct channel *ch;       /* the channel it plays, a copy */
	struct service_day *day;
	struct space *day_next;
	bool open, ending;
	/* No comment was written in it: it was opened here and nobody has
	 * commented since (a restored space may have some from before). */
	bool no_comments;
	int64_t started;       /* ms, monotonic */
	int64_t started_unix;  /* for the room panel */
	int64_t counted_from;  /* ms: played time before this is booked */
	uint32_t warned;       /* quota warnings said today, by index */
	unsigned next_request; /* N of the next "/allow N" */
	unsigned next_seq;     /* admission order */
	struct space_member *members, *last; /* admitted, then pending */
	struct space_member *first_pending;
	unsigned n_admitted, n_pending;
	char *lost_host; /* whose return the space waits for, or NULL */
	int64_t lost_at;
	struct quiz *quiz;
	char **banned;
	unsigned n_banned;
	int64_t programme_at; /* the guide's programme changes, ms; or -1 */
	int64_t deadline;     /* next thing to do, ms; -1 for none */
	size_t heap_index;    /* in mgr->heap from 1; 0 when not there */
};

/* A member with its place in the index. */
struct member {
	struct space_member pub;
	struct hash_node node; /* in mgr->members */
};

struct space_mgr {
	su_home_t home[1];
	const struct catalog *cat;
	struct space_policy policy;
	struct hash_table spaces, members, days;
	/* Every space with a deadline, soonest first: a binary heap from
	 * index 1, each space knowing its index. */
	struct space **heap;
	size_t heap_used, heap_size;
	unsigned n_spaces, n_members;
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
    [SPACE_BANNED] = "removed from this space by the host",
    [SPACE_ENDING] = "the space is ending",
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

/* -- the manager ---------------------------------------------------------- */

static void reschedule(struct space *sp, int64_t now);

struct space_mgr *space_mgr_create(su_home_t *parent, const struct catalog *cat)
{
	struct space_mgr *mgr = su_home_clone(parent, sizeof(*mgr));

	if (!mgr)
		return NULL;
	mgr->cat = cat;
	mgr->policy.admission_timeout = 60000;
	mgr->policy.host_grace = 60000;
	mgr->policy.book_interval = 30000;
	if (hash_init(&mgr->spaces, mgr->home) < 0 ||
	    hash_init(&mgr->members, mgr->home) < 0 ||
	    hash_init(&mgr->days, mgr->home) < 0) {
		su_home_unref(mgr->home);
		return NULL;
	}
	return mgr;
}

/* The ids of the live spaces, in a malloc'd array: a walk that may close
 * spaces (and so move the table's entries) goes by id. */
static uint64_t *live_ids(const struct space_mgr *mgr, unsigned *ret_n)
{
	uint64_t *ids = malloc((mgr->n_spaces + 1) * sizeof(*ids));
	unsigned n = 0;

	if (!ids)
		return NULL;
	for (size_t i = 0; i < mgr->spaces.n_buckets; i++)
		for (struct hash_node *x = mgr->spaces.buckets[i]; x;
		     x = x->next)
			ids[n++] = hash_entry(x, struct space, node)->id;
	*ret_n = n;
	return ids;
}

struct space_mgr *space_mgr_destroy(struct space_mgr *mgr)
{
	struct space *sp;

	if (!mgr)
		return NULL;
	/* Without memory for the walk, the spaces go with the home. */
	while (mgr->n_spaces) {
		unsigned n = 0;
		uint64_t *ids = live_ids(mgr, &n);

		if (!ids)
			break;
		for (unsigned i = 0; i < n; i++)
			if ((sp = space_find(mgr, ids[i])))
				space_close(sp);
		free(ids);
	}
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

void space_mgr_set_policy(struct space_mgr *mgr, const struct space_policy *p,
			  int64_t now)
{
	mgr->policy = *p;
	if (mgr->policy.n_warnings > 8)
		mgr->policy.n_warnings = 8;
	for (size_t i = 0; i < mgr->spaces.n_buckets; i++)
		for (struct hash_node *x = mgr->spaces.buckets[i]; x;
		     x = x->next)
			reschedule(hash_entry(x, struct space, node), now);
}

unsigned space_mgr_count(const struct space_mgr *mgr)
{
	return mgr->n_spaces;
}

unsigned space_mgr_members(const struct space_mgr *mgr)
{
	return mgr->n_members;
}

/* -- services' days ------------------------------------------------------- */

static struct service_day *day_find(const struct space_mgr *mgr,
				    const char *service)
{
	hash_value_t hv = hash_str(service);

	for (struct hash_node *x = hash_bucket(&mgr->days, hv); x;
	     x = x->next) {
		struct service_day *d = hash_entry(x, struct service_day, node);

		if (x->hv == hv && su_strmatch(d->service, service))
			return d;
	}
	return NULL;
}

/* Count @a sp against its service's day; the first space of a service
 * brings the store's figure of what it played today. */
static int day_attach(struct space *sp, unsigned played_today)
{
	struct space_mgr *mgr = sp->mgr;
	struct service_day *d = day_find(mgr, sp->svc.id);

	if (!d) {
		d = su_zalloc(mgr->home, sizeof(*d));
		if (!d || !(d->service = su_strdup(mgr->home, sp->svc.id))) {
			su_free(mgr->home, d);
			return -ENOMEM;
		}
		d->booked = played_today;
		hash_insert(&mgr->days, &d->node, hash_str(d->service));
	}
	sp->day = d;
	sp->day_next = d->spaces;
	d->spaces = sp;
	d->n++;
	return 0;
}

static void day_detach(struct space *sp)
{
	struct service_day *d = sp->day;
	struct space **pp;

	if (!d)
		return;
	for (pp = &d->spaces; *pp && *pp != sp; pp = &(*pp)->day_next)
		;
	if (*pp)
		*pp = sp->day_next;
	sp->day = NULL;
	if (--d->n == 0) {
		hash_remove(&sp->mgr->days, &d->node);
		su_free(sp->mgr->home, d->service);
		su_free(sp->mgr->home, d);
	}
}

/* Played time of the service today, in ms. */
static int64_t day_played_ms(const struct service_day *d, int64_t now)
{
	int64_t total = (int64_t)d->booked * 1000;

	for (const struct space *sp = d->spaces; sp; sp = sp->day_next)
		if (now > sp->counted_from)
			total += now - sp->counted_from;
	return total;
}

static const struct level *level_of(const struct space *sp)
{
	return catalog_level(sp->mgr->cat, sp->svc.level);
}

unsigned space_mgr_played_today(const struct space_mgr *mgr,
				const char *service, int64_t now)
{
	const struct service_day *d = day_find(mgr, service);
	int64_t ms = d ? day_played_ms(d, now) : 0;

	return ms / 1000 > UINT32_MAX ? UINT32_MAX : (unsigned)(ms / 1000);
}

/* Ms of playback left today for @a sp's service; INT64_MAX: no limit. */
static int64_t left_ms(const struct space *sp, int64_t now)
{
	const struct level *l = level_of(sp);
	int64_t left;

	if (!l || !l->daily_limit || !sp->day)
		return INT64_MAX;
	left = (int64_t)l->daily_limit * 1000 - day_played_ms(sp->day, now);
	return left > 0 ? left : 0;
}

unsigned space_left_today(const struct space *sp, int64_t now)
{
	int64_t left = left_ms(sp, now);

	if (left == INT64_MAX)
		return UINT32_MAX;
	return (unsigned)(left / 1000);
}

/* Another space of the service came: each of them spends the day faster
 * now.  (One that goes needs nothing: a deadline that comes early finds
 * nothing to do and is computed again.) */
static void day_reschedule(struct service_day *d, int64_t now)
{
	for (struct space *sp = d->spaces; sp; sp = sp->day_next)
		reschedule(sp, now);
}

/* -- spaces ---------------------------------------------------------------- */

static int copy_service(su_home_t *home, struct space_service *dst,
			const struct space_service *src)
{
	dst->level = src->level;
	dst->id = su_strdup(home, src->id);
	dst->user = su_strdup(home, src->user);
	dst->default_channel =
	    src->default_channel ? su_strdup(home, src->default_channel) : NULL;
	dst->package = src->package ? su_strdup(home, src->package) : NULL;
	if (!dst->id || !dst->user ||
	    (src->default_channel && !dst->default_channel) ||
	    (src->package && !dst->package))
		return -ENOMEM;
	return 0;
}

static struct space *space_new(struct space_mgr *mgr, uint64_t id,
			       const struct space_service *svc,
			       unsigned played_today, const struct channel *ch,
			       int64_t now, int64_t started_unix)
{
	struct space *sp;

	if (space_find(mgr, id))
		return NULL;
	sp = su_home_clone(mgr->home, sizeof(*sp));
	if (!sp)
		return NULL;
	sp->mgr = mgr;
	sp->id = id;
	sp->started = now;
	sp->started_unix = started_unix;
	sp->counted_from = now;
	sp->next_request = 1;
	sp->next_seq = 1;
	sp->programme_at = -1;
	sp->deadline = -1;
	sp->ch = catalog_channel_copy(sp->home, ch);
	if (!sp->ch || copy_service(sp->home, &sp->svc, svc) < 0 ||
	    day_attach(sp, played_today) < 0) {
		su_home_unref(sp->home);
		return NULL;
	}
	hash_insert(&mgr->spaces, &sp->node, hash_u64(id));
	mgr->n_spaces++;
	return sp;
}

/* Members stay in admission order with the pending ones at the end, so a
 * walk of the list is the order of the conference NOTIFY and of promotion.
 * An admission (the largest seq yet) goes before the first pending one. */
static void member_link(struct space *sp, struct space_member *m)
{
	struct space_member *at;

	if (m->role == SPACE_PENDING) {
		at = NULL; /* the end */
	}
	else {
		struct space_member *prev;

		/* Before the first pending one; only a restore brings seqs
		 * out of order, and walks back. */
		at = sp->first_pending;
		prev = at ? at->prev : sp->last;
		while (prev && prev->seq > m->seq) {
			at = prev;
			prev = at->prev;
		}
	}
	m->next = at;
	m->prev = at ? at->prev : sp->last;
	if (m->prev)
		m->prev->next = m;
	else
		sp->members = m;
	if (at)
		at->prev = m;
	else
		sp->last = m;
	if (m->role == SPACE_PENDING) {
		if (!sp->first_pending)
			sp->first_pending = m;
		sp->n_pending++;
	}
	else {
		sp->n_admitted++;
	}
}

static void member_unlink(struct space_member *m)
{
	struct space *sp = m->space;

	if (sp->first_pending == m)
		sp->first_pending = m->next;
	if (m->prev)
		m->prev->next = m->next;
	else
		sp->members = m->next;
	if (m->next)
		m->next->prev = m->prev;
	else
		sp->last = m->prev;
	m->next = m->prev = NULL;
	if (m->role == SPACE_PENDING)
		sp->n_pending--;
	else
		sp->n_admitted--;
}

static hash_value_t member_hash(uint64_t space, const char *user)
{
	return hash_u64(space) ^ hash_str(user);
}

/* @a s copied to @a p, which moves past it; NULL stays NULL. */
static const char *member_str(char **p, const char *s)
{
	size_t len = s ? strlen(s) + 1 : 0;

	if (!s)
		return NULL;
	memcpy(*p, s, len);
	*p += len;
	return *p - len;
}

/* A member and its strings are one block of the space's home: a space of
 * thousands holds one block a member, not five (docs/performance.md,
 * "Members held"). */
static struct space_member *member_new(struct space *sp, const char *user,
				       const char *service, const char *package,
				       enum space_role role,
				       enum space_delivery delivery,
				       unsigned pt, const char *addr,
				       unsigned port)
{
	struct space_mgr *mgr = sp->mgr;
	const char *strs[4] = {user, service, package, addr};
	size_t size = sizeof(struct member);
	struct member *x;
	struct space_member *m;
	char *p;

	if (!user)
		return NULL;
	for (unsigned i = 0; i < 4; i++)
		size += strs[i] ? strlen(strs[i]) + 1 : 0;
	x = su_zalloc(sp->home, (isize_t)size);
	if (!x)
		return NULL;
	p = (char *)(x + 1);
	m = &x->pub;
	m->space = sp;
	m->user = member_str(&p, user);
	m->service = member_str(&p, service);
	m->package = member_str(&p, package);
	m->addr = member_str(&p, addr);
	m->role = role;
	m->delivery = delivery;
	m->pt = pt;
	m->port = port;
	hash_insert(&mgr->members, &x->node, member_hash(sp->id, m->user));
	mgr->n_members++;
	return m;
}

static void member_free(struct space_member *m)
{
	struct space *sp = m->space;
	su_home_t *home = sp->home;

	hash_remove(&sp->mgr->members, &((struct member *)m)->node);
	sp->mgr->n_members--;
	su_free(home, (void *)m->streams);
	su_free(home, (void *)m->behind);
	su_free(home, m);
}

/* The payload type the offer and the channel share, or -1.  RFC 3264 §6:
 * the answer may only use formats of the offer.  Without an offer the
 * server offers the channel's own. */
static int common_pt(const struct space_offer *offer, const struct channel *ch)
{
	const char *want = ch->media == CHANNEL_AUDIO ? "audio" : "video";

	if (offer->none)
		return (int)ch->pt;
	if (!offer->media || !su_casematch(offer->media, want))
		return -1;
	for (unsigned i = 0; i < offer->n_pts && i < SPACE_MAX_PT; i++)
		if (offer->pts[i] == ch->pt)
			return (int)ch->pt;
	return -1;
}

/* -- channels of separate streams ----------------------------------------
 * A member's m= lines are matched to a channel's streams by media type;
 * a format of a line carries a stream when its a=rtpmap is the stream's
 * (RFC 4566 §6: encoding names are case-insensitive) and, for H.264, its
 * a=fmtp allows the stream (RFC 6184 §8.1: the same packetization-mode
 * and profile, a level at least the stream's). */

/* Parameter @a name of a=fmtp @a fmtp ("a=1;b=2") into @a buf; false when
 * it is not there or does not fit. */
static bool fmtp_param(const char *fmtp, const char *name, char *buf,
		       size_t size)
{
	size_t n = strlen(name);

	for (const char *p = fmtp; p && *p;) {
		const char *end = strchr(p, ';'), *v;
		size_t len;

		while (*p == ' ')
			p++;
		if (!end)
			end = p + strlen(p);
		/* strncasecmp stops at the end of either string (sofia's
		 * su_strncasecmp compares all n bytes first: a read past a
		 * shorter one, found by fuzz_sdp) */
		if (strncasecmp(p, name, n) == 0 && p[n] == '=') {
			v = p + n + 1;
			len = (size_t)(end - v);
			while (len && v[len - 1] == ' ')
				len--;
			if (len >= size)
				return false;
			memcpy(buf, v, len);
			buf[len] = '\0';
			return true;
		}
		p = *end ? end + 1 : end;
	}
	return false;
}

enum h264_profile {
	H264_UNKNOWN,
	H264_CONSTRAINED_BASELINE,
	H264_BASELINE,
	H264_MAIN,
	H264_EXTENDED,
	H264_HIGH,
	H264_CONSTRAINED_HIGH,
};

/* RFC 6184 §8.1 (and its Table 5): profile_idc and the constraint flags
 * of profile-level-id say the profile; its last byte the level.  Without
 * the parameter, 42000A: Baseline, level 1. */
static enum h264_profile h264_profile(const char *fmtp, unsigned *ret_level)
{
	char v[16];
	unsigned long x;
	unsigned idc, iop;
	char *end;

	if (!fmtp || !fmtp_param(fmtp, "profile-level-id", v, sizeof(v)))
		strcpy(v, "42000a");
	x = strlen(v) == 6 ? strtoul(v, &end, 16) : 0;
	if (strlen(v) != 6 || *end)
		return H264_UNKNOWN;
	idc = (unsigned)(x >> 16);
	iop = (unsigned)(x >> 8) & 0xffu;
	*ret_level = (unsigned)x & 0xffu;
	if (iop & 0x03u)
		return H264_UNKNOWN; /* reserved_zero_2bits */
	switch (idc) {
	case 0x42:
		return iop & 0x40u ? H264_CONSTRAINED_BASELINE : H264_BASELINE;
	case 0x4d:
		return iop & 0x80u ? H264_CONSTRAINED_BASELINE : H264_MAIN;
	case 0x58:
		if ((iop & 0xc0u) == 0xc0u)
			return H264_CONSTRAINED_BASELINE;
		return iop & 0x80u ? H264_BASELINE : H264_EXTENDED;
	case 0x64:
		return (iop & 0x0cu) == 0x0cu ? H264_CONSTRAINED_HIGH
					      : H264_HIGH;
	}
	return H264_UNKNOWN;
}

static unsigned h264_mode(const char *fmtp)
{
	char v[8];

	if (!fmtp || !fmtp_param(fmtp, "packetization-mode", v, sizeof(v)))
		return 0;
	return (unsigned)strtoul(v, NULL, 10);
}

/* How well an offered format carries stream @a st: 0 not at all, 1 it
 * can, 2 exactly as the stream says. */
static int format_fits(const struct channel_stream *st,
		       const struct space_format *f)
{
	unsigned want_level = 0, level = 0;
	enum h264_profile want, have;

	if (!f->encoding || !su_casematch(f->encoding, st->encoding) ||
	    f->clock != st->clock)
		return 0;
	/* RFC 4566 §6: no channels given is one */
	if ((f->channels ? f->channels : 1) !=
	    (st->channels ? st->channels : 1))
		return 0;
	if (!su_casematch(st->encoding, "H264"))
		return 2;
	if (h264_mode(f->fmtp) != h264_mode(st->fmtp))
		return 0;
	want = h264_profile(st->fmtp, &want_level);
	have = h264_profile(f->fmtp, &level);
	if (want == H264_UNKNOWN || have != want || level < want_level)
		return 0;
	return level == want_level ? 2 : 1;
}

/* Whether the server may send format @a f on a line of @a media: it
 * carries a stream of the catalog, or @a st. */
static bool format_sendable(const struct catalog *cat,
			    const struct channel_stream *st,
			    const struct space_format *f)
{
	const struct channel_stream *e;

	if (format_fits(st, f))
		return true;
	for (unsigned i = 0; (e = catalog_encoding_at(cat, i)); i++)
		if (e->media == st->media && format_fits(e, f))
			return true;
	return false;
}

static const char *media_word(enum channel_media media)
{
	return media == CHANNEL_AUDIO ? "audio" : "video";
}

enum space_verdict space_streams_fit(const struct space_mgr *mgr,
				     const struct space_offer *offer,
				     const struct channel *ch,
				     struct space_streams *ret)
{
	unsigned served = 0;

	memset(ret, 0, sizeof(*ret));
	ret->media[CHANNEL_VIDEO].line = ret->media[CHANNEL_AUDIO].line = -1;
	if (ch->media != CHANNEL_STREAMS)
		return SPACE_MEDIA_MISMATCH;
	for (unsigned i = 0; i < ch->n_streams && i < CHANNEL_MAX_STREAMS;
	     i++) {
		const struct channel_stream *st = &ch->streams[i];
		struct space_stream *s = &ret->media[st->media];

		if (offer->none) {
			/* RFC 3264 §5: our offer, each stream as its group
			 * carries it. */
			s->line = (int)i;
			s->multicast = true;
			s->formats[0] = (struct space_format){
			    st->pt, st->encoding, st->clock, st->channels,
			    st->fmtp};
			s->n_formats = 1;
			served++;
			continue;
		}
		for (unsigned l = 0; l < offer->n_lines; l++) {
			const struct space_offer_line *x = &offer->lines[l];
			bool fits = false;

			if (!x->rtp || !x->port || !x->media ||
			    !su_casematch(x->media, media_word(st->media)))
				continue;
			for (unsigned f = 0; f < x->n_formats && !fits; f++)
				fits = format_fits(st, &x->formats[f]) > 0;
			if (!fits)
				continue;
			s->line = (int)l;
			s->addr = x->addr;
			s->port = x->port;
			s->multicast = x->multicast;
			for (unsigned f = 0; f < x->n_formats &&
					     s->n_formats < SPACE_MAX_AGREED;
			     f++)
				if (format_sendable(mgr->cat, st,
						    &x->formats[f]))
					s->formats[s->n_formats++] =
					    x->formats[f];
			served++;
			break;
		}
	}
	return served ? SPACE_OK : SPACE_MEDIA_MISMATCH;
}

/* The payload type of agreed stream @a s for @a st: the best fit, the
 * first of the offer's order among equals; -1 for none. */
static int agreed_pt(const struct space_stream *s,
		     const struct channel_stream *st)
{
	int best = 0, pt = -1;

	if (s->line < 0)
		return -1;
	for (unsigned i = 0; i < s->n_formats && i < SPACE_MAX_AGREED; i++) {
		int q = format_fits(st, &s->formats[i]);

		if (q > best) {
			best = q;
			pt = (int)s->formats[i].pt;
		}
	}
	return pt;
}

/* The first stream of @a ch that @a s serves, or NULL. */
static const struct channel_stream *first_served(const struct space_streams *s,
						 const struct channel *ch)
{
	for (unsigned i = 0; i < ch->n_streams && i < CHANNEL_MAX_STREAMS; i++)
		if (s->media[ch->streams[i].media].line >= 0)
			return &ch->streams[i];
	return NULL;
}

int space_stream_pt(const struct space_member *m, const struct channel *ch,
		    const struct channel_stream *st)
{
	(void)ch;
	if (!m->streams)
		return m->delivery == SPACE_MULTICAST ? (int)st->pt : -1;
	if (m->streams->media[st->media].line < 0)
		return -1;
	/* A group carries its own payload type: the re-INVITE offers it. */
	if (m->delivery == SPACE_MULTICAST)
		return (int)st->pt;
	return agreed_pt(&m->streams->media[st->media], st);
}

int space_streams_pt(const struct space_streams *s,
		     const struct channel_stream *st)
{
	return agreed_pt(&s->media[st->media], st);
}

bool space_member_can_take(const struct space_member *m,
			   const struct channel *ch)
{
	bool any = false;

	if (ch->media != CHANNEL_STREAMS)
		return true;
	if (!m->streams)
		return m->delivery == SPACE_MULTICAST;
	for (unsigned i = 0; i < ch->n_streams && i < CHANNEL_MAX_STREAMS;
	     i++) {
		const struct channel_stream *st = &ch->streams[i];

		if (m->streams->media[st->media].line < 0)
			continue;
		if (space_stream_pt(m, ch, st) < 0)
			return false;
		any = true;
	}
	return any;
}

static size_t len0(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static const char *place(char **p, const char *s)
{
	char *d = *p;
	size_t n = len0(s);

	if (!s)
		return NULL;
	memcpy(d, s, n);
	*p += n;
	return d;
}

int space_member_set_streams(struct space_member *m,
			     const struct space_streams *streams)
{
	size_t n = sizeof(*streams);
	struct space_streams *c;
	char *p;

	if (!streams) {
		su_free(m->space->home, (void *)m->streams);
		m->streams = NULL;
		return 0;
	}
	for (unsigned k = 0; k < 2; k++) {
		const struct space_stream *s = &streams->media[k];

		n += len0(s->addr);
		for (unsigned i = 0; i < s->n_formats && i < SPACE_MAX_AGREED;
		     i++)
			n += len0(s->formats[i].encoding) +
			     len0(s->formats[i].fmtp);
	}
	c = su_alloc(m->space->home, (isize_t)n);
	if (!c)
		return -ENOMEM;
	*c = *streams;
	p = (char *)(c + 1);
	for (unsigned k = 0; k < 2; k++) {
		struct space_stream *s = &c->media[k];

		if (s->n_formats > SPACE_MAX_AGREED)
			s->n_formats = SPACE_MAX_AGREED;
		s->addr = place(&p, s->addr);
		for (unsigned i = 0; i < s->n_formats; i++) {
			s->formats[i].encoding =
			    place(&p, s->formats[i].encoding);
			s->formats[i].fmtp = place(&p, s->formats[i].fmtp);
		}
	}
	su_free(m->space->home, (void *)m->streams);
	m->streams = c;
	return 0;
}

/* What a member of a space on @a ch takes from @a offer: its payload type
 * (of its first stream for a channel of several), and where the first
 * stream goes. */
struct fit {
	int pt;
	const char *addr;
	unsigned port;
	struct space_streams streams; /* CHANNEL_STREAMS */
};

static enum space_verdict fit(const struct space_mgr *mgr,
			      const struct space_offer *offer,
			      const struct channel *ch, struct fit *ret)
{
	const struct channel_stream *st;
	enum space_verdict v;
	const struct space_stream *s;

	ret->addr = offer->addr;
	ret->port = offer->port;
	ret->streams = (struct space_streams){0}; /* none but for STREAMS */
	if (ch->media != CHANNEL_STREAMS) {
		ret->pt = common_pt(offer, ch);
		return ret->pt < 0 ? SPACE_MEDIA_MISMATCH : SPACE_OK;
	}
	v = space_streams_fit(mgr, offer, ch, &ret->streams);
	if (v != SPACE_OK)
		return v;
	st = first_served(&ret->streams, ch);
	s = &ret->streams.media[st->media];
	ret->pt = offer->none || s->multicast ? (int)st->pt : agreed_pt(s, st);
	if (!offer->none) {
		ret->addr = s->addr;
		ret->port = s->port;
	}
	return SPACE_OK;
}

/* A new member's streams, for a channel of several. */
static int take_streams(struct space_member *m, const struct channel *ch,
			const struct fit *f)
{
	return ch->media == CHANNEL_STREAMS
		   ? space_member_set_streams(m, &f->streams)
		   : 0;
}

static enum space_delivery offer_delivery(const struct space_offer *offer)
{
	return offer->none || offer->multicast || offer->want_multicast
		   ? SPACE_MULTICAST
		   : SPACE_RELAY;
}

enum space_verdict space_plan_start(const struct space_mgr *mgr,
				    const char *user,
				    const struct space_service *svc,
				    unsigned played_today,
				    const struct space_offer *offer,
				    int64_t now, struct space_plan *ret)
{
	const struct catalog *cat = mgr->cat;
	const struct channel *ch = NULL;
	const struct service_day *d;
	const struct level *l;
	enum space_verdict v;
	int64_t played;
	struct fit f;

	if (!svc)
		return offer->bc_service ? SPACE_UNKNOWN_SERVICE
					 : SPACE_NO_SERVICE;
	if (!su_strmatch(svc->user, user))
		return SPACE_NOT_SUBSCRIBED;
	l = catalog_level(cat, svc->level);
	if (!l)
		return SPACE_NO_SERVICE;

	/* Patent 0041: the terminal names the channel it wants by the
	 * multicast address in its offer. */
	if (offer->multicast && offer->addr)
		ch = catalog_channel_by_group(cat, offer->addr, offer->port);
	if (!ch && offer->channel) {
		ch = catalog_channel_lookup(cat, offer->channel);
		if (!ch)
			return SPACE_UNKNOWN_CHANNEL;
	}
	if (!ch && svc->default_channel)
		ch = catalog_channel(cat, svc->default_channel);
	if (!ch)
		return SPACE_UNKNOWN_CHANNEL;

	v = fit(mgr, offer, ch, &f);
	if (v != SPACE_OK)
		return v;
	if (!catalog_package_allows(svc->package, ch->id))
		return SPACE_NOT_ENTITLED;
	/* Another space of the service here knows its day better than the
	 * store's figure (it has time not booked yet). */
	d = day_find(mgr, svc->id);
	played = d ? day_played_ms(d, now) / 1000 : played_today;
	if (l->daily_limit && played >= l->daily_limit)
		return SPACE_LIMIT_REACHED;

	ret->channel = ch;
	ret->delivery = offer_delivery(offer);
	ret->pt = (unsigned)f.pt;
	ret->streams = f.streams;
	return SPACE_OK;
}

int space_open(struct space_mgr *mgr, uint64_t id, const char *user,
	       const struct space_service *svc, unsigned played_today,
	       const struct space_plan *plan, const struct space_offer *offer,
	       void *handle, int64_t now, int64_t started,
	       struct space **ret_space)
{
	struct space *sp;
	struct space_member *host;
	struct fit f;

	if (space_find(mgr, id))
		return -EEXIST;
	sp = space_new(mgr, id, svc, played_today, plan->channel, now, started);
	if (!sp)
		return -ENOMEM;
	f.addr = offer->addr;
	f.port = offer->port;
	if (plan->channel->media == CHANNEL_STREAMS && !offer->none) {
		const struct channel_stream *st =
		    first_served(&plan->streams, plan->channel);
		const struct space_stream *s =
		    st ? &plan->streams.media[st->media] : NULL;

		f.addr = s ? s->addr : NULL;
		f.port = s ? s->port : 0;
	}
	f.streams = plan->streams;
	host = member_new(sp, user, svc->id, svc->package, SPACE_HOST,
			  plan->delivery, plan->pt, f.addr, f.port);
	if (!host || take_streams(host, plan->channel, &f) < 0) {
		space_close(sp);
		return -ENOMEM;
	}
	host->seq = sp->next_seq++;
	host->since = now;
	host->handle = handle;
	member_link(sp, host);
	sp->no_comments = true;
	day_reschedule(sp->day, now);
	*ret_space = sp;
	return 0;
}

int space_restore(struct space_mgr *mgr, uint64_t id,
		  const struct space_service *svc, unsigned played_today,
		  const struct channel *ch, bool open, int64_t played_ms,
		  int64_t unbooked_ms, int64_t now, int64_t started,
		  struct space **ret_space)
{
	struct space *sp;

	if (space_find(mgr, id))
		return -EEXIST;
	sp = space_new(mgr, id, svc, played_today, ch, now, started);
	if (!sp)
		return -ENOMEM;
	sp->open = open;
	sp->started = now - (played_ms > 0 ? played_ms : 0);
	sp->counted_from = now - (unbooked_ms > 0 ? unbooked_ms : 0);
	day_reschedule(sp->day, now);
	*ret_space = sp;
	return 0;
}

int space_restore_member(struct space *sp, const char *user,
			 const char *service, const char *package,
			 enum space_role role, enum space_delivery delivery,
			 unsigned pt, const char *addr, unsigned port,
			 unsigned seq, int64_t now,
			 struct space_member **ret_member)
{
	struct space_member *m;

	if (role == SPACE_PENDING)
		return -EINVAL;
	if (space_member_by_user(sp, user))
		return -EEXIST;
	if (role == SPACE_HOST && space_host(sp))
		return -EEXIST;
	m = member_new(sp, user, service, package, role, delivery, pt, addr,
		       port);
	if (!m)
		return -ENOMEM;
	m->seq = seq;
	m->since = now;
	if (seq >= sp->next_seq)
		sp->next_seq = seq + 1;
	member_link(sp, m);
	*ret_member = m;
	return 0;
}

struct space *space_find(const struct space_mgr *mgr, uint64_t id)
{
	hash_value_t hv = hash_u64(id);

	for (struct hash_node *x = hash_bucket(&mgr->spaces, hv); x;
	     x = x->next) {
		struct space *sp = hash_entry(x, struct space, node);

		if (sp->id == id)
			return sp;
	}
	return NULL;
}

void space_mgr_foreach(struct space_mgr *mgr,
		       void (*fn)(void *arg, struct space *sp), void *arg)
{
	unsigned n = 0;
	uint64_t *ids = live_ids(mgr, &n);
	struct space *sp;

	if (!ids)
		return;
	for (unsigned i = 0; i < n; i++)
		if ((sp = space_find(mgr, ids[i])))
			fn(arg, sp);
	free(ids);
}

void space_mgr_foreach_of_service(struct space_mgr *mgr, const char *service,
				  void (*fn)(void *arg, struct space *sp),
				  void *arg)
{
	struct service_day *d = day_find(mgr, service);
	struct space *sp, *next;

	for (sp = d ? d->spaces : NULL; sp; sp = next) {
		next = sp->day_next;
		fn(arg, sp);
	}
}

uint64_t space_id(const struct space *sp)
{
	return sp->id;
}

const struct channel *space_channel(const struct space *sp)
{
	return sp->ch;
}

const struct space_service *space_service(const struct space *sp)
{
	return &sp->svc;
}

bool space_mgr_has_service(const struct space_mgr *mgr, const char *service)
{
	return day_find(mgr, service) != NULL;
}

struct svc_change {
	const struct space_service *svc;
	int err;
};

static void apply_service(void *arg, struct space *sp)
{
	struct svc_change *c = arg;
	struct space_service n = {0};

	/* New strings first: a failure keeps the old settings whole. */
	if (copy_service(sp->home, &n, c->svc) < 0) {
		c->err = -ENOMEM;
		return;
	}
	su_free(sp->home, (void *)sp->svc.id);
	su_free(sp->home, (void *)sp->svc.user);
	su_free(sp->home, (void *)sp->svc.default_channel);
	su_free(sp->home, (void *)sp->svc.package);
	sp->svc = n;
}

int space_mgr_service_changed(struct space_mgr *mgr,
			      const struct space_service *svc)
{
	struct svc_change c = {svc, 0};

	space_mgr_foreach_of_service(mgr, svc->id, apply_service, &c);
	return c.err;
}

struct space_member *space_host(const struct space *sp)
{
	/* The host is admitted: among the first few in admission order. */
	for (struct space_member *m = sp->members; m && m != sp->first_pending;
	     m = m->next)
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
	return sp->n_admitted;
}

unsigned space_pending_count(const struct space *sp)
{
	return sp->n_pending;
}

unsigned space_capacity(const struct space *sp)
{
	const struct level *l = level_of(sp);

	/* A level removed from the table keeps its spaces running but they
	 * admit no one new. */
	return l ? l->capacity : 0;
}

unsigned space_daily_limit(const struct space *sp)
{
	const struct level *l = level_of(sp);

	return l ? l->daily_limit : 0;
}

unsigned space_features(const struct space *sp)
{
	const struct level *l = level_of(sp);

	return l ? l->features : 0;
}

bool space_is_open(const struct space *sp)
{
	return sp->open;
}

int64_t space_started(const struct space *sp)
{
	return sp->started_unix;
}

struct space_member *space_member_by_user(const struct space *sp,
					  const char *user)
{
	const struct space_mgr *mgr = sp->mgr;
	hash_value_t hv = member_hash(sp->id, user);

	for (struct hash_node *x = hash_bucket(&mgr->members, hv); x;
	     x = x->next) {
		struct member *m = hash_entry(x, struct member, node);

		if (x->hv == hv && m->pub.space == sp &&
		    su_strmatch(m->pub.user, user))
			return &m->pub;
	}
	return NULL;
}

/* Whether @a offer can take the space's channel, for a member whose own
 * package is @a package: its payload type and streams in @a ret. */
static enum space_verdict fit_offer(const struct space *sp, const char *package,
				    const struct space_offer *offer,
				    struct fit *ret)
{
	enum space_verdict v = fit(sp->mgr, offer, sp->ch, ret);

	if (v != SPACE_OK)
		return v;
	if (!catalog_package_allows(package, sp->ch->id))
		return SPACE_NOT_ENTITLED;
	return SPACE_OK;
}

/* A lost host's seat is kept for its return. */
static bool has_seat(const struct space *sp)
{
	return sp->n_admitted + (sp->lost_host ? 1u : 0u) < space_capacity(sp);
}

enum space_verdict space_join(struct space *sp, const char *user,
			      const struct space_service *own, bool friend,
			      const struct space_offer *offer, void *handle,
			      int64_t now, struct space_member **ret_member)
{
	struct space_member *m;
	enum space_verdict v;
	bool unasked;
	struct fit f;

	if (sp->ending)
		return SPACE_ENDING;
	if (space_member_by_user(sp, user))
		return SPACE_ALREADY_MEMBER;
	if (space_is_banned(sp, user))
		return SPACE_BANNED;
	if (!has_seat(sp))
		return SPACE_FULL;
	v = fit_offer(sp, own ? own->package : NULL, offer, &f);
	if (v != SPACE_OK)
		return v;
	friend = friend && !sp->open && sp->mgr->policy.auto_admit_friends &&
		 !sp->lost_host;
	unasked = sp->open || friend;
	m = member_new(sp, user, own ? own->id : NULL,
		       own ? own->package : NULL,
		       unasked ? SPACE_GUEST : SPACE_PENDING,
		       offer_delivery(offer), (unsigned)f.pt, f.addr, f.port);
	if (m && take_streams(m, sp->ch, &f) < 0) {
		member_free(m);
		m = NULL;
	}
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
	reschedule(sp, now);
	*ret_member = m;
	return SPACE_OK;
}

static bool is_host(const struct space *sp, const char *user)
{
	struct space_member *h = space_host(sp);

	return h && su_strmatch(h->user, user);
}

static void unban(struct space *sp, const char *user);

enum space_verdict space_invite(struct space *sp, const char *by,
				const char *user,
				const struct space_service *own, int64_t now,
				struct space_member **ret_member)
{
	struct space_member *m;

	if (!is_host(sp, by))
		return SPACE_NOT_HOST;
	if (sp->ending)
		return SPACE_ENDING;
	if (space_member_by_user(sp, user))
		return SPACE_ALREADY_MEMBER;
	if (!has_seat(sp))
		return SPACE_FULL;
	if (own && !catalog_package_allows(own->package, sp->ch->id))
		return SPACE_NOT_ENTITLED;
	/* The host asking a user in is the host's word on a ban. */
	unban(sp, user);
	/* The server offers the channel: the invitee answers. */
	m = member_new(sp, user, own ? own->id : NULL,
		       own ? own->package : NULL, SPACE_GUEST, SPACE_MULTICAST,
		       sp->ch->pt, NULL, 0);
	if (m && sp->ch->media == CHANNEL_STREAMS) {
		struct space_offer none = {.none = true};
		struct fit f;

		if (fit(sp->mgr, &none, sp->ch, &f) != SPACE_OK ||
		    take_streams(m, sp->ch, &f) < 0) {
			member_free(m);
			m = NULL;
		}
	}
	if (!m)
		return SPACE_FULL;
	m->since = now;
	m->seq = sp->next_seq++;
	member_link(sp, m);
	*ret_member = m;
	return SPACE_OK;
}

static struct space_member *pending_by_request(const struct space *sp,
					       unsigned request)
{
	for (struct space_member *m = sp->first_pending; m; m = m->next)
		if (m->request == request)
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
	if (!has_seat(sp))
		return SPACE_FULL;
	member_unlink(m);
	m->role = SPACE_GUEST;
	m->seq = sp->next_seq++;
	m->since = now;
	member_link(sp, m);
	reschedule(sp, now);
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

void space_member_remove(struct space_member *m, int64_t now)
{
	struct space *sp = m->space;

	member_unlink(m);
	member_free(m);
	reschedule(sp, now);
}

/* A host again: joiners waiting are asked of it from now. */
static void host_found(struct space *sp, int64_t now)
{
	su_free(sp->home, sp->lost_host);
	sp->lost_host = NULL;
	for (struct space_member *x = sp->first_pending; x; x = x->next)
		x->since = now;
}

static void drop_grabs(struct space *sp)
{
	for (struct space_member *x = sp->members; x; x = x->next)
		x->grab = 0; /* open requests were for the old host */
}

int space_lose_host(struct space *sp, const char *user, int64_t now)
{
	struct space_member *host = space_host(sp);
	const char *name = user ? user : host ? host->user : NULL;
	char *who = name ? su_strdup(sp->home, name) : NULL;

	if (!who)
		return -ENOENT;
	if (host) {
		member_unlink(host);
		member_free(host);
	}
	drop_grabs(sp);
	su_free(sp->home, sp->lost_host);
	sp->lost_host = who;
	sp->lost_at = now;
	reschedule(sp, now);
	return 0;
}

enum space_leave_verdict space_leave(struct space_member *m, bool failed,
				     int64_t now)
{
	struct space *sp = m->space;

	if (m->role != SPACE_HOST) {
		space_member_remove(m, now);
		return SPACE_LEFT;
	}
	if (!failed || sp->ending) {
		/* Claim 5: the host hanging up ends the space. */
		space_set_ending(sp);
		return SPACE_END;
	}
	/* Not a BYE: the space plays on and waits for the host. */
	space_lose_host(sp, m->user, now);
	return SPACE_HOST_LOST;
}

const char *space_lost_host(const struct space *sp)
{
	return sp->lost_host;
}

enum space_verdict space_host_back(struct space *sp, const char *user,
				   const struct space_service *own,
				   const struct space_offer *offer,
				   void *handle, int64_t now,
				   struct space_member **ret_member)
{
	struct space_member *m;
	enum space_verdict v;
	struct fit f;

	if (!sp->lost_host || !su_strmatch(sp->lost_host, user))
		return SPACE_NOT_HOST;
	v = fit_offer(sp, own ? own->package : NULL, offer, &f);
	if (v != SPACE_OK)
		return v;
	m = member_new(sp, user, own ? own->id : NULL,
		       own ? own->package : NULL, SPACE_HOST,
		       offer_delivery(offer), (unsigned)f.pt, f.addr, f.port);
	if (m && take_streams(m, sp->ch, &f) < 0) {
		member_free(m);
		m = NULL;
	}
	if (!m)
		return SPACE_FULL;
	m->handle = handle;
	m->since = now;
	m->seq = sp->next_seq++;
	member_link(sp, m);
	host_found(sp, now);
	reschedule(sp, now);
	*ret_member = m;
	return SPACE_OK;
}

/* The earliest-admitted guest becomes host; NULL when there is none. */
static struct space_member *promote(struct space *sp, int64_t now)
{
	struct space_member *m;

	for (m = sp->members; m && m != sp->first_pending; m = m->next)
		if (m->role == SPACE_GUEST)
			break;
	if (!m || m == sp->first_pending)
		return NULL;
	m->role = SPACE_HOST;
	drop_grabs(sp);
	host_found(sp, now);
	return m;
}

enum space_verdict space_switch(struct space *sp, const char *user,
				const char *id_or_number, su_home_t *home,
				struct channel **ret_old)
{
	const struct channel *ch;
	struct channel *old = NULL;

	if (!is_host(sp, user))
		return SPACE_NOT_HOST;
	ch = catalog_channel_lookup(sp->mgr->cat, id_or_number);
	if (!ch)
		return SPACE_UNKNOWN_CHANNEL;
	/* Every member's session was negotiated for the media it has: MP2T
	 * video, G.711 audio, or the same separate streams (catalog.h).
	 * Whether each member's session has the new channel's encodings is
	 * its own matter (space_member_can_take()). */
	if (!catalog_same_media(sp->ch, ch))
		return SPACE_MEDIA_MISMATCH;
	/* The host switches only to what its own service may watch. */
	if (!catalog_package_allows(sp->svc.package, ch->id))
		return SPACE_NOT_ENTITLED;
	if (ret_old && !(old = catalog_channel_copy(home, sp->ch)))
		return SPACE_FULL;
	if (space_set_channel(sp, ch) < 0) {
		su_free(home, old);
		return SPACE_FULL;
	}
	if (ret_old)
		*ret_old = old;
	return SPACE_OK;
}

int space_set_channel(struct space *sp, const struct channel *ch)
{
	struct channel *c = catalog_channel_copy(sp->home, ch);

	if (!c)
		return -ENOMEM; /* keep the old channel rather than none */
	su_free(sp->home, sp->ch);
	sp->ch = c;
	return 0;
}

/* The remote moves from the host to @a m. */
static void pass_remote(struct space *sp, struct space_member *m)
{
	struct space_member *host = space_host(sp);

	if (host)
		host->role = SPACE_GUEST;
	m->role = SPACE_HOST;
	drop_grabs(sp);
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

enum space_verdict space_grab(struct space *sp, const char *user,
			      unsigned *ret_request)
{
	struct space_member *m = space_member_by_user(sp, user);

	if (!m || m->role == SPACE_PENDING)
		return SPACE_NOT_MEMBER;
	if (m->role == SPACE_HOST)
		return SPACE_HOST_ALREADY;
	if (sp->lost_host)
		return SPACE_NO_HOST;
	if (sp->mgr->policy.grab_free) {
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
	for (struct space_member *m = sp->members; m && m != sp->first_pending;
	     m = m->next)
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
	return catalog_package_allows(m->package, ch->id);
}

int space_member_stay(struct space_member *m, const struct channel *ch)
{
	su_home_t *home = m->space->home;
	struct channel *c = NULL;

	if (ch && !(c = catalog_channel_copy(home, ch)))
		return -ENOMEM;
	su_free(home, (void *)m->behind);
	m->behind = c;
	return 0;
}

bool space_member_by_friendship(const struct space_member *m)
{
	return m->friend;
}

/* -- the deny list (RFC 6501) --------------------------------------------- */

bool space_is_banned(const struct space *sp, const char *user)
{
	for (unsigned i = 0; i < sp->n_banned; i++)
		if (su_strmatch(sp->banned[i], user))
			return true;
	return false;
}

static void unban(struct space *sp, const char *user)
{
	for (unsigned i = 0; i < sp->n_banned; i++)
		if (su_strmatch(sp->banned[i], user)) {
			su_free(sp->home, sp->banned[i]);
			sp->banned[i] = sp->banned[--sp->n_banned];
			return;
		}
}

static int ban(struct space *sp, const char *user)
{
	char **n;

	if (space_is_banned(sp, user))
		return 0;
	if (sp->n_banned == MAX_BANNED) {
		/* The oldest ban gives way: the list stays bounded. */
		su_free(sp->home, sp->banned[0]);
		memmove(sp->banned, sp->banned + 1,
			(MAX_BANNED - 1) * sizeof(*sp->banned));
		sp->n_banned--;
	}
	n = su_realloc(sp->home, sp->banned,
		       (isize_t)((sp->n_banned + 1) * sizeof(*n)));
	if (!n)
		return -ENOMEM;
	sp->banned = n;
	n[sp->n_banned] = su_strdup(sp->home, user);
	if (!n[sp->n_banned])
		return -ENOMEM;
	sp->n_banned++;
	return 0;
}

enum space_verdict space_kick(struct space *sp, const char *by,
			      const char *user, struct space_member **ret)
{
	struct space_member *m;

	if (!is_host(sp, by))
		return SPACE_NOT_HOST;
	m = space_member_by_user(sp, user);
	if (m && m->role == SPACE_HOST)
		return SPACE_HOST_ALREADY;
	if (!m)
		return SPACE_NO_SUCH_USER;
	ban(sp, user);
	*ret = m;
	return SPACE_OK;
}

enum space_verdict space_unban(struct space *sp, const char *by,
			       const char *user)
{
	if (!is_host(sp, by))
		return SPACE_NOT_HOST;
	if (!space_is_banned(sp, user))
		return SPACE_NO_SUCH_USER;
	unban(sp, user);
	return SPACE_OK;
}

/* -- the quiz --------------------------------------------------------------
 */

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

bool space_has_comments(const struct space *sp)
{
	return !sp->no_comments;
}

void space_note_comment(struct space *sp)
{
	sp->no_comments = false;
}

enum space_verdict space_set_open(struct space *sp, const char *by, bool open)
{
	if (!is_host(sp, by))
		return SPACE_NOT_HOST;
	sp->open = open;
	return SPACE_OK;
}

unsigned space_unbooked(const struct space *sp, int64_t now)
{
	int64_t ms = now - sp->counted_from;

	return ms > 0 ? (unsigned)(ms / 1000) : 0;
}

int64_t space_booked_until(const struct space *sp)
{
	return sp->started_unix + (sp->counted_from - sp->started) / 1000;
}

unsigned space_played(const struct space *sp, int64_t now)
{
	return now > sp->started ? (unsigned)((now - sp->started) / 1000) : 0;
}

/* -- the deadline heap ------------------------------------------------------
 */

static void heap_put(struct space_mgr *mgr, size_t i, struct space *sp)
{
	mgr->heap[i] = sp;
	sp->heap_index = i;
}

static void sift_up(struct space_mgr *mgr, size_t i)
{
	struct space *sp = mgr->heap[i];

	for (; i > 1 && mgr->heap[i / 2]->deadline > sp->deadline; i /= 2)
		heap_put(mgr, i, mgr->heap[i / 2]);
	heap_put(mgr, i, sp);
}

static void sift_down(struct space_mgr *mgr, size_t i)
{
	struct space *sp = mgr->heap[i];

	for (;;) {
		size_t c = 2 * i;

		if (c > mgr->heap_used)
			break;
		if (c + 1 <= mgr->heap_used &&
		    mgr->heap[c + 1]->deadline < mgr->heap[c]->deadline)
			c++;
		if (mgr->heap[c]->deadline >= sp->deadline)
			break;
		heap_put(mgr, i, mgr->heap[c]);
		i = c;
	}
	heap_put(mgr, i, sp);
}

static int heap_add(struct space_mgr *mgr, struct space *sp)
{
	if (mgr->heap_used + 1 >= mgr->heap_size) {
		size_t n = mgr->heap_size ? 2 * mgr->heap_size : 64;
		struct space **h =
		    su_realloc(mgr->home, mgr->heap,
			       (isize_t)(n * sizeof(struct space *)));

		if (!h)
			return -ENOMEM;
		mgr->heap = h;
		mgr->heap_size = n;
	}
	mgr->heap[++mgr->heap_used] = sp;
	sift_up(mgr, mgr->heap_used);
	return 0;
}

static void heap_out(struct space *sp)
{
	struct space_mgr *mgr = sp->mgr;
	size_t i = sp->heap_index;
	struct space *last;

	if (!i)
		return;
	sp->heap_index = 0;
	last = mgr->heap[mgr->heap_used--];
	if (last == sp)
		return;
	heap_put(mgr, i, last);
	sift_up(mgr, i);
	sift_down(mgr, last->heap_index);
}

void space_set_ending(struct space *sp)
{
	sp->ending = true;
	heap_out(sp);
	sp->deadline = -1;
}

void space_close(struct space *sp)
{
	struct space_mgr *mgr = sp->mgr;

	heap_out(sp);
	while (sp->members) {
		struct space_member *m = sp->members;

		member_unlink(m);
		member_free(m);
	}
	day_detach(sp);
	hash_remove(&mgr->spaces, &sp->node);
	mgr->n_spaces--;
	su_home_unref(sp->home);
}

/* -- deadlines ---------------------------------------------------------------
 */

/* The soonest of @a a and @a b, -1 being none. */
static int64_t soonest(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/* When the quota of @a sp has something to say next: the next warning not
 * said yet, or the limit.  A service with k live spaces here spends its
 * day k times as fast. */
static int64_t quota_deadline(const struct space *sp, int64_t now)
{
	const struct space_policy *p = &sp->mgr->policy;
	int64_t left = left_ms(sp, now), at = -1, k;

	if (left == INT64_MAX)
		return -1;
	if (left == 0)
		return now;
	k = sp->day && sp->day->n ? sp->day->n : 1;
	for (unsigned i = 0; i < p->n_warnings; i++) {
		int64_t w = (int64_t)p->warnings[i] * 1000;

		if (sp->warned & (1u << i))
			continue;
		if (left <= w)
			return now;
		at = soonest(at, now + (left - w + k - 1) / k);
	}
	return soonest(at, now + (left + k - 1) / k);
}

/* Bookings fall due on whole seconds of the clock that all spaces share,
 * so that the spaces' bookings of one second are one wake of the loop
 * and, for the caller, one statement: ten thousand spaces booking every
 * 30 s each at its own millisecond woke the loop 333 times a second.  A
 * booking comes at most a second after its interval. */
#define BOOK_GRID_MS 1000

static int64_t book_at(int64_t at)
{
	int64_t r = at % BOOK_GRID_MS;

	return r ? at + (r > 0 ? BOOK_GRID_MS - r : -r) : at;
}

static int64_t compute_deadline(const struct space *sp, int64_t now)
{
	const struct space_policy *p = &sp->mgr->policy;
	int64_t at = -1;

	if (sp->ending)
		return -1;
	/* Without a host, joiners wait for the next one. */
	if (sp->first_pending && !sp->lost_host)
		at = sp->first_pending->since + p->admission_timeout;
	if (sp->lost_host)
		at = soonest(at, sp->lost_at + p->host_grace);
	at = soonest(at, quota_deadline(sp, now));
	if (p->book_interval > 0)
		at = soonest(at, book_at(sp->counted_from + p->book_interval));
	return soonest(at, sp->programme_at);
}

static void reschedule(struct space *sp, int64_t now)
{
	int64_t at = compute_deadline(sp, now);

	if (at == sp->deadline && (at < 0 || sp->heap_index))
		return;
	heap_out(sp);
	sp->deadline = at;
	/* Out of memory: the space loses its timers rather than the
	 * process its life; it still ends by its host. */
	if (at >= 0 && heap_add(sp->mgr, sp) < 0)
		sp->deadline = -1;
}

int64_t space_mgr_next_deadline(const struct space_mgr *mgr)
{
	return mgr->heap_used ? mgr->heap[1]->deadline : -1;
}

/* Book the whole seconds played since the last booking. */
static unsigned book(struct space *sp, int64_t now)
{
	int64_t ms = now - sp->counted_from;
	unsigned s = ms > 0 ? (unsigned)(ms / 1000) : 0;

	sp->counted_from += (int64_t)s * 1000;
	if (sp->day)
		sp->day->booked += s;
	return s;
}

/* The one thing @a sp has to do at @a now, into @a a; false for none. */
static bool next_action(struct space *sp, int64_t now, struct space_action *a,
			char *user, size_t len)
{
	const struct space_policy *p = &sp->mgr->policy;
	struct space_member *m = sp->first_pending;
	int64_t left;

	memset(a, 0, sizeof(*a));
	a->space = sp;
	if (m && !sp->lost_host && m->since + p->admission_timeout <= now) {
		a->kind = SPACE_ACT_EXPIRED;
		snprintf(user, len, "%s", m->user);
		a->user = user;
		a->request = m->request;
		a->handle = m->handle;
		member_unlink(m);
		member_free(m);
		return true;
	}
	if (sp->lost_host && sp->lost_at + p->host_grace <= now) {
		snprintf(user, len, "%s", sp->lost_host);
		a->lost = user;
		if (!p->host_lost_end && (a->member = promote(sp, now))) {
			a->kind = SPACE_ACT_PROMOTED;
			return true;
		}
		a->kind = SPACE_ACT_END;
		a->reason = SPACE_END_HOST_GONE;
		return true;
	}
	left = left_ms(sp, now);
	if (left == 0) {
		a->kind = SPACE_ACT_END;
		a->reason = SPACE_END_LIMIT;
		return true;
	}
	if (left != INT64_MAX) {
		unsigned said = 0;

		/* Thresholds run high to low: of those crossed, only the
		 * lowest is worth saying. */
		for (unsigned i = 0; i < p->n_warnings; i++)
			if (left <= (int64_t)p->warnings[i] * 1000 &&
			    !(sp->warned & (1u << i))) {
				sp->warned |= 1u << i;
				said = p->warnings[i];
			}
		if (said) {
			a->kind = SPACE_ACT_WARN;
			a->seconds = said;
			return true;
		}
	}
	if (p->book_interval > 0 &&
	    sp->counted_from + p->book_interval <= now) {
		a->kind = SPACE_ACT_BOOK;
		a->seconds = book(sp, now);
		if (a->seconds > 0)
			return true;
	}
	if (sp->programme_at >= 0 && sp->programme_at <= now) {
		sp->programme_at = -1;
		a->kind = SPACE_ACT_PROGRAMME;
		return true;
	}
	return false;
}

void space_set_programme_change(struct space *sp, int64_t at, int64_t now)
{
	sp->programme_at = at;
	reschedule(sp, now);
}

void space_mgr_run(struct space_mgr *mgr, int64_t now, space_action_f *fn,
		   void *arg)
{
	struct space *sp;
	char user[256];

	while (mgr->heap_used && (sp = mgr->heap[1])->deadline <= now) {
		struct space_action a;
		uint64_t id = sp->id;

		if (!next_action(sp, now, &a, user, sizeof(user))) {
			reschedule(sp, now);
			if (sp->heap_index && sp->deadline <= now) {
				/* Nothing to do yet the clock says due: wait
				 * a little rather than spin. */
				sp->deadline = now + 1;
				sift_down(mgr, sp->heap_index);
			}
			continue;
		}
		if (a.kind == SPACE_ACT_END)
			space_set_ending(sp);
		fn(arg, &a);
		/* The caller may have closed it (an end). */
		if ((sp = space_find(mgr, id)))
			reschedule(sp, now);
	}
}

void space_mgr_new_day(struct space_mgr *mgr, int64_t now, space_action_f *fn,
		       void *arg)
{
	unsigned n = 0;
	uint64_t *ids = live_ids(mgr, &n);
	struct space *sp;

	if (!ids)
		return;
	/* Time before midnight belongs to the old day. */
	for (unsigned i = 0; i < n; i++) {
		struct space_action a = {.kind = SPACE_ACT_BOOK,
					 .old_day = true};

		if (!(sp = space_find(mgr, ids[i])))
			continue;
		a.space = sp;
		a.seconds = book(sp, now);
		if (a.seconds)
			fn(arg, &a);
	}
	for (size_t i = 0; i < mgr->days.n_buckets; i++)
		for (struct hash_node *x = mgr->days.buckets[i]; x; x = x->next)
			hash_entry(x, struct service_day, node)->booked = 0;
	for (unsigned i = 0; i < n; i++)
		if ((sp = space_find(mgr, ids[i]))) {
			sp->warned = 0;
			reschedule(sp, now);
		}
	free(ids);
}
