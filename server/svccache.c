/* The service cache (svccache.h): entries in one hash table keyed by kind
 * and name, and on one list from most to least recently used. */
#include "server/svccache.h"

#include <string.h>

#include <sofia-sip/su_string.h>

#include "server/hash.h"
#include "server/space.h"

enum key_kind { BY_ID = 'i', BY_USER = 'u' };

struct entry {
	struct hash_node node;
	struct entry *newer, *older; /* the LRU list */
	char kind;
	const char *key;
	int has; /* 0: the user has no service */
	struct space_service svc;
	int64_t until;
};

struct svccache {
	su_home_t home[1];
	struct hash_table table;
	struct entry *newest, *oldest;
	unsigned n, capacity;
	int64_t ttl;
	struct svccache_stats stats;
};

static hash_value_t key_hash(char kind, const char *key)
{
	return hash_str(key) * 31u + (unsigned char)kind;
}

struct svccache *svccache_create(su_home_t *parent, unsigned capacity,
				 int64_t ttl_ms)
{
	struct svccache *c = su_home_clone(parent, sizeof(*c));

	if (!c)
		return NULL;
	if (hash_init(&c->table, c->home) < 0) {
		su_home_unref(c->home);
		return NULL;
	}
	c->capacity = capacity;
	c->ttl = ttl_ms;
	return c;
}

struct svccache *svccache_destroy(struct svccache *c)
{
	if (c)
		su_home_unref(c->home);
	return NULL;
}

static void unlist(struct svccache *c, struct entry *e)
{
	if (e->newer)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void list_front(struct svccache *c, struct entry *e)
{
	e->older = c->newest;
	e->newer = NULL;
	if (c->newest)
		c->newest->newer = e;
	else
		c->oldest = e;
	c->newest = e;
}

static void drop(struct svccache *c, struct entry *e)
{
	unlist(c, e);
	hash_remove(&c->table, &e->node);
	c->n--;
	su_free(c->home, e);
}

void svccache_configure(struct svccache *c, unsigned capacity, int64_t ttl_ms)
{
	c->capacity = capacity;
	c->ttl = ttl_ms;
	while (c->n > c->capacity && c->oldest) {
		drop(c, c->oldest);
		c->stats.evictions++;
	}
}

static struct entry *find(const struct svccache *c, char kind, const char *key)
{
	hash_value_t hv = key_hash(kind, key);

	for (struct hash_node *x = hash_bucket(&c->table, hv); x; x = x->next) {
		struct entry *e = hash_entry(x, struct entry, node);

		if (x->hv == hv && e->kind == kind && su_strmatch(e->key, key))
			return e;
	}
	return NULL;
}

static enum svccache_result lookup(struct svccache *c, char kind,
				   const char *key, int64_t now,
				   const struct space_service **ret)
{
	struct entry *e = find(c, kind, key);

	if (e && e->until <= now) {
		drop(c, e);
		c->stats.expired++;
		e = NULL;
	}
	if (!e) {
		c->stats.misses++;
		return SVCCACHE_MISS;
	}
	c->stats.hits++;
	unlist(c, e);
	list_front(c, e);
	if (!e->has)
		return SVCCACHE_NONE;
	*ret = &e->svc;
	return SVCCACHE_HIT;
}

enum svccache_result svccache_by_id(struct svccache *c, const char *id,
				    int64_t now,
				    const struct space_service **ret)
{
	return lookup(c, BY_ID, id, now, ret);
}

enum svccache_result svccache_by_user(struct svccache *c, const char *user,
				      int64_t now,
				      const struct space_service **ret)
{
	return lookup(c, BY_USER, user, now, ret);
}

static size_t len0(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static const char *place(char **p, const char *s)
{
	char *d = *p;

	if (!s)
		return NULL;
	memcpy(d, s, len0(s));
	*p += len0(s);
	return d;
}

/* One entry, its strings in the same block. */
static void put(struct svccache *c, char kind, const char *key,
		const struct space_service *svc, int64_t now)
{
	struct entry *e = find(c, kind, key);
	size_t n = sizeof(*e) + len0(key);
	char *p;

	if (!c->capacity)
		return;
	if (e)
		drop(c, e);
	if (svc)
		n += len0(svc->id) + len0(svc->user) +
		     len0(svc->default_channel) + len0(svc->package);
	e = su_zalloc(c->home, (isize_t)n);
	if (!e)
		return; /* a cache that cannot keep simply misses */
	p = (char *)(e + 1);
	e->kind = kind;
	e->key = place(&p, key);
	e->until = now + c->ttl;
	if (svc) {
		e->has = 1;
		e->svc.level = svc->level;
		e->svc.id = place(&p, svc->id);
		e->svc.user = place(&p, svc->user);
		e->svc.default_channel = place(&p, svc->default_channel);
		e->svc.package = place(&p, svc->package);
	}
	hash_insert(&c->table, &e->node, key_hash(kind, key));
	list_front(c, e);
	c->n++;
	while (c->n > c->capacity && c->oldest) {
		drop(c, c->oldest);
		c->stats.evictions++;
	}
}

void svccache_put(struct svccache *c, const struct space_service *svc,
		  int as_user, int64_t now)
{
	put(c, BY_ID, svc->id, svc, now);
	if (as_user)
		put(c, BY_USER, svc->user, svc, now);
}

void svccache_put_none(struct svccache *c, const char *user, int64_t now)
{
	put(c, BY_USER, user, NULL, now);
}

void svccache_forget(struct svccache *c, const char *id, const char *user)
{
	struct entry *e;

	if (id && (e = find(c, BY_ID, id)))
		drop(c, e);
	if (user && (e = find(c, BY_USER, user)))
		drop(c, e);
}

void svccache_clear(struct svccache *c)
{
	while (c->oldest)
		drop(c, c->oldest);
}

void svccache_stats(const struct svccache *c, struct svccache_stats *ret)
{
	*ret = c->stats;
	ret->entries = c->n;
	ret->capacity = c->capacity;
}
