/* Password guessing, limited per user: failed authentications counted per
 * user, with a lockout that doubles with each failure past a threshold.
 * A success, or a day without failures, clears the count.
 *
 * So that nobody can lock a user out by failing on purpose, a source
 * address the user has fully authenticated from is one of the user's known
 * sources, counted apart: the count (and lockout) that failures from
 * elsewhere build up does not apply there.  Known sources are remembered
 * only on success, in a table of their own, which failures cannot flush.
 *
 * Both tables are of fixed size; when full, the least recently used entry
 * gives way, passing over up to a few entries at or past the threshold,
 * so that flushing a locked user's count costs many locked entries.
 * Pure: no I/O, no clock (the caller passes monotonic seconds).  Used by
 * the SIP gate (sip/gate.c) and the control socket (server/admin.c), on the
 * su_root thread. */
#ifndef TVSPACE_GUARD_H
#define TVSPACE_GUARD_H

#include <stdint.h>

struct guard;

/* Longest user name and source address kept (longer ones are cut). */
#define GUARD_USER_MAX 128
#define GUARD_SRC_MAX  48

struct guard_policy {
	unsigned failures;  /* failures in a row before a lockout; 0: off */
	unsigned delay;     /* seconds of the first lockout */
	unsigned max_delay; /* the longest lockout, in seconds */
	unsigned forget;    /* seconds without a failure that clear a count */
};

/** One count, for the operator. */
struct guard_entry {
	const char *user;
	const char *source;   /* a known source of the user's, or "" for
			       * every other source */
	unsigned failures;    /* in a row */
	unsigned locked;      /* seconds of lockout left, 0: none */
	unsigned since;       /* seconds since the last failure */
	const char *last_src; /* where the last failure came from */
};

/** Tables of @a slots counts and @a slots known sources (at least 16
 * each); @a seed keys the hash (random, so that nobody can choose names
 * that collide).  NULL when out of memory. */
struct guard *guard_new(unsigned slots, uint32_t seed);
/** Free; NULL is fine.  Returns NULL. */
struct guard *guard_free(struct guard *g);

/** 0 when @a user may try to authenticate from @a src at @a now; else the
 * whole seconds (at least 1) until it may.  An attempt refused so does not
 * count and does not lengthen the lockout. */
unsigned guard_wait(struct guard *g, const struct guard_policy *p,
		    const char *user, const char *src, int64_t now);

/** Count a failed authentication of @a user from @a src (any wrong
 * response, whatever nonce it came with, the same).  Returns the lockout
 * it starts, in seconds (0: none); *@a ret_failures gets the count. */
unsigned guard_failed(struct guard *g, const struct guard_policy *p,
		      const char *user, const char *src, int64_t now,
		      unsigned *ret_failures);

/** A full authentication of @a user from @a src: its count is cleared and
 * @a src becomes (or stays) one of the user's known sources. */
void guard_succeeded(struct guard *g, const char *user, const char *src,
		     int64_t now);

/** Call @a fn for each count that is not cleared yet (failures > 0 within
 * p->forget), most recent first.  Returns how many. */
unsigned guard_list(const struct guard *g, const struct guard_policy *p,
		    int64_t now,
		    void (*fn)(void *arg, const struct guard_entry *e),
		    void *arg);

/** Clear every count of @a user (the operator's word); its known sources
 * stay.  The number of counts cleared, 0 when there was none. */
unsigned guard_clear(struct guard *g, const char *user);

/** Whether @a src is one of @a user's known sources at @a now. */
int guard_known(const struct guard *g, const char *user, const char *src,
		int64_t now);

#endif
