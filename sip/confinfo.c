/* conference-info+xml documents (RFC 4575 §5) for spaces. */
#include "sip/confinfo.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "server/catalog.h"
#include "server/hash.h"
#include "server/space.h"

static xmlChar *x(const char *s)
{
	return (xmlChar *)s;
}

static void set_uint(xmlNodePtr n, const char *name, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	xmlNewProp(n, x(name), x(buf));
}

static void child_uint(xmlNodePtr parent, const char *name, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	xmlNewTextChild(parent, NULL, x(name), x(buf));
}

/* RFC 3339 date-time, as xs:dateTime wants it. */
static void format_time(char *buf, size_t len, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	if (!strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		buf[0] = '\0'; /* else undefined: no room */
}

static void set_time(xmlNodePtr n, const char *name, int64_t t)
{
	char buf[32];

	format_time(buf, sizeof(buf), t);
	xmlNewProp(n, x(name), x(buf));
}

static void uri_of(char *buf, size_t len, const char *user, const char *domain)
{
	snprintf(buf, len, "sip:%s@%s", user, domain);
}

/* The room panel (patent): tvspace's extension inside
 * conference-description, which RFC 4575 §5.3 leaves open to other
 * namespaces.  What RFC 4575 has elements for (capacity, members) is in
 * those, not here. */
static void add_panel(xmlNodePtr desc, const struct confinfo_desc *d)
{
	xmlNodePtr s = xmlNewChild(desc, NULL, x("space"), NULL);
	xmlNsPtr tv = xmlNewNs(s, x(CONFINFO_TV_NS), x("tv"));
	const struct channel *ch = d->channel;
	xmlNodePtr sv;

	xmlSetNs(s, tv);
	set_uint(s, "id", d->id);
	xmlNewProp(s, x("open"), x(d->open ? "true" : "false"));
	set_time(s, "started", d->started);
	if (ch) {
		xmlNodePtr c = xmlNewChild(s, tv, x("channel"), NULL);

		xmlNewProp(c, x("id"), x(ch->id));
		set_uint(c, "number", ch->number);
		xmlNewProp(c, x("name"), x(ch->name ? ch->name : ch->id));
	}
	if (d->program_title) {
		xmlNodePtr p = xmlNewChild(s, tv, x("program"), NULL);

		xmlNewProp(p, x("title"), x(d->program_title));
		if (d->program_start)
			set_time(p, "start", d->program_start);
		if (d->program_stop)
			set_time(p, "stop", d->program_stop);
	}
	sv = xmlNewChild(s, tv, x("service"), NULL);
	xmlNewProp(sv, x("id"), x(d->service_id ? d->service_id : ""));
	set_uint(sv, "level", d->level);
	set_uint(sv, "daily-limit", d->daily_limit);
	set_uint(sv, "played-today", d->played_today);
}

/* RFC 4575 §5.3, in the order of its schema. */
static void add_description(xmlNodePtr root, const struct confinfo_desc *d,
			    const char *domain)
{
	xmlNodePtr desc =
	    xmlNewChild(root, NULL, x("conference-description"), NULL);
	const struct channel *ch = d->channel;
	xmlNodePtr uris, e, media;
	char uri[300];

	xmlNewTextChild(desc, NULL, x("display-text"),
			x(ch && ch->name ? ch->name : "tvspace"));
	if (d->program_title)
		xmlNewTextChild(desc, NULL, x("subject"), x(d->program_title));
	/* The URI that joins, purpose "participation" (RFC 4575's
	 * registry of URI purposes). */
	uris = xmlNewChild(desc, NULL, x("conf-uris"), NULL);
	e = xmlNewChild(uris, NULL, x("entry"), NULL);
	snprintf(uri, sizeof(uri), "sip:space-%" PRIu64 "@%s", d->id, domain);
	xmlNewTextChild(e, NULL, x("uri"), x(uri));
	xmlNewTextChild(e, NULL, x("purpose"), x("participation"));
	child_uint(desc, "maximum-user-count", d->capacity);
	if (ch) {
		const char *type =
		    ch->media == CHANNEL_AUDIO ? "audio" : "video";

		/* One stream, the channel's; members only receive it. */
		media = xmlNewChild(desc, NULL, x("available-media"), NULL);
		e = xmlNewChild(media, NULL, x("entry"), NULL);
		xmlNewProp(e, x("label"), x(type));
		xmlNewTextChild(e, NULL, x("type"), x(type));
		xmlNewTextChild(e, NULL, x("status"), x("recvonly"));
	}
	add_panel(desc, d);
}

static const char *how_str(enum confinfo_how how)
{
	switch (how) {
	case CONFINFO_BOOTED:
		return "booted";
	case CONFINFO_FAILED:
		return "failed";
	default:
		return "departed";
	}
}

static void add_status(xmlNodePtr ep, const struct confinfo_user *u)
{
	xmlNewTextChild(ep, NULL, x("status"),
			x(u->gone      ? "disconnected"
			  : u->pending ? "pending"
				       : "connected"));
	if (!u->gone)
		return;
	xmlNewTextChild(ep, NULL, x("disconnection-method"),
			x(how_str(u->how)));
	if (u->when) {
		xmlNodePtr info =
		    xmlNewChild(ep, NULL, x("disconnection-info"), NULL);
		char buf[32];

		format_time(buf, sizeof(buf), u->when);
		xmlNewTextChild(info, NULL, x("when"), x(buf));
	}
}

static void add_user(xmlNodePtr users, const struct confinfo_user *u,
		     const char *domain, bool partial)
{
	xmlNodePtr n = xmlNewChild(users, NULL, x("user"), NULL);
	enum confinfo_entry entry = partial ? u->entry : CONFINFO_ENTRY_FULL;
	unsigned what = entry == CONFINFO_ENTRY_PARTIAL
			    ? u->changed
			    : CONFINFO_ROLE | CONFINFO_STATUS | CONFINFO_NAME;
	xmlNodePtr ep;
	char uri[300];

	uri_of(uri, sizeof(uri), u->user, domain);
	xmlNewProp(n, x("entity"), x(uri));
	xmlNewProp(n, x("state"),
		   x(entry == CONFINFO_ENTRY_DELETED   ? "deleted"
		     : entry == CONFINFO_ENTRY_PARTIAL ? "partial"
						       : "full"));
	if (entry == CONFINFO_ENTRY_DELETED)
		return;
	/* The users table's display name; without one the entity's user
	 * part is the name, and repeating it would cost every full
	 * document its bytes. */
	if (what & CONFINFO_NAME && u->display)
		xmlNewTextChild(n, NULL, x("display-text"), x(u->display));
	if (what & CONFINFO_ROLE) {
		xmlNodePtr roles = xmlNewChild(n, NULL, x("roles"), NULL);

		xmlNewTextChild(roles, NULL, x("entry"),
				x(u->host ? "host" : "guest"));
	}
	if (!(what & CONFINFO_STATUS))
		return;
	/* One endpoint a user, its URI the user's.  In a partial entry the
	 * endpoint is partial too: its status (and how it left) only. */
	ep = xmlNewChild(n, NULL, x("endpoint"), NULL);
	xmlNewProp(ep, x("entity"), x(uri));
	if (entry == CONFINFO_ENTRY_PARTIAL)
		xmlNewProp(ep, x("state"), x("partial"));
	add_status(ep, u);
}

static xmlDocPtr new_doc(uint64_t id, const char *domain, unsigned version,
			 const char *state, xmlNodePtr *ret_root)
{
	xmlDocPtr doc = xmlNewDoc(x("1.0"));
	xmlNodePtr root;
	char entity[300];

	if (!doc)
		return NULL;
	root = xmlNewNode(NULL, x("conference-info"));
	xmlDocSetRootElement(doc, root);
	xmlSetNs(root, xmlNewNs(root, x(CONFINFO_NS), NULL));
	snprintf(entity, sizeof(entity), "sip:space-%" PRIu64 "@%s", id,
		 domain);
	xmlNewProp(root, x("entity"), x(entity));
	xmlNewProp(root, x("state"), x(state));
	set_uint(root, "version", version);
	*ret_root = root;
	return doc;
}

/* Without indentation: whitespace between elements is bytes in every
 * NOTIFY and means nothing to a reader. */
static char *dump(su_home_t *home, xmlDocPtr doc)
{
	xmlChar *mem = NULL;
	int len = 0;
	char *text;

	xmlDocDumpMemoryEnc(doc, &mem, &len, "UTF-8");
	text = mem ? su_strndup(home, (const char *)mem, (isize_t)len) : NULL;
	xmlFree(mem);
	xmlFreeDoc(doc);
	return text;
}

char *confinfo_build(su_home_t *home, const struct confinfo_doc *d)
{
	xmlNodePtr root, users;
	xmlDocPtr doc;

	if (!d->partial && !d->desc)
		return NULL;
	doc = new_doc(d->id, d->domain, d->version,
		      d->partial ? "partial" : "full", &root);
	if (!doc)
		return NULL;
	if (d->desc)
		add_description(root, d->desc, d->domain);
	if (!d->partial || d->with_count) {
		xmlNodePtr state =
		    xmlNewChild(root, NULL, x("conference-state"), NULL);

		child_uint(state, "user-count", d->user_count);
		xmlNewTextChild(state, NULL, x("active"), x("true"));
	}
	if (!d->partial || d->n_users) {
		users = xmlNewChild(root, NULL, x("users"), NULL);
		/* users-type's state defaults to "full": a partial list must
		 * say so. */
		if (d->partial)
			xmlNewProp(users, x("state"), x("partial"));
		for (unsigned i = 0; i < d->n_users; i++)
			add_user(users, &d->users[i], d->domain, d->partial);
	}
	return dump(home, doc);
}

void confinfo_describe(const struct space *sp,
		       const struct confinfo_panel *panel,
		       struct confinfo_desc *d)
{
	const struct space_service *svc = space_service(sp);

	memset(d, 0, sizeof(*d));
	d->id = space_id(sp);
	d->channel = space_channel(sp);
	if (panel) {
		d->program_title = panel->program_title;
		d->program_start = panel->program_start;
		d->program_stop = panel->program_stop;
		d->played_today = panel->played_today;
	}
	d->service_id = svc ? svc->id : NULL;
	d->level = svc ? svc->level : 0;
	d->capacity = space_capacity(sp);
	d->daily_limit = space_daily_limit(sp);
	d->open = space_is_open(sp);
	d->started = space_started(sp);
}

char *confinfo_document(su_home_t *home, const struct space *sp,
			const char *domain, unsigned version,
			const struct confinfo_panel *panel)
{
	su_home_t tmp[1] = {SU_HOME_INIT(tmp)};
	struct confinfo_desc desc;
	struct confinfo_doc d = {
	    .id = space_id(sp),
	    .domain = domain,
	    .version = version,
	    .desc = &desc,
	    .user_count = space_count(sp),
	};
	struct confinfo_user *u;
	unsigned n = space_count(sp) + space_pending_count(sp);
	char *text = NULL;

	confinfo_describe(sp, panel, &desc);
	u = su_zalloc(tmp, (isize_t)((n ? n : 1) * sizeof(*u)));
	if (!u)
		goto out;
	for (const struct space_member *m = space_members(sp);
	     m && d.n_users < n; m = m->next) {
		u[d.n_users].user = m->user;
		u[d.n_users].host = m->role == SPACE_HOST;
		u[d.n_users].pending = m->role == SPACE_PENDING;
		d.n_users++;
	}
	d.users = u;
	text = confinfo_build(home, &d);
out:
	su_home_deinit(tmp);
	return text;
}

char *confinfo_deleted(su_home_t *home, uint64_t id, const char *domain,
		       unsigned version)
{
	xmlNodePtr root;
	xmlDocPtr doc = new_doc(id, domain, version, "deleted", &root);

	return doc ? dump(home, doc) : NULL;
}

char *confinfo_set_version(su_home_t *home, const char *text, unsigned version)
{
	/* The root's start tag: its entity's value holds no '"' (libxml2
	 * writes it &quot;), so the first version=" in it is the
	 * attribute, not the XML declaration's (which comes before). */
	const char *root = text ? strstr(text, "<conference-info") : NULL;
	const char *end = root ? strchr(root, '>') : NULL;
	const char *v = root ? strstr(root, " version=\"") : NULL;
	const char *close;

	if (!v || v > end)
		return NULL;
	v += strlen(" version=\"");
	close = strchr(v, '"');
	if (!close || close > end)
		return NULL;
	return su_sprintf(home, "%.*s%u%s", (int)(v - text), text, version,
			  close);
}

/* -- a room ------------------------------------------------------------- */

/* A partial document carries at most this many users, and at most about
 * half of the room: past that a full one costs about the same and is
 * simpler to apply. */
#define PARTIAL_MAX 256

enum peer_life {
	PEER_IN,      /* in the space when the room last looked */
	PEER_LEFT,    /* gone since the last told(): listed disconnected */
	PEER_DROPPED, /* listed disconnected: the next document deletes it */
};

/* Not a bit of CONFINFO_*: the whole user goes (new, or back). */
#define PEER_ADDED 0x100u

/* A member as the room's subscribers know it. */
struct peer {
	struct hash_node node;    /* in room->peers, by user */
	struct peer *next, *prev; /* the room's order (of arrival) */
	struct peer *next_change; /* in room->changes */
	char *display;            /* users.display_name, or NULL */
	enum peer_life life;
	bool host, pending; /* as last seen */
	bool in_changes;    /* on room->changes */
	bool asked;         /* its display name was asked for */
	bool how_known;     /* told how it left */
	enum confinfo_how how;
	unsigned changed; /* since the last told(): CONFINFO_*, PEER_ADDED */
	uint32_t seen;    /* the look that last found it */
	int64_t when;     /* unix s it left */
	char user[];
};

struct confinfo_room {
	su_home_t home[1]; /* first: su_home_clone() */
	struct hash_table peers;
	struct peer *first, *last;
	struct peer *changes; /* changed since the last told() */
	unsigned n_changes;
	unsigned n_in; /* peers PEER_IN */
	uint32_t looks;
	bool synced;
	char *desc_told;     /* the description's fingerprint, as told */
	unsigned count_told; /* user-count, as told */
};

struct confinfo_room *confinfo_room_create(su_home_t *parent)
{
	struct confinfo_room *r = su_home_clone(parent, sizeof(*r));

	if (r && hash_init(&r->peers, r->home) < 0) {
		su_home_unref(r->home);
		r = NULL;
	}
	return r;
}

void confinfo_room_destroy(struct confinfo_room *r)
{
	if (r)
		su_home_unref(r->home);
}

static struct peer *peer_find(const struct confinfo_room *r, const char *user)
{
	hash_value_t hv = hash_str(user);

	for (struct hash_node *n = hash_bucket(&r->peers, hv); n; n = n->next) {
		struct peer *p = hash_entry(n, struct peer, node);

		if (n->hv == hv && strcmp(p->user, user) == 0)
			return p;
	}
	return NULL;
}

static void change(struct confinfo_room *r, struct peer *p, unsigned what)
{
	p->changed |= what;
	if (!p->in_changes) {
		p->in_changes = true;
		p->next_change = r->changes;
		r->changes = p;
		r->n_changes++;
	}
}

static void peer_free(struct confinfo_room *r, struct peer *p)
{
	hash_remove(&r->peers, &p->node);
	if (p->prev)
		p->prev->next = p->next;
	else
		r->first = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		r->last = p->prev;
	if (p->life == PEER_IN)
		r->n_in--;
	su_free(r->home, p->display);
	su_free(r->home, p);
}

void confinfo_room_forget(struct confinfo_room *r)
{
	while (r->first)
		peer_free(r, r->first);
	r->changes = NULL;
	r->n_changes = 0;
	r->synced = false;
	su_free(r->home, r->desc_told);
	r->desc_told = NULL;
	r->count_told = 0;
}

bool confinfo_room_synced(const struct confinfo_room *r)
{
	return r->synced;
}

unsigned confinfo_room_pending(const struct confinfo_room *r)
{
	return r->n_changes;
}

static struct peer *peer_add(struct confinfo_room *r,
			     const struct space_member *m)
{
	size_t len = strlen(m->user);
	struct peer *p = su_zalloc(r->home, (isize_t)(sizeof(*p) + len + 1));

	if (!p)
		return NULL;
	memcpy(p->user, m->user, len + 1);
	p->host = m->role == SPACE_HOST;
	p->pending = m->role == SPACE_PENDING;
	hash_insert(&r->peers, &p->node, hash_str(p->user));
	p->prev = r->last;
	if (r->last)
		r->last->next = p;
	else
		r->first = p;
	r->last = p;
	r->n_in++;
	return p;
}

unsigned confinfo_room_look(struct confinfo_room *r, const struct space *sp,
			    int64_t now)
{
	uint32_t look = ++r->looks;
	const char *lost = space_lost_host(sp);

	for (const struct space_member *m = space_members(sp); m; m = m->next) {
		struct peer *p = peer_find(r, m->user);
		bool host = m->role == SPACE_HOST;
		bool pending = m->role == SPACE_PENDING;
		unsigned what = 0;

		if (!p) {
			p = peer_add(r, m);
			if (!p)
				continue;
			if (r->synced)
				change(r, p, PEER_ADDED);
		}
		else if (p->life != PEER_IN) {
			/* Back, before the subscribers were told it left
			 * or after: the whole user again. */
			p->life = PEER_IN;
			p->how_known = false;
			r->n_in++;
			p->host = host;
			p->pending = pending;
			change(r, p, PEER_ADDED);
		}
		else {
			if (p->host != host)
				what |= CONFINFO_ROLE;
			if (p->pending != pending)
				what |= CONFINFO_STATUS;
			p->host = host;
			p->pending = pending;
			if (what)
				change(r, p, what);
		}
		p->seen = look;
	}
	for (struct peer *p = r->first; p; p = p->next) {
		if (p->life != PEER_IN || p->seen == look)
			continue;
		p->life = PEER_LEFT;
		r->n_in--;
		if (!p->how_known)
			p->how = lost && strcmp(lost, p->user) == 0
				     ? CONFINFO_FAILED
				     : CONFINFO_DEPARTED;
		p->when = now;
		change(r, p, CONFINFO_STATUS);
	}
	r->synced = true;
	return r->n_changes;
}

void confinfo_room_left(struct confinfo_room *r, const char *user,
			enum confinfo_how how)
{
	struct peer *p = user ? peer_find(r, user) : NULL;

	if (p && p->life == PEER_IN) {
		p->how = how;
		p->how_known = true;
	}
}

/* Whether @a s can be a display-text: text from the users table goes
 * into every NOTIFY, and a control character, a byte that is not UTF-8 or
 * a character XML 1.0 does not have would make the document not
 * well-formed; a name longer than CONFINFO_NAME_MAX bytes is not shown
 * (the user id is). */
static bool display_ok(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s);

	if (!n || n > CONFINFO_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned more, k;
		uint32_t cp, min;

		if (u[i] < 0x20 || u[i] == 0x7f)
			return false;
		if (u[i] < 0x80)
			continue;
		if ((u[i] & 0xe0) == 0xc0)
			more = 1, min = 0x80, cp = u[i] & 0x1fu;
		else if ((u[i] & 0xf0) == 0xe0)
			more = 2, min = 0x800, cp = u[i] & 0x0fu;
		else if ((u[i] & 0xf8) == 0xf0)
			more = 3, min = 0x10000, cp = u[i] & 0x07u;
		else
			return false;
		if (n - i <= more)
			return false;
		for (k = 1; k <= more; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (u[i + k] & 0x3fu);
		}
		/* overlong, UTF-16 surrogates, U+FFFE and U+FFFF, past
		 * U+10FFFF */
		if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) ||
		    cp == 0xfffe || cp == 0xffff || cp > 0x10ffff)
			return false;
		i += more;
	}
	return true;
}

