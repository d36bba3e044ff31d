/* Failed authentications per user: two tables of fixed size, each a hash
 * (chained, keyed by a random seed) and a list from the most to the least
 * recently used entry. */
#define LOG_MODULE "guard"
#include "server/guard.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX
/* Entries at or past the threshold passed over when one must give way. */
#define SKIP 16
/* How long a source stays known after the user's last success there. */
#define KNOWN_FOR ((int64_t)30 * 86400)

struct rec {
	char user[GUARD_USER_MAX]; /* "" for a free entry */
	char src[GUARD_SRC_MAX];   /* counts: a known source, or "" for
				    * every other; known: the source */
	char last_src[GUARD_SRC_MAX];
	unsigned failures;
	int64_t last;  /* the last failure (counts), success (known) */
	int64_t until; /* the lockout's end (counts) */
	uint32_t hnext, prev, next;
};

struct table {
	uint32_t slots;
	struct rec *r;
	uint32_t *bucket;
	uint32_t head, tail; /* most and least recently used */
	uint32_t free;       /* free entries, through next */
};

struct guard {
	uint32_t seed;
	struct table counts; /* failures: user, or user and known source */
	struct table known;  /* sources each user authenticated from */
};

static int table_init(struct table *t, uint32_t slots)
{
	t->slots = slots;
	t->r = calloc(slots, sizeof(*t->r));
	t->bucket = malloc(slots * sizeof(*t->bucket));
	if (!t->r || !t->bucket)
		return -1;
	for (uint32_t i = 0; i < slots; i++) {
		t->bucket[i] = NIL;
		t->r[i].next = i + 1 < slots ? i + 1 : NIL;
	}
	t->free = 0;
	t->head = t->tail = NIL;
	return 0;
}

static void table_fini(struct table *t)
{
	free(t->r);
	free(t->bucket);
}

struct guard *guard_new(unsigned slots, uint32_t seed)
{
	struct guard *g = calloc(1, sizeof(*g));

	if (slots < 16)
		slots = 16;
	if (!g)
		return NULL;
	g->seed = seed;
	if (table_init(&g->counts, slots) < 0 ||
	    table_init(&g->known, slots) < 0)
		return guard_free(g);
	return g;
}

struct guard *guard_free(struct guard *g)
{
	if (g) {
		table_fini(&g->counts);
		table_fini(&g->known);
		free(g);
	}
	return NULL;
}

