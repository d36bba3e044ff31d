/* SDP offers read into the core's terms, and answers printed back. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/sdp.h>

#include "server/catalog.h"
#include "sip/sdpneg.h"

#include "check_run.h"

static su_home_t home[1];

static void setup(void)
{
	su_home_init(home);
}

static void teardown(void)
{
	su_home_deinit(home);
}

static char *load(const char *name, size_t *ret_len)
{
	const char *dir = getenv("TVSPACE_TEST_DATA");
	char path[512];
	static char buf[4096];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/sdp/%s", dir ? dir : "test/data",
		 name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	*ret_len = n;
	return buf;
}

static int parse_file(const char *name, struct space_offer *o, const char **why)
{
	size_t len;
	char *text = load(name, &len);

	return sdpneg_parse_offer(home, text, len, o, why);
}

START_TEST(multicast_offer_names_its_group)
{
	struct space_offer o;
	const char *why = NULL;

	ck_assert_int_eq(parse_file("multicast-offer.sdp", &o, &why), 0);
	ck_assert_str_eq(o.media, "video");
	ck_assert_str_eq(o.addr, "232.10.0.2");
	ck_assert(o.multicast);
	ck_assert_uint_eq(o.port, 5004);
	ck_assert_uint_eq(o.n_pts, 1);
	ck_assert_uint_eq(o.pts[0], 33);
}
END_TEST

START_TEST(project_attributes_at_both_levels)
{
	struct space_offer o;
	const char *why = NULL;

	ck_assert_int_eq(parse_file("stb-bc-attrs.sdp", &o, &why), 0);
	ck_assert(!o.multicast);
	ck_assert(o.want_multicast);
	ck_assert_str_eq(o.bc_service, "svc-bob-premium");
	ck_assert_str_eq(o.channel, "sports");
	ck_assert_uint_eq(o.n_pts, 2);
}
END_TEST

START_TEST(softphone_audio_offer)
{
	struct space_offer o;
	const char *why = NULL;

	ck_assert_int_eq(parse_file("softphone-audio.sdp", &o, &why), 0);
	ck_assert_str_eq(o.media, "audio");
	ck_assert(!o.multicast && !o.want_multicast);
	/* telephone-event is not a format of the channel: kept apart */
	ck_assert_uint_eq(o.n_pts, 2);
	ck_assert_uint_eq(o.event_pt, 101);
}
END_TEST

START_TEST(a_receive_only_offer_sends_no_keys)
{
	struct space_offer o;
	const char *why = NULL;

	/* What Chrome offers through rtpengine: recvonly, telephone-event at
	 * two clocks.  RFC 3264 §6.1: the answer is sendonly, with no
	 * telephone-event to receive. */
	ck_assert_int_eq(parse_file("browser-recvonly.sdp", &o, &why), 0);
	ck_assert(o.recvonly);
	ck_assert_uint_eq(o.event_pt, 0);
	ck_assert_uint_eq(o.n_pts, 2);
}
END_TEST

START_TEST(bad_offers_say_why)
{
	struct space_offer o;
	const char *why = NULL;

	ck_assert_int_eq(parse_file("no-c-line.sdp", &o, &why), -EBADMSG);
	ck_assert_ptr_nonnull(why);
	why = NULL;
	ck_assert_int_eq(parse_file("no-av-media.sdp", &o, &why), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(why, "m= line"));
	why = NULL;
	ck_assert_int_eq(parse_file("garbage.sdp", &o, &why), -EBADMSG);
	ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(sdpneg_parse_offer(home, "v=0\r\n\0x", 7, &o, &why),
			 -EBADMSG);
	ck_assert_int_eq(sdpneg_parse_offer(home, NULL, 0, &o, &why), -EBADMSG);

	/* One m= line too many, each of them one a terminal could send. */
	char many[2048] = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
			  "c=IN IP4 232.10.0.1\r\nt=0 0\r\n";
	for (int i = 0; i <= SDPNEG_MAX_MEDIA; i++)
		strcat(many, "m=video 5004 RTP/AVP 33\r\n");
	why = NULL;
	ck_assert_int_eq(sdpneg_parse_offer(home, many, strlen(many), &o, &why),
			 -EBADMSG);
	ck_assert_ptr_nonnull(strstr(why, "m= lines"));
	*strrchr(many, 'm') = '\0';
	ck_assert_int_eq(sdpneg_parse_offer(home, many, strlen(many), &o, &why),
			 0);
}
END_TEST

/* Found by fuzz_sdp: sofia-sip's sdp_parse() never returns on such an
 * m= line (it allocates until memory runs out). */
