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

void stats_report(FILE *out, const struct stats_now *now, int json)
{
	unsigned members = 0;
	uint64_t refused = 0;
	char admitted[32] = "no limit";

	if (now->admit_rate)
		snprintf(admitted, sizeof(admitted), "at most %u",
			 now->admit_rate);
	for (unsigned r = 0; r < 3; r++)
		for (unsigned m = 0; m < 2; m++)
			members += now->members[r][m];
	for (unsigned i = 0; i < 300; i++)
		refused += tv_stats.refusals[i];
	if (json) {
		fprintf(
		    out,
		    "{\"version\":\"%s\",\"uptime_s\":%.0f,\"spaces\":%u,"
		    "\"members\":%u,\"channels\":%u,\"starts\":%llu,"
		    "\"joins\":%llu,\"refusals\":%llu,\"switches\":%llu,"
		    "\"comments\":%llu,\"repoint_mean_ms\":%.3f,"
		    "\"db_query_mean_ms\":%.3f,\"db_errors\":%llu,"
		    "\"db_queue\":%u,\"db_oldest_s\":%.3f,"
		    "\"db_overloaded\":%s,\"db_rejected\":%llu,"
		    "\"loop_lag_s\":%.3f,\"overloaded\":%s,\"admit_rate\":%u,"
		    "\"shed\":%llu,"
		    "\"cache_hits\":%llu,\"cache_misses\":%llu,"
		    "\"cache_entries\":%u,"
		    "\"rtp_packets_relayed\":%llu}\n",
		    now->version, now->uptime, now->spaces, members,
		    now->channels, (unsigned long long)tv_stats.starts,
		    (unsigned long long)tv_stats.joins,
		    (unsigned long long)refused,
		    (unsigned long long)tv_stats.switches,
		    (unsigned long long)tv_stats.comments,
		    mean_ms(&tv_stats.repoint), mean_ms(&tv_stats.db_query),
		    (unsigned long long)tv_stats.db_errors, now->db_queue,
		    now->db_oldest, now->db_overloaded ? "true" : "false",
		    (unsigned long long)tv_stats.db_rejected, now->loop_lag,
		    now->overloaded ? "true" : "false", now->admit_rate,
		    (unsigned long long)tv_stats.shed,
		    (unsigned long long)now->cache_hits,
		    (unsigned long long)now->cache_misses, now->cache_entries,
		    (unsigned long long)now->rtp_out);
		return;
	}
	fprintf(out,
		"version              %s\n"
		"uptime               %.0f s\n"
		"live spaces          %u\n"
		"members              %u\n"
		"channels             %u\n"
		"spaces started       %llu\n"
		"guests admitted      %llu\n"
		"requests refused     %llu\n"
		"switches             %llu\n"
		"comments             %llu\n"
		"re-point mean        %.1f ms\n"
		"db statement mean    %.1f ms\n"
		"db errors            %llu\n"
		"db queue             %u (oldest %.3f s)%s\n"
		"db refused, full     %llu\n"
		"loop late            %.3f s%s\n"
		"admitted a second    %s\n"
		"dialogs shed (503)   %llu\n"
		"service cache        %u of %u, %llu hits, %llu misses\n"
		"rtp packets relayed  %llu\n",
		now->version, now->uptime, now->spaces, members, now->channels,
		(unsigned long long)tv_stats.starts,
		(unsigned long long)tv_stats.joins, (unsigned long long)refused,
		(unsigned long long)tv_stats.switches,
		(unsigned long long)tv_stats.comments,
		mean_ms(&tv_stats.repoint), mean_ms(&tv_stats.db_query),
		(unsigned long long)tv_stats.db_errors, now->db_queue,
		now->db_oldest, now->db_overloaded ? ", overloaded" : "",
		(unsigned long long)tv_stats.db_rejected, now->loop_lag,
		now->overloaded ? ", overloaded" : "", admitted,
		(unsigned long long)tv_stats.shed, now->cache_entries,
		now->cache_capacity, (unsigned long long)now->cache_hits,
		(unsigned long long)now->cache_misses,
		(unsigned long long)now->rtp_out);
}
