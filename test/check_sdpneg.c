/* SDP offers read into the core's terms, and answers printed back. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/sdp.h>

#include "server/catalog.h"
#include "server/lineup.h"
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

	/* linphonec on a host with a global IPv6 address offers it: refused
	 * at once, not after the host allowed the join. */
	const char v6[] = "v=0\r\no=bob 1 1 IN IP6 fd00::2\r\ns=-\r\n"
			  "c=IN IP6 fd00::2\r\nt=0 0\r\n"
			  "m=audio 7078 RTP/AVP 0\r\n";
	why = NULL;
	ck_assert_int_eq(sdpneg_parse_offer(home, v6, sizeof(v6) - 1, &o, &why),
			 -EBADMSG);
	ck_assert_ptr_nonnull(strstr(why, "IPv6"));
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

/* The channels of separate streams of etc/headend-lineup.m3u's kind: red
 * (VP8 and PCMU), blue (H.264, constrained baseline 3.1, and PCMU), and a
 * one-stream channel. */
static struct space_mgr *streams_mgr(void)
{
	static const char lineup[] =
	    "#EXTM3U\n"
	    "#EXTINF:-1 tvg-id=\"music\" tvspace-media=\"audio\",Music\n"
	    "rtp://@232.10.0.4:5004\n"
	    "#EXTINF:-1 tvg-id=\"red\" tvspace-media=\"video audio\" "
	    "tvspace-video=\"96 VP8/90000 232.20.0.11:5004\" "
	    "tvspace-audio=\"0 PCMU/8000 232.20.0.11:5006\",Test Red\n"
	    "rtp://@232.20.0.11:5004\n"
	    "#EXTINF:-1 tvg-id=\"blue\" tvspace-media=\"video audio\" "
	    "tvspace-video=\"97 H264/90000 10.0.0.9@232.20.0.13:5004\" "
	    "tvspace-video-fmtp=\"packetization-mode=1;"
	    "profile-level-id=42c01f\" "
	    "tvspace-audio=\"0 PCMU/8000 232.20.0.14:5006\",Test Blue\n"
	    "rtp://10.0.0.9@232.20.0.13:5004\n";
	struct catalog *cat = catalog_create(home);
	char err[128];

	ck_assert_ptr_nonnull(cat);
	ck_assert_int_eq(
	    lineup_parse(cat, lineup, sizeof(lineup) - 1, err, sizeof(err)), 0);
	return space_mgr_create(home, cat);
}

START_TEST(every_m_line_is_read)
{
	struct space_offer o;
	const char *why = NULL;
	const struct space_offer_line *a, *v;

	ck_assert_int_eq(parse_file("browser-av.sdp", &o, &why), 0);
	ck_assert_uint_eq(o.n_lines, 2);
	/* the first audio or video line, as before */
	ck_assert_str_eq(o.media, "audio");
	ck_assert_uint_eq(o.port, 47010);
	a = &o.lines[0];
	v = &o.lines[1];
	ck_assert_str_eq(a->media, "audio");
	ck_assert_str_eq(v->media, "video");
	ck_assert(a->rtp && v->rtp && a->recvonly && v->recvonly);
	ck_assert_uint_eq(v->port, 47012);
	ck_assert_str_eq(v->addr, "127.0.0.1");
	/* opus red G722 PCMU PCMA CN: telephone-event is not a format */
	ck_assert_uint_eq(a->n_formats, 6);
	ck_assert_str_eq(a->formats[0].encoding, "opus");
	ck_assert_uint_eq(a->formats[0].clock, 48000);
	ck_assert_uint_eq(a->formats[0].channels, 2);
	ck_assert_uint_eq(v->n_formats, 27);
	ck_assert_str_eq(v->formats[6].encoding, "H264");
	ck_assert_uint_eq(v->formats[6].pt, 109);
	ck_assert_str_eq(v->formats[6].fmtp,
			 "level-asymmetry-allowed=1;packetization-mode=1;"
			 "profile-level-id=42e01f");
	ck_assert_str_eq(v->first_format, "96");
}
END_TEST

/* What a browser gets through rtpengine: both lines, in the offer's
 * order, each with the formats of its media the lineup uses (so a switch
 * from VP8 to H.264 needs no new offer), sendonly, on our ports. */
START_TEST(two_stream_relay_answer)
{
	struct space_mgr *mgr = streams_mgr();
	const struct catalog *cat = space_mgr_catalog(mgr);
	const struct channel *red = catalog_channel(cat, "red");
	struct space_streams st;
	struct space_offer o;
	const char *why = NULL;
	char *sdp;

	ck_assert_int_eq(parse_file("browser-av.sdp", &o, &why), 0);
	ck_assert_int_eq(space_streams_fit(mgr, &o, red, &st), SPACE_OK);
	ck_assert_int_eq(st.media[CHANNEL_AUDIO].line, 0);
	ck_assert_int_eq(st.media[CHANNEL_VIDEO].line, 1);
	/* VP8, and H.264 constrained baseline of packetization-mode 1 at a
	 * level of at least 3.1: 42001f is baseline, 4d001f main */
	ck_assert_uint_eq(st.media[CHANNEL_VIDEO].n_formats, 2);
	ck_assert_uint_eq(st.media[CHANNEL_VIDEO].formats[0].pt, 96);
	ck_assert_uint_eq(st.media[CHANNEL_VIDEO].formats[1].pt, 109);
	ck_assert_uint_eq(st.media[CHANNEL_AUDIO].n_formats, 1);

	struct sdpneg_answer a = {
	    .session_id = 7,
	    .version = 1,
	    .origin_addr = "127.0.0.1",
	    .channel = red,
	    .delivery = SPACE_RELAY,
	    .pt = 0,
	    .relay_addr = "127.0.0.1",
	    .relay_port = 20002,
	    .offer = &o,
	    .streams = &st,
	    .stream_ports = {20004, 20002},
	};
	sdp = sdpneg_answer(home, &a);
	ck_assert_ptr_nonnull(sdp);
	ck_assert_ptr_nonnull(strstr(sdp,
				     "c=IN IP4 127.0.0.1\r\n"
				     "t=0 0\r\n"
				     "m=audio 20002 RTP/AVP 0\r\n"
				     "a=rtpmap:0 PCMU/8000\r\n"
				     "a=sendonly\r\n"
				     "a=tvspace-channel:red\r\n"
				     "m=video 20004 RTP/AVP 96 109\r\n"
				     "a=rtpmap:96 VP8/90000\r\n"
				     "a=rtpmap:109 H264/90000\r\n"
				     "a=fmtp:109 level-asymmetry-allowed=1;"
				     "packetization-mode=1;"
				     "profile-level-id=42e01f\r\n"
				     "a=sendonly\r\n"));
	/* no keys from a browser */
	ck_assert_ptr_null(strstr(sdp, "telephone-event"));
}
END_TEST

