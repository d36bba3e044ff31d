/* M3U lineups: what operators publish, and what they get wrong. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/catalog.h"
#include "server/lineup.h"

#include "check_run.h"

static su_home_t home[1];
static struct catalog *cat;
static char err[256];

static void setup(void)
{
	su_home_init(home);
	cat = catalog_create(home);
	err[0] = '\0';
}

static void teardown(void)
{
	catalog_destroy(cat);
	su_home_deinit(home);
}

static int parse(const char *text)
{
	return lineup_parse(cat, text, strlen(text), err, sizeof(err));
}

START_TEST(operator_lineup_with_attributes)
{
	ck_assert_int_eq(
	    parse("\xef\xbb\xbf#EXTM3U\r\n"
		  "#EXTINF:-1 tvg-id=\"news\" tvg-name=\"Demo News\" "
		  "tvg-chno=\"7\" group-title=\"A, B\",Demo News HD\r\n"
		  "#EXTVLCOPT:network-caching=1000\r\n"
		  "rtp://@232.10.0.1:5004\r\n"
		  "#EXTINF:-1 tvspace-media=\"audio\" tvspace-pt=\"8\" "
		  "tvspace-generate=\"tone:660\",Kids Radio\n"
		  "udp://@232.10.0.5:5006\n"
		  "#EXTINF:-1 tvg-id=\"movies\" tvspace-ttl=\"4\",Movies\n"
		  "rtp://10.0.0.9@232.10.0.3:5004"),
	    0);
	ck_assert_uint_eq(catalog_channel_count(cat), 3);

	const struct channel *n = catalog_channel(cat, "news");
	ck_assert_ptr_nonnull(n);
	ck_assert_uint_eq(n->number, 7);
	ck_assert_str_eq(n->name, "Demo News");
	ck_assert_int_eq(n->media, CHANNEL_VIDEO);
	ck_assert_uint_eq(n->pt, 33);
	ck_assert_str_eq(n->group, "232.10.0.1");
	ck_assert_uint_eq(n->port, 5004);
	ck_assert_ptr_null(n->source);

	/* no tvg-id: derived from the title; number: its position */
	const struct channel *k = catalog_channel(cat, "kids-radio");
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_eq(k->number, 2);
	ck_assert_int_eq(k->media, CHANNEL_AUDIO);
	ck_assert_uint_eq(k->pt, 8);
	ck_assert_str_eq(k->generate, "tone:660");
	ck_assert_ptr_eq(catalog_channel_lookup(cat, "2"), k);

	const struct channel *m =
	    catalog_channel_by_group(cat, "232.10.0.3", 5004);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->source, "10.0.0.9");
	ck_assert_uint_eq(m->ttl, 4);
}
END_TEST

static void expect_error(const char *text, const char *want)
{
	ck_assert_int_eq(parse(text), -EBADMSG);
	ck_assert_msg(strstr(err, want) != NULL, "want '%s', got '%s'", want,
		      err);
}

START_TEST(errors_name_the_line)
{
	expect_error("#EXTM3U\n#EXTINF:-1,A\nrtp://@10.0.0.1:5004\n",
		     "line 3: '10.0.0.1' is not an IPv4 multicast group");
	expect_error("#EXTINF:-1,A\nhttp://x/y\n",
		     "line 2: the stream URL must be rtp:// or udp://");
	expect_error("#EXTINF:-1,A\nrtp://@232.1.1.1\n",
		     "line 2: the stream URL needs a port");
	expect_error("#EXTINF:-1,A\nrtp://@232.1.1.1:0\n",
		     "line 2: the port must be 1 to 65535");
	expect_error("#EXTINF:-1,A\nrtp://@232.1.1.1:70000\n", "line 2:");
	expect_error("#EXTINF:-1,A\nrtp://@[ff3e::1]:5004\n",
		     "IPv6 groups are not supported yet");
	expect_error("#EXTINF:-1 tvg-id=\"x,A\nrtp://@232.1.1.1:1\n",
		     "line 1: unterminated quote in tvg-id");
	expect_error("\n\nrtp://@232.1.1.1:1\n",
		     "line 3: a URL without #EXTINF before it");
	expect_error("#EXTINF:-1,A\n#EXTINF:-1,B\n", "line 2: #EXTINF without "
						     "a URL after the one on "
						     "line 1");
	expect_error("#EXTINF:-1,A", "line 1: #EXTINF without a URL");
	expect_error("#EXTINF:-1 tvspace-media=\"audio\" tvspace-pt=\"33\",A\n"
		     "rtp://@232.1.1.1:1\n",
		     "audio channels are PCMU (0) or PCMA (8)");
	expect_error("#EXTINF:-1 tvspace-generate=\"file:x\",A\n"
		     "rtp://@232.1.1.1:1\n",
		     "tvspace-generate is tone:HZ or ts:FILE");
}
END_TEST