void confinfo_room_named(struct confinfo_room *r, const char *user,
			 const char *display)
{
	struct peer *p = user ? peer_find(r, user) : NULL;

	if (!p || !display || !display_ok(display) ||
	    (p->display && strcmp(p->display, display) == 0))
		return;
	su_free(r->home, p->display);
	p->display = su_strdup(r->home, display);
	/* A user the subscribers have already: its new display-text.  (A
	 * new one goes whole, with it.) */
	if (r->synced && p->life == PEER_IN && !(p->changed & PEER_ADDED))
		change(r, p, CONFINFO_NAME);
}

unsigned confinfo_room_unnamed(struct confinfo_room *r, const char **users,
			       unsigned max)
{
	unsigned n = 0;

	for (struct peer *p = r->first; p && n < max; p = p->next) {
		if (p->asked || p->life != PEER_IN)
			continue;
		p->asked = true;
		users[n++] = p->user;
	}
	return n;
}

/* What of the description a partial document carries when it changes:
 * everything but played-today, which only grows while the space plays
 * (a subscriber counts it on from the last document that had it). */
static char *fingerprint(su_home_t *home, const struct confinfo_desc *d)
{
	const struct channel *ch = d->channel;

	return su_sprintf(
	    home, "%s|%u|%s|%s|%lld|%lld|%s|%u|%u|%u|%d|%lld", ch ? ch->id : "",
	    ch ? ch->number : 0, ch && ch->name ? ch->name : "",
	    d->program_title ? d->program_title : "",
	    (long long)d->program_start, (long long)d->program_stop,
	    d->service_id ? d->service_id : "", d->level, d->capacity,
	    d->daily_limit, d->open, (long long)d->started);
}