static uint32_t hash(const struct guard *g, const struct table *t,
		     const char *user, const char *src)
{
	uint32_t h = 2166136261u ^ g->seed; /* FNV-1a, seeded */

	for (const char *s = user; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	h = (h ^ 1u) * 16777619u; /* between the two */
	for (const char *s = src; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % t->slots;
}

/* The entry of (@a user, @a src), as it would be stored (cut to fit). */
static bool same(const struct rec *r, const char *user, const char *src)
{
	return strncmp(r->user, user, GUARD_USER_MAX - 1) == 0 &&
	       strncmp(r->src, src, GUARD_SRC_MAX - 1) == 0;
}

static void cut(char *dst, const char *s, size_t size)
{
	size_t n = strlen(s);

	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static uint32_t find(const struct guard *g, const struct table *t,
		     const char *user, const char *src)
{
	char u[GUARD_USER_MAX], s[GUARD_SRC_MAX];
	uint32_t i;

	/* Hashed as stored: a long name and its cut form are one. */
	cut(u, user, sizeof(u));
	cut(s, src, sizeof(s));
	for (i = t->bucket[hash(g, t, u, s)]; i != NIL; i = t->r[i].hnext)
		if (same(&t->r[i], u, s))
			return i;
	return NIL;
}

static void lru_unlink(struct table *t, uint32_t i)
{
	struct rec *r = &t->r[i];

	if (r->prev != NIL)
		t->r[r->prev].next = r->next;
	else
		t->head = r->next;
	if (r->next != NIL)
		t->r[r->next].prev = r->prev;
	else
		t->tail = r->prev;
}

static void lru_push(struct table *t, uint32_t i)
{
	struct rec *r = &t->r[i];

	r->prev = NIL;
	r->next = t->head;
	if (t->head != NIL)
		t->r[t->head].prev = i;
	t->head = i;
	if (t->tail == NIL)
		t->tail = i;
}

static void touch(struct table *t, uint32_t i)
{
	if (t->head != i) {
		lru_unlink(t, i);
		lru_push(t, i);
	}
}

/* Take entry @a i out of the table, onto the free list. */
static void drop(const struct guard *g, struct table *t, uint32_t i)
{
	struct rec *r = &t->r[i];
	uint32_t *pp = &t->bucket[hash(g, t, r->user, r->src)];

	while (*pp != i)
		pp = &t->r[*pp].hnext;
	*pp = r->hnext;
	lru_unlink(t, i);
	memset(r, 0, sizeof(*r));
	r->next = t->free;
	t->free = i;
}

/* A new entry for (@a user, @a src).  When the table is full, the least
 * recently used entry gives way, unless it has @a keep failures or more
 * (0: none is kept): then the next one, up to SKIP of them. */
static uint32_t take(struct guard *g, struct table *t, const char *user,
		     const char *src, unsigned keep)
{
	uint32_t i = t->free, h;

	if (i == NIL) {
		uint32_t v = t->tail;

		for (unsigned n = 0; keep && v != NIL && n < SKIP; n++) {
			if (t->r[v].failures < keep)
				break;
			v = t->r[v].prev;
		}
		drop(g, t,
		     v != NIL && (!keep || t->r[v].failures < keep) ? v
								    : t->tail);
		i = t->free;
	}
	t->free = t->r[i].next;
	memset(&t->r[i], 0, sizeof(t->r[i]));
	cut(t->r[i].user, user, sizeof(t->r[i].user));
	cut(t->r[i].src, src, sizeof(t->r[i].src));
	h = hash(g, t, t->r[i].user, t->r[i].src);
	t->r[i].hnext = t->bucket[h];
	t->bucket[h] = i;
	lru_push(t, i);
	return i;
}

int guard_known(const struct guard *g, const char *user, const char *src,
		int64_t now)
{
	uint32_t i;

	if (!src[0])
		return 0;
	i = find(g, &g->known, user, src);
	return i != NIL && now - g->known.r[i].last < KNOWN_FOR;
}

/* Whose count an attempt of @a user from @a src goes to: the source's own
 * when it is a known one, else the one of every other source. */
static const char *count_src(const struct guard *g, const char *user,
			     const char *src, int64_t now)
{
	return guard_known(g, user, src, now) ? src : "";
}

/* A count with nothing left to say: no failure within p->forget and no
 * lockout. */
static bool stale(const struct rec *r, const struct guard_policy *p,
		  int64_t now)
{
	return !r->failures ||
	       (r->until <= now && now - r->last >= (int64_t)p->forget);
}

unsigned guard_wait(struct guard *g, const struct guard_policy *p,
		    const char *user, const char *src, int64_t now)
{
	uint32_t i;

	if (!p->failures)
		return 0;
	i = find(g, &g->counts, user, count_src(g, user, src, now));
	if (i == NIL || stale(&g->counts.r[i], p, now) ||
	    g->counts.r[i].until <= now)
		return 0;
	return (unsigned)(g->counts.r[i].until - now);
}

/* p->delay doubled for each failure past the threshold, at most
 * p->max_delay. */
static unsigned lockout(const struct guard_policy *p, unsigned failures)
{
	unsigned d = p->delay;

	for (unsigned n = p->failures; n < failures && d < p->max_delay; n++)
		d = d > p->max_delay / 2 ? p->max_delay : d * 2;
	return d < p->max_delay ? d : p->max_delay;
}

unsigned guard_failed(struct guard *g, const struct guard_policy *p,
		      const char *user, const char *src, int64_t now,
		      unsigned *ret_failures)
{
	const char *key = count_src(g, user, src, now);
	uint32_t i = find(g, &g->counts, user, key);
	struct rec *r;
	unsigned d = 0;

	if (i == NIL)
		i = take(g, &g->counts, user, key, p->failures);
	else
		touch(&g->counts, i);
	r = &g->counts.r[i];
	if (stale(r, p, now))
		r->failures = 0;
	if (r->failures < UINT_MAX)
		r->failures++;
	r->last = now;
	cut(r->last_src, src, sizeof(r->last_src));
	if (p->failures && r->failures >= p->failures) {
		d = lockout(p, r->failures);
		r->until = now + d;
	}
	*ret_failures = r->failures;
	return d;
}

void guard_succeeded(struct guard *g, const char *user, const char *src,
		     int64_t now)
{
	uint32_t i = find(g, &g->counts, user, count_src(g, user, src, now));

	if (i != NIL)
		drop(g, &g->counts, i);
	if (!src[0])
		return;
	i = find(g, &g->known, user, src);
	if (i == NIL)
		i = take(g, &g->known, user, src, 0);
	else
		touch(&g->known, i);
	g->known.r[i].last = now;
}

unsigned guard_list(const struct guard *g, const struct guard_policy *p,
		    int64_t now,
		    void (*fn)(void *arg, const struct guard_entry *e),
		    void *arg)
{
	unsigned n = 0;

	for (uint32_t i = g->counts.head; i != NIL; i = g->counts.r[i].next) {
		const struct rec *r = &g->counts.r[i];
		struct guard_entry e = {
		    .user = r->user,
		    .source = r->src,
		    .failures = r->failures,
		    .locked = r->until > now ? (unsigned)(r->until - now) : 0,
		    .since = now > r->last ? (unsigned)(now - r->last) : 0,
		    .last_src = r->last_src,
		};

		if (stale(r, p, now))
			continue;
		fn(arg, &e);
		n++;
	}
	return n;
}

unsigned guard_clear(struct guard *g, const char *user)
{
	char u[GUARD_USER_MAX];
	unsigned n = 0;
	uint32_t i, next;

	cut(u, user, sizeof(u));
	for (i = g->counts.head; i != NIL; i = next) {
		next = g->counts.r[i].next;
		if (strcmp(g->counts.r[i].user, u) == 0) {
			drop(g, &g->counts, i);
			n++;
		}
	}
	return n;
}
