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

START_TEST(headend_lineup_loads)
{
	const char *src = getenv("TVSPACE_SOURCE_DIR");
	const struct channel *red, *blue, *copy;
	const struct channel_stream *v, *a;
	char path[512];

	snprintf(path, sizeof(path), "%s/etc/headend-lineup.m3u",
		 src ? src : ".");
	ck_assert_msg(lineup_load(cat, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(catalog_channel_count(cat), 3);
	red = catalog_channel(cat, "red");
	ck_assert_int_eq(red->media, CHANNEL_STREAMS);
	ck_assert_uint_eq(red->n_streams, 2);
	v = &red->streams[0];
	a = &red->streams[1];
	ck_assert_int_eq(v->media, CHANNEL_VIDEO);
	ck_assert_uint_eq(v->pt, 96);
	ck_assert_str_eq(v->encoding, "VP8");
	ck_assert_uint_eq(v->clock, 90000);
	ck_assert_str_eq(v->group, "232.20.0.11");
	ck_assert_uint_eq(v->port, 5004);
	ck_assert_ptr_null(v->fmtp);
	ck_assert_int_eq(a->media, CHANNEL_AUDIO);
	ck_assert_str_eq(a->encoding, "PCMU");
	ck_assert_uint_eq(a->port, 5006);
	/* found by the group its URL names, as an offer names it */
	ck_assert_ptr_eq(catalog_channel_by_group(cat, "232.20.0.11", 5004),
			 red);
	ck_assert_uint_eq(red->pt, 96);
	blue = catalog_channel(cat, "blue");
	ck_assert_str_eq(catalog_stream_of(blue, CHANNEL_VIDEO)->fmtp,
			 "packetization-mode=1;profile-level-id=42c01f");
	ck_assert(catalog_same_media(red, blue));
	/* the encodings the lineup sends: VP8, H.264, PCMU */
	ck_assert_ptr_nonnull(catalog_encoding_at(cat, 2));
	ck_assert_ptr_null(catalog_encoding_at(cat, 3));
	/* a space's copy keeps its streams when the catalog goes */
	copy = catalog_channel_copy(home, blue);
	catalog_destroy(cat);
	cat = catalog_create(home);
	ck_assert_str_eq(copy->streams[0].encoding, "H264");
	ck_assert_str_eq(copy->streams[0].fmtp,
			 "packetization-mode=1;profile-level-id=42c01f");
	ck_assert_str_eq(copy->streams[1].group, "232.20.0.13");
	su_free(home, (void *)copy);
}
END_TEST

START_TEST(streams_in_every_form)
{
	const struct channel *ch;

	ck_assert_msg(
	    parse("#EXTINF:-1 tvg-id=\"a\" tvspace-media=\"audio video\" "
		  "tvspace-audio=\"111 opus/48000/2 10.1.1.1@232.1.1.1:5006\" "
		  "tvspace-video=\"97 h264/90000 232.1.1.2:5004\" "
		  "tvspace-video-fmtp=\"packetization-mode=1;sprop-parameter-"
		  "sets=Z0LAH9oB4AiflwFqAgICgAAAAwCAAAAZR4wZUA==,aM48gA==\",A\n"
		  "rtp://10.1.1.1@232.1.1.1:5006\n"
		  /* one stream of its own encoding */
		  "#EXTINF:-1 tvg-id=\"b\" tvspace-media=\"audio\" "
		  "tvspace-audio=\"111 opus/48000/2 232.1.1.3:5004\",B\n"
		  "rtp://@232.1.1.3:5004\n"
		  /* one stream of G.711: an ordinary audio channel */
		  "#EXTINF:-1 tvg-id=\"c\" tvspace-media=\"audio\" "
		  "tvspace-audio=\"8 PCMA/8000 232.1.1.4:5004\",C\n"
		  "rtp://@232.1.1.4:5004\n") == 0,
	    "%s", err);
	ch = catalog_channel(cat, "a");
	ck_assert_int_eq(ch->media, CHANNEL_STREAMS);
	ck_assert_int_eq(ch->streams[0].media, CHANNEL_AUDIO);
	ck_assert_uint_eq(ch->streams[0].channels, 2);
	ck_assert_str_eq(ch->streams[0].source, "10.1.1.1");
	ck_assert_uint_eq(ch->pt, 111); /* the URL's stream */
	ck_assert_ptr_nonnull(strstr(ch->streams[1].fmtp, "aM48gA=="));
	ck_assert_int_eq(catalog_channel(cat, "b")->media, CHANNEL_STREAMS);
	ck_assert(!catalog_same_media(ch, catalog_channel(cat, "b")));
	ch = catalog_channel(cat, "c");
	ck_assert_int_eq(ch->media, CHANNEL_AUDIO);
	ck_assert_uint_eq(ch->pt, 8);
	ck_assert_uint_eq(ch->n_streams, 0);
}
END_TEST

START_TEST(stream_errors_name_the_line)
{
	const char *url = "rtp://@232.1.1.1:5004\n";
	char text[512];
	static const struct {
		const char *attrs, *want;
	} bad[] = {
	    {"tvspace-media=\"video audio\" "
	     "tvspace-video=\"96 VP8/90000 232.1.1.1:5004\"",
	     "tvspace-audio is missing"},
	    {"tvspace-media=\"video audio\" "
	     "tvspace-video=\"96 VP8/90000 232.1.1.1:5004\" "
	     "tvspace-audio=\"0 PCMU/8000\"",
	     "tvspace-audio is \"PT ENCODING/CLOCK"},
	    {"tvspace-media=\"video\" "
	     "tvspace-video=\"128 VP8/90000 232.1.1.1:5004\"",
	     "payload type is 0 to 127"},
	    {"tvspace-media=\"video\" "
	     "tvspace-video=\"96 VP9/90000 232.1.1.1:5004\"",
	     "video streams are VP8 or H264"},
	    {"tvspace-media=\"video\" "
	     "tvspace-video=\"96 VP8/8000 232.1.1.1:5004\"",
	     "a video stream's clock is 90000"},
	    {"tvspace-media=\"video\" "
	     "tvspace-video=\"96 VP8 232.1.1.1:5004\"",
	     "the encoding is NAME/CLOCK"},
	    {"tvspace-media=\"video\" "
	     "tvspace-video=\"96 VP8/90000 232.1.1.9:5004\"",
	     "the URL is not one of the channel's streams"},
	    {"tvspace-media=\"video\" "
	     "tvspace-video=\"96 VP8/90000 10.1.1.1:5004\"",
	     "'10.1.1.1' is not an IPv4 multicast group"},
	    {"tvspace-media=\"audio\" "
	     "tvspace-video=\"96 VP8/90000 232.1.1.1:5004\"",
	     "tvspace-video without tvspace-media naming it"},
	    {"tvspace-media=\"video\" tvspace-pt=\"96\" "
	     "tvspace-video=\"96 VP8/90000 232.1.1.1:5004\"",
	     "tvspace-pt is for a channel of one stream"},
	    {"tvspace-media=\"video\" tvspace-generate=\"tone:440\" "
	     "tvspace-video=\"96 VP8/90000 232.1.1.1:5004\"",
	     "plays no channel of several streams"},
	    {"tvspace-media=\"audio\" tvspace-audio-fmtp=\"x=1\"",
	     "a=fmtp is for a channel's streams"},
	    {"tvspace-media=\"audio\" "
	     "tvspace-audio=\"0 PC\\MU/8000 232.1.1.1:5004\"",
	     "bad encoding name"},
	    {"tvspace-media=\"audio\" "
	     "tvspace-audio=\"111 opus/48000/9 232.1.1.1:5004\"",
	     "channels are 1 to 8"},
	    {"tvspace-media=\"audio audio\"", "tvspace-media must be"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		catalog_destroy(cat);
		cat = catalog_create(home);
		snprintf(text, sizeof(text), "#EXTM3U\n#EXTINF:-1 %s,A\n%s",
			 bad[i].attrs, url);
		ck_assert_int_eq(parse(text), -EBADMSG);
		ck_assert_msg(strstr(err, "line 2: ") &&
				  strstr(err, bad[i].want),
			      "%zu: want '%s', got '%s'", i, bad[i].want, err);
	}
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
	tcase_add_test(tc, headend_lineup_loads);
	tcase_add_test(tc, streams_in_every_form);
	tcase_add_test(tc, stream_errors_name_the_line);
	suite_add_tcase(s, tc);
	return check_run(s);
}