static void fill_user(struct confinfo_user *u, const struct peer *p)
{
	u->user = p->user;
	u->display = p->display;
	u->host = p->host;
	u->pending = p->pending;
	u->gone = p->life == PEER_LEFT;
	u->how = p->how;
	u->when = p->when;
}

/* Came and went between two documents: nobody knew it. */
static bool unseen(const struct peer *p)
{
	return p->life == PEER_LEFT && p->changed & PEER_ADDED;
}

/* Admitted members as the room has them (what user-count counts). */
static unsigned room_count(const struct confinfo_room *r)
{
	unsigned n = 0;

	for (const struct peer *p = r->first; p; p = p->next)
		n += p->life == PEER_IN && !p->pending;
	return n;
}

char *confinfo_room_full(su_home_t *home, const struct confinfo_room *r,
			 const struct confinfo_desc *desc, const char *domain,
			 unsigned version)
{
	su_home_t tmp[1] = {SU_HOME_INIT(tmp)};
	struct confinfo_doc d = {
	    .id = desc->id,
	    .domain = domain,
	    .version = version,
	    .desc = desc,
	};
	struct confinfo_user *u = su_zalloc(
	    tmp, (isize_t)((r->n_in + r->n_changes + 1) * sizeof(*u)));
	char *text = NULL;

	if (!u)
		goto out;
	for (const struct peer *p = r->first; p; p = p->next) {
		if (p->life == PEER_DROPPED || unseen(p))
			continue;
		fill_user(&u[d.n_users++], p);
		d.user_count += p->life == PEER_IN && !p->pending;
	}
	d.users = u;
	text = confinfo_build(home, &d);
out:
	su_home_deinit(tmp);
	return text;
}

