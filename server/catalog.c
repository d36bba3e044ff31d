/* The catalog: channels in lineup order and services, held in one su_home.
 * A reload builds a new catalog and swaps it in, so entries are never
 * changed in place and pointers handed out stay valid for the catalog's
 * life. */
#include "server/catalog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/su_string.h>

struct catalog {
	su_home_t home[1]; /* first member: owns every entry */
	struct channel *channels;
	unsigned n_channels, cap_channels;
	struct service *services;
	unsigned n_services, cap_services;
};

struct catalog *catalog_create(su_home_t *parent)
{
	return su_home_clone(parent, sizeof(struct catalog));
}

struct catalog *catalog_destroy(struct catalog *cat)
{
	if (cat)
		su_home_unref(cat->home);
	return NULL;
}

/* Grow @a *array of @a size-byte entries to hold one more.  Growing moves
 * the array, so catalogs are filled before anyone holds pointers into
 * them (the loaders fill a fresh catalog). */
static int grow(su_home_t *home, void **array, unsigned n, unsigned *cap,
		size_t size)
{
	void *p;
	unsigned ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = su_realloc(home, *array, (isize_t)(ncap * size));
	if (!p)
		return -ENOMEM;
	*array = p;
	*cap = ncap;
	return 0;
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

int catalog_add_channel(struct catalog *cat, const struct channel *ch)
{
	struct channel *c;
	int oom = 0;

	if (!ch->id || !*ch->id || !ch->port || ch->port > 65535)
		return -EINVAL;
	if (catalog_channel(cat, ch->id) ||
	    (ch->number && catalog_channel_by_number(cat, ch->number)))
		return -EEXIST;
	if (grow(cat->home, (void **)&cat->channels, cat->n_channels,
		 &cat->cap_channels, sizeof(*c)) < 0)
		return -ENOMEM;
	c = &cat->channels[cat->n_channels];
	*c = *ch;
	c->id = dup_or_null(cat->home, ch->id, &oom);
	c->name = dup_or_null(cat->home, ch->name ? ch->name : ch->id, &oom);
	c->group = dup_or_null(cat->home, ch->group, &oom);
	c->source = dup_or_null(cat->home, ch->source, &oom);
	c->generate = dup_or_null(cat->home, ch->generate, &oom);
	if (oom)
		return -ENOMEM;
	if (!c->number)
		c->number = cat->n_channels + 1;
	if (!c->ttl)
		c->ttl = 16;
	cat->n_channels++;
	return 0;
}

int catalog_add_service(struct catalog *cat, const struct service *svc)
{
	struct service *s = NULL;
	int oom = 0;

	if (!svc->id || !*svc->id || !svc->user || !*svc->user)
		return -EINVAL;
	for (unsigned i = 0; i < cat->n_services; i++)
		if (su_strmatch(cat->services[i].id, svc->id))
			s = &cat->services[i];
	if (!s) {
		if (grow(cat->home, (void **)&cat->services, cat->n_services,
			 &cat->cap_services, sizeof(*s)) < 0)
			return -ENOMEM;
		s = &cat->services[cat->n_services++];
	}
	*s = *svc;
	s->id = dup_or_null(cat->home, svc->id, &oom);
	s->user = dup_or_null(cat->home, svc->user, &oom);
	s->default_channel = dup_or_null(cat->home, svc->default_channel, &oom);
	s->package = dup_or_null(cat->home, svc->package, &oom);
	return oom ? -ENOMEM : 0;
}

const struct channel *catalog_channel(const struct catalog *cat, const char *id)
{
	if (!id)
		return NULL;
	for (unsigned i = 0; i < cat->n_channels; i++)
		if (su_strmatch(cat->channels[i].id, id))
			return &cat->channels[i];
	return NULL;
}

const struct channel *catalog_channel_by_number(const struct catalog *cat,
						unsigned number)
{
	for (unsigned i = 0; i < cat->n_channels; i++)
		if (cat->channels[i].number == number)
			return &cat->channels[i];
	return NULL;
}

const struct channel *catalog_channel_by_group(const struct catalog *cat,
					       const char *group, unsigned port)
{
	if (!group)
		return NULL;
	for (unsigned i = 0; i < cat->n_channels; i++) {
		const struct channel *c = &cat->channels[i];

		if (c->group && su_strmatch(c->group, group) && c->port == port)
			return c;
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
	return i < cat->n_channels ? &cat->channels[i] : NULL;
}

unsigned catalog_channel_count(const struct catalog *cat)
{
	return cat->n_channels;
}

const struct service *catalog_service(const struct catalog *cat, const char *id)
{
	if (!id)
		return NULL;
	for (unsigned i = 0; i < cat->n_services; i++)
		if (su_strmatch(cat->services[i].id, id))
			return &cat->services[i];
	return NULL;
}

const struct service *catalog_user_service(const struct catalog *cat,
					   const char *user)
{
	const struct service *only = NULL;
	unsigned n = 0;

	if (!user)
		return NULL;
	for (unsigned i = 0; i < cat->n_services; i++) {
		const struct service *s = &cat->services[i];

		if (!su_strmatch(s->user, user))
			continue;
		if (s->is_default)
			return s;
		only = s;
		n++;
	}
	return n == 1 ? only : NULL;
}

bool catalog_service_allows(const struct service *svc, const char *id)
{
	size_t n = strlen(id);

	if (!svc || !svc->package)
		return true;
	/* "news sports music": whole words only */
	for (const char *p = svc->package; (p = strstr(p, id)); p += n)
		if ((p == svc->package || p[-1] == ' ') &&
		    (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}
