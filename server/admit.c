/* Admission of new dialogs under load (admit.h).
 *
 * The rate follows the queue delay d (the worst of the last three
 * measures) against the target T, every measure:
 *
 *	rate *= 1 + 0.1 (T - d) / T - 0.25 (d - d_last) / T
 *
 * (the factor kept between 0.7 and 1.1; with a gauge and the delay under
 * half the target a rise is tripled, up to 1.3): a proportional term that
 *brings the delay to the target and a term on its trend that stops a growing
 *queue before it is long and lets a shrinking one drain.  The admitted rate
 *then settles at what the server completes, with the delay near the target
 *(test/check_admit.c runs it against a simulated server at two to five times
 *its capacity).  Cuts that only grow deeper the longer the queue, tried first,
 *swung between too much and too little and lost a tenth to a third of the
 *goodput in the same simulation.  The limit starts at what was being admitted,
 *scaled by T/d but by no less than 0.7, the first time the delay passes the
 *target: a delay that was a moment's (a burst at the start, a slow fsync) costs
 *little, and one that stays is cut further measure by measure.  The limit is
 *lifted when for 2 s demand stays under 0.6 of the rate with the delay under
 *half the target.  Nothing is limited while fewer than MIN_START new dialogs a
 * second come.
 *
 * The gauge (admit.h) is checked before the rate, at half the target:
 * what it refuses is work that would have waited behind a queue the
 * measures had not seen yet.  Measured with bench/overload.sh at three
 * times the clean rate, the database's queue grew from 70 to 600 jobs in
 * 300 ms (about 180 ms of work) while its oldest job's age went from 10
 * to 72 ms, and the joins admitted then waited up to 270 ms for their
 * commits
 * (docs/performance.md, "Overload").  The gauge is read only while new
 * dialogs come at MIN_START a second or more (or the rate limits), for
 * the same reason as the rate.  While the gauge refuses, the rate is held
 * to HEADROOM times what is admitted: otherwise it floats far above, and
 * a delay the gauge does not see (SIP unread, the loop late) would cut it
 * for measures on end before a cut bit. */
#include "server/admit.h"

#define MIN_RATE 10.0 /* admitted a second, however bad it gets */
/* Below this many new dialogs a second, a queue delay is not theirs: a
 * slow disk or a long query is not helped by refusing a few callers, and
 * the hard limits (db_max_age, max_loop_lag) are there for it.  A burst
 * of a few dozen at once is not cut either. */
#define MIN_START     200.0
#define GAIN          0.1  /* on (T - d) / T */
#define TREND_GAIN    0.25 /* on (d - d_last) / T */
#define IDLE_MEASURES 20   /* about 2 s of a limit nobody reaches */
#define HEADROOM      1.25 /* the rate over the admitted, while gated */

void admit_init(struct admit *a, unsigned target_ms, int64_t now_ms)
{
	*a = (struct admit){
	    .target_ms = target_ms,
	    .refilled_ms = now_ms,
	    .measured_ms = now_ms,
	};
}

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void admit_gauge(struct admit *a, admit_gauge_f *gauge, void *arg)
{
	a->gauge = gauge;
	a->gauge_arg = arg;
}

/* New dialogs come at a rate that matters, admitted or not: over the
 * last measures, or since the last one (a step from nothing to a flood). */
static bool busy(const struct admit *a)
{
	return a->limiting || a->asked_rate >= MIN_START ||
	       a->asked >= MIN_START / 10;
}