START_TEST(m_line_that_stalls_sofia_is_refused)
{
	static const char offer[] = "v=0\r\no=a 1 1 IN IP4 192.0.2.7\r\ns=-\r\n"
				    "c=IN IP4 192.0.2.7\r\nt=0 0\r\n"
				    "m=video 5004 RTP/A001:db8::7\r\n";
	static const char slash[] = "v=0\r\no=a 1 1 IN IP4 192.0.2.7\r\ns=-\r\n"
				    "c=IN IP4 192.0.2.7\r\nt=0 0\r\n"
				    "m=audio 40000 RTP0 /AVP 8 101\r\n";
	static const char run_in[] =
	    "v=0\r\no=a 1 1 IN IP4 192.0.2.7\r\ns=-\r\n"
	    "c=IN IP4 192.0.2.7\r\nt=0 0\r\n"
	    "m=video 5004PRT /AVP 33\r\n";
	struct space_offer o;
	const char *why = NULL;

	ck_assert_int_eq(
	    sdpneg_parse_offer(home, offer, sizeof(offer) - 1, &o, &why),
	    -EBADMSG);
	ck_assert_str_eq(why, "malformed m= line");
	/* the same line without its end of line, the text not
	 * NUL-terminated */
	ck_assert_int_eq(
	    sdpneg_parse_offer(home, offer, sizeof(offer) - 3, &o, &why),
	    -EBADMSG);
	/* a proto run into the port */
	ck_assert_int_eq(
	    sdpneg_parse_offer(home, run_in, sizeof(run_in) - 1, &o, &why),
	    -EBADMSG);
	/* a format with a '/' (only the proto may have one) */
	ck_assert_int_eq(
	    sdpneg_parse_offer(home, slash, sizeof(slash) - 1, &o, &why),
	    -EBADMSG);
	ck_assert_str_eq(why, "malformed m= line");
}
END_TEST

START_TEST(multicast_answer_carries_the_group)
{
	struct channel ch = {
	    .id = "movies",
	    .number = 3,
	    .name = "Movies HD",
	    .media = CHANNEL_VIDEO,
	    .pt = 33,
	    .group = "232.10.0.3",
	    .port = 5004,
	    .source = "10.0.0.9",
	    .ttl = 16,
	};
	struct sdpneg_answer a = {
	    .session_id = 99,
	    .version = 2,
	    .origin_addr = "127.0.0.1",
	    .channel = &ch,
	    .delivery = SPACE_MULTICAST,
	    .pt = 33,
	    .session_name = "tvspace space-1",
	};
	char *sdp = sdpneg_answer(home, &a);
	sdp_parser_t *p;
	sdp_session_t *s;

	ck_assert_ptr_nonnull(sdp);
	ck_assert_ptr_nonnull(strstr(sdp, "c=IN IP4 232.10.0.3/16\r\n"));
	ck_assert_ptr_nonnull(strstr(sdp, "m=video 5004 RTP/AVP 33\r\n"));
	ck_assert_ptr_nonnull(strstr(sdp, "a=recvonly\r\n"));
	ck_assert_ptr_nonnull(strstr(
	    sdp, "a=source-filter: incl IN IP4 232.10.0.3 10.0.0.9\r\n"));
	ck_assert_ptr_nonnull(strstr(sdp, "a=tvspace-channel:movies\r\n"));
	ck_assert_ptr_nonnull(strstr(sdp, "o=tvspace 99 2 IN IP4 127.0.0.1"));
	/* What we print, we (strictly) read back. */
	p = sdp_parse(home, sdp, (isize_t)strlen(sdp), sdp_f_strict);
	s = sdp_session(p);
	ck_assert_msg(s != NULL, "%s", sdp_parsing_error(p));
	ck_assert_uint_eq(s->sdp_media->m_port, 5004);
	sdp_parser_free(p);
}
END_TEST

START_TEST(relay_answer_carries_our_address)
{
	struct channel ch = {
	    .id = "music",
	    .number = 4,
	    .name = "Music",
	    .media = CHANNEL_AUDIO,
	    .pt = 0,
	    .group = "232.10.0.4",
	    .port = 5004,
	};
	struct sdpneg_answer a = {
	    .session_id = 1,
	    .version = 1,
	    .origin_addr = "127.0.0.1",
	    .channel = &ch,
	    .delivery = SPACE_RELAY,
	    .pt = 8,
	    .relay_addr = "127.0.0.1",
	    .relay_port = 20002,
	};
	char *sdp = sdpneg_answer(home, &a);

	ck_assert_ptr_nonnull(sdp);
	ck_assert_ptr_nonnull(strstr(sdp, "c=IN IP4 127.0.0.1\r\n"));
	ck_assert_ptr_nonnull(strstr(sdp, "m=audio 20002 RTP/AVP 8\r\n"));
	ck_assert_ptr_null(strstr(sdp, "source-filter"));
	ck_assert_ptr_nonnull(strstr(sdp, "a=sendonly\r\n"));
	/* with the member's keys taken: telephone-event, both ways */
	a.event_pt = 101;
	sdp = sdpneg_answer(home, &a);
	ck_assert_ptr_nonnull(strstr(sdp, "m=audio 20002 RTP/AVP 8 101\r\n"));
	ck_assert_ptr_nonnull(
	    strstr(sdp, "a=rtpmap:101 telephone-event/8000\r\n"));
	ck_assert_ptr_nonnull(strstr(sdp, "a=fmtp:101 0-15\r\n"));
	ck_assert_ptr_null(strstr(sdp, "a=sendonly"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sdpneg");
	TCase *tc = tcase_create("offer-answer");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, multicast_offer_names_its_group);
	tcase_add_test(tc, project_attributes_at_both_levels);
	tcase_add_test(tc, softphone_audio_offer);
	tcase_add_test(tc, a_receive_only_offer_sends_no_keys);
	tcase_add_test(tc, bad_offers_say_why);
	tcase_add_test(tc, m_line_that_stalls_sofia_is_refused);
	tcase_add_test(tc, multicast_answer_carries_the_group);
	tcase_add_test(tc, relay_answer_carries_our_address);
	suite_add_tcase(s, tc);
	return check_run(s);
}
