/* XMLTV guides: times with offsets, the programme on now, hostile XML. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/guide.h"

#include "check_run.h"

static su_home_t home[1];
static struct guide *g;
static char err[256];

static void setup(void)
{
	su_home_init(home);
	g = guide_create(home);
	err[0] = '\0';
}

static void teardown(void)
{
	guide_destroy(g);
	su_home_deinit(home);
}

static int64_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = d,
			.tm_hour = h,
			.tm_min = mi};

	return (int64_t)timegm(&tm);
}

START_TEST(xmltv_programmes_by_channel_and_time)
{
	const char *dir = getenv("TVSPACE_TEST_DATA");
	char path[512];
	const struct programme *p;

	snprintf(path, sizeof(path), "%s/xmltv/guide.xml", dir ? dir : ".");
	ck_assert_msg(guide_load(g, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(guide_count(g), 4); /* "garbage" start skipped */

	/* 20:10 at +0100 is 19:10 UTC */
	p = guide_now(g, "news", utc(2026, 11, 24, 19, 10));
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->title, "Evening News");
	ck_assert_int_eq(p->start, utc(2026, 11, 24, 19, 0));
	ck_assert_int_eq(p->stop, utc(2026, 11, 24, 19, 30));
	p = guide_now(g, "news", utc(2026, 11, 24, 19, 30));
	ck_assert_str_eq(p->title, "Weather & Sport");
	ck_assert_ptr_null(guide_now(g, "news", utc(2026, 11, 24, 21, 0)));
	/* no stop: on until the next one starts */
	p = guide_now(g, "sports", utc(2026, 11, 24, 21, 59));
	ck_assert_str_eq(p->title, "Cup Final");
	p = guide_now(g, "sports", utc(2026, 11, 24, 22, 1));
	ck_assert_str_eq(p->title, "Late Show");
	ck_assert_ptr_null(guide_now(g, "movies", utc(2026, 11, 24, 19, 10)));
}
END_TEST

START_TEST(not_xmltv_or_not_xml)
{
	const char *junk = "<html><body>no</body></html>";
	const char *broken = "<tv><programme></tv>";

	ck_assert_int_eq(guide_parse(g, junk, strlen(junk), err, sizeof(err)),
			 -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "not an XMLTV guide"));
	ck_assert_int_eq(
	    guide_parse(g, broken, strlen(broken), err, sizeof(err)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "not well-formed"));
	ck_assert_int_eq(guide_load(g, "/nonexistent.xml", err, sizeof(err)),
			 -ENOENT);
}
END_TEST

START_TEST(lookups_are_indexed_and_say_when_the_answer_changes)
{
	/* Channels interleaved and out of order in the file. */
	static const char xml[] =
	    "<tv>"
	    "<programme start=\"20261124210000\" channel=\"b\">"
	    "<title>B2</title></programme>"
	    "<programme start=\"20261124200000\" stop=\"20261124203000\" "
	    "channel=\"a\"><title>A1</title></programme>"
	    "<programme start=\"20261124200000\" channel=\"b\">"
	    "<title>B1</title></programme>"
	    "<programme start=\"20261124204500\" channel=\"a\">"
	    "<title>A2</title></programme>"
	    "</tv>";
	const int64_t t20 = 1795550400; /* 2026-11-24 20:00:00 UTC */
	const struct programme *p;

	ck_assert_int_eq(guide_parse(g, xml, sizeof(xml) - 1, err, sizeof(err)),
			 0);
	p = guide_now(g, "a", t20 + 60);
	ck_assert_str_eq(p->title, "A1");
	ck_assert_int_eq(guide_next_change(g, "a", t20 + 60), t20 + 1800);
	/* between A1's stop and A2's start: nothing, until A2 */
	ck_assert_ptr_null(guide_now(g, "a", t20 + 1900));
	ck_assert_int_eq(guide_next_change(g, "a", t20 + 1900), t20 + 2700);
	ck_assert_str_eq(guide_now(g, "a", t20 + 2700)->title, "A2");
	ck_assert_int_eq(guide_next_change(g, "a", t20 + 2700), 0);
	/* without stop times b's programmes run until the next */
	ck_assert_str_eq(guide_now(g, "b", t20 + 3599)->title, "B1");
	ck_assert_int_eq(guide_next_change(g, "b", t20), t20 + 3600);
	ck_assert_str_eq(guide_now(g, "b", t20 + 3600)->title, "B2");
	ck_assert_ptr_null(guide_now(g, "b", t20 - 1));
	ck_assert_ptr_null(guide_now(g, "c", t20));
	ck_assert_int_eq(guide_next_change(g, "c", t20), 0);
	/* the file's order stays */
	ck_assert_str_eq(guide_at(g, 0)->title, "B2");
}
END_TEST