void admit_measure(struct admit *a, int64_t now_ms, unsigned delay_ms)
{
	int64_t dt = now_ms - a->measured_ms;

	if (dt <= 0)
		return;
	double now_rate = a->admitted * 1000.0 / (double)dt;
	/* The worst of the last three measures: a queue that drains in
	 * batches (the database's group commit) shows a short delay between
	 * two long ones, and a rate raised on it overshoots. */
	unsigned worst = delay_ms > a->seen[0] ? delay_ms : a->seen[0];
	double target = a->target_ms, last = a->last_delay;
	double delay = worst > a->seen[1] ? worst : a->seen[1];

	a->seen[1] = a->seen[0];
	a->seen[0] = delay_ms;
	a->measured_ms = now_ms;
	a->admitted = 0;
	a->admitted_rate = 0.7 * a->admitted_rate + 0.3 * now_rate;
	a->asked_rate =
	    0.7 * a->asked_rate + 0.3 * a->asked * 1000.0 / (double)dt;
	a->asked = 0;
	a->last_delay = (unsigned)delay;
	if (!a->target_ms)
		return;
	if (!a->limiting) {
		if (delay <= target)
			return;
		/* The smoothed rate lags a sudden rise: the larger. */
		double was =
		    a->admitted_rate > now_rate ? a->admitted_rate : now_rate;

		if (was < MIN_START)
			return;
		a->limiting = true;
		a->rate = was * clamp(target / delay, 0.7, 1);
		if (a->rate < MIN_RATE)
			a->rate = MIN_RATE;
		a->tokens = 0;
		a->refilled_ms = now_ms;
		a->idle = 0;
		return;
	}
	double by = 1 + GAIN * (target - delay) / target -
		    TREND_GAIN * (delay - last) / target;
	bool unused = a->admitted_rate < 0.6 * a->rate;

	/* A rate nobody reaches is not raised further: it says nothing. */
	/* With the gauge guarding the database, a rate too high for it costs
	 * no waiting there: under half the target it climbs three times as
	 * fast (from a limit started low on a moment's delay, 1 s to ten
	 * times the rate instead of 2.4 s).  Not nearer the target: the
	 * delay then is SIP waiting unread or the loop late, which the gauge
	 * does not see, and a fast climb let it grow past the target (an
	 * admitted p99 of 114 ms at 3x, the oldest request unread 83 ms). */
	if (a->gauge && by > 1 && delay * 2 <= target)
		by = 1 + 3 * (by - 1);
	if (by < 1 || !unused)
		a->rate *= clamp(by, 0.7, a->gauge ? 1.3 : 1.1);
	/* While the gauge refuses, what is admitted is under the rate: a
	 * rate far above it would not bite when the delay calls for a cut
	 * (SIP waiting unread, the loop late). */
	if (a->gated != a->gated_seen && a->rate > HEADROOM * a->admitted_rate)
		a->rate = HEADROOM * a->admitted_rate;
	a->gated_seen = a->gated;
	if (a->rate < MIN_RATE)
		a->rate = MIN_RATE;
	/* Demand under the limit for a while: nothing to limit. */
	a->idle = unused && delay * 2 <= target ? a->idle + 1 : 0;
	if (a->idle >= IDLE_MEASURES) {
		a->limiting = false;
		a->idle = 0;
	}
}

bool admit_take(struct admit *a, int64_t now_ms)
{
	a->asked++;
	if (a->gauge && a->target_ms && busy(a) &&
	    a->gauge(a->gauge_arg) * 2 > a->target_ms) {
		a->gated++;
		return false;
	}
	if (a->limiting) {
		/* At most 20 ms of tokens saved: the admitted are spread
		 * out, never a burst. */
		double burst = a->rate / 50 > 1 ? a->rate / 50 : 1;

		if (now_ms > a->refilled_ms) {
			a->tokens += a->rate *
				     (double)(now_ms - a->refilled_ms) / 1000.0;
			a->refilled_ms = now_ms;
		}
		if (a->tokens > burst)
			a->tokens = burst;
		if (a->tokens < 1)
			return false;
		a->tokens -= 1;
	}
	a->admitted++;
	return true;
}

unsigned admit_rate(const struct admit *a)
{
	return a->limiting ? (unsigned)(a->rate + 0.5) : 0;
}
