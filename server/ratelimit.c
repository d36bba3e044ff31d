/* Token buckets per source, in an open-addressed table of fixed size. */
#define LOG_MODULE "ratelimit"
#include "server/ratelimit.h"

#include <stdlib.h>
#include <string.h>

/* A source's bucket.  Tokens are kept in thousandths, so the arithmetic
 * stays in integers. */
struct bucket {
	char key[48];  /* "" for a free slot */
	int64_t milli; /* tokens x 1000 at @last */
	int64_t last;  /* ms */
};

struct ratelimit {
	unsigned slots;
	struct bucket *b;
};

/* Probe this many slots from a key's home; beyond them a key is absent. */
#define PROBE 8

struct ratelimit *ratelimit_new(unsigned slots)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));

	if (slots < PROBE)
		slots = PROBE;
	if (rl)
		rl->b = calloc(slots, sizeof(*rl->b));
	if (rl && !rl->b) {
		free(rl);
		return NULL;
	}
	if (rl)
		rl->slots = slots;
	return rl;
}

struct ratelimit *ratelimit_free(struct ratelimit *rl)
{
	if (rl) {
		free(rl->b);
		free(rl);
	}
	return NULL;
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return h;
}

/* The bucket's tokens at @a now, refilled and capped. */
static int64_t level(const struct bucket *b, unsigned rate, unsigned burst,
		     int64_t now)
{
	int64_t elapsed = now > b->last ? now - b->last : 0;
	int64_t cap = (int64_t)burst * 1000;
	int64_t m;

	/* rate tokens/s = rate thousandths/ms; a long idle gap saturates. */
	if (elapsed > cap)
		elapsed = cap;
	m = b->milli + elapsed * (int64_t)rate;
	return m > cap ? cap : m;
}

bool ratelimit_take(struct ratelimit *rl, const char *key, unsigned rate,
		    unsigned burst, int64_t now_ms, unsigned *ret_wait_s)
{
	uint32_t home = hash(key) % rl->slots;
	struct bucket *b = NULL, *idle = NULL, *oldest = NULL;
	int64_t cap, m;

	if (burst == 0)
		burst = 1;
	cap = (int64_t)burst * 1000;
	for (unsigned i = 0; i < PROBE; i++) {
		struct bucket *s = &rl->b[(home + i) % rl->slots];

		if (s->key[0] && strcmp(s->key, key) == 0) {
			b = s;
			break;
		}
		/* A free slot, or a bucket full again: its source is as
		 * good as new, so the slot may be reused. */
		if (!idle &&
		    (!s->key[0] || level(s, rate, burst, now_ms) >= cap))
			idle = s;
		if (!oldest || s->last < oldest->last)
			oldest = s;
	}
	if (!b) {
		/* The table is full of busy sources near this key: the
		 * longest idle gives way (bounded memory over fairness). */
		b = idle ? idle : oldest;
		memset(b, 0, sizeof(*b));
		strncpy(b->key, key, sizeof(b->key) - 1);
		b->milli = cap;
		b->last = now_ms;
	}
	m = level(b, rate, burst, now_ms);
	b->last = now_ms;
	if (m >= 1000) {
		b->milli = m - 1000;
		return true;
	}
	b->milli = m;
	if (ret_wait_s) {
		int64_t ms =
		    rate ? (1000 - m + (int64_t)rate - 1) / (int64_t)rate
			 : 1000;

		*ret_wait_s = (unsigned)((ms + 999) / 1000);
		if (*ret_wait_s == 0)
			*ret_wait_s = 1;
	}
	return false;
}

unsigned ratelimit_used(const struct ratelimit *rl)
{
	unsigned n = 0;

	for (unsigned i = 0; i < rl->slots; i++)
		n += rl->b[i].key[0] != '\0';
	return n;
}
