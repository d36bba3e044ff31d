/* XMLTV guides: times with offsets, the programme on now, hostile XML. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/guide.h"

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

START_TEST(external_entities_are_not_loaded)
{
	const char *xxe =
	    "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE tv [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
	    "<tv><programme start=\"20261124200000\" channel=\"news\">"
	    "<title>&x;</title></programme></tv>";
	const struct programme *p;

	guide_parse(g, xxe, strlen(xxe), err, sizeof(err));
	p = guide_now(g, "news", utc(2026, 11, 24, 20, 1));
	if (p)
		ck_assert_ptr_null(strstr(p->title, "root:"));
}
END_TEST

START_TEST(entity_expansion_is_bounded)
{
	/* "billion laughs": nine levels of tenfold expansion */
	char doc[4096];
	size_t n = 0;

	n += (size_t)snprintf(doc + n, sizeof(doc) - n,
			      "<?xml version=\"1.0\"?>\n<!DOCTYPE tv [\n"
			      "<!ENTITY a0 \"lol\">\n");
	for (int i = 1; i < 10; i++)
		n += (size_t)snprintf(doc + n, sizeof(doc) - n,
				      "<!ENTITY a%d \"&a%d;&a%d;&a%d;&a%d;&a%d;"
				      "&a%d;&a%d;&a%d;&a%d;&a%d;\">\n",
				      i, i - 1, i - 1, i - 1, i - 1, i - 1,
				      i - 1, i - 1, i - 1, i - 1, i - 1);
	snprintf(doc + n, sizeof(doc) - n,
		 "]>\n<tv><programme start=\"20261124200000\" "
		 "channel=\"news\"><title>&a9;</title></programme></tv>");
	/* Must come back (quickly, without a gigabyte of "lol"): libxml2
	 * stops amplification; error or not, it must not hang. */
	guide_parse(g, doc, strlen(doc), err, sizeof(err));
	ck_assert_uint_le(guide_count(g), 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("guide");
	TCase *tc = tcase_create("xmltv");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, xmltv_programmes_by_channel_and_time);
	tcase_add_test(tc, not_xmltv_or_not_xml);
	tcase_add_test(tc, external_entities_are_not_loaded);
	tcase_add_test(tc, entity_expansion_is_bounded);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
