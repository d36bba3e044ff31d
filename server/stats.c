/* Counters and histograms: see stats.h. */
#include "server/stats.h"

#include <string.h>

struct stats tv_stats;

/* Upper bounds of the buckets, seconds; the last is +Inf. */
static const double bounds[STATS_BUCKETS - 1] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0};

void stats_refusal(unsigned status)
{
	if (status >= 300 && status < 600)
		tv_stats.refusals[status - 300]++;
}

void stats_observe(struct stats_hist *h, double seconds)
{
	unsigned i = 0;

	if (seconds < 0)
		seconds = 0;
	while (i < STATS_BUCKETS - 1 && seconds > bounds[i])
		i++;
	h->bucket[i]++;
	h->count++;
	h->sum += seconds;
}

static void counter(FILE *out, const char *name, const char *help, uint64_t v)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help,
		name, name, (unsigned long long)v);
}

static void gauge(FILE *out, const char *name, const char *help, double v)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %.17g\n", name, help,
		name, name, v);
}

static void histogram(FILE *out, const char *name, const char *help,
		      const struct stats_hist *h)
{
	uint64_t n = 0;

	fprintf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (unsigned i = 0; i < STATS_BUCKETS; i++) {
		n += h->bucket[i];
		if (i < STATS_BUCKETS - 1)
			fprintf(out, "%s_bucket{le=\"%g\"} %llu\n", name,
				bounds[i], (unsigned long long)n);
		else
			fprintf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name,
				(unsigned long long)n);
	}
	fprintf(out, "%s_sum %.17g\n%s_count %llu\n", name, h->sum, name,
		(unsigned long long)h->count);
}

static const char *const roles[3] = {"host", "guest", "pending"};
static const char *const modes[2] = {"multicast", "relay"};

