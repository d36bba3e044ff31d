/* The counters as `tvspacectl stats` prints them: one JSON object and the
 * same fields as lines for a person; histograms cumulative in the metrics
 * text. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/stats.h"

#include "check_run.h"

static char *render(int json, const struct stats_now *now, int metrics)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(out);
	if (metrics)
		stats_prometheus(out, now);
	else
		stats_report(out, now, json);
	ck_assert_int_eq(fclose(out), 0);
	return buf;
}

static unsigned count(const char *s, char c)
{
	unsigned n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

static const struct stats_now busy = {
    .version = "1.2.3",
    .uptime = 61.4,
    .spaces = 2,
    .members = {{2, 0}, {3, 1}, {1, 0}},
    .channels = 5,
    .db_queue = 3,
    .db_oldest = 0.0126,
    .db_overloaded = true,
    .admit_rate = 150,
    .cache_hits = 9,
    .cache_entries = 4,
    .cache_capacity = 100,
};

START_TEST(the_report_says_each_field_once_either_way)
{
	char *json, *text;

	memset(&tv_stats, 0, sizeof(tv_stats));
	tv_stats.starts = 7;
	tv_stats.refusals[486 - 300] = 2;
	tv_stats.refusals[503 - 300] = 1;
	json = render(1, &busy, 0);
	text = render(0, &busy, 0);
	/* One object on one line; its fields are the person's lines. */
	ck_assert_int_eq(json[0], '{');
	ck_assert_str_eq(json + strlen(json) - 2, "}\n");
	ck_assert_uint_eq(count(json, '\n'), 1);
	ck_assert_uint_eq(count(json, ':'), count(text, '\n'));
	ck_assert_ptr_nonnull(strstr(json, "{\"version\":\"1.2.3\","));
	ck_assert_ptr_nonnull(strstr(json, "\"uptime_s\":61,"));
	ck_assert_ptr_nonnull(strstr(json, "\"members\":7,"));
	ck_assert_ptr_nonnull(strstr(json, "\"starts\":7,"));
	ck_assert_ptr_nonnull(strstr(json, "\"refusals\":3,"));
	ck_assert_ptr_nonnull(strstr(json, "\"db_oldest_s\":0.013,"));
	ck_assert_ptr_nonnull(strstr(json, "\"db_overloaded\":true,"));
	ck_assert_ptr_nonnull(strstr(json, "\"overloaded\":false,"));
	ck_assert_ptr_nonnull(strstr(json, "\"cache_capacity\":100,"));
	ck_assert_ptr_nonnull(strstr(text, "\nmembers              7\n"));
	ck_assert_ptr_nonnull(strstr(text, "\ndb queue oldest      0.013 s\n"));
	ck_assert_ptr_nonnull(strstr(text, "\ndb overloaded        yes\n"));
	ck_assert_ptr_nonnull(
	    strstr(text, "\nadmitted a second    at most 150\n"));
	ck_assert_ptr_nonnull(strstr(json, "\"admit_rate\":150,"));
	free(json);
	free(text);
}
END_TEST

/* The admission's limit: a count in JSON (0 when none), words for a
 * person. */
START_TEST(no_limit_is_said_so)
{
	struct stats_now open = busy;
	char *json, *text;

	open.admit_rate = 0;
	json = render(1, &open, 0);
	text = render(0, &open, 0);
	ck_assert_ptr_nonnull(strstr(json, "\"admit_rate\":0,"));
	ck_assert_ptr_nonnull(
	    strstr(text, "\nadmitted a second    no limit\n"));
	free(json);
	free(text);
}
END_TEST

START_TEST(a_histogram_is_cumulative)
{
	char *m;

	memset(&tv_stats, 0, sizeof(tv_stats));
	stats_observe(&tv_stats.repoint, 0.0005);
	stats_observe(&tv_stats.repoint, 0.02);
	stats_observe(&tv_stats.repoint, 7);
	stats_observe(&tv_stats.repoint, -1); /* a clock step: 0 */
	m = render(0, &busy, 1);
	ck_assert_ptr_nonnull(
	    strstr(m, "tvspace_repoint_seconds_bucket{le=\"0.001\"} 2\n"));
	ck_assert_ptr_nonnull(
	    strstr(m, "tvspace_repoint_seconds_bucket{le=\"0.025\"} 3\n"));
	ck_assert_ptr_nonnull(
	    strstr(m, "tvspace_repoint_seconds_bucket{le=\"+Inf\"} 4\n"));
	ck_assert_ptr_nonnull(strstr(m, "tvspace_repoint_seconds_count 4\n"));
	ck_assert_ptr_nonnull(
	    strstr(m, "tvspace_members{role=\"guest\",mode=\"relay\"} 1\n"));
	free(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("stats");

	tcase_add_test(tc, the_report_says_each_field_once_either_way);
	tcase_add_test(tc, no_limit_is_said_so);
	tcase_add_test(tc, a_histogram_is_cumulative);
	suite_add_tcase(s, tc);
	return check_run(s);
}
