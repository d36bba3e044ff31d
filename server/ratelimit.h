/* Per-source rate limiting: a token bucket per source address, in a table
 * of fixed size (an idle bucket is forgotten; when the table is full the
 * longest idle one gives way), so memory stays bounded whatever the number
 * of sources.  Pure: the caller passes the time.  Used by the SIP adapter
 * (sip/gate.c) on the su_root thread. */
#ifndef TVSPACE_RATELIMIT_H
#define TVSPACE_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit;

/** A table of @a slots buckets (at least 8); NULL on OOM. */
struct ratelimit *ratelimit_new(unsigned slots);
/** Free the table; NULL is fine.  Returns NULL. */
struct ratelimit *ratelimit_free(struct ratelimit *rl);

/** Take one token from @a key's bucket, which fills with @a rate tokens a
 * second up to @a burst, at time @a now_ms (milliseconds).  False when the
 * bucket is empty; then @a ret_wait_s says in how many whole seconds (at
 * least 1) a token will be there. */
bool ratelimit_take(struct ratelimit *rl, const char *key, unsigned rate,
		    unsigned burst, int64_t now_ms, unsigned *ret_wait_s);

/** Buckets in use (for the tests). */
unsigned ratelimit_used(const struct ratelimit *rl);

#endif