void stats_prometheus(FILE *out, const struct stats_now *now)
{
	fprintf(out,
		"# HELP tvspace_build_info The running version.\n"
		"# TYPE tvspace_build_info gauge\n"
		"tvspace_build_info{version=\"%s\"} 1\n",
		now->version);
	gauge(out, "tvspace_uptime_seconds", "Seconds since the start.",
	      now->uptime);
	gauge(out, "tvspace_spaces", "Live spaces.", now->spaces);
	gauge(out, "tvspace_channels", "Channels in the lineup.",
	      now->channels);
	fprintf(out, "# HELP tvspace_members Members of live spaces.\n"
		     "# TYPE tvspace_members gauge\n");
	for (unsigned r = 0; r < 3; r++)
		for (unsigned m = 0; m < 2; m++)
			fprintf(out,
				"tvspace_members{role=\"%s\",mode=\"%s\"} "
				"%u\n",
				roles[r], modes[m], now->members[r][m]);
	counter(out, "tvspace_starts_total", "Spaces started.",
		tv_stats.starts);
	counter(out, "tvspace_joins_total", "Guests admitted.", tv_stats.joins);
	fprintf(out, "# HELP tvspace_refusals_total Requests refused, by the "
		     "status sent.\n"
		     "# TYPE tvspace_refusals_total counter\n");
	for (unsigned i = 0; i < 300; i++)
		if (tv_stats.refusals[i])
			fprintf(
			    out, "tvspace_refusals_total{code=\"%u\"} %llu\n",
			    i + 300, (unsigned long long)tv_stats.refusals[i]);
	counter(out, "tvspace_switches_total", "Channel switches.",
		tv_stats.switches);
	histogram(out, "tvspace_repoint_seconds",
		  "From a switch to a multicast member's 2xx to its re-INVITE.",
		  &tv_stats.repoint);
	counter(out, "tvspace_comments_total", "Comments relayed.",
		tv_stats.comments);
	histogram(out, "tvspace_db_query_seconds",
		  "From a statement queued to its result.", &tv_stats.db_query);
	counter(out, "tvspace_db_errors_total",
		"Statements failed or lost with the connection.",
		tv_stats.db_errors);
	gauge(out, "tvspace_db_queue_jobs",
	      "Database statements queued or in flight.", now->db_queue);
	gauge(out, "tvspace_db_queue_oldest_seconds",
	      "Age of the oldest statement queued or in flight.",
	      now->db_oldest);
	gauge(out, "tvspace_db_overloaded",
	      "1 while the database queue is past its soft limit or age: new "
	      "dialogs get 503.",
	      now->db_overloaded ? 1 : 0);
	counter(out, "tvspace_db_rejected_total",
		"Statements refused because the queue was full.",
		tv_stats.db_rejected);
	gauge(out, "tvspace_loop_lag_seconds",
	      "How late the event loop ran (a 100 ms timer's delay).",
	      now->loop_lag);
	gauge(out, "tvspace_sip_unread_bytes",
	      "Bytes waiting unread in the SIP UDP sockets (every 100 ms).",
	      now->sip_unread);
	gauge(out, "tvspace_overloaded",
	      "1 while new dialogs get 503: the loop runs late, the "
	      "database queue is too long or too old, or SIP waits unread.",
	      now->overloaded ? 1 : 0);
	gauge(out, "tvspace_sip_wait_seconds",
	      "How long the oldest request unread in the SIP UDP sockets has "
	      "waited (every 100 ms).",
	      now->sip_wait);
	gauge(out, "tvspace_admit_rate",
	      "New dialogs admitted a second while the queue delay limits "
	      "them (queue_delay_target); 0 while nothing limits them.",
	      now->admit_rate);
	counter(out, "tvspace_shed_total",
		"New dialogs refused with 503 for overload.", tv_stats.shed);
	counter(out, "tvspace_admit_gated_total",
		"Of those, refused because a job queued then would wait in the "
		"database over half queue_delay_target.",
		now->admit_gated);
	counter(out, "tvspace_service_cache_hits_total",
		"Service lookups answered by the cache.", now->cache_hits);
	counter(out, "tvspace_service_cache_misses_total",
		"Service lookups that asked the database.", now->cache_misses);
	counter(out, "tvspace_service_cache_evictions_total",
		"Services dropped from the full cache.", now->cache_evictions);
	gauge(out, "tvspace_service_cache_entries",
	      "Services in the cache now.", now->cache_entries);
	counter(out, "tvspace_rtp_packets_relayed_total",
		"RTP packets sent to relay members.", now->rtp_out);
}

static double mean_ms(const struct stats_hist *h)
{
	return h->count ? 1000.0 * h->sum / (double)h->count : 0;
}

/* One line of the report: its JSON key, its label for a person, and its
 * value as a count, a limit (a count, 0 for none), a measure printed with
 * @c decimals and @c unit, a flag, or a string. */
struct report_row {
	const char *key, *label;
	enum { COUNT, LIMIT, MEASURE, FLAG, TEXT } kind;
	uint64_t count;
	double measure;
	int decimals; /* of a measure */
	const char *unit;
	bool flag;
	const char *text;
};

#define ROW_COUNT(k, l, v)                                                     \
	{                                                                      \
		.key = (k), .label = (l), .kind = COUNT, .count = (v)          \
	}
#define ROW_MEASURE(k, l, v, d, u)                                             \
	{                                                                      \
		.key = (k), .label = (l), .kind = MEASURE, .measure = (v),     \
		.decimals = (d), .unit = (u)                                   \
	}
#define ROW_FLAG(k, l, v)                                                      \
	{                                                                      \
		.key = (k), .label = (l), .kind = FLAG, .flag = (v)            \
	}