char *confinfo_room_update(su_home_t *home, const struct confinfo_room *r,
			   const struct confinfo_desc *desc, const char *domain,
			   unsigned version, bool *ret_full)
{
	su_home_t tmp[1] = {SU_HOME_INIT(tmp)};
	struct confinfo_doc d = {
	    .id = desc->id,
	    .domain = domain,
	    .version = version,
	    .partial = true,
	};
	struct confinfo_user *u;
	unsigned count = room_count(r), news = 0;
	char *fp = fingerprint(tmp, desc), *text = NULL;
	bool new_desc = !fp || !r->desc_told || strcmp(fp, r->desc_told) != 0;

	*ret_full = false;
	for (const struct peer *p = r->changes; p; p = p->next_change)
		news += p->life != PEER_DROPPED && !unseen(p);
	if (!news && !new_desc && count == r->count_told)
		goto out; /* deletions wait for the next */
	if (r->n_changes > PARTIAL_MAX ||
	    (r->n_changes > 8 && 2 * r->n_changes > r->n_in)) {
		*ret_full = true;
		text = confinfo_room_full(home, r, desc, domain, version);
		goto out;
	}
	u = su_zalloc(tmp, (isize_t)((r->n_changes + 1) * sizeof(*u)));
	if (!u)
		goto out;
	for (const struct peer *p = r->changes; p; p = p->next_change) {
		struct confinfo_user *e = &u[d.n_users];

		if (unseen(p))
			continue;
		fill_user(e, p);
		e->entry = p->life == PEER_DROPPED   ? CONFINFO_ENTRY_DELETED
			   : p->changed & PEER_ADDED ? CONFINFO_ENTRY_FULL
						     : CONFINFO_ENTRY_PARTIAL;
		e->changed = p->changed;
		d.n_users++;
	}
	d.desc = new_desc ? desc : NULL;
	d.with_count = count != r->count_told;
	d.user_count = count;
	d.users = u;
	text = confinfo_build(home, &d);
out:
	su_home_deinit(tmp);
	return text;
}

void confinfo_room_told(struct confinfo_room *r,
			const struct confinfo_desc *desc)
{
	struct peer *p = r->changes, *next;

	r->changes = NULL;
	r->n_changes = 0;
	for (; p; p = next) {
		next = p->next_change;
		p->in_changes = false;
		if (p->life == PEER_DROPPED || unseen(p)) {
			peer_free(r, p);
		}
		else if (p->life == PEER_LEFT) {
			/* Listed disconnected: deleted by the next. */
			p->changed = 0;
			p->life = PEER_DROPPED;
			change(r, p, 0);
		}
		else {
			p->changed = 0;
		}
	}
	su_free(r->home, r->desc_told);
	r->desc_told = fingerprint(r->home, desc);
	r->count_told = room_count(r);
}