START_TEST(duplicates_are_refused)
{
	expect_error("#EXTINF:-1 tvg-id=\"a\",A\nrtp://@232.1.1.1:1\n"
		     "#EXTINF:-1 tvg-id=\"a\",B\nrtp://@232.1.1.2:1\n",
		     "line 4: channel id 'a' or number 2 is used twice");
	catalog_destroy(cat);
	cat = catalog_create(home);
	expect_error("#EXTINF:-1 tvg-chno=\"5\",A\nrtp://@232.1.1.1:1\n"
		     "#EXTINF:-1 tvg-chno=\"5\",B\nrtp://@232.1.1.2:1\n",
		     "number 5 is used twice");
}
END_TEST

START_TEST(hostile_bytes_do_no_harm)
{
	char nul[] = "#EXTINF:-1,A\nrtp://@232.1.1.1:1\0junk\n";
	char *big = malloc(20000);

	ck_assert_int_eq(
	    lineup_parse(cat, nul, sizeof(nul) - 1, err, sizeof(err)),
	    -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "NUL byte"));
	memset(big, 'x', 19999);
	big[19999] = '\0';
	memcpy(big, "#EXTINF:-1 tvg-id=\"", 19);
	expect_error(big, "line 1:");
	free(big);
	ck_assert_int_eq(parse(""), 0);
	ck_assert_uint_eq(catalog_channel_count(cat), 0);
}
END_TEST

/* Names go into the conference-info XML of every NOTIFY: text that XML
 * cannot carry is refused where the operator can see which line. */
START_TEST(names_are_utf8_without_control_characters)
{
	char title[420];
	const struct channel *ch;
	size_t n;

	expect_error("#EXTINF:-1 tvg-name=\"A\x01\",A\nrtp://@232.1.1.1:1\n",
		     "line 1: control character in the line");
	expect_error("#EXTINF:-1,A\x7f\nrtp://@232.1.1.1:1\n",
		     "line 1: control character in the line");
	expect_error("#EXTINF:-1,A\nrtp://@232.1.1.1:1\x1b\n",
		     "line 2: control character in the line");
	expect_error("#EXTINF:-1 tvg-name=\"\xc3\x28\",A\nrtp://@232.1.1.1:1\n",
		     "line 1: the line is not UTF-8");
	expect_error("#EXTINF:-1,\xe2\x82\nrtp://@232.1.1.1:1\n",
		     "line 1: the line is not UTF-8");
	expect_error("#EXTINF:-1,\xc0\xaf\nrtp://@232.1.1.1:1\n",
		     "the line is not UTF-8"); /* overlong '/' */
	expect_error("#EXTINF:-1,\xed\xa0\x80\nrtp://@232.1.1.1:1\n",
		     "the line is not UTF-8"); /* a surrogate */
	/* comments are not read; tabs are white space */
	ck_assert_msg(
	    parse("#EXTM3U\n# caf\xe9 \x01\n"
		  "#EXTINF:-1\ttvg-id=\"a\",Caf\xc3\xa9 \xf0\x9f\x93\xba\n"
		  "rtp://@232.1.1.1:1\n") == 0,
	    "%s", err);
	ck_assert_str_eq(catalog_channel(cat, "a")->name,
			 "Caf\xc3\xa9 \xf0\x9f\x93\xba");
	/* a title too long for the field is cut before a character */
	n = (size_t)snprintf(title, sizeof(title),
			     "#EXTINF:-1 tvg-id=\"b\" tvg-chno=\"2\",x");
	for (int i = 0; i < 150; i++, n += 2)
		memcpy(title + n, "\xc3\xa9", 2);
	snprintf(title + n, sizeof(title) - n, "\nrtp://@232.1.1.2:1\n");
	ck_assert_msg(parse(title) == 0, "%s", err);
	ch = catalog_channel(cat, "b");
	ck_assert_uint_eq(strlen(ch->name), 255); /* 'x' and 127 'é' */
	ck_assert_str_eq(ch->name + 253, "\xc3\xa9");
}
END_TEST

START_TEST(demo_lineup_loads)
{
	const char *src = getenv("TVSPACE_SOURCE_DIR");
	char path[512];

	snprintf(path, sizeof(path), "%s/etc/demo-lineup.m3u", src ? src : ".");
	ck_assert_msg(lineup_load(cat, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(catalog_channel_count(cat), 5);
	ck_assert_int_eq(lineup_load(cat, "/nonexistent.m3u", err, sizeof(err)),
			 -ENOENT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lineup");
	TCase *tc = tcase_create("m3u");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, operator_lineup_with_attributes);
	tcase_add_test(tc, errors_name_the_line);
	tcase_add_test(tc, duplicates_are_refused);
	tcase_add_test(tc, hostile_bytes_do_no_harm);
	tcase_add_test(tc, names_are_utf8_without_control_characters);
	tcase_add_test(tc, demo_lineup_loads);
	suite_add_tcase(s, tc);
	return check_run(s);
}