/* @a r's value, as JSON or for a person. */
static void put_value(FILE *out, const struct report_row *r, int json)
{
	switch (r->kind) {
	case COUNT:
		fprintf(out, "%llu", (unsigned long long)r->count);
		break;
	case LIMIT:
		if (!json && !r->count)
			fputs("no limit", out);
		else
			fprintf(out, "%s%llu", json ? "" : "at most ",
				(unsigned long long)r->count);
		break;
	case MEASURE:
		fprintf(out, "%.*f%s%s", r->decimals, r->measure,
			json ? "" : " ", json ? "" : r->unit);
		break;
	case FLAG:
		fputs(json ? (r->flag ? "true" : "false")
			   : (r->flag ? "yes" : "no"),
		      out);
		break;
	case TEXT: /* our own strings (the version): nothing to escape */
		fprintf(out, json ? "\"%s\"" : "%s", r->text);
		break;
	}
}

void stats_report(FILE *out, const struct stats_now *now, int json)
{
	unsigned members = 0;
	uint64_t refused = 0;

	for (unsigned r = 0; r < 3; r++)
		for (unsigned m = 0; m < 2; m++)
			members += now->members[r][m];
	for (unsigned i = 0; i < 300; i++)
		refused += tv_stats.refusals[i];

	const struct report_row rows[] = {
	    {.key = "version",
	     .label = "version",
	     .kind = TEXT,
	     .text = now->version},
	    ROW_MEASURE("uptime_s", "uptime", now->uptime, 0, "s"),
	    ROW_COUNT("spaces", "live spaces", now->spaces),
	    ROW_COUNT("members", "members", members),
	    ROW_COUNT("channels", "channels", now->channels),
	    ROW_COUNT("starts", "spaces started", tv_stats.starts),
	    ROW_COUNT("joins", "guests admitted", tv_stats.joins),
	    ROW_COUNT("refusals", "requests refused", refused),
	    ROW_COUNT("switches", "switches", tv_stats.switches),
	    ROW_COUNT("comments", "comments", tv_stats.comments),
	    ROW_MEASURE("repoint_mean_ms", "re-point mean",
			mean_ms(&tv_stats.repoint), 3, "ms"),
	    ROW_MEASURE("db_query_mean_ms", "db statement mean",
			mean_ms(&tv_stats.db_query), 3, "ms"),
	    ROW_COUNT("db_errors", "db errors", tv_stats.db_errors),
	    ROW_COUNT("db_queue", "db queue", now->db_queue),
	    ROW_MEASURE("db_oldest_s", "db queue oldest", now->db_oldest, 3,
			"s"),
	    ROW_FLAG("db_overloaded", "db overloaded", now->db_overloaded),
	    ROW_COUNT("db_rejected", "db refused, full", tv_stats.db_rejected),
	    ROW_MEASURE("loop_lag_s", "loop late", now->loop_lag, 3, "s"),
	    ROW_FLAG("overloaded", "overloaded", now->overloaded),
	    /* 0: nothing limits what is admitted */
	    {.key = "admit_rate",
	     .label = "admitted a second",
	     .kind = LIMIT,
	     .count = now->admit_rate},
	    ROW_COUNT("shed", "dialogs shed (503)", tv_stats.shed),
	    ROW_COUNT("cache_hits", "service cache hits", now->cache_hits),
	    ROW_COUNT("cache_misses", "service cache misses",
		      now->cache_misses),
	    ROW_COUNT("cache_entries", "service cache held",
		      now->cache_entries),
	    ROW_COUNT("cache_capacity", "service cache size",
		      now->cache_capacity),
	    ROW_COUNT("rtp_packets_relayed", "rtp packets relayed",
		      now->rtp_out),
	};
	size_t n = sizeof(rows) / sizeof(rows[0]);

	for (size_t i = 0; i < n; i++) {
		if (json)
			fprintf(out, "%s\"%s\":", i ? "," : "{", rows[i].key);
		else
			fprintf(out, "%-20s ", rows[i].label);
		put_value(out, &rows[i], json);
		if (!json)
			fputc('\n', out);
	}
	if (json)
		fputs("}\n", out);
}