/* A guide file of the corpus of test/fuzz (the fuzz_guide CTest replays
 * them all), parsed whole. */
static int parse_corpus(const char *name)
{
	const char *src = getenv("TVSPACE_SOURCE_DIR");
	char path[512];
	FILE *f;
	static char buf[1 << 17];
	size_t n;

	snprintf(path, sizeof(path), "%s/test/fuzz/corpus/guide/%s",
		 src ? src : ".", name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	ck_assert_uint_lt(n, sizeof(buf));
	return guide_parse(g, buf, n, err, sizeof(err));
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(external_entities_are_not_loaded)
{
	static const char *const files[] = {"xxe-passwd", "xxe-passwd-attr",
					    "xxe-parameter"};
	const struct programme *p;

	/* A guide that declares entities is refused (XMLTV has none), or
	 * libxml2 refuses it first. */
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		ck_assert_int_eq(parse_corpus(files[i]), -EBADMSG);
		ck_assert_uint_eq(guide_count(g), 0);
	}
	/* A DTD named by URL is not fetched (XML_PARSE_NONET, no
	 * XML_PARSE_DTDLOAD): its entity stays an empty reference. */
	ck_assert_int_eq(parse_corpus("xxe-http"), 0);
	ck_assert_str_eq(guide_at(g, 0)->title, "");
	/* XInclude is not processed: the title is the element's text. */
	ck_assert_int_eq(parse_corpus("xinclude"), 0);
	for (unsigned i = 0; (p = guide_at(g, i)); i++)
		ck_assert_ptr_null(strstr(p->title, "root:"));
}
END_TEST

START_TEST(entity_expansion_is_refused_at_once)
{
	static const char *const files[] = {"billion-laughs",
					    "billion-laughs-attr",
					    "quadratic-blowup", "entity-loop"};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		double t0 = seconds();

		ck_assert_int_eq(parse_corpus(files[i]), -EBADMSG);
		ck_assert_msg(seconds() - t0 < 1.0, "%s took %.1f s", files[i],
			      seconds() - t0);
		ck_assert_uint_eq(guide_count(g), 0);
	}
	/* the one that libxml2 lets through is stopped by guide_parse() */
	ck_assert_int_eq(parse_corpus("quadratic-blowup"), -EBADMSG);
	ck_assert_str_eq(err, "the guide declares entities");
}
END_TEST

START_TEST(nesting_is_bounded)
{
	/* 10,000 levels: over libxml2's 256 without XML_PARSE_HUGE */
	ck_assert_int_eq(parse_corpus("deep-nesting"), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "not well-formed"));
	ck_assert_int_eq(parse_corpus("deep-title"), -EBADMSG);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("guide");
	TCase *tc = tcase_create("xmltv");

	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, xmltv_programmes_by_channel_and_time);
	tcase_add_test(tc, not_xmltv_or_not_xml);
	tcase_add_test(tc, lookups_are_indexed_and_say_when_the_answer_changes);
	tcase_add_test(tc, external_entities_are_not_loaded);
	tcase_add_test(tc, entity_expansion_is_refused_at_once);
	tcase_add_test(tc, nesting_is_bounded);
	suite_add_tcase(s, tc);
	return check_run(s);
}
