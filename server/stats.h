/* The server's counters and histograms: what the metrics endpoint exposes
 * (Prometheus text format 0.0.4) and `tvspacectl stats` prints.  One set
 * per process, like a Prometheus client's default registry; only the loop
 * thread touches it.  No sockets or clock here: callers measure. */
#ifndef TVSPACE_STATS_H
#define TVSPACE_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define STATS_BUCKETS 11

struct stats_hist {
	uint64_t bucket[STATS_BUCKETS]; /* cumulative at render, not here */
	uint64_t count;
	double sum; /* seconds */
};

struct stats {
	uint64_t starts;        /* spaces started */
	uint64_t joins;         /* guests admitted (asked, open or invited) */
	uint64_t switches;      /* channel switches committed */
	uint64_t comments;      /* comments relayed */
	uint64_t refusals[300]; /* final responses 300..599 we sent */
	uint64_t db_errors;     /* statements failed or lost with the link */
	uint64_t shed;          /* new dialogs refused for overload */
	uint64_t db_rejected;   /* statements refused: the queue was full */
	struct stats_hist repoint;  /* /switch to a member's 2xx */
	struct stats_hist db_query; /* a statement queued to its result */
};

extern struct stats tv_stats;

/** Count one refusal with @a status (300..599; others are ignored). */
void stats_refusal(unsigned status);
/** Add one observation of @a seconds to @a h. */
void stats_observe(struct stats_hist *h, double seconds);

/** What is read from the live state when rendering. */
struct stats_now {
	const char *version;
	double uptime;          /* seconds */
	unsigned spaces;        /* live */
	unsigned members[3][2]; /* [host, guest, pending][multicast, relay] */
	uint64_t rtp_out;       /* packets relayed */
	unsigned channels;
	/* the database's job queue (db_queue_len() and the others) */
	unsigned db_queue;  /* jobs queued or in flight */
	double db_oldest;   /* age of the oldest, seconds */
	bool db_overloaded; /* new dialogs are refused */
	/* the SIP side's load (sipua_load()) */
	double loop_lag;      /* how late the loop ran, seconds */
	unsigned sip_unread;  /* bytes unread in the SIP UDP sockets */
	double sip_wait;      /* s the oldest of them has waited */
	bool overloaded;      /* new dialogs are refused, whatever the cause */
	unsigned admit_rate;  /* new dialogs admitted a second; 0: no limit */
	uint64_t admit_gated; /* of those shed, for the database's wait */
	/* the service cache (svccache_stats()) */
	uint64_t cache_hits, cache_misses, cache_evictions;
	unsigned cache_entries, cache_capacity;
};

/** Write the Prometheus text exposition of @a now and tv_stats. */
void stats_prometheus(FILE *out, const struct stats_now *now);
/** Write the same as one JSON object (@a json) or lines for a person. */
void stats_report(FILE *out, const struct stats_now *now, int json);

#endif
