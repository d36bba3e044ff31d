/* Admission of new dialogs under load: a rate, not a switch.
 *
 * Past its capacity a server that refuses everything while a queue is
 * long and admits everything once it is short swings between the two:
 * each time it opens, the queue fills again, and the calls it admits wait
 * behind it.  Here the queue's delay (the worst of the loop's lag, the
 * database queue's oldest job, the oldest SIP request unread) steers
 * the rate at which new dialogs are admitted, so that the delay stays near
 * a target and the rate near what the server completes (admit.c says
 * how); when demand no longer reaches the rate the limit is lifted.
 * Between two measures a token bucket spreads the
 * admissions out, so the admitted never arrive as a burst.
 *
 * A measure every 100 ms sees a queue only once its head has waited; a
 * queue that serves in batches (the database's group commit) can grow
 * for hundreds of ms before then.  So a gauge, read as each new dialog
 * asks, says how long work queued now would wait (the database's queue,
 * its jobs at what a job costs lately); while new dialogs come at a rate
 * that matters, one is refused whenever that is over half the target,
 * and the admitted never find a long queue ahead of them.
 *
 * Pure (the caller passes the time, in milliseconds on the monotonic
 * clock) and small enough to live inside the SIP adapter's struct; used on
 * the su_root thread by sip/act.c (the measures, every 100 ms) and
 * sip/sipua.c (a new dialog asks admit_take()). */
#ifndef TVSPACE_ADMIT_H
#define TVSPACE_ADMIT_H

#include <stdbool.h>
#include <stdint.h>

/* How long work queued now would wait, ms. */
typedef unsigned admit_gauge_f(void *arg);

struct admit {
	unsigned target_ms; /* the queue delay aimed at; 0: never limit */
	bool limiting;      /* new dialogs are admitted at rate a second */
	double rate;
	double tokens;
	int64_t refilled_ms;  /* tokens were counted up to here */
	unsigned seen[2];     /* ms, at the two measures before */
	unsigned last_delay;  /* the delay steered by, at the last measure */
	int64_t measured_ms;  /* the last measure */
	unsigned admitted;    /* since the last measure */
	double admitted_rate; /* a second, smoothed over the measures */
	unsigned asked;       /* admitted or not, since the last measure */
	double asked_rate;    /* a second, smoothed over the measures */
	unsigned idle;        /* measures in a row the limit went unused */
	admit_gauge_f *gauge; /* or NULL */
	void *gauge_arg;
	unsigned long long gated; /* refused by the gauge, since the start */
	unsigned long long gated_seen; /* gated, at the last measure */
};

/** A controller aiming at @a target_ms of queue delay (0: it never
 * limits), started at @a now_ms. */
void admit_init(struct admit *a, unsigned target_ms, int64_t now_ms);

/** Read @a gauge (with @a arg) as each new dialog asks (NULL: none). */
void admit_gauge(struct admit *a, admit_gauge_f *gauge, void *arg);

/** A measure at @a now_ms (every 100 ms): @a delay_ms is the worst queue
 * delay seen.  Starts, moves or lifts the limit. */
void admit_measure(struct admit *a, int64_t now_ms, unsigned delay_ms);

/** A new dialog asks to be admitted at @a now_ms: true when it is (and it
 * is counted), false when it should get 503 now: over the rate, or, while
 * new dialogs come at a rate that matters, with the gauge over half the
 * target. */
bool admit_take(struct admit *a, int64_t now_ms);

/** New dialogs a second admitted while limiting, 0 while not. */
unsigned admit_rate(const struct admit *a);

#endif
