/* The service cache: subscribers' services as the store last gave them,
 * in front of the per-request lookups (DESIGN.md: memory follows what is
 * live, never the subscriber base).  Bounded (least recently used entries
 * give way), each entry good for a time to live, found by Service Default
 * ID or by user (the user's default service, or the knowledge that it has
 * none), and forgotten row by row when the database says a row changed.
 * Pure: the caller passes `now` (ms, monotonic) and does the lookups on a
 * miss.  One su_root thread. */
#ifndef TVSPACE_SVCCACHE_H
#define TVSPACE_SVCCACHE_H

#include <stdint.h>
#include <sofia-sip/su_alloc.h>

struct space_service;
struct svccache;

enum svccache_result {
	SVCCACHE_MISS, /* ask the store */
	SVCCACHE_HIT,  /* *ret is the service */
	SVCCACHE_NONE, /* known: the user has no (default) service */
};

struct svccache_stats {
	uint64_t hits, misses, evictions, expired;
	unsigned entries, capacity;
};

/** A cache of at most @a capacity entries, each good for @a ttl_ms.  A
 * capacity of 0 caches nothing (every lookup is a miss). */
struct svccache *svccache_create(su_home_t *parent, unsigned capacity,
				 int64_t ttl_ms);
struct svccache *svccache_destroy(struct svccache *c);
/** New bounds; entries beyond the capacity go at once. */
void svccache_configure(struct svccache *c, unsigned capacity, int64_t ttl_ms);

/** The service @a id; *@a ret valid until the next call on the cache. */
enum svccache_result svccache_by_id(struct svccache *c, const char *id,
				    int64_t now,
				    const struct space_service **ret);
/** The default service of @a user (or its only one). */
enum svccache_result svccache_by_user(struct svccache *c, const char *user,
				      int64_t now,
				      const struct space_service **ret);

/** Keep @a svc as the store gave it for a lookup by id; with @a as_user
 * also as its user's answer. */
void svccache_put(struct svccache *c, const struct space_service *svc,
		  int as_user, int64_t now);
/** Keep that @a user has no default service. */
void svccache_put_none(struct svccache *c, const char *user, int64_t now);

/** A row of services changed (NOTIFY "service ID USER"): forget what the
 * cache knew of service @a id and of user @a user (either may be NULL). */
void svccache_forget(struct svccache *c, const char *id, const char *user);
/** Forget everything (a bulk change, or the connection was lost and
 * notifications with it). */
void svccache_clear(struct svccache *c);

void svccache_stats(const struct svccache *c, struct svccache_stats *ret);

#endif