/* RFC 3264 §6: as many lines as the offer, the ones not served refused
 * with port 0 and their own media, proto and a format. */
START_TEST(unserved_lines_are_refused)
{
	static const char offer[] = "v=0\r\no=a 1 1 IN IP4 192.0.2.7\r\n"
				    "s=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n"
				    "m=application 9 UDP/DTLS/SCTP x\r\n"
				    "m=audio 4000 RTP/AVP 8 0\r\n"
				    "m=video 4002 RTP/AVP 31\r\n"
				    "m=audio 4004 RTP/AVP 0\r\n";
	struct channel music = {
	    .id = "music",
	    .name = "Music",
	    .media = CHANNEL_AUDIO,
	    .pt = 0,
	    .group = "232.10.0.4",
	    .port = 5004,
	};
	struct space_offer o;
	const char *why = NULL;
	char *sdp;

	ck_assert_int_eq(
	    sdpneg_parse_offer(home, offer, sizeof(offer) - 1, &o, &why), 0);
	ck_assert_uint_eq(o.n_lines, 4);
	struct sdpneg_answer a = {
	    .session_id = 1,
	    .version = 1,
	    .origin_addr = "127.0.0.1",
	    .channel = &music,
	    .delivery = SPACE_RELAY,
	    .pt = 0,
	    .relay_addr = "127.0.0.1",
	    .relay_port = 20002,
	    .offer = &o,
	};
	sdp = sdpneg_answer(home, &a);
	ck_assert_ptr_nonnull(sdp);
	ck_assert_ptr_nonnull(strstr(sdp, "m=application 0 UDP/DTLS/SCTP x\r\n"
					  "m=audio 20002 RTP/AVP 0\r\n"));
	ck_assert_ptr_nonnull(strstr(sdp, "m=video 0 RTP/AVP 31\r\n"
					  "m=audio 0 RTP/AVP 0\r\n"));
	/* a one-line offer: one line, as ever */
	o.n_lines = 1;
	o.lines = &o.lines[1];
	sdp = sdpneg_answer(home, &a);
	ck_assert_ptr_null(strstr(sdp, "m=video"));
	ck_assert_ptr_null(strstr(sdp, "m=application"));
}
END_TEST

/* The server's own offer of a channel of two streams (an INVITE without
 * SDP, the host's REFER): a line a stream, each at its group, a group of
 * its own on its own c=, RFC 4570's source-filter for an SSM source. */
START_TEST(two_stream_multicast_offer)
{
	struct space_mgr *mgr = streams_mgr();
	const struct catalog *cat = space_mgr_catalog(mgr);
	struct sdpneg_answer a = {
	    .session_id = 3,
	    .version = 1,
	    .origin_addr = "127.0.0.1",
	    .channel = catalog_channel(cat, "red"),
	    .delivery = SPACE_MULTICAST,
	    .pt = 96,
	};
	char *sdp = sdpneg_answer(home, &a);

	ck_assert_ptr_nonnull(sdp);
	ck_assert_ptr_nonnull(strstr(sdp, "c=IN IP4 232.20.0.11/16\r\n"
					  "t=0 0\r\n"
					  "m=video 5004 RTP/AVP 96\r\n"
					  "a=rtpmap:96 VP8/90000\r\n"
					  "a=recvonly\r\n"
					  "a=tvspace-channel:red\r\n"
					  "m=audio 5006 RTP/AVP 0\r\n"));
	a.channel = catalog_channel(cat, "blue");
	sdp = sdpneg_answer(home, &a);
	ck_assert_ptr_nonnull(sdp);
	ck_assert_ptr_nonnull(strstr(sdp, "c=IN IP4 232.20.0.13/16\r\n"));
	ck_assert_ptr_nonnull(strstr(
	    sdp, "a=fmtp:97 packetization-mode=1;profile-level-id=42c01f\r\n"));
	ck_assert_ptr_nonnull(strstr(
	    sdp, "a=source-filter: incl IN IP4 232.20.0.13 10.0.0.9\r\n"));
	ck_assert_ptr_nonnull(strstr(sdp, "m=audio 5006 RTP/AVP 0\r\n"
					  "c=IN IP4 232.20.0.14/16\r\n"));
	space_mgr_destroy(mgr);
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
	tcase_add_test(tc, every_m_line_is_read);
	tcase_add_test(tc, two_stream_relay_answer);
	tcase_add_test(tc, unserved_lines_are_refused);
	tcase_add_test(tc, two_stream_multicast_offer);
	suite_add_tcase(s, tc);
	return check_run(s);
}
