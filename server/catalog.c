/* The catalog: channels in lineup order and the service levels, in one
 * su_home.  A reload builds a new catalog and swaps it in, so entries are
 * never changed in place and pointers handed out stay valid for the
 * catalog's life.  Channels are found by id, number and group through
 * hash tables. */
#include "server/catalog.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/su_string.h>

#include "server/hash.h"

/* A channel as the catalog keeps it, in its three indexes. */
struct entry {
	struct channel ch;
	struct hash_node by_id, by_number, by_group;
};

struct catalog {
	su_home_t home[1];       /* first member: owns every entry */
	struct entry **channels; /* lineup order */
	unsigned n_channels, cap_channels;
	struct hash_table ids, numbers, groups;
	/* the distinct encodings of CHANNEL_STREAMS channels, in entries */
	const struct channel_stream **encodings;
	unsigned n_encodings;
	struct level *levels;
	unsigned n_levels;
};

static hash_value_t group_hash(const char *group, unsigned port)
{
	return hash_str(group) * 31u + port;
}

bool catalog_package_allows(const char *package, const char *id)
{
	size_t n = strlen(id);

	if (!package)
		return true;
	/* "news sports music": whole words only */
	for (const char *p = package; (p = strstr(p, id)); p += n)
		if ((p == package || p[-1] == ' ') &&
		    (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

struct catalog *catalog_create(su_home_t *parent)
{
	struct catalog *cat = su_home_clone(parent, sizeof(*cat));

	if (cat && (hash_init(&cat->ids, cat->home) < 0 ||
		    hash_init(&cat->numbers, cat->home) < 0 ||
		    hash_init(&cat->groups, cat->home) < 0)) {
		su_home_unref(cat->home);
		return NULL;
	}
	return cat;
}

struct catalog *catalog_destroy(struct catalog *cat)
{
	if (cat)
		su_home_unref(cat->home);
	return NULL;
}

static const char *dup_or_null(su_home_t *home, const char *s, int *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = su_strdup(home, s);
	if (!d)
		*oom = 1;
	return d;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_encoding(const struct channel_stream *a,
			  const struct channel_stream *b)
{
	return a->media == b->media && su_casematch(a->encoding, b->encoding) &&
	       a->clock == b->clock && a->channels == b->channels &&
	       same_str(a->fmtp, b->fmtp);
}

/* A channel of separate streams: one or two, at most one a media type,
 * each with an encoding, a clock and a group to come from. */
static bool streams_ok(const struct channel *ch)
{
	if (ch->media != CHANNEL_STREAMS)
		return ch->n_streams == 0;
	if (!ch->n_streams || ch->n_streams > CHANNEL_MAX_STREAMS)
		return false;
	for (unsigned i = 0; i < ch->n_streams; i++) {
		const struct channel_stream *st = &ch->streams[i];

		if ((st->media != CHANNEL_VIDEO &&
		     st->media != CHANNEL_AUDIO) ||
		    !st->encoding || !*st->encoding || !st->clock ||
		    st->pt > 127 || !st->group || !st->port || st->port > 65535)
			return false;
		for (unsigned j = 0; j < i; j++)
			if (ch->streams[j].media == st->media)
				return false;
	}
	return true;
}

/* Each encoding of @a e's streams not listed yet. */
static int note_encodings(struct catalog *cat, const struct entry *e)
{
	for (unsigned i = 0; i < e->ch.n_streams; i++) {
		const struct channel_stream *st = &e->ch.streams[i];
		const struct channel_stream **n;
		unsigned k;

		for (k = 0; k < cat->n_encodings; k++)
			if (same_encoding(cat->encodings[k], st))
				break;
		if (k < cat->n_encodings)
			continue;
		n = su_realloc(
		    cat->home, cat->encodings,
		    (isize_t)((cat->n_encodings + 1) *
			      sizeof(const struct channel_stream *)));
		if (!n)
			return -ENOMEM;
		cat->encodings = n;
		cat->encodings[cat->n_encodings++] = st;
	}
	return 0;
}

int catalog_add_channel(struct catalog *cat, const struct channel *ch)
{
	struct entry *e;
	int oom = 0;

	if (!ch->id || !*ch->id || !ch->port || ch->port > 65535 ||
	    !streams_ok(ch))
		return -EINVAL;
	if (catalog_channel(cat, ch->id) ||
	    (ch->number && catalog_channel_by_number(cat, ch->number)))
		return -EEXIST;
	if (cat->n_channels == cat->cap_channels) {
		unsigned cap = cat->cap_channels ? 2 * cat->cap_channels : 16;
		struct entry **n =
		    su_realloc(cat->home, cat->channels,
			       (isize_t)(cap * sizeof(struct entry *)));

		if (!n)
			return -ENOMEM;
		cat->channels = n;
		cat->cap_channels = cap;
	}
	e = su_zalloc(cat->home, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->ch = *ch;
	e->ch.id = dup_or_null(cat->home, ch->id, &oom);
	e->ch.name = dup_or_null(cat->home, ch->name ? ch->name : ch->id, &oom);
	e->ch.group = dup_or_null(cat->home, ch->group, &oom);
	e->ch.source = dup_or_null(cat->home, ch->source, &oom);
	e->ch.generate = dup_or_null(cat->home, ch->generate, &oom);
	for (unsigned i = 0; i < ch->n_streams; i++) {
		struct channel_stream *st = &e->ch.streams[i];

		st->encoding = dup_or_null(cat->home, st->encoding, &oom);
		st->fmtp = dup_or_null(cat->home, st->fmtp, &oom);
		st->group = dup_or_null(cat->home, st->group, &oom);
		st->source = dup_or_null(cat->home, st->source, &oom);
	}
	if (oom || note_encodings(cat, e) < 0)
		return -ENOMEM;
	if (!e->ch.number)
		e->ch.number = cat->n_channels + 1;
	if (!e->ch.ttl)
		e->ch.ttl = 16;
	cat->channels[cat->n_channels++] = e;
	hash_insert(&cat->ids, &e->by_id, hash_str(e->ch.id));
	hash_insert(&cat->numbers, &e->by_number, e->ch.number);
	if (e->ch.group)
		hash_insert(&cat->groups, &e->by_group,
			    group_hash(e->ch.group, e->ch.port));
	return 0;
}

int catalog_add_level(struct catalog *cat, const struct level *l)
{
	struct level *x = NULL, *n;
	int oom = 0;

	for (unsigned i = 0; i < cat->n_levels; i++)
		if (cat->levels[i].level == l->level)
			x = &cat->levels[i];
	if (!x) {
		n = su_realloc(cat->home, cat->levels,
			       (isize_t)((cat->n_levels + 1) * sizeof(*n)));
		if (!n)
			return -ENOMEM;
		cat->levels = n;
		x = &cat->levels[cat->n_levels++];
	}
	*x = *l;
	x->name = dup_or_null(cat->home, l->name ? l->name : "", &oom);
	return oom ? -ENOMEM : 0;
}

void catalog_clear_levels(struct catalog *cat)
{
	cat->n_levels = 0;
}

const struct channel *catalog_channel(const struct catalog *cat, const char *id)
{
	hash_value_t hv;

	if (!id)
		return NULL;
	hv = hash_str(id);
	for (struct hash_node *x = hash_bucket(&cat->ids, hv); x; x = x->next) {
		struct entry *e = hash_entry(x, struct entry, by_id);

		if (x->hv == hv && su_strmatch(e->ch.id, id))
			return &e->ch;
	}
	return NULL;
}

const struct channel *catalog_channel_by_number(const struct catalog *cat,
						unsigned number)
{
	for (struct hash_node *x = hash_bucket(&cat->numbers, number); x;
	     x = x->next) {
		struct entry *e = hash_entry(x, struct entry, by_number);

		if (e->ch.number == number)
			return &e->ch;
	}
	return NULL;
}

const struct channel *catalog_channel_by_group(const struct catalog *cat,
					       const char *group, unsigned port)
{
	hash_value_t hv;

	if (!group)
		return NULL;
	hv = group_hash(group, port);
	for (struct hash_node *x = hash_bucket(&cat->groups, hv); x;
	     x = x->next) {
		struct entry *e = hash_entry(x, struct entry, by_group);

		if (x->hv == hv && e->ch.port == port &&
		    su_strmatch(e->ch.group, group))
			return &e->ch;
	}
	return NULL;
}

const struct channel *catalog_channel_lookup(const struct catalog *cat,
					     const char *id_or_number)
{
	const char *p = id_or_number;
	unsigned long n = 0;

	if (!p || !*p)
		return NULL;
	for (; *p >= '0' && *p <= '9' && n < 1000000; p++)
		n = n * 10 + (unsigned long)(*p - '0');
	if (!*p)
		return catalog_channel_by_number(cat, (unsigned)n);
	return catalog_channel(cat, id_or_number);
}

const struct channel *catalog_channel_at(const struct catalog *cat, unsigned i)
{
	return i < cat->n_channels ? &cat->channels[i]->ch : NULL;
}

unsigned catalog_channel_count(const struct catalog *cat)
{
	return cat->n_channels;
}

const struct level *catalog_level(const struct catalog *cat, unsigned level)
{
	for (unsigned i = 0; i < cat->n_levels; i++)
		if (cat->levels[i].level == level)
			return &cat->levels[i];
	return NULL;
}

unsigned catalog_level_count(const struct catalog *cat)
{
	return cat->n_levels;
}

bool catalog_same_media(const struct channel *a, const struct channel *b)
{
	if (a->media != b->media)
		return false;
	if (a->media != CHANNEL_STREAMS)
		return true;
	if (a->n_streams != b->n_streams)
		return false;
	for (unsigned i = 0; i < a->n_streams; i++)
		if (!catalog_stream_of(b, a->streams[i].media))
			return false;
	return true;
}

const struct channel_stream *catalog_stream_of(const struct channel *ch,
					       enum channel_media media)
{
	for (unsigned i = 0; i < ch->n_streams && i < CHANNEL_MAX_STREAMS; i++)
		if (ch->streams[i].media == media)
			return &ch->streams[i];
	return NULL;
}

const struct channel_stream *catalog_encoding_at(const struct catalog *cat,
						 unsigned i)
{
	return i < cat->n_encodings ? cat->encodings[i] : NULL;
}

static size_t len0(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* Put @a s at *@a p in the copy's block and move past it. */
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

struct channel *catalog_channel_copy(su_home_t *home, const struct channel *ch)
{
	size_t n = sizeof(*ch) + len0(ch->id) + len0(ch->name) +
		   len0(ch->group) + len0(ch->source) + len0(ch->generate);
	struct channel *c;
	char *p;

	for (unsigned i = 0; i < ch->n_streams && i < CHANNEL_MAX_STREAMS; i++)
		n += len0(ch->streams[i].encoding) + len0(ch->streams[i].fmtp) +
		     len0(ch->streams[i].group) + len0(ch->streams[i].source);
	c = su_alloc(home, (isize_t)n);
	if (!c)
		return NULL;
	*c = *ch;
	p = (char *)(c + 1);
	c->id = place(&p, ch->id);
	c->name = place(&p, ch->name);
	c->group = place(&p, ch->group);
	c->source = place(&p, ch->source);
	c->generate = place(&p, ch->generate);
	for (unsigned i = 0; i < ch->n_streams && i < CHANNEL_MAX_STREAMS;
	     i++) {
		struct channel_stream *st = &c->streams[i];

		st->encoding = place(&p, ch->streams[i].encoding);
		st->fmtp = place(&p, ch->streams[i].fmtp);
		st->group = place(&p, ch->streams[i].group);
		st->source = place(&p, ch->streams[i].source);
	}
	return c;
}
